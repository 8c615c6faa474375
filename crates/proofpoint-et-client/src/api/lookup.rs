//! The API's endpoints: one handle per kind of subject, one method per report.

use std::net::IpAddr;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::ApiClient;
use super::lenient::{Fields, list};
use super::report::{
    Connection, DnsLookup, GeoLocation, HttpRequest, IdsEvent, ObservedUrl, Related, RepCategory,
    ReputationScore, SampleDetails, SampleEvent, Signature, SignatureReference, SignatureSummary,
    SignatureText, Whois,
};
use crate::error::Error;
use crate::md5sum::Md5Digest;

impl ApiClient {
    /// The reputation categories, with their descriptions: `GET repcategories`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`], [`Error::ApiTransport`], or [`Error::ApiDecode`] for an answer that
    /// is not a list of `{name, description}`.
    pub async fn reputation_categories(&self) -> Result<Vec<RepCategory>, Error> {
        let (endpoint, response) = self.get(&["repcategories"]).await?;
        self.strict(&endpoint, response)
    }

    /// The reports on one IP address: `ips/{ip}/...`.
    pub fn ip(&self, ip: IpAddr) -> IpLookup<'_> {
        IpLookup {
            client: self,
            ip: ip.to_string(),
        }
    }

    /// The reports on one domain: `domains/{domain}/...`. The name is sent as given, as one
    /// path segment; an empty name, or `.` or `..`, fails each report with
    /// [`Error::InvalidApiArgument`].
    pub fn domain<'a>(&'a self, domain: &'a str) -> DomainLookup<'a> {
        DomainLookup {
            client: self,
            domain,
        }
    }

    /// The reports on one malware sample: `samples/{md5}/...`.
    pub fn sample(&self, md5: Md5Digest) -> SampleLookup<'_> {
        SampleLookup {
            client: self,
            md5: md5.to_string(),
        }
    }

    /// The reports on one IDS signature: `sids/{sid}/...`.
    pub fn sid(&self, sid: u64) -> SidLookup<'_> {
        SidLookup {
            client: self,
            sid: sid.to_string(),
        }
    }

    /// What the API holds on a CVE, such as `CVE-2021-22893`: `GET cve/{cve}`. The answer's
    /// shape is not documented, so it is given as JSON.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidApiArgument`] for a value that cannot be a path segment,
    /// [`Error::Api`] or [`Error::ApiTransport`].
    pub async fn cve(&self, cve: &str) -> Result<Value, Error> {
        let cve = segment("cve", cve)?;
        Ok(self.get(&["cve", cve]).await?.1)
    }

    /// What the API holds on a malware family: `GET malware/{family}`, given as JSON.
    ///
    /// # Errors
    ///
    /// As [`ApiClient::cve`].
    pub async fn malware_family(&self, family: &str) -> Result<Value, Error> {
        let family = segment("malware family", family)?;
        Ok(self.get(&["malware", family]).await?.1)
    }

    /// What the API holds on a threat actor: `GET actors/{actor}`, given as JSON.
    ///
    /// # Errors
    ///
    /// As [`ApiClient::cve`].
    pub async fn actor(&self, actor: &str) -> Result<Value, Error> {
        let actor = segment("actor", actor)?;
        Ok(self.get(&["actors", actor]).await?.1)
    }
}

/// A value that can stand as one path segment: not empty and not a dot segment, which a URL
/// parser would fold away.
fn segment<'a>(what: &'static str, value: &'a str) -> Result<&'a str, Error> {
    let invalid = |reason| Error::InvalidApiArgument {
        what,
        value: value.to_owned(),
        reason,
    };
    if value.trim().is_empty() {
        return Err(invalid("it is empty"));
    }
    if value == "." || value == ".." {
        return Err(invalid("a path segment cannot be `.` or `..`"));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid("it holds a control character"));
    }
    Ok(value)
}

impl ApiClient {
    /// `response` read as a `T`, or an error naming the field that does not fit (with the key
    /// masked: the decoder's message may quote a value of the answer).
    fn strict<T: DeserializeOwned>(&self, endpoint: &str, response: Value) -> Result<T, Error> {
        serde_path_to_error::deserialize(response).map_err(|error| {
            let path = error.path().to_string();
            let at = if path == "." {
                "response".to_owned()
            } else {
                format!("response{}", index_or_field(&path))
            };
            Error::ApiDecode {
                endpoint: endpoint.to_owned(),
                detail: self.masked(&format!("at `{at}`: {}", error.inner())),
            }
        })
    }
}

/// `[0].score` stays as it is; `name` becomes `.name`.
fn index_or_field(path: &str) -> String {
    if path.starts_with('[') {
        path.to_owned()
    } else {
        format!(".{path}")
    }
}

/// The reports on one IP address; made by [`ApiClient::ip`].
///
/// Every method fails with [`Error::Api`] for an error answer (see
/// [`Error::api_error_kind`]) or [`Error::ApiTransport`] when there was none;
/// [`IpLookup::reputation`] also with [`Error::ApiDecode`].
#[derive(Debug, Clone)]
pub struct IpLookup<'a> {
    client: &'a ApiClient,
    ip: String,
}

impl IpLookup<'_> {
    /// The IP's score in each category it is in: `GET ips/{ip}/reputation`.
    ///
    /// # Errors
    ///
    /// See [`IpLookup`]; [`Error::ApiDecode`] when the answer is not a list of `{category,
    /// score}` with integer scores from 0 to 127.
    pub async fn reputation(&self) -> Result<Vec<ReputationScore>, Error> {
        let (endpoint, response) = self.get("reputation").await?;
        self.client.strict(&endpoint, response)
    }

    /// URLs malware asked of the IP: `GET ips/{ip}/urls`.
    ///
    /// # Errors
    ///
    /// See [`IpLookup`].
    pub async fn urls(&self) -> Result<Vec<ObservedUrl>, Error> {
        let response = self.get("urls").await?.1;
        Ok(list(response, "url", ObservedUrl::read))
    }

    /// Malware samples that talked to the IP (value: the MD5): `GET ips/{ip}/samples`.
    ///
    /// # Errors
    ///
    /// See [`IpLookup`].
    pub async fn samples(&self) -> Result<Vec<Related>, Error> {
        let response = self.get("samples").await?.1;
        Ok(list(response, "source", |fields| {
            Related::read(fields, "source")
        }))
    }

    /// Domains that resolved to the IP: `GET ips/{ip}/domains`.
    ///
    /// # Errors
    ///
    /// See [`IpLookup`].
    pub async fn domains(&self) -> Result<Vec<Related>, Error> {
        let response = self.get("domains").await?.1;
        Ok(list(response, "domain", |fields| {
            Related::read(fields, "domain")
        }))
    }

    /// IDS events seen for the IP: `GET ips/{ip}/events`.
    ///
    /// # Errors
    ///
    /// See [`IpLookup`].
    pub async fn events(&self) -> Result<Vec<IdsEvent>, Error> {
        let response = self.get("events").await?.1;
        Ok(list(response, "ip", |fields| IdsEvent::read(fields, "ip")))
    }

    /// Where the IP is: `GET ips/{ip}/geoloc`.
    ///
    /// # Errors
    ///
    /// See [`IpLookup`].
    pub async fn geolocation(&self) -> Result<Vec<GeoLocation>, Error> {
        let response = self.get("geoloc").await?.1;
        Ok(list(response, "ip", GeoLocation::read))
    }

    async fn get(&self, report: &str) -> Result<(String, Value), Error> {
        self.client.get(&["ips", &self.ip, report]).await
    }
}

/// The reports on one domain; made by [`ApiClient::domain`].
///
/// Every method fails with [`Error::InvalidApiArgument`] for a name that cannot be a path
/// segment, [`Error::Api`] for an error answer (see [`Error::api_error_kind`]) or
/// [`Error::ApiTransport`] when there was none; [`DomainLookup::reputation`] also with
/// [`Error::ApiDecode`].
#[derive(Debug, Clone)]
pub struct DomainLookup<'a> {
    client: &'a ApiClient,
    domain: &'a str,
}

impl DomainLookup<'_> {
    /// The domain's score in each category it is in: `GET domains/{domain}/reputation`.
    ///
    /// # Errors
    ///
    /// See [`DomainLookup`]; [`Error::ApiDecode`] when the answer is not a list of
    /// `{category, score}` with integer scores from 0 to 127.
    pub async fn reputation(&self) -> Result<Vec<ReputationScore>, Error> {
        let (endpoint, response) = self.get("reputation").await?;
        self.client.strict(&endpoint, response)
    }

    /// URLs malware asked of the domain: `GET domains/{domain}/urls`.
    ///
    /// # Errors
    ///
    /// See [`DomainLookup`].
    pub async fn urls(&self) -> Result<Vec<ObservedUrl>, Error> {
        let response = self.get("urls").await?.1;
        Ok(list(response, "url", ObservedUrl::read))
    }

    /// Malware samples that talked to the domain (value: the MD5):
    /// `GET domains/{domain}/samples`.
    ///
    /// # Errors
    ///
    /// See [`DomainLookup`].
    pub async fn samples(&self) -> Result<Vec<Related>, Error> {
        let response = self.get("samples").await?.1;
        Ok(list(response, "source", |fields| {
            Related::read(fields, "source")
        }))
    }

    /// IPs the domain resolved to: `GET domains/{domain}/ips`.
    ///
    /// # Errors
    ///
    /// See [`DomainLookup`].
    pub async fn ips(&self) -> Result<Vec<Related>, Error> {
        let response = self.get("ips").await?.1;
        Ok(list(response, "ip", |fields| Related::read(fields, "ip")))
    }

    /// IDS events seen for the domain: `GET domains/{domain}/events`.
    ///
    /// # Errors
    ///
    /// See [`DomainLookup`].
    pub async fn events(&self) -> Result<Vec<IdsEvent>, Error> {
        let response = self.get("events").await?.1;
        Ok(list(response, "domain", |fields| {
            IdsEvent::read(fields, "domain")
        }))
    }

    /// Where the domain's IPs are: `GET domains/{domain}/geoloc`.
    ///
    /// # Errors
    ///
    /// See [`DomainLookup`].
    pub async fn geolocation(&self) -> Result<Vec<GeoLocation>, Error> {
        let response = self.get("geoloc").await?.1;
        Ok(list(response, "ip", GeoLocation::read))
    }

    /// The domain's name servers (value: the server): `GET domains/{domain}/nameservers`.
    ///
    /// # Errors
    ///
    /// See [`DomainLookup`].
    pub async fn nameservers(&self) -> Result<Vec<Related>, Error> {
        let response = self.get("nameservers").await?.1;
        Ok(list(response, "server", |fields| {
            Related::read(fields, "server")
        }))
    }

    /// The domain's whois record: `GET domains/{domain}/whois`.
    ///
    /// # Errors
    ///
    /// See [`DomainLookup`].
    pub async fn whois(&self) -> Result<Whois, Error> {
        let response = self.get("whois").await?.1;
        Ok(Whois::read(Fields::new(response, "domain")))
    }

    async fn get(&self, report: &str) -> Result<(String, Value), Error> {
        let domain = segment("domain", self.domain)?;
        self.client.get(&["domains", domain, report]).await
    }
}

/// The reports on one malware sample; made by [`ApiClient::sample`].
///
/// Every method fails with [`Error::Api`] for an error answer (see
/// [`Error::api_error_kind`]) or [`Error::ApiTransport`] when there was none.
#[derive(Debug, Clone)]
pub struct SampleLookup<'a> {
    client: &'a ApiClient,
    md5: String,
}

impl SampleLookup<'_> {
    /// The sample's metadata: `GET samples/{md5}`.
    ///
    /// # Errors
    ///
    /// See [`SampleLookup`].
    pub async fn details(&self) -> Result<SampleDetails, Error> {
        let response = self.client.get(&["samples", &self.md5]).await?.1;
        Ok(SampleDetails::read(Fields::new(response, "value")))
    }

    /// The connections the sample made: `GET samples/{md5}/connections`.
    ///
    /// # Errors
    ///
    /// See [`SampleLookup`].
    pub async fn connections(&self) -> Result<Vec<Connection>, Error> {
        let response = self.get("connections").await?;
        Ok(list(response, "source", Connection::read))
    }

    /// The DNS lookups the sample made: `GET samples/{md5}/dns`.
    ///
    /// # Errors
    ///
    /// See [`SampleLookup`].
    pub async fn dns(&self) -> Result<Vec<DnsLookup>, Error> {
        let response = self.get("dns").await?;
        Ok(list(response, "domain", DnsLookup::read))
    }

    /// The HTTP requests the sample made: `GET samples/{md5}/http`.
    ///
    /// # Errors
    ///
    /// See [`SampleLookup`].
    pub async fn http(&self) -> Result<Vec<HttpRequest>, Error> {
        let response = self.get("http").await?;
        Ok(list(response, "url", HttpRequest::read))
    }

    /// The IDS events the sample's traffic set off: `GET samples/{md5}/events`.
    ///
    /// # Errors
    ///
    /// See [`SampleLookup`].
    pub async fn events(&self) -> Result<Vec<SampleEvent>, Error> {
        let response = self.get("events").await?;
        Ok(list(response, "sid", SampleEvent::read))
    }

    async fn get(&self, report: &str) -> Result<Value, Error> {
        Ok(self.client.get(&["samples", &self.md5, report]).await?.1)
    }
}

/// The reports on one IDS signature; made by [`ApiClient::sid`].
///
/// Every method fails with [`Error::Api`] for an error answer (see
/// [`Error::api_error_kind`]) or [`Error::ApiTransport`] when there was none.
#[derive(Debug, Clone)]
pub struct SidLookup<'a> {
    client: &'a ApiClient,
    sid: String,
}

impl SidLookup<'_> {
    /// The signature's name: `GET sids/{sid}`.
    ///
    /// # Errors
    ///
    /// See [`SidLookup`].
    pub async fn details(&self) -> Result<Signature, Error> {
        let response = self.client.get(&["sids", &self.sid]).await?.1;
        Ok(Signature::read(Fields::new(response, "sig_name")))
    }

    /// IPs seen setting the signature off: `GET sids/{sid}/ips`.
    ///
    /// # Errors
    ///
    /// See [`SidLookup`].
    pub async fn ips(&self) -> Result<Vec<Related>, Error> {
        let response = self.get("ips").await?;
        Ok(list(response, "ip", |fields| Related::read(fields, "ip")))
    }

    /// Domains seen setting the signature off: `GET sids/{sid}/domains`.
    ///
    /// # Errors
    ///
    /// See [`SidLookup`].
    pub async fn domains(&self) -> Result<Vec<Related>, Error> {
        let response = self.get("domains").await?;
        Ok(list(response, "domain", |fields| {
            Related::read(fields, "domain")
        }))
    }

    /// Malware samples whose traffic set the signature off (value: the MD5):
    /// `GET sids/{sid}/samples`.
    ///
    /// # Errors
    ///
    /// See [`SidLookup`].
    pub async fn samples(&self) -> Result<Vec<Related>, Error> {
        let response = self.get("samples").await?;
        Ok(list(response, "source", |fields| {
            Related::read(fields, "source")
        }))
    }

    /// The rule's text for Suricata and Snort: `GET sids/{sid}/text` (403 for an ETPro rule
    /// without an ETPro subscription).
    ///
    /// # Errors
    ///
    /// See [`SidLookup`].
    pub async fn text(&self) -> Result<SignatureText, Error> {
        let response = self.get("text").await?;
        Ok(SignatureText::read(Fields::new(response, "suricata_text")))
    }

    /// The rule's references: `GET sids/{sid}/references`.
    ///
    /// # Errors
    ///
    /// See [`SidLookup`].
    pub async fn references(&self) -> Result<Vec<SignatureReference>, Error> {
        let response = self.get("references").await?;
        Ok(list(response, "reference_type", SignatureReference::read))
    }

    /// The rule's summary and metadata: `GET sids/{sid}/summary` (402, kind
    /// [`PaymentRequired`](crate::ApiErrorKind::PaymentRequired), without an ETPro
    /// subscription).
    ///
    /// # Errors
    ///
    /// See [`SidLookup`].
    pub async fn summary(&self) -> Result<SignatureSummary, Error> {
        let response = self.get("summary").await?;
        Ok(SignatureSummary::read(Fields::new(response, "sid")))
    }

    async fn get(&self, report: &str) -> Result<Value, Error> {
        Ok(self.client.get(&["sids", &self.sid, report]).await?.1)
    }
}

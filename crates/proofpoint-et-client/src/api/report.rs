//! What the ET Intelligence REST API answers, report by report.
//!
//! [`RepCategory`] and [`ReputationScore`] are read strictly. Every other type here is read
//! leniently: the fields the vendor's documentation shows are typed, each an `Option` (a list
//! is empty when absent), and `other` keeps the rest as JSON, together with any known field
//! whose value had another type than expected. Field names are the API's unless a doc comment
//! says otherwise.

use std::net::IpAddr;

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use super::lenient::Fields;
use crate::row::Score;

/// A reputation category: `GET repcategories`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct RepCategory {
    /// Its short name, such as `CnC`; the `category` of a [`ReputationScore`].
    pub name: String,
    /// What it means.
    pub description: String,
}

/// One category's score of an IP or a domain: the `reputation` reports.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ReputationScore {
    /// The category's short name, such as `CnC`.
    pub category: String,
    /// The score, an integer from 0 to 127; higher is worse.
    #[serde(deserialize_with = "score")]
    pub score: Score,
}

fn score<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Score, D::Error> {
    let value = u64::deserialize(deserializer)?;
    u8::try_from(value)
        .ok()
        .and_then(Score::new)
        .ok_or_else(|| serde::de::Error::custom(format!("{value} is above the highest score, 127")))
}

/// A URL that malware asked of an IP or a domain (`urls` reports). The API gives a bare
/// path with query values masked.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ObservedUrl {
    /// The URL or path (`url`, or the item itself when it is a bare string).
    pub url: Option<String>,
    /// Everything else.
    pub other: Map<String, Value>,
}

impl ObservedUrl {
    pub(crate) fn read(mut fields: Fields) -> ObservedUrl {
        ObservedUrl {
            url: fields.text("url"),
            other: fields.rest(),
        }
    }
}

/// Something seen together with the subject over a span of days: a domain of an IP, an IP
/// of a domain, a malware sample of either, a name server of a domain, or an IP, domain or
/// sample of a signature.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Related {
    /// The related value: the domain, the IP, the sample's MD5 (`source`) or the name
    /// server (`server`), as the report names it.
    pub value: Option<String>,
    /// The first day it was seen (`first_seen`, or the start of an older answer's `dates`).
    pub first_seen: Option<NaiveDate>,
    /// The last day it was seen (`last_seen`, or the end of an older answer's `dates`).
    pub last_seen: Option<NaiveDate>,
    /// Everything else, such as `long_ip`.
    pub other: Map<String, Value>,
}

impl Related {
    pub(crate) fn read(mut fields: Fields, value_field: &str) -> Related {
        let value = fields.text(value_field);
        let mut first_seen = fields.date("first_seen");
        let mut last_seen = fields.date("last_seen");
        if first_seen.is_none()
            && last_seen.is_none()
            && let Some((first, last)) = fields.date_range("dates")
        {
            (first_seen, last_seen) = (Some(first), Some(last));
        }
        Related {
            value,
            first_seen,
            last_seen,
            other: fields.rest(),
        }
    }
}

/// An IDS event seen for an IP or a domain (`events` reports).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct IdsEvent {
    /// The IP or domain of the event (`ip` or `domain`; an IP may read `private`).
    pub indicator: Option<String>,
    /// The day of the event.
    pub date: Option<NaiveDate>,
    /// Whether the subject was the event's source (`source`).
    pub is_source: Option<bool>,
    /// The signature that fired.
    pub sid: Option<u64>,
    /// The signature's name.
    pub signature: Option<String>,
    /// How many times it fired that day.
    pub count: Option<u64>,
    /// Everything else.
    pub other: Map<String, Value>,
}

impl IdsEvent {
    pub(crate) fn read(mut fields: Fields, indicator_field: &str) -> IdsEvent {
        IdsEvent {
            indicator: fields.text(indicator_field),
            date: fields.date("date"),
            is_source: fields.boolean("source"),
            sid: fields.number("sid"),
            signature: fields.text("signature"),
            count: fields.number("count"),
            other: fields.rest(),
        }
    }
}

/// Where an IP is, or an IP a domain resolves to (`geoloc` reports).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct GeoLocation {
    /// The IP.
    pub ip: Option<IpAddr>,
    /// The country code.
    pub country: Option<String>,
    /// The region code.
    pub region: Option<String>,
    /// The city.
    pub city: Option<String>,
    /// The latitude.
    pub latitude: Option<f64>,
    /// The longitude.
    pub longitude: Option<f64>,
    /// Everything else.
    pub other: Map<String, Value>,
}

impl GeoLocation {
    pub(crate) fn read(mut fields: Fields) -> GeoLocation {
        GeoLocation {
            ip: fields.ip("ip"),
            country: fields.text("country"),
            region: fields.text("region"),
            city: fields.text("city"),
            latitude: fields.float("latitude"),
            longitude: fields.float("longitude"),
            other: fields.rest(),
        }
    }
}

/// A domain's whois record (`domains/{domain}/whois`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Whois {
    /// The domain.
    pub domain: Option<String>,
    /// Who registered it.
    pub registrant: Option<Registrant>,
    /// Where it was registered.
    pub registrar: Option<Registrar>,
    /// Everything else.
    pub other: Map<String, Value>,
}

impl Whois {
    pub(crate) fn read(mut fields: Fields) -> Whois {
        Whois {
            domain: fields.text("domain"),
            registrant: fields.object("registrant", Registrant::read),
            registrar: fields.object("registrar", Registrar::read),
            other: fields.rest(),
        }
    }
}

/// The registrant part of a [`Whois`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Registrant {
    /// The registrant's name.
    pub name: Option<String>,
    /// The registrant's email address.
    pub email: Option<String>,
    /// When the record was created.
    pub created: Option<NaiveDate>,
    /// When it was last updated.
    pub updated: Option<NaiveDate>,
    /// When it expires.
    pub expires: Option<NaiveDate>,
    /// Everything else.
    pub other: Map<String, Value>,
}

impl Registrant {
    fn read(mut fields: Fields) -> Registrant {
        Registrant {
            name: fields.text("name"),
            email: fields.text("email"),
            created: fields.date("created"),
            updated: fields.date("updated"),
            expires: fields.date("expires"),
            other: fields.rest(),
        }
    }
}

/// The registrar part of a [`Whois`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Registrar {
    /// The registrar's name.
    pub name: Option<String>,
    /// Its country.
    pub country: Option<String>,
    /// Its web site.
    pub website: Option<String>,
    /// Everything else.
    pub other: Map<String, Value>,
}

impl Registrar {
    fn read(mut fields: Fields) -> Registrar {
        Registrar {
            name: fields.text("name"),
            country: fields.text("country"),
            website: fields.text("website"),
            other: fields.rest(),
        }
    }
}

/// A malware sample's metadata (`samples/{md5}`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SampleDetails {
    /// When it was submitted to the vendor.
    pub submit_date: Option<NaiveDateTime>,
    /// What kind of file it is.
    pub file_type: Option<String>,
    /// Its size in bytes.
    pub file_size: Option<u64>,
    /// Its SHA-256, in hex.
    pub sha256: Option<String>,
    /// Its ssdeep fuzzy hash.
    pub ssdeep: Option<String>,
    /// Everything else.
    pub other: Map<String, Value>,
}

impl SampleDetails {
    pub(crate) fn read(mut fields: Fields) -> SampleDetails {
        SampleDetails {
            submit_date: fields.date_time("submit_date"),
            file_type: fields.text("file_type"),
            file_size: fields.number("file_size"),
            sha256: fields.text("sha256"),
            ssdeep: fields.text("ssdeep"),
            other: fields.rest(),
        }
    }
}

/// The traffic endpoints shared by a sample's connections, HTTP requests and events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Flow {
    /// The source IP (`source_ip`).
    pub source_ip: Option<IpAddr>,
    /// The source port (`source_port`).
    pub source_port: Option<u16>,
    /// The destination IP (`destination_ip`).
    pub destination_ip: Option<IpAddr>,
    /// The destination port (`destination_port`).
    pub destination_port: Option<u16>,
}

impl Flow {
    fn read(fields: &mut Fields) -> Flow {
        Flow {
            source_ip: fields.ip("source_ip"),
            source_port: fields.number("source_port"),
            destination_ip: fields.ip("destination_ip"),
            destination_port: fields.number("destination_port"),
        }
    }
}

/// A connection a sample made (`samples/{md5}/connections`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Connection {
    /// The sample's MD5 (`source`).
    pub sample: Option<String>,
    /// The day it was seen.
    pub date: Option<NaiveDate>,
    /// Its endpoints.
    pub flow: Flow,
    /// The protocol, such as `tcp`.
    pub protocol: Option<String>,
    /// Bytes received (`bytes_down`).
    pub bytes_down: Option<u64>,
    /// Bytes sent (`bytes_up`).
    pub bytes_up: Option<u64>,
    /// Packets received (`packets_down`).
    pub packets_down: Option<u64>,
    /// Packets sent (`packets_up`).
    pub packets_up: Option<u64>,
    /// Everything else, such as the totals.
    pub other: Map<String, Value>,
}

impl Connection {
    pub(crate) fn read(mut fields: Fields) -> Connection {
        Connection {
            sample: fields.text("source"),
            date: fields.date("date"),
            flow: Flow::read(&mut fields),
            protocol: fields.text("protocol"),
            bytes_down: fields.number("bytes_down"),
            bytes_up: fields.number("bytes_up"),
            packets_down: fields.number("packets_down"),
            packets_up: fields.number("packets_up"),
            other: fields.rest(),
        }
    }
}

/// A DNS lookup a sample made (`samples/{md5}/dns`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct DnsLookup {
    /// The sample's MD5 (`source`).
    pub sample: Option<String>,
    /// The day it was seen.
    pub date: Option<NaiveDate>,
    /// The name looked up.
    pub domain: Option<String>,
    /// The address an A record gave.
    pub address: Option<IpAddr>,
    /// The answer when it was not an address, such as a CNAME.
    pub answer: Option<String>,
    /// The record type, such as `A`.
    pub record_type: Option<String>,
    /// Everything else.
    pub other: Map<String, Value>,
}

impl DnsLookup {
    pub(crate) fn read(mut fields: Fields) -> DnsLookup {
        DnsLookup {
            sample: fields.text("source"),
            date: fields.date("date"),
            domain: fields.text("domain"),
            address: fields.ip("address"),
            answer: fields.text("answer"),
            record_type: fields.text("record_type"),
            other: fields.rest(),
        }
    }
}

/// An HTTP request a sample made (`samples/{md5}/http`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct HttpRequest {
    /// The sample's MD5 (`source`).
    pub sample: Option<String>,
    /// The day it was seen.
    pub date: Option<NaiveDate>,
    /// The host asked.
    pub domain: Option<String>,
    /// Its endpoints.
    pub flow: Flow,
    /// The method, such as `GET`.
    pub method: Option<String>,
    /// The URL asked for.
    pub url: Option<String>,
    /// The `User-Agent` sent.
    pub user_agent: Option<String>,
    /// Everything else.
    pub other: Map<String, Value>,
}

impl HttpRequest {
    pub(crate) fn read(mut fields: Fields) -> HttpRequest {
        HttpRequest {
            sample: fields.text("source"),
            date: fields.date("date"),
            domain: fields.text("domain"),
            flow: Flow::read(&mut fields),
            method: fields.text("method"),
            url: fields.text("url"),
            user_agent: fields.text("user_agent"),
            other: fields.rest(),
        }
    }
}

/// An IDS event a sample's traffic set off (`samples/{md5}/events`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SampleEvent {
    /// The sample's MD5 (`source`).
    pub sample: Option<String>,
    /// The day it was seen.
    pub date: Option<NaiveDate>,
    /// The signature that fired.
    pub sid: Option<u64>,
    /// The signature's revision (`revision`).
    pub revision: Option<u32>,
    /// The signature's name (`signature_name`).
    pub signature: Option<String>,
    /// Its endpoints.
    pub flow: Flow,
    /// Everything else.
    pub other: Map<String, Value>,
}

impl SampleEvent {
    pub(crate) fn read(mut fields: Fields) -> SampleEvent {
        SampleEvent {
            sample: fields.text("source"),
            date: fields.date("date"),
            sid: fields.number("sid"),
            revision: fields.number("revision"),
            signature: fields.text("signature_name"),
            flow: Flow::read(&mut fields),
            other: fields.rest(),
        }
    }
}

/// A signature's name (`sids/{sid}`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Signature {
    /// The signature id.
    pub sid: Option<u64>,
    /// Its name (`sig_name`).
    pub name: Option<String>,
    /// Everything else.
    pub other: Map<String, Value>,
}

impl Signature {
    pub(crate) fn read(mut fields: Fields) -> Signature {
        Signature {
            sid: fields.number("sid"),
            name: fields.text("sig_name"),
            other: fields.rest(),
        }
    }
}

/// A signature's rule text (`sids/{sid}/text`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SignatureText {
    /// The signature id.
    pub sid: Option<u64>,
    /// The rule as Suricata reads it (`suricata_text`).
    pub suricata: Option<String>,
    /// The rule as Snort reads it (`snort_text`).
    pub snort: Option<String>,
    /// Everything else.
    pub other: Map<String, Value>,
}

impl SignatureText {
    pub(crate) fn read(mut fields: Fields) -> SignatureText {
        SignatureText {
            sid: fields.number("sid"),
            suricata: fields.text("suricata_text"),
            snort: fields.text("snort_text"),
            other: fields.rest(),
        }
    }
}

/// A reference of a signature (`sids/{sid}/references`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SignatureReference {
    /// The reference's kind, such as `url` or `cve` (`reference_type`).
    pub kind: Option<String>,
    /// What the kind is (`reference_description`).
    pub description: Option<String>,
    /// The references (`reference_urls`); empty when absent.
    pub urls: Vec<String>,
    /// Everything else.
    pub other: Map<String, Value>,
}

impl SignatureReference {
    pub(crate) fn read(mut fields: Fields) -> SignatureReference {
        SignatureReference {
            kind: fields.text("reference_type"),
            description: fields.text("reference_description"),
            urls: fields.texts("reference_urls").unwrap_or_default(),
            other: fields.rest(),
        }
    }
}

/// A signature's summary and metadata (`sids/{sid}/summary`; answered 402 without an ETPro
/// subscription).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SignatureSummary {
    /// The signature id.
    pub sid: Option<u64>,
    /// Its metadata.
    pub metadata: Option<SignatureMetadata>,
    /// Everything else.
    pub other: Map<String, Value>,
}

impl SignatureSummary {
    pub(crate) fn read(mut fields: Fields) -> SignatureSummary {
        SignatureSummary {
            sid: fields.number("sid"),
            metadata: fields.object("metadata", SignatureMetadata::read),
            other: fields.rest(),
        }
    }
}

/// The metadata of a [`SignatureSummary`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SignatureMetadata {
    /// The signature's name.
    pub name: Option<String>,
    /// Its revision (`rev`).
    pub revision: Option<u32>,
    /// Its rule set, such as `ET` or `ETPRO`.
    pub ruleset: Option<String>,
    /// Its category, such as `MALWARE`.
    pub category: Option<String>,
    /// Its severity, such as `Major`.
    pub severity: Option<String>,
    /// Its class type, such as `attempted-admin`.
    pub classtype: Option<String>,
    /// What it detects.
    pub description: Option<String>,
    /// When it was created (`creation_date`).
    pub created: Option<NaiveDate>,
    /// When it last changed (`last_modified_date`).
    pub last_modified: Option<NaiveDate>,
    /// The malware family it is about.
    pub malware_family: Option<String>,
    /// The CVEs it refers to, `|`-separated as given (`cve_reference`).
    pub cve_reference: Option<String>,
    /// Its MITRE ATT&CK mappings; empty when absent.
    pub mitre_tags: Vec<MitreTag>,
    /// Everything else.
    pub other: Map<String, Value>,
}

impl SignatureMetadata {
    fn read(mut fields: Fields) -> SignatureMetadata {
        SignatureMetadata {
            name: fields.text("name"),
            revision: fields.number("rev"),
            ruleset: fields.text("ruleset"),
            category: fields.text("category"),
            severity: fields.text("severity"),
            classtype: fields.text("classtype"),
            description: fields.text("description"),
            created: fields.date("creation_date"),
            last_modified: fields.date("last_modified_date"),
            malware_family: fields.text("malware_family"),
            cve_reference: fields.text("cve_reference"),
            mitre_tags: fields
                .objects("mitre_tags", MitreTag::read)
                .unwrap_or_default(),
            other: fields.rest(),
        }
    }
}

/// One MITRE ATT&CK mapping of a signature.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MitreTag {
    /// Such as `TA0011` (`mitre_tactic_id`).
    pub tactic_id: Option<String>,
    /// Such as `Command_And_Control` (`mitre_tactic_name`).
    pub tactic_name: Option<String>,
    /// Such as `T1001` (`mitre_technique_id`).
    pub technique_id: Option<String>,
    /// Such as `Data_Obfuscation` (`mitre_technique_name`).
    pub technique_name: Option<String>,
    /// Everything else.
    pub other: Map<String, Value>,
}

impl MitreTag {
    fn read(mut fields: Fields) -> MitreTag {
        MitreTag {
            tactic_id: fields.text("mitre_tactic_id"),
            tactic_name: fields.text("mitre_tactic_name"),
            technique_id: fields.text("mitre_technique_id"),
            technique_name: fields.text("mitre_technique_name"),
            other: fields.rest(),
        }
    }
}

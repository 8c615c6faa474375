//! The ET Intelligence REST API v1 (feature `http`): reputation and context for one IP, domain,
//! malware sample or signature at a time.
//!
//! [`ApiClient`] sends `GET {base}/{endpoint}` with the API key as the raw `Authorization`
//! header, reads the `{"success": ..., "response": ..., "message": ...}` envelope and types the
//! `response`:
//!
//! - **strictly** for the reports whose shape is published and relied on: the
//!   [reputation categories](ApiClient::reputation_categories) and the `reputation` reports
//!   ([`ReputationScore`](report::ReputationScore), integer scores 0 to 127). An answer that
//!   does not fit is an [`Error::ApiDecode`] naming the field.
//! - **leniently** for the others ([`report`] types): the fields the vendor's documentation
//!   shows are typed, each `Option`; anything else, and a known field whose value has another
//!   type than expected, stays in the item's `other` map as JSON. Both shapes the vendor has
//!   documented over time for the related-items reports (a list of objects, or an object keyed
//!   by the related value) are read.
//!
//! Lookups go through one handle per kind of subject, named as the API's paths are:
//! [`ApiClient::ip`], [`ApiClient::domain`], [`ApiClient::sample`] and [`ApiClient::sid`].
//! Values are percent-encoded as one path segment each (`*.example.com` becomes
//! `%2A.example.com`, `a/b` becomes `a%2Fb`).
//!
//! Failures keep the HTTP status and the server's message; [`Error::api_error_kind`] tells
//! 401, 402, 403, 404, 408 and 429 apart. 408, 429 and 5xx answers and lost connections are
//! retried with backoff (429 honouring `Retry-After`, capped); the final error says how many
//! attempts were made. The key never prints, and is masked in any server message kept.
//!
//! ```no_run
//! use std::net::IpAddr;
//! use proofpoint_et_client::{ApiClient, ApiKey};
//!
//! # async fn run() -> Result<(), proofpoint_et_client::Error> {
//! let client = ApiClient::builder(ApiKey::new("my-api-key")?).build()?;
//! let ip: IpAddr = "192.0.2.7".parse().unwrap();
//! for score in client.ip(ip).reputation().await? {
//!     println!("{}: {}", score.category, score.score);
//! }
//! # Ok(())
//! # }
//! ```

mod lenient;
mod lookup;
pub mod report;

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{StatusCode, Url};
use serde::Deserialize;
use serde_json::Value;

pub use self::lookup::{DomainLookup, IpLookup, SampleLookup, SidLookup};
use crate::error::{ApiErrorKind, Error};
use crate::secret::{ApiKey, masked_excerpt};

/// The ET Intelligence REST API v1, as the vendor publishes it.
pub const DEFAULT_API_BASE_URL: &str = "https://api.emergingthreats.net/v1/";

/// The most characters of an error body kept as its message.
const MESSAGE_LIMIT: usize = 300;

/// What stays as it is in a path segment: letters, digits, `-._~`, and `:` so that an IPv6
/// address reads as itself (RFC 3986 allows `:` in a segment).
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b':');

/// Settings for an [`ApiClient`]; [`ApiClientBuilder::build`] checks them all at once.
///
/// ```
/// use std::time::Duration;
/// use proofpoint_et_client::{ApiClient, ApiKey};
///
/// let client = ApiClient::builder(ApiKey::new("my-api-key")?)
///     .base_url("http://127.0.0.1:8080/v1/")
///     .timeout(Duration::from_secs(20))
///     .retries(1)
///     .build()?;
/// assert_eq!(client.base_url(), "http://127.0.0.1:8080/v1/");
/// # Ok::<(), proofpoint_et_client::Error>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct ApiClientBuilder {
    key: ApiKey,
    base_url: String,
    user_agent: String,
    connect_timeout: Duration,
    timeout: Duration,
    extra_ca: Option<PathBuf>,
    proxy_from_env: bool,
    retries: usize,
    first_delay: Duration,
    max_delay: Duration,
}

impl ApiClientBuilder {
    fn new(key: ApiKey) -> ApiClientBuilder {
        ApiClientBuilder {
            key,
            base_url: DEFAULT_API_BASE_URL.to_owned(),
            user_agent: concat!("proofpoint-et-client/", env!("CARGO_PKG_VERSION")).to_owned(),
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            extra_ca: None,
            proxy_from_env: true,
            retries: 2,
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
        }
    }

    /// The API's base URL (default [`DEFAULT_API_BASE_URL`]); `https://`, or `http://` on a
    /// loopback host. A missing final `/` is added.
    pub fn base_url(mut self, url: impl Into<String>) -> ApiClientBuilder {
        self.base_url = url.into();
        self
    }

    /// The `User-Agent` header (default `proofpoint-et-client/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> ApiClientBuilder {
        self.user_agent = user_agent.into();
        self
    }

    /// How long a connection may take to open (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> ApiClientBuilder {
        self.connect_timeout = timeout;
        self
    }

    /// How long one request may take, its answer included (default 60 s).
    pub fn timeout(mut self, timeout: Duration) -> ApiClientBuilder {
        self.timeout = timeout;
        self
    }

    /// A PEM file (or one DER certificate) of CA certificates to trust beside the operating
    /// system's, as a TLS inspection proxy needs; read as the list source reads it.
    pub fn extra_ca_file(mut self, path: impl Into<PathBuf>) -> ApiClientBuilder {
        self.extra_ca = Some(path.into());
        self
    }

    /// Whether the proxies that `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` name are used
    /// (default: yes).
    pub fn proxy_from_env(mut self, enabled: bool) -> ApiClientBuilder {
        self.proxy_from_env = enabled;
        self
    }

    /// Retries after the first attempt of a request that got a 408, 429 or 5xx answer or
    /// no answer (default 2; 0 turns retries off).
    pub fn retries(mut self, retries: usize) -> ApiClientBuilder {
        self.retries = retries;
        self
    }

    /// The first wait before a retry and the longest one, for the backoff (which doubles,
    /// with jitter) and for a server's `Retry-After` alike (default 1 s and 30 s).
    pub fn backoff(mut self, first: Duration, max: Duration) -> ApiClientBuilder {
        self.first_delay = first;
        self.max_delay = max.max(first);
        self
    }

    /// The client.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidApiBaseUrl`] for a base URL that does not parse, is not `https://`
    /// (or `http://` on a loopback host), holds a user name, a query or a fragment;
    /// [`Error::CaFile`] and [`Error::NoCertificate`] for an extra CA file that cannot be read
    /// or holds no certificate; [`Error::Client`] when the HTTP client cannot be built.
    pub fn build(self) -> Result<ApiClient, Error> {
        let base = parse_base_url(&self.base_url)?;

        let mut http = reqwest::Client::builder()
            .user_agent(self.user_agent)
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            .default_headers(json_accept())
            // The API does not redirect; a redirect would carry the key's header elsewhere.
            .redirect(reqwest::redirect::Policy::none());
        if !self.proxy_from_env {
            http = http.no_proxy();
        }
        if let Some(path) = &self.extra_ca {
            http = http.tls_certs_merge(crate::http::tls::read_extra_ca(path)?);
        }
        let http = http.build().map_err(|source| Error::Client {
            source: source.without_url(),
        })?;

        tracing::debug!(base = %base, "et intelligence api client built");
        Ok(ApiClient {
            inner: Arc::new(Inner {
                http,
                base,
                key: self.key,
                retries: self.retries,
                first_delay: self.first_delay,
                max_delay: self.max_delay,
            }),
        })
    }
}

fn json_accept() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
    headers
}

/// Checks the base URL and gives it with a final `/`, ready for endpoints to be appended.
fn parse_base_url(text: &str) -> Result<Url, Error> {
    let invalid = |reason| Error::InvalidApiBaseUrl {
        url: text.to_owned(),
        reason,
    };
    let mut url = Url::parse(text).map_err(|_| invalid("it is not a url"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("it holds a user name or password"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("it has a query or a fragment"));
    }
    let scheme_allowed = match url.scheme() {
        "https" => true,
        "http" => is_loopback(&url),
        _ => false,
    };
    if !scheme_allowed {
        return Err(invalid(
            "only https is allowed, and http on a loopback host",
        ));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

fn is_loopback(url: &Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<IpAddr>()
            .is_ok_and(|address| address.is_loopback())
}

/// A client of the ET Intelligence REST API. Cheap to clone: clones share connections.
///
/// Its lookups: [`ApiClient::reputation_categories`], [`ApiClient::ip`],
/// [`ApiClient::domain`], [`ApiClient::sample`], [`ApiClient::sid`], [`ApiClient::cve`],
/// [`ApiClient::malware_family`] and [`ApiClient::actor`].
#[derive(Clone)]
pub struct ApiClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    key: ApiKey,
    retries: usize,
    first_delay: Duration,
    max_delay: Duration,
}

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiClient")
            .field("base", &self.inner.base.as_str())
            .field("key", &self.inner.key)
            .finish_non_exhaustive()
    }
}

/// The envelope around every answer.
#[derive(Debug, Deserialize)]
struct Envelope {
    success: bool,
    #[serde(default)]
    response: Value,
    #[serde(default)]
    message: Option<Value>,
}

/// Why one attempt failed.
enum Failure {
    Status {
        status: StatusCode,
        retry_after: Option<Duration>,
        body: Vec<u8>,
    },
    Transport(reqwest::Error),
}

impl ApiClient {
    /// A builder for a client that sends `key`.
    pub fn builder(key: ApiKey) -> ApiClientBuilder {
        ApiClientBuilder::new(key)
    }

    /// The base URL in use, with its final `/`.
    pub fn base_url(&self) -> &str {
        self.inner.base.as_str()
    }

    /// The `response` of `GET {base}/{segments joined by /}`, each segment percent-encoded,
    /// with the endpoint's text for errors.
    async fn get(&self, segments: &[&str]) -> Result<(String, Value), Error> {
        let endpoint = endpoint(segments);
        let url = format!("{}{endpoint}", self.inner.base);

        let mut waits = ExponentialBuilder::default()
            .with_min_delay(self.inner.first_delay)
            .with_max_delay(self.inner.max_delay)
            .with_max_times(self.inner.retries)
            .with_jitter()
            .build();
        let mut attempts = 1;
        loop {
            let failure = match self.attempt(&url).await {
                Ok((status, body)) => {
                    let response = self.read_envelope(&endpoint, status, &body, attempts)?;
                    return Ok((endpoint, response));
                }
                Err(failure) => failure,
            };

            let Some(wait) = self.retry_wait(&failure, &mut waits) else {
                return Err(self.final_error(&endpoint, failure, attempts));
            };
            tracing::debug!(
                endpoint,
                attempts,
                wait_ms = wait.as_millis() as u64,
                "retrying an et intelligence api request"
            );
            tokio::time::sleep(wait).await;
            attempts += 1;
        }
    }

    /// One request: a success status and its body, or why not.
    async fn attempt(&self, url: &str) -> Result<(StatusCode, Vec<u8>), Failure> {
        let mut key = HeaderValue::from_str(self.inner.key.expose_secret())
            .expect("an api key is checked to be visible ascii");
        key.set_sensitive(true);

        let response = self
            .inner
            .http
            .get(url)
            .header(header::AUTHORIZATION, key)
            .send()
            .await
            .map_err(Failure::Transport)?;
        let status = response.status();
        let retry_after = retry_after(response.headers());
        let body = response.bytes().await.map_err(Failure::Transport)?.to_vec();
        tracing::trace!(status = status.as_u16(), bytes = body.len(), "api answer");

        if status.is_success() {
            Ok((status, body))
        } else {
            Err(Failure::Status {
                status,
                retry_after,
                body,
            })
        }
    }

    /// How long to wait before retrying after `failure`, or `None` when it must not be
    /// retried or the retries are spent.
    fn retry_wait(
        &self,
        failure: &Failure,
        waits: &mut impl Iterator<Item = Duration>,
    ) -> Option<Duration> {
        match failure {
            Failure::Status {
                status,
                retry_after,
                ..
            } if is_retryable(*status) => {
                let backoff = waits.next()?;
                Some(retry_after.map_or(backoff, |asked| asked.min(self.inner.max_delay)))
            }
            Failure::Transport(error) if is_retryable_transport(error) => waits.next(),
            _ => None,
        }
    }

    /// The `response` of a success answer's envelope, or the refusal it holds.
    fn read_envelope(
        &self,
        endpoint: &str,
        status: StatusCode,
        body: &[u8],
        attempts: u32,
    ) -> Result<Value, Error> {
        let envelope: Envelope =
            serde_json::from_slice(body).map_err(|error| Error::ApiDecode {
                endpoint: endpoint.to_owned(),
                detail: self.masked(&format!(
                    "it is not the api's json envelope ({error}): {}",
                    self.message_of(body)
                )),
            })?;
        if envelope.success {
            return Ok(envelope.response);
        }
        Err(Error::Api {
            kind: ApiErrorKind::Refused,
            endpoint: endpoint.to_owned(),
            status: status.as_u16(),
            message: self.envelope_message(envelope.message, body),
            attempts,
        })
    }

    fn final_error(&self, endpoint: &str, failure: Failure, attempts: u32) -> Error {
        match failure {
            Failure::Transport(error) => Error::ApiTransport {
                endpoint: endpoint.to_owned(),
                attempts,
                source: error.without_url(),
            },
            Failure::Status { status, body, .. } => Error::Api {
                kind: ApiErrorKind::from_status(status.as_u16()),
                endpoint: endpoint.to_owned(),
                status: status.as_u16(),
                message: self.message_of(&body),
                attempts,
            },
        }
    }

    /// The server's message in an error body: the envelope's `message`, or the start of the
    /// body; the key masked either way.
    fn message_of(&self, body: &[u8]) -> String {
        let message = serde_json::from_slice::<Envelope>(body)
            .ok()
            .and_then(|envelope| envelope.message);
        self.envelope_message(message, body)
    }

    fn envelope_message(&self, message: Option<Value>, body: &[u8]) -> String {
        let text = match message {
            Some(Value::String(text)) => text,
            Some(other) if !other.is_null() => other.to_string(),
            _ => String::from_utf8_lossy(body).into_owned(),
        };
        let text = text.trim();
        let text = if text.is_empty() {
            "(empty body)"
        } else {
            text
        };
        masked_excerpt(text, self.inner.key.expose_secret(), false, MESSAGE_LIMIT)
    }

    /// Text made from an answer (a decoding error quotes its values), with the key masked.
    fn masked(&self, text: &str) -> String {
        self.inner.key.mask(text)
    }
}

/// `segments` percent-encoded and joined by `/`, such as `domains/%2A.example.com/ips`.
fn endpoint(segments: &[&str]) -> String {
    segments
        .iter()
        .map(|segment| utf8_percent_encode(segment, PATH_SEGMENT).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

/// 408, 429 and the 5xx that may pass on retry.
fn is_retryable(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 429 | 500 | 502 | 503 | 504)
}

fn is_retryable_transport(error: &reqwest::Error) -> bool {
    !error.is_builder() && !error.is_redirect() && !error.is_decode()
}

/// The wait a `Retry-After` header asks for, in seconds or as an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let seconds = (when.timestamp() - chrono::Utc::now().timestamp()).max(0);
    Some(Duration::from_secs(seconds.unsigned_abs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_segment_is_encoded_on_its_own() {
        assert_eq!(
            endpoint(&["domains", "*.example.com", "ips"]),
            "domains/%2A.example.com/ips"
        );
        assert_eq!(
            endpoint(&["domains", "a b/c?d#e%f", "whois"]),
            "domains/a%20b%2Fc%3Fd%23e%25f/whois"
        );
        assert_eq!(
            endpoint(&["ips", "2001:db8::1", "reputation"]),
            "ips/2001:db8::1/reputation"
        );
        assert_eq!(
            endpoint(&["domains", "bücher.example"]),
            "domains/b%C3%BCcher.example"
        );
    }

    #[test]
    fn the_base_url_gets_a_final_slash_and_only_https_or_loopback_http() {
        let base = |text| parse_base_url(text).map(|url| url.to_string());

        assert_eq!(
            base("https://api.example/v1").unwrap(),
            "https://api.example/v1/"
        );
        assert_eq!(
            base("http://127.0.0.1:9/v1/").unwrap(),
            "http://127.0.0.1:9/v1/"
        );
        assert_eq!(base("http://[::1]:9/").unwrap(), "http://[::1]:9/");
        for bad in [
            "http://api.example/v1/",
            "ftp://127.0.0.1/",
            "https://user:pw@api.example/",
            "https://api.example/v1/?x=1",
            "not a url",
        ] {
            assert!(
                matches!(base(bad), Err(Error::InvalidApiBaseUrl { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn only_answers_that_may_pass_are_retried() {
        for status in [408, 429, 500, 502, 503, 504] {
            assert!(
                is_retryable(StatusCode::from_u16(status).unwrap()),
                "{status}"
            );
        }
        for status in [400, 401, 402, 403, 404, 501] {
            assert!(
                !is_retryable(StatusCode::from_u16(status).unwrap()),
                "{status}"
            );
        }
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let headers = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::RETRY_AFTER, value.parse().unwrap());
            headers
        };

        assert_eq!(retry_after(&headers("7")), Some(Duration::from_secs(7)));
        assert_eq!(
            retry_after(&headers("Wed, 21 Oct 2015 07:28:00 GMT")),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(&headers("soon")), None);
    }
}

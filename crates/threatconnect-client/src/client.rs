//! The client: its builder, and the one function every request goes through (signing,
//! retries, reading the answer).

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode, Url};

use crate::auth::{Clock, Credentials, SystemClock};
use crate::chunk::{ChunkLimits, MAX_JOB_INDICATORS};
use crate::error::Error;
use crate::path::ApiPath;
use crate::policy::{PollPolicy, RetryPolicy};
use crate::secret::SecretMask;

/// Where the attribute types are listed, under the base URL. REFERENCE §2: the v3 listing
/// is documented; a v2 equivalent is not confirmed.
pub const DEFAULT_ATTRIBUTE_TYPES_PATH: &str = "/v3/attributeTypes";

/// The most bytes of a server's error body kept as its message.
const MAX_MESSAGE_CHARS: usize = 500;

/// Collects the client's settings; [`ClientBuilder::build`] checks them all at once.
///
/// ```no_run
/// use std::time::Duration;
/// use threatconnect_client::{Client, Credentials};
///
/// let client = Client::builder(
///     "https://tc.example/api",
///     Credentials::hmac("access-id", "secret-key"),
/// )
/// .timeout(Duration::from_secs(120))
/// .user_agent("my-feed/1.0")
/// .build()?;
/// # Ok::<(), threatconnect_client::Error>(())
/// ```
#[derive(Debug)]
#[must_use]
pub struct ClientBuilder {
    base_url: String,
    credentials: Credentials,
    timeout: Duration,
    connect_timeout: Duration,
    user_agent: String,
    extra_ca_file: Option<PathBuf>,
    allow_plain_http: bool,
    proxy_from_env: bool,
    retry: RetryPolicy,
    poll: PollPolicy,
    chunk_limits: ChunkLimits,
    max_concurrent_jobs: usize,
    create_and_upload: bool,
    attribute_types_path: String,
    clock: Arc<dyn Clock>,
}

impl ClientBuilder {
    fn new(base_url: &str, credentials: Credentials) -> ClientBuilder {
        ClientBuilder {
            base_url: base_url.to_owned(),
            credentials,
            timeout: Duration::from_secs(300),
            connect_timeout: Duration::from_secs(30),
            user_agent: concat!("threatconnect-client/", env!("CARGO_PKG_VERSION")).to_owned(),
            extra_ca_file: None,
            allow_plain_http: false,
            proxy_from_env: true,
            retry: RetryPolicy::default(),
            poll: PollPolicy::default(),
            chunk_limits: ChunkLimits::default(),
            max_concurrent_jobs: 2,
            create_and_upload: true,
            attribute_types_path: DEFAULT_ATTRIBUTE_TYPES_PATH.to_owned(),
            clock: Arc::new(SystemClock),
        }
    }

    /// The longest one request may take, its body included (default 5 minutes).
    pub fn timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.timeout = timeout;
        self
    }

    /// The longest a connection may take to open (default 30 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.connect_timeout = timeout;
        self
    }

    /// The `User-Agent` header (default `threatconnect-client/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> ClientBuilder {
        self.user_agent = user_agent.into();
        self
    }

    /// A PEM (or single DER) file of CA certificates trusted besides the operating system's.
    /// [`ClientBuilder::build`] fails if it holds no usable certificate, and logs how many it
    /// loaded. (reqwest's platform verifier takes extra roots on Unix systems and Windows;
    /// on Android the build fails rather than ignore the file.)
    pub fn extra_ca_file(mut self, path: impl Into<PathBuf>) -> ClientBuilder {
        self.extra_ca_file = Some(path.into());
        self
    }

    /// Allows a plain `http://` base URL whose host is not loopback (default: refused).
    pub fn allow_plain_http(mut self, allow: bool) -> ClientBuilder {
        self.allow_plain_http = allow;
        self
    }

    /// Whether proxies named by `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` (and
    /// the system's settings) are used (default: yes).
    pub fn proxy_from_env(mut self, enabled: bool) -> ClientBuilder {
        self.proxy_from_env = enabled;
        self
    }

    /// How failed requests are retried.
    pub fn retry_policy(mut self, retry: RetryPolicy) -> ClientBuilder {
        self.retry = retry;
        self
    }

    /// How running batch jobs are polled.
    pub fn poll_policy(mut self, poll: PollPolicy) -> ClientBuilder {
        self.poll = poll;
        self
    }

    /// Where [`Client::submit`] cuts jobs (default 5,000 indicators and 8 MB).
    pub fn chunk_limits(mut self, limits: ChunkLimits) -> ClientBuilder {
        self.chunk_limits = limits;
        self
    }

    /// How many batch jobs [`Client::submit`] runs at once (default 2).
    pub fn max_concurrent_jobs(mut self, jobs: usize) -> ClientBuilder {
        self.max_concurrent_jobs = jobs;
        self
    }

    /// Whether Create jobs go in one request through `createAndUpload` (default: yes).
    /// Delete jobs always go through create and upload.
    pub fn create_and_upload(mut self, enabled: bool) -> ClientBuilder {
        self.create_and_upload = enabled;
        self
    }

    /// The path, under the base URL, of the attribute types listing (default
    /// [`DEFAULT_ATTRIBUTE_TYPES_PATH`]). It is sent as given, so it must be encoded already.
    pub fn attribute_types_path(mut self, path: impl Into<String>) -> ClientBuilder {
        self.attribute_types_path = path.into();
        self
    }

    /// Where request timestamps come from (default: the system clock). For tests.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> ClientBuilder {
        self.clock = clock;
        self
    }

    /// The client.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] for a base URL that does not parse, holds a user name, a
    /// query or a fragment, or is plain `http://` to a host that is not loopback (unless
    /// allowed), and for no concurrent jobs; [`Error::CaFileRead`] and
    /// [`Error::CaFileInvalid`] for an extra CA file that cannot be read or holds no usable
    /// certificate; [`Error::ClientBuild`] when the TLS layer cannot be set up.
    pub fn build(self) -> Result<Client, Error> {
        let (origin, base_path) = self.check_base_url()?;
        if self.max_concurrent_jobs == 0 {
            return Err(invalid(
                "max_concurrent_jobs",
                "at least one job must be allowed to run",
            ));
        }
        if self.chunk_limits.max_indicators() > MAX_JOB_INDICATORS {
            return Err(invalid(
                "chunk_limits",
                "a job holds at most 25,000 indicators",
            ));
        }

        let http = self.http_client()?;
        tracing::debug!(%origin, %base_path, "ThreatConnect client built");
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                origin,
                base_path,
                credentials: self.credentials,
                retry: self.retry,
                poll: self.poll,
                chunk_limits: self.chunk_limits,
                max_concurrent_jobs: self.max_concurrent_jobs,
                create_and_upload: self.create_and_upload,
                attribute_types_path: self.attribute_types_path,
                clock: self.clock,
            }),
        })
    }

    /// The base URL's origin (`https://host:port`) and path (such as `/api`).
    fn check_base_url(&self) -> Result<(String, String), Error> {
        let url = Url::parse(&self.base_url)
            .map_err(|error| invalid("base_url", format!("it does not parse: {error}")))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid(
                "base_url",
                "it must not hold a user name or password",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(invalid(
                "base_url",
                "it must not hold a query or a fragment",
            ));
        }
        if url.host().is_none() {
            return Err(invalid("base_url", "it has no host"));
        }

        match url.scheme() {
            "https" => {}
            "http" if self.allow_plain_http || is_loopback(&url) => {}
            "http" => {
                return Err(invalid(
                    "base_url",
                    "plain http:// is refused for a host that is not loopback; use https:// \
                     or allow plain HTTP explicitly",
                ));
            }
            other => {
                return Err(invalid(
                    "base_url",
                    format!("the scheme {other} is not HTTP"),
                ));
            }
        }

        let origin = url.origin().ascii_serialization();
        let base_path = url.path().trim_end_matches('/').to_owned();
        Ok((origin, base_path))
    }

    fn http_client(&self) -> Result<reqwest::Client, Error> {
        let mut builder = reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .user_agent(self.user_agent.clone())
            .default_headers(json_accept())
            // The errors body may be gzip whatever its headers say: it is inflated by its
            // magic bytes, never by reqwest (whose gzip another crate might switch on).
            .no_gzip()
            // ThreatConnect does not redirect; a redirect would carry signed headers elsewhere.
            .redirect(reqwest::redirect::Policy::none());
        if !self.proxy_from_env {
            builder = builder.no_proxy();
        }
        if let Some(path) = &self.extra_ca_file {
            builder = builder.tls_certs_merge(crate::tls::load_extra_roots(path)?);
        }
        builder.build().map_err(|source| Error::ClientBuild {
            source: source.without_url(),
        })
    }
}

fn invalid(field: &'static str, reason: impl Into<String>) -> Error {
    Error::InvalidSetting {
        field,
        reason: reason.into(),
    }
}

fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<IpAddr>()
        .is_ok_and(|address| address.is_loopback())
}

fn json_accept() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
    headers
}

/// A client of one ThreatConnect instance. Cheap to clone: clones share connections.
///
/// Its endpoints are in [`crate::endpoints`] and [`crate::batch`] (owners, attribute types,
/// indicators, batch jobs and [`Client::submit`]).
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    http: reqwest::Client,
    origin: String,
    pub(crate) base_path: String,
    pub(crate) credentials: Credentials,
    retry: RetryPolicy,
    pub(crate) poll: PollPolicy,
    pub(crate) chunk_limits: ChunkLimits,
    pub(crate) max_concurrent_jobs: usize,
    pub(crate) create_and_upload: bool,
    pub(crate) attribute_types_path: String,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("origin", &self.inner.origin)
            .field("base_path", &self.inner.base_path)
            .field("credentials", &self.inner.credentials)
            .finish_non_exhaustive()
    }
}

/// The body of a request, kept so that each attempt sends it again without a copy.
#[derive(Debug, Clone)]
pub(crate) enum RequestBody {
    Empty,
    Json(Bytes),
    Octets(Bytes),
    /// createAndUpload's two file parts.
    ConfigAndContent {
        config: Bytes,
        content: Bytes,
    },
}

/// An answer the caller reads: a success, or a status it asked to see.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) retry_after: Option<String>,
    pub(crate) body: Bytes,
    /// The client's secret, to mask in any text taken from the body.
    pub(crate) secret_mask: SecretMask,
}

impl Answer {
    /// The server's message in the body, with the client's secret masked.
    pub(crate) fn message(&self) -> String {
        server_message(&self.body, &self.secret_mask)
    }
}

impl Client {
    /// A builder for a client of the instance at `base_url` (`https://<instance>/api`; the
    /// `/api` prefix is part of every signed path).
    pub fn builder(base_url: &str, credentials: Credentials) -> ClientBuilder {
        ClientBuilder::new(base_url, credentials)
    }

    /// A path under the base URL made of `segments`, each percent-encoded.
    pub(crate) fn path<'a>(&self, segments: impl IntoIterator<Item = &'a str>) -> ApiPath {
        ApiPath::new(&self.inner.base_path, segments)
    }

    /// Sends one request, retrying what may pass, and returns the answer when its status is
    /// a success or one of `expected`.
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &ApiPath,
        body: &RequestBody,
        expected: &[StatusCode],
    ) -> Result<Answer, Error> {
        let max_attempts = self.inner.retry.attempts();
        let mut attempt = 1;
        loop {
            let failure = match self.attempt(&method, path, body).await {
                Ok(answer) if answer.status.is_success() => return Ok(answer),
                Ok(answer) if expected.contains(&answer.status) && !is_refusal(&answer) => {
                    return Ok(answer);
                }
                Ok(answer) => Failure::Answer(answer),
                Err(error) => Failure::Transport(error),
            };

            let wait = self.retry_wait(&failure, attempt);
            match wait {
                Some(wait) if attempt < max_attempts => {
                    tracing::debug!(
                        method = %method,
                        path = path.path(),
                        attempt,
                        wait_ms = wait.as_millis() as u64,
                        failure = %failure,
                        "retrying a ThreatConnect request"
                    );
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                _ => return Err(self.final_error(failure, &method, path, attempt)),
            }
        }
    }

    /// One attempt: signed anew with the clock's current time.
    async fn attempt(
        &self,
        method: &Method,
        path: &ApiPath,
        body: &RequestBody,
    ) -> Result<Answer, reqwest::Error> {
        let url = format!("{}{}", self.inner.origin, path.as_str());
        let mut request = self.inner.http.request(method.clone(), &url);
        request = self.authorise(request, method, path);
        request = attach_body(request, body);

        let response = request.send().await?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let body = response.bytes().await?;
        tracing::trace!(
            method = %method,
            path = path.path(),
            status = status.as_u16(),
            bytes = body.len(),
            "answer"
        );
        Ok(Answer {
            status,
            retry_after,
            body,
            secret_mask: self.inner.credentials.secret_mask(),
        })
    }

    fn authorise(
        &self,
        request: reqwest::RequestBuilder,
        method: &Method,
        path: &ApiPath,
    ) -> reqwest::RequestBuilder {
        let unix_seconds = self.inner.clock.unix_seconds();
        let (authorization, timestamp) =
            self.inner
                .credentials
                .headers(path.as_str(), method.as_str(), unix_seconds);

        let mut authorization =
            HeaderValue::from_str(&authorization).expect("auth headers are printable ASCII");
        authorization.set_sensitive(true);
        let request = request.header(header::AUTHORIZATION, authorization);
        match timestamp {
            Some(timestamp) => request.header("Timestamp", timestamp),
            None => request,
        }
    }

    /// How long to wait before retrying `failure`, or `None` if it must not be retried.
    fn retry_wait(&self, failure: &Failure, attempt: u32) -> Option<Duration> {
        let retry = &self.inner.retry;
        match failure {
            Failure::Transport(error) if is_retryable_transport(error) => {
                Some(retry.backoff_before(attempt))
            }
            Failure::Transport(_) => None,
            Failure::Answer(answer) => {
                let message = answer.message();
                if !is_retryable_status(answer.status, &message) {
                    return None;
                }
                let asked = answer
                    .retry_after
                    .as_deref()
                    .and_then(|value| retry.retry_after(value, SystemTime::now()));
                Some(asked.unwrap_or_else(|| retry.backoff_before(attempt)))
            }
        }
    }

    fn final_error(
        &self,
        failure: Failure,
        method: &Method,
        path: &ApiPath,
        attempts: u32,
    ) -> Error {
        match failure {
            Failure::Transport(error) => Error::Transport {
                method: method_name(method),
                path: path.path().to_owned(),
                attempts,
                source: error.without_url(),
            },
            Failure::Answer(answer) => {
                let message = answer.message();
                classify(
                    &self.inner.credentials,
                    answer.status,
                    message,
                    method,
                    path,
                    attempts,
                )
            }
        }
    }
}

fn attach_body(request: reqwest::RequestBuilder, body: &RequestBody) -> reqwest::RequestBuilder {
    match body {
        RequestBody::Empty => request,
        RequestBody::Json(json) => request
            .header(header::CONTENT_TYPE, "application/json")
            .body(json.clone()),
        RequestBody::Octets(octets) => request
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .body(octets.clone()),
        RequestBody::ConfigAndContent { config, content } => {
            request.multipart(config_and_content_form(config, content))
        }
    }
}

/// createAndUpload's form: `config` and `content`, each a file part named as the part.
fn config_and_content_form(config: &Bytes, content: &Bytes) -> reqwest::multipart::Form {
    let file_part = |bytes: &Bytes, name: &'static str| {
        let length = bytes.len() as u64;
        reqwest::multipart::Part::stream_with_length(bytes.clone(), length).file_name(name)
    };
    reqwest::multipart::Form::new()
        .part("config", file_part(config, "config"))
        .part("content", file_part(content, "content"))
}

/// Why an attempt failed.
enum Failure {
    Answer(Answer),
    Transport(reqwest::Error),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Answer(answer) => write!(f, "HTTP {}", answer.status.as_u16()),
            Failure::Transport(error) => {
                let kind = if error.is_timeout() {
                    "timed out"
                } else if error.is_connect() {
                    "could not connect"
                } else {
                    "no answer"
                };
                f.write_str(kind)
            }
        }
    }
}

fn is_retryable_transport(error: &reqwest::Error) -> bool {
    !error.is_builder() && !error.is_redirect() && !error.is_decode()
}

/// 429, 500, 502, 503 and 504 may pass on retry; a 503 saying the Batch API is off will not.
fn is_retryable_status(status: StatusCode, message: &str) -> bool {
    match status.as_u16() {
        429 | 500 | 502 | 504 => true,
        503 => !is_batch_not_enabled(message),
        _ => false,
    }
}

fn is_batch_not_enabled(message: &str) -> bool {
    message.contains("Batch job api is not available")
}

fn method_name(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        _ => "request",
    }
}

/// The error a final failed answer stands for.
pub(crate) fn classify(
    credentials: &Credentials,
    status: StatusCode,
    message: String,
    method: &Method,
    path: &ApiPath,
    attempts: u32,
) -> Error {
    let status = status.as_u16();
    if message.contains(CLOCK_SKEW_MESSAGE) {
        return Error::ClockSkew { status, message };
    }
    if is_batch_not_enabled(&message) {
        return Error::BatchNotEnabled { status, message };
    }
    if is_auth_failure(status, &message) {
        return Error::Auth {
            principal: credentials.principal(),
            status,
            message,
        };
    }
    Error::Server {
        method: method_name(method),
        path: path.path().to_owned(),
        status,
        message,
        attempts,
    }
}

/// Whether an answer refuses the request's clock or credentials, whatever its status: a 400
/// or 404 that a caller expects must not hide one.
fn is_refusal(answer: &Answer) -> bool {
    let message = answer.message();
    message.contains(CLOCK_SKEW_MESSAGE) || is_auth_failure(answer.status.as_u16(), &message)
}

const CLOCK_SKEW_MESSAGE: &str = "Timestamp Out of Acceptable Time Range";

fn is_auth_failure(status: u16, message: &str) -> bool {
    const AUTH_MESSAGES: [&str; 3] = [
        "Signature Data Did Not Match Expected Result",
        "Access Denied",
        "Unauthorized",
    ];
    status == 401 || AUTH_MESSAGES.iter().any(|known| message.contains(known))
}

/// The server's message in an error body: `message` or `description` of a JSON envelope, or
/// the start of a plain-text body; the secret masked before the message is shortened.
pub(crate) fn server_message(body: &[u8], secret_mask: &SecretMask) -> String {
    #[derive(serde::Deserialize)]
    struct ErrorEnvelope {
        message: Option<String>,
        description: Option<String>,
        error: Option<String>,
    }

    if let Ok(envelope) = serde_json::from_slice::<ErrorEnvelope>(body)
        && let Some(text) = envelope.message.or(envelope.description).or(envelope.error)
    {
        return shorten(secret_mask.mask(text.trim()).trim());
    }
    let text = secret_mask.mask(&String::from_utf8_lossy(body));
    let text = text.trim();
    if text.is_empty() {
        "(empty body)".to_owned()
    } else {
        shorten(text)
    }
}

fn shorten(text: &str) -> String {
    match text.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client_with(retry: RetryPolicy) -> Client {
        Client::builder("https://tc.example/api", Credentials::token("t"))
            .retry_policy(retry)
            .build()
            .unwrap()
    }

    fn answer(status: u16, retry_after: Option<&str>, body: &'static str) -> Failure {
        Failure::Answer(Answer {
            status: StatusCode::from_u16(status).unwrap(),
            retry_after: retry_after.map(str::to_owned),
            body: Bytes::from_static(body.as_bytes()),
            secret_mask: SecretMask::default(),
        })
    }

    #[test]
    fn a_429_waits_as_long_as_retry_after_asks_not_the_backoff() {
        let retry = RetryPolicy::default()
            .backoff(Duration::from_millis(1), Duration::from_millis(2))
            .max_retry_after(Duration::from_secs(60));
        let client = client_with(retry);

        let asked = client.retry_wait(&answer(429, Some("3"), ""), 1);
        let capped = client.retry_wait(&answer(429, Some("600"), ""), 1);
        let unreadable = client.retry_wait(&answer(429, Some("later"), ""), 1);

        assert_eq!(asked, Some(Duration::from_secs(3)));
        assert_eq!(capped, Some(Duration::from_secs(60)));
        assert!(unreadable.is_some_and(|wait| wait <= Duration::from_millis(1)));
    }

    #[test]
    fn only_answers_that_may_pass_are_retried() {
        let client = client_with(RetryPolicy::default());
        let not_enabled = r#"{"status":"Failure","message":"Batch job api is not available"}"#;

        for status in [429, 500, 502, 503, 504] {
            assert!(
                client
                    .retry_wait(&answer(status, None, "busy"), 1)
                    .is_some(),
                "{status}"
            );
        }
        for status in [400, 401, 403, 404, 501] {
            assert!(
                client.retry_wait(&answer(status, None, "no"), 1).is_none(),
                "{status}"
            );
        }
        assert!(
            client
                .retry_wait(&answer(503, None, not_enabled), 1)
                .is_none()
        );
    }

    #[test]
    fn a_long_plain_text_body_is_cut_in_the_message() {
        let body = "x".repeat(2_000);

        let message = server_message(body.as_bytes(), &SecretMask::default());

        assert_eq!(message.len(), MAX_MESSAGE_CHARS + 3);
        assert!(message.ends_with("..."));
        assert_eq!(
            server_message(b"  ", &SecretMask::default()),
            "(empty body)"
        );
    }

    #[test]
    fn the_base_path_keeps_the_api_prefix_without_a_trailing_slash() {
        let client = client_with(RetryPolicy::default());
        let with_slash = Client::builder("https://tc.example/api/", Credentials::token("t"))
            .build()
            .unwrap();

        assert_eq!(client.path(["v2", "owners"]).as_str(), "/api/v2/owners");
        assert_eq!(with_slash.path(["v2", "owners"]).as_str(), "/api/v2/owners");
    }
}

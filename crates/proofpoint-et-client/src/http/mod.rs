//! The HTTP list source: the lists from the vendor's server (feature `http`).
//!
//! ET Intelligence publishes the lists under `{base}/{subscription code}/reputation/{file}`.
//! [`HttpSource`] fetches them as [`ListSource`] says: the `.md5sum` sidecar first (an
//! unchanged MD5 ends the fetch without a download), then the body with `If-None-Match` and
//! `If-Modified-Since`, streamed through the parser while its MD5 is computed.

mod retry;
pub(crate) mod tls;

use std::collections::HashSet;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use reqwest::header::{
    ETAG, HeaderMap, HeaderValue, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, LOCATION,
};
use reqwest::{Client, Response, StatusCode, Url};

pub use self::retry::RetryPolicy;
use crate::categories::{CATEGORIES_FILE, CategoryTable};
use crate::error::Error;
use crate::file::ListFile;
use crate::md5sum::{Md5Digest, Md5Hasher};
use crate::parse::{ListParser, ListSummary};
use crate::reject::RowSink;
use crate::secret::{SubscriptionCode, mask_server_text, masked_excerpt};
use crate::source::{FetchOutcome, ListSource, Validators};

/// The most redirects one request follows.
const MAX_REDIRECTS: usize = 5;
/// The most characters of an error answer's body kept as its message.
const MESSAGE_LIMIT: usize = 300;
/// The most of an error answer's body read; more than the message keeps, so that a code that
/// straddles the message's cut is masked whole before the cut.
const MESSAGE_READ_LIMIT: usize = 4096;
/// The most of a sidecar's body read.
const SIDECAR_LIMIT: usize = 4096;

/// Settings for an [`HttpSource`]; [`HttpSourceBuilder::build`] checks them all at once.
#[derive(Debug, Clone)]
#[must_use]
pub struct HttpSourceBuilder {
    base_url: String,
    code: SubscriptionCode,
    user_agent: String,
    connect_timeout: Duration,
    read_timeout: Duration,
    extra_ca: Option<PathBuf>,
    redirect_hosts: Vec<String>,
    retry: RetryPolicy,
    proxy_from_env: bool,
}

impl HttpSourceBuilder {
    /// The `User-Agent` header.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// How long a connection may take to open (10 s by default).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long the server may stay silent, waiting for its answer or within a body (60 s by
    /// default). There is no limit on a whole download: a body that keeps arriving is never
    /// cut off.
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// A PEM file of CA certificates to trust beside the operating system's, as a TLS
    /// inspection proxy needs.
    pub fn extra_ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.extra_ca = Some(path.into());
        self
    }

    /// Another host name that redirects may lead to (the base URL's host always may).
    pub fn allow_redirect_host(mut self, host: impl Into<String>) -> Self {
        self.redirect_hosts.push(host.into().to_ascii_lowercase());
        self
    }

    /// How requests are retried on 429, 5xx and connection errors.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Whether to use the proxies that `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` name (yes
    /// by default).
    pub fn proxy_from_env(mut self, enabled: bool) -> Self {
        self.proxy_from_env = enabled;
        self
    }

    /// The source.
    ///
    /// # Errors
    ///
    /// The base URL is not an `https://` URL (or `http://` on a loopback host), holds the
    /// subscription code, a query or a fragment; the extra CA file cannot be read or holds no
    /// certificate; or the HTTP client cannot be built.
    pub fn build(self) -> Result<HttpSource, Error> {
        let base = parse_base_url(&self.base_url, &self.code)?;
        let mut redirect_hosts = self.redirect_hosts;
        redirect_hosts.push(base.host_str().unwrap_or_default().to_ascii_lowercase());

        let mut client = Client::builder()
            .user_agent(self.user_agent)
            .connect_timeout(self.connect_timeout)
            .read_timeout(self.read_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_gzip()
            .no_brotli()
            .no_deflate()
            .no_zstd();
        if !self.proxy_from_env {
            client = client.no_proxy();
        }
        if let Some(path) = &self.extra_ca {
            client = client.tls_certs_merge(tls::read_extra_ca(path)?);
        }
        let client = client.build().map_err(|source| Error::Client {
            source: source.without_url(),
        })?;

        Ok(HttpSource {
            client,
            base,
            code: self.code,
            redirect_hosts,
            retry: self.retry,
            sidecars_missing: Mutex::default(),
        })
    }
}

/// Checks the base URL and gives it with a trailing slash, ready for joining.
fn parse_base_url(text: &str, code: &SubscriptionCode) -> Result<Url, Error> {
    let invalid = |reason| Error::InvalidBaseUrl {
        url: code.mask(text),
        reason,
    };
    if text.contains(code.expose_secret()) {
        return Err(invalid(
            "it holds the subscription code, which is given apart",
        ));
    }
    let mut url = Url::parse(text).map_err(|_| invalid("it is not a url"))?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("it has a query or a fragment"));
    }
    if !scheme_allowed(&url) {
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

/// `https`, or `http` to a loopback host.
fn scheme_allowed(url: &Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => is_loopback(url),
        _ => false,
    }
}

fn is_loopback(url: &Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|addr| addr.is_loopback())
}

/// The reputation lists from an ET Intelligence server.
///
/// ```no_run
/// use std::time::Duration;
/// use proofpoint_et_client::{
///     FetchOutcome, HttpSource, ListFile, ListSource, Rejection, Row, RowSink, SubscriptionCode,
///     Validators,
/// };
///
/// struct Count(u64);
/// impl RowSink for Count {
///     fn row(&mut self, _row: Row<'_>) { self.0 += 1 }
///     fn rejection(&mut self, _rejection: Rejection) {}
/// }
///
/// # async fn run() -> Result<(), proofpoint_et_client::Error> {
/// let code = SubscriptionCode::new(std::env::var("ET_CODE").unwrap_or_default())?;
/// let base = std::env::var("ET_BASE_URL").unwrap_or_default(); // https://<list host>/
/// let source = HttpSource::builder(base, code)
///     .read_timeout(Duration::from_secs(30))
///     .build()?;
///
/// let mut count = Count(0);
/// let file = ListFile::DETAILED_IP.gzipped();
/// match source.fetch(file, &Validators::default(), &mut count).await? {
///     FetchOutcome::NotModified { .. } => println!("unchanged"),
///     FetchOutcome::Complete { summary, validators } => {
///         println!("{} rows; next time send {validators:?}", summary.rows);
///     }
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct HttpSource {
    client: Client,
    base: Url,
    code: SubscriptionCode,
    redirect_hosts: Vec<String>,
    retry: RetryPolicy,
    /// The files whose missing sidecar was already logged at `warn`.
    sidecars_missing: Mutex<HashSet<String>>,
}

/// What a download's MD5 check decided.
enum Md5Check {
    Verified,
    TryAgain { sidecar: Option<Md5Digest> },
}

/// What one download of a list ended with.
enum Download {
    NotModified,
    Complete {
        validators: Validators,
        summary: ListSummary,
    },
}

impl HttpSource {
    /// Settings for a source at `base_url` (such as `https://rules.emergingthreatspro.com/`,
    /// without the code), with the subscription code apart.
    pub fn builder(base_url: impl Into<String>, code: SubscriptionCode) -> HttpSourceBuilder {
        HttpSourceBuilder {
            base_url: base_url.into(),
            code,
            user_agent: concat!("et-threatconnect/", env!("CARGO_PKG_VERSION")).to_owned(),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(60),
            extra_ca: None,
            redirect_hosts: Vec::new(),
            retry: RetryPolicy::default(),
            proxy_from_env: true,
        }
    }

    /// The MD5 that the `.md5sum` sidecar of `file` gives, or `None` where the server has no
    /// sidecar for it. It downloads nothing else, which makes it the cheap way to check a
    /// subscription code and its entitlements.
    ///
    /// # Errors
    ///
    /// As a fetch: [`Error::AccessDenied`] for a code the server refuses, a server or
    /// transport error, or [`Error::InvalidSidecar`] for a sidecar that does not parse.
    pub async fn read_md5sum(&self, file: ListFile) -> Result<Option<Md5Digest>, Error> {
        self.read_sidecar(&file.sidecar_name()).await
    }

    /// The URL of `file`, holding the code: never to be shown.
    fn url_of(&self, file: &str) -> Url {
        let path = format!("{}/reputation/{file}", self.code.expose_secret());
        self.base
            .join(&path)
            .expect("a file name and a checked code join to a url")
    }

    /// `url` with the code masked, for logs and errors.
    fn shown(&self, url: &Url) -> String {
        self.code.mask(url.as_str())
    }

    async fn fetch_list(
        &self,
        file: ListFile,
        known: &Validators,
        sink: &mut (dyn RowSink + Send),
    ) -> Result<FetchOutcome, Error> {
        let mut expected = self.read_sidecar(&file.sidecar_name()).await?;
        if expected.is_some() && expected == known.md5 {
            tracing::debug!(%file, "the list is unchanged: its sidecar has the last import's md5");
            return Ok(FetchOutcome::NotModified {
                validators: known.clone(),
            });
        }

        let mut second_try = false;
        loop {
            let (validators, summary) = match self.download(file, known, sink).await? {
                Download::NotModified => {
                    tracing::debug!(%file, "the list is unchanged: the server answered 304");
                    return Ok(FetchOutcome::NotModified {
                        validators: known.clone(),
                    });
                }
                Download::Complete {
                    validators,
                    summary,
                } => (validators, summary),
            };

            let actual = validators.md5.expect("a download computes the md5");
            match self
                .check_md5(file, expected, actual, second_try, sink)
                .await?
            {
                Md5Check::Verified => {
                    let (rows, rejected) = (summary.rows, summary.rejected);
                    tracing::info!(%file, rows, rejected, "downloaded the list");
                    return Ok(FetchOutcome::Complete {
                        validators,
                        summary,
                    });
                }
                Md5Check::TryAgain { sidecar } => {
                    expected = sidecar;
                    second_try = true;
                }
            }
        }
    }

    /// Checks a download's MD5 against the sidecar's. On a first mismatch the sidecar is read
    /// again (the list may have been replaced meanwhile): where it now matches, the download
    /// stands; otherwise the sink is asked to start over for a second download.
    async fn check_md5(
        &self,
        file: ListFile,
        expected: Option<Md5Digest>,
        actual: Md5Digest,
        second_try: bool,
        sink: &mut (dyn RowSink + Send),
    ) -> Result<Md5Check, Error> {
        let Some(wanted) = expected.filter(|wanted| *wanted != actual) else {
            return Ok(Md5Check::Verified);
        };
        let mismatch = Error::Md5Mismatch {
            file: file.name().to_owned(),
            expected: wanted,
            actual,
        };
        if second_try {
            return Err(mismatch);
        }

        tracing::debug!(%file, %wanted, %actual, "md5 mismatch: reading the sidecar again");
        let sidecar = self.read_sidecar(&file.sidecar_name()).await?;
        if sidecar == Some(actual) {
            tracing::debug!(%file, "the list changed meanwhile; the new sidecar matches");
            return Ok(Md5Check::Verified);
        }
        if !sink.restart() {
            tracing::debug!(%file, "the row sink cannot start over: no second download");
            return Err(mismatch);
        }
        Ok(Md5Check::TryAgain { sidecar })
    }

    /// One download of a list into `sink`, its MD5 computed on the way.
    async fn download(
        &self,
        file: ListFile,
        known: &Validators,
        sink: &mut (dyn RowSink + Send),
    ) -> Result<Download, Error> {
        let mut headers = HeaderMap::new();
        if let Some(value) = known
            .etag
            .as_deref()
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            headers.insert(IF_NONE_MATCH, value);
        }
        if let Some(value) = known
            .last_modified
            .as_deref()
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            headers.insert(IF_MODIFIED_SINCE, value);
        }

        let (url, mut response) = self.get(file.name(), headers).await?;
        match response.status() {
            StatusCode::NOT_MODIFIED => return Ok(Download::NotModified),
            StatusCode::OK => {}
            _ => return Err(self.status_error(file.name(), response).await),
        }

        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        let etag = header(ETAG);
        let last_modified = header(LAST_MODIFIED);

        // Known gap: a rejected row's reason quotes the row's text unmasked, so a 200 body
        // that echoes the subscription code (an html page repeating the path) shows it in
        // rejections and their trace line; giving the parser the code to mask before it
        // quotes would close it.
        let mut parser = ListParser::named(file.name());
        let mut hasher = Md5Hasher::default();
        loop {
            let chunk = response.chunk().await.map_err(|source| Error::Transport {
                what: "downloading",
                file: file.name().to_owned(),
                url: self.shown(&url),
                source: source.without_url(),
            })?;
            let Some(chunk) = chunk else { break };
            hasher.update(&chunk);
            parser.feed(&chunk, sink)?;
        }
        let summary = parser.finish(sink)?;

        let validators = Validators {
            md5: Some(hasher.finish()),
            etag,
            last_modified,
        };
        Ok(Download::Complete {
            validators,
            summary,
        })
    }

    /// The MD5 that the sidecar `name` gives, or `None` where the server has no sidecar.
    async fn read_sidecar(&self, name: &str) -> Result<Option<Md5Digest>, Error> {
        let (_, response) = self.get(name, HeaderMap::new()).await?;
        match response.status() {
            StatusCode::OK => {}
            StatusCode::NOT_FOUND => {
                self.log_missing_sidecar(name);
                return Ok(None);
            }
            _ => return Err(self.status_error(name, response).await),
        }
        let text = self.read_start(name, response, SIDECAR_LIMIT).await?;
        let cut_short = text.len() >= SIDECAR_LIMIT;
        let mask = |line: &str| mask_server_text(line, self.code.expose_secret(), cut_short);
        Md5Digest::from_sidecar_masking(name, &text, mask).map(Some)
    }

    fn log_missing_sidecar(&self, name: &str) {
        let first_time = self
            .sidecars_missing
            .lock()
            .map(|mut seen| seen.insert(name.to_owned()));
        if first_time.unwrap_or(true) {
            // A warning: without the sidecar a body cut short cannot be told from a whole one.
            tracing::warn!(
                sidecar = name,
                "the server has no md5 sidecar: the list is downloaded and not verified"
            );
        } else {
            tracing::debug!(sidecar = name, "no md5 sidecar");
        }
    }

    /// The first `limit` bytes of an answer's body.
    async fn read_start(
        &self,
        name: &str,
        mut response: Response,
        limit: usize,
    ) -> Result<Vec<u8>, Error> {
        let url = response.url().clone();
        let mut body = Vec::new();
        while body.len() < limit {
            let chunk = response.chunk().await.map_err(|source| Error::Transport {
                what: "downloading",
                file: name.to_owned(),
                url: self.shown(&url),
                source: source.without_url(),
            })?;
            let Some(chunk) = chunk else { break };
            body.extend_from_slice(&chunk);
        }
        body.truncate(limit);
        Ok(body)
    }

    /// The error for an answer that is neither 200 nor 304.
    async fn status_error(&self, name: &str, response: Response) -> Error {
        let status = response.status();
        let body = self
            .read_start(name, response, MESSAGE_READ_LIMIT)
            .await
            .unwrap_or_default();
        let message = masked_excerpt(
            &String::from_utf8_lossy(&body),
            self.code.expose_secret(),
            body.len() >= MESSAGE_READ_LIMIT,
            MESSAGE_LIMIT,
        );
        let code = status.as_u16();
        tracing::debug!(file = name, status = code, %message, "the server answered with an error");
        match status {
            StatusCode::NOT_FOUND => Error::NotFound {
                file: name.to_owned(),
            },
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Error::AccessDenied {
                file: name.to_owned(),
                status: status.as_u16(),
                message,
            },
            _ => Error::Server {
                file: name.to_owned(),
                status: status.as_u16(),
                message,
            },
        }
    }

    /// GETs `file`, following allowed redirects and retrying on 429, 5xx and connection
    /// errors. Answers with other statuses are returned as they are.
    async fn get(&self, file: &str, headers: HeaderMap) -> Result<(Url, Response), Error> {
        let mut waits = self.retry.backoff();
        loop {
            let attempt = self.get_following_redirects(file, &headers).await;
            let Some(wait) = waits.next() else {
                return attempt;
            };

            let wait = match &attempt {
                Ok((_, response)) if retry::is_retryable(response.status()) => {
                    retry::retry_after(response.headers(), self.retry.max_delay).unwrap_or(wait)
                }
                Err(Error::Transport { source, .. })
                    if source.is_connect() || source.is_timeout() =>
                {
                    wait
                }
                _ => return attempt,
            };
            match &attempt {
                Ok((_, response)) => {
                    tracing::debug!(file, status = response.status().as_u16(), ?wait, "retrying")
                }
                Err(error) => tracing::debug!(file, %error, ?wait, "retrying"),
            }
            tokio::time::sleep(wait).await;
        }
    }

    async fn get_following_redirects(
        &self,
        file: &str,
        headers: &HeaderMap,
    ) -> Result<(Url, Response), Error> {
        let mut url = self.url_of(file);
        for _ in 0..=MAX_REDIRECTS {
            tracing::debug!(url = %self.shown(&url), "requesting");
            let response = self
                .client
                .get(url.clone())
                .headers(headers.clone())
                .send()
                .await
                .map_err(|source| Error::Transport {
                    what: "requesting",
                    file: file.to_owned(),
                    url: self.shown(&url),
                    source: source.without_url(),
                })?;

            let status = response.status();
            if !status.is_redirection() || status == StatusCode::NOT_MODIFIED {
                return Ok((url, response));
            }
            let Some(next) = self.redirect_target(file, &url, &response)? else {
                return Ok((url, response));
            };
            let (from, to) = (self.shown(&url), self.shown(&next));
            tracing::debug!(%from, %to, status = status.as_u16(), "following a redirect");
            url = next;
        }
        Err(Error::RedirectRefused {
            file: file.to_owned(),
            location: self.shown(&url),
            reason: "too many redirects",
        })
    }

    /// Where a redirect leads, where this source may follow it.
    fn redirect_target(
        &self,
        file: &str,
        url: &Url,
        response: &Response,
    ) -> Result<Option<Url>, Error> {
        let Some(location) = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
        else {
            return Ok(None);
        };
        let refused = |location: &str, reason| Error::RedirectRefused {
            file: file.to_owned(),
            location: self.code.mask(location),
            reason,
        };
        let next = url
            .join(location)
            .map_err(|_| refused(location, "the location is not a url"))?;
        let host = next.host_str().unwrap_or_default().to_ascii_lowercase();
        if !self.redirect_hosts.contains(&host) {
            return Err(refused(
                next.as_str(),
                "its host is not one of the configured hosts",
            ));
        }
        if !scheme_allowed(&next) {
            return Err(refused(next.as_str(), "it leaves https for plain http"));
        }
        Ok(Some(next))
    }

    async fn fetch_categories(&self) -> Result<CategoryTable, Error> {
        let expected = self
            .read_sidecar(&format!("{CATEGORIES_FILE}.md5sum"))
            .await?;
        let (_, response) = self.get(CATEGORIES_FILE, HeaderMap::new()).await?;
        if response.status() != StatusCode::OK {
            return Err(self.status_error(CATEGORIES_FILE, response).await);
        }
        let text = self.read_start(CATEGORIES_FILE, response, 1 << 20).await?;
        let actual = Md5Digest::of(&text);
        if let Some(expected) = expected.filter(|expected| *expected != actual) {
            return Err(Error::Md5Mismatch {
                file: CATEGORIES_FILE.to_owned(),
                expected,
                actual,
            });
        }
        Ok(CategoryTable::parse(&text))
    }
}

#[async_trait]
impl ListSource for HttpSource {
    async fn fetch(
        &self,
        file: ListFile,
        known: &Validators,
        sink: &mut (dyn RowSink + Send),
    ) -> Result<FetchOutcome, Error> {
        self.fetch_list(file, known, sink).await
    }

    /// The server's `categories.txt`; the built-in table where it cannot be had, except when
    /// the server refuses access (a wrong code is worth an error).
    async fn categories(&self) -> Result<CategoryTable, Error> {
        match self.fetch_categories().await {
            Ok(table) if !table.is_empty() => Ok(table),
            Ok(_) => {
                tracing::warn!(
                    "the server's categories.txt has no category: using the built-in table"
                );
                Ok(CategoryTable::builtin())
            }
            Err(error @ Error::AccessDenied { .. }) => Err(error),
            Err(error) => {
                let error = ErrorChain(&error);
                tracing::warn!(%error, "cannot fetch categories.txt: using the built-in table");
                Ok(CategoryTable::builtin())
            }
        }
    }
}

/// An error and its causes on one line, for a log field.
struct ErrorChain<'e>(&'e (dyn std::error::Error + 'static));

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = self.0.source();
        while let Some(error) = cause {
            write!(f, ": {error}")?;
            cause = error.source();
        }
        Ok(())
    }
}

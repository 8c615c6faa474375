//! The crate's error type.

use std::io;
use std::path::PathBuf;

use crate::md5sum::Md5Digest;

/// Everything that can fail in this crate.
///
/// A list whose fetch or parse ends in an error is lost as a whole: whatever a sink received
/// from it must be discarded. A bad row is never an error: it is a [`Rejection`] handed to the
/// sink, and the list goes on.
///
/// [`Rejection`]: crate::Rejection
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be opened.
    #[error("cannot open {}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },

    /// Reading a list failed part-way.
    #[error("cannot read {file}")]
    Read {
        /// The list.
        file: String,
        /// Why.
        source: io::Error,
    },

    /// A gzip list ended before its compressed data did, or without a matching trailer: the
    /// download or the file was cut short.
    #[error("{file} is truncated: its gzip stream ends early or fails its checksum")]
    TruncatedGzip {
        /// The list.
        file: String,
        /// What the decoder said.
        source: io::Error,
    },

    /// A gzip list holds compressed data that does not decode.
    #[error("{file} is not valid gzip")]
    CorruptGzip {
        /// The list.
        file: String,
        /// What the decoder said.
        source: io::Error,
    },

    /// A list is compressed in a format other than gzip.
    #[error("{file} is compressed as {format}, which is not read here (only gzip is)")]
    UnsupportedCompression {
        /// The list.
        file: String,
        /// The format its magic bytes show.
        format: &'static str,
    },

    /// A JSON list is not valid JSON, or not an object of indicators.
    #[error("{file} is not a valid json list (line {line}, column {column})")]
    Json {
        /// The list.
        file: String,
        /// Where the JSON breaks, 1-based.
        line: u64,
        /// Where the JSON breaks, 1-based.
        column: u64,
        /// What the JSON reader said.
        source: serde_json::Error,
    },

    /// A parser was used again after it failed.
    #[error("{file} was already lost to an earlier error")]
    Poisoned {
        /// The list.
        file: String,
    },

    /// An `.md5sum` sidecar does not start with an MD5 in hex.
    #[error("the md5 sidecar {sidecar} does not hold an md5: it starts with {text}")]
    InvalidSidecar {
        /// The sidecar file.
        sidecar: String,
        /// The start of what it holds, quoted.
        text: String,
    },

    /// A list's bytes do not have the MD5 its sidecar gives.
    #[error("{file} does not match its md5 sidecar: expected {expected}, got {actual}")]
    Md5Mismatch {
        /// The list.
        file: String,
        /// What the sidecar says.
        expected: Md5Digest,
        /// What the bytes have.
        actual: Md5Digest,
    },

    /// A subscription code is not usable in a URL path.
    #[error("the subscription code is invalid: {reason}")]
    InvalidSubscriptionCode {
        /// Why, without the code.
        reason: &'static str,
    },

    /// The list server answered 404 for a list.
    #[cfg(feature = "http")]
    #[error(
        "{file} was not found on the list server (http 404): check the subscription code and \
         that it is entitled to this list"
    )]
    NotFound {
        /// The file asked for.
        file: String,
    },

    /// The list server refused access (401 or 403) to a list or its sidecar.
    #[cfg(feature = "http")]
    #[error(
        "the list server refused access to {file} (http {status}): check the subscription \
         code and its entitlements"
    )]
    AccessDenied {
        /// The file asked for.
        file: String,
        /// 401 or 403.
        status: u16,
        /// The start of the server's answer, with the subscription code masked.
        message: String,
    },

    /// The list server answered with an error status that retries did not cure.
    #[cfg(feature = "http")]
    #[error("the list server answered http {status} for {file}: {message}")]
    Server {
        /// The file asked for.
        file: String,
        /// The HTTP status.
        status: u16,
        /// The start of the server's answer, with the subscription code masked.
        message: String,
    },

    /// A request for a file failed before or while its body arrived.
    #[cfg(feature = "http")]
    #[error("{what} {file} from {url} failed")]
    Transport {
        /// What was being done: `requesting` or `downloading`.
        what: &'static str,
        /// The file asked for.
        file: String,
        /// The URL, with the subscription code masked.
        url: String,
        /// The HTTP library's error, without its URL.
        source: reqwest::Error,
    },

    /// A redirect went somewhere this source does not follow.
    #[cfg(feature = "http")]
    #[error("refused to follow a redirect for {file} to {location}: {reason}")]
    RedirectRefused {
        /// The file asked for.
        file: String,
        /// Where the redirect pointed, with the subscription code masked.
        location: String,
        /// Why it was refused.
        reason: &'static str,
    },

    /// The base URL of the list server is not usable.
    #[cfg(feature = "http")]
    #[error("the list server base url {url} is not usable: {reason}")]
    InvalidBaseUrl {
        /// The URL as given.
        url: String,
        /// Why.
        reason: &'static str,
    },

    /// The extra CA file could not be read.
    #[cfg(feature = "http")]
    #[error("cannot read the extra ca file {}", path.display())]
    CaFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },

    /// The extra CA file holds no certificate.
    #[cfg(feature = "http")]
    #[error(
        "no certificate was found in the extra ca file {} (expected pem certificates)",
        path.display()
    )]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },

    /// The HTTP client could not be built.
    #[cfg(feature = "http")]
    #[error("cannot build the http client")]
    Client {
        /// The HTTP library's error.
        source: reqwest::Error,
    },

    /// An ET Intelligence REST API key is not usable as a header value.
    #[error("the et intelligence api key is invalid: {reason}")]
    InvalidApiKey {
        /// Why, without the key.
        reason: &'static str,
    },

    /// The base URL of the ET Intelligence REST API is not usable.
    #[cfg(feature = "http")]
    #[error("the et intelligence api base url {url} is not usable: {reason}")]
    InvalidApiBaseUrl {
        /// The URL as given.
        url: String,
        /// Why.
        reason: &'static str,
    },

    /// A value given for an ET Intelligence REST API lookup cannot name anything.
    #[cfg(feature = "http")]
    #[error("cannot look up the {what} {value:?} in the et intelligence api: {reason}")]
    InvalidApiArgument {
        /// What the value is: `domain`, `cve`, ...
        what: &'static str,
        /// The value as given.
        value: String,
        /// Why.
        reason: &'static str,
    },

    /// The ET Intelligence REST API answered with an error, or with `success: false`.
    #[cfg(feature = "http")]
    #[error(
        "the et intelligence api answered http {status} ({kind}) for {endpoint} after \
         {attempts} attempt(s): {message}"
    )]
    Api {
        /// What the status means: unauthorized, rate limited, ...
        kind: ApiErrorKind,
        /// The endpoint asked for, such as `ips/192.0.2.1/reputation`.
        endpoint: String,
        /// The HTTP status.
        status: u16,
        /// The server's `message`, or the start of its body, with the API key masked.
        message: String,
        /// The attempts made.
        attempts: u32,
    },

    /// A request to the ET Intelligence REST API got no answer.
    #[cfg(feature = "http")]
    #[error(
        "the request to the et intelligence api for {endpoint} failed after {attempts} attempt(s)"
    )]
    ApiTransport {
        /// The endpoint asked for.
        endpoint: String,
        /// The attempts made.
        attempts: u32,
        /// The HTTP library's error, without its URL.
        source: reqwest::Error,
    },

    /// An answer of the ET Intelligence REST API does not read as its report.
    #[cfg(feature = "http")]
    #[error("the et intelligence api answer for {endpoint} does not read: {detail}")]
    ApiDecode {
        /// The endpoint asked for.
        endpoint: String,
        /// Where and why, such as ``at `response[0].score`: 300 is above 127``.
        detail: String,
    },
}

/// What an [`Error::Api`] status means, so that a caller can tell them apart without
/// matching numbers.
#[cfg(feature = "http")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ApiErrorKind {
    /// 401: no key, or a wrong one.
    Unauthorized,
    /// 402: the report needs a subscription the key does not have (such as ETPro).
    PaymentRequired,
    /// 403: the key lacks access, or its subscription lapsed.
    Forbidden,
    /// 404: the API does not know the endpoint.
    NotFound,
    /// 408: the server timed out.
    Timeout,
    /// 429: the key's rate limit is exceeded.
    RateLimited,
    /// 5xx: the server failed.
    ServerError,
    /// A success status whose envelope says `success: false`.
    Refused,
    /// Any other status.
    Other,
}

#[cfg(feature = "http")]
impl ApiErrorKind {
    /// The kind of an error answer with `status`.
    pub fn from_status(status: u16) -> ApiErrorKind {
        match status {
            401 => ApiErrorKind::Unauthorized,
            402 => ApiErrorKind::PaymentRequired,
            403 => ApiErrorKind::Forbidden,
            404 => ApiErrorKind::NotFound,
            408 => ApiErrorKind::Timeout,
            429 => ApiErrorKind::RateLimited,
            500..=599 => ApiErrorKind::ServerError,
            200..=299 => ApiErrorKind::Refused,
            _ => ApiErrorKind::Other,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            ApiErrorKind::Unauthorized => "unauthorized: check the api key",
            ApiErrorKind::PaymentRequired => "payment required: the key's subscription lacks it",
            ApiErrorKind::Forbidden => "forbidden: the key lacks access or its subscription lapsed",
            ApiErrorKind::NotFound => "not found",
            ApiErrorKind::Timeout => "timed out",
            ApiErrorKind::RateLimited => "rate limited",
            ApiErrorKind::ServerError => "server error",
            ApiErrorKind::Refused => "refused",
            ApiErrorKind::Other => "unexpected status",
        }
    }
}

#[cfg(feature = "http")]
impl std::fmt::Display for ApiErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(feature = "http")]
impl Error {
    /// What an ET Intelligence REST API error answer means, for [`Error::Api`]; `None` for
    /// every other error.
    pub fn api_error_kind(&self) -> Option<ApiErrorKind> {
        match self {
            Error::Api { kind, .. } => Some(*kind),
            _ => None,
        }
    }
}

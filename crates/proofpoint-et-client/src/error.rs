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
}

//! The crate's one error type.

#[cfg(feature = "http")]
use std::path::PathBuf;
#[cfg(feature = "http")]
use std::time::Duration;

#[cfg(feature = "http")]
use crate::batch::{BatchId, JobStatus};

/// Everything that can go wrong in this crate.
///
/// A failure the server reported keeps its HTTP status and its message as fields. No variant
/// ever holds the secret key or the token; auth failures name the access id only.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A chunk limit is out of range.
    #[error("invalid chunk limit: {field} is {value}, it must be from 1 to {max}")]
    InvalidChunkLimit {
        /// The limit's name (`max_indicators` or `max_bytes`).
        field: &'static str,
        /// The value given.
        value: usize,
        /// The largest value allowed.
        max: usize,
    },

    /// One indicator, serialised, is larger than a whole job may be.
    #[error(
        "indicator {summary:?} (input position {position}) takes {size} bytes, more than a whole \
         job may hold ({limit} bytes)"
    )]
    IndicatorTooLarge {
        /// The indicator's position in the input sequence.
        position: usize,
        /// The indicator's value.
        summary: String,
        /// Its serialised size in bytes.
        size: usize,
        /// The job byte limit in force.
        limit: usize,
    },

    /// A document or a request body could not be serialised.
    #[error("could not serialise {what}")]
    Serialize {
        /// What was being serialised.
        what: &'static str,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },

    /// A setting given to the client builder is not usable.
    #[cfg(feature = "http")]
    #[error("invalid client setting {field}: {reason}")]
    InvalidSetting {
        /// The setting's name.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },

    /// A value given to an endpoint cannot be sent, such as a tag name over 128 characters.
    #[cfg(feature = "http")]
    #[error("invalid {what} {value:?}: {reason}")]
    InvalidInput {
        /// What the value is, such as `tag name`.
        what: &'static str,
        /// The value as given.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// The extra CA file could not be read.
    #[cfg(feature = "http")]
    #[error("could not read the extra CA file {path}")]
    CaFileRead {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },

    /// The extra CA file holds no certificate, or one that cannot be used.
    #[cfg(feature = "http")]
    #[error("the extra CA file {path} is not usable: {reason}")]
    CaFileInvalid {
        /// The file.
        path: PathBuf,
        /// What is wrong with it, such as "no certificate was found in it".
        reason: String,
    },

    /// The HTTP client could not be built.
    #[cfg(feature = "http")]
    #[error("could not build the HTTP client")]
    ClientBuild {
        /// The cause.
        #[source]
        source: reqwest::Error,
    },

    /// The server refused the request's timestamp: this machine's clock is off.
    #[cfg(feature = "http")]
    #[error(
        "ThreatConnect refused the request time (HTTP {status}: {message}): fix this machine's \
         clock, the server accepts at most 5 minutes of difference"
    )]
    ClockSkew {
        /// The HTTP status.
        status: u16,
        /// The server's message.
        message: String,
    },

    /// The credentials were refused.
    #[cfg(feature = "http")]
    #[error("ThreatConnect refused the credentials of {principal} (HTTP {status}: {message})")]
    Auth {
        /// Who was refused: `access id <id>`, or `the API token` (never the token itself).
        principal: String,
        /// The HTTP status.
        status: u16,
        /// The server's message.
        message: String,
    },

    /// The instance's Batch API is not enabled.
    #[cfg(feature = "http")]
    #[error(
        "the Batch API is not enabled on this ThreatConnect instance (HTTP {status}: {message}): \
         an administrator must enable the batch feature and document storage"
    )]
    BatchNotEnabled {
        /// The HTTP status (503).
        status: u16,
        /// The server's message.
        message: String,
    },

    /// A job's document is larger than the instance accepts.
    #[cfg(feature = "http")]
    #[error(
        "the job document of {size} bytes is too large for the instance (HTTP {status}: {message})"
    )]
    Oversize {
        /// The HTTP status.
        status: u16,
        /// The server's message.
        message: String,
        /// The document's size in bytes.
        size: usize,
        /// The limit the message names, where it names one.
        limit: Option<usize>,
    },

    /// A job holds more indicators than the instance accepts in one job.
    #[cfg(feature = "http")]
    #[error(
        "the job of {indicators} indicators holds too many for the instance (HTTP {status}: \
         {message})"
    )]
    TooManyIndicators {
        /// The HTTP status.
        status: u16,
        /// The server's message.
        message: String,
        /// The indicators the job held.
        indicators: usize,
    },

    /// A batch job did not finish in time.
    #[cfg(feature = "http")]
    #[error("batch job {batch_id} did not finish within {waited:?} (last status {last_status})")]
    JobDeadline {
        /// The job.
        batch_id: BatchId,
        /// How long it was waited for.
        waited: Duration,
        /// Its last status seen.
        last_status: JobStatus,
    },

    /// The server answered with an error not covered by another kind.
    #[cfg(feature = "http")]
    #[error("{method} {path} failed after {attempts} attempt(s): HTTP {status}: {message}")]
    Server {
        /// The request's method.
        method: &'static str,
        /// The request's path (without the query).
        path: String,
        /// The HTTP status.
        status: u16,
        /// The server's message, or the start of its body.
        message: String,
        /// The attempts made.
        attempts: u32,
    },

    /// The request did not get an answer: connection refused, reset, timed out.
    #[cfg(feature = "http")]
    #[error("{method} {path} failed after {attempts} attempt(s)")]
    Transport {
        /// The request's method.
        method: &'static str,
        /// The request's path (without the query).
        path: String,
        /// The attempts made.
        attempts: u32,
        /// The cause, with its URL removed.
        #[source]
        source: reqwest::Error,
    },

    /// An answer could not be read.
    #[cfg(feature = "http")]
    #[error("could not read {what}: {detail}")]
    Decode {
        /// What was being read, such as "the status of batch job 42".
        what: String,
        /// What was wrong, such as the JSON error with its line and column.
        detail: String,
    },
}

#[cfg(feature = "http")]
impl Error {
    /// Whether the error will recur for every later request of the same kind, so that a run
    /// should stop sending: credentials refused, clock off, Batch API disabled.
    pub fn is_fatal_for_run(&self) -> bool {
        matches!(
            self,
            Error::Auth { .. } | Error::ClockSkew { .. } | Error::BatchNotEnabled { .. }
        )
    }

    /// The HTTP status the server answered with, where there was an answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::ClockSkew { status, .. }
            | Error::Auth { status, .. }
            | Error::BatchNotEnabled { status, .. }
            | Error::Oversize { status, .. }
            | Error::TooManyIndicators { status, .. }
            | Error::Server { status, .. } => Some(*status),
            _ => None,
        }
    }
}

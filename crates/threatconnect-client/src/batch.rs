//! Batch jobs: create, upload (or both at once), poll, fetch the errors.
//!
//! Documentation: <https://docs.threatconnect.com/en/latest/rest_api/v2/batch_api/batch_api.html>

use std::fmt;
use std::io::Read;
use std::ops::Range;
use std::time::Instant;

use bytes::Bytes;
use flate2::read::GzDecoder;
use reqwest::{Method, StatusCode};
use serde::Deserialize;

use crate::answer::{expect_data, read_envelope};
use crate::chunk::JobDocument;
use crate::client::{Answer, Client, RequestBody, server_message};
use crate::error::Error;
use crate::secret::SecretMask;
use crate::settings::{BatchAction, JobSettings};

/// The most bytes an inflated errors body may take.
const MAX_ERRORS_BYTES: u64 = 256 * 1024 * 1024;

/// A batch job's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(transparent)]
pub struct BatchId(pub i64);

impl fmt::Display for BatchId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Where a batch job is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(from = "String")]
#[non_exhaustive]
pub enum JobStatus {
    /// Created, waiting for its document.
    Created,
    /// Document received, waiting to run.
    Queued,
    /// Running.
    Running,
    /// Finished, with or without errors (see the counts).
    Completed,
    /// A status this crate does not know.
    Other(String),
}

impl JobStatus {
    /// Whether the job has finished.
    pub fn is_finished(&self) -> bool {
        *self == JobStatus::Completed
    }

    fn as_str(&self) -> &str {
        match self {
            JobStatus::Created => "Created",
            JobStatus::Queued => "Queued",
            JobStatus::Running => "Running",
            JobStatus::Completed => "Completed",
            JobStatus::Other(other) => other,
        }
    }
}

impl From<String> for JobStatus {
    fn from(text: String) -> JobStatus {
        match text.as_str() {
            "Created" => JobStatus::Created,
            "Queued" => JobStatus::Queued,
            "Running" => JobStatus::Running,
            "Completed" => JobStatus::Completed,
            _ => JobStatus::Other(text),
        }
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A job's status and, once it has them, its counts.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct BatchStatus {
    /// The job's id.
    #[serde(default)]
    pub id: Option<BatchId>,
    /// Where it is.
    pub status: JobStatus,
    /// Items written.
    #[serde(default)]
    pub success_count: Option<u64>,
    /// Items refused.
    #[serde(default)]
    pub error_count: Option<u64>,
    /// Items not processed (read from `unprocessCount` or `unprocessedCount`).
    #[serde(default, alias = "unprocessedCount")]
    pub unprocess_count: Option<u64>,
}

/// One error a job reported.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BatchError {
    /// The reason, such as `Error (0x1005): dl_update.example.net is not valid as a Host.`.
    pub reason: String,
    /// The item it is about, as the service names it (`errorSource`).
    pub source: Option<String>,
    /// The code in the reason (`0x1005` is 4101), where it has one.
    pub code: Option<u32>,
    /// The indicator value the error names, from `errorSource` or the reason, where either
    /// allows.
    pub indicator: Option<String>,
}

impl BatchError {
    /// An error from its reason and source, with the code and the indicator read from them.
    pub fn new(reason: impl Into<String>, source: Option<String>) -> BatchError {
        let reason = reason.into();
        let source = source.filter(|source| !source.trim().is_empty());
        let code = error_code(&reason);
        let indicator = source
            .as_deref()
            .and_then(indicator_in_source)
            .or_else(|| indicator_in_reason(&reason));
        BatchError {
            reason,
            source,
            code,
            indicator,
        }
    }
}

/// The hex code of a reason such as `Error (0x1005): ...`.
fn error_code(reason: &str) -> Option<u32> {
    let start = reason.find("(0x")? + 3;
    let digits = &reason[start..];
    let end = digits.find(|c: char| !c.is_ascii_hexdigit())?;
    u32::from_str_radix(&digits[..end], 16).ok()
}

/// The indicator an `errorSource` names: the text itself, or the `summary` of a JSON item.
fn indicator_in_source(source: &str) -> Option<String> {
    let source = source.trim();
    if source.starts_with('{') {
        let item: serde_json::Value = serde_json::from_str(source).ok()?;
        return item.get("summary")?.as_str().map(str::to_owned);
    }
    Some(source.to_owned())
}

/// The indicator a reason names in the form `...: <value> is not valid ...`.
fn indicator_in_reason(reason: &str) -> Option<String> {
    let after_code = reason.split_once("): ").map_or(reason, |(_, rest)| rest);
    let (value, _) = after_code.split_once(" is ")?;
    let value = value.trim();
    (!value.is_empty() && !value.contains(' ')).then(|| value.to_owned())
}

/// What the errors endpoint answered.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BatchErrors {
    /// The job reported no errors (404).
    None,
    /// The job is still running (400).
    StillRunning,
    /// The errors.
    Listed(Vec<BatchError>),
}

/// What one finished job did.
///
/// Not `#[non_exhaustive]`, so that a caller's tests can build outcomes of their own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobOutcome {
    /// The positions, in the submitted sequence, of the indicators the job carried.
    pub positions: Range<usize>,
    /// The job's id.
    pub batch_id: BatchId,
    /// Its final status.
    pub status: JobStatus,
    /// Items written.
    pub success_count: u64,
    /// Items refused.
    pub error_count: u64,
    /// Items not processed.
    pub unprocess_count: u64,
    /// The errors it reported.
    pub errors: Vec<BatchError>,
}

impl JobOutcome {
    /// How many indicators the job carried.
    pub fn indicator_count(&self) -> usize {
        self.positions.len()
    }

    /// Whether every indicator the job carried was written: no error, nothing unprocessed,
    /// and a success count equal to the indicators sent.
    pub fn is_clean(&self) -> bool {
        self.error_count == 0
            && self.unprocess_count == 0
            && self.success_count == self.indicator_count() as u64
    }

    /// Whether the counts add up to the indicators sent and each refused item is named by an
    /// error, so that the indicators not named can be taken as written. When this is false,
    /// none of the job's indicators should be taken as written.
    pub fn accounts_for_every_indicator(&self) -> bool {
        let counted = self.success_count + self.error_count + self.unprocess_count;
        counted == self.indicator_count() as u64
            && self.unprocess_count == 0
            && self.all_errors_named()
    }

    /// Whether each refused item is named by an error.
    pub fn all_errors_named(&self) -> bool {
        let named = self
            .errors
            .iter()
            .filter(|error| error.indicator.is_some())
            .count();
        named as u64 >= self.error_count
    }

    /// The values the errors name, for the caller to leave out of what it records as written.
    pub fn rejected_values(&self) -> impl Iterator<Item = &str> {
        self.errors
            .iter()
            .filter_map(|error| error.indicator.as_deref())
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreatedJob {
    batch_id: BatchId,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StatusData {
    batch_status: BatchStatus,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBatchError {
    #[serde(default)]
    error_reason: Option<String>,
    #[serde(default)]
    error_message: Option<String>,
    #[serde(default)]
    error_source: Option<serde_json::Value>,
}

impl Client {
    /// Creates a batch job: `POST /v2/batch` with the settings.
    ///
    /// Documentation:
    /// <https://docs.threatconnect.com/en/latest/rest_api/v2/batch_api/batch_api.html>
    ///
    /// # Errors
    ///
    /// Any request error; [`Error::BatchNotEnabled`] when the Batch API is off.
    pub async fn create_batch_job(&self, settings: &JobSettings) -> Result<BatchId, Error> {
        let path = self.path(["v2", "batch"]);
        let body = RequestBody::Json(settings_json(settings)?);
        let answer = self.send(Method::POST, &path, &body, &[]).await?;
        let created: CreatedJob = expect_data(&answer, "POST", &path, "the new batch job")?;
        tracing::debug!(batch_id = %created.batch_id, "batch job created");
        Ok(created.batch_id)
    }

    /// Uploads a job's document: `POST /v2/batch/{id}`, as `application/octet-stream`.
    /// Returns the job's status after the upload (usually Queued).
    ///
    /// Documentation:
    /// <https://docs.threatconnect.com/en/latest/rest_api/v2/batch_api/batch_api.html>
    ///
    /// # Errors
    ///
    /// Any request error; [`Error::Oversize`] or [`Error::TooManyIndicators`] when the
    /// instance refuses the document's size.
    pub async fn upload_batch_document(
        &self,
        batch_id: BatchId,
        document: &JobDocument,
    ) -> Result<JobStatus, Error> {
        let path = self.path(["v2", "batch", &batch_id.to_string()]);
        let body = RequestBody::Octets(document.body().clone());
        let answer = self.send(Method::POST, &path, &body, &[]).await;
        let answer = answer.map_err(|error| too_large(error, document))?;
        let what = format!("the answer to the upload of batch job {batch_id}");
        let status = read_status(&answer, &path, &what)?;
        Ok(status.status)
    }

    /// Creates a job and uploads its document in one request:
    /// `POST /v2/batch/createAndUpload?includeAdditional=true`, multipart with the `config`
    /// and `content` file parts. A small job may be Completed in this very answer. Not for
    /// Delete jobs (the service does not take them here).
    ///
    /// Documentation:
    /// <https://docs.threatconnect.com/en/latest/rest_api/v2/batch_api/batch_api.html>
    ///
    /// # Errors
    ///
    /// As [`Client::upload_batch_document`]; [`Error::InvalidSetting`] for a Delete job.
    pub async fn create_and_upload(
        &self,
        settings: &JobSettings,
        document: &JobDocument,
    ) -> Result<BatchStatus, Error> {
        if settings.action != BatchAction::Create {
            return Err(Error::InvalidSetting {
                field: "action",
                reason: "createAndUpload takes Create jobs only; Delete goes through create \
                         and upload"
                    .to_owned(),
            });
        }
        let path = self
            .path(["v2", "batch", "createAndUpload"])
            .query("includeAdditional", "true");
        let body = RequestBody::ConfigAndContent {
            config: settings_json(settings)?,
            content: document.body().clone(),
        };
        let answer = self.send(Method::POST, &path, &body, &[]).await;
        let answer = answer.map_err(|error| too_large(error, document))?;
        read_status(&answer, &path, "the answer to createAndUpload")
    }

    /// A job's status: `GET /v2/batch/{id}`. Reads both `{"status": "Success", "data":
    /// {"batchStatus": {...}}}` and a bare `{"status": "Running"}`.
    ///
    /// Documentation:
    /// <https://docs.threatconnect.com/en/latest/rest_api/v2/batch_api/batch_api.html>
    ///
    /// # Errors
    ///
    /// Any request error, or [`Error::Decode`] for an answer that does not read.
    pub async fn batch_status(&self, batch_id: BatchId) -> Result<BatchStatus, Error> {
        let path = self.path(["v2", "batch", &batch_id.to_string()]);
        let answer = self
            .send(Method::GET, &path, &RequestBody::Empty, &[])
            .await?;
        let mut status = read_status(
            &answer,
            &path,
            &format!("the status of batch job {batch_id}"),
        )?;
        status.id.get_or_insert(batch_id);
        Ok(status)
    }

    /// Polls a job until it is Completed, waiting as the poll policy says.
    ///
    /// # Errors
    ///
    /// [`Error::JobDeadline`], naming the job, when it has not finished by the deadline; any
    /// request error of a poll.
    pub async fn wait_for_batch(&self, batch_id: BatchId) -> Result<BatchStatus, Error> {
        let poll = &self.inner.poll;
        let started = Instant::now();
        let mut last_status = JobStatus::Queued;
        for wait in poll.wait_sequence() {
            let remaining = poll.deadline().saturating_sub(started.elapsed());
            if remaining.is_zero() {
                break;
            }
            tokio::time::sleep(wait.min(remaining)).await;

            let status = self.batch_status(batch_id).await?;
            tracing::trace!(%batch_id, status = %status.status, "batch job polled");
            if status.status.is_finished() {
                return Ok(status);
            }
            last_status = status.status;
        }
        Err(Error::JobDeadline {
            batch_id,
            waited: started.elapsed(),
            last_status,
        })
    }

    /// A finished job's errors: `GET /v2/batch/{id}/errors`. 404 means none, 400 that the job
    /// is still running. The body is read as gzip when it starts with gzip's magic bytes,
    /// whatever its headers say, and as plain JSON otherwise.
    ///
    /// Documentation:
    /// <https://docs.threatconnect.com/en/latest/rest_api/v2/batch_api/batch_api.html>
    ///
    /// # Errors
    ///
    /// Any request error; [`Error::Decode`] for a body that does not inflate or read.
    pub async fn batch_errors(&self, batch_id: BatchId) -> Result<BatchErrors, Error> {
        let path = self.path(["v2", "batch", &batch_id.to_string(), "errors"]);
        let expected = [StatusCode::NOT_FOUND, StatusCode::BAD_REQUEST];
        let answer = self
            .send(Method::GET, &path, &RequestBody::Empty, &expected)
            .await?;
        match answer.status {
            StatusCode::NOT_FOUND => Ok(BatchErrors::None),
            StatusCode::BAD_REQUEST => Ok(BatchErrors::StillRunning),
            _ => parse_errors(&answer.body, batch_id, &answer.secret_mask).map(BatchErrors::Listed),
        }
    }

    /// Runs one job to its end: createAndUpload (Create jobs, unless turned off) or create
    /// and upload, polls until it is Completed, and fetches its errors when it has any.
    ///
    /// # Errors
    ///
    /// Any error of the steps; [`Error::Oversize`] and [`Error::TooManyIndicators`] are left
    /// to the caller ([`Client::submit`] splits the job on them).
    pub async fn run_job(
        &self,
        settings: &JobSettings,
        document: &JobDocument,
    ) -> Result<JobOutcome, Error> {
        let started = self.start_job(settings, document).await?;
        let batch_id = started.id.ok_or_else(|| Error::Decode {
            what: "the answer to createAndUpload".to_owned(),
            detail: "it names no batch job id".to_owned(),
        })?;

        let finished = if started.status.is_finished() && started.error_count.is_some() {
            tracing::debug!(%batch_id, "batch job completed in its upload answer");
            started
        } else {
            self.wait_for_batch(batch_id).await?
        };

        let error_count = finished.error_count.unwrap_or(0);
        let errors = if error_count > 0 {
            self.finished_job_errors(batch_id).await?
        } else {
            Vec::new()
        };
        let outcome = JobOutcome {
            positions: document.positions(),
            batch_id,
            status: finished.status,
            success_count: finished.success_count.unwrap_or(0),
            error_count,
            unprocess_count: finished.unprocess_count.unwrap_or(0),
            errors,
        };
        tracing::debug!(
            %batch_id,
            indicators = document.indicator_count(),
            success = outcome.success_count,
            errors = outcome.error_count,
            unprocessed = outcome.unprocess_count,
            "batch job finished"
        );
        Ok(outcome)
    }

    async fn start_job(
        &self,
        settings: &JobSettings,
        document: &JobDocument,
    ) -> Result<BatchStatus, Error> {
        if settings.action == BatchAction::Create && self.inner.create_and_upload {
            return self.create_and_upload(settings, document).await;
        }
        let batch_id = self.create_batch_job(settings).await?;
        let status = self.upload_batch_document(batch_id, document).await?;
        Ok(BatchStatus {
            id: Some(batch_id),
            status,
            success_count: None,
            error_count: None,
            unprocess_count: None,
        })
    }

    /// The errors of a Completed job, asking again while the endpoint says it is running.
    async fn finished_job_errors(&self, batch_id: BatchId) -> Result<Vec<BatchError>, Error> {
        let poll = &self.inner.poll;
        let started = Instant::now();
        for wait in poll.wait_sequence() {
            match self.batch_errors(batch_id).await? {
                BatchErrors::Listed(errors) => return Ok(errors),
                BatchErrors::None => return Ok(Vec::new()),
                BatchErrors::StillRunning => {}
            }
            let remaining = poll.deadline().saturating_sub(started.elapsed());
            if remaining.is_zero() {
                break;
            }
            tokio::time::sleep(wait.min(remaining)).await;
        }
        Err(Error::JobDeadline {
            batch_id,
            waited: started.elapsed(),
            last_status: JobStatus::Other("errors not ready".to_owned()),
        })
    }
}

fn settings_json(settings: &JobSettings) -> Result<Bytes, Error> {
    serde_json::to_vec(settings)
        .map(Bytes::from)
        .map_err(|source| Error::Serialize {
            what: "the job settings",
            source,
        })
}

/// A job status answer, in either shape.
fn read_status(
    answer: &Answer,
    path: &crate::path::ApiPath,
    what: &str,
) -> Result<BatchStatus, Error> {
    let envelope = read_envelope::<serde_json::Value>(answer, what)?;
    let bare_status = envelope
        .status
        .as_deref()
        .map(|s| JobStatus::from(s.to_owned()));
    match (envelope.data, bare_status) {
        (None, Some(status)) if !matches!(status, JobStatus::Other(_)) => Ok(BatchStatus {
            id: None,
            status,
            success_count: None,
            error_count: None,
            unprocess_count: None,
        }),
        _ => {
            let data: StatusData = expect_data(answer, "GET", path, what)?;
            Ok(data.batch_status)
        }
    }
}

/// Turns the oversize answers into their own kinds.
fn too_large(error: Error, document: &JobDocument) -> Error {
    let Error::Server {
        status, message, ..
    } = &error
    else {
        return error;
    };
    let (status, message) = (*status, message.clone());
    // 413 is what a proxy in front of the instance answers to a body over its own limit.
    if message.contains("File size greater than allowable limit") || status == 413 {
        let limit = trailing_number(&message);
        return Error::Oversize {
            status,
            message,
            size: document.len_bytes(),
            limit,
        };
    }
    if message.contains("exceed the number of allowed indicators") {
        return Error::TooManyIndicators {
            status,
            message,
            indicators: document.indicator_count(),
        };
    }
    error
}

/// The last number in a message, such as the limit in "... allowable limit of 2000000".
fn trailing_number(message: &str) -> Option<usize> {
    message
        .split(|c: char| !c.is_ascii_digit())
        .rfind(|part| !part.is_empty())
        .and_then(|digits| digits.parse().ok())
}

/// The errors of a job, with the client's secret masked in each reason and source (a server
/// may echo what it was sent).
fn parse_errors(
    body: &[u8],
    batch_id: BatchId,
    secret_mask: &SecretMask,
) -> Result<Vec<BatchError>, Error> {
    let what = format!("the errors of batch job {batch_id}");
    let json = inflate_if_gzip(body).map_err(|error| Error::Decode {
        what: what.clone(),
        detail: format!("the gzip body does not inflate: {error}"),
    })?;

    let mut deserializer = serde_json::Deserializer::from_slice(&json);
    let raw: Vec<RawBatchError> =
        serde_path_to_error::deserialize(&mut deserializer).map_err(|error| Error::Decode {
            what,
            detail: secret_mask.mask(&format!(
                "at `{}`: {} ({})",
                error.path(),
                error.inner(),
                server_message(&json, secret_mask)
            )),
        })?;
    let into_batch_error = |raw| into_batch_error(raw, secret_mask);
    Ok(raw.into_iter().map(into_batch_error).collect())
}

fn into_batch_error(raw: RawBatchError, secret_mask: &SecretMask) -> BatchError {
    let reason = raw.error_reason.or(raw.error_message).unwrap_or_default();
    let source = match raw.error_source {
        Some(serde_json::Value::String(text)) => Some(text),
        Some(serde_json::Value::Null) | None => None,
        Some(other) => Some(other.to_string()),
    };
    let source = source.map(|text| secret_mask.mask(&text));
    BatchError::new(secret_mask.mask(&reason), source)
}

/// The body inflated when it starts with gzip's magic bytes (`1f 8b`), or as it is.
fn inflate_if_gzip(body: &[u8]) -> std::io::Result<Vec<u8>> {
    if !body.starts_with(&[0x1f, 0x8b]) {
        return Ok(body.to_vec());
    }
    let mut inflated = Vec::new();
    GzDecoder::new(body)
        .take(MAX_ERRORS_BYTES)
        .read_to_end(&mut inflated)?;
    Ok(inflated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_reason_gives_its_code_and_the_value_it_names() {
        let error = BatchError::new(
            "Error (0x1005): dl_update.example.net is not valid as a Host.",
            None,
        );

        assert_eq!(error.code, Some(0x1005));
        assert_eq!(error.indicator.as_deref(), Some("dl_update.example.net"));
    }

    #[test]
    fn an_error_source_names_the_indicator_before_the_reason_does() {
        let error = BatchError::new(
            "Error (0x1005): something else entirely",
            Some("198.51.100.7".to_owned()),
        );

        assert_eq!(error.indicator.as_deref(), Some("198.51.100.7"));
    }

    #[test]
    fn a_json_error_source_gives_its_summary() {
        let source = r#"{"summary":"203.0.113.9","type":"Address"}"#.to_owned();

        let error = BatchError::new("Error (0x1001): general failure", Some(source));

        assert_eq!(error.indicator.as_deref(), Some("203.0.113.9"));
        assert_eq!(error.code, Some(0x1001));
    }

    #[test]
    fn a_reason_without_code_or_value_names_nothing() {
        let error = BatchError::new("Something went wrong on the server", None);

        assert_eq!(error.code, None);
        assert_eq!(error.indicator, None);
    }

    fn one_job(count: usize) -> JobDocument {
        use crate::{BatchIndicator, ChunkLimits, Chunker, IndicatorType};
        let mut chunker = Chunker::new(ChunkLimits::default());
        for n in 0..count {
            let indicator = BatchIndicator::new(IndicatorType::Host, format!("h{n}.example"));
            assert!(chunker.push(&indicator).unwrap().is_none());
        }
        chunker.finish().unwrap()
    }

    fn server_error(status: u16, message: &str) -> Error {
        let path = "/api/v2/batch/1".to_owned();
        let message = message.to_owned();
        Error::Server {
            method: "POST",
            path,
            status,
            message,
            attempts: 1,
        }
    }

    #[test]
    fn the_oversize_answers_become_their_own_kinds() {
        let job = one_job(3);
        let refused = "File size greater than allowable limit of 2000000";
        let too_many = "This job would exceed the number of allowed indicators";

        let oversize = too_large(server_error(400, refused), &job);
        let from_proxy = too_large(server_error(413, "Request Entity Too Large"), &job);
        let counted = too_large(server_error(400, too_many), &job);
        let other = too_large(server_error(400, "Invalid owner"), &job);

        let size = job.len_bytes();
        assert!(
            matches!(oversize, Error::Oversize { limit: Some(2_000_000), size: s, .. } if s == size)
        );
        assert!(matches!(
            from_proxy,
            Error::Oversize {
                status: 413,
                limit: None,
                ..
            }
        ));
        assert!(matches!(
            counted,
            Error::TooManyIndicators { indicators: 3, .. }
        ));
        assert!(matches!(other, Error::Server { status: 400, .. }));
    }

    #[test]
    fn the_limit_is_read_from_the_oversize_message() {
        let message = "File size greater than allowable limit of 2000000";

        assert_eq!(trailing_number(message), Some(2_000_000));
    }

    #[test]
    fn both_spellings_of_the_unprocessed_count_are_read() {
        let one: BatchStatus =
            serde_json::from_str(r#"{"status":"Completed","unprocessCount":3}"#).unwrap();
        let other: BatchStatus =
            serde_json::from_str(r#"{"status":"Completed","unprocessedCount":4}"#).unwrap();

        assert_eq!(one.unprocess_count, Some(3));
        assert_eq!(other.unprocess_count, Some(4));
    }

    #[test]
    fn errors_read_alike_plain_and_gzip() {
        use std::io::Write;
        let plain = concat!(
            r#"[{"errorReason":"Error (0x1005): a.example is not valid as a Host.","#,
            r#""errorSource":"a.example"}]"#
        )
        .as_bytes();
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(plain).unwrap();
        let gzip = encoder.finish().unwrap();

        let from_plain = parse_errors(plain, BatchId(1), &SecretMask::default()).unwrap();
        let from_gzip = parse_errors(&gzip, BatchId(1), &SecretMask::default()).unwrap();

        assert_eq!(from_plain, from_gzip);
        assert_eq!(from_plain[0].indicator.as_deref(), Some("a.example"));
    }
}

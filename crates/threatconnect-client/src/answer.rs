//! Reading answers: the `Success` / `Failure` / `Invalid` / `Error` envelopes, bare job
//! statuses such as `{"status": "Running"}`, and bodies that are not JSON at all.

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::client::Answer;
use crate::error::Error;
use crate::path::ApiPath;

/// The envelope around most answers.
#[derive(Debug, Deserialize)]
pub(crate) struct Envelope<T> {
    pub(crate) status: Option<String>,
    pub(crate) data: Option<T>,
}

/// Reads `answer` as an envelope whose `data` is a `T`, naming `what` when it does not read.
pub(crate) fn read_envelope<T: DeserializeOwned>(
    answer: &Answer,
    what: &str,
) -> Result<Envelope<T>, Error> {
    let mut json = serde_json::Deserializer::from_slice(&answer.body);
    serde_path_to_error::deserialize(&mut json).map_err(|error| decode_error(answer, what, &error))
}

/// The `data` of a successful envelope; a `Failure`, `Invalid` or `Error` envelope becomes
/// [`Error::Server`] with the answer's status.
pub(crate) fn expect_data<T: DeserializeOwned>(
    answer: &Answer,
    method: &'static str,
    path: &ApiPath,
    what: &str,
) -> Result<T, Error> {
    let envelope: Envelope<T> = read_envelope(answer, what)?;
    if is_failure(envelope.status.as_deref()) {
        return Err(Error::Server {
            method,
            path: path.path().to_owned(),
            status: answer.status.as_u16(),
            message: answer.message(),
            attempts: 1,
        });
    }
    envelope.data.ok_or_else(|| Error::Decode {
        what: what.to_owned(),
        detail: format!("the answer has no `data` (status {:?})", envelope.status),
    })
}

/// Checks that a success answer without data does not carry a `Failure`, `Invalid` or
/// `Error` envelope. An empty body is a success: the status said so.
pub(crate) fn expect_success(
    answer: &Answer,
    method: &'static str,
    path: &ApiPath,
    what: &str,
) -> Result<(), Error> {
    if answer.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let envelope: Envelope<serde::de::IgnoredAny> = read_envelope(answer, what)?;
    if is_failure(envelope.status.as_deref()) {
        return Err(Error::Server {
            method,
            path: path.path().to_owned(),
            status: answer.status.as_u16(),
            message: answer.message(),
            attempts: 1,
        });
    }
    Ok(())
}

fn is_failure(status: Option<&str>) -> bool {
    matches!(status, Some("Failure" | "Invalid" | "Error"))
}

fn decode_error(
    answer: &Answer,
    what: &str,
    error: &serde_path_to_error::Error<serde_json::Error>,
) -> Error {
    let looks_like_json = answer.body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
        || answer.body.first() == Some(&b'[');
    let detail = if looks_like_json {
        // The decoder's message may quote a value of the answer.
        answer
            .secret_mask
            .mask(&format!("at `{}`: {}", error.path(), error.inner()))
    } else {
        format!("the answer is not JSON: {}", answer.message())
    };
    Error::Decode {
        what: what.to_owned(),
        detail,
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use reqwest::StatusCode;

    use super::*;

    fn answer(status: u16, body: &'static str) -> Answer {
        Answer {
            status: StatusCode::from_u16(status).unwrap(),
            retry_after: None,
            body: Bytes::from_static(body.as_bytes()),
            secret_mask: crate::secret::SecretMask::default(),
        }
    }

    fn path() -> ApiPath {
        ApiPath::new("/api", ["v2", "owners"])
    }

    #[derive(Debug, Deserialize)]
    struct Owners {
        owner: Vec<serde_json::Value>,
    }

    #[test]
    fn a_success_envelope_gives_its_data() {
        let answer = answer(200, r#"{"status":"Success","data":{"owner":[{"id":1}]}}"#);

        let data: Owners = expect_data(&answer, "GET", &path(), "the owners").unwrap();

        assert_eq!(data.owner.len(), 1);
    }

    #[test]
    fn a_failure_envelope_in_a_success_answer_is_a_server_error_with_its_message() {
        let answer = answer(200, r#"{"status":"Failure","message":"Owner not found"}"#);

        let error = expect_data::<Owners>(&answer, "GET", &path(), "the owners").unwrap_err();

        match error {
            Error::Server {
                status, message, ..
            } => {
                assert_eq!(status, 200);
                assert_eq!(message, "Owner not found");
            }
            other => panic!("expected a server error, got {other:?}"),
        }
    }

    #[test]
    fn a_decode_error_names_what_and_where() {
        let answer = answer(200, r#"{"status":"Success","data":{"owner":"not a list"}}"#);

        let error = expect_data::<Owners>(&answer, "GET", &path(), "the owners").unwrap_err();

        let message = error.to_string();
        assert!(message.contains("the owners"), "{message}");
        assert!(message.contains("data.owner"), "{message}");
    }

    #[test]
    fn a_success_without_data_is_checked_for_a_failure_envelope() {
        let success = answer(200, r#"{"status":"Success"}"#);
        let empty = answer(201, "");
        let failure = answer(200, r#"{"status":"Failure","message":"Tag not found"}"#);

        assert!(expect_success(&success, "DELETE", &path(), "the tag").is_ok());
        assert!(expect_success(&empty, "POST", &path(), "the tag").is_ok());
        let error = expect_success(&failure, "DELETE", &path(), "the tag").unwrap_err();
        assert!(error.to_string().ends_with("Tag not found"), "{error}");
    }

    #[test]
    fn a_plain_text_answer_is_a_decode_error_quoting_it() {
        let answer = answer(200, "Service temporarily down");

        let error = expect_data::<Owners>(&answer, "GET", &path(), "the owners").unwrap_err();

        assert!(
            error.to_string().contains("Service temporarily down"),
            "{error}"
        );
    }
}

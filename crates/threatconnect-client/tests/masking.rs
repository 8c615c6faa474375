//! Servers that echo the client's secret back: the token or the secret key must show in no
//! error, no `Debug` form and no cause, masked as `***`.

// These tests need the HTTP client.
#![cfg(feature = "http")]

mod common;

use common::{SECRET_KEY, builder, chain, fast_retries};
use threatconnect_client::{BatchErrors, BatchId, Client, Credentials, Error};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "TOKEN-Qp3Vn8Hj2Kd";

fn token_client(server: &MockServer) -> Client {
    Client::builder(&format!("{}/api", server.uri()), Credentials::token(TOKEN))
        .proxy_from_env(false)
        .retry_policy(fast_retries())
        .build()
        .unwrap()
}

async fn answering(server: &MockServer, status: u16, body: String) {
    Mock::given(path("/api/v2/owners"))
        .respond_with(ResponseTemplate::new(status).set_body_string(body))
        .mount(server)
        .await;
}

/// Asserts that `shown` holds neither `secret` nor its start, and holds `***`.
fn assert_masked(shown: &str, secret: &str) {
    assert!(!shown.contains(secret), "the secret shows in: {shown}");
    assert!(
        !shown.contains(&secret[..8]),
        "part of the secret shows in: {shown}"
    );
    assert!(
        shown.contains("***"),
        "the secret is not masked in: {shown}"
    );
}

fn everything_shown(error: &Error) -> String {
    format!("{error} | {error:?} | {error:#?} | {}", chain(error))
}

#[tokio::test]
async fn a_401_echoing_the_token_put_it_in_the_auth_error() {
    // 401 `Unauthorized token TOKEN-...`: the message went into the error as it was.
    let server = MockServer::start().await;
    answering(&server, 401, format!("Unauthorized token {TOKEN}")).await;

    let error = token_client(&server).owners().await.unwrap_err();

    assert!(
        matches!(error, Error::Auth { status: 401, .. }),
        "{error:?}"
    );
    assert_masked(&everything_shown(&error), TOKEN);
}

#[tokio::test]
async fn a_500_with_the_token_at_the_cut_of_its_message_showed_its_start() {
    // A long json message with the token where the 500-character cut falls.
    let message = format!("{} {TOKEN} failed", "x".repeat(495));
    let body = serde_json::json!({ "status": "Error", "message": message }).to_string();
    let server = MockServer::start().await;
    answering(&server, 500, body).await;

    let error = token_client(&server).owners().await.unwrap_err();

    assert!(
        matches!(error, Error::Server { status: 500, .. }),
        "{error:?}"
    );
    assert_masked(&everything_shown(&error), TOKEN);
}

#[tokio::test]
async fn a_plain_text_500_echoing_the_secret_key_showed_it() {
    let body = format!("{}<p>key {SECRET_KEY} rejected</p>", "y".repeat(490));
    let server = MockServer::start().await;
    answering(&server, 500, body).await;

    let error = builder(&server)
        .build()
        .unwrap()
        .owners()
        .await
        .unwrap_err();

    assert_masked(&everything_shown(&error), SECRET_KEY);
}

#[tokio::test]
async fn a_success_answer_that_is_not_json_echoing_the_token_showed_it() {
    let server = MockServer::start().await;
    answering(&server, 200, format!("<html>session {TOKEN}</html>")).await;

    let error = token_client(&server).owners().await.unwrap_err();

    assert!(matches!(error, Error::Decode { .. }), "{error:?}");
    assert_masked(&everything_shown(&error), TOKEN);
}

#[tokio::test]
async fn batch_errors_echoing_the_token_showed_it_in_reason_and_source() {
    let errors = serde_json::json!([{
        "errorReason": format!("Error (0x1001): token {TOKEN} may not write here"),
        "errorSource": format!("{{\"summary\":\"{TOKEN}\"}}"),
    }]);
    let server = MockServer::start().await;
    Mock::given(path("/api/v2/batch/42/errors"))
        .respond_with(ResponseTemplate::new(200).set_body_string(errors.to_string()))
        .mount(&server)
        .await;

    let errors = token_client(&server)
        .batch_errors(BatchId(42))
        .await
        .unwrap();

    let BatchErrors::Listed(errors) = errors else {
        panic!("expected listed errors, got {errors:?}");
    };
    let shown = format!("{errors:?} {:?}", errors[0].reason);
    assert_masked(&shown, TOKEN);
    assert!(
        errors[0].reason.contains("token *** may not write"),
        "{shown}"
    );
}

#[tokio::test]
async fn batch_errors_that_do_not_read_quoted_the_token() {
    let body = format!(r#"{{"message":"{TOKEN} is not allowed"}}"#);
    let server = MockServer::start().await;
    Mock::given(path("/api/v2/batch/42/errors"))
        .respond_with(ResponseTemplate::new(200).set_body_string(body))
        .mount(&server)
        .await;

    let error = token_client(&server)
        .batch_errors(BatchId(42))
        .await
        .unwrap_err();

    assert!(matches!(error, Error::Decode { .. }), "{error:?}");
    assert_masked(&everything_shown(&error), TOKEN);
}

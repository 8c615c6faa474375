//! Signing, token auth, and the auth failures, against a wiremock server on 127.0.0.1.

// These tests need the HTTP client.
#![cfg(feature = "http")]

mod common;

use common::{
    ACCESS_ID, SECRET_KEY, TickingClock, answer, assert_signed, builder, chain, client,
    path_and_query,
};
use threatconnect_client::{Client, Credentials, Error, IndicatorType, RetryPolicy};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn the_path_received_is_the_path_signed_percent_encoding_included() {
    // F09: a CIDR block looked up by value, in an owner whose name holds a space.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404).set_body_string("not found"))
        .mount(&server)
        .await;

    let found = client(&server)
        .indicator("Example Org", IndicatorType::Cidr, "198.51.100.0/24")
        .await;

    assert_eq!(found.unwrap(), None);
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        path_and_query(&requests[0]),
        "/api/v2/indicators/cidrBlocks/198.51.100.0%2F24?owner=Example%20Org&includeAdditional=true"
    );
    assert_signed(&requests[0]);
}

#[tokio::test]
async fn every_attempt_is_signed_anew_with_its_own_timestamp() {
    let server = MockServer::start().await;
    Mock::given(path("/api/v2/owners"))
        .respond_with(ResponseTemplate::new(500).set_body_string("busy"))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/v2/owners"))
        .respond_with(ResponseTemplate::new(200).set_body_string(answer("owners")))
        .mount(&server)
        .await;
    let client = builder(&server)
        .clock(TickingClock::starting_at(1_700_000_000))
        .build()
        .unwrap();

    client.owners().await.unwrap();

    let requests = server.received_requests().await.unwrap();
    let timestamps: Vec<i64> = requests.iter().map(assert_signed).collect();
    assert_eq!(timestamps, [1_700_000_000, 1_700_000_001, 1_700_000_002]);
}

#[tokio::test]
async fn token_auth_sends_the_token_scheme() {
    let server = MockServer::start().await;
    Mock::given(path("/api/v2/owners"))
        .respond_with(ResponseTemplate::new(200).set_body_string(answer("owners")))
        .mount(&server)
        .await;
    let client = Client::builder(
        &format!("{}/api", server.uri()),
        Credentials::token("tok-example"),
    )
    .proxy_from_env(false)
    .build()
    .unwrap();

    client.owners().await.unwrap();

    let requests = server.received_requests().await.unwrap();
    assert_eq!(
        requests[0].headers.get("Authorization").unwrap(),
        "TC-Token tok-example"
    );
    assert!(requests[0].headers.get("Timestamp").is_none());
}

#[tokio::test]
async fn clock_skew_is_its_own_error_that_says_to_fix_the_clock() {
    let server = MockServer::start().await;
    Mock::given(path("/api/v2/owners"))
        .respond_with(ResponseTemplate::new(401).set_body_string(answer("clock-skew")))
        .mount(&server)
        .await;

    let error = client(&server).owners().await.unwrap_err();

    assert!(
        matches!(error, Error::ClockSkew { status: 401, .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("fix this machine's clock"),
        "{error}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_refused_signature_names_the_access_id_and_never_the_key() {
    let server = MockServer::start().await;
    Mock::given(path("/api/v2/owners"))
        .respond_with(ResponseTemplate::new(401).set_body_string(answer("signature-mismatch")))
        .mount(&server)
        .await;

    let error = client(&server).owners().await.unwrap_err();

    let printed = format!("{} {error:?}", chain(&error));
    assert!(
        matches!(error, Error::Auth { status: 401, .. }),
        "{error:?}"
    );
    assert!(printed.contains(ACCESS_ID), "{printed}");
    assert!(!printed.contains(SECRET_KEY), "{printed}");
}

#[tokio::test]
async fn access_denied_as_plain_text_is_an_auth_error() {
    let server = MockServer::start().await;
    Mock::given(path("/api/v2/owners"))
        .respond_with(ResponseTemplate::new(403).set_body_string("Access Denied"))
        .mount(&server)
        .await;

    let error = client(&server).owners().await.unwrap_err();

    match error {
        Error::Auth {
            status, message, ..
        } => {
            assert_eq!(status, 403);
            assert_eq!(message, "Access Denied");
        }
        other => panic!("expected an auth error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_token_refused_never_prints_the_token() {
    let server = MockServer::start().await;
    Mock::given(path("/api/v2/owners"))
        .respond_with(ResponseTemplate::new(401).set_body_string("Unauthorized"))
        .mount(&server)
        .await;
    let client = Client::builder(
        &format!("{}/api", server.uri()),
        Credentials::token("tok-secret-example"),
    )
    .proxy_from_env(false)
    .build()
    .unwrap();

    let error = client.owners().await.unwrap_err();

    let printed = format!("{} {error:?} {client:?}", chain(&error));
    assert!(printed.contains("the API token"), "{printed}");
    assert!(!printed.contains("tok-secret-example"), "{printed}");
}

#[tokio::test]
async fn a_connection_error_carries_its_attempts_and_no_url() {
    let unused = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = unused.local_addr().unwrap();
    drop(unused);
    let client = Client::builder(
        &format!("http://{address}/api"),
        Credentials::hmac(ACCESS_ID, SECRET_KEY),
    )
    .proxy_from_env(false)
    .retry_policy(common::fast_retries().max_attempts(3))
    .build()
    .unwrap();

    let error = client.owners().await.unwrap_err();

    let printed = format!("{} {error:?}", chain(&error));
    assert!(
        matches!(error, Error::Transport { attempts: 3, .. }),
        "{error:?}"
    );
    assert!(!printed.contains(&format!("http://{address}")), "{printed}");
    assert!(!printed.contains(SECRET_KEY), "{printed}");
}

#[test]
fn plain_http_is_refused_for_a_host_that_is_not_loopback() {
    let credentials = || Credentials::hmac(ACCESS_ID, SECRET_KEY);

    let remote = Client::builder("http://tc.example/api", credentials()).build();
    let allowed = Client::builder("http://tc.example/api", credentials())
        .allow_plain_http(true)
        .build();
    let loopback = Client::builder("http://127.0.0.1:9/api", credentials()).build();
    let loopback_v6 = Client::builder("http://[::1]:9/api", credentials()).build();
    let with_user = Client::builder("https://user:pw@tc.example/api", credentials()).build();

    assert!(matches!(
        remote,
        Err(Error::InvalidSetting {
            field: "base_url",
            ..
        })
    ));
    assert!(allowed.is_ok());
    assert!(loopback.is_ok());
    assert!(loopback_v6.is_ok());
    assert!(matches!(
        with_user,
        Err(Error::InvalidSetting {
            field: "base_url",
            ..
        })
    ));
}

#[test]
fn an_empty_extra_ca_file_stops_the_build_naming_the_file() {
    // F12 (a), through the builder: nothing is sent when the CA file holds no certificate.
    let error = Client::builder("https://tc.example/api", Credentials::token("t"))
        .extra_ca_file(common::fixture("ca/empty.pem"))
        .build()
        .unwrap_err();

    let message = error.to_string();
    assert!(message.contains("empty.pem"), "{message}");
    assert!(message.contains("no certificate was found"), "{message}");
}

#[test]
fn a_valid_extra_ca_file_builds_a_client() {
    let client = Client::builder("https://tc.example/api", Credentials::token("t"))
        .extra_ca_file(common::fixture("ca/two-with-text.pem"))
        .retry_policy(RetryPolicy::none())
        .build();

    assert!(client.is_ok(), "{client:?}");
}

//! Owners, attribute types, the batch feature probe, indicator listing, and retries.

// These tests need the HTTP client.
#![cfg(feature = "http")]

mod common;

use std::time::{Duration, SystemTime};

use common::{answer, assert_signed, builder, client, path_and_query};
use futures::TryStreamExt;
use threatconnect_client::{BatchFeature, Error, IndicatorQuery, IndicatorType};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn owners_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/owners"))
        .respond_with(ResponseTemplate::new(200).set_body_string(answer("owners")))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn owners_are_listed() {
    let server = owners_server().await;

    let owners = client(&server).owners().await.unwrap();

    let names: Vec<&str> = owners.iter().map(|owner| owner.name.as_str()).collect();
    assert_eq!(names, ["Example Org", "Common Community"]);
    assert_eq!(owners[1].kind.as_deref(), Some("Community"));
    assert_signed(&server.received_requests().await.unwrap()[0]);
}

#[tokio::test]
async fn attribute_types_are_read_page_after_page_and_the_missing_ones_named() {
    let server = MockServer::start().await;
    let first_page: Vec<String> = (0..1_000)
        .map(|n| format!(r#"{{"id":{n},"name":"Type {n}"}}"#))
        .collect();
    Mock::given(path("/api/v3/attributeTypes"))
        .and(query_param("resultStart", "0"))
        .respond_with(ResponseTemplate::new(200).set_body_string(format!(
            r#"{{"data":[{}],"status":"Success"}}"#,
            first_page.join(",")
        )))
        .mount(&server)
        .await;
    Mock::given(path("/api/v3/attributeTypes"))
        .and(query_param("resultStart", "1000"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string(r#"{"data":[{"id":5001,"name":"External Score","maxSize":500}]}"#),
        )
        .mount(&server)
        .await;

    let client = client(&server);
    let all = client.attribute_types().await.unwrap();
    let missing = client
        .missing_attribute_types(&["External Score", "First Seen"])
        .await
        .unwrap();

    assert_eq!(all.len(), 1_001);
    assert_eq!(all[1_000].max_size, Some(500));
    assert_eq!(missing, ["First Seen"]);
}

#[tokio::test]
async fn the_attribute_types_path_can_be_changed_and_v2_answers_read() {
    let server = MockServer::start().await;
    Mock::given(path("/api/v2/types/attributeTypes"))
        .respond_with(ResponseTemplate::new(200).set_body_string(answer("attribute-types-v2")))
        .mount(&server)
        .await;
    let client = builder(&server)
        .attribute_types_path("/v2/types/attributeTypes")
        .build()
        .unwrap();

    let all = client.attribute_types().await.unwrap();

    assert_eq!(all[0].name, "Last Seen");
}

/// What the probe finds when the server answers `status` and `body`, and how many requests
/// it sent.
async fn probe_answering(status: u16, body: &str) -> (Result<BatchFeature, Error>, usize) {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/batch/9223372036854775807"))
        .respond_with(ResponseTemplate::new(status).set_body_string(body))
        .mount(&server)
        .await;
    let feature = client(&server).probe_batch_feature().await;
    (feature, server.received_requests().await.unwrap().len())
}

#[tokio::test]
async fn the_batch_probe_reads_404_as_enabled() {
    let (feature, _) = probe_answering(404, r#"{"status":"Failure","message":"Not found"}"#).await;

    assert_eq!(feature.unwrap(), BatchFeature::Enabled);
}

#[tokio::test]
async fn the_batch_probe_reads_the_503_answer_as_disabled_without_retrying() {
    let (feature, requests) = probe_answering(503, &answer("batch-not-enabled")).await;

    let BatchFeature::Disabled { message } = feature.unwrap() else {
        panic!("not disabled")
    };
    assert!(
        message.starts_with("Batch job api is not available"),
        "{message}"
    );
    assert_eq!(requests, 1);
}

#[tokio::test]
async fn the_batch_probe_calls_any_other_answer_unknown() {
    let (feature, _) = probe_answering(400, "Bad request").await;

    let expected = BatchFeature::Unknown {
        status: 400,
        message: "Bad request".to_owned(),
    };
    assert_eq!(feature.unwrap(), expected);
}

fn address_page(range: std::ops::Range<u32>) -> String {
    let items: Vec<serde_json::Value> = range
        .map(|n| {
            serde_json::json!({
                "id": n, "ownerName": "Example Org", "dateAdded": "2024-01-02T03:04:05Z",
                "rating": 3.0, "confidence": 50, "active": true, "ip": format!("192.0.2.{n}")
            })
        })
        .collect();
    serde_json::json!({"status": "Success", "data": {"resultCount": 5, "address": items}})
        .to_string()
}

#[tokio::test]
async fn indicators_are_paged_until_a_short_page() {
    let server = MockServer::start().await;
    for (start, range) in [("0", 1..3), ("2", 3..5), ("4", 5..6)] {
        Mock::given(path("/api/v2/tags/ET%20Reputation/indicators/addresses"))
            .and(query_param("resultStart", start))
            .respond_with(ResponseTemplate::new(200).set_body_string(address_page(range)))
            .mount(&server)
            .await;
    }
    let query = IndicatorQuery::new("Example Org", IndicatorType::Address)
        .tag("ET Reputation")
        .include_additional(true)
        .include_inactive(true)
        .page_size(2);

    let indicators: Vec<_> = client(&server)
        .indicators(query)
        .try_collect()
        .await
        .unwrap();

    let values: Vec<&str> = indicators.iter().map(|i| i.summary.as_str()).collect();
    assert_eq!(
        values,
        [
            "192.0.2.1",
            "192.0.2.2",
            "192.0.2.3",
            "192.0.2.4",
            "192.0.2.5"
        ]
    );
    assert_eq!(indicators[0].active, Some(true));
    assert_eq!(indicators[0].confidence, Some(50));
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 3);
    assert_eq!(
        path_and_query(&requests[0]),
        "/api/v2/tags/ET%20Reputation/indicators/addresses?owner=Example%20Org\
         &includeAdditional=true&filters=active%3Dtrue,active%3Dfalse&orParams=true\
         &resultStart=0&resultLimit=2"
    );
    requests.iter().for_each(|request| {
        assert_signed(request);
    });
}

#[tokio::test]
async fn a_failed_page_ends_the_indicator_stream_with_its_error() {
    let server = MockServer::start().await;
    Mock::given(path("/api/v2/indicators/hosts"))
        .respond_with(ResponseTemplate::new(403).set_body_string(answer("owner-not-accessible")))
        .mount(&server)
        .await;
    let query = IndicatorQuery::new("Example Org", IndicatorType::Host);

    let result: Result<Vec<_>, _> = client(&server).indicators(query).try_collect().await;

    match result.unwrap_err() {
        Error::Server {
            status, message, ..
        } => {
            assert_eq!(status, 403);
            assert_eq!(message, "Owner Example Org is not accessible");
        }
        other => panic!("expected a server error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_500_then_success_is_retried() {
    let server = MockServer::start().await;
    Mock::given(path("/api/v2/owners"))
        .respond_with(ResponseTemplate::new(500).set_body_string("Internal Server Error"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/v2/owners"))
        .respond_with(ResponseTemplate::new(200).set_body_string(answer("owners")))
        .mount(&server)
        .await;

    let owners = client(&server).owners().await.unwrap();

    assert_eq!(owners.len(), 2);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn the_last_failure_keeps_status_message_and_attempts() {
    let server = MockServer::start().await;
    Mock::given(path("/api/v2/owners"))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>Bad Gateway</html>"))
        .mount(&server)
        .await;
    let client = builder(&server)
        .retry_policy(common::fast_retries().max_attempts(3))
        .build()
        .unwrap();

    let error = client.owners().await.unwrap_err();

    match error {
        Error::Server {
            status,
            message,
            attempts,
            ..
        } => {
            assert_eq!((status, attempts), (502, 3));
            assert_eq!(message, "<html>Bad Gateway</html>");
        }
        other => panic!("expected a server error, got {other:?}"),
    }
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_404_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(path("/api/v2/owners"))
        .respond_with(ResponseTemplate::new(404).set_body_string("Not Found"))
        .mount(&server)
        .await;

    let error = client(&server).owners().await.unwrap_err();

    assert!(
        matches!(
            error,
            Error::Server {
                status: 404,
                attempts: 1,
                ..
            }
        ),
        "{error:?}"
    );
}

async fn rate_limited_once(retry_after: String) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(path("/api/v2/owners"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", retry_after.as_str()))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/v2/owners"))
        .respond_with(ResponseTemplate::new(200).set_body_string(answer("owners")))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_429_with_retry_after_in_seconds_is_retried() {
    // The policy caps Retry-After at 20 ms so that the test stays fast.
    let server = rate_limited_once("2".to_owned()).await;

    let owners = client(&server).owners().await.unwrap();

    assert_eq!(owners.len(), 2);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_429_with_retry_after_as_a_date_is_retried() {
    let in_two_seconds = SystemTime::now() + Duration::from_secs(2);
    let server = rate_limited_once(httpdate::fmt_http_date(in_two_seconds)).await;

    let owners = client(&server).owners().await.unwrap();

    assert_eq!(owners.len(), 2);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

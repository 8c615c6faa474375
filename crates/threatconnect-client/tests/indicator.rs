//! One indicator's endpoints: get, update ratings, delete, tags and attributes, with the
//! errors each can meet, against a wiremock server on 127.0.0.1.

// These tests need the HTTP client.
#![cfg(feature = "http")]

mod common;

use chrono::{TimeZone, Utc};
use common::{ACCESS_ID, answer, assert_signed, builder, client, path_and_query};
use threatconnect_client::{
    Attribute, AttributeUpdate, Confidence, Error, IndicatorType, IndicatorUpdate, Rating,
};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const OWNER: &str = "Example Org";

/// A server answering `verb` on `at` with `status` and the fixture `name`.
async fn serving(verb: &str, at: &str, status: u16, name: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method(verb))
        .and(path(at))
        .and(query_param("owner", OWNER))
        .respond_with(ResponseTemplate::new(status).set_body_string(answer(name)))
        .mount(&server)
        .await;
    server
}

async fn only_request(server: &MockServer) -> Request {
    let mut requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1, "one request expected");
    requests.remove(0)
}

fn body_text(request: &Request) -> &str {
    std::str::from_utf8(&request.body).unwrap()
}

fn update_4_80() -> IndicatorUpdate {
    IndicatorUpdate::new()
        .rating(Rating::new(4).unwrap())
        .confidence(Confidence::new(80).unwrap())
}

#[tokio::test]
async fn one_indicator_is_read_from_an_answer_shaped_as_the_documentation_shows() {
    let server = serving(
        "GET",
        "/api/v2/indicators/hosts/bad.example",
        200,
        "host-single",
    )
    .await;

    let host = client(&server)
        .indicator(OWNER, IndicatorType::Host, "bad.example")
        .await
        .unwrap()
        .expect("found");

    assert_eq!((host.id, host.summary.as_str()), (12_345, "bad.example"));
    assert_eq!(host.owner_name.as_deref(), Some(OWNER));
    assert_eq!(host.active, Some(true));
    let modified = Utc.with_ymd_and_hms(2024, 7, 13, 17, 50, 25).unwrap();
    assert_eq!(host.last_modified, Some(modified));
}

#[tokio::test]
async fn ratings_are_updated_with_a_signed_put_of_rating_and_confidence() {
    let server = serving(
        "PUT",
        "/api/v2/indicators/cidrBlocks/198.51.100.0%2F24",
        200,
        "cidr-updated",
    )
    .await;

    let updated = client(&server)
        .update_indicator(OWNER, IndicatorType::Cidr, "198.51.100.0/24", update_4_80())
        .await
        .unwrap();

    assert_eq!(updated.id, 54_321);
    assert_eq!(updated.summary, "198.51.100.0/24");
    assert_eq!((updated.rating, updated.confidence), (Some(4.0), Some(80)));
    assert_eq!(updated.owner_name.as_deref(), Some(OWNER));
    let request = only_request(&server).await;
    assert_eq!(body_text(&request), r#"{"rating":4.0,"confidence":80}"#);
    assert_eq!(
        request.headers.get("Content-Type").unwrap(),
        "application/json"
    );
    assert_signed(&request);
}

#[tokio::test]
async fn an_update_may_set_only_the_confidence() {
    let server = serving(
        "PUT",
        "/api/v2/indicators/hosts/bad.example",
        200,
        "host-single",
    )
    .await;
    let zero = IndicatorUpdate::new().confidence(Confidence::new(0).unwrap());

    client(&server)
        .update_indicator(OWNER, IndicatorType::Host, "bad.example", zero)
        .await
        .unwrap();

    assert_eq!(
        body_text(&only_request(&server).await),
        r#"{"confidence":0}"#
    );
}

#[tokio::test]
async fn an_update_that_changes_nothing_is_refused_without_a_request() {
    let server = serving(
        "PUT",
        "/api/v2/indicators/hosts/bad.example",
        200,
        "host-single",
    )
    .await;

    let error = client(&server)
        .update_indicator(
            OWNER,
            IndicatorType::Host,
            "bad.example",
            IndicatorUpdate::new(),
        )
        .await
        .unwrap_err();

    assert!(matches!(error, Error::InvalidInput { .. }), "{error:?}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn updating_an_indicator_the_owner_lacks_is_a_404_with_its_message() {
    let at = "/api/v2/indicators/hosts/gone.example";
    let server = serving("PUT", at, 404, "indicator-not-found").await;

    let error = client(&server)
        .update_indicator(OWNER, IndicatorType::Host, "gone.example", update_4_80())
        .await
        .unwrap_err();

    assert_eq!(error.status(), Some(404));
    assert!(
        error
            .to_string()
            .ends_with("The requested indicator could not be found"),
        "{error}"
    );
}

#[tokio::test]
async fn an_update_answered_with_something_else_than_json_does_not_read() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>ok</html>"))
        .mount(&server)
        .await;

    let error = client(&server)
        .update_indicator(OWNER, IndicatorType::Host, "bad.example", update_4_80())
        .await
        .unwrap_err();

    assert!(matches!(error, Error::Decode { .. }), "{error:?}");
    assert!(error.to_string().contains("<html>ok</html>"), "{error}");
}

#[tokio::test]
async fn an_indicator_is_deleted() {
    let server = serving(
        "DELETE",
        "/api/v2/indicators/addresses/192.0.2.7",
        200,
        "success",
    )
    .await;

    let deleted = client(&server)
        .delete_indicator(OWNER, IndicatorType::Address, "192.0.2.7")
        .await
        .unwrap();

    assert!(deleted);
    let request = only_request(&server).await;
    assert_eq!(
        path_and_query(&request),
        "/api/v2/indicators/addresses/192.0.2.7?owner=Example%20Org"
    );
    assert_signed(&request);
}

#[tokio::test]
async fn deleting_an_indicator_that_is_not_there_is_false() {
    let at = "/api/v2/indicators/addresses/192.0.2.8";
    let server = serving("DELETE", at, 404, "indicator-not-found").await;

    let deleted = client(&server)
        .delete_indicator(OWNER, IndicatorType::Address, "192.0.2.8")
        .await
        .unwrap();

    assert!(!deleted);
}

#[tokio::test]
async fn a_404_that_refuses_the_signature_is_an_auth_error_not_a_missing_indicator() {
    let at = "/api/v2/indicators/addresses/192.0.2.8";
    let server = serving("DELETE", at, 404, "signature-mismatch").await;

    let error = client(&server)
        .delete_indicator(OWNER, IndicatorType::Address, "192.0.2.8")
        .await
        .unwrap_err();

    match error {
        Error::Auth { principal, .. } => assert_eq!(principal, format!("access id {ACCESS_ID}")),
        other => panic!("expected an auth error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_deletion_answered_with_a_failure_envelope_is_a_server_error() {
    let at = "/api/v2/indicators/addresses/192.0.2.7";
    let server = serving("DELETE", at, 200, "owner-not-accessible").await;

    let error = client(&server)
        .delete_indicator(OWNER, IndicatorType::Address, "192.0.2.7")
        .await
        .unwrap_err();

    assert!(
        matches!(&error, Error::Server { status: 200, message, .. }
            if message == "Owner Example Org is not accessible"),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_owner_the_credentials_cannot_see_is_a_403_naming_it() {
    let at = "/api/v2/indicators/hosts/bad.example/tags";
    let server = serving("GET", at, 403, "owner-not-accessible").await;

    let error = client(&server)
        .indicator_tags(OWNER, IndicatorType::Host, "bad.example")
        .await
        .unwrap_err();

    assert_eq!(error.status(), Some(403));
    assert!(
        error
            .to_string()
            .contains("Owner Example Org is not accessible")
    );
}

#[tokio::test]
async fn a_clock_the_server_refuses_is_a_clock_error_on_these_endpoints_too() {
    let at = "/api/v2/indicators/hosts/bad.example/tags/ET";
    let server = serving("POST", at, 401, "clock-skew").await;

    let error = client(&server)
        .add_indicator_tag(OWNER, IndicatorType::Host, "bad.example", "ET")
        .await
        .unwrap_err();

    assert!(
        matches!(error, Error::ClockSkew { status: 401, .. }),
        "{error:?}"
    );
    assert!(error.is_fatal_for_run());
}

#[tokio::test]
async fn a_put_that_meets_a_500_is_sent_again_with_its_body_and_a_fresh_signature() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(500).set_body_string("busy"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200).set_body_string(answer("host-single")))
        .mount(&server)
        .await;

    client(&server)
        .update_indicator(OWNER, IndicatorType::Host, "bad.example", update_4_80())
        .await
        .unwrap();

    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    for request in &requests {
        assert_eq!(body_text(request), r#"{"rating":4.0,"confidence":80}"#);
        assert_signed(request);
    }
}

#[tokio::test]
async fn a_lasting_503_ends_with_the_attempts_made() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(503).set_body_string("Service Unavailable"))
        .mount(&server)
        .await;
    let client = builder(&server)
        .retry_policy(common::fast_retries().max_attempts(2))
        .build()
        .unwrap();

    let error = client
        .delete_indicator_attribute(OWNER, IndicatorType::Host, "bad.example", 7)
        .await
        .unwrap_err();

    assert!(
        matches!(
            error,
            Error::Server {
                status: 503,
                attempts: 2,
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn the_tags_of_an_indicator_are_listed() {
    let at = "/api/v2/indicators/hosts/bad.example/tags";
    let server = serving("GET", at, 200, "tags-two").await;

    let tags = client(&server)
        .indicator_tags(OWNER, IndicatorType::Host, "bad.example")
        .await
        .unwrap();

    let names: Vec<&str> = tags.iter().map(|tag| tag.name.as_str()).collect();
    assert_eq!(names, ["ET Reputation", "Nation State/APT"]);
    assert_eq!(
        path_and_query(&only_request(&server).await),
        "/api/v2/indicators/hosts/bad.example/tags?owner=Example%20Org\
         &resultStart=0&resultLimit=1000"
    );
}

#[tokio::test]
async fn a_tag_is_added_with_its_name_as_one_encoded_segment() {
    let at = "/api/v2/indicators/hosts/bad.example/tags/Nation%20State%2FAPT";
    let server = serving("POST", at, 201, "success").await;

    client(&server)
        .add_indicator_tag(
            OWNER,
            IndicatorType::Host,
            "bad.example",
            "Nation State/APT",
        )
        .await
        .unwrap();

    let request = only_request(&server).await;
    assert!(request.body.is_empty());
    assert_signed(&request);
}

#[tokio::test]
async fn a_tag_name_over_128_characters_is_refused_without_a_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_string(answer("success")))
        .mount(&server)
        .await;
    let client = client(&server);
    let longest = "t".repeat(128);

    client
        .add_indicator_tag(OWNER, IndicatorType::Host, "bad.example", &longest)
        .await
        .unwrap();
    let error = client
        .add_indicator_tag(OWNER, IndicatorType::Host, "bad.example", &"t".repeat(129))
        .await
        .unwrap_err();
    let empty = client
        .remove_indicator_tag(OWNER, IndicatorType::Host, "bad.example", "")
        .await
        .unwrap_err();

    assert!(
        matches!(
            error,
            Error::InvalidInput {
                what: "tag name",
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        matches!(
            empty,
            Error::InvalidInput {
                what: "tag name",
                ..
            }
        ),
        "{empty:?}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_tag_is_removed_and_removing_it_again_is_false() {
    let server = MockServer::start().await;
    let at = "/api/v2/indicators/hosts/bad.example/tags/ET%20Reputation";
    Mock::given(method("DELETE"))
        .and(path(at))
        .respond_with(ResponseTemplate::new(200).set_body_string(answer("success")))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(at))
        .respond_with(ResponseTemplate::new(404).set_body_string(answer("indicator-not-found")))
        .mount(&server)
        .await;
    let client = client(&server);

    let first = client
        .remove_indicator_tag(OWNER, IndicatorType::Host, "bad.example", "ET Reputation")
        .await
        .unwrap();
    let second = client
        .remove_indicator_tag(OWNER, IndicatorType::Host, "bad.example", "ET Reputation")
        .await
        .unwrap();

    assert_eq!((first, second), (true, false));
}

fn attribute_page(ids: std::ops::Range<i64>) -> String {
    let items: Vec<serde_json::Value> = ids
        .map(|id| {
            serde_json::json!({
                "id": id.to_string(), "type": "External Score", "value": format!("{id}"),
                "displayed": true, "dateAdded": "2024-07-13T17:50:17"
            })
        })
        .collect();
    serde_json::json!({"status": "Success", "data": {"attribute": items}}).to_string()
}

#[tokio::test]
async fn the_attributes_of_an_indicator_are_read_page_after_page() {
    let server = MockServer::start().await;
    let at = "/api/v2/indicators/addresses/192.0.2.7/attributes";
    for (start, ids) in [("0", 0..1_000), ("1000", 1_000..1_001)] {
        Mock::given(method("GET"))
            .and(path(at))
            .and(query_param("resultStart", start))
            .respond_with(ResponseTemplate::new(200).set_body_string(attribute_page(ids)))
            .mount(&server)
            .await;
    }

    let attributes = client(&server)
        .indicator_attributes(OWNER, IndicatorType::Address, "192.0.2.7")
        .await
        .unwrap();

    assert_eq!(attributes.len(), 1_001);
    assert_eq!(attributes[1_000].id, 1_000);
    assert_eq!(attributes[1_000].kind, "External Score");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn an_attribute_is_added_as_type_value_and_displayed() {
    let at = "/api/v2/indicators/hosts/bad.example/attributes";
    let server = serving("POST", at, 201, "attribute-created").await;
    let attribute = Attribute {
        kind: "External Score".to_owned(),
        value: "88".to_owned(),
        displayed: true,
    };

    let added = client(&server)
        .add_indicator_attribute(OWNER, IndicatorType::Host, "bad.example", &attribute)
        .await
        .unwrap();

    assert_eq!((added.id, added.value.as_str()), (54_321, "88"));
    let request = only_request(&server).await;
    assert_eq!(
        body_text(&request),
        r#"{"type":"External Score","value":"88","displayed":true}"#
    );
    assert_signed(&request);
}

#[tokio::test]
async fn an_attribute_of_a_type_the_instance_lacks_is_refused_with_the_servers_message() {
    let at = "/api/v2/indicators/hosts/bad.example/attributes";
    let server = serving("POST", at, 400, "attribute-type-unknown").await;
    let attribute = Attribute {
        kind: "External Score".to_owned(),
        value: "88".to_owned(),
        displayed: true,
    };

    let error = client(&server)
        .add_indicator_attribute(OWNER, IndicatorType::Host, "bad.example", &attribute)
        .await
        .unwrap_err();

    assert!(
        matches!(&error, Error::Server { status: 400, message, attempts: 1, .. }
            if message == "Invalid attribute type: External Score"),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_attribute_is_updated_by_its_id() {
    let at = "/api/v2/indicators/hosts/bad.example/attributes/54321";
    let server = serving("PUT", at, 200, "attribute-updated").await;

    let updated = client(&server)
        .update_indicator_attribute(
            OWNER,
            IndicatorType::Host,
            "bad.example",
            54_321,
            &AttributeUpdate::new("90").displayed(false),
        )
        .await
        .unwrap();

    assert_eq!(updated.value, "90");
    assert_eq!(updated.displayed, Some(false));
    let request = only_request(&server).await;
    assert_eq!(body_text(&request), r#"{"value":"90","displayed":false}"#);
    assert_signed(&request);
}

#[tokio::test]
async fn an_attribute_is_deleted_by_its_id_and_a_missing_one_is_false() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path(
            "/api/v2/indicators/hosts/bad.example/attributes/54321",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_string(answer("success")))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/api/v2/indicators/hosts/bad.example/attributes/99"))
        .respond_with(ResponseTemplate::new(404).set_body_string("Not Found"))
        .mount(&server)
        .await;
    let client = client(&server);

    let deleted = client
        .delete_indicator_attribute(OWNER, IndicatorType::Host, "bad.example", 54_321)
        .await
        .unwrap();
    let missing = client
        .delete_indicator_attribute(OWNER, IndicatorType::Host, "bad.example", 99)
        .await
        .unwrap();

    assert_eq!((deleted, missing), (true, false));
}

//! Field cases of `../shared/field-cases.md` that belong to this crate (F09, both halves; F10,
//! F11). Each test is named for what broke and says which input broke it.

// These tests need the HTTP client.
#![cfg(feature = "http")]

mod common;

use std::collections::HashSet;
use std::ops::Range;

use common::fake::FakeBatchApi;
use common::{answer, builder, gzip};
use futures::StreamExt;
use threatconnect_client::{
    Attribute, AttributeUpdate, BatchIndicator, ChunkLimits, Client, IndicatorType,
    IndicatorUpdate, JobResult, JobSettings, Rating, Tag,
};
use wiremock::matchers::{any, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn f10_server(errors_body: Vec<u8>) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v2/batch/createAndUpload"))
        .respond_with(ResponseTemplate::new(201).set_body_string(answer("status-42-queued")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/batch/42"))
        .respond_with(ResponseTemplate::new(200).set_body_string(answer("f10-status")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/batch/42/errors"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Content-Type", "text/plain")
                .set_body_bytes(errors_body),
        )
        .mount(&server)
        .await;
    server
}

async fn push_f10_hosts(server: &MockServer) -> Vec<JobResult> {
    let hosts = ["alpha.example", "dl_update.example.net", "gamma.example"]
        .map(|host| BatchIndicator::new(IndicatorType::Host, host));
    common::client(server)
        .submit_iter(JobSettings::new("Example Org"), hosts)
        .collect()
        .await
}

fn assert_one_host_rejected_by_name(results: Vec<JobResult>) {
    assert_eq!(results.len(), 1);
    let outcome = results.into_iter().next().unwrap().unwrap();

    assert_eq!(outcome.positions, 0..3);
    assert_eq!(
        (
            outcome.success_count,
            outcome.error_count,
            outcome.unprocess_count
        ),
        (2, 1, 0)
    );
    assert!(!outcome.is_clean());
    assert!(outcome.accounts_for_every_indicator());
    assert_eq!(
        outcome.rejected_values().collect::<Vec<_>>(),
        ["dl_update.example.net"]
    );
    let error = &outcome.errors[0];
    assert_eq!(error.indicator.as_deref(), Some("dl_update.example.net"));
    assert_eq!(error.code, Some(0x1005));
    assert_eq!(
        error.reason,
        "Error (0x1005): dl_update.example.net is not valid as a Host."
    );
}

#[tokio::test]
async fn a_job_that_rejects_one_host_names_it_when_errors_come_as_plain_text() {
    // F10: three hosts, `dl_update.example.net` rejected; the errors body plain JSON.
    let server = f10_server(answer("f10-errors").into_bytes()).await;

    assert_one_host_rejected_by_name(push_f10_hosts(&server).await);
}

#[tokio::test]
async fn a_job_that_rejects_one_host_names_it_when_errors_come_gzip_as_text_plain() {
    // F10: the same errors body gzip-compressed but served as `text/plain`.
    let server = f10_server(gzip(answer("f10-errors").as_bytes())).await;

    assert_one_host_rejected_by_name(push_f10_hosts(&server).await);
}

#[tokio::test]
async fn a_job_with_unprocessed_items_reports_them_not_a_clean_success() {
    // F10's last line: `unprocessCount` above 0 with no error listed.
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(201).set_body_string(answer("status-5-completed-unprocessed")),
        )
        .mount(&server)
        .await;

    let results = push_f10_hosts(&server).await;

    let outcome = results.into_iter().next().unwrap().unwrap();
    assert_eq!(outcome.unprocess_count, 1);
    assert!(!outcome.is_clean());
    assert!(!outcome.accounts_for_every_indicator());
}

#[tokio::test]
async fn a_cidr_block_goes_into_the_document_unencoded() {
    // F09, batch half: `198.51.100.0/24` is sent as it is, never `%2F` in JSON.
    let fake = FakeBatchApi::default();
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(fake.clone())
        .mount(&server)
        .await;
    let block = BatchIndicator::new(IndicatorType::Cidr, "198.51.100.0/24");

    let results: Vec<_> = common::client(&server)
        .submit_iter(JobSettings::new("Example Org"), [block])
        .collect()
        .await;

    assert!(results[0].is_ok());
    let request = &server.received_requests().await.unwrap()[0];
    let body = String::from_utf8_lossy(&request.body);
    assert!(
        body.contains(r#""summary":"198.51.100.0/24","type":"CIDR""#),
        "{body}"
    );
    assert!(!body.contains("%2F"), "{body}");
    assert_eq!(fake.state().accepted, ["198.51.100.0/24"]);
}

/// A server that answers every one-indicator endpoint of a CIDR block well enough.
async fn cidr_endpoints_server() -> MockServer {
    let block = serde_json::json!({"id": 7, "Block": "198.51.100.0/24"});
    let attribute = serde_json::json!({"id": 9, "type": "External Score", "value": "88"});
    let answers = [
        (
            "GET",
            serde_json::json!({"cidrBlock": block, "tag": [], "attribute": []}),
        ),
        (
            "PUT",
            serde_json::json!({"cidrBlock": block, "attribute": attribute}),
        ),
        ("POST", serde_json::json!({"attribute": attribute})),
        ("DELETE", serde_json::Value::Null),
    ];
    let server = MockServer::start().await;
    for (verb, data) in answers {
        let body = serde_json::json!({"status": "Success", "data": data}).to_string();
        Mock::given(method(verb))
            .respond_with(ResponseTemplate::new(200).set_body_string(body))
            .mount(&server)
            .await;
    }
    server
}

#[tokio::test]
async fn a_cidr_value_is_one_percent_2f_path_segment_signed_as_sent_on_every_endpoint() {
    // F09, lookup half: `198.51.100.0/24` of the owner `Example Org`, on each endpoint of one
    // indicator: never a raw `/` in the path, never `%252F`, never `+` for the space.
    let server = cidr_endpoints_server().await;
    let client = common::client(&server);
    let (owner, cidr, block) = ("Example Org", IndicatorType::Cidr, "198.51.100.0/24");
    let update = IndicatorUpdate::new().rating(Rating::new(1).unwrap());
    let attribute = Attribute {
        kind: "External Score".to_owned(),
        value: "88".to_owned(),
        displayed: true,
    };

    client.indicator(owner, cidr.clone(), block).await.unwrap();
    client
        .update_indicator(owner, cidr.clone(), block, update)
        .await
        .unwrap();
    client
        .delete_indicator(owner, cidr.clone(), block)
        .await
        .unwrap();
    client
        .indicator_tags(owner, cidr.clone(), block)
        .await
        .unwrap();
    client
        .add_indicator_tag(owner, cidr.clone(), block, "ET/CnC")
        .await
        .unwrap();
    client
        .remove_indicator_tag(owner, cidr.clone(), block, "ET/CnC")
        .await
        .unwrap();
    client
        .indicator_attributes(owner, cidr.clone(), block)
        .await
        .unwrap();
    client
        .add_indicator_attribute(owner, cidr.clone(), block, &attribute)
        .await
        .unwrap();
    let update_88 = AttributeUpdate::new("88");
    client
        .update_indicator_attribute(owner, cidr.clone(), block, 9, &update_88)
        .await
        .unwrap();
    client
        .delete_indicator_attribute(owner, cidr, block, 9)
        .await
        .unwrap();

    let requests = server.received_requests().await.unwrap();
    let sent: Vec<String> = requests
        .iter()
        .map(|request| format!("{} {}", request.method, common::path_and_query(request)))
        .collect();
    let at = "/api/v2/indicators/cidrBlocks/198.51.100.0%2F24";
    let paging = "&resultStart=0&resultLimit=1000";
    assert_eq!(
        sent,
        [
            format!("GET {at}?owner=Example%20Org&includeAdditional=true"),
            format!("PUT {at}?owner=Example%20Org"),
            format!("DELETE {at}?owner=Example%20Org"),
            format!("GET {at}/tags?owner=Example%20Org{paging}"),
            format!("POST {at}/tags/ET%2FCnC?owner=Example%20Org"),
            format!("DELETE {at}/tags/ET%2FCnC?owner=Example%20Org"),
            format!("GET {at}/attributes?owner=Example%20Org{paging}"),
            format!("POST {at}/attributes?owner=Example%20Org"),
            format!("PUT {at}/attributes/9?owner=Example%20Org"),
            format!("DELETE {at}/attributes/9?owner=Example%20Org"),
        ]
    );
    for request in &requests {
        common::assert_signed(request);
    }
}

/// Addresses `2001:db8::1` upward, written out as ThreatConnect stores them.
fn ipv6_addresses(count: usize, with_context: bool) -> Vec<BatchIndicator> {
    (1..=count)
        .map(|n| {
            let value = format!("2001:db8:0:0:0:0:{:x}:{:x}", n >> 16, n & 0xffff);
            let mut indicator = BatchIndicator::new(IndicatorType::Address, value);
            if with_context {
                indicator.rating = Rating::new(2);
                indicator.xid = Some(format!("et-rep:Address:{}", indicator.summary));
                indicator.tag = vec![
                    Tag {
                        name: "ET Reputation".to_owned(),
                    },
                    Tag {
                        name: "ET: CnC".to_owned(),
                    },
                ];
                indicator.attribute = vec![Attribute {
                    kind: "External Score".to_owned(),
                    value: "50".to_owned(),
                    displayed: true,
                }];
            }
            indicator
        })
        .collect()
}

/// Checks F11's promises: each address accepted exactly once, no job over the limits, the
/// counts summed over all jobs, and the outcomes' positions covering the input once.
fn assert_each_sent_once(
    fake: &FakeBatchApi,
    results: &[JobResult],
    sent: &[BatchIndicator],
    limit: usize,
) {
    let state = fake.state();
    let accepted: HashSet<&str> = state.accepted.iter().map(String::as_str).collect();
    assert_eq!(
        state.accepted.len(),
        sent.len(),
        "an address was sent twice or lost"
    );
    assert_eq!(accepted.len(), sent.len());
    assert!(
        sent.iter()
            .all(|indicator| accepted.contains(indicator.summary.as_str()))
    );
    assert!(
        state.accepted_sizes.iter().all(|size| *size <= limit),
        "{:?}",
        state.accepted_sizes
    );

    let outcomes: Vec<_> = results
        .iter()
        .map(|result| result.as_ref().unwrap())
        .collect();
    let written: u64 = outcomes.iter().map(|outcome| outcome.success_count).sum();
    assert_eq!(written, sent.len() as u64);
    assert!(
        outcomes
            .iter()
            .all(|outcome| outcome.positions.len() <= 25_000)
    );

    let mut positions: Vec<Range<usize>> = outcomes.iter().map(|o| o.positions.clone()).collect();
    positions.sort_by_key(|range| range.start);
    let mut next = 0;
    for range in positions {
        assert_eq!(range.start, next, "positions leave a gap or overlap");
        next = range.end;
    }
    assert_eq!(next, sent.len());
}

async fn push_with_upload_limit(
    fake: &FakeBatchApi,
    limits: ChunkLimits,
    jobs_at_once: usize,
    indicators: &[BatchIndicator],
) -> Vec<JobResult> {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(fake.clone())
        .mount(&server)
        .await;
    let client: Client = builder(&server)
        .chunk_limits(limits)
        .max_concurrent_jobs(jobs_at_once)
        .build()
        .unwrap();
    client
        .submit_iter(JobSettings::new("Example Org"), indicators.to_vec())
        .collect()
        .await
}

#[tokio::test]
async fn an_upload_limit_below_the_job_size_splits_jobs_and_keeps_the_smaller_size() {
    // F11 at a small scale: 2,501 IPv6 addresses, jobs of 1,000 (about 55 kB), an instance
    // that refuses uploads over 20,000 bytes.
    let fake = FakeBatchApi {
        max_bytes: Some(20_000),
        ..FakeBatchApi::default()
    };
    let addresses = ipv6_addresses(2_501, false);
    let limits = ChunkLimits::new(1_000, 8_000_000).unwrap();

    let results = push_with_upload_limit(&fake, limits, 1, &addresses).await;

    assert_each_sent_once(&fake, &results, &addresses, 20_000);
    // The first job is refused, then both its halves of 500; their quarters fit. The limit of
    // 20,000 named in the refusal then holds, so no later job is refused.
    assert_eq!(fake.state().refused_uploads, 3);
}

#[tokio::test]
async fn an_instance_limit_of_2000000_bytes_takes_25001_addresses_each_once() {
    // F11 at full scale: 25,001 addresses with tags and an attribute, jobs cut at 25,000
    // indicators and 8 MB, uploads over 2,000,000 bytes refused.
    let fake = FakeBatchApi {
        max_bytes: Some(2_000_000),
        ..FakeBatchApi::default()
    };
    let addresses = ipv6_addresses(25_001, true);
    let limits = ChunkLimits::new(25_000, 8_000_000).unwrap();

    let results = push_with_upload_limit(&fake, limits, 2, &addresses).await;

    assert_each_sent_once(&fake, &results, &addresses, 2_000_000);
    assert!(fake.state().refused_uploads >= 1);
}

//! The ET Intelligence REST API client against a wiremock server on 127.0.0.1: every
//! endpoint, every error kind, retries, path encoding, and the key never shown.

// These tests need the HTTP client.
#![cfg(feature = "http")]

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime};
use proofpoint_et_client::{ApiClient, ApiErrorKind, ApiKey, Error, Md5Digest};
use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const KEY: &str = "ETKEY-0123456789abcdef";
const MD5: &str = "0123456789abcdef0123456789abcdef";

fn fixture(name: &str) -> String {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/api")
        .join(format!("{name}.json"));
    std::fs::read_to_string(&file).unwrap_or_else(|error| panic!("{}: {error}", file.display()))
}

/// A client of `server`'s `/v1/`, with retries of a millisecond or two.
fn client(server: &MockServer) -> ApiClient {
    ApiClient::builder(ApiKey::new(KEY).unwrap())
        .base_url(format!("{}/v1", server.uri()))
        .proxy_from_env(false)
        .backoff(Duration::from_millis(1), Duration::from_millis(20))
        .build()
        .unwrap()
}

/// A server answering `GET /v1/{endpoint}`, sent with the key, with the fixture `name`.
async fn serving(endpoint: &str, name: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v1/{endpoint}")))
        .and(header("Authorization", KEY))
        .respond_with(ResponseTemplate::new(200).set_body_string(fixture(name)))
        .expect(1)
        .mount(&server)
        .await;
    server
}

async fn answering(status: u16, body: String) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(status).set_body_string(body))
        .mount(&server)
        .await;
    server
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn md5() -> Md5Digest {
    MD5.parse().unwrap()
}

/// The error and its sources, joined as a binary prints them.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn path_of(request: &Request) -> String {
    request.url.path().to_owned()
}

#[tokio::test]
async fn reputation_categories_are_read_strictly() {
    let server = serving("repcategories", "repcategories").await;

    let categories = client(&server).reputation_categories().await.unwrap();

    let names: Vec<&str> = categories.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["CnC", "Bot", "Web_Crawler"]);
    assert_eq!(categories[1].description, "Known infected bot");
}

#[tokio::test]
async fn an_ip_reputation_gives_categories_with_integer_scores() {
    let server = serving("ips/192.0.2.7/reputation", "ip-reputation").await;

    let scores = client(&server)
        .ip(ip("192.0.2.7"))
        .reputation()
        .await
        .unwrap();

    let read: Vec<(&str, u8)> = scores
        .iter()
        .map(|s| (s.category.as_str(), s.score.get()))
        .collect();
    assert_eq!(read, [("CnC", 127), ("Scanner", 21)]);
}

#[tokio::test]
async fn an_ip_with_no_reputation_has_no_scores() {
    let server = serving("ips/192.0.2.8/reputation", "reputation-empty").await;

    let scores = client(&server)
        .ip(ip("192.0.2.8"))
        .reputation()
        .await
        .unwrap();

    assert!(scores.is_empty());
}

#[tokio::test]
async fn a_score_given_as_text_fails_the_reputation_naming_the_field() {
    let server = serving("ips/192.0.2.7/reputation", "reputation-score-as-text").await;

    let error = client(&server)
        .ip(ip("192.0.2.7"))
        .reputation()
        .await
        .unwrap_err();

    let Error::ApiDecode { endpoint, detail } = &error else {
        panic!("expected a decode error, got {error:?}")
    };
    assert_eq!(endpoint, "ips/192.0.2.7/reputation");
    assert!(detail.starts_with("at `response[1].score`:"), "{detail}");
}

#[tokio::test]
async fn a_score_above_127_fails_the_reputation() {
    let server = serving(
        "domains/bad.example/reputation",
        "reputation-score-too-high",
    )
    .await;

    let error = client(&server)
        .domain("bad.example")
        .reputation()
        .await
        .unwrap_err();

    let message = error.to_string();
    assert!(message.contains("response[0].score"), "{message}");
    assert!(
        message.contains("300 is above the highest score, 127"),
        "{message}"
    );
}

#[tokio::test]
async fn an_ipv6_address_is_looked_up_as_itself() {
    let server = serving("ips/2001:db8::1/reputation", "ip-reputation").await;

    let scores = client(&server)
        .ip(ip("2001:db8::1"))
        .reputation()
        .await
        .unwrap();

    assert_eq!(scores.len(), 2);
}

#[tokio::test]
async fn ip_urls_read_bare_paths_and_objects() {
    let server = serving("ips/192.0.2.7/urls", "urls").await;

    let urls = client(&server).ip(ip("192.0.2.7")).urls().await.unwrap();

    assert_eq!(urls[0].url.as_deref(), Some("/gate.php?id=XXXXXXXX&v=XX"));
    assert_eq!(urls[1].url.as_deref(), Some("/panel/login.php"));
    assert_eq!(urls[1].other["last_seen"], "2024-05-02");
}

#[tokio::test]
async fn ip_samples_keep_a_date_of_another_form_as_json() {
    let server = serving("ips/192.0.2.7/samples", "ip-samples").await;

    let samples = client(&server).ip(ip("192.0.2.7")).samples().await.unwrap();

    assert_eq!(samples[0].value.as_deref(), Some(MD5));
    assert_eq!(samples[0].first_seen, Some(day("2024-05-01")));
    assert_eq!(samples[0].last_seen, Some(day("2024-05-03")));
    assert_eq!(samples[1].last_seen, None);
    assert_eq!(samples[1].other["last_seen"], "later");
}

#[tokio::test]
async fn ip_samples_keyed_by_md5_as_older_answers_give_them_are_read() {
    let server = serving("ips/192.0.2.7/samples", "ip-samples-keyed").await;

    let samples = client(&server).ip(ip("192.0.2.7")).samples().await.unwrap();

    assert_eq!(samples.len(), 1);
    assert_eq!(samples[0].value.as_deref(), Some(MD5));
    assert_eq!(samples[0].first_seen, Some(day("2024-02-02")));
    assert_eq!(samples[0].last_seen, Some(day("2024-02-09")));
    assert!(samples[0].other.is_empty());
}

#[tokio::test]
async fn ip_domains_are_read() {
    let server = serving("ips/192.0.2.7/domains", "ip-domains").await;

    let domains = client(&server).ip(ip("192.0.2.7")).domains().await.unwrap();

    assert_eq!(domains[0].value.as_deref(), Some("bad.example"));
    assert_eq!(domains[0].last_seen, Some(day("2024-04-09")));
}

#[tokio::test]
async fn ip_events_read_sids_given_as_text_or_numbers() {
    let server = serving("ips/192.0.2.7/events", "ip-events").await;

    let events = client(&server).ip(ip("192.0.2.7")).events().await.unwrap();

    assert_eq!(events[0].sid, Some(2_008_365));
    assert_eq!(events[0].is_source, Some(false));
    assert_eq!(events[0].count, Some(3));
    assert_eq!(events[0].date, Some(day("2024-04-08")));
    assert_eq!(events[1].sid, Some(2_001_117));
    assert_eq!(events[1].indicator.as_deref(), Some("private"));
    assert_eq!(events[1].other["sensor"], "eu-2");
}

#[tokio::test]
async fn ip_geolocation_is_read() {
    let server = serving("ips/192.0.2.7/geoloc", "ip-geoloc").await;

    let places = client(&server)
        .ip(ip("192.0.2.7"))
        .geolocation()
        .await
        .unwrap();

    assert_eq!(places[0].ip, Some(ip("192.0.2.7")));
    assert_eq!(places[0].city.as_deref(), Some("Denver"));
    assert_eq!(places[0].latitude, Some(39.74));
}

#[tokio::test]
async fn a_domain_reputation_is_read() {
    let server = serving("domains/bad.example/reputation", "domain-reputation").await;

    let scores = client(&server)
        .domain("bad.example")
        .reputation()
        .await
        .unwrap();

    assert_eq!(scores[0].category, "Phishing");
    assert_eq!(scores[0].score.get(), 88);
}

#[tokio::test]
async fn domain_urls_are_read() {
    let server = serving("domains/bad.example/urls", "urls").await;

    let urls = client(&server).domain("bad.example").urls().await.unwrap();

    assert_eq!(urls.len(), 2);
}

#[tokio::test]
async fn domain_samples_are_read() {
    let server = serving("domains/bad.example/samples", "domain-samples").await;

    let samples = client(&server)
        .domain("bad.example")
        .samples()
        .await
        .unwrap();

    assert_eq!(
        samples[0].value.as_deref(),
        Some("00112233445566778899aabbccddeeff")
    );
}

#[tokio::test]
async fn domain_ips_keyed_by_ip_as_older_answers_give_them_are_read() {
    let server = serving("domains/bad.example/ips", "domain-ips-keyed").await;

    let mut ips = client(&server).domain("bad.example").ips().await.unwrap();
    ips.sort_by(|a, b| a.value.cmp(&b.value));

    assert_eq!(ips[0].value.as_deref(), Some("198.51.100.4"));
    assert_eq!(ips[0].first_seen, Some(day("2021-12-04")));
    assert_eq!(ips[1].value.as_deref(), Some("203.0.113.9"));
    assert_eq!(ips[1].first_seen, Some(day("2023-01-01")));
    assert_eq!(ips[1].last_seen, Some(day("2024-04-02")));
}

#[tokio::test]
async fn domain_events_are_read() {
    let server = serving("domains/bad.example/events", "domain-events").await;

    let events = client(&server)
        .domain("bad.example")
        .events()
        .await
        .unwrap();

    assert_eq!(events[0].indicator.as_deref(), Some("bad.example"));
    assert_eq!(events[0].sid, Some(2_803_583));
}

#[tokio::test]
async fn domain_geolocation_is_read() {
    let server = serving("domains/bad.example/geoloc", "domain-geoloc").await;

    let places = client(&server)
        .domain("bad.example")
        .geolocation()
        .await
        .unwrap();

    assert_eq!(places[0].country.as_deref(), Some("KY"));
    assert_eq!(places[0].city, None);
}

#[tokio::test]
async fn domain_nameservers_are_read() {
    let server = serving("domains/bad.example/nameservers", "domain-nameservers").await;

    let servers = client(&server)
        .domain("bad.example")
        .nameservers()
        .await
        .unwrap();

    assert_eq!(servers[0].value.as_deref(), Some("ns1.hosting.example."));
    assert_eq!(servers[0].first_seen, Some(day("2023-02-15")));
    assert_eq!(servers[1].first_seen, None);
}

#[tokio::test]
async fn domain_whois_is_read_with_its_parts() {
    let server = serving("domains/bad.example/whois", "domain-whois").await;

    let whois = client(&server).domain("bad.example").whois().await.unwrap();

    let registrant = whois.registrant.unwrap();
    assert_eq!(registrant.email.as_deref(), Some("holder@mail.example"));
    assert_eq!(registrant.expires, Some(day("2025-01-30")));
    assert_eq!(whois.registrar.unwrap().country.as_deref(), Some("USA"));
    assert_eq!(whois.other["status"], json!(["clientTransferProhibited"]));
}

#[tokio::test]
async fn sample_details_are_read() {
    let server = serving(&format!("samples/{MD5}"), "sample-details").await;

    let details = client(&server).sample(md5()).details().await.unwrap();

    let submitted = NaiveDateTime::parse_from_str("2024-06-11 04:00:00", "%Y-%m-%d %H:%M:%S");
    assert_eq!(details.submit_date, Some(submitted.unwrap()));
    assert_eq!(details.file_size, Some(69_459));
    assert_eq!(details.ssdeep.as_deref(), Some("1536:abc:def"));
}

#[tokio::test]
async fn sample_connections_are_read() {
    let server = serving(&format!("samples/{MD5}/connections"), "sample-connections").await;

    let connections = client(&server).sample(md5()).connections().await.unwrap();

    let connection = &connections[0];
    assert_eq!(connection.flow.destination_ip, Some(ip("203.0.113.36")));
    assert_eq!(connection.flow.source_port, Some(49_382));
    assert_eq!(connection.protocol.as_deref(), Some("tcp"));
    assert_eq!(connection.bytes_down, Some(508));
    assert_eq!(connection.other["bytes_total"], 814);
}

#[tokio::test]
async fn sample_dns_lookups_are_read() {
    let server = serving(&format!("samples/{MD5}/dns"), "sample-dns").await;

    let lookups = client(&server).sample(md5()).dns().await.unwrap();

    assert_eq!(lookups[0].address, Some(ip("203.0.113.36")));
    assert_eq!(lookups[1].answer.as_deref(), Some("cdn.bad.example"));
    assert_eq!(lookups[1].record_type.as_deref(), Some("CNAME"));
}

#[tokio::test]
async fn sample_http_requests_are_read() {
    let server = serving(&format!("samples/{MD5}/http"), "sample-http").await;

    let requests = client(&server).sample(md5()).http().await.unwrap();

    assert_eq!(requests[0].method.as_deref(), Some("GET"));
    assert_eq!(requests[0].url.as_deref(), Some("/images/1/names.php"));
    assert_eq!(requests[0].flow.destination_port, Some(80));
}

#[tokio::test]
async fn sample_events_read_a_revision_given_as_text() {
    let server = serving(&format!("samples/{MD5}/events"), "sample-events").await;

    let events = client(&server).sample(md5()).events().await.unwrap();

    assert_eq!(events[0].sid, Some(2_010_228));
    assert_eq!(events[0].revision, Some(7));
    assert_eq!(
        events[0].signature.as_deref(),
        Some("ET POLICY Example User-Agent")
    );
}

#[tokio::test]
async fn a_signature_is_named() {
    let server = serving("sids/2007771", "sid").await;

    let signature = client(&server).sid(2_007_771).details().await.unwrap();

    assert_eq!(signature.sid, Some(2_007_771));
    assert_eq!(
        signature.name.as_deref(),
        Some("ET MALWARE Example Update URL")
    );
}

#[tokio::test]
async fn signature_ips_keep_long_ip_as_json() {
    let server = serving("sids/2007771/ips", "sid-ips").await;

    let ips = client(&server).sid(2_007_771).ips().await.unwrap();

    assert_eq!(ips[0].value.as_deref(), Some("192.0.2.7"));
    assert_eq!(ips[0].other["long_ip"], 3_221_225_991_u64);
}

#[tokio::test]
async fn signature_domains_and_samples_are_read() {
    let server = serving("sids/2007771/domains", "sid-domains").await;
    Mock::given(path("/v1/sids/2007771/samples"))
        .respond_with(ResponseTemplate::new(200).set_body_string(fixture("sid-samples")))
        .mount(&server)
        .await;
    let client = client(&server);

    let domains = client.sid(2_007_771).domains().await.unwrap();
    let samples = client.sid(2_007_771).samples().await.unwrap();

    assert_eq!(domains[0].value.as_deref(), Some("wr.bad.example"));
    assert_eq!(
        samples[0].value.as_deref(),
        Some("fedcba9876543210fedcba9876543210")
    );
}

#[tokio::test]
async fn signature_text_is_read() {
    let server = serving("sids/2000005/text", "sid-text").await;

    let text = client(&server).sid(2_000_005).text().await.unwrap();

    assert!(text.suricata.unwrap().ends_with("rev:7;)"));
    assert!(text.snort.unwrap().ends_with("rev:8;)"));
}

#[tokio::test]
async fn signature_references_keep_a_misshapen_list_as_json() {
    let server = serving("sids/2000005/references", "sid-references").await;

    let references = client(&server).sid(2_000_005).references().await.unwrap();

    assert_eq!(references[0].kind.as_deref(), Some("url"));
    assert_eq!(references[0].urls.len(), 2);
    assert!(references[1].urls.is_empty());
    assert_eq!(references[1].other["reference_urls"], "CVE-2021-22893");
}

#[tokio::test]
async fn a_signature_summary_is_read_with_its_mitre_tags() {
    let server = serving("sids/2029740/summary", "sid-summary").await;

    let summary = client(&server).sid(2_029_740).summary().await.unwrap();

    let metadata = summary.metadata.unwrap();
    assert_eq!(metadata.revision, Some(1));
    assert_eq!(metadata.created, Some(day("2020-03-26")));
    assert_eq!(
        metadata.mitre_tags[0].technique_id.as_deref(),
        Some("T1001")
    );
    assert_eq!(metadata.other["sid"], "2029740");
    assert!(
        metadata.other["tag"].is_null(),
        "an unknown field is kept as it is"
    );
    assert_eq!(metadata.malware_family.as_deref(), Some("Example"));
}

#[tokio::test]
async fn a_signature_summary_without_etpro_is_payment_required() {
    let server = answering(402, fixture("error-402")).await;

    let error = client(&server).sid(2_029_740).summary().await.unwrap_err();

    assert_eq!(error.api_error_kind(), Some(ApiErrorKind::PaymentRequired));
}

#[tokio::test]
async fn cve_malware_and_actor_answers_are_given_as_json() {
    let server = serving("cve/CVE-2021-22893", "cve").await;
    Mock::given(path("/v1/malware/Example%20Loader"))
        .respond_with(ResponseTemplate::new(200).set_body_string(fixture("malware")))
        .mount(&server)
        .await;
    Mock::given(path("/v1/actors/TA000"))
        .respond_with(ResponseTemplate::new(200).set_body_string(fixture("actor")))
        .mount(&server)
        .await;
    let client = client(&server);

    let cve = client.cve("CVE-2021-22893").await.unwrap();
    let family = client.malware_family("Example Loader").await.unwrap();
    let actor = client.actor("TA000").await.unwrap();

    assert_eq!(cve["sids"], json!([2_032_904]));
    assert_eq!(family["samples"], 12);
    assert_eq!(actor["aliases"][0], "Example Panda");
}

#[tokio::test]
async fn a_domain_value_is_one_percent_encoded_path_segment() {
    let server = answering(200, fixture("reputation-empty")).await;
    let client = client(&server);

    client.domain("*.bad.example").reputation().await.unwrap();
    client.domain("a b/c?d#e").reputation().await.unwrap();
    client.domain("bücher.example").reputation().await.unwrap();

    let paths: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(path_of)
        .collect();
    assert_eq!(
        paths,
        [
            "/v1/domains/%2A.bad.example/reputation",
            "/v1/domains/a%20b%2Fc%3Fd%23e/reputation",
            "/v1/domains/b%C3%BCcher.example/reputation",
        ]
    );
}

#[tokio::test]
async fn a_domain_that_cannot_be_a_path_segment_is_refused_without_a_request() {
    let server = answering(200, fixture("reputation-empty")).await;
    let client = client(&server);

    for bad in ["", " ", ".", "..", "bad\n.example"] {
        let error = client.domain(bad).reputation().await.unwrap_err();
        assert!(
            matches!(error, Error::InvalidApiArgument { what: "domain", .. }),
            "{bad:?}: {error:?}"
        );
    }
    assert!(client.cve("..").await.is_err());
    assert!(server.received_requests().await.unwrap().is_empty());
}

/// The error `client` gets for an IP reputation from a server that always answers `status`
/// with the fixture `error-<status>`, without retries, and the requests the server saw.
async fn error_for(status: u16) -> (Error, usize) {
    let server = answering(status, fixture(&format!("error-{status}"))).await;
    let client = ApiClient::builder(ApiKey::new(KEY).unwrap())
        .base_url(format!("{}/v1/", server.uri()))
        .proxy_from_env(false)
        .retries(0)
        .build()
        .unwrap();

    let error = client.ip(ip("192.0.2.7")).reputation().await.unwrap_err();
    (error, server.received_requests().await.unwrap().len())
}

#[tokio::test]
async fn each_error_status_is_its_own_kind_with_the_servers_message() {
    let cases = [
        (
            401,
            ApiErrorKind::Unauthorized,
            "Invalid or missing API key",
        ),
        (
            402,
            ApiErrorKind::PaymentRequired,
            "This report requires an ETPro subscription",
        ),
        (
            403,
            ApiErrorKind::Forbidden,
            "Your subscription has expired",
        ),
        (404, ApiErrorKind::NotFound, "Unknown action"),
        (408, ApiErrorKind::Timeout, "Request timed out"),
        (429, ApiErrorKind::RateLimited, "Rate limit exceeded"),
        (500, ApiErrorKind::ServerError, "Internal error"),
    ];
    for (status, kind, message) in cases {
        let (error, requests) = error_for(status).await;

        assert_eq!(error.api_error_kind(), Some(kind), "{status}");
        let Error::Api {
            status: got_status,
            message: got_message,
            endpoint,
            attempts,
            ..
        } = &error
        else {
            panic!("{status}: expected an api error, got {error:?}")
        };
        assert_eq!(*got_status, status);
        assert_eq!(got_message, message);
        assert_eq!(endpoint, "ips/192.0.2.7/reputation");
        assert_eq!((*attempts, requests), (1, 1), "{status}");
    }
}

#[tokio::test]
async fn an_error_message_reads_as_a_sentence_with_status_kind_and_message() {
    let (error, _) = error_for(403).await;

    assert_eq!(
        error.to_string(),
        "the et intelligence api answered http 403 (forbidden: the key lacks access or its \
         subscription lapsed) for ips/192.0.2.7/reputation after 1 attempt(s): Your \
         subscription has expired"
    );
}

#[tokio::test]
async fn an_error_body_that_is_not_json_is_kept_as_the_message() {
    let server = answering(404, "<html>Not Found</html>".to_owned()).await;

    let error = client(&server)
        .ip(ip("192.0.2.7"))
        .urls()
        .await
        .unwrap_err();

    assert!(
        matches!(&error, Error::Api { message, kind: ApiErrorKind::NotFound, .. }
            if message == "<html>Not Found</html>"),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_success_status_whose_envelope_says_no_is_refused() {
    let server = answering(200, fixture("refused-with-200")).await;

    let error = client(&server)
        .domain("bad.example")
        .whois()
        .await
        .unwrap_err();

    assert_eq!(error.api_error_kind(), Some(ApiErrorKind::Refused));
    assert!(
        error.to_string().ends_with("Domain is not valid"),
        "{error}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_success_answer_that_is_not_the_envelope_does_not_read() {
    let server = answering(200, "<html>maintenance</html>".to_owned()).await;

    let error = client(&server)
        .ip(ip("192.0.2.7"))
        .events()
        .await
        .unwrap_err();

    let message = error.to_string();
    assert!(message.contains("not the api's json envelope"), "{message}");
    assert!(message.contains("<html>maintenance</html>"), "{message}");
}

#[tokio::test]
async fn a_429_is_retried_after_the_wait_it_asks_for_then_succeeds() {
    // The backoff caps Retry-After at 20 ms so that the test stays fast.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "2")
                .set_body_string(fixture("error-429")),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string(fixture("ip-reputation")))
        .mount(&server)
        .await;

    let scores = client(&server)
        .ip(ip("192.0.2.7"))
        .reputation()
        .await
        .unwrap();

    assert_eq!(scores.len(), 2);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_server_error_that_lasts_ends_with_the_attempts_made() {
    let server = answering(503, r#"{"success":false,"message":"busy"}"#.to_owned()).await;

    let error = client(&server)
        .ip(ip("192.0.2.7"))
        .reputation()
        .await
        .unwrap_err();

    assert!(
        matches!(
            &error,
            Error::Api {
                kind: ApiErrorKind::ServerError,
                status: 503,
                attempts: 3,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_refused_key_is_not_retried() {
    let server = answering(401, fixture("error-401")).await;

    let error = client(&server)
        .ip(ip("192.0.2.7"))
        .reputation()
        .await
        .unwrap_err();

    assert_eq!(error.api_error_kind(), Some(ApiErrorKind::Unauthorized));
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn no_answer_is_a_transport_error_after_the_retries() {
    // A port that was just free: nothing listens on it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = ApiClient::builder(ApiKey::new(KEY).unwrap())
        .base_url(format!("http://127.0.0.1:{port}/v1/"))
        .proxy_from_env(false)
        .retries(1)
        .backoff(Duration::from_millis(1), Duration::from_millis(2))
        .build()
        .unwrap();

    let error = client.ip(ip("192.0.2.7")).reputation().await.unwrap_err();

    assert!(
        matches!(&error, Error::ApiTransport { attempts: 2, .. }),
        "{error:?}"
    );
    assert!(
        !chain(&error).contains(&port.to_string()),
        "{}",
        chain(&error)
    );
}

#[tokio::test]
async fn the_key_never_shows_in_debug_display_or_errors() {
    // A server that echoes the key it was sent in its refusal.
    let echoed = format!(r#"{{"success":false,"message":"key {KEY} is not valid"}}"#);
    let server = answering(401, echoed).await;
    let client = client(&server);

    let error = client.ip(ip("192.0.2.7")).reputation().await.unwrap_err();

    let key = ApiKey::new(KEY).unwrap();
    let shown = [
        format!("{key} {key:?} {key:#?}"),
        format!("{client:?} {client:#?}"),
        format!("{error} {error:?} {error:#?}"),
        chain(&error),
    ];
    for text in &shown {
        assert!(!text.contains(KEY), "the key shows in: {text}");
    }
    assert!(
        error.to_string().contains("key *** is not valid"),
        "{error}"
    );

    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests[0].headers.get("Authorization").unwrap(), KEY);
}

/// Asserts that `error` shows the key nowhere (message, `Debug`, causes) and shows `***`.
fn assert_key_masked(error: &Error) {
    let shown = format!("{error} | {error:?} | {error:#?} | {}", chain(error));
    assert!(!shown.contains(KEY), "the key shows in: {shown}");
    assert!(
        !shown.contains("ETKEY-0"),
        "part of the key shows in: {shown}"
    );
    assert!(shown.contains("***"), "the key is not masked in: {shown}");
}

#[tokio::test]
async fn a_key_at_the_cut_of_a_long_error_body_showed_its_start() {
    // A 403 page of 290 characters, then the key: the cut at 300 fell inside the key.
    let body = format!("{}/{KEY}/denied", "x".repeat(290));

    for status in [403, 500] {
        let server = answering(status, body.clone()).await;

        let error = client(&server)
            .ip(ip("192.0.2.7"))
            .reputation()
            .await
            .unwrap_err();

        assert!(matches!(error, Error::Api { .. }), "{error:?}");
        assert_key_masked(&error);
    }
}

#[tokio::test]
async fn a_key_quoted_by_a_decoding_error_showed_in_full() {
    // A reputation answer whose score is the key, which the decoder quotes.
    let body = format!(r#"{{"success":true,"response":[{{"category":"CnC","score":"{KEY}"}}]}}"#);
    let server = answering(200, body).await;

    let error = client(&server)
        .ip(ip("192.0.2.7"))
        .reputation()
        .await
        .unwrap_err();

    assert!(matches!(error, Error::ApiDecode { .. }), "{error:?}");
    assert_key_masked(&error);
}

#[tokio::test]
async fn a_key_in_an_answer_that_is_not_the_envelope_showed_in_full() {
    let server = answering(200, format!("<html>bad key {KEY}</html>")).await;

    let error = client(&server)
        .ip(ip("192.0.2.7"))
        .reputation()
        .await
        .unwrap_err();

    assert!(matches!(error, Error::ApiDecode { .. }), "{error:?}");
    assert_key_masked(&error);
}

#[test]
fn an_extra_ca_file_must_hold_a_certificate() {
    let tls = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls");
    let builder = || ApiClient::builder(ApiKey::new(KEY).unwrap()).proxy_from_env(false);

    let with_ca = builder().extra_ca_file(tls.join("test-ca.pem")).build();
    let key_only = builder().extra_ca_file(tls.join("key-only.pem")).build();
    let missing = builder().extra_ca_file(tls.join("absent.pem")).build();

    assert!(with_ca.is_ok(), "{with_ca:?}");
    assert!(
        matches!(key_only, Err(Error::NoCertificate { .. })),
        "{key_only:?}"
    );
    assert!(matches!(missing, Err(Error::CaFile { .. })), "{missing:?}");
}

//! The HTTP list source against mock servers on 127.0.0.1.

#![cfg(feature = "http")]

mod common;

use std::time::{Duration, Instant};

use common::fixture;
use common::http::{CODE, assert_logs_masked, assert_masked, builder, fetch, path_of, source};
use proofpoint_et_client::{
    Error, FetchOutcome, ListFile, ListSource, Md5Digest, RetryPolicy, Validators,
};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const BODY: &[u8] = b"198.51.100.23,1,98\n";
const BODY_MD5: &str = "1927989b8146cbc0cc828f1d7f13de04";

async fn serve(server: &MockServer, file: &str, status: u16, body: &[u8]) {
    Mock::given(method("GET"))
        .and(path(path_of(file)))
        .respond_with(ResponseTemplate::new(status).set_body_bytes(body.to_vec()))
        .mount(server)
        .await;
}

async fn serve_once(server: &MockServer, file: &str, response: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path(path_of(file)))
        .respond_with(response)
        .up_to_n_times(1)
        .mount(server)
        .await;
}

fn complete(
    outcome: Result<FetchOutcome, Error>,
) -> (Validators, proofpoint_et_client::ListSummary) {
    match outcome {
        Ok(FetchOutcome::Complete {
            validators,
            summary,
        }) => (validators, summary),
        other => panic!("expected a complete list, got {other:?}"),
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[tokio::test]
async fn each_list_shape_and_its_gz_is_fetched_and_verified() {
    let cases = [
        (ListFile::DETAILED_IP, "detailed-ip-quirks.txt"),
        (ListFile::DETAILED_DOMAIN, "detailed-domain-quirks.txt"),
        (ListFile::SHORT_IP, "iprepdata-no-header.txt"),
        (ListFile::SHORT_DOMAIN, "domainrepdata-short.txt"),
        (ListFile::IP_JSON, "iprepdata-quirks.json"),
    ];
    let server = MockServer::start().await;
    let source = source(&server.uri());

    for (file, fixture_name) in cases {
        let plain = std::fs::read(fixture(fixture_name)).unwrap();
        let (_, want) = common::parse_in_chunks(&plain, plain.len());

        for (file, body) in [(file, plain.clone()), (file.gzipped(), gzip(&plain))] {
            let sidecar = format!("{}  {}\n", Md5Digest::of(&body), file.name());
            serve(&server, &file.sidecar_name(), 200, sidecar.as_bytes()).await;
            serve(&server, file.name(), 200, &body).await;

            let (outcome, sink) = fetch(&source, file, &Validators::default()).await;
            let (validators, summary) = complete(outcome);
            assert_eq!(validators.md5, Some(Md5Digest::of(&body)), "{file}");
            assert_eq!(summary.gzip, file.is_gzip(), "{file}");
            assert_eq!(sink.rows, want.rows, "{file}");
            assert_eq!(sink.rejections, want.rejections, "{file}");
        }
    }
}

#[tokio::test]
async fn a_sidecar_with_the_known_md5_ends_the_fetch_without_downloading() {
    let server = MockServer::start().await;
    serve(
        &server,
        "iprepdata.txt.md5sum",
        200,
        format!("{BODY_MD5}\n").as_bytes(),
    )
    .await;
    Mock::given(path(path_of("iprepdata.txt")))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(BODY))
        .expect(0)
        .mount(&server)
        .await;

    let known = Validators {
        md5: Some(BODY_MD5.parse().unwrap()),
        ..Validators::default()
    };
    let (outcome, sink) = fetch(&source(&server.uri()), ListFile::SHORT_IP, &known).await;
    assert_eq!(
        outcome.unwrap(),
        FetchOutcome::NotModified { validators: known }
    );
    assert!(sink.rows.is_empty());
}

#[tokio::test]
async fn an_etag_answered_with_304_is_not_modified() {
    let server = MockServer::start().await;
    serve(&server, "iprepdata.txt.md5sum", 404, b"").await;
    Mock::given(path(path_of("iprepdata.txt")))
        .and(header("If-None-Match", "\"v1\""))
        .and(|request: &Request| {
            let since = request.headers.get("if-modified-since");
            since.is_some_and(|value| value == "Wed, 02 Dec 2026 10:00:00 GMT")
        })
        .respond_with(ResponseTemplate::new(304))
        .expect(1)
        .mount(&server)
        .await;

    let known = Validators {
        md5: None,
        etag: Some("\"v1\"".into()),
        last_modified: Some("Wed, 02 Dec 2026 10:00:00 GMT".into()),
    };
    let (outcome, sink) = fetch(&source(&server.uri()), ListFile::SHORT_IP, &known).await;
    assert_eq!(
        outcome.unwrap(),
        FetchOutcome::NotModified { validators: known }
    );
    assert!(sink.rows.is_empty());
}

#[tokio::test]
async fn f05_each_list_keeps_its_own_validators() {
    // F05: the IP list answers 304 to its own ETag while the domain list has a new version.
    let server = MockServer::start().await;
    for sidecar in ["iprepdata.txt.md5sum", "domainrepdata.txt.md5sum"] {
        serve(&server, sidecar, 404, b"").await;
    }
    let ip_body = b"192.0.2.1,1,50\n";
    let domain_v1 = b"alpha.example,27,58\n";
    let domain_v2 = b"alpha.example,27,58\nbeta.example,3,41\n";
    Mock::given(path(path_of("iprepdata.txt")))
        .and(header("If-None-Match", "\"ip-v1\""))
        .respond_with(ResponseTemplate::new(304))
        .mount(&server)
        .await;
    serve_once(
        &server,
        "iprepdata.txt",
        ResponseTemplate::new(200)
            .set_body_bytes(ip_body.to_vec())
            .insert_header("ETag", "\"ip-v1\""),
    )
    .await;
    serve_once(
        &server,
        "domainrepdata.txt",
        ResponseTemplate::new(200)
            .set_body_bytes(domain_v1.to_vec())
            .insert_header("ETag", "\"dom-v1\""),
    )
    .await;
    serve_once(
        &server,
        "domainrepdata.txt",
        ResponseTemplate::new(200)
            .set_body_bytes(domain_v2.to_vec())
            .insert_header("ETag", "\"dom-v2\""),
    )
    .await;
    let source = source(&server.uri());

    // Run 1: both lists are new.
    let (ip, _) = fetch(&source, ListFile::SHORT_IP, &Validators::default()).await;
    let (ip_validators, _) = complete(ip);
    let (domain, _) = fetch(&source, ListFile::SHORT_DOMAIN, &Validators::default()).await;
    let (domain_validators, _) = complete(domain);
    assert_eq!(ip_validators.etag.as_deref(), Some("\"ip-v1\""));
    assert_eq!(domain_validators.etag.as_deref(), Some("\"dom-v1\""));

    // Run 2: each list is asked with its own validators.
    let (ip, ip_sink) = fetch(&source, ListFile::SHORT_IP, &ip_validators).await;
    assert_eq!(
        ip.unwrap(),
        FetchOutcome::NotModified {
            validators: ip_validators.clone()
        }
    );
    assert!(ip_sink.rows.is_empty());
    let (domain, domain_sink) = fetch(&source, ListFile::SHORT_DOMAIN, &domain_validators).await;
    let (new_domain_validators, summary) = complete(domain);
    assert_eq!(new_domain_validators.etag.as_deref(), Some("\"dom-v2\""));
    assert_eq!(summary.rows, 2);
    assert_eq!(domain_sink.rows.len(), 2);

    let requests = server.received_requests().await.unwrap();
    let etags_sent = |file: &str| -> Vec<Option<String>> {
        requests
            .iter()
            .filter(|request: &&Request| request.url.path() == path_of(file))
            .map(|request| {
                request
                    .headers
                    .get("if-none-match")
                    .map(|v| v.to_str().unwrap().to_owned())
            })
            .collect()
    };
    assert_eq!(
        etags_sent("iprepdata.txt"),
        [None, Some("\"ip-v1\"".to_owned())]
    );
    assert_eq!(
        etags_sent("domainrepdata.txt"),
        [None, Some("\"dom-v1\"".to_owned())]
    );
}

#[tokio::test]
async fn f07_sidecars_with_a_bare_or_upper_case_hash_and_a_file_name_verify() {
    // F07 (a) and (b): `<md5>\n` and `<MD5 in upper case>  iprepdata.txt\n`.
    for sidecar in [
        format!("{BODY_MD5}\n"),
        format!("{}  iprepdata.txt\n", BODY_MD5.to_uppercase()),
    ] {
        let server = MockServer::start().await;
        serve(&server, "iprepdata.txt.md5sum", 200, sidecar.as_bytes()).await;
        serve(&server, "iprepdata.txt", 200, BODY).await;

        let (outcome, sink) = fetch(
            &source(&server.uri()),
            ListFile::SHORT_IP,
            &Validators::default(),
        )
        .await;
        let (validators, _) = complete(outcome);
        assert_eq!(validators.md5.unwrap().to_string(), BODY_MD5);
        assert_eq!(sink.rendered_rows(), ["198.51.100.23 1 98 - - []"]);
    }
}

#[tokio::test]
async fn f07_a_sidecar_of_zeros_refuses_the_list_showing_both_hashes() {
    // F07 (c): the sidecar says 000...0 every time, so the retry fails too.
    let server = MockServer::start().await;
    serve(
        &server,
        "iprepdata.txt.md5sum",
        200,
        b"00000000000000000000000000000000\n",
    )
    .await;
    Mock::given(path(path_of("iprepdata.txt")))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(BODY))
        .expect(2)
        .mount(&server)
        .await;

    let (outcome, sink) = fetch(
        &source(&server.uri()),
        ListFile::SHORT_IP,
        &Validators::default(),
    )
    .await;
    let error = outcome.unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "iprepdata.txt does not match its md5 sidecar: expected \
             00000000000000000000000000000000, got {BODY_MD5}"
        )
    );
    assert_eq!(sink.restarts, 1, "the source read the list a second time");
    assert_masked(&error);
}

#[tokio::test]
async fn f07_a_sidecar_that_is_not_a_hash_is_an_error() {
    // F07 (d): `not-a-hash`.
    let server = MockServer::start().await;
    serve(&server, "iprepdata.txt.md5sum", 200, b"not-a-hash\n").await;
    serve(&server, "iprepdata.txt", 200, BODY).await;

    let (outcome, sink) = fetch(
        &source(&server.uri()),
        ListFile::SHORT_IP,
        &Validators::default(),
    )
    .await;
    let error = outcome.unwrap_err();
    assert!(matches!(error, Error::InvalidSidecar { .. }), "{error:?}");
    assert!(sink.rows.is_empty());
}

#[tokio::test]
async fn md5_mismatch_then_success_when_the_list_was_replaced_mid_download() {
    // The sidecar read first is stale; read again, it matches the body that came.
    let server = MockServer::start().await;
    serve_once(
        &server,
        "iprepdata.txt.md5sum",
        ResponseTemplate::new(200).set_body_string("0123456789abcdef0123456789abcdef\n"),
    )
    .await;
    serve(
        &server,
        "iprepdata.txt.md5sum",
        200,
        format!("{BODY_MD5}\n").as_bytes(),
    )
    .await;
    Mock::given(path(path_of("iprepdata.txt")))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(BODY))
        .expect(1)
        .mount(&server)
        .await;

    let (outcome, sink) = fetch(
        &source(&server.uri()),
        ListFile::SHORT_IP,
        &Validators::default(),
    )
    .await;
    let (validators, _) = complete(outcome);
    assert_eq!(validators.md5.unwrap().to_string(), BODY_MD5);
    assert_eq!((sink.rows.len(), sink.restarts), (1, 0));
}

#[tokio::test]
async fn md5_mismatch_then_success_after_a_second_download() {
    // The first body is a stale copy; the second matches the sidecar.
    let server = MockServer::start().await;
    serve(
        &server,
        "iprepdata.txt.md5sum",
        200,
        format!("{BODY_MD5}\n").as_bytes(),
    )
    .await;
    serve_once(
        &server,
        "iprepdata.txt",
        ResponseTemplate::new(200).set_body_bytes(b"192.0.2.99,1,20\n192.0.2.98,1,20\n".to_vec()),
    )
    .await;
    serve(&server, "iprepdata.txt", 200, BODY).await;

    let (outcome, sink) = fetch(
        &source(&server.uri()),
        ListFile::SHORT_IP,
        &Validators::default(),
    )
    .await;
    complete(outcome);
    assert_eq!(sink.restarts, 1);
    assert_eq!(
        sink.rendered_rows(),
        ["198.51.100.23 1 98 - - []"],
        "only the second download's rows"
    );
}

#[tokio::test]
async fn md5_mismatch_with_a_sink_that_cannot_restart_fails_the_fetch() {
    struct NoRestart(usize);
    impl proofpoint_et_client::RowSink for NoRestart {
        fn row(&mut self, _: proofpoint_et_client::Row<'_>) {
            self.0 += 1;
        }
        fn rejection(&mut self, _: proofpoint_et_client::Rejection) {}
    }

    let server = MockServer::start().await;
    serve(
        &server,
        "iprepdata.txt.md5sum",
        200,
        b"00000000000000000000000000000000\n",
    )
    .await;
    Mock::given(path(path_of("iprepdata.txt")))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(BODY))
        .expect(1)
        .mount(&server)
        .await;

    let mut sink = NoRestart(0);
    let outcome = source(&server.uri())
        .fetch(ListFile::SHORT_IP, &Validators::default(), &mut sink)
        .await;
    assert!(
        matches!(outcome, Err(Error::Md5Mismatch { .. })),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn f08_a_truncated_gz_over_http_is_refused_naming_the_file() {
    // F08: the first 48 of 53 bytes, served whole and with a matching length.
    let cut = std::fs::read(fixture("f08/cut-in-trailer.gz")).unwrap();
    let server = MockServer::start().await;
    serve(&server, "iprepdata.txt.gz.md5sum", 404, b"").await;
    serve(&server, "iprepdata.txt.gz", 200, &cut).await;

    let (outcome, _) = fetch(
        &source(&server.uri()),
        ListFile::SHORT_IP.gzipped(),
        &Validators::default(),
    )
    .await;
    let error = outcome.unwrap_err();
    assert!(matches!(error, Error::TruncatedGzip { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .starts_with("iprepdata.txt.gz is truncated")
    );
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out_then_the_list_fetched() {
    let server = MockServer::start().await;
    serve(&server, "iprepdata.txt.md5sum", 404, b"").await;
    serve_once(
        &server,
        "iprepdata.txt",
        ResponseTemplate::new(429).insert_header("Retry-After", "1"),
    )
    .await;
    serve(&server, "iprepdata.txt", 200, BODY).await;

    let started = Instant::now();
    let (outcome, sink) = fetch(
        &source(&server.uri()),
        ListFile::SHORT_IP,
        &Validators::default(),
    )
    .await;
    complete(outcome);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was honoured"
    );
    assert_eq!(sink.rows.len(), 1);
}

#[tokio::test]
async fn a_500_then_success() {
    let server = MockServer::start().await;
    serve(
        &server,
        "iprepdata.txt.md5sum",
        200,
        format!("{BODY_MD5}\n").as_bytes(),
    )
    .await;
    serve_once(
        &server,
        "iprepdata.txt",
        ResponseTemplate::new(500).set_body_string("busy"),
    )
    .await;
    serve(&server, "iprepdata.txt", 200, BODY).await;

    let (outcome, sink) = fetch(
        &source(&server.uri()),
        ListFile::SHORT_IP,
        &Validators::default(),
    )
    .await;
    complete(outcome);
    assert_eq!(sink.rows.len(), 1);
}

#[tokio::test]
async fn a_server_error_that_lasts_keeps_its_status_and_message() {
    let server = MockServer::start().await;
    serve(&server, "iprepdata.txt.md5sum", 404, b"").await;
    Mock::given(path(path_of("iprepdata.txt")))
        .respond_with(
            ResponseTemplate::new(503).set_body_string(format!("maintenance for /{CODE}/")),
        )
        .expect(3)
        .mount(&server)
        .await;

    let (outcome, _) = fetch(
        &source(&server.uri()),
        ListFile::SHORT_IP,
        &Validators::default(),
    )
    .await;
    let error = outcome.unwrap_err();
    let Error::Server {
        status, message, ..
    } = &error
    else {
        panic!("{error:?}")
    };
    assert_eq!((*status, message.as_str()), (503, "maintenance for /***/"));
    assert_masked(&error);
}

#[tokio::test]
async fn a_403_names_the_file_and_suggests_checking_the_code() {
    let server = MockServer::start().await;
    serve(
        &server,
        "detailed-iprepdata.txt.md5sum",
        403,
        format!("no access for {CODE}").as_bytes(),
    )
    .await;

    let (outcome, _) = fetch(
        &source(&server.uri()),
        ListFile::DETAILED_IP,
        &Validators::default(),
    )
    .await;
    let error = outcome.unwrap_err();
    assert_eq!(
        error.to_string(),
        "the list server refused access to detailed-iprepdata.txt.md5sum (http 403): check the \
         subscription code and its entitlements"
    );
    let Error::AccessDenied { message, .. } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(message, "no access for ***");
    assert_masked(&error);
}

#[tokio::test]
async fn a_404_on_a_list_names_the_file_and_suggests_checking_the_code() {
    let server = MockServer::start().await;
    serve(&server, "iprepdata.json.md5sum", 404, b"").await;
    serve(&server, "iprepdata.json", 404, b"").await;

    let (outcome, _) = fetch(
        &source(&server.uri()),
        ListFile::IP_JSON,
        &Validators::default(),
    )
    .await;
    let error = outcome.unwrap_err();
    assert!(matches!(error, Error::NotFound { .. }));
    assert!(
        error.to_string().contains("iprepdata.json was not found"),
        "{error}"
    );
    assert!(error.to_string().contains("subscription code"), "{error}");
}

#[tokio::test]
async fn the_code_is_masked_across_an_allowed_redirect_with_logs_at_trace() {
    let mirror = MockServer::start().await;
    serve(&mirror, "iprepdata.txt.md5sum", 404, b"").await;
    serve(&mirror, "iprepdata.txt", 200, BODY).await;
    let front = MockServer::start().await;
    for file in ["iprepdata.txt.md5sum", "iprepdata.txt"] {
        let location = format!("{}{}", mirror.uri(), path_of(file));
        serve_once(
            &front,
            file,
            ResponseTemplate::new(302).insert_header("Location", location.as_str()),
        )
        .await;
    }

    let (outcome, sink) = fetch(
        &source(&front.uri()),
        ListFile::SHORT_IP,
        &Validators::default(),
    )
    .await;
    complete(outcome);
    assert_eq!(sink.rows.len(), 1);
    let logs = common::http::logs_so_far();
    assert!(
        logs.contains("following a redirect"),
        "the redirect is logged"
    );
    assert!(
        logs.contains("/***/reputation/iprepdata.txt"),
        "with the code masked"
    );
    assert_logs_masked();
}

#[tokio::test]
async fn a_redirect_to_another_host_is_refused_with_the_code_masked() {
    let server = MockServer::start().await;
    let location = format!("http://localhost:9{}", path_of("iprepdata.txt.md5sum"));
    serve(&server, "iprepdata.txt.md5sum", 301, b"").await;
    Mock::given(path(path_of("iprepdata.txt.md5sum")))
        .respond_with(ResponseTemplate::new(301).insert_header("Location", location.as_str()))
        .with_priority(1)
        .mount(&server)
        .await;

    let (outcome, _) = fetch(
        &source(&server.uri()),
        ListFile::SHORT_IP,
        &Validators::default(),
    )
    .await;
    let error = outcome.unwrap_err();
    assert!(matches!(error, Error::RedirectRefused { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .contains("http://localhost:9/***/reputation/"),
        "{error}"
    );
    assert_masked(&error);
}

#[tokio::test]
async fn a_connection_error_is_retried_then_reported_with_the_code_masked() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let source = source(&format!("http://127.0.0.1:{port}"));

    let (outcome, _) = fetch(&source, ListFile::SHORT_IP, &Validators::default()).await;
    let error = outcome.unwrap_err();
    let Error::Transport { url, .. } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(
        url,
        &format!("http://127.0.0.1:{port}/***/reputation/iprepdata.txt.md5sum")
    );
    assert_masked(&error);
    assert!(!format!("{source:?}").contains(CODE));
}

#[tokio::test]
async fn categories_come_from_the_server_or_the_builtin_table() {
    let server = MockServer::start().await;
    serve(&server, "categories.txt.md5sum", 404, b"").await;
    serve(
        &server,
        "categories.txt",
        200,
        b"1,CnC,one\r\n42,Web_Crawler,new\r\n",
    )
    .await;
    let table = source(&server.uri()).categories().await.unwrap();
    assert_eq!(table.name(42), Some("Web_Crawler"));
    assert!(!table.is_builtin());

    let empty = MockServer::start().await;
    serve(&empty, "categories.txt.md5sum", 404, b"").await;
    serve(&empty, "categories.txt", 404, b"").await;
    let table = source(&empty.uri()).categories().await.unwrap();
    assert!(table.is_builtin());

    let denied = MockServer::start().await;
    serve(&denied, "categories.txt.md5sum", 401, b"").await;
    let error = source(&denied.uri()).categories().await.unwrap_err();
    assert!(matches!(error, Error::AccessDenied { status: 401, .. }));
}

#[test]
fn plain_http_is_refused_except_on_loopback_and_the_base_may_not_hold_the_code() {
    for allowed in [
        "http://127.0.0.1:8080",
        "http://localhost/",
        "http://[::1]:1/",
        "https://lists.example/",
    ] {
        assert!(builder(allowed).build().is_ok(), "{allowed}");
    }
    for refused in [
        "http://lists.example/",
        "ftp://lists.example/",
        "https://lists.example/?x=1",
        "not a url",
    ] {
        let error = builder(refused).build().unwrap_err();
        assert!(
            matches!(error, Error::InvalidBaseUrl { .. }),
            "{refused}: {error:?}"
        );
    }
    let error = builder(&format!("https://lists.example/{CODE}/"))
        .build()
        .unwrap_err();
    assert!(error.to_string().contains("holds the subscription code"));
    assert_masked(&error);
}

#[test]
fn f12_an_extra_ca_file_without_a_certificate_stops_before_any_request() {
    // F12 (a) an empty file, (c) a private key only.
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, b"").unwrap();
    let key_only = dir.path().join("key.pem");
    std::fs::write(
        &key_only,
        std::fs::read(fixture("tls/key-only.pem")).unwrap(),
    )
    .unwrap();

    for path in [&empty, &key_only] {
        let error = builder("https://lists.example/")
            .extra_ca_file(path)
            .build()
            .unwrap_err();
        assert!(matches!(error, Error::NoCertificate { .. }), "{error:?}");
        let shown = error.to_string();
        assert!(
            shown.contains(&path.display().to_string()) && shown.contains("no certificate"),
            "{shown}"
        );
    }

    let missing = dir.path().join("missing.pem");
    let error = builder("https://lists.example/")
        .extra_ca_file(&missing)
        .build()
        .unwrap_err();
    assert!(matches!(error, Error::CaFile { .. }), "{error:?}");
}

#[test]
fn f12_pem_certificates_after_text_or_with_crlf_endings_are_loaded_and_counted() {
    // F12 (d) two certificates after text lines, (e) one certificate with CRLF endings.
    let pem = std::fs::read_to_string(fixture("tls/test-ca.pem")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let two = dir.path().join("two.pem");
    std::fs::write(
        &two,
        format!("Bundle made for tests\nsubject: test CA\n{pem}{pem}"),
    )
    .unwrap();
    let crlf = dir.path().join("crlf.pem");
    std::fs::write(&crlf, pem.replace('\n', "\r\n")).unwrap();

    for (path, count) in [(&two, 2), (&crlf, 1)] {
        builder("https://lists.example/")
            .extra_ca_file(path)
            .build()
            .unwrap();
        let logs = common::http::logs_so_far();
        let line = format!("path={} certificates={count}", path.display());
        assert!(logs.contains(&line), "the count is logged: {line}");
    }
}

#[test]
fn f12_a_der_certificate_is_loaded_too() {
    // F12 (b): the same certificate in DER form.
    let der = std::fs::read(fixture("tls/test-ca.der")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ca.der");
    std::fs::write(&path, der).unwrap();
    builder("https://lists.example/")
        .extra_ca_file(&path)
        .build()
        .unwrap();
}

#[tokio::test]
async fn retries_stop_after_the_policy_allows() {
    let server = MockServer::start().await;
    Mock::given(path(path_of("iprepdata.txt.md5sum")))
        .respond_with(ResponseTemplate::new(502))
        .expect(1)
        .mount(&server)
        .await;
    let no_retry = RetryPolicy {
        retries: 0,
        first_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(1),
    };
    let source = builder(&server.uri()).retry(no_retry).build().unwrap();

    let (outcome, _) = fetch(&source, ListFile::SHORT_IP, &Validators::default()).await;
    assert!(
        matches!(outcome, Err(Error::Server { status: 502, .. })),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn f05_each_list_is_checked_against_its_own_sidecar_and_last_modified() {
    // F05, for sidecars and Last-Modified: the IP list's sidecar still has the IP list's last
    // MD5, the domain list's sidecar has a new one.
    let server = MockServer::start().await;
    let ip_md5 = Md5Digest::of(b"192.0.2.1,1,50\n");
    let domain_body = b"alpha.example,27,58\n";
    serve(
        &server,
        "iprepdata.txt.md5sum",
        200,
        format!("{ip_md5}\n").as_bytes(),
    )
    .await;
    let domain_sidecar = format!("{}\n", Md5Digest::of(domain_body));
    serve(
        &server,
        "domainrepdata.txt.md5sum",
        200,
        domain_sidecar.as_bytes(),
    )
    .await;
    Mock::given(path(path_of("iprepdata.txt")))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    Mock::given(path(path_of("domainrepdata.txt")))
        .and(|request: &Request| {
            let since = request.headers.get("if-modified-since");
            since.is_some_and(|value| value == "Tue, 01 Dec 2026 09:00:00 GMT")
        })
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_bytes(domain_body.to_vec())
                .insert_header("Last-Modified", "Fri, 04 Dec 2026 09:00:00 GMT"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let source = source(&server.uri());

    let ip_known = Validators {
        md5: Some(ip_md5),
        last_modified: Some("Mon, 30 Nov 2026 09:00:00 GMT".into()),
        ..Validators::default()
    };
    let (ip, _) = fetch(&source, ListFile::SHORT_IP, &ip_known).await;
    assert_eq!(
        ip.unwrap(),
        FetchOutcome::NotModified {
            validators: ip_known
        }
    );

    let domain_known = Validators {
        md5: Some(Md5Digest::of(b"old\n")),
        last_modified: Some("Tue, 01 Dec 2026 09:00:00 GMT".into()),
        ..Validators::default()
    };
    let (domain, _) = fetch(&source, ListFile::SHORT_DOMAIN, &domain_known).await;
    let (validators, _) = complete(domain);
    assert_eq!(validators.md5, Some(Md5Digest::of(domain_body)));
    assert_eq!(
        validators.last_modified.as_deref(),
        Some("Fri, 04 Dec 2026 09:00:00 GMT")
    );
}

#[tokio::test]
async fn a_missing_sidecar_was_only_info_though_the_operator_must_act() {
    // A 404 sidecar: the list cannot be verified, which the operator must hear about once.
    let server = MockServer::start().await;
    serve(&server, "domainrepdata.csv.gz.md5sum", 404, b"").await;
    let body = gzip(b"alpha.example,27,58\n");
    serve(&server, "domainrepdata.csv.gz", 200, &body).await;
    let source = source(&server.uri());
    let file = proofpoint_et_client::ListFile::new(
        proofpoint_et_client::ListKind::Domain,
        proofpoint_et_client::FileFormat::ShortCsv,
    )
    .gzipped();

    for _ in 0..3 {
        let (outcome, sink) = fetch(&source, file, &Validators::default()).await;
        complete(outcome);
        assert_eq!(sink.rows.len(), 1);
    }
    let logs = common::http::logs_so_far();
    let warn_lines = logs
        .lines()
        .filter(|line| line.contains(" WARN ") && line.contains("domainrepdata.csv.gz.md5sum"))
        .count();
    assert_eq!(warn_lines, 1, "warned once");
    let debug_lines = logs
        .lines()
        .filter(|line| line.contains(" DEBUG ") && line.contains("domainrepdata.csv.gz.md5sum"))
        .filter(|line| line.contains("no md5 sidecar"))
        .count();
    assert_eq!(debug_lines, 2, "later ones at debug");
}

/// Asserts that `error` and the logs show the code nowhere, not even its start, and that the
/// error shows `***` where the server echoed it.
fn assert_code_masked_in_echo(error: &Error) {
    assert_masked(error);
    let shown = common::http::everything_shown(error);
    assert!(
        !shown.contains(&CODE[..6]),
        "part of the code shows in: {shown}"
    );
    assert!(shown.contains("***"), "the code is not masked in: {shown}");
}

#[tokio::test]
async fn a_sidecar_echoing_the_code_showed_it_in_the_invalid_sidecar_error() {
    // A sidecar body that is a refusal naming the code, or an html page repeating the path.
    let bodies = [
        format!("{CODE} is not entitled\n"),
        format!(
            "<html>no such file: {}</html>\n",
            path_of("iprepdata.txt.md5sum")
        ),
    ];
    for body in bodies {
        let server = MockServer::start().await;
        serve(&server, "iprepdata.txt.md5sum", 200, body.as_bytes()).await;

        let (outcome, _) = fetch(
            &source(&server.uri()),
            ListFile::SHORT_IP,
            &Validators::default(),
        )
        .await;

        let error = outcome.unwrap_err();
        assert!(matches!(error, Error::InvalidSidecar { .. }), "{error:?}");
        assert_code_masked_in_echo(&error);
    }
}

#[tokio::test]
async fn a_code_at_the_cut_of_a_long_error_body_showed_its_start() {
    // 290 characters, then the path with the code: the cut at 300 fell inside the code.
    let body = format!("{}{}", "x".repeat(290), path_of("iprepdata.txt"));

    for status in [403, 500] {
        let server = MockServer::start().await;
        serve(&server, "iprepdata.txt.md5sum", status, body.as_bytes()).await;

        let (outcome, _) = fetch(
            &source(&server.uri()),
            ListFile::SHORT_IP,
            &Validators::default(),
        )
        .await;

        let error = outcome.unwrap_err();
        assert!(
            matches!(error, Error::AccessDenied { .. } | Error::Server { .. }),
            "{error:?}"
        );
        assert_code_masked_in_echo(&error);
    }
}

#[tokio::test]
async fn a_code_at_the_end_of_the_part_of_an_error_body_read_showed_its_start() {
    // A body far longer than what is read of it, with the code across the end of that part.
    let mut body = " ".repeat(4090);
    body.push_str(&path_of("iprepdata.txt"));
    let server = MockServer::start().await;
    serve(&server, "iprepdata.txt.md5sum", 403, body.as_bytes()).await;

    let (outcome, _) = fetch(
        &source(&server.uri()),
        ListFile::SHORT_IP,
        &Validators::default(),
    )
    .await;

    let error = outcome.unwrap_err();
    assert_masked(&error);
    let shown = common::http::everything_shown(&error);
    assert!(
        !shown.contains(&CODE[..3]),
        "part of the code shows in: {shown}"
    );
}

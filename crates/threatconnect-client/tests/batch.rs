//! Batch jobs against wiremock: the life of a job, its errors, and the submit stream.

// These tests need the HTTP client.
#![cfg(feature = "http")]

mod common;

use std::ops::Range;

use common::fake::FakeBatchApi;
use common::{answer, assert_signed, builder, client, gzip, path_and_query};
use futures::StreamExt;
use threatconnect_client::{
    BatchAction, BatchIndicator, ChunkLimits, Client, Error, IndicatorType, JobResult, JobSettings,
    JobStatus,
};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn hosts(names: &[&str]) -> Vec<BatchIndicator> {
    names
        .iter()
        .map(|name| BatchIndicator::new(IndicatorType::Host, *name))
        .collect()
}

fn addresses(count: usize) -> Vec<BatchIndicator> {
    (0..count)
        .map(|n| {
            BatchIndicator::new(
                IndicatorType::Address,
                format!("198.51.{}.{}", n / 256, n % 256),
            )
        })
        .collect()
}

async fn submit_all(
    client: &Client,
    settings: JobSettings,
    indicators: Vec<BatchIndicator>,
) -> Vec<JobResult> {
    client.submit_iter(settings, indicators).collect().await
}

fn sorted_positions(results: &[JobResult]) -> Vec<Range<usize>> {
    let mut positions: Vec<_> = results
        .iter()
        .map(|result| match result {
            Ok(outcome) => outcome.positions.clone(),
            Err(failure) => failure.positions.clone(),
        })
        .collect();
    positions.sort_by_key(|range| range.start);
    positions
}

/// Answers the status of job 42 with each fixture once, in order, and the last one after.
async fn mount_status_sequence(server: &MockServer, answers: &[&str]) {
    for (priority, name) in answers.iter().enumerate() {
        let last = priority + 1 == answers.len();
        let mock = Mock::given(method("GET"))
            .and(path("/api/v2/batch/42"))
            .respond_with(ResponseTemplate::new(200).set_body_string(answer(name)))
            .with_priority(u8::try_from(priority + 1).unwrap());
        let mock = if last { mock } else { mock.up_to_n_times(1) };
        mock.mount(server).await;
    }
}

#[tokio::test]
async fn a_job_runs_through_created_queued_running_and_completed_with_gzip_errors() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v2/batch"))
        .respond_with(ResponseTemplate::new(201).set_body_string(answer("batch-created-42")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v2/batch/42"))
        .respond_with(ResponseTemplate::new(202).set_body_string(answer("queued")))
        .expect(1)
        .mount(&server)
        .await;
    mount_status_sequence(
        &server,
        &[
            "status-42-created",
            "status-42-queued",
            "running",
            "status-42-running",
            "status-42-completed-one-error",
        ],
    )
    .await;
    Mock::given(path("/api/v2/batch/42/errors"))
        .respond_with(ResponseTemplate::new(400).set_body_string("Batch still running"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/v2/batch/42/errors"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Content-Type", "application/octet-stream")
                .set_body_bytes(gzip(answer("errors-one-host").as_bytes())),
        )
        .with_priority(2)
        .mount(&server)
        .await;
    let client = builder(&server).create_and_upload(false).build().unwrap();
    let indicators = hosts(&["a.example", "bad_name.example", "c.example"]);

    let results = submit_all(&client, JobSettings::new("Example Org"), indicators).await;

    let outcome = results.into_iter().next().unwrap().unwrap();
    assert_eq!(outcome.status, JobStatus::Completed);
    assert_eq!(
        (
            outcome.success_count,
            outcome.error_count,
            outcome.unprocess_count
        ),
        (2, 1, 0)
    );
    assert_eq!(
        outcome.errors[0].indicator.as_deref(),
        Some("bad_name.example")
    );
    assert_eq!(outcome.errors[0].code, Some(0x1005));
    assert_eq!(outcome.positions, 0..3);
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1 + 1 + 5 + 2);
    requests.iter().for_each(|request| {
        assert_signed(request);
    });
    let upload = &requests[1];
    assert_eq!(
        upload.headers.get("Content-Type").unwrap(),
        "application/octet-stream"
    );
    assert!(
        upload
            .body
            .starts_with(b"{\"indicator\":[{\"summary\":\"a.example\"")
    );
}

#[tokio::test]
async fn errors_served_as_plain_text_are_read_too() {
    let server = MockServer::start().await;
    Mock::given(path("/api/v2/batch/42/errors"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Content-Type", "text/plain")
                .set_body_string(answer("errors-one-host")),
        )
        .mount(&server)
        .await;

    let errors = client(&server)
        .batch_errors(threatconnect_client::BatchId(42))
        .await
        .unwrap();

    match errors {
        threatconnect_client::BatchErrors::Listed(errors) => {
            assert_eq!(errors[0].indicator.as_deref(), Some("bad_name.example"));
        }
        other => panic!("expected listed errors, got {other:?}"),
    }
}

#[tokio::test]
async fn a_job_without_errors_reads_404_as_none() {
    let server = MockServer::start().await;
    Mock::given(path("/api/v2/batch/42/errors"))
        .respond_with(ResponseTemplate::new(404).set_body_string("Not found"))
        .mount(&server)
        .await;

    let errors = client(&server)
        .batch_errors(threatconnect_client::BatchId(42))
        .await
        .unwrap();

    assert_eq!(errors, threatconnect_client::BatchErrors::None);
}

#[tokio::test]
async fn a_small_job_completes_in_the_create_and_upload_answer() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v2/batch/createAndUpload"))
        .respond_with(ResponseTemplate::new(201).set_body_string(answer("status-7-completed")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;

    let results = submit_all(
        &client(&server),
        JobSettings::new("Example Org"),
        hosts(&["a.example", "b.example"]),
    )
    .await;

    let outcome = results.into_iter().next().unwrap().unwrap();
    assert_eq!(outcome.batch_id.0, 7);
    assert_eq!(outcome.success_count, 2);
    let request = &server.received_requests().await.unwrap()[0];
    assert_eq!(
        path_and_query(request),
        "/api/v2/batch/createAndUpload?includeAdditional=true"
    );
    assert_signed(request);
    let body = String::from_utf8_lossy(&request.body);
    assert!(
        body.contains(r#"name="config"; filename="config""#),
        "{body}"
    );
    assert!(
        body.contains(r#"name="content"; filename="content""#),
        "{body}"
    );
    assert!(
        body.contains(r#""playbookTriggersEnabled":false"#),
        "{body}"
    );
    assert!(
        body.contains(r#"{"indicator":[{"summary":"a.example","type":"Host"}"#),
        "{body}"
    );
}

#[tokio::test]
async fn delete_jobs_go_through_create_and_upload() {
    let server = MockServer::start().await;
    let fake = FakeBatchApi::default();
    Mock::given(path("/api/v2/batch/createAndUpload"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(wiremock::matchers::any())
        .respond_with(fake.clone())
        .mount(&server)
        .await;
    let mut settings = JobSettings::new("Example Org");
    settings.action = BatchAction::Delete;

    let results = submit_all(&client(&server), settings, hosts(&["gone.example"])).await;

    assert_eq!(results.len(), 1);
    assert!(results[0].is_ok(), "{:?}", results[0]);
    let create = &server.received_requests().await.unwrap()[0];
    assert_eq!(create.url.path(), "/api/v2/batch");
    assert!(String::from_utf8_lossy(&create.body).contains(r#""action":"Delete""#));
    assert_eq!(fake.state().accepted, ["gone.example"]);
}

async fn fake_server(fake: &FakeBatchApi) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(fake.clone())
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn submit_cuts_jobs_by_count_and_maps_each_outcome_to_its_positions() {
    let fake = FakeBatchApi::default();
    let server = fake_server(&fake).await;
    let client = builder(&server)
        .chunk_limits(ChunkLimits::new(5, 1_000_000).unwrap())
        .build()
        .unwrap();

    let results = submit_all(&client, JobSettings::new("Example Org"), addresses(12)).await;

    assert_eq!(sorted_positions(&results), [0..5, 5..10, 10..12]);
    let written: u64 = results
        .iter()
        .map(|r| r.as_ref().unwrap().success_count)
        .sum();
    assert_eq!(written, 12);
    assert_eq!(fake.state().accepted.len(), 12);
}

#[tokio::test]
async fn submit_cuts_jobs_by_size() {
    let fake = FakeBatchApi::default();
    let server = fake_server(&fake).await;
    let client = builder(&server)
        .chunk_limits(ChunkLimits::new(5_000, 1_000).unwrap())
        .build()
        .unwrap();

    let results = submit_all(&client, JobSettings::new("Example Org"), addresses(100)).await;

    assert!(results.len() >= 5, "{} jobs", results.len());
    assert!(results.iter().all(Result::is_ok));
    let state = fake.state();
    assert_eq!(state.accepted.len(), 100);
    assert!(
        state.accepted_sizes.iter().all(|size| *size <= 1_000),
        "{:?}",
        state.accepted_sizes
    );
}

#[tokio::test]
async fn at_most_k_jobs_run_at_once() {
    let fake = FakeBatchApi::default();
    let server = fake_server(&fake).await;
    let client = builder(&server)
        .chunk_limits(ChunkLimits::new(2, 1_000_000).unwrap())
        .max_concurrent_jobs(3)
        .build()
        .unwrap();

    let results = submit_all(&client, JobSettings::new("Example Org"), addresses(40)).await;

    assert_eq!(results.len(), 20);
    assert!(
        fake.state().most_running_jobs <= 3,
        "{}",
        fake.state().most_running_jobs
    );
}

#[tokio::test]
async fn too_many_indicators_for_the_instance_halves_the_job() {
    let fake = FakeBatchApi {
        max_indicators: Some(3),
        ..FakeBatchApi::default()
    };
    let server = fake_server(&fake).await;
    let client = builder(&server)
        .chunk_limits(ChunkLimits::new(8, 1_000_000).unwrap())
        .max_concurrent_jobs(1)
        .build()
        .unwrap();

    let results = submit_all(&client, JobSettings::new("Example Org"), addresses(16)).await;

    assert!(results.iter().all(Result::is_ok));
    let state = fake.state();
    let mut accepted = state.accepted.clone();
    accepted.sort();
    accepted.dedup();
    assert_eq!((state.accepted.len(), accepted.len()), (16, 16));
    // The job of 8 is refused and the limit drops to 4; its first half of 4 is refused and
    // the limit drops to 2; its second half is refused too. Every later job is cut at 2.
    assert_eq!(state.refused_uploads, 3);
}

#[tokio::test]
async fn batch_not_enabled_stops_the_submission_after_one_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).set_body_string(answer("batch-not-enabled")))
        .mount(&server)
        .await;
    let client = builder(&server)
        .chunk_limits(ChunkLimits::new(2, 1_000_000).unwrap())
        .max_concurrent_jobs(1)
        .build()
        .unwrap();

    let results = submit_all(&client, JobSettings::new("Example Org"), addresses(10)).await;

    assert_eq!(results.len(), 1);
    let failure = results.into_iter().next().unwrap().unwrap_err();
    assert_eq!(failure.positions, 0..2);
    assert!(
        matches!(failure.error, Error::BatchNotEnabled { status: 503, .. }),
        "{:?}",
        failure.error
    );
    assert!(
        failure
            .error
            .to_string()
            .contains("must enable the batch feature")
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_job_that_never_finishes_ends_in_an_error_naming_it() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_string(answer("status-42-queued")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string(answer("running")))
        .mount(&server)
        .await;
    let polls = common::fast_polls().job_deadline(std::time::Duration::from_millis(30));
    let client = builder(&server).poll_policy(polls).build().unwrap();

    let results = submit_all(
        &client,
        JobSettings::new("Example Org"),
        hosts(&["slow.example"]),
    )
    .await;

    let failure = results.into_iter().next().unwrap().unwrap_err();
    assert!(matches!(
        failure.error,
        Error::JobDeadline {
            last_status: JobStatus::Running,
            ..
        }
    ));
    assert!(
        failure.error.to_string().contains("batch job 42"),
        "{}",
        failure.error
    );
}

#[tokio::test]
async fn a_503_other_than_batch_not_enabled_is_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).set_body_string("Service Unavailable"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_string(answer("status-9-completed")))
        .mount(&server)
        .await;

    let results = submit_all(
        &client(&server),
        JobSettings::new("Example Org"),
        hosts(&["a.example"]),
    )
    .await;

    assert_eq!(
        results.into_iter().next().unwrap().unwrap().success_count,
        1
    );
}

#[tokio::test]
async fn clock_skew_on_the_errors_endpoint_is_not_read_as_still_running() {
    let server = MockServer::start().await;
    Mock::given(path("/api/v2/batch/42/errors"))
        .respond_with(ResponseTemplate::new(400).set_body_string(answer("clock-skew")))
        .mount(&server)
        .await;

    let error = client(&server)
        .batch_errors(threatconnect_client::BatchId(42))
        .await
        .unwrap_err();

    assert!(
        matches!(error, Error::ClockSkew { status: 400, .. }),
        "{error:?}"
    );
}

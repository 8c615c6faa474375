//! How fast indicators become job documents, and how fast they go through the client to a
//! loopback stand-in of the Batch API that completes each job in its upload answer.
//!
//! `cargo bench -p threatconnect-client --bench batch`

// criterion's macros write functions without docs.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures::StreamExt;
use threatconnect_client::{
    Attribute, BatchIndicator, ChunkLimits, Chunker, Client, Credentials, IndicatorType,
    JobSettings, Rating, Tag,
};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Indicators shaped as the feed writes them: rating, xid, two tags, three attributes.
fn feed_indicators(count: usize) -> Vec<BatchIndicator> {
    (0..count)
        .map(|n| {
            let value = format!("10.{}.{}.{}", n >> 16 & 0xff, n >> 8 & 0xff, n & 0xff);
            let mut indicator = BatchIndicator::new(IndicatorType::Address, value);
            indicator.rating = Rating::new(3);
            indicator.xid = Some(format!("et-rep:Address:{n:08x}"));
            indicator.tag = vec![
                Tag {
                    name: "ET Reputation".to_owned(),
                },
                Tag {
                    name: "ET: CnC".to_owned(),
                },
            ];
            indicator.attribute = ["External Score", "First Seen", "Last Seen"]
                .map(|kind| Attribute {
                    kind: kind.to_owned(),
                    value: "2024-01-01".to_owned(),
                    displayed: true,
                })
                .to_vec();
            indicator
        })
        .collect()
}

fn chunking(c: &mut Criterion) {
    let indicators = feed_indicators(100_000);
    let mut group = c.benchmark_group("chunker");
    group.throughput(Throughput::Elements(indicators.len() as u64));
    group.bench_function("100k feed indicators into default jobs", |b| {
        b.iter(|| {
            let mut chunker = Chunker::new(ChunkLimits::default());
            let mut jobs = 0;
            for indicator in &indicators {
                jobs += usize::from(chunker.push(black_box(indicator)).unwrap().is_some());
            }
            jobs + usize::from(chunker.finish().is_some())
        })
    });
    group.finish();
}

fn submitting(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(async {
        let server = MockServer::builder()
            .disable_request_recording()
            .start()
            .await;
        Mock::given(any())
            .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({
                "status": "Success",
                "data": {"batchStatus": {
                    "id": 1, "status": "Completed",
                    "errorCount": 0, "successCount": 5000, "unprocessCount": 0
                }}
            })))
            .mount(&server)
            .await;
        server
    });
    let client = Client::builder(
        &format!("{}/api", server.uri()),
        Credentials::hmac("bench", "bench-key"),
    )
    .proxy_from_env(false)
    .build()
    .unwrap();
    let indicators = feed_indicators(100_000);

    let mut group = c.benchmark_group("submit");
    group.sample_size(10);
    group.throughput(Throughput::Elements(indicators.len() as u64));
    group.bench_function("100k feed indicators to a loopback stand-in", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let settings = JobSettings::new("Bench Org");
                let outcomes = client.submit_iter(settings, indicators.clone());
                outcomes
                    .filter(|outcome| futures::future::ready(outcome.is_ok()))
                    .count()
                    .await
            })
        })
    });
    group.finish();
}

/// The same push to a stand-in that answers each upload `Queued` and the first poll
/// `Completed`: the cost of one poll wait per job, with the default poll policy.
fn submitting_with_polls(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(async {
        let server = MockServer::builder()
            .disable_request_recording()
            .start()
            .await;
        Mock::given(wiremock::matchers::method("POST"))
            .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({
                "status": "Success",
                "data": {"batchStatus": {"id": 1, "status": "Queued"}}
            })))
            .mount(&server)
            .await;
        Mock::given(wiremock::matchers::method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "status": "Success",
                "data": {"batchStatus": {
                    "id": 1, "status": "Completed",
                    "errorCount": 0, "successCount": 5000, "unprocessCount": 0
                }}
            })))
            .mount(&server)
            .await;
        server
    });
    let indicators = feed_indicators(100_000);

    let mut group = c.benchmark_group("submit with polls");
    group.sample_size(10);
    group.throughput(Throughput::Elements(indicators.len() as u64));
    for jobs_at_once in [2, 4] {
        let client = Client::builder(
            &format!("{}/api", server.uri()),
            Credentials::hmac("b", "k"),
        )
        .proxy_from_env(false)
        .max_concurrent_jobs(jobs_at_once)
        .build()
        .unwrap();
        let name = format!("100k feed indicators, {jobs_at_once} jobs at once");
        group.bench_function(name, |b| {
            b.iter(|| {
                runtime.block_on(async {
                    let settings = JobSettings::new("Bench Org");
                    let outcomes = client.submit_iter(settings, indicators.clone());
                    outcomes
                        .filter(|outcome| futures::future::ready(outcome.is_ok()))
                        .count()
                        .await
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, chunking, submitting, submitting_with_polls);
criterion_main!(benches);

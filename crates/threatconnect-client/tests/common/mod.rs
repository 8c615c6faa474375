//! Helpers shared by the wiremock tests: a client with tiny waits, signature checks, fixtures.

#![allow(dead_code, unreachable_pub)] // Each test binary uses a different part of this module.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use threatconnect_client::{
    Client, ClientBuilder, Clock, Credentials, PollPolicy, RetryPolicy, SecretString, sign,
};
use wiremock::{MockServer, Request};

pub const ACCESS_ID: &str = "12345678901234567890";
pub const SECRET_KEY: &str = "example-secret-key";

/// A builder for a client of `server`, with waits of milliseconds so that tests stay fast.
pub fn builder(server: &MockServer) -> ClientBuilder {
    Client::builder(
        &format!("{}/api", server.uri()),
        Credentials::hmac(ACCESS_ID, SECRET_KEY),
    )
    .proxy_from_env(false)
    .retry_policy(fast_retries())
    .poll_policy(fast_polls())
}

pub fn client(server: &MockServer) -> Client {
    builder(server).build().unwrap()
}

pub fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .backoff(Duration::from_millis(1), Duration::from_millis(5))
        .max_retry_after(Duration::from_millis(20))
}

pub fn fast_polls() -> PollPolicy {
    PollPolicy::default()
        .waits(Duration::from_millis(1), 2.0, Duration::from_millis(5))
        .job_deadline(Duration::from_secs(5))
}

/// The path and query a request arrived with, byte for byte.
pub fn path_and_query(request: &Request) -> String {
    match request.url.query() {
        Some(query) => format!("{}?{query}", request.url.path()),
        None => request.url.path().to_owned(),
    }
}

fn header<'a>(request: &'a Request, name: &str) -> &'a str {
    request
        .headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

/// Checks that `request` is signed, over the very path and query it arrived with, with the
/// seconds of its own `Timestamp` header. Returns those seconds.
pub fn assert_signed(request: &Request) -> i64 {
    let timestamp: i64 = header(request, "Timestamp").parse().unwrap();
    let signed = path_and_query(request);
    let method = request.method.as_str();

    let signature = sign(&SecretString::new(SECRET_KEY), &signed, method, timestamp);

    assert_eq!(
        header(request, "Authorization"),
        format!("TC {ACCESS_ID}:{signature}")
    );
    timestamp
}

/// A clock that moves one second forward at every reading.
#[derive(Debug)]
pub struct TickingClock(AtomicI64);

impl TickingClock {
    pub fn starting_at(seconds: i64) -> Arc<TickingClock> {
        Arc::new(TickingClock(AtomicI64::new(seconds)))
    }
}

impl Clock for TickingClock {
    fn unix_seconds(&self) -> i64 {
        self.0.fetch_add(1, Ordering::SeqCst)
    }
}

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The text of the answer fixture `tests/fixtures/answers/<name>.json`.
pub fn answer(name: &str) -> String {
    let file = fixture(&format!("answers/{name}.json"));
    std::fs::read_to_string(&file).unwrap_or_else(|error| panic!("{}: {error}", file.display()))
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// The error and its sources, joined as the binary prints them.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A stand-in for the Batch API that really counts: it creates jobs, refuses uploads over
/// its limits as the service does, records every indicator it accepted, and reports each job
/// Running once, then Completed with its counts.
pub mod fake {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    use serde_json::{Value, json};
    use wiremock::{Request, Respond, ResponseTemplate};

    #[derive(Debug, Default)]
    pub struct State {
        next_id: i64,
        /// Indicators per uploaded job.
        jobs: HashMap<i64, usize>,
        /// Jobs polled once already.
        polled: HashMap<i64, usize>,
        pub accepted: Vec<String>,
        pub accepted_sizes: Vec<usize>,
        pub refused_uploads: usize,
        pub running_jobs: usize,
        pub most_running_jobs: usize,
    }

    #[derive(Debug, Clone, Default)]
    pub struct FakeBatchApi {
        pub max_bytes: Option<usize>,
        pub max_indicators: Option<usize>,
        pub state: Arc<Mutex<State>>,
    }

    impl FakeBatchApi {
        pub fn state(&self) -> std::sync::MutexGuard<'_, State> {
            self.state.lock().unwrap()
        }

        /// Takes the document, or refuses it with the body of a 400 answer.
        fn upload(&self, id: i64, document: &[u8]) -> Result<usize, String> {
            if let Some(limit) = self.max_bytes.filter(|limit| document.len() > *limit) {
                self.state().refused_uploads += 1;
                let description = format!("File size greater than allowable limit of {limit}");
                return Err(json!({"status": "Invalid", "description": description}).to_string());
            }
            let document: Value = serde_json::from_slice(document).expect("a JSON document");
            let indicators = document["indicator"].as_array().expect("an indicator list");
            if let Some(limit) = self
                .max_indicators
                .filter(|limit| indicators.len() > *limit)
            {
                self.state().refused_uploads += 1;
                let description =
                    format!("This job would exceed the number of allowed indicators ({limit})");
                return Err(json!({"status": "Invalid", "description": description}).to_string());
            }

            let mut state = self.state();
            state.accepted.extend(
                indicators
                    .iter()
                    .map(|i| i["summary"].as_str().unwrap().to_owned()),
            );
            state.accepted_sizes.push(document.to_string().len());
            state.jobs.insert(id, indicators.len());
            state.running_jobs += 1;
            state.most_running_jobs = state.most_running_jobs.max(state.running_jobs);
            Ok(indicators.len())
        }

        fn new_id(&self) -> i64 {
            let mut state = self.state();
            state.next_id += 1;
            state.next_id
        }

        fn status(&self, id: i64) -> ResponseTemplate {
            let mut state = self.state();
            let polls = {
                let polls = state.polled.entry(id).or_default();
                *polls += 1;
                *polls
            };
            if polls == 1 {
                return ResponseTemplate::new(200).set_body_string(r#"{"status":"Running"}"#);
            }
            let count = state.jobs[&id];
            if polls == 2 {
                state.running_jobs -= 1;
            }
            ResponseTemplate::new(200).set_body_json(json!({
                "status": "Success",
                "data": {"batchStatus": {
                    "id": id, "status": "Completed",
                    "errorCount": 0, "successCount": count, "unprocessCount": 0
                }}
            }))
        }
    }

    /// The `content` part of a createAndUpload form: from the document's start to its end.
    fn content_part(body: &[u8]) -> &[u8] {
        let start = find(body, b"{\"indicator\":[").expect("a content part");
        let end = body
            .windows(2)
            .rposition(|w| w == b"]}")
            .expect("a document end")
            + 2;
        &body[start..end]
    }

    fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
        haystack
            .windows(needle.len())
            .position(|window| window == needle)
    }

    impl Respond for FakeBatchApi {
        fn respond(&self, request: &Request) -> ResponseTemplate {
            let path = request.url.path();
            let segments: Vec<&str> = path
                .trim_start_matches("/api/v2/batch")
                .split('/')
                .collect();
            match (request.method.as_str(), segments.as_slice()) {
                ("POST", [""]) => ResponseTemplate::new(201).set_body_json(json!({
                    "status": "Success",
                    "data": {"batchId": self.new_id()}
                })),
                ("POST", ["", "createAndUpload"]) => {
                    let id = self.new_id();
                    match self.upload(id, content_part(&request.body)) {
                        Ok(_) => ResponseTemplate::new(201).set_body_json(json!({
                            "status": "Success",
                            "data": {"batchStatus": {"id": id, "status": "Queued"}}
                        })),
                        Err(refusal) => ResponseTemplate::new(400).set_body_string(refusal),
                    }
                }
                ("POST", ["", id]) => match self.upload(id.parse().unwrap(), &request.body) {
                    Ok(_) => ResponseTemplate::new(202).set_body_string(r#"{"status":"Queued"}"#),
                    Err(refusal) => ResponseTemplate::new(400).set_body_string(refusal),
                },
                ("GET", ["", id]) => self.status(id.parse().unwrap()),
                _ => ResponseTemplate::new(404).set_body_string(format!("no route for {path}")),
            }
        }
    }
}

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
    Client::builder(&format!("{}/api", server.uri()), Credentials::hmac(ACCESS_ID, SECRET_KEY))
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

    assert_eq!(header(request, "Authorization"), format!("TC {ACCESS_ID}:{signature}"));
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
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
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

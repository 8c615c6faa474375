//! What the HTTP tests share: the code, a fast source, and every log line at `trace`.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use proofpoint_et_client::{
    Error, FetchOutcome, HttpSource, HttpSourceBuilder, ListFile, ListSource, RetryPolicy,
    SubscriptionCode, Validators,
};

use super::Collected;

/// The subscription code of every HTTP test: no log line or error may ever hold it.
pub const CODE: &str = "AUTHCODE5ecret77";

pub fn code() -> SubscriptionCode {
    SubscriptionCode::new(CODE).unwrap()
}

/// The path of `file` under the code.
pub fn path_of(file: &str) -> String {
    format!("/{CODE}/reputation/{file}")
}

/// Settings for tests: short waits, no proxy from the environment.
pub fn builder(base: &str) -> HttpSourceBuilder {
    capture_logs();
    HttpSource::builder(base, code())
        .retry(RetryPolicy {
            retries: 2,
            first_delay: Duration::from_millis(10),
            max_delay: Duration::from_secs(2),
        })
        .connect_timeout(Duration::from_secs(2))
        .read_timeout(Duration::from_secs(2))
        .proxy_from_env(false)
}

pub fn source(base: &str) -> HttpSource {
    builder(base).build().unwrap()
}

pub async fn fetch(
    source: &HttpSource,
    file: ListFile,
    known: &Validators,
) -> (Result<FetchOutcome, Error>, Collected) {
    let mut sink = Collected::default();
    let outcome = source.fetch(file, known, &mut sink).await;
    (outcome, sink)
}

/// An error with all its causes and its `Debug` form, for looking for the code in.
pub fn everything_shown(error: &Error) -> String {
    let mut shown = format!("{error} | {error:?}");
    let mut cause = std::error::Error::source(error);
    while let Some(error) = cause {
        shown.push_str(&format!(" | {error} | {error:?}"));
        cause = error.source();
    }
    shown
}

/// Asserts that neither the error nor any log line so far holds the code.
pub fn assert_masked(error: &Error) {
    let shown = everything_shown(error);
    assert!(!shown.contains(CODE), "the code leaks in: {shown}");
    assert_logs_masked();
}

pub fn assert_logs_masked() {
    let logs = logs_so_far();
    let leaks: Vec<&str> = logs.lines().filter(|line| line.contains(CODE)).collect();
    assert!(leaks.is_empty(), "the code leaks into the logs: {leaks:#?}");
}

static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();

#[derive(Clone)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs, once per test binary, a subscriber that keeps every event at `trace`, the HTTP
/// library's `log` records included.
pub fn capture_logs() {
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = LogBuffer(Arc::clone(&buffer));
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .try_init()
            .expect("no other subscriber in this test binary");
        buffer
    });
}

pub fn logs_so_far() -> String {
    capture_logs();
    String::from_utf8_lossy(&LOGS.get().unwrap().lock().unwrap()).into_owned()
}

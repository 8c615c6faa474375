//! When and how long to wait before trying a request again.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

/// How a source retries: how often, and how long it waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub retries: usize,
    /// The first wait; each next one doubles, with jitter.
    pub first_delay: Duration,
    /// The longest wait, for the backoff and for a server's `Retry-After` alike.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retries: 3,
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    pub(super) fn backoff(&self) -> ExponentialBackoff {
        ExponentialBuilder::default()
            .with_min_delay(self.first_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(self.retries)
            .with_jitter()
            .build()
    }
}

/// Whether an answer with `status` is worth asking again.
pub(super) fn is_retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

/// The wait a `Retry-After` header asks for, in seconds or as an HTTP date, at most `cap`.
pub(super) fn retry_after(headers: &HeaderMap, cap: Duration) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let wait = match value.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => {
            let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
            let seconds = (when.timestamp() - chrono::Utc::now().timestamp()).max(0);
            Duration::from_secs(seconds.unsigned_abs())
        }
    };
    Some(wait.min(cap))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, value.parse().unwrap());
        headers
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date_is_capped() {
        let cap = Duration::from_secs(30);
        assert_eq!(
            retry_after(&headers("2"), cap),
            Some(Duration::from_secs(2))
        );
        assert_eq!(retry_after(&headers("3600"), cap), Some(cap));
        assert_eq!(
            retry_after(&headers("Wed, 21 Oct 2015 07:28:00 GMT"), cap),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(&headers("soon"), cap), None);
        assert_eq!(retry_after(&HeaderMap::new(), cap), None);
    }

    #[test]
    fn only_429_and_server_errors_are_retried() {
        assert!(is_retryable(StatusCode::TOO_MANY_REQUESTS));
        assert!(is_retryable(StatusCode::SERVICE_UNAVAILABLE));
        assert!(!is_retryable(StatusCode::FORBIDDEN));
        assert!(!is_retryable(StatusCode::NOT_FOUND));
    }

    #[test]
    fn the_backoff_grows_and_stops_after_the_retries() {
        let policy = RetryPolicy {
            retries: 3,
            first_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
        };
        let waits: Vec<Duration> = policy.backoff().collect();
        assert_eq!(waits.len(), 3);
        assert!(waits.iter().all(|wait| *wait >= Duration::from_millis(100)));
        assert!(waits.iter().all(|wait| *wait <= Duration::from_secs(2)));
    }
}

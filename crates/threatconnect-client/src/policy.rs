//! How long the client waits: retries of failed requests, and polls of running jobs.

use std::time::{Duration, SystemTime};

/// Retries of requests that failed in a way that may pass: HTTP 429, 500, 502, 503 (other
/// than "Batch API not enabled"), 504, and requests that got no answer.
///
/// The wait before retry *n* is `first_backoff x 2^(n-1)`, capped at `max_backoff`, with
/// jitter (a random part of up to half of it taken off). A 429's `Retry-After` (seconds or an
/// HTTP date) is honoured instead, capped at `max_retry_after`; one that does not parse falls
/// back to the normal wait.
///
/// A request that timed out is retried too. For an upload that means the service may have
/// taken the first one: harmless for Create jobs (they create or update), and a Delete job
/// deletes what is already gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    first_backoff: Duration,
    max_backoff: Duration,
    max_retry_after: Duration,
}

impl Default for RetryPolicy {
    /// 5 attempts, waits from 500 ms up to 30 s, `Retry-After` honoured up to 5 minutes.
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            first_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    /// No retries: one attempt per request.
    pub fn none() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// At most `attempts` attempts per request, the first included (at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> RetryPolicy {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The first wait, and the cap of the growing waits.
    pub fn backoff(mut self, first: Duration, max: Duration) -> RetryPolicy {
        self.first_backoff = first;
        self.max_backoff = max.max(first);
        self
    }

    /// The longest `Retry-After` honoured; longer ones are cut to it.
    pub fn max_retry_after(mut self, max: Duration) -> RetryPolicy {
        self.max_retry_after = max;
        self
    }

    /// The attempts allowed per request.
    pub fn attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The wait before retry number `retry` (1 for the first retry), with jitter.
    pub(crate) fn backoff_before(&self, retry: u32) -> Duration {
        let doublings = retry.saturating_sub(1).min(20);
        let full = self
            .first_backoff
            .saturating_mul(1 << doublings)
            .min(self.max_backoff);
        let jitter = full.mul_f64(fastrand::f64() / 2.0);
        full - jitter
    }

    /// The wait a `Retry-After` value asks for, capped; `None` when it does not parse.
    pub(crate) fn retry_after(&self, value: &str, now: SystemTime) -> Option<Duration> {
        let value = value.trim();
        let asked = match value.parse::<u64>() {
            Ok(seconds) => Duration::from_secs(seconds),
            Err(_) => {
                let date = httpdate::parse_http_date(value).ok()?;
                date.duration_since(now).unwrap_or(Duration::ZERO)
            }
        };
        Some(asked.min(self.max_retry_after))
    }
}

/// How a running batch job is polled: the first wait, its growth, its cap, and how long a job
/// may take before the wait ends in [`Error::JobDeadline`](crate::Error::JobDeadline).
///
/// The defaults (first wait 250 ms, doubling, cap 15 s, deadline 1 hour) see a small job
/// finish within a second or two (polls at 0.25, 0.75, 1.75, 3.75 s...) and poll a
/// 25,000-indicator job every 15 s over its minutes. The short first wait matters for a
/// feed of hundreds of jobs: it is paid once per job.
#[derive(Debug, Clone, PartialEq)]
pub struct PollPolicy {
    first_wait: Duration,
    growth: f64,
    max_wait: Duration,
    job_deadline: Duration,
}

impl Default for PollPolicy {
    fn default() -> PollPolicy {
        PollPolicy {
            first_wait: Duration::from_millis(250),
            growth: 2.0,
            max_wait: Duration::from_secs(15),
            job_deadline: Duration::from_secs(3600),
        }
    }
}

impl PollPolicy {
    /// The wait before the first poll, how each wait grows (a factor of at least 1), and the
    /// longest wait.
    pub fn waits(mut self, first: Duration, growth: f64, max: Duration) -> PollPolicy {
        self.first_wait = first;
        self.growth = if growth.is_finite() {
            growth.max(1.0)
        } else {
            1.0
        };
        self.max_wait = max.max(first);
        self
    }

    /// How long one job may take, from its upload to its end.
    pub fn job_deadline(mut self, deadline: Duration) -> PollPolicy {
        self.job_deadline = deadline;
        self
    }

    /// The deadline of one job.
    pub fn deadline(&self) -> Duration {
        self.job_deadline
    }

    /// The waits between polls, one after another.
    pub(crate) fn wait_sequence(&self) -> impl Iterator<Item = Duration> + use<> {
        let growth = self.growth;
        let max_wait = self.max_wait;
        std::iter::successors(Some(self.first_wait), move |wait| {
            Some(wait.mul_f64(growth).min(max_wait))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_its_cap_and_jitter_takes_at_most_half() {
        let policy =
            RetryPolicy::default().backoff(Duration::from_millis(100), Duration::from_millis(350));

        for _ in 0..50 {
            let first = policy.backoff_before(1);
            let third = policy.backoff_before(3);
            let tenth = policy.backoff_before(10);
            assert!((Duration::from_millis(50)..=Duration::from_millis(100)).contains(&first));
            assert!((Duration::from_millis(175)..=Duration::from_millis(350)).contains(&third));
            assert!(tenth <= Duration::from_millis(350));
        }
    }

    #[test]
    fn retry_after_in_seconds_is_honoured_up_to_the_cap() {
        let policy = RetryPolicy::default().max_retry_after(Duration::from_secs(60));
        let now = SystemTime::now();

        assert_eq!(policy.retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            policy.retry_after("3600", now),
            Some(Duration::from_secs(60))
        );
    }

    #[test]
    fn retry_after_as_an_http_date_counts_from_now() {
        let policy = RetryPolicy::default();
        let now = httpdate::parse_http_date("Fri, 04 Dec 2026 10:00:00 GMT").unwrap();

        let wait = policy.retry_after("Fri, 04 Dec 2026 10:00:42 GMT", now);
        let past = policy.retry_after("Fri, 04 Dec 2026 09:00:00 GMT", now);

        assert_eq!(wait, Some(Duration::from_secs(42)));
        assert_eq!(past, Some(Duration::ZERO));
    }

    #[test]
    fn a_retry_after_that_does_not_parse_gives_no_wait_of_its_own() {
        let policy = RetryPolicy::default();

        assert_eq!(policy.retry_after("soon", SystemTime::now()), None);
        assert_eq!(policy.retry_after("-5", SystemTime::now()), None);
    }

    #[test]
    fn poll_waits_grow_to_their_cap() {
        let policy =
            PollPolicy::default().waits(Duration::from_secs(1), 2.0, Duration::from_secs(5));

        let waits: Vec<u64> = policy
            .wait_sequence()
            .take(5)
            .map(|w| w.as_secs())
            .collect();

        assert_eq!(waits, [1, 2, 4, 5, 5]);
    }
}

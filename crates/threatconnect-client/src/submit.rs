//! The high-level submit: a stream of indicators in, a stream of job outcomes out.
//!
//! Indicators are pulled from the caller's stream only as jobs are started, serialised by the
//! [`Chunker`] into job documents, and run at most K at a time on the runtime (each job a
//! task, so jobs go on while the caller handles an outcome). Each outcome comes out as soon
//! as its job finishes, so that the caller can commit job by job.
//!
//! A job refused as too large ("File size greater than allowable limit", or too many
//! indicators) is cut in half and both halves are run in its place; the smaller limit then
//! holds for every job cut after it in the same call (field case F11).

use std::collections::VecDeque;
use std::fmt;
use std::ops::Range;
use std::pin::Pin;
use std::sync::Arc;

use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use tokio::task::JoinSet;

use crate::batch::JobOutcome;
use crate::chunk::{Chunker, JobDocument};
use crate::client::Client;
use crate::document::BatchIndicator;
use crate::error::Error;
use crate::settings::JobSettings;

/// A job, or a single indicator, that did not go through.
#[derive(Debug)]
pub struct JobFailure {
    /// The positions, in the submitted sequence, of the indicators it carried. None of them
    /// can be taken as written.
    pub positions: Range<usize>,
    /// Why.
    pub error: Error,
}

impl fmt::Display for JobFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Range { start, end } = self.positions;
        write!(
            f,
            "the batch job of input positions {start} to {} failed",
            end.saturating_sub(1)
        )
    }
}

impl std::error::Error for JobFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// What [`Client::submit`] yields for each job.
pub type JobResult = Result<JobOutcome, JobFailure>;

impl Client {
    /// Submits `indicators` as batch jobs with `settings`; see the [module docs](self).
    ///
    /// Jobs are cut by the client's chunk limits and run at most
    /// [`max_concurrent_jobs`](crate::ClientBuilder::max_concurrent_jobs) at once. Outcomes
    /// come in the order jobs finish, each with the input positions it carried. After an
    /// error that every later job would meet too ([`Error::is_fatal_for_run`]), no new job
    /// is started: the jobs running finish and the stream ends. Dropping the stream stops
    /// the jobs running. Input positions that no outcome and no failure names were not sent
    /// (or not confirmed) and must not be taken as written.
    ///
    /// The stream must be polled inside a Tokio runtime.
    ///
    /// ```no_run
    /// use futures::StreamExt;
    /// use threatconnect_client::{BatchIndicator, Client, Credentials, IndicatorType, JobSettings};
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let client =
    ///     Client::builder("https://tc.example/api", Credentials::token("token")).build()?;
    /// let addresses = ["192.0.2.1", "192.0.2.2"]
    ///     .map(|address| BatchIndicator::new(IndicatorType::Address, address));
    ///
    /// let mut outcomes = client.submit_iter(JobSettings::new("Example Org"), addresses);
    /// while let Some(outcome) = outcomes.next().await {
    ///     let outcome = outcome?;
    ///     println!("job {} wrote {}", outcome.batch_id, outcome.success_count);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn submit<S>(&self, settings: JobSettings, indicators: S) -> BoxStream<'static, JobResult>
    where
        S: Stream<Item = BatchIndicator> + Send + 'static,
    {
        let submission = Submission {
            client: self.clone(),
            settings: Arc::new(settings),
            source: Box::pin(indicators),
            chunker: Some(Chunker::new(self.inner.chunk_limits)),
            retry_queue: VecDeque::new(),
            running: JoinSet::new(),
            stopped: false,
            totals: Totals::default(),
        };
        futures::stream::unfold(submission, |mut submission| async move {
            let item = submission.next_result().await?;
            Some((item, submission))
        })
        .fuse()
        .boxed()
    }

    /// [`Client::submit`] for an iterator.
    pub fn submit_iter<I>(
        &self,
        settings: JobSettings,
        indicators: I,
    ) -> BoxStream<'static, JobResult>
    where
        I: IntoIterator<Item = BatchIndicator>,
        I::IntoIter: Send + 'static,
    {
        self.submit(settings, futures::stream::iter(indicators))
    }
}

/// A job's document and how its run ended.
struct JobRun {
    document: JobDocument,
    result: Result<JobOutcome, Error>,
}

#[derive(Debug, Default)]
struct Totals {
    jobs: usize,
    success: u64,
    errors: u64,
    unprocessed: u64,
    failed_jobs: usize,
}

struct Submission {
    client: Client,
    settings: Arc<JobSettings>,
    source: Pin<Box<dyn Stream<Item = BatchIndicator> + Send>>,
    /// `None` once the source is exhausted.
    chunker: Option<Chunker>,
    /// Halves of jobs refused as too large, run before new jobs.
    retry_queue: VecDeque<JobDocument>,
    running: JoinSet<JobRun>,
    /// Set after an error every later job would meet: no new job starts.
    stopped: bool,
    totals: Totals,
}

impl Submission {
    async fn next_result(&mut self) -> Option<JobResult> {
        loop {
            if let Some(refused) = self.start_jobs().await {
                return Some(Err(refused));
            }

            let Some(joined) = self.running.join_next().await else {
                self.log_totals();
                return None;
            };
            let run = match joined {
                Ok(run) => run,
                Err(join_error) if join_error.is_panic() => {
                    std::panic::resume_unwind(join_error.into_panic())
                }
                Err(_) => continue,
            };
            if let Some(result) = self.finish(run) {
                return Some(result);
            }
        }
    }

    /// Starts jobs until K run; returns an indicator the chunker refused.
    async fn start_jobs(&mut self) -> Option<JobFailure> {
        while !self.stopped && self.running.len() < self.client.inner.max_concurrent_jobs {
            let document = match self.retry_queue.pop_front() {
                Some(document) => document,
                None => match self.next_document().await {
                    Ok(Some(document)) => document,
                    Ok(None) => return None,
                    Err(refused) => return Some(refused),
                },
            };
            self.spawn(document);
        }
        None
    }

    /// The next job document from the source; `Ok(None)` when it is exhausted.
    async fn next_document(&mut self) -> Result<Option<JobDocument>, JobFailure> {
        loop {
            let Some(chunker) = self.chunker.as_mut() else {
                return Ok(None);
            };
            let Some(indicator) = self.source.next().await else {
                return Ok(self.chunker.take().and_then(Chunker::finish));
            };

            let position = chunker.next_position();
            match chunker.push(&indicator) {
                Ok(Some(document)) => return Ok(Some(document)),
                Ok(None) => {}
                Err(error) => {
                    self.totals.failed_jobs += 1;
                    return Err(JobFailure {
                        positions: position..position + 1,
                        error,
                    });
                }
            }
        }
    }

    fn spawn(&mut self, document: JobDocument) {
        tracing::debug!(
            indicators = document.indicator_count(),
            bytes = document.len_bytes(),
            first_position = document.positions().start,
            "starting a batch job"
        );
        let client = self.client.clone();
        let settings = Arc::clone(&self.settings);
        self.running.spawn(async move {
            let result = client.run_job(&settings, &document).await;
            JobRun { document, result }
        });
    }

    /// What a finished run yields, or `None` when it was cut in half to run again.
    fn finish(&mut self, run: JobRun) -> Option<JobResult> {
        match run.result {
            Ok(outcome) => {
                self.count(&outcome);
                Some(Ok(outcome))
            }
            Err(error @ (Error::Oversize { .. } | Error::TooManyIndicators { .. })) => {
                self.split(run.document, error)
            }
            Err(error) => {
                if error.is_fatal_for_run() && !self.stopped {
                    tracing::debug!(%error, "no more batch jobs are started after this error");
                    self.stopped = true;
                }
                self.totals.failed_jobs += 1;
                Some(Err(JobFailure {
                    positions: run.document.positions(),
                    error,
                }))
            }
        }
    }

    /// Lowers the limits for jobs still to be cut and queues the halves of `document`; a
    /// single indicator that is too large is a failure.
    fn split(&mut self, document: JobDocument, error: Error) -> Option<JobResult> {
        self.lower_limits(&document, &error);
        let Some((first, second)) = document.split_in_half() else {
            self.totals.failed_jobs += 1;
            return Some(Err(JobFailure {
                positions: document.positions(),
                error,
            }));
        };

        tracing::debug!(
            indicators = document.indicator_count(),
            bytes = document.len_bytes(),
            %error,
            "batch job too large for the instance, cut in half"
        );
        self.retry_queue.push_front(second);
        self.retry_queue.push_front(first);
        None
    }

    fn lower_limits(&mut self, document: &JobDocument, error: &Error) {
        let Some(chunker) = self.chunker.as_mut() else {
            return;
        };
        let limits = chunker.limits();
        let lowered = match error {
            Error::Oversize {
                limit: Some(limit),
                size,
                ..
            } if limit < size => limits.lowered_bytes(*limit),
            Error::Oversize { size, .. } => limits.lowered_bytes(size / 2),
            _ => limits.lowered_indicators(document.indicator_count() / 2),
        };
        if lowered != limits {
            tracing::debug!(
                max_bytes = lowered.max_bytes(),
                max_indicators = lowered.max_indicators(),
                "job limits lowered for the rest of this submission"
            );
            chunker.set_limits(lowered);
        }
    }

    fn count(&mut self, outcome: &JobOutcome) {
        self.totals.jobs += 1;
        self.totals.success += outcome.success_count;
        self.totals.errors += outcome.error_count;
        self.totals.unprocessed += outcome.unprocess_count;
    }

    fn log_totals(&self) {
        let totals = &self.totals;
        tracing::info!(
            jobs = totals.jobs,
            written = totals.success,
            refused = totals.errors,
            unprocessed = totals.unprocessed,
            failed_jobs = totals.failed_jobs,
            "batch submission finished"
        );
    }
}

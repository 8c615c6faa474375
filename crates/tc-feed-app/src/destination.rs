//! Where the documents go: ThreatConnect's Batch API, or a dry-run folder.
//!
//! The job does not know which one it has: it hands a destination the job settings and a
//! stream of indicators, and commits what each job's [`JobReply`] confirms. The dry-run folder
//! cuts documents with the same chunker as the Batch API client, so a dry run writes exactly
//! the jobs a real run would send, and confirms every one of them.

use std::fs;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::future::{self, BoxFuture, FutureExt};
use futures::stream::{self, BoxStream, StreamExt};
use threatconnect_client::{
    BatchAction, BatchIndicator, ChunkLimits, Chunker, Client, JobDocument, JobFailure, JobOutcome,
    JobSettings,
};

/// One value a job rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedItem {
    /// The indicator value the error names.
    pub value: String,
    /// ThreatConnect's reason.
    pub reason: String,
    /// The error code (`0x1005` is 4101), where the reason carries one.
    pub code: Option<u32>,
}

/// A job ThreatConnect finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmation {
    /// The positions, in the submitted stream, of the indicators the job carried.
    pub positions: Range<usize>,
    /// The job's ID (none for a dry run).
    pub batch_id: Option<i64>,
    /// Its final status.
    pub status: String,
    /// Items written.
    pub success: u64,
    /// Items refused.
    pub errors: u64,
    /// Items not processed.
    pub unprocessed: u64,
    /// The values the errors name.
    pub rejected: Vec<RejectedItem>,
    /// Whether every indicator is accounted for (written, or refused by name): only then may
    /// the job's indicators, less the refused ones, enter the state.
    pub accounts_for_every_indicator: bool,
}

/// What became of one job.
#[derive(Debug)]
pub enum JobReply {
    /// The job finished.
    Confirmed(Confirmation),
    /// The job failed; none of its indicators may be taken as written.
    Failed {
        /// The positions of its indicators.
        positions: Range<usize>,
        /// Why.
        error: Box<dyn std::error::Error + Send + Sync>,
        /// Whether the failure ends the run (refused credentials, clock off, batch disabled).
        fatal: bool,
    },
}

impl JobReply {
    /// The positions of the job's indicators in the submitted stream.
    pub fn positions(&self) -> &Range<usize> {
        match self {
            JobReply::Confirmed(confirmation) => &confirmation.positions,
            JobReply::Failed { positions, .. } => positions,
        }
    }
}

/// Where documents go.
pub trait Destination: Send + Sync {
    /// A description for logs and the report: the masked URL, or the folder.
    fn describe(&self) -> String;

    /// Sends `indicators` in jobs with `settings`, and yields each job's reply as it finishes.
    /// Positions that no reply names were not sent.
    fn send(
        &self,
        settings: JobSettings,
        indicators: BoxStream<'static, BatchIndicator>,
    ) -> BoxStream<'static, JobReply>;
}

/// ThreatConnect's Batch API.
#[derive(Debug, Clone)]
pub struct ThreatConnect {
    client: Client,
    url: String,
}

impl ThreatConnect {
    /// The Batch API of `client`, at `url` (for the report).
    pub fn new(client: Client, url: String) -> ThreatConnect {
        ThreatConnect { client, url }
    }
}

impl Destination for ThreatConnect {
    fn describe(&self) -> String {
        self.url.clone()
    }

    fn send(
        &self,
        settings: JobSettings,
        indicators: BoxStream<'static, BatchIndicator>,
    ) -> BoxStream<'static, JobReply> {
        self.client
            .submit(settings, indicators)
            .map(reply_of)
            .boxed()
    }
}

fn reply_of(result: Result<JobOutcome, JobFailure>) -> JobReply {
    match result {
        Ok(outcome) => JobReply::Confirmed(confirmation_of(&outcome)),
        Err(failure) => JobReply::Failed {
            positions: failure.positions.clone(),
            fatal: failure.error.is_fatal_for_run(),
            error: Box::new(failure.error),
        },
    }
}

fn confirmation_of(outcome: &JobOutcome) -> Confirmation {
    let rejected = outcome
        .errors
        .iter()
        .filter_map(|error| {
            let value = error.indicator.clone()?;
            Some(RejectedItem {
                value,
                reason: error.reason.clone(),
                code: error.code,
            })
        })
        .collect();
    Confirmation {
        positions: outcome.positions.clone(),
        batch_id: Some(outcome.batch_id.0),
        status: outcome.status.to_string(),
        success: outcome.success_count,
        errors: outcome.error_count,
        unprocessed: outcome.unprocess_count,
        rejected,
        accounts_for_every_indicator: outcome.accounts_for_every_indicator(),
    }
}

/// A folder that receives one JSON document per job, with its settings beside it, and
/// confirms every job.
///
/// Files are named by order and action: `jobs/0001-create.json` and
/// `jobs/0001-create.settings.json`.
#[derive(Debug)]
pub struct DryRunFolder {
    jobs: PathBuf,
    limits: ChunkLimits,
    next_order: Arc<AtomicUsize>,
}

impl DryRunFolder {
    /// The folder `dir`, cutting jobs at `limits`. Job documents a previous dry run left in
    /// `dir/jobs` are removed, so that the folder shows this run's jobs only.
    ///
    /// # Errors
    ///
    /// Where the folder cannot be created or cleared.
    pub fn create(dir: &Path, limits: ChunkLimits) -> std::io::Result<DryRunFolder> {
        let jobs = dir.join("jobs");
        fs::create_dir_all(&jobs)?;
        for entry in fs::read_dir(&jobs)? {
            let path = entry?.path();
            if is_job_file(&path) {
                fs::remove_file(path)?;
            }
        }
        Ok(DryRunFolder {
            jobs,
            limits,
            next_order: Arc::new(AtomicUsize::new(1)),
        })
    }

    /// The folder the job documents go to.
    pub fn jobs_folder(&self) -> &Path {
        &self.jobs
    }
}

fn is_job_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or_default();
    let numbered = name.len() > 5 && name[..4].bytes().all(|b| b.is_ascii_digit());
    numbered && name.ends_with(".json")
}

impl Destination for DryRunFolder {
    fn describe(&self) -> String {
        format!("dry run into {}", self.jobs.display())
    }

    /// Each job's document is written on a blocking thread while the next one is cut, so
    /// that the file writes (a fifth of a dry run's time) overlap with serialising.
    fn send(
        &self,
        settings: JobSettings,
        indicators: BoxStream<'static, BatchIndicator>,
    ) -> BoxStream<'static, JobReply> {
        let writer = Arc::new(JobWriter {
            jobs: self.jobs.clone(),
            next_order: Arc::clone(&self.next_order),
            settings: Arc::new(settings),
        });
        let chunker = Chunker::new(self.limits);
        stream::unfold(
            (indicators, Some(chunker), writer),
            |(mut indicators, mut chunker, writer)| async move {
                let current = chunker.as_mut()?;
                while let Some(indicator) = indicators.next().await {
                    match current.push(&indicator) {
                        Ok(None) => continue,
                        Ok(Some(document)) => {
                            let reply = JobWriter::write_in_background(&writer, document);
                            return Some((reply, (indicators, chunker, writer)));
                        }
                        Err(error) => {
                            // The refused indicator took the position before the next one.
                            let position = current.next_position() - 1;
                            let reply = JobReply::Failed {
                                positions: position..position + 1,
                                error: Box::new(error),
                                fatal: false,
                            };
                            let reply = future::ready(reply).boxed();
                            return Some((reply, (indicators, chunker, writer)));
                        }
                    }
                }
                let last = chunker.take()?.finish()?;
                let reply = JobWriter::write_in_background(&writer, last);
                Some((reply, (indicators, None, writer)))
            },
        )
        .buffered(WRITES_AT_ONCE)
        .boxed()
    }
}

/// Job documents being written at once, while the next one is cut.
const WRITES_AT_ONCE: usize = 2;

/// Writes the jobs of one `send`.
struct JobWriter {
    jobs: PathBuf,
    next_order: Arc<AtomicUsize>,
    settings: Arc<JobSettings>,
}

impl JobWriter {
    /// Writes `document` on a blocking thread; its file names take the next number now, so
    /// that jobs are numbered in the order they were cut.
    fn write_in_background(
        writer: &Arc<JobWriter>,
        document: JobDocument,
    ) -> BoxFuture<'static, JobReply> {
        let order = writer.next_order.fetch_add(1, Ordering::Relaxed);
        let positions = document.positions();
        let writer = Arc::clone(writer);
        let written = tokio::task::spawn_blocking(move || writer.write(order, &document));
        async move {
            written.await.unwrap_or_else(|error| JobReply::Failed {
                positions,
                error: Box::new(error),
                fatal: true,
            })
        }
        .boxed()
    }

    fn write(&self, order: usize, document: &JobDocument) -> JobReply {
        match self.try_write(order, document) {
            Ok(()) => JobReply::Confirmed(Confirmation {
                positions: document.positions(),
                batch_id: None,
                status: "Completed".to_owned(),
                success: document.indicator_count() as u64,
                errors: 0,
                unprocessed: 0,
                rejected: Vec::new(),
                accounts_for_every_indicator: true,
            }),
            Err(error) => JobReply::Failed {
                positions: document.positions(),
                error: Box::new(error),
                fatal: true,
            },
        }
    }

    fn try_write(&self, order: usize, document: &JobDocument) -> std::io::Result<()> {
        let action = match self.settings.action {
            BatchAction::Delete => "delete",
            _ => "create",
        };
        let stem = format!("{order:04}-{action}");

        let body = self.jobs.join(format!("{stem}.json"));
        fs::write(&body, document.body())?;
        let settings = self.jobs.join(format!("{stem}.settings.json"));
        let mut json = serde_json::to_vec_pretty(&*self.settings).expect("settings serialise");
        json.push(b'\n');
        fs::write(settings, json)?;
        let indicators = document.indicator_count();
        tracing::debug!(job = %body.display(), indicators, "wrote a dry-run job");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use threatconnect_client::IndicatorType;

    use super::*;

    fn addresses(count: usize) -> Vec<BatchIndicator> {
        (0..count)
            .map(|n| BatchIndicator::new(IndicatorType::Address, format!("192.0.2.{n}")))
            .collect()
    }

    #[tokio::test]
    async fn dry_run_jobs_are_numbered_and_confirmed_in_the_order_they_were_cut() {
        let dir = tempfile::tempdir().unwrap();
        let limits = ChunkLimits::new(3, 1_000_000).unwrap();
        let folder = DryRunFolder::create(dir.path(), limits).unwrap();

        let indicators = stream::iter(addresses(10)).boxed();
        let replies: Vec<JobReply> = folder
            .send(JobSettings::new("Demo"), indicators)
            .collect()
            .await;

        let positions: Vec<Range<usize>> = replies
            .iter()
            .map(|reply| match reply {
                JobReply::Confirmed(confirmation) => confirmation.positions.clone(),
                JobReply::Failed { error, .. } => panic!("{error}"),
            })
            .collect();
        assert_eq!(positions, [0..3, 3..6, 6..9, 9..10]);
        for (order, first) in [(1, 0), (2, 3), (3, 6), (4, 9)] {
            let path = folder.jobs_folder().join(format!("{order:04}-create.json"));
            let body = fs::read_to_string(&path).unwrap();
            let summary = format!("{{\"summary\":\"192.0.2.{first}\"");
            assert!(
                body.starts_with(&format!("{{\"indicator\":[{summary}")),
                "{body}"
            );
            assert!(path.with_extension("settings.json").exists());
        }
    }

    #[tokio::test]
    async fn a_dry_run_job_that_cannot_be_written_fails_the_run() {
        let dir = tempfile::tempdir().unwrap();
        let folder = DryRunFolder::create(dir.path(), ChunkLimits::default()).unwrap();
        fs::remove_dir_all(folder.jobs_folder()).unwrap();

        let indicators = stream::iter(addresses(2)).boxed();
        let replies: Vec<JobReply> = folder
            .send(JobSettings::new("Demo"), indicators)
            .collect()
            .await;

        assert_eq!(replies.len(), 1);
        assert!(
            matches!(&replies[0], JobReply::Failed { positions, fatal: true, .. } if *positions == (0..2))
        );
    }
}

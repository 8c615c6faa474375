//! The report of one run: `report.json`, written after every run that got past the
//! configuration and the lock, failed ones included.
//!
//! It says, per list, what was read, what was dropped and why, what was sent and what
//! ThreatConnect did with it, so that an operator can see why N rows became M indicators and
//! what to look at. It never holds a secret: URLs in it are masked.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::exit::ExitCode;

/// How many line numbers the report keeps per rejection reason.
pub const LINES_PER_REASON: usize = 5;

/// The report of one run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The version of tc-feed that wrote it.
    pub tc_feed_version: &'static str,
    /// When the run started.
    pub started_at: DateTime<Utc>,
    /// When it finished.
    pub finished_at: Option<DateTime<Utc>>,
    /// How it ended, as the exit code says.
    pub outcome: Outcome,
    /// Where the documents went: ThreatConnect's URL, or the dry-run folder.
    pub destination: String,
    /// The owner.
    pub owner: String,
    /// Whether this was a dry run.
    pub dry_run: bool,
    /// Whether every indicator was sent, not only the changes.
    pub full_refresh: bool,
    /// Why the run stopped before any list was fetched, where it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped_early: Option<String>,
    /// The state file.
    pub state_path: PathBuf,
    /// Per list file name.
    pub lists: BTreeMap<String, ListReport>,
    /// Values ThreatConnect rejected in this run, with its reasons.
    pub rejected: Vec<RejectedValue>,
    /// Values parked after repeated rejection: not retried until their content changes.
    pub parked: Vec<RejectedValue>,
    /// Stage durations in milliseconds, by stage name.
    pub durations_ms: BTreeMap<String, u64>,
    /// The error chain of a failed run, outermost first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub error: Vec<String>,
    /// Things the operator should look at (the reasons for exit code 3).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Still running (a report is never written in this state, except by a crash).
    Running,
    /// Everything was done.
    Success,
    /// Finished, with something to look at.
    Attention,
    /// Failed.
    Failed,
}

impl Outcome {
    /// The exit code of a run that ended so.
    pub fn exit_code(self) -> ExitCode {
        match self {
            Outcome::Running | Outcome::Failed => ExitCode::Failed,
            Outcome::Success => ExitCode::Success,
            Outcome::Attention => ExitCode::Attention,
        }
    }
}

/// What became of one list.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ListReport {
    /// What happened to the list as a whole.
    pub status: ListStatus,
    /// Why it was not imported, where it was not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The MD5 of the list as served, where known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub md5: Option<String>,
    /// Whether it changed since the last committed import.
    pub changed: bool,
    /// Rows read.
    pub rows_read: u64,
    /// Rows rejected, by reason, with the first few line numbers of each.
    pub rows_rejected: BTreeMap<String, RejectedRows>,
    /// Indicators mapped, by type.
    pub indicators: BTreeMap<String, u64>,
    /// Values dropped by the filters, by reason.
    pub dropped: BTreeMap<String, u64>,
    /// Indicators new since the last import.
    pub added: u64,
    /// Indicators whose content changed.
    pub changed_indicators: u64,
    /// Indicators unchanged.
    pub unchanged: u64,
    /// Indicators sent (the delta, or all on a full refresh), retries included.
    pub sent: u64,
    /// Indicators that left the list.
    pub removed: u64,
    /// The action applied to them.
    pub removal_action: String,
    /// Whether the mass-removal guard held the removals back.
    pub removals_held_back: bool,
    /// The batch jobs, in the order they finished.
    pub jobs: Vec<JobReport>,
    /// Durations of this list's stages in milliseconds: `diff_and_plan`, then `send_upsert`
    /// and `send_<removal action>` (sending includes committing each job).
    pub durations_ms: BTreeMap<String, u64>,
}

/// What happened to a list as a whole.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ListStatus {
    /// Not reached (the run failed before it).
    #[default]
    NotReached,
    /// Unchanged, with nothing pending: nothing to do.
    Unchanged,
    /// Imported.
    Imported,
    /// Not imported: the download did not complete, or the list was refused.
    NotImported,
    /// Not collected (its indicator type is not configured).
    NotCollected,
}

/// Rows rejected for one reason.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RejectedRows {
    /// How many.
    pub count: u64,
    /// The first few line numbers.
    pub lines: Vec<u64>,
}

impl RejectedRows {
    /// Counts one more rejected row.
    pub fn add(&mut self, line: u64) {
        self.count += 1;
        if self.lines.len() < LINES_PER_REASON {
            self.lines.push(line);
        }
    }
}

/// One batch job.
#[derive(Debug, Clone, Serialize)]
pub struct JobReport {
    /// The job's ID at ThreatConnect (none for a dry run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_id: Option<u64>,
    /// `Create` or `Delete`, and what for: `upsert` or the removal action.
    pub purpose: String,
    /// The job's final status.
    pub status: String,
    /// Indicators in the job.
    pub indicators: u64,
    /// Indicators ThreatConnect saved.
    pub success: u64,
    /// Indicators it rejected.
    pub errors: u64,
    /// Indicators it did not process.
    pub unprocessed: u64,
    /// Whether the job's indicators entered the state.
    pub committed: bool,
}

impl JobReport {
    /// Whether the job failed outright (it never finished at ThreatConnect), as opposed to a
    /// job that finished without being confirmed whole.
    pub fn failed(&self) -> bool {
        self.status.starts_with("failed")
    }
}

/// A value ThreatConnect rejected, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectedValue {
    /// The indicator key (type and value).
    pub indicator: String,
    /// ThreatConnect's reason.
    pub reason: String,
}

impl Report {
    /// A report for a run that starts now.
    pub fn start(destination: String, owner: String, state_path: PathBuf, dry_run: bool) -> Report {
        Report {
            tc_feed_version: env!("CARGO_PKG_VERSION"),
            started_at: Utc::now(),
            finished_at: None,
            outcome: Outcome::Running,
            destination,
            owner,
            dry_run,
            full_refresh: false,
            stopped_early: None,
            state_path,
            lists: BTreeMap::new(),
            rejected: Vec::new(),
            parked: Vec::new(),
            durations_ms: BTreeMap::new(),
            error: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Records something the operator should look at.
    pub fn warn(&mut self, warning: impl Into<String>) {
        self.warnings.push(warning.into());
    }

    /// Ends the report: a failure if `error` is given, otherwise a success or, with
    /// warnings, a run with something to look at.
    pub fn finish(&mut self, error: Option<&(dyn std::error::Error + 'static)>) {
        self.finished_at = Some(Utc::now());
        self.outcome = match error {
            Some(error) => {
                self.error = error_chain(error);
                Outcome::Failed
            }
            None if self.warnings.is_empty() => Outcome::Success,
            None => Outcome::Attention,
        };
    }

    /// Writes the report as pretty JSON, atomically (a temporary file renamed over the old).
    ///
    /// # Errors
    ///
    /// Where the file cannot be written.
    pub fn write(&self, path: &Path) -> io::Result<()> {
        if let Some(folder) = path
            .parent()
            .filter(|folder| !folder.as_os_str().is_empty())
        {
            std::fs::create_dir_all(folder)?;
        }
        let temporary = crate::state::with_suffix(path, ".tmp");
        let mut json = serde_json::to_vec_pretty(self).expect("a report always serialises");
        json.push(b'\n');
        std::fs::write(&temporary, json)?;
        std::fs::rename(&temporary, path)
    }
}

/// An error and its causes, outermost first, one message each.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut chain = Vec::new();
    let mut next = Some(error);
    while let Some(error) = next {
        chain.push(error.to_string());
        next = error.source();
    }
    chain
}

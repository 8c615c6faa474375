//! One import: fetch, parse, map, diff, plan, send, commit, report.
//!
//! ```text
//! ListSource ─rows─> Grouper ─> MappedIndicators ─diff(State)─> Plan ─> Destination
//!                                                                        │ job replies
//!                       report.json <─ State (journal, job by job) <─────┘
//! ```
//!
//! The lists are fetched and grouped at once, one task each (two cores, two lists); then each
//! list is diffed, planned, sent and committed in turn. The rules that keep the state true:
//!
//! - The state changes only for what ThreatConnect confirmed, job by job: the indicators of a
//!   finished job that accounts for every indicator, less those it rejected. A job that does
//!   not account for them all commits nothing.
//! - A list that did not complete is not imported and causes no removals.
//! - A list's validators (MD5, `ETag`, `Last-Modified`) are committed only when its import
//!   converged: every job committed, nothing rejected that is still to be retried, and no
//!   removal held back. Until then the next run downloads the list again, so that nothing
//!   pending waits on a list that does not change.
//! - A value rejected twice for the same reason with the same content is parked: reported,
//!   not retried each hour, until its content changes.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::StreamExt;
use futures::channel::mpsc;
use proofpoint_et_client::{
    CategoryTable, FetchOutcome, ListFile, ListKind, ListSource, Rejection, Row, RowSink,
    Validators,
};
use reputation_mapper::{
    DiffOptions, Grouper, IndicatorKey, IndicatorKind, KeyRef, MappedIndicators, MapperConfig,
    ParkedValues, Plan, RemovalAction,
};
use threatconnect_client::{BatchIndicator, JobSettings};
use tracing::{Instrument, debug, info, info_span, warn};

use crate::destination::{Confirmation, Destination, JobReply};
use crate::progress::Progress;
use crate::report::{JobReport, ListReport, ListStatus, RejectedRows, RejectedValue, Report};
use crate::state::{Entry, Identity, ListRecord, Rejected, State, StateDelta, StateError};

/// The code of "item not found" (0x1007): a Delete that finds nothing is done.
const ITEM_NOT_FOUND: u32 = 0x1007;

/// How big the queue between the plan and the destination is.
const SEND_QUEUE: usize = 1024;

/// A failure that ends a run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JobError {
    /// The state could not be written.
    #[error("cannot commit to the state")]
    State(#[from] StateError),

    /// The mapping settings were refused.
    #[error("the mapping settings were refused")]
    Mapper(#[source] reputation_mapper::Error),

    /// Every list failed to download.
    #[error("no list could be imported")]
    NoList(#[source] Box<dyn std::error::Error + Send + Sync>),

    /// A job failed in a way that ends the run (refused credentials, clock off, the Batch API
    /// disabled).
    #[error("ThreatConnect refused the run")]
    Destination(#[source] Box<dyn std::error::Error + Send + Sync>),

    /// Every job of the run failed outright (ThreatConnect unreachable, or answering errors):
    /// nothing reached it.
    #[error("none of the run's {jobs} jobs finished at ThreatConnect; the next run sends them")]
    NoJobFinished {
        /// How many jobs were sent.
        jobs: usize,
    },

    /// A task of the run died.
    #[error("a task of the run failed")]
    Task(#[source] tokio::task::JoinError),
}

/// What one run is to do.
#[derive(Debug, Clone)]
pub struct JobOptions {
    /// The destination the state must belong to.
    pub identity: Identity,
    /// The lists to import, one per collected type.
    pub lists: Vec<ListFile>,
    /// The mapping settings.
    pub mapper: MapperConfig,
    /// Send every indicator, not only the changes (`--full`).
    pub full: bool,
    /// How often a full refresh happens by itself (zero: never).
    pub full_refresh_every: Duration,
}

/// Where a test can stop a run to kill it: the crash tests of the commit protocol.
///
/// When the environment variable `TC_FEED_PAUSE_AT` names one of these points, the run prints
/// `paused at <point>` on stderr there and waits to be killed. It is a test hook and does
/// nothing else.
pub const PAUSE_POINTS: [&str; 3] = ["after-push", "between-jobs", "before-commit"];

/// One run of the job.
pub struct Job<'a> {
    options: &'a JobOptions,
    source: Arc<dyn ListSource>,
    destination: &'a dyn Destination,
    pause_at: Option<String>,
    mapping: String,
    stop: Option<Arc<AtomicBool>>,
    progress: Progress,
}

impl<'a> Job<'a> {
    /// A run with these options, from `source` to `destination`.
    pub fn new(
        options: &'a JobOptions,
        source: Arc<dyn ListSource>,
        destination: &'a dyn Destination,
    ) -> Job<'a> {
        let pause_at = std::env::var("TC_FEED_PAUSE_AT")
            .ok()
            .filter(|p| PAUSE_POINTS.contains(&p.as_str()));
        Job {
            options,
            source,
            destination,
            pause_at,
            mapping: mapping_fingerprint(&options.mapper),
            stop: None,
            progress: Progress::hidden(),
        }
    }

    /// The same run, showing its progress on `progress` (hidden by default).
    pub fn with_progress(mut self, progress: Progress) -> Job<'a> {
        self.progress = progress;
        self
    }

    /// Stops the run between steps (between lists and between jobs, never mid-commit) once
    /// `stop` is set, as SIGINT and SIGTERM do.
    pub fn stop_on(mut self, stop: Arc<AtomicBool>) -> Self {
        self.stop = Some(stop);
        self
    }

    fn stopped(&self) -> bool {
        self.stop
            .as_ref()
            .is_some_and(|stop| stop.load(Ordering::SeqCst))
    }

    /// Runs one import against `state`, recording what happens in `report`.
    ///
    /// # Errors
    ///
    /// A [`JobError`] for a run that failed; what was committed before stays committed, and
    /// the report says how far the run got.
    pub async fn run(&self, state: &mut State, report: &mut Report) -> Result<(), JobError> {
        let result = self.run_lists(state, report).await;
        report.parked = parked_values(state);
        result
    }

    async fn run_lists(&self, state: &mut State, report: &mut Report) -> Result<(), JobError> {
        let now = Utc::now();
        let full = self.full_refresh_due(state, now);
        report.full_refresh = full;
        if full {
            info!("full refresh: every indicator is sent, not only the changes");
        }

        let started = Instant::now();
        let categories = Arc::new(self.categories().await);
        let fetched = self.fetch_all(state, full, &categories).await?;
        report
            .durations_ms
            .insert("fetch_and_map".into(), elapsed_ms(started));

        if fetched
            .iter()
            .all(|list| matches!(list.outcome, Ok(FetchOutcome::NotModified { .. })))
        {
            for list in &fetched {
                report
                    .lists
                    .insert(list.file.name().to_owned(), unchanged_report());
            }
            info!("every list is unchanged and nothing is pending: nothing to do");
            report.stopped_early = Some("every list is unchanged and nothing is pending".into());
            return Ok(());
        }

        // A list that was unchanged counts as fine: the run fails only where no list was
        // imported or found unchanged.
        let mut imported_any = false;
        let mut first_failure = None;
        let mut every_job_confirmed = true;
        for list in fetched {
            if self.stopped() {
                info!("stopped by a signal before the next list");
                report.warn("the run was stopped by a signal; the next run resumes");
                return Ok(());
            }
            let name = list.file.name().to_owned();
            let result = self.import(list, full, state, report).await;
            match result {
                Ok(ListResult::Converged) => imported_any = true,
                Ok(ListResult::Pending { jobs_confirmed }) => {
                    imported_any = true;
                    every_job_confirmed &= jobs_confirmed;
                }
                Ok(ListResult::Unchanged) => imported_any = true,
                Ok(ListResult::NotImported(error)) => {
                    report.warn(format!(
                        "the list {name} was not imported: {}",
                        chain(&*error)
                    ));
                    first_failure.get_or_insert(error);
                }
                Err(error) => return Err(error),
            }
        }

        if !imported_any && let Some(error) = first_failure {
            return Err(JobError::NoList(error));
        }
        let jobs = report.lists.values().flat_map(|list| &list.jobs);
        let (jobs, failed) = jobs.fold((0, 0), |(all, failed), job| {
            (all + 1, failed + usize::from(job.failed()))
        });
        if jobs > 0 && failed == jobs {
            return Err(JobError::NoJobFinished { jobs });
        }
        // A full refresh is done once ThreatConnect confirmed every job of it. Rejected values,
        // removals held back and a list that could not be imported leave work for later runs,
        // but waiting on them would send every indicator again each hour while, say, one list
        // stays unavailable. A list that was not imported misses this refresh until the next
        // one is due; a refresh time per list in the state would close that gap.
        if full && every_job_confirmed {
            let delta = StateDelta {
                last_full_refresh: Some(now),
                ..StateDelta::default()
            };
            state.commit(delta)?;
        }
        Ok(())
    }

    fn full_refresh_due(&self, state: &State, now: DateTime<Utc>) -> bool {
        if self.options.full {
            return true;
        }
        // A first run sends everything anyway; counting it as a full refresh starts the clock.
        if state.is_empty() {
            return true;
        }
        let every = self.options.full_refresh_every;
        if every.is_zero() {
            return false;
        }
        let every = chrono::Duration::from_std(every).unwrap_or(chrono::Duration::MAX);
        state
            .meta()
            .last_full_refresh
            .is_none_or(|last| now - last >= every)
    }

    async fn categories(&self) -> CategoryTable {
        categories_of(self.source.as_ref()).await
    }

    /// Fetches and groups every list at once, one task each.
    async fn fetch_all(
        &self,
        state: &State,
        full: bool,
        categories: &Arc<CategoryTable>,
    ) -> Result<Vec<FetchedList>, JobError> {
        let mut tasks = Vec::new();
        for &file in &self.options.lists {
            let record = state.meta().lists.get(file.name());
            let mapping = record.and_then(|record| record.mapping.as_deref());
            let mapping_changed = mapping != Some(self.mapping.as_str());
            let known = if full || mapping_changed || list_pending(state, file) {
                debug!(
                    list = file.name(),
                    "the list has pending work: downloading it whole"
                );
                Validators::default()
            } else {
                validators_of(state, file)
            };
            let source = Arc::clone(&self.source);
            let categories = Arc::clone(categories);
            let config = self.options.mapper.clone();
            let span = info_span!("list", list = file.name());
            tasks.push(tokio::spawn(
                async move { fetch_one(source, file, known, config, categories).await }
                    .instrument(span),
            ));
        }

        let _reading = self.progress.spinner("reading and mapping the lists");
        let mut fetched = Vec::with_capacity(tasks.len());
        for task in tasks {
            fetched.push(task.await.map_err(JobError::Task)??);
        }
        Ok(fetched)
    }

    async fn import(
        &self,
        list: FetchedList,
        full: bool,
        state: &mut State,
        report: &mut Report,
    ) -> Result<ListResult, JobError> {
        let name = list.file.name().to_owned();
        let mut list_report = ListReport {
            removal_action: self.options.mapper.removal_action().to_string(),
            rows_rejected: list.rejected_rows,
            ..ListReport::default()
        };

        let (validators, summary) = match list.outcome {
            Ok(FetchOutcome::NotModified { .. }) => {
                info!(list = %name, "unchanged since the last import");
                report.lists.insert(name, unchanged_report());
                return Ok(ListResult::Unchanged);
            }
            Ok(FetchOutcome::Complete {
                validators,
                summary,
            }) => (validators, summary),
            Err(error) => {
                let error_chain = chain(&error);
                warn!(list = %name, error = %error_chain, "not imported; nothing of it is removed");
                list_report.status = ListStatus::NotImported;
                list_report.error = Some(chain(&error));
                report.lists.insert(name, list_report);
                return Ok(ListResult::NotImported(Box::new(error)));
            }
        };

        let mapped = list.mapped.expect("a complete list is mapped");
        list_report.status = ListStatus::Imported;
        list_report.md5 = validators.md5.as_ref().map(ToString::to_string);
        list_report.changed = state
            .meta()
            .lists
            .get(&name)
            .is_none_or(|record| record.md5.as_deref() != list_report.md5.as_deref());
        list_report.rows_read = summary.rows;
        fill_mapping_counts(&mut list_report, &mapped);
        info!(
            list = %name,
            rows = summary.rows,
            rejected = summary.rejected,
            indicators = mapped.len(),
            "list read and mapped"
        );

        let mut import = ListImport {
            job: self,
            list_name: &name,
            list_kind: list.file.kind(),
            report: &mut list_report,
            rejected: Vec::new(),
            converged: true,
        };
        let result = import.send_and_commit(&mapped, full, state).await;
        let converged = import.converged;
        let rejected_now = import.rejected.len();
        report.rejected.extend(import.rejected);
        if let Err(error) = result {
            report.lists.insert(name, list_report);
            return Err(error);
        }

        if list_report.removals_held_back {
            report.warn(format!(
                "the mass-removal guard held back {} removals of {name}; run with \
                 --allow-mass-removal if they are real",
                list_report.removed
            ));
        }
        if rejected_now > 0 {
            report.warn(format!(
                "ThreatConnect rejected {rejected_now} values of {name}; `rejected` names them \
                 and says why"
            ));
        }
        let unconfirmed_jobs = list_report.jobs.iter().filter(|job| !job.committed);
        let unconfirmed_jobs = unconfirmed_jobs.count();
        if unconfirmed_jobs > 0 {
            report.warn(format!(
                "{unconfirmed_jobs} jobs of {name} were not confirmed whole; their indicators \
                 are sent again next run"
            ));
        }
        if converged {
            let record = ListRecord {
                md5: validators.md5.as_ref().map(ToString::to_string),
                etag: validators.etag.clone(),
                last_modified: validators.last_modified.clone(),
                committed_at: Utc::now(),
                mapping: Some(self.mapping.clone()),
            };
            state.commit(StateDelta {
                lists: vec![(name.clone(), record)],
                ..Default::default()
            })?;
        }
        let failed_jobs = list_report.jobs.iter().any(JobReport::failed);
        report.lists.insert(name, list_report);
        Ok(if converged {
            ListResult::Converged
        } else {
            // Jobs that finished unconfirmed are sent again by the diff anyway; only a job that
            // failed outright leaves a full refresh undone.
            ListResult::Pending {
                jobs_confirmed: !failed_jobs,
            }
        })
    }
}

/// A fingerprint of what the mapping settings make of a list (not of the guard, which
/// decides only whether removals go): when it changes, every list is diffed again.
fn mapping_fingerprint(config: &MapperConfig) -> String {
    let kinds = [
        IndicatorKind::Address,
        IndicatorKind::Host,
        IndicatorKind::Cidr,
    ];
    let collected: Vec<bool> = kinds.iter().map(|kind| config.collects(*kind)).collect();
    let text = format!(
        "{}\0{collected:?}\0{:?}\0{:?}\0{:?}\0{:?}\0{:?}\0{:?}\0{:?}\0{:?}\0{:?}\0{}",
        config.owner(),
        config.cidr(),
        config.wildcards(),
        config.min_score(),
        config.allowed_categories(),
        config.denied_categories(),
        config.rating(),
        config.confidence(),
        config.feed_tag(),
        config.removal_action(),
        config.removal_tag(),
    );
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(text.as_bytes()))
}

/// Every value parked in the state, for the report: not retried until its content changes.
fn parked_values(state: &State) -> Vec<RejectedValue> {
    let parked = state
        .meta()
        .rejected
        .iter()
        .filter(|(_, rejected)| rejected.is_parked());
    parked
        .filter_map(|(key, rejected)| {
            let key = IndicatorKey::parse(key).ok()?;
            Some(RejectedValue {
                indicator: display_key(&key),
                reason: rejected.reason.clone(),
            })
        })
        .collect()
}

/// The source's category table, or the built-in one where it has none that reads.
pub(crate) async fn categories_of(source: &dyn ListSource) -> CategoryTable {
    match source.categories().await {
        Ok(table) => {
            debug!(
                categories = table.len(),
                builtin = table.is_builtin(),
                "category table"
            );
            table
        }
        Err(error) => {
            warn!(error = %chain(&error), "cannot read categories.txt; using the built-in table");
            CategoryTable::builtin()
        }
    }
}

/// What became of one list.
enum ListResult {
    /// Imported, and nothing is pending.
    Converged,
    /// Imported, with something to do again next run.
    Pending {
        /// Whether ThreatConnect confirmed every job sent for it.
        jobs_confirmed: bool,
    },
    /// Unchanged.
    Unchanged,
    /// Not imported.
    NotImported(Box<dyn std::error::Error + Send + Sync>),
}

/// A list fetched and grouped.
pub(crate) struct FetchedList {
    pub(crate) file: ListFile,
    pub(crate) outcome: Result<FetchOutcome, proofpoint_et_client::Error>,
    pub(crate) mapped: Option<MappedIndicators>,
    pub(crate) rejected_rows: BTreeMap<String, RejectedRows>,
}

pub(crate) async fn fetch_one(
    source: Arc<dyn ListSource>,
    file: ListFile,
    known: Validators,
    config: MapperConfig,
    categories: Arc<CategoryTable>,
) -> Result<FetchedList, JobError> {
    let mut sink = ListSink::new(&config, &categories)?;
    info!(list = file.name(), "fetching");
    let outcome = source.fetch(file, &known, &mut sink).await;

    let complete = matches!(outcome, Ok(FetchOutcome::Complete { .. }));
    let ListSink {
        grouper,
        rejected_rows,
        ..
    } = sink;
    let mapped = complete.then(|| grouper.finish());
    Ok(FetchedList {
        file,
        outcome,
        mapped,
        rejected_rows,
    })
}

/// The sink a list is parsed into: the mapper's grouper, and the rejected rows by reason for
/// the report.
struct ListSink<'t> {
    config: &'t MapperConfig,
    names: &'t CategoryTable,
    grouper: Grouper<'t, CategoryTable>,
    rejected_rows: BTreeMap<String, RejectedRows>,
}

impl<'t> ListSink<'t> {
    fn new(config: &'t MapperConfig, names: &'t CategoryTable) -> Result<Self, JobError> {
        let grouper = Grouper::new(config, names).map_err(JobError::Mapper)?;
        Ok(ListSink {
            config,
            names,
            grouper,
            rejected_rows: BTreeMap::new(),
        })
    }
}

impl RowSink for ListSink<'_> {
    fn row(&mut self, row: Row<'_>) {
        self.grouper.row(row);
    }

    fn rejection(&mut self, rejection: Rejection) {
        // The reason quotes the row, which a server answering with an error page that repeats
        // the request path could fill with the subscription code: log where, not what.
        tracing::trace!(line = rejection.line, field = %rejection.field, "row rejected");
        let reason = format!("{}: {}", rejection.field, rejection_kind(&rejection.reason));
        self.rejected_rows
            .entry(reason)
            .or_default()
            .add(rejection.line);
        self.grouper.rejection(rejection);
    }

    fn restart(&mut self) -> bool {
        match Grouper::new(self.config, self.names) {
            Ok(grouper) => {
                self.grouper = grouper;
                self.rejected_rows.clear();
                true
            }
            Err(_) => false,
        }
    }
}

/// A rejection's reason without the quoted text, so that rows rejected for the same reason
/// count together: `` `x` is not a category id`` becomes `not a category id`.
fn rejection_kind(reason: &str) -> String {
    let without_quote = match (reason.find('`'), reason.rfind('`')) {
        (Some(start), Some(end)) if end > start => {
            format!("{}{}", &reason[..start], &reason[end + 1..])
        }
        _ => reason.to_owned(),
    };
    without_quote.trim().trim_start_matches("is ").to_owned()
}

fn unchanged_report() -> ListReport {
    ListReport {
        status: ListStatus::Unchanged,
        ..ListReport::default()
    }
}

fn fill_mapping_counts(report: &mut ListReport, mapped: &MappedIndicators) {
    let counts = mapped.counts();
    for kind in [
        IndicatorKind::Address,
        IndicatorKind::Host,
        IndicatorKind::Cidr,
    ] {
        let count = counts.indicators.get(kind);
        if count > 0 {
            report.indicators.insert(kind.as_str().to_owned(), count);
        }
    }
    for (reason, count) in counts.rows_dropped.iter() {
        report.dropped.insert(reason.as_str().to_owned(), count);
    }
    let below_min_score = counts.below_min_score.total();
    if below_min_score > 0 {
        report
            .dropped
            .insert("below min_score".to_owned(), below_min_score);
    }
}

/// The kinds a list file holds.
pub(crate) fn kinds_of(list: ListKind) -> &'static [IndicatorKind] {
    match list {
        ListKind::Ip => &[IndicatorKind::Address, IndicatorKind::Cidr],
        ListKind::Domain => &[IndicatorKind::Host],
    }
}

/// Whether a list has work left from an earlier run: removals held back, values to retry,
/// or no committed import at all.
fn list_pending(state: &State, file: ListFile) -> bool {
    let meta = state.meta();
    let name = file.name();
    if !meta.lists.contains_key(name) || meta.pending_removals.get(name).is_some_and(|n| *n > 0) {
        return true;
    }
    let kinds = kinds_of(file.kind());
    meta.rejected.iter().any(|(key, rejected)| {
        !rejected.is_parked()
            && IndicatorKey::parse(key).is_ok_and(|key| kinds.contains(&key.kind()))
    })
}

fn validators_of(state: &State, file: ListFile) -> Validators {
    let Some(record) = state.meta().lists.get(file.name()) else {
        return Validators::default();
    };
    Validators {
        md5: record.md5.as_deref().and_then(|md5| md5.parse().ok()),
        etag: record.etag.clone(),
        last_modified: record.last_modified.clone(),
    }
}

fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// An error and its causes on one line.
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    crate::report::error_chain(error).join(": ")
}

/// The parked values as the mapper's diff reads them.
struct Parked<'s>(&'s State);

impl ParkedValues for Parked<'_> {
    fn parked_fingerprint(&self, key: KeyRef<'_>) -> Option<u64> {
        let rejected = self.0.meta().rejected.get(key.as_str())?;
        rejected.is_parked().then_some(rejected.fingerprint)
    }
}

/// The send-and-commit of one list.
struct ListImport<'j, 'r> {
    job: &'j Job<'j>,
    list_name: &'r str,
    list_kind: ListKind,
    report: &'r mut ListReport,
    /// Values ThreatConnect rejected in this run.
    rejected: Vec<RejectedValue>,
    /// Whether the list's import converged: nothing left to do again next run.
    converged: bool,
}

impl ListImport<'_, '_> {
    async fn send_and_commit(
        &mut self,
        mapped: &MappedIndicators,
        full: bool,
        state: &mut State,
    ) -> Result<(), JobError> {
        let parked = Parked(state);
        let options = DiffOptions::new([self.list_kind])
            .full_refresh(full)
            .parked(&parked);
        let started = Instant::now();
        let diff = mapped.diff(state, &options);
        let counts = diff.counts();
        self.report.added = counts.added.total();
        self.report.changed_indicators = counts.changed.total();
        self.report.unchanged = counts.unchanged.total();
        self.report.removed = diff.removed().len() as u64;

        let plan = Plan::new(&diff);
        let planned_ms = elapsed_ms(started);
        self.report
            .durations_ms
            .insert("diff_and_plan".to_owned(), planned_ms);
        self.report.removals_held_back = plan.removals_held_back();
        info!(
            list = self.list_name,
            added = counts.added.total(),
            changed = counts.changed.total(),
            unchanged = counts.unchanged.total(),
            removed = diff.removed().len(),
            to_send = plan.upsert_count(),
            "diff against the previous import"
        );

        self.send_upserts(&plan, state).await?;
        self.apply_removals(&plan, state).await
    }

    async fn send_upserts(&mut self, plan: &Plan<'_>, state: &mut State) -> Result<(), JobError> {
        if plan.upsert_count() == 0 {
            return Ok(());
        }
        info!(
            list = self.list_name,
            indicators = plan.upsert_count(),
            "sending upserts"
        );
        // The key of each indicator sent, taken by the commit of the job that carried it (a
        // job is committed once), so that the state keeps this key rather than a copy.
        let capacity = usize::try_from(plan.upsert_count()).unwrap_or(0);
        let sent: Mutex<Vec<(Option<IndicatorKey>, u64)>> =
            Mutex::new(Vec::with_capacity(capacity));
        let indicators = plan.upserts().map(|upsert| {
            sent.lock()
                .expect("not poisoned")
                .push((Some(upsert.key), upsert.fingerprint));
            upsert.indicator
        });
        let settings = plan.upsert_settings();
        self.send(
            settings,
            indicators,
            plan.upsert_count(),
            "upsert",
            state,
            |confirmation, state, import| {
                let mut sent = sent.lock().expect("not poisoned");
                let carried = &mut sent[confirmation.positions.clone()];
                import.commit_upserts(confirmation, carried, state)
            },
        )
        .await
    }

    async fn apply_removals(&mut self, plan: &Plan<'_>, state: &mut State) -> Result<(), JobError> {
        let removed = plan.removed_keys();
        let pending = if plan.removals_held_back() {
            removed.len() as u64
        } else {
            0
        };
        let had_pending = state.meta().pending_removals.contains_key(self.list_name);
        if pending > 0 || had_pending {
            let delta = StateDelta {
                pending_removals: vec![(self.list_name.to_owned(), pending)],
                ..StateDelta::default()
            };
            state.commit(delta)?;
        }
        if plan.removals_held_back() {
            self.converged = false;
            return Ok(());
        }
        if removed.is_empty() {
            return Ok(());
        }

        if plan.removal_action() == RemovalAction::Keep {
            info!(
                list = self.list_name,
                removed = removed.len(),
                "left the list; kept as they are"
            );
            let delta = StateDelta {
                removed: removed.to_vec(),
                ..StateDelta::default()
            };
            return Ok(state.commit(delta)?);
        }

        let Some(settings) = plan.removal_settings() else {
            return Ok(());
        };
        info!(
            list = self.list_name,
            removed = removed.len(),
            action = %plan.removal_action(),
            "applying the removal action"
        );
        let keys: Vec<&IndicatorKey> = plan.removals().map(|removal| removal.key).collect();
        let indicators = plan.removals().map(|removal| removal.indicator);
        let purpose = plan.removal_action().as_str();
        self.send(
            settings,
            indicators,
            keys.len() as u64,
            purpose,
            state,
            |confirmation, state, import| {
                let carried = &keys[confirmation.positions.clone()];
                import.commit_removals(confirmation, carried, state)
            },
        )
        .await
    }

    /// Sends `indicators` and commits each job as its reply comes.
    async fn send<I>(
        &mut self,
        settings: JobSettings,
        indicators: I,
        total: u64,
        purpose: &str,
        state: &mut State,
        mut commit: impl FnMut(&Confirmation, &mut State, &mut Self) -> Result<bool, JobError>,
    ) -> Result<(), JobError>
    where
        I: Iterator<Item = BatchIndicator>,
    {
        let started = Instant::now();
        let (mut sender, receiver) = mpsc::channel::<BatchIndicator>(SEND_QUEUE);
        let replies = self
            .job
            .destination
            .send(settings.clone(), receiver.boxed());

        let produce = async move {
            for indicator in indicators {
                if futures::SinkExt::send(&mut sender, indicator)
                    .await
                    .is_err()
                {
                    break;
                }
            }
        };
        let mut fatal = None;
        let bar = self
            .job
            .progress
            .bar(&format!("{} {purpose}", self.list_name), total);
        let consume = async {
            // The replies (and with them the queue's receiver) end with this block, so that a
            // producer still waiting on the queue is released when sending stops early.
            let mut replies = replies;
            let mut first = true;
            while let Some(reply) = replies.next().await {
                bar.advance(reply.positions().len() as u64);
                if !first {
                    self.job.pause_if("between-jobs");
                }
                first = false;
                self.job.pause_if("after-push");
                match self.handle_reply(reply, &settings, purpose, state, &mut commit) {
                    Ok(None) => {}
                    Ok(Some(error)) => {
                        fatal = Some(error);
                        break;
                    }
                    Err(error) => return Err(error),
                }
                if self.job.stopped() {
                    info!(list = self.list_name, "stopped by a signal between jobs");
                    self.converged = false;
                    break;
                }
            }
            Ok(())
        };
        let ((), consumed) = futures::join!(produce, consume);
        consumed?;

        let stage = format!("send_{purpose}");
        let ms = elapsed_ms(started);
        debug!(list = self.list_name, stage, ms, "sent");
        self.report.durations_ms.insert(stage, ms);
        match fatal {
            Some(error) => Err(JobError::Destination(error)),
            None => Ok(()),
        }
    }

    /// Handles one job's reply; returns a fatal error that ends the run.
    fn handle_reply(
        &mut self,
        reply: JobReply,
        settings: &JobSettings,
        purpose: &str,
        state: &mut State,
        commit: &mut impl FnMut(&Confirmation, &mut State, &mut Self) -> Result<bool, JobError>,
    ) -> Result<Option<Box<dyn std::error::Error + Send + Sync>>, JobError> {
        let action = format!("{:?}", settings.action);
        match reply {
            JobReply::Confirmed(confirmation) => {
                self.job.pause_if("before-commit");
                let committed = commit(&confirmation, state, self)?;
                if !committed {
                    self.converged = false;
                }
                info!(
                    list = self.list_name,
                    batch_id = ?confirmation.batch_id,
                    indicators = confirmation.positions.len(),
                    success = confirmation.success,
                    errors = confirmation.errors,
                    unprocessed = confirmation.unprocessed,
                    committed,
                    "job finished"
                );
                self.report.jobs.push(JobReport {
                    batch_id: confirmation.batch_id.map(|id| id as u64),
                    purpose: format!("{action} {purpose}"),
                    status: confirmation.status.clone(),
                    indicators: confirmation.positions.len() as u64,
                    success: confirmation.success,
                    errors: confirmation.errors,
                    unprocessed: confirmation.unprocessed,
                    committed,
                });
                Ok(None)
            }
            JobReply::Failed {
                positions,
                error,
                fatal,
            } => {
                self.converged = false;
                warn!(
                    list = self.list_name,
                    indicators = positions.len(),
                    error = %chain(&*error),
                    "a job failed; its indicators are sent again next run"
                );
                self.report.jobs.push(JobReport {
                    batch_id: None,
                    purpose: format!("{action} {purpose}"),
                    status: format!("failed: {}", chain(&*error)),
                    indicators: positions.len() as u64,
                    success: 0,
                    errors: 0,
                    unprocessed: 0,
                    committed: false,
                });
                Ok(fatal.then_some(error))
            }
        }
    }

    /// Commits a finished upsert job: its indicators less those it rejected. Returns whether
    /// anything was committed. The keys it commits are taken out of `carried`.
    fn commit_upserts(
        &mut self,
        confirmation: &Confirmation,
        carried: &mut [(Option<IndicatorKey>, u64)],
        state: &mut State,
    ) -> Result<bool, JobError> {
        if !confirmation.accounts_for_every_indicator {
            warn!(
                list = self.list_name,
                batch_id = ?confirmation.batch_id,
                errors = confirmation.errors,
                unprocessed = confirmation.unprocessed,
                "a job's errors do not name every refused indicator; none of it is recorded \
                 as sent, and all of it is sent again next run"
            );
            return Ok(false);
        }

        let rejected_reasons = rejected_by_value(confirmation);
        let carried_values: std::collections::HashSet<&str> = carried
            .iter()
            .filter_map(|(key, _)| key.as_ref().map(IndicatorKey::value))
            .collect();
        let strangers = rejected_reasons
            .keys()
            .filter(|value| !carried_values.contains(value.as_str()));
        if let Some(stranger) = strangers.clone().next() {
            warn!(
                list = self.list_name,
                batch_id = ?confirmation.batch_id,
                value = %stranger,
                "a job's errors name values it did not carry; none of it is recorded as sent"
            );
            return Ok(false);
        }
        drop(carried_values);
        let now = Utc::now();
        let mut delta = StateDelta {
            sent_at: now.timestamp(),
            ..StateDelta::default()
        };
        for (key, fingerprint) in carried.iter_mut() {
            let Some(key) = key.take() else { continue };
            match rejected_reasons.get(key.value()) {
                None => {
                    if state.meta().rejected.contains_key(key.as_str()) {
                        delta.unrejected.push(key.as_str().to_owned());
                    }
                    delta.upserted.push((key, *fingerprint));
                }
                Some(reason) => {
                    let record = self.rejection_record(state, &key, *fingerprint, reason, now);
                    delta.rejected.push((key.as_str().to_owned(), record));
                }
            }
        }
        self.report.sent += carried.len() as u64;
        state.commit(delta)?;
        Ok(true)
    }

    fn rejection_record(
        &mut self,
        state: &State,
        key: &IndicatorKey,
        fingerprint: u64,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Rejected {
        let previous = state.meta().rejected.get(key.as_str());
        let again = previous.is_some_and(|p| p.reason == reason && p.fingerprint == fingerprint);
        let times = if again {
            previous.map_or(1, |p| p.times + 1)
        } else {
            1
        };
        let record = Rejected {
            reason: reason.to_owned(),
            fingerprint,
            times,
            last_at: now,
        };

        let value = RejectedValue {
            indicator: display_key(key),
            reason: reason.to_owned(),
        };
        if record.is_parked() {
            let indicator = &value.indicator;
            warn!(%indicator, reason, "rejected twice for one reason: parked until it changes");
        } else {
            self.converged = false;
        }
        self.rejected.push(value);
        record
    }

    /// Commits a finished removal job: its keys less those it rejected; "not found" counts as
    /// removed.
    fn commit_removals(
        &mut self,
        confirmation: &Confirmation,
        carried: &[&IndicatorKey],
        state: &mut State,
    ) -> Result<bool, JobError> {
        let not_found = confirmation
            .rejected
            .iter()
            .filter(|r| r.code == Some(ITEM_NOT_FOUND))
            .count();
        let counted_as_done = confirmation.accounts_for_every_indicator
            || (confirmation.unprocessed == 0 && not_found as u64 >= confirmation.errors);
        if !counted_as_done {
            let batch_id = confirmation.batch_id;
            warn!(
                list = self.list_name,
                ?batch_id,
                "a removal job did not account for every indicator; it is tried again next run"
            );
            return Ok(false);
        }

        let refused: BTreeMap<&str, &str> = confirmation
            .rejected
            .iter()
            .filter(|r| r.code != Some(ITEM_NOT_FOUND))
            .map(|r| (r.value.as_str(), r.reason.as_str()))
            .collect();
        let mut delta = StateDelta::default();
        for key in carried {
            match refused.get(key.value()) {
                None => delta.removed.push((*key).clone()),
                Some(reason) => {
                    self.converged = false;
                    let value = RejectedValue {
                        indicator: display_key(key),
                        reason: (*reason).to_owned(),
                    };
                    self.rejected.push(value);
                }
            }
        }
        state.commit(delta)?;
        Ok(true)
    }
}

/// The values a job's errors name, in the normal form of keys (ThreatConnect may write a host
/// in another case, or with a trailing dot), with their reasons.
fn rejected_by_value(confirmation: &Confirmation) -> BTreeMap<String, &str> {
    confirmation
        .rejected
        .iter()
        .map(|rejected| {
            let value = rejected
                .value
                .trim()
                .trim_end_matches('.')
                .to_ascii_lowercase();
            (value, rejected.reason.as_str())
        })
        .collect()
}

/// A key as the report shows it: `Address 192.0.2.1`.
fn display_key(key: &IndicatorKey) -> String {
    format!("{} {}", key.kind().as_str(), key.value())
}

impl Job<'_> {
    fn pause_if(&self, point: &str) {
        if self.pause_at.as_deref() == Some(point) {
            eprintln!("paused at {point}");
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
    }
}

impl reputation_mapper::PreviousImport for State {
    fn fingerprint(&self, key: KeyRef<'_>) -> Option<u64> {
        self.get(key.as_str()).map(|entry: Entry| entry.fingerprint)
    }

    fn for_each_key(&self, visit: &mut dyn FnMut(KeyRef<'_>)) {
        for (key, _) in self.entries() {
            visit(key.as_key_ref());
        }
    }
}

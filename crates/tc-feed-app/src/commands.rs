//! The commands of `tc-feed`, as the binary runs them: each returns the exit code.

use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use proofpoint_et_client::{
    CategoryTable, DirectorySource, HttpSource, ListFile, ListSource, ListSummary, Rejection, Row,
    RowSink,
};
use reputation_mapper::Grouper;
use threatconnect_client::{BatchFeature, Client};
use tracing::{error, info, warn};

use crate::cli::{Cli, Command, MapArgs, ReconcileArgs, RunArgs, StateArgs};
use crate::config::{ConfigError, RawSettings};
use crate::destination::{Destination, DryRunFolder, ThreatConnect};
use crate::exit::ExitCode;
use crate::job::{Job, JobError, JobOptions, chain};
use crate::lock::{LockError, StateLock};
use crate::progress::Progress;
use crate::report::{Report, error_chain};
use crate::settings::{Need, Settings, SourceSetting};
use crate::state::{Identity, State, StateError};

/// The user agent both clients send.
pub const USER_AGENT: &str = concat!("tc-feed/", env!("CARGO_PKG_VERSION"));

/// The attribute types the feed writes on every indicator.
pub const ATTRIBUTE_TYPES: [&str; 3] = ["External Score", "First Seen", "Last Seen"];

/// The identity of dry-run states: never a ThreatConnect URL, so a dry run is refused the
/// live state and a real run the dry-run one.
pub const DRY_RUN_URL: &str = "dry-run";

/// Reads every source of settings for `cli`: the file, the environment, the flags.
///
/// # Errors
///
/// Where the config file cannot be read or holds what it must not.
pub fn raw_settings(
    cli: &Cli,
    env: impl Fn(&str) -> Option<String>,
) -> Result<RawSettings, ConfigError> {
    let from_file = match &cli.settings.config {
        Some(path) => RawSettings::from_file(path)?,
        None => RawSettings::default(),
    };
    Ok(from_file
        .overridden_by(RawSettings::from_env(env))
        .overridden_by(cli.settings.to_raw()))
}

/// What a command needs of the settings.
pub fn need_of(command: &Command) -> Need {
    match command {
        Command::Run(RunArgs {
            dry_run: Some(_), ..
        }) => Need::DryRun,
        Command::Run(_) => Need::Run,
        Command::Check => Need::Check,
        Command::Map(_) => Need::Map,
        Command::State(_) => Need::State,
        Command::Reconcile(_) => Need::Run,
    }
}

/// Runs the command of `cli` with checked settings; a run shows its progress on `progress`.
pub async fn execute(
    cli: Cli,
    settings: Settings,
    stop: Arc<AtomicBool>,
    progress: Progress,
) -> ExitCode {
    match cli.command {
        Command::Run(args) => run(&args, &settings, &stop, &progress).await,
        Command::Check => check(&settings).await,
        Command::Map(args) => map(&args, &settings),
        Command::State(args) => state(&args, &settings),
        Command::Reconcile(args) => reconcile(&args, &settings).await,
    }
}

/// Prints an error and its causes on stderr, one per line.
pub fn print_error(error: &(dyn std::error::Error + 'static)) {
    let chain = error_chain(error);
    eprintln!("error: {}", chain[0]);
    for cause in &chain[1..] {
        eprintln!("  caused by: {cause}");
    }
}

async fn run(
    args: &RunArgs,
    settings: &Settings,
    stop: &Arc<AtomicBool>,
    progress: &Progress,
) -> ExitCode {
    let Some(every) = &args.every else {
        return run_once(args, settings, stop, progress).await;
    };
    let interval = match crate::config::parse_duration(every) {
        Ok(interval) if !interval.is_zero() => interval,
        _ => {
            eprintln!("error: --every {every:?} is not a duration such as `1h` or `30m`");
            return ExitCode::Usage;
        }
    };

    loop {
        let code = run_once(args, settings, stop, progress).await;
        if matches!(code, ExitCode::Usage | ExitCode::Locked) {
            return code;
        }
        let next_in = humantime::format_duration(interval);
        info!(%next_in, exit_code = code.code(), "run finished");
        if sleep_unless_stopped(interval, stop).await {
            info!("stopped by a signal between runs");
            return code;
        }
    }
}

/// Sleeps for `interval`; returns early, with `true`, when a signal asks to stop.
async fn sleep_unless_stopped(interval: Duration, stop: &AtomicBool) -> bool {
    let step = Duration::from_millis(200);
    let mut slept = Duration::ZERO;
    while slept < interval {
        if stop.load(Ordering::SeqCst) {
            return true;
        }
        tokio::time::sleep(step.min(interval - slept)).await;
        slept += step;
    }
    stop.load(Ordering::SeqCst)
}

/// Takes the lock beside the state, or says why not and with which exit code.
fn lock(state_path: &Path) -> Result<StateLock, ExitCode> {
    StateLock::acquire(state_path).map_err(|error| {
        print_error(&error);
        match error {
            LockError::Held { .. } => ExitCode::Locked,
            _ => ExitCode::Failed,
        }
    })
}

/// One import, from the lock to the report.
async fn run_once(
    args: &RunArgs,
    settings: &Settings,
    stop: &Arc<AtomicBool>,
    progress: &Progress,
) -> ExitCode {
    let _lock = match lock(&settings.state_path) {
        Ok(lock) => lock,
        Err(code) => return code,
    };

    let identity = identity(args, settings);
    let mut state = match State::open_for(&settings.state_path, &identity) {
        Ok(state) => state,
        Err(error @ StateError::OtherIdentity { .. }) => {
            print_error(&error);
            return ExitCode::Usage;
        }
        Err(error) => return failed_before_start(&error, args, settings),
    };

    let mut report = Report::start(
        describe_destination(args, settings),
        settings.owner().to_owned(),
        settings.state_path.clone(),
        args.dry_run.is_some(),
    );
    let result = import(
        stop,
        args,
        settings,
        &identity,
        &mut state,
        &mut report,
        progress,
    )
    .await;
    finish_run(result, state, report, settings)
}

fn identity(args: &RunArgs, settings: &Settings) -> Identity {
    let url = match (&args.dry_run, &settings.threatconnect) {
        (None, Some(tc)) => tc.url.clone(),
        _ => DRY_RUN_URL.to_owned(),
    };
    Identity {
        url,
        owner: settings.owner().to_owned(),
    }
}

fn describe_destination(args: &RunArgs, settings: &Settings) -> String {
    match (&args.dry_run, &settings.threatconnect) {
        (Some(dir), _) => format!("dry run into {}", dir.display()),
        (None, Some(tc)) => tc.url.clone(),
        (None, None) => "nowhere".to_owned(),
    }
}

/// A run that failed after the lock but before the job: the report says why.
fn failed_before_start(
    error: &(dyn std::error::Error + 'static),
    args: &RunArgs,
    settings: &Settings,
) -> ExitCode {
    print_error(error);
    let mut report = Report::start(
        describe_destination(args, settings),
        settings.owner().to_owned(),
        settings.state_path.clone(),
        args.dry_run.is_some(),
    );
    report.finish(Some(error));
    write_report(&report, &settings.report_path);
    ExitCode::Failed
}

/// The run's job: builds the source and the destination, then runs the import.
async fn import(
    stop: &Arc<AtomicBool>,
    args: &RunArgs,
    settings: &Settings,
    identity: &Identity,
    state: &mut State,
    report: &mut Report,
    progress: &Progress,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let source = list_source(settings)?;
    let destination: Box<dyn Destination> = match &args.dry_run {
        Some(dir) => Box::new(DryRunFolder::create(dir, settings.chunk_limits)?),
        None => Box::new(ThreatConnect::new(
            threatconnect_client(settings)?,
            identity.url.clone(),
        )),
    };

    let options = JobOptions {
        identity: identity.clone(),
        lists: settings.lists.clone(),
        mapper: settings.mapper.clone(),
        full: args.full,
        full_refresh_every: settings.full_refresh_every,
    };
    info!(
        source = %settings.source.describe(),
        destination = %destination.describe(),
        owner = settings.owner(),
        lists = settings.lists.len(),
        "run started"
    );
    let job = Job::new(&options, source, destination.as_ref())
        .stop_on(Arc::clone(stop))
        .with_progress(progress.clone());
    job.run(state, report)
        .await
        .map_err(|error: JobError| Box::new(error) as _)
}

fn finish_run(
    result: Result<(), Box<dyn std::error::Error + Send + Sync>>,
    mut state: State,
    mut report: Report,
    settings: &Settings,
) -> ExitCode {
    let mut error = result.err();

    // A first run that committed nothing and did not succeed leaves no state behind: a state
    // names the URL and owner it belongs to, and one that ThreatConnect never accepted
    // anything for would only refuse the corrected settings of the next run.
    let nothing_committed = !state.path().exists();
    let succeeded = error.is_none() && report.warnings.is_empty();
    if !nothing_committed || succeeded {
        let last_run = crate::state::StateDelta {
            last_run: Some(chrono::Utc::now()),
            ..crate::state::StateDelta::default()
        };
        let started = std::time::Instant::now();
        let saved = state.commit(last_run).and_then(|()| state.compact());
        let compacted_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        report
            .durations_ms
            .insert("save_state".to_owned(), compacted_ms);
        if let (Err(compact_error), None) = (saved, &error) {
            error = Some(Box::new(compact_error));
        }
    }

    match &error {
        Some(error) => {
            print_error(&**error);
            report.finish(Some(&**error));
        }
        None => report.finish(None),
    }
    for warning in &report.warnings {
        warn!("{warning}");
    }
    let written = write_report(&report, &settings.report_path);
    info!(
        outcome = ?report.outcome,
        report = %settings.report_path.display(),
        indicators = state.len(),
        "run finished"
    );
    if !written {
        return ExitCode::Failed;
    }
    report.outcome.exit_code()
}

/// Writes the report; an operator relies on it, so a report that cannot be written is an
/// error the run ends with.
fn write_report(report: &Report, path: &Path) -> bool {
    match report.write(path) {
        Ok(()) => true,
        Err(error) => {
            error!(report = %path.display(), error = %error, "cannot write the report");
            eprintln!("error: cannot write the report {}: {error}", path.display());
            false
        }
    }
}

/// The list source the settings name.
///
/// # Errors
///
/// Where the HTTP client cannot be built (a bad CA file, a bad URL).
pub fn list_source(
    settings: &Settings,
) -> Result<Arc<dyn ListSource>, proofpoint_et_client::Error> {
    match &settings.source {
        SourceSetting::Directory(dir) => Ok(Arc::new(DirectorySource::new(dir))),
        SourceSetting::Url(url) => Ok(Arc::new(http_source(settings, url)?)),
    }
}

fn http_source(settings: &Settings, url: &str) -> Result<HttpSource, proofpoint_et_client::Error> {
    let code = settings
        .subscription_code
        .clone()
        .expect("resolved for a URL source");
    let mut builder = HttpSource::builder(url, code).user_agent(USER_AGENT);
    if let Some(ca) = &settings.extra_ca_file {
        builder = builder.extra_ca_file(ca.clone());
    }
    builder.build()
}

/// The ThreatConnect client the settings describe.
///
/// # Errors
///
/// Where the client cannot be built (a bad CA file, a bad URL).
pub fn threatconnect_client(settings: &Settings) -> Result<Client, threatconnect_client::Error> {
    let tc = settings
        .threatconnect
        .as_ref()
        .expect("resolved for a real run");
    let mut builder = Client::builder(&tc.url, tc.credentials.clone())
        .user_agent(USER_AGENT)
        .chunk_limits(settings.chunk_limits)
        .max_concurrent_jobs(settings.job_concurrency);
    if let Some(ca) = &settings.extra_ca_file {
        builder = builder.extra_ca_file(ca.clone());
    }
    builder.build()
}

/// `tc-feed check`: both services, nothing imported.
async fn check(settings: &Settings) -> ExitCode {
    let mut problems = 0;
    let mut report = |ok: bool, what: String| {
        if ok {
            println!("ok    {what}");
        } else {
            problems += 1;
            println!("FAIL  {what}");
        }
    };

    match check_source(settings).await {
        Ok(detail) => report(true, detail),
        Err(message) => report(false, message),
    }
    match threatconnect_client(settings) {
        Err(error) => report(false, format!("ThreatConnect client: {}", chain(&error))),
        Ok(client) => {
            for (ok, line) in check_threatconnect(&client, settings.owner()).await {
                report(ok, line);
            }
        }
    }

    if problems == 0 {
        println!("everything the feed needs is in place");
        ExitCode::Success
    } else {
        println!("{problems} problem(s): fix them before the first run");
        ExitCode::Failed
    }
}

async fn check_source(settings: &Settings) -> Result<String, String> {
    let first = settings
        .lists
        .first()
        .copied()
        .ok_or("no list is collected")?;
    if let SourceSetting::Url(url) = &settings.source {
        return check_subscription(settings, url, first).await;
    }

    let source = list_source(settings).map_err(|e| format!("ET source: {}", chain(&e)))?;
    let mut sink = CountingSink::default();
    let known = proofpoint_et_client::Validators::default();
    match source.fetch(first, &known, &mut sink).await {
        Ok(_) => Ok(format!(
            "ET list {} can be read ({} rows)",
            first.name(),
            sink.rows
        )),
        Err(error) => Err(et_failure(first, &error)),
    }
}

/// What `check` says of an ET failure; a refused code's message already says what to check.
fn et_failure(file: ListFile, error: &proofpoint_et_client::Error) -> String {
    let message = chain(error);
    let advice = if message.contains("subscription code") {
        ""
    } else {
        " (check `source`, the subscription code and its entitlements)"
    };
    format!("ET list {}: {message}{advice}", file.name())
}

/// Reads one `.md5sum` sidecar: the subscription code and its entitlements, nothing
/// downloaded but a line of text.
async fn check_subscription(
    settings: &Settings,
    url: &str,
    file: ListFile,
) -> Result<String, String> {
    let source = http_source(settings, url).map_err(|e| format!("ET source: {}", chain(&e)))?;
    match source.read_md5sum(file).await {
        Ok(Some(md5)) => Ok(format!(
            "ET subscription accepted: {} reads {md5}",
            file.sidecar_name()
        )),
        Ok(None) => Ok(format!(
            "ET subscription accepted, but the server has no {}: the list is downloaded whole \
             every hour and cannot be verified",
            file.sidecar_name()
        )),
        Err(error) => Err(et_failure(file, &error)),
    }
}

async fn check_threatconnect(client: &Client, owner: &str) -> Vec<(bool, String)> {
    let mut lines = Vec::new();
    match client.owners().await {
        Err(error) => {
            let advice = match &error {
                threatconnect_client::Error::Auth { .. } => {
                    ": check `tc_access_id` and the secret key (TC_FEED_TC_SECRET_KEY or \
                     `tc_secret_key_file`), or the token"
                }
                threatconnect_client::Error::ClockSkew { .. } => "",
                _ => ": check `tc_url`, and the proxy or `extra_ca_file` where there is one",
            };
            lines.push((
                false,
                format!("ThreatConnect credentials: {}{advice}", chain(&error)),
            ));
            return lines;
        }
        Ok(owners) => {
            lines.push((true, "ThreatConnect accepts the credentials".to_owned()));
            let found = owners.iter().any(|o| o.name == owner);
            let line = if found {
                format!("owner {owner:?} exists and is visible to the API user")
            } else {
                let visible: Vec<&str> = owners.iter().map(|o| o.name.as_str()).collect();
                format!(
                    "owner {owner:?} is not among the owners the API user can see \
                     ({visible:?}): check the spelling of `owner`, or give the API user \
                     access to that organisation"
                )
            };
            lines.push((found, line));
        }
    }

    let feature = client.probe_batch_feature().await;
    lines.push(match feature {
        Ok(BatchFeature::Enabled) => (true, "the Batch API is enabled".to_owned()),
        Ok(BatchFeature::Disabled { message }) => (
            false,
            format!(
                "the Batch API is not enabled on this instance ({message}): ask an \
                 administrator to enable the batch feature and document storage"
            ),
        ),
        // The probe is not documented: an answer it does not know is said as it is, and a
        // server error is a problem, not a pass.
        Ok(BatchFeature::Unknown { status, message }) => (
            status < 500,
            format!(
                "the Batch API probe got an answer it cannot read (HTTP {status}: {message}); \
                 the feature may or may not be enabled"
            ),
        ),
        Ok(other) => (false, format!("the Batch API probe got {other:?}")),
        Err(error) => (
            false,
            format!("the Batch API probe failed: {}", chain(&error)),
        ),
    });

    match client.missing_attribute_types(&ATTRIBUTE_TYPES).await {
        Ok(missing) if missing.is_empty() => {
            lines.push((true, format!("attribute types {ATTRIBUTE_TYPES:?} exist")));
        }
        Ok(missing) => lines.push((
            false,
            format!(
                "attribute types missing on the instance: {missing:?}; \
                 create them for Address and Host"
            ),
        )),
        Err(error) => {
            let line = format!("cannot list attribute types: {}", chain(&error));
            lines.push((false, line));
        }
    }
    lines
}

/// Counts rows, for `check`.
#[derive(Default)]
struct CountingSink {
    rows: u64,
}

impl RowSink for CountingSink {
    fn row(&mut self, _row: Row<'_>) {
        self.rows += 1;
    }

    fn rejection(&mut self, _rejection: Rejection) {}

    fn restart(&mut self) -> bool {
        self.rows = 0;
        true
    }
}

/// `tc-feed map FILE`: the batch document of one local file on stdout, rejections on stderr.
fn map(args: &MapArgs, settings: &Settings) -> ExitCode {
    if settings.owner.is_none() {
        eprintln!("note: no owner is set (--owner or `owner`), so the document carries no xid");
    }
    let categories = match map_categories(&args.file) {
        Ok(table) => table,
        Err(error) => {
            print_error(&error);
            return ExitCode::Failed;
        }
    };
    let mut grouper = match Grouper::new(&settings.mapper, &categories) {
        Ok(grouper) => grouper,
        Err(error) => {
            print_error(&error);
            return ExitCode::Usage;
        }
    };

    let mut sink = StderrRejections {
        grouper: &mut grouper,
        file: &args.file,
    };
    let summary: ListSummary = match proofpoint_et_client::parse_path(&args.file, &mut sink) {
        Ok(summary) => summary,
        Err(error) => {
            print_error(&error);
            return ExitCode::Failed;
        }
    };
    let mapped = grouper.finish();
    eprintln!(
        "{}: {} rows, {} rejected, {} indicators",
        args.file.display(),
        summary.rows,
        summary.rejected,
        mapped.len()
    );

    let keep_xid = settings.owner.is_some();
    let written = write_document(mapped.iter().map(|indicator| {
        let mut document = indicator.to_batch_indicator();
        if !keep_xid {
            document.xid = None;
        }
        document
    }));
    match written {
        Ok(()) if summary.rejected > 0 => ExitCode::Attention,
        Ok(()) => ExitCode::Success,
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => ExitCode::Success,
        Err(error) => {
            print_error(&error);
            ExitCode::Failed
        }
    }
}

/// The category table for `map`: a `categories.txt` beside the file wins over the built-in
/// one, as in a list folder.
fn map_categories(file: &Path) -> Result<CategoryTable, proofpoint_et_client::Error> {
    let folder = file
        .parent()
        .filter(|folder| !folder.as_os_str().is_empty());
    DirectorySource::new(folder.unwrap_or(Path::new("."))).categories_blocking()
}

/// Groups rows and prints each rejection on stderr with its line number.
struct StderrRejections<'g, 't> {
    grouper: &'g mut Grouper<'t, CategoryTable>,
    file: &'g Path,
}

impl RowSink for StderrRejections<'_, '_> {
    fn row(&mut self, row: Row<'_>) {
        self.grouper.row(row);
    }

    fn rejection(&mut self, rejection: Rejection) {
        eprintln!("{}: {rejection}", self.file.display());
        self.grouper.rejection(rejection);
    }
}

/// Writes `{"indicator":[...]}` to stdout, one indicator per line, as it goes.
fn write_document(
    indicators: impl Iterator<Item = threatconnect_client::BatchIndicator>,
) -> io::Result<()> {
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    out.write_all(b"{\"indicator\": [")?;
    for (index, indicator) in indicators.enumerate() {
        out.write_all(if index == 0 { b"\n  " } else { b",\n  " })?;
        serde_json::to_writer(&mut out, &indicator)?;
    }
    out.write_all(b"\n]}\n")?;
    out.flush()
}

/// `tc-feed state`: a summary, or the whole state as JSON.
fn state(args: &StateArgs, settings: &Settings) -> ExitCode {
    let state = match State::open(&settings.state_path) {
        Ok(Some(state)) => state,
        Ok(None) => {
            eprintln!(
                "no state at {} (no run has committed yet)",
                settings.state_path.display()
            );
            return ExitCode::Failed;
        }
        Err(error) => {
            print_error(&error);
            return ExitCode::Failed;
        }
    };
    let printed = if args.json {
        crate::summary::write_json(&state, io::stdout().lock())
    } else {
        crate::summary::write_text(&state, io::stdout().lock())
    };
    match printed {
        Ok(()) => ExitCode::Success,
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => ExitCode::Success,
        Err(error) => {
            print_error(&error);
            ExitCode::Failed
        }
    }
}

/// `tc-feed reconcile`: the state rebuilt from what ThreatConnect holds.
async fn reconcile(args: &ReconcileArgs, settings: &Settings) -> ExitCode {
    let _lock = match lock(&settings.state_path) {
        Ok(lock) => lock,
        Err(code) => return code,
    };
    let tc = settings
        .threatconnect
        .as_ref()
        .expect("resolved for reconcile");
    let identity = Identity {
        url: tc.url.clone(),
        owner: settings.owner().to_owned(),
    };
    let mut state = match State::open_for(&settings.state_path, &identity) {
        Ok(state) => state,
        Err(error @ StateError::OtherIdentity { .. }) => {
            print_error(&error);
            return ExitCode::Usage;
        }
        Err(error) => {
            print_error(&error);
            return ExitCode::Failed;
        }
    };

    let clients = list_source(settings)
        .map_err(|e| Box::new(e) as Box<dyn std::error::Error>)
        .and_then(|source| Ok((source, threatconnect_client(settings)?)));
    let (source, client) = match clients {
        Ok(clients) => clients,
        Err(error) => {
            print_error(&*error);
            return ExitCode::Failed;
        }
    };
    match crate::reconcile::reconcile(settings, source, &client, &mut state, args.report_only).await
    {
        Ok(reconciliation) => {
            crate::reconcile::print(&reconciliation);
            ExitCode::Success
        }
        Err(error) => {
            print_error(&error);
            ExitCode::Failed
        }
    }
}

//! `tc-feed`: imports the Proofpoint ET Intelligence reputation lists into ThreatConnect.
//!
//! The binary is thin: it parses the command line, checks the settings before any network
//! call, installs the log subscriber, and hands over to [`tc_feed_app::commands`]. Exit codes
//! are documented in [`tc_feed_app::exit`].

use std::process::ExitCode as ProcessExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::Parser;
use tc_feed_app::cli::Cli;
use tc_feed_app::commands::{self, need_of, print_error};
use tc_feed_app::exit::ExitCode;
use tc_feed_app::progress::Progress;
use tc_feed_app::settings::{LogFormat, Settings};
use tracing_subscriber::EnvFilter;

fn main() -> ProcessExitCode {
    let cli = Cli::parse();
    let allow_mass_removal = match &cli.command {
        tc_feed_app::cli::Command::Run(args) => args.allow_mass_removal,
        _ => false,
    };
    let dry_run = match &cli.command {
        tc_feed_app::cli::Command::Run(args) => args.dry_run.clone(),
        _ => None,
    };

    let env_names = std::env::vars_os().filter_map(|(name, _)| name.into_string().ok());
    let settings = tc_feed_app::config::check_env_names(env_names)
        .and_then(|()| commands::raw_settings(&cli, |name| std::env::var(name).ok()))
        .and_then(|raw| {
            Settings::resolve(
                &raw,
                need_of(&cli.command),
                dry_run.as_deref(),
                allow_mass_removal,
            )
        });
    let settings = match settings {
        Ok(settings) => settings,
        Err(error) => {
            print_error(&error);
            return ExitCode::Usage.into();
        }
    };
    let progress = Progress::on_stderr();
    install_logger(&settings, &progress);

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            print_error(&error);
            return ExitCode::Failed.into();
        }
    };
    runtime.block_on(async {
        let stop = Arc::new(AtomicBool::new(false));
        listen_for_signals(Arc::clone(&stop));
        commands::execute(cli, settings, stop, progress)
            .await
            .into()
    })
}

/// Logs go to stderr, as text or JSON lines, at the configured level, clear of the progress
/// bars. Dependencies speak only at `warn` unless the level is `trace`.
fn install_logger(settings: &Settings, progress: &Progress) {
    let level = settings.log_level;
    let directives = if level == tracing::Level::TRACE {
        "trace".to_owned()
    } else {
        let ours = level.as_str().to_ascii_lowercase();
        let crates = [
            "tc_feed",
            "tc_feed_app",
            "proofpoint_et_client",
            "threatconnect_client",
            "reputation_mapper",
        ];
        let ours = crates.map(|name| format!("{name}={ours}")).join(",");
        format!("warn,{ours}")
    };
    let filter = EnvFilter::new(directives);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(progress.clone());
    match settings.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
    }
}

/// SIGINT and SIGTERM ask `--every` to stop between runs; a second one ends the process.
///
/// The handlers are registered here, before the command starts, so that a signal that comes
/// early is never met by the default action (an abrupt end) instead.
fn listen_for_signals(stop: Arc<AtomicBool>) {
    let mut signals = Signals::register();
    tokio::spawn(async move {
        loop {
            signals.next().await;
            if stop.swap(true, Ordering::SeqCst) {
                eprintln!("second signal: stopping now");
                std::process::exit(ExitCode::Failed.code());
            }
            tracing::info!("signal received: stopping after the current step");
        }
    });
}

/// The signals that stop `--every`, registered once for the whole process.
#[cfg(unix)]
struct Signals {
    interrupt: Option<tokio::signal::unix::Signal>,
    terminate: Option<tokio::signal::unix::Signal>,
}

#[cfg(unix)]
impl Signals {
    fn register() -> Signals {
        use tokio::signal::unix::{SignalKind, signal};
        Signals {
            interrupt: signal(SignalKind::interrupt()).ok(),
            terminate: signal(SignalKind::terminate()).ok(),
        }
    }

    /// The next SIGINT or SIGTERM; never, where neither could be registered.
    async fn next(&mut self) {
        async fn next_of(signal: &mut Option<tokio::signal::unix::Signal>) {
            match signal {
                Some(signal) => {
                    signal.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        tokio::select! {
            () = next_of(&mut self.interrupt) => {}
            () = next_of(&mut self.terminate) => {}
        }
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn register() -> Signals {
        Signals
    }

    async fn next(&mut self) {
        let _ = tokio::signal::ctrl_c().await;
    }
}

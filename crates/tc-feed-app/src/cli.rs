//! The command line of `tc-feed`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::RawSettings;

/// Imports the Proofpoint ET Intelligence reputation lists into ThreatConnect.
///
/// Settings come from a TOML file (`--config`), `TC_FEED_*` environment variables and flags;
/// flags win, then the environment, then the file. Secrets (the subscription code, the secret
/// key, the token) are never taken from a flag: set them in the environment or name a file
/// that holds them. `docs/configuration.md` lists every setting.
#[derive(Debug, Parser)]
#[command(name = "tc-feed", version, about, long_about, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,

    /// The settings every command shares.
    #[command(flatten)]
    pub settings: SettingFlags,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Runs one import (or one per interval with --every): fetch the lists that changed, send
    /// ThreatConnect what changed, apply the removal action, write the report.
    Run(RunArgs),

    /// Checks the set-up without importing anything: the ET subscription, the ThreatConnect
    /// credentials and owner, the batch feature and the attribute types the feed writes.
    Check,

    /// Maps one local list file and prints the batch document to stdout; rejected rows go to
    /// stderr with their line numbers.
    Map(MapArgs),

    /// Summarises the state: indicators by type, the last run, each list's last MD5, parked
    /// values.
    State(StateArgs),

    /// Rebuilds the state from what the owner holds in ThreatConnect and the current lists,
    /// for a state that was lost: reports what ThreatConnect holds that the lists do not (the
    /// next run applies the removal action to it) and what the state claims that
    /// ThreatConnect lacks (the next run sends it again).
    Reconcile(ReconcileArgs),
}

/// Flags of `tc-feed reconcile`.
#[derive(Debug, Args)]
pub struct ReconcileArgs {
    /// Reports without changing the state.
    #[arg(long)]
    pub report_only: bool,
}

/// Flags of `tc-feed run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Writes the batch documents into DIR instead of sending them; needs no ThreatConnect
    /// credentials. The state defaults to DIR/state, never the live one.
    #[arg(long, value_name = "DIR")]
    pub dry_run: Option<PathBuf>,

    /// Sends every indicator, not only what changed since the last import.
    #[arg(long)]
    pub full: bool,

    /// Applies removals even where they exceed `mass_removal_share` of the previous import.
    #[arg(long)]
    pub allow_mass_removal: bool,

    /// Runs one import per interval (such as `1h`) until SIGINT or SIGTERM, which stop it
    /// between steps, never mid-commit.
    #[arg(long, value_name = "DURATION")]
    pub every: Option<String>,
}

/// Flags of `tc-feed map`.
#[derive(Debug, Args)]
pub struct MapArgs {
    /// The list file: any shape, plain or `.gz`.
    pub file: PathBuf,
}

/// Flags of `tc-feed state`.
#[derive(Debug, Args)]
pub struct StateArgs {
    /// Prints the whole state as JSON, for export.
    #[arg(long)]
    pub json: bool,
}

/// Flags that set settings; each has the same name as the setting, with dashes.
#[derive(Debug, Args)]
pub struct SettingFlags {
    /// The TOML config file.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// The ET base URL, or a local directory of list files.
    #[arg(long, global = true, value_name = "URL|DIR")]
    pub source: Option<String>,

    /// The ThreatConnect owner of the indicators.
    #[arg(long, global = true, value_name = "NAME")]
    pub owner: Option<String>,

    /// The state file.
    #[arg(long, global = true, value_name = "PATH")]
    pub state: Option<PathBuf>,

    /// Where the run's report goes (default: report.json beside the state).
    #[arg(long, global = true, value_name = "PATH")]
    pub report: Option<PathBuf>,

    /// A file holding the ET subscription code.
    #[arg(long, global = true, value_name = "FILE")]
    pub et_subscription_code_file: Option<PathBuf>,

    /// A file holding the ThreatConnect secret key.
    #[arg(long, global = true, value_name = "FILE")]
    pub tc_secret_key_file: Option<PathBuf>,

    /// A file holding a ThreatConnect API token.
    #[arg(long, global = true, value_name = "FILE")]
    pub tc_token_file: Option<PathBuf>,

    /// A PEM file of extra CA certificates (for TLS inspection).
    #[arg(long, global = true, value_name = "FILE")]
    pub extra_ca_file: Option<PathBuf>,

    /// error, warn, info, debug or trace.
    #[arg(long, global = true, value_name = "LEVEL")]
    pub log_level: Option<String>,

    /// text, or json for log shippers.
    #[arg(long, global = true, value_name = "FORMAT")]
    pub log_format: Option<String>,
}

impl SettingFlags {
    /// The settings these flags set.
    pub fn to_raw(&self) -> RawSettings {
        let mut raw = RawSettings::default();
        let text = [
            ("source", self.source.clone()),
            ("owner", self.owner.clone()),
            ("log_level", self.log_level.clone()),
            ("log_format", self.log_format.clone()),
        ];
        for (key, value) in text {
            if let Some(value) = value {
                raw.set_flag(key, value);
            }
        }

        let paths = [
            ("state", &self.state),
            ("report", &self.report),
            ("et_subscription_code_file", &self.et_subscription_code_file),
            ("tc_secret_key_file", &self.tc_secret_key_file),
            ("tc_token_file", &self.tc_token_file),
            ("extra_ca_file", &self.extra_ca_file),
        ];
        for (key, value) in paths {
            if let Some(path) = value {
                raw.set_flag(key, path.to_string_lossy());
            }
        }
        raw
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_flag_names_a_setting_that_has_that_flag() {
        let cli = Cli::parse_from([
            "tc-feed",
            "run",
            "--source",
            "lists",
            "--owner",
            "Demo",
            "--state",
            "s",
            "--report",
            "r.json",
            "--extra-ca-file",
            "ca.pem",
            "--log-level",
            "debug",
        ]);
        let raw = cli.settings.to_raw();
        for key in [
            "source",
            "owner",
            "state",
            "report",
            "extra_ca_file",
            "log_level",
        ] {
            let (_, origin) = raw.get(key).unwrap();
            let flag = crate::config::spec(key).flag.unwrap();
            assert_eq!(
                origin,
                crate::config::Origin::Flag(flag.to_owned()),
                "{key}"
            );
        }
    }
}

//! The feed job behind the `tc-feed` command: configuration, state, one import, its report.
//!
//! The binary (`src/main.rs`) is thin: it parses the command line ([`cli`]), checks the
//! settings before any network call ([`config`], [`settings`]), installs the log subscriber
//! and runs a command ([`commands`]). Everything else is here, so that it is tested without a
//! shell:
//!
//! - [`job`]: one import. Fetch each list (or learn it is unchanged), parse and map it, diff
//!   it against the [`state`], send the plan to a [`destination`] (ThreatConnect's Batch API
//!   or a dry-run folder), commit what each job confirmed, fill the [`report`].
//! - [`state`]: what ThreatConnect holds from this feed, a snapshot and a journal, committed
//!   job by job; [`lock`]: one run per state at a time.
//! - [`reconcile`]: the state rebuilt from what ThreatConnect holds.
//! - [`exit`]: the exit codes, documented for schedulers.
//!
//! # Example: a dry run of one list folder
//!
//! ```
//! use std::sync::Arc;
//!
//! use proofpoint_et_client::{DirectorySource, ListFile};
//! use reputation_mapper::MapperConfig;
//! use tc_feed_app::destination::DryRunFolder;
//! use tc_feed_app::job::{Job, JobOptions};
//! use tc_feed_app::report::Report;
//! use tc_feed_app::state::{Identity, State};
//! use threatconnect_client::ChunkLimits;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let lists = tempfile::tempdir()?;
//! std::fs::write(
//!     lists.path().join("detailed-iprepdata.txt"),
//!     "ip, category, score, first_seen, last_seen, ports (|)\n\
//!      192.0.2.7,1,101,2020-01-01,2020-01-22,80\n",
//! )?;
//! let out = tempfile::tempdir()?;
//!
//! let identity = Identity { url: "dry-run".into(), owner: "Example Org".into() };
//! let options = JobOptions {
//!     identity: identity.clone(),
//!     lists: vec![ListFile::DETAILED_IP],
//!     mapper: MapperConfig::builder("Example Org").build()?,
//!     full: false,
//!     full_refresh_every: std::time::Duration::from_secs(24 * 3600),
//! };
//! let source = Arc::new(DirectorySource::new(lists.path()));
//! let destination = DryRunFolder::create(out.path(), ChunkLimits::default())?;
//! let mut state = State::create(out.path().join("state"), identity);
//! let owner = "Example Org".to_owned();
//! let mut report = Report::start("dry run".into(), owner, state.path().into(), true);
//!
//! Job::new(&options, source, &destination).run(&mut state, &mut report).await?;
//!
//! assert_eq!(state.len(), 1);
//! assert_eq!(report.lists["detailed-iprepdata.txt"].sent, 1);
//! assert!(out.path().join("jobs/0001-create.json").exists());
//! # Ok(())
//! # }
//! ```

pub mod cli;
pub mod commands;
pub mod config;
pub mod destination;
pub mod exit;
pub mod job;
pub mod lock;
pub mod progress;
pub mod reconcile;
pub mod report;
pub mod settings;
pub mod state;
pub mod summary;

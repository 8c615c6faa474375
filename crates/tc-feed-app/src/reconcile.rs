//! `tc-feed reconcile`: the state rebuilt from what ThreatConnect holds.
//!
//! A state can be lost (a new host, a deleted volume). A full push restores what is on the
//! list, but an indicator that left the list meanwhile would stay in ThreatConnect forever,
//! since nothing remembers it. Reconcile lists what the owner holds (of the collected types,
//! inactive ones included; only those with the feed tag where one is set), compares it with
//! the current lists and with the state, and rebuilds the state so that the next `run`:
//!
//! - applies the removal action (under the mass-removal guard) to what ThreatConnect holds
//!   and the list does not: those enter the state as held, so the next diff finds them
//!   removed;
//! - sends again what the state claimed and ThreatConnect lacks: those leave the state;
//! - sends again, once, what both hold but the state did not know: it enters the state with
//!   an unknown fingerprint, since reconcile does not read what ThreatConnect stored for it.
//!
//! The lists' validators are cleared, so that the next run downloads and diffs both lists.
//! With `--report-only` nothing is changed.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::Utc;
use futures::StreamExt;
use proofpoint_et_client::{FetchOutcome, ListSource, Validators};
use reputation_mapper::{IndicatorKey, IndicatorKind, MappedIndicators};
use serde::Serialize;
use threatconnect_client::{Client, IndicatorQuery};
use tracing::{info, warn};

use crate::job::{categories_of, chain, fetch_one, kinds_of};
use crate::settings::Settings;
use crate::state::{ListRecord, State, StateDelta};

/// The fingerprint of an indicator whose stored content is unknown: never equal to a real
/// one, so the next run sends it again.
pub const UNKNOWN_FINGERPRINT: u64 = 0;

/// How many example values a reconcile report lists per finding.
const EXAMPLES: usize = 20;

/// A failure of reconcile.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReconcileError {
    /// A list could not be fetched; reconcile needs both to know what is on them.
    #[error("the list {file} could not be read")]
    List {
        /// The list file.
        file: String,
        /// The cause.
        #[source]
        source: proofpoint_et_client::Error,
    },

    /// ThreatConnect could not list the owner's indicators.
    #[error("cannot list the {kind} indicators of owner {owner:?}")]
    Listing {
        /// The type.
        kind: &'static str,
        /// The owner.
        owner: String,
        /// The cause.
        #[source]
        source: threatconnect_client::Error,
    },

    /// The state could not be written.
    #[error("cannot write the rebuilt state")]
    State(#[from] crate::state::StateError),

    /// The mapping failed to start.
    #[error("cannot map the lists")]
    Job(#[from] crate::job::JobError),
}

/// What reconcile found, per type.
#[derive(Debug, Default, Serialize)]
pub struct Finding {
    /// The type.
    pub kind: &'static str,
    /// Indicators ThreatConnect holds (of the feed's, where a feed tag is set).
    pub held: u64,
    /// Indicators on the current list.
    pub on_list: u64,
    /// Indicators the state claimed before reconcile.
    pub in_state: u64,
    /// Held by ThreatConnect, not on the list: the next run applies the removal action.
    pub held_not_on_list: u64,
    /// Examples of those.
    pub held_not_on_list_examples: Vec<String>,
    /// Claimed by the state, lacking in ThreatConnect: the next run sends them again.
    pub claimed_not_held: u64,
    /// Examples of those.
    pub claimed_not_held_examples: Vec<String>,
    /// Held by ThreatConnect and on the list but unknown to the state: sent again once.
    pub held_unknown_to_state: u64,
}

/// What reconcile found, and whether it changed the state.
#[derive(Debug, Default, Serialize)]
pub struct Reconciliation {
    /// Per type.
    pub findings: Vec<Finding>,
    /// Whether the state was rebuilt (false with `--report-only`).
    pub state_rebuilt: bool,
}

/// Reconciles `state` with what the owner holds in ThreatConnect and with the current lists.
///
/// # Errors
///
/// Where a list cannot be read, ThreatConnect cannot be listed, or the state cannot be
/// written. Nothing is changed before everything was read.
pub async fn reconcile(
    settings: &Settings,
    source: Arc<dyn ListSource>,
    client: &Client,
    state: &mut State,
    report_only: bool,
) -> Result<Reconciliation, ReconcileError> {
    let lists = current_lists(settings, source).await?;
    let mut reconciliation = Reconciliation::default();
    let mut delta = StateDelta {
        sent_at: Utc::now().timestamp(),
        ..StateDelta::default()
    };

    for (mapped, kinds) in &lists {
        for &kind in kinds.iter() {
            if !settings.mapper.collects(kind) {
                continue;
            }
            let held = held_keys(client, settings, kind).await?;
            let finding = compare(kind, &held, mapped, state, &mut delta);
            info!(
                kind = kind.as_str(),
                held = finding.held,
                held_not_on_list = finding.held_not_on_list,
                claimed_not_held = finding.claimed_not_held,
                "reconciled"
            );
            reconciliation.findings.push(finding);
        }
    }

    if !report_only {
        for file in &settings.lists {
            let cleared = ListRecord {
                md5: None,
                etag: None,
                last_modified: None,
                committed_at: Utc::now(),
                mapping: None,
            };
            delta.lists.push((file.name().to_owned(), cleared));
        }
        state.commit(delta)?;
        state.compact()?;
        reconciliation.state_rebuilt = true;
    }
    Ok(reconciliation)
}

/// Downloads and maps every collected list, whole.
async fn current_lists(
    settings: &Settings,
    source: Arc<dyn ListSource>,
) -> Result<Vec<(MappedIndicators, &'static [IndicatorKind])>, ReconcileError> {
    let categories = Arc::new(categories_of(source.as_ref()).await);
    let mut lists = Vec::new();
    for &file in &settings.lists {
        let fetched = fetch_one(
            Arc::clone(&source),
            file,
            Validators::default(),
            settings.mapper.clone(),
            Arc::clone(&categories),
        )
        .await?;
        match (fetched.outcome, fetched.mapped) {
            (Ok(FetchOutcome::Complete { .. }), Some(mapped)) => {
                lists.push((mapped, kinds_of(file.kind())));
            }
            (Err(source), _) => {
                return Err(ReconcileError::List {
                    file: file.name().to_owned(),
                    source,
                });
            }
            _ => unreachable!("a fetch without validators downloads the list"),
        }
    }
    Ok(lists)
}

/// The keys of every indicator of `kind` the owner holds, inactive ones included.
async fn held_keys(
    client: &Client,
    settings: &Settings,
    kind: IndicatorKind,
) -> Result<BTreeSet<IndicatorKey>, ReconcileError> {
    let mut query = IndicatorQuery::new(settings.owner(), kind.indicator_type())
        .include_inactive(true)
        .include_additional(true);
    if let Some(tag) = settings.mapper.feed_tag() {
        query = query.tag(tag);
    }

    let mut held = BTreeSet::new();
    let mut indicators = client.indicators(query);
    while let Some(indicator) = indicators.next().await {
        let indicator = indicator.map_err(|source| ReconcileError::Listing {
            kind: kind.as_str(),
            owner: settings.owner().to_owned(),
            source,
        })?;
        match IndicatorKey::new(kind, &indicator.summary) {
            Ok(key) => {
                held.insert(key);
            }
            Err(error) => {
                let value = &indicator.summary;
                let error = chain(&error);
                warn!(%value, %error, "a held indicator has no normal form; left alone");
            }
        }
    }
    Ok(held)
}

/// Compares what ThreatConnect holds of `kind` with the list and the state, and adds the
/// state's changes to `delta`.
fn compare(
    kind: IndicatorKind,
    held: &BTreeSet<IndicatorKey>,
    mapped: &MappedIndicators,
    state: &State,
    delta: &mut StateDelta,
) -> Finding {
    let mut finding = Finding {
        kind: kind.as_str(),
        held: held.len() as u64,
        ..Finding::default()
    };

    for key in held {
        let on_list = mapped.get(key.as_key_ref()).is_some();
        if !on_list {
            finding.held_not_on_list += 1;
            example(&mut finding.held_not_on_list_examples, key);
        }
        if state.get(key.as_str()).is_none() {
            if on_list {
                finding.held_unknown_to_state += 1;
            }
            delta.upserted.push((key.clone(), UNKNOWN_FINGERPRINT));
        }
    }

    for (key, _) in state.entries().filter(|(key, _)| key.kind() == kind) {
        finding.in_state += 1;
        if !held.contains(key) {
            finding.claimed_not_held += 1;
            example(&mut finding.claimed_not_held_examples, key);
            delta.removed.push(key.clone());
        }
    }
    finding.on_list = mapped
        .iter()
        .filter(|indicator| indicator.kind() == kind)
        .count() as u64;
    finding
}

fn example(examples: &mut Vec<String>, key: &IndicatorKey) {
    if examples.len() < EXAMPLES {
        examples.push(key.value().to_owned());
    }
}

/// Prints what reconcile found, for people.
pub fn print(reconciliation: &Reconciliation) {
    for finding in &reconciliation.findings {
        println!(
            "{:<8} held {:>9}  on list {:>9}  in state {:>9}",
            finding.kind, finding.held, finding.on_list, finding.in_state
        );
        println!(
            "         held, not on the list: {} \
             (the next run applies the removal action, under the guard)",
            finding.held_not_on_list
        );
        for value in &finding.held_not_on_list_examples {
            println!("           {value}");
        }
        println!(
            "         in the state, not held: {} (the next run sends them again)",
            finding.claimed_not_held
        );
        for value in &finding.claimed_not_held_examples {
            println!("           {value}");
        }
    }
    if reconciliation.state_rebuilt {
        println!("the state was rebuilt; run `tc-feed run` next");
    } else {
        println!("report only: the state was not changed");
    }
}

//! The plan: what to send for a diff, in which jobs, and whether removals may go.

use serde::Serialize;
use threatconnect_client::{
    AttributeWriteType, BatchAction, BatchIndicator, Confidence, JobSettings, Rating, Tag,
    TagWriteType,
};
use tracing::{debug, warn};

use crate::config::{MapperConfig, RemovalAction};
use crate::counts::KindCounts;
use crate::diff::Diff;
use crate::key::{IndicatorKey, IndicatorKind};

/// One indicator to create or update, with what the state records once it is confirmed.
#[derive(Debug, Clone, PartialEq)]
pub struct Upsert {
    /// Its key.
    pub key: IndicatorKey,
    /// The fingerprint of the document.
    pub fingerprint: u64,
    /// The document.
    pub indicator: BatchIndicator,
}

/// One indicator that left the list, and the document that applies the removal action.
#[derive(Debug, Clone, PartialEq)]
pub struct Removal<'a> {
    /// Its key.
    pub key: &'a IndicatorKey,
    /// Type, summary, `xid` and the one field the action changes; nothing else.
    pub indicator: BatchIndicator,
}

/// The removals of one type against the previous import of that type.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RemovalShare {
    /// The type.
    pub kind: IndicatorKind,
    /// Its keys in the previous import.
    pub previous: u64,
    /// Those this import lacks.
    pub removed: u64,
    /// `removed` as a percentage of `previous` (0 where `previous` is 0).
    pub percent: f64,
    /// Whether it is above the guard's share.
    pub above_guard: bool,
}

/// What the mass-removal guard found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GuardReport {
    /// The largest share of a type's previous import that may be removed in one run.
    pub max_percent: f64,
    /// Whether the operator let removals beyond it through.
    pub allowed_by_operator: bool,
    /// Whether the plan holds every removal back.
    pub held_back: bool,
    /// Per type in scope.
    pub shares: Vec<RemovalShare>,
}

/// What to send for a diff.
///
/// - Upserts: the added and changed indicators (all on a full refresh), in one kind of job:
///   `Create` with `Replace` for tags and attributes, since the owner is the feed's.
/// - Removals: one document per removed key, built from the key alone, in their own jobs with
///   `Append` write types, so that they touch nothing but the one field the action sets.
/// - The mass-removal guard: where the removals of a type exceed the configured share of that
///   type's previous import, the plan carries no removal at all (unless the operator allowed
///   it) and says so, since a near-empty list must never empty the feed.
#[derive(Debug)]
pub struct Plan<'d> {
    diff: &'d Diff<'d>,
    guard: GuardReport,
}

impl<'d> Plan<'d> {
    /// The plan of a diff, under the configuration the indicators were mapped with.
    pub fn new(diff: &'d Diff<'d>) -> Plan<'d> {
        let config = diff.mapped().config();
        let guard = guard(config, diff);
        if guard.held_back {
            warn!(
                removed = diff.removed().len(),
                max_percent = guard.max_percent,
                "the mass-removal guard holds every removal back; allow it to let them through"
            );
        }
        debug!(
            upserts = diff.counts().to_send.total(),
            removals = diff.removed().len(),
            action = %config.removal_action(),
            "plan made"
        );
        Plan { diff, guard }
    }

    fn config(&self) -> &'d MapperConfig {
        self.diff.mapped().config()
    }

    /// The settings of every upsert job: `Create`, `Replace` for tags, attributes and labels.
    pub fn upsert_settings(&self) -> JobSettings {
        let mut settings = JobSettings::new(self.config().owner());
        settings.action = BatchAction::Create;
        settings.attribute_write_type = AttributeWriteType::Replace;
        settings.tag_write_type = TagWriteType::Replace;
        settings.security_label_write_type = TagWriteType::Replace;
        settings
    }

    /// The number of upserts.
    pub fn upsert_count(&self) -> u64 {
        self.diff.counts().to_send.total()
    }

    /// The upserts, built one at a time as the caller drains them (to serialise a chunk and
    /// drop it).
    pub fn upserts(&self) -> impl Iterator<Item = Upsert> + 'd {
        let diff = self.diff;
        diff.to_send().map(|indicator| Upsert {
            key: indicator.key(),
            fingerprint: indicator.fingerprint(),
            indicator: indicator.to_batch_indicator(),
        })
    }

    /// The action for removed indicators.
    pub fn removal_action(&self) -> RemovalAction {
        self.config().removal_action()
    }

    /// Every key the previous import has and this one lacks, held back or not.
    pub fn removed_keys(&self) -> &'d [IndicatorKey] {
        self.diff.removed()
    }

    /// Whether the guard holds the removals back.
    pub fn removals_held_back(&self) -> bool {
        self.guard.held_back
    }

    /// What the guard found.
    pub fn guard(&self) -> &GuardReport {
        &self.guard
    }

    /// The settings of the removal jobs, or `None` where there is nothing to send: the action
    /// is `keep`, nothing was removed, or the guard holds the removals back. `delete` gives a
    /// `Delete` job; every other action a `Create` job; all with `Append` write types.
    pub fn removal_settings(&self) -> Option<JobSettings> {
        if self.removal_count() == 0 {
            return None;
        }
        let mut settings = JobSettings::new(self.config().owner());
        settings.action = match self.removal_action() {
            RemovalAction::Delete => BatchAction::Delete,
            _ => BatchAction::Create,
        };
        settings.attribute_write_type = AttributeWriteType::Append;
        settings.tag_write_type = TagWriteType::Append;
        settings.security_label_write_type = TagWriteType::Append;
        Some(settings)
    }

    /// The number of removal documents [`removals`](Self::removals) yields.
    pub fn removal_count(&self) -> usize {
        let sends_nothing = self.guard.held_back || self.removal_action() == RemovalAction::Keep;
        if sends_nothing {
            0
        } else {
            self.diff.removed().len()
        }
    }

    /// The removal documents, built from the keys alone; none where
    /// [`removal_settings`](Self::removal_settings) is `None`.
    pub fn removals(&self) -> impl Iterator<Item = Removal<'d>> + 'd {
        let config = self.config();
        let keys = &self.diff.removed()[..self.removal_count()];
        keys.iter().filter_map(move |key| {
            let indicator = removal_indicator(key, config)?;
            Some(Removal { key, indicator })
        })
    }
}

/// The document that applies the configured action to a removed key, or `None` for `keep`.
pub fn removal_indicator(key: &IndicatorKey, config: &MapperConfig) -> Option<BatchIndicator> {
    let mut indicator = BatchIndicator::new(key.kind().indicator_type(), key.value());
    indicator.xid = Some(key.xid(config.owner()));
    match config.removal_action() {
        RemovalAction::Delete => {}
        RemovalAction::Deactivate => indicator.active = Some(false),
        RemovalAction::ZeroRating => {
            indicator.rating = Rating::new(0);
            indicator.confidence = Confidence::new(0);
        }
        RemovalAction::Tag => {
            indicator.tag.push(Tag {
                name: config.removal_tag().to_owned(),
            });
        }
        RemovalAction::Keep => return None,
    }
    Some(indicator)
}

fn guard(config: &MapperConfig, diff: &Diff<'_>) -> GuardReport {
    let counts = diff.counts();
    let max_percent = config.max_removal_percent();
    let shares: Vec<RemovalShare> = IndicatorKind::ALL
        .into_iter()
        .filter(|&kind| counts.previous.get(kind) > 0)
        .map(|kind| share(kind, &counts.previous, &counts.removed, max_percent))
        .collect();
    let above = shares.iter().any(|share| share.above_guard);

    GuardReport {
        max_percent,
        allowed_by_operator: config.allows_mass_removal(),
        held_back: above && !config.allows_mass_removal(),
        shares,
    }
}

fn share(
    kind: IndicatorKind,
    previous: &KindCounts,
    removed: &KindCounts,
    max: f64,
) -> RemovalShare {
    let (previous, removed) = (previous.get(kind), removed.get(kind));
    let percent = removed as f64 * 100.0 / previous as f64;
    RemovalShare {
        kind,
        previous,
        removed,
        percent,
        above_guard: percent > max,
    }
}

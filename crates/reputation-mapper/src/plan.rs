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
        diff.to_send().map(|mapped| {
            let indicator = mapped.to_batch_indicator();
            Upsert {
                key: IndicatorKey::from_normal_parts(mapped.kind(), &indicator.summary),
                fingerprint: mapped.fingerprint(),
                indicator,
            }
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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use proofpoint_et_client::ListKind;
    use serde_json::json;

    use super::*;
    use crate::diff::DiffOptions;
    use crate::mapped::MappedIndicators;
    use crate::testing::{OWNER, domain, ip, map};

    type State = HashMap<IndicatorKey, u64>;

    fn confirmed(mapped: &MappedIndicators) -> State {
        mapped
            .iter()
            .map(|indicator| (indicator.key(), indicator.fingerprint()))
            .collect()
    }

    fn addresses(count: u8) -> Vec<String> {
        (1..=count).map(|n| format!("198.51.100.{n}")).collect()
    }

    fn map_addresses(config: &MapperConfig, addresses: &[String]) -> MappedIndicators {
        let rows: Vec<_> = addresses.iter().map(|addr| ip(addr, 1, 98)).collect();
        map(config, &rows)
    }

    fn config_with(action: RemovalAction) -> MapperConfig {
        MapperConfig::builder(OWNER)
            .removal_action(action)
            .build()
            .unwrap()
    }

    /// The removal documents when 198.51.100.10 of ten addresses leaves the list.
    fn one_removal(config: &MapperConfig) -> (Vec<serde_json::Value>, Option<JobSettings>) {
        let state = confirmed(&map_addresses(config, &addresses(10)));
        let now = map_addresses(config, &addresses(9));
        let diff = now.diff(&state, &DiffOptions::new([ListKind::Ip]));
        let plan = Plan::new(&diff);

        assert_eq!(plan.removed_keys().len(), 1);
        assert!(!plan.removals_held_back());
        let documents = plan
            .removals()
            .map(|removal| serde_json::to_value(&removal.indicator).unwrap())
            .collect();
        (documents, plan.removal_settings())
    }

    fn expected_xid() -> String {
        xid_of("198.51.100.10")
    }

    fn xid_of(addr: &str) -> String {
        crate::key::xid(OWNER, IndicatorKind::Address, addr)
    }

    fn assert_append_only(settings: &JobSettings) {
        assert_eq!(settings.owner, OWNER);
        assert_eq!(settings.attribute_write_type, AttributeWriteType::Append);
        assert_eq!(settings.tag_write_type, TagWriteType::Append);
        assert_eq!(settings.security_label_write_type, TagWriteType::Append);
    }

    #[test]
    fn delete_sends_type_summary_and_xid_in_a_delete_job() {
        let (documents, settings) = one_removal(&config_with(RemovalAction::Delete));
        assert_eq!(
            documents,
            [json!({"summary": "198.51.100.10", "type": "Address", "xid": expected_xid()})]
        );
        let settings = settings.unwrap();
        assert_eq!(settings.action, BatchAction::Delete);
        assert_append_only(&settings);
    }

    #[test]
    fn deactivate_sets_active_false_only() {
        let (documents, settings) = one_removal(&config_with(RemovalAction::Deactivate));
        assert_eq!(
            documents,
            [json!({
                "summary": "198.51.100.10", "type": "Address", "xid": expected_xid(),
                "active": false
            })]
        );
        let settings = settings.unwrap();
        assert_eq!(settings.action, BatchAction::Create);
        assert_append_only(&settings);
    }

    #[test]
    fn zero_rating_sets_rating_and_confidence_to_zero_only() {
        let (documents, settings) = one_removal(&config_with(RemovalAction::ZeroRating));
        assert_eq!(
            documents,
            [json!({
                "summary": "198.51.100.10", "type": "Address", "xid": expected_xid(),
                "rating": 0.0, "confidence": 0
            })]
        );
        assert_append_only(&settings.unwrap());
    }

    #[test]
    fn tag_adds_the_removal_tag_only() {
        let (documents, settings) = one_removal(&config_with(RemovalAction::Tag));
        assert_eq!(
            documents,
            [json!({
                "summary": "198.51.100.10", "type": "Address", "xid": expected_xid(),
                "tag": [{"name": "ET Removed"}]
            })]
        );
        assert_append_only(&settings.unwrap());

        let custom = MapperConfig::builder(OWNER)
            .removal_action(RemovalAction::Tag)
            .removal_tag("Gone from ET")
            .build()
            .unwrap();
        let (documents, _) = one_removal(&custom);
        assert_eq!(documents[0]["tag"], json!([{"name": "Gone from ET"}]));
    }

    #[test]
    fn keep_sends_nothing_but_still_names_the_removed_key() {
        let config = config_with(RemovalAction::Keep);
        let state = confirmed(&map_addresses(&config, &addresses(10)));
        let now = map_addresses(&config, &addresses(9));
        let diff = now.diff(&state, &DiffOptions::new([ListKind::Ip]));
        let plan = Plan::new(&diff);

        assert_eq!(plan.removal_count(), 0);
        assert_eq!(plan.removals().count(), 0);
        assert!(plan.removal_settings().is_none());
        assert_eq!(plan.removed_keys()[0].value(), "198.51.100.10");
    }

    #[test]
    fn upserts_replace_tags_and_attributes_and_carry_active_true() {
        let config = MapperConfig::builder(OWNER)
            .feed_tag("ET Reputation")
            .build()
            .unwrap();
        let mapped = map(&config, &[ip("198.51.100.1", 10, 98)]);
        let diff = mapped.diff(&State::new(), &DiffOptions::new([ListKind::Ip]));
        let plan = Plan::new(&diff);

        let settings = plan.upsert_settings();
        assert_eq!(settings.action, BatchAction::Create);
        assert_eq!(settings.attribute_write_type, AttributeWriteType::Replace);
        assert_eq!(settings.tag_write_type, TagWriteType::Replace);
        assert_eq!(settings.owner, OWNER);

        let upserts: Vec<Upsert> = plan.upserts().collect();
        assert_eq!(plan.upsert_count(), 1);
        let upsert = &upserts[0];
        assert_eq!(upsert.key.as_str(), "Address\t198.51.100.1");
        assert_eq!(upsert.indicator.active, Some(true));
        assert_eq!(
            upsert.indicator.xid.as_deref(),
            Some(xid_of("198.51.100.1").as_str())
        );
        let tags: Vec<&str> = upsert
            .indicator
            .tag
            .iter()
            .map(|tag| tag.name.as_str())
            .collect();
        assert_eq!(tags, ["ET Reputation", "TorNode"]);
        assert_eq!(
            upsert.fingerprint,
            crate::fingerprint::fingerprint(&upsert.indicator)
        );
    }

    #[test]
    fn the_feed_tag_is_part_of_the_fingerprint() {
        let plain = map(
            &MapperConfig::builder(OWNER).build().unwrap(),
            &[ip("198.51.100.1", 10, 98)],
        );
        let tagged = MapperConfig::builder(OWNER)
            .feed_tag("ET Reputation")
            .build()
            .unwrap();
        let tagged = map(&tagged, &[ip("198.51.100.1", 10, 98)]);

        let diff = tagged.diff(&confirmed(&plain), &DiffOptions::new([ListKind::Ip]));
        assert_eq!(diff.counts().changed.address, 1);
    }

    #[test]
    fn guard_lets_removals_up_to_its_share_through() {
        // 2 of 10 is 20%: not above the default share.
        let config = config_with(RemovalAction::Deactivate);
        let state = confirmed(&map_addresses(&config, &addresses(10)));
        let now = map_addresses(&config, &addresses(8));
        let diff = now.diff(&state, &DiffOptions::new([ListKind::Ip]));
        let plan = Plan::new(&diff);

        assert!(!plan.removals_held_back());
        assert_eq!(plan.removals().count(), 2);
        let share = plan.guard().shares[0];
        assert_eq!(
            (share.previous, share.removed, share.percent),
            (10, 2, 20.0)
        );
        assert!(!share.above_guard);
    }

    #[test]
    fn guard_holds_removals_above_its_share() {
        // 3 of 10 is 30%.
        let config = config_with(RemovalAction::Delete);
        let state = confirmed(&map_addresses(&config, &addresses(10)));
        let now = map_addresses(&config, &addresses(7));
        let diff = now.diff(&state, &DiffOptions::new([ListKind::Ip]));
        let plan = Plan::new(&diff);

        assert!(plan.removals_held_back());
        assert_eq!(plan.removed_keys().len(), 3);
        assert_eq!(plan.removal_count(), 0);
        assert_eq!(plan.removals().count(), 0);
        assert!(plan.removal_settings().is_none());
        assert!(plan.guard().shares[0].above_guard);
    }

    #[test]
    fn operator_can_let_a_mass_removal_through() {
        let config = MapperConfig::builder(OWNER)
            .removal_action(RemovalAction::Delete)
            .allow_mass_removal(true)
            .build()
            .unwrap();
        let state = confirmed(&map_addresses(&config, &addresses(10)));
        let now = map_addresses(&config, &[]);
        let diff = now.diff(&state, &DiffOptions::new([ListKind::Ip]));
        let plan = Plan::new(&diff);

        assert!(!plan.removals_held_back());
        assert!(plan.guard().allowed_by_operator);
        assert_eq!(plan.removals().count(), 10);
    }

    #[test]
    fn guard_judges_each_type_against_its_own_previous_import() {
        // All 2 hosts gone is 100% of the hosts, though only 2 of 12 indicators overall.
        let config = config_with(RemovalAction::Deactivate);
        let addresses = addresses(10);
        let before_rows: Vec<_> = addresses
            .iter()
            .map(|addr| ip(addr, 1, 98))
            .chain([domain("a.example", 1, 50), domain("b.example", 1, 50)])
            .collect();
        let state = confirmed(&map(&config, &before_rows));
        let now = map_addresses(&config, &addresses);
        let diff = now.diff(&state, &DiffOptions::new([ListKind::Ip, ListKind::Domain]));
        let plan = Plan::new(&diff);

        assert!(plan.removals_held_back());
        let hosts = plan
            .guard()
            .shares
            .iter()
            .find(|s| s.kind == IndicatorKind::Host)
            .unwrap();
        assert_eq!((hosts.previous, hosts.removed), (2, 2));
    }

    #[test]
    fn removal_of_a_host_carries_its_host_type() {
        let config = config_with(RemovalAction::Deactivate);
        let key = IndicatorKey::parse("Host\tgone.example").unwrap();
        let document = removal_indicator(&key, &config).unwrap();
        assert_eq!(
            serde_json::to_value(&document).unwrap(),
            json!({
                "summary": "gone.example", "type": "Host", "active": false,
                "xid": crate::key::xid(OWNER, IndicatorKind::Host, "gone.example")
            })
        );
    }
}

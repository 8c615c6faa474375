//! The diff of this import against the previous one: added, changed, unchanged, removed.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::BuildHasher;

use proofpoint_et_client::ListKind;
use serde::Serialize;
use tracing::debug;

use crate::counts::KindCounts;
use crate::group::StoreId;
use crate::key::{IndicatorKey, IndicatorKind, KeyRef};
use crate::mapped::{MappedIndicator, MappedIndicators};

/// What the feed put into ThreatConnect before this run: key → fingerprint.
///
/// The application backs it with its state store. A map of [`IndicatorKey`] to fingerprint is
/// one already.
pub trait PreviousImport {
    /// The fingerprint of `key` as last confirmed, or `None` where it was not imported.
    fn fingerprint(&self, key: KeyRef<'_>) -> Option<u64>;

    /// Calls `visit` once for every key of the previous import.
    fn for_each_key(&self, visit: &mut dyn FnMut(KeyRef<'_>));
}

impl<S: BuildHasher> PreviousImport for HashMap<IndicatorKey, u64, S> {
    fn fingerprint(&self, key: KeyRef<'_>) -> Option<u64> {
        self.get(key.as_str()).copied()
    }

    fn for_each_key(&self, visit: &mut dyn FnMut(KeyRef<'_>)) {
        self.keys().for_each(|key| visit(key.as_key_ref()));
    }
}

impl PreviousImport for BTreeMap<IndicatorKey, u64> {
    fn fingerprint(&self, key: KeyRef<'_>) -> Option<u64> {
        self.get(key.as_str()).copied()
    }

    fn for_each_key(&self, visit: &mut dyn FnMut(KeyRef<'_>)) {
        self.keys().for_each(|key| visit(key.as_key_ref()));
    }
}

/// A set of keys, such as the values to send again whatever their fingerprint.
pub trait KeySet {
    /// Whether `key` is in the set.
    fn contains_key(&self, key: KeyRef<'_>) -> bool;
}

impl<S: BuildHasher> KeySet for HashSet<IndicatorKey, S> {
    fn contains_key(&self, key: KeyRef<'_>) -> bool {
        self.contains(key.as_str())
    }
}

impl KeySet for BTreeSet<IndicatorKey> {
    fn contains_key(&self, key: KeyRef<'_>) -> bool {
        self.contains(key.as_str())
    }
}

/// Values parked after repeated rejection: key → the fingerprint they had when parked.
pub trait ParkedValues {
    /// The fingerprint `key` had when it was parked, or `None` where it is not parked.
    fn parked_fingerprint(&self, key: KeyRef<'_>) -> Option<u64>;
}

impl<S: BuildHasher> ParkedValues for HashMap<IndicatorKey, u64, S> {
    fn parked_fingerprint(&self, key: KeyRef<'_>) -> Option<u64> {
        self.get(key.as_str()).copied()
    }
}

impl ParkedValues for BTreeMap<IndicatorKey, u64> {
    fn parked_fingerprint(&self, key: KeyRef<'_>) -> Option<u64> {
        self.get(key.as_str()).copied()
    }
}

/// What a diff is asked: which lists this run imported, and how to treat a few keys.
#[derive(Clone, Copy)]
pub struct DiffOptions<'a> {
    lists: [bool; 2],
    full_refresh: bool,
    resend: Option<&'a dyn KeySet>,
    parked: Option<&'a dyn ParkedValues>,
}

impl<'a> DiffOptions<'a> {
    /// A diff of the lists that this run imported completely. Only their types are judged:
    /// a list not imported causes no removal, and its values in the grouper (there should be
    /// none) are left out.
    pub fn new(imported: impl IntoIterator<Item = ListKind>) -> DiffOptions<'a> {
        let mut lists = [false; 2];
        for list in imported {
            lists[list_index(list)] = true;
        }
        DiffOptions {
            lists,
            full_refresh: false,
            resend: None,
            parked: None,
        }
    }

    /// Send every indicator in scope, not only the added and changed ones.
    pub fn full_refresh(mut self, full_refresh: bool) -> Self {
        self.full_refresh = full_refresh;
        self
    }

    /// Send these keys again even where their fingerprint did not change (values ThreatConnect
    /// rejected last run, retried once). They count as changed.
    pub fn resend(mut self, keys: &'a dyn KeySet) -> Self {
        self.resend = Some(keys);
        self
    }

    /// Do not send these values while their fingerprint is the one they were parked with; a
    /// changed value is sent again. Parking wins over [`resend`](Self::resend) and full
    /// refresh.
    pub fn parked(mut self, parked: &'a dyn ParkedValues) -> Self {
        self.parked = Some(parked);
        self
    }

    fn imports(&self, list: ListKind) -> bool {
        self.lists[list_index(list)]
    }
}

impl std::fmt::Debug for DiffOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiffOptions")
            .field("ip_list", &self.lists[0])
            .field("domain_list", &self.lists[1])
            .field("full_refresh", &self.full_refresh)
            .field("resend", &self.resend.is_some())
            .field("parked", &self.parked.is_some())
            .finish()
    }
}

fn list_index(list: ListKind) -> usize {
    match list {
        ListKind::Ip => 0,
        ListKind::Domain => 1,
    }
}

/// How an indicator of this import compares with the previous import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Not in the previous import.
    Added,
    /// In it with another fingerprint, or asked to be sent again.
    Changed,
    /// In it with the same fingerprint.
    Unchanged,
}

/// The counts of a diff, by type.
///
/// They add up: `added + changed + unchanged = current` and
/// `changed + unchanged + removed = previous`, type by type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DiffCounts {
    /// Indicators of this import in scope.
    pub current: KindCounts,
    /// Keys of the previous import in scope.
    pub previous: KindCounts,
    /// Indicators not in the previous import.
    pub added: KindCounts,
    /// Indicators whose fingerprint changed, or that were asked to be sent again.
    pub changed: KindCounts,
    /// Of `changed`: those sent again only because they were asked to be.
    pub resent: KindCounts,
    /// Indicators with the same fingerprint.
    pub unchanged: KindCounts,
    /// Keys of the previous import that this import lacks.
    pub removed: KindCounts,
    /// Indicators held back because they are parked with the same fingerprint.
    pub parked: KindCounts,
    /// Indicators to send: added and changed (or all on a full refresh), less the parked.
    pub to_send: KindCounts,
    /// Keys of the previous import left alone because their list was not imported this run.
    pub left_alone_list_not_imported: KindCounts,
    /// Keys of the previous import left alone because their type is no longer collected.
    pub left_alone_not_collected: KindCounts,
    /// Indicators of this import left out because their list is not among the imported.
    pub ignored_list_not_imported: KindCounts,
    /// Whether every indicator in scope is sent.
    pub full_refresh: bool,
}

const ADDED: u8 = 1;
const CHANGED: u8 = 2;
const UNCHANGED: u8 = 3;
const CHANGE_MASK: u8 = 0b11;
const SEND: u8 = 0b100;
const PARKED: u8 = 0b1000;

/// The diff of one import against the previous one. Made by [`MappedIndicators::diff`].
///
/// It holds no copies of indicators: one byte per value saying what became of it, and the
/// keys of the removed ones.
#[derive(Debug)]
pub struct Diff<'m> {
    mapped: &'m MappedIndicators,
    outcomes: [Vec<u8>; 4],
    removed: Vec<IndicatorKey>,
    counts: DiffCounts,
}

impl MappedIndicators {
    /// Compares this import with `previous`, for the lists `options` names.
    ///
    /// Keys of the previous import whose type is no longer collected, or whose list was not
    /// imported this run, are left alone and counted; every other key this import lacks
    /// (gone from the list, dropped by a filter, or now below the minimum score) is removed.
    pub fn diff<P>(&self, previous: &P, options: &DiffOptions<'_>) -> Diff<'_>
    where
        P: PreviousImport + ?Sized,
    {
        let mut counts = DiffCounts {
            full_refresh: options.full_refresh,
            ..DiffCounts::default()
        };
        let outcomes =
            StoreId::ALL.map(|store| self.classify(store, previous, options, &mut counts));
        let removed = self.removed_keys(previous, options, &mut counts);

        debug!(?counts, "diff against the previous import");
        Diff {
            mapped: self,
            outcomes,
            removed,
            counts,
        }
    }

    fn in_scope(&self, kind: IndicatorKind, options: &DiffOptions<'_>) -> bool {
        self.config().collects(kind) && options.imports(kind.list())
    }

    /// One outcome byte per value of a store.
    fn classify<P: PreviousImport + ?Sized>(
        &self,
        store: StoreId,
        previous: &P,
        options: &DiffOptions<'_>,
        counts: &mut DiffCounts,
    ) -> Vec<u8> {
        let kind = store.kind();
        let in_scope = self.in_scope(kind, options);
        let mut key_text = String::with_capacity(64);

        self.fingerprints(store)
            .iter()
            .enumerate()
            .map(|(index, fingerprint)| {
                let Some(fingerprint) = *fingerprint else {
                    return 0;
                };
                if !in_scope {
                    *counts.ignored_list_not_imported.get_mut(kind) += 1;
                    return 0;
                }
                *counts.current.get_mut(kind) += 1;

                key_text.clear();
                let indicator = self.indicator_in(store, index);
                indicator.write_key(&mut key_text);
                let key = KeyRef::from_normal_text(&key_text);
                classify_one(key, fingerprint, previous, options, counts)
            })
            .collect()
    }

    fn indicator_in(&self, store: StoreId, index: usize) -> MappedIndicator<'_> {
        let slot = crate::group::Slot {
            store,
            index: index as u32,
        };
        self.indicator_at(slot)
            .expect("only values with a fingerprint are classified")
    }

    fn removed_keys<P: PreviousImport + ?Sized>(
        &self,
        previous: &P,
        options: &DiffOptions<'_>,
        counts: &mut DiffCounts,
    ) -> Vec<IndicatorKey> {
        let mut removed = Vec::new();
        previous.for_each_key(&mut |key| {
            let kind = key.kind();
            if !self.config().collects(kind) {
                *counts.left_alone_not_collected.get_mut(kind) += 1;
                return;
            }
            if !options.imports(kind.list()) {
                *counts.left_alone_list_not_imported.get_mut(kind) += 1;
                return;
            }
            *counts.previous.get_mut(kind) += 1;
            if self.get(key).is_none() {
                *counts.removed.get_mut(kind) += 1;
                removed.push(key.to_owned());
            }
        });
        // The previous import may come in any order; documents must not.
        removed.sort_unstable();
        removed
    }
}

fn classify_one<P: PreviousImport + ?Sized>(
    key: KeyRef<'_>,
    fingerprint: u64,
    previous: &P,
    options: &DiffOptions<'_>,
    counts: &mut DiffCounts,
) -> u8 {
    let kind = key.kind();
    let mut outcome = match previous.fingerprint(key) {
        None => ADDED,
        Some(before) if before != fingerprint => CHANGED,
        Some(_)
            if options
                .resend
                .is_some_and(|resend| resend.contains_key(key)) =>
        {
            *counts.resent.get_mut(kind) += 1;
            CHANGED
        }
        Some(_) => UNCHANGED,
    };
    match outcome {
        ADDED => *counts.added.get_mut(kind) += 1,
        CHANGED => *counts.changed.get_mut(kind) += 1,
        _ => *counts.unchanged.get_mut(kind) += 1,
    }

    if options.full_refresh || outcome != UNCHANGED {
        let parked = options
            .parked
            .and_then(|parked| parked.parked_fingerprint(key));
        if parked == Some(fingerprint) {
            *counts.parked.get_mut(kind) += 1;
            outcome |= PARKED;
        } else {
            *counts.to_send.get_mut(kind) += 1;
            outcome |= SEND;
        }
    }
    outcome
}

impl<'m> Diff<'m> {
    /// The counts.
    pub fn counts(&self) -> &DiffCounts {
        &self.counts
    }

    /// The import this diff is about.
    pub fn mapped(&self) -> &'m MappedIndicators {
        self.mapped
    }

    /// The keys of the previous import that this import lacks, sorted.
    pub fn removed(&self) -> &[IndicatorKey] {
        &self.removed
    }

    /// The indicators to send: added and changed (every one on a full refresh), less the
    /// parked, in document order.
    pub fn to_send(&self) -> impl Iterator<Item = MappedIndicator<'m>> + '_ {
        self.with_outcome(|outcome| outcome & SEND != 0)
    }

    /// The indicators held back because they are parked.
    pub fn parked(&self) -> impl Iterator<Item = MappedIndicator<'m>> + '_ {
        self.with_outcome(|outcome| outcome & PARKED != 0)
    }

    /// Every indicator in scope with how it compares with the previous import.
    pub fn changes(&self) -> impl Iterator<Item = (MappedIndicator<'m>, Change)> + '_ {
        self.with_outcome(|outcome| outcome != 0).map(|indicator| {
            let slot = indicator.slot();
            let outcome = self.outcomes[slot.store.index()][slot.index as usize];
            let change = match outcome & CHANGE_MASK {
                ADDED => Change::Added,
                CHANGED => Change::Changed,
                _ => Change::Unchanged,
            };
            (indicator, change)
        })
    }

    fn with_outcome(
        &self,
        wanted: impl Fn(u8) -> bool + Copy + 'm,
    ) -> impl Iterator<Item = MappedIndicator<'m>> + '_ {
        let mapped = self.mapped;
        StoreId::ALL.into_iter().flat_map(move |store| {
            self.outcomes[store.index()]
                .iter()
                .enumerate()
                .filter(move |(_, outcome)| wanted(**outcome))
                .filter_map(move |(index, _)| {
                    let slot = crate::group::Slot {
                        store,
                        index: index as u32,
                    };
                    mapped.indicator_at(slot)
                })
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use proofpoint_et_client::ListKind;

    use super::*;
    use crate::config::MapperConfig;
    use crate::testing::{OWNER, config, domain, ip, map};

    type State = HashMap<IndicatorKey, u64>;

    fn confirmed(mapped: &MappedIndicators) -> State {
        mapped
            .iter()
            .map(|indicator| (indicator.key(), indicator.fingerprint()))
            .collect()
    }

    fn both_lists() -> DiffOptions<'static> {
        DiffOptions::new([ListKind::Ip, ListKind::Domain])
    }

    fn sent(diff: &Diff<'_>) -> Vec<String> {
        diff.to_send().map(|indicator| indicator.value()).collect()
    }

    fn key(text: &str) -> IndicatorKey {
        IndicatorKey::parse(text).unwrap()
    }

    fn assert_counts_add_up(counts: &DiffCounts) {
        for kind in IndicatorKind::ALL {
            let current =
                counts.added.get(kind) + counts.changed.get(kind) + counts.unchanged.get(kind);
            assert_eq!(current, counts.current.get(kind), "{kind}");
            let previous =
                counts.changed.get(kind) + counts.unchanged.get(kind) + counts.removed.get(kind);
            assert_eq!(previous, counts.previous.get(kind), "{kind}");
        }
    }

    #[test]
    fn first_import_adds_everything() {
        let mapped = map(
            &config(),
            &[ip("192.0.2.1", 1, 50), domain("a.example", 1, 50)],
        );
        let diff = mapped.diff(&State::new(), &both_lists());

        assert_eq!(diff.counts().added.total(), 2);
        assert_eq!(sent(&diff), ["192.0.2.1", "a.example"]);
        assert_counts_add_up(diff.counts());
    }

    #[test]
    fn an_import_diffed_with_itself_sends_nothing() {
        let mapped = map(
            &config(),
            &[ip("192.0.2.1", 1, 50), domain("a.example", 1, 50)],
        );
        let diff = mapped.diff(&confirmed(&mapped), &both_lists());

        assert_eq!(diff.counts().unchanged.total(), 2);
        assert_eq!(diff.to_send().count(), 0);
        assert!(diff.removed().is_empty());
        assert_counts_add_up(diff.counts());
    }

    #[test]
    fn churn_gives_added_changed_unchanged_and_removed() {
        let before = map(
            &config(),
            &[
                ip("192.0.2.1", 1, 50),
                ip("192.0.2.2", 1, 50),
                ip("192.0.2.3", 1, 50),
            ],
        );
        let after = map(
            &config(),
            &[
                ip("192.0.2.1", 1, 50),
                ip("192.0.2.2", 1, 90),
                ip("192.0.2.4", 1, 50),
            ],
        );
        let diff = after.diff(&confirmed(&before), &both_lists());

        let changes: Vec<(String, Change)> = diff
            .changes()
            .map(|(indicator, change)| (indicator.value(), change))
            .collect();
        assert_eq!(
            changes,
            [
                ("192.0.2.1".to_owned(), Change::Unchanged),
                ("192.0.2.2".to_owned(), Change::Changed),
                ("192.0.2.4".to_owned(), Change::Added),
            ]
        );
        assert_eq!(sent(&diff), ["192.0.2.2", "192.0.2.4"]);
        assert_eq!(diff.removed(), [key("Address\t192.0.2.3")]);
        assert_counts_add_up(diff.counts());
    }

    #[test]
    fn full_refresh_sends_everything() {
        let mapped = map(&config(), &[ip("192.0.2.1", 1, 50), ip("192.0.2.2", 1, 50)]);
        let diff = mapped.diff(&confirmed(&mapped), &both_lists().full_refresh(true));

        assert_eq!(sent(&diff), ["192.0.2.1", "192.0.2.2"]);
        assert_eq!(diff.counts().unchanged.total(), 2);
        assert!(diff.counts().full_refresh);
    }

    #[test]
    fn keys_to_resend_count_as_changed() {
        let mapped = map(&config(), &[ip("192.0.2.1", 1, 50), ip("192.0.2.2", 1, 50)]);
        let resend: HashSet<IndicatorKey> = [key("Address\t192.0.2.2")].into();
        let diff = mapped.diff(&confirmed(&mapped), &both_lists().resend(&resend));

        assert_eq!(sent(&diff), ["192.0.2.2"]);
        assert_eq!(diff.counts().changed.total(), 1);
        assert_eq!(diff.counts().resent.total(), 1);
        assert_counts_add_up(diff.counts());
    }

    #[test]
    fn parked_values_wait_until_their_content_changes() {
        let mapped = map(&config(), &[ip("192.0.2.1", 1, 50), ip("192.0.2.2", 1, 50)]);
        let parked_fingerprint = mapped.iter().next().unwrap().fingerprint();
        let parked: State = [
            (key("Address\t192.0.2.1"), parked_fingerprint),
            (key("Address\t192.0.2.2"), 7),
        ]
        .into();

        // Parking wins over a full refresh; 192.0.2.2 changed since it was parked.
        let options = both_lists().parked(&parked).full_refresh(true);
        let diff = mapped.diff(&State::new(), &options);

        assert_eq!(sent(&diff), ["192.0.2.2"]);
        let parked: Vec<String> = diff.parked().map(|indicator| indicator.value()).collect();
        assert_eq!(parked, ["192.0.2.1"]);
        assert_eq!(diff.counts().parked.total(), 1);
        assert_eq!(diff.counts().added.total(), 2);
    }

    #[test]
    fn a_list_not_imported_causes_no_removal() {
        let before = map(
            &config(),
            &[ip("192.0.2.1", 1, 50), domain("a.example", 1, 50)],
        );
        let only_hosts = map(&config(), &[domain("a.example", 1, 50)]);
        let diff = only_hosts.diff(&confirmed(&before), &DiffOptions::new([ListKind::Domain]));

        assert!(diff.removed().is_empty());
        assert_eq!(diff.counts().left_alone_list_not_imported.address, 1);
        assert_eq!(diff.counts().previous.total(), 1);
        assert_counts_add_up(diff.counts());
    }

    #[test]
    fn values_of_a_list_not_named_imported_are_left_out() {
        let mapped = map(
            &config(),
            &[ip("192.0.2.1", 1, 50), domain("a.example", 1, 50)],
        );
        let diff = mapped.diff(&State::new(), &DiffOptions::new([ListKind::Domain]));

        assert_eq!(sent(&diff), ["a.example"]);
        assert_eq!(diff.counts().ignored_list_not_imported.address, 1);
    }

    #[test]
    fn a_type_no_longer_collected_is_left_alone() {
        let before = map(
            &config(),
            &[ip("192.0.2.1", 1, 50), domain("a.example", 1, 50)],
        );
        let hosts_only = MapperConfig::builder(OWNER)
            .types([IndicatorKind::Host])
            .build()
            .unwrap();
        let now = map(&hosts_only, &[domain("a.example", 1, 50)]);
        let diff = now.diff(&confirmed(&before), &both_lists());

        assert!(diff.removed().is_empty());
        assert_eq!(diff.counts().left_alone_not_collected.address, 1);
        assert_eq!(diff.counts().unchanged.host, 1);
    }

    #[test]
    fn a_value_now_below_the_minimum_score_is_removed() {
        let before = map(&config(), &[ip("192.0.2.1", 1, 50), ip("192.0.2.2", 1, 90)]);
        let stricter = MapperConfig::builder(OWNER).min_score(60).build().unwrap();
        let now = map(&stricter, &[ip("192.0.2.1", 1, 50), ip("192.0.2.2", 1, 90)]);
        let diff = now.diff(&confirmed(&before), &both_lists());

        assert_eq!(diff.removed(), [key("Address\t192.0.2.1")]);
        assert_counts_add_up(diff.counts());
    }

    #[test]
    fn removed_keys_come_out_sorted_whatever_the_previous_order() {
        let before: Vec<_> = (1..=20).map(|n| format!("192.0.2.{n}")).collect();
        let rows: Vec<_> = before.iter().map(|addr| ip(addr, 1, 50)).collect();
        let state = confirmed(&map(&config(), &rows));
        let empty = map(&config(), &[]);
        let diff = empty.diff(&state, &both_lists());

        let removed = diff.removed();
        assert_eq!(removed.len(), 20);
        assert!(removed.windows(2).all(|pair| pair[0] < pair[1]));
    }
}

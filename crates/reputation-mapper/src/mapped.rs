//! The grouped indicators, and the documents built from them on demand.

use std::net::IpAddr;

use chrono::NaiveDate;
use smallvec::SmallVec;
use threatconnect_client::{Attribute, BatchIndicator, Confidence, Rating, Tag};

use crate::category::CategoryResolver;
use crate::config::MapperConfig;
use crate::counts::MappingCounts;
use crate::fingerprint::{
    hash_canonical, write_header, write_line, write_midnight_line, write_number_line,
};
use crate::group::{CidrValue, Groups, Slot, StoreId};
use crate::key::{IndicatorKey, IndicatorKind, KeyRef, xid};
use crate::normalize::{push_date, push_decimal};
use crate::record::Record;

/// The attribute that carries the External Score.
pub const EXTERNAL_SCORE: &str = "External Score";

/// The attribute that carries the earliest `first_seen`.
pub const FIRST_SEEN: &str = "First Seen";

/// The attribute that carries the latest `last_seen`.
pub const LAST_SEEN: &str = "Last Seen";

/// The indicators of one import: one per value, with what the documents need, built into
/// [`BatchIndicator`]s only when asked.
///
/// Made by [`Grouper::finish`](crate::Grouper::finish). Indicators come out by type (IPv4
/// addresses, IPv6 addresses, hosts, CIDR blocks), each type in the order of its values' first
/// rows, so that the same list always gives the same documents in the same order.
#[derive(Debug)]
pub struct MappedIndicators {
    config: MapperConfig,
    categories: CategoryResolver,
    groups: Groups,
    /// Per store, per value: its fingerprint, or `None` below the minimum score.
    fingerprints: [Vec<Option<u64>>; 4],
    counts: MappingCounts,
}

impl MappedIndicators {
    pub(crate) fn new(
        config: MapperConfig,
        categories: CategoryResolver,
        groups: Groups,
        mut counts: MappingCounts,
    ) -> MappedIndicators {
        let mut mapped = MappedIndicators {
            config,
            categories,
            groups,
            fingerprints: Default::default(),
            counts: MappingCounts::default(),
        };
        mapped.fingerprints =
            StoreId::ALL.map(|store| mapped.fingerprint_store(store, &mut counts));
        mapped.counts = counts;
        mapped
    }

    /// Fingerprints every value of one store that reaches the minimum score; counts them.
    fn fingerprint_store(&self, store: StoreId, counts: &mut MappingCounts) -> Vec<Option<u64>> {
        let kind = store.kind();
        let mut canonical = String::with_capacity(256);
        (0..self.groups.len(store))
            .map(|index| {
                let slot = Slot {
                    store,
                    index: index as u32,
                };
                let record = self.groups.record(slot);
                if self.below_min_score(record) {
                    *counts.below_min_score.get_mut(kind) += 1;
                    return None;
                }
                *counts.indicators.get_mut(kind) += 1;
                canonical.clear();
                self.view(record).write_canonical(&mut canonical);
                Some(hash_canonical(&canonical))
            })
            .collect()
    }

    fn below_min_score(&self, record: &Record) -> bool {
        self.config
            .min_score()
            .is_some_and(|min_score| record.external_score() < min_score)
    }

    /// What the document of a record holds, apart from its value.
    fn view(&self, record: &Record) -> View<'_> {
        let external_score = record.external_score();
        let mut tags: SmallVec<[&str; 6]> = record
            .categories()
            .map(|key| self.categories.tag(key))
            .chain(self.config.feed_tag())
            .collect();
        tags.sort_unstable();
        tags.dedup();

        View {
            external_score,
            rating: self.config.rating().rating(external_score),
            confidence: self.config.confidence(),
            first_seen: record.first_seen(),
            last_seen: record.last_seen(),
            tags,
        }
    }

    /// The configuration the indicators were mapped with.
    pub fn config(&self) -> &MapperConfig {
        &self.config
    }

    /// Why the rows became these indicators.
    pub fn counts(&self) -> &MappingCounts {
        &self.counts
    }

    /// The number of indicators (values at or above the minimum score).
    pub fn len(&self) -> usize {
        self.counts.indicators.total() as usize
    }

    /// Whether there is no indicator.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every indicator, in document order.
    pub fn iter(&self) -> impl Iterator<Item = MappedIndicator<'_>> + '_ {
        StoreId::ALL
            .into_iter()
            .flat_map(move |store| self.iter_store(store))
    }

    pub(crate) fn iter_store(&self, store: StoreId) -> impl Iterator<Item = MappedIndicator<'_>> {
        self.fingerprints[store.index()]
            .iter()
            .enumerate()
            .filter_map(move |(index, fingerprint)| {
                let slot = Slot {
                    store,
                    index: index as u32,
                };
                fingerprint.map(|fingerprint| MappedIndicator {
                    mapped: self,
                    slot,
                    fingerprint,
                })
            })
    }

    /// The indicator of a key, if this import has it (at or above the minimum score).
    pub fn get(&self, key: KeyRef<'_>) -> Option<MappedIndicator<'_>> {
        let slot = self.find(key.kind(), key.value())?;
        let fingerprint = self.fingerprints[slot.store.index()][slot.index as usize]?;
        Some(MappedIndicator {
            mapped: self,
            slot,
            fingerprint,
        })
    }

    /// Where a value in normal form is, if it was grouped.
    fn find(&self, kind: IndicatorKind, value: &str) -> Option<Slot> {
        let (store, index) = match kind {
            IndicatorKind::Address => match value.parse::<IpAddr>().ok()? {
                IpAddr::V4(v4) => (StoreId::Ipv4, self.groups.ipv4.values.find(u32::from(v4))?),
                IpAddr::V6(v6) => (StoreId::Ipv6, self.groups.ipv6.values.find(u128::from(v6))?),
            },
            IndicatorKind::Host => (StoreId::Host, self.groups.hosts.values.find(value)?),
            IndicatorKind::Cidr => {
                let (addr, prefix) = value.split_once('/')?;
                let block = proofpoint_et_client::CidrBlock {
                    addr: addr.parse().ok()?,
                    prefix: prefix.parse().ok()?,
                };
                (
                    StoreId::Cidr,
                    self.groups.cidrs.values.find(CidrValue::new(block)?)?,
                )
            }
        };
        Some(Slot {
            store,
            index: index as u32,
        })
    }

    /// The fingerprint of every value of a store (`None` below the minimum score).
    pub(crate) fn fingerprints(&self, store: StoreId) -> &[Option<u64>] {
        &self.fingerprints[store.index()]
    }

    pub(crate) fn indicator_at(&self, slot: Slot) -> Option<MappedIndicator<'_>> {
        let fingerprint = self.fingerprints[slot.store.index()][slot.index as usize]?;
        Some(MappedIndicator {
            mapped: self,
            slot,
            fingerprint,
        })
    }
}

/// What a document holds besides its value and identity.
struct View<'m> {
    external_score: u8,
    rating: Rating,
    confidence: Confidence,
    first_seen: Option<NaiveDate>,
    last_seen: Option<NaiveDate>,
    /// Sorted, distinct.
    tags: SmallVec<[&'m str; 6]>,
}

impl View<'_> {
    /// The canonical form of the document [`View::batch_indicator`] builds; the two must agree
    /// (a test holds them together).
    fn write_canonical(&self, out: &mut String) {
        write_header(out);
        out.push_str("active\ttrue\n");
        write_number_line(out, "rating", u32::from(self.rating.get()));
        write_number_line(out, "confidence", u32::from(self.confidence.get()));
        if let Some(date) = self.first_seen {
            write_midnight_line(out, "firstSeen", date);
        }
        if let Some(date) = self.last_seen {
            write_midnight_line(out, "lastSeen", date);
        }

        // The attribute names sort as written: External Score, First Seen, Last Seen.
        let mut value = String::with_capacity(10);
        push_decimal(&mut value, u32::from(self.external_score));
        write_line(out, &["attribute", EXTERNAL_SCORE, &value, "true"]);
        for (name, date) in [(FIRST_SEEN, self.first_seen), (LAST_SEEN, self.last_seen)] {
            if let Some(date) = date {
                value.clear();
                push_date(&mut value, date);
                write_line(out, &["attribute", name, &value, "true"]);
            }
        }

        for tag in &self.tags {
            write_line(out, &["tag", tag]);
        }
    }

    fn batch_indicator(&self, kind: IndicatorKind, summary: String, xid: String) -> BatchIndicator {
        let mut indicator = BatchIndicator::new(kind.indicator_type(), summary);
        indicator.rating = Some(self.rating);
        indicator.confidence = Some(self.confidence);
        indicator.xid = Some(xid);
        indicator.active = Some(true);
        indicator.first_seen = self.first_seen.map(midnight);
        indicator.last_seen = self.last_seen.map(midnight);

        let mut score = String::with_capacity(3);
        push_decimal(&mut score, u32::from(self.external_score));
        indicator.attribute.push(attribute(EXTERNAL_SCORE, score));
        for (name, date) in [(FIRST_SEEN, self.first_seen), (LAST_SEEN, self.last_seen)] {
            if let Some(date) = date {
                let mut value = String::with_capacity(10);
                push_date(&mut value, date);
                indicator.attribute.push(attribute(name, value));
            }
        }

        indicator.tag = self
            .tags
            .iter()
            .map(|name| Tag {
                name: (*name).to_owned(),
            })
            .collect();
        indicator
    }
}

fn attribute(kind: &str, value: String) -> Attribute {
    Attribute {
        kind: kind.to_owned(),
        value,
        displayed: true,
    }
}

fn midnight(date: NaiveDate) -> chrono::DateTime<chrono::Utc> {
    date.and_time(chrono::NaiveTime::MIN).and_utc()
}

/// One indicator of a [`MappedIndicators`]; its document is built on demand.
#[derive(Debug, Clone, Copy)]
pub struct MappedIndicator<'m> {
    mapped: &'m MappedIndicators,
    slot: Slot,
    fingerprint: u64,
}

impl<'m> MappedIndicator<'m> {
    pub(crate) fn slot(&self) -> Slot {
        self.slot
    }

    fn record(&self) -> &'m Record {
        self.mapped.groups.record(self.slot)
    }

    /// The indicator type.
    pub fn kind(&self) -> IndicatorKind {
        self.slot.store.kind()
    }

    /// Appends the key's text form (see [`IndicatorKey`]) to `out`, allocating nothing else.
    pub fn write_key(&self, out: &mut String) {
        out.push_str(self.kind().as_str());
        out.push('\t');
        self.mapped.groups.push_value(out, self.slot);
    }

    /// The key.
    pub fn key(&self) -> IndicatorKey {
        let mut text = String::with_capacity(48);
        self.write_key(&mut text);
        IndicatorKey::from_normal_text(&text)
    }

    /// The value, as ThreatConnect stores it (the document's `summary`).
    pub fn value(&self) -> String {
        let mut value = String::with_capacity(40);
        self.mapped.groups.push_value(&mut value, self.slot);
        value
    }

    /// The fingerprint of the document (see [`fingerprint`](crate::fingerprint())).
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// The External Score: the highest current score over its categories.
    pub fn external_score(&self) -> u8 {
        self.record().external_score()
    }

    /// The threat rating.
    pub fn rating(&self) -> Rating {
        self.mapped.config.rating().rating(self.external_score())
    }

    /// The earliest `first_seen` over its rows, where the list had dates.
    pub fn first_seen(&self) -> Option<NaiveDate> {
        self.record().first_seen()
    }

    /// The latest `last_seen` over its rows, where the list had dates.
    pub fn last_seen(&self) -> Option<NaiveDate> {
        self.record().last_seen()
    }

    /// Its tags: the category names and the feed tag, sorted.
    pub fn tags(&self) -> Vec<&'m str> {
        self.mapped.view(self.record()).tags.into_vec()
    }

    /// The canonical form its fingerprint is computed from.
    pub fn canonical_form(&self) -> String {
        let mut out = String::new();
        self.mapped.view(self.record()).write_canonical(&mut out);
        out
    }

    /// The upsert document: every field, `active: true`, the `xid` in the feed's owner.
    pub fn to_batch_indicator(&self) -> BatchIndicator {
        let value = self.value();
        let xid = xid(self.mapped.config.owner(), self.kind(), &value);
        self.mapped
            .view(self.record())
            .batch_indicator(self.kind(), value, xid)
    }
}

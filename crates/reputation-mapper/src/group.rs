//! The grouper: rows in, one compact record per value out.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proofpoint_et_client::{CidrBlock, Indicator, Rejection, Row, RowSink};
use tracing::{debug, trace};

use crate::category::{CategoryNames, CategoryResolver, KeyRemap, Verdict};
use crate::config::{CidrPolicy, MapperConfig, WildcardPolicy};
use crate::counts::{DropReason, DroppedExample, EXAMPLES_KEPT, MappingCounts};
use crate::error::{Error, shorten};
use crate::key::IndicatorKind;
use crate::mapped::MappedIndicators;
use crate::normalize;
use crate::record::{CategoryScore, NO_FIRST, NO_LAST, Record, day};
use crate::store::{HostInterner, Interner};

/// A CIDR block with its host bits cleared; IPv4 networks are kept in the low 32 bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct CidrValue {
    network: u128,
    prefix: u8,
    v4: bool,
}

impl CidrValue {
    /// The block as ThreatConnect stores it, or `None` where the prefix is too long.
    pub(crate) fn new(block: CidrBlock) -> Option<CidrValue> {
        let network = normalize::network(block.addr, block.prefix)?;
        let (network, v4) = match network {
            IpAddr::V4(v4) => (u128::from(u32::from(v4)), true),
            IpAddr::V6(v6) => (u128::from(v6), false),
        };
        Some(CidrValue {
            network,
            prefix: block.prefix,
            v4,
        })
    }

    pub(crate) fn network(self) -> IpAddr {
        if self.v4 {
            IpAddr::V4(Ipv4Addr::from(self.network as u32))
        } else {
            IpAddr::V6(Ipv6Addr::from(self.network))
        }
    }

    pub(crate) fn prefix(self) -> u8 {
        self.prefix
    }
}

/// Which store a value is in. Documents list them in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum StoreId {
    Ipv4,
    Ipv6,
    Host,
    Cidr,
}

impl StoreId {
    pub(crate) const ALL: [StoreId; 4] =
        [StoreId::Ipv4, StoreId::Ipv6, StoreId::Host, StoreId::Cidr];

    pub(crate) fn kind(self) -> IndicatorKind {
        match self {
            StoreId::Ipv4 | StoreId::Ipv6 => IndicatorKind::Address,
            StoreId::Host => IndicatorKind::Host,
            StoreId::Cidr => IndicatorKind::Cidr,
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// A value's place: its store and its index there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Slot {
    pub(crate) store: StoreId,
    pub(crate) index: u32,
}

/// The values of one store and their records, index for index.
#[derive(Debug, Clone, Default)]
pub(crate) struct Group<S> {
    pub(crate) values: S,
    pub(crate) records: Vec<Record>,
}

impl<S> Group<S> {
    fn add(&mut self, (index, is_new): (usize, bool), row: CategoryScore, first_seen: i32) {
        if is_new {
            self.records.push(Record::new());
        }
        self.records[index].add(row, first_seen);
    }
}

/// Every store.
#[derive(Debug, Clone, Default)]
pub(crate) struct Groups {
    pub(crate) ipv4: Group<Interner<u32>>,
    pub(crate) ipv6: Group<Interner<u128>>,
    pub(crate) hosts: Group<HostInterner>,
    pub(crate) cidrs: Group<Interner<CidrValue>>,
}

impl Groups {
    pub(crate) fn len(&self, store: StoreId) -> usize {
        match store {
            StoreId::Ipv4 => self.ipv4.records.len(),
            StoreId::Ipv6 => self.ipv6.records.len(),
            StoreId::Host => self.hosts.records.len(),
            StoreId::Cidr => self.cidrs.records.len(),
        }
    }

    pub(crate) fn record(&self, slot: Slot) -> &Record {
        let index = slot.index as usize;
        match slot.store {
            StoreId::Ipv4 => &self.ipv4.records[index],
            StoreId::Ipv6 => &self.ipv6.records[index],
            StoreId::Host => &self.hosts.records[index],
            StoreId::Cidr => &self.cidrs.records[index],
        }
    }

    /// Appends the value of `slot` in its stored form.
    pub(crate) fn push_value(&self, out: &mut String, slot: Slot) {
        let index = slot.index as usize;
        match slot.store {
            StoreId::Ipv4 => normalize::push_ipv4(out, Ipv4Addr::from(self.ipv4.values.get(index))),
            StoreId::Ipv6 => normalize::push_ipv6(out, Ipv6Addr::from(self.ipv6.values.get(index))),
            StoreId::Host => out.push_str(self.hosts.values.get(index)),
            StoreId::Cidr => {
                let block = self.cidrs.values.get(index);
                normalize::push_cidr(out, block.network(), block.prefix());
            }
        }
    }

    pub(crate) fn shrink_to_fit(&mut self) {
        self.ipv4.values.shrink_to_fit();
        self.ipv4.records.shrink_to_fit();
        self.ipv6.values.shrink_to_fit();
        self.ipv6.records.shrink_to_fit();
        self.hosts.values.shrink_to_fit();
        self.hosts.records.shrink_to_fit();
        self.cidrs.values.shrink_to_fit();
        self.cidrs.records.shrink_to_fit();
    }
}

/// Groups the rows of one or more lists into one record per indicator.
///
/// The grouper is a [`RowSink`]: a parser pushes rows straight into it. Each row is checked
/// against the filters (type, wildcard, CIDR, category, value form) and either dropped and
/// counted by [`DropReason`], or folded into the record of its value. Nothing is allocated
/// for a row whose value was seen before (unless the row spells a host name in another case).
///
/// A grouper belongs to the lists it was fed: a list that did not complete must not reach the
/// diff. To read two lists at once, give each its own grouper (one per thread) and
/// [`merge`](Grouper::merge) them once both completed.
#[derive(Debug)]
pub struct Grouper<'t, N: ?Sized> {
    config: MapperConfig,
    names: &'t N,
    categories: CategoryResolver,
    groups: Groups,
    counts: MappingCounts,
}

impl<'t, N: CategoryNames + ?Sized> Grouper<'t, N> {
    /// An empty grouper for `config`, naming categories through `names`.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownCategory`] where `categories.allow` or `categories.deny` names a
    /// category that `names` does not know (a typo would otherwise filter nothing).
    pub fn new(config: &MapperConfig, names: &'t N) -> Result<Grouper<'t, N>, Error> {
        Ok(Grouper {
            config: config.clone(),
            names,
            categories: CategoryResolver::new(config, names)?,
            groups: Groups::default(),
            counts: MappingCounts::default(),
        })
    }

    /// What became of the rows so far.
    pub fn counts(&self) -> &MappingCounts {
        &self.counts
    }

    /// The number of distinct values grouped so far.
    pub fn len(&self) -> usize {
        StoreId::ALL
            .into_iter()
            .map(|store| self.groups.len(store))
            .sum()
    }

    /// Whether no value was grouped yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Takes in what `other` grouped, as if its rows had come to this grouper. Both must have
    /// been made with the same configuration; this grouper's is kept.
    pub fn merge(&mut self, other: Grouper<'_, N>) {
        let remap = self.categories.absorb(&other.categories);
        let theirs = other.groups;
        merge_fixed(&mut self.groups.ipv4, &theirs.ipv4, &remap);
        merge_fixed(&mut self.groups.ipv6, &theirs.ipv6, &remap);
        merge_fixed(&mut self.groups.cidrs, &theirs.cidrs, &remap);
        for (index, record) in theirs.hosts.records.iter().enumerate() {
            let found = self
                .groups
                .hosts
                .values
                .intern(theirs.hosts.values.get(index));
            merge_record(&mut self.groups.hosts.records, found, record, &remap);
        }
        self.counts.merge(other.counts);
    }

    /// The indicators: rated, filtered by minimum score, fingerprinted.
    pub fn finish(mut self) -> MappedIndicators {
        self.groups.shrink_to_fit();
        self.counts.values_grouped = self.len() as u64;
        let mapped = MappedIndicators::new(self.config, self.categories, self.groups, self.counts);
        debug!(counts = %mapped.counts(), "rows grouped into indicators");
        mapped
    }

    fn drop_row(&mut self, reason: DropReason, row: &Row<'_>, detail: Option<String>) {
        trace!(value = %row.indicator, %reason, "row dropped");
        self.counts.rows_dropped.add(reason, || DroppedExample {
            value: shorten(&row.indicator.to_string(), 100),
            detail,
        });
    }

    /// The kind a row's value would become, or why it cannot be collected.
    fn kind_of(&self, indicator: &Indicator<'_>) -> Result<IndicatorKind, DropReason> {
        let kind = match indicator {
            Indicator::Ipv4(_) | Indicator::Ipv6(_) => IndicatorKind::Address,
            Indicator::Domain(_) | Indicator::Wildcard(_) => IndicatorKind::Host,
            Indicator::Cidr(_) if self.config.cidr() == CidrPolicy::Skip => {
                return Err(DropReason::Cidr);
            }
            Indicator::Cidr(_) => IndicatorKind::Cidr,
        };
        match self.config.collects(kind) {
            true => Ok(kind),
            false => Err(DropReason::TypeNotCollected),
        }
    }

    /// The host name a domain or wildcard row stands for, or why it stands for none.
    fn host_name<'r>(&mut self, indicator: &Indicator<'r>) -> Result<&'r str, DropReason> {
        let text = match *indicator {
            Indicator::Domain(name) if !name.contains('*') => return Ok(name),
            Indicator::Domain(pattern) | Indicator::Wildcard(pattern) => pattern,
            _ => unreachable!("only domain rows have host names"),
        };
        let base = match self.config.wildcards() {
            WildcardPolicy::Skip => None,
            WildcardPolicy::BaseDomain => {
                text.strip_prefix("*.").filter(|base| !base.contains('*'))
            }
        };
        match base {
            Some(base) => {
                self.counts.wildcards_rewritten += 1;
                Ok(base)
            }
            None => Err(DropReason::Wildcard),
        }
    }

    fn count_unknown_category(&mut self, key: crate::record::CategoryKey) {
        match key.split() {
            Ok(id) => *self.counts.unknown_category_ids.entry(id).or_default() += 1,
            Err(index) => {
                let name = self.categories.unknown_name(index);
                match self.counts.unknown_category_names.get_mut(name) {
                    Some(rows) => *rows += 1,
                    None => {
                        self.counts
                            .unknown_category_names
                            .insert(name.to_owned(), 1);
                    }
                }
            }
        }
    }

    fn add_host(&mut self, row: &Row<'_>, name: &str, held: CategoryScore, first_seen: i32) {
        match normalize::normalize_host(name) {
            Ok(host) => {
                let found = self.groups.hosts.values.intern(&host);
                self.groups.hosts.add(found, held, first_seen);
                self.counts.rows_grouped += 1;
            }
            Err(error) => self.drop_row(DropReason::InvalidHost, row, Some(error.to_string())),
        }
    }

    fn add_address(&mut self, row: &Row<'_>, addr: IpAddr, held: CategoryScore, first_seen: i32) {
        let addr = normalize::canonical_ip(addr);
        if addr.is_unspecified() {
            let detail = "the unspecified address is not an indicator".to_owned();
            self.drop_row(DropReason::InvalidAddress, row, Some(detail));
            return;
        }
        match addr {
            IpAddr::V4(v4) => {
                let found = self.groups.ipv4.values.intern(u32::from(v4));
                self.groups.ipv4.add(found, held, first_seen);
            }
            IpAddr::V6(v6) => {
                let found = self.groups.ipv6.values.intern(u128::from(v6));
                self.groups.ipv6.add(found, held, first_seen);
            }
        }
        self.counts.rows_grouped += 1;
    }

    fn add_cidr(&mut self, row: &Row<'_>, block: CidrBlock, held: CategoryScore, first_seen: i32) {
        match CidrValue::new(block) {
            Some(value) => {
                let found = self.groups.cidrs.values.intern(value);
                self.groups.cidrs.add(found, held, first_seen);
                self.counts.rows_grouped += 1;
            }
            None => {
                let detail = format!("the prefix /{} is too long", block.prefix);
                self.drop_row(DropReason::InvalidAddress, row, Some(detail));
            }
        }
    }
}

impl<N: CategoryNames + ?Sized> RowSink for Grouper<'_, N> {
    fn row(&mut self, row: Row<'_>) {
        self.counts.rows_read += 1;

        let kind = match self.kind_of(&row.indicator) {
            Ok(kind) => kind,
            Err(reason) => return self.drop_row(reason, &row, None),
        };
        let host_name = match kind {
            IndicatorKind::Host => match self.host_name(&row.indicator) {
                Ok(name) => Some(name),
                Err(reason) => return self.drop_row(reason, &row, None),
            },
            _ => None,
        };

        let category = self.categories.resolve(row.category, self.names);
        let reason = match category.verdict {
            Verdict::Keep => None,
            Verdict::Denied => Some(DropReason::CategoryDenied),
            Verdict::NotAllowed => Some(DropReason::CategoryNotAllowed),
            Verdict::Invalid => Some(DropReason::InvalidCategory),
        };
        if let Some(reason) = reason {
            return self.drop_row(reason, &row, Some(format!("category {}", row.category)));
        }
        if !category.known {
            self.count_unknown_category(category.key);
        }

        let held = CategoryScore {
            category: category.key,
            last_seen: day(row.last_seen, NO_LAST),
            score: row.score.get(),
        };
        let first_seen = day(row.first_seen, NO_FIRST);
        match (row.indicator, host_name) {
            (_, Some(name)) => self.add_host(&row, name, held, first_seen),
            (Indicator::Ipv4(v4), _) => self.add_address(&row, IpAddr::V4(v4), held, first_seen),
            (Indicator::Ipv6(v6), _) => self.add_address(&row, IpAddr::V6(v6), held, first_seen),
            (Indicator::Cidr(block), _) => self.add_cidr(&row, block, held, first_seen),
            (Indicator::Domain(_) | Indicator::Wildcard(_), None) => {
                unreachable!("a domain row has a host name or was dropped")
            }
        }
    }

    fn rejection(&mut self, rejection: Rejection) {
        trace!(%rejection, "row rejected by the parser");
        self.counts.rows_rejected += 1;
        *self
            .counts
            .rejected_by_field
            .entry(rejection.field)
            .or_default() += 1;
        if self.counts.first_rejections.len() < EXAMPLES_KEPT {
            self.counts.first_rejections.push(rejection);
        }
    }
}

fn merge_fixed<V>(mine: &mut Group<Interner<V>>, theirs: &Group<Interner<V>>, remap: &KeyRemap)
where
    V: Copy + Eq + std::hash::Hash,
{
    for (index, record) in theirs.records.iter().enumerate() {
        let found = mine.values.intern(theirs.values.get(index));
        merge_record(&mut mine.records, found, record, remap);
    }
}

fn merge_record(
    records: &mut Vec<Record>,
    (index, is_new): (usize, bool),
    theirs: &Record,
    remap: &KeyRemap,
) {
    if is_new {
        records.push(Record::new());
    }
    records[index].merge(theirs, |key| remap.apply(key));
}

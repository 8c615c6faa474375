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
/// for a row whose value was seen before, unless the row spells a host name in capitals or in
/// Unicode (the normal form is then built for the row).
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

    /// Counts a dropped row; `detail` is asked for only while examples are kept, so that a
    /// filter dropping millions of rows allocates nothing for them.
    fn drop_row(
        &mut self,
        reason: DropReason,
        row: &Row<'_>,
        detail: impl FnOnce() -> Option<String>,
    ) {
        trace!(value = %row.indicator, %reason, "row dropped");
        self.counts.rows_dropped.add(reason, || DroppedExample {
            value: shorten(&row.indicator.to_string(), 100),
            detail: detail(),
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
            Err(error) => self.drop_row(DropReason::InvalidHost, row, || Some(error.to_string())),
        }
    }

    fn add_address(&mut self, row: &Row<'_>, addr: IpAddr, held: CategoryScore, first_seen: i32) {
        let addr = normalize::canonical_ip(addr);
        if addr.is_unspecified() {
            let detail = || Some("the unspecified address is not an indicator".to_owned());
            self.drop_row(DropReason::InvalidAddress, row, detail);
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
        // A /0 block holds every address of its family: sent, it would rate the whole
        // internet. No reputation list means that.
        if block.prefix == 0 {
            let detail = || Some("a /0 block holds every address".to_owned());
            return self.drop_row(DropReason::InvalidAddress, row, detail);
        }
        match CidrValue::new(block) {
            Some(value) => {
                let found = self.groups.cidrs.values.intern(value);
                self.groups.cidrs.add(found, held, first_seen);
                self.counts.rows_grouped += 1;
            }
            None => {
                let detail = || Some(format!("the prefix /{} is too long", block.prefix));
                self.drop_row(DropReason::InvalidAddress, row, detail);
            }
        }
    }
}

impl<N: CategoryNames + ?Sized> RowSink for Grouper<'_, N> {
    fn row(&mut self, row: Row<'_>) {
        self.counts.rows_read += 1;

        let kind = match self.kind_of(&row.indicator) {
            Ok(kind) => kind,
            Err(reason) => return self.drop_row(reason, &row, || None),
        };
        let host_name = match kind {
            IndicatorKind::Host => match self.host_name(&row.indicator) {
                Ok(name) => Some(name),
                Err(reason) => return self.drop_row(reason, &row, || None),
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
            let detail = || Some(format!("category {}", row.category));
            return self.drop_row(reason, &row, detail);
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

#[cfg(test)]
mod tests {
    use proofpoint_et_client::{CategoryRef, Field};

    use super::*;
    use crate::category::CategorySelector;
    use crate::testing::{
        OWNER, TestCategories, cidr, config, dated, domain, grouper, ip, map, row, values,
    };

    fn dropped(mapped: &MappedIndicators, reason: DropReason) -> u64 {
        mapped.counts().rows_dropped.get(reason)
    }

    fn named<'a>(row: Row<'a>, name: &'a str) -> Row<'a> {
        Row {
            category: CategoryRef::Name(name),
            ..row
        }
    }

    #[test]
    fn types_not_collected_are_dropped() {
        let hosts_only = MapperConfig::builder(OWNER)
            .types([IndicatorKind::Host])
            .build()
            .unwrap();
        let mapped = map(
            &hosts_only,
            &[ip("192.0.2.1", 1, 50), domain("a.example", 1, 50)],
        );

        assert_eq!(values(&mapped), ["a.example"]);
        assert_eq!(dropped(&mapped, DropReason::TypeNotCollected), 1);
    }

    #[test]
    fn denied_categories_are_dropped_by_name_or_id() {
        let config = MapperConfig::builder(OWNER)
            .deny_categories([
                CategorySelector::Name("Utility".into()),
                CategorySelector::Id(17),
            ])
            .build()
            .unwrap();
        let rows = [
            ip("192.0.2.1", 19, 50),
            ip("192.0.2.2", 17, 50),
            ip("192.0.2.3", 1, 50),
        ];
        let mapped = map(&config, &rows);

        assert_eq!(values(&mapped), ["192.0.2.3"]);
        assert_eq!(dropped(&mapped, DropReason::CategoryDenied), 2);
    }

    #[test]
    fn categories_outside_the_allow_list_are_dropped() {
        let config = MapperConfig::builder(OWNER)
            .allow_categories([CategorySelector::Name("TorNode".into())])
            .build()
            .unwrap();
        let rows = [
            ip("192.0.2.1", 10, 50),
            ip("192.0.2.1", 16, 90),
            named(ip("192.0.2.2", 0, 50), "TorNode"),
            named(ip("192.0.2.3", 0, 50), "Web_Crawler"),
        ];
        let mapped = map(&config, &rows);

        assert_eq!(values(&mapped), ["192.0.2.1", "192.0.2.2"]);
        assert_eq!(dropped(&mapped, DropReason::CategoryNotAllowed), 2);
        // The dropped category's higher score does not reach the External Score.
        assert_eq!(mapped.iter().next().unwrap().external_score(), 50);
    }

    #[test]
    fn a_filter_naming_an_unknown_category_is_refused() {
        let config = MapperConfig::builder(OWNER)
            .deny_categories([CategorySelector::Name("Utilty".into())])
            .build()
            .unwrap();
        let error = Grouper::new(&config, &TestCategories).unwrap_err();
        assert!(
            matches!(&error, Error::UnknownCategory { setting, name }
                if setting == "categories.deny" && name == "Utilty"),
            "{error}"
        );
    }

    #[test]
    fn unknown_ids_become_et_category_tags_and_are_counted() {
        let mapped = map(
            &config(),
            &[ip("192.0.2.1", 42, 50), ip("192.0.2.2", 42, 60)],
        );

        assert_eq!(mapped.iter().next().unwrap().tags(), ["ET Category 42"]);
        assert_eq!(mapped.counts().unknown_category_ids.get(&42), Some(&2));
    }

    #[test]
    fn ids_with_gaps_are_named_by_id_not_position() {
        // A table indexed by `id - 1` would give 10 and 41 the names of other categories.
        let mapped = map(
            &config(),
            &[ip("192.0.2.1", 10, 50), ip("192.0.2.1", 41, 50)],
        );
        assert_eq!(
            mapped.iter().next().unwrap().tags(),
            ["DDoSAttacker", "TorNode"]
        );
    }

    #[test]
    fn json_names_the_table_knows_are_the_same_category_as_their_id() {
        let rows = [
            named(ip("192.0.2.1", 0, 60), "TorNode"),
            ip("192.0.2.1", 10, 80),
        ];
        let mapped = map(&config(), &rows);

        let indicator = mapped.iter().next().unwrap();
        assert_eq!(indicator.tags(), ["TorNode"]);
        assert_eq!(indicator.external_score(), 80);
        assert!(mapped.counts().unknown_category_names.is_empty());
    }

    #[test]
    fn json_names_the_table_lacks_are_kept_as_tags_and_counted() {
        let rows = [named(domain("a.example", 0, 60), "Web_Crawler")];
        let mapped = map(&config(), &rows);

        assert_eq!(mapped.iter().next().unwrap().tags(), ["Web_Crawler"]);
        assert_eq!(
            mapped.counts().unknown_category_names.get("Web_Crawler"),
            Some(&1)
        );
    }

    #[test]
    fn names_that_cannot_be_tags_are_dropped() {
        let long = "x".repeat(129);
        let rows = [
            named(domain("a.example", 0, 60), ""),
            named(domain("b.example", 0, 60), &long),
        ];
        let mapped = map(&config(), &rows);

        assert!(mapped.is_empty());
        assert_eq!(dropped(&mapped, DropReason::InvalidCategory), 2);
    }

    #[test]
    fn hosts_are_normalised_and_bad_ones_dropped_with_a_reason() {
        let rows = [
            domain("Bücher.Example.", 1, 50),
            domain("xn--bcher-kva.example", 1, 60),
            domain("ALPHA.example", 1, 50),
            domain("bad!name.example", 1, 50),
            domain("xn--a.example", 1, 50),
        ];
        let mapped = map(&config(), &rows);

        assert_eq!(values(&mapped), ["xn--bcher-kva.example", "alpha.example"]);
        assert_eq!(dropped(&mapped, DropReason::InvalidHost), 2);
        let details: Vec<_> = mapped
            .counts()
            .rows_dropped
            .examples(DropReason::InvalidHost)
            .iter()
            .map(|example| example.detail.clone().unwrap())
            .collect();
        assert_eq!(
            details,
            [
                "the character '!' is not allowed",
                "a label cannot be converted to punycode"
            ]
        );
    }

    #[test]
    fn a_star_in_a_domain_row_is_a_wildcard_whatever_the_parser_said() {
        let rows = [row(Indicator::Domain("*.a.example"), 1, 50)];
        let mapped = map(&config(), &rows);
        assert!(mapped.is_empty());
        assert_eq!(dropped(&mapped, DropReason::Wildcard), 1);
    }

    #[test]
    fn base_domain_option_rewrites_only_a_leading_star_dot() {
        let config = MapperConfig::builder(OWNER)
            .wildcards(WildcardPolicy::BaseDomain)
            .build()
            .unwrap();
        let rows = [
            domain("*.Sub.Example", 1, 50),
            domain("*lead.example", 1, 50),
            domain("*.*.example", 1, 50),
            domain("a.*.example", 1, 50),
        ];
        let mapped = map(&config, &rows);

        assert_eq!(values(&mapped), ["sub.example"]);
        assert_eq!(dropped(&mapped, DropReason::Wildcard), 3);
    }

    #[test]
    fn unspecified_addresses_are_dropped() {
        let mapped = map(&config(), &[ip("0.0.0.0", 1, 50), ip("::", 1, 50)]);
        assert!(mapped.is_empty());
        assert_eq!(dropped(&mapped, DropReason::InvalidAddress), 2);
    }

    #[test]
    fn two_spellings_of_an_address_are_one_indicator() {
        let rows = [
            ip("2001:0db8::1000", 1, 50),
            ip("2001:db8:0:0:0:0:0:1000", 2, 60),
            ip("::ffff:192.0.2.1", 1, 50),
            ip("192.0.2.1", 2, 70),
        ];
        let mapped = map(&config(), &rows);

        assert_eq!(values(&mapped), ["192.0.2.1", "2001:db8:0:0:0:0:0:1000"]);
        assert!(
            mapped
                .iter()
                .all(|indicator| indicator.tags() == ["Bot", "CnC"])
        );
    }

    #[test]
    fn cidr_blocks_are_skipped_by_default() {
        let mapped = map(&config(), &[cidr("198.51.100.0/24", 6, 88)]);
        assert!(mapped.is_empty());
        assert_eq!(dropped(&mapped, DropReason::Cidr), 1);
    }

    #[test]
    fn cidr_option_sends_blocks_in_stored_form() {
        let config = MapperConfig::builder(OWNER)
            .cidr(CidrPolicy::Send)
            .build()
            .unwrap();
        let rows = [
            cidr("198.51.100.7/24", 6, 88),
            cidr("198.51.100.0/24", 1, 50),
            cidr("abc:def:10::/48", 6, 88),
        ];
        let mapped = map(&config, &rows);

        assert_eq!(
            values(&mapped),
            ["198.51.100.0/24", "abc:def:10:0:0:0:0:0/48"]
        );
        assert!(
            mapped
                .iter()
                .all(|indicator| indicator.kind() == IndicatorKind::Cidr)
        );
    }

    #[test]
    fn cidr_with_a_prefix_too_long_is_dropped() {
        let config = MapperConfig::builder(OWNER)
            .cidr(CidrPolicy::Send)
            .build()
            .unwrap();
        let mapped = map(&config, &[cidr("198.51.100.0/33", 6, 88)]);
        assert_eq!(dropped(&mapped, DropReason::InvalidAddress), 1);
    }

    #[test]
    fn cidr_of_every_address_is_dropped_not_sent() {
        let config = MapperConfig::builder(OWNER)
            .cidr(CidrPolicy::Send)
            .build()
            .unwrap();
        let mapped = map(&config, &[cidr("10.0.0.0/0", 6, 88), cidr("::/0", 6, 88)]);
        assert_eq!(dropped(&mapped, DropReason::InvalidAddress), 2);
        assert!(mapped.is_empty());
    }

    #[test]
    fn values_below_the_minimum_score_are_left_out_and_counted() {
        let config = MapperConfig::builder(OWNER).min_score(60).build().unwrap();
        let rows = [
            ip("192.0.2.1", 1, 59),
            ip("192.0.2.2", 1, 60),
            ip("192.0.2.3", 1, 30),
            ip("192.0.2.3", 2, 100),
        ];
        let mapped = map(&config, &rows);

        assert_eq!(values(&mapped), ["192.0.2.2", "192.0.2.3"]);
        assert_eq!(mapped.counts().below_min_score.address, 1);
        assert_eq!(mapped.counts().indicators.address, 2);
    }

    #[test]
    fn counts_add_up() {
        let mut grouper = grouper(&config());
        for row in [
            ip("192.0.2.1", 1, 50),
            ip("192.0.2.1", 2, 50),
            domain("*.a.example", 1, 50),
            cidr("198.51.100.0/24", 1, 50),
            domain("b.example", 1, 50),
        ] {
            grouper.row(row);
        }
        grouper.rejection(Rejection {
            line: 7,
            field: Field::Score,
            reason: "\"x\" is not a score".into(),
        });
        let mapped = grouper.finish();
        let counts = mapped.counts();

        assert_eq!(counts.rows_read, 5);
        assert_eq!(
            counts.rows_read,
            counts.rows_dropped.total() + counts.rows_grouped
        );
        assert_eq!(
            counts.values_grouped,
            counts.indicators.total() + counts.below_min_score.total()
        );
        assert_eq!(counts.rows_rejected, 1);
        assert_eq!(counts.rejected_by_field.get(&Field::Score), Some(&1));
        assert_eq!(counts.first_rejections[0].line, 7);
    }

    #[test]
    fn two_lists_group_on_two_threads() {
        let config = config();
        let (ip_grouper, domain_grouper) = std::thread::scope(|scope| {
            let ips = scope.spawn(|| {
                let mut grouper = grouper(&config);
                grouper.row(ip("192.0.2.1", 1, 50));
                grouper
            });
            let domains = scope.spawn(|| {
                let mut grouper = grouper(&config);
                grouper.row(domain("a.example", 1, 50));
                grouper
            });
            (ips.join().unwrap(), domains.join().unwrap())
        });
        let mut merged = ip_grouper;
        merged.merge(domain_grouper);
        let mapped = merged.finish();

        // The result is shared between threads too (the app serialises while it diffs).
        std::thread::scope(|scope| {
            let values = scope.spawn(|| values(&mapped));
            assert_eq!(values.join().unwrap(), ["192.0.2.1", "a.example"]);
        });
    }

    #[test]
    fn merged_groupers_equal_one_grouper_of_all_rows() {
        let ip_rows = [
            dated(ip("192.0.2.1", 10, 90), "2019-01-01", "2019-06-01"),
            dated(
                named(ip("192.0.2.1", 0, 40), "Web_Crawler"),
                "2018-01-01",
                "2020-01-01",
            ),
        ];
        let domain_rows = [
            named(domain("a.example", 0, 70), "Web_Crawler"),
            named(domain("a.example", 0, 80), "Other_Unknown"),
            domain("b.example", 1, 20),
        ];

        let all: Vec<Row<'_>> = ip_rows.iter().chain(&domain_rows).copied().collect();
        let together = map(&config(), &all);

        // The domain grouper interns its unknown names in another order than the merged one.
        let mut first = grouper(&config());
        domain_rows.iter().rev().for_each(|row| first.row(*row));
        let mut second = grouper(&config());
        ip_rows.iter().for_each(|row| second.row(*row));
        second.merge(first);
        let merged = second.finish();

        let documents = |mapped: &MappedIndicators| -> Vec<_> {
            let mut documents: Vec<_> = mapped
                .iter()
                .map(|indicator| (indicator.key(), indicator.to_batch_indicator()))
                .collect();
            documents.sort_by(|a, b| a.0.cmp(&b.0));
            documents
        };
        assert_eq!(documents(&merged), documents(&together));
        assert_eq!(merged.counts().rows_read, together.counts().rows_read);
        assert_eq!(
            merged.counts().unknown_category_names,
            together.counts().unknown_category_names
        );
    }
}

//! Why N rows became M indicators: every row and value that was not imported, by reason.

use std::collections::BTreeMap;
use std::fmt;

use proofpoint_et_client::{Field, Rejection};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

use crate::key::IndicatorKind;

/// Why a row was not grouped into an indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DropReason {
    /// A wildcard pattern, which a Host cannot hold.
    Wildcard,
    /// A CIDR block, with CIDR import off.
    Cidr,
    /// An indicator type the operator does not collect.
    TypeNotCollected,
    /// A category the operator denied.
    CategoryDenied,
    /// A category outside the operator's allow list.
    CategoryNotAllowed,
    /// A category name that cannot be a tag (empty, too long, control characters).
    InvalidCategory,
    /// A domain name that cannot be a Host (punycode failure, empty label, bad character).
    InvalidHost,
    /// An address or block that is no indicator (the unspecified address, a prefix too long).
    InvalidAddress,
}

impl DropReason {
    /// Every reason, in report order.
    pub const ALL: [DropReason; 8] = [
        DropReason::Wildcard,
        DropReason::Cidr,
        DropReason::TypeNotCollected,
        DropReason::CategoryDenied,
        DropReason::CategoryNotAllowed,
        DropReason::InvalidCategory,
        DropReason::InvalidHost,
        DropReason::InvalidAddress,
    ];

    /// The reason's name in reports, such as `wildcard`.
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::Wildcard => "wildcard",
            DropReason::Cidr => "cidr",
            DropReason::TypeNotCollected => "type_not_collected",
            DropReason::CategoryDenied => "category_denied",
            DropReason::CategoryNotAllowed => "category_not_allowed",
            DropReason::InvalidCategory => "invalid_category",
            DropReason::InvalidHost => "invalid_host",
            DropReason::InvalidAddress => "invalid_address",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How many examples of each drop reason, and of parser rejections, are kept.
pub const EXAMPLES_KEPT: usize = 10;

/// A dropped value, kept as an example for the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DroppedExample {
    /// The value as the list wrote it (shortened where long).
    pub value: String,
    /// What was wrong with it, where more can be said than the reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Rows dropped, by reason, with the first few values of each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DropCounts {
    rows: [u64; DropReason::ALL.len()],
    examples: [Vec<DroppedExample>; DropReason::ALL.len()],
}

impl DropCounts {
    /// Rows dropped for `reason`.
    pub fn get(&self, reason: DropReason) -> u64 {
        self.rows[reason.index()]
    }

    /// Rows dropped for any reason.
    pub fn total(&self) -> u64 {
        self.rows.iter().sum()
    }

    /// The reasons with at least one row, and their counts.
    pub fn iter(&self) -> impl Iterator<Item = (DropReason, u64)> + '_ {
        DropReason::ALL
            .into_iter()
            .map(|reason| (reason, self.get(reason)))
            .filter(|(_, rows)| *rows > 0)
    }

    /// The first few values dropped for `reason`.
    pub fn examples(&self, reason: DropReason) -> &[DroppedExample] {
        &self.examples[reason.index()]
    }

    /// Counts one row; keeps its value as an example while there are few.
    pub(crate) fn add(&mut self, reason: DropReason, example: impl FnOnce() -> DroppedExample) {
        self.rows[reason.index()] += 1;
        let examples = &mut self.examples[reason.index()];
        if examples.len() < EXAMPLES_KEPT {
            examples.push(example());
        }
    }

    pub(crate) fn merge(&mut self, other: DropCounts) {
        for (index, examples) in other.examples.into_iter().enumerate() {
            self.rows[index] += other.rows[index];
            let room = EXAMPLES_KEPT.saturating_sub(self.examples[index].len());
            self.examples[index].extend(examples.into_iter().take(room));
        }
    }
}

impl Serialize for DropCounts {
    /// A map from reason to `{rows, examples}`, with only the reasons that occurred.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Entry<'a> {
            rows: u64,
            examples: &'a [DroppedExample],
        }

        let mut map = serializer.serialize_map(None)?;
        for (reason, rows) in self.iter() {
            let examples = self.examples(reason);
            map.serialize_entry(reason.as_str(), &Entry { rows, examples })?;
        }
        map.end()
    }
}

/// Indicators by type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindCounts {
    /// Addresses.
    #[serde(rename = "Address")]
    pub address: u64,
    /// Hosts.
    #[serde(rename = "Host")]
    pub host: u64,
    /// CIDR blocks.
    #[serde(rename = "CIDR")]
    pub cidr: u64,
}

impl KindCounts {
    /// The count of `kind`.
    pub fn get(&self, kind: IndicatorKind) -> u64 {
        match kind {
            IndicatorKind::Address => self.address,
            IndicatorKind::Host => self.host,
            IndicatorKind::Cidr => self.cidr,
        }
    }

    /// The count of `kind`, to change.
    pub fn get_mut(&mut self, kind: IndicatorKind) -> &mut u64 {
        match kind {
            IndicatorKind::Address => &mut self.address,
            IndicatorKind::Host => &mut self.host,
            IndicatorKind::Cidr => &mut self.cidr,
        }
    }

    /// The sum over all types.
    pub fn total(&self) -> u64 {
        self.address + self.host + self.cidr
    }
}

/// What became of the rows given to a [`Grouper`](crate::Grouper), so that a report can say
/// why N rows became M indicators.
///
/// The counts add up: `rows_read = rows_dropped.total() + rows_grouped`, and
/// `values_grouped = indicators.total() + below_min_score.total()`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct MappingCounts {
    /// Rows the parser handed on.
    pub rows_read: u64,
    /// Rows the parser rejected (they never reach the mapper as rows).
    pub rows_rejected: u64,
    /// Rejected rows by the field that could not be read.
    #[serde(serialize_with = "serialize_fields")]
    pub rejected_by_field: BTreeMap<Field, u64>,
    /// The first few rejections, with their line numbers.
    #[serde(serialize_with = "serialize_rejections")]
    pub first_rejections: Vec<Rejection>,
    /// Rows dropped before grouping, by reason.
    pub rows_dropped: DropCounts,
    /// Rows grouped into values.
    pub rows_grouped: u64,
    /// Distinct values the grouped rows hold.
    pub values_grouped: u64,
    /// Values whose External Score is below the minimum score, by type.
    pub below_min_score: KindCounts,
    /// Indicators, by type: the values that are imported.
    pub indicators: KindCounts,
    /// Wildcard patterns turned into their base domain (`*.a.example` into `a.example`).
    pub wildcards_rewritten: u64,
    /// Rows whose category ID the table does not know, by ID (each tagged `ET Category <id>`).
    pub unknown_category_ids: BTreeMap<u16, u64>,
    /// Rows whose category name (JSON lists) the table does not know, by name (each tagged
    /// with the name itself).
    pub unknown_category_names: BTreeMap<String, u64>,
}

impl MappingCounts {
    pub(crate) fn merge(&mut self, other: MappingCounts) {
        self.rows_read += other.rows_read;
        self.rows_rejected += other.rows_rejected;
        for (field, rows) in other.rejected_by_field {
            *self.rejected_by_field.entry(field).or_default() += rows;
        }
        let room = EXAMPLES_KEPT.saturating_sub(self.first_rejections.len());
        self.first_rejections
            .extend(other.first_rejections.into_iter().take(room));
        self.rows_dropped.merge(other.rows_dropped);
        self.rows_grouped += other.rows_grouped;
        self.wildcards_rewritten += other.wildcards_rewritten;
        for (id, rows) in other.unknown_category_ids {
            *self.unknown_category_ids.entry(id).or_default() += rows;
        }
        for (name, rows) in other.unknown_category_names {
            *self.unknown_category_names.entry(name).or_default() += rows;
        }
    }
}

fn serialize_fields<S: Serializer>(fields: &BTreeMap<Field, u64>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(fields.iter().map(|(field, rows)| (field.name(), rows)))
}

fn serialize_rejections<S: Serializer>(rejections: &[Rejection], s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Entry<'a> {
        line: u64,
        field: &'static str,
        reason: &'a str,
    }

    s.collect_seq(rejections.iter().map(|rejection| Entry {
        line: rejection.line,
        field: rejection.field.name(),
        reason: &rejection.reason,
    }))
}

impl fmt::Display for MappingCounts {
    /// One line, such as `12 rows read, 1 rejected by the parser, 3 dropped (wildcard 3), 9
    /// grouped into 1 value: 1 indicator (Address 0, Host 1, CIDR 0), 0 below the minimum
    /// score`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} read, {} rejected by the parser, {} dropped",
            plural(self.rows_read, "row"),
            self.rows_rejected,
            self.rows_dropped.total()
        )?;
        let reasons: Vec<String> = self
            .rows_dropped
            .iter()
            .map(|(reason, rows)| format!("{reason} {rows}"))
            .collect();
        if !reasons.is_empty() {
            write!(f, " ({})", reasons.join(", "))?;
        }
        write!(
            f,
            ", {} grouped into {}: {} (Address {}, Host {}, CIDR {}), {} below the minimum score",
            self.rows_grouped,
            plural(self.values_grouped, "value"),
            plural(self.indicators.total(), "indicator"),
            self.indicators.address,
            self.indicators.host,
            self.indicators.cidr,
            self.below_min_score.total()
        )
    }
}

fn plural(count: u64, noun: &str) -> String {
    match count {
        1 => format!("1 {noun}"),
        _ => format!("{count} {noun}s"),
    }
}

//! Helpers for the unit tests: the shared test category table and row builders.

use std::net::IpAddr;

use proofpoint_et_client::{CategoryRef, CidrBlock, Indicator, Ports, Row, RowSink, Score};

use crate::{Grouper, MappedIndicators, MapperConfig};

// The same file backs the integration tests, where its items must be `pub`.
#[allow(unreachable_pub)]
#[path = "../tests/support/table.rs"]
mod table;

pub(crate) use table::TestCategories;

pub(crate) const OWNER: &str = "Example Org";

pub(crate) fn config() -> MapperConfig {
    MapperConfig::builder(OWNER).build().unwrap()
}

/// A row without dates.
pub(crate) fn row(indicator: Indicator<'_>, category: u16, score: u8) -> Row<'_> {
    Row {
        indicator,
        category: CategoryRef::Id(category),
        score: Score::new(score).unwrap(),
        first_seen: None,
        last_seen: None,
        ports: Ports::default(),
    }
}

/// A row with dates (`YYYY-MM-DD`).
pub(crate) fn dated<'a>(row: Row<'a>, first_seen: &str, last_seen: &str) -> Row<'a> {
    Row {
        first_seen: Some(first_seen.parse().unwrap()),
        last_seen: Some(last_seen.parse().unwrap()),
        ..row
    }
}

/// An address row without dates.
pub(crate) fn ip(addr: &str, category: u16, score: u8) -> Row<'static> {
    let indicator = match addr.parse::<IpAddr>().unwrap() {
        IpAddr::V4(v4) => Indicator::Ipv4(v4),
        IpAddr::V6(v6) => Indicator::Ipv6(v6),
    };
    row(indicator, category, score)
}

/// A domain row without dates; a `*` makes it a wildcard row, as the parser does.
pub(crate) fn domain(name: &str, category: u16, score: u8) -> Row<'_> {
    let indicator = match name.contains('*') {
        true => Indicator::Wildcard(name),
        false => Indicator::Domain(name),
    };
    row(indicator, category, score)
}

/// A CIDR row without dates.
pub(crate) fn cidr(block: &str, category: u16, score: u8) -> Row<'static> {
    let (addr, prefix) = block.split_once('/').unwrap();
    let block = CidrBlock {
        addr: addr.parse().unwrap(),
        prefix: prefix.parse().unwrap(),
    };
    row(Indicator::Cidr(block), category, score)
}

pub(crate) fn grouper(config: &MapperConfig) -> Grouper<'static, TestCategories> {
    Grouper::new(config, &TestCategories).unwrap()
}

pub(crate) fn map(config: &MapperConfig, rows: &[Row<'_>]) -> MappedIndicators {
    let mut grouper = grouper(config);
    for row in rows {
        grouper.row(*row);
    }
    grouper.finish()
}

pub(crate) fn values(mapped: &MappedIndicators) -> Vec<String> {
    mapped.iter().map(|indicator| indicator.value()).collect()
}

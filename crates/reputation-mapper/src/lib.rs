//! Pure mapping from ET Intelligence reputation rows to ThreatConnect indicators.
//!
//! Rows from `proofpoint-et-client` become batch indicators of `threatconnect-client`, grouped
//! per value, filtered, rated, fingerprinted and diffed against the previous import. No I/O,
//! no HTTP client, no async runtime: the crate's dependency list proves it
//! (`scripts/check-deps`).
//!
//! # The flow
//!
//! ```text
//! parser ──rows──> Grouper ──finish──> MappedIndicators ──diff──> Diff ──> Plan
//!  (RowSink)        filters, counts     one compact record        added,     upserts,
//!                   one record per      per value, rated,         changed,   removals by
//!                   value               fingerprinted             removed    action, guard
//! ```
//!
//! 1. A [`Grouper`] is a [`RowSink`](proofpoint_et_client::RowSink): the parser pushes rows
//!    straight into it. Each row is either dropped and counted by [`DropReason`], or folded
//!    into a small record of its value. Two lists can be grouped on two threads and
//!    [merged](Grouper::merge).
//! 2. [`Grouper::finish`] gives the [`MappedIndicators`]: ratings, the minimum score and a
//!    [fingerprint](fingerprint()) per indicator. Documents ([`BatchIndicator`]s) are built
//!    only when asked for, one at a time.
//! 3. [`MappedIndicators::diff`] compares them with the previous import (any
//!    [`PreviousImport`], such as a map of [`IndicatorKey`] to fingerprint), for the lists
//!    imported this run: added, changed, unchanged and removed.
//! 4. [`Plan::new`] says what to send: upserts, and the removal action for what left, held
//!    back by the mass-removal guard where a list looks emptied.
//!
//! # The mapping
//!
//! | ET row | ThreatConnect indicator |
//! | --- | --- |
//! | value of an IP list | `Address`, in normal form (1) |
//! | value of a domain list | `Host`, in normal form (1) |
//! | CIDR block | skipped and counted, or `CIDR` under [`CidrPolicy::Send`] (1) |
//! | wildcard pattern | skipped and counted (2) |
//! | category | a tag named from the category table (3) |
//! | score | attribute `External Score`: the highest current score of its categories (4) |
//! | `first_seen` | attribute `First Seen` and `firstSeen`: the earliest over its rows (5) |
//! | `last_seen` | attribute `Last Seen` and `lastSeen`: the latest over its rows (5) |
//! | External Score | threat rating through [`RatingBands`], or a fixed rating (6) |
//! | (setting) | confidence, 50 by default; the feed tag, where one is set |
//! | (always) | `active: true`; `xid` (7) |
//!
//! 1. IPv4 as a dotted quad; IPv6 as eight groups without leading zeros and never `::`
//!    (`2001:0db8::1000` is `2001:db8:0:0:0:0:0:1000`); `::ffff:192.0.2.1` is `192.0.2.1`;
//!    hosts in lower case, without a trailing dot, internationalised labels as punycode (a
//!    label that cannot be converted is dropped as [`DropReason::InvalidHost`]); CIDR blocks
//!    with their host bits cleared. Two spellings of one value are one indicator.
//! 2. Under [`WildcardPolicy::BaseDomain`], `*.a.example` becomes the Host `a.example`; no
//!    other pattern (`*a.example`, `a*b.example`) is ever rewritten.
//! 3. An ID the table lacks becomes the tag `ET Category <id>`; a name from a JSON list the
//!    table lacks is a tag of its own. Both are counted.
//! 4. Of the rows of one value and category, the one with the latest `last_seen` holds the
//!    category's current score; on the same day, the higher score.
//! 5. Left out for lists without dates (short CSV, JSON), never invented.
//! 6. Default bands: 20-39 → 1, 40-59 → 2, 60-79 → 3, 80-99 → 4, 100-127 → 5; below 20 → 1.
//! 7. `et-rep-` and the hex SHA-256 of owner, type and value, NUL-separated ([`xid`]).
//!
//! Every attribute is `displayed`. Tags are sorted by name; indicators come out by type
//! (IPv4, IPv6, hosts, CIDR), each in the order of their values' first rows.
//!
//! # Keys, fingerprints and the state
//!
//! An [`IndicatorKey`] is a type and a value in normal form. Its text form,
//! `Address<TAB>198.51.100.7`, is stable across releases, so a state store can keep it as is;
//! [`IndicatorKey::parse`] reads it back and refuses anything not in normal form. A
//! [fingerprint](fingerprint()) is XXH3-64 of a documented canonical form of exactly what
//! ThreatConnect stores for the indicator (see the [`fingerprint`](mod@fingerprint) module).
//!
//! # Diff and plan
//!
//! Only the types of the lists imported this run are judged: a list that did not complete
//! causes no removal, and a type no longer collected is left alone and counted. Values
//! ThreatConnect rejected last run can be [sent again](DiffOptions::resend); values parked
//! after repeated rejection [wait](DiffOptions::parked) until their content changes.
//!
//! | [`RemovalAction`] | removal document (with type, `summary` and `xid`) | job |
//! | --- | --- | --- |
//! | `delete` | nothing more | `Delete`, `Append` write types |
//! | `deactivate` (default) | `active: false` | `Create`, `Append` write types |
//! | `zero-rating` | `rating: 0`, `confidence: 0` | `Create`, `Append` write types |
//! | `tag` | the removal tag (`ET Removed` by default) | `Create`, `Append` write types |
//! | `keep` | none: nothing is sent | none |
//!
//! Upserts go in `Create` jobs with `Replace` for tags and attributes: the owner is the
//! feed's. Where the removals of a type exceed a share of that type's previous import (20% by
//! default), the plan holds every removal back unless the operator allowed it, and
//! [says so](Plan::guard).
//!
//! # Example
//!
//! ```
//! use std::collections::HashMap;
//!
//! use proofpoint_et_client::{CategoryRef, Indicator, ListKind, Ports, Row, RowSink, Score};
//! use reputation_mapper::{
//!     CategoryNames, DiffOptions, Grouper, IndicatorKey, MapperConfig, Plan,
//! };
//!
//! /// The category table; the feed uses `proofpoint-et-client`'s.
//! struct Categories;
//!
//! impl CategoryNames for Categories {
//!     fn name(&self, id: u16) -> Option<&str> {
//!         match id {
//!             10 => Some("TorNode"),
//!             16 => Some("Proxy"),
//!             _ => None,
//!         }
//!     }
//!
//!     fn id_by_name(&self, name: &str) -> Option<u16> {
//!         match name {
//!             "TorNode" => Some(10),
//!             "Proxy" => Some(16),
//!             _ => None,
//!         }
//!     }
//! }
//!
//! # fn main() -> Result<(), reputation_mapper::Error> {
//! let config = MapperConfig::builder("Example Org").confidence(60).build()?;
//! let mut grouper = Grouper::new(&config, &Categories)?;
//!
//! // The parser pushes rows like these into the grouper.
//! for (category, score, last_seen) in [(16, 42, "2019-12-31"), (10, 122, "2020-01-22")] {
//!     grouper.row(Row {
//!         indicator: Indicator::Ipv4("203.0.113.5".parse().unwrap()),
//!         category: CategoryRef::Id(category),
//!         score: Score::new(score).unwrap(),
//!         first_seen: Some("2018-01-15".parse().unwrap()),
//!         last_seen: Some(last_seen.parse().unwrap()),
//!         ports: Ports::default(),
//!     });
//! }
//! grouper.row(Row {
//!     indicator: Indicator::Wildcard("*.example.com"),
//!     category: CategoryRef::Id(10),
//!     score: Score::new(90).unwrap(),
//!     first_seen: None,
//!     last_seen: None,
//!     ports: Ports::default(),
//! });
//! let mapped = grouper.finish();
//! println!("{}", mapped.counts());
//!
//! // A first run: the previous import is empty, so everything is added.
//! let previous: HashMap<IndicatorKey, u64> = HashMap::new();
//! let diff = mapped.diff(&previous, &DiffOptions::new([ListKind::Ip]));
//! let plan = Plan::new(&diff);
//!
//! let upserts: Vec<_> = plan.upserts().collect();
//! assert_eq!(upserts.len(), 1);
//! let document = &upserts[0].indicator;
//! assert_eq!(document.summary, "203.0.113.5");
//! assert_eq!(document.rating.map(|rating| rating.get()), Some(5));
//! let tags: Vec<&str> = document.tag.iter().map(|tag| tag.name.as_str()).collect();
//! assert_eq!(tags, ["Proxy", "TorNode"]);
//! assert_eq!(upserts[0].key.as_str(), "Address\t203.0.113.5");
//! assert_eq!(plan.removal_count(), 0);
//! # Ok(())
//! # }
//! ```
//!
//! # Size and speed
//!
//! The grouper keeps per value only its normal form (an integer for an address, the text of a
//! host once in one string), per category a 12-byte record, and two dates; hash tables hold
//! 4-byte indices. No row allocates for a value already seen. `benches/group_diff.rs` measures
//! lists of 250k, 500k and 1M synthetic indicators (1.5 rows each, a quarter hosts). On the
//! project's 2-core machine, measured while other builds shared it (so upper bounds):
//!
//! | indicators | group (rows → fingerprinted indicators) | diff (against as many) |
//! | --- | --- | --- |
//! | 500k | 0.20-0.27 s | 0.26-0.32 s |
//! | 1M | 0.45-0.63 s | 0.60-0.85 s |
//!
//! The cost is linear in the list from 500k up (250k runs faster per indicator, its tables
//! fitting the caches better). 1M grouped indicators hold 72 MiB, 75 bytes each; a
//! `HashMap<IndicatorKey, u64>` of them as the previous import takes 78 MiB more, and its
//! lookups are about a third of the diff. Building and serialising the documents of a full
//! refresh costs 1.2-1.4 µs per indicator, a fifth of it in formatting the two dates.
//!
//! [`BatchIndicator`]: threatconnect_client::BatchIndicator

mod category;
mod config;
mod counts;
mod diff;
mod error;
pub mod fingerprint;
mod group;
mod key;
mod mapped;
mod normalize;
mod plan;
mod record;
mod store;

pub use category::{CategoryNames, CategorySelector};
pub use config::{
    CidrPolicy, DEFAULT_CONFIDENCE, DEFAULT_MAX_REMOVAL_PERCENT, DEFAULT_REMOVAL_TAG, MapperConfig,
    MapperConfigBuilder, RatingBands, RatingPolicy, RemovalAction, WildcardPolicy,
};
pub use counts::{
    DropCounts, DropReason, DroppedExample, EXAMPLES_KEPT, KindCounts, MappingCounts,
};
pub use diff::{Change, Diff, DiffCounts, DiffOptions, KeySet, ParkedValues, PreviousImport};
pub use error::Error;
pub use fingerprint::{canonical_form, fingerprint};
pub use group::Grouper;
pub use key::{IndicatorKey, IndicatorKind, KeyRef, XID_PREFIX, xid};
pub use mapped::{EXTERNAL_SCORE, FIRST_SEEN, LAST_SEEN, MappedIndicator, MappedIndicators};
pub use plan::{GuardReport, Plan, Removal, RemovalShare, Upsert, removal_indicator};

// Unit tests name this crate as the integration tests do, so that they can share helpers.
#[cfg(test)]
extern crate self as reputation_mapper;

#[cfg(test)]
mod testing;

//! Pure mapping from ET Intelligence reputation rows to ThreatConnect indicators.
//!
//! Rows from `proofpoint-et-client` become batch indicators of `threatconnect-client`, grouped
//! per value, filtered, rated, fingerprinted and diffed against the previous import. No I/O,
//! no HTTP client, no async runtime: the crate's dependency list proves it.

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

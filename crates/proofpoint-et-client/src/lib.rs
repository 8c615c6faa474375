//! A typed client for the Proofpoint ET Intelligence reputation lists.
//!
//! The crate reads every shape in which ET Intelligence publishes its IP and domain reputation
//! lists (detailed CSV, short CSV, JSON, and the `.gz` of each), the `categories.txt` table and
//! the `.md5sum` sidecars, streaming: a list body is never held whole.
//!
//! With default features off the crate is a parser with no HTTP client and no async runtime.
//! The `http` feature (on by default) adds the HTTP list source and the REST API v1 client.
//!
//! This crate is being built up; parsing, the local directory source and the categories table
//! come first, the HTTP source after.

pub mod reject;
pub mod row;

pub use reject::{Field, Rejection, RowSink};
pub use row::{
    CategoryRef, CidrBlock, Indicator, ListKind, OwnedCategory, OwnedIndicator, OwnedRow, Ports,
    Row, Score,
};

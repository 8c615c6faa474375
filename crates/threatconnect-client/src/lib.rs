//! A typed client for ThreatConnect's REST API v2 and its Batch API.
//!
//! With default features off the crate offers the batch document model, the job settings and
//! the chunker, with no HTTP client and no async runtime, so that other crates can build
//! documents. The `http` feature (on by default) adds the client: HMAC and token auth, owners,
//! indicators, attribute types and batch jobs.
//!
//! This crate is being built up; the document model comes first.

pub mod document;
pub mod settings;

pub use document::{
    Attribute, BatchIndicator, Confidence, IndicatorType, Rating, SecurityLabel, Tag,
};
pub use settings::{AttributeWriteType, BatchAction, JobSettings, TagWriteType};

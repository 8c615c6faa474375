//! A typed client for ThreatConnect's REST API v2 and its Batch API.
//!
//! # Two halves
//!
//! - **Documents**, always available: the batch document model ([`BatchIndicator`],
//!   [`BatchDocument`]), the job settings ([`JobSettings`]) and the [`Chunker`], which cuts
//!   any number of indicators into job documents of at most N indicators and B bytes. With
//!   default features off the crate has no HTTP client and no async runtime, so that a
//!   mapping crate can build documents.
//! - **The client**, with the `http` feature (on by default): HMAC and token auth, owners,
//!   attribute types, indicators, the batch feature probe, batch jobs, and
//!   [`Client::submit`], which pushes a stream of indicators as batch jobs and yields each
//!   job's outcome as it finishes. One indicator's endpoints (get, update its ratings,
//!   delete, tags, attributes) are described in [`indicator`].
//!
//! # Example
//!
//! ```no_run
//! # #[cfg(feature = "http")]
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use futures::StreamExt;
//! use threatconnect_client::{BatchIndicator, Client, Credentials, IndicatorType, JobSettings};
//!
//! let client = Client::builder(
//!     "https://tc.example/api",
//!     Credentials::hmac("access-id", "secret-key"),
//! )
//! .build()?;
//!
//! for owner in client.owners().await? {
//!     println!("{} ({})", owner.name, owner.id);
//! }
//!
//! let hosts = ["alpha.example", "beta.example"]
//!     .map(|host| BatchIndicator::new(IndicatorType::Host, host));
//! let mut outcomes = client.submit_iter(JobSettings::new("Example Org"), hosts);
//! while let Some(outcome) = outcomes.next().await {
//!     match outcome {
//!         Ok(job) => println!("job {}: {} written, {} refused", job.batch_id,
//!             job.success_count, job.error_count),
//!         Err(failure) => eprintln!("{failure}: {}", failure.error),
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Building documents needs no network:
//!
//! ```
//! use threatconnect_client::{BatchIndicator, ChunkLimits, Chunker, IndicatorType, Rating};
//!
//! let mut indicator = BatchIndicator::new(IndicatorType::Address, "192.0.2.1");
//! indicator.rating = Rating::new(3);
//!
//! let mut chunker = Chunker::new(ChunkLimits::default());
//! assert!(chunker.push(&indicator)?.is_none());
//! let job = chunker.finish().expect("one job");
//! assert_eq!(
//!     std::str::from_utf8(job.body()).unwrap(),
//!     r#"{"indicator":[{"summary":"192.0.2.1","type":"Address","rating":3.0}]}"#
//! );
//! # Ok::<(), threatconnect_client::Error>(())
//! ```
//!
//! # Secrets
//!
//! The secret key and the token live in [`SecretString`], which prints as `***`. Errors name
//! the access id, never a secret; reqwest's errors are kept without their URL.

pub mod chunk;
pub mod document;
pub mod error;
pub mod secret;
pub mod settings;

#[cfg(feature = "http")]
mod answer;
#[cfg(feature = "http")]
pub mod auth;
#[cfg(feature = "http")]
pub mod batch;
#[cfg(feature = "http")]
pub mod client;
#[cfg(feature = "http")]
pub mod endpoints;
#[cfg(feature = "http")]
pub mod indicator;
#[cfg(feature = "http")]
mod path;
#[cfg(feature = "http")]
pub mod policy;
#[cfg(feature = "http")]
pub mod submit;
#[cfg(feature = "http")]
mod tls;

pub use chunk::{ChunkLimits, Chunker, JobDocument, MAX_JOB_INDICATORS};
pub use document::{
    Attribute, BatchDocument, BatchGroup, BatchIndicator, Confidence, IndicatorType, Rating,
    SecurityLabel, Tag,
};
pub use error::Error;
pub use secret::SecretString;
pub use settings::{AttributeWriteType, BatchAction, JobSettings, TagWriteType};

#[cfg(feature = "http")]
pub use auth::{Clock, Credentials, SystemClock, sign};
#[cfg(feature = "http")]
pub use batch::{BatchError, BatchErrors, BatchId, BatchStatus, JobOutcome, JobStatus};
#[cfg(feature = "http")]
pub use client::{Client, ClientBuilder};
#[cfg(feature = "http")]
pub use endpoints::{AttributeType, BatchFeature, Indicator, IndicatorQuery, Owner};
#[cfg(feature = "http")]
pub use indicator::{AttributeUpdate, IndicatorAttribute, IndicatorUpdate, MAX_TAG_CHARS};
#[cfg(feature = "http")]
pub use policy::{PollPolicy, RetryPolicy};
#[cfg(feature = "http")]
pub use submit::{JobFailure, JobResult};

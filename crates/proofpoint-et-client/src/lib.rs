//! A typed client for the Proofpoint ET Intelligence reputation lists.
//!
//! The crate reads every shape in which ET Intelligence publishes its IP and domain
//! reputation lists (detailed CSV, short CSV, JSON, and the `.gz` of each), the
//! `categories.txt` table and the `.md5sum` sidecars. It streams: rows are handed to a
//! [`RowSink`] as their line is read, borrowing from the read buffer, and a list body is never
//! held whole (except a JSON list, which has no lines).
//!
//! - [`ListParser`] is the push parser: feed it bytes as they arrive, then finish it.
//!   [`parse_reader`] and [`parse_path`] pull from a reader or a file; [`parse_in_parts`]
//!   reads a plain list held in memory on several threads, one sink each.
//! - [`ListSource`] is where lists come from: [`DirectorySource`] reads a local folder; with
//!   the `http` feature (on by default), `HttpSource` fetches from the vendor's server.
//! - [`CategoryTable`] names the categories; [`ListFile`] names the published files.
//! - With `http`, `ApiClient` (module `api`) asks the ET Intelligence REST API v1 about one
//!   IP, domain, malware sample or signature at a time, with an [`ApiKey`].
//!
//! With default features off the crate has no HTTP client and no async runtime, so that a
//! program can use its types and parser without them.
//!
//! # Example: read the lists of a local folder
//!
//! ```
//! use proofpoint_et_client::{
//!     DirectorySource, FetchOutcome, ListFile, Rejection, Row, RowSink, Validators,
//! };
//!
//! /// Counts the rows of a list and keeps its rejections.
//! #[derive(Default)]
//! struct Count {
//!     rows: usize,
//!     rejections: Vec<Rejection>,
//! }
//!
//! impl RowSink for Count {
//!     fn row(&mut self, _row: Row<'_>) {
//!         self.rows += 1;
//!     }
//!     fn rejection(&mut self, rejection: Rejection) {
//!         self.rejections.push(rejection);
//!     }
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! std::fs::write(
//!     dir.path().join("detailed-iprepdata.txt"),
//!     "ip, category, score, first_seen, last_seen, ports (|)\n\
//!      192.0.2.7,1,101,2020-01-01,2020-01-22,80 443\n\
//!      198.51.100.9,x,40,2020-01-01,2020-01-22,\n",
//! )?;
//!
//! let source = DirectorySource::new(dir.path());
//! let mut count = Count::default();
//! let outcome = source.fetch_blocking(ListFile::DETAILED_IP, &Validators::default(), &mut count)?;
//!
//! let FetchOutcome::Complete { validators, summary } = outcome else { unreachable!() };
//! assert_eq!((summary.rows, summary.rejected), (1, 1));
//! assert_eq!(count.rejections[0].to_string(), "line 3: category: `x` is not a category id");
//!
//! // The next fetch with the validators of this one finds the list unchanged.
//! let again = source.fetch_blocking(ListFile::DETAILED_IP, &validators, &mut count)?;
//! assert!(matches!(again, FetchOutcome::NotModified { .. }));
//!
//! // No categories.txt in the folder: the built-in table.
//! assert_eq!(source.categories_blocking()?.name(10), Some("TorNode"));
//! # Ok(())
//! # }
//! ```
//!
//! [`ListSource::fetch`] does the same from async code, for any source.
//!
//! # Design notes
//!
//! - **Push, not pull.** The parser is fed bytes and pushes rows into a sink, so that the HTTP
//!   source can hand it each chunk of a body as it arrives, without a blocking reader in
//!   between, and so that rows can borrow from the buffer they were read from.
//! - **Complete or nothing.** Rows reach the sink before the list is known to be whole (the
//!   gzip trailer and the MD5 come last). A fetch that returns an error means the list is
//!   lost: the caller drops what its sink received. A source that must read a list again
//!   within one fetch (an MD5 mismatch) asks the sink to [`RowSink::restart`] first, and fails
//!   where the sink cannot.
//! - **Content decides.** Gzip is recognised by its magic bytes (a `.gz` body served under a
//!   plain name is read, not turned into garbage rows), JSON by its opening brace, the shape
//!   and kind by the header or the first row. File names only say which file to ask for.
//! - **Rows are data, lists are units.** A row that cannot be read is a [`Rejection`] with its
//!   line, field and reason; only what makes the whole list doubtful (truncation, a checksum,
//!   a transport failure) is an [`Error`].

pub mod categories;
pub mod dir;
pub mod error;
pub mod file;
#[cfg(feature = "http")]
pub mod http;
pub mod md5sum;
pub mod parse;
pub mod reject;
pub mod row;
pub mod secret;
pub mod source;

pub use categories::{CATEGORIES_FILE, Category, CategoryTable};
pub use dir::DirectorySource;
pub use error::Error;
pub use file::{FileFormat, ListFile};
#[cfg(feature = "http")]
pub use http::{HttpSource, HttpSourceBuilder, RetryPolicy};
pub use md5sum::{Md5Digest, Md5ParseError};
pub use parse::{ListParser, ListShape, ListSummary, parse_in_parts, parse_path, parse_reader};
pub use reject::{Field, Rejection, RowSink};
pub use row::{
    CategoryRef, CidrBlock, Indicator, ListKind, OwnedCategory, OwnedIndicator, OwnedRow, Ports,
    Row, Score,
};
pub use secret::SubscriptionCode;
pub use source::{FetchOutcome, ListSource, Validators};

// The ET Intelligence REST API v1 client.
#[cfg(feature = "http")]
pub mod api;
#[cfg(feature = "http")]
pub use api::{
    ApiClient, ApiClientBuilder, DEFAULT_API_BASE_URL, DomainLookup, IpLookup, SampleLookup,
    SidLookup,
};
#[cfg(feature = "http")]
pub use error::ApiErrorKind;
pub use secret::ApiKey;

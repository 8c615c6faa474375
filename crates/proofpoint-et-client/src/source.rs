//! Where lists come from: the [`ListSource`] trait and what a fetch answers.

use async_trait::async_trait;

use crate::categories::CategoryTable;
use crate::error::Error;
use crate::file::ListFile;
use crate::md5sum::Md5Digest;
use crate::parse::ListSummary;
use crate::reject::RowSink;

/// What the caller knew of one list at its last committed import, to be handed back on the
/// next fetch of that same list (each list keeps its own).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    /// The MD5 of the list's bytes as served.
    pub md5: Option<Md5Digest>,
    /// The `ETag` the server gave.
    pub etag: Option<String>,
    /// The `Last-Modified` the server gave, as it gave it.
    pub last_modified: Option<String>,
}

/// The result of a fetch that did not fail.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum FetchOutcome {
    /// The list has not changed since the import the validators describe; the sink received
    /// nothing.
    NotModified {
        /// The validators to keep (the ones given, perhaps completed).
        validators: Validators,
    },
    /// The list was read whole and verified: everything the sink received is the list.
    Complete {
        /// The list's new validators, to store once the import is committed.
        validators: Validators,
        /// What the list held.
        summary: ListSummary,
    },
}

/// A place the reputation lists are fetched from: the vendor's server over HTTP, a local
/// directory, or whatever a caller brings (a mirror, a proxy cache).
///
/// A fetch streams the list's rows into the sink as they are read. Only a returned
/// [`FetchOutcome::Complete`] says the list was whole; after an error the caller must discard
/// all the sink received. A source that reads a list a second time within one fetch (after an
/// MD5 mismatch, say) first asks the sink to [start over](RowSink::restart).
#[async_trait]
pub trait ListSource: Send + Sync {
    /// Fetches `file` unless `known` shows it unchanged, streaming its rows into `sink`.
    ///
    /// # Errors
    ///
    /// The list could not be had whole and verified: see [`Error`].
    async fn fetch(
        &self,
        file: ListFile,
        known: &Validators,
        sink: &mut (dyn RowSink + Send),
    ) -> Result<FetchOutcome, Error>;

    /// The category table: the source's `categories.txt`, or the built-in table where the
    /// source has none.
    ///
    /// # Errors
    ///
    /// The source has a `categories.txt` that could not be read.
    async fn categories(&self) -> Result<CategoryTable, Error>;
}

//! Rejected rows, and the sink that rows and rejections are pushed into.

use std::fmt;

use crate::row::Row;

/// The field of a row that a rejection is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Field {
    /// The line as a whole (too few fields, not UTF-8, ...).
    Line,
    /// The indicator value.
    Value,
    /// The category.
    Category,
    /// The score.
    Score,
    /// The first-seen date.
    FirstSeen,
    /// The last-seen date.
    LastSeen,
    /// The ports.
    Ports,
}

impl Field {
    /// The field's name as the list's header calls it (`line` for the whole line).
    pub fn name(self) -> &'static str {
        match self {
            Field::Line => "line",
            Field::Value => "value",
            Field::Category => "category",
            Field::Score => "score",
            Field::FirstSeen => "first_seen",
            Field::LastSeen => "last_seen",
            Field::Ports => "ports",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A row the parser could not read. It is counted and reported; parsing goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The 1-based line number in the list (in the decompressed text for a `.gz`). For a JSON
    /// list, the line where the entry starts.
    pub line: u64,
    /// The field that could not be read.
    pub field: Field,
    /// Why, as a lowercase phrase that quotes the offending text (shortened where long).
    pub reason: String,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}: {}", self.line, self.field, self.reason)
    }
}

/// Where a parser pushes what it reads, in list order.
///
/// The sink sees rows as they come. A list is complete only when the whole source has been
/// read without error: a caller must not act on what a sink received from a list that did not
/// complete.
pub trait RowSink {
    /// One row that was read.
    fn row(&mut self, row: Row<'_>);

    /// One row that was rejected.
    fn rejection(&mut self, rejection: Rejection);

    /// Forgets every row and rejection received so far, because the source is about to send
    /// the list again from its start (after an MD5 mismatch, the list may have been replaced
    /// mid-download). Returns whether it did.
    ///
    /// The default cannot forget and returns `false`; a source then fails the fetch instead of
    /// reading the list a second time into the same sink.
    fn restart(&mut self) -> bool {
        false
    }
}

impl<S: RowSink + ?Sized> RowSink for &mut S {
    fn row(&mut self, row: Row<'_>) {
        (**self).row(row);
    }

    fn rejection(&mut self, rejection: Rejection) {
        (**self).rejection(rejection);
    }

    fn restart(&mut self) -> bool {
        (**self).restart()
    }
}

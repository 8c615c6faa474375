//! What the integration tests share: a sink that keeps everything, and readable renderings.

#![allow(dead_code, unreachable_pub)] // Each test binary uses its own part of this module.

#[cfg(feature = "http")]
pub mod http;

use std::path::PathBuf;

use proofpoint_et_client::{
    Error, ListParser, ListSummary, OwnedCategory, OwnedRow, Rejection, Row, RowSink,
};

/// Keeps every row and rejection, and can start over.
#[derive(Debug, Default)]
pub struct Collected {
    pub rows: Vec<OwnedRow>,
    pub rejections: Vec<Rejection>,
    pub restarts: usize,
}

impl RowSink for Collected {
    fn row(&mut self, row: Row<'_>) {
        self.rows.push(row.to_owned());
    }

    fn rejection(&mut self, rejection: Rejection) {
        self.rejections.push(rejection);
    }

    fn restart(&mut self) -> bool {
        self.rows.clear();
        self.rejections.clear();
        self.restarts += 1;
        true
    }
}

impl Collected {
    /// The rows as `value category score first last ports` lines.
    pub fn rendered_rows(&self) -> Vec<String> {
        self.rows.iter().map(render).collect()
    }

    /// The rejections as their `Display` lines.
    pub fn rendered_rejections(&self) -> Vec<String> {
        self.rejections.iter().map(ToString::to_string).collect()
    }
}

/// One row on one line, for assertions that read like the list.
pub fn render(row: &OwnedRow) -> String {
    let category = match &row.category {
        OwnedCategory::Id(id) => id.to_string(),
        OwnedCategory::Name(name) => name.clone(),
    };
    let date = |date: Option<chrono::NaiveDate>| date.map_or("-".to_owned(), |d| d.to_string());
    let ports: Vec<String> = row.ports.iter().map(u16::to_string).collect();
    format!(
        "{} {} {} {} {} [{}]",
        row.indicator.as_indicator(),
        category,
        row.score,
        date(row.first_seen),
        date(row.last_seen),
        ports.join(" ")
    )
}

/// A fixture of this crate.
pub fn fixture(relative: &str) -> PathBuf {
    test_support::fixture(env!("CARGO_MANIFEST_DIR"), relative)
}

/// Parses `bytes` fed in chunks of `chunk_len`.
pub fn parse_in_chunks(bytes: &[u8], chunk_len: usize) -> (Result<ListSummary, Error>, Collected) {
    let mut sink = Collected::default();
    let mut parser = ListParser::named("test-list");
    for chunk in bytes.chunks(chunk_len.max(1)) {
        if let Err(error) = parser.feed(chunk, &mut sink) {
            return (Err(error), sink);
        }
    }
    (parser.finish(&mut sink), sink)
}

/// Parses a fixture file in one piece, and checks that any chunking gives the same result.
pub fn parse_fixture(relative: &str) -> (Result<ListSummary, Error>, Collected) {
    let bytes = std::fs::read(fixture(relative)).expect("the fixture exists");
    let (whole, sink) = parse_in_chunks(&bytes, bytes.len());
    for chunk_len in [1, 2, 3, 5, 7, 64] {
        let (chunked, chunked_sink) = parse_in_chunks(&bytes, chunk_len);
        assert_eq!(
            format!("{chunked:?}"),
            format!("{whole:?}"),
            "{relative} in chunks of {chunk_len}"
        );
        assert_eq!(
            chunked_sink.rows, sink.rows,
            "{relative} in chunks of {chunk_len}"
        );
        assert_eq!(
            chunked_sink.rejections, sink.rejections,
            "{relative} by {chunk_len}"
        );
    }
    (whole, sink)
}

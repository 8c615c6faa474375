//! The list parser: bytes in, rows and rejections out.
//!
//! [`ListParser`] is pushed the bytes of a list as they arrive ([`ListParser::feed`]) and
//! hands every row and rejection to a [`RowSink`] at once; [`ListParser::finish`] says whether
//! the list was whole and what it held. [`parse_reader`] and [`parse_path`] pull from a reader
//! or a file instead; [`parse_in_parts`] reads a plain list held in memory on several threads.
//!
//! What the list is comes from its content, never from its name: gzip by its magic bytes,
//! JSON by its opening brace, detailed or short CSV by its header or its first row, IP or
//! domain by its header word or its values.

mod csv;
mod fields;
mod json;
mod lines;
mod parts;

use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;

use flate2::write::MultiGzDecoder;

use self::csv::CsvReader;
use self::lines::LineSplitter;
use crate::error::Error;
use crate::reject::{Field, Rejection, RowSink};
use crate::row::{ListKind, Row};

pub(crate) use self::fields::quote as quote_text;
pub(crate) use self::lines::LineSplitter as Lines;
pub use self::parts::parse_in_parts;

/// The layout of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ListShape {
    /// `value, category, score, first_seen, last_seen, ports`.
    Detailed,
    /// `value, category, score`.
    Short,
    /// An object of indicators, each an object of category names and scores.
    Json,
}

/// What a list held, once it was read to its end without error.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListSummary {
    /// IP or domain; `None` for a list with neither a header nor a value.
    pub kind: Option<ListKind>,
    /// The layout; `None` for a list with neither a header nor a row.
    pub shape: Option<ListShape>,
    /// Whether the list had a header line (CSV) or header entry (JSON).
    pub has_header: bool,
    /// Whether the bytes were gzip, found by their magic bytes.
    pub gzip: bool,
    /// Lines of text read (after decompression).
    pub lines: u64,
    /// Rows handed to the sink.
    pub rows: u64,
    /// Rejections handed to the sink.
    pub rejected: u64,
}

/// Counts what passes on to the sink.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    rows: u64,
    rejected: u64,
}

/// The sink wrapped with the counts of what it was given.
pub(crate) struct Tally<'a, S: ?Sized> {
    sink: &'a mut S,
    counts: &'a mut Counts,
}

impl<S: RowSink + ?Sized> Tally<'_, S> {
    fn row(&mut self, row: Row<'_>) {
        self.counts.rows += 1;
        self.sink.row(row);
    }

    fn reject(&mut self, line: u64, field: Field, reason: String) {
        self.counts.rejected += 1;
        tracing::trace!(line, %field, %reason, "rejected a row");
        self.sink.rejection(Rejection {
            line,
            field,
            reason,
        });
    }
}

/// The magic bytes of compressed formats, and the longest of them.
const GZIP_MAGIC: &[u8] = b"\x1f\x8b";
const OTHER_COMPRESSIONS: &[(&[u8], &str)] = &[
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"PK\x03\x04", "zip"),
];
const LONGEST_MAGIC: usize = 6;

/// The UTF-8 byte order mark, which some lists carry before their first line.
const BOM: &[u8] = b"\xef\xbb\xbf";

/// A push parser for one list.
///
/// Feed it the list's bytes in chunks of any size, as served (gzip included), then finish it.
/// Rows and rejections go to the sink as soon as their line is complete; nothing is held but
/// the unfinished last line (and, for the JSON shape, which has no lines, the whole text).
///
/// ```
/// use proofpoint_et_client::{ListParser, OwnedRow, Rejection, Row, RowSink};
///
/// #[derive(Default)]
/// struct Keep(Vec<OwnedRow>, Vec<Rejection>);
///
/// impl RowSink for Keep {
///     fn row(&mut self, row: Row<'_>) { self.0.push(row.to_owned()) }
///     fn rejection(&mut self, rejection: Rejection) { self.1.push(rejection) }
/// }
///
/// let mut keep = Keep::default();
/// let mut parser = ListParser::named("iprepdata.txt");
/// parser.feed(b"192.0.2.1,1,101\n198.51.", &mut keep)?;
/// parser.feed(b"100.7,6,88\nnot-an-ip,6,88\n", &mut keep)?;
/// let summary = parser.finish(&mut keep)?;
///
/// assert_eq!((summary.rows, summary.rejected), (2, 1));
/// assert_eq!(keep.1[0].line, 3);
/// # Ok::<(), proofpoint_et_client::Error>(())
/// ```
#[derive(Debug)]
pub struct ListParser {
    file: String,
    stage: Stage,
    counts: Counts,
}

#[derive(Debug)]
enum Stage {
    /// Not enough bytes yet to tell gzip (or another compression) from text.
    Sniffing(Vec<u8>),
    Plain(TextParser),
    Gzip(Box<GzipStage>),
    /// A previous call failed; the list is lost.
    Failed,
}

#[derive(Debug)]
struct GzipStage {
    decoder: MultiGzDecoder<Vec<u8>>,
    text: TextParser,
}

/// Compressed bytes handed to the decoder at a time, so that its output stays small.
const GZIP_STEP: usize = 16 * 1024;

impl Default for ListParser {
    fn default() -> Self {
        ListParser::new()
    }
}

impl ListParser {
    /// A parser for a list that errors call `list`.
    pub fn new() -> ListParser {
        ListParser::named("list")
    }

    /// A parser for the list called `file`, the name its errors give.
    pub fn named(file: impl Into<String>) -> ListParser {
        ListParser {
            file: file.into(),
            stage: Stage::Sniffing(Vec::new()),
            counts: Counts::default(),
        }
    }

    /// Reads the next bytes of the list, handing the rows and rejections they complete to
    /// `sink`.
    ///
    /// # Errors
    ///
    /// The bytes are gzip whose compressed data is corrupt, or compressed in another format.
    /// After an error the list is lost: later calls fail too.
    pub fn feed<S: RowSink + ?Sized>(&mut self, bytes: &[u8], sink: &mut S) -> Result<(), Error> {
        let result = self.feed_stage(bytes, sink);
        if result.is_err() {
            self.stage = Stage::Failed;
        }
        result
    }

    /// Ends the list: hands out its last line and checks that a gzip stream was whole.
    ///
    /// # Errors
    ///
    /// The gzip stream was cut short or fails its checksum, a JSON list is not valid JSON, or
    /// the bytes are compressed in a format other than gzip. Whatever the sink received from
    /// a list that fails here must be discarded.
    pub fn finish<S: RowSink + ?Sized>(mut self, sink: &mut S) -> Result<ListSummary, Error> {
        if let Stage::Sniffing(head) = &mut self.stage {
            let head = std::mem::take(head);
            self.start(&head, true)?;
            self.feed_stage(&head, sink)?;
        }

        let mut tally = Tally {
            sink,
            counts: &mut self.counts,
        };
        let (text, gzip) = match self.stage {
            Stage::Plain(text) => (text, false),
            Stage::Gzip(mut stage) => {
                finish_gzip(&mut stage, &self.file, &mut tally)?;
                (stage.text, true)
            }
            Stage::Sniffing(_) | Stage::Failed => return Err(Error::Poisoned { file: self.file }),
        };

        let mut summary = text.finish(&self.file, &mut tally)?;
        summary.gzip = gzip;
        summary.rows = self.counts.rows;
        summary.rejected = self.counts.rejected;
        Ok(summary)
    }

    fn feed_stage<S: RowSink + ?Sized>(&mut self, bytes: &[u8], sink: &mut S) -> Result<(), Error> {
        if let Stage::Sniffing(head) = &mut self.stage {
            head.extend_from_slice(bytes);
            if head.len() < LONGEST_MAGIC {
                return Ok(());
            }
            let head = std::mem::take(head);
            self.start(&head, false)?;
            return self.feed_stage(&head, sink);
        }

        let mut tally = Tally {
            sink,
            counts: &mut self.counts,
        };
        match &mut self.stage {
            Stage::Plain(text) => {
                text.feed(bytes, &mut tally);
                Ok(())
            }
            Stage::Gzip(stage) => feed_gzip(stage, bytes, &self.file, &mut tally),
            Stage::Sniffing(_) => unreachable!("sniffing ends above"),
            Stage::Failed => Err(Error::Poisoned {
                file: self.file.clone(),
            }),
        }
    }

    /// Chooses plain text or gzip from the first bytes.
    fn start(&mut self, head: &[u8], at_end: bool) -> Result<(), Error> {
        if head.starts_with(GZIP_MAGIC) {
            tracing::debug!(file = %self.file, "the list is gzip (by its magic bytes)");
            self.stage = Stage::Gzip(Box::new(GzipStage {
                decoder: MultiGzDecoder::new(Vec::new()),
                text: TextParser::default(),
            }));
            return Ok(());
        }
        if let Some(format) = other_compression(head) {
            return Err(Error::UnsupportedCompression {
                file: self.file.clone(),
                format,
            });
        }
        debug_assert!(at_end || head.len() >= LONGEST_MAGIC);
        self.stage = Stage::Plain(TextParser::default());
        Ok(())
    }
}

fn other_compression(head: &[u8]) -> Option<&'static str> {
    OTHER_COMPRESSIONS
        .iter()
        .find(|(magic, _)| head.starts_with(magic))
        .map(|(_, format)| *format)
}

fn feed_gzip<S: RowSink + ?Sized>(
    stage: &mut GzipStage,
    mut bytes: &[u8],
    file: &str,
    tally: &mut Tally<'_, S>,
) -> Result<(), Error> {
    while !bytes.is_empty() {
        let step = bytes.len().min(GZIP_STEP);
        let taken = stage
            .decoder
            .write(&bytes[..step])
            .map_err(|source| gzip_error(file, source))?;
        if taken == 0 {
            return Err(Error::CorruptGzip {
                file: file.to_owned(),
                source: io::Error::new(io::ErrorKind::InvalidData, "the decoder takes no more"),
            });
        }
        bytes = &bytes[taken..];
        drain_decoded(stage, tally);
    }
    Ok(())
}

fn finish_gzip<S: RowSink + ?Sized>(
    stage: &mut GzipStage,
    file: &str,
    tally: &mut Tally<'_, S>,
) -> Result<(), Error> {
    let finished = stage.decoder.try_finish();
    drain_decoded(stage, tally);
    finished.map_err(|source| match source.kind() {
        io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidInput => Error::TruncatedGzip {
            file: file.to_owned(),
            source,
        },
        _ => gzip_error(file, source),
    })
}

fn gzip_error(file: &str, source: io::Error) -> Error {
    Error::CorruptGzip {
        file: file.to_owned(),
        source,
    }
}

/// Parses what the decoder wrote so far, then empties its buffer.
fn drain_decoded<S: RowSink + ?Sized>(stage: &mut GzipStage, tally: &mut Tally<'_, S>) {
    let decoded = stage.decoder.get_mut();
    if !decoded.is_empty() {
        stage.text.feed(decoded, tally);
        decoded.clear();
    }
}

/// The text of a list, after decompression: a UTF-8 BOM, then JSON or CSV.
#[derive(Debug, Default)]
struct TextParser {
    mode: TextMode,
}

#[derive(Debug, Default)]
enum TextMode {
    /// Before the first byte that is not white space or the BOM: held until then.
    #[default]
    Start,
    Held(Vec<u8>),
    Csv(LineSplitter, CsvReader),
    Json(Vec<u8>),
}

impl TextParser {
    fn feed<S: RowSink + ?Sized>(&mut self, bytes: &[u8], tally: &mut Tally<'_, S>) {
        match &mut self.mode {
            TextMode::Csv(lines, reader) => {
                lines.feed(bytes, |number, line| reader.line(number, line, tally));
            }
            TextMode::Json(text) => text.extend_from_slice(bytes),
            TextMode::Start => {
                self.mode = TextMode::Held(Vec::new());
                self.feed(bytes, tally);
            }
            TextMode::Held(held) => {
                held.extend_from_slice(bytes);
                let text = held.strip_prefix(BOM).unwrap_or(held);
                if BOM.starts_with(text) && text.len() < BOM.len() {
                    return;
                }
                let Some(&first) = text.iter().find(|byte| !byte.is_ascii_whitespace()) else {
                    return;
                };
                let text = text.to_vec();
                self.begin(first == b'{', &text, tally);
            }
        }
    }

    fn begin<S: RowSink + ?Sized>(&mut self, json: bool, text: &[u8], tally: &mut Tally<'_, S>) {
        if json {
            tracing::debug!("the list is json (it opens with a brace)");
            self.mode = TextMode::Json(text.to_vec());
        } else {
            self.mode = TextMode::Csv(LineSplitter::default(), CsvReader::default());
            self.feed(text, tally);
        }
    }

    fn finish<S: RowSink + ?Sized>(
        mut self,
        file: &str,
        tally: &mut Tally<'_, S>,
    ) -> Result<ListSummary, Error> {
        if let TextMode::Held(held) = &mut self.mode {
            let held = std::mem::take(held);
            let text = held.strip_prefix(BOM).unwrap_or(&held).to_vec();
            self.begin(false, &text, tally);
        }

        let mut summary = ListSummary {
            kind: None,
            shape: None,
            has_header: false,
            gzip: false,
            lines: 0,
            rows: 0,
            rejected: 0,
        };
        match self.mode {
            TextMode::Start | TextMode::Held(_) => {}
            TextMode::Csv(mut lines, mut reader) => {
                lines.finish(|number, line| reader.line(number, line, tally));
                summary.kind = reader.kind;
                summary.shape = reader.shape;
                summary.has_header = reader.has_header;
                summary.lines = lines.lines();
            }
            TextMode::Json(text) => {
                let outcome = json::read_json(&text, tally).map_err(|source| Error::Json {
                    file: file.to_owned(),
                    line: source.line() as u64,
                    column: source.column() as u64,
                    source,
                })?;
                summary.kind = outcome.kind;
                summary.shape = Some(ListShape::Json);
                summary.has_header = outcome.has_header;
                summary.lines = outcome.lines;
            }
        }
        Ok(summary)
    }
}

/// Parses a whole list from `reader`, handing rows and rejections to `sink`.
///
/// # Errors
///
/// Reading fails, or [`ListParser::feed`] or [`ListParser::finish`] does.
pub fn parse_reader<R: BufRead, S: RowSink + ?Sized>(
    mut reader: R,
    file: &str,
    sink: &mut S,
) -> Result<ListSummary, Error> {
    let mut parser = ListParser::named(file);
    loop {
        let chunk = reader.fill_buf().map_err(|source| Error::Read {
            file: file.to_owned(),
            source,
        })?;
        if chunk.is_empty() {
            return parser.finish(sink);
        }
        let read = chunk.len();
        parser.feed(chunk, sink)?;
        reader.consume(read);
    }
}

/// Parses the list in the file at `path`, handing rows and rejections to `sink`.
///
/// # Errors
///
/// The file cannot be opened or read, or its content fails as in [`parse_reader`].
pub fn parse_path<S: RowSink + ?Sized>(path: &Path, sink: &mut S) -> Result<ListSummary, Error> {
    let file = File::open(path).map_err(|source| Error::Open {
        path: path.to_owned(),
        source,
    })?;
    let name = path.display().to_string();
    parse_reader(BufReader::with_capacity(READ_BUFFER, file), &name, sink)
}

/// The read buffer for lists read from files: large enough that system calls cost little.
pub(crate) const READ_BUFFER: usize = 256 * 1024;

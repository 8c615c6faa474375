//! Parsing one list held in memory on several threads: [`parse_in_parts`].
//!
//! A CSV list is cut at line ends into parts of about the same size. The first part is read
//! as a whole list is; each later part is read by a reader that already knows what the list's
//! first line said (its kind and shape, and that its header, if any, was seen), and that
//! numbers its lines from where the part starts. So each part gives exactly the rows and
//! rejections, with the same line numbers, that a reading of the whole list gives for those
//! lines.

use memchr::{memchr, memchr_iter, memchr2};

use super::csv::CsvReader;
use super::lines::LineSplitter;
use super::{
    BOM, Counts, GZIP_MAGIC, ListParser, ListSummary, READ_BUFFER, Tally, other_compression,
};
use crate::error::Error;
use crate::reject::{Rejection, RowSink};
use crate::row::Row;

/// Parts smaller than this are not worth a thread.
const MIN_PART_BYTES: usize = 256 * 1024;

/// Parses the whole list `text` in as many parts as there are `sinks`, one thread each, and
/// says what the whole list held.
///
/// The rows of the first part go to `sinks[0]`, those of the second part to `sinks[1]`, and
/// so on, each sink receiving its rows in list order: a caller that merges the sinks in their
/// order sees the rows in the order of the list. Rejections carry the line numbers of the
/// whole list.
///
/// Only plain CSV text is cut. A gzip or JSON list, a list too small to be worth a thread,
/// and a list whose first line that is not blank or a comment says neither kind nor shape,
/// are read on the caller's thread into `sinks[0]`, as [`ListParser`] reads them.
///
/// ```
/// use proofpoint_et_client::{Rejection, Row, RowSink, parse_in_parts};
///
/// #[derive(Default)]
/// struct Count(u64);
///
/// impl RowSink for Count {
///     fn row(&mut self, _row: Row<'_>) { self.0 += 1 }
///     fn rejection(&mut self, _rejection: Rejection) {}
/// }
///
/// let mut list = String::from("ip, category, score, first_seen, last_seen, ports (|)\n");
/// for n in 0..100_000 {
///     let (high, low) = (n / 256 % 256, n % 256);
///     list.push_str(&format!("10.0.{high}.{low},1,42,2020-01-01,2020-01-02,80\n"));
/// }
/// let mut sinks = [Count::default(), Count::default()];
/// let summary = parse_in_parts(list.as_bytes(), "detailed-iprepdata.txt", &mut sinks)?;
///
/// assert_eq!(summary.rows, 100_000);
/// assert_eq!(sinks[0].0 + sinks[1].0, 100_000);
/// # Ok::<(), proofpoint_et_client::Error>(())
/// ```
///
/// # Errors
///
/// As [`ListParser::finish`], for a list read whole (a broken gzip stream, invalid JSON).
/// Plain CSV text never fails: bad rows are rejections.
///
/// # Panics
///
/// Where `sinks` is empty, or a sink panics.
pub fn parse_in_parts<S: RowSink + Send>(
    text: &[u8],
    file: &str,
    sinks: &mut [S],
) -> Result<ListSummary, Error> {
    parse_split(text, file, sinks, MIN_PART_BYTES)
}

/// [`parse_in_parts`] with the smallest part given, so that tests can cut small lists.
fn parse_split<S: RowSink + Send>(
    text: &[u8],
    file: &str,
    sinks: &mut [S],
    min_part: usize,
) -> Result<ListSummary, Error> {
    assert!(!sinks.is_empty(), "parse_in_parts needs at least one sink");

    let Some(plan) = plan_parts(text, sinks.len(), min_part) else {
        return parse_whole(text, file, &mut sinks[0]);
    };
    tracing::debug!(file, parts = plan.cuts.len(), "parsing the list in parts");

    let mut parts = Vec::with_capacity(plan.cuts.len());
    std::thread::scope(|scope| {
        let mut sinks = sinks.iter_mut();
        let first_sink = sinks.next().expect("one sink at least");
        let later: Vec<_> = plan.cuts[1..]
            .iter()
            .zip(sinks)
            .map(|(part, sink)| scope.spawn(|| part.parse(&plan.seed, sink)))
            .collect();
        parts.push(plan.cuts[0].parse(&CsvReader::default(), first_sink));
        for handle in later {
            match handle.join() {
                Ok(part) => parts.push(part),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
    });
    Ok(summary_of(&parts))
}

/// Reads the whole list on this thread, in pieces of the size a file is read in: the
/// parser holds on to its first piece until it knows what the list is, and that should not
/// be a copy of the whole list.
fn parse_whole<S: RowSink>(text: &[u8], file: &str, sink: &mut S) -> Result<ListSummary, Error> {
    let mut parser = ListParser::named(file);
    for piece in text.chunks(READ_BUFFER) {
        parser.feed(piece, sink)?;
    }
    parser.finish(sink)
}

/// How a list is cut, and what its later parts must know of its start.
struct PartPlan<'t> {
    cuts: Vec<Part<'t>>,
    /// The reader after the list's first line that is not blank or a comment.
    seed: CsvReader,
}

/// One part: its text, and the number of lines before it.
struct Part<'t> {
    text: &'t [u8],
    lines_before: u64,
}

/// What one part held.
struct PartSummary {
    reader: CsvReader,
    /// The last line number of the part.
    last_line: u64,
    counts: Counts,
}

/// Where to cut `text` into at most `parts` parts, or `None` where it is to be read whole.
fn plan_parts(text: &[u8], parts: usize, min_part: usize) -> Option<PartPlan<'_>> {
    if parts < 2 || text.len() < 2 * min_part.max(1) {
        return None;
    }
    if text.starts_with(GZIP_MAGIC) || other_compression(text).is_some() {
        return None;
    }
    let text = text.strip_prefix(BOM).unwrap_or(text);
    let first_byte = text.iter().find(|byte| !byte.is_ascii_whitespace())?;
    if *first_byte == b'{' {
        return None;
    }

    let (seed, first_content_end) = seed_reader(text)?;
    let parts = parts.min(text.len() / min_part.max(1));
    let mut cuts = Vec::with_capacity(parts);
    let mut start = 0;
    let mut lines_before = 0;
    for index in 1..parts {
        let target = (text.len() * index / parts)
            .max(first_content_end)
            .max(start);
        let Some(newline) = memchr(b'\n', &text[target..]) else {
            break;
        };
        let end = target + newline + 1;
        let part = &text[start..end];
        cuts.push(Part {
            text: part,
            lines_before,
        });
        lines_before += line_ends(part);
        start = end;
    }
    if start < text.len() {
        cuts.push(Part {
            text: &text[start..],
            lines_before,
        });
    }
    (cuts.len() > 1).then_some(PartPlan { cuts, seed })
}

/// The reader after the first line that is not blank or a comment, and where that line
/// ends; `None` where that line leaves the kind or the shape open (a later part could not be
/// read as the whole list would read it).
fn seed_reader(text: &[u8]) -> Option<(CsvReader, usize)> {
    let mut start = 0;
    while start < text.len() {
        let end = memchr2(b'\n', b'\r', &text[start..]).map_or(text.len(), |at| start + at);
        let line = text[start..end].trim_ascii();
        if !line.is_empty() && line[0] != b'#' {
            let mut reader = CsvReader::default();
            let mut counts = Counts::default();
            let mut tally = Tally {
                sink: &mut Discard,
                counts: &mut counts,
            };
            reader.line(1, line, &mut tally);
            let known = reader.kind.is_some() && reader.shape.is_some();
            return known.then(|| (reader.continuing(), end));
        }
        start = end + 1;
    }
    None
}

/// The number of line ends in `text`: each LF, each CRLF, each lone CR.
fn line_ends(text: &[u8]) -> u64 {
    let lf = memchr_iter(b'\n', text).count();
    let lone_cr = memchr_iter(b'\r', text)
        .filter(|&at| text.get(at + 1) != Some(&b'\n'))
        .count();
    (lf + lone_cr) as u64
}

impl Part<'_> {
    fn parse<S: RowSink>(&self, seed: &CsvReader, sink: &mut S) -> PartSummary {
        let mut reader = seed.continuing();
        let mut lines = LineSplitter::after_lines(self.lines_before);
        let mut counts = Counts::default();
        let mut tally = Tally {
            sink,
            counts: &mut counts,
        };
        lines.feed(self.text, |number, line| {
            reader.line(number, line, &mut tally);
        });
        lines.finish(|number, line| reader.line(number, line, &mut tally));
        PartSummary {
            reader,
            last_line: lines.lines(),
            counts,
        }
    }
}

fn summary_of(parts: &[PartSummary]) -> ListSummary {
    let first = &parts[0].reader;
    let last = parts.last().expect("two parts at least");
    ListSummary {
        kind: first.kind,
        shape: first.shape,
        has_header: first.has_header,
        gzip: false,
        lines: last.last_line,
        rows: parts.iter().map(|part| part.counts.rows).sum(),
        rejected: parts.iter().map(|part| part.counts.rejected).sum(),
    }
}

/// A sink that keeps nothing, for reading the first line ahead.
struct Discard;

impl RowSink for Discard {
    fn row(&mut self, _row: Row<'_>) {}

    fn rejection(&mut self, _rejection: Rejection) {}
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::row::OwnedRow;

    /// Keeps everything, to compare a parse in parts with a whole one.
    #[derive(Debug, Default, PartialEq)]
    struct Keep {
        rows: Vec<OwnedRow>,
        rejections: Vec<Rejection>,
    }

    impl RowSink for Keep {
        fn row(&mut self, row: Row<'_>) {
            self.rows.push(row.to_owned());
        }

        fn rejection(&mut self, rejection: Rejection) {
            self.rejections.push(rejection);
        }
    }

    fn whole(text: &[u8]) -> (Keep, ListSummary) {
        let mut keep = Keep::default();
        let summary = parse_whole(text, "list", &mut keep).unwrap();
        (keep, summary)
    }

    /// The parse in `parts` parts, its sinks joined in order, and how many sinks got rows.
    fn in_parts(text: &[u8], parts: usize, min_part: usize) -> (Keep, ListSummary, usize) {
        let mut sinks: Vec<Keep> = (0..parts).map(|_| Keep::default()).collect();
        let summary = parse_split(text, "list", &mut sinks, min_part).unwrap();
        let used = sinks
            .iter()
            .filter(|sink| !sink.rows.is_empty() || !sink.rejections.is_empty())
            .count();
        let mut joined = Keep::default();
        for sink in sinks {
            joined.rows.extend(sink.rows);
            joined.rejections.extend(sink.rejections);
        }
        (joined, summary, used)
    }

    fn assert_same_as_whole(text: &[u8]) {
        let (want, want_summary) = whole(text);
        for parts in 1..=5 {
            for min_part in [1, 7, 40] {
                let (got, summary, _) = in_parts(text, parts, min_part);
                let what = format!("{parts} parts of {min_part}+ bytes");
                assert_eq!(summary, want_summary, "{what}");
                assert_eq!(got, want, "{what}");
            }
        }
    }

    const DETAILED: &str = "ip, category, score, first_seen, last_seen, ports (|)\n\
        # a comment\n\
        \n\
        192.0.2.10,16,42,2019-12-20,2019-12-31,\n\
        192.0.2.11,x,42,2019-12-20,2019-12-31,\n\
        198.51.100.7,2,50,2020-02-01,2020-02-02,80|443\n\
        \x20203.0.113.9 , 3 , 41 , 2020-03-01 , 2020-03-02 , 25 \n\
        2001:db8::5,1,100,2020-04-01,2020-04-02,\n\
        ip, category, score, first_seen, last_seen, ports (|)\n\
        not-an-ip,1,100,2020-04-01,2020-04-02,\n\
        203.0.113.77,21,60,2020-06-01,2020-06-02,22\n";

    #[test]
    fn a_detailed_list_in_parts_gives_the_rows_and_line_numbers_of_a_whole_read() {
        assert_same_as_whole(DETAILED.as_bytes());
        let (_, _, used) = in_parts(DETAILED.as_bytes(), 3, 1);
        assert_eq!(used, 3, "the list is really cut");
    }

    #[test]
    fn crlf_and_lone_cr_endings_keep_the_line_numbers() {
        let crlf = DETAILED.replace('\n', "\r\n");
        let mixed = DETAILED.replacen('\n', "\r", 3).replacen('\n', "\r\n", 2);
        for text in [crlf, mixed] {
            assert_same_as_whole(text.as_bytes());
            let (_, _, used) = in_parts(text.as_bytes(), 3, 1);
            assert_eq!(used, 3, "{text:?} is really cut");
        }
    }

    #[test]
    fn every_fixture_list_in_parts_reads_as_a_whole_read() {
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut read = 0;
        for entry in std::fs::read_dir(fixtures).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                assert_same_as_whole(&std::fs::read(&path).unwrap());
                read += 1;
            }
        }
        assert!(read > 5, "only {read} fixtures");
    }

    #[test]
    fn a_large_list_is_cut_at_the_public_part_size() {
        let mut text = String::from("ip, category, score, first_seen, last_seen, ports (|)\r\n");
        for n in 0..40_000u32 {
            let score = if n % 997 == 0 { "x" } else { "42" };
            text.push_str(&format!(
                "10.{}.{}.{},{},{score},2020-01-01,2020-01-02,80 443\r\n",
                n >> 16,
                n >> 8 & 255,
                n & 255,
                n % 40 + 1
            ));
        }
        assert!(text.len() > 2 * MIN_PART_BYTES);

        let (want, want_summary) = whole(text.as_bytes());
        let mut sinks = [Keep::default(), Keep::default()];
        let summary = parse_in_parts(text.as_bytes(), "list", &mut sinks).unwrap();
        assert!(sinks.iter().all(|sink| !sink.rows.is_empty()));
        let [mut first, second] = sinks;
        first.rows.extend(second.rows);
        first.rejections.extend(second.rejections);
        assert_eq!(summary, want_summary);
        assert_eq!(first, want);
        assert_eq!(summary.rejected, 41);
    }

    #[test]
    fn a_list_without_header_or_final_newline_reads_the_same() {
        let short = "192.0.2.1,1,101\n198.51.100.7,6,88\nnot-an-ip,6,88\n192.0.2.9,1,20\n\
                     192.0.2.9,7,33";
        assert_same_as_whole(short.as_bytes());
        let domains = "domain,category,score\na.example,1,30\nb.example,2,40\n*.c.example,3,50";
        assert_same_as_whole(domains.as_bytes());
    }

    #[test]
    fn a_bom_and_leading_comments_stay_with_the_first_part() {
        let text = format!("\u{feff}# generated\n\n{DETAILED}");
        assert_same_as_whole(text.as_bytes());
    }

    #[test]
    fn gzip_and_json_lists_are_read_whole_into_the_first_sink() {
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gzip.write_all(DETAILED.as_bytes()).unwrap();
        let gzip = gzip.finish().unwrap();
        let json = br#"{"192.0.2.1": {"CnC": "101"}, "198.51.100.7": {"Bot": "40"}}"#;

        for text in [&gzip[..], json] {
            let (want, want_summary) = whole(text);
            let (got, summary, used) = in_parts(text, 3, 1);
            assert_eq!((got, summary), (want, want_summary));
            assert_eq!(used, 1);
        }
    }

    #[test]
    fn a_first_line_that_says_no_shape_is_read_whole() {
        let text = b"192.0.2.1\n192.0.2.2,1,40\n192.0.2.3,1,40\n192.0.2.4,1,40\n";
        assert_same_as_whole(text);
        let (_, _, used) = in_parts(text, 3, 1);
        assert_eq!(used, 1);
    }

    #[test]
    fn a_small_list_is_not_cut() {
        let (_, _, used) = in_parts(DETAILED.as_bytes(), 4, MIN_PART_BYTES);
        assert_eq!(used, 1);
    }

    #[test]
    fn line_ends_count_lf_crlf_and_lone_cr() {
        assert_eq!(line_ends(b"a\nb\r\nc\rd\r\r\n"), 5);
        assert_eq!(line_ends(b"no end"), 0);
    }
}

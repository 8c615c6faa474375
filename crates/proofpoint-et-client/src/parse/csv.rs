//! Reading the rows of the CSV shapes, one line at a time.

use super::fields::{
    DateCache, kind_of_value, parse_category_id, parse_indicator, parse_ipv4_fast, parse_score,
};
use super::{ListShape, Tally};
use crate::reject::{Field, RowSink};
use crate::row::{CategoryRef, Indicator, ListKind, Ports, Row};

/// Fields a detailed row has: value, category, score, first seen, last seen, ports.
const DETAILED_FIELDS: usize = 6;
/// Fields a short row has: value, category, score.
const SHORT_FIELDS: usize = 3;
/// Fields kept apart when a line is split; any further ones are only counted.
const MAX_FIELDS: usize = 8;

/// The state of a CSV list between lines: what the header or the first row said.
#[derive(Debug, Default)]
pub(crate) struct CsvReader {
    pub(crate) kind: Option<ListKind>,
    pub(crate) shape: Option<ListShape>,
    pub(crate) has_header: bool,
    /// A line other than a blank or a comment was seen: a header after it is not one.
    seen_content: bool,
    dates: DateCache,
}

/// The fields of one line, trimmed, without allocating.
struct SplitLine<'a> {
    fields: [&'a [u8]; MAX_FIELDS],
    count: usize,
    /// Whether every byte of the line is ASCII, seen on the way.
    ascii: bool,
}

/// Eight copies of one byte, for looking at a line eight bytes at a time.
const fn repeated(byte: u8) -> u64 {
    u64::from_le_bytes([byte; 8])
}

impl<'a> SplitLine<'a> {
    /// Splits at commas, eight bytes at a time: the fields are too short for a vectorised
    /// search to pay for its setup, and too many for a byte loop to be cheap. Whether the line
    /// is ASCII is noted in the same pass.
    fn new(line: &'a [u8]) -> SplitLine<'a> {
        let mut split = SplitLine {
            fields: [&[]; MAX_FIELDS],
            count: 0,
            ascii: true,
        };
        let mut high_bits = 0;
        let mut start = 0;
        let mut words = line.chunks_exact(8);
        let mut word_start = 0;
        for word in words.by_ref() {
            let word = u64::from_le_bytes(word.try_into().expect("8 bytes"));
            high_bits |= word;
            let mut commas = comma_bits(word);
            while commas != 0 {
                let comma = word_start + (commas.trailing_zeros() / 8) as usize;
                split.push(&line[start..comma]);
                start = comma + 1;
                commas &= commas - 1;
            }
            word_start += 8;
        }
        for (offset, &byte) in words.remainder().iter().enumerate() {
            high_bits |= u64::from(byte);
            if byte == b',' {
                let comma = word_start + offset;
                split.push(&line[start..comma]);
                start = comma + 1;
            }
        }
        split.push(&line[start..]);
        split.ascii = high_bits & repeated(0x80) == 0;
        split
    }

    fn push(&mut self, field: &'a [u8]) {
        if self.count < MAX_FIELDS {
            self.fields[self.count] = field.trim_ascii();
        }
        self.count += 1;
    }

    fn get(&self, index: usize) -> &'a [u8] {
        self.fields[index]
    }
}

/// The high bit of each byte of `word` that is a comma, and no other bit.
fn comma_bits(word: u64) -> u64 {
    let high = repeated(0x80);
    let low = repeated(0x7f);
    let zero_where_comma = word ^ repeated(b',');
    !(((zero_where_comma & low).wrapping_add(low)) | zero_where_comma) & high
}

/// A field that the line's check already showed to be UTF-8.
fn text(field: &[u8]) -> &str {
    std::str::from_utf8(field).unwrap_or_default()
}

impl CsvReader {
    /// A reader for a later part of the same list: it knows what this one learnt from the
    /// list's start (kind, shape, header), with a cache of its own.
    pub(crate) fn continuing(&self) -> CsvReader {
        CsvReader {
            kind: self.kind,
            shape: self.shape,
            has_header: self.has_header,
            seen_content: self.seen_content,
            dates: DateCache::default(),
        }
    }

    /// Reads one line: a row, a rejection, or nothing (blank, comment, header).
    pub(crate) fn line<S: RowSink + ?Sized>(
        &mut self,
        number: u64,
        line: &[u8],
        sink: &mut Tally<'_, S>,
    ) {
        let line = line.trim_ascii();
        if line.is_empty() || line[0] == b'#' {
            return;
        }
        if self.expects_detailed_ip_rows()
            && let Some(row) = read_plain_detailed_ip_row(line, &mut self.dates)
        {
            return sink.row(row);
        }

        let fields = SplitLine::new(line);
        if !fields.ascii
            && let Err(error) = std::str::from_utf8(line)
        {
            return sink.reject(number, Field::Line, not_utf8(&error));
        }
        if !self.seen_content {
            self.seen_content = true;
            if self.read_header(&fields) {
                return;
            }
        }
        match self.read_row(&fields) {
            Ok(row) => sink.row(row),
            Err((field, reason)) => sink.reject(number, field, reason),
        }
    }

    /// Whether the list is known to be a detailed IP list, the one large enough for its rows
    /// to be worth a fast path.
    fn expects_detailed_ip_rows(&self) -> bool {
        self.kind == Some(ListKind::Ip) && self.shape == Some(ListShape::Detailed)
    }

    /// Takes the line as the header where its first field is `ip` or `domain`.
    fn read_header(&mut self, fields: &SplitLine<'_>) -> bool {
        let first = fields.get(0);
        let kind = if first.eq_ignore_ascii_case(b"ip") {
            ListKind::Ip
        } else if first.eq_ignore_ascii_case(b"domain") {
            ListKind::Domain
        } else {
            return false;
        };

        self.kind = Some(kind);
        self.shape = Some(shape_of_field_count(fields.count));
        self.has_header = true;
        tracing::debug!(%kind, shape = ?self.shape, "the list's header says what it holds");
        true
    }

    fn read_row<'a>(&mut self, fields: &SplitLine<'a>) -> Result<Row<'a>, (Field, String)> {
        if fields.count < SHORT_FIELDS {
            return Err((Field::Line, field_count_reason(fields.count, self.shape)));
        }
        let shape = *self.shape.get_or_insert_with(|| {
            let shape = shape_of_field_count(fields.count);
            tracing::debug!(?shape, "the first row says the list's shape");
            shape
        });
        let kind = *self.kind.get_or_insert_with(|| {
            let kind = kind_of_value(text(fields.get(0)));
            tracing::debug!(%kind, "the first value says the list's kind");
            kind
        });

        let indicator = parse_indicator(fields.get(0), kind).map_err(|r| (Field::Value, r))?;
        let category = parse_category_id(fields.get(1)).map_err(|r| (Field::Category, r))?;
        let score = parse_score(fields.get(2)).map_err(|r| (Field::Score, r))?;
        let mut row = Row {
            indicator,
            category: CategoryRef::Id(category),
            score,
            first_seen: None,
            last_seen: None,
            ports: Ports::default(),
        };

        if shape == ListShape::Detailed {
            if fields.count < DETAILED_FIELDS - 1 {
                return Err((Field::Line, field_count_reason(fields.count, Some(shape))));
            }
            row.first_seen = self
                .dates
                .parse(fields.get(3))
                .map_err(|r| (Field::FirstSeen, r))?;
            row.last_seen = self
                .dates
                .parse(fields.get(4))
                .map_err(|r| (Field::LastSeen, r))?;
            if fields.count > DETAILED_FIELDS - 1 {
                row.ports = Ports::from_trimmed(text(fields.get(5)));
            }
        }

        let most = match shape {
            ListShape::Detailed => DETAILED_FIELDS,
            _ => SHORT_FIELDS,
        };
        if fields.count > most {
            return Err((Field::Line, field_count_reason(fields.count, Some(shape))));
        }
        Ok(row)
    }
}

/// A detailed IP row written exactly as the published lists write their data rows, read in
/// one pass: `a.b.c.d,category,score,yyyy-mm-dd,yyyy-mm-dd,ports`, no spaces around fields,
/// ports of digits, spaces and `|`. `None` for any other line, which the general path then
/// reads (or rejects) by the same rules: this only spares the common case a second pass.
fn read_plain_detailed_ip_row<'a>(line: &'a [u8], dates: &mut DateCache) -> Option<Row<'a>> {
    let mut rest = line;
    let value = take_field(&mut rest)?;
    let category = take_field(&mut rest)?;
    let score = take_field(&mut rest)?;
    let first_seen = take_field(&mut rest)?;
    let last_seen = take_field(&mut rest)?;
    let ports = rest;
    if !ports
        .iter()
        .all(|byte| byte.is_ascii_digit() || *byte == b' ' || *byte == b'|')
    {
        return None;
    }

    let ports = std::str::from_utf8(ports).ok()?.trim_ascii();
    Some(Row {
        indicator: Indicator::Ipv4(parse_ipv4_fast(value)?),
        category: CategoryRef::Id(parse_category_id(category).ok()?),
        score: parse_score(score).ok()?,
        first_seen: Some(dates.parse(first_seen).ok()??),
        last_seen: Some(dates.parse(last_seen).ok()??),
        ports: Ports::from_trimmed(ports),
    })
}

/// The text before the next comma, moving `rest` past that comma.
fn take_field<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
    let comma = rest.iter().position(|byte| *byte == b',')?;
    let field = &rest[..comma];
    *rest = &rest[comma + 1..];
    Some(field)
}

/// A header or first row with four fields or more is a detailed list's.
fn shape_of_field_count(count: usize) -> ListShape {
    if count > SHORT_FIELDS {
        ListShape::Detailed
    } else {
        ListShape::Short
    }
}

fn field_count_reason(count: usize, shape: Option<ListShape>) -> String {
    match shape {
        Some(ListShape::Detailed) => {
            format!("{count} fields where a detailed row has {DETAILED_FIELDS}")
        }
        Some(_) => format!("{count} fields where a short row has {SHORT_FIELDS}"),
        None => format!("{count} fields where a row has at least {SHORT_FIELDS}"),
    }
}

fn not_utf8(error: &std::str::Utf8Error) -> String {
    format!(
        "invalid utf-8 at byte {} of the line (trimmed)",
        error.valid_up_to() + 1
    )
}

#[cfg(test)]
mod tests {
    use super::super::fields::quote;
    use super::*;

    #[test]
    fn fields_are_trimmed_and_counted_past_the_kept_ones() {
        let line = SplitLine::new(b" a , b,c,,");
        assert_eq!(line.count, 5);
        assert_eq!(&line.fields[..5], &[&b"a"[..], b"b", b"c", b"", b""]);

        let many = SplitLine::new(b"1,2,3,4,5,6,7,8,9,10");
        assert_eq!(many.count, 10);
        assert_eq!(many.get(7), b"8");
    }

    #[test]
    fn commas_are_found_in_every_position_of_a_word() {
        for len in 0..40 {
            for comma_at in 0..len {
                let mut line = vec![b'x'; len];
                line[comma_at] = b',';
                line.iter_mut()
                    .skip(comma_at + 3)
                    .step_by(5)
                    .for_each(|b| *b = b',');
                let want: Vec<&[u8]> = line.split(|b| *b == b',').map(<[u8]>::trim_ascii).collect();
                let got = SplitLine::new(&line);
                assert_eq!(got.count, want.len());
                let kept = want.len().min(MAX_FIELDS);
                assert_eq!(&got.fields[..kept], &want[..kept], "{line:?}");
            }
        }
    }

    #[test]
    fn the_fast_path_for_plain_detailed_ip_rows_agrees_with_the_general_one() {
        let lines: &[&[u8]] = &[
            b"192.0.2.1,16,42,2019-12-20,2019-12-31,",
            b"192.0.2.1,16,42,2019-12-20,2019-12-31,9001 9030",
            b"192.0.2.1,16,42,2019-12-20,2019-12-31,80|443",
            b"192.0.2.1,16,42,2019-12-20,2019-12-31",
            b"192.0.2.1,16,42,2019-12-20,2019-12-31,80,443",
            b"192.0.2.1,16,42,2019-12-20,2019-12-31, 80",
            b"192.0.2.1,16,42,2019-12-20,2019-12-31,80 ",
            b"192.0.2.1,16,128,2019-12-20,2019-12-31,80",
            b"192.0.2.1,x,42,2019-12-20,2019-12-31,80",
            b"192.0.2.1, 16,42,2019-12-20,2019-12-31,80",
            b"192.0.2.1,16,42,2019-02-30,2019-12-31,80",
            b"192.0.2.1,16,42,,2019-12-31,80",
            b"192.0.2.256,16,42,2019-12-20,2019-12-31,80",
            b"2001:db8::1,16,42,2019-12-20,2019-12-31,80",
            b"198.51.100.0/24,16,42,2019-12-20,2019-12-31,80",
            b"192.0.2.1,65536,42,2019-12-20,2019-12-31,80",
            b"192.0.2.1,16,42,2019-12-20,2019-12-31,8\xe90",
        ];
        for line in lines {
            let mut reader = CsvReader {
                kind: Some(ListKind::Ip),
                shape: Some(ListShape::Detailed),
                seen_content: true,
                ..CsvReader::default()
            };
            let general = reader.read_row(&SplitLine::new(line)).ok();
            let fast = read_plain_detailed_ip_row(line, &mut DateCache::default());
            if fast.is_some() {
                assert_eq!(fast, general, "{}", String::from_utf8_lossy(line));
            }
        }
        let plain = read_plain_detailed_ip_row(lines[1], &mut DateCache::default());
        assert!(plain.is_some(), "a plain row takes the fast path");
    }

    #[test]
    fn a_byte_above_ascii_anywhere_is_noticed() {
        for len in 1..20 {
            for at in 0..len {
                let mut line = vec![b'a'; len];
                assert!(SplitLine::new(&line).ascii);
                line[at] = 0xe9;
                assert!(!SplitLine::new(&line).ascii, "{len} {at}");
            }
        }
    }

    #[test]
    fn bytes_near_a_comma_are_not_taken_for_one() {
        for byte in [b'+', b'-', 0xac, 0x2d, 0x2b, 0x00, 0xff] {
            let line = [byte; 16];
            assert_eq!(SplitLine::new(&line).count, 1, "{byte:#x}");
        }
    }

    #[test]
    fn a_quote_names_the_offending_text() {
        assert_eq!(quote("x"), "`x`");
    }
}

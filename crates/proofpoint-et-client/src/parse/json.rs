//! Reading the JSON shape: `{"<indicator>": {"<category name>": "<score>", ...}, ...}`.
//!
//! This shape has no line structure, so the text is read whole; rows still go to the sink one
//! by one, and a rejection names the line where its entry's key stands.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::Tally;
use super::fields::{kind_of_value, parse_indicator, parse_score, quote, score_from_number};
use crate::reject::{Field, RowSink};
use crate::row::{CategoryRef, Indicator, ListKind, Ports, Row, Score};

/// What a JSON list said about itself.
#[derive(Debug, Default)]
pub(crate) struct JsonOutcome {
    /// From the first value, or from the header entry where no value came before it.
    pub(crate) kind: Option<ListKind>,
    /// Whether the leftover header entry was there.
    pub(crate) has_header: bool,
    pub(crate) lines: u64,
}

/// Reads a whole JSON list from `text`.
pub(crate) fn read_json<S: RowSink + ?Sized>(
    text: &[u8],
    sink: &mut Tally<'_, S>,
) -> Result<JsonOutcome, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(text);
    let mut lines = LineTracker {
        text,
        offset: 0,
        line: 1,
    };
    let mut outcome = deserializer.deserialize_map(ListVisitor {
        sink,
        lines: &mut lines,
    })?;
    deserializer.end()?;

    outcome.lines = lines.line_count();
    Ok(outcome)
}

/// Turns the position of a key in the text into its line number, counting forward.
struct LineTracker<'t> {
    text: &'t [u8],
    offset: usize,
    line: u64,
}

impl LineTracker<'_> {
    /// The line of `key` where it was borrowed from the text; otherwise that of the last key.
    fn line_of(&mut self, key: &str) -> u64 {
        let start = self.text.as_ptr() as usize;
        let at = (key.as_ptr() as usize).wrapping_sub(start);
        if at <= self.text.len() && at >= self.offset {
            self.line += memchr::memchr_iter(b'\n', &self.text[self.offset..at]).count() as u64;
            self.offset = at;
        }
        self.line
    }

    fn line_count(&self) -> u64 {
        let newlines = memchr::memchr_iter(b'\n', self.text).count() as u64;
        let unterminated = u64::from(!self.text.is_empty() && !self.text.ends_with(b"\n"));
        newlines + unterminated
    }
}

/// A JSON string, borrowed from the text where it has no escapes.
enum Text<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Text<'_> {
    fn as_str(&self) -> &str {
        match self {
            Text::Borrowed(text) => text,
            Text::Owned(text) => text,
        }
    }
}

impl<'de> de::Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Text<'de>, E> {
        Ok(Text::Borrowed(text))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Text<'de>, E> {
        Ok(Text::Owned(text.to_owned()))
    }
}

/// The whole list: one entry per indicator.
struct ListVisitor<'s, 'l, 't, 'k, S: ?Sized> {
    sink: &'s mut Tally<'k, S>,
    lines: &'l mut LineTracker<'t>,
}

impl<'de, S: RowSink + ?Sized> Visitor<'de> for ListVisitor<'_, '_, '_, '_, S> {
    type Value = JsonOutcome;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of indicators")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<JsonOutcome, A::Error> {
        let mut outcome = JsonOutcome::default();
        while let Some(key) = entries.next_key::<Text<'de>>()? {
            let line = self.lines.line_of(key.as_str());
            let value = key.as_str().trim_ascii();

            if let Some(header_kind) = header_kind(value) {
                let kind_word = header_kind.header_word();
                tracing::debug!(line, kind_word, "skipped the list's leftover header entry");
                outcome.kind.get_or_insert(header_kind);
                outcome.has_header = true;
                entries.next_value::<IgnoredAny>()?;
                continue;
            }

            let list_kind = *outcome.kind.get_or_insert_with(|| kind_of_value(value));
            let indicator = parse_indicator(value.as_bytes(), list_kind);
            let entry = EntrySeed {
                sink: &mut *self.sink,
                line,
                indicator,
            };
            entries.next_value_seed(entry)?;
        }
        Ok(outcome)
    }
}

/// The leftover header entry's kind where `key` is `ip` or `domain`.
fn header_kind(key: &str) -> Option<ListKind> {
    if key.eq_ignore_ascii_case("ip") {
        Some(ListKind::Ip)
    } else if key.eq_ignore_ascii_case("domain") {
        Some(ListKind::Domain)
    } else {
        None
    }
}

/// One entry: the categories and scores of one indicator.
struct EntrySeed<'s, 'k, 'i, S: ?Sized> {
    sink: &'s mut Tally<'k, S>,
    line: u64,
    indicator: Result<Indicator<'i>, String>,
}

impl<'de, S: RowSink + ?Sized> DeserializeSeed<'de> for EntrySeed<'_, '_, '_, S> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<S: RowSink + ?Sized> EntrySeed<'_, '_, '_, S> {
    fn not_an_object<E>(self, what: &str) -> Result<(), E> {
        let reason = format!("the entry holds {what}, not an object of categories");
        self.sink.reject(self.line, Field::Line, reason);
        Ok(())
    }
}

impl<'de, S: RowSink + ?Sized> Visitor<'de> for EntrySeed<'_, '_, '_, S> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of category names and scores")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut pairs: A) -> Result<(), A::Error> {
        let indicator = match self.indicator {
            Ok(indicator) => indicator,
            Err(reason) => {
                self.sink.reject(self.line, Field::Value, reason);
                while pairs.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                return Ok(());
            }
        };

        while let Some(name) = pairs.next_key::<Text<'de>>()? {
            let score = pairs.next_value::<ScoreValue>()?.0;
            let name = name.as_str().trim_ascii();
            if name.is_empty() {
                self.sink.reject(
                    self.line,
                    Field::Category,
                    "the category name is empty".into(),
                );
                continue;
            }
            match score {
                Ok(score) => self.sink.row(Row {
                    indicator,
                    category: CategoryRef::Name(name),
                    score,
                    first_seen: None,
                    last_seen: None,
                    ports: Ports::default(),
                }),
                Err(reason) => self.sink.reject(self.line, Field::Score, reason),
            }
        }
        Ok(())
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut items: A) -> Result<(), A::Error> {
        while items.next_element::<IgnoredAny>()?.is_some() {}
        self.not_an_object("an array")
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.not_an_object("a string")
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.not_an_object("a number")
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.not_an_object("a number")
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.not_an_object("a number")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.not_an_object("a boolean")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.not_an_object("null")
    }
}

/// A score as the JSON lists write it (a string), or as a number.
struct ScoreValue(Result<Score, String>);

impl<'de> de::Deserialize<'de> for ScoreValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ScoreVisitor)
    }
}

struct ScoreVisitor;

impl<'de> Visitor<'de> for ScoreVisitor {
    type Value = ScoreValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a score")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<ScoreValue, E> {
        Ok(ScoreValue(parse_score(text.trim_ascii().as_bytes())))
    }

    fn visit_u64<E: de::Error>(self, number: u64) -> Result<ScoreValue, E> {
        Ok(ScoreValue(score_from_number(number)))
    }

    fn visit_i64<E: de::Error>(self, number: i64) -> Result<ScoreValue, E> {
        Ok(ScoreValue(Err(format!("score {number} is below 0"))))
    }

    fn visit_f64<E: de::Error>(self, number: f64) -> Result<ScoreValue, E> {
        Ok(ScoreValue(Err(format!(
            "score {number} is not a whole number"
        ))))
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<ScoreValue, E> {
        Ok(ScoreValue(Err(format!(
            "{} is not a score",
            quote(&value.to_string())
        ))))
    }

    fn visit_unit<E: de::Error>(self) -> Result<ScoreValue, E> {
        Ok(ScoreValue(Err("the score is null".to_owned())))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut pairs: A) -> Result<ScoreValue, A::Error> {
        while pairs.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(ScoreValue(Err("the score is an object".to_owned())))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut items: A) -> Result<ScoreValue, A::Error> {
        while items.next_element::<IgnoredAny>()?.is_some() {}
        Ok(ScoreValue(Err("the score is an array".to_owned())))
    }
}

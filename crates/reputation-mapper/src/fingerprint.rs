//! Fingerprints: a 64-bit hash of exactly what ThreatConnect stores for an indicator, so that
//! an indicator is sent again only when one of those things changed.
//!
//! # The canonical form, version 1
//!
//! The fingerprint is XXH3-64 with seed 0 over the UTF-8 bytes of this text. Both the hash and
//! the form are fixed: a change to either would make every indicator look changed once, so it
//! needs a new version line and a note in the release.
//!
//! - The first line is `et-rep canonical v1`.
//! - Then one line per stored field, in this order, each ending in LF, its parts separated by
//!   one TAB: `active`, `rating`, `confidence`, `firstSeen`, `lastSeen` (each `name<TAB>value`,
//!   the line left out where the field is absent; dates as `YYYY-MM-DDTHH:MM:SSZ`), then
//!   `attribute<TAB>type<TAB>value<TAB>displayed` per attribute sorted by type, value and
//!   `displayed` (`false` before `true`), then `tag<TAB>name` per distinct tag sorted by name,
//!   then `securityLabel<TAB>name` per distinct label sorted by name. Sorting compares bytes.
//! - In any text, `\` is written `\\`, TAB `\t`, LF `\n` and CR `\r`.
//!
//! The type, the value (`summary`) and the `xid` are the indicator's identity, not its content:
//! a state store keys its entries by them (and belongs to one owner), so they are left out.
//!
//! For example (`→` stands for the TAB):
//!
//! ```text
//! et-rep canonical v1
//! active → true
//! rating → 5
//! confidence → 50
//! firstSeen → 2018-01-15T00:00:00Z
//! lastSeen → 2020-01-22T00:00:00Z
//! attribute → External Score → 122 → true
//! attribute → First Seen → 2018-01-15 → true
//! attribute → Last Seen → 2020-01-22 → true
//! tag → Brute_Forcer
//! tag → Proxy
//! tag → TorNode
//! ```

use chrono::NaiveDate;
use threatconnect_client::BatchIndicator;
use threatconnect_client::document::DATE_FORMAT;

use crate::normalize::{push_date, push_decimal};

/// The first line of the canonical form.
pub const CANONICAL_VERSION_LINE: &str = "et-rep canonical v1";

/// The fingerprint of a canonical form.
pub(crate) fn hash_canonical(canonical: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(canonical.as_bytes())
}

/// The canonical form of what ThreatConnect stores for `indicator` (see the
/// [module docs](self)).
pub fn canonical_form(indicator: &BatchIndicator) -> String {
    let mut out = String::new();
    write_header(&mut out);

    if let Some(active) = indicator.active {
        write_line(&mut out, &["active", bool_text(active)]);
    }
    if let Some(rating) = indicator.rating {
        write_number_line(&mut out, "rating", u32::from(rating.get()));
    }
    if let Some(confidence) = indicator.confidence {
        write_number_line(&mut out, "confidence", u32::from(confidence.get()));
    }
    for (name, date) in [
        ("firstSeen", indicator.first_seen),
        ("lastSeen", indicator.last_seen),
    ] {
        if let Some(date) = date {
            write_line(&mut out, &[name, &date.format(DATE_FORMAT).to_string()]);
        }
    }

    let mut attributes: Vec<_> = indicator.attribute.iter().collect();
    attributes
        .sort_by(|a, b| (&a.kind, &a.value, a.displayed).cmp(&(&b.kind, &b.value, b.displayed)));
    for attribute in attributes {
        let displayed = bool_text(attribute.displayed);
        write_line(
            &mut out,
            &["attribute", &attribute.kind, &attribute.value, displayed],
        );
    }

    let tags = sorted_distinct(indicator.tag.iter().map(|tag| tag.name.as_str()));
    for tag in tags {
        write_line(&mut out, &["tag", tag]);
    }
    let labels = sorted_distinct(
        indicator
            .security_label
            .iter()
            .map(|label| label.name.as_str()),
    );
    for label in labels {
        write_line(&mut out, &["securityLabel", label]);
    }
    out
}

/// The fingerprint of `indicator`: XXH3-64 (seed 0) of its [canonical form](canonical_form).
pub fn fingerprint(indicator: &BatchIndicator) -> u64 {
    hash_canonical(&canonical_form(indicator))
}

fn sorted_distinct<'a>(names: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut names: Vec<&str> = names.collect();
    names.sort_unstable();
    names.dedup();
    names
}

fn bool_text(value: bool) -> &'static str {
    if value { "true" } else { "false" }
}

pub(crate) fn write_header(out: &mut String) {
    out.push_str(CANONICAL_VERSION_LINE);
    out.push('\n');
}

/// One line: the parts escaped and separated by TAB, then LF.
pub(crate) fn write_line(out: &mut String, parts: &[&str]) {
    for (index, part) in parts.iter().enumerate() {
        if index > 0 {
            out.push('\t');
        }
        push_escaped(out, part);
    }
    out.push('\n');
}

pub(crate) fn write_number_line(out: &mut String, name: &str, value: u32) {
    out.push_str(name);
    out.push('\t');
    push_decimal(out, value);
    out.push('\n');
}

/// A `firstSeen`/`lastSeen` line for a date at midnight UTC, as documents carry them.
pub(crate) fn write_midnight_line(out: &mut String, name: &str, date: NaiveDate) {
    out.push_str(name);
    out.push('\t');
    push_date(out, date);
    out.push_str("T00:00:00Z\n");
}

fn push_escaped(out: &mut String, text: &str) {
    if !text
        .bytes()
        .any(|b| matches!(b, b'\\' | b'\t' | b'\n' | b'\r'))
    {
        out.push_str(text);
        return;
    }
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keeps_lines_apart() {
        let mut out = String::new();
        write_line(&mut out, &["tag", "a\tb\nc\\d\re"]);
        assert_eq!(out, "tag\ta\\tb\\nc\\\\d\\re\n");
    }

    #[test]
    fn midnight_lines_match_the_document_date_format() {
        let date: NaiveDate = "2020-01-22".parse().unwrap();
        let mut fast = String::new();
        write_midnight_line(&mut fast, "lastSeen", date);

        let stamp = date.and_hms_opt(0, 0, 0).unwrap().and_utc();
        let mut slow = String::new();
        write_line(
            &mut slow,
            &["lastSeen", &stamp.format(DATE_FORMAT).to_string()],
        );
        assert_eq!(fast, slow);
    }
}

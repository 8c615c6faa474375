//! Reading the fields of a row: indicator values, category IDs, scores and dates.
//!
//! Each function takes the field's text, already trimmed, and gives the typed value or the
//! reason it could not, as a lowercase phrase that quotes the text.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use chrono::NaiveDate;

use crate::row::{CidrBlock, Indicator, ListKind, Score};

/// The longest quote of offending text a reason carries.
const QUOTE_LIMIT: usize = 60;

/// `text` in backquotes, shortened where long, for a rejection's reason.
pub(crate) fn quote(text: &str) -> String {
    if text.len() <= QUOTE_LIMIT {
        return format!("`{text}`");
    }
    let mut end = QUOTE_LIMIT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("`{}...`", &text[..end])
}

/// A field in backquotes, for a field that is known to be UTF-8.
fn quote_bytes(field: &[u8]) -> String {
    quote(std::str::from_utf8(field).unwrap_or_default())
}

/// The kind of list a value belongs to, for a list whose header did not say.
pub(crate) fn kind_of_value(text: &str) -> ListKind {
    match parse_ip_value(text) {
        Ok(_) => ListKind::Ip,
        Err(_) => ListKind::Domain,
    }
}

/// An indicator of a list of `kind`, from a field that is known to be UTF-8.
pub(crate) fn parse_indicator(field: &[u8], kind: ListKind) -> Result<Indicator<'_>, String> {
    if kind == ListKind::Ip
        && let Some(addr) = parse_ipv4_fast(field)
    {
        return Ok(Indicator::Ipv4(addr));
    }
    let text = std::str::from_utf8(field).unwrap_or_default();
    match kind {
        ListKind::Ip => parse_ip_value(text),
        ListKind::Domain => parse_domain_value(text),
    }
}

/// An IPv4 address in dotted-quad form, read straight from bytes: the common case of an IP
/// list, kept off the general parser for speed. `None` for anything else (leading zeros
/// included, as the standard parser refuses them too).
pub(crate) fn parse_ipv4_fast(bytes: &[u8]) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut index = 0;
    let mut value: u32 = 0;
    let mut digits = 0;
    for &byte in bytes {
        match byte {
            b'0'..=b'9' => {
                if digits == 3 || (digits == 1 && value == 0) {
                    return None;
                }
                value = value * 10 + u32::from(byte - b'0');
                digits += 1;
            }
            b'.' if digits > 0 && index < 3 => {
                octets[index] = u8::try_from(value).ok()?;
                index += 1;
                value = 0;
                digits = 0;
            }
            _ => return None,
        }
    }
    if index != 3 || digits == 0 {
        return None;
    }
    octets[3] = u8::try_from(value).ok()?;
    Some(Ipv4Addr::from(octets))
}

/// An IPv4 or IPv6 address, or a CIDR block of either.
pub(crate) fn parse_ip_value(text: &str) -> Result<Indicator<'_>, String> {
    if let Some(addr) = parse_ipv4_fast(text.as_bytes()) {
        return Ok(Indicator::Ipv4(addr));
    }
    if let Some((addr, prefix)) = text.split_once('/') {
        return parse_cidr(addr, prefix).map(Indicator::Cidr);
    }
    if text.contains(':') {
        return text
            .parse::<Ipv6Addr>()
            .map(Indicator::Ipv6)
            .map_err(|_| format!("{} is not an ipv6 address", quote(text)));
    }
    text.parse::<Ipv4Addr>()
        .map(Indicator::Ipv4)
        .map_err(|_| format!("{} is not an ip address or cidr block", quote(text)))
}

fn parse_cidr(addr: &str, prefix: &str) -> Result<CidrBlock, String> {
    let whole = || format!("{addr}/{prefix}");
    let addr: IpAddr = addr
        .parse()
        .map_err(|_| format!("{} is not a cidr block", quote(&whole())))?;
    let longest = if addr.is_ipv4() { 32 } else { 128 };
    match prefix.parse::<u8>() {
        Ok(prefix) if prefix <= longest => Ok(CidrBlock { addr, prefix }),
        _ => Err(format!(
            "{} has no prefix length from 0 to {longest}",
            quote(&whole())
        )),
    }
}

/// A domain name or a wildcard pattern.
///
/// Letters, digits, `-`, `_`, `.` and `*` are allowed, and any non-ASCII character (an
/// internationalised name, converted by the mapper). Case is kept as written.
pub(crate) fn parse_domain_value(text: &str) -> Result<Indicator<'_>, String> {
    if text.is_empty() {
        return Err("the domain name is empty".to_owned());
    }

    let mut only_digits_and_dots = true;
    let mut has_wildcard = false;
    for byte in text.bytes() {
        match byte {
            b'0'..=b'9' | b'.' => {}
            b'a'..=b'z' | b'A'..=b'Z' | b'-' | b'_' | 0x80.. => only_digits_and_dots = false,
            b'*' => {
                only_digits_and_dots = false;
                has_wildcard = true;
            }
            _ => return Err(format!("{} is not a domain name", quote(text))),
        }
    }

    if only_digits_and_dots {
        return Err(format!(
            "{} is an ip address or a number, not a domain name",
            quote(text)
        ));
    }
    if has_wildcard {
        return Ok(Indicator::Wildcard(text));
    }
    Ok(Indicator::Domain(text))
}

/// A numeric category ID.
pub(crate) fn parse_category_id(field: &[u8]) -> Result<u16, String> {
    parse_digits(field)
        .and_then(|id| u16::try_from(id).ok())
        .ok_or_else(|| format!("{} is not a category id", quote_bytes(field)))
}

/// A score from 0 to 127.
pub(crate) fn parse_score(field: &[u8]) -> Result<Score, String> {
    let Some(number) = parse_digits(field) else {
        return Err(format!("{} is not a score", quote_bytes(field)));
    };
    u8::try_from(number)
        .ok()
        .and_then(Score::new)
        .ok_or_else(|| format!("score {number} is above {}", Score::MAX))
}

/// A score given as a JSON number.
pub(crate) fn score_from_number(number: u64) -> Result<Score, String> {
    u8::try_from(number)
        .ok()
        .and_then(Score::new)
        .ok_or_else(|| format!("score {number} is above {}", Score::MAX))
}

/// A date written `YYYY-MM-DD`; an empty field is no date.
pub(crate) fn parse_date(field: &[u8]) -> Result<Option<NaiveDate>, String> {
    if field.is_empty() {
        return Ok(None);
    }
    read_iso_date(field)
        .map(Some)
        .ok_or_else(|| format!("{} is not a date (yyyy-mm-dd)", quote_bytes(field)))
}

fn read_iso_date(bytes: &[u8]) -> Option<NaiveDate> {
    let (year, month, day) = read_iso_date_parts(bytes)?;
    NaiveDate::from_ymd_opt(year as i32, month, day)
}

fn read_iso_date_parts(bytes: &[u8]) -> Option<(u32, u32, u32)> {
    let [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1] = *bytes else {
        return None;
    };
    let year = digits_value(&[y0, y1, y2, y3])?;
    let month = digits_value(&[m0, m1])?;
    let day = digits_value(&[d0, d1])?;
    Some((year, month, day))
}

/// Slots of the date cache: a power of two, covering four years of days without collisions.
const DATE_SLOTS: usize = 2048;

/// Dates already built, by their text: a list has a few hundred distinct dates over millions
/// of rows, and building a date costs more than looking one up.
#[derive(Debug)]
pub(crate) struct DateCache {
    /// `(year << 9 | month << 5 | day, date)`; a key of 0 is an empty slot.
    slots: Box<[(u32, Option<NaiveDate>)]>,
}

impl Default for DateCache {
    fn default() -> Self {
        DateCache {
            slots: vec![(0, None); DATE_SLOTS].into_boxed_slice(),
        }
    }
}

impl DateCache {
    /// A date written `YYYY-MM-DD`, as [`parse_date`] reads it.
    pub(crate) fn parse(&mut self, field: &[u8]) -> Result<Option<NaiveDate>, String> {
        let Some((year, month, day)) = read_iso_date_parts(field) else {
            return parse_date(field);
        };
        let key = (year << 9) | (month << 5) | day;
        let slot = &mut self.slots[key as usize % DATE_SLOTS];
        if slot.0 == key
            && let Some(date) = slot.1
        {
            return Ok(Some(date));
        }
        let date = parse_date(field)?;
        *slot = (key, date);
        Ok(date)
    }
}

fn digits_value(digits: &[u8]) -> Option<u32> {
    digits.iter().try_fold(0u32, |value, &byte| {
        byte.is_ascii_digit()
            .then(|| value * 10 + u32::from(byte - b'0'))
    })
}

/// A number of at most nine ASCII digits (so that it cannot overflow), or `None`.
fn parse_digits(text: &[u8]) -> Option<u32> {
    if text.is_empty() || text.len() > 9 {
        return None;
    }
    digits_value(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_values_of_each_form_are_read() {
        assert_eq!(
            parse_ip_value("192.0.2.1"),
            Ok(Indicator::Ipv4(Ipv4Addr::new(192, 0, 2, 1)))
        );
        assert_eq!(
            parse_ip_value("2001:db8::1"),
            Ok(Indicator::Ipv6("2001:db8::1".parse().unwrap()))
        );
        let block = CidrBlock {
            addr: "198.51.100.0".parse().unwrap(),
            prefix: 24,
        };
        assert_eq!(
            parse_ip_value("198.51.100.0/24"),
            Ok(Indicator::Cidr(block))
        );
        assert!(parse_ip_value("2001:db8::/32").is_ok());
    }

    #[test]
    fn the_fast_ipv4_reader_agrees_with_the_standard_one() {
        let cases = [
            "192.0.2.1",
            "0.0.0.0",
            "255.255.255.255",
            "256.1.1.1",
            "01.2.3.4",
            "1.2.3",
            "1.2.3.4.5",
            "1..2.3",
            ".1.2.3",
            "1.2.3.",
            "1.2.3.4 ",
            "1234.1.1.1",
            "10.0.0.00",
            "",
            "a.b.c.d",
        ];
        for case in cases {
            assert_eq!(
                parse_ipv4_fast(case.as_bytes()),
                case.parse().ok(),
                "{case:?}"
            );
        }
    }

    #[test]
    fn bad_ip_values_are_refused_with_the_text_quoted() {
        assert_eq!(
            parse_ip_value("192.0.2.300").unwrap_err(),
            "`192.0.2.300` is not an ip address or cidr block"
        );
        assert!(
            parse_ip_value("192.0.2.0/33")
                .unwrap_err()
                .contains("prefix length")
        );
        assert!(parse_ip_value("alpha.example").is_err());
    }

    #[test]
    fn domains_and_wildcards_are_told_apart() {
        assert_eq!(
            parse_domain_value("Alpha.Example"),
            Ok(Indicator::Domain("Alpha.Example"))
        );
        assert_eq!(
            parse_domain_value("*.example"),
            Ok(Indicator::Wildcard("*.example"))
        );
        assert_eq!(
            parse_domain_value("a*b.example"),
            Ok(Indicator::Wildcard("a*b.example"))
        );
        assert!(parse_domain_value("bad name.example").is_err());
        assert!(parse_domain_value("192.0.2.1").is_err());
        assert!(parse_domain_value("").is_err());
    }

    #[test]
    fn scores_above_127_are_refused() {
        assert_eq!(parse_score(b"127").map(Score::get), Ok(127));
        assert_eq!(parse_score(b"0").map(Score::get), Ok(0));
        assert_eq!(parse_score(b"128").unwrap_err(), "score 128 is above 127");
        assert!(parse_score(b"-1").is_err());
        assert!(parse_score(b"12345678901").is_err());
    }

    #[test]
    fn dates_are_strict_but_may_be_empty() {
        assert_eq!(parse_date(b""), Ok(None));
        assert_eq!(
            parse_date(b"2020-01-22"),
            Ok(NaiveDate::from_ymd_opt(2020, 1, 22))
        );
        assert!(parse_date(b"2020-02-30").is_err());
        assert!(parse_date(b"2020-1-22").is_err());
    }

    #[test]
    fn cached_dates_are_the_dates_and_bad_ones_stay_bad() {
        let mut cache = DateCache::default();
        for _ in 0..2 {
            for text in ["2020-01-22", "2024-01-22", "2020-02-29", "2019-12-31"] {
                assert_eq!(
                    cache.parse(text.as_bytes()),
                    parse_date(text.as_bytes()),
                    "{text}"
                );
            }
            assert!(cache.parse(b"2019-02-29").is_err());
            assert!(cache.parse(b"2019-02-3x").is_err());
            assert_eq!(cache.parse(b""), Ok(None));
        }
    }

    #[test]
    fn long_quotes_are_shortened_on_a_character_boundary() {
        let long = "é".repeat(40);
        let quoted = quote(&long);
        assert!(quoted.ends_with("...`"));
        assert!(quoted.len() < long.len());
    }
}

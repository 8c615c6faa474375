//! The one form of each value that ThreatConnect stores (REFERENCE §2), and the writers that
//! produce it without going through `fmt` for every value.
//!
//! - IPv4: a plain dotted quad.
//! - IPv6: eight groups, each in lower-case hex without leading zeros, never `::`.
//! - CIDR: the network address (host bits cleared) in the form above, `/`, the prefix.
//! - Host: lower case, no trailing dot, internationalised labels as punycode.

use std::borrow::Cow;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use idna::AsciiDenyList;

/// The longest label DNS allows.
const MAX_LABEL_LEN: usize = 63;

/// The longest name DNS allows, without the trailing dot.
const MAX_HOST_LEN: usize = 253;

/// Why a domain name cannot be a Host value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HostError {
    /// Nothing is left once the trailing dot is gone.
    Empty,
    /// IDNA processing refused the name: a label could not be converted to punycode, or
    /// punycode in it does not decode.
    Idna,
    /// Two dots in a row, or a leading dot.
    EmptyLabel,
    /// A label longer than 63 characters.
    LabelTooLong,
    /// A name longer than 253 characters.
    TooLong,
    /// A character no host name holds.
    Character(char),
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostError::Empty => f.write_str("the name is empty"),
            HostError::Idna => f.write_str("a label cannot be converted to punycode"),
            HostError::EmptyLabel => f.write_str("the name has an empty label"),
            HostError::LabelTooLong => f.write_str("a label is longer than 63 characters"),
            HostError::TooLong => f.write_str("the name is longer than 253 characters"),
            HostError::Character(c) => write!(f, "the character {c:?} is not allowed"),
        }
    }
}

/// The Host form of a domain name: lower case, no trailing dot, punycode.
///
/// Borrows where the name is already in that form, which is the common case, so that a row
/// whose value was seen before costs no allocation.
pub(crate) fn normalize_host(name: &str) -> Result<Cow<'_, str>, HostError> {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() {
        return Err(HostError::Empty);
    }

    let ascii = idna::domain_to_ascii_cow(name.as_bytes(), AsciiDenyList::URL)
        .map_err(|_| HostError::Idna)?;
    check_host_form(&ascii)?;
    Ok(ascii)
}

/// Checks what IDNA processing leaves to the caller: labels, lengths and characters.
fn check_host_form(ascii: &str) -> Result<(), HostError> {
    if ascii.is_empty() {
        return Err(HostError::Empty);
    }
    if ascii.len() > MAX_HOST_LEN {
        return Err(HostError::TooLong);
    }
    for label in ascii.split('.') {
        if label.is_empty() {
            return Err(HostError::EmptyLabel);
        }
        if label.len() > MAX_LABEL_LEN {
            return Err(HostError::LabelTooLong);
        }
        // Underscores occur in real names (and ThreatConnect may refuse them, which the feed
        // reports); anything else outside letters, digits and hyphens is not a host name.
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '_'))
        {
            return Err(HostError::Character(c));
        }
    }
    Ok(())
}

/// An address as ThreatConnect stores it. An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`)
/// is the IPv4 address it maps, so that two spellings of one address are one indicator.
pub(crate) fn canonical_ip(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        IpAddr::V4(_) => addr,
    }
}

/// A small text assembled on the stack, so that a value costs one `push_str`.
struct StackText<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> StackText<N> {
    fn new() -> Self {
        StackText {
            bytes: [0; N],
            len: 0,
        }
    }

    fn push(&mut self, byte: u8) {
        self.bytes[self.len] = byte;
        self.len += 1;
    }

    fn push_decimal(&mut self, value: u32) {
        let mut digits = [0u8; 10];
        let mut start = digits.len();
        let mut rest = value;
        loop {
            start -= 1;
            digits[start] = b'0' + (rest % 10) as u8;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        for &digit in &digits[start..] {
            self.push(digit);
        }
    }

    fn push_padded(&mut self, value: u32, width: u32) {
        let mut divisor = 10u32.pow(width - 1);
        while divisor > 0 {
            self.push(b'0' + ((value / divisor) % 10) as u8);
            divisor /= 10;
        }
    }

    /// A 16-bit group in lower-case hex without leading zeros.
    fn push_hex(&mut self, group: u16) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut started = false;
        for shift in [12u32, 8, 4, 0] {
            let nibble = usize::from((group >> shift) & 0xf);
            if nibble != 0 || started || shift == 0 {
                self.push(HEX[nibble]);
                started = true;
            }
        }
    }

    fn append_to(&self, out: &mut String) {
        // Only ASCII digits, letters and separators were pushed.
        out.push_str(std::str::from_utf8(&self.bytes[..self.len]).expect("ASCII"));
    }
}

/// Appends an IPv4 address as a dotted quad.
pub(crate) fn push_ipv4(out: &mut String, addr: Ipv4Addr) {
    let mut text = StackText::<15>::new();
    for (index, octet) in addr.octets().into_iter().enumerate() {
        if index > 0 {
            text.push(b'.');
        }
        text.push_decimal(u32::from(octet));
    }
    text.append_to(out);
}

/// Appends an IPv6 address written out in full: eight groups, no leading zeros, no `::`.
pub(crate) fn push_ipv6(out: &mut String, addr: Ipv6Addr) {
    let mut text = StackText::<39>::new();
    for (index, group) in addr.segments().into_iter().enumerate() {
        if index > 0 {
            text.push(b':');
        }
        text.push_hex(group);
    }
    text.append_to(out);
}

/// Appends an address in its stored form.
pub(crate) fn push_ip(out: &mut String, addr: IpAddr) {
    match addr {
        IpAddr::V4(v4) => push_ipv4(out, v4),
        IpAddr::V6(v6) => push_ipv6(out, v6),
    }
}

/// A CIDR block with its host bits cleared, or `None` where the prefix is too long for the
/// address family.
pub(crate) fn network(addr: IpAddr, prefix: u8) -> Option<IpAddr> {
    match addr {
        IpAddr::V4(v4) if prefix <= 32 => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            Some(IpAddr::V4(Ipv4Addr::from(u32::from(v4) & mask)))
        }
        IpAddr::V6(v6) if prefix <= 128 => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            Some(IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask)))
        }
        _ => None,
    }
}

/// Appends a CIDR block in its stored form; `network` is already cleared of host bits.
pub(crate) fn push_cidr(out: &mut String, network: IpAddr, prefix: u8) {
    push_ip(out, network);
    out.push('/');
    push_decimal(out, u32::from(prefix));
}

/// Appends a number in decimal.
pub(crate) fn push_decimal(out: &mut String, value: u32) {
    let mut text = StackText::<10>::new();
    text.push_decimal(value);
    text.append_to(out);
}

/// Appends a date as `YYYY-MM-DD`.
pub(crate) fn push_date(out: &mut String, date: chrono::NaiveDate) {
    use chrono::Datelike;

    let year = date.year();
    if !(0..=9999).contains(&year) {
        // Outside four digits chrono's own form (with a sign) is as good as any.
        out.push_str(&date.format("%Y-%m-%d").to_string());
        return;
    }
    let mut text = StackText::<10>::new();
    text.push_padded(year as u32, 4);
    text.push(b'-');
    text.push_padded(date.month(), 2);
    text.push(b'-');
    text.push_padded(date.day(), 2);
    text.append_to(out);
}

/// Appends bytes as lower-case hex.
pub(crate) fn push_hex_bytes(out: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(bytes.len() * 2);
    for &byte in bytes {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip_text(text: &str) -> String {
        let mut out = String::new();
        push_ip(&mut out, canonical_ip(text.parse().unwrap()));
        out
    }

    #[test]
    fn ipv6_is_written_out_in_full_without_leading_zeros() {
        assert_eq!(ip_text("2001:0db8::1000"), "2001:db8:0:0:0:0:0:1000");
        assert_eq!(
            ip_text("2000:0000:0000:0000:0000:0000:0000:0001"),
            "2000:0:0:0:0:0:0:1"
        );
        assert_eq!(ip_text("4000::1"), "4000:0:0:0:0:0:0:1");
        assert_eq!(ip_text("::"), "0:0:0:0:0:0:0:0");
        assert_eq!(ip_text("FFFF:ABCD::"), "ffff:abcd:0:0:0:0:0:0");
    }

    #[test]
    fn ipv4_is_a_plain_dotted_quad() {
        assert_eq!(ip_text("198.51.100.7"), "198.51.100.7");
        assert_eq!(ip_text("0.0.0.0"), "0.0.0.0");
        assert_eq!(ip_text("255.255.255.255"), "255.255.255.255");
    }

    #[test]
    fn ipv4_mapped_ipv6_is_the_ipv4_address() {
        assert_eq!(ip_text("::ffff:192.0.2.1"), "192.0.2.1");
    }

    #[test]
    fn cidr_clears_host_bits_and_writes_ipv6_in_full() {
        let mut out = String::new();
        let net = network("198.51.100.7".parse().unwrap(), 24).unwrap();
        push_cidr(&mut out, net, 24);
        assert_eq!(out, "198.51.100.0/24");

        out.clear();
        let net = network("abc:def:10::1".parse().unwrap(), 48).unwrap();
        push_cidr(&mut out, net, 48);
        assert_eq!(out, "abc:def:10:0:0:0:0:0/48");

        assert_eq!(
            network("192.0.2.1".parse().unwrap(), 0),
            Some("0.0.0.0".parse().unwrap())
        );
        assert_eq!(network("192.0.2.1".parse().unwrap(), 33), None);
        assert_eq!(network("2001:db8::".parse().unwrap(), 129), None);
    }

    #[test]
    fn host_is_lower_case_without_trailing_dot() {
        assert_eq!(normalize_host("Alpha.Example.").unwrap(), "alpha.example");
        assert_eq!(
            normalize_host("dl_update.example.net").unwrap(),
            "dl_update.example.net"
        );
    }

    #[test]
    fn host_in_normal_form_is_borrowed() {
        assert!(matches!(
            normalize_host("plain.example").unwrap(),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn internationalised_host_becomes_punycode() {
        assert_eq!(
            normalize_host("bücher.example").unwrap(),
            "xn--bcher-kva.example"
        );
        assert_eq!(
            normalize_host("BÜCHER.example.").unwrap(),
            "xn--bcher-kva.example"
        );
        assert_eq!(
            normalize_host("xn--bcher-kva.example").unwrap(),
            "xn--bcher-kva.example"
        );
    }

    #[test]
    fn host_that_cannot_be_punycode_is_refused() {
        assert_eq!(normalize_host("xn--a.example"), Err(HostError::Idna));
        assert_eq!(normalize_host("a b.example"), Err(HostError::Idna));
    }

    #[test]
    fn host_forms_dns_cannot_hold_are_refused() {
        assert_eq!(normalize_host("."), Err(HostError::Empty));
        assert_eq!(normalize_host("a..example"), Err(HostError::EmptyLabel));
        assert_eq!(
            normalize_host(&"a".repeat(64)),
            Err(HostError::LabelTooLong)
        );
        let long = ["abcdefghij"; 26].join(".");
        assert_eq!(normalize_host(&long), Err(HostError::TooLong));
        assert_eq!(
            normalize_host("bad!name.example"),
            Err(HostError::Character('!'))
        );
    }

    #[test]
    fn dates_are_iso() {
        let mut out = String::new();
        push_date(
            &mut out,
            chrono::NaiveDate::from_ymd_opt(2018, 1, 5).unwrap(),
        );
        assert_eq!(out, "2018-01-05");
    }

    #[test]
    fn dates_outside_four_digit_years_keep_chrono_form() {
        let mut out = String::new();
        push_date(
            &mut out,
            chrono::NaiveDate::from_ymd_opt(-1, 12, 31).unwrap(),
        );
        assert_eq!(out, "-0001-12-31");
    }

    #[test]
    fn hex_bytes() {
        let mut out = String::new();
        push_hex_bytes(&mut out, &[0x00, 0x0f, 0xa5, 0xff]);
        assert_eq!(out, "000fa5ff");
    }

    #[test]
    fn decimals() {
        let mut out = String::new();
        for value in [0, 7, 10, 127, 4_294_967_295] {
            out.clear();
            push_decimal(&mut out, value);
            assert_eq!(out, value.to_string());
        }
    }
}

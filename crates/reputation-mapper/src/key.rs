//! What identifies an indicator: its type and its value in normal form.

use std::borrow::Borrow;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use threatconnect_client::IndicatorType;

use crate::error::Error;
use crate::normalize;

/// The indicator types this feed writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum IndicatorKind {
    /// An IP address, from an IP list.
    Address,
    /// A host name, from a domain list.
    Host,
    /// A CIDR block, from an IP list, only where the operator turned them on.
    #[serde(rename = "CIDR")]
    Cidr,
}

impl IndicatorKind {
    /// Every kind, in the order documents and reports list them.
    pub const ALL: [IndicatorKind; 3] = [
        IndicatorKind::Address,
        IndicatorKind::Host,
        IndicatorKind::Cidr,
    ];

    /// The ThreatConnect type name: `Address`, `Host` or `CIDR`.
    pub fn as_str(self) -> &'static str {
        match self {
            IndicatorKind::Address => "Address",
            IndicatorKind::Host => "Host",
            IndicatorKind::Cidr => "CIDR",
        }
    }

    /// The batch document type.
    pub fn indicator_type(self) -> IndicatorType {
        match self {
            IndicatorKind::Address => IndicatorType::Address,
            IndicatorKind::Host => IndicatorType::Host,
            IndicatorKind::Cidr => IndicatorType::Cidr,
        }
    }

    /// The kind of a batch document type, where the feed writes that type.
    pub fn from_indicator_type(kind: &IndicatorType) -> Option<IndicatorKind> {
        match kind {
            IndicatorType::Address => Some(IndicatorKind::Address),
            IndicatorType::Host => Some(IndicatorKind::Host),
            IndicatorType::Cidr => Some(IndicatorKind::Cidr),
            _ => None,
        }
    }

    /// The list family this kind comes from.
    pub fn list(self) -> proofpoint_et_client::ListKind {
        match self {
            IndicatorKind::Address | IndicatorKind::Cidr => proofpoint_et_client::ListKind::Ip,
            IndicatorKind::Host => proofpoint_et_client::ListKind::Domain,
        }
    }
}

impl fmt::Display for IndicatorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for IndicatorKind {
    type Err = Error;

    /// Reads a type name as ThreatConnect spells it (`Address`, `Host`, `CIDR`).
    fn from_str(text: &str) -> Result<IndicatorKind, Error> {
        IndicatorKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
            .ok_or_else(|| {
                Error::setting("types", format!("{text:?} is not Address, Host or CIDR"))
            })
    }
}

/// An indicator's identity: its type and its value in normal form.
///
/// # The text form
///
/// A key's stable text form is the ThreatConnect type name, one TAB, and the value in the
/// form ThreatConnect stores:
///
/// ```text
/// Address<TAB>198.51.100.7
/// Address<TAB>2001:db8:0:0:0:0:0:1000
/// Host<TAB>xn--bcher-kva.example
/// CIDR<TAB>198.51.100.0/24
/// ```
///
/// The form never changes between releases, so a state store may keep it as is (it is also
/// how a key serialises). A key is always in normal form: [`IndicatorKey::parse`] refuses a
/// text whose value is spelled any other way, and [`IndicatorKey::new`] brings a value to
/// normal form first.
///
/// The key is held as its text form, so that a map keyed by `IndicatorKey` can be searched
/// with a [`KeyRef`] or a `&str` of that form without building a key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IndicatorKey(Box<str>);

impl IndicatorKey {
    /// The key of `value` as an indicator of `kind`, after bringing the value to normal form:
    /// `2001:0db8::1000` and `2001:db8:0:0:0:0:0:1000` give the same key.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidKey`] where the value is no address, host name or CIDR block of that
    /// kind.
    pub fn new(kind: IndicatorKind, value: &str) -> Result<IndicatorKey, Error> {
        let mut text = String::with_capacity(kind.as_str().len() + 1 + value.len());
        text.push_str(kind.as_str());
        text.push('\t');
        push_normal_value(&mut text, kind, value)
            .map_err(|reason| Error::key(&format!("{kind}\t{value}"), reason))?;
        Ok(IndicatorKey(text.into_boxed_str()))
    }

    /// A key from its text form, as a state store keeps it.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidKey`] where the text is not `<type>TAB<value>` or the value is not in
    /// normal form (a store written by another program, or damaged).
    pub fn parse(text: &str) -> Result<IndicatorKey, Error> {
        let (kind_text, value) = text
            .split_once('\t')
            .ok_or_else(|| Error::key(text, "there is no tab between type and value"))?;
        let kind = IndicatorKind::from_str(kind_text)
            .map_err(|_| Error::key(text, "the type is not Address, Host or CIDR"))?;

        let normal = IndicatorKey::new(kind, value)?;
        if normal.as_str() != text {
            return Err(Error::key(
                text,
                format!("the value is not in normal form ({normal})"),
            ));
        }
        Ok(normal)
    }

    /// Builds a key from a kind and a value the crate has just written in normal form.
    pub(crate) fn from_normal_parts(kind: IndicatorKind, value: &str) -> IndicatorKey {
        let mut text = String::with_capacity(kind.as_str().len() + 1 + value.len());
        text.push_str(kind.as_str());
        text.push('\t');
        text.push_str(value);
        IndicatorKey::from_normal_text(&text)
    }

    /// Builds a key from text the crate has just written in normal form.
    pub(crate) fn from_normal_text(text: &str) -> IndicatorKey {
        debug_assert!(
            IndicatorKey::parse(text).is_ok(),
            "{text:?} is not a normal key"
        );
        IndicatorKey(text.into())
    }

    /// The key of a batch indicator this feed wrote, or `None` for a type it does not write.
    /// The summary is taken as written (documents built here are in normal form).
    pub fn of_indicator(indicator: &threatconnect_client::BatchIndicator) -> Option<IndicatorKey> {
        let kind = IndicatorKind::from_indicator_type(&indicator.kind)?;
        IndicatorKey::new(kind, &indicator.summary).ok()
    }

    /// The text form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// This key borrowed.
    pub fn as_key_ref(&self) -> KeyRef<'_> {
        KeyRef(&self.0)
    }

    /// The indicator type.
    pub fn kind(&self) -> IndicatorKind {
        self.as_key_ref().kind()
    }

    /// The value, as ThreatConnect stores it (the batch document's `summary`).
    pub fn value(&self) -> &str {
        self.as_key_ref().value()
    }

    /// The indicator's `xid` in the feed's owner (see [`xid`]).
    pub fn xid(&self, owner: &str) -> String {
        xid(owner, self.kind(), self.value())
    }
}

impl fmt::Display for IndicatorKey {
    /// The text form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for IndicatorKey {
    type Err = Error;

    fn from_str(text: &str) -> Result<IndicatorKey, Error> {
        IndicatorKey::parse(text)
    }
}

impl Borrow<str> for IndicatorKey {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl Serialize for IndicatorKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for IndicatorKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        IndicatorKey::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A borrowed key in text form, valid by construction (from an [`IndicatorKey`] or from the
/// crate itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyRef<'a>(&'a str);

impl<'a> KeyRef<'a> {
    /// Wraps text that the crate has just written in normal form.
    pub(crate) fn from_normal_text(text: &'a str) -> KeyRef<'a> {
        KeyRef(text)
    }

    /// The text form; look a key up in a map of [`IndicatorKey`] with it.
    pub fn as_str(self) -> &'a str {
        self.0
    }

    /// The indicator type.
    pub fn kind(self) -> IndicatorKind {
        // The text was built from a kind, so one of the names is its prefix.
        match self.0.as_bytes().first() {
            Some(b'A') => IndicatorKind::Address,
            Some(b'H') => IndicatorKind::Host,
            _ => IndicatorKind::Cidr,
        }
    }

    /// The value, as ThreatConnect stores it.
    pub fn value(self) -> &'a str {
        let kind_len = self.kind().as_str().len();
        &self.0[kind_len + 1..]
    }

    /// An owned copy.
    pub fn to_owned(self) -> IndicatorKey {
        IndicatorKey(self.0.into())
    }
}

impl fmt::Display for KeyRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// Appends `value` in the normal form of `kind`, or says why it has none.
fn push_normal_value(out: &mut String, kind: IndicatorKind, value: &str) -> Result<(), String> {
    match kind {
        IndicatorKind::Address => {
            let addr: IpAddr = value
                .parse()
                .map_err(|_| "the value is not an IP address")?;
            let addr = normalize::canonical_ip(addr);
            if addr.is_unspecified() {
                return Err("the unspecified address is not an indicator".to_owned());
            }
            normalize::push_ip(out, addr);
        }
        IndicatorKind::Host => {
            if value.contains('*') {
                return Err("a wildcard pattern is not a host".to_owned());
            }
            let host = normalize::normalize_host(value).map_err(|error| error.to_string())?;
            out.push_str(&host);
        }
        IndicatorKind::Cidr => {
            let (addr, prefix) = value.split_once('/').ok_or("the value has no `/`")?;
            let addr: IpAddr = addr
                .parse()
                .map_err(|_| "the network is not an IP address")?;
            let prefix: u8 = prefix.parse().map_err(|_| "the prefix is not a number")?;
            let network = normalize::network(addr, prefix)
                .ok_or("the prefix is too long for the address family")?;
            normalize::push_cidr(out, network, prefix);
        }
    }
    Ok(())
}

/// The prefix of every `xid` this feed writes.
pub const XID_PREFIX: &str = "et-rep-";

/// The `xid` of an indicator: `et-rep-` and the lower-case hex of the SHA-256 of the owner,
/// the type name and the value, separated by NUL bytes. The same on every run, machine and
/// release; `value` must be in normal form (as a key's value is).
pub fn xid(owner: &str, kind: IndicatorKind, value: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(owner.as_bytes());
    hasher.update([0]);
    hasher.update(kind.as_str().as_bytes());
    hasher.update([0]);
    hasher.update(value.as_bytes());

    let mut xid = String::with_capacity(XID_PREFIX.len() + 64);
    xid.push_str(XID_PREFIX);
    normalize::push_hex_bytes(&mut xid, &hasher.finalize());
    xid
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_round_trips() {
        for text in [
            "Address\t198.51.100.7",
            "Address\t2001:db8:0:0:0:0:0:1000",
            "Host\txn--bcher-kva.example",
            "CIDR\t198.51.100.0/24",
            "CIDR\tabc:def:10:0:0:0:0:0/48",
        ] {
            let key = IndicatorKey::parse(text).unwrap();
            assert_eq!(key.to_string(), text);
            assert_eq!(format!("{}\t{}", key.kind(), key.value()), text);
        }
    }

    #[test]
    fn two_spellings_of_one_address_are_one_key() {
        let short = IndicatorKey::new(IndicatorKind::Address, "2001:0db8::1000").unwrap();
        let long = IndicatorKey::new(IndicatorKind::Address, "2001:db8:0:0:0:0:0:1000").unwrap();
        assert_eq!(short, long);
        assert_eq!(short.value(), "2001:db8:0:0:0:0:0:1000");
    }

    #[test]
    fn parse_refuses_values_not_in_normal_form() {
        for text in [
            "Address\t2001:db8::1000",
            "Host\tExample.COM",
            "Host\texample.com.",
            "CIDR\t198.51.100.7/24",
            "Address\t::ffff:192.0.2.1",
        ] {
            let error = IndicatorKey::parse(text).unwrap_err();
            assert!(
                error.to_string().contains("normal form"),
                "{text:?}: {error}"
            );
        }
    }

    #[test]
    fn parse_refuses_what_is_no_key() {
        for text in [
            "Address 198.51.100.7",
            "URL\thttp://example.com",
            "Address\tnot-an-ip",
            "Address\t0.0.0.0",
            "Host\t*.example.com",
            "CIDR\t198.51.100.0",
            "CIDR\t198.51.100.0/33",
            "",
        ] {
            assert!(IndicatorKey::parse(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn key_serialises_as_its_text_form() {
        let key = IndicatorKey::parse("Host\talpha.example").unwrap();
        let json = serde_json::to_string(&key).unwrap();
        assert_eq!(json, r#""Host\talpha.example""#);
        let back: IndicatorKey = serde_json::from_str(&json).unwrap();
        assert_eq!(back, key);
        assert!(serde_json::from_str::<IndicatorKey>(r#""Host\tALPHA.example""#).is_err());
    }

    #[test]
    fn xid_is_prefixed_hex_sha256() {
        let id = xid("Example Org", IndicatorKind::Address, "198.51.100.7");
        assert!(id.starts_with(XID_PREFIX));
        assert_eq!(id.len(), XID_PREFIX.len() + 64);
        assert!(
            id[XID_PREFIX.len()..]
                .bytes()
                .all(|b| b.is_ascii_hexdigit())
        );
        assert_ne!(id, xid("Other Org", IndicatorKind::Address, "198.51.100.7"));
        assert_ne!(id, xid("Example Org", IndicatorKind::Host, "198.51.100.7"));
    }
}

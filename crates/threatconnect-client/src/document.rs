//! The batch document model: what a Batch API job uploads, and the job's settings.
//!
//! Everything here serialises exactly as the service expects: optional fields are left out,
//! never written as `null`; ratings are numbers; dates are `YYYY-MM-DDTHH:MM:SSZ`.

use std::fmt;
use std::io::Write;

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::{Deserialize, Serialize, Serializer};

use crate::error::Error;

/// An indicator type as batch documents name it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub enum IndicatorType {
    /// An IP address (`Address`).
    Address,
    /// A host name (`Host`).
    Host,
    /// A CIDR block (`CIDR`).
    #[serde(rename = "CIDR")]
    Cidr,
    /// A URL (`URL`).
    #[serde(rename = "URL")]
    Url,
    /// An email address (`EmailAddress`).
    EmailAddress,
    /// A file hash (`File`).
    File,
    /// An autonomous system number (`ASN`).
    #[serde(rename = "ASN")]
    Asn,
}

impl IndicatorType {
    /// The name documents use, such as `Address`.
    pub fn as_str(&self) -> &'static str {
        match self {
            IndicatorType::Address => "Address",
            IndicatorType::Host => "Host",
            IndicatorType::Cidr => "CIDR",
            IndicatorType::Url => "URL",
            IndicatorType::EmailAddress => "EmailAddress",
            IndicatorType::File => "File",
            IndicatorType::Asn => "ASN",
        }
    }

    /// The path segment of the v2 indicator endpoints, such as `addresses`.
    pub fn path_segment(&self) -> &'static str {
        match self {
            IndicatorType::Address => "addresses",
            IndicatorType::Host => "hosts",
            IndicatorType::Cidr => "cidrBlocks",
            IndicatorType::Url => "urls",
            IndicatorType::EmailAddress => "emailAddresses",
            IndicatorType::File => "files",
            IndicatorType::Asn => "asns",
        }
    }
}

impl fmt::Display for IndicatorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A threat rating, 0 to 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Rating(u8);

impl Rating {
    /// A rating, or `None` above 5.
    pub fn new(value: u8) -> Option<Rating> {
        (value <= 5).then_some(Rating(value))
    }

    /// The rating as a number.
    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<f64> for Rating {
    type Error = String;

    fn try_from(value: f64) -> Result<Rating, String> {
        let whole = value.round();
        if (0.0..=5.0).contains(&whole) {
            Ok(Rating(whole as u8))
        } else {
            Err(format!("a rating is 0 to 5, not {value}"))
        }
    }
}

impl From<Rating> for f64 {
    fn from(rating: Rating) -> f64 {
        f64::from(rating.0)
    }
}

/// A confidence rating, 0 to 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Confidence(u8);

impl Confidence {
    /// A confidence, or `None` above 100.
    pub fn new(value: u8) -> Option<Confidence> {
        (value <= 100).then_some(Confidence(value))
    }

    /// The confidence as a number.
    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for Confidence {
    type Error = String;

    fn try_from(value: u8) -> Result<Confidence, String> {
        Confidence::new(value).ok_or_else(|| format!("a confidence is 0 to 100, not {value}"))
    }
}

impl From<Confidence> for u8 {
    fn from(confidence: Confidence) -> u8 {
        confidence.0
    }
}

/// An attribute of an indicator.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Attribute {
    /// The attribute type's name, such as `External Score`. It must exist on the instance.
    #[serde(rename = "type")]
    pub kind: String,
    /// The value, as text.
    pub value: String,
    /// Whether the attribute is shown on the indicator's page.
    pub displayed: bool,
}

/// A tag, by name (at most 128 characters).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Tag {
    /// The tag's name.
    pub name: String,
}

/// A security label, by name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SecurityLabel {
    /// The label's name.
    pub name: String,
}

/// One indicator of a batch document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchIndicator {
    /// The indicator's value: an address, a host name, a CIDR block. Never percent-encoded.
    pub summary: String,
    /// The indicator's type.
    #[serde(rename = "type")]
    pub kind: IndicatorType,
    /// The threat rating.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<Rating>,
    /// The confidence rating.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<Confidence>,
    /// An identifier that is the same on every run for the same item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xid: Option<String>,
    /// Whether the indicator is active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// When the source first saw the indicator.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_date",
        deserialize_with = "deserialize_date"
    )]
    pub first_seen: Option<DateTime<Utc>>,
    /// When the source last saw the indicator.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_date",
        deserialize_with = "deserialize_date"
    )]
    pub last_seen: Option<DateTime<Utc>>,
    /// Attributes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attribute: Vec<Attribute>,
    /// Tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tag: Vec<Tag>,
    /// Security labels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security_label: Vec<SecurityLabel>,
}

impl BatchIndicator {
    /// An indicator with only its value and type; every other field is left out.
    pub fn new(kind: IndicatorType, summary: impl Into<String>) -> BatchIndicator {
        BatchIndicator {
            summary: summary.into(),
            kind,
            rating: None,
            confidence: None,
            xid: None,
            active: None,
            first_seen: None,
            last_seen: None,
            attribute: Vec::new(),
            tag: Vec::new(),
            security_label: Vec::new(),
        }
    }
}

/// A group of a batch document (an incident, a report, ...).
///
/// The feed writes indicators only; groups are here so that a document read back keeps them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchGroup {
    /// The group's type, such as `Incident`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The group's name.
    pub name: String,
    /// The identifier that is the same on every run for the same group (groups need one).
    pub xid: String,
    /// Attributes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attribute: Vec<Attribute>,
    /// Tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tag: Vec<Tag>,
    /// Security labels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security_label: Vec<SecurityLabel>,
}

/// A whole batch document: `{"indicator": [...], "group": [...]}`.
///
/// For many indicators use the [`Chunker`](crate::Chunker), which serialises them into job
/// documents as they come instead of holding them all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchDocument {
    /// The indicators.
    #[serde(default)]
    pub indicator: Vec<BatchIndicator>,
    /// The groups; left out of the document when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group: Vec<BatchGroup>,
}

impl BatchDocument {
    /// Serialises the document into `writer` as it goes, never as a whole string.
    ///
    /// # Errors
    ///
    /// [`Error::Serialize`] when the writer fails.
    pub fn write_to<W: Write>(&self, writer: W) -> Result<(), Error> {
        serde_json::to_writer(writer, self).map_err(|source| Error::Serialize {
            what: "a batch document",
            source,
        })
    }
}

/// The date format of batch documents: `YYYY-MM-DDTHH:MM:SSZ`.
pub const DATE_FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";

fn serialize_date<S: Serializer>(date: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match date {
        Some(date) => match format_date(date) {
            Some(text) => s.serialize_str(std::str::from_utf8(&text).expect("ascii")),
            None => s.collect_str(&date.format(DATE_FORMAT)),
        },
        None => s.serialize_none(),
    }
}

/// A date in [`DATE_FORMAT`], written digit by digit: chrono's `format` reads the format
/// string again for every date, which cost a tenth of a dry run of 1.3M indicators. `None`
/// for what chrono writes otherwise: years outside 0 to 9999 (signed) and leap seconds (`60`).
fn format_date(date: &DateTime<Utc>) -> Option<[u8; 20]> {
    let year = u32::try_from(date.year())
        .ok()
        .filter(|year| *year <= 9999)?;
    if date.nanosecond() >= 1_000_000_000 {
        return None;
    }
    let mut text = *b"0000-00-00T00:00:00Z";
    put_digits(&mut text[0..4], year);
    put_digits(&mut text[5..7], date.month());
    put_digits(&mut text[8..10], date.day());
    put_digits(&mut text[11..13], date.hour());
    put_digits(&mut text[14..16], date.minute());
    put_digits(&mut text[17..19], date.second());
    Some(text)
}

/// Writes `value` into `slot` in decimal, padded with zeros to the slot's width.
fn put_digits(slot: &mut [u8], mut value: u32) {
    for byte in slot.iter_mut().rev() {
        *byte = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

fn deserialize_date<'de, D>(d: D) -> Result<Option<DateTime<Utc>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let text: Option<String> = Option::deserialize(d)?;
    text.map(|text| {
        DateTime::parse_from_rfc3339(&text)
            .map(|date| date.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    })
    .transpose()
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};

    use super::*;

    fn chrono_text(date: &DateTime<Utc>) -> String {
        date.format(DATE_FORMAT).to_string()
    }

    #[test]
    fn dates_are_written_as_chrono_writes_them() {
        let mut seconds = -62_167_219_200_i64; // 0000-01-01T00:00:00Z
        let last = 253_402_300_799_i64; // 9999-12-31T23:59:59Z
        while seconds <= last {
            let date = Utc.timestamp_opt(seconds, 0).unwrap();
            let text = format_date(&date).expect("a year from 0 to 9999");
            assert_eq!(std::str::from_utf8(&text).unwrap(), chrono_text(&date));
            seconds += 7_777_777 + seconds.rem_euclid(86_399);
        }
        let last = Utc.timestamp_opt(last, 0).unwrap();
        assert_eq!(
            std::str::from_utf8(&format_date(&last).unwrap()).unwrap(),
            "9999-12-31T23:59:59Z"
        );
    }

    #[test]
    fn signed_years_and_leap_seconds_are_left_to_chrono() {
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .unwrap()
            .and_hms_milli_opt(23, 59, 59, 1_000)
            .unwrap()
            .and_utc();
        let odd_years = [-1, 10_000].map(|year| {
            NaiveDate::from_ymd_opt(year, 1, 1)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap()
                .and_utc()
        });
        for date in [leap, odd_years[0], odd_years[1]] {
            assert_eq!(format_date(&date), None, "{date:?}");
            let indicator = BatchIndicator {
                first_seen: Some(date),
                ..BatchIndicator::new(IndicatorType::Address, "192.0.2.1")
            };
            let json = serde_json::to_value(&indicator).unwrap();
            assert_eq!(json["firstSeen"], chrono_text(&date));
        }
    }
}

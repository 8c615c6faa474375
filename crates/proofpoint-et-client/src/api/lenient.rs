//! Reading the reports whose shape is not published for certain: each known field is taken
//! out of an item only when it has the expected type, and whatever is left stays as JSON.

use std::net::IpAddr;

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{Map, Value};

/// The fields of one item of an answer, from which the known ones are taken.
#[derive(Debug)]
pub(crate) struct Fields(Map<String, Value>);

impl Fields {
    /// The fields of `value`: an object's members; anything else (a bare string, say) is
    /// taken as the value of the field `primary`.
    pub(crate) fn new(value: Value, primary: &str) -> Fields {
        match value {
            Value::Object(members) => Fields(members),
            Value::Null => Fields(Map::new()),
            other => Fields(Map::from_iter([(primary.to_owned(), other)])),
        }
    }

    /// The field `key` read by `read`, removed only when it reads. A `null` reads as absent
    /// and is dropped.
    pub(crate) fn take<T>(
        &mut self,
        key: &str,
        read: impl FnOnce(&Value) -> Option<T>,
    ) -> Option<T> {
        let value = self.0.get(key)?;
        if value.is_null() {
            self.0.remove(key);
            return None;
        }
        let read = read(value)?;
        self.0.remove(key);
        Some(read)
    }

    /// A text field.
    pub(crate) fn text(&mut self, key: &str) -> Option<String> {
        self.take(key, |value| value.as_str().map(str::to_owned))
    }

    /// A whole number, given as a number or as a string of digits (the API does both, as
    /// with `sid`).
    pub(crate) fn number<T: TryFrom<u64>>(&mut self, key: &str) -> Option<T> {
        self.take(key, |value| {
            let number = match value {
                Value::Number(number) => number.as_u64()?,
                Value::String(text) => text.trim().parse().ok()?,
                _ => return None,
            };
            T::try_from(number).ok()
        })
    }

    /// A number that may have a fraction, such as a latitude.
    pub(crate) fn float(&mut self, key: &str) -> Option<f64> {
        self.take(key, Value::as_f64)
    }

    /// A boolean, given as one or as the text `true` or `false`.
    pub(crate) fn boolean(&mut self, key: &str) -> Option<bool> {
        self.take(key, |value| match value {
            Value::Bool(flag) => Some(*flag),
            Value::String(text) => text.trim().parse().ok(),
            _ => None,
        })
    }

    /// A date written `YYYY-MM-DD`.
    pub(crate) fn date(&mut self, key: &str) -> Option<NaiveDate> {
        self.take(key, |value| parse_date(value.as_str()?))
    }

    /// A date and time written `YYYY-MM-DD HH:MM:SS` (or with a `T`).
    pub(crate) fn date_time(&mut self, key: &str) -> Option<NaiveDateTime> {
        self.take(key, |value| {
            let text = value.as_str()?.trim();
            NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
                .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
                .ok()
        })
    }

    /// An IP address written as text.
    pub(crate) fn ip(&mut self, key: &str) -> Option<IpAddr> {
        self.take(key, |value| value.as_str()?.trim().parse().ok())
    }

    /// A list of texts; a list holding anything else does not read.
    pub(crate) fn texts(&mut self, key: &str) -> Option<Vec<String>> {
        self.take(key, |value| {
            value
                .as_array()?
                .iter()
                .map(|item| item.as_str().map(str::to_owned))
                .collect()
        })
    }

    /// A nested object, read by `read`.
    pub(crate) fn object<T>(&mut self, key: &str, read: impl FnOnce(Fields) -> T) -> Option<T> {
        self.take(key, |value| {
            value
                .as_object()
                .map(|members| read(Fields(members.clone())))
        })
    }

    /// A list of nested objects, each read by `read`; any item that is not an object keeps
    /// the whole list in place.
    pub(crate) fn objects<T>(&mut self, key: &str, read: impl Fn(Fields) -> T) -> Option<Vec<T>> {
        self.take(key, |value| {
            value
                .as_array()?
                .iter()
                .map(|item| {
                    item.as_object()
                        .map(|members| read(Fields(members.clone())))
                })
                .collect()
        })
    }

    /// The first and last dates of a `dates` field as older answers give it:
    /// `"2014-01-05 - 2014-02-02"`, or a list of such ranges (the earliest start and the latest
    /// end are taken).
    pub(crate) fn date_range(&mut self, key: &str) -> Option<(NaiveDate, NaiveDate)> {
        self.take(key, |value| {
            let ranges: Vec<&str> = match value {
                Value::String(text) => vec![text.as_str()],
                Value::Array(items) => items.iter().map(Value::as_str).collect::<Option<_>>()?,
                _ => return None,
            };
            let parsed: Vec<(NaiveDate, NaiveDate)> =
                ranges.into_iter().map(parse_range).collect::<Option<_>>()?;
            let first = parsed.iter().map(|range| range.0).min()?;
            let last = parsed.iter().map(|range| range.1).max()?;
            Some((first, last))
        })
    }

    /// What was not taken.
    pub(crate) fn rest(self) -> Map<String, Value> {
        self.0
    }
}

fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

fn parse_range(text: &str) -> Option<(NaiveDate, NaiveDate)> {
    let (first, last) = text.split_once(" - ")?;
    Some((parse_date(first)?, parse_date(last)?))
}

/// The items of a list report, each read by `read`.
///
/// The list is a JSON list, as the API documents it now; or, as older answers give it, an
/// object keyed by the related value (`{"198.51.100.4": ["2014-02-22 - 2014-04-02"]}`), whose
/// key becomes the field `primary` of its item and whose bare value becomes `dates`. An
/// object holding plain values is one item. `null` is no items.
pub(crate) fn list<T>(response: Value, primary: &str, read: impl Fn(Fields) -> T) -> Vec<T> {
    match response {
        Value::Array(items) => items
            .into_iter()
            .map(|item| read(Fields::new(item, primary)))
            .collect(),
        Value::Object(members) if is_keyed_by_value(&members) => members
            .into_iter()
            .map(|(key, value)| read(keyed_item(key, value, primary)))
            .collect(),
        Value::Null => Vec::new(),
        single => vec![read(Fields::new(single, primary))],
    }
}

/// Whether an object is a list keyed by value: not empty, and every member a list or an
/// object.
fn is_keyed_by_value(members: &Map<String, Value>) -> bool {
    !members.is_empty()
        && members
            .values()
            .all(|value| value.is_array() || value.is_object())
}

fn keyed_item(key: String, value: Value, primary: &str) -> Fields {
    let mut members = match value {
        Value::Object(members) => members,
        dates => Map::from_iter([("dates".to_owned(), dates)]),
    };
    members.entry(primary).or_insert(Value::String(key));
    Fields(members)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_field_of_another_type_stays_in_the_rest() {
        let mut fields = Fields::new(json!({"count": "many", "sid": "2008365", "x": 1}), "v");

        assert_eq!(fields.number::<u64>("count"), None);
        assert_eq!(fields.number::<u64>("sid"), Some(2_008_365));
        assert_eq!(fields.number::<u64>("absent"), None);
        assert_eq!(
            Value::Object(fields.rest()),
            json!({"count": "many", "x": 1})
        );
    }

    #[test]
    fn a_null_field_is_absent_and_dropped() {
        let mut fields = Fields::new(json!({"tag": null}), "v");

        assert_eq!(fields.text("tag"), None);
        assert!(fields.rest().is_empty());
    }

    #[test]
    fn a_bare_value_is_the_primary_field() {
        let mut fields = Fields::new(json!("/index.php?id=X"), "url");

        assert_eq!(fields.text("url").as_deref(), Some("/index.php?id=X"));
    }

    #[test]
    fn ranges_give_the_earliest_start_and_the_latest_end() {
        let mut fields = Fields::new(
            json!({"dates": ["2014-02-22 - 2014-04-02", "2011-12-04 - 2012-02-27"]}),
            "v",
        );
        let day = |text| parse_date(text).unwrap();

        assert_eq!(
            fields.date_range("dates"),
            Some((day("2011-12-04"), day("2014-04-02")))
        );
    }

    #[test]
    fn a_list_keyed_by_value_becomes_items() {
        let response = json!({
            "198.51.100.4": ["2014-02-22 - 2014-04-02"],
            "2eba8dff8d8f7a3cb2fe00b8c829a5d1": {"dates": "2014-02-02 - 2014-02-02"}
        });

        let values = list(response, "ip", |mut fields| fields.text("ip").unwrap());

        assert_eq!(values.len(), 2);
        assert!(values.contains(&"198.51.100.4".to_owned()));
        assert!(values.contains(&"2eba8dff8d8f7a3cb2fe00b8c829a5d1".to_owned()));
    }

    #[test]
    fn an_object_of_plain_values_is_one_item() {
        let response = json!({"ip": "192.0.2.7", "country": "US"});

        let countries = list(response, "ip", |mut fields| fields.text("country"));

        assert_eq!(countries, [Some("US".to_owned())]);
    }
}

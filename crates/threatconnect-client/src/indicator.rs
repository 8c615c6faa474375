//! One indicator's own endpoints: its ratings, its deletion, its tags and its attributes.
//!
//! Each request names the indicator by owner, type and value, as
//! `/v2/indicators/{type}/{value}...?owner={owner}`: the value is percent-encoded as one path
//! segment (`198.51.100.0/24` is `198.51.100.0%2F24`, `http://a.example/` is
//! `http%3A%2F%2Fa.example%2F`), as are tag names, and the owner is `%20` for a space. The
//! text sent is the text signed. Getting one indicator is [`Client::indicator`].
//!
//! ThreatConnect's documentation of these endpoints:
//! <https://docs.threatconnect.com/en/latest/rest_api/v2/indicators/indicators.html>
//!
//! ```no_run
//! use threatconnect_client::{Client, Confidence, IndicatorType, IndicatorUpdate, Rating};
//!
//! # async fn run(client: Client) -> Result<(), threatconnect_client::Error> {
//! let (owner, cidr, block) = ("Example Org", IndicatorType::Cidr, "198.51.100.0/24");
//! let zero = IndicatorUpdate::new()
//!     .rating(Rating::new(0).unwrap())
//!     .confidence(Confidence::new(0).unwrap());
//! client.update_indicator(owner, cidr.clone(), block, zero).await?;
//! client.add_indicator_tag(owner, cidr.clone(), block, "ET: gone").await?;
//! for attribute in client.indicator_attributes(owner, cidr, block).await? {
//!     println!("{} = {}", attribute.kind, attribute.value);
//! }
//! # Ok(())
//! # }
//! ```

use bytes::Bytes;
use chrono::{DateTime, Utc};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::answer::{expect_data, expect_success};
use crate::client::{Client, RequestBody};
use crate::document::{Attribute, Confidence, IndicatorType, Rating, Tag};
use crate::endpoints::{
    Indicator, date_field, decode, id_field, indicator_from_json, singular_key,
};
use crate::error::Error;
use crate::path::ApiPath;

/// The longest tag name ThreatConnect takes, in characters.
pub const MAX_TAG_CHARS: usize = 128;

/// Items asked for per page when listing an indicator's tags or attributes.
const PAGE_SIZE: usize = 1_000;

/// What [`Client::update_indicator`] changes: the threat rating, the confidence, or both.
///
/// ```
/// use threatconnect_client::{Confidence, IndicatorUpdate, Rating};
///
/// let update = IndicatorUpdate::new()
///     .rating(Rating::new(4).unwrap())
///     .confidence(Confidence::new(80).unwrap());
/// assert_eq!(serde_json::to_string(&update)?, r#"{"rating":4.0,"confidence":80}"#);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[must_use]
pub struct IndicatorUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    rating: Option<Rating>,
    #[serde(skip_serializing_if = "Option::is_none")]
    confidence: Option<Confidence>,
}

impl IndicatorUpdate {
    /// An update that changes nothing yet.
    pub fn new() -> IndicatorUpdate {
        IndicatorUpdate::default()
    }

    /// Sets the threat rating (0 zeroes it).
    pub fn rating(mut self, rating: Rating) -> IndicatorUpdate {
        self.rating = Some(rating);
        self
    }

    /// Sets the confidence (0 zeroes it).
    pub fn confidence(mut self, confidence: Confidence) -> IndicatorUpdate {
        self.confidence = Some(confidence);
        self
    }

    fn is_empty(&self) -> bool {
        self.rating.is_none() && self.confidence.is_none()
    }
}

/// What [`Client::update_indicator_attribute`] changes: the value, and whether the attribute
/// is displayed.
///
/// ```
/// use threatconnect_client::AttributeUpdate;
///
/// let update = AttributeUpdate::new("88").displayed(false);
/// assert_eq!(serde_json::to_string(&update)?, r#"{"value":"88","displayed":false}"#);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[must_use]
pub struct AttributeUpdate {
    value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    displayed: Option<bool>,
}

impl AttributeUpdate {
    /// An update that sets the attribute's value (ThreatConnect requires one).
    pub fn new(value: impl Into<String>) -> AttributeUpdate {
        AttributeUpdate {
            value: value.into(),
            displayed: None,
        }
    }

    /// Also sets whether the attribute is shown on the indicator's page.
    pub fn displayed(mut self, displayed: bool) -> AttributeUpdate {
        self.displayed = Some(displayed);
        self
    }
}

/// An attribute as an indicator holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IndicatorAttribute {
    /// The attribute's id, for updating or deleting it.
    pub id: i64,
    /// The attribute type's name, such as `External Score`.
    pub kind: String,
    /// The value, as text.
    pub value: String,
    /// Whether it is shown on the indicator's page.
    pub displayed: Option<bool>,
    /// When it was added.
    pub date_added: Option<DateTime<Utc>>,
    /// When it last changed.
    pub last_modified: Option<DateTime<Utc>>,
}

impl Client {
    /// Changes an indicator's threat rating, confidence, or both:
    /// `PUT /v2/indicators/{type}/{value}?owner=...` with `{"rating": ..., "confidence": ...}`.
    /// Gives the indicator as the answer holds it.
    ///
    /// Documentation:
    /// <https://docs.threatconnect.com/en/latest/rest_api/v2/indicators/indicators.html#update-indicators>
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for an update that changes nothing (nothing is sent); any
    /// request error ([`Error::Server`] with status 404 when the owner has no such
    /// indicator); [`Error::Decode`] for an answer that does not read, though the update was
    /// made.
    pub async fn update_indicator(
        &self,
        owner: &str,
        kind: IndicatorType,
        value: &str,
        update: IndicatorUpdate,
    ) -> Result<Indicator, Error> {
        if update.is_empty() {
            return Err(Error::InvalidInput {
                what: "indicator update",
                value: value.to_owned(),
                reason: "it sets neither the rating nor the confidence",
            });
        }
        let path = indicator_path(self, owner, &kind, value, &[]);
        let body = json_body(&update, "an indicator update")?;
        let answer = self.send(Method::PUT, &path, &body, &[]).await?;

        let what = format!("the updated {kind} indicator {value:?}");
        let data: Map<String, Value> = expect_data(&answer, "PUT", &path, &what)?;
        let item = data
            .get(singular_key(&kind))
            .or_else(|| data.get("indicator"))
            .ok_or_else(|| decode(&what, "the answer holds no indicator"))?;
        let indicator = indicator_from_json(item, &kind, &what)?;
        tracing::debug!(%kind, id = indicator.id, "indicator updated");
        Ok(indicator)
    }

    /// Deletes an indicator: `DELETE /v2/indicators/{type}/{value}?owner=...`. Gives `false`
    /// when the owner had no such indicator (a 404), so that deleting twice is harmless.
    ///
    /// Documentation:
    /// <https://docs.threatconnect.com/en/latest/rest_api/v2/indicators/indicators.html#delete-indicators>
    ///
    /// # Errors
    ///
    /// Any request error (a 404 that refuses the credentials is [`Error::Auth`], not
    /// `false`).
    pub async fn delete_indicator(
        &self,
        owner: &str,
        kind: IndicatorType,
        value: &str,
    ) -> Result<bool, Error> {
        let path = indicator_path(self, owner, &kind, value, &[]);
        let what = format!("the deletion of the {kind} indicator {value:?}");
        let deleted = self.delete(&path, &what).await?;
        tracing::debug!(%kind, deleted, "indicator deletion answered");
        Ok(deleted)
    }

    /// The tags on an indicator, all pages of them:
    /// `GET /v2/indicators/{type}/{value}/tags?owner=...`.
    ///
    /// Documentation:
    /// <https://docs.threatconnect.com/en/latest/rest_api/v2/indicators/indicators.html#retrieve-indicator-tags>
    ///
    /// # Errors
    ///
    /// Any request error, or [`Error::Decode`] for an answer that does not read.
    pub async fn indicator_tags(
        &self,
        owner: &str,
        kind: IndicatorType,
        value: &str,
    ) -> Result<Vec<Tag>, Error> {
        let what = format!("the tags of the {kind} indicator {value:?}");
        let items = self
            .indicator_list(owner, &kind, value, "tags", "tag", &what)
            .await?;
        items
            .into_iter()
            .map(|item| {
                serde_json::from_value(item)
                    .map_err(|error| decode(&what, &format!("a tag does not read: {error}")))
            })
            .collect()
    }

    /// Puts a tag on an indicator, creating the tag if the owner has none of that name:
    /// `POST /v2/indicators/{type}/{value}/tags/{name}?owner=...`.
    ///
    /// Documentation:
    /// <https://docs.threatconnect.com/en/latest/rest_api/v2/indicators/indicators.html#create-indicator-tags>
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for a tag name that is empty or over [`MAX_TAG_CHARS`]
    /// characters (nothing is sent); any request error.
    pub async fn add_indicator_tag(
        &self,
        owner: &str,
        kind: IndicatorType,
        value: &str,
        tag: &str,
    ) -> Result<(), Error> {
        check_tag_name(tag)?;
        let path = indicator_path(self, owner, &kind, value, &["tags", tag]);
        let answer = self
            .send(Method::POST, &path, &RequestBody::Empty, &[])
            .await?;
        let what = format!("the tag {tag:?} on the {kind} indicator {value:?}");
        expect_success(&answer, "POST", &path, &what)?;
        tracing::debug!(%kind, tag, "tag added");
        Ok(())
    }

    /// Takes a tag off an indicator:
    /// `DELETE /v2/indicators/{type}/{value}/tags/{name}?owner=...`. Gives `false` when the
    /// indicator or the tag was not there (a 404).
    ///
    /// Documentation:
    /// <https://docs.threatconnect.com/en/latest/rest_api/v2/indicators/indicators.html#delete-indicator-tags>
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for a tag name that is empty or over [`MAX_TAG_CHARS`]
    /// characters (nothing is sent); any request error.
    pub async fn remove_indicator_tag(
        &self,
        owner: &str,
        kind: IndicatorType,
        value: &str,
        tag: &str,
    ) -> Result<bool, Error> {
        check_tag_name(tag)?;
        let path = indicator_path(self, owner, &kind, value, &["tags", tag]);
        let what = format!("the removal of the tag {tag:?} from the {kind} indicator {value:?}");
        self.delete(&path, &what).await
    }

    /// The attributes of an indicator, all pages of them:
    /// `GET /v2/indicators/{type}/{value}/attributes?owner=...`.
    ///
    /// Documentation:
    /// <https://docs.threatconnect.com/en/latest/rest_api/v2/indicators/indicators.html#retrieve-indicator-attributes>
    ///
    /// # Errors
    ///
    /// Any request error, or [`Error::Decode`] for an answer that does not read.
    pub async fn indicator_attributes(
        &self,
        owner: &str,
        kind: IndicatorType,
        value: &str,
    ) -> Result<Vec<IndicatorAttribute>, Error> {
        let what = format!("the attributes of the {kind} indicator {value:?}");
        let items = self
            .indicator_list(owner, &kind, value, "attributes", "attribute", &what)
            .await?;
        items
            .iter()
            .map(|item| attribute_from_json(item, &what))
            .collect()
    }

    /// Adds an attribute to an indicator:
    /// `POST /v2/indicators/{type}/{value}/attributes?owner=...` with `{type, value,
    /// displayed}`. Gives the attribute with its new id.
    ///
    /// Documentation:
    /// <https://docs.threatconnect.com/en/latest/rest_api/v2/indicators/indicators.html#create-indicator-attributes>
    ///
    /// # Errors
    ///
    /// Any request error (an attribute type the instance does not define is refused by the
    /// server); [`Error::Decode`] for an answer that does not read, though the attribute was
    /// added.
    pub async fn add_indicator_attribute(
        &self,
        owner: &str,
        kind: IndicatorType,
        value: &str,
        attribute: &Attribute,
    ) -> Result<IndicatorAttribute, Error> {
        let path = indicator_path(self, owner, &kind, value, &["attributes"]);
        let body = json_body(attribute, "an attribute")?;
        let answer = self.send(Method::POST, &path, &body, &[]).await?;

        let what = format!(
            "the {:?} attribute added to the {kind} indicator {value:?}",
            attribute.kind
        );
        let added = read_attribute(&answer, "POST", &path, &what)?;
        tracing::debug!(%kind, id = added.id, "attribute added");
        Ok(added)
    }

    /// Changes an attribute of an indicator:
    /// `PUT /v2/indicators/{type}/{value}/attributes/{id}?owner=...`. Gives the attribute as
    /// the answer holds it.
    ///
    /// Documentation:
    /// <https://docs.threatconnect.com/en/latest/rest_api/v2/indicators/indicators.html#update-indicator-attributes>
    ///
    /// # Errors
    ///
    /// Any request error ([`Error::Server`] with status 404 when there is no such attribute);
    /// [`Error::Decode`] for an answer that does not read, though the change was made.
    pub async fn update_indicator_attribute(
        &self,
        owner: &str,
        kind: IndicatorType,
        value: &str,
        attribute_id: i64,
        update: &AttributeUpdate,
    ) -> Result<IndicatorAttribute, Error> {
        let id = attribute_id.to_string();
        let path = indicator_path(self, owner, &kind, value, &["attributes", &id]);
        let body = json_body(update, "an attribute update")?;
        let answer = self.send(Method::PUT, &path, &body, &[]).await?;

        let what = format!("the attribute {id} of the {kind} indicator {value:?}");
        read_attribute(&answer, "PUT", &path, &what)
    }

    /// Deletes an attribute of an indicator:
    /// `DELETE /v2/indicators/{type}/{value}/attributes/{id}?owner=...`. Gives `false` when
    /// it was not there (a 404).
    ///
    /// Documentation:
    /// <https://docs.threatconnect.com/en/latest/rest_api/v2/indicators/indicators.html#delete-indicator-attributes>
    ///
    /// # Errors
    ///
    /// Any request error.
    pub async fn delete_indicator_attribute(
        &self,
        owner: &str,
        kind: IndicatorType,
        value: &str,
        attribute_id: i64,
    ) -> Result<bool, Error> {
        let id = attribute_id.to_string();
        let path = indicator_path(self, owner, &kind, value, &["attributes", &id]);
        let what = format!("the deletion of the attribute {id} of the {kind} indicator {value:?}");
        self.delete(&path, &what).await
    }

    /// Sends a `DELETE`: `true` when it was done, `false` for a 404.
    async fn delete(&self, path: &ApiPath, what: &str) -> Result<bool, Error> {
        let answer = self
            .send(
                Method::DELETE,
                path,
                &RequestBody::Empty,
                &[StatusCode::NOT_FOUND],
            )
            .await?;
        if answer.status == StatusCode::NOT_FOUND {
            return Ok(false);
        }
        expect_success(&answer, "DELETE", path, what)?;
        Ok(true)
    }

    /// The items under `key` of every page of an indicator's `list` (`tags`, `attributes`).
    async fn indicator_list(
        &self,
        owner: &str,
        kind: &IndicatorType,
        value: &str,
        list: &str,
        key: &str,
        what: &str,
    ) -> Result<Vec<Value>, Error> {
        let mut items = Vec::new();
        loop {
            let path = indicator_path(self, owner, kind, value, &[list])
                .query("resultStart", &items.len().to_string())
                .query("resultLimit", &PAGE_SIZE.to_string());
            let answer = self
                .send(Method::GET, &path, &RequestBody::Empty, &[])
                .await?;
            let mut data: Map<String, Value> = expect_data(&answer, "GET", &path, what)?;

            let page = match data.remove(key) {
                Some(Value::Array(page)) => page,
                Some(item @ Value::Object(_)) => vec![item],
                Some(_) => return Err(decode(what, &format!("`{key}` is not a list"))),
                None => Vec::new(),
            };
            let short = page.len() < PAGE_SIZE;
            items.extend(page);
            if short {
                tracing::debug!(items = items.len(), list, "indicator list read");
                return Ok(items);
            }
        }
    }
}

/// `/v2/indicators/{type}/{value}/{rest...}?owner={owner}`.
fn indicator_path(
    client: &Client,
    owner: &str,
    kind: &IndicatorType,
    value: &str,
    rest: &[&str],
) -> ApiPath {
    let segments = ["v2", "indicators", kind.path_segment(), value];
    client
        .path(segments.into_iter().chain(rest.iter().copied()))
        .query("owner", owner)
}

fn json_body<T: Serialize>(body: &T, what: &'static str) -> Result<RequestBody, Error> {
    let json = serde_json::to_vec(body).map_err(|source| Error::Serialize { what, source })?;
    Ok(RequestBody::Json(Bytes::from(json)))
}

fn check_tag_name(tag: &str) -> Result<(), Error> {
    let invalid = |reason| Error::InvalidInput {
        what: "tag name",
        value: tag.to_owned(),
        reason,
    };
    if tag.trim().is_empty() {
        return Err(invalid("it is empty"));
    }
    if tag.chars().count() > MAX_TAG_CHARS {
        return Err(invalid("it is longer than 128 characters"));
    }
    Ok(())
}

/// The attribute of an answer's `data.attribute`.
fn read_attribute(
    answer: &crate::client::Answer,
    method: &'static str,
    path: &ApiPath,
    what: &str,
) -> Result<IndicatorAttribute, Error> {
    let data: Map<String, Value> = expect_data(answer, method, path, what)?;
    let item = data
        .get("attribute")
        .ok_or_else(|| decode(what, "the answer holds no attribute"))?;
    attribute_from_json(item, what)
}

fn attribute_from_json(item: &Value, what: &str) -> Result<IndicatorAttribute, Error> {
    let Some(fields) = item.as_object() else {
        return Err(decode(what, "an attribute is not a JSON object"));
    };
    let id = id_field(fields).ok_or_else(|| decode(what, "an attribute has no numeric `id`"))?;
    let text = |name: &str| {
        fields
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| decode(what, &format!("attribute {id} has no text `{name}`")))
    };

    Ok(IndicatorAttribute {
        id,
        kind: text("type")?,
        value: text("value")?,
        displayed: fields.get("displayed").and_then(Value::as_bool),
        date_added: date_field(fields, "dateAdded", what)?,
        last_modified: date_field(fields, "lastModified", what)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_name_is_one_to_128_characters() {
        let longest = "é".repeat(MAX_TAG_CHARS);
        let too_long = "a".repeat(MAX_TAG_CHARS + 1);

        assert!(check_tag_name(&longest).is_ok());
        for bad in ["", "  ", too_long.as_str()] {
            assert!(
                matches!(
                    check_tag_name(bad),
                    Err(Error::InvalidInput {
                        what: "tag name",
                        ..
                    })
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn an_attribute_reads_with_an_id_as_text_and_a_date_without_a_zone() {
        let item = serde_json::json!({
            "id": "54321", "type": "Description", "value": "Bad",
            "dateAdded": "2017-07-13T17:50:17", "lastModified": "2017-07-19T15:54:12Z",
            "displayed": true
        });

        let attribute = attribute_from_json(&item, "an attribute").unwrap();

        assert_eq!(attribute.id, 54_321);
        assert_eq!(attribute.displayed, Some(true));
        let added = attribute.date_added.unwrap();
        assert_eq!(added.to_rfc3339(), "2017-07-13T17:50:17+00:00");
    }
}

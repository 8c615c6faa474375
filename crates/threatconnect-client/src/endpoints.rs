//! Owners, attribute types and indicator listings. One indicator's own endpoints (update,
//! delete, tags, attributes) are in [`crate::indicator`].
//!
//! ThreatConnect's documentation: the v2 API overview
//! (<https://docs.threatconnect.com/en/latest/rest_api/overview.html>) and the pages linked
//! from each method.

use chrono::{DateTime, Utc};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt, stream};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::answer::expect_data;
use crate::client::{Client, RequestBody};
use crate::document::IndicatorType;
use crate::error::Error;
use crate::path::ApiPath;

/// The most items one page may hold (`resultLimit`).
pub const MAX_PAGE_SIZE: usize = 10_000;

/// An owner: an organisation, a community or a source.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Owner {
    /// The owner's id.
    pub id: i64,
    /// The owner's name, as `?owner=` takes it.
    pub name: String,
    /// `Organization`, `Community` or `Source`.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
}

/// An attribute type defined on the instance.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AttributeType {
    /// The type's id.
    #[serde(default)]
    pub id: Option<i64>,
    /// The type's name, such as `External Score`.
    pub name: String,
    /// What it is for.
    #[serde(default)]
    pub description: Option<String>,
    /// The longest value it takes.
    #[serde(default)]
    pub max_size: Option<u64>,
}

/// What the batch feature probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BatchFeature {
    /// The Batch API answered as an enabled one does (404 for a job that cannot exist).
    Enabled,
    /// The Batch API answered 503 "Batch job api is not available": it must be enabled.
    Disabled {
        /// The server's message.
        message: String,
    },
    /// Any other answer. The probe is not documented by ThreatConnect, so an answer it does
    /// not know says nothing either way.
    Unknown {
        /// The HTTP status.
        status: u16,
        /// The server's message.
        message: String,
    },
}

/// An indicator as the v2 API lists it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Indicator {
    /// The indicator's id.
    pub id: i64,
    /// The indicator's type.
    pub kind: IndicatorType,
    /// The value: the address, host name, CIDR block...
    pub summary: String,
    /// The owner's name.
    pub owner_name: Option<String>,
    /// The threat rating.
    pub rating: Option<f64>,
    /// The confidence rating.
    pub confidence: Option<u8>,
    /// Whether it is active (only with `includeAdditional`).
    pub active: Option<bool>,
    /// Whether its status is locked (only with `includeAdditional`).
    pub active_locked: Option<bool>,
    /// When it was added.
    pub date_added: Option<DateTime<Utc>>,
    /// When it last changed.
    pub last_modified: Option<DateTime<Utc>>,
}

/// Which indicators [`Client::indicators`] lists: one owner's, of one type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndicatorQuery {
    owner: String,
    kind: IndicatorType,
    tag: Option<String>,
    include_additional: bool,
    include_inactive: bool,
    page_size: usize,
}

impl IndicatorQuery {
    /// The indicators of type `kind` that `owner` holds, active ones only, 1,000 a page.
    pub fn new(owner: impl Into<String>, kind: IndicatorType) -> IndicatorQuery {
        IndicatorQuery {
            owner: owner.into(),
            kind,
            tag: None,
            include_additional: false,
            include_inactive: false,
            page_size: 1_000,
        }
    }

    /// Only those carrying the tag `tag`.
    pub fn tag(mut self, tag: impl Into<String>) -> IndicatorQuery {
        self.tag = Some(tag.into());
        self
    }

    /// Whether the answer carries the additional fields (`active`, `activeLocked`).
    pub fn include_additional(mut self, include: bool) -> IndicatorQuery {
        self.include_additional = include;
        self
    }

    /// Whether inactive indicators are listed too.
    pub fn include_inactive(mut self, include: bool) -> IndicatorQuery {
        self.include_inactive = include;
        self
    }

    /// Items a page (`resultLimit`), from 1 to 10,000.
    pub fn page_size(mut self, size: usize) -> IndicatorQuery {
        self.page_size = size.clamp(1, MAX_PAGE_SIZE);
        self
    }

    fn path(&self, client: &Client, result_start: usize) -> ApiPath {
        let type_segment = self.kind.path_segment();
        let path = match &self.tag {
            Some(tag) => client.path(["v2", "tags", tag.as_str(), "indicators", type_segment]),
            None => client.path(["v2", "indicators", type_segment]),
        };
        let mut path = path.query("owner", &self.owner);
        if self.include_additional {
            path = path.query("includeAdditional", "true");
        }
        if self.include_inactive {
            path = path
                .query("filters", "active=true,active=false")
                .query("orParams", "true");
        }
        path.query("resultStart", &result_start.to_string())
            .query("resultLimit", &self.page_size.to_string())
    }
}

/// The id a batch job cannot have, asked for by the batch feature probe.
const IMPOSSIBLE_BATCH_ID: &str = "9223372036854775807";

impl Client {
    /// The owners the credentials can see: `GET /v2/owners`. Also the connectivity check.
    ///
    /// Documentation: <https://docs.threatconnect.com/en/latest/rest_api/v2/owners/owners.html>
    ///
    /// # Errors
    ///
    /// Any request error ([`Error::Auth`], [`Error::ClockSkew`], [`Error::Server`],
    /// [`Error::Transport`]), or [`Error::Decode`] for an answer that does not read.
    pub async fn owners(&self) -> Result<Vec<Owner>, Error> {
        #[derive(Deserialize)]
        struct Owners {
            #[serde(default)]
            owner: Vec<Owner>,
        }

        let path = self.path(["v2", "owners"]);
        let answer = self
            .send(Method::GET, &path, &RequestBody::Empty, &[])
            .await?;
        let owners: Owners = expect_data(&answer, "GET", &path, "the list of owners")?;
        tracing::debug!(owners = owners.owner.len(), "owners listed");
        Ok(owners.owner)
    }

    /// The attribute types defined on the instance, all pages of them.
    ///
    /// By default this asks `GET /api/v3/attributeTypes`, the listing ThreatConnect
    /// documents for v3; a v2 equivalent is not confirmed, so the path can be changed with
    /// [`ClientBuilder::attribute_types_path`](crate::ClientBuilder::attribute_types_path).
    /// Both answer shapes are read: `data` as a list (v3) or `data.attributeType` (v2 style).
    ///
    /// Documentation:
    /// <https://docs.threatconnect.com/en/latest/rest_api/v3/attribute_types/attribute_types.html>
    ///
    /// # Errors
    ///
    /// Any request error, or [`Error::Decode`] for an answer that does not read.
    pub async fn attribute_types(&self) -> Result<Vec<AttributeType>, Error> {
        const PAGE_SIZE: usize = 1_000;
        let mut all = Vec::new();
        loop {
            let path = ApiPath::literal(&self.inner.base_path, &self.inner.attribute_types_path)
                .query("resultStart", &all.len().to_string())
                .query("resultLimit", &PAGE_SIZE.to_string());
            let answer = self
                .send(Method::GET, &path, &RequestBody::Empty, &[])
                .await?;
            let page: AttributeTypePage =
                expect_data(&answer, "GET", &path, "the list of attribute types")?;

            let page = page.into_items();
            let short = page.len() < PAGE_SIZE;
            all.extend(page);
            if short {
                tracing::debug!(attribute_types = all.len(), "attribute types listed");
                return Ok(all);
            }
        }
    }

    /// Of the attribute type names `wanted`, those the instance does not define.
    ///
    /// # Errors
    ///
    /// As [`Client::attribute_types`].
    pub async fn missing_attribute_types(&self, wanted: &[&str]) -> Result<Vec<String>, Error> {
        let defined = self.attribute_types().await?;
        let missing = wanted
            .iter()
            .filter(|name| !defined.iter().any(|defined| defined.name == **name))
            .map(|name| (*name).to_owned())
            .collect();
        Ok(missing)
    }

    /// Whether the Batch API is enabled, found without importing anything: it asks for a
    /// batch job that cannot exist (`GET /v2/batch/9223372036854775807`). A 404 means the
    /// feature is on; the 503 "Batch job api is not available" that it is off. ThreatConnect
    /// does not document this probe, so any other answer is [`BatchFeature::Unknown`].
    ///
    /// Documentation:
    /// <https://docs.threatconnect.com/en/latest/rest_api/v2/batch_api/batch_api.html>
    ///
    /// # Errors
    ///
    /// [`Error::Auth`], [`Error::ClockSkew`] and [`Error::Transport`]: failures that say
    /// nothing about the batch feature.
    pub async fn probe_batch_feature(&self) -> Result<BatchFeature, Error> {
        let path = self.path(["v2", "batch", IMPOSSIBLE_BATCH_ID]);
        let answer = self.send(
            Method::GET,
            &path,
            &RequestBody::Empty,
            &[StatusCode::NOT_FOUND],
        );
        let feature = match answer.await {
            Ok(answer) if answer.status == StatusCode::NOT_FOUND => BatchFeature::Enabled,
            Ok(answer) => BatchFeature::Unknown {
                status: answer.status.as_u16(),
                message: answer.message(),
            },
            Err(Error::BatchNotEnabled { message, .. }) => BatchFeature::Disabled { message },
            Err(Error::Server {
                status, message, ..
            }) => BatchFeature::Unknown { status, message },
            Err(other) => return Err(other),
        };
        tracing::debug!(?feature, "batch feature probed");
        Ok(feature)
    }

    /// One indicator by its value, or `None` when the owner has no such indicator:
    /// `GET /v2/indicators/{type}/{value}?owner=...`. The value is percent-encoded as one
    /// path segment (`198.51.100.0/24` becomes `198.51.100.0%2F24`).
    ///
    /// Documentation:
    /// <https://docs.threatconnect.com/en/latest/rest_api/v2/indicators/indicators.html#retrieve-a-single-indicator>
    ///
    /// # Errors
    ///
    /// Any request error, or [`Error::Decode`] for an answer that does not read.
    pub async fn indicator(
        &self,
        owner: &str,
        kind: IndicatorType,
        value: &str,
    ) -> Result<Option<Indicator>, Error> {
        let path = self
            .path(["v2", "indicators", kind.path_segment(), value])
            .query("owner", owner)
            .query("includeAdditional", "true");
        let answer = self.send(
            Method::GET,
            &path,
            &RequestBody::Empty,
            &[StatusCode::NOT_FOUND],
        );
        let answer = answer.await?;
        if answer.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }

        let what = format!("the {kind} indicator {value:?}");
        let data: Map<String, Value> = expect_data(&answer, "GET", &path, &what)?;
        let item = data
            .get(singular_key(&kind))
            .or_else(|| data.get("indicator"))
            .ok_or_else(|| decode(&what, "the answer holds no indicator"))?;
        indicator_from_json(item, &kind, &what).map(Some)
    }

    /// The indicators of one owner and type, page after page until a short page, as a
    /// stream: `GET /v2/indicators/{type}` or, by tag, `GET /v2/tags/{tag}/indicators/{type}`.
    ///
    /// Documentation:
    /// <https://docs.threatconnect.com/en/latest/rest_api/v2/indicators/indicators.html#retrieve-multiple-indicators>
    /// and, for paging, <https://docs.threatconnect.com/en/latest/rest_api/overview.html>
    ///
    /// # Errors
    ///
    /// The stream yields a request or decode error in place of the page that failed, and
    /// ends after it.
    pub fn indicators(
        &self,
        query: IndicatorQuery,
    ) -> BoxStream<'static, Result<Indicator, Error>> {
        let client = self.clone();
        let pages = stream::try_unfold(Some(0_usize), move |next_start| {
            let client = client.clone();
            let query = query.clone();
            async move {
                let Some(result_start) = next_start else {
                    return Ok(None);
                };
                let page = client.indicator_page(&query, result_start).await?;
                let next = (page.len() == query.page_size).then(|| result_start + page.len());
                Ok(Some((stream::iter(page.into_iter().map(Ok)), next)))
            }
        });
        pages.try_flatten().boxed()
    }

    async fn indicator_page(
        &self,
        query: &IndicatorQuery,
        result_start: usize,
    ) -> Result<Vec<Indicator>, Error> {
        let path = query.path(self, result_start);
        let answer = self
            .send(Method::GET, &path, &RequestBody::Empty, &[])
            .await?;
        let what = format!(
            "the {} indicators of {:?} from {result_start}",
            query.kind, query.owner
        );
        let data: Map<String, Value> = expect_data(&answer, "GET", &path, &what)?;

        let items = match data
            .get(singular_key(&query.kind))
            .or_else(|| data.get("indicator"))
        {
            Some(Value::Array(items)) => items.as_slice(),
            Some(Value::Object(_)) => std::slice::from_ref(&data[singular_key(&query.kind)]),
            Some(_) => return Err(decode(&what, "the indicator list is not a list")),
            None => &[],
        };
        let page = items
            .iter()
            .map(|item| indicator_from_json(item, &query.kind, &what))
            .collect::<Result<Vec<_>, _>>()?;
        tracing::debug!(
            result_start,
            indicators = page.len(),
            kind = %query.kind,
            "indicator page read"
        );
        Ok(page)
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum AttributeTypePage {
    List(Vec<AttributeType>),
    Wrapped {
        #[serde(rename = "attributeType", default)]
        attribute_type: Vec<AttributeType>,
    },
}

impl AttributeTypePage {
    fn into_items(self) -> Vec<AttributeType> {
        match self {
            AttributeTypePage::List(items) => items,
            AttributeTypePage::Wrapped { attribute_type } => attribute_type,
        }
    }
}

/// The key under which v2 answers hold items of this type.
pub(crate) fn singular_key(kind: &IndicatorType) -> &'static str {
    match kind {
        IndicatorType::Address => "address",
        IndicatorType::Host => "host",
        IndicatorType::Cidr => "cidrBlock",
        IndicatorType::Url => "url",
        IndicatorType::EmailAddress => "emailAddress",
        IndicatorType::File => "file",
        IndicatorType::Asn => "asn",
    }
}

/// The fields that hold an indicator's value, by type, in the order they are tried.
const SUMMARY_FIELDS: [&str; 11] = [
    "summary",
    "ip",
    "hostName",
    "block",
    "Block",
    "text",
    "address",
    "AS Number",
    "sha256",
    "sha1",
    "md5",
];

/// An indicator of an answer. The documentation's own examples write `id` as a string and
/// `dateAdded` without a time zone, and name the owner as `owner.name` in single-indicator
/// answers: all of these are read.
pub(crate) fn indicator_from_json(
    item: &Value,
    kind: &IndicatorType,
    what: &str,
) -> Result<Indicator, Error> {
    let Some(fields) = item.as_object() else {
        return Err(decode(what, "an indicator is not a JSON object"));
    };
    let id = id_field(fields).ok_or_else(|| decode(what, "an indicator has no numeric `id`"))?;
    let summary = SUMMARY_FIELDS
        .iter()
        .find_map(|name| fields.get(*name).and_then(Value::as_str))
        .ok_or_else(|| decode(what, &format!("indicator {id} has no value field")))?;

    Ok(Indicator {
        id,
        kind: kind.clone(),
        summary: summary.to_owned(),
        owner_name: fields
            .get("ownerName")
            .or_else(|| fields.get("owner").and_then(|owner| owner.get("name")))
            .and_then(Value::as_str)
            .map(str::to_owned),
        rating: fields.get("rating").and_then(Value::as_f64),
        confidence: fields
            .get("confidence")
            .and_then(Value::as_u64)
            .and_then(|c| u8::try_from(c).ok()),
        active: fields.get("active").and_then(Value::as_bool),
        active_locked: fields.get("activeLocked").and_then(Value::as_bool),
        date_added: date_field(fields, "dateAdded", what)?,
        last_modified: date_field(fields, "lastModified", what)?,
    })
}

/// The `id` of an item, a number or a string of digits.
pub(crate) fn id_field(fields: &Map<String, Value>) -> Option<i64> {
    match fields.get("id")? {
        Value::Number(number) => number.as_i64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// A date field: RFC 3339, or without a time zone (taken as UTC) as the documentation's
/// examples write `dateAdded`.
pub(crate) fn date_field(
    fields: &Map<String, Value>,
    name: &str,
    what: &str,
) -> Result<Option<DateTime<Utc>>, Error> {
    let Some(text) = fields.get(name).and_then(Value::as_str) else {
        return Ok(None);
    };
    let with_zone = DateTime::parse_from_rfc3339(text).map(|date| date.with_timezone(&Utc));
    let without_zone = || {
        chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S").map(|date| date.and_utc())
    };
    with_zone
        .or_else(|_| without_zone())
        .map(Some)
        .map_err(|error| decode(what, &format!("`{name}` {text:?} is not a date: {error}")))
}

pub(crate) fn decode(what: &str, detail: &str) -> Error {
    Error::Decode {
        what: what.to_owned(),
        detail: detail.to_owned(),
    }
}

//! The operator's settings for mapping, rating and removals, validated once.

use std::fmt;
use std::str::FromStr;

use proofpoint_et_client::Score;
use serde::{Deserialize, Serialize};
use threatconnect_client::{Confidence, Rating};

use crate::category::{CategorySelector, check_tag_name};
use crate::error::Error;
use crate::key::IndicatorKind;

/// What becomes of wildcard patterns such as `*.example.com` (a Host cannot hold a `*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WildcardPolicy {
    /// Skip every pattern and count it (the default).
    #[default]
    Skip,
    /// Turn a leading `*.` into the base domain (`*.sub.example` becomes `sub.example`);
    /// other patterns (`*lead.example`, `mid*dle.example`) are still skipped and counted.
    BaseDomain,
}

/// What becomes of CIDR blocks in an IP list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CidrPolicy {
    /// Skip every block and count it (the default); a block is never sent as an Address.
    #[default]
    Skip,
    /// Send blocks as `CIDR` indicators.
    Send,
}

/// The bands that turn an External Score into a threat rating.
///
/// Each band is a lowest score and the rating from that score up to the next band's lowest
/// score. A score below the first band's lowest score gets the first band's rating.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatingBands(Vec<(u8, Rating)>);

impl RatingBands {
    /// Bands from `(lowest score, rating)` pairs, in ascending order of score.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] naming `rating.bands` (or one band of it) where there is no
    /// band, a score is above 127, a rating above 5, or the scores do not ascend.
    pub fn new(bands: &[(u8, u8)]) -> Result<RatingBands, Error> {
        if bands.is_empty() {
            return Err(Error::setting(
                "rating.bands",
                "at least one band is needed",
            ));
        }

        let mut checked = Vec::with_capacity(bands.len());
        for (index, &(lowest_score, rating)) in bands.iter().enumerate() {
            let setting = format!("rating.bands[{index}]");
            if Score::new(lowest_score).is_none() {
                let reason = format!("the lowest score {lowest_score} is above 127");
                return Err(Error::setting(setting, reason));
            }
            let rating = Rating::new(rating).ok_or_else(|| {
                Error::setting(&setting, format!("the rating {rating} is not 0 to 5"))
            })?;
            if let Some(&(previous, _)) = checked.last()
                && lowest_score <= previous
            {
                let reason = format!(
                    "the lowest score {lowest_score} is not above the previous band's \
                         ({previous})"
                );
                return Err(Error::setting(setting, reason));
            }
            checked.push((lowest_score, rating));
        }
        Ok(RatingBands(checked))
    }

    /// The rating of an External Score.
    pub fn rating(&self, score: u8) -> Rating {
        let first = self.0[0].1;
        self.0
            .iter()
            .take_while(|(lowest_score, _)| *lowest_score <= score)
            .last()
            .map_or(first, |(_, rating)| *rating)
    }

    /// The bands as `(lowest score, rating)` pairs.
    pub fn bands(&self) -> impl Iterator<Item = (u8, Rating)> + '_ {
        self.0.iter().copied()
    }
}

impl Default for RatingBands {
    /// 20-39 → 1, 40-59 → 2, 60-79 → 3, 80-99 → 4, 100-127 → 5; below 20 → 1.
    fn default() -> RatingBands {
        RatingBands::new(&[(20, 1), (40, 2), (60, 3), (80, 4), (100, 5)])
            .expect("the default bands are valid")
    }
}

/// How an indicator's threat rating is chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RatingPolicy {
    /// From the External Score through bands.
    Bands(RatingBands),
    /// The same rating for every indicator.
    Fixed(Rating),
}

impl RatingPolicy {
    /// The rating of an External Score.
    pub fn rating(&self, score: u8) -> Rating {
        match self {
            RatingPolicy::Bands(bands) => bands.rating(score),
            RatingPolicy::Fixed(rating) => *rating,
        }
    }
}

/// What is done to an indicator that left the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RemovalAction {
    /// A `Delete` job removes it from ThreatConnect.
    Delete,
    /// It is set `active: false` (the default).
    #[default]
    Deactivate,
    /// Its rating and confidence are set to 0.
    ZeroRating,
    /// It gets the removal tag (`ET Removed` by default).
    Tag,
    /// Nothing is sent.
    Keep,
}

impl RemovalAction {
    /// Every action.
    pub const ALL: [RemovalAction; 5] = [
        RemovalAction::Delete,
        RemovalAction::Deactivate,
        RemovalAction::ZeroRating,
        RemovalAction::Tag,
        RemovalAction::Keep,
    ];

    /// The action's name in settings and reports: `delete`, `deactivate`, `zero-rating`,
    /// `tag` or `keep`.
    pub fn as_str(self) -> &'static str {
        match self {
            RemovalAction::Delete => "delete",
            RemovalAction::Deactivate => "deactivate",
            RemovalAction::ZeroRating => "zero-rating",
            RemovalAction::Tag => "tag",
            RemovalAction::Keep => "keep",
        }
    }
}

impl fmt::Display for RemovalAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RemovalAction {
    type Err = Error;

    /// Reads an action's name.
    fn from_str(text: &str) -> Result<RemovalAction, Error> {
        RemovalAction::ALL
            .into_iter()
            .find(|action| action.as_str() == text)
            .ok_or_else(|| {
                let reason =
                    format!("{text:?} is not one of delete, deactivate, zero-rating, tag, keep");
                Error::setting("removal.action", reason)
            })
    }
}

/// The removal tag's default.
pub const DEFAULT_REMOVAL_TAG: &str = "ET Removed";

/// The mass-removal guard's default share of the previous import, in percent.
pub const DEFAULT_MAX_REMOVAL_PERCENT: f64 = 20.0;

/// The confidence's default.
pub const DEFAULT_CONFIDENCE: u8 = 50;

/// The operator's settings, validated. Made by [`MapperConfig::builder`].
///
/// Errors name the setting with the names below, which the application's configuration file
/// is expected to use too:
///
/// | setting | meaning | default |
/// | --- | --- | --- |
/// | `owner` | the ThreatConnect owner the feed writes to | (required) |
/// | `types` | `Address`, `Host`: the types to collect | both |
/// | `cidr` | `skip` or `send` CIDR blocks | `skip` |
/// | `wildcards` | `skip`, or `base-domain` (`*.a.example` becomes `a.example`) | `skip` |
/// | `min_score` | the lowest External Score imported | none |
/// | `categories.allow` | only these categories (IDs or names) | all |
/// | `categories.deny` | never these categories | none |
/// | `rating.bands` | `(lowest score, rating)` pairs | 20→1, 40→2, 60→3, 80→4, 100→5 |
/// | `rating.fixed` | one rating for every indicator, instead of bands | unset |
/// | `confidence` | the confidence of every indicator, 0 to 100 | 50 |
/// | `feed_tag` | a tag every upserted indicator carries | none |
/// | `removal.action` | `delete`, `deactivate`, `zero-rating`, `tag` or `keep` | `deactivate` |
/// | `removal.tag` | the tag of the `tag` action | `ET Removed` |
/// | `removal.max_percent` | the mass-removal guard's share of the previous import | 20 |
/// | `removal.allow_mass_removal` | let removals beyond that share through | false |
#[derive(Debug, Clone, PartialEq)]
pub struct MapperConfig {
    pub(crate) owner: String,
    pub(crate) collect_addresses: bool,
    pub(crate) collect_hosts: bool,
    pub(crate) cidr: CidrPolicy,
    pub(crate) wildcards: WildcardPolicy,
    pub(crate) min_score: Option<u8>,
    pub(crate) allow: Vec<CategorySelector>,
    pub(crate) deny: Vec<CategorySelector>,
    pub(crate) rating: RatingPolicy,
    pub(crate) confidence: Confidence,
    pub(crate) feed_tag: Option<String>,
    pub(crate) removal_action: RemovalAction,
    pub(crate) removal_tag: String,
    pub(crate) max_removal_percent: f64,
    pub(crate) allow_mass_removal: bool,
}

impl MapperConfig {
    /// A builder with every default, for the feed's `owner`.
    pub fn builder(owner: impl Into<String>) -> MapperConfigBuilder {
        MapperConfigBuilder::new(owner)
    }

    /// The ThreatConnect owner the feed writes to.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Whether indicators of `kind` are collected.
    pub fn collects(&self, kind: IndicatorKind) -> bool {
        match kind {
            IndicatorKind::Address => self.collect_addresses,
            IndicatorKind::Host => self.collect_hosts,
            IndicatorKind::Cidr => self.cidr == CidrPolicy::Send,
        }
    }

    /// What becomes of CIDR blocks.
    pub fn cidr(&self) -> CidrPolicy {
        self.cidr
    }

    /// What becomes of wildcard patterns.
    pub fn wildcards(&self) -> WildcardPolicy {
        self.wildcards
    }

    /// The lowest External Score imported, if any.
    pub fn min_score(&self) -> Option<u8> {
        self.min_score
    }

    /// The categories allowed; empty means all.
    pub fn allowed_categories(&self) -> &[CategorySelector] {
        &self.allow
    }

    /// The categories denied.
    pub fn denied_categories(&self) -> &[CategorySelector] {
        &self.deny
    }

    /// How ratings are chosen.
    pub fn rating(&self) -> &RatingPolicy {
        &self.rating
    }

    /// The confidence of every upserted indicator.
    pub fn confidence(&self) -> Confidence {
        self.confidence
    }

    /// The tag every upserted indicator carries, if any.
    pub fn feed_tag(&self) -> Option<&str> {
        self.feed_tag.as_deref()
    }

    /// What is done to indicators that left the list.
    pub fn removal_action(&self) -> RemovalAction {
        self.removal_action
    }

    /// The tag of the `tag` removal action.
    pub fn removal_tag(&self) -> &str {
        &self.removal_tag
    }

    /// The mass-removal guard's share of the previous import, in percent.
    pub fn max_removal_percent(&self) -> f64 {
        self.max_removal_percent
    }

    /// Whether removals beyond the guard's share go through.
    pub fn allows_mass_removal(&self) -> bool {
        self.allow_mass_removal
    }
}

/// Collects settings; [`build`](MapperConfigBuilder::build) checks them all at once, so that
/// a chain of setters never fails halfway.
#[derive(Debug, Clone)]
pub struct MapperConfigBuilder {
    owner: String,
    types: Vec<IndicatorKind>,
    cidr: CidrPolicy,
    wildcards: WildcardPolicy,
    min_score: Option<u8>,
    allow: Vec<CategorySelector>,
    deny: Vec<CategorySelector>,
    rating_bands: Option<Vec<(u8, u8)>>,
    fixed_rating: Option<u8>,
    confidence: u8,
    feed_tag: Option<String>,
    removal_action: RemovalAction,
    removal_tag: String,
    max_removal_percent: f64,
    allow_mass_removal: bool,
}

impl MapperConfigBuilder {
    /// Every default, for the feed's `owner`.
    pub fn new(owner: impl Into<String>) -> MapperConfigBuilder {
        MapperConfigBuilder {
            owner: owner.into(),
            types: vec![IndicatorKind::Address, IndicatorKind::Host],
            cidr: CidrPolicy::Skip,
            wildcards: WildcardPolicy::Skip,
            min_score: None,
            allow: Vec::new(),
            deny: Vec::new(),
            rating_bands: None,
            fixed_rating: None,
            confidence: DEFAULT_CONFIDENCE,
            feed_tag: None,
            removal_action: RemovalAction::Deactivate,
            removal_tag: DEFAULT_REMOVAL_TAG.to_owned(),
            max_removal_percent: DEFAULT_MAX_REMOVAL_PERCENT,
            allow_mass_removal: false,
        }
    }

    /// The types to collect: `Address`, `Host` or both (CIDR blocks have their own setting).
    pub fn types(mut self, types: impl IntoIterator<Item = IndicatorKind>) -> Self {
        self.types = types.into_iter().collect();
        self
    }

    /// What becomes of CIDR blocks.
    pub fn cidr(mut self, policy: CidrPolicy) -> Self {
        self.cidr = policy;
        self
    }

    /// What becomes of wildcard patterns.
    pub fn wildcards(mut self, policy: WildcardPolicy) -> Self {
        self.wildcards = policy;
        self
    }

    /// The lowest External Score imported.
    pub fn min_score(mut self, score: u8) -> Self {
        self.min_score = Some(score);
        self
    }

    /// Only these categories; rows of others are dropped and counted.
    pub fn allow_categories(
        mut self,
        categories: impl IntoIterator<Item = CategorySelector>,
    ) -> Self {
        self.allow = categories.into_iter().collect();
        self
    }

    /// Never these categories; their rows are dropped and counted.
    pub fn deny_categories(
        mut self,
        categories: impl IntoIterator<Item = CategorySelector>,
    ) -> Self {
        self.deny = categories.into_iter().collect();
        self
    }

    /// Rating bands as `(lowest score, rating)` pairs, in ascending order of score.
    pub fn rating_bands(mut self, bands: &[(u8, u8)]) -> Self {
        self.rating_bands = Some(bands.to_vec());
        self
    }

    /// One rating, 0 to 5, for every indicator.
    pub fn fixed_rating(mut self, rating: u8) -> Self {
        self.fixed_rating = Some(rating);
        self
    }

    /// The confidence, 0 to 100.
    pub fn confidence(mut self, confidence: u8) -> Self {
        self.confidence = confidence;
        self
    }

    /// A tag every upserted indicator carries.
    pub fn feed_tag(mut self, tag: impl Into<String>) -> Self {
        self.feed_tag = Some(tag.into());
        self
    }

    /// What is done to indicators that left the list.
    pub fn removal_action(mut self, action: RemovalAction) -> Self {
        self.removal_action = action;
        self
    }

    /// The tag of the `tag` removal action.
    pub fn removal_tag(mut self, tag: impl Into<String>) -> Self {
        self.removal_tag = tag.into();
        self
    }

    /// The mass-removal guard's share of the previous import, in percent (0 to 100).
    pub fn max_removal_percent(mut self, percent: f64) -> Self {
        self.max_removal_percent = percent;
        self
    }

    /// Let removals beyond the guard's share go through (for one run the operator approved).
    pub fn allow_mass_removal(mut self, allow: bool) -> Self {
        self.allow_mass_removal = allow;
        self
    }

    /// The settings, checked.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] naming the first setting that cannot be used: an empty owner,
    /// no type or `CIDR` among `types`, a score above 127, bad rating bands, both bands and a
    /// fixed rating, a rating above 5, a confidence above 100, a tag that is empty, longer
    /// than 128 characters or holds control characters, a feed tag equal to the removal tag,
    /// or a guard share outside 0 to 100.
    pub fn build(self) -> Result<MapperConfig, Error> {
        if self.owner.trim().is_empty() {
            return Err(Error::setting("owner", "the owner cannot be empty"));
        }
        let (collect_addresses, collect_hosts) = check_types(&self.types)?;
        if let Some(score) = self.min_score.filter(|&score| Score::new(score).is_none()) {
            return Err(Error::setting("min_score", format!("{score} is above 127")));
        }
        check_selectors("categories.allow", &self.allow)?;
        check_selectors("categories.deny", &self.deny)?;
        let rating = rating_policy(self.rating_bands.as_deref(), self.fixed_rating)?;
        let confidence = Confidence::new(self.confidence).ok_or_else(|| {
            Error::setting("confidence", format!("{} is not 0 to 100", self.confidence))
        })?;
        check_tags(self.feed_tag.as_deref(), &self.removal_tag)?;
        let percent = self.max_removal_percent;
        if !(0.0..=100.0).contains(&percent) {
            return Err(Error::setting(
                "removal.max_percent",
                format!("{percent} is not 0 to 100"),
            ));
        }

        Ok(MapperConfig {
            owner: self.owner,
            collect_addresses,
            collect_hosts,
            cidr: self.cidr,
            wildcards: self.wildcards,
            min_score: self.min_score,
            allow: self.allow,
            deny: self.deny,
            rating,
            confidence,
            feed_tag: self.feed_tag,
            removal_action: self.removal_action,
            removal_tag: self.removal_tag,
            max_removal_percent: percent,
            allow_mass_removal: self.allow_mass_removal,
        })
    }
}

fn check_types(types: &[IndicatorKind]) -> Result<(bool, bool), Error> {
    if types.contains(&IndicatorKind::Cidr) {
        let reason = "CIDR blocks are turned on by the `cidr` setting, not by `types`";
        return Err(Error::setting("types", reason));
    }
    if types.is_empty() {
        return Err(Error::setting(
            "types",
            "at least one of Address and Host is needed",
        ));
    }
    Ok((
        types.contains(&IndicatorKind::Address),
        types.contains(&IndicatorKind::Host),
    ))
}

fn check_selectors(setting: &str, selectors: &[CategorySelector]) -> Result<(), Error> {
    for selector in selectors {
        if let CategorySelector::Name(name) = selector
            && name.trim().is_empty()
        {
            return Err(Error::setting(setting, "a category name cannot be empty"));
        }
    }
    Ok(())
}

fn rating_policy(bands: Option<&[(u8, u8)]>, fixed: Option<u8>) -> Result<RatingPolicy, Error> {
    match (bands, fixed) {
        (Some(_), Some(_)) => Err(Error::setting(
            "rating",
            "set either `rating.bands` or `rating.fixed`, not both",
        )),
        (None, Some(fixed)) => Rating::new(fixed)
            .map(RatingPolicy::Fixed)
            .ok_or_else(|| Error::setting("rating.fixed", format!("{fixed} is not 0 to 5"))),
        (Some(bands), None) => RatingBands::new(bands).map(RatingPolicy::Bands),
        (None, None) => Ok(RatingPolicy::Bands(RatingBands::default())),
    }
}

fn check_tags(feed_tag: Option<&str>, removal_tag: &str) -> Result<(), Error> {
    if let Some(feed_tag) = feed_tag {
        check_tag_name(feed_tag).map_err(|reason| Error::setting("feed_tag", reason))?;
        if feed_tag == removal_tag {
            let reason = "the feed tag cannot be the removal tag";
            return Err(Error::setting("feed_tag", reason));
        }
    }
    check_tag_name(removal_tag).map_err(|reason| Error::setting("removal.tag", reason))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setting_of(error: Error) -> String {
        match error {
            Error::InvalidSetting { setting, .. } => setting,
            other => panic!("not a setting error: {other}"),
        }
    }

    fn rating(bands: &RatingBands, score: u8) -> u8 {
        bands.rating(score).get()
    }

    #[test]
    fn default_bands_follow_the_contract() {
        let bands = RatingBands::default();
        for (score, expected) in [
            (0, 1),
            (19, 1),
            (20, 1),
            (39, 1),
            (40, 2),
            (59, 2),
            (60, 3),
            (79, 3),
            (80, 4),
            (99, 4),
            (100, 5),
            (127, 5),
        ] {
            assert_eq!(rating(&bands, score), expected, "score {score}");
        }
    }

    #[test]
    fn edited_bands_apply() {
        let bands = RatingBands::new(&[(0, 0), (100, 3), (120, 5)]).unwrap();
        assert_eq!(rating(&bands, 99), 0);
        assert_eq!(rating(&bands, 100), 3);
        assert_eq!(rating(&bands, 119), 3);
        assert_eq!(rating(&bands, 127), 5);
    }

    #[test]
    fn below_the_first_band_gets_its_rating() {
        let bands = RatingBands::new(&[(50, 2), (90, 4)]).unwrap();
        assert_eq!(rating(&bands, 10), 2);
    }

    #[test]
    fn bad_bands_name_the_band() {
        let cases: [(&[(u8, u8)], &str); 4] = [
            (&[], "rating.bands"),
            (&[(20, 1), (128, 2)], "rating.bands[1]"),
            (&[(20, 6)], "rating.bands[0]"),
            (&[(20, 1), (40, 2), (40, 3)], "rating.bands[2]"),
        ];
        for (bands, setting) in cases {
            assert_eq!(setting_of(RatingBands::new(bands).unwrap_err()), setting);
        }
    }

    #[test]
    fn fixed_rating_and_confidence() {
        let config = MapperConfig::builder("Org")
            .fixed_rating(4)
            .confidence(80)
            .build()
            .unwrap();
        assert_eq!(config.rating().rating(20).get(), 4);
        assert_eq!(config.rating().rating(127).get(), 4);
        assert_eq!(config.confidence().get(), 80);
    }

    #[test]
    fn defaults() {
        let config = MapperConfig::builder("Org").build().unwrap();
        assert_eq!(config.confidence().get(), 50);
        assert!(config.collects(IndicatorKind::Address));
        assert!(config.collects(IndicatorKind::Host));
        assert!(!config.collects(IndicatorKind::Cidr));
        assert_eq!(config.removal_action(), RemovalAction::Deactivate);
        assert_eq!(config.removal_tag(), "ET Removed");
        assert_eq!(config.max_removal_percent(), 20.0);
        assert_eq!(
            config.rating(),
            &RatingPolicy::Bands(RatingBands::default())
        );
    }

    #[test]
    fn each_bad_setting_is_named() {
        let builder = || MapperConfig::builder("Example Org");
        let cases = [
            (MapperConfig::builder(" "), "owner"),
            (builder().types([]), "types"),
            (builder().types([IndicatorKind::Cidr]), "types"),
            (builder().min_score(128), "min_score"),
            (
                builder().deny_categories([CategorySelector::Name(String::new())]),
                "categories.deny",
            ),
            (builder().fixed_rating(6), "rating.fixed"),
            (builder().fixed_rating(3).rating_bands(&[(20, 1)]), "rating"),
            (builder().rating_bands(&[(20, 9)]), "rating.bands[0]"),
            (builder().confidence(101), "confidence"),
            (builder().feed_tag(""), "feed_tag"),
            (builder().feed_tag("ET Removed"), "feed_tag"),
            (builder().removal_tag("x".repeat(129)), "removal.tag"),
            (builder().max_removal_percent(101.0), "removal.max_percent"),
            (
                builder().max_removal_percent(f64::NAN),
                "removal.max_percent",
            ),
        ];
        for (builder, setting) in cases {
            assert_eq!(setting_of(builder.build().unwrap_err()), setting);
        }
    }

    #[test]
    fn removal_actions_read_their_names() {
        for action in RemovalAction::ALL {
            assert_eq!(action.as_str().parse::<RemovalAction>().unwrap(), action);
        }
        let error = "remove".parse::<RemovalAction>().unwrap_err();
        assert_eq!(setting_of(error), "removal.action");
    }
}

//! The settings of one command, checked: every raw value parsed, every secret read, before any
//! network call.

use std::path::{Path, PathBuf};
use std::time::Duration;

use proofpoint_et_client::{FileFormat, ListFile, ListKind, SubscriptionCode};
use reputation_mapper::{
    CategorySelector, CidrPolicy, IndicatorKind, MapperConfig, RemovalAction, WildcardPolicy,
};
use threatconnect_client::{ChunkLimits, Credentials};

use crate::config::{ConfigError, Origin, RawSettings, parse_duration, spec};

/// Where the lists come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceSetting {
    /// The ET server (the subscription code is a separate secret).
    Url(String),
    /// A local directory holding the list files.
    Directory(PathBuf),
}

impl SourceSetting {
    /// A short description for logs and the report (never holds a secret).
    pub fn describe(&self) -> String {
        match self {
            SourceSetting::Url(url) => url.clone(),
            SourceSetting::Directory(dir) => dir.display().to_string(),
        }
    }
}

/// How to reach ThreatConnect.
#[derive(Debug)]
pub struct ThreatConnectSettings {
    /// The API base URL.
    pub url: String,
    /// HMAC or token credentials.
    pub credentials: Credentials,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// What a command is about to do, which decides what it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Fetch lists and send to ThreatConnect.
    Run,
    /// Fetch lists and write documents to a folder.
    DryRun,
    /// Read the state only.
    State,
    /// Map one local file.
    Map,
    /// Check both services.
    Check,
}

/// The checked settings.
#[derive(Debug)]
pub struct Settings {
    /// Where the lists come from.
    pub source: SourceSetting,
    /// The subscription code, for an ET URL.
    pub subscription_code: Option<SubscriptionCode>,
    /// The lists to fetch, one per collected type.
    pub lists: Vec<ListFile>,
    /// The owner, where one is set (`map`, and `state` given a state path, do without).
    pub owner: Option<String>,
    /// The mapping settings (their owner is [`NO_OWNER`] where none is set).
    pub mapper: MapperConfig,
    /// How often every indicator is sent again (zero: never by itself).
    pub full_refresh_every: Duration,
    /// ThreatConnect, where the command talks to it.
    pub threatconnect: Option<ThreatConnectSettings>,
    /// Extra CA certificates.
    pub extra_ca_file: Option<PathBuf>,
    /// How documents are cut into jobs.
    pub chunk_limits: ChunkLimits,
    /// Jobs at once.
    pub job_concurrency: usize,
    /// The state file.
    pub state_path: PathBuf,
    /// The report file.
    pub report_path: PathBuf,
    /// The log level.
    pub log_level: tracing::Level,
    /// The log format.
    pub log_format: LogFormat,
}

impl Settings {
    /// Checks `raw` for a command that needs `need`; `dry_run` is the dry-run folder and
    /// `allow_mass_removal` the run flag of that name.
    ///
    /// # Errors
    ///
    /// The first setting that is missing or does not parse, named with where its value came
    /// from, what it was and what is accepted.
    pub fn resolve(
        raw: &RawSettings,
        need: Need,
        dry_run: Option<&Path>,
        allow_mass_removal: bool,
    ) -> Result<Settings, ConfigError> {
        let log_level = parse_with(
            raw,
            "log_level",
            "error, warn, info, debug or trace",
            |text| text.parse::<tracing::Level>().ok(),
        )?;
        let log_format = parse_with(raw, "log_format", "text or json", |text| match text {
            "text" => Some(LogFormat::Text),
            "json" => Some(LogFormat::Json),
            _ => None,
        })?;

        let source = parse_source(raw)?;
        let subscription_code = match (&source, need) {
            (SourceSetting::Url(_), Need::Run | Need::DryRun | Need::Check) => {
                Some(subscription_code(raw)?)
            }
            _ => None,
        };
        let owner = raw.get("owner").map(|(owner, _)| owner.trim().to_owned());
        let owner = owner.filter(|owner| !owner.is_empty());
        let needs_owner = match need {
            Need::Map => false,
            // The state file names its own owner; only the default path is made from one.
            Need::State => !raw.is_given("state"),
            Need::Run | Need::DryRun | Need::Check => true,
        };
        if owner.is_none() && needs_owner {
            return Err(missing("owner", "to know whose indicators these are"));
        }

        let types = parse_types(raw)?;
        let lists = list_files(raw, &types, &source)?;
        let mapper = mapper_config(
            raw,
            owner.as_deref().unwrap_or(NO_OWNER),
            &types,
            allow_mass_removal,
        )?;
        let full_refresh_every =
            parse_with(raw, "full_refresh_every", "a duration such as `24h`", |t| {
                parse_duration(t).ok()
            })?;

        let threatconnect = match need {
            Need::Run | Need::Check => Some(threatconnect(raw)?),
            _ => None,
        };
        let extra_ca_file = extra_ca_file(raw)?;
        let chunk_limits = chunk_limits(raw)?;
        let job_concurrency =
            parse_with(raw, "job_concurrency", "a whole number from 1 to 8", |t| {
                t.parse::<usize>().ok().filter(|n| (1..=8).contains(n))
            })?;

        let state_path = state_path(raw, owner.as_deref(), dry_run)?;
        // Like the state, a dry run's report stays in its folder unless a flag says otherwise.
        let report = match dry_run {
            Some(_) => given_by_flag(raw, "report").map(str::to_owned),
            None => raw.get("report").map(|(path, _)| path.to_owned()),
        };
        let report_path = match report {
            Some(path) => PathBuf::from(path),
            None => beside(&state_path, "report.json"),
        };

        Ok(Settings {
            source,
            subscription_code,
            lists,
            owner,
            mapper,
            full_refresh_every,
            threatconnect,
            extra_ca_file,
            chunk_limits,
            job_concurrency,
            state_path,
            report_path,
            log_level,
            log_format,
        })
    }

    /// The owner, or `""` where none is set.
    pub fn owner(&self) -> &str {
        self.owner.as_deref().unwrap_or_default()
    }
}

/// The owner the mapper is given where none is set: the mapper refuses an empty one, and
/// `map` drops the xid it makes from it.
pub const NO_OWNER: &str = "(no owner)";

/// A file beside `path`.
fn beside(path: &Path, name: &str) -> PathBuf {
    path.parent()
        .map_or_else(|| PathBuf::from(name), |folder| folder.join(name))
}

fn missing(key: &'static str, why: &'static str) -> ConfigError {
    ConfigError::Missing {
        key,
        why,
        how: spec(key).where_to_set(),
    }
}

fn invalid(
    key: &'static str,
    value: &str,
    origin: Origin,
    expected: impl Into<String>,
) -> ConfigError {
    ConfigError::Invalid {
        key,
        origin,
        value: value.to_owned(),
        expected: expected.into(),
    }
}

/// Parses a setting that has a default or is required, with `parse` saying `None` for a value
/// that is not accepted.
fn parse_with<T>(
    raw: &RawSettings,
    key: &'static str,
    expected: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<T, ConfigError> {
    let (text, origin) = raw.get(key).ok_or_else(|| missing(key, "here"))?;
    parse(text.trim()).ok_or_else(|| invalid(key, text, origin, expected))
}

/// Parses an optional setting.
fn parse_optional<T>(
    raw: &RawSettings,
    key: &'static str,
    expected: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Option<T>, ConfigError> {
    match raw.get(key) {
        None => Ok(None),
        Some((text, origin)) => match parse(text.trim()) {
            Some(value) => Ok(Some(value)),
            None => Err(invalid(key, text, origin, expected)),
        },
    }
}

fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "yes" | "1" => Some(true),
        "false" | "no" | "0" => Some(false),
        _ => None,
    }
}

/// A comma-separated list, each item trimmed, empty items dropped.
fn items(text: &str) -> impl Iterator<Item = &str> {
    text.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
}

fn parse_source(raw: &RawSettings) -> Result<SourceSetting, ConfigError> {
    let (text, origin) = raw.get("source").expect("source has a default");
    let text = text.trim();
    if text.starts_with("https://") || text.starts_with("http://") {
        if text.contains('@') {
            let expected = "a base URL without credentials (the subscription code is a separate \
                            secret)";
            return Err(invalid(
                "source",
                "<hidden: it holds credentials>",
                origin,
                expected,
            ));
        }
        return Ok(SourceSetting::Url(text.trim_end_matches('/').to_owned()));
    }
    let dir = PathBuf::from(text);
    if !dir.is_dir() {
        return Err(invalid(
            "source",
            text,
            origin,
            "an https:// URL or an existing directory",
        ));
    }
    Ok(SourceSetting::Directory(dir))
}

fn parse_types(raw: &RawSettings) -> Result<Vec<IndicatorKind>, ConfigError> {
    parse_with(
        raw,
        "types",
        "Address, Host or both, comma-separated",
        |text| {
            let mut kinds = Vec::new();
            for item in items(text) {
                let kind = match item.to_ascii_lowercase().as_str() {
                    "address" | "addresses" | "ip" => IndicatorKind::Address,
                    "host" | "hosts" | "domain" => IndicatorKind::Host,
                    _ => return None,
                };
                if !kinds.contains(&kind) {
                    kinds.push(kind);
                }
            }
            (!kinds.is_empty()).then_some(kinds)
        },
    )
}

fn list_files(
    raw: &RawSettings,
    types: &[IndicatorKind],
    source: &SourceSetting,
) -> Result<Vec<ListFile>, ConfigError> {
    let format = parse_with(
        raw,
        "list_shape",
        "detailed, short or json",
        |text| match text {
            "detailed" => Some(FileFormat::Detailed),
            "short" => Some(FileFormat::Short),
            "json" => Some(FileFormat::Json),
            _ => None,
        },
    )?;
    let gzip = parse_with(raw, "gzip", "true or false", parse_bool)?;

    let kinds = [
        (IndicatorKind::Address, ListKind::Ip),
        (IndicatorKind::Host, ListKind::Domain),
    ];
    let lists = kinds
        .into_iter()
        .filter(|(kind, _)| types.contains(kind))
        .map(|(_, list)| {
            let file = ListFile::new(list, format);
            if format == FileFormat::Json {
                return file;
            }
            match source {
                // A folder of lists (a mirror, the samples, the demo) holds whichever files
                // someone put there: unless `gzip` is set, read the one that is present.
                SourceSetting::Directory(dir) if !raw.is_given("gzip") => present_in(dir, file),
                _ if gzip => file.gzipped(),
                _ => file,
            }
        })
        .collect();
    Ok(lists)
}

/// Of a list's `.gz` and plain file, the one `dir` holds: the `.gz` where both or neither are
/// there (so that a missing list is named as the default shape).
fn present_in(dir: &Path, file: ListFile) -> ListFile {
    let gzipped = file.gzipped();
    if !dir.join(gzipped.name()).is_file() && dir.join(file.name()).is_file() {
        file
    } else {
        gzipped
    }
}

fn mapper_config(
    raw: &RawSettings,
    owner: &str,
    types: &[IndicatorKind],
    allow_mass_removal: bool,
) -> Result<MapperConfig, ConfigError> {
    let mut builder = MapperConfig::builder(owner)
        .types(types.iter().copied())
        .allow_mass_removal(allow_mass_removal);

    let action = parse_with(
        raw,
        "removal_action",
        "deactivate, delete, zero-rating, tag or keep",
        |t| t.parse::<RemovalAction>().ok(),
    )?;
    builder = builder.removal_action(action);
    let (removal_tag, _) = raw.get("removal_tag").expect("removal_tag has a default");
    builder = builder.removal_tag(removal_tag.trim());

    builder = rating(raw, builder)?;
    let confidence = parse_with(raw, "confidence", "a whole number from 0 to 100", |t| {
        t.parse::<u8>().ok().filter(|c| *c <= 100)
    })?;
    builder = builder.confidence(confidence);

    let min_score = parse_optional(raw, "min_score", "a whole number from 0 to 127", |t| {
        t.parse::<u8>().ok().filter(|s| *s <= 127)
    })?;
    if let Some(min_score) = min_score {
        builder = builder.min_score(min_score);
    }
    let expected = "category IDs or names, comma-separated";
    let parse_selectors = |t: &str| -> Option<Vec<CategorySelector>> {
        items(t)
            .map(|item| item.parse::<CategorySelector>().ok())
            .collect()
    };
    if let Some(allow) = parse_optional(raw, "categories_allow", expected, parse_selectors)? {
        builder = builder.allow_categories(allow);
    }
    if let Some(deny) = parse_optional(raw, "categories_deny", expected, parse_selectors)? {
        builder = builder.deny_categories(deny);
    }

    let wildcards = parse_with(raw, "wildcards", "skip or base-domain", |t| match t {
        "skip" => Some(WildcardPolicy::Skip),
        "base-domain" => Some(WildcardPolicy::BaseDomain),
        _ => None,
    })?;
    let cidr = parse_with(raw, "cidr", "skip or import", |t| match t {
        "skip" => Some(CidrPolicy::Skip),
        "import" => Some(CidrPolicy::Send),
        _ => None,
    })?;
    builder = builder.wildcards(wildcards).cidr(cidr);
    if let Some((tag, _)) = raw
        .get("feed_tag")
        .filter(|(tag, _)| !tag.trim().is_empty())
    {
        builder = builder.feed_tag(tag.trim());
    }

    let share = parse_with(
        raw,
        "mass_removal_share",
        "a share such as `20%` or `0.2`",
        parse_share,
    )?;
    builder = builder.max_removal_percent(share);

    builder.build().map_err(|error| {
        let key = setting_of_mapper_error(&error);
        let (text, origin) = raw.get(key).unwrap_or(("", Origin::Default));
        invalid(key, text, origin, error.to_string())
    })
}

/// The setting of ours that a mapper error is about: the mapper names its settings in its
/// own words (`removal.tag`, `categories.allow`, ...).
fn setting_of_mapper_error(error: &reputation_mapper::Error) -> &'static str {
    let setting = match error {
        reputation_mapper::Error::InvalidSetting { setting, .. }
        | reputation_mapper::Error::UnknownCategory { setting, .. } => setting.as_str(),
        _ => "",
    };
    let known = [
        ("removal.tag", "removal_tag"),
        ("removal.action", "removal_action"),
        ("removal.max_percent", "mass_removal_share"),
        ("categories.allow", "categories_allow"),
        ("categories.deny", "categories_deny"),
        ("rating.fixed", "threat_rating"),
        ("rating.bands", "rating_bands"),
        ("confidence", "confidence"),
        ("min_score", "min_score"),
        ("feed", "feed_tag"),
        ("types", "types"),
    ];
    known
        .into_iter()
        .find(|(prefix, _)| setting.starts_with(prefix))
        .map_or("owner", |(_, key)| key)
}

/// `20%` or `0.2`, as a percentage.
fn parse_share(text: &str) -> Option<f64> {
    let percent = match text.strip_suffix('%') {
        Some(percent) => percent.trim().parse::<f64>().ok()?,
        None => text.parse::<f64>().ok()? * 100.0,
    };
    (0.0..=100.0).contains(&percent).then_some(percent)
}

fn rating(
    raw: &RawSettings,
    builder: reputation_mapper::MapperConfigBuilder,
) -> Result<reputation_mapper::MapperConfigBuilder, ConfigError> {
    let (mode, origin) = raw
        .get("threat_rating")
        .expect("threat_rating has a default");
    let mode = mode.trim();
    if mode != "bands" {
        let fixed = mode.parse::<u8>().ok().filter(|rating| *rating <= 5);
        let fixed =
            fixed.ok_or_else(|| invalid("threat_rating", mode, origin, "bands, or 0 to 5"))?;
        return Ok(builder.fixed_rating(fixed));
    }

    let expected = "ascending `score:rating` pairs, scores 0 to 127, ratings 0 to 5";
    let bands = parse_with(raw, "rating_bands", expected, |text| {
        let bands: Option<Vec<(u8, u8)>> = items(text)
            .map(|pair| {
                let (score, rating) = pair.split_once(':')?;
                Some((score.trim().parse().ok()?, rating.trim().parse().ok()?))
            })
            .collect();
        let bands = bands?;
        reputation_mapper::RatingBands::new(&bands)
            .ok()
            .map(|_| bands)
    })?;
    Ok(builder.rating_bands(&bands))
}

/// The extra CA file, where one is named: a file that is not there, or that holds no
/// certificate at all (empty, a private key only), stops the run here as a bad setting rather
/// than when the first client is built. The clients read the certificates themselves.
fn extra_ca_file(raw: &RawSettings) -> Result<Option<PathBuf>, ConfigError> {
    let Some((text, origin)) = raw.get("extra_ca_file") else {
        return Ok(None);
    };
    let expected = "an existing PEM file of CA certificates";
    let path = PathBuf::from(text.trim());
    let Ok(bytes) = std::fs::read(&path) else {
        return Err(invalid("extra_ca_file", text, origin, expected));
    };
    if !holds_a_certificate(&bytes) {
        let expected = format!("{expected}; this file holds no certificate");
        return Err(invalid("extra_ca_file", text, origin, expected));
    }
    Ok(Some(path))
}

/// Whether `bytes` may hold a certificate: a PEM certificate block, or DER (an ASN.1
/// sequence), which the clients accept too.
fn holds_a_certificate(bytes: &[u8]) -> bool {
    let pem = bytes
        .windows(27)
        .any(|window| window == b"-----BEGIN CERTIFICATE-----");
    let der = bytes.first() == Some(&0x30) && bytes.len() > 64;
    pem || der
}

fn chunk_limits(raw: &RawSettings) -> Result<ChunkLimits, ConfigError> {
    let indicators = parse_with(
        raw,
        "job_max_indicators",
        "a whole number from 1 to 25000",
        |t| t.parse::<usize>().ok().filter(|n| (1..=25_000).contains(n)),
    )?;
    let bytes = parse_with(
        raw,
        "job_max_bytes",
        "a whole number of bytes, at least 256",
        |t| t.parse::<usize>().ok().filter(|n| *n >= 256),
    )?;
    ChunkLimits::new(indicators, bytes).map_err(|error| {
        let (text, origin) = raw.get("job_max_bytes").expect("has a default");
        invalid("job_max_bytes", text, origin, error.to_string())
    })
}

fn state_path(
    raw: &RawSettings,
    owner: Option<&str>,
    dry_run: Option<&Path>,
) -> Result<PathBuf, ConfigError> {
    // A dry run never touches the live state: the `state` of the config file or the
    // environment names the live one, so only a `--state` flag moves a dry run's state out of
    // its folder.
    if let Some(folder) = dry_run {
        return Ok(match given_by_flag(raw, "state") {
            Some(path) => PathBuf::from(path),
            None => folder.join("state"),
        });
    }
    if let Some((path, _)) = raw.get("state") {
        return Ok(PathBuf::from(path));
    }
    let owner = owner.unwrap_or("default");
    let base = std::env::var_os("XDG_STATE_HOME")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/state")))
        .ok_or_else(|| missing("state", "where neither XDG_STATE_HOME nor HOME is set"))?;
    Ok(base.join("tc-feed").join(owner_folder(owner)).join("state"))
}

/// The value of a setting where a flag gave it.
fn given_by_flag<'r>(raw: &'r RawSettings, key: &str) -> Option<&'r str> {
    match raw.get(key)? {
        (value, Origin::Flag(_)) => Some(value),
        _ => None,
    }
}

/// A folder name for an owner: letters, digits, `-` and `_` kept, the rest as `_`.
fn owner_folder(owner: &str) -> String {
    owner
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Reads a secret: from its environment variable (kept in `raw` as an `Env` origin), or from
/// the file its `_file` setting names.
fn secret(
    raw: &RawSettings,
    key: &'static str,
    file_key: &'static str,
) -> Result<Option<String>, ConfigError> {
    // An empty variable (`TC_FEED_TC_SECRET_KEY=` in an environment file) is no secret: it
    // counts as not set, rather than as a secret of no characters.
    let given = raw.get(key).filter(|(value, _)| !value.trim().is_empty());
    if let Some((value, origin)) = given {
        if !matches!(origin, Origin::Env(_)) {
            return Err(ConfigError::SecretInWrongPlace {
                key,
                origin,
                env: spec(key).env(),
            });
        }
        if raw.is_given(file_key) {
            return Err(ConfigError::Conflict {
                first: key,
                second: file_key,
                why: "give the secret one way only",
            });
        }
        return Ok(Some(value.trim().to_owned()));
    }
    let Some((path, _)) = raw.get(file_key) else {
        return Ok(None);
    };
    let path = PathBuf::from(path);
    let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::SecretFile {
        key: file_key,
        path: path.clone(),
        source,
    })?;
    let text = text.trim();
    if text.is_empty() {
        let source = std::io::Error::new(std::io::ErrorKind::InvalidData, "the file is empty");
        return Err(ConfigError::SecretFile {
            key: file_key,
            path,
            source,
        });
    }
    Ok(Some(text.to_owned()))
}

fn subscription_code(raw: &RawSettings) -> Result<SubscriptionCode, ConfigError> {
    let code =
        secret(raw, "et_subscription_code", "et_subscription_code_file")?.ok_or_else(|| {
            missing(
                "et_subscription_code",
                "to fetch the lists from the ET server",
            )
        })?;
    SubscriptionCode::new(code).map_err(|_| {
        let origin = raw.get("et_subscription_code_file").map_or_else(
            || Origin::Env(spec("et_subscription_code").env()),
            |(_, origin)| origin,
        );
        invalid(
            "et_subscription_code",
            "<hidden>",
            origin,
            "letters, digits, `-` and `_` only",
        )
    })
}

/// The ThreatConnect URL must be a plain `https://` (or `http://`) base URL: no credentials in
/// it (they would be shown in reports and errors), no query, no fragment.
fn check_tc_url(url: &str, origin: Origin) -> Result<(), ConfigError> {
    let expected = "a base URL such as `https://threatconnect.example.org/api`, without \
                    credentials, query or fragment";
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let Some(rest) = rest else {
        return Err(invalid("tc_url", url, origin, expected));
    };
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.contains('@') {
        return Err(invalid(
            "tc_url",
            "<hidden: it holds credentials>",
            origin,
            expected,
        ));
    }
    if authority.is_empty() || rest.contains(['?', '#', ' ']) {
        return Err(invalid("tc_url", url, origin, expected));
    }
    Ok(())
}

fn threatconnect(raw: &RawSettings) -> Result<ThreatConnectSettings, ConfigError> {
    let (url, origin) = raw
        .get("tc_url")
        .ok_or_else(|| missing("tc_url", "to reach ThreatConnect (or run with --dry-run)"))?;
    let url = url.trim().trim_end_matches('/').to_owned();
    check_tc_url(&url, origin)?;

    let token = secret(raw, "tc_token", "tc_token_file")?;
    let secret_key = secret(raw, "tc_secret_key", "tc_secret_key_file")?;
    let access_id = raw.get("tc_access_id").map(|(id, _)| id.trim().to_owned());
    let credentials = match (token, access_id, secret_key) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            return Err(ConfigError::Conflict {
                first: "tc_token",
                second: "tc_access_id",
                why: "use either a token or HMAC credentials",
            });
        }
        (Some(token), None, None) => Credentials::token(token),
        (None, Some(access_id), Some(secret_key)) => Credentials::hmac(access_id, secret_key),
        (None, Some(_), None) => {
            return Err(missing("tc_secret_key", "with tc_access_id for HMAC auth"));
        }
        (None, None, _) => {
            return Err(missing(
                "tc_access_id",
                "with tc_secret_key (or set tc_token instead)",
            ));
        }
    };
    Ok(ThreatConnectSettings { url, credentials })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(pairs: &[(&'static str, &str)]) -> RawSettings {
        let mut raw = RawSettings::default();
        for (key, value) in pairs {
            raw.set(key, (*value).to_owned(), Origin::Env(spec(key).env()));
        }
        raw
    }

    fn dry_run_raw(extra: &[(&'static str, &str)]) -> RawSettings {
        let dir = std::env::temp_dir();
        let mut pairs = vec![("source", dir.to_str().unwrap()), ("owner", "Demo")];
        pairs.extend_from_slice(extra);
        raw(&pairs)
    }

    #[test]
    fn dry_run_with_the_live_state_configured_keeps_its_own_state_and_report() {
        let live = dry_run_raw(&[("state", "live/state"), ("report", "live/report.json")]);
        let settings = Settings::resolve(&live, Need::DryRun, Some(Path::new("out")), false);
        let settings = settings.unwrap();
        assert_eq!(settings.state_path, Path::new("out/state"));
        assert_eq!(settings.report_path, Path::new("out/report.json"));

        let mut by_flag = live.clone();
        by_flag.set_flag("state", "elsewhere/state");
        let settings = Settings::resolve(&by_flag, Need::DryRun, Some(Path::new("out")), false);
        assert_eq!(settings.unwrap().state_path, Path::new("elsewhere/state"));
    }

    #[test]
    fn threatconnect_url_with_credentials_is_refused_without_showing_them() {
        let raw = dry_run_raw(&[
            ("tc_url", "https://user:pw@tc.example/api"),
            ("tc_access_id", "id"),
            ("tc_secret_key", "k"),
        ]);
        let error = Settings::resolve(&raw, Need::Run, None, false)
            .unwrap_err()
            .to_string();
        assert!(error.contains("`tc_url`"), "{error}");
        assert!(!error.contains("pw"), "{error}");
    }

    #[test]
    fn a_tag_the_mapper_refuses_names_its_own_setting() {
        let long = "x".repeat(200);
        for (key, value) in [("removal_tag", ""), ("feed_tag", long.as_str())] {
            let raw = dry_run_raw(&[(key, value)]);
            let error = Settings::resolve(&raw, Need::DryRun, None, false).unwrap_err();
            assert!(error.to_string().contains(&format!("`{key}`")), "{error}");
        }
    }

    #[test]
    fn dry_run_on_a_directory_needs_no_secret() {
        let settings = Settings::resolve(
            &dry_run_raw(&[]),
            Need::DryRun,
            Some(Path::new("out")),
            false,
        )
        .unwrap();
        assert_eq!(settings.state_path, Path::new("out/state"));
        assert_eq!(settings.report_path, Path::new("out/report.json"));
        assert_eq!(settings.lists.len(), 2);
        assert!(settings.threatconnect.is_none());
    }

    #[test]
    fn each_bad_value_names_its_setting_origin_and_what_is_accepted() {
        let cases: [(&'static str, &str, &str); 9] = [
            ("removal_action", "purge", "deactivate, delete"),
            ("confidence", "101", "0 to 100"),
            ("threat_rating", "6", "bands, or 0 to 5"),
            ("rating_bands", "40:2,20:1", "ascending"),
            ("types", "Url", "Address, Host"),
            ("job_max_indicators", "30000", "1 to 25000"),
            ("mass_removal_share", "150%", "20%"),
            ("wildcards", "rewrite", "skip or base-domain"),
            ("log_level", "loud", "error, warn"),
        ];
        for (key, value, expected) in cases {
            let error = Settings::resolve(&dry_run_raw(&[(key, value)]), Need::DryRun, None, false)
                .unwrap_err()
                .to_string();
            assert!(error.contains(&format!("`{key}`")), "{key}: {error}");
            assert!(error.contains(&spec(key).env()), "{key}: {error}");
            assert!(error.contains(value), "{key}: {error}");
            assert!(error.contains(expected), "{key}: {error}");
        }
    }

    #[test]
    fn a_real_run_needs_threatconnect_credentials() {
        let error = Settings::resolve(&dry_run_raw(&[]), Need::Run, None, false).unwrap_err();
        assert!(error.to_string().contains("tc_url"), "{error}");

        let with_url = dry_run_raw(&[("tc_url", "https://tc.example/api"), ("tc_access_id", "id")]);
        let error = Settings::resolve(&with_url, Need::Run, None, false).unwrap_err();
        assert!(error.to_string().contains("tc_secret_key"), "{error}");
    }

    #[test]
    fn secret_from_a_file_is_read_and_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        let key_file = dir.path().join("key");
        std::fs::write(&key_file, "  s3cret-from-file\n").unwrap();
        let raw = dry_run_raw(&[
            ("tc_url", "https://tc.example/api"),
            ("tc_access_id", "id"),
            ("tc_secret_key_file", key_file.to_str().unwrap()),
        ]);
        let settings = Settings::resolve(&raw, Need::Run, None, false).unwrap();
        let debug = format!("{settings:?}");
        assert!(!debug.contains("s3cret-from-file"), "{debug}");
    }

    #[test]
    fn an_empty_secret_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let key_file = dir.path().join("key");
        std::fs::write(&key_file, "\n").unwrap();
        let raw = dry_run_raw(&[
            ("tc_url", "https://tc.example/api"),
            ("tc_access_id", "id"),
            ("tc_secret_key_file", key_file.to_str().unwrap()),
        ]);
        let error = Settings::resolve(&raw, Need::Run, None, false).unwrap_err();
        assert!(matches!(error, ConfigError::SecretFile { .. }), "{error}");
    }

    fn list_names(dir: &Path, extra: &[(&'static str, &str)]) -> Vec<&'static str> {
        let mut pairs = vec![("source", dir.to_str().unwrap()), ("owner", "Demo")];
        pairs.extend_from_slice(extra);
        let settings = Settings::resolve(&raw(&pairs), Need::DryRun, None, false).unwrap();
        settings.lists.iter().map(ListFile::name).collect()
    }

    #[test]
    fn folder_of_plain_lists_is_read_without_gzip_unless_gzip_is_set() {
        // The shared samples hold `detailed-iprepdata.txt` only: the default `gzip = true`
        // asked for `detailed-iprepdata.txt.gz` and the run found no list.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("detailed-iprepdata.txt"), "").unwrap();
        std::fs::write(dir.path().join("detailed-domainrepdata.txt"), "").unwrap();
        std::fs::write(dir.path().join("detailed-domainrepdata.txt.gz"), "").unwrap();

        assert_eq!(
            list_names(dir.path(), &[]),
            ["detailed-iprepdata.txt", "detailed-domainrepdata.txt.gz"]
        );
        assert_eq!(
            list_names(dir.path(), &[("gzip", "true")]),
            ["detailed-iprepdata.txt.gz", "detailed-domainrepdata.txt.gz"]
        );
        assert_eq!(
            list_names(dir.path(), &[("gzip", "false")]),
            ["detailed-iprepdata.txt", "detailed-domainrepdata.txt"]
        );
    }

    #[test]
    fn folder_without_a_list_names_its_gz() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            list_names(dir.path(), &[("types", "Address")]),
            ["detailed-iprepdata.txt.gz"]
        );
    }

    #[test]
    fn map_needs_no_owner_and_state_none_when_its_path_is_given() {
        // `tc-feed map FILE` without an owner failed: the mapper refused the empty owner.
        let no_owner = raw(&[("source", std::env::temp_dir().to_str().unwrap())]);
        let settings = Settings::resolve(&no_owner, Need::Map, None, false).unwrap();
        assert_eq!(settings.owner, None);
        assert_eq!(settings.mapper.owner(), NO_OWNER);

        let error = Settings::resolve(&no_owner, Need::State, None, false).unwrap_err();
        assert!(error.to_string().contains("`owner`"), "{error}");

        let mut with_state = no_owner;
        with_state.set_flag("state", "some/state");
        let settings = Settings::resolve(&with_state, Need::State, None, false).unwrap();
        assert_eq!(settings.state_path, Path::new("some/state"));
    }

    #[test]
    fn missing_secret_is_asked_for_in_the_environment_or_a_file_never_the_config_file() {
        let url = raw(&[("source", "https://et.example"), ("owner", "Demo")]);
        let error = Settings::resolve(&url, Need::DryRun, None, false)
            .unwrap_err()
            .to_string();
        assert!(error.contains("TC_FEED_ET_SUBSCRIPTION_CODE"), "{error}");
        assert!(error.contains("`et_subscription_code_file`"), "{error}");
        assert!(!error.contains("config file"), "{error}");
    }

    #[test]
    fn extra_ca_file_that_is_not_there_is_a_bad_setting() {
        let raw = dry_run_raw(&[("extra_ca_file", "no/such/ca.pem")]);
        let error = Settings::resolve(&raw, Need::DryRun, None, false).unwrap_err();
        let message = error.to_string();
        assert!(matches!(error, ConfigError::Invalid { .. }), "{message}");
        assert!(message.contains("no/such/ca.pem"), "{message}");
    }

    #[test]
    fn extra_ca_file_without_a_certificate_is_a_bad_setting() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        let key_only = dir.path().join("key.pem");
        std::fs::write(
            &key_only,
            "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n",
        )
        .unwrap();
        for file in [empty, key_only] {
            let raw = dry_run_raw(&[("extra_ca_file", file.to_str().unwrap())]);
            let error = Settings::resolve(&raw, Need::DryRun, None, false).unwrap_err();
            assert!(
                error.to_string().contains("holds no certificate"),
                "{error}"
            );
        }
    }

    #[test]
    fn empty_secret_in_the_environment_counts_as_not_set() {
        // `TC_FEED_TC_SECRET_KEY=` was taken as a secret key of no characters.
        let raw = dry_run_raw(&[
            ("tc_url", "https://tc.example/api"),
            ("tc_access_id", "id"),
            ("tc_secret_key", " "),
        ]);
        let error = Settings::resolve(&raw, Need::Run, None, false).unwrap_err();
        assert!(
            matches!(
                error,
                ConfigError::Missing {
                    key: "tc_secret_key",
                    ..
                }
            ),
            "{error}"
        );
    }

    #[test]
    fn shares_read_as_percent_or_fraction() {
        assert_eq!(parse_share("20%"), Some(20.0));
        assert_eq!(parse_share("0.2"), Some(20.0));
        assert_eq!(parse_share("2"), None);
    }
}

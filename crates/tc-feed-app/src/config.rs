//! The operator's settings: one name per setting, from a TOML file, the environment and
//! flags.
//!
//! Every setting has one name, `snake_case`. In the TOML file it is that key; in the
//! environment it is `TC_FEED_` and the name in upper case; a few have a flag, `--` and the name
//! with dashes. Flags win over the environment, the environment over the file, the file over
//! the default. [`SETTINGS`] is the one table of them all; `docs/configuration.md` is written
//! from it and a test keeps the two in step.
//!
//! Secrets (the subscription code, the secret key, the token) are never taken from a flag,
//! where `ps` and shell history would keep them: they come from the environment or from a file
//! whose path the file, the environment or a flag names.
//!
//! Every value is read as text first, whatever its source, so that one parser per setting
//! checks it and its error names the setting, where it came from, the value and what is
//! accepted.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The setting's default.
    Default,
    /// The TOML file.
    File(PathBuf),
    /// An environment variable.
    Env(String),
    /// A command-line flag.
    Flag(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("the default"),
            Origin::File(path) => write!(f, "the config file {}", path.display()),
            Origin::Env(name) => write!(f, "the environment variable {name}"),
            Origin::Flag(flag) => write!(f, "the flag {flag}"),
        }
    }
}

/// A configuration the job cannot run with. The run stops before any network call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A value that does not parse or is out of range.
    #[error("setting `{key}` from {origin}: {value:?} is not accepted; expected {expected}")]
    Invalid {
        /// The setting.
        key: &'static str,
        /// Where the value came from.
        origin: Origin,
        /// The value as given (never a secret: secrets are not parsed this way).
        value: String,
        /// What is accepted.
        expected: String,
    },

    /// A setting the run needs is not set.
    #[error("setting `{key}` is required {why}; {how}")]
    Missing {
        /// The setting.
        key: &'static str,
        /// When it is required.
        why: &'static str,
        /// Where to set it: the config file or its environment variable, or for a secret its
        /// environment variable or a file.
        how: String,
    },

    /// A key in the config file that is no setting.
    #[error("the config file {} has an unknown key `{key}`{hint}", path.display())]
    UnknownKey {
        /// The file.
        path: PathBuf,
        /// The key.
        key: String,
        /// A suggestion, where a setting has a close name.
        hint: String,
    },

    /// An environment variable that looks like a setting but is none (a typo in a systemd
    /// `EnvironmentFile`, say), which would otherwise be ignored in silence.
    #[error("the environment variable {name} is no setting{hint}")]
    UnknownEnv {
        /// The variable.
        name: String,
        /// A suggestion, where a setting has a close name.
        hint: String,
    },

    /// A secret given where secrets are not accepted.
    #[error(
        "setting `{key}` is a secret and is not read from {origin}; set {env} in the \
         environment, or name a file with `{key}_file`"
    )]
    SecretInWrongPlace {
        /// The setting.
        key: &'static str,
        /// Where it was found.
        origin: Origin,
        /// Its environment variable.
        env: String,
    },

    /// The config file could not be read or parsed.
    #[error("cannot read the config file {}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// A secret file could not be read, or is empty.
    #[error("cannot read the secret file {} named by `{key}`", path.display())]
    SecretFile {
        /// The setting that names the file.
        key: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },

    /// Two settings that cannot go together.
    #[error("settings `{first}` and `{second}` cannot both be set: {why}")]
    Conflict {
        /// One setting.
        first: &'static str,
        /// The other.
        second: &'static str,
        /// Why.
        why: &'static str,
    },
}

/// One setting of the table.
#[derive(Debug)]
pub struct SettingSpec {
    /// Its name: the TOML key.
    pub key: &'static str,
    /// Its flag, where it has one.
    pub flag: Option<&'static str>,
    /// Its default, as text, where it has one.
    pub default: Option<&'static str>,
    /// Whether it is a secret (environment or file only).
    pub secret: bool,
    /// What it does and what it accepts.
    pub help: &'static str,
}

impl SettingSpec {
    /// Its environment variable: `TC_FEED_` and the key in upper case.
    pub fn env(&self) -> String {
        format!("TC_FEED_{}", self.key.to_ascii_uppercase())
    }

    /// Where an operator may set it, as a missing setting's message says it.
    pub fn where_to_set(&self) -> String {
        if self.secret {
            format!(
                "set {} in the environment, or name a file holding it with `{}_file`",
                self.env(),
                self.key
            )
        } else {
            format!("set it in the config file, or as {}", self.env())
        }
    }
}

macro_rules! setting {
    (
        $key:literal,
        flag: $flag:expr,
        default: $default:expr,
        secret: $secret:expr,
        $help:literal $(,)?
    ) => {
        SettingSpec {
            key: $key,
            flag: $flag,
            default: $default,
            secret: $secret,
            help: $help,
        }
    };
}

/// Every setting, in the order the documentation lists them.
pub const SETTINGS: &[SettingSpec] = &[
    setting!(
        "source",
        flag: Some("--source"),
        default: Some("https://rules.emergingthreatspro.com"),
        secret: false,
        "Where the ET lists come from: the ET base URL (the subscription code is added to the \
         path, never written here), or a local directory holding the list files."
    ),
    setting!(
        "et_subscription_code",
        flag: None,
        default: None,
        secret: true,
        "The ET Intelligence subscription code. Secret: environment or \
         `et_subscription_code_file` only. Not needed for a local directory."
    ),
    setting!(
        "et_subscription_code_file",
        flag: Some("--et-subscription-code-file"),
        default: None,
        secret: false,
        "A file holding the subscription code (surrounding white space is ignored)."
    ),
    setting!(
        "list_shape",
        flag: None,
        default: Some("detailed"),
        secret: false,
        "Which lists to read: `detailed` (with dates and ports), `short` or `json`."
    ),
    setting!(
        "gzip",
        flag: None,
        default: Some("true"),
        secret: false,
        "Whether to fetch the `.gz` of the text lists (the JSON lists have none). For a \
         local directory left unset, each list is read from whichever of its `.gz` and plain \
         file is there."
    ),
    setting!(
        "owner",
        flag: Some("--owner"),
        default: None,
        secret: false,
        "The ThreatConnect organisation that owns the imported indicators (the destination \
         owner)."
    ),
    setting!(
        "types",
        flag: None,
        default: Some("Address,Host"),
        secret: false,
        "Indicator types to collect: `Address` (the IP list), `Host` (the domain list), or \
         both, comma-separated."
    ),
    setting!(
        "removal_action",
        flag: None,
        default: Some("deactivate"),
        secret: false,
        "What happens to indicators that left the list: `deactivate`, `delete`, \
         `zero-rating`, `tag` or `keep`."
    ),
    setting!(
        "removal_tag",
        flag: None,
        default: Some("ET Removed"),
        secret: false,
        "The tag the `tag` removal action adds."
    ),
    setting!(
        "threat_rating",
        flag: None,
        default: Some("bands"),
        secret: false,
        "The threat rating: `bands` (from the score, through `rating_bands`) or a fixed \
         rating 0 to 5."
    ),
    setting!(
        "rating_bands",
        flag: None,
        default: Some("20:1,40:2,60:3,80:4,100:5"),
        secret: false,
        "Score thresholds and the rating from each, `score:rating` comma-separated, \
         ascending; a score below the first gets the first rating."
    ),
    setting!(
        "confidence",
        flag: None,
        default: Some("50"),
        secret: false,
        "The confidence rating, 0 to 100."
    ),
    setting!(
        "min_score",
        flag: None,
        default: None,
        secret: false,
        "Drop indicators whose External Score is below this (0 to 127). The lists start at \
         20."
    ),
    setting!(
        "categories_allow",
        flag: None,
        default: None,
        secret: false,
        "Import only indicators in these categories (IDs or names, comma-separated)."
    ),
    setting!(
        "categories_deny",
        flag: None,
        default: None,
        secret: false,
        "Drop indicators in these categories (IDs or names, comma-separated)."
    ),
    setting!(
        "wildcards",
        flag: None,
        default: Some("skip"),
        secret: false,
        "Domain patterns with `*`: `skip`, or `base-domain` to send `*.example.com` as \
         `example.com` (other patterns are always skipped)."
    ),
    setting!(
        "cidr",
        flag: None,
        default: Some("skip"),
        secret: false,
        "CIDR blocks in the IP list: `skip`, or `import` to send them as CIDR indicators."
    ),
    setting!(
        "feed_tag",
        flag: None,
        default: None,
        secret: false,
        "A tag every imported indicator carries, for owners that also hold other data."
    ),
    setting!(
        "mass_removal_share",
        flag: None,
        default: Some("20%"),
        secret: false,
        "The mass-removal guard: removals above this share of the previous import are held \
         back unless `--allow-mass-removal` is given."
    ),
    setting!(
        "full_refresh_every",
        flag: None,
        default: Some("24h"),
        secret: false,
        "How often every indicator is sent again, not only the changes (`0` for never)."
    ),
    setting!(
        "tc_url",
        flag: None,
        default: None,
        secret: false,
        "The ThreatConnect API base URL, such as `https://app.threatconnect.com/api`."
    ),
    setting!(
        "tc_access_id",
        flag: None,
        default: None,
        secret: false,
        "The API user's access ID, for HMAC auth."
    ),
    setting!(
        "tc_secret_key",
        flag: None,
        default: None,
        secret: true,
        "The API user's secret key, for HMAC auth. Secret: environment or \
         `tc_secret_key_file` only."
    ),
    setting!(
        "tc_secret_key_file",
        flag: Some("--tc-secret-key-file"),
        default: None,
        secret: false,
        "A file holding the secret key."
    ),
    setting!(
        "tc_token",
        flag: None,
        default: None,
        secret: true,
        "An API token, instead of HMAC auth. Secret: environment or `tc_token_file` only."
    ),
    setting!(
        "tc_token_file",
        flag: Some("--tc-token-file"),
        default: None,
        secret: false,
        "A file holding the API token."
    ),
    setting!(
        "extra_ca_file",
        flag: Some("--extra-ca-file"),
        default: None,
        secret: false,
        "A PEM file of CA certificates trusted besides the operating system's (for TLS \
         inspection)."
    ),
    setting!(
        "job_max_indicators",
        flag: None,
        default: Some("5000"),
        secret: false,
        "Most indicators in one batch job (at most 25000)."
    ),
    setting!(
        "job_max_bytes",
        flag: None,
        default: Some("8000000"),
        secret: false,
        "Most bytes in one batch job's document."
    ),
    setting!(
        "job_concurrency",
        flag: None,
        default: Some("2"),
        secret: false,
        "How many batch jobs run at once (1 to 8)."
    ),
    setting!(
        "state",
        flag: Some("--state"),
        default: None,
        secret: false,
        "The state file. Default: `tc-feed/<owner>/state` under the user's state directory \
         (`$XDG_STATE_HOME`, or `~/.local/state`). A dry run keeps its own, `state` inside the \
         dry-run folder, whatever the file or the environment say; only `--state` moves it."
    ),
    setting!(
        "report",
        flag: Some("--report"),
        default: None,
        secret: false,
        "Where the run's report goes. Default: `report.json` beside the state. A dry run's \
         report stays beside its own state unless `--report` is given."
    ),
    setting!(
        "log_level",
        flag: Some("--log-level"),
        default: Some("info"),
        secret: false,
        "The logging level: `error`, `warn`, `info`, `debug` or `trace`."
    ),
    setting!(
        "log_format",
        flag: Some("--log-format"),
        default: Some("text"),
        secret: false,
        "The log format on stderr: `text`, or `json` for log shippers."
    ),
];

/// The spec of one setting.
///
/// # Panics
///
/// Panics for a key that is not in [`SETTINGS`]: a programming error.
pub fn spec(key: &str) -> &'static SettingSpec {
    SETTINGS
        .iter()
        .find(|spec| spec.key == key)
        .unwrap_or_else(|| panic!("no setting {key}"))
}

/// The raw values of every setting that was given, as text, with where each came from.
///
/// Its `Debug` shows secrets as `***`.
#[derive(Default, Clone)]
pub struct RawSettings {
    values: BTreeMap<&'static str, (String, Origin)>,
}

impl fmt::Debug for RawSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = self.values.iter().map(|(key, (value, origin))| {
            let value = if spec(key).secret {
                "***"
            } else {
                value.as_str()
            };
            (key, (value, origin))
        });
        f.debug_map().entries(shown).finish()
    }
}

impl RawSettings {
    /// Reads the settings of a TOML file.
    ///
    /// # Errors
    ///
    /// [`ConfigError::File`] where it cannot be read or parsed, [`ConfigError::UnknownKey`]
    /// for a key that is no setting, and [`ConfigError::SecretInWrongPlace`] for a secret
    /// written in the file.
    pub fn from_file(path: &Path) -> Result<RawSettings, ConfigError> {
        let file_error = |source: Box<dyn std::error::Error + Send + Sync>| ConfigError::File {
            path: path.to_owned(),
            source,
        };
        let text = std::fs::read_to_string(path).map_err(|err| file_error(Box::new(err)))?;
        let table: toml::Table = text
            .parse()
            .map_err(|err: toml::de::Error| file_error(syntax_error(&text, &err).into()))?;

        let mut raw = RawSettings::default();
        for (key, value) in table {
            let Some(spec) = SETTINGS.iter().find(|spec| spec.key == key) else {
                return Err(ConfigError::UnknownKey {
                    path: path.to_owned(),
                    hint: hint_for(&key),
                    key,
                });
            };
            let origin = Origin::File(path.to_owned());
            if spec.secret {
                return Err(ConfigError::SecretInWrongPlace {
                    key: spec.key,
                    origin,
                    env: spec.env(),
                });
            }
            raw.set(spec.key, toml_to_text(&value), origin);
        }
        Ok(raw)
    }

    /// Reads the settings from environment variables, through `lookup` (the process
    /// environment in the binary, a map in tests).
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> RawSettings {
        let mut raw = RawSettings::default();
        for spec in SETTINGS {
            let name = spec.env();
            if let Some(value) = lookup(&name) {
                raw.set(spec.key, value, Origin::Env(name));
            }
        }
        raw
    }

    /// Sets one value, replacing what was there.
    pub fn set(&mut self, key: &'static str, value: String, origin: Origin) {
        self.values.insert(key, (value, origin));
    }

    /// Sets one value from a flag.
    ///
    /// # Panics
    ///
    /// Panics for a key that is not in [`SETTINGS`].
    pub fn set_flag(&mut self, key: &str, value: impl Into<String>) {
        let spec = spec(key);
        let flag = spec.flag.unwrap_or("--set").to_owned();
        self.set(spec.key, value.into(), Origin::Flag(flag));
    }

    /// These settings, overridden by `other` wherever `other` sets a value.
    pub fn overridden_by(mut self, other: RawSettings) -> RawSettings {
        self.values.extend(other.values);
        self
    }

    /// The value of a setting and where it came from, falling back to its default.
    pub fn get(&self, key: &str) -> Option<(&str, Origin)> {
        if let Some((value, origin)) = self.values.get(key) {
            return Some((value.as_str(), origin.clone()));
        }
        spec(key).default.map(|default| (default, Origin::Default))
    }

    /// Whether the setting was given (not only defaulted).
    pub fn is_given(&self, key: &str) -> bool {
        self.values.contains_key(key)
    }
}

/// A TOML syntax error by line and column, without the line itself: the line may hold a
/// secret written where it does not belong.
fn syntax_error(text: &str, error: &toml::de::Error) -> String {
    let message = error.message().trim();
    let Some(span) = error.span() else {
        return format!("TOML syntax: {message}");
    };
    let before = &text[..span.start.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |at| at + 1) + 1;
    format!("TOML syntax at line {line}, column {column}: {message}")
}

/// Writes a TOML value as the text a setting's parser reads: arrays comma-separated.
fn toml_to_text(value: &toml::Value) -> String {
    match value {
        toml::Value::String(text) => text.clone(),
        toml::Value::Array(items) => items.iter().map(toml_to_text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// Environment variables with the `TC_FEED_` prefix that are not settings: test hooks only.
const OTHER_ENV: [&str; 2] = ["TC_FEED_PAUSE_AT", "TC_FEED_UPDATE_DOCS"];

/// Refuses a `TC_FEED_` variable that is no setting.
///
/// # Errors
///
/// [`ConfigError::UnknownEnv`] for the first such variable.
pub fn check_env_names(names: impl IntoIterator<Item = String>) -> Result<(), ConfigError> {
    for name in names {
        let Some(key) = name.strip_prefix("TC_FEED_") else {
            continue;
        };
        let known = SETTINGS.iter().any(|spec| spec.env() == name);
        if known || OTHER_ENV.contains(&name.as_str()) {
            continue;
        }
        let hint = closest_setting(&key.to_ascii_lowercase())
            .map(|spec| format!(" (did you mean {}?)", spec.env()))
            .unwrap_or_default();
        return Err(ConfigError::UnknownEnv { name, hint });
    }
    Ok(())
}

/// A "did you mean" for an unknown key: the setting that shares the longest prefix with it.
fn hint_for(key: &str) -> String {
    closest_setting(key)
        .map(|spec| format!(" (did you mean `{}`?)", spec.key))
        .unwrap_or_default()
}

/// The setting whose name shares the longest prefix (at least three characters) with `key`.
fn closest_setting(key: &str) -> Option<&'static SettingSpec> {
    let shared = |spec: &&SettingSpec| {
        spec.key
            .chars()
            .zip(key.chars())
            .take_while(|(a, b)| a == b)
            .count()
    };
    SETTINGS
        .iter()
        .max_by_key(shared)
        .filter(|spec| shared(spec) >= 3)
}

/// Parses a duration such as `1h`, `90m` or `24h`; `0` is zero.
///
/// # Errors
///
/// A message saying what is accepted, for [`ConfigError::Invalid`].
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    if text.trim() == "0" {
        return Ok(Duration::ZERO);
    }
    humantime::parse_duration(text.trim()).map_err(|_| "a duration such as `1h` or `90m`".into())
}

/// The table of every setting, as `docs/configuration.md` holds it: name, environment
/// variable, flag, default and meaning.
pub fn markdown_table() -> String {
    let mut table = String::from(
        "| setting | environment | flag | default | meaning |\n| --- | --- | --- | --- | --- |\n",
    );
    for spec in SETTINGS {
        let flag = spec
            .flag
            .map(|flag| format!("`{flag}`"))
            .unwrap_or_else(|| "-".into());
        let default = spec
            .default
            .map(|default| format!("`{default}`"))
            .unwrap_or_else(|| "-".into());
        let help = spec.help.replace('|', "\\|");
        table.push_str(&format!(
            "| `{}` | `{}` | {flag} | {default} | {help} |\n",
            spec.key,
            spec.env()
        ));
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setting_has_one_unique_name() {
        let mut keys: Vec<_> = SETTINGS.iter().map(|spec| spec.key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), SETTINGS.len());
    }

    #[test]
    fn configuration_reference_lists_every_setting_as_the_table_says() {
        let path = test_support::workspace_root().join("docs/configuration.md");
        let table = markdown_table();
        if std::env::var_os("TC_FEED_UPDATE_DOCS").is_some() {
            let text = std::fs::read_to_string(&path).unwrap();
            let start = text.find("<!-- settings -->").unwrap() + "<!-- settings -->\n".len();
            let end = text.find("<!-- /settings -->").unwrap();
            let updated = format!("{}{table}{}", &text[..start], &text[end..]);
            std::fs::write(&path, updated).unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains(&table),
            "docs/configuration.md is out of date: run the tests with TC_FEED_UPDATE_DOCS=1"
        );
    }

    #[test]
    fn secrets_have_no_flag() {
        for spec in SETTINGS.iter().filter(|spec| spec.secret) {
            assert!(spec.flag.is_none(), "{} must not have a flag", spec.key);
        }
    }

    #[test]
    fn flags_win_over_env_and_env_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(
            &file,
            "owner = \"File Org\"\nconfidence = 10\ntypes = [\"Host\"]\n",
        )
        .unwrap();

        let from_file = RawSettings::from_file(&file).unwrap();
        let from_env = RawSettings::from_env(|name| {
            (name == "TC_FEED_OWNER" || name == "TC_FEED_CONFIDENCE").then(|| "Env Org".into())
        });
        let mut from_flags = RawSettings::default();
        from_flags.set_flag("owner", "Flag Org");
        let merged = from_file.overridden_by(from_env).overridden_by(from_flags);

        assert_eq!(merged.get("owner").unwrap().0, "Flag Org");
        assert_eq!(merged.get("confidence").unwrap().0, "Env Org");
        assert_eq!(merged.get("types").unwrap().0, "Host");
        assert_eq!(merged.get("log_level").unwrap(), ("info", Origin::Default));
    }

    #[test]
    fn unknown_key_in_the_file_is_named_with_a_hint() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "removal_actoin = \"delete\"\n").unwrap();
        let error = RawSettings::from_file(&file).unwrap_err().to_string();
        assert!(
            error.contains("removal_actoin") && error.contains("removal_action"),
            "{error}"
        );
    }

    #[test]
    fn syntax_error_names_the_line_but_never_quotes_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(
            &file,
            "owner = \"Org\"\ntc_secret_key = SEKRET-unquoted-value\n",
        )
        .unwrap();
        let error = RawSettings::from_file(&file).unwrap_err();
        let chain = crate::report::error_chain(&error).join(": ");
        assert!(chain.contains("line 2"), "{chain}");
        assert!(!chain.contains("SEKRET"), "{chain}");
    }

    #[test]
    fn misspelled_environment_variable_is_refused_with_a_hint() {
        let error = check_env_names(["TC_FEED_REMOVAL_ACTON".to_owned()]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the environment variable TC_FEED_REMOVAL_ACTON is no setting \
             (did you mean TC_FEED_REMOVAL_ACTION?)"
        );
        check_env_names([
            "TC_FEED_OWNER".into(),
            "TC_FEED_PAUSE_AT".into(),
            "HOME".into(),
        ])
        .unwrap();
    }

    #[test]
    fn secret_in_the_config_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "tc_secret_key = \"do-not-keep-me-here\"\n").unwrap();
        let error = RawSettings::from_file(&file).unwrap_err().to_string();
        assert!(error.contains("TC_FEED_TC_SECRET_KEY"), "{error}");
        assert!(!error.contains("do-not-keep-me-here"), "{error}");
    }
}

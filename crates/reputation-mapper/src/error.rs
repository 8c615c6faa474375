//! The crate's one error type.

/// What can go wrong when configuring the mapper or reading an indicator key.
///
/// Bad rows are never errors: they are counted by reason (see
/// [`DropReason`](crate::DropReason)). Errors are for what the operator or the application
/// must fix before a run can go on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting has a value the mapper cannot use.
    #[error("invalid setting `{setting}`: {reason}")]
    InvalidSetting {
        /// The setting's name, such as `rating.bands[2].rating` or `confidence`.
        setting: String,
        /// Why the value cannot be used, as a lowercase phrase.
        reason: String,
    },

    /// A category filter names a category the category table does not know.
    #[error("setting `{setting}` names the category `{name}`, which the category table lacks")]
    UnknownCategory {
        /// The setting's name: `categories.allow` or `categories.deny`.
        setting: String,
        /// The name as the setting gives it.
        name: String,
    },

    /// A text is not an indicator key in its normal form.
    #[error("invalid indicator key {text:?}: {reason}")]
    InvalidKey {
        /// The text as given (shortened where long).
        text: String,
        /// Why it is not a key, as a lowercase phrase.
        reason: String,
    },
}

impl Error {
    pub(crate) fn setting(setting: impl Into<String>, reason: impl Into<String>) -> Error {
        Error::InvalidSetting {
            setting: setting.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn key(text: &str, reason: impl Into<String>) -> Error {
        Error::InvalidKey {
            text: shorten(text, 120),
            reason: reason.into(),
        }
    }
}

/// `text` cut to at most `max` characters, with `...` where it was cut.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}

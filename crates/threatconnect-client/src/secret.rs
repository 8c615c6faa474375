//! Text that must never print: the secret key and the API token.

use std::fmt;
#[cfg(feature = "http")]
use std::sync::Arc;

/// A secret string. `Debug` and `Display` show `***`; only [`SecretString::expose`] gives the
/// text, for the one place that needs it (signing, or the token header).
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps `secret`.
    pub fn new(secret: impl Into<String>) -> SecretString {
        SecretString(secret.into())
    }

    /// The secret itself. Never log or print it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<String> for SecretString {
    fn from(secret: String) -> SecretString {
        SecretString(secret)
    }
}

impl From<&str> for SecretString {
    fn from(secret: &str) -> SecretString {
        SecretString(secret.to_owned())
    }
}

/// The secret of a client's credentials (its token or its secret key), for masking text that
/// a server sent back: a server may echo what it was sent. Cheap to clone.
#[cfg(feature = "http")]
#[derive(Clone, Default)]
pub(crate) struct SecretMask(Option<Arc<str>>);

#[cfg(feature = "http")]
impl SecretMask {
    /// A mask for `secret`; an empty secret masks nothing.
    pub(crate) fn new(secret: &SecretString) -> SecretMask {
        let secret = secret.expose();
        SecretMask((!secret.is_empty()).then(|| Arc::from(secret)))
    }

    /// `text` with every occurrence of the secret replaced by `***`. Mask before any cut: a
    /// cut first could split the secret and leave its start in plain sight.
    pub(crate) fn mask(&self, text: &str) -> String {
        match &self.0 {
            Some(secret) => text.replace(&**secret, "***"),
            None => text.to_owned(),
        }
    }
}

#[cfg(feature = "http")]
impl fmt::Debug for SecretMask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretMask(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_prints_as_stars_in_debug_and_display() {
        let secret = SecretString::new("hunter2-example");

        assert_eq!(format!("{secret:?}"), "***");
        assert_eq!(format!("{secret}"), "***");
        assert_eq!(secret.expose(), "hunter2-example");
    }

    #[cfg(feature = "http")]
    #[test]
    fn a_mask_hides_every_occurrence_and_an_empty_secret_hides_nothing() {
        let mask = SecretMask::new(&SecretString::new("TOKEN-1"));
        let empty = SecretMask::new(&SecretString::new(""));

        assert_eq!(mask.mask("bad TOKEN-1, TOKEN-1"), "bad ***, ***");
        assert_eq!(empty.mask("text"), "text");
        assert_eq!(format!("{mask:?}"), "SecretMask(***)");
    }
}

//! The secrets of this crate: the list subscription code and the REST API key. Neither prints.

use std::fmt;

use crate::error::Error;

/// What a secret shows in its place.
pub const MASK: &str = "***";

/// The ET Intelligence subscription code that sits in the path of every list URL.
///
/// It never prints: `Debug` and `Display` show `***`, and every URL this crate shows (in logs
/// and errors) has it masked.
///
/// ```
/// use proofpoint_et_client::SubscriptionCode;
///
/// let code = SubscriptionCode::new("0123456789abcdef")?;
/// assert_eq!(format!("{code} {code:?}"), "*** SubscriptionCode(***)");
/// let url = "https://lists.example/0123456789abcdef/reputation";
/// assert_eq!(code.mask(url), "https://lists.example/***/reputation");
/// # Ok::<(), proofpoint_et_client::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct SubscriptionCode(String);

impl SubscriptionCode {
    /// A code as the vendor issued it: letters, digits, `-` and `_` (it must fit in one URL
    /// path segment as it is).
    ///
    /// # Errors
    ///
    /// The code is empty or holds another character; the error does not show the code.
    pub fn new(code: impl Into<String>) -> Result<SubscriptionCode, Error> {
        let code = code.into();
        let code = code.trim();
        if code.is_empty() {
            return Err(Error::InvalidSubscriptionCode {
                reason: "it is empty",
            });
        }
        let allowed = |byte: u8| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_';
        if !code.bytes().all(allowed) {
            return Err(Error::InvalidSubscriptionCode {
                reason: "it may hold only letters, digits, `-` and `_`",
            });
        }
        Ok(SubscriptionCode(code.to_owned()))
    }

    /// The code itself, for building a request. Never log or show what this returns.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// `text` with every occurrence of the code replaced by `***`.
    pub fn mask(&self, text: &str) -> String {
        text.replace(&self.0, MASK)
    }
}

impl fmt::Debug for SubscriptionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SubscriptionCode({MASK})")
    }
}

impl fmt::Display for SubscriptionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

/// The key of the ET Intelligence REST API, sent as the raw `Authorization` header. It is a
/// different secret from the list [`SubscriptionCode`].
///
/// It never prints: `Debug` and `Display` show `***`, and the API client masks it in any
/// server message it keeps.
///
/// ```
/// use proofpoint_et_client::ApiKey;
///
/// let key = ApiKey::new("k3y-example")?;
/// assert_eq!(format!("{key} {key:?}"), "*** ApiKey(***)");
/// # Ok::<(), proofpoint_et_client::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// A key as the vendor's portal shows it: visible ASCII characters without spaces (it is
    /// sent as a header value as it is). Spaces around it are dropped.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidApiKey`] when the key is empty or holds another character; the error
    /// does not show the key.
    pub fn new(key: impl Into<String>) -> Result<ApiKey, Error> {
        let key = key.into();
        let key = key.trim();
        if key.is_empty() {
            return Err(Error::InvalidApiKey {
                reason: "it is empty",
            });
        }
        if !key.bytes().all(|byte| byte.is_ascii_graphic()) {
            return Err(Error::InvalidApiKey {
                reason: "it may hold only visible ascii characters, without spaces",
            });
        }
        Ok(ApiKey(key.to_owned()))
    }

    /// The key itself, for the request header. Never log or show what this returns.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// `text` with every occurrence of the key replaced by `***`.
    pub fn mask(&self, text: &str) -> String {
        text.replace(&self.0, MASK)
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({MASK})")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

/// Server-provided `text` with every occurrence of `secret` masked, ready to be shortened.
///
/// Masking comes before any cut: a cut first could split a secret and leave its start
/// unmasked. `cut_short` says that `text` is only the start of a longer body; its end may
/// then be the start of a secret that went on past the cut, so an end that is the start of
/// `secret` is dropped as well.
#[cfg(feature = "http")]
pub(crate) fn mask_server_text(text: &str, secret: &str, cut_short: bool) -> String {
    let masked = text.replace(secret, MASK);
    if !cut_short {
        return masked;
    }
    let partial = (1..secret.len())
        .rev()
        .filter(|&len| secret.is_char_boundary(len))
        .find(|&len| masked.ends_with(&secret[..len]));
    match partial {
        Some(len) => masked[..masked.len() - len].to_owned(),
        None => masked,
    }
}

/// Server-provided `text` as kept in an error or a log line: `secret` masked, then trimmed
/// and cut to `limit` characters (an ellipsis marks the cut).
#[cfg(feature = "http")]
pub(crate) fn masked_excerpt(text: &str, secret: &str, cut_short: bool, limit: usize) -> String {
    let masked = mask_server_text(text, secret, cut_short);
    let masked = masked.trim();
    match masked.char_indices().nth(limit) {
        Some((cut, _)) => format!("{}...", &masked[..cut]),
        None => masked.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_never_prints() {
        let code = SubscriptionCode::new("AUTHCODE12345").unwrap();
        assert!(!format!("{code} {code:?} {code:#?}").contains("AUTHCODE"));
        assert_eq!(
            code.mask("/AUTHCODE12345/reputation/x?AUTHCODE12345"),
            "/***/reputation/x?***"
        );
    }

    #[test]
    fn a_code_that_does_not_fit_a_path_segment_is_refused_without_showing_it() {
        for bad in ["", "  ", "a/b", "a b", "a%2F", "a?b"] {
            let error = SubscriptionCode::new(bad).unwrap_err();
            assert!(
                matches!(error, Error::InvalidSubscriptionCode { .. }),
                "{bad:?}"
            );
            if !bad.trim().is_empty() {
                assert!(!error.to_string().contains(bad.trim()));
            }
        }
    }

    #[test]
    fn the_api_key_never_prints() {
        let key = ApiKey::new(" APIKEY-12345 ").unwrap();

        assert!(!format!("{key} {key:?} {key:#?}").contains("APIKEY"));
        assert_eq!(key.expose_secret(), "APIKEY-12345");
        assert_eq!(key.mask("bad key APIKEY-12345"), "bad key ***");
    }

    #[test]
    fn an_api_key_that_is_not_a_header_value_is_refused_without_showing_it() {
        for bad in [
            "",
            "   ",
            "has space",
            "tab\there",
            "caf\u{e9}",
            "line\nbreak",
        ] {
            let error = ApiKey::new(bad).unwrap_err();

            assert!(matches!(error, Error::InvalidApiKey { .. }), "{bad:?}");
            if !bad.trim().is_empty() {
                assert!(!error.to_string().contains(bad.trim()), "{error}");
            }
        }
    }

    #[cfg(feature = "http")]
    #[test]
    fn a_secret_at_the_cut_of_a_message_is_masked_whole() {
        let text = format!("{}/SECRET-123/reputation", "x".repeat(290));

        let excerpt = masked_excerpt(&text, "SECRET-123", false, 300);

        assert!(!excerpt.contains("/SECRET"), "{excerpt}");
        assert!(excerpt.ends_with("/***/reput..."), "{excerpt}");
    }

    #[cfg(feature = "http")]
    #[test]
    fn the_start_of_a_secret_at_the_end_of_a_cut_body_is_dropped() {
        assert_eq!(
            mask_server_text("path /SECRET-1", "SECRET-123", true),
            "path /"
        );
        assert_eq!(
            mask_server_text("a SECRET-123", "SECRET-123", true),
            "a ***"
        );
        assert_eq!(
            mask_server_text("path /SECRET-1", "SECRET-123", false),
            "path /SECRET-1"
        );
    }
}

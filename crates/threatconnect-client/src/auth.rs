//! Credentials and request signing.
//!
//! HMAC signing follows ThreatConnect's scheme: the text `<path and query as sent>:<METHOD>:<unix
//! seconds>` is signed with HMAC-SHA256 and the secret key, base64-encoded, and sent as
//! `Authorization: TC <access id>:<signature>` beside `Timestamp: <unix seconds>`.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::secret::{SecretMask, SecretString};

/// How the client proves who it is.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Credentials {
    /// An API user's access id and secret key: every request is signed.
    Hmac {
        /// The access id (not secret; errors name it).
        access_id: String,
        /// The secret key (never printed).
        secret_key: SecretString,
    },
    /// An API token, sent as `Authorization: TC-Token <token>`.
    Token {
        /// The token (never printed).
        token: SecretString,
    },
}

impl Credentials {
    /// HMAC credentials.
    pub fn hmac(access_id: impl Into<String>, secret_key: impl Into<SecretString>) -> Credentials {
        Credentials::Hmac {
            access_id: access_id.into(),
            secret_key: secret_key.into(),
        }
    }

    /// Token credentials.
    pub fn token(token: impl Into<SecretString>) -> Credentials {
        Credentials::Token {
            token: token.into(),
        }
    }

    /// Who these credentials are, for error messages: the access id, never a secret.
    pub fn principal(&self) -> String {
        match self {
            Credentials::Hmac { access_id, .. } => format!("access id {access_id}"),
            Credentials::Token { .. } => "the API token".to_owned(),
        }
    }

    /// The mask of the secret in these credentials (the secret key or the token; an access id
    /// is not secret), for the text a server sends back.
    pub(crate) fn secret_mask(&self) -> SecretMask {
        match self {
            Credentials::Hmac { secret_key, .. } => SecretMask::new(secret_key),
            Credentials::Token { token } => SecretMask::new(token),
        }
    }

    /// The `Authorization` header and, for HMAC, the `Timestamp` header of one request.
    pub(crate) fn headers(
        &self,
        path_and_query: &str,
        method: &str,
        unix_seconds: i64,
    ) -> (String, Option<String>) {
        match self {
            Credentials::Hmac {
                access_id,
                secret_key,
            } => {
                let signature = sign(secret_key, path_and_query, method, unix_seconds);
                (
                    format!("TC {access_id}:{signature}"),
                    Some(unix_seconds.to_string()),
                )
            }
            Credentials::Token { token } => (format!("TC-Token {}", token.expose()), None),
        }
    }
}

/// The HMAC signature of one request: base64 of HMAC-SHA256 over
/// `<path_and_query>:<method>:<unix_seconds>` with `secret_key`.
///
/// `path_and_query` must be the very text sent, percent-encoding and case included.
///
/// ```
/// use threatconnect_client::{SecretString, sign};
///
/// let key = SecretString::new("example-secret-key");
/// let signature = sign(&key, "/api/v2/batch", "POST", 1_700_000_000);
/// assert_eq!(signature, "ouAXRxo+fzvXcm3ffYA4/Ah3x2Zh0RIHFPNl56W+WL8=");
/// ```
pub fn sign(
    secret_key: &SecretString,
    path_and_query: &str,
    method: &str,
    unix_seconds: i64,
) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret_key.expose().as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(path_and_query.as_bytes());
    mac.update(b":");
    mac.update(method.as_bytes());
    mac.update(b":");
    mac.update(unix_seconds.to_string().as_bytes());
    BASE64.encode(mac.finalize().into_bytes())
}

/// Where request timestamps come from. Tests inject their own; the client uses
/// [`SystemClock`] by default.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time as unix seconds.
    fn unix_seconds(&self) -> i64;
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn unix_seconds(&self) -> i64 {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example_key() -> SecretString {
        SecretString::new("example-secret-key")
    }

    #[test]
    fn signs_the_documented_get_vector() {
        let path = "/api/v2/indicators/hosts/example.com?owner=Common%20Community";

        let signature = sign(&example_key(), path, "GET", 1_513_703_787);

        assert_eq!(signature, "mm09jQaPeCRBoBW1PfhbqpaGVwXF+gMV5kEuba30jGE=");
    }

    #[test]
    fn signs_the_documented_post_vector() {
        let signature = sign(&example_key(), "/api/v2/batch", "POST", 1_700_000_000);

        assert_eq!(signature, "ouAXRxo+fzvXcm3ffYA4/Ah3x2Zh0RIHFPNl56W+WL8=");
    }

    #[test]
    fn a_plus_for_a_space_signs_differently_from_percent_20() {
        let encoded = "/api/v2/indicators/hosts/example.com?owner=Common%20Community";
        let form_encoded = "/api/v2/indicators/hosts/example.com?owner=Common+Community";

        let with_percent = sign(&example_key(), encoded, "GET", 1_513_703_787);
        let with_plus = sign(&example_key(), form_encoded, "GET", 1_513_703_787);

        assert_ne!(with_percent, with_plus);
    }

    #[test]
    fn hmac_headers_name_the_access_id_and_carry_the_same_seconds() {
        let credentials = Credentials::hmac("12345678901234567890", "example-secret-key");

        let (authorization, timestamp) =
            credentials.headers("/api/v2/batch", "POST", 1_700_000_000);

        assert_eq!(
            authorization,
            "TC 12345678901234567890:ouAXRxo+fzvXcm3ffYA4/Ah3x2Zh0RIHFPNl56W+WL8="
        );
        assert_eq!(timestamp.as_deref(), Some("1700000000"));
    }

    #[test]
    fn token_headers_use_the_token_scheme_and_no_timestamp() {
        let credentials = Credentials::token("example-token");

        let (authorization, timestamp) = credentials.headers("/api/v2/owners", "GET", 1);

        assert_eq!(authorization, "TC-Token example-token");
        assert_eq!(timestamp, None);
    }

    #[test]
    fn credentials_never_print_their_secrets() {
        let hmac = Credentials::hmac("access-example", "secret-key-example");
        let token = Credentials::token("token-example");

        let printed = format!(
            "{hmac:?} {token:?} {} {}",
            hmac.principal(),
            token.principal()
        );

        assert!(!printed.contains("secret-key-example"), "{printed}");
        assert!(!printed.contains("token-example"), "{printed}");
        assert!(printed.contains("access-example"), "{printed}");
    }
}

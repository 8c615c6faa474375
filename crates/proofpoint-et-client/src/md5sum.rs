//! MD5 digests and the `.md5sum` sidecars that carry them.

use std::fmt;
use std::str::FromStr;

use md5::{Digest, Md5};

use crate::parse::quote_text;

/// An MD5 digest, such as a sidecar gives for its list.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Md5Digest([u8; 16]);

impl Md5Digest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Md5Digest {
        Md5Digest(Md5::digest(bytes).into())
    }

    /// The digest's 16 bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// The digest that a sidecar's text gives: its first token, 32 hex digits in any case; an
    /// optional file name may follow.
    ///
    /// # Errors
    ///
    /// The first token is not 32 hex digits; the error quotes the start of the text.
    pub fn from_sidecar(sidecar: &str, text: &[u8]) -> Result<Md5Digest, crate::Error> {
        Md5Digest::from_sidecar_masking(sidecar, text, str::to_owned)
    }

    /// [`Md5Digest::from_sidecar`] for a sidecar from a server: `mask` hides the secrets in
    /// its first line before the error quotes (and so shortens) it.
    pub(crate) fn from_sidecar_masking(
        sidecar: &str,
        text: &[u8],
        mask: impl FnOnce(&str) -> String,
    ) -> Result<Md5Digest, crate::Error> {
        let text = text.strip_prefix(b"\xef\xbb\xbf").unwrap_or(text);
        let first_token = text
            .split(|byte| byte.is_ascii_whitespace())
            .find(|token| !token.is_empty())
            .unwrap_or_default();

        std::str::from_utf8(first_token)
            .ok()
            .and_then(|token| token.parse().ok())
            .ok_or_else(|| crate::Error::InvalidSidecar {
                sidecar: sidecar.to_owned(),
                text: quote_text(mask(&String::from_utf8_lossy(first_line(text))).trim()),
            })
    }
}

fn first_line(text: &[u8]) -> &[u8] {
    let end = memchr::memchr2(b'\n', b'\r', text).unwrap_or(text.len());
    &text[..end]
}

impl fmt::Display for Md5Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for Md5Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Md5Digest({self})")
    }
}

/// The error of reading an MD5 digest from text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an md5 digest is 32 hex digits")]
pub struct Md5ParseError;

impl FromStr for Md5Digest {
    type Err = Md5ParseError;

    /// 32 hex digits, in any case.
    fn from_str(text: &str) -> Result<Md5Digest, Md5ParseError> {
        let mut bytes = [0u8; 16];
        if text.len() != 32 {
            return Err(Md5ParseError);
        }
        hex::decode_to_slice(text, &mut bytes).map_err(|_| Md5ParseError)?;
        Ok(Md5Digest(bytes))
    }
}

/// An MD5 computed over bytes as they pass.
#[derive(Debug, Clone, Default)]
pub(crate) struct Md5Hasher(Md5);

impl Md5Hasher {
    pub(crate) fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    pub(crate) fn finish(self) -> Md5Digest {
        Md5Digest(self.0.finalize().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY_MD5: &str = "1927989b8146cbc0cc828f1d7f13de04";

    #[test]
    fn the_md5_of_the_f07_body_is_the_one_the_field_case_gives() {
        assert_eq!(Md5Digest::of(b"198.51.100.23,1,98\n").to_string(), BODY_MD5);
    }

    #[test]
    fn md5_sidecar_in_its_forms_f07() {
        // F07: a bare hash, an upper-case hash with a file name, and one that is no hash.
        let bare = Md5Digest::from_sidecar("x.md5sum", format!("{BODY_MD5}\n").as_bytes());
        assert_eq!(bare.unwrap().to_string(), BODY_MD5);

        let named = Md5Digest::from_sidecar(
            "x.md5sum",
            b"1927989B8146CBC0CC828F1D7F13DE04  iprepdata.txt\r\n",
        );
        assert_eq!(named.unwrap().to_string(), BODY_MD5);

        let error = Md5Digest::from_sidecar("x.md5sum", b"not-a-hash\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "the md5 sidecar x.md5sum does not hold an md5: it starts with `not-a-hash`"
        );
        assert!(Md5Digest::from_sidecar("x.md5sum", b"").is_err());
    }

    #[test]
    fn the_hasher_gives_the_digest_of_all_it_was_fed() {
        let mut hasher = Md5Hasher::default();
        hasher.update(b"198.51.100.23,");
        hasher.update(b"1,98\n");
        assert_eq!(hasher.finish().to_string(), BODY_MD5);
    }
}

//! The optional extra CA file (field case F12).
//!
//! The file is read before any request. It must yield at least one usable certificate: an
//! empty file or one holding only a private key is an error naming the file, never a silent
//! fall-back to the system roots alone. PEM (any number of certificates, text around them,
//! LF or CRLF) and a single DER certificate are read; every certificate is checked to be usable
//! as a trust anchor, because the TLS layer would otherwise skip a bad one without a word.

use std::path::Path;

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::error::Error;

/// The certificates of the extra CA file at `path`.
pub(crate) fn load_extra_roots(path: &Path) -> Result<Vec<reqwest::Certificate>, Error> {
    let contents = std::fs::read(path).map_err(|source| Error::CaFileRead {
        path: path.to_owned(),
        source,
    })?;
    let invalid = |reason: String| Error::CaFileInvalid {
        path: path.to_owned(),
        reason,
    };

    let ders = read_certificates(&contents).map_err(invalid)?;
    if ders.is_empty() {
        return Err(invalid("no certificate was found in it".to_owned()));
    }

    for (index, der) in ders.iter().enumerate() {
        webpki::anchor_from_trusted_cert(der).map_err(|error| {
            invalid(format!(
                "certificate {} of the file cannot be used: {error}",
                index + 1
            ))
        })?;
    }

    tracing::info!(
        path = %path.display(),
        certificates = ders.len(),
        "extra CA certificates loaded"
    );
    ders.iter()
        .map(|der| reqwest::Certificate::from_der(der))
        .collect::<Result<_, _>>()
        .map_err(|error| {
            invalid(format!(
                "the TLS layer refused a certificate: {}",
                error.without_url()
            ))
        })
}

/// The certificates in `contents`, PEM or a single DER certificate.
fn read_certificates(contents: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let looks_like_pem = contents.windows(11).any(|window| window == b"-----BEGIN ");
    if looks_like_pem {
        return CertificateDer::pem_slice_iter(contents)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| format!("its PEM does not read: {error}"));
    }

    // A DER certificate is an ASN.1 SEQUENCE: its first byte is 0x30.
    match contents.first() {
        Some(0x30) => Ok(vec![CertificateDer::from(contents.to_vec())]),
        _ => Ok(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/ca")
            .join(name)
    }

    fn reason_for(name: &str) -> String {
        match load_extra_roots(&fixture(name)) {
            Err(Error::CaFileInvalid { path, reason }) => {
                assert_eq!(path, fixture(name));
                reason
            }
            other => panic!("expected CaFileInvalid for {name}, got {other:?}"),
        }
    }

    #[test]
    fn an_empty_ca_file_is_refused_naming_the_file() {
        // F12 (a): an empty file.
        let reason = reason_for("empty.pem");

        assert_eq!(reason, "no certificate was found in it");
        let message = load_extra_roots(&fixture("empty.pem"))
            .unwrap_err()
            .to_string();
        assert!(message.contains("empty.pem"), "{message}");
    }

    #[test]
    fn a_ca_file_holding_only_a_key_is_refused_naming_the_file() {
        // F12 (c): a private key and no certificate.
        assert_eq!(reason_for("key-only.pem"), "no certificate was found in it");
    }

    #[test]
    fn a_der_certificate_is_loaded() {
        // F12 (b): one certificate in DER form.
        assert_eq!(load_extra_roots(&fixture("ca.der")).unwrap().len(), 1);
    }

    #[test]
    fn a_der_file_that_is_no_certificate_is_refused_not_skipped() {
        // F12 (b), the other way: bytes that start like DER but are not a certificate.
        let reason = reason_for("not-a-cert.der");

        assert!(reason.contains("certificate 1"), "{reason}");
    }

    #[test]
    fn two_pem_certificates_after_text_lines_load_two() {
        // F12 (d): text lines, then two certificates.
        assert_eq!(
            load_extra_roots(&fixture("two-with-text.pem"))
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn a_pem_certificate_with_crlf_endings_loads_one() {
        // F12 (e): CRLF line endings.
        assert_eq!(load_extra_roots(&fixture("one-crlf.pem")).unwrap().len(), 1);
    }

    #[test]
    fn a_missing_ca_file_is_a_read_error_naming_it() {
        let error = load_extra_roots(&fixture("absent.pem")).unwrap_err();

        assert!(matches!(error, Error::CaFileRead { .. }));
        assert!(error.to_string().contains("absent.pem"), "{error}");
    }
}

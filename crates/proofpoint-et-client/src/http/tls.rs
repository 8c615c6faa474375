//! The extra CA file: certificates to trust beside the operating system's (TLS inspection).

use std::path::Path;

use reqwest::Certificate;

use crate::error::Error;

/// The certificates of the PEM file at `path`; a single DER certificate is read too.
///
/// A file without any certificate (empty, a private key only, text) is an error, so that a
/// wrong path never leaves the client trusting the system roots alone in silence.
pub(crate) fn read_extra_ca(path: &Path) -> Result<Vec<Certificate>, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::CaFile {
        path: path.to_owned(),
        source,
    })?;
    let no_certificate = || Error::NoCertificate {
        path: path.to_owned(),
    };
    if bytes.trim_ascii().is_empty() {
        return Err(no_certificate());
    }

    let certificates = if looks_like_der(&bytes) {
        vec![Certificate::from_der(&bytes).map_err(|_| no_certificate())?]
    } else {
        Certificate::from_pem_bundle(&bytes).map_err(|_| no_certificate())?
    };
    if certificates.is_empty() {
        return Err(no_certificate());
    }

    tracing::info!(
        path = %path.display(),
        certificates = certificates.len(),
        "trusting the extra ca certificates beside the system's"
    );
    Ok(certificates)
}

/// A DER certificate starts with an ASN.1 sequence of a long length; PEM is text.
fn looks_like_der(bytes: &[u8]) -> bool {
    matches!(bytes, [0x30, 0x82, ..])
}

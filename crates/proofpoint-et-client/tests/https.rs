//! TLS with an extra CA file, end to end, against a TLS server on 127.0.0.1.

#![cfg(feature = "http")]

mod common;

use std::sync::Arc;

use common::fixture;
use common::http::{builder, fetch};
use proofpoint_et_client::{Error, FetchOutcome, ListFile, Validators};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{ServerConfig, crypto};

const BODY: &str = "198.51.100.23,1,98\n";

/// A TLS server with a certificate for 127.0.0.1 signed by the test CA. It answers 404 to
/// sidecars and the one-line list to anything else.
async fn tls_server() -> String {
    let certs = CertificateDer::pem_file_iter(fixture("tls/server-cert.pem"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(fixture("tls/server-key.pem")).unwrap();
    let provider = Arc::new(crypto::aws_lc_rs::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return;
                };
                let mut head = vec![0u8; 4096];
                let Ok(read) = tls.read(&mut head).await else {
                    return;
                };
                let head = String::from_utf8_lossy(&head[..read]).into_owned();
                let answer = if head.lines().next().unwrap_or_default().contains(".md5sum ") {
                    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        .to_owned()
                } else {
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{BODY}",
                        BODY.len()
                    )
                };
                let _ = tls.write_all(answer.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    format!("https://127.0.0.1:{port}/")
}

#[tokio::test]
async fn a_server_signed_by_the_extra_ca_is_trusted() {
    let base = tls_server().await;
    let source = builder(&base)
        .extra_ca_file(fixture("tls/test-ca.pem"))
        .build()
        .unwrap();

    let (outcome, sink) = fetch(&source, ListFile::SHORT_IP, &Validators::default()).await;
    assert!(
        matches!(outcome, Ok(FetchOutcome::Complete { .. })),
        "{outcome:?}"
    );
    assert_eq!(sink.rendered_rows(), ["198.51.100.23 1 98 - - []"]);
}

#[tokio::test]
async fn without_the_extra_ca_the_same_server_is_refused() {
    let base = tls_server().await;
    let source = builder(&base).build().unwrap();

    let (outcome, sink) = fetch(&source, ListFile::SHORT_IP, &Validators::default()).await;
    let error = outcome.unwrap_err();
    assert!(matches!(error, Error::Transport { .. }), "{error:?}");
    assert!(sink.rows.is_empty());
    let shown = common::http::everything_shown(&error).to_lowercase();
    assert!(
        shown.contains("certificate"),
        "refused for its certificate: {shown}"
    );
    common::http::assert_masked(&error);
}

/// The REST API client of `base`, trusting the test CA or not.
fn api_client(base: &str, trust_test_ca: bool) -> proofpoint_et_client::ApiClient {
    let key = proofpoint_et_client::ApiKey::new("tls-test-key").unwrap();
    let mut builder = proofpoint_et_client::ApiClient::builder(key)
        .base_url(base)
        .proxy_from_env(false)
        .retries(0);
    if trust_test_ca {
        builder = builder.extra_ca_file(fixture("tls/test-ca.pem"));
    }
    builder.build().unwrap()
}

#[tokio::test]
async fn the_rest_api_client_trusts_a_server_signed_by_the_extra_ca() {
    // The server answers a list, not the API's envelope: an answer that does not read is the
    // proof that the TLS handshake passed.
    let base = tls_server().await;
    let ip = "192.0.2.7".parse().unwrap();

    let trusted = api_client(&base, true)
        .ip(ip)
        .reputation()
        .await
        .unwrap_err();
    let refused = api_client(&base, false)
        .ip(ip)
        .reputation()
        .await
        .unwrap_err();

    assert!(matches!(trusted, Error::ApiDecode { .. }), "{trusted:?}");
    assert!(matches!(refused, Error::ApiTransport { .. }), "{refused:?}");
    let shown = common::http::everything_shown(&refused).to_lowercase();
    assert!(
        shown.contains("certificate"),
        "refused for its certificate: {shown}"
    );
}

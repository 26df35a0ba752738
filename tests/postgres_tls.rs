//! PostgreSQL over TLS, as libpq takes sslmode: a server of its own (it takes TLS
//! connections only), the one this test binary starts.
#![allow(clippy::unwrap_used)]

mod common;

use common::bin::{bin, fails, lines, ok};
use common::pg::{go_mink_sql, Cluster};

#[test]
fn tls_modes_as_libpq_takes_them() {
    if !common::pg::server_present() {
        return;
    }
    let pg = Cluster::start_tls().expect("a PostgreSQL server (apt-get install postgresql)");
    let port = pg.port;
    let ca = pg.dir().join("ca.pem");
    let ca = ca.to_str().unwrap();
    {
        // The fixture, over TLS (the server takes nothing else).
        let mut c = postgres::Client::connect(
            &format!("host=localhost port={port} user=postgres dbname=postgres sslmode=require"),
            tokio_postgres_rustls_connector(),
        )
        .unwrap();
        c.batch_execute("CREATE DATABASE mink").unwrap();
        let mut c = postgres::Client::connect(
            &format!("host=localhost port={port} user=postgres dbname=mink sslmode=require"),
            tokio_postgres_rustls_connector(),
        )
        .unwrap();
        c.batch_execute(&go_mink_sql()).unwrap();
    }
    let url = |host: &str, mode: &str| {
        format!("postgres://postgres@{host}:{port}/mink?sslmode={mode}&sslrootcert={ca}")
    };
    let streams = |u: &str| lines(&ok(&["streams", u, "--json"])).len();
    assert_eq!(streams(&url("localhost", "require")), 2);
    assert_eq!(streams(&url("localhost", "prefer")), 2);
    assert_eq!(streams(&url("localhost", "verify-full")), 2);
    // verify-ca checks the chain only: another name for the host is fine.
    assert_eq!(streams(&url("127.0.0.1", "verify-ca")), 2);
    // verify-full also checks the name: the certificate is for localhost only.
    let err = fails(&["streams", &url("127.0.0.1", "verify-full")]);
    assert!(err.contains("cannot connect"), "{err}");
    // Without TLS the server refuses.
    let err = fails(&["streams", &url("localhost", "disable")]);
    assert!(
        err.contains("refused") || err.contains("authentication"),
        "{err}"
    );
    // verify-full without a root certificate to check against is refused, not weakened.
    let bare = format!("postgres://postgres@localhost:{port}/mink?sslmode=verify-full");
    let err = bin()
        .args(["streams", &bare])
        .env("HOME", pg.dir())
        .output()
        .unwrap();
    assert_eq!(err.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&err.stderr).contains("root certificate"));
}

/// A TLS connector that checks nothing, for writing the fixture.
fn tokio_postgres_rustls_connector() -> tokio_postgres_rustls::MakeRustlsConnect {
    #[derive(Debug)]
    struct Any(std::sync::Arc<rustls::crypto::CryptoProvider>);
    impl rustls::client::danger::ServerCertVerifier for Any {
        fn verify_server_cert(
            &self,
            _: &rustls::pki_types::CertificateDer<'_>,
            _: &[rustls::pki_types::CertificateDer<'_>],
            _: &rustls::pki_types::ServerName<'_>,
            _: &[u8],
            _: rustls::pki_types::UnixTime,
        ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        }
        fn verify_tls12_signature(
            &self,
            m: &[u8],
            c: &rustls::pki_types::CertificateDer<'_>,
            d: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(
                m,
                c,
                d,
                &self.0.signature_verification_algorithms,
            )
        }
        fn verify_tls13_signature(
            &self,
            m: &[u8],
            c: &rustls::pki_types::CertificateDer<'_>,
            d: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(
                m,
                c,
                d,
                &self.0.signature_verification_algorithms,
            )
        }
        fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(std::sync::Arc::new(Any(provider)))
        .with_no_client_auth();
    tokio_postgres_rustls::MakeRustlsConnect::new(config)
}

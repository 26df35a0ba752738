//! Connecting as libpq would: a URL or `key=value` string, the `PG*` variables and
//! `~/.pgpass` for what it leaves out, `sslmode` up to `verify-full` through rustls, and a
//! session that cannot write (`default_transaction_read_only`) with bounded timeouts.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use postgres::config::{Host, SslMode};
use postgres::{Client, Config, NoTls};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use crate::store::StoreError;

/// Whether a store argument names a PostgreSQL database rather than a file.
pub fn is_url(target: &str) -> bool {
    target.starts_with("postgres://") || target.starts_with("postgresql://")
}

/// The session's limits; flags change them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    pub statement_timeout: Duration,
    pub lock_timeout: Duration,
    pub idle_in_transaction_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            statement_timeout: Duration::from_secs(60),
            lock_timeout: Duration::from_secs(2),
            idle_in_transaction_timeout: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tls {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// A parsed target: the client crate's config plus the TLS settings it does not take.
#[derive(Clone)]
pub struct Target {
    config: Config,
    verify: Tls,
    root_cert: Option<PathBuf>,
    client_cert: Option<(PathBuf, PathBuf)>,
}

impl Target {
    /// Parses a URL as libpq does, filling gaps from the environment and `~/.pgpass`.
    pub fn parse(url: &str, limits: &Limits) -> Result<Target, StoreError> {
        let escaped = escape_userinfo(url);
        let url = escaped.as_str();
        let (base, params) = match url.split_once('?') {
            Some((b, q)) => (b, q),
            None => (url, ""),
        };
        let mut kept = Vec::new();
        let mut ssl = std::env::var("PGSSLMODE").ok();
        let mut root_cert = std::env::var_os("PGSSLROOTCERT").map(PathBuf::from);
        let mut cert = std::env::var_os("PGSSLCERT").map(PathBuf::from);
        let mut key = std::env::var_os("PGSSLKEY").map(PathBuf::from);
        let mut passfile = std::env::var_os("PGPASSFILE").map(PathBuf::from);
        for pair in params.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_decode(v);
            match k {
                "sslmode" => ssl = Some(value),
                "sslrootcert" => root_cert = Some(value.into()),
                "sslcert" => cert = Some(value.into()),
                "sslkey" => key = Some(value.into()),
                "passfile" => passfile = Some(value.into()),
                _ => kept.push(pair),
            }
        }
        let rebuilt = if kept.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        let mut config: Config = rebuilt
            .parse()
            .map_err(|e| StoreError::Postgres(format!("{}: {e}", redact(url))))?;
        let verify = match ssl.as_deref().unwrap_or("prefer") {
            "disable" | "allow" => Tls::Disable,
            "prefer" => Tls::Prefer,
            "require" => Tls::Require,
            "verify-ca" => Tls::VerifyCa,
            "verify-full" => Tls::VerifyFull,
            other => {
                return Err(StoreError::Postgres(format!(
                    "sslmode={other}: use disable, prefer, require, verify-ca or verify-full"
                )))
            }
        };
        fill_from_environment(&mut config, passfile);
        config.application_name("eventscope");
        config.options(&format!(
            "-c default_transaction_read_only=on -c statement_timeout={} -c lock_timeout={} -c idle_in_transaction_session_timeout={} -c TimeZone=UTC",
            limits.statement_timeout.as_millis(),
            limits.lock_timeout.as_millis(),
            limits.idle_in_transaction_timeout.as_millis(),
        ));
        config.connect_timeout(Duration::from_secs(10));
        config.ssl_mode(match verify {
            Tls::Disable => SslMode::Disable,
            Tls::Prefer => SslMode::Prefer,
            _ => SslMode::Require,
        });
        // libpq: with a root certificate at hand, `require` checks the chain too.
        let home_root = home().map(|h| h.join(".postgresql/root.crt"));
        if root_cert.is_none() && verify != Tls::Disable {
            root_cert = home_root.filter(|p| p.exists());
        }
        let verify = match verify {
            Tls::Require if root_cert.is_some() => Tls::VerifyCa,
            v => v,
        };
        Ok(Target {
            config,
            verify,
            root_cert,
            client_cert: cert.zip(key),
        })
    }

    /// Opens a session.
    pub fn connect(&self) -> Result<Client, StoreError> {
        let shown = self.shown();
        let result = match self.verify {
            Tls::Disable => self.config.connect(NoTls),
            _ => {
                let tls = self.tls_config()?;
                self.config
                    .connect(tokio_postgres_rustls::MakeRustlsConnect::new(tls))
            }
        };
        result.map_err(|e| connect_error(&shown, &e))
    }

    /// `user@host:port/db`, never the password.
    pub fn shown(&self) -> String {
        let host = self
            .config
            .get_hosts()
            .first()
            .map(|h| match h {
                Host::Tcp(name) => name.clone(),
                Host::Unix(p) => p.display().to_string(),
            })
            .unwrap_or_default();
        let port = self.config.get_ports().first().copied().unwrap_or(5432);
        format!(
            "postgres://{}@{host}:{port}/{}",
            self.config.get_user().unwrap_or(""),
            self.config.get_dbname().unwrap_or("")
        )
    }

    fn tls_config(&self) -> Result<rustls::ClientConfig, StoreError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| StoreError::Postgres(format!("TLS: {e}")))?;
        let builder = match (self.verify, &self.root_cert) {
            (Tls::VerifyCa | Tls::VerifyFull, None) => {
                return Err(StoreError::Postgres(
                    "sslmode=verify-ca/verify-full needs a root certificate: give sslrootcert=FILE (or put it in ~/.postgresql/root.crt)".into(),
                ))
            }
            (Tls::VerifyCa | Tls::VerifyFull, Some(path)) => {
                let mut roots = rustls::RootCertStore::empty();
                for cert in read_certs(path)? {
                    roots
                        .add(cert)
                        .map_err(|e| StoreError::Postgres(format!("{}: {e}", path.display())))?;
                }
                let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(
                    Arc::new(roots),
                    provider.clone(),
                )
                .build()
                .map_err(|e| StoreError::Postgres(format!("TLS: {e}")))?;
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(Checked {
                        inner: webpki,
                        check_name: self.verify == Tls::VerifyFull,
                    }))
            }
            _ => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(Unchecked(provider))),
        };
        match &self.client_cert {
            None => Ok(builder.with_no_client_auth()),
            Some((cert, key)) => {
                let key = PrivateKeyDer::from_pem_file(key)
                    .map_err(|e| StoreError::Postgres(format!("sslkey: {e}")))?;
                builder
                    .with_client_auth_cert(read_certs(cert)?, key)
                    .map_err(|e| StoreError::Postgres(format!("sslcert: {e}")))
            }
        }
    }
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, StoreError> {
    CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| StoreError::Postgres(format!("{}: {e}", path.display())))
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME").map(PathBuf::from)
}

/// Host, port, user, database and password from `PG*` and `~/.pgpass`, where the URL left
/// them out.
fn fill_from_environment(config: &mut Config, passfile: Option<PathBuf>) {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if config.get_hosts().is_empty() {
        let host = env("PGHOST").unwrap_or_else(|| "localhost".into());
        config.host(&host);
    }
    if config.get_ports().is_empty() {
        if let Some(port) = env("PGPORT").and_then(|p| p.parse().ok()) {
            config.port(port);
        }
    }
    if config.get_user().is_none() {
        let user = env("PGUSER")
            .or_else(|| env("USER"))
            .unwrap_or_else(|| "postgres".into());
        config.user(&user);
    }
    if config.get_dbname().is_none() {
        if let Some(db) = env("PGDATABASE") {
            config.dbname(&db);
        }
    }
    if config.get_password().is_none() {
        if let Some(pw) = env("PGPASSWORD") {
            config.password(pw);
        } else if let Some(pw) = pgpass(config, passfile) {
            config.password(pw);
        }
    }
}

/// The first matching line of the password file (`host:port:db:user:password`, `*` for
/// any, `\` escaping `:` and `\`).
fn pgpass(config: &Config, passfile: Option<PathBuf>) -> Option<String> {
    let path = passfile.or_else(|| home().map(|h| h.join(".pgpass")))?;
    let text = std::fs::read_to_string(path).ok()?;
    let host = match config.get_hosts().first()? {
        Host::Tcp(h) => h.clone(),
        Host::Unix(_) => "localhost".into(),
    };
    let port = config
        .get_ports()
        .first()
        .copied()
        .unwrap_or(5432)
        .to_string();
    let user = config.get_user().unwrap_or_default().to_string();
    let db = config.get_dbname().unwrap_or(&user).to_string();
    let wanted = [host, port, db, user];
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(split_pgpass)
        .find(|fields| {
            fields.len() == 5
                && fields[..4]
                    .iter()
                    .zip(&wanted)
                    .all(|(f, w)| f == "*" || f == w)
        })
        .map(|mut fields| fields.remove(4))
}

fn split_pgpass(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    out.last_mut().expect("one field at least").push(n);
                }
            }
            ':' if out.len() < 5 => out.push(String::new()),
            c => out.last_mut().expect("one field at least").push(c),
        }
    }
    out
}

pub(in crate::store) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A password (or user) holding an unescaped `@` or `:` is what the user meant, as a
/// browser reads it: the authority's last `@` ends the user information, and its first
/// `:` ends the user. Escaped for the driver, which would otherwise take the password's
/// tail for the host (and show it in messages).
pub(in crate::store) fn escape_userinfo(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_string();
    };
    let userinfo = &rest[..at];
    let escape = |s: &str| s.replace('@', "%40").replace(':', "%3A");
    let userinfo = match userinfo.split_once(':') {
        Some((user, password)) => format!("{}:{}", escape(user), escape(password)),
        None => escape(userinfo),
    };
    format!("{}{userinfo}{}", &url[..scheme_end + 3], &rest[at..])
}

/// A URL as the user may see it: the password, in the authority or as `password=`,
/// replaced by `***`.
pub fn redact(url: &str) -> String {
    let mut out = url.to_string();
    if let Some(scheme_end) = out.find("://") {
        let rest = &out[scheme_end + 3..];
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        if let Some(at) = rest[..authority_end].rfind('@') {
            if let Some(colon) = rest[..at].find(':') {
                let start = scheme_end + 3 + colon + 1;
                out.replace_range(start..scheme_end + 3 + at, "***");
            }
        }
    }
    if let Some(p) = out.find("password=") {
        let start = p + "password=".len();
        let end = out[start..]
            .find(['&', ' '])
            .map_or(out.len(), |e| start + e);
        out.replace_range(start..end, "***");
    }
    out
}

/// One line for a failed connection, by kind; never the password.
fn connect_error(shown: &str, e: &postgres::Error) -> StoreError {
    if let Some(db) = e.as_db_error() {
        let kind = match db.code().code() {
            "28P01" | "28000" => "authentication failed",
            "3D000" => "no such database",
            "42501" => "permission denied",
            "53300" => "too many connections",
            _ => "refused",
        };
        return StoreError::Postgres(format!("{shown}: {kind}: {}", db.message()));
    }
    let text = e.to_string();
    let source = std::error::Error::source(e)
        .map(|s| s.to_string())
        .unwrap_or_default();
    let detail = if source.is_empty() || text.contains(&source) {
        text
    } else {
        format!("{text}: {source}")
    };
    StoreError::Postgres(format!("{shown}: cannot connect ({detail})"))
}

/// `verify-ca` and `verify-full`: the chain against the root certificate; the host name
/// only for `verify-full`.
#[derive(Debug)]
struct Checked {
    inner: Arc<rustls::client::WebPkiServerVerifier>,
    check_name: bool,
}

impl ServerCertVerifier for Checked {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName))
            | Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForNameContext { .. },
            )) if !self.check_name => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// `prefer` and `require` without a root certificate: encrypted, not authenticated (as
/// libpq does); signatures are still checked.
#[derive(Debug)]
struct Unchecked(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_at_sign_in_a_password_is_the_password_s() {
        assert_eq!(
            escape_userinfo("postgres://bob:hun@ter:2@h:1/db?x=a@b"),
            "postgres://bob:hun%40ter%3A2@h:1/db?x=a@b"
        );
        assert_eq!(escape_userinfo("postgres://h/db"), "postgres://h/db");
        let t = Target::parse("postgres://bob:hun@ter@127.0.0.1:1/db", &Limits::default()).unwrap();
        assert_eq!(t.shown(), "postgres://bob@127.0.0.1:1/db");
    }

    #[test]
    fn passwords_never_shown() {
        assert_eq!(
            redact("postgres://ann:s3cret@db:5432/x?sslmode=require"),
            "postgres://ann:***@db:5432/x?sslmode=require"
        );
        assert_eq!(
            redact("postgresql://h/x?password=s3cret&sslmode=disable"),
            "postgresql://h/x?password=***&sslmode=disable"
        );
        assert_eq!(redact("postgres://ann@db/x"), "postgres://ann@db/x");
    }

    #[test]
    fn pgpass_lines_with_escapes() {
        assert_eq!(
            split_pgpass(r"db:5432:*:ann:pa\:ss\\word"),
            vec!["db", "5432", "*", "ann", r"pa:ss\word"]
        );
    }

    #[test]
    fn sslmodes_the_crate_refuses_are_taken() {
        let limits = Limits::default();
        for mode in ["disable", "prefer", "require", "verify-ca", "verify-full"] {
            let t = Target::parse(&format!("postgres://u@h/d?sslmode={mode}"), &limits);
            assert!(t.is_ok(), "{mode}");
        }
        let bad = Target::parse("postgres://u@h/d?sslmode=sometimes", &limits);
        assert!(bad.is_err());
    }
}

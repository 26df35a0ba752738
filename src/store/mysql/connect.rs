//! Connecting as MySQL's own clients would: a `mysql://` or `mariadb://` URL, `~/.my.cnf`'s
//! `[client]` section and `MYSQL_PWD` for what it leaves out, `ssl-mode` from `DISABLED` to
//! `VERIFY_IDENTITY` through rustls, and a session that cannot write (`SET SESSION
//! TRANSACTION READ ONLY`) with bounded statement, lock and socket timeouts.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use mysql::prelude::Queryable;
use mysql::{Conn, Opts, OptsBuilder, SslOpts};

use crate::store::postgres::{escape_userinfo, percent_decode, redact, Limits};
use crate::store::StoreError;

/// Whether a store argument names a MySQL or MariaDB database.
pub fn is_url(target: &str) -> bool {
    target.starts_with("mysql://") || target.starts_with("mariadb://")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tls {
    Disabled,
    Preferred,
    Required,
    VerifyCa,
    VerifyIdentity,
}

/// The server's dialect where MySQL and MariaDB differ (the statement timeout's name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavor {
    MySql,
    MariaDb,
}

/// A parsed target: the driver's options plus the TLS mode it does not take.
#[derive(Clone)]
pub struct Target {
    opts: Opts,
    tls: Tls,
    root_cert: Option<PathBuf>,
    limits: Limits,
}

impl Target {
    pub fn parse(url: &str, limits: &Limits) -> Result<Target, StoreError> {
        let escaped = escape_userinfo(url);
        let shown = redact(url);
        let bad = |m: String| StoreError::Mysql(format!("{shown}: {m}"));
        let rest = escaped
            .strip_prefix("mariadb://")
            .or_else(|| escaped.strip_prefix("mysql://"))
            .ok_or_else(|| bad("not a mysql:// or mariadb:// URL".into()))?;
        let (base, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut tls = None;
        let mut root_cert = None;
        let mut passed = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match k {
                "ssl-mode" | "sslmode" | "ssl_mode" => {
                    tls = Some(match percent_decode(v).to_ascii_uppercase().as_str() {
                        "DISABLED" | "DISABLE" => Tls::Disabled,
                        "PREFERRED" | "PREFER" => Tls::Preferred,
                        "REQUIRED" | "REQUIRE" => Tls::Required,
                        "VERIFY_CA" | "VERIFY-CA" => Tls::VerifyCa,
                        "VERIFY_IDENTITY" | "VERIFY-FULL" => Tls::VerifyIdentity,
                        other => {
                            return Err(bad(format!(
                                "ssl-mode={other}: one of DISABLED, PREFERRED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY"
                            )))
                        }
                    })
                }
                "ssl-ca" | "sslrootcert" | "ssl_ca" => root_cert = Some(percent_decode(v).into()),
                _ => passed.push(pair),
            }
        }
        let mut driver_url = format!("mysql://{base}");
        if !passed.is_empty() {
            driver_url.push('?');
            driver_url.push_str(&passed.join("&"));
        }
        let opts = Opts::from_url(&driver_url).map_err(|e| bad(e.to_string()))?;
        let cnf = my_cnf();
        let mut builder = OptsBuilder::from_opts(opts.clone());
        if opts.get_user().is_none() {
            let user = cnf
                .get("user")
                .cloned()
                .or_else(|| std::env::var("USER").ok());
            builder = builder.user(user);
        }
        if opts.get_pass().is_none() {
            let pass = std::env::var("MYSQL_PWD")
                .ok()
                .or_else(|| cnf.get("password").cloned());
            builder = builder.pass(pass);
        }
        if opts.get_db_name().is_none() {
            return Err(bad(
                "name the database: mysql://USER@HOST:PORT/DATABASE".into()
            ));
        }
        // A hung server or network ends a read instead of the session waiting forever.
        let socket = limits.statement_timeout + Duration::from_secs(30);
        builder = builder
            .read_timeout(Some(socket))
            .write_timeout(Some(socket))
            .tcp_connect_timeout(Some(Duration::from_secs(10)))
            .prefer_socket(false);
        let tls = tls.unwrap_or(if root_cert.is_some() {
            Tls::VerifyCa
        } else {
            Tls::Preferred
        });
        Ok(Target {
            opts: builder.into(),
            tls,
            root_cert,
            limits: *limits,
        })
    }

    /// Opens a read-only session.
    pub fn connect(&self) -> Result<Conn, StoreError> {
        let shown = self.shown();
        let ssl = |accept_invalid: bool, skip_domain: bool| {
            let mut ssl = SslOpts::default()
                .with_danger_accept_invalid_certs(accept_invalid)
                .with_danger_skip_domain_validation(skip_domain);
            if let Some(root) = &self.root_cert {
                ssl = ssl.with_root_cert_path(Some(root.clone()));
            }
            ssl
        };
        let with = |ssl: Option<SslOpts>| {
            Conn::new(OptsBuilder::from_opts(self.opts.clone()).ssl_opts(ssl))
        };
        let conn = match self.tls {
            Tls::Disabled => with(None),
            Tls::Required => with(Some(ssl(true, true))),
            Tls::VerifyCa => with(Some(ssl(false, true))),
            Tls::VerifyIdentity => with(Some(ssl(false, false))),
            // As MySQL's clients do: TLS where the server offers it, else plain.
            Tls::Preferred => match with(Some(ssl(true, true))) {
                Err(mysql::Error::DriverError(mysql::DriverError::TlsNotSupported)) => with(None),
                other => other,
            },
        };
        let mut conn = conn.map_err(|e| connect_error(&shown, &e))?;
        let version: Option<String> = conn
            .query_first("SELECT VERSION()")
            .map_err(|e| connect_error(&shown, &e))?;
        let flavor = match version.as_deref().unwrap_or("").contains("MariaDB") {
            true => Flavor::MariaDb,
            false => Flavor::MySql,
        };
        let statement = self.limits.statement_timeout;
        let timeout = match flavor {
            Flavor::MariaDb => format!("max_statement_time = {}", statement.as_secs_f64()),
            Flavor::MySql => format!("max_execution_time = {}", statement.as_millis()),
        };
        let lock = self.limits.lock_timeout.as_secs().max(1);
        let session = format!(
            "SET SESSION {timeout}, SESSION lock_wait_timeout = {lock}, \
             SESSION innodb_lock_wait_timeout = {lock}, NAMES utf8mb4, time_zone = '+00:00'"
        );
        for sql in ["SET SESSION TRANSACTION READ ONLY", &session] {
            conn.query_drop(sql)
                .map_err(|e| connect_error(&shown, &e))?;
        }
        Ok(conn)
    }

    /// `mysql://user@host:port/db`, never the password.
    pub fn shown(&self) -> String {
        format!(
            "mysql://{}@{}:{}/{}",
            self.opts.get_user().unwrap_or(""),
            self.opts.get_ip_or_hostname(),
            self.opts.get_tcp_port(),
            self.opts.get_db_name().unwrap_or("")
        )
    }
}

/// `~/.my.cnf`'s `[client]` section (and `[mysql]`'s after it), as MySQL's clients read
/// it: `key = value`, quotes taken off; a file that cannot be read is no settings.
fn my_cnf() -> HashMap<String, String> {
    let Some(home) = std::env::var_os("HOME").map(PathBuf::from) else {
        return HashMap::new();
    };
    let Ok(text) = crate::files::read_bounded_text(&home.join(".my.cnf"), 1 << 20, "~/.my.cnf")
    else {
        return HashMap::new();
    };
    parse_cnf(&text)
}

fn parse_cnf(text: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut in_client = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_client = matches!(line, "[client]" | "[mysql]" | "[client-mariadb]");
            continue;
        }
        if !in_client || line.starts_with(['#', ';']) {
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                .unwrap_or(v);
            out.insert(k.trim().replace('-', "_"), v.to_string());
        }
    }
    out
}

/// One line for a failed connection, by kind; never the password.
fn connect_error(shown: &str, e: &mysql::Error) -> StoreError {
    if let mysql::Error::MySqlError(m) = e {
        let kind = match m.code {
            1045 | 1698 => "authentication failed",
            1049 => "no such database",
            1044 | 1142 => "permission denied",
            1040 | 1203 => "too many connections",
            _ => "refused",
        };
        return StoreError::Mysql(format!("{shown}: {kind}: {}", m.message));
    }
    StoreError::Mysql(format!("{shown}: cannot connect ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_shown() {
        let t = Target::parse(
            "mariadb://app:s3cr@t@db.example:3307/store?ssl-mode=DISABLED",
            &Limits::default(),
        )
        .expect("parses");
        let shown = t.shown();
        assert_eq!(shown, "mysql://app@db.example:3307/store");
        assert!(!shown.contains("s3cr"));
        let Err(e) = Target::parse(
            "mysql://app:hunter2@h/db?ssl-mode=maybe",
            &Limits::default(),
        ) else {
            panic!("a bad ssl-mode is refused");
        };
        assert!(!e.to_string().contains("hunter2"), "{e}");
        assert!(e.to_string().contains("VERIFY_IDENTITY"), "{e}");
    }

    #[test]
    fn my_cnf_client_section() {
        let cnf = parse_cnf(
            "[mysqld]\nuser = mysql\n[client]\nuser = app\npassword = \"p w\"\n# host = x\n[other]\nport=1\n",
        );
        assert_eq!(cnf.get("user").map(String::as_str), Some("app"));
        assert_eq!(cnf.get("password").map(String::as_str), Some("p w"));
        assert!(!cnf.contains_key("port") && !cnf.contains_key("host"));
    }

    #[test]
    fn a_database_is_named() {
        let Err(e) = Target::parse("mysql://app@h:3306", &Limits::default()) else {
            panic!("no database");
        };
        assert!(e.to_string().contains("DATABASE"), "{e}");
    }
}

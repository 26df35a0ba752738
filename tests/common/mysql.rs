//! A real MariaDB server: one per test binary ([`Server::available`]), shared by its tests
//! (each in a database of its own), in a private temporary folder on a free loopback port,
//! stopped and deleted by a watchdog when the test binary exits however it exits.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mysql::prelude::Queryable;

use super::certs;

pub struct Server {
    dir: PathBuf,
    pub port: u16,
}

const REQUIRED: &str = "EVENTSCOPE_REQUIRE_SERVERS";

fn binaries() -> Option<(PathBuf, PathBuf)> {
    if std::env::var_os("EVENTSCOPE_TEST_HIDE_MARIADB").is_some() {
        return None;
    }
    let server = ["/usr/sbin/mariadbd", "/usr/sbin/mysqld"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())?;
    let install = ["/usr/bin/mariadb-install-db", "/usr/bin/mysql_install_db"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())?;
    Some((server, install))
}

/// Whether MariaDB's server is here; where it is not, a failure when the run requires
/// servers, else `false` after one line on the terminal for this test binary.
pub fn server_present() -> bool {
    if binaries().is_some() {
        return true;
    }
    assert!(
        std::env::var_os(REQUIRED).is_none(),
        "no MariaDB server (/usr/sbin/mariadbd), and {REQUIRED} is set: apt-get install mariadb-server"
    );
    static SAID: std::sync::Once = std::sync::Once::new();
    SAID.call_once(|| {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: this binary's MariaDB tests: no /usr/sbin/mariadbd \
             (Debian: apt-get install mariadb-server; .ci/run installs it and requires it)"
        );
    });
    false
}

static SHARED: std::sync::OnceLock<(Server, std::process::ChildStdin)> = std::sync::OnceLock::new();

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Server {
    /// The test binary's server, started on first use; `None` where there is none and
    /// the run allows that.
    pub fn available() -> Option<&'static Server> {
        server_present().then(|| &SHARED.get_or_init(|| Server::start("256M")).0)
    }

    /// A server of its own with a buffer pool of `buffer_pool` (the benches' ten million
    /// events need one larger than the tests'), stopped when the returned pipe closes.
    pub fn own(buffer_pool: &str) -> Option<(Server, std::process::ChildStdin)> {
        server_present().then(|| Server::start(buffer_pool))
    }

    fn start(buffer_pool: &str) -> (Server, std::process::ChildStdin) {
        let (server, install) = binaries().expect("MariaDB binaries");
        let dir = tempfile::Builder::new()
            .prefix("eventscope-mariadb")
            .tempdir()
            .expect("a temporary folder")
            .keep();
        let data = dir.join("data");
        let mut install = Command::new(&install);
        install
            .args([
                "--no-defaults",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ])
            .arg(format!("--datadir={}", data.display()));
        if is_root() {
            install.arg("--user=root");
        }
        let out = install.output().expect("mariadb-install-db runs");
        assert!(
            out.status.success(),
            "mariadb-install-db: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // TLS offered (not required), with a certificate for `localhost` signed by
        // `ca.pem` in `dir()`.
        certs::make_certificates(&dir);
        let port = free_port();
        let pid = dir.join("pid");
        let mut cmd = Command::new(&server);
        cmd.arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--port={port}"))
            .arg("--bind-address=127.0.0.1")
            .arg(format!("--socket={}", dir.join("sock").display()))
            .arg(format!("--pid-file={}", pid.display()))
            .arg(format!("--log-error={}", dir.join("log").display()))
            .args([
                "--skip-log-bin",
                "--innodb-flush-log-at-trx-commit=0",
                "--max-connections=200",
            ])
            .arg(format!("--innodb-buffer-pool-size={buffer_pool}"))
            .arg(format!("--ssl-ca={}", dir.join("ca.pem").display()))
            .arg(format!("--ssl-cert={}", dir.join("server.pem").display()))
            .arg(format!("--ssl-key={}", dir.join("server.key").display()));
        if is_root() {
            cmd.arg("--user=root");
        }
        // The watchdog starts the server, and stops it and deletes its folder when this
        // test binary exits (its stdin, held here, closes): a static is never dropped.
        let script = format!(
            "{} & server=$!; read _; kill $server; wait $server; rm -rf {}",
            std::iter::once(cmd.get_program())
                .chain(cmd.get_args())
                .map(|a| format!("'{}'", a.to_string_lossy()))
                .collect::<Vec<_>>()
                .join(" "),
            dir.display()
        );
        #[allow(clippy::zombie_processes)]
        let mut child = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sh runs");
        let stdin = child.stdin.take().expect("the watchdog's stdin");
        let s = Server { dir, port };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if mysql::Conn::new(s.opts("mysql")).is_ok() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "MariaDB did not start: {}",
                std::fs::read_to_string(s.dir.join("log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        (s, stdin)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn opts(&self, db: &str) -> mysql::Opts {
        mysql::OptsBuilder::new()
            .ip_or_hostname(Some("127.0.0.1"))
            .tcp_port(self.port)
            .user(Some("root"))
            .db_name(Some(db))
            .prefer_socket(false)
            .into()
    }

    pub fn url(&self, db: &str) -> String {
        format!(
            "mysql://root@127.0.0.1:{}/{db}?ssl-mode=DISABLED",
            self.port
        )
    }

    pub fn conn(&self, db: &str) -> mysql::Conn {
        mysql::Conn::new(self.opts(db)).expect("a connection")
    }

    /// A new database with `sql` (statements separated by `;` at line ends) applied.
    pub fn database(&self, db: &str, sql: &str) -> String {
        self.conn("mysql")
            .query_drop(format!("CREATE DATABASE {db} CHARACTER SET utf8mb4"))
            .expect("create database");
        let mut c = self.conn(db);
        for statement in sql.split(";\n").map(str::trim).filter(|s| !s.is_empty()) {
            c.query_drop(statement)
                .unwrap_or_else(|e| panic!("{e}: {statement}"));
        }
        self.url(db)
    }
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u32>().ok())
        })
        == Some(0)
}

/// Every table's rows hashed, and every table's name: what must be the same before and
/// after eventscope read the database.
pub fn fingerprint(c: &mut mysql::Conn) -> Vec<String> {
    let tables: Vec<String> = c
        .query("SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY 1")
        .expect("tables");
    let mut out = Vec::new();
    for t in tables {
        let row: Option<(String, Option<u64>)> = c
            .query_first(format!("CHECKSUM TABLE `{t}` EXTENDED"))
            .expect("checksum");
        out.push(format!("{t}={row:?}"));
    }
    out
}

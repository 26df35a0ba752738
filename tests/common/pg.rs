//! A real PostgreSQL server: one per test binary ([`Cluster::shared`]), shared by its tests
//! (each in a database of its own), in a private temporary folder on a free loopback port,
//! stopped and deleted by a watchdog when the test binary exits however it exits; or one of
//! its own ([`Cluster::start`], for a server configured otherwise), stopped and deleted when
//! dropped.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::certs::make_certificates;

pub struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    pub port: u16,
}

/// The newest installed server's binaries, if any.
fn server_bin() -> Option<PathBuf> {
    // To see the skip where a server is installed.
    if std::env::var_os("EVENTSCOPE_TEST_HIDE_POSTGRES").is_some() {
        return None;
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let major = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((major, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, b)| b)
}

fn is_root() -> bool {
    nix_uid() == 0
}

fn nix_uid() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(u32::MAX)
}

/// Runs a server binary, as `postgres` when this is root (initdb refuses root).
fn server_command(bin: &Path, tool: &str) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin.join(tool));
        c
    } else {
        Command::new(bin.join(tool))
    }
}

/// Hands `dir` to the `postgres` user when this is root (the server runs as it).
fn give_to_postgres(dir: &Path) {
    if is_root() {
        let ok = Command::new("chown")
            .args(["-R", "postgres"])
            .arg(dir)
            .status()
            .expect("chown runs");
        assert!(ok.success());
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The watchdog's pipe: it stops the shared server when this end closes (at exit).
static SHARED: std::sync::OnceLock<(Cluster, std::process::ChildStdin)> =
    std::sync::OnceLock::new();

/// Set (`.ci/run` sets it) to make a missing server a failure rather than a skip.
const REQUIRED: &str = "EVENTSCOPE_REQUIRE_SERVERS";

/// Whether PostgreSQL's server binaries are here. Where they are not: a failure when the
/// run requires servers, else `false` after one line on the terminal for this test
/// binary, written past the test harness's capture so that it is seen.
pub fn server_present() -> bool {
    if server_bin().is_some() {
        return true;
    }
    assert!(
        std::env::var_os(REQUIRED).is_none(),
        "no PostgreSQL server under /usr/lib/postgresql, and {REQUIRED} is set: apt-get install postgresql"
    );
    static SAID: std::sync::Once = std::sync::Once::new();
    SAID.call_once(|| {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: this binary's PostgreSQL tests: no server under /usr/lib/postgresql \
             (Debian: apt-get install postgresql; .ci/run installs it and requires it)"
        );
    });
    false
}

impl Cluster {
    /// The test binary's server, started on first use; `None` where there is none and
    /// the run allows that ([`server_present`]).
    pub fn available() -> Option<&'static Cluster> {
        server_present().then(Cluster::shared)
    }

    /// The test binary's server, started on first use. No server installed is a failure
    /// that says how to install one (`.ci/run` does).
    pub fn shared() -> &'static Cluster {
        &SHARED
            .get_or_init(|| {
                let cluster = Cluster::start_with(false).unwrap_or_else(|| {
                    panic!("no PostgreSQL server under /usr/lib/postgresql: apt-get install postgresql (.ci/run does)")
                });
                let watchdog = cluster.watchdog();
                (cluster, watchdog)
            })
            .0
    }

    /// A process that waits for this test binary to exit (its stdin, held here, closes),
    /// then stops the server and deletes its folder: a static is never dropped.
    fn watchdog(&self) -> std::process::ChildStdin {
        let data = self.dir.path().join("data");
        let stop = server_command(&self.bin, "pg_ctl");
        let stop = format!(
            "{} -D {} -m immediate stop",
            std::iter::once(stop.get_program())
                .chain(stop.get_args())
                .map(|a| a.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(" "),
            data.display()
        );
        let script = format!(
            "read _; {stop} >/dev/null 2>&1; rm -rf {}",
            self.dir.path().display()
        );
        // Never waited for: it outlives this process, which is the point.
        #[allow(clippy::zombie_processes)]
        let mut child = Command::new("sh")
            .args(["-c", &script])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("sh runs");
        child.stdin.take().expect("the watchdog's stdin")
    }

    /// A cluster of its own, or `None` (said on stderr) when no server is installed (the
    /// benches).
    pub fn start() -> Option<Cluster> {
        Cluster::start_with(false)
    }

    /// A cluster that accepts TLS connections only, with a server certificate for
    /// `localhost` signed by `ca.pem` in [`Cluster::dir`].
    pub fn start_tls() -> Option<Cluster> {
        Cluster::start_with(true)
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn start_with(tls: bool) -> Option<Cluster> {
        let Some(bin) = server_bin() else {
            eprintln!("SKIPPED: no PostgreSQL server under /usr/lib/postgresql (apt-get install postgresql)");
            return None;
        };
        let dir = tempfile::Builder::new()
            .prefix("eventscope-pg")
            .tempdir()
            .expect("a temporary folder");
        give_to_postgres(dir.path());
        let data = dir.path().join("data");
        let out = server_command(&bin, "initdb")
            .args([
                "--no-sync",
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "-D",
            ])
            .arg(&data)
            .output()
            .expect("initdb runs");
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut tls_options = String::new();
        if tls {
            make_certificates(dir.path());
            std::fs::write(
                data.join("pg_hba.conf"),
                "local all all trust\nhostssl all all 127.0.0.1/32 trust\n",
            )
            .expect("pg_hba.conf");
            tls_options = format!(
                " -c ssl=on -c ssl_cert_file={d}/server.pem -c ssl_key_file={d}/server.key",
                d = dir.path().display()
            );
        }
        give_to_postgres(dir.path());
        let port = free_port();
        let cluster = Cluster { dir, bin, port };
        let out = server_command(&cluster.bin, "pg_ctl")
            .arg("-D")
            .arg(&data)
            .arg("-o")
            .arg(format!(
                "-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync=off -c max_connections=100{tls_options}",
                cluster.dir.path().display()
            ))
            .arg("-l")
            .arg(cluster.dir.path().join("log"))
            .args(["-w", "start"])
            .output()
            .expect("pg_ctl runs");
        assert!(
            out.status.success(),
            "pg_ctl start: {}{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(cluster.dir.path().join("log")).unwrap_or_default()
        );
        Some(cluster)
    }

    /// A hot standby streaming from this server (`pg_basebackup -R`), on a port of its
    /// own, stopped and deleted when dropped.
    pub fn standby(&self) -> Cluster {
        self.standby_with("")
    }

    /// A hot standby started with more server `options` (`-c name=value …`).
    pub fn standby_with(&self, options: &str) -> Cluster {
        let dir = tempfile::Builder::new()
            .prefix("eventscope-pg-standby")
            .tempdir()
            .expect("a temporary folder");
        give_to_postgres(dir.path());
        let data = dir.path().join("data");
        let port = free_port();
        // A replication slot of its own keeps the WAL it has not received yet: without
        // one, another test's checkpoints can recycle it before the standby streams it.
        let slot = format!("standby_{port}");
        let out = server_command(&self.bin, "pg_basebackup")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
            ])
            .arg("-D")
            .arg(&data)
            .args([
                "-R",
                "-X",
                "stream",
                "--no-sync",
                "--checkpoint=fast",
                "-C",
                "-S",
            ])
            .arg(&slot)
            .output()
            .expect("pg_basebackup runs");
        assert!(
            out.status.success(),
            "pg_basebackup: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let standby = Cluster {
            dir,
            bin: self.bin.clone(),
            port,
        };
        let out = server_command(&standby.bin, "pg_ctl")
            .arg("-D")
            .arg(&data)
            .arg("-o")
            .arg(format!(
                "-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync=off -c hot_standby=on {options}",
                standby.dir.path().display()
            ))
            .arg("-l")
            .arg(standby.dir.path().join("log"))
            .args(["-w", "start"])
            .output()
            .expect("pg_ctl runs");
        assert!(
            out.status.success(),
            "pg_ctl start (standby): {}{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(standby.dir.path().join("log")).unwrap_or_default()
        );
        standby
    }

    pub fn url(&self, db: &str) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/{db}?sslmode=disable",
            self.port
        )
    }

    pub fn client(&self, db: &str) -> postgres::Client {
        postgres::Client::connect(&self.url(db), postgres::NoTls).expect("a connection")
    }

    /// A new database with `sql` applied.
    pub fn database(&self, db: &str, sql: &str) -> String {
        self.client("postgres")
            .batch_execute(&format!("CREATE DATABASE {db}"))
            .expect("create database");
        self.client(db).batch_execute(sql).expect("fixture SQL");
        self.url(db)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = server_command(&self.bin, "pg_ctl")
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-m", "immediate", "-w", "stop"])
            .output();
    }
}

/// Every table's rows (as text, sorted) hashed, and every object's name and kind: what
/// must be the same before and after eventscope read the database.
pub fn fingerprint(client: &mut postgres::Client) -> Vec<String> {
    let objects = client
        .query(
            "SELECT n.nspname::text || '.' || c.relname::text || ':' || c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') ORDER BY 1",
            &[],
        )
        .expect("objects");
    let mut out: Vec<String> = objects.iter().map(|r| r.get(0)).collect();
    let tables = client
        .query(
            "SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) FROM information_schema.tables
             WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1",
            &[],
        )
        .expect("tables");
    for t in tables {
        let name: String = t.get(0);
        let row = client
            .query_one(
                &format!("SELECT '{name}=' || count(*) || ':' || md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {name} t"),
                &[],
            )
            .expect("checksum");
        out.push(row.get(0));
    }
    out
}

/// Message DB's table and indexes, as its own DDL creates them.
pub const MESSAGE_DB_DDL: &str = "CREATE SCHEMA message_store;
         CREATE EXTENSION IF NOT EXISTS pgcrypto;
         CREATE TABLE message_store.messages (
           global_position bigserial NOT NULL,
           position bigint NOT NULL,
           time TIMESTAMP WITHOUT TIME ZONE DEFAULT (now() AT TIME ZONE 'utc') NOT NULL,
           stream_name text NOT NULL,
           type text NOT NULL,
           data jsonb,
           metadata jsonb,
           id UUID NOT NULL DEFAULT gen_random_uuid()
         );
         ALTER TABLE message_store.messages ADD PRIMARY KEY (global_position) NOT DEFERRABLE INITIALLY IMMEDIATE;
         CREATE UNIQUE INDEX messages_id ON message_store.messages (id);
         CREATE UNIQUE INDEX messages_stream ON message_store.messages (stream_name, position);";

/// go-mink's tables (its migration's DDL) with the bank account's history.
pub fn go_mink_sql() -> String {
    let mut rows = Vec::new();
    for (i, (ty, data)) in HISTORY.iter().enumerate() {
        rows.push(format!(
            "('Account-acc1', {}, '{ty}', '{data}', '{{\"correlationId\": \"c1\"}}', '{}')",
            i + 1,
            minute(i)
        ));
    }
    rows.push(format!(
        "('Account-acc2', 1, 'Opened', '{{\"owner\": \"bob\"}}', NULL, '{}')",
        minute(5)
    ));
    format!(
        "CREATE SCHEMA IF NOT EXISTS mink;
         CREATE TABLE IF NOT EXISTS mink.streams (
           id BIGSERIAL PRIMARY KEY, stream_id VARCHAR(500) NOT NULL UNIQUE, category VARCHAR(250) NOT NULL,
           version BIGINT NOT NULL DEFAULT 0, created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
           updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW());
         CREATE TABLE IF NOT EXISTS mink.events (
           global_position BIGSERIAL PRIMARY KEY, stream_id VARCHAR(500) NOT NULL, version BIGINT NOT NULL,
           event_id UUID NOT NULL DEFAULT gen_random_uuid(), event_type VARCHAR(500) NOT NULL,
           data JSONB NOT NULL, metadata JSONB, timestamp TIMESTAMPTZ NOT NULL DEFAULT NOW(),
           UNIQUE(stream_id, version));
         CREATE INDEX IF NOT EXISTS idx_streams_category ON mink.streams(category);
         CREATE INDEX IF NOT EXISTS idx_events_stream ON mink.events(stream_id, version);
         CREATE INDEX IF NOT EXISTS idx_events_type ON mink.events(event_type);
         CREATE INDEX IF NOT EXISTS idx_events_timestamp ON mink.events(timestamp);
         CREATE TABLE IF NOT EXISTS mink.snapshots (
           stream_id VARCHAR(500) PRIMARY KEY, version BIGINT NOT NULL, data BYTEA NOT NULL,
           created_at TIMESTAMPTZ NOT NULL DEFAULT NOW());
         CREATE TABLE IF NOT EXISTS mink.checkpoints (
           projection_name VARCHAR(500) PRIMARY KEY, position BIGINT NOT NULL DEFAULT 0,
           updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW());
         INSERT INTO mink.streams (stream_id, category, version) VALUES ('Account-acc1', 'Account', 4), ('Account-acc2', 'Account', 1);
         INSERT INTO mink.events (stream_id, version, event_type, data, metadata, timestamp) VALUES {};
         INSERT INTO mink.snapshots (stream_id, version, data) VALUES ('Account-acc1', 2, convert_to('{{\"owner\": \"ann\", \"balance\": 100}}', 'UTF8'));",
        values(&rows)
    )
}

/// The account's history: opened, +100, −30, +50.
pub const HISTORY: [(&str, &str); 4] = [
    ("Opened", r#"{"owner": "ann"}"#),
    ("Deposited", r#"{"amount": 100}"#),
    ("Withdrawn", r#"{"amount": 30}"#),
    ("Deposited", r#"{"amount": 50}"#),
];

pub fn minute(i: usize) -> String {
    format!("2024-03-01 09:{i:02}:00.123456+00")
}

/// Rows of an INSERT's VALUES.
pub fn values(rows: &[String]) -> String {
    rows.join(",\n")
}

//! MySQL and MariaDB on a real MariaDB server (one for this test binary): the native
//! layout holding the demo store's rows answers every listing and replay as the SQLite
//! store of the same rows does, and as the raw rows say; stream ids are told apart by
//! their bytes under a case-insensitive collation; `--map` reads a table of 16-byte ids
//! and epoch times; bad targets are one line without the password; nothing is written;
//! `--follow` never skips a row whose transaction commits late.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::time::Duration;

use common::bin::{fails, lines, ok, s};
use common::follower::Follower;
use common::mysql::{fingerprint, Server};
use mysql::prelude::Queryable;
use serde_json::Value;

const NATIVE_DDL: &str = "CREATE TABLE events (global_position BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, stream_id VARCHAR(500) NOT NULL, version BIGINT NOT NULL, event_id CHAR(36) NOT NULL, event_type VARCHAR(500) NOT NULL, data JSON NOT NULL, metadata JSON, timestamp DATETIME(6) NOT NULL, UNIQUE KEY stream_version (stream_id, version), KEY by_type (event_type))";

/// The demo store, and the same rows in MariaDB's native layout.
fn demo_on_mariadb(my: &Server, db: &str, dir: &Path) -> (String, String) {
    let lite = dir.join("demo.db");
    ok(&["demo", "--out", s(&lite)]);
    let url = my.database(db, NATIVE_DDL);
    let mut conn = my.conn(db);
    let source = rusqlite::Connection::open(&lite).unwrap();
    let mut rows = source
        .prepare("SELECT global_position, stream_id, version, event_id, event_type, data, metadata, timestamp FROM events ORDER BY global_position")
        .unwrap();
    let mut rows = rows.query([]).unwrap();
    let mut batch = Vec::new();
    while let Some(r) = rows.next().unwrap() {
        let at: String = r.get(7).unwrap();
        let at = chrono::DateTime::parse_from_rfc3339(&at)
            .unwrap()
            .naive_utc()
            .format("%Y-%m-%d %H:%M:%S%.6f")
            .to_string();
        let row: (i64, String, i64, String, String, String, String, String) = (
            r.get(0).unwrap(),
            r.get(1).unwrap(),
            r.get(2).unwrap(),
            r.get(3).unwrap(),
            r.get(4).unwrap(),
            r.get(5).unwrap(),
            r.get(6).unwrap(),
            at,
        );
        batch.push(row);
    }
    conn.exec_batch("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)", batch)
        .unwrap();
    (s(&lite).to_string(), url)
}

/// The same instant, whatever digits each backend writes.
fn instant(v: &Value) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap())
        .unwrap()
        .to_utc()
}

/// Every time in `v` written with microseconds, as MySQL's DATE_FORMAT writes them.
fn same_digits(v: &mut Value) {
    match v {
        Value::String(t) => {
            if let Ok(at) = chrono::DateTime::parse_from_rfc3339(t) {
                *t = at
                    .to_utc()
                    .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(same_digits),
        Value::Object(o) => o.values_mut().for_each(same_digits),
        _ => {}
    }
}

#[test]
fn the_demo_rows_answer_as_on_sqlite_and_as_the_rows_say() {
    let Some(my) = Server::available() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (lite, url) = demo_on_mariadb(my, "demo", dir.path());
    let mut conn = my.conn("demo");
    let before = fingerprint(&mut conn);

    assert_eq!(
        lines(&ok(&["streams", &url, "--json"])),
        lines(&ok(&["streams", &lite, "--json"]))
    );
    // Every event as the raw rows have it, read here without eventscope.
    let raw: Vec<(i64, String, i64, String, String, String)> = conn
        .query("SELECT global_position, stream_id, version, event_type, CAST(data AS CHAR), DATE_FORMAT(timestamp, '%Y-%m-%dT%H:%i:%s.%fZ') FROM events ORDER BY global_position")
        .unwrap();
    let got = lines(&ok(&["events", &url, "--json"]));
    assert_eq!(got.len(), raw.len());
    for (e, (pos, stream, version, ty, data, at)) in got.iter().zip(&raw) {
        assert_eq!(e["global_position"], *pos);
        assert_eq!(e["stream_id"], stream.as_str());
        assert_eq!(e["version"], *version);
        assert_eq!(e["type"], ty.as_str());
        assert_eq!(
            e["data"],
            serde_json::from_str::<Value>(data).unwrap(),
            "{e}"
        );
        assert_eq!(e["timestamp"], at.as_str());
    }
    let on_sqlite = lines(&ok(&["events", &lite, "--json"]));
    for (m, l) in got.iter().zip(&on_sqlite) {
        for field in [
            "global_position",
            "stream_id",
            "version",
            "event_id",
            "type",
            "data",
            "metadata",
        ] {
            assert_eq!(m[field], l[field], "{field}: {m} vs {l}");
        }
        assert_eq!(instant(&m["timestamp"]), instant(&l["timestamp"]));
    }
    // Every version of every stream replays to the same state (and the log's filters).
    for info in lines(&ok(&["streams", &url, "--json"])) {
        let stream = info["stream_id"].as_str().unwrap();
        for v in 1..=info["last_version"].as_i64().unwrap() {
            let at = v.to_string();
            let r = "--reducer=assets/reducers";
            let mut on_my = lines(&ok(&["state", &url, stream, "--at", &at, r, "--json"]));
            let mut on_lite = lines(&ok(&["state", &lite, stream, "--at", &at, r, "--json"]));
            on_my.iter_mut().for_each(same_digits);
            on_lite.iter_mut().for_each(same_digits);
            assert_eq!(on_my, on_lite, "{stream}@{v}");
        }
    }
    for args in [
        vec!["events", "--type", "Deposited", "--json"],
        vec!["events", "--category", "Order", "--json"],
        vec!["stats", "--json"],
        vec!["types", "--json"],
        vec![
            "diff",
            "Account-acc-1",
            "--from",
            "1",
            "--to",
            "3",
            "--json",
        ],
        vec!["blame", "Account-acc-1", "--json"],
        vec![
            "when",
            "Account-acc-1",
            ".balance > 100",
            "--reducer=assets/reducers",
            "--json",
        ],
        vec!["history", "Account-acc-1", "/amount", "--json"],
    ] {
        let mut on_my = args.clone();
        on_my.insert(1, &url);
        let mut on_lite = args.clone();
        on_lite.insert(1, &lite);
        let strip = |text: String| -> Vec<Value> {
            lines(&text)
                .into_iter()
                .map(|mut v| {
                    same_digits(&mut v);
                    v
                })
                .collect()
        };
        assert_eq!(strip(ok(&on_my)), strip(ok(&on_lite)), "{args:?}");
    }
    assert_eq!(fingerprint(&mut conn), before, "eventscope wrote nothing");
}

/// MySQL's default collations are case-insensitive: the index finds `account-A` for
/// `Account-a`, and eventscope keeps only the stream whose bytes are the id.
#[test]
fn stream_ids_differing_in_case_stay_apart() {
    let Some(my) = Server::available() else {
        return;
    };
    let url = my.database(
        "cased",
        "CREATE TABLE events (global_position BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, stream_id VARCHAR(200) NOT NULL, version BIGINT NOT NULL, event_id CHAR(36) NOT NULL, event_type VARCHAR(200) NOT NULL, data LONGTEXT NOT NULL, metadata LONGTEXT, KEY (stream_id, version)) COLLATE utf8mb4_general_ci;
         INSERT INTO events (stream_id, version, event_id, event_type, data, metadata) VALUES
           ('Account-a', 1, 'e1', 'Opened', '{\"owner\": \"ann\"}', '{}'),
           ('account-A', 1, 'e2', 'Opened', '{\"owner\": \"bob\"}', '{}'),
           ('Account-a', 2, 'e3', 'Renamed', '{\"owner\": \"amy\"}', '{}')",
    );
    let streams = lines(&ok(&["streams", &url, "--json"]));
    let ids: Vec<(&str, i64)> = streams
        .iter()
        .map(|s| {
            (
                s["stream_id"].as_str().unwrap(),
                s["events"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(ids, [("Account-a", 2), ("account-A", 1)]);
    let bob = lines(&ok(&["events", &url, "--stream", "account-A", "--json"]));
    assert_eq!(bob.len(), 1);
    assert_eq!(bob[0]["event_id"], "e2");
    let state: Value = serde_json::from_str(&ok(&["state", &url, "Account-a", "--json"])).unwrap();
    assert_eq!(state["owner"], "amy");
    let err = fails(&["state", &url, "ACCOUNT-A"]);
    assert!(err.contains("not found"), "{err}");
}

/// A home-grown table through `--map`: 16-byte stream ids shown as UUIDs (and found by
/// them), epoch-millisecond times.
#[test]
fn home_grown_tables_through_map() {
    let Some(my) = Server::available() else {
        return;
    };
    let url = my.database(
        "homegrown",
        "CREATE TABLE ledger (seq BIGINT NOT NULL PRIMARY KEY, entity BINARY(16) NOT NULL, rev INT NOT NULL, kind VARCHAR(50) NOT NULL, body BLOB NOT NULL, at_ms BIGINT NOT NULL, note TEXT, KEY (entity, rev));
         INSERT INTO ledger VALUES
           (10, UNHEX('0d6a3b3e5f8c4a7e9a571b2c3d4e5f60'), 1, 'Opened', '{\"owner\": \"ann\"}', 1709283600000, 'x'),
           (11, UNHEX('7f3e2d1c0b9a48768543210fedcba987'), 1, 'Opened', '{\"owner\": \"bob\"}', 1709283601000, NULL),
           (12, UNHEX('0d6a3b3e5f8c4a7e9a571b2c3d4e5f60'), 2, 'Deposited', '{\"amount\": 5}', 1709283602500, NULL)",
    );
    let map = "table=ledger,position=seq,stream=entity,version=rev,type=kind,data=body,time=at_ms";
    let id = "0d6a3b3e-5f8c-4a7e-9a57-1b2c3d4e5f60";
    let got = lines(&ok(&[
        "events", &url, "--map", map, "--stream", id, "--json",
    ]));
    let seen: Vec<(i64, &str, &str)> = got
        .iter()
        .map(|e| {
            (
                e["global_position"].as_i64().unwrap(),
                e["stream_id"].as_str().unwrap(),
                e["timestamp"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (10, id, "2024-03-01T09:00:00.000Z"),
            (12, id, "2024-03-01T09:00:02.500Z")
        ]
    );
    let err = fails(&[
        "events",
        &url,
        "--map",
        "table=ledger,position=kind,stream=entity,version=rev,type=kind,data=body",
    ]);
    assert!(err.contains("needs an integer column"), "{err}");
    let err = fails(&[
        "events",
        &url,
        "--map",
        "table=nothing,stream=a,version=b,type=c,data=d",
    ]);
    assert!(err.contains("no table"), "{err}");
}

#[test]
fn bad_targets_are_one_line_and_never_show_the_password() {
    let Some(my) = Server::available() else {
        return;
    };
    let url = my.database("unrelated", "CREATE TABLE unrelated (x int)");
    let err = fails(&["streams", &url]);
    assert!(err.contains("no known event store layout"), "{err}");
    assert!(err.contains("unrelated"), "{err}");
    let port = my.port;
    let wrong = format!("mariadb://root:s3cret@127.0.0.1:{port}/unrelated?ssl-mode=DISABLED");
    let err = fails(&["streams", &wrong]);
    assert!(err.contains("authentication failed"), "{err}");
    assert!(!err.contains("s3cret"), "{err}");
    let err = fails(&[
        "streams",
        &format!("mysql://root@127.0.0.1:{port}/nowhere?ssl-mode=DISABLED"),
    ]);
    assert!(err.contains("no such database"), "{err}");
    let err = fails(&[
        "streams",
        "mysql://ann:s3cret@127.0.0.1:1/x?ssl-mode=DISABLED",
    ]);
    assert!(
        err.contains("cannot connect") && !err.contains("s3cret"),
        "{err}"
    );
    let err = fails(&["streams", "mysql://h/x?ssl-mode=sometimes"]);
    assert!(err.contains("ssl-mode"), "{err}");
    let err = fails(&["streams", &url, "--schema", "other"]);
    assert!(err.contains("name it in the URL"), "{err}");
    // A user who may read one table but not the events: the table is named.
    let mut root = my.conn("unrelated");
    root.query_drop("CREATE TABLE events (global_position BIGINT PRIMARY KEY, stream_id VARCHAR(10), version BIGINT, event_type VARCHAR(10), data TEXT)")
        .unwrap();
    root.query_drop("CREATE USER 'peek'@'%'").unwrap();
    root.query_drop("GRANT SELECT (x) ON unrelated.unrelated TO 'peek'@'%'")
        .unwrap();
    root.query_drop("GRANT SELECT (global_position, stream_id, version, event_type) ON unrelated.events TO 'peek'@'%'")
        .unwrap();
    let peek = format!("mysql://peek@127.0.0.1:{port}/unrelated?ssl-mode=DISABLED");
    let err = fails(&["streams", &peek]);
    assert!(err.lines().count() == 1, "{err}");
}

/// A row whose transaction commits after a later row's is printed once, in order: the
/// follower waits at the gap while the writer's transaction is open.
#[test]
fn follow_waits_for_late_commits() {
    let Some(my) = Server::available() else {
        return;
    };
    let url = my.database("live", NATIVE_DDL);
    let mut setup = my.conn("live");
    let insert = |c: &mut mysql::Conn, v: i64| {
        c.exec_drop(
            "INSERT INTO events (stream_id, version, event_id, event_type, data, metadata, timestamp) VALUES ('Account-acc9', ?, UUID(), 'Deposited', '{\"amount\": 1}', '{}', '2024-03-01 09:00:00')",
            (v,),
        )
        .unwrap();
    };
    insert(&mut setup, 1);
    let follower = Follower::start(&url);
    let mut seen: Vec<Value> = Vec::new();
    follower.settle(&mut seen, Duration::from_millis(1500));
    assert_eq!(seen.len(), 1, "{seen:?}");
    let mut early = my.conn("live");
    let mut late = my.conn("live");
    early.query_drop("BEGIN").unwrap();
    insert(&mut early, 2);
    late.query_drop("BEGIN").unwrap();
    insert(&mut late, 3);
    late.query_drop("COMMIT").unwrap();
    follower.settle(&mut seen, Duration::from_millis(1500));
    assert_eq!(
        seen.len(),
        1,
        "went past an open transaction's position: {seen:?}"
    );
    early.query_drop("COMMIT").unwrap();
    follower.settle_until(&mut seen, Duration::from_secs(20), |s| s.len() >= 3);
    // A rolled-back row leaves a gap the follower passes.
    early.query_drop("BEGIN").unwrap();
    insert(&mut early, 4);
    early.query_drop("ROLLBACK").unwrap();
    insert(&mut setup, 4);
    follower.settle_until(&mut seen, Duration::from_secs(20), |s| s.len() >= 4);
    let errors = follower.errors.lock().unwrap().clone();
    let versions: Vec<i64> = seen
        .iter()
        .map(|e| e["version"].as_i64().unwrap())
        .collect();
    assert_eq!(
        versions,
        [1, 2, 3, 4],
        "each once, in order; stderr: {errors}"
    );
}

/// A one-shot command reads one snapshot, its read-ahead sessions included: a row whose
/// transaction commits while `events --json` is printing (out of position order, below
/// rows it prints) is not printed, though the pages after it are read on other sessions.
#[test]
fn a_command_reads_one_snapshot_across_its_sessions() {
    let Some(my) = Server::available() else {
        return;
    };
    let url = my.database("snapshot", NATIVE_DDL);
    let mut setup = my.conn("snapshot");
    let rows: Vec<(String, i64)> = (1..=12_000)
        .map(|i| (format!("Account-{}", i % 7), i))
        .collect();
    setup
        .exec_batch(
            "INSERT INTO events (stream_id, version, event_id, event_type, data, metadata, timestamp) VALUES (?, ?, UUID(), 'Deposited', '{\"amount\": 1}', '{}', '2024-03-01 09:00:00')",
            rows,
        )
        .unwrap();
    let mut late = my.conn("snapshot");
    late.query_drop("BEGIN").unwrap();
    late.query_drop("INSERT INTO events (stream_id, version, event_id, event_type, data, metadata, timestamp) VALUES ('Account-late', 1, UUID(), 'Opened', '{}', '{}', '2024-03-01 09:00:00')")
        .unwrap();
    setup
        .query_drop("INSERT INTO events (stream_id, version, event_id, event_type, data, metadata, timestamp) VALUES ('Account-after', 1, UUID(), 'Opened', '{}', '{}', '2024-03-01 09:00:00')")
        .unwrap();
    let mut child = common::bin::bin()
        .args(["events", &url, "--json"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut out, &mut first).unwrap();
    // The command has begun (its first line is out) and blocks on the full pipe: commit.
    late.query_drop("COMMIT").unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    assert!(child.wait().unwrap().success());
    let printed = lines(&format!("{first}{rest}"));
    assert_eq!(printed.len(), 12_001, "every row of the snapshot, once");
    assert!(printed.iter().any(|e| e["stream_id"] == "Account-after"));
    assert!(
        !printed.iter().any(|e| e["stream_id"] == "Account-late"),
        "a row committed after the command began was printed"
    );
    // Afterwards it is there.
    let now = lines(&ok(&["events", &url, "--stream", "Account-late", "--json"]));
    assert_eq!(now.len(), 1);
}

/// TLS through rustls: the server's certificate checked against `ssl-ca` and the host name
/// (VERIFY_IDENTITY), refused against another CA, taken unchecked by REQUIRED.
#[test]
fn tls_is_verified_as_asked() {
    let Some(my) = Server::available() else {
        return;
    };
    my.database("tls", NATIVE_DDL);
    let ca = my.dir().join("ca.pem");
    let port = my.port;
    let url = |mode: &str, ca: Option<&Path>| {
        let mut u = format!("mysql://root@localhost:{port}/tls?ssl-mode={mode}");
        if let Some(ca) = ca {
            u.push_str(&format!("&ssl-ca={}", ca.display()));
        }
        u
    };
    ok(&["streams", &url("VERIFY_IDENTITY", Some(&ca))]);
    ok(&["streams", &url("REQUIRED", None)]);
    ok(&["streams", &url("PREFERRED", None)]);
    // A CA that did not sign the server's certificate.
    let other = tempfile::tempdir().unwrap();
    common::certs::make_certificates(other.path());
    let err = fails(&[
        "streams",
        &url("VERIFY_IDENTITY", Some(&other.path().join("ca.pem"))),
    ]);
    assert!(err.contains("cannot connect"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    // The right CA, the wrong name: 127.0.0.1 is not `localhost` in the certificate.
    let by_ip = format!(
        "mysql://root@127.0.0.1:{port}/tls?ssl-mode=VERIFY_IDENTITY&ssl-ca={}",
        ca.display()
    );
    let err = fails(&["streams", &by_ip]);
    assert!(err.contains("cannot connect"), "{err}");
    let by_ip_ca_only = by_ip.replace("VERIFY_IDENTITY", "VERIFY_CA");
    ok(&["streams", &by_ip_ca_only]);
}

/// `check --read-model` on MariaDB: an application's table with a JSON document and a
/// DECIMAL column, compared with replays; the one wrong field is found.
#[test]
fn a_read_model_table_is_checked_against_replays() {
    let Some(my) = Server::available() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (lite, url) = demo_on_mariadb(my, "readmodel", dir.path());
    let mut conn = my.conn("readmodel");
    conn.query_drop(
        "CREATE TABLE account_view (stream VARCHAR(100) PRIMARY KEY, doc JSON NOT NULL, version BIGINT NOT NULL, balance DECIMAL(12, 2) NOT NULL)",
    )
    .unwrap();
    for (stream, wrong) in [("Account-acc-1", false), ("Account-acc-2", true)] {
        let state: Value = serde_json::from_str(&ok(&[
            "state",
            &lite,
            stream,
            "--reducer=assets/reducers",
            "--json",
        ]))
        .unwrap();
        let mut doc = state.clone();
        if wrong {
            doc["balance"] = serde_json::json!(999);
        }
        let version = lines(&ok(&["streams", &lite, "--json"]))
            .into_iter()
            .find(|s| s["stream_id"] == stream)
            .unwrap()["last_version"]
            .as_i64()
            .unwrap();
        conn.exec_drop(
            "INSERT INTO account_view VALUES (?, ?, ?, ?)",
            (
                stream,
                doc.to_string(),
                version,
                state["balance"].to_string(),
            ),
        )
        .unwrap();
    }
    let out = common::bin::run(&[
        "check",
        &url,
        "--read-model",
        "table=account_view,id=stream,doc=doc,version=version",
        "--reducer=assets/reducers",
        "--category",
        "Account",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1), "a finding exits 1");
    let findings = lines(&String::from_utf8_lossy(&out.stdout));
    let differs: Vec<(&str, &str)> = findings
        .iter()
        .filter(|f| f["finding"] == "differs")
        .map(|f| {
            (
                f["stream"].as_str().unwrap_or(""),
                f["path"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(differs, [("Account-acc-2", "/balance")], "{findings:?}");
    // Plain columns: the DECIMAL column read as the number it holds.
    let out = common::bin::run(&[
        "check",
        &url,
        "--read-model",
        "table=account_view,id=stream,columns=balance,version=version",
        "--reducer=assets/reducers",
        "--project",
        "{balance}",
        "--category",
        "Account",
        "--json",
    ]);
    let findings = lines(&String::from_utf8_lossy(&out.stdout));
    assert!(
        findings.iter().all(|f| f["finding"] != "differs"),
        "{findings:?}"
    );
    assert_eq!(out.status.code(), Some(0), "{findings:?}");
}

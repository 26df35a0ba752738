//! Untrusted stores and inputs: every one gets a clear line and an exit code of 1 or 2, or
//! is shown and marked; and no read ever changes the store.
#![allow(clippy::unwrap_used)]

mod common;

use common::listing;

use common::bin::{bin, fails, lines, ok, run, s};

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use eventscope::store::{ExpectedVersion, NewEvent, Store};
use rusqlite::{params, Connection};
use serde_json::{json, Value};

fn demo(dir: &Path, name: &str) -> PathBuf {
    let p = dir.join(name);
    ok(&["demo", "--out", s(&p)]);
    p
}

/// A native store whose rows are written with plain SQL, as a careless writer might.
fn raw_store(dir: &Path, rows: &[(&str, i64, &str, Vec<u8>, &str)]) -> PathBuf {
    let p = dir.join("raw.db");
    drop(Store::create(&p).unwrap());
    let c = Connection::open(&p).unwrap();
    for (i, (stream, v, ty, data, ts)) in rows.iter().enumerate() {
        c.execute(
            "INSERT INTO events (stream_id, version, event_id, event_type, data, metadata, timestamp) VALUES (?, ?, ?, ?, CAST(? AS TEXT), '{}', ?)",
            params![stream, v, format!("e{i}"), ty, data, ts],
        )
        .unwrap();
    }
    p
}

#[test]
fn idle_wal_store_is_read_without_writing_anything() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path(), "wal.db");
    Connection::open(&db)
        .unwrap()
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get::<_, String>(0))
        .unwrap();
    let before = (std::fs::read(&db).unwrap(), listing(dir.path()));
    assert_eq!(before.1, vec!["wal.db"]);
    let reducers = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/reducers");
    for args in [
        vec!["streams", s(&db)],
        vec!["events", s(&db), "--json"],
        vec!["state", s(&db), "Order-123", "--reducer", reducers],
        vec!["diff", s(&db), "Account-acc-1", "--from", "1"],
        vec!["check", s(&db), "--reducer", reducers],
        vec!["snapshots", s(&db)],
    ] {
        ok(&args);
        assert_eq!(
            std::fs::read(&db).unwrap(),
            before.0,
            "{args:?} changed the store"
        );
        assert_eq!(
            listing(dir.path()),
            before.1,
            "{args:?} left files beside the store"
        );
    }
}

#[test]
fn follow_sees_every_append_once_in_order_while_a_wal_writer_works() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path(), "live.db");
    // The application: WAL mode, its connection open for the whole test.
    let app = Connection::open(&db).unwrap();
    app.query_row("PRAGMA journal_mode=WAL", [], |r| r.get::<_, String>(0))
        .unwrap();
    let mut child = bin()
        .args(["events", s(&db), "--follow", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                return;
            }
        }
    });
    let mut seen: Vec<i64> = Vec::new();
    let take = |until: usize, seen: &mut Vec<i64>| {
        let deadline = Instant::now() + Duration::from_secs(60);
        while seen.len() < until {
            let line = rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .expect("events keep coming");
            let e: Value = serde_json::from_str(&line).unwrap();
            seen.push(e["global_position"].as_i64().unwrap());
        }
    };
    // As `tail -f`: the last 10 stored events first.
    take(10, &mut seen);

    let writer = std::thread::spawn({
        let db = db.clone();
        move || {
            let mut store = Store::open_writable(&db).unwrap();
            let mut written = 0;
            let mut n = 0;
            while written < 2000 {
                let batch = (1 + n % 5).min(2000 - written);
                let events: Vec<NewEvent> = (0..batch)
                    .map(|i| NewEvent::new("Ticked", json!({"i": written + i})))
                    .collect();
                store
                    .append(&format!("Clock-{}", n % 7), ExpectedVersion::Any, &events)
                    .unwrap();
                written += batch;
                n += 1;
            }
        }
    });
    take(10 + 2000, &mut seen);
    writer.join().unwrap();
    let expected: Vec<i64> = (9..=2018).collect();
    assert_eq!(seen, expected, "every event once, in order");
    assert!(
        rx.recv_timeout(Duration::from_millis(300)).is_err(),
        "nothing more"
    );
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let rss_kb: u64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap()
        .parse()
        .unwrap();
    assert!(rss_kb < 64 * 1024, "peak memory {rss_kb} kB");
    child.kill().unwrap();
    child.wait().unwrap();
    drop(app);
}

#[test]
fn follow_respects_filters_and_the_stored_part() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path(), "f.db");
    let mut child = bin()
        .args(["events", s(&db), "--follow", "--stream", "Account-acc-1"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    for _ in 0..5 {
        line.clear();
        out.read_line(&mut line).unwrap();
    }
    assert!(
        line.contains("Account-acc-1") && line.contains("MoneyDeposited"),
        "{line}"
    );
    let mut store = Store::open_writable(&db).unwrap();
    store
        .append(
            "Other-1",
            ExpectedVersion::Any,
            &[NewEvent::new("Noise", json!({}))],
        )
        .unwrap();
    store
        .append(
            "Account-acc-1",
            ExpectedVersion::Exact(4),
            &[NewEvent::new("MoneyWithdrawn", json!({"amount": 1}))],
        )
        .unwrap();
    line.clear();
    out.read_line(&mut line).unwrap();
    assert!(
        line.contains("      5  MoneyWithdrawn") || line.contains("MoneyWithdrawn"),
        "{line}"
    );
    assert!(
        line.contains("Account-acc-1"),
        "only the followed stream: {line}"
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn broken_files_get_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let err = fails(&["streams", "/no/such/file.db"]);
    assert!(err.contains("no such file"), "{err}");

    let text = dir.path().join("notes.txt");
    std::fs::write(
        &text,
        "just some text, not a database, long enough to have a header",
    )
    .unwrap();
    assert!(fails(&["streams", s(&text)]).contains("not a SQLite database"));

    let good = std::fs::read(demo(dir.path(), "good.db")).unwrap();
    let truncated = dir.path().join("truncated.db");
    std::fs::write(&truncated, &good[..good.len() / 3]).unwrap();
    let err = fails(&["events", s(&truncated)]);
    assert!(err.contains("corrupt or truncated"), "{err}");

    let mut garbled = good.clone();
    for b in garbled[4096..].iter_mut().step_by(7) {
        *b ^= 0x5a;
    }
    let corrupt = dir.path().join("corrupt.db");
    std::fs::write(&corrupt, &garbled).unwrap();
    let err = fails(&["events", s(&corrupt)]);
    assert!(err.contains("corrupt"), "{err}");

    let zero = dir.path().join("zero.db");
    std::fs::write(&zero, b"").unwrap();
    let err = fails(&["streams", s(&zero)]);
    assert!(
        err.contains("tables: none") && err.contains("--map"),
        "{err}"
    );
}

#[test]
fn an_empty_store_is_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("empty.db");
    drop(Store::create(&db).unwrap());
    assert_eq!(ok(&["streams", s(&db), "--json"]), "");
    assert_eq!(ok(&["events", s(&db), "--json"]), "");
    let table = ok(&["streams", s(&db)]);
    assert_eq!(
        table.lines().collect::<Vec<_>>(),
        ["STREAM  CATEGORY  EVENTS  LAST", "0 streams, 0 events"],
        "just the header and the totals"
    );
    assert!(ok(&["check", s(&db)]).contains("0 streams checked: no problems"));
}

#[test]
fn bad_payloads_are_shown_marked_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(br#"{"amount": 7}"#).unwrap();
    let zlib = z.finish().unwrap();
    let big = format!(r#"{{"blob": "{}"}}"#, "x".repeat(10 << 20));
    let t = "2024-01-01T00:00:0";
    let db = raw_store(
        dir.path(),
        &[
            (
                "A-1",
                1,
                "Opened",
                br#"{"n": 1}"#.to_vec(),
                &format!("{t}1Z"),
            ),
            ("A-1", 2, "Broken", b"{not json".to_vec(), &format!("{t}2Z")),
            ("A-1", 3, "Packed", zlib, &format!("{t}3Z")),
            (
                "A-1",
                4,
                "Binary",
                vec![0xff, 0xfe, 0x00, 0x81, 0x92],
                &format!("{t}4Z"),
            ),
            (
                "A-1",
                5,
                "Latin1",
                b"{\"name\": \"Jos\xe9\"}".to_vec(),
                &format!("{t}5Z"),
            ),
            ("A-1", 6, "Huge", big.into_bytes(), &format!("{t}6Z")),
        ],
    );
    let events = lines(&ok(&["events", s(&db), "--json"]));
    assert_eq!(events.len(), 6);
    assert_eq!(events[1]["data"], "{not json");
    assert!(events[1]["undecodable"]
        .as_str()
        .unwrap()
        .starts_with("not JSON"));
    assert_eq!(events[2]["data"], json!({"amount": 7}), "zlib is inflated");
    assert!(events[2].get("undecodable").is_none());
    assert!(events[3]["undecodable"].as_str().is_some());
    assert!(events[4]["undecodable"].as_str().is_some(), "not UTF-8");
    assert_eq!(events[5]["data"]["blob"].as_str().unwrap().len(), 10 << 20);

    let table = ok(&["events", s(&db)]);
    assert!(
        table.lines().all(|l| l.chars().count() < 200),
        "previews are cut"
    );
    assert!(table.contains("⚠ not JSON"), "{table}");

    // The merge skips what it cannot read; the state is still there.
    let state = lines(&ok(&["state", s(&db), "A-1", "--json"]));
    assert_eq!(state[0]["n"], 1);
    assert_eq!(state[0]["amount"], 7);

    let out = run(&["check", s(&db)]);
    assert_eq!(out.status.code(), Some(1));
    let report = String::from_utf8(out.stdout).unwrap();
    for v in [2, 4, 5] {
        assert!(
            report.contains(&format!("A-1 version {v}: undecodable payload")),
            "{report}"
        );
    }
    assert!(!report.contains("version 3:"), "{report}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("3 problem(s) found"), "{err}");
}

#[test]
fn deeply_nested_payloads_do_not_overflow_the_stack() {
    let dir = tempfile::tempdir().unwrap();
    let deep = format!("{}{}", "[".repeat(200_000), "]".repeat(200_000));
    let db = raw_store(
        dir.path(),
        &[
            ("D-1", 1, "Deep", deep.into_bytes(), "2024-01-01T00:00:01Z"),
            (
                "D-1",
                2,
                "Fine",
                br#"{"n": 2}"#.to_vec(),
                "2024-01-01T00:00:02Z",
            ),
        ],
    );
    let jq = dir.path().join("count.jq");
    std::fs::write(
        &jq,
        "(. // {}) | .seen += 1 | if ($event.data | type) == \"object\" then .n = $event.data.n else .kind = ($event.data | type) end",
    )
    .unwrap();
    let state = lines(&ok(&[
        "state",
        s(&db),
        "D-1",
        "--reducer",
        s(&jq),
        "--json",
    ]));
    assert_eq!(
        state[0],
        json!({"seen": 2, "kind": "string", "n": 2}),
        "shown as its raw text"
    );
    // Errors quote values, but never a whole payload.
    let strict = dir.path().join("strict.jq");
    std::fs::write(&strict, ".n = $event.data.n").unwrap();
    let err = fails(&["state", s(&db), "D-1", "--reducer", s(&strict)]);
    assert!(err.len() < 1000, "{} bytes", err.len());
    let events = lines(&ok(&["events", s(&db), "--json"]));
    assert!(
        events[0]["undecodable"]
            .as_str()
            .unwrap()
            .contains("recursion limit"),
        "{}",
        events[0]["undecodable"]
    );
}

#[test]
fn check_finds_gaps_duplicates_and_backward_time() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("loose.db");
    let c = Connection::open(&db).unwrap();
    c.execute_batch(
        "CREATE TABLE log (seq INTEGER PRIMARY KEY, s TEXT, v INTEGER, t TEXT, d TEXT, at TEXT);
         INSERT INTO log (s, v, t, d, at) VALUES
           ('A-1', 1, 'X', '{}', '2024-01-01T10:00:00Z'),
           ('A-1', 2, 'X', '{}', '2024-01-01T09:00:00Z'),
           ('A-1', 2, 'X', '{}', '2024-01-01T11:00:00Z'),
           ('A-1', 5, 'X', '{}', '2024-01-01T12:00:00Z'),
           ('B-1', 2, 'X', '{}', '2024-01-01T12:00:00Z');",
    )
    .unwrap();
    drop(c);
    let map = "table=log,stream=s,version=v,type=t,data=d,time=at,position=seq";
    let out = run(&["check", s(&db), "--map", map, "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let found: Vec<(String, i64, String)> = lines(&String::from_utf8(out.stdout).unwrap())
        .iter()
        .map(|p| {
            (
                p["stream_id"].as_str().unwrap().into(),
                p["version"].as_i64().unwrap(),
                p["problem"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        found,
        vec![
            ("A-1".into(), 2, "timestamp goes backwards".into()),
            ("A-1".into(), 2, "duplicate version".into()),
            ("A-1".into(), 5, "version gap".into()),
            ("B-1".into(), 2, "version gap".into()),
        ]
    );
    // Browsing still works on such a stream.
    let state = lines(&ok(&["state", s(&db), "A-1", "--map", map, "--json"]));
    assert_eq!(state[0], json!({}));
}

#[test]
fn check_compares_snapshots_with_replay() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path(), "snap.db");
    let mut store = Store::open_writable(&db).unwrap();
    store
        .save_snapshot(
            "Account-acc-1",
            2,
            &json!({"id": "acc-1", "owner": "Alice", "balance": 100}),
        )
        .unwrap();
    store
        .save_snapshot(
            "Account-acc-1",
            3,
            &json!({"id": "acc-1", "owner": "Alice", "balance": 75}),
        )
        .unwrap();
    drop(store);
    let jq = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/reducers/Account.jq");
    let out = run(&["check", s(&db), "--reducer", jq]);
    assert_eq!(out.status.code(), Some(1));
    let report = String::from_utf8(out.stdout).unwrap();
    assert_eq!(report.lines().count(), 1, "{report}");
    assert!(
        report.contains("Account-acc-1 version 3: snapshot differs from replay: 1 field differs; first /balance: replay has 70, snapshot has 75"),
        "{report}"
    );
}

#[test]
fn a_locked_store_waits_then_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path(), "locked.db");
    let writer = Connection::open(&db).unwrap();
    writer
        .execute_batch("BEGIN EXCLUSIVE; INSERT INTO snapshots VALUES ('x', 1, '{}', 'now');")
        .unwrap();
    let started = Instant::now();
    let err = fails(&["streams", s(&db), "--busy-timeout", "300"]);
    assert!(err.contains("locked by another process"), "{err}");
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "it waited first"
    );
    writer.execute_batch("ROLLBACK").unwrap();
    ok(&["streams", s(&db), "--busy-timeout", "300"]);
}

#[test]
fn a_reducer_that_never_ends_is_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path(), "loop.db");
    let jq = dir.path().join("loop.jq");
    std::fs::write(
        &jq,
        "if $event.type == \"MoneyWithdrawn\" then until(false; .) else . end",
    )
    .unwrap();
    let started = Instant::now();
    let err = fails(&[
        "state",
        s(&db),
        "Account-acc-1",
        "--reducer",
        s(&jq),
        "--reducer-timeout",
        "0.3",
    ]);
    assert!(
        err.contains("did not finish within 0.3 s at Account-acc-1 version 3 (MoneyWithdrawn)"),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(20));
    let out = run(&["state", s(&db), "Account-acc-1", "--reducer-timeout", "0"]);
    assert_eq!(out.status.code(), Some(2), "a bad limit is a usage error");
}

#[test]
fn a_reducer_that_eats_memory_is_stopped_at_its_limit() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path(), "greedy.db");
    let jq = dir.path().join("greedy.jq");
    std::fs::write(
        &jq,
        "if $event.version == 2 then [range(200000000)] | length else . end",
    )
    .unwrap();
    let out = run(&[
        "state",
        s(&db),
        "Account-acc-1",
        "--reducer",
        s(&jq),
        "--reducer-memory",
        "64",
        "--reducer-timeout",
        "60",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("grew the process past 64 MiB at Account-acc-1 version 2"),
        "{err}"
    );
    let out = run(&["state", s(&db), "Account-acc-1", "--reducer-memory", "1"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a limit too small to run in is a usage error"
    );
}

#[test]
fn check_reports_metadata_that_is_no_object_and_snapshots_outside_the_stream() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path(), "meta.db");
    let c = rusqlite::Connection::open(&db).unwrap();
    c.execute_batch(
        "UPDATE events SET metadata = 'not {json' WHERE stream_id = 'Account-acc-2' AND version = 2;
         INSERT INTO snapshots VALUES ('Account-acc-1', 0, '{\"balance\": 0}', '2024-03-01T09:00:00Z');
         INSERT INTO snapshots VALUES ('Account-acc-1', -3, '{\"balance\": 0}', '2024-03-01T09:00:00Z');
         INSERT INTO snapshots VALUES ('Account-acc-1', 99, '{\"balance\": 0}', '2024-03-01T09:00:00Z');",
    )
    .unwrap();
    drop(c);
    let jq = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/reducers/Account.jq");
    let out = run(&["check", s(&db), "--reducer", jq]);
    let report = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(
        report.contains("Account-acc-2 version 2: metadata not a JSON object: not {json"),
        "{report}"
    );
    for v in [0, -3, 99] {
        assert!(
            report.contains(&format!(
                "Account-acc-1 version {v}: snapshot not replayable"
            )),
            "{v}: {report}"
        );
    }
    assert!(
        report.contains("version -3 is below the stream's first version 1"),
        "{report}"
    );
}

//! Times are instants at full precision, in every form stores write them; versions and
//! positions are taken as stored.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use common::bin::{fails, lines, ok, run, s};
use rusqlite::{params, Connection};
use serde_json::{json, Value};

/// A native store whose rows carry the given versions and time column values.
fn store_with(dir: &Path, rows: &[(&str, i64, rusqlite::types::Value)]) -> PathBuf {
    let p = dir.join("times.db");
    drop(eventscope::store::Store::create(&p).unwrap());
    let c = Connection::open(&p).unwrap();
    for (i, (stream, v, t)) in rows.iter().enumerate() {
        c.execute(
            "INSERT INTO events (stream_id, version, event_id, event_type, data, metadata, timestamp) VALUES (?, ?, ?, 'Added', ?, '{}', ?)",
            params![stream, v, format!("e{i}"), json!({"n": i + 1}).to_string(), t],
        )
        .unwrap();
    }
    p
}

fn text(t: &str) -> rusqlite::types::Value {
    rusqlite::types::Value::Text(t.into())
}

#[test]
fn microseconds_apart_are_apart() {
    let dir = tempfile::tempdir().unwrap();
    // 30 events a microsecond apart, as a busy application writes them.
    let rows: Vec<_> = (1..=30)
        .map(|v| ("Tick-1", v, text(&format!("2024-03-01T09:00:00.{:06}Z", v))))
        .collect();
    let db = store_with(dir.path(), &rows);
    let events = lines(&ok(&["events", s(&db), "--json"]));
    assert_eq!(
        events[0]["timestamp"], "2024-03-01T09:00:00.000001Z",
        "stored precision kept"
    );
    let table = ok(&["events", s(&db), "--limit", "1"]);
    assert!(table.contains("2024-03-01 09:00:00.000001"), "{table}");
    for v in [1, 7, 21] {
        let t = format!("2024-03-01T09:00:00.{v:06}Z");
        let env = lines(&ok(&[
            "state",
            s(&db),
            "Tick-1",
            "--at-time",
            &t,
            "--json",
            "--envelope",
        ]));
        assert_eq!(env[0]["version"], v, "at v{v}'s exact time");
        assert_eq!(env[0]["timestamp"], t);
    }
    // Before the first event: said, not guessed. (09:00:00Z would be the whole second,
    // which holds all 30.)
    let out = run(&[
        "state",
        s(&db),
        "Tick-1",
        "--at-time",
        "2024-03-01T08:59:59Z",
        "--json",
    ]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "null");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no event at or before"));
}

#[test]
fn offsets_sqlite_text_and_epochs_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let db = store_with(
        dir.path(),
        &[
            ("Mix-1", 1, text("2024-03-01 09:00:00")),
            ("Mix-1", 2, text("2024-03-01T10:01:00.5+0100")),
            ("Mix-1", 3, text("2024-03-01T09:02:00.123456789+00:00")),
            ("Mix-1", 4, rusqlite::types::Value::Integer(1_709_283_780)),
            (
                "Mix-1",
                5,
                rusqlite::types::Value::Integer(1_709_283_840_250),
            ),
        ],
    );
    let times: Vec<Value> = lines(&ok(&["events", s(&db), "--json"]))
        .iter()
        .map(|e| e["timestamp"].clone())
        .collect();
    assert_eq!(
        times,
        vec![
            json!("2024-03-01T09:00:00Z"),
            json!("2024-03-01T09:01:00.5Z"),
            json!("2024-03-01T09:02:00.123456789Z"),
            json!("2024-03-01T09:03:00Z"),
            json!("2024-03-01T09:04:00.250Z"),
        ]
    );
    let at = |t: &str| {
        lines(&ok(&[
            "state",
            s(&db),
            "Mix-1",
            "--at-time",
            t,
            "--json",
            "--envelope",
        ]))[0]["version"]
            .clone()
    };
    assert_eq!(at("2024-03-01T10:03:30+0100"), 4);
    assert_eq!(at("1709283840"), 4, "epoch seconds");
    assert_eq!(at("1709283840250"), 5, "epoch milliseconds");
    assert_eq!(at("2024-03-01 09:01:00.5"), 2, "SQLite text, UTC");
}

#[test]
fn a_map_can_name_the_unit_of_a_numeric_time_column() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("epoch.db");
    let c = Connection::open(&p).unwrap();
    c.execute_batch(
        "CREATE TABLE log (seq INTEGER PRIMARY KEY, agg TEXT, n INTEGER, kind TEXT, body TEXT, at INTEGER);
         INSERT INTO log VALUES (1, 'a-1', 1, 'X', '{}', 1709283600);
         INSERT INTO log VALUES (2, 'a-1', 2, 'X', '{}', 1709283660);",
    )
    .unwrap();
    drop(c);
    let map = "table=log,stream=agg,version=n,type=kind,data=body,time=at";
    let auto = lines(&ok(&["events", s(&p), "--map", map, "--json"]));
    assert_eq!(
        auto[0]["timestamp"], "2024-03-01T09:00:00Z",
        "seconds by magnitude"
    );
    let ms = lines(&ok(&[
        "events",
        s(&p),
        "--map",
        &format!("{map}:ms"),
        "--json",
    ]));
    assert_eq!(
        ms[0]["timestamp"], "1970-01-20T18:48:03.600Z",
        "named milliseconds"
    );
}

#[test]
fn unreadable_times_are_refused_and_listed_never_taken_as_early() {
    let dir = tempfile::tempdir().unwrap();
    let db = store_with(
        dir.path(),
        &[
            ("Odd-1", 1, text("2024-03-01T09:00:00Z")),
            ("Odd-1", 2, text("yesterday-ish")),
            ("Odd-1", 3, text("2024-03-01T09:02:00Z")),
        ],
    );
    let err = fails(&[
        "state",
        s(&db),
        "Odd-1",
        "--at-time",
        "2024-03-01T09:05:00Z",
    ]);
    assert!(
        err.contains("\"yesterday-ish\"") && err.contains("events.timestamp"),
        "{err}"
    );
    let out = run(&["check", s(&db), "--json"]);
    let problems = lines(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0]["problem"], "unreadable time");
    assert_eq!(problems[0]["version"], 2);
}

#[test]
fn streams_counting_from_zero_and_limit_zero() {
    let dir = tempfile::tempdir().unwrap();
    let rows: Vec<_> = (0..4)
        .map(|v| ("Axon-1", v, text(&format!("2024-03-01T09:0{v}:00Z"))))
        .collect();
    let db = store_with(dir.path(), &rows);
    let events = lines(&ok(&["events", s(&db), "--stream", "Axon-1", "--json"]));
    assert_eq!(
        events
            .iter()
            .map(|e| e["version"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        vec![0, 1, 2, 3]
    );
    // The merge of all four: every event replayed, version 0 included.
    let state = lines(&ok(&["state", s(&db), "Axon-1", "--json"]));
    assert_eq!(state[0], json!({"n": 4}));
    let first = lines(&ok(&["state", s(&db), "Axon-1", "--at", "0", "--json"]));
    assert_eq!(
        first[0],
        json!({"n": 1}),
        "version 0 is an event, not 'before'"
    );
    let out = run(&["check", s(&db)]);
    assert!(
        out.status.success(),
        "no gap reported: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    // --limit 0 prints nothing, on every layout.
    assert_eq!(ok(&["events", s(&db), "--json", "--limit", "0"]), "");
    let es = common::eventsourcing(dir.path(), false);
    assert_eq!(
        ok(&[
            "events",
            s(&es),
            "--json",
            "--limit",
            "0",
            "--type",
            "Deposited"
        ]),
        ""
    );
    let missing = fails(&["events", s(&db), "--stream", "Axon-2"]);
    assert!(
        missing.contains("stream not found") && missing.contains("Axon-1"),
        "{missing}"
    );
}

/// A time typed to the hour, minute or second names that whole period whatever its zone
/// suffix: an event at 09:00:30 is inside `--until …T09:00Z` as it is inside `…T09:00`.
#[test]
fn a_typed_prefix_means_its_whole_period_with_or_without_a_zone() {
    let dir = tempfile::tempdir().unwrap();
    let rows = [
        ("Tick-1", 1, text("2024-03-01T08:59:59Z")),
        ("Tick-1", 2, text("2024-03-01T09:00:30Z")),
        ("Tick-1", 3, text("2024-03-01T09:00:30.500Z")),
        ("Tick-1", 4, text("2024-03-01T09:01:00Z")),
        ("Tick-1", 5, text("2024-03-01T10:00:00Z")),
    ];
    let db = store_with(dir.path(), &rows);
    let versions = |flag: &str, t: &str| -> Vec<i64> {
        lines(&ok(&["events", s(&db), "--json", flag, t]))
            .iter()
            .map(|e| e["version"].as_i64().unwrap())
            .collect()
    };
    for t in [
        "2024-03-01T09",
        "2024-03-01T09Z",
        "2024-03-01T10+01:00",
        "2024-03-01T04-05",
    ] {
        assert_eq!(versions("--until", t), vec![1, 2, 3, 4], "--until {t}");
        assert_eq!(versions("--since", t), vec![2, 3, 4, 5], "--since {t}");
    }
    for t in [
        "2024-03-01T09:00",
        "2024-03-01T09:00Z",
        "2024-03-01T10:00+01:00",
        "2024-03-01 10:00+0100",
    ] {
        assert_eq!(versions("--until", t), vec![1, 2, 3], "--until {t}");
        assert_eq!(versions("--since", t), vec![2, 3, 4, 5], "--since {t}");
    }
    for t in [
        "2024-03-01T09:00:30",
        "2024-03-01T09:00:30Z",
        "2024-03-01T11:00:30+02:00",
    ] {
        assert_eq!(versions("--until", t), vec![1, 2, 3], "--until {t}");
    }
    // A fraction names an instant.
    assert_eq!(versions("--until", "2024-03-01T09:00:30.000Z"), vec![1, 2]);
    let at = |t: &str| {
        lines(&ok(&[
            "state",
            s(&db),
            "Tick-1",
            "--at-time",
            t,
            "--json",
            "--envelope",
        ]))[0]["version"]
            .as_i64()
            .unwrap()
    };
    assert_eq!(at("2024-03-01T09:00Z"), 3);
    assert_eq!(at("2024-03-01T10:00+01:00"), 3);
    assert_eq!(at("2024-03-01T09"), 4);
}

//! Snapshots never change an answer silently. Checked on a store written by the real
//! Python `eventsourcing` library (tests/fixtures/make_eventsourcing.py) against a fold of
//! its raw rows in Python that shares no code with eventscope.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::bin::{fails, lines, ok, run, s};
use serde_json::{json, Value};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
const ALICE: &str = "cce6d54633f747c08259d36c44f6133e";
const BOB: &str = "5d7b693fa5594aa8bf860dff8a72c505";

/// A copy of the library-written store, so the checked-in file is never at risk.
fn es_store(dir: &Path) -> PathBuf {
    let p = dir.join("es.sqlite");
    std::fs::copy(format!("{FIXTURES}/eventsourcing-snapshots.sqlite"), &p).unwrap();
    p
}

/// Python's fold of the raw rows: the state after each version, per stream.
fn python_fold(db: &Path) -> Value {
    let out = Command::new("python3")
        .arg(format!("{FIXTURES}/fold_eventsourcing.py"))
        .arg(db)
        .output()
        .expect("python3 runs (the independent fold needs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn close(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            (x.as_f64().unwrap() - y.as_f64().unwrap()).abs() < 1e-9
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| close(v, w)))
        }
        _ => a == b,
    }
}

fn states(db: &Path, stream: &str, n: usize, extra: &[&str]) -> Vec<Value> {
    let reducers = format!("{FIXTURES}/es-reducers");
    let at: Vec<String> = (1..=n).map(|v| v.to_string()).collect();
    let at = at.join(",");
    let mut args = vec![
        "state",
        s(db),
        stream,
        "--reducer",
        &reducers,
        "--at",
        &at,
        "--json",
    ];
    args.extend(extra);
    lines(&ok(&args))
}

#[test]
fn default_state_equals_a_replay_from_the_first_event_at_every_version() {
    let dir = tempfile::tempdir().unwrap();
    let db = es_store(dir.path());
    let before = std::fs::read(&db).unwrap();
    let reference = python_fold(&db);
    for stream in [ALICE, BOB] {
        let expected = reference[stream].as_array().unwrap();
        assert!(expected.len() >= 12, "{stream}: the fixture has history");
        let default = states(&db, stream, expected.len(), &[]);
        let no_snapshots = states(&db, stream, expected.len(), &["--no-snapshots"]);
        assert_eq!(default, no_snapshots, "{stream}");
        for (v, (got, want)) in default.iter().zip(expected).enumerate() {
            assert!(
                close(got, want),
                "{stream} v{}: {got} vs Python's {want}",
                v + 1
            );
        }
    }
    // Opting in with the mapping gives the same states (Alice's snapshots are sound) and
    // says which snapshot each started from.
    let reducers = format!("{FIXTURES}/es-reducers");
    let n = reference[ALICE].as_array().unwrap().len();
    let mapped = states(&db, ALICE, n, &["--from-snapshots"]);
    for (v, (got, want)) in mapped
        .iter()
        .zip(reference[ALICE].as_array().unwrap())
        .enumerate()
    {
        assert!(
            close(got, want),
            "from snapshots, v{}: {got} vs {want}",
            v + 1
        );
    }
    let env = lines(&ok(&[
        "state",
        s(&db),
        ALICE,
        "--reducer",
        &reducers,
        "--from-snapshots",
        "--at",
        "25,9",
        "--json",
        "--envelope",
    ]));
    assert_eq!(env[0]["from_snapshot"], 20);
    assert_eq!(
        env[1]["from_snapshot"],
        Value::Null,
        "no snapshot at or below 9"
    );
    assert_eq!(env[0]["version"], 25);
    assert!(env[0]["reducer"]
        .as_str()
        .unwrap()
        .ends_with("BankAccount.jq"));
    assert!(env[0]["timestamp"].as_str().unwrap().ends_with('Z'));
    let header = ok(&[
        "state",
        s(&db),
        ALICE,
        "--reducer",
        &reducers,
        "--from-snapshots",
    ]);
    assert!(
        header
            .lines()
            .next()
            .unwrap()
            .contains("started from the stored snapshot at version 60"),
        "{header}"
    );
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "the store is untouched"
    );
}

#[test]
fn check_compares_snapshots_only_through_a_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let db = es_store(dir.path());
    // Without a mapping: no false differences, and it says it could not compare.
    let out = run(&["check", s(&db), "--json"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        err.contains("8 snapshot(s) not compared") && err.contains("snapshot.jq"),
        "{err}"
    );
    // With the mapping beside the reducers: exactly Bob's corrupted snapshot (999).
    let reducers = format!("{FIXTURES}/es-reducers");
    let out = run(&["check", s(&db), "--reducer", &reducers, "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let problems = lines(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0]["stream_id"], BOB);
    assert_eq!(problems[0]["version"], 5);
    assert_eq!(problems[0]["problem"], "snapshot differs from replay");
    assert!(problems[0]["detail"]
        .as_str()
        .unwrap()
        .contains("snapshot has 999"));
}

#[test]
fn snapshots_show_their_decoded_content() {
    let dir = tempfile::tempdir().unwrap();
    let db = es_store(dir.path());
    let snaps = lines(&ok(&["snapshots", s(&db), "--stream", BOB, "--json"]));
    assert_eq!(snaps.len(), 2);
    assert_eq!(snaps[0]["version"], 5);
    assert_eq!(snaps[0]["data"]["balance"], 999.0, "tagged decimal decoded");
    assert_eq!(snaps[0]["data"]["full_name"], "Bob");
    assert!(
        snaps[0]["data"].get("state").is_none(),
        "the wrapper is unwrapped"
    );
    assert_eq!(snaps[0]["topic"], "__main__:BankAccount");
    let table = ok(&["snapshots", s(&db)]);
    assert!(
        table.contains("5d7b693fa5594aa8bf860dff8a72c505  5        {\"_created_on\""),
        "{table}"
    );
}

/// A native store with snapshots written by hand, as a careless application might.
fn native_with_snapshots(dir: &Path, snapshot_rows: &[(&str, i64, &str)]) -> PathBuf {
    let p = dir.join("native.db");
    ok(&["demo", "--out", s(&p)]);
    let c = rusqlite::Connection::open(&p).unwrap();
    for (stream, v, data) in snapshot_rows {
        c.execute(
            "INSERT INTO snapshots (stream_id, version, data, created_at) VALUES (?, ?, ?, '2024-03-01T10:00:00Z')",
            rusqlite::params![stream, v, data],
        )
        .unwrap();
    }
    p
}

#[test]
fn unreadable_snapshots_are_skipped_with_a_warning_and_listed_by_check() {
    let dir = tempfile::tempdir().unwrap();
    let db = native_with_snapshots(
        dir.path(),
        &[
            (
                "Account-acc-1",
                2,
                r#"{"id":"acc-1","owner":"Alice","balance":100}"#,
            ),
            ("Account-acc-1", 3, "{not json"),
        ],
    );
    let reducer = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/reducers/Account.jq");
    let out = run(&[
        "state",
        s(&db),
        "Account-acc-1",
        "--reducer",
        reducer,
        "--from-snapshots",
        "--json",
        "--envelope",
    ]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("snapshot of Account-acc-1 at version 3 skipped"),
        "{err}"
    );
    let env = lines(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(env[0]["from_snapshot"], 2, "the readable one below is used");
    assert_eq!(env[0]["state"]["balance"], 120);
    let out = run(&["check", s(&db), "--reducer", reducer, "--json"]);
    let problems = lines(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0]["problem"], "unreadable snapshot");
    assert_eq!(problems[0]["version"], 3);
    // The merge cannot opt in without a mapping.
    let err = fails(&["state", s(&db), "Account-acc-1", "--from-snapshots"]);
    assert!(err.contains("needs a mapping"), "{err}");
}

#[test]
fn a_snapshots_table_of_another_shape_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("odd.db");
    ok(&["demo", "--out", s(&p)]);
    let c = rusqlite::Connection::open(&p).unwrap();
    c.execute_batch("DROP TABLE snapshots; CREATE TABLE snapshots (who TEXT, what BLOB); INSERT INTO snapshots VALUES ('x', 'y');")
        .unwrap();
    drop(c);
    assert_eq!(
        ok(&["snapshots", s(&p)]).trim(),
        "this store keeps no snapshots"
    );
    let state = lines(&ok(&["state", s(&p), "Account-acc-1", "--json"]));
    assert_eq!(state[0]["amount"], 50, "the merge of the seed");
    let out = run(&["check", s(&p)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_merge_is_labelled_wherever_its_state_is_shown() {
    let dir = tempfile::tempdir().unwrap();
    let db = native_with_snapshots(dir.path(), &[]);
    let shown = ok(&["state", s(&db), "Account-acc-1"]);
    let header = shown.lines().next().unwrap();
    assert!(
        header.contains("built-in merge") && header.contains("--reducer"),
        "{header}"
    );
    let env = lines(&ok(&[
        "state",
        s(&db),
        "Account-acc-1",
        "--json",
        "--envelope",
    ]));
    assert!(
        env[0]["reducer"].as_str().unwrap().contains("a guess"),
        "{}",
        env[0]
    );
    let diff = ok(&["diff", s(&db), "Account-acc-1", "--from", "1"]);
    assert!(
        diff.lines().next().unwrap().contains("built-in merge"),
        "{diff}"
    );
    assert_eq!(json!(env[0]["from_snapshot"]), Value::Null);
}

//! `events --json | import` round-trips every layout: a second export of the imported
//! store is the first one, field for field — times (null where there are none), topics,
//! categories, schema versions, original positions and undecodable payloads included.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use common::bin::{bin, fails, lines, ok, run, s};
use serde_json::Value;

fn round_trip(db: &Path, extra: &[&str], dir: &Path, name: &str) -> (Vec<Value>, Vec<Value>) {
    let mut args = vec!["events", s(db), "--json"];
    args.extend(extra);
    let dump = ok(&args);
    let out = dir.join(format!("{name}.imported.db"));
    let mut child = bin()
        .args(["import", "-", "--out", s(&out)])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(dump.as_bytes())
        .unwrap();
    let done = child.wait_with_output().unwrap();
    assert!(
        done.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&done.stderr)
    );
    let back = ok(&["events", s(&out), "--json"]);
    (lines(&dump), lines(&back))
}

#[test]
fn every_layout_round_trips_through_import() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let real_es = d.join("real-es.sqlite");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/eventsourcing-snapshots.sqlite"
        ),
        &real_es,
    )
    .unwrap();
    let demo = d.join("demo.db");
    ok(&["demo", "--out", s(&demo)]);
    let map = "table=journal,stream=entity,version=rev,type=kind,data=body,time=at,position=seq";
    let cases: Vec<(&str, std::path::PathBuf, Vec<&str>)> = vec![
        ("native", demo, vec![]),
        ("eventsourcing", common::eventsourcing(d, false), vec![]),
        ("eventsourcing-zlib", common::eventsourcing(d, true), vec![]),
        ("eventsourcing-real", real_es, vec![]),
        ("emmett", common::emmett(d), vec![]),
        ("cqrs-es", common::cqrs_es(d), vec![]),
        ("message-db", common::message_db(d), vec![]),
        ("map", common::homegrown(d), vec!["--map", map]),
    ];
    for (name, db, extra) in cases {
        let (first, second) = round_trip(&db, &extra, d, name);
        assert!(!first.is_empty(), "{name}");
        assert_eq!(
            first, second,
            "{name}: the imported store exports the same envelopes"
        );
        if name == "cqrs-es" {
            assert!(
                first.iter().all(|e| e["timestamp"].is_null()),
                "no time is invented"
            );
            // The copy, like its source, has no times: nothing unreadable to report, and
            // a time lookup says why it cannot be answered.
            let copy = d.join("cqrs-es.imported.db");
            for store in [&db, &copy] {
                let checked = run(&["check", s(store)]);
                let text = String::from_utf8_lossy(&checked.stdout);
                assert!(checked.status.success(), "{name}: {text}");
                assert!(!text.contains("unreadable time"), "{text}");
                let stream = first[0]["stream_id"].as_str().unwrap();
                let err = fails(&["state", s(store), stream, "--at-time", "2024-03-01"]);
                assert!(err.contains("no event times"), "{err}");
            }
        }
        if name.starts_with("eventsourcing") {
            assert!(first
                .iter()
                .all(|e| e["topic"].is_string() && e["category"].is_string()));
        }
        if name == "eventsourcing" {
            let marked: Vec<_> = first
                .iter()
                .filter(|e| e["undecodable"].is_string())
                .collect();
            assert_eq!(marked.len(), 1, "the encrypted event keeps its mark");
        }
    }
}

#[test]
fn an_imported_store_answers_as_its_source_did() {
    let dir = tempfile::tempdir().unwrap();
    let src = common::eventsourcing(dir.path(), true);
    let (_, _) = round_trip(&src, &[], dir.path(), "es");
    let copy = dir.path().join("es.imported.db");
    // Categories come from the topic as in the source, so folder reducers still apply.
    assert_eq!(
        ok(&["streams", s(&src), "--json"]),
        ok(&["streams", s(&copy), "--json"])
    );
    let jq = dir.path().join("BankAccount.jq");
    std::fs::write(
        &jq,
        "if $event.type == \"Opened\" then {balance: 0} elif $event.type == \"Deposited\" then .balance += $event.data.amount elif $event.type == \"Withdrawn\" then .balance -= $event.data.amount else . end",
    )
    .unwrap();
    let state = |db: &Path| {
        ok(&[
            "state",
            s(db),
            common::ACCOUNT_HEX,
            "--reducer",
            s(dir.path()),
            "--at-time",
            "2024-03-01T09:03:30Z",
            "--json",
        ])
    };
    assert_eq!(state(&src), state(&copy));
    assert_eq!(lines(&state(&copy))[0]["balance"], 70.0);
}

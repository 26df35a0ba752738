//! EventSauce on SQLite: every aggregate table found by its columns and read together,
//! BINARY(16) ids as UUIDs, the envelope's headers giving type, time, version (where the
//! column is NULL), id and category, the payload as data and the other headers as
//! metadata. The store is built from EventSauce's table schema with messages as its
//! serializer writes them (tests/fixtures/make_eventsauce_store.py, which also gives the
//! expected reading from the raw rows): EventSauce cannot run on this machine.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::bin::{lines, ok, s};
use serde_json::Value;

#[test]
fn an_eventsauce_store_reads_as_its_headers_mean() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("eventsauce.sqlite");
    let expected =
        common::fixture_lines(Path::new("python3"), "make_eventsauce_store.py", &[s(&db)]);
    assert!(ok(&["formats"]).contains("eventsauce"));
    let all = lines(&ok(&["events", s(&db), "--json"]));
    assert_eq!(all.len(), expected.len());
    for want in &expected {
        let stream = want["stream"].as_str().unwrap();
        let got = lines(&ok(&["events", s(&db), "--stream", stream, "--json"]));
        let e = got
            .iter()
            .find(|e| e["version"] == want["version"])
            .unwrap_or_else(|| panic!("{want} not in {got:?}"));
        for (field, key) in [("type", "type"), ("event_id", "event_id"), ("data", "data")] {
            assert_eq!(e[field], want[key], "{field} of {want}");
        }
        assert_eq!(e["metadata"], want["metadata"], "{want}");
        assert_eq!(e["category"], want["category"]);
        assert!(e["timestamp"].as_str().unwrap().ends_with('Z'), "{e}");
    }
    // The versions of a stream are 1..n in order, the NULL column filled from the header.
    let account = lines(&ok(&[
        "events",
        s(&db),
        "--stream",
        "0d6a3b3e-5f8c-4a7e-9a57-1b2c3d4e5f60",
        "--json",
    ]));
    let versions: Vec<i64> = account
        .iter()
        .map(|e| e["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [1, 2, 3]);
    let state: Value = serde_json::from_str(&ok(&[
        "state",
        s(&db),
        "0d6a3b3e-5f8c-4a7e-9a57-1b2c3d4e5f60",
        "--json",
    ]))
    .unwrap();
    assert_eq!(state["owner"], "ann");
    assert_eq!(state["amount"], 50);
    let streams = lines(&ok(&["streams", s(&db), "--json"]));
    assert_eq!(streams.len(), 2, "{streams:?}");
}

//! Rails Event Store on SQLite: events reached through the join table, linked events in
//! each of their streams and once in `$all`, NULL positions ordered by the join table's
//! id, events in no stream under RES's global stream `all`, categories before `$` and
//! system streams apart, YAML payloads marked and never evaluated. The store is built
//! from RES's migration DDL (tests/fixtures/make_res_store.py, which also computes the
//! expected reading from the raw rows): Rails Event Store cannot run on this machine.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::bin::{lines, ok, s};
use serde_json::Value;

#[test]
fn a_rails_event_store_reads_as_its_rows_mean() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("res.sqlite3");
    let expected = common::fixture_lines(Path::new("python3"), "make_res_store.py", &[s(&db)]);
    let (in_streams, log): (Vec<&Value>, Vec<&Value>) =
        expected.iter().partition(|e| e.get("version").is_some());

    let formats = ok(&["formats"]);
    assert!(formats.contains("rails-event-store"), "{formats}");
    let streams = lines(&ok(&["streams", s(&db), "--json"]));
    let mut by_stream: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
    for e in &in_streams {
        by_stream
            .entry(e["stream"].as_str().unwrap())
            .or_default()
            .push(e);
    }
    for (stream, want) in &by_stream {
        let info = streams.iter().find(|i| i["stream_id"] == *stream).unwrap();
        assert_eq!(info["category"], want[0]["category"], "{stream}");
        assert_eq!(info["events"], want.len(), "{stream}");
        let got = lines(&ok(&["events", s(&db), "--stream", stream, "--json"]));
        let got: Vec<(i64, &str, &str)> = got
            .iter()
            .map(|e| {
                (
                    e["version"].as_i64().unwrap(),
                    e["event_id"].as_str().unwrap(),
                    e["type"].as_str().unwrap(),
                )
            })
            .collect();
        let want: Vec<(i64, &str, &str)> = want
            .iter()
            .map(|e| {
                (
                    e["version"].as_i64().unwrap(),
                    e["event_id"].as_str().unwrap(),
                    e["type"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(got, want, "{stream}");
    }
    // The log: every event once, at its first stream (or `all`), by position.
    let all = lines(&ok(&["events", s(&db), "--json"]));
    let got: Vec<(i64, &str, &str)> = all
        .iter()
        .map(|e| {
            (
                e["global_position"].as_i64().unwrap(),
                e["event_id"].as_str().unwrap(),
                e["stream_id"].as_str().unwrap(),
            )
        })
        .collect();
    let want: Vec<(i64, &str, &str)> = log
        .iter()
        .map(|e| {
            (
                e["log"].as_i64().unwrap(),
                e["event_id"].as_str().unwrap(),
                e["stream"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, want);
    // Times and metadata as stored; RES's YAML read as data (symbols as strings, a
    // BigDecimal exact); a Ruby object it cannot read is marked, shown as text, not run.
    assert_eq!(all[0]["timestamp"], "2024-03-01T09:00:00.123456Z");
    assert_eq!(all[0]["metadata"]["correlation_id"], "c-1");
    let yaml = all.iter().find(|e| e["type"] == "RefundIssued").unwrap();
    assert_eq!(
        yaml["data"],
        serde_json::json!({"amount": 5, "currency": "EUR"}),
        "{yaml}"
    );
    assert!(yaml.get("undecodable").is_none());
    let object = all.iter().find(|e| e["type"] == "AuditRecorded").unwrap();
    let why = object["undecodable"].as_str().unwrap();
    assert!(why.contains("!ruby/object:Audit"), "{why}");
    assert!(object["data"]
        .as_str()
        .unwrap()
        .contains("!ruby/object:Audit"));
    // A replay of a RES stream folds its events in order.
    let state: Value =
        serde_json::from_str(&ok(&["state", s(&db), "Account$acc-1", "--json"])).unwrap();
    assert_eq!(state["owner"], "ann");
    assert_eq!(state["amount"], 50, "the merge of the last deposit");
}

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
use mysql::prelude::Queryable;
use serde_json::Value;

#[test]
fn an_eventsauce_store_reads_as_its_headers_mean() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("eventsauce.sqlite");
    let expected =
        common::fixture_lines(Path::new("python3"), "make_eventsauce_store.py", &[s(&db)]);
    check(s(&db), &expected);
}

const MYSQL_TABLE: &str = "(id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT, event_id BINARY(16) NOT NULL, aggregate_root_id BINARY(16) NOT NULL, version int(20) unsigned NULL, payload varchar(16001) NOT NULL, PRIMARY KEY (id ASC), KEY reconstitution (aggregate_root_id, version ASC)) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci ENGINE=InnoDB";

/// The same messages in EventSauce's MySQL table schema (its DoctrineMessageRepository's
/// DDL), on a real MariaDB server: both aggregate tables read together, and one alone
/// (found through its index by the UUID's bytes).
#[test]
fn an_eventsauce_store_on_mariadb_reads_the_same() {
    let Some(my) = common::mysql::Server::available() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("eventsauce.sqlite");
    let expected =
        common::fixture_lines(Path::new("python3"), "make_eventsauce_store.py", &[s(&db)]);
    let lite = rusqlite::Connection::open(&db).unwrap();
    let copy = |name: &str, tables: &[&str]| {
        let ddl: Vec<String> = tables
            .iter()
            .map(|t| format!("CREATE TABLE {t} {MYSQL_TABLE}"))
            .collect();
        let url = my.database(name, &ddl.join(";\n"));
        let mut conn = my.conn(name);
        for t in tables {
            let mut rows = lite
                .prepare(&format!(
                    "SELECT id, event_id, aggregate_root_id, version, payload FROM {t} ORDER BY id"
                ))
                .unwrap();
            let mut rows = rows.query([]).unwrap();
            while let Some(r) = rows.next().unwrap() {
                let row: (i64, Vec<u8>, Vec<u8>, Option<i64>, String) = (
                    r.get(0).unwrap(),
                    r.get(1).unwrap(),
                    r.get(2).unwrap(),
                    r.get(3).unwrap(),
                    r.get(4).unwrap(),
                );
                conn.exec_drop(format!("INSERT INTO {t} VALUES (?, ?, ?, ?, ?)"), row)
                    .unwrap();
            }
        }
        url
    };
    let both = copy("eventsauce", &["account_events", "order_events"]);
    check(&both, &expected);
    let one = copy("eventsauce_one", &["account_events"]);
    let account: Vec<Value> = expected
        .iter()
        .filter(|e| e["table"] == "account_events")
        .cloned()
        .collect();
    let got = lines(&ok(&["events", &one, "--stream", ACCOUNT, "--json"]));
    assert_eq!(got.len(), account.len());
    for (e, want) in got.iter().zip(&account) {
        for field in [
            "version", "type", "event_id", "data", "metadata", "category",
        ] {
            assert_eq!(e[field], want[field], "{field} of {want}");
        }
    }
}

const ACCOUNT: &str = "0d6a3b3e-5f8c-4a7e-9a57-1b2c3d4e5f60";

/// Checks the store at `db` against what the fixture computed from its rows.
fn check(db: &str, expected: &[Value]) {
    assert!(ok(&["formats"]).contains("eventsauce"));
    let all = lines(&ok(&["events", db, "--json"]));
    assert_eq!(all.len(), expected.len());
    for want in expected {
        let stream = want["stream"].as_str().unwrap();
        let got = lines(&ok(&["events", db, "--stream", stream, "--json"]));
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
    let account = lines(&ok(&["events", db, "--stream", ACCOUNT, "--json"]));
    let versions: Vec<i64> = account
        .iter()
        .map(|e| e["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [1, 2, 3]);
    let state: Value = serde_json::from_str(&ok(&["state", db, ACCOUNT, "--json"])).unwrap();
    assert_eq!(state["owner"], "ann");
    assert_eq!(state["amount"], 50);
    let streams = lines(&ok(&["streams", db, "--json"]));
    assert_eq!(streams.len(), 2, "{streams:?}");
}

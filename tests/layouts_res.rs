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
use mysql::prelude::Queryable;
use serde_json::Value;

#[test]
fn a_rails_event_store_reads_as_its_rows_mean() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("res.sqlite3");
    let expected = common::fixture_lines(Path::new("python3"), "make_res_store.py", &[s(&db)]);
    check(s(&db), &expected);
}

/// The same rows in RES's PostgreSQL tables (uuid event ids, bytea payloads, as its
/// migration makes them there), read from a real server.
#[test]
fn a_rails_event_store_on_postgresql_reads_the_same() {
    let Some(pg) = common::pg::Cluster::available() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("res.sqlite3");
    let expected = common::fixture_lines(Path::new("python3"), "make_res_store.py", &[s(&db)]);
    let url = pg.database(
        "res",
        "CREATE TABLE event_store_events_in_streams (id bigserial PRIMARY KEY, stream varchar NOT NULL, position integer, event_id uuid NOT NULL, created_at timestamp(6) without time zone NOT NULL);
         CREATE UNIQUE INDEX ON event_store_events_in_streams (stream, position);
         CREATE INDEX ON event_store_events_in_streams (event_id);
         CREATE TABLE event_store_events (id bigserial PRIMARY KEY, event_id uuid NOT NULL UNIQUE, event_type varchar NOT NULL, metadata bytea, data bytea NOT NULL, created_at timestamp(6) without time zone NOT NULL, valid_at timestamp(6) without time zone);",
    );
    let lite = rusqlite::Connection::open(&db).unwrap();
    let mut client = pg.client("res");
    let mut rows = lite
        .prepare("SELECT id, event_id, event_type, metadata, data, created_at FROM event_store_events ORDER BY id")
        .unwrap();
    let mut rows = rows.query([]).unwrap();
    while let Some(r) = rows.next().unwrap() {
        let (id, eid, ty): (i64, String, String) =
            (r.get(0).unwrap(), r.get(1).unwrap(), r.get(2).unwrap());
        let meta: String = r.get(3).unwrap();
        let data: String = r.get(4).unwrap();
        let at: String = r.get(5).unwrap();
        client
            .execute(
                "INSERT INTO event_store_events VALUES ($1, $2::text::uuid, $3, $4, $5, $6::text::timestamp, NULL)",
                &[&id, &eid, &ty, &meta.as_bytes(), &data.as_bytes(), &at],
            )
            .unwrap();
    }
    let mut links = lite
        .prepare("SELECT id, stream, position, event_id, created_at FROM event_store_events_in_streams ORDER BY id")
        .unwrap();
    let mut links = links.query([]).unwrap();
    while let Some(r) = links.next().unwrap() {
        let (id, stream, position): (i64, String, Option<i32>) =
            (r.get(0).unwrap(), r.get(1).unwrap(), r.get(2).unwrap());
        let (eid, at): (String, String) = (r.get(3).unwrap(), r.get(4).unwrap());
        client
            .execute(
                "INSERT INTO event_store_events_in_streams VALUES ($1, $2, $3, $4::text::uuid, $5::text::timestamp)",
                &[&id, &stream, &position, &eid, &at],
            )
            .unwrap();
    }
    check(&url, &expected);
}

/// The same rows in RES's MySQL tables (its migration there: BLOB payloads, varchar(36)
/// event ids, datetime(6) times), read from a real MariaDB server.
#[test]
fn a_rails_event_store_on_mariadb_reads_the_same() {
    let Some(my) = common::mysql::Server::available() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("res.sqlite3");
    let expected = common::fixture_lines(Path::new("python3"), "make_res_store.py", &[s(&db)]);
    let url = my.database(
        "res",
        "CREATE TABLE event_store_events_in_streams (id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, stream varchar(255) NOT NULL, position int, event_id varchar(36) NOT NULL, created_at datetime(6) NOT NULL, UNIQUE KEY index_event_store_events_in_streams_on_stream_and_position (stream, position), KEY index_event_store_events_in_streams_on_created_at (created_at), KEY index_event_store_events_in_streams_on_event_id (event_id));
         CREATE TABLE event_store_events (id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, event_id varchar(36) NOT NULL, event_type varchar(255) NOT NULL, metadata blob, data blob NOT NULL, created_at datetime(6) NOT NULL, valid_at datetime(6), UNIQUE KEY index_event_store_events_on_event_id (event_id), KEY index_event_store_events_on_created_at (created_at), KEY index_event_store_events_on_event_type (event_type))",
    );
    let lite = rusqlite::Connection::open(&db).unwrap();
    let mut conn = my.conn("res");
    let mut rows = lite
        .prepare("SELECT id, event_id, event_type, metadata, data, created_at FROM event_store_events ORDER BY id")
        .unwrap();
    let mut rows = rows.query([]).unwrap();
    while let Some(r) = rows.next().unwrap() {
        let row: (i64, String, String, String, String, String) = (
            r.get(0).unwrap(),
            r.get(1).unwrap(),
            r.get(2).unwrap(),
            r.get(3).unwrap(),
            r.get(4).unwrap(),
            r.get(5).unwrap(),
        );
        conn.exec_drop(
            "INSERT INTO event_store_events VALUES (?, ?, ?, ?, ?, ?, NULL)",
            row,
        )
        .unwrap();
    }
    let mut links = lite
        .prepare("SELECT id, stream, position, event_id, created_at FROM event_store_events_in_streams ORDER BY id")
        .unwrap();
    let mut links = links.query([]).unwrap();
    while let Some(r) = links.next().unwrap() {
        let row: (i64, String, Option<i32>, String, String) = (
            r.get(0).unwrap(),
            r.get(1).unwrap(),
            r.get(2).unwrap(),
            r.get(3).unwrap(),
            r.get(4).unwrap(),
        );
        conn.exec_drop(
            "INSERT INTO event_store_events_in_streams VALUES (?, ?, ?, ?, ?)",
            row,
        )
        .unwrap();
    }
    let before = common::mysql::fingerprint(&mut conn);
    check(&url, &expected);
    assert_eq!(
        common::mysql::fingerprint(&mut conn),
        before,
        "nothing written"
    );
}

/// Checks the store at `db` against what the fixture computed from its rows.
fn check(db: &str, expected: &[Value]) {
    let (in_streams, log): (Vec<&Value>, Vec<&Value>) =
        expected.iter().partition(|e| e.get("version").is_some());

    let formats = ok(&["formats"]);
    assert!(formats.contains("rails-event-store"), "{formats}");
    let streams = lines(&ok(&["streams", db, "--json"]));
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
        let got = lines(&ok(&["events", db, "--stream", stream, "--json"]));
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
    // A link says so, naming the stream its event was first appended to.
    let links = lines(&ok(&[
        "events",
        db,
        "--stream",
        "$by_type_MoneyDeposited",
        "--json",
    ]));
    assert_eq!(links.len(), 2);
    assert!(
        links.iter().all(|e| e["link_of"] == "Account$acc-1"),
        "{links:?}"
    );
    let own = lines(&ok(&["events", db, "--stream", "Account$acc-1", "--json"]));
    assert!(own.iter().all(|e| e.get("link_of").is_none()), "{own:?}");
    // The log: every event once, at its first stream (or `all`), by position.
    let all = lines(&ok(&["events", db, "--json"]));
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
        serde_json::from_str(&ok(&["state", db, "Account$acc-1", "--json"])).unwrap();
    assert_eq!(state["owner"], "ann");
    assert_eq!(state["amount"], 50, "the merge of the last deposit");
}

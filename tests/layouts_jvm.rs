//! Akka / Pekko Persistence JDBC on PostgreSQL, from the library's published DDL
//! (akka-persistence-jdbc's postgres-create-schema.sql) with payloads as its serializers
//! write them: Jackson JSON read as JSON, Jackson CBOR marked undecodable with the
//! serializer named in the metadata, deleted rows hidden unless --archived, write times
//! in milliseconds, the category before `|`, snapshots. Akka cannot run here (no Maven
//! repository), so the rows are written as it would write them.
#![allow(clippy::unwrap_used)]

mod common;

use common::bin::{lines, ok};
use serde_json::{json, Value};

const DDL: &str = "
CREATE TABLE IF NOT EXISTS public.event_journal(
  ordering BIGSERIAL,
  persistence_id VARCHAR(255) NOT NULL,
  sequence_number BIGINT NOT NULL,
  deleted BOOLEAN DEFAULT FALSE NOT NULL,
  writer VARCHAR(255) NOT NULL,
  write_timestamp BIGINT,
  adapter_manifest VARCHAR(255),
  event_ser_id INTEGER NOT NULL,
  event_ser_manifest VARCHAR(255) NOT NULL,
  event_payload BYTEA NOT NULL,
  meta_ser_id INTEGER,
  meta_ser_manifest VARCHAR(255),
  meta_payload BYTEA,
  PRIMARY KEY(persistence_id, sequence_number)
);
CREATE UNIQUE INDEX event_journal_ordering_idx ON public.event_journal(ordering);
CREATE TABLE IF NOT EXISTS public.snapshot (
  persistence_id VARCHAR(255) NOT NULL,
  sequence_number BIGINT NOT NULL,
  created BIGINT NOT NULL,
  snapshot_ser_id INTEGER NOT NULL,
  snapshot_ser_manifest VARCHAR(255) NOT NULL,
  snapshot_payload BYTEA NOT NULL,
  meta_ser_id INTEGER,
  meta_ser_manifest VARCHAR(255),
  meta_payload BYTEA,
  PRIMARY KEY(persistence_id, sequence_number)
);";

/// (persistence id, sequence number, deleted, serializer id, manifest, payload).
type Row = (&'static str, i64, bool, i32, &'static str, Vec<u8>);

fn rows() -> Vec<Row> {
    let json = |v: Value| v.to_string().into_bytes();
    vec![
        (
            "Account|acc-1",
            1,
            false,
            33,
            "bank.AccountOpened",
            json(json!({"owner": "ann"})),
        ),
        (
            "Account|acc-1",
            2,
            false,
            33,
            "bank.MoneyDeposited",
            json(json!({"amount": 100})),
        ),
        // Jackson CBOR: a map {"amount": 5}, as bytes.
        (
            "Account|acc-1",
            3,
            false,
            32,
            "bank.MoneyDeposited",
            vec![0xa1, 0x66, b'a', b'm', b'o', b'u', b'n', b't', 0x05],
        ),
        (
            "Account|acc-1",
            4,
            true,
            33,
            "bank.MoneyWithdrawn",
            json(json!({"amount": 30})),
        ),
        (
            "Order|7",
            1,
            false,
            33,
            "shop.OrderPlaced",
            json(json!({"sku": "kb"})),
        ),
    ]
}

#[test]
fn an_akka_journal_reads_as_its_serializers_wrote_it() {
    let Some(pg) = common::pg::Cluster::available() else {
        return;
    };
    let url = pg.database("akka", DDL);
    let mut client = pg.client("akka");
    for (i, (pid, seq, deleted, ser, manifest, payload)) in rows().into_iter().enumerate() {
        let at = 1_709_283_600_000_i64 + i as i64 * 1000;
        client
            .execute(
                "INSERT INTO event_journal (persistence_id, sequence_number, deleted, writer, write_timestamp, event_ser_id, event_ser_manifest, event_payload) VALUES ($1, $2, $3, 'w-1', $4, $5, $6, $7)",
                &[&pid, &seq, &deleted, &at, &ser, &manifest, &payload],
            )
            .unwrap();
    }
    client
        .execute(
            "INSERT INTO snapshot VALUES ('Account|acc-1', 2, 1709283601000, 33, 'bank.Account', convert_to('{\"balance\":100}', 'UTF8'))",
            &[],
        )
        .unwrap();
    let streams = lines(&ok(&["streams", &url, "--json"]));
    let ids: Vec<(&str, &str, i64)> = streams
        .iter()
        .map(|s| {
            (
                s["stream_id"].as_str().unwrap(),
                s["category"].as_str().unwrap(),
                s["events"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        ids,
        [("Account|acc-1", "Account", 3), ("Order|7", "Order", 1)]
    );
    let events = lines(&ok(&[
        "events",
        &url,
        "--stream",
        "Account|acc-1",
        "--json",
    ]));
    let got: Vec<(i64, &str)> = events
        .iter()
        .map(|e| (e["version"].as_i64().unwrap(), e["type"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            (1, "bank.AccountOpened"),
            (2, "bank.MoneyDeposited"),
            (3, "bank.MoneyDeposited")
        ],
        "the deleted row is hidden"
    );
    assert_eq!(events[0]["data"], json!({"owner": "ann"}));
    assert_eq!(events[0]["timestamp"], "2024-03-01T09:00:00.000000Z");
    assert_eq!(events[0]["metadata"]["serializer_id"], 33);
    assert!(events[2]["undecodable"].is_string(), "{}", events[2]);
    assert_eq!(events[2]["metadata"]["serializer_id"], 32);
    let archived = lines(&ok(&[
        "events",
        &url,
        "--stream",
        "Account|acc-1",
        "--json",
        "--archived",
    ]));
    assert_eq!(archived.len(), 4, "--archived shows deleted rows");
    let all = lines(&ok(&["events", &url, "--json"]));
    let positions: Vec<i64> = all
        .iter()
        .map(|e| e["global_position"].as_i64().unwrap())
        .collect();
    assert_eq!(
        positions,
        [1, 2, 3, 5],
        "ordering, the deleted one left out"
    );
    let snaps = lines(&ok(&["snapshots", &url, "--json"]));
    assert_eq!(snaps.len(), 1);
    assert_eq!(snaps[0]["stream_id"], "Account|acc-1");
    assert!(ok(&["formats"]).contains("akka"));
}

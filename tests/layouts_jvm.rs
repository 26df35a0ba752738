//! Akka / Pekko Persistence JDBC on PostgreSQL (and MariaDB), from the library's published DDL
//! (akka-persistence-jdbc's postgres-create-schema.sql) with payloads as its serializers
//! write them: Jackson JSON and Jackson CBOR read as JSON, Java serialization marked
//! undecodable with the serializer named in the metadata, deleted rows hidden unless --archived, write times
//! in milliseconds, the category before `|`, snapshots. Akka cannot run here (no Maven
//! repository), so the rows are written as it would write them.
#![allow(clippy::unwrap_used)]

mod common;

use common::bin::{lines, ok};
use mysql::prelude::Queryable;
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
CREATE TABLE IF NOT EXISTS public.event_tag(
  event_id BIGINT,
  persistence_id VARCHAR(255),
  sequence_number BIGINT,
  tag VARCHAR(256),
  PRIMARY KEY(persistence_id, sequence_number, tag),
  CONSTRAINT fk_event_journal FOREIGN KEY(persistence_id, sequence_number) REFERENCES event_journal(persistence_id, sequence_number) ON DELETE CASCADE
);
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

/// Tags as the journal writes them with its events (5.1 on: by persistence id and
/// sequence number; `event_id` is the journal's ordering).
const TAGS: &str = "INSERT INTO event_tag (event_id, persistence_id, sequence_number, tag) VALUES
  (1, 'Account|acc-1', 1, 'opened'), (1, 'Account|acc-1', 1, 'account'), (2, 'Account|acc-1', 2, 'account')";

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
        // Akka's StringSerializer (20): the text itself.
        (
            "Order|7",
            2,
            false,
            20,
            "",
            "gift \"wrap\" ✓".as_bytes().to_vec(),
        ),
        // Java serialization (serializer 1): not readable here.
        (
            "Order|7",
            3,
            false,
            1,
            "shop.LegacyNote",
            vec![0xac, 0xed, 0x00, 0x05, 0x74, 0x00, 0x02, b'h', b'i'],
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
    client.batch_execute(TAGS).unwrap();
    check_akka(&url);
}

/// The same journal in akka-persistence-jdbc's MySQL DDL (mysql-create-schema.sql: BLOB
/// payloads, BOOLEAN deleted), on a real MariaDB server.
#[test]
fn an_akka_journal_on_mariadb_reads_the_same() {
    let Some(my) = common::mysql::Server::available() else {
        return;
    };
    let url = my.database(
        "akka",
        "CREATE TABLE IF NOT EXISTS event_journal (
          ordering SERIAL,
          deleted BOOLEAN DEFAULT false NOT NULL,
          persistence_id VARCHAR(255) NOT NULL,
          sequence_number BIGINT NOT NULL,
          writer TEXT NOT NULL,
          write_timestamp BIGINT NOT NULL,
          adapter_manifest TEXT NOT NULL,
          event_payload BLOB NOT NULL,
          event_ser_id INTEGER NOT NULL,
          event_ser_manifest TEXT NOT NULL,
          meta_payload BLOB,
          meta_ser_id INTEGER,meta_ser_manifest TEXT,
          PRIMARY KEY(persistence_id,sequence_number)
        );
        CREATE UNIQUE INDEX event_journal_ordering_idx ON event_journal(ordering);
        CREATE TABLE IF NOT EXISTS event_tag (
          event_id BIGINT UNSIGNED,
          persistence_id VARCHAR(255),
          sequence_number BIGINT,
          tag VARCHAR(255) NOT NULL,
          PRIMARY KEY(persistence_id, sequence_number, tag),
          FOREIGN KEY (persistence_id, sequence_number) REFERENCES event_journal(persistence_id, sequence_number) ON DELETE CASCADE
        );
        CREATE TABLE IF NOT EXISTS snapshot (
          persistence_id VARCHAR(255) NOT NULL,
          sequence_number BIGINT NOT NULL,
          created BIGINT NOT NULL,
          snapshot_ser_id INTEGER NOT NULL,
          snapshot_ser_manifest TEXT NOT NULL,
          snapshot_payload BLOB NOT NULL,
          meta_ser_id INTEGER,
          meta_ser_manifest TEXT,
          meta_payload BLOB,
          PRIMARY KEY (persistence_id, sequence_number)
        )",
    );
    let mut conn = my.conn("akka");
    for (i, (pid, seq, deleted, ser, manifest, payload)) in rows().into_iter().enumerate() {
        let at = 1_709_283_600_000_i64 + i as i64 * 1000;
        conn.exec_drop(
            "INSERT INTO event_journal (persistence_id, sequence_number, deleted, writer, write_timestamp, adapter_manifest, event_ser_id, event_ser_manifest, event_payload) VALUES (?, ?, ?, 'w-1', ?, '', ?, ?, ?)",
            (pid, seq, deleted, at, ser, manifest, payload),
        )
        .unwrap();
    }
    conn.query_drop(
        "INSERT INTO snapshot (persistence_id, sequence_number, created, snapshot_ser_id, snapshot_ser_manifest, snapshot_payload) VALUES ('Account|acc-1', 2, 1709283601000, 33, 'bank.Account', '{\"balance\":100}')",
    )
    .unwrap();
    conn.query_drop(TAGS).unwrap();
    check_akka(&url);
}

fn check_akka(url: &str) {
    let url = url.to_string();
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
        [("Account|acc-1", "Account", 3), ("Order|7", "Order", 3)]
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
    assert_eq!(events[0]["metadata"]["tags"], json!(["account", "opened"]));
    assert_eq!(events[1]["metadata"]["tags"], json!(["account"]));
    assert_eq!(events[2]["metadata"]["tags"], json!([]));
    // Jackson CBOR (serializer 32) read as JSON.
    assert_eq!(events[2]["data"], json!({"amount": 5}), "{}", events[2]);
    assert!(events[2].get("undecodable").is_none(), "{}", events[2]);
    assert_eq!(events[2]["metadata"]["serializer_id"], 32);
    let order = lines(&ok(&["events", &url, "--stream", "Order|7", "--json"]));
    assert_eq!(order[1]["data"], json!("gift \"wrap\" ✓"), "{}", order[1]);
    assert!(order[1].get("undecodable").is_none(), "{}", order[1]);
    assert!(order[2]["undecodable"].is_string(), "{}", order[2]);
    assert_eq!(order[2]["metadata"]["serializer_id"], 1);
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
        [1, 2, 3, 5, 6, 7],
        "ordering, the deleted one left out"
    );
    let snaps = lines(&ok(&["snapshots", &url, "--json"]));
    assert_eq!(snaps.len(), 1);
    assert_eq!(snaps[0]["stream_id"], "Account|acc-1");
    assert!(ok(&["formats"]).contains("akka"));
}

/// Axon Framework's JPA event store on PostgreSQL, as Hibernate maps it there: payloads
/// and metadata as OID large objects, XStream XML (the default) or Jackson JSON; 0-based
/// sequence numbers; ISO-8601 text times; a snapshot.
#[test]
fn an_axon_event_store_reads_as_its_serializers_wrote_it() {
    let Some(pg) = common::pg::Cluster::available() else {
        return;
    };
    let url = pg.database(
        "axon",
        "CREATE TABLE domain_event_entry (global_index bigint NOT NULL PRIMARY KEY, event_identifier varchar(255) NOT NULL UNIQUE, meta_data oid, payload oid NOT NULL, payload_revision varchar(255), payload_type varchar(255) NOT NULL, time_stamp varchar(255) NOT NULL, aggregate_identifier varchar(255) NOT NULL, sequence_number bigint NOT NULL, type varchar(255), UNIQUE (aggregate_identifier, sequence_number));
         CREATE TABLE snapshot_event_entry (aggregate_identifier varchar(255) NOT NULL, sequence_number bigint NOT NULL, type varchar(255) NOT NULL, event_identifier varchar(255) NOT NULL UNIQUE, meta_data oid, payload oid NOT NULL, payload_revision varchar(255), payload_type varchar(255) NOT NULL, time_stamp varchar(255) NOT NULL, PRIMARY KEY (aggregate_identifier, sequence_number, type));
         CREATE TABLE token_entry (processor_name varchar(255) NOT NULL, segment integer NOT NULL, owner varchar(255), timestamp varchar(255) NOT NULL, token oid, token_type varchar(255), PRIMARY KEY (processor_name, segment));",
    );
    let mut client = pg.client("axon");
    for (name, segment, token) in axon_tokens() {
        client
            .execute(
                "INSERT INTO token_entry VALUES ($1, $2, 'node-1', '2024-03-01T09:05:00Z', CASE WHEN $3::text IS NULL THEN NULL ELSE lo_from_bytea(0, convert_to($3::text, 'UTF8')) END, 'org.axonframework.eventhandling.GlobalSequenceTrackingToken')",
                &[&name, &segment, &token],
            )
            .unwrap();
    }
    let meta = AXON_META;
    for (g, agg, seq, ty, rev, payload) in axon_events() {
        let kind = if agg.starts_with("acc") {
            "Account"
        } else {
            "Order"
        };
        client
            .execute(
                "INSERT INTO domain_event_entry VALUES ($1, $2, lo_from_bytea(0, convert_to($3, 'UTF8')), lo_from_bytea(0, convert_to($4, 'UTF8')), $5, $6, $7, $8, $9, $10)",
                &[&g, &format!("e-{g}"), &meta, &payload, &rev, &ty, &format!("2024-03-01T09:0{g}:00.250Z"), &agg, &seq, &kind],
            )
            .unwrap();
    }
    client
        .execute(
            "INSERT INTO snapshot_event_entry VALUES ('acc-1', 1, 'Account', 's-1', NULL, lo_from_bytea(0, convert_to('<com.bank.Account><balance>100</balance></com.bank.Account>', 'UTF8')), NULL, 'com.bank.Account', '2024-03-01T09:03:00Z')",
            &[],
        )
        .unwrap();
    check_axon(&url);
}

/// The same store in Axon's MySQL mapping (Hibernate: LONGBLOB payloads and metadata),
/// on a real MariaDB server.
#[test]
fn an_axon_event_store_on_mariadb_reads_the_same() {
    let Some(my) = common::mysql::Server::available() else {
        return;
    };
    let url = my.database(
        "axon",
        "CREATE TABLE domain_event_entry (global_index bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, event_identifier varchar(255) NOT NULL UNIQUE, meta_data longblob, payload longblob NOT NULL, payload_revision varchar(255), payload_type varchar(255) NOT NULL, time_stamp varchar(255) NOT NULL, aggregate_identifier varchar(255) NOT NULL, sequence_number bigint NOT NULL, type varchar(255), UNIQUE (aggregate_identifier, sequence_number));
         CREATE TABLE snapshot_event_entry (aggregate_identifier varchar(255) NOT NULL, sequence_number bigint NOT NULL, type varchar(255) NOT NULL, event_identifier varchar(255) NOT NULL UNIQUE, meta_data longblob, payload longblob NOT NULL, payload_revision varchar(255), payload_type varchar(255) NOT NULL, time_stamp varchar(255) NOT NULL, PRIMARY KEY (aggregate_identifier, sequence_number, type));
         CREATE TABLE token_entry (processor_name varchar(255) NOT NULL, segment integer NOT NULL, owner varchar(255), timestamp varchar(255) NOT NULL, token longblob, token_type varchar(255), PRIMARY KEY (processor_name, segment))",
    );
    let mut conn = my.conn("axon");
    for (name, segment, token) in axon_tokens() {
        conn.exec_drop(
            "INSERT INTO token_entry VALUES (?, ?, 'node-1', '2024-03-01T09:05:00Z', ?, 'org.axonframework.eventhandling.GlobalSequenceTrackingToken')",
            (name, segment, token.map(str::as_bytes)),
        )
        .unwrap();
    }
    for (g, agg, seq, ty, rev, payload) in axon_events() {
        let kind = if agg.starts_with("acc") {
            "Account"
        } else {
            "Order"
        };
        conn.exec_drop(
            "INSERT INTO domain_event_entry VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                g,
                format!("e-{g}"),
                AXON_META.as_bytes(),
                payload.as_bytes(),
                rev,
                ty,
                format!("2024-03-01T09:0{g}:00.250Z"),
                agg,
                seq,
                kind,
            ),
        )
        .unwrap();
    }
    conn.query_drop(
        "INSERT INTO snapshot_event_entry VALUES ('acc-1', 1, 'Account', 's-1', NULL, '<com.bank.Account><balance>100</balance></com.bank.Account>', NULL, 'com.bank.Account', '2024-03-01T09:03:00Z')",
    )
    .unwrap();
    check_axon(&url);
}

/// Tracking processors' claims: one caught up, one two events behind on two segments (one
/// of them replaying), one that has processed nothing.
fn axon_tokens() -> [(&'static str, i32, Option<&'static str>); 4] {
    [
        ("balances", 0, Some("<org.axonframework.eventhandling.GlobalSequenceTrackingToken><globalIndex>4</globalIndex></org.axonframework.eventhandling.GlobalSequenceTrackingToken>")),
        ("audit", 0, Some("<org.axonframework.eventhandling.GlobalSequenceTrackingToken><globalIndex>2</globalIndex></org.axonframework.eventhandling.GlobalSequenceTrackingToken>")),
        ("audit", 1, Some("<org.axonframework.eventhandling.ReplayToken><tokenAtReset class=\"org.axonframework.eventhandling.GlobalSequenceTrackingToken\"><globalIndex>4</globalIndex></tokenAtReset><currentToken class=\"org.axonframework.eventhandling.GlobalSequenceTrackingToken\"><globalIndex>3</globalIndex></currentToken></org.axonframework.eventhandling.ReplayToken>")),
        ("mailer", 0, None),
    ]
}

const AXON_META: &str =
    "<meta-data><entry><string>traceId</string><string>t-1</string></entry></meta-data>";

/// (global index, aggregate, sequence number, payload type, revision, payload).
type AxonEvent = (
    i64,
    &'static str,
    i64,
    &'static str,
    Option<&'static str>,
    &'static str,
);

fn axon_events() -> [AxonEvent; 4] {
    [
        (1_i64, "acc-1", 0_i64, "com.bank.AccountOpened", None, "<com.bank.AccountOpened><owner>ann</owner></com.bank.AccountOpened>"),
        (2, "acc-1", 1, "com.bank.MoneyDeposited", Some("2"), "<com.bank.MoneyDeposited><amount>100</amount><note>a &amp; b</note></com.bank.MoneyDeposited>"),
        (3, "ord-7", 0, "com.shop.OrderPlaced", None, r#"{"sku":"kb","lines":[1,2]}"#),
        (4, "acc-1", 2, "com.bank.MoneyDeposited", Some("2"), "<com.bank.MoneyDeposited><amount>50</amount></com.bank.MoneyDeposited>"),
    ]
}

fn check_axon(url: &str) {
    let url = url.to_string();
    let got = lines(&ok(&["events", &url, "--stream", "acc-1", "--json"]));
    let versions: Vec<i64> = got.iter().map(|e| e["version"].as_i64().unwrap()).collect();
    assert_eq!(versions, [1, 2, 3], "0-based sequence numbers + 1");
    assert_eq!(got[0]["data"], json!({"owner": "ann"}));
    assert_eq!(
        got[1]["data"],
        json!({"amount": "100", "note": "a & b"}),
        "XStream keeps text"
    );
    assert_eq!(got[1]["type"], "com.bank.MoneyDeposited");
    assert_eq!(got[1]["schema_version"], "2");
    assert_eq!(got[1]["metadata"], json!({"traceId": "t-1"}));
    assert_eq!(got[1]["timestamp"], "2024-03-01T09:02:00.250Z");
    assert_eq!(got[1]["event_id"], "e-2");
    assert_eq!(got[1]["category"], "Account");
    let order = lines(&ok(&["events", &url, "--stream", "ord-7", "--json"]));
    assert_eq!(
        order[0]["data"],
        json!({"sku": "kb", "lines": [1, 2]}),
        "Jackson JSON"
    );
    let all = lines(&ok(&["events", &url, "--json"]));
    let positions: Vec<i64> = all
        .iter()
        .map(|e| e["global_position"].as_i64().unwrap())
        .collect();
    assert_eq!(positions, [1, 2, 3, 4]);
    let snaps = lines(&ok(&["snapshots", &url, "--json"]));
    assert_eq!(snaps.len(), 1, "{snaps:?}");
    assert_eq!(snaps[0]["version"], 2, "after the 0-based event 1");
    assert!(ok(&["formats"]).contains("axon"));
    // token_entry: each processor's segments where their tokens say, against the log
    // (behind since 2024: stuck), most behind first.
    let consumers = lines(&ok(&["consumers", &url, "--json"]));
    let got: Vec<(&str, Option<i64>, i64, &str)> = consumers
        .iter()
        .map(|c| {
            (
                c["consumer"].as_str().unwrap(),
                c["position"].as_i64(),
                c["lag"].as_i64().unwrap(),
                c["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("mailer", None, 4, "stuck"),
            ("audit (segment 0)", Some(2), 2, "stuck"),
            ("audit (segment 1)", Some(3), 1, "replaying"),
            ("balances", Some(4), 0, "caught_up"),
        ],
        "{consumers:?}"
    );
}

/// Akka Persistence R2DBC's journal on PostgreSQL (akka-persistence-r2dbc's DDL): no
/// ordering column, so the log is by `db_timestamp`; `entity_type` is the category; tags
/// from the row's array; the deleted row hidden; nothing to follow.
#[test]
fn an_akka_r2dbc_journal_reads_by_time() {
    let Some(pg) = common::pg::Cluster::available() else {
        return;
    };
    let url = pg.database(
        "akka_r2dbc",
        "CREATE TABLE IF NOT EXISTS event_journal(
           slice INT NOT NULL, entity_type VARCHAR(255) NOT NULL, persistence_id VARCHAR(255) NOT NULL,
           seq_nr BIGINT NOT NULL, db_timestamp timestamp with time zone NOT NULL,
           event_ser_id INTEGER NOT NULL, event_ser_manifest VARCHAR(255) NOT NULL, event_payload BYTEA NOT NULL,
           deleted BOOLEAN DEFAULT FALSE NOT NULL, writer VARCHAR(255) NOT NULL, adapter_manifest VARCHAR(255),
           tags TEXT ARRAY, meta_ser_id INTEGER, meta_ser_manifest VARCHAR(255), meta_payload BYTEA,
           PRIMARY KEY(persistence_id, seq_nr));
         CREATE INDEX IF NOT EXISTS event_journal_slice_idx ON event_journal(slice, entity_type, db_timestamp, seq_nr);
         INSERT INTO event_journal (slice, entity_type, persistence_id, seq_nr, db_timestamp, event_ser_id, event_ser_manifest, event_payload, deleted, writer, tags) VALUES
           (12, 'Account', 'Account|acc-1', 2, '2024-03-01 09:00:05+00', 33, 'bank.MoneyDeposited', convert_to('{\"amount\": 100}', 'UTF8'), false, 'w', '{account}'),
           (12, 'Account', 'Account|acc-1', 1, '2024-03-01 09:00:01+00', 33, 'bank.AccountOpened', convert_to('{\"owner\": \"ann\"}', 'UTF8'), false, 'w', '{account,opened}'),
           (40, 'Order', 'Order|7', 1, '2024-03-01 09:00:03+00', 32, 'shop.OrderPlaced', '\\xa163736b75626b62'::bytea, false, 'w', NULL),
           (12, 'Account', 'Account|acc-1', 3, '2024-03-01 09:00:07+00', 33, 'bank.MoneyWithdrawn', convert_to('{\"amount\": 30}', 'UTF8'), true, 'w', NULL);",
    );
    let all = lines(&ok(&["events", &url, "--json"]));
    let got: Vec<(i64, &str, i64, &str)> = all
        .iter()
        .map(|e| {
            (
                e["global_position"].as_i64().unwrap(),
                e["stream_id"].as_str().unwrap(),
                e["version"].as_i64().unwrap(),
                e["timestamp"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (1, "Account|acc-1", 1, "2024-03-01T09:00:01.000000Z"),
            (2, "Order|7", 1, "2024-03-01T09:00:03.000000Z"),
            (3, "Account|acc-1", 2, "2024-03-01T09:00:05.000000Z"),
        ],
        "by db_timestamp, the deleted row hidden"
    );
    assert_eq!(all[0]["metadata"]["tags"], json!(["account", "opened"]));
    assert_eq!(all[0]["metadata"]["slice"], 12);
    assert_eq!(all[1]["data"], json!({"sku": "kb"}), "Jackson CBOR");
    assert_eq!(all[1]["metadata"]["tags"], json!([]));
    assert_eq!(all[1]["category"], "Order");
    let archived = lines(&ok(&["events", &url, "--json", "--archived"]));
    assert_eq!(archived.len(), 4);
    let err = common::bin::fails(&["events", &url, "--follow"]);
    assert!(err.contains("nothing to follow"), "{err}");
    assert!(ok(&["formats"]).contains("akka-r2dbc"));
}

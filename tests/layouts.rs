//! Stores written by other libraries, read as they are, through the binary.
#![allow(clippy::unwrap_used)]

mod common;

use common::bin::{fails, lines, ok, s};

use std::path::Path;

use serde_json::{json, Value};

/// Counts money in whatever each library calls its events.
const BALANCE_JQ: &str = r#"(. // {balance: 0})
| if ($event.type | contains("Deposit")) then .balance += $event.data.amount
  elif ($event.type | contains("Withdr")) then .balance -= $event.data.amount
  else .opened = $event.type end"#;

fn reducer(dir: &Path) -> String {
    let p = dir.join("balance.jq");
    std::fs::write(&p, BALANCE_JQ).unwrap();
    p.to_str().unwrap().to_string()
}

/// The store file is byte for byte the same after everything the test reads.
struct Untouched(std::path::PathBuf, Vec<u8>);

impl Untouched {
    fn new(p: &Path) -> Self {
        Untouched(p.to_path_buf(), std::fs::read(p).unwrap())
    }
}

impl Drop for Untouched {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            assert_eq!(
                std::fs::read(&self.0).unwrap(),
                self.1,
                "the fixture was written to"
            );
        }
    }
}

/// What every layout must give for its seed account.
fn assert_bank(db: &str, stream: &str, jq: &str, extra: &[&str]) {
    let with = |args: &[&str]| -> Vec<String> {
        args.iter().chain(extra).map(|a| a.to_string()).collect()
    };
    let args = with(&[
        "state",
        db,
        stream,
        "--reducer",
        jq,
        "--json",
        "--at",
        "1,2,3,4",
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let balances: Vec<Value> = lines(&ok(&args))
        .iter()
        .map(|s| s["balance"].clone())
        .collect();
    let n = |v: &Value| v.as_f64().unwrap();
    assert_eq!(
        balances.iter().map(n).collect::<Vec<_>>(),
        vec![0.0, 100.0, 70.0, 120.0],
        "{db}"
    );
    let args = with(&[
        "diff",
        db,
        stream,
        "--from",
        "2",
        "--to",
        "4",
        "--reducer",
        jq,
        "--json",
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let diff: Value = serde_json::from_str(&ok(&args)).unwrap();
    assert_eq!(diff[0]["path"], "/balance");
    assert_eq!(n(&diff[0]["old"]), 100.0);
    assert_eq!(n(&diff[0]["new"]), 120.0);
}

#[test]
fn python_eventsourcing_plain_and_zlib() {
    let dir = tempfile::tempdir().unwrap();
    let jq = reducer(dir.path());
    for compress in [false, true] {
        let db = common::eventsourcing(dir.path(), compress);
        let _guard = Untouched::new(&db);
        let db = s(&db);
        let streams = lines(&ok(&["streams", db, "--json"]));
        assert_eq!(
            streams[0],
            json!({"stream_id": common::ACCOUNT_HEX, "category": "BankAccount", "events": 4, "first_version": 1, "last_version": 4})
        );
        assert_eq!(streams[1]["events"], 2);

        let events = lines(&ok(&[
            "events",
            db,
            "--stream",
            common::ACCOUNT_HEX,
            "--json",
        ]));
        assert_eq!(events.len(), 4);
        assert_eq!(events[1]["type"], "Deposited");
        assert_eq!(
            events[1]["topic"],
            "bankaccounts.domainmodel:BankAccount.Deposited"
        );
        // The decimal as the application stored it, digits and all.
        assert_eq!(events[1]["data"].to_string(), r#"{"amount":100.00}"#);
        assert_eq!(events[1]["timestamp"], "2024-03-01T09:02:00.000000Z");
        assert_eq!(events[0]["data"]["full_name"], "Alice");
        let positions: Vec<i64> = events
            .iter()
            .map(|e| e["global_position"].as_i64().unwrap())
            .collect();
        assert_eq!(positions, vec![1, 3, 4, 5], "global order is the rowid");

        // The encrypted event is marked; the log around it still reads.
        let all = lines(&ok(&["events", db, "--json"]));
        assert_eq!(all.len(), 6);
        let secret = &all[5];
        assert!(
            secret["undecodable"]
                .as_str()
                .unwrap()
                .contains("encrypted"),
            "{secret}"
        );
        assert_eq!(secret["data"], Value::Null);
        let deposits = lines(&ok(&[
            "events",
            db,
            "--type",
            "Deposited",
            "--limit",
            "1",
            "--json",
        ]));
        assert_eq!(deposits.len(), 1);
        assert_eq!(deposits[0]["global_position"], 3);

        assert_bank(db, common::ACCOUNT_HEX, &jq, &["--no-snapshots"]);
        // The stored snapshot is the application's aggregate: it never silently becomes
        // the state, and opting in needs a mapping.
        let state_at = |extra: &[&str]| {
            let mut args = vec!["state", db, common::ACCOUNT_HEX, "--at", "2", "--json"];
            args.extend(extra);
            lines(&ok(&args))
        };
        assert_eq!(state_at(&[]), state_at(&["--no-snapshots"]));
        assert!(state_at(&[])[0].get("state").is_none());
        let err = fails(&["state", db, common::ACCOUNT_HEX, "--from-snapshots"]);
        assert!(err.contains("needs a mapping"), "{err}");
        let map = dir.path().join("map.jq");
        std::fs::write(&map, "{balance}").unwrap();
        let mapped = lines(&ok(&[
            "state",
            db,
            common::ACCOUNT_HEX,
            "--at",
            "3",
            "--reducer",
            &jq,
            "--from-snapshots",
            "--snapshot-map",
            s(&map),
            "--json",
            "--envelope",
        ]));
        assert_eq!(
            mapped[0]["from_snapshot"], 2,
            "the answer names its snapshot"
        );
        assert_eq!(mapped[0]["state"]["balance"].as_f64(), Some(70.0));
        let at_time = lines(&ok(&[
            "state",
            db,
            common::ACCOUNT_HEX,
            "--at-time",
            "2024-03-01T09:03:30Z",
            "--reducer",
            &jq,
            "--no-snapshots",
            "--json",
        ]));
        assert_eq!(at_time[0]["balance"], 70.0);
        let snaps = lines(&ok(&["snapshots", db, "--json"]));
        assert_eq!(snaps.len(), 1);
        assert_eq!(snaps[0]["stream_id"], common::ACCOUNT_HEX);
        assert_eq!(snaps[0]["version"], 2);
        assert_eq!(snaps[0]["topic"], "bankaccounts.domainmodel:BankAccount");
        assert_eq!(snaps[0]["data"]["balance"], 100.0, "unwrapped and untagged");
        assert_eq!(
            snaps[0]["data"]["_created_on"],
            "2024-03-01T09:00:00.000000+00:00"
        );
    }
}

#[test]
fn reducer_folders_pick_by_aggregate_class() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::eventsourcing(dir.path(), true);
    let folder = dir.path().join("reducers");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("BankAccount.jq"), BALANCE_JQ).unwrap();
    let state = lines(&ok(&[
        "state",
        s(&db),
        common::ACCOUNT_HEX,
        "--reducer",
        s(&folder),
        "--no-snapshots",
        "--json",
    ]));
    assert_eq!(state[0]["balance"], 120.0);
}

#[test]
fn emmett_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let jq = reducer(dir.path());
    let db = common::emmett(dir.path());
    let _guard = Untouched::new(&db);
    let db = s(&db);
    let streams = lines(&ok(&["streams", db, "--json"]));
    assert_eq!(
        streams,
        vec![
            json!({"stream_id": "bank_account-acc-1", "category": "bank_account", "events": 4, "first_version": 1, "last_version": 4})
        ],
        "archived messages and commands are not events"
    );
    let events = lines(&ok(&["events", db, "--json"]));
    assert_eq!(events.len(), 4);
    assert_eq!(
        events[0]["timestamp"], "2024-03-01T09:01:00Z",
        "as stored, in UTC"
    );
    assert_eq!(events[0]["schema_version"], "1");
    assert_eq!(events[0]["event_id"], "m-1");
    assert_eq!(events[1]["metadata"]["streamPosition"], "2");
    assert_bank(db, "bank_account-acc-1", &jq, &[]);
}

#[test]
fn cqrs_es_with_sqlite_es() {
    let dir = tempfile::tempdir().unwrap();
    let jq = reducer(dir.path());
    let db = common::cqrs_es(dir.path());
    let _guard = Untouched::new(&db);
    let db = s(&db);
    let streams = lines(&ok(&["streams", db, "--json"]));
    assert_eq!(
        streams,
        vec![
            json!({"stream_id": "BankAccount-ACC-0002", "category": "BankAccount", "events": 4, "first_version": 1, "last_version": 4})
        ]
    );
    let events = lines(&ok(&["events", db, "--json"]));
    assert_eq!(events[1]["type"], "CustomerDepositedMoney");
    assert_eq!(
        events[1]["data"],
        json!({"amount": 100.0, "balance": 100.0})
    );
    assert_eq!(events[1]["schema_version"], "1.0");
    assert_eq!(events[1]["metadata"], json!({"user_id": "u-7"}));
    assert_eq!(
        events[1]["timestamp"],
        Value::Null,
        "cqrs-es records no times"
    );
    assert_bank(db, "BankAccount-ACC-0002", &jq, &["--no-snapshots"]);
    // Merge with the snapshot at 3 as the start: its balance, then the last deposit's.
    let merged = lines(&ok(&["state", db, "BankAccount-ACC-0002", "--json"]));
    assert_eq!(
        merged[0],
        json!({"account_id": "ACC-0002", "balance": 120.0, "amount": 50.0})
    );
    let err = fails(&["state", db, "BankAccount-ACC-0002", "--at-time", "2024"]);
    assert!(err.contains("has no event times"), "{err}");
}

#[test]
fn message_db_layout() {
    let dir = tempfile::tempdir().unwrap();
    let jq = reducer(dir.path());
    let db = common::message_db(dir.path());
    let _guard = Untouched::new(&db);
    let db = s(&db);
    let streams = lines(&ok(&["streams", db, "--json"]));
    assert_eq!(streams[0]["stream_id"], "account-123");
    assert_eq!(streams[1]["stream_id"], "account:command-123");
    assert_eq!(streams[1]["category"], "account:command");
    assert_eq!(streams[0]["last_version"], 4);
    let events = lines(&ok(&["events", db, "--stream", "account-123", "--json"]));
    assert_eq!(events[0]["version"], 1);
    assert_eq!(events[0]["original_position"], 0);
    assert_eq!(events[3]["original_position"], 3);
    assert_eq!(
        events[0]["timestamp"], "2024-03-01T09:01:00.123456Z",
        "microseconds kept"
    );
    assert_bank(db, "account-123", &jq, &[]);
}

#[test]
fn home_grown_schema_with_map() {
    let dir = tempfile::tempdir().unwrap();
    let jq = reducer(dir.path());
    let db = common::homegrown(dir.path());
    let _guard = Untouched::new(&db);
    let db = s(&db);
    let err = fails(&["streams", db]);
    assert!(
        err.contains("tables: journal") && err.contains("--map"),
        "{err}"
    );
    let map = "table=journal,stream=entity,version=rev,type=kind,data=body,time=at,position=seq";
    let streams = lines(&ok(&["streams", db, "--map", map, "--json"]));
    assert_eq!(
        streams,
        vec![
            json!({"stream_id": "acct-1", "category": "acct", "events": 4, "first_version": 1, "last_version": 4})
        ]
    );
    let events = lines(&ok(&["events", db, "--map", map, "--json", "--from", "25"]));
    assert_eq!(events[0]["global_position"], 30);
    assert_eq!(events[0]["event_id"], "acct-1@3");
    assert_bank(db, "acct-1", &jq, &["--map", map]);
    // The same mapping from a file.
    let file = dir.path().join("journal.map");
    std::fs::write(
        &file,
        "# journal columns\ntable=journal\nstream=entity\nversion=rev\ntype=kind\ndata=body\n",
    )
    .unwrap();
    let streams = lines(&ok(&["streams", db, "--map", s(&file), "--json"]));
    assert_eq!(streams[0]["events"], 4);
    let err = fails(&["streams", db, "--map", "table=journal,stream=who"]);
    assert!(err.contains("no column \"who\""), "{err}");
}

#[test]
fn format_can_be_forced_and_must_fit() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::emmett(dir.path());
    let streams = lines(&ok(&["streams", s(&db), "--format", "emmett", "--json"]));
    assert_eq!(streams.len(), 1);
    let err = fails(&["streams", s(&db), "--format", "cqrs-es"]);
    assert!(
        err.contains("not a cqrs-es store") && err.contains("aggregate_type"),
        "{err}"
    );
    let out = common::bin::run(&["streams", s(&db), "--format", "kafka"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown format is a usage mistake"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown format \"kafka\""), "{err}");
}

#[test]
fn formats_lists_every_layout() {
    let out = ok(&["formats"]);
    for name in [
        "native",
        "eventsourcing",
        "emmett",
        "cqrs-es",
        "message-db",
        "rails-event-store",
        "eventsauce",
        "map",
    ] {
        assert!(
            out.lines().any(|l| l.trim_start().starts_with(name)),
            "{name} missing:\n{out}"
        );
    }
    let json = lines(&ok(&["formats", "--json"]));
    let names = |backend: &str| -> Vec<String> {
        json.iter()
            .filter(|f| f["backend"] == backend)
            .map(|f| f["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names("sqlite").len(), 8);
    assert_eq!(
        names("postgres"),
        [
            "message-db",
            "marten",
            "emmett",
            "eventsourcing",
            "cqrs-es",
            "go-mink",
            "commanded",
            "eventuous",
            "axon",
            "akka",
            "akka-r2dbc",
            "rails-event-store"
        ]
    );
    assert_eq!(
        names("mysql"),
        ["native", "rails-event-store", "eventsauce", "axon", "akka"]
    );
    assert!(json[1]["maps"].as_str().unwrap().contains("zlib"));
}

#[test]
fn other_layouts_are_never_written() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::emmett(dir.path());
    let file = dir.path().join("in.ndjson");
    std::fs::write(
        &file,
        "{\"stream_id\":\"A-1\",\"version\":1,\"type\":\"X\",\"data\":{}}\n",
    )
    .unwrap();
    let _guard = Untouched::new(&db);
    let err = fails(&["import", s(&file), "--out", s(&db)]);
    assert!(
        err.contains("already exists; import writes a new store"),
        "{err}"
    );
}

/// `--map` over a table whose stream and id columns are 16-byte UUIDs: shown as canonical
/// UUIDs, and a stream is found by its UUID.
#[test]
fn map_reads_binary_ids_as_uuids() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "CREATE TABLE ledger (seq INTEGER PRIMARY KEY, entity BINARY(16) NOT NULL, rev INTEGER NOT NULL,
           eid BLOB NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL);
         CREATE INDEX by_entity ON ledger (entity, rev);
         INSERT INTO ledger VALUES
           (1, x'0d6a3b3e5f8c4a7e9a571b2c3d4e5f60', 1, x'00000000000040008000000000000001', 'Opened', '{\"owner\": \"ann\"}'),
           (2, x'7f3e2d1c0b9a48768543210fedcba987', 1, x'00000000000040008000000000000002', 'Opened', '{\"owner\": \"bob\"}'),
           (3, x'0d6a3b3e5f8c4a7e9a571b2c3d4e5f60', 2, x'00000000000040008000000000000003', 'Renamed', '{\"owner\": \"amy\"}');",
    )
    .unwrap();
    drop(conn);
    let map = "table=ledger,position=seq,stream=entity,version=rev,id=eid,type=kind,data=body";
    let streams = lines(&ok(&["streams", s(&db), "--map", map, "--json"]));
    let ids: Vec<&str> = streams
        .iter()
        .map(|v| v["stream_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "0d6a3b3e-5f8c-4a7e-9a57-1b2c3d4e5f60",
            "7f3e2d1c-0b9a-4876-8543-210fedcba987"
        ]
    );
    let got = lines(&ok(&[
        "events",
        s(&db),
        "--map",
        map,
        "--stream",
        "0d6a3b3e-5f8c-4a7e-9a57-1b2c3d4e5f60",
        "--json",
    ]));
    let seen: Vec<(i64, &str)> = got
        .iter()
        .map(|e| {
            (
                e["version"].as_i64().unwrap(),
                e["event_id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (1, "00000000-0000-4000-8000-000000000001"),
            (2, "00000000-0000-4000-8000-000000000003")
        ]
    );
}

//! Fixtures written the way each library writes its store: the same DDL, the same
//! encodings. Each holds one bank account with the seed's history (opened, +100, −30,
//! +50) so that every layout must come to a balance of 120.
#![allow(dead_code, clippy::unwrap_used)]

pub mod bin;
pub mod certs;
pub mod follower;
pub mod mysql;
pub mod node;
pub mod pg;
pub mod pty;
pub mod python;

/// The names of the files in `dir`, sorted: what a command left beside a store.
pub fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

use std::io::Write;
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection};

pub const ACCOUNT_HEX: &str = "4c0ec6ab7e0e4b3c8c4a4e7ab3f5f7a1";
pub const OTHER_HEX: &str = "9d1e2f3a4b5c4d6e8f70819a2b3c4d5e";

fn fresh(dir: &Path, name: &str) -> (PathBuf, Connection) {
    let path = dir.join(name);
    let conn = Connection::open(&path).unwrap();
    (path, conn)
}

fn zlib(b: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(b).unwrap();
    z.finish().unwrap()
}

fn dt(minute: u32) -> String {
    format!(r#"{{"_type_":"datetime_iso","_data_":"2024-03-01T09:{minute:02}:00.000000+00:00"}}"#)
}

fn dec(s: &str) -> String {
    format!(r#"{{"_type_":"decimal_str","_data_":"{s}"}}"#)
}

/// Python `eventsourcing` with SQLite persistence: the application recorder's
/// `stored_events` (rowid = notification id) and the aggregate recorder's
/// `stored_snapshots` (WITHOUT ROWID). State is the transcoder's compact JSON, optionally
/// zlib-compressed; one event of a second aggregate is encrypted (random bytes).
pub fn eventsourcing(dir: &Path, compress: bool) -> PathBuf {
    let (path, c) = fresh(
        dir,
        if compress {
            "es-zlib.sqlite"
        } else {
            "es.sqlite"
        },
    );
    c.execute_batch(
        "CREATE TABLE IF NOT EXISTS stored_events (originator_id TEXT, originator_version INTEGER, topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version));
         CREATE TABLE IF NOT EXISTS stored_snapshots (originator_id TEXT, originator_version INTEGER, topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version)) WITHOUT ROWID;",
    )
    .unwrap();
    let t = "bankaccounts.domainmodel:BankAccount";
    let rows: Vec<(&str, i64, String, String)> = vec![
        (
            ACCOUNT_HEX,
            1,
            format!("{t}.Opened"),
            format!(
                r#"{{"timestamp":{},"originator_topic":"{t}","full_name":"Alice","email_address":"alice@example.com"}}"#,
                dt(0)
            ),
        ),
        (
            OTHER_HEX,
            1,
            format!("{t}.Opened"),
            format!(
                r#"{{"timestamp":{},"originator_topic":"{t}","full_name":"Bob","email_address":"bob@example.com"}}"#,
                dt(1)
            ),
        ),
        (
            ACCOUNT_HEX,
            2,
            format!("{t}.Deposited"),
            format!(r#"{{"timestamp":{},"amount":{}}}"#, dt(2), dec("100.00")),
        ),
        (
            ACCOUNT_HEX,
            3,
            format!("{t}.Withdrawn"),
            format!(r#"{{"timestamp":{},"amount":{}}}"#, dt(3), dec("30.00")),
        ),
        (
            ACCOUNT_HEX,
            4,
            format!("{t}.Deposited"),
            format!(r#"{{"timestamp":{},"amount":{}}}"#, dt(4), dec("50.00")),
        ),
    ];
    for (id, v, topic, state) in rows {
        let bytes = if compress {
            zlib(state.as_bytes())
        } else {
            state.into_bytes()
        };
        c.execute(
            "INSERT INTO stored_events VALUES (?,?,?,?)",
            params![id, v, topic, bytes],
        )
        .unwrap();
    }
    // AES-GCM output: nonce, ciphertext and tag, no structure to read.
    let cipher: Vec<u8> = (0..48u32)
        .map(|i| (i.wrapping_mul(73) ^ 0xa5) as u8 | 0x80)
        .collect();
    c.execute(
        "INSERT INTO stored_events VALUES (?,?,?,?)",
        params![OTHER_HEX, 2, format!("{t}.Deposited"), cipher],
    )
    .unwrap();
    // eventsourcing's Snapshot event as its mapper stores it: the event's own fields, with
    // the aggregate's attributes (less _id, _version, _pending_events) under `state`.
    let snapshot = format!(
        r#"{{"timestamp":{},"topic":"{t}","state":{{"_created_on":{},"_modified_on":{},"full_name":"Alice","email_address":"alice@example.com","balance":{}}}}}"#,
        dt(5),
        dt(0),
        dt(2),
        dec("100.00")
    );
    let snapshot = if compress {
        zlib(snapshot.as_bytes())
    } else {
        snapshot.into_bytes()
    };
    c.execute(
        "INSERT INTO stored_snapshots VALUES (?,?,?,?)",
        params![ACCOUNT_HEX, 2, "eventsourcing.domain:Snapshot", snapshot],
    )
    .unwrap();
    path
}

/// Emmett's SQLite event store: `emt_streams` and `emt_messages` as its schema creates
/// them, with an archived copy and a command that must not show as events.
pub fn emmett(dir: &Path) -> PathBuf {
    let (path, c) = fresh(dir, "emmett.sqlite");
    c.execute_batch(
        "CREATE TABLE IF NOT EXISTS emt_streams(
            stream_id         TEXT                      NOT NULL,
            stream_position   BIGINT                    NOT NULL DEFAULT 0,
            partition         TEXT                      NOT NULL DEFAULT 'global',
            stream_type       TEXT                      NOT NULL,
            stream_metadata   JSONB                     NOT NULL,
            is_archived       BOOLEAN                   NOT NULL DEFAULT FALSE,
            PRIMARY KEY (stream_id, partition, is_archived),
            UNIQUE (stream_id, partition, is_archived)
        );
        CREATE TABLE IF NOT EXISTS emt_messages(
            stream_id              TEXT                      NOT NULL,
            stream_position        BIGINT                    NOT NULL,
            partition              TEXT                      NOT NULL DEFAULT 'global',
            message_kind           CHAR(1)                   NOT NULL DEFAULT 'E',
            message_data           JSONB                     NOT NULL,
            message_metadata       JSONB                     NOT NULL,
            message_schema_version TEXT                      NOT NULL,
            message_type           TEXT                      NOT NULL,
            message_id             TEXT                      NOT NULL,
            is_archived            BOOLEAN                   NOT NULL DEFAULT FALSE,
            global_position        INTEGER                   PRIMARY KEY,
            created                DATETIME                  DEFAULT CURRENT_TIMESTAMP,
            UNIQUE (stream_id, stream_position, partition, is_archived)
        );",
    )
    .unwrap();
    let s = "bank_account-acc-1";
    let msgs = [
        (
            1,
            "AccountOpened",
            r#"{"accountId":"acc-1","ownerName":"Alice"}"#,
            'E',
            false,
        ),
        (2, "MoneyDeposited", r#"{"amount":100}"#, 'E', false),
        (3, "MoneyWithdrawn", r#"{"amount":30}"#, 'E', false),
        (4, "MoneyDeposited", r#"{"amount":50}"#, 'E', false),
    ];
    let mut g = 0;
    for (pos, ty, data, kind, archived) in msgs {
        g += 1;
        let meta = format!(
            r#"{{"messageId":"m-{g}","streamName":"{s}","streamPosition":"{pos}","globalPosition":"{g}"}}"#
        );
        c.execute(
            "INSERT INTO emt_messages (stream_id, stream_position, partition, message_kind, message_data, message_metadata, message_schema_version, message_type, message_id, is_archived, global_position, created)
             VALUES (?, ?, 'global', ?, ?, ?, '1', ?, ?, ?, ?, ?)",
            params![s, pos, kind.to_string(), data, meta, ty, format!("m-{g}"), archived, g, format!("2024-03-01 09:0{g}:00")],
        )
        .unwrap();
    }
    // An archived copy of a stream and a command message: neither is an event to show.
    c.execute(
        "INSERT INTO emt_messages VALUES ('bank_account-old', 1, 'global', 'E', '{\"amount\":1}', '{}', '1', 'MoneyDeposited', 'm-5', TRUE, 5, '2024-03-01 09:05:00')",
        [],
    )
    .unwrap();
    c.execute(
        "INSERT INTO emt_messages VALUES ('bank_account-acc-1', 5, 'global', 'C', '{\"amount\":9}', '{}', '1', 'DepositMoney', 'm-6', FALSE, 6, '2024-03-01 09:06:00')",
        [],
    )
    .unwrap();
    c.execute(
        "INSERT INTO emt_streams VALUES (?, 4, 'global', 'bank_account', '{}', FALSE)",
        [s],
    )
    .unwrap();
    path
}

/// cqrs-es with sqlite-es: `events` keyed by aggregate type, id and sequence, payloads as
/// externally tagged enums, and `snapshots`. No event times.
pub fn cqrs_es(dir: &Path) -> PathBuf {
    let (path, c) = fresh(dir, "cqrs.sqlite");
    c.execute_batch(
        "CREATE TABLE events (
            aggregate_type text NOT NULL,
            aggregate_id   text NOT NULL,
            sequence       bigint CHECK (sequence >= 0) NOT NULL,
            event_type     text NOT NULL,
            event_version  text NOT NULL,
            payload        json NOT NULL,
            metadata       json NOT NULL,
            PRIMARY KEY (aggregate_type, aggregate_id, sequence)
        );
        CREATE TABLE snapshots (
            aggregate_type   text NOT NULL,
            aggregate_id     text NOT NULL,
            last_sequence    bigint CHECK (last_sequence >= 0) NOT NULL,
            current_snapshot bigint CHECK (current_snapshot >= 0) NOT NULL,
            payload          json NOT NULL,
            PRIMARY KEY (aggregate_type, aggregate_id, last_sequence)
        );",
    )
    .unwrap();
    let rows = [
        (
            1,
            "AccountOpened",
            r#"{"AccountOpened":{"account_id":"ACC-0002"}}"#,
        ),
        (
            2,
            "CustomerDepositedMoney",
            r#"{"CustomerDepositedMoney":{"amount":100.0,"balance":100.0}}"#,
        ),
        (
            3,
            "CustomerWithdrewCash",
            r#"{"CustomerWithdrewCash":{"amount":30.0,"balance":70.0}}"#,
        ),
        (
            4,
            "CustomerDepositedMoney",
            r#"{"CustomerDepositedMoney":{"amount":50.0,"balance":120.0}}"#,
        ),
    ];
    for (seq, ty, payload) in rows {
        c.execute(
            "INSERT INTO events VALUES ('BankAccount', 'ACC-0002', ?, ?, '1.0', ?, ?)",
            params![seq, ty, payload, r#"{"user_id":"u-7"}"#],
        )
        .unwrap();
    }
    c.execute(
        "INSERT INTO snapshots VALUES ('BankAccount', 'ACC-0002', 3, 1, '{\"account_id\":\"ACC-0002\",\"balance\":70.0}')",
        [],
    )
    .unwrap();
    path
}

/// The Message DB layout: 0-based positions, typed stream names.
pub fn message_db(dir: &Path) -> PathBuf {
    let (path, c) = fresh(dir, "messagedb.sqlite");
    c.execute_batch(
        "CREATE TABLE messages (
            global_position INTEGER PRIMARY KEY,
            position        INTEGER NOT NULL,
            time            TEXT    NOT NULL,
            stream_name     TEXT    NOT NULL,
            type            TEXT    NOT NULL,
            data            TEXT,
            metadata        TEXT,
            id              TEXT    NOT NULL UNIQUE
        );
        CREATE UNIQUE INDEX messages_stream ON messages (stream_name, position);",
    )
    .unwrap();
    let rows = [
        (
            "account:command-123",
            0,
            "Open",
            r#"{"accountId":"123","ownerName":"Alice"}"#,
        ),
        (
            "account-123",
            0,
            "Opened",
            r#"{"accountId":"123","ownerName":"Alice"}"#,
        ),
        ("account-123", 1, "Deposited", r#"{"amount":100}"#),
        ("account-123", 2, "Withdrawn", r#"{"amount":30}"#),
        ("account-123", 3, "Deposited", r#"{"amount":50}"#),
    ];
    for (g, (stream, pos, ty, data)) in rows.iter().enumerate() {
        c.execute(
            "INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            params![
                g as i64 + 1,
                pos,
                format!("2024-03-01 09:0{g}:00.123456"),
                stream,
                ty,
                data,
                r#"{"correlationStreamName":"web-1"}"#,
                format!("00000000-0000-4000-8000-00000000000{g}")
            ],
        )
        .unwrap();
    }
    path
}

/// A home-grown schema, read with `--map`.
pub fn homegrown(dir: &Path) -> PathBuf {
    let (path, c) = fresh(dir, "journal.sqlite");
    c.execute_batch(
        "CREATE TABLE journal (seq INTEGER PRIMARY KEY, entity TEXT, rev INTEGER, kind TEXT, body TEXT, at TEXT);
         INSERT INTO journal VALUES (10, 'acct-1', 1, 'Opened', '{\"owner\":\"Alice\"}', '2024-03-01T09:00:00Z');
         INSERT INTO journal VALUES (20, 'acct-1', 2, 'Deposited', '{\"amount\":100}', '2024-03-01T09:01:00Z');
         INSERT INTO journal VALUES (30, 'acct-1', 3, 'Withdrawn', '{\"amount\":30}', '2024-03-01T09:02:00Z');
         INSERT INTO journal VALUES (40, 'acct-1', 4, 'Deposited', '{\"amount\":50}', '2024-03-01T09:03:00Z');",
    )
    .unwrap();
    path
}

/// The state real jq (the `jq` program, not eventscope) folds from `events` with the
/// reducer in the file `program`: `reduce .[] as $event (null; …)`; `None` where jq fails.
pub fn jq_fold(events: &[serde_json::Value], program: &Path) -> Option<serde_json::Value> {
    let code = std::fs::read_to_string(program).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("events.json");
    std::fs::write(&input, serde_json::to_string(events).unwrap()).unwrap();
    let out = std::process::Command::new("jq")
        .args(["-c", &format!("reduce .[] as $event (null; {code})")])
        .arg(&input)
        .output()
        .expect("jq runs");
    out.status
        .success()
        .then(|| serde_json::from_slice(&out.stdout).unwrap())
}

/// Runs tests/fixtures/`script` with `python` and `args`; its JSON lines (a fixture that
/// writes a store prints what it expects of it). Fails with its stderr.
#[allow(dead_code)]
pub fn fixture_lines(python: &Path, script: &str, args: &[&str]) -> Vec<serde_json::Value> {
    let path = format!("{}/tests/fixtures/{script}", env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new(python)
        .arg(path)
        .args(args)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    bin::lines(&String::from_utf8(out.stdout).unwrap())
}

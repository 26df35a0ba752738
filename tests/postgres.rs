//! PostgreSQL stores through the binary, on real servers started here: each library's
//! layout, created with its own DDL and encodings, read by `streams`, `events`, `state`,
//! `diff` and `check`; the replay compared with the bank account's own fold; the database
//! unchanged afterwards; `--follow` seeing a late commit exactly once.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use common::bin::{bin, fails, lines, ok};
use common::follower::Follower;
use common::pg::{fingerprint, go_mink_sql, minute, values, Cluster, HISTORY, MESSAGE_DB_DDL};
use serde_json::{json, Value};

const REDUCER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pg/bank.jq");

/// The bank account's own fold of HISTORY, independent of eventscope's replay.
fn expected_account() -> Value {
    let mut balance = 0;
    for (ty, data) in HISTORY {
        let v: Value = serde_json::from_str(data).unwrap();
        match ty {
            "Deposited" => balance += v["amount"].as_i64().unwrap(),
            "Withdrawn" => balance -= v["amount"].as_i64().unwrap(),
            _ => {}
        }
    }
    json!({"owner": "ann", "balance": balance})
}

/// What a layout's check expects of the account stream.
struct Expect<'a> {
    stream: &'a str,
    category: &'a str,
    /// Events the whole log shows by default.
    total: usize,
    /// What `check` must report (nothing: it passes).
    problems: &'a [&'a str],
    /// Given to every command (`--map`).
    args: &'a [&'a str],
}

/// Every command on one layout, and the database unchanged afterwards.
fn check_layout(cluster: &Cluster, db: &str, url: &str, expect: Expect) {
    let before = fingerprint(&mut cluster.client(db));
    let ok = |args: &[&str]| ok(&[args, expect.args].concat());
    let streams = lines(&ok(&["streams", url, "--json"]));
    let account = streams
        .iter()
        .find(|s| s["stream_id"] == expect.stream)
        .unwrap_or_else(|| panic!("{db}: {} not in {streams:?}", expect.stream));
    assert_eq!(account["events"], 4, "{db}: {account}");
    assert_eq!(account["last_version"], 4, "{db}: {account}");
    assert_eq!(account["category"], expect.category, "{db}: {account}");

    let events = lines(&ok(&["events", url, "--json"]));
    assert_eq!(events.len(), expect.total, "{db}: {events:?}");
    let positions: Vec<i64> = events
        .iter()
        .map(|e| e["global_position"].as_i64().unwrap())
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "{db}: {positions:?}"
    );
    let mine: Vec<&Value> = events
        .iter()
        .filter(|e| e["stream_id"] == expect.stream)
        .collect();
    let types: Vec<&str> = mine.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        ["Opened", "Deposited", "Withdrawn", "Deposited"],
        "{db}"
    );
    let versions: Vec<i64> = mine
        .iter()
        .map(|e| e["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [1, 2, 3, 4], "{db}");

    let state: Value = serde_json::from_str(&ok(&[
        "state",
        url,
        expect.stream,
        "--reducer",
        REDUCER,
        "--json",
    ]))
    .unwrap();
    assert_eq!(state, expected_account(), "{db}");
    let at_two: Value = serde_json::from_str(&ok(&[
        "state",
        url,
        expect.stream,
        "--reducer",
        REDUCER,
        "--at",
        "2",
        "--json",
    ]))
    .unwrap();
    assert_eq!(at_two["balance"], 100, "{db}");

    let diff = lines(&ok(&[
        "diff",
        url,
        expect.stream,
        "--reducer",
        REDUCER,
        "--from",
        "2",
        "--to",
        "4",
        "--json",
    ]));
    assert_eq!(
        diff,
        [json!([{"path": "/balance", "op": "changed", "old": 100, "new": 120}])],
        "{db}"
    );
    let check = bin()
        .args(["check", url])
        .args(expect.args)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&check.stdout);
    assert_eq!(
        check.status.success(),
        expect.problems.is_empty(),
        "{db}: {report}{}",
        String::from_utf8_lossy(&check.stderr)
    );
    for p in expect.problems {
        assert!(report.contains(p), "{db}: {p:?} not in {report}");
    }

    assert_eq!(before, fingerprint(&mut cluster.client(db)), "{db} changed");
}

#[test]
fn message_db() {
    let Some(pg) = Cluster::available() else {
        return;
    };
    let mut rows = Vec::new();
    for (i, (ty, data)) in HISTORY.iter().enumerate() {
        rows.push(format!(
            "({i}, '{}', 'account-acc1', '{ty}', '{data}', '{{\"correlationStreamName\": \"x\"}}')",
            minute(i).trim_end_matches("+00")
        ));
    }
    rows.push(format!(
        "(0, '{}', 'account-acc2', 'Opened', '{{\"owner\": \"bob\"}}', NULL)",
        minute(5).trim_end_matches("+00")
    ));
    let sql = format!(
        "{MESSAGE_DB_DDL}
         INSERT INTO message_store.messages (position, time, stream_name, type, data, metadata) VALUES {};",
        values(&rows)
    );
    let url = pg.database("mdb", &sql);
    check_layout(
        pg,
        "mdb",
        &url,
        Expect {
            stream: "account-acc1",
            category: "account",
            total: 5,
            problems: &[],
            args: &[],
        },
    );
    // Positions stay visible as stored (0-based).
    let events = lines(&ok(&["events", &url, "--stream", "account-acc1", "--json"]));
    assert_eq!(events[0]["original_position"], 0);
    assert_eq!(events[0]["timestamp"], "2024-03-01T09:00:00.123456Z");
    // Eventide's consumer positions: the global position of the last message read, in
    // a position stream of the category; the position streams' own messages are of
    // another category (account:position).
    let mut c = pg.client("mdb");
    c.batch_execute(
        "INSERT INTO message_store.messages (position, time, stream_name, type, data) VALUES
           (0, now(), 'account:position-projector', 'Recorded', '{\"position\": 2}'),
           (1, now(), 'account:position-projector', 'Recorded', '{\"position\": 5}'),
           (0, now(), 'account:position-mailer', 'Recorded', '{\"position\": 3}');",
    )
    .unwrap();
    let found = consumers_against_sql(
        &mut c,
        &url,
        "SELECT count(*)::int8, min(global_position)::int8, (SELECT max(global_position)::int8 FROM message_store.messages WHERE split_part(stream_name, '-', 1) = 'account') FROM message_store.messages WHERE split_part(stream_name, '-', 1) = 'account' AND global_position > $1",
    );
    assert_eq!(found, ["mailer", "projector"]);
}

#[test]
fn marten_with_tenants_archives_and_headers() {
    let Some(pg) = Cluster::available() else {
        return;
    };
    let acc = "5f0c1d2e-0000-4000-8000-000000000001";
    let archived = "5f0c1d2e-0000-4000-8000-000000000002";
    let mut rows = Vec::new();
    for (i, (ty, data)) in HISTORY.iter().enumerate() {
        rows.push(format!(
            "({}, gen_random_uuid(), '{acc}', {}, '{data}', '{}', '{}', '*DEFAULT*', 'Bank.{ty}, Bank', false, 'corr-1', NULL, '{{\"user\": \"ops\"}}')",
            i + 1,
            i + 1,
            ty.to_lowercase(),
            minute(i)
        ));
    }
    rows.push(format!(
        "(5, gen_random_uuid(), '{archived}', 1, '{{\"owner\": \"old\"}}', 'opened', '{}', '*DEFAULT*', 'Bank.Opened, Bank', true, NULL, NULL, NULL)",
        minute(5)
    ));
    let sql = format!(
        "CREATE TABLE mt_streams (
           id uuid NOT NULL, type varchar NULL, version bigint NULL,
           timestamp timestamptz DEFAULT (now()) NOT NULL, snapshot jsonb NULL, snapshot_version integer NULL,
           created timestamptz DEFAULT (now()) NOT NULL, tenant_id varchar DEFAULT '*DEFAULT*',
           mt_dotnet_type varchar NULL, is_archived bool DEFAULT FALSE,
           CONSTRAINT pkey_mt_streams_id PRIMARY KEY (id));
         CREATE SEQUENCE mt_events_sequence;
         CREATE TABLE mt_events (
           seq_id bigint NOT NULL, id uuid NOT NULL, stream_id uuid NULL, version bigint NOT NULL,
           data jsonb NOT NULL, type varchar(500) NOT NULL, timestamp timestamptz DEFAULT '(now())' NOT NULL,
           tenant_id varchar DEFAULT '*DEFAULT*', mt_dotnet_type varchar NULL, is_archived bool DEFAULT FALSE,
           correlation_id varchar NULL, causation_id varchar NULL, headers jsonb NULL,
           CONSTRAINT pkey_mt_events_seq_id PRIMARY KEY (seq_id),
           CONSTRAINT fkey_mt_events_stream_id FOREIGN KEY (stream_id) REFERENCES mt_streams(id) ON DELETE CASCADE);
         CREATE UNIQUE INDEX pk_mt_events_stream_and_version ON mt_events (stream_id, version);
         INSERT INTO mt_streams (id, type, version, tenant_id, is_archived) VALUES
           ('{acc}', 'bank_account', 4, '*DEFAULT*', false), ('{archived}', 'bank_account', 1, '*DEFAULT*', true);
         INSERT INTO mt_events VALUES {};",
        values(&rows)
    );
    // Marten stores type aliases in snake case; the reducer reads the bank's names.
    let sql = sql
        .replace("'opened'", "'Opened'")
        .replace("'deposited'", "'Deposited'")
        .replace("'withdrawn'", "'Withdrawn'");
    let url = pg.database("marten", &sql);
    check_layout(
        pg,
        "marten",
        &url,
        Expect {
            stream: acc,
            category: "bank_account",
            total: 4,
            problems: &[],
            args: &[],
        },
    );
    let events = lines(&ok(&["events", &url, "--json"]));
    assert_eq!(events[0]["metadata"]["correlation_id"], "corr-1");
    assert_eq!(events[0]["metadata"]["user"], "ops");
    let all = lines(&ok(&["events", &url, "--archived", "--json"]));
    assert_eq!(all.len(), 5, "--archived shows the archived stream's event");
    // Marten's daemon progress, as its DDL has it; the high water mark is no consumer.
    let mut c = pg.client("marten");
    c.batch_execute(
        "CREATE TABLE mt_event_progression (name varchar NOT NULL, last_seq_id bigint NULL,
           last_updated timestamp with time zone NULL DEFAULT transaction_timestamp(),
           CONSTRAINT pk_mt_event_progression PRIMARY KEY (name));
         INSERT INTO mt_event_progression VALUES ('HighWaterMark', 5, now()),
           ('Account:All', 4, now()), ('Ledger:All', 2, '2024-03-01 10:00:00+00');",
    )
    .unwrap();
    let found = consumers_against_sql(
        &mut c,
        &url,
        "SELECT count(*)::int8, min(seq_id), (SELECT max(seq_id) FROM mt_events WHERE NOT is_archived) FROM mt_events WHERE NOT is_archived AND seq_id > $1",
    );
    assert_eq!(found, ["Ledger:All", "Account:All"]);
    // Marten's dead letters (its DeadLetterEvent documents): each on its shard, with the
    // event it failed on; one names an event the store no longer has.
    c.batch_execute(
        "CREATE TABLE mt_doc_deadletterevent (id uuid NOT NULL, data jsonb NOT NULL,
           mt_last_modified timestamp with time zone NULL DEFAULT (transaction_timestamp()),
           mt_version uuid NOT NULL DEFAULT (md5(random()::text || clock_timestamp()::text)::uuid),
           mt_dotnet_type varchar NULL, CONSTRAINT pkey_mt_doc_deadletterevent_id PRIMARY KEY (id));
         INSERT INTO mt_doc_deadletterevent (id, data) VALUES
           (gen_random_uuid(), '{\"ProjectionName\": \"Ledger\", \"ShardName\": \"All\", \"ExceptionMessage\": \"no such account\", \"ExceptionType\": \"InvalidOperationException\", \"EventSequence\": 3, \"Timestamp\": \"2024-03-01T10:00:00+00:00\"}'),
           (gen_random_uuid(), '{\"projectionName\": \"Ledger\", \"shardName\": \"All\", \"exceptionMessage\": \"gone\", \"eventSequence\": 99}');",
    )
    .unwrap();
    let got = lines(&ok(&["consumers", &url, "--json"]));
    let ledger = got.iter().find(|c| c["consumer"] == "Ledger:All").unwrap();
    let letters = ledger["dead_letters"].as_array().unwrap();
    assert_eq!(letters.len(), 2, "{ledger}");
    assert_eq!(letters[0]["position"], 3);
    assert_eq!(letters[0]["error"], "no such account");
    assert_eq!(letters[0]["error_type"], "InvalidOperationException");
    assert_eq!(letters[0]["event"]["position"], 3);
    assert_eq!(letters[0]["event"]["type"], "Withdrawn");
    assert!(letters[1]["event"].is_null());
    let account = got.iter().find(|c| c["consumer"] == "Account:All").unwrap();
    assert_eq!(account["dead_letters"], json!([]));
    let table = ok(&["consumers", &url]);
    assert!(
        table.contains("Ledger:All: dead letter at #3 ") && table.contains(": no such account"),
        "{table}"
    );
}

/// `consumers --json` on `url`, each consumer's lag, next position and head checked
/// against `tail_sql` (count, first position, last position after `$1`) on the raw
/// tables; the names, in eventscope's order.
fn consumers_against_sql(c: &mut postgres::Client, url: &str, tail_sql: &str) -> Vec<String> {
    let got = lines(&ok(&["consumers", url, "--json"]));
    for k in &got {
        let position = k["position"].as_i64().unwrap_or(i64::MIN);
        let row = c.query_one(tail_sql, &[&position]).unwrap();
        let (lag, next, head): (i64, Option<i64>, Option<i64>) =
            (row.get(0), row.get(1), row.get(2));
        assert_eq!(k["lag"].as_i64(), Some(lag), "{k}");
        assert_eq!(k["next_event"]["position"].as_i64(), next, "{k}");
        assert_eq!(k["head"].as_i64(), head, "{k}");
    }
    got.iter()
        .map(|k| k["consumer"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn emmett_events_only_in_the_default_partition() {
    let Some(pg) = Cluster::available() else {
        return;
    };
    let mut rows = Vec::new();
    for (i, (ty, data)) in HISTORY.iter().enumerate() {
        rows.push(format!(
            "('Account-acc1', {}, 'E', '{data}', '{{}}', '1', '{ty}', 'm{i}', false, '{}')",
            i + 1,
            minute(i)
        ));
    }
    rows.push(format!(
        "('Account-acc1', 5, 'C', '{{}}', '{{}}', '1', 'Close', 'c1', false, '{}')",
        minute(6)
    ));
    rows.push(format!(
        "('Account-old', 1, 'E', '{{\"owner\": \"x\"}}', '{{}}', '1', 'Opened', 'a1', true, '{}')",
        minute(7)
    ));
    let sql = format!(
        "CREATE SEQUENCE emt_global_message_position;
         CREATE TABLE emt_streams(
           stream_id TEXT NOT NULL, stream_position BIGINT NOT NULL DEFAULT 0,
           partition TEXT NOT NULL DEFAULT 'global__global', stream_type TEXT NOT NULL,
           stream_metadata JSONB NOT NULL, is_archived BOOLEAN NOT NULL DEFAULT FALSE,
           PRIMARY KEY (stream_id, stream_position, partition, is_archived)
         ) PARTITION BY LIST (partition);
         CREATE TABLE emt_messages(
           stream_id TEXT NOT NULL, stream_position BIGINT NOT NULL,
           partition TEXT NOT NULL DEFAULT 'global__global', message_kind CHAR(1) NOT NULL DEFAULT 'E',
           message_data JSONB NOT NULL, message_metadata JSONB NOT NULL, message_schema_version TEXT NOT NULL,
           message_type TEXT NOT NULL, message_id TEXT NOT NULL, is_archived BOOLEAN NOT NULL DEFAULT FALSE,
           global_position BIGINT DEFAULT nextval('emt_global_message_position'),
           transaction_id XID8 NOT NULL DEFAULT pg_current_xact_id(),
           created TIMESTAMPTZ NOT NULL DEFAULT now(),
           PRIMARY KEY (stream_id, stream_position, partition, is_archived)
         ) PARTITION BY LIST (partition);
         CREATE TABLE emt_messages_global PARTITION OF emt_messages FOR VALUES IN ('global__global');
         CREATE TABLE emt_streams_global PARTITION OF emt_streams FOR VALUES IN ('global__global');
         INSERT INTO emt_streams (stream_id, stream_position, stream_type, stream_metadata) VALUES ('Account-acc1', 4, 'Account', '{{}}');
         INSERT INTO emt_messages (stream_id, stream_position, message_kind, message_data, message_metadata,
           message_schema_version, message_type, message_id, is_archived, created) VALUES {};",
        values(&rows)
    );
    let url = pg.database("emmett", &sql);
    check_layout(
        pg,
        "emmett",
        &url,
        Expect {
            stream: "Account-acc1",
            category: "Account",
            total: 4,
            problems: &[],
            args: &[],
        },
    );
    follow_sees_late_commits(pg, "emmett", &url, |c, n| {
        c.execute(
            "INSERT INTO emt_messages (stream_id, stream_position, message_data, message_metadata, message_schema_version, message_type, message_id) VALUES ('Account-acc9', $1, '{}', '{}', '1', 'Noted', $2)",
            &[&n, &format!("n{n}")],
        )
        .map(|_| ())
    });
}

/// Python eventsourcing's payload: JSON with its tagged values, maybe zlib-compressed.
fn es_state(ty: &str, data: &str, i: usize, compress: bool) -> String {
    let mut v: Value = serde_json::from_str(data).unwrap();
    v["timestamp"] = json!({"_type_": "datetime_iso", "_data_": format!("2024-03-01T09:{i:02}:00.000000+00:00")});
    if ty == "Opened" {
        v["originator_topic"] = json!("bank.domain:Account");
    }
    let bytes = serde_json::to_vec(&v).unwrap();
    let bytes = if compress {
        use std::io::Write;
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&bytes).unwrap();
        z.finish().unwrap()
    } else {
        bytes
    };
    format!("'\\x{}'::bytea", hex(&bytes))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn python_eventsourcing_with_zlib_and_snapshots() {
    let Some(pg) = Cluster::available() else {
        return;
    };
    let acc = "4c0ec6ab-7e0e-4b3c-8c4a-4e7ab3f5f7a1";
    let mut rows = Vec::new();
    for (i, (ty, data)) in HISTORY.iter().enumerate() {
        rows.push(format!(
            "('{acc}', {}, 'bank.domain:Account.{ty}', {})",
            i + 1,
            es_state(ty, data, i, i % 2 == 1)
        ));
    }
    let snapshot = r#"{"timestamp": {"_type_": "datetime_iso", "_data_": "2024-03-01T09:05:00.000000+00:00"}, "topic": "bank.domain:Account", "state": {"owner": "ann", "balance": 100}}"#;
    let sql = format!(
        "CREATE TABLE bank_events (
           originator_id uuid NOT NULL, originator_version bigint NOT NULL, topic text, state bytea,
           notification_id bigserial, PRIMARY KEY (originator_id, originator_version)) WITH (autovacuum_enabled=false);
         CREATE UNIQUE INDEX IF NOT EXISTS bank_events_notification_id_idx ON bank_events (notification_id ASC);
         CREATE TABLE bank_snapshots (
           originator_id uuid NOT NULL, originator_version bigint NOT NULL, topic text, state bytea,
           PRIMARY KEY (originator_id, originator_version)) WITH (autovacuum_enabled=false);
         INSERT INTO bank_events (originator_id, originator_version, topic, state) VALUES {};
         INSERT INTO bank_snapshots VALUES ('{acc}', 2, 'eventsourcing.domain:Snapshot', convert_to('{snapshot}', 'UTF8'));",
        values(&rows)
    );
    let url = pg.database("es", &sql);
    check_layout(
        pg,
        "es",
        &url,
        Expect {
            stream: acc,
            category: "Account",
            total: 4,
            problems: &[],
            args: &[],
        },
    );
    let snaps = ok(&["snapshots", &url, "--json"]);
    assert!(snaps.contains("\"balance\":100"), "{snaps}");
}

#[test]
fn cqrs_es_postgres() {
    let Some(pg) = Cluster::available() else {
        return;
    };
    let mut rows = Vec::new();
    for (i, (ty, data)) in HISTORY.iter().enumerate() {
        rows.push(format!(
            "('Account', 'acc1', {}, '{ty}', '1.0', '{{\"{ty}\": {data}}}', '{{}}')",
            i + 1
        ));
    }
    rows.push(
        "('Account', 'acc2', 1, 'Opened', '1.0', '{\"Opened\": {\"owner\": \"bob\"}}', '{}')"
            .into(),
    );
    let sql = format!(
        "CREATE TABLE events (
           aggregate_type text NOT NULL, aggregate_id text NOT NULL, sequence bigint CHECK (sequence >= 0) NOT NULL,
           event_type text NOT NULL, event_version text NOT NULL, payload json NOT NULL, metadata json NOT NULL,
           PRIMARY KEY (aggregate_type, aggregate_id, sequence));
         CREATE TABLE snapshots (
           aggregate_type text NOT NULL, aggregate_id text NOT NULL, last_sequence bigint CHECK (last_sequence >= 0) NOT NULL,
           current_snapshot bigint CHECK (current_snapshot >= 0) NOT NULL, payload json NOT NULL,
           PRIMARY KEY (aggregate_type, aggregate_id));
         INSERT INTO events VALUES {};
         INSERT INTO snapshots VALUES ('Account', 'acc1', 2, 1, '{{\"owner\": \"ann\", \"balance\": 100}}');",
        values(&rows)
    );
    let url = pg.database("cqrs", &sql);
    check_layout(
        pg,
        "cqrs",
        &url,
        Expect {
            stream: "Account-acc1",
            category: "Account",
            total: 5,
            problems: &[],
            args: &[],
        },
    );
    let err = fails(&["events", &url, "--follow"]);
    assert!(err.contains("no global order"), "{err}");
    // A cqrs-es view (postgres-es' account_query DDL: view_id, version, payload json), its
    // payloads real jq's fold of each stream's events: it matches, until one drifts.
    let mut c = pg.client("cqrs");
    c.batch_execute(
        "CREATE TABLE account_query (view_id text NOT NULL, version bigint CHECK (version >= 0) NOT NULL,
           payload json NOT NULL, PRIMARY KEY (view_id));",
    )
    .unwrap();
    for (id, version) in [("acc1", 4i64), ("acc2", 1)] {
        let events = lines(&ok(&[
            "events",
            &url,
            "--stream",
            &format!("Account-{id}"),
            "--json",
        ]));
        let payload = common::jq_fold(&events, std::path::Path::new(REDUCER)).unwrap();
        c.execute(
            "INSERT INTO account_query VALUES ($1, $2, $3::text::json)",
            &[&id, &version, &payload.to_string()],
        )
        .unwrap();
    }
    let spec =
        "table=account_query,id=view_id,doc=payload,version=version,stream=\"Account-\" + .id";
    let out = ok(&["check", &url, "--read-model", spec, "--reducer", REDUCER]);
    assert!(
        out.contains("account_query: the read model matches the replay"),
        "{out}"
    );
    c.batch_execute("UPDATE account_query SET payload = '{\"owner\": \"ann\", \"balance\": 1}' WHERE view_id = 'acc1'")
        .unwrap();
    let out = common::bin::bin()
        .args([
            "check",
            &url,
            "--read-model",
            spec,
            "--reducer",
            REDUCER,
            "--json",
        ])
        .output()
        .unwrap();
    let found = lines(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["stream"], "Account-acc1");
    assert_eq!(found[0]["path"], "/balance");
    assert_eq!(found[0]["stored"], 1);
    assert_eq!(found[0]["replayed"], 120);
    assert_eq!(found[0]["blamed"]["version"], 4);
}

#[test]
fn go_mink() {
    let Some(pg) = Cluster::available() else {
        return;
    };
    let url = pg.database("mink", &go_mink_sql());
    check_layout(
        pg,
        "mink",
        &url,
        Expect {
            stream: "Account-acc1",
            category: "Account",
            total: 5,
            problems: &[],
            args: &[],
        },
    );
    // go-mink's projection checkpoints, as its migration creates them.
    let mut c = pg.client("mink");
    c.batch_execute(
        "CREATE TABLE IF NOT EXISTS mink.checkpoints (
           projection_name VARCHAR(500) PRIMARY KEY, position BIGINT NOT NULL DEFAULT 0,
           updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW());
         INSERT INTO mink.checkpoints VALUES ('AccountView', 5, now()), ('Emails', 2, '2024-03-01 10:00:00+00'), ('New', 0, now());",
    )
    .unwrap();
    let found = consumers_against_sql(
        &mut c,
        &url,
        "SELECT count(*)::int8, min(global_position)::int8, (SELECT max(global_position)::int8 FROM mink.events) FROM mink.events WHERE global_position > $1",
    );
    assert_eq!(found, ["New", "Emails", "AccountView"]);
    let emails = &lines(&ok(&["consumers", &url, "--json"]))[1];
    assert_eq!(emails["last_update"], "2024-03-01T10:00:00Z");
    assert_eq!(emails["status"], "stuck");
    // A time-travel read: the state as of a time, from the event times.
    let at: Value = serde_json::from_str(&ok(&[
        "state",
        &url,
        "Account-acc1",
        "--reducer",
        REDUCER,
        "--at-time",
        "2024-03-01T09:02:30Z",
        "--json",
    ]))
    .unwrap();
    assert_eq!(at["balance"], 70);

    // A reducer naming ids, metadata and times gets them (replays select only the
    // columns `$event` names), as `events --json` shows them.
    let dir = tempfile::tempdir().unwrap();
    let all = dir.path().join("all.jq");
    std::fs::write(
        &all,
        "(. // {seen: []}) | .seen += [[$event.event_id, $event.metadata, $event.timestamp]]",
    )
    .unwrap();
    let state: Value = serde_json::from_str(&ok(&[
        "state",
        &url,
        "Account-acc1",
        "--reducer",
        all.to_str().unwrap(),
        "--json",
    ]))
    .unwrap();
    let expected: Vec<Value> = lines(&ok(&["events", &url, "--stream", "Account-acc1", "--json"]))
        .iter()
        .map(|e| json!([e["event_id"], e["metadata"], e["timestamp"]]))
        .collect();
    assert_eq!(expected[0][2], "2024-03-01T09:00:00.123456Z");
    assert_eq!(state["seen"], json!(expected));

    // Counts from the streams table and the planner are marked, until --count counts.
    let last_line = |out: String| out.lines().last().unwrap().to_string();
    let table = ok(&["streams", &url]);
    assert!(table.contains("Account-acc1  Account   ≈4"), "{table}");
    // Never analyzed: no estimate yet, so the total is counted.
    assert_eq!(last_line(table), "2 streams, 5 events");
    pg.client("mink").batch_execute("ANALYZE").unwrap();
    assert!(
        last_line(ok(&["streams", &url])).starts_with("2 streams, ≈5 events (≈: "),
        "an estimate after ANALYZE"
    );
    let counted = ok(&["streams", &url, "--count"]);
    assert!(!counted.contains('≈'), "{counted}");
    assert_eq!(last_line(counted), "2 streams, 5 events");
    let json = lines(&ok(&["streams", &url, "--json"]));
    assert_eq!(json[0]["events_estimated"], true, "{json:?}");
    let json = lines(&ok(&["streams", &url, "--json", "--count"]));
    assert_eq!(json[0].get("events_estimated"), None, "{json:?}");

    follow_sees_late_commits(pg, "mink", &url, |c, n| {
        c.execute(
            "INSERT INTO mink.events (stream_id, version, event_type, data) VALUES ('Account-acc9', $1, 'Noted', '{}')",
            &[&n],
        )
        .map(|_| ())
    });
}

#[test]
fn commanded_event_store() {
    let Some(pg) = Cluster::available() else {
        return;
    };
    let mut stmts = vec![
        "INSERT INTO streams (stream_id, stream_uuid, stream_version) VALUES (0, '$all', 6), (1, 'account-acc1', 4), (2, 'account-acc2', 2)".to_string(),
    ];
    let mut all = 0;
    let mut add = |stream: i64, version: usize, ty: &str, data: &[u8], stmts: &mut Vec<String>| {
        all += 1;
        let id = format!("00000000-0000-4000-8000-{all:012}");
        stmts.push(format!(
            "INSERT INTO events (event_id, event_type, correlation_id, data, metadata, created_at) VALUES ('{id}', '{ty}', '00000000-0000-4000-8000-00000000c0de', '\\x{}', convert_to('{{}}', 'UTF8'), '{}')",
            hex(data),
            minute(all)
        ));
        stmts.push(format!(
            "INSERT INTO stream_events VALUES ('{id}', {stream}, {version}, {stream}, {version}), ('{id}', 0, {all}, {stream}, {version})"
        ));
    };
    for (i, (ty, data)) in HISTORY.iter().enumerate() {
        add(1, i + 1, ty, data.as_bytes(), &mut stmts);
    }
    add(2, 1, "Opened", br#"{"owner": "bob"}"#, &mut stmts);
    // :erlang.term_to_binary(%{a: 1})
    add(
        2,
        2,
        "Elixir.Bank.Noted",
        &[131, 116, 0, 0, 0, 1, 100, 0, 1, 97, 97, 1],
        &mut stmts,
    );
    let sql = format!(
        "CREATE TABLE streams (
           stream_id bigserial PRIMARY KEY NOT NULL, stream_uuid text NOT NULL,
           stream_version bigint default 0 NOT NULL, created_at timestamp with time zone default NOW() NOT NULL,
           deleted_at timestamp with time zone);
         CREATE UNIQUE INDEX ix_streams_stream_uuid ON streams (stream_uuid);
         CREATE TABLE events (
           event_id uuid PRIMARY KEY NOT NULL, event_type text NOT NULL, causation_id uuid NULL,
           correlation_id uuid NULL, data bytea NOT NULL, metadata bytea NULL,
           created_at timestamp with time zone default now() NOT NULL);
         CREATE TABLE stream_events (
           event_id uuid NOT NULL REFERENCES events (event_id), stream_id bigint NOT NULL REFERENCES streams (stream_id),
           stream_version bigint NOT NULL, original_stream_id bigint REFERENCES streams (stream_id),
           original_stream_version bigint, PRIMARY KEY(event_id, stream_id));
         CREATE UNIQUE INDEX ix_stream_events ON stream_events (stream_id, stream_version);
         CREATE OR REPLACE FUNCTION notify_events() RETURNS trigger AS $$
         DECLARE
           old_stream_version bigint;
           channel text;
           payload text;
         BEGIN
           IF TG_OP = 'UPDATE' THEN
             old_stream_version := OLD.stream_version + 1;
           ELSE
             old_stream_version := 1;
           END IF;
           channel := TG_TABLE_SCHEMA || '.events';
           payload := NEW.stream_uuid || ',' || NEW.stream_id || ',' || old_stream_version || ',' || NEW.stream_version;
           PERFORM pg_notify(channel, payload);
           RETURN NULL;
         END;
         $$ LANGUAGE plpgsql;
         CREATE TRIGGER event_notification AFTER INSERT OR UPDATE ON streams
           FOR EACH ROW EXECUTE PROCEDURE notify_events();
         {};",
        stmts.join(";\n")
    );
    let url = pg.database("commanded", &sql);
    check_layout(
        pg,
        "commanded",
        &url,
        Expect {
            stream: "account-acc1",
            category: "account",
            total: 6,
            problems: &["account-acc2 version 2: undecodable payload: Erlang term format"],
            args: &[],
        },
    );
    let events = lines(&ok(&["events", &url, "--stream", "account-acc2", "--json"]));
    assert!(events[1]["undecodable"]
        .as_str()
        .unwrap()
        .contains("Erlang term"));
    assert_eq!(
        events[0]["metadata"]["correlation_id"],
        "00000000-0000-4000-8000-00000000c0de"
    );
    // Commanded's subscriptions: the last event number seen of $all.
    let mut c = pg.client("commanded");
    c.batch_execute(
        "CREATE TABLE subscriptions (subscription_id bigserial PRIMARY KEY NOT NULL,
           stream_uuid text NOT NULL, subscription_name text NOT NULL, last_seen bigint NULL,
           created_at timestamp with time zone default NOW() NOT NULL);
         INSERT INTO subscriptions (stream_uuid, subscription_name, last_seen) VALUES
           ('$all', 'projector', 6), ('$all', 'mailer', 3), ('$all', 'fresh', NULL);",
    )
    .unwrap();
    let found = consumers_against_sql(
        &mut c,
        &url,
        "SELECT count(*)::int8, min(stream_version)::int8, (SELECT max(stream_version)::int8 FROM stream_events WHERE stream_id = 0) FROM stream_events WHERE stream_id = 0 AND stream_version > $1",
    );
    assert_eq!(found, ["fresh", "mailer", "projector"]);
    commanded_follow_listens(pg, &url);
}

/// Commanded NOTIFYs on commit: a follower LISTENs instead of polling ten times a second
/// (counted in the database's committed transactions while it idles), and an append
/// made as EventStore makes it (the `$all` row and the stream's, updated) arrives.
fn commanded_follow_listens(pg: &Cluster, url: &str) {
    let follower = Follower::start(url);
    let settle = |seen: &mut Vec<Value>, wait: Duration| follower.settle(seen, wait);
    let mut seen: Vec<Value> = Vec::new();
    settle(&mut seen, Duration::from_millis(2000));
    assert_eq!(seen.len(), 6, "{seen:?}");
    let mut admin = pg.client("commanded");
    let mut commits = || -> i64 {
        admin
            .query_one(
                "SELECT xact_commit FROM pg_stat_database WHERE datname = 'commanded'",
                &[],
            )
            .unwrap()
            .get(0)
    };
    let before = commits();
    std::thread::sleep(Duration::from_secs(4));
    let idle = commits() - before;
    // Polling every 100 ms (two statements each) would commit about 80 times in 4 s.
    assert!(idle < 25, "{idle} transactions in 4 s of following");

    let mut c = pg.client("commanded");
    c.batch_execute(
        "BEGIN;
         UPDATE streams SET stream_version = stream_version + 1 WHERE stream_id IN (0, 1);
         INSERT INTO events (event_id, event_type, data, metadata) VALUES
           ('00000000-0000-4000-8000-0000000000aa', 'Deposited', convert_to('{\"amount\": 5}', 'UTF8'), NULL);
         INSERT INTO stream_events VALUES ('00000000-0000-4000-8000-0000000000aa', 1, 5, 1, 5),
           ('00000000-0000-4000-8000-0000000000aa', 0, 7, 1, 5);
         COMMIT;",
    )
    .unwrap();
    settle(&mut seen, Duration::from_millis(2500));
    drop(follower);
    let last = seen.last().unwrap();
    assert_eq!(
        (
            &last["stream_id"],
            &last["version"],
            &last["global_position"]
        ),
        (&json!("account-acc1"), &json!(5), &json!(7)),
        "{seen:?}"
    );
    assert_eq!(seen.len(), 7);
}

#[test]
fn eventuous_zero_based_with_a_tombstone() {
    let Some(pg) = Cluster::available() else {
        return;
    };
    let mut rows = Vec::new();
    for (i, (ty, data)) in HISTORY.iter().enumerate() {
        rows.push(format!(
            "(gen_random_uuid(), '{ty}', 1, {i}, '{data}', '{{}}', '{}')",
            minute(i).trim_end_matches("+00")
        ));
    }
    rows.push(format!(
        "(gen_random_uuid(), '$tombstone', 2, 0, '{{}}', NULL, '{}')",
        minute(6).trim_end_matches("+00")
    ));
    let sql = format!(
        "CREATE SCHEMA IF NOT EXISTS eventuous;
         CREATE TABLE IF NOT EXISTS eventuous.streams (
           stream_name varchar(1000) NOT NULL, stream_id integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
           version integer NOT NULL DEFAULT(-1),
           CONSTRAINT uq_streams_name UNIQUE (stream_name), CONSTRAINT ck_version_gte_negative_one CHECK (version >= -1));
         CREATE TABLE IF NOT EXISTS eventuous.messages (
           message_id uuid, message_type varchar NOT NULL, stream_id integer NOT NULL,
           stream_position integer NOT NULL, global_position bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
           json_data jsonb NOT NULL, json_metadata jsonb, created timestamp NOT NULL,
           CONSTRAINT fk_messages_stream FOREIGN KEY (stream_id) REFERENCES eventuous.streams (stream_id),
           CONSTRAINT uq_stream_id_position UNIQUE (stream_id, stream_position),
           CONSTRAINT uq_message_id UNIQUE (message_id));
         INSERT INTO eventuous.streams (stream_name, version) VALUES ('Account-acc1', 3), ('Account-gone', 0);
         INSERT INTO eventuous.messages (message_id, message_type, stream_id, stream_position, json_data, json_metadata, created) VALUES {};",
        values(&rows)
    );
    let url = pg.database("eventuous", &sql);
    check_layout(
        pg,
        "eventuous",
        &url,
        Expect {
            stream: "Account-acc1",
            category: "Account",
            total: 4,
            problems: &[],
            args: &[],
        },
    );
}

/// `events --follow` sees two rows committed out of position order, each exactly once:
/// the first row's transaction holds its position open while the second commits.
/// `events URL --follow --json` in the background, its lines read as they come.
fn follow_sees_late_commits(
    pg: &Cluster,
    db: &str,
    url: &str,
    insert: impl Fn(&mut postgres::Transaction<'_>, i64) -> Result<(), postgres::Error>,
) {
    let follower = Follower::start(url);
    let settle = |seen: &mut Vec<Value>, wait: Duration| follower.settle(seen, wait);
    // What the follower prints of the existing log first.
    let mut seen: Vec<Value> = Vec::new();
    settle(&mut seen, Duration::from_millis(1500));
    let start = seen.len();

    let mut early = pg.client(db);
    let mut late = pg.client(db);
    let mut first = early.transaction().unwrap();
    insert(&mut first, 1).unwrap();
    let mut second = late.transaction().unwrap();
    insert(&mut second, 2).unwrap();
    second.commit().unwrap();
    settle(&mut seen, Duration::from_millis(1500));
    assert_eq!(
        seen.len(),
        start,
        "{db}: went past a position whose transaction is still open: {:?}",
        &seen[start..]
    );
    first.commit().unwrap();
    // A loaded machine may take seconds; the assertion below says what arrived.
    let late_rows = |seen: &[Value]| {
        seen.iter()
            .filter(|e| e["stream_id"] == "Account-acc9")
            .count()
    };
    follower.settle_until(&mut seen, Duration::from_secs(20), |s| late_rows(s) >= 2);

    // The follower's session: named, and never left inside a transaction between polls.
    let mut admin = pg.client(db);
    let sessions = admin
        .query(
            "SELECT pid, state FROM pg_stat_activity WHERE application_name = 'eventscope' AND datname = $1",
            &[&db],
        )
        .unwrap();
    assert!(!sessions.is_empty(), "{db}: no session named eventscope");
    for s in &sessions {
        let state: Option<String> = s.get(1);
        assert_ne!(state.as_deref(), Some("idle in transaction"), "{db}");
    }
    // A dropped session is opened again and the follower goes on where it was.
    admin
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'eventscope' AND datname = $1",
            &[&db],
        )
        .unwrap();
    let mut third = admin.transaction().unwrap();
    insert(&mut third, 3).unwrap();
    third.commit().unwrap();
    follower.settle_until(&mut seen, Duration::from_secs(20), |s| late_rows(s) >= 3);
    let errors = follower.errors.lock().unwrap().clone();
    drop(follower);
    let new: Vec<i64> = seen[start..]
        .iter()
        .filter(|e| e["stream_id"] == "Account-acc9")
        .map(|e| e["version"].as_i64().unwrap())
        .collect();
    assert_eq!(
        new,
        [1, 2, 3],
        "{db}: each late row exactly once: {seen:?}\nfollower's stderr: {errors}"
    );
}

#[test]
fn bad_targets_are_one_line_and_never_show_the_password() {
    let Some(pg) = Cluster::available() else {
        return;
    };
    let url = pg.database("empty", "CREATE TABLE unrelated (x int);");
    let err = fails(&["streams", &url]);
    assert!(err.contains("no known event store layout"), "{err}");
    assert!(err.contains("public.unrelated"), "{err}");
    let nobody = format!(
        "postgres://ghost:s3cret@127.0.0.1:{}/nowhere?sslmode=disable",
        pg.port
    );
    let err = fails(&["streams", &nobody]);
    assert!(!err.contains("s3cret"), "{err}");
    let closed = "postgres://ann:s3cret@127.0.0.1:1/x?sslmode=disable";
    let err = fails(&["streams", closed]);
    assert!(
        err.contains("cannot connect") && !err.contains("s3cret"),
        "{err}"
    );
    let err = fails(&["streams", "postgres://h/x?sslmode=sometimes"]);
    assert!(err.contains("sslmode"), "{err}");
}

/// A home-grown table no library wrote, read through `--map` as on SQLite: epoch
/// milliseconds and timestamptz times, a column the spec does not name left alone, and a
/// table name found in two schemas refused until qualified.
#[test]
fn home_grown_tables_through_map() {
    let Some(pg) = Cluster::available() else {
        return;
    };
    let mut rows = Vec::new();
    for (i, (ty, data)) in HISTORY.iter().enumerate() {
        rows.push(format!(
            "('Account-acc1', {}, '{ty}', '{data}', {}, '{}', 'note {i}')",
            i + 1,
            1_709_283_600_123_i64 + i as i64 * 60_000,
            minute(i)
        ));
    }
    rows.push(format!(
        "('Account-acc2', 1, 'Opened', '{{\"owner\": \"bob\"}}', 1709283900000, '{}', NULL)",
        minute(5)
    ));
    let sql = format!(
        "CREATE SCHEMA app;
         CREATE TABLE app.journal (seq bigserial PRIMARY KEY, entity text NOT NULL, rev int NOT NULL,
           kind text NOT NULL, body jsonb NOT NULL, at_ms bigint, at timestamptz, note text,
           UNIQUE (entity, rev));
         INSERT INTO app.journal (entity, rev, kind, body, at_ms, at, note) VALUES {};
         CREATE SCHEMA old;
         CREATE TABLE old.journal (seq bigint);",
        values(&rows)
    );
    let url = pg.database("home", &sql);
    let spec = "table=app.journal,stream=entity,version=rev,type=kind,data=body,time=at_ms:ms,position=seq,metadata=note";
    check_layout(
        pg,
        "home",
        &url,
        Expect {
            stream: "Account-acc1",
            category: "Account",
            total: 5,
            // A plain text column mapped as metadata: check says related cannot read it.
            problems: &["Account-acc1 version 1: metadata not a JSON object: note 0"],
            args: &["--map", spec],
        },
    );
    let events = lines(&ok(&[
        "events",
        &url,
        "--stream",
        "Account-acc1",
        "--json",
        "--map",
        spec,
    ]));
    assert_eq!(events[1]["timestamp"], "2024-03-01T09:01:00.123Z");
    assert_eq!(events[1]["metadata"], "note 1");
    let spec_tz = spec.replace("time=at_ms:ms", "time=at");
    let events = lines(&ok(&[
        "events",
        &url,
        "--stream",
        "Account-acc1",
        "--json",
        "--map",
        &spec_tz,
    ]));
    assert_eq!(events[1]["timestamp"], "2024-03-01T09:01:00.123456Z");

    let unqualified = spec.replace("table=app.journal", "table=journal");
    let e = fails(&["streams", &url, "--map", &unqualified]);
    assert!(e.contains("app.journal, old.journal"), "{e}");
    ok(&["streams", &url, "--map", &unqualified, "--schema", "app"]);
    let e = fails(&[
        "streams",
        &url,
        "--map",
        &spec.replace("app.journal", "app.nope"),
    ]);
    assert!(e.contains("no table \"app.nope\" the role can see"), "{e}");
    let e = fails(&["streams", &url, "--map", &spec.replace(",position=seq", "")]);
    assert!(e.contains("position=COLUMN"), "{e}");
    let e = fails(&[
        "streams",
        &url,
        "--map",
        &spec.replace("version=rev", "version=kind"),
    ]);
    assert!(e.contains("needs an integer column"), "{e}");
    let e = fails(&[
        "streams",
        &url,
        "--map",
        &spec.replace("stream=entity", "stream=who"),
    ]);
    assert!(e.contains("no column \"who\""), "{e}");
}

/// The session's limits come from the flags: with the events table locked by another
/// session, a short `--lock-timeout` fails on the lock, and a short `--statement-timeout`
/// under a long lock timeout fails on the statement, each in one line naming its flag.
#[test]
fn session_timeouts_follow_the_flags() {
    let Some(pg) = Cluster::available() else {
        return;
    };
    let url = pg.database("mink_pinned", &go_mink_sql());
    let mut holder = pg.client("mink_pinned");
    let mut tx = holder.transaction().unwrap();
    tx.batch_execute("LOCK TABLE mink.events IN ACCESS EXCLUSIVE MODE")
        .unwrap();
    let e = fails(&["streams", &url, "--count", "--lock-timeout", "100"]);
    assert!(
        e.contains("lock timeout") && e.contains("--lock-timeout"),
        "{e}"
    );
    let e = fails(&[
        "streams",
        &url,
        "--count",
        "--lock-timeout",
        "60000",
        "--statement-timeout",
        "300",
    ]);
    assert!(
        e.contains("statement timeout") && e.contains("--statement-timeout"),
        "{e}"
    );
    tx.rollback().unwrap();
    assert!(ok(&["streams", &url, "--count"]).contains("2 streams, 5 events"));
}

/// A one-shot command reads one snapshot: writers that commit out of order during a long
/// `events --json` (an earlier position committed after a later one, then a new row) do
/// not show, and the output equals the table as of the start. A stream named `''` is
/// listed by `streams`, with and without `--count`, and the totals agree with `stats`.
#[test]
fn one_snapshot_per_command_and_every_stream_id() {
    let Some(pg) = Cluster::available() else {
        return;
    };
    let url = pg.database(
        "snap",
        &format!(
            "{MESSAGE_DB_DDL}
             INSERT INTO message_store.messages (position, stream_name, type, data)
               SELECT (i - 1) / 100, 'acct-' || (i % 100), 'Deposited', jsonb_build_object('amount', i)
               FROM generate_series(1, 60000) AS i;
             INSERT INTO message_store.messages (position, stream_name, type, data)
               VALUES (0, '', 'Odd', '{{}}'), (1, '', 'Odd', '{{}}');"
        ),
    );
    let streams = lines(&ok(&["streams", &url, "--json"]));
    assert_eq!(streams.len(), 101, "100 accounts and the stream named ''");
    assert!(streams
        .iter()
        .any(|s| s["stream_id"] == "" && s["events"] == 2));
    let counted = lines(&ok(&["streams", &url, "--json", "--count"]));
    assert_eq!(counted, streams);
    let table = ok(&["streams", &url, "--count"]);
    assert!(table.contains("101 streams, 60002 events"), "{table}");
    let stats: Value = serde_json::from_str(&ok(&["stats", &url, "--json"])).unwrap();
    assert_eq!(
        (stats["streams"].clone(), stats["events"].clone()),
        (json!(101), json!(60002))
    );
    assert_eq!(ok(&["state", &url, "", "--json"]).trim(), "{}");

    let mut late = pg.client("snap");
    let mut early = pg.client("snap");
    let insert = |stream: &str| {
        format!("INSERT INTO message_store.messages (position, stream_name, type, data) VALUES (0, '{stream}', 'Late', '{{}}')")
    };
    late.batch_execute(&format!("BEGIN; {}", insert("late-1")))
        .unwrap();
    early.batch_execute(&insert("early-1")).unwrap();
    let mut child = bin()
        .args(["events", &url, "--json"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    // The command has its snapshot and is blocked on a full pipe: commit the earlier
    // position now, and a new row after everything.
    late.batch_execute("COMMIT").unwrap();
    early.batch_execute(&insert("late-2")).unwrap();
    let mut positions = vec![
        serde_json::from_str::<Value>(&first).unwrap()["global_position"]
            .as_i64()
            .unwrap(),
    ];
    for line in out.lines() {
        let e: Value = serde_json::from_str(&line.unwrap()).unwrap();
        positions.push(e["global_position"].as_i64().unwrap());
    }
    assert!(child.wait().unwrap().success());
    let expected: Vec<i64> = pg
        .client("snap")
        .query(
            "SELECT global_position FROM message_store.messages WHERE stream_name NOT IN ('late-1', 'late-2') ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        positions.len(),
        expected.len(),
        "rows committed during the read are not in it"
    );
    assert_eq!(positions, expected);
}

#[test]
fn emmett_processors_as_emmett_itself_writes_them() {
    let Some(pg) = Cluster::available() else {
        return;
    };
    let url = pg.database("emm", "SELECT 1;");
    // Emmett's own reading of its checkpoints.
    let emmett = common::node::run("processors.mjs", &url);
    assert_eq!(emmett.len(), 2);
    let mut c = pg.client("emm");
    let found = consumers_against_sql(
        &mut c,
        &url,
        "SELECT count(*)::int8, min(global_position)::int8, (SELECT max(global_position)::int8 FROM emt_messages WHERE NOT is_archived AND message_kind = 'E') FROM emt_messages WHERE NOT is_archived AND message_kind = 'E' AND global_position > $1",
    );
    assert_eq!(found, ["emails", "balances"]);
    let got = lines(&ok(&["consumers", &url, "--json"]));
    for want in &emmett {
        let c = got
            .iter()
            .find(|c| c["consumer"] == want["processor"])
            .unwrap();
        let checkpoint: i64 = want["checkpoint"].as_str().unwrap().parse().unwrap();
        assert_eq!(c["position"], checkpoint, "{c}");
        // Emmett's status, as it stores it.
        assert_eq!(c["status"], "stopped", "{c}");
        assert_eq!(c["status_stored"], true);
    }
    // "emails" stopped behind: by as much as Emmett's own checkpoint and the table's last
    // event say (a loaded machine's consumer may stop before the first four are handled).
    let emails = got.iter().find(|c| c["consumer"] == "emails").unwrap();
    let want = emmett.iter().find(|w| w["processor"] == "emails").unwrap();
    let number = |v: &Value| v.as_str().unwrap().parse::<i64>().unwrap();
    let checkpoint = number(&want["checkpoint"]);
    let last: i64 = c
        .query_one(
            "SELECT max(global_position)::int8 FROM emt_messages WHERE message_kind = 'E'",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(last > checkpoint, "emails is behind: {want}");
    assert_eq!(emails["lag"], last - checkpoint, "{emails}");
    assert_eq!(emails["next_event"]["position"], checkpoint + 1, "{emails}");
}

#[test]
fn a_python_eventsourcing_system_sharing_one_database() {
    let Some(pg) = Cluster::available() else {
        return;
    };
    let url = pg.database("esys", "SELECT 1;");
    let port = pg.port.to_string();
    let library = common::python::eventsourcing_system(&["postgres", "127.0.0.1", &port, "esys"]);
    // Four applications' tables in one database: which log is named with --table.
    let err = fails(&["consumers", &url]);
    assert!(
        err.contains("several event stores") && err.contains("--table"),
        "{err}"
    );
    let got = lines(&ok(&[
        "consumers",
        &url,
        "--table",
        "bank_events",
        "--json",
    ]));
    assert_eq!(got.len(), 3, "the migration marker is no consumer: {got:?}");
    common::python::assert_followers_match(&got, &library);
    let err = fails(&["consumers", &url, "--table", "nope_events"]);
    assert!(
        err.contains("--table nope_events is none of the event tables found"),
        "{err}"
    );
}

#[test]
fn emmetts_own_read_model_checked_against_replay() {
    const ACCOUNT_JQ: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/reducers/Account.jq");
    let Some(pg) = Cluster::available() else {
        return;
    };
    let url = pg.database("rmod", "SELECT 1;");
    // Emmett's pongo documents, as Emmett reads them back.
    let emmett = common::node::run("read_model.mjs", &url);
    assert_eq!(emmett.len(), 2);
    let spec = "table=accounts,id=_id,doc=data,version=_version";
    let out = ok(&[
        "check",
        &url,
        "--read-model",
        spec,
        "--reducer",
        ACCOUNT_JQ,
        "--ignore",
        "/_id,/_version",
    ]);
    assert!(
        out.contains("accounts: the read model matches the replay"),
        "{out}"
    );
    // One field drifted in one row: found on its stream, with Emmett's value as the one
    // replayed, and blamed on the stream's last deposit.
    let mut c = pg.client("rmod");
    c.batch_execute("UPDATE accounts SET data = jsonb_set(data, '{balance}', '999') WHERE _id = 'Account-acc-2'")
        .unwrap();
    let err = fails(&[
        "check",
        &url,
        "--read-model",
        spec,
        "--reducer",
        ACCOUNT_JQ,
        "--ignore",
        "/_id,/_version",
    ]);
    assert!(err.contains("the read model accounts differs"), "{err}");
    let found: Vec<Value> = {
        let out = common::bin::bin()
            .args([
                "check",
                &url,
                "--read-model",
                spec,
                "--reducer",
                ACCOUNT_JQ,
                "--ignore",
                "/_id,/_version",
                "--json",
            ])
            .output()
            .unwrap();
        lines(&String::from_utf8_lossy(&out.stdout))
    };
    assert_eq!(found.len(), 1, "{found:?}");
    let f = &found[0];
    assert_eq!(f["finding"], "differs");
    assert_eq!(f["stream"], "Account-acc-2");
    assert_eq!(f["path"], "/balance");
    assert_eq!(f["stored"], 999);
    let by_emmett = emmett.iter().find(|d| d["_id"] == "Account-acc-2").unwrap();
    assert_eq!(f["replayed"], by_emmett["balance"]);
    let deposit: i64 = c
        .query_one(
            "SELECT global_position FROM emt_messages WHERE stream_id = 'Account-acc-2' AND message_type = 'MoneyDeposited'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(f["blamed"]["global_position"], deposit);
    assert_eq!(f["blamed"]["type"], "MoneyDeposited");
}

/// Partitioned event tables are read through their parent, never their partitions: a
/// cqrs-es table partitioned by aggregate type (which, found by its columns alone, would
/// otherwise be three stores), and go-mink's events range-partitioned by position.
#[test]
fn partitioned_event_tables_are_read_through_their_parent() {
    let Some(pg) = Cluster::available() else {
        return;
    };
    let url = pg.database(
        "cqrs_parts",
        "CREATE TABLE events (aggregate_type text NOT NULL, aggregate_id text NOT NULL, sequence bigint CHECK (sequence >= 0) NOT NULL,
           event_type text NOT NULL, event_version text NOT NULL, payload json NOT NULL, metadata json NOT NULL,
           PRIMARY KEY (aggregate_type, aggregate_id, sequence)) PARTITION BY LIST (aggregate_type);
         CREATE TABLE events_account PARTITION OF events FOR VALUES IN ('Account');
         CREATE TABLE events_order PARTITION OF events FOR VALUES IN ('Order');
         INSERT INTO events VALUES
           ('Account', 'a1', 1, 'Opened', '1.0', '{\"Opened\": {\"owner\": \"ann\"}}', '{}'),
           ('Order', 'o1', 1, 'Placed', '1.0', '{\"Placed\": {\"sku\": \"kb\"}}', '{}'),
           ('Account', 'a1', 2, 'Deposited', '1.0', '{\"Deposited\": {\"amount\": 5}}', '{}');",
    );
    let streams = lines(&ok(&["streams", &url, "--json"]));
    let ids: Vec<&str> = streams
        .iter()
        .map(|s| s["stream_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["Account-a1", "Order-o1"]);
    let state: Value = serde_json::from_str(&ok(&["state", &url, "Account-a1", "--json"])).unwrap();
    assert_eq!(state["amount"], 5);

    let url = pg.database(
        "mink_parts",
        "CREATE SCHEMA mink;
         CREATE TABLE mink.streams (id BIGSERIAL PRIMARY KEY, stream_id VARCHAR(500) NOT NULL UNIQUE, category VARCHAR(250) NOT NULL,
           version BIGINT NOT NULL DEFAULT 0);
         CREATE TABLE mink.events (global_position BIGSERIAL, stream_id VARCHAR(500) NOT NULL, version BIGINT NOT NULL,
           event_id UUID NOT NULL DEFAULT gen_random_uuid(), event_type VARCHAR(500) NOT NULL, data JSONB NOT NULL,
           metadata JSONB, timestamp TIMESTAMPTZ NOT NULL DEFAULT NOW(), PRIMARY KEY (global_position))
           PARTITION BY RANGE (global_position);
         CREATE TABLE mink.events_1 PARTITION OF mink.events FOR VALUES FROM (MINVALUE) TO (3);
         CREATE TABLE mink.events_2 PARTITION OF mink.events FOR VALUES FROM (3) TO (MAXVALUE);
         CREATE INDEX ON mink.events (stream_id, version);
         INSERT INTO mink.streams (stream_id, category, version) VALUES ('Account-acc1', 'Account', 4);
         INSERT INTO mink.events (stream_id, version, event_type, data) VALUES
           ('Account-acc1', 1, 'Opened', '{\"owner\": \"ann\"}'), ('Account-acc1', 2, 'Deposited', '{\"amount\": 100}'),
           ('Account-acc1', 3, 'Withdrawn', '{\"amount\": 30}'), ('Account-acc1', 4, 'Deposited', '{\"amount\": 50}');",
    );
    let all = lines(&ok(&["events", &url, "--json"]));
    let positions: Vec<i64> = all
        .iter()
        .map(|e| e["global_position"].as_i64().unwrap())
        .collect();
    assert_eq!(positions, [1, 2, 3, 4], "both partitions, in order");
    let versions = lines(&ok(&["events", &url, "--stream", "Account-acc1", "--json"]));
    assert_eq!(versions.len(), 4);
    let total = ok(&["streams", &url]);
    assert!(total.contains("1 stream"), "{total}");
}

/// Marten's archived-stream partitioning (`UseArchivedStreamPartitioning`): `mt_streams`
/// and `mt_events` partitioned by `is_archived`, read through their parents: the archived
/// stream hidden unless `--archived`, as without partitions.
#[test]
fn marten_archive_partitions_are_read_through_their_parents() {
    let Some(pg) = Cluster::available() else {
        return;
    };
    let acc = "5f0c1d2e-0000-4000-8000-000000000001";
    let old = "5f0c1d2e-0000-4000-8000-000000000002";
    let url = pg.database(
        "marten_parts",
        &format!(
            "CREATE TABLE mt_streams (
               id uuid NOT NULL, type varchar NULL, version bigint NULL,
               timestamp timestamptz DEFAULT (now()) NOT NULL, snapshot jsonb NULL, snapshot_version integer NULL,
               created timestamptz DEFAULT (now()) NOT NULL, tenant_id varchar DEFAULT '*DEFAULT*',
               mt_dotnet_type varchar NULL, is_archived bool DEFAULT FALSE,
               CONSTRAINT pkey_mt_streams_id_is_archived PRIMARY KEY (id, is_archived)) PARTITION BY LIST (is_archived);
             CREATE TABLE mt_streams_default PARTITION OF mt_streams FOR VALUES IN (false);
             CREATE TABLE mt_streams_archived PARTITION OF mt_streams FOR VALUES IN (true);
             CREATE TABLE mt_events (
               seq_id bigint NOT NULL, id uuid NOT NULL, stream_id uuid NULL, version bigint NOT NULL,
               data jsonb NOT NULL, type varchar(500) NOT NULL, timestamp timestamptz DEFAULT '(now())' NOT NULL,
               tenant_id varchar DEFAULT '*DEFAULT*', mt_dotnet_type varchar NULL, is_archived bool DEFAULT FALSE,
               CONSTRAINT pkey_mt_events_seq_id_is_archived PRIMARY KEY (seq_id, is_archived)) PARTITION BY LIST (is_archived);
             CREATE TABLE mt_events_default PARTITION OF mt_events FOR VALUES IN (false);
             CREATE TABLE mt_events_archived PARTITION OF mt_events FOR VALUES IN (true);
             CREATE UNIQUE INDEX pk_mt_events_stream_and_version ON mt_events (stream_id, version, is_archived);
             INSERT INTO mt_streams (id, type, version, is_archived) VALUES
               ('{acc}', 'bank_account', 2, false), ('{old}', 'bank_account', 1, true);
             INSERT INTO mt_events (seq_id, id, stream_id, version, data, type, is_archived) VALUES
               (1, gen_random_uuid(), '{old}', 1, '{{\"owner\": \"old\"}}', 'Opened', true),
               (2, gen_random_uuid(), '{acc}', 1, '{{\"owner\": \"ann\"}}', 'Opened', false),
               (3, gen_random_uuid(), '{acc}', 2, '{{\"amount\": 100}}', 'Deposited', false);"
        ),
    );
    let streams = lines(&ok(&["streams", &url, "--json"]));
    let ids: Vec<&str> = streams
        .iter()
        .map(|s| s["stream_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [acc]);
    let positions: Vec<i64> = lines(&ok(&["events", &url, "--json"]))
        .iter()
        .map(|e| e["global_position"].as_i64().unwrap())
        .collect();
    assert_eq!(positions, [2, 3]);
    let all = lines(&ok(&["events", &url, "--archived", "--json"]));
    assert_eq!(all.len(), 3, "--archived reads the archived partition too");
}

//! `consumers`: every figure checked against tests/fixtures/consumers_reference.py, which
//! computes them from the raw rows with Python's sqlite3 alone.
#![allow(clippy::unwrap_used)]

mod common;

use common::bin::{bin, fails, lines, ok, s};

use std::path::Path;
use std::process::Command;

use rusqlite::{params, Connection};
use serde_json::{json, Value};

const REFERENCE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/consumers_reference.py"
);

fn reference(db: &Path, layout: &str, consumers: &str) -> Vec<Value> {
    let out = Command::new("python3")
        .args([REFERENCE, s(db), layout, consumers])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    lines(&String::from_utf8(out.stdout).unwrap())
}

/// eventscope's answer cut to the reference's fields, sorted by name.
fn answer(args: &[&str]) -> Vec<Value> {
    let mut got: Vec<Value> = lines(&ok(args))
        .into_iter()
        .map(|c| {
            let next = &c["next_event"];
            json!({
                "consumer": c["consumer"],
                "position": c["position"],
                "head": c["head"],
                "lag": c["lag"],
                "next_event": if next.is_null() { Value::Null } else {
                    json!({"position": next["position"], "stream": next["stream"], "type": next["type"]})
                },
            })
        })
        .collect();
    got.sort_by_key(|c| c["consumer"].as_str().unwrap().to_string());
    got
}

fn sorted(mut v: Vec<Value>) -> Vec<Value> {
    v.sort_by_key(|c| c["consumer"].as_str().unwrap().to_string());
    v
}

/// The native `checkpoints` rows as the reference takes them.
fn checkpoints(db: &Path) -> String {
    let c = Connection::open(db).unwrap();
    let mut stmt = c
        .prepare("SELECT name, follows, position FROM checkpoints")
        .unwrap();
    let rows: Vec<Value> = stmt
        .query_map([], |r| {
            let follows: String = r.get(1)?;
            let follows = match follows.as_str() {
                "$all" => json!("$all"),
                f => match f.strip_prefix("stream:") {
                    Some(s) => json!({ "stream": s }),
                    None => json!({ "category": f }),
                },
            };
            Ok(json!({"consumer": r.get::<_, String>(0)?, "follows": follows, "position": r.get::<_, i64>(2)?}))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    serde_json::to_string(&rows).unwrap()
}

#[test]
fn the_demos_consumers_match_a_fold_of_the_raw_rows() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::bin::demo(dir.path());
    let want = sorted(reference(&db, "native", &checkpoints(&db)));
    assert_eq!(want.len(), 3);
    assert_eq!(answer(&["consumers", s(&db), "--json"]), want);
    // One of each state, in the order of their lag.
    let all = lines(&ok(&["consumers", s(&db), "--json"]));
    let states: Vec<(&str, &str)> = all
        .iter()
        .map(|c| {
            (
                c["consumer"].as_str().unwrap(),
                c["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            ("order-emails", "stuck"),
            ("audit-log", "behind"),
            ("account-balances", "caught_up")
        ]
    );
    assert_eq!(all[0]["follows"], json!({"category": "Order"}));
    assert_eq!(all[1]["follows"], json!("$all"));
    assert_eq!(all[0]["next_event"]["version"], 5);
    assert_eq!(all[0]["next_event"]["time"], "2024-03-01T09:12:00Z");
    assert!(all[0]["behind_for"].as_f64().unwrap() > 3600.0);
    let table = ok(&["consumers", s(&db)]);
    assert!(
        table.contains(
            "3 consumers: 1 caught up, 1 behind, 1 stuck; furthest behind: order-emails (4 events)"
        ),
        "{table}"
    );
    assert!(table.contains("Order-123 v5 ItemRemoved (#12)"), "{table}");
    let err = fails(&["consumers", s(&db), "--fail-on", "stuck"]);
    assert_eq!(
        err.trim(),
        format!("eventscope: 1 consumer(s) stuck in {}", s(&db))
    );
    let err = fails(&["consumers", s(&db), "--fail-on", "behind"]);
    assert!(err.contains("2 consumer(s) behind"), "{err}");
}

#[test]
fn a_consumer_that_stops_while_a_writer_appends_becomes_stuck() {
    use eventscope::store::{ExpectedVersion, NewEvent, Store};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("live.db");
    let mut store = Store::create(&db).unwrap();
    store
        .append(
            "Task-1",
            ExpectedVersion::NoStream,
            &[NewEvent::new("Added", json!({}))],
        )
        .unwrap();
    let now = eventscope::time::format_stored(chrono::Utc::now());
    {
        let w = store.writer().unwrap();
        w.save_checkpoint("board", "projection", "Task", 1, Some(&now))
            .unwrap();
        w.commit().unwrap();
    }
    let state = |stuck_after: &str| {
        let c = &lines(&ok(&[
            "consumers",
            s(&db),
            "--json",
            "--stuck-after",
            stuck_after,
        ]))[0];
        (
            c["status"].as_str().unwrap().to_string(),
            c["lag"].as_i64().unwrap(),
        )
    };
    assert_eq!(state("1s"), ("caught_up".into(), 0));
    ok(&["consumers", s(&db), "--fail-on", "behind"]);
    for v in 1..=3 {
        store
            .append(
                "Task-1",
                ExpectedVersion::Exact(v),
                &[NewEvent::new("Moved", json!({"v": v}))],
            )
            .unwrap();
    }
    assert_eq!(state("1h"), ("behind".into(), 3));
    std::thread::sleep(std::time::Duration::from_millis(1200));
    assert_eq!(state("1s"), ("stuck".into(), 3));
    assert_eq!(state("1h"), ("behind".into(), 3));
    let want = reference(&db, "native", &checkpoints(&db));
    assert_eq!(answer(&["consumers", s(&db), "--json"]), want);
}

#[test]
fn emmett_processors_as_0_42_writes_them() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::emmett(dir.path());
    let c = Connection::open(&db).unwrap();
    // Emmett 0.42's SQLite DDL; checkpoints are global positions padded to 19 digits.
    c.execute_batch(
        "CREATE TABLE IF NOT EXISTS emt_processors(
            processor_id                 TEXT                  NOT NULL,
            version                      INTEGER               NOT NULL DEFAULT 1,
            partition                    TEXT                  NOT NULL DEFAULT 'global',
            status                       TEXT                  NOT NULL DEFAULT 'stopped',
            last_processed_checkpoint    TEXT                  NOT NULL,
            processor_instance_id        TEXT                  DEFAULT 'emt:unknown',
            created_at                   DATETIME              DEFAULT CURRENT_TIMESTAMP,
            last_updated                 DATETIME              DEFAULT CURRENT_TIMESTAMP,
            PRIMARY KEY (processor_id, partition, version)
        );",
    )
    .unwrap();
    for (id, checkpoint, status) in [
        ("balances", "0000000000000000004", "running"),
        ("emails", "0000000000000000002", "stopped"),
    ] {
        c.execute(
            "INSERT INTO emt_processors (processor_id, status, last_processed_checkpoint, last_updated) VALUES (?, ?, ?, '2024-03-01 10:00:00')",
            params![id, status, checkpoint],
        )
        .unwrap();
    }
    drop(c);
    let given = json!([
        {"consumer": "balances", "follows": "$all", "position": 4},
        {"consumer": "emails", "follows": "$all", "position": 2},
    ]);
    let want = sorted(reference(&db, "emmett", &given.to_string()));
    assert_eq!(answer(&["consumers", s(&db), "--json"]), want);
    let got = lines(&ok(&["consumers", s(&db), "--json"]));
    assert_eq!(got[0]["status"], "stopped", "Emmett's own status is kept");
    assert_eq!(got[0]["stuck"], true);
    assert_eq!(got[0]["last_update"], "2024-03-01T10:00:00Z");
    assert_eq!(got[1]["status"], "running");
}

#[test]
fn message_db_position_streams_are_consumers_of_their_category() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::message_db(dir.path());
    let c = Connection::open(&db).unwrap();
    let mut g: i64 = c
        .query_row("SELECT MAX(global_position) FROM messages", [], |r| {
            r.get(0)
        })
        .unwrap();
    // Eventide records the global position of the last message read.
    for (stream, pos, read) in [
        ("account:position-projector", 0, 3),
        ("account:position-projector", 1, 5),
        ("account:position-mailer", 0, 3),
    ] {
        g += 1;
        c.execute(
            "INSERT INTO messages VALUES (?, ?, '2024-03-01 10:00:00.000000', ?, 'Recorded', ?, NULL, ?)",
            params![g, pos, stream, json!({"position": read}).to_string(), format!("p-{g}")],
        )
        .unwrap();
    }
    drop(c);
    let want = sorted(reference(&db, "messagedb", "-"));
    assert_eq!(want.len(), 2);
    assert_eq!(answer(&["consumers", s(&db), "--json"]), want);
    let got = lines(&ok(&["consumers", s(&db), "--json"]));
    assert_eq!(got[0]["consumer"], "mailer");
    assert_eq!(got[0]["lag"], 2);
    assert_eq!(got[1]["status"], "caught_up");
}

#[test]
fn a_table_named_by_consumers_spec() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::bin::demo(dir.path());
    let c = Connection::open(&db).unwrap();
    c.execute_batch(
        "DROP TABLE checkpoints;
         CREATE TABLE offsets (who TEXT, upto INTEGER, at TEXT, what TEXT);
         INSERT INTO offsets VALUES ('search-index', 7, '2024-03-01 09:30:00', '$all');
         INSERT INTO offsets VALUES ('user-cache', 2, NULL, 'stream:User-user-1');",
    )
    .unwrap();
    drop(c);
    let out = ok(&["consumers", s(&db)]);
    assert!(out.contains("records no consumer positions"), "{out}");
    let spec = "table=offsets,name=who,position=upto,updated=at,follows=what";
    let given = json!([
        {"consumer": "search-index", "follows": "$all", "position": 7},
        {"consumer": "user-cache", "follows": {"stream": "User-user-1"}, "position": 2},
    ]);
    let want = sorted(reference(&db, "native", &given.to_string()));
    assert_eq!(
        answer(&["consumers", s(&db), "--json", "--consumers", spec]),
        want
    );
    let err = fails(&[
        "consumers",
        s(&db),
        "--consumers",
        "table=offsets,name=who,position=nope",
    ]);
    assert!(
        err.contains(
            "position=nope: table offsets has no such column (columns: who, upto, at, what)"
        ),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    let err = fails(&[
        "consumers",
        s(&db),
        "--consumers",
        "table=ghost,name=a,position=b",
    ]);
    assert!(err.contains("no table \"ghost\""), "{err}");
    let status = bin()
        .args(["consumers", s(&db), "--consumers", "table=offsets"])
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1));
}

#[test]
fn a_python_eventsourcing_system_as_the_library_tracks_it() {
    let dir = tempfile::tempdir().unwrap();
    // The library's own word: max_tracking_id and the leader's notifications.
    let library = common::python::eventsourcing_system(&[s(dir.path())]);
    let db = |name: &str| dir.path().join(format!("{name}.sqlite"));
    let mut args = vec![
        "consumers".to_string(),
        s(&db("bank")).to_string(),
        "--json".into(),
    ];
    for follower in ["counter", "auditor", "fussy"] {
        args.push("--tracking".into());
        args.push(s(&db(follower)).to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let got = lines(&ok(&args));
    common::python::assert_followers_match(&got, &library);
    // The caught-up one, the one stopped part-way, and the one whose policy raised on
    // the withdrawal, which it stays before.
    let status = |name: &str| {
        got.iter()
            .find(|c| c["consumer"] == format!("{name} ← Bank"))
            .map(|c| {
                (
                    c["status"].as_str().unwrap().to_string(),
                    c["lag"].as_i64().unwrap(),
                )
            })
            .unwrap()
    };
    assert_eq!(status("counter"), ("caught_up".into(), 0));
    assert_eq!(status("auditor"), ("behind".into(), 4));
    assert_eq!(status("fussy"), ("behind".into(), 3));
    let fussy = got
        .iter()
        .find(|c| c["consumer"] == "fussy ← Bank")
        .unwrap();
    assert_eq!(fussy["next_event"]["type"], "Withdrawn");
    // A follower's own database read alone: its tracked position is past its own log's
    // end, and it says so instead of calling it caught up.
    let alone = &lines(&ok(&["consumers", s(&db("counter")), "--json"]))[0];
    assert_eq!(alone["status"], "ahead");
    assert!(alone["error"]
        .as_str()
        .unwrap()
        .contains("not a position in this log"));
}

#[test]
fn a_long_lag_is_estimated_and_marked_unless_exact_is_asked() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("big.db");
    ok(&["demo", "--out", s(&db), "--events", "120000"]);
    let exact = answer(&["consumers", s(&db), "--json", "--exact"]);
    assert_eq!(exact, sorted(reference(&db, "native", &checkpoints(&db))));
    let got = lines(&ok(&["consumers", s(&db), "--json"]));
    let audit = got.iter().find(|c| c["consumer"] == "audit-log").unwrap();
    let true_lag = exact.iter().find(|c| c["consumer"] == "audit-log").unwrap()["lag"]
        .as_i64()
        .unwrap();
    assert!(true_lag > 50_000);
    assert_eq!(audit["lag_estimated"], true);
    let estimate = audit["lag"].as_i64().unwrap();
    assert!(
        (estimate - true_lag).abs() * 100 < true_lag,
        "{estimate} vs {true_lag}"
    );
    // Below the bound the count is exact and says so.
    let orders = got
        .iter()
        .find(|c| c["consumer"] == "order-emails")
        .unwrap();
    assert_eq!(orders["lag_estimated"], false);
    let table = ok(&["consumers", s(&db)]);
    assert!(table.contains(&format!("≈{estimate}")), "{table}");
}

#[test]
fn categories_an_import_named_are_followed_by_name() {
    let dir = tempfile::tempdir().unwrap();
    // Python eventsourcing: ids are UUIDs, the category is the aggregate's class.
    let source = common::eventsourcing(dir.path(), false);
    let copy = dir.path().join("copy.db");
    let envelopes = ok(&["events", s(&source), "--json"]);
    let file = dir.path().join("all.ndjson");
    std::fs::write(&file, envelopes).unwrap();
    ok(&["import", s(&file), "--out", s(&copy)]);
    let c = Connection::open(&copy).unwrap();
    let (stream, category): (String, String) = c
        .query_row(
            "SELECT stream_id, category FROM stream_categories LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_ne!(
        category,
        stream.split('-').next().unwrap(),
        "a named category"
    );
    c.execute(
        "INSERT INTO checkpoints (name, follows, position) VALUES ('by-name', ?1, 1), ('all', '$all', 2)",
        [&category],
    )
    .unwrap();
    drop(c);
    let want = sorted(reference(&copy, "native", &checkpoints(&copy)));
    let by_name = want.iter().find(|c| c["consumer"] == "by-name").unwrap();
    assert!(by_name["lag"].as_i64() > Some(0), "{want:?}");
    assert_eq!(answer(&["consumers", s(&copy), "--json"]), want);
}

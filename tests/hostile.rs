//! Hostile stores: no byte of a store reaches the terminal unescaped, however it is shown.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use common::bin::run;
use common::bin::s;

/// A stream id that sets the terminal's title, rings the bell, clears the screen and
/// reverses the text after it.
const EVIL: &str = "Evil-\u{1b}]0;owned\u{7}\u{1b}[2J\u{9b}31m\u{202e}txt.exe";

fn hostile_store(dir: &Path) -> PathBuf {
    let p = dir.join("hostile.db");
    drop(eventscope::store::Store::create(&p).unwrap());
    let c = rusqlite::Connection::open(&p).unwrap();
    c.execute(
        "INSERT INTO events (stream_id, version, event_id, event_type, data, metadata, timestamp) VALUES (?1, 1, 'e1', ?2, ?3, '{}', ?4)",
        rusqlite::params![
            EVIL,
            "Type\u{1b}[31m\nInjected",
            r#"{"note": "\u001b[2J\u009b\u202e"}"#,
            "2024-03-01T09:00:00Z\u{1b}[5m"
        ],
    )
    .unwrap();
    c.execute(
        "INSERT INTO snapshots (stream_id, version, data, created_at) VALUES (?1, 1, '{\"a\": \"\u{1b}]0;x\u{7}\"}', 'now')",
        [EVIL],
    )
    .unwrap();
    p
}

/// No C0 control but newline, no DEL, no C1 control, no bidi control.
fn assert_clean(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for c in text.chars() {
        let bad = (c < ' ' && c != '\n')
            || ('\u{7f}'..='\u{9f}').contains(&c)
            || ('\u{202a}'..='\u{202e}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c);
        assert!(!bad, "{what}: raw {:?} in {text:?}", c);
    }
}

#[test]
fn no_control_byte_of_a_store_reaches_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let db = hostile_store(dir.path());
    let db = s(&db);
    for args in [
        vec!["streams", db],
        vec!["events", db],
        vec!["events", db, "--stream", EVIL],
        vec!["state", db, EVIL],
        vec!["state", db, EVIL, "--at-time", "2024"],
        vec!["diff", db, EVIL, "--from", "0"],
        vec!["check", db],
        vec!["snapshots", db],
        vec!["state", db, "Evil-no-such"],
        vec!["events", db, "--stream", "Evil-\u{1b}[2J"],
    ] {
        let out = run(&args);
        assert_clean(&format!("{:?} stdout", &args[..1]), &out.stdout);
        assert_clean(&format!("{:?} stderr", &args[..1]), &out.stderr);
    }
    // The id is shown whole, escaped, never cut.
    let out = run(&["streams", db]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Evil-\\x1b]0;owned\\x07\\x1b[2J\\x9b31m\\u{202e}txt.exe"),
        "{text}"
    );
}

#[test]
fn a_newline_in_a_stream_id_stays_on_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("nl.db");
    drop(eventscope::store::Store::create(&p).unwrap());
    let c = rusqlite::Connection::open(&p).unwrap();
    for v in 1..=2 {
        c.execute(
            "INSERT INTO events (stream_id, version, event_id, event_type, data, metadata, timestamp) VALUES ('Two\nLines', ?1, ?2, 'T', '{\"k\\n\": 1}', '{}', '2024-03-01T09:00:00Z')",
            rusqlite::params![v, format!("e{v}")],
        )
        .unwrap();
    }
    drop(c);
    let out = run(&["events", s(&p)]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().count(),
        3,
        "header and two events"
    );
    let out = run(&["check", s(&p)]);
    assert!(out.status.success());
    let out = run(&["state", s(&p), "Two\nLines"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .next()
            .unwrap()
            .starts_with("Two\\x0aLines at version 2"),
        "{text}"
    );
}

#[test]
fn rows_whose_version_is_no_integer_break_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.db");
    common::bin::ok(&["demo", "--out", s(&p)]);
    let c = rusqlite::Connection::open(&p).unwrap();
    for (v, id) in [
        (rusqlite::types::Value::Integer(1), "b1"),
        (rusqlite::types::Value::Text("2a".into()), "b2"),
        (rusqlite::types::Value::Real(2.5), "b3"),
        (rusqlite::types::Value::Integer(3), "b4"),
    ] {
        c.execute(
            "INSERT INTO events (stream_id, version, event_id, event_type, data, metadata, timestamp) VALUES ('Bad-1', ?1, ?2, 'T', '{\"n\": 1}', '{}', '2024-03-01T10:00:00Z')",
            rusqlite::params![v, id],
        )
        .unwrap();
    }
    // NOT NULL in the native DDL keeps NULL out; a --map table could hold one.
    drop(c);
    let streams = common::bin::lines(&common::bin::ok(&["streams", s(&p), "--json"]));
    let bad = streams.iter().find(|s| s["stream_id"] == "Bad-1").unwrap();
    assert_eq!(
        (bad["events"].as_i64(), bad["bad_versions"].as_i64()),
        (Some(4), Some(2))
    );
    assert_eq!(bad["last_version"], 3);
    assert!(
        streams.iter().any(|s| s["stream_id"] == "Account-acc-1"),
        "the rest still lists"
    );
    let events = common::bin::lines(&common::bin::ok(&[
        "events",
        s(&p),
        "--stream",
        "Bad-1",
        "--json",
    ]));
    assert_eq!(events.len(), 4, "every row shown");
    assert_eq!(events[1]["bad_version"], "2a");
    let out = run(&["state", s(&p), "Bad-1", "--json"]);
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("2 row(s) whose version is not an integer")
    );
    let out = run(&["check", s(&p), "--json"]);
    let problems = common::bin::lines(&String::from_utf8_lossy(&out.stdout));
    let details: Vec<&str> = problems
        .iter()
        .filter(|p| p["problem"] == "version not an integer")
        .map(|p| p["detail"].as_str().unwrap())
        .collect();
    assert_eq!(details.len(), 2, "{problems:?}");
    assert!(
        details[0].starts_with("version \"2a\" at row 20 is not an integer"),
        "{details:?}"
    );
    let ok = common::bin::ok(&["state", s(&p), "Account-acc-1", "--json"]);
    assert!(ok.contains("\"amount\":50"));
}

/// Exit code and stderr of a command.
fn failing(args: &[&str]) -> (Option<i32>, String) {
    let out = run(args);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!err.contains("panicked"), "{err}");
    (out.status.code(), err)
}

#[test]
fn errors_people_can_act_on() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let db = d.join("bank.db");
    common::bin::ok(&["demo", "--out", s(&db)]);

    let (code, err) = failing(&["stream", s(&db)]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("unrecognized subcommand 'stream'; did you mean 'streams'?"),
        "{err}"
    );

    let (code, err) = failing(&["events", s(&db), "--limit", "9223372036854775808"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("not a count from 0 to 9223372036854775807"),
        "{err}"
    );
    assert_eq!(
        common::bin::ok(&["events", s(&db), "--json", "--limit", "9223372036854775807"])
            .lines()
            .count(),
        18
    );

    let (code, err) = failing(&["streams", s(d)]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("is a directory") && err.lines().count() == 1,
        "{err}"
    );

    let zeros = d.join("zeros.map");
    std::fs::write(&zeros, vec![0u8; 131_072]).unwrap();
    let (code, err) = failing(&["streams", s(&db), "--map", s(&zeros)]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("not a mapping file") && err.len() < 400,
        "{err}"
    );

    let array = d.join("array.ndjson");
    std::fs::write(
        &array,
        "[{\"stream_id\":\"A-1\",\"version\":1,\"type\":\"X\",\"data\":{}}]\n",
    )
    .unwrap();
    let (code, err) = failing(&["import", s(&array), "--out", s(&d.join("a.db"))]);
    assert_eq!(code, Some(1));
    assert!(err.contains("line 1 is a JSON array"), "{err}");
    assert!(!err.contains("--map"), "import never suggests --map: {err}");
    let empty = d.join("empty.db");
    std::fs::write(&empty, "").unwrap();
    let (_, err) = failing(&["import", s(&array), "--out", s(&empty)]);
    assert!(
        err.contains("already exists; import writes a new store"),
        "{err}"
    );

    let (code, err) = failing(&["demo", "--out", s(&d.join("h.db")), "--hot", "100"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("--hot 100 needs --events of at least 118"),
        "{err}"
    );
    assert!(!d.join("h.db").exists());
}

#[test]
fn a_crashed_writers_journal_is_named_not_called_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let script = r#"
import sqlite3, shutil, sys
d = sys.argv[1]
c = sqlite3.connect(d + "/orig.db", isolation_level=None)
c.execute("CREATE TABLE events (global_position INTEGER PRIMARY KEY, stream_id TEXT, version INTEGER, event_type TEXT, data TEXT)")
c.execute("PRAGMA cache_size=1")
c.execute("BEGIN")
for i in range(5000):
    c.execute("INSERT INTO events (stream_id, version, event_type, data) VALUES ('A-1', ?, 'T', ?)", (i + 1, "x" * 200))
shutil.copy(d + "/orig.db", d + "/crashed.db")
shutil.copy(d + "/orig.db-journal", d + "/crashed.db-journal")
c.execute("ROLLBACK")
"#;
    let ok = std::process::Command::new("python3")
        .args(["-c", script, s(dir.path())])
        .status()
        .expect("python3 runs");
    assert!(ok.success());
    let crashed = dir.path().join("crashed.db");
    let before = std::fs::read(&crashed).unwrap();
    let (code, err) = failing(&["streams", s(&crashed)]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("unfinished transaction") && err.contains("recovery"),
        "{err}"
    );
    assert_eq!(std::fs::read(&crashed).unwrap(), before);
    assert!(
        dir.path().join("crashed.db-journal").exists(),
        "the journal is left for recovery"
    );
}

#[test]
fn edited_demo_reducers_are_kept() {
    let cache = tempfile::tempdir().unwrap();
    let run_bare = || {
        common::bin::bin()
            .env("XDG_CACHE_HOME", cache.path())
            .output()
            .unwrap()
    };
    run_bare();
    let account = std::fs::read_dir(cache.path().join("eventscope"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "reducers"))
        .unwrap()
        .join("Account.jq");
    std::fs::write(&account, "# mine\n.").unwrap();
    run_bare();
    assert_eq!(std::fs::read_to_string(&account).unwrap(), "# mine\n.");
}

#[test]
fn reducers_merge_and_events_see_one_envelope() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("odd.db");
    drop(eventscope::store::Store::create(&p).unwrap());
    let c = rusqlite::Connection::open(&p).unwrap();
    let payloads: Vec<Vec<u8>> = vec![
        b"{\"s\": \"a\xffb\"}".to_vec(),
        b"{\"big\": 1e400, \"n\": 123456789012345678901234567890}".to_vec(),
        b"not json".to_vec(),
        b"{\"ok\": 1}".to_vec(),
    ];
    for (i, data) in payloads.iter().enumerate() {
        c.execute(
            "INSERT INTO events (stream_id, version, event_id, event_type, data, metadata, timestamp) VALUES ('Odd-1', ?1, ?2, 'T', ?3, ?4, '2024-01-01T00:00:00Z')",
            rusqlite::params![i as i64 + 1, format!("e{i}"), data, if i == 3 { "not json meta" } else { "{}" }],
        )
        .unwrap();
    }
    drop(c);
    let envelopes = common::bin::lines(&common::bin::ok(&[
        "events",
        s(&p),
        "--stream",
        "Odd-1",
        "--json",
    ]));
    assert!(envelopes[0]["undecodable"].is_string() && envelopes[2]["undecodable"].is_string());
    let echo = dir.path().join("echo.jq");
    std::fs::write(&echo, "$event").unwrap();
    let at = (1..=payloads.len())
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let seen = common::bin::lines(&common::bin::ok(&[
        "state",
        s(&p),
        "Odd-1",
        "--reducer",
        s(&echo),
        "--at",
        &at,
        "--json",
    ]));
    for (v, (env, got)) in envelopes.iter().zip(&seen).enumerate() {
        assert_eq!(
            env,
            got,
            "version {}: $event is the envelope events --json prints",
            v + 1
        );
    }
    // The merge takes only what decoded, and says nothing different.
    let merged = common::bin::lines(&common::bin::ok(&["state", s(&p), "Odd-1", "--json"]));
    assert_eq!(merged[0]["ok"], 1);
    assert!(
        merged[0].get("s").is_none(),
        "the undecodable payload is not merged"
    );
    assert_eq!(merged[0]["n"].to_string(), "123456789012345678901234567890");
}

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

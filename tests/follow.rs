//! `events --follow` prints the last 10 stored events of what the same command prints
//! afterwards, then exactly the rest of it, filter by filter, with a writer appending while
//! it follows: on SQLite and on PostgreSQL. A stream or category with no event yet is
//! waited for. `-n N` lists the last N, checked against a listing's tail.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::bin::{bin, demo, ok, s};
use common::pg::{Cluster, MESSAGE_DB_DDL};

/// Appended events: (stream, version, type, stored payload text, time). The payloads
/// are spaced as no serializer of ours would write them, so `--text` must test the
/// stored text.
fn appends() -> Vec<(String, i64, &'static str, String, String)> {
    let mut out = Vec::new();
    for i in 0..24i64 {
        let (stream, ty) = match i % 4 {
            0 => ("Account-new-9".to_string(), "MoneyDeposited"),
            1 => ("Later-1".to_string(), "Noted"),
            2 => (format!("Order-f{i}"), "MoneyDeposited"),
            _ => ("Account-acc-1".to_string(), "MoneyWithdrawn"),
        };
        let data = format!(r#"{{"amount" : {},  "note": "tick  {i}"}}"#, i % 7);
        let time = format!("2030-01-01T{:02}:{:02}:00Z", 9 + i / 12, i % 60);
        out.push((stream, i, ty, data, time));
    }
    out
}

const FILTERS: &[&[&str]] = &[
    &["--text", r#""amount" : 5"#],
    &["--where", ".data.amount > 3"],
    &["--type", "MoneyDeposited"],
    &["--category", "Account"],
    &["--since", "2030-01-01T09:10", "--until", "2030-01-01T10"],
    &["--stream", "Later-1"],
    &["--category", "Order", "--text", "tick  1"],
];

struct Following {
    child: Child,
    lines: mpsc::Receiver<String>,
    err: mpsc::Receiver<String>,
}

fn follow(target: &str, filter: &[&str]) -> Following {
    let mut child = bin()
        .args(["events", target, "--follow", "--json"])
        .args(filter)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pipe = |r: Box<dyn std::io::Read + Send>| {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(r).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        rx
    };
    let lines = pipe(Box::new(child.stdout.take().unwrap()));
    let err = pipe(Box::new(child.stderr.take().unwrap()));
    Following { child, lines, err }
}

/// Lines until `n` have come or nothing more comes for a while.
fn gather(rx: &mpsc::Receiver<String>, n: usize) -> Vec<String> {
    let mut got = Vec::new();
    let end = Instant::now() + Duration::from_secs(20);
    while got.len() < n && Instant::now() < end {
        if let Ok(l) = rx.recv_timeout(Duration::from_millis(100)) {
            got.push(l);
        }
    }
    // Anything past `n` is a duplicate or a stray: give it a moment to show.
    while let Ok(l) = rx.recv_timeout(Duration::from_millis(700)) {
        got.push(l);
    }
    got
}

/// For every filter: follow, append (in several commits), then compare with the same
/// command run afterwards.
fn followed_equals_afterwards(
    target: &str,
    mut append: impl FnMut(&[(String, i64, &'static str, String, String)]),
) {
    let rows = appends();
    let followers: Vec<Following> = FILTERS.iter().map(|f| follow(target, f)).collect();
    // Each has read the stored part and subscribed (the backlog is small).
    std::thread::sleep(Duration::from_millis(1500));
    for chunk in rows.chunks(5) {
        append(chunk);
        std::thread::sleep(Duration::from_millis(150));
    }
    let mut matched_appends = 0;
    for (mut f, filter) in followers.into_iter().zip(FILTERS) {
        let mut args = vec!["events", target, "--json"];
        args.extend_from_slice(filter);
        let afterwards: Vec<String> = ok(&args).lines().map(String::from).collect();
        // As `tail -f`: the last 10 of those stored before it started, then every append.
        let stored = afterwards
            .iter()
            .filter(|l| !l.contains("2030-01-01"))
            .count();
        let afterwards = afterwards[stored.saturating_sub(10)..].to_vec();
        let followed = gather(&f.lines, afterwards.len());
        let _ = f.child.kill();
        let _ = f.child.wait();
        assert_eq!(followed, afterwards, "--follow {filter:?} on {target}");
        matched_appends += afterwards
            .iter()
            .filter(|l| l.contains("2030-01-01"))
            .count();
        if filter == &["--stream", "Later-1"] {
            let said: Vec<String> = f.err.try_iter().collect();
            assert!(
                said.iter()
                    .filter(|l| l.contains("waiting for stream Later-1"))
                    .count()
                    == 1,
                "{said:?}"
            );
        }
    }
    assert!(
        matched_appends >= 30,
        "the filters matched appended events: {matched_appends}"
    );
}

#[test]
fn sqlite_follow_prints_what_the_command_prints_afterwards() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let writer = rusqlite::Connection::open(&db).unwrap();
    writer.busy_timeout(Duration::from_secs(5)).unwrap();
    let mut next_version = std::collections::HashMap::<String, i64>::new();
    followed_equals_afterwards(s(&db), |chunk| {
        let tx = writer.unchecked_transaction().unwrap();
        for (stream, i, ty, data, time) in chunk {
            let v = next_version.entry(stream.clone()).or_insert_with(|| {
                writer
                    .query_row(
                        "SELECT COALESCE(MAX(version), 0) FROM events WHERE stream_id = ?1",
                        [stream],
                        |r| r.get(0),
                    )
                    .unwrap()
            });
            *v += 1;
            tx.execute(
                "INSERT INTO events (stream_id, version, event_id, event_type, data, metadata, timestamp) VALUES (?1, ?2, ?3, ?4, ?5, '{}', ?6)",
                rusqlite::params![stream, *v, format!("f-{i}"), ty, data, time],
            )
            .unwrap();
        }
        tx.commit().unwrap();
    });
}

#[test]
fn postgres_follow_prints_what_the_command_prints_afterwards() {
    let Some(pg) = Cluster::available() else {
        return;
    };
    let url = pg.database(
        "follow",
        &format!(
            "{MESSAGE_DB_DDL}
         INSERT INTO message_store.messages (position, time, stream_name, type, data)
           VALUES (0, '2024-03-01 09:00', 'Account-acc-1', 'AccountOpened', '{{\"amount\": 5}}');"
        ),
    );
    let mut writer = pg.client("follow");
    followed_equals_afterwards(&url, |chunk| {
        let mut tx = writer.transaction().unwrap();
        for (stream, _, ty, data, time) in chunk {
            tx.execute(
                "INSERT INTO message_store.messages (position, time, stream_name, type, data)
                 SELECT COALESCE(MAX(position) + 1, 0), $4::text::timestamptz AT TIME ZONE 'utc', $1::text, $2::text, $3::text::jsonb
                 FROM message_store.messages WHERE stream_name = $1",
                &[stream, ty, data, time],
            )
            .unwrap();
        }
        tx.commit().unwrap();
    });
}

/// `-n N` lists the tail of what the same command lists whole, for every filter and
/// several N, on a log long enough that the tail is found in growing windows.
#[test]
fn last_n_is_the_tail_of_the_listing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("big.db");
    ok(&["demo", "--out", s(&db), "--events", "5000"]);
    let filters: &[&[&str]] = &[
        &[],
        &["--type", "MoneyDeposited"],
        &["--where", ".data.amount > 400"],
        &["--stream", "Account-acc-1"],
        &["--from", "4990"],
    ];
    for filter in filters {
        let mut args = vec!["events", s(&db), "--json"];
        args.extend_from_slice(filter);
        let all: Vec<String> = ok(&args).lines().map(String::from).collect();
        assert!(!all.is_empty(), "{filter:?} matches something");
        for n in [0usize, 1, 7, 2000, 100_000] {
            let count = n.to_string();
            let mut with_n = args.clone();
            with_n.extend(["-n", &count]);
            let tail: Vec<String> = ok(&with_n).lines().map(String::from).collect();
            assert_eq!(
                tail,
                all[all.len().saturating_sub(n)..],
                "{filter:?} -n {n}"
            );
        }
    }
}

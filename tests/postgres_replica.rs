//! A hot standby read as a primary is: a real streaming replica (`pg_basebackup -R` from
//! this binary's server, both on 127.0.0.1) answers every listing and replay as the
//! primary does once replay has caught up, and `--follow` on it (no LISTEN, no snapshot
//! export during recovery) sees what the primary commits, each once.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::bin::{lines, ok, run};
use common::follower::Follower;
use common::pg::{go_mink_sql, Cluster};
use serde_json::Value;

/// Waits until the standby has replayed everything the primary has written.
fn caught_up(
    primary: &mut postgres::Client,
    standby: &mut postgres::Client,
    standby_log: &std::path::Path,
) {
    let lsn: String = primary
        .query_one("SELECT pg_current_wal_lsn()::text", &[])
        .unwrap()
        .get(0);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let done: bool = standby
            .query_one(
                "SELECT pg_last_wal_replay_lsn() >= $1::text::pg_lsn",
                &[&lsn],
            )
            .unwrap()
            .get(0);
        if done {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the standby did not catch up: {}",
            std::fs::read_to_string(standby_log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_hot_standby_answers_as_its_primary() {
    let Some(primary) = Cluster::available() else {
        return;
    };
    let url = primary.database("mink", &go_mink_sql());
    let standby = primary.standby();
    let replica = standby.url("mink");
    let mut writer = primary.client("mink");
    let mut reader = standby.client("mink");
    let in_recovery: bool = reader
        .query_one("SELECT pg_is_in_recovery()", &[])
        .unwrap()
        .get(0);
    assert!(in_recovery, "a standby");
    // Written after the base backup: it reaches the standby by streaming.
    writer
        .batch_execute(
            "INSERT INTO mink.events (stream_id, version, event_type, data) VALUES ('Account-acc2', 2, 'Deposited', '{\"amount\": 7}');
             UPDATE mink.streams SET version = 2 WHERE stream_id = 'Account-acc2';",
        )
        .unwrap();
    caught_up(&mut writer, &mut reader, &standby.dir().join("log"));
    for args in [
        vec!["streams", "--json"],
        vec!["events", "--json"],
        vec!["stats", "--json"],
        vec!["types", "--json"],
        vec!["state", "Account-acc1", "--json"],
        vec!["state", "Account-acc2", "--at", "2", "--json"],
        vec!["blame", "Account-acc1", "--json"],
    ] {
        let on = |target: &str| {
            let mut a = args.clone();
            a.insert(1, target);
            ok(&a)
        };
        assert_eq!(on(&replica), on(&url), "{args:?}");
    }
    // --replica: with the standby's replay paused, a row committed on the primary is in
    // what the primary answers and not in what the heavy scans read from the replica.
    reader
        .batch_execute("SELECT pg_wal_replay_pause()")
        .unwrap();
    let before = lines(&ok(&["events", &url, "--json"])).len();
    writer
        .batch_execute(
            "INSERT INTO mink.events (stream_id, version, event_type, data) VALUES ('Account-acc9', 1, 'Opened', '{}')",
        )
        .unwrap();
    let with_replica = |args: &[&str]| {
        let out = run(&[args, &["--replica", &replica]].concat());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        (String::from_utf8(out.stdout).unwrap(), err)
    };
    let (events, said) = with_replica(&["events", &url, "--json"]);
    assert_eq!(lines(&events).len(), before, "the replica answered");
    assert!(
        said.contains("answered by the replica postgres://"),
        "{said}"
    );
    let (stats, _) = with_replica(&["stats", &url, "--json"]);
    let stats: Value = serde_json::from_str(&stats).unwrap();
    assert_eq!(stats["events"], before);
    assert_eq!(lines(&ok(&["events", &url, "--json"])).len(), before + 1);
    // A small read stays on the primary, and says nothing of the replica.
    let (state, said) = with_replica(&["state", &url, "Account-acc9", "--json"]);
    assert_eq!(state.trim(), "{}");
    assert!(!said.contains("replica"), "{said}");
    reader
        .batch_execute("SELECT pg_wal_replay_resume()")
        .unwrap();
    caught_up(&mut writer, &mut reader, &standby.dir().join("log"));
    // Following the standby: each commit on the primary arrives once, in order.
    let existing = lines(&ok(&["events", &url, "--json"])).len();
    let follower = Follower::start(&replica);
    let mut seen: Vec<Value> = Vec::new();
    // The log as it stands first (a loaded machine may take seconds to print it).
    follower.settle_until(&mut seen, Duration::from_secs(20), |s| s.len() >= existing);
    let start = seen.len();
    assert_eq!(start, existing);
    for v in 3..=5 {
        writer
            .execute(
                "INSERT INTO mink.events (stream_id, version, event_type, data) VALUES ('Account-acc2', $1, 'Deposited', '{\"amount\": 1}')",
                &[&(v as i64)],
            )
            .unwrap();
    }
    follower.settle_until(&mut seen, Duration::from_secs(20), |s| s.len() >= start + 3);
    let errors = follower.errors.lock().unwrap().clone();
    let versions: Vec<i64> = seen[start..]
        .iter()
        .map(|e| e["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [3, 4, 5], "stderr: {errors}");
    assert_eq!(
        errors.matches("hot standby").count(),
        1,
        "said once: {errors}"
    );
}

/// A standby that replays the primary's cleanup under a command's snapshot cancels the
/// read: the command fails in one line naming the cause and the settings, never prints a
/// partial answer with exit 0.
#[test]
fn a_read_cancelled_by_recovery_fails_in_one_line() {
    let Some(primary) = Cluster::available() else {
        return;
    };
    primary.database("conflict", &go_mink_sql());
    let mut writer = primary.client("conflict");
    writer
        .batch_execute(
            "INSERT INTO mink.events (stream_id, version, event_type, data)
               SELECT 'Account-bulk', v, 'Deposited', jsonb_build_object('amount', v, 'note', repeat('x', 200))
               FROM generate_series(1, 30000) v;",
        )
        .unwrap();
    let standby =
        primary.standby_with("-c max_standby_streaming_delay=0 -c hot_standby_feedback=off");
    let mut reader = standby.client("conflict");
    caught_up(&mut writer, &mut reader, &standby.dir().join("log"));
    let replica = standby.url("conflict");
    let mut child = common::bin::bin()
        .args(["events", &replica, "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut out, &mut first).unwrap();
    // The command holds its snapshot, blocked on the full pipe: the primary removes rows
    // it still sees, and the standby replays that.
    writer
        .batch_execute("DELETE FROM mink.events WHERE stream_id = 'Account-bulk'")
        .unwrap();
    writer.batch_execute("VACUUM mink.events").unwrap();
    caught_up(&mut writer, &mut reader, &standby.dir().join("log"));
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    let output = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    let printed = 1 + rest.lines().count();
    if output.status.success() {
        // The read finished before the standby replayed the cleanup: then it is whole.
        assert_eq!(printed, 30_005, "exit 0 with a partial answer: {err}");
        return;
    }
    assert!(err.contains("max_standby_streaming_delay"), "{err}");
    assert!(err.contains("hot_standby_feedback"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

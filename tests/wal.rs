//! WAL stores: every read is a consistent snapshot of all committed data, `-wal` included,
//! whatever other processes do meanwhile; the database file is never written; and the files
//! SQLite makes beside it are gone once eventscope exits, unless another process uses them.
#![allow(clippy::unwrap_used)]

mod common;

use common::listing;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::bin::{bin, fails, lines, ok, s};
use rusqlite::{params, Connection};

/// A native store with `n` events, in WAL mode, no process attached.
fn wal_store(dir: &Path, n: i64) -> PathBuf {
    let p = dir.join("live.db");
    drop(eventscope::store::Store::create(&p).unwrap());
    let mut c = Connection::open(&p).unwrap();
    c.query_row("PRAGMA journal_mode=WAL", [], |r| r.get::<_, String>(0))
        .unwrap();
    append(&mut c, 0, n);
    drop(c);
    p
}

/// Appends events `from+1..=from+n` in one transaction (stream Load-<i % 50>).
fn append(c: &mut Connection, from: i64, n: i64) {
    let tx = c.transaction().unwrap();
    {
        let mut stmt = tx
            .prepare("INSERT INTO events (stream_id, version, event_id, event_type, data, metadata, timestamp) VALUES (?1, (SELECT COALESCE(MAX(version), 0) + 1 FROM events WHERE stream_id = ?1), ?2, 'Loaded', ?3, '{}', '2024-03-01T09:00:00.000001Z')")
            .unwrap();
        for i in from + 1..=from + n {
            stmt.execute(params![
                format!("Load-{}", i % 50),
                format!("e{i}"),
                format!("{{\"i\":{i}}}")
            ])
            .unwrap();
        }
    }
    tx.commit().unwrap();
}

/// A writer that keeps its connection open and never checkpoints: its commits live only in
/// the `-wal` file.
fn writer_with_frames(db: &Path, from: i64, n: i64) -> Connection {
    let mut c = Connection::open(db).unwrap();
    c.execute_batch("PRAGMA wal_autocheckpoint=0").unwrap();
    append(&mut c, from, n);
    c
}

fn positions(out: &str) -> Vec<i64> {
    lines(out)
        .iter()
        .map(|e| e["global_position"].as_i64().unwrap())
        .collect()
}

#[test]
fn a_symlinked_live_store_shows_committed_wal_frames() {
    let dir = tempfile::tempdir().unwrap();
    let db = wal_store(dir.path(), 10);
    let app = writer_with_frames(&db, 10, 5);
    let link = dir.path().join("link.db");
    std::os::unix::fs::symlink(&db, &link).unwrap();
    let before = (std::fs::read(&db).unwrap(), listing(dir.path()));
    let got = positions(&ok(&["events", s(&link), "--json"]));
    assert_eq!(
        got,
        (1..=15).collect::<Vec<_>>(),
        "the 5 events in -wal are there"
    );
    let table = ok(&["streams", s(&link)]);
    assert_eq!(
        table.lines().count(),
        1 + 15 + 1,
        "header, 15 streams, totals"
    );
    assert_eq!(table.lines().last(), Some("15 streams, 15 events"));
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before.0,
        "the database file is not written"
    );
    assert_eq!(
        listing(dir.path()),
        before.1,
        "the writer's files stay as they were"
    );
    drop(app);
}

#[test]
fn a_copy_without_its_shm_is_read_whole_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let db = wal_store(dir.path(), 10);
    let app = writer_with_frames(&db, 10, 7);
    let copy_dir = tempfile::tempdir().unwrap();
    let copy = copy_dir.path().join("copy.db");
    std::fs::copy(&db, &copy).unwrap();
    std::fs::copy(
        dir.path().join("live.db-wal"),
        copy_dir.path().join("copy.db-wal"),
    )
    .unwrap();
    drop(app);
    let before = (std::fs::read(&copy).unwrap(), listing(copy_dir.path()));
    assert_eq!(before.1, vec!["copy.db", "copy.db-wal"]);
    for args in [
        vec!["events", s(&copy), "--json"],
        vec!["state", s(&copy), "Load-1", "--json"],
        vec!["check", s(&copy)],
        vec!["snapshots", s(&copy)],
    ] {
        let out = ok(&args);
        if args[0] == "events" {
            assert_eq!(positions(&out), (1..=17).collect::<Vec<_>>());
        }
        assert_eq!(
            std::fs::read(&copy).unwrap(),
            before.0,
            "{args:?} wrote the store"
        );
        assert_eq!(listing(copy_dir.path()), before.1, "{args:?} left files");
    }
}

#[test]
fn an_exclusive_locking_writer_is_waited_for_and_its_frames_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let db = wal_store(dir.path(), 10);
    // The application: exclusive locking mode, so it keeps no -shm; it commits 3 events,
    // holds on, then dies without a checkpoint.
    let script = r#"
import os, sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("PRAGMA locking_mode=EXCLUSIVE")
c.execute("PRAGMA wal_autocheckpoint=0")
c.execute("BEGIN")
for i in range(11, 14):
    c.execute("INSERT INTO events (stream_id, version, event_id, event_type, data, metadata, timestamp) VALUES ('Excl-1', ?, ?, 'Done', '{}', '{}', '2024-03-01T10:00:00Z')", (i - 10, "x%d" % i))
c.execute("COMMIT")
print("committed", flush=True)
sys.stdin.readline()
os._exit(0)
"#;
    let mut app = Command::new("python3")
        .args(["-c", script, s(&db)])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let mut line = String::new();
    BufReader::new(app.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "committed");
    // While it holds its lock, a read waits and then says so: never a partial answer.
    let err = fails(&["events", s(&db), "--json", "--busy-timeout", "300"]);
    assert!(err.contains("locked"), "{err}");
    drop(app.stdin.take());
    app.wait().unwrap();
    assert!(
        dir.path().join("live.db-wal").exists(),
        "its frames are only in -wal"
    );
    let got = positions(&ok(&["events", s(&db), "--json"]));
    assert_eq!(got, (1..=13).collect::<Vec<_>>());
    assert!(
        !dir.path().join("live.db-shm").exists(),
        "the index eventscope made is gone"
    );
}

#[test]
fn a_writer_that_checkpoints_during_a_long_read_changes_nothing_it_reads() {
    let dir = tempfile::tempdir().unwrap();
    let n = 200_000;
    // Written in rollback-journal mode: the application switches to WAL during the read.
    let db = dir.path().join("big.db");
    drop(eventscope::store::Store::create(&db).unwrap());
    let mut c = Connection::open(&db).unwrap();
    append(&mut c, 0, n);
    drop(c);
    let mut child = bin()
        .args(["events", s(&db), "--json"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    // The reader is now blocked on a full pipe, its snapshot taken. The application starts.
    let writer = std::thread::spawn({
        let db = db.clone();
        move || {
            let mut c = Connection::open(&db).unwrap();
            c.busy_timeout(Duration::from_secs(30)).unwrap();
            let mode: String = c
                .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
                .unwrap_or_default();
            let mut written = 0;
            for round in 0..40 {
                append(&mut c, n + round * 25, 25);
                written += 25;
                let _ = c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
            }
            (mode, written)
        }
    });
    std::thread::sleep(Duration::from_millis(300));
    let mut seen = vec![serde_json::from_str::<serde_json::Value>(&first).unwrap()
        ["global_position"]
        .as_i64()
        .unwrap()];
    for line in out.lines() {
        let v: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
        seen.push(v["global_position"].as_i64().unwrap());
    }
    let status = child.wait().unwrap();
    let (_mode, written) = writer.join().unwrap();
    assert!(status.success());
    assert_eq!(
        seen.len() as i64,
        n,
        "exactly what was committed when the read began"
    );
    assert!(
        seen.windows(2).all(|w| w[1] == w[0] + 1),
        "no event missing, none twice"
    );
    let after = positions(&ok(&[
        "events",
        s(&db),
        "--json",
        "--from",
        &(n + 1).to_string(),
    ]));
    assert_eq!(
        after.len() as i64,
        written,
        "and the next read sees the writer's events"
    );
}

/// Runs the binary as an unprivileged user when the tests run as root (who may write
/// anywhere), so that a read-only directory is read-only for it.
fn unprivileged(args: &[&str]) -> Command {
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let mut c = if is_root {
        // A copy nobody can reach, wherever the checkout lives.
        static COPY: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
        let exe = COPY.get_or_init(|| {
            use std::os::unix::fs::PermissionsExt;
            let dir = std::env::temp_dir().join(format!("eventscope-bin-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
            let exe = dir.join("eventscope");
            std::fs::copy(env!("CARGO_BIN_EXE_eventscope"), &exe).unwrap();
            std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
            exe
        });
        let mut c = Command::new("runuser");
        c.args(["-u", "nobody", "--"]).arg(exe);
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_eventscope"))
    };
    c.args(args).env("NO_COLOR", "1");
    c
}

fn read_only_dir(files: &[(&Path, &str)]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let ro = dir.path().join("backup");
    std::fs::create_dir(&ro).unwrap();
    for (from, name) in files {
        std::fs::copy(from, ro.join(name)).unwrap();
    }
    use std::os::unix::fs::PermissionsExt;
    for f in std::fs::read_dir(&ro).unwrap() {
        std::fs::set_permissions(f.unwrap().path(), std::fs::Permissions::from_mode(0o444))
            .unwrap();
    }
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    (dir, ro)
}

#[test]
fn a_read_only_directory_works_for_every_command() {
    let src = tempfile::tempdir().unwrap();
    let db = wal_store(src.path(), 10);
    let app = writer_with_frames(&db, 10, 4);
    // With WAL content (read from a private copy) and without (read as it is).
    let (_keep, ro) = read_only_dir(&[
        (&db, "live.db"),
        (&src.path().join("live.db-wal"), "live.db-wal"),
    ]);
    drop(app);
    let c = Connection::open(&db).unwrap();
    c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    drop(c);
    let (_keep2, ro_idle) = read_only_dir(&[(&db, "live.db")]);
    for (place, want) in [(&ro, 14), (&ro_idle, 14)] {
        let store = place.join("live.db");
        let before = listing(place);
        for args in [
            vec!["events", s(&store), "--json"],
            vec!["streams", s(&store)],
            vec!["state", s(&store), "Load-1", "--json"],
            vec!["check", s(&store)],
        ] {
            let out = unprivileged(&args).output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{args:?}: {err}");
            if args[0] == "events" {
                let got = positions(&String::from_utf8_lossy(&out.stdout));
                assert_eq!(got, (1..=want).collect::<Vec<_>>(), "{place:?}");
            }
            assert_eq!(listing(place), before);
        }
        // --follow there: polls, says so in one line, and stops cleanly.
        let mut follow = unprivileged(&["events", s(&store), "--follow", "--json", "-n", "100"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(follow.stdout.take().unwrap());
        let mut got = 0;
        let mut line = String::new();
        while got < want && out.read_line(&mut line).unwrap() > 0 {
            got += 1;
        }
        assert_eq!(got, want);
        let _ = Command::new("kill")
            .args(["-TERM", &follow.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while follow.try_wait().unwrap().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut err = String::new();
        std::io::Read::read_to_string(&mut follow.stderr.take().unwrap(), &mut err).unwrap();
        assert!(err.contains("read-only place"), "{err}");
        assert_eq!(listing(place), before);
    }
}

#[test]
fn follow_leaves_nothing_behind_and_sees_a_writer_come_and_go() {
    let dir = tempfile::tempdir().unwrap();
    let db = wal_store(dir.path(), 10);
    assert_eq!(listing(dir.path()), vec!["live.db"]);
    let before = std::fs::read(&db).unwrap();
    let mut follow = bin()
        .args(["events", s(&db), "--follow", "--json"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = follow.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                return;
            }
        }
    });
    let take = |n: usize| -> Vec<String> {
        (0..n)
            .map(|_| rx.recv_timeout(Duration::from_secs(30)).expect("an event"))
            .collect()
    };
    assert_eq!(take(10).len(), 10);
    // The application opens, writes, and closes again while eventscope follows.
    let mut app = Connection::open(&db).unwrap();
    append(&mut app, 10, 6);
    drop(app);
    let got: Vec<i64> = take(6)
        .iter()
        .map(|l| lines(l)[0]["global_position"].as_i64().unwrap())
        .collect();
    assert_eq!(got, (11..=16).collect::<Vec<_>>());
    let _ = Command::new("kill")
        .args(["-INT", &follow.id().to_string()])
        .status();
    let status = follow.wait().unwrap();
    assert!(status.success(), "Ctrl-C ends --follow cleanly: {status}");
    let left = listing(dir.path());
    assert!(!left.contains(&"live.db-shm".to_string()), "{left:?}");
    // A -wal holding committed frames is the application's data: it stays, and only then.
    if left.contains(&"live.db-wal".to_string()) {
        assert!(
            std::fs::metadata(dir.path().join("live.db-wal"))
                .unwrap()
                .len()
                > 0
        );
    }
    let _ = before;
}

#[test]
fn one_shot_commands_on_an_idle_wal_store_leave_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let db = wal_store(dir.path(), 20);
    let before = std::fs::read(&db).unwrap();
    let reducers = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/reducers");
    for args in [
        vec!["streams", s(&db)],
        vec!["events", s(&db), "--json", "--limit", "3"],
        vec!["state", s(&db), "Load-1", "--reducer", reducers],
        vec!["diff", s(&db), "Load-1", "--from", "0"],
        vec!["check", s(&db)],
        vec!["snapshots", s(&db), "--json"],
    ] {
        ok(&args);
        assert_eq!(std::fs::read(&db).unwrap(), before, "{args:?}");
        assert_eq!(listing(dir.path()), vec!["live.db"], "{args:?}");
    }
}

#[test]
fn follow_waits_through_a_writers_long_lock() {
    let dir = tempfile::tempdir().unwrap();
    // Rollback-journal mode: a writer's exclusive lock shuts readers out while it lasts.
    let db = dir.path().join("journal.db");
    drop(eventscope::store::Store::create(&db).unwrap());
    let mut c = Connection::open(&db).unwrap();
    append(&mut c, 0, 3);
    let mut follow = bin()
        .args([
            "events",
            s(&db),
            "--follow",
            "--json",
            "--busy-timeout",
            "100",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(follow.stdout.take().unwrap());
    let mut line = String::new();
    for _ in 0..3 {
        line.clear();
        out.read_line(&mut line).unwrap();
    }
    c.execute_batch("BEGIN EXCLUSIVE").unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        follow.try_wait().unwrap().is_none(),
        "still following through the lock"
    );
    c.execute_batch("INSERT INTO events (stream_id, version, event_id, event_type, data, metadata, timestamp) VALUES ('Late-1', 1, 'late', 'Came', '{}', '{}', '2024-03-01T10:00:00Z'); COMMIT")
        .unwrap();
    line.clear();
    out.read_line(&mut line).unwrap();
    assert_eq!(lines(&line)[0]["event_id"], "late");
    let _ = Command::new("kill")
        .args(["-TERM", &follow.id().to_string()])
        .status();
    assert!(follow.wait().unwrap().success());
}

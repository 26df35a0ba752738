//! The real binary in a real pseudo-terminal of the test's own (`common::pty`): keys are
//! written to it, its output drawn by a terminal parser. A few tests run it inside tmux,
//! where tmux itself matters (its escape time, its clipboard, its mouse reports, a signal
//! to the pane's process group); they are skipped with one line where tmux is absent.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const REDUCERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/reducers");

use common::pty::{patience, Term, EXCLUSIVE};

/// One tmux server of its own per test, so tests run in parallel without meeting.
struct Tmux {
    socket: String,
    _config: tempfile::TempDir,
    _shared: Option<std::sync::RwLockReadGuard<'static, ()>>,
}

impl Tmux {
    /// `command` in a tmux session of its own; `None` (after one line saying so) where
    /// tmux is not installed and the run does not require it.
    fn start(command: &str, width: u16, height: u16) -> Option<Tmux> {
        let present = Command::new("tmux").arg("-V").output();
        if !present.is_ok_and(|o| o.status.success()) {
            assert!(
                std::env::var_os("EVENTSCOPE_REQUIRE_SERVERS").is_none(),
                "tmux is needed for the tests of tmux itself (apt-get install tmux)"
            );
            static SAID: std::sync::Once = std::sync::Once::new();
            SAID.call_once(|| {
                use std::io::Write;
                let _ = writeln!(
                    std::io::stderr(),
                    "SKIPPED: the tests of tmux itself: no tmux (Debian: apt-get install tmux)"
                );
            });
            return None;
        }
        let shared = EXCLUSIVE.read().unwrap_or_else(|e| e.into_inner());
        let mut t = Tmux::start_alone(command, width, height);
        t._shared = Some(shared);
        Some(t)
    }

    /// For a test that already holds `EXCLUSIVE` for writing.
    fn start_alone(command: &str, width: u16, height: u16) -> Tmux {
        let which = Command::new("tmux").arg("-V").output();
        assert!(
            which.is_ok_and(|o| o.status.success()),
            "tmux is needed for the end-to-end tests (apt-get install tmux)"
        );
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let socket = format!("eventscope-{}-{n}", std::process::id());
        let config = tempfile::tempdir().unwrap();
        let t = Tmux {
            socket,
            _config: config,
            _shared: None,
        };
        let shell = t.shell(command);
        t.tmux(&[
            "new-session",
            "-d",
            "-s",
            "e2e",
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
            "sh",
            "-c",
            &shell,
        ]);
        t
    }

    /// The pane's shell line: the command with this test's own config and data
    /// directories, then its exit status on screen.
    fn shell(&self, command: &str) -> String {
        format!(
            "cd {dir} && XDG_CONFIG_HOME={cfg} XDG_DATA_HOME={cfg}/data {command}; echo EXITED $?; sleep 30",
            dir = env!("CARGO_MANIFEST_DIR"),
            cfg = self._config.path().display()
        )
    }

    /// Runs `command` in the pane anew (a second session of the same user).
    fn respawn(&self, command: &str) {
        let shell = self.shell(command);
        self.tmux(&["respawn-pane", "-k", "-t", "e2e", "sh", "-c", &shell]);
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.tmux(&["send-keys", "-t", "e2e", k]);
        }
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "e2e"])
    }

    /// Waits until every text is on the screen at once, and returns that screen.
    fn wait_for(&self, texts: &[&str]) -> String {
        self.wait_until_said(&format!("{texts:?}"), |screen| {
            texts.iter().all(|t| screen.contains(t))
        })
    }

    fn wait_until_said(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        common::pty::wait_on(what, || self.screen(), ready)
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

fn demo(dir: &Path) -> String {
    let path = dir.join("bank.db");
    let out = Command::new(env!("CARGO_BIN_EXE_eventscope"))
        .args(["demo", "--out", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    path.to_str().unwrap().to_string()
}

#[test]
fn seed_bank_example_in_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let bin = env!("CARGO_BIN_EXE_eventscope");
    let t = Term::start(&format!("{bin} {db} --reducer {REDUCERS}"), 100, 30);
    t.wait_for(&["$all", "acc-1"]);

    t.keys(&["/acc-1", "Enter"]);
    t.wait_for(&["4/4", "\"balance\": 120", "Events · Account-acc-1"]);

    t.keys(&["Home"]);
    t.wait_for(&["1/4", "\"balance\": 0"]);

    t.keys(&["Right", "Right"]);
    t.wait_for(&["3/4", "\"balance\": 70"]);

    t.keys(&["Home", "a", "End", "3"]);
    let screen = t.wait_for(&["A 1 → playhead 4", "~ /balance 0 → 120"]);
    assert!(screen.contains("4/4"), "{screen}");

    t.keys(&["?"]);
    t.wait_for(&[
        "Keys — Enter runs, Esc closes",
        "Here: the Events pane",
        "next pane",
    ]);
    // Where the terminal is short, the list goes on as the cursor does; F1 opens it too.
    t.keys(&["End"]);
    t.wait_for(&["While in overlay", "delete a character of the filter"]);
    t.keys(&["Escape"]);
    t.wait_until(|s| !s.contains("Keys — Enter runs"));
    t.keys(&["F1"]);
    t.wait_for(&["Keys — Enter runs"]);
    t.keys(&["/"]);
    t.type_text("utc local");
    t.wait_for(&["filter: utc local▏", "UTC / local time"]);
    t.keys(&["Enter"]);
    t.wait_for(&["not following · local time"]);
    t.keys(&["z"]);
    t.wait_for(&["not following · UTC"]);

    t.keys(&["Escape", "q"]);
    let screen = t.wait_for(&["EXITED 0"]);
    assert!(
        !screen.contains("Timeline"),
        "the normal screen is back:\n{screen}"
    );
}

#[test]
fn follow_shows_events_another_process_appends() {
    use eventscope::store::{ExpectedVersion, NewEvent, Store};
    let (dir, t) = bank_ui(100, 30);
    let db = dir.path().join("bank.db");
    t.keys(&["/acc-1", "Enter"]);
    t.wait_for(&["4/4", "\"balance\": 120"]);
    t.keys(&["f"]);
    t.wait_for(&["LIVE"]);

    let mut store = Store::open_writable(&db).unwrap();
    let deposit = NewEvent::new("MoneyDeposited", serde_json::json!({"amount": 5}));
    store
        .append("Account-acc-1", ExpectedVersion::Exact(4), &[deposit])
        .unwrap();
    t.wait_for(&["5/5", "\"balance\": 125"]);
    t.keys(&["q"]);
    t.wait_for(&["EXITED 0"]);
}

#[test]
fn bad_reducer_is_shown_at_its_version_and_browsing_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let reducer = dir.path().join("strict.jq");
    std::fs::write(
        &reducer,
        "if $event.type == \"MoneyWithdrawn\" then error(\"no overdrafts here\") else (. // {}) | .seen += 1 end",
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_eventscope");
    let t = Term::start(
        &format!("{bin} {db} --reducer {}", reducer.display()),
        100,
        30,
    );
    t.wait_for(&["acc-1"]);
    t.keys(&["/acc-1", "Enter", "Home", "Right", "Right"]);
    t.wait_for(&["3/4", "no overdrafts here", "\"seen\": 2"]);
    t.keys(&["Right"]);
    t.wait_for(&["4/4", "\"seen\": 3", "1 earlier event failed"]);
    t.keys(&["q"]);
    t.wait_for(&["EXITED 0"]);
}

#[test]
fn tiny_terminal_says_so_and_quits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let bin = env!("CARGO_BIN_EXE_eventscope");
    let t = Term::start(&format!("{bin} {db}"), 40, 10);
    t.wait_for(&["terminal too small"]);
    t.keys(&["q"]);
    t.wait_for(&["EXITED 0"]);
}

#[test]
fn a_bad_store_fails_before_taking_the_screen() {
    let bin = env!("CARGO_BIN_EXE_eventscope");
    let t = Term::start(&format!("{bin} /no/such.db"), 100, 30);
    let screen = t.wait_for(&["EXITED 1"]);
    assert!(
        screen.contains("eventscope: opening /no/such.db: /no/such.db: no such file"),
        "{screen}"
    );
}

#[test]
fn python_eventsourcing_store_in_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::eventsourcing(dir.path(), true);
    let reducers = dir.path().join("reducers");
    std::fs::create_dir(&reducers).unwrap();
    std::fs::write(
        reducers.join("BankAccount.jq"),
        "(. // {balance: 0}) | if $event.type == \"Deposited\" then .balance += $event.data.amount elif $event.type == \"Withdrawn\" then .balance -= $event.data.amount else .owner = $event.data.full_name end",
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_eventscope");
    let t = Term::start(
        &format!(
            "{bin} {} --reducer {} --no-snapshots",
            db.display(),
            reducers.display()
        ),
        100,
        30,
    );
    t.wait_for(&["BankAccount", &common::ACCOUNT_HEX[..8]]);
    t.keys(&["/4c0e", "Enter"]);
    t.wait_for(&["4/4", "\"balance\": 120", "\"owner\": \"Alice\""]);
    t.keys(&["Left", "2"]);
    t.wait_for(&[
        "3/4",
        "\"type\": \"Withdrawn\"",
        "bankaccounts.domainmodel:BankAccount.Withdrawn",
    ]);
    t.keys(&["q"]);
    t.wait_for(&["EXITED 0"]);
}

#[test]
fn a_scripted_session_leaves_the_store_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let before = std::fs::read(&db).unwrap();
    let files = || {
        let mut v: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        v.sort();
        v
    };
    let files_before = files();
    let bin = env!("CARGO_BIN_EXE_eventscope");
    let t = Term::start(&format!("{bin} {db} --reducer {REDUCERS}"), 100, 30);
    t.wait_for(&["▾ Order"]);
    t.keys(&[
        "j", "j", "Enter", "Home", "l", "a", "End", "3", "2", "f", "g", "2", "Enter", "t", "2024",
        "Enter", "z", "Tab", "Tab", "Enter", "?", "Escape",
    ]);
    t.wait_for(&["LIVE"]);
    t.keys(&["q"]);
    t.wait_for(&["EXITED 0"]);
    assert_eq!(std::fs::read(&db).unwrap(), before, "the store's bytes");
    assert_eq!(files(), files_before, "no files beside it");
}

/// The demo in the TUI with a reducer that loops forever on withdrawals, stopped after
/// `timeout` seconds; the reducer file is returned for editing.
fn looping_ui(timeout: &str) -> (tempfile::TempDir, std::path::PathBuf, Term) {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let jq = dir.path().join("loop.jq");
    std::fs::write(
        &jq,
        "if $event.type == \"MoneyWithdrawn\" then until(false; .) else (. // {}) | .n += 1 end",
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_eventscope");
    let t = Term::start(
        &format!(
            "{bin} {db} --reducer {} --reducer-timeout {timeout}",
            jq.display()
        ),
        100,
        30,
    );
    t.wait_for(&["acc-1"]);
    (dir, jq, t)
}

#[test]
fn a_runaway_reducer_is_stopped_and_the_ui_goes_on() {
    let (_dir, _jq, t) = looping_ui("0.3");
    t.keys(&["/acc-1", "Enter"]);
    t.wait_for(&[
        "did not finish within 0.3 s at Account-acc-1 version 3",
        "\"n\": 3",
    ]);
    t.keys(&["Home"]);
    t.wait_for(&["1/4", "\"n\": 1"]);
    t.keys(&["Right", "Right"]);
    t.wait_for(&["3/4", "(MoneyWithdrawn): did not finish within 0.3 s"]);
    // The stuck evaluation is stopped, not abandoned: one idle worker is left.
    let pids = one_worker(&t);
    assert_eq!(pids.len(), 1, "the stuck worker is gone: {pids:?}");
    let before = cpu_seconds(pids[0]);
    std::thread::sleep(Duration::from_secs(1));
    assert!(cpu_seconds(pids[0]) - before < 0.5, "nothing spins on");
    t.keys(&["q"]);
    t.wait_for(&["EXITED 0"]);
    assert!(worker_pids(&t).is_empty(), "quitting ends the worker");
}

#[test]
fn a_fixed_reducer_reloads_clean_after_the_old_one_hung() {
    let (_dir, jq, t) = looping_ui("0.5");
    t.keys(&["/acc-1", "Enter"]);
    t.wait_for(&["did not finish within 0.5 s at Account-acc-1 version 3"]);
    // Fixed on disk: every version is folded by the new reducer, the hung one included.
    std::fs::write(&jq, "(. // {}) | .n += 10").unwrap();
    let screen = t.wait_for(&["reducer reloaded", "4/4", "\"n\": 40"]);
    assert!(!screen.contains("skipped"), "{screen}");
    t.keys(&["Left"]);
    let screen = t.wait_for(&["3/4", "\"n\": 30"]);
    assert!(!screen.contains("did not finish"), "{screen}");
    t.keys(&["Left"]);
    let screen = t.wait_for(&["2/4", "\"n\": 20"]);
    assert!(!screen.contains("did not finish"), "{screen}");
    t.keys(&["q"]);
    t.wait_for(&["EXITED 0"]);
}

#[test]
fn a_ten_megabyte_payload_does_not_freeze_the_screen() {
    use eventscope::store::{ExpectedVersion, NewEvent, Store};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("big.db");
    let mut store = Store::create(&db).unwrap();
    // 10 MB in 20,000 items of half a kilobyte: as large as the original test's payload,
    // with a twentieth of its values to parse in a debug build.
    let items: Vec<serde_json::Value> = (0..20_000)
        .map(|i| serde_json::json!({"i": i, "label": "a line of padding ".repeat(28)}))
        .collect();
    store
        .append(
            "Blob-1",
            ExpectedVersion::NoStream,
            &[
                NewEvent::new("Small", serde_json::json!({"n": 1})),
                NewEvent::new("Huge", serde_json::json!({"items": items})),
                NewEvent::new("Small", serde_json::json!({"n": 2})),
            ],
        )
        .unwrap();
    drop(store);
    assert!(std::fs::metadata(&db).unwrap().len() > 10 << 20);
    let bin = env!("CARGO_BIN_EXE_eventscope");
    let t = Term::start(&format!("{bin} {}", db.display()), 100, 30);
    t.wait_for(&["▾ Blob"]);
    t.keys(&["/blob", "Enter", "Left"]);
    t.wait_for(&["2/3", "\"items\": ["]);
    t.keys(&["2"]);
    t.wait_for(&["\"type\": \"Huge\""]);
    t.keys(&["Right", "1"]);
    t.wait_for(&["3/3", "\"n\": 2"]);
    t.keys(&["q"]);
    t.wait_for(&["EXITED 0"]);
}

#[test]
fn endless_recursion_is_stopped_by_the_memory_guard_and_the_ui_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let jq = dir.path().join("recurse.jq");
    // Recursion without end: on the worker's deep stack it grows the process until the
    // memory guard stops it, instead of overflowing the stack.
    std::fs::write(&jq, "def f: [f]; if $event.version == 2 then f else . end").unwrap();
    let bin = env!("CARGO_BIN_EXE_eventscope");
    let t = Term::start(
        &format!("{bin} {db} --reducer {} --reducer-memory 256", jq.display()),
        140,
        30,
    );
    t.wait_for(&["acc-1"]);
    t.keys(&["/acc-1", "Enter"]);
    t.wait_for(&["grew the process past 256 MiB at Account-acc-1 version 2"]);
    t.keys(&["Home"]);
    t.wait_for(&["1/4"]);
    t.keys(&["q"]);
    let screen = t.wait_for(&["EXITED 0"]);
    assert!(
        !screen.contains("Timeline"),
        "the normal screen is back:\n{screen}"
    );
}

/// Processes of the TUI started with `config` as its config directory that have `with`
/// in their environment and not `without`.
fn pids_of(config: &Path, with: &str, without: Option<&str>) -> Vec<u32> {
    let marker = format!("XDG_CONFIG_HOME={}", config.display());
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|env| {
                let env = String::from_utf8_lossy(&env);
                let has = |v: &str| env.split('\0').any(|e| e == v);
                has(&marker) && has(with) && !without.is_some_and(has)
            })
        })
        .collect()
}

/// The worker processes of the TUI started by `t`.
fn worker_pids(t: &Term) -> Vec<u32> {
    pids_of(t.config.path(), "EVENTSCOPE_TUI_WORKER=1", None)
}

/// The worker processes once a stopped one is gone (one is left, or the patience runs out).
fn one_worker(t: &Term) -> Vec<u32> {
    let deadline = Instant::now() + patience();
    loop {
        let pids = worker_pids(t);
        if pids.len() == 1 || Instant::now() > deadline {
            return pids;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// CPU seconds a process has used.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0)
        + fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    ticks / 100.0
}

#[test]
fn the_terminal_ui_leaves_nothing_beside_a_wal_store() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get::<_, String>(0))
        .unwrap();
    let before = std::fs::read(&db).unwrap();
    let listing = || {
        let mut v: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(listing(), vec!["bank.db"]);
    let bin = env!("CARGO_BIN_EXE_eventscope");
    for follow in [false, true] {
        let t = Term::start(&format!("{bin} {db} --reducer {REDUCERS}"), 100, 30);
        t.wait_for(&["acc-1"]);
        t.keys(&["/acc-1", "Enter"]);
        t.wait_for(&["4/4", "\"balance\": 120"]);
        if follow {
            t.keys(&["f"]);
            t.wait_for(&["LIVE"]);
            // An application comes, writes and goes while the UI follows.
            let mut app = eventscope::store::Store::open_writable(&db).unwrap();
            let deposit = eventscope::store::NewEvent::new(
                "MoneyDeposited",
                serde_json::json!({"amount": 1}),
            );
            app.append(
                "Account-acc-1",
                eventscope::store::ExpectedVersion::Any,
                &[deposit],
            )
            .unwrap();
            drop(app);
            t.wait_for(&["5/5", "\"balance\": 121"]);
        }
        t.keys(&["q"]);
        t.wait_for(&["EXITED 0"]);
        let left = listing();
        assert!(
            !left.contains(&"bank.db-shm".to_string()),
            "follow={follow}: {left:?}"
        );
        if left.contains(&"bank.db-wal".to_string()) {
            let wal = std::fs::metadata(dir.path().join("bank.db-wal"))
                .unwrap()
                .len();
            assert!(
                follow && wal > 0,
                "only a -wal holding the application's frames stays"
            );
        }
        if !follow {
            assert_eq!(
                std::fs::read(&db).unwrap(),
                before,
                "the store is not written"
            );
        }
    }
}

#[test]
fn events_appended_while_not_following_are_counted_then_caught_up() {
    use eventscope::store::{ExpectedVersion, NewEvent, Store};
    let (dir, t) = bank_ui(100, 30);
    let db = dir.path().join("bank.db");
    t.keys(&["/acc-1", "Enter"]);
    t.wait_for(&["4/4", "\"balance\": 120"]);
    let mut store = Store::open_writable(&db).unwrap();
    for amount in [5, 7] {
        let deposit = NewEvent::new("MoneyDeposited", serde_json::json!({ "amount": amount }));
        store
            .append("Account-acc-1", ExpectedVersion::Any, &[deposit])
            .unwrap();
    }
    t.wait_for(&["2 new events: r refreshes, f follows"]);
    // Following now catches up from where the UI was: neither event is lost.
    t.keys(&["f"]);
    t.wait_for(&["LIVE", "6/6", "\"balance\": 132"]);
    t.keys(&["f"]);
    let deposit = NewEvent::new("MoneyDeposited", serde_json::json!({ "amount": 1 }));
    store
        .append("Account-acc-1", ExpectedVersion::Any, &[deposit])
        .unwrap();
    t.wait_for(&["1 new events"]);
    t.keys(&["Home", "a", "r"]);
    // The refresh keeps the playhead and the mark, and shows the new length.
    t.wait_for(&["1/7", "A 1"]);
    t.keys(&["q"]);
    t.wait_for(&["EXITED 0"]);
}

#[test]
fn streams_from_version_zero_and_missing_versions_in_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("axon.db");
    drop(eventscope::store::Store::create(&db).unwrap());
    let c = rusqlite::Connection::open(&db).unwrap();
    for (i, v) in [0, 1, 2, 4].iter().enumerate() {
        c.execute(
            "INSERT INTO events (stream_id, version, event_id, event_type, data, metadata, timestamp) VALUES ('Axon-1', ?, ?, 'Counted', ?, '{}', '2024-03-01T09:00:00Z')",
            rusqlite::params![v, format!("e{i}"), format!("{{\"n\": {}}}", i + 1)],
        )
        .unwrap();
    }
    drop(c);
    let bin = env!("CARGO_BIN_EXE_eventscope");
    let t = Term::start(&format!("{bin} {}", db.display()), 100, 30);
    t.wait_for(&["▾ Axon"]);
    t.keys(&["/Axon", "Enter"]);
    t.wait_for(&["4/4", "\"n\": 4"]);
    t.keys(&["Home"]);
    t.wait_for(&["0/4", "\"n\": 1"]);
    // Version 3 has no event: the state after version 2, as the CLI answers.
    t.keys(&[":", "3", "Enter"]);
    t.wait_for(&["3/4", "\"n\": 3", "(no event at this version)"]);
    // A find in the stream starts at its first version, 0, as the CLI's --where does.
    let cli = common::bin::ok(&[
        "events",
        db.to_str().unwrap(),
        "--stream",
        "Axon-1",
        "--where",
        ".data.n <= 2",
        "--json",
    ]);
    assert_eq!(common::bin::lines(&cli).len(), 2);
    t.keys(&["/"]);
    t.wait_for(&["Find events"]);
    t.type_text("?.data.n <= 2");
    t.keys(&["Enter"]);
    t.wait_for(&["match 1 of 2"]);
    t.keys(&["q"]);
    t.wait_for(&["EXITED 0"]);
}

/// The TUI on a fresh demo store with the bundled reducers, its stream list on screen.
fn bank_ui(width: u16, height: u16) -> (tempfile::TempDir, Term) {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let bin = env!("CARGO_BIN_EXE_eventscope");
    let t = Term::start(&format!("{bin} {db} --reducer {REDUCERS}"), width, height);
    t.wait_for(&["acc-1"]);
    (dir, t)
}

/// The TUI on a fresh demo store inside tmux, or `None` where tmux is absent.
fn bank_ui_in_tmux(width: u16, height: u16) -> Option<(tempfile::TempDir, Tmux)> {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let bin = env!("CARGO_BIN_EXE_eventscope");
    let t = Tmux::start(&format!("{bin} {db} --reducer {REDUCERS}"), width, height)?;
    t.wait_for(&["acc-1"]);
    Some((dir, t))
}

/// The TUI process itself (the guarded child, not the guard nor the worker).
fn ui_pid(t: &Term) -> Option<u32> {
    pids_of(
        t.config.path(),
        "EVENTSCOPE_TUI_CHILD=1",
        Some("EVENTSCOPE_TUI_WORKER=1"),
    )
    .first()
    .copied()
}

/// Nanoseconds every thread of a process has run, from the scheduler's own count.
fn run_nanos(pid: u32) -> u64 {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

#[test]
fn enter_on_an_event_opens_it_and_keeps_marks_and_playhead() {
    let (_dir, t) = bank_ui(100, 30);
    t.keys(&["/acc-1", "Enter"]);
    t.wait_for(&["4/4", "\"balance\": 120"]);
    t.keys(&["Left", "Left", "a", "Right", "b"]);
    t.wait_for(&["3/4", "A 2  B 3"]);
    t.keys(&["Enter"]);
    let screen = t.wait_for(&["\"type\": \"MoneyWithdrawn\"", "3/4", "A 2  B 3"]);
    assert!(screen.contains("2 Event"), "{screen}");
    t.keys(&["q"]);
    t.wait_for(&["EXITED 0"]);
}

#[test]
fn mouse_clicks_select_streams_events_and_tabs() {
    let Some((_dir, t)) = bank_ui_in_tmux(100, 30) else {
        return;
    };
    // SGR mouse reports, as a terminal sends them (1-based column;row).
    let click = |x: u16, y: u16| {
        let press = format!("\x1b[<0;{};{}M", x + 1, y + 1);
        let release = format!("\x1b[<0;{};{}m", x + 1, y + 1);
        t.tmux(&["send-keys", "-t", "e2e", "-l", &press]);
        t.tmux(&["send-keys", "-t", "e2e", "-l", &release]);
    };
    let screen = t.screen();
    let row = screen.lines().position(|l| l.contains("  acc-1 ")).unwrap() as u16;
    click(4, row);
    click(4, row);
    t.wait_for(&["Events · Account-acc-1", "4/4", "\"balance\": 120"]);
    // The events table: its first event row is two below its top border.
    let screen = t.screen();
    let first = screen
        .lines()
        .position(|l| l.contains("AccountOpened"))
        .unwrap() as u16;
    click(40, first);
    t.wait_for(&["1/4", "\"balance\": 0"]);
    // The Diff tab's title.
    let screen = t.screen();
    let (y, line) = screen
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains(" 3 Diff "))
        .unwrap();
    let x = line[..line.find(" 3 Diff ").unwrap()].chars().count() as u16 + 2;
    click(x, y as u16);
    t.wait_for(&["what the event at"]);
    t.keys(&["q"]);
    t.wait_for(&["EXITED 0"]);
}

#[test]
fn the_idle_ui_uses_almost_no_cpu() {
    // Alone: other tests' processes would make its few wake-ups dearer.
    let _alone = EXCLUSIVE.write().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let bin = env!("CARGO_BIN_EXE_eventscope");
    let t = Term::start_alone(&format!("{bin} {db} --reducer {REDUCERS}"), 100, 30);
    t.wait_for(&["acc-1"]);
    t.keys(&["/acc-1", "Enter"]);
    t.wait_for(&["4/4", "\"balance\": 120"]);
    let pid = ui_pid(&t).expect("the UI process");
    // Let the answers that follow opening (density, activity) land first.
    std::thread::sleep(Duration::from_secs(3));
    let window = Duration::from_secs(5);
    let before = run_nanos(pid);
    std::thread::sleep(window);
    let used = run_nanos(pid) - before;
    let share = used as f64 / window.as_nanos() as f64;
    eprintln!(
        "idle UI: {:.3} ms of CPU in {} s = {:.4}% of a core",
        used as f64 / 1e6,
        window.as_secs(),
        share * 100.0
    );
    assert!(
        share < 0.002,
        "idle UI used {:.3}% of a core",
        share * 100.0
    );
    t.keys(&["q"]);
    t.wait_for(&["EXITED 0"]);
}

#[test]
fn long_replays_show_a_progress_bar_on_a_terminal_and_nothing_when_piped() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hot.db");
    let bin = env!("CARGO_BIN_EXE_eventscope");
    let out = Command::new(bin)
        .args([
            "demo",
            "--out",
            db.to_str().unwrap(),
            "--events",
            "15000",
            "--hot",
            "12000",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    // Slow on purpose: each event spins, so the bar is on screen for a while.
    let jq = dir.path().join("slow.jq");
    std::fs::write(
        &jq,
        "reduce range(0; 300) as $i (.; .) | . + {n: ((.n // 0) + 1)}",
    )
    .unwrap();
    let command = format!(
        "{bin} state {} Account-hot --reducer {} > {}",
        db.display(),
        jq.display(),
        dir.path().join("state.json").display()
    );
    let t = Term::start(&command, 120, 10);
    let screen = t.wait_for(&["replaying Account-hot", "/12000", "left"]);
    assert!(screen.contains(" events/s"), "a rate is shown: {screen}");
    let screen = t.wait_for(&["EXITED 0"]);
    assert!(
        !screen.contains("replaying"),
        "the bar is cleared: {screen}"
    );
    let state = std::fs::read_to_string(dir.path().join("state.json")).unwrap();
    assert!(state.contains("\"n\": 12000"), "{state}");
    // Piped: stderr stays empty.
    let out = Command::new(bin)
        .args(["state", db.to_str().unwrap(), "Account-hot", "--reducer"])
        .arg(&jq)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn editing_the_reducer_reloads_it_and_a_broken_edit_keeps_the_old_one() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let jq = dir.path().join("count.jq");
    std::fs::write(&jq, "(. // {}) | .n = ((.n // 0) + 1)").unwrap();
    let bin = env!("CARGO_BIN_EXE_eventscope");
    let t = Term::start(&format!("{bin} {db} --reducer {}", jq.display()), 100, 30);
    t.wait_for(&["acc-1"]);
    t.keys(&["/acc-1", "Enter", "Left"]);
    t.wait_for(&["3/4", "\"n\": 3"]);
    std::fs::write(&jq, "(. // {}) | .n = ((.n // 0) + 10)").unwrap();
    t.wait_for(&["reducer reloaded", "3/4", "\"n\": 30"]);
    std::fs::write(&jq, "(. // {}) | .n = ((.n // 0) + ").unwrap();
    t.wait_for(&["reducer not reloaded, the old one is kept"]);
    t.keys(&["Right"]);
    t.wait_for(&["4/4", "\"n\": 40"]);
    t.keys(&["q"]);
    t.wait_for(&["EXITED 0"]);
}

#[test]
fn blame_when_and_what_if_in_the_terminal() {
    let (_dir, t) = bank_ui(100, 30);
    t.keys(&["/acc-1", "Enter"]);
    t.wait_for(&["4/4", "\"balance\": 120"]);
    // Blame: the gutter, then from the owner field to the event that set it.
    t.keys(&["B"]);
    t.wait_for(&["v1     \"owner\": \"Alice\"", "v4 ●   \"balance\": 120"]);
    t.keys(&["Tab", "Down", "Down", "J"]);
    t.wait_for(&["/owner last changed at version 1", "1/4"]);
    // When: the first version where the balance reaches 100, then the next turn.
    t.keys(&["B", "w"]);
    t.wait_for(&["When (jq on the state"]);
    t.type_text(".balance < 100");
    t.keys(&["Enter"]);
    t.wait_for(&["turns true at 2 versions", "1/4"]);
    t.keys(&[")"]);
    t.wait_for(&["3/4", "\"balance\": 70"]);
    // What-if: leave the withdrawal out and look at the end.
    t.keys(&["d", "$"]);
    t.wait_for(&["WHAT-IF without version(s) 3", "4/4", "\"balance\": 150"]);
    t.keys(&["D"]);
    t.wait_for(&["\"balance\": 120", "every event is back"]);
    t.keys(&["q"]);
    t.wait_for(&["EXITED 0"]);
}

#[test]
fn a_category_as_a_table_in_the_terminal() {
    let (_dir, t) = bank_ui(120, 30);
    // Under $all and the consumers row, the Account category.
    t.keys(&["Down", "Down", "Enter"]);
    let screen = t.wait_for(&["Account (category)", "4 Table", "Account-acc-2       3"]);
    assert!(screen.contains("Bob"), "{screen}");
    // Back to the category's first event: only acc-1 existed then.
    t.keys(&["^"]);
    let screen = t.wait_for(&["Account-acc-1       1"]);
    assert!(!screen.contains("Account-acc-2       "), "{screen}");
    // Enter on the table's row opens that stream at that point.
    t.keys(&["Tab", "Enter"]);
    t.wait_for(&["Events · Account-acc-1", "1/4", "\"balance\": 0"]);
    t.keys(&["q"]);
    t.wait_for(&["EXITED 0"]);
}

#[test]
fn finding_an_event_in_the_log_and_its_state() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let bin = env!("CARGO_BIN_EXE_eventscope");
    let t = Term::start(&format!("{bin} {db} --reducer {REDUCERS}"), 120, 30);
    t.wait_for(&["$all"]);
    // $all is the first row: open it, find the big deposit, go to it.
    t.keys(&["Enter"]);
    t.wait_for(&["Events · $all", "18/18"]);
    t.keys(&["/"]);
    t.wait_for(&["Find events"]);
    t.type_text("?.data.amount > 200");
    t.keys(&["Enter"]);
    // None at or after 18: around to the first, at 7.
    t.wait_for(&["match 1 of 1", "search wrapped to the top"]);
    t.wait_for(&["7/18", "Account-acc-2 @ v2", "\"balance\": 250"]);
    t.keys(&["^", "n"]);
    t.wait_for(&["7/18", "match 1 of 1"]);
    t.keys(&["q"]);
    t.wait_for(&["EXITED 0"]);
}

/// The terminal UI on a PostgreSQL URL: the stream list, a replay, and a session the
/// server drops, opened again with the UI saying so.
#[test]
fn a_postgres_store_in_the_terminal_survives_a_dropped_connection() {
    let Some(pg) = common::pg::Cluster::available() else {
        return;
    };
    let url = pg.database(
        "mdb",
        "CREATE SCHEMA message_store;
         CREATE TABLE message_store.messages (
           global_position bigserial PRIMARY KEY, position bigint NOT NULL,
           time TIMESTAMP WITHOUT TIME ZONE DEFAULT (now() AT TIME ZONE 'utc') NOT NULL,
           stream_name text NOT NULL, type text NOT NULL, data jsonb, metadata jsonb,
           id UUID NOT NULL DEFAULT gen_random_uuid());
         CREATE UNIQUE INDEX messages_stream ON message_store.messages (stream_name, position);
         INSERT INTO message_store.messages (position, stream_name, type, data) VALUES
           (0, 'account-acc1', 'Opened', '{\"owner\": \"ann\"}'),
           (1, 'account-acc1', 'Deposited', '{\"amount\": 100}'),
           (0, 'account-acc2', 'Opened', '{\"owner\": \"bob\"}'),
           (2, 'account-acc1', 'Withdrawn', '{\"amount\": 30}'),
           (3, 'account-acc1', 'Deposited', '{\"amount\": 50}');",
    );
    let bin = env!("CARGO_BIN_EXE_eventscope");
    let t = Term::start(
        &format!("{bin} '{url}' --reducer tests/fixtures/pg/bank.jq"),
        110,
        30,
    );
    t.wait_for(&["acc1", "acc2", "Streams 127.0.0.1:"]);
    t.keys(&["/acc1", "Enter"]);
    t.wait_for(&["4/4", "\"balance\": 120", "\"owner\": \"ann\""]);
    let mut admin = pg.client("mdb");
    let dropped = admin
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'eventscope' AND datname = 'mdb'",
            &[],
        )
        .unwrap();
    assert!(dropped > 0, "the UI's session was found");
    // Blame reads the stream again: on a new session, which the status line announces.
    t.keys(&["B"]);
    t.wait_for(&["reconnected"]);
    t.keys(&["Left"]);
    t.wait_for(&["3/4", "\"balance\": 70"]);
    t.keys(&["q"]);
    t.wait_for(&["EXITED 0"]);
}

#[test]
fn a_category_shows_the_event_under_the_playhead_in_its_own_stream() {
    let (_dir, t) = bank_ui(120, 35);
    t.keys(&["Down", "Down", "Enter"]);
    t.wait_for(&["Account (category)", "Account as of event 7", "175"]);
    t.keys(&["1"]);
    t.wait_for(&["Account-acc-2 @ v3", "\"balance\": 175"]);
    t.keys(&["2"]);
    t.wait_for(&[
        "\"type\": \"MoneyWithdrawn\"",
        "\"stream_id\": \"Account-acc-2\"",
    ]);
    t.keys(&["R"]);
    t.wait_for(&[
        "Related · correlationId corr-Account-acc-2",
        "17 Account-acc-2 v3",
    ]);
    t.keys(&["Escape", "Left", "Left", "1"]);
    t.wait_for(&["5/7", "Account-acc-1 @ v3", "\"balance\": 70"]);
    t.keys(&["q"]);
    t.wait_for(&["EXITED 0"]);
}

/// Resident memory of a process, in MiB.
fn rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

#[test]
fn a_category_replay_and_a_find_are_guarded_like_a_stream() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let jq = dir.path().join("grow.jq");
    std::fs::write(
        &jq,
        r#"if $event.type == "MoneyDeposited" then [range(1e15)] | length else (. // {}) | .n += 1 end"#,
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_eventscope");
    let t = Term::start(
        &format!(
            "{bin} {db} --reducer {} --reducer-timeout 0.5 --reducer-memory 256",
            jq.display()
        ),
        120,
        35,
    );
    t.wait_for(&["acc-1"]);
    t.keys(&["Down", "Down", "Enter"]);
    t.wait_for(&["Account as of event 7"]);
    // Each stream shows the error at its deposit, with the state before it.
    let screen = t.wait_for(&["Account-acc-1       1 1 ⚠", "Account-acc-2       1 1 ⚠"]);
    assert!(screen.contains("did not finish within 0.5 s"), "{screen}");
    let pids = one_worker(&t);
    assert_eq!(pids.len(), 1, "{pids:?}");
    assert!(rss_mib(pids[0]) < 256, "the worker stays under its limit");
    t.keys(&["q"]);
    t.wait_for(&["EXITED 0"]);
    drop(t);

    // A find whose predicate never ends: the find says so, and the UI goes on.
    let t = Term::start(
        &format!("{bin} {db} --reducer {REDUCERS} --reducer-timeout 0.5"),
        120,
        35,
    );
    t.wait_for(&["acc-1"]);
    t.keys(&["Enter"]);
    t.wait_for(&["Events · $all"]);
    focus(&t, "┏ Events · $all");
    t.keys(&["/", "?until(false; .)", "Enter"]);
    t.wait_for(&["`until(false; .)` did not finish within 0.5 s at global position 1"]);
    focus(&t, "┏ Streams");
    t.keys(&["Down", "Down", "Down", "Enter"]);
    t.wait_for(&["Account-acc-1 @ v4", "\"balance\": 120"]);
    t.keys(&["q"]);
    t.wait_for(&["EXITED 0"]);
}

/// Presses Tab until the pane whose focused title starts with `title` has the focus.
fn focus(t: &Term, title: &str) {
    for _ in 0..6 {
        if t.screen().contains(title) {
            return;
        }
        t.keys(&["Tab"]);
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("no focus on {title}: {}", t.screen());
}

/// Ended by a signal or a closed terminal, the TUI leaves what a quit leaves: the terminal
/// back (cooked, echoing, main screen, cursor shown), no process of its own, no file
/// beside the store.
#[test]
fn a_signal_ends_the_ui_as_a_quit_does() {
    let bin = env!("CARGO_BIN_EXE_eventscope");
    for (signal, number, whole_group) in [
        ("TERM", 15, false),
        ("HUP", 1, true),
        ("INT", 2, false),
        ("QUIT", 3, false),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let db = demo(dir.path());
        rusqlite::Connection::open(&db)
            .unwrap()
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get::<_, String>(0))
            .unwrap();
        let Some(t) = Tmux::start(
            &format!("{bin} {db} --reducer {REDUCERS}; echo CODE $?; stty -a | tr ' ;' '\\n\\n' | grep -xE -- '-?(icanon|echo|isig)' | tr '\\n' ' '; echo"),
            100,
            30,
        ) else {
            return;
        };
        t.wait_for(&["acc-1"]);
        t.keys(&["/acc-1", "Enter"]);
        t.wait_for(&["4/4", "\"balance\": 120"]);
        let marker = format!("XDG_CONFIG_HOME={}", t._config.path().display());
        let ui = pids_of(t._config.path(), "EVENTSCOPE_TUI_CHILD=1", None);
        let guard: Vec<u32> = pids_of(t._config.path(), &marker, None)
            .into_iter()
            .filter(|p| !ui.contains(p))
            .collect();
        assert_eq!(guard.len(), 1, "the process the user started: {guard:?}");
        assert_eq!(
            pids_of(t._config.path(), "EVENTSCOPE_TUI_WORKER=1", None).len(),
            1
        );
        let target = if whole_group {
            // A closed terminal signals the whole foreground process group.
            let stat = std::fs::read_to_string(format!("/proc/{}/stat", guard[0])).unwrap();
            let after = stat.rsplit_once(')').unwrap().1;
            format!("-{}", after.split_whitespace().nth(2).unwrap())
        } else {
            guard[0].to_string()
        };
        let sent = Command::new("kill")
            .args([&format!("-{signal}"), "--", &target])
            .status()
            .unwrap();
        assert!(sent.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        while !pids_of(t._config.path(), &marker, None).is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(
            pids_of(t._config.path(), &marker, None).is_empty(),
            "SIG{signal}: no process left"
        );
        assert_eq!(common::listing(dir.path()), vec!["bank.db"], "SIG{signal}");
        if whole_group {
            // The shell in the pane went too, as with a closed terminal: nothing to look at.
            continue;
        }
        // The code, then the terminal's modes printed after it: wait for both.
        let screen = t.wait_for(&[&format!("CODE {}", 128 + number), "isig"]);
        assert!(
            screen.contains("icanon")
                && screen.contains("echo")
                && screen.contains("isig")
                && !screen.contains("-icanon")
                && !screen.contains("-echo")
                && !screen.contains("-isig"),
            "SIG{signal}: the terminal is cooked again: {screen}"
        );
        let alternate = t.tmux(&[
            "display",
            "-p",
            "-t",
            "e2e",
            "#{alternate_on} #{cursor_flag}",
        ]);
        assert_eq!(
            alternate.trim(),
            "0 1",
            "SIG{signal}: main screen, cursor shown"
        );
    }
}

#[test]
fn a_theme_or_keymap_that_is_no_file_is_refused_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let bin = env!("CARGO_BIN_EXE_eventscope");
    let t = Term::start(&format!("EVENTSCOPE_THEME=/dev/zero {bin} {db}"), 250, 30);
    t.wait_for(&["theme /dev/zero: not a regular file", "EXITED 1"]);
    let big = dir.path().join("theme.toml");
    std::fs::write(&big, "#".repeat(1 << 20)).unwrap();
    let t = Term::start(
        &format!("EVENTSCOPE_THEME={} {bin} {db}", big.display()),
        250,
        30,
    );
    t.wait_for(&["larger than 256 KiB, the most a theme may be", "EXITED 1"]);
}

#[test]
fn export_makes_a_new_file_and_never_follows_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let out = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_eventscope");
    let t = Term::start(
        &format!(
            "cd {} && {bin} {db} --reducer {REDUCERS}",
            out.path().display()
        ),
        200,
        30,
    );
    t.wait_for(&["acc-1"]);
    t.keys(&["/acc-1", "Enter"]);
    t.wait_for(&["4/4", "\"balance\": 120"]);
    t.keys(&["Y"]);
    t.wait_for(&[" written to "]);
    let files = common::listing(out.path());
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].clone();
    assert!(name.ends_with(".json") && !name.starts_with('.'), "{name}");
    // The same name again, now a link to a file of the user's: a new file instead.
    std::fs::remove_file(out.path().join(&name)).unwrap();
    let precious = dir.path().join("precious.txt");
    std::fs::write(&precious, "keep").unwrap();
    std::os::unix::fs::symlink(&precious, out.path().join(&name)).unwrap();
    t.keys(&["Y"]);
    let stem = name.trim_end_matches(".json");
    t.wait_for(&[&format!("{stem}-1.json")]);
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "keep");
    let written = std::fs::read_to_string(out.path().join(format!("{stem}-1.json"))).unwrap();
    assert!(written.contains("\"balance\": 120"), "{written}");
    t.keys(&["q"]);
    t.wait_for(&["EXITED 0"]);
}

#[test]
fn a_when_predicate_that_never_ends_ends_with_its_error_and_skips_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let bin = env!("CARGO_BIN_EXE_eventscope");
    let t = Term::start(
        &format!("{bin} {db} --reducer {REDUCERS} --reducer-timeout 0.5"),
        200,
        30,
    );
    t.wait_for(&["acc-1"]);
    t.keys(&["/acc-1", "Enter"]);
    t.wait_for(&["4/4", "\"balance\": 120"]);
    t.keys(&[
        "w",
        "if .balance > 50 then until(false; .) else false end",
        "Enter",
    ]);
    t.wait_for(&["predicate `if .balance > 50 then until(false; .) else false end` did not finish within 0.5 s at Account-acc-1 version 2"]);
    // The reducer's events are all still folded: nothing was skipped for the predicate.
    t.keys(&["Left", "Left"]);
    let screen = t.wait_for(&["2/4", "\"balance\": 100"]);
    assert!(!screen.contains("skipped"), "{screen}");
    t.keys(&["Right"]);
    t.wait_for(&["3/4", "\"balance\": 70"]);
    t.keys(&["q"]);
    t.wait_for(&["EXITED 0"]);
}

/// Waits until the single worker has spun for a second (it is inside the looping call),
/// then kills it as the system's OOM killer would.
fn kill_spinning_worker(t: &Term) {
    let deadline = Instant::now() + patience();
    loop {
        let pids = worker_pids(t);
        if let [pid] = pids[..] {
            if cpu_seconds(pid) > 1.0 {
                let killed = std::process::Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status()
                    .unwrap();
                assert!(killed.success());
                return;
            }
        }
        assert!(Instant::now() < deadline, "no spinning worker: {pids:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_worker_killed_inside_a_call_names_the_event_and_the_next_skips_it() {
    let (_dir, jq, t) = looping_ui("600");
    t.keys(&["/acc-1", "Enter"]);
    // Killed with nothing journalled: the next worker journals its calls.
    kill_spinning_worker(&t);
    t.wait_for(&["a new one journals its calls"]);
    // Killed again inside the same call: now the event is known, and skipped.
    kill_spinning_worker(&t);
    let screen = t.wait_for(&[
        "worker process died at Account-acc-1 version 3 (MoneyWithdrawn)",
        "4/4",
        "\"n\": 3",
    ]);
    assert!(screen.contains("skipped"), "{screen}");
    t.keys(&["Home"]);
    t.wait_for(&["1/4", "\"n\": 1"]);
    t.keys(&["Right"]);
    t.wait_for(&["2/4", "\"n\": 2"]);
    // A fixed reducer folds every event again, the one the worker died in included.
    std::fs::write(&jq, "(. // {}) | .n += 10").unwrap();
    t.wait_for(&["reducer reloaded", "2/4", "\"n\": 20"]);
    t.keys(&["End"]);
    t.wait_for(&["4/4", "\"n\": 40"]);
    assert_eq!(worker_pids(&t).len(), 1);
    t.keys(&["q"]);
    t.wait_for(&["EXITED 0"]);
    assert!(worker_pids(&t).is_empty(), "quitting ends the worker");
}

#[test]
fn the_consumers_view_opens_the_event_a_consumer_is_stuck_on() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let bin = env!("CARGO_BIN_EXE_eventscope");
    let t = Term::start(&format!("{bin} {db} --reducer {REDUCERS}"), 120, 32);
    // The list shows the consumers under $all once the worker has counted them.
    t.wait_for(&["consumers (2 behind)"]);
    t.keys(&["C"]);
    let screen = t.wait_for(&["Consumers · 3 · 2 behind, 1 stuck", "order-emails"]);
    assert!(
        screen.contains("→ Order-123 v5 ItemRemoved"),
        "the next event is named:\n{screen}"
    );
    // The first row is the one furthest behind: Enter lands on the state before its event.
    t.keys(&["Enter"]);
    t.wait_for(&[
        "Events · Order-123",
        "4/8",
        "its next event is v5 ItemRemoved (#12): the state before it",
    ]);
    t.keys(&["Right", "2"]);
    t.wait_for(&["5/8", "\"type\": \"ItemRemoved\""]);
    // On $all, each consumer's position is marked.
    t.keys(&["Escape"]);
    t.keys(&["C", "Down", "Down", "Enter"]);
    let screen = t.wait_for(&["account-balances is caught up, at #17", "17/18"]);
    assert!(
        screen.contains('▲'),
        "positions marked on the timeline:\n{screen}"
    );
    t.keys(&["q"]);
    t.wait_for(&["EXITED 0"]);
}

#[test]
fn the_stream_up_to_the_playhead_exported_as_a_fixture_passes() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let out = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_eventscope");
    let t = Term::start(
        &format!(
            "cd {} && {bin} {db} --reducer {REDUCERS}",
            out.path().display()
        ),
        200,
        30,
    );
    t.wait_for(&["acc-1"]);
    t.keys(&["/acc-1", "Enter"]);
    t.wait_for(&["4/4", "\"balance\": 120"]);
    t.keys(&["Left"]);
    t.wait_for(&["3/4", "\"balance\": 70"]);
    t.keys(&["E"]);
    t.wait_for(&["Account-acc-1-v3 written to "]);
    let fixture = out.path().join("Account-acc-1-v3.ndjson");
    let text = std::fs::read_to_string(&fixture).unwrap();
    let header: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(header["expect"][0]["version"], 3);
    assert_eq!(header["expect"][0]["state"]["balance"], 70);
    assert_eq!(text.lines().count(), 4, "the header and three events");
    // The CLI runs it: it passes with the reducer that made it.
    let ran = Command::new(bin)
        .args(["test", fixture.to_str().unwrap(), "--reducer", REDUCERS])
        .output()
        .unwrap();
    assert!(
        ran.status.success(),
        "{}",
        String::from_utf8_lossy(&ran.stdout)
    );
    t.keys(&["q"]);
    t.wait_for(&["EXITED 0"]);
}

#[test]
fn a_second_reducer_compared_in_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let account = format!("{REDUCERS}/Account.jq");
    let b = dir.path().join("b.jq");
    std::fs::write(
        &b,
        std::fs::read_to_string(&account).unwrap().replace(
            ".balance -= $event.data.amount",
            ".balance -= $event.data.amount * 2",
        ),
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_eventscope");
    let t = Term::start(&format!("{bin} {db} --reducer {account}"), 140, 40);
    t.wait_for(&["acc-1"]);
    t.keys(&["/acc-1", "Enter"]);
    t.wait_for(&["4/4", "\"balance\": 120"]);
    t.keys(&["K"]);
    t.wait_for(&["Compare with reducer"]);
    t.keys(&[b.to_str().unwrap(), "Enter"]);
    // B withdraws twice as much: they part at v3, the withdrawal; the timeline marks it.
    let screen = t.wait_for(&[
        "first part at v3: the states part at MoneyWithdrawn",
        "~ /balance 120 → 90",
        "\"balance\": 90",
    ]);
    assert!(screen.contains('≠'), "{screen}");
    // Before the withdrawal they agree at the playhead.
    t.keys(&["Home"]);
    t.wait_for(&["1/4", "at v1, A → B:", "the same"]);
    // An empty answer stops comparing (the prompt holds the path: erase it).
    t.keys(&["K"]);
    t.keys(&vec!["BSpace"; b.to_str().unwrap().len()]);
    t.keys(&["Enter"]);
    t.wait_for(&["comparing stopped"]);
    t.keys(&["q"]);
    t.wait_for(&["EXITED 0"]);
}

#[test]
fn the_read_model_tab_shows_the_row_beside_the_replay() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let c = rusqlite::Connection::open(&db).unwrap();
    c.execute_batch(
        "CREATE TABLE account_view (account_id TEXT, doc TEXT, version INTEGER);
         INSERT INTO account_view VALUES ('acc-1', '{\"id\":\"acc-1\",\"owner\":\"Alice\",\"balance\":120}', 4);
         INSERT INTO account_view VALUES ('acc-2', '{\"id\":\"acc-2\",\"owner\":\"Bob\",\"balance\":999}', 3);",
    )
    .unwrap();
    drop(c);
    let spec = dir.path().join("view.spec");
    std::fs::write(
        &spec,
        "table=account_view\nid=account_id\ndoc=doc\nversion=version\nstream=\"Account-\" + .id\n",
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_eventscope");
    let t = Term::start(
        &format!(
            "{bin} {db} --reducer {REDUCERS} --read-model {}",
            spec.display()
        ),
        140,
        40,
    );
    t.wait_for(&["acc-1"]);
    t.keys(&["/acc-2", "Enter"]);
    t.wait_for(&["3/3"]);
    t.keys(&["7"]);
    t.wait_for(&[
        "account_view row acc-2 against the replay at v3",
        "≠ /balance stored 999, replayed 175  ← v3 MoneyWithdrawn",
    ]);
    // Another stream, whose row matches.
    focus(&t, "┏ Streams");
    t.keys(&["Escape", "/acc-1", "Enter"]);
    t.wait_for(&[
        "account_view row acc-1 against the replay at v4",
        "the row matches the replay",
    ]);
    t.keys(&["q"]);
    t.wait_for(&["EXITED 0"]);
}

/// `Esc` then `q` sent together reach the terminal as Alt-q (tmux's escape time): read as
/// the two keys, they close the list's filter and then quit (not a `q` in the filter).
#[test]
fn escape_then_q_typed_together_closes_the_prompt_and_quits() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let bin = env!("CARGO_BIN_EXE_eventscope");
    let Some(t) = Tmux::start(&format!("{bin} {db}"), 100, 30) else {
        return;
    };
    t.wait_for(&["$all"]);
    t.keys(&["/"]);
    t.wait_for(&["Streams /"]);
    // One write of ESC and q: the terminal cannot tell it from Alt-q.
    t.tmux(&["send-keys", "-t", "e2e", "-H", "1b", "71"]);
    t.wait_for(&["EXITED 0"]);
}

/// With no marks the Diff tab shows what the event under the playhead changed; with an
/// event left out, the real state against the what-if one (balances as the demo's
/// events add up: 100 − 30 + 50, and without the deposit of 100, −30 + 50).
#[test]
fn the_diff_tab_shows_the_events_own_change_and_the_what_if() {
    let (_dir, t) = bank_ui(120, 35);
    t.keys(&["/acc-1", "Enter"]);
    t.wait_for(&["4/4", "\"balance\": 120"]);
    t.keys(&["3"]);
    t.wait_for(&["what the event at 4 changed", "~ /balance 70 → 120"]);
    t.keys(&["Left"]);
    t.wait_for(&["3/4", "~ /balance 100 → 70"]);
    t.keys(&["Left", "d", "$"]);
    t.wait_for(&[
        "4/4",
        "the real state → the what-if",
        "~ /balance 120 → 20",
        "1 field differs",
    ]);
    t.keys(&["q"]);
    t.wait_for(&["EXITED 0"]);
}

/// `+` zooms the focused pane to the whole screen and `_` brings the layout back.
#[test]
fn the_focused_pane_zooms_and_back() {
    let (_dir, t) = bank_ui(100, 30);
    t.keys(&["/acc-1", "Enter"]);
    t.wait_for(&["Events · Account-acc-1", "4/4"]);
    t.keys(&["+"]);
    let zoomed = t.wait_until(|s| s.contains("Events · Account-acc-1") && !s.contains("Streams "));
    assert!(zoomed.contains("MoneyDeposited"), "{zoomed}");
    t.keys(&["_"]);
    t.wait_for(&["Streams ", "Events · Account-acc-1"]);
    t.keys(&["q"]);
    t.wait_for(&["EXITED 0"]);
}

/// The header names the store, its layout and a reducer found beside the store (no
/// `--reducer`), and that reducer folds the streams.
#[test]
fn the_header_names_a_default_reducer_found_beside_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let reducers = dir.path().join("reducers");
    std::fs::create_dir(&reducers).unwrap();
    std::fs::copy(
        Path::new(REDUCERS).join("Account.jq"),
        reducers.join("Account.jq"),
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_eventscope");
    let t = Term::start(&format!("env -u EVENTSCOPE_REDUCER {bin} {db}"), 160, 30);
    t.wait_for(&[
        "acc-1",
        "· native ·",
        "reducers beside the store)",
        "not following",
    ]);
    t.keys(&["/acc-1", "Enter"]);
    t.wait_for(&["4/4", "\"balance\": 120"]);
    t.keys(&["f"]);
    t.wait_for(&["· following ·"]);
    t.keys(&["q"]);
    t.wait_for(&["EXITED 0"]);
}

/// What was typed at a prompt comes back with ↑ in the next session, kept in the data
/// directory; ↓ goes back to what was being typed.
#[test]
fn prompt_history_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let bin = env!("CARGO_BIN_EXE_eventscope");
    let mut t = Term::start(&format!("{bin} {db} --reducer {REDUCERS}"), 120, 30);
    t.wait_for(&["acc-1"]);
    t.keys(&["/acc-1", "Enter"]);
    t.wait_for(&["4/4"]);
    t.keys(&["w", ".balance > 100", "Enter"]);
    t.wait_for(&[".balance > 100 turns true at 1 version", "4/4"]);
    t.keys(&["w", ".balance < 50", "Enter"]);
    t.wait_for(&[".balance < 50 turns true at 1 version", "1/4"]);
    t.keys(&["q"]);
    t.wait_for(&["EXITED 0"]);
    let saved = t.config.path().join("data/eventscope/history.json");
    let text = std::fs::read_to_string(&saved).unwrap();
    let kept: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        kept["when"],
        serde_json::json!([".balance > 100", ".balance < 50"])
    );
    // A second session of the same user (the same data directory).
    t.respawn(&format!("{bin} {db} --reducer {REDUCERS}"));
    t.wait_for(&["acc-1"]);
    t.keys(&["/acc-1", "Enter"]);
    t.wait_for(&["4/4"]);
    t.keys(&["w", "Up"]);
    t.wait_for(&["When (jq on the state", ".balance < 50"]);
    t.keys(&["Up"]);
    t.wait_for(&[".balance > 100▏"]);
    t.keys(&["Down", "Down"]);
    t.wait_until(|s| s.contains("e.g. .balance < 0): ▏"));
    t.keys(&[".balance > 1", "Up"]);
    t.wait_for(&[".balance > 100▏"]);
    t.keys(&["Enter"]);
    t.wait_for(&[".balance > 100 turns true at 1 version", "4/4"]);
    t.keys(&["q"]);
    t.wait_for(&["EXITED 0"]);
}

/// Ctrl-o walks the jumplist back across streams, Ctrl-f forward again.
#[test]
fn ctrl_o_and_ctrl_f_walk_the_jumplist() {
    let (_dir, t) = bank_ui(120, 30);
    t.keys(&["/acc-1", "Enter"]);
    t.wait_for(&["4/4", "\"balance\": 120"]);
    t.keys(&[":", "2", "Enter"]);
    t.wait_for(&["2/4", "\"balance\": 100"]);
    t.keys(&["w", ".balance < 80", "Enter"]);
    t.wait_for(&["1/4", "\"balance\": 0"]);
    t.keys(&["C-o"]);
    t.wait_for(&["2/4", "\"balance\": 100"]);
    t.keys(&["C-o"]);
    t.wait_for(&["4/4", "\"balance\": 120"]);
    t.keys(&["C-f"]);
    t.wait_for(&["2/4", "\"balance\": 100"]);
    t.keys(&["C-f"]);
    t.wait_for(&["1/4", "\"balance\": 0"]);
    t.keys(&["C-f"]);
    t.wait_for(&["nothing to go forward to"]);
    t.keys(&["q"]);
    t.wait_for(&["EXITED 0"]);
}

/// `/text` in the Events pane of the log: smart-case, the first match at or after the
/// playhead, `n` wrapping to the top, `&` listing only matches (rows far from the
/// playhead included), `Esc` clearing it.
#[test]
fn vim_search_in_the_events_pane() {
    let (_dir, t) = bank_ui(140, 40);
    t.keys(&["Enter"]); // $all, at its last event (position 18)
    t.wait_for(&["Events · $all", "18/18"]);
    t.keys(&["/withdrawn", "Enter"]);
    // No withdrawal at or after 18: around to the first one.
    t.wait_for(&["search wrapped to the top: match 1 of "]);
    let screen = t.screen();
    let n: usize = screen
        .split("match 1 of ")
        .nth(1)
        .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|d| d.parse().ok())
        .unwrap();
    // The same count the CLI finds in the stored rows' types.
    let db = _dir.path().join("bank.db");
    let out = Command::new(env!("CARGO_BIN_EXE_eventscope"))
        .args(["events", db.to_str().unwrap(), "--json"])
        .output()
        .unwrap();
    let want = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| {
            let e: serde_json::Value = serde_json::from_str(l).unwrap();
            let shown = format!("{} {} {}", e["stream_id"], e["type"], e["data"]);
            shown.to_lowercase().contains("withdrawn")
        })
        .count();
    assert_eq!(n, want, "{screen}");
    t.keys(&["n"]);
    t.wait_for(&[&format!("match 2 of {n}")]);
    t.keys(&["&"]);
    t.wait_until(|s| {
        let rows = s
            .lines()
            .filter(|l| l.contains('┃') && l.contains("Withdrawn"))
            .count();
        s.contains(&format!("only match 2 of {n}")) && rows == n
    });
    t.keys(&["Escape"]);
    t.wait_for(&["search cleared"]);
    t.keys(&["q"]);
    t.wait_for(&["EXITED 0"]);
}

/// `s` on a store whose layout keeps no snapshots says so, and replays go on from the
/// first event.
#[test]
fn s_on_a_store_without_snapshots_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::message_db(dir.path());
    let bin = env!("CARGO_BIN_EXE_eventscope");
    let t = Term::start(&format!("{bin} {}", db.display()), 120, 30);
    t.wait_for(&["no snapshots"]);
    t.keys(&["s"]);
    t.wait_for(&["keeps no snapshots: replays start from the first event"]);
    t.wait_for(&["· no snapshots ·"]);
    t.keys(&["q"]);
    t.wait_for(&["EXITED 0"]);
}

/// `y` says what really happens: inside tmux with its default `set-clipboard external`
/// the copy cannot arrive, and it says so and offers `Y`; with `on`, tmux takes the
/// OSC 52 copy into a paste buffer, which holds the state.
#[test]
fn y_inside_tmux_says_whether_the_copy_arrives() {
    let Some((dir, t)) = bank_ui_in_tmux(140, 30) else {
        return;
    };
    t.keys(&["/acc-1", "Enter"]);
    t.wait_for(&["4/4", "\"balance\": 120"]);
    t.keys(&["y"]);
    t.wait_for(&[
        "not copied: tmux's set-clipboard is external",
        "Y writes a file",
    ]);
    t.keys(&["q"]);
    t.wait_for(&["EXITED 0"]);
    t.tmux(&["set", "-g", "set-clipboard", "on"]);
    let db = dir.path().join("bank.db");
    t.respawn(&format!(
        "{} {} --reducer {REDUCERS}",
        env!("CARGO_BIN_EXE_eventscope"),
        db.display()
    ));
    t.wait_for(&["acc-1"]);
    t.keys(&["/acc-1", "Enter"]);
    t.wait_for(&["4/4", "\"balance\": 120"]);
    t.keys(&["y"]);
    t.wait_for(&["sent to the terminal's clipboard"]);
    let deadline = Instant::now() + patience();
    loop {
        let buffer = t.tmux(&["show-buffer"]);
        if buffer.contains("\"balance\": 120") {
            break;
        }
        assert!(Instant::now() < deadline, "tmux's buffer: {buffer:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    t.keys(&["q"]);
    t.wait_for(&["EXITED 0"]);
}

/// The footer follows the focus: the Events pane's keys, then the State tab's.
#[test]
fn the_footer_shows_the_keys_of_the_focused_pane() {
    let (_dir, t) = bank_ui(200, 30);
    t.wait_for(&["Enter open  / find  o sort"]);
    t.keys(&["/acc-1", "Enter"]);
    t.wait_for(&["4/4", "& only matches", "d what-if", "R related"]);
    t.keys(&["Tab"]);
    t.wait_for(&["B blame", "J to its change", "p plot", "1-7 tabs"]);
    t.keys(&["q"]);
    t.wait_for(&["EXITED 0"]);
}

/// Following pauses while the user looks back: appended events are counted, the playhead
/// stays, and `$` resumes at the newest.
#[test]
fn follow_pauses_while_looking_back() {
    use eventscope::store::{ExpectedVersion, NewEvent, Store};
    let (dir, t) = bank_ui(120, 30);
    t.keys(&["/acc-1", "Enter"]);
    t.wait_for(&["4/4", "\"balance\": 120"]);
    t.keys(&["f"]);
    t.wait_for(&["· following ·"]);
    t.keys(&["Left"]);
    t.wait_for(&["3/4", "following paused: 0 new events"]);
    let mut store = Store::open_writable(dir.path().join("bank.db")).unwrap();
    for (v, amount) in [(4, 5), (5, 7)] {
        let deposit = NewEvent::new("MoneyDeposited", serde_json::json!({"amount": amount}));
        store
            .append("Account-acc-1", ExpectedVersion::Exact(v), &[deposit])
            .unwrap();
    }
    t.wait_for(&[
        "3/6",
        "following paused: 2 new events ($ to resume)",
        "\"balance\": 70",
    ]);
    t.keys(&["$"]);
    t.wait_for(&["6/6", "\"balance\": 132", "· following ·"]);
    t.keys(&["q"]);
    t.wait_for(&["EXITED 0"]);
}

/// A long error ends in "more (M)" in the footer, and `M` shows it whole; `J` in the
/// Events pane brings the State tab's fields, and there it turns blame on and goes.
#[test]
fn the_message_log_and_commands_that_bring_their_state() {
    let (_dir, t) = bank_ui(100, 30);
    t.keys(&["/acc-1", "Enter"]);
    t.wait_for(&["4/4", "\"balance\": 120"]);
    // A predicate that does not compile: its error names it, longer than the footer.
    t.keys(&["w"]);
    t.type_text(&format!(".owner == \"{} the end\" and (", "x".repeat(90)));
    t.keys(&["Enter"]);
    t.wait_for(&["more (M)"]);
    t.keys(&["M"]);
    t.wait_for(&["Messages · the last 200", "expected closing parenthesis"]);
    t.keys(&["Escape"]);
    t.wait_until(|s| !s.contains("Messages · the last 200"));
    t.keys(&["J"]);
    t.wait_for(&["move to a field"]);
    t.keys(&["Down", "Down", "Down", "J"]);
    t.wait_for(&["/balance last changed at version 4"]);
    t.keys(&["q"]);
    t.wait_for(&["EXITED 0"]);
}

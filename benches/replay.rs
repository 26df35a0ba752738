//! Replay, seek, opening and memory on a million-event store, as ratios to a reference
//! loop run in the same process: a bare rusqlite read of the same rows, `serde_json`
//! parse and a hand-written fold. Run with `cargo bench`; figures go in the README.
//!
//! The fixture (1,000,000 events: one 500,000-event account stream interleaved with about
//! 10,000 streams of 50) is written once to the target directory; writing it is never
//! timed. `EVENTSCOPE_BENCH_RUNS` sets how many runs each figure is the median of.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

#[path = "common/fixture.rs"]
mod fixture;
#[path = "common/timing.rs"]
mod timing;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use eventscope::demo::HOT_STREAM;
use eventscope::replay::{Reducer, Replayer, SeekOptions};
use eventscope::store::Store;
use serde_json::Value;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use fixture::HOT;
const ACCOUNT_JQ: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/reducers/Account.jq");
const BIN: &str = env!("CARGO_BIN_EXE_eventscope");

/// The same store with the hot stream's payloads cut to `{"amount": N}` and its metadata
/// to `{}`: the reference parses less there, so every ratio is higher.
fn small_fixture(from: &Path) -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-1m-small-v1.sqlite");
    if !path.exists() {
        let tmp = path.with_extension("tmp");
        std::fs::copy(from, &tmp).unwrap();
        let c = rusqlite::Connection::open(&tmp).unwrap();
        c.execute_batch(&format!(
            "UPDATE events SET metadata = '{{}}',
               data = CASE WHEN event_type = 'AccountOpened' THEN data
                           ELSE json_object('amount', json_extract(data, '$.amount')) END
             WHERE stream_id = '{HOT_STREAM}';
             VACUUM;"
        ))
        .unwrap();
        drop(c);
        std::fs::rename(&tmp, &path).unwrap();
    }
    path
}

fn runs() -> usize {
    std::env::var("EVENTSCOPE_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
}

/// What [`paired`] measured: `f`'s median wall time, and the medians of each pair's
/// ratios to the reference, in wall time and in CPU time (all threads).
struct Paired {
    time: Duration,
    wall: f64,
    cpu: f64,
}

/// Runs the reference and `f` alternately, `runs()` times each, so that drift on a shared
/// machine (cache, clock) weighs on both sides of a ratio alike.
fn paired(path: &Path, mut f: impl FnMut()) -> Paired {
    let mut times = Vec::new();
    let mut walls = Vec::new();
    let mut cpus = Vec::new();
    let timed = |f: &mut dyn FnMut()| {
        let (t, cpu) = (Instant::now(), timing::process_cpu());
        f();
        (t.elapsed(), timing::process_cpu().saturating_sub(cpu))
    };
    for _ in 0..runs() {
        let (reference_wall, reference_cpu) = timed(&mut || {
            reference(path);
        });
        let (wall, cpu) = timed(&mut f);
        times.push(wall);
        walls.push(wall.as_secs_f64() / reference_wall.as_secs_f64());
        cpus.push(cpu.as_secs_f64() / reference_cpu.as_secs_f64().max(0.01));
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    times.sort();
    Paired {
        time: times[times.len() / 2],
        wall: median(&mut walls),
        cpu: median(&mut cpus),
    }
}

/// The reference: read the rows, parse each payload, fold the balance by hand.
fn reference(path: &Path) -> i64 {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let mut stmt = conn
        .prepare("SELECT event_type, data FROM events WHERE stream_id = ?1 ORDER BY version")
        .unwrap();
    let mut rows = stmt.query([HOT_STREAM]).unwrap();
    let mut balance = 0i64;
    while let Some(row) = rows.next().unwrap() {
        let ty: String = row.get(0).unwrap();
        let data: String = row.get(1).unwrap();
        let v: Value = serde_json::from_str(&data).unwrap();
        let amount = v["amount"].as_i64().unwrap_or(0);
        match ty.as_str() {
            "MoneyDeposited" => balance += amount,
            "MoneyWithdrawn" => balance -= amount,
            _ => {}
        }
    }
    balance
}

fn full_replay(store: &Store, reducer: &Reducer) -> Value {
    let mut r = Replayer::new(store, reducer, SeekOptions::default());
    r.state_at(HOT_STREAM, HOT as i64).unwrap()
}

/// A cheap deterministic spread of versions.
fn versions(n: usize, seed: u64) -> Vec<i64> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % HOT as u64) as i64 + 1
        })
        .collect()
}

/// Runs the binary and samples its peak resident memory (VmHWM) until it exits.
fn peak_rss_mb(args: &[&str]) -> (f64, Duration) {
    let t = Instant::now();
    let mut child = Command::new(BIN)
        .args(args)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let status = format!("/proc/{}/status", child.id());
    let mut peak_kb = 0u64;
    loop {
        if let Ok(s) = std::fs::read_to_string(&status) {
            if let Some(kb) = s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|n| n.parse::<u64>().ok())
            }) {
                peak_kb = peak_kb.max(kb);
            }
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    (peak_kb as f64 / 1024.0, t.elapsed())
}

struct Report {
    rows: Vec<(String, String, String, bool)>,
}

impl Report {
    fn ratio(&mut self, name: &str, value: f64, target: f64) {
        self.rows.push((
            name.into(),
            format!("{value:.2}×"),
            format!("≤ {target}×"),
            value <= target,
        ));
    }
    /// A figure with no goal: what it is compared with.
    fn info(&mut self, name: &str, value: String) {
        self.rows.push((name.into(), value, "—".into(), true));
    }
    fn ms(&mut self, name: &str, value: Duration, target_ms: f64) {
        let ms = value.as_secs_f64() * 1000.0;
        self.rows.push((
            name.into(),
            format!("{ms:.1} ms"),
            format!("≤ {target_ms} ms"),
            ms <= target_ms,
        ));
    }
    fn mb(&mut self, name: &str, value: f64, target: f64) {
        self.rows.push((
            name.into(),
            format!("{value:.0} MB"),
            format!("≤ {target} MB"),
            value <= target,
        ));
    }
    fn print(&self) {
        println!(
            "\n{:<48} {:>12} {:>12}  result",
            "figure", "measured", "target"
        );
        for (name, value, target, ok) in &self.rows {
            println!(
                "{name:<48} {value:>12} {target:>12}  {}",
                match (*ok, target.as_str()) {
                    (_, "—") => "",
                    (true, _) => "ok",
                    (false, _) => "MISSED",
                }
            );
        }
    }
}

fn main() {
    // `cargo bench` passes `--bench`; a filter word picks sections.
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let on = |name: &str| filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str()));
    let path = fixture::million_events();
    let store = Store::open(&path).unwrap();
    let mut report = Report { rows: Vec::new() };

    let mut expected = 0;
    let reference_time = timing::median(runs(), || expected = reference(&path));
    println!(
        "reference loop (500k events): {:.3} s, balance {expected}",
        reference_time.as_secs_f64()
    );

    if on("merge") {
        let merge = Reducer::Merge;
        let p = paired(&path, || {
            full_replay(&store, &merge);
        });
        println!("merge replay: {:.3} s", p.time.as_secs_f64());
        report.ratio("full replay, built-in merge (CPU)", p.cpu, 1.3);
        // What the user runs: the binary, its open and checks included.
        let hot = path.to_str().unwrap();
        let p = paired(&path, || {
            let out = Command::new(BIN)
                .args(["state", hot, HOT_STREAM])
                .stdout(std::process::Stdio::null())
                .status()
                .unwrap();
            assert!(out.success());
        });
        println!("eventscope state (merge): {:.3} s", p.time.as_secs_f64());
        report.ratio(
            "`state` with the built-in merge / the loop (wall)",
            p.wall,
            1.05,
        );
    }

    if on("floor") {
        floor_figures(&path, &store, &mut report);
    }

    let jq = Reducer::load(Path::new(ACCOUNT_JQ)).unwrap();
    let mut jq_time = Duration::ZERO;
    if on("jq") || on("seek") || on("at") {
        let mut state = Value::Null;
        let p = paired(&path, || state = full_replay(&store, &jq));
        jq_time = p.time;
        assert_eq!(
            state["balance"], expected,
            "the jq fold agrees with the reference"
        );
        println!("jq replay: {:.3} s", jq_time.as_secs_f64());
        report.ratio("full replay, Account.jq / the loop (CPU)", p.cpu, 1.3);
        report.ratio("full replay, Account.jq (wall, read-ahead)", p.wall, 1.2);
    }

    if on("small") {
        let small = small_fixture(&path);
        let small_store = Store::open(&small).unwrap();
        let mut state = Value::Null;
        let p = paired(&small, || state = full_replay(&small_store, &jq));
        assert_eq!(state["balance"], reference(&small), "the same balance");
        println!("jq replay, small payloads: {:.3} s", p.time.as_secs_f64());
        report.ratio("Account.jq, small payloads (CPU)", p.cpu, 2.0);
        report.ratio("Account.jq, small payloads (wall)", p.wall, 1.2);
    }

    if on("shapes") {
        // Reducers the fast paths serve less well, as ratios to the reference loop.
        let fifty: String = (1..50).map(|i| format!("f{i:02}: 0, ")).collect();
        let shapes = [
            (
                "jq: type chain, branches not native",
                r#"if $event.type == "AccountOpened" then {id: $event.data.accountId, balance: 0} elif $event.type == "MoneyDeposited" then .balance = .balance + $event.data.amount elif $event.type == "MoneyWithdrawn" then .balance = .balance - $event.data.amount else . end"#.to_string(),
                4.0,
            ),
            (
                "jq: no type chain",
                r#"(. // {balance: 0}) | .balance += (if $event.type == "MoneyWithdrawn" then -$event.data.amount elif $event.type == "MoneyDeposited" then $event.data.amount else 0 end)"#.to_string(),
                5.0,
            ),
            (
                "jq: 50-field state, one field updated",
                format!(
                    r#"if $event.type == "AccountOpened" then {{{fifty}balance: 0}} elif $event.type == "MoneyDeposited" then .balance += $event.data.amount elif $event.type == "MoneyWithdrawn" then .balance -= $event.data.amount else . end"#
                ),
                2.5,
            ),
        ];
        let dir = tempfile::tempdir().unwrap();
        for (name, code, goal) in shapes {
            let file = dir.path().join("shape.jq");
            std::fs::write(&file, &code).unwrap();
            let reducer = Reducer::load(&file).unwrap();
            let mut state = Value::Null;
            let p = paired(&path, || state = full_replay(&store, &reducer));
            assert_eq!(
                state["balance"], expected,
                "{name} agrees with the reference"
            );
            println!("{name}: {:.3} s", p.time.as_secs_f64());
            report.ratio(&format!("{name} (CPU)"), p.cpu, goal);
        }
    }

    if on("seek") {
        let mut r = Replayer::new(&store, &jq, SeekOptions::default());
        r.state_at(HOT_STREAM, HOT as i64).unwrap();
        let mut times: Vec<Duration> = versions(1000, 0x9e37_79b9)
            .into_iter()
            .map(|v| {
                let t = Instant::now();
                // As the TUI does: the state before the event, then at it.
                r.state_at(HOT_STREAM, v - 1).unwrap();
                r.state_at(HOT_STREAM, v).unwrap();
                t.elapsed()
            })
            .collect();
        times.sort();
        let p = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
        println!(
            "seek: p50 {:?}, p99 {:?}, max {:?}",
            p(0.5),
            p(0.99),
            p(1.0)
        );
        report.ms("seek to a random version, p99 (jq)", p(0.99), 16.0);
    }

    if on("at") {
        let list: Vec<String> = versions(200, 0x1234_5678)
            .iter()
            .map(i64::to_string)
            .collect();
        let list = list.join(",");
        let p = path.to_str().unwrap();
        let run = |extra: &[&str]| {
            let mut args = vec!["state", p, HOT_STREAM, "--reducer", ACCOUNT_JQ];
            args.extend_from_slice(extra);
            timing::median(runs(), || {
                let out = Command::new(BIN).args(&args).output().unwrap();
                assert!(out.status.success());
            })
        };
        let full = run(&[]);
        let many = run(&["--at", &list]);
        println!(
            "state: full {:.3} s, 200 random versions {:.3} s",
            full.as_secs_f64(),
            many.as_secs_f64()
        );
        report.ratio(
            "state --at, 200 random versions / full replay",
            many.as_secs_f64() / full.as_secs_f64(),
            1.02,
        );
    }

    if on("debug") {
        debugger_figures(&store, &jq, &mut report);
    }

    if on("find") {
        let p = path.to_str().unwrap();
        let run = |extra: &[&str]| {
            let mut args = vec!["events", p, "--json"];
            args.extend_from_slice(extra);
            timing::median(runs(), || {
                let out = Command::new(BIN)
                    .args(&args)
                    .stdout(std::process::Stdio::null())
                    .status()
                    .unwrap();
                assert!(out.success());
            })
        };
        let all = run(&[]);
        let jq = run(&["--where", ".data.amount > 990"]);
        let text = run(&["--text", "zz-no-such-text"]);
        println!(
            "events --json {:.3} s, --where {:.3} s, --text {:.3} s",
            all.as_secs_f64(),
            jq.as_secs_f64(),
            text.as_secs_f64()
        );
        report.ratio(
            "events --where over the 1M log / events --json",
            jq.as_secs_f64() / all.as_secs_f64(),
            1.5,
        );
        report.ratio(
            "events --text over the 1M log / events --json",
            text.as_secs_f64() / all.as_secs_f64(),
            1.5,
        );
    }

    if on("time") {
        time_step_figures(&store, &mut report);
    }

    if on("scaling") {
        scaling_figures(&mut report);
    }

    if on("open") {
        let t = timing::median(runs(), || {
            let s = Store::open(&path).unwrap();
            let list = s.streams().unwrap();
            assert!(list.len() > 10_000);
        });
        report.ms("stream list of the 1M store (open + list)", t, 500.0);
    }

    if on("memory") {
        let p = path.to_str().unwrap();
        let (mb, _) = peak_rss_mb(&["state", p, HOT_STREAM, "--reducer", ACCOUNT_JQ]);
        report.mb("peak RSS, state on the 500k stream (jq)", mb, 30.0);
    }

    if on("tui") {
        match tui_figures(&path) {
            Some((first, mb, replay, find)) => {
                let p = path.to_str().unwrap();
                let cli = timing::median(runs(), || {
                    let out = Command::new(BIN)
                        .args(["events", p, "--stream", HOT_STREAM, "--json"])
                        .args(["--where", ".data.amount > 990"])
                        .stdout(std::process::Stdio::null())
                        .status()
                        .unwrap();
                    assert!(out.success());
                });
                println!(
                    "TUI /?jq find on the 500k stream {:.3} s, CLI --where on the same {:.3} s",
                    find.as_secs_f64(),
                    cli.as_secs_f64()
                );
                report.ratio(
                    "TUI /?jq find / CLI --where, same events",
                    find.as_secs_f64() / cli.as_secs_f64(),
                    1.2,
                );
                report.ms("TUI: stream list on screen, 1M store", first, 500.0);
                // The worker process's replay, answers over its pipe included: compare
                // with the in-process jq replay above.
                report.ms(
                    "TUI: 500k stream replayed in the worker, shown",
                    replay,
                    10_000.0,
                );
                report.mb("TUI: peak RSS with the 500k stream open", mb, 250.0);
            }
            None => println!("tmux not found: TUI figures skipped (apt-get install tmux)"),
        }
    }
    let _ = jq_time;
    report.print();
}

/// The median of `runs()` ratios of `f` to `base`, run alternately.
fn versus(mut base: impl FnMut(), mut f: impl FnMut()) -> (f64, Duration, Duration) {
    let mut ratios = Vec::new();
    let (mut tb, mut tf) = (Vec::new(), Vec::new());
    for _ in 0..runs() {
        let t = Instant::now();
        base();
        let b = t.elapsed();
        let t = Instant::now();
        f();
        let x = t.elapsed();
        ratios.push(x.as_secs_f64() / b.as_secs_f64());
        tb.push(b);
        tf.push(x);
    }
    ratios.sort_by(f64::total_cmp);
    tb.sort();
    tf.sort();
    (ratios[ratios.len() / 2], tb[tb.len() / 2], tf[tf.len() / 2])
}

/// blame and when against a plain replay of the 500k stream, and a category at a time
/// against one replay of as many events.
fn debugger_figures(store: &Store, jq: &Reducer, report: &mut Report) {
    use eventscope::replay::{blame, category_at, when, Predicate, Skips, WhenOptions};
    let skips = Skips::default();
    let (ratio, plain, t) = versus(
        || {
            full_replay(store, jq);
        },
        || {
            let lines = blame(store, jq, HOT_STREAM, None, &skips, None).unwrap();
            assert!(lines.iter().any(|l| l.path == "/balance"));
        },
    );
    println!(
        "blame: {:.3} s against a plain replay's {:.3} s",
        t.as_secs_f64(),
        plain.as_secs_f64()
    );
    report.ratio("blame on the 500k stream / plain replay", ratio, 1.2);
    let never = Predicate::compile(".balance < -1e300").unwrap();
    let (ratio, plain, t) = versus(
        || {
            full_replay(store, jq);
        },
        || {
            let hits = when(
                store,
                jq,
                HOT_STREAM,
                &never,
                WhenOptions::default(),
                &skips,
                None,
            )
            .unwrap();
            assert!(hits.is_empty());
        },
    );
    println!(
        "when (never holds, so every event): {:.3} s against {:.3} s",
        t.as_secs_f64(),
        plain.as_secs_f64()
    );
    report.ratio("when on the 500k stream / plain replay", ratio, 1.1);
    // The small streams of two categories (Order, User: about 6,700 streams of 50) against
    // one replay of as many events of the long stream, both with the built-in merge so
    // that the reducers' own costs do not differ.
    let merge = Reducer::Merge;
    let list = store.streams().unwrap();
    let n: i64 = list
        .iter()
        .filter(|s| s.category == "Order" || s.category == "User")
        .map(|s| s.events)
        .sum();
    let (ratio, plain, t) = versus(
        || {
            let mut r = Replayer::new(store, &merge, SeekOptions::default());
            r.state_at(HOT_STREAM, n.min(HOT as i64)).unwrap();
        },
        || {
            let orders = category_at(store, &merge, "Order", None, Default::default()).unwrap();
            let users = category_at(store, &merge, "User", None, Default::default()).unwrap();
            assert!(orders.len() + users.len() > 6_000);
        },
    );
    println!(
        "state --category Order + User ({n} events): {:.3} s against {:.3} s for one replay of as many",
        t.as_secs_f64(),
        plain.as_secs_f64()
    );
    report.ratio("state --category (small streams) / one replay", ratio, 1.3);
}

/// Starts the real TUI in tmux: how long until the stream list shows, and its peak memory
/// once the 500k stream is open and replayed.
fn tui_figures(path: &Path) -> Option<(Duration, f64, Duration, Duration)> {
    let cmd = format!("{BIN} {} --reducer {ACCOUNT_JQ}", path.display());
    let (tmux, start) = tui_session("bench", &cmd)?;
    let wait = |what: &str, limit: Duration| -> Option<Duration> {
        let t = Instant::now();
        while t.elapsed() < limit {
            if tmux(&["capture-pane", "-p", "-t", "b"]).contains(what) {
                return Some(start.elapsed());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        None
    };
    let first = wait("1000000", Duration::from_secs(30))?;
    let opened = start.elapsed();
    tmux(&["send-keys", "-t", "b", "/hot", "Enter"]);
    let replay = wait("\"balance\"", Duration::from_secs(120))? - opened;
    // A jq find over the stream's events, until its count is final.
    tmux(&["send-keys", "-t", "b", "/?.data.amount > 990", "Enter"]);
    let asked = Instant::now();
    let mut find = None;
    while asked.elapsed() < Duration::from_secs(120) {
        let pane = tmux(&["capture-pane", "-p", "-t", "b"]);
        if pane.contains("990: ") && pane.contains(" matches") && !pane.contains("scanned") {
            find = Some(asked.elapsed());
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    // The pane runs the guard process; the TUI is its child, and the worker the TUI's.
    // Their peaks are added: an upper bound of what the UI holds at once.
    let pane_pid = tmux(&["display", "-p", "-t", "b", "#{pane_pid}"])
        .trim()
        .to_string();
    let hwm_kb = |pid: &str| -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    };
    let mut tree = vec![pane_pid];
    let mut kb = 0.0;
    while let Some(pid) = tree.pop() {
        kb += hwm_kb(&pid).unwrap_or(0.0);
        let children =
            std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
        tree.extend(children.split_whitespace().map(str::to_string));
    }
    tmux(&["kill-server"]);
    Some((first, kb / 1024.0, replay, find?))
}

/// Time steps as the TUI takes them on the 500k stream: the stream's times read once into
/// an index, then each step a lookup; against the store's own lookup, which reads them all.
fn time_step_figures(store: &Store, report: &mut Report) {
    use eventscope::store::{EventSource, TimeIndex};
    let t = Instant::now();
    let mut index = TimeIndex::new(Some(HOT_STREAM));
    index.extend(store, usize::MAX).unwrap();
    let build = t.elapsed();
    let first = store.event_at_or_before(HOT_STREAM, 1).unwrap().unwrap();
    let start = eventscope::time::parse_stored(first.timestamp.as_deref().unwrap()).unwrap();
    let mut steps: Vec<Duration> = versions(1000, 0x5eed)
        .into_iter()
        .map(|v| {
            let at = start + chrono::Duration::seconds(v * 7);
            let t = Instant::now();
            index.last_at_or_before(at).unwrap();
            t.elapsed()
        })
        .collect();
    steps.sort();
    let at = start + chrono::Duration::hours(100);
    let t = Instant::now();
    let scanned = store.version_at_time(HOT_STREAM, at).unwrap();
    let scan = t.elapsed();
    assert_eq!(
        index.last_at_or_before(at).unwrap(),
        scanned,
        "the same answer"
    );
    println!(
        "time step: index read once {:.3} s, then p99 {:?}; the store's lookup {:.3} s a step",
        build.as_secs_f64(),
        steps[steps.len() * 99 / 100],
        scan.as_secs_f64()
    );
    report.ms(
        "time step on the 500k stream, p99 (indexed)",
        steps[steps.len() * 99 / 100],
        30.0,
    );
    report.ms("time index of the 500k stream, read once", build, 1000.0);
}

/// The physical floor beside the loop: SQLite stepping over the stream's payloads with
/// nothing done per row, and (for wall time) the read-ahead's reader alone; the jq replay
/// measured against both; and what a user would run instead, `sqlite3 -json | jq`.
fn floor_figures(path: &Path, store: &Store, report: &mut Report) {
    use eventscope::store::{Columns, EventSource};
    let sqlite_step = || {
        let conn =
            rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .unwrap();
        let mut stmt = conn
            .prepare("SELECT data FROM events WHERE stream_id = ?1 ORDER BY version")
            .unwrap();
        let mut rows = stmt.query([HOT_STREAM]).unwrap();
        let mut n = 0usize;
        while let Some(row) = rows.next().unwrap() {
            n += usize::from(row.get_ref(0).is_ok());
        }
        assert_eq!(n, HOT);
    };
    let reader = || {
        let mut n = 0usize;
        store
            .each_stream_row(HOT_STREAM, 1..=i64::MAX, Columns::NONE, &mut |_| {
                n += 1;
                Ok(std::ops::ControlFlow::Continue(()))
            })
            .unwrap();
        assert_eq!(n, HOT);
    };
    let jq = Reducer::load(Path::new(ACCOUNT_JQ)).unwrap();
    let floor = paired(path, sqlite_step);
    let read = paired(path, reader);
    let replay = paired(path, || {
        full_replay(store, &jq);
    });
    println!(
        "floor: SQLite step alone {:.3} s, read-ahead reader alone {:.3} s, jq replay {:.3} s",
        floor.time.as_secs_f64(),
        read.time.as_secs_f64(),
        replay.time.as_secs_f64()
    );
    println!(
        "  as ratios to the loop (CPU): SQLite step {:.2}×, reader {:.2}×, jq replay {:.2}×",
        floor.cpu, read.cpu, replay.cpu
    );
    report.ratio("SQLite step alone (floor) / the loop (CPU)", floor.cpu, 1.0);
    report.ratio(
        "jq replay / read-ahead reader alone (wall)",
        replay.time.as_secs_f64() / read.time.as_secs_f64(),
        1.1,
    );
    user_alternative(path, report);
}

/// `sqlite3 -json … | jq -s 'reduce …'` for the final balance: time and peak memory,
/// against eventscope's `state` with the same reducer.
fn user_alternative(path: &Path, report: &mut Report) {
    use std::process::Stdio;
    let have = |tool: &str| Command::new(tool).arg("--version").output().is_ok();
    if !have("sqlite3") || !have("jq") {
        println!("sqlite3 or jq not found: the user's alternative is not measured");
        return;
    }
    let sql = format!(
        "SELECT event_type, data FROM events WHERE stream_id = '{HOT_STREAM}' ORDER BY version"
    );
    let fold = r#"reduce .[][] as $e (0; ($e.data | fromjson | .amount // 0) as $a
        | if $e.event_type == "MoneyDeposited" then . + $a
          elif $e.event_type == "MoneyWithdrawn" then . - $a else . end)"#;
    let hwm = |pid: u32| -> u64 {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmHWM:"))?
                    .split_whitespace()
                    .nth(1)?
                    .parse()
                    .ok()
            })
            .unwrap_or(0)
    };
    let mut best = (Duration::MAX, 0u64, String::new());
    for _ in 0..runs() {
        let t = Instant::now();
        let mut sqlite = Command::new("sqlite3")
            .args(["-json", "-readonly", path.to_str().unwrap(), &sql])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut jq = Command::new("jq")
            .args(["-s", fold])
            .stdin(sqlite.stdout.take().unwrap())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let (mut peak_s, mut peak_j) = (0, 0);
        while jq.try_wait().unwrap().is_none() {
            peak_s = peak_s.max(hwm(sqlite.id()));
            peak_j = peak_j.max(hwm(jq.id()));
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = sqlite.wait();
        let mut out = String::new();
        std::io::Read::read_to_string(&mut jq.stdout.take().unwrap(), &mut out).unwrap();
        let took = t.elapsed();
        if took < best.0 {
            best = (took, peak_s + peak_j, out.trim().to_string());
        }
    }
    let ours = timing::median(runs(), || {
        let out = Command::new(BIN)
            .args([
                "state",
                path.to_str().unwrap(),
                HOT_STREAM,
                "--reducer",
                ACCOUNT_JQ,
            ])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(out.success());
    });
    let (ours_mb, _) = peak_rss_mb(&[
        "state",
        path.to_str().unwrap(),
        HOT_STREAM,
        "--reducer",
        ACCOUNT_JQ,
    ]);
    println!(
        "the user's alternative, sqlite3 -json | jq -s reduce: {:.2} s at {} MiB peak (balance {}); eventscope state: {:.2} s at {:.0} MiB",
        best.0.as_secs_f64(),
        best.1 / 1024,
        best.2,
        ours.as_secs_f64(),
        ours_mb
    );
    report.info(
        "sqlite3 | jq alternative / eventscope state (wall)",
        format!("{:.2}×", best.0.as_secs_f64() / ours.as_secs_f64()),
    );
    report.info(
        "sqlite3 | jq alternative, peak RSS",
        format!("{} MB", best.1 / 1024),
    );
}

/// Open, the TUI's first screen and a 50-event stream's replay on stores of 100k, 1M and
/// 5M events: what should follow the stream, not the store.
fn scaling_figures(report: &mut Report) {
    let sizes = [
        (100_000usize, 10_000usize),
        (1_000_000, 500_000),
        (5_000_000, 500_000),
    ];
    let mut rows = Vec::new();
    for (events, hot) in sizes {
        let path =
            Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("bench-scale-{events}-v1.sqlite"));
        if !path.exists() {
            let tmp = path.with_extension("tmp");
            let _ = std::fs::remove_file(&tmp);
            eprintln!("writing the scaling fixture (once): {}", path.display());
            eventscope::demo::write_demo(&tmp, events, hot).unwrap();
            std::fs::rename(&tmp, &path).unwrap();
        }
        let open = timing::median(runs().max(5), || {
            let s = Store::open(&path).unwrap();
            s.last_position().unwrap();
        });
        let stream = "Account-gen-000033";
        let s = Store::open(&path).unwrap();
        let jq = Reducer::load(Path::new(ACCOUNT_JQ)).unwrap();
        let replay = timing::median(21, || {
            let mut r = Replayer::new(&s, &jq, SeekOptions::default());
            let last = s.last_version(stream).unwrap().unwrap();
            assert_eq!(last, 50);
            r.state_at(stream, last).unwrap();
        });
        let streams = Store::open(&path).unwrap().streams().unwrap().len();
        let screen = tui_first_screen(&path, &events.to_string());
        println!(
            "{events} events ({streams} streams): open {:.1} ms, 50-event replay {:.1} ms, TUI first screen {}",
            open.as_secs_f64() * 1000.0,
            replay.as_secs_f64() * 1000.0,
            screen.map_or("(no tmux)".into(), |d| format!("{:.0} ms", d.as_secs_f64() * 1000.0))
        );
        rows.push((open, replay, screen, streams));
    }
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    let (small, large) = (&rows[0], &rows[2]);
    report.ratio("open, 5M-event store / 100k", ratio(large.0, small.0), 1.5);
    report.ratio(
        "50-event replay, 5M-event store / 100k",
        ratio(large.1, small.1),
        1.5,
    );
    if let (Some(a), Some(b)) = (small.2, large.2) {
        // The list itself grows with the streams (1,805 against 90,005 here).
        report.info(
            &format!(
                "TUI first screen, 5M / 100k ({} / {} streams)",
                large.3, small.3
            ),
            format!("{:.2}×", ratio(b, a)),
        );
        report.ms("TUI first screen, 5M-event store", b, 500.0);
    }
}

/// The time until the TUI shows its stream list with `count` in it.
fn tui_first_screen(path: &Path, count: &str) -> Option<Duration> {
    let (tmux, start) = tui_session("scale", &format!("{BIN} {}", path.display()))?;
    let mut shown = None;
    while start.elapsed() < Duration::from_secs(120) {
        // The list's `$all` row with the store's count (the title holds the file's name).
        let pane = tmux(&["capture-pane", "-p", "-t", "b"]);
        if pane
            .lines()
            .any(|l| l.contains("$all") && l.contains(count))
        {
            shown = Some(start.elapsed());
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    tmux(&["kill-server"]);
    shown
}

/// Starts `cmd` in a detached 120×35 tmux session `b` on a socket of its own: a runner of
/// tmux commands (returning their output) and the moment it started; `None` without tmux.
fn tui_session(name: &str, cmd: &str) -> Option<(impl Fn(&[&str]) -> String, Instant)> {
    Command::new("tmux").arg("-V").output().ok()?;
    let socket = format!("eventscope-{name}-{}", std::process::id());
    let tmux = move |args: &[&str]| {
        let out = Command::new("tmux")
            .args(["-L", &socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let start = Instant::now();
    tmux(&["new-session", "-d", "-s", "b", "-x", "120", "-y", "35", cmd]);
    Some((tmux, start))
}

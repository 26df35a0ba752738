//! The one guard for every jq program eventscope runs: reducers, `when` predicates,
//! `--where` and the TUI's find, snapshot mappings. jaq cannot be interrupted from outside,
//! and a program such as `until(false; .)` never returns, so each call is marked on a
//! [`Watch`] (with the kind of program it is) and a monitor thread reports a call that runs
//! past its time limit or grows the process past its memory limit. What happens then is
//! the caller's choice: the CLI prints the report and exits; the TUI starts a fresh worker
//! that skips the event (the stuck thread cannot be stopped and is left behind).
//!
//! Marking a call costs a few plain stores: no lock, no clock. The reducer and stream are
//! named once per fold; each call stores its number, version and event type, and the
//! monitor, ticking, times a call number it keeps seeing.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where a fold is, shared with its monitor.
#[derive(Debug)]
pub struct Watch {
    /// The number of the call in progress; 0 when idle.
    current: AtomicU64,
    /// The last call number handed out (only the fold's thread writes it).
    calls: AtomicU64,
    version: AtomicI64,
    /// The event type of the call in progress, its first [`TYPE_BYTES`] bytes.
    event_type: [AtomicU8; TYPE_BYTES],
    type_len: AtomicU64,
    /// The kind of program of the call in progress ([`Program`] as a byte).
    kind: AtomicU8,
    /// The name of each kind's program, and the stream being folded.
    labels: Mutex<([String; 7], String)>,
    /// The process's resident memory a call may grow it to, in bytes; 0 for no limit.
    memory_limit: AtomicU64,
    /// Each call's start and end written to stderr ([`Watch::journal_calls`]).
    journal: AtomicBool,
}

/// How much of an event type a report shows; longer ones end with `…`.
const TYPE_BYTES: usize = 120;

impl Default for Watch {
    fn default() -> Self {
        Watch {
            current: AtomicU64::new(0),
            calls: AtomicU64::new(0),
            version: AtomicI64::new(0),
            event_type: std::array::from_fn(|_| AtomicU8::new(0)),
            type_len: AtomicU64::new(0),
            kind: AtomicU8::new(0),
            labels: Mutex::default(),
            memory_limit: AtomicU64::new(0),
            journal: AtomicBool::new(false),
        }
    }
}

/// The kinds of jq program a call may run, each named in its own words in a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Program {
    #[default]
    Reducer,
    /// A `when` predicate over the state.
    Predicate,
    /// `events --where` or the TUI's `/?` find: its place is a global position.
    Where,
    /// A snapshot mapping (`--snapshot-map`, `<category>.snapshot.jq`).
    Mapping,
    /// `export-test --redact`: a program over each envelope.
    Redact,
    /// `check --read-model`: the stream program over a row, `--project` over a state.
    ReadModel,
    /// An upcaster (`upcasters/<Type>.jq`) over a stored envelope.
    Upcaster,
}

impl Program {
    const ALL: [Program; 7] = [
        Program::Reducer,
        Program::Predicate,
        Program::Where,
        Program::Mapping,
        Program::Redact,
        Program::ReadModel,
        Program::Upcaster,
    ];

    fn index(self) -> usize {
        self as usize
    }

    fn words(self) -> &'static str {
        match self {
            Program::Reducer => "reducer",
            Program::Predicate => "predicate",
            Program::Where => "--where predicate",
            Program::Mapping => "snapshot mapping",
            Program::Redact => "--redact program",
            Program::ReadModel => "read-model program",
            Program::Upcaster => "upcaster",
        }
    }
}

/// A jq call that ran past its limit.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TimedOut {
    /// The program's name (a reducer's file, a predicate's text).
    pub reducer: String,
    #[serde(default)]
    pub kind: Program,
    pub stream: String,
    pub version: i64,
    pub event_type: String,
    pub limit: Duration,
    /// Set when the call was stopped for memory, not time: the limit in MiB.
    #[serde(default)]
    pub memory_mib: Option<u64>,
    /// Set when the process running the call died in it (found by a journal).
    #[serde(default)]
    pub died: bool,
}

impl std::fmt::Display for TimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let program = format!("{} {}", self.kind.words(), self.reducer);
        let place = match self.kind {
            Program::Where => format!("global position {} ({})", self.version, self.event_type),
            _ => format!(
                "{} version {} ({})",
                self.stream, self.version, self.event_type
            ),
        };
        let (timeout, memory) = match self.kind {
            Program::Reducer => ("--reducer-timeout", "--reducer-memory"),
            _ => ("--jq-timeout", "--jq-memory"),
        };
        if self.died {
            return write!(
                f,
                "the worker process died at {place} running the {program} (a crash, or the system ended it); that event is skipped"
            );
        }
        if let Some(mib) = self.memory_mib {
            let what = match self.kind {
                Program::Reducer => "is its state growing",
                _ => "is it building a value",
            };
            return write!(
                f,
                "{program} grew the process past {mib} MiB at {place}; {what} without end? ({memory} sets the limit)"
            );
        }
        write!(
            f,
            "{program} did not finish within {:.1} s at {place}; does it loop forever? ({timeout} sets the limit)",
            self.limit.as_secs_f64()
        )
    }
}

impl Watch {
    /// Names the reducer and stream of the calls that follow.
    pub fn fold(&self, reducer: &str, stream: &str) {
        if let Ok(mut l) = self.labels.lock() {
            let (names, s) = &mut *l;
            set(&mut names[Program::Reducer.index()], reducer);
            set(s, stream);
        }
    }

    /// Names the program of `kind` that later calls of that kind run.
    pub fn name(&self, kind: Program, program: &str) {
        if let Ok(mut l) = self.labels.lock() {
            set(&mut l.0[kind.index()], program);
        }
    }

    /// Names the stream of the calls that follow, leaving the programs' names.
    pub fn stream(&self, stream: &str) {
        if let Ok(mut l) = self.labels.lock() {
            set(&mut l.1, stream);
        }
    }

    /// Marks the start of a reducer call on `version`.
    pub fn begin(&self, version: i64, event_type: &str) {
        self.begin_as(Program::Reducer, version, event_type);
    }

    /// Marks the start of a call of a `kind` of program at `version` (a global position
    /// for [`Program::Where`]).
    pub fn begin_as(&self, kind: Program, version: i64, event_type: &str) {
        self.kind.store(kind as u8, Ordering::Relaxed);
        let bytes = event_type.as_bytes();
        for (slot, b) in self.event_type.iter().zip(bytes) {
            slot.store(*b, Ordering::Relaxed);
        }
        self.type_len.store(bytes.len() as u64, Ordering::Relaxed);
        self.version.store(version, Ordering::Relaxed);
        let call = self.calls.load(Ordering::Relaxed) + 1;
        self.calls.store(call, Ordering::Relaxed);
        self.current.store(call, Ordering::Release);
        if self.journal.load(Ordering::Relaxed) {
            self.write_journal(self.report(Duration::ZERO, None));
        }
    }

    pub fn end(&self) {
        self.current.store(0, Ordering::Release);
        if self.journal.load(Ordering::Relaxed) {
            self.write_journal(None);
        }
    }

    /// From now on each call's start is written to stderr as a JSON line (a [`TimedOut`]
    /// with no limit) before it runs, and its end as `-`: a process that dies inside a call
    /// leaves the call as the journal's last line, for its parent to read ([`last_call`]).
    /// A write per call: only for a process that has died once already.
    pub fn journal_calls(&self) {
        self.journal.store(true, Ordering::Relaxed);
    }

    fn write_journal(&self, call: Option<TimedOut>) {
        let mut line = match call.map(|c| serde_json::to_vec(&c)) {
            Some(Ok(json)) => json,
            _ => b"-".to_vec(),
        };
        line.push(b'\n');
        let _ = std::io::stderr().lock().write_all(&line);
    }

    /// Stops a call that grows the process's resident memory past `mib` MiB.
    pub fn limit_memory(&self, mib: u64) {
        self.memory_limit.store(mib << 20, Ordering::Relaxed);
    }

    /// Whether the process has grown past the memory limit: the limit in MiB.
    fn too_big(&self) -> Option<u64> {
        let memory = self.memory_limit.load(Ordering::Relaxed);
        (memory > 0 && resident_bytes().is_some_and(|rss| rss > memory)).then_some(memory >> 20)
    }

    /// The report on the call in progress.
    fn report(&self, limit: Duration, memory_mib: Option<u64>) -> Option<TimedOut> {
        let kind = Program::ALL
            .get(self.kind.load(Ordering::Relaxed) as usize)
            .copied()
            .unwrap_or_default();
        let (names, stream) = self.labels.lock().ok()?.clone();
        let reducer = names[kind.index()].clone();
        let len = self.type_len.load(Ordering::Relaxed) as usize;
        let bytes: Vec<u8> = self.event_type[..len.min(TYPE_BYTES)]
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        let mut event_type = String::from_utf8_lossy(&bytes).into_owned();
        if len > TYPE_BYTES {
            event_type.push('…');
        }
        Some(TimedOut {
            reducer,
            kind,
            stream,
            version: self.version.load(Ordering::Relaxed),
            event_type,
            limit,
            memory_mib,
            died: false,
        })
    }

    /// One tick of the monitor; `seen` is the call it saw last, and since when.
    fn check(&self, limit: Duration, seen: &mut Option<(u64, Instant)>) -> Option<TimedOut> {
        let call = self.current.load(Ordering::Acquire);
        if call == 0 {
            *seen = None;
            return None;
        }
        if let Some(mib) = self.too_big() {
            return self.report(limit, Some(mib));
        }
        match *seen {
            Some((c, since)) if c == call => {
                if since.elapsed() > limit {
                    return self.report(limit, None);
                }
            }
            _ => *seen = Some((call, Instant::now())),
        }
        None
    }

    /// Starts a thread that calls `on_timeout` once when a call runs past `limit` (or the
    /// memory limit), and ends when it has, or when nothing else holds the watch any more.
    /// It ticks every tenth of the limit (5–100 ms), so a call is reported at most a tick
    /// after its limit.
    pub fn monitor(
        self: &Arc<Self>,
        limit: Duration,
        on_timeout: impl FnOnce(TimedOut) + Send + 'static,
    ) -> std::io::Result<()> {
        let watch = Arc::clone(self);
        let tick = (limit / 10).clamp(Duration::from_millis(5), Duration::from_millis(100));
        std::thread::Builder::new()
            .name("reducer-watchdog".into())
            .spawn(move || {
                let mut seen = None;
                loop {
                    if let Some(t) = watch.check(limit, &mut seen) {
                        on_timeout(t);
                        return;
                    }
                    if Arc::strong_count(&watch) == 1 {
                        return;
                    }
                    std::thread::sleep(tick);
                }
            })
            .map(|_| ())
    }
}

/// The stack jq programs run on: far more than any bounded program needs, so that one that
/// recurses without end grows the process until the memory guard (`limit_mib`) stops it,
/// one line and exit 1, instead of overflowing a small stack (an abort). Only the pages
/// touched count against memory.
pub fn stack_for(limit_mib: u64) -> usize {
    const GIB: u64 = 1 << 30;
    let bytes = (limit_mib.saturating_mul(1 << 20) + 4 * GIB).clamp(8 * GIB, 64 * GIB);
    usize::try_from(bytes).unwrap_or(usize::MAX)
}

/// The call a journal ([`Watch::journal_calls`]) left in progress: its last line, where
/// that is a call's start.
pub fn last_call(journal: &str) -> Option<TimedOut> {
    let line = journal.lines().next_back()?;
    serde_json::from_str(line).ok()
}

fn set(slot: &mut String, value: &str) {
    if slot != value {
        slot.clear();
        slot.push_str(value);
    }
}

/// This process's resident memory (Linux's /proc; elsewhere unknown).
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: u64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_call_seen_past_its_limit_is_overdue() {
        let w = Watch::default();
        let mut seen = None;
        assert_eq!(w.check(Duration::ZERO, &mut seen), None, "idle");
        w.fold("r.jq", "A-1");
        w.begin(7, "Deposited");
        assert_eq!(w.check(Duration::ZERO, &mut seen), None, "first seen now");
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(w.check(Duration::from_secs(60), &mut seen), None);
        let t = w.check(Duration::from_millis(5), &mut seen).unwrap();
        assert_eq!(
            (t.stream.as_str(), t.version, t.event_type.as_str()),
            ("A-1", 7, "Deposited")
        );
        assert!(t
            .to_string()
            .contains("did not finish within 0.0 s at A-1 version 7 (Deposited)"));
        w.end();
        w.begin(8, "Withdrawn");
        assert_eq!(
            w.check(Duration::ZERO, &mut seen),
            None,
            "a new call is timed from when it is first seen"
        );
        w.end();
        assert_eq!(w.check(Duration::ZERO, &mut seen), None);
    }

    #[test]
    fn long_event_types_are_cut_in_the_report() {
        let w = Watch::default();
        let long = "T".repeat(200);
        w.begin(1, &long);
        w.begin(2, "Short");
        assert_eq!(w.report(Duration::ZERO, None).unwrap().event_type, "Short");
        w.begin(3, &long);
        let t = w.report(Duration::ZERO, None).unwrap();
        assert_eq!(t.event_type, format!("{}…", "T".repeat(TYPE_BYTES)));
    }

    #[test]
    fn the_monitor_reports_once_and_stops_with_its_watch() {
        let w = Arc::new(Watch::default());
        let (tx, rx) = std::sync::mpsc::channel();
        w.monitor(Duration::from_millis(10), move |t| tx.send(t).unwrap())
            .unwrap();
        w.fold("r.jq", "A-1");
        w.begin(3, "T");
        let t = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(t.version, 3);
        assert!(rx.recv_timeout(Duration::from_millis(100)).is_err(), "once");
    }

    #[test]
    fn a_call_that_grows_the_process_past_its_memory_is_reported() {
        let w = Watch::default();
        let mut seen = None;
        w.limit_memory(1); // this test process is larger than 1 MiB
        w.fold("r.jq", "A-1");
        w.begin(9, "T");
        let t = w.check(Duration::from_secs(60), &mut seen).unwrap();
        assert_eq!(t.memory_mib, Some(1));
        assert!(
            t.to_string()
                .contains("grew the process past 1 MiB at A-1 version 9"),
            "{t}"
        );
        w.end();
        assert_eq!(
            w.check(Duration::ZERO, &mut seen),
            None,
            "only during a call"
        );
    }

    #[test]
    fn a_journal_names_the_call_left_in_progress() {
        let w = Watch::default();
        w.fold("r.jq", "A-1");
        w.begin(4, "Deposited");
        let start = serde_json::to_string(&w.report(Duration::ZERO, None)).unwrap();
        assert_eq!(last_call(&format!("{start}\n-\n")), None, "ended");
        let t = last_call(&format!("-\n{start}\n")).unwrap();
        assert_eq!((t.stream.as_str(), t.version), ("A-1", 4));
        assert_eq!(last_call(""), None);
        let died = TimedOut { died: true, ..t };
        assert!(died.to_string().starts_with(
            "the worker process died at A-1 version 4 (Deposited) running the reducer r.jq"
        ));
    }
}

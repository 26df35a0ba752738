//! A watchdog for reducers. jaq cannot be interrupted from outside, and a program such as
//! `until(false; .)` never returns, so the fold marks each reducer call on a [`Watch`] and a
//! monitor thread reports a call that runs past its time limit. What happens then is the
//! caller's choice: the CLI prints the report and exits; the TUI starts a fresh worker that
//! skips the event (the stuck thread cannot be stopped and is left behind).

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where a fold is, shared with its monitor.
#[derive(Debug)]
pub struct Watch {
    epoch: Instant,
    /// Milliseconds since `epoch` + 1 when the current call began; 0 when idle.
    started: AtomicU64,
    version: AtomicI64,
    labels: Mutex<(String, String, String)>,
    /// The process's resident memory a call may grow it to, in bytes; 0 for no limit.
    memory_limit: AtomicU64,
}

/// A reducer call that ran past its limit.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TimedOut {
    pub reducer: String,
    pub stream: String,
    pub version: i64,
    pub event_type: String,
    pub limit: Duration,
    /// Set when the call was stopped for memory, not time: the limit in MiB.
    #[serde(default)]
    pub memory_mib: Option<u64>,
}

impl std::fmt::Display for TimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(mib) = self.memory_mib {
            return write!(
                f,
                "reducer {} grew the process past {mib} MiB at {} version {} ({}); is its state growing without end? (--reducer-memory sets the limit)",
                self.reducer, self.stream, self.version, self.event_type
            );
        }
        write!(
            f,
            "reducer {} did not finish within {:.1} s at {} version {} ({}); does it loop forever? (--reducer-timeout sets the limit)",
            self.reducer,
            self.limit.as_secs_f64(),
            self.stream,
            self.version,
            self.event_type
        )
    }
}

impl Default for Watch {
    fn default() -> Self {
        Watch {
            epoch: Instant::now(),
            started: AtomicU64::new(0),
            version: AtomicI64::new(0),
            labels: Mutex::new(Default::default()),
            memory_limit: AtomicU64::new(0),
        }
    }
}

impl Watch {
    /// Marks the start of a reducer call on `version`; the labels are kept for the report.
    pub fn begin(&self, reducer: &str, stream: &str, version: i64, event_type: &str) {
        if let Ok(mut l) = self.labels.lock() {
            let (a, b, c) = &mut *l;
            for (slot, value) in [(a, reducer), (b, stream), (c, event_type)] {
                if slot != value {
                    slot.clear();
                    slot.push_str(value);
                }
            }
        }
        self.version.store(version, Ordering::Relaxed);
        let now = self.epoch.elapsed().as_millis() as u64 + 1;
        self.started.store(now, Ordering::Release);
    }

    /// Stops a call that grows the process's resident memory past `mib` MiB.
    pub fn limit_memory(&self, mib: u64) {
        self.memory_limit.store(mib << 20, Ordering::Relaxed);
    }

    pub fn end(&self) {
        self.started.store(0, Ordering::Release);
    }

    /// The current call, if it has run longer than `limit`.
    pub fn overdue(&self, limit: Duration) -> Option<TimedOut> {
        let started = self.started.load(Ordering::Acquire);
        if started == 0 {
            return None;
        }
        let now = self.epoch.elapsed().as_millis() as u64 + 1;
        let memory = self.memory_limit.load(Ordering::Relaxed);
        let too_big = memory > 0 && resident_bytes().is_some_and(|rss| rss > memory);
        if now.saturating_sub(started) <= limit.as_millis() as u64 && !too_big {
            return None;
        }
        let (reducer, stream, event_type) = self.labels.lock().ok()?.clone();
        Some(TimedOut {
            reducer,
            stream,
            version: self.version.load(Ordering::Relaxed),
            event_type,
            limit,
            memory_mib: too_big.then_some(memory >> 20),
        })
    }

    /// Starts a thread that calls `on_timeout` once when a call runs past `limit`, and ends
    /// when it has, or when nothing else holds the watch any more.
    pub fn monitor(
        self: &Arc<Self>,
        limit: Duration,
        on_timeout: impl FnOnce(TimedOut) + Send + 'static,
    ) -> std::io::Result<()> {
        let watch = Arc::clone(self);
        let tick = (limit / 10).clamp(Duration::from_millis(5), Duration::from_millis(100));
        std::thread::Builder::new()
            .name("reducer-watchdog".into())
            .spawn(move || loop {
                if let Some(t) = watch.overdue(limit) {
                    on_timeout(t);
                    return;
                }
                if Arc::strong_count(&watch) == 1 {
                    return;
                }
                std::thread::sleep(tick);
            })
            .map(|_| ())
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
    fn only_a_call_past_its_limit_is_overdue() {
        let w = Watch::default();
        assert_eq!(w.overdue(Duration::ZERO), None, "idle");
        w.begin("r.jq", "A-1", 7, "Deposited");
        assert_eq!(w.overdue(Duration::from_secs(60)), None);
        std::thread::sleep(Duration::from_millis(20));
        let t = w.overdue(Duration::from_millis(5)).unwrap();
        assert_eq!(
            (t.stream.as_str(), t.version, t.event_type.as_str()),
            ("A-1", 7, "Deposited")
        );
        assert!(t
            .to_string()
            .contains("did not finish within 0.0 s at A-1 version 7 (Deposited)"));
        w.end();
        assert_eq!(w.overdue(Duration::ZERO), None);
    }

    #[test]
    fn the_monitor_reports_once_and_stops_with_its_watch() {
        let w = Arc::new(Watch::default());
        let (tx, rx) = std::sync::mpsc::channel();
        w.monitor(Duration::from_millis(10), move |t| tx.send(t).unwrap())
            .unwrap();
        w.begin("r.jq", "A-1", 3, "T");
        let t = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(t.version, 3);
        assert!(rx.recv_timeout(Duration::from_millis(100)).is_err(), "once");
    }

    #[test]
    fn a_call_that_grows_the_process_past_its_memory_is_reported() {
        let w = Watch::default();
        w.limit_memory(1); // this test process is larger than 1 MiB
        w.begin("r.jq", "A-1", 9, "T");
        let t = w.overdue(Duration::from_secs(60)).unwrap();
        assert_eq!(t.memory_mib, Some(1));
        assert!(
            t.to_string()
                .contains("grew the process past 1 MiB at A-1 version 9"),
            "{t}"
        );
        w.end();
        assert_eq!(w.overdue(Duration::ZERO), None, "only during a call");
    }
}

//! The worker thread: all store reads and replays happen here, so the UI thread only ever
//! sends requests and receives answers over channels. Newer requests of a kind replace
//! older ones still waiting, and a long replay stops early when a new seek arrives (its
//! checkpoints stay, so the next seek resumes from them).

use std::collections::VecDeque;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

use chrono::{DateTime, Utc};
use std::sync::Arc;

use eventscope::replay::{
    diff, Change, Reducer, Replayer, SeekOptions, SnapshotMaps, SnapshotUse, TimedOut, Traced,
    Watch,
};
use eventscope::store::{LogFilter, Store, StreamInfo};
use eventscope::Event;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::json_view::JsonLine;

/// What the timeline runs over: one stream by version, or the global log by position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Target {
    All,
    Stream(String),
}

/// An event another process appended, as the stream list needs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Appended {
    pub stream_id: String,
    /// The category the layout's rule gives (a topic's class, a type column, the prefix).
    pub category: String,
    pub version: i64,
    pub position: i64,
}

/// One line of the events pane; payloads are cut to a preview, never held whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRow {
    /// The version in a stream, the global position in the log.
    pub key: i64,
    pub stream_id: String,
    pub version: i64,
    pub event_type: String,
    /// `None` where the layout records no time.
    pub timestamp: Option<String>,
    pub preview: String,
    /// The store keeps a snapshot at this version.
    pub snapshot: bool,
}

/// The state pane's content at one playhead position.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateAt {
    pub stream_id: String,
    pub version: i64,
    pub state: Value,
    /// What the event at the playhead changed.
    pub changed: Vec<Change>,
    pub event: Option<Event>,
    /// The event's envelope as the Event tab shows it, flattened here, off the UI thread.
    pub event_lines: Vec<JsonLine>,
    /// The reducer's error at this very event, if it failed here.
    pub error: Option<String>,
    /// Events before this one that the reducer failed on: how many, and the first.
    pub failed_before: (usize, Option<i64>),
    /// What folded it: the reducer's name, or the built-in merge labelled as a guess.
    pub reducer: String,
    pub merge: bool,
    /// The store snapshot the fold started from, if it did.
    pub from_snapshot: Option<i64>,
    /// Things that did not stop the answer (a snapshot skipped), for the footer.
    pub warnings: Vec<String>,
    /// The application's snapshot stored at exactly this version, flattened for the Event
    /// tab, or why it cannot be read.
    pub snapshot: Option<Result<Vec<JsonLine>, String>>,
}

#[derive(Debug, Serialize, Deserialize)]
pub enum Req {
    Streams,
    Rows {
        target: Target,
        from: i64,
        to: i64,
    },
    State {
        target: Target,
        key: i64,
    },
    Diff {
        target: Target,
        a: i64,
        b: i64,
    },
    Density {
        target: Target,
        buckets: usize,
    },
    ResolveTime {
        target: Target,
        at: DateTime<Utc>,
    },
    /// Follow on, catching up from after this position, or off.
    Follow(Option<i64>),
    /// How many events the store holds past this position (while not following).
    Pending(i64),
}

#[derive(Debug, Serialize, Deserialize)]
pub enum Msg {
    Streams {
        streams: Vec<StreamInfo>,
        last_position: i64,
    },
    Rows {
        target: Target,
        /// The keys asked for: those without a row have no event.
        from: i64,
        to: i64,
        rows: Vec<EventRow>,
    },
    Progress {
        target: Target,
        key: i64,
        done: i64,
        total: i64,
    },
    State {
        target: Target,
        key: i64,
        result: Result<Box<StateAt>, String>,
    },
    Diff {
        target: Target,
        a: i64,
        b: i64,
        result: Result<Vec<Change>, String>,
    },
    Density {
        target: Target,
        counts: Vec<u64>,
        /// Versions with a stored snapshot (streams only), for the timeline.
        snapshots: Vec<i64>,
    },
    TimeResolved {
        target: Target,
        key: Option<i64>,
    },
    Appended {
        events: Vec<Appended>,
    },
    /// Events stored past the position the UI knows, counted while it does not follow.
    Pending {
        after: i64,
        count: i64,
    },
    /// A reducer call ran past its limit: this worker is stuck for good.
    ReducerTimeout(TimedOut),
    /// Replays cannot start from snapshots (no mapping): they start from the first event.
    SnapshotsRefused(String),
    /// The worker process ended without a word (a reducer overflowed its stack).
    WorkerDied,
    Error(String),
}

#[derive(Clone, Serialize, Deserialize)]
pub struct WorkerConfig {
    pub store: PathBuf,
    pub open: eventscope::store::OpenOptions,
    pub reducer: Option<PathBuf>,
    /// Start replays from store snapshots (through `snapshot_map` or `<category>.snapshot.jq`).
    pub from_snapshots: bool,
    pub snapshot_map: Option<PathBuf>,
    pub reducer_timeout: Duration,
    /// MiB of memory a reducer call may grow the worker to.
    pub reducer_memory: u64,
    /// Events whose reducer call timed out before: never run again.
    pub skips: Vec<TimedOut>,
}

const PREVIEW_CHARS: usize = 160;
const FOLLOW_POLL: Duration = Duration::from_millis(100);

/// Runs until the request channel closes.
pub fn run(config: WorkerConfig, requests: Receiver<Req>, replies: Sender<Msg>) {
    let store = match Store::open_with(&config.store, &config.open) {
        Ok(s) => s,
        Err(e) => {
            let _ = replies.send(Msg::Error(e.to_string()));
            return;
        }
    };
    let reducer = match config.reducer.as_deref().map(Reducer::load) {
        None => Reducer::Merge,
        Some(Ok(r)) => r,
        Some(Err(e)) => {
            let _ = replies.send(Msg::Error(e.to_string()));
            Reducer::Merge
        }
    };
    let options = SeekOptions {
        skip_failed_events: true,
        ..SeekOptions::default()
    };
    let snapshots = SnapshotMaps::load(config.reducer.as_deref(), config.snapshot_map.as_deref())
        .map_err(|e| e.to_string())
        .and_then(|maps| SnapshotUse::decide(config.from_snapshots, &store, &reducer, maps));
    let snapshots = snapshots.unwrap_or_else(|e| {
        let _ = replies.send(Msg::SnapshotsRefused(e));
        SnapshotUse::Never
    });
    let watch = Arc::new(Watch::default());
    watch.limit_memory(config.reducer_memory);
    let to_ui = replies.clone();
    if let Err(e) = watch.monitor(config.reducer_timeout, move |t| {
        let _ = to_ui.send(Msg::ReducerTimeout(t));
    }) {
        let _ = replies.send(Msg::Error(format!(
            "cannot start the reducer watchdog: {e}"
        )));
    }
    let mut replayer = Replayer::new(&store, &reducer, options)
        .with_watch(watch)
        .with_snapshots(snapshots);
    for t in &config.skips {
        let reason = match t.memory_mib {
            Some(mib) => format!(
                "grew the process past {mib} MiB; is its state growing without end? (--reducer-memory sets the limit)"
            ),
            None => format!(
                "did not finish within {:.1} s; does it loop forever? (--reducer-timeout sets the limit)",
                t.limit.as_secs_f64()
            ),
        };
        replayer.skip_event(&t.stream, t.version, reason);
    }
    let mut w = Worker {
        store: &store,
        reducer: &reducer,
        replayer,
        requests,
        replies,
        pending: VecDeque::new(),
        subscription: None,
    };
    w.serve();
}

struct Worker<'a> {
    store: &'a Store,
    reducer: &'a Reducer,
    replayer: Replayer<'a>,
    requests: Receiver<Req>,
    replies: Sender<Msg>,
    pending: VecDeque<Req>,
    subscription: Option<eventscope::store::Subscription>,
}

/// Which kind a request is, numbered in the order they are served: what the user is
/// looking at first, charts last.
fn priority(r: &Req) -> usize {
    match r {
        Req::Streams => 0,
        Req::Follow(_) => 1,
        Req::Pending(_) => 7,
        Req::Rows { .. } => 2,
        Req::ResolveTime { .. } => 3,
        Req::State { .. } => 4,
        Req::Diff { .. } => 5,
        Req::Density { .. } => 6,
    }
}

/// Whether a waiting request should interrupt a long replay: anything served before it.
fn interrupts_replay(r: &Req) -> bool {
    priority(r)
        <= priority(&Req::State {
            target: Target::All,
            key: 0,
        })
}

impl Worker<'_> {
    fn serve(&mut self) {
        loop {
            let next = match self.pending.pop_front() {
                Some(r) => r,
                None if self.subscription.is_some() => {
                    match self.requests.recv_timeout(FOLLOW_POLL) {
                        Ok(r) => r,
                        Err(RecvTimeoutError::Timeout) => {
                            self.poll_follow();
                            continue;
                        }
                        Err(RecvTimeoutError::Disconnected) => return,
                    }
                }
                None => match self.requests.recv() {
                    Ok(r) => r,
                    Err(_) => return,
                },
            };
            self.pending.push_front(next);
            self.drain();
            let Some(req) = self.pending.pop_front() else {
                continue;
            };
            if let Err(e) = self.handle(req) {
                let _ = self.replies.send(Msg::Error(e));
            }
            if self.subscription.is_some() {
                self.poll_follow();
            }
        }
    }

    /// Takes every waiting request, keeping only the newest of each kind, in the order
    /// they are served.
    fn drain(&mut self) {
        while let Ok(r) = self.requests.try_recv() {
            self.pending.push_back(r);
        }
        let mut newest: [Option<Req>; 8] = Default::default();
        while let Some(r) = self.pending.pop_front() {
            let k = priority(&r);
            newest[k] = Some(r);
        }
        self.pending = newest.into_iter().flatten().collect();
    }

    fn send(&self, msg: Msg) {
        let _ = self.replies.send(msg);
    }

    fn handle(&mut self, req: Req) -> Result<(), String> {
        match req {
            Req::Streams => {
                let (streams, last_position) = self
                    .store
                    .read_consistently(|s| Ok((s.streams()?, s.last_position()?)))
                    .map_err(|e| e.to_string())?;
                self.send(Msg::Streams {
                    streams,
                    last_position,
                });
            }
            Req::Rows { target, from, to } => {
                let rows = self.rows(&target, from, to).map_err(|e| e.to_string())?;
                self.send(Msg::Rows {
                    target,
                    from,
                    to,
                    rows,
                });
            }
            Req::State { target, key } => {
                let result = self.state(&target, key);
                if let Some(result) = result {
                    self.send(Msg::State {
                        target,
                        key,
                        result,
                    });
                }
            }
            Req::Diff { target, a, b } => {
                let result = self.diff(&target, a, b);
                self.send(Msg::Diff {
                    target,
                    a,
                    b,
                    result,
                });
            }
            Req::Density { target, buckets } => {
                let counts = self.density(&target, buckets).map_err(|e| e.to_string())?;
                let snapshots = match &target {
                    Target::Stream(s) => self
                        .store
                        .snapshot_versions_of(s)
                        .map_err(|e| e.to_string())?,
                    Target::All => Vec::new(),
                };
                self.send(Msg::Density {
                    target,
                    counts,
                    snapshots,
                });
            }
            Req::ResolveTime { target, at } => {
                let key = match &target {
                    Target::Stream(s) => self
                        .store
                        .version_at_time(s, at)
                        .map_err(|e| e.to_string())?,
                    Target::All => self.store.position_at_time(at).map_err(|e| e.to_string())?,
                };
                self.send(Msg::TimeResolved { target, key });
            }
            Req::Follow(from) => {
                self.subscription = match from {
                    Some(after) => Some(self.store.subscribe(after).map_err(|e| e.to_string())?),
                    None => None,
                };
                if self.subscription.is_some() {
                    self.poll_follow();
                }
            }
            Req::Pending(after) => {
                let count = self.store.count_after(after).map_err(|e| e.to_string())?;
                self.send(Msg::Pending { after, count });
            }
        }
        Ok(())
    }

    fn poll_follow(&mut self) {
        let Some(sub) = self.subscription.as_mut() else {
            return;
        };
        match sub.poll() {
            Ok(events) if !events.is_empty() => {
                let events = events
                    .into_iter()
                    .map(|e| Appended {
                        category: e.category().to_string(),
                        stream_id: e.stream_id,
                        version: e.version,
                        position: e.global_position,
                    })
                    .collect();
                self.send(Msg::Appended { events });
            }
            Ok(_) => {}
            Err(e) => self.send(Msg::Error(e.to_string())),
        }
    }

    fn rows(
        &self,
        target: &Target,
        from: i64,
        to: i64,
    ) -> eventscope::store::Result<Vec<EventRow>> {
        let mut rows = Vec::new();
        let snapshots = match target {
            Target::Stream(s) => self.store.snapshot_versions_of(s)?,
            Target::All => Vec::new(),
        };
        let mut push = |e: Event, key: i64| {
            let preview = match &e.undecodable {
                Some(why) => format!("⚠ {why}"),
                None => eventscope::preview(&e.data, PREVIEW_CHARS),
            };
            rows.push(EventRow {
                key,
                stream_id: e.stream_id,
                version: e.version,
                event_type: e.event_type,
                snapshot: snapshots.binary_search(&e.version).is_ok(),
                timestamp: e.timestamp,
                preview,
            });
        };
        match target {
            Target::Stream(s) => self.store.read_stream(s, from..=to, |e| {
                let key = e.version;
                push(e, key);
                Ok::<_, eventscope::store::StoreError>(ControlFlow::Continue(()))
            })?,
            Target::All => {
                let filter = LogFilter {
                    from_position: from,
                    limit: Some((to - from + 1).max(0) as usize),
                    ..Default::default()
                };
                self.store.read_log(&filter, |e| {
                    if e.global_position > to {
                        return Ok(ControlFlow::Break(()));
                    }
                    let key = e.global_position;
                    push(e, key);
                    Ok::<_, eventscope::store::StoreError>(ControlFlow::Continue(()))
                })?
            }
        }
        Ok(rows)
    }

    fn event_at(&self, target: &Target, key: i64) -> Result<Option<Event>, String> {
        let mut found = None;
        let grab = |e: Event| {
            found = Some(e);
            Ok::<_, eventscope::store::StoreError>(ControlFlow::Break(()))
        };
        match target {
            Target::Stream(s) => self.store.read_stream(s, key..=key, grab),
            Target::All => {
                let filter = LogFilter {
                    from_position: key,
                    limit: Some(1),
                    ..Default::default()
                };
                self.store.read_log(&filter, grab)
            }
        }
        .map_err(|e| e.to_string())?;
        // The log's read starts at `key`: an event further on is not the one at `key`.
        Ok(found.filter(|e| matches!(target, Target::Stream(_)) || e.global_position == key))
    }

    /// The state at the playhead, or `None` when other requests came in meanwhile: then
    /// this one waits behind them (unless a newer seek replaced it) and resumes from the
    /// checkpoints it reached.
    fn state(&mut self, target: &Target, key: i64) -> Option<Result<Box<StateAt>, String>> {
        let result = self.state_now(target, key);
        if result.is_none() && !self.pending.iter().any(|r| matches!(r, Req::State { .. })) {
            self.pending.push_back(Req::State {
                target: target.clone(),
                key,
            });
        }
        result
    }

    fn state_now(&mut self, target: &Target, key: i64) -> Option<Result<Box<StateAt>, String>> {
        let event = match self.event_at(target, key) {
            Ok(e) => e,
            Err(e) => return Some(Err(e)),
        };
        // A version with no event shows the state after the last event below it, as the
        // CLI does, and nothing changed there.
        let (stream, version) = match (&event, target) {
            (Some(e), _) => (e.stream_id.clone(), e.version),
            (None, Target::Stream(s)) => (s.clone(), key),
            (None, Target::All) => return Some(Err(format!("no event at position {key}"))),
        };
        // Fold to the version before first, so the event itself is one step from there.
        let before = if event.is_some() {
            match self.seek(target, key, &stream, version - 1) {
                Ok(Some(s)) => Some(s),
                Ok(None) => return None,
                Err(e) => return Some(Err(e)),
            }
        } else {
            None
        };
        let after = match self.seek(target, key, &stream, version) {
            Ok(Some(s)) => s,
            Ok(None) => return None,
            Err(e) => return Some(Err(e)),
        };
        let changed = before.map_or_else(Vec::new, |b| diff(&b.state, &after.state));
        let category = match self.replayer.category(&stream) {
            Ok(c) => c,
            Err(e) => return Some(Err(e.to_string())),
        };
        let event_lines = event
            .as_ref()
            .and_then(|e| serde_json::to_value(e).ok())
            .map(|v| super::json_view::flatten(&v, &Default::default()))
            .unwrap_or_default();
        Some(Ok(Box::new(StateAt {
            event_lines,
            error: self.replayer.failure(&stream, version).map(str::to_string),
            failed_before: self.replayer.failures_up_to(&stream, version - 1),
            reducer: self.reducer.describe(&category),
            merge: self.reducer.is_merge_for(&category),
            from_snapshot: after.from_snapshot,
            warnings: self.replayer.take_warnings(),
            snapshot: self.snapshot_at(&stream, version),
            stream_id: stream,
            version,
            state: after.state,
            changed,
            event,
        })))
    }

    fn snapshot_at(&self, stream: &str, version: i64) -> Option<Result<Vec<JsonLine>, String>> {
        let snap = match self.store.latest_snapshot(stream, version) {
            Ok(s) => s?,
            Err(e) => return Some(Err(e.to_string())),
        };
        if snap.version != version {
            return None;
        }
        Some(match snap.unreadable {
            Some(why) => Err(why),
            None => Ok(super::json_view::flatten(&snap.data, &Default::default())),
        })
    }

    fn seek(
        &mut self,
        target: &Target,
        key: i64,
        stream: &str,
        version: i64,
    ) -> Result<Option<Traced>, String> {
        let replies = self.replies.clone();
        let requests = &self.requests;
        let pending = &mut self.pending;
        let mut progress = |done: i64| {
            let _ = replies.send(Msg::Progress {
                target: target.clone(),
                key,
                done,
                total: version,
            });
            while let Ok(r) = requests.try_recv() {
                pending.push_back(r);
            }
            if pending.iter().any(interrupts_replay) {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        };
        self.replayer
            .state_at_with(stream, version, &mut progress)
            .map_err(|e| e.to_string())
    }

    fn diff(&mut self, target: &Target, a: i64, b: i64) -> Result<Vec<Change>, String> {
        let resolve = |w: &Worker, key: i64| -> Result<(String, i64), String> {
            match target {
                Target::Stream(s) => Ok((s.clone(), key)),
                Target::All => w
                    .event_at(target, key)?
                    .map(|e| (e.stream_id, e.version))
                    .ok_or_else(|| format!("no event at position {key}")),
            }
        };
        let (sa, va) = resolve(self, a)?;
        let (sb, vb) = resolve(self, b)?;
        if sa != sb {
            return Err(format!(
                "A is in {sa} and B in {sb}: marks compare states of one stream"
            ));
        }
        let old = self.replayer.state_at(&sa, va).map_err(|e| e.to_string())?;
        let new = self.replayer.state_at(&sb, vb).map_err(|e| e.to_string())?;
        Ok(diff(&old, &new))
    }

    /// Event counts in `buckets` equal spans of time between the first and last event.
    fn density(&self, target: &Target, buckets: usize) -> eventscope::store::Result<Vec<u64>> {
        let mut times = Vec::new();
        let filter = match target {
            Target::Stream(s) => LogFilter {
                stream: Some(s.clone()),
                ..Default::default()
            },
            Target::All => LogFilter::default(),
        };
        if !self.store.has_times() {
            return Ok(Vec::new());
        }
        self.store.for_each_time(&filter, |row| {
            if let Some(t) = row.time.as_deref().and_then(eventscope::time::parse_stored) {
                times.push(t.timestamp_millis());
            }
            Ok(ControlFlow::Continue(()))
        })?;
        Ok(bucket_counts(&times, buckets))
    }
}

/// Counts of `times` in `buckets` equal spans from the earliest to the latest.
pub fn bucket_counts(times: &[i64], buckets: usize) -> Vec<u64> {
    let mut counts = vec![0u64; buckets.max(1)];
    let (Some(min), Some(max)) = (times.iter().min(), times.iter().max()) else {
        return counts;
    };
    let span = (max - min).max(1) as f64;
    let last = counts.len() - 1;
    for t in times {
        let i = (((t - min) as f64 / span) * last as f64).round() as usize;
        counts[i.min(last)] += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_spread_events_over_time() {
        assert_eq!(bucket_counts(&[0, 0, 10, 100], 3), vec![3, 0, 1]);
        assert_eq!(bucket_counts(&[], 4), vec![0, 0, 0, 0]);
        assert_eq!(bucket_counts(&[5, 5], 2), vec![2, 0]);
    }
}

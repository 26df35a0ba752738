//! The worker: all store reads and replays happen here, so the UI thread only ever sends
//! requests and receives answers. Newer requests of a kind replace older ones still
//! waiting (`queue.rs`), and a long replay stops early when something more urgent arrives
//! (its checkpoints stay, so the next seek resumes from them).

mod answers;
mod find;
pub use find::FOUND_ROWS_KEPT;
pub mod process;
pub mod protocol;
pub mod queue;

use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::Duration;

use eventscope::replay::{
    Reducer, Replayer, SeekOptions, SnapshotMaps, SnapshotUse, TimedOut, Watch,
};
use eventscope::store::EventSource;
use serde::{Deserialize, Serialize};

pub use protocol::{
    Appended, CompareAnswer, EventRow, FindSpec, Msg, RelatedLine, Req, StateAt, Target, TimeStep,
    WorkerError,
};
use queue::RequestQueue;

#[derive(Clone, Serialize, Deserialize)]
pub struct WorkerConfig {
    /// What the UI was opened with.
    pub ui: crate::tui::Options,
    /// Events whose reducer call timed out before: never run again.
    pub skips: Vec<TimedOut>,
    /// Journal every jq call on stderr: a worker died before, and the next death should
    /// name its event.
    #[serde(default)]
    pub careful: bool,
}

const FOLLOW_POLL: Duration = Duration::from_millis(100);

/// What outlives one reducer: the channels, what waits, the subscription.
struct Session {
    /// Stream ids of the categories opened, asked of the store once.
    categories: std::cell::RefCell<std::collections::HashMap<String, Vec<String>>>,
    requests: Receiver<Req>,
    replies: Sender<Msg>,
    queue: RequestQueue,
    subscription: Option<Box<dyn eventscope::store::Follow>>,
    /// Times of the streams (and the log, under `None`) stepped through lately.
    time_indexes: std::collections::HashMap<Option<String>, eventscope::store::TimeIndex>,
}

/// How many streams' time indexes are kept at once.
const TIME_INDEXES: usize = 8;
/// Events one slice of a time index reads before other requests get their turn.
const TIME_SLICE: usize = 50_000;

/// Why serving stopped.
enum Stop {
    Closed,
    /// The reducer file changed and compiled: serve again with it.
    Reload(Reducer),
}

/// Runs until the request channel closes.
pub fn run(mut config: WorkerConfig, requests: Receiver<Req>, replies: Sender<Msg>) {
    let plain = match eventscope::store::open_source(&config.ui.store, &config.ui.open) {
        Ok(s) => s,
        Err(e) => {
            let _ = replies.send(Msg::Failed {
                error: e.into(),
                retry: None,
            });
            return;
        }
    };
    end_on_signals(plain.sidecar_guard());
    let watch = Arc::new(Watch::default());
    let opened = upcasting(plain, &config, &watch, &replies);
    let (store, stored) = opened.sources();
    let to_ui = replies.clone();
    store.watch_connection(Box::new(move |lost| {
        let _ = to_ui.send(Msg::Connection(lost));
    }));
    let loaded = Reducer::load_named(
        config.ui.reducer.as_deref(),
        config.ui.reducer_origin.as_deref(),
    );
    let mut reducer = match loaded {
        Ok(r) => r,
        Err(e) => {
            let _ = replies.send(Msg::Failed {
                error: WorkerError::Reducer(e.to_string()),
                retry: None,
            });
            Reducer::Merge
        }
    };
    watch.limit_memory(config.ui.reducer_memory);
    if config.careful {
        watch.journal_calls();
    }
    let to_ui = replies.clone();
    if let Err(e) = watch.monitor(config.ui.reducer_timeout, move |t| {
        let _ = to_ui.send(Msg::ReducerTimeout(t));
    }) {
        let _ = replies.send(Msg::Failed {
            error: WorkerError::Reducer(format!("cannot start the reducer watchdog: {e}")),
            retry: None,
        });
    }
    let mut session = Session {
        categories: Default::default(),
        requests,
        replies,
        queue: RequestQueue::default(),
        subscription: None,
        time_indexes: Default::default(),
    };
    loop {
        let stop = {
            let replayer = replayer(&config, store, &reducer, &watch, &session.replies);
            let mut w = Worker {
                store,
                stored,
                reducer: &reducer,
                watch: watch.clone(),
                replayer,
                s: &mut session,
                reducer_path: config.ui.reducer.as_deref(),
                reducer_origin: config.ui.reducer_origin.as_deref(),
                read_model: ReadModelConfig {
                    spec: config.ui.read_model.clone(),
                    project: config.ui.project.clone(),
                    ignore: config.ui.ignore.clone(),
                },
            };
            w.serve()
        };
        match stop {
            Stop::Closed => return,
            // The new reducer starts clean: the events the old one hung on are its own.
            Stop::Reload(new) => {
                reducer = new;
                config.skips.clear();
            }
        }
    }
}

/// The store as the worker reads it: through the upcasters where there are some.
enum Opened {
    Plain(Box<dyn EventSource>),
    Upcast(eventscope::replay::upcast_source::UpcastSource),
}

impl Opened {
    /// What every read goes through, and the store as stored.
    fn sources(&self) -> (&dyn EventSource, &dyn EventSource) {
        match self {
            Opened::Plain(s) => (&**s, &**s),
            Opened::Upcast(u) => (u, u.stored()),
        }
    }
}

/// Wraps `store` in the upcasters the UI was opened with; ones that do not load are said
/// and left out (the events are then shown as stored).
fn upcasting(
    store: Box<dyn EventSource>,
    config: &WorkerConfig,
    watch: &Arc<Watch>,
    replies: &Sender<Msg>,
) -> Opened {
    let Some(dir) = &config.ui.upcasters else {
        return Opened::Plain(store);
    };
    match eventscope::replay::upcast::Upcasters::load(dir) {
        Ok(u) => Opened::Upcast(eventscope::replay::upcast_source::UpcastSource::new(
            store,
            std::rc::Rc::new(u),
            Some(watch.clone()),
        )),
        Err(e) => {
            let _ = replies.send(Msg::Failed {
                error: WorkerError::Reducer(format!("{e}; events are shown as stored")),
                retry: None,
            });
            Opened::Plain(store)
        }
    }
}

/// The worker ends with its UI, however the UI ends (even killed): the kernel sends it
/// SIGTERM then, and a signal removes what SQLite made beside the store before exiting.
fn end_on_signals(sidecars: Option<Arc<eventscope::store::SidecarGuard>>) {
    #[cfg(target_os = "linux")]
    {
        use nix::sys::signal::Signal;
        let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGTERM);
    }
    // The UI may have gone before the line above.
    if nix::unistd::getppid().as_raw() == 1 {
        std::process::exit(143);
    }
    let sidecars = sidecars.map(|s| Arc::downgrade(&s));
    let Ok(mut signals) = signal_hook::iterator::Signals::new(crate::tui::ENDING_SIGNALS) else {
        return;
    };
    let _ = std::thread::Builder::new()
        .name("worker-signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                if let Some(s) = sidecars.as_ref().and_then(std::sync::Weak::upgrade) {
                    s.clean_up();
                }
                std::process::exit(128 + signal);
            }
        });
}

fn replayer<'a>(
    config: &WorkerConfig,
    store: &'a dyn EventSource,
    reducer: &'a Reducer,
    watch: &Arc<Watch>,
    replies: &Sender<Msg>,
) -> Replayer<'a> {
    let options = SeekOptions {
        skip_failed_events: true,
        ..SeekOptions::default()
    };
    let snapshots = SnapshotMaps::load(
        config.ui.reducer.as_deref(),
        config.ui.snapshot_map.as_deref(),
    )
    .map_err(|e| e.to_string())
    .and_then(
        |maps| match config.ui.from_snapshots && !store.has_snapshots() {
            true => Err(format!(
                "this {} store keeps no snapshots: replays start from the first event",
                store.format_name()
            )),
            false => SnapshotUse::decide(config.ui.from_snapshots, store, reducer, maps),
        },
    );
    let snapshots = snapshots.unwrap_or_else(|e| {
        let _ = replies.send(Msg::SnapshotsRefused(e));
        SnapshotUse::Never
    });
    let mut replayer = Replayer::new(store, reducer, options)
        .with_watch(watch.clone())
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
    replayer
}

struct Worker<'a, 's> {
    store: &'a dyn EventSource,
    /// The store as stored, where `store` reads it through upcasters.
    stored: &'a dyn EventSource,
    reducer: &'a Reducer,
    watch: Arc<Watch>,
    replayer: Replayer<'a>,
    s: &'s mut Session,
    reducer_path: Option<&'a std::path::Path>,
    reducer_origin: Option<&'a str>,
    read_model: ReadModelConfig,
}

/// What the Read-model tab checks (`--read-model`, `--project`, `--ignore`).
struct ReadModelConfig {
    spec: Option<String>,
    project: Option<String>,
    ignore: Vec<String>,
}

impl Worker<'_, '_> {
    fn serve(&mut self) -> Stop {
        loop {
            if self.s.queue.is_empty() {
                let next = if self.s.subscription.is_some() {
                    match self.s.requests.recv_timeout(FOLLOW_POLL) {
                        Ok(r) => r,
                        Err(RecvTimeoutError::Timeout) => {
                            self.poll_follow();
                            continue;
                        }
                        Err(RecvTimeoutError::Disconnected) => return Stop::Closed,
                    }
                } else {
                    match self.s.requests.recv() {
                        Ok(r) => r,
                        Err(_) => return Stop::Closed,
                    }
                };
                self.s.queue.push(next);
            }
            self.take_waiting();
            let Some(req) = self.s.queue.pop() else {
                continue;
            };
            if let Req::ReloadReducer = req {
                match self.reload() {
                    Some(new) => return Stop::Reload(new),
                    None => continue,
                }
            }
            if let Err(error) = self.handle(req.clone()) {
                let retry = (error == WorkerError::Locked).then_some(req);
                self.send(Msg::Failed { error, retry });
            }
            if self.s.subscription.is_some() {
                self.poll_follow();
            }
        }
    }

    /// Moves every request already sent into the queue.
    fn take_waiting(&mut self) {
        while let Ok(r) = self.s.requests.try_recv() {
            self.s.queue.push(r);
        }
    }

    fn send(&self, msg: Msg) {
        let _ = self.s.replies.send(msg);
    }

    fn reload(&mut self) -> Option<Reducer> {
        let path = self.reducer_path?;
        match Reducer::load_named(Some(path), self.reducer_origin) {
            Ok(r) => {
                self.send(Msg::ReducerReloaded(Ok(())));
                Some(r)
            }
            Err(e) => {
                self.send(Msg::ReducerReloaded(Err(e.to_string())));
                None
            }
        }
    }

    fn handle(&mut self, req: Req) -> Result<(), WorkerError> {
        match req {
            Req::Streams => {
                let (streams, last_position) = self.store.streams_and_position()?;
                // Before the list: its consumers row is there when the list first shows,
                // so no row moves under the user's keys. The list just read serves both.
                let options = eventscope::store::consumers::ConsumerOptions {
                    streams: (self.store.layout() == eventscope::store::Layout::MessageDb)
                        .then(|| streams.clone()),
                    ..Default::default()
                };
                let found = eventscope::store::consumers::consumers(self.store, &options)
                    .map_err(WorkerError::from);
                self.send(Msg::Consumers(found));
                self.send(Msg::Streams {
                    streams,
                    last_position,
                    has_times: self.store.has_times(),
                });
                // Slower (a grouped scan): after the list is on screen.
                let activity = self.store.activity()?;
                self.send(Msg::Activity(activity));
            }
            Req::Rows { target, from, to } => {
                if self.store.has_times() {
                    let key = match &target {
                        Target::Stream(s) => Some(Some(s.clone())),
                        Target::All => Some(None),
                        Target::Category(_) => None,
                    };
                    if let Some(key) = key.filter(|k| !self.s.time_indexes.contains_key(k)) {
                        self.s.queue.push_back_unless_newer(Req::IndexTimes(key));
                    }
                }
                let rows = self.rows(&target, from, to)?;
                self.send(Msg::Rows {
                    target,
                    from,
                    to,
                    rows,
                });
            }
            Req::State {
                target: Target::Category(c),
                key,
                ..
            } => {
                let result = self.category_state(&c, key);
                let target = Target::Category(c);
                self.send(Msg::CategoryState {
                    target: target.clone(),
                    key,
                    result,
                });
                // The State and Event tabs show the event under the playhead in its own
                // stream, as in $all.
                if let Some(result) = self.state(&target, key, &[]) {
                    self.send(Msg::State {
                        target,
                        key,
                        result,
                    });
                }
            }
            Req::State { target, key, skips } => {
                if let Some(result) = self.state(&target, key, &skips) {
                    self.send(Msg::State {
                        target,
                        key,
                        result,
                    });
                }
            }
            Req::Blame { target, key, skips } => {
                let result = self.blame(&target, key, &skips);
                self.send(Msg::Blame {
                    target,
                    key,
                    result,
                });
            }
            Req::When {
                target,
                predicate,
                skips,
            } => {
                let result = self.when(&target, &predicate, &skips);
                self.send(Msg::When {
                    target,
                    predicate,
                    result,
                });
            }
            Req::Diff {
                target,
                a,
                b,
                skips,
            } => {
                let result = self.diff(&target, a, b, &skips);
                self.send(Msg::Diff {
                    target,
                    a,
                    b,
                    result,
                });
            }
            Req::Density { target, buckets } => {
                let (counts, snapshots) = match &target {
                    Target::Stream(s) => (
                        self.density(Some(s), buckets)?,
                        self.store.snapshot_versions_of(s)?,
                    ),
                    Target::All => (self.density(None, buckets)?, Vec::new()),
                    Target::Category(_) => (Vec::new(), Vec::new()),
                };
                self.send(Msg::Density {
                    target,
                    counts,
                    snapshots,
                });
            }
            Req::ResolveTime { target, at, step } => {
                let key = match &target {
                    Target::Stream(s) => self.key_at_time(Some(s), at)?,
                    Target::All => self.key_at_time(None, at)?,
                    Target::Category(_) => return Err(WorkerError::NeedsStream),
                };
                self.send(Msg::TimeResolved { target, key, step });
            }
            Req::Follow(from) => {
                self.s.subscription = match from {
                    Some(after) => Some(self.store.subscribe(after)?),
                    None => None,
                };
            }
            Req::Pending(after) => {
                let count = self.store.count_after(after)?;
                self.send(Msg::Pending { after, count });
            }
            Req::Find { target, find, from } => self.find(target, find, from),
            Req::IndexTimes(key) => {
                // A slice is a range of positions in the log, of versions in a stream
                // (through its index), so slices never read a row twice.
                let store = self.store;
                if !self.time_index(key.as_deref()).extend(store, TIME_SLICE)? {
                    self.s.queue.push_back_unless_newer(Req::IndexTimes(key));
                }
            }
            Req::History {
                target,
                paths,
                skips,
            } => {
                let result = self.history(&target, &paths, &skips);
                self.send(Msg::History {
                    target,
                    paths,
                    result,
                });
            }
            Req::Plot { target, path } => {
                let result = self.plot(&target, &path);
                self.send(Msg::Plot {
                    target,
                    path,
                    result,
                });
            }
            Req::Stats { target } => {
                let result = self.stats(&target);
                self.send(Msg::Stats { target, result });
            }
            Req::Related { position } => {
                let result = self.related(position);
                self.send(Msg::Related { position, result });
            }
            Req::Types => {
                // What is stored: upcasters would hide the shapes they exist for.
                let result =
                    eventscope::store::types::type_catalog(self.stored, &Default::default(), 50)
                        .map_err(WorkerError::from);
                self.send(Msg::Types(result));
            }
            Req::Consumers => {
                let result = self.consumers();
                self.send(Msg::Consumers(result));
            }
            Req::Compare {
                target,
                key,
                against,
            } => {
                let result = match &target {
                    Target::Stream(s) => self.compare(s, key, &against).map(Box::new),
                    _ => Err(WorkerError::Reducer(
                        "a comparison is of one stream: open a stream".into(),
                    )),
                };
                self.send(Msg::Compare {
                    target,
                    key,
                    result,
                });
            }
            Req::ReadModel { stream } => {
                let result = self.read_model(&stream).map(|r| r.map(Box::new));
                self.send(Msg::ReadModel { stream, result });
            }
            Req::Fixture { stream, version } => {
                let result = self.fixture(&stream, version);
                self.send(Msg::Fixture {
                    stream,
                    version,
                    result,
                });
            }
            Req::ReloadReducer => {}
        }
        Ok(())
    }

    /// The second reducer's state of `stream` at `key`, the changes from the first's, and
    /// where the two first part.
    fn compare(
        &mut self,
        stream: &str,
        key: i64,
        against: &std::path::Path,
    ) -> Result<CompareAnswer, WorkerError> {
        use eventscope::replay::compare::{compare_stream, Comparison, Side};
        let b = Reducer::load(against).map_err(|e| WorkerError::Reducer(e.to_string()))?;
        let a_state = self.replayer.state_at(stream, key)?;
        let mut b_replayer =
            Replayer::new(self.store, &b, SeekOptions::default()).with_watch(self.watch.clone());
        let state = b_replayer.state_at(stream, key).map_err(|e| e.to_string());
        let changes = match &state {
            Ok(b_state) => eventscope::replay::diff(&a_state, b_state),
            Err(_) => Vec::new(),
        };
        let first = match compare_stream(
            self.store,
            self.reducer,
            &b,
            stream,
            None,
            Some(&self.watch),
        )? {
            Comparison::Equal { .. } => None,
            Comparison::Differ {
                version,
                event_type,
                ..
            } => Some((version, format!("the states part at {event_type}"))),
            Comparison::Fails {
                side,
                version,
                event_type,
                message,
                ..
            } => {
                let who = if side == Side::A { "A" } else { "B" };
                Some((version, format!("{who} fails at {event_type}: {message}")))
            }
        };
        Ok(CompareAnswer {
            state,
            changes,
            first,
        })
    }

    /// The read model's row for `stream` (`--read-model`) against its replay.
    fn read_model(
        &mut self,
        stream: &str,
    ) -> Result<Option<eventscope::replay::read_model::StreamReadModel>, WorkerError> {
        use eventscope::replay::read_model::{ReadModelCheck, ReadModelSpec};
        let Some(text) = &self.read_model.spec else {
            return Ok(None);
        };
        let spec = ReadModelSpec::parse(text).map_err(WorkerError::Reducer)?;
        let check = ReadModelCheck {
            spec: &spec,
            project: self.read_model.project.as_deref(),
            ignore: &self.read_model.ignore,
            categories: Some(Vec::new()),
        };
        let watch = self.watch.clone();
        Ok(check.for_stream(
            self.store,
            self.reducer,
            &mut self.replayer,
            Some(&watch),
            stream,
        )?)
    }

    /// The stream's events up to `version` and the reducer's state after them.
    fn fixture(&self, stream: &str, version: i64) -> Result<String, WorkerError> {
        use eventscope::store::SourceExt;
        let mut events = Vec::new();
        self.store.read_stream(stream, i64::MIN..=version, |e| {
            events.push(e);
            Ok::<_, eventscope::store::StoreError>(std::ops::ControlFlow::Continue(()))
        })?;
        let name = self
            .reducer_path
            .map_or("built-in merge".to_string(), |p| p.display().to_string());
        eventscope::replay::fixture::Fixture::make(
            self.reducer,
            &name,
            events,
            None,
            Some(&self.watch),
        )
        .map(|f| f.to_ndjson())
        .map_err(WorkerError::Reducer)
    }

    fn consumers(&self) -> Result<Vec<eventscope::store::consumers::Consumer>, WorkerError> {
        let options = eventscope::store::consumers::ConsumerOptions::default();
        eventscope::store::consumers::consumers(self.store, &options).map_err(WorkerError::from)
    }

    /// The last version of `stream` (position of the log, when `None`) stamped at or
    /// before `at`, from the time index kept for it: a step costs a lookup in memory once
    /// the index is read, and the index reads only what was appended since.
    fn key_at_time(
        &mut self,
        stream: Option<&str>,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<i64>, WorkerError> {
        let store = self.store;
        let index = self.time_index(stream);
        index.extend(store, usize::MAX)?;
        match index.last_at_or_before(at) {
            Ok(found) => Ok(found),
            Err(()) => Ok(match stream {
                Some(s) => self.store.version_at_time(s, at)?,
                None => self.store.position_at_time(at)?,
            }),
        }
    }

    /// How events spread over time, from the time index (one read of the times serves
    /// the chart and the time steps); from the store where the index cannot hold them or
    /// a time cannot be read (the chart leaves such an event out).
    fn density(&mut self, stream: Option<&str>, buckets: usize) -> Result<Vec<u64>, WorkerError> {
        if !self.store.has_times() {
            return Ok(Vec::new());
        }
        let store = self.store;
        let index = self.time_index(stream);
        if index.extend(store, usize::MAX).is_ok() {
            if let Some(counts) = index.density(buckets) {
                return Ok(counts);
            }
        }
        Ok(store.density(stream, buckets)?)
    }

    /// The time index kept for `stream` (the log, for `None`), made empty if new.
    fn time_index(&mut self, stream: Option<&str>) -> &mut eventscope::store::TimeIndex {
        let indexes = &mut self.s.time_indexes;
        let key = stream.map(str::to_string);
        if !indexes.contains_key(&key) && indexes.len() >= TIME_INDEXES {
            indexes.clear();
        }
        indexes
            .entry(key)
            .or_insert_with(|| eventscope::store::TimeIndex::new(stream))
    }

    fn poll_follow(&mut self) {
        let Some(sub) = self.s.subscription.as_mut() else {
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
                        timestamp: e.timestamp,
                    })
                    .collect();
                self.send(Msg::Appended { events });
            }
            Ok(_) => {}
            Err(e) => self.send(Msg::Failed {
                error: e.into(),
                retry: None,
            }),
        }
    }
}

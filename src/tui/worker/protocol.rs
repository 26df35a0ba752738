//! What crosses between the UI and the worker: requests, answers and typed errors. All of
//! it is serialisable, since the worker runs in a child process (see `process.rs`).

use chrono::{DateTime, Utc};
use eventscope::replay::{Change, TimedOut};
use eventscope::store::{StoreError, StreamInfo};
use eventscope::Event;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What the timeline runs over: one stream by version, or the global log by position.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Target {
    All,
    Stream(String),
    /// Every stream of a category; keys are ranks (1, 2, …) in the category's global order.
    Category(String),
}

/// An event another process appended, as the stream list needs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Appended {
    pub stream_id: String,
    /// The category the layout's rule gives (a topic's class, a type column, the prefix).
    pub category: String,
    pub version: i64,
    pub position: i64,
    pub timestamp: Option<String>,
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
    /// The event as stored, where `event` is what an upcaster made of it.
    #[serde(default)]
    pub stored: Option<Box<Event>>,
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
    /// The application's snapshot stored at exactly this version, or why it cannot be read.
    pub snapshot: Option<Result<Value, String>>,
    /// The versions left out (what-if); empty for the real history.
    #[serde(default)]
    pub what_if: Vec<i64>,
}

/// Why a request could not be answered, by kind, so the UI can react to each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum WorkerError {
    /// Another process holds a write lock: worth asking again shortly.
    #[error("the store is locked by another process; retrying")]
    Locked,
    /// The store cannot be read as it is (corrupt, vanished, layout).
    #[error("{0}")]
    Store(String),
    /// The reducer could not be loaded or failed outside one event.
    #[error("{0}")]
    Reducer(String),
    #[error("no event at position {0}")]
    NoEventAt(i64),
    #[error("A is in {a} and B in {b}: marks compare states of one stream")]
    MarksInTwoStreams { a: String, b: String },
    /// The layout records no times, so nothing can be found by time.
    #[error("this store has no event times")]
    NoTimes,
    /// The predicate does not compile, or fails with --strict semantics.
    #[error("{0}")]
    Predicate(String),
    #[error("open a stream (not $all) for this")]
    NeedsStream,
}

impl From<StoreError> for WorkerError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Locked => WorkerError::Locked,
            StoreError::NoTimes => WorkerError::NoTimes,
            other => WorkerError::Store(other.to_string()),
        }
    }
}

impl From<eventscope::replay::ReplayError> for WorkerError {
    fn from(e: eventscope::replay::ReplayError) -> Self {
        match e {
            eventscope::replay::ReplayError::Store(s) => s.into(),
            other => WorkerError::Reducer(other.to_string()),
        }
    }
}

/// What the Events pane looks for: a substring, or a jq predicate over the envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FindSpec {
    Text(String),
    Jq(String),
    /// Events stamped in `[since, until]` (RFC 3339), as a Stats bucket selects them.
    Between(String, String),
    /// Events of a type whose stored payload has this shape (the Types overlay's).
    Shape(String, eventscope::store::types::ShapeFields),
}

/// The second reducer's view of a stream: its state at the playhead, the changes from the
/// first reducer's state to it, and where the two first part over the whole stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompareAnswer {
    pub state: Result<serde_json::Value, String>,
    pub changes: Vec<eventscope::replay::Change>,
    /// The first version where they differ (or where one fails), and what happens there.
    pub first: Option<(i64, String)>,
}

/// One line of the Related overlay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelatedLine {
    pub depth: usize,
    /// "asked", "cause", "effect" or "".
    pub relation: String,
    pub position: i64,
    pub stream_id: String,
    pub version: i64,
    pub event_type: String,
    pub timestamp: Option<String>,
}

/// Where to move a time step from, and by how much.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeStep {
    pub from: String,
    pub seconds: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Req {
    Streams,
    Rows {
        target: Target,
        from: i64,
        to: i64,
    },
    /// The state at `key`; with `skips` (versions of a stream), as if those events had
    /// never happened.
    State {
        target: Target,
        key: i64,
        #[serde(default)]
        skips: Vec<i64>,
    },
    Diff {
        target: Target,
        a: i64,
        b: i64,
        #[serde(default)]
        skips: Vec<i64>,
    },
    /// Which event last changed each leaf of the state at `key`.
    Blame {
        target: Target,
        key: i64,
        skips: Vec<i64>,
    },
    /// Every version where a jq predicate on the state turns true.
    When {
        target: Target,
        predicate: String,
        skips: Vec<i64>,
    },
    Density {
        target: Target,
        buckets: usize,
    },
    /// The last key at or before a time; `step` says it came from a time step.
    ResolveTime {
        target: Target,
        at: DateTime<Utc>,
        step: Option<TimeStep>,
    },
    /// Follow on, catching up from after this position, or off.
    Follow(Option<i64>),
    /// How many events the store holds past this position (while not following).
    Pending(i64),
    /// The events of the target matching a text or jq test, from `from` on (a long scan
    /// goes in slices, so other requests are served between them).
    Find {
        target: Target,
        find: FindSpec,
        from: i64,
    },
    /// The correlation of an event, as a causation tree.
    Related {
        position: i64,
    },
    /// Where each consumer the store records stands.
    Consumers,
    /// The open stream's state at `key` by a second reducer, and where the two first part.
    Compare {
        target: Target,
        key: i64,
        against: std::path::PathBuf,
    },
    /// A stream's history up to `version` as a test fixture (export-test's).
    Fixture {
        stream: String,
        version: i64,
    },
    /// The read model's row for a stream against its replay (`--read-model`).
    ReadModel {
        stream: String,
    },
    /// Counts for the Stats tab: types and events per time bucket.
    Stats {
        target: Target,
    },
    /// The event-type catalog of the whole store, as stored.
    Types,
    /// The changes of pinned fields (JSON Pointers) of a stream, from one walk.
    History {
        target: Target,
        paths: Vec<String>,
        skips: Vec<i64>,
    },
    /// A numeric field of the state (a JSON Pointer) at every version of a stream.
    Plot {
        target: Target,
        path: String,
    },
    /// Load the reducer again (its file changed) and start replays over.
    ReloadReducer,
    /// Read a slice more of a stream's times (the log's, for `None`) into its time index,
    /// while nothing else waits, so that time steps find their target in memory.
    IndexTimes(Option<String>),
}

#[derive(Debug, Serialize, Deserialize)]
pub enum Msg {
    Streams {
        streams: Vec<StreamInfo>,
        last_position: i64,
        /// Whether the layout records event times at all.
        has_times: bool,
    },
    /// Each stream's last event, sent after `Streams`.
    Activity(std::collections::HashMap<String, eventscope::store::Activity>),
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
        result: Result<Box<StateAt>, WorkerError>,
    },
    Diff {
        target: Target,
        a: i64,
        b: i64,
        result: Result<Vec<Change>, WorkerError>,
    },
    Density {
        target: Target,
        counts: Vec<u64>,
        /// Versions with a stored snapshot (streams only), for the timeline.
        snapshots: Vec<i64>,
    },
    /// Every stream of a category as of the key's event.
    CategoryState {
        target: Target,
        key: i64,
        result: Result<Vec<eventscope::replay::StreamState>, WorkerError>,
    },
    Blame {
        target: Target,
        key: i64,
        /// Path (JSON Pointer) → the version that last changed it.
        result: Result<std::collections::HashMap<String, i64>, WorkerError>,
    },
    When {
        target: Target,
        predicate: String,
        result: Result<Vec<i64>, WorkerError>,
    },
    TimeResolved {
        target: Target,
        key: Option<i64>,
        step: Option<TimeStep>,
    },
    Appended {
        events: Vec<Appended>,
    },
    /// Events stored past the position the UI knows, counted while it does not follow.
    Pending {
        after: i64,
        count: i64,
    },
    /// Keys of matching events found in a slice of the scan; `next` is where the scan
    /// goes on, `None` when it is done.
    Found {
        target: Target,
        find: FindSpec,
        keys: Vec<i64>,
        /// The matched events' rows, for the only-matching view (at most
        /// [`super::find::FOUND_ROWS`] a slice).
        #[serde(default)]
        rows: Vec<EventRow>,
        scanned: i64,
        next: Option<i64>,
        result: Result<(), WorkerError>,
    },
    Related {
        position: i64,
        result: Result<(String, Vec<RelatedLine>), WorkerError>,
    },
    Consumers(Result<Vec<eventscope::store::consumers::Consumer>, WorkerError>),
    Compare {
        target: Target,
        key: i64,
        result: Result<Box<CompareAnswer>, WorkerError>,
    },
    ReadModel {
        stream: String,
        result: Result<Option<Box<eventscope::replay::read_model::StreamReadModel>>, WorkerError>,
    },
    /// The fixture's NDJSON text.
    Fixture {
        stream: String,
        version: i64,
        result: Result<String, WorkerError>,
    },
    Stats {
        target: Target,
        result: Result<Box<eventscope::store::Stats>, WorkerError>,
    },
    /// The event-type catalog.
    Types(Result<Vec<eventscope::store::types::TypeEntry>, WorkerError>),
    /// Each pinned field's changes, in the order of `paths`.
    History {
        target: Target,
        paths: Vec<String>,
        result: Result<Vec<Vec<eventscope::replay::history::HistoryRow>>, WorkerError>,
    },
    /// (version, value) points, thinned to at most a few thousand.
    Plot {
        target: Target,
        path: String,
        result: Result<Vec<(i64, f64)>, WorkerError>,
    },
    /// The reducer was loaded again: `Err` keeps the old one, with the compiler's message.
    ReducerReloaded(Result<(), String>),
    /// A reducer call ran past its limit: this worker is stuck for good.
    ReducerTimeout(TimedOut),
    /// Replays cannot start from snapshots (no mapping): they start from the first event.
    SnapshotsRefused(String),
    /// The worker process ended without a word (killed, or a crash): the jq call it died in,
    /// where a careful worker journalled it.
    WorkerDied(Option<TimedOut>),
    /// The store's connection dropped and is being opened again (`Some`), or is back.
    Connection(Option<String>),
    /// A request failed; `retry` is the request to ask again when the error is passing.
    Failed {
        error: WorkerError,
        retry: Option<Req>,
    },
}

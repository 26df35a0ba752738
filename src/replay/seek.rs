//! Seeking: the state of a stream at any version or time, starting each fold from the
//! nearest known state (an in-memory checkpoint or the last position reached) rather than
//! from the first event, and from a store snapshot only when the caller opted in.

use std::collections::{BTreeMap, HashMap};
use std::ops::ControlFlow;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::walk::{Skips, Walk};
use super::{Fold, Reducer, ReplayError, Result, SnapshotUse, Watch};
use crate::store::{EventSource, SourceExt};

#[derive(Debug, Clone)]
pub struct SeekOptions {
    /// Keep a checkpoint every this many versions (doubled when a stream would exceed
    /// `max_checkpoints`).
    pub checkpoint_every: i64,
    pub max_checkpoints: usize,
    /// Roughly how much memory one stream's checkpoints may take; past it they thin out
    /// like past `max_checkpoints`.
    pub max_checkpoint_bytes: usize,
    /// How many streams keep checkpoints, and how many bytes all of them together: past
    /// either, the least recently used stream's are dropped.
    pub max_cached_streams: usize,
    pub max_cache_bytes: usize,
    /// Record a failing event (see [`Replayer::failure`]) and fold on past it with the state
    /// unchanged, instead of failing the seek. The TUI browses on this way.
    pub skip_failed_events: bool,
}

impl Default for SeekOptions {
    fn default() -> Self {
        SeekOptions {
            checkpoint_every: 1000,
            max_checkpoints: 512,
            max_checkpoint_bytes: 64 << 20,
            max_cached_streams: 64,
            max_cache_bytes: 256 << 20,
            skip_failed_events: false,
        }
    }
}

/// A state and what it was computed from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Traced {
    pub state: Value,
    /// The version of the store snapshot the fold started from; `None` when it started
    /// from the first event.
    pub from_snapshot: Option<i64>,
}

/// The key before every version: nothing applied yet. Streams may start at 0 (Axon,
/// KurrentDB revisions) or anywhere else, so "before the first event" is not version 0.
const BEFORE: i64 = i64::MIN;

/// Computes states of streams, remembering checkpoints between calls.
pub struct Replayer<'a> {
    store: &'a dyn EventSource,
    reducer: &'a Reducer,
    options: SeekOptions,
    snapshots: SnapshotUse,
    streams: HashMap<String, StreamCache>,
    /// Bumped at every use of a stream's cache, for least-recently-used eviction.
    clock: u64,
    watch: Option<Arc<Watch>>,
    /// Events never to hand to the reducer (a call on them once ran past its time limit),
    /// with the reason to record as their failure.
    skips: HashMap<String, BTreeMap<i64, String>>,
    warnings: Vec<String>,
    /// Events handed to the reducer so far, for measuring what a seek cost.
    folded: u64,
    /// Told how far long seeks have got, for progress bars.
    observer: Option<Observer<'a>>,
}

/// Told how far seeks have got.
type Observer<'a> = Box<dyn FnMut(SeekProgress) + 'a>;

/// How far a seek has got: reported every [`PROGRESS_EVERY`] events, then `Done`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeekProgress<'s> {
    Reached {
        stream: &'s str,
        version: i64,
        target: i64,
    },
    Done,
}

struct StreamCache {
    /// Picks the reducer; fetched once.
    category: Option<String>,
    every: i64,
    last_used: u64,
    /// Events the reducer failed on, by version (only with `skip_failed_events`).
    failures: BTreeMap<i64, String>,
    checkpoints: BTreeMap<i64, Traced>,
    /// The checkpoints' approximate size.
    bytes: usize,
    /// The last state computed, so that stepping forward costs one event.
    cursor: Option<(i64, Traced)>,
}

/// How often `state_at_with` reports progress, in events.
pub const PROGRESS_EVERY: i64 = 4096;

impl<'a> Replayer<'a> {
    pub fn new(store: &'a dyn EventSource, reducer: &'a Reducer, options: SeekOptions) -> Self {
        Replayer {
            store,
            reducer,
            options,
            snapshots: SnapshotUse::Never,
            streams: HashMap::new(),
            clock: 0,
            watch: None,
            skips: HashMap::new(),
            warnings: Vec::new(),
            folded: 0,
            observer: None,
        }
    }

    /// How many events this replayer has folded in all: what its seeks cost.
    pub fn events_folded(&self) -> u64 {
        self.folded
    }

    /// Lets folds start from store snapshots as `snapshots` allows.
    pub fn with_snapshots(mut self, snapshots: SnapshotUse) -> Self {
        self.snapshots = snapshots;
        self
    }

    /// Marks every jq reducer call on `watch`, for a monitor to time (see [`Watch`]).
    pub fn with_watch(mut self, watch: Arc<Watch>) -> Self {
        self.watch = Some(watch);
        self
    }

    /// The watch this replayer's calls are marked on, for other programs of the same
    /// command (a snapshot mapping) to be marked on too.
    pub fn watch(&self) -> Option<&Watch> {
        self.watch.as_deref()
    }

    /// The watch, to share with other programs of the same command.
    pub fn watch_arc(&self) -> Option<Arc<Watch>> {
        self.watch.clone()
    }

    /// Tells `observer` how far seeks through `state_at` and `traced_state_at` have got.
    pub fn with_progress(mut self, observer: impl FnMut(SeekProgress) + 'a) -> Self {
        self.observer = Some(Box::new(observer));
        self
    }

    /// Things that did not stop the answer but that the user should hear of (snapshots
    /// that could not be read or mapped), each once.
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    fn warn(&mut self, w: String) {
        if !self.warnings.contains(&w) {
            self.warnings.push(w);
        }
    }

    /// Never runs the reducer on this event again; it counts as failed with `reason`.
    pub fn skip_event(&mut self, stream: &str, version: i64, reason: String) {
        self.skips
            .entry(stream.to_string())
            .or_default()
            .insert(version, reason);
        // States past it were computed with it: forget them.
        if let Some(cache) = self.streams.get_mut(stream) {
            cache.checkpoints.retain(|v, _| *v < version);
            cache.bytes = cache
                .checkpoints
                .values()
                .map(|t| approx_size(&t.state))
                .sum();
            cache.cursor = cache.cursor.take().filter(|(v, _)| *v < version);
        }
    }

    /// The stream's last version; an error when it has no events.
    pub fn last_version(&self, stream: &str) -> Result<i64> {
        self.store
            .last_version(stream)?
            .ok_or_else(|| ReplayError::NoStream(stream.to_string()))
    }

    /// The state after applying every event with a version up to `version` (`null` below
    /// the first event).
    pub fn state_at(&mut self, stream: &str, version: i64) -> Result<Value> {
        Ok(self.traced_state_at(stream, version)?.state)
    }

    /// [`Replayer::state_at`] with where the fold started.
    pub fn traced_state_at(&mut self, stream: &str, version: i64) -> Result<Traced> {
        let mut observer = self.observer.take();
        let state = self.state_at_with(stream, version, &mut |v| {
            if let Some(o) = observer.as_mut() {
                o(SeekProgress::Reached {
                    stream,
                    version: v,
                    target: version,
                });
            }
            ControlFlow::Continue(())
        });
        if let Some(o) = observer.as_mut() {
            o(SeekProgress::Done);
        }
        self.observer = observer;
        let state = state?;
        Ok(state.unwrap_or(Traced {
            state: Value::Null,
            from_snapshot: None,
        }))
    }

    /// Fails when the stream ends before `version`.
    fn need_version(&mut self, stream: &str, version: i64) -> Result<()> {
        let last = self.last_version(stream)?;
        if version > last {
            return Err(ReplayError::OutOfRange {
                stream: stream.to_string(),
                version,
                last,
            });
        }
        Ok(())
    }

    /// The state at `version` had the events `skips` names never happened. The store and
    /// the real history's checkpoints are untouched: the fold starts from the last real
    /// checkpoint before the first skipped event and goes on without caching.
    pub fn what_if(&mut self, stream: &str, version: i64, skips: &Skips) -> Result<Traced> {
        let first = match skips.first_version() {
            Some(v) if v <= version => v,
            _ => return self.traced_state_at(stream, version),
        };
        self.need_version(stream, version)?;
        let (start, traced) = self.nearest_start(stream, first.saturating_sub(1))?;
        let fold = Walk {
            store: self.store,
            reducer: self.reducer,
            watch: self.watch.as_deref(),
        }
        .run(
            stream,
            traced.state,
            start.saturating_add(1)..=version,
            skips,
            crate::store::Columns::NONE,
            |_, _| Ok(ControlFlow::Continue(())),
        )?;
        Ok(Traced {
            state: fold.into_state(),
            from_snapshot: traced.from_snapshot,
        })
    }

    /// Like [`Replayer::traced_state_at`], reporting the version it has reached every
    /// [`PROGRESS_EVERY`] events. When `progress` breaks, the seek stops and returns `None`;
    /// the checkpoints it passed are kept, so the next seek resumes from them.
    pub fn state_at_with(
        &mut self,
        stream: &str,
        version: i64,
        progress: &mut dyn FnMut(i64) -> ControlFlow<()>,
    ) -> Result<Option<Traced>> {
        let mut none = Stops::new(&[]);
        self.fold_to(stream, version, &mut none, progress)
    }

    /// The states at each of `versions` (in any order), from one read of the stream up
    /// to the highest: as many seeks would cost as many queries, each paying its own
    /// start.
    pub fn traced_states_at(&mut self, stream: &str, versions: &[i64]) -> Result<Vec<Traced>> {
        let mut order: Vec<usize> = (0..versions.len()).collect();
        order.sort_by_key(|&i| versions[i]);
        let sorted: Vec<i64> = order.iter().map(|&i| versions[i]).collect();
        let (Some(&low), Some(&high)) = (sorted.first(), sorted.last()) else {
            return Ok(Vec::new());
        };
        if self.skips.contains_key(stream) || low == high {
            return versions
                .iter()
                .map(|v| self.traced_state_at(stream, *v))
                .collect();
        }
        // From the nearest start below the lowest: checkpoints above it are passed on the
        // way, so the one read covers every point.
        let first = self.traced_state_at(stream, low)?;
        let rest = &sorted[sorted.partition_point(|v| *v <= low)..];
        let mut stops = Stops::new(rest);
        let last = self
            .fold_to(stream, high, &mut stops, &mut |_| ControlFlow::Continue(()))?
            .unwrap_or_default();
        let mut by_version: Vec<Traced> = Vec::with_capacity(sorted.len());
        let mut found = stops.found.into_iter();
        for v in &sorted {
            let t = match *v {
                v if v == low => first.clone(),
                v if v == high => last.clone(),
                _ => match found.next() {
                    Some(state) => Traced {
                        state,
                        from_snapshot: last.from_snapshot,
                    },
                    None => last.clone(),
                },
            };
            by_version.push(t);
        }
        let mut out = vec![Traced::default(); versions.len()];
        for (slot, t) in order.into_iter().zip(by_version) {
            out[slot] = t;
        }
        Ok(out)
    }

    fn fold_to(
        &mut self,
        stream: &str,
        version: i64,
        stops: &mut Stops,
        progress: &mut dyn FnMut(i64) -> ControlFlow<()>,
    ) -> Result<Option<Traced>> {
        self.need_version(stream, version)?;
        // Start below every stop, so the fold passes them all.
        let lowest = stops.wanted.first().map_or(version, |w| version.min(*w));
        let (start, state) = self.nearest_start(stream, lowest)?;
        if start == version {
            return Ok(Some(state));
        }
        let from_snapshot = state.from_snapshot;
        let max = self.options.max_checkpoints;
        let max_bytes = self.options.max_checkpoint_bytes;
        let skip_failed = self.options.skip_failed_events;
        let store = self.store;
        let category = self.category(stream)?;
        let mut fold = self.reducer.start(&category, state.state);
        if !self.options.skip_failed_events {
            // A failure ends the seek: the state need not outlive it.
            fold = fold.stop_on_error();
        }
        let skips = self.skips.get(stream).cloned();
        let watch = self.watch.clone();
        let cache = self.cache(stream);
        let mut done = 0;
        let mut aborted = false;
        let mut step = |v: i64, applied: Result<()>, fold: &Fold| -> Result<ControlFlow<()>> {
            match applied {
                Ok(()) => {
                    if !cache.failures.is_empty() {
                        cache.failures.remove(&v);
                    }
                }
                Err(e @ ReplayError::Reducer { .. }) if skip_failed => {
                    cache.failures.insert(v, e.to_string());
                }
                Err(e) => return Err(e),
            }
            if v % cache.every == 0 {
                let state = fold.state();
                cache.bytes += approx_size(&state);
                let kept = Traced {
                    state,
                    from_snapshot,
                };
                if let Some(old) = cache.checkpoints.insert(v, kept) {
                    cache.bytes = cache.bytes.saturating_sub(approx_size(&old.state));
                }
                while cache.checkpoints.len() > max
                    || (cache.bytes > max_bytes && cache.checkpoints.len() > 1)
                {
                    cache.every = cache.every.saturating_mul(2);
                    let every = cache.every;
                    cache.checkpoints.retain(|v, _| v % every == 0);
                    cache.bytes = cache
                        .checkpoints
                        .values()
                        .map(|t| approx_size(&t.state))
                        .sum();
                }
            }
            done += 1;
            if done % PROGRESS_EVERY == 0 && progress(v).is_break() {
                aborted = true;
                return Ok(ControlFlow::Break(()));
            }
            Ok(ControlFlow::Continue(()))
        };
        let range = start.saturating_add(1)..=version;
        // The merge reads only versions and payloads, here: read ahead on the other core
        // it took 13% less wall time for 25% more CPU (the rows' copies).
        let merged = match &mut fold {
            Fold::Merge(_) => store.read_stream_payloads(stream, range.clone(), |v, data| {
                stops.before(v, &fold);
                let applied = fold.merge_payload(data);
                step(v, applied, &fold)
            })?,
            Fold::Jq(..) => None,
        };
        if merged.is_none() {
            let skips = skips.as_ref();
            let watch = watch.as_deref();
            let reducer_name = match &fold {
                Fold::Jq(p, ..) => p.name.clone(),
                Fold::Merge(_) => String::new(),
            };
            let columns = fold.columns();
            if let Some(w) = watch {
                w.fold(&reducer_name, stream);
            }
            store.read_stream_rows(stream, range, columns, |row| {
                let v = row.version();
                stops.before(v, &fold);
                if let Some(reason) = skips.and_then(|s| s.get(&v)) {
                    let skipped = Err(ReplayError::Reducer {
                        reducer: reducer_name.clone(),
                        stream: stream.to_string(),
                        version: v,
                        event_type: row.event_type().to_string(),
                        message: reason.clone(),
                    });
                    return step(v, skipped, &fold);
                }
                if let Some(w) = watch {
                    w.begin(v, row.event_type());
                }
                let applied = fold.apply_row(&row);
                if let Some(w) = watch {
                    w.end();
                }
                step(v, applied, &fold)
            })?;
        }
        self.folded += done as u64;
        if aborted {
            self.evict();
            return Ok(None);
        }
        let traced = Traced {
            state: fold.into_state(),
            from_snapshot,
        };
        self.cache(stream).cursor = Some((version, traced.clone()));
        self.evict();
        Ok(Some(traced))
    }

    /// The approximate memory the checkpoints of `stream` hold.
    pub fn checkpoint_bytes(&self, stream: &str) -> usize {
        self.streams.get(stream).map_or(0, |c| c.bytes)
    }

    /// Whether `stream` still has checkpoints or a cursor in memory.
    pub fn is_cached(&self, stream: &str) -> bool {
        self.streams
            .get(stream)
            .is_some_and(|c| !c.checkpoints.is_empty() || c.cursor.is_some())
    }

    /// Why the reducer failed at `version` of `stream`, if it did during a seek that skipped
    /// failed events.
    pub fn failure(&self, stream: &str, version: i64) -> Option<&str> {
        self.streams
            .get(stream)?
            .failures
            .get(&version)
            .map(String::as_str)
    }

    /// Why the reducer is not run on this event: it failed there, or was stopped there
    /// before ([`Replayer::skip_event`]).
    pub fn left_out(&self, stream: &str, version: i64) -> Option<&str> {
        self.skips
            .get(stream)
            .and_then(|s| s.get(&version))
            .or_else(|| self.streams.get(stream)?.failures.get(&version))
            .map(String::as_str)
    }

    /// The failed events of `stream` at or below `version`: how many, and the first one.
    pub fn failures_up_to(&self, stream: &str, version: i64) -> (usize, Option<i64>) {
        let Some(cache) = self.streams.get(stream) else {
            return (0, None);
        };
        let mut range = cache.failures.range(..=version);
        let first = range.next().map(|(v, _)| *v);
        (cache.failures.range(..=version).count(), first)
    }

    /// The version `at` falls on — the last event, in version order, stamped at or before
    /// it — and the state there; `None` when no event is that early.
    pub fn state_at_time(
        &mut self,
        stream: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<(i64, Traced)>> {
        self.last_version(stream)?;
        match self.store.version_at_time(stream, at)? {
            None => Ok(None),
            Some(v) => Ok(Some((v, self.traced_state_at(stream, v)?))),
        }
    }

    /// The category a stream's reducer is picked by.
    pub fn category(&mut self, stream: &str) -> Result<String> {
        if let Some(c) = &self.cache(stream).category {
            return Ok(c.clone());
        }
        let c = self.store.stream_category(stream)?;
        self.cache(stream).category = Some(c.clone());
        Ok(c)
    }

    fn cache(&mut self, stream: &str) -> &mut StreamCache {
        self.clock += 1;
        let now = self.clock;
        let every = self.options.checkpoint_every.max(1);
        let cache = self
            .streams
            .entry(stream.to_string())
            .or_insert_with(|| StreamCache {
                category: None,
                every,
                last_used: now,
                checkpoints: BTreeMap::new(),
                bytes: 0,
                failures: BTreeMap::new(),
                cursor: None,
            });
        cache.last_used = now;
        cache
    }

    /// Drops the least recently used streams' states while there are too many streams or
    /// too many bytes; the stream used last always stays. Streams with checkpoints (long
    /// ones, costly to replay) go last: browsing `$all` across thousands of short streams
    /// must not push out the long stream's checkpoints.
    fn evict(&mut self) {
        loop {
            let bytes: usize = self.streams.values().map(|c| c.bytes).sum();
            let over = self.streams.len() > self.options.max_cached_streams
                || bytes > self.options.max_cache_bytes;
            if !over || self.streams.len() <= 1 {
                return;
            }
            let Some(oldest) = self
                .streams
                .iter()
                .min_by_key(|(_, c)| {
                    (
                        !c.checkpoints.is_empty() && bytes <= self.options.max_cache_bytes,
                        c.last_used,
                    )
                })
                .map(|(k, _)| k.clone())
            else {
                return;
            };
            self.streams.remove(&oldest);
        }
    }

    fn nearest_start(&mut self, stream: &str, version: i64) -> Result<(i64, Traced)> {
        let cache = self.cache(stream);
        let mut best: (i64, Option<&Traced>) = (BEFORE, None);
        if let Some((v, s)) = cache.checkpoints.range(..=version).next_back() {
            best = (*v, Some(s));
        }
        if let Some((v, s)) = &cache.cursor {
            if *v <= version && *v > best.0 {
                best = (*v, Some(s));
            }
        }
        let start = best.0;
        let state = best.1.cloned().unwrap_or(Traced {
            state: Value::Null,
            from_snapshot: None,
        });
        if self.snapshots.enabled() && start < version {
            if let Some((v, s)) = self.snapshot_start(stream, start, version)? {
                return Ok((v, s));
            }
        }
        Ok((start, state))
    }

    /// The newest usable snapshot above `above` and at or below `version`, mapped to the
    /// reducer's state. Snapshots that cannot be read or mapped are passed over with a
    /// warning naming them.
    fn snapshot_start(
        &mut self,
        stream: &str,
        above: i64,
        version: i64,
    ) -> Result<Option<(i64, Traced)>> {
        let category = self.category(stream)?;
        let mut at = version;
        while let Some(snap) = self.store.latest_snapshot(stream, at)? {
            if snap.version <= above {
                return Ok(None);
            }
            let state = match &snap.unreadable {
                Some(why) => Err(why.clone()),
                None => match self
                    .snapshots
                    .state_from(&category, &snap, self.watch.as_deref())
                {
                    None => return Ok(None),
                    Some(r) => r,
                },
            };
            match state {
                Ok(state) => {
                    let traced = Traced {
                        state,
                        from_snapshot: Some(snap.version),
                    };
                    return Ok(Some((snap.version, traced)));
                }
                Err(why) => {
                    self.warn(format!(
                        "snapshot of {stream} at version {} skipped: {why}",
                        snap.version
                    ));
                    at = snap.version - 1;
                }
            }
        }
        Ok(None)
    }
}

/// Versions whose states a fold keeps on its way: each is the state before the first
/// event above it.
struct Stops<'v> {
    wanted: &'v [i64],
    found: Vec<Value>,
}

impl<'v> Stops<'v> {
    fn new(wanted: &'v [i64]) -> Self {
        Stops {
            wanted,
            found: Vec::new(),
        }
    }

    /// Called before the event at `version` is applied.
    #[inline]
    fn before(&mut self, version: i64, fold: &Fold) {
        while self
            .wanted
            .get(self.found.len())
            .is_some_and(|w| *w < version)
        {
            self.found.push(fold.state());
        }
    }
}

/// About how many bytes a JSON value holds in memory: enough to bound checkpoints.
fn approx_size(v: &Value) -> usize {
    const NODE: usize = 32;
    match v {
        Value::String(s) => NODE + s.len(),
        Value::Array(a) => NODE + a.iter().map(approx_size).sum::<usize>(),
        Value::Object(o) => {
            NODE + o
                .iter()
                .map(|(k, v)| NODE + k.len() + approx_size(v))
                .sum::<usize>()
        }
        _ => NODE,
    }
}

//! Seeking: the state of a stream at any version or time, starting each fold from the
//! nearest known state (an in-memory checkpoint, the last position reached, or a store
//! snapshot) rather than from the first event.

use std::collections::{BTreeMap, HashMap};
use std::ops::ControlFlow;

use chrono::{DateTime, Utc};
use serde_json::Value;

use std::sync::Arc;

use super::{Fold, Reducer, ReplayError, Result, Watch};
use crate::store::Store;

#[derive(Debug, Clone)]
pub struct SeekOptions {
    /// Keep a checkpoint every this many versions (doubled when a stream would exceed
    /// `max_checkpoints`).
    pub checkpoint_every: i64,
    pub max_checkpoints: usize,
    /// Roughly how much memory one stream's checkpoints may take; past it they thin out
    /// like past `max_checkpoints`.
    pub max_checkpoint_bytes: usize,
    /// Start from the store's own snapshots when they are nearer than anything in memory.
    pub use_snapshots: bool,
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
            use_snapshots: true,
            skip_failed_events: false,
        }
    }
}

/// Computes states of streams, remembering checkpoints between calls.
pub struct Replayer<'a> {
    store: &'a Store,
    reducer: &'a Reducer,
    options: SeekOptions,
    streams: HashMap<String, StreamCache>,
    watch: Option<Arc<Watch>>,
    /// Events never to hand to the reducer (a call on them once ran past its time limit),
    /// with the reason to record as their failure.
    skips: HashMap<String, BTreeMap<i64, String>>,
}

struct StreamCache {
    /// Picks the reducer; fetched once.
    category: Option<String>,
    every: i64,
    /// Events the reducer failed on, by version (only with `skip_failed_events`).
    failures: BTreeMap<i64, String>,
    checkpoints: BTreeMap<i64, Value>,
    /// The checkpoints' approximate size.
    bytes: usize,
    /// The last state computed, so that stepping forward costs one event.
    cursor: Option<(i64, Value)>,
}

/// How often `state_at_with` reports progress, in events.
pub const PROGRESS_EVERY: i64 = 4096;

/// How many streams keep checkpoints before the cache is cleared.
const MAX_CACHED_STREAMS: usize = 64;

impl<'a> Replayer<'a> {
    pub fn new(store: &'a Store, reducer: &'a Reducer, options: SeekOptions) -> Self {
        Replayer {
            store,
            reducer,
            options,
            streams: HashMap::new(),
            watch: None,
            skips: HashMap::new(),
        }
    }

    /// Marks every jq reducer call on `watch`, for a monitor to time (see [`Watch`]).
    pub fn with_watch(mut self, watch: Arc<Watch>) -> Self {
        self.watch = Some(watch);
        self
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
            cache.bytes = cache.checkpoints.values().map(approx_size).sum();
            cache.cursor = cache.cursor.take().filter(|(v, _)| *v < version);
        }
    }

    /// The stream's last version; an error when it has no events.
    pub fn last_version(&self, stream: &str) -> Result<i64> {
        self.store
            .last_version(stream)?
            .ok_or_else(|| ReplayError::NoStream(stream.to_string()))
    }

    /// The state after applying versions 1..=`version` (`null` at version 0).
    pub fn state_at(&mut self, stream: &str, version: i64) -> Result<Value> {
        let state = self.state_at_with(stream, version, &mut |_| ControlFlow::Continue(()))?;
        Ok(state.unwrap_or_default())
    }

    /// Like [`Replayer::state_at`], reporting the version it has reached every
    /// [`PROGRESS_EVERY`] events. When `progress` breaks, the seek stops and returns `None`;
    /// the checkpoints it passed are kept, so the next seek resumes from them.
    pub fn state_at_with(
        &mut self,
        stream: &str,
        version: i64,
        progress: &mut dyn FnMut(i64) -> ControlFlow<()>,
    ) -> Result<Option<Value>> {
        let last = self.last_version(stream)?;
        if !(0..=last).contains(&version) {
            return Err(ReplayError::OutOfRange {
                stream: stream.to_string(),
                version,
                last,
            });
        }
        let (start, state) = self.nearest_start(stream, version)?;
        if start == version {
            return Ok(Some(state));
        }
        let max = self.options.max_checkpoints;
        let max_bytes = self.options.max_checkpoint_bytes;
        let skip_failed = self.options.skip_failed_events;
        let store = self.store;
        let category = self.category(stream)?;
        let mut fold = self.reducer.start(&category, state);
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
                if let Some(old) = cache.checkpoints.insert(v, state) {
                    cache.bytes = cache.bytes.saturating_sub(approx_size(&old));
                }
                while cache.checkpoints.len() > max
                    || (cache.bytes > max_bytes && cache.checkpoints.len() > 1)
                {
                    cache.every *= 2;
                    let every = cache.every;
                    cache.checkpoints.retain(|v, _| v % every == 0);
                    cache.bytes = cache.checkpoints.values().map(approx_size).sum();
                }
            }
            done += 1;
            if done % PROGRESS_EVERY == 0 && progress(v).is_break() {
                aborted = true;
                return Ok(ControlFlow::Break(()));
            }
            Ok(ControlFlow::Continue(()))
        };
        let range = start + 1..=version;
        let merged = match &mut fold {
            Fold::Merge(_) => store.read_stream_payloads(stream, range.clone(), |v, data| {
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
            store.read_stream_rows(stream, range, |row| {
                let v = row.version();
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
                    w.begin(&reducer_name, stream, v, row.event_type());
                }
                let applied = fold.apply_row(&row);
                if let Some(w) = watch {
                    w.end();
                }
                step(v, applied, &fold)
            })?;
        }
        if aborted {
            return Ok(None);
        }
        let state = fold.into_state();
        cache.cursor = Some((version, state.clone()));
        Ok(Some(state))
    }

    /// The approximate memory the checkpoints of `stream` hold.
    pub fn checkpoint_bytes(&self, stream: &str) -> usize {
        self.streams.get(stream).map_or(0, |c| c.bytes)
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

    /// The failed events of `stream` at or below `version`: how many, and the first one.
    pub fn failures_up_to(&self, stream: &str, version: i64) -> (usize, Option<i64>) {
        let Some(cache) = self.streams.get(stream) else {
            return (0, None);
        };
        let mut range = cache.failures.range(..=version);
        let first = range.next().map(|(v, _)| *v);
        (cache.failures.range(..=version).count(), first)
    }

    /// The version `at` falls on (the last event stamped at or before it, 0 when none) and
    /// the state there.
    pub fn state_at_time(&mut self, stream: &str, at: DateTime<Utc>) -> Result<(i64, Value)> {
        self.last_version(stream)?;
        let version = self.store.version_at_time(stream, at)?.unwrap_or(0);
        Ok((version, self.state_at(stream, version)?))
    }

    fn category(&mut self, stream: &str) -> Result<String> {
        if let Some(c) = &self.cache(stream).category {
            return Ok(c.clone());
        }
        let c = self.store.stream_category(stream)?;
        self.cache(stream).category = Some(c.clone());
        Ok(c)
    }

    fn cache(&mut self, stream: &str) -> &mut StreamCache {
        if !self.streams.contains_key(stream) && self.streams.len() >= MAX_CACHED_STREAMS {
            self.streams.clear();
        }
        let every = self.options.checkpoint_every.max(1);
        self.streams
            .entry(stream.to_string())
            .or_insert_with(|| StreamCache {
                category: None,
                every,
                checkpoints: BTreeMap::new(),
                bytes: 0,
                failures: BTreeMap::new(),
                cursor: None,
            })
    }

    fn nearest_start(&mut self, stream: &str, version: i64) -> Result<(i64, Value)> {
        let use_snapshots = self.options.use_snapshots;
        let cache = self.cache(stream);
        let mut best: (i64, Option<&Value>) = (0, None);
        if let Some((v, s)) = cache.checkpoints.range(..=version).next_back() {
            best = (*v, Some(s));
        }
        if let Some((v, s)) = &cache.cursor {
            if *v <= version && *v > best.0 {
                best = (*v, Some(s));
            }
        }
        let (v, s) = (best.0, best.1.cloned().unwrap_or(Value::Null));
        if use_snapshots && v < version {
            if let Some(snap) = self.store.latest_snapshot(stream, version)? {
                if snap.version > v {
                    return Ok((snap.version, snap.data));
                }
            }
        }
        Ok((v, s))
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

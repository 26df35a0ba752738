//! Seeking: the state of a stream at any version or time, starting each fold from the
//! nearest known state (an in-memory checkpoint, the last position reached, or a store
//! snapshot) rather than from the first event.

use std::collections::{BTreeMap, HashMap};
use std::ops::ControlFlow;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{Reducer, ReplayError, Result};
use crate::store::Store;

#[derive(Debug, Clone)]
pub struct SeekOptions {
    /// Keep a checkpoint every this many versions (doubled when a stream would exceed
    /// `max_checkpoints`).
    pub checkpoint_every: i64,
    pub max_checkpoints: usize,
    /// Start from the store's own snapshots when they are nearer than anything in memory.
    pub use_snapshots: bool,
}

impl Default for SeekOptions {
    fn default() -> Self {
        SeekOptions {
            checkpoint_every: 1000,
            max_checkpoints: 256,
            use_snapshots: true,
        }
    }
}

/// Computes states of streams, remembering checkpoints between calls.
pub struct Replayer<'a> {
    store: &'a Store,
    reducer: &'a Reducer,
    options: SeekOptions,
    streams: HashMap<String, StreamCache>,
}

struct StreamCache {
    every: i64,
    checkpoints: BTreeMap<i64, Value>,
    /// The last state computed, so that stepping forward costs one event.
    cursor: Option<(i64, Value)>,
}

/// How many streams keep checkpoints before the cache is cleared.
const MAX_CACHED_STREAMS: usize = 64;

impl<'a> Replayer<'a> {
    pub fn new(store: &'a Store, reducer: &'a Reducer, options: SeekOptions) -> Self {
        Replayer {
            store,
            reducer,
            options,
            streams: HashMap::new(),
        }
    }

    /// The stream's last version; an error when it has no events.
    pub fn last_version(&self, stream: &str) -> Result<i64> {
        self.store
            .stream_info(stream)?
            .map(|i| i.last_version)
            .ok_or_else(|| ReplayError::NoStream(stream.to_string()))
    }

    /// The state after applying versions 1..=`version` (`null` at version 0).
    pub fn state_at(&mut self, stream: &str, version: i64) -> Result<Value> {
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
            return Ok(state);
        }
        let cache = self.cache(stream);
        let every = cache.every;
        let mut fresh = Vec::new();
        let mut fold = self.reducer.start(stream, state);
        self.store
            .read_stream(stream, start + 1..=version, |event| {
                fold.apply(&event)?;
                if event.version % every == 0 {
                    fresh.push((event.version, fold.state()));
                }
                Ok::<_, ReplayError>(ControlFlow::Continue(()))
            })?;
        let state = fold.into_state();
        let max = self.options.max_checkpoints;
        let cache = self.cache(stream);
        for (v, s) in fresh {
            if v % cache.every == 0 {
                cache.checkpoints.insert(v, s);
            }
        }
        while cache.checkpoints.len() > max {
            cache.every *= 2;
            let every = cache.every;
            cache.checkpoints.retain(|v, _| v % every == 0);
        }
        cache.cursor = Some((version, state.clone()));
        Ok(state)
    }

    /// The version `at` falls on (the last event stamped at or before it, 0 when none) and
    /// the state there.
    pub fn state_at_time(&mut self, stream: &str, at: DateTime<Utc>) -> Result<(i64, Value)> {
        self.last_version(stream)?;
        let version = self.store.version_at_time(stream, at)?.unwrap_or(0);
        Ok((version, self.state_at(stream, version)?))
    }

    fn cache(&mut self, stream: &str) -> &mut StreamCache {
        if !self.streams.contains_key(stream) && self.streams.len() >= MAX_CACHED_STREAMS {
            self.streams.clear();
        }
        let every = self.options.checkpoint_every.max(1);
        self.streams
            .entry(stream.to_string())
            .or_insert_with(|| StreamCache {
                every,
                checkpoints: BTreeMap::new(),
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

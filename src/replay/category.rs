//! A whole category at a point in time: the state of every stream of the category as of a
//! time (or now), from one pass over the category's payloads in global order, keeping one
//! state per stream.

use std::collections::HashMap;
use std::ops::ControlFlow;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::walk::apply_marked;
use super::when::category_streams;
use super::{Fold, Reducer, ReplayError, Result, Watch};
use crate::store::{EventSource, LogFilter, SourceExt};

/// One stream of the category and its state.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StreamState {
    pub stream_id: String,
    pub version: i64,
    pub state: Value,
    /// Where the reducer failed on this stream (or was stopped), when a fold goes on past
    /// failures: the stream's state is the one before that event, and later events of the
    /// stream are left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Why an event is left out of a fold (a reducer hung on it before), or `None`.
pub type LeftOut<'a> = dyn Fn(&str, i64) -> Option<String> + 'a;

/// How a category fold treats its reducer's calls: marked on a watch, and, for the TUI,
/// going on past a stream's failure (and past the events a reducer hung on before, which
/// `stopped` names) so the other streams still show.
#[derive(Default, Clone, Copy)]
pub struct CategoryGuard<'a> {
    pub watch: Option<&'a Watch>,
    pub keep_going: bool,
    pub stopped: Option<&'a LeftOut<'a>>,
}

/// Every stream of `category` that has an event by `until` (every stream when `None`),
/// at its last version by then, by stream id. "By then" is as `state --at-time` reads it
/// for one stream: the last version, in version order, stamped at or before `until`.
pub fn category_at(
    store: &dyn EventSource,
    reducer: &Reducer,
    category: &str,
    until: Option<DateTime<Utc>>,
    guard: CategoryGuard<'_>,
) -> Result<Vec<StreamState>> {
    fold_category(store, reducer, category, until, None, guard)
}

/// Every stream of `category` with events at or before global `position`, as of then.
pub fn category_at_position(
    store: &dyn EventSource,
    reducer: &Reducer,
    category: &str,
    position: i64,
    guard: CategoryGuard<'_>,
) -> Result<Vec<StreamState>> {
    fold_category(store, reducer, category, None, Some(position), guard)
}

/// A stream's fold in a category: its last version applied, the fold, and why it stopped.
type StreamFold<'r> = (i64, Fold<'r>, Option<String>);

fn fold_category(
    store: &dyn EventSource,
    reducer: &Reducer,
    category: &str,
    until: Option<DateTime<Utc>>,
    position: Option<i64>,
    guard: CategoryGuard<'_>,
) -> Result<Vec<StreamState>> {
    let streams = category_streams(store, category)?;
    // Where each stream ends by `until`: a pass over times only (no payloads).
    let limits: Option<HashMap<String, (i64, i64)>> = match until {
        None => None,
        Some(t) => {
            let mut last: HashMap<String, (i64, i64)> = HashMap::new();
            let filter = LogFilter {
                streams: Some(streams.clone()),
                ..Default::default()
            };
            store.for_each_time(&filter, |row| {
                if store.instant(&row)? <= t {
                    let entry = last
                        .entry(row.stream_id.clone())
                        .or_insert((row.version, row.position));
                    if row.version >= entry.0 {
                        *entry = (row.version, row.position);
                    }
                }
                Ok(ControlFlow::Continue(()))
            })?;
            Some(last)
        }
    };
    let to_position = limits
        .as_ref()
        .map(|l| l.values().map(|(_, p)| *p).max().unwrap_or(-1))
        .or(position);
    // Each stream's reducer is picked by its category, which is the same for all. The
    // streams are independent, so they are read stream by stream through the index: the
    // same answer as global order, without sorting the category's events.
    let mut folds: HashMap<String, StreamFold> = HashMap::new();
    let mut current: Option<(String, StreamFold)> = None;
    let mut named = String::new();
    let filter = LogFilter {
        streams: Some(match &limits {
            Some(l) => l.keys().cloned().collect(),
            None => streams,
        }),
        to_position,
        by_stream: true,
        columns: Some(reducer.start(category, Value::Null).columns()),
        ..Default::default()
    };
    store.read_log_rows(&filter, |row| {
        let (stream, v) = (row.stream_id(), row.version());
        if let Some(l) = &limits {
            match l.get(stream) {
                Some((last, _)) if v <= *last => {}
                _ => return Ok::<_, ReplayError>(ControlFlow::Continue(())),
            }
        }
        // Rows come stream by stream: the current one's fold is kept at hand, not looked
        // up per row.
        if current.as_ref().is_none_or(|(s, _)| s != stream) {
            if let Some((s, e)) = current.take() {
                folds.insert(s, e);
            }
            let entry = folds.remove(stream).unwrap_or_else(|| {
                let fold = reducer.start(category, Value::Null);
                // Going on past a failure keeps the state from before it (a copy per event).
                let fold = if guard.keep_going {
                    fold
                } else {
                    fold.stop_on_error()
                };
                (v, fold, None)
            });
            current = Some((stream.to_string(), entry));
        }
        let Some((_, entry)) = current.as_mut() else {
            return Ok(ControlFlow::Continue(()));
        };
        if entry.2.is_some() {
            return Ok(ControlFlow::Continue(()));
        }
        if let Some(why) = guard.stopped.and_then(|stopped| stopped(stream, v)) {
            entry.2 = Some(why);
            return Ok(ControlFlow::Continue(()));
        }
        let applied = apply_marked(&mut entry.1, &row, guard.watch, &mut named);
        match applied {
            Ok(()) => entry.0 = v,
            Err(e) if guard.keep_going => entry.2 = Some(e.to_string()),
            Err(e) => return Err(e),
        }
        Ok(ControlFlow::Continue(()))
    })?;
    if let Some((s, e)) = current {
        folds.insert(s, e);
    }
    let mut out: Vec<StreamState> = folds
        .into_iter()
        .map(|(stream_id, (version, fold, error))| StreamState {
            stream_id,
            version,
            state: fold.into_state(),
            error,
        })
        .collect();
    out.sort_by(|a, b| a.stream_id.cmp(&b.stream_id));
    Ok(out)
}

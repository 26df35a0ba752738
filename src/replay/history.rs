//! The history of one field: every version where the value at a path of the state
//! changed, with the old and new value. One walk of the stream (or one pass over a
//! category); what it keeps is the field's last value per stream, so memory follows the
//! field, not the history. Equal is jaq's equality, as in blame: an equal rewrite is no
//! change.

use std::ops::ControlFlow;

use jaq_json::Val;
use serde_json::Value;

use super::field_path::FieldPath;
use super::walk::{apply_marked, Skips, Walk};
use super::when::category_streams;
use super::{jq, Fold, Reducer, ReplayError, Result, Watch};
use crate::store::{Columns, EventSource, LogFilter, SourceExt, StreamRow};

/// What happened to the field at one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldChange {
    /// It appeared (it was absent before).
    Added,
    Changed,
    /// It is absent after this event.
    Removed,
}

impl FieldChange {
    pub fn word(self) -> &'static str {
        match self {
            FieldChange::Added => "added",
            FieldChange::Changed => "changed",
            FieldChange::Removed => "removed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HistoryRow {
    pub stream_id: String,
    pub version: i64,
    #[serde(rename = "type")]
    pub event_type: String,
    pub timestamp: Option<String>,
    pub global_position: i64,
    pub change: FieldChange,
    /// Absent where the field was absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
}

/// The field's value in a fold's state: a jq fold's looked up in place, a merge's in its
/// JSON (only the field is converted).
fn value_in(fold: &Fold, path: &FieldPath) -> Option<Val> {
    match fold {
        Fold::Jq(_, state, _) => path.get_val(state),
        Fold::Merge(state) => path.get_json(state).map(jq::to_val),
    }
}

/// A field's last value and the row of a change, if the value after `row` differs.
fn change_at(row: &StreamRow, last: &mut Option<Val>, now: Option<Val>) -> Option<HistoryRow> {
    if *last == now {
        return None;
    }
    let change = match (&last, &now) {
        (None, Some(_)) => FieldChange::Added,
        (Some(_), None) => FieldChange::Removed,
        _ => FieldChange::Changed,
    };
    let out = HistoryRow {
        stream_id: row.stream_id().to_string(),
        version: row.version(),
        event_type: row.event_type().to_string(),
        timestamp: row.timestamp().map(str::to_string),
        global_position: row.global_position(),
        change,
        old: last.as_ref().map(jq::from_val),
        new: now.as_ref().map(jq::from_val),
    };
    *last = now;
    Some(out)
}

/// Every change of the field at `path` in `stream`, in version order, leaving out what
/// `skips` names.
pub fn history(
    store: &dyn EventSource,
    reducer: &Reducer,
    stream: &str,
    path: &FieldPath,
    skips: &Skips,
    watch: Option<&Watch>,
) -> Result<Vec<HistoryRow>> {
    let mut all = histories(
        store,
        reducer,
        stream,
        std::slice::from_ref(path),
        skips,
        watch,
    )?;
    Ok(all.pop().unwrap_or_default())
}

/// [`history`] of several fields of one stream, from one walk: one list per path.
pub fn histories(
    store: &dyn EventSource,
    reducer: &Reducer,
    stream: &str,
    paths: &[FieldPath],
    skips: &Skips,
    watch: Option<&Watch>,
) -> Result<Vec<Vec<HistoryRow>>> {
    let mut last: Vec<Option<Val>> = vec![None; paths.len()];
    let mut rows: Vec<Vec<HistoryRow>> = vec![Vec::new(); paths.len()];
    let reads = Columns {
        timestamp: true,
        ..Columns::NONE
    };
    Walk {
        store,
        reducer,
        watch,
    }
    .run(
        stream,
        Value::Null,
        i64::MIN..=i64::MAX,
        skips,
        reads,
        |row, fold| {
            for (i, path) in paths.iter().enumerate() {
                if let Some(r) = change_at(row, &mut last[i], value_in(fold, path)) {
                    rows[i].push(r);
                }
            }
            Ok(ControlFlow::Continue(()))
        },
    )?;
    Ok(rows)
}

/// [`history`] for every stream of `category`, in one pass read stream by stream; rows
/// by stream id, then version.
pub fn history_category(
    store: &dyn EventSource,
    reducer: &Reducer,
    category: &str,
    path: &FieldPath,
    watch: Option<&Watch>,
) -> Result<Vec<HistoryRow>> {
    let mut streams = category_streams(store, category)?;
    streams.sort();
    let mut named = String::new();
    // Read stream by stream (through the index), so one fold lives at a time.
    let filter = LogFilter {
        streams: Some(streams),
        by_stream: true,
        ..Default::default()
    };
    let mut current: Option<(String, Fold, Option<Val>)> = None;
    let mut rows = Vec::new();
    store.read_log_rows(&filter, |row| {
        let stream = row.stream_id();
        if current.as_ref().is_none_or(|(s, _, _)| s != stream) {
            let fold = reducer.start(category, Value::Null).stop_on_error();
            current = Some((stream.to_string(), fold, None));
        }
        let Some((_, fold, last)) = current.as_mut() else {
            return Ok::<_, ReplayError>(ControlFlow::Continue(()));
        };
        apply_marked(fold, &row, watch, &mut named)?;
        if let Some(r) = change_at(&row, last, value_in(fold, path)) {
            rows.push(r);
        }
        Ok(ControlFlow::Continue(()))
    })?;
    // By stream id; a stable sort keeps each stream's versions in order.
    rows.sort_by(|a: &HistoryRow, b: &HistoryRow| a.stream_id.cmp(&b.stream_id));
    Ok(rows)
}

//! When: the first version of a stream where a jq predicate on the state holds, every
//! version where it turns true, or, for a whole category, the first version per stream in
//! one pass over the category's events in global order.

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;

use serde_json::Value;

use super::walk::{apply_marked, Predicate, Skips, Verdict, Walk};
use super::{Fold, Program, Reducer, ReplayError, Result, Watch};
use crate::store::{EventSource, LogFilter, SourceExt, StreamRow};

/// A version where the predicate holds (or turns true).
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub stream_id: String,
    pub version: i64,
    pub state: Value,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct WhenOptions {
    /// Every version where it turns from false to true, not only the first.
    pub all: bool,
    /// A predicate error fails the search instead of counting as false.
    pub strict: bool,
}

/// Whether the predicate holds, as `when` reads it: jq's truth; with `strict`, an error
/// or an output that is not a boolean stops the search, naming what it gave.
fn judge(verdict: Verdict, strict: bool, predicate: &Predicate, row: &StreamRow) -> Result<bool> {
    let fail = |message: String| ReplayError::Predicate {
        code: predicate.code.clone(),
        stream: row.stream_id().to_string(),
        version: row.version(),
        event_type: row.event_type().to_string(),
        message,
    };
    match verdict {
        Verdict::Holds => Ok(true),
        Verdict::Fails => Ok(false),
        Verdict::Error(message) if strict => Err(fail(message)),
        Verdict::Error(_) => Ok(false),
        Verdict::NotBoolean(what, _) if strict => Err(fail(format!(
            "it gave {what}, not true or false (--strict takes booleans only)"
        ))),
        Verdict::NotBoolean(_, truthy) => Ok(truthy),
    }
}

/// Where `predicate` holds on `stream`: the first version, or with `all` every version
/// where it turns true (the first event included when it holds there).
pub fn when(
    store: &dyn EventSource,
    reducer: &Reducer,
    stream: &str,
    predicate: &Predicate,
    options: WhenOptions,
    skips: &Skips,
    watch: Option<&Watch>,
) -> Result<Vec<Hit>> {
    if store.last_version(stream)?.is_none() {
        return Err(ReplayError::NoStream(stream.to_string()));
    }
    let mut hits = Vec::new();
    let mut before = false;
    if let Some(w) = watch {
        w.name(Program::Predicate, &format!("`{}`", predicate.code));
    }
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
        predicate.columns(),
        |row, fold| {
            let v = row.version();
            let holds = judge(
                predicate.guarded_test(row, fold, watch),
                options.strict,
                predicate,
                row,
            )?;
            if holds && !before {
                hits.push(Hit {
                    stream_id: stream.to_string(),
                    version: v,
                    state: fold.state(),
                });
                if !options.all {
                    return Ok(ControlFlow::Break(()));
                }
            }
            before = holds;
            Ok(ControlFlow::Continue(()))
        },
    )?;
    Ok(hits)
}

/// The first version where `predicate` holds, for every stream of `category` where it
/// does: one pass over the category's events in global order, one state per stream.
pub fn when_category(
    store: &dyn EventSource,
    reducer: &Reducer,
    category: &str,
    predicate: &Predicate,
    options: WhenOptions,
    watch: Option<&Watch>,
) -> Result<Vec<Hit>> {
    let streams = category_streams(store, category)?;
    if let Some(w) = watch {
        w.name(Program::Predicate, &format!("`{}`", predicate.code));
    }
    let mut named = String::new();
    let mut folds: HashMap<String, Fold> = HashMap::new();
    let mut done: HashSet<String> = HashSet::new();
    let mut hits = Vec::new();
    // Streams are independent: read stream by stream through the index (see
    // `category_at`), each stopping being folded once the predicate holds.
    let filter = LogFilter {
        streams: Some(streams),
        by_stream: true,
        ..Default::default()
    };
    store.read_log_rows(&filter, |row| {
        let (stream, v) = (row.stream_id(), row.version());
        if done.contains(stream) {
            return Ok::<_, ReplayError>(ControlFlow::Continue(()));
        }
        let fold = match folds.get_mut(stream) {
            Some(f) => f,
            None => folds
                .entry(stream.to_string())
                .or_insert_with(|| reducer.start(category, Value::Null).stop_on_error()),
        };
        let applied = apply_marked(fold, &row, watch, &mut named);
        applied?;
        if judge(
            predicate.guarded_test(&row, fold, watch),
            options.strict,
            predicate,
            &row,
        )? {
            hits.push(Hit {
                stream_id: stream.to_string(),
                version: v,
                state: fold.state(),
            });
            done.insert(stream.to_string());
            folds.remove(stream);
        }
        Ok(ControlFlow::Continue(()))
    })?;
    Ok(hits)
}

/// The ids of the streams the store files under `category`.
pub fn category_streams(store: &dyn EventSource, category: &str) -> Result<Vec<String>> {
    let streams = store.streams_of_category(category)?;
    if streams.is_empty() {
        return Err(ReplayError::NoStream(format!("category {category}")));
    }
    Ok(streams)
}

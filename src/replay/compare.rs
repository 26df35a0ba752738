//! One reducer against another: each stream folded by both in one pass over its events;
//! where their states differ at the end, the first version where they diverge, with the
//! changes and the event there. A reducer change is checked against real history.

use std::ops::ControlFlow;

use serde::Serialize;
use serde_json::Value;

use super::diff::{diff, Change};
use super::reducer::{Fold, Reducer};
use super::{ReplayError, Result, Watch};
use crate::store::{Columns, EventSource, SourceExt, StreamRow};

/// Which of the two reducers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    A,
    B,
}

/// How a stream's two folds compare up to `version`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Comparison {
    Equal {
        version: i64,
    },
    /// The states first differ after the event at `version`.
    Differ {
        version: i64,
        event_type: String,
        position: i64,
        changes: Vec<Change>,
    },
    /// A reducer failed on an event (the other, where it failed too, is named as well).
    Fails {
        side: Side,
        version: i64,
        event_type: String,
        message: String,
        both: bool,
    },
}

impl Comparison {
    pub fn is_equal(&self) -> bool {
        matches!(self, Comparison::Equal { .. })
    }
}

/// The two folds of one stream, side by side.
struct Pair<'r> {
    a: Fold<'r>,
    b: Fold<'r>,
    failed: [Option<(i64, String, String)>; 2],
}

impl Pair<'_> {
    fn apply(&mut self, row: &StreamRow, stream: &str, watch: Option<&Watch>) {
        for (i, fold) in [&mut self.a, &mut self.b].into_iter().enumerate() {
            if self.failed[i].is_some() {
                continue;
            }
            if let Some(w) = watch {
                w.fold(fold.program_name(), stream);
                w.begin(row.version(), row.event_type());
            }
            let applied = fold.apply_row(row);
            if let Some(w) = watch {
                w.end();
            }
            if let Err(e) = applied {
                let message = match e {
                    ReplayError::Reducer { message, .. } => message,
                    other => other.to_string(),
                };
                self.failed[i] = Some((row.version(), row.event_type().to_string(), message));
            }
        }
    }
}

/// Folds `stream` up to `until` (its end when `None`) with both reducers from nothing.
pub fn compare_stream(
    source: &dyn EventSource,
    a: &Reducer,
    b: &Reducer,
    stream: &str,
    until: Option<i64>,
    watch: Option<&Watch>,
) -> Result<Comparison> {
    let category = source.stream_category(stream)?;
    let mut pair = Pair {
        a: a.start(&category, Value::Null).stop_on_error(),
        b: b.start(&category, Value::Null).stop_on_error(),
        failed: [None, None],
    };
    let columns = pair.a.columns().union(pair.b.columns());
    let range = i64::MIN..=until.unwrap_or(i64::MAX);
    let mut last = 0;
    source.read_stream_rows(stream, range.clone(), columns, |row| {
        last = row.version();
        pair.apply(&row, stream, watch);
        let flow = match pair.failed {
            [None, None] => ControlFlow::Continue(()),
            _ => ControlFlow::Break(()),
        };
        Ok::<_, ReplayError>(flow)
    })?;
    match pair.failed {
        [Some((version, event_type, message)), b] => {
            return Ok(Comparison::Fails {
                side: Side::A,
                version,
                event_type,
                message,
                both: b.is_some(),
            })
        }
        [None, Some((version, event_type, message))] => {
            return Ok(Comparison::Fails {
                side: Side::B,
                version,
                event_type,
                message,
                both: false,
            })
        }
        [None, None] => {}
    }
    if pair.a.state() == pair.b.state() {
        return Ok(Comparison::Equal { version: last });
    }
    first_divergence(source, a, b, stream, &category, range, columns, watch)
}

/// Folds again, comparing after each event, to the first event after which they differ.
#[allow(clippy::too_many_arguments)]
fn first_divergence(
    source: &dyn EventSource,
    a: &Reducer,
    b: &Reducer,
    stream: &str,
    category: &str,
    range: std::ops::RangeInclusive<i64>,
    columns: Columns,
    watch: Option<&Watch>,
) -> Result<Comparison> {
    let mut pair = Pair {
        a: a.start(category, Value::Null).stop_on_error(),
        b: b.start(category, Value::Null).stop_on_error(),
        failed: [None, None],
    };
    let mut found = None;
    source.read_stream_rows(stream, range, columns, |row| {
        pair.apply(&row, stream, watch);
        let (sa, sb) = (pair.a.state(), pair.b.state());
        if sa != sb {
            found = Some(Comparison::Differ {
                version: row.version(),
                event_type: row.event_type().to_string(),
                position: row.global_position(),
                changes: diff(&sa, &sb),
            });
            return Ok::<_, ReplayError>(ControlFlow::Break(()));
        }
        Ok(ControlFlow::Continue(()))
    })?;
    // The end states differed, so a version where they diverge exists.
    Ok(found.unwrap_or(Comparison::Equal { version: 0 }))
}

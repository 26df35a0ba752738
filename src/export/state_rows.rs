//! `states-*.parquet`: the reducer's state after every event, as JSON and with its
//! top-level scalar fields as typed columns, so that SQL can ask of replayed history
//! ("every account whose balance went below zero, and when").

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::path::PathBuf;

use serde_json::{Map, Value};

use super::columns::{unit_digits, Cell, Column, Kind};
use super::state_fields::{self, MAX_FIELDS};
use super::{instant, ExportError, ParquetDir, GROUP_BYTES};
use crate::replay::{Fold, Reducer, Watch};
use crate::store::{Columns, EventSource, LogFilter, SourceExt, StreamRow};

/// The columns every states file has, before the typed fields.
const FIXED: [(&str, Kind, bool); 8] = [
    ("stream", Kind::Text, true),
    ("version", Kind::Int, true),
    ("position", Kind::Int, true),
    ("type", Kind::Text, true),
    ("time", Kind::Time(3), false),
    ("timestamp", Kind::Text, false),
    ("state", Kind::Json, false),
    ("error", Kind::Text, false),
];
const TIME: usize = 4;

struct Row {
    stream: String,
    version: i64,
    position: i64,
    event_type: String,
    timestamp: Option<String>,
    /// The state as JSON text, or why the fold failed at this event.
    state: Result<String, String>,
    /// The state's top-level fields, nested ones as `[]`: all `choose` needs.
    fields: Option<Value>,
}

pub struct StateWriter {
    dir: ParquetDir,
    rows: Vec<Row>,
    bytes: usize,
    written: u64,
}

impl StateWriter {
    pub fn new(dir: ParquetDir) -> StateWriter {
        StateWriter {
            dir,
            rows: Vec::new(),
            bytes: 0,
            written: 0,
        }
    }

    fn push(&mut self, row: &StreamRow, state: Result<&Value, String>) -> Result<(), ExportError> {
        let fields = state.as_ref().ok().and_then(|s| s.as_object()).map(|o| {
            let top: Map<String, Value> = o
                .iter()
                .take(MAX_FIELDS * 4)
                .map(|(k, v)| {
                    let v = match v {
                        Value::Array(_) | Value::Object(_) => Value::Array(Vec::new()),
                        v => v.clone(),
                    };
                    (k.clone(), v)
                })
                .collect();
            Value::Object(top)
        });
        let state = state.map(|s| s.to_string());
        self.bytes += state.as_ref().map_or_else(String::len, String::len) + 96;
        self.rows.push(Row {
            stream: row.stream_id().to_string(),
            version: row.version(),
            position: row.global_position(),
            event_type: row.event_type().to_string(),
            timestamp: row.timestamp().map(crate::time::normalise),
            state,
            fields,
        });
        self.written += 1;
        if self.rows.len() >= self.dir.group_rows() || self.bytes >= GROUP_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), ExportError> {
        let rows = std::mem::take(&mut self.rows);
        self.bytes = 0;
        if rows.is_empty() {
            return Ok(());
        }
        let open = self.dir.open_columns().unwrap_or_default();
        let open_fields: Vec<(String, Kind)> = open
            .iter()
            .skip(FIXED.len())
            .map(|(name, kind, _)| (field_of(name), *kind))
            .collect();
        let open_digits = match open.get(TIME) {
            Some((_, Kind::Time(d), _)) => *d,
            _ => 3,
        };
        let taken: HashSet<String> = FIXED.iter().map(|(n, ..)| n.to_string()).collect();
        let states: Vec<Option<&Value>> = rows.iter().map(|r| r.fields.as_ref()).collect();
        let typed = state_fields::choose(&states, &open_fields, &taken);
        let mut columns: Vec<Column> = FIXED
            .iter()
            .map(|(name, kind, required)| Column::new(name, *kind, *required))
            .chain(
                typed
                    .iter()
                    .map(|(_, name, kind)| Column::new(name, *kind, false)),
            )
            .collect();
        let mut digits = 0;
        for row in rows {
            let time = row.timestamp.as_deref().and_then(instant);
            digits = digits.max(time.map_or(0, |(_, d)| d));
            for (i, (field, _, kind)) in typed.iter().enumerate() {
                let v = row.fields.as_ref().and_then(|f| f.get(field));
                columns[FIXED.len() + i]
                    .cells
                    .push(state_fields::cell(v, *kind));
            }
            let (state, error) = match row.state {
                Ok(s) => (Cell::Text(s), Cell::Null),
                Err(e) => (Cell::Null, Cell::Text(e)),
            };
            let cells = [
                Cell::Text(row.stream),
                Cell::Int(row.version),
                Cell::Int(row.position),
                Cell::Text(row.event_type),
                time.map_or(Cell::Null, |(t, _)| Cell::Time(t)),
                row.timestamp.map_or(Cell::Null, Cell::Text),
                state,
                error,
            ];
            for (column, cell) in columns.iter_mut().zip(cells) {
                column.cells.push(cell);
            }
        }
        columns[TIME].kind = Kind::Time(unit_digits(digits).max(open_digits));
        // Typed columns keep the open file's order where they are the same fields.
        self.dir.write_group(&mut columns)
    }

    pub fn rows(&self) -> u64 {
        self.written
    }

    pub fn finish(mut self) -> Result<Vec<PathBuf>, ExportError> {
        self.flush()?;
        self.dir.finish()
    }
}

/// The state field a typed column holds (`state.version` holds `version`).
fn field_of(column: &str) -> String {
    column.strip_prefix("state.").unwrap_or(column).to_string()
}

/// What [`write_states`] did.
#[derive(Debug, Default)]
pub struct StatesDone {
    pub streams: u64,
    /// Streams whose fold failed: the first few errors, and how many in all.
    pub failures: Vec<String>,
    pub failed: u64,
}

/// Replays every stream `filter` names (all, one, or a category's), stream by stream
/// from its first event, and writes the state after each event `keeps` takes (which reads
/// the columns `reads` names). A stream whose fold fails gets one row saying why at that
/// event, and no rows after it.
#[allow(clippy::too_many_arguments)]
pub fn write_states(
    store: &dyn EventSource,
    reducer: &Reducer,
    filter: &LogFilter,
    keeps: &dyn Fn(&StreamRow) -> bool,
    reads: Columns,
    watch: Option<&Watch>,
    out: &mut StateWriter,
    progress: &mut dyn FnMut(u64),
) -> Result<StatesDone, ExportError> {
    let mut done = StatesDone::default();
    let mut current: Option<(String, Option<Fold>)> = None;
    let mut folded = 0u64;
    let read = LogFilter {
        by_stream: true,
        event_type: None,
        limit: None,
        // Only what the reducer and `keeps` read, and the times every row has.
        columns: Some(reducer.columns().union(reads).union(Columns {
            timestamp: true,
            ..Columns::NONE
        })),
        ..filter.clone()
    };
    let mut named = String::new();
    store.read_log_rows(&read, |row| {
        folded += 1;
        if folded % 4096 == 0 {
            progress(folded);
        }
        let stream = row.stream_id();
        if current.as_ref().is_none_or(|(s, _)| s != stream) {
            let category = store.stream_category(stream)?;
            let fold = reducer.start(&category, Value::Null).stop_on_error();
            current = Some((stream.to_string(), Some(fold)));
            done.streams += 1;
        }
        let Some((_, slot)) = current.as_mut() else {
            return Ok::<_, ExportError>(ControlFlow::Continue(()));
        };
        let Some(fold) = slot.as_mut() else {
            // This stream's fold failed at an earlier event.
            return Ok(ControlFlow::Continue(()));
        };
        if row_is_left_out(&row) {
            return Ok(ControlFlow::Continue(()));
        }
        match crate::replay::apply_marked(fold, &row, watch, &mut named) {
            Ok(()) => {
                if keeps(&row) {
                    out.push(&row, Ok(&fold.state()))?;
                }
            }
            Err(e) => {
                let why = e.to_string();
                done.failed += 1;
                if done.failures.len() < 3 {
                    done.failures.push(why.clone());
                }
                out.push(&row, Err(why))?;
                *slot = None;
            }
        }
        Ok(ControlFlow::Continue(()))
    })?;
    progress(folded);
    Ok(done)
}

/// Rows whose version is not an integer take no part in replays, as everywhere else.
fn row_is_left_out(row: &StreamRow) -> bool {
    matches!(row, StreamRow::Event(e) if e.bad_version.is_some())
}

//! Folding a stream event by event with a look at the state after each one: what blame,
//! when and what-if are built on. Unlike `Replayer` seeks, a walk keeps no checkpoints;
//! it costs one pass over the events it folds.

use std::collections::{BTreeSet, HashSet};
use std::ops::{ControlFlow, RangeInclusive};

use jaq_json::Val;
use serde_json::Value;

use super::jq::{self, JqProgram};
use super::{Fold, Program, Reducer, ReplayError, Result, Watch};
use crate::fast_paths::FastPath;
use crate::store::{Columns, EventSource, SourceExt, StreamRow};

/// Events a what-if replay leaves out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Skips {
    pub versions: BTreeSet<i64>,
    pub types: HashSet<String>,
}

impl Skips {
    pub fn is_empty(&self) -> bool {
        self.versions.is_empty() && self.types.is_empty()
    }

    pub fn skips(&self, version: i64, event_type: &str) -> bool {
        self.versions.contains(&version) || self.types.contains(event_type)
    }

    /// The first version a skip can touch: by version, the lowest; by type, any.
    pub fn first_version(&self) -> Option<i64> {
        if !self.types.is_empty() {
            return Some(i64::MIN);
        }
        self.versions.first().copied()
    }
}

/// What a walk folds with: the store, the reducer and, optionally, its watchdog.
#[derive(Clone, Copy)]
pub struct Walk<'r> {
    pub store: &'r dyn EventSource,
    pub reducer: &'r Reducer,
    pub watch: Option<&'r Watch>,
}

impl<'r> Walk<'r> {
    /// Folds `stream` over `versions`, starting from `start`, leaving out what `skips`
    /// names, and hands each applied event and the fold after it to `after`, which reads
    /// the row's version and type, and of its other columns only those in `reads` (the
    /// reducer's own are read anyway).
    pub fn run(
        self,
        stream: &str,
        start: Value,
        versions: RangeInclusive<i64>,
        skips: &Skips,
        reads: Columns,
        after: impl FnMut(&StreamRow, &Fold) -> Result<ControlFlow<()>>,
    ) -> Result<Fold<'r>> {
        walk(self, stream, start, (versions, reads), skips, after)
    }
}

/// Applies `row` to a fold of one of many streams read together (a category), the call
/// marked on `watch`; `named` is the stream the watch was last told of, so it is told
/// again only when the stream changes.
pub fn apply_marked(
    fold: &mut Fold,
    row: &StreamRow,
    watch: Option<&Watch>,
    named: &mut String,
) -> Result<()> {
    let Some(w) = watch else {
        return fold.apply_row(row);
    };
    if named != row.stream_id() {
        named.clear();
        named.push_str(row.stream_id());
        w.fold(fold.program_name(), row.stream_id());
    }
    w.begin(row.version(), row.event_type());
    let applied = fold.apply_row(row);
    w.end();
    applied
}

fn walk<'r>(
    w: Walk<'r>,
    stream: &str,
    start: Value,
    (versions, reads): (RangeInclusive<i64>, Columns),
    skips: &Skips,
    mut after: impl FnMut(&StreamRow, &Fold) -> Result<ControlFlow<()>>,
) -> Result<Fold<'r>> {
    let Walk {
        store,
        reducer,
        watch,
    } = w;
    let category = store.stream_category(stream)?;
    // Any failure ends the walk.
    let mut fold = reducer.start(&category, start).stop_on_error();
    if let Some(w) = watch {
        w.fold(fold.program_name(), stream);
    }
    let columns = fold.columns().union(reads);
    store.read_stream_rows(stream, versions, columns, |row| {
        let v = row.version();
        if skips.skips(v, row.event_type()) {
            return Ok(ControlFlow::Continue(()));
        }
        if let Some(w) = watch {
            w.begin(v, row.event_type());
        }
        let applied = fold.apply_row(&row);
        if let Some(w) = watch {
            w.end();
        }
        applied?;
        after(&row, &fold)
    })?;
    Ok(fold)
}

/// A jq predicate over the state, with `$event` bound to the event just applied.
pub struct Predicate {
    program: JqProgram,
    native: Option<super::native_predicate::NativePredicate>,
    keys: Box<jq::EnvelopeKeys>,
    /// The program's text, as reports name it.
    pub code: String,
}

/// What a predicate said of one state.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Holds,
    Fails,
    /// The predicate raised an error there (a missing field, say).
    Error(String),
    /// It gave something other than a boolean: its JSON type and value, and whether jq
    /// counts it as true (anything but `null`).
    NotBoolean(String, bool),
}

impl Predicate {
    pub fn compile(code: &str) -> Result<Predicate> {
        let program =
            JqProgram::compile("predicate", code).map_err(|message| ReplayError::Load {
                path: "predicate".into(),
                message,
            })?;
        Ok(Predicate {
            program,
            native: super::native_predicate::recognise(code),
            keys: Box::default(),
            code: crate::event::fit(code, 80),
        })
    }

    /// The columns the predicate reads of `$event`.
    pub fn columns(&self) -> Columns {
        match &self.native {
            Some(n) if !n.reads_event() && FastPath::Predicate.on() => Columns::NONE,
            _ => self.program.fields.columns(),
        }
    }

    /// [`Predicate::test`], the call marked on `watch` as a predicate's.
    pub fn guarded_test(&self, row: &StreamRow, fold: &Fold, watch: Option<&Watch>) -> Verdict {
        let Some(w) = watch else {
            return self.test(row, fold);
        };
        w.begin_as(Program::Predicate, row.version(), row.event_type());
        let verdict = self.test(row, fold);
        w.end();
        verdict
    }

    /// Whether the predicate holds for the fold's state after `row`: jq's truth (anything
    /// but `false` and `null`).
    pub fn test(&self, row: &StreamRow, fold: &Fold) -> Verdict {
        if let Some(n) = self.native.as_ref().filter(|_| FastPath::Predicate.on()) {
            let event = n.reads_event().then(|| self.event_of(row));
            match n.judge(&fold.val(), event.as_ref()) {
                Some(true) => return Verdict::Holds,
                Some(false) => return Verdict::Fails,
                None => {}
            }
        }
        self.test_val(fold.val(), self.event_of(row))
    }

    fn event_of(&self, row: &StreamRow) -> Val {
        match row {
            StreamRow::Raw(raw) => jq::raw_event_val(raw, &self.keys, &self.program.shape()),
            StreamRow::Event(e) => jq::event_val(e, self.program.fields),
        }
    }

    /// [`Predicate::test`] for a decoded event.
    pub fn test_event(&self, event: &crate::Event, fold: &Fold) -> Verdict {
        self.test_val(fold.val(), jq::event_val(event, self.program.fields))
    }

    pub fn test_val(&self, state: Val, event: Val) -> Verdict {
        match self.program.first_output(state, event) {
            Ok(Some(Val::Bool(true))) => Verdict::Holds,
            Ok(Some(Val::Bool(false))) => Verdict::Fails,
            Ok(Some(other)) => {
                let value = jq::from_val(&other);
                let kind = match &value {
                    Value::Null => "null",
                    Value::Number(_) => "a number",
                    Value::String(_) => "a string",
                    Value::Array(_) => "an array",
                    Value::Object(_) => "an object",
                    Value::Bool(_) => "a boolean",
                };
                let shown = crate::event::fit(&value.to_string(), 40);
                Verdict::NotBoolean(format!("{kind} ({shown})"), !value.is_null())
            }
            Ok(None) => Verdict::Error("the predicate gave no output (empty)".into()),
            Err(e) => Verdict::Error(e),
        }
    }
}

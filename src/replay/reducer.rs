//! Reducers: a jq program per category, one for every stream, or the built-in merge.

use std::collections::HashMap;
use std::path::Path;

use jaq_json::Val;
use serde_json::Value;

use super::jq::{self, JqProgram};
use super::{ReplayError, Result};
use crate::event::Event;
use crate::store::{Columns, StreamRow};

/// What every view of a merge state says.
pub const MERGE_LABEL: &str =
    "built-in merge (each event's data deep-merged; a guess: pass --reducer for your fold)";

/// How events become state.
pub enum Reducer {
    /// Deep-merges each event's `data` object into the state (jq's `*`).
    Merge,
    /// One jq program for every stream.
    Jq(JqProgram),
    /// A folder of `<category>.jq` files; `default.jq`, else the merge, for the rest.
    PerCategory {
        programs: HashMap<String, JqProgram>,
        default: Option<JqProgram>,
    },
}

impl Reducer {
    /// Loads a `.jq` file, or a folder of `<category>.jq` files.
    pub fn load(path: &Path) -> Result<Reducer> {
        let load_err = |message: String| ReplayError::Load {
            path: path.to_path_buf(),
            message,
        };
        let meta = std::fs::metadata(path).map_err(|e| load_err(e.to_string()))?;
        if !meta.is_dir() {
            return Ok(Reducer::Jq(compile_file(path)?));
        }
        let mut programs = HashMap::new();
        let mut default = None;
        let entries = std::fs::read_dir(path).map_err(|e| load_err(e.to_string()))?;
        for entry in entries {
            let file = entry.map_err(|e| load_err(e.to_string()))?.path();
            if file.extension().is_none_or(|x| x != "jq") {
                continue;
            }
            let Some(stem) = file.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            // `<category>.snapshot.jq` maps snapshots, it is no reducer (see SnapshotMaps).
            if stem.ends_with(".snapshot") {
                continue;
            }
            let program = compile_file(&file)?;
            if stem == "default" {
                default = Some(program);
            } else {
                programs.insert(stem.to_string(), program);
            }
        }
        if programs.is_empty() && default.is_none() {
            return Err(load_err("the folder holds no .jq files".into()));
        }
        Ok(Reducer::PerCategory { programs, default })
    }

    /// [`Reducer::load`] of a path, or the built-in merge without one; a reducer named by
    /// the store's defaults (`origin`) says so in every program's name, and so in every
    /// header and message.
    pub fn load_named(path: Option<&Path>, origin: Option<&str>) -> Result<Reducer> {
        let Some(path) = path else {
            return Ok(Reducer::Merge);
        };
        let mut reducer = Reducer::load(path)?;
        if let Some(origin) = origin {
            let rename =
                |p: &mut JqProgram| p.name = crate::project::named_from(&p.name, Some(origin));
            match &mut reducer {
                Reducer::Merge => {}
                Reducer::Jq(p) => rename(p),
                Reducer::PerCategory { programs, default } => {
                    programs.values_mut().for_each(rename);
                    default.iter_mut().for_each(rename);
                }
            }
        }
        Ok(reducer)
    }

    /// The jq program that folds streams of `category`, or `None` for the built-in merge.
    pub fn program_for(&self, category: &str) -> Option<&JqProgram> {
        match self {
            Reducer::Merge => None,
            Reducer::Jq(p) => Some(p),
            Reducer::PerCategory { programs, default } => {
                programs.get(category).or(default.as_ref())
            }
        }
    }

    /// A human name for what folds streams of `category`. The built-in merge says what it
    /// is and how to replace it: deep merge is a fair default only for events that carry
    /// full values, and most stores carry changes.
    pub fn describe(&self, category: &str) -> String {
        self.program_for(category)
            .map_or_else(|| MERGE_LABEL.to_string(), |p| p.name.clone())
    }

    /// The costlier columns any of its programs reads (`Fold::columns` for one category).
    pub fn columns(&self) -> Columns {
        match self {
            Reducer::Merge => Columns::NONE,
            Reducer::Jq(p) => p.fields.columns(),
            Reducer::PerCategory { programs, default } => programs
                .values()
                .chain(default)
                .fold(Columns::NONE, |c, p| c.union(p.fields.columns())),
        }
    }

    /// Whether streams of `category` are folded by the built-in merge.
    pub fn is_merge_for(&self, category: &str) -> bool {
        self.program_for(category).is_none()
    }

    /// Starts folding a stream of `category` from `state`.
    pub fn start(&self, category: &str, state: Value) -> Fold<'_> {
        match self.program_for(category) {
            None => Fold::Merge(state),
            Some(p) => Fold::Jq(p, jq::to_val(&state), Box::default()),
        }
    }
}

/// What a jq fold keeps between events besides its state.
pub struct JqAux {
    pub keys: jq::EnvelopeKeys,
    /// Keep the state as it was when an event fails (a copy per event), for folds that go
    /// on past failures; otherwise the state is moved into jaq and lost on an error.
    pub keep_on_error: bool,
}

impl Default for JqAux {
    fn default() -> Self {
        JqAux {
            keys: jq::EnvelopeKeys::default(),
            keep_on_error: true,
        }
    }
}

impl Fold<'_> {
    /// The jq program's name, as reports give it; empty for the built-in merge.
    pub fn program_name(&self) -> &str {
        match self {
            Fold::Jq(p, ..) => &p.name,
            Fold::Merge(_) => "",
        }
    }

    /// For folds that stop at the first failure: the state is moved into each jq call
    /// instead of copied, and is not kept when an event fails.
    pub fn stop_on_error(mut self) -> Self {
        if let Fold::Jq(_, _, aux) = &mut self {
            aux.keep_on_error = false;
        }
        self
    }
}

pub(super) fn compile_file(path: &Path) -> Result<JqProgram> {
    let what = if path.to_string_lossy().ends_with(".snapshot.jq") {
        "snapshot mapping"
    } else {
        "jq program"
    };
    let code = crate::files::read_bounded_text(path, crate::files::PROGRAM_LIMIT, what).map_err(
        |message| ReplayError::Load {
            path: path.to_path_buf(),
            message,
        },
    )?;
    JqProgram::compile(&path.display().to_string(), &code).map_err(|message| ReplayError::Load {
        path: path.to_path_buf(),
        message,
    })
}

/// A fold in progress. jq state stays in jaq's own value type between events, so a long
/// replay converts only at its ends.
pub enum Fold<'r> {
    Merge(Value),
    Jq(&'r JqProgram, Val, Box<JqAux>),
}

impl Fold<'_> {
    /// Applies one event. On error the state stays as it was before the event, unless the
    /// fold was made to `stop_on_error`.
    pub fn apply(&mut self, event: &Event) -> Result<()> {
        match self {
            Fold::Merge(state) => {
                merge(state, &event.data);
                Ok(())
            }
            Fold::Jq(program, state, aux) => program
                .apply_event(
                    state,
                    |shape| jq::event_val(event, shape.fields),
                    &event.event_type,
                    within_depth,
                    aux.keep_on_error,
                )
                .map_err(|message| ReplayError::Reducer {
                    reducer: program.name.clone(),
                    stream: event.stream_id.clone(),
                    version: event.version,
                    event_type: event.event_type.clone(),
                    message,
                }),
        }
    }

    /// Merges a raw JSON payload; payloads that are not JSON objects change nothing, as in
    /// [`merge`].
    pub fn merge_payload(&mut self, data: &[u8]) -> Result<()> {
        if let Fold::Merge(state) = self {
            // The same decoding the envelope gets: JSON, or zlib-compressed JSON.
            if let Ok(patch) = crate::store::decode_payload(data, crate::store::Decoder::Json) {
                merge_owned(state, patch);
            }
        }
        Ok(())
    }

    /// The costlier columns this fold reads: a jq reducer's `$event` fields, none for
    /// the merge.
    pub fn columns(&self) -> Columns {
        match self {
            Fold::Merge(_) => Columns::NONE,
            Fold::Jq(program, ..) => program.fields.columns(),
        }
    }

    /// Applies one row as the store hands it out; raw rows take the fast path.
    pub fn apply_row(&mut self, row: &StreamRow) -> Result<()> {
        let raw = match row {
            StreamRow::Event(e) => return self.apply(e),
            StreamRow::Raw(raw) => raw,
        };
        match self {
            Fold::Merge(_) => self.merge_payload(raw.data),
            Fold::Jq(program, state, aux) => program
                .apply_event(
                    state,
                    |shape| jq::raw_event_val(raw, &aux.keys, shape),
                    raw.event_type,
                    within_depth,
                    aux.keep_on_error,
                )
                .map_err(|message| ReplayError::Reducer {
                    reducer: program.name.clone(),
                    stream: raw.stream_id.to_string(),
                    version: raw.version,
                    event_type: raw.event_type.to_string(),
                    message,
                }),
        }
    }

    /// The state as a jaq value: a jq fold's own, shared (its parts are reference-counted,
    /// so this copies nothing), a merge's converted.
    pub fn val(&self) -> jaq_json::Val {
        match self {
            Fold::Jq(_, state, _) => state.clone(),
            Fold::Merge(state) => jq::to_val(state),
        }
    }

    pub fn state(&self) -> Value {
        match self {
            Fold::Merge(state) => state.clone(),
            Fold::Jq(_, state, _) => jq::from_val(state),
        }
    }

    pub fn into_state(self) -> Value {
        match self {
            Fold::Merge(state) => state,
            Fold::Jq(_, state, _) => jq::from_val(&state),
        }
    }
}

/// A new state, unless it nests too deep to convert, compare, print or drop safely.
fn within_depth(state: Val) -> Result<Val, String> {
    if jq::depth_within(&state, jq::MAX_STATE_DEPTH) {
        Ok(state)
    } else {
        Err(jq::too_deep())
    }
}

/// Deep-merges `patch` into `state` as jq's `*` does: objects merge key by key, anything
/// else replaces. A `patch` that is not an object leaves `state` alone, since events whose
/// data is not an object say nothing about the aggregate's fields.
pub fn merge(state: &mut Value, patch: &Value) {
    merge_owned(state, patch.clone());
}

/// [`merge`] for a patch the caller no longer needs: values move instead of being copied.
pub fn merge_owned(state: &mut Value, patch: Value) {
    let Value::Object(patch) = patch else {
        return;
    };
    if !state.is_object() {
        *state = Value::Object(Default::default());
    }
    let Value::Object(target) = state else {
        return;
    };
    for (k, v) in patch {
        match target.get_mut(&k) {
            Some(existing) if existing.is_object() && v.is_object() => merge_owned(existing, v),
            _ => {
                target.insert(k, v);
            }
        }
    }
}

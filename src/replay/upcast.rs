//! Upcasters: jq programs from a stored event to its current shape. `<Type>.jq` in a folder
//! (`upcasters/` beside the store, or `--upcasters DIR`) upcasts every event of that type;
//! `<Type>.v<N>.jq` only those stored with schema version N, and goes first. Each program's
//! input (and `$event`) is the stored envelope; its output is the envelope every view then
//! sees. An upcaster may change `type`, `data`, `metadata` and `schema_version`; the place of
//! an event (stream, version, position, id, time) is the store's, and changing it is an
//! error. Each call runs under the one guard (`Program::Upcaster`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::jq::{self, JqProgram};
use super::{Program, ReplayError, Result, Watch};
use crate::Event;

struct Upcaster {
    /// The file's name, as envelopes and reports name it (`Deposited.v1.jq`).
    file: String,
    program: JqProgram,
}

/// The folder's upcasters by event type: the unversioned one, and those by schema version.
pub struct Upcasters {
    dir: PathBuf,
    by_type: HashMap<String, (Option<Upcaster>, HashMap<String, Upcaster>)>,
    count: usize,
}

/// `Deposited.v2` → (`Deposited`, Some("2")); `Deposited` → (`Deposited`, None).
fn split_version(stem: &str) -> (&str, Option<&str>) {
    if let Some((ty, v)) = stem.rsplit_once(".v") {
        if !ty.is_empty() && !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
            return (ty, Some(v));
        }
    }
    (stem, None)
}

/// The envelope keys an upcaster may not change: where the event is in the store.
const PLACE: [&str; 5] = [
    "stream_id",
    "version",
    "global_position",
    "event_id",
    "timestamp",
];

impl Upcasters {
    /// Every `*.jq` file in `dir`, compiled; a file that does not compile is an error that
    /// names it.
    pub fn load(dir: &Path) -> Result<Upcasters> {
        let fail = |m: String| ReplayError::Program(format!("upcasters {}: {m}", dir.display()));
        let meta = std::fs::metadata(dir).map_err(|e| fail(e.to_string()))?;
        if !meta.is_dir() {
            return Err(fail(
                "not a folder (give the folder of <Type>.jq files)".into(),
            ));
        }
        let mut by_type: HashMap<String, (Option<Upcaster>, HashMap<String, Upcaster>)> =
            HashMap::new();
        let mut count = 0;
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| fail(e.to_string()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "jq"))
            .collect();
        files.sort();
        for path in files {
            let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            let file = format!("{stem}.jq");
            let code =
                crate::files::read_bounded_text(&path, crate::files::PROGRAM_LIMIT, "upcaster")
                    .map_err(|m| {
                        ReplayError::Program(format!("upcaster {}: {m}", path.display()))
                    })?;
            let program = JqProgram::compile(&file, &code)
                .map_err(|m| ReplayError::Program(format!("upcaster {}: {m}", path.display())))?;
            let (ty, version) = split_version(stem);
            let entry = by_type.entry(ty.to_string()).or_default();
            let upcaster = Upcaster { file, program };
            match version {
                Some(v) => {
                    entry.1.insert(v.to_string(), upcaster);
                }
                None => entry.0 = Some(upcaster),
            }
            count += 1;
        }
        Ok(Upcasters {
            dir: dir.to_path_buf(),
            by_type,
            count,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// How many upcaster files there are.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Whether events of this type may be upcast (by some schema version or all).
    pub fn has_type(&self, event_type: &str) -> bool {
        self.by_type.contains_key(event_type)
    }

    /// The types that have upcasters, sorted.
    pub fn types(&self) -> Vec<&str> {
        let mut t: Vec<&str> = self.by_type.keys().map(String::as_str).collect();
        t.sort_unstable();
        t
    }

    fn for_event(&self, event: &Event) -> Option<&Upcaster> {
        let (any, versioned) = self.by_type.get(&event.event_type)?;
        let by_version = event
            .schema_version
            .as_deref()
            .and_then(|v| versioned.get(v.trim()));
        by_version.or(any.as_ref())
    }

    /// The upcaster's file that applies to `event`, if one does.
    pub fn file_for(&self, event: &Event) -> Option<&str> {
        self.for_event(event).map(|u| u.file.as_str())
    }

    /// `event` as its upcaster makes it (marked `upcast` where it changed), or as stored
    /// where none applies.
    /// The call is marked on `watch` as an upcaster's.
    pub fn apply(&self, event: Event, watch: Option<&Watch>) -> Result<Event> {
        let Some(u) = self.for_event(&event) else {
            return Ok(event);
        };
        let fail = |e: &Event, message: String| ReplayError::Upcaster {
            upcaster: u.file.clone(),
            stream: e.stream_id.clone(),
            version: e.version,
            event_type: e.event_type.clone(),
            message,
        };
        // The envelope once as JSON: the program's input, and what the place is checked by.
        let stored = serde_json::to_value(&event).unwrap_or(Value::Null);
        let envelope = jq::to_val(&stored);
        if let Some(w) = watch {
            w.name(Program::Upcaster, &u.file);
            w.stream(&event.stream_id);
            w.begin_as(Program::Upcaster, event.version, &event.event_type);
        }
        let out = u.program.first_output(envelope.clone(), envelope);
        if let Some(w) = watch {
            w.end();
        }
        let out = match out {
            Ok(Some(v)) => jq::from_val(&v),
            Ok(None) => return Err(fail(&event, "it gave no output (empty)".into())),
            Err(e) => return Err(fail(&event, e)),
        };
        let Value::Object(mut out) = out else {
            return Err(fail(
                &event,
                "its output is not an envelope (an object)".into(),
            ));
        };
        for key in PLACE {
            if let Some(v) = out.get(key).filter(|v| Some(*v) != stored.get(key)) {
                return Err(fail(
                    &event,
                    format!("it changed {key} (to {v}); an upcaster changes only type, data, metadata and schema_version"),
                ));
            }
        }
        // An upcaster that leaves the event as it was (one already in the newest shape)
        // has not upcast it.
        let mut changed = false;
        let mut e = event;
        if let Some(t) = out.remove("type") {
            let Value::String(t) = t else {
                return Err(fail(&e, format!("its type is {t}, not a string")));
            };
            changed |= e.event_type != t;
            e.event_type = t;
        }
        if let Some(d) = out.remove("data") {
            changed |= e.data != d;
            e.data = d;
        }
        if let Some(m) = out.remove("metadata") {
            changed |= e.metadata != m;
            e.metadata = m;
        }
        if let Some(v) = out.remove("schema_version") {
            let v = match v {
                Value::Null => None,
                Value::String(s) => Some(s),
                other => Some(other.to_string()),
            };
            changed |= e.schema_version != v;
            e.schema_version = v;
        }
        if changed {
            e.upcast = true;
            e.upcaster = Some(u.file.clone());
        }
        Ok(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_split_off_only_when_they_are_numbers() {
        assert_eq!(split_version("Deposited.v2"), ("Deposited", Some("2")));
        assert_eq!(split_version("Deposited"), ("Deposited", None));
        assert_eq!(split_version("app.events.v2x"), ("app.events.v2x", None));
        assert_eq!(split_version(".v1"), (".v1", None));
    }
}

//! Whether replays may start from the store's snapshots, and how a stored snapshot becomes
//! a reducer's state. A snapshot holds the application's aggregate in the application's
//! shape; folding events onto it as if it were the reducer's state gives states that exist
//! nowhere, so replay starts from the first event unless the user opts in with a mapping.

use std::collections::HashMap;
use std::path::Path;

use serde_json::{json, Value};

use super::jq::{self, JqProgram};
use super::{Program, Reducer, ReplayError, Result, Watch};
use crate::store::{EventSource, Layout, Snapshot};

/// jq programs from a stored snapshot (input) to the reducer's state (output):
/// `<category>.snapshot.jq` beside the reducers, or one `--snapshot-map` file for all.
#[derive(Default)]
pub struct SnapshotMaps {
    per_category: HashMap<String, JqProgram>,
    all: Option<JqProgram>,
}

impl SnapshotMaps {
    /// Reads `<category>.snapshot.jq` files from the reducer folder (if `reducer` is one)
    /// and the `--snapshot-map` file (which wins for every category).
    pub fn load(reducer: Option<&Path>, map_file: Option<&Path>) -> Result<SnapshotMaps> {
        let mut maps = SnapshotMaps::default();
        if let Some(dir) = reducer.filter(|p| p.is_dir()) {
            let load_err = |message: String| ReplayError::Load {
                path: dir.to_path_buf(),
                message,
            };
            for entry in std::fs::read_dir(dir).map_err(|e| load_err(e.to_string()))? {
                let file = entry.map_err(|e| load_err(e.to_string()))?.path();
                let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if let Some(category) = name.strip_suffix(".snapshot.jq") {
                    maps.per_category
                        .insert(category.to_string(), super::reducer::compile_file(&file)?);
                }
            }
        }
        if let Some(file) = map_file {
            maps.all = Some(super::reducer::compile_file(file)?);
        }
        Ok(maps)
    }

    pub fn is_empty(&self) -> bool {
        self.per_category.is_empty() && self.all.is_none()
    }

    /// The mapping for streams of `category`.
    pub fn for_category(&self, category: &str) -> Option<&JqProgram> {
        self.all.as_ref().or_else(|| {
            self.per_category
                .get(category)
                .or_else(|| self.per_category.get("default"))
        })
    }
}

/// Where a replay may start.
pub enum SnapshotUse {
    /// From the first event: the default.
    Never,
    /// From the newest snapshot whose category has a mapping.
    Mapped(Box<SnapshotMaps>),
    /// From snapshots as stored: allowed for a native store with a user reducer, whose
    /// application presumably saves the reducer's own state.
    AsStored,
}

impl SnapshotUse {
    /// What `--from-snapshots` (`wanted`) may do on this store with this reducer.
    pub fn decide(
        wanted: bool,
        store: &dyn EventSource,
        reducer: &Reducer,
        maps: SnapshotMaps,
    ) -> Result<SnapshotUse, String> {
        if !wanted {
            return Ok(SnapshotUse::Never);
        }
        if !maps.is_empty() {
            return Ok(SnapshotUse::Mapped(Box::new(maps)));
        }
        if store.layout() == Layout::Native && !matches!(reducer, Reducer::Merge) {
            return Ok(SnapshotUse::AsStored);
        }
        Err(
            "--from-snapshots needs a mapping from the stored snapshot to the reducer's state: \
             a <category>.snapshot.jq beside the reducers, or --snapshot-map FILE \
             (stored snapshots hold the application's aggregate, not the reducer's state)"
                .into(),
        )
    }

    pub fn enabled(&self) -> bool {
        !matches!(self, SnapshotUse::Never)
    }

    /// The reducer state a snapshot stands for, or why it cannot be used. `None` when the
    /// category has no mapping.
    pub fn state_from(
        &self,
        category: &str,
        snapshot: &Snapshot,
        watch: Option<&Watch>,
    ) -> Option<Result<Value, String>> {
        match self {
            SnapshotUse::Never => None,
            SnapshotUse::AsStored => Some(Ok(snapshot.data.clone())),
            SnapshotUse::Mapped(maps) => {
                let program = maps.for_category(category)?;
                Some(map_snapshot(program, snapshot, watch))
            }
        }
    }
}

/// Runs a mapping with the snapshot's content as input and `$event` bound to where it
/// was taken (`stream_id`, `version`, `topic`, `created_at`).
/// The call is marked on `watch` as a snapshot mapping's, so one that loops or grows
/// without end is stopped like a reducer.
pub fn map_snapshot(
    program: &JqProgram,
    snapshot: &Snapshot,
    watch: Option<&Watch>,
) -> Result<Value, String> {
    let about = json!({
        "stream_id": snapshot.stream_id,
        "version": snapshot.version,
        "topic": snapshot.topic,
        "created_at": snapshot.created_at,
    });
    if let Some(w) = watch {
        w.name(Program::Mapping, &program.name);
        w.stream(&snapshot.stream_id);
        w.begin_as(Program::Mapping, snapshot.version, "its snapshot");
    }
    let mapped = program.run(jq::to_val(&snapshot.data), jq::to_val(&about));
    if let Some(w) = watch {
        w.end();
    }
    mapped
        .map(|v| jq::from_val(&v))
        .map_err(|e| format!("snapshot mapping {}: {e}", program.name))
}

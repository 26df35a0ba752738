//! Replay: folding a stream's events into state with a reducer, seeking to any version or
//! time through checkpoints, and comparing two states.

mod blame;
mod category;
pub mod compare;
mod diff;
mod dispatch;
mod event_fields;
pub mod field_path;
pub mod fixture;
pub mod history;
mod jq;
mod native;
mod native_predicate;
pub mod read_model;
mod reducer;
mod search;
mod seek;
mod snapshot_use;
mod targeted_read;
pub mod upcast;
pub mod upcast_check;
pub mod upcast_source;
mod walk;
mod watch;
mod when;

use std::path::PathBuf;

pub use blame::{blame, BlameLine};
pub use category::{category_at, category_at_position, CategoryGuard, StreamState};
pub use diff::{diff, Change, Op};
/// For the fuzz targets: how jq reducers read a raw payload.
#[doc(hidden)]
pub use jq::parse_bounded as parse_payload_for_jq;
pub use jq::JqProgram;
pub use reducer::{merge, Fold, Reducer, MERGE_LABEL};
pub use search::EventTest;
pub use seek::{Replayer, SeekOptions, SeekProgress, Traced, PROGRESS_EVERY};
pub use snapshot_use::{map_snapshot, SnapshotMaps, SnapshotUse};
/// For the fuzz targets: the targeted payload read checked against the whole parse.
#[doc(hidden)]
pub use targeted_read::check_against_whole as check_targeted_read;
pub use walk::{apply_marked, Predicate, Skips, Verdict, Walk};
pub use watch::{last_call, stack_for, Program, TimedOut, Watch};
pub use when::{category_streams, when, when_category, Hit, WhenOptions};

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("reducer {path}: {message}")]
    Load { path: PathBuf, message: String },
    #[error("reducer {reducer} failed at {stream} version {version} ({event_type}): {message}")]
    Reducer {
        reducer: String,
        stream: String,
        version: i64,
        event_type: String,
        message: String,
    },
    #[error("upcaster {upcaster} failed at {stream} version {version} ({event_type}): {message}")]
    Upcaster {
        upcaster: String,
        stream: String,
        version: i64,
        event_type: String,
        message: String,
    },
    #[error("predicate `{code}` failed at {stream} version {version} ({event_type}): {message}")]
    Predicate {
        code: String,
        stream: String,
        version: i64,
        event_type: String,
        message: String,
    },
    #[error("stream {0} not found")]
    NoStream(String),
    /// A jq program given on the command line that does not compile.
    #[error("{0}")]
    Program(String),
    #[error("{stream} ends at version {last}; version {version} does not exist")]
    OutOfRange {
        stream: String,
        version: i64,
        last: i64,
    },
}

pub type Result<T, E = ReplayError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests;

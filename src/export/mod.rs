//! Events and replayed states as Parquet files, for SQL engines (DuckDB, Polars, Spark,
//! ClickHouse) to query: the envelope's fields as columns, and each state's top-level
//! scalar fields as typed columns beside its JSON.

mod columns;
mod decimal;
mod event_rows;
mod parquet_dir;
mod state_fields;
mod state_rows;

pub use event_rows::EventWriter;
pub use parquet_dir::ParquetDir;
pub use state_rows::{write_states, StateWriter, StatesDone};

use std::path::PathBuf;

/// Rows gathered before they are written as one row group, unless their bytes reach
/// [`GROUP_BYTES`] first: what bounds an export's memory.
pub const GROUP_ROWS: usize = 65_536;
pub const GROUP_BYTES: usize = 64 << 20;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Replay(#[from] crate::replay::ReplayError),
    #[error("writing Parquet: {0}")]
    Parquet(String),
    #[error("writing {}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
}

impl From<parquet::errors::ParquetError> for ExportError {
    fn from(e: parquet::errors::ParquetError) -> Self {
        match e {
            parquet::errors::ParquetError::External(inner) => {
                match inner.downcast::<std::io::Error>() {
                    Ok(io) => ExportError::Parquet(io.to_string()),
                    Err(other) => ExportError::Parquet(other.to_string()),
                }
            }
            other => ExportError::Parquet(other.to_string()),
        }
    }
}

/// A time as a Parquet column takes it: the instant, and the fraction digits the store
/// wrote it with (at most 9). `text` is in the envelope's form (`time::normalise`).
fn instant(text: &str) -> Option<(chrono::DateTime<chrono::Utc>, usize)> {
    let t = crate::time::parse_stored(text)?;
    let digits = text
        .split_once('.')
        .map_or(0, |(_, f)| f.bytes().take_while(u8::is_ascii_digit).count());
    Some((t, digits.min(9)))
}

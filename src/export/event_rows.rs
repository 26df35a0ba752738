//! `events-*.parquet`: one row per event, the envelope's fields as columns.

use std::path::PathBuf;

use super::columns::{unit_digits, Cell, Column, Kind};
use super::{instant, ExportError, ParquetDir, GROUP_BYTES};
use crate::Event;

/// The columns, in order: name, kind, never null. `time` is the instant (in the unit the
/// stored fraction needs), `timestamp` the envelope's text, kept where it is no time.
const COLUMNS: [(&str, Kind, bool); 17] = [
    ("position", Kind::Int, true),
    ("stream", Kind::Text, true),
    ("version", Kind::Int, true),
    ("event_id", Kind::Text, true),
    ("type", Kind::Text, true),
    ("category", Kind::Text, true),
    ("time", Kind::Time(3), false),
    ("timestamp", Kind::Text, false),
    ("data", Kind::Json, true),
    ("metadata", Kind::Json, true),
    ("schema_version", Kind::Text, false),
    ("topic", Kind::Text, false),
    ("original_position", Kind::Int, false),
    ("bad_version", Kind::Text, false),
    ("undecodable", Kind::Text, false),
    ("link_of", Kind::Text, false),
    ("upcaster", Kind::Text, false),
];

const TIME: usize = 6;

pub struct EventWriter {
    dir: ParquetDir,
    columns: Vec<Column>,
    digits: usize,
    bytes: usize,
    rows: u64,
}

impl EventWriter {
    pub fn new(dir: ParquetDir) -> EventWriter {
        EventWriter {
            dir,
            columns: COLUMNS
                .iter()
                .map(|(name, kind, required)| Column::new(name, *kind, *required))
                .collect(),
            digits: 0,
            bytes: 0,
            rows: 0,
        }
    }

    pub fn push(&mut self, e: Event) -> Result<(), ExportError> {
        let text = |s: Option<String>| s.map_or(Cell::Null, Cell::Text);
        let time = e.timestamp.as_deref().and_then(instant);
        if let Some((_, digits)) = time {
            self.digits = self.digits.max(digits);
        }
        let data = serde_json::to_string(&e.data).unwrap_or_default();
        let metadata = serde_json::to_string(&e.metadata).unwrap_or_default();
        self.bytes += data.len() + metadata.len() + e.stream_id.len() + 64;
        let category = e.category().to_string();
        let cells = [
            Cell::Int(e.global_position),
            Cell::Text(e.stream_id),
            Cell::Int(e.version),
            Cell::Text(e.event_id),
            Cell::Text(e.event_type),
            Cell::Text(category),
            time.map_or(Cell::Null, |(t, _)| Cell::Time(t)),
            text(e.timestamp),
            Cell::Text(data),
            Cell::Text(metadata),
            text(e.schema_version),
            text(e.topic),
            e.original_position.map_or(Cell::Null, Cell::Int),
            text(e.bad_version),
            text(e.undecodable),
            text(e.link_of),
            text(e.upcaster),
        ];
        for (column, cell) in self.columns.iter_mut().zip(cells) {
            column.cells.push(cell);
        }
        self.rows += 1;
        if self.columns[0].cells.len() >= self.dir.group_rows() || self.bytes >= GROUP_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), ExportError> {
        // The open file's unit where it holds this group's times, so files split only
        // where finer times begin.
        let mut digits = unit_digits(self.digits);
        if let Some(Kind::Time(open)) = self.dir.open_columns().map(|c| c[TIME].1) {
            digits = digits.max(open);
        }
        self.columns[TIME].kind = Kind::Time(digits);
        self.dir.write_group(&mut self.columns)?;
        self.digits = 0;
        self.bytes = 0;
        Ok(())
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Writes what is gathered and closes the last file; the files, in order.
    pub fn finish(mut self) -> Result<Vec<PathBuf>, ExportError> {
        self.flush()?;
        self.dir.finish()
    }
}

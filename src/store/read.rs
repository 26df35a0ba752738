//! The read side: every query streams rows through a callback, so nothing holds a whole
//! stream or store in memory.

use std::ops::{ControlFlow, RangeInclusive};

use chrono::{DateTime, Utc};
use rusqlite::types::ValueRef;
use rusqlite::{params_from_iter, OptionalExtension, Row, ToSql};
use serde_json::Value;

use super::{Result, Snapshot, Store, StoreError, StreamInfo};
use crate::event::{category_of, Event};

const EVENT_COLUMNS: &str =
    "global_position, stream_id, version, event_id, event_type, data, metadata, timestamp";

/// Which part of the global log to read.
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    pub stream: Option<String>,
    pub event_type: Option<String>,
    /// First global position to include.
    pub from_position: i64,
    pub limit: Option<usize>,
}

impl Store {
    /// Every stream with its event count and last version, ordered by id.
    pub fn streams(&self) -> Result<Vec<StreamInfo>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT stream_id, COUNT(*), MAX(version) FROM events GROUP BY stream_id ORDER BY stream_id",
        )?;
        let rows = stmt.query_map([], stream_info)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The list entry of one stream, or `None` when it has no events.
    pub fn stream_info(&self, stream: &str) -> Result<Option<StreamInfo>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT stream_id, COUNT(*), MAX(version) FROM events WHERE stream_id = ?1 GROUP BY stream_id",
        )?;
        Ok(stmt.query_row([stream], stream_info).optional()?)
    }

    /// Reads a stream's events whose version lies in `versions`, in version order.
    pub fn read_stream<E: From<StoreError>>(
        &self,
        stream: &str,
        versions: RangeInclusive<i64>,
        mut f: impl FnMut(Event) -> Result<ControlFlow<()>, E>,
    ) -> Result<(), E> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = ?1 AND version BETWEEN ?2 AND ?3 ORDER BY version"
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(StoreError::from)?;
        let mut rows = stmt
            .query(rusqlite::params![stream, versions.start(), versions.end()])
            .map_err(StoreError::from)?;
        while let Some(row) = rows.next().map_err(StoreError::from)? {
            if f(event_from_row(row)?)?.is_break() {
                break;
            }
        }
        Ok(())
    }

    /// Reads a stream from its first event up to the last one stamped at or before `until`
    /// (go-mink's `LoadUntil`): reading stops at the first event stamped later.
    pub fn read_stream_until<E: From<StoreError>>(
        &self,
        stream: &str,
        until: DateTime<Utc>,
        mut f: impl FnMut(Event) -> Result<ControlFlow<()>, E>,
    ) -> Result<(), E> {
        self.read_stream(stream, 1..=i64::MAX, |event| {
            if is_after(&event.timestamp, until) {
                return Ok(ControlFlow::Break(()));
            }
            f(event)
        })
    }

    /// The version `read_stream_until` would stop at, found from timestamps alone;
    /// `None` when the stream's first event is later than `until` (or it has none).
    pub fn version_at_time(&self, stream: &str, until: DateTime<Utc>) -> Result<Option<i64>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT version, timestamp FROM events WHERE stream_id = ?1 ORDER BY version",
        )?;
        let mut rows = stmt.query([stream])?;
        let mut last = None;
        while let Some(row) = rows.next()? {
            let ts: String = row.get(1)?;
            if is_after(&ts, until) {
                break;
            }
            last = Some(row.get(0)?);
        }
        Ok(last)
    }

    /// Reads the global log in order, filtered.
    pub fn read_log<E: From<StoreError>>(
        &self,
        filter: &LogFilter,
        mut f: impl FnMut(Event) -> Result<ControlFlow<()>, E>,
    ) -> Result<(), E> {
        let (sql, params) = log_query(EVENT_COLUMNS, filter);
        let mut stmt = self.conn.prepare(&sql).map_err(StoreError::from)?;
        let mut rows = stmt
            .query(params_from_iter(params.iter()))
            .map_err(StoreError::from)?;
        while let Some(row) = rows.next().map_err(StoreError::from)? {
            if f(event_from_row(row)?)?.is_break() {
                break;
            }
        }
        Ok(())
    }

    /// Like `read_log`, but only each event's global position and timestamp: enough for
    /// time lookups and density charts, without reading payloads.
    pub fn for_each_timestamp(
        &self,
        filter: &LogFilter,
        mut f: impl FnMut(i64, &str) -> ControlFlow<()>,
    ) -> Result<()> {
        let (sql, params) = log_query("global_position, timestamp", filter);
        let mut stmt = self.conn.prepare(&sql)?;
        let mut rows = stmt.query(params_from_iter(params.iter()))?;
        while let Some(row) = rows.next()? {
            let ts = match row.get_ref(1)? {
                ValueRef::Text(b) => std::str::from_utf8(b).unwrap_or(""),
                _ => "",
            };
            if f(row.get(0)?, ts).is_break() {
                break;
            }
        }
        Ok(())
    }

    /// The highest global position in the store (0 when it is empty).
    pub fn last_position(&self) -> Result<i64> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT COALESCE(MAX(global_position), 0) FROM events")?;
        Ok(stmt.query_row([], |r| r.get(0))?)
    }

    /// The newest snapshot of `stream` taken at or before `version`, if the store keeps any.
    pub fn latest_snapshot(&self, stream: &str, version: i64) -> Result<Option<Snapshot>> {
        if !self.has_snapshots {
            return Ok(None);
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT version, data, created_at FROM snapshots
             WHERE stream_id = ?1 AND version <= ?2 ORDER BY version DESC LIMIT 1",
        )?;
        let row = stmt
            .query_row(rusqlite::params![stream, version], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get(2)?))
            })
            .optional()?;
        row.map(|(version, data, created_at)| {
            let data = serde_json::from_str(&data).map_err(|e| StoreError::BadJson {
                position: version,
                field: "snapshot data",
                message: e.to_string(),
            })?;
            Ok(Snapshot {
                stream_id: stream.to_string(),
                version,
                data,
                created_at,
            })
        })
        .transpose()
    }
}

fn log_query(columns: &str, filter: &LogFilter) -> (String, Vec<Box<dyn ToSql>>) {
    let mut sql = format!("SELECT {columns} FROM events WHERE global_position >= ?");
    let mut params: Vec<Box<dyn ToSql>> = vec![Box::new(filter.from_position)];
    if let Some(stream) = &filter.stream {
        sql.push_str(" AND stream_id = ?");
        params.push(Box::new(stream.clone()));
    }
    if let Some(ty) = &filter.event_type {
        sql.push_str(" AND event_type = ?");
        params.push(Box::new(ty.clone()));
    }
    sql.push_str(" ORDER BY global_position");
    if let Some(limit) = filter.limit {
        sql.push_str(&format!(" LIMIT {limit}"));
    }
    (sql, params)
}

fn is_after(timestamp: &str, until: DateTime<Utc>) -> bool {
    crate::time::parse_stored(timestamp).is_some_and(|t| t > until)
}

fn stream_info(row: &Row) -> rusqlite::Result<StreamInfo> {
    let stream_id: String = row.get(0)?;
    Ok(StreamInfo {
        category: category_of(&stream_id).to_string(),
        stream_id,
        events: row.get(1)?,
        last_version: row.get(2)?,
    })
}

pub(super) fn event_from_row(row: &Row) -> Result<Event> {
    let global_position: i64 = row.get(0)?;
    Ok(Event {
        global_position,
        stream_id: row.get(1)?,
        version: row.get(2)?,
        event_id: row.get(3)?,
        event_type: row.get(4)?,
        data: json_column(row, 5, global_position, "data")?,
        metadata: json_column(row, 6, global_position, "metadata")?,
        timestamp: row.get(7)?,
    })
}

fn json_column(row: &Row, idx: usize, position: i64, field: &'static str) -> Result<Value> {
    let bytes = match row.get_ref(idx)? {
        ValueRef::Text(b) | ValueRef::Blob(b) => b,
        ValueRef::Null => return Ok(Value::Null),
        ValueRef::Integer(i) => return Ok(Value::from(i)),
        ValueRef::Real(f) => return Ok(Value::from(f)),
    };
    serde_json::from_slice(bytes).map_err(|e| StoreError::BadJson {
        position,
        field,
        message: e.to_string(),
    })
}

//! The write side, used only by `demo`, `import` and library users: appends with optimistic
//! concurrency and snapshots, each batch in one transaction.

use std::collections::HashMap;
use std::fmt;

use rusqlite::{OptionalExtension, Transaction};
use serde_json::Value;

use super::{Result, Store, StoreError};
use crate::event::Event;

/// What the writer believes the stream's version to be; a mismatch is a conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// No check.
    Any,
    /// The stream must not exist yet.
    NoStream,
    /// The stream's last version must be exactly this.
    Exact(i64),
}

impl fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpectedVersion::Any => write!(f, "any version"),
            ExpectedVersion::NoStream => write!(f, "no stream"),
            ExpectedVersion::Exact(v) => write!(f, "version {v}"),
        }
    }
}

/// An event to append. Missing ids, timestamps and positions are filled in.
#[derive(Debug, Clone, Default)]
pub struct NewEvent {
    pub event_type: String,
    pub data: Value,
    pub metadata: Value,
    pub event_id: Option<String>,
    /// RFC 3339; now when missing, unless the writer keeps missing times (`import`).
    pub timestamp: Option<String>,
    /// Kept by `import`; the next free position when missing.
    pub global_position: Option<i64>,
    /// Kept by `import` (streams may count from 0); the next version when missing.
    pub version: Option<i64>,
    /// The full type name and the category, kept by `import` from layouts that have them.
    pub topic: Option<String>,
    pub category: Option<String>,
    /// A payload that is no JSON, stored as this text (an undecodable event, imported).
    pub raw_data: Option<String>,
    /// Kept by `import` from layouts that have them (see [`Event`]).
    pub schema_version: Option<String>,
    pub original_position: Option<i64>,
    pub undecodable: Option<String>,
}

impl NewEvent {
    pub fn new(event_type: impl Into<String>, data: Value) -> NewEvent {
        NewEvent {
            event_type: event_type.into(),
            data,
            metadata: Value::Object(Default::default()),
            ..Default::default()
        }
    }
}

impl Store {
    /// Starts a batch of writes that lands whole on [`Writer::commit`], or not at all.
    pub fn writer(&mut self) -> Result<Writer<'_>> {
        Ok(Writer {
            tx: self.conn.transaction()?,
            heads: HashMap::new(),
            stamp_missing: true,
        })
    }

    /// Appends `events` to `stream` in one transaction, if the stream is at `expected`.
    pub fn append(
        &mut self,
        stream: &str,
        expected: ExpectedVersion,
        events: &[NewEvent],
    ) -> Result<Vec<Event>> {
        let mut writer = self.writer()?;
        let written = writer.append(stream, expected, events)?;
        writer.commit()?;
        Ok(written)
    }

    /// Saves an application snapshot of `stream` at `version`.
    pub fn save_snapshot(&mut self, stream: &str, version: i64, data: &Value) -> Result<()> {
        let writer = self.writer()?;
        writer.save_snapshot(stream, version, data)?;
        writer.commit()
    }
}

/// A transaction over the store. Dropping it without `commit` writes nothing.
pub struct Writer<'a> {
    tx: Transaction<'a>,
    heads: HashMap<String, i64>,
    stamp_missing: bool,
}

impl Writer<'_> {
    /// Leaves events without a timestamp without one, instead of stamping them now:
    /// an import must not invent times.
    pub fn keep_missing_times(&mut self) {
        self.stamp_missing = false;
    }

    fn head(&mut self, stream: &str) -> Result<i64> {
        if let Some(v) = self.heads.get(stream) {
            return Ok(*v);
        }
        let mut stmt = self
            .tx
            .prepare_cached("SELECT MAX(version) FROM events WHERE stream_id = ?1")?;
        let v: Option<i64> = stmt.query_row([stream], |r| r.get(0)).optional()?.flatten();
        let v = v.unwrap_or(i64::MIN);
        self.heads.insert(stream.to_string(), v);
        Ok(v)
    }

    /// Appends within this transaction; a conflict leaves the transaction as it was.
    pub fn append(
        &mut self,
        stream: &str,
        expected: ExpectedVersion,
        events: &[NewEvent],
    ) -> Result<Vec<Event>> {
        let head = self.head(stream)?;
        // `i64::MIN` stands for no stream: its first version is 1 unless the event says.
        let shown = if head == i64::MIN { 0 } else { head };
        let ok = match expected {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => head == i64::MIN,
            ExpectedVersion::Exact(v) => shown == v,
        };
        if !ok {
            return Err(StoreError::Conflict {
                stream: stream.to_string(),
                expected,
                actual: shown,
            });
        }
        let mut stmt = self.tx.prepare_cached(
            "INSERT INTO events (global_position, stream_id, version, event_id, event_type, data, metadata, timestamp, topic, category, schema_version, original_position, undecodable)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )?;
        let mut written = Vec::with_capacity(events.len());
        let mut last = head;
        for e in events {
            let version = match e.version {
                Some(v) if v > last => v,
                Some(_) => {
                    return Err(StoreError::Conflict {
                        stream: stream.to_string(),
                        expected,
                        actual: last,
                    })
                }
                None => last.max(0) + 1,
            };
            last = version;
            let event_id = e.event_id.clone().unwrap_or_else(new_event_id);
            let timestamp = e.timestamp.clone().or_else(|| {
                self.stamp_missing
                    .then(|| crate::time::format_stored(chrono::Utc::now()))
            });
            let data = e.raw_data.clone().unwrap_or_else(|| e.data.to_string());
            if let Some(c) = &e.category {
                self.tx.execute(
                    "INSERT OR IGNORE INTO stream_categories (stream_id, category) VALUES (?1, ?2)",
                    rusqlite::params![stream, c],
                )?;
            }
            stmt.execute(rusqlite::params![
                e.global_position,
                stream,
                version,
                event_id,
                e.event_type,
                data,
                e.metadata.to_string(),
                timestamp,
                e.topic,
                e.category,
                e.schema_version,
                e.original_position,
                e.undecodable,
            ])?;
            written.push(Event {
                global_position: self.tx.last_insert_rowid(),
                stream_id: stream.to_string(),
                version,
                event_id,
                event_type: e.event_type.clone(),
                data: e.data.clone(),
                metadata: e.metadata.clone(),
                timestamp,
                topic: e.topic.clone(),
                category: e.category.clone(),
                schema_version: e.schema_version.clone(),
                original_position: e.original_position,
                undecodable: e.undecodable.clone(),
                bad_version: None,
                ..Default::default()
            });
        }
        self.heads.insert(stream.to_string(), last);
        Ok(written)
    }

    pub fn save_snapshot(&self, stream: &str, version: i64, data: &Value) -> Result<()> {
        self.tx.execute(
            "INSERT OR REPLACE INTO snapshots (stream_id, version, data, created_at) VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![
                stream,
                version,
                data.to_string(),
                crate::time::format_stored(chrono::Utc::now())
            ],
        )?;
        Ok(())
    }

    /// Records where a consumer stands (the native layout's optional `checkpoints`).
    pub fn save_checkpoint(
        &self,
        name: &str,
        kind: &str,
        follows: &str,
        position: i64,
        updated_at: Option<&str>,
    ) -> Result<()> {
        self.tx.execute(
            "INSERT OR REPLACE INTO checkpoints (name, kind, follows, position, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            rusqlite::params![name, kind, follows, position, updated_at],
        )?;
        Ok(())
    }

    pub fn commit(self) -> Result<()> {
        Ok(self.tx.commit()?)
    }
}

/// A random version-4 UUID for appends that bring no id.
fn new_event_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

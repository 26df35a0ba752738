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
    /// RFC 3339; now when missing.
    pub timestamp: Option<String>,
    /// Kept by `import`; the next free position when missing.
    pub global_position: Option<i64>,
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
}

impl Writer<'_> {
    fn head(&mut self, stream: &str) -> Result<i64> {
        if let Some(v) = self.heads.get(stream) {
            return Ok(*v);
        }
        let mut stmt = self
            .tx
            .prepare_cached("SELECT MAX(version) FROM events WHERE stream_id = ?1")?;
        let v: Option<i64> = stmt.query_row([stream], |r| r.get(0)).optional()?.flatten();
        let v = v.unwrap_or(0);
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
        let ok = match expected {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => head == 0,
            ExpectedVersion::Exact(v) => head == v,
        };
        if !ok {
            return Err(StoreError::Conflict {
                stream: stream.to_string(),
                expected,
                actual: head,
            });
        }
        let mut stmt = self.tx.prepare_cached(
            "INSERT INTO events (global_position, stream_id, version, event_id, event_type, data, metadata, timestamp)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        let mut written = Vec::with_capacity(events.len());
        for (i, e) in events.iter().enumerate() {
            let version = head + 1 + i as i64;
            let event_id = e.event_id.clone().unwrap_or_else(new_event_id);
            let timestamp = e
                .timestamp
                .clone()
                .unwrap_or_else(|| crate::time::format_stored(chrono::Utc::now()));
            stmt.execute(rusqlite::params![
                e.global_position,
                stream,
                version,
                event_id,
                e.event_type,
                e.data.to_string(),
                e.metadata.to_string(),
                timestamp,
            ])?;
            written.push(Event {
                global_position: self.tx.last_insert_rowid(),
                stream_id: stream.to_string(),
                version,
                event_id,
                event_type: e.event_type.clone(),
                data: e.data.clone(),
                metadata: e.metadata.clone(),
                timestamp: Some(timestamp),
                ..Default::default()
            });
        }
        self.heads
            .insert(stream.to_string(), head + events.len() as i64);
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

    pub fn commit(self) -> Result<()> {
        Ok(self.tx.commit()?)
    }
}

/// A random UUID (version 4 layout) from the standard library's seeded hasher, so that
/// appends without an id need no extra crate.
fn new_event_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let word = || {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        h.finish()
    };
    let (a, b) = (word(), word());
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | (b >> 48) & 0x3fff,
        b & 0xffff_ffff_ffff
    )
}

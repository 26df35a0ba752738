//! Following a store: every event appended after a position, including appends made by
//! other processes, which SQLite reveals through `PRAGMA data_version`. Where the store
//! cannot be shared with SQLite's locks (a read-only place), its files are polled instead
//! and reopened when they change.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use rusqlite::Connection;

use super::decode::event_from_row;
use super::open::{open_read_only, signature, Access};
use super::{Mapping, Result, SidecarGuard, Store, StoreError};
use crate::event::Event;

const BATCH: i64 = 1000;
const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// Yields each event appended after a global position, once, in global order.
///
/// It owns a read-only connection of its own, so it can move to another thread.
pub struct Subscription {
    // Declared first so that it closes before the guard looks for other users.
    conn: Connection,
    access: Access,
    real: PathBuf,
    busy_timeout: Duration,
    files: Vec<Option<(u64, SystemTime)>>,
    mapping: Mapping,
    after: i64,
    buffer: VecDeque<Event>,
    seen_data_version: Option<i64>,
    maybe_more: bool,
    _sidecars: Option<Arc<SidecarGuard>>,
}

impl Store {
    /// Subscribes to events with a global position greater than `after`.
    pub fn subscribe(&self, after: i64) -> Result<Subscription> {
        let files = signature(&self.real);
        let (conn, access) = open_read_only(&self.real)?;
        conn.busy_timeout(self.busy_timeout)?;
        Ok(Subscription {
            conn,
            access,
            real: self.real.clone(),
            busy_timeout: self.busy_timeout,
            files,
            mapping: self.mapping.clone(),
            after,
            buffer: VecDeque::new(),
            seen_data_version: None,
            maybe_more: true,
            _sidecars: self.sidecars.clone(),
        })
    }
}

impl Subscription {
    /// The global position of the last event handed out.
    pub fn position(&self) -> i64 {
        self.after
    }

    /// Every event that has arrived since the last call, without waiting.
    pub fn poll(&mut self) -> Result<Vec<Event>> {
        let mut out = Vec::new();
        loop {
            if let Some(last) = self.buffer.back() {
                self.after = last.global_position;
            }
            out.extend(self.buffer.drain(..));
            if !self.fetch()? {
                return Ok(out);
            }
        }
    }

    /// Waits up to `timeout` for the next event.
    pub fn next_timeout(&mut self, timeout: Duration) -> Result<Option<Event>> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(e) = self.buffer.pop_front() {
                self.after = e.global_position;
                return Ok(Some(e));
            }
            if self.fetch()? {
                continue;
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            std::thread::sleep(POLL_INTERVAL.min(deadline - now));
        }
    }

    /// Whether the store may have changed since the last look.
    fn changed(&mut self) -> Result<bool> {
        if self.access.sees_writes() {
            let version: i64 = self
                .conn
                .query_row("PRAGMA data_version", [], |r| r.get(0))?;
            let changed = self.seen_data_version != Some(version);
            self.seen_data_version = Some(version);
            return Ok(changed);
        }
        let now = signature(&self.real);
        if now == self.files {
            return Ok(false);
        }
        let (conn, access) = open_read_only(&self.real)?;
        conn.busy_timeout(self.busy_timeout)?;
        self.conn = conn;
        self.access = access;
        self.files = now;
        Ok(true)
    }

    /// Reads the next batch into the buffer when the database may have changed; returns
    /// whether anything was read.
    fn fetch(&mut self) -> Result<bool> {
        if !self.changed()? && !self.maybe_more {
            return Ok(false);
        }
        let from = self.buffer.back().map_or(self.after, |e| e.global_position);
        let m = &self.mapping;
        let sql = format!(
            "SELECT {} FROM {}{} ORDER BY {p} LIMIT ?2",
            m.select_list(),
            m.table,
            m.log_where_clause(&format!("{} > ?1", m.position)),
            p = m.position
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(rusqlite::params![from, BATCH])?;
        let mut n = 0;
        while let Some(row) = rows.next()? {
            self.buffer.push_back(event_from_row(row, &self.mapping)?);
            n += 1;
        }
        self.maybe_more = n == BATCH;
        Ok(n > 0)
    }
}

impl Iterator for Subscription {
    type Item = Result<Event, StoreError>;

    /// Blocks until the next event arrives.
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.next_timeout(Duration::from_secs(3600)) {
                Ok(Some(e)) => return Some(Ok(e)),
                Ok(None) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

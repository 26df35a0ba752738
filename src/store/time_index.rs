//! A time index of one stream (by version) or of the log (by position), kept in memory by
//! a browser that steps through time: built from one read of the times, extended with what
//! was appended since, it answers "the last event stamped at or before T" by a binary
//! search where times rise with the key, and by a pass over memory where they do not,
//! instead of a read of the stream per step.

use std::ops::ControlFlow;

use chrono::{DateTime, Utc};

use super::{Columns, EventSource, LogFilter, Result, StreamRow, TimeRow};

/// Most events an index holds (20 bytes each, so 80 MB); past it, steps read the store.
pub const MAX_INDEXED: usize = 4_000_000;

/// Times of a stream's events by version, or of the log's by position.
#[derive(Debug, Clone)]
pub struct TimeIndex {
    stream: Option<String>,
    keys: Vec<i64>,
    times: Vec<DateTime<Utc>>,
    /// The last key read (a version, or a position for the log), to extend from.
    read_to: i64,
    /// Whether keys rise in the order read and times never fall with them: then the
    /// answer is found by a binary search.
    ordered: bool,
    /// Past [`MAX_INDEXED`]: no answers, for the caller to ask the store.
    full: bool,
    /// The log's last position when it was last read to the end: while it stays, there
    /// is nothing to read (one lookup instead of a query of the stream).
    log_end: Option<i64>,
}

impl TimeIndex {
    /// An empty index of `stream`'s versions, or of the log's positions when `None`.
    pub fn new(stream: Option<&str>) -> TimeIndex {
        TimeIndex {
            stream: stream.map(str::to_string),
            keys: Vec::new(),
            times: Vec::new(),
            read_to: i64::MIN,
            ordered: true,
            full: false,
            log_end: None,
        }
    }

    /// Reads the times appended since the last call, at most `limit` events of them;
    /// whether it has read to the end. A time that cannot be read is an error naming it,
    /// as the store's own lookup says.
    pub fn extend(&mut self, store: &dyn EventSource, limit: usize) -> Result<bool> {
        if self.full {
            return Ok(true);
        }
        let end = store.last_position()?;
        if self.log_end == Some(end) {
            return Ok(true);
        }
        let mut read = 0usize;
        // A row's place and its time as stored; the stream's id is only copied to name a
        // time that cannot be read, in the store's own words.
        let mut add = |index: &mut TimeIndex,
                       (stream_id, position, version): (&str, i64, i64),
                       stored: Option<&str>|
         -> Result<ControlFlow<()>> {
            read += 1;
            let time = match stored.and_then(crate::time::parse_stored) {
                Some(t) => t,
                None => store.instant(&TimeRow {
                    position,
                    stream_id: stream_id.to_string(),
                    version,
                    time: stored.map(str::to_string),
                })?,
            };
            let key = if index.stream.is_some() {
                version
            } else {
                position
            };
            if let (Some(k), Some(t)) = (index.keys.last(), index.times.last()) {
                if key <= *k || time < *t {
                    index.ordered = false;
                }
            }
            index.keys.push(key);
            index.times.push(time);
            index.read_to = key;
            if index.keys.len() >= MAX_INDEXED {
                index.full = true;
            }
            Ok(if index.full || read >= limit {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            })
        };
        match self.stream.clone() {
            // A stream through its index, in version order, from the next version.
            Some(stream) => {
                let columns = Columns {
                    timestamp: true,
                    ..Columns::NONE
                };
                let from = self.read_to.saturating_add(1);
                store.each_stream_row(&stream, from..=i64::MAX, columns, &mut |row| {
                    let place = (stream.as_str(), row.global_position(), row.version());
                    match &row {
                        StreamRow::Raw(r) => {
                            let time = r.timestamp.map(crate::time::normalise);
                            add(self, place, time.as_deref())
                        }
                        StreamRow::Event(e) => add(self, place, e.timestamp.as_deref()),
                    }
                })?;
            }
            None => {
                let filter = LogFilter {
                    from_position: self.read_to.saturating_add(1),
                    limit: (limit != usize::MAX).then_some(limit),
                    ..Default::default()
                };
                store.each_time(&filter, &mut |row| {
                    let place = (row.stream_id.as_str(), row.position, row.version);
                    add(self, place, row.time.as_deref())
                })?;
            }
        }
        let done = self.full || read < limit;
        if done {
            self.log_end = Some(end);
        }
        Ok(done)
    }

    /// The highest key stamped at or before `until` (the last version in version order
    /// for a stream, the last position for the log); `None` when none is that early.
    /// `Err(())` when the index is past its size and the store must be asked.
    #[allow(clippy::result_unit_err)]
    pub fn last_at_or_before(&self, until: DateTime<Utc>) -> Result<Option<i64>, ()> {
        if self.full {
            return Err(());
        }
        if self.ordered {
            let n = self.times.partition_point(|t| *t <= until);
            return Ok(n.checked_sub(1).map(|i| self.keys[i]));
        }
        Ok(self
            .keys
            .iter()
            .zip(&self.times)
            .filter(|(_, t)| **t <= until)
            .map(|(k, _)| *k)
            .max())
    }

    /// How busy the history is along its keys ([`super::key_activity`]); `None` past
    /// the index's size.
    pub fn density(&self, buckets: usize) -> Option<Vec<u64>> {
        if self.full {
            return None;
        }
        let mut events: Vec<(i64, i64)> = self
            .keys
            .iter()
            .zip(&self.times)
            .map(|(k, t)| (*k, t.timestamp_millis()))
            .collect();
        events.sort_by_key(|(k, _)| *k);
        Some(super::key_activity(&events, buckets))
    }

    /// How many events it holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    /// A stream whose times go back at version 4, and a second stream between.
    fn store(dir: &std::path::Path) -> Store {
        let p = dir.join("t.db");
        drop(Store::create(&p).unwrap());
        let c = rusqlite::Connection::open(&p).unwrap();
        let rows = [
            ("A-1", 1, "2024-01-01T10:00:00Z"),
            ("B-1", 1, "2024-01-01T10:30:00Z"),
            ("A-1", 2, "2024-01-01T11:00:00Z"),
            ("A-1", 3, "2024-01-01T12:00:00.5Z"),
            ("A-1", 4, "2024-01-01T10:45:00Z"),
            ("A-1", 5, "2024-01-01T13:00:00Z"),
        ];
        for (i, (s, v, t)) in rows.iter().enumerate() {
            c.execute(
                "INSERT INTO events (stream_id, version, event_id, event_type, data, metadata, timestamp) VALUES (?1, ?2, ?3, 'T', '{}', '{}', ?4)",
                rusqlite::params![s, v, format!("e{i}"), t],
            )
            .unwrap();
        }
        drop(c);
        Store::open(&p).unwrap()
    }

    #[test]
    fn answers_as_the_stores_own_lookup_does() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path());
        let mut a = TimeIndex::new(Some("A-1"));
        // Read in two slices, as a browser extends it.
        assert!(!a.extend(&store, 2).unwrap());
        assert!(a.extend(&store, 100).unwrap());
        let mut log = TimeIndex::new(None);
        assert!(log.extend(&store, usize::MAX).unwrap());
        assert!(!a.ordered, "times go back at version 4");
        for minute in (9 * 60..=14 * 60).step_by(5) {
            let t = chrono::TimeZone::with_ymd_and_hms(&Utc, 2024, 1, 1, 0, 0, 0).unwrap()
                + chrono::Duration::minutes(minute);
            assert_eq!(
                a.last_at_or_before(t),
                Ok(store.version_at_time("A-1", t).unwrap()),
                "A-1 at {t}"
            );
            assert_eq!(
                log.last_at_or_before(t),
                Ok(store.position_at_time(t).unwrap()),
                "log at {t}"
            );
        }
    }

    #[test]
    fn rising_times_are_searched_and_appends_extend_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path());
        let mut b = TimeIndex::new(Some("B-1"));
        b.extend(&store, usize::MAX).unwrap();
        assert!(b.ordered);
        let at = |s: &str| crate::time::parse_stored(s).unwrap();
        assert_eq!(b.last_at_or_before(at("2024-01-01T10:29:59Z")), Ok(None));
        assert_eq!(b.last_at_or_before(at("2024-01-01T10:30:00Z")), Ok(Some(1)));
        let c = rusqlite::Connection::open(dir.path().join("t.db")).unwrap();
        c.execute(
            "INSERT INTO events (stream_id, version, event_id, event_type, data, metadata, timestamp) VALUES ('B-1', 2, 'x', 'T', '{}', '{}', '2024-01-02T00:00:00Z')",
            [],
        )
        .unwrap();
        b.extend(&store, usize::MAX).unwrap();
        assert_eq!(b.len(), 2);
        assert_eq!(b.last_at_or_before(at("2024-01-03T00:00:00Z")), Ok(Some(2)));
    }
}

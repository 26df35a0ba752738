//! Read-ahead: a long stream is read by a second, read-only connection on its own thread,
//! which hands batches of copied rows over a bounded channel while the fold runs on the
//! caller's thread. It uses the second core; it never changes what is read.
//!
//! The second connection must read exactly what the store's own connection would:
//! - outside a transaction, the store's connection would start a fresh snapshot for the
//!   read, and so does the helper (its own `BEGIN` … `COMMIT` around the read);
//! - under [`Store::pin_snapshot`], the helper is pinned at the same moment: the store's
//!   connection reads `PRAGMA data_version` (which changes when any other connection
//!   commits), the helper begins its transaction, the store's connection begins its own,
//!   and reads `data_version` again. Equal values mean no commit came between the two
//!   snapshots, so they are the same; otherwise the helper is let go, and reads stay on the
//!   store's connection;
//! - inside any other transaction of the store's connection, there is no read-ahead.

use std::ops::{ControlFlow, RangeInclusive};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Mutex;

use rusqlite::Connection;

use super::layout::Mapping;
use super::read::{stream_row, whole_version, LeftOut, RawEvent, StreamRow};
use super::{Result, Store, StoreError};
use crate::event::Event;
use crate::fast_paths::FastPath;

/// Reads spanning fewer versions than this stay on the caller's thread.
pub const MIN_VERSIONS: i64 = 2_000;
/// Rows per batch, and batches in flight: a few hundred kilobytes at most.
const BATCH_ROWS: usize = 1024;
const BATCHES_AHEAD: usize = 2;

/// The helper connection, opened on first use.
#[derive(Default)]
pub struct Helper {
    conn: Mutex<Option<Connection>>,
    /// Whether the helper holds a transaction pinned with the store's (see the module's
    /// notes); while it does, every read-ahead reads under it.
    pinned: std::sync::atomic::AtomicBool,
    /// How many reads it has made, for the tests to tell it was used.
    reads: std::sync::atomic::AtomicU64,
}

impl Helper {
    fn open(store: &Store) -> Option<Connection> {
        let conn = super::open::connect(&store.real, &store.access).ok()?;
        conn.busy_timeout(store.busy_timeout).ok()?;
        // It reads each page once, in order: a small cache keeps memory down.
        conn.execute_batch("PRAGMA cache_size = -256").ok()?;
        Some(conn)
    }

    /// Pins the helper with the store's connection, which must not be in a transaction;
    /// `begin_store` begins the store's. See the module's notes.
    pub fn pin_with(&self, store: &Store, begin_store: impl FnOnce() -> Result<()>) -> Result<()> {
        let version = |c: &Connection| -> Result<i64> {
            Ok(c.query_row("PRAGMA data_version", [], |r| r.get(0))?)
        };
        let before = version(&store.conn)?;
        let mut slot = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            *slot = Helper::open(store);
        }
        let helper_began = slot.as_ref().is_some_and(|h| {
            h.execute_batch("BEGIN").is_ok()
                && h.query_row("SELECT COUNT(*) FROM sqlite_master", [], |_| Ok(()))
                    .is_ok()
        });
        let began = begin_store().and_then(|()| version(&store.conn));
        let same = helper_began && began.as_ref().is_ok_and(|after| *after == before);
        if !same {
            // A commit came between: reads stay on the store's connection.
            *slot = None;
        }
        self.pinned
            .store(same, std::sync::atomic::Ordering::Relaxed);
        began.map(drop)
    }
}

/// One row copied out of SQLite: its texts one after another in the batch's bytes
/// (stream id, event id, type, data, metadata, time), or a decoded event.
enum Item {
    Raw {
        global_position: i64,
        version: i64,
        start: usize,
        /// Each text's length; `u32::MAX` for NULL.
        lens: [u32; 6],
    },
    Event(Box<Event>),
}

const NULL: u32 = u32::MAX;

#[derive(Default)]
struct Batch {
    bytes: Vec<u8>,
    items: Vec<Item>,
}

impl Batch {
    /// Copies `r`. Every length fits below [`NULL`]: SQLite holds no text or blob longer
    /// than 2^31 - 1 bytes.
    fn push_raw(&mut self, r: &RawEvent) {
        let texts = [
            Some(r.stream_id.as_bytes()),
            r.event_id.map(str::as_bytes),
            Some(r.event_type.as_bytes()),
            Some(r.data),
            r.metadata,
            r.timestamp.map(str::as_bytes),
        ];
        let start = self.bytes.len();
        let lens = texts.map(|t| match t {
            Some(t) => {
                self.bytes.extend_from_slice(t);
                t.len() as u32
            }
            None => NULL,
        });
        self.items.push(Item::Raw {
            global_position: r.global_position,
            version: r.version,
            start,
            lens,
        });
    }

    /// Hands each row to `f`, as the store's own reader would, and empties the batch
    /// for reuse.
    fn each<E: From<StoreError>>(
        &mut self,
        f: &mut impl FnMut(StreamRow<'_>) -> std::result::Result<ControlFlow<()>, E>,
    ) -> std::result::Result<ControlFlow<()>, E> {
        let bytes = &self.bytes;
        for item in self.items.drain(..) {
            let row = match item {
                Item::Raw {
                    global_position,
                    version,
                    start,
                    lens,
                } => {
                    let mut at = start;
                    let mut next = |len: u32| {
                        (len != NULL).then(|| {
                            let span = &bytes[at..at + len as usize];
                            at += len as usize;
                            span
                        })
                    };
                    // The texts were copied from strings SQLite handed out as UTF-8.
                    fn text(b: Option<&[u8]>) -> Option<&str> {
                        b.map(|b| std::str::from_utf8(b).unwrap_or_default())
                    }
                    let [stream_id, event_id, event_type, data, metadata, timestamp] =
                        lens.map(&mut next);
                    StreamRow::Raw(RawEvent {
                        global_position,
                        stream_id: text(stream_id).unwrap_or_default(),
                        version,
                        event_id: text(event_id),
                        event_type: text(event_type).unwrap_or_default(),
                        data: data.unwrap_or_default(),
                        metadata,
                        timestamp: text(timestamp),
                    })
                }
                Item::Event(e) => StreamRow::Event(e),
            };
            if f(row)?.is_break() {
                return Ok(ControlFlow::Break(()));
            }
        }
        self.bytes.clear();
        Ok(ControlFlow::Continue(()))
    }
}

/// Reads `sql` (a stream range query: stream, first and last version) through the helper
/// while `f` runs here; `None` when read-ahead does not apply, for the caller to read.
pub fn read<E: From<StoreError>>(
    store: &Store,
    sql: &str,
    stream: &str,
    versions: &RangeInclusive<i64>,
    f: &mut impl FnMut(StreamRow<'_>) -> std::result::Result<ControlFlow<()>, E>,
) -> Option<std::result::Result<(), E>> {
    let helper = &store.ahead;
    let pinned = helper.pinned.load(std::sync::atomic::Ordering::Relaxed);
    let long = versions.end().saturating_sub(*versions.start()) >= MIN_VERSIONS;
    if !long || !FastPath::ReadAhead.on() || !(pinned || store.conn.is_autocommit()) {
        return None;
    }
    {
        // Held by a read-ahead further up this thread's stack: read here instead.
        let mut slot = helper.conn.try_lock().ok()?;
        if slot.is_none() {
            *slot = Helper::open(store);
        }
        slot.as_ref()?;
    }
    helper
        .reads
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (mapping, slot, left_out) = (&store.mapping, &helper.conn, &store.left_out);
    Some(std::thread::scope(|s| {
        let (tx, rx) = sync_channel(BATCHES_AHEAD);
        // Emptied batches go back to the reader, so their buffers are reused.
        let (back, spare) = sync_channel::<Batch>(BATCHES_AHEAD + 1);
        s.spawn(move || {
            // Only this thread and the caller's, which is now folding, can reach the
            // helper: the store is not shared between threads.
            let slot = slot.lock().unwrap_or_else(|e| e.into_inner());
            let Some(conn) = slot.as_ref() else { return };
            let own = !pinned;
            if own {
                if let Err(e) = conn.execute_batch("BEGIN") {
                    let _ = tx.send(Err(e.into()));
                    return;
                }
            }
            let read = Read {
                mapping,
                left_out,
                sql,
                stream,
                versions,
            };
            send_batches(conn, &read, &tx, &spare);
            if own {
                let _ = conn.execute_batch("COMMIT");
            }
        });
        consume(rx, &back, f)
    }))
}

/// The fold's side: each batch's rows to `f`, until the end, a break or an error. Dropping
/// the receiver tells the reader to stop.
fn consume<E: From<StoreError>>(
    rx: Receiver<Result<Batch>>,
    back: &SyncSender<Batch>,
    f: &mut impl FnMut(StreamRow<'_>) -> std::result::Result<ControlFlow<()>, E>,
) -> std::result::Result<(), E> {
    for batch in rx {
        let mut batch = batch?;
        if batch.each(f)?.is_break() {
            break;
        }
        let _ = back.try_send(batch);
    }
    Ok(())
}

/// What the reader reads, and where it notes the rows it passes over.
struct Read<'a> {
    mapping: &'a Mapping,
    left_out: &'a LeftOut,
    sql: &'a str,
    stream: &'a str,
    versions: &'a RangeInclusive<i64>,
}

/// The reader's side: the query's rows in batches, until the end, an error, or the
/// receiver is gone.
fn send_batches(
    conn: &Connection,
    read: &Read,
    tx: &SyncSender<Result<Batch>>,
    spare: &Receiver<Batch>,
) {
    let run = || -> Result<bool> {
        let mut stmt = conn.prepare_cached(read.sql)?;
        let (first, last) = (read.versions.start(), read.versions.end());
        let mut rows = stmt.query(rusqlite::params![read.stream, first, last])?;
        let mut batch = spare.try_recv().unwrap_or_default();
        while let Some(row) = rows.next()? {
            match stream_row(row, read.mapping)? {
                StreamRow::Raw(raw) => batch.push_raw(&raw),
                e if !whole_version(&e, read.left_out) => continue,
                StreamRow::Event(e) => batch.items.push(Item::Event(e)),
            }
            if batch.items.len() == BATCH_ROWS {
                let next = spare.try_recv().unwrap_or_default();
                if tx.send(Ok(std::mem::replace(&mut batch, next))).is_err() {
                    return Ok(false);
                }
            }
        }
        Ok(batch.items.is_empty() || tx.send(Ok(batch)).is_ok())
    };
    if let Err(e) = run() {
        let _ = tx.send(Err(e));
    }
}

#[cfg(test)]
mod tests {
    use std::ops::ControlFlow;
    use std::path::Path;
    use std::sync::atomic::Ordering;

    use super::*;
    use crate::store::Columns;

    const EVENTS: i64 = 3_000;

    /// A WAL store with one stream of `EVENTS` events, `{"n": version}` each, and a
    /// connection that can write to it.
    fn long_store(dir: &Path) -> (std::path::PathBuf, Connection) {
        let p = dir.join("long.db");
        drop(Store::create(&p).unwrap());
        let w = Connection::open(&p).unwrap();
        w.query_row("PRAGMA journal_mode=WAL", [], |r| r.get::<_, String>(0))
            .unwrap();
        append(&w, 1..=EVENTS);
        (p, w)
    }

    fn append(w: &Connection, versions: RangeInclusive<i64>) {
        w.execute_batch("BEGIN").unwrap();
        for v in versions {
            w.execute(
                "INSERT INTO events (stream_id, version, event_id, event_type, data, metadata, timestamp) VALUES ('Long-1', ?1, ?2, 'T', ?3, '{}', '2024-01-01T00:00:00Z')",
                rusqlite::params![v, format!("e{v}"), format!("{{\"n\": {v}}}")],
            )
            .unwrap();
        }
        w.execute_batch("COMMIT").unwrap();
    }

    /// The versions and payloads `read_stream_rows` hands out, and whether the helper
    /// read them.
    fn read_all(store: &Store) -> (Vec<(i64, String)>, bool) {
        let before = store.ahead.reads.load(Ordering::Relaxed);
        let mut out = Vec::new();
        store
            .read_stream_rows("Long-1", 1..=i64::MAX, Columns::ALL, |row| {
                let StreamRow::Raw(r) = row else {
                    panic!("native rows are raw")
                };
                out.push((r.version, String::from_utf8_lossy(r.data).into_owned()));
                Ok::<_, StoreError>(ControlFlow::Continue(()))
            })
            .unwrap();
        (out, store.ahead.reads.load(Ordering::Relaxed) > before)
    }

    fn expected(last: i64) -> Vec<(i64, String)> {
        (1..=last).map(|v| (v, format!("{{\"n\": {v}}}"))).collect()
    }

    #[test]
    fn a_pinned_read_ahead_reads_the_pinned_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let (p, w) = long_store(dir.path());
        let store = Store::open(&p).unwrap();
        store.pin_snapshot().unwrap();
        assert!(store.ahead.pinned.load(Ordering::Relaxed));
        append(&w, EVENTS + 1..=EVENTS + 100);
        let (rows, ahead) = read_all(&store);
        assert!(ahead, "read by the helper");
        assert_eq!(rows, expected(EVENTS), "not one appended event");
    }

    #[test]
    fn a_commit_between_the_two_pins_lets_the_helper_go() {
        let dir = tempfile::tempdir().unwrap();
        let (p, w) = long_store(dir.path());
        let store = Store::open(&p).unwrap();
        store
            .ahead
            .pin_with(&store, || {
                // After the helper began, before the store's connection does.
                append(&w, EVENTS + 1..=EVENTS + 10);
                store.conn.execute_batch("BEGIN")?;
                store
                    .conn
                    .query_row("SELECT COUNT(*) FROM events", [], |_| Ok(()))?;
                Ok(())
            })
            .unwrap();
        assert!(!store.ahead.pinned.load(Ordering::Relaxed));
        append(&w, EVENTS + 11..=EVENTS + 20);
        let (rows, ahead) = read_all(&store);
        assert!(!ahead, "the store's own connection read");
        assert_eq!(rows, expected(EVENTS + 10), "its snapshot, and only it");
    }

    #[test]
    fn a_store_that_fails_to_pin_leaves_no_helper_in_a_transaction() {
        let dir = tempfile::tempdir().unwrap();
        let (p, _w) = long_store(dir.path());
        let store = Store::open(&p).unwrap();
        let failed = store
            .ahead
            .pin_with(&store, || Err(StoreError::BadMap("no".into())));
        assert!(failed.is_err());
        assert!(store.ahead.conn.lock().unwrap().is_none());
        let (rows, ahead) = read_all(&store);
        assert!(ahead, "a fresh helper");
        assert_eq!(rows, expected(EVENTS));
    }

    #[test]
    fn unpinned_reads_see_what_is_committed_and_stop_when_told() {
        let dir = tempfile::tempdir().unwrap();
        let (p, w) = long_store(dir.path());
        let store = Store::open(&p).unwrap();
        let (rows, ahead) = read_all(&store);
        assert!(ahead);
        assert_eq!(rows, expected(EVENTS));
        append(&w, EVENTS + 1..=EVENTS + 5);
        assert_eq!(read_all(&store).0, expected(EVENTS + 5));

        // A break after ten rows, and an error after twenty, end the read at once.
        let mut seen = 0;
        store
            .read_stream_rows("Long-1", 1..=i64::MAX, Columns::NONE, |_| {
                seen += 1;
                Ok::<_, StoreError>(if seen == 10 {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                })
            })
            .unwrap();
        assert_eq!(seen, 10);
        let err = store.read_stream_rows("Long-1", 1..=i64::MAX, Columns::NONE, |row| {
            if row.version() == 20 {
                return Err(StoreError::BadMap("stop here".into()));
            }
            Ok(ControlFlow::Continue(()))
        });
        assert!(err.unwrap_err().to_string().contains("stop here"));
    }

    #[test]
    fn a_read_inside_a_read_ahead_stays_on_the_store_connection() {
        let dir = tempfile::tempdir().unwrap();
        let (p, _w) = long_store(dir.path());
        let store = Store::open(&p).unwrap();
        let mut inner = None;
        store
            .read_stream_rows("Long-1", 1..=i64::MAX, Columns::NONE, |row| {
                if row.version() == 1 {
                    inner = Some(read_all(&store));
                }
                Ok::<_, StoreError>(ControlFlow::Continue(()))
            })
            .unwrap();
        let (rows, ahead) = inner.unwrap();
        assert!(!ahead, "the helper was busy");
        assert_eq!(rows, expected(EVENTS));
    }
}

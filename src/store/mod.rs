//! Event stores: opening them read-only, reading streams and the global log, subscribing to
//! new events, and (for `demo`, `import` and library users) appending.
//!
//! Only the native layout (go-mink's SQLite form) is read here; see `schema.rs` for its DDL.

pub mod consumers;
mod decode;
pub mod layout;
mod map_spec;
mod mysql;
mod open;
mod postgres;
mod read;
mod read_ahead;
mod related;
mod ruby_yaml;
mod schema;
mod server_rows;
mod snapshots;
mod source;
mod sql_layout;
mod sqlite_source;
mod stats;
mod subscribe;
pub mod table_rows;
mod time_index;
mod timeline;
pub mod types;
mod write;
mod xstream;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;
use serde::Serialize;

pub use decode::decode_payload;
pub use layout::Decoder;
pub use layout::{Layout, Mapping, FORMATS};
pub use map_spec::{parse_map, parse_map_text};
pub use mysql::{MyStore, MYSQL_FORMATS};
pub use open::Sidecars;
pub use postgres::{redact, Limits, PgStore, PG_FORMATS};

/// Whether a store argument names a server database (PostgreSQL, MySQL, MariaDB) rather
/// than a file.
pub fn is_url(target: &str) -> bool {
    postgres::is_url(target) || mysql::is_url(target)
}

/// Whether `target` names a PostgreSQL database (a `postgres://` or `postgresql://` URL).
pub fn is_postgres_url(target: &str) -> bool {
    postgres::is_url(target)
}
pub use read::{BadVersion, Columns, LogFilter, RawEvent, StreamRow, TimeRow};
pub use related::{Related, RelatedKeys, Relation};
pub use snapshots::Snapshot;
pub use source::{
    EventFn, EventSource, Follow, KeepFn, PayloadFn, RowFn, SourceExt, TimeFn, Total,
};
pub use stats::{parse_bucket, Bucket, Lengths, Stats};
pub use subscribe::Subscription;
pub use time_index::TimeIndex;
pub use timeline::{bucket_counts, key_activity, Activity};
pub use write::{ExpectedVersion, NewEvent, Writer};

/// How long a read waits for a writer's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}: no such file")]
    NotFound(PathBuf),
    #[error("{0}: is a directory; give the store's file")]
    IsDirectory(PathBuf),
    #[error("{0}: not a SQLite database, or a corrupt or truncated one")]
    NotSqlite(PathBuf),
    #[error("{path}: no known event store layout (tables: {tables}); name the columns with --map 'table=T,stream=C,version=C,type=C,data=C' (see `eventscope formats`)")]
    UnknownLayout { path: PathBuf, tables: String },
    #[error("unknown format {0:?}; `eventscope formats` lists them")]
    UnknownFormat(String),
    #[error("this is not {} store: it needs table {table} with columns {columns}", crate::with_article(.format))]
    FormatMismatch {
        format: String,
        table: String,
        columns: String,
    },
    #[error("--map: {0}")]
    BadMap(String),
    #[error("this store has no event times, so times cannot be looked up")]
    NoTimes,
    #[error("{stream} version {version}: its time {value:?} (in {column}) cannot be read, so times cannot be compared; `eventscope check` lists every such row")]
    BadTime {
        column: String,
        stream: String,
        version: i64,
        value: String,
    },
    #[error("{0}: only native stores can be written (this one is {1})")]
    NotNative(PathBuf, &'static str),
    #[error("{0}: already exists; choose another path or remove it first")]
    AlreadyExists(PathBuf),
    #[error("append to {stream}: expected {expected}, but the stream is at version {actual}")]
    Conflict {
        stream: String,
        expected: ExpectedVersion,
        actual: i64,
    },
    #[error("event at global position {position}: {field} is not valid JSON ({message})")]
    BadJson {
        position: i64,
        field: &'static str,
        message: String,
    },
    #[error("no event with id or global position {0:?}")]
    NoSuchEvent(String),
    #[error("event {id} has no correlation id in its metadata (looked for {keys}); --correlation-key names another key")]
    NoCorrelation { id: String, keys: String },
    #[error("the store is locked by another process; try again when its write finishes (or raise --busy-timeout)")]
    Locked,
    #[error("an unfinished transaction (a journal left by a writer that crashed) needs recovery first: open the store once with its application, or run `sqlite3 STORE 'PRAGMA schema_version'`, which rolls it back; eventscope never writes a store")]
    HotJournal,
    #[error("the store is corrupt or truncated ({0})")]
    Corrupt(String),
    #[error("{0}")]
    Sqlite(rusqlite::Error),
    #[error("{0}")]
    Postgres(String),
    #[error("{0}")]
    Mysql(String),
    /// `stats --bucket` so fine that the span needs more buckets than any chart shows.
    #[error("--bucket {bucket} makes {count} buckets over this span; the most is {most}: choose a coarser bucket (such as {suggested})")]
    TooManyBuckets {
        bucket: String,
        count: i64,
        most: i64,
        suggested: String,
    },
    /// An application's table that cannot be read as `--read-model` names it.
    #[error("--read-model: {0}")]
    BadReadModel(String),
    /// A consumer table that cannot be read as `--consumers` or the layout says.
    #[error("--consumers: {0}")]
    BadConsumers(String),
    /// An upcaster that failed on an event read through it.
    #[error("{0}")]
    Upcaster(String),
    /// A read stopped by its caller (whose own error is reported instead).
    #[error("interrupted")]
    Interrupted,
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        if let rusqlite::Error::SqliteFailure(f, _) = &e {
            if f.extended_code == rusqlite::ffi::SQLITE_READONLY_ROLLBACK {
                return StoreError::HotJournal;
            }
        }
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                StoreError::Locked
            }
            Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase) => {
                StoreError::Corrupt(e.to_string())
            }
            _ => StoreError::Sqlite(e),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// One line of the stream list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct StreamInfo {
    pub stream_id: String,
    pub category: String,
    pub events: i64,
    /// The first version as stored: streams may count from 0 (Axon, KurrentDB).
    pub first_version: i64,
    pub last_version: i64,
    /// Rows whose version is not an integer (text, real, NULL): left out of replays and
    /// reported by `check`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub bad_versions: i64,
    /// `events` is the stream's version as a streams table records it, not a count
    /// (`streams --count` counts).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub events_estimated: bool,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// How to read a store: auto-detected, a named format, or a column mapping.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct OpenOptions {
    /// A name from [`FORMATS`].
    pub format: Option<String>,
    /// A `--map` spec, or the path of a file holding one.
    pub map: Option<String>,
    /// Keep watching for other processes' writes (the TUI, `--follow`).
    pub live: bool,
    /// How long to wait for a writer's lock; five seconds when unset.
    pub busy_timeout: Option<Duration>,
    /// PostgreSQL: look for the layout in this schema only.
    #[serde(default)]
    pub schema: Option<String>,
    /// PostgreSQL: show archived events (Marten, Emmett).
    #[serde(default)]
    pub archived: bool,
    /// PostgreSQL: the events table (`name` or `schema.name`), where a database holds
    /// several (a Python eventsourcing System: one `<app>_events` per application).
    #[serde(default)]
    pub table: Option<String>,
    /// PostgreSQL: the session's timeouts.
    #[serde(default)]
    pub limits: Option<Limits>,
}

/// An open event store.
pub struct Store {
    // Declared first so that it closes before `sidecars` looks for other users.
    conn: Connection,
    /// A second connection for reading long streams on another thread.
    ahead: read_ahead::Helper,
    path: PathBuf,
    mapping: Mapping,
    busy_timeout: Duration,
    /// The file itself, symlinks resolved: what SQLite opens and names its files after.
    real: PathBuf,
    access: open::Access,
    sidecars: Option<std::sync::Arc<SidecarGuard>>,
    /// Whether any event has a time, once known (a store imported from one without
    /// times has the column and no value in it).
    any_time: std::cell::OnceCell<bool>,
    /// Rows a stream read passed over because their version is not an integer.
    left_out: read::LeftOut,
}

/// Removes the `-wal`/`-shm` files this process made beside a store once the last of its
/// connections (the store's and its subscriptions') is closed.
pub struct SidecarGuard(Sidecars);

impl SidecarGuard {
    /// Cleans up now, for a process about to exit without unwinding.
    pub fn clean_up(&self) -> bool {
        self.0.clean_up()
    }
}

impl Drop for SidecarGuard {
    fn drop(&mut self) {
        self.0.clean_up();
    }
}

impl Store {
    /// Opens an existing store with SQLite's read-only flag: nothing this handle does can
    /// change the file.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        Store::open_with(path, &OpenOptions::default())
    }

    /// Opens read-only with a forced format or column mapping.
    ///
    /// Every read goes through SQLite's locks, so it sees all committed data, `-wal`
    /// included; the `-wal`/`-shm` files SQLite makes for it are removed again when the
    /// store is dropped and no other process has it open (see [`Sidecars`]).
    pub fn open_with(path: impl AsRef<Path>, options: &OpenOptions) -> Result<Store> {
        let shown = path.as_ref().to_path_buf();
        if shown.is_dir() {
            return Err(StoreError::IsDirectory(shown));
        }
        let real = open::resolve(&shown)?;
        let guard = std::sync::Arc::new(SidecarGuard(Sidecars::note(&real)));
        let (conn, access) = open::open_read_only(&real).map_err(|e| open_error(&shown, e))?;
        let mut store = Store::from_connection(conn, shown, options)?;
        store.access = access;
        store.real = real;
        store.sidecars = Some(guard);
        Ok(store)
    }

    /// Reads everything from here on from one consistent snapshot of the store, whatever
    /// other processes commit meanwhile. One-shot commands call it; followers must not,
    /// since they want to see new events.
    pub fn pin_snapshot(&self) -> Result<()> {
        if self.conn.is_autocommit() {
            // The read-ahead connection is pinned at the same snapshot, or not used.
            self.ahead.pin_with(self, || {
                self.conn.execute_batch("BEGIN")?;
                self.conn
                    .query_row("SELECT COUNT(*) FROM sqlite_master", [], |_| Ok(()))?;
                Ok(())
            })?;
        }
        Ok(())
    }

    /// What removes, once this store and its subscriptions are closed, the files SQLite made
    /// beside it.
    pub fn sidecar_guard(&self) -> Option<std::sync::Arc<SidecarGuard>> {
        self.sidecars.clone()
    }

    /// Runs `f` inside one read transaction, so that all it reads agrees (the stream list
    /// and the last position, say), even while other processes write.
    pub fn read_consistently<T>(&self, f: impl FnOnce(&Store) -> Result<T>) -> Result<T> {
        if !self.conn.is_autocommit() {
            return f(self);
        }
        self.conn.execute_batch("BEGIN")?;
        let out = f(self);
        let _ = self.conn.execute_batch("COMMIT");
        out
    }

    /// How this store is reached: through SQLite's locks, or (in a read-only place) as an
    /// immutable file or a private copy.
    pub fn access_note(&self) -> Option<&'static str> {
        match self.access {
            open::Access::Shared => None,
            open::Access::Immutable => {
                Some("read-only place: the store is read as it is on disk; appends are seen by polling its files")
            }
            open::Access::Copy { .. } => Some(
                "read-only place: the store and its -wal are read from a private copy; appends are seen by polling its files",
            ),
        }
    }

    /// Creates a new native store at `path`, which must not exist yet.
    pub fn create(path: impl AsRef<Path>) -> Result<Store> {
        let path = path.as_ref().to_path_buf();
        if path.exists() {
            return Err(StoreError::AlreadyExists(path));
        }
        let conn = Connection::open(&path)?;
        conn.execute_batch(schema::NATIVE_DDL)?;
        Store::from_connection(conn, path, &OpenOptions::default())
    }

    /// Opens a native store for writing, creating it when missing. An existing file must
    /// already hold the native layout: nothing is added to somebody else's database.
    pub fn open_writable(path: impl AsRef<Path>) -> Result<Store> {
        let path = path.as_ref().to_path_buf();
        if !path.exists() {
            return Store::create(path);
        }
        let conn = Connection::open(&path).map_err(|e| open_error(&path, e))?;
        let mut store = Store::from_connection(conn, path, &OpenOptions::default())?;
        if store.mapping.layout != Layout::Native {
            let name = FORMATS
                .iter()
                .find(|f| f.layout == store.mapping.layout)
                .map_or("?", |f| f.name);
            return Err(StoreError::NotNative(store.path, name));
        }
        store.add_optional_columns()?;
        Ok(store)
    }

    /// Brings an older native store up to the columns `import` fills. Only for stores
    /// opened to be written (a new file, or import's temporary copy).
    fn add_optional_columns(&mut self) -> Result<()> {
        let have = layout::columns(&self.conn, "events")?;
        for (name, kind) in schema::OPTIONAL_COLUMNS {
            if !have.iter().any(|c| c == name) {
                self.conn
                    .execute_batch(&format!("ALTER TABLE events ADD COLUMN {name} {kind}"))?;
            }
        }
        self.conn.execute_batch(schema::NATIVE_DDL)?;
        let tables = schema::tables(&self.conn)?;
        self.mapping = layout::detect(&self.conn, &tables, Some("native"))?;
        Ok(())
    }

    fn from_connection(conn: Connection, path: PathBuf, options: &OpenOptions) -> Result<Store> {
        let busy_timeout = options.busy_timeout.unwrap_or(BUSY_TIMEOUT);
        conn.busy_timeout(busy_timeout)?;
        let tables = schema::tables(&conn).map_err(|e| open_error(&path, e))?;
        let mapping = match &options.map {
            Some(spec) => map_spec::parse_map(&conn, spec)?,
            None => {
                layout::detect(&conn, &tables, options.format.as_deref()).map_err(|e| match e {
                    StoreError::UnknownLayout { tables, .. } => StoreError::UnknownLayout {
                        path: path.clone(),
                        tables,
                    },
                    other => other,
                })?
            }
        };
        Ok(Store {
            conn,
            ahead: read_ahead::Helper::default(),
            left_out: read::LeftOut::default(),
            mapping,
            busy_timeout,
            real: path.clone(),
            path,
            access: open::Access::Shared,
            sidecars: None,
            any_time: Default::default(),
        })
    }

    /// How this store's tables map onto the envelope.
    pub fn mapping(&self) -> &Mapping {
        &self.mapping
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Opens a store for reading: a PostgreSQL URL (`postgres://…`, `postgresql://…`), a
/// MySQL/MariaDB URL (`mysql://…`, `mariadb://…`) or a SQLite file.
pub fn open_source(target: &Path, options: &OpenOptions) -> Result<Box<dyn EventSource>> {
    if let Some(url) = target.to_str().filter(|t| mysql::is_url(t)) {
        return Ok(Box::new(MyStore::open(url, options)?));
    }
    if let Some(url) = target.to_str().filter(|t| postgres::is_url(t)) {
        return Ok(Box::new(PgStore::open(url, options)?));
    }
    if let Some(t) = &options.table {
        return Err(StoreError::BadMap(format!(
            "--table {t} chooses among a PostgreSQL database's event tables; a SQLite store's table is named with --map 'table=T,…'"
        )));
    }
    Ok(Box::new(Store::open_with(target, options)?))
}

/// How to name a store argument to the user: a URL loses its password.
pub fn display_name(target: &Path) -> String {
    let shown = target.display().to_string();
    if is_url(&shown) {
        redact(&shown)
    } else {
        shown
    }
}

fn open_error(path: &Path, e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt) => {
            StoreError::NotSqlite(path.to_path_buf())
        }
        _ => StoreError::from(e),
    }
}

#[cfg(test)]
mod tests;

/// Opens a file as a store and reads all of it the ways the commands do; errors are
/// fine, panics and hangs are not. For the fuzz target on mutated store files and the
/// regression test that replays its finds.
#[doc(hidden)]
pub fn read_everything(path: &Path) {
    use std::ops::ControlFlow;
    let Ok(store) = Store::open(path) else {
        return;
    };
    let _ = store.pin_snapshot();
    let Ok(streams) = store.streams() else {
        return;
    };
    let _ = store.bad_versions();
    let _ = store.snapshots(None);
    let _ = store.last_position();
    let _ = store.read_log(
        &LogFilter {
            limit: Some(200),
            ..Default::default()
        },
        |e| {
            let _ = serde_json::to_string(&e);
            Ok::<_, StoreError>(ControlFlow::Continue(()))
        },
    );
    let reducer = crate::replay::Reducer::Merge;
    let mut replayer = crate::replay::Replayer::new(&store, &reducer, Default::default());
    for s in streams.iter().take(20) {
        let _ = store.stream_info(&s.stream_id);
        let _ = replayer.state_at(&s.stream_id, s.last_version);
        if let Ok(t) = crate::time::parse_time_bound("2024") {
            let _ = store.version_at_time(&s.stream_id, t);
        }
    }
}

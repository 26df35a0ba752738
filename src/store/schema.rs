//! The native layout: the SQLite form of go-mink's event table.

use rusqlite::Connection;

/// Idempotent DDL for the native layout. `snapshots` and `checkpoints` (where each consumer
/// stands: its last processed global position, what it follows — `$all`, a category, or
/// `stream:ID` — and when it last moved) are optional when reading; so are
/// `topic` and `category`, which keep what an import from another layout needs to
/// round-trip (go-mink's own tables do not have them), and a `timestamp` may be NULL where
/// the events came from a layout without times.
pub const NATIVE_DDL: &str = "
CREATE TABLE IF NOT EXISTS events (
  global_position INTEGER PRIMARY KEY,
  stream_id   TEXT    NOT NULL,
  version     INTEGER NOT NULL,
  event_id    TEXT    NOT NULL UNIQUE,
  event_type  TEXT    NOT NULL,
  data        TEXT    NOT NULL,
  metadata    TEXT    NOT NULL DEFAULT '{}',
  timestamp   TEXT,
  topic       TEXT,
  category    TEXT,
  schema_version    TEXT,
  original_position INTEGER,
  undecodable TEXT,
  UNIQUE (stream_id, version)
);
CREATE TABLE IF NOT EXISTS stream_categories (
  stream_id TEXT PRIMARY KEY,
  category  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (
  name       TEXT PRIMARY KEY,
  kind       TEXT NOT NULL DEFAULT 'projection',
  follows    TEXT NOT NULL DEFAULT '$all',
  position   INTEGER NOT NULL,
  updated_at TEXT,
  status     TEXT,
  error      TEXT
);
CREATE TABLE IF NOT EXISTS snapshots (
  stream_id  TEXT NOT NULL,
  version    INTEGER NOT NULL,
  data       TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (stream_id, version)
);
";

/// Columns an older native store (go-mink's, or eventscope's before import kept everything)
/// lacks; added to the copy that `import` writes, never to a store in place.
pub const OPTIONAL_COLUMNS: [(&str, &str); 5] = [
    ("topic", "TEXT"),
    ("category", "TEXT"),
    ("schema_version", "TEXT"),
    ("original_position", "INTEGER"),
    ("undecodable", "TEXT"),
];

/// Names of the tables in the database, sorted.
pub fn tables(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt =
        conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")?;
    let names = stmt.query_map([], |r| r.get(0))?;
    names.collect()
}

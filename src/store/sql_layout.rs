//! A layout of a server database (PostgreSQL, MySQL/MariaDB) as SQL over the envelope:
//! each backend's `layouts.rs` writes the expressions in its dialect, its store reads
//! through them.

use crate::store::layout::{Decoder, Layout};
use crate::time::EpochUnit;

/// How a layout's events are read: every field an SQL expression over `from`.
#[derive(Debug, Clone)]
pub struct SqlLayout {
    pub layout: Layout,
    pub name: &'static str,
    /// Where the events table lives, for messages.
    pub table: String,
    /// The events table, quoted, for the catalog's estimates.
    pub relation: String,
    pub from: String,
    /// The global order's key (an indexed column where the library has one).
    pub position: String,
    pub stream: String,
    /// Where `stream` is computed (a UUID from 16 bytes, RES's join), a condition with one
    /// `?` for the stream's id that an index can answer (MySQL; PostgreSQL compares `stream`).
    pub stream_key: Option<String>,
    /// The stored stream position column, and what to add to make versions 1-based.
    pub version: String,
    pub version_offset: i64,
    pub event_id: String,
    pub event_type: String,
    /// Bytes.
    pub data: String,
    pub metadata: String,
    pub time: Option<String>,
    /// Set when `time` is a stored number or text, normalised on this side (`--map`).
    pub time_unit: Option<EpochUnit>,
    pub schema_version: String,
    pub category: Option<String>,
    pub filter: String,
    pub decoder: Decoder,
    /// A streams table: `FROM`, id, last stored version, category.
    pub streams: Option<StreamsTable>,
    pub snapshots: Option<Snapshots>,
    /// How `--follow` knows no earlier position can still appear.
    pub watermark: Watermark,
    /// The channel the library NOTIFYs on commit, where it has one: a follower LISTENs
    /// there and wakes at once instead of waiting for its next poll.
    pub notify_channel: Option<String>,
    /// A condition rows of the whole log meet, not stream reads (Rails Event Store: a
    /// linked event is in the log once).
    pub log_filter: Option<String>,
    /// Where a row is a link: the stream its event was first appended to (RES).
    pub link_of: Option<String>,
}

#[derive(Debug, Clone)]
pub struct StreamsTable {
    pub from: String,
    pub id: String,
    /// The last stored version (before `version_offset`).
    pub version: String,
    pub category: String,
    pub filter: String,
}

#[derive(Debug, Clone)]
pub struct Snapshots {
    pub from: String,
    pub stream: String,
    pub version: String,
    pub data: String,
    pub created_at: String,
    pub decoder: Decoder,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watermark {
    /// Positions from a sequence: a gap may be a transaction still open; wait for the open
    /// transactions before going past one.
    Gaps,
    /// Emmett: rows of transactions older than every open one (`transaction_id <
    /// pg_snapshot_xmin(pg_current_snapshot())`).
    TransactionId,
    /// No global order (cqrs-es): nothing to follow.
    None,
}

/// How a row of Akka's `event_tag` (alias `g`) names its journal row (alias `e`): by
/// `persistence_id` and `sequence_number` where the table has them (5.1 on), else by
/// `event_id` (the journal's `ordering`); `has` tells the tag table's columns.
pub fn akka_tag_join(has: impl Fn(&[&str]) -> bool) -> Option<&'static str> {
    if has(&["persistence_id", "sequence_number"]) {
        Some("g.persistence_id = e.persistence_id AND g.sequence_number = e.sequence_number")
    } else if has(&["event_id"]) {
        Some("g.event_id = e.ordering")
    } else {
        None
    }
}

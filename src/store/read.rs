//! The read side: every query is built from the layout's mapping and streams rows through
//! a callback, so nothing holds a whole stream or store in memory.

use std::ops::{ControlFlow, RangeInclusive};

use rusqlite::{params_from_iter, OptionalExtension, Row, ToSql};

use super::decode::{event_from_row, text};
use super::layout::{class_of_topic, CategoryRule, Decoder};
use super::{Result, Store, StoreError, StreamInfo};
use crate::event::{category_of, Event};

/// A row of the native (or any plain JSON) layout before decoding, borrowed from SQLite's
/// buffers: replay's fast path parses `data` straight into what the reducer needs.
#[derive(Debug, Clone, Copy)]
pub struct RawEvent<'r> {
    pub global_position: i64,
    pub stream_id: &'r str,
    pub version: i64,
    pub event_id: Option<&'r str>,
    pub event_type: &'r str,
    pub data: &'r [u8],
    pub metadata: Option<&'r [u8]>,
    pub timestamp: Option<&'r str>,
}

/// Which of an event's costlier columns a reader needs; the others are read as NULL (a
/// replay whose reducer never reads `$event.metadata` need not fetch it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Columns {
    pub event_id: bool,
    pub metadata: bool,
    pub timestamp: bool,
}

impl Columns {
    pub const ALL: Columns = Columns {
        event_id: true,
        metadata: true,
        timestamp: true,
    };
    pub const NONE: Columns = Columns {
        event_id: false,
        metadata: false,
        timestamp: false,
    };

    /// What either of two readers needs.
    pub fn union(self, other: Columns) -> Columns {
        Columns {
            event_id: self.event_id || other.event_id,
            metadata: self.metadata || other.metadata,
            timestamp: self.timestamp || other.timestamp,
        }
    }
}

/// What `read_stream_rows` hands out: a raw row where the layout allows, else the
/// decoded envelope.
pub enum StreamRow<'r> {
    Raw(RawEvent<'r>),
    Event(Box<Event>),
}

impl StreamRow<'_> {
    pub fn version(&self) -> i64 {
        match self {
            StreamRow::Raw(r) => r.version,
            StreamRow::Event(e) => e.version,
        }
    }

    pub fn event_type(&self) -> &str {
        match self {
            StreamRow::Raw(r) => r.event_type,
            StreamRow::Event(e) => &e.event_type,
        }
    }

    pub fn stream_id(&self) -> &str {
        match self {
            StreamRow::Raw(r) => r.stream_id,
            StreamRow::Event(e) => &e.stream_id,
        }
    }

    pub fn global_position(&self) -> i64 {
        match self {
            StreamRow::Raw(r) => r.global_position,
            StreamRow::Event(e) => e.global_position,
        }
    }

    /// The stored time, where it was read.
    pub fn timestamp(&self) -> Option<&str> {
        match self {
            StreamRow::Raw(r) => r.timestamp,
            StreamRow::Event(e) => e.timestamp.as_deref(),
        }
    }
}

/// A row of the select list as readers hand it out: raw where the layout's payloads are
/// plain JSON and the row needs nothing decoded, else a decoded envelope.
pub(super) fn stream_row<'r>(row: &'r Row, m: &super::Mapping) -> Result<StreamRow<'r>> {
    let raw = (m.decoder == Decoder::Json)
        .then(|| raw_event(row))
        .flatten();
    Ok(match raw {
        Some(raw) => StreamRow::Raw(raw),
        None => StreamRow::Event(Box::new(event_from_row(row, m)?)),
    })
}

fn raw_event<'r>(row: &'r Row) -> Option<RawEvent<'r>> {
    use rusqlite::types::ValueRef as V;
    let str_at = |i| match row.get_ref(i).ok()? {
        V::Text(b) => std::str::from_utf8(b).ok().map(Some),
        V::Null => Some(None),
        _ => None,
    };
    let bytes_at = |i| match row.get_ref(i).ok()? {
        V::Text(b) | V::Blob(b) => Some(Some(b)),
        V::Null => Some(None),
        _ => None,
    };
    Some(RawEvent {
        global_position: row.get(0).ok()?,
        stream_id: str_at(1)??,
        version: row.get(2).ok()?,
        event_id: str_at(3)?,
        event_type: str_at(4)??,
        data: bytes_at(5)??,
        metadata: bytes_at(6)?,
        timestamp: str_at(7)?,
    })
    .filter(|r| {
        (8..=12).all(|i| matches!(row.get_ref(i), Ok(V::Null)))
            && !super::decode::looks_like_zlib(r.data)
    })
}

/// One row of a `search_log`, whatever the backend reads it from: passed over when its
/// type is not `wanted` (where types are compared here rather than in SQL) or `keep` says
/// so; else decoded (a raw row by `decode`) and handed to `f`, `left` counting the limit.
pub(super) fn offer_kept<E, K, F>(
    item: StreamRow<'_>,
    wanted: Option<&str>,
    keep: &mut K,
    decode: impl FnOnce() -> Result<Event>,
    left: &mut usize,
    f: &mut F,
) -> Result<ControlFlow<()>, E>
where
    E: From<StoreError>,
    K: FnMut(&StreamRow<'_>) -> Result<bool, E> + ?Sized,
    F: FnMut(Event) -> Result<ControlFlow<()>, E> + ?Sized,
{
    if wanted.is_some_and(|t| t != item.event_type()) || !keep(&item)? {
        return Ok(ControlFlow::Continue(()));
    }
    let event = match item {
        StreamRow::Event(e) => *e,
        StreamRow::Raw(_) => decode()?,
    };
    *left -= 1;
    Ok(if f(event)?.is_break() || *left == 0 {
        ControlFlow::Break(())
    } else {
        ControlFlow::Continue(())
    })
}

/// `expr` where it is an integer, else NULL: versions stored as text, reals or NULL are
/// left out of counts and ranges (and reported) instead of breaking them.
fn integer_only(expr: &str) -> String {
    format!("CASE WHEN typeof({expr}) = 'integer' THEN {expr} END")
}

/// A row whose version is not an integer.
#[derive(Debug, Clone, PartialEq)]
pub struct BadVersion {
    pub position: i64,
    pub stream_id: String,
    /// The stored value, as text (`NULL` for none).
    pub value: String,
}

/// Rows stream reads passed over because their version is not an integer, for the
/// caller to report (`Store::take_left_out`). Reads check the version each row already
/// carries, which costs nothing on clean rows, instead of asking SQLite for `typeof()`
/// of every row.
#[derive(Default)]
pub struct LeftOut(std::sync::Mutex<Vec<BadVersion>>);

impl LeftOut {
    /// At most this many are kept: enough to name them, bounded on any store.
    const KEPT: usize = 1_000;

    pub(super) fn note(&self, position: i64, stream_id: &str, value: &str) {
        let mut rows = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if rows.len() < Self::KEPT && !rows.iter().any(|b| b.position == position) {
            rows.push(BadVersion {
                position,
                stream_id: stream_id.to_string(),
                value: value.to_string(),
            });
        }
    }

    fn take(&self) -> Vec<BadVersion> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Whether a stream read hands `row` on: a row whose version is not an integer is noted
/// on `left_out` instead. Raw rows always have integer versions.
pub(super) fn whole_version(row: &StreamRow, left_out: &LeftOut) -> bool {
    match row {
        StreamRow::Event(e) => event_has_whole_version(e, left_out),
        StreamRow::Raw(_) => true,
    }
}

/// [`whole_version`] for a decoded event.
fn event_has_whole_version(e: &Event, left_out: &LeftOut) -> bool {
    match &e.bad_version {
        Some(v) => {
            left_out.note(e.global_position, &e.stream_id, v);
            false
        }
        None => true,
    }
}

/// An event's place and time, for time lookups.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeRow {
    pub position: i64,
    pub stream_id: String,
    pub version: i64,
    /// In the envelope's form; `None` where the row has no time.
    pub time: Option<String>,
}

/// The parameters of `stream_range_sql`: the stream and the bounds of its versions.
fn stream_range_params(stream: &str, versions: &RangeInclusive<i64>) -> Vec<Box<dyn ToSql>> {
    vec![
        Box::new(stream.to_string()),
        Box::new(*versions.start()),
        Box::new(*versions.end()),
    ]
}

/// Which part of the global log to read.
#[derive(Debug, Clone)]
pub struct LogFilter {
    pub stream: Option<String>,
    pub event_type: Option<String>,
    /// First global position to include.
    pub from_position: i64,
    pub limit: Option<usize>,
    /// Only these streams (a category's, say), read in one pass in global order.
    pub streams: Option<Vec<String>>,
    /// Last global position to include.
    pub to_position: Option<i64>,
    /// Rows to pass over first (after the other conditions): the category view's rows
    /// are by their rank in the category, not by position.
    pub offset: usize,
    /// Stream by stream (each in version order) instead of global order: for folds of
    /// many streams that are independent of each other, this reads through the stream
    /// index without sorting, and a stream's events come together.
    pub by_stream: bool,
    /// Which costlier columns `read_log_rows` reads (the others come as NULL): a fold
    /// whose reducer never reads `$event.metadata` need not fetch it. All when `None`.
    pub columns: Option<Columns>,
}

impl Default for LogFilter {
    /// The whole log: positions 0 and below are positions too (imports and `--map`
    /// tables have them).
    fn default() -> Self {
        LogFilter {
            stream: None,
            event_type: None,
            from_position: i64::MIN,
            limit: None,
            streams: None,
            to_position: None,
            offset: 0,
            by_stream: false,
            columns: None,
        }
    }
}

impl Store {
    fn category_expr(&self) -> String {
        match &self.mapping.category {
            CategoryRule::Prefix => "NULL".into(),
            CategoryRule::Column(c) | CategoryRule::Topic(c) => format!("MIN({c})"),
            // Per stream from `stream_categories` instead: a MIN over every row would read
            // the whole table.
            CategoryRule::ColumnOrPrefix(_) => "NULL".into(),
        }
    }

    /// A stream-list row. From the fast query (plain MAX/MIN, column 5 = NULL versions) it
    /// is `None` when a version may not be an integer: text sorts above numbers, so it
    /// shows in MAX; then the stream is counted again by the exact query.
    fn fast_stream_info(&self, row: &Row) -> Result<Option<StreamInfo>> {
        use rusqlite::types::ValueRef as V;
        let whole = |i| matches!(row.get_ref(i), Ok(V::Integer(_)));
        let nulls: i64 = row.get(5)?;
        if !whole(2) || !whole(4) || nulls > 0 {
            return Ok(None);
        }
        self.row_to_stream_info(row).map(Some)
    }

    fn row_to_stream_info(&self, row: &Row) -> Result<StreamInfo> {
        let stream_id = text(row, 0)?.unwrap_or_default();
        let found = text(row, 3)?.unwrap_or_default();
        let category = match &self.mapping.category {
            CategoryRule::Prefix => category_of(&stream_id).to_string(),
            CategoryRule::Column(_) => found,
            CategoryRule::ColumnOrPrefix(_) if found.is_empty() => {
                category_of(&stream_id).to_string()
            }
            CategoryRule::ColumnOrPrefix(_) => found,
            CategoryRule::Topic(_) => class_of_topic(&found).to_string(),
        };
        Ok(StreamInfo {
            stream_id,
            category,
            events: row.get(1)?,
            first_version: row.get::<_, Option<i64>>(4)?.unwrap_or(1),
            last_version: row.get::<_, Option<i64>>(2)?.unwrap_or(0),
            bad_versions: row.get::<_, Option<i64>>(5)?.unwrap_or(0),
            events_estimated: false,
        })
    }

    /// Every stream with its event count and last version, ordered by id.
    pub fn streams(&self) -> Result<Vec<StreamInfo>> {
        let m = &self.mapping;
        let sql = format!(
            "SELECT {}, COUNT(*), MAX({v}), {}, MIN({v}), COUNT(*) - COUNT({v}) FROM {}{} GROUP BY 1 ORDER BY 1",
            m.stream,
            self.category_expr(),
            m.table,
            m.where_clause(""),
            v = m.version,
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        let mut suspect = Vec::new();
        while let Some(row) = rows.next()? {
            match self.fast_stream_info(row)? {
                Some(info) => out.push(info),
                None => suspect.push((out.len(), text(row, 0)?.unwrap_or_default())),
            }
        }
        drop(rows);
        // A real version between two integers passes this check unseen by the list
        // (`check` reads every row); replays leave it out all the same.
        for (at, stream) in suspect.into_iter().rev() {
            if let Some(info) = self.stream_info(&stream)? {
                out.insert(at, info);
            }
        }
        let named = self.named_categories(None)?;
        if !named.is_empty() {
            for s in &mut out {
                if let Some(c) = named.get(&s.stream_id) {
                    s.category = c.clone();
                }
            }
        }
        Ok(out)
    }

    /// Categories kept per stream by an import (`stream_categories`), where they are not
    /// the prefix of the id.
    pub(super) fn named_categories(
        &self,
        stream: Option<&str>,
    ) -> Result<std::collections::HashMap<String, String>> {
        let mut out = std::collections::HashMap::new();
        if !matches!(self.mapping.category, CategoryRule::ColumnOrPrefix(_)) {
            return Ok(out);
        }
        let sql = match stream {
            Some(_) => "SELECT stream_id, category FROM stream_categories WHERE stream_id = ?1",
            None => "SELECT stream_id, category FROM stream_categories",
        };
        let Ok(mut stmt) = self.conn.prepare_cached(sql) else {
            return Ok(out);
        };
        let mut rows = match stream {
            Some(s) => stmt.query([s])?,
            None => stmt.query([])?,
        };
        while let Some(row) = rows.next()? {
            out.insert(row.get(0)?, row.get(1)?);
        }
        Ok(out)
    }

    /// The list entry of one stream, or `None` when it has no events.
    pub fn stream_info(&self, stream: &str) -> Result<Option<StreamInfo>> {
        let m = &self.mapping;
        let sql = format!(
            "SELECT {}, COUNT(*), MAX({i}), {}, MIN({i}), SUM(typeof({v}) <> 'integer') FROM {}{} GROUP BY 1",
            m.stream,
            self.category_expr(),
            m.table,
            m.where_clause(&m.stream_is("?1")),
            v = m.version,
            i = integer_only(&m.version)
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query([stream])?;
        let mut info = rows
            .next()?
            .map(|r| self.row_to_stream_info(r))
            .transpose()?;
        if let Some(info) = &mut info {
            if let Some(c) = self.named_categories(Some(stream))?.remove(stream) {
                info.category = c;
            }
        }
        Ok(info)
    }

    /// The stream's last version, or `None` when it has no events: one index lookup, unlike
    /// the count in `stream_info`.
    pub fn last_version(&self, stream: &str) -> Result<Option<i64>> {
        self.stream_end(stream, "DESC")
    }

    /// The stream's first version, or `None` when it has no events.
    pub fn first_version(&self, stream: &str) -> Result<Option<i64>> {
        self.stream_end(stream, "ASC")
    }

    /// Whether the stream has rows (`None` when not), and how many of them have a
    /// version that is NULL, text or a blob: index lookups, unlike the count in
    /// `stream_info`. A real version inside the stream's range is found by the read that
    /// meets it (`take_left_out`).
    pub fn stream_found(&self, stream: &str) -> Result<Option<i64>> {
        let m = &self.mapping;
        // Text and blobs sort above every number, NULL below: both ends of the index.
        // Two range counts: an OR of the two would walk the whole stream's entries.
        let count = |cond: &str| {
            format!(
                "(SELECT COUNT(*) FROM {}{})",
                m.table,
                m.where_clause(&format!("{} AND {cond}", m.stream_is("?1")))
            )
        };
        let sql = format!(
            "SELECT {} + {}",
            count(&format!("{} IS NULL", m.version)),
            count(&format!("{} > 9223372036854775807", m.version))
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let outside: i64 = stmt.query_row([stream], |r| r.get(0))?;
        if outside > 0 || self.last_version(stream)?.is_some() {
            return Ok(Some(outside));
        }
        // Only reals (or nothing): one more look.
        let sql = format!(
            "SELECT COUNT(*) FROM {}{}",
            m.table,
            m.where_clause(&m.stream_is("?1"))
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows: i64 = stmt.query_row([stream], |r| r.get(0))?;
        Ok((rows > 0).then_some(rows))
    }

    fn stream_end(&self, stream: &str, order: &str) -> Result<Option<i64>> {
        let m = &self.mapping;
        let sql = format!(
            "SELECT {v} FROM {}{} ORDER BY {v} {order} LIMIT 1",
            m.table,
            m.where_clause(&format!(
                "{} AND typeof({v}) = 'integer'",
                m.stream_is("?1"),
                v = m.version
            )),
            v = m.version
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        Ok(stmt.query_row([stream], |r| r.get(0)).optional()?)
    }

    /// The event at `version` of `stream`, or the last one below it where that version is
    /// missing: the event a state at `version` ends with.
    pub fn event_at_or_before(&self, stream: &str, version: i64) -> Result<Option<Event>> {
        let m = &self.mapping;
        let sql = format!(
            "SELECT {} FROM {}{} ORDER BY {v} DESC LIMIT 1",
            m.select_list(),
            m.table,
            m.where_clause(&format!(
                "{} AND {v} <= ?2",
                m.stream_is("?1"),
                v = m.version
            )),
            v = m.version
        );
        let params: Vec<Box<dyn ToSql>> = vec![Box::new(stream.to_string()), Box::new(version)];
        let mut found = None;
        self.query_events(&sql, &params, |e| {
            found = Some(e);
            Ok::<_, StoreError>(ControlFlow::Break(()))
        })?;
        Ok(found)
    }

    /// `SELECT columns` of one stream's rows with versions between `?2` and `?3`, in
    /// version order; `?1` is the stream.
    fn stream_range_sql(&self, columns: &str) -> String {
        let m = &self.mapping;
        format!(
            "SELECT {columns} FROM {}{} ORDER BY {v}",
            m.table,
            // Text, blobs and NULL fall outside any integer range; a real inside one is
            // passed over by the reader (`whole_version`).
            m.where_clause(&format!(
                "{} AND {v} BETWEEN ?2 AND ?3",
                m.stream_is("?1"),
                v = m.version
            )),
            v = m.version
        )
    }

    /// Reads a stream's events whose version lies in `versions`, in version order.
    pub fn read_stream<E: From<StoreError>>(
        &self,
        stream: &str,
        versions: RangeInclusive<i64>,
        f: impl FnMut(Event) -> Result<ControlFlow<()>, E>,
    ) -> Result<(), E> {
        let sql = self.stream_range_sql(&self.mapping.select_list());
        let mut f = f;
        self.query_events(&sql, &stream_range_params(stream, &versions), |e| {
            if !event_has_whole_version(&e, &self.left_out) {
                return Ok(ControlFlow::Continue(()));
            }
            f(e)
        })
    }

    /// The rows stream reads have passed over since the last call because their version
    /// is not an integer.
    pub fn take_left_out(&self) -> Vec<BadVersion> {
        self.left_out.take()
    }

    /// Like `read_stream`, but hands out raw rows where the layout's payloads are plain
    /// JSON, so a replay can skip building envelopes it does not need.
    pub fn read_stream_rows<E: From<StoreError>>(
        &self,
        stream: &str,
        versions: RangeInclusive<i64>,
        columns: Columns,
        mut f: impl FnMut(StreamRow<'_>) -> Result<ControlFlow<()>, E>,
    ) -> Result<(), E> {
        let sql = self.stream_range_sql(&self.mapping.select_list_of(columns));
        if let Some(done) = super::read_ahead::read(self, &sql, stream, &versions, &mut f) {
            return done;
        }
        self.each_row(&sql, &stream_range_params(stream, &versions), |r, _| {
            if !whole_version(&r, &self.left_out) {
                return Ok(ControlFlow::Continue(()));
            }
            f(r)
        })
    }

    /// The log (as `filter` selects it, its limit counting kept events), with `keep` asked
    /// of each row before it is decoded: raw rows where the payloads are plain JSON, so a
    /// text or jq test need not build an envelope for events it drops.
    pub fn search_log<E: From<StoreError>>(
        &self,
        filter: &LogFilter,
        mut keep: impl FnMut(&StreamRow<'_>) -> Result<bool, E>,
        mut f: impl FnMut(Event) -> Result<ControlFlow<()>, E>,
    ) -> Result<(), E> {
        let m = &self.mapping;
        let type_in_rust = m.decoder == Decoder::Eventsourcing;
        let unlimited = LogFilter {
            limit: None,
            ..filter.clone()
        };
        let (sql, params) = self.log_query(&m.select_list(), &unlimited, type_in_rust);
        let mut left = filter.limit.unwrap_or(usize::MAX);
        if left == 0 {
            return Ok(());
        }
        let wanted = filter.event_type.as_deref().filter(|_| type_in_rust);
        self.each_row(&sql, &params, |item, row| {
            offer_kept(
                item,
                wanted,
                &mut keep,
                || event_from_row(row, m),
                &mut left,
                &mut f,
            )
        })
    }

    /// Runs a query of the select list, handing out raw rows where the payloads are plain
    /// JSON and decoded events elsewhere, each with the SQL row it came from (to decode a
    /// raw row that turns out to be wanted whole).
    fn each_row<E: From<StoreError>>(
        &self,
        sql: &str,
        params: &[Box<dyn ToSql>],
        mut f: impl FnMut(StreamRow<'_>, &Row) -> Result<ControlFlow<()>, E>,
    ) -> Result<(), E> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(StoreError::from)?;
        let mut rows = stmt
            .query(params_from_iter(params.iter()))
            .map_err(StoreError::from)?;
        while let Some(row) = rows.next().map_err(StoreError::from)? {
            if f(stream_row(row, &self.mapping)?, row)?.is_break() {
                break;
            }
        }
        Ok(())
    }

    /// Each event's version and raw payload, for folds that need nothing else (the
    /// built-in merge). `None` when the layout's payloads need decoding first.
    pub fn read_stream_payloads<E: From<StoreError>>(
        &self,
        stream: &str,
        versions: RangeInclusive<i64>,
        mut f: impl FnMut(i64, &[u8]) -> Result<ControlFlow<()>, E>,
    ) -> Result<Option<()>, E> {
        let m = &self.mapping;
        if m.decoder != Decoder::Json {
            return Ok(None);
        }
        let sql = self.stream_range_sql(&format!("{}, {}, {}", m.version, m.data, m.position));
        let mut stmt = self.conn.prepare_cached(&sql).map_err(StoreError::from)?;
        let mut rows = stmt
            .query(rusqlite::params![stream, versions.start(), versions.end()])
            .map_err(StoreError::from)?;
        while let Some(row) = rows.next().map_err(StoreError::from)? {
            let version = match row.get_ref(0).map_err(StoreError::from)? {
                rusqlite::types::ValueRef::Integer(v) => v,
                _ => {
                    let shown = text(row, 0)?.unwrap_or_else(|| "NULL".into());
                    let position = row.get(2).unwrap_or_default();
                    self.left_out.note(position, stream, &shown);
                    continue;
                }
            };
            let data = match row.get_ref(1).map_err(StoreError::from)? {
                rusqlite::types::ValueRef::Text(b) | rusqlite::types::ValueRef::Blob(b) => b,
                _ => &[],
            };
            if f(version, data)?.is_break() {
                break;
            }
        }
        Ok(Some(()))
    }

    /// Like [`Store::read_log`] (without the type filter), handing out raw rows where the
    /// payloads are plain JSON, as `read_stream_rows` does: what one-pass folds over many
    /// streams read.
    pub fn read_log_rows<E: From<StoreError>>(
        &self,
        filter: &LogFilter,
        mut f: impl FnMut(StreamRow<'_>) -> Result<ControlFlow<()>, E>,
    ) -> Result<(), E> {
        let m = &self.mapping;
        let unfiltered = LogFilter {
            event_type: None,
            ..filter.clone()
        };
        let columns = m.select_list_of(filter.columns.unwrap_or(Columns::ALL));
        let (sql, params) = self.log_query(&columns, &unfiltered, false);
        self.each_row(&sql, &params, |r, _| f(r))
    }

    fn query_events<E: From<StoreError>>(
        &self,
        sql: &str,
        params: &[Box<dyn ToSql>],
        mut f: impl FnMut(Event) -> Result<ControlFlow<()>, E>,
    ) -> Result<(), E> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(StoreError::from)?;
        let mut rows = stmt
            .query(params_from_iter(params.iter()))
            .map_err(StoreError::from)?;
        while let Some(row) = rows.next().map_err(StoreError::from)? {
            if f(event_from_row(row, &self.mapping)?)?.is_break() {
                break;
            }
        }
        Ok(())
    }

    /// Whether events carry times: cqrs-es records none, and neither does a copy of such a
    /// store (`events --json | import`), whose time column holds only NULLs.
    pub fn has_times(&self) -> bool {
        if self.mapping.decoder == Decoder::Eventsourcing {
            return true;
        }
        let Some(time) = &self.mapping.time else {
            return false;
        };
        if let Some(known) = self.any_time.get() {
            return *known;
        }
        let m = &self.mapping;
        let ask = |cond: &str| {
            let sql = format!("SELECT 1 FROM {}{} LIMIT 1", m.table, m.where_clause(cond));
            self.conn
                .prepare_cached(&sql)
                .and_then(|mut st| st.exists([]))
        };
        match (ask(&format!("{time} IS NOT NULL")), ask("1")) {
            (Ok(timed), Ok(true)) => *self.any_time.get_or_init(|| timed),
            // Empty, or unreadable: the layout's word, as before.
            _ => true,
        }
    }

    fn need_times(&self) -> Result<()> {
        if self.has_times() {
            Ok(())
        } else {
            Err(StoreError::NoTimes)
        }
    }

    /// Where the layout keeps event times, for messages.
    pub(super) fn time_column(&self) -> String {
        match &self.mapping.time {
            Some(c) => format!("{}.{}", self.mapping.table, c),
            None => format!(
                "{}.{} (its timestamp)",
                self.mapping.table, self.mapping.data
            ),
        }
    }

    /// Reads the global log in order, filtered.
    pub fn read_log<E: From<StoreError>>(
        &self,
        filter: &LogFilter,
        mut f: impl FnMut(Event) -> Result<ControlFlow<()>, E>,
    ) -> Result<(), E> {
        if filter.limit == Some(0) {
            return Ok(());
        }
        // Topics hold the type's full name, so that filter is applied to decoded events.
        let type_in_rust = self.mapping.decoder == Decoder::Eventsourcing;
        let (sql, params) = self.log_query(&self.mapping.select_list(), filter, type_in_rust);
        if !type_in_rust || filter.event_type.is_none() {
            return self.query_events(&sql, &params, f);
        }
        let wanted = filter.event_type.clone().unwrap_or_default();
        let mut left = filter.limit.unwrap_or(usize::MAX);
        self.query_events(&sql, &params, |e| {
            if e.event_type != wanted {
                return Ok(ControlFlow::Continue(()));
            }
            left -= 1;
            match f(e)? {
                ControlFlow::Continue(()) if left > 0 => Ok(ControlFlow::Continue(())),
                _ => Ok(ControlFlow::Break(())),
            }
        })
    }

    /// Each event's place and time (in the envelope's form), in global order: enough for
    /// time lookups and density charts, without reading payloads where the layout has a
    /// time column.
    pub fn for_each_time(
        &self,
        filter: &LogFilter,
        mut f: impl FnMut(TimeRow) -> Result<ControlFlow<()>>,
    ) -> Result<()> {
        self.need_times()?;
        let m = &self.mapping;
        if m.time.is_none() {
            return self.read_log(filter, |e| {
                f(TimeRow {
                    position: e.global_position,
                    stream_id: e.stream_id,
                    version: e.version,
                    time: e.timestamp,
                })
            });
        }
        let columns = format!(
            "{}, {}, {}, {}",
            m.position,
            m.stream,
            m.version,
            m.time.as_deref().unwrap_or("NULL")
        );
        let (sql, params) = self.log_query(&columns, filter, false);
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params_from_iter(params.iter()))?;
        while let Some(row) = rows.next()? {
            let item = TimeRow {
                position: row.get(0)?,
                stream_id: text(row, 1)?.unwrap_or_default(),
                version: row.get(2)?,
                time: super::decode::time_of(row, 3, m)?,
            };
            if f(item)?.is_break() {
                break;
            }
        }
        Ok(())
    }

    fn log_query(
        &self,
        columns: &str,
        filter: &LogFilter,
        skip_type: bool,
    ) -> (String, Vec<Box<dyn ToSql>>) {
        let m = &self.mapping;
        // Reads of chosen streams see every row of them; the whole log each event once.
        let whole = filter.stream.is_none() && filter.streams.is_none();
        let cond = format!("{} >= ?", m.position);
        let mut sql = format!(
            "SELECT {columns} FROM {}{}",
            m.table,
            if whole {
                m.log_where_clause(&cond)
            } else {
                m.where_clause(&cond)
            }
        );
        let mut params: Vec<Box<dyn ToSql>> = vec![Box::new(filter.from_position)];
        if let Some(stream) = &filter.stream {
            // Numbered: `stream_is` may name it twice; a later `?` takes the next number.
            sql.push_str(&format!(
                " AND {}",
                m.stream_is(&format!("?{}", params.len() + 1))
            ));
            params.push(Box::new(stream.clone()));
        }
        if let Some(streams) = &filter.streams {
            // One parameter however many streams: a JSON array SQLite unpacks. Past a few
            // dozen streams, reading the log in position order and testing each row beats
            // looking each stream up and sorting them all (`+` keeps SQLite off the index).
            let column = if streams.len() > 64 && !filter.by_stream {
                format!("+{}", m.stream)
            } else {
                m.stream.clone()
            };
            sql.push_str(&format!(
                " AND {column} IN (SELECT value FROM json_each(?))"
            ));
            params.push(Box::new(serde_json::to_string(streams).unwrap_or_default()));
        }
        if let Some(to) = filter.to_position {
            sql.push_str(&format!(" AND {} <= ?", m.position));
            params.push(Box::new(to));
        }
        let mut limit = filter.limit;
        if let Some(ty) = &filter.event_type {
            if skip_type {
                limit = None;
            } else {
                sql.push_str(&format!(" AND {} = ?", m.event_type));
                params.push(Box::new(ty.clone()));
            }
        }
        if filter.by_stream {
            sql.push_str(&format!(" ORDER BY {}, {}", m.stream, m.version));
        } else {
            sql.push_str(&format!(" ORDER BY {}", m.position));
        }
        match (limit, filter.offset) {
            (Some(limit), 0) => sql.push_str(&format!(" LIMIT {limit}")),
            (Some(limit), offset) => sql.push_str(&format!(" LIMIT {limit} OFFSET {offset}")),
            (None, 0) => {}
            (None, offset) => sql.push_str(&format!(" LIMIT -1 OFFSET {offset}")),
        }
        (sql, params)
    }

    /// Every row whose version is not an integer, in global order.
    pub fn bad_versions(&self) -> Result<Vec<BadVersion>> {
        let m = &self.mapping;
        let sql = format!(
            "SELECT {p}, {s}, {v} FROM {t}{w} ORDER BY {p}",
            p = m.position,
            s = m.stream,
            v = m.version,
            t = m.table,
            w = m.where_clause(&format!("typeof({}) <> 'integer'", m.version)),
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(BadVersion {
                position: row.get(0)?,
                stream_id: text(row, 1)?.unwrap_or_default(),
                value: text(row, 2)?.unwrap_or_else(|| "NULL".into()),
            });
        }
        Ok(out)
    }

    /// How many events lie past global position `after`: what a refresh would add.
    pub fn count_after(&self, after: i64) -> Result<i64> {
        let m = &self.mapping;
        let sql = format!(
            "SELECT COUNT(*) FROM {}{}",
            m.table,
            m.log_where_clause(&format!("{} > ?1", m.position))
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        Ok(stmt.query_row([after], |r| r.get(0))?)
    }

    /// The highest global position in the store (0 when it is empty).
    pub fn last_position(&self) -> Result<i64> {
        let m = &self.mapping;
        let sql = format!(
            "SELECT COALESCE(MAX({}), 0) FROM {}{}",
            m.position,
            m.table,
            m.where_clause("")
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        Ok(stmt.query_row([], |r| r.get(0))?)
    }

    /// The category of a stream, as the stream list shows it.
    pub fn stream_category(&self, stream: &str) -> Result<String> {
        if matches!(
            self.mapping.category,
            CategoryRule::Prefix | CategoryRule::ColumnOrPrefix(_)
        ) {
            if let Some(c) = self.named_categories(Some(stream))?.remove(stream) {
                return Ok(c);
            }
            return Ok(category_of(stream).to_string());
        }
        // The first row's, one index lookup: a category column holds one value per
        // stream, and every topic of a stream names the same class.
        let m = &self.mapping;
        let (CategoryRule::Column(column) | CategoryRule::Topic(column)) = &m.category else {
            return Ok(category_of(stream).to_string());
        };
        let sql = format!(
            "SELECT {column} FROM {}{} ORDER BY {} LIMIT 1",
            m.table,
            m.where_clause(&m.stream_is("?1")),
            m.version
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query([stream])?;
        let found = match rows.next()? {
            Some(row) => text(row, 0)?,
            None => return Ok(category_of(stream).to_string()),
        };
        Ok(match (&m.category, found) {
            (CategoryRule::Topic(_), Some(t)) => class_of_topic(&t).to_string(),
            (_, Some(c)) => c,
            (_, None) => String::new(),
        })
    }
}

//! MySQL and MariaDB stores, read-only: one session per store (and one per follower), every
//! read a keyset page (`WHERE key > ? ORDER BY key LIMIT n`), so no transaction stays open
//! between pages and memory stays bounded whatever the store's size. The layouts are the
//! same [`SqlLayout`]s PostgreSQL reads, written in MySQL's dialect (`layouts.rs`).

mod connect;
mod consumers;
mod follow;
mod layouts;
mod read_model;

use std::cell::{Cell, RefCell};
use std::ops::{ControlFlow, RangeInclusive};

use mysql::prelude::Queryable;
use mysql::{Conn, Value};

use super::decode::{event_from_parts, looks_like_zlib, stored_time_text, RowParts};
use super::layout::{class_of_topic, Decoder};
use super::map_spec::{spec_text, MapPairs};
use super::server_rows;
use super::source::{EventFn, Follow, KeepFn, PayloadFn, RowFn, TimeFn};
use super::sql_layout::{SqlLayout, Watermark};
use super::{
    BadVersion, Columns, EventSource, Layout, LogFilter, OpenOptions, RawEvent, Result, Snapshot,
    StoreError, StreamInfo, StreamRow,
};
use crate::event::category_of;
use crate::time::EpochUnit;
use crate::Event;

pub use connect::is_url;
pub use layouts::MYSQL_FORMATS;

/// Rows per page.
const PAGE: i64 = 5_000;
/// Sessions that read ahead: a stream's windows on two at once.
const READERS: usize = 2;

/// A row as the binary protocol hands it: integers as integers, everything else as bytes.
pub(super) struct MyRow(Vec<Value>);

impl MyRow {
    fn int(&self, i: usize) -> Option<i64> {
        match self.0.get(i)? {
            Value::Int(n) => Some(*n),
            Value::UInt(n) => i64::try_from(*n).ok(),
            Value::Bytes(b) => std::str::from_utf8(b).ok()?.trim().parse().ok(),
            Value::Float(f) => Some(*f as i64),
            Value::Double(f) => Some(*f as i64),
            _ => None,
        }
    }

    fn bytes(&self, i: usize) -> Option<&[u8]> {
        match self.0.get(i)? {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    fn str(&self, i: usize) -> Option<&str> {
        std::str::from_utf8(self.bytes(i)?).ok()
    }

    fn text(&self, i: usize) -> Option<String> {
        match self.0.get(i)? {
            Value::NULL => None,
            Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
            Value::Int(n) => Some(n.to_string()),
            Value::UInt(n) => Some(n.to_string()),
            other => Some(other.as_sql(true)),
        }
    }

    fn len(&self) -> usize {
        self.0.len()
    }
}

/// A MySQL or MariaDB database holding one of the known layouts.
pub struct MyStore {
    pub(super) conn: RefCell<Conn>,
    target: connect::Target,
    layout: SqlLayout,
    shown: String,
    /// The upper bound on the global position a one-shot command reads up to.
    pinned: Cell<Option<i64>>,
    /// Inside a one-shot command's consistent-snapshot transaction.
    in_snapshot: Cell<bool>,
    /// The sessions long reads fetch their next pages on, opened when first needed.
    readers: RefCell<Vec<Conn>>,
    /// Inside a snapshot: whether `readers` began theirs with it (`begin_snapshots`).
    readers_share_snapshot: Cell<bool>,
    watcher: RefCell<Option<super::postgres::ConnectionWatcher>>,
}

impl MyStore {
    pub fn open(url: &str, options: &OpenOptions) -> Result<MyStore> {
        let target = connect::Target::parse(url, &options.limits.unwrap_or_default())?;
        let shown = target.shown();
        if let Some(schema) = &options.schema {
            return Err(StoreError::Mysql(format!(
                "{shown}: --schema {schema}: a MySQL database is its own schema; name it in the URL (mysql://HOST/{schema})"
            )));
        }
        let mut conn = target.connect()?;
        if let Some(f) = &options.format {
            if !MYSQL_FORMATS.iter().any(|(name, _, _)| name == f) {
                return Err(StoreError::UnknownFormat(f.clone()));
            }
        }
        let tables = layouts::tables(&mut conn)?;
        let choices = layouts::Choices {
            format: options.format.clone(),
            archived: options.archived,
        };
        let found = match &options.map {
            Some(spec) => vec![layouts::mapped(
                &tables,
                &MapPairs::parse(&spec_text(spec)?)?,
            )?],
            None => layouts::detect(&tables, &choices),
        };
        let found: Vec<SqlLayout> = match &options.table {
            None => found,
            Some(t) => found.into_iter().filter(|l| l.table == *t).collect(),
        };
        let layout = match found.as_slice() {
            [] => {
                let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
                return Err(StoreError::Mysql(format!(
                    "{shown}: no known event store layout{} (tables: {}); --format names one (see `eventscope formats`)",
                    options.table.as_deref().map(|t| format!(" in table {t}")).unwrap_or_default(),
                    if names.is_empty() { "none the user can see".into() } else { names.join(", ") }
                )));
            }
            [one] => one.clone(),
            several => {
                let all: Vec<String> = several
                    .iter()
                    .map(|l| format!("{} ({})", l.name, l.table))
                    .collect();
                return Err(StoreError::Mysql(format!(
                    "{shown}: several event stores: {}; choose with --table or --format",
                    all.join(", ")
                )));
            }
        };
        let store = MyStore::with_session(target, layout, conn);
        // A table the user cannot read fails here, with its name.
        store.query(
            &format!(
                "SELECT 1 FROM {} WHERE {} LIMIT 1",
                store.layout.from, store.layout.filter
            ),
            Vec::new(),
        )?;
        Ok(store)
    }

    fn with_session(target: connect::Target, layout: SqlLayout, conn: Conn) -> MyStore {
        MyStore {
            conn: RefCell::new(conn),
            shown: target.shown(),
            target,
            layout,
            pinned: Cell::new(None),
            in_snapshot: Cell::new(false),
            readers: RefCell::new(Vec::new()),
            readers_share_snapshot: Cell::new(false),
            watcher: RefCell::new(None),
        }
    }

    fn reconnect(&self, conn: &mut Conn) -> Result<()> {
        let tell = |what: Option<String>| {
            if let Some(w) = self.watcher.borrow().as_ref() {
                w(what)
            }
        };
        tell(Some(format!(
            "connection to {} lost: reconnecting…",
            self.shown
        )));
        *conn = self.target.connect()?;
        tell(None);
        Ok(())
    }

    /// Runs a query; a dropped connection is opened again and the query retried once,
    /// except inside a command's snapshot, which a new session could not see.
    pub(super) fn query(&self, sql: &str, params: Vec<Value>) -> Result<Vec<MyRow>> {
        let mut conn = self.conn.borrow_mut();
        let run = |conn: &mut Conn| -> std::result::Result<Vec<MyRow>, mysql::Error> {
            let rows: Vec<mysql::Row> = if params.is_empty() {
                conn.query(sql)?
            } else {
                conn.exec(sql, params.clone())?
            };
            Ok(rows.into_iter().map(|r| MyRow(r.unwrap())).collect())
        };
        match run(&mut conn) {
            Ok(rows) => Ok(rows),
            Err(e) if session_lost(&e) && self.in_snapshot.get() => Err(StoreError::Mysql(format!(
                "{}: the connection was lost in the middle of a read of one snapshot; run the command again",
                self.shown
            ))),
            Err(e) if session_lost(&e) => {
                self.reconnect(&mut conn)?;
                run(&mut conn).map_err(db_error)
            }
            Err(e) => Err(db_error(e)),
        }
    }

    fn one_row(&self, sql: &str, params: Vec<Value>) -> Result<Option<MyRow>> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    pub(super) fn select_list(&self) -> String {
        self.select_list_of(Columns::ALL)
    }

    /// The select list (the same columns as PostgreSQL's) with NULL for what a reader
    /// does not need.
    fn select_list_of(&self, wanted: Columns) -> String {
        let l = &self.layout;
        let only = |want: bool, e: &str| if want { e.to_string() } else { "NULL".into() };
        let original = if l.version_offset != 0 {
            format!("CAST({} AS SIGNED)", l.version)
        } else {
            "NULL".into()
        };
        format!(
            "CAST({} AS SIGNED), {}, CAST({} + {} AS SIGNED), {}, {}, {}, {}, {}, {}, {original}, {}, {}",
            l.position,
            l.stream,
            l.version,
            l.version_offset,
            only(wanted.event_id, &l.event_id),
            l.event_type,
            l.data,
            only(wanted.metadata, &l.metadata),
            only(wanted.timestamp, l.time.as_deref().unwrap_or("NULL")),
            l.schema_version,
            l.category.as_deref().unwrap_or("NULL"),
            l.link_of.as_deref().unwrap_or("NULL"),
        )
    }

    /// The layout's condition, the pinned bound and `cond`.
    fn condition(&self, cond: &str) -> String {
        let mut out = format!("({})", self.layout.filter);
        if let Some(p) = self.pinned.get() {
            out.push_str(&format!(" AND {} <= {p}", self.layout.position));
        }
        if !cond.is_empty() {
            out.push_str(" AND ");
            out.push_str(cond);
        }
        out
    }

    /// A stream's rows: the index finds them by the column's collation (often
    /// case-insensitive), the bytes then keep only this stream's. Two parameters.
    pub(super) fn stream_cond(&self, stream: &str) -> String {
        let s = &self.layout.stream;
        let found = match &self.layout.stream_key {
            // Rails Event Store's `all` has no join row to find.
            Some(_) if self.layout.layout == Layout::RailsEventStore && stream == "all" => {
                format!("{s} = ?")
            }
            Some(key) => key.clone(),
            None => format!("{s} = ?"),
        };
        format!("{found} AND CAST({s} AS BINARY) = CAST(? AS BINARY)")
    }

    pub(super) fn stream_params(stream: &str) -> Vec<Value> {
        vec![stream.into(), stream.into()]
    }

    /// Pages through `SELECT columns FROM from WHERE cond AND key > ? ORDER BY key`: `key`
    /// is the select list's column `key_at`; `params` are the condition's, before the key's.
    /// With `until`, pages are windows of keys up to it (a stream's dense versions).
    #[allow(clippy::too_many_arguments)]
    fn pages(
        &self,
        columns: &str,
        cond: &str,
        key: &str,
        key_at: usize,
        after: i64,
        until: Option<i64>,
        params: &[Value],
        f: &mut dyn FnMut(&MyRow) -> Result<ControlFlow<()>>,
    ) -> Result<()> {
        let sql = match until {
            Some(_) => format!(
                "SELECT {columns} FROM {} WHERE {} AND {key} > ? AND {key} <= ? ORDER BY {key}",
                self.layout.from,
                self.condition(cond)
            ),
            None => format!(
                "SELECT {columns} FROM {} WHERE {} AND {key} > ? ORDER BY {key} LIMIT {PAGE}",
                self.layout.from,
                self.condition(cond)
            ),
        };
        let with_key = |last: i64| {
            let mut all = params.to_vec();
            all.push(last.into());
            if until.is_some() {
                all.push(last.saturating_add(PAGE).into());
            }
            all
        };
        let next_key = |rows: &[MyRow], last: i64| match until {
            Some(u) => (last.saturating_add(PAGE) < u).then(|| last + PAGE),
            None if rows.len() as i64 == PAGE => rows.last().and_then(|r| r.int(key_at)),
            None => None,
        };
        let mut last = after;
        let rows = self.query(&sql, with_key(last))?;
        for row in &rows {
            if f(row)?.is_break() {
                return Ok(());
            }
        }
        let Some(next) = next_key(&rows, last) else {
            return Ok(());
        };
        last = next;
        if self.in_snapshot.get() && !self.readers_share_snapshot.get() {
            // No other session sees what this one's snapshot sees: page here.
            loop {
                let rows = self.query(&sql, with_key(last))?;
                for row in &rows {
                    if f(row)?.is_break() {
                        return Ok(());
                    }
                }
                match next_key(&rows, last) {
                    Some(k) => last = k,
                    None => return Ok(()),
                }
            }
        }
        // A long read: other sessions fetch the next pages while this thread folds the
        // current one, so the server's work and the client's overlap. A stream's windows
        // are known ahead, so two sessions fetch alternate ones: InnoDB's lookup of each
        // row by its primary key, not the transfer, is most of a window's time.
        let lanes = if until.is_some() { READERS } else { 1 };
        let mut readers = std::mem::take(&mut *self.readers.borrow_mut());
        // Inside a snapshot only the sessions begun with it may read (pin_snapshot).
        while readers.len() < lanes && !self.in_snapshot.get() {
            readers.push(self.target.connect()?);
        }
        let lanes = lanes.min(readers.len()).max(1);
        if readers.is_empty() {
            return Err(StoreError::Mysql(
                "the read-ahead sessions of this snapshot were lost; run the command again".into(),
            ));
        }
        let step = PAGE * lanes as i64;
        let outcome = std::thread::scope(|scope| -> Result<()> {
            let (sql, with_key, next_key) = (&sql, &with_key, &next_key);
            let mut lines = Vec::new();
            for (lane, reader) in readers.iter_mut().take(lanes).enumerate() {
                let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Vec<MyRow>>>(2);
                lines.push(rx);
                let mut at = last.saturating_add(PAGE * lane as i64);
                scope.spawn(move || {
                    if until.is_some_and(|u| at >= u) {
                        return;
                    }
                    loop {
                        let rows: Result<Vec<MyRow>> = reader
                            .exec::<mysql::Row, _, _>(sql.as_str(), with_key(at))
                            .map(|rows| rows.into_iter().map(|r| MyRow(r.unwrap())).collect())
                            .map_err(db_error);
                        let next = match until {
                            Some(u) => Some(at.saturating_add(step)).filter(|n| *n < u),
                            None => rows.as_ref().ok().and_then(|r| next_key(r, at)),
                        };
                        if tx.send(rows).is_err() {
                            return;
                        }
                        match next {
                            Some(k) => at = k,
                            None => return,
                        }
                    }
                });
            }
            // Windows in order: one from each lane in turn, until a lane has no more.
            for lane in (0..lanes).cycle() {
                let Ok(rows) = lines[lane].recv() else {
                    return Ok(());
                };
                for row in &rows? {
                    if f(row)?.is_break() {
                        return Ok(());
                    }
                }
            }
            Ok(())
        });
        *self.readers.borrow_mut() = readers;
        outcome
    }

    /// Begins the command's consistent snapshot on this session and, right after, on the
    /// read-ahead sessions. MySQL cannot hand a snapshot to another session, so theirs are
    /// taken within microseconds of this one's and checked to end at the same last
    /// position; where they do not (a commit came between), they are taken again, and
    /// after three tries the pages are read on this session alone. A commit out of
    /// position order between the snapshots is the one case the check cannot see.
    fn begin_snapshots(&self) -> Result<()> {
        const BEGIN: &str = "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY";
        let mut readers = std::mem::take(&mut *self.readers.borrow_mut());
        while readers.len() < READERS {
            readers.push(self.target.connect()?);
        }
        let l = &self.layout;
        let last = format!(
            "SELECT CAST(max({}) AS SIGNED) FROM {} WHERE {}",
            l.position, l.from, l.filter
        );
        let last_of = |c: &mut Conn| -> std::result::Result<Option<i64>, mysql::Error> {
            c.query_first::<Option<i64>, _>(last.as_str())
                .map(Option::flatten)
        };
        for _ in 0..3 {
            let begun: std::result::Result<Vec<Option<i64>>, mysql::Error> = (|| {
                self.conn.borrow_mut().query_drop(BEGIN)?;
                for r in readers.iter_mut() {
                    r.query_drop(BEGIN)?;
                }
                let mut ends = vec![last_of(&mut self.conn.borrow_mut())?];
                for r in readers.iter_mut() {
                    ends.push(last_of(r)?);
                }
                Ok(ends)
            })();
            let ends = begun.map_err(db_error)?;
            self.in_snapshot.set(true);
            if ends.iter().all(|e| *e == ends[0]) {
                self.readers_share_snapshot.set(true);
                *self.readers.borrow_mut() = readers;
                return Ok(());
            }
            for r in readers.iter_mut() {
                r.query_drop("ROLLBACK").map_err(db_error)?;
            }
            self.conn
                .borrow_mut()
                .query_drop("ROLLBACK")
                .map_err(db_error)?;
        }
        // Three commits in a row came between: read on this session alone.
        readers.clear();
        self.query(BEGIN, Vec::new())?;
        Ok(())
    }

    /// Runs `sql` once and hands each row to `f` as the server sends it: one result
    /// however many rows (a list of streams is grouped once, not once per page).
    fn query_each(&self, sql: &str, mut f: impl FnMut(MyRow)) -> Result<()> {
        let mut conn = self.conn.borrow_mut();
        let handed = Cell::new(0_usize);
        let mut run = |conn: &mut Conn| -> std::result::Result<(), mysql::Error> {
            for row in conn.query_iter(sql)? {
                f(MyRow(row?.unwrap()));
                handed.set(handed.get() + 1);
            }
            Ok(())
        };
        match run(&mut conn) {
            // Retried only where no row was handed out yet: a retry after some would hand
            // them out twice.
            Err(e) if session_lost(&e) && !self.in_snapshot.get() && handed.get() == 0 => {
                self.reconnect(&mut conn)?;
                run(&mut conn).map_err(db_error)
            }
            other => other.map_err(db_error),
        }
    }

    fn raw_ok(&self) -> bool {
        self.layout.decoder == Decoder::Json
            && self.layout.category.is_none()
            && self.layout.version_offset == 0
            && self.layout.schema_version == "NULL"
            && self.layout.time_unit.is_none()
    }

    fn row_item<'r>(&self, row: &'r MyRow) -> Result<StreamRow<'r>> {
        if self.raw_ok() {
            if let Some(raw) = raw_event(row).filter(|r| !looks_like_zlib(r.data)) {
                return Ok(StreamRow::Raw(raw));
            }
        }
        Ok(StreamRow::Event(Box::new(self.event(row)?)))
    }

    pub(super) fn event(&self, row: &MyRow) -> Result<Event> {
        let payload = row.bytes(5).unwrap_or_default().to_vec();
        Ok(event_from_parts(
            RowParts {
                global_position: row.int(0).unwrap_or_default(),
                stream_id: row.text(1).unwrap_or_default(),
                version: row.int(2).ok_or_else(|| row.text(2).unwrap_or_default()),
                event_id: row.text(3),
                event_type: row.text(4).unwrap_or_default(),
                payload,
                metadata: row.text(6),
                timestamp: match self.layout.time_unit {
                    Some(unit) => row.text(7).map(|t| stored_time_text(&t, unit)),
                    None => row.text(7),
                },
                schema_version: row.text(8),
                original_position: row.int(9),
                topic: None,
                undecodable: None,
                category: row.text(10),
                link_of: if row.len() > 11 { row.text(11) } else { None },
            },
            self.layout.decoder,
        ))
    }

    fn version_column(&self) -> usize {
        if self.layout.version_offset != 0 {
            9
        } else {
            2
        }
    }

    fn stream_end(&self, stream: &str, order: &str) -> Result<Option<i64>> {
        let l = &self.layout;
        let sql = format!(
            "SELECT CAST({v} + {o} AS SIGNED) FROM {} WHERE {} ORDER BY {v} {order} LIMIT 1",
            l.from,
            self.condition(&self.stream_cond(stream)),
            v = l.version,
            o = l.version_offset,
        );
        Ok(self
            .one_row(&sql, Self::stream_params(stream))?
            .and_then(|r| r.int(0)))
    }

    fn read_stream_range(
        &self,
        stream: &str,
        versions: RangeInclusive<i64>,
        columns: Columns,
        f: &mut dyn FnMut(&MyRow) -> Result<ControlFlow<()>>,
    ) -> Result<()> {
        let l = &self.layout;
        let off = l.version_offset;
        let bounds = format!(
            "SELECT CAST(min({v}) AS SIGNED), CAST(max({v}) AS SIGNED) FROM {} WHERE {}",
            l.from,
            self.condition(&self.stream_cond(stream)),
            v = l.version,
        );
        let row = self.one_row(&bounds, Self::stream_params(stream))?;
        let (Some(min), Some(max)) = (
            row.as_ref().and_then(|r| r.int(0)),
            row.as_ref().and_then(|r| r.int(1)),
        ) else {
            return Ok(());
        };
        let lo = versions.start().saturating_sub(off).max(min);
        let hi = versions.end().saturating_sub(off).min(max);
        if lo > hi {
            return Ok(());
        }
        let cond = format!("{} AND {} <= ?", self.stream_cond(stream), l.version);
        let mut params = Self::stream_params(stream);
        params.push(hi.into());
        self.pages(
            &self.select_list_of(columns),
            &cond,
            &l.version,
            self.version_column(),
            lo.saturating_sub(1),
            Some(hi),
            &params,
            f,
        )
    }

    fn paged_log_rows(
        &self,
        filter: &LogFilter,
        type_in_sql: bool,
        f: &mut dyn FnMut(&MyRow) -> Result<ControlFlow<()>>,
    ) -> Result<()> {
        let l = &self.layout;
        let mut conds = Vec::new();
        let mut params: Vec<Value> = Vec::new();
        if let Some(stream) = &filter.stream {
            conds.push(self.stream_cond(stream));
            params.extend(Self::stream_params(stream));
        }
        if let Some(streams) = &filter.streams {
            if streams.is_empty() {
                return Ok(());
            }
            let marks = vec!["CAST(? AS BINARY)"; streams.len()].join(", ");
            conds.push(format!("CAST({} AS BINARY) IN ({marks})", l.stream));
            params.extend(streams.iter().map(|s| Value::from(s.as_str())));
        }
        if let Some(to) = filter.to_position {
            conds.push(format!("{} <= ?", l.position));
            params.push(to.into());
        }
        if let (Some(ty), true) = (&filter.event_type, type_in_sql) {
            conds.push(format!("{} = ?", l.event_type));
            params.push(ty.as_str().into());
        }
        if let (None, None, Some(f)) = (&filter.stream, &filter.streams, &l.log_filter) {
            conds.push(f.clone());
        }
        let cond = conds.join(" AND ");
        let Some(mut each) = server_rows::offset_and_limit(filter, f) else {
            return Ok(());
        };
        if filter.by_stream {
            let streams = match &filter.streams {
                Some(s) => {
                    let mut s = s.clone();
                    s.sort();
                    s
                }
                None => self.streams()?.into_iter().map(|s| s.stream_id).collect(),
            };
            for stream in streams {
                let mut stop = false;
                let mut params = Self::stream_params(&stream);
                params.push(filter.from_position.saturating_sub(1).into());
                let mut cond = format!("{} AND {} > ?", self.stream_cond(&stream), l.position);
                if let Some(to) = filter.to_position {
                    params.push(to.into());
                    cond.push_str(&format!(" AND {} <= ?", l.position));
                }
                self.pages(
                    &self.select_list(),
                    &cond,
                    &l.version,
                    self.version_column(),
                    i64::MIN,
                    None,
                    &params,
                    &mut |row| {
                        let flow = each(row)?;
                        stop = flow.is_break();
                        Ok(flow)
                    },
                )?;
                if stop {
                    break;
                }
            }
            return Ok(());
        }
        self.pages(
            &self.select_list(),
            &cond,
            &l.position,
            0,
            filter.from_position.saturating_sub(1),
            None,
            &params,
            &mut each,
        )
    }

    fn type_in_rust(&self) -> bool {
        self.layout.decoder == Decoder::Eventsourcing
    }

    fn category_of_row(&self, stream: &str, found: Option<String>) -> String {
        match (found.filter(|c| !c.is_empty()), self.layout.decoder) {
            (Some(topic), Decoder::Eventsourcing) => class_of_topic(&topic).to_string(),
            (Some(c), _) => c,
            (None, _) => category_of(stream).to_string(),
        }
    }

    fn query_snapshots(&self, stream: Option<&str>, at_most: Option<i64>) -> Result<Vec<Snapshot>> {
        let Some(s) = &self.layout.snapshots else {
            return Ok(Vec::new());
        };
        let mut conds = vec!["TRUE".to_string()];
        let mut params: Vec<Value> = Vec::new();
        if let Some(stream) = stream {
            conds.push(format!(
                "{st} = ? AND CAST({st} AS BINARY) = CAST(? AS BINARY)",
                st = s.stream
            ));
            params.extend(Self::stream_params(stream));
        }
        if let Some(v) = at_most {
            conds.push(format!("{} <= ?", s.version));
            params.push((v - self.layout.version_offset).into());
        }
        let sql = format!(
            "SELECT {st}, CAST({v} AS SIGNED), {d}, {c} FROM {} WHERE {} {order}",
            s.from,
            conds.join(" AND "),
            order = if at_most.is_some() {
                "ORDER BY 2 DESC LIMIT 1"
            } else {
                "ORDER BY 1, 2"
            },
            st = s.stream,
            v = s.version,
            d = s.data,
            c = s.created_at,
        );
        Ok(self
            .query(&sql, params)?
            .iter()
            .map(|row| {
                super::snapshots::snapshot_from(
                    row.text(0).unwrap_or_default(),
                    row.int(1).unwrap_or_default() + self.layout.version_offset,
                    row.text(3).map(|t| stored_time_text(&t, EpochUnit::Auto)),
                    row.bytes(2).unwrap_or_default(),
                    s.decoder,
                )
            })
            .collect())
    }
}

fn raw_event(row: &MyRow) -> Option<RawEvent<'_>> {
    Some(RawEvent {
        global_position: row.int(0)?,
        stream_id: row.str(1)?,
        version: row.int(2)?,
        event_id: row.str(3),
        event_type: row.str(4)?,
        data: row.bytes(5)?,
        metadata: row.bytes(6),
        timestamp: row.str(7),
    })
}

/// Whether a failed query means the session is gone (a restart, `KILL`, a network drop).
fn session_lost(e: &mysql::Error) -> bool {
    match e {
        mysql::Error::IoError(_) | mysql::Error::CodecError(_) => true,
        mysql::Error::DriverError(mysql::DriverError::PacketOutOfSync) => true,
        mysql::Error::MySqlError(m) => matches!(m.code, 2006 | 2013 | 1053 | 1927 | 4031),
        _ => false,
    }
}

/// One line for a failed query: permissions, timeouts and lost connections by name.
pub(super) fn db_error(e: mysql::Error) -> StoreError {
    if let mysql::Error::MySqlError(m) = &e {
        let line = match m.code {
            1142 | 1143 | 1044 => format!("the user cannot read this table: {}", m.message),
            // MySQL's max_execution_time, MariaDB's max_statement_time.
            3024 | 1969 => format!("{} (raise it with --statement-timeout)", m.message),
            1205 => format!("{} (raise it with --lock-timeout)", m.message),
            _ => m.message.clone(),
        };
        return StoreError::Mysql(line);
    }
    if session_lost(&e) {
        return StoreError::Mysql(format!("the connection was lost ({e})"));
    }
    StoreError::Mysql(e.to_string())
}

impl EventSource for MyStore {
    fn name(&self) -> String {
        self.shown.clone()
    }

    fn layout(&self) -> Layout {
        self.layout.layout
    }

    fn format_name(&self) -> &'static str {
        self.layout.name
    }

    fn has_times(&self) -> bool {
        self.layout.time.is_some() || self.layout.decoder == Decoder::Eventsourcing
    }

    fn time_column(&self) -> String {
        format!("{} (its time)", self.layout.table)
    }

    fn has_snapshots(&self) -> bool {
        self.layout.snapshots.is_some()
    }

    fn category_is_prefix(&self) -> bool {
        self.layout.category.is_none()
    }

    fn watch_connection(&self, watcher: super::postgres::ConnectionWatcher) {
        *self.watcher.borrow_mut() = Some(watcher);
    }

    fn pin_snapshot(&self) -> Result<()> {
        if !self.in_snapshot.get() {
            self.begin_snapshots()?;
        }
        if self.pinned.get().is_none() && self.layout.watermark != Watermark::None {
            self.pinned.set(Some(self.last_position()?));
        }
        Ok(())
    }

    fn streams(&self) -> Result<Vec<StreamInfo>> {
        let l = &self.layout;
        let Some(s) = &l.streams else {
            return self.streams_counted();
        };
        let mut out = Vec::new();
        let sql = format!(
            "SELECT {id}, CAST({v} AS SIGNED), {c} FROM {} WHERE ({})",
            s.from,
            s.filter,
            id = s.id,
            v = s.version,
            c = s.category,
        );
        self.query_each(&sql, |row| {
            let id = row.text(0).unwrap_or_default();
            let category = self.category_of_row(&id, row.text(2));
            let last_version = row.int(1).unwrap_or_default() + l.version_offset;
            out.push(StreamInfo {
                stream_id: id,
                category,
                events: last_version,
                first_version: 1,
                last_version,
                bad_versions: 0,
                events_estimated: true,
            });
        })?;
        out.retain(|s| s.events > 0);
        out.sort_by(|a, b| a.stream_id.cmp(&b.stream_id));
        Ok(out)
    }

    fn streams_counted(&self) -> Result<Vec<StreamInfo>> {
        let l = &self.layout;
        let mut out = Vec::new();
        // Grouped by the ids' bytes: a case-insensitive collation would merge `acc-A`
        // into `acc-a`.
        let sql = format!(
            "SELECT CAST({s} AS BINARY), CAST(count(*) AS SIGNED), CAST(max({v}) + {o} AS SIGNED), CAST(min({v}) + {o} AS SIGNED), min({c}) FROM {} WHERE {} GROUP BY 1 ORDER BY 1",
            l.from,
            self.condition(""),
            s = l.stream,
            v = l.version,
            o = l.version_offset,
            c = l.category.as_deref().unwrap_or("NULL"),
        );
        self.query_each(&sql, |row| {
            let id = row.text(0).unwrap_or_default();
            let category = self.category_of_row(&id, row.text(4));
            out.push(StreamInfo {
                category,
                events: row.int(1).unwrap_or_default(),
                last_version: row.int(2).unwrap_or_default(),
                first_version: row.int(3).unwrap_or_default(),
                bad_versions: 0,
                events_estimated: false,
                stream_id: id,
            });
        })?;
        Ok(out)
    }

    fn stream_info(&self, stream: &str) -> Result<Option<StreamInfo>> {
        let l = &self.layout;
        let (Some(first), Some(last)) = (
            self.stream_end(stream, "ASC")?,
            self.stream_end(stream, "DESC")?,
        ) else {
            return Ok(None);
        };
        let sql = format!(
            "SELECT CAST(count(*) AS SIGNED) FROM {} WHERE {}",
            l.from,
            self.condition(&self.stream_cond(stream)),
        );
        let events = self
            .one_row(&sql, Self::stream_params(stream))?
            .and_then(|r| r.int(0))
            .unwrap_or(0);
        Ok(Some(StreamInfo {
            stream_id: stream.to_string(),
            category: self.stream_category(stream)?,
            events,
            first_version: first,
            last_version: last,
            bad_versions: 0,
            events_estimated: false,
        }))
    }

    fn stream_found(&self, stream: &str) -> Result<Option<i64>> {
        Ok(self.last_version(stream)?.map(|_| 0))
    }

    fn last_version(&self, stream: &str) -> Result<Option<i64>> {
        self.stream_end(stream, "DESC")
    }

    fn first_version(&self, stream: &str) -> Result<Option<i64>> {
        self.stream_end(stream, "ASC")
    }

    fn stream_category(&self, stream: &str) -> Result<String> {
        let Some(c) = &self.layout.category else {
            return Ok(category_of(stream).to_string());
        };
        let sql = format!(
            "SELECT {c} FROM {} WHERE {} LIMIT 1",
            self.layout.from,
            self.condition(&self.stream_cond(stream))
        );
        let found = self
            .one_row(&sql, Self::stream_params(stream))?
            .and_then(|r| r.text(0));
        Ok(self.category_of_row(stream, found))
    }

    fn event_at_or_before(&self, stream: &str, version: i64) -> Result<Option<Event>> {
        let l = &self.layout;
        let sql = format!(
            "SELECT {} FROM {} WHERE {} ORDER BY {v} DESC LIMIT 1",
            self.select_list(),
            l.from,
            self.condition(&format!(
                "{} AND {} <= ?",
                self.stream_cond(stream),
                l.version
            )),
            v = l.version,
        );
        let mut params = Self::stream_params(stream);
        params.push((version - l.version_offset).into());
        match self.one_row(&sql, params)? {
            Some(row) => Ok(Some(self.event(&row)?)),
            None => Ok(None),
        }
    }

    fn each_stream_event(
        &self,
        stream: &str,
        versions: RangeInclusive<i64>,
        f: &mut EventFn<'_>,
    ) -> Result<()> {
        self.read_stream_range(stream, versions, Columns::ALL, &mut |row| {
            f(self.event(row)?)
        })
    }

    fn each_stream_row(
        &self,
        stream: &str,
        versions: RangeInclusive<i64>,
        columns: Columns,
        f: &mut RowFn<'_>,
    ) -> Result<()> {
        self.read_stream_range(stream, versions, columns, &mut |row| f(self.row_item(row)?))
    }

    fn each_stream_payload(
        &self,
        stream: &str,
        versions: RangeInclusive<i64>,
        f: &mut PayloadFn<'_>,
    ) -> Result<Option<()>> {
        if self.layout.decoder != Decoder::Json {
            return Ok(None);
        }
        self.read_stream_range(stream, versions, Columns::NONE, &mut |row| {
            let data = row.bytes(5).unwrap_or_default();
            if looks_like_zlib(data) {
                let e = self.event(row)?;
                let bytes = serde_json::to_vec(&e.data).unwrap_or_default();
                return f(e.version, &bytes);
            }
            f(row.int(2).unwrap_or_default(), data)
        })?;
        Ok(Some(()))
    }

    fn each_log_event(&self, filter: &LogFilter, f: &mut EventFn<'_>) -> Result<()> {
        server_rows::each_log_event(self, filter, f)
    }

    fn each_log_row(&self, filter: &LogFilter, f: &mut RowFn<'_>) -> Result<()> {
        server_rows::each_log_row(self, filter, f)
    }

    fn each_kept_event(
        &self,
        filter: &LogFilter,
        keep: &mut KeepFn<'_>,
        f: &mut EventFn<'_>,
    ) -> Result<()> {
        server_rows::each_kept_event(self, filter, keep, f)
    }

    fn each_time(&self, filter: &LogFilter, f: &mut TimeFn<'_>) -> Result<()> {
        server_rows::each_time(self, filter, f)
    }

    fn bad_versions(&self) -> Result<Vec<BadVersion>> {
        // Integer columns hold integers only; a mapped text version is read as the
        // server casts it.
        Ok(Vec::new())
    }

    fn table_rows(
        &self,
        table: &str,
        columns: &[String],
        f: &mut crate::store::table_rows::TableRowFn<'_>,
    ) -> Result<()> {
        self.my_table_rows(table, columns, f)
    }

    fn consumer_records(
        &self,
        spec: Option<&crate::store::consumers::ConsumerSpec>,
    ) -> Result<Vec<crate::store::consumers::ConsumerRecord>> {
        if spec.is_some() {
            return Err(StoreError::BadConsumers(
                "a --consumers table is read from SQLite stores only, for now".into(),
            ));
        }
        self.my_consumer_records()
    }

    fn log_tail(
        &self,
        after: i64,
        follows: &crate::store::consumers::Follows,
        limit: Option<i64>,
    ) -> Result<crate::store::consumers::Tail> {
        self.my_log_tail(after, follows, limit)
    }

    fn count_after(&self, after: i64) -> Result<i64> {
        let l = &self.layout;
        let sql = format!(
            "SELECT CAST(count(*) AS SIGNED) FROM {} WHERE ({}) AND {} AND {} > ?",
            l.from,
            l.filter,
            l.log_filter.as_deref().unwrap_or("TRUE"),
            l.position
        );
        Ok(self
            .one_row(&sql, vec![after.into()])?
            .and_then(|r| r.int(0))
            .unwrap_or(0))
    }

    fn last_position(&self) -> Result<i64> {
        let l = &self.layout;
        let sql = format!(
            "SELECT CAST({p} AS SIGNED) FROM {} WHERE {} ORDER BY {p} DESC LIMIT 1",
            l.from,
            l.filter,
            p = l.position
        );
        Ok(self
            .one_row(&sql, Vec::new())?
            .and_then(|r| r.int(0))
            .unwrap_or(0))
    }

    fn snapshots(&self, stream: Option<&str>) -> Result<Vec<Snapshot>> {
        self.query_snapshots(stream, None)
    }

    fn latest_snapshot(&self, stream: &str, version: i64) -> Result<Option<Snapshot>> {
        Ok(self
            .query_snapshots(Some(stream), Some(version))?
            .into_iter()
            .next())
    }

    fn subscribe(&self, after: i64) -> Result<Box<dyn Follow>> {
        Ok(Box::new(follow::MyFollow::new(
            self.target.clone(),
            self.layout.clone(),
            after,
        )?))
    }
}

impl server_rows::ServerRows for MyStore {
    type Row = MyRow;

    fn log_rows(
        &self,
        filter: &LogFilter,
        type_in_sql: bool,
        f: &mut dyn FnMut(&MyRow) -> Result<ControlFlow<()>>,
    ) -> Result<()> {
        self.paged_log_rows(filter, type_in_sql, f)
    }

    fn event(&self, row: &MyRow) -> Result<Event> {
        MyStore::event(self, row)
    }

    fn row_item<'r>(&self, row: &'r MyRow) -> Result<StreamRow<'r>> {
        MyStore::row_item(self, row)
    }

    fn type_in_rust(&self) -> bool {
        MyStore::type_in_rust(self)
    }

    fn has_times(&self) -> bool {
        EventSource::has_times(self)
    }
}

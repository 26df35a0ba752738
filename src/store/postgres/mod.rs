//! PostgreSQL stores, read-only: one session per store (and one per follower), every read
//! a keyset page (`WHERE key > $last ORDER BY key LIMIT n`), so no transaction stays open
//! between pages and memory stays bounded whatever the store's size.

mod connect;
mod consumers;
mod follow;
mod layouts;

use std::cell::{Cell, RefCell};
use std::ops::{ControlFlow, RangeInclusive};

use postgres::types::ToSql;
use postgres::{Client, Row};

use super::decode::{event_from_parts, looks_like_zlib, stored_time_text, RowParts};
use super::layout::{class_of_topic, Decoder, Layout};
use super::map_spec::{spec_text, MapPairs};
use super::server_rows;
use super::source::{EventFn, Follow, KeepFn, PayloadFn, RowFn, TimeFn, Total};
use super::{
    BadVersion, Columns, EventSource, LogFilter, OpenOptions, RawEvent, Result, Snapshot,
    StoreError, StreamInfo, StreamRow,
};
use crate::event::category_of;
use crate::Event;

pub(super) use connect::{escape_userinfo, percent_decode};
pub use connect::{is_url, redact, Limits};
pub use layouts::PG_FORMATS;
use layouts::{SqlLayout, Watermark};

/// Rows per page.
const PAGE: i64 = 5_000;
/// The LIMIT of a window of `PAGE` keys.
const WINDOW_LIMIT: i64 = 4 * PAGE;

type Params = Vec<Box<dyn ToSql + Sync>>;
/// Runs one query on some session.
type RunQuery<'a> = dyn FnMut(&str, &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> + 'a;

/// A keyset page's key: the SQL expression, the value to start after, and where the
/// select list holds it.
struct Key<'k> {
    expr: &'k str,
    after: i64,
    column: usize,
    /// For dense keys (a stream's versions): the last key wanted. Pages are then windows
    /// of PAGE keys, so each query reads at most a window's rows whatever plan the server
    /// picks (with `LIMIT`, a bitmap scan re-reads the rest of the stream every page).
    dense_until: Option<i64>,
}

/// A PostgreSQL database holding one of the known layouts.
pub struct PgStore {
    client: RefCell<Client>,
    target: connect::Target,
    layout: SqlLayout,
    shown: String,
    /// The upper bound on the global position a one-shot command reads up to.
    pinned: Cell<Option<i64>>,
    /// The second session long reads fetch their next pages on, opened when first needed.
    reader: RefCell<Option<Client>>,
    /// A one-shot command's snapshot: the session is in a `REPEATABLE READ READ ONLY`
    /// transaction from `pin_snapshot` on, and the reader joins it through this exported
    /// snapshot (`None` inside the transaction: none could be exported, so no reader).
    snapshot: RefCell<Option<Option<String>>>,
    /// Told when the session drops and when it is back (the TUI shows it).
    watcher: RefCell<Option<ConnectionWatcher>>,
    /// How many times the session was opened again.
    reconnects: Cell<u32>,
    /// The server is a hot standby (in recovery).
    standby: bool,
}

/// Told `Some(what)` when a session was lost and is being opened again, `None` when
/// it is back.
pub type ConnectionWatcher = Box<dyn Fn(Option<String>) + Send>;

impl PgStore {
    pub fn open(url: &str, options: &OpenOptions) -> Result<PgStore> {
        let target = connect::Target::parse(url, &options.limits.unwrap_or_default())?;
        let shown = target.shown();
        let mut client = target.connect()?;
        let tables = layouts::tables(&mut client, options.schema.as_deref())?;
        let choices = layouts::Choices {
            format: options.format.clone(),
            archived: options.archived,
        };
        if let Some(f) = &options.format {
            if !PG_FORMATS.iter().any(|(name, _, _)| name == f) {
                return Err(StoreError::UnknownFormat(f.clone()));
            }
        }
        let found = match &options.map {
            Some(spec) => vec![layouts::mapped(
                &tables,
                &MapPairs::parse(&spec_text(spec)?)?,
            )?],
            None => layouts::detect(&tables, &choices),
        };
        let found = match &options.table {
            None => found,
            Some(t) => {
                let all: Vec<String> = found.iter().map(|l| l.table.clone()).collect();
                let chosen: Vec<SqlLayout> = found
                    .into_iter()
                    .filter(|l| l.table == *t || l.table.rsplit('.').next() == Some(t.as_str()))
                    .collect();
                if chosen.is_empty() {
                    return Err(StoreError::Postgres(format!(
                        "{shown}: --table {t} is none of the event tables found ({})",
                        if all.is_empty() {
                            "none".into()
                        } else {
                            all.join(", ")
                        }
                    )));
                }
                chosen
            }
        };
        let layout = match found.as_slice() {
            [] => {
                let names: Vec<String> = tables
                    .iter()
                    .map(|t| format!("{}.{}", t.schema, t.name))
                    .collect();
                return Err(StoreError::Postgres(format!(
                    "{shown}: no known event store layout{} (tables: {}); --format names one (see `eventscope formats`)",
                    options
                        .schema
                        .as_deref()
                        .map(|s| format!(" in schema {s}"))
                        .unwrap_or_default(),
                    if names.is_empty() {
                        "none the role can see".into()
                    } else {
                        names.join(", ")
                    }
                )));
            }
            [one] => one.clone(),
            [first, ..] => {
                let all: Vec<String> = found
                    .iter()
                    .map(|l| format!("{} ({})", l.name, l.table))
                    .collect();
                if found.iter().any(|l| l.table != first.table) {
                    return Err(StoreError::Postgres(format!(
                        "{shown}: several event stores: {}; choose with --table, --schema or --format",
                        all.join(", ")
                    )));
                }
                first.clone()
            }
        };
        let mut store = PgStore::with_session(target, layout, client);
        store.standby = store
            .one_row("SELECT pg_is_in_recovery()", &[])?
            .is_some_and(|r| r.get::<_, bool>(0));
        // A table the role cannot read fails here, with its name.
        store.query_rows(
            &format!(
                "SELECT 1 FROM {} WHERE {} LIMIT 1",
                store.layout.from, store.layout.filter
            ),
            &[],
        )?;
        Ok(store)
    }

    fn with_session(target: connect::Target, layout: SqlLayout, client: Client) -> PgStore {
        PgStore {
            client: RefCell::new(client),
            shown: target.shown(),
            target,
            layout,
            pinned: Cell::new(None),
            reader: RefCell::new(None),
            snapshot: RefCell::new(None),
            watcher: RefCell::new(None),
            reconnects: Cell::new(0),
            standby: false,
        }
    }

    /// Opens the lost session `client` again, telling the watcher.
    fn reconnect(&self, client: &mut Client) -> Result<()> {
        let tell = |what: Option<String>| {
            if let Some(w) = self.watcher.borrow().as_ref() {
                w(what)
            }
        };
        tell(Some(format!(
            "connection to {} lost: reconnecting…",
            self.shown
        )));
        *client = self.target.connect()?;
        self.reconnects.set(self.reconnects.get() + 1);
        tell(None);
        Ok(())
    }

    /// Runs a query; a dropped connection is opened again and the query retried once,
    /// except inside a command's snapshot, which a new session could not see.
    fn query_rows(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        let mut client = self.client.borrow_mut();
        match client.query(sql, params) {
            Ok(rows) => Ok(rows),
            Err(e) if session_lost(&client, &e) && self.snapshot.borrow().is_some() => {
                if recovery_conflict(&e) {
                    return Err(db_error(e));
                }
                Err(StoreError::Postgres(format!(
                    "{}: the connection was lost in the middle of a read of one snapshot; run the command again",
                    self.shown
                )))
            }
            Err(e) if session_lost(&client, &e) => {
                self.reconnect(&mut client)?;
                client.query(sql, params).map_err(db_error)
            }
            Err(e) => Err(db_error(e)),
        }
    }

    fn select_list(&self) -> String {
        self.select_list_of(Columns::ALL)
    }

    /// The select list with NULL for the columns a reader does not need.
    fn select_list_of(&self, wanted: Columns) -> String {
        let l = &self.layout;
        let only = |want: bool, e: &str| if want { e.to_string() } else { "NULL".into() };
        let original = if l.version_offset != 0 {
            format!("{}::int8", l.version)
        } else {
            "NULL::int8".into()
        };
        format!(
            "{}::int8, {}::text, ({} + {})::int8, {}::text, {}::text, {}, {}::text, {}::text, {}::text, {original}, {}::text, {}::text",
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

    /// Pages through `SELECT columns FROM from WHERE cond AND key > last ORDER BY key`,
    /// `key` being one column (`$1` is its last value) of the select list at `key_at`.
    fn pages(
        &self,
        columns: &str,
        cond: &str,
        key: Key<'_>,
        params: &Params,
        f: &mut dyn FnMut(&Row) -> Result<ControlFlow<()>>,
    ) -> Result<()> {
        let Key {
            expr: key,
            after: first,
            column: key_at,
            dense_until,
        } = key;
        let window = format!(
            "SELECT {columns} FROM {} WHERE {} AND {key} > $1::int8 AND {key} <= $1::int8 + {PAGE} ORDER BY {key}",
            self.layout.from,
            self.condition(cond)
        );
        // A window's LIMIT never binds where keys are unique (a version in its stream); it
        // is there for the planner, which multiplies the selectivities of the stream and
        // the version range as if independent (every short stream has a version 1..5000)
        // and, without it, picks a parallel scan of the whole table for the first window.
        let limited = format!("{window} LIMIT {}", WINDOW_LIMIT);
        let sql = match dense_until {
            Some(_) => limited,
            None => format!(
                "SELECT {columns} FROM {} WHERE {} AND {key} > $1::int8 ORDER BY {key} LIMIT {PAGE}",
                self.layout.from,
                self.condition(cond)
            ),
        };
        // One page after `last`, through `run` (this session's query with its retry, or
        // the reader's session).
        let page = |run: &mut RunQuery<'_>, last: i64| -> Result<Vec<Row>> {
            let mut all: Vec<&(dyn ToSql + Sync)> = vec![&last];
            all.extend(params.iter().map(|p| p.as_ref() as &(dyn ToSql + Sync)));
            let rows = run(&sql, &all)?;
            if dense_until.is_some() && rows.len() as i64 == WINDOW_LIMIT {
                // Keys repeat here (a mapped table without a unique version): read the
                // window whole.
                return run(&window, &all);
            }
            Ok(rows)
        };
        let next_key = |rows: &[Row], last: i64| -> Result<Option<i64>> {
            if let Some(until) = dense_until {
                return Ok((last.saturating_add(PAGE) < until).then(|| last + PAGE));
            }
            match rows.last() {
                Some(row) if rows.len() as i64 == PAGE => {
                    Ok(Some(row.try_get(key_at).map_err(db_error)?))
                }
                _ => Ok(None),
            }
        };
        let rows = page(&mut |sql, p| self.query_rows(sql, p), first)?;
        for row in &rows {
            if f(row)?.is_break() {
                return Ok(());
            }
        }
        let Some(mut last) = next_key(&rows, first)? else {
            return Ok(());
        };
        // A long read: a second session fetches the next page while this thread folds
        // the current one, so the server's work and the client's overlap.
        let reader = match self.reader.borrow_mut().take() {
            Some(c) if !c.is_closed() => Some(c),
            _ => self.reader_session()?,
        };
        let Some(mut reader) = reader else {
            // In a snapshot no second session can join: page on this one.
            loop {
                let rows = page(&mut |sql, p| self.query_rows(sql, p), last)?;
                for row in &rows {
                    if f(row)?.is_break() {
                        return Ok(());
                    }
                }
                match next_key(&rows, last)? {
                    Some(k) => last = k,
                    None => return Ok(()),
                }
            }
        };
        let outcome = std::thread::scope(|scope| -> Result<()> {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Vec<Row>>>(2);
            let reader = &mut reader;
            scope.spawn(move || loop {
                let rows = page(&mut |sql, p| reader.query(sql, p).map_err(db_error), last);
                let next = rows.as_ref().ok().map(|r| next_key(r, last));
                if tx.send(rows).is_err() {
                    return;
                }
                match next {
                    Some(Ok(Some(k))) => last = k,
                    _ => return,
                }
            });
            for rows in rx {
                for row in &rows? {
                    if f(row)?.is_break() {
                        return Ok(());
                    }
                }
            }
            Ok(())
        });
        *self.reader.borrow_mut() = Some(reader);
        outcome
    }

    /// A second session for read-ahead: outside a snapshot a fresh one; inside, one that
    /// joins the command's exported snapshot, or none where none was exported.
    fn reader_session(&self) -> Result<Option<Client>> {
        let snapshot = self.snapshot.borrow().clone();
        let mut client = match snapshot {
            Some(None) => return Ok(None),
            _ => self.target.connect()?,
        };
        if let Some(Some(id)) = snapshot {
            client
                .batch_execute(&format!(
                    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT '{}'",
                    id.replace('\'', "")
                ))
                .map_err(|e| match e.code().map(|c| c.code()) {
                    // The exporting transaction has ended: the command's session is gone.
                    Some("22023") => StoreError::Postgres(format!(
                        "{}: the command's snapshot ended in the middle of its read{}; run it again",
                        self.shown,
                        if self.standby {
                            " (on a hot standby: a conflict with recovery; on the standby raise max_standby_streaming_delay or set hot_standby_feedback = on)"
                        } else {
                            " (its session was ended: --idle-timeout, or the server)"
                        }
                    )),
                    _ => db_error(e),
                })?;
        }
        Ok(Some(client))
    }

    /// Begins the command's `REPEATABLE READ READ ONLY` transaction and exports its
    /// snapshot for the reader; where exporting is refused (some standbys, poolers), the
    /// transaction is begun again without one and reads stay on this session.
    fn begin_snapshot(&self) -> Result<()> {
        const BEGIN: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
        let mut client = self.client.borrow_mut();
        let begin = |client: &mut Client| client.batch_execute(BEGIN).map_err(db_error);
        if let Err(e) = client.batch_execute(BEGIN) {
            if !session_lost(&client, &e) {
                return Err(db_error(e));
            }
            self.reconnect(&mut client)?;
            begin(&mut client)?;
        }
        let exported = match client.query_one("SELECT pg_export_snapshot()", &[]) {
            Ok(row) => Some(row.get::<_, String>(0)),
            Err(_) => {
                client.batch_execute("ROLLBACK").map_err(db_error)?;
                begin(&mut client)?;
                None
            }
        };
        *self.snapshot.borrow_mut() = Some(exported);
        Ok(())
    }

    /// Pages through `sql`, whose `$1` is the last stream id read (column 0), in id order.
    /// The first page asks `>= ''`, so a stream whose id is empty is listed too.
    fn pages_by_id(&self, sql: &str, mut f: impl FnMut(&Row)) -> Result<()> {
        let first_page = match sql.rfind("> $1") {
            Some(at) => format!("{}>= $1{}", &sql[..at], &sql[at + 4..]),
            None => sql.to_string(),
        };
        let mut last = String::new();
        let mut query = first_page.as_str();
        loop {
            let rows = self.query_rows(query, &[&last])?;
            query = sql;
            rows.iter().for_each(&mut f);
            match rows.last() {
                Some(row) if rows.len() as i64 == PAGE => last = row.get(0),
                _ => return Ok(()),
            }
        }
    }

    fn raw_ok(&self) -> bool {
        self.layout.decoder == Decoder::Json
            && self.layout.category.is_none()
            && self.layout.version_offset == 0
            && self.layout.schema_version == "NULL"
            && self.layout.time_unit.is_none()
    }

    fn row_item<'r>(&self, row: &'r Row) -> Result<StreamRow<'r>> {
        if self.raw_ok() {
            if let Some(raw) = raw_event(row).filter(|r| !looks_like_zlib(r.data)) {
                return Ok(StreamRow::Raw(raw));
            }
        }
        Ok(StreamRow::Event(Box::new(self.event(row)?)))
    }

    fn event(&self, row: &Row) -> Result<Event> {
        let get_text = |i| row.try_get::<_, Option<String>>(i).map_err(db_error);
        let payload: Vec<u8> = payload_at(row, 5)?.unwrap_or_default().to_vec();
        let commanded_term =
            self.layout.layout == Layout::Commanded && payload.first() == Some(&131);
        let mut e = event_from_parts(
            RowParts {
                global_position: row.try_get(0).map_err(db_error)?,
                stream_id: get_text(1)?.unwrap_or_default(),
                version: Ok(row.try_get(2).map_err(db_error)?),
                event_id: get_text(3)?,
                event_type: get_text(4)?.unwrap_or_default(),
                payload,
                metadata: get_text(6)?,
                timestamp: match self.layout.time_unit {
                    Some(unit) => get_text(7)?.map(|t| stored_time_text(&t, unit)),
                    None => get_text(7)?,
                },
                schema_version: get_text(8)?,
                original_position: row.try_get(9).map_err(db_error)?,
                topic: None,
                undecodable: commanded_term.then(|| {
                    "Erlang term format (Commanded's default serializer), not JSON".to_string()
                }),
                category: get_text(10)?,
                // Queries built from the select list end with it; others stop before.
                link_of: match row.columns().len() > 11 {
                    true => get_text(11)?,
                    false => None,
                },
            },
            self.layout.decoder,
        );
        if commanded_term {
            e.data = serde_json::Value::Null;
        }
        Ok(e)
    }

    /// Where the select list holds the stored version, the key of a stream's pages:
    /// column 9 (the original) where versions are offset, else column 2.
    fn version_column(&self) -> usize {
        if self.layout.version_offset != 0 {
            9
        } else {
            2
        }
    }

    /// The stream's first (`ASC`) or last (`DESC`) version under the pinned position.
    fn stream_end(&self, stream: &str, order: &str) -> Result<Option<i64>> {
        let l = &self.layout;
        let sql = format!(
            "SELECT ({v} + {o})::int8 FROM {} WHERE {} ORDER BY {v} {order} LIMIT 1",
            l.from,
            self.condition(&self.stream_cond(1)),
            v = l.version,
            o = l.version_offset,
        );
        Ok(self.one_row(&sql, &[&stream])?.map(|r| r.get(0)))
    }

    fn stream_cond(&self, param: usize) -> String {
        format!("{} = ${param}", self.layout.stream)
    }

    fn read_stream_range(
        &self,
        stream: &str,
        versions: RangeInclusive<i64>,
        columns: Columns,
        f: &mut dyn FnMut(&Row) -> Result<ControlFlow<()>>,
    ) -> Result<()> {
        let off = self.layout.version_offset;
        let (lo, hi) = (
            versions.start().saturating_sub(off),
            versions.end().saturating_sub(off),
        );
        let cond = format!(
            "{} AND {} <= $3::int8",
            self.stream_cond(2),
            self.layout.version
        );
        // The stream's stored bounds: the windows below cover them, not the range asked.
        let bounds = format!(
            "SELECT min({v})::int8, max({v})::int8 FROM {} WHERE {}",
            self.layout.from,
            self.condition(&self.stream_cond(1)),
            v = self.layout.version,
        );
        let row = self.one_row(&bounds, &[&stream])?;
        let (Some(min), Some(max)) = (
            row.as_ref().and_then(|r| r.get::<_, Option<i64>>(0)),
            row.as_ref().and_then(|r| r.get::<_, Option<i64>>(1)),
        ) else {
            return Ok(());
        };
        let (lo, hi) = (lo.max(min), hi.min(max));
        if lo > hi {
            return Ok(());
        }
        let params: Params = vec![Box::new(stream.to_string()), Box::new(hi)];
        self.pages(
            &self.select_list_of(columns),
            &cond,
            Key {
                expr: &self.layout.version,
                after: lo.saturating_sub(1),
                column: self.version_column(),
                dense_until: Some(hi),
            },
            &params,
            f,
        )
    }

    fn paged_log_rows(
        &self,
        filter: &LogFilter,
        type_in_sql: bool,
        f: &mut dyn FnMut(&Row) -> Result<ControlFlow<()>>,
    ) -> Result<()> {
        let l = &self.layout;
        let mut conds = Vec::new();
        let mut params: Params = Vec::new();
        let next = |params: &mut Params, value: Box<dyn ToSql + Sync>| {
            params.push(value);
            params.len() + 1
        };
        if let Some(stream) = &filter.stream {
            let n = next(&mut params, Box::new(stream.clone()));
            conds.push(format!("{} = ${n}", l.stream));
        }
        if let Some(streams) = &filter.streams {
            let n = next(&mut params, Box::new(streams.clone()));
            conds.push(format!("{} = ANY(${n}::text[])", l.stream));
        }
        if let Some(to) = filter.to_position {
            let n = next(&mut params, Box::new(to));
            conds.push(format!("{} <= ${n}::int8", l.position));
        }
        if let (Some(ty), true) = (&filter.event_type, type_in_sql) {
            let n = next(&mut params, Box::new(ty.clone()));
            conds.push(format!("{} = ${n}", l.event_type));
        }
        // The whole log holds each event once; chosen streams every row of theirs.
        if let (None, None, Some(f)) = (&filter.stream, &filter.streams, &l.log_filter) {
            conds.push(f.clone());
        }
        let cond = conds.join(" AND ");
        let Some(mut each) = server_rows::offset_and_limit(filter, f) else {
            return Ok(());
        };
        if filter.by_stream {
            // Stream by stream: each stream's rows in version order, streams by id.
            let streams = match &filter.streams {
                Some(s) => {
                    let mut s = s.clone();
                    s.sort();
                    s
                }
                None => self.streams()?.into_iter().map(|s| s.stream_id).collect(),
            };
            let from = filter.from_position.saturating_sub(1);
            for stream in streams {
                let mut stop = false;
                let mut params: Params = vec![Box::new(stream.clone()), Box::new(from)];
                let mut cond = format!("{} = $2 AND {} > $3::int8", l.stream, l.position);
                if let Some(to) = filter.to_position {
                    params.push(Box::new(to));
                    cond.push_str(&format!(" AND {} <= $4::int8", l.position));
                }
                self.pages(
                    &self.select_list(),
                    &cond,
                    Key {
                        expr: &l.version,
                        after: i64::MIN,
                        column: self.version_column(),
                        dense_until: None,
                    },
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
            Key {
                expr: &l.position,
                after: filter.from_position.saturating_sub(1),
                column: 0,
                dense_until: None,
            },
            &params,
            &mut each,
        )
    }

    fn type_in_rust(&self) -> bool {
        self.layout.decoder == Decoder::Eventsourcing
    }

    fn one_row(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Option<Row>> {
        Ok(self.query_rows(sql, params)?.into_iter().next())
    }

    fn category_of_row(&self, stream: &str, found: Option<String>) -> String {
        match (found.filter(|c| !c.is_empty()), self.layout.decoder) {
            (Some(topic), Decoder::Eventsourcing) => class_of_topic(&topic).to_string(),
            (Some(c), _) => c,
            (None, _) => category_of(stream).to_string(),
        }
    }
}

/// The payload column: bytea as stored, or JSON as text (no copy into bytea on the server).
fn payload_at(row: &Row, idx: usize) -> Result<Option<&[u8]>> {
    match row.try_get::<_, Option<&[u8]>>(idx) {
        Ok(b) => Ok(b),
        Err(_) => Ok(row
            .try_get::<_, Option<&str>>(idx)
            .map_err(db_error)?
            .map(str::as_bytes)),
    }
}

fn raw_event(row: &Row) -> Option<RawEvent<'_>> {
    Some(RawEvent {
        global_position: row.try_get(0).ok()?,
        stream_id: row.try_get(1).ok()?,
        version: row.try_get(2).ok()?,
        event_id: row.try_get(3).ok()?,
        event_type: row.try_get(4).ok()?,
        data: payload_at(row, 5).ok()??,
        metadata: row.try_get::<_, Option<&str>>(6).ok()?.map(str::as_bytes),
        timestamp: row.try_get(7).ok()?,
    })
}

/// Whether a failed query means the session is gone. A session ended by the server
/// (`pg_terminate_backend`, a shutdown) answers the next query with a FATAL error before
/// the client has noticed the closed socket, so the error's code counts as well.
pub(super) fn session_lost(client: &Client, e: &postgres::Error) -> bool {
    let ended_by_server = e.code().is_some_and(|c| {
        let c = c.code();
        c.starts_with("08") || matches!(c, "57P01" | "57P02" | "57P03")
    });
    client.is_closed() || e.is_closed() || ended_by_server
}

/// Whether a hot standby cancelled the statement or ended the session to replay changes
/// that remove rows its snapshot still sees.
fn recovery_conflict(e: &postgres::Error) -> bool {
    e.as_db_error()
        .is_some_and(|db| db.code().code() == "40001" && db.message().contains("recovery"))
}

/// One line for a failed query: permissions, timeouts and lost connections by name.
pub(crate) fn db_error(e: postgres::Error) -> StoreError {
    if let Some(db) = e.as_db_error() {
        let line = match db.code().code() {
            "42501" => format!("the role cannot read this table: {}", db.message()),
            "57014" => format!("{} (raise it with --statement-timeout)", db.message()),
            "55P03" => format!("{} (raise it with --lock-timeout)", db.message()),
            "40001" if db.message().contains("recovery") => format!(
                "{}: the hot standby removed rows this read still saw, to replay the primary's changes; run it again, and on the standby raise max_standby_streaming_delay or set hot_standby_feedback = on",
                db.message()
            ),
            _ => db.message().to_string(),
        };
        return StoreError::Postgres(line);
    }
    if e.is_closed() {
        return StoreError::Postgres(format!("the connection was lost ({e})"));
    }
    StoreError::Postgres(e.to_string())
}

impl EventSource for PgStore {
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

    fn watch_connection(&self, watcher: ConnectionWatcher) {
        *self.watcher.borrow_mut() = Some(watcher);
    }

    fn access_note(&self) -> Option<String> {
        self.standby.then(|| {
            format!(
                "{} is a hot standby: it is polled (a standby cannot LISTEN), and the primary's commits show as the standby replays them",
                self.shown
            )
        })
    }

    fn pin_snapshot(&self) -> Result<()> {
        if self.snapshot.borrow().is_none() {
            self.begin_snapshot()?;
        }
        if self.pinned.get().is_none() && self.layout.watermark != Watermark::None {
            self.pinned.set(Some(self.last_position()?));
        }
        Ok(())
    }

    fn streams(&self) -> Result<Vec<StreamInfo>> {
        let l = &self.layout;
        let mut out = Vec::new();
        if let Some(s) = &l.streams {
            let sql = format!(
                "SELECT {id}::text, ({v})::int8, ({c})::text FROM {} WHERE ({}) AND {id} > $1 ORDER BY {id} LIMIT {PAGE}",
                s.from,
                s.filter,
                id = s.id,
                v = s.version,
                c = s.category,
            );
            self.pages_by_id(&sql, |row| {
                let id: String = row.get(0);
                let stored: i64 = row.get(1);
                let category = self.category_of_row(&id, row.get(2));
                let last_version = stored + l.version_offset;
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
            return Ok(out);
        }
        self.streams_counted()
    }

    /// Pages through the stream index, a page of streams at a time, counting each.
    fn streams_counted(&self) -> Result<Vec<StreamInfo>> {
        let l = &self.layout;
        let mut out = Vec::new();
        let sql = format!(
            "SELECT {s}::text, count(*)::int8, (max({v}) + {o})::int8, (min({v}) + {o})::int8, min({c})::text FROM {} WHERE {} AND {s} > $1 GROUP BY 1 ORDER BY 1 LIMIT {PAGE}",
            l.from,
            self.condition(""),
            s = l.stream,
            v = l.version,
            o = l.version_offset,
            c = l.category.as_deref().unwrap_or("NULL"),
        );
        self.pages_by_id(&sql, |row| {
            let id: String = row.get(0);
            let category = self.category_of_row(&id, row.get(4));
            out.push(StreamInfo {
                category,
                events: row.get(1),
                last_version: row.get(2),
                first_version: row.get(3),
                bad_versions: 0,
                events_estimated: false,
                stream_id: id,
            });
        })?;
        Ok(out)
    }

    /// Bounds from the stream index's two ends, then a count between them that the index
    /// alone can answer: one `count(*)` under the pinned position would read the table.
    fn stream_info(&self, stream: &str) -> Result<Option<StreamInfo>> {
        let l = &self.layout;
        let (Some(first), Some(last)) = (
            self.stream_end(stream, "ASC")?,
            self.stream_end(stream, "DESC")?,
        ) else {
            return Ok(None);
        };
        let sql = format!(
            "SELECT count(*)::int8 FROM {} WHERE ({}) AND {} AND {v} BETWEEN $2::int8 AND $3::int8",
            l.from,
            l.filter,
            self.stream_cond(1),
            v = l.version,
        );
        let (lo, hi) = (first - l.version_offset, last - l.version_offset);
        let events = self
            .one_row(&sql, &[&stream, &lo, &hi])?
            .map_or(0, |r| r.get(0));
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
            "SELECT ({c})::text FROM {} WHERE {} LIMIT 1",
            self.layout.from,
            self.condition(&self.stream_cond(1))
        );
        let found = self.one_row(&sql, &[&stream])?.and_then(|r| r.get(0));
        Ok(self.category_of_row(stream, found))
    }

    fn event_at_or_before(&self, stream: &str, version: i64) -> Result<Option<Event>> {
        let l = &self.layout;
        let sql = format!(
            "SELECT {} FROM {} WHERE {} ORDER BY {v} DESC LIMIT 1",
            self.select_list(),
            l.from,
            self.condition(&format!(
                "{} AND {} <= $2::int8",
                self.stream_cond(1),
                l.version
            )),
            v = l.version,
        );
        let stored = version - l.version_offset;
        match self.one_row(&sql, &[&stream, &stored])? {
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
            let data = payload_at(row, 5)?;
            let data = data.unwrap_or_default();
            if looks_like_zlib(data) {
                let e = self.event(row)?;
                let bytes = serde_json::to_vec(&e.data).unwrap_or_default();
                return f(e.version, &bytes);
            }
            f(row.try_get(2).map_err(db_error)?, data)
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
        // PostgreSQL's integer columns hold integers only.
        Ok(Vec::new())
    }

    fn table_rows(
        &self,
        table: &str,
        columns: &[String],
        f: &mut crate::store::table_rows::TableRowFn<'_>,
    ) -> Result<()> {
        self.pg_table_rows(table, columns, f)
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
        self.pg_consumer_records()
    }

    fn log_tail(
        &self,
        after: i64,
        follows: &crate::store::consumers::Follows,
        limit: Option<i64>,
    ) -> Result<crate::store::consumers::Tail> {
        self.pg_log_tail(after, follows, limit)
    }

    fn count_after(&self, after: i64) -> Result<i64> {
        let l = &self.layout;
        let sql = format!(
            "SELECT count(*)::int8 FROM {} WHERE {} AND {} AND {} > $1::int8",
            l.from,
            l.filter,
            l.log_filter.as_deref().unwrap_or("TRUE"),
            l.position
        );
        Ok(self.one_row(&sql, &[&after])?.map_or(0, |r| r.get(0)))
    }

    fn event_total(&self, exact: bool) -> Result<Total> {
        if !exact {
            // The catalog's row estimate of the events table (its partitions' where it
            // has them), as autovacuum and ANALYZE left it; unknown before either ran.
            let sql = "SELECT sum(c.reltuples)::int8, bool_and(c.reltuples >= 0)
                FROM pg_class c
                WHERE c.relkind <> 'p' AND (c.oid = to_regclass($1)
                  OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = to_regclass($1)))";
            if let Some(row) = self.one_row(sql, &[&self.layout.relation])? {
                if let (Some(events), Some(true)) = (row.get(0), row.get(1)) {
                    return Ok(Total {
                        events,
                        estimated: true,
                    });
                }
            }
        }
        Ok(Total {
            events: self.count_after(i64::MIN)?,
            estimated: false,
        })
    }

    fn last_position(&self) -> Result<i64> {
        let l = &self.layout;
        let sql = format!(
            "SELECT ({p})::int8 FROM {} WHERE {} ORDER BY {p} DESC LIMIT 1",
            l.from,
            l.filter,
            p = l.position
        );
        Ok(self.one_row(&sql, &[])?.map_or(0, |r| r.get(0)))
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
        Ok(Box::new(follow::PgFollow::new(
            self.target.clone(),
            self.layout.clone(),
            after,
        )?))
    }
}

impl PgStore {
    fn query_snapshots(&self, stream: Option<&str>, at_most: Option<i64>) -> Result<Vec<Snapshot>> {
        let Some(s) = &self.layout.snapshots else {
            return Ok(Vec::new());
        };
        let sql = format!(
            "SELECT ({st})::text, ({v})::int8, {d}, ({c})::text FROM {} WHERE ($1::text IS NULL OR ({st})::text = $1) AND ($2::int8 IS NULL OR {v} <= $2::int8) {order}",
            s.from,
            // The newest at or below a version: one row, not every older one.
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
        let stored = at_most.map(|v| v - self.layout.version_offset);
        let rows = self.query_rows(&sql, &[&stream, &stored])?;
        Ok(rows
            .iter()
            .map(|row| {
                let payload = payload_at(row, 2).ok().flatten().unwrap_or_default();
                super::snapshots::snapshot_from(
                    row.get(0),
                    row.get::<_, i64>(1) + self.layout.version_offset,
                    row.get(3),
                    payload,
                    s.decoder,
                )
            })
            .collect())
    }
}

impl server_rows::ServerRows for PgStore {
    type Row = Row;

    fn log_rows(
        &self,
        filter: &LogFilter,
        type_in_sql: bool,
        f: &mut dyn FnMut(&Row) -> Result<ControlFlow<()>>,
    ) -> Result<()> {
        self.paged_log_rows(filter, type_in_sql, f)
    }

    fn event(&self, row: &Row) -> Result<Event> {
        PgStore::event(self, row)
    }

    fn row_item<'r>(&self, row: &'r Row) -> Result<StreamRow<'r>> {
        PgStore::row_item(self, row)
    }

    fn type_in_rust(&self) -> bool {
        PgStore::type_in_rust(self)
    }

    fn has_times(&self) -> bool {
        EventSource::has_times(self)
    }
}

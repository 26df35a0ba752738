//! Following a PostgreSQL store without ever skipping a late commit. Positions come from
//! sequences, which hand out numbers before commit: position 7 can become visible after 8.
//! So a follower never goes past a gap while a writing transaction is still open (it may
//! be the one holding the missing position); a gap that outlives every transaction open
//! when it was seen is a rollback, and is passed. Emmett records each row's transaction,
//! so there the follower reads rows of transactions older than every open one
//! (`transaction_id < pg_snapshot_xmin(pg_current_snapshot())`) in transaction order.
//! Where the library NOTIFYs on commit (Commanded), the follower LISTENs and wakes at
//! once, polling only as a fallback; a hot standby, which refuses LISTEN, is polled.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use postgres::fallible_iterator::FallibleIterator;

use super::connect::Target;
use super::layouts::{SqlLayout, Watermark};
use super::{db_error, session_lost, PgStore};
use crate::store::source::Follow;
use crate::store::{Result, StoreError};
use crate::Event;

const BATCH: i64 = 1000;
const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// How often a follower that LISTENs looks anyway (a notification can be missed while the
/// session is being opened again).
const LISTENING_POLL: Duration = Duration::from_secs(1);

pub struct PgFollow {
    /// A session of its own (a follower may move to another thread), which reopens when
    /// dropped as the store's does.
    store: PgStore,
    after: i64,
    /// Emmett's cursor: the transaction of the last row handed out.
    after_tx: String,
    buffer: VecDeque<Event>,
    /// A gap seen, and the open transactions (by id) it waits for.
    waiting: Option<(i64, Vec<String>)>,
    listen: Listen,
    /// A notification came while waiting: the next poll looks.
    notified: bool,
    last_look: Instant,
}

/// Whether the follower's session LISTENs to the layout's channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Listen {
    /// The layout sends nothing, or the server refused (a hot standby): polling only.
    No,
    /// LISTEN was issued on the session opened after this many reconnections.
    On(u32),
    /// To be issued.
    Pending,
}

impl PgFollow {
    pub fn new(target: Target, layout: SqlLayout, after: i64) -> Result<PgFollow> {
        if layout.watermark == Watermark::None {
            return Err(StoreError::Postgres(format!(
                "{} keeps no global order, so there is nothing to follow",
                layout.name
            )));
        }
        let store = PgStore::with_session(target.clone(), layout, target.connect()?);
        let mut follow = PgFollow {
            store,
            after,
            after_tx: "0".into(),
            buffer: VecDeque::new(),
            waiting: None,
            listen: Listen::No,
            notified: false,
            last_look: Instant::now(),
        };
        if follow.store.layout.notify_channel.is_some() {
            follow.listen = Listen::Pending;
        }
        if follow.store.layout.watermark == Watermark::TransactionId {
            let sql = format!(
                "SELECT e.transaction_id::text FROM {} WHERE e.global_position <= $1::int8 ORDER BY e.global_position DESC LIMIT 1",
                follow.store.layout.from
            );
            if let Some(row) = follow.store.one_row(&sql, &[&after])? {
                follow.after_tx = row.get(0);
            }
        }
        Ok(follow)
    }

    /// LISTENs on a new session (the first, or one opened again after a drop).
    fn listen(&mut self) {
        let Some(channel) = &self.store.layout.notify_channel else {
            return;
        };
        let session = self.store.reconnects.get();
        if self.listen == Listen::No || self.listen == Listen::On(session) {
            return;
        }
        let sql = format!("LISTEN {}", super::layouts::q(channel));
        let mut client = self.store.client.borrow_mut();
        self.listen = match client.batch_execute(&sql) {
            Ok(()) => Listen::On(session),
            // A lost session: the next look opens another, and LISTEN is issued there.
            Err(e) if session_lost(&client, &e) => Listen::Pending,
            // "cannot execute LISTEN during recovery": a standby is polled.
            Err(_) => Listen::No,
        };
    }

    /// Whether a look at the table is due: always when polling; when listening, on a
    /// notification, while a gap waits for open transactions, or once a second.
    fn look_due(&mut self) -> bool {
        if !matches!(self.listen, Listen::On(_))
            || self.waiting.is_some()
            || self.last_look.elapsed() >= LISTENING_POLL
        {
            return true;
        }
        let mut client = self.store.client.borrow_mut();
        let mut notes = client.notifications();
        let mut any = std::mem::take(&mut self.notified);
        // Several commits are one look; an error (a lost session) looks, and reconnects.
        loop {
            match notes.iter().next() {
                Ok(Some(_)) => any = true,
                Ok(None) => return any,
                Err(_) => return true,
            }
        }
    }

    /// Waits up to `wait` for a notification, or sleeps when not listening.
    fn pause(&mut self, wait: Duration) {
        if !matches!(self.listen, Listen::On(_)) || self.waiting.is_some() {
            std::thread::sleep(wait.min(POLL_INTERVAL));
            return;
        }
        let mut client = self.store.client.borrow_mut();
        let mut notes = client.notifications();
        if !matches!(
            notes.timeout_iter(wait.min(LISTENING_POLL)).next(),
            Ok(None)
        ) {
            self.notified = true;
        }
    }

    /// Transactions open now that have written something.
    fn open_transactions(&mut self) -> Result<Vec<String>> {
        let rows = self.store.query_rows(
            "SELECT x::text FROM pg_snapshot_xip(pg_current_snapshot()) AS x",
            &[],
        )?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    fn fetch(&mut self) -> Result<bool> {
        self.last_look = Instant::now();
        match self.store.layout.watermark {
            Watermark::TransactionId => self.fetch_by_transaction(),
            _ => self.fetch_by_position(),
        }
    }

    fn fetch_by_position(&mut self) -> Result<bool> {
        let from = self.buffer.back().map_or(self.after, |e| e.global_position);
        let l = &self.store.layout;
        let sql = format!(
            "SELECT {} FROM {} WHERE ({}) AND {p} > $1::int8 ORDER BY {p} LIMIT {BATCH}",
            self.store.select_list(),
            l.from,
            l.filter,
            p = l.position
        );
        // Open transactions first: a row committed after this look is seen next time.
        let open = self.open_transactions()?;
        let rows = self.store.query_rows(&sql, &[&from])?;
        let mut prev = from;
        let mut n = 0;
        for row in &rows {
            let position: i64 = row.try_get(0).map_err(db_error)?;
            if position != prev + 1 {
                // A gap: wait while a transaction that was open when it was first seen is
                // still open.
                let still_open = match &self.waiting {
                    Some((at, txs)) if *at == prev => txs.iter().any(|t| open.contains(t)),
                    _ => {
                        self.waiting = Some((prev, open.clone()));
                        !open.is_empty()
                    }
                };
                if still_open {
                    break;
                }
            }
            self.waiting = None;
            self.buffer.push_back(self.store.event(row)?);
            prev = position;
            n += 1;
        }
        Ok(n > 0)
    }

    fn fetch_by_transaction(&mut self) -> Result<bool> {
        let (tx, pos) = match self.buffer.back() {
            Some(e) => (self.after_tx.clone(), e.global_position),
            None => (self.after_tx.clone(), self.after),
        };
        let l = &self.store.layout;
        let sql = format!(
            "SELECT {}, e.transaction_id::text FROM {} WHERE ({}) AND (e.transaction_id, e.global_position) > ($1::text::xid8, $2::int8) AND e.transaction_id < pg_snapshot_xmin(pg_current_snapshot()) ORDER BY e.transaction_id, e.global_position LIMIT {BATCH}",
            self.store.select_list(),
            l.from,
            l.filter,
        );
        let rows = self.store.query_rows(&sql, &[&tx, &pos])?;
        for row in &rows {
            self.buffer.push_back(self.store.event(row)?);
            // The column after the select list.
            self.after_tx = row.get(row.len() - 1);
        }
        Ok(!rows.is_empty())
    }
}

impl Follow for PgFollow {
    fn position(&self) -> i64 {
        self.after
    }

    fn poll(&mut self) -> Result<Vec<Event>> {
        let mut out = Vec::new();
        self.listen();
        if !self.look_due() {
            return Ok(out);
        }
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

    fn next_timeout(&mut self, timeout: Duration) -> Result<Option<Event>> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(e) = self.buffer.pop_front() {
                self.after = e.global_position;
                return Ok(Some(e));
            }
            self.listen();
            if self.fetch()? {
                continue;
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            self.pause(deadline - now);
        }
    }

    fn wait(&mut self, max: Duration) {
        self.pause(max);
    }
}

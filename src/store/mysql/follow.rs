//! Following a MySQL or MariaDB store by polling its position. InnoDB hands out
//! auto-increment values at insert, before commit, so position 7 can become visible after
//! 8: a follower never goes past a gap while a transaction that has written rows and was
//! open when the gap was first seen is still open (`information_schema.INNODB_TRX`). A user
//! without the PROCESS privilege cannot see other transactions; there a gap is waited on
//! for [`GAP_GRACE`] before it is taken for a rollback, and a commit later than that is
//! missed (the README says so). Neither server can notify, so the follower polls.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::connect::Target;
use super::MyStore;
use crate::store::source::Follow;
use crate::store::sql_layout::{SqlLayout, Watermark};
use crate::store::{Result, StoreError};
use crate::Event;

const BATCH: i64 = 1000;
const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// How long a gap is waited on where open transactions cannot be seen.
pub const GAP_GRACE: Duration = Duration::from_secs(5);

/// Where a gap's wait ends.
enum Waiting {
    /// The transactions open when it was seen (by id).
    For(Vec<String>),
    /// Open transactions cannot be seen: until then.
    Until(Instant),
}

pub struct MyFollow {
    store: MyStore,
    after: i64,
    buffer: VecDeque<Event>,
    /// A gap after this position, and what it waits for.
    waiting: Option<(i64, Waiting)>,
    /// `None` once INNODB_TRX was refused.
    sees_transactions: bool,
}

impl MyFollow {
    pub fn new(target: Target, layout: SqlLayout, after: i64) -> Result<MyFollow> {
        if layout.watermark == Watermark::None {
            return Err(StoreError::Mysql(format!(
                "{} keeps no global order, so there is nothing to follow",
                layout.name
            )));
        }
        let conn = target.connect()?;
        Ok(MyFollow {
            store: MyStore::with_session(target, layout, conn),
            after,
            buffer: VecDeque::new(),
            waiting: None,
            sees_transactions: true,
        })
    }

    /// Transactions open now that have written rows, or `None` where the user may not
    /// see them.
    fn open_transactions(&mut self) -> Option<Vec<String>> {
        if !self.sees_transactions {
            return None;
        }
        match self.store.query(
            "SELECT CAST(trx_id AS CHAR) FROM information_schema.INNODB_TRX WHERE trx_rows_modified > 0",
            Vec::new(),
        ) {
            Ok(rows) => Some(rows.iter().filter_map(|r| r.text(0)).collect()),
            Err(_) => {
                self.sees_transactions = false;
                None
            }
        }
    }

    /// Whether the gap after `prev` may still fill.
    fn gap_may_fill(&mut self, prev: i64, open: &Option<Vec<String>>) -> bool {
        if let Some((at, waiting)) = &self.waiting {
            if *at == prev {
                return match (waiting, open) {
                    (Waiting::For(txs), Some(now)) => txs.iter().any(|t| now.contains(t)),
                    (Waiting::Until(deadline), _) => Instant::now() < *deadline,
                    (Waiting::For(_), None) => false,
                };
            }
        }
        let (waiting, may) = match open {
            Some(txs) => (Waiting::For(txs.clone()), !txs.is_empty()),
            None => (Waiting::Until(Instant::now() + GAP_GRACE), true),
        };
        self.waiting = Some((prev, waiting));
        may
    }

    fn fetch(&mut self) -> Result<bool> {
        let from = self.buffer.back().map_or(self.after, |e| e.global_position);
        let l = &self.store.layout;
        let sql = format!(
            "SELECT {} FROM {} WHERE ({}) AND {} AND {p} > ? ORDER BY {p} LIMIT {BATCH}",
            self.store.select_list(),
            l.from,
            l.filter,
            l.log_filter.as_deref().unwrap_or("TRUE"),
            p = l.position
        );
        // Open transactions first: a row committed after this look is seen next time.
        let open = self.open_transactions();
        let rows = self.store.query(&sql, vec![from.into()])?;
        let mut prev = from;
        let mut n = 0;
        for row in &rows {
            let position = row.int(0).unwrap_or(prev + 1);
            if position != prev + 1 && self.gap_may_fill(prev, &open) {
                break;
            }
            self.waiting = None;
            self.buffer.push_back(self.store.event(row)?);
            prev = position;
            n += 1;
        }
        Ok(n > 0)
    }
}

impl Follow for MyFollow {
    fn position(&self) -> i64 {
        self.after
    }

    fn poll(&mut self) -> Result<Vec<Event>> {
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

    fn next_timeout(&mut self, timeout: Duration) -> Result<Option<Event>> {
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
            std::thread::sleep((deadline - now).min(POLL_INTERVAL));
        }
    }

    fn wait(&mut self, max: Duration) {
        std::thread::sleep(max.min(POLL_INTERVAL));
    }
}

//! Consumer positions in a MySQL/MariaDB store, from each library's own table:
//! - Axon: `token_entry` (processor_name, segment, token): `consumers::axon`;
//! - go-mink and the native layout: `checkpoints` (projection_name or name, position).
//!
//! A tail is counted by the server through the position index, up to the limit asked.

use mysql::Value;

use super::layouts::{q, tables};
use super::MyStore;
use crate::store::consumers::{parse_position, ConsumerRecord, Counted, Follows, Tail};
use crate::store::{EventSource, Result};

impl MyStore {
    pub(super) fn my_consumer_records(&self) -> Result<Vec<ConsumerRecord>> {
        let found = tables(&mut self.conn.borrow_mut())?;
        let mut out = Vec::new();
        for t in &found {
            let has = |cols: &[&str]| cols.iter().all(|c| t.columns.contains_key(*c));
            let select = |cols: &[&str]| -> Result<Vec<Vec<Option<String>>>> {
                let list: Vec<String> = cols
                    .iter()
                    .map(|c| match t.columns.contains_key(*c) {
                        true => q(c),
                        false => "NULL".into(),
                    })
                    .collect();
                let sql = format!("SELECT {} FROM {} ORDER BY 1", list.join(", "), q(&t.name));
                Ok(self
                    .query(&sql, Vec::new())?
                    .iter()
                    .map(|r| (0..cols.len()).map(|i| r.text(i)).collect())
                    .collect())
            };
            if t.name == "token_entry" && has(&["processor_name", "segment", "token"]) {
                let rows = select(&crate::store::consumers::axon::COLUMNS)?;
                out.extend(crate::store::consumers::axon::records(&rows, &t.name));
            } else if t.name == "checkpoints" && has(&["position"]) {
                let name = if has(&["projection_name"]) {
                    "projection_name"
                } else {
                    "name"
                };
                for r in select(&[name, "position", "updated_at"])? {
                    let mut c = ConsumerRecord::new(
                        r[0].clone().unwrap_or_default(),
                        "projection",
                        Follows::All,
                        &t.name,
                    );
                    c.position = r[1].as_deref().and_then(parse_position);
                    c.last_update = r[2].as_deref().map(crate::time::normalise);
                    out.push(c);
                }
            }
        }
        Ok(out)
    }

    /// What lies after `after` in what a consumer follows, counted by the server up to
    /// `limit` in position order.
    pub(super) fn my_log_tail(
        &self,
        after: i64,
        follows: &Follows,
        limit: Option<i64>,
    ) -> Result<Tail> {
        let l = &self.layout;
        let (within, params): (String, Vec<Value>) = match follows {
            Follows::All => (
                l.log_filter.clone().unwrap_or_else(|| "TRUE".into()),
                Vec::new(),
            ),
            Follows::Stream(s) => (self.stream_cond(s), MyStore::stream_params(s)),
            Follows::Category(c) => {
                let ids = self.streams_of_category(c)?;
                if ids.is_empty() {
                    return Ok(Tail::default());
                }
                let marks = vec!["CAST(? AS BINARY)"; ids.len()].join(", ");
                (
                    format!("CAST({} AS BINARY) IN ({marks})", l.stream),
                    ids.into_iter().map(Value::from).collect(),
                )
            }
        };
        let sql = format!(
            "SELECT CAST(count(*) AS SIGNED), CAST(max(p) AS SIGNED), CAST(min(p) AS SIGNED) FROM (SELECT {pos} AS p FROM {} WHERE {} AND {pos} > ? AND {within} ORDER BY {pos}{}) s",
            l.from,
            self.condition(""),
            limit.map_or(String::new(), |n| format!(" LIMIT {n}")),
            pos = l.position
        );
        let mut all = vec![Value::from(after)];
        all.extend(params.iter().cloned());
        let row = self.query(&sql, all)?.into_iter().next();
        let sql = format!(
            "SELECT CAST({pos} AS SIGNED) FROM {} WHERE {} AND {within} ORDER BY {pos} DESC LIMIT 1",
            l.from,
            self.condition(""),
            pos = l.position
        );
        let head = self.query(&sql, params)?.first().and_then(|r| r.int(0));
        let counted = Counted {
            counted: row.as_ref().and_then(|r| r.int(0)).unwrap_or(0),
            last_counted: row.as_ref().and_then(|r| r.int(1)),
            next: row.as_ref().and_then(|r| r.int(2)),
            head,
        };
        Ok(Tail::from_counted(counted, limit))
    }
}

//! Consumer positions in a PostgreSQL store, from each library's own table (every value
//! read as text, then parsed as the SQLite side does):
//! - Marten: `mt_event_progression` (name, last_seq_id, last_updated): sequence numbers are
//!   eventscope's positions; the daemon's `HighWaterMark` row is not a consumer;
//! - Commanded EventStore: `subscriptions` (subscription_name, stream_uuid, last_seen): a
//!   `$all` subscription's last seen event number is the position;
//! - Eventuous: `checkpoints` (id, position);
//! - go-mink: `checkpoints` (projection_name, position, updated_at);
//! - Python eventsourcing: `<app>_tracking` (application_name, notification_id);
//! - Emmett: `emt_processors` / `emt_subscriptions`, as on SQLite.

use super::layouts::{tables, Table};
use super::PgStore;
use crate::store::consumers::{parse_position, ConsumerRecord, Follows, Tail};
use crate::store::Result;

/// One table's rows as text columns.
type TextRows = Vec<Vec<Option<String>>>;

impl PgStore {
    fn text_rows(&self, sql: &str, width: usize) -> Result<TextRows> {
        let rows = self.query_rows(sql, &[])?;
        Ok(rows
            .iter()
            .map(|r| (0..width).map(|i| r.get::<_, Option<String>>(i)).collect())
            .collect())
    }

    /// `SELECT col::text, …` of `table`, NULL for the columns it lacks.
    fn text_select(&self, t: &Table, wanted: &[&str]) -> Result<TextRows> {
        let list: Vec<String> = wanted
            .iter()
            .map(|c| match t.columns.contains_key(*c) {
                true => format!("{}::text", super::layouts::q(c)),
                false => "NULL::text".into(),
            })
            .collect();
        self.text_rows(
            &format!("SELECT {} FROM {}", list.join(", "), t.qualified()),
            wanted.len(),
        )
    }

    pub(super) fn pg_consumer_records(&self) -> Result<Vec<ConsumerRecord>> {
        let found = tables(&mut self.client.borrow_mut(), None)?;
        let mut out = Vec::new();
        for t in &found {
            let has = |cols: &[&str]| cols.iter().all(|c| t.columns.contains_key(*c));
            let source = format!("{}.{}", t.schema, t.name);
            let record = |name: String, kind: &str, follows, stored: &Option<String>| {
                let mut c = ConsumerRecord::new(name, kind, follows, &source);
                c.position = stored.as_deref().and_then(parse_position);
                if let (None, Some(s)) = (c.position, stored) {
                    c.error = Some(format!("its stored position {s} is not a position"));
                }
                c
            };
            if t.name == "mt_event_progression" && has(&["name", "last_seq_id"]) {
                for r in self.text_select(t, &["name", "last_seq_id", "last_updated"])? {
                    let name = r[0].clone().unwrap_or_default();
                    if name == "HighWaterMark" {
                        continue;
                    }
                    let mut c = record(name, "projection", Follows::All, &r[1]);
                    c.last_update = r[2].as_deref().map(crate::time::normalise);
                    out.push(c);
                }
            } else if t.name == "subscriptions"
                && has(&["subscription_name", "stream_uuid", "last_seen"])
            {
                for r in self.text_select(t, &["subscription_name", "stream_uuid", "last_seen"])? {
                    let stream = r[1].clone().unwrap_or_default();
                    let follows = match stream.as_str() {
                        "$all" => Follows::All,
                        s => Follows::Stream(s.to_string()),
                    };
                    out.push(record(
                        r[0].clone().unwrap_or_default(),
                        "subscription",
                        follows,
                        &r[2],
                    ));
                }
            } else if t.name == "checkpoints" && has(&["projection_name", "position"]) {
                // go-mink's projection engine: the last global position it applied.
                for r in self.text_select(t, &["projection_name", "position", "updated_at"])? {
                    let name = r[0].clone().unwrap_or_default();
                    let mut c = record(name, "projection", Follows::All, &r[1]);
                    c.last_update = r[2].as_deref().map(crate::time::normalise);
                    out.push(c);
                }
            } else if t.name == "checkpoints" && has(&["id", "position"]) {
                for r in self.text_select(t, &["id", "position"])? {
                    let mut c = record(
                        r[0].clone().unwrap_or_default(),
                        "subscription",
                        Follows::All,
                        &r[1],
                    );
                    c.note = Some("Eventuous's checkpoint as stored, taken to be the last processed global position".into());
                    out.push(c);
                }
            } else if t.name.ends_with("_tracking") && has(&["application_name", "notification_id"])
            {
                let sql = format!(
                    "SELECT application_name::text, max(notification_id)::text FROM {} GROUP BY 1 ORDER BY 1",
                    t.qualified()
                );
                let app = t.name.trim_end_matches("_tracking");
                for r in self.text_rows(&sql, 2)? {
                    let upstream = r[0].clone().unwrap_or_default();
                    let mut c = record(
                        format!("{app} ← {upstream}"),
                        "tracking",
                        Follows::All,
                        &r[1],
                    );
                    let log = format!("{}_events", upstream.to_lowercase());
                    if !self.layout.table.ends_with(&format!(".{log}")) {
                        c.note = Some(format!(
                            "notification ids of {upstream}'s log ({log}), while this store reads {}: open that log to judge this consumer",
                            self.layout.table
                        ));
                    }
                    out.push(c);
                }
            } else if (t.name == "emt_processors"
                && has(&["processor_id", "last_processed_checkpoint"]))
                || (t.name == "emt_subscriptions"
                    && has(&["subscription_id", "last_processed_position"]))
            {
                let processors = t.name == "emt_processors";
                let wanted = match processors {
                    true => [
                        "processor_id",
                        "last_processed_checkpoint",
                        "partition",
                        "status",
                        "last_updated",
                    ],
                    false => [
                        "subscription_id",
                        "last_processed_position",
                        "partition",
                        "status",
                        "last_updated",
                    ],
                };
                for r in self.text_select(t, &wanted)? {
                    let mut name = r[0].clone().unwrap_or_default();
                    if let Some(p) = r[2]
                        .as_deref()
                        .filter(|p| *p != "global" && *p != "emt:default")
                    {
                        name = format!("{name} ({p})");
                    }
                    let kind = if processors {
                        "processor"
                    } else {
                        "subscription"
                    };
                    let mut c = record(name, kind, Follows::All, &r[1]);
                    c.status = r[3].clone();
                    c.last_update = r[4].as_deref().map(crate::time::normalise);
                    out.push(c);
                }
            }
        }
        Ok(out)
    }

    /// What lies after `after` in the log, or in `streams` only, counted by the server
    /// through the position index.
    pub(super) fn pg_log_tail(&self, after: i64, streams: Option<&[String]>) -> Result<Tail> {
        let l = &self.layout;
        let ids: Option<Vec<String>> = streams.map(<[String]>::to_vec);
        let within = format!(
            "($2::text[] IS NULL OR ({})::text = ANY($2::text[]))",
            l.stream
        );
        let sql = format!(
            "SELECT count(*)::int8, min({p})::int8 FROM {} WHERE ({}) AND {p} > $1::int8 AND {within}",
            l.from,
            l.filter,
            p = l.position
        );
        let (count, next) = self
            .one_row(&sql, &[&after, &ids])?
            .map_or((0, None), |r| (r.get(0), r.get(1)));
        let sql = format!(
            "SELECT max({p})::int8 FROM {} WHERE ({}) AND {}",
            l.from,
            l.filter,
            within.replace("$2", "$1"),
            p = l.position
        );
        let head = self.one_row(&sql, &[&ids])?.and_then(|r| r.get(0));
        Ok(Tail { count, next, head })
    }
}

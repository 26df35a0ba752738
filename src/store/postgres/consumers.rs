//! Consumer positions in a PostgreSQL store, from each library's own table (every value
//! read as text, then parsed as the SQLite side does):
//! - Marten: `mt_event_progression` (name, last_seq_id, last_updated): sequence numbers are
//!   eventscope's positions; the daemon's `HighWaterMark` row is not a consumer;
//! - Commanded EventStore: `subscriptions` (subscription_name, stream_uuid, last_seen): a
//!   `$all` subscription's last seen event number is the position;
//! - Eventuous: `checkpoints` (id, position);
//! - go-mink: `checkpoints` (projection_name, position, updated_at);
//! - Python eventsourcing: `<app>_tracking` (application_name, notification_id);
//! - Emmett: `emt_processors` / `emt_subscriptions`, as on SQLite;
//! - Axon: `token_entry` (processor_name, segment, token): `consumers::axon`.

use super::layouts::{tables, Table};
use super::PgStore;
use crate::store::consumers::{parse_position, ConsumerRecord, Counted, DeadLetter, Follows, Tail};
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
                let letters = self.marten_dead_letters(&found, &t.schema)?;
                for r in self.text_select(t, &["name", "last_seq_id", "last_updated"])? {
                    let name = r[0].clone().unwrap_or_default();
                    if name == "HighWaterMark" {
                        continue;
                    }
                    let mut c = record(name.clone(), "projection", Follows::All, &r[1]);
                    c.last_update = r[2].as_deref().map(crate::time::normalise);
                    c.dead_letters = letters
                        .iter()
                        .filter(|(shard, _)| *shard == name)
                        .map(|(_, d)| d.clone())
                        .collect();
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
                    "SELECT application_name::text, max(notification_id)::text FROM {} WHERE application_name <> '__migration__' GROUP BY 1 ORDER BY 1",
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
            } else if t.name == "token_entry" && has(&["processor_name", "segment", "token"]) {
                // Axon: the token is bytes (an OID large object or bytea) or text.
                let list: Vec<String> = crate::store::consumers::axon::COLUMNS
                    .iter()
                    .map(|c| match t.columns.get(*c).map(|(ty, _)| ty.as_str()) {
                        None => "NULL::text".into(),
                        Some("oid") => {
                            format!("convert_from(lo_get({}), 'UTF8')", super::layouts::q(c))
                        }
                        Some("bytea") => format!("convert_from({}, 'UTF8')", super::layouts::q(c)),
                        Some(_) => format!("{}::text", super::layouts::q(c)),
                    })
                    .collect();
                let sql = format!(
                    "SELECT {} FROM {} ORDER BY 1, 2",
                    list.join(", "),
                    t.qualified()
                );
                let rows = self.text_rows(&sql, list.len())?;
                out.extend(crate::store::consumers::axon::records(&rows, &source));
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

    /// Marten's dead-letter documents in `schema`, by the progression name of their shard
    /// (`{ProjectionName}:{ShardName}`), in event order. Marten writes the document's
    /// properties in the casing it is configured with: both spellings are read.
    fn marten_dead_letters(
        &self,
        tables: &[Table],
        schema: &str,
    ) -> Result<Vec<(String, DeadLetter)>> {
        let Some(t) = tables
            .iter()
            .find(|t| t.schema == schema && t.name == "mt_doc_deadletterevent")
        else {
            return Ok(Vec::new());
        };
        let field = |name: &str| {
            let mut camel = name.to_string();
            camel[..1].make_ascii_lowercase();
            format!("COALESCE(data->>'{name}', data->>'{camel}')")
        };
        let sql = format!(
            "SELECT {}, {}, {}, {}, {}, {} FROM {}",
            field("ProjectionName"),
            field("ShardName"),
            field("ExceptionMessage"),
            field("ExceptionType"),
            field("EventSequence"),
            field("Timestamp"),
            t.qualified()
        );
        let rows = self.text_rows(&sql, 6)?;
        let mut letters: Vec<(String, DeadLetter)> = rows
            .into_iter()
            .filter_map(|r| {
                let position = r[4].as_deref().and_then(parse_position)?;
                let shard = format!(
                    "{}:{}",
                    r[0].clone().unwrap_or_default(),
                    r[1].clone().unwrap_or_default()
                );
                let letter = DeadLetter {
                    position,
                    error: r[2].clone(),
                    error_type: r[3].clone(),
                    time: r[5].as_deref().map(crate::time::normalise),
                    event: None,
                };
                Some((shard, letter))
            })
            .collect();
        letters.sort_by_key(|(_, d)| d.position);
        Ok(letters)
    }

    /// What lies after `after` in what a consumer `follows`: up to `limit` events counted
    /// by the server in position order (its position index), the first, and the set's
    /// last position.
    pub(super) fn pg_log_tail(
        &self,
        after: i64,
        follows: &Follows,
        limit: Option<i64>,
    ) -> Result<Tail> {
        let l = &self.layout;
        // The category as the stream list shows it: the layout's column where it has one
        // and it is set, else the id before its first `-`.
        let prefix = format!("split_part(({})::text, '-', 1)", l.stream);
        let category = match &l.category {
            Some(c) => format!("COALESCE(NULLIF(({c})::text, ''), {prefix})"),
            None => prefix,
        };
        let (within, key): (String, Option<String>) = match follows {
            Follows::All => ("$2::text IS NULL".into(), None),
            Follows::Stream(s) => (format!("({})::text = $2::text", l.stream), Some(s.clone())),
            // Python eventsourcing's category is the class in a topic: by the stream list.
            Follows::Category(c) if l.decoder == crate::store::Decoder::Eventsourcing => {
                let ids = crate::store::EventSource::streams_of_category(self, c)?;
                (
                    format!(
                        "({})::text = ANY(ARRAY(SELECT json_array_elements_text($2::text::json)))",
                        l.stream
                    ),
                    Some(serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into())),
                )
            }
            Follows::Category(c) => (format!("{category} = $2::text"), Some(c.clone())),
        };
        let sql = format!(
            "SELECT count(*)::int8, max(p)::int8, min(p)::int8 FROM (SELECT {pos} AS p FROM {} WHERE {} AND {pos} > $1::int8 AND {within} ORDER BY {pos}{}) s",
            l.from,
            self.condition(""),
            limit.map_or(String::new(), |n| format!(" LIMIT {n}")),
            pos = l.position
        );
        let (counted, last_counted, next) = self
            .one_row(&sql, &[&after, &key])?
            .map_or((0, None, None), |r| (r.get(0), r.get(1), r.get(2)));
        let sql = format!(
            "SELECT ({pos})::int8 FROM {} WHERE {} AND {} ORDER BY {pos} DESC LIMIT 1",
            l.from,
            self.condition(""),
            within.replace("$2", "$1"),
            pos = l.position
        );
        let head = self.one_row(&sql, &[&key])?.and_then(|r| r.get(0));
        let counted = Counted {
            counted,
            last_counted,
            next,
            head,
        };
        Ok(Tail::from_counted(counted, limit))
    }
}

impl PgStore {
    /// An application's table (`NAME` or `SCHEMA.NAME`) read row by row, each value as
    /// JSON through `to_jsonb`.
    pub(super) fn pg_table_rows(
        &self,
        table: &str,
        wanted: &[String],
        f: &mut crate::store::table_rows::TableRowFn<'_>,
    ) -> Result<()> {
        let found = tables(&mut self.client.borrow_mut(), None)?;
        let (schema, name) = match table.split_once('.') {
            Some((s, n)) => (Some(s), n),
            None => (None, table),
        };
        let matching: Vec<&Table> = found
            .iter()
            .filter(|t| t.name == name && schema.is_none_or(|s| t.schema == s))
            .collect();
        let t = match matching.as_slice() {
            [one] => *one,
            [] => {
                return Err(crate::store::StoreError::BadReadModel(format!(
                    "no table {table:?} in this database"
                )))
            }
            _ => {
                return Err(crate::store::StoreError::BadReadModel(format!(
                    "table {name} is in several schemas: name it as SCHEMA.{name}"
                )))
            }
        };
        let have: Vec<String> = t.columns.keys().cloned().collect();
        for c in wanted {
            if !t.columns.contains_key(c) {
                return Err(crate::store::table_rows::no_column(table, c, &have));
            }
        }
        let list: Vec<String> = wanted
            .iter()
            .map(|c| format!("to_jsonb({})::text", super::layouts::q(c)))
            .collect();
        let sql = format!(
            "SELECT {} FROM {} LIMIT {}",
            list.join(", "),
            t.qualified(),
            crate::store::table_rows::TABLE_ROWS_LIMIT
        );
        for row in self.text_rows(&sql, wanted.len())? {
            let values = row
                .iter()
                .map(|v| {
                    v.as_deref()
                        .map_or(Ok(serde_json::Value::Null), serde_json::from_str)
                        .map_err(|e| crate::store::StoreError::Postgres(e.to_string()))
                })
                .collect::<Result<Vec<_>>>()?;
            if f(values)?.is_break() {
                break;
            }
        }
        Ok(())
    }
}

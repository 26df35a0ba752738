//! Consumer positions in a SQLite store, read from each library's own table:
//! - the native layout's `checkpoints` (name, position[, follows, kind, updated_at, status,
//!   error]; go-mink's own has projection_name, position, updated_at);
//! - Python eventsourcing's `tracking` (application_name, notification_id): a process
//!   application's last processed notification id of its upstream's log;
//! - Emmett's `emt_processors` (0.42: processor_id, last_processed_checkpoint, a global
//!   position as zero-padded text; status, last_updated where present) and the older
//!   `emt_subscriptions` (subscription_id, last_processed_position);
//! - a `--consumers` table.

use rusqlite::types::Value;

use super::{ConsumerRecord, ConsumerSpec, Counted, Follows, Tail};
use crate::store::layout::{columns, q, CategoryRule, Layout};
use crate::store::{Result, Store, StoreError};
use rusqlite::OptionalExtension;

/// A stored value as a global position: an integer, an integral real, or digits in text
/// (Emmett pads them with zeros; a `transaction:position` pair gives its position).
pub(super) fn position_of(v: &Value) -> Option<i64> {
    match v {
        Value::Integer(n) => Some(*n),
        Value::Real(r) if r.fract() == 0.0 && r.abs() < 9.0e15 => Some(*r as i64),
        Value::Text(t) => super::parse_position(t),
        _ => None,
    }
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::Text(t) => Some(t.clone()),
        Value::Integer(n) => Some(n.to_string()),
        Value::Real(r) => Some(r.to_string()),
        _ => None,
    }
}

/// A stored time in the envelope's form: text as stored times are read, or an epoch.
fn time_of(v: &Value) -> Option<String> {
    use crate::time::{normalise, normalise_epoch, EpochUnit};
    match v {
        Value::Text(t) => Some(normalise(t)),
        Value::Integer(n) => normalise_epoch(*n as f64, EpochUnit::Auto),
        Value::Real(r) => normalise_epoch(*r, EpochUnit::Auto),
        _ => None,
    }
}

/// A record whose stored position could not be read says so instead of guessing.
fn positioned(mut r: ConsumerRecord, stored: &Value) -> ConsumerRecord {
    r.position = position_of(stored);
    if r.position.is_none() && !matches!(stored, Value::Null) {
        r.error = Some(format!(
            "its stored position {} is not a position",
            text_of(stored).unwrap_or_else(|| "(a blob)".into())
        ));
    }
    r
}

impl Store {
    pub(crate) fn consumer_records(
        &self,
        spec: Option<&ConsumerSpec>,
    ) -> Result<Vec<ConsumerRecord>> {
        if let Some(spec) = spec {
            return self.spec_records(spec);
        }
        let tables = crate::store::schema::tables(&self.conn)?;
        let has = |t: &str| tables.iter().any(|n| n == t);
        let mut out = Vec::new();
        if has("checkpoints") {
            out.extend(self.native_records()?);
        }
        if self.mapping.layout == Layout::Eventsourcing && has("tracking") {
            out.extend(self.tracking_records()?);
        }
        if self.mapping.layout == Layout::Emmett {
            if has("emt_processors") {
                out.extend(self.emmett_records(
                    "emt_processors",
                    "processor_id",
                    "last_processed_checkpoint",
                )?);
            } else if has("emt_subscriptions") {
                out.extend(self.emmett_records(
                    "emt_subscriptions",
                    "subscription_id",
                    "last_processed_position",
                )?);
            }
        }
        Ok(out)
    }

    /// `SELECT` of the wanted columns of `table`, NULL for those it lacks.
    fn select_present(&self, table: &str, wanted: &[&str]) -> Result<Vec<Vec<Value>>> {
        let have = columns(&self.conn, table)?;
        let list: Vec<String> = wanted
            .iter()
            .map(|c| {
                if have.iter().any(|h| h == c) {
                    q(c)
                } else {
                    "NULL".into()
                }
            })
            .collect();
        self.select(
            &format!("SELECT {} FROM {}", list.join(", "), q(table)),
            wanted.len(),
        )
    }

    fn select(&self, sql: &str, width: usize) -> Result<Vec<Vec<Value>>> {
        let mut stmt = self.conn.prepare(sql)?;
        let rows = stmt.query_map([], |row| {
            (0..width).map(|i| row.get::<_, Value>(i)).collect()
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn native_records(&self) -> Result<Vec<ConsumerRecord>> {
        // go-mink's own table names its consumer `projection_name`.
        let name = match columns(&self.conn, "checkpoints")?
            .iter()
            .any(|c| c == "name")
        {
            true => "name",
            false => "projection_name",
        };
        let rows = self.select_present(
            "checkpoints",
            &[
                name,
                "position",
                "follows",
                "kind",
                "updated_at",
                "status",
                "error",
            ],
        )?;
        Ok(rows
            .iter()
            .map(|r| {
                let kind = text_of(&r[3]).unwrap_or_else(|| "projection".into());
                let follows = Follows::parse(&text_of(&r[2]).unwrap_or_default());
                let name = text_of(&r[0]).unwrap_or_default();
                let mut record = ConsumerRecord::new(name, &kind, follows, "checkpoints");
                record.last_update = time_of(&r[4]);
                record.status = text_of(&r[5]);
                record.error = text_of(&r[6]);
                positioned(record, &r[1])
            })
            .collect())
    }

    fn tracking_records(&self) -> Result<Vec<ConsumerRecord>> {
        // Multi-row tracking keeps a row per notification: the highest is where it stands.
        let rows = self.select(
            "SELECT application_name, MAX(notification_id) FROM tracking WHERE application_name <> '__migration__' GROUP BY application_name ORDER BY application_name",
            2,
        )?;
        Ok(rows
            .iter()
            .map(|r| {
                let upstream = text_of(&r[0]).unwrap_or_default();
                // The process application is the database's owner; its file names it.
                let owner = self
                    .path
                    .file_stem()
                    .map_or_else(|| "tracking".into(), |s| s.to_string_lossy().into_owned());
                let name = format!("{owner} ← {upstream}");
                let mut record = ConsumerRecord::new(name, "tracking", Follows::All, "tracking");
                record.note = Some(format!(
                    "notification ids of application {upstream}'s log, taken to be this store's stored_events (the tracking table does not say whose log it is; a follower's own database is read with --tracking FOLLOWER against its leader's)"
                ));
                positioned(record, &r[1])
            })
            .collect())
    }

    fn emmett_records(
        &self,
        table: &str,
        id: &str,
        checkpoint: &str,
    ) -> Result<Vec<ConsumerRecord>> {
        let rows = self.select_present(
            table,
            &[
                id,
                checkpoint,
                "partition",
                "status",
                "last_updated",
                "version",
            ],
        )?;
        Ok(rows
            .iter()
            .map(|r| {
                let name = text_of(&r[0]).unwrap_or_default();
                let partition = text_of(&r[2]).filter(|p| p != "global" && p != "emt:default");
                let name = match partition {
                    Some(p) => format!("{name} ({p})"),
                    None => name,
                };
                let kind = match table {
                    "emt_processors" => "processor",
                    _ => "subscription",
                };
                let mut record = ConsumerRecord::new(name, kind, Follows::All, table);
                record.last_update = time_of(&r[4]);
                record.status = text_of(&r[3]);
                positioned(record, &r[1])
            })
            .collect())
    }

    fn spec_records(&self, spec: &ConsumerSpec) -> Result<Vec<ConsumerRecord>> {
        let table = spec.get("table").unwrap_or_default();
        let have = columns(&self.conn, table)?;
        if have.is_empty() {
            return Err(StoreError::BadConsumers(format!(
                "no table {table:?} in this store"
            )));
        }
        for (key, column) in spec.columns() {
            if !have.iter().any(|h| h == column) {
                return Err(StoreError::BadConsumers(format!(
                    "{key}={column}: table {table} has no such column (columns: {})",
                    have.join(", ")
                )));
            }
        }
        let col = |k: &str| spec.get(k).map_or("NULL".to_string(), q);
        let sql = format!(
            "SELECT {}, {}, {}, {}, {}, {} FROM {}",
            col("name"),
            col("position"),
            col("follows"),
            col("kind"),
            col("updated"),
            col("status"),
            q(table)
        );
        let rows = self.select(&sql, 6)?;
        Ok(rows
            .iter()
            .map(|r| {
                let kind = text_of(&r[3]).unwrap_or_else(|| "consumer".into());
                let follows = Follows::parse(&text_of(&r[2]).unwrap_or_default());
                let name = text_of(&r[0]).unwrap_or_default();
                let mut record = ConsumerRecord::new(name, &kind, follows, table);
                record.last_update = time_of(&r[4]);
                record.status = text_of(&r[5]);
                positioned(record, &r[1])
            })
            .collect())
    }

    /// What lies after `after` in what a consumer `follows`: up to `limit` events counted
    /// in position order from `after` on, the first, and the set's last position.
    pub(crate) fn log_tail(
        &self,
        after: i64,
        follows: &Follows,
        limit: Option<i64>,
    ) -> Result<Tail> {
        let m = &self.mapping;
        // `+` keeps SQLite from reading a category through the stream index (all of its
        // events, then a sort): the log is walked in position order, so a bounded count
        // stops early. One stream goes through the index.
        // The text before the first `-`: ids from "C-" up to "C." in byte order, or "C".
        let prefix = format!(
            "(+{s} = ?2 OR (+{s} >= ?2 || '-' AND +{s} < ?2 || '.'))",
            s = m.stream
        );
        let (within, key) = match follows {
            Follows::All => ("?2 IS NULL".to_string(), None),
            Follows::Stream(s) => (format!("{} = ?2", m.stream), Some(s.clone())),
            Follows::Category(c) if matches!(m.category, CategoryRule::Prefix) => {
                (prefix, Some(c.clone()))
            }
            // An import's store: a stream's category is named in `stream_categories`
            // where its library named one, else it is the prefix.
            Follows::Category(c) if matches!(m.category, CategoryRule::ColumnOrPrefix(_)) => {
                let named = crate::store::schema::tables(&self.conn)?
                    .iter()
                    .any(|t| t == "stream_categories");
                let within = match named {
                    true => format!(
                        "(({prefix} AND +{s} NOT IN (SELECT stream_id FROM stream_categories)) OR +{s} IN (SELECT stream_id FROM stream_categories WHERE category = ?2))",
                        s = m.stream
                    ),
                    false => prefix,
                };
                (within, Some(c.clone()))
            }
            Follows::Category(c) => {
                let ids = self.streams_of_category(c)?;
                (
                    format!("+{} IN (SELECT value FROM json_each(?2))", m.stream),
                    Some(serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into())),
                )
            }
        };
        let count_sql = format!(
            "SELECT COUNT(*), MAX(p), MIN(p) FROM (SELECT {pos} AS p FROM {}{} ORDER BY {pos}{})",
            m.table,
            m.where_clause(&format!("{} > ?1 AND {within}", m.position)),
            limit.map_or(String::new(), |l| format!(" LIMIT {l}")),
            pos = m.position
        );
        let head_sql = format!(
            "SELECT {pos} FROM {}{} ORDER BY {pos} DESC LIMIT 1",
            m.table,
            m.where_clause(&within.replace("?2", "?1")),
            pos = m.position
        );
        let (counted, last_counted, next) = self
            .conn
            .prepare_cached(&count_sql)?
            .query_row(rusqlite::params![after, key], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
        let head = self
            .conn
            .prepare_cached(&head_sql)?
            .query_row([key], |r| r.get(0))
            .optional()?;
        let counted = Counted {
            counted,
            last_counted,
            next,
            head,
        };
        Ok(Tail::from_counted(counted, limit))
    }
}

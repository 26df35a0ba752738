//! The snapshots applications save beside their events. They hold the *application's*
//! aggregate in its own shape, not a reducer's state, so they are data to show and check;
//! replay starts from one only when asked to (see `replay::SnapshotUse`).

use rusqlite::types::ValueRef;
use serde::Serialize;
use serde_json::Value;

use super::decode::{decode_payload, text};
use super::layout::Decoder;
use super::{Result, Store};

/// A state the application saved for a stream at a version, decoded: Python
/// `eventsourcing`'s `{"timestamp", "topic", "state"}` wrapper is unwrapped to `state` and
/// its tagged values decoded; cqrs-es's aggregate is shown as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Snapshot {
    pub stream_id: String,
    pub version: i64,
    pub data: Value,
    /// When the application took it, where the layout records that.
    pub created_at: Option<String>,
    /// The aggregate's type, where the layout records it (`eventsourcing`'s topic).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// Why the row could not be read; `data` is then `null`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unreadable: Option<String>,
}

impl Store {
    /// Whether the store keeps snapshots in a table that fits its layout.
    pub fn has_snapshots(&self) -> bool {
        self.mapping.snapshots.is_some()
    }

    /// Every snapshot (of one stream, or all), ordered by stream and version; rows that
    /// cannot be read are included and marked.
    pub fn snapshots(&self, stream: Option<&str>) -> Result<Vec<Snapshot>> {
        let cond = match stream {
            Some(_) => "WHERE s = ?1",
            None => "",
        };
        self.query_snapshots(&format!("{cond} ORDER BY s, v"), stream.map(|s| (s, None)))
    }

    /// The newest snapshot of `stream` at or before `version`, readable or not.
    pub fn latest_snapshot(&self, stream: &str, version: i64) -> Result<Option<Snapshot>> {
        let found = self.query_snapshots(
            "WHERE s = ?1 AND v <= ?2 ORDER BY v DESC LIMIT 1",
            Some((stream, Some(version))),
        )?;
        Ok(found.into_iter().next())
    }

    /// The versions of `stream` that have a snapshot, for marking them in a list.
    pub fn snapshot_versions_of(&self, stream: &str) -> Result<Vec<i64>> {
        let Some(m) = &self.mapping.snapshots else {
            return Ok(Vec::new());
        };
        let sql = format!(
            "SELECT {v} FROM {t} WHERE {s} = ?1 ORDER BY 1",
            v = m.version,
            t = m.table,
            s = m.stream
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([stream], |r| r.get::<_, Option<i64>>(0))?;
        let mut out = Vec::new();
        for v in rows {
            out.extend(v?);
        }
        Ok(out)
    }

    /// `tail` filters and orders over the columns named `s` (stream) and `v` (version).
    fn query_snapshots(
        &self,
        tail: &str,
        params: Option<(&str, Option<i64>)>,
    ) -> Result<Vec<Snapshot>> {
        let Some(m) = &self.mapping.snapshots else {
            return Ok(Vec::new());
        };
        let sql = format!(
            "SELECT * FROM (SELECT {s} AS s, {v} AS v, {d} AS d, {c} AS c FROM {t}) {tail}",
            s = m.stream,
            v = m.version,
            d = m.data,
            c = m.created_at.as_deref().unwrap_or("NULL"),
            t = m.table,
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = match params {
            None => stmt.query([])?,
            Some((stream, None)) => stmt.query([stream])?,
            Some((stream, Some(v))) => stmt.query(rusqlite::params![stream, v])?,
        };
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let stream_id = text(row, 0)?.unwrap_or_default();
            let created_at = text(row, 3)?;
            let Some(version) = row.get::<_, Option<i64>>(1).ok().flatten() else {
                out.push(unreadable(
                    stream_id,
                    0,
                    created_at,
                    "its version is not an integer".into(),
                ));
                continue;
            };
            let payload = match row.get_ref(2)? {
                ValueRef::Text(b) | ValueRef::Blob(b) => b.to_vec(),
                _ => Vec::new(),
            };
            out.push(snapshot_from(
                stream_id, version, created_at, &payload, m.decoder,
            ));
        }
        Ok(out)
    }
}

fn unreadable(
    stream_id: String,
    version: i64,
    created_at: Option<String>,
    why: String,
) -> Snapshot {
    Snapshot {
        stream_id,
        version,
        data: Value::Null,
        created_at,
        topic: None,
        unreadable: Some(why),
    }
}

/// A snapshot's content and the aggregate type it names.
fn decode_snapshot(payload: &[u8], decoder: Decoder) -> Result<(Value, Option<String>), String> {
    let value = decode_payload(payload, decoder).map_err(|(why, _)| why)?;
    if decoder != Decoder::Eventsourcing {
        return Ok((value, None));
    }
    // eventsourcing stores the Snapshot event's fields: timestamp, topic, state.
    match value {
        Value::Object(mut o) if o.contains_key("state") && o.contains_key("topic") => {
            let topic = o
                .remove("topic")
                .and_then(|t| t.as_str().map(str::to_string));
            Ok((o.remove("state").unwrap_or_default(), topic))
        }
        other => Ok((other, None)),
    }
}

/// A snapshot row read by another backend, decoded as this module decodes its own.
pub(super) fn snapshot_from(
    stream_id: String,
    version: i64,
    created_at: Option<String>,
    payload: &[u8],
    decoder: Decoder,
) -> Snapshot {
    match decode_snapshot(payload, decoder) {
        Ok((data, topic)) => Snapshot {
            stream_id,
            version,
            data,
            created_at,
            topic,
            unreadable: None,
        },
        Err(why) => unreadable(stream_id, version, created_at, why),
    }
}

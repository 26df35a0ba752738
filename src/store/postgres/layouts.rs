//! Each library's PostgreSQL tables as SQL over the envelope, found by their column sets
//! (table names alone mean different things: `events`, `messages`), in every schema the
//! role can see or only the one `--schema` names.

use std::collections::BTreeMap;

use postgres::Client;

use crate::store::layout::{Decoder, Layout};
use crate::store::map_spec::MapPairs;
pub use crate::store::sql_layout::{Snapshots, SqlLayout, StreamsTable, Watermark};
use crate::store::StoreError;
use crate::time::EpochUnit;

/// A table's columns, with their types and defaults.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub schema: String,
    pub name: String,
    /// Column name → (data type, default expression).
    pub columns: BTreeMap<String, (String, Option<String>)>,
}

impl Table {
    fn has(&self, cols: &[&str]) -> bool {
        cols.iter().all(|c| self.columns.contains_key(*c))
    }

    fn is_bytes(&self, col: &str) -> bool {
        self.columns.get(col).is_some_and(|(t, _)| t == "bytea")
    }

    pub fn qualified(&self) -> String {
        format!("{}.{}", q(&self.schema), q(&self.name))
    }
}

pub fn q(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// A payload column: bytea as stored, anything else (json, jsonb, text) as text.
fn payload(alias: &str, table: &Table, col: &str) -> String {
    if table.is_bytes(col) {
        format!("{alias}.{}", q(col))
    } else {
        format!("{alias}.{}::text", q(col))
    }
}

fn text_or_bytes(alias: &str, table: &Table, col: &str) -> String {
    if table.is_bytes(col) {
        format!("convert_from({alias}.{}, 'UTF8')", q(col))
    } else {
        format!("{alias}.{}::text", q(col))
    }
}

/// A timestamp (with or without zone; without means UTC) as RFC 3339 with microseconds.
fn time(alias: &str, table: &Table, col: &str) -> String {
    let expr = match table.columns.get(col).map(|(t, _)| t.as_str()) {
        Some("timestamp without time zone") => format!("{alias}.{}", q(col)),
        _ => format!("({alias}.{} AT TIME ZONE 'UTC')", q(col)),
    };
    format!("to_char({expr}, 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
}

/// What `detect` needs besides the tables.
#[derive(Debug, Clone, Default)]
pub struct Choices {
    pub format: Option<String>,
    /// Show archived events (Marten, Emmett).
    pub archived: bool,
}

/// The PostgreSQL layouts, for `formats`.
pub const PG_FORMATS: &[(&str, &str, &str)] = &[
    ("message-db", "Message DB", "message_store.messages: stream_name, position (0-based) + 1 → version, global_position, type, data, metadata, id, time"),
    ("marten", "Marten", "mt_events + mt_streams: seq_id → position, (tenant_id, stream_id), version, type, data (bdata when set), headers + correlation_id/causation_id → metadata, mt_streams.type → category; archived hidden unless --archived"),
    ("emmett", "Emmett (emmett-postgresql)", "emt_messages + emt_streams: events only (message_kind 'E'), not archived, default partition; follow by (transaction_id, global_position)"),
    ("eventsourcing", "Python eventsourcing", "<app>_events / stored_events: notification_id (eventsourcing-sqlalchemy: id) → position, originator_id, originator_version, topic, state (zlib, tagged values); <app>_snapshots"),
    ("cqrs-es", "cqrs-es with postgres-es", "events: <aggregate_type>-<aggregate_id>, sequence, event_type, payload, metadata; snapshots; no times, no global order (position = rank by stream)"),
    ("go-mink", "go-mink", "mink.events + mink.streams + mink.snapshots: global_position, stream_id, version, event_id, event_type, data, metadata, timestamp"),
    ("commanded", "Commanded EventStore", "streams + events + stream_events: $all (stream_id 0) → position, stream_uuid, stream_version, data/metadata (JSON bytea or jsonb; Erlang terms marked undecodable)"),
    ("eventuous", "Eventuous", "eventuous.messages + eventuous.streams: global_position, stream_name, stream_position (0-based) + 1 → version, json_data, json_metadata, created; tombstones hidden"),
    ("axon", "Axon Framework (JPA/JDBC)", "domain_event_entry (or Axon 5's aggregate_event_entry): global_index → position, aggregate_identifier → stream, sequence_number (0-based) + 1 → version, payload_type → type, payload_revision → schema version, type → category, time_stamp (ISO-8601 text), payload and meta_data as OID large objects (lo_get) or bytea, XStream XML or Jackson JSON; snapshot_event_entry"),
    ("akka", "Akka / Pekko Persistence JDBC", "event_journal: persistence_id → stream (category before '|'), sequence_number → version, ordering → position, event_ser_manifest → type, write_timestamp (ms) → time, event_payload (Jackson JSON and CBOR read; other serializers marked undecodable, the serializer id and manifest in metadata; event_tag's tags), deleted rows hidden unless --archived; snapshot"),
    ("akka-r2dbc", "Akka / Pekko Persistence R2DBC", "event_journal (slice, entity_type, persistence_id, seq_nr, db_timestamp): no global order column, so position = rank by db_timestamp; entity_type → category; tags and serializer in metadata; JSON, CBOR or the jsonb variant's payloads; no --follow"),
    ("rails-event-store", "Rails Event Store", "event_store_events + event_store_events_in_streams: as on SQLite (links in each stream and once in $all, NULL positions by the join id, JSON/JSONB or RES's YAML)"),
];

/// Every table (with columns) the role can see, in `schema` or in all non-system schemas;
/// a partitioned table once, as its parent (its partitions hold the same layout's rows).
pub fn tables(client: &mut Client, schema: Option<&str>) -> Result<Vec<Table>, StoreError> {
    let rows = client
        .query(
            "SELECT c.table_schema::text, c.table_name::text, c.column_name::text, c.data_type::text, c.column_default::text
             FROM information_schema.columns c
             WHERE c.table_schema NOT IN ('pg_catalog', 'information_schema')
               AND ($1::text IS NULL OR c.table_schema = $1)
               AND NOT EXISTS (SELECT 1 FROM pg_class k JOIN pg_namespace n ON n.oid = k.relnamespace
                               WHERE n.nspname = c.table_schema AND k.relname = c.table_name AND k.relispartition)
             ORDER BY 1, 2, c.ordinal_position",
            &[&schema],
        )
        .map_err(super::db_error)?;
    let mut out: Vec<Table> = Vec::new();
    for row in rows {
        let (s, t): (String, String) = (row.get(0), row.get(1));
        if out
            .last()
            .is_none_or(|last| last.schema != s || last.name != t)
        {
            out.push(Table {
                schema: s,
                name: t,
                columns: BTreeMap::new(),
            });
        }
        if let Some(last) = out.last_mut() {
            last.columns.insert(row.get(2), (row.get(3), row.get(4)));
        }
    }
    Ok(out)
}

fn sibling<'t>(tables: &'t [Table], of: &Table, name: &str, cols: &[&str]) -> Option<&'t Table> {
    tables
        .iter()
        .find(|t| t.schema == of.schema && t.name == name && t.has(cols))
}

/// The layouts found, best first.
pub fn detect(tables: &[Table], choices: &Choices) -> Vec<SqlLayout> {
    let mut found = Vec::new();
    for t in tables {
        found.extend(commanded(tables, t));
        found.extend(marten(tables, t, choices));
        found.extend(emmett(tables, t, choices));
        found.extend(eventuous(tables, t));
        found.extend(message_db(t));
        found.extend(go_mink(tables, t));
        found.extend(eventsourcing(tables, t));
        found.extend(cqrs_es(tables, t));
        found.extend(rails_event_store(tables, t));
        found.extend(akka(tables, t, choices));
        found.extend(akka_r2dbc(t, choices));
        found.extend(axon(tables, t));
    }
    if let Some(f) = &choices.format {
        found.retain(|l| l.name == f);
    }
    found
}

fn base(layout: Layout, name: &'static str, t: &Table) -> SqlLayout {
    SqlLayout {
        layout,
        name,
        table: format!("{}.{}", t.schema, t.name),
        relation: t.qualified(),
        from: format!("{} e", t.qualified()),
        position: String::new(),
        stream: String::new(),
        stream_key: None,
        version: String::new(),
        version_offset: 0,
        event_id: "NULL".into(),
        event_type: String::new(),
        data: String::new(),
        metadata: "NULL".into(),
        time: None,
        time_unit: None,
        schema_version: "NULL".into(),
        category: None,
        filter: "TRUE".into(),
        decoder: Decoder::Json,
        streams: None,
        snapshots: None,
        watermark: Watermark::Gaps,
        notify_channel: None,
        log_filter: None,
        link_of: None,
    }
}

fn message_db(t: &Table) -> Option<SqlLayout> {
    if t.name != "messages"
        || !t.has(&[
            "global_position",
            "position",
            "stream_name",
            "type",
            "data",
            "metadata",
            "time",
            "id",
        ])
    {
        return None;
    }
    Some(SqlLayout {
        position: "e.global_position".into(),
        stream: "e.stream_name".into(),
        version: "e.position".into(),
        version_offset: 1,
        event_id: "e.id::text".into(),
        event_type: "e.type".into(),
        data: payload("e", t, "data"),
        metadata: text_or_bytes("e", t, "metadata"),
        time: Some(time("e", t, "time")),
        ..base(Layout::MessageDb, "message-db", t)
    })
}

fn marten(tables: &[Table], t: &Table, choices: &Choices) -> Option<SqlLayout> {
    if t.name != "mt_events" || !t.has(&["seq_id", "id", "stream_id", "version", "data", "type"]) {
        return None;
    }
    let streams = sibling(tables, t, "mt_streams", &["id", "type", "version"])?;
    let tenancy = t.has(&["tenant_id"]) && streams.has(&["tenant_id"]);
    let key = |a: &str| {
        if tenancy {
            format!("CASE WHEN {a}.tenant_id = '*DEFAULT*' THEN {a}.id::text ELSE {a}.tenant_id || '/' || {a}.id::text END")
        } else {
            format!("{a}.id::text")
        }
    };
    let event_key = if tenancy {
        "CASE WHEN e.tenant_id = '*DEFAULT*' THEN e.stream_id::text ELSE e.tenant_id || '/' || e.stream_id::text END".to_string()
    } else {
        "e.stream_id::text".to_string()
    };
    let join = if tenancy {
        "s.id = e.stream_id AND s.tenant_id = e.tenant_id"
    } else {
        "s.id = e.stream_id"
    };
    let data = if t.has(&["bdata"]) {
        match (t.is_bytes("bdata"), t.is_bytes("data")) {
            (true, false) => "COALESCE(e.bdata, convert_to(e.data::text, 'UTF8'))".to_string(),
            (false, true) => "COALESCE(convert_to(e.bdata::text, 'UTF8'), e.data)".to_string(),
            _ => format!(
                "COALESCE({}, {})",
                payload("e", t, "bdata"),
                payload("e", t, "data")
            ),
        }
    } else {
        payload("e", t, "data")
    };
    let mut meta = Vec::new();
    for col in ["correlation_id", "causation_id", "user_name"] {
        if t.has(&[col]) {
            meta.push(format!("'{col}', e.{col}"));
        }
    }
    let headers = if t.has(&["headers"]) {
        "COALESCE(e.headers::jsonb, '{}'::jsonb)".to_string()
    } else {
        "'{}'::jsonb".to_string()
    };
    let metadata = if meta.is_empty() {
        format!("{headers}::text")
    } else {
        format!(
            "({headers} || jsonb_strip_nulls(jsonb_build_object({})))::text",
            meta.join(", ")
        )
    };
    let archived = t.has(&["is_archived"]) && !choices.archived;
    Some(SqlLayout {
        from: format!(
            "{} e JOIN {} s ON {join}",
            t.qualified(),
            streams.qualified()
        ),
        position: "e.seq_id".into(),
        stream: event_key,
        version: "e.version".into(),
        event_id: "e.id::text".into(),
        event_type: "e.type".into(),
        data,
        metadata,
        time: t.has(&["timestamp"]).then(|| time("e", t, "timestamp")),
        category: Some("s.type".into()),
        filter: if archived {
            "NOT e.is_archived".into()
        } else {
            "TRUE".into()
        },
        streams: Some(StreamsTable {
            from: format!("{} s", streams.qualified()),
            id: key("s"),
            version: "s.version".into(),
            category: "s.type".into(),
            filter: if archived && streams.has(&["is_archived"]) {
                "NOT s.is_archived".into()
            } else {
                "TRUE".into()
            },
        }),
        ..base(Layout::Marten, "marten", t)
    })
}

fn emmett(tables: &[Table], t: &Table, choices: &Choices) -> Option<SqlLayout> {
    let cols = [
        "stream_id",
        "stream_position",
        "message_kind",
        "message_data",
        "message_type",
        "global_position",
        "transaction_id",
    ];
    if t.name != "emt_messages" || !t.has(&cols) {
        return None;
    }
    // The default partition is what the column defaults to.
    let partition = t
        .columns
        .get("partition")
        .and_then(|(_, d)| d.clone())
        .map(|d| format!(" AND e.partition = {d}"))
        .unwrap_or_default();
    let archived = if choices.archived || !t.has(&["is_archived"]) {
        ""
    } else {
        " AND NOT e.is_archived"
    };
    let streams = sibling(tables, t, "emt_streams", &["stream_id", "stream_position"]);
    Some(SqlLayout {
        position: "e.global_position".into(),
        stream: "e.stream_id".into(),
        version: "e.stream_position".into(),
        event_id: "e.message_id::text".into(),
        event_type: "e.message_type".into(),
        data: payload("e", t, "message_data"),
        metadata: if t.has(&["message_metadata"]) {
            text_or_bytes("e", t, "message_metadata")
        } else {
            "NULL".into()
        },
        time: t.has(&["created"]).then(|| time("e", t, "created")),
        schema_version: if t.has(&["message_schema_version"]) {
            "e.message_schema_version::text".into()
        } else {
            "NULL".into()
        },
        filter: format!("e.message_kind = 'E'{archived}{partition}"),
        streams: streams.map(|s| {
            let stream_partition = s
                .columns
                .get("partition")
                .and_then(|(_, d)| d.clone())
                .map(|d| format!(" AND s.partition = {d}"))
                .unwrap_or_default();
            let stream_archived = if choices.archived || !s.has(&["is_archived"]) {
                ""
            } else {
                " AND NOT s.is_archived"
            };
            StreamsTable {
                from: format!("{} s", s.qualified()),
                id: "s.stream_id".into(),
                version: "s.stream_position".into(),
                category: "NULL".into(),
                filter: format!("TRUE{stream_archived}{stream_partition}"),
            }
        }),
        watermark: Watermark::TransactionId,
        ..base(Layout::Emmett, "emmett", t)
    })
}

fn eventsourcing(tables: &[Table], t: &Table) -> Option<SqlLayout> {
    let cols = ["originator_id", "originator_version", "topic", "state"];
    // The library's own module numbers notifications; eventsourcing-sqlalchemy's `id`.
    let position = match (t.has(&["notification_id"]), t.has(&["id"])) {
        (true, _) => "e.notification_id",
        (false, true) => "e.id",
        (false, false) => return None,
    };
    if !t.has(&cols) {
        return None;
    }
    let snap_name = match t.name.strip_suffix("_events") {
        Some(prefix) => format!("{prefix}_snapshots"),
        None => "snapshots".into(),
    };
    let snaps = sibling(
        tables,
        t,
        &snap_name,
        &["originator_id", "originator_version", "topic", "state"],
    )
    .or_else(|| {
        sibling(
            tables,
            t,
            "stored_snapshots",
            &["originator_id", "originator_version", "topic", "state"],
        )
    });
    Some(SqlLayout {
        position: position.into(),
        stream: "e.originator_id::text".into(),
        version: "e.originator_version".into(),
        event_type: "e.topic".into(),
        data: payload("e", t, "state"),
        // The aggregate's class, from the topic.
        category: Some("e.topic".into()),
        decoder: Decoder::Eventsourcing,
        snapshots: snaps.map(|s| Snapshots {
            from: s.qualified(),
            stream: "originator_id::text".into(),
            version: "originator_version".into(),
            data: payload(&s.qualified(), s, "state"),
            created_at: "NULL".into(),
            decoder: Decoder::Eventsourcing,
        }),
        ..base(Layout::Eventsourcing, "eventsourcing", t)
    })
}

/// A column of bytes as the reader gets them: an OID large object through `lo_get`.
fn bytes_of(alias: &str, table: &Table, col: &str) -> String {
    match table.columns.get(col).map(|(t, _)| t.as_str()) {
        Some("oid") => format!("lo_get({alias}.{})", q(col)),
        _ => payload(alias, table, col),
    }
}

/// Axon Framework's JPA/JDBC event store: `domain_event_entry` (Axon 5:
/// `aggregate_event_entry`) and `snapshot_event_entry`.
fn axon(tables: &[Table], t: &Table) -> Option<SqlLayout> {
    let cols = [
        "global_index",
        "aggregate_identifier",
        "sequence_number",
        "payload_type",
        "payload",
        "time_stamp",
    ];
    if !matches!(
        t.name.as_str(),
        "domain_event_entry" | "aggregate_event_entry"
    ) || !t.has(&cols)
    {
        return None;
    }
    let snaps = sibling(
        tables,
        t,
        "snapshot_event_entry",
        &["aggregate_identifier", "sequence_number", "payload"],
    );
    let meta = |alias: &str, table: &Table| {
        if table.has(&["meta_data"]) {
            format!(
                "convert_from({}, 'UTF8')",
                bytes_of(alias, table, "meta_data")
            )
        } else {
            "NULL".into()
        }
    };
    Some(SqlLayout {
        position: "e.global_index".into(),
        stream: "e.aggregate_identifier".into(),
        version: "e.sequence_number".into(),
        version_offset: 1,
        event_id: if t.has(&["event_identifier"]) {
            "e.event_identifier".into()
        } else {
            "NULL".into()
        },
        event_type: "e.payload_type".into(),
        data: bytes_of("e", t, "payload"),
        metadata: meta("e", t),
        time: Some("e.time_stamp".into()),
        time_unit: Some(EpochUnit::Auto),
        schema_version: if t.has(&["payload_revision"]) {
            "e.payload_revision".into()
        } else {
            "NULL".into()
        },
        category: t.has(&["type"]).then(|| "e.type".into()),
        decoder: Decoder::XmlOrJson,
        snapshots: snaps.map(|s| Snapshots {
            from: s.qualified(),
            stream: "aggregate_identifier".into(),
            // 0-based, made 1-based with the events' offset.
            version: "sequence_number".into(),
            data: bytes_of(&s.qualified(), s, "payload"),
            created_at: "NULL".into(),
            decoder: Decoder::XmlOrJson,
        }),
        ..base(Layout::Axon, "axon", t)
    })
}

/// Akka's `event_tag` beside the journal, and how a tag row names its event.
fn akka_tags(tables: &[Table], journal: &Table) -> Option<(String, &'static str)> {
    let t = sibling(tables, journal, "event_tag", &["tag"])?;
    let on = crate::store::sql_layout::akka_tag_join(|cols| t.has(cols))?;
    Some((t.qualified(), on))
}

/// Akka / Pekko Persistence JDBC: `event_journal` (and `snapshot`). Payloads are whatever
/// the serializer wrote: Jackson JSON reads as JSON, anything else is marked undecodable,
/// with the serializer's id and manifest kept in the metadata to say which it was.
fn akka(tables: &[Table], t: &Table, choices: &Choices) -> Option<SqlLayout> {
    let cols = [
        "ordering",
        "persistence_id",
        "sequence_number",
        "deleted",
        "event_ser_id",
        "event_ser_manifest",
        "event_payload",
    ];
    if t.name != "event_journal" || !t.has(&cols) {
        return None;
    }
    let millis = |col: &str| {
        format!(
            "to_char(to_timestamp({col} / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
        )
    };
    let snaps = sibling(
        tables,
        t,
        "snapshot",
        &["persistence_id", "sequence_number", "snapshot_payload"],
    );
    Some(SqlLayout {
        position: "e.ordering".into(),
        stream: "e.persistence_id".into(),
        version: "e.sequence_number".into(),
        event_type: "e.event_ser_manifest".into(),
        // Akka's StringSerializer (id 20) writes the text itself: a JSON string.
        data: "CASE WHEN e.event_ser_id = 20 THEN convert_to(to_json(convert_from(e.event_payload, 'UTF8'))::text, 'UTF8') ELSE e.event_payload END".into(),
        metadata: format!(
            "json_build_object('serializer_id', e.event_ser_id, 'manifest', e.event_ser_manifest{}{})::text",
            if t.has(&["writer"]) { ", 'writer', e.writer" } else { "" },
            akka_tags(tables, t).map_or(String::new(), |(tags, on)| format!(
                ", 'tags', COALESCE((SELECT json_agg(g.tag ORDER BY g.tag) FROM {tags} g WHERE {on}), '[]'::json)"
            )),
        ),
        time: t.has(&["write_timestamp"]).then(|| millis("e.write_timestamp")),
        decoder: Decoder::JsonOrCbor,
        category: Some(
            "CASE WHEN strpos(e.persistence_id, '|') > 0 THEN split_part(e.persistence_id, '|', 1) \
             ELSE split_part(e.persistence_id, '-', 1) END"
                .into(),
        ),
        filter: if choices.archived {
            "TRUE".into()
        } else {
            "NOT e.deleted".into()
        },
        snapshots: snaps.map(|s| Snapshots {
            from: s.qualified(),
            stream: "persistence_id".into(),
            version: "sequence_number".into(),
            data: "snapshot_payload".into(),
            created_at: if s.has(&["created"]) {
                millis("created")
            } else {
                "NULL".into()
            },
            decoder: Decoder::Json,
        }),
        ..base(Layout::Akka, "akka", t)
    })
}

/// Akka / Pekko Persistence R2DBC's `event_journal`: no global order column, so a
/// position is the rank by `db_timestamp` (then id and sequence number), as the library's
/// own queries by slice read it; `entity_type` is the category, `tags` (a text array) and
/// the serializer go to the metadata; the jsonb variant's payloads read as JSON. With no
/// position a writer appends after, `--follow` is refused.
fn akka_r2dbc(t: &Table, choices: &Choices) -> Option<SqlLayout> {
    let cols = [
        "slice",
        "entity_type",
        "persistence_id",
        "seq_nr",
        "db_timestamp",
        "event_ser_id",
        "event_ser_manifest",
        "event_payload",
    ];
    if t.name != "event_journal" || !t.has(&cols) {
        return None;
    }
    let deleted = if t.has(&["deleted"]) && !choices.archived {
        "NOT e.deleted"
    } else {
        "TRUE"
    };
    Some(SqlLayout {
        from: format!(
            "(SELECT x.*, row_number() OVER (ORDER BY x.db_timestamp, x.persistence_id, x.seq_nr) AS eventscope_rank FROM {} x) e",
            t.qualified()
        ),
        position: "e.eventscope_rank".into(),
        stream: "e.persistence_id".into(),
        version: "e.seq_nr".into(),
        event_type: "e.event_ser_manifest".into(),
        data: if t.is_bytes("event_payload") {
            "CASE WHEN e.event_ser_id = 20 THEN convert_to(to_json(convert_from(e.event_payload, 'UTF8'))::text, 'UTF8') ELSE e.event_payload END".into()
        } else {
            payload("e", t, "event_payload")
        },
        metadata: format!(
            "json_build_object('serializer_id', e.event_ser_id, 'manifest', e.event_ser_manifest, 'slice', e.slice{}{})::text",
            if t.has(&["writer"]) { ", 'writer', e.writer" } else { "" },
            if t.has(&["tags"]) { ", 'tags', COALESCE(to_json(e.tags), '[]'::json)" } else { "" },
        ),
        time: Some(time("e", t, "db_timestamp")),
        decoder: Decoder::JsonOrCbor,
        category: Some("e.entity_type".into()),
        filter: deleted.into(),
        watermark: Watermark::None,
        ..base(Layout::Akka, "akka-r2dbc", t)
    })
}

/// Rails Event Store: `event_store_events` through `event_store_events_in_streams`, as on
/// SQLite (`store::layout`): a row per (event, stream), a linked event once in the log,
/// NULL positions by the join table's id, events in no stream under `all`.
fn rails_event_store(tables: &[Table], t: &Table) -> Option<SqlLayout> {
    if t.name != "event_store_events" || !t.has(&["id", "event_id", "event_type", "data"]) {
        return None;
    }
    let joins = sibling(
        tables,
        t,
        "event_store_events_in_streams",
        &["id", "stream", "position", "event_id"],
    )?;
    let j = joins.qualified();
    let category = "CASE WHEN s.stream IS NULL OR left(s.stream, 1) = '$' THEN '$system' \
         WHEN strpos(s.stream, '$') > 0 THEN split_part(s.stream, '$', 1) \
         WHEN strpos(s.stream, '-') > 0 THEN split_part(s.stream, '-', 1) ELSE s.stream END";
    let from = format!(
        "(SELECT e.id AS res_position, COALESCE(s.stream, 'all') AS res_stream, \
         CASE WHEN s.id IS NULL THEN e.id WHEN s.position IS NOT NULL THEN s.position + 1 \
         ELSE (SELECT count(*) FROM {j} o WHERE o.stream = s.stream AND o.id <= s.id) END AS res_version, \
         e.event_id::text AS res_event_id, e.event_type AS res_type, e.data, e.metadata, e.created_at, \
         ({category}) AS res_category, \
         (s.id IS NULL OR s.id = (SELECT min(f.id) FROM {j} f WHERE f.event_id = e.event_id)) AS res_first, \
         (SELECT f.stream FROM {j} f WHERE f.event_id = e.event_id AND f.id < s.id ORDER BY f.id LIMIT 1) AS res_link_of \
         FROM {} e LEFT JOIN {j} s ON s.event_id = e.event_id) e",
        t.qualified()
    );
    Some(SqlLayout {
        from,
        position: "e.res_position".into(),
        stream: "e.res_stream".into(),
        version: "e.res_version".into(),
        event_id: "e.res_event_id".into(),
        event_type: "e.res_type".into(),
        data: payload("e", t, "data"),
        metadata: text_or_bytes("e", t, "metadata"),
        time: Some(time("e", t, "created_at")),
        category: Some("e.res_category".into()),
        decoder: Decoder::JsonOrRubyYaml,
        log_filter: Some("e.res_first".into()),
        link_of: Some("e.res_link_of".into()),
        ..base(Layout::RailsEventStore, "rails-event-store", t)
    })
}

fn cqrs_es(tables: &[Table], t: &Table) -> Option<SqlLayout> {
    let cols = [
        "aggregate_type",
        "aggregate_id",
        "sequence",
        "event_type",
        "payload",
    ];
    if !t.has(&cols) {
        return None;
    }
    let snaps = sibling(
        tables,
        t,
        "snapshots",
        &["aggregate_type", "aggregate_id", "last_sequence", "payload"],
    );
    Some(SqlLayout {
        // No global order: a rank by stream and sequence stands in for one.
        from: format!(
            "(SELECT x.*, row_number() OVER (ORDER BY x.aggregate_type, x.aggregate_id, x.sequence) AS eventscope_rank FROM {} x) e",
            t.qualified()
        ),
        position: "e.eventscope_rank".into(),
        stream: "(e.aggregate_type || '-' || e.aggregate_id)".into(),
        version: "e.sequence".into(),
        event_type: "e.event_type".into(),
        data: payload("e", t, "payload"),
        metadata: if t.has(&["metadata"]) {
            text_or_bytes("e", t, "metadata")
        } else {
            "NULL".into()
        },
        schema_version: if t.has(&["event_version"]) {
            "e.event_version::text".into()
        } else {
            "NULL".into()
        },
        category: Some("e.aggregate_type".into()),
        decoder: Decoder::TaggedEnum,
        snapshots: snaps.map(|s| Snapshots {
            from: s.qualified(),
            stream: "(aggregate_type || '-' || aggregate_id)".into(),
            version: "last_sequence".into(),
            data: payload(&s.qualified(), s, "payload"),
            created_at: "NULL".into(),
            decoder: Decoder::Json,
        }),
        watermark: Watermark::None,
        ..base(Layout::CqrsEs, "cqrs-es", t)
    })
}

fn go_mink(tables: &[Table], t: &Table) -> Option<SqlLayout> {
    let cols = [
        "global_position",
        "stream_id",
        "version",
        "event_id",
        "event_type",
        "data",
        "metadata",
        "timestamp",
    ];
    if t.name != "events" || !t.has(&cols) {
        return None;
    }
    let streams = sibling(tables, t, "streams", &["stream_id", "category", "version"])?;
    let snaps = sibling(tables, t, "snapshots", &["stream_id", "version", "data"]);
    Some(SqlLayout {
        position: "e.global_position".into(),
        stream: "e.stream_id".into(),
        version: "e.version".into(),
        event_id: "e.event_id::text".into(),
        event_type: "e.event_type".into(),
        data: payload("e", t, "data"),
        metadata: text_or_bytes("e", t, "metadata"),
        time: Some(time("e", t, "timestamp")),
        streams: Some(StreamsTable {
            from: format!("{} s", streams.qualified()),
            id: "s.stream_id".into(),
            version: "s.version".into(),
            category: "s.category".into(),
            filter: "TRUE".into(),
        }),
        snapshots: snaps.map(|s| Snapshots {
            from: s.qualified(),
            stream: "stream_id".into(),
            version: "version".into(),
            data: payload(&s.qualified(), s, "data"),
            created_at: if s.has(&["created_at"]) {
                time(&s.qualified(), s, "created_at")
            } else {
                "NULL".into()
            },
            decoder: Decoder::Json,
        }),
        ..base(Layout::GoMink, "go-mink", t)
    })
}

fn commanded(tables: &[Table], t: &Table) -> Option<SqlLayout> {
    if t.name != "stream_events"
        || !t.has(&[
            "event_id",
            "stream_id",
            "stream_version",
            "original_stream_id",
        ])
    {
        return None;
    }
    let events = sibling(
        tables,
        t,
        "events",
        &["event_id", "event_type", "data", "metadata", "created_at"],
    )?;
    let streams = sibling(
        tables,
        t,
        "streams",
        &["stream_id", "stream_uuid", "stream_version"],
    )?;
    let data = payload("ev", events, "data");
    Some(SqlLayout {
        from: format!(
            "{se} se JOIN {se} e ON e.event_id = se.event_id AND e.stream_id = 0 JOIN {ev} ev ON ev.event_id = se.event_id JOIN {st} s ON s.stream_id = se.stream_id",
            se = t.qualified(),
            ev = events.qualified(),
            st = streams.qualified()
        ),
        // The $all stream's version is the global position.
        position: "e.stream_version".into(),
        stream: "s.stream_uuid".into(),
        version: "se.stream_version".into(),
        event_id: "ev.event_id::text".into(),
        event_type: "ev.event_type".into(),
        data,
        metadata: format!(
            "(COALESCE(({m})::jsonb, '{{}}'::jsonb) || jsonb_strip_nulls(jsonb_build_object('correlation_id', ev.correlation_id::text, 'causation_id', ev.causation_id::text)))::text",
            m = text_or_bytes("ev", events, "metadata")
        ),
        time: Some(time("ev", events, "created_at")),
        filter: "se.stream_id <> 0 AND se.stream_id = se.original_stream_id".into(),
        streams: Some(StreamsTable {
            from: format!("{} s", streams.qualified()),
            id: "s.stream_uuid".into(),
            version: "s.stream_version".into(),
            category: "NULL".into(),
            filter: if streams.has(&["deleted_at"]) {
                "s.stream_id <> 0 AND s.deleted_at IS NULL".into()
            } else {
                "s.stream_id <> 0".into()
            },
        }),
        // EventStore's `notify_events` trigger on `streams` (`<schema>.events`).
        notify_channel: Some(format!("{}.events", t.schema)),
        ..base(Layout::Commanded, "commanded", t)
    })
}

fn eventuous(tables: &[Table], t: &Table) -> Option<SqlLayout> {
    let cols = [
        "message_id",
        "message_type",
        "stream_id",
        "stream_position",
        "global_position",
        "json_data",
    ];
    if t.name != "messages" || !t.has(&cols) {
        return None;
    }
    let streams = sibling(
        tables,
        t,
        "streams",
        &["stream_id", "stream_name", "version"],
    )?;
    Some(SqlLayout {
        from: format!(
            "{} e JOIN {} s ON s.stream_id = e.stream_id",
            t.qualified(),
            streams.qualified()
        ),
        position: "e.global_position".into(),
        stream: "s.stream_name".into(),
        version: "e.stream_position".into(),
        version_offset: 1,
        event_id: "e.message_id::text".into(),
        event_type: "e.message_type".into(),
        data: payload("e", t, "json_data"),
        metadata: if t.has(&["json_metadata"]) {
            text_or_bytes("e", t, "json_metadata")
        } else {
            "NULL".into()
        },
        time: t.has(&["created"]).then(|| time("e", t, "created")),
        filter: "e.message_type <> '$tombstone'".into(),
        streams: Some(StreamsTable {
            from: format!("{} s", streams.qualified()),
            id: "s.stream_name".into(),
            version: "s.version".into(),
            category: "NULL".into(),
            filter: "s.version >= 0".into(),
        }),
        ..base(Layout::Eventuous, "eventuous", t)
    })
}

/// `--map` on PostgreSQL: a table no library wrote, read through the columns the spec
/// names (`table=NAME` or `table=SCHEMA.NAME`), each checked against the table and quoted.
pub fn mapped(tables: &[Table], spec: &MapPairs) -> Result<SqlLayout, StoreError> {
    let bad = |m: String| StoreError::BadMap(m);
    let wanted = &spec.pairs["table"];
    let (schema, name) = match wanted.split_once('.') {
        Some((s, n)) => (Some(s), n),
        None => (None, wanted.as_str()),
    };
    let found: Vec<&Table> = tables
        .iter()
        .filter(|t| t.name == name && schema.is_none_or(|s| t.schema == s))
        .collect();
    let t = match found.as_slice() {
        [] => return Err(bad(format!("no table {wanted:?} the role can see"))),
        [one] => *one,
        several => {
            let names: Vec<String> = several
                .iter()
                .map(|t| format!("{}.{}", t.schema, t.name))
                .collect();
            return Err(bad(format!(
                "{wanted:?} is in several schemas ({}): write table=SCHEMA.NAME or use --schema",
                names.join(", ")
            )));
        }
    };
    let cols: Vec<String> = t.columns.keys().cloned().collect();
    let kind = |c: &str| t.columns.get(c).map(|(k, _)| k.as_str()).unwrap_or("");
    let integer = |key: &str, c: &str| -> Result<String, StoreError> {
        match kind(c) {
            "smallint" | "integer" | "bigint" | "numeric" => Ok(format!("e.{}", q(c))),
            other => Err(bad(format!(
                "{key}={c}: {} column; {key} needs an integer column",
                crate::with_article(other)
            ))),
        }
    };
    let Some(position) = spec.column("position", false, &cols)? else {
        return Err(bad(format!(
            "PostgreSQL tables have no rowid: name the column that orders {wanted} with position=COLUMN"
        )));
    };
    let need = |key: &str| -> Result<String, StoreError> {
        Ok(spec.column(key, true, &cols)?.unwrap_or_default())
    };
    let text = |c: &str| format!("e.{}::text", q(c));
    // Timestamps are formatted by the server; numbers and text as the SQLite mapping
    // reads them (epoch by magnitude or the unit named, text normalised).
    let (at, time_unit) = match spec.column("time", false, &cols)? {
        None => (None, None),
        Some(c) if kind(&c).starts_with("timestamp") => (Some(time("e", t, &c)), None),
        Some(c) => (Some(text(&c)), Some(spec.time_unit)),
    };
    Ok(SqlLayout {
        position: integer("position", &position)?,
        stream: text(&need("stream")?),
        version: integer("version", &need("version")?)?,
        event_id: spec
            .column("id", false, &cols)?
            .map_or("NULL".into(), |c| text(&c)),
        event_type: text(&need("type")?),
        data: payload("e", t, &need("data")?),
        metadata: spec
            .column("metadata", false, &cols)?
            .map_or("NULL".into(), |c| text_or_bytes("e", t, &c)),
        time: at,
        time_unit,
        ..base(Layout::Custom, "map", t)
    })
}

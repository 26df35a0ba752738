//! Layouts: how each library's tables map onto the event envelope. Every layout is a
//! [`Mapping`] of SQL expressions over one table, plus a [`Decoder`] for its payloads; the
//! read side builds its queries from the mapping, so all layouts share one code path.

use rusqlite::Connection;

use super::{Result, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Native,
    Eventsourcing,
    Emmett,
    CqrsEs,
    MessageDb,
    Custom,
    /// PostgreSQL only.
    Marten,
    GoMink,
    Commanded,
    Eventuous,
    /// Rails Event Store: events in `event_store_events`, streams in a join table.
    RailsEventStore,
    /// EventSauce: a table per aggregate type, the envelope's headers inside the payload.
    EventSauce,
    /// Akka / Pekko Persistence JDBC's `event_journal` (PostgreSQL).
    Akka,
    /// Axon Framework's `domain_event_entry` (PostgreSQL).
    Axon,
}

/// How payloads are turned into `data`, `type` and the timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoder {
    /// JSON text or bytes.
    Json,
    /// Python `eventsourcing`: JSON bytes, maybe zlib-compressed, with tagged values; the
    /// timestamp is inside; the type is the topic's last segment.
    Eventsourcing,
    /// cqrs-es: an externally tagged enum, `{"Variant": {...}}`.
    TaggedEnum,
    /// Rails Event Store: JSON, or Ruby's YAML (its default serializer), read as data.
    JsonOrRubyYaml,
    /// Axon Framework: XStream's XML (its default serializer) or Jackson's JSON, for the
    /// payload and the metadata.
    XmlOrJson,
    /// Akka's Jackson serializers: JSON, or CBOR (a map or an array) read as JSON.
    JsonOrCbor,
}

/// Where a stream's category comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CategoryRule {
    /// The stream id before its first `-`.
    Prefix,
    /// A column of the stream's rows (cqrs-es `aggregate_type`).
    Column(String),
    /// A column where it is set, else the prefix (a native store filled by `import`).
    ColumnOrPrefix(String),
    /// The aggregate class named by a topic such as `bank:BankAccount.Opened`.
    Topic(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotMapping {
    pub table: String,
    pub stream: String,
    pub version: String,
    pub data: String,
    pub created_at: Option<String>,
    /// How its payloads are read (cqrs-es snapshots are plain JSON, unlike its events).
    pub decoder: Decoder,
    /// The table's columns these expressions use: a table without them is ignored.
    pub columns: &'static [&'static str],
}

/// SQL expressions, one per envelope field, over `table`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub layout: Layout,
    pub table: String,
    pub position: String,
    pub stream: String,
    pub version: String,
    pub event_id: Option<String>,
    pub event_type: String,
    pub data: String,
    pub metadata: Option<String>,
    pub time: Option<String>,
    /// How a numeric time column counts.
    pub time_unit: crate::time::EpochUnit,
    pub schema_version: Option<String>,
    pub original_position: Option<String>,
    /// The full type name, where the layout stores one apart from `event_type`.
    pub topic: Option<String>,
    /// Why a payload could not be read, kept by an import (native stores only).
    pub undecodable: Option<String>,
    pub category: CategoryRule,
    pub decoder: Decoder,
    pub snapshots: Option<SnapshotMapping>,
    /// A condition every row must meet (Emmett: events that are not archived).
    pub filter: Option<String>,
    /// A condition rows of the whole log meet, not stream reads (Rails Event Store: an
    /// event linked into several streams is in the log once, at its first stream).
    pub log_filter: Option<String>,
    /// Where a row is a link: the stream its event was first appended to (RES).
    pub link_of: Option<String>,
    /// Where `stream` shows a 16-byte column as a UUID: that column, so that a stream is
    /// found through its index by the UUID's bytes (`Mapping::stream_is`).
    pub stream_bytes: Option<String>,
}

impl Mapping {
    /// `WHERE` with the layout's own condition and `cond`, either of which may be absent.
    pub fn where_clause(&self, cond: &str) -> String {
        match (&self.filter, cond.is_empty()) {
            (None, true) => String::new(),
            (None, false) => format!(" WHERE {cond}"),
            (Some(f), true) => format!(" WHERE {f}"),
            (Some(f), false) => format!(" WHERE {f} AND {cond}"),
        }
    }

    /// The condition that a row is of the stream in parameter `param` (`?1`): through the
    /// 16-byte column's index where the stream is shown as a UUID (the id's bytes, or the
    /// id as stored where a row's value is not 16 bytes), then exactly.
    pub fn stream_is(&self, param: &str) -> String {
        match &self.stream_bytes {
            Some(col) => format!(
                "{col} IN (unhex(replace({param}, '-', '')), {param}) AND {} = {param}",
                self.stream
            ),
            None => format!("{} = {param}", self.stream),
        }
    }

    /// [`Mapping::where_clause`] for a read of the whole log (each event once).
    pub fn log_where_clause(&self, cond: &str) -> String {
        match (&self.log_filter, cond.is_empty()) {
            (None, _) => self.where_clause(cond),
            (Some(f), true) => self.where_clause(f),
            (Some(f), false) => self.where_clause(&format!("{f} AND {cond}")),
        }
    }

    /// The SELECT list every event query uses, in the order `decode::event_from_row` reads.
    pub fn select_list(&self) -> String {
        self.select_list_of(super::Columns::ALL)
    }

    /// The select list with NULL for the columns a reader does not need.
    pub fn select_list_of(&self, wanted: super::Columns) -> String {
        let or_null = |e: &Option<String>| e.clone().unwrap_or_else(|| "NULL".into());
        let only = |want: bool, e: &Option<String>| if want { or_null(e) } else { "NULL".into() };
        [
            self.position.clone(),
            self.stream.clone(),
            self.version.clone(),
            only(wanted.event_id, &self.event_id),
            self.event_type.clone(),
            self.data.clone(),
            only(wanted.metadata, &self.metadata),
            only(wanted.timestamp, &self.time),
            or_null(&self.schema_version),
            or_null(&self.original_position),
            or_null(&self.topic),
            or_null(&self.undecodable),
            match &self.category {
                CategoryRule::Column(c) | CategoryRule::ColumnOrPrefix(c) => c.clone(),
                CategoryRule::Prefix | CategoryRule::Topic(_) => "NULL".into(),
            },
            or_null(&self.link_of),
        ]
        .join(", ")
    }
}

/// A layout's name and a line on what it maps, for `eventscope formats`.
pub struct FormatInfo {
    pub name: &'static str,
    pub layout: Layout,
    pub library: &'static str,
    pub maps: &'static str,
}

pub const FORMATS: &[FormatInfo] = &[
    FormatInfo {
        name: "native",
        layout: Layout::Native,
        library: "eventscope / go-mink (SQLite)",
        maps: "events(global_position, stream_id, version, event_id, event_type, data, metadata, timestamp); snapshots",
    },
    FormatInfo {
        name: "eventsourcing",
        layout: Layout::Eventsourcing,
        library: "Python eventsourcing (SQLite)",
        maps: "stored_events: originator_id → stream, originator_version → version, rowid → position, topic → type (short name; topic kept), state → data (zlib and tagged values decoded; timestamp from the payload; class_version → schema version); stored_snapshots. With eventsourcing-sqlalchemy: <app>_events (id → position, BINARY(16) originator_id → a UUID) and <app>_snapshots",
    },
    FormatInfo {
        name: "emmett",
        layout: Layout::Emmett,
        library: "Emmett (@event-driven-io/emmett-sqlite)",
        maps: "emt_messages: stream_id, stream_position → version, global_position, message_type, message_data, message_metadata, message_id, created → timestamp, message_schema_version",
    },
    FormatInfo {
        name: "cqrs-es",
        layout: Layout::CqrsEs,
        library: "cqrs-es with sqlite-es (Rust)",
        maps: "events: <aggregate_type>-<aggregate_id> → stream, sequence → version, rowid → position, event_type, payload's inner object → data, metadata, event_version → schema version; snapshots",
    },
    FormatInfo {
        name: "message-db",
        layout: Layout::MessageDb,
        library: "Message DB layout (SQLite)",
        maps: "messages: stream_name → stream, position + 1 → version (original kept), global_position, type, data, metadata, id, time",
    },
    FormatInfo {
        name: "rails-event-store",
        layout: Layout::RailsEventStore,
        library: "Rails Event Store (ruby_event_store-active_record, SQLite)",
        maps: "event_store_events + event_store_events_in_streams: stream, position + 1 → version (NULL positions, from expected_version :any and links, by the join table's id), id → position, event_id, event_type, data, metadata (JSON, or RES's default YAML read as data: symbols, BigDecimal exact, HashWithIndifferentAccess, TimeWithZone; other Ruby objects marked undecodable, never evaluated), created_at; an event linked into several streams is in each, and once in $all; events in no stream are in `all`; category before `$`, `$…` streams under `$system`",
    },
    FormatInfo {
        name: "eventsauce",
        layout: Layout::EventSauce,
        library: "EventSauce (PHP, Doctrine/PDO message repository, SQLite)",
        maps: "every table of event_id, aggregate_root_id (BINARY(16) → UUID), version, payload: the payload's headers give type (__event_type), time (__time_of_recording), version (where the column is NULL), id (__event_id) and category (__aggregate_root_type); its payload is data; the other headers are metadata; several aggregate tables are read together, the log by each table's row number (EventSauce keeps no order across tables)",
    },
    FormatInfo {
        name: "map",
        layout: Layout::Custom,
        library: "anything else, with --map",
        maps: "--map 'table=T,stream=C,version=C,type=C,data=C[,metadata=C][,time=C][,position=C][,id=C]' (columns of table T; position defaults to rowid)",
    },
];

pub(super) fn q(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

pub(super) fn columns(conn: &Connection, table: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare(&format!("PRAGMA table_info({})", q(table)))?;
    let names = stmt.query_map([], |r| r.get::<_, String>(1))?;
    Ok(names.collect::<rusqlite::Result<_>>()?)
}

fn has_columns(conn: &Connection, table: &str, wanted: &[&str]) -> Result<bool> {
    let cols = columns(conn, table)?;
    Ok(!cols.is_empty() && wanted.iter().all(|w| cols.iter().any(|c| c == w)))
}

fn mapping_for(layout: Layout, tables: &[String]) -> Mapping {
    let s = |x: &str| x.to_string();
    let o = |x: &str| Some(x.to_string());
    match layout {
        Layout::RailsEventStore => rails_event_store(),
        // EventSauce's tables are found by their columns (`eventsauce`), not by a name.
        Layout::Native
        | Layout::Custom
        | Layout::Marten
        | Layout::GoMink
        | Layout::Commanded
        | Layout::Eventuous
        | Layout::EventSauce
        | Layout::Akka
        | Layout::Axon => Mapping {
            layout,
            table: s("events"),
            position: s("global_position"),
            stream: s("stream_id"),
            version: s("version"),
            event_id: o("event_id"),
            event_type: s("event_type"),
            data: s("data"),
            metadata: o("metadata"),
            time: o("timestamp"),
            time_unit: Default::default(),
            schema_version: None,
            original_position: None,
            topic: None,
            undecodable: None,
            filter: None,
            log_filter: None,
            link_of: None,
            stream_bytes: None,
            category: CategoryRule::Prefix,
            decoder: Decoder::Json,
            snapshots: tables
                .iter()
                .any(|t| t == "snapshots")
                .then(|| SnapshotMapping {
                    table: s("snapshots"),
                    stream: s("stream_id"),
                    version: s("version"),
                    data: s("data"),
                    created_at: o("created_at"),
                    decoder: Decoder::Json,
                    columns: &["stream_id", "version", "data"],
                }),
        },
        Layout::Eventsourcing => Mapping {
            layout,
            table: s("stored_events"),
            position: s("rowid"),
            stream: s("originator_id"),
            version: s("originator_version"),
            event_id: None,
            event_type: s("topic"),
            data: s("state"),
            metadata: None,
            time: None,
            time_unit: Default::default(),
            schema_version: None,
            original_position: None,
            topic: None,
            undecodable: None,
            filter: None,
            log_filter: None,
            link_of: None,
            stream_bytes: None,
            category: CategoryRule::Topic(s("topic")),
            decoder: Decoder::Eventsourcing,
            snapshots: tables
                .iter()
                .any(|t| t == "stored_snapshots")
                .then(|| SnapshotMapping {
                    table: s("stored_snapshots"),
                    stream: s("originator_id"),
                    version: s("originator_version"),
                    data: s("state"),
                    created_at: None,
                    decoder: Decoder::Eventsourcing,
                    columns: &["originator_id", "originator_version", "state"],
                }),
        },
        Layout::Emmett => Mapping {
            layout,
            table: s("emt_messages"),
            position: s("global_position"),
            stream: s("stream_id"),
            version: s("stream_position"),
            event_id: o("message_id"),
            event_type: s("message_type"),
            data: s("message_data"),
            metadata: o("message_metadata"),
            time: o("created"),
            time_unit: Default::default(),
            schema_version: o("message_schema_version"),
            original_position: None,
            topic: None,
            undecodable: None,
            category: CategoryRule::Prefix,
            decoder: Decoder::Json,
            snapshots: None,
            filter: o("message_kind = 'E' AND NOT is_archived"),
            log_filter: None,
            link_of: None,
            stream_bytes: None,
        },
        Layout::CqrsEs => Mapping {
            layout,
            table: s("events"),
            position: s("rowid"),
            stream: s("aggregate_type || '-' || aggregate_id"),
            version: s("sequence"),
            event_id: None,
            event_type: s("event_type"),
            data: s("payload"),
            metadata: o("metadata"),
            time: None,
            time_unit: Default::default(),
            schema_version: o("event_version"),
            original_position: None,
            topic: None,
            undecodable: None,
            filter: None,
            log_filter: None,
            link_of: None,
            stream_bytes: None,
            category: CategoryRule::Column(s("aggregate_type")),
            decoder: Decoder::TaggedEnum,
            snapshots: tables
                .iter()
                .any(|t| t == "snapshots")
                .then(|| SnapshotMapping {
                    table: s("snapshots"),
                    stream: s("aggregate_type || '-' || aggregate_id"),
                    version: s("last_sequence"),
                    data: s("payload"),
                    created_at: None,
                    decoder: Decoder::Json,
                    columns: &["aggregate_type", "aggregate_id", "last_sequence", "payload"],
                }),
        },
        Layout::MessageDb => Mapping {
            layout,
            table: s("messages"),
            position: s("global_position"),
            stream: s("stream_name"),
            version: s("(position + 1)"),
            event_id: o("id"),
            event_type: s("type"),
            data: s("data"),
            metadata: o("metadata"),
            time: o("time"),
            time_unit: Default::default(),
            schema_version: None,
            original_position: o("position"),
            topic: None,
            undecodable: None,
            category: CategoryRule::Prefix,
            decoder: Decoder::Json,
            snapshots: None,
            filter: None,
            log_filter: None,
            link_of: None,
            stream_bytes: None,
        },
    }
}

/// Finds the layout of the database, or the one `format` names.
/// A 16-byte id column as a canonical UUID (`d8559414-04ba-48d0-…`), other values as
/// stored: `eventsourcing-sqlalchemy` keeps `originator_id` as BINARY(16).
pub(super) fn uuid_text(column: &str) -> String {
    let part = |from: usize, len: usize| format!("substr(hex({column}), {from}, {len})");
    format!(
        "(CASE WHEN typeof({column}) = 'blob' AND length({column}) = 16 THEN lower({} || '-' || {} || '-' || {} || '-' || {} || '-' || {}) ELSE {column} END)",
        part(1, 8),
        part(9, 4),
        part(13, 4),
        part(17, 4),
        part(21, 12)
    )
}

/// Python eventsourcing through `eventsourcing-sqlalchemy`: `<app>_events` (an `id`
/// position, BINARY(16) `originator_id`) and `<app>_snapshots`; the first such table.
fn sqlalchemy_eventsourcing(conn: &Connection, tables: &[String]) -> Result<Option<Mapping>> {
    for table in tables.iter().filter(|t| t.ends_with("_events")) {
        let cols = [
            "id",
            "originator_id",
            "originator_version",
            "topic",
            "state",
        ];
        if !has_columns(conn, table, &cols)? {
            continue;
        }
        let mut m = mapping_for(Layout::Eventsourcing, &[]);
        m.table = table.clone();
        m.position = "id".into();
        m.stream = uuid_text("originator_id");
        m.stream_bytes = Some("originator_id".into());
        let snapshots = format!("{}_snapshots", table.trim_end_matches("_events"));
        let snap_cols = ["originator_id", "originator_version", "state"];
        if tables.contains(&snapshots) && has_columns(conn, &snapshots, &snap_cols)? {
            m.snapshots = Some(SnapshotMapping {
                table: snapshots,
                stream: uuid_text("originator_id"),
                version: "originator_version".into(),
                data: "state".into(),
                created_at: None,
                decoder: Decoder::Eventsourcing,
                columns: &["originator_id", "originator_version", "state"],
            });
        }
        return Ok(Some(m));
    }
    Ok(None)
}

/// Rails Event Store's two tables as one of rows per (event, stream): an event linked
/// into several streams is a row in each (the first of them kept for the log), an event
/// published to no stream is in RES's global stream `all` (its version its position).
fn rails_event_store() -> Mapping {
    let category = "CASE WHEN s.stream IS NULL OR substr(s.stream, 1, 1) = '$' THEN '$system' \
         WHEN instr(s.stream, '$') > 0 THEN substr(s.stream, 1, instr(s.stream, '$') - 1) \
         WHEN instr(s.stream, '-') > 0 THEN substr(s.stream, 1, instr(s.stream, '-') - 1) \
         ELSE s.stream END";
    let table = format!(
        "(SELECT e.id AS res_position, COALESCE(s.stream, 'all') AS res_stream, \
         CASE WHEN s.id IS NULL THEN e.id WHEN s.position IS NOT NULL THEN s.position + 1 \
         ELSE (SELECT COUNT(*) FROM event_store_events_in_streams o WHERE o.stream = s.stream AND o.id <= s.id) END AS res_version, \
         e.event_id AS res_event_id, e.event_type AS res_type, e.data AS res_data, \
         e.metadata AS res_metadata, e.created_at AS res_time, ({category}) AS res_category, \
         (s.id IS NULL OR s.id = (SELECT MIN(f.id) FROM event_store_events_in_streams f WHERE f.event_id = e.event_id)) AS res_first, \
         (SELECT f.stream FROM event_store_events_in_streams f WHERE f.event_id = e.event_id AND f.id < s.id ORDER BY f.id LIMIT 1) AS res_link_of \
         FROM event_store_events e LEFT JOIN event_store_events_in_streams s ON s.event_id = e.event_id)"
    );
    let s = |x: &str| x.to_string();
    Mapping {
        layout: Layout::RailsEventStore,
        table,
        position: s("res_position"),
        stream: s("res_stream"),
        version: s("res_version"),
        event_id: Some(s("res_event_id")),
        event_type: s("res_type"),
        data: s("res_data"),
        metadata: Some(s("res_metadata")),
        time: Some(s("res_time")),
        time_unit: Default::default(),
        schema_version: None,
        original_position: None,
        topic: None,
        undecodable: None,
        category: CategoryRule::Column(s("res_category")),
        decoder: Decoder::JsonOrRubyYaml,
        snapshots: None,
        filter: None,
        log_filter: Some(s("res_first")),
        link_of: Some(s("res_link_of")),
        stream_bytes: None,
    }
}

/// EventSauce's tables (one per aggregate type, named by the application) as one: each
/// row's envelope headers pulled out of its JSON payload. With several tables a position
/// is the row's number × 64 + the table's place: EventSauce keeps no order across them.
fn eventsauce(conn: &Connection, tables: &[String]) -> Result<Option<Mapping>> {
    let mut found = Vec::new();
    for t in tables {
        if has_columns(
            conn,
            t,
            &["event_id", "aggregate_root_id", "version", "payload"],
        )? {
            found.push(t.clone());
        }
    }
    if found.is_empty() {
        return Ok(None);
    }
    let several = found.len() > 1;
    let header = |h: &str| format!("(payload ->> '$.headers.{h}')");
    let selects: Vec<String> = found
        .iter()
        .take(64)
        .enumerate()
        .map(|(k, t)| {
            let position = match several {
                true => format!("(rowid * 64 + {k})"),
                false => "rowid".into(),
            };
            format!(
                "SELECT {position} AS es_position, {stream} AS es_stream, \
                 COALESCE(version, {version}) AS es_version, COALESCE({id}, {event_id}) AS es_event_id, \
                 {ty} AS es_type, (payload -> '$.payload') AS es_data, \
                 json_remove(payload -> '$.headers', '$.__event_type', '$.__event_id', '$.__time_of_recording', '$.__aggregate_root_version', '$.__aggregate_root_id') AS es_metadata, \
                 {time} AS es_time, COALESCE({root}, {table}) AS es_category, aggregate_root_id AS es_root FROM {quoted}",
                stream = uuid_text("aggregate_root_id"),
                version = header("__aggregate_root_version"),
                id = header("__event_id"),
                event_id = uuid_text("event_id"),
                ty = header("__event_type"),
                time = header("__time_of_recording"),
                root = header("__aggregate_root_type"),
                table = q(t).replace('"', "'"),
                quoted = q(t),
            )
        })
        .collect();
    let s = |x: &str| x.to_string();
    Ok(Some(Mapping {
        layout: Layout::EventSauce,
        table: format!("({})", selects.join(" UNION ALL ")),
        position: s("es_position"),
        stream: s("es_stream"),
        version: s("es_version"),
        event_id: Some(s("es_event_id")),
        event_type: s("es_type"),
        data: s("es_data"),
        metadata: Some(s("es_metadata")),
        time: Some(s("es_time")),
        time_unit: Default::default(),
        schema_version: None,
        original_position: None,
        topic: None,
        undecodable: None,
        category: CategoryRule::Column(s("es_category")),
        decoder: Decoder::Json,
        snapshots: None,
        filter: None,
        log_filter: None,
        link_of: None,
        stream_bytes: Some(s("es_root")),
    }))
}

pub fn detect(conn: &Connection, tables: &[String], format: Option<&str>) -> Result<Mapping> {
    if format.is_none_or(|f| f == "eventsauce") {
        if let Some(m) = eventsauce(conn, tables)? {
            return Ok(m);
        }
    }
    if format.is_none_or(|f| f == "rails-event-store")
        && has_columns(
            conn,
            "event_store_events",
            &["id", "event_id", "event_type", "data"],
        )?
        && has_columns(
            conn,
            "event_store_events_in_streams",
            &["id", "stream", "position", "event_id"],
        )?
    {
        return Ok(rails_event_store());
    }
    if format.is_none_or(|f| f == "eventsourcing") && !tables.iter().any(|t| t == "stored_events") {
        if let Some(m) = sqlalchemy_eventsourcing(conn, tables)? {
            return Ok(m);
        }
    }
    let checks: [(Layout, &str, &[&str]); 5] = [
        (
            Layout::Native,
            "events",
            &[
                "global_position",
                "stream_id",
                "version",
                "event_type",
                "data",
            ],
        ),
        (
            Layout::Eventsourcing,
            "stored_events",
            &["originator_id", "originator_version", "topic", "state"],
        ),
        (
            Layout::Emmett,
            "emt_messages",
            &[
                "stream_id",
                "stream_position",
                "message_type",
                "message_data",
                "global_position",
            ],
        ),
        (
            Layout::CqrsEs,
            "events",
            &[
                "aggregate_type",
                "aggregate_id",
                "sequence",
                "event_type",
                "payload",
            ],
        ),
        (
            Layout::MessageDb,
            "messages",
            &["global_position", "position", "stream_name", "type", "data"],
        ),
    ];
    let wanted = match format {
        None => None,
        Some(name) => Some(
            FORMATS
                .iter()
                .find(|f| f.name == name && f.layout != Layout::Custom)
                .map(|f| f.layout)
                .ok_or_else(|| StoreError::UnknownFormat(name.to_string()))?,
        ),
    };
    for (layout, table, cols) in checks {
        if wanted.is_some_and(|w| w != layout) {
            continue;
        }
        if has_columns(conn, table, cols)? {
            let mut mapping = mapping_for(layout, tables);
            if layout == Layout::Native {
                let cols = columns(conn, "events")?;
                let has = |name: &str| cols.iter().any(|c| c == name).then(|| name.to_string());
                mapping.topic = has("topic");
                mapping.schema_version = has("schema_version");
                mapping.original_position = has("original_position");
                mapping.undecodable = has("undecodable");
                if cols.iter().any(|c| c == "category") {
                    mapping.category = CategoryRule::ColumnOrPrefix("category".into());
                }
            }
            if let Some(snap) = &mapping.snapshots {
                if !has_columns(conn, &snap.table, snap.columns)? {
                    mapping.snapshots = None;
                }
            }
            return Ok(mapping);
        }
        if let Some(w) = wanted.filter(|w| *w == layout) {
            let name = FORMATS
                .iter()
                .find(|f| f.layout == w)
                .map_or("", |f| f.name);
            return Err(StoreError::FormatMismatch {
                format: name.to_string(),
                table: table.to_string(),
                columns: cols.join(", "),
            });
        }
    }
    Err(StoreError::UnknownLayout {
        path: Default::default(),
        tables: if tables.is_empty() {
            "none".into()
        } else {
            tables.join(", ")
        },
    })
}

/// The aggregate class a topic names: `bank.domain:BankAccount.Opened` → `BankAccount`.
pub fn class_of_topic(topic: &str) -> &str {
    let qualname = topic.rsplit_once(':').map_or(topic, |(_, q)| q);
    let class_path = qualname.rsplit_once('.').map_or(qualname, |(c, _)| c);
    class_path.rsplit('.').next().unwrap_or(class_path)
}

/// The event's short name in a topic: `bank.domain:BankAccount.Opened` → `Opened`.
pub fn event_of_topic(topic: &str) -> &str {
    let qualname = topic.rsplit_once(':').map_or(topic, |(_, q)| q);
    qualname.rsplit('.').next().unwrap_or(qualname)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_name_class_and_event() {
        assert_eq!(
            class_of_topic("bank.domain:BankAccount.Deposited"),
            "BankAccount"
        );
        assert_eq!(
            event_of_topic("bank.domain:BankAccount.Deposited"),
            "Deposited"
        );
        assert_eq!(class_of_topic("m:Outer.Account.Opened"), "Account");
        assert_eq!(class_of_topic("bank.domain:BankAccount"), "BankAccount");
    }
}

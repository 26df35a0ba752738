//! Each library's MySQL/MariaDB tables as SQL over the envelope (the same [`SqlLayout`]
//! PostgreSQL reads), found by their column sets in the URL's database.

use std::collections::BTreeMap;

use mysql::prelude::Queryable;
use mysql::Conn;

use crate::store::layout::{Decoder, Layout};
use crate::store::map_spec::MapPairs;
use crate::store::sql_layout::{Snapshots, SqlLayout, StreamsTable, Watermark};
use crate::store::StoreError;
use crate::time::EpochUnit;

/// A table of the database: column name → (data type, column type such as `binary(16)`).
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub name: String,
    pub columns: BTreeMap<String, (String, String)>,
}

impl Table {
    fn has(&self, cols: &[&str]) -> bool {
        cols.iter().all(|c| self.columns.contains_key(*c))
    }

    fn data_type(&self, col: &str) -> &str {
        self.columns.get(col).map_or("", |(t, _)| t.as_str())
    }

    fn is_uuid_bytes(&self, col: &str) -> bool {
        self.columns
            .get(col)
            .is_some_and(|(_, ct)| ct == "binary(16)" || ct == "varbinary(16)")
    }

    fn qualified(&self) -> String {
        q(&self.name)
    }
}

pub fn q(ident: &str) -> String {
    format!("`{}`", ident.replace('`', "``"))
}

/// The MySQL/MariaDB layouts, for `formats`.
pub const MYSQL_FORMATS: &[(&str, &str, &str)] = &[
    ("native", "eventscope's native layout / go-mink's event table", "events: global_position, stream_id, version, event_id, event_type, data, metadata, timestamp (+ streams: stream_id, category, version; snapshots)"),
    ("rails-event-store", "Rails Event Store", "event_store_events + event_store_events_in_streams: as on SQLite (links in each stream and once in $all, NULL positions by the join id, BLOB/JSON payloads or RES's YAML)"),
    ("eventsauce", "EventSauce (Doctrine/PDO message repository)", "every table of id, event_id, aggregate_root_id (BINARY(16) → UUID), version, payload: type, time, version, id and category from the payload's headers, as on SQLite; several aggregate tables read together (position = id × 64 + the table's place)"),
    ("axon", "Axon Framework (JPA/JDBC)", "domain_event_entry (or aggregate_event_entry): as on PostgreSQL, payload and meta_data as BLOBs (XStream XML or Jackson JSON); snapshot_event_entry"),
    ("akka", "Akka / Pekko Persistence JDBC", "event_journal: as on PostgreSQL (deleted hidden unless --archived, write_timestamp in ms, Jackson JSON read, other serializers marked undecodable); snapshot"),
];

/// What `detect` needs besides the tables.
#[derive(Debug, Clone, Default)]
pub struct Choices {
    pub format: Option<String>,
    pub archived: bool,
}

/// Every table (with columns) of the connection's database.
pub fn tables(conn: &mut Conn) -> Result<Vec<Table>, StoreError> {
    type Bytes = Vec<u8>;
    let rows: Vec<(Bytes, Bytes, Bytes, Bytes)> = conn
        .query(
            "SELECT CAST(table_name AS BINARY), CAST(column_name AS BINARY), CAST(LOWER(data_type) AS BINARY), CAST(LOWER(column_type) AS BINARY)
             FROM information_schema.columns WHERE table_schema = DATABASE()
             ORDER BY table_name, ordinal_position",
        )
        .map_err(super::db_error)?;
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let mut out: Vec<Table> = Vec::new();
    for (t, c, ty, ct) in rows {
        let t = text(&t);
        if out.last().is_none_or(|last| last.name != t) {
            out.push(Table {
                name: t,
                columns: BTreeMap::new(),
            });
        }
        if let Some(last) = out.last_mut() {
            last.columns.insert(text(&c), (text(&ty), text(&ct)));
        }
    }
    Ok(out)
}

fn sibling<'t>(tables: &'t [Table], name: &str, cols: &[&str]) -> Option<&'t Table> {
    tables.iter().find(|t| t.name == name && t.has(cols))
}

/// The layouts found, best first.
pub fn detect(tables: &[Table], choices: &Choices) -> Vec<SqlLayout> {
    let mut found = Vec::new();
    for t in tables {
        found.extend(native(tables, t));
        found.extend(rails_event_store(tables, t));
        found.extend(axon(tables, t));
        found.extend(akka(tables, t, choices));
    }
    found.extend(eventsauce(tables));
    if let Some(f) = &choices.format {
        found.retain(|l| l.name == f);
    }
    found
}

fn base(layout: Layout, name: &'static str, t: &Table) -> SqlLayout {
    SqlLayout {
        layout,
        name,
        table: t.name.clone(),
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

/// A time column: DATETIME/TIMESTAMP formatted by the server (the session is in UTC), an
/// epoch number or text normalised on this side.
fn time(alias: &str, table: &Table, col: &str) -> (String, Option<EpochUnit>) {
    let c = format!("{alias}.{}", q(col));
    match table.data_type(col) {
        "datetime" | "timestamp" => (format!("DATE_FORMAT({c}, '%Y-%m-%dT%H:%i:%s.%fZ')"), None),
        _ => (c, Some(EpochUnit::Auto)),
    }
}

/// A 16-byte id as a canonical UUID (`d8559414-04ba-48d0-…`); other columns as stored.
fn uuid_text(alias: &str, table: &Table, col: &str) -> String {
    let c = format!("{alias}.{}", q(col));
    if !table.is_uuid_bytes(col) {
        return c;
    }
    let part = |from: usize, len: usize| format!("HEX(SUBSTRING({c}, {from}, {len}))");
    format!(
        "LOWER(CONCAT_WS('-', {}, {}, {}, {}, {}))",
        part(1, 4),
        part(5, 2),
        part(7, 2),
        part(9, 2),
        part(11, 6)
    )
}

/// The condition that finds a UUID given as text in a 16-byte column through its index.
fn uuid_key(alias: &str, table: &Table, col: &str) -> Option<String> {
    table
        .is_uuid_bytes(col)
        .then(|| format!("{alias}.{} = UNHEX(REPLACE(?, '-', ''))", q(col)))
}

fn optional(t: &Table, alias: &str, col: &str) -> String {
    if t.has(&[col]) {
        format!("{alias}.{}", q(col))
    } else {
        "NULL".into()
    }
}

/// eventscope's native layout and go-mink's event table: `events`, with `streams` and
/// `snapshots` where they are.
fn native(tables: &[Table], t: &Table) -> Option<SqlLayout> {
    let cols = [
        "global_position",
        "stream_id",
        "version",
        "event_type",
        "data",
    ];
    if t.name != "events" || !t.has(&cols) {
        return None;
    }
    let streams = sibling(tables, "streams", &["stream_id", "category", "version"]);
    let snaps = sibling(tables, "snapshots", &["stream_id", "version", "data"]);
    let (at, time_unit) = match t.has(&["timestamp"]) {
        true => {
            let (e, u) = time("e", t, "timestamp");
            (Some(e), u)
        }
        false => (None, None),
    };
    Some(SqlLayout {
        position: "e.global_position".into(),
        stream: "e.stream_id".into(),
        version: "e.version".into(),
        event_id: optional(t, "e", "event_id"),
        event_type: "e.event_type".into(),
        data: "e.data".into(),
        metadata: optional(t, "e", "metadata"),
        time: at,
        time_unit,
        schema_version: optional(t, "e", "schema_version"),
        category: t.has(&["category"]).then(|| "e.category".into()),
        streams: streams.map(|s| StreamsTable {
            from: format!("{} s", s.qualified()),
            id: "s.stream_id".into(),
            version: "s.version".into(),
            category: "s.category".into(),
            filter: "TRUE".into(),
        }),
        snapshots: snaps.map(|s| Snapshots {
            from: s.qualified(),
            stream: "stream_id".into(),
            version: "version".into(),
            data: "data".into(),
            created_at: if s.has(&["created_at"]) {
                time(&s.qualified(), s, "created_at").0
            } else {
                "NULL".into()
            },
            decoder: Decoder::Json,
        }),
        ..base(Layout::Native, "native", t)
    })
}

/// Rails Event Store: the two tables joined, a row per (event, stream), as on SQLite and
/// PostgreSQL; written over the join itself rather than a derived table, which MySQL
/// would materialise whole for every page (its select list holds subqueries).
fn rails_event_store(tables: &[Table], t: &Table) -> Option<SqlLayout> {
    if t.name != "event_store_events" || !t.has(&["id", "event_id", "event_type", "data"]) {
        return None;
    }
    let joins = sibling(
        tables,
        "event_store_events_in_streams",
        &["id", "stream", "position", "event_id"],
    )?;
    let j = joins.qualified();
    let (time, time_unit) = time("e", t, "created_at");
    Some(SqlLayout {
        from: format!(
            "{} e LEFT JOIN {j} s ON s.event_id = e.event_id",
            t.qualified()
        ),
        position: "e.id".into(),
        stream: "COALESCE(s.stream, 'all')".into(),
        // RES's `all` (events in no stream) is read through `stream` itself.
        stream_key: Some("s.stream = ?".into()),
        version: format!(
            "(CASE WHEN s.id IS NULL THEN e.id WHEN s.position IS NOT NULL THEN s.position + 1 \
             ELSE (SELECT count(*) FROM {j} o WHERE o.stream = s.stream AND o.id <= s.id) END)"
        ),
        event_id: "e.event_id".into(),
        event_type: "e.event_type".into(),
        data: "e.data".into(),
        metadata: optional(t, "e", "metadata"),
        time: Some(time),
        time_unit,
        category: Some(
            "(CASE WHEN s.stream IS NULL OR LEFT(s.stream, 1) = '$' THEN '$system' \
             WHEN LOCATE('$', s.stream) > 0 THEN SUBSTRING_INDEX(s.stream, '$', 1) \
             WHEN LOCATE('-', s.stream) > 0 THEN SUBSTRING_INDEX(s.stream, '-', 1) ELSE s.stream END)"
                .into(),
        ),
        decoder: Decoder::JsonOrRubyYaml,
        log_filter: Some(format!(
            "(s.id IS NULL OR s.id = (SELECT min(f.id) FROM {j} f WHERE f.event_id = e.event_id))"
        )),
        link_of: Some(format!(
            "(SELECT f.stream FROM {j} f WHERE f.event_id = e.event_id AND f.id < s.id ORDER BY f.id LIMIT 1)"
        )),
        ..base(Layout::RailsEventStore, "rails-event-store", t)
    })
}

/// EventSauce: every table of its columns, the envelope's headers out of the JSON payload.
/// One table is read in place; several as one UNION, a position being the row's id × 64 +
/// the table's place (EventSauce keeps no order across them).
fn eventsauce(tables: &[Table]) -> Option<SqlLayout> {
    let cols = ["id", "event_id", "aggregate_root_id", "version", "payload"];
    let found: Vec<&Table> = tables.iter().filter(|t| t.has(&cols)).take(64).collect();
    let first = *found.first()?;
    let header =
        |a: &str, h: &str| format!("JSON_UNQUOTE(JSON_EXTRACT({a}.payload, '$.headers.{h}'))");
    let fields = |a: &str, t: &Table| {
        [
            uuid_text(a, t, "aggregate_root_id"),
            format!(
                "COALESCE({a}.version, {})",
                header(a, "__aggregate_root_version")
            ),
            format!(
                "COALESCE({}, {})",
                header(a, "__event_id"),
                uuid_text(a, t, "event_id")
            ),
            header(a, "__event_type"),
            format!("JSON_EXTRACT({a}.payload, '$.payload')"),
            format!(
                "JSON_REMOVE(JSON_EXTRACT({a}.payload, '$.headers'), '$.__event_type', '$.__event_id', '$.__time_of_recording', '$.__aggregate_root_version', '$.__aggregate_root_id')"
            ),
            header(a, "__time_of_recording"),
            format!(
                "COALESCE({}, '{}')",
                header(a, "__aggregate_root_type"),
                t.name.replace('\'', "''")
            ),
        ]
    };
    let layout = |from: String, position: String, f: [String; 8]| {
        let [stream, version, event_id, event_type, data, metadata, time, category] = f;
        SqlLayout {
            from,
            position,
            stream,
            version,
            event_id,
            event_type,
            data,
            metadata,
            time: Some(time),
            time_unit: Some(EpochUnit::Auto),
            category: Some(category),
            ..base(Layout::EventSauce, "eventsauce", first)
        }
    };
    if let [one] = found.as_slice() {
        let mut l = layout(
            format!("{} e", one.qualified()),
            "e.id".into(),
            fields("e", one),
        );
        l.stream_key = uuid_key("e", one, "aggregate_root_id");
        return Some(l);
    }
    let names = [
        "es_stream",
        "es_version",
        "es_event_id",
        "es_type",
        "es_data",
        "es_metadata",
        "es_time",
        "es_category",
    ];
    let selects: Vec<String> = found
        .iter()
        .enumerate()
        .map(|(k, t)| {
            let cols: Vec<String> = fields("x", t)
                .iter()
                .zip(names)
                .map(|(expr, name)| format!("{expr} AS {name}"))
                .collect();
            format!(
                "SELECT x.id * 64 + {k} AS es_position, {} FROM {} x",
                cols.join(", "),
                t.qualified()
            )
        })
        .collect();
    let mut l = layout(
        format!("({}) e", selects.join(" UNION ALL ")),
        "e.es_position".into(),
        names.map(|n| format!("e.{n}")),
    );
    l.table = found
        .iter()
        .map(|t| t.name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    Some(l)
}

/// Axon Framework's JPA/JDBC store, as on PostgreSQL, payloads as BLOBs.
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
        "snapshot_event_entry",
        &["aggregate_identifier", "sequence_number", "payload"],
    );
    Some(SqlLayout {
        position: "e.global_index".into(),
        stream: "e.aggregate_identifier".into(),
        version: "e.sequence_number".into(),
        version_offset: 1,
        event_id: optional(t, "e", "event_identifier"),
        event_type: "e.payload_type".into(),
        data: "e.payload".into(),
        metadata: optional(t, "e", "meta_data"),
        time: Some("e.time_stamp".into()),
        time_unit: Some(EpochUnit::Auto),
        schema_version: optional(t, "e", "payload_revision"),
        category: t.has(&["type"]).then(|| "e.type".into()),
        decoder: Decoder::XmlOrJson,
        snapshots: snaps.map(|s| Snapshots {
            from: s.qualified(),
            stream: "aggregate_identifier".into(),
            version: "sequence_number".into(),
            data: "payload".into(),
            created_at: "NULL".into(),
            decoder: Decoder::XmlOrJson,
        }),
        ..base(Layout::Axon, "axon", t)
    })
}

/// Milliseconds since the epoch as the server formats a DATETIME (the session is in UTC).
fn millis(col: &str) -> String {
    format!("DATE_FORMAT(FROM_UNIXTIME({col} / 1000), '%Y-%m-%dT%H:%i:%s.%fZ')")
}

/// Akka's `event_tag`, as on PostgreSQL.
fn akka_tags(tables: &[Table]) -> Option<(String, &'static str)> {
    let t = sibling(tables, "event_tag", &["tag"])?;
    let on = crate::store::sql_layout::akka_tag_join(|cols| t.has(cols))?;
    Some((t.qualified(), on))
}

/// Akka / Pekko Persistence JDBC's `event_journal`, as on PostgreSQL.
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
    let snaps = sibling(
        tables,
        "snapshot",
        &["persistence_id", "sequence_number", "snapshot_payload"],
    );
    Some(SqlLayout {
        position: "e.ordering".into(),
        stream: "e.persistence_id".into(),
        version: "e.sequence_number".into(),
        event_type: "e.event_ser_manifest".into(),
        // Akka's StringSerializer (id 20) writes the text itself: a JSON string.
        data: "IF(e.event_ser_id = 20, JSON_QUOTE(CONVERT(e.event_payload USING utf8mb4)), e.event_payload)".into(),
        metadata: format!(
            "JSON_OBJECT('serializer_id', e.event_ser_id, 'manifest', e.event_ser_manifest{}{})",
            if t.has(&["writer"]) {
                ", 'writer', e.writer"
            } else {
                ""
            },
            akka_tags(tables).map_or(String::new(), |(tags, on)| format!(
                ", 'tags', COALESCE(JSON_EXTRACT((SELECT JSON_ARRAYAGG(g.tag ORDER BY g.tag) FROM {tags} g WHERE {on}), '$'), JSON_ARRAY())"
            )),
        ),
        time: t.has(&["write_timestamp"]).then(|| millis("e.write_timestamp")),
        decoder: Decoder::JsonOrCbor,
        category: Some(
            "(CASE WHEN LOCATE('|', e.persistence_id) > 0 THEN SUBSTRING_INDEX(e.persistence_id, '|', 1) \
             ELSE SUBSTRING_INDEX(e.persistence_id, '-', 1) END)"
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

/// `--map` on MySQL: a table no library wrote, read through the columns the spec names,
/// each checked against the table and quoted.
pub fn mapped(tables: &[Table], spec: &MapPairs) -> Result<SqlLayout, StoreError> {
    let bad = |m: String| StoreError::BadMap(m);
    let wanted = &spec.pairs["table"];
    let Some(t) = tables.iter().find(|t| t.name == *wanted) else {
        return Err(bad(format!("no table {wanted:?} in the database")));
    };
    let cols: Vec<String> = t.columns.keys().cloned().collect();
    let integer = |key: &str, c: &str| -> Result<String, StoreError> {
        match t.data_type(c) {
            "tinyint" | "smallint" | "mediumint" | "int" | "bigint" | "decimal" => {
                Ok(format!("e.{}", q(c)))
            }
            other => Err(bad(format!(
                "{key}={c}: {} column; {key} needs an integer column",
                crate::with_article(other)
            ))),
        }
    };
    let Some(position) = spec.column("position", false, &cols)? else {
        return Err(bad(format!(
            "MySQL tables have no rowid: name the column that orders {wanted} with position=COLUMN"
        )));
    };
    let need = |key: &str| -> Result<String, StoreError> {
        Ok(spec.column(key, true, &cols)?.unwrap_or_default())
    };
    let (at, time_unit) = match spec.column("time", false, &cols)? {
        None => (None, None),
        Some(c) => match time("e", t, &c) {
            (e, None) => (Some(e), None),
            (e, Some(_)) => (Some(e), Some(spec.time_unit)),
        },
    };
    let stream = need("stream")?;
    Ok(SqlLayout {
        position: integer("position", &position)?,
        stream: uuid_text("e", t, &stream),
        stream_key: uuid_key("e", t, &stream),
        version: integer("version", &need("version")?)?,
        event_id: spec
            .column("id", false, &cols)?
            .map_or("NULL".into(), |c| uuid_text("e", t, &c)),
        event_type: format!("e.{}", q(&need("type")?)),
        data: format!("e.{}", q(&need("data")?)),
        metadata: spec
            .column("metadata", false, &cols)?
            .map_or("NULL".into(), |c| format!("e.{}", q(&c))),
        time: at,
        time_unit,
        ..base(Layout::Custom, "map", t)
    })
}

//! `--map`: a column mapping for a home-grown schema, so that a user whose table no
//! library wrote is not stuck. Column names are checked against the table and quoted, so a
//! spec can name columns but never inject SQL.

use rusqlite::Connection;

use super::layout::{columns, q, CategoryRule, Decoder, Layout, Mapping};
use super::{Result, StoreError};

/// Reads a `--map` spec: `key=column` pairs split by commas or new lines, given inline or
/// as the path of a file that holds them.
pub fn parse_map(conn: &Connection, spec: &str) -> Result<Mapping> {
    parse_map_text(conn, &spec_text(spec)?)
}

/// The spec itself, or the text of the file it names.
pub(crate) fn spec_text(spec: &str) -> Result<String> {
    if spec.contains('=') {
        return Ok(spec.to_string());
    }
    let text = crate::files::read_bounded(
        std::path::Path::new(spec),
        crate::files::PROGRAM_LIMIT,
        "--map file",
    )
    .map_err(StoreError::BadMap)?;
    Some(text).filter(|t| !t.contains('\0')).ok_or_else(|| {
        StoreError::BadMap(format!(
            "{spec}: not a mapping file (it holds binary data; a mapping is lines of key=column)"
        ))
    })
}

/// A spec's pairs, before they are checked against a table.
pub(crate) struct MapPairs {
    pub pairs: std::collections::BTreeMap<&'static str, String>,
    /// `time=COL:s` or `time=COL:ms` names the unit of a numeric time column.
    pub time_unit: crate::time::EpochUnit,
}

impl MapPairs {
    pub fn parse(text: &str) -> Result<MapPairs> {
        let bad = |m: String| StoreError::BadMap(m);
        const KEYS: [&str; 9] = [
            "table", "stream", "version", "type", "data", "metadata", "time", "position", "id",
        ];
        let mut pairs = std::collections::BTreeMap::new();
        for part in text
            .split([',', '\n'])
            .map(str::trim)
            .filter(|p| !p.is_empty() && !p.starts_with('#'))
        {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| bad(format!("{part:?} is not key=column")))?;
            let (k, v) = (k.trim(), v.trim());
            let Some(key) = KEYS.iter().find(|key| **key == k) else {
                return Err(bad(format!(
                    "unknown key {k:?} (keys: {})",
                    KEYS.join(", ")
                )));
            };
            if v.is_empty() {
                return Err(bad(format!("{k} has no column")));
            }
            if pairs.insert(*key, v.to_string()).is_some() {
                return Err(bad(format!("{k} is given twice")));
            }
        }
        let mut time_unit = crate::time::EpochUnit::Auto;
        if let Some(t) = pairs.get_mut("time") {
            if let Some((col, unit)) = t.rsplit_once(':') {
                time_unit = match unit {
                    "s" => crate::time::EpochUnit::Seconds,
                    "ms" => crate::time::EpochUnit::Millis,
                    other => {
                        return Err(bad(format!(
                            "time unit {other:?}: use time=COLUMN:s or time=COLUMN:ms"
                        )))
                    }
                };
                *t = col.to_string();
            }
        }
        if !pairs.contains_key("table") {
            return Err(bad("table= is missing".into()));
        }
        Ok(MapPairs { pairs, time_unit })
    }

    /// The column `key` names, checked against `cols` (the table's columns); `None` when
    /// the spec leaves an optional key out.
    pub fn column(&self, key: &str, required: bool, cols: &[String]) -> Result<Option<String>> {
        let table = &self.pairs["table"];
        match self.pairs.get(key) {
            None if required => Err(StoreError::BadMap(format!("{key}= is missing"))),
            None => Ok(None),
            Some(c) if cols.contains(c) => Ok(Some(c.clone())),
            Some(c) => Err(StoreError::BadMap(format!(
                "{table} has no column {c:?} (columns: {})",
                cols.join(", ")
            ))),
        }
    }
}

/// Reads `key=column` pairs (see [`parse_map`]) against the tables of `conn`.
pub fn parse_map_text(conn: &Connection, text: &str) -> Result<Mapping> {
    let bad = |m: String| StoreError::BadMap(m);
    let spec = MapPairs::parse(text)?;
    let (pairs, time_unit) = (&spec.pairs, spec.time_unit);
    let table = pairs["table"].clone();
    let cols = columns(conn, &table)?;
    if cols.is_empty() {
        return Err(bad(format!("no table {table:?} in this database")));
    }
    let column = |key: &str, required: bool| -> Result<Option<String>> {
        if key == "position" && pairs.get(key).map(String::as_str) == Some("rowid") {
            return Ok(Some("rowid".into()));
        }
        Ok(spec.column(key, required, &cols)?.map(|c| q(&c)))
    };
    let need = |key: &str| column(key, true).map(Option::unwrap_or_default);
    let position = column("position", false)?;
    let has_rowid = conn
        .prepare(&format!("SELECT rowid FROM {} LIMIT 0", q(&table)))
        .is_ok();
    if (position.is_none() || position.as_deref() == Some("rowid")) && !has_rowid {
        return Err(bad(format!(
            "{table} has no rowid (WITHOUT ROWID): name the column that orders it with position=COLUMN"
        )));
    }
    if let Some(column) = position.as_deref().filter(|c| *c != "rowid") {
        refuse_unordered_positions(conn, &table, column, has_rowid)?;
    }
    // A column declared binary (BINARY(16), BLOB) is shown, and found, as a UUID.
    let binary = |key: &str| -> Result<bool> {
        let Some(name) = spec.column(key, false, &cols)? else {
            return Ok(false);
        };
        let declared: Option<String> = conn
            .query_row(
                "SELECT type FROM pragma_table_info(?1) WHERE name = ?2",
                [&table, &name],
                |r| r.get(0),
            )
            .ok();
        let declared = declared.unwrap_or_default().to_ascii_uppercase();
        Ok(declared.contains("BINARY") || declared.contains("BLOB"))
    };
    let stream = need("stream")?;
    let (stream, stream_bytes) = match binary("stream")? {
        true => (super::layout::uuid_text(&stream), Some(stream)),
        false => (stream, None),
    };
    let event_id = match (column("id", false)?, binary("id")?) {
        (Some(c), true) => Some(super::layout::uuid_text(&c)),
        (id, _) => id,
    };
    Ok(Mapping {
        layout: Layout::Custom,
        table: q(&table),
        position: position.unwrap_or_else(|| "rowid".into()),
        stream,
        version: need("version")?,
        event_id,
        event_type: need("type")?,
        data: need("data")?,
        metadata: column("metadata", false)?,
        time: column("time", false)?,
        time_unit,
        schema_version: None,
        original_position: None,
        topic: None,
        undecodable: None,
        category: CategoryRule::Prefix,
        decoder: Decoder::Json,
        snapshots: None,
        filter: None,
        log_filter: None,
        link_of: None,
        stream_bytes,
    })
}

/// Positions order the log and bound every read, so a row whose position is not an
/// integer (NULL, a REAL, text) would be left out of some reads and counted by others:
/// refused at open, naming the first such row, instead.
fn refuse_unordered_positions(
    conn: &Connection,
    table: &str,
    column: &str,
    has_rowid: bool,
) -> Result<()> {
    let key = if has_rowid { "rowid" } else { "NULL" };
    let sql = format!(
        "SELECT {key}, typeof({column}), quote({column}) FROM {} WHERE typeof({column}) <> 'integer' LIMIT 1",
        q(table)
    );
    let first: Option<(Option<i64>, String, String)> = conn
        .query_row(&sql, [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })?;
    let Some((rowid, kind, value)) = first else {
        return Ok(());
    };
    let row = rowid.map_or_else(|| "a row".into(), |r| format!("rowid {r}"));
    let value: String = value.chars().take(40).collect();
    let kind = if kind == "null" {
        String::new()
    } else {
        format!(", a {kind}")
    };
    Err(StoreError::BadMap(format!(
        "{table}.{} must hold an integer position in every row: {row} holds {value}{kind}",
        column.trim_matches('"')
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(
            "CREATE TABLE log (seq INTEGER, agg TEXT, n INTEGER, kind TEXT, body TEXT, at TEXT)",
        )
        .unwrap();
        c
    }

    #[test]
    fn map_specs_name_columns_that_exist() {
        let c = db();
        let m = parse_map(
            &c,
            "table=log, stream=agg, version=n, type=kind, data=body, time=at, position=seq",
        )
        .unwrap();
        assert_eq!(m.stream, "\"agg\"");
        assert_eq!(m.position, "\"seq\"");
        assert_eq!(m.metadata, None);
        let m = parse_map(&c, "table=log\nstream=agg\nversion=n\ntype=kind\ndata=body").unwrap();
        assert_eq!(m.position, "rowid");
    }

    #[test]
    fn map_spec_errors_say_what_is_wrong() {
        let c = db();
        let e = |spec: &str| parse_map(&c, spec).unwrap_err().to_string();
        assert!(e("stream=agg").contains("table= is missing"));
        assert!(e("table=nope,stream=a").contains("no table \"nope\""));
        assert!(e("table=log,stream=agg,version=n,type=kind").contains("data= is missing"));
        let msg = e("table=log,stream=who,version=n,type=kind,data=body");
        assert!(
            msg.contains("no column \"who\"") && msg.contains("columns: seq, agg"),
            "{msg}"
        );
        assert!(e("table=log,colour=red").contains("unknown key \"colour\""));
        assert!(e("table=log,table=log").contains("given twice"));
        assert!(e("table=log,stream").contains("is not key=column"));
    }

    #[test]
    fn time_columns_may_name_their_unit() {
        let c = db();
        let spec = "table=log,stream=agg,version=n,type=kind,data=body,time=at";
        let m = parse_map(&c, &format!("{spec}:ms")).unwrap();
        assert_eq!(m.time_unit, crate::time::EpochUnit::Millis);
        assert_eq!(m.time.as_deref(), Some("\"at\""));
        assert_eq!(
            parse_map(&c, spec).unwrap().time_unit,
            crate::time::EpochUnit::Auto
        );
        let e = parse_map(&c, &format!("{spec}:hours"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("time=COLUMN:s"), "{e}");
    }

    #[test]
    fn a_table_without_rowid_needs_a_position() {
        let c = db();
        c.execute_batch("CREATE TABLE j (s TEXT, n INTEGER, k TEXT, b TEXT, seq INTEGER, PRIMARY KEY (s, n)) WITHOUT ROWID")
            .unwrap();
        let e = parse_map(&c, "table=j,stream=s,version=n,type=k,data=b")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("WITHOUT ROWID") && e.contains("position=COLUMN"),
            "{e}"
        );
        assert_eq!(e.lines().count(), 1);
        let m = parse_map(&c, "table=j,stream=s,version=n,type=k,data=b,position=seq").unwrap();
        assert_eq!(m.position, "\"seq\"");
    }

    #[test]
    fn a_binary_file_is_not_a_mapping() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("zeros");
        std::fs::write(&f, vec![0u8; 131_072]).unwrap();
        let e = parse_map(&db(), f.to_str().unwrap())
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a mapping file") && e.len() < 300, "{e}");
    }

    #[test]
    fn column_names_cannot_inject_sql() {
        let c = db();
        let e = parse_map(
            &c,
            "table=log,stream=agg; DROP TABLE log,version=n,type=kind,data=body",
        )
        .unwrap_err();
        assert!(e.to_string().contains("no column"), "{e}");
    }
}

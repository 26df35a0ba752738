//! `import`: NDJSON envelopes (as `events --json` prints them, from any layout) into a
//! new native store. Nothing is invented or lost: a missing time stays missing, an undecodable
//! payload keeps its raw text and its mark, topic and category are kept. The store is built
//! in a temporary file beside the target and renamed into place only when every line went
//! in, so a failed import leaves nothing behind.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use eventscope::store::{ExpectedVersion, NewEvent, Store, StoreError};
use serde_json::Value;

use super::output::Out;

/// One line of an import file: an envelope whose position, id, metadata and timestamp may
/// be left out.
#[derive(serde::Deserialize)]
struct ImportLine {
    stream_id: String,
    version: i64,
    #[serde(rename = "type")]
    event_type: String,
    data: Value,
    #[serde(default)]
    metadata: Option<Value>,
    #[serde(default)]
    event_id: Option<String>,
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(default)]
    global_position: Option<i64>,
    #[serde(default)]
    topic: Option<String>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    undecodable: Option<String>,
    #[serde(default)]
    schema_version: Option<String>,
    #[serde(default)]
    original_position: Option<i64>,
    #[serde(default)]
    bad_version: Option<String>,
}

pub fn run(file: &Path, out: &Path) -> Result<()> {
    // A user's store is never written: import makes a new one.
    if out.exists() {
        bail!(
            "{}: already exists; import writes a new store (choose another path)",
            out.display()
        );
    }
    let input: Box<dyn BufRead> = if file.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let f = std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
        Box::new(std::io::BufReader::new(f))
    };
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let work = tempfile::Builder::new()
        .prefix(".eventscope-import-")
        .tempdir_in(parent)
        .with_context(|| format!("making a temporary file in {}", parent.display()))?;
    let tmp = work.path().join("store.db");
    let mut store = Store::create(&tmp).map_err(|e| anyhow!("{}: {e}", out.display()))?;
    let (count, streams) = import_lines(&mut store, input, &file.display().to_string())?;
    drop(store);
    std::fs::rename(&tmp, out).with_context(|| format!("writing {}", out.display()))?;
    let mut o = Out::stdout();
    o.line(&format!(
        "imported {count} events in {streams} streams into {}",
        out.display()
    ))?;
    o.flush()?;
    Ok(())
}

fn import_lines(store: &mut Store, input: Box<dyn BufRead>, name: &str) -> Result<(usize, usize)> {
    let mut writer = store.writer()?;
    writer.keep_missing_times();
    let mut count = 0usize;
    let mut versions: HashMap<(String, i64), usize> = HashMap::new();
    let mut ids: HashMap<String, usize> = HashMap::new();
    let mut streams = std::collections::HashSet::new();
    for (i, line) in input.lines().enumerate() {
        let n = i + 1;
        let line = line.with_context(|| format!("{name}: line {n}"))?;
        if line.trim().is_empty() {
            continue;
        }
        let value: Value =
            serde_json::from_str(&line).with_context(|| format!("{name}: line {n} is not JSON"))?;
        if value.is_array() {
            bail!("{name}: line {n} is a JSON array; each line must hold one envelope object (as `events --json` prints them)");
        }
        let e: ImportLine = serde_json::from_value(value)
            .with_context(|| format!("{name}: line {n} is not an event envelope"))?;
        if let Some(ts) = &e.timestamp {
            if eventscope::time::parse_stored(ts).is_none() {
                bail!("{name}: line {n}: timestamp {ts:?} is not a time (RFC 3339, or null where there is none)");
            }
        }
        if let Some(v) = &e.bad_version {
            bail!("{name}: line {n}: version {v:?} is not an integer, so it cannot be imported");
        }
        if let Some(first) = versions.insert((e.stream_id.clone(), e.version), n) {
            bail!(
                "{name}: line {n}: {} version {} appears again (first at line {first})",
                e.stream_id,
                e.version
            );
        }
        if let Some(id) = &e.event_id {
            if let Some(first) = ids.insert(id.clone(), n) {
                bail!("{name}: line {n}: event id {id:?} appears again (first at line {first})");
            }
        }
        let raw_data = match (&e.undecodable, &e.data) {
            (Some(_), Value::String(text)) => Some(text.clone()),
            (Some(_), Value::Null) => Some(String::new()),
            _ => None,
        };
        let new = NewEvent {
            event_type: e.event_type,
            data: e.data,
            metadata: e
                .metadata
                .unwrap_or_else(|| Value::Object(Default::default())),
            event_id: e.event_id,
            timestamp: e.timestamp.map(|t| eventscope::time::normalise(&t)),
            global_position: e.global_position,
            version: Some(e.version),
            topic: e.topic,
            category: e.category,
            raw_data,
            schema_version: e.schema_version,
            original_position: e.original_position,
            undecodable: e.undecodable,
        };
        writer
            .append(&e.stream_id, ExpectedVersion::Any, &[new])
            .map_err(|err| match err {
                StoreError::Conflict { actual, .. } => anyhow!(
                    "{name}: line {n}: {} version {} does not follow version {actual}",
                    e.stream_id,
                    e.version
                ),
                StoreError::Sqlite(s) if s.to_string().contains("UNIQUE") => anyhow!(
                    "{name}: line {n}: the store already holds this event's id, position or version ({s})"
                ),
                other => anyhow!("{name}: line {n}: {other}"),
            })?;
        streams.insert(e.stream_id);
        count += 1;
    }
    writer.commit()?;
    Ok((count, streams.len()))
}

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
        refuse_non_envelopes(file)?;
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

/// The longest line import reads: an envelope, payload and all.
const LINE_LIMIT: u64 = 64 << 20;

/// A device (an endless /dev/zero) or a store given where NDJSON is expected says so.
fn refuse_non_envelopes(file: &Path) -> Result<()> {
    use std::io::Read;
    use std::os::unix::fs::FileTypeExt;
    let shown = file.display();
    let kind = std::fs::metadata(file)
        .with_context(|| format!("opening {shown}"))?
        .file_type();
    if kind.is_char_device() || kind.is_block_device() || kind.is_dir() {
        bail!("{shown}: not a file of envelopes (a directory or a device); give an NDJSON file or - for standard input");
    }
    let mut head = [0u8; 16];
    let n = std::fs::File::open(file)
        .and_then(|mut f| f.read(&mut head))
        .unwrap_or(0);
    if kind.is_file() && head[..n] == *b"SQLite format 3\0" {
        bail!(
            "{shown} is an event store, not NDJSON envelopes; to copy it: eventscope events {shown} --json | eventscope import - --out copy.db"
        );
    }
    Ok(())
}

/// Reads the next line (without its end) into `buf`, at most [`LINE_LIMIT`] bytes;
/// `Ok(false)` at the end of the input.
fn next_line(input: &mut dyn BufRead, buf: &mut Vec<u8>, name: &str, n: usize) -> Result<bool> {
    use std::io::Read;
    buf.clear();
    let read = input
        .take(LINE_LIMIT + 1)
        .read_until(b'\n', buf)
        .with_context(|| format!("{name}: line {n}"))?;
    if read == 0 {
        return Ok(false);
    }
    if buf.len() as u64 > LINE_LIMIT {
        bail!("{name}: line {n} is longer than 64 MiB, the most an envelope may be");
    }
    while matches!(buf.last(), Some(b'\n' | b'\r')) {
        buf.pop();
    }
    Ok(true)
}

/// Whether a field's value has the kind it must have.
type Check = fn(&Value) -> bool;

/// Why a line's field cannot be imported: `"version" must be an integer, found "7"`.
fn field_problem(value: &Value) -> Option<String> {
    let Value::Object(o) = value else {
        return None;
    };
    let shown = |v: &Value| eventscope::fit(&v.to_string(), 60);
    let integer: Check = |v| v.as_i64().is_some();
    let text: Check = Value::is_string;
    for (field, kind, ok) in [
        ("stream_id", "a string", text),
        ("version", "an integer", integer),
        ("type", "a string", text),
    ] {
        match o.get(field) {
            None => return Some(format!("\"{field}\" is missing (it must be {kind})")),
            Some(v) if !ok(v) => {
                return Some(format!("\"{field}\" must be {kind}, found {}", shown(v)))
            }
            _ => {}
        }
    }
    if !o.contains_key("data") {
        return Some("\"data\" is missing (the payload; null if there is none)".into());
    }
    for (field, kind, ok) in [
        ("global_position", "an integer", integer),
        ("original_position", "an integer", integer),
        ("event_id", "a string", text),
        ("timestamp", "a string", text),
        ("topic", "a string", text),
        ("category", "a string", text),
        ("undecodable", "a string", text),
        ("schema_version", "a string", text),
    ] {
        match o.get(field) {
            Some(Value::Null) | None => {}
            Some(v) if !ok(v) => {
                return Some(format!(
                    "\"{field}\" must be {kind} or null, found {}",
                    shown(v)
                ))
            }
            _ => {}
        }
    }
    None
}

fn import_lines(store: &mut Store, input: Box<dyn BufRead>, name: &str) -> Result<(usize, usize)> {
    let mut writer = store.writer()?;
    writer.keep_missing_times();
    let mut count = 0usize;
    let mut versions: HashMap<(String, i64), usize> = HashMap::new();
    let mut ids: HashMap<String, usize> = HashMap::new();
    let mut streams = std::collections::HashSet::new();
    let mut input = input;
    let mut buf = Vec::new();
    let mut n = 0;
    while next_line(&mut *input, &mut buf, name, n + 1)? {
        n += 1;
        let mut bytes = &buf[..];
        if n == 1 {
            // A UTF-8 byte order mark, as some editors write.
            bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
        }
        let line = std::str::from_utf8(bytes)
            .map_err(|_| anyhow!("{name}: line {n} is not UTF-8 text"))?;
        if line.trim().is_empty() {
            continue;
        }
        let value: Value =
            serde_json::from_str(line).with_context(|| format!("{name}: line {n} is not JSON"))?;
        // A test fixture's header (export-test): its events follow it.
        if value
            .get(eventscope::replay::fixture::FIXTURE_KEY)
            .is_some()
        {
            continue;
        }
        if value.is_array() {
            bail!("{name}: line {n} is a JSON array; each line must hold one envelope object (as `events --json` prints them)");
        }
        if let Some(problem) = field_problem(&value) {
            bail!("{name}: line {n}: {problem}");
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

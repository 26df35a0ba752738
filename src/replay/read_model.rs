//! A read model checked against replay: each row of the application's table beside the
//! events is compared with the reducer's state of its stream (at the row's version where
//! the table records one), through an optional jq projection; each differing field is
//! blamed on the event that last changed it. Rows without a stream are orphans, streams
//! without a row missing.

use std::collections::{BTreeSet, HashSet};
use std::ops::ControlFlow;

use serde::Serialize;
use serde_json::Value;

use super::blame::blame;
use super::diff::{diff, Op};
use super::jq::{self, JqProgram};
use super::seek::Replayer;
use super::walk::Skips;
use super::{Program, Reducer, ReplayError, Result, Watch};
use crate::store::EventSource;

/// `--read-model 'table=T,id=C,doc=C[,version=C][,stream=JQ]'` (or `columns=a,b,c` in
/// place of `doc` for a plain table: each column a field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadModelSpec {
    pub table: String,
    pub id: String,
    pub doc: Doc,
    pub version: Option<String>,
    /// jq from the row (`{id, doc, version}`) to its stream id, where the id is not it.
    pub stream: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Doc {
    /// A JSON column (jsonb, or text holding JSON).
    Column(String),
    /// Plain columns, each a field of the document.
    Columns(Vec<String>),
}

impl ReadModelSpec {
    /// Pairs split by commas (or, in a file of several lines, by lines: a `stream` program
    /// with commas needs a file); after `columns=` the names without `=` are more columns.
    pub fn parse(text: &str) -> std::result::Result<ReadModelSpec, String> {
        let items: Vec<&str> = if text.trim().contains('\n') {
            text.lines().collect()
        } else {
            text.split(',').collect()
        };
        let (mut table, mut id, mut doc, mut version, mut stream) = (None, None, None, None, None);
        let mut columns: Option<Vec<String>> = None;
        let mut last_key = "";
        for item in items
            .iter()
            .map(|i| i.trim())
            .filter(|i| !i.is_empty() && !i.starts_with('#'))
        {
            let Some((k, v)) = item.split_once('=') else {
                match (last_key, columns.as_mut()) {
                    ("columns", Some(c)) => {
                        c.push(item.to_string());
                        continue;
                    }
                    _ => return Err(format!("{item:?} is not key=value")),
                }
            };
            let (k, v) = (k.trim(), v.trim().to_string());
            if v.is_empty() {
                return Err(format!("{k} has no value"));
            }
            let slot = match k {
                "table" => &mut table,
                "id" => &mut id,
                "doc" => &mut doc,
                "version" => &mut version,
                "stream" => &mut stream,
                "columns" => {
                    if columns.replace(vec![v]).is_some() {
                        return Err("columns is given twice".into());
                    }
                    last_key = "columns";
                    continue;
                }
                other => {
                    return Err(format!(
                        "unknown key {other:?} (keys: table, id, doc, columns, version, stream)"
                    ))
                }
            };
            if slot.replace(v).is_some() {
                return Err(format!("{k} is given twice"));
            }
            last_key = "";
        }
        let need = |v: Option<String>, k: &str| {
            v.ok_or_else(|| format!("{k}= is missing; the spec is 'table=T,id=C,doc=C[,version=C][,stream=JQ]' (or columns=a,b,c for doc)"))
        };
        let doc = match (doc, columns) {
            (Some(d), None) => Doc::Column(d),
            (None, Some(c)) => Doc::Columns(c),
            (Some(_), Some(_)) => return Err("give doc= or columns=, not both".into()),
            (None, None) => need(None, "doc").map(Doc::Column)?,
        };
        Ok(ReadModelSpec {
            table: need(table, "table")?,
            id: need(id, "id")?,
            doc,
            version,
            stream,
        })
    }

    fn columns(&self) -> Vec<String> {
        let mut c = vec![self.id.clone()];
        match &self.doc {
            Doc::Column(d) => c.push(d.clone()),
            Doc::Columns(cols) => c.extend(cols.iter().cloned()),
        }
        c.extend(self.version.iter().cloned());
        c
    }
}

/// The event blamed for a differing field: the one that last changed it in the replay.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Blamed {
    pub version: i64,
    #[serde(rename = "type")]
    pub event_type: String,
    pub global_position: i64,
    pub timestamp: Option<String>,
}

/// What the check found.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(tag = "finding", rename_all = "snake_case")]
pub enum Finding {
    /// A field whose stored value is not the replayed one (absent on one side: `None`).
    Differs {
        stream: String,
        id: Value,
        version: i64,
        path: String,
        stored: Option<Value>,
        replayed: Option<Value>,
        blamed: Option<Box<Blamed>>,
    },
    /// A row whose stream the store does not have.
    Orphan {
        id: Value,
        stream: Option<String>,
        why: String,
    },
    /// A stream of the categories checked that no row stands for.
    Missing { stream: String },
    /// The replay or a program failed for this row.
    Failed {
        stream: String,
        id: Value,
        message: String,
    },
}

pub struct ReadModelCheck<'a> {
    pub spec: &'a ReadModelSpec,
    /// jq from the state to the document's shape (`--project`); the state itself if none.
    pub project: Option<&'a str>,
    /// JSON Pointers left out, with everything under them.
    pub ignore: &'a [String],
    /// The categories whose streams must each have a row; those of the rows' streams if
    /// none.
    pub categories: Option<Vec<String>>,
}

/// A row checked: the replayed document, and what was found.
struct RowCheck {
    replayed: Option<Value>,
    findings: Vec<Finding>,
}

/// The row that stands for one stream, beside its replay.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct StreamReadModel {
    pub table: String,
    pub id: Value,
    /// The version compared at: the row's, else the stream's last.
    pub version: i64,
    pub stored: Value,
    /// The replayed state through the projection; `None` where that failed.
    pub replayed: Option<Value>,
    pub findings: Vec<Finding>,
}

/// One row as read.
struct Row {
    id: Value,
    doc: Value,
    version: Option<i64>,
}

impl ReadModelCheck<'_> {
    pub fn run(
        &self,
        source: &dyn EventSource,
        reducer: &Reducer,
        replayer: &mut Replayer,
        watch: Option<&Watch>,
    ) -> Result<Vec<Finding>> {
        let (stream_of, project) = self.programs(watch)?;
        let rows = self.rows(source)?;
        let mut findings = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        let mut categories: BTreeSet<String> = BTreeSet::new();
        for (n, row) in rows.iter().enumerate() {
            let stream = stream_of_row(stream_of.as_ref(), row, watch, n);
            let stream = match stream {
                Ok(s) => s,
                Err(why) => {
                    findings.push(Finding::Orphan {
                        id: row.id.clone(),
                        stream: None,
                        why,
                    });
                    continue;
                }
            };
            let Some(last) = source.last_version(&stream)? else {
                findings.push(Finding::Orphan {
                    id: row.id.clone(),
                    stream: Some(stream),
                    why: "the store has no such stream".into(),
                });
                continue;
            };
            seen.insert(stream.clone());
            categories.insert(source.stream_category(&stream)?);
            let version = row.version.unwrap_or(last);
            let checked = self.check_row(
                source,
                reducer,
                replayer,
                watch,
                project.as_ref(),
                row,
                &stream,
                version,
            )?;
            findings.extend(checked.findings);
        }
        let wanted = self
            .categories
            .clone()
            .unwrap_or_else(|| categories.into_iter().collect());
        for category in wanted {
            for stream in source.streams_of_category(&category)? {
                if !seen.contains(&stream) {
                    findings.push(Finding::Missing { stream });
                }
            }
        }
        Ok(findings)
    }

    /// One row against its stream's replay at `version`: the replayed document (where
    /// the replay and projection ran) and what differs, each field blamed.
    #[allow(clippy::too_many_arguments)]
    fn check_row(
        &self,
        source: &dyn EventSource,
        reducer: &Reducer,
        replayer: &mut Replayer,
        watch: Option<&Watch>,
        project: Option<&JqProgram>,
        row: &Row,
        stream: &str,
        version: i64,
    ) -> Result<RowCheck> {
        let failed = |message: String| RowCheck {
            replayed: None,
            findings: vec![Finding::Failed {
                stream: stream.to_string(),
                id: row.id.clone(),
                message,
            }],
        };
        let state = match replayer.state_at(stream, version) {
            Ok(s) => s,
            Err(e @ (ReplayError::Reducer { .. } | ReplayError::OutOfRange { .. })) => {
                return Ok(failed(e.to_string()))
            }
            Err(e) => return Err(e),
        };
        let replayed = match project {
            None => state,
            Some(p) => match run_marked(p, &state, watch, version, stream) {
                Ok(v) => v,
                Err(message) => return Ok(failed(message)),
            },
        };
        let changes: Vec<_> = diff(&row.doc, &replayed)
            .into_iter()
            .filter(|c| !self.ignored(&c.path))
            .collect();
        let mut findings = Vec::new();
        if !changes.is_empty() {
            let lines = blame(
                source,
                reducer,
                stream,
                Some(version),
                &Skips::default(),
                watch,
            )?;
            for c in changes {
                let blamed = blamed_for(&c.path, &lines).map(Box::new);
                let (stored, new) = match c.op {
                    Op::Added => (None, c.new),
                    Op::Removed => (c.old, None),
                    Op::Changed => (c.old, c.new),
                };
                findings.push(Finding::Differs {
                    stream: stream.to_string(),
                    id: row.id.clone(),
                    version,
                    path: c.path,
                    stored,
                    replayed: new,
                    blamed,
                });
            }
        }
        Ok(RowCheck {
            replayed: Some(replayed),
            findings,
        })
    }

    /// The row that stands for `stream`, checked against its replay: the TUI's Read-model
    /// tab. `None` when no row maps to the stream.
    pub fn for_stream(
        &self,
        source: &dyn EventSource,
        reducer: &Reducer,
        replayer: &mut Replayer,
        watch: Option<&Watch>,
        stream: &str,
    ) -> Result<Option<StreamReadModel>> {
        let (stream_of, project) = self.programs(watch)?;
        for (n, row) in self.rows(source)?.iter().enumerate() {
            let mapped = stream_of_row(stream_of.as_ref(), row, watch, n).ok();
            if mapped.as_deref() != Some(stream) {
                continue;
            }
            let last = source.last_version(stream)?.unwrap_or(0);
            let version = row.version.unwrap_or(last);
            let checked = self.check_row(
                source,
                reducer,
                replayer,
                watch,
                project.as_ref(),
                row,
                stream,
                version,
            )?;
            return Ok(Some(StreamReadModel {
                table: self.spec.table.clone(),
                id: row.id.clone(),
                version,
                stored: row.doc.clone(),
                replayed: checked.replayed,
                findings: checked.findings,
            }));
        }
        Ok(None)
    }

    /// The `stream` and `--project` programs compiled, and named on `watch` for its reports.
    fn programs(&self, watch: Option<&Watch>) -> Result<(Option<JqProgram>, Option<JqProgram>)> {
        let compile =
            |name: &str, code: &str| JqProgram::compile(name, code).map_err(ReplayError::Program);
        let stream_of = self
            .spec
            .stream
            .as_deref()
            .map(|c| compile("--read-model stream=", c))
            .transpose()?;
        let project = self.project.map(|c| compile("--project", c)).transpose()?;
        if let Some(w) = watch {
            let named = [self.spec.stream.as_deref(), self.project]
                .into_iter()
                .flatten();
            let text: Vec<String> = named
                .map(|c| format!("`{}`", crate::event::fit(c, 60)))
                .collect();
            w.name(Program::ReadModel, &text.join(" / "));
        }
        Ok((stream_of, project))
    }

    fn ignored(&self, path: &str) -> bool {
        self.ignore.iter().any(|i| {
            path == i
                || path
                    .strip_prefix(i.as_str())
                    .is_some_and(|r| r.starts_with('/'))
        })
    }

    fn rows(&self, source: &dyn EventSource) -> Result<Vec<Row>> {
        let spec = self.spec;
        let mut out = Vec::new();
        source.table_rows(&spec.table, &spec.columns(), &mut |values| {
            let mut values = values.into_iter();
            let id = values.next().unwrap_or(Value::Null);
            let doc = match &spec.doc {
                Doc::Column(_) => as_json(values.next().unwrap_or(Value::Null)),
                Doc::Columns(cols) => Value::Object(
                    cols.iter()
                        .map(|c| (c.clone(), values.next().unwrap_or(Value::Null)))
                        .collect(),
                ),
            };
            let version = values.next().and_then(|v| match v {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            });
            out.push(Row { id, doc, version });
            Ok(ControlFlow::Continue(()))
        })?;
        Ok(out)
    }
}

/// The stream a row stands for: its id, or what the `stream` program makes of the row
/// (`{id, doc, version}`); why not, where the program fails or gives no id.
fn stream_of_row(
    program: Option<&JqProgram>,
    row: &Row,
    watch: Option<&Watch>,
    n: usize,
) -> std::result::Result<String, String> {
    let Some(p) = program else {
        return Ok(match &row.id {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
    };
    let input = serde_json::json!({"id": row.id, "doc": row.doc, "version": row.version});
    match run_marked(p, &input, watch, n as i64, "stream") {
        Ok(Value::String(s)) => Ok(s),
        Ok(other) => Err(format!("the stream program gave {other}, not a stream id")),
        Err(e) => Err(format!("the stream program failed: {e}")),
    }
}

/// A JSON column as stored: text holding JSON is read as that JSON.
fn as_json(v: Value) -> Value {
    match v {
        Value::String(s) => serde_json::from_str(&s).unwrap_or(Value::String(s)),
        other => other,
    }
}

/// Runs `program` over `input` under the guard, marked with `version` and `what`.
fn run_marked(
    program: &JqProgram,
    input: &Value,
    watch: Option<&Watch>,
    version: i64,
    what: &str,
) -> std::result::Result<Value, String> {
    let val = jq::to_val(input);
    if let Some(w) = watch {
        w.begin_as(Program::ReadModel, version, what);
    }
    let out = program.first_output(val.clone(), val);
    if let Some(w) = watch {
        w.end();
    }
    out?.map(|v| jq::from_val(&v))
        .ok_or_else(|| format!("{} gave nothing", program.name))
}

/// The event that last changed `path`: its own blame line, else the latest of the lines
/// under it (a subtree), else the line of the leaf above it that it replaced.
fn blamed_for(path: &str, lines: &[super::BlameLine]) -> Option<Blamed> {
    let to = |l: &super::BlameLine| Blamed {
        version: l.version,
        event_type: l.event_type.clone(),
        global_position: l.global_position,
        timestamp: l.timestamp.clone(),
    };
    if let Some(l) = lines.iter().find(|l| l.path == path) {
        return Some(to(l));
    }
    let under = format!("{path}/");
    if let Some(l) = lines
        .iter()
        .filter(|l| l.path.starts_with(&under))
        .max_by_key(|l| l.version)
    {
        return Some(to(l));
    }
    lines
        .iter()
        .filter(|l| path.starts_with(&format!("{}/", l.path)))
        .max_by_key(|l| l.path.len())
        .map(to)
}

//! The event-type catalog: per type its count, streams, first and last event, the schema
//! versions stored with it and the payload's shapes over time. A shape is the set of
//! field paths with their JSON types (objects flattened to paths, an array's elements
//! summarised under `path[]`); consecutive shapes are compared field by field. One pass
//! over the log; memory follows the number of shapes (capped per type) and of the
//! streams each type occurs in (a hash each).

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::ops::ControlFlow;

use serde::Serialize;
use serde_json::Value;

use super::{EventSource, LogFilter, Result};
use crate::Event;

/// The schema version of events stored without one, beside those stored with one.
pub const NO_VERSION: &str = "none";

/// Path → its JSON type(s), `number|string` where elements of one array differ.
pub type ShapeFields = BTreeMap<String, String>;

/// Where an event is, as the catalog names firsts and lasts.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Place {
    pub global_position: i64,
    pub stream_id: String,
    pub version: i64,
    pub timestamp: Option<String>,
}

impl Place {
    pub fn of(e: &Event) -> Place {
        Place {
            global_position: e.global_position,
            stream_id: e.stream_id.clone(),
            version: e.version,
            timestamp: e.timestamp.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Shape {
    pub fields: ShapeFields,
    pub count: u64,
    pub first: Place,
    pub last: Place,
}

/// What differs from one shape to the next (in order of first appearance).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ShapeChange {
    /// Indexes into `shapes`.
    pub from: usize,
    pub to: usize,
    /// Where the newer shape first appears.
    pub at: Place,
    pub added: Vec<(String, String)>,
    pub removed: Vec<(String, String)>,
    /// Path, old type, new type.
    pub retyped: Vec<(String, String, String)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct TypeEntry {
    #[serde(rename = "type")]
    pub event_type: String,
    pub count: u64,
    pub streams: u64,
    pub first: Place,
    pub last: Place,
    /// Each stored schema version and how many events carry it; empty where the layout
    /// stores none.
    pub schema_versions: BTreeMap<String, u64>,
    /// In order of first appearance.
    pub shapes: Vec<Shape>,
    /// The shape of the type's last event.
    pub newest: usize,
    pub changes: Vec<ShapeChange>,
    /// Events of shapes past the cap, not kept as shapes.
    pub other_shapes: u64,
}

/// A payload's shape: every path with its JSON type.
pub fn shape_of(e: &Event) -> ShapeFields {
    let mut fields: BTreeMap<String, BTreeSet<&'static str>> = BTreeMap::new();
    if e.undecodable.is_some() {
        fields
            .entry(String::new())
            .or_default()
            .insert("undecodable");
    } else {
        flatten(&e.data, &mut String::new(), &mut fields);
    }
    fields
        .into_iter()
        .map(|(p, t)| (p, t.into_iter().collect::<Vec<_>>().join("|")))
        .collect()
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn flatten(v: &Value, path: &mut String, out: &mut BTreeMap<String, BTreeSet<&'static str>>) {
    // The payload itself is no field when it is an object, as payloads are.
    if !(path.is_empty() && v.is_object()) {
        out.entry(path.clone()).or_default().insert(kind(v));
    }
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let len = path.len();
                path.push('/');
                path.push_str(&k.replace('~', "~0").replace('/', "~1"));
                flatten(child, path, out);
                path.truncate(len);
            }
        }
        Value::Array(items) => {
            let len = path.len();
            path.push_str("[]");
            for item in items {
                flatten(item, path, out);
            }
            path.truncate(len);
        }
        _ => {}
    }
}

/// What differs from shape `a` to shape `b`.
pub fn compare_shapes(a: &ShapeFields, b: &ShapeFields) -> ShapeDiff {
    let mut d = ShapeDiff::default();
    for (p, t) in b {
        match a.get(p) {
            None => d.added.push((p.clone(), t.clone())),
            Some(old) if old != t => d.retyped.push((p.clone(), old.clone(), t.clone())),
            Some(_) => {}
        }
    }
    for (p, t) in a {
        if !b.contains_key(p) {
            d.removed.push((p.clone(), t.clone()));
        }
    }
    d
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShapeDiff {
    pub added: Vec<(String, String)>,
    pub removed: Vec<(String, String)>,
    pub retyped: Vec<(String, String, String)>,
}

impl ShapeDiff {
    /// `/amount number → string; +/currency string; −/note string`.
    pub fn words(&self) -> String {
        words(&self.added, &self.removed, &self.retyped)
    }
}

impl ShapeChange {
    /// What changed from the shape before, as [`ShapeDiff::words`] says it.
    pub fn words(&self) -> String {
        words(&self.added, &self.removed, &self.retyped)
    }
}

fn words(
    added: &[(String, String)],
    removed: &[(String, String)],
    retyped: &[(String, String, String)],
) -> String {
    let mut parts = Vec::new();
    for (p, old, new) in retyped {
        parts.push(format!("{} {old} → {new}", shown(p)));
    }
    for (p, t) in added {
        parts.push(format!("+{} {t}", shown(p)));
    }
    for (p, t) in removed {
        parts.push(format!("−{} {t}", shown(p)));
    }
    parts.join("; ")
}

/// A path as shown: the payload itself is `/`.
pub fn shown(path: &str) -> &str {
    if path.is_empty() {
        "/"
    } else {
        path
    }
}

/// One type's catalog as the pass goes.
struct Building {
    entry: TypeEntry,
    by_key: HashMap<ShapeFields, usize>,
    streams: HashSet<u64>,
    /// Events stored without a schema version.
    unversioned: u64,
}

fn stream_hash(id: &str) -> u64 {
    let mut h = DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

/// The catalog built event by event, for passes that do more than catalogue.
pub struct CatalogBuilder {
    types: HashMap<String, Building>,
    max_shapes: usize,
}

impl CatalogBuilder {
    pub fn new(max_shapes: usize) -> CatalogBuilder {
        CatalogBuilder {
            types: HashMap::new(),
            max_shapes,
        }
    }

    /// Counts `e`, whose payload has `shape` (see [`shape_of`]).
    pub fn add(&mut self, e: &Event, shape: ShapeFields) {
        let b = match self.types.get_mut(&e.event_type) {
            Some(b) => b,
            None => self
                .types
                .entry(e.event_type.clone())
                .or_insert_with(|| Building {
                    entry: TypeEntry {
                        event_type: e.event_type.clone(),
                        count: 0,
                        streams: 0,
                        first: Place::of(e),
                        last: Place::of(e),
                        schema_versions: BTreeMap::new(),
                        shapes: Vec::new(),
                        newest: 0,
                        changes: Vec::new(),
                        other_shapes: 0,
                    },
                    by_key: HashMap::new(),
                    streams: HashSet::new(),
                    unversioned: 0,
                }),
        };
        let t = &mut b.entry;
        t.count += 1;
        t.last = Place::of(e);
        b.streams.insert(stream_hash(&e.stream_id));
        match &e.schema_version {
            Some(v) => *t.schema_versions.entry(v.clone()).or_default() += 1,
            None => b.unversioned += 1,
        }
        match b.by_key.get(&shape) {
            Some(&i) => {
                let s = &mut t.shapes[i];
                s.count += 1;
                s.last = Place::of(e);
                t.newest = i;
            }
            None if t.shapes.len() >= self.max_shapes => t.other_shapes += 1,
            None => {
                b.by_key.insert(shape.clone(), t.shapes.len());
                t.newest = t.shapes.len();
                t.shapes.push(Shape {
                    fields: shape,
                    count: 1,
                    first: Place::of(e),
                    last: Place::of(e),
                });
            }
        }
    }

    /// The shape's index among the type's shapes, once added.
    pub fn shape_index(&self, event_type: &str, shape: &ShapeFields) -> Option<usize> {
        self.types.get(event_type)?.by_key.get(shape).copied()
    }

    /// The catalog, by type name.
    pub fn finish(self) -> Vec<TypeEntry> {
        let mut out: Vec<TypeEntry> = self
            .types
            .into_values()
            .map(|mut b| {
                b.entry.streams = b.streams.len() as u64;
                // Where some events of the type carry a version, those without are named.
                if !b.entry.schema_versions.is_empty() && b.unversioned > 0 {
                    b.entry
                        .schema_versions
                        .insert(NO_VERSION.into(), b.unversioned);
                }
                b.entry.changes = b
                    .entry
                    .shapes
                    .windows(2)
                    .enumerate()
                    .map(|(i, w)| {
                        let d = compare_shapes(&w[0].fields, &w[1].fields);
                        ShapeChange {
                            from: i,
                            to: i + 1,
                            at: w[1].first.clone(),
                            added: d.added,
                            removed: d.removed,
                            retyped: d.retyped,
                        }
                    })
                    .collect();
                b.entry
            })
            .collect();
        out.sort_by(|a, b| a.event_type.cmp(&b.event_type));
        out
    }
}

/// The catalog of the events `filter` selects, by type name.
pub fn type_catalog(
    store: &dyn EventSource,
    filter: &LogFilter,
    max_shapes: usize,
) -> Result<Vec<TypeEntry>> {
    let mut catalog = CatalogBuilder::new(max_shapes);
    store.each_log_event(filter, &mut |e| {
        let shape = shape_of(&e);
        catalog.add(&e, shape);
        Ok(ControlFlow::Continue(()))
    })?;
    Ok(catalog.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(data: Value) -> Event {
        Event {
            data,
            ..Default::default()
        }
    }

    #[test]
    fn shapes_flatten_objects_and_summarise_arrays() {
        let s = shape_of(&event(json!({
            "amount": 5, "who": {"id": "a/b"}, "items": [{"qty": 1}, {"qty": "2", "sku": "x"}], "tags": []
        })));
        let want: ShapeFields = [
            ("/amount", "number"),
            ("/items", "array"),
            ("/items[]", "object"),
            ("/items[]/qty", "number|string"),
            ("/items[]/sku", "string"),
            ("/tags", "array"),
            ("/who", "object"),
            ("/who/id", "string"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        assert_eq!(s, want);
        assert_eq!(shape_of(&event(json!(3)))[""], "number");
        let a = shape_of(&event(json!({"amount": 5, "note": "x"})));
        let b = shape_of(&event(json!({"amount": "5", "currency": "EUR"})));
        assert_eq!(
            compare_shapes(&a, &b).words(),
            "/amount number → string; +/currency string; −/note string"
        );
    }
}

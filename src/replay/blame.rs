//! Blame: for every leaf of a stream's state, the event that last changed it. One walk up
//! to the version asked for; what it keeps is a tree shaped like the state, so memory
//! follows the state, not the history.

use std::collections::{BTreeSet, HashMap};
use std::ops::ControlFlow;

use serde_json::Value;

use super::walk::{Skips, Walk};
use super::{Reducer, Result, Watch};
use crate::store::EventSource;
use crate::Event;

/// One leaf and the event that last changed it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BlameLine {
    /// JSON Pointer; arrays by index.
    pub path: String,
    pub value: Value,
    pub version: i64,
    #[serde(rename = "type")]
    pub event_type: String,
    pub timestamp: Option<String>,
    pub global_position: i64,
    pub event_id: String,
}

/// The version that last changed each part of the state, shaped like it.
#[derive(Debug, Clone)]
enum Tree {
    Leaf(i64),
    Object(HashMap<String, Tree>),
    Array(Vec<Tree>),
}

/// The tree for `new`, from the tree for `old`: parts equal to before keep their blame,
/// the rest is blamed on `version`.
fn update(tree: Tree, old: Option<&Value>, new: &Value, version: i64) -> Tree {
    if old == Some(new) {
        return tree;
    }
    match new {
        Value::Object(m) if !m.is_empty() => {
            let mut before = match tree {
                Tree::Object(children) => children,
                _ => HashMap::new(),
            };
            let old = old.and_then(Value::as_object);
            Tree::Object(
                m.iter()
                    .map(|(k, child)| {
                        let t = before.remove(k).unwrap_or(Tree::Leaf(version));
                        let o = old.and_then(|o| o.get(k));
                        (k.clone(), update(t, o, child, version))
                    })
                    .collect(),
            )
        }
        Value::Array(items) if !items.is_empty() => {
            let mut before = match tree {
                Tree::Array(children) => children.into_iter(),
                _ => Vec::new().into_iter(),
            };
            let old = old.and_then(Value::as_array);
            Tree::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, child)| {
                        let t = before.next().unwrap_or(Tree::Leaf(version));
                        update(t, old.and_then(|o| o.get(i)), child, version)
                    })
                    .collect(),
            )
        }
        _ => Tree::Leaf(version),
    }
}

/// Every leaf of `value` with its blamed version, in the state's order.
fn leaves(tree: &Tree, value: &Value, path: &mut String, out: &mut Vec<(String, Value, i64)>) {
    match (tree, value) {
        (Tree::Object(children), Value::Object(m)) if !m.is_empty() => {
            for (k, v) in m {
                let len = path.len();
                path.push('/');
                path.push_str(&k.replace('~', "~0").replace('/', "~1"));
                if let Some(t) = children.get(k) {
                    leaves(t, v, path, out);
                }
                path.truncate(len);
            }
        }
        (Tree::Array(children), Value::Array(items)) if !items.is_empty() => {
            for (i, (t, v)) in children.iter().zip(items).enumerate() {
                let len = path.len();
                path.push('/');
                path.push_str(&i.to_string());
                leaves(t, v, path, out);
                path.truncate(len);
            }
        }
        (Tree::Leaf(version), v) => out.push((path.clone(), v.clone(), *version)),
        // The tree always follows the state; a mismatch cannot happen.
        _ => {}
    }
}

/// Blame of `stream` at `at` (its last version when `None`), replaying from the first
/// event. Leaves are scalars, empty objects and empty arrays.
pub fn blame(
    store: &dyn EventSource,
    reducer: &Reducer,
    stream: &str,
    at: Option<i64>,
    skips: &Skips,
    watch: Option<&Watch>,
) -> Result<Vec<BlameLine>> {
    let last = store
        .last_version(stream)?
        .ok_or_else(|| super::ReplayError::NoStream(stream.to_string()))?;
    let at = at.unwrap_or(last);
    let mut tree = Tree::Leaf(i64::MIN);
    let mut state = Value::Null;
    Walk {
        store,
        reducer,
        watch,
    }
    .run(stream, Value::Null, i64::MIN..=at, skips, |row, fold| {
        let next = fold.state();
        let t = std::mem::replace(&mut tree, Tree::Leaf(0));
        tree = update(t, Some(&state), &next, row.version());
        state = next;
        Ok(ControlFlow::Continue(()))
    })?;
    let mut found = Vec::new();
    leaves(&tree, &state, &mut String::new(), &mut found);
    // The blamed events, each read once.
    let versions: BTreeSet<i64> = found
        .iter()
        .map(|(_, _, v)| *v)
        .filter(|v| *v != i64::MIN)
        .collect();
    let mut events: HashMap<i64, Event> = HashMap::new();
    for v in versions {
        if let Some(e) = store.event_at_version(stream, v)? {
            events.insert(v, e);
        }
    }
    // A leaf no event ever set (a stream whose reducer left the state null) is nobody's.
    found.retain(|(_, _, v)| *v != i64::MIN);
    Ok(found
        .into_iter()
        .map(|(path, value, version)| {
            let e = events.get(&version);
            BlameLine {
                path,
                value,
                version,
                event_type: e.map(|e| e.event_type.clone()).unwrap_or_default(),
                timestamp: e.and_then(|e| e.timestamp.clone()),
                global_position: e.map_or(0, |e| e.global_position),
                event_id: e.map(|e| e.event_id.clone()).unwrap_or_default(),
            }
        })
        .collect())
}

//! Blame: for every leaf of a stream's state, the event that last changed it. One walk up
//! to the version asked for; what it keeps is a tree shaped like the state, so memory
//! follows the state, not the history.

use std::collections::{BTreeSet, HashMap};
use std::ops::ControlFlow;

use jaq_json::Val;
use serde_json::Value;

use super::jq;
use super::walk::{Skips, Walk};
use super::{Reducer, Result, Watch};
use crate::store::{Columns, EventSource};
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

/// The version that last changed each part of the state, shaped like it. Keys are the
/// state's own (jaq values), so that following the state costs no conversion per event.
#[derive(Debug, Clone)]
enum Tree {
    Leaf(i64),
    Object(HashMap<Val, Tree>),
    Array(Vec<Tree>),
}

/// Updates the tree for `old` to the tree for `new` in place: parts equal to before keep
/// their blame, the rest is blamed on `version`. Equal is jaq's equality, as the reducer
/// computed the state (a number rewritten as an equal number is no change).
fn update(tree: &mut Tree, old: Option<&Val>, new: &Val, version: i64) {
    if old == Some(new) {
        return;
    }
    match new {
        Val::Obj(m) if !m.is_empty() => {
            if !matches!(tree, Tree::Object(_)) {
                *tree = Tree::Object(HashMap::new());
            }
            let Tree::Object(children) = tree else {
                return;
            };
            let old = match old {
                Some(Val::Obj(o)) => Some(o),
                _ => None,
            };
            if children.len() > m.len() || children.keys().any(|k| !m.contains_key(k)) {
                children.retain(|k, _| m.contains_key(k));
            }
            for (k, child) in m.iter() {
                let o = old.and_then(|o| o.get(k));
                match children.get_mut(k) {
                    Some(t) => update(t, o, child, version),
                    None => {
                        let mut t = Tree::Leaf(version);
                        update(&mut t, None, child, version);
                        children.insert(k.clone(), t);
                    }
                }
            }
        }
        Val::Arr(items) if !items.is_empty() => {
            if !matches!(tree, Tree::Array(_)) {
                *tree = Tree::Array(Vec::new());
            }
            let Tree::Array(children) = tree else {
                return;
            };
            let old = match old {
                Some(Val::Arr(o)) => Some(o),
                _ => None,
            };
            children.truncate(items.len());
            for (i, child) in items.iter().enumerate() {
                let o = old.and_then(|o| o.get(i));
                match children.get_mut(i) {
                    Some(t) => update(t, o, child, version),
                    None => {
                        let mut t = Tree::Leaf(version);
                        update(&mut t, None, child, version);
                        children.push(t);
                    }
                }
            }
        }
        _ => *tree = Tree::Leaf(version),
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
                if let Some(t) = children.get(&Val::utf8_str(k.as_bytes().to_vec())) {
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
    let mut state = Val::Null;
    Walk {
        store,
        reducer,
        watch,
    }
    .run(
        stream,
        Value::Null,
        i64::MIN..=at,
        skips,
        Columns::NONE,
        |row, fold| {
            let next = fold.val();
            update(&mut tree, Some(&state), &next, row.version());
            state = next;
            Ok(ControlFlow::Continue(()))
        },
    )?;
    let state = jq::from_val(&state);
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

//! Correlation and causation: every event that shares an event's correlation id, across
//! all streams, with the causation links between them as a tree.

use std::collections::HashMap;
use std::ops::ControlFlow;

use serde_json::Value;

use super::{EventSource, LogFilter, Result, SourceExt, Store, StoreError, StreamRow};
use crate::Event;

/// Which metadata keys hold the correlation and causation ids, tried in order.
#[derive(Debug, Clone)]
pub struct RelatedKeys {
    pub correlation: Vec<String>,
    pub causation: Vec<String>,
}

impl Default for RelatedKeys {
    /// The common spellings (camel case, snake case, Message DB's and EventStore's).
    fn default() -> Self {
        let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        RelatedKeys {
            correlation: own(&[
                "correlationId",
                "correlation_id",
                "$correlationId",
                "correlationStreamName",
            ]),
            causation: own(&["causationId", "causation_id", "$causationId"]),
        }
    }
}

/// The events that share a correlation id, in global order, with their place in the
/// causation tree.
#[derive(Debug, Clone)]
pub struct Related {
    /// The event asked about: an index into `events`.
    pub asked: usize,
    /// The metadata key the correlation id was found under, and the id.
    pub key: String,
    pub correlation_id: String,
    pub events: Vec<Event>,
    /// For each event, the index of the event that caused it, when that is in the set.
    pub parents: Vec<Option<usize>>,
}

/// The id under the first of `keys` the metadata has: a string or a number, compared as
/// the JSON value it is (so `42` and `"42"` are different ids, and an escaped spelling,
/// `"caf\u00e9-1"`, is the same id as `"café-1"`).
fn id_at(metadata: &Value, keys: &[String]) -> Option<(String, Value)> {
    keys.iter().find_map(|k| {
        let v = metadata.get(k)?;
        matches!(v, Value::String(_) | Value::Number(_)).then(|| (k.clone(), v.clone()))
    })
}

fn id_text(id: &Value) -> String {
    match id {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Whether a row's raw metadata may hold `needle`: its bytes appear as they are, or the
/// metadata has escapes (`\u00e9`, `\/`) that could spell it another way.
fn may_hold(metadata: &[u8], needle: &str) -> bool {
    needle.is_empty()
        || metadata.contains(&b'\\')
        || metadata
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
}

impl Related {
    /// Depth of each event in the causation tree as [`Related::tree_order`] draws it (0
    /// for roots, and for the event a causation cycle is drawn from).
    pub fn depths(&self) -> Vec<usize> {
        let mut depths = vec![0; self.events.len()];
        for (i, depth) in self.tree_order() {
            depths[i] = depth;
        }
        depths
    }

    /// The events in tree order (each cause before its effects, siblings in global
    /// order), with their depth.
    pub fn tree_order(&self) -> Vec<(usize, usize)> {
        let mut children: HashMap<Option<usize>, Vec<usize>> = HashMap::new();
        for (i, p) in self.parents.iter().enumerate() {
            children.entry(*p).or_default().push(i);
        }
        let mut out = Vec::new();
        let mut seen = vec![false; self.events.len()];
        let mut draw = |mut stack: Vec<(usize, usize)>, out: &mut Vec<(usize, usize)>| {
            while let Some((i, depth)) = stack.pop() {
                if std::mem::replace(&mut seen[i], true) {
                    continue;
                }
                out.push((i, depth));
                if let Some(c) = children.get(&Some(i)) {
                    stack.extend(c.iter().rev().map(|&k| (k, depth + 1)));
                }
            }
        };
        let roots = children
            .get(&None)
            .map(|r| r.iter().rev().map(|&i| (i, 0)).collect())
            .unwrap_or_default();
        draw(roots, &mut out);
        // Events on a causation cycle have no root: each cycle is drawn once, from the
        // asked event if it is on one, else from its first event in global order.
        for start in std::iter::once(self.asked).chain(0..self.events.len()) {
            draw(vec![(start, 0)], &mut out);
        }
        out
    }

    /// Whether `i` is a cause of the asked event (on its chain up) or one of its effects.
    /// On a causation cycle an event is both; the nearer relation wins (in a → b → c → a,
    /// asked about b: a caused b, c was caused by b).
    pub fn relation(&self, i: usize) -> Relation {
        if i == self.asked {
            return Relation::Asked;
        }
        let steps_up = |mut k: usize, target: usize| {
            for step in 1..=self.events.len() {
                match self.parents[k] {
                    Some(p) if p == target => return Some(step),
                    Some(p) => k = p,
                    None => return None,
                }
            }
            None
        };
        match (steps_up(self.asked, i), steps_up(i, self.asked)) {
            (Some(up), Some(down)) if down < up => Relation::Effect,
            (Some(_), _) => Relation::Cause,
            (None, Some(_)) => Relation::Effect,
            (None, None) => Relation::Other,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    Asked,
    Cause,
    Effect,
    Other,
}

impl Store {
    /// The event with this id, or at this global position when `id` is a number no
    /// event has as its id.
    pub fn find_event(&self, id: &str) -> Result<Option<Event>> {
        if let Some(column) = &self.mapping.event_id {
            let sql = format!(
                "SELECT {} FROM {}{} LIMIT 1",
                self.mapping.select_list(),
                self.mapping.table,
                self.mapping.where_clause(&format!("{column} = ?1"))
            );
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let mut rows = stmt.query([id])?;
            if let Some(row) = rows.next()? {
                return Ok(Some(super::decode::event_from_row(row, &self.mapping)?));
            }
        }
        match id.parse::<i64>() {
            Ok(p) => self.event_at_position(p),
            Err(_) => Ok(None),
        }
    }
}

/// Every event sharing the correlation id of the event `id`, in global order, with
/// causation links. One pass over the log, testing the raw metadata for the id's text
/// before decoding a row.
pub(super) fn related<S: EventSource + ?Sized>(
    store: &S,
    id: &str,
    keys: &RelatedKeys,
) -> Result<Related> {
    let asked = store
        .find_event(id)?
        .ok_or_else(|| StoreError::NoSuchEvent(id.to_string()))?;
    let Some((key, correlation)) = id_at(&asked.metadata, &keys.correlation) else {
        return Err(StoreError::NoCorrelation {
            id: asked.event_id.clone(),
            keys: keys.correlation.join(", "),
        });
    };
    let needle = id_text(&correlation);
    let mut events = Vec::new();
    store.search_log(
        &LogFilter::default(),
        |row| {
            Ok::<_, StoreError>(match row {
                StreamRow::Raw(r) => r.metadata.is_some_and(|m| may_hold(m, &needle)),
                StreamRow::Event(_) => true,
            })
        },
        |e| {
            if id_at(&e.metadata, &keys.correlation).is_some_and(|(_, c)| c == correlation) {
                events.push(e);
            }
            Ok(ControlFlow::Continue(()))
        },
    )?;
    // Read again by id, the asked event is always there, even if the log read missed it.
    let asked = match events
        .iter()
        .position(|e| e.global_position == asked.global_position)
    {
        Some(i) => i,
        None => {
            let at = events.partition_point(|e| e.global_position < asked.global_position);
            events.insert(at, asked);
            at
        }
    };
    let by_id: HashMap<&str, usize> = events
        .iter()
        .enumerate()
        .map(|(i, e)| (e.event_id.as_str(), i))
        .collect();
    let parents = events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            id_at(&e.metadata, &keys.causation)
                .and_then(|(_, c)| by_id.get(id_text(&c).as_str()).copied())
                .filter(|&p| p != i)
        })
        .collect();
    let correlation_id = id_text(&correlation);
    Ok(Related {
        asked,
        key,
        correlation_id,
        events,
        parents,
    })
}

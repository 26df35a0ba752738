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

fn string_at(metadata: &Value, keys: &[String]) -> Option<(String, String)> {
    keys.iter().find_map(|k| {
        let v = metadata.get(k)?;
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return None,
        };
        Some((k.clone(), text))
    })
}

impl Related {
    /// Depth of each event in the causation tree (0 for roots).
    pub fn depths(&self) -> Vec<usize> {
        (0..self.events.len())
            .map(|mut i| {
                let mut d = 0;
                while let Some(p) = self.parents[i] {
                    d += 1;
                    i = p;
                    if d > self.events.len() {
                        break; // A causation cycle: stop rather than loop.
                    }
                }
                d
            })
            .collect()
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
        let mut stack: Vec<(usize, usize)> = children
            .get(&None)
            .map(|r| r.iter().rev().map(|&i| (i, 0)).collect())
            .unwrap_or_default();
        while let Some((i, depth)) = stack.pop() {
            if std::mem::replace(&mut seen[i], true) {
                continue;
            }
            out.push((i, depth));
            if let Some(c) = children.get(&Some(i)) {
                stack.extend(c.iter().rev().map(|&k| (k, depth + 1)));
            }
        }
        // Events on a causation cycle have no root; list them after the rest.
        out.extend((0..self.events.len()).filter(|&i| !seen[i]).map(|i| (i, 0)));
        out
    }

    /// Whether `i` is a cause of the asked event (on its chain up) or one of its effects.
    pub fn relation(&self, i: usize) -> Relation {
        if i == self.asked {
            return Relation::Asked;
        }
        let up = |mut k: usize, target: usize| {
            for _ in 0..self.events.len() {
                match self.parents[k] {
                    Some(p) if p == target => return true,
                    Some(p) => k = p,
                    None => return false,
                }
            }
            false
        };
        if up(self.asked, i) {
            Relation::Cause
        } else if up(i, self.asked) {
            Relation::Effect
        } else {
            Relation::Other
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
    let Some((key, correlation_id)) = string_at(&asked.metadata, &keys.correlation) else {
        return Err(StoreError::NoCorrelation {
            id: asked.event_id.clone(),
            keys: keys.correlation.join(", "),
        });
    };
    let needle = correlation_id.clone();
    let mut events = Vec::new();
    store.search_log(
        &LogFilter::default(),
        |row| {
            Ok::<_, StoreError>(match row {
                StreamRow::Raw(r) => r.metadata.is_some_and(|m| {
                    m.windows(needle.len().max(1))
                        .any(|w| w == needle.as_bytes())
                }),
                StreamRow::Event(_) => true,
            })
        },
        |e| {
            if string_at(&e.metadata, &keys.correlation).is_some_and(|(_, c)| c == needle) {
                events.push(e);
            }
            Ok(ControlFlow::Continue(()))
        },
    )?;
    let by_id: HashMap<&str, usize> = events
        .iter()
        .enumerate()
        .map(|(i, e)| (e.event_id.as_str(), i))
        .collect();
    let parents = events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            string_at(&e.metadata, &keys.causation)
                .and_then(|(_, c)| by_id.get(c.as_str()).copied())
                .filter(|&p| p != i)
        })
        .collect();
    let asked = events
        .iter()
        .position(|e| e.global_position == asked.global_position)
        .unwrap_or(0);
    Ok(Related {
        asked,
        key,
        correlation_id,
        events,
        parents,
    })
}

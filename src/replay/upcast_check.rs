//! Do the upcasters bring every stored event to its type's newest shape? One pass over
//! the log: each event is catalogued as stored and upcast; at the end, each stored shape
//! whose upcast events do not all have the newest shape (of the type they are upcast to)
//! is reported once, with its first such event. An upcaster that fails is reported the
//! same way. Memory follows the shapes, not the events.

use std::collections::HashMap;
use std::ops::ControlFlow;

use super::upcast::Upcasters;
use super::{Result, Watch};
use crate::store::types::{
    compare_shapes, shape_of, CatalogBuilder, Place, ShapeFields, TypeEntry,
};
use crate::store::{EventSource, LogFilter};

/// What is wrong with the upcast events of one stored shape.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum UpcastProblem {
    /// The upcast payload has another shape than the newest: what differs.
    NotNewest {
        /// The type the events are upcast to, and its newest shape (from 1).
        upcast_type: String,
        newest_shape: usize,
        differs: String,
    },
    Failed {
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct UpcastFinding {
    #[serde(rename = "type")]
    pub event_type: String,
    /// The stored shape (from 1, as `types` numbers them).
    pub stored_shape: usize,
    /// The upcaster that applied, if one did.
    pub upcaster: Option<String>,
    /// How many events of that stored shape have this problem, and the first of them.
    pub events: u64,
    pub first: Place,
    #[serde(flatten)]
    pub problem: UpcastProblem,
}

/// What the upcast events of one stored shape came out as.
#[derive(Default)]
struct Outcomes {
    /// Upcast type and shape → count and first event.
    shapes: HashMap<(String, ShapeFields), (u64, Place, Option<String>)>,
    failed: Option<(u64, Place, Option<String>, String)>,
}

/// How an upcast shape falls short of the newest: `missing /currency string; /amount is
/// string, the newest has number; extra /note string`.
fn short_of(newest: &ShapeFields, upcast: &ShapeFields) -> String {
    let d = compare_shapes(newest, upcast);
    let shown = crate::store::types::shown;
    let mut parts: Vec<String> = d
        .removed
        .iter()
        .map(|(p, t)| format!("missing {} {t}", shown(p)))
        .collect();
    parts.extend(
        d.retyped
            .iter()
            .map(|(p, want, got)| format!("{} is {got}, the newest has {want}", shown(p))),
    );
    parts.extend(
        d.added
            .iter()
            .map(|(p, t)| format!("extra {} {t}", shown(p))),
    );
    parts.join("; ")
}

/// The stored catalog, and what the upcasters leave short of the newest shapes.
pub fn check_upcasters(
    store: &dyn EventSource,
    upcasters: &Upcasters,
    watch: Option<&Watch>,
    max_shapes: usize,
) -> Result<(Vec<TypeEntry>, Vec<UpcastFinding>)> {
    let mut stored = CatalogBuilder::new(max_shapes);
    // (stored type, stored shape) → outcomes; shapes past the cap are left out.
    let mut outcomes: HashMap<(String, usize), Outcomes> = HashMap::new();
    store.each_log_event(&LogFilter::default(), &mut |e| {
        let shape = shape_of(&e);
        stored.add(&e, shape.clone());
        let Some(index) = stored.shape_index(&e.event_type, &shape) else {
            return Ok(ControlFlow::Continue(()));
        };
        let key = (e.event_type.clone(), index);
        let file = upcasters.file_for(&e).map(str::to_string);
        let place = Place::of(&e);
        let entry = outcomes.entry(key).or_default();
        match upcasters.apply(e, watch) {
            Ok(up) => {
                let up_shape = shape_of(&up);
                let slot = entry
                    .shapes
                    .entry((up.event_type.clone(), up_shape.clone()))
                    .or_insert((0, place, file));
                slot.0 += 1;
            }
            Err(err) => {
                let slot = entry
                    .failed
                    .get_or_insert((0, place, file, err.to_string()));
                slot.0 += 1;
            }
        }
        Ok(ControlFlow::Continue(()))
    })?;
    let catalog = stored.finish();
    // The newest shape of each type is the stored one: upcasters bring old events up to
    // what the application writes now.
    let newest: HashMap<&str, (usize, &ShapeFields)> = catalog
        .iter()
        .filter_map(|t| {
            let s = t.shapes.get(t.newest)?;
            Some((t.event_type.as_str(), (t.newest, &s.fields)))
        })
        .collect();
    let mut findings = Vec::new();
    for ((ty, index), o) in outcomes {
        if let Some((events, first, upcaster, message)) = o.failed {
            findings.push(UpcastFinding {
                event_type: ty.clone(),
                stored_shape: index + 1,
                upcaster,
                events,
                first,
                problem: UpcastProblem::Failed { message },
            });
        }
        for ((up_type, shape), (events, first, upcaster)) in o.shapes {
            let (newest_shape, differs) = match newest.get(up_type.as_str()) {
                Some((_, fields)) if **fields == shape => continue,
                Some((n, fields)) => (n + 1, short_of(fields, &shape)),
                // Upcast to a type never stored: it has no newest shape to meet.
                None => (
                    0,
                    format!("upcast to type {up_type}, which no stored event has"),
                ),
            };
            findings.push(UpcastFinding {
                event_type: ty.clone(),
                stored_shape: index + 1,
                upcaster,
                events,
                first,
                problem: UpcastProblem::NotNewest {
                    upcast_type: up_type,
                    newest_shape,
                    differs,
                },
            });
        }
    }
    findings.sort_by_key(|f| f.first.global_position);
    Ok((catalog, findings))
}

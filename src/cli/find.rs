//! `related`: an event's correlation, as a causation tree.

use anyhow::Result;
use eventscope::store::{RelatedKeys, Relation, Store};
use serde_json::Value;

use super::output::{Out, Paint};

pub fn related(store: &Store, id: &str, keys: &RelatedKeys, json: bool) -> Result<()> {
    let r = store.related(id, keys)?;
    let mut o = Out::stdout();
    if json {
        let depths = r.depths();
        for (i, e) in r.events.iter().enumerate() {
            let mut v = serde_json::to_value(e)?;
            if let Value::Object(m) = &mut v {
                m.insert("depth".into(), depths[i].into());
                m.insert(
                    "parent".into(),
                    r.parents[i].map_or(Value::Null, |p| r.events[p].event_id.clone().into()),
                );
            }
            o.json_line(&v)?;
        }
        o.flush()?;
        return Ok(());
    }
    let header = format!(
        "{} events share {} {} · causes above the event asked about (▶), effects below",
        r.events.len(),
        eventscope::printable(&r.key),
        eventscope::printable(&r.correlation_id)
    );
    let header = o.paint(Paint::Dim, &header);
    o.line(&header)?;
    for (i, depth) in r.tree_order() {
        let e = &r.events[i];
        let (mark, word) = match r.relation(i) {
            Relation::Asked => ("▶ ", ""),
            Relation::Cause => ("  ", " (cause)"),
            Relation::Effect => ("  ", " (effect)"),
            Relation::Other => ("  ", ""),
        };
        let time = e
            .timestamp
            .as_deref()
            .map(|t| eventscope::time::display(t, false))
            .unwrap_or_default();
        let line = format!(
            "{mark}{}{} {} v{} {} {}{word}",
            "  ".repeat(depth),
            e.global_position,
            eventscope::printable(&e.stream_id),
            e.version,
            eventscope::printable(&e.event_type),
            time,
        );
        let line = if r.relation(i) == Relation::Asked {
            o.paint(Paint::Yellow, &line)
        } else {
            line
        };
        o.line(&line)?;
    }
    o.flush()?;
    Ok(())
}

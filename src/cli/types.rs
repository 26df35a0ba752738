//! `types`: the event-type catalog, for people (each type, its shapes and what changed
//! between them) or as one JSON object per type.

use anyhow::Result;
use eventscope::store::types::{shown, type_catalog, Place, TypeEntry};
use eventscope::store::{EventSource, LogFilter};

use super::output::{Out, Paint};

/// The shapes kept per type where no --max-shapes says otherwise.
pub const MAX_SHAPES: usize = 50;

pub fn run(
    store: &dyn EventSource,
    category: Option<&str>,
    event_type: Option<&str>,
    max_shapes: usize,
    json: bool,
) -> Result<()> {
    let streams = match category {
        Some(c) => {
            let s = store.streams_of_category(c)?;
            if s.is_empty() {
                anyhow::bail!("no stream of category {}", eventscope::printable(c));
            }
            Some(s)
        }
        None => None,
    };
    let filter = LogFilter {
        streams,
        event_type: event_type.map(str::to_string),
        ..Default::default()
    };
    let types = type_catalog(store, &filter, max_shapes)?;
    let mut o = Out::stdout();
    if json {
        for t in &types {
            o.json_line(t)?;
        }
        return Ok(o.flush()?);
    }
    if types.is_empty() {
        o.line("no events")?;
    }
    for t in &types {
        print_type(&mut o, t, max_shapes)?;
    }
    Ok(o.flush()?)
}

fn place(p: &Place) -> String {
    let time = p
        .timestamp
        .as_deref()
        .map(|t| format!(", {}", eventscope::time::display(t, false)))
        .unwrap_or_default();
    format!(
        "position {} ({} v{}{time})",
        eventscope::thousands(p.global_position),
        eventscope::printable(&p.stream_id),
        p.version
    )
}

fn print_type(o: &mut Out, t: &TypeEntry, max_shapes: usize) -> Result<()> {
    let name = o.paint(Paint::Bold, &eventscope::printable(&t.event_type));
    o.line(&format!(
        "{name}  {} in {}",
        eventscope::count(t.count as i64, "event"),
        eventscope::count(t.streams as i64, "stream"),
    ))?;
    o.line(&format!("  first at {}", place(&t.first)))?;
    o.line(&format!("  last at {}", place(&t.last)))?;
    if !t.schema_versions.is_empty() {
        let versions: Vec<String> = t
            .schema_versions
            .iter()
            .map(|(v, n)| {
                format!(
                    "{} ({})",
                    eventscope::printable(v),
                    eventscope::thousands(*n as i64)
                )
            })
            .collect();
        o.line(&format!("  schema versions: {}", versions.join(", ")))?;
    }
    for (i, s) in t.shapes.iter().enumerate() {
        let newest = if i == t.newest { "  ← newest" } else { "" };
        let head = format!(
            "  shape {}: {} · {} … {}{newest}",
            i + 1,
            eventscope::count(s.count as i64, "event"),
            eventscope::thousands(s.first.global_position),
            eventscope::thousands(s.last.global_position),
        );
        let head = o.paint(Paint::Dim, &head);
        o.line(&head)?;
        let fields: Vec<String> = s
            .fields
            .iter()
            .map(|(p, ty)| format!("{} {ty}", eventscope::printable(shown(p))))
            .collect();
        o.line(&format!("    {}", fields.join(", ")))?;
        if let Some(c) = t.changes.iter().find(|c| c.to == i) {
            let line = format!(
                "    from position {}: {}",
                eventscope::thousands(c.at.global_position),
                eventscope::printable(&c.words())
            );
            let line = o.paint(Paint::Yellow, &line);
            o.line(&line)?;
        }
    }
    if t.other_shapes > 0 {
        o.line(&format!(
            "  … {} of further shapes not kept (at most {max_shapes} shapes a type; --max-shapes keeps more)",
            eventscope::count(t.other_shapes as i64, "event")
        ))?;
    }
    Ok(())
}

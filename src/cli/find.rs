//! `related`: an event's correlation, as a causation tree; `stats`: what a store holds.

use anyhow::Result;
use eventscope::store::{EventSource, LogFilter, RelatedKeys, Relation};
use serde_json::Value;

use super::output::{table, Out, Paint};

pub fn related(store: &dyn EventSource, id: &str, keys: &RelatedKeys, json: bool) -> Result<()> {
    let r = store.related(id, keys)?;
    let mut o = Out::stdout();
    if json {
        let depths = r.depths();
        for (i, e) in r.events.iter().enumerate() {
            let mut v = serde_json::to_value(e)?;
            if let Value::Object(m) = &mut v {
                m.insert("depth".into(), depths[i].into());
                let relation = match r.relation(i) {
                    Relation::Asked => "asked",
                    Relation::Cause => "cause",
                    Relation::Effect => "effect",
                    Relation::Other => "other",
                };
                m.insert("relation".into(), relation.into());
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

pub fn stats(
    store: &dyn EventSource,
    stream: Option<String>,
    category: Option<&str>,
    bucket: Option<i64>,
    json: bool,
) -> Result<()> {
    if let Some(s) = &stream {
        drop(super::answer::need_stream(store, s)?);
    }
    let streams = category
        .map(|c| super::events::category_streams(store, c))
        .transpose()?;
    let filter = LogFilter {
        stream,
        streams,
        ..Default::default()
    };
    let st = store.stats(&filter, bucket)?;
    let mut o = Out::stdout();
    if json {
        o.json_line(&st)?;
        o.flush()?;
        return Ok(());
    }
    let time = |t: &Option<String>| {
        t.as_deref()
            .map(|t| eventscope::time::display(t, false))
            .unwrap_or_else(|| "-".into())
    };
    let head = format!(
        "{} in {}, {} → {} UTC",
        eventscope::count(st.events, "event"),
        eventscope::count(st.streams as u64, "stream"),
        time(&st.first_time),
        time(&st.last_time)
    );
    let head = o.paint(Paint::Dim, &head);
    o.line(&head)?;
    let l = &st.stream_length;
    o.line(&format!(
        "stream length: p50 {}, p90 {}, p99 {}, max {}",
        l.p50, l.p90, l.p99, l.max
    ))?;
    if st.untimed > 0 {
        o.line(&format!("{} events have no readable time", st.untimed))?;
    }
    let count_rows = |m: &std::collections::BTreeMap<String, u64>| -> Vec<Vec<String>> {
        let mut rows: Vec<(&String, &u64)> = m.iter().collect();
        rows.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        rows.into_iter()
            .map(|(k, n)| vec![k.clone(), n.to_string()])
            .collect()
    };
    o.line("")?;
    for line in table(&["TYPE", "EVENTS"], &count_rows(&st.types)) {
        o.line(&line)?;
    }
    o.line("")?;
    for line in table(&["CATEGORY", "EVENTS"], &count_rows(&st.categories)) {
        o.line(&line)?;
    }
    if let Some(size) = &st.bucket {
        o.line("")?;
        let most = st
            .buckets
            .iter()
            .map(|b| b.events)
            .max()
            .unwrap_or(1)
            .max(1);
        let rows: Vec<Vec<String>> = st
            .buckets
            .iter()
            .map(|b| {
                let bar = "█".repeat(((b.events * 40).div_ceil(most)) as usize);
                vec![
                    eventscope::time::display(&b.start, false),
                    b.events.to_string(),
                    bar,
                ]
            })
            .collect();
        for line in table(&[&format!("{size} FROM (UTC)"), "EVENTS", ""], &rows) {
            o.line(&line)?;
        }
    }
    o.flush()?;
    Ok(())
}

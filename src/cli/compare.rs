//! `compare-reducers`: every stream of a scope through two reducers; where they part, the
//! first version, the event and the changes.

use std::path::Path;

use anyhow::{bail, Result};
use eventscope::replay::compare::{compare_stream, Comparison, Side};
use eventscope::replay::Reducer;
use eventscope::store::EventSource;

use super::args::ReplayArgs;
use super::output::{Out, Paint};

pub struct Scope<'a> {
    pub category: Option<&'a str>,
    pub stream: Option<&'a str>,
    pub at_time: Option<&'a str>,
}

pub fn run(
    store: &dyn EventSource,
    replay: &ReplayArgs,
    against: &Path,
    scope: &Scope,
    json: bool,
) -> Result<()> {
    let a = super::commands::load_reducer(replay)?;
    let b = Reducer::load(against)?;
    let watch = super::commands::guard(store, &replay.limits)?;
    let streams = match (scope.stream, scope.category) {
        (Some(s), _) => {
            drop(super::answer::need_stream(store, s)?);
            vec![s.to_string()]
        }
        (None, Some(c)) => super::events::category_streams(store, c)?,
        (None, None) => store.streams()?.into_iter().map(|s| s.stream_id).collect(),
    };
    let until_time = scope
        .at_time
        .map(eventscope::time::parse_time_bound)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let mut found: Vec<(String, Comparison)> = Vec::new();
    let mut before = 0;
    for stream in &streams {
        let until = match until_time {
            None => None,
            Some(t) => match store.version_at_time(stream, t)? {
                Some(v) => Some(v),
                None => {
                    before += 1;
                    continue;
                }
            },
        };
        let c = compare_stream(store, &a, &b, stream, until, Some(&watch))?;
        found.push((stream.clone(), c));
    }
    // B failing where A does not first, then A failing, then differing, then equal.
    let rank = |c: &Comparison| match c {
        Comparison::Fails { side: Side::B, .. } => 0,
        Comparison::Fails { .. } => 1,
        Comparison::Differ { .. } => 2,
        Comparison::Equal { .. } => 3,
    };
    found.sort_by_key(|(_, c)| rank(c));
    let mut o = Out::stdout();
    let failing = found.iter().filter(|(_, c)| rank(c) < 2).count();
    let differing = found.iter().filter(|(_, c)| rank(c) == 2).count();
    let equal = found.len() - failing - differing;
    if json {
        for (stream, c) in &found {
            let mut v = serde_json::to_value(c)?;
            v["stream"] = serde_json::Value::String(stream.clone());
            o.json_line(&v)?;
        }
    } else {
        let name = |side: Side| match side {
            Side::A => "A",
            Side::B => "B",
        };
        for (stream, c) in &found {
            let stream = eventscope::printable(stream);
            match c {
                Comparison::Equal { .. } => {}
                Comparison::Fails {
                    side,
                    version,
                    event_type,
                    message,
                    both,
                } => {
                    let who = if *both {
                        "A and B fail"
                    } else {
                        &format!("{} fails", name(*side))
                    };
                    let line = format!(
                        "{stream}: {who} at v{version} ({}): {}",
                        eventscope::printable(event_type),
                        eventscope::printable(message)
                    );
                    let line = o.paint(Paint::Red, &line);
                    o.line(&line)?;
                }
                Comparison::Differ {
                    version,
                    event_type,
                    position,
                    changes,
                } => {
                    o.line(&format!(
                        "{stream}: first differs at v{version} ({}, #{position}), A → B:",
                        eventscope::printable(event_type)
                    ))?;
                    for ch in changes {
                        let line = super::answer::change_line(&o, ch);
                        o.line(&format!("    {line}"))?;
                    }
                }
            }
        }
        let mut summary = format!(
            "{} streams compared: {equal} equal, {differing} differing, {failing} failing",
            found.len()
        );
        if before > 0 {
            summary.push_str(&format!(" ({before} with no event by then left out)"));
        }
        let summary = o.paint(Paint::Dim, &summary);
        o.line(&summary)?;
    }
    o.flush()?;
    if failing + differing > 0 {
        bail!(
            "the reducers differ on {} of {} streams",
            failing + differing,
            found.len()
        );
    }
    Ok(())
}

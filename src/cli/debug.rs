//! The debugger's commands: `blame`, `when`, `whatif` and `state --category`. Each is a
//! function of the replay core; this prints its answer for people or as JSON lines.

use anyhow::{anyhow, bail, Result};
use eventscope::replay::{Predicate, Skips, WhenOptions};
use eventscope::store::EventSource;
use serde_json::json;

use super::answer::{need_stream, print_changes, replayer, what_if_words};
use super::args::ReplayArgs;
use super::commands::load_reducer;
use super::output::{table, Out, Paint};

/// Blame, when and a category at a time must see every event: snapshots do not apply.
fn from_first_event(args: &ReplayArgs, command: &str) -> Result<()> {
    if args.from_snapshots {
        bail!("{command} replays from the first event, since it must see every event; --from-snapshots does not apply");
    }
    Ok(())
}

pub fn blame(
    store: &dyn EventSource,
    stream: &str,
    at: Option<i64>,
    skips: &Skips,
    args: &ReplayArgs,
    json: bool,
) -> Result<()> {
    from_first_event(args, "blame")?;
    let _left_out = need_stream(store, stream)?;
    let reducer = load_reducer(args)?;
    if let Some(v) = at {
        let last = store.last_version(stream)?.unwrap_or(0);
        if v > last {
            bail!("{stream} ends at version {last}; version {v} does not exist");
        }
    }
    let watch = super::commands::guard(store, &args.limits)?;
    let lines = eventscope::replay::blame(store, &reducer, stream, at, skips, Some(&watch))?;
    let mut o = Out::stdout();
    if json {
        for l in &lines {
            o.json_line(l)?;
        }
        o.flush()?;
        return Ok(());
    }
    let category = store.stream_category(stream)?;
    let header = format!(
        "{}{} at {} · reducer: {} · replayed from the first event",
        what_if_words(skips),
        eventscope::printable(stream),
        at.map_or("its last version".into(), |v| format!("version {v}")),
        eventscope::printable(&super::commands::describe(&reducer, args, &category)),
    );
    let header = o.paint(Paint::Dim, &header);
    o.line(&header)?;
    let rows: Vec<Vec<String>> = lines
        .iter()
        .map(|l| {
            vec![
                l.path.clone(),
                l.value.to_string(),
                l.version.to_string(),
                l.event_type.clone(),
                l.timestamp
                    .as_deref()
                    .map(|t| eventscope::time::display(t, false))
                    .unwrap_or_default(),
            ]
        })
        .collect();
    for line in table(&["PATH", "VALUE", "VERSION", "TYPE", "TIME (UTC)"], &rows) {
        o.line(&line)?;
    }
    o.flush()?;
    Ok(())
}

pub fn when(
    store: &dyn EventSource,
    words: &[String],
    category: Option<&str>,
    options: WhenOptions,
    args: &ReplayArgs,
    json: bool,
) -> Result<()> {
    let (stream, code) = match (category, words) {
        (Some(_), [code]) => (None, code),
        (None, [stream, code]) => (Some(stream.as_str()), code),
        (Some(_), _) => bail!("with --category, give only the PREDICATE"),
        (None, _) => bail!("give STREAM and PREDICATE (or --category CAT and PREDICATE)"),
    };
    from_first_event(args, "when")?;
    let predicate = Predicate::compile(code).map_err(|e| anyhow!("{e}"))?;
    let reducer = load_reducer(args)?;
    let hits = match (stream, category) {
        (Some(stream), _) => {
            let _left_out = need_stream(store, stream)?;
            let watch = super::commands::guard(store, &args.limits)?;
            let skips = Skips::default();
            eventscope::replay::when(
                store,
                &reducer,
                stream,
                &predicate,
                options,
                &skips,
                Some(&watch),
            )?
        }
        (None, Some(category)) => {
            let watch = super::commands::guard(store, &args.limits)?;
            eventscope::replay::when_category(
                store,
                &reducer,
                category,
                &predicate,
                options,
                Some(&watch),
            )?
        }
        (None, None) => Vec::new(),
    };
    if hits.is_empty() {
        let what = stream.map_or_else(
            || format!("any stream of {}", category.unwrap_or_default()),
            str::to_string,
        );
        bail!("never holds: {code} on {}", eventscope::printable(&what));
    }
    let mut o = Out::stdout();
    for h in &hits {
        let event = store.event_at_version(&h.stream_id, h.version)?;
        let (ty, time) = event.as_ref().map_or((String::new(), None), |e| {
            (e.event_type.clone(), e.timestamp.clone())
        });
        if json {
            o.json_line(&json!({
                "stream_id": h.stream_id,
                "version": h.version,
                "type": ty,
                "timestamp": time,
                "state": h.state,
            }))?;
            continue;
        }
        let header = format!(
            "{} version {} ({}{}) · {code}",
            eventscope::printable(&h.stream_id),
            h.version,
            eventscope::printable(&ty),
            time.as_deref()
                .map(|t| format!(", {} UTC", eventscope::time::display(t, false)))
                .unwrap_or_default(),
        );
        let header = o.paint(Paint::Dim, &header);
        o.line(&header)?;
        if category.is_none() {
            if let Some(e) = &event {
                o.line(&format!("event: {}", serde_json::to_string(&e.data)?))?;
            }
            o.line(&serde_json::to_string_pretty(&h.state)?)?;
        }
    }
    o.flush()?;
    Ok(())
}

pub fn whatif(
    store: &dyn EventSource,
    stream: &str,
    skips: &Skips,
    at: Option<i64>,
    args: &ReplayArgs,
    json: bool,
) -> Result<()> {
    if skips.is_empty() {
        bail!("say which events to leave out: --skip V[,V...] or --skip-type TYPE");
    }
    let _left_out = need_stream(store, stream)?;
    super::answer::need_skipped_versions(store, stream, skips)?;
    let reducer = load_reducer(args)?;
    let mut replayer = replayer(store, &reducer, args)?;
    let at = match at {
        Some(v) => v,
        None => replayer.last_version(stream)?,
    };
    let real = replayer.traced_state_at(stream, at)?;
    let without = replayer.what_if(stream, at, skips)?;
    for w in replayer.take_warnings() {
        super::output::warn(&w);
    }
    let changes = eventscope::replay::diff(&real.state, &without.state);
    let described = super::commands::describe(&reducer, args, &replayer.category(stream)?);
    let header = format!(
        "{}{}: version {at}, real → what-if · reducer: {}",
        what_if_words(skips),
        eventscope::printable(stream),
        eventscope::printable(&described)
    );
    print_changes(&header, &changes, json)
}

pub fn category_state(
    store: &dyn EventSource,
    category: &str,
    at_time: Option<&str>,
    args: &ReplayArgs,
    json: bool,
) -> Result<()> {
    let until = at_time
        .map(eventscope::time::parse_time_bound)
        .transpose()
        .map_err(|e| anyhow!(e))?;
    from_first_event(args, "state --category")?;
    let reducer = load_reducer(args)?;
    let watch = super::commands::guard(store, &args.limits)?;
    let guard = eventscope::replay::CategoryGuard {
        watch: Some(&watch),
        ..Default::default()
    };
    let states = eventscope::replay::category_at(store, &reducer, category, until, guard)?;
    let mut o = Out::stdout();
    if json {
        for s in &states {
            o.json_line(s)?;
        }
        o.flush()?;
        return Ok(());
    }
    let header = format!(
        "{} streams of {} {} · reducer: {} · replayed from the first event",
        states.len(),
        eventscope::printable(category),
        until.map_or("now".into(), |t| format!(
            "as of {}",
            eventscope::time::envelope_text(t, 9)
        )),
        eventscope::printable(&super::commands::describe(&reducer, args, category)),
    );
    let header = o.paint(Paint::Dim, &header);
    o.line(&header)?;
    let rows: Vec<Vec<String>> = states
        .iter()
        .map(|s| {
            vec![
                s.stream_id.clone(),
                s.version.to_string(),
                s.state.to_string(),
            ]
        })
        .collect();
    for line in table(&["STREAM", "VERSION", "STATE"], &rows) {
        o.line(&line)?;
    }
    o.flush()?;
    Ok(())
}

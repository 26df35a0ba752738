//! `state`, `diff` and `snapshots`: answers that say what they are — the stream, version,
//! time, reducer and snapshot each one used.

use anyhow::{anyhow, bail, Result};
use eventscope::replay::{
    diff, Op, Reducer, Replayer, SeekOptions, Skips, SnapshotMaps, SnapshotUse, Traced,
};
use eventscope::store::EventSource;
use serde_json::{json, Value};

use super::args::ReplayArgs;
use super::commands::{load_reducer, timed_replayer};
use super::output::{table, Out, Paint};

/// A replayer with the snapshot policy the arguments ask for.
pub fn replayer<'a>(
    store: &'a dyn EventSource,
    reducer: &'a Reducer,
    args: &ReplayArgs,
) -> Result<Replayer<'a>> {
    let maps = SnapshotMaps::load(args.reducer.as_deref(), args.snapshot_map.as_deref())?;
    let snapshots =
        SnapshotUse::decide(args.from_snapshots, store, reducer, maps).map_err(|e| anyhow!(e))?;
    Ok(timed_replayer(store, reducer, args, SeekOptions::default())?.with_snapshots(snapshots))
}

/// Fails with "stream not found" and the closest names when `stream` has no events. The
/// answer it returns, once dropped (after the command's output), warns of the stream's
/// rows whose version is not an integer: those it counted here, and those the command's
/// reads passed over.
pub fn need_stream<'s>(store: &'s dyn EventSource, stream: &str) -> Result<LeftOutRows<'s>> {
    if let Some(outside) = store.stream_found(stream)? {
        if store.last_version(stream)?.is_none() {
            // Listed, but no row can be replayed: say which rows and why.
            let bad: Vec<String> = store
                .bad_versions()?
                .into_iter()
                .filter(|b| b.stream_id == stream)
                .take(3)
                .map(|b| format!("row {} has version {:?}", b.position, b.value))
                .collect();
            bail!(
                "{stream} has no row whose version is an integer ({}{}), so it has no state to show; `eventscope check` lists them",
                bad.join(", "),
                if outside > 3 { ", …" } else { "" }
            );
        }
        return Ok(LeftOutRows {
            store,
            stream: stream.to_string(),
            outside,
        });
    }
    let close = store.closest_streams(stream)?;
    if close.is_empty() {
        bail!("stream not found: {stream:?} (`eventscope streams` lists them)");
    }
    bail!(
        "stream not found: {stream:?}; did you mean {}?",
        close.join(", ")
    )
}

/// A stream's rows whose version is not an integer, warned of when dropped: see
/// [`need_stream`].
#[must_use = "it warns when dropped, after the answer"]
pub struct LeftOutRows<'s> {
    store: &'s dyn EventSource,
    stream: String,
    /// Rows outside any version range (NULL, text), counted up front.
    outside: i64,
}

impl Drop for LeftOutRows<'_> {
    fn drop(&mut self) {
        let read = self.store.take_left_out();
        let of_stream = read.iter().filter(|b| b.stream_id == self.stream).count() as i64;
        let bad = self.outside + of_stream;
        if bad > 0 {
            super::output::warn(&format!(
                "{} has {bad} row(s) whose version is not an integer; they are left out of its states (`eventscope check` lists them)",
                eventscope::printable(&self.stream)
            ));
        }
    }
}

/// Every `--skip` version names an event of the stream, as `--at` must: leaving out a
/// version that does not exist would answer "no changes" to a typo.
pub fn need_skipped_versions(
    store: &dyn EventSource,
    stream: &str,
    skips: &eventscope::replay::Skips,
) -> Result<()> {
    if skips.versions.is_empty() {
        return Ok(());
    }
    let (Some(first), Some(last)) = (store.first_version(stream)?, store.last_version(stream)?)
    else {
        return Ok(());
    };
    if let Some(v) = skips.versions.iter().find(|v| **v < first || **v > last) {
        bail!("{stream} has versions {first} to {last}; --skip {v} does not exist");
    }
    Ok(())
}

/// One answered point: where it is, and how it was computed.
struct Point {
    version: Option<i64>,
    timestamp: Option<String>,
    traced: Traced,
}

impl Point {
    fn at(store: &dyn EventSource, stream: &str, version: i64, traced: Traced) -> Result<Point> {
        let event = store.event_at_or_before(stream, version)?;
        Ok(Point {
            version: Some(version),
            timestamp: event.and_then(|e| e.timestamp),
            traced,
        })
    }
}

/// "WHAT-IF without versions 3, 5 and type X: " before a header; nothing for a real replay.
pub fn what_if_words(skips: &Skips) -> String {
    if skips.is_empty() {
        return String::new();
    }
    let mut parts = Vec::new();
    if !skips.versions.is_empty() {
        let v: Vec<String> = skips.versions.iter().map(i64::to_string).collect();
        parts.push(format!("version(s) {}", v.join(", ")));
    }
    if !skips.types.is_empty() {
        let mut t: Vec<String> = skips
            .types
            .iter()
            .map(|t| eventscope::printable(t).into_owned())
            .collect();
        t.sort();
        parts.push(format!("type(s) {}", t.join(", ")));
    }
    format!("WHAT-IF without {} · ", parts.join(" and "))
}

/// The skipped events as `--json --envelope` names them.
pub fn skipped_json(skips: &Skips) -> Value {
    let mut types: Vec<&String> = skips.types.iter().collect();
    types.sort();
    json!({"skip": skips.versions, "skip_type": types})
}

fn snapshot_words(from: Option<i64>) -> String {
    match from {
        Some(v) => format!("started from the stored snapshot at version {v}"),
        None => "replayed from the first event".into(),
    }
}

/// Which states `state` prints: versions, a time, and events left out.
pub struct Points<'p> {
    pub at: &'p [i64],
    pub at_time: Option<&'p str>,
    pub skips: &'p Skips,
}

pub fn state(
    store: &dyn EventSource,
    stream: &str,
    points_asked: &Points,
    args: &ReplayArgs,
    json: bool,
    envelope: bool,
) -> Result<()> {
    let Points { at, at_time, skips } = *points_asked;
    let at_time = at_time
        .map(eventscope::time::parse_time_bound)
        .transpose()
        .map_err(|e| anyhow!(e))?;
    let _left_out = need_stream(store, stream)?;
    need_skipped_versions(store, stream, skips)?;
    let reducer = load_reducer(args)?;
    let mut replayer = replayer(store, &reducer, args)?;
    let described = super::commands::describe(&reducer, args, &replayer.category(stream)?);
    let mut points = Vec::new();
    if !skips.is_empty() && at_time.is_some() {
        bail!("--skip and --skip-type work with --at, not --at-time");
    }
    if !skips.is_empty() {
        let versions = if at.is_empty() {
            vec![replayer.last_version(stream)?]
        } else {
            at.to_vec()
        };
        for v in versions {
            let traced = replayer.what_if(stream, v, skips)?;
            points.push(Point::at(store, stream, v, traced)?);
        }
    } else if let Some(t) = at_time {
        match replayer.state_at_time(stream, t)? {
            Some((v, traced)) => points.push(Point::at(store, stream, v, traced)?),
            None => {
                super::output::warn(&format!(
                    "{stream} has no event at or before {}; the state there is null",
                    eventscope::time::envelope_text(t, 9)
                ));
                points.push(Point {
                    version: None,
                    timestamp: None,
                    traced: Traced::default(),
                });
            }
        }
    } else if at.is_empty() {
        let last = replayer.last_version(stream)?;
        let traced = replayer.traced_state_at(stream, last)?;
        points.push(Point::at(store, stream, last, traced)?);
    } else {
        // Fold once, in version order, keeping each asked-for state; print in the order given.
        let found = replayer.traced_states_at(stream, at)?;
        for (v, traced) in at.iter().zip(found) {
            points.push(Point::at(store, stream, *v, traced)?);
        }
    }
    for w in replayer.take_warnings() {
        super::output::warn(&w);
    }
    let mut o = Out::stdout();
    for p in &points {
        if envelope {
            let mut line = json!({
                "stream_id": stream,
                "version": p.version,
                "timestamp": p.timestamp,
                "reducer": described,
                "from_snapshot": p.traced.from_snapshot,
                "state": p.traced.state,
            });
            if !skips.is_empty() {
                line["what_if"] = skipped_json(skips);
            }
            o.json_line(&line)?;
        } else if json {
            o.json_line(&p.traced.state)?;
        } else {
            let version = p
                .version
                .map_or("before its first event".into(), |v| format!("version {v}"));
            let time = p
                .timestamp
                .as_deref()
                .map(|t| eventscope::time::display(t, false));
            let header = format!(
                "{}{} at {version}{} · reducer: {} · {}",
                what_if_words(skips),
                eventscope::printable(stream),
                time.map(|t| format!(" ({t} UTC)")).unwrap_or_default(),
                eventscope::printable(&described),
                snapshot_words(p.traced.from_snapshot)
            );
            let header = o.paint(Paint::Dim, &header);
            o.line(&header)?;
            o.line(&serde_json::to_string_pretty(&p.traced.state)?)?;
        }
    }
    o.flush()?;
    Ok(())
}

pub fn diff_cmd(
    store: &dyn EventSource,
    stream: &str,
    from: i64,
    to: Option<i64>,
    args: &ReplayArgs,
    json: bool,
) -> Result<()> {
    let _left_out = need_stream(store, stream)?;
    let reducer = load_reducer(args)?;
    let mut replayer = replayer(store, &reducer, args)?;
    let described = super::commands::describe(&reducer, args, &replayer.category(stream)?);
    let to = match to {
        Some(v) => v,
        None => replayer.last_version(stream)?,
    };
    let old = replayer.traced_state_at(stream, from)?;
    let new = replayer.traced_state_at(stream, to)?;
    for w in replayer.take_warnings() {
        super::output::warn(&w);
    }
    let changes = diff(&old.state, &new.state);
    let started = match (old.from_snapshot, new.from_snapshot) {
        (None, None) => snapshot_words(None),
        (a, b) => format!(
            "version {from} {}, version {to} {}",
            snapshot_words(a),
            snapshot_words(b)
        ),
    };
    let header = format!(
        "{}: version {from} → {to} · reducer: {} · {started}",
        eventscope::printable(stream),
        eventscope::printable(&described)
    );
    print_changes(&header, &changes, json)
}

/// Changes as `diff` prints them: a dim header then `+`/`-`/`~` lines, or a JSON array.
pub fn print_changes(
    header: &str,
    changes: &[eventscope::replay::Change],
    json: bool,
) -> Result<()> {
    let mut o = Out::stdout();
    if json {
        o.line(&serde_json::to_string(&changes)?)?;
        o.flush()?;
        return Ok(());
    }
    let header = o.paint(Paint::Dim, header);
    o.line(&header)?;
    if changes.is_empty() {
        o.line("no changes")?;
    }
    for c in changes {
        let line = change_line(&o, c);
        o.line(&line)?;
    }
    o.flush()?;
    Ok(())
}

/// One change as `diff` prints it: `+ /path  new`, `- /path  old`, `~ /path  old → new`.
pub fn change_line(o: &Out, c: &eventscope::replay::Change) -> String {
    let show = |v: &Option<Value>| v.as_ref().map(Value::to_string).unwrap_or_default();
    let path = eventscope::printable(&c.path);
    match c.op {
        Op::Added => o.paint(Paint::Green, &format!("+ {path}  {}", show(&c.new))),
        Op::Removed => o.paint(Paint::Red, &format!("- {path}  {}", show(&c.old))),
        Op::Changed => o.paint(
            Paint::Yellow,
            &format!("~ {path}  {} → {}", show(&c.old), show(&c.new)),
        ),
    }
}

/// Snapshots are data to show: `--json` prints each one's decoded content.
pub fn snapshots(store: &dyn EventSource, stream: Option<&str>, json: bool) -> Result<()> {
    let list = store.snapshots(stream)?;
    let mut o = Out::stdout();
    if json {
        for s in &list {
            o.json_line(s)?;
        }
    } else if list.is_empty() {
        o.line(if store.has_snapshots() {
            "no snapshots"
        } else {
            "this store keeps no snapshots"
        })?;
    } else {
        let rows: Vec<Vec<String>> = list
            .iter()
            .map(|s| {
                let content = match &s.unreadable {
                    Some(why) => format!("⚠ unreadable: {why}"),
                    None => eventscope::preview(&s.data, 60),
                };
                vec![s.stream_id.clone(), s.version.to_string(), content]
            })
            .collect();
        for line in table(&["STREAM", "VERSION", "CONTENT"], &rows) {
            o.line(&line)?;
        }
    }
    o.flush()?;
    for s in list.iter().filter(|s| s.unreadable.is_some()) {
        super::output::warn(&format!(
            "snapshot of {} at version {} cannot be read: {}",
            s.stream_id,
            s.version,
            s.unreadable.as_deref().unwrap_or_default()
        ));
    }
    Ok(())
}

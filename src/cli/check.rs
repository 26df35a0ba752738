//! `check`: what is wrong with a store, stream by stream, each problem with its place.

use std::ops::ControlFlow;

use anyhow::{bail, Result};
use eventscope::replay::{diff, map_snapshot, Reducer, SeekOptions, SnapshotMaps};
use eventscope::store::{EventSource, Layout, SourceExt};
use eventscope::Event;
use serde::Serialize;

use super::args::ReplayArgs;
use super::output::{Out, Paint};

#[derive(Serialize)]
struct Problem {
    stream_id: String,
    version: i64,
    problem: &'static str,
    detail: String,
    /// An upcaster's finding, whole (`check --upcasters`).
    #[serde(skip_serializing_if = "Option::is_none")]
    upcast: Option<eventscope::replay::upcast_check::UpcastFinding>,
}

pub fn run(
    store: &dyn EventSource,
    reducer: &Reducer,
    args: &ReplayArgs,
    json: bool,
) -> Result<()> {
    let mut problems = Vec::new();
    let streams = store.streams()?;
    for info in &streams {
        check_stream(store, &info.stream_id, &mut problems)?;
    }
    for bad in store.bad_versions()? {
        problems.push(Problem {
            stream_id: bad.stream_id,
            version: 0,
            problem: "version not an integer",
            detail: format!(
                "version {:?} at row {} is not an integer",
                bad.value, bad.position
            ),
            upcast: None,
        });
    }
    check_snapshots(store, reducer, args, &mut problems)?;
    let upcasters = check_upcasters(store, args, &mut problems)?;
    let mut o = Out::stdout();
    for p in &problems {
        if json {
            o.json_line(p)?;
        } else {
            let what = o.paint(Paint::Red, p.problem);
            o.line(&format!(
                "{} version {}: {what}: {}",
                eventscope::printable(&p.stream_id),
                p.version,
                eventscope::printable(&p.detail)
            ))?;
        }
    }
    if problems.is_empty() && !json {
        o.line(&format!("{} streams checked: no problems", streams.len()))?;
        if let Some(words) = upcasters {
            o.line(&format!(
                "{}: every stored shape is upcast to its type's newest shape",
                eventscope::printable(&words)
            ))?;
        }
    }
    o.flush()?;
    if !problems.is_empty() {
        bail!("{} problem(s) found in {}", problems.len(), store.name());
    }
    Ok(())
}

/// The upcasters' findings as problems, where there are upcasters; what was checked.
fn check_upcasters(
    store: &dyn EventSource,
    args: &ReplayArgs,
    out: &mut Vec<Problem>,
) -> Result<Option<String>> {
    use eventscope::replay::upcast_check::UpcastProblem;
    let u = &args.upcast;
    let Some(dir) = u.upcasters.as_deref().filter(|_| !u.no_upcasters) else {
        return Ok(None);
    };
    let upcasters = eventscope::replay::upcast::Upcasters::load(dir)?;
    let watch = super::commands::guard(store, &args.limits)?;
    let (_, findings) = eventscope::replay::upcast_check::check_upcasters(
        store,
        &upcasters,
        Some(&watch),
        super::types::MAX_SHAPES,
    )?;
    for f in findings {
        let by = f
            .upcaster
            .as_deref()
            .map_or(" (no upcaster)".to_string(), |u| format!(" by {u}"));
        let (problem, what) = match &f.problem {
            UpcastProblem::NotNewest {
                upcast_type,
                newest_shape,
                differs,
            } => (
                "upcast short of the newest shape",
                format!("not {upcast_type}'s newest shape {newest_shape}: {differs}"),
            ),
            UpcastProblem::Failed { message } => ("upcaster failed", message.clone()),
        };
        out.push(Problem {
            stream_id: f.first.stream_id.clone(),
            version: f.first.version,
            problem,
            detail: format!(
                "{} of {} shape {}{by} (this the first, at position {}): {what}",
                eventscope::count(f.events as i64, "event"),
                f.event_type,
                f.stored_shape,
                f.first.global_position
            ),
            upcast: Some(f),
        });
    }
    Ok(Some(format!(
        "{} in {}{}",
        eventscope::count(upcasters.len() as i64, "upcaster"),
        dir.display(),
        u.upcasters_origin
            .as_deref()
            .map(|o| format!(" (from {o})"))
            .unwrap_or_default()
    )))
}

fn check_stream(store: &dyn EventSource, stream: &str, out: &mut Vec<Problem>) -> Result<()> {
    let mut expected: Option<i64> = None;
    let mut last_time: Option<(chrono::DateTime<chrono::Utc>, String)> = None;
    let has_times = store.has_times();
    let mut push = |version, problem, detail: String| {
        out.push(Problem {
            stream_id: stream.to_string(),
            version,
            problem,
            detail,
            upcast: None,
        })
    };
    store.read_stream(stream, i64::MIN..=i64::MAX, |e: Event| {
        // Streams count from 1, or from 0 (Axon, KurrentDB revisions).
        let want = expected.unwrap_or(if e.version <= 0 { e.version } else { 1 });
        if e.version < want {
            push(
                e.version,
                "duplicate version",
                format!("version {} appears again (event {})", e.version, e.event_id),
            );
        } else if e.version > want {
            let missing = if e.version == want + 1 {
                format!("version {want} is missing")
            } else {
                format!("versions {want} to {} are missing", e.version - 1)
            };
            push(e.version, "version gap", missing);
        }
        expected = Some(want.max(e.version.saturating_add(1)));
        if let Some(why) = &e.undecodable {
            push(e.version, "undecodable payload", why.clone());
        }
        if !matches!(
            e.metadata,
            serde_json::Value::Object(_) | serde_json::Value::Null
        ) {
            let shown = match &e.metadata {
                serde_json::Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            push(
                e.version,
                "metadata not a JSON object",
                format!(
                    "{} (related and correlation keys cannot read it)",
                    eventscope::fit(&shown, 60)
                ),
            );
        }
        let stamp = e.timestamp.as_deref();
        match stamp.and_then(eventscope::time::parse_stored) {
            Some(t) => {
                if let Some((prev, prev_text)) = &last_time {
                    if t < *prev {
                        push(
                            e.version,
                            "timestamp goes backwards",
                            format!(
                                "{} is before the previous event's {prev_text}",
                                stamp.unwrap_or_default()
                            ),
                        );
                    }
                }
                last_time = Some((t, stamp.unwrap_or_default().to_string()));
            }
            None if has_times => push(
                e.version,
                "unreadable time",
                format!(
                    "{:?} is no time (--at-time refuses this stream)",
                    stamp.unwrap_or("NULL")
                ),
            ),
            None => {}
        }
        Ok::<_, anyhow::Error>(ControlFlow::Continue(()))
    })?;
    Ok(())
}

/// Replays to each snapshot's version from the first event and compares it with the
/// snapshot mapped to the reducer's state. A snapshot with no mapping is not compared (it
/// holds the application's aggregate, whose shape differs from the reducer's state), and
/// that is said once instead of reported as differences.
fn check_snapshots(
    store: &dyn EventSource,
    reducer: &Reducer,
    args: &ReplayArgs,
    out: &mut Vec<Problem>,
) -> Result<()> {
    let snapshots = store.snapshots(None)?;
    if snapshots.is_empty() {
        return Ok(());
    }
    let maps = SnapshotMaps::load(args.reducer.as_deref(), args.snapshot_map.as_deref())?;
    let as_stored = store.layout() == Layout::Native && !matches!(reducer, Reducer::Merge);
    let mut replayer =
        super::commands::timed_replayer(store, reducer, args, SeekOptions::default())?;
    let mut not_compared = 0;
    for snapshot in snapshots {
        let (stream, version) = (snapshot.stream_id.clone(), snapshot.version);
        let mut push = |problem, detail| {
            out.push(Problem {
                stream_id: stream.clone(),
                version,
                problem,
                detail,
                upcast: None,
            })
        };
        if let Some(why) = &snapshot.unreadable {
            push("unreadable snapshot", format!("skipped: {why}"));
            continue;
        }
        let category = replayer.category(&stream)?;
        let expected = match maps.for_category(&category) {
            Some(program) => match map_snapshot(program, &snapshot, replayer.watch()) {
                Ok(v) => v,
                Err(e) => {
                    push("snapshot not mappable", e);
                    continue;
                }
            },
            None if as_stored => snapshot.data.clone(),
            None => {
                not_compared += 1;
                continue;
            }
        };
        let first = store.stream_info(&stream)?.map(|i| i.first_version);
        if let Some(first) = first.filter(|first| version < *first) {
            push(
                "snapshot not replayable",
                format!("version {version} is below the stream's first version {first}"),
            );
            continue;
        }
        let replayed = match replayer.state_at(&stream, version) {
            Ok(s) => s,
            Err(e) => {
                push("snapshot not replayable", e.to_string());
                continue;
            }
        };
        let changes = diff(&replayed, &expected);
        if let Some(first) = changes.first() {
            let show = |v: &Option<serde_json::Value>| {
                v.as_ref().map_or("nothing".into(), |v| v.to_string())
            };
            push(
                "snapshot differs from replay",
                format!(
                    "{}; first {}: replay has {}, snapshot has {}",
                    eventscope::fields_differ(changes.len()),
                    if first.path.is_empty() {
                        "/"
                    } else {
                        &first.path
                    },
                    show(&first.old),
                    show(&first.new)
                ),
            );
        }
    }
    if not_compared > 0 {
        eprintln!(
            "eventscope: {not_compared} snapshot(s) not compared: they hold the application's aggregate, not the reducer's state; \
             give a mapping (<category>.snapshot.jq beside the reducers, or --snapshot-map FILE) to compare them"
        );
    }
    Ok(())
}

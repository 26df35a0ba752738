//! `check`: what is wrong with a store, stream by stream, each problem with its place.

use std::ops::ControlFlow;

use anyhow::{bail, Result};
use eventscope::replay::{diff, Reducer, SeekOptions};
use eventscope::store::Store;
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
}

pub fn run(store: &Store, reducer: &Reducer, args: &ReplayArgs, json: bool) -> Result<()> {
    let mut problems = Vec::new();
    let streams = store.streams()?;
    for info in &streams {
        check_stream(store, &info.stream_id, &mut problems)?;
    }
    if !matches!(reducer, Reducer::Merge) {
        check_snapshots(store, reducer, args, &mut problems)?;
    }
    let mut o = Out::stdout();
    for p in &problems {
        if json {
            o.json_line(p)?;
        } else {
            let what = o.paint(Paint::Red, p.problem);
            o.line(&format!(
                "{} version {}: {what}: {}",
                p.stream_id, p.version, p.detail
            ))?;
        }
    }
    if problems.is_empty() && !json {
        o.line(&format!("{} streams checked: no problems", streams.len()))?;
    }
    o.flush()?;
    if !problems.is_empty() {
        bail!(
            "{} problem(s) found in {}",
            problems.len(),
            store.path().display()
        );
    }
    Ok(())
}

fn check_stream(store: &Store, stream: &str, out: &mut Vec<Problem>) -> Result<()> {
    let mut expected = 1;
    let mut last_time: Option<(chrono::DateTime<chrono::Utc>, String)> = None;
    let mut push = |version, problem, detail: String| {
        out.push(Problem {
            stream_id: stream.to_string(),
            version,
            problem,
            detail,
        })
    };
    store.read_stream(stream, i64::MIN..=i64::MAX, |e: Event| {
        if e.version < expected {
            push(
                e.version,
                "duplicate version",
                format!("version {} appears again (event {})", e.version, e.event_id),
            );
        } else if e.version > expected {
            let missing = if e.version == expected + 1 {
                format!("version {expected} is missing")
            } else {
                format!("versions {expected} to {} are missing", e.version - 1)
            };
            push(e.version, "version gap", missing);
        }
        expected = expected.max(e.version + 1);
        if let Some(why) = &e.undecodable {
            push(e.version, "undecodable payload", why.clone());
        }
        if let Some(t) = eventscope::time::parse_stored(&e.timestamp) {
            if let Some((prev, prev_text)) = &last_time {
                if t < *prev {
                    push(
                        e.version,
                        "timestamp goes backwards",
                        format!("{} is before the previous event's {prev_text}", e.timestamp),
                    );
                }
            }
            last_time = Some((t, e.timestamp.clone()));
        }
        Ok::<_, anyhow::Error>(ControlFlow::Continue(()))
    })?;
    Ok(())
}

/// Replays to each snapshot's version from the first event and compares.
fn check_snapshots(
    store: &Store,
    reducer: &Reducer,
    args: &ReplayArgs,
    out: &mut Vec<Problem>,
) -> Result<()> {
    let options = SeekOptions {
        use_snapshots: false,
        ..SeekOptions::default()
    };
    let mut replayer = super::commands::timed_replayer(store, reducer, args, options)?;
    for (stream, version) in store.snapshot_versions(None)? {
        let Some(snapshot) = store.latest_snapshot(&stream, version)? else {
            continue;
        };
        let replayed = match replayer.state_at(&stream, version) {
            Ok(s) => s,
            Err(e) => {
                out.push(Problem {
                    stream_id: stream,
                    version,
                    problem: "snapshot not replayable",
                    detail: e.to_string(),
                });
                continue;
            }
        };
        let changes = diff(&replayed, &snapshot.data);
        if let Some(first) = changes.first() {
            let show = |v: &Option<serde_json::Value>| {
                v.as_ref().map_or("nothing".into(), |v| v.to_string())
            };
            out.push(Problem {
                stream_id: stream,
                version,
                problem: "snapshot differs from replay",
                detail: format!(
                    "{} field(s) differ; first {}: replay has {}, snapshot has {}",
                    changes.len(),
                    if first.path.is_empty() {
                        "/"
                    } else {
                        &first.path
                    },
                    show(&first.old),
                    show(&first.new)
                ),
            });
        }
    }
    Ok(())
}

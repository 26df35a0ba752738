//! `export --parquet DIR`: the events `events` would list, and with `--states` the
//! reducer's state after each of them, as Parquet files.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde_json::json;

use eventscope::export::{write_states, EventWriter, ParquetDir, StateWriter};
use eventscope::store::{EventSource, LogFilter, SourceExt};
use eventscope::Event;

use super::args::{FindArgs, ReplayArgs};
use super::output::Out;

pub struct Options<'a> {
    pub dir: &'a Path,
    pub stream: Option<String>,
    pub event_type: Option<String>,
    pub find: &'a FindArgs,
    pub states: bool,
    pub rows_per_file: u64,
    pub replay: &'a ReplayArgs,
    pub json: bool,
}

pub fn run(store: &dyn EventSource, store_name: &str, o: &Options) -> Result<()> {
    let reducer = match o.states {
        true => Some(super::commands::load_reducer(o.replay)?),
        false => None,
    };
    if o.replay.from_snapshots {
        bail!("export replays every stream from its first event: --from-snapshots does not apply");
    }
    let filter = LogFilter {
        stream: o.stream.clone(),
        event_type: o.event_type.clone(),
        ..Default::default()
    };
    let (filter, test) = super::events::prepare(store, filter, o.find, &o.replay.limits, false)?;
    make_empty_dir(o.dir)?;
    let described = describe_filter(o);
    let mut metadata = vec![
        ("eventscope.store".to_string(), store_name.to_string()),
        ("eventscope.filter".to_string(), described.clone()),
    ];
    // The whole log's length, for the bars: counted only where a bar is drawn.
    let unfiltered = o.stream.is_none() && o.event_type.is_none() && test.is_empty();
    let total = match unfiltered && filter.streams.is_none() && super::progress::shown() {
        true => Some(u64::try_from(store.count_after(i64::MIN)?).unwrap_or(0)),
        false => None,
    };

    let bar = super::progress::count_bar("exporting events", total);
    let mut events = EventWriter::new(ParquetDir::new(
        o.dir,
        "events",
        o.rows_per_file,
        metadata.clone(),
    ));
    let mut write = |e: Event| {
        events.push(e)?;
        if let Some(b) = bar.as_ref().filter(|_| events.rows() % 4096 == 0) {
            b.set_position(events.rows());
        }
        Ok::<_, anyhow::Error>(ControlFlow::Continue(()))
    };
    if test.is_empty() {
        store.read_log(&filter, &mut write)?;
    } else {
        store.search_log(
            &filter,
            |row| Ok::<_, anyhow::Error>(test.keeps(row)),
            &mut write,
        )?;
    }
    let event_rows = events.rows();
    let event_files = events.finish()?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }

    let mut summary = json!({
        "dir": o.dir.display().to_string(),
        "events": event_rows,
        "event_files": names(&event_files),
    });
    let mut failed = 0;
    if let Some(reducer) = &reducer {
        let who = reducer_words(reducer, o.replay);
        metadata.push(("eventscope.reducer".to_string(), who.clone()));
        let watch = super::commands::guard(store, &o.replay.limits)?;
        let bar = super::progress::count_bar("replaying", total);
        let mut out = StateWriter::new(ParquetDir::new(o.dir, "states", o.rows_per_file, metadata));
        let wanted_type = o.event_type.as_deref();
        let keeps = |row: &eventscope::store::StreamRow| {
            wanted_type.is_none_or(|t| row.event_type() == t) && test.keeps(row)
        };
        let done = write_states(
            store,
            reducer,
            &filter,
            &keeps,
            test.columns(),
            Some(&watch),
            &mut out,
            &mut |n| {
                if let Some(b) = &bar {
                    b.set_position(n);
                }
            },
        )?;
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        let rows = out.rows();
        let files = out.finish()?;
        failed = done.failed;
        summary["states"] = json!(rows);
        summary["state_files"] = names(&files);
        summary["streams"] = json!(done.streams);
        summary["reducer"] = json!(who);
        summary["replayed_from"] = json!("each stream's first event (no snapshots)");
        summary["failed_streams"] = json!(done.failed);
        summary["failures"] = json!(done.failures);
    }
    print_summary(&summary, o.json)?;
    if failed > 0 {
        bail!(
            "the reducer failed on {failed} stream(s); their states end at the failing event, whose row has the error (column `error`)"
        );
    }
    Ok(())
}

/// What folds the streams, as the summary and the files' metadata say it: the built-in
/// merge says it is a guess.
fn reducer_words(reducer: &eventscope::replay::Reducer, args: &ReplayArgs) -> String {
    use eventscope::replay::Reducer;
    match reducer {
        Reducer::PerCategory { default, .. } => {
            let path = args.reducer.as_deref().unwrap_or(Path::new("")).display();
            let rest = match default {
                Some(p) => format!("other categories by {}", p.name),
                None => format!(
                    "other categories by the {}",
                    eventscope::replay::MERGE_LABEL
                ),
            };
            let words = format!("{path}/<category>.jq ({rest})");
            eventscope::project::named_from(&words, args.reducer_origin.as_deref())
                + &super::commands::upcast_words(&args.upcast)
        }
        _ => super::commands::describe(reducer, args, ""),
    }
}

/// The folder, made where missing; one that holds anything is refused, so that no file
/// of an earlier export is taken for part of this one.
fn make_empty_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        let meta = std::fs::metadata(dir).with_context(|| format!("reading {}", dir.display()))?;
        if !meta.is_dir() {
            bail!("{} is not a folder", dir.display());
        }
        let mut entries =
            std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
        if entries.next().is_some() {
            bail!(
                "{} is not empty: export writes into a new or empty folder",
                dir.display()
            );
        }
        return Ok(());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("making {}", dir.display()))
}

fn describe_filter(o: &Options) -> String {
    let mut parts = Vec::new();
    let mut add = |name: &str, v: &Option<String>| {
        if let Some(v) = v {
            parts.push(format!("--{name} {v}"));
        }
    };
    add("stream", &o.stream);
    add("type", &o.event_type);
    add("category", &o.find.category);
    add("where", &o.find.where_);
    add("text", &o.find.text);
    add("since", &o.find.since);
    add("until", &o.find.until);
    parts.join(" ")
}

fn names(files: &[PathBuf]) -> serde_json::Value {
    files
        .iter()
        .map(|f| f.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect()
}

fn print_summary(s: &serde_json::Value, json: bool) -> Result<()> {
    let mut out = Out::stdout();
    if json {
        out.json_line(s)?;
        return Ok(out.flush()?);
    }
    let count = |k: &str| eventscope::thousands(s[k].as_u64().unwrap_or(0) as i64);
    let files = |k: &str| match s[k].as_array().map_or(0, Vec::len) {
        1 => "1 file".to_string(),
        n => format!("{n} files"),
    };
    let dir = eventscope::printable(s["dir"].as_str().unwrap_or("")).into_owned();
    let mut line = format!(
        "exported {} events to {dir} ({})",
        count("events"),
        files("event_files")
    );
    if s.get("states").is_some() {
        line.push_str(&format!(
            "; {} states of {} streams by {}, replayed from each stream's first event ({})",
            count("states"),
            count("streams"),
            eventscope::printable(s["reducer"].as_str().unwrap_or("")),
            files("state_files")
        ));
    }
    out.line(&line)?;
    Ok(out.flush()?)
}

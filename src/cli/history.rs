//! `history`: every change of one field of a stream's state (or of each stream of a
//! category), printed as a table or as JSON lines.

use anyhow::{bail, Result};
use eventscope::replay::field_path::FieldPath;
use eventscope::replay::history::{history, history_category, HistoryRow};
use eventscope::replay::Skips;
use eventscope::store::EventSource;

use super::answer::need_stream;
use super::args::ReplayArgs;
use super::commands::{describe, guard, load_reducer};
use super::output::{table, Out, Paint};

/// A value as a cell: JSON, cut to `width` characters; `—` where the field was absent.
fn cell(v: Option<&serde_json::Value>, width: usize) -> String {
    match v {
        None => "—".into(),
        Some(v) => eventscope::printable(&eventscope::preview(v, width)).into_owned(),
    }
}

pub fn run(
    store: &dyn EventSource,
    words: &[String],
    category: Option<&str>,
    args: &ReplayArgs,
    json: bool,
) -> Result<()> {
    let (stream, path_text) = match (category, words) {
        (Some(_), [path]) => (None, path),
        (None, [stream, path]) => (Some(stream.as_str()), path),
        (Some(_), _) => bail!("with --category, give only the PATH"),
        (None, _) => bail!("give STREAM and PATH (or --category CAT and PATH)"),
    };
    if args.from_snapshots {
        bail!("history replays from the first event, since it must see every event; --from-snapshots does not apply");
    }
    let path = FieldPath::parse(path_text).map_err(anyhow::Error::msg)?;
    let reducer = load_reducer(args)?;
    let watch = guard(store, &args.limits)?;
    let (rows, scope, category) = match (stream, category) {
        (Some(stream), _) => {
            let _left_out = need_stream(store, stream)?;
            let rows = history(
                store,
                &reducer,
                stream,
                &path,
                &Skips::default(),
                Some(&watch),
            )?;
            (rows, stream.to_string(), store.stream_category(stream)?)
        }
        (None, Some(c)) => {
            let rows = history_category(store, &reducer, c, &path, Some(&watch))?;
            (rows, format!("every stream of {c}"), c.to_string())
        }
        (None, None) => unreachable!("matched above"),
    };
    let mut o = Out::stdout();
    if json {
        for r in &rows {
            o.json_line(r)?;
        }
        return Ok(o.flush()?);
    }
    let header = format!(
        "{} of {} · reducer: {} · replayed from the first event",
        path.shown(),
        eventscope::printable(&scope),
        eventscope::printable(&describe(&reducer, args, &category)),
    );
    let header = o.paint(Paint::Dim, &header);
    o.line(&header)?;
    if rows.is_empty() {
        o.line(&format!(
            "{} is never set in {}",
            path.shown(),
            eventscope::printable(&scope)
        ))?;
        return Ok(o.flush()?);
    }
    let with_stream = stream.is_none();
    let mut head = vec!["VERSION", "TYPE", "TIME (UTC)", "CHANGE", "OLD", "NEW"];
    if with_stream {
        head.insert(0, "STREAM");
    }
    let lines: Vec<Vec<String>> = rows.iter().map(|r| row_cells(r, with_stream)).collect();
    for line in table(&head, &lines) {
        o.line(&line)?;
    }
    o.line(&format!(
        "{} of {}",
        eventscope::count(rows.len() as i64, "change"),
        path.shown()
    ))?;
    Ok(o.flush()?)
}

fn row_cells(r: &HistoryRow, with_stream: bool) -> Vec<String> {
    let mut cells = vec![
        r.version.to_string(),
        eventscope::printable(&r.event_type).into_owned(),
        r.timestamp
            .as_deref()
            .map(|t| eventscope::time::display(t, false))
            .unwrap_or_default(),
        r.change.word().to_string(),
        cell(r.old.as_ref(), 40),
        cell(r.new.as_ref(), 40),
    ];
    if with_stream {
        cells.insert(0, eventscope::printable(&r.stream_id).into_owned());
    }
    cells
}

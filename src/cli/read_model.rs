//! `check --read-model`: the application's read model against replay, field by field, each
//! difference blamed on the event that last changed it.

use anyhow::{anyhow, bail, Result};
use eventscope::replay::read_model::{Finding, ReadModelCheck, ReadModelSpec};
use eventscope::replay::SeekOptions;
use eventscope::store::EventSource;

use super::args::ReplayArgs;
use super::output::{Out, Paint};

pub struct Options<'a> {
    pub project: Option<&'a str>,
    pub ignore: &'a [String],
    pub category: Option<&'a str>,
}

/// The spec itself, or the text of the file it names; checked, so that a TUI started with
/// a bad one says so before taking the screen.
pub fn spec_text(spec: &str) -> Result<String> {
    let text = if spec.contains('=') {
        spec.to_string()
    } else {
        eventscope::files::read_bounded_text(
            std::path::Path::new(spec),
            eventscope::files::PROGRAM_LIMIT,
            "--read-model file",
        )
        .map_err(|e| anyhow!(e))?
    };
    ReadModelSpec::parse(&text).map_err(|e| anyhow!("--read-model: {e}"))?;
    Ok(text)
}

pub fn run(
    store: &dyn EventSource,
    spec: &str,
    options: &Options,
    replay: &ReplayArgs,
    json: bool,
) -> Result<()> {
    let spec = ReadModelSpec::parse(&spec_text(spec)?).map_err(|e| anyhow!("--read-model: {e}"))?;
    for path in options.ignore {
        if !path.starts_with('/') {
            bail!("--ignore {path:?}: a field is a JSON Pointer, such as /lastUpdated");
        }
    }
    let reducer = super::commands::load_reducer(replay)?;
    let mut replayer =
        super::commands::timed_replayer(store, &reducer, replay, SeekOptions::default())?;
    let watch = replayer.watch_arc();
    let check = ReadModelCheck {
        spec: &spec,
        project: options.project,
        ignore: options.ignore,
        categories: options.category.map(|c| vec![c.to_string()]),
    };
    let findings = check.run(store, &reducer, &mut replayer, watch.as_deref())?;
    let mut o = Out::stdout();
    let id = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let show =
        |v: &Option<serde_json::Value>| v.as_ref().map_or("(absent)".into(), |v| v.to_string());
    for f in &findings {
        if json {
            o.json_line(f)?;
            continue;
        }
        let line = match f {
            Finding::Differs {
                stream,
                id: row,
                version,
                path,
                stored,
                replayed,
                blamed,
            } => {
                let by = blamed.as_ref().map_or(String::new(), |b| {
                    format!(
                        "; last changed by v{} {} (#{})",
                        b.version,
                        eventscope::printable(&b.event_type),
                        b.global_position
                    )
                });
                format!(
                    "{} (row {}, v{version}): {}  stored {}, replayed {}{by}",
                    eventscope::printable(stream),
                    eventscope::printable(&id(row)),
                    eventscope::printable(path),
                    eventscope::fit(&show(stored), 80),
                    eventscope::fit(&show(replayed), 80),
                )
            }
            Finding::Orphan {
                id: row,
                stream,
                why,
            } => format!(
                "row {}: orphan{} ({why})",
                eventscope::printable(&id(row)),
                stream.as_deref().map_or(String::new(), |s| format!(
                    ", stream {}",
                    eventscope::printable(s)
                ))
            ),
            Finding::Missing { stream } => {
                format!(
                    "{}: missing (no row stands for it)",
                    eventscope::printable(stream)
                )
            }
            Finding::Failed {
                stream,
                id: row,
                message,
            } => format!(
                "{} (row {}): {}",
                eventscope::printable(stream),
                eventscope::printable(&id(row)),
                eventscope::printable(message)
            ),
        };
        let line = o.paint(Paint::Red, &line);
        o.line(&line)?;
    }
    let count = |f: &dyn Fn(&Finding) -> bool| findings.iter().filter(|x| f(x)).count();
    let differs = count(&|f| matches!(f, Finding::Differs { .. }));
    let orphans = count(&|f| matches!(f, Finding::Orphan { .. }));
    let missing = count(&|f| matches!(f, Finding::Missing { .. }));
    let failed = count(&|f| matches!(f, Finding::Failed { .. }));
    if !json {
        let summary = if findings.is_empty() {
            format!("{}: the read model matches the replay", spec.table)
        } else {
            format!(
                "{}: {differs} differing fields, {orphans} orphan rows, {missing} missing rows, {failed} failed",
                spec.table
            )
        };
        let summary = o.paint(Paint::Dim, &summary);
        o.line(&summary)?;
    }
    o.flush()?;
    if !findings.is_empty() {
        bail!("the read model {} differs from the replay", spec.table);
    }
    Ok(())
}

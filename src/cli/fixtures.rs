//! `export-test` and `test`: a stream's history up to a version, with the state the reducer
//! made of it, as a fixture file; and every fixture in a folder run through a reducer.

use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use eventscope::replay::fixture::{Fixture, Outcome, Redaction};
use eventscope::store::{EventSource, RelatedKeys, SourceExt, StoreError};

use super::args::ReplayArgs;
use super::output::{Out, Paint};

/// Where the events of a fixture come from.
pub enum Given<'a> {
    /// A stream up to a version (its last when `None`).
    Stream(&'a str, Option<i64>),
    /// Every event sharing an event's correlation id, as `related` finds them.
    Correlation(&'a str),
}

pub fn export_test(
    store: &dyn EventSource,
    given: Given,
    out: Option<&Path>,
    redact: Option<&str>,
    replay: &ReplayArgs,
) -> Result<()> {
    let reducer = super::commands::load_reducer(replay)?;
    let watch = super::commands::guard(store, &replay.limits)?;
    let events = match given {
        Given::Stream(stream, at) => {
            drop(super::answer::need_stream(store, stream)?);
            let last = store.last_version(stream)?.unwrap_or(0);
            let at = at.unwrap_or(last);
            if at > last {
                bail!("{stream} has no version {at} (its last is {last})");
            }
            let mut events = Vec::new();
            store.read_stream(stream, i64::MIN..=at, |e| {
                events.push(e);
                Ok::<_, StoreError>(std::ops::ControlFlow::Continue(()))
            })?;
            if events.is_empty() {
                bail!("{stream} has no event up to version {at}");
            }
            events
        }
        Given::Correlation(id) => store.related(id, &RelatedKeys::default())?.events,
    };
    let redaction = redact
        .map(Redaction::new)
        .transpose()
        .map_err(|e| anyhow!(e))?;
    if let Some(r) = &redaction {
        r.watch_on(&watch);
    }
    let name = replay
        .reducer
        .as_deref()
        .map_or("built-in merge".to_string(), |p| p.display().to_string());
    let fixture = Fixture::make(&reducer, &name, events, redaction.as_ref(), Some(&watch))
        .map_err(|e| anyhow!(e))?;
    let text = fixture.to_ndjson();
    match out {
        None => {
            let mut o = Out::stdout();
            // Raw: the fixture is data for `test` and `import`, not a display.
            use std::io::Write;
            std::io::stdout().write_all(text.as_bytes())?;
            o.flush()?;
        }
        Some(path) => {
            eventscope::files::create_exclusive(path, &text).with_context(|| {
                format!(
                    "{}: cannot write a new file there (it must not exist yet)",
                    path.display()
                )
            })?;
            let expect: Vec<String> = fixture
                .header
                .expect
                .iter()
                .map(|x| format!("{} v{}", x.stream, x.version))
                .collect();
            super::output::warn(&format!(
                "wrote {}: {} events, expecting {}",
                path.display(),
                fixture.events.len(),
                expect.join(", ")
            ));
        }
    }
    Ok(())
}

/// The fixtures in `dir` (files ending in `.ndjson` whose first line is a fixture's
/// header), by name, and the other `.ndjson` files passed over; a file is taken as it is.
fn fixture_files(dir: &Path) -> Result<(Vec<std::path::PathBuf>, Vec<std::path::PathBuf>)> {
    let meta =
        std::fs::metadata(dir).map_err(|_| anyhow!("{}: no such file or folder", dir.display()))?;
    if meta.is_file() {
        return Ok((vec![dir.to_path_buf()], Vec::new()));
    }
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "ndjson") && p.is_file())
        .collect();
    files.sort();
    let (fixtures, others) = files.into_iter().partition(|p| starts_as_fixture(p));
    Ok((fixtures, others))
}

/// Whether a file's first bytes are a fixture's header.
fn starts_as_fixture(path: &Path) -> bool {
    use std::io::Read;
    let mut head = vec![0u8; 64];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .unwrap_or(0);
    let key = format!("{{\"{}\"", eventscope::replay::fixture::FIXTURE_KEY);
    String::from_utf8_lossy(&head[..n])
        .trim_start_matches('\u{feff}')
        .starts_with(&key)
}

pub fn test(dir: &Path, replay: &ReplayArgs, json: bool) -> Result<()> {
    let reducer = super::commands::load_reducer(replay)?;
    let watch = std::sync::Arc::new(eventscope::replay::Watch::default());
    watch.limit_memory(replay.limits.reducer_memory);
    watch.monitor(
        std::time::Duration::from_secs_f64(replay.limits.reducer_timeout),
        |t| {
            super::output::warn(&t.to_string());
            std::process::exit(1);
        },
    )?;
    let (files, others) = fixture_files(dir)?;
    if files.is_empty() {
        bail!(
            "{}: no fixtures (*.ndjson files written by export-test)",
            dir.display()
        );
    }
    for other in &others {
        super::output::warn(&format!(
            "{}: not a fixture (no export-test header), passed over",
            other.display()
        ));
    }
    let mut o = Out::stdout();
    let (mut passed, mut failed) = (0, 0);
    for file in &files {
        let shown = file.display().to_string();
        let text = eventscope::files::read_bounded_text(file, 256 << 20, "fixture")
            .map_err(|e| anyhow!(e))?;
        let fixture = Fixture::parse(&text, &shown).map_err(|e| anyhow!(e))?;
        let outcomes = fixture.run(&reducer, Some(&watch));
        let ok = outcomes.iter().all(Outcome::passed);
        if ok {
            passed += 1;
        } else {
            failed += 1;
        }
        if json {
            o.json_line(&serde_json::json!({
                "fixture": shown,
                "passed": ok,
                "outcomes": outcomes,
            }))?;
            continue;
        }
        let word = if ok {
            o.paint(Paint::Green, "pass")
        } else {
            o.paint(Paint::Red, "FAIL")
        };
        o.line(&format!("{word} {shown}"))?;
        for x in outcomes.iter().filter(|x| !x.passed()) {
            match &x.result {
                Err(e) => o.line(&format!("  {} v{}: {e}", x.stream, x.version))?,
                Ok(changes) => {
                    o.line(&format!(
                        "  {} v{}: the state differs from the expected one ({} change{}):",
                        x.stream,
                        x.version,
                        changes.len(),
                        if changes.len() == 1 { "" } else { "s" }
                    ))?;
                    for c in changes {
                        let line = super::answer::change_line(&o, c);
                        o.line(&format!("    {line}"))?;
                    }
                }
            }
        }
    }
    if !json {
        let summary = format!("{} fixtures: {passed} passed, {failed} failed", files.len());
        let summary = o.paint(Paint::Dim, &summary);
        o.line(&summary)?;
    }
    o.flush()?;
    if failed > 0 {
        bail!("{failed} of {} fixtures failed", files.len());
    }
    Ok(())
}

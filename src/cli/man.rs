//! `eventscope man`: the manual page, from the command line's own definitions (clap_mangen)
//! plus what `--help` cannot hold: examples, the environment, files and the TUI's keys. It
//! names only pages that exist: the subcommands by their command line, unless `--all DIR`
//! writes a page for each of them too.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::CommandFactory;

use super::args::Cli;

const EXAMPLES: &[(&str, &str)] = &[
    (
        "eventscope bank.db --reducer reducers/",
        "the terminal UI on a store",
    ),
    (
        "eventscope streams bank.db",
        "streams with their event counts",
    ),
    (
        "eventscope events bank.db --stream Account-acc-1",
        "a stream's events",
    ),
    (
        "eventscope events bank.db --follow",
        "the last 10 events, then new ones as they come",
    ),
    (
        "eventscope state bank.db Account-acc-1 --at-time 2024-03-01T09:08",
        "a state at a time",
    ),
    (
        "eventscope when bank.db Account-acc-1 '.balance < 0'",
        "the first version where a predicate holds",
    ),
    (
        "eventscope blame bank.db Account-acc-1",
        "which event set each field",
    ),
    (
        "eventscope check bank.db --reducer reducers/",
        "gaps, bad payloads, snapshots",
    ),
    (
        "eventscope events 'postgres://me@db/app' --where '.data.amount > 1000'",
        "jq over a PostgreSQL store's events",
    ),
];

const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "EVENTSCOPE_REDUCER",
        "a reducer (.jq file or folder) for every command that takes --reducer; `merge` for the built-in merge",
    ),
    ("EVENTSCOPE_THEME", "the TUI's theme: a name or a file"),
    ("NO_COLOR", "no colours, in the CLI and the TUI"),
    ("XDG_CONFIG_HOME", "where keymap.toml and theme.toml are looked for (eventscope/)"),
    ("XDG_DATA_HOME", "where the prompts' history is kept (eventscope/history.json)"),
    ("XDG_CACHE_HOME", "where the demo store and exports that cannot go here are written"),
];

const FILES: &[(&str, &str)] = &[
    (
        ".eventscope.toml",
        "beside a store: its reducer, layout, map and snapshot_map (paths relative to it)",
    ),
    (
        "reducers/",
        "beside a store: its <category>.jq reducers, used when none is named",
    ),
    (
        "~/.config/eventscope/keymap.toml",
        "keys, per layer, over the shipped keymap",
    ),
];

/// Text for roff: backslashes and hyphens escaped, and no line read as a request.
fn roff(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    match escaped.starts_with(['.', '\'']) {
        true => format!("\\&{escaped}"),
        false => escaped,
    }
}

/// A section of `.TP` items: a bold term, then its text.
fn items(out: &mut dyn Write, heading: &str, rows: &[(String, String)]) -> std::io::Result<()> {
    writeln!(out, ".SH {heading}")?;
    for (term, text) in rows {
        writeln!(out, ".TP\n\\fB{}\\fR\n{}", roff(term), roff(text))?;
    }
    Ok(())
}

fn owned(rows: &[(&str, &str)]) -> Vec<(String, String)> {
    rows.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// The main page; `pages` says the subcommands have pages of their own.
fn main_page(out: &mut dyn Write, pages: bool) -> Result<()> {
    let cmd = Cli::command();
    let man = clap_mangen::Man::new(cmd.clone());
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    let subcommands: Vec<(String, String)> = cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .map(|s| {
            let name = match pages {
                true => format!("eventscope-{}(1)", s.get_name()),
                false => format!("eventscope {}", s.get_name()),
            };
            let about = s.get_about().map(|a| a.to_string()).unwrap_or_default();
            (
                name,
                format!("{about} (eventscope {} --help)", s.get_name()),
            )
        })
        .collect();
    items(out, "SUBCOMMANDS", &subcommands)?;
    items(out, "EXAMPLES", &owned(EXAMPLES))?;
    items(out, "ENVIRONMENT", &owned(ENVIRONMENT))?;
    items(out, "FILES", &owned(FILES))?;
    let keys: Vec<(String, String)> = crate::tui::key_table()
        .into_iter()
        .map(|(group, keys, desc)| (keys, format!("{desc} ({group})")))
        .collect();
    items(out, "TERMINAL UI KEYS", &keys)?;
    man.render_version_section(out)?;
    Ok(())
}

/// `eventscope man`: the main page on stdout.
pub fn print() -> Result<()> {
    let mut out = std::io::stdout().lock();
    main_page(&mut out, false)?;
    out.flush()?;
    Ok(())
}

/// `eventscope man --all DIR`: the main page and one per subcommand, written into DIR
/// (made if need be); the paths written, in order.
pub fn write_all(dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("making {}", dir.display()))?;
    let mut written = Vec::new();
    let mut write = |name: String, render: &dyn Fn(&mut dyn Write) -> Result<()>| -> Result<()> {
        let path = dir.join(format!("{name}.1"));
        let mut text = Vec::new();
        render(&mut text)?;
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        written.push(path);
        Ok(())
    };
    write("eventscope".into(), &|out| main_page(out, true))?;
    for sub in Cli::command()
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
    {
        let name = format!("eventscope-{}", sub.get_name());
        let page = sub
            .clone()
            .display_name(name.clone())
            .bin_name(name.replace('-', " "));
        write(name, &|out| {
            Ok(clap_mangen::Man::new(page.clone()).render(out)?)
        })?;
    }
    Ok(written)
}

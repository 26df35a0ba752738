//! The headless command line: argument definitions and dispatch. No terminal-UI code.

mod answer;
mod args;
mod check;
mod commands;
mod compare;
mod completions;
mod consumers;
mod debug;
mod events;
mod export;
mod find;
mod fixtures;
mod history;
mod import;
mod man;
mod mcp;
mod output;
mod progress;
mod read_model;
mod types;

use anyhow::Result;

pub use args::Cli;
pub use commands::{Outcome, UiRequest};

pub fn parse() -> Cli {
    use clap::{CommandFactory, FromArgMatches};
    if let Some(first) = std::env::args_os().nth(1) {
        mistyped_command(&first.to_string_lossy());
    }
    let mut command = Cli::command();
    // Global options reach every subcommand once built; those that read no store do not
    // show the store's options in their help.
    command.build();
    for name in STORELESS {
        command = command.mut_subcommand(name, |s| {
            s.mut_args(|a| match a.is_global_set() {
                true => a.hide(true),
                false => a,
            })
        });
    }
    let matches = command.get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

/// Subcommands that open no store.
const STORELESS: [&str; 5] = ["demo", "import", "formats", "completions", "man"];

/// `eventscope stream x.db`: the optional STORE would take the mistyped command. When the
/// first word names no file but is close to a command's name, say so as clap would, with
/// exit code 2.
fn mistyped_command(word: &str) {
    use clap::CommandFactory;
    if word.starts_with('-') || word.contains(['/', '.']) || std::path::Path::new(word).exists() {
        return;
    }
    let command = Cli::command();
    let names: Vec<String> = command
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .chain(["help".to_string()])
        .collect();
    if names.iter().any(|n| n == word) {
        return;
    }
    let close = names
        .iter()
        .map(|n| (strsim::jaro_winkler(word, n), n))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    if let Some((_, name)) = close {
        eprintln!(
            "error: unrecognized subcommand '{}'; did you mean '{name}'? (see eventscope --help)",
            eventscope::printable(word)
        );
        std::process::exit(2);
    }
}

pub fn run(cli: Cli) -> Result<Outcome> {
    commands::run(cli)
}

/// True when the error is only that stdout was closed early (`eventscope events | head`).
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The error and its causes on one line, without repeating a cause a context already says.
pub fn one_line(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        // A TOML error's caret diagram only reads on lines of its own; the rest is one line.
        let text = cause.to_string();
        let text = if text.contains("TOML parse error") {
            text.trim_end().to_string()
        } else {
            text.replace('\n', " ")
        };
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

//! The headless command line: argument definitions and dispatch. No terminal-UI code.

mod answer;
mod args;
mod check;
mod commands;
mod events;
mod import;
mod output;

use anyhow::Result;
use clap::Parser;

pub use args::Cli;

pub fn parse() -> Cli {
    Cli::parse()
}

pub fn run(cli: Cli) -> Result<()> {
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
        let text = cause.to_string().replace('\n', " ");
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

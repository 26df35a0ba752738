//! The `eventscope` binary: parses the command line, then runs a CLI command or, with no
//! command, the terminal UI. The CLI knows nothing of the TUI; the TUI takes the settings
//! the CLI parsed for it (`cli::UiRequest`).
#![forbid(unsafe_code)]

mod cli;
mod dirs;
mod tui;

use std::process::ExitCode;

/// Replays make and drop many small values (jq objects, strings); mimalloc's per-thread
/// free lists serve them markedly faster than the system allocator (see README, Speed).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    if tui::is_worker() {
        return match tui::serve_worker() {
            Ok(()) => ExitCode::SUCCESS,
            Err(_) => ExitCode::from(1),
        };
    }
    let args = cli::parse();
    let result = cli::run(args).and_then(|outcome| match outcome {
        cli::Outcome::Done => Ok(()),
        cli::Outcome::OpenUi(r) => tui::open(*r),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if cli::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("eventscope: {}", eventscope::printable(&cli::one_line(&e)));
            ExitCode::from(1)
        }
    }
}

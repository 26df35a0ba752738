//! The `eventscope` binary: the CLI's commands and, with no command, the TUI.
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
    if tui::worker_process::is_worker() {
        return match tui::worker_process::serve() {
            Ok(()) => ExitCode::SUCCESS,
            Err(_) => ExitCode::from(1),
        };
    }
    let args = cli::parse();
    match cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if cli::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("eventscope: {}", eventscope::printable(&cli::one_line(&e)));
            ExitCode::from(1)
        }
    }
}

//! The `eventscope` binary: parses the command line, then runs a CLI command or, with no
//! command, the terminal UI. The CLI knows nothing of the TUI; the TUI takes the settings
//! the CLI parsed for it (`cli::UiRequest`).
#![forbid(unsafe_code)]

mod cli;
mod dirs;
mod mcp;
mod tui;

use std::process::ExitCode;

/// Replays make and drop many small values (jq objects, strings); mimalloc's per-thread
/// free lists serve them markedly faster than the system allocator (see README, Speed).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The guard's memory limit as given (`--jq-memory N`, `--reducer-memory=N`), in MiB.
fn memory_limit_arg() -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .enumerate()
        .find_map(|(i, a)| {
            let value = ["--jq-memory", "--reducer-memory"]
                .iter()
                .find_map(|flag| {
                    a.strip_prefix(&format!("{flag}="))
                        .map(str::to_string)
                        .or_else(|| (a == flag).then(|| args.get(i + 1).cloned()).flatten())
                })?;
            value.parse::<u64>().ok()
        })
        .unwrap_or(1024)
}

/// Runs `f` on a thread with a deep stack ([`eventscope::replay::stack_for`]), or here
/// where no such thread can be made.
fn on_deep_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let f = std::sync::Arc::new(std::sync::Mutex::new(Some(f)));
    let take = {
        let f = f.clone();
        move || f.lock().ok().and_then(|mut f| f.take())
    };
    let spawned = std::thread::Builder::new()
        .name("eventscope".into())
        .stack_size(eventscope::replay::stack_for(memory_limit_arg()))
        .spawn(move || take().map(|f| f()));
    match spawned.map(|t| t.join()) {
        Ok(Ok(Some(out))) => out,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        _ => {
            let f = f.lock().ok().and_then(|mut f| f.take());
            f.map(|f| f()).unwrap_or_else(|| std::process::exit(1))
        }
    }
}

fn main() -> ExitCode {
    if tui::is_worker() {
        return match tui::serve_worker() {
            Ok(()) => ExitCode::SUCCESS,
            Err(_) => ExitCode::from(1),
        };
    }
    let args = cli::parse();
    let result = on_deep_stack(move || cli::run(args)).and_then(|outcome| match outcome {
        cli::Outcome::Done => Ok(()),
        cli::Outcome::OpenUi(r) => tui::open(*r),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if cli::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            let text = cli::one_line(&e);
            let mut lines = text.lines();
            eprintln!(
                "eventscope: {}",
                eventscope::printable(lines.next().unwrap_or(""))
            );
            for line in lines {
                eprintln!("{}", eventscope::printable(line));
            }
            ExitCode::from(1)
        }
    }
}

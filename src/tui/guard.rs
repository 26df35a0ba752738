//! The terminal's guard. Some failures end a process without unwinding (a reducer that
//! recurses without end overflows the stack, and Rust aborts), so no panic hook runs and
//! the terminal would be left in raw mode. The TUI therefore runs in a child process; this
//! parent waits and, if the child died by a signal, puts the terminal back and says why.

use std::io::stdout;
use std::process::{Command, Stdio};

use anyhow::{Context, Result};
use ratatui::crossterm::cursor::Show;
use ratatui::crossterm::event::DisableMouseCapture;
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::LeaveAlternateScreen;

/// Set in the child, so that it runs the TUI itself.
const CHILD: &str = "EVENTSCOPE_TUI_CHILD";

/// Whether this process should hand the TUI to a guarded child.
pub fn should_guard() -> bool {
    std::env::var_os(CHILD).is_none()
}

/// Runs this same command line in a child and waits; returns its exit code.
pub fn run_guarded() -> Result<i32> {
    // The terminal's settings as they are now, to put back (crossterm can only undo raw
    // mode in the process that set it).
    let saved = Command::new("stty")
        .arg("-g")
        .stdin(Stdio::inherit())
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    let exe = std::env::current_exe().context("finding this program")?;
    let mut child = Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env(CHILD, "1")
        .spawn()
        .context("starting the terminal UI")?;
    // A signal to this process (`kill PID`, a closed terminal) is passed on to the UI,
    // which quits as `q` does; this one then waits for it and cleans up as usual.
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
    let mut signals =
        signal_hook::iterator::Signals::new(super::ENDING_SIGNALS).context("handling signals")?;
    let handle = signals.handle();
    let forwarding = std::thread::Builder::new()
        .name("forward-signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                if let Ok(s) = nix::sys::signal::Signal::try_from(signal) {
                    let _ = nix::sys::signal::kill(pid, s);
                }
            }
        })
        .context("starting the signal handler")?;
    let status = child.wait().context("waiting for the terminal UI")?;
    handle.close();
    let _ = forwarding.join();
    // A quit (0) or an error it printed (1, 2 for usage) restored the terminal itself, or
    // never took it: leaving an alternate screen that was never entered would put the
    // cursor home in xterm, over that error. A signal or a panic (101) may not have.
    if let Some(code) = status.code().filter(|c| (0..=2).contains(c)) {
        return Ok(code);
    }
    let _ = execute!(stdout(), DisableMouseCapture, LeaveAlternateScreen, Show);
    let restored = saved.is_some_and(|s| {
        Command::new("stty")
            .arg(s)
            .stdin(Stdio::inherit())
            .status()
            .is_ok_and(|st| st.success())
    });
    if !restored {
        let _ = Command::new("stty")
            .arg("sane")
            .stdin(Stdio::inherit())
            .status();
    }
    if let Some(code) = status.code() {
        return Ok(code);
    }
    eprintln!(
        "eventscope: the terminal UI stopped abruptly ({status}); the terminal is restored. \
         A reducer that recurses without end overflows the stack: check the --reducer program."
    );
    Ok(1)
}

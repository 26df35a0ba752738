//! A tool call runs as a child process of this binary: the CLI command itself, so that the
//! answer is the CLI's `--json` answer by construction, and the one jq guard (which ends
//! the process when a program overruns, as jaq cannot be interrupted) ends the call, not
//! the server. Output, errors and time are bounded here.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What a call may print before it is cut (its answer is then paged by the tool).
pub const STDOUT_LIMIT: usize = 32 << 20;
const STDERR_LIMIT: usize = 64 << 10;

pub struct Finished {
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    /// The command's stdout ran past [`STDOUT_LIMIT`] and was cut there.
    pub cut: bool,
    pub stderr: String,
}

/// Runs `eventscope ARGS`, killed after `limit`.
pub fn run(args: &[String], limit: Duration) -> Result<Finished, String> {
    let exe = std::env::current_exe().map_err(|e| format!("finding this program: {e}"))?;
    let mut child = Command::new(exe)
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("starting the call: {e}"))?;
    let (Some(out), Some(err)) = (child.stdout.take(), child.stderr.take()) else {
        return Err("the call's output could not be read".into());
    };
    let stdout = std::thread::spawn(move || read_bounded(out, STDOUT_LIMIT));
    let stderr = std::thread::spawn(move || read_bounded(err, STDERR_LIMIT));
    let started = Instant::now();
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() >= limit => {
                timed_out = true;
                let _ = child.kill();
                break child.wait().ok();
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(format!("waiting for the call: {e}")),
        }
    };
    let (stdout, cut) = stdout.join().unwrap_or_default();
    let (stderr, _) = stderr.join().unwrap_or_default();
    if timed_out {
        return Err(format!(
            "the call ran past {} s and was stopped (--call-timeout)",
            limit.as_secs()
        ));
    }
    Ok(Finished {
        code: status.and_then(|s| s.code()),
        stdout,
        cut,
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    })
}

/// At most `limit` bytes of `r`, and whether there were more (the rest is drained, so
/// the child never blocks on a full pipe).
fn read_bounded(mut r: impl Read, limit: usize) -> (Vec<u8>, bool) {
    let mut kept = Vec::new();
    let mut buf = [0u8; 64 << 10];
    let mut cut = false;
    loop {
        match r.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = limit.saturating_sub(kept.len());
                kept.extend_from_slice(&buf[..n.min(room)]);
                cut |= n > room;
            }
        }
    }
    (kept, cut)
}

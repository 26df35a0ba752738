//! The worker runs in a child process of its own. jaq cannot be interrupted, so a reducer
//! that loops, recurses or grows without end can only be stopped by ending the process it
//! runs in: the child's watchdog reports the call and the child exits, giving back its CPU
//! and memory, and the UI starts a fresh child that skips that event. Requests and answers
//! cross the pipe as JSON lines.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::{Msg, Req, WorkerConfig};

/// Set in the child, so that it serves requests instead of parsing a command line.
pub const WORKER_ENV: &str = "EVENTSCOPE_TUI_WORKER";

/// Whether this process is a worker child.
pub fn is_worker() -> bool {
    std::env::var_os(WORKER_ENV).is_some()
}

/// The child's side: the configuration on the first line of stdin, then requests, one per
/// line; answers go to stdout. Ends when stdin closes, or right after reporting a reducer
/// call that had to be stopped.
pub fn serve() -> Result<()> {
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let config: WorkerConfig = match lines.next() {
        Some(line) => serde_json::from_str(&line?).context("reading the worker's configuration")?,
        None => return Ok(()),
    };
    drop(lines);
    let (req_tx, req_rx) = mpsc::channel::<Req>();
    let (msg_tx, msg_rx) = mpsc::channel::<Msg>();
    std::thread::Builder::new()
        .name("worker-stdin".into())
        .spawn(move || {
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else { return };
                let Ok(req) = serde_json::from_str::<Req>(&line) else {
                    return;
                };
                if req_tx.send(req).is_err() {
                    return;
                }
            }
        })
        .context("starting the worker's reader")?;
    std::thread::Builder::new()
        .name("eventscope-worker".into())
        // Deep but finite recursion gets room, and endless recursion meets the memory
        // guard before the stack's end; pages are only used if touched.
        .stack_size(eventscope::replay::stack_for(config.ui.reducer_memory))
        .spawn(move || super::run(config, req_rx, msg_tx))
        .context("starting the worker thread")?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for msg in msg_rx {
        let stop = matches!(msg, Msg::ReducerTimeout(_));
        serde_json::to_writer(&mut out, &msg)?;
        out.write_all(b"\n")?;
        out.flush()?;
        if stop {
            // The stuck call cannot be interrupted: ending the process stops it.
            std::process::exit(0);
        }
    }
    Ok(())
}

/// The UI's handle on a worker child; dropping it ends the child.
pub struct WorkerProcess {
    child: Child,
}

impl WorkerProcess {
    /// Ends the child: its stdin is closed by then (the requests' sender went first), so
    /// an idle child exits by itself and closes the store; one stuck in a reducer is killed.
    pub fn finish(mut self) {
        let deadline = Instant::now() + Duration::from_millis(500);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub type Channels = (mpsc::Sender<Req>, WorkerProcess);

/// Starts a worker child for `config` and threads that carry requests to it and its
/// answers back to `deliver` (which returns false once nobody listens). If the child dies
/// without a word (killed, or a crash), `deliver` gets [`Msg::WorkerDied`] with the call it
/// died in where a careful worker journalled it.
pub fn spawn(
    config: &WorkerConfig,
    deliver: impl Fn(Msg) -> bool + Send + 'static,
) -> Result<Channels> {
    let exe = std::env::current_exe().context("finding this program")?;
    let mut child = Command::new(exe)
        .env(WORKER_ENV, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting the worker process")?;
    let mut stdin = child.stdin.take().context("the worker's stdin")?;
    let stdout = child.stdout.take().context("the worker's stdout")?;
    let stderr = child.stderr.take().context("the worker's stderr")?;
    // A careful worker journals its jq calls on stderr: the last line names the call it
    // died in. Only the last line is kept.
    let journal = std::thread::Builder::new()
        .name("worker-journal".into())
        .spawn(move || {
            let mut last = String::new();
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                last = line;
            }
            eventscope::replay::last_call(&last)
        })
        .context("starting the worker's journal reader")?;
    serde_json::to_writer(&mut stdin, config)?;
    stdin.write_all(b"\n")?;
    let (req_tx, req_rx) = mpsc::channel::<Req>();
    std::thread::Builder::new()
        .name("to-worker".into())
        .spawn(move || {
            for req in req_rx {
                let Ok(mut line) = serde_json::to_vec(&req) else {
                    continue;
                };
                line.push(b'\n');
                if stdin.write_all(&line).and_then(|()| stdin.flush()).is_err() {
                    return;
                }
            }
        })
        .context("starting the worker's writer")?;
    std::thread::Builder::new()
        .name("from-worker".into())
        .spawn(move || {
            let mut stopped = false;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let Ok(msg) = serde_json::from_str::<Msg>(&line) else {
                    break;
                };
                stopped |= matches!(msg, Msg::ReducerTimeout(_));
                if !deliver(msg) {
                    return;
                }
            }
            if !stopped {
                let during = journal.join().ok().flatten();
                deliver(Msg::WorkerDied(during));
            }
        })
        .context("starting the worker's reader")?;
    // The writer thread owns stdin now; the handle keeps the child to end it.
    Ok((req_tx, WorkerProcess { child }))
}

//! `events STORE --follow --json` run as a child, its lines gathered as they come.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::bin::bin;

pub struct Follower {
    child: std::process::Child,
    lines: mpsc::Receiver<String>,
    /// What the follower wrote to stderr, for the assertions' messages.
    pub errors: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Follower {
    pub fn start(url: &str) -> Follower {
        let mut child = bin()
            .args(["events", url, "--follow", "--json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let err = child.stderr.take().unwrap();
        let errors = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let kept = errors.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let mut kept = kept.lock().unwrap();
                kept.push_str(&line);
                kept.push('\n');
            }
        });
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Follower {
            child,
            lines,
            errors,
        }
    }

    /// Adds what the follower prints within `wait` to `seen`.
    pub fn settle(&self, seen: &mut Vec<Value>, wait: Duration) {
        let end = Instant::now() + wait;
        while let Ok(line) = self
            .lines
            .recv_timeout(end.saturating_duration_since(Instant::now()))
        {
            seen.push(serde_json::from_str(&line).unwrap());
        }
    }

    /// Adds what the follower prints to `seen` until `done` holds (at most `max`), then
    /// for a short while more, so that a line printed twice would be seen.
    pub fn settle_until(
        &self,
        seen: &mut Vec<Value>,
        max: Duration,
        done: impl Fn(&[Value]) -> bool,
    ) {
        let end = Instant::now() + max;
        while !done(seen) {
            let Ok(line) = self
                .lines
                .recv_timeout(end.saturating_duration_since(Instant::now()))
            else {
                break;
            };
            seen.push(serde_json::from_str(&line).unwrap());
        }
        self.settle(seen, Duration::from_millis(500));
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

//! Running the real binary from tests: output, success, and the one-line failure.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// The binary, with colour off so output compares as text.
pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_eventscope"));
    c.env("NO_COLOR", "1");
    c
}

pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("the binary runs")
}

/// Stdout of a command that must succeed.
pub fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// Stderr of a command that must fail with exit code 1 and exactly one line, no panic.
pub fn fails(args: &[&str]) -> String {
    let out = run(args);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{args:?} should fail with 1: {err}"
    );
    assert_eq!(err.lines().count(), 1, "one line expected, got: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{err}"
    );
    err
}

/// NDJSON into values.
pub fn lines(s: &str) -> Vec<Value> {
    s.lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

pub fn s(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

/// The demo store, written by the binary as `bank.db` in `dir`.
pub fn demo(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("bank.db");
    ok(&["demo", "--out", s(&path)]);
    path
}

/// What a Python program (`args` to `python3`) prints as JSON; it must succeed.
pub fn python_json(args: &[&str]) -> Value {
    let out = Command::new("python3")
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "python3 {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON from python3")
}

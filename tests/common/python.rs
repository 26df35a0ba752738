//! A Python with the real `eventsourcing` library, for tests that ask the library itself
//! for the answer. Made once per machine under the target folder (a venv, pip from PyPI).

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

static MADE: Mutex<()> = Mutex::new(());

/// The venv's python; the venv is made on first use. Fails loudly when it cannot be.
pub fn with_eventsourcing() -> PathBuf {
    let _one_at_a_time = MADE.lock().unwrap_or_else(|e| e.into_inner());
    let venv = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("venv-eventsourcing");
    let python = venv.join("bin/python");
    let ready = venv.join("ready");
    if ready.exists() {
        return python;
    }
    let status = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .expect("python3 runs");
    assert!(
        status.success(),
        "python3 -m venv failed (Debian: python3-venv)"
    );
    let status = Command::new(&python)
        .args(["-m", "pip", "install", "-q", "eventsourcing>=9.4,<10"])
        .status()
        .expect("pip runs");
    assert!(status.success(), "pip install eventsourcing failed");
    std::fs::write(&ready, "").unwrap();
    python
}

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
    // Marked again whenever the packages change, so that an older venv is brought up to date.
    let ready = venv.join("ready-sqlalchemy");
    if ready.exists() {
        return python;
    }
    pip_install(
        &venv,
        &[
            "eventsourcing>=9.4,<10",
            // eventsourcing's SQLAlchemy persistence (tests/layouts_sqlalchemy.rs).
            "eventsourcing-sqlalchemy>=1,<2",
            // psycopg for the library's PostgreSQL persistence (binary wheels).
            "psycopg[binary]",
            "psycopg-pool",
        ],
    );
    std::fs::write(&ready, "").unwrap();
    python
}

/// A venv of its own (`venv-NAME` under the target folder) with `packages` from PyPI,
/// made on first use: DuckDB to read exported Parquet files, the MCP SDK as a client.
pub fn with_packages(name: &str, packages: &[&str]) -> PathBuf {
    let _one_at_a_time = MADE.lock().unwrap_or_else(|e| e.into_inner());
    let venv = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("venv-{name}"));
    let python = venv.join("bin/python");
    let ready = venv.join(format!(
        "ready-{}",
        packages.join("-").replace(['<', '>', '=', ','], "_")
    ));
    if ready.exists() {
        return python;
    }
    pip_install(&venv, packages);
    std::fs::write(&ready, "").unwrap();
    python
}

/// Makes the venv afresh and installs `packages` into it from PyPI.
fn pip_install(venv: &std::path::Path, packages: &[&str]) {
    let status = Command::new("python3")
        .args(["-m", "venv", "--clear"])
        .arg(venv)
        .status()
        .expect("python3 runs");
    assert!(
        status.success(),
        "python3 -m venv failed (Debian: python3-venv)"
    );
    let status = Command::new(venv.join("bin/python"))
        .args(["-m", "pip", "install", "-q"])
        .args(packages)
        .status()
        .expect("pip runs");
    assert!(status.success(), "pip install {packages:?} failed");
}

/// Runs tests/fixtures/eventsourcing_system.py with `args` and returns what the library
/// says of each follower (its name, position, head, lag and next notification).
pub fn eventsourcing_system(args: &[&str]) -> Vec<serde_json::Value> {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/eventsourcing_system.py"
    );
    let out = Command::new(with_eventsourcing())
        .arg(script)
        .args(args)
        .output()
        .expect("the venv's python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{text}");
    lines
}

/// Checks `consumers --json` output against the library's word on each follower of
/// the leader Bank.
pub fn assert_followers_match(got: &[serde_json::Value], library: &[serde_json::Value]) {
    for want in library {
        let name = want["consumer"].as_str().unwrap();
        let c = got
            .iter()
            .find(|c| c["consumer"] == format!("{name} ← Bank"))
            .unwrap_or_else(|| panic!("{name} missing: {got:?}"));
        assert_eq!(c["position"], want["position"], "{name}");
        assert_eq!(c["head"], want["head"], "{name}");
        assert_eq!(c["lag"], want["lag"], "{name}");
        match want["next"].as_object() {
            None => assert!(c["next_event"].is_null(), "{name}"),
            Some(next) => {
                assert_eq!(c["next_event"]["position"], next["position"], "{name}");
                let topic = next["topic"].as_str().unwrap();
                let ty = c["next_event"]["type"].as_str().unwrap();
                assert!(topic.ends_with(&format!(".{ty}")), "{name}: {topic}");
            }
        }
    }
}

//! Node with Emmett's real PostgreSQL package, for tests that let Emmett's own processors
//! write their checkpoints. Installed once per machine under the target folder (npm).

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

static MADE: Mutex<()> = Mutex::new(());

/// The folder holding `node_modules` with `@event-driven-io/emmett-postgresql` 0.42.0 and
/// the fixture scripts copied beside it (ES modules resolve packages from their own
/// folder). Fails loudly when npm cannot install it.
pub fn with_emmett() -> PathBuf {
    let _one_at_a_time = MADE.lock().unwrap_or_else(|e| e.into_inner());
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("node-emmett");
    let ready = dir.join("ready");
    if !ready.exists() {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("package.json"),
            r#"{"name": "eventscope-emmett", "private": true}"#,
        )
        .unwrap();
        let status = Command::new("npm")
            .args([
                "install",
                "--no-audit",
                "--no-fund",
                "--silent",
                "@event-driven-io/emmett-postgresql@0.42.0",
            ])
            .current_dir(&dir)
            .status()
            .expect("npm runs (Debian: nodejs npm)");
        assert!(
            status.success(),
            "npm install @event-driven-io/emmett-postgresql failed"
        );
        std::fs::write(&ready, "").unwrap();
    }
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/emmett");
    for entry in std::fs::read_dir(fixtures).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
    }
    dir
}

/// Runs a fixture script of tests/fixtures/emmett with Emmett installed, on the database
/// at `url`; its JSON lines (what Emmett itself reads back). Fails with its stderr.
pub fn run(script: &str, url: &str) -> Vec<serde_json::Value> {
    let node = with_emmett();
    let out = Command::new("node")
        .arg(node.join(script))
        .arg(url)
        .current_dir(&node)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

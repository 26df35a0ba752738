//! `export --parquet` against what the issue measures it by: the export of 1,000,000
//! events against `events --json` of them to /dev/null (goal ≤ 2×), and `--states`
//! against a replay of the same events (every category's `state --category`; goal ≤ 2×).
//! Each command is the release binary, timed whole; medians of three runs.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

#[path = "common/fixture.rs"]
mod fixture;
#[path = "common/timing.rs"]
mod timing;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_eventscope");
const REDUCERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/reducers");

fn run(args: &[&str]) -> Duration {
    timing::median(3, || {
        let status = Command::new(BIN)
            .args(args)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "{args:?}");
    })
}

/// An export into a fresh folder each run.
fn export(store: &str, extra: &[&str]) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;
    timing::median(3, || {
        n += 1;
        let out = dir.path().join(format!("run{n}"));
        let mut args = vec!["export", store, "--parquet", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        let status = Command::new(BIN)
            .args(&args)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        std::fs::remove_dir_all(&out).unwrap();
    })
}

fn main() {
    let path = fixture::million_events();
    let store = path.to_str().unwrap();
    let listing = run(&["events", store, "--json"]);
    let events = export(store, &[]);
    println!(
        "export of 1,000,000 events: {:.2} s; events --json to /dev/null {:.2} s: {:.2}× (goal ≤ 2×)",
        events.as_secs_f64(),
        listing.as_secs_f64(),
        events.as_secs_f64() / listing.as_secs_f64()
    );
    let replay: Duration = ["Account", "Order", "User"]
        .iter()
        .map(|c| run(&["state", store, "--category", c, "--reducer", REDUCERS]))
        .sum();
    let states = export(store, &["--states", "--reducer", REDUCERS]);
    let states_part = states.saturating_sub(events);
    println!(
        "--states on top of the events: {:.2} s; a replay of every category {:.2} s: {:.2}× (goal ≤ 2×); the whole export with states {:.2} s",
        states_part.as_secs_f64(),
        replay.as_secs_f64(),
        states_part.as_secs_f64() / replay.as_secs_f64(),
        states.as_secs_f64(),
    );
    let _ = Path::new(REDUCERS);
}

//! `compare-reducers` against one replay of the same events: the 1,000,000-event fixture's
//! 500,000-event account stream folded by Account.jq and by a variant of it that agrees
//! (the worst case: no early end), side by side, versus one fold with Account.jq.
//! Goal: at most 2.2× one replay.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

#[path = "common/timing.rs"]
mod timing;

use std::path::{Path, PathBuf};

use eventscope::demo::{write_demo, HOT_STREAM};
use eventscope::replay::compare::{compare_stream, Comparison};
use eventscope::replay::{Reducer, Replayer, SeekOptions};
use eventscope::store::Store;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const HOT: usize = 500_000;
const ACCOUNT_JQ: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/reducers/Account.jq");

/// The replay bench's fixture (written once, shared).
fn fixture() -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-1m-v1.sqlite");
    if !path.exists() {
        let tmp = path.with_extension("tmp");
        let _ = std::fs::remove_file(&tmp);
        write_demo(&tmp, 1_000_000, HOT).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
    }
    path
}

fn main() {
    let store = Store::open(fixture()).unwrap();
    let a = Reducer::load(Path::new(ACCOUNT_JQ)).unwrap();
    // The same reducer in other words: it folds the same, so every event is compared.
    let dir = tempfile::tempdir().unwrap();
    let variant = dir.path().join("variant.jq");
    let text = std::fs::read_to_string(ACCOUNT_JQ).unwrap();
    std::fs::write(
        &variant,
        text.replace(
            ".balance += $event.data.amount",
            ".balance = .balance + $event.data.amount",
        ),
    )
    .unwrap();
    let b = Reducer::load(&variant).unwrap();
    let one = timing::median(3, || {
        let mut r = Replayer::new(&store, &a, SeekOptions::default());
        std::hint::black_box(r.state_at(HOT_STREAM, HOT as i64).unwrap());
    });
    let both = timing::median(3, || {
        let c = compare_stream(&store, &a, &b, HOT_STREAM, None, None).unwrap();
        assert!(matches!(c, Comparison::Equal { .. }), "{c:?}");
    });
    println!(
        "compare-reducers over {HOT} events: {:.2} s; one replay {:.2} s: {:.2}× (goal ≤ 2.2×)",
        both.as_secs_f64(),
        one.as_secs_f64(),
        both.as_secs_f64() / one.as_secs_f64()
    );
}

//! `compare-reducers` against one replay of the same events: the 1,000,000-event fixture's
//! 500,000-event account stream folded by Account.jq and by a variant of it that agrees
//! (the worst case: no early end), side by side, versus one fold with Account.jq.
//! Goal: at most 2.2× one replay.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

#[path = "common/fixture.rs"]
mod fixture;
#[path = "common/timing.rs"]
mod timing;

use std::path::Path;

use eventscope::demo::HOT_STREAM;
use eventscope::replay::compare::{compare_stream, Comparison};
use eventscope::replay::{Reducer, Replayer, SeekOptions};
use eventscope::store::Store;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use fixture::HOT;
const ACCOUNT_JQ: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/reducers/Account.jq");

fn main() {
    let store = Store::open(fixture::million_events()).unwrap();
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

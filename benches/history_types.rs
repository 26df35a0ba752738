//! Field history and the type catalog against what they are measured by (issue goals):
//! `history` of the 1,000,000-event fixture's 500,000-event account stream's /balance
//! against one replay of it (goal ≤ 1.2×); `types` over all 1,000,000 events against
//! `events --json` of them, serialising each envelope as the command prints it (goal
//! ≤ 1.5×).
#![allow(clippy::unwrap_used, clippy::print_stdout)]

#[path = "common/fixture.rs"]
mod fixture;
#[path = "common/timing.rs"]
mod timing;

use std::io::Write;
use std::ops::ControlFlow;
use std::path::Path;

use eventscope::demo::HOT_STREAM;
use eventscope::replay::field_path::FieldPath;
use eventscope::replay::{Reducer, Replayer, SeekOptions, Skips};
use eventscope::store::{EventSource, LogFilter, Store};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use fixture::HOT;
const ACCOUNT_JQ: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/reducers/Account.jq");

fn main() {
    let store = Store::open(fixture::million_events()).unwrap();
    let reducer = Reducer::load(Path::new(ACCOUNT_JQ)).unwrap();
    let replay = timing::median(3, || {
        let mut r = Replayer::new(&store, &reducer, SeekOptions::default());
        std::hint::black_box(r.state_at(HOT_STREAM, HOT as i64).unwrap());
    });
    let path = FieldPath::parse("/balance").unwrap();
    let mut changes = 0;
    let history = timing::median(3, || {
        let rows = eventscope::replay::history::history(
            &store,
            &reducer,
            HOT_STREAM,
            &path,
            &Skips::default(),
            None,
        )
        .unwrap();
        changes = rows.len();
    });
    println!(
        "history /balance over {HOT} events ({changes} changes): {:.2} s; one replay {:.2} s: {:.2}× (goal ≤ 1.2×)",
        history.as_secs_f64(),
        replay.as_secs_f64(),
        history.as_secs_f64() / replay.as_secs_f64()
    );
    let all = LogFilter::default();
    let listing = timing::median(3, || {
        let mut out = std::io::BufWriter::new(std::io::sink());
        store
            .each_log_event(&all, &mut |e| {
                serde_json::to_writer(&mut out, &e).unwrap();
                out.write_all(b"\n").unwrap();
                Ok(ControlFlow::Continue(()))
            })
            .unwrap();
    });
    let mut types = 0;
    let catalog = timing::median(3, || {
        types = eventscope::store::types::type_catalog(&store, &all, 50)
            .unwrap()
            .len();
    });
    println!(
        "types over the 1,000,000-event log ({types} types): {:.2} s; events --json {:.2} s: {:.2}× (goal ≤ 1.5×)",
        catalog.as_secs_f64(),
        listing.as_secs_f64(),
        catalog.as_secs_f64() / listing.as_secs_f64()
    );
}

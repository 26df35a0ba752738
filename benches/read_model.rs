//! `check --read-model` over 10,000 rows against replaying their streams: the
//! 1,000,000-event fixture's streams of 50 events, a read model table of their states
//! (one row in a hundred drifted), versus folding the same streams with the same reducer.
//! Goal: at most 1.5× the replays.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

#[path = "common/timing.rs"]
mod timing;

use std::path::{Path, PathBuf};

use eventscope::demo::write_demo;
use eventscope::replay::read_model::{Finding, ReadModelCheck, ReadModelSpec};
use eventscope::replay::{Reducer, Replayer, SeekOptions};
use eventscope::store::Store;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ROWS: usize = 10_000;
const ACCOUNT_JQ: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/reducers/Account.jq");

/// The demo at 1,000,000 events with a read model of 10,000 streams' states.
fn fixture(reducer: &Reducer) -> (PathBuf, Vec<String>) {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-read-model-v1.sqlite");
    if !path.exists() {
        let tmp = path.with_extension("tmp");
        let _ = std::fs::remove_file(&tmp);
        drop(write_demo(&tmp, 1_000_000, 0).unwrap());
        let store = Store::open(&tmp).unwrap();
        let streams: Vec<String> = store
            .streams()
            .unwrap()
            .into_iter()
            .map(|s| s.stream_id)
            .take(ROWS)
            .collect();
        let mut rows = Vec::new();
        let mut r = Replayer::new(&store, reducer, SeekOptions::default());
        for (i, s) in streams.iter().enumerate() {
            let last = store.last_version(s).unwrap().unwrap();
            let mut state = r.state_at(s, last).unwrap();
            if i % 100 == 0 {
                state["drifted"] = serde_json::json!(true);
            }
            rows.push((s.clone(), state.to_string(), last));
        }
        drop(r);
        drop(store);
        let c = rusqlite::Connection::open(&tmp).unwrap();
        c.execute_batch(
            "CREATE TABLE view (stream TEXT PRIMARY KEY, doc TEXT, version INTEGER); BEGIN;",
        )
        .unwrap();
        for (s, doc, v) in &rows {
            c.execute(
                "INSERT INTO view VALUES (?1, ?2, ?3)",
                rusqlite::params![s, doc, v],
            )
            .unwrap();
        }
        c.execute_batch("COMMIT").unwrap();
        drop(c);
        std::fs::rename(&tmp, &path).unwrap();
    }
    let c = rusqlite::Connection::open(&path).unwrap();
    let mut stmt = c.prepare("SELECT stream FROM view").unwrap();
    let streams = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    (path, streams)
}

fn main() {
    let reducer = Reducer::load(Path::new(ACCOUNT_JQ)).unwrap();
    let (path, streams) = fixture(&reducer);
    let store = Store::open(&path).unwrap();
    let spec = ReadModelSpec::parse("table=view,id=stream,doc=doc,version=version").unwrap();
    let check = ReadModelCheck {
        spec: &spec,
        project: None,
        ignore: &[],
        categories: Some(Vec::new()),
    };
    let mut found = Vec::new();
    let ours = timing::median(3, || {
        let mut r = Replayer::new(&store, &reducer, SeekOptions::default());
        found = check.run(&store, &reducer, &mut r, None).unwrap();
    });
    let drifted = found
        .iter()
        .filter(|f| matches!(f, Finding::Differs { .. }))
        .count();
    assert_eq!(drifted, ROWS / 100, "one row in a hundred drifted");
    let base = timing::median(3, || {
        let mut r = Replayer::new(&store, &reducer, SeekOptions::default());
        for s in &streams {
            let last = store.last_version(s).unwrap().unwrap();
            std::hint::black_box(r.state_at(s, last).unwrap());
        }
    });
    println!(
        "check --read-model, {ROWS} rows ({drifted} drifted, each blamed): {:.2} s; replaying their streams {:.2} s: {:.2}× (goal ≤ 1.5×)",
        ours.as_secs_f64(),
        base.as_secs_f64(),
        ours.as_secs_f64() / base.as_secs_f64()
    );
}

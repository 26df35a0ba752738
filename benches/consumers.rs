//! `consumers` on a ten-million-event SQLite store with 23 consumers (on `$all` and on
//! categories, some caught up, some millions behind: the demo's three are behind by
//! nearly the whole log), against a reference: the same counts
//! as bare rusqlite queries. Goal: under a second. The fixture is written once to the
//! target directory (`EVENTSCOPE_BENCH_EVENTS` sets its size); writing it is never timed.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

#[path = "common/timing.rs"]
mod timing;

use std::path::{Path, PathBuf};

use eventscope::demo::write_demo;
use eventscope::store::consumers::{consumers, ConsumerOptions};
use eventscope::store::{open_source, OpenOptions, Store};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn events() -> usize {
    std::env::var("EVENTSCOPE_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000)
}

/// The demo scaled up, with 20 consumers in its `checkpoints` table.
fn fixture(total: usize) -> PathBuf {
    let path =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("bench-consumers-{total}-v1.sqlite"));
    if path.exists() {
        return path;
    }
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    eprintln!("writing the consumers fixture (once): {}", path.display());
    let mut store = write_demo(&tmp, total, 0).unwrap();
    let head = total as i64;
    {
        let w = store.writer().unwrap();
        // Behind by nothing, a little, a lot, and half the log.
        let lags = [0, 10, 1_000, 50_000, head / 2];
        let follows = ["$all", "Account", "Order", "User"];
        for i in 0..20 {
            let lag = lags[i % lags.len()];
            let f = follows[i % follows.len()];
            w.save_checkpoint(
                &format!("consumer-{i:02}"),
                "projection",
                f,
                head - lag,
                None,
            )
            .unwrap();
        }
        w.commit().unwrap();
    }
    drop(store);
    std::fs::rename(&tmp, &path).unwrap();
    path
}

/// The reference: per consumer, a bare COUNT and MIN of the rows after its position (a
/// category's by its streams' prefix), and the MAX, with rusqlite alone.
fn reference(path: &Path) -> i64 {
    let c = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap();
    let mut rows = c
        .prepare("SELECT follows, position FROM checkpoints")
        .unwrap();
    let consumers: Vec<(String, i64)> = rows
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut total = 0;
    for (follows, position) in consumers {
        let (count, next, head): (i64, Option<i64>, Option<i64>) = if follows == "$all" {
            c.query_row(
                "SELECT COUNT(*), MIN(global_position), (SELECT MAX(global_position) FROM events) FROM events WHERE global_position > ?1",
                [position],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap()
        } else {
            let prefix = format!("{follows}-%");
            c.query_row(
                "SELECT COUNT(*), MIN(global_position), (SELECT MAX(global_position) FROM events WHERE stream_id LIKE ?2) FROM events WHERE global_position > ?1 AND stream_id LIKE ?2",
                rusqlite::params![position, prefix],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap()
        };
        total += count + next.unwrap_or(0) + head.unwrap_or(0);
    }
    total
}

fn main() {
    let total = events();
    let path = fixture(total);
    let options = OpenOptions::default();
    let store = open_source(&path, &options).unwrap();
    let mut found = Vec::new();
    let ours = timing::median(3, || {
        found = consumers(&*store, &ConsumerOptions::default()).unwrap();
    });
    // The demo's own three (near the start of the log: all of it to count) and 20 more.
    assert_eq!(found.len(), 23);
    let base = timing::median(3, || {
        std::hint::black_box(reference(&path));
    });
    // The lags are the ones written, whatever the categories hold.
    let all_lags: Vec<i64> = found
        .iter()
        .filter(|c| c.follows.label() == "$all")
        .map(|c| c.lag)
        .collect();
    assert!(all_lags.contains(&(total as i64 / 2)), "{all_lags:?}");
    let _ = Store::open(&path).unwrap();
    println!(
        "consumers, 23 on {total} events: {:.0} ms; bare SQL counts {:.0} ms: {:.2}× (goal ≤ 1000 ms)",
        ours.as_secs_f64() * 1e3,
        base.as_secs_f64() * 1e3,
        ours.as_secs_f64() / base.as_secs_f64()
    );
}

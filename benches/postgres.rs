//! PostgreSQL at ten million events, in go-mink's layout, on a server this bench starts:
//! the first screen (open, stream list, last position), one 50-event stream, and a full
//! replay of the 500,000-event account stream as a ratio to the same replay from the
//! SQLite bench fixture. Loading takes minutes, so this is `cargo bench --bench postgres`
//! and never part of `cargo test`. `EVENTSCOPE_BENCH_EVENTS` changes the total.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

#[path = "common/fixture.rs"]
mod fixture;
#[path = "common/timing.rs"]
mod timing;

#[path = "../tests/common/certs.rs"]
#[allow(dead_code)]
mod certs;

#[path = "../tests/common/pg.rs"]
#[allow(dead_code)]
mod pg;

use std::io::Write;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Instant;

use eventscope::demo::HOT_STREAM;
use eventscope::replay::{Reducer, Replayer, SeekOptions};
use eventscope::store::{open_source, EventSource, OpenOptions, SourceExt, Store, StoreError};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use fixture::HOT;
const ACCOUNT_JQ: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/reducers/Account.jq");

/// go-mink's tables, indexes made after the load (the same end state, loaded faster).
const DDL: &str = "CREATE SCHEMA mink;
  CREATE TABLE mink.streams (id BIGSERIAL PRIMARY KEY, stream_id VARCHAR(500) NOT NULL, category VARCHAR(250) NOT NULL,
    version BIGINT NOT NULL DEFAULT 0, created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(), updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW());
  CREATE TABLE mink.events (global_position BIGSERIAL, stream_id VARCHAR(500) NOT NULL, version BIGINT NOT NULL,
    event_id UUID NOT NULL DEFAULT gen_random_uuid(), event_type VARCHAR(500) NOT NULL, data JSONB NOT NULL,
    metadata JSONB, timestamp TIMESTAMPTZ NOT NULL DEFAULT NOW());
  CREATE TABLE mink.snapshots (stream_id VARCHAR(500) PRIMARY KEY, version BIGINT NOT NULL, data BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW());";

const INDEXES: &str = "ALTER TABLE mink.events ADD PRIMARY KEY (global_position);
  ALTER TABLE mink.events ADD UNIQUE (stream_id, version);
  ALTER TABLE mink.streams ADD UNIQUE (stream_id);
  CREATE INDEX idx_streams_category ON mink.streams(category);
  CREATE INDEX idx_events_stream ON mink.events(stream_id, version);
  CREATE INDEX idx_events_type ON mink.events(event_type);
  CREATE INDEX idx_events_timestamp ON mink.events(timestamp);";

fn copy_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('\t', "\\t")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
}

fn load(mut c: postgres::Client, sqlite: &Store, total: usize) {
    c.batch_execute(DDL).unwrap();
    let others = total - HOT;
    let streams = others / 50;
    let t = Instant::now();
    c.batch_execute(&format!(
        "INSERT INTO mink.streams (stream_id, category, version)
           SELECT 'Account-b' || s, 'Account', 50 FROM generate_series(1, {streams}) s;
         INSERT INTO mink.streams (stream_id, category, version) VALUES ('{HOT_STREAM}', 'Account', {HOT});
         INSERT INTO mink.events (stream_id, version, event_type, data, metadata, timestamp)
           SELECT 'Account-b' || (i / 50 + 1), i % 50 + 1,
                  CASE WHEN i % 50 = 0 THEN 'AccountOpened' ELSE 'MoneyDeposited' END,
                  CASE WHEN i % 50 = 0 THEN jsonb_build_object('accountId', 'b' || (i / 50 + 1), 'ownerName', 'x')
                       ELSE jsonb_build_object('amount', i % 100) END,
                  '{{}}'::jsonb, timestamptz '2024-01-01' + i * interval '1 second'
           FROM generate_series(0, {} - 1) i;",
        streams * 50
    ))
    .unwrap();
    let mut writer = c
        .copy_in("COPY mink.events (stream_id, version, event_type, data, metadata, timestamp) FROM STDIN")
        .unwrap();
    sqlite
        .read_stream(HOT_STREAM, 1..=HOT as i64, |e| {
            writeln!(
                writer,
                "{}\t{}\t{}\t{}\t{}\t{}",
                copy_escape(&e.stream_id),
                e.version,
                copy_escape(&e.event_type),
                copy_escape(&e.data.to_string()),
                copy_escape(&e.metadata.to_string()),
                e.timestamp.as_deref().unwrap_or("2024-06-01T00:00:00Z")
            )
            .unwrap();
            Ok::<_, StoreError>(ControlFlow::Continue(()))
        })
        .unwrap();
    writer.finish().unwrap();
    println!(
        "loaded {total} events in {:.0} s",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    c.batch_execute(INDEXES).unwrap();
    // As autovacuum leaves a table: statistics, and a visibility map for index-only scans.
    c.batch_execute("VACUUM ANALYZE").unwrap();
    println!("indexed in {:.0} s", t.elapsed().as_secs_f64());
}

/// A server given by `EVENTSCOPE_BENCH_PG` (a URL without a database) keeps its loaded
/// database between runs, so that profiling does not reload ten million rows each time.
fn server(total: usize, sqlite: &Store) -> Option<(Option<pg::Cluster>, String)> {
    let (cluster, base) = match std::env::var("EVENTSCOPE_BENCH_PG") {
        Ok(base) => (None, base.trim_end_matches('/').to_string()),
        Err(_) => {
            let cluster = pg::Cluster::start()?;
            let base = cluster.url("postgres");
            let base = base.split("/postgres?").next().unwrap().to_string();
            (Some(cluster), base)
        }
    };
    let db = format!("mink{total}");
    let url = format!("{base}/{db}?sslmode=disable");
    let mut admin =
        postgres::Client::connect(&format!("{base}/postgres"), postgres::NoTls).unwrap();
    let exists = !admin
        .query("SELECT 1 FROM pg_database WHERE datname = $1", &[&db])
        .unwrap()
        .is_empty();
    if !exists {
        admin
            .batch_execute(&format!("CREATE DATABASE {db}"))
            .unwrap();
        load(
            postgres::Client::connect(&url, postgres::NoTls).unwrap(),
            sqlite,
            total,
        );
    }
    Some((cluster, url))
}

fn main() {
    let total: usize = std::env::var("EVENTSCOPE_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    let sqlite = Store::open(fixture::million_events()).unwrap();
    let Some((_cluster, url)) = server(total, &sqlite) else {
        println!("no PostgreSQL server installed: nothing measured");
        return;
    };
    let target = PathBuf::from(&url);
    let options = OpenOptions::default();

    let first_screen = timing::median(5, || {
        let store = open_source(&target, &options).unwrap();
        let (streams, last) = store.streams_and_position().unwrap();
        assert_eq!(streams.len(), (total - HOT) / 50 + 1);
        assert!(last >= total as i64);
    });
    println!(
        "first screen (connect, detect, {} streams, last position): {:.0} ms (goal ≤ 1000 ms)",
        (total - HOT) / 50 + 1,
        first_screen.as_secs_f64() * 1e3
    );

    let store = open_source(&target, &options).unwrap();
    let one = timing::median(21, || {
        let mut n = 0;
        store
            .read_stream("Account-b42", 1..=i64::MAX, |_| {
                n += 1;
                Ok::<_, StoreError>(ControlFlow::Continue(()))
            })
            .unwrap();
        assert_eq!(n, 50);
    });
    println!(
        "one stream of 50 events: {:.1} ms (goal ≤ 50 ms)",
        one.as_secs_f64() * 1e3
    );

    let jq = Reducer::load(Path::new(ACCOUNT_JQ)).unwrap();
    let replay = |s: &dyn EventSource| {
        let mut r = Replayer::new(s, &jq, SeekOptions::default());
        r.state_at(HOT_STREAM, HOT as i64).unwrap()
    };
    let mut from_pg = serde_json::Value::Null;
    let mut from_sqlite = serde_json::Value::Null;
    let pg_time = timing::median(3, || from_pg = replay(&*store));
    let sqlite_time = timing::median(3, || from_sqlite = replay(&sqlite));
    assert_eq!(from_pg, from_sqlite, "both replays agree");
    println!(
        "replay of {HOT} events, Account.jq: PostgreSQL {:.2} s, SQLite {:.2} s: {:.2}× (goal ≤ 2×)",
        pg_time.as_secs_f64(),
        sqlite_time.as_secs_f64(),
        pg_time.as_secs_f64() / sqlite_time.as_secs_f64()
    );

    // 20 of go-mink's projection checkpoints: caught up, a little, a lot and half the log
    // behind (lags past 50,000 estimated, as `consumers` does by default).
    let head = store.last_position().unwrap();
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    c.batch_execute(
        "CREATE TABLE IF NOT EXISTS mink.checkpoints (projection_name VARCHAR(500) PRIMARY KEY,
           position BIGINT NOT NULL DEFAULT 0, updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW());
         DELETE FROM mink.checkpoints;",
    )
    .unwrap();
    let lags = [0, 10, 1_000, 50_000, head / 2];
    for i in 0..20 {
        c.execute(
            "INSERT INTO mink.checkpoints (projection_name, position) VALUES ($1, $2)",
            &[
                &format!("projection-{i:02}"),
                &(head - lags[i % lags.len()]),
            ],
        )
        .unwrap();
    }
    let options = eventscope::store::consumers::ConsumerOptions::default();
    let mut found = Vec::new();
    let took = timing::median(3, || {
        found = eventscope::store::consumers::consumers(&*store, &options).unwrap();
    });
    assert_eq!(found.len(), 20);
    println!(
        "consumers, 20 on {total} events: {:.0} ms (goal ≤ 1000 ms)",
        took.as_secs_f64() * 1e3
    );
}

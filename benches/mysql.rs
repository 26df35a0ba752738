//! MariaDB at ten million events, in the native layout with go-mink's streams table, on a
//! server this bench starts: the first screen (open, stream list, last position), one
//! 50-event stream, and a full replay of the 500,000-event account stream as a ratio to
//! the same replay from the SQLite bench fixture. Loading takes minutes, so this is
//! `cargo bench --bench mysql` and never part of `cargo test`. `EVENTSCOPE_BENCH_EVENTS`
//! changes the total; `EVENTSCOPE_BENCH_MYSQL` (a URL without a database) names a server
//! that keeps its loaded database between runs.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

#[path = "common/fixture.rs"]
mod fixture;
#[path = "common/timing.rs"]
mod timing;

#[path = "../tests/common/certs.rs"]
#[allow(dead_code)]
mod certs;

#[path = "../tests/common/mysql.rs"]
#[allow(dead_code)]
mod my;

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Instant;

use eventscope::demo::HOT_STREAM;
use eventscope::replay::{Reducer, Replayer, SeekOptions};
use eventscope::store::{open_source, EventSource, OpenOptions, SourceExt, Store, StoreError};
use mysql::prelude::Queryable;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use fixture::HOT;
const ACCOUNT_JQ: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/reducers/Account.jq");

/// The native layout with go-mink's streams table; indexes made after the load.
const DDL: [&str; 2] = [
    "CREATE TABLE streams (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, stream_id VARCHAR(500) NOT NULL,
       category VARCHAR(250) NOT NULL, version BIGINT NOT NULL DEFAULT 0)",
    "CREATE TABLE events (global_position BIGINT NOT NULL, stream_id VARCHAR(500) NOT NULL,
       version BIGINT NOT NULL, event_id CHAR(36) NOT NULL, event_type VARCHAR(500) NOT NULL,
       data JSON NOT NULL, metadata JSON, timestamp DATETIME(6) NOT NULL)",
];

const INDEXES: [&str; 3] = [
    "ALTER TABLE events ADD PRIMARY KEY (global_position), ADD UNIQUE KEY stream_version (stream_id, version), ADD KEY by_type (event_type)",
    "ALTER TABLE events MODIFY global_position BIGINT NOT NULL AUTO_INCREMENT",
    "ALTER TABLE streams ADD UNIQUE KEY (stream_id), ADD KEY (category)",
];

fn load(c: &mut mysql::Conn, sqlite: &Store, total: usize) {
    for ddl in DDL {
        c.query_drop(ddl).unwrap();
    }
    let others = total - HOT;
    let streams = others / 50;
    let t = Instant::now();
    c.query_drop(format!(
        "INSERT INTO streams (stream_id, category, version)
           SELECT CONCAT('Account-b', seq), 'Account', 50 FROM seq_1_to_{streams}"
    ))
    .unwrap();
    c.exec_drop(
        "INSERT INTO streams (stream_id, category, version) VALUES (?, 'Account', ?)",
        (HOT_STREAM, HOT),
    )
    .unwrap();
    // MariaDB's sequence engine numbers the rows.
    c.query_drop(format!(
        "INSERT INTO events (global_position, stream_id, version, event_id, event_type, data, metadata, timestamp)
           SELECT seq + 1, CONCAT('Account-b', seq DIV 50 + 1), seq MOD 50 + 1, UUID(),
                  IF(seq MOD 50 = 0, 'AccountOpened', 'MoneyDeposited'),
                  IF(seq MOD 50 = 0, JSON_OBJECT('accountId', CONCAT('b', seq DIV 50 + 1), 'ownerName', 'x'),
                     JSON_OBJECT('amount', seq MOD 100)),
                  '{{}}', TIMESTAMP('2024-01-01') + INTERVAL seq SECOND
           FROM seq_0_to_{}",
        streams * 50 - 1
    ))
    .unwrap();
    let mut rows = Vec::with_capacity(1000);
    let mut position = (streams * 50) as i64;
    let flush = |rows: &mut Vec<mysql::Value>, c: &mut mysql::Conn| {
        if rows.is_empty() {
            return;
        }
        let marks = vec!["(?, ?, ?, ?, ?, ?, ?, ?)"; rows.len() / 8].join(", ");
        c.exec_drop(
            format!("INSERT INTO events VALUES {marks}"),
            std::mem::take(rows),
        )
        .unwrap();
    };
    sqlite
        .read_stream(HOT_STREAM, 1..=HOT as i64, |e| {
            position += 1;
            let at = e.timestamp.as_deref().unwrap_or("2024-06-01T00:00:00Z");
            let at = chrono::DateTime::parse_from_rfc3339(at)
                .map(|t| t.naive_utc().format("%Y-%m-%d %H:%M:%S%.6f").to_string())
                .unwrap_or_else(|_| "2024-06-01 00:00:00".into());
            rows.extend([
                position.into(),
                e.stream_id.clone().into(),
                e.version.into(),
                format!("hot-{position}").into(),
                e.event_type.clone().into(),
                e.data.to_string().into(),
                e.metadata.to_string().into(),
                at.into(),
            ]);
            if rows.len() >= 8 * 2000 {
                flush(&mut rows, c);
            }
            Ok::<_, StoreError>(ControlFlow::Continue(()))
        })
        .unwrap();
    flush(&mut rows, c);
    println!(
        "loaded {total} events in {:.0} s",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    for ddl in INDEXES {
        c.query_drop(ddl).unwrap();
    }
    c.query_drop("ANALYZE TABLE events, streams").unwrap();
    println!("indexed in {:.0} s", t.elapsed().as_secs_f64());
}

/// The server, and what keeps a server this bench started running.
type Running = Option<(my::Server, std::process::ChildStdin)>;

fn server(total: usize, sqlite: &Store) -> Option<(String, Running)> {
    let (base, running) = match std::env::var("EVENTSCOPE_BENCH_MYSQL") {
        Ok(base) => (base.trim_end_matches('/').to_string(), None),
        Err(_) => {
            let running = my::Server::own("2G")?;
            (
                format!("mysql://root@127.0.0.1:{}", running.0.port),
                Some(running),
            )
        }
    };
    let db = format!("native{total}");
    let url = format!("{base}/{db}?ssl-mode=DISABLED");
    let opts = |db: &str| mysql::Opts::from_url(&format!("{base}/{db}")).unwrap();
    let mut admin = mysql::Conn::new(opts("mysql")).unwrap();
    let exists: Option<String> = admin
        .exec_first(
            "SELECT schema_name FROM information_schema.schemata WHERE schema_name = ?",
            (&db,),
        )
        .unwrap();
    if exists.is_none() {
        admin.query_drop(format!("CREATE DATABASE {db}")).unwrap();
        load(&mut mysql::Conn::new(opts(&db)).unwrap(), sqlite, total);
    }
    Some((url, running))
}

fn main() {
    let total: usize = std::env::var("EVENTSCOPE_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    let sqlite = Store::open(fixture::million_events()).unwrap();
    let Some((url, _running)) = server(total, &sqlite) else {
        println!("no MariaDB server installed: nothing measured");
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

    let read = timing::median(3, || {
        let mut n = 0;
        store
            .read_stream_rows(
                HOT_STREAM,
                1..=HOT as i64,
                eventscope::store::Columns::NONE,
                |_| {
                    n += 1;
                    Ok::<_, StoreError>(ControlFlow::Continue(()))
                },
            )
            .unwrap();
        assert_eq!(n, HOT);
    });
    println!(
        "reading the {HOT}-event stream alone: {:.2} s",
        read.as_secs_f64()
    );

    let jq = Reducer::load(Path::new(ACCOUNT_JQ)).unwrap();
    let replay = |s: &dyn EventSource| {
        let mut r = Replayer::new(s, &jq, SeekOptions::default());
        r.state_at(HOT_STREAM, HOT as i64).unwrap()
    };
    let mut from_my = serde_json::Value::Null;
    let mut from_sqlite = serde_json::Value::Null;
    let my_time = timing::median(3, || from_my = replay(&*store));
    let sqlite_time = timing::median(3, || from_sqlite = replay(&sqlite));
    assert_eq!(from_my, from_sqlite, "both replays agree");
    println!(
        "replay of {HOT} events, Account.jq: MariaDB {:.2} s, SQLite {:.2} s: {:.2}× (goal ≤ 2×)",
        my_time.as_secs_f64(),
        sqlite_time.as_secs_f64(),
        my_time.as_secs_f64() / sqlite_time.as_secs_f64()
    );
}

use std::ops::ControlFlow;

use serde_json::json;

use super::*;

fn temp_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(dir.path().join("s.db")).unwrap();
    (dir, store)
}

fn deposit(amount: i64) -> NewEvent {
    NewEvent::new("MoneyDeposited", json!({ "amount": amount }))
}

fn versions(store: &Store, stream: &str, range: std::ops::RangeInclusive<i64>) -> Vec<i64> {
    let mut out = Vec::new();
    store
        .read_stream(stream, range, |e| {
            out.push(e.version);
            Ok::<_, StoreError>(ControlFlow::Continue(()))
        })
        .unwrap();
    out
}

#[test]
fn append_assigns_versions_and_positions() {
    let (_d, mut store) = temp_store();
    let a = store
        .append(
            "Account-1",
            ExpectedVersion::NoStream,
            &[deposit(1), deposit(2)],
        )
        .unwrap();
    let b = store
        .append("Account-2", ExpectedVersion::Any, &[deposit(3)])
        .unwrap();
    assert_eq!((a[0].version, a[1].version, b[0].version), (1, 2, 1));
    assert_eq!((a[0].global_position, b[0].global_position), (1, 3));
    let list = store.streams().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].stream_id, "Account-1");
    assert_eq!((list[0].events, list[0].last_version), (2, 2));
    assert_eq!(list[0].category, "Account");
}

#[test]
fn conflicting_append_fails_and_writes_nothing() {
    let (_d, mut store) = temp_store();
    store
        .append("Account-1", ExpectedVersion::NoStream, &[deposit(1)])
        .unwrap();
    let err = store
        .append(
            "Account-1",
            ExpectedVersion::Exact(0),
            &[deposit(2), deposit(3)],
        )
        .unwrap_err();
    match err {
        StoreError::Conflict { actual, .. } => assert_eq!(actual, 1),
        other => panic!("expected a conflict, got {other}"),
    }
    let err = store
        .append("Account-1", ExpectedVersion::NoStream, &[deposit(2)])
        .unwrap_err();
    assert!(err.to_string().contains("expected no stream"), "{err}");
    assert_eq!(versions(&store, "Account-1", 1..=100), vec![1]);
    store
        .append("Account-1", ExpectedVersion::Exact(1), &[deposit(2)])
        .unwrap();
    assert_eq!(versions(&store, "Account-1", 1..=100), vec![1, 2]);
}

#[test]
fn a_conflict_inside_a_batch_leaves_nothing_after_drop() {
    let (_d, mut store) = temp_store();
    {
        let mut w = store.writer().unwrap();
        w.append("A-1", ExpectedVersion::NoStream, &[deposit(1)])
            .unwrap();
        assert!(w
            .append("A-1", ExpectedVersion::NoStream, &[deposit(1)])
            .is_err());
        // dropped without commit
    }
    assert!(store.streams().unwrap().is_empty());
}

#[test]
fn reads_by_version_range_and_stops_early() {
    let (_d, mut store) = temp_store();
    let batch: Vec<_> = (1..=10).map(deposit).collect();
    store.append("A-1", ExpectedVersion::Any, &batch).unwrap();
    assert_eq!(versions(&store, "A-1", 3..=5), vec![3, 4, 5]);
    let mut seen = 0;
    store
        .read_stream("A-1", 1..=10, |_| {
            seen += 1;
            Ok::<_, StoreError>(if seen == 2 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            })
        })
        .unwrap();
    assert_eq!(seen, 2);
}

#[test]
fn global_log_filters_and_limits() {
    let (_d, mut store) = temp_store();
    store
        .append("A-1", ExpectedVersion::Any, &[deposit(1)])
        .unwrap();
    store
        .append(
            "B-1",
            ExpectedVersion::Any,
            &[NewEvent::new("Other", json!({}))],
        )
        .unwrap();
    store
        .append("A-1", ExpectedVersion::Any, &[deposit(2)])
        .unwrap();
    let collect = |f: LogFilter| {
        let mut out = Vec::new();
        store
            .read_log(&f, |e| {
                out.push(e.global_position);
                Ok::<_, StoreError>(ControlFlow::Continue(()))
            })
            .unwrap();
        out
    };
    assert_eq!(collect(LogFilter::default()), vec![1, 2, 3]);
    let by_stream = LogFilter {
        stream: Some("A-1".into()),
        ..Default::default()
    };
    assert_eq!(collect(by_stream), vec![1, 3]);
    let by_type = LogFilter {
        event_type: Some("Other".into()),
        ..Default::default()
    };
    assert_eq!(collect(by_type), vec![2]);
    let window = LogFilter {
        from_position: 2,
        limit: Some(1),
        ..Default::default()
    };
    assert_eq!(collect(window), vec![2]);
    assert_eq!(store.last_position().unwrap(), 3);
}

#[test]
fn read_until_stops_at_first_later_event() {
    let (_d, mut store) = temp_store();
    let at = |ts: &str| NewEvent {
        timestamp: Some(ts.into()),
        ..deposit(1)
    };
    store
        .append(
            "A-1",
            ExpectedVersion::Any,
            &[
                at("2024-01-01T10:00:00Z"),
                at("2024-01-01T11:00:00Z"),
                at("2024-01-01T12:00:00Z"),
            ],
        )
        .unwrap();
    let until = crate::time::parse_time_bound("2024-01-01T11:30:00Z").unwrap();
    assert_eq!(store.version_at_time("A-1", until).unwrap(), Some(2));
    let early = crate::time::parse_time_bound("2023").unwrap();
    assert_eq!(store.version_at_time("A-1", early).unwrap(), None);
}

#[test]
fn latest_snapshot_at_or_before() {
    let (_d, mut store) = temp_store();
    store.save_snapshot("A-1", 5, &json!({"n": 5})).unwrap();
    store.save_snapshot("A-1", 10, &json!({"n": 10})).unwrap();
    assert_eq!(store.latest_snapshot("A-1", 4).unwrap(), None);
    assert_eq!(store.latest_snapshot("A-1", 9).unwrap().unwrap().version, 5);
    assert_eq!(
        store.latest_snapshot("A-1", 10).unwrap().unwrap().data,
        json!({"n": 10})
    );
}

#[test]
fn read_only_open_refuses_writes() {
    let (d, mut store) = temp_store();
    store
        .append("A-1", ExpectedVersion::Any, &[deposit(1)])
        .unwrap();
    drop(store);
    let mut ro = Store::open(d.path().join("s.db")).unwrap();
    assert!(ro
        .append("A-1", ExpectedVersion::Any, &[deposit(2)])
        .is_err());
    assert_eq!(ro.streams().unwrap()[0].events, 1);
}

#[test]
fn opening_bad_files_gives_typed_errors() {
    let d = tempfile::tempdir().unwrap();
    let missing = d.path().join("nope.db");
    assert!(matches!(
        Store::open(&missing),
        Err(StoreError::NotFound(_))
    ));
    let text = d.path().join("text.db");
    std::fs::write(
        &text,
        "this is not sqlite, just some text that is long enough",
    )
    .unwrap();
    assert!(matches!(Store::open(&text), Err(StoreError::NotSqlite(_))));
    let other = d.path().join("other.db");
    rusqlite::Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE orders (id INTEGER); CREATE TABLE users (id INTEGER);")
        .unwrap();
    let err = Store::open(&other).err().unwrap();
    assert!(err.to_string().contains("tables: orders, users"), "{err}");
}

#[test]
fn subscribe_sees_appends_from_another_connection() {
    let (d, mut store) = temp_store();
    store
        .append("A-1", ExpectedVersion::Any, &[deposit(1)])
        .unwrap();
    let reader = Store::open(d.path().join("s.db")).unwrap();
    let mut sub = reader.subscribe(reader.last_position().unwrap()).unwrap();
    assert!(sub.poll().unwrap().is_empty());

    let path = d.path().join("s.db");
    let writer = std::thread::spawn(move || {
        let mut other = Store::open_writable(path).unwrap();
        for i in 0..3 {
            other
                .append("B-1", ExpectedVersion::Any, &[deposit(i)])
                .unwrap();
        }
    });
    let mut got = Vec::new();
    while got.len() < 3 {
        let e = sub
            .next_timeout(std::time::Duration::from_secs(10))
            .unwrap()
            .expect("an appended event within 10 s");
        got.push((e.stream_id, e.version, e.global_position));
    }
    writer.join().unwrap();
    assert_eq!(
        got,
        vec![
            ("B-1".into(), 1, 2),
            ("B-1".into(), 2, 3),
            ("B-1".into(), 3, 4)
        ]
    );
    assert_eq!(sub.position(), 4);
    // The store's own handle appends too: still seen, once.
    store
        .append("A-1", ExpectedVersion::Any, &[deposit(9)])
        .unwrap();
    let more = sub.poll().unwrap();
    assert_eq!(more.len(), 1);
    assert_eq!(more[0].global_position, 5);
    assert!(sub.poll().unwrap().is_empty());
}

/// A stream shown as a UUID from 16 bytes (EventSauce's tables, eventsourcing-sqlalchemy's
/// `<app>_events`) is found through the table's index by the UUID's bytes, not by a scan.
#[test]
fn uuid_streams_are_found_through_their_index() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("uuid.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "CREATE TABLE account_events (id INTEGER PRIMARY KEY AUTOINCREMENT, event_id BINARY(16) NOT NULL,
           aggregate_root_id BINARY(16) NOT NULL, version INTEGER NULL, payload VARCHAR(16001) NOT NULL);
         CREATE INDEX account_reconstitution ON account_events (aggregate_root_id, version);
         CREATE TABLE order_events (id INTEGER PRIMARY KEY AUTOINCREMENT, event_id BINARY(16) NOT NULL,
           aggregate_root_id BINARY(16) NOT NULL, version INTEGER NULL, payload VARCHAR(16001) NOT NULL);
         CREATE INDEX order_reconstitution ON order_events (aggregate_root_id, version);
         CREATE TABLE app_events (id INTEGER PRIMARY KEY, originator_id BINARY(16) NOT NULL,
           originator_version INTEGER NOT NULL, topic TEXT NOT NULL, state BLOB NOT NULL,
           UNIQUE (originator_id, originator_version));",
    )
    .unwrap();
    drop(conn);
    for format in ["eventsauce", "eventsourcing"] {
        let store = Store::open_with(
            &path,
            &OpenOptions {
                format: Some(format.into()),
                ..OpenOptions::default()
            },
        )
        .unwrap();
        let m = store.mapping();
        let sql = format!(
            "EXPLAIN QUERY PLAN SELECT 1 FROM {}{}",
            m.table,
            m.where_clause(&m.stream_is("?1"))
        );
        let plan: Vec<String> = store
            .conn
            .prepare(&sql)
            .unwrap()
            .query_map(["0d6a3b3e-5f8c-4a7e-9a57-1b2c3d4e5f60"], |r| {
                r.get::<_, String>(3)
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert!(
            plan.iter().all(|step| !step.starts_with("SCAN")),
            "{format}: {plan:?}"
        );
    }
}

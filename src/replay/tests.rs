//! Replay written as given events → when → then state.

use std::ops::ControlFlow;

use serde_json::{json, Value};

use super::*;
use crate::store::{EventSource, ExpectedVersion, NewEvent, Store};

const ACCOUNT_JQ: &str = include_str!("../../assets/reducers/Account.jq");

fn given(events: &[(&str, &str, Value)]) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::create(dir.path().join("s.db")).unwrap();
    let mut w = store.writer().unwrap();
    for (i, (stream, ty, data)) in events.iter().enumerate() {
        let e = NewEvent {
            timestamp: Some(format!("2024-01-01T10:{:02}:{:02}Z", i / 60, i % 60)),
            ..NewEvent::new(*ty, data.clone())
        };
        w.append(stream, ExpectedVersion::Any, &[e]).unwrap();
    }
    w.commit().unwrap();
    (dir, store)
}

fn alice() -> Vec<(&'static str, &'static str, Value)> {
    vec![
        (
            "Account-acc-1",
            "AccountOpened",
            json!({"accountId": "acc-1", "ownerName": "Alice"}),
        ),
        ("Account-acc-1", "MoneyDeposited", json!({"amount": 100})),
        ("Account-acc-1", "MoneyWithdrawn", json!({"amount": 30})),
        ("Account-acc-1", "MoneyDeposited", json!({"amount": 50})),
    ]
}

fn jq(code: &str) -> Reducer {
    Reducer::Jq(JqProgram::compile("test.jq", code).unwrap())
}

#[test]
fn jq_reducer_gives_the_seed_balances() {
    let (_d, store) = given(&alice());
    let reducer = jq(ACCOUNT_JQ);
    let mut r = Replayer::new(&store, &reducer, SeekOptions::default());
    let balances: Vec<Value> = [1, 2, 3, 4]
        .iter()
        .map(|v| r.state_at("Account-acc-1", *v).unwrap()["balance"].clone())
        .collect();
    assert_eq!(balances, vec![json!(0), json!(100), json!(70), json!(120)]);
    assert_eq!(
        r.state_at("Account-acc-1", 4).unwrap(),
        json!({"id": "acc-1", "owner": "Alice", "balance": 120})
    );
    assert_eq!(r.state_at("Account-acc-1", 0).unwrap(), Value::Null);
}

#[test]
fn merge_reducer_deep_merges_data() {
    let (_d, store) = given(&[
        (
            "Order-1",
            "OrderCreated",
            json!({"customer": {"id": "c1", "tier": "gold"}, "total": 0}),
        ),
        (
            "Order-1",
            "ShippingUpdated",
            json!({"customer": {"tier": "silver"}, "items": [1, 2]}),
        ),
        ("Order-1", "ItemAdded", json!({"items": [3], "total": 12.5})),
        ("Order-1", "Odd", json!("not an object")),
    ]);
    let reducer = Reducer::Merge;
    let mut r = Replayer::new(&store, &reducer, SeekOptions::default());
    assert_eq!(
        r.state_at("Order-1", 4).unwrap(),
        json!({"customer": {"id": "c1", "tier": "silver"}, "total": 12.5, "items": [3]})
    );
}

#[test]
fn state_at_time_takes_last_event_at_or_before() {
    let (_d, store) = given(&alice());
    let reducer = jq(ACCOUNT_JQ);
    let mut r = Replayer::new(&store, &reducer, SeekOptions::default());
    let t = |s: &str| crate::time::parse_time_bound(s).unwrap();
    let (v, s) = r
        .state_at_time("Account-acc-1", t("2024-01-01T10:00:01.5Z"))
        .unwrap()
        .unwrap();
    assert_eq!((v, s.state["balance"].clone()), (2, json!(100)));
    assert_eq!(
        r.state_at_time("Account-acc-1", t("2023-12-31")).unwrap(),
        None
    );
    let (v, _) = r
        .state_at_time("Account-acc-1", t("2024"))
        .unwrap()
        .unwrap();
    assert_eq!(v, 4);
}

#[test]
fn reducer_error_names_stream_version_and_type() {
    let (_d, store) = given(&alice());
    // jaq, unlike jq, refuses `null | .balance += 1`: deposits before an opening fail.
    let reducer = jq(r#"if $event.type == "MoneyWithdrawn" then .balance.x -= 1 else . end"#);
    let mut r = Replayer::new(&store, &reducer, SeekOptions::default());
    assert_eq!(r.state_at("Account-acc-1", 2).unwrap(), Value::Null);
    let err = r.state_at("Account-acc-1", 4).unwrap_err();
    match &err {
        ReplayError::Reducer {
            stream,
            version,
            event_type,
            message,
            ..
        } => {
            assert_eq!((stream.as_str(), *version), ("Account-acc-1", 3));
            assert_eq!(event_type, "MoneyWithdrawn");
            assert!(message.contains("cannot"), "{message}");
        }
        other => panic!("expected a reducer error, got {other}"),
    }
    assert!(
        err.to_string()
            .contains("Account-acc-1 version 3 (MoneyWithdrawn)"),
        "{err}"
    );
}

#[test]
fn reducer_with_no_output_is_an_error() {
    let (_d, store) = given(&alice());
    let reducer = jq("empty");
    let mut r = Replayer::new(&store, &reducer, SeekOptions::default());
    let err = r.state_at("Account-acc-1", 1).unwrap_err().to_string();
    assert!(err.contains("produced no state"), "{err}");
}

#[test]
fn jq_syntax_error_points_at_line_and_column() {
    let err = JqProgram::compile("bad.jq", "if . then\n  .a +\nelse . end")
        .err()
        .unwrap();
    assert!(err.starts_with("bad.jq:3:"), "{err}");
    let err = JqProgram::compile("u.jq", ". | nosuchfilter")
        .err()
        .unwrap();
    assert!(
        err.contains("u.jq:1:5: undefined filter `nosuchfilter`"),
        "{err}"
    );
    let err = JqProgram::compile("v.jq", "$nope").err().unwrap();
    assert!(err.contains("undefined variable"), "{err}");
}

#[test]
fn seeks_through_checkpoints_match_a_full_replay() {
    let events: Vec<_> = (1..=97)
        .map(|i| {
            (
                "Counter-1",
                "Added",
                json!({"n": i, "log": {(format!("k{}", i % 7)): i}}),
            )
        })
        .collect();
    let (_d, store) = given(&events);
    let reducer = jq("(. // {sum: 0}) | .sum += $event.data.n | .last = $event.version");
    let reference: Vec<Value> = {
        let mut r = Replayer::new(&store, &reducer, SeekOptions::default());
        (0..=97)
            .map(|v| r.state_at("Counter-1", v).unwrap())
            .collect()
    };
    // Checkpoints every 5 versions, capped at 4 so they thin out; seek in a scattered order.
    let opts = SeekOptions {
        checkpoint_every: 5,
        max_checkpoints: 4,
        ..SeekOptions::default()
    };
    let mut r = Replayer::new(&store, &reducer, opts);
    for v in [97, 3, 50, 0, 96, 51, 12, 77, 77, 1, 40] {
        assert_eq!(
            r.state_at("Counter-1", v).unwrap(),
            reference[v as usize],
            "at {v}"
        );
    }
    assert_eq!(reference[97]["sum"], json!(97 * 98 / 2));
}

#[test]
fn store_snapshots_are_starting_points_only_when_asked() {
    let (d, store) = given(&alice());
    drop(store);
    let mut w = Store::open_writable(d.path().join("s.db")).unwrap();
    // A snapshot the reducer could never produce proves where the fold started.
    w.save_snapshot(
        "Account-acc-1",
        2,
        &json!({"balance": 1000, "from": "snapshot"}),
    )
    .unwrap();
    drop(w);
    let store = Store::open(d.path().join("s.db")).unwrap();
    let reducer = jq(ACCOUNT_JQ);
    // By default snapshots change nothing: the fold starts from the first event.
    let mut r = Replayer::new(&store, &reducer, SeekOptions::default());
    let plain = r.traced_state_at("Account-acc-1", 4).unwrap();
    assert_eq!(
        (plain.state["balance"].clone(), plain.from_snapshot),
        (json!(120), None)
    );
    // Opted in on a native store with a user reducer: used as stored, and said so.
    let mut r = Replayer::new(&store, &reducer, SeekOptions::default())
        .with_snapshots(SnapshotUse::AsStored);
    let from = r.traced_state_at("Account-acc-1", 4).unwrap();
    assert_eq!(from.state, json!({"balance": 1020, "from": "snapshot"}));
    assert_eq!(from.from_snapshot, Some(2));
    assert_eq!(r.state_at("Account-acc-1", 1).unwrap()["balance"], json!(0));
    // The merge has no mapping: opting in is refused with what to do.
    let err = SnapshotUse::decide(true, &store, &Reducer::Merge, SnapshotMaps::default())
        .err()
        .unwrap();
    assert!(err.contains("--snapshot-map"), "{err}");
}

#[test]
fn out_of_range_and_unknown_streams_are_errors() {
    let (_d, store) = given(&alice());
    let reducer = Reducer::Merge;
    let mut r = Replayer::new(&store, &reducer, SeekOptions::default());
    let err = r.state_at("Account-acc-1", 5).unwrap_err().to_string();
    assert_eq!(
        err,
        "Account-acc-1 ends at version 4; version 5 does not exist"
    );
    assert!(matches!(
        r.state_at("Nope-1", 1),
        Err(ReplayError::NoStream(_))
    ));
}

#[test]
fn reducer_folder_picks_by_category_with_default_and_merge() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Account.jq"), ACCOUNT_JQ).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "ignored").unwrap();
    let reducer = Reducer::load(dir.path()).unwrap();
    assert!(reducer.program_for("Account").is_some());
    assert!(reducer.program_for("Order").is_none());
    assert!(reducer.describe("Order").starts_with("built-in merge"));
    assert!(
        reducer.describe("Order").contains("--reducer"),
        "the label says what to do"
    );
    std::fs::write(dir.path().join("default.jq"), ".").unwrap();
    let reducer = Reducer::load(dir.path()).unwrap();
    assert!(reducer.describe("Order").ends_with("default.jq"));
    let empty = tempfile::tempdir().unwrap();
    assert!(Reducer::load(empty.path()).is_err());
}

#[test]
fn skipping_failed_events_records_them_and_browses_on() {
    let (_d, store) = given(&alice());
    let reducer = jq(
        r#"if $event.type == "MoneyWithdrawn" then error("no withdrawals") else . end | (. // {}) | .n += 1"#,
    );
    let opts = SeekOptions {
        skip_failed_events: true,
        ..SeekOptions::default()
    };
    let mut r = Replayer::new(&store, &reducer, opts);
    assert_eq!(r.state_at("Account-acc-1", 4).unwrap(), json!({"n": 3}));
    let why = r.failure("Account-acc-1", 3).unwrap();
    assert!(
        why.contains("no withdrawals") && why.contains("version 3"),
        "{why}"
    );
    assert_eq!(r.failure("Account-acc-1", 2), None);
    assert_eq!(r.failures_up_to("Account-acc-1", 4), (1, Some(3)));
    assert_eq!(r.failures_up_to("Account-acc-1", 2), (0, None));
}

#[test]
fn progress_can_stop_a_long_seek_and_keeps_its_checkpoints() {
    let n = 3 * PROGRESS_EVERY as usize + 10; // under an hour of one-second ticks
    let events: Vec<_> = (0..n).map(|_| ("Big-1", "Tick", json!({"t": 1}))).collect();
    let (_d, store) = given(&events);
    let reducer = jq("(. // {c: 0}) | .c += 1");
    let opts = SeekOptions {
        checkpoint_every: 100,
        ..SeekOptions::default()
    };
    let mut r = Replayer::new(&store, &reducer, opts);
    let mut reports = Vec::new();
    let stopped = r
        .state_at_with("Big-1", n as i64, &mut |done| {
            reports.push(done);
            if done >= PROGRESS_EVERY {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap();
    assert_eq!(stopped, None);
    assert_eq!(reports, vec![PROGRESS_EVERY]);
    // Resumes from the checkpoint at 4000 rather than from the start.
    let mut resumed = Vec::new();
    let state = r
        .state_at_with("Big-1", n as i64, &mut |done| {
            resumed.push(done);
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(state.unwrap().state, json!({"c": n}));
    assert_eq!(resumed.len(), (n - 4000) / PROGRESS_EVERY as usize);
}

#[test]
fn reducers_see_exactly_the_envelope_fields_they_name() {
    let (_d, store) = given(&alice());
    let reducer = jq(
        r#"(. // []) + [{v: $event.version, t: $event.timestamp, id: ($event.event_id | length), m: $event.metadata, p: $event.global_position, s: $event.stream_id}]"#,
    );
    let mut r = Replayer::new(&store, &reducer, SeekOptions::default());
    let s = r.state_at("Account-acc-1", 2).unwrap();
    assert_eq!(
        s[1],
        json!({"v": 2, "t": "2024-01-01T10:00:01Z", "id": 36, "m": {}, "p": 2, "s": "Account-acc-1"})
    );
    // A reducer that looks at the whole envelope gets all of it.
    let whole = jq("$event | keys");
    let mut r = Replayer::new(&store, &whole, SeekOptions::default());
    assert_eq!(
        r.state_at("Account-acc-1", 1).unwrap(),
        json!([
            "data",
            "event_id",
            "global_position",
            "metadata",
            "stream_id",
            "timestamp",
            "type",
            "version"
        ])
    );
}

#[test]
fn checkpoints_stay_within_their_memory_budget() {
    let events: Vec<_> = (0..400)
        .map(|i| ("Big-1", "Grew", json!({format!("k{i}"): "x".repeat(1000)})))
        .collect();
    let (_d, store) = given(&events);
    let reducer = Reducer::Merge;
    let opts = SeekOptions {
        checkpoint_every: 10,
        max_checkpoint_bytes: 2_000_000,
        ..SeekOptions::default()
    };
    let mut r = Replayer::new(&store, &reducer, opts);
    let last = r.state_at("Big-1", 400).unwrap();
    assert_eq!(last.as_object().unwrap().len(), 400);
    // 40 checkpoints averaging 200 kB would be 8 MB; the budget thins them out, and seeks
    // still give the same states.
    assert_eq!(
        r.state_at("Big-1", 123).unwrap().as_object().unwrap().len(),
        123
    );
    assert_eq!(r.state_at("Big-1", 400).unwrap(), last);
    assert!(
        r.checkpoint_bytes("Big-1") <= 2_000_000,
        "{}",
        r.checkpoint_bytes("Big-1")
    );
    assert!(r.checkpoint_bytes("Big-1") > 0);
}

/// A store with rows written as other systems write them: any versions, any times.
fn raw(rows: &[(&str, i64, &str, Value, &str)]) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("raw.db");
    drop(Store::create(&path).unwrap());
    let c = rusqlite::Connection::open(&path).unwrap();
    for (i, (stream, v, ty, data, ts)) in rows.iter().enumerate() {
        c.execute(
            "INSERT INTO events (stream_id, version, event_id, event_type, data, metadata, timestamp) VALUES (?, ?, ?, ?, ?, '{}', ?)",
            rusqlite::params![stream, v, format!("e{i}"), ty, data.to_string(), ts],
        )
        .unwrap();
    }
    drop(c);
    let store = Store::open(&path).unwrap();
    (dir, store)
}

/// Events `{"v": version}` at the given streams and versions.
fn numbered(rows: &[(String, i64)]) -> (tempfile::TempDir, Store) {
    let rows: Vec<_> = rows
        .iter()
        .map(|(s, v)| {
            (
                s.as_str(),
                *v,
                "Added",
                json!({"v": v}),
                "2024-01-01T00:00:00Z",
            )
        })
        .collect();
    raw(&rows)
}

#[test]
fn streams_counting_from_zero_replay_every_event() {
    let rows: Vec<_> = (0..5)
        .map(|v| {
            (
                "Axon-1",
                v,
                "Added",
                json!({"n": v}),
                "2024-01-01T00:00:00Z",
            )
        })
        .collect();
    let (_d, store) = raw(&rows);
    let reducer = jq("(. // {count: 0, sum: 0}) | .count += 1 | .sum += $event.data.n");
    for every in [1, 2, 1000] {
        let options = SeekOptions {
            checkpoint_every: every,
            ..SeekOptions::default()
        };
        let mut r = Replayer::new(&store, &reducer, options);
        assert_eq!(
            r.state_at("Axon-1", 4).unwrap(),
            json!({"count": 5, "sum": 10})
        );
        assert_eq!(
            r.state_at("Axon-1", 0).unwrap(),
            json!({"count": 1, "sum": 0})
        );
        assert_eq!(
            r.state_at("Axon-1", -1).unwrap(),
            Value::Null,
            "before the first event"
        );
        assert_eq!(
            r.state_at("Axon-1", 2).unwrap(),
            json!({"count": 3, "sum": 3})
        );
    }
}

#[test]
fn at_time_is_the_last_event_in_version_order_stamped_at_or_before() {
    // Times go backwards at version 3.
    let (_d, store) = raw(&[
        (
            "A-1",
            1,
            "Added",
            json!({"n": 1}),
            "2024-01-01T10:00:00.000001Z",
        ),
        ("A-1", 2, "Added", json!({"n": 2}), "2024-01-01T10:05:00Z"),
        ("A-1", 3, "Added", json!({"n": 3}), "2024-01-01T10:02:00Z"),
        ("A-1", 4, "Added", json!({"n": 4}), "2024-01-01T10:09:00Z"),
    ]);
    let t = |s: &str| crate::time::parse_time_bound(s).unwrap();
    assert_eq!(
        store
            .version_at_time("A-1", t("2024-01-01T10:03:00Z"))
            .unwrap(),
        Some(3)
    );
    assert_eq!(
        store
            .version_at_time("A-1", t("2024-01-01T10:01:00Z"))
            .unwrap(),
        Some(1)
    );
    // Microseconds count: v1's own time is at v1, a microsecond earlier is before it.
    assert_eq!(
        store
            .version_at_time("A-1", t("2024-01-01T10:00:00.000001Z"))
            .unwrap(),
        Some(1)
    );
    assert_eq!(
        store
            .version_at_time("A-1", t("2024-01-01T10:00:00.000000Z"))
            .unwrap(),
        None
    );
}

#[test]
fn an_unreadable_time_is_refused_not_taken_as_early() {
    let (_d, store) = raw(&[
        ("A-1", 1, "Added", json!({}), "2024-01-01T10:00:00Z"),
        ("A-1", 2, "Added", json!({}), "last tuesday"),
    ]);
    let err = store
        .version_at_time("A-1", crate::time::parse_time_bound("2024-06").unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("\"last tuesday\"") && err.contains("events.timestamp"),
        "{err}"
    );
    assert!(err.contains("A-1 version 2"), "{err}");
}

#[test]
fn checkpoints_are_evicted_least_recently_used() {
    let mut rows = Vec::new();
    for s in 0..5 {
        for v in 1..=10 {
            rows.push((format!("S-{s}"), v));
        }
    }
    let (_d, store) = numbered(&rows);
    let reducer = Reducer::Merge;
    let options = SeekOptions {
        checkpoint_every: 2,
        max_cached_streams: 3,
        ..SeekOptions::default()
    };
    let mut r = Replayer::new(&store, &reducer, options);
    for s in ["S-0", "S-1", "S-2"] {
        r.state_at(s, 10).unwrap();
    }
    r.state_at("S-0", 9).unwrap(); // S-0 is now the most recent; S-1 the least.
    r.state_at("S-3", 10).unwrap();
    assert!(r.is_cached("S-0") && r.is_cached("S-2") && r.is_cached("S-3"));
    assert!(
        !r.is_cached("S-1"),
        "only the least recently used stream is dropped"
    );
    // By bytes: a tiny budget keeps only the stream in use.
    let options = SeekOptions {
        checkpoint_every: 1,
        max_cache_bytes: 1,
        ..SeekOptions::default()
    };
    let mut r = Replayer::new(&store, &reducer, options);
    r.state_at("S-0", 10).unwrap();
    r.state_at("S-1", 10).unwrap();
    assert!(r.is_cached("S-1") && !r.is_cached("S-0"));
}

#[test]
fn browsing_many_short_streams_keeps_a_long_streams_checkpoints() {
    let mut rows = Vec::new();
    for v in 1..=3000 {
        rows.push(("Hot-1".to_string(), v));
    }
    for s in 0..200 {
        rows.push((format!("Small-{s}"), 1));
    }
    let (_d, store) = numbered(&rows);
    let reducer = jq("(. // {n: 0}) | .n += 1");
    let mut r = Replayer::new(&store, &reducer, SeekOptions::default());
    r.state_at("Hot-1", 3000).unwrap();
    assert_eq!(r.events_folded(), 3000);
    for s in 0..200 {
        r.state_at(&format!("Small-{s}"), 1).unwrap();
    }
    let before = r.events_folded();
    assert_eq!(r.state_at("Hot-1", 2500).unwrap(), json!({"n": 2500}));
    assert!(
        r.events_folded() - before <= 1000,
        "resumed from a checkpoint, not from the start: {} events",
        r.events_folded() - before
    );
}

#[test]
fn integers_beyond_64_bits_stay_exact_however_a_version_is_reached() {
    let big = "123456789012345678901234567890";
    let rows: Vec<_> = (1..=3)
        .map(|v| {
            let data: Value = serde_json::from_str(&format!("{{\"n\": {big}}}")).unwrap();
            ("Big-1", v, "Added", data, "2024-01-01T00:00:00Z")
        })
        .collect();
    let (_d, store) = raw(&rows);
    let reducer = jq("{n: ((.n // 0) + $event.data.n), last: $event.data.n}");
    let want: Value = serde_json::from_str(&format!(
        "{{\"n\": 370370367037037036703703703670, \"last\": {big}}}"
    ))
    .unwrap();
    // Fresh, from a checkpoint at every version, and stepping from the cursor.
    let fresh = Replayer::new(&store, &reducer, SeekOptions::default())
        .state_at("Big-1", 3)
        .unwrap();
    let options = SeekOptions {
        checkpoint_every: 1,
        ..SeekOptions::default()
    };
    let mut r = Replayer::new(&store, &reducer, options);
    r.state_at("Big-1", 2).unwrap();
    let from_cursor = r.state_at("Big-1", 3).unwrap();
    let from_checkpoint = r.state_at("Big-1", 3).unwrap();
    for (how, got) in [
        ("fresh", &fresh),
        ("cursor", &from_cursor),
        ("checkpoint", &from_checkpoint),
    ] {
        assert_eq!(got.to_string(), want.to_string(), "{how}");
    }
    let merged = Replayer::new(&store, &Reducer::Merge, SeekOptions::default())
        .state_at("Big-1", 3)
        .unwrap();
    assert_eq!(merged.to_string(), format!("{{\"n\":{big}}}"));
}

#[test]
fn halt_and_halt_error_are_reducer_errors_not_exits() {
    let (_d, store) = given(&alice());
    for (code, says) in [
        (
            "if $event.version == 3 then halt_error else . end",
            "halt_error(5)",
        ),
        (
            "if $event.version == 3 then \"bye\" | halt_error(2) else . end",
            "halt_error(2)",
        ),
        ("halt", "called halt(0)"),
        (
            "if $event.version == 2 then halt(3) else . end",
            "called halt(3)",
        ),
    ] {
        let reducer = jq(code);
        let err = Replayer::new(&store, &reducer, SeekOptions::default())
            .state_at("Account-acc-1", 4)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(says) && err.contains("version"),
            "{code}: {err}"
        );
    }
    // stderr passes its input on, printing nothing.
    let reducer = jq("stderr | (. // {}) | .n += 1");
    let state = Replayer::new(&store, &reducer, SeekOptions::default())
        .state_at("Account-acc-1", 4)
        .unwrap();
    assert_eq!(state, json!({"n": 4}));
}

#[test]
fn states_nested_past_the_limit_are_refused_at_their_version() {
    let rows: Vec<_> = (1..=2000).map(|v| ("Deep-1".to_string(), v)).collect();
    let (_d, store) = numbered(&rows);
    for code in ["{prev: .}", "[.]"] {
        let reducer = jq(code);
        let mut r = Replayer::new(&store, &reducer, SeekOptions::default());
        let err = r.state_at("Deep-1", 2000).unwrap_err().to_string();
        assert!(
            err.contains("version 513") && err.contains("deeper than 512"),
            "{err}"
        );
        let ok = r.state_at("Deep-1", 512).unwrap();
        assert!(ok.is_object() || ok.is_array());
    }
    // Browsing on (the TUI's way): every later event fails, nothing overflows.
    let reducer = jq("{prev: .}");
    let options = SeekOptions {
        skip_failed_events: true,
        ..SeekOptions::default()
    };
    let mut r = Replayer::new(&store, &reducer, options);
    r.state_at("Deep-1", 2000).unwrap();
    assert_eq!(r.failures_up_to("Deep-1", 2000), (1488, Some(513)));
}

/// Reducer pieces for the replay property: each reads the envelope its own way.
const STEPS: [&str; 6] = [
    ".n += $event.data.k",
    ".l += [$event.data.k]",
    ".m[$event.type] = $event.version",
    "if $event.data.k % 2 == 0 then .even += 1 else .odd = $event.data.k end",
    ".l |= (if length > 4 then .[1:] else . end)",
    "del(.m.B)",
];

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
    #[test]
    fn a_state_is_the_same_from_a_checkpoint_the_cursor_or_scratch(
        steps in proptest::collection::vec(0..STEPS.len(), 1..4),
        events in proptest::collection::vec((0..3usize, 0..5i64), 1..40),
        every in 1..7i64,
        probes in proptest::collection::vec(0..40i64, 1..8),
    ) {
        let types = ["A", "B", "C"];
        let rows: Vec<_> = events
            .iter()
            .enumerate()
            .map(|(i, (t, k))| ("P-1", i as i64 + 1, types[*t], json!({"k": k}), "2024-01-01T00:00:00Z"))
            .collect();
        let (_d, store) = raw(&rows);
        let body: Vec<&str> = steps.iter().map(|i| STEPS[*i]).collect();
        let code = format!("(. // {{n: 0, l: [], m: {{}}, even: 0}}) | {}", body.join(" | "));
        let reducer = jq(&code);
        let last = events.len() as i64;
        let scratch = |v: i64| {
            let options = SeekOptions { checkpoint_every: i64::MAX, ..SeekOptions::default() };
            Replayer::new(&store, &reducer, options).state_at("P-1", v).unwrap()
        };
        let options = SeekOptions { checkpoint_every: every, ..SeekOptions::default() };
        let mut kept = Replayer::new(&store, &reducer, options);
        kept.state_at("P-1", last).unwrap(); // every checkpoint laid down
        for p in probes {
            let v = p % (last + 1);
            let want = scratch(v);
            proptest::prop_assert_eq!(&kept.state_at("P-1", v).unwrap(), &want, "from checkpoints at {}", v);
            if v < last {
                // One step on from the cursor.
                let next = kept.state_at("P-1", v + 1).unwrap();
                proptest::prop_assert_eq!(next, scratch(v + 1), "cursor to {}", v + 1);
            }
        }
    }
}

#[test]
fn many_points_from_one_read_agree_with_one_seek_each() {
    // Versions with gaps (2, 5, 8, …), so asked-for versions fall between events too.
    let rows: Vec<(String, i64)> = (1..=300)
        .map(|i| ("Gappy-1".to_string(), i * 3 - 1))
        .collect();
    let (_d, store) = numbered(&rows);
    for reducer in [
        Reducer::Merge,
        jq("(. // {sum: 0}) | .sum += $event.data.v"),
    ] {
        let opts = SeekOptions {
            checkpoint_every: 7,
            ..SeekOptions::default()
        };
        let mut single = Replayer::new(&store, &reducer, opts.clone());
        let asked = [899, 1, 0, 450, 451, 2, 3, 899, 100, 610, 611, 612, 5, 300];
        let expected: Vec<Value> = asked
            .iter()
            .map(|v| single.state_at("Gappy-1", *v).unwrap())
            .collect();
        let mut many = Replayer::new(&store, &reducer, opts.clone());
        let got: Vec<Value> = many
            .traced_states_at("Gappy-1", &asked)
            .unwrap()
            .into_iter()
            .map(|t| t.state)
            .collect();
        assert_eq!(got, expected, "cold");
        // Again with every checkpoint already kept: a start above the lowest point must
        // not be taken.
        let warm: Vec<Value> = many
            .traced_states_at("Gappy-1", &asked)
            .unwrap()
            .into_iter()
            .map(|t| t.state)
            .collect();
        assert_eq!(warm, expected, "warm");
        assert!(many.traced_states_at("Gappy-1", &[5, 900]).is_err());
    }
}

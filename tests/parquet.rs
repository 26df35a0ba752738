//! `export --parquet`: the files read back with DuckDB (PyPI's `duckdb`, in a venv the
//! test makes), every row compared with `events --json`, with `state --at`, and with real
//! jq folding the raw events.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::bin::{demo, fails, lines, ok, s};
use serde_json::Value;

fn duckdb() -> PathBuf {
    common::python::with_packages("duckdb", &["duckdb>=1.1,<2", "pytz"])
}

/// The columns' DuckDB types and the rows, as tests/fixtures/read_parquet.py prints them.
fn read(dir: &Path, kind: &str) -> (BTreeMap<String, String>, Vec<Value>) {
    let mut rows = common::fixture_lines(&duckdb(), "read_parquet.py", &[s(dir), kind]);
    let types = serde_json::from_value(rows.remove(0)).unwrap();
    (types, rows)
}

/// Rows of an SQL query over the view `kind`, as DuckDB answers it.
fn query(dir: &Path, kind: &str, sql: &str) -> Vec<Value> {
    common::fixture_lines(&duckdb(), "read_parquet.py", &[s(dir), kind, sql])
}

/// The Parquet logical type of the events files' `time` column, as DuckDB reads it.
fn time_unit(out: &Path) -> String {
    let sql = format!(
        "SELECT logical_type FROM parquet_schema('{}/events-*.parquet') WHERE name = 'time'",
        s(out)
    );
    let rows = query(out, "events", &sql);
    rows[0][0].as_str().unwrap().to_string()
}

fn reducers() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/assets/reducers").to_string()
}

/// JSON equal as jq sees it: numbers by value (`108.0` is `108`).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// A decimal's text without the zeros a scale adds: `120.50` → `120.5`, `7.00` → `7`.
fn plain_decimal(t: &str) -> String {
    match t.split_once('.') {
        Some((w, f)) => match f.trim_end_matches('0') {
            "" => w.to_string(),
            f => format!("{w}.{f}"),
        },
        None => t.to_string(),
    }
}

fn nanos(timestamp: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(timestamp)
        .unwrap()
        .timestamp_nanos_opt()
        .unwrap()
}

/// Every row of events-*.parquet equals the line `events --json` prints for it.
fn check_events(dir: &Path, want: &[Value]) {
    let (types, mut got) = read(dir, "events");
    for (column, ty) in [
        ("position", "BIGINT"),
        ("stream", "VARCHAR"),
        ("version", "BIGINT"),
        ("time", "TIMESTAMP WITH TIME ZONE"),
        ("data", "JSON"),
        ("metadata", "JSON"),
    ] {
        assert_eq!(types[column], ty, "{column}: {types:?}");
    }
    got.sort_by_key(|r| r["position"].as_i64());
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        let stream = w["stream_id"].as_str().unwrap();
        assert_eq!(g["position"], w["global_position"]);
        assert_eq!(g["stream"], w["stream_id"]);
        assert_eq!(g["version"], w["version"]);
        assert_eq!(g["event_id"], w["event_id"]);
        assert_eq!(g["type"], w["type"]);
        let category = w["category"]
            .as_str()
            .unwrap_or_else(|| stream.split('-').next().unwrap());
        assert_eq!(g["category"], category, "{g}");
        let parse = |v: &Value| serde_json::from_str::<Value>(v.as_str().unwrap()).unwrap();
        assert_eq!(parse(&g["data"]), w["data"], "{g}");
        assert_eq!(parse(&g["metadata"]), w["metadata"], "{g}");
        assert_eq!(g["timestamp"], w["timestamp"], "{g}");
        match w["timestamp"].as_str() {
            Some(t) => assert_eq!(g["time"].as_i64(), Some(nanos(t)), "{g}"),
            None => assert!(g["time"].is_null()),
        }
        for optional in [
            "schema_version",
            "topic",
            "original_position",
            "undecodable",
            "link_of",
            "upcaster",
        ] {
            assert_eq!(g[optional], w[optional], "{optional}: {g}");
        }
    }
}

/// Every row of states-*.parquet: its state equals `state STREAM --at V`, and each typed
/// column equals the state's field.
fn check_states_against_state_at(store: &Path, dir: &Path) -> usize {
    let (types, got) = read(dir, "states");
    let mut by_stream: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for row in &got {
        by_stream
            .entry(row["stream"].as_str().unwrap().to_string())
            .or_default()
            .push(row);
    }
    for (stream, rows) in &by_stream {
        let versions: Vec<String> = rows.iter().map(|r| r["version"].to_string()).collect();
        let out = ok(&[
            "state",
            s(store),
            stream,
            "--at",
            &versions.join(","),
            "--json",
            "--envelope",
            "--reducer",
            &reducers(),
        ]);
        let want = lines(&out);
        assert_eq!(want.len(), rows.len());
        for (row, w) in rows.iter().zip(&want) {
            assert_eq!(row["version"], w["version"]);
            let state: Value = serde_json::from_str(row["state"].as_str().unwrap()).unwrap();
            assert!(same(&state, &w["state"]), "{stream} {row}: {}", w["state"]);
            check_typed_columns(&types, row, &state);
        }
    }
    got.len()
}

const FIXED: [&str; 8] = [
    "stream",
    "version",
    "position",
    "type",
    "time",
    "timestamp",
    "state",
    "error",
];

fn check_typed_columns(types: &BTreeMap<String, String>, row: &Value, state: &Value) {
    for (column, ty) in types {
        if FIXED.contains(&column.as_str()) {
            continue;
        }
        let field = column.strip_prefix("state.").unwrap_or(column);
        let want = state.get(field).cloned().unwrap_or(Value::Null);
        let got = &row[column];
        if got.is_null() {
            assert!(
                want.is_null(),
                "{column} is null, the state has {want}: {row}"
            );
        } else if ty.starts_with("DECIMAL") {
            assert_eq!(
                plain_decimal(got.as_str().unwrap()),
                plain_decimal(&want.to_string()),
                "{column}: {row}"
            );
        } else if ty == "JSON" {
            let v: Value = serde_json::from_str(got.as_str().unwrap()).unwrap();
            assert_eq!(v, want, "{column}");
        } else {
            assert!(same(got, &want), "{column}: {got} vs {want}");
        }
    }
}

#[test]
fn the_demo_store_exports_every_event_and_every_state() {
    let dir = tempfile::tempdir().unwrap();
    let store = demo(dir.path());
    let out = dir.path().join("pq");
    let summary = ok(&[
        "export",
        s(&store),
        "--parquet",
        s(&out),
        "--states",
        "--reducer",
        &reducers(),
        "--json",
    ]);
    let summary: Value = serde_json::from_str(&summary).unwrap();
    assert_eq!(summary["events"], 18);
    assert_eq!(summary["states"], 18);
    assert_eq!(summary["failed_streams"], 0);
    assert_eq!(
        summary["replayed_from"],
        "each stream's first event (no snapshots)"
    );
    let want = lines(&ok(&["events", s(&store), "--json"]));
    check_events(&out, &want);
    assert_eq!(check_states_against_state_at(&store, &out), 18);
    let (types, _) = read(&out, "states");
    // Order totals carry cents: an exact decimal, never a float.
    assert!(types["total"].starts_with("DECIMAL(38,"), "{types:?}");
    assert_eq!(types["balance"], "BIGINT");
    assert_eq!(types["status"], "VARCHAR");
    // Whole minutes: the file counts milliseconds.
    assert!(time_unit(&out).contains("MILLIS=MilliSeconds"));
    // The folder holds only whole files.
    let names = common::listing(&out);
    assert_eq!(names, ["events-00001.parquet", "states-00001.parquet"]);
}

#[test]
fn filters_choose_the_same_events_as_the_events_command() {
    let dir = tempfile::tempdir().unwrap();
    let store = demo(dir.path());
    let cases: [&[&str]; 5] = [
        &["--category", "Account"],
        &["--type", "MoneyDeposited"],
        &["--stream", "Order-123"],
        &["--where", ".data.amount > 100"],
        &[
            "--since",
            "2024-03-01T09:05:00Z",
            "--until",
            "2024-03-01T09:12:00Z",
        ],
    ];
    for (i, filter) in cases.iter().enumerate() {
        let out = dir.path().join(format!("pq{i}"));
        let mut args = vec!["export", s(&store), "--parquet", s(&out)];
        args.extend_from_slice(filter);
        args.extend(["--states", "--reducer"]);
        let r = reducers();
        args.push(&r);
        ok(&args);
        let mut events = vec!["events", s(&store), "--json"];
        events.extend_from_slice(filter);
        let want = lines(&ok(&events));
        assert!(!want.is_empty(), "{filter:?} chooses nothing");
        check_events(&out, &want);
        // A state row for each exported event, replayed from the stream's start.
        let (_, states) = read(&out, "states");
        let (got, expected) = (keys(&states, "stream"), keys(&want, "stream_id"));
        assert_eq!(got, expected, "{filter:?}");
        check_states_against_state_at(&store, &out);
    }
}

/// The (stream, version) of each row, sorted; the stream in the field `stream`.
fn keys(rows: &[Value], stream: &str) -> Vec<(String, i64)> {
    let mut keys: Vec<(String, i64)> = rows
        .iter()
        .map(|r| {
            (
                r[stream].as_str().unwrap().into(),
                r["version"].as_i64().unwrap(),
            )
        })
        .collect();
    keys.sort();
    keys
}

/// A 100,000-event demo store and its export with states, 40,000 rows a file: made once
/// for the tests that read it.
fn big_export() -> (PathBuf, PathBuf) {
    static BIG: std::sync::OnceLock<(tempfile::TempDir, PathBuf, PathBuf)> =
        std::sync::OnceLock::new();
    let (_, store, out) = BIG.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("big.db");
        ok(&["demo", "--out", s(&store), "--events", "100000"]);
        let out = dir.path().join("pq");
        ok(&[
            "export",
            s(&store),
            "--parquet",
            s(&out),
            "--states",
            "--reducer",
            &reducers(),
            "--rows-per-file",
            "40000",
        ]);
        (dir, store, out)
    });
    (store.clone(), out.clone())
}

/// The README's query: every account whose balance went below zero, and when.
#[test]
fn the_readmes_query_finds_overdrawn_accounts_and_when() {
    let (store, out) = big_export();
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let sql = readme
        .split("```sql\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("README has the DuckDB query");
    // The README reads `pq/`; the view the script makes is the same files.
    let sql = sql.replace(
        "read_parquet('pq/states-*.parquet', union_by_name = true)",
        "states",
    );
    let got = query(&out, "states", &sql);
    assert!(!got.is_empty());

    // Independently: real jq folds each account's raw events, in version order.
    let events = lines(&ok(&[
        "events",
        s(&store),
        "--json",
        "--category",
        "Account",
    ]));
    let mut events = events;
    events.sort_by_key(|e| {
        (
            e["stream_id"].as_str().unwrap().to_string(),
            e["version"].as_i64(),
        )
    });
    let states = jq_states(&events, &Path::new(&reducers()).join("Account.jq"));
    let mut want: Vec<(String, String)> = Vec::new();
    for (e, state) in events.iter().zip(&states) {
        let stream = e["stream_id"].as_str().unwrap().to_string();
        let below = state["balance"].as_f64().is_some_and(|b| b < 0.0);
        if below && want.last().is_none_or(|(s, _)| *s != stream) {
            want.push((stream, e["timestamp"].as_str().unwrap().to_string()));
        }
    }
    assert!(want.len() > 10, "the demo overdraws some accounts");
    let got: Vec<(String, String)> = got
        .iter()
        .map(|r| {
            let t = r[1].as_str().unwrap();
            (r[0].as_str().unwrap().to_string(), t.to_string())
        })
        .collect();
    let want: Vec<(String, String)> = want
        .into_iter()
        .map(|(s, t)| {
            let t = chrono::DateTime::parse_from_rfc3339(&t).unwrap();
            (s, t.format("%Y-%m-%d %H:%M:%S+00:00").to_string())
        })
        .collect();
    let mut got_sorted = got.clone();
    got_sorted.sort();
    let mut want_sorted = want.clone();
    want_sorted.sort();
    assert_eq!(got_sorted, want_sorted);
    // Several files (40,000 rows each), read as one table.
    assert!(
        common::listing(&out).len() >= 5,
        "{:?}",
        common::listing(&out)
    );
}

/// The state after each event, folded by real jq: `events` sorted by stream and version,
/// each stream folded from null on its own.
fn jq_states(events: &[Value], program: &Path) -> Vec<Value> {
    let code = std::fs::read_to_string(program).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("events.json");
    std::fs::write(&input, serde_json::to_string(events).unwrap()).unwrap();
    let fold = format!(
        "def fold($event): {code};\nforeach .[] as $e ({{}}; .[$e.stream_id] |= fold($e); .[$e.stream_id])"
    );
    let out = Command::new("jq")
        .args(["-c", &fold])
        .arg(&input)
        .output()
        .expect("jq runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let states = lines(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(states.len(), events.len());
    states
}

/// A 100,000-event store: every event row equals `events --json`, and every state row
/// equals real jq's fold of that stream's raw events up to it.
#[test]
fn a_100k_event_store_matches_events_json_and_real_jq() {
    let (store, out) = big_export();
    let want = lines(&ok(&["events", s(&store), "--json"]));
    assert_eq!(want.len(), 100_000);
    check_events(&out, &want);

    let (types, got) = read(&out, "states");
    assert_eq!(got.len(), 100_000);
    let mut rows: BTreeMap<(String, i64), &Value> = BTreeMap::new();
    for r in &got {
        rows.insert(
            (
                r["stream"].as_str().unwrap().into(),
                r["version"].as_i64().unwrap(),
            ),
            r,
        );
    }
    let mut by_category: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for e in want {
        let category = e["stream_id"]
            .as_str()
            .unwrap()
            .split('-')
            .next()
            .unwrap()
            .to_string();
        by_category.entry(category).or_default().push(e);
    }
    let mut compared = 0;
    for (category, mut events) in by_category {
        events.sort_by_key(|e| {
            (
                e["stream_id"].as_str().unwrap().to_string(),
                e["version"].as_i64(),
            )
        });
        let program = Path::new(&reducers()).join(format!("{category}.jq"));
        for (e, state) in events.iter().zip(jq_states(&events, &program)) {
            let stream = e["stream_id"].as_str().unwrap().to_string();
            let row = rows[&(stream.clone(), e["version"].as_i64().unwrap())];
            let got: Value = serde_json::from_str(row["state"].as_str().unwrap()).unwrap();
            assert!(
                same(&got, &state),
                "{stream} v{}: {got} vs jq {state}",
                e["version"]
            );
            check_typed_columns(&types, row, &got);
            compared += 1;
        }
    }
    assert_eq!(compared, 100_000);
}

/// Times as stored: nanoseconds kept (the file's unit follows the finest fraction),
/// times a nanosecond count cannot hold and text that is no time kept as text.
#[test]
fn odd_times_keep_their_precision_or_their_text() {
    let dir = tempfile::tempdir().unwrap();
    let ndjson = dir.path().join("events.ndjson");
    let times = [
        Some("2024-03-01T09:00:00Z"),
        Some("2024-03-01T09:00:00.123456789Z"),
        Some("1969-07-20T20:17:40.5Z"),
        Some("2300-01-01T00:00:00.000000001Z"),
        Some("2024-03-01T09:00:00Z"),
        None,
    ];
    let mut text = String::new();
    for (i, t) in times.iter().enumerate() {
        let e = serde_json::json!({
            "global_position": i + 1, "stream_id": format!("Clock-{i}"), "version": 1,
            "event_id": format!("e{i}"), "type": "Ticked", "data": {"n": i}, "metadata": {},
            "timestamp": t,
        });
        text.push_str(&format!("{e}\n"));
    }
    std::fs::write(&ndjson, text).unwrap();
    let store = dir.path().join("clock.db");
    ok(&["import", s(&ndjson), "--out", s(&store)]);
    // Text that is no time, as a store may hold it (import refuses it).
    rusqlite::Connection::open(&store)
        .unwrap()
        .execute(
            "UPDATE events SET timestamp = 'yesterday-ish' WHERE global_position = 5",
            [],
        )
        .unwrap();
    let out = dir.path().join("pq");
    ok(&["export", s(&store), "--parquet", s(&out)]);
    let (_, rows) = read(&out, "events");
    let time = |i: usize| rows.iter().find(|r| r["position"] == i + 1).unwrap()["time"].clone();
    assert_eq!(time(0).as_i64(), Some(nanos("2024-03-01T09:00:00Z")));
    // The file counts nanoseconds; DuckDB reads a UTC time as its TIMESTAMPTZ, which holds
    // microseconds (the `timestamp` text keeps every digit).
    assert!(time_unit(&out).contains("NANOS=NanoSeconds"));
    assert_eq!(time(1).as_i64(), Some(nanos("2024-03-01T09:00:00.123456Z")));
    assert_eq!(time(2).as_i64(), Some(nanos("1969-07-20T20:17:40.5Z")));
    // Beyond what 64-bit nanoseconds hold: no instant, the text kept.
    assert!(time(3).is_null());
    assert!(time(4).is_null());
    assert!(time(5).is_null());
    let want = lines(&ok(&["events", s(&store), "--json"]));
    for (i, w) in want.iter().enumerate() {
        let row = rows.iter().find(|r| r["position"] == i + 1).unwrap();
        assert_eq!(row["timestamp"], w["timestamp"]);
    }
}

/// With upcasters, events are exported as replays see them, each naming its upcaster, and
/// equal to `events --upcast`.
#[test]
fn upcast_events_are_exported_as_replays_see_them() {
    let dir = tempfile::tempdir().unwrap();
    let store = demo(dir.path());
    let upcasters = dir.path().join("upcasters");
    std::fs::create_dir(&upcasters).unwrap();
    std::fs::write(
        upcasters.join("MoneyDeposited.jq"),
        ".data.cents = .data.amount * 100",
    )
    .unwrap();
    let out = dir.path().join("pq");
    let up = ["--upcasters", s(&upcasters)];
    ok(&[&["export", s(&store), "--parquet", s(&out)][..], &up].concat());
    let want = lines(&ok(&[
        &["events", s(&store), "--json", "--upcast"][..],
        &up,
    ]
    .concat()));
    assert!(want.iter().any(|e| e["data"]["cents"] == 10000), "upcast");
    check_events(&out, &want);
    let (_, rows) = read(&out, "events");
    let named = rows.iter().filter(|r| r["upcaster"].is_string()).count();
    assert_eq!(named, 3, "the three deposits");
}

/// A reducer that fails on one stream: that stream's row says why, the others are whole,
/// and the command exits 1 (no partial answer with success).
#[test]
fn a_failing_fold_is_a_row_with_its_error_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let store = demo(dir.path());
    let reducer = dir.path().join("strict.jq");
    std::fs::write(
        &reducer,
        "if $event.stream_id == \"Order-123\" and $event.version == 3 then error(\"refused\") else . + $event.data end",
    )
    .unwrap();
    let out = dir.path().join("pq");
    let err = fails(&[
        "export",
        s(&store),
        "--parquet",
        s(&out),
        "--states",
        "--reducer",
        s(&reducer),
    ]);
    assert!(err.contains("failed on 1 stream"), "{err}");
    let (_, rows) = read(&out, "states");
    let order: Vec<&Value> = rows.iter().filter(|r| r["stream"] == "Order-123").collect();
    assert_eq!(order.len(), 3, "versions 1, 2 and the failing 3");
    let failed = order.iter().find(|r| r["version"] == 3).unwrap();
    assert!(failed["state"].is_null());
    assert!(
        failed["error"].as_str().unwrap().contains("refused"),
        "{failed}"
    );
    assert_eq!(rows.len(), 18 - 8 + 3);
}

#[test]
fn bad_folders_and_options_get_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let store = demo(dir.path());
    let full = dir.path().join("full");
    std::fs::create_dir(&full).unwrap();
    std::fs::write(full.join("other.parquet"), "x").unwrap();
    let err = fails(&["export", s(&store), "--parquet", s(&full)]);
    assert!(err.contains("is not empty"), "{err}");
    let err = fails(&["export", s(&store), "--parquet", s(&store)]);
    assert!(err.contains("not a folder"), "{err}");
    let err = fails(&[
        "export",
        s(&store),
        "--parquet",
        s(&dir.path().join("x")),
        "--where",
        ".data |",
    ]);
    assert!(!err.is_empty());
    // The store is never written.
    let before = std::fs::read(&store).unwrap();
    ok(&["export", s(&store), "--parquet", s(&dir.path().join("ok"))]);
    assert_eq!(std::fs::read(&store).unwrap(), before);
}

//! blame, when, what-if and a category at a time through the binary, checked on the
//! seed's bank example and against a Python computation from the raw rows
//! (tests/fixtures/debugger_reference.py) that shares no code with eventscope.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::bin::{demo, fails, lines, ok, python_json, run, s};
use serde_json::{json, Value};

const REDUCERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/reducers");

fn python(args: &[&str]) -> Value {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/debugger_reference.py"
    );
    let mut all = vec![script];
    all.extend_from_slice(args);
    python_json(&all)
}

fn blame_of(db: &Path, stream: &str, reducer: Option<&str>) -> Vec<Value> {
    let mut args = vec!["blame", s(db), stream, "--json"];
    if let Some(r) = reducer {
        args.extend(["--reducer", r]);
    }
    lines(&ok(&args))
}

fn blamed(lines: &[Value], path: &str) -> i64 {
    lines
        .iter()
        .find(|l| l["path"] == path)
        .unwrap_or_else(|| panic!("{path} not in {lines:?}"))["version"]
        .as_i64()
        .unwrap()
}

#[test]
fn blame_on_the_bank_example() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let b = blame_of(&db, "Account-acc-1", Some(REDUCERS));
    assert_eq!(blamed(&b, "/balance"), 4);
    assert_eq!(blamed(&b, "/owner"), 1);
    let balance = b.iter().find(|l| l["path"] == "/balance").unwrap();
    assert_eq!(balance["value"], 120);
    assert_eq!(balance["type"], "MoneyDeposited");
    assert_eq!(balance["timestamp"], "2024-03-01T09:16:00Z");
    assert!(balance["global_position"].as_i64().unwrap() > 0);
    assert!(!balance["event_id"].as_str().unwrap().is_empty());
    // At version 3 the balance was last changed by the withdrawal.
    let at3 = lines(&ok(&[
        "blame",
        s(&db),
        "Account-acc-1",
        "--at",
        "3",
        "--reducer",
        REDUCERS,
        "--json",
    ]));
    assert_eq!(blamed(&at3, "/balance"), 3);
    // The table for people names the stream and the reducer.
    let table = ok(&["blame", s(&db), "Account-acc-1", "--reducer", REDUCERS]);
    assert!(
        table.contains("Account-acc-1 at its last version"),
        "{table}"
    );
    assert!(
        table.contains("/balance") && table.contains("MoneyDeposited"),
        "{table}"
    );
}

#[test]
fn blame_with_the_merge_matches_a_python_blame_of_every_demo_stream() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let streams = lines(&ok(&["streams", s(&db), "--json"]));
    assert!(streams.len() >= 5);
    for st in streams {
        let id = st["stream_id"].as_str().unwrap();
        let ours = blame_of(&db, id, None);
        let theirs = python(&[s(&db), "blame", id]);
        let theirs = theirs.as_object().unwrap();
        assert_eq!(ours.len(), theirs.len(), "{id}: {ours:?} vs {theirs:?}");
        for line in &ours {
            let path = line["path"].as_str().unwrap();
            assert_eq!(&line["version"], &theirs[path], "{id} {path}");
        }
    }
    // The order: /sku first appears with the removal at version 5 (the merge keeps the
    // removed item's sku as a field), and the cable's fields come from version 3.
    let order = blame_of(&db, "Order-123", None);
    assert_eq!(blamed(&order, "/sku"), 5);
    assert_eq!(blamed(&order, "/items/sku-cable/name"), 3);
    assert_eq!(blamed(&order, "/total"), 7);
}

/// A reducer that writes the same value again, removes a field and restores it.
#[test]
fn rewriting_a_value_does_not_take_the_blame_and_restoring_does() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let jq = dir.path().join("flip.jq");
    std::fs::write(
        &jq,
        r#"if $event.version == 1 then {a: 1, b: 1, list: [1, 2]}
           elif $event.version == 2 then .a = 1 | del(.b)
           elif $event.version == 3 then .b = 1 | .list[1] = 3
           else . end"#,
    )
    .unwrap();
    let b = blame_of(&db, "Account-acc-1", Some(s(&jq)));
    assert_eq!(blamed(&b, "/a"), 1, "writing 1 again is no change");
    assert_eq!(blamed(&b, "/b"), 3, "removed at 2, restored at 3");
    assert_eq!(blamed(&b, "/list/0"), 1);
    assert_eq!(blamed(&b, "/list/1"), 3);
}

#[test]
fn when_on_the_bank_example() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let first = lines(&ok(&[
        "when",
        s(&db),
        "Account-acc-1",
        ".balance >= 100",
        "--reducer",
        REDUCERS,
        "--json",
    ]));
    assert_eq!(first.len(), 1);
    assert_eq!(first[0]["version"], 2);
    assert_eq!(first[0]["state"]["balance"], 100);
    let all = lines(&ok(&[
        "when",
        s(&db),
        "Account-acc-1",
        ".balance < 100",
        "--all",
        "--reducer",
        REDUCERS,
        "--json",
    ]));
    let versions: Vec<i64> = all.iter().map(|h| h["version"].as_i64().unwrap()).collect();
    assert_eq!(versions, vec![1, 3]);
    // $event is the event just applied.
    let by_type = lines(&ok(&[
        "when",
        s(&db),
        "Account-acc-1",
        "$event.type == \"MoneyWithdrawn\"",
        "--reducer",
        REDUCERS,
        "--json",
    ]));
    assert_eq!(by_type[0]["version"], 3);
    let err = fails(&[
        "when",
        s(&db),
        "Account-acc-1",
        ".balance < 0",
        "--reducer",
        REDUCERS,
    ]);
    assert!(err.contains("never holds"), "{err}");
}

#[test]
fn predicate_errors_count_as_false_unless_strict() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    // `.x.y` on a number is an error; it holds only where the state has x as an object.
    let code = "(.balance | . + \"a\") | true";
    let out = run(&["when", s(&db), "Account-acc-1", code, "--reducer", REDUCERS]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("never holds"));
    let err = fails(&[
        "when",
        s(&db),
        "Account-acc-1",
        code,
        "--strict",
        "--reducer",
        REDUCERS,
    ]);
    assert!(err.contains("version 1"), "{err}");
}

#[test]
fn when_over_a_category_in_one_pass_agrees_with_each_stream() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let code = ".balance > 60";
    let hits = lines(&ok(&[
        "when",
        s(&db),
        "--category",
        "Account",
        code,
        "--reducer",
        REDUCERS,
        "--json",
    ]));
    let streams = lines(&ok(&["streams", s(&db), "--category", "Account", "--json"]));
    let mut expected = Vec::new();
    for st in streams {
        let id = st["stream_id"].as_str().unwrap();
        let out = run(&["when", s(&db), id, code, "--reducer", REDUCERS, "--json"]);
        if out.status.success() {
            let h = lines(&String::from_utf8(out.stdout).unwrap());
            expected.push((id.to_string(), h[0]["version"].as_i64().unwrap()));
        }
    }
    let mut got: Vec<(String, i64)> = hits
        .iter()
        .map(|h| {
            (
                h["stream_id"].as_str().unwrap().to_string(),
                h["version"].as_i64().unwrap(),
            )
        })
        .collect();
    got.sort();
    expected.sort();
    assert!(!got.is_empty());
    assert_eq!(got, expected);
}

#[test]
fn skipping_events_on_the_bank_example() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let state = lines(&ok(&[
        "state",
        s(&db),
        "Account-acc-1",
        "--skip",
        "3",
        "--reducer",
        REDUCERS,
        "--json",
    ]));
    assert_eq!(state[0]["balance"], 150);
    let env = lines(&ok(&[
        "state",
        s(&db),
        "Account-acc-1",
        "--skip",
        "3",
        "--reducer",
        REDUCERS,
        "--json",
        "--envelope",
    ]));
    assert_eq!(env[0]["what_if"], json!({"skip": [3], "skip_type": []}));
    let text = ok(&[
        "state",
        s(&db),
        "Account-acc-1",
        "--skip",
        "3",
        "--reducer",
        REDUCERS,
    ]);
    assert!(text.starts_with("WHAT-IF without version(s) 3"), "{text}");
    let changes: Vec<Value> = serde_json::from_str(&ok(&[
        "whatif",
        s(&db),
        "Account-acc-1",
        "--skip",
        "3",
        "--reducer",
        REDUCERS,
        "--json",
    ]))
    .unwrap();
    assert_eq!(
        changes,
        vec![json!({"path": "/balance", "op": "changed", "old": 120, "new": 150})]
    );
    // By type: no deposits leaves the opening balance.
    let state = lines(&ok(&[
        "state",
        s(&db),
        "Account-acc-1",
        "--skip-type",
        "MoneyDeposited",
        "--reducer",
        REDUCERS,
        "--json",
    ]));
    assert_eq!(state[0]["balance"], -30);
    // Asking again without skips gives the real state: the store and its checkpoints are
    // untouched.
    let real = lines(&ok(&[
        "state",
        s(&db),
        "Account-acc-1",
        "--reducer",
        REDUCERS,
        "--json",
    ]));
    assert_eq!(real[0]["balance"], 120);
    let err = fails(&["whatif", s(&db), "Account-acc-1", "--reducer", REDUCERS]);
    assert!(err.contains("--skip"), "{err}");
}

#[test]
fn a_category_at_a_time_between_events() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let events = lines(&ok(&["events", s(&db), "--json"]));
    let times: Vec<&str> = events
        .iter()
        .map(|e| e["timestamp"].as_str().unwrap())
        .collect();
    assert!(times.len() > 10);
    // Between two events, after some Account streams began and before others did.
    for until in [
        "2024-03-01T09:05:30Z",
        "2024-03-01T09:10:30Z",
        "2099-01-01T00:00:00Z",
    ] {
        let ours = lines(&ok(&[
            "state",
            s(&db),
            "--category",
            "Account",
            "--at-time",
            until,
            "--json",
        ]));
        let theirs = python(&[s(&db), "category", "Account", until]);
        let theirs = theirs.as_object().unwrap();
        assert_eq!(ours.len(), theirs.len(), "{until}: {ours:?} vs {theirs:?}");
        for line in &ours {
            let id = line["stream_id"].as_str().unwrap();
            assert_eq!(line["version"], theirs[id]["version"], "{until} {id}");
            assert_eq!(line["state"], theirs[id]["state"], "{until} {id}");
            // And as `state --at-time` answers for that one stream.
            let one = lines(&ok(&["state", s(&db), id, "--at-time", until, "--json"]));
            assert_eq!(line["state"], one[0], "{until} {id}");
        }
    }
    let early = lines(&ok(&[
        "state",
        s(&db),
        "--category",
        "Account",
        "--at-time",
        "2024-03-01T09:02:00Z",
        "--json",
    ]));
    assert_eq!(early.len(), 1, "only acc-1 existed then: {early:?}");
    let err = fails(&["state", s(&db), "--category", "Nope"]);
    assert!(err.contains("Nope"), "{err}");
    let err = fails(&["blame", s(&db), "Account-acc-1", "--from-snapshots"]);
    assert!(err.contains("from the first event"), "{err}");
}

#[test]
fn a_category_at_a_global_position_as_the_tui_asks_it() {
    use eventscope::replay::{category_at_position, Reducer};
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let store = eventscope::store::Store::open(&db).unwrap();
    for position in [1_i64, 6, 11, 17, 1000] {
        let ours = category_at_position(
            &store,
            &Reducer::Merge,
            "Account",
            position,
            Default::default(),
        )
        .unwrap();
        let theirs = python(&[s(&db), "category", "Account", &format!("pos:{position}")]);
        let theirs = theirs.as_object().unwrap();
        assert_eq!(
            ours.len(),
            theirs.len(),
            "{position}: {ours:?} vs {theirs:?}"
        );
        for st in &ours {
            assert_eq!(
                json!(st.version),
                theirs[&st.stream_id]["version"],
                "{position}"
            );
            assert_eq!(st.state, theirs[&st.stream_id]["state"], "{position}");
        }
    }
}

#[test]
fn misused_debugger_options_say_so_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let err = fails(&[
        "state",
        s(&db),
        "Account-acc-1",
        "--skip",
        "3",
        "--at-time",
        "2024-03-01T09:10:00Z",
    ]);
    assert!(err.contains("--skip") && err.contains("--at-time"), "{err}");
    let err = fails(&[
        "when",
        s(&db),
        "Account-acc-1",
        ".x",
        "--category",
        "Account",
    ]);
    assert!(err.contains("only the PREDICATE"), "{err}");
    let err = fails(&["when", s(&db), "Account-acc-1", ".balance >"]);
    assert!(err.contains("predicate"), "{err}");
    let err = fails(&["blame", s(&db), "Account-acc-1", "--at", "99"]);
    assert!(err.contains("ends at version 4"), "{err}");
}

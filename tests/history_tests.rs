//! `export-test` and `test`: fixtures made from a store's history, checked against real jq
//! folding the fixture's own events, and run through reducers that agree and disagree.
#![allow(clippy::unwrap_used)]

mod common;

use common::bin::{bin, fails, lines, ok, s};

use std::path::Path;

use serde_json::{json, Value};

const ACCOUNT_JQ: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/reducers/Account.jq");
const REDUCERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/reducers");

/// The fixture's header and its envelopes.
fn read_fixture(path: &Path) -> (Value, Vec<Value>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut all = lines(&text);
    let header = all.remove(0);
    (header, all)
}

#[test]
fn a_fixture_holds_the_history_and_the_state_real_jq_folds_from_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::bin::demo(dir.path());
    let file = dir.path().join("acc1.ndjson");
    ok(&[
        "export-test",
        s(&db),
        "Account-acc-1",
        "--at",
        "3",
        "--reducer",
        ACCOUNT_JQ,
        "--out",
        s(&file),
    ]);
    let (header, events) = read_fixture(&file);
    // The events are the stream's up to v3, exactly as `events --json` prints them.
    let listed: Vec<Value> = lines(&ok(&[
        "events",
        s(&db),
        "--stream",
        "Account-acc-1",
        "--json",
    ]))
    .into_iter()
    .filter(|e| e["version"].as_i64().unwrap() <= 3)
    .collect();
    assert_eq!(events, listed);
    assert_eq!(header["expect"][0]["stream"], "Account-acc-1");
    assert_eq!(header["expect"][0]["version"], 3);
    assert_eq!(
        header["expect"][0]["state"],
        common::jq_fold(&events, Path::new(ACCOUNT_JQ)).unwrap()
    );
    assert_eq!(header["expect"][0]["state"]["balance"], 70);
    // It passes with its reducer, and fails with another, showing the difference.
    let out = ok(&["test", s(&file), "--reducer", ACCOUNT_JQ]);
    assert!(out.contains("1 fixtures: 1 passed, 0 failed"), "{out}");
    let changed = dir.path().join("changed.jq");
    std::fs::write(
        &changed,
        std::fs::read_to_string(ACCOUNT_JQ).unwrap().replace(
            ".balance -= $event.data.amount",
            ".balance -= $event.data.amount * 2",
        ),
    )
    .unwrap();
    let result = bin()
        .args(["test", s(&file), "--reducer", s(&changed)])
        .output()
        .unwrap();
    assert_eq!(result.status.code(), Some(1));
    let text = String::from_utf8_lossy(&result.stdout);
    assert!(text.contains("FAIL"), "{text}");
    assert!(text.contains("~ /balance  70 → 40"), "{text}");
    let err = String::from_utf8_lossy(&result.stderr);
    assert_eq!(err.trim(), "eventscope: 1 of 1 fixtures failed");
    // --json: one object per fixture, with the changes.
    let result = bin()
        .args(["test", s(&file), "--reducer", s(&changed), "--json"])
        .output()
        .unwrap();
    let report = lines(&String::from_utf8_lossy(&result.stdout));
    assert_eq!(report[0]["passed"], false);
    assert_eq!(
        report[0]["outcomes"][0]["result"]["Ok"][0]["path"],
        "/balance"
    );
    // import reads the fixture's events back (the header is passed over).
    let copy = dir.path().join("copy.db");
    ok(&["import", s(&file), "--out", s(&copy)]);
    let back = lines(&ok(&["events", s(&copy), "--json"]));
    assert_eq!(back.len(), 3);
    // Bad input is one line each.
    let err = fails(&["export-test", s(&db), "Account-acc-1", "--at", "-5"]);
    assert_eq!(
        err.trim(),
        "eventscope: Account-acc-1 has no event up to version -5"
    );
    let err = fails(&["test", s(&dir.path().join("nowhere"))]);
    assert!(
        err.trim().ends_with("nowhere: no such file or folder"),
        "{err}"
    );
    // The file is never written over.
    let err = fails(&[
        "export-test",
        s(&db),
        "Account-acc-1",
        "--reducer",
        ACCOUNT_JQ,
        "--out",
        s(&file),
    ]);
    assert!(err.contains("must not exist yet"), "{err}");
}

#[test]
fn redaction_leaves_no_original_value_and_the_expected_state_follows_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::bin::demo(dir.path());
    let file = dir.path().join("user.ndjson");
    ok(&[
        "export-test",
        s(&db),
        "User-user-1",
        "--reducer",
        REDUCERS,
        "--redact",
        ".data |= with_entries(if .key == \"email\" or .key == \"name\" then .value = \"redacted\" else . end)",
        "--out",
        s(&file),
    ]);
    let text = std::fs::read_to_string(&file).unwrap();
    for original in ["alice@example.com", "alice@work.example", "Alice Martin"] {
        assert!(
            !text.contains(original),
            "{original} left in the fixture:\n{text}"
        );
    }
    let (header, events) = read_fixture(&file);
    let user_jq = format!("{REDUCERS}/User.jq");
    assert_eq!(
        header["expect"][0]["state"],
        common::jq_fold(&events, Path::new(&user_jq)).unwrap()
    );
    assert!(header["redact"].as_str().unwrap().contains("redacted"));
    let out = ok(&["test", s(&file), "--reducer", REDUCERS]);
    assert!(out.contains("1 passed"), "{out}");
    // A redaction that does not give an envelope back is refused in one line.
    let err = fails(&[
        "export-test",
        s(&db),
        "User-user-1",
        "--redact",
        ".data",
        "--out",
        s(&dir.path().join("bad.ndjson")),
    ]);
    assert!(err.contains("--redact must give an envelope back"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(!dir.path().join("bad.ndjson").exists());
}

#[test]
fn a_correlation_closure_becomes_one_fixture_of_several_streams() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("corr.db");
    // Two streams of one conversation: an order and its payment, one correlation id.
    let envelopes = [
        json!({"stream_id": "Order-9", "version": 1, "type": "OrderCreated", "data": {"total": 0}, "metadata": {"correlationId": "c-1"}, "event_id": "e1"}),
        json!({"stream_id": "Order-9", "version": 2, "type": "ItemAdded", "data": {"total": 5}, "metadata": {"correlationId": "c-1", "causationId": "e1"}, "event_id": "e2"}),
        json!({"stream_id": "Payment-9", "version": 1, "type": "Paid", "data": {"amount": 5}, "metadata": {"correlationId": "c-1", "causationId": "e2"}, "event_id": "e3"}),
        json!({"stream_id": "Order-8", "version": 1, "type": "OrderCreated", "data": {"total": 1}, "metadata": {"correlationId": "c-2"}, "event_id": "e4"}),
    ];
    let input = dir.path().join("in.ndjson");
    std::fs::write(
        &input,
        envelopes
            .iter()
            .map(|e| e.to_string() + "\n")
            .collect::<String>(),
    )
    .unwrap();
    ok(&["import", s(&input), "--out", s(&db)]);
    let file = dir.path().join("c1.ndjson");
    ok(&[
        "export-test",
        s(&db),
        "--correlation",
        "e2",
        "--out",
        s(&file),
    ]);
    let (header, events) = read_fixture(&file);
    assert_eq!(events.len(), 3, "the whole closure, nothing else");
    let expect: Vec<(String, i64)> = header["expect"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["stream"].as_str().unwrap().to_string(),
                x["version"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        expect,
        [("Order-9".to_string(), 2), ("Payment-9".to_string(), 1)]
    );
    // The built-in merge: each stream's payloads merged, as Python's dict update does.
    assert_eq!(header["expect"][0]["state"], json!({"total": 5}));
    assert_eq!(header["expect"][1]["state"], json!({"amount": 5}));
    let out = ok(&["test", s(dir.path()), "--json"]);
    assert_eq!(lines(&out)[0]["passed"], true);
}

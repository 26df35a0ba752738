//! Field history, the type catalog and upcasters through the binary. History is checked
//! against states folded by real jq (not eventscope) over every prefix of each stream;
//! the catalog of a store the real Python `eventsourcing` library wrote over four class
//! versions against a Python reading of its raw rows (tests/fixtures/types_reference.py);
//! upcasters against the library's own `upcast_vN_vN+1`.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::bin::{demo, fails, lines, ok, run, s};
use serde_json::{json, Value};

const REDUCERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/reducers");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// Every path of `v` as a JSON Pointer, containers included (not the root).
fn paths(v: &Value, at: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let p = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.insert(p.clone());
                paths(child, &p, out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let p = format!("{at}/{i}");
                out.insert(p.clone());
                paths(child, &p, out);
            }
        }
        _ => {}
    }
}

/// The changes of `path` across `states` (the state after each of `events`), as
/// `history --json` should give them: [version, change, old, new].
fn expected_changes(events: &[Value], states: &[Value], path: &str) -> Vec<Value> {
    let mut last: Option<Value> = None;
    let mut out = Vec::new();
    for (e, state) in events.iter().zip(states) {
        let now = state.pointer(path).cloned();
        if now != last {
            let change = match (&last, &now) {
                (None, Some(_)) => "added",
                (Some(_), None) => "removed",
                _ => "changed",
            };
            out.push(json!([e["version"], change, last, now]));
            last = now;
        }
    }
    out
}

fn got_changes(rows: &[Value]) -> Vec<Value> {
    rows.iter()
        .map(|r| json!([r["version"], r["change"], r.get("old"), r.get("new")]))
        .collect()
}

/// Checks `history` of every path of every state of `stream` against real jq's folds.
fn check_stream(db: &Path, stream: &str, reducer: &Path) -> usize {
    let events = lines(&ok(&["events", s(db), "--stream", stream, "--json"]));
    let states: Vec<Value> = (1..=events.len())
        .map(|n| common::jq_fold(&events[..n], reducer).unwrap())
        .collect();
    let mut all = BTreeSet::new();
    for st in &states {
        paths(st, "", &mut all);
    }
    assert!(!all.is_empty(), "{stream}: no fields");
    for path in &all {
        let rows = lines(&ok(&[
            "history",
            s(db),
            stream,
            path,
            "--reducer",
            s(reducer),
            "--json",
        ]));
        assert_eq!(
            got_changes(&rows),
            expected_changes(&events, &states, path),
            "{stream} {path}"
        );
        for (r, e) in rows.iter().zip(&events) {
            let e = events
                .iter()
                .find(|e| e["version"] == r["version"])
                .unwrap_or(e);
            assert_eq!(r["type"], e["type"], "{stream} {path}");
            assert_eq!(r["timestamp"], e["timestamp"], "{stream} {path}");
        }
    }
    all.len()
}

#[test]
fn history_of_every_field_of_every_demo_stream_matches_real_jq_folds() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let streams: Vec<String> = lines(&ok(&["streams", s(&db), "--json"]))
        .iter()
        .map(|v| v["stream_id"].as_str().unwrap().to_string())
        .collect();
    assert!(streams.len() >= 4, "{streams:?}");
    let mut checked = 0;
    for stream in &streams {
        let category = stream.split('-').next().unwrap();
        let reducer = Path::new(REDUCERS).join(format!("{category}.jq"));
        checked += check_stream(&db, stream, &reducer);
    }
    assert!(checked > 20, "only {checked} paths");
    // A jq path names the same field as its pointer; --category gives every stream's.
    let by_jq = ok(&[
        "history",
        s(&db),
        "Account-acc-1",
        ".balance",
        "--reducer",
        REDUCERS,
        "--json",
    ]);
    let by_pointer = ok(&[
        "history",
        s(&db),
        "Account-acc-1",
        "/balance",
        "--reducer",
        REDUCERS,
        "--json",
    ]);
    assert_eq!(by_jq, by_pointer);
    let category = lines(&ok(&[
        "history",
        s(&db),
        "--category",
        "Account",
        "/balance",
        "--reducer",
        REDUCERS,
        "--json",
    ]));
    let ids: BTreeSet<&str> = category
        .iter()
        .map(|r| r["stream_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, BTreeSet::from(["Account-acc-1", "Account-acc-2"]));
    let one: Vec<&Value> = category
        .iter()
        .filter(|r| r["stream_id"] == "Account-acc-1")
        .collect();
    assert_eq!(one.len(), lines(&by_pointer).len());
}

/// A stream built to hit every case: a value restored to an earlier one, a number that
/// becomes a string and back, a field removed, an array element changed and then gone,
/// and an equal rewrite (no change).
#[test]
fn history_names_restores_type_flips_removals_and_array_elements() {
    let dir = tempfile::tempdir().unwrap();
    let states = [
        json!({"v": 1, "t": 5, "gone": "x", "items": [{"qty": 1}, {"qty": 2}]}),
        json!({"v": 2, "t": "5", "gone": "x", "items": [{"qty": 1}, {"qty": 3}]}),
        json!({"v": 1, "t": 5, "items": [{"qty": 1}, {"qty": 3}]}),
        json!({"v": 1, "t": 5, "items": [{"qty": 1}]}),
        json!({"v": 1, "t": 5, "items": [{"qty": 1}, {"qty": 3}], "gone": null}),
    ];
    let ndjson: String = states
        .iter()
        .enumerate()
        .map(|(i, st)| {
            json!({"stream_id": "Case-1", "version": i + 1, "type": "Set", "data": {"state": st},
                   "timestamp": format!("2024-03-01T09:0{i}:00Z")})
            .to_string()
                + "\n"
        })
        .collect();
    let input = dir.path().join("case.ndjson");
    std::fs::write(&input, ndjson).unwrap();
    let db = dir.path().join("case.db");
    ok(&["import", s(&input), "--out", s(&db)]);
    let reducer = dir.path().join("set.jq");
    std::fs::write(&reducer, "$event.data.state").unwrap();
    let total = check_stream(&db, "Case-1", &reducer);
    assert!(total >= 7, "{total}");
    let restored = lines(&ok(&[
        "history",
        s(&db),
        "Case-1",
        "/v",
        "--reducer",
        s(&reducer),
        "--json",
    ]));
    assert_eq!(
        got_changes(&restored),
        vec![
            json!([1, "added", null, 1]),
            json!([2, "changed", 1, 2]),
            json!([3, "changed", 2, 1]),
        ],
        "a restore is a change; equal rewrites after it are none"
    );
    let gone = lines(&ok(&[
        "history",
        s(&db),
        "Case-1",
        "/gone",
        "--reducer",
        s(&reducer),
        "--json",
    ]));
    let kinds: Vec<&str> = gone.iter().map(|r| r["change"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["added", "removed", "added"], "{gone:?}");
    assert_eq!(gone[2]["new"], Value::Null, "present as null is not absent");
    let element = lines(&ok(&[
        "history",
        s(&db),
        "Case-1",
        ".items[1].qty",
        "--reducer",
        s(&reducer),
        "--json",
    ]));
    let kinds: Vec<(i64, &str)> = element
        .iter()
        .map(|r| {
            (
                r["version"].as_i64().unwrap(),
                r["change"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [(1, "added"), (2, "changed"), (4, "removed"), (5, "added")]
    );
    // The text form names each change; a path that is no path is one clear line.
    let text = ok(&["history", s(&db), "Case-1", "/t", "--reducer", s(&reducer)]);
    assert!(
        text.contains("\"5\"") && text.contains("3 changes of /t"),
        "{text}"
    );
    let err = fails(&[
        "history",
        s(&db),
        "Case-1",
        "items",
        "--reducer",
        s(&reducer),
    ]);
    assert!(
        err.contains("JSON Pointer") && err.lines().count() == 1,
        "{err}"
    );
}

/// The library's store over four class versions of `Account.Deposited`, and what the
/// library itself reads from it (one JSON line per event, then one per account).
fn versioned_store(dir: &Path) -> (PathBuf, Vec<Value>) {
    let db = dir.join("versions.sqlite");
    let python = common::python::with_eventsourcing();
    let script = format!("{FIXTURES}/eventsourcing_versions.py");
    for phase in ["1", "2", "3", "4"] {
        let out = Command::new(&python)
            .args([&script, s(&db), "write", phase])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = Command::new(&python)
        .args([&script, s(&db), "read"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (db, lines(&String::from_utf8(out.stdout).unwrap()))
}

#[test]
fn the_catalog_of_a_store_whose_payloads_changed_shape_matches_python() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = versioned_store(dir.path());
    let out = Command::new("python3")
        .args([&format!("{FIXTURES}/types_reference.py"), s(&db)])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want = lines(&String::from_utf8(out.stdout).unwrap());
    let got = lines(&ok(&["types", s(&db), "--json"]));
    assert_eq!(got.len(), want.len(), "{got:?}");
    for w in &want {
        let g = got.iter().find(|g| g["type"] == w["type"]).unwrap();
        let ty = &w["type"];
        assert_eq!(g["count"], w["count"], "{ty}");
        assert_eq!(g["streams"], w["streams"], "{ty}");
        assert_eq!(g["first"]["global_position"], w["first"], "{ty}");
        assert_eq!(g["last"]["global_position"], w["last"], "{ty}");
        assert_eq!(g["schema_versions"], w["versions"], "{ty}");
        let shapes = g["shapes"].as_array().unwrap();
        let want_shapes = w["shapes"].as_array().unwrap();
        assert_eq!(shapes.len(), want_shapes.len(), "{ty}");
        for (gs, ws) in shapes.iter().zip(want_shapes) {
            assert_eq!(gs["fields"], ws["fields"], "{ty}");
            assert_eq!(gs["count"], ws["count"], "{ty}");
            assert_eq!(gs["first"]["global_position"], ws["first"], "{ty}");
            assert_eq!(gs["last"]["global_position"], ws["last"], "{ty}");
        }
        assert_eq!(
            g["newest"].as_u64().unwrap() as usize,
            want_shapes.len() - 1
        );
    }
    // Deposited: added at one position, renamed at another, retyped at a third.
    let deposited = got.iter().find(|g| g["type"] == "Deposited").unwrap();
    let changes = deposited["changes"].as_array().unwrap();
    let at: Vec<i64> = changes
        .iter()
        .map(|c| c["at"]["global_position"].as_i64().unwrap())
        .collect();
    let starts: Vec<i64> = deposited["shapes"].as_array().unwrap()[1..]
        .iter()
        .map(|s| s["first"]["global_position"].as_i64().unwrap())
        .collect();
    assert_eq!(at, starts);
    assert_eq!(changes[0]["removed"], json!([["/amount", "number"]]));
    assert_eq!(changes[1]["added"], json!([["/currency", "string"]]));
    assert_eq!(
        changes[2]["retyped"],
        json!([["/amount_cents", "number", "string"]])
    );
    let text = ok(&["types", s(&db), "--type", "Deposited"]);
    let retyped = format!("from position {}: /amount_cents number → string", starts[2]);
    assert!(text.contains(&retyped), "{text}");
    assert!(!text.contains("Opened"), "--type keeps one type: {text}");
    // A cap on shapes says what it left out.
    let capped = ok(&["types", s(&db), "--type", "Deposited", "--max-shapes", "2"]);
    assert!(
        capped.contains("13 events of further shapes not kept"),
        "{capped}"
    );
}

/// jq upcasters doing what the library's `upcast_vN_vN+1` do, by schema version.
fn write_upcasters(dir: &Path, with_v3: bool) -> PathBuf {
    let up = dir.join("upcasters");
    std::fs::create_dir_all(&up).unwrap();
    let to_v4 = r#"| .data.class_version = 4 | .schema_version = "4""#;
    std::fs::write(
        up.join("Deposited.jq"),
        // For events stored without a version (v1); a version without a file of its own
        // comes here too, and is left as it is.
        format!(
            r#"if .schema_version == null then .data = {{amount_cents: ((.data.amount * 100) | tostring), currency: "EUR"}} {to_v4} else . end"#
        ),
    )
    .unwrap();
    std::fs::write(
        up.join("Deposited.v2.jq"),
        format!(r#".data.amount_cents |= tostring | .data.currency = "EUR" {to_v4}"#),
    )
    .unwrap();
    let v3 = up.join("Deposited.v3.jq");
    if with_v3 {
        std::fs::write(&v3, format!(".data.amount_cents |= tostring {to_v4}")).unwrap();
    } else {
        let _ = std::fs::remove_file(&v3);
    }
    up
}

#[test]
fn upcasters_bring_every_event_to_what_the_library_upcasts_it_to() {
    let dir = tempfile::tempdir().unwrap();
    let (db, library) = versioned_store(dir.path());
    let up = write_upcasters(dir.path(), true);
    // The upcast envelopes carry what the library's upcasting gives, marked as upcast.
    let events = lines(&ok(&["events", s(&db), "--upcasters", s(&up), "--json"]));
    let by_library: Vec<&Value> = library
        .iter()
        .filter(|l| l.get("position").is_some())
        .collect();
    assert_eq!(events.len(), by_library.len());
    let as_stored = lines(&ok(&["events", s(&db), "--json"]));
    for ((e, l), st) in events.iter().zip(&by_library).zip(&as_stored) {
        assert_eq!(e["global_position"], l["position"]);
        if l["type"] != "Deposited" {
            assert!(e.get("upcast").is_none(), "{e}");
            continue;
        }
        let mut data = e["data"].clone();
        data.as_object_mut().unwrap().remove("class_version");
        assert_eq!(data, l["state"], "position {}", l["position"]);
        // Events stored in the newest version are left as they are, and not marked.
        let newest = st["schema_version"] == "4";
        assert_eq!(e.get("upcast").is_some(), !newest, "{e}");
        assert_eq!(e["schema_version"], "4");
    }
    let stored = lines(&ok(&["events", s(&db), "--json", "--limit", "3"]));
    assert!(
        stored.iter().all(|e| e.get("upcast").is_none()),
        "stored unless asked"
    );
    // State through the upcasters: the balance the library computes.
    let reducer = dir.path().join("account.jq");
    std::fs::write(
        &reducer,
        r#"if $event.type == "Opened" then {owner: $event.data.owner, balance: 0}
           else .balance += ($event.data.amount_cents | tonumber) end"#,
    )
    .unwrap();
    for account in library.iter().filter(|l| l.get("owner").is_some()) {
        let id = account["id"].as_str().unwrap();
        let state: Value = serde_json::from_str(&ok(&[
            "state",
            s(&db),
            id,
            "--reducer",
            s(&reducer),
            "--upcasters",
            s(&up),
            "--json",
        ]))
        .unwrap();
        assert_eq!(state["balance"], account["balance"], "{id}");
        let history = lines(&ok(&[
            "history",
            s(&db),
            id,
            "/balance",
            "--reducer",
            s(&reducer),
            "--upcasters",
            s(&up),
            "--json",
        ]));
        assert_eq!(history.last().unwrap()["new"], account["balance"]);
    }
    // The header says the events were upcast.
    let id = library.iter().find_map(|l| l["id"].as_str()).unwrap();
    let text = ok(&[
        "state",
        s(&db),
        id,
        "--reducer",
        s(&reducer),
        "--upcasters",
        s(&up),
    ]);
    assert!(text.contains(&format!("upcasters: {}", s(&up))), "{text}");
    // check: clean with every version covered.
    let clean = ok(&["check", s(&db), "--upcasters", s(&up)]);
    assert!(
        clean.contains("every stored shape is upcast to its type's newest shape"),
        "{clean}"
    );
    // Without the v3 upcaster, v3 events fall to the v1 one, which gives them no amount:
    // reported once, at the first v3 event.
    write_upcasters(dir.path(), false);
    let first_v3 = lines(&ok(&["events", s(&db), "--json"]))
        .into_iter()
        .find(|e| e["schema_version"] == "3")
        .unwrap();
    let out = run(&["check", s(&db), "--upcasters", s(&up), "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let problems = lines(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(problems.len(), 1, "{problems:?}");
    let p = &problems[0]["upcast"];
    assert_eq!(p["first"]["global_position"], first_v3["global_position"]);
    assert_eq!(p["stored_shape"], 3);
    assert_eq!(p["events"], 6);
    assert_eq!(p["upcaster"], "Deposited.jq");
    assert_eq!(problems[0]["stream_id"], first_v3["stream_id"]);
}

#[test]
fn upcasters_are_guarded_and_may_not_move_an_event() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let up = dir.path().join("up");
    std::fs::create_dir(&up).unwrap();
    std::fs::write(up.join("MoneyDeposited.jq"), r#".stream_id = "elsewhere""#).unwrap();
    let err = fails(&["state", s(&db), "Account-acc-1", "--upcasters", s(&up)]);
    assert!(
        err.contains("MoneyDeposited.jq") && err.contains("changed stream_id"),
        "{err}"
    );
    std::fs::write(up.join("MoneyDeposited.jq"), "until(false; .)").unwrap();
    let err = fails(&[
        "state",
        s(&db),
        "Account-acc-1",
        "--upcasters",
        s(&up),
        "--jq-timeout",
        "0.5",
    ]);
    assert!(
        err.contains("upcaster MoneyDeposited.jq did not finish"),
        "{err}"
    );
    std::fs::write(up.join("MoneyDeposited.jq"), "input").unwrap();
    let err = fails(&["state", s(&db), "Account-acc-1", "--upcasters", s(&up)]);
    assert!(
        err.contains("MoneyDeposited.jq") && err.lines().count() == 1,
        "{err}"
    );
    // An upcasters/ folder beside the store is used by default, and named as such.
    std::fs::write(up.join("MoneyDeposited.jq"), ".data.amount *= 2").unwrap();
    std::fs::rename(&up, dir.path().join("upcasters")).unwrap();
    let text = ok(&["state", s(&db), "Account-acc-1", "--reducer", REDUCERS]);
    assert!(text.contains("beside the store"), "{text}");
    let state: Value = serde_json::from_str(&ok(&[
        "state",
        s(&db),
        "Account-acc-1",
        "--reducer",
        REDUCERS,
        "--json",
    ]))
    .unwrap();
    let stored: Value = serde_json::from_str(&ok(&[
        "state",
        s(&db),
        "Account-acc-1",
        "--reducer",
        REDUCERS,
        "--json",
        "--no-upcasters",
    ]))
    .unwrap();
    assert_eq!(stored["balance"], 120);
    assert_eq!(
        state["balance"],
        120 + 100 + 50,
        "deposits doubled by the upcaster"
    );
    let err = fails(&["events", s(&db), "--upcast", "--no-upcasters"]);
    assert!(
        err.contains("--upcast") || err.contains("no-upcasters"),
        "{err}"
    );
}

//! Finding events: `events --where/--text/--category/--since/--until`, checked on the
//! seed's events against a Python filter of the raw rows, and round-tripped through import.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use common::bin::{demo, fails, lines, ok, python_json, s};
use serde_json::Value;

fn positions(v: &[Value]) -> Vec<i64> {
    v.iter()
        .map(|e| e["global_position"].as_i64().unwrap())
        .collect()
}

/// Global positions of the rows a Python expression over (stream, type, data, metadata,
/// timestamp) keeps.
fn python_positions(db: &Path, expr: &str) -> Vec<i64> {
    let program = format!(
        "import json,sqlite3,sys\n\
         db=sqlite3.connect('file:'+sys.argv[1]+'?mode=ro',uri=True)\n\
         out=[]\n\
         for pos,stream,ty,data,meta,ts in db.execute('SELECT global_position,stream_id,event_type,data,metadata,timestamp FROM events ORDER BY global_position'):\n\
         \x20   d=json.loads(data); m=json.loads(meta); raw=data+meta\n\
         \x20   if {expr}: out.append(pos)\n\
         print(json.dumps(out))"
    );
    serde_json::from_value(python_json(&["-c", &program, s(db)])).unwrap()
}

#[test]
fn where_keeps_the_events_a_jq_predicate_holds_for() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let deposits = lines(&ok(&[
        "events",
        s(&db),
        "--stream",
        "Account-acc-1",
        "--where",
        ".data.amount > 40",
        "--json",
    ]));
    let amounts: Vec<i64> = deposits
        .iter()
        .map(|e| e["data"]["amount"].as_i64().unwrap())
        .collect();
    assert_eq!(amounts, vec![100, 50]);
    let all = lines(&ok(&[
        "events",
        s(&db),
        "--where",
        ".data.amount > 40",
        "--json",
    ]));
    assert_eq!(
        positions(&all),
        python_positions(
            &db,
            "isinstance(d.get('amount'), (int, float)) and d['amount'] > 40"
        )
    );
    let by_meta = lines(&ok(&[
        "events",
        s(&db),
        "--where",
        ".metadata.userId == \"user-2\"",
        "--json",
    ]));
    assert_eq!(
        positions(&by_meta),
        python_positions(&db, "m.get('userId') == 'user-2'")
    );
    let regex = lines(&ok(&[
        "events",
        s(&db),
        "--where",
        ".type | test(\"Withdrawn$\")",
        "--json",
    ]));
    assert_eq!(
        positions(&regex),
        python_positions(&db, "ty.endswith('Withdrawn')")
    );
    // With --type and --limit, the limit counts kept events.
    let limited = lines(&ok(&[
        "events",
        s(&db),
        "--type",
        "MoneyDeposited",
        "--where",
        ".data.amount >= 50",
        "--limit",
        "2",
        "--json",
    ]));
    assert_eq!(limited.len(), 2);
    let err = fails(&["events", s(&db), "--where", ".data.amount >"]);
    assert!(err.contains("--where:1:"), "{err}");
}

#[test]
fn text_category_and_time_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let lisbon = lines(&ok(&["events", s(&db), "--text", "Lisbon", "--json"]));
    assert_eq!(positions(&lisbon), python_positions(&db, "'Lisbon' in raw"));
    let corr = lines(&ok(&[
        "events",
        s(&db),
        "--text",
        "corr-Order-123",
        "--json",
    ]));
    assert_eq!(
        positions(&corr),
        python_positions(&db, "'corr-Order-123' in raw")
    );
    let order = lines(&ok(&["events", s(&db), "--category", "Order", "--json"]));
    assert_eq!(
        positions(&order),
        python_positions(&db, "stream.split('-')[0] == 'Order'")
    );
    // Both bounds inclusive, at equal timestamps.
    let events = lines(&ok(&["events", s(&db), "--json"]));
    let t4 = events[3]["timestamp"].as_str().unwrap();
    let t7 = events[6]["timestamp"].as_str().unwrap();
    let window = lines(&ok(&[
        "events",
        s(&db),
        "--since",
        t4,
        "--until",
        t7,
        "--json",
    ]));
    assert_eq!(
        positions(&window),
        python_positions(&db, &format!("'{t4}' <= ts <= '{t7}'"))
    );
    assert_eq!(window.first().unwrap()["timestamp"], t4);
    assert_eq!(window.last().unwrap()["timestamp"], t7);
    // A prefix: --since from its start, --until to its end.
    let day = lines(&ok(&[
        "events",
        s(&db),
        "--since",
        "2024-03-01",
        "--until",
        "2024-03-01",
        "--json",
    ]));
    assert_eq!(day.len(), events.len());
    let combined = lines(&ok(&[
        "events",
        s(&db),
        "--category",
        "Account",
        "--text",
        "acc-2",
        "--where",
        ".data.amount > 100",
        "--json",
    ]));
    assert_eq!(
        positions(&combined),
        python_positions(
            &db,
            "stream.startswith('Account-') and 'acc-2' in raw and (d.get('amount') or 0) > 100"
        )
    );
    let err = fails(&["events", s(&db), "--category", "Nope"]);
    assert!(err.contains("Nope"), "{err}");
}

#[test]
fn filtered_output_imports_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    for args in [
        vec!["--where", ".data.amount > 40"],
        vec!["--text", "acc-1"],
        vec!["--category", "Order"],
        vec![
            "--since",
            "2024-03-01T09:05:00Z",
            "--until",
            "2024-03-01T09:12:00Z",
        ],
    ] {
        let mut cmd = vec!["events", s(&db), "--json"];
        cmd.extend(args.iter().copied());
        let json = ok(&cmd);
        let file = dir.path().join("part.ndjson");
        std::fs::write(&file, &json).unwrap();
        let out = dir
            .path()
            .join(format!("copy-{}.db", args[0].trim_start_matches('-')));
        ok(&["import", s(&file), "--out", s(&out)]);
        let back = ok(&["events", s(&out), "--json"]);
        let strip = |text: &str| -> Vec<(String, i64, String, Value)> {
            lines(text)
                .into_iter()
                .map(|e| {
                    (
                        e["stream_id"].as_str().unwrap().to_string(),
                        e["version"].as_i64().unwrap(),
                        e["type"].as_str().unwrap().to_string(),
                        e["data"].clone(),
                    )
                })
                .collect()
        };
        assert_eq!(strip(&back), strip(&json), "{args:?}");
    }
}

/// A store whose correlation crosses streams: an order causes a payment and a
/// reservation, the payment causes a shipment; another correlation stays apart; one event
/// uses snake-case keys, one names a cause outside the set.
fn saga(dir: &Path) -> PathBuf {
    let lines = [
        ("Order-1", 1, "o1", "OrderPlaced", "c-1", None),
        ("Other-9", 1, "x1", "Unrelated", "c-2", None),
        ("Payment-1", 1, "p1", "PaymentTaken", "c-1", Some("o1")),
        ("Stock-1", 1, "s1", "Reserved", "c-1", Some("o1")),
        ("Shipment-1", 1, "h1", "Shipped", "c-1", Some("p1")),
        ("Audit-1", 1, "a1", "Logged", "c-1", Some("gone")),
    ];
    let mut text = String::new();
    for (i, (stream, v, id, ty, corr, cause)) in lines.iter().enumerate() {
        let metadata = match (i, cause) {
            (3, Some(c)) => serde_json::json!({"correlation_id": corr, "causation_id": c}),
            (_, Some(c)) => serde_json::json!({"correlationId": corr, "causationId": c}),
            (_, None) => serde_json::json!({"correlationId": corr}),
        };
        let e = serde_json::json!({
            "stream_id": stream, "version": v, "event_id": id, "type": ty,
            "data": {}, "metadata": metadata,
            "timestamp": format!("2024-03-01T10:0{i}:00Z"),
        });
        text.push_str(&format!("{e}\n"));
    }
    let file = dir.join("saga.ndjson");
    std::fs::write(&file, text).unwrap();
    let db = dir.join("saga.db");
    ok(&["import", s(&file), "--out", s(&db)]);
    db
}

#[test]
fn related_shows_the_correlation_as_a_causation_tree() {
    let dir = tempfile::tempdir().unwrap();
    let db = saga(dir.path());
    let tree = ok(&["related", s(&db), "p1"]);
    let lines: Vec<&str> = tree.lines().collect();
    assert!(
        lines[0].starts_with("5 events share correlationId c-1"),
        "{tree}"
    );
    // Tree order: the order, then its effects (payment with its shipment, the stock),
    // then the audit event whose cause is not in the set.
    let order: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.split_whitespace().find(|w| w.contains('-')).unwrap())
        .collect();
    assert_eq!(
        order,
        vec!["Order-1", "Payment-1", "Shipment-1", "Stock-1", "Audit-1"]
    );
    assert!(lines[1].ends_with("(cause)"), "{tree}");
    assert!(lines[2].starts_with("▶"), "{tree}");
    assert!(
        lines[3].ends_with("(effect)") && lines[3].contains("      "),
        "{tree}"
    );
    assert!(
        !lines[4].contains("(cause)") && !lines[4].contains("(effect)"),
        "{tree}"
    );
    let json = common::bin::lines(&ok(&["related", s(&db), "p1", "--json"]));
    let summary: Vec<(String, i64, Value)> = json
        .iter()
        .map(|e| {
            (
                e["event_id"].as_str().unwrap().to_string(),
                e["depth"].as_i64().unwrap(),
                e["parent"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("o1".into(), 0, Value::Null),
            ("p1".into(), 1, "o1".into()),
            ("s1".into(), 1, "o1".into()),
            ("h1".into(), 2, "p1".into()),
            ("a1".into(), 0, Value::Null),
        ],
        "global order, with depth and parent"
    );
    // Named keys.
    let named = ok(&[
        "related",
        s(&db),
        "x1",
        "--correlation-key",
        "correlationId",
    ]);
    assert!(
        named.starts_with("1 events share correlationId c-2"),
        "{named}"
    );
    // Without such metadata: one line.
    let plain = dir.path().join("plain.db");
    ok(&["demo", "--out", s(&plain)]);
    let err = fails(&["related", s(&plain), "1", "--correlation-key", "traceId"]);
    assert!(
        err.contains("no correlation id") && err.contains("traceId"),
        "{err}"
    );
    let err = fails(&["related", s(&db), "nope"]);
    assert!(err.contains("nope"), "{err}");
}

#[test]
fn stats_count_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let st: Value = serde_json::from_str(&ok(&["stats", s(&db), "--json"])).unwrap();
    let program = "import json,sqlite3,sys,collections\n\
        db=sqlite3.connect('file:'+sys.argv[1]+'?mode=ro',uri=True)\n\
        rows=list(db.execute('SELECT stream_id,event_type,timestamp FROM events'))\n\
        types=collections.Counter(r[1] for r in rows)\n\
        cats=collections.Counter(r[0].split('-')[0] for r in rows)\n\
        lens=sorted(collections.Counter(r[0] for r in rows).values())\n\
        print(json.dumps({'events':len(rows),'streams':len(lens),'types':types,'categories':cats,'max':lens[-1],'first':min(r[2] for r in rows),'last':max(r[2] for r in rows)}))";
    let py = python_json(&["-c", program, s(&db)]);
    assert_eq!(st["events"], py["events"]);
    assert_eq!(st["streams"], py["streams"]);
    assert_eq!(st["types"], py["types"]);
    assert_eq!(st["categories"], py["categories"]);
    assert_eq!(st["stream_length"]["max"], py["max"]);
    assert_eq!(st["first_time"], py["first"]);
    assert_eq!(st["last_time"], py["last"]);
    let buckets = st["buckets"].as_array().unwrap();
    let total: i64 = buckets.iter().map(|b| b["events"].as_i64().unwrap()).sum();
    assert_eq!(
        json_i64(&st["events"]),
        total,
        "every timed event is in a bucket"
    );
    // A set bucket size; a category.
    let hourly: Value = serde_json::from_str(&ok(&[
        "stats",
        s(&db),
        "--category",
        "Account",
        "--bucket",
        "1h",
        "--json",
    ]))
    .unwrap();
    assert_eq!(hourly["bucket"], "1h");
    assert_eq!(hourly["buckets"].as_array().unwrap().len(), 1);
    assert_eq!(hourly["events"], py["categories"]["Account"]);
    let err = common::bin::run(&["stats", s(&db), "--bucket", "5y"]);
    assert_eq!(err.status.code(), Some(2));
}

fn json_i64(v: &Value) -> i64 {
    v.as_i64().unwrap()
}

#[test]
fn stats_take_categories_from_the_layout_not_the_id() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::eventsourcing(dir.path(), false);
    let st: Value = serde_json::from_str(&ok(&["stats", s(&db), "--json"])).unwrap();
    let categories = st["categories"].as_object().unwrap();
    assert_eq!(categories.len(), 1, "{st}");
    assert!(categories.contains_key("BankAccount"), "{st}");
    assert_eq!(categories["BankAccount"], st["events"]);
}

/// Metadata as other libraries write it, straight into the store (an import would
/// re-serialize it): ids JSON-escaped by Python's `json.dumps`, a causation cycle, empty
/// ids, a number beside the same digits as a string.
fn spelled_store(dir: &Path) -> PathBuf {
    let rows: &[(&str, &str)] = &[
        ("e1", r#"{"correlationId": "caf\u00e9-1"}"#),
        ("e2", r#"{"correlationId": "café-1", "causationId": "e1"}"#),
        ("s1", r#"{"correlationId": "a\/b"}"#),
        ("s2", r#"{"correlationId": "a/b", "causationId": "s1"}"#),
        ("q1", r#"{"correlationId": "say \"hi\""}"#),
        ("q2", r#"{"correlationId": "say \u0022hi\u0022"}"#),
        ("ca", r#"{"correlationId": "cyc", "causationId": "cc"}"#),
        ("cb", r#"{"correlationId": "cyc", "causationId": "ca"}"#),
        ("cc", r#"{"correlationId": "cyc", "causationId": "cb"}"#),
        ("f1", r#"{"correlationId": ""}"#),
        ("f2", r#"{"correlationId": ""}"#),
        ("n1", r#"{"correlationId": 42}"#),
        ("n2", r#"{"correlationId": "42"}"#),
        ("n3", r#"{"correlationId": 42}"#),
    ];
    let p = dir.join("spelled.db");
    drop(eventscope::store::Store::create(&p).unwrap());
    let c = rusqlite::Connection::open(&p).unwrap();
    for (i, (id, metadata)) in rows.iter().enumerate() {
        c.execute(
            "INSERT INTO events (stream_id, version, event_id, event_type, data, metadata, timestamp) VALUES (?1, 1, ?2, 'Happened', '{}', ?3, '2024-03-01T10:00:00Z')",
            rusqlite::params![format!("S-{i}"), id, metadata],
        )
        .unwrap();
    }
    p
}

/// Python's answer from the raw rows: the ids whose correlation id is the same JSON value
/// (type and value) as the asked event's.
fn python_related(db: &Path, asked: &str) -> Vec<String> {
    let script = r#"
import json, sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute("SELECT event_id, metadata FROM events ORDER BY global_position").fetchall()
meta = {i: json.loads(m) for i, m in rows}
want = meta[sys.argv[2]]["correlationId"]
same = lambda v: type(v) is type(want) and v == want
print(json.dumps([i for i, _ in rows if same(meta[i].get("correlationId"))]))
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", script, s(db), asked])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn related_matches_ids_by_value_whatever_their_spelling() {
    let dir = tempfile::tempdir().unwrap();
    let db = spelled_store(dir.path());
    for asked in [
        "e1", "e2", "s1", "s2", "q1", "q2", "ca", "f1", "f2", "n1", "n2",
    ] {
        let json = common::bin::lines(&ok(&["related", s(&db), asked, "--json"]));
        let ids: Vec<String> = json
            .iter()
            .map(|e| e["event_id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(ids, python_related(&db, asked), "asked about {asked}");
        let marked: Vec<&Value> = json
            .iter()
            .filter(|e| e["relation"] == "asked")
            .map(|e| &e["event_id"])
            .collect();
        assert_eq!(marked, vec![asked], "the asked event is the one marked");
    }
    let tree = ok(&["related", s(&db), "s2"]);
    let asked_line = tree.lines().find(|l| l.starts_with('▶')).unwrap();
    assert!(asked_line.contains("S-3"), "▶ on the asked event: {tree}");
    assert!(
        tree.starts_with("2 events share correlationId a/b"),
        "{tree}"
    );
}

#[test]
fn a_causation_cycle_is_labelled_by_the_nearer_relation_and_drawn_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = spelled_store(dir.path());
    // ca ← cc ← cb ← ca: cb's cause is ca, cc's cause is cb.
    let json = common::bin::lines(&ok(&["related", s(&db), "cb", "--json"]));
    let relation = |id: &str| {
        json.iter()
            .find(|e| e["event_id"] == id)
            .map(|e| e["relation"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(relation("cb"), "asked");
    assert_eq!(relation("ca"), "cause", "cb's causationId is ca");
    assert_eq!(relation("cc"), "effect", "cc's causationId is cb");
    let tree = ok(&["related", s(&db), "cb"]);
    let body: Vec<&str> = tree.lines().skip(1).collect();
    assert_eq!(body.len(), 3, "each event drawn once: {tree}");
    assert!(
        body[0].starts_with("▶"),
        "the cycle is drawn from the asked event: {tree}"
    );
    assert!(
        body[1].contains("S-8") && body[1].ends_with("(effect)"),
        "{tree}"
    );
    assert!(
        body[2].contains("S-6") && body[2].ends_with("(cause)"),
        "{tree}"
    );
}

//! `eventscope mcp`: driven by the official MCP Python SDK (PyPI `mcp`, in a venv the test
//! makes) on the demo store. Every tool's answer equals the CLI's `--json` output; lists
//! page to the whole; errors, a looping jq program and bad arguments are answers the
//! model reads, and the server goes on; nothing is written.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::bin::{demo, lines, ok, run, s};
use serde_json::{json, Value};

fn reducers() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/assets/reducers").to_string()
}

/// Runs a session: initialize, list the tools, then each call. The server's info, its
/// tools, and per call the SDK's view of the result.
fn session(store: &Path, calls: &[(&str, Value)], server_args: &[&str]) -> Vec<Value> {
    let python = common::python::with_packages("mcp", &["mcp>=2,<3"]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("calls.json");
    let calls: Vec<Value> = calls.iter().map(|(t, a)| json!([t, a])).collect();
    std::fs::write(&file, serde_json::to_string(&calls).unwrap()).unwrap();
    let mut args = vec![env!("CARGO_BIN_EXE_eventscope"), s(store), s(&file)];
    args.extend_from_slice(server_args);
    common::fixture_lines(&python, "mcp_session.py", &args)
}

/// What a call answered: its structured content, which must not be an error.
fn answered(r: &Value) -> &Value {
    assert_eq!(r["isError"], false, "{r}");
    // The text content is the same JSON, for clients that read only text.
    let text: Value = serde_json::from_str(r["text"].as_str().unwrap()).unwrap();
    assert_eq!(text, r["structured"]);
    &r["structured"]
}

fn cli(args: &[&str]) -> Vec<Value> {
    lines(&ok(args))
}

fn with<'a>(args: &[&'a str], more: &[&'a str]) -> Vec<&'a str> {
    [args, more].concat()
}

fn cli_one(args: &[&str]) -> Value {
    serde_json::from_str(&ok(args)).unwrap()
}

#[test]
fn every_tool_answers_as_the_cli_does() {
    let dir = tempfile::tempdir().unwrap();
    let store = demo(dir.path());
    let st = s(&store);
    let r = reducers();
    let before = std::fs::read(&store).unwrap();
    let calls = [
        ("list_streams", json!({})),
        ("list_streams", json!({"category": "Order"})),
        ("list_categories", json!({})),
        (
            "list_events",
            json!({"category": "Account", "where": ".data.amount > 40"}),
        ),
        (
            "list_events",
            json!({"since": "2024-03-01T09:05", "until": "2024-03-01T09:10", "type": "ItemAdded"}),
        ),
        (
            "get_state",
            json!({"stream": "Order-123", "versions": [2, 5]}),
        ),
        (
            "get_state",
            json!({"stream": "Account-acc-1", "at_time": "2024-03-01T09:10"}),
        ),
        ("diff", json!({"stream": "Order-123", "from": 2, "to": 6})),
        ("blame", json!({"stream": "Account-acc-1"})),
        (
            "when",
            json!({"stream": "Account-acc-1", "predicate": ".balance > 50", "all": true}),
        ),
        (
            "when",
            json!({"category": "Account", "predicate": ".balance > 50"}),
        ),
        (
            "what_if",
            json!({"stream": "Order-123", "skip_types": ["DiscountApplied"]}),
        ),
        (
            "field_history",
            json!({"stream": "Account-acc-1", "path": "/balance"}),
        ),
        ("related", json!({"event": "1"})),
        ("stats", json!({"category": "Order"})),
        ("event_types", json!({})),
        ("consumers", json!({})),
        ("check", json!({})),
    ];
    let got = session(&store, &calls, &["--reducer", &r]);
    assert_eq!(
        got[0],
        json!({"server": "eventscope", "protocol": "2025-06-18"})
    );
    let names: Vec<&str> = got[1]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), names.len());
    for t in got[1]["tools"].as_array().unwrap() {
        assert_eq!(t["schema"]["type"], "object", "{t}");
        assert_eq!(t["schema"]["additionalProperties"], false, "{t}");
    }
    // Every tool is called here.
    for name in &names {
        assert!(calls.iter().any(|(c, _)| c == name), "{name} untested");
    }
    let results = &got[2..];
    assert_eq!(results.len(), calls.len());
    let items = |i: usize| answered(&results[i])["items"].as_array().unwrap().clone();
    let rd = ["--reducer", r.as_str()];

    assert_eq!(items(0), cli(&["streams", st, "--json"]));
    assert_eq!(
        items(1),
        cli(&["streams", st, "--json", "--category", "Order"])
    );
    assert_eq!(
        answered(&results[2])["categories"],
        cli_one(&["stats", st, "--json"])["categories"]
    );
    assert_eq!(
        items(3),
        cli(&[
            "events",
            st,
            "--json",
            "--category",
            "Account",
            "--where",
            ".data.amount > 40"
        ])
    );
    assert_eq!(
        items(4),
        cli(&[
            "events",
            st,
            "--json",
            "--since",
            "2024-03-01T09:05",
            "--until",
            "2024-03-01T09:10",
            "--type",
            "ItemAdded"
        ])
    );
    assert_eq!(
        items(5),
        cli(&with(
            &[
                "state",
                st,
                "Order-123",
                "--at",
                "2,5",
                "--json",
                "--envelope"
            ],
            &rd
        ))
    );
    assert_eq!(
        items(6),
        cli(&with(
            &[
                "state",
                st,
                "Account-acc-1",
                "--at-time",
                "2024-03-01T09:10",
                "--json",
                "--envelope"
            ],
            &rd
        ))
    );
    assert_eq!(
        answered(&results[7])["result"],
        cli_one(&with(
            &[
                "diff",
                st,
                "Order-123",
                "--from",
                "2",
                "--to",
                "6",
                "--json"
            ],
            &rd
        ))
    );
    assert_eq!(
        items(8),
        cli(&with(&["blame", st, "Account-acc-1", "--json"], &rd))
    );
    assert_eq!(
        items(9),
        cli(&with(
            &[
                "when",
                st,
                "Account-acc-1",
                ".balance > 50",
                "--all",
                "--json"
            ],
            &rd
        ))
    );
    assert_eq!(
        items(10),
        cli(&with(
            &[
                "when",
                st,
                ".balance > 50",
                "--category",
                "Account",
                "--json"
            ],
            &rd
        ))
    );
    assert_eq!(
        answered(&results[11])["result"],
        cli_one(&with(
            &[
                "whatif",
                st,
                "Order-123",
                "--skip-type",
                "DiscountApplied",
                "--json"
            ],
            &rd
        ))
    );
    assert_eq!(
        items(12),
        cli(&with(
            &["history", st, "Account-acc-1", "/balance", "--json"],
            &rd
        ))
    );
    assert_eq!(items(13), cli(&["related", st, "1", "--json"]));
    assert_eq!(
        answered(&results[14])["result"],
        cli_one(&["stats", st, "--category", "Order", "--json"])
    );
    assert_eq!(items(15), cli(&["types", st, "--json"]));
    // `behind_for` counts from now: the two answers were read moments apart.
    let (mut mcp, mut want) = (items(16), cli(&["consumers", st, "--json"]));
    assert_eq!(mcp.len(), want.len());
    for (m, w) in mcp.iter_mut().zip(&mut want) {
        let (a, b) = (m["behind_for"].take(), w["behind_for"].take());
        assert_eq!(a.is_null(), b.is_null());
        assert!((a.as_f64().unwrap_or(0.0) - b.as_f64().unwrap_or(0.0)).abs() < 60.0);
    }
    assert_eq!(mcp, want);
    assert_eq!(items(17), cli(&with(&["check", st, "--json"], &rd)));
    // None of these is empty: each comparison compares something.
    for i in [0, 1, 3, 4, 5, 6, 8, 9, 10, 12, 13, 15] {
        assert!(!items(i).is_empty(), "call {i}: {:?}", calls[i]);
    }
    assert_eq!(
        std::fs::read(&store).unwrap(),
        before,
        "the store was written"
    );
}

#[test]
fn lists_page_with_a_cursor_to_the_whole() {
    let dir = tempfile::tempdir().unwrap();
    let store = demo(dir.path());
    let st = s(&store);
    // Pages of 5 events, then of 2 streams: each page's `more` is the next call's cursor.
    // The session is fixed in advance, so the cursors are what the pages must give.
    let mut calls = vec![("list_events", json!({"limit": 5}))];
    for from in [6, 11, 16] {
        calls.push((
            "list_events",
            json!({"limit": 5, "cursor": format!("from:{from}")}),
        ));
    }
    calls.push(("list_streams", json!({"limit": 2})));
    calls.push(("list_streams", json!({"limit": 2, "cursor": "skip:2"})));
    calls.push(("list_streams", json!({"limit": 2, "cursor": "skip:4"})));
    let got = session(&store, &calls, &[]);
    let results = &got[2..];
    let mut events = Vec::new();
    for (i, r) in results[..4].iter().enumerate() {
        let page = answered(r);
        events.extend(page["items"].as_array().unwrap().clone());
        let want = if i < 3 {
            json!(format!("from:{}", 6 + 5 * i))
        } else {
            Value::Null
        };
        assert_eq!(page["more"], want, "page {i}");
    }
    assert_eq!(events, cli(&["events", st, "--json"]));
    let mut streams = Vec::new();
    for (i, r) in results[4..].iter().enumerate() {
        let page = answered(r);
        streams.extend(page["items"].as_array().unwrap().clone());
        let want = if i < 2 {
            json!(format!("skip:{}", 2 + 2 * i))
        } else {
            Value::Null
        };
        assert_eq!(page["more"], want, "page {i}");
    }
    assert_eq!(streams, cli(&["streams", st, "--json"]));
}

#[test]
fn errors_are_answers_and_the_server_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let store = demo(dir.path());
    let calls = [
        ("get_state", json!({"stream": "Account-nobody"})),
        ("list_events", json!({"where": "until(false; .)"})),
        ("list_events", json!({"limit": "ten"})),
        ("list_events", json!({"limit": 100000})),
        ("diff", json!({"stream": "Account-acc-1"})),
        (
            "diff",
            json!({"stream": "Account-acc-1", "from": 1, "colour": true}),
        ),
        ("list_events", json!({"cursor": "skip:3"})),
        ("get_state", json!({"stream": "--help"})),
        ("stats", json!({})),
    ];
    let got = session(&store, &calls, &["--jq-timeout", "0.5"]);
    let results = &got[2..];
    let error = |i: usize| {
        assert_eq!(results[i]["isError"], true, "{}", results[i]);
        results[i]["text"].as_str().unwrap().to_string()
    };
    assert!(error(0).contains("Account-nobody"), "{}", error(0));
    assert!(error(1).contains("--jq-timeout"), "{}", error(1));
    assert!(
        error(2).contains("limit must be an integer"),
        "{}",
        error(2)
    );
    assert!(
        error(3).contains("limit must be from 1 to 1000"),
        "{}",
        error(3)
    );
    assert!(error(4).contains("from is required"), "{}", error(4));
    assert!(error(5).contains("no argument \"colour\""), "{}", error(5));
    assert!(error(6).contains("no cursor"), "{}", error(6));
    // A stream id that looks like an option is a stream id.
    assert!(error(7).contains("--help"), "{}", error(7));
    assert!(!error(7).contains("Usage"), "{}", error(7));
    // After all that, the server still answers.
    assert_eq!(answered(&results[8])["result"]["events"], 18);
}

#[test]
fn a_store_that_cannot_be_opened_is_one_line_before_serving() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["mcp", s(&dir.path().join("missing.db"))]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
}

/// The protocol itself, spoken raw over the pipes: the revision asked is answered where it
/// is one of the three, else the newest; a line that is no JSON, a batch and a message
/// over 4 MiB each get a JSON-RPC error; a call past --call-timeout is stopped; and the
/// server answers on after each.
#[test]
fn the_protocol_spoken_raw() {
    use std::io::{BufRead, BufReader, Write};
    let dir = tempfile::tempdir().unwrap();
    let store = demo(dir.path());
    let mut server = common::bin::bin()
        .args([
            "mcp",
            s(&store),
            "--jq-timeout",
            "60",
            "--call-timeout",
            "1",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = server.stdin.take().unwrap();
    let mut output = BufReader::new(server.stdout.take().unwrap());
    let mut ask = |line: &str| -> Value {
        input.write_all(line.as_bytes()).unwrap();
        input.write_all(b"\n").unwrap();
        input.flush().unwrap();
        let mut reply = String::new();
        output.read_line(&mut reply).unwrap();
        serde_json::from_str(&reply).unwrap()
    };
    let init = |v: &str| {
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
               "params": {"protocolVersion": v, "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}})
        .to_string()
    };
    assert_eq!(
        ask(&init("2024-11-05"))["result"]["protocolVersion"],
        "2024-11-05"
    );
    assert_eq!(
        ask(&init("2025-03-26"))["result"]["protocolVersion"],
        "2025-03-26"
    );
    assert_eq!(
        ask(&init("1999-01-01"))["result"]["protocolVersion"],
        "2025-06-18"
    );
    assert_eq!(ask("{not json")["error"]["code"], -32700);
    assert_eq!(ask("[]")["error"]["code"], -32600);
    let huge = format!("{{\"pad\": \"{}\"}}", "x".repeat(5 << 20));
    let refused = ask(&huge);
    assert_eq!(refused["error"]["code"], -32700);
    assert!(refused["error"]["message"]
        .as_str()
        .unwrap()
        .contains("over 4 MiB"));
    let call = |id: i64, name: &str, args: Value| {
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
               "params": {"name": name, "arguments": args}})
        .to_string()
    };
    let started = std::time::Instant::now();
    let stopped = ask(&call(2, "list_events", json!({"where": "until(false; .)"})));
    assert_eq!(stopped["result"]["isError"], true, "{stopped}");
    let text = stopped["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("--call-timeout"), "{text}");
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    assert_eq!(ask(&call(3, "nothing", json!({})))["error"]["code"], -32602);
    let stats = ask(&call(4, "stats", json!({})));
    assert_eq!(stats["id"], 4);
    assert_eq!(stats["result"]["structuredContent"]["result"]["events"], 18);
    drop(input);
    assert!(server.wait().unwrap().success(), "ends with its input");
}

//! The binary end to end, on real SQLite files made by `eventscope demo`.
#![allow(clippy::unwrap_used)]

mod common;

use common::bin::{bin, fails, lines as json_lines, ok, run, s};

use std::path::PathBuf;

use serde_json::{json, Value};

const ACCOUNT_JQ: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/reducers/Account.jq");
const REDUCERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/reducers");

fn demo_store() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo.db");
    ok(&["demo", "--out", path.to_str().unwrap()]);
    (dir, path)
}

#[test]
fn seed_bank_example_end_to_end() {
    let (_d, db) = demo_store();
    let db = s(&db);
    let shown = ok(&["state", db, "Account-acc-1", "--reducer", ACCOUNT_JQ]);
    let (header, body) = shown.split_once('\n').unwrap();
    assert_eq!(
        header,
        format!(
            "Account-acc-1 at version 4 (2024-03-01 09:16:00 UTC) · reducer: {ACCOUNT_JQ} · replayed from the first event"
        ),
        "the answer says what it is"
    );
    let state: Value = serde_json::from_str(body).unwrap();
    assert_eq!(state["balance"], 120);
    assert_eq!(state["owner"], "Alice");

    let at3 = ok(&[
        "state",
        db,
        "Account-acc-1",
        "--at",
        "3",
        "--reducer",
        ACCOUNT_JQ,
        "--json",
    ]);
    assert_eq!(json_lines(&at3)[0]["balance"], 70);

    let all = ok(&[
        "state",
        db,
        "Account-acc-1",
        "--at",
        "1,2,3,4",
        "--reducer",
        ACCOUNT_JQ,
        "--json",
    ]);
    let balances: Vec<Value> = json_lines(&all)
        .iter()
        .map(|s| s["balance"].clone())
        .collect();
    assert_eq!(balances, vec![json!(0), json!(100), json!(70), json!(120)]);

    let reversed = ok(&[
        "state",
        db,
        "Account-acc-1",
        "--at",
        "4,1",
        "--reducer",
        ACCOUNT_JQ,
        "--json",
    ]);
    let balances: Vec<Value> = json_lines(&reversed)
        .iter()
        .map(|s| s["balance"].clone())
        .collect();
    assert_eq!(balances, vec![json!(120), json!(0)], "in the order given");

    // A time between the 2nd and 3rd events, taken from the events themselves.
    let events = json_lines(&ok(&["events", db, "--stream", "Account-acc-1", "--json"]));
    let t2 =
        chrono::DateTime::parse_from_rfc3339(events[1]["timestamp"].as_str().unwrap()).unwrap();
    let t3 =
        chrono::DateTime::parse_from_rfc3339(events[2]["timestamp"].as_str().unwrap()).unwrap();
    let between = (t2 + (t3 - t2) / 2).to_rfc3339();
    let at_time = ok(&[
        "state",
        db,
        "Account-acc-1",
        "--at-time",
        &between,
        "--reducer",
        ACCOUNT_JQ,
        "--json",
    ]);
    assert_eq!(json_lines(&at_time)[0]["balance"], 100);

    let diff = ok(&[
        "diff",
        db,
        "Account-acc-1",
        "--from",
        "2",
        "--to",
        "4",
        "--reducer",
        ACCOUNT_JQ,
        "--json",
    ]);
    let diff: Value = serde_json::from_str(&diff).unwrap();
    assert_eq!(
        diff,
        json!([{"path": "/balance", "op": "changed", "old": 100, "new": 120}])
    );
    let human = ok(&[
        "diff",
        db,
        "Account-acc-1",
        "--from",
        "2",
        "--to",
        "4",
        "--reducer",
        ACCOUNT_JQ,
    ]);
    assert!(human.contains("~ /balance  100 → 120"), "{human}");
}

#[test]
fn seed_order_with_default_merge_reducer() {
    let (_d, db) = demo_store();
    let state = ok(&["state", s(&db), "Order-123", "--json"]);
    let state = &json_lines(&state)[0];
    assert_eq!(state["total"], 127.5);
    assert_eq!(state["code"], "SAVE20");
    assert_eq!(state["customerId"], "cust-456");
    // The bundled folder of reducers computes the same total from items.
    let folded = ok(&[
        "state",
        s(&db),
        "Order-123",
        "--reducer",
        REDUCERS,
        "--json",
    ]);
    let folded = &json_lines(&folded)[0];
    assert_eq!(folded["total"], 127.5);
    assert_eq!(folded["discount"]["code"], "SAVE20");
    assert!(
        folded["items"].get("sku-cable").is_none(),
        "removed item is gone"
    );
}

#[test]
fn bundled_reducers_cover_every_demo_category() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("big.db");
    let out = ok(&["demo", "--out", s(&db), "--events", "600"]);
    assert!(out.contains("wrote 600 events"), "{out}");
    let streams = json_lines(&ok(&["streams", s(&db), "--json"]));
    let mut categories: Vec<&str> = streams
        .iter()
        .map(|s| s["category"].as_str().unwrap())
        .collect();
    categories.dedup();
    assert_eq!(categories, vec!["Account", "Order", "User"]);
    for st in &streams {
        let id = st["stream_id"].as_str().unwrap();
        let state = ok(&["state", s(&db), id, "--reducer", REDUCERS, "--json"]);
        let state = &json_lines(&state)[0];
        assert!(state.is_object(), "{id}: {state}");
    }
}

#[test]
fn streams_table_and_json() {
    let (_d, db) = demo_store();
    let table = ok(&["streams", s(&db)]);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("STREAM"), "{table}");
    assert!(
        lines[1].starts_with("Account-acc-1  Account   4       4"),
        "{table}"
    );
    let json = json_lines(&ok(&["streams", s(&db), "--json"]));
    assert_eq!(json.len(), 5);
    assert_eq!(
        json[0],
        json!({"stream_id": "Account-acc-1", "category": "Account", "events": 4, "first_version": 1, "last_version": 4})
    );
    let orders = json_lines(&ok(&["streams", s(&db), "--category", "Order", "--json"]));
    assert_eq!(orders.len(), 1);
    // The footer's total is counted on SQLite: the sum of the streams' counts.
    let sum: i64 = json.iter().map(|s| s["events"].as_i64().unwrap()).sum();
    assert_eq!(
        table.lines().last().unwrap(),
        format!("5 streams, {sum} events")
    );
}

#[test]
fn events_filters_in_global_order() {
    let (_d, db) = demo_store();
    let all = json_lines(&ok(&["events", s(&db), "--json"]));
    assert_eq!(all.len(), 18);
    let positions: Vec<i64> = all
        .iter()
        .map(|e| e["global_position"].as_i64().unwrap())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]));
    for key in [
        "global_position",
        "stream_id",
        "version",
        "event_id",
        "type",
        "data",
        "metadata",
        "timestamp",
    ] {
        assert!(all[0].get(key).is_some(), "envelope lacks {key}");
    }
    assert!(all[0]["metadata"]["correlationId"].is_string());
    assert!(all[3]["metadata"]["causationId"].is_string());

    let deposits = json_lines(&ok(&[
        "events",
        s(&db),
        "--type",
        "MoneyDeposited",
        "--json",
    ]));
    assert_eq!(deposits.len(), 3);
    let window = json_lines(&ok(&[
        "events",
        s(&db),
        "--from",
        "5",
        "--limit",
        "2",
        "--json",
    ]));
    let positions: Vec<i64> = window
        .iter()
        .map(|e| e["global_position"].as_i64().unwrap())
        .collect();
    assert_eq!(positions, vec![5, 6]);

    let table = ok(&["events", s(&db), "--stream", "Order-123"]);
    assert_eq!(
        table.lines().count(),
        9,
        "header and eight events:\n{table}"
    );
    assert!(table.contains("DiscountApplied"), "{table}");
}

#[test]
fn import_round_trips_and_checks_versions() {
    let (d, db) = demo_store();
    let dump = ok(&["events", s(&db), "--json"]);
    let file = d.path().join("dump.ndjson");
    std::fs::write(&file, &dump).unwrap();
    let copy = d.path().join("copy.db");
    let out = ok(&["import", s(&file), "--out", s(&copy)]);
    assert!(out.contains("imported 18 events in 5 streams"), "{out}");
    assert_eq!(ok(&["events", s(&copy), "--json"]), dump);

    // Versions go in as they are: a gap is kept (and `check` reports it), a version that
    // does not increase is refused, and a failed import leaves no file at all.
    let gap = d.path().join("gap.ndjson");
    std::fs::write(
        &gap,
        "{\"stream_id\":\"A-1\",\"version\":1,\"type\":\"X\",\"data\":{}}\n\n{\"stream_id\":\"A-1\",\"version\":3,\"type\":\"X\",\"data\":{}}\n{\"stream_id\":\"A-1\",\"version\":2,\"type\":\"X\",\"data\":{}}\n",
    )
    .unwrap();
    let target = d.path().join("gap.db");
    let err = fails(&["import", s(&gap), "--out", s(&target)]);
    assert!(
        err.contains("line 4: A-1 version 2 does not follow version 3"),
        "{err}"
    );
    assert!(!target.exists(), "a failed import leaves no file behind");
    let listing: Vec<_> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        !listing
            .iter()
            .any(|n| n.to_string_lossy().contains("eventscope-import")),
        "nor a temporary one: {listing:?}"
    );
    let dup = d.path().join("dup.ndjson");
    std::fs::write(
        &dup,
        "{\"stream_id\":\"A-1\",\"version\":1,\"type\":\"X\",\"data\":{},\"event_id\":\"e1\"}\n{\"stream_id\":\"A-2\",\"version\":1,\"type\":\"X\",\"data\":{},\"event_id\":\"e1\"}\n",
    )
    .unwrap();
    let err = fails(&["import", s(&dup), "--out", s(&target)]);
    assert!(
        err.contains("line 2: event id \"e1\" appears again (first at line 1)"),
        "{err}"
    );

    let junk = d.path().join("junk.ndjson");
    std::fs::write(&junk, "{\"stream_id\": 5}\n").unwrap();
    let err = fails(&["import", s(&junk), "--out", s(&d.path().join("j.db"))]);
    assert!(
        err.contains(r#"line 1: "stream_id" must be a string, found 5"#),
        "{err}"
    );
}

#[test]
fn demo_refuses_to_overwrite() {
    let (_d, db) = demo_store();
    let err = fails(&["demo", "--out", s(&db)]);
    assert!(err.contains("already exists"), "{err}");
}

#[test]
fn read_commands_never_change_the_store() {
    let (_d, db) = demo_store();
    let before = std::fs::read(&db).unwrap();
    let dir = db.parent().unwrap().to_path_buf();
    let listing = || {
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        names
    };
    let files_before = listing();
    ok(&["streams", s(&db)]);
    ok(&["events", s(&db), "--json"]);
    ok(&["state", s(&db), "Order-123", "--reducer", REDUCERS]);
    ok(&["diff", s(&db), "Account-acc-1", "--from", "1"]);
    assert_eq!(std::fs::read(&db).unwrap(), before);
    assert_eq!(listing(), files_before, "no sidecar files");
}

#[test]
fn bad_inputs_get_one_clear_line() {
    let (d, db) = demo_store();
    let err = fails(&["streams", "/no/such/store.db"]);
    assert!(err.contains("/no/such/store.db: no such file"), "{err}");

    let text = d.path().join("notes.txt");
    std::fs::write(
        &text,
        "hello, I am not a database at all, not even close......",
    )
    .unwrap();
    let err = fails(&["events", s(&text)]);
    assert!(err.contains("not a SQLite database"), "{err}");

    let err = fails(&["state", s(&db), "Nope-1"]);
    assert!(err.contains("stream not found: \"Nope-1\""), "{err}");
    let err = fails(&["state", s(&db), "Account-acc-1", "--at", "9"]);
    assert!(err.contains("version 9 does not exist"), "{err}");
    let out = run(&["state", s(&db), "Account-acc-1", "--at-time", "soon"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a malformed time is a usage mistake"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read time"));

    let bad = d.path().join("bad.jq");
    std::fs::write(&bad, "if . then\n  .a +\nelse . end\n").unwrap();
    let err = fails(&["state", s(&db), "Account-acc-1", "--reducer", s(&bad)]);
    assert!(err.contains("bad.jq:3:"), "points at the error: {err}");

    let failing = d.path().join("failing.jq");
    std::fs::write(&failing, ".balance += $event.data.amount").unwrap();
    let err = fails(&["state", s(&db), "Account-acc-1", "--reducer", s(&failing)]);
    assert!(
        err.contains("at Account-acc-1 version 1 (AccountOpened)"),
        "{err}"
    );

    let out = run(&["state"]);
    assert_eq!(out.status.code(), Some(2), "usage errors exit 2");
}

#[test]
fn no_command_without_a_terminal_says_what_to_do() {
    let cache = tempfile::tempdir().unwrap();
    let out = bin()
        .env("XDG_CACHE_HOME", cache.path())
        .stdin(std::process::Stdio::null())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("needs a terminal") && err.contains("eventscope streams"),
        "{err}"
    );
    // The bundled demo was prepared in the cache directory, with its reducers.
    let dir = cache.path().join("eventscope");
    let demo = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "sqlite"))
        .expect("a demo store");
    let streams = ok(&["streams", s(&demo), "--json"]);
    assert!(streams.contains("Account-acc-1"), "{streams}");
    assert!(demo.with_extension("reducers").join("Account.jq").exists());
}

#[test]
fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let script = ok(&["completions", shell]);
        assert!(script.contains("eventscope"), "{shell}");
        assert!(script.contains("streams"), "{shell} completes subcommands");
    }
}

#[test]
fn color_only_on_request_of_a_terminal() {
    let (_d, db) = demo_store();
    let out = ok(&["diff", s(&db), "Account-acc-1", "--from", "1", "--to", "4"]);
    assert!(!out.contains('\x1b'), "piped output has no colour codes");
}

#[test]
fn closed_pipe_is_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("big.db");
    ok(&["demo", "--out", s(&db), "--events", "5000"]);
    let mut child = bin()
        .args(["events", s(&db)])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A reducer that reads ids, metadata and times gets them all: replays select only the
/// columns `$event` names, and these are named. Compared with `events --json`.
#[test]
fn a_reducer_reading_every_envelope_field_sees_them() {
    let (dir, db) = demo_store();
    let reducer = dir.path().join("all.jq");
    std::fs::write(
        &reducer,
        "(. // {seen: []}) | .seen += [[$event.event_id, $event.metadata, $event.timestamp, $event.global_position]]",
    )
    .unwrap();
    let state: serde_json::Value = serde_json::from_str(&ok(&[
        "state",
        s(&db),
        "Account-acc-1",
        "--reducer",
        s(&reducer),
        "--json",
    ]))
    .unwrap();
    let expected: Vec<serde_json::Value> = json_lines(&ok(&[
        "events",
        s(&db),
        "--stream",
        "Account-acc-1",
        "--json",
    ]))
    .iter()
    .map(|e| {
        json!([
            e["event_id"],
            e["metadata"],
            e["timestamp"],
            e["global_position"]
        ])
    })
    .collect();
    assert_eq!(expected.len(), 4);
    assert!(expected[0][0].is_string() && expected[0][2].is_string());
    assert_eq!(state["seen"], json!(expected));
}

/// A reducer nobody passes: `reducers/` beside the store, a `.eventscope.toml` beside it,
/// `EVENTSCOPE_REDUCER`, each winning over the one before and `--reducer` over all, and
/// every header naming where it came from. The states are those of `--reducer` itself.
#[test]
fn a_default_reducer_comes_from_beside_the_store_or_the_environment() {
    let (dir, db) = demo_store();
    let db = s(&db);
    let state = |env: Option<&str>, extra: &[&str]| -> (String, Value) {
        let mut cmd = bin();
        cmd.args(["state", db, "Account-acc-1"]).args(extra);
        cmd.env_remove("EVENTSCOPE_REDUCER");
        if let Some(v) = env {
            cmd.env("EVENTSCOPE_REDUCER", v);
        }
        let out = cmd.output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (header, body) = text.split_once('\n').unwrap();
        (header.to_string(), serde_json::from_str(body).unwrap())
    };
    let flagged = |reducer: &str| state(None, &["--reducer", reducer]).1;
    let (header, merged) = state(None, &[]);
    assert!(header.contains("built-in merge"), "{header}");

    let folder = dir.path().join("reducers");
    std::fs::create_dir(&folder).unwrap();
    std::fs::copy(ACCOUNT_JQ, folder.join("Account.jq")).unwrap();
    let (header, got) = state(None, &[]);
    assert_eq!(got, flagged(ACCOUNT_JQ));
    assert_ne!(got, merged);
    assert!(header.contains("reducers beside the store)"), "{header}");

    let counting = dir.path().join("count.jq");
    std::fs::write(&counting, "(. // {}) | .n = ((.n // 0) + 1)").unwrap();
    std::fs::write(
        dir.path().join(".eventscope.toml"),
        "reducer = \"count.jq\"\n",
    )
    .unwrap();
    let (header, got) = state(None, &[]);
    assert_eq!(got, json!({"n": 4}));
    assert!(header.contains(".eventscope.toml)"), "{header}");

    let (header, got) = state(Some(ACCOUNT_JQ), &[]);
    assert_eq!(got, flagged(ACCOUNT_JQ));
    assert!(header.contains("(from EVENTSCOPE_REDUCER)"), "{header}");
    let (header, got) = state(Some("merge"), &[]);
    assert_eq!(got, merged);
    assert!(
        header.contains("reducer: built-in merge (from EVENTSCOPE_REDUCER)")
            && !header.contains("a guess"),
        "chosen on purpose, no guess: {header}"
    );
    let (header, got) = state(Some(ACCOUNT_JQ), &["--reducer", s(&counting)]);
    assert_eq!(got, json!({"n": 4}));
    assert!(
        !header.contains("(from"),
        "--reducer is no default: {header}"
    );

    // A file that says what it may not is one clear line, not a default passed over.
    std::fs::write(dir.path().join(".eventscope.toml"), "reduce = \"x.jq\"\n").unwrap();
    let err = fails(&["state", db, "Account-acc-1"]);
    assert!(
        err.contains(".eventscope.toml") && err.contains("unknown field"),
        "{err}"
    );
}

/// `--replica` is for a PostgreSQL store and its standby: anything else is one line.
#[test]
fn replica_needs_postgres_urls() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::bin::demo(dir.path());
    for replica in ["postgres://localhost/x", "/tmp/copy.db"] {
        let err = fails(&["stats", s(&store), "--replica", replica]);
        assert!(err.contains("--replica takes the postgres:// URL"), "{err}");
    }
    // Commands that are no heavy scan read the store, replica or not.
    let out = ok(&[
        "streams",
        s(&store),
        "--replica",
        "postgres://localhost/x",
        "--json",
    ]);
    assert_eq!(json_lines(&out).len(), 5);
}

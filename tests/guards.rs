//! One guard on every jq program eventscope runs, not only reducers: `when` predicates
//! (a stream, a category), `events --where` (listing and following), snapshot mappings
//! (`check`, `state --from-snapshots`) and `state --category`. A program that loops or
//! grows without end is stopped at its limit with one line naming the program, the place
//! and the limit, exit 1.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::bin::{demo, run, s};

const REDUCERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/reducers");

/// Runs a command that must be stopped by the guard: exit 1, one line, within a bound.
fn stopped(args: &[&str]) -> String {
    let started = Instant::now();
    let out = run(args);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{args:?} took {:?}",
        started.elapsed()
    );
    err
}

#[test]
fn when_predicates_are_guarded() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let err = stopped(&[
        "when",
        s(&db),
        "Account-acc-1",
        "until(false; .)",
        "--reducer",
        REDUCERS,
        "--jq-timeout",
        "0.3",
    ]);
    assert!(
        err.contains("predicate `until(false; .)` did not finish within 0.3 s at Account-acc-1 version 1 (AccountOpened)")
            && err.contains("--jq-timeout"),
        "{err}"
    );
    let err = stopped(&[
        "when",
        s(&db),
        "--category",
        "Account",
        "if .balance > 100 then until(false; .) else false end",
        "--reducer",
        REDUCERS,
        "--jq-timeout",
        "0.3",
    ]);
    assert!(
        err.contains("did not finish within 0.3 s at Account-acc-1 version 4"),
        "{err}"
    );
    let err = stopped(&[
        "when",
        s(&db),
        "Account-acc-1",
        "[range(1e9)] | length > 0",
        "--reducer",
        REDUCERS,
        "--jq-memory",
        "100",
        "--jq-timeout",
        "60",
    ]);
    assert!(
        err.contains("grew the process past 100 MiB at Account-acc-1 version 1"),
        "{err}"
    );
}

#[test]
fn where_is_guarded_in_a_listing_and_in_follow() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let err = stopped(&[
        "events",
        s(&db),
        "--where",
        "until(false; .)",
        "--jq-timeout",
        "0.3",
    ]);
    assert!(
        err.contains(
            "--where predicate `until(false; .)` did not finish within 0.3 s at global position 1"
        ),
        "{err}"
    );
    let err = stopped(&[
        "events",
        s(&db),
        "--where",
        "[range(1e9)] | length > 0",
        "--jq-memory",
        "100",
        "--jq-timeout",
        "60",
    ]);
    assert!(
        err.contains("grew the process past 100 MiB at global position 1"),
        "{err}"
    );
    let err = stopped(&[
        "events",
        s(&db),
        "--follow",
        "--where",
        "if .global_position == 5 then until(false; .) else true end",
        "--jq-timeout",
        "0.3",
    ]);
    assert!(err.contains("at global position 5"), "{err}");
    // The old name is the same guard.
    let err = stopped(&[
        "events",
        s(&db),
        "--where",
        "until(false; .)",
        "--reducer-timeout",
        "0.3",
    ]);
    assert!(err.contains("did not finish within 0.3 s"), "{err}");
}

#[test]
fn snapshot_mappings_and_category_states_are_guarded() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let mut store = eventscope::store::Store::open_writable(&db).unwrap();
    store
        .save_snapshot("Account-acc-1", 2, &serde_json::json!({"balance": 100}))
        .unwrap();
    drop(store);
    let reducers = dir.path().join("reducers");
    std::fs::create_dir(&reducers).unwrap();
    std::fs::copy(
        format!("{REDUCERS}/Account.jq"),
        reducers.join("Account.jq"),
    )
    .unwrap();
    std::fs::write(reducers.join("Account.snapshot.jq"), "until(false; .)").unwrap();
    let r = s(&reducers);
    for command in [
        vec!["check", s(&db), "--reducer", r],
        vec![
            "state",
            s(&db),
            "Account-acc-1",
            "--reducer",
            r,
            "--from-snapshots",
        ],
    ] {
        let mut args = command.clone();
        args.extend(["--jq-timeout", "0.3"]);
        let err = stopped(&args);
        assert!(
            err.contains("snapshot mapping")
                && err.contains("Account.snapshot.jq")
                && err.contains("did not finish within 0.3 s at Account-acc-1 version 2"),
            "{args:?}: {err}"
        );
    }
    std::fs::write(
        reducers.join("Account.snapshot.jq"),
        "[range(1e9)] | length",
    )
    .unwrap();
    let err = stopped(&[
        "check",
        s(&db),
        "--reducer",
        r,
        "--jq-memory",
        "100",
        "--jq-timeout",
        "60",
    ]);
    assert!(
        err.contains("grew the process past 100 MiB at Account-acc-1 version 2"),
        "{err}"
    );

    let jq = dir.path().join("cat.jq");
    std::fs::write(
        &jq,
        r#"if $event.type == "MoneyDeposited" then [range(1e15)] | length else (. // {}) | .n += 1 end"#,
    )
    .unwrap();
    let err = stopped(&[
        "state",
        s(&db),
        "--category",
        "Account",
        "--reducer",
        s(&jq),
        "--jq-timeout",
        "0.3",
    ]);
    assert!(
        err.contains("reducer") && err.contains("at Account-acc-1 version 2 (MoneyDeposited)"),
        "{err}"
    );
}

/// Runs a reducer over the demo's first account: its exit code and stderr.
fn reduce(
    db: &std::path::Path,
    dir: &std::path::Path,
    program: &str,
    extra: &[&str],
) -> (Option<i32>, String) {
    let jq = dir.join("r.jq");
    std::fs::write(&jq, program).unwrap();
    let mut args = vec![
        "state",
        s(db),
        "Account-acc-1",
        "--reducer",
        s(&jq),
        "--json",
    ];
    args.extend_from_slice(extra);
    let out = run(&args);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn no_program_aborts_the_process() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let limits = ["--jq-memory", "400", "--jq-timeout", "20"];
    for program in [
        // A count from a payload: the demo's first deposit is 100.
        r#"(. // {}) | .label = ("ab" * ($event.data.amount // 1) * 46116860184273879)"#,
        r#"(. // {}) | .label = ("ab" * 4611686018427387904)"#,
        "def f: 1 + f; (. // {}) | .r = f",
        r#"(. // {}) | .r = ("[" * 100000 | fromjson)"#,
        "(. // {}) | .r = (reduce range(100000) as $i (0; [.]) | tojson | length)",
        "(. // {}) | .r = (reduce range(100000) as $i (0; {a: .}) | length)",
    ] {
        let (code, err) = reduce(&db, dir.path(), program, &limits);
        assert!(
            matches!(code, Some(0 | 1)),
            "{program}: exit {code:?}: {err}"
        );
        assert!(
            err.lines().count() <= 1 && !err.contains("panicked"),
            "{program}: {err}"
        );
        if code == Some(1) {
            assert!(err.contains("Account-acc-1 version"), "{program}: {err}");
        }
    }
    let (code, err) = reduce(&db, dir.path(), "def f: 1 + f; f", &limits);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("grew the process past 400 MiB at Account-acc-1 version 1"),
        "{err}"
    );
    let (code, err) = reduce(&db, dir.path(), r#""ab" * 4611686018427387904"#, &limits);
    assert_eq!(code, Some(1));
    assert!(err.contains("would be larger than 1 GiB"), "{err}");
}

#[test]
fn no_program_sees_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let jq = dir.path().join("leak.jq");
    std::fs::write(
        &jq,
        "{leak: env.MY_SECRET, also: $ENV.MY_SECRET, n: (env | length), m: ($ENV | length)}",
    )
    .unwrap();
    let out = common::bin::bin()
        .args([
            "state",
            s(&db),
            "Account-acc-1",
            "--reducer",
            s(&jq),
            "--json",
        ])
        .env("MY_SECRET", "hunter2")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        r#"{"leak":null,"also":null,"n":0,"m":0}"#
    );
    for args in [
        vec![
            "events",
            s(&db),
            "--where",
            "env.MY_SECRET == \"hunter2\" or $ENV.MY_SECRET == \"hunter2\"",
        ],
        vec![
            "when",
            s(&db),
            "Account-acc-1",
            "env.MY_SECRET == \"hunter2\" or $ENV.MY_SECRET == \"hunter2\"",
        ],
    ] {
        let out = common::bin::bin()
            .args(&args)
            .env("MY_SECRET", "hunter2")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            !text.contains("hunter2") && !text.contains("AccountOpened"),
            "{args:?}: {text}"
        );
    }
}

#[test]
fn user_files_are_read_with_a_bound_and_special_files_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let fifo = dir.path().join("fifo.jq");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let big = dir.path().join("big.jq");
    std::fs::write(&big, " ".repeat(2 << 20)).unwrap();
    for (file, says) in [
        ("/dev/zero", "not a regular file"),
        (s(&fifo), "not a regular file"),
        (s(&big), "larger than 1 MiB, the most a jq program may be"),
    ] {
        for flag in ["--reducer", "--snapshot-map"] {
            let mut args = vec!["state", s(&db), "Account-acc-1", flag, file];
            if flag == "--snapshot-map" {
                args.push("--from-snapshots");
            }
            let err = stopped(&args);
            assert!(err.contains(file) && err.contains(says), "{args:?}: {err}");
        }
        let err = stopped(&["events", s(&db), "--map", file]);
        assert!(
            err.contains(file) && err.contains("not a regular file") || err.contains("larger than"),
            "{err}"
        );
    }
    // Import: a device, an endless line, a store given as input.
    let err = stopped(&["import", "/dev/zero", "--out", s(&dir.path().join("a.db"))]);
    assert!(err.contains("not a file of envelopes"), "{err}");
    let out = common::bin::bin()
        .args(["import", "-", "--out", s(&dir.path().join("b.db"))])
        .stdin(std::fs::File::open("/dev/zero").unwrap())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(err.contains("line 1 is longer than 64 MiB"), "{err}");
    let err = stopped(&["import", s(&db), "--out", s(&dir.path().join("c.db"))]);
    assert!(
        err.contains("is an event store")
            && err.contains("events")
            && err.contains("| eventscope import - --out copy.db"),
        "{err}"
    );
    assert!(!dir.path().join("a.db").exists() && !dir.path().join("b.db").exists());
}

#[test]
fn import_names_the_line_and_the_field_and_takes_a_bom() {
    let dir = tempfile::tempdir().unwrap();
    let good = r#"{"stream_id":"A-1","version":1,"type":"T","data":{}}"#;
    let cases = [
        (
            r#"{"stream_id":"A-1","version":"7","type":"T","data":{}}"#,
            r#"line 2: "version" must be an integer, found "7""#,
        ),
        (
            r#"{"stream_id":5,"version":2,"type":"T","data":{}}"#,
            r#"line 2: "stream_id" must be a string, found 5"#,
        ),
        (
            r#"{"stream_id":"A-1","version":2,"data":{}}"#,
            r#"line 2: "type" is missing"#,
        ),
        (
            r#"{"stream_id":"A-1","version":2,"type":"T"}"#,
            r#"line 2: "data" is missing"#,
        ),
        (
            r#"{"stream_id":"A-1","version":2,"type":"T","data":{},"global_position":"x"}"#,
            r#"line 2: "global_position" must be an integer or null, found "x""#,
        ),
    ];
    for (i, (line, says)) in cases.iter().enumerate() {
        let file = dir.path().join(format!("in{i}.ndjson"));
        std::fs::write(&file, format!("\u{feff}{good}\n{line}\n")).unwrap();
        let err = stopped(&[
            "import",
            s(&file),
            "--out",
            s(&dir.path().join(format!("o{i}.db"))),
        ]);
        assert!(err.contains(says), "{line}: {err}");
    }
    let file = dir.path().join("bom.ndjson");
    std::fs::write(&file, format!("\u{feff}{good}\r\n")).unwrap();
    let out = run(&["import", s(&file), "--out", s(&dir.path().join("bom.db"))]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn stats_buckets_are_capped() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("span.ndjson");
    let lines: Vec<String> = ["1970-01-01", "2100-01-01", "1199-01-01", "9999-01-01"]
        .iter()
        .enumerate()
        .map(|(i, d)| format!(r#"{{"stream_id":"A-1","version":{},"type":"T","data":{{}},"timestamp":"{d}T00:00:00Z"}}"#, i + 1))
        .collect();
    std::fs::write(&file, lines.join("\n")).unwrap();
    let db = dir.path().join("span.db");
    assert!(run(&["import", s(&file), "--out", s(&db)]).status.success());
    let started = Instant::now();
    let err = stopped(&["stats", s(&db), "--bucket", "1s"]);
    assert!(
        err.contains("--bucket 1s makes") && err.contains("the most is 10000"),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    let out = run(&["stats", s(&db), "--json"]);
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let n = stats["buckets"].as_array().unwrap().len();
    assert!(n <= 60, "the default gives at most 60 buckets: {n}");
    let total: u64 = stats["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["events"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 4);
}

#[test]
fn errors_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    for command in ["whatif", "state"] {
        let err = stopped(&[
            command,
            s(&db),
            "Account-acc-1",
            "--skip",
            "40",
            "--reducer",
            REDUCERS,
        ]);
        assert!(
            err.contains("Account-acc-1 has versions 1 to 4; --skip 40 does not exist"),
            "{command}: {err}"
        );
    }
    let err = stopped(&[
        "when",
        s(&db),
        "Account-acc-1",
        ".balance",
        "--strict",
        "--reducer",
        REDUCERS,
    ]);
    assert!(
        err.contains("predicate `.balance` failed at Account-acc-1 version 1 (AccountOpened): it gave a number (0), not true or false"),
        "{err}"
    );
    let err = stopped(&[
        "when",
        s(&db),
        "Account-acc-1",
        "empty",
        "--strict",
        "--reducer",
        REDUCERS,
    ]);
    assert!(
        err.contains("(AccountOpened): the predicate gave no output"),
        "{err}"
    );
    let out = run(&[
        "state",
        s(&db),
        "Account-acc-1",
        "--reducer-timeout",
        "1e300",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("at most 1000000 seconds"));
    let err = stopped(&["streams", s(&db), "--format", "eventsourcing"]);
    assert!(err.contains("this is not an eventsourcing store"), "{err}");

    // Listed by streams, but no row has an integer version: state says which rows.
    let bad = dir.path().join("bad.db");
    let c = rusqlite::Connection::open(&bad).unwrap();
    c.execute_batch(
        "CREATE TABLE log(seq INTEGER PRIMARY KEY, agg TEXT, n, kind TEXT, body TEXT);
         INSERT INTO log VALUES (1, 'Bad-1', 'x', 'T', '{}'), (2, 'Bad-1', 2.5, 'T', '{}'), (3, 'Ok-1', 1, 'T', '{}');",
    )
    .unwrap();
    drop(c);
    let map = "table=log,stream=agg,version=n,type=kind,data=body,position=seq";
    let err = stopped(&["state", s(&bad), "Bad-1", "--map", map]);
    assert!(
        err.contains(r#"Bad-1 has no row whose version is an integer (row 1 has version "x", row 2 has version "2.5")"#),
        "{err}"
    );
    let listed = run(&[
        "events",
        s(&bad),
        "--stream",
        "Bad-1",
        "--map",
        map,
        "--json",
    ]);
    assert_eq!(
        String::from_utf8_lossy(&listed.stdout).lines().count(),
        2,
        "its rows are still listed"
    );
}

/// Where each line's TYPE column starts, in terminal columns.
fn type_column(line: &str, ty: &str) -> usize {
    let at = line.find(ty).unwrap();
    eventscope::columns(&line[..at])
}

#[test]
fn tables_stay_in_line_and_invisible_characters_show() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ids.ndjson");
    let ids = [
        "Account-acc-1",
        "Account\u{200b}-acc-1",
        "Order-0123456789abcdef0123456789abcdef",
        "Käse-日本語の長いストリーム名前-1",
        "Esc-\u{1b}[31m-1",
    ];
    let lines: Vec<String> = ids
        .iter()
        .map(|id| {
            serde_json::json!({"stream_id": id, "version": 1, "type": "Happened", "data": {}})
                .to_string()
        })
        .collect();
    std::fs::write(&file, lines.join("\n")).unwrap();
    let db = dir.path().join("ids.db");
    assert!(run(&["import", s(&file), "--out", s(&db)]).status.success());
    let out = run(&["events", s(&db)]);
    let table = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<&str> = table.lines().skip(1).collect();
    assert_eq!(rows.len(), ids.len(), "{table}");
    let starts: Vec<usize> = rows.iter().map(|l| type_column(l, "Happened")).collect();
    assert!(
        starts.iter().all(|c| *c == starts[0]),
        "TYPE starts at {starts:?}:\n{table}"
    );
    assert!(table.contains("Account\\u{200b}-acc-1"), "{table}");
    assert!(
        !table.contains('\u{200b}') && !table.contains('\u{1b}'),
        "{table}"
    );
    assert!(table.contains('…'), "long ids are cut: {table}");
    // --json keeps every id whole.
    let json = run(&["events", s(&db), "--json"]);
    let text = String::from_utf8(json.stdout).unwrap();
    assert!(text.contains("Order-0123456789abcdef0123456789abcdef"));
}

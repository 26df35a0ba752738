//! Fast paths change speed, never answers: every reducer × store × command here runs with
//! and without them (`EVENTSCOPE_NO_FAST_PATHS=1`), and stdout, stderr and the exit code
//! must be identical.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use common::bin::{bin, demo, s};

const REDUCERS: &[(&str, &str)] = &[
    ("account", include_str!("../assets/reducers/Account.jq")),
    (
        "mirrored_no_else",
        r#"if "MoneyDeposited" == $event.type then .n = ((.n // 0) + 1) elif "AccountOpened" == $event.type then {n: 0, owner: $event.data.ownerName} end"#,
    ),
    (
        "repeated_and_escaped",
        r#"if $event.type == "Money\u0044eposited" then .d = ((.d // 0) + 1) elif $event.type == "MoneyDeposited" then .never = true elif $event.type == "Tÿpe ✓" then .u = $event.data else (. // {}) | .seen = ((.seen // 0) + 1) end"#,
    ),
    (
        "branch_errors",
        r#"if $event.type == "MoneyWithdrawn" then .balance -= $event.data.amount elif $event.type == "MoneyDeposited" then .balance += $event.data.amount else . end"#,
    ),
    (
        "branch_empty",
        r#"if $event.type == "MoneyWithdrawn" then empty else (. // {}) | .k = ((.k // 0) + 1) end"#,
    ),
    (
        "nested_ifs",
        r#"if $event.type == "MoneyDeposited" then (if (.b // 0) > 100 then .big = true else .b = ((.b // 0) + $event.data.amount) end) elif $event.type == "Weird" then .w = ($event.data | tojson) else (. // {}) end"#,
    ),
    (
        "native_nested",
        r#"if $event.type == "AccountOpened" then {a: {b: 0}, c: 1} elif $event.type == "MoneyDeposited" then .a.b += $event.data.amount elif $event.type == "MoneyWithdrawn" then .a.b /= $event.data.amount elif $event.type == "Weird" then .a.b -= $event.data.amount else .c *= $event.version end"#,
    ),
    ("native_whole", ".n += $event.version"),
    (
        "native_on_missing_and_zero",
        r#"if $event.type == "AccountOpened" then {z: 0, b: 1e308} elif $event.type == "MoneyDeposited" then .b *= $event.data.amount else .missing += $event.version end"#,
    ),
    (
        "not_a_chain",
        r#"(. // {}) | .types += [$event.type] | .last = $event.version"#,
    ),
    (
        "loc_stays_whole",
        r#"if $event.type == "AccountOpened" then {at: $__loc__} else . end"#,
    ),
];

/// Events with awkward payloads and types, written through `import`.
fn odd_store(dir: &Path) -> PathBuf {
    let lines = [
        r#"{"stream_id":"Odd-1","version":1,"type":"AccountOpened","data":{"ownerName":"Zoë","a":{"b":{"c":{"d":[1,[2,[3]]]}}}}}"#,
        r#"{"stream_id":"Odd-1","version":2,"type":"MoneyDeposited","data":{"amount":123456789012345678901234567890,"amount":5}}"#,
        r#"{"stream_id":"Odd-1","version":3,"type":"Tÿpe ✓","data":{"k\"ey":"v\u0000al","e":1e400}}"#,
        r#"{"stream_id":"Odd-1","version":4,"type":"MoneyWithdrawn","data":{"amount":"12"}}"#,
        r#"{"stream_id":"Odd-1","version":5,"type":"Weird","data":[1,2,3]}"#,
        r#"{"stream_id":"Odd-1","version":6,"type":"MoneyDeposited","data":{"amount":1.5e2}}"#,
        r#"{"stream_id":"Odd-1","version":7,"type":"","data":null}"#,
    ];
    let file = dir.join("odd.ndjson");
    std::fs::write(&file, lines.join("\n")).unwrap();
    let db = dir.join("odd.db");
    let out = bin()
        .args(["import", s(&file), "--out", s(&db)])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    db
}

fn run(args: &[&str], fast: bool) -> (String, String, Option<i32>) {
    let mut c = bin();
    c.args(args);
    if !fast {
        c.env("EVENTSCOPE_NO_FAST_PATHS", "1");
    }
    let out = c.output().unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

#[test]
fn fast_paths_answer_exactly_as_the_whole_program() {
    let dir = tempfile::tempdir().unwrap();
    let demo = demo(dir.path());
    let odd = odd_store(dir.path());
    let stores: [(&Path, &[&str]); 2] = [
        (&demo, &["Account-acc-1", "Account-acc-2", "Order-123"]),
        (&odd, &["Odd-1"]),
    ];
    let mut cases = 0;
    for (name, code) in REDUCERS {
        let jq = dir.path().join(format!("{name}.jq"));
        std::fs::write(&jq, code).unwrap();
        for (store, streams) in &stores {
            for stream in *streams {
                for command in [
                    vec![
                        "state",
                        s(store),
                        stream,
                        "--at",
                        "1,2,3,4,5,6,7",
                        "--json",
                        "--envelope",
                    ],
                    vec!["state", s(store), stream, "--json"],
                    vec!["blame", s(store), stream, "--json"],
                    vec!["when", s(store), stream, ". != null", "--all", "--json"],
                ] {
                    let mut args = command.clone();
                    args.extend(["--reducer", s(&jq)]);
                    let fast = run(&args, true);
                    let plain = run(&args, false);
                    assert_eq!(fast, plain, "{name} on {stream}: {args:?}");
                    cases += 1;
                }
            }
        }
    }
    assert_eq!(cases, REDUCERS.len() * 4 * 4);
}

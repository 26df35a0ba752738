//! Money stays exact: a store written by the real Python `eventsourcing` library with
//! `Decimal` amounts chosen to drift as binary floats; every version's balance must equal
//! the library's own `repository.get(id, version=v).balance`, as text.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::bin::{bin, lines, ok, s};
use serde_json::Value;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// The reducer a user would write for the library's BankAccount: the balance starts as
/// the aggregate's `Decimal("0.00")`.
const REDUCER: &str = r#"
if $event.type == "Opened" then {full_name: $event.data.full_name, balance: 0.00}
elif $event.type == "Deposited" then .balance += $event.data.amount
elif $event.type == "Withdrawn" then .balance -= $event.data.amount
elif $event.type == "FeesCharged" then .balance -= $event.data.fee * $event.data.count
else . end
"#;

/// The store the library writes, and the balances it computes for every version.
fn library_store(dir: &Path) -> (PathBuf, Vec<(String, Vec<String>)>) {
    let db = dir.join("money.sqlite");
    let out = Command::new(common::python::with_eventsourcing())
        .arg(format!("{FIXTURES}/eventsourcing_money.py"))
        .arg(&db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    let accounts = answer["accounts"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(id, balances)| {
            let balances = balances.as_array().unwrap();
            (
                id.clone(),
                balances
                    .iter()
                    .map(|b| b.as_str().unwrap().into())
                    .collect(),
            )
        })
        .collect();
    (db, accounts)
}

/// A JSON number's text as Python's `str(Decimal)` would compare: the exponent letter's
/// case is the only freedom JSON leaves.
fn text(v: &Value) -> String {
    v.to_string().to_ascii_uppercase()
}

#[test]
fn every_balance_is_the_librarys_to_the_digit() {
    let dir = tempfile::tempdir().unwrap();
    let (db, accounts) = library_store(dir.path());
    let reducer = dir.path().join("BankAccount.jq");
    std::fs::write(&reducer, REDUCER).unwrap();
    assert_eq!(accounts.len(), 2);
    for off in ["", "1"] {
        for (id, expected) in &accounts {
            let at: Vec<String> = (1..=expected.len()).map(|v| v.to_string()).collect();
            let out = bin()
                .args(["state", s(&db), id, "--reducer", s(&reducer), "--json"])
                .args(["--at", &at.join(",")])
                .env("EVENTSCOPE_NO_FAST_PATHS", off)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let states = lines(&String::from_utf8(out.stdout).unwrap());
            let got: Vec<String> = states.iter().map(|st| text(&st["balance"])).collect();
            let want: Vec<String> = expected.iter().map(|b| b.to_ascii_uppercase()).collect();
            assert_eq!(got, want, "{id} with fast paths off = {off:?}");
        }
    }
    // The drift a float sum shows at 715.35 and 52.06 is not there.
    let alice = &accounts.iter().find(|(_, b)| b.len() > 10).unwrap().0;
    let last = ok(&["state", s(&db), alice, "--reducer", s(&reducer), "--json"]);
    assert_eq!(last.trim(), r#"{"full_name":"Alice","balance":52.06}"#);

    // diff, blame and when show and test the same exact values.
    let diff = ok(&[
        "diff",
        s(&db),
        alice,
        "--from",
        "3",
        "--to",
        "5",
        "--reducer",
        s(&reducer),
        "--json",
    ]);
    assert!(diff.contains("0.30") && diff.contains("715.35"), "{diff}");
    let blame = ok(&["blame", s(&db), alice, "--reducer", s(&reducer), "--json"]);
    assert!(blame.contains("52.06"), "{blame}");
    let when = ok(&[
        "when",
        s(&db),
        alice,
        ".balance == 715.35",
        "--reducer",
        s(&reducer),
        "--json",
    ]);
    assert!(when.contains("\"version\":5"), "{when}");

    // The built-in merge keeps a payload's decimal as stored.
    let merged = ok(&["state", s(&db), alice, "--at", "3", "--json"]);
    assert!(merged.contains(r#""amount":0.20"#), "{merged}");
}

#[test]
fn what_is_not_exact_becomes_a_float_as_in_jq() {
    let dir = tempfile::tempdir().unwrap();
    let (db, accounts) = library_store(dir.path());
    let alice = &accounts.iter().find(|(_, b)| b.len() > 10).unwrap().0;
    let reducer = dir.path().join("r.jq");
    std::fs::write(
        &reducer,
        r#"if $event.type == "Opened" then {third: 0, sum: 0.00} else .sum += ($event.data.amount // 0) | .third = (.sum / 3) | .floor = (.sum | floor) end"#,
    )
    .unwrap();
    let st = ok(&[
        "state",
        s(&db),
        alice,
        "--at",
        "3",
        "--reducer",
        s(&reducer),
        "--json",
    ]);
    let v: Value = serde_json::from_str(&st).unwrap();
    assert_eq!(v["sum"].to_string(), "0.30");
    assert_eq!(
        v["third"].as_f64().unwrap(),
        0.30_f64 / 3.0,
        "division is a float"
    );
    assert_eq!(v["floor"], 0);
}

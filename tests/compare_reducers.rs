//! `compare-reducers`: the first divergence of two reducers, checked against real jq
//! folding each stream's events with both, version by version.
#![allow(clippy::unwrap_used)]

mod common;

use common::bin::{bin, lines, ok, s};

use std::path::Path;

use serde_json::Value;

const ACCOUNT_JQ: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/reducers/Account.jq");

/// Real jq's state after each prefix of `events` (None where the program fails).
fn jq_states(events: &[Value], program: &Path) -> Vec<Option<Value>> {
    (1..=events.len())
        .map(|n| common::jq_fold(&events[..n], program))
        .collect()
}

#[test]
fn the_first_divergence_and_the_failures_are_where_real_jq_finds_them() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::bin::demo(dir.path());
    let account = std::fs::read_to_string(ACCOUNT_JQ).unwrap();
    // B: withdrawals count twice, and a withdrawal over 50 is an error.
    let b = dir.path().join("b.jq");
    std::fs::write(
        &b,
        format!(
            "if $event.type == \"MoneyWithdrawn\" and $event.data.amount > 50 then error(\"too much\") else . end | {}",
            account
                .lines()
                .filter(|l| !l.starts_with('#'))
                .collect::<Vec<_>>()
                .join("\n")
                .replace(".balance -= $event.data.amount", ".balance -= $event.data.amount * 2")
        ),
    )
    .unwrap();
    let out = bin()
        .args([
            "compare-reducers",
            s(&db),
            "--reducer",
            ACCOUNT_JQ,
            "--against",
            s(&b),
            "--category",
            "Account",
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let got = lines(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(got.len(), 2);
    for c in &got {
        let stream = c["stream"].as_str().unwrap();
        let events = lines(&ok(&["events", s(&db), "--stream", stream, "--json"]));
        let (sa, sb) = (
            jq_states(&events, Path::new(ACCOUNT_JQ)),
            jq_states(&events, &b),
        );
        // Real jq's answer: the first version where B fails, else where the states differ.
        let first = (0..events.len())
            .find(|&i| sb[i].is_none() || sa[i] != sb[i])
            .unwrap();
        let version = events[first]["version"].as_i64().unwrap();
        assert_eq!(c["version"], version, "{c}");
        if sb[first].is_none() {
            assert_eq!(c["result"], "fails", "{c}");
            assert_eq!(c["side"], "b");
            assert!(c["message"].as_str().unwrap().contains("too much"));
        } else {
            assert_eq!(c["result"], "differ", "{c}");
            assert_eq!(c["event_type"], events[first]["type"]);
            let path = c["changes"][0]["path"]
                .as_str()
                .unwrap()
                .trim_start_matches('/');
            assert_eq!(c["changes"][0]["old"], sa[first].as_ref().unwrap()[path]);
            assert_eq!(c["changes"][0]["new"], sb[first].as_ref().unwrap()[path]);
        }
    }
    // The failing stream is listed first, as the table shows it.
    assert_eq!(got[0]["result"], "fails");
    assert_eq!(got[1]["result"], "differ");
    let table = String::from_utf8_lossy(
        &bin()
            .args([
                "compare-reducers",
                s(&db),
                "--reducer",
                ACCOUNT_JQ,
                "--against",
                s(&b),
                "--category",
                "Account",
            ])
            .output()
            .unwrap()
            .stdout,
    )
    .to_string();
    assert!(
        table.contains("2 streams compared: 0 equal, 1 differing, 1 failing"),
        "{table}"
    );
    assert!(
        table.contains("Account-acc-2: B fails at v3 (MoneyWithdrawn)"),
        "{table}"
    );
    // A reducer against itself: all equal, exit 0; before any withdrawal, equal too.
    let same = ok(&[
        "compare-reducers",
        s(&db),
        "--reducer",
        ACCOUNT_JQ,
        "--against",
        ACCOUNT_JQ,
    ]);
    assert!(same.contains("5 streams compared: 5 equal"), "{same}");
    let early = ok(&[
        "compare-reducers",
        s(&db),
        "--reducer",
        ACCOUNT_JQ,
        "--against",
        s(&b),
        "--category",
        "Account",
        "--at-time",
        "2024-03-01T09:08",
    ]);
    assert!(early.contains("2 streams compared: 2 equal"), "{early}");
}

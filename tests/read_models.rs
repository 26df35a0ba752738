//! `check --read-model`: a read model table beside the events, checked against replay.
//! Its rows are written from real jq's fold of each stream's events, then drifted by hand.
#![allow(clippy::unwrap_used)]

mod common;

use common::bin::{bin, fails, lines, ok, s};

use rusqlite::{params, Connection};
use serde_json::{json, Value};

const ACCOUNT_JQ: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/reducers/Account.jq");

/// Real jq's state of `stream` after all its events.
fn jq_state(db: &std::path::Path, stream: &str) -> Value {
    let events = lines(&ok(&["events", s(db), "--stream", stream, "--json"]));
    common::jq_fold(&events, std::path::Path::new(ACCOUNT_JQ)).unwrap()
}

const SPEC: &str =
    "table=account_view,id=account_id,doc=doc,version=version,stream=\"Account-\" + .id";

#[test]
fn a_drifted_field_an_orphan_and_a_missing_row_are_found_and_blamed() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::bin::demo(dir.path());
    let c = Connection::open(&db).unwrap();
    c.execute_batch(
        "CREATE TABLE account_view (account_id TEXT PRIMARY KEY, doc TEXT NOT NULL, version INTEGER, updated TEXT)",
    )
    .unwrap();
    for (id, version) in [("acc-1", 4), ("acc-2", 3)] {
        let mut doc = jq_state(&db, &format!("Account-{id}"));
        doc["lastUpdated"] = json!("2024-03-02");
        c.execute(
            "INSERT INTO account_view VALUES (?1, ?2, ?3, 'x')",
            params![id, doc.to_string(), version],
        )
        .unwrap();
    }
    drop(c);
    // Untouched (the application's own field left out): nothing to report.
    let out = ok(&[
        "check",
        s(&db),
        "--read-model",
        SPEC,
        "--reducer",
        ACCOUNT_JQ,
        "--ignore",
        "/lastUpdated",
    ]);
    assert!(
        out.contains("account_view: the read model matches the replay"),
        "{out}"
    );
    // Without --ignore, the application's own field is a difference.
    let err = fails(&[
        "check",
        s(&db),
        "--read-model",
        SPEC,
        "--reducer",
        ACCOUNT_JQ,
    ]);
    assert!(err.contains("the read model account_view differs"), "{err}");
    // One field drifted, a row for a stream that does not exist, a stream without a row.
    let c = Connection::open(&db).unwrap();
    c.execute_batch(
        "UPDATE account_view SET doc = json_set(doc, '$.balance', 999) WHERE account_id = 'acc-2';
         INSERT INTO account_view VALUES ('acc-9', '{}', 1, 'x');",
    )
    .unwrap();
    drop(c);
    let out = bin()
        .args([
            "check",
            s(&db),
            "--read-model",
            SPEC,
            "--reducer",
            ACCOUNT_JQ,
            "--ignore",
            "/lastUpdated",
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let found = lines(&String::from_utf8_lossy(&out.stdout));
    let differs: Vec<&Value> = found.iter().filter(|f| f["finding"] == "differs").collect();
    assert_eq!(differs.len(), 1, "{found:?}");
    let d = differs[0];
    assert_eq!(d["stream"], "Account-acc-2");
    assert_eq!(d["path"], "/balance");
    assert_eq!(d["stored"], 999);
    assert_eq!(d["replayed"], jq_state(&db, "Account-acc-2")["balance"]);
    // Blamed on the event that last changed the balance: acc-2's withdrawal at v3.
    let events = lines(&ok(&[
        "events",
        s(&db),
        "--stream",
        "Account-acc-2",
        "--json",
    ]));
    let last_change = events
        .iter()
        .rev()
        .find(|e| e["type"] != "AccountOpened")
        .unwrap();
    assert_eq!(d["blamed"]["version"], last_change["version"]);
    assert_eq!(
        d["blamed"]["global_position"],
        last_change["global_position"]
    );
    assert!(found
        .iter()
        .any(|f| f["finding"] == "orphan" && f["id"] == "acc-9"));
    // acc-1's row exists; deleting it makes its stream missing.
    let c = Connection::open(&db).unwrap();
    c.execute("DELETE FROM account_view WHERE account_id = 'acc-1'", [])
        .unwrap();
    drop(c);
    let out = bin()
        .args([
            "check",
            s(&db),
            "--read-model",
            SPEC,
            "--reducer",
            ACCOUNT_JQ,
            "--ignore",
            "/lastUpdated",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Account-acc-1: missing (no row stands for it)"),
        "{text}"
    );
    assert!(
        text.contains(
            "/balance  stored 999, replayed 175; last changed by v3 MoneyWithdrawn (#17)"
        ),
        "{text}"
    );
    assert!(
        text.contains("1 differing fields, 1 orphan rows, 1 missing rows, 0 failed"),
        "{text}"
    );
}

#[test]
fn plain_columns_a_projection_and_bad_specs() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::bin::demo(dir.path());
    let c = Connection::open(&db).unwrap();
    c.execute_batch(
        "CREATE TABLE balances (stream TEXT, owner TEXT, balance INTEGER);
         INSERT INTO balances VALUES ('Account-acc-1', 'Alice', 120), ('Account-acc-2', 'Bob', 170);",
    )
    .unwrap();
    drop(c);
    let spec = "table=balances,id=stream,columns=owner,balance";
    let project = "{owner, balance}";
    let out = bin()
        .args([
            "check",
            s(&db),
            "--read-model",
            spec,
            "--project",
            project,
            "--reducer",
            ACCOUNT_JQ,
            "--json",
        ])
        .output()
        .unwrap();
    let found = lines(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["stream"], "Account-acc-2");
    assert_eq!(found[0]["path"], "/balance");
    assert_eq!(found[0]["stored"], 170);
    assert_eq!(found[0]["replayed"], 175);
    // Specs that cannot be read are one line each.
    for (bad, says) in [
        ("table=balances,id=stream", "doc= is missing"),
        (
            "table=balances,id=nope,doc=owner",
            "table balances has no column \"nope\"",
        ),
        ("table=ghost,id=a,doc=b", "no table \"ghost\""),
        (
            "table=balances,id=stream,doc=owner,colour=x",
            "unknown key \"colour\"",
        ),
    ] {
        let err = fails(&["check", s(&db), "--read-model", bad]);
        assert!(err.contains(says), "{bad}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
}

//! Python eventsourcing through `eventsourcing-sqlalchemy` on SQLite, written by the real
//! libraries (tests/fixtures/make_sqlalchemy_store.py): `bank_events` with BINARY(16)
//! originator ids is found without --format, its streams are canonical UUIDs (in lists,
//! envelopes and as arguments), and every version's balance equals the library's own
//! `repository.get(id, version=v)`, to the digit; its snapshots are read.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;

use common::bin::{lines, ok, s};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

const REDUCER: &str = r#"
if $event.type == "Opened" then {owner: $event.data.owner, balance: 0.00}
elif $event.type == "Deposited" then .balance += $event.data.amount
elif $event.type == "Withdrawn" then .balance -= $event.data.amount
else . end
"#;

#[test]
fn a_sqlalchemy_store_on_sqlite_reads_as_the_library_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bank.sqlite");
    check(s(&db), dir.path());
}

/// The same on PostgreSQL, where the library makes `originator_id` a UUID column.
#[test]
fn a_sqlalchemy_store_on_postgresql_reads_as_the_library_reads_it() {
    let Some(pg) = common::pg::Cluster::available() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let url = pg.database("sqla", "SELECT 1;");
    check(&url, dir.path());
}

/// Writes the store at `db` (a file or a URL) with the libraries, and checks eventscope's
/// reading of it against theirs.
fn check(db: &str, dir: &std::path::Path) {
    let out = Command::new(common::python::with_eventsourcing())
        .arg(format!("{FIXTURES}/make_sqlalchemy_store.py"))
        .arg(db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let library = lines(&String::from_utf8(out.stdout).unwrap());
    let (versions, counts): (Vec<_>, Vec<_>) =
        library.iter().partition(|l| l.get("version").is_some());
    let reducer = dir.join("account.jq");
    std::fs::write(&reducer, REDUCER).unwrap();

    let streams = lines(&ok(&["streams", db, "--json"]));
    let ids: Vec<&str> = streams
        .iter()
        .map(|s| s["stream_id"].as_str().unwrap())
        .collect();
    let mut want: Vec<&str> = versions.iter().map(|v| v["id"].as_str().unwrap()).collect();
    want.dedup();
    let mut sorted = want.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "canonical UUIDs, as the library prints them");
    assert!(
        streams.iter().all(|s| s["category"] == "Account"),
        "{streams:?}"
    );

    for v in &versions {
        let id = v["id"].as_str().unwrap();
        let at = v["version"].to_string();
        let text = ok(&[
            "state",
            db,
            id,
            "--reducer",
            s(&reducer),
            "--at",
            &at,
            "--json",
        ]);
        let balance = format!("\"balance\":{}", v["balance"].as_str().unwrap());
        assert!(
            text.contains(&balance),
            "{id} v{at}: {text} (library: {balance})"
        );
        assert!(
            text.contains(&format!("\"owner\":{}", v["owner"])),
            "{text}"
        );
    }
    let events = lines(&ok(&["events", db, "--json"]));
    assert_eq!(events.len(), versions.len());
    let positions: Vec<i64> = events
        .iter()
        .map(|e| e["global_position"].as_i64().unwrap())
        .collect();
    assert_eq!(positions, (1..=versions.len() as i64).collect::<Vec<_>>());
    assert!(events
        .iter()
        .all(|e| want.contains(&e["stream_id"].as_str().unwrap())));
    assert!(events
        .iter()
        .all(|e| e["timestamp"].as_str().is_some_and(|t| t.ends_with('Z'))));

    let snapshots = lines(&ok(&["snapshots", db, "--json"]));
    assert_eq!(
        snapshots.len() as u64,
        counts[0]["snapshots"].as_u64().unwrap()
    );
    assert!(
        snapshots
            .iter()
            .all(|s| want.contains(&s["stream_id"].as_str().unwrap())),
        "{snapshots:?}"
    );
    let formats = ok(&["formats"]);
    assert!(formats.contains("eventsourcing-sqlalchemy"), "{formats}");
}

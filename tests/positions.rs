//! Positions as stored: 0 and negative positions are listed in stored order, `--from`
//! takes them, and a `--map` position column that is not an integer in every row is
//! refused in one line instead of some reads leaving its rows out.
#![allow(clippy::unwrap_used)]

mod common;

use common::bin::{fails, lines, ok, s};

fn positions(out: &str) -> Vec<i64> {
    lines(out)
        .iter()
        .map(|e| e["global_position"].as_i64().unwrap())
        .collect()
}

/// The positions as SQLite holds them, in order: the answer shares no code with ours.
fn stored(db: &std::path::Path, sql: &str) -> Vec<i64> {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut st = c.prepare(sql).unwrap();
    st.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn zero_and_negative_positions_are_listed() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.ndjson");
    std::fs::write(
        &input,
        [
            r#"{"global_position":-1,"stream_id":"A-1","version":1,"type":"T","data":{"n":1}}"#,
            r#"{"global_position":0,"stream_id":"A-1","version":2,"type":"T","data":{"n":2}}"#,
            r#"{"global_position":5,"stream_id":"B-1","version":1,"type":"T","data":{"n":3}}"#,
        ]
        .join("\n"),
    )
    .unwrap();
    let db = dir.path().join("p.db");
    ok(&["import", s(&input), "--out", s(&db)]);
    let all = stored(&db, "SELECT global_position FROM events ORDER BY 1");
    assert_eq!(all, vec![-1, 0, 5]);
    assert_eq!(positions(&ok(&["events", s(&db), "--json"])), all);
    assert_eq!(
        positions(&ok(&["events", s(&db), "--json", "--from", "-1"])),
        all
    );
    assert_eq!(
        positions(&ok(&["events", s(&db), "--json", "--from=-1"])),
        all
    );
    assert_eq!(
        positions(&ok(&["events", s(&db), "--json", "--from", "0"])),
        vec![0, 5]
    );
    let table = ok(&["streams", s(&db)]);
    assert!(table.contains("2 streams, 3 events"), "{table}");

    // A --map table whose positions start at 0.
    let m = dir.path().join("m.db");
    let c = rusqlite::Connection::open(&m).unwrap();
    c.execute_batch(
        "CREATE TABLE log(seq INTEGER, agg TEXT, n INTEGER, kind TEXT, body TEXT);
         INSERT INTO log VALUES (1, 'A-1', 2, 'T', '{}'), (0, 'A-1', 1, 'T', '{}'), (-4, 'B-1', 1, 'T', '{}');",
    )
    .unwrap();
    drop(c);
    let map = "table=log,stream=agg,version=n,type=kind,data=body,position=seq";
    let listed = positions(&ok(&["events", s(&m), "--map", map, "--json"]));
    assert_eq!(listed, stored(&m, "SELECT seq FROM log ORDER BY seq"));
    let table = ok(&["streams", s(&m), "--map", map]);
    assert!(table.contains("2 streams, 3 events"), "{table}");
}

#[test]
fn a_map_position_that_is_not_an_integer_is_refused_naming_the_row() {
    let dir = tempfile::tempdir().unwrap();
    let map = "table=log,stream=agg,version=n,type=kind,data=body,position=seq";
    for (i, (bad, shown)) in [
        ("NULL", "holds NULL"),
        ("2.5", "holds 2.5, a real"),
        ("3.0", "holds 3.0, a real"),
        ("'x'", "holds 'x', a text"),
    ]
    .into_iter()
    .enumerate()
    {
        let m = dir.path().join(format!("m{i}.db"));
        let c = rusqlite::Connection::open(&m).unwrap();
        c.execute_batch(&format!(
            "CREATE TABLE log(seq, agg TEXT, n INTEGER, kind TEXT, body TEXT);
             INSERT INTO log VALUES (1, 'A-1', 1, 'T', '{{}}'), (2, 'A-1', 2, 'T', '{{}}'), ({bad}, 'A-1', 3, 'T', '{{}}');"
        ))
        .unwrap();
        drop(c);
        for command in [
            vec!["events", s(&m)],
            vec!["streams", s(&m)],
            vec!["state", s(&m), "A-1", "--reducer", "/dev/null"],
            vec!["check", s(&m)],
        ] {
            let mut args = command.clone();
            args.extend(["--map", map]);
            let err = fails(&args);
            assert!(
                err.contains("log.seq") && err.contains("rowid 3") && err.contains(shown),
                "{args:?}: {err}"
            );
        }
    }
}

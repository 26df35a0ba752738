//! The `--map` parser on arbitrary text, against a table it may or may not name: an error
//! or a mapping whose queries SQLite accepts, never a panic or injected SQL.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let conn = rusqlite::Connection::open_in_memory().expect("memory db");
    conn.execute_batch(
        "CREATE TABLE log (seq INTEGER PRIMARY KEY, agg TEXT, n INTEGER, kind TEXT, body TEXT, at TEXT);
         INSERT INTO log VALUES (1, 'a-1', 1, 'K', '{}', '2024-01-01T00:00:00Z');",
    )
    .expect("schema");
    if let Ok(m) = eventscope::store::parse_map_text(&conn, text) {
        let sql = format!("SELECT {} FROM {}", m.select_list(), m.table);
        conn.prepare(&sql)
            .expect("a parsed mapping makes valid SQL");
        let count: i64 = conn
            .query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| r.get(0))
            .expect("still there");
        assert_eq!(count, 1, "the mapping changed the schema");
    }
});

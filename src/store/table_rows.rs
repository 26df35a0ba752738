//! An application's own table read row by row (a read model beside the events), its
//! columns checked against the table and quoted, each value as JSON: SQLite's as stored
//! (integers, reals, text; a blob as lossy text), PostgreSQL's through `to_jsonb`, so a
//! number stays a number and a jsonb column an object.

use std::ops::ControlFlow;

use rusqlite::types::ValueRef;
use serde_json::Value;

use super::layout::{columns, q};
use super::{Result, Store, StoreError};

/// The most rows a table read hands out: a read model of more is refused, not read whole.
pub const TABLE_ROWS_LIMIT: usize = 10_000_000;

pub type TableRowFn<'f> = dyn FnMut(Vec<Value>) -> Result<ControlFlow<()>> + 'f;

/// The error for a column `table` does not have.
pub(crate) fn no_column(table: &str, column: &str, have: &[String]) -> StoreError {
    StoreError::BadReadModel(format!(
        "table {table} has no column {column:?} (columns: {})",
        have.join(", ")
    ))
}

impl Store {
    pub(crate) fn table_rows(
        &self,
        table: &str,
        wanted: &[String],
        f: &mut TableRowFn<'_>,
    ) -> Result<()> {
        let have = columns(&self.conn, table)?;
        if have.is_empty() {
            return Err(StoreError::BadReadModel(format!(
                "no table {table:?} in this store"
            )));
        }
        for c in wanted {
            if !have.iter().any(|h| h == c) {
                return Err(no_column(table, c, &have));
            }
        }
        let list: Vec<String> = wanted.iter().map(|c| q(c)).collect();
        let sql = format!("SELECT {} FROM {}", list.join(", "), q(table));
        let mut stmt = self.conn.prepare(&sql)?;
        let mut rows = stmt.query([])?;
        let mut n = 0;
        while let Some(row) = rows.next()? {
            n += 1;
            if n > TABLE_ROWS_LIMIT {
                return Err(StoreError::BadReadModel(format!(
                    "table {table} holds more than {TABLE_ROWS_LIMIT} rows, the most read"
                )));
            }
            let values = (0..wanted.len())
                .map(|i| {
                    Ok(match row.get_ref(i)? {
                        ValueRef::Null => Value::Null,
                        ValueRef::Integer(n) => Value::from(n),
                        ValueRef::Real(r) => {
                            serde_json::Number::from_f64(r).map_or(Value::Null, Value::Number)
                        }
                        ValueRef::Text(t) | ValueRef::Blob(t) => {
                            Value::String(String::from_utf8_lossy(t).into_owned())
                        }
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            if f(values)?.is_break() {
                break;
            }
        }
        Ok(())
    }
}

//! An application's own table (a read model) row by row, on MySQL/MariaDB: the server
//! writes each row as a JSON array, so numbers (DECIMAL exactly) stay numbers and JSON
//! columns stay JSON.

use super::layouts::{q, tables};
use super::MyStore;
use crate::store::table_rows::{no_column, TableRowFn, TABLE_ROWS_LIMIT};
use crate::store::{Result, StoreError};

impl MyStore {
    pub(super) fn my_table_rows(
        &self,
        table: &str,
        wanted: &[String],
        f: &mut TableRowFn<'_>,
    ) -> Result<()> {
        let found = tables(&mut self.conn.borrow_mut())?;
        let Some(t) = found.iter().find(|t| t.name == table) else {
            return Err(StoreError::BadReadModel(format!(
                "no table {table:?} in this database"
            )));
        };
        let have: Vec<String> = t.columns.keys().cloned().collect();
        for c in wanted {
            if !t.columns.contains_key(c) {
                return Err(no_column(table, c, &have));
            }
        }
        // A JSON column goes in as JSON (MariaDB's JSON is text to JSON_ARRAY otherwise).
        let list: Vec<String> = wanted
            .iter()
            .map(|c| match t.columns.get(c).map(|(ty, _)| ty.as_str()) {
                Some("json") => format!("JSON_EXTRACT({}, '$')", q(c)),
                _ => q(c),
            })
            .collect();
        let sql = format!(
            "SELECT JSON_ARRAY({}) FROM {} LIMIT {TABLE_ROWS_LIMIT}",
            list.join(", "),
            q(&t.name)
        );
        for row in self.query(&sql, Vec::new())? {
            let text = row.text(0).unwrap_or_else(|| "[]".into());
            let values: Vec<serde_json::Value> = serde_json::from_str(&text)
                .map_err(|e| StoreError::BadReadModel(format!("a row of {table}: {e}")))?;
            if f(values)?.is_break() {
                break;
            }
        }
        Ok(())
    }
}

//! `--consumers 'table=T,name=C,position=C[,updated=C][,status=C][,follows=C]'`: a table of
//! positions that no library layout names, like `--map` for events. Columns are checked
//! against the table and quoted, so a spec names columns but never injects SQL.

use std::collections::BTreeMap;

use crate::store::{Result, StoreError};

const KEYS: [&str; 7] = [
    "table", "name", "position", "updated", "status", "follows", "kind",
];

/// The pairs of a `--consumers` spec, before they are checked against a table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConsumerSpec {
    pairs: BTreeMap<String, String>,
}

impl ConsumerSpec {
    pub fn parse(text: &str) -> Result<ConsumerSpec> {
        let bad = |m: String| StoreError::BadConsumers(m);
        let mut pairs = BTreeMap::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| bad(format!("{part:?} is not key=column")))?;
            let (k, v) = (k.trim(), v.trim());
            if !KEYS.contains(&k) {
                return Err(bad(format!(
                    "unknown key {k:?} (keys: {})",
                    KEYS.join(", ")
                )));
            }
            if v.is_empty() {
                return Err(bad(format!("{k} has no column")));
            }
            if pairs.insert(k.to_string(), v.to_string()).is_some() {
                return Err(bad(format!("{k} is given twice")));
            }
        }
        for needed in ["table", "name", "position"] {
            if !pairs.contains_key(needed) {
                return Err(bad(format!(
                    "{needed}= is missing; the spec is 'table=T,name=C,position=C[,updated=C][,status=C][,follows=C][,kind=C]'"
                )));
            }
        }
        Ok(ConsumerSpec { pairs })
    }

    /// The value of `key` (`table`, `name`, `position`, …), where given.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs.get(key).map(String::as_str)
    }

    /// The column keys given, with their columns (every key but `table`).
    pub fn columns(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs
            .iter()
            .filter(|(k, _)| k.as_str() != "table")
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spec_needs_its_three_keys_and_knows_no_others() {
        let s = ConsumerSpec::parse("table=offsets, name=who, position=upto, updated=at").unwrap();
        assert_eq!(s.get("table"), Some("offsets"));
        assert_eq!(s.get("updated"), Some("at"));
        let e = ConsumerSpec::parse("table=t,name=n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("position= is missing"), "{e}");
        let e = ConsumerSpec::parse("table=t,name=n,position=p,colour=c")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown key \"colour\""), "{e}");
        let e = ConsumerSpec::parse("table=t,name=n,position=p,name=m")
            .unwrap_err()
            .to_string();
        assert!(e.contains("name is given twice"), "{e}");
    }
}

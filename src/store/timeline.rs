//! Queries a timeline view needs: how events spread over time, the event at one key, and
//! each stream's last activity. Shared by the TUI's worker and anything else that charts.

use std::collections::HashMap;

use rusqlite::params_from_iter;

use super::decode::text;
use super::{Result, Store};

/// A stream's most recent event: its global position and stored time.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Activity {
    pub last_position: i64,
    pub last_time: Option<String>,
}

impl Store {
    /// The ids of the streams filed under `category`, by id. Where the category is the
    /// id's prefix, one range of the stream index; otherwise from the stream list.
    pub fn streams_of_category(&self, category: &str) -> Result<Vec<String>> {
        let m = &self.mapping;
        use super::layout::CategoryRule;
        let by_prefix = matches!(
            m.category,
            CategoryRule::Prefix | CategoryRule::ColumnOrPrefix(_)
        );
        if by_prefix && m.filter.is_none() {
            // category_of: the text before the first '-', or the whole id.
            let sql = format!(
                "SELECT DISTINCT {s} FROM {t} WHERE {s} >= ?1 AND {s} < ?2 ORDER BY 1",
                s = m.stream,
                t = m.table
            );
            let mut stmt = self.conn.prepare_cached(&sql)?;
            // From the bare name through "<category>-…"; the check below drops ids such
            // as "Order+x" that sort inside the range with another prefix.
            let hi = format!("{category}.");
            let mut rows = stmt.query(rusqlite::params![category, hi])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                if let Some(id) = text(row, 0)? {
                    if crate::category_of(&id) == category {
                        out.push(id);
                    }
                }
            }
            // An import's store names some streams' categories (`stream_categories`).
            let named = self.named_categories(None)?;
            if !named.is_empty() {
                out.retain(|id| named.get(id).is_none_or(|c| c == category));
                for (id, c) in &named {
                    if c == category && self.last_version(id)?.is_some() {
                        out.push(id.clone());
                    }
                }
                out.sort();
                out.dedup();
            }
            return Ok(out);
        }
        Ok(self
            .streams()?
            .into_iter()
            .filter(|s| s.category == category)
            .map(|s| s.stream_id)
            .collect())
    }

    /// Each stream's last event by global position, with its time where the layout keeps
    /// times in a column (one grouped scan; payload-borne times are not read for this).
    pub fn activity(&self) -> Result<HashMap<String, Activity>> {
        let m = &self.mapping;
        // SQLite takes the bare column from the row that holds the MAX.
        let sql = format!(
            "SELECT {}, MAX({}), {} FROM {}{} GROUP BY 1",
            m.stream,
            m.position,
            m.time.as_deref().unwrap_or("NULL"),
            m.table,
            m.where_clause(""),
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params_from_iter(std::iter::empty::<i64>()))?;
        let mut out = HashMap::new();
        while let Some(row) = rows.next()? {
            let stream = text(row, 0)?.unwrap_or_default();
            let last_time = match m.time {
                Some(_) => super::decode::time_of(row, 2, m)?,
                None => None,
            };
            out.insert(
                stream,
                Activity {
                    last_position: row.get::<_, Option<i64>>(1)?.unwrap_or(0),
                    last_time,
                },
            );
        }
        Ok(out)
    }
}

/// Counts of `times` in `buckets` equal spans from the earliest to the latest.
pub fn bucket_counts(times: &[i64], buckets: usize) -> Vec<u64> {
    let mut counts = vec![0u64; buckets.max(1)];
    let (Some(min), Some(max)) = (times.iter().min(), times.iter().max()) else {
        return counts;
    };
    let span = (max - min).max(1) as f64;
    let last = counts.len() - 1;
    for t in times {
        let i = (((t - min) as f64 / span) * last as f64).round() as usize;
        counts[i.min(last)] += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_spread_events_over_time() {
        assert_eq!(bucket_counts(&[0, 0, 10, 100], 3), vec![3, 0, 1]);
        assert_eq!(bucket_counts(&[], 4), vec![0, 0, 0, 0]);
        assert_eq!(bucket_counts(&[5, 5], 2), vec![2, 0]);
    }
}

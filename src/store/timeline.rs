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
    /// times in a column (payload-borne times are not read for this). The grouping reads
    /// the stream index alone (it holds the row ids); only each stream's last row is then
    /// read for its time: a bare time column in the grouping would read every row.
    pub fn activity(&self) -> Result<HashMap<String, Activity>> {
        let m = &self.mapping;
        let sql = match &m.time {
            // The time by a lookup of the last row (of the same stream, where a --map
            // table repeats positions); the layout's names resolve in the inner query.
            Some(time) => format!(
                "SELECT g.s, g.p, (SELECT {time} FROM {t}{wp} LIMIT 1) FROM (SELECT {s} AS s, MAX({p}) AS p FROM {t}{w} GROUP BY 1) AS g",
                s = m.stream,
                p = m.position,
                t = m.table,
                w = m.where_clause(""),
                wp = m.where_clause(&format!("{} = g.p AND {} = g.s", m.position, m.stream)),
            ),
            None => format!(
                "SELECT {}, MAX({}), NULL FROM {}{} GROUP BY 1",
                m.stream,
                m.position,
                m.table,
                m.where_clause(""),
            ),
        };
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

/// How busy the history is along its keys, on the timeline slider's own axis: `buckets`
/// equal spans of keys from the first to the last, each with its events per hour (the
/// events in it over the time from the event before it to its last). A burst of events
/// in a minute stands tall; a quiet week lies flat. `events` are (key, time in ms) in key
/// order; events without a time are left out by the caller.
pub fn key_activity(events: &[(i64, i64)], buckets: usize) -> Vec<u64> {
    let mut out = vec![0u64; buckets.max(1)];
    let (Some(&(first, _)), Some(&(last, _))) = (events.first(), events.last()) else {
        return out;
    };
    let span = (last - first).max(1) as f64;
    let top = out.len() - 1;
    let bucket_of = |k: i64| ((((k - first) as f64 / span) * top as f64).round() as usize).min(top);
    let mut counts = vec![0u64; out.len()];
    let mut from = vec![None::<i64>; out.len()];
    let mut to = vec![i64::MIN; out.len()];
    let mut before = events[0].1;
    for &(key, time) in events {
        let b = bucket_of(key);
        counts[b] += 1;
        from[b].get_or_insert(before);
        to[b] = to[b].max(time);
        before = time;
    }
    const HOUR_MS: f64 = 3_600_000.0;
    for b in 0..out.len() {
        if let Some(start) = from[b] {
            // At least a second, so that events stamped alike do not divide by zero.
            let millis = (to[b] - start).max(1000) as f64;
            out[b] = (counts[b] as f64 * HOUR_MS / millis).round().max(1.0) as u64;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A burst stands taller than the same number of events spread out, on the axis of
    /// keys; an empty history is all zero.
    #[test]
    fn key_activity_shows_bursts_where_the_keys_are() {
        let hour = 3_600_000;
        // Keys 1..=4 an hour apart, then 5..=8 within four seconds.
        let mut events: Vec<(i64, i64)> = (1..=4).map(|k| (k, k * hour)).collect();
        events.extend((5..=8).map(|k| (k, 4 * hour + (k - 4) * 1000)));
        let a = key_activity(&events, 2);
        assert_eq!(a.len(), 2);
        assert!(a[1] > 100 * a[0], "{a:?}");
        assert_eq!(key_activity(&[], 3), vec![0, 0, 0]);
    }

    /// The demo's Account-acc-1 (09:01, 09:04, 09:09, 09:16), one bucket per version:
    /// the first event alone counts as one in a second; then one in 3, 5 and 7 minutes
    /// is 20, 12 and 9 an hour. Through the store's read and through the time index.
    #[test]
    fn a_streams_activity_is_on_its_versions() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.db");
        crate::demo::write_demo(&p, 0, 0).unwrap();
        let store = crate::store::Store::open(&p).unwrap();
        let want = vec![3600, 20, 12, 9];
        use crate::store::EventSource;
        assert_eq!(store.density(Some("Account-acc-1"), 4).unwrap(), want);
        let mut index = crate::store::TimeIndex::new(Some("Account-acc-1"));
        index.extend(&store, usize::MAX).unwrap();
        assert_eq!(index.density(4), Some(want));
    }

    #[test]
    fn buckets_spread_events_over_time() {
        assert_eq!(bucket_counts(&[0, 0, 10, 100], 3), vec![3, 0, 1]);
        assert_eq!(bucket_counts(&[], 4), vec![0, 0, 0, 0]);
        assert_eq!(bucket_counts(&[5, 5], 2), vec![2, 0]);
    }

    /// Each stream's last event by position and its time, as a plain fold of the rows
    /// finds them, on the demo store and on a `--map` table whose positions repeat
    /// across streams.
    #[test]
    fn activity_is_each_streams_last_row() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.db");
        crate::demo::write_demo(&p, 200, 50).unwrap();
        let c = rusqlite::Connection::open(&p).unwrap();
        c.execute_batch(
            "CREATE TABLE m (s TEXT, v INTEGER, pos INTEGER, t TEXT, ty TEXT, d TEXT);
             INSERT INTO m VALUES ('A-1', 1, 1, '2024-01-01T00:00:01Z', 'T', '{}'),
                                  ('B-1', 1, 1, '2024-01-01T00:00:02Z', 'T', '{}'),
                                  ('A-1', 2, 3, '2024-01-01T00:00:03Z', 'T', '{}'),
                                  ('B-1', 2, 2, '2024-01-01T00:00:04Z', 'T', '{}');",
        )
        .unwrap();
        let expected = |sql: &str| -> HashMap<String, Activity> {
            let mut out: HashMap<String, Activity> = HashMap::new();
            let mut st = c.prepare(sql).unwrap();
            let mut rows = st.query([]).unwrap();
            while let Some(r) = rows.next().unwrap() {
                let (s, p, t): (String, i64, Option<String>) =
                    (r.get(0).unwrap(), r.get(1).unwrap(), r.get(2).unwrap());
                if out.get(&s).is_none_or(|a| p >= a.last_position) {
                    out.insert(
                        s,
                        Activity {
                            last_position: p,
                            last_time: t,
                        },
                    );
                }
            }
            out
        };
        let demo = Store::open(&p).unwrap();
        let mut want = expected("SELECT stream_id, global_position, timestamp FROM events");
        let got = demo.activity().unwrap();
        for (s, a) in &mut want {
            a.last_time = a.last_time.as_deref().map(crate::time::normalise);
            assert_eq!(got.get(s), Some(&*a), "{s}");
        }
        assert_eq!(got.len(), want.len());
        let map = Store::open_with(
            &p,
            &crate::store::OpenOptions {
                map: Some("table=m,stream=s,version=v,position=pos,time=t,type=ty,data=d".into()),
                ..Default::default()
            },
        )
        .unwrap();
        let got = map.activity().unwrap();
        assert_eq!(got["A-1"].last_position, 3);
        assert_eq!(
            got["B-1"].last_time.as_deref(),
            Some("2024-01-01T00:00:04Z")
        );
    }
}

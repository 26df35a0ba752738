//! What a store (or a stream, or a category) holds: events per type and per category,
//! stream lengths, the first and last time, and events per time bucket. One pass.

use std::collections::{BTreeMap, HashMap};
use std::ops::ControlFlow;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::{EventSource, LogFilter, Result, SourceExt, StoreError};

/// Bucket sizes `stats` chooses from, smallest first.
const SIZES: [(i64, &str); 10] = [
    (1, "1s"),
    (60, "1m"),
    (300, "5m"),
    (900, "15m"),
    (3600, "1h"),
    (6 * 3600, "6h"),
    (86_400, "1d"),
    (7 * 86_400, "7d"),
    (30 * 86_400, "30d"),
    (365 * 86_400, "365d"),
];
/// At most this many buckets when the size is chosen from the span.
const MAX_BUCKETS: i64 = 60;
/// At most this many buckets when `--bucket` names the size.
const MOST_BUCKETS: i64 = 10_000;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Bucket {
    pub start: String,
    pub events: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Lengths {
    pub p50: i64,
    pub p90: i64,
    pub p99: i64,
    pub max: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Stats {
    pub events: u64,
    pub streams: usize,
    pub types: BTreeMap<String, u64>,
    pub categories: BTreeMap<String, u64>,
    pub stream_length: Lengths,
    pub first_time: Option<String>,
    pub last_time: Option<String>,
    /// Events without a readable time (left out of the buckets).
    pub untimed: u64,
    /// The bucket size, as `--bucket` writes it.
    pub bucket: Option<String>,
    pub buckets: Vec<Bucket>,
}

/// `1h`, `15m`, `30s`, `2d`, `1w` as seconds.
pub fn parse_bucket(s: &str) -> std::result::Result<i64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: i64 = n
        .parse()
        .map_err(|_| format!("{s:?}: a bucket is a number and a unit, as 15m or 1h"))?;
    let unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(format!("{s:?}: the unit is s, m, h, d or w")),
    };
    if n <= 0 {
        return Err(format!("{s:?}: a bucket is longer than nothing"));
    }
    Ok(n * unit)
}

fn label(seconds: i64) -> String {
    SIZES
        .iter()
        .find(|(s, _)| *s == seconds)
        .map(|(_, l)| l.to_string())
        .unwrap_or_else(|| match seconds {
            s if s % 86_400 == 0 => format!("{}d", s / 86_400),
            s if s % 3600 == 0 => format!("{}h", s / 3600),
            s if s % 60 == 0 => format!("{}m", s / 60),
            s => format!("{s}s"),
        })
}

fn percentile(sorted: &[i64], q: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Counts over the events `filter` selects; `bucket` in seconds, or chosen so that
/// the span fits in at most 60 buckets.
pub(super) fn stats<S: EventSource + ?Sized>(
    store: &S,
    filter: &LogFilter,
    bucket: Option<i64>,
) -> Result<Stats> {
    // Where the category is the id's prefix, no stream list is needed to know it.
    let named: HashMap<String, String> = if store.category_is_prefix() {
        HashMap::new()
    } else {
        store
            .streams()?
            .into_iter()
            .map(|s| (s.stream_id, s.category))
            .collect()
    };
    let mut types: BTreeMap<String, u64> = BTreeMap::new();
    let mut categories: BTreeMap<String, u64> = BTreeMap::new();
    let mut lengths: HashMap<String, i64> = HashMap::new();
    let mut times: Vec<DateTime<Utc>> = Vec::new();
    let mut events = 0;
    let mut untimed = 0;
    store.read_log_rows(filter, |row| {
        events += 1;
        *types.entry(row.event_type().to_string()).or_default() += 1;
        let stream = row.stream_id();
        match lengths.get_mut(stream) {
            Some(n) => *n += 1,
            None => {
                lengths.insert(stream.to_string(), 1);
            }
        }
        let category = named
            .get(stream)
            .map_or_else(|| crate::category_of(stream), String::as_str);
        match categories.get_mut(category) {
            Some(n) => *n += 1,
            None => {
                categories.insert(category.to_string(), 1);
            }
        }
        let stamp = match &row {
            super::StreamRow::Raw(r) => r.timestamp.map(str::to_string),
            super::StreamRow::Event(e) => e.timestamp.clone(),
        };
        match stamp.as_deref().and_then(crate::time::parse_stored) {
            Some(t) => times.push(t),
            None => untimed += 1,
        }
        Ok::<_, StoreError>(ControlFlow::Continue(()))
    })?;
    let mut sorted: Vec<i64> = lengths.values().copied().collect();
    sorted.sort_unstable();
    let (first, last) = (times.iter().min().copied(), times.iter().max().copied());
    let span = match (first, last) {
        (Some(a), Some(b)) => (b - a).num_seconds().max(1),
        _ => 1,
    };
    const YEAR: i64 = 365 * 86_400;
    // The size that fits the span in at most MAX_BUCKETS: a listed one, else whole years.
    let fitting = SIZES
        .iter()
        .map(|(s, _)| *s)
        .find(|s| span / s < MAX_BUCKETS)
        .unwrap_or_else(|| (span / (MAX_BUCKETS - 1) / YEAR + 1) * YEAR);
    let size = match bucket {
        Some(size) if span / size + 1 > MOST_BUCKETS => {
            return Err(StoreError::TooManyBuckets {
                bucket: label(size),
                count: span / size + 1,
                most: MOST_BUCKETS,
                suggested: label(fitting),
            })
        }
        Some(size) => size,
        None => fitting,
    };
    let mut buckets = Vec::new();
    if let Some(first) = first {
        let origin = first.timestamp().div_euclid(size) * size;
        let mut counts: BTreeMap<i64, u64> = BTreeMap::new();
        for t in &times {
            *counts
                .entry((t.timestamp() - origin).div_euclid(size))
                .or_default() += 1;
        }
        let n = counts.keys().next_back().copied().unwrap_or(0);
        for i in 0..=n {
            let start = DateTime::<Utc>::UNIX_EPOCH + Duration::seconds(origin + i * size);
            buckets.push(Bucket {
                start: crate::time::format_stored(start),
                events: counts.get(&i).copied().unwrap_or(0),
            });
        }
    }
    Ok(Stats {
        events,
        streams: lengths.len(),
        types,
        categories,
        stream_length: Lengths {
            p50: percentile(&sorted, 0.5),
            p90: percentile(&sorted, 0.9),
            p99: percentile(&sorted, 0.99),
            max: sorted.last().copied().unwrap_or(0),
        },
        first_time: first.map(crate::time::format_stored),
        last_time: last.map(crate::time::format_stored),
        untimed,
        bucket: first.map(|_| label(size)),
        buckets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_sizes_read_as_written() {
        assert_eq!(parse_bucket("1h"), Ok(3600));
        assert_eq!(parse_bucket("15m"), Ok(900));
        assert_eq!(parse_bucket("2d"), Ok(172_800));
        assert!(parse_bucket("h").is_err());
        assert!(parse_bucket("0m").is_err());
        assert!(parse_bucket("5y").is_err());
    }

    #[test]
    fn percentiles_of_lengths() {
        let v: Vec<i64> = (1..=100).collect();
        assert_eq!(percentile(&v, 0.5), 51);
        assert_eq!(percentile(&v, 0.99), 99);
        assert_eq!(percentile(&[], 0.5), 0);
    }
}

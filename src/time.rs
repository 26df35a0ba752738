//! Time parsing shared by `state --at-time` and the TUI's `t` prompt.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// Parses what a user types as a point in time and returns the latest instant it covers.
///
/// A full RFC 3339 time is exact. A prefix without an offset is read as UTC and stands for
/// the whole period it names: `2024-03-01` is the end of that day, `2024-03-01T10:15` the
/// end of that minute, so "at 2024-03-01" includes every event of March 1st.
pub fn parse_time_bound(input: &str) -> Result<DateTime<Utc>, String> {
    let s = input.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    let s = s.strip_suffix('Z').unwrap_or(s).replacen(' ', "T", 1);
    let bad = || {
        format!("cannot read time {input:?}: use RFC 3339 (2024-03-01T10:15:00Z) or a prefix of it (2024-03-01, 2024-03-01T10:15)")
    };
    let one = Duration::nanoseconds(1);
    let (start, len) = match s.len() {
        4 => {
            let y: i32 = s.parse().map_err(|_| bad())?;
            let start = NaiveDate::from_ymd_opt(y, 1, 1).ok_or_else(bad)?;
            let next = NaiveDate::from_ymd_opt(y + 1, 1, 1).ok_or_else(bad)?;
            (start.and_time(Default::default()), next - start)
        }
        7 => {
            let start =
                NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d").map_err(|_| bad())?;
            let next = start
                .checked_add_months(chrono::Months::new(1))
                .ok_or_else(bad)?;
            (start.and_time(Default::default()), next - start)
        }
        10 => {
            let d = NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|_| bad())?;
            (d.and_time(Default::default()), Duration::days(1))
        }
        13 => (naive(&format!("{s}:00:00"))?, Duration::hours(1)),
        16 => (naive(&format!("{s}:00"))?, Duration::minutes(1)),
        19 => (naive(&s)?, Duration::seconds(1)),
        _ => {
            let t = naive(&s).map_err(|_| bad())?;
            return Ok(Utc.from_utc_datetime(&t));
        }
    };
    Ok(Utc.from_utc_datetime(&(start + len - one)))
}

fn naive(s: &str) -> Result<NaiveDateTime, String> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .map_err(|e| format!("cannot read time {s:?}: {e}"))
}

/// Reads a timestamp as stores write them: RFC 3339, or `YYYY-MM-DD HH:MM:SS[.fff]` in UTC.
pub fn parse_stored(ts: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(ts) {
        return Some(t.with_timezone(&Utc));
    }
    let s = ts.strip_suffix('Z').unwrap_or(ts);
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f"))
        .ok()
        .map(|t| Utc.from_utc_datetime(&t))
}

/// Formats an instant the way the native layout stores it.
pub fn format_stored(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> String {
        format_stored(parse_time_bound(s).unwrap())
    }

    #[test]
    fn full_times_are_exact() {
        assert_eq!(at("2024-03-01T10:15:30Z"), "2024-03-01T10:15:30.000Z");
        assert_eq!(at("2024-03-01T12:15:30+02:00"), "2024-03-01T10:15:30.000Z");
        assert_eq!(at("2024-03-01T10:15:30.250"), "2024-03-01T10:15:30.250Z");
    }

    #[test]
    fn prefixes_cover_their_whole_period() {
        assert_eq!(at("2024"), "2024-12-31T23:59:59.999Z");
        assert_eq!(at("2024-02"), "2024-02-29T23:59:59.999Z");
        assert_eq!(at("2024-03-01"), "2024-03-01T23:59:59.999Z");
        assert_eq!(at("2024-03-01 10"), "2024-03-01T10:59:59.999Z");
        assert_eq!(at("2024-03-01T10:15"), "2024-03-01T10:15:59.999Z");
        assert_eq!(at("2024-03-01T10:15:30"), "2024-03-01T10:15:30.999Z");
    }

    #[test]
    fn nonsense_is_an_error_that_shows_the_format() {
        let e = parse_time_bound("yesterday").unwrap_err();
        assert!(e.contains("RFC 3339"), "{e}");
        assert!(parse_time_bound("2024-13-01").is_err());
    }

    #[test]
    fn stored_timestamps_in_both_forms() {
        let a = parse_stored("2024-03-01T10:15:30.000Z").unwrap();
        let b = parse_stored("2024-03-01 10:15:30").unwrap();
        assert_eq!(a, b);
        assert!(parse_stored("not a time").is_none());
    }
}

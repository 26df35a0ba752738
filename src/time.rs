//! Times: what stores write (RFC 3339, `±hhmm` offsets, SQLite's datetime text, Unix epoch
//! numbers), what users type (the same, or a prefix that stands for a whole period), and
//! how both are shown. Instants keep their stored precision, down to nanoseconds: a
//! comparison or a display never cuts a time to milliseconds.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// How a numeric time column counts: by magnitude, or named with `--map time=COL:s|ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EpochUnit {
    #[default]
    Auto,
    Seconds,
    Millis,
}

/// Reads a time as a store writes it, or `None` when it is no time at all. Text without an
/// offset is UTC (SQLite's `datetime()` writes it so).
pub fn parse_stored(ts: &str) -> Option<DateTime<Utc>> {
    let s = ts.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(n) = s.parse::<f64>() {
        return from_epoch(n, EpochUnit::Auto);
    }
    let s = s.replacen(' ', "T", 1);
    for f in ["%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M%#z"] {
        if let Ok(t) = DateTime::parse_from_str(&s, f) {
            return Some(t.with_timezone(&Utc));
        }
    }
    let s = s.strip_suffix('Z').unwrap_or(&s);
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .or_else(|| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .map(|d| d.and_time(Default::default()))
        })
        .map(|t| Utc.from_utc_datetime(&t))
}

/// A Unix time: seconds below 10¹¹ (the year 5138), milliseconds above, unless `unit`
/// says which.
pub fn from_epoch(n: f64, unit: EpochUnit) -> Option<DateTime<Utc>> {
    if !n.is_finite() {
        return None;
    }
    let millis = match unit {
        EpochUnit::Seconds => false,
        EpochUnit::Millis => true,
        EpochUnit::Auto => n.abs() >= 1e11,
    };
    // Whole numbers are counted exactly; a float division would be off by a millisecond.
    if n.fract() == 0.0 && n.abs() < 9e15 {
        let i = n as i64;
        return if millis {
            DateTime::from_timestamp_millis(i)
        } else {
            DateTime::from_timestamp(i, 0)
        };
    }
    let seconds = match unit {
        EpochUnit::Seconds => n,
        EpochUnit::Millis => n / 1000.0,
        EpochUnit::Auto if n.abs() < 1e11 => n,
        EpochUnit::Auto => n / 1000.0,
    };
    let whole = seconds.floor();
    let nanos = ((seconds - whole) * 1e9).round().min(999_999_999.0) as u32;
    if whole.abs() > 1e15 {
        return None;
    }
    DateTime::from_timestamp(whole as i64, nanos)
}

/// A stored time in the envelope's form, RFC 3339 in UTC with as many fraction digits as
/// were stored: `2024-03-01 10:00:00.123456+01:00` → `2024-03-01T09:00:00.123456Z`. Text
/// that is no time is kept as it is, so that it can be shown and reported.
pub fn normalise(ts: &str) -> String {
    if is_plain_utc(ts) {
        return ts.to_string();
    }
    // Epoch numbers kept as text (a TEXT column's affinity turns them into text).
    if let Some(t) = ts
        .trim()
        .parse::<f64>()
        .ok()
        .and_then(|n| normalise_epoch(n, EpochUnit::Auto))
    {
        return t;
    }
    match parse_stored(ts) {
        Some(t) => envelope_text(t, fraction_digits(ts)),
        None => ts.to_string(),
    }
}

/// An epoch number in the envelope's form: milliseconds show three digits, seconds as
/// many as they carry.
pub fn normalise_epoch(n: f64, unit: EpochUnit) -> Option<String> {
    let t = from_epoch(n, unit)?;
    let millis = matches!(unit, EpochUnit::Millis) || (unit == EpochUnit::Auto && n.abs() >= 1e11);
    let digits = if millis {
        3
    } else if n.fract() == 0.0 {
        0
    } else {
        6
    };
    Some(envelope_text(t, digits))
}

/// `YYYY-MM-DDTHH:MM:SS[.f]Z` with `digits` fraction digits (at most 9).
pub fn envelope_text(t: DateTime<Utc>, digits: usize) -> String {
    let mut out = t.format("%Y-%m-%dT%H:%M:%S").to_string();
    push_fraction(&mut out, t.timestamp_subsec_nanos(), digits);
    out.push('Z');
    out
}

fn push_fraction(out: &mut String, nanos: u32, digits: usize) {
    let digits = digits.min(9);
    if digits > 0 {
        let all = format!("{nanos:09}");
        out.push('.');
        out.push_str(&all[..digits]);
    }
}

/// How many digits the seconds of a stored time carry after the point.
fn fraction_digits(ts: &str) -> usize {
    let b = ts.as_bytes();
    // The seconds end at byte 19 in every form this reads (`YYYY-MM-DD?HH:MM:SS`).
    if b.len() > 20 && b[19] == b'.' {
        b[20..].iter().take_while(|c| c.is_ascii_digit()).count()
    } else {
        0
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.f]Z`, checked by shape alone: the common case needs no parse.
pub fn is_plain_utc(t: &str) -> bool {
    let b = t.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    b.len() >= 20
        && b.len() <= 30
        && b[b.len() - 1] == b'Z'
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && (b.len() == 20 || (b[19] == b'.' && b.len() > 21 && digits(20..b.len() - 1)))
}

/// A time as people read it: `YYYY-MM-DD HH:MM:SS` plus the stored fraction, in UTC or in
/// the local zone. Text that is no time is shown as it is.
pub fn display(stored: &str, local: bool) -> String {
    let Some(t) = parse_stored(stored) else {
        return stored.to_string();
    };
    let digits = fraction_digits(stored);
    let mut out = if local {
        t.with_timezone(&chrono::Local)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    } else {
        t.format("%Y-%m-%d %H:%M:%S").to_string()
    };
    push_fraction(&mut out, t.timestamp_subsec_nanos(), digits);
    out
}

/// The name of the local zone's offset now, for saying which zone times are shown in.
pub fn local_zone_name() -> String {
    chrono::Local::now().format("UTC%:z").to_string()
}

/// Parses what a user types as a point in time and returns the latest instant it covers.
///
/// A full time is exact, to the nanosecond: RFC 3339, a `±hhmm` offset, SQLite's
/// `YYYY-MM-DD HH:MM:SS.fff`, or Unix epoch seconds or milliseconds. A prefix stands for
/// the whole period it names: `2024-03-01` is the end of that day, `2024-03-01T10:15` the
/// end of that minute, so "at 2024-03-01" includes every event of March 1st. Times without
/// an offset are in UTC, or in the local zone when `local` is set.
pub fn parse_time_bound_in(input: &str, local: bool) -> Result<DateTime<Utc>, String> {
    period(input, local).map(|(_, end)| end)
}

/// `input` read on the day of `stored` where it is a bare time (`9:05`, `09:05:30`, with
/// an optional fraction): that day's date is put before it, in local time or UTC as
/// `local` says. Anything else comes back as it was.
pub fn on_day_of(input: &str, stored: &str, local: bool) -> String {
    let s = input.trim();
    let mut parts = s.splitn(3, ':');
    let hour = parts.next().unwrap_or_default();
    let minute = parts.next().unwrap_or_default();
    let rest = parts.next();
    let digits = |t: &str, n: std::ops::RangeInclusive<usize>| {
        n.contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit())
    };
    let seconds_ok = rest.is_none_or(|r| {
        let (whole, fraction) = r.split_once('.').unwrap_or((r, "0"));
        digits(whole, 2..=2) && digits(fraction, 1..=9)
    });
    if !(digits(hour, 1..=2) && digits(minute, 2..=2) && seconds_ok) {
        return input.to_string();
    }
    let Some(day) = display(stored, local).get(..10).map(str::to_string) else {
        return input.to_string();
    };
    format!("{day} {}{s}", if hour.len() == 1 { "0" } else { "" })
}

/// The first instant of the period `input` names (UTC): `2024-03-01` is its midnight.
/// `--since` reads times this way, `--until` and `--at-time` the other.
pub fn parse_time_start(input: &str) -> Result<DateTime<Utc>, String> {
    period(input, false).map(|(start, _)| start)
}

/// The first and last instants of the period `input` names. Its precision decides the
/// period, whatever zone suffix it has: `…T09`, `…T09Z` and `…T10+01:00` are all the hour
/// from 09:00 UTC, `…T09:00:30` the whole second; only a fraction or an epoch is exact.
fn period(input: &str, local: bool) -> Result<(DateTime<Utc>, DateTime<Utc>), String> {
    let s = input.trim();
    let bad = || {
        format!("cannot read time {input:?}: use RFC 3339 (2024-03-01T10:15:00Z), a prefix of it (2024-03-01, 2024-03-01T10:15), or Unix seconds or milliseconds")
    };
    if let Ok(n) = s.parse::<f64>() {
        if s.len() > 4 {
            return from_epoch(n, EpochUnit::Auto)
                .ok_or_else(bad)
                .map(|t| (t, t));
        }
    }
    let t = s.replacen(' ', "T", 1).replacen('t', "T", 1);
    let (s, zone) = split_zone(&t).ok_or_else(bad)?;
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
            let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| bad())?;
            (d.and_time(Default::default()), Duration::days(1))
        }
        13 => (
            naive(&format!("{s}:00:00")).ok_or_else(bad)?,
            Duration::hours(1),
        ),
        16 => (
            naive(&format!("{s}:00")).ok_or_else(bad)?,
            Duration::minutes(1),
        ),
        19 => (naive(s).ok_or_else(bad)?, Duration::seconds(1)),
        _ => (naive(s).ok_or_else(bad)?, one),
    };
    let end = start + len - one;
    let in_utc = |t: &NaiveDateTime| match zone {
        Zone::Offset(seconds) => Ok(Utc.from_utc_datetime(&(*t - Duration::seconds(seconds)))),
        Zone::Unnamed if local => chrono::Local
            .from_local_datetime(t)
            .latest()
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(bad),
        Zone::Unnamed => Ok(Utc.from_utc_datetime(t)),
    };
    Ok((in_utc(&start)?, in_utc(&end)?))
}

/// What a typed time says of its zone.
#[derive(Clone, Copy)]
enum Zone {
    /// No suffix: UTC, or the local zone where the user asked for it.
    Unnamed,
    /// `Z` or `±hh[:mm]`, as seconds east of UTC.
    Offset(i64),
}

/// The time without its zone suffix, and the zone. A suffix is looked for only after the
/// `T` (a date's `-01` is no offset).
fn split_zone(t: &str) -> Option<(&str, Zone)> {
    let Some(at) = t.find('T') else {
        return Some((t, Zone::Unnamed));
    };
    let clock = &t[at..];
    if let Some(rest) = t.strip_suffix(['Z', 'z']) {
        return Some((rest, Zone::Offset(0)));
    }
    let Some(sign_at) = clock.rfind(['+', '-']) else {
        return Some((t, Zone::Unnamed));
    };
    let (time, offset) = t.split_at(at + sign_at);
    let sign = if offset.starts_with('-') { -1 } else { 1 };
    let digits: String = offset[1..].chars().filter(|c| *c != ':').collect();
    let well_formed = matches!(offset.len() - 1, 2 | 4 | 5)
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits.len() == 2 || digits.len() == 4)
        && (offset.len() != 6 || offset.as_bytes()[3] == b':');
    if !well_formed {
        return None;
    }
    let hours: i64 = digits[..2].parse().ok()?;
    let minutes: i64 = digits
        .get(2..)
        .filter(|m| !m.is_empty())
        .map_or(Some(0), |m| m.parse().ok())?;
    (hours < 24 && minutes < 60)
        .then_some((time, Zone::Offset(sign * (hours * 3600 + minutes * 60))))
}

/// [`parse_time_bound_in`] in UTC.
pub fn parse_time_bound(input: &str) -> Result<DateTime<Utc>, String> {
    parse_time_bound_in(input, false)
}

fn naive(s: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").ok()
}

/// Formats an instant the way the native layout stores new events.
pub fn format_stored(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> String {
        envelope_text(parse_time_bound(s).unwrap(), 9)
    }

    #[test]
    fn full_times_are_exact_to_the_nanosecond() {
        assert_eq!(
            at("2024-03-01T10:15:30.5Z"),
            "2024-03-01T10:15:30.500000000Z"
        );
        assert_eq!(
            at("2024-03-01T12:15:30.25+02:00"),
            "2024-03-01T10:15:30.250000000Z"
        );
        assert_eq!(
            at("2024-03-01T12:15:30.000+0200"),
            "2024-03-01T10:15:30.000000000Z"
        );
        assert_eq!(
            at("2024-03-01 10:15:30.123456"),
            "2024-03-01T10:15:30.123456000Z"
        );
        assert_eq!(
            at("2024-03-01T10:15:30.123456789Z"),
            "2024-03-01T10:15:30.123456789Z"
        );
        assert_eq!(at("1709288130"), "2024-03-01T10:15:30.000000000Z");
        assert_eq!(at("1709288130250"), "2024-03-01T10:15:30.250000000Z");
    }

    #[test]
    fn prefixes_cover_their_whole_period() {
        assert_eq!(at("2024"), "2024-12-31T23:59:59.999999999Z");
        assert_eq!(at("2024-02"), "2024-02-29T23:59:59.999999999Z");
        assert_eq!(at("2024-03-01"), "2024-03-01T23:59:59.999999999Z");
        assert_eq!(at("2024-03-01 10"), "2024-03-01T10:59:59.999999999Z");
        assert_eq!(at("2024-03-01T10:15"), "2024-03-01T10:15:59.999999999Z");
        assert_eq!(at("2024-03-01T10:15:30"), "2024-03-01T10:15:30.999999999Z");
    }

    #[test]
    fn a_zone_suffix_keeps_the_period() {
        let start = |s: &str| envelope_text(parse_time_start(s).unwrap(), 9);
        for (typed, end) in [
            ("2024-03-01T09", "2024-03-01T09:59:59.999999999Z"),
            ("2024-03-01T09Z", "2024-03-01T09:59:59.999999999Z"),
            ("2024-03-01T10+01:00", "2024-03-01T09:59:59.999999999Z"),
            ("2024-03-01T09:00Z", "2024-03-01T09:00:59.999999999Z"),
            ("2024-03-01T10:00+01:00", "2024-03-01T09:00:59.999999999Z"),
            ("2024-03-01T10:00+0100", "2024-03-01T09:00:59.999999999Z"),
            ("2024-03-01T08:30-00:30", "2024-03-01T09:00:59.999999999Z"),
            ("2024-03-01T09:00:30Z", "2024-03-01T09:00:30.999999999Z"),
            ("2024-03-01 11:00:30+02", "2024-03-01T09:00:30.999999999Z"),
        ] {
            assert_eq!(at(typed), end, "{typed}");
        }
        assert_eq!(
            start("2024-03-01T10+01:00"),
            "2024-03-01T09:00:00.000000000Z"
        );
        assert_eq!(start("2024-03-01T09:00Z"), "2024-03-01T09:00:00.000000000Z");
        assert!(parse_time_bound("2024-03-01T09:00+1").is_err());
        assert!(parse_time_bound("2024-03-01T09:00+25:00").is_err());
    }

    #[test]
    fn nonsense_is_an_error_that_shows_the_format() {
        let e = parse_time_bound("yesterday").unwrap_err();
        assert!(e.contains("RFC 3339"), "{e}");
        assert!(parse_time_bound("2024-13-01").is_err());
    }

    #[test]
    fn stored_times_in_every_form_keep_their_precision() {
        let n = |s: &str| normalise(s);
        assert_eq!(
            n("2024-03-01T09:00:00.123456Z"),
            "2024-03-01T09:00:00.123456Z"
        );
        assert_eq!(n("2024-03-01 09:00:00"), "2024-03-01T09:00:00Z");
        assert_eq!(
            n("2024-03-01 10:00:00.123456+01:00"),
            "2024-03-01T09:00:00.123456Z"
        );
        assert_eq!(n("2024-03-01T10:00:00.5+0100"), "2024-03-01T09:00:00.5Z");
        assert_eq!(
            n("2024-03-01T09:00:00.000000001Z"),
            "2024-03-01T09:00:00.000000001Z"
        );
        assert_eq!(n("sometime"), "sometime");
        assert_eq!(
            normalise_epoch(1709283600.0, EpochUnit::Auto).unwrap(),
            "2024-03-01T09:00:00Z"
        );
        assert_eq!(
            normalise_epoch(1709283600123.0, EpochUnit::Auto).unwrap(),
            "2024-03-01T09:00:00.123Z"
        );
        assert_eq!(
            normalise_epoch(1709283600.0, EpochUnit::Millis).unwrap(),
            "1970-01-20T18:48:03.600Z"
        );
        let a = parse_stored("2024-03-01T09:00:00.000001Z").unwrap();
        let b = parse_stored("2024-03-01T09:00:00.000002Z").unwrap();
        assert!(a < b, "microseconds apart are apart");
        assert!(parse_stored("not a time").is_none());
    }

    #[test]
    fn displayed_times_are_normalised_with_their_fraction() {
        assert_eq!(
            display("2024-03-01T09:00:00.123456Z", false),
            "2024-03-01 09:00:00.123456"
        );
        assert_eq!(
            display("2024-03-01T09:00:00Z", false),
            "2024-03-01 09:00:00"
        );
        assert_eq!(
            display("2024-03-01T10:00:00.5+01:00", false),
            "2024-03-01 09:00:00.5"
        );
        assert_eq!(display("garbage", false), "garbage");
    }
}

#[cfg(test)]
mod day_of_tests {
    use super::*;

    #[test]
    fn a_bare_time_is_on_the_playheads_day() {
        let at = "2024-03-01T23:30:00Z";
        assert_eq!(on_day_of("9:05", at, false), "2024-03-01 09:05");
        assert_eq!(on_day_of("09:05:30.5", at, false), "2024-03-01 09:05:30.5");
        assert_eq!(on_day_of("2024-02-01", at, false), "2024-02-01");
        assert_eq!(on_day_of("905", at, false), "905");
        assert_eq!(on_day_of("9:5", at, false), "9:5");
        let t = parse_time_bound_in(&on_day_of("9:05", at, false), false).unwrap();
        assert_eq!(format_stored(t), "2024-03-01T09:05:59.999999999Z");
    }
}

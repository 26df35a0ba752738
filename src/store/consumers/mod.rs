//! Consumers: the projections, subscriptions, process applications and processors whose
//! positions a store records, and where each stands against the log it follows: its
//! position, the head of what it follows, its lag (events of what it follows after its
//! position), the first event it has not processed, and a status.
//!
//! A backend reads the raw records ([`ConsumerRecord`], in eventscope's positions, from
//! each library's own tables: `sqlite.rs`); Message DB's position streams are events, read
//! here through the [`EventSource`] for every backend. The figures are computed here once.

pub(in crate::store) mod axon;
mod spec;
mod sqlite;

pub use spec::ConsumerSpec;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::source::EventSource;
use super::Result;
use crate::Event;

/// What a consumer reads.
/// In JSON: `"$all"`, `{"category": "Order"}` or `{"stream": "Order-123"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Follows {
    /// The whole log (`$all`).
    #[serde(rename = "$all")]
    All,
    Category(String),
    Stream(String),
}

impl Follows {
    /// As the table shows it: `$all`, `Account` (a category) or `Account-1` (a stream).
    pub fn label(&self) -> String {
        match self {
            Follows::All => "$all".into(),
            Follows::Category(c) => format!("category {c}"),
            Follows::Stream(s) => format!("stream {s}"),
        }
    }

    /// Reads a stored `follows` value: `$all`, `$ce-CAT` or `category:CAT`, `stream:ID`;
    /// anything else is a category.
    pub fn parse(text: &str) -> Follows {
        let t = text.trim();
        if t.is_empty() || t == "$all" {
            return Follows::All;
        }
        if let Some(c) = t
            .strip_prefix("$ce-")
            .or_else(|| t.strip_prefix("category:"))
        {
            return Follows::Category(c.into());
        }
        if let Some(s) = t.strip_prefix("stream:") {
            return Follows::Stream(s.into());
        }
        Follows::Category(t.into())
    }
}

/// One consumer as its library records it, with its position converted to eventscope's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConsumerRecord {
    /// Its name as the library stores it.
    pub consumer: String,
    /// What the library calls it (projection, tracking, processor, subscription, …).
    pub kind: String,
    pub follows: Follows,
    /// The last global position it has processed; `None` when it has processed nothing.
    pub position: Option<i64>,
    /// When the library last wrote its position, where it keeps that.
    pub last_update: Option<String>,
    /// The library's own status, and its error, where it keeps them.
    pub status: Option<String>,
    pub error: Option<String>,
    /// Where the record was read (a table, or a position stream).
    pub source: String,
    /// How the stored position became eventscope's, or what had to be assumed.
    pub note: Option<String>,
    /// Events the consumer failed on and set aside, where the library records them.
    pub dead_letters: Vec<DeadLetter>,
}

/// An event a consumer failed on and set aside (Marten's dead-letter documents).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// The event's global position.
    pub position: i64,
    pub error: Option<String>,
    pub error_type: Option<String>,
    /// When it was set aside.
    pub time: Option<String>,
    /// The event itself, where the store still has it.
    pub event: Option<NextEvent>,
}

impl ConsumerRecord {
    /// A consumer read from `source`, with nothing known yet but its name and what it is.
    pub fn new(consumer: String, kind: &str, follows: Follows, source: &str) -> Self {
        ConsumerRecord {
            consumer,
            kind: kind.into(),
            follows,
            position: None,
            last_update: None,
            status: None,
            error: None,
            source: source.into(),
            note: None,
            dead_letters: Vec::new(),
        }
    }
}

/// The first event a consumer has not processed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NextEvent {
    pub position: i64,
    pub stream: String,
    pub version: i64,
    #[serde(rename = "type")]
    pub event_type: String,
    pub time: Option<String>,
}

impl From<&Event> for NextEvent {
    fn from(e: &Event) -> Self {
        NextEvent {
            position: e.global_position,
            stream: e.stream_id.clone(),
            version: e.version,
            event_type: e.event_type.clone(),
            time: e.timestamp.clone(),
        }
    }
}

/// A consumer and where it stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Consumer {
    pub consumer: String,
    pub kind: String,
    pub follows: Follows,
    pub position: Option<i64>,
    /// The last position of what it follows (`None` when that holds no event).
    pub head: Option<i64>,
    /// Events of what it follows after its position.
    pub lag: i64,
    /// `lag` past [`LAG_COUNTED`] is estimated (`--exact` counts it all).
    pub lag_estimated: bool,
    pub next_event: Option<NextEvent>,
    /// Seconds since the next event was written.
    pub behind_for: Option<f64>,
    pub last_update: Option<String>,
    /// The library's status where it keeps one, else `caught_up`, `behind` or `stuck`.
    pub status: String,
    /// Whether `status` is the library's own word.
    pub status_stored: bool,
    /// Behind, and its last update is older than the stuck threshold (whatever the
    /// library's status says).
    pub stuck: bool,
    pub error: Option<String>,
    pub source: String,
    pub note: Option<String>,
    /// Events it failed on and set aside, each with its event where the store has it.
    #[serde(default)]
    pub dead_letters: Vec<DeadLetter>,
}

impl Consumer {
    /// Whether it has events left to process.
    pub fn is_behind(&self) -> bool {
        self.lag > 0
    }

    /// Behind, and not moving: by its stored status, or by a last update older than the
    /// stuck threshold.
    pub fn is_stuck(&self) -> bool {
        self.stuck
    }

    /// Its position lies past the end of what it follows: not a position in this log.
    pub fn is_ahead(&self) -> bool {
        self.position
            .is_some_and(|p| self.head.is_none_or(|h| p > h))
    }
}

/// How to judge consumers.
#[derive(Debug, Clone)]
pub struct ConsumerOptions {
    /// A consumer behind whose last update is older than this is stuck.
    pub stuck_after: std::time::Duration,
    /// The present, for ages (a test sets it).
    pub now: DateTime<Utc>,
    /// A `--consumers` spec: a table of positions no library layout names.
    pub spec: Option<ConsumerSpec>,
    /// Consumers whose positions another store keeps (`--tracking`: a Python
    /// eventsourcing process application's own database), judged against this store.
    pub extra: Vec<ConsumerRecord>,
    /// Count every event of a lag, however long, instead of estimating past
    /// [`LAG_COUNTED`].
    pub exact: bool,
    /// The stream list, where the caller has just read it (Message DB's position streams
    /// are found in it): not read again.
    pub streams: Option<Vec<super::StreamInfo>>,
}

impl Default for ConsumerOptions {
    fn default() -> Self {
        ConsumerOptions {
            stuck_after: std::time::Duration::from_secs(60),
            now: Utc::now(),
            spec: None,
            extra: Vec::new(),
            exact: false,
            streams: None,
        }
    }
}

/// A stored position as text: digits (Emmett pads them with zeros), or a
/// `transaction:position` pair, whose position it gives.
pub(crate) fn parse_position(text: &str) -> Option<i64> {
    text.rsplit(':').next().unwrap_or(text).trim().parse().ok()
}

/// The consumers whose positions `tracker` keeps, to be judged against another store's
/// log (named `log` in their notes).
pub fn tracked_elsewhere(tracker: &dyn EventSource, log: &str) -> Result<Vec<ConsumerRecord>> {
    let mut records = tracker.consumer_records(None)?;
    for r in &mut records {
        r.source = tracker.name();
        r.note = Some(format!("kept in {}, judged against {log}", tracker.name()));
    }
    Ok(records)
}

/// How many events of a lag are counted one by one before the rest is estimated (unless
/// `--exact`): counting is a walk of the position index, so a consumer ten million events
/// behind would take seconds.
pub const LAG_COUNTED: i64 = 50_000;

/// What lies after a position in what a consumer follows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tail {
    /// Events after the position.
    pub count: i64,
    /// The first position after it.
    pub next: Option<i64>,
    /// The last position of the whole set.
    pub head: Option<i64>,
    /// `count` is an estimate: the first [`LAG_COUNTED`] events were counted, the rest
    /// extrapolated over the positions left at the rate they were found.
    pub estimated: bool,
}

/// What a backend read of a tail: up to `limit` events counted after the position, the
/// last of them, the first, and the set's last position.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counted {
    pub counted: i64,
    pub last_counted: Option<i64>,
    pub next: Option<i64>,
    pub head: Option<i64>,
}

impl Tail {
    /// The tail from a count that stopped at `limit`: exact below it; at it, the events
    /// counted plus those expected in the positions left, at the rate found so far.
    pub fn from_counted(c: Counted, limit: Option<i64>) -> Tail {
        let exact = Tail {
            count: c.counted,
            next: c.next,
            head: c.head,
            estimated: false,
        };
        let (Some(limit), Some(first), Some(last), Some(head)) =
            (limit, c.next, c.last_counted, c.head)
        else {
            return exact;
        };
        if c.counted < limit || head <= last {
            return exact;
        }
        let spanned = (last as f64 - first as f64 + 1.0).max(1.0);
        let rate = c.counted as f64 / spanned;
        let rest = (rate * (head as f64 - last as f64)).round() as i64;
        Tail {
            count: c.counted.saturating_add(rest),
            estimated: true,
            ..exact
        }
    }
}

/// Every consumer the store records, sorted by lag (the largest first), then by name.
pub fn consumers(source: &dyn EventSource, options: &ConsumerOptions) -> Result<Vec<Consumer>> {
    let mut records = source.consumer_records(options.spec.as_ref())?;
    records.extend(position_streams(source, options)?);
    records.extend(options.extra.iter().cloned());
    let mut out = Vec::with_capacity(records.len());
    for r in records {
        out.push(stand(source, r, options)?);
    }
    out.sort_by(|a, b| b.lag.cmp(&a.lag).then_with(|| a.consumer.cmp(&b.consumer)));
    Ok(out)
}

fn stand(source: &dyn EventSource, r: ConsumerRecord, o: &ConsumerOptions) -> Result<Consumer> {
    let limit = (!o.exact).then_some(LAG_COUNTED);
    let tail = source.log_tail(r.position.unwrap_or(i64::MIN), &r.follows, limit)?;
    let next = match tail.next {
        Some(p) => source.event_at_position(p)?,
        None => None,
    };
    let next_event = next.as_ref().map(NextEvent::from);
    let mut dead_letters = r.dead_letters;
    for d in &mut dead_letters {
        d.event = source
            .event_at_position(d.position)?
            .as_ref()
            .map(NextEvent::from);
    }
    let age = |stored: &str| {
        crate::time::parse_stored(stored).map(|t| (o.now - t).num_milliseconds() as f64 / 1000.0)
    };
    let behind_for = next_event
        .as_ref()
        .and_then(|n| n.time.as_deref())
        .and_then(age);
    let idle = r.last_update.as_deref().and_then(age);
    let stuck = tail.count > 0 && idle.is_some_and(|s| s > o.stuck_after.as_secs_f64());
    // A position past the end of what it follows is no position in this log: it belongs
    // to another store's (a follower's tracking read against its own database).
    let ahead = matches!((r.position, tail.head), (Some(p), h) if h.is_none_or(|h| p > h));
    let mut error = r.error;
    if ahead && error.is_none() {
        error = Some(format!(
            "its position {} is past the last event of what it follows ({}): it is not a position in this log",
            r.position.unwrap_or_default(),
            tail.head.map_or("none".into(), |h| h.to_string())
        ));
    }
    let (status, status_stored) = match &r.status {
        Some(s) if !s.is_empty() => (s.clone(), true),
        _ if ahead => ("ahead".to_string(), false),
        _ if stuck => ("stuck".to_string(), false),
        _ if tail.count > 0 => ("behind".to_string(), false),
        _ => ("caught_up".to_string(), false),
    };
    Ok(Consumer {
        consumer: r.consumer,
        kind: r.kind,
        follows: r.follows,
        position: r.position,
        head: tail.head,
        lag: tail.count,
        lag_estimated: tail.estimated,
        next_event,
        behind_for,
        last_update: r.last_update,
        status,
        status_stored,
        stuck,
        error,
        source: r.source,
        note: r.note,
        dead_letters,
    })
}

/// Eventide's consumer positions (Message DB): a stream `<category>:position-<consumer>`
/// whose last `Recorded` event holds the global position of the last message read.
fn position_streams(source: &dyn EventSource, o: &ConsumerOptions) -> Result<Vec<ConsumerRecord>> {
    if source.layout() != super::Layout::MessageDb {
        return Ok(Vec::new());
    }
    let listed;
    let streams = match &o.streams {
        Some(known) => known.as_slice(),
        None => {
            listed = source.streams()?;
            listed.as_slice()
        }
    };
    let mut out = Vec::new();
    for info in streams {
        let id = &info.stream_id;
        let Some((category, rest)) = id.split_once(':') else {
            continue;
        };
        let Some(after) = rest.strip_prefix("position") else {
            continue;
        };
        if !(after.is_empty() || after.starts_with('-')) || category.contains('-') {
            continue;
        }
        let last = source.event_at_or_before(id, info.last_version)?;
        let (position, error) = match last.as_ref().map(|e| &e.data["position"]) {
            Some(p) => match p.as_i64() {
                Some(n) => (Some(n), None),
                None => (
                    None,
                    Some(format!("its last event holds no integer position ({p})")),
                ),
            },
            None => (None, None),
        };
        let name = match after.strip_prefix('-') {
            Some(identifier) if !identifier.is_empty() => identifier.to_string(),
            _ => id.clone(),
        };
        let source = format!("position stream {id}");
        let mut r = ConsumerRecord::new(
            name,
            "consumer",
            Follows::Category(category.into()),
            &source,
        );
        r.position = position;
        r.last_update = last.as_ref().and_then(|e| e.timestamp.clone());
        r.error = error;
        out.push(r);
    }
    Ok(out)
}

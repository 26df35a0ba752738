//! The one seam between eventscope and a store: [`EventSource`], implemented by SQLite
//! files ([`Store`](super::Store)), PostgreSQL databases ([`PgStore`](super::PgStore)) and
//! the in-memory [`MemorySource`](super::MemorySource). Replay, diff, check, the CLI and
//! the TUI's worker read through it only, as `&dyn EventSource`.
//!
//! Its required methods are the reads a backend must do itself (in its own SQL, with its
//! own paging); the rest are provided on top of them and may be overridden where a backend
//! has a faster way. Callbacks cross it as `&mut dyn FnMut`, so it is object-safe;
//! [`SourceExt`] gives back the generic forms that let a callback fail with its own error.

use std::collections::HashMap;
use std::ops::{ControlFlow, RangeInclusive};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::layout::Layout;
use super::{
    Activity, BadVersion, Columns, LogFilter, Related, RelatedKeys, Result, SidecarGuard, Snapshot,
    Stats, StoreError, StreamInfo, StreamRow, TimeRow,
};
use crate::Event;

/// A count of the log's events, or an estimate marked as one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Total {
    pub events: i64,
    pub estimated: bool,
}

pub type EventFn<'f> = dyn FnMut(Event) -> Result<ControlFlow<()>> + 'f;
pub type RowFn<'f> = dyn FnMut(StreamRow<'_>) -> Result<ControlFlow<()>> + 'f;
pub type TimeFn<'f> = dyn FnMut(TimeRow) -> Result<ControlFlow<()>> + 'f;
pub type KeepFn<'f> = dyn FnMut(&StreamRow<'_>) -> Result<bool> + 'f;
pub type PayloadFn<'f> = dyn FnMut(i64, &[u8]) -> Result<ControlFlow<()>> + 'f;

/// Events appended after a position, from any process, each once and in global order.
pub trait Follow: Send {
    /// The global position of the last event handed out.
    fn position(&self) -> i64;
    /// Every event that has arrived since the last call, without waiting.
    fn poll(&mut self) -> Result<Vec<Event>>;
    /// Waits up to `timeout` for the next event.
    fn next_timeout(&mut self, timeout: Duration) -> Result<Option<Event>>;
    /// Waits before the next `poll`, at most `max`: as long as the store's polling
    /// interval, or until it tells of a commit (PostgreSQL's NOTIFY).
    fn wait(&mut self, max: Duration) {
        std::thread::sleep(max.min(Duration::from_millis(50)));
    }
}

/// An event store opened for reading.
pub trait EventSource {
    /// How to name the store to the user: a path, or a URL without its password.
    fn name(&self) -> String;
    fn layout(&self) -> Layout;
    /// The layout's name as `--format` takes it.
    fn format_name(&self) -> &'static str;
    /// Whether events carry times (cqrs-es records none).
    fn has_times(&self) -> bool;
    /// Where the layout keeps event times, for messages.
    fn time_column(&self) -> String;
    /// Whether the store keeps snapshots beside its events.
    fn has_snapshots(&self) -> bool;
    /// Whether every stream's category is its id before the first `-`, so that no stream
    /// list is needed to know it.
    fn category_is_prefix(&self) -> bool;
    /// A line on how the store is reached, when the user should know it.
    fn access_note(&self) -> Option<String> {
        None
    }
    /// What removes the files SQLite made beside a store (SQLite only).
    fn sidecar_guard(&self) -> Option<std::sync::Arc<SidecarGuard>> {
        None
    }
    /// Reads everything from here on as of one moment, whatever others commit meanwhile:
    /// one transaction (SQLite), or an upper bound on the global position (PostgreSQL,
    /// which keeps no transaction open).
    fn pin_snapshot(&self) -> Result<()>;
    /// Asks to be told when the store's connection drops and is opened again
    /// (`Some(message)`), and when it is back (`None`). Files have no connection.
    fn watch_connection(&self, _watcher: Box<dyn Fn(Option<String>) + Send>) {}

    /// Every stream with its event count and versions, ordered by id.
    fn streams(&self) -> Result<Vec<StreamInfo>>;
    /// The stream list and the last global position, agreeing with each other.
    fn streams_and_position(&self) -> Result<(Vec<StreamInfo>, i64)> {
        let position = self.last_position()?;
        Ok((self.streams()?, position))
    }
    /// The list entry of one stream, or `None` when it has no events.
    fn stream_info(&self, stream: &str) -> Result<Option<StreamInfo>>;
    /// Whether the stream has events: `None` when it has none, else how many of its rows
    /// have a version that is not an integer.
    fn stream_found(&self, stream: &str) -> Result<Option<i64>> {
        Ok(self.stream_info(stream)?.map(|i| i.bad_versions))
    }
    /// The stream's last version, or `None` when it has no events.
    fn last_version(&self, stream: &str) -> Result<Option<i64>>;
    /// The stream's first version, or `None` when it has no events.
    fn first_version(&self, stream: &str) -> Result<Option<i64>> {
        Ok(self.stream_info(stream)?.map(|i| i.first_version))
    }
    /// The rows stream reads have passed over since the last call because their version
    /// is not an integer (their order in the stream is unknown).
    fn take_left_out(&self) -> Vec<BadVersion> {
        Vec::new()
    }
    /// The category of a stream, as the stream list shows it.
    fn stream_category(&self, stream: &str) -> Result<String>;
    /// The event at `version`, or the last one below it where that version is missing.
    fn event_at_or_before(&self, stream: &str, version: i64) -> Result<Option<Event>>;

    /// A stream's events whose version lies in `versions`, in version order.
    fn each_stream_event(
        &self,
        stream: &str,
        versions: RangeInclusive<i64>,
        f: &mut EventFn<'_>,
    ) -> Result<()>;
    /// Like `each_stream_event`, with raw rows where the payloads are plain JSON.
    fn each_stream_row(
        &self,
        stream: &str,
        versions: RangeInclusive<i64>,
        columns: Columns,
        f: &mut RowFn<'_>,
    ) -> Result<()>;
    /// Each event's version and raw JSON payload; `None` where payloads need decoding.
    fn each_stream_payload(
        &self,
        _stream: &str,
        _versions: RangeInclusive<i64>,
        _f: &mut PayloadFn<'_>,
    ) -> Result<Option<()>> {
        Ok(None)
    }
    /// The global log as `filter` selects it, in global order.
    fn each_log_event(&self, filter: &LogFilter, f: &mut EventFn<'_>) -> Result<()>;
    /// The log (ignoring `filter.event_type`) as raw rows where payloads are plain JSON.
    fn each_log_row(&self, filter: &LogFilter, f: &mut RowFn<'_>) -> Result<()>;
    /// The log with `keep` asked of each row before it is decoded; the limit counts kept
    /// events.
    fn each_kept_event(
        &self,
        filter: &LogFilter,
        keep: &mut KeepFn<'_>,
        f: &mut EventFn<'_>,
    ) -> Result<()>;
    /// Each event's place and time, in global order.
    fn each_time(&self, filter: &LogFilter, f: &mut TimeFn<'_>) -> Result<()>;

    /// Every row whose version is not an integer, in global order.
    fn bad_versions(&self) -> Result<Vec<BadVersion>>;
    /// How many events lie past global position `after`.
    fn count_after(&self, after: i64) -> Result<i64>;
    /// How many events the log holds: counted, unless counting means reading a whole
    /// table (PostgreSQL) and `exact` is false; then the planner's estimate, marked so.
    fn event_total(&self, _exact: bool) -> Result<Total> {
        Ok(Total {
            events: self.count_after(i64::MIN)?,
            estimated: false,
        })
    }
    /// The stream list with every count counted, where `streams` takes them from a
    /// streams table's versions instead.
    fn streams_counted(&self) -> Result<Vec<StreamInfo>> {
        self.streams()
    }
    /// The highest global position (0 when the store is empty).
    fn last_position(&self) -> Result<i64>;

    /// Every snapshot (of one stream, or all), by stream and version.
    fn snapshots(&self, stream: Option<&str>) -> Result<Vec<Snapshot>>;
    /// The newest snapshot of `stream` at or before `version`.
    fn latest_snapshot(&self, stream: &str, version: i64) -> Result<Option<Snapshot>>;
    /// The versions of `stream` that have a snapshot.
    fn snapshot_versions_of(&self, stream: &str) -> Result<Vec<i64>> {
        Ok(self
            .snapshots(Some(stream))?
            .into_iter()
            .map(|s| s.version)
            .collect())
    }

    /// Follows events with a global position greater than `after`.
    fn subscribe(&self, after: i64) -> Result<Box<dyn Follow>>;

    /// The ids of the streams filed under `category`, by id.
    fn streams_of_category(&self, category: &str) -> Result<Vec<String>> {
        Ok(self
            .streams()?
            .into_iter()
            .filter(|s| s.category == category)
            .map(|s| s.stream_id)
            .collect())
    }

    /// Each stream's last event by global position, with its time.
    fn activity(&self) -> Result<HashMap<String, Activity>> {
        let mut out: HashMap<String, Activity> = HashMap::new();
        let filter = LogFilter::default();
        let mut note = |stream: &str, position: i64, time: Option<String>| {
            out.insert(
                stream.to_string(),
                Activity {
                    last_position: position,
                    last_time: time,
                },
            );
        };
        if self.has_times() {
            self.each_time(&filter, &mut |row| {
                note(&row.stream_id, row.position, row.time);
                Ok(ControlFlow::Continue(()))
            })?;
        } else {
            self.each_log_row(&filter, &mut |row| {
                let position = match &row {
                    StreamRow::Raw(r) => r.global_position,
                    StreamRow::Event(e) => e.global_position,
                };
                note(row.stream_id(), position, None);
                Ok(ControlFlow::Continue(()))
            })?;
        }
        Ok(out)
    }

    /// The event with this id, or at this global position when `id` is a number no event
    /// has as its id.
    fn find_event(&self, id: &str) -> Result<Option<Event>> {
        let mut found = None;
        self.each_log_event(&LogFilter::default(), &mut |e| {
            Ok(if e.event_id == id {
                found = Some(e);
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            })
        })?;
        match (found, id.parse::<i64>()) {
            (Some(e), _) => Ok(Some(e)),
            (None, Ok(p)) => self.event_at_position(p),
            (None, Err(_)) => Ok(None),
        }
    }

    /// The event at `version` of `stream` (the first, where several share it).
    fn event_at_version(&self, stream: &str, version: i64) -> Result<Option<Event>> {
        let mut found = None;
        self.each_stream_event(stream, version..=version, &mut |e| {
            found = Some(e);
            Ok(ControlFlow::Break(()))
        })?;
        Ok(found)
    }

    /// The event at global `position` exactly.
    fn event_at_position(&self, position: i64) -> Result<Option<Event>> {
        let mut found = None;
        let filter = LogFilter {
            from_position: position,
            limit: Some(1),
            ..Default::default()
        };
        self.each_log_event(&filter, &mut |e| {
            found = Some(e);
            Ok(ControlFlow::Break(()))
        })?;
        Ok(found.filter(|e| e.global_position == position))
    }

    /// Stream ids like `name`, closest first, for "did you mean".
    fn closest_streams(&self, name: &str) -> Result<Vec<String>> {
        let mut scored: Vec<(f64, String)> = self
            .streams()?
            .into_iter()
            .map(|s| (strsim::jaro_winkler(name, &s.stream_id), s.stream_id))
            .filter(|(score, _)| *score > 0.7)
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        Ok(scored.into_iter().take(3).map(|(_, id)| id).collect())
    }

    /// The instant of a row's time, or an error naming the column and the value.
    fn instant(&self, row: &TimeRow) -> Result<DateTime<Utc>> {
        row.time
            .as_deref()
            .and_then(crate::time::parse_stored)
            .ok_or_else(|| StoreError::BadTime {
                column: self.time_column(),
                stream: row.stream_id.clone(),
                version: row.version,
                value: row.time.clone().unwrap_or_else(|| "NULL".into()),
            })
    }

    /// The last version, in version order, whose event is stamped at or before `until`;
    /// `None` when no event is that early. Every event's time is read: a time that cannot
    /// be read is an error naming it, never "before everything". Where times go backwards,
    /// the answer is still the last such event in version order, so the state there may
    /// include earlier versions stamped after `until`.
    fn version_at_time(&self, stream: &str, until: DateTime<Utc>) -> Result<Option<i64>> {
        let filter = LogFilter {
            stream: Some(stream.to_string()),
            ..Default::default()
        };
        let mut last = None;
        self.each_time(&filter, &mut |row| {
            let t = self.instant(&row)?;
            if t <= until && last.is_none_or(|v| row.version >= v) {
                last = Some(row.version);
            }
            Ok(ControlFlow::Continue(()))
        })?;
        Ok(last)
    }

    /// The last global position, in global order, whose event is stamped at or before
    /// `until` (the log's counterpart of `version_at_time`).
    fn position_at_time(&self, until: DateTime<Utc>) -> Result<Option<i64>> {
        let mut last = None;
        self.each_time(&LogFilter::default(), &mut |row| {
            if self.instant(&row)? <= until {
                last = Some(row.position);
            }
            Ok(ControlFlow::Continue(()))
        })?;
        Ok(last)
    }

    /// How busy one stream's history (by version) or the log's (by position) is along
    /// its keys ([`super::key_activity`]); empty where the layout records no times. Events
    /// whose time cannot be read are left out.
    fn density(&self, stream: Option<&str>, buckets: usize) -> Result<Vec<u64>> {
        if !self.has_times() {
            return Ok(Vec::new());
        }
        let filter = LogFilter {
            stream: stream.map(str::to_string),
            ..Default::default()
        };
        let mut events = Vec::new();
        self.each_time(&filter, &mut |row| {
            if let Some(t) = row.time.as_deref().and_then(crate::time::parse_stored) {
                let key = if stream.is_some() {
                    row.version
                } else {
                    row.position
                };
                events.push((key, t.timestamp_millis()));
            }
            Ok(ControlFlow::Continue(()))
        })?;
        events.sort_by_key(|(k, _)| *k);
        Ok(super::key_activity(&events, buckets))
    }

    /// Counts over the events `filter` selects; `bucket` in seconds, or chosen so that
    /// the span fits in at most 60 buckets.
    fn stats(&self, filter: &LogFilter, bucket: Option<i64>) -> Result<Stats> {
        super::stats::stats(self, filter, bucket)
    }

    /// An application's own table beside the events (a read model), row by row: the
    /// `columns` named, each value as JSON. Columns are checked and quoted.
    fn table_rows(
        &self,
        table: &str,
        _columns: &[String],
        _f: &mut super::table_rows::TableRowFn<'_>,
    ) -> Result<()> {
        Err(StoreError::BadReadModel(format!(
            "this store cannot read table {table}"
        )))
    }

    /// The consumers the store records (projections, subscriptions, trackers), as the
    /// layout's tables or a `--consumers` spec name them; none where it records none.
    fn consumer_records(
        &self,
        _spec: Option<&super::consumers::ConsumerSpec>,
    ) -> Result<Vec<super::consumers::ConsumerRecord>> {
        Ok(Vec::new())
    }

    /// What lies after global position `after` in what a consumer `follows`: how many
    /// events (counted up to `limit`, the rest estimated), the first position, and the
    /// set's last position. This default reads each event's place and counts them all;
    /// backends count through their position index instead.
    fn log_tail(
        &self,
        after: i64,
        follows: &super::consumers::Follows,
        _limit: Option<i64>,
    ) -> Result<super::consumers::Tail> {
        use super::consumers::Follows;
        let streams = match follows {
            Follows::All => None,
            Follows::Category(c) => Some(self.streams_of_category(c)?),
            Follows::Stream(s) => Some(vec![s.clone()]),
        };
        let filter = LogFilter {
            streams,
            ..LogFilter::default()
        };
        let mut tail = super::consumers::Tail::default();
        self.each_time(&filter, &mut |row| {
            if row.position > after {
                tail.count += 1;
                tail.next.get_or_insert(row.position);
            }
            tail.head = Some(tail.head.map_or(row.position, |h| h.max(row.position)));
            Ok(ControlFlow::Continue(()))
        })?;
        Ok(tail)
    }

    /// Every event sharing the correlation id of the event `id`, in global order, with
    /// causation links.
    fn related(&self, id: &str, keys: &RelatedKeys) -> Result<Related> {
        super::related::related(self, id, keys)
    }
}

/// The generic forms of [`EventSource`]'s reads, whose callbacks fail with their own
/// error type (a replay's, say) and stop the read.
pub trait SourceExt: EventSource {
    fn read_stream<E: From<StoreError>>(
        &self,
        stream: &str,
        versions: RangeInclusive<i64>,
        mut f: impl FnMut(Event) -> Result<ControlFlow<()>, E>,
    ) -> Result<(), E> {
        let mut failed = None;
        self.each_stream_event(stream, versions, &mut |e| Ok(stash(f(e), &mut failed)))?;
        failed.map_or(Ok(()), Err)
    }

    fn read_stream_rows<E: From<StoreError>>(
        &self,
        stream: &str,
        versions: RangeInclusive<i64>,
        columns: Columns,
        mut f: impl FnMut(StreamRow<'_>) -> Result<ControlFlow<()>, E>,
    ) -> Result<(), E> {
        let mut failed = None;
        self.each_stream_row(stream, versions, columns, &mut |r| {
            Ok(stash(f(r), &mut failed))
        })?;
        failed.map_or(Ok(()), Err)
    }

    fn read_stream_payloads<E: From<StoreError>>(
        &self,
        stream: &str,
        versions: RangeInclusive<i64>,
        mut f: impl FnMut(i64, &[u8]) -> Result<ControlFlow<()>, E>,
    ) -> Result<Option<()>, E> {
        let mut failed = None;
        let done = self.each_stream_payload(stream, versions, &mut |v, d| {
            Ok(stash(f(v, d), &mut failed))
        })?;
        failed.map_or(Ok(done), Err)
    }

    fn read_log<E: From<StoreError>>(
        &self,
        filter: &LogFilter,
        mut f: impl FnMut(Event) -> Result<ControlFlow<()>, E>,
    ) -> Result<(), E> {
        let mut failed = None;
        self.each_log_event(filter, &mut |e| Ok(stash(f(e), &mut failed)))?;
        failed.map_or(Ok(()), Err)
    }

    fn read_log_rows<E: From<StoreError>>(
        &self,
        filter: &LogFilter,
        mut f: impl FnMut(StreamRow<'_>) -> Result<ControlFlow<()>, E>,
    ) -> Result<(), E> {
        let mut failed = None;
        self.each_log_row(filter, &mut |r| Ok(stash(f(r), &mut failed)))?;
        failed.map_or(Ok(()), Err)
    }

    fn search_log<E: From<StoreError>>(
        &self,
        filter: &LogFilter,
        mut keep: impl FnMut(&StreamRow<'_>) -> Result<bool, E>,
        mut f: impl FnMut(Event) -> Result<ControlFlow<()>, E>,
    ) -> Result<(), E> {
        let mut failed = None;
        let mut kept_failed = None;
        self.each_kept_event(
            filter,
            &mut |r| match keep(r) {
                Ok(k) => Ok(k),
                Err(e) => {
                    kept_failed = Some(e);
                    Err(StoreError::Interrupted)
                }
            },
            &mut |e| Ok(stash(f(e), &mut failed)),
        )
        .or_else(|e| match e {
            StoreError::Interrupted if kept_failed.is_some() => Ok(()),
            other => Err(other),
        })?;
        if let Some(e) = kept_failed {
            return Err(e);
        }
        failed.map_or(Ok(()), Err)
    }

    fn for_each_time(
        &self,
        filter: &LogFilter,
        mut f: impl FnMut(TimeRow) -> Result<ControlFlow<()>>,
    ) -> Result<()> {
        self.each_time(filter, &mut f)
    }
}

impl<T: EventSource + ?Sized> SourceExt for T {}

/// A callback's answer as a flow; its error is kept aside and stops the read.
fn stash<E>(answer: Result<ControlFlow<()>, E>, failed: &mut Option<E>) -> ControlFlow<()> {
    match answer {
        Ok(flow) => flow,
        Err(e) => {
            *failed = Some(e);
            ControlFlow::Break(())
        }
    }
}

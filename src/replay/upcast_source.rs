//! A store seen through its upcasters: every read that hands out events hands out upcast
//! ones, so replays, diffs, blame, `when`, listings and follows all see what the reducers
//! are meant to see, with no view of its own to forget. Everything else (streams, times,
//! counts, snapshots, consumers) is the store's. Stream reads hand out decoded envelopes:
//! the raw-row fast path does not apply while upcasting.

use std::collections::HashMap;
use std::ops::{ControlFlow, RangeInclusive};
use std::rc::Rc;
use std::sync::Arc;

use super::upcast::Upcasters;
use super::Watch;
use crate::store::{
    Activity, BadVersion, Columns, EventFn, EventSource, Follow, KeepFn, Layout, LogFilter,
    PayloadFn, Result, RowFn, Snapshot, StoreError, StreamInfo, StreamRow, TimeFn,
};
use crate::Event;

pub struct UpcastSource {
    inner: Box<dyn EventSource>,
    upcasters: Rc<Upcasters>,
    watch: Option<Arc<Watch>>,
}

impl UpcastSource {
    pub fn new(
        inner: Box<dyn EventSource>,
        upcasters: Rc<Upcasters>,
        watch: Option<Arc<Watch>>,
    ) -> UpcastSource {
        UpcastSource {
            inner,
            upcasters,
            watch,
        }
    }

    /// The store as stored, without upcasting.
    pub fn stored(&self) -> &dyn EventSource {
        &*self.inner
    }

    pub fn upcasters(&self) -> &Upcasters {
        &self.upcasters
    }

    /// `e` as its upcaster makes it (for events taken from a follow).
    pub fn upcast(&self, e: Event) -> Result<Event> {
        self.up(e)
    }

    fn up(&self, e: Event) -> Result<Event> {
        self.upcasters
            .apply(e, self.watch.as_deref())
            .map_err(|e| StoreError::Upcaster(e.to_string()))
    }

    fn up_opt(&self, e: Option<Event>) -> Result<Option<Event>> {
        e.map(|e| self.up(e)).transpose()
    }
}

impl EventSource for UpcastSource {
    fn name(&self) -> String {
        self.inner.name()
    }
    fn layout(&self) -> Layout {
        self.inner.layout()
    }
    fn format_name(&self) -> &'static str {
        self.inner.format_name()
    }
    fn has_times(&self) -> bool {
        self.inner.has_times()
    }
    fn time_column(&self) -> String {
        self.inner.time_column()
    }
    fn has_snapshots(&self) -> bool {
        self.inner.has_snapshots()
    }
    fn category_is_prefix(&self) -> bool {
        self.inner.category_is_prefix()
    }
    fn access_note(&self) -> Option<String> {
        self.inner.access_note()
    }
    fn sidecar_guard(&self) -> Option<Arc<crate::store::SidecarGuard>> {
        self.inner.sidecar_guard()
    }
    fn pin_snapshot(&self) -> Result<()> {
        self.inner.pin_snapshot()
    }
    fn watch_connection(&self, watcher: Box<dyn Fn(Option<String>) + Send>) {
        self.inner.watch_connection(watcher)
    }
    fn streams(&self) -> Result<Vec<StreamInfo>> {
        self.inner.streams()
    }
    fn streams_and_position(&self) -> Result<(Vec<StreamInfo>, i64)> {
        self.inner.streams_and_position()
    }
    fn stream_info(&self, stream: &str) -> Result<Option<StreamInfo>> {
        self.inner.stream_info(stream)
    }
    fn stream_found(&self, stream: &str) -> Result<Option<i64>> {
        self.inner.stream_found(stream)
    }
    fn last_version(&self, stream: &str) -> Result<Option<i64>> {
        self.inner.last_version(stream)
    }
    fn first_version(&self, stream: &str) -> Result<Option<i64>> {
        self.inner.first_version(stream)
    }
    fn take_left_out(&self) -> Vec<BadVersion> {
        self.inner.take_left_out()
    }
    fn stream_category(&self, stream: &str) -> Result<String> {
        self.inner.stream_category(stream)
    }
    fn event_at_or_before(&self, stream: &str, version: i64) -> Result<Option<Event>> {
        self.up_opt(self.inner.event_at_or_before(stream, version)?)
    }
    fn each_stream_event(
        &self,
        stream: &str,
        versions: RangeInclusive<i64>,
        f: &mut EventFn<'_>,
    ) -> Result<()> {
        self.inner
            .each_stream_event(stream, versions, &mut |e| f(self.up(e)?))
    }
    fn each_stream_row(
        &self,
        stream: &str,
        versions: RangeInclusive<i64>,
        _columns: Columns,
        f: &mut RowFn<'_>,
    ) -> Result<()> {
        self.inner.each_stream_event(stream, versions, &mut |e| {
            f(StreamRow::Event(Box::new(self.up(e)?)))
        })
    }
    fn each_stream_payload(
        &self,
        _stream: &str,
        _versions: RangeInclusive<i64>,
        _f: &mut PayloadFn<'_>,
    ) -> Result<Option<()>> {
        // A payload alone has no type to choose an upcaster by.
        Ok(None)
    }
    fn each_log_event(&self, filter: &LogFilter, f: &mut EventFn<'_>) -> Result<()> {
        self.inner.each_log_event(filter, &mut |e| f(self.up(e)?))
    }
    fn each_log_row(&self, filter: &LogFilter, f: &mut RowFn<'_>) -> Result<()> {
        let all = LogFilter {
            event_type: None,
            ..filter.clone()
        };
        self.inner
            .each_log_event(&all, &mut |e| f(StreamRow::Event(Box::new(self.up(e)?))))
    }
    /// `keep` (a `--where`, a find) is asked of the upcast envelope, so it judges what the
    /// views show; the limit counts kept events.
    fn each_kept_event(
        &self,
        filter: &LogFilter,
        keep: &mut KeepFn<'_>,
        f: &mut EventFn<'_>,
    ) -> Result<()> {
        let all = LogFilter {
            limit: None,
            ..filter.clone()
        };
        let mut left = filter.limit.unwrap_or(usize::MAX);
        if left == 0 {
            return Ok(());
        }
        self.inner.each_log_event(&all, &mut |e| {
            let row = StreamRow::Event(Box::new(self.up(e)?));
            if !keep(&row)? {
                return Ok(ControlFlow::Continue(()));
            }
            let StreamRow::Event(e) = row else {
                return Ok(ControlFlow::Continue(()));
            };
            let flow = f(*e)?;
            left -= 1;
            Ok(if left == 0 {
                ControlFlow::Break(())
            } else {
                flow
            })
        })
    }
    fn each_time(&self, filter: &LogFilter, f: &mut TimeFn<'_>) -> Result<()> {
        self.inner.each_time(filter, f)
    }
    fn bad_versions(&self) -> Result<Vec<BadVersion>> {
        self.inner.bad_versions()
    }
    fn count_after(&self, after: i64) -> Result<i64> {
        self.inner.count_after(after)
    }
    fn event_total(&self, exact: bool) -> Result<crate::store::Total> {
        self.inner.event_total(exact)
    }
    fn streams_counted(&self) -> Result<Vec<StreamInfo>> {
        self.inner.streams_counted()
    }
    fn last_position(&self) -> Result<i64> {
        self.inner.last_position()
    }
    fn snapshots(&self, stream: Option<&str>) -> Result<Vec<Snapshot>> {
        self.inner.snapshots(stream)
    }
    fn latest_snapshot(&self, stream: &str, version: i64) -> Result<Option<Snapshot>> {
        self.inner.latest_snapshot(stream, version)
    }
    fn snapshot_versions_of(&self, stream: &str) -> Result<Vec<i64>> {
        self.inner.snapshot_versions_of(stream)
    }
    /// The store's events as stored: a follow crosses threads, which jq programs cannot;
    /// a follower upcasts what it takes with [`UpcastSource::upcast`].
    fn subscribe(&self, after: i64) -> Result<Box<dyn Follow>> {
        self.inner.subscribe(after)
    }
    fn streams_of_category(&self, category: &str) -> Result<Vec<String>> {
        self.inner.streams_of_category(category)
    }
    fn activity(&self) -> Result<HashMap<String, Activity>> {
        self.inner.activity()
    }
    fn find_event(&self, id: &str) -> Result<Option<Event>> {
        self.up_opt(self.inner.find_event(id)?)
    }
    fn event_at_version(&self, stream: &str, version: i64) -> Result<Option<Event>> {
        self.up_opt(self.inner.event_at_version(stream, version)?)
    }
    fn event_at_position(&self, position: i64) -> Result<Option<Event>> {
        self.up_opt(self.inner.event_at_position(position)?)
    }
    fn version_at_time(
        &self,
        stream: &str,
        until: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<i64>> {
        self.inner.version_at_time(stream, until)
    }
    fn position_at_time(&self, until: chrono::DateTime<chrono::Utc>) -> Result<Option<i64>> {
        self.inner.position_at_time(until)
    }
    fn density(&self, stream: Option<&str>, buckets: usize) -> Result<Vec<u64>> {
        self.inner.density(stream, buckets)
    }
    fn stats(&self, filter: &LogFilter, bucket: Option<i64>) -> Result<crate::store::Stats> {
        self.inner.stats(filter, bucket)
    }
    fn table_rows(
        &self,
        table: &str,
        columns: &[String],
        f: &mut crate::store::table_rows::TableRowFn<'_>,
    ) -> Result<()> {
        self.inner.table_rows(table, columns, f)
    }
    fn consumer_records(
        &self,
        spec: Option<&crate::store::consumers::ConsumerSpec>,
    ) -> Result<Vec<crate::store::consumers::ConsumerRecord>> {
        self.inner.consumer_records(spec)
    }
    fn log_tail(
        &self,
        after: i64,
        follows: &crate::store::consumers::Follows,
        limit: Option<i64>,
    ) -> Result<crate::store::consumers::Tail> {
        self.inner.log_tail(after, follows, limit)
    }
    fn related(&self, id: &str, keys: &crate::store::RelatedKeys) -> Result<crate::store::Related> {
        self.inner.related(id, keys)
    }
}

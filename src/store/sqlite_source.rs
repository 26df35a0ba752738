//! SQLite files as an [`EventSource`]: the trait's reads, each one of `Store`'s queries.

use std::ops::RangeInclusive;
use std::time::Duration;

use super::layout::{CategoryRule, Layout};
use super::source::{EventFn, Follow, KeepFn, PayloadFn, RowFn, TimeFn};
use super::{
    Activity, BadVersion, Columns, EventSource, LogFilter, Result, SidecarGuard, Snapshot, Store,
    StreamInfo, Subscription, FORMATS,
};
use crate::Event;

impl EventSource for Store {
    fn name(&self) -> String {
        self.path().display().to_string()
    }

    fn layout(&self) -> Layout {
        self.mapping().layout
    }

    fn format_name(&self) -> &'static str {
        FORMATS
            .iter()
            .find(|f| f.layout == self.mapping().layout)
            .map_or("map", |f| f.name)
    }

    fn has_times(&self) -> bool {
        Store::has_times(self)
    }

    fn time_column(&self) -> String {
        Store::time_column(self)
    }

    fn has_snapshots(&self) -> bool {
        Store::has_snapshots(self)
    }

    fn category_is_prefix(&self) -> bool {
        matches!(self.mapping().category, CategoryRule::Prefix)
    }

    fn access_note(&self) -> Option<String> {
        Store::access_note(self).map(str::to_string)
    }

    fn sidecar_guard(&self) -> Option<std::sync::Arc<SidecarGuard>> {
        Store::sidecar_guard(self)
    }

    fn pin_snapshot(&self) -> Result<()> {
        Store::pin_snapshot(self)
    }

    fn streams(&self) -> Result<Vec<StreamInfo>> {
        Store::streams(self)
    }

    fn streams_and_position(&self) -> Result<(Vec<StreamInfo>, i64)> {
        self.read_consistently(|s| Ok((Store::streams(s)?, Store::last_position(s)?)))
    }

    fn stream_info(&self, stream: &str) -> Result<Option<StreamInfo>> {
        Store::stream_info(self, stream)
    }

    fn last_version(&self, stream: &str) -> Result<Option<i64>> {
        Store::last_version(self, stream)
    }

    fn first_version(&self, stream: &str) -> Result<Option<i64>> {
        Store::first_version(self, stream)
    }

    fn stream_found(&self, stream: &str) -> Result<Option<i64>> {
        Store::stream_found(self, stream)
    }

    fn take_left_out(&self) -> Vec<BadVersion> {
        Store::take_left_out(self)
    }

    fn stream_category(&self, stream: &str) -> Result<String> {
        Store::stream_category(self, stream)
    }

    fn event_at_or_before(&self, stream: &str, version: i64) -> Result<Option<Event>> {
        Store::event_at_or_before(self, stream, version)
    }

    fn each_stream_event(
        &self,
        stream: &str,
        versions: RangeInclusive<i64>,
        f: &mut EventFn<'_>,
    ) -> Result<()> {
        Store::read_stream(self, stream, versions, f)
    }

    fn each_stream_row(
        &self,
        stream: &str,
        versions: RangeInclusive<i64>,
        columns: Columns,
        f: &mut RowFn<'_>,
    ) -> Result<()> {
        Store::read_stream_rows(self, stream, versions, columns, f)
    }

    fn each_stream_payload(
        &self,
        stream: &str,
        versions: RangeInclusive<i64>,
        f: &mut PayloadFn<'_>,
    ) -> Result<Option<()>> {
        Store::read_stream_payloads(self, stream, versions, f)
    }

    fn each_log_event(&self, filter: &LogFilter, f: &mut EventFn<'_>) -> Result<()> {
        Store::read_log(self, filter, f)
    }

    fn each_log_row(&self, filter: &LogFilter, f: &mut RowFn<'_>) -> Result<()> {
        Store::read_log_rows(self, filter, f)
    }

    fn each_kept_event(
        &self,
        filter: &LogFilter,
        keep: &mut KeepFn<'_>,
        f: &mut EventFn<'_>,
    ) -> Result<()> {
        Store::search_log(self, filter, keep, f)
    }

    fn each_time(&self, filter: &LogFilter, f: &mut TimeFn<'_>) -> Result<()> {
        Store::for_each_time(self, filter, f)
    }

    fn bad_versions(&self) -> Result<Vec<BadVersion>> {
        Store::bad_versions(self)
    }

    fn table_rows(
        &self,
        table: &str,
        columns: &[String],
        f: &mut super::table_rows::TableRowFn<'_>,
    ) -> Result<()> {
        Store::table_rows(self, table, columns, f)
    }

    fn consumer_records(
        &self,
        spec: Option<&super::consumers::ConsumerSpec>,
    ) -> Result<Vec<super::consumers::ConsumerRecord>> {
        Store::consumer_records(self, spec)
    }

    fn log_tail(
        &self,
        after: i64,
        follows: &super::consumers::Follows,
        limit: Option<i64>,
    ) -> Result<super::consumers::Tail> {
        Store::log_tail(self, after, follows, limit)
    }

    fn count_after(&self, after: i64) -> Result<i64> {
        Store::count_after(self, after)
    }

    fn last_position(&self) -> Result<i64> {
        Store::last_position(self)
    }

    fn snapshots(&self, stream: Option<&str>) -> Result<Vec<Snapshot>> {
        Store::snapshots(self, stream)
    }

    fn latest_snapshot(&self, stream: &str, version: i64) -> Result<Option<Snapshot>> {
        Store::latest_snapshot(self, stream, version)
    }

    fn snapshot_versions_of(&self, stream: &str) -> Result<Vec<i64>> {
        Store::snapshot_versions_of(self, stream)
    }

    fn subscribe(&self, after: i64) -> Result<Box<dyn Follow>> {
        Ok(Box::new(Store::subscribe(self, after)?))
    }

    fn streams_of_category(&self, category: &str) -> Result<Vec<String>> {
        Store::streams_of_category(self, category)
    }

    fn activity(&self) -> Result<std::collections::HashMap<String, Activity>> {
        Store::activity(self)
    }

    fn find_event(&self, id: &str) -> Result<Option<Event>> {
        Store::find_event(self, id)
    }
}

impl Follow for Subscription {
    fn position(&self) -> i64 {
        Subscription::position(self)
    }

    fn poll(&mut self) -> Result<Vec<Event>> {
        Subscription::poll(self)
    }

    fn next_timeout(&mut self, timeout: Duration) -> Result<Option<Event>> {
        Subscription::next_timeout(self, timeout)
    }
}

//! The worker's answers that take more than one query: event rows, the state at the
//! playhead (with what its event changed) and diffs between marks.

use std::ops::ControlFlow;

use std::collections::HashMap;

use eventscope::replay::{diff, Change, Predicate, Skips, Traced, WhenOptions};
use eventscope::store::{LogFilter, SourceExt};
use eventscope::Event;

use super::protocol::{EventRow, Msg, Req, StateAt, Target, WorkerError};
use super::Worker;

const PREVIEW_CHARS: usize = 160;

/// The Events pane's preview of a decoded event: its payload cut short, or why it could
/// not be read.
fn preview_of(e: &Event) -> String {
    match &e.undecodable {
        Some(why) => format!("⚠ {why}"),
        None => eventscope::preview(&e.data, PREVIEW_CHARS),
    }
}

/// A row of the Events pane from a row read for a test (a find's match).
pub(super) fn row_of(row: &eventscope::store::StreamRow<'_>, key: i64) -> EventRow {
    use eventscope::store::StreamRow;
    match row {
        StreamRow::Raw(r) => EventRow {
            key,
            stream_id: r.stream_id.to_string(),
            version: r.version,
            event_type: r.event_type.to_string(),
            timestamp: r.timestamp.map(str::to_string),
            preview: match serde_json::from_slice(r.data) {
                Ok(v) => eventscope::preview(&v, PREVIEW_CHARS),
                Err(e) => format!("⚠ {e}"),
            },
            snapshot: false,
        },
        StreamRow::Event(e) => EventRow {
            key,
            stream_id: e.stream_id.clone(),
            version: e.version,
            event_type: e.event_type.clone(),
            timestamp: e.timestamp.clone(),
            preview: preview_of(e),
            snapshot: false,
        },
    }
}

impl Worker<'_, '_> {
    pub(super) fn rows(
        &self,
        target: &Target,
        from: i64,
        to: i64,
    ) -> Result<Vec<EventRow>, WorkerError> {
        let mut rows = Vec::new();
        let snapshots = match target {
            Target::Stream(s) => self.store.snapshot_versions_of(s)?,
            Target::All | Target::Category(_) => Vec::new(),
        };
        let mut push = |e: Event, key: i64| {
            let preview = preview_of(&e);
            rows.push(EventRow {
                key,
                stream_id: e.stream_id,
                version: e.version,
                event_type: e.event_type,
                snapshot: snapshots.binary_search(&e.version).is_ok(),
                timestamp: e.timestamp,
                preview,
            });
        };
        match target {
            Target::Stream(s) => self.store.read_stream(s, from..=to, |e| {
                let key = e.version;
                push(e, key);
                Ok::<_, eventscope::store::StoreError>(ControlFlow::Continue(()))
            })?,
            Target::Category(c) => {
                let filter = LogFilter {
                    streams: Some(self.category_streams(c)?),
                    offset: (from - 1).max(0) as usize,
                    limit: Some((to - from + 1).max(0) as usize),
                    ..Default::default()
                };
                let mut key = from.max(1);
                self.store.read_log(&filter, |e| {
                    push(e, key);
                    key += 1;
                    Ok::<_, eventscope::store::StoreError>(ControlFlow::Continue(()))
                })?
            }
            Target::All => {
                let filter = LogFilter {
                    from_position: from,
                    limit: Some((to - from + 1).max(0) as usize),
                    ..Default::default()
                };
                self.store.read_log(&filter, |e| {
                    if e.global_position > to {
                        return Ok(ControlFlow::Break(()));
                    }
                    let key = e.global_position;
                    push(e, key);
                    Ok::<_, eventscope::store::StoreError>(ControlFlow::Continue(()))
                })?
            }
        }
        Ok(rows)
    }

    fn event_at(&self, target: &Target, key: i64) -> Result<Option<Event>, WorkerError> {
        Ok(match target {
            Target::Stream(s) => self.store.event_at_version(s, key)?,
            Target::All => self.store.event_at_position(key)?,
            Target::Category(c) => {
                let filter = LogFilter {
                    streams: Some(self.category_streams(c)?),
                    offset: (key - 1).max(0) as usize,
                    limit: Some(1),
                    ..Default::default()
                };
                let mut found = None;
                self.store.read_log(&filter, |e| {
                    found = Some(e);
                    Ok::<_, eventscope::store::StoreError>(ControlFlow::Break(()))
                })?;
                found
            }
        })
    }

    /// A category's stream ids, asked of the store once per worker.
    fn category_streams(&self, category: &str) -> Result<Vec<String>, WorkerError> {
        if let Some(s) = self.s.categories.borrow().get(category) {
            return Ok(s.clone());
        }
        let streams = self.store.streams_of_category(category)?;
        self.s
            .categories
            .borrow_mut()
            .insert(category.to_string(), streams.clone());
        Ok(streams)
    }

    /// Every stream of the category as of its `key`th event.
    pub(super) fn category_state(
        &self,
        category: &str,
        key: i64,
    ) -> Result<Vec<eventscope::replay::StreamState>, WorkerError> {
        let target = Target::Category(category.to_string());
        let position = match self.event_at(&target, key)? {
            Some(e) => e.global_position,
            None => return Err(WorkerError::NoEventAt(key)),
        };
        // Under the worker's guard; a stream the reducer fails or hangs on shows its error
        // and the others their states, as the stream view goes on past a failure.
        let stopped = |stream: &str, version: i64| {
            self.replayer.left_out(stream, version).map(str::to_string)
        };
        let guard = eventscope::replay::CategoryGuard {
            watch: Some(&self.watch),
            keep_going: true,
            stopped: Some(&stopped),
        };
        Ok(eventscope::replay::category_at_position(
            self.store,
            self.reducer,
            category,
            position,
            guard,
        )?)
    }

    /// The state at the playhead, or `None` when more urgent requests came in meanwhile:
    /// then this one waits behind them (unless a newer seek replaced it) and resumes from
    /// the checkpoints it reached.
    pub(super) fn state(
        &mut self,
        target: &Target,
        key: i64,
        skips: &[i64],
    ) -> Option<Result<Box<StateAt>, WorkerError>> {
        let result = self.state_now(target, key, skips);
        if result.is_none() {
            self.s.queue.push_back_unless_newer(Req::State {
                target: target.clone(),
                key,
                skips: skips.to_vec(),
            });
        }
        result
    }

    fn state_now(
        &mut self,
        target: &Target,
        key: i64,
        skips: &[i64],
    ) -> Option<Result<Box<StateAt>, WorkerError>> {
        if !skips.is_empty() {
            return Some(self.what_if_state(target, key, skips));
        }
        let event = match self.event_at(target, key) {
            Ok(e) => e,
            Err(e) => return Some(Err(e)),
        };
        // A version with no event shows the state after the last event below it, as the
        // CLI does, and nothing changed there.
        let (stream, version) = match (&event, target) {
            (Some(e), _) => (e.stream_id.clone(), e.version),
            (None, Target::Stream(s)) => (s.clone(), key),
            (None, Target::All | Target::Category(_)) => {
                return Some(Err(WorkerError::NoEventAt(key)))
            }
        };
        // Fold to the version before first, so the event itself is one step from there.
        let before = if event.is_some() {
            match self.seek(target, key, &stream, version - 1) {
                Ok(Some(s)) => Some(s),
                Ok(None) => return None,
                Err(e) => return Some(Err(e)),
            }
        } else {
            None
        };
        let after = match self.seek(target, key, &stream, version) {
            Ok(Some(s)) => s,
            Ok(None) => return None,
            Err(e) => return Some(Err(e)),
        };
        let changed = before.map_or_else(Vec::new, |b| diff(&b.state, &after.state));
        let category = match self.replayer.category(&stream) {
            Ok(c) => c,
            Err(e) => return Some(Err(e.into())),
        };
        Some(Ok(Box::new(StateAt {
            error: self.replayer.failure(&stream, version).map(str::to_string),
            failed_before: self.replayer.failures_up_to(&stream, version - 1),
            reducer: self.reducer.describe(&category),
            merge: self.reducer.is_merge_for(&category),
            from_snapshot: after.from_snapshot,
            warnings: self.replayer.take_warnings(),
            snapshot: self.snapshot_at(&stream, version),
            stream_id: stream,
            version,
            state: after.state,
            changed,
            stored: self.stored_event(event.as_ref()),
            event,
            what_if: Vec::new(),
        })))
    }

    /// The stored form of an event an upcaster made, for the Event tab to show beside it.
    fn stored_event(&self, event: Option<&eventscope::Event>) -> Option<Box<eventscope::Event>> {
        let e = event.filter(|e| e.upcast)?;
        self.stored
            .event_at_version(&e.stream_id, e.version)
            .ok()
            .flatten()
            .map(Box::new)
    }

    fn skips(versions: &[i64]) -> Skips {
        Skips {
            versions: versions.iter().copied().collect(),
            types: Default::default(),
        }
    }

    /// The state at `key` of a stream as if `skips` never happened: no progress, no
    /// interruption (a what-if restarts from the checkpoint before the first skip).
    fn what_if_state(
        &mut self,
        target: &Target,
        key: i64,
        skips: &[i64],
    ) -> Result<Box<StateAt>, WorkerError> {
        let Target::Stream(stream) = target else {
            return Err(WorkerError::NeedsStream);
        };
        let set = Self::skips(skips);
        let event = self.event_at(target, key)?;
        let after = self.replayer.what_if(stream, key, &set)?;
        let before = match &event {
            Some(_) if !set.versions.contains(&key) => {
                Some(self.replayer.what_if(stream, key - 1, &set)?)
            }
            _ => None,
        };
        let changed = before.map_or_else(Vec::new, |b| diff(&b.state, &after.state));
        let category = self.replayer.category(stream)?;
        Ok(Box::new(StateAt {
            error: None,
            failed_before: (0, None),
            reducer: self.reducer.describe(&category),
            merge: self.reducer.is_merge_for(&category),
            from_snapshot: after.from_snapshot,
            warnings: self.replayer.take_warnings(),
            snapshot: self.snapshot_at(stream, key),
            stream_id: stream.clone(),
            version: key,
            state: after.state,
            changed,
            stored: self.stored_event(event.as_ref()),
            event,
            what_if: skips.to_vec(),
        }))
    }

    pub(super) fn blame(
        &mut self,
        target: &Target,
        key: i64,
        skips: &[i64],
    ) -> Result<HashMap<String, i64>, WorkerError> {
        let (stream, version) = match target {
            Target::Stream(s) => (s.clone(), key),
            Target::All | Target::Category(_) => self
                .event_at(target, key)?
                .map(|e| (e.stream_id, e.version))
                .ok_or(WorkerError::NoEventAt(key))?,
        };
        let lines = eventscope::replay::blame(
            self.store,
            self.reducer,
            &stream,
            Some(version),
            &Self::skips(skips),
            Some(&self.watch),
        )?;
        Ok(lines.into_iter().map(|l| (l.path, l.version)).collect())
    }

    pub(super) fn when(
        &mut self,
        target: &Target,
        code: &str,
        skips: &[i64],
    ) -> Result<Vec<i64>, WorkerError> {
        let Target::Stream(stream) = target else {
            return Err(WorkerError::NeedsStream);
        };
        let predicate =
            Predicate::compile(code).map_err(|e| WorkerError::Predicate(e.to_string()))?;
        let options = WhenOptions {
            all: true,
            strict: false,
        };
        let hits = eventscope::replay::when(
            self.store,
            self.reducer,
            stream,
            &predicate,
            options,
            &Self::skips(skips),
            Some(&self.watch),
        )?;
        Ok(hits.into_iter().map(|h| h.version).collect())
    }

    fn snapshot_at(&self, stream: &str, version: i64) -> Option<Result<serde_json::Value, String>> {
        let snap = match self.store.latest_snapshot(stream, version) {
            Ok(s) => s?,
            Err(e) => return Some(Err(e.to_string())),
        };
        if snap.version != version {
            return None;
        }
        Some(match snap.unreadable {
            Some(why) => Err(why),
            None => Ok(snap.data),
        })
    }

    /// Folds to `version`, reporting progress; `None` when interrupted.
    fn seek(
        &mut self,
        target: &Target,
        key: i64,
        stream: &str,
        version: i64,
    ) -> Result<Option<Traced>, WorkerError> {
        let replies = self.s.replies.clone();
        let requests = &self.s.requests;
        let queue = &mut self.s.queue;
        let mut progress = |done: i64| {
            let _ = replies.send(Msg::Progress {
                target: target.clone(),
                key,
                done,
                total: version,
            });
            while let Ok(r) = requests.try_recv() {
                queue.push(r);
            }
            if queue.interrupts_replay() {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        };
        Ok(self
            .replayer
            .state_at_with(stream, version, &mut progress)?)
    }

    pub(super) fn diff(
        &mut self,
        target: &Target,
        a: i64,
        b: i64,
        skips: &[i64],
    ) -> Result<Vec<Change>, WorkerError> {
        let resolve = |w: &Worker, key: i64| -> Result<(String, i64), WorkerError> {
            match target {
                Target::Stream(s) => Ok((s.clone(), key)),
                Target::All | Target::Category(_) => w
                    .event_at(target, key)?
                    .map(|e| (e.stream_id, e.version))
                    .ok_or(WorkerError::NoEventAt(key)),
            }
        };
        let (sa, va) = resolve(self, a)?;
        let (sb, vb) = resolve(self, b)?;
        if sa != sb {
            return Err(WorkerError::MarksInTwoStreams { a: sa, b: sb });
        }
        if a == b {
            // One point: the real state there → the what-if one, with skips; else the
            // change its own event made (the state after the version below it: versions
            // may have gaps, or start at 0).
            let (old, new) = if skips.is_empty() {
                let before = self.replayer.state_at(&sa, va.saturating_sub(1))?;
                (before, self.replayer.state_at(&sa, va)?)
            } else {
                let real = self.replayer.state_at(&sa, va)?;
                let set = Self::skips(skips);
                (real, self.replayer.what_if(&sa, va, &set)?.state)
            };
            return Ok(diff(&old, &new));
        }
        if !skips.is_empty() {
            let set = Self::skips(skips);
            let old = self.replayer.what_if(&sa, va, &set)?;
            let new = self.replayer.what_if(&sb, vb, &set)?;
            return Ok(diff(&old.state, &new.state));
        }
        let old = self.replayer.state_at(&sa, va)?;
        let new = self.replayer.state_at(&sb, vb)?;
        Ok(diff(&old, &new))
    }
}

//! How the app takes the worker's answers: each one is applied only if it is still for
//! what the app shows (the same view, the same playhead). Returns whether the screen
//! changed.

use eventscope::store::StreamInfo;

use super::App;
use crate::tui::model::ROWS_KEPT;
use crate::tui::worker::{Appended, Msg, Req, Target, WorkerError};

/// Worker deaths the UI recovers from before it stops starting new workers.
const MAX_WORKER_DEATHS: u32 = 20;

impl App {
    pub(super) fn on_worker(&mut self, msg: Msg) -> bool {
        // A view that keeps its own answers takes them first.
        let Some(msg) = self.inspector.on_answer(msg, &mut self.model) else {
            return true;
        };
        let msg = match (&mut self.types, msg) {
            (Some(t), msg) => match t.on_answer(msg) {
                Some(msg) => msg,
                None => return true,
            },
            (None, msg) => msg,
        };
        let m = &mut self.model;
        let matches = |t: &Target| m.view.as_ref().is_some_and(|v| &v.target == t);
        match msg {
            Msg::Streams {
                streams,
                last_position,
                has_times,
            } => {
                let c = &mut m.catalog;
                c.streams = streams;
                c.reindex();
                c.last_position = last_position;
                c.has_times = has_times;
                c.loaded = true;
                self.streams.rebuild(&self.model.catalog);
                self.reopen_view();
            }
            Msg::Fixture {
                stream,
                version,
                result,
            } => match result {
                Ok(text) => self.write_export(&format!("{stream}-v{version}"), "ndjson", &text),
                Err(e) => m.warn(format!("cannot export {stream} as a fixture: {e}")),
            },
            Msg::Consumers(Ok(list)) => {
                m.catalog.set_consumers(list, std::time::Instant::now());
                self.streams.rebuild(&self.model.catalog);
            }
            Msg::Consumers(Err(e)) => {
                if self.consumers.is_some() {
                    m.warn(format!("consumers: {e}"));
                }
            }
            Msg::Activity(activity) => {
                m.catalog.activity = activity;
                self.streams.rebuild(&self.model.catalog);
            }
            Msg::Rows {
                target,
                from,
                to,
                rows,
            } if matches(&target) => {
                if let Some(v) = &mut m.view {
                    v.rows_known = (from, to);
                    v.rows.retain(|k, _| !(from..=to).contains(k));
                    for r in rows {
                        v.rows.entry(r.key).or_default().push(r);
                    }
                    let p = v.playhead;
                    v.rows
                        .retain(|k, _| (p - ROWS_KEPT..=p + ROWS_KEPT).contains(k));
                }
            }
            Msg::Progress {
                target,
                key,
                done,
                total,
            } if matches(&target) => {
                if let Some(v) = m.view.as_mut().filter(|v| v.playhead == key) {
                    v.progress = Some((done, total));
                }
            }
            Msg::State {
                target,
                key,
                result,
            } if matches(&target) => {
                if let Ok(s) = &result {
                    if let Some(w) = s.warnings.last() {
                        m.warn(w.clone());
                    }
                }
                if let Some(v) = &mut m.view {
                    if key == v.playhead {
                        v.progress = None;
                        v.state = Some((key, result));
                        v.state_seq += 1;
                    }
                }
                self.inspector.on_view_changed(&self.model);
            }
            Msg::Diff {
                target,
                a,
                b,
                result,
            } if matches(&target) => {
                if let Some(v) = &mut m.view {
                    v.diff = Some(((a, b), result));
                }
            }
            Msg::CategoryState {
                target,
                key,
                result,
            } if matches(&target) => {
                if let Some(v) = &mut m.view {
                    if key == v.playhead {
                        v.progress = None;
                        v.category = Some((key, result));
                    }
                }
                self.inspector.on_view_changed(&self.model);
            }
            Msg::Found {
                target,
                find,
                keys,
                rows,
                scanned,
                next,
                result,
            } if matches(&target) => {
                let done = next.is_none();
                if !m.on_found(find, keys, rows, scanned, done, result) {
                    return false;
                }
            }
            Msg::Related { result, .. } => match result {
                Ok((title, lines)) => {
                    m.status = None;
                    self.related =
                        Some(crate::tui::components::related::Related::new(title, lines));
                }
                Err(e) => m.warn(e.to_string()),
            },
            Msg::When {
                target,
                predicate,
                result,
            } if matches(&target) => m.on_when(predicate, result),
            Msg::History {
                target,
                paths,
                result,
            } => m.on_history(target, paths, result),
            Msg::Density {
                target,
                counts,
                snapshots,
            } if matches(&target) => {
                if let Some(v) = &mut m.view {
                    v.density = counts;
                    v.snapshots = snapshots;
                }
            }
            Msg::TimeResolved { target, key, step } if matches(&target) => {
                self.on_time_resolved(key, step)
            }
            Msg::Appended { events } => self.on_appended(events),
            Msg::Pending { after, count } if after == m.catalog.last_position && !m.following => {
                if m.pending == count {
                    return false;
                }
                m.pending = count;
            }
            Msg::ReducerReloaded(Ok(())) => {
                // A worker started after this must not skip what the old reducer hung on.
                m.timed_out.clear();
                m.say("reducer reloaded");
                m.reask_view();
            }
            Msg::ReducerReloaded(Err(e)) => {
                m.warn(format!("reducer not reloaded, the old one is kept: {e}"));
            }
            Msg::ReducerTimeout(t) => self.on_reducer_timeout(t),
            Msg::WorkerDied(during) => self.on_worker_died(during),
            Msg::Connection(Some(lost)) => m.warn(lost),
            Msg::Connection(None) => m.say("reconnected"),
            Msg::SnapshotsRefused(why) => {
                m.from_snapshots = false;
                m.warn(why);
            }
            Msg::Failed {
                error: WorkerError::Locked,
                retry,
            } => {
                m.warn(WorkerError::Locked.to_string());
                // Asked again on the next tick, when the writer may be done.
                self.retry.extend(retry);
            }
            Msg::Failed { error, .. } => {
                // A step that failed is not added to.
                m.time_step = None;
                m.warn(error.to_string());
            }
            _ => return false,
        }
        true
    }

    fn on_time_resolved(&mut self, key: Option<i64>, step: Option<crate::tui::worker::TimeStep>) {
        let m = &mut self.model;
        if step.is_some() && m.time_step.as_ref().map(|(_, s)| s) == step.as_ref() {
            m.time_step = None;
        }
        let Some(view) = &m.view else { return };
        let playhead = view.playhead;
        let span = |s: i64| match s.abs() {
            86_400 => "a day".to_string(),
            3_600 => "an hour".to_string(),
            s if s % 86_400 == 0 => format!("{} days", s / 86_400),
            s => format!("{} hours", s / 3_600),
        };
        match (key, step) {
            (Some(k), None) => m.jump(k),
            (None, None) => m.warn("no event at or before that time"),
            // Forward with nothing new within the span: on to the next event, said so.
            (Some(k), Some(s)) if s.seconds > 0 && k <= playhead => {
                m.step(1);
                m.say(format!(
                    "no event within {} after this one: went to the next event",
                    span(s.seconds)
                ));
            }
            (Some(k), Some(_)) => m.seek(k),
            (None, Some(s)) => {
                m.seek(i64::MIN);
                m.say(format!(
                    "no event {} or more before this one: went to the first event",
                    span(s.seconds)
                ));
            }
        }
    }

    /// The worker is stuck in the reducer: a new one takes over, skipping that event, and
    /// everything in flight is asked for again.
    fn on_reducer_timeout(&mut self, t: eventscope::replay::TimedOut) {
        let m = &mut self.model;
        m.warn(t.to_string());
        use eventscope::replay::Program;
        // Only a reducer's hang is skipped by the next worker; the other programs' answers
        // end with the error instead (a find, a `when`), or stop being used (a mapping).
        match t.kind {
            Program::Reducer => m.timed_out.push(t),
            // An upcaster runs on every read of the event: the next worker reads as stored.
            Program::Upcaster => {
                m.upcasters_off = true;
                m.warn("upcasting stopped: events are shown as stored");
            }
            Program::Where => {
                if let Some(f) = m.view.as_mut().and_then(|v| v.found.as_mut()) {
                    f.error = Some(t.to_string());
                    f.done = true;
                }
            }
            Program::Predicate => {
                if let Some((_, answer)) = m.view.as_mut().and_then(|v| v.when.as_mut()) {
                    *answer = Err(WorkerError::Predicate(t.to_string()));
                }
            }
            Program::Mapping => m.from_snapshots = false,
            // The TUI's export redacts nothing.
            Program::Redact | Program::ReadModel => {}
        }
        m.replace_worker = true;
        m.outbox.clear();
        m.ask_again();
    }

    /// The worker process ended without a word (killed by the system, or a crash). The next
    /// worker journals its jq calls, so that a death inside one names the event, which is
    /// then skipped as a hung one is; deaths outside any call are retried a few times.
    fn on_worker_died(&mut self, during: Option<eventscope::replay::TimedOut>) {
        let m = &mut self.model;
        m.worker_deaths += 1;
        if let Some(mut t) = during {
            if m.worker_deaths <= MAX_WORKER_DEATHS {
                t.died = true;
                self.model.unexplained_deaths = 0;
                self.on_reducer_timeout(t);
                return;
            }
        }
        m.unexplained_deaths += 1;
        if m.unexplained_deaths > 3 || m.worker_deaths > MAX_WORKER_DEATHS {
            m.warn("the worker process keeps stopping outside any jq program; quit and check the store and --reducer");
            return;
        }
        m.warn("the worker process stopped; a new one journals its calls to find the event it stops at");
        m.replace_worker = true;
        m.outbox.clear();
        m.ask_again();
    }

    fn on_appended(&mut self, events: Vec<Appended>) {
        let c = &mut self.model.catalog;
        for e in events {
            if e.position <= c.last_position {
                continue; // Already counted: the list was loaded after it.
            }
            c.last_position = e.position;
            let activity = c.activity.entry(e.stream_id.clone()).or_insert_with(|| {
                eventscope::store::Activity {
                    last_position: 0,
                    last_time: None,
                }
            });
            activity.last_position = e.position;
            activity.last_time = e.timestamp.clone();
            match c.index.get(&e.stream_id) {
                Some(&i) => {
                    let s = &mut c.streams[i];
                    s.events += 1;
                    s.last_version = s.last_version.max(e.version);
                }
                None => {
                    c.index.insert(e.stream_id.clone(), c.streams.len());
                    c.streams.push(StreamInfo {
                        stream_id: e.stream_id,
                        category: e.category,
                        events: 1,
                        first_version: e.version,
                        last_version: e.version,
                        bad_versions: 0,
                        events_estimated: false,
                    });
                }
            }
        }
        self.streams.rebuild(&self.model.catalog);
        self.reopen_view();
    }

    /// Brings the open view's length up to date with the stream list.
    fn reopen_view(&mut self) {
        let m = &mut self.model;
        let Some(v) = &m.view else { return };
        let new_len = match &v.target {
            Target::All => m.catalog.last_position,
            Target::Category(c) => m.category_len(c),
            Target::Stream(id) => m.stream_len(id),
        };
        let Some(v) = &mut m.view else { return };
        if new_len == v.len {
            return;
        }
        let at_end = v.playhead == v.len;
        if m.following && !at_end {
            m.unseen += new_len - v.len;
        }
        v.len = new_len;
        v.rows_requested = (0, -1);
        if m.following && at_end {
            m.seek(i64::MAX);
        } else {
            m.ensure_rows();
        }
    }

    /// Requests that failed on a lock, asked again (on a tick).
    pub(super) fn take_retries(&mut self) -> Vec<Req> {
        std::mem::take(&mut self.retry)
    }
}

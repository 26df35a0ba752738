//! How the app takes the worker's answers: each one is applied only if it is still for
//! what the app shows (the same view, the same playhead).

use eventscope::store::StreamInfo;

use super::{App, Req, ROWS_KEPT};
use crate::tui::worker::{Appended, Msg, Target};

impl App {
    pub(super) fn on_worker(&mut self, msg: Msg) {
        let matches = |app: &App, t: &Target| app.view.as_ref().is_some_and(|v| &v.target == t);
        match msg {
            Msg::Streams {
                streams,
                last_position,
            } => {
                self.streams = streams;
                self.reindex_streams();
                self.last_position = last_position;
                self.streams_loaded = true;
                self.rebuild_list();
                self.reopen_view();
            }
            Msg::Rows {
                target,
                from,
                to,
                rows,
            } if matches(self, &target) => {
                if let Some(v) = &mut self.view {
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
            } if matches(self, &target) => {
                if let Some(v) = self.view.as_mut().filter(|v| v.playhead == key) {
                    v.progress = Some((done, total));
                }
            }
            Msg::State {
                target,
                key,
                result,
            } if matches(self, &target) => {
                if let Ok(s) = &result {
                    if let Some(w) = s.warnings.last() {
                        self.status = Some((w.clone(), true));
                    }
                }
                if let Some(v) = &mut self.view {
                    if key == v.playhead {
                        v.progress = None;
                        v.state = Some((key, result));
                    }
                }
                self.reflatten();
            }
            Msg::Diff {
                target,
                a,
                b,
                result,
            } if matches(self, &target) => {
                if let Some(v) = &mut self.view {
                    v.diff = Some(((a, b), result));
                }
            }
            Msg::Density {
                target,
                counts,
                snapshots,
            } if matches(self, &target) => {
                if let Some(v) = &mut self.view {
                    v.density = counts;
                    v.snapshots = snapshots;
                }
            }
            Msg::TimeResolved { target, key } if matches(self, &target) => match key {
                Some(k) => self.seek(k),
                None => self.status = Some(("no event at or before that time".into(), true)),
            },
            Msg::Appended { events } => self.on_appended(events),
            Msg::Pending { after, count } if after == self.last_position && !self.following => {
                self.pending = count;
            }
            Msg::ReducerTimeout(t) => self.on_reducer_timeout(t),
            Msg::WorkerDied => self.on_worker_died(),
            Msg::SnapshotsRefused(why) => {
                self.from_snapshots = false;
                self.status = Some((why, true));
            }
            Msg::Error(e) => self.status = Some((e, true)),
            _ => {}
        }
    }

    /// The worker is stuck in the reducer: a new one takes over, skipping that event, and
    /// everything in flight is asked for again.
    fn on_reducer_timeout(&mut self, t: eventscope::replay::TimedOut) {
        self.status = Some((t.to_string(), true));
        self.timed_out.push(t);
        self.replace_worker = true;
        self.outbox.clear();
        self.ask_again();
    }

    /// The worker process ended without a word: most likely a reducer recursed until its
    /// stack overflowed. A new one takes over a few times; then the UI stops asking.
    fn on_worker_died(&mut self) {
        self.worker_deaths += 1;
        if self.worker_deaths > 3 {
            self.status = Some((
                "the worker process keeps stopping (does a reducer recurse without end?); quit and check --reducer".into(),
                true,
            ));
            return;
        }
        self.status = Some((
            "the worker process stopped (a reducer that recurses without end overflows the stack); started a new one".into(),
            true,
        ));
        self.replace_worker = true;
        self.outbox.clear();
        self.ask_again();
    }

    /// Asks a new worker for everything on screen.
    pub(in crate::tui) fn ask_again(&mut self) {
        if !self.streams_loaded {
            self.outbox.push(Req::Streams);
        }
        if self.following {
            self.outbox.push(Req::Follow(Some(self.last_position)));
        }
        self.reask_view();
    }

    fn on_appended(&mut self, events: Vec<Appended>) {
        for e in events {
            if e.position <= self.last_position {
                continue; // Already counted: the list was loaded after it.
            }
            self.last_position = e.position;
            match self.stream_index.get(&e.stream_id) {
                Some(&i) => {
                    let s = &mut self.streams[i];
                    s.events += 1;
                    s.last_version = s.last_version.max(e.version);
                }
                None => {
                    self.stream_index
                        .insert(e.stream_id.clone(), self.streams.len());
                    self.streams.push(StreamInfo {
                        stream_id: e.stream_id,
                        category: e.category,
                        events: 1,
                        first_version: e.version,
                        last_version: e.version,
                        bad_versions: 0,
                    });
                }
            }
        }
        self.rebuild_list();
        self.reopen_view();
    }

    /// Brings the open view's length up to date with the stream list.
    fn reopen_view(&mut self) {
        let Some(v) = &mut self.view else { return };
        let new_len = match &v.target {
            Target::All => self.last_position,
            Target::Stream(id) => {
                let id = id.clone();
                self.stream_len(&id)
            }
        };
        let Some(v) = &mut self.view else { return };
        if new_len == v.len {
            return;
        }
        v.len = new_len;
        v.rows_requested = (0, -1);
        if self.following {
            self.seek(i64::MAX);
        } else {
            self.ensure_rows();
        }
    }
}

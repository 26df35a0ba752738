//! What the components share: the store's streams, the opened stream with its playhead
//! and marks, settings, the status line and the requests for the worker (`outbox`). The
//! components own how they show it; this owns what there is.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use eventscope::replay::Change;
use eventscope::store::consumers::Consumer;
use eventscope::store::{Activity, StreamInfo};

mod find;
mod pins;
mod when;

pub use find::Found;
pub use pins::Pins;

use super::keymap::Keymap;
use super::theme::Theme;
use super::worker::{EventRow, Req, StateAt, Target, WorkerError};

/// Where the playhead was: the view's target and key.
pub type Spot = (Target, i64);

/// The playhead's jumps (a version, a time, a `when` or find match, a blame, another
/// stream), walked back and forward as vim's jumplist is.
#[derive(Debug, Default)]
pub struct Jumps {
    pub back: Vec<Spot>,
    pub forward: Vec<Spot>,
}

/// Jumps remembered; older ones are forgotten.
const JUMPS_KEPT: usize = 100;

impl Jumps {
    /// Remembers `from` before a jump; a new jump forgets the way forward.
    pub fn record(&mut self, from: Spot) {
        self.forward.clear();
        if self.back.last() != Some(&from) {
            self.back.push(from);
        }
        if self.back.len() > JUMPS_KEPT {
            self.back.remove(0);
        }
    }
}

/// The compared pair of keys and the changes between them.
pub type DiffResult = ((i64, i64), Result<Vec<Change>, WorkerError>);

/// Rows fetched on each side of the playhead.
const ROWS_AROUND: i64 = 100;
/// Rows kept on each side; farther ones are dropped.
pub const ROWS_KEPT: i64 = 300;
/// Buckets of the density sparkline.
pub const DENSITY_BUCKETS: usize = 200;

/// An opened stream (or the global log) and where the playhead is on it.
#[derive(Debug, Clone)]
pub struct View {
    pub target: Target,
    /// The first key: a stream's first stored version (0 or 1, usually), 1 in the log.
    pub first: i64,
    /// The last key: version for a stream, global position for the log.
    pub len: i64,
    pub playhead: i64,
    /// Rows near the playhead, by key (several where events share a version); the rest
    /// are fetched when needed.
    pub rows: BTreeMap<i64, Vec<EventRow>>,
    pub rows_requested: (i64, i64),
    /// The keys the last rows answer covered; a key in it without a row has no event.
    pub rows_known: (i64, i64),
    pub mark_a: Option<i64>,
    pub mark_b: Option<i64>,
    /// The newest state received and the key it is for.
    pub state: Option<(i64, Result<Box<StateAt>, WorkerError>)>,
    /// Counts the states received, so views notice a new state for the same key (after
    /// a reducer reload).
    pub state_seq: u64,
    /// Replay progress towards the playhead: events done, events to do.
    pub progress: Option<(i64, i64)>,
    pub diff: Option<DiffResult>,
    pub diff_requested: Option<(i64, i64)>,
    pub density: Vec<u64>,
    /// Versions the store keeps a snapshot at.
    pub snapshots: Vec<i64>,
    /// Events left out (what-if), by version; states and diffs are asked without them.
    pub skips: BTreeSet<i64>,
    /// Where a second reducer first parts from the first (the Compare tab's answer),
    /// for the timeline.
    pub divergence: Option<i64>,
    /// The `when` predicate and the versions where it turns true.
    pub when: Option<(String, Result<Vec<i64>, WorkerError>)>,
    /// For a category: every stream as of the key's event.
    pub category: Option<(i64, CategoryResult)>,
    /// The Events pane's search and what it found so far.
    pub found: Option<Found>,
    /// The Events pane lists only the search's matches (less's `&`).
    pub only_found: bool,
}

/// (version, value) points of a plotted field, or why not.
pub type PlotResult = Result<Vec<(i64, f64)>, WorkerError>;

/// Every stream of a category and its state, or why not.
pub type CategoryResult = Result<Vec<eventscope::replay::StreamState>, WorkerError>;

impl View {
    pub fn new(target: Target, first: i64, len: i64) -> View {
        View {
            target,
            first,
            len,
            playhead: len,
            rows: BTreeMap::new(),
            rows_requested: (0, -1),
            rows_known: (0, -1),
            mark_a: None,
            mark_b: None,
            state: None,
            state_seq: 0,
            progress: None,
            diff: None,
            diff_requested: None,
            density: Vec::new(),
            snapshots: Vec::new(),
            skips: BTreeSet::new(),
            divergence: None,
            when: None,
            category: None,
            found: None,
            only_found: false,
        }
    }

    /// Whether the view runs over one stream (what blame, when and what-if need).
    pub fn is_stream(&self) -> bool {
        matches!(self.target, Target::Stream(_))
    }

    /// The category's streams for the playhead, if they have arrived.
    pub fn current_category(&self) -> Option<&CategoryResult> {
        self.category
            .as_ref()
            .filter(|(k, _)| *k == self.playhead)
            .map(|(_, s)| s)
    }

    /// A key as titles name it: `v3` in a stream, `pos 12` in the log, `#12` (the rank)
    /// in a category.
    pub fn key_name(&self, key: i64) -> String {
        match self.target {
            Target::Stream(_) => format!("v{key}"),
            Target::All => format!("pos {key}"),
            Target::Category(_) => format!("#{key}"),
        }
    }

    pub fn title(&self) -> String {
        match &self.target {
            Target::All => "$all".to_string(),
            Target::Category(c) => format!("{} (category)", eventscope::printable(c)),
            Target::Stream(s) => eventscope::printable(s).into_owned(),
        }
    }

    /// No events at all: the last key is below the first.
    pub fn is_empty(&self) -> bool {
        self.len < self.first
    }

    /// The state for the playhead, if it has arrived.
    pub fn current_state(&self) -> Option<&Result<Box<StateAt>, WorkerError>> {
        self.state
            .as_ref()
            .filter(|(k, _)| *k == self.playhead)
            .map(|(_, s)| s)
    }

    /// The pair the Diff tab compares: A → B, A → playhead while B is unset, playhead → B
    /// while A is unset; with no marks, the playhead with itself, which the worker reads
    /// as the change the event there made (the real state → the what-if one, with skips),
    /// as gitui shows the selected commit's diff.
    pub fn diff_pair(&self) -> Option<(i64, i64)> {
        match (self.mark_a, self.mark_b) {
            (Some(a), Some(b)) => Some((a, b)),
            (Some(a), None) => Some((a, self.playhead)),
            (None, Some(b)) => Some((self.playhead, b)),
            (None, None) => Some((self.playhead, self.playhead)),
        }
    }

    /// The stored time of the event at the playhead, from its row or its state.
    pub fn playhead_time(&self) -> Option<String> {
        self.rows
            .get(&self.playhead)
            .and_then(|r| r.first())
            .and_then(|r| r.timestamp.clone())
            .or_else(|| match self.current_state() {
                Some(Ok(s)) => s.event.as_ref().and_then(|e| e.timestamp.clone()),
                _ => None,
            })
    }
}

/// The store's streams as the worker last reported them, plus what was appended since.
#[derive(Debug, Default)]
pub struct Catalog {
    pub streams: Vec<StreamInfo>,
    /// Where each stream id is in `streams`: ids are matched exactly, never by a sort
    /// order that SQL and Rust may not share (an INTEGER column sorts 9 before 10).
    pub index: HashMap<String, usize>,
    pub activity: HashMap<String, Activity>,
    pub loaded: bool,
    pub last_position: i64,
    pub has_times: bool,
    /// The consumers the store records, as last reported, sorted by lag.
    pub consumers: Vec<Consumer>,
    /// Each consumer's position when first seen at it, and since when: a consumer behind
    /// whose position has not moved for [`STUCK_AFTER`] while watched is stuck.
    pub consumer_since: HashMap<String, (Option<i64>, std::time::Instant)>,
}

/// How long a consumer behind may keep its position while watched before it is stuck.
pub const STUCK_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

impl Catalog {
    /// Takes a new report of the consumers, judging as stuck one that is behind and has
    /// not moved for [`STUCK_AFTER`] while the UI watched it.
    pub fn set_consumers(&mut self, mut consumers: Vec<Consumer>, now: std::time::Instant) {
        self.consumer_since
            .retain(|name, _| consumers.iter().any(|c| &c.consumer == name));
        for c in &mut consumers {
            let since = self
                .consumer_since
                .entry(c.consumer.clone())
                .or_insert((c.position, now));
            if since.0 != c.position {
                *since = (c.position, now);
            }
            if c.is_behind() && !c.stuck && now.duration_since(since.1) >= STUCK_AFTER {
                c.stuck = true;
                if !c.status_stored {
                    c.status = "stuck".into();
                }
            }
        }
        self.consumers = consumers;
    }

    /// How long a consumer has kept its position while watched.
    pub fn unmoved_for(&self, name: &str, now: std::time::Instant) -> Option<std::time::Duration> {
        self.consumer_since
            .get(name)
            .map(|(_, since)| now.duration_since(*since))
    }

    pub fn reindex(&mut self) {
        self.index = self
            .streams
            .iter()
            .enumerate()
            .map(|(i, s)| (s.stream_id.clone(), i))
            .collect();
    }

    pub fn get(&self, id: &str) -> Option<&StreamInfo> {
        self.index.get(id).map(|&i| &self.streams[i])
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    pub text: String,
    pub error: bool,
}

/// Messages the log keeps; older ones are forgotten.
pub const MESSAGES_KEPT: usize = 200;

/// A message as the log keeps it: when it was said (local wall-clock time).
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub at: String,
    pub text: String,
    pub error: bool,
}

pub struct Model {
    pub keymap: Keymap,
    pub theme: Theme,
    pub store_name: String,
    /// The layout the store is read as (`eventscope formats`), for the header.
    pub layout_name: String,
    pub reducer_name: String,
    pub catalog: Catalog,
    pub view: Option<View>,
    /// Events stored past `last_position` that the UI has not loaded (while not following).
    pub pending: i64,
    pub local_time: bool,
    pub following: bool,
    /// Events appended to the view while following with the playhead off its end: following
    /// pauses while the user looks back, as `less +F` does.
    pub unseen: i64,
    /// Whether the UI captures the mouse (off: the terminal's own selection works).
    pub mouse: bool,
    /// The time step the worker is resolving: steps pressed meanwhile add to it, so
    /// `}}}` moves three hours, not one.
    pub time_step: Option<(super::worker::Target, super::worker::TimeStep)>,
    /// Replays start from store snapshots (the `s` toggle; `--from-snapshots`).
    pub from_snapshots: bool,
    /// Fields pinned in the State tab, and their history in the open stream.
    pub pins: Pins,
    /// The upcasters events are read through (and where they were found), for the header.
    pub upcasters_name: Option<String>,
    /// An upcaster hung or failed the worker: events are read as stored from then on.
    pub upcasters_off: bool,
    /// Whether the Diff tab is showing, so diffs are worth asking for.
    pub diff_shown: bool,
    /// Counts the times the open view's answers went stale (another view, a refresh, a
    /// reducer reload, other skips): a component keeping answers of its own asks again
    /// when it changes.
    pub view_epoch: u64,
    /// A second reducer the open stream is compared with (`compare with…`).
    pub compare_with: Option<std::path::PathBuf>,
    /// The UI was opened with `--read-model`: the Read-model tab has a table to check.
    pub read_model: bool,
    pub status: Option<Status>,
    /// Every message said, the newest last (the message log).
    pub messages: std::collections::VecDeque<Message>,
    /// Where the playhead jumped from, for Back and Forward.
    pub jumps: Jumps,
    pub outbox: Vec<Req>,
    /// Text the loop puts on the terminal's clipboard (OSC 52) after drawing.
    pub clipboard: Option<String>,
    pub quit: bool,
    /// Reducer calls that timed out; when one is added, the worker must be replaced.
    pub timed_out: Vec<eventscope::replay::TimedOut>,
    pub replace_worker: bool,
    /// Worker processes that died, and those of them in a row that named no event.
    pub worker_deaths: u32,
    pub unexplained_deaths: u32,
}

impl Model {
    pub fn new(keymap: Keymap, theme: Theme, store_name: String, reducer_name: String) -> Model {
        Model {
            keymap,
            theme,
            store_name,
            layout_name: String::new(),
            reducer_name,
            catalog: Catalog::default(),
            view: None,
            pending: 0,
            local_time: false,
            following: false,
            unseen: 0,
            mouse: true,
            time_step: None,
            from_snapshots: false,
            upcasters_off: false,
            upcasters_name: None,
            pins: Pins::default(),
            diff_shown: false,
            view_epoch: 0,
            compare_with: None,
            read_model: false,
            status: None,
            messages: std::collections::VecDeque::new(),
            jumps: Jumps::default(),
            outbox: vec![Req::Streams],
            clipboard: None,
            quit: false,
            timed_out: Vec::new(),
            replace_worker: false,
            worker_deaths: 0,
            unexplained_deaths: 0,
        }
    }

    pub fn say(&mut self, text: impl Into<String>) {
        self.tell(text.into(), false);
    }

    pub fn warn(&mut self, text: impl Into<String>) {
        self.tell(text.into(), true);
    }

    /// Shows a message in the status line and keeps it in the log (once when said again).
    fn tell(&mut self, text: String, error: bool) {
        let again = self
            .messages
            .back()
            .is_some_and(|m| m.text == text && m.error == error);
        if !again {
            if self.messages.len() == MESSAGES_KEPT {
                self.messages.pop_front();
            }
            self.messages.push_back(Message {
                at: chrono::Local::now().format("%H:%M:%S").to_string(),
                text: text.clone(),
                error,
            });
        }
        self.status = Some(Status { text, error });
    }

    /// While following with the playhead off the last event: how many events came since.
    pub fn follow_paused(&self) -> Option<i64> {
        let v = self.view.as_ref()?;
        (self.following && v.playhead < v.len).then_some(self.unseen)
    }

    pub fn hint_open_first(&mut self) {
        self.say("open a stream first (Enter)");
    }

    /// How many events a category holds, from the stream list.
    pub fn category_len(&self, category: &str) -> i64 {
        self.catalog
            .streams
            .iter()
            .filter(|s| s.category == category)
            .map(|s| s.events)
            .sum()
    }

    pub fn stream_len(&self, id: &str) -> i64 {
        self.catalog.get(id).map_or(0, |s| s.last_version)
    }

    /// Opens a stream or the log at its last event.
    pub fn open(&mut self, target: Target) {
        let (first, len) = match &target {
            Target::All => (1, self.catalog.last_position),
            Target::Category(c) => (1, self.category_len(c)),
            Target::Stream(id) => (
                self.catalog.get(id).map_or(1, |s| s.first_version),
                self.stream_len(id),
            ),
        };
        self.view = Some(View::new(target.clone(), first, len));
        self.view_epoch += 1;
        self.outbox.push(Req::Density {
            target,
            buckets: DENSITY_BUCKETS,
        });
        self.seek(len);
    }

    /// Remembers where the playhead is before a jump (see [`Jumps`]).
    pub fn record_jump(&mut self) {
        if let Some(v) = &self.view {
            self.jumps.record((v.target.clone(), v.playhead));
        }
    }

    /// [`Model::seek`] as a jump: Back returns from it.
    pub fn jump(&mut self, key: i64) {
        let here = self.view.as_ref().map(|v| v.playhead);
        if here.is_some_and(|p| p != key) {
            self.record_jump();
        }
        self.seek(key);
    }

    /// Moves the playhead to `key`, clamped to the view, and asks for what it shows.
    pub fn seek(&mut self, key: i64) {
        let Some(v) = &mut self.view else { return };
        if v.is_empty() {
            return;
        }
        let key = key.clamp(v.first, v.len);
        if key == v.len {
            self.unseen = 0;
        }
        let have = v.state.as_ref().is_some_and(|(k, _)| *k == key)
            || v.category.as_ref().is_some_and(|(k, _)| *k == key);
        v.playhead = key;
        if !have {
            v.progress = None;
            self.outbox.push(Req::State {
                target: v.target.clone(),
                key,
                skips: v.skips.iter().copied().collect(),
            });
        }
        self.ensure_rows();
        self.refresh_diff();
    }

    /// Leaves the event under the playhead out of replays, or puts it back.
    pub fn toggle_skip(&mut self) {
        let Some(v) = &mut self.view else {
            return self.hint_open_first();
        };
        if !v.is_stream() {
            return self.say("open a stream (not $all or a category) to leave its events out");
        }
        let key = v.playhead;
        if !v.skips.remove(&key) {
            v.skips.insert(key);
        }
        let n = v.skips.len();
        self.what_if_changed();
        self.say(match n {
            0 => "every event is back: the real history".to_string(),
            n => format!("WHAT-IF: {} left out", eventscope::count(n as i64, "event")),
        });
    }

    pub fn clear_skips(&mut self) {
        let Some(v) = &mut self.view else { return };
        if v.skips.is_empty() {
            return;
        }
        v.skips.clear();
        self.what_if_changed();
        self.say("every event is back: the real history");
    }

    /// States, diffs, blames and `when` answers all change with the skips.
    fn what_if_changed(&mut self) {
        if let Some(v) = &mut self.view {
            if let Some((p, _)) = v.when.take() {
                self.outbox.push(Req::When {
                    target: v.target.clone(),
                    predicate: p.clone(),
                    skips: v.skips.iter().copied().collect(),
                });
                v.when = Some((p, Ok(Vec::new())));
            }
        }
        self.reask_view();
    }

    /// Moves the playhead by `d` keys.
    pub fn step(&mut self, d: i64) {
        if let Some(v) = &self.view {
            let key = v.playhead.saturating_add(d);
            self.seek(key);
        }
    }

    pub fn ensure_rows(&mut self) {
        let Some(v) = &mut self.view else { return };
        let (lo, hi) = v.rows_requested;
        let margin = ROWS_AROUND / 3;
        let low_ok = lo <= v.first || v.playhead - margin >= lo;
        let high_ok = hi >= v.len || v.playhead + margin <= hi;
        if lo <= v.playhead && v.playhead <= hi && low_ok && high_ok {
            return;
        }
        let from = (v.playhead - ROWS_AROUND).max(v.first);
        let to = (v.playhead + ROWS_AROUND).min(v.len);
        v.rows_requested = (from, to);
        self.outbox.push(Req::Rows {
            target: v.target.clone(),
            from,
            to,
        });
    }

    pub fn refresh_diff(&mut self) {
        let Some(v) = &mut self.view else { return };
        let Some(pair) = v.diff_pair() else { return };
        if !self.diff_shown || v.diff_requested == Some(pair) {
            return;
        }
        v.diff_requested = Some(pair);
        self.outbox.push(Req::Diff {
            target: v.target.clone(),
            a: pair.0,
            b: pair.1,
            skips: v.skips.iter().copied().collect(),
        });
    }

    /// Reloads the stream list and the open view, keeping the playhead and marks.
    pub fn refresh(&mut self) {
        self.pending = 0;
        self.outbox.push(Req::Streams);
        self.reask_view();
    }

    /// Asks again for all the open view shows (its rows, state, density, diff), keeping
    /// the playhead and marks.
    pub fn reask_view(&mut self) {
        self.view_epoch += 1;
        if let Some(v) = &mut self.view {
            v.rows_requested = (0, -1);
            v.diff_requested = None;
            v.state = None;
            v.category = None;
            v.divergence = None;
            v.progress = None;
            self.outbox.push(Req::State {
                target: v.target.clone(),
                key: v.playhead,
                skips: v.skips.iter().copied().collect(),
            });
            self.outbox.push(Req::Density {
                target: v.target.clone(),
                buckets: DENSITY_BUCKETS,
            });
        }
        self.ensure_rows();
        self.refresh_diff();
    }

    /// Asks a new worker for everything on screen.
    pub fn ask_again(&mut self) {
        if !self.catalog.loaded {
            self.outbox.push(Req::Streams);
        }
        if self.following {
            self.outbox
                .push(Req::Follow(Some(self.catalog.last_position)));
        }
        self.reask_view();
    }

    /// Moves the playhead by event time: to the last event at or before the playhead's
    /// time plus `seconds`.
    pub fn step_time(&mut self, seconds: i64) {
        let Some(v) = &self.view else {
            return self.hint_open_first();
        };
        if !self.catalog.has_times {
            return self.warn("this store has no event times");
        }
        let (from, seconds) = match self.time_step.take().filter(|(t, _)| *t == v.target) {
            Some((_, s)) => (s.from, s.seconds.saturating_add(seconds)),
            None => match v.playhead_time() {
                Some(from) => (from, seconds),
                None => return self.say("the playhead's time has not arrived yet"),
            },
        };
        let Some(t) = eventscope::time::parse_stored(&from) else {
            return self.warn(format!("the playhead's time {from:?} cannot be read"));
        };
        let Some(at) = chrono::Duration::try_seconds(seconds).and_then(|d| t.checked_add_signed(d))
        else {
            return self.warn("that time step goes past the calendar");
        };
        let step = super::worker::TimeStep { from, seconds };
        self.time_step = Some((v.target.clone(), step.clone()));
        self.outbox.push(Req::ResolveTime {
            target: v.target.clone(),
            at,
            step: Some(step),
        });
    }
}

//! The app's state and `update`, the one function that changes it. Store work is asked
//! of the worker through `outbox`; its answers come back as `Action::Worker`.

use std::collections::{BTreeMap, HashMap, HashSet};

use eventscope::replay::Change;
use eventscope::store::StreamInfo;

use super::action::{Action, Command};
use super::json_view;
use super::keymap::Keymap;
use super::worker::{EventRow, Req, StateAt, Target};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Streams,
    Events,
    State,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    State,
    Event,
    Diff,
}

/// A line of the streams pane.
#[derive(Debug, Clone, PartialEq)]
pub enum ListRow {
    All,
    Category {
        name: String,
        streams: usize,
    },
    /// Index into `App::streams`.
    Stream(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    Version,
    Time,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Prompt {
    pub kind: PromptKind,
    pub input: String,
}

/// The compared pair of keys and the changes between them.
pub type DiffResult = ((i64, i64), Result<Vec<Change>, String>);

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
    pub state: Option<(i64, Result<Box<StateAt>, String>)>,
    /// Replay progress towards the playhead: events done, events to do.
    pub progress: Option<(i64, i64)>,
    pub diff: Option<DiffResult>,
    pub diff_requested: Option<(i64, i64)>,
    pub density: Vec<u64>,
    /// Versions the store keeps a snapshot at.
    pub snapshots: Vec<i64>,
}

impl View {
    fn new(target: Target, first: i64, len: i64) -> View {
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
            progress: None,
            diff: None,
            diff_requested: None,
            density: Vec::new(),
            snapshots: Vec::new(),
        }
    }

    pub fn title(&self) -> String {
        match &self.target {
            Target::All => "$all".to_string(),
            Target::Stream(s) => eventscope::printable(s).into_owned(),
        }
    }

    /// No events at all: the last key is below the first.
    pub fn is_empty(&self) -> bool {
        self.len < self.first
    }

    /// The state for the playhead, if it has arrived.
    pub fn current_state(&self) -> Option<&Result<Box<StateAt>, String>> {
        self.state
            .as_ref()
            .filter(|(k, _)| *k == self.playhead)
            .map(|(_, s)| s)
    }

    /// The pair the Diff tab compares: A → B, or A → playhead while B is unset.
    pub fn diff_pair(&self) -> Option<(i64, i64)> {
        self.mark_a
            .map(|a| (a, self.mark_b.unwrap_or(self.playhead)))
    }
}

/// Rows fetched on each side of the playhead.
const ROWS_AROUND: i64 = 100;
/// Rows kept on each side; farther ones are dropped.
const ROWS_KEPT: i64 = 300;
/// Buckets of the density sparkline.
pub const DENSITY_BUCKETS: usize = 200;

pub struct App {
    pub keymap: Keymap,
    pub store_name: String,
    pub reducer_name: String,
    pub focus: Pane,
    pub tab: Tab,
    pub streams: Vec<StreamInfo>,
    /// Where each stream id is in `streams`: ids are matched exactly, never by a sort
    /// order that SQL and Rust may not share (an INTEGER column sorts 9 before 10).
    pub stream_index: HashMap<String, usize>,
    pub streams_loaded: bool,
    /// Events stored past `last_position` that the UI has not loaded (while not following).
    pub pending: i64,
    pub last_position: i64,
    pub filter: String,
    pub filtering: bool,
    pub list: Vec<ListRow>,
    pub selected: usize,
    pub view: Option<View>,
    pub prompt: Option<Prompt>,
    pub help: bool,
    pub local_time: bool,
    pub following: bool,
    /// A message for the footer, and whether it is an error.
    pub status: Option<(String, bool)>,
    pub folded: HashSet<String>,
    pub state_cursor: usize,
    pub event_scroll: usize,
    pub diff_scroll: usize,
    pub outbox: Vec<Req>,
    pub quit: bool,
    /// Reducer calls that timed out; when one is added, the worker must be replaced.
    pub timed_out: Vec<eventscope::replay::TimedOut>,
    pub replace_worker: bool,
    /// Replays start from store snapshots (the `s` toggle; `--from-snapshots`).
    pub from_snapshots: bool,
    /// How often the worker process died without a word.
    pub worker_deaths: u32,
    state_view: Vec<json_view::JsonLine>,
}

impl App {
    pub fn new(keymap: Keymap, store_name: String, reducer_name: String) -> App {
        App {
            keymap,
            store_name,
            reducer_name,
            focus: Pane::Streams,
            tab: Tab::State,
            streams: Vec::new(),
            stream_index: HashMap::new(),
            streams_loaded: false,
            pending: 0,
            last_position: 0,
            filter: String::new(),
            filtering: false,
            list: vec![ListRow::All],
            selected: 0,
            view: None,
            prompt: None,
            help: false,
            local_time: false,
            following: false,
            status: None,
            folded: HashSet::new(),
            state_cursor: 0,
            event_scroll: 0,
            diff_scroll: 0,
            outbox: vec![Req::Streams],
            quit: false,
            timed_out: Vec::new(),
            replace_worker: false,
            from_snapshots: false,
            worker_deaths: 0,
            state_view: Vec::new(),
        }
    }

    pub fn update(&mut self, action: Action) {
        match action {
            Action::Worker(msg) => self.on_worker(msg),
            Action::Input(c) => self.on_input(c),
            Action::Backspace => {
                if let Some(p) = &mut self.prompt {
                    p.input.pop();
                } else if self.filtering {
                    self.filter.pop();
                    self.rebuild_list();
                }
            }
            Action::Submit => self.on_submit(),
            Action::SeekFraction(f) => {
                if let Some(v) = &self.view {
                    let key =
                        v.first + ((v.len - v.first) as f64 * f.clamp(0.0, 1.0)).round() as i64;
                    self.seek(key);
                }
            }
            Action::Command(c) => self.on_command(c),
        }
    }

    /// Whether typed characters go to the filter or a prompt rather than the keymap.
    pub fn taking_text(&self) -> bool {
        self.filtering || self.prompt.is_some()
    }

    fn on_command(&mut self, c: Command) {
        if self.help && !matches!(c, Command::Help | Command::Cancel | Command::Quit) {
            return;
        }
        self.status = None;
        let step = |app: &mut App, d: i64| {
            if let Some(v) = &app.view {
                let key = v.playhead + d;
                app.seek(key);
            }
        };
        match c {
            Command::Quit => self.quit = true,
            Command::Help => self.help = !self.help,
            Command::Cancel => {
                self.help = false;
                self.prompt = None;
                if self.filtering {
                    self.filtering = false;
                    self.filter.clear();
                    self.rebuild_list();
                }
            }
            Command::FocusNext => {
                self.focus = match self.focus {
                    Pane::Streams => Pane::Events,
                    Pane::Events => Pane::State,
                    Pane::State => Pane::Streams,
                }
            }
            Command::FocusPrev => {
                self.focus = match self.focus {
                    Pane::Streams => Pane::State,
                    Pane::Events => Pane::Streams,
                    Pane::State => Pane::Events,
                }
            }
            Command::Up => self.move_in_pane(-1),
            Command::Down => self.move_in_pane(1),
            Command::PageUp => self.move_in_pane(-10),
            Command::PageDown => self.move_in_pane(10),
            Command::Open => match self.focus {
                Pane::State => self.toggle_fold(),
                _ => self.open_selected(),
            },
            Command::Filter => {
                self.focus = Pane::Streams;
                self.filtering = true;
            }
            Command::StepBack => step(self, -1),
            Command::StepForward => step(self, 1),
            Command::JumpBack => step(self, -10),
            Command::JumpForward => step(self, 10),
            Command::First => self.seek(i64::MIN),
            Command::Last => self.seek(i64::MAX),
            Command::GoToVersion | Command::GoToTime if self.view.is_some() => {
                let kind = if c == Command::GoToVersion {
                    PromptKind::Version
                } else {
                    PromptKind::Time
                };
                self.prompt = Some(Prompt {
                    kind,
                    input: String::new(),
                });
            }
            Command::GoToVersion | Command::GoToTime => self.hint_open_first(),
            Command::MarkA | Command::MarkB => {
                let Some(v) = &mut self.view else {
                    return self.hint_open_first();
                };
                if c == Command::MarkA {
                    v.mark_a = Some(v.playhead);
                } else {
                    v.mark_b = Some(v.playhead);
                }
                self.refresh_diff();
            }
            Command::ClearMarks => {
                if let Some(v) = &mut self.view {
                    v.mark_a = None;
                    v.mark_b = None;
                }
            }
            Command::TabState => self.tab = Tab::State,
            Command::TabEvent => self.tab = Tab::Event,
            Command::TabDiff => {
                self.tab = Tab::Diff;
                self.refresh_diff();
            }
            Command::ToggleFollow => {
                self.following = !self.following;
                // Catch up from the last position this UI knows: nothing in between is lost.
                let from = self.following.then_some(self.last_position);
                self.outbox.push(Req::Follow(from));
                if self.following {
                    self.seek(i64::MAX);
                }
            }
            Command::Refresh => self.refresh(),
            Command::ToggleTimeZone => self.local_time = !self.local_time,
            Command::ToggleSnapshots => {
                self.from_snapshots = !self.from_snapshots;
                self.replace_worker = true;
                self.outbox.clear();
                self.status = Some((
                    if self.from_snapshots {
                        "replays start from stored snapshots (through their mapping)".into()
                    } else {
                        "replays start from the first event".into()
                    },
                    false,
                ));
                self.ask_again();
            }
        }
    }

    fn hint_open_first(&mut self) {
        self.status = Some(("open a stream first (Enter)".into(), false));
    }

    fn on_input(&mut self, c: char) {
        if let Some(p) = &mut self.prompt {
            p.input.push(c);
        } else if self.filtering {
            self.filter.push(c);
            self.rebuild_list();
        }
    }

    fn on_submit(&mut self) {
        if let Some(p) = self.prompt.take() {
            let input = p.input.trim().to_string();
            match p.kind {
                PromptKind::Version => match input.parse::<i64>() {
                    Ok(v) => self.seek(v),
                    Err(_) => self.status = Some((format!("not a version: {input:?}"), true)),
                },
                PromptKind::Time => {
                    match eventscope::time::parse_time_bound_in(&input, self.local_time) {
                        Ok(at) => {
                            if let Some(v) = &self.view {
                                self.outbox.push(Req::ResolveTime {
                                    target: v.target.clone(),
                                    at,
                                });
                            }
                        }
                        Err(e) => self.status = Some((e, true)),
                    }
                }
            }
        } else if self.filtering {
            self.filtering = false;
            self.open_selected();
        }
    }

    fn move_in_pane(&mut self, d: i64) {
        match self.focus {
            Pane::Streams => self.move_selection(d),
            Pane::Events => {
                if let Some(v) = &self.view {
                    let key = v.playhead + d;
                    self.seek(key);
                }
            }
            Pane::State => {
                let slot = match self.tab {
                    Tab::State => &mut self.state_cursor,
                    Tab::Event => &mut self.event_scroll,
                    Tab::Diff => &mut self.diff_scroll,
                };
                *slot = (*slot as i64 + d).max(0) as usize;
                if self.tab == Tab::State {
                    let n = self.state_lines().len();
                    self.state_cursor = self.state_cursor.min(n.saturating_sub(1));
                }
            }
        }
    }

    /// Moves the stream selection by `d` selectable rows, skipping category headers.
    fn move_selection(&mut self, d: i64) {
        let selectable: Vec<usize> = (0..self.list.len())
            .filter(|&i| !matches!(self.list[i], ListRow::Category { .. }))
            .collect();
        if selectable.is_empty() {
            return;
        }
        let here = selectable
            .iter()
            .position(|&i| i >= self.selected)
            .unwrap_or(0) as i64;
        let to = (here + d).clamp(0, selectable.len() as i64 - 1) as usize;
        self.selected = selectable[to];
    }

    /// The State tab's lines, flattened when a state arrives or a fold changes, not on
    /// every frame.
    pub fn state_lines(&self) -> &[json_view::JsonLine] {
        &self.state_view
    }

    pub(super) fn reflatten(&mut self) {
        self.state_view = match self.view.as_ref().and_then(|v| v.state.as_ref()) {
            Some((_, Ok(s))) => json_view::flatten(&s.state, &self.folded),
            _ => Vec::new(),
        };
        self.state_cursor = self
            .state_cursor
            .min(self.state_view.len().saturating_sub(1));
    }

    fn toggle_fold(&mut self) {
        if self.tab != Tab::State {
            return;
        }
        let Some(line) = self.state_view.get(self.state_cursor) else {
            return;
        };
        if !line.foldable() {
            return;
        }
        let path = line.path.clone();
        if !self.folded.remove(&path) {
            self.folded.insert(path);
        }
        self.reflatten();
    }

    fn open_selected(&mut self) {
        let target = match self.list.get(self.selected) {
            Some(ListRow::All) => Target::All,
            Some(ListRow::Stream(i)) => match self.streams.get(*i) {
                Some(s) => Target::Stream(s.stream_id.clone()),
                None => return,
            },
            _ => return,
        };
        let len = match &target {
            Target::All => self.last_position,
            Target::Stream(id) => self.stream_len(id),
        };
        let first = match &target {
            Target::All => 1,
            Target::Stream(id) => self
                .stream_index
                .get(id)
                .map_or(1, |&i| self.streams[i].first_version),
        };
        self.view = Some(View::new(target.clone(), first, len));
        self.folded.clear();
        self.state_view.clear();
        self.state_cursor = 0;
        self.event_scroll = 0;
        self.diff_scroll = 0;
        self.focus = Pane::Events;
        self.outbox.push(Req::Density {
            target,
            buckets: DENSITY_BUCKETS,
        });
        self.seek(len);
    }

    pub(super) fn stream_len(&self, id: &str) -> i64 {
        self.stream_index
            .get(id)
            .map_or(0, |&i| self.streams[i].last_version)
    }

    /// Reloads the stream list and the open view, keeping the playhead and marks.
    pub fn refresh(&mut self) {
        self.pending = 0;
        self.outbox.push(Req::Streams);
        self.reask_view();
    }

    /// Asks again for all the open view shows (its rows, state, density, diff), keeping
    /// the playhead and marks.
    pub(super) fn reask_view(&mut self) {
        if let Some(v) = &mut self.view {
            v.rows_requested = (0, -1);
            v.diff_requested = None;
            v.state = None;
            v.progress = None;
            self.outbox.push(Req::State {
                target: v.target.clone(),
                key: v.playhead,
            });
            self.outbox.push(Req::Density {
                target: v.target.clone(),
                buckets: DENSITY_BUCKETS,
            });
        }
        self.ensure_rows();
        self.refresh_diff();
    }

    pub(super) fn reindex_streams(&mut self) {
        self.stream_index = self
            .streams
            .iter()
            .enumerate()
            .map(|(i, s)| (s.stream_id.clone(), i))
            .collect();
    }

    /// Moves the playhead to `key`, clamped to the view, and asks for what it shows.
    pub fn seek(&mut self, key: i64) {
        let Some(v) = &mut self.view else { return };
        if v.is_empty() {
            return;
        }
        let key = key.clamp(v.first, v.len);
        let have = v.state.as_ref().is_some_and(|(k, _)| *k == key);
        v.playhead = key;
        if !have {
            v.progress = None;
            self.outbox.push(Req::State {
                target: v.target.clone(),
                key,
            });
        }
        self.ensure_rows();
        self.refresh_diff();
    }

    pub(super) fn ensure_rows(&mut self) {
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

    pub(super) fn refresh_diff(&mut self) {
        let Some(v) = &mut self.view else { return };
        let Some(pair) = v.diff_pair() else { return };
        if self.tab != Tab::Diff || v.diff_requested == Some(pair) {
            return;
        }
        v.diff_requested = Some(pair);
        self.outbox.push(Req::Diff {
            target: v.target.clone(),
            a: pair.0,
            b: pair.1,
        });
    }

    /// The stream list: `$all`, then each category once, whatever order streams arrived in,
    /// with its streams by id. The selection stays on the same stream id.
    pub(super) fn rebuild_list(&mut self) {
        let keep = match self.list.get(self.selected) {
            Some(ListRow::Stream(i)) => self.streams.get(*i).map(|s| s.stream_id.clone()),
            _ => None,
        };
        let keep_all = self.list.get(self.selected) == Some(&ListRow::All);
        let needle = self.filter.to_lowercase();
        let mut list = Vec::new();
        if needle.is_empty() || "$all".contains(&needle) {
            list.push(ListRow::All);
        }
        let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, s) in self.streams.iter().enumerate() {
            if needle.is_empty() || s.stream_id.to_lowercase().contains(&needle) {
                groups.entry(s.category.as_str()).or_default().push(i);
            }
        }
        for (category, mut members) in groups {
            members.sort_by(|a, b| self.streams[*a].stream_id.cmp(&self.streams[*b].stream_id));
            list.push(ListRow::Category {
                name: category.to_string(),
                streams: members.len(),
            });
            list.extend(members.into_iter().map(ListRow::Stream));
        }
        self.list = list;
        let same = match keep {
            Some(id) => self
                .stream_index
                .get(&id)
                .and_then(|&i| self.list.iter().position(|r| *r == ListRow::Stream(i))),
            None if keep_all => self.list.iter().position(|r| *r == ListRow::All),
            None => None,
        };
        self.selected = match same {
            Some(i) if !self.filtering => i,
            _ => self
                .list
                .iter()
                .position(|r| matches!(r, ListRow::Stream(_)))
                .or_else(|| self.list.iter().position(|r| *r == ListRow::All))
                .unwrap_or(0),
        };
    }
}

mod answers;
#[cfg(test)]
mod tests;

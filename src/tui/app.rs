//! The app: the shared model and the components, and `update`, the one function that
//! routes what happens (keys, mouse, worker answers, ticks) to them.

use ratatui::crossterm::event::{KeyCode, MouseButton, MouseEventKind};
use ratatui::layout::Rect;

use super::action::{Action, Command};
use super::components::consumers::Consumers;
use super::components::events_table::EventsTable;
use super::components::help::Help;
use super::components::inspector::Inspector;
use super::components::prompt::{Prompt, PromptKind};
use super::components::related::Related;
use super::components::stream_list::StreamList;
use super::components::timeline::Timeline;
use super::components::{Component, Outcome, Pane};
use super::keymap::{Key, Keymap, Layer};
use super::model::Model;
use super::screen;
use super::theme::Theme;
#[cfg(test)]
use super::worker::WorkerError;
use super::worker::{FindSpec, Req, Target};

/// How often shown consumers are asked for again.
const CONSUMERS_REFRESH: std::time::Duration = std::time::Duration::from_secs(2);

pub struct App {
    pub model: Model,
    pub streams: StreamList,
    pub events: EventsTable,
    pub inspector: Inspector,
    pub timeline: Timeline,
    pub help: Option<Help>,
    pub related: Option<Related>,
    pub consumers: Option<Consumers>,
    pub types: Option<super::components::types::Types>,
    /// The message log, while it is open.
    pub messages: Option<super::components::messages::Messages>,
    /// When the consumers were last asked for, to refresh them every few seconds.
    consumers_asked: Option<std::time::Instant>,
    pub prompt: Option<Prompt>,
    /// What was typed at each prompt (↑/↓ in a prompt).
    pub prompt_history: super::history::History,
    pub focus: Pane,
    /// The pane shown on the whole screen (lazygit's `+`), if one is.
    pub zoomed: Option<Pane>,
    /// Whether something changed since the screen was last drawn.
    pub dirty: bool,
    /// Requests that met a locked store, asked again on the next tick.
    retry: Vec<Req>,
}

impl App {
    pub fn new(keymap: Keymap, theme: Theme, store_name: String, reducer_name: String) -> App {
        App {
            model: Model::new(keymap, theme, store_name, reducer_name),
            streams: StreamList::new(),
            events: EventsTable::default(),
            inspector: Inspector::default(),
            timeline: Timeline,
            help: None,
            related: None,
            consumers: None,
            types: None,
            messages: None,
            consumers_asked: None,
            prompt: None,
            prompt_history: Default::default(),
            focus: Pane::Streams,
            zoomed: None,
            dirty: true,
            retry: Vec::new(),
        }
    }

    /// The keymap layer in force.
    pub fn layer(&self) -> Layer {
        if self.overlay_open() {
            Layer::Overlay
        } else if self.prompt.is_some() {
            Layer::Prompt
        } else if self.streams.filtering {
            Layer::Filter
        } else {
            Layer::Normal
        }
    }

    /// Whether an overlay (help, Related, Consumers, the message log) is open.
    pub fn overlay_open(&self) -> bool {
        self.help.is_some()
            || self.related.is_some()
            || self.consumers.is_some()
            || self.types.is_some()
            || self.messages.is_some()
    }

    pub fn update(&mut self, action: Action) {
        let changed = match action {
            Action::Key(key) => {
                self.on_key(key);
                true
            }
            Action::Mouse(m, area) => self.on_mouse(m, area),
            Action::Worker(msg) => self.on_worker(msg),
            Action::Tick => self.on_tick(),
            Action::Redraw => true,
        };
        self.inspector.sync(&mut self.model);
        self.model.sync_pins();
        self.dirty |= changed;
    }

    fn on_key(&mut self, key: Key) {
        // Ctrl-C quits whatever the keymap or the mode says.
        if key.ctrl && key.code == KeyCode::Char('c') {
            self.model.quit = true;
            return;
        }
        let layer = self.layer();
        let text = match key.code {
            KeyCode::Char(c) if !key.ctrl => Some(c),
            _ => None,
        };
        // In a text mode, a character is text unless the prompt gives it a meaning.
        if let Some(c) = text {
            if let Some(h) = self.help.as_mut().filter(|h| h.filtering) {
                h.type_char(c);
                return;
            }
            if let Some(p) = &mut self.prompt {
                if p.takes(c) {
                    p.type_char(c);
                    return;
                }
            } else if layer == Layer::Filter && self.model.keymap.command_for(layer, key).is_none()
            {
                self.streams.type_char(c, &self.model.catalog);
                return;
            }
        }
        if let Some(c) = self.model.keymap.command_for(layer, key) {
            self.on_command(c);
        }
    }

    pub fn on_command(&mut self, c: Command) {
        self.model.status = None;
        match self.layer() {
            Layer::Overlay => self.overlay_command(c),
            Layer::Prompt => self.prompt_command(c),
            Layer::Filter => self.filter_command(c),
            Layer::Normal => self.normal_command(c),
        }
    }

    fn overlay_command(&mut self, c: Command) {
        if let Some(h) = &mut self.help {
            match c {
                // Esc while filtering ends the filter; the next closes help.
                Command::Cancel if h.filtering || !h.filter.is_empty() => {
                    h.filtering = false;
                    h.filter.clear();
                    return;
                }
                Command::Open => {
                    let run = h.highlighted();
                    self.help = None;
                    if let Some(run) = run {
                        self.on_command(run);
                    }
                    return;
                }
                _ => {}
            }
        }
        match c {
            Command::Cancel
            | Command::Help
            | Command::Quit
            | Command::Consumers
            | Command::Types
            | Command::Messages => {
                self.help = None;
                self.related = None;
                self.consumers = None;
                self.types = None;
                self.messages = None;
            }
            other => {
                if let Some(l) = &mut self.messages {
                    l.on_command(other, &mut self.model);
                } else if let Some(h) = &mut self.help {
                    h.on_command(other, &mut self.model);
                } else if let Some(r) = &mut self.related {
                    let outcome = r.on_command(other, &mut self.model);
                    if matches!(outcome, Outcome::OpenAt(..)) {
                        self.related = None;
                    }
                    self.apply(outcome);
                } else if let Some(ty) = &mut self.types {
                    let outcome = ty.on_command(other, &mut self.model);
                    if outcome != Outcome::Done && outcome != Outcome::Ignored {
                        self.types = None;
                    }
                    self.apply(outcome);
                } else if let Some(c) = &mut self.consumers {
                    let outcome = c.on_command(other, &mut self.model);
                    if matches!(outcome, Outcome::OpenAt(..)) {
                        self.consumers = None;
                    }
                    self.apply(outcome);
                }
            }
        }
    }

    fn prompt_command(&mut self, c: Command) {
        match c {
            Command::Cancel | Command::Quit => self.prompt = None,
            Command::DeleteChar => {
                if let Some(p) = &mut self.prompt {
                    p.prefilled = false;
                    p.input.pop();
                }
            }
            Command::Submit => {
                if let Some(p) = self.prompt.take() {
                    if let Err(e) = self.prompt_history.add(p.history_name(), p.input.trim()) {
                        self.model.warn(e);
                    }
                    self.submit(p);
                }
            }
            Command::Up | Command::Down => {
                if let Some(p) = &mut self.prompt {
                    let entries = self.prompt_history.entries(p.history_name());
                    let steps = if c == Command::Up { 1 } else { -1 };
                    // Nothing that way: the input stays, as in a shell.
                    p.recall(entries, steps);
                }
            }
            _ => {}
        }
    }

    fn filter_command(&mut self, c: Command) {
        match c {
            Command::Cancel => {
                self.streams.clear_filter(&self.model.catalog);
            }
            Command::DeleteChar => self.streams.delete_char(&self.model.catalog),
            Command::Submit => {
                let outcome = self.streams.accept_filter(&mut self.model);
                self.apply(outcome);
            }
            Command::Up | Command::Down => {
                self.streams.on_command(c, &mut self.model);
            }
            Command::Quit => self.model.quit = true,
            _ => {}
        }
    }

    fn normal_command(&mut self, c: Command) {
        // The focused component first; then what works from anywhere.
        let outcome = match self.focus {
            Pane::Streams => self.streams.on_command(c, &mut self.model),
            Pane::Events => self.events.on_command(c, &mut self.model),
            Pane::Inspector => self.inspector.on_command(c, &mut self.model),
        };
        if outcome != Outcome::Ignored {
            return self.apply(outcome);
        }
        let m = &mut self.model;
        match c {
            Command::Quit => m.quit = true,
            Command::Help => {
                let tab = self.inspector.active_title();
                self.help = Some(Help::new(m, self.focus, tab));
            }
            Command::Messages => self.messages = Some(Default::default()),
            Command::Cancel => {
                let searched = m.view.as_mut().filter(|v| v.found.is_some());
                match searched {
                    Some(v) if self.focus == Pane::Events => {
                        v.found = None;
                        v.only_found = false;
                        m.say("search cleared");
                    }
                    _ => {
                        if !self.streams.clear_filter(&m.catalog) {
                            m.status = None;
                        }
                    }
                }
            }
            Command::OnlyMatches => match m.view.as_mut() {
                Some(v) if v.found.is_some() => {
                    v.only_found = !v.only_found;
                    let only = v.only_found;
                    let key = m.keymap.keys_label(Command::OnlyMatches);
                    m.say(if only {
                        format!("only matching events ({key}: all again)")
                    } else {
                        "every event again".to_string()
                    });
                }
                _ => m.say("search first: / in the Events pane"),
            },
            Command::FocusNext => {
                self.focus = match self.focus {
                    Pane::Streams => Pane::Events,
                    Pane::Events => Pane::Inspector,
                    Pane::Inspector => Pane::Streams,
                }
            }
            Command::FocusPrev => {
                self.focus = match self.focus {
                    Pane::Streams => Pane::Inspector,
                    Pane::Events => Pane::Streams,
                    Pane::Inspector => Pane::Events,
                }
            }
            Command::Search => match self.focus {
                Pane::Inspector if m.view.is_some() && !self.inspector.searchable() => {
                    m.say(format!(
                        "the {} tab cannot be searched: / searches the State, Event and Diff tabs' JSON",
                        self.inspector.active_title()
                    ));
                }
                Pane::Inspector if m.view.is_some() => {
                    self.prompt = Some(Prompt::new(PromptKind::Search));
                }
                Pane::Events if m.view.is_some() => {
                    self.prompt = Some(Prompt::new(PromptKind::Find));
                }
                _ => {
                    self.focus = Pane::Streams;
                    self.streams.start_filter();
                }
            },
            Command::SearchNext | Command::SearchPrev
                if self.focus == Pane::Events
                    && m.view.as_ref().is_some_and(|v| v.found.is_some()) =>
            {
                m.find_step(c == Command::SearchNext);
            }
            Command::SearchNext | Command::SearchPrev
                if self.focus == Pane::Events && !m.pins.paths.is_empty() =>
            {
                m.pin_step(c == Command::SearchNext);
            }
            Command::SearchNext | Command::SearchPrev => {
                if !self.inspector.next_match(c == Command::SearchNext) {
                    m.say("no search, or nothing matches (/ in the inspector searches)");
                }
            }
            Command::StepBack => m.step(-1),
            Command::StepForward => m.step(1),
            Command::JumpBack => m.step(-10),
            Command::JumpForward => m.step(10),
            Command::BackTenth | Command::ForwardTenth => {
                if let Some(v) = &m.view {
                    let tenth = ((v.len - v.first + 1) as f64 / 10.0).ceil().max(1.0) as i64;
                    m.step(if c == Command::BackTenth {
                        -tenth
                    } else {
                        tenth
                    });
                }
            }
            Command::BackHour => m.step_time(-3600),
            Command::ForwardHour => m.step_time(3600),
            Command::BackDay => m.step_time(-86_400),
            Command::ForwardDay => m.step_time(86_400),
            Command::First => m.jump(i64::MIN),
            Command::Last => m.jump(i64::MAX),
            Command::Top | Command::Bottom | Command::Up | Command::Down => {}
            Command::GoToVersion | Command::GoToTime if m.view.is_none() => m.hint_open_first(),
            Command::GoToTime if !m.catalog.has_times => {
                m.warn("this store has no event times, so there is no time to go to");
            }
            Command::GoToVersion => self.prompt = Some(Prompt::new(PromptKind::Version)),
            Command::GoToTime => {
                // Opened with the playhead's time, to edit; a bare time is on its day.
                let mut prompt = Prompt::new(PromptKind::Time);
                if let Some(t) = m.view.as_ref().and_then(|v| v.playhead_time()) {
                    prompt.input = eventscope::time::display(&t, m.local_time);
                    prompt.prefilled = true;
                }
                self.prompt = Some(prompt);
            }
            Command::MarkA | Command::MarkB => {
                let Some(v) = &mut m.view else {
                    return m.hint_open_first();
                };
                if c == Command::MarkA {
                    v.mark_a = Some(v.playhead);
                } else {
                    v.mark_b = Some(v.playhead);
                }
                m.refresh_diff();
            }
            Command::ClearMarks => {
                if let Some(v) = &mut m.view {
                    v.mark_a = None;
                    v.mark_b = None;
                }
            }
            Command::Tab(n) => {
                if !self.inspector.show(usize::from(n).wrapping_sub(1), m) {
                    m.say(format!("no tab {n}"));
                }
            }
            Command::ToggleFollow => {
                m.following = !m.following;
                // Catch up from the last position this UI knows: nothing in between is lost.
                let from = m.following.then_some(m.catalog.last_position);
                m.outbox.push(Req::Follow(from));
                if m.following {
                    m.seek(i64::MAX);
                }
            }
            Command::Refresh => m.refresh(),
            Command::ToggleTimeZone => m.local_time = !m.local_time,
            Command::ToggleZoom => {
                self.zoomed = match self.zoomed {
                    Some(_) => None,
                    None => Some(self.focus),
                };
            }
            Command::ToggleMouse => {
                m.mouse = !m.mouse;
                let key = m.keymap.keys_label(Command::ToggleMouse);
                m.say(if m.mouse {
                    format!("mouse on ({key}: off, so the terminal can select text)")
                } else {
                    format!("mouse off: the terminal selects text ({key}: on)")
                });
            }
            Command::ToggleSnapshots => {
                m.from_snapshots = !m.from_snapshots;
                m.replace_worker = true;
                m.outbox.clear();
                m.say(if m.from_snapshots {
                    "replays start from stored snapshots (through their mapping)"
                } else {
                    "replays start from the first event"
                });
                m.ask_again();
            }
            Command::ToggleBlame => {
                if !self.inspector.blame_on() {
                    self.inspector.show_titled("State", m);
                }
                self.inspector.command_in("State", c, m);
            }
            Command::BlameJump | Command::Plot | Command::Pin if m.view.is_none() => {
                m.hint_open_first()
            }
            Command::BlameJump | Command::Plot | Command::Pin => {
                // To the field it needs: the State tab, focused, where the key works.
                self.inspector.show_titled("State", m);
                self.focus = Pane::Inspector;
                let key = m.keymap.keys_label(c);
                m.say(format!(
                    "the State tab: move to a field (↑↓) and press {key} there"
                ));
            }
            Command::When if m.view.is_none() => m.hint_open_first(),
            Command::When => self.prompt = Some(Prompt::new(PromptKind::When)),
            Command::WhenNext => m.when_step(true),
            Command::WhenPrev => m.when_step(false),
            Command::Related => {
                let position = m.view.as_ref().and_then(|v| match v.current_state() {
                    Some(Ok(s)) => s.event.as_ref().map(|e| e.global_position),
                    _ => None,
                });
                match position {
                    Some(position) => {
                        m.outbox.push(Req::Related { position });
                        m.say("looking for its correlation…");
                    }
                    None => m.say("no event under the playhead yet"),
                }
            }
            Command::Consumers => self.show_consumers(),
            Command::Types => self.show_types(),
            Command::CompareWith => {
                let mut p = Prompt::new(PromptKind::CompareWith);
                p.input = m
                    .compare_with
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default();
                self.prompt = Some(p);
            }
            Command::ExportTest => match m.view.as_ref().map(|v| (&v.target, v.playhead)) {
                Some((Target::Stream(s), version)) if version > 0 => {
                    m.outbox.push(Req::Fixture {
                        stream: s.clone(),
                        version,
                    });
                    m.say("exporting the stream up to the playhead as a test fixture…");
                }
                _ => m.say("open a stream: a fixture is one stream's history up to the playhead"),
            },
            Command::Back | Command::Forward => self.walk_jumps(c == Command::Back),
            Command::Copy | Command::Export => self.copy(c == Command::Export),
            Command::ToggleSkip => m.toggle_skip(),
            Command::ClearSkips => m.clear_skips(),
            Command::PickColumns => {
                let mut p = Prompt::new(PromptKind::Columns);
                p.input = self.inspector.columns().unwrap_or_default().join(", ");
                self.prompt = Some(p);
            }
            Command::Open | Command::SortStreams | Command::Fold => {}
            Command::PageUp | Command::PageDown | Command::HalfPageUp | Command::HalfPageDown => {}
            Command::Submit | Command::DeleteChar => {}
        }
    }

    /// Does what a component asked of the app.
    fn apply(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Ignored | Outcome::Done => {}
            Outcome::Open(target) => self.open(target, None),
            Outcome::OpenAt(target, key) => {
                self.model.record_jump();
                self.open(target, Some(key));
            }
            Outcome::ShowConsumers => self.show_consumers(),
            Outcome::ShowTypes => self.show_types(),
            Outcome::ShowTab(title) => {
                self.inspector.show_titled(title, &mut self.model);
            }
            Outcome::Focus(p) => self.focus = p,
        }
    }

    /// Back (or forward) along the jumplist: to the spot, opening its stream if another is
    /// open, and the spot left is kept for the way back.
    fn walk_jumps(&mut self, back: bool) {
        let m = &mut self.model;
        let (from, to) = match back {
            true => (&mut m.jumps.back, &mut m.jumps.forward),
            false => (&mut m.jumps.forward, &mut m.jumps.back),
        };
        let Some((target, key)) = from.pop() else {
            return m.say(if back {
                "nothing to go back to"
            } else {
                "nothing to go forward to"
            });
        };
        if let Some(v) = &m.view {
            to.push((v.target.clone(), v.playhead));
        }
        if m.view.as_ref().is_some_and(|v| v.target == target) {
            m.seek(key);
        } else {
            self.open(target, Some(key));
        }
    }

    /// Opens a stream, the log or a category, at its end or at `key`; a category shows
    /// in the Table tab, a stream leaves it for the State tab.
    fn open(&mut self, target: Target, key: Option<i64>) {
        let category = matches!(target, Target::Category(_));
        self.inspector.on_open();
        self.model.open(target);
        if let Some(k) = key {
            self.model.seek(k);
        }
        match (category, self.inspector.active_title()) {
            (true, _) => self.inspector.show_titled("Table", &mut self.model),
            (false, "Table") => self.inspector.show_titled("State", &mut self.model),
            _ => {}
        }
        self.inspector.on_view_changed(&self.model);
        self.inspector.reshow(&mut self.model);
        self.focus = Pane::Events;
    }

    fn submit(&mut self, p: Prompt) {
        let input = p.input.trim().to_string();
        let m = &mut self.model;
        match p.kind {
            PromptKind::Version => match input.parse::<i64>() {
                Ok(v) => {
                    m.jump(v);
                    if let Some(view) = &m.view {
                        if v > view.len {
                            m.say(format!(
                                "version {v} is past the end: went to the last version, {}",
                                view.len
                            ));
                        } else if v < view.first {
                            m.say(format!(
                                "version {v} is before the start: went to the first version, {}",
                                view.first
                            ));
                        }
                    }
                }
                Err(_) => m.warn(format!("not a version: {input:?}")),
            },
            PromptKind::Time => match eventscope::time::parse_time_bound_in(
                &match m.view.as_ref().and_then(|v| v.playhead_time()) {
                    Some(at) => eventscope::time::on_day_of(&input, &at, m.local_time),
                    None => input.clone(),
                },
                m.local_time,
            ) {
                Ok(at) => {
                    if let Some(v) = &m.view {
                        m.outbox.push(Req::ResolveTime {
                            target: v.target.clone(),
                            at,
                            step: None,
                        });
                    }
                }
                Err(e) => m.warn(e),
            },
            PromptKind::When => m.ask_when(input),
            PromptKind::Find => match input.strip_prefix('?') {
                _ if input.is_empty() => {
                    if let Some(v) = &mut m.view {
                        v.found = None;
                    }
                }
                Some(code) => m.ask_find(FindSpec::Jq(code.trim().to_string())),
                None => m.ask_find(FindSpec::Text(input)),
            },
            PromptKind::Columns => {
                let columns: Vec<String> = input
                    .split(',')
                    .map(|c| c.trim().to_string())
                    .filter(|c| !c.is_empty())
                    .collect();
                m.say(if columns.is_empty() {
                    "columns: the states' own fields".to_string()
                } else {
                    format!("columns: {}", columns.join(", "))
                });
                self.inspector.set_columns(columns);
            }
            PromptKind::CompareWith => {
                if let Some(v) = &mut m.view {
                    v.divergence = None;
                }
                if input.is_empty() {
                    m.compare_with = None;
                    m.say("comparing stopped");
                } else {
                    let path = std::path::PathBuf::from(&input);
                    if !path.exists() {
                        return m.warn(format!("{input}: no such reducer file or folder"));
                    }
                    m.say(format!("comparing with {input}: the Compare tab shows it"));
                    m.compare_with = Some(path);
                    self.inspector.show_titled("Compare", m);
                }
            }
            PromptKind::Search => match self.inspector.search(&input) {
                Some(0) => m.warn(format!("nothing matches {input:?}")),
                Some(n) => m.say(format!(
                    "{} {input:?}: n next, N previous",
                    match n {
                        1 => "1 line matches".to_string(),
                        n => format!("{n} lines match"),
                    }
                )),
                None => m.say("this tab cannot be searched"),
            },
        }
    }

    fn on_mouse(&mut self, m: ratatui::crossterm::event::MouseEvent, area: Rect) -> bool {
        if !self.model.mouse
            || self.help.is_some()
            || self.messages.is_some()
            || self.prompt.is_some()
        {
            return false;
        }
        let Some(areas) = screen::layout(area, self.zoomed) else {
            return false;
        };
        let (x, y) = (m.column, m.row);
        let inside = |r: Rect| x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height;
        let pane = if inside(areas.streams) {
            Some(Pane::Streams)
        } else if inside(areas.events) {
            Some(Pane::Events)
        } else if inside(areas.inspector) {
            Some(Pane::Inspector)
        } else {
            None
        };
        match m.kind {
            MouseEventKind::Down(MouseButton::Left) => {
                let outcome = match pane {
                    Some(Pane::Streams) => {
                        self.focus = Pane::Streams;
                        self.streams.on_click(x, y, areas.streams, &mut self.model)
                    }
                    Some(Pane::Events) => {
                        self.focus = Pane::Events;
                        self.events.on_click(x, y, areas.events, &mut self.model)
                    }
                    Some(Pane::Inspector) => {
                        self.inspector
                            .on_click(x, y, areas.inspector, &mut self.model)
                    }
                    None => self
                        .timeline
                        .on_click(x, y, areas.timeline, &mut self.model),
                };
                self.apply(outcome);
                true
            }
            MouseEventKind::Drag(MouseButton::Left) => {
                let o = self
                    .timeline
                    .on_click(x, y, areas.timeline, &mut self.model);
                o != Outcome::Ignored
            }
            MouseEventKind::ScrollUp | MouseEventKind::ScrollDown => {
                let c = if m.kind == MouseEventKind::ScrollUp {
                    Command::Up
                } else {
                    Command::Down
                };
                let _ = match pane {
                    Some(Pane::Streams) => self.streams.on_command(c, &mut self.model),
                    Some(Pane::Events) => self.events.on_command(c, &mut self.model),
                    Some(Pane::Inspector) => self.inspector.on_command(c, &mut self.model),
                    None => return false,
                };
                true
            }
            _ => false,
        }
    }

    /// What the inspector shows, as JSON: to the clipboard, or to a file whose path is
    /// said.
    fn copy(&mut self, to_file: bool) {
        let Some((what, value)) = self.inspector.content(&self.model) else {
            return self.model.say("nothing to copy here");
        };
        let text = serde_json::to_string_pretty(&value).unwrap_or_default();
        if !to_file {
            let export = self.model.keymap.keys_label(Command::Export);
            if let Some(why) = super::clipboard::refused() {
                return self
                    .model
                    .warn(format!("{what} not copied: {why}; {export} writes a file"));
            }
            self.model.clipboard = Some(text);
            return self.model.say(format!(
                "{what} sent to the terminal's clipboard (OSC 52; where the terminal ignores it, {export} writes a file)"
            ));
        }
        self.write_export(&what, "json", &text);
    }

    /// Writes an export to a new file here, else (an unwritable folder) in the user's own
    /// cache directory, private; the status line says where.
    pub(super) fn write_export(&mut self, what: &str, ext: &str, text: &str) {
        use std::os::unix::fs::DirBuilderExt;
        let written =
            eventscope::files::write_new_as(std::path::Path::new("."), what, ext, text, false)
                .or_else(|_| {
                    let dir = crate::dirs::cache_dir()
                        .map(|d| d.join("exports"))
                        .ok_or_else(|| std::io::Error::other("no cache directory"))?;
                    std::fs::DirBuilder::new()
                        .recursive(true)
                        .mode(0o700)
                        .create(&dir)?;
                    eventscope::files::write_new_as(&dir, what, ext, text, true)
                });
        match written {
            Ok(path) => {
                let shown = std::fs::canonicalize(&path).unwrap_or(path);
                self.model
                    .say(format!("{what} written to {}", shown.display()))
            }
            Err(e) => self.model.warn(format!("cannot write {what}.{ext}: {e}")),
        }
    }

    /// Opens the Types overlay and asks for the catalog (one pass over the log).
    fn show_types(&mut self) {
        self.types = Some(Default::default());
        self.model.outbox.push(Req::Types);
    }

    /// Opens the Consumers overlay and asks where they stand now.
    fn show_consumers(&mut self) {
        self.consumers = Some(Consumers::default());
        self.ask_consumers();
    }

    pub(super) fn ask_consumers(&mut self) {
        self.consumers_asked = Some(std::time::Instant::now());
        self.model.outbox.push(Req::Consumers);
    }

    /// Once a second: count events that arrived while not following; every few seconds,
    /// where the consumers stand while they are shown (the overlay, or marks on `$all`).
    fn on_tick(&mut self) -> bool {
        let retries = self.take_retries();
        self.model.outbox.extend(retries);
        let shown = self.consumers.is_some()
            || (!self.model.catalog.consumers.is_empty()
                && self
                    .model
                    .view
                    .as_ref()
                    .is_some_and(|v| v.target == Target::All));
        let due = self
            .consumers_asked
            .is_none_or(|at| at.elapsed() >= CONSUMERS_REFRESH);
        if shown && due {
            self.ask_consumers();
        }
        if !self.model.following && self.model.catalog.loaded {
            self.model
                .outbox
                .push(Req::Pending(self.model.catalog.last_position));
        }
        false
    }
}

mod answers;
#[cfg(test)]
mod tests;

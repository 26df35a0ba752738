//! The help overlay (lazygit's keybindings menu): the focused pane's keys first, then every
//! binding by group, then the other modes', straight from the keymap. Descriptions lead;
//! the command's name (what a keymap file writes) is a column of its own where the screen
//! is wide. `/` filters as you type, `Enter` runs the highlighted command.

use std::cell::Cell;

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{Component, Move, Outcome, Pane};
use crate::tui::action::Command;
use crate::tui::keymap::{Binding, Key, Layer};
use crate::tui::model::Model;

/// One binding as help lists it.
#[derive(Debug, Clone)]
struct Entry {
    group: String,
    keys: String,
    desc: String,
    name: String,
    /// What Enter runs: main-screen commands only (other modes' keys are listed to read).
    runs: Option<Command>,
}

pub struct Help {
    entries: Vec<Entry>,
    pub filter: String,
    /// Typing goes to the filter (after `/`, until Esc).
    pub filtering: bool,
    cursor: usize,
    page: Cell<usize>,
}

fn keys_label(keys: &[Key]) -> String {
    keys.iter().map(Key::label).collect::<Vec<_>>().join(" ")
}

impl Help {
    /// Help for where the focus is: that pane's (and tab's) commands head the list.
    pub fn new(model: &Model, focus: Pane, tab: &str) -> Help {
        let km = &model.keymap;
        let entry = |layer: Layer, b: &Binding, group: String| Entry {
            group,
            keys: keys_label(&b.keys),
            desc: b.desc.clone(),
            name: b.command.name(),
            runs: (layer == Layer::Normal).then_some(b.command),
        };
        let here = match focus {
            Pane::Streams => "Streams pane".to_string(),
            Pane::Events => "Events pane".to_string(),
            Pane::Inspector => format!("{tab} tab"),
        };
        let normal = km.bindings(Layer::Normal);
        let mut entries: Vec<Entry> = super::footer::context_commands(focus, tab)
            .into_iter()
            .filter_map(|c| normal.iter().find(|b| b.command == c))
            .map(|b| entry(Layer::Normal, b, format!("Here: the {here}")))
            .collect();
        for layer in Layer::ALL {
            for b in km.bindings(layer) {
                let group = match layer {
                    Layer::Normal => b.group.clone(),
                    other => format!("While in {}", other.name()),
                };
                entries.push(entry(layer, b, group));
            }
        }
        Help {
            entries,
            filter: String::new(),
            filtering: false,
            cursor: 0,
            page: Cell::new(10),
        }
    }

    /// The entries the filter keeps (every word, in any case, in the keys, description,
    /// name or group), by index.
    fn shown(&self) -> Vec<usize> {
        let words: Vec<String> = self
            .filter
            .split_whitespace()
            .map(str::to_lowercase)
            .collect();
        (0..self.entries.len())
            .filter(|&i| {
                let e = &self.entries[i];
                let hay = format!("{} {} {} {}", e.keys, e.desc, e.name, e.group).to_lowercase();
                words.iter().all(|w| hay.contains(w.as_str()))
            })
            .collect()
    }

    pub fn type_char(&mut self, c: char) {
        self.filter.push(c);
        self.cursor = 0;
    }

    /// The command under the cursor, when it is one Enter can run.
    pub fn highlighted(&self) -> Option<Command> {
        let shown = self.shown();
        shown.get(self.cursor).and_then(|&i| self.entries[i].runs)
    }

    /// Lines to draw (group headings and entries) and the line the cursor is on.
    fn lines(&self, model: &Model, names: bool) -> (Vec<Line<'static>>, usize) {
        let t = &model.theme;
        let shown = self.shown();
        let width_of = |f: fn(&Entry) -> usize| shown.iter().map(|&i| f(&self.entries[i])).max();
        let key_width = width_of(|e| e.keys.chars().count()).unwrap_or(0);
        let name_width = width_of(|e| e.name.len()).unwrap_or(0);
        let mut lines = Vec::new();
        let mut cursor_line = 0;
        let mut group = None;
        for (n, &i) in shown.iter().enumerate() {
            let e = &self.entries[i];
            if group != Some(&e.group) {
                if group.is_some() {
                    lines.push(Line::from(""));
                }
                lines.push(Line::styled(e.group.clone(), t.bold(t.category)));
                group = Some(&e.group);
            }
            let mut spans = vec![Span::styled(
                format!("  {:<key_width$}  ", e.keys),
                t.fg(t.keys),
            )];
            if names {
                let name = format!("{:<name_width$}  ", e.name);
                spans.push(Span::styled(name, t.fg(t.muted)));
            }
            spans.push(Span::raw(e.desc.clone()));
            let mut line = Line::from(spans);
            if n == self.cursor {
                line = line.style(Style::new().add_modifier(Modifier::REVERSED));
                cursor_line = lines.len();
            }
            lines.push(line);
        }
        if shown.is_empty() {
            lines.push(Line::styled("no key matches", t.fg(t.muted)));
        }
        (lines, cursor_line)
    }
}

impl Component for Help {
    fn on_command(&mut self, command: Command, _model: &mut Model) -> Outcome {
        let count = self.shown().len();
        match command {
            Command::Search => self.filtering = true,
            Command::DeleteChar => {
                self.filter.pop();
                self.cursor = 0;
            }
            other => match Move::of(other, self.page.get()) {
                Some(m) => self.cursor = m.apply(self.cursor, count),
                None => return Outcome::Ignored,
            },
        }
        Outcome::Done
    }

    fn draw(&self, frame: &mut Frame, area: Rect, model: &Model, _focused: bool) {
        // Nearly the whole screen, in as many columns as fit; the keymap authors' names
        // are shown where each column has room for them.
        let width = area.width.saturating_sub(4).max(20);
        let names = width >= 200;
        let columns = (width / if names { 100 } else { 72 }).clamp(1, 3) as usize;
        let (lines, cursor_line) = self.lines(model, names);
        let filter = match (self.filtering, self.filter.is_empty()) {
            (true, _) => format!(" · filter: {}▏", eventscope::printable(&self.filter)),
            (false, false) => format!(" · filter: {}", eventscope::printable(&self.filter)),
            (false, true) => " · / filters".to_string(),
        };
        let close = model.keymap.keys_label(Command::Cancel).replace('/', " ");
        let title = format!(" Keys — Enter runs, {close} closes{filter} ");
        let height = Constraint::Length(area.height.saturating_sub(2));
        let inner = super::overlay(frame, area, width, height, title, model);
        let rows = (inner.height as usize).max(1);
        self.page.set(rows);
        // Column after column; where they cannot hold everything, the window of lines
        // that holds the cursor.
        let room = rows * columns;
        let per_column = lines.len().div_ceil(columns).min(rows);
        let offset = (cursor_line + 1).saturating_sub(room);
        let shown: Vec<Line> = lines.into_iter().skip(offset).take(room).collect();
        let areas =
            Layout::horizontal(vec![Constraint::Ratio(1, columns as u32); columns]).split(inner);
        for (chunk, area) in shown.chunks(per_column.max(1)).zip(areas.iter()) {
            frame.render_widget(Paragraph::new(chunk.to_vec()), *area);
        }
    }
}

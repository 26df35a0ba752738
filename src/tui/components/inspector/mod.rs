//! The inspector: tabs over the playhead (State, Event, Diff, …). Each tab is a file here
//! implementing `InspectorTab`; `tabs()` registers them, in key order (1, 2, 3…).

mod blame;
mod compare_tab;
mod diff_tab;
mod event_tab;
mod pinned;
mod plot;
mod read_model_tab;
mod state_tab;
mod stats_tab;
mod table_tab;

use std::cell::RefCell;

use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::json_tree::JsonTree;
use super::{Component, Outcome};
use crate::tui::action::Command;
use crate::tui::model::{Model, View};
use crate::tui::worker::Msg;

pub trait InspectorTab {
    fn title(&self) -> &'static str;

    /// A command while the inspector has focus and this tab shows.
    fn on_command(&mut self, command: Command, model: &mut Model) -> Outcome;

    /// The view's state, diff or stream changed: take what this tab shows from it.
    fn on_view_changed(&mut self, _model: &Model) {}

    /// Another stream was opened.
    fn on_open(&mut self) {}

    /// The tab was brought to the front: ask for what it needs.
    fn on_show(&mut self, _model: &mut Model) {}

    /// After every input and answer, shown or not: a tab keeping answers of its own asks
    /// for the playhead's if it has not (see [`Asked`]), so they are ready when shown.
    fn sync(&mut self, _model: &mut Model) {}

    /// A worker's answer: a tab that keeps what it asked for itself takes its own
    /// answers here (and gives back any other), so that a view is one file.
    fn on_answer(&mut self, msg: Msg, _model: &mut Model) -> Option<Msg> {
        Some(msg)
    }

    /// The JSON the tab shows, where it shows JSON: searches go to it.
    fn tree(&mut self) -> Option<&mut JsonTree> {
        None
    }

    /// Searches what the tab shows; `None` where it cannot be searched.
    fn search(&mut self, query: &str) -> Option<usize> {
        self.tree().map(|t| t.search(query))
    }

    fn next_match(&mut self, forward: bool) -> bool {
        self.tree().is_some_and(|t| t.next_match(forward))
    }

    /// Whether the tab's blame gutter is on (the State tab's).
    fn blame_on(&self) -> bool {
        false
    }

    /// Whether this tab shows the diff between marks, so it is worth computing.
    fn shows_diff(&self) -> bool {
        false
    }

    /// A note for the pane's title (the stream and version shown).
    fn heading(&self, _model: &Model) -> Option<String> {
        None
    }

    /// What the tab shows, as JSON, named for a file: for copy and export.
    fn content(&self, _model: &Model) -> Option<(String, serde_json::Value)> {
        None
    }

    /// The columns a table tab shows, and setting them; `None` where the tab has none.
    fn columns(&self) -> Option<Vec<String>> {
        None
    }

    fn set_columns(&mut self, _columns: Vec<String>) {}

    fn draw(&self, frame: &mut Frame, area: Rect, model: &Model, focused: bool);
}

/// Where a tab's answer is for: the view's epoch and the playhead when it was asked. A tab
/// asks once per spot and keeps only the answer for the spot it asked last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asked {
    pub epoch: u64,
    pub key: i64,
}

impl Asked {
    /// Where the playhead is now, if a view is open.
    pub fn now(model: &Model) -> Option<Asked> {
        let v = model.view.as_ref()?;
        Some(Asked {
            epoch: model.view_epoch,
            key: v.playhead,
        })
    }

    /// Whether this is where the playhead still is.
    pub fn is_current(&self, model: &Model) -> bool {
        Asked::now(model) == Some(*self)
    }
}

/// Scrolls a tab of lines by a movement command; other commands are not for it.
pub(super) fn scroll_by(command: Command, scroll: &mut usize) -> Outcome {
    let d: i64 = match command {
        Command::Up => -1,
        Command::Down => 1,
        Command::PageUp | Command::HalfPageUp => -10,
        Command::PageDown | Command::HalfPageDown => 10,
        Command::Top => -(*scroll as i64),
        _ => return Outcome::Ignored,
    };
    *scroll = (*scroll as i64 + d).max(0) as usize;
    Outcome::Done
}

/// Every tab, in the order of their keys.
fn tabs() -> Vec<Box<dyn InspectorTab>> {
    vec![
        Box::new(state_tab::StateTab::default()),
        Box::new(event_tab::EventTab::default()),
        Box::new(diff_tab::DiffTab::default()),
        Box::new(table_tab::TableTab::default()),
        Box::new(stats_tab::StatsTab::default()),
        Box::new(compare_tab::CompareTab::default()),
        Box::new(read_model_tab::ReadModelTab::default()),
    ]
}

pub struct Inspector {
    tabs: Vec<Box<dyn InspectorTab>>,
    pub active: usize,
    /// Where each tab's title was drawn (x range), for clicks.
    title_spans: RefCell<Vec<(u16, u16)>>,
}

impl Default for Inspector {
    fn default() -> Self {
        Inspector {
            tabs: tabs(),
            active: 0,
            title_spans: RefCell::new(Vec::new()),
        }
    }
}

impl Inspector {
    pub fn active_title(&self) -> &'static str {
        self.tabs[self.active].title()
    }

    /// Shows the tab with this index (from 0); false when there is none.
    pub fn show(&mut self, index: usize, model: &mut Model) -> bool {
        if index >= self.tabs.len() {
            return false;
        }
        self.active = index;
        model.diff_shown = self.tabs[index].shows_diff();
        self.tabs[index].on_show(model);
        self.tabs[index].on_view_changed(model);
        model.refresh_diff();
        true
    }

    pub fn show_titled(&mut self, title: &str, model: &mut Model) {
        if let Some(i) = self.tabs.iter().position(|t| t.title() == title) {
            self.show(i, model);
        }
    }

    pub fn on_view_changed(&mut self, model: &Model) {
        for t in &mut self.tabs {
            t.on_view_changed(model);
        }
    }

    pub fn on_open(&mut self) {
        for t in &mut self.tabs {
            t.on_open();
        }
    }

    /// Offers a worker's answer to every tab; `None` once one took it.
    pub fn on_answer(&mut self, msg: Msg, model: &mut Model) -> Option<Msg> {
        let mut msg = Some(msg);
        for t in &mut self.tabs {
            msg = t.on_answer(msg?, model);
        }
        msg
    }

    /// Every tab asks for the answers it keeps, if the playhead moved (see
    /// [`InspectorTab::sync`]).
    pub fn sync(&mut self, model: &mut Model) {
        for t in &mut self.tabs {
            t.sync(model);
        }
    }

    pub fn blame_on(&self) -> bool {
        self.tabs.iter().any(|t| t.blame_on())
    }

    /// Runs a command in the tab titled `title`, shown or not.
    pub fn command_in(&mut self, title: &str, command: Command, model: &mut Model) -> Outcome {
        match self.tabs.iter_mut().find(|t| t.title() == title) {
            Some(t) => t.on_command(command, model),
            None => Outcome::Ignored,
        }
    }

    /// The tab in front asks again for what it needs (another view was opened).
    pub fn reshow(&mut self, model: &mut Model) {
        self.tabs[self.active].on_show(model);
    }

    /// What the active tab shows, as JSON.
    pub fn content(&self, model: &Model) -> Option<(String, serde_json::Value)> {
        self.tabs[self.active].content(model)
    }

    /// The category table's columns (the first tab that has some).
    pub fn columns(&self) -> Option<Vec<String>> {
        self.tabs.iter().find_map(|t| t.columns())
    }

    pub fn set_columns(&mut self, columns: Vec<String>) {
        for t in &mut self.tabs {
            if t.columns().is_some() {
                t.set_columns(columns.clone());
            }
        }
    }

    pub fn search(&mut self, query: &str) -> Option<usize> {
        self.tabs[self.active].search(query)
    }

    /// Whether the tab in front can be searched (it shows JSON).
    pub fn searchable(&mut self) -> bool {
        self.tabs[self.active].tree().is_some()
    }

    pub fn next_match(&mut self, forward: bool) -> bool {
        self.tabs[self.active].next_match(forward)
    }
}

/// "replaying 43%" or "loading v7" while the playhead's state is on its way.
fn state_note(v: &View) -> Option<String> {
    if let Some((reached, total)) = v.progress {
        let pct = if total > 0 { reached * 100 / total } else { 0 };
        return Some(format!("replaying {pct}% ({reached}/{total})"));
    }
    if v.current_state().is_none() && v.current_category().is_none() && !v.is_empty() {
        return Some(format!("loading {}…", v.playhead));
    }
    None
}

impl Component for Inspector {
    fn on_command(&mut self, command: Command, model: &mut Model) -> Outcome {
        self.tabs[self.active].on_command(command, model)
    }

    fn on_click(&mut self, x: u16, y: u16, area: Rect, model: &mut Model) -> Outcome {
        if y == area.y {
            let hit = self
                .title_spans
                .borrow()
                .iter()
                .position(|(from, to)| (*from..*to).contains(&x));
            if let Some(i) = hit {
                self.show(i, model);
                return Outcome::Focus(super::Pane::Inspector);
            }
        }
        Outcome::Focus(super::Pane::Inspector)
    }

    fn draw(&self, frame: &mut Frame, area: Rect, model: &Model, focused: bool) {
        let t = &model.theme;
        let heading = self.tabs[self.active].heading(model);
        let note = model.view.as_ref().and_then(state_note);
        // Where the titles and the heading do not fit, tabs from the last on show their key
        // only (never the active one): the heading says what is shown, and must be read.
        let full = |i: usize, tab: &dyn InspectorTab| format!(" {} {} ", i + 1, tab.title());
        let widths: Vec<(usize, usize)> = self
            .tabs
            .iter()
            .enumerate()
            .map(|(i, tab)| {
                (
                    full(i, tab.as_ref()).chars().count() + 1,
                    format!(" {} ", i + 1).len() + 1,
                )
            })
            .collect();
        let fixed = heading.as_deref().map_or(0, |h| eventscope::columns(h) + 1)
            + note.as_deref().map_or(0, |n| eventscope::columns(n) + 1)
            + 4;
        let mut short = vec![false; self.tabs.len()];
        let mut total = fixed + widths.iter().map(|w| w.0).sum::<usize>();
        for i in (0..self.tabs.len()).rev() {
            if total <= area.width as usize {
                break;
            }
            if i != self.active {
                short[i] = true;
                total -= widths[i].0 - widths[i].1;
            }
        }
        let label = |i: usize, tab: &dyn InspectorTab| match short[i] {
            true => format!(" {} ", i + 1),
            false => full(i, tab),
        };
        let mut title = vec![Span::raw(" ")];
        let mut x = area.x + 2;
        let mut spans = Vec::new();
        for (i, tab) in self.tabs.iter().enumerate() {
            let text = label(i, tab.as_ref());
            let style = if i == self.active {
                t.bold(t.focus).add_modifier(Modifier::REVERSED)
            } else {
                t.fg(t.muted)
            };
            let w = text.chars().count() as u16;
            spans.push((x, x + w));
            x += w + 1;
            title.push(Span::styled(text, style));
            title.push(Span::raw(" "));
        }
        *self.title_spans.borrow_mut() = spans;
        if let Some(h) = heading {
            title.push(Span::styled(
                format!("{} ", eventscope::printable(&h)),
                t.bold(t.title),
            ));
        }
        if let Some(note) = note {
            title.push(Span::styled(format!("{note} "), t.fg(t.warnings)));
        }
        let block = super::pane_block(model, focused, Line::from(title));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if model.view.is_none() {
            let hint = format!("Reducer: {}", eventscope::printable(&model.reducer_name));
            frame.render_widget(Paragraph::new(hint), inner);
            return;
        }
        self.tabs[self.active].draw(frame, inner, model, focused);
    }
}

/// A banner over a state replayed without some events.
pub fn what_if_banner(model: &Model, s: &crate::tui::worker::StateAt) -> Vec<Line<'static>> {
    if s.what_if.is_empty() {
        return Vec::new();
    }
    let t = &model.theme;
    let versions: Vec<String> = s.what_if.iter().map(i64::to_string).collect();
    vec![Line::styled(
        format!(
            " WHAT-IF without version(s) {} ({} toggles, {} puts all back) ",
            versions.join(", "),
            model.keymap.keys_label(Command::ToggleSkip),
            model.keymap.keys_label(Command::ClearSkips)
        ),
        t.bold(t.warnings).add_modifier(Modifier::REVERSED),
    )]
}

/// What the state was computed with, where that is not plain: the built-in merge (a guess
/// for stores whose events carry changes) or a stored snapshot.
pub fn provenance(model: &Model, s: &crate::tui::worker::StateAt) -> Vec<Line<'static>> {
    let t = &model.theme;
    let mut out = Vec::new();
    if s.merge {
        out.push(Line::styled(
            "⚠ built-in merge: each event's data deep-merged, a guess; pass --reducer for your fold",
            t.fg(t.warnings),
        ));
    }
    if let Some(v) = s.from_snapshot {
        let key = model.keymap.keys_label(Command::ToggleSnapshots);
        out.push(Line::styled(
            format!(
                "started from the stored snapshot at version {v} ({key}: replay from the first event)"
            ),
            t.fg(t.snapshot),
        ));
    }
    out
}

/// Styled one-line messages wrapped to `width`, each keeping its style.
pub fn wrap_lines(lines: Vec<Line<'static>>, width: usize) -> Vec<Line<'static>> {
    lines
        .into_iter()
        .flat_map(|l| {
            let text: String = l.spans.iter().map(|s| s.content.as_ref()).collect();
            let style = l.style;
            wrap(&text, width)
                .into_iter()
                .map(move |part| Line::styled(part, style))
        })
        .collect()
}

/// `text` cut into lines of at most `width` characters, at spaces where there are some.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let mut word: Vec<char> = word.chars().collect();
        let used = line.chars().count();
        if used > 0 && used + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        while word.len() > width {
            lines.push(word.drain(..width).collect());
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.extend(word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    #[test]
    fn wrap_breaks_at_spaces_and_cuts_long_words() {
        assert_eq!(super::wrap("abc def gh", 7), vec!["abc def", "gh"]);
        assert_eq!(super::wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(super::wrap("", 4), vec![""]);
    }
}

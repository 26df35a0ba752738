//! The screen's parts. Each owns its state, handles the commands it is given while it has
//! focus, and draws itself from that state and the shared `Model` (pure `draw`). `App`
//! composes them and routes actions; see gitui's `src/components`.

pub mod consumers;
pub mod events_table;
pub mod footer;
pub mod header;
pub mod help;
pub mod highlight;
pub mod inspector;
pub mod json_tree;
pub mod json_view;
pub mod messages;
pub mod prompt;
pub mod related;
pub mod stream_list;
pub mod timeline;
pub mod types;

use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::Line;
use ratatui::widgets::{Block, BorderType};
use ratatui::Frame;

use super::action::Command;
use super::model::Model;
use super::worker::Target;

/// What a component did with a command or a click, and what it asks of the app.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Not for this component: the app tries its own commands.
    Ignored,
    Done,
    /// Open a stream (or the log, or a category) in the events table.
    Open(Target),
    /// Open a stream at a version.
    OpenAt(Target, i64),
    /// Show an inspector tab, by its title.
    ShowTab(&'static str),
    /// Show the Consumers overlay.
    ShowConsumers,
    /// Show the Types overlay.
    ShowTypes,
    Focus(Pane),
}

/// The panes that take focus, in Tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Streams,
    Events,
    Inspector,
}

pub trait Component {
    /// Runs a command while this has focus.
    fn on_command(&mut self, command: Command, model: &mut Model) -> Outcome;

    fn draw(&self, frame: &mut Frame, area: Rect, model: &Model, focused: bool);

    /// A left click at (`x`, `y`) inside `area`, where this was last drawn.
    fn on_click(&mut self, _x: u16, _y: u16, _area: Rect, _model: &mut Model) -> Outcome {
        Outcome::Ignored
    }
}

/// How a list moves for a command, given the rows it shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    By(i64),
    Top,
    Bottom,
}

impl Move {
    /// The move `command` makes in a list showing `page` rows, if it is a move.
    pub fn of(command: Command, page: usize) -> Option<Move> {
        let page = page.max(1) as i64;
        let half = (page / 2).max(1);
        Some(match command {
            Command::Up => Move::By(-1),
            Command::Down => Move::By(1),
            Command::PageUp => Move::By(-page),
            Command::PageDown => Move::By(page),
            Command::HalfPageUp => Move::By(-half),
            Command::HalfPageDown => Move::By(half),
            Command::Top => Move::Top,
            Command::Bottom => Move::Bottom,
            _ => return None,
        })
    }

    /// Where the move lands from `at` in `0..len`.
    pub fn apply(self, at: usize, len: usize) -> usize {
        let last = len.saturating_sub(1);
        match self {
            Move::By(d) => (at as i64 + d).clamp(0, last as i64) as usize,
            Move::Top => 0,
            Move::Bottom => last,
        }
    }
}

/// A pane's frame: highlighted when it has focus.
/// An overlay's frame: centred, `width` wide at most and `height` high, drawn over
/// what is below with a rounded border and `title`; the area inside it.
pub fn overlay(
    frame: &mut Frame,
    area: Rect,
    width: u16,
    height: ratatui::layout::Constraint,
    title: String,
    model: &Model,
) -> Rect {
    use ratatui::layout::{Constraint, Flex, Layout};
    let [popup] = Layout::vertical([height]).flex(Flex::Center).areas(area);
    let [popup] = Layout::horizontal([Constraint::Length(area.width.min(width))])
        .flex(Flex::Center)
        .areas(popup);
    frame.render_widget(ratatui::widgets::Clear, popup);
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(model.theme.fg(model.theme.focus))
        .title(title);
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    inner
}

pub fn pane_block<'a>(model: &Model, focused: bool, title: Line<'a>) -> Block<'a> {
    let t = &model.theme;
    let style = if focused {
        t.fg(t.focus)
    } else {
        t.fg(t.border)
    };
    Block::bordered()
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Plain
        })
        .border_style(style)
        .title(title)
        .title_style(t.fg(t.title).add_modifier(Modifier::BOLD))
}

/// A timestamp as shown: `2024-03-01 09:04:00` plus the stored fraction, in UTC or in the
/// local zone (the Events pane's header names it); nothing where the layout has no times.
pub fn show_time(stored: Option<&str>, local: bool) -> String {
    stored.map_or_else(String::new, |t| eventscope::time::display(t, local))
}

/// The zone times are shown in, for headers and prompts.
pub fn zone_label(local: bool) -> String {
    if local {
        eventscope::time::local_zone_name()
    } else {
        "UTC".into()
    }
}

//! Drawing: a pure function of `&App` per pane. `layout` is shared with the event loop,
//! which maps mouse clicks on the timeline with it.

mod events;
mod footer;
mod help;
mod state;
mod streams;
mod timeline;

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, BorderType, Paragraph};
use ratatui::Frame;

use super::app::{App, Pane};

pub use timeline::slider_fraction;

/// Smallest terminal the layout fits.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 16;

pub struct Areas {
    pub streams: Rect,
    pub events: Rect,
    pub state: Rect,
    pub timeline: Rect,
    pub footer: Rect,
}

/// Where each pane goes, or `None` when the terminal is too small.
pub fn layout(area: Rect) -> Option<Areas> {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        return None;
    }
    let [body, timeline, footer] = Layout::vertical([
        Constraint::Min(8),
        Constraint::Length(4),
        Constraint::Length(1),
    ])
    .areas(area);
    let side = (area.width / 4).clamp(24, 40);
    let [streams, right] =
        Layout::horizontal([Constraint::Length(side), Constraint::Min(30)]).areas(body);
    let [events, state] =
        Layout::vertical([Constraint::Percentage(40), Constraint::Percentage(60)]).areas(right);
    Some(Areas {
        streams,
        events,
        state,
        timeline,
        footer,
    })
}

pub fn draw(app: &App, frame: &mut Frame) {
    let area = frame.area();
    let Some(areas) = layout(area) else {
        let msg = format!(
            "terminal too small: {}×{} (needs {MIN_WIDTH}×{MIN_HEIGHT})",
            area.width, area.height
        );
        frame.render_widget(
            Paragraph::new(msg).wrap(ratatui::widgets::Wrap { trim: true }),
            area,
        );
        return;
    };
    streams::draw(app, frame, areas.streams);
    events::draw(app, frame, areas.events);
    state::draw(app, frame, areas.state);
    timeline::draw(app, frame, areas.timeline);
    footer::draw(app, frame, areas.footer);
    if app.help {
        help::draw(app, frame, area);
    }
}

/// A pane's frame: highlighted when it has focus.
fn pane_block<'a>(app: &App, pane: Pane, title: Line<'a>) -> Block<'a> {
    let focused = app.focus == pane;
    let style = if focused {
        Style::new().fg(Color::Cyan)
    } else {
        Style::new().fg(Color::DarkGray)
    };
    Block::bordered()
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Plain
        })
        .border_style(style)
        .title(title)
        .title_style(Style::new().add_modifier(Modifier::BOLD).fg(Color::Reset))
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

#[cfg(test)]
mod tests;

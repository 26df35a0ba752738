//! Where each component goes, and drawing the whole screen from the app. `layout` is also
//! what mouse clicks are mapped with.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use super::app::App;
use super::components::footer::{self, FooterMode};
use super::components::{Component, Pane};

/// Smallest terminal the layout fits.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 16;

pub struct Areas {
    pub header: Rect,
    pub streams: Rect,
    pub events: Rect,
    pub inspector: Rect,
    pub timeline: Rect,
    pub footer: Rect,
}

/// Where each pane goes, or `None` when the terminal is too small. A zoomed pane takes the
/// whole body and the other two none (so clicks cannot reach them either).
pub fn layout(area: Rect, zoomed: Option<Pane>) -> Option<Areas> {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        return None;
    }
    let [header, body, timeline, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(8),
        Constraint::Length(4),
        Constraint::Length(1),
    ])
    .areas(area);
    // The list grows with the terminal, so ids and times fit on wide screens.
    let side = (area.width * 3 / 10).clamp(24, 64);
    let [streams, right] =
        Layout::horizontal([Constraint::Length(side), Constraint::Min(30)]).areas(body);
    let [events, inspector] =
        Layout::vertical([Constraint::Percentage(40), Constraint::Percentage(60)]).areas(right);
    let hidden = Rect::new(body.x, body.y, 0, 0);
    let (streams, events, inspector) = match zoomed {
        None => (streams, events, inspector),
        Some(Pane::Streams) => (body, hidden, hidden),
        Some(Pane::Events) => (hidden, body, hidden),
        Some(Pane::Inspector) => (hidden, hidden, body),
    };
    Some(Areas {
        header,
        streams,
        events,
        inspector,
        timeline,
        footer,
    })
}

pub fn draw(app: &App, frame: &mut Frame) {
    let area = frame.area();
    let Some(areas) = layout(area, app.zoomed) else {
        let msg = format!(
            "terminal too small: {}×{} (needs {MIN_WIDTH}×{MIN_HEIGHT})",
            area.width, area.height
        );
        frame.render_widget(Paragraph::new(msg).wrap(Wrap { trim: true }), area);
        return;
    };
    let m = &app.model;
    super::components::header::draw(frame, areas.header, m);
    app.streams
        .draw(frame, areas.streams, m, app.focus == Pane::Streams);
    app.events
        .draw(frame, areas.events, m, app.focus == Pane::Events);
    app.inspector
        .draw(frame, areas.inspector, m, app.focus == Pane::Inspector);
    app.timeline.draw(frame, areas.timeline, m, false);
    footer::draw(
        frame,
        areas.footer,
        m,
        FooterMode {
            prompt: app.prompt.as_ref(),
            filter: app.streams.filtering.then_some(app.streams.filter.as_str()),
            overlay: app.overlay_open(),
            focus: app.focus,
            tab: app.inspector.active_title(),
        },
    );
    if let Some(help) = &app.help {
        help.draw(frame, area, m, true);
    }
    if let Some(consumers) = &app.consumers {
        consumers.draw(frame, area, m, true);
    }
    if let Some(types) = &app.types {
        types.draw(frame, area, m, true);
    }
    if let Some(related) = &app.related {
        related.draw(frame, area, m, true);
    }
    if let Some(messages) = &app.messages {
        messages.draw(frame, area, m, true);
    }
}

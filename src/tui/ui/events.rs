//! The events pane: the opened stream's events around the playhead, the playhead's row
//! highlighted, marks in the gutter.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::tui::app::{App, Pane};
use crate::tui::worker::Target;
use eventscope::fit;

pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let Some(view) = &app.view else {
        let block = super::pane_block(app, Pane::Events, Line::from(" Events "));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        frame.render_widget(Paragraph::new("Select a stream and press Enter."), inner);
        return;
    };
    let title = Line::from(format!(" Events · {} ", view.title()));
    let block = super::pane_block(app, Pane::Events, title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height < 2 {
        return;
    }
    let all = view.target == Target::All;
    let key_head = if all { "POS" } else { "VER" };
    let time_width = view
        .rows
        .values()
        .flatten()
        .map(|r| {
            super::show_time(r.timestamp.as_deref(), app.local_time)
                .chars()
                .count()
        })
        .max()
        .unwrap_or(0)
        .max(if view.rows.is_empty() { 19 } else { 0 });
    let time_head = if time_width == 0 {
        String::new()
    } else {
        format!("TIME {}", super::zone_label(app.local_time))
    };
    let mut lines = vec![Line::styled(
        format!(
            "  {key_head:>6} {:<20} {time_head:<time_width$} DATA",
            "TYPE"
        ),
        Style::new()
            .fg(Color::DarkGray)
            .add_modifier(Modifier::BOLD),
    )];
    let rows = inner.height as i64 - 1;
    let start = (view.playhead - rows / 2).clamp(view.first, (view.len - rows + 1).max(view.first));
    let width = inner.width as usize;
    for key in start..(start + rows).min(view.len + 1) {
        let mark = match (view.mark_a == Some(key), view.mark_b == Some(key)) {
            (true, true) => "AB",
            (true, false) => "A ",
            (false, true) => " B",
            _ => "  ",
        };
        let found = view.rows.get(&key).filter(|rows| !rows.is_empty());
        let key_lines: Vec<Line> = match found {
            // Events sharing a version are all listed, each on its own line.
            Some(found) => found
                .iter()
                .map(|r| {
                    let p = eventscope::printable;
                    let ty = if all {
                        format!("{} {}", p(&r.stream_id), p(&r.event_type))
                    } else {
                        p(&r.event_type).into_owned()
                    };
                    let head = format!(
                        "{key:>6} {:<20} {:<time_width$} ",
                        fit(&ty, 20),
                        super::show_time(r.timestamp.as_deref(), app.local_time)
                    );
                    let mark = if r.snapshot && mark == "  " {
                        " S"
                    } else {
                        mark
                    };
                    let room = width.saturating_sub(head.chars().count() + 2);
                    Line::from(vec![
                        Span::styled(
                            mark,
                            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
                        ),
                        Span::raw(head),
                        Span::styled(
                            fit(&eventscope::printable(&r.preview), room),
                            Style::new().fg(Color::DarkGray),
                        ),
                    ])
                })
                .collect(),
            None if (view.rows_known.0..=view.rows_known.1).contains(&key) => vec![Line::styled(
                format!(
                    "{mark}{key:>6} (no event at this {})",
                    if all { "position" } else { "version" }
                ),
                Style::new().fg(Color::Red),
            )],
            None => vec![Line::from(format!("{mark}{key:>6} …"))],
        };
        for line in key_lines {
            let line = if key == view.playhead {
                line.style(Style::new().add_modifier(Modifier::REVERSED))
            } else {
                line
            };
            lines.push(line);
        }
    }
    lines.truncate(rows as usize + 1);
    if view.is_empty() {
        lines.push(Line::from("This stream has no events."));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

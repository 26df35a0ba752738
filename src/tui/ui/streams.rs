//! The streams pane: `$all`, then streams grouped by category, filtered live by `/`.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::tui::app::{App, ListRow, Pane};

pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let store = std::path::Path::new(&app.store_name)
        .file_name()
        .map_or(app.store_name.clone(), |n| n.to_string_lossy().into_owned());
    let mut title = vec![Span::raw(" Streams ")];
    if !app.filtering && app.filter.is_empty() {
        title.push(Span::styled(
            format!("{store} "),
            Style::new().fg(Color::DarkGray),
        ));
    } else {
        let cursor = if app.filtering { "▏" } else { "" };
        title.push(Span::styled(
            format!("/{}{cursor} ", app.filter),
            Style::new().fg(Color::Yellow),
        ));
    }
    let block = super::pane_block(app, Pane::Streams, Line::from(title));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if !app.streams_loaded {
        frame.render_widget(Paragraph::new("loading streams…"), inner);
        return;
    }
    let height = inner.height as usize;
    let offset = (app.selected + 1).saturating_sub(height);
    let width = inner.width as usize;
    let lines: Vec<Line> = app
        .list
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, row)| {
            let (label, count, style) = match row {
                ListRow::All => (
                    "$all".to_string(),
                    app.last_position,
                    Style::new().add_modifier(Modifier::BOLD),
                ),
                ListRow::Category { name, streams } => (
                    format!("▾ {}", eventscope::printable(name)),
                    *streams as i64,
                    Style::new().fg(Color::Magenta).add_modifier(Modifier::BOLD),
                ),
                ListRow::Stream(s) => {
                    let info = &app.streams[*s];
                    let id = eventscope::printable(&info.stream_id);
                    // A stream with rows whose version is no integer is marked; the rest
                    // of the store stays browsable.
                    if info.bad_versions > 0 {
                        (format!("⚠ {id}"), info.events, Style::new().fg(Color::Red))
                    } else {
                        (format!("  {id}"), info.events, Style::new())
                    }
                }
            };
            let count = count.to_string();
            let room = width.saturating_sub(count.len() + 1);
            let label = eventscope::fit(&label, room);
            let pad = width.saturating_sub(label.chars().count() + count.len());
            let text = format!("{label}{}{count}", " ".repeat(pad));
            let style = if i == app.selected {
                style.add_modifier(Modifier::REVERSED)
            } else {
                style
            };
            Line::styled(text, style)
        })
        .collect();
    if lines.is_empty() {
        frame.render_widget(Paragraph::new("no matching streams"), inner);
    } else {
        frame.render_widget(Paragraph::new(lines), inner);
    }
}

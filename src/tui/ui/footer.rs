//! The footer: a prompt while one is open, else a status message or the key hints that the
//! keymap marks for the footer.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::tui::action::Command;
use crate::tui::app::{App, PromptKind};

pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let line = if let Some(p) = &app.prompt {
        let label = match p.kind {
            PromptKind::Version => "Go to version: ".to_string(),
            PromptKind::Time => format!(
                "Go to time (RFC 3339 or a prefix, {}): ",
                super::zone_label(app.local_time)
            ),
        };
        Line::from(vec![
            Span::styled(
                label,
                Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            ),
            Span::raw(format!("{}▏", p.input)),
            Span::styled("  Enter go · Esc cancel", Style::new().fg(Color::DarkGray)),
        ])
    } else if app.filtering {
        Line::from(vec![
            Span::styled(
                "Filter: ",
                Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            ),
            Span::raw(format!("{}▏", app.filter)),
            Span::styled("  Enter open · Esc clear", Style::new().fg(Color::DarkGray)),
        ])
    } else if app.status.is_none() && app.pending > 0 && !app.following {
        let r = app.keymap.keys_label(Command::Refresh);
        let f = app.keymap.keys_label(Command::ToggleFollow);
        Line::styled(
            format!("{} new events: {r} refreshes, {f} follows", app.pending),
            Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
        )
    } else if let Some((msg, error)) = &app.status {
        let color = if *error { Color::Red } else { Color::Yellow };
        Line::styled(
            eventscope::printable(msg).into_owned(),
            Style::new().fg(color),
        )
    } else {
        hints(app)
    };
    frame.render_widget(Paragraph::new(line), area);
}

fn hints(app: &App) -> Line<'static> {
    let mut spans = Vec::new();
    let step = app
        .keymap
        .bindings
        .iter()
        .find(|b| b.command == Command::StepBack);
    for b in &app.keymap.bindings {
        let Some(short) = b.footer else { continue };
        let mut keys = b.keys.first().map(|k| k.label()).unwrap_or_default();
        if b.command == Command::StepForward {
            // ← and → share one hint.
            if let Some(back) = step.and_then(|s| s.keys.first()) {
                keys = format!("{}{keys}", back.label());
            }
        }
        spans.push(Span::styled(
            keys,
            Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
        ));
        spans.push(Span::styled(
            format!(" {short}  "),
            Style::new().fg(Color::DarkGray),
        ));
    }
    Line::from(spans)
}

//! The message log: the last messages the status line showed, newest last, each whole
//! (wrapped to the width) with its time, so that a long error can be read.

use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use super::{Component, Move, Outcome};
use crate::tui::action::Command;
use crate::tui::model::Model;

/// The overlay's scroll: lines up from the newest.
#[derive(Default)]
pub struct Messages {
    up: usize,
}

impl Component for Messages {
    fn on_command(&mut self, command: Command, model: &mut Model) -> Outcome {
        let most = model.messages.len().saturating_sub(1);
        self.up = match Move::of(command, 10) {
            Some(Move::By(d)) => (self.up as i64 - d).clamp(0, most as i64) as usize,
            Some(Move::Top) => most,
            Some(Move::Bottom) => 0,
            None => return Outcome::Ignored,
        };
        Outcome::Done
    }

    fn draw(&self, frame: &mut Frame, area: Rect, model: &Model, _focused: bool) {
        let t = &model.theme;
        let title = format!(
            " Messages · the last {}, newest last · ↑↓ scroll, {} closes ",
            crate::tui::model::MESSAGES_KEPT,
            model.keymap.keys_label(Command::Cancel)
        );
        let inner = super::overlay(frame, area, 120, Constraint::Percentage(80), title, model);
        if model.messages.is_empty() {
            frame.render_widget(Paragraph::new("No messages yet."), inner);
            return;
        }
        let shown = model.messages.len() - self.up;
        let lines: Vec<Line> = model
            .messages
            .iter()
            .take(shown)
            .map(|m| {
                let color = if m.error { t.errors } else { t.title };
                Line::from(vec![
                    Span::styled(format!("{} ", m.at), t.fg(t.muted)),
                    Span::styled(eventscope::printable(&m.text).into_owned(), t.fg(color)),
                ])
            })
            .collect();
        let text = Paragraph::new(lines).wrap(Wrap { trim: false });
        // The newest at the bottom: scroll so the last wrapped line shows.
        let height = text.line_count(inner.width) as u16;
        let scroll = height.saturating_sub(inner.height);
        frame.render_widget(text.scroll((scroll, 0)), inner);
    }
}

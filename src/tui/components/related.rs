//! The Related overlay: the events sharing the playhead event's correlation id, as a
//! causation tree. Enter opens a line's stream at that event; Back returns.

use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{Component, Move, Outcome};
use crate::tui::action::Command;
use crate::tui::model::Model;
use crate::tui::worker::{RelatedLine, Target};

pub struct Related {
    pub title: String,
    pub lines: Vec<RelatedLine>,
    pub cursor: usize,
}

impl Related {
    pub fn new(title: String, lines: Vec<RelatedLine>) -> Related {
        let cursor = lines
            .iter()
            .position(|l| l.relation == "asked")
            .unwrap_or(0);
        Related {
            title,
            lines,
            cursor,
        }
    }
}

impl Component for Related {
    fn on_command(&mut self, command: Command, _model: &mut Model) -> Outcome {
        if let Some(m) = Move::of(command, 10) {
            self.cursor = m.apply(self.cursor, self.lines.len());
            return Outcome::Done;
        }
        match (command, self.lines.get(self.cursor)) {
            (Command::Open, Some(l)) => {
                Outcome::OpenAt(Target::Stream(l.stream_id.clone()), l.version)
            }
            _ => Outcome::Ignored,
        }
    }

    fn draw(&self, frame: &mut Frame, area: Rect, model: &Model, _focused: bool) {
        let t = &model.theme;
        let height = (self.lines.len() as u16 + 2).min(area.height);
        let title = format!(
            " Related · {} · Enter opens, {} goes back ",
            eventscope::printable(&self.title),
            model.keymap.keys_label(Command::Back)
        );
        let inner = super::overlay(frame, area, 100, Constraint::Length(height), title, model);
        let rows = inner.height as usize;
        let offset = (self.cursor + 1).saturating_sub(rows);
        let lines: Vec<Line> = self
            .lines
            .iter()
            .enumerate()
            .skip(offset)
            .take(rows)
            .map(|(i, l)| {
                let mark = if l.relation == "asked" { "▶ " } else { "  " };
                let word = match l.relation.as_str() {
                    "cause" => " (cause)",
                    "effect" => " (effect)",
                    _ => "",
                };
                let time = l
                    .timestamp
                    .as_deref()
                    .map(|t| eventscope::time::display(t, model.local_time))
                    .unwrap_or_default();
                let text = format!(
                    "{mark}{}{} {} v{} {} {time}{word}",
                    "  ".repeat(l.depth),
                    l.position,
                    eventscope::printable(&l.stream_id),
                    l.version,
                    eventscope::printable(&l.event_type),
                );
                let line = Line::from(eventscope::fit(&text, inner.width as usize));
                if i == self.cursor {
                    line.style(Style::new().add_modifier(Modifier::REVERSED))
                } else if l.relation == "asked" {
                    line.style(t.bold(t.marks))
                } else {
                    line
                }
            })
            .collect();
        frame.render_widget(Paragraph::new(lines), inner);
    }
}

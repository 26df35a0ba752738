//! The Table tab: every stream of a category as of the playhead, one row each, with
//! columns from the states' top-level fields (`c` picks them). Enter opens the stream
//! under the cursor at the version it had then.

use std::cell::Cell;

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use serde_json::Value;

use super::InspectorTab;
use crate::tui::action::Command;
use crate::tui::components::{Move, Outcome};
use crate::tui::model::Model;
use crate::tui::worker::Target;
use eventscope::replay::StreamState;

/// Columns shown when none were picked: the first fields the states have.
const AUTO_COLUMNS: usize = 6;
/// Widest a column gets.
const MAX_WIDTH: usize = 24;

#[derive(Default)]
pub struct TableTab {
    cursor: usize,
    picked: Vec<String>,
    page: Cell<usize>,
}

fn streams(model: &Model) -> Option<&[StreamState]> {
    match model.view.as_ref()?.current_category()? {
        Ok(s) => Some(s),
        Err(_) => None,
    }
}

/// A field's value in a cell: strings bare, containers summarised.
fn cell(v: Option<&Value>) -> String {
    match v {
        None => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(m)) => format!("{{{} keys}}", m.len()),
        Some(Value::Array(a)) => format!("[{}]", a.len()),
        Some(other) => other.to_string(),
    }
}

impl TableTab {
    fn columns_for(&self, rows: &[StreamState]) -> Vec<String> {
        if !self.picked.is_empty() {
            return self.picked.clone();
        }
        let mut out: Vec<String> = Vec::new();
        for r in rows {
            if let Value::Object(m) = &r.state {
                for k in m.keys() {
                    if out.len() < AUTO_COLUMNS && !out.contains(k) {
                        out.push(k.clone());
                    }
                }
            }
        }
        out
    }
}

impl InspectorTab for TableTab {
    fn title(&self) -> &'static str {
        "Table"
    }

    fn on_command(&mut self, command: Command, model: &mut Model) -> Outcome {
        let Some(rows) = streams(model) else {
            return Outcome::Ignored;
        };
        if let Some(m) = Move::of(command, self.page.get()) {
            self.cursor = m.apply(self.cursor, rows.len());
            return Outcome::Done;
        }
        match (command, rows.get(self.cursor)) {
            (Command::Open, Some(r)) => {
                Outcome::OpenAt(Target::Stream(r.stream_id.clone()), r.version)
            }
            _ => Outcome::Ignored,
        }
    }

    fn on_open(&mut self) {
        self.cursor = 0;
    }

    fn columns(&self) -> Option<Vec<String>> {
        Some(self.picked.clone())
    }

    fn set_columns(&mut self, columns: Vec<String>) {
        self.picked = columns;
    }

    fn content(&self, model: &Model) -> Option<(String, Value)> {
        let v = model.view.as_ref()?;
        let Target::Category(c) = &v.target else {
            return None;
        };
        let rows = streams(model)?;
        Some((
            format!("{c}@{}.category", v.playhead),
            serde_json::to_value(rows).ok()?,
        ))
    }

    fn heading(&self, model: &Model) -> Option<String> {
        let v = model.view.as_ref()?;
        match &v.target {
            Target::Category(c) => Some(format!("{c} as of event {}", v.playhead)),
            _ => None,
        }
    }

    fn draw(&self, frame: &mut ratatui::Frame, area: Rect, model: &Model, focused: bool) {
        let t = &model.theme;
        let Some(view) = &model.view else { return };
        if !matches!(view.target, Target::Category(_)) {
            let text = "Open a category (Enter on its row in the stream list) to see all its streams here, as of the playhead.";
            frame.render_widget(
                Paragraph::new(text).wrap(ratatui::widgets::Wrap { trim: true }),
                area,
            );
            return;
        }
        let rows = match view.current_category() {
            None => return frame.render_widget(Paragraph::new("…"), area),
            Some(Err(e)) => {
                let text = eventscope::printable(&e.to_string()).into_owned();
                return frame
                    .render_widget(Paragraph::new(Line::styled(text, t.fg(t.errors))), area);
            }
            Some(Ok(rows)) => rows,
        };
        let columns = self.columns_for(rows);
        let id_width = rows
            .iter()
            .map(|r| eventscope::columns(&eventscope::printable(&r.stream_id)))
            .max()
            .unwrap_or(6)
            .clamp(6, 40);
        let widths: Vec<usize> = columns
            .iter()
            .map(|c| {
                rows.iter()
                    .map(|r| eventscope::columns(&cell(r.state.get(c))))
                    .max()
                    .unwrap_or(0)
                    .max(c.chars().count())
                    .min(MAX_WIDTH)
            })
            .collect();
        let mut head = format!("{:<id_width$} {:>7}", "STREAM", "VERSION");
        for (c, w) in columns.iter().zip(&widths) {
            head.push(' ');
            head.push_str(&eventscope::pad(&eventscope::printable(c), *w));
        }
        let mut lines = vec![Line::styled(head, t.bold(t.muted))];
        let height = (area.height as usize).saturating_sub(1).max(1);
        self.page.set(height);
        let cursor = self.cursor.min(rows.len().saturating_sub(1));
        let offset = (cursor + 1).saturating_sub(height);
        for (i, r) in rows.iter().enumerate().skip(offset).take(height) {
            let mut text = format!(
                "{} {:>7}",
                eventscope::pad(&eventscope::printable(&r.stream_id), id_width),
                r.version
            );
            for (c, w) in columns.iter().zip(&widths) {
                let value = eventscope::printable(&cell(r.state.get(c))).into_owned();
                text.push(' ');
                text.push_str(&eventscope::pad(&value, *w));
            }
            // A stream the reducer failed or was stopped on: its state is from before.
            let line = match &r.error {
                Some(e) => Line::from(vec![
                    text.into(),
                    ratatui::text::Span::styled(
                        format!(" ⚠ {}", eventscope::printable(e)),
                        t.fg(t.errors),
                    ),
                ]),
                None => Line::from(text),
            };
            lines.push(if focused && i == cursor {
                line.style(Style::new().add_modifier(Modifier::REVERSED))
            } else {
                line
            });
        }
        if rows.is_empty() {
            lines.push(Line::from("no stream of this category has an event yet"));
        }
        frame.render_widget(Paragraph::new(lines), area);
    }
}

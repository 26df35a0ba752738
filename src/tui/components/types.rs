//! The Types overlay (`types` in the stream list, or `T`): every event type with its
//! count, schema versions and payload shapes over time (the `types` command's catalog),
//! what changed from one shape to the next, the newest marked. Enter on a shape finds
//! its events in `$all`.

use eventscope::store::types::{shown, ShapeFields, TypeEntry};
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{Component, Move, Outcome};
use crate::tui::action::Command;
use crate::tui::model::Model;
use crate::tui::worker::{FindSpec, Msg, Target, WorkerError};

#[derive(Default)]
pub struct Types {
    catalog: Option<Result<Vec<TypeEntry>, WorkerError>>,
    /// Index into the shapes, counted across types.
    pub cursor: usize,
}

/// One line of the overlay: a type's heading, or one of its shapes (type, shape index).
enum Row<'a> {
    Type(&'a TypeEntry),
    Shape(&'a TypeEntry, usize),
}

impl Types {
    /// The catalog, when the worker's answer comes.
    pub fn on_answer(&mut self, msg: Msg) -> Option<Msg> {
        match msg {
            Msg::Types(result) => {
                self.catalog = Some(result);
                None
            }
            other => Some(other),
        }
    }

    fn rows(&self) -> Vec<Row<'_>> {
        let Some(Ok(types)) = &self.catalog else {
            return Vec::new();
        };
        let mut rows = Vec::new();
        for t in types {
            rows.push(Row::Type(t));
            rows.extend((0..t.shapes.len()).map(|i| Row::Shape(t, i)));
        }
        rows
    }

    /// The shape under the cursor: its type and fields.
    fn shape_at(&self, cursor: usize) -> Option<(String, ShapeFields)> {
        self.rows()
            .into_iter()
            .filter_map(|r| match r {
                Row::Shape(t, i) => Some((t.event_type.clone(), t.shapes[i].fields.clone())),
                Row::Type(_) => None,
            })
            .nth(cursor)
    }

    fn shapes(&self) -> usize {
        self.rows()
            .iter()
            .filter(|r| matches!(r, Row::Shape(..)))
            .count()
    }
}

impl Component for Types {
    fn on_command(&mut self, command: Command, model: &mut Model) -> Outcome {
        if let Some(m) = Move::of(command, 10) {
            self.cursor = m.apply(self.cursor, self.shapes());
            return Outcome::Done;
        }
        match command {
            Command::Open => match self.shape_at(self.cursor) {
                Some((event_type, fields)) => {
                    model.open(Target::All);
                    model.say(format!(
                        "finding {} events of this shape…",
                        eventscope::printable(&event_type)
                    ));
                    model.ask_find(FindSpec::Shape(event_type, fields));
                    Outcome::Focus(super::Pane::Events)
                }
                None => Outcome::Done,
            },
            _ => Outcome::Ignored,
        }
    }

    fn draw(&self, frame: &mut Frame, area: Rect, model: &Model, _focused: bool) {
        let t = &model.theme;
        let title = " Types · their shapes over time · Enter finds a shape's events ".to_string();
        let inner = super::overlay(frame, area, 120, Constraint::Percentage(80), title, model);
        let types = match &self.catalog {
            None => return frame.render_widget(Paragraph::new("reading every event…"), inner),
            Some(Err(e)) => {
                let text = eventscope::printable(&e.to_string()).into_owned();
                return frame.render_widget(Paragraph::new(text).style(t.fg(t.errors)), inner);
            }
            Some(Ok(types)) => types,
        };
        if types.is_empty() {
            return frame.render_widget(Paragraph::new("no events"), inner);
        }
        let width = inner.width as usize;
        let mut lines: Vec<Line> = Vec::new();
        let mut cursor_line = 0;
        let mut shape_no = 0;
        for row in self.rows() {
            match row {
                Row::Type(ty) => {
                    let versions = match ty.schema_versions.is_empty() {
                        true => String::new(),
                        false => format!(
                            " · schema versions {}",
                            ty.schema_versions
                                .iter()
                                .map(|(v, n)| format!("{} ({n})", eventscope::printable(v)))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    };
                    let more = match ty.other_shapes {
                        0 => String::new(),
                        n => format!(
                            " · {} of further shapes",
                            eventscope::count(n as i64, "event")
                        ),
                    };
                    let text = format!(
                        "{}  {} in {} · #{} … #{}{versions}{more}",
                        eventscope::printable(&ty.event_type),
                        eventscope::count(ty.count as i64, "event"),
                        eventscope::count(ty.streams as i64, "stream"),
                        ty.first.global_position,
                        ty.last.global_position,
                    );
                    lines.push(Line::styled(eventscope::fit(&text, width), t.bold(t.title)));
                }
                Row::Shape(ty, i) => {
                    let s = &ty.shapes[i];
                    let newest = if i == ty.newest { " ← newest" } else { "" };
                    let fields: Vec<String> = s
                        .fields
                        .iter()
                        .map(|(p, k)| format!("{} {k}", eventscope::printable(shown(p))))
                        .collect();
                    let text = format!(
                        "  {}: {} · #{} … #{}{newest} · {}",
                        i + 1,
                        eventscope::count(s.count as i64, "event"),
                        s.first.global_position,
                        s.last.global_position,
                        fields.join(", ")
                    );
                    let line = Line::from(eventscope::fit(&text, width));
                    if shape_no == self.cursor {
                        cursor_line = lines.len();
                        lines.push(line.style(Style::new().add_modifier(Modifier::REVERSED)));
                    } else {
                        lines.push(line);
                    }
                    shape_no += 1;
                    if let Some(c) = ty.changes.iter().find(|c| c.to == i) {
                        let text = format!(
                            "     from #{}: {}",
                            c.at.global_position,
                            eventscope::printable(&c.words())
                        );
                        lines.push(Line::styled(eventscope::fit(&text, width), t.fg(t.changed)));
                    }
                }
            }
        }
        let rows = inner.height as usize;
        let offset = (cursor_line + 2).saturating_sub(rows);
        let shown: Vec<Line> = lines.into_iter().skip(offset).take(rows).collect();
        frame.render_widget(Paragraph::new(shown), inner);
    }
}

//! The Consumers overlay: every projection, subscription and tracker the store records,
//! sorted by lag, refreshed while open. Enter opens a consumer's next event in its stream
//! with the playhead on the state before it (→ steps onto it); a caught-up consumer opens
//! `$all` at its position.

use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{Component, Move, Outcome};
use crate::tui::action::Command;
use crate::tui::model::Model;
use crate::tui::worker::Target;

const BAR: usize = 10;

#[derive(Default)]
pub struct Consumers {
    pub cursor: usize,
}

impl Consumers {
    /// Where Enter on consumer `i` goes, and what the status line says of it.
    fn target(model: &Model, i: usize) -> Option<(Target, i64, String)> {
        let c = model.catalog.consumers.get(i)?;
        let name = eventscope::printable(&c.consumer);
        let Some(next) = &c.next_event else {
            let at = c.position.unwrap_or(0);
            return Some((Target::All, at, format!("{name} is caught up, at #{at}")));
        };
        let first = model
            .catalog
            .get(&next.stream)
            .map_or(next.version, |s| s.first_version);
        let before = if next.version > first {
            next.version - 1
        } else {
            next.version
        };
        let what = format!(
            "{name} ({}, {} behind) is at #{}; its next event is v{} {} (#{})",
            c.status,
            c.lag,
            c.position.map_or("-".into(), |p| p.to_string()),
            next.version,
            eventscope::printable(&next.event_type),
            next.position
        );
        let hint = if before < next.version {
            format!("{what}: the state before it, → steps onto it")
        } else {
            format!("{what}, the stream's first")
        };
        Some((Target::Stream(next.stream.clone()), before, hint))
    }
}

impl Component for Consumers {
    fn on_command(&mut self, command: Command, model: &mut Model) -> Outcome {
        if let Some(m) = Move::of(command, 10) {
            self.cursor = m.apply(self.cursor, model.catalog.consumers.len());
            return Outcome::Done;
        }
        match command {
            Command::Open => match Self::target(model, self.cursor) {
                Some((target, key, hint)) => {
                    model.say(hint);
                    Outcome::OpenAt(target, key)
                }
                None => Outcome::Done,
            },
            _ => Outcome::Ignored,
        }
    }

    fn draw(&self, frame: &mut Frame, area: Rect, model: &Model, _focused: bool) {
        let t = &model.theme;
        let list = &model.catalog.consumers;
        let height = (list.len().max(1) as u16 + 2).min(area.height);
        let behind = list.iter().filter(|c| c.is_behind()).count();
        let stuck = list.iter().filter(|c| c.is_stuck()).count();
        let title = format!(
            " Consumers · {} · {behind} behind, {stuck} stuck · Enter opens the next event ",
            list.len()
        );
        let inner = super::overlay(frame, area, 110, Constraint::Length(height), title, model);
        if list.is_empty() {
            frame.render_widget(
                Paragraph::new("this store records no consumer positions (loading…)"),
                inner,
            );
            return;
        }
        let most = list.iter().map(|c| c.lag).max().unwrap_or(0).max(1);
        let name_width = list
            .iter()
            .map(|c| eventscope::columns(&eventscope::printable(&c.consumer)))
            .max()
            .unwrap_or(8)
            .min(28);
        let now = std::time::Instant::now();
        let rows = inner.height as usize;
        let offset = (self.cursor + 1).saturating_sub(rows);
        let lines: Vec<Line> = list
            .iter()
            .enumerate()
            .skip(offset)
            .take(rows)
            .map(|(i, c)| {
                let filled = usize::try_from(c.lag.saturating_mul(BAR as i64) / most)
                    .unwrap_or(0)
                    .max(usize::from(c.lag > 0));
                let name = eventscope::fit(&eventscope::printable(&c.consumer), name_width);
                let pad = name_width.saturating_sub(eventscope::columns(&name));
                let next = c.next_event.as_ref().map_or(String::new(), |n| {
                    format!(
                        " → {} v{} {}",
                        eventscope::printable(&n.stream),
                        n.version,
                        eventscope::printable(&n.event_type)
                    )
                });
                let unmoved = match model.catalog.unmoved_for(&c.consumer, now) {
                    Some(d) if c.is_behind() && d.as_secs() >= 5 => {
                        format!(" (unmoved {}s)", d.as_secs())
                    }
                    _ => String::new(),
                };
                let dead = match c.dead_letters.len() {
                    0 => String::new(),
                    n => format!(" ✗{n} dead letter{}", if n == 1 { "" } else { "s" }),
                };
                let text = format!(
                    "{name}{} {:<16} {}{} {:>6} {:<9}{next}{unmoved}{dead}",
                    " ".repeat(pad),
                    eventscope::fit(&eventscope::printable(&c.follows.label()), 16),
                    "█".repeat(filled),
                    "·".repeat(BAR - filled),
                    if c.lag_estimated {
                        format!("≈{}", c.lag)
                    } else {
                        c.lag.to_string()
                    },
                    eventscope::printable(&c.status),
                );
                let line = Line::from(eventscope::fit(&text, inner.width as usize));
                if i == self.cursor {
                    line.style(Style::new().add_modifier(Modifier::REVERSED))
                } else if c.is_stuck() {
                    line.style(t.bold(t.errors))
                } else if c.is_behind() {
                    line.style(t.fg(t.warnings))
                } else {
                    line
                }
            })
            .collect();
        frame.render_widget(Paragraph::new(lines), inner);
    }
}

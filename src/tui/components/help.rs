//! The help overlay: every binding of every layer, by group, with the command's name as a
//! keymap file writes it, straight from the keymap. Scrolls where the screen is short.

use std::cell::Cell;

use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph};
use ratatui::Frame;

use super::{Component, Outcome};
use crate::tui::action::Command;
use crate::tui::keymap::{Key, Layer};
use crate::tui::model::Model;

#[derive(Default)]
pub struct Help {
    scroll: usize,
    page: Cell<usize>,
    lines: Cell<usize>,
}

fn keys_label(keys: &[Key]) -> String {
    keys.iter().map(Key::label).collect::<Vec<_>>().join(" ")
}

/// The help text: a heading per group (and per mode after the main screen's), then
/// `keys  command  what it does`.
pub fn help_lines(model: &Model) -> Vec<Line<'static>> {
    let t = &model.theme;
    let km = &model.keymap;
    let width = Layer::ALL
        .iter()
        .flat_map(|l| km.bindings(*l))
        .map(|b| keys_label(&b.keys).chars().count())
        .max()
        .unwrap_or(0);
    let name_width = Layer::ALL
        .iter()
        .flat_map(|l| km.bindings(*l))
        .map(|b| b.command.name().len())
        .max()
        .unwrap_or(0);
    let mut lines = Vec::new();
    for layer in Layer::ALL {
        let mut group = String::new();
        for (i, b) in km.bindings(layer).iter().enumerate() {
            let heading = match layer {
                Layer::Normal => b.group.clone(),
                other => format!("While in {}", other.name()),
            };
            if i == 0 || heading != group {
                group = heading.clone();
                if !lines.is_empty() {
                    lines.push(Line::from(""));
                }
                lines.push(Line::styled(heading, t.bold(t.category)));
            }
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<width$} ", keys_label(&b.keys)), t.fg(t.keys)),
                Span::styled(format!("{:<name_width$} ", b.command.name()), t.fg(t.muted)),
                Span::raw(b.desc.clone()),
            ]));
        }
    }
    lines
}

impl Component for Help {
    fn on_command(&mut self, command: Command, _model: &mut Model) -> Outcome {
        let page = self.page.get().max(1) as i64;
        let d = match command {
            Command::Up => -1,
            Command::Down => 1,
            Command::PageUp => -page,
            Command::PageDown => page,
            _ => return Outcome::Ignored,
        };
        let max = self.lines.get().saturating_sub(self.page.get()) as i64;
        self.scroll = (self.scroll as i64 + d).clamp(0, max.max(0)) as usize;
        Outcome::Done
    }

    fn draw(&self, frame: &mut Frame, area: Rect, model: &Model, _focused: bool) {
        let t = &model.theme;
        let lines = help_lines(model);
        let two_columns = area.width >= 150;
        let per_column = if two_columns {
            lines.len().div_ceil(2)
        } else {
            lines.len()
        };
        let height = (per_column as u16 + 2).min(area.height);
        let width = if two_columns { 148 } else { area.width.min(90) };
        let [popup] = Layout::vertical([Constraint::Length(height)])
            .flex(Flex::Center)
            .areas(area);
        let [popup] = Layout::horizontal([Constraint::Length(width)])
            .flex(Flex::Center)
            .areas(popup);
        frame.render_widget(Clear, popup);
        let close = model
            .keymap
            .bindings(Layer::Overlay)
            .iter()
            .find(|b| b.command == Command::Cancel)
            .map(|b| keys_label(&b.keys))
            .unwrap_or_default();
        let block = Block::bordered()
            .border_type(BorderType::Rounded)
            .border_style(t.fg(t.focus))
            .title(format!(" Keys — {close} closes, ↑↓ scroll "));
        let inner = block.inner(popup);
        frame.render_widget(block, popup);
        self.page.set(inner.height as usize);
        self.lines.set(per_column);
        let scroll = self
            .scroll
            .min(per_column.saturating_sub(inner.height as usize));
        if two_columns {
            let mut left = lines;
            let right = left.split_off(per_column);
            let [l, r] =
                Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                    .areas(inner);
            frame.render_widget(Paragraph::new(left).scroll((scroll as u16, 0)), l);
            frame.render_widget(Paragraph::new(right).scroll((scroll as u16, 0)), r);
        } else {
            frame.render_widget(Paragraph::new(lines).scroll((scroll as u16, 0)), inner);
        }
    }
}

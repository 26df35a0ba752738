//! The help overlay: every binding in effect, by section, straight from the keymap.

use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph};
use ratatui::Frame;

use crate::tui::app::App;

pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let label = |keys: &[crate::tui::keymap::Key]| {
        keys.iter().map(|k| k.label()).collect::<Vec<_>>().join(" ")
    };
    let width = app
        .keymap
        .bindings
        .iter()
        .map(|b| label(&b.keys).chars().count())
        .max()
        .unwrap_or(0);
    // Sections are set apart by a blank line where the screen has room for them.
    let sections = app
        .keymap
        .bindings
        .windows(2)
        .filter(|w| w[0].section != w[1].section)
        .count()
        + 1;
    let rows = app.keymap.bindings.len() + 2 * sections;
    let spaced = (rows.div_ceil(2) as u16 + 2) < area.height;
    let mut lines = Vec::new();
    let mut section = "";
    for b in &app.keymap.bindings {
        if b.section != section {
            section = b.section;
            if !lines.is_empty() && spaced {
                lines.push(Line::from(""));
            }
            lines.push(Line::styled(
                section.to_string(),
                Style::new().fg(Color::Magenta).add_modifier(Modifier::BOLD),
            ));
        }
        let keys = label(&b.keys);
        lines.push(Line::from(vec![
            Span::styled(format!("  {keys:<width$} "), Style::new().fg(Color::Cyan)),
            Span::raw(b.help),
        ]));
    }
    // Split between sections, as near the middle as they allow.
    let half = lines.len().div_ceil(2);
    let starts_section = |i: usize| {
        lines[i].width() == 0
            || lines[i]
                .spans
                .first()
                .is_some_and(|s| !s.content.starts_with(' '))
    };
    let split = (0..lines.len())
        .filter(|&i| i == lines.len() || starts_section(i))
        .min_by_key(|&i| i.abs_diff(half))
        .unwrap_or(half);
    let mut right: Vec<Line> = lines.split_off(split);
    if right.first().is_some_and(|l| l.width() == 0) {
        right.remove(0);
    }
    let half = lines.len().max(right.len());
    let height = (half as u16 + 2).min(area.height);
    let [popup] = Layout::vertical([Constraint::Length(height)])
        .flex(Flex::Center)
        .areas(area);
    let [popup] = Layout::horizontal([Constraint::Length(area.width.min(90))])
        .flex(Flex::Center)
        .areas(popup);
    frame.render_widget(Clear, popup);
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(Style::new().fg(Color::Cyan))
        .title(" Keys — Esc or ? closes ");
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let [l, r] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(inner);
    frame.render_widget(Paragraph::new(lines), l);
    frame.render_widget(Paragraph::new(right), r);
}

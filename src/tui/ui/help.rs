//! The help overlay: every binding in effect, by section, straight from the keymap.

use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph};
use ratatui::Frame;

use crate::tui::app::App;

pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let mut lines = Vec::new();
    let mut section = "";
    for b in &app.keymap.bindings {
        if b.section != section {
            section = b.section;
            if !lines.is_empty() {
                lines.push(Line::from(""));
            }
            lines.push(Line::styled(section.to_string(), Style::new().fg(Color::Magenta).add_modifier(Modifier::BOLD)));
        }
        let keys = b.keys.iter().map(|k| k.label()).collect::<Vec<_>>().join(" ");
        lines.push(Line::from(vec![
            Span::styled(format!("  {keys:<16}"), Style::new().fg(Color::Cyan)),
            Span::raw(b.help),
        ]));
    }
    let half = lines.len().div_ceil(2);
    let right: Vec<Line> = lines.split_off(half);
    let height = (half as u16 + 2).min(area.height);
    let [popup] = Layout::vertical([Constraint::Length(height)]).flex(Flex::Center).areas(area);
    let [popup] = Layout::horizontal([Constraint::Length(area.width.min(90))]).flex(Flex::Center).areas(popup);
    frame.render_widget(Clear, popup);
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(Style::new().fg(Color::Cyan))
        .title(" Keys — Esc or ? closes ");
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let [l, r] = Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(inner);
    frame.render_widget(Paragraph::new(lines), l);
    frame.render_widget(Paragraph::new(right), r);
}

//! The footer: a prompt or the filter while one is open, else a status message, new events
//! waiting, or the key hints the keymap marks for the footer, with command names.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::prompt::Prompt;
use crate::tui::action::Command;
use crate::tui::keymap::Layer;
use crate::tui::model::Model;

/// What the footer shows besides the model: the mode on top.
pub struct FooterMode<'a> {
    pub prompt: Option<&'a Prompt>,
    pub filter: Option<&'a str>,
    pub overlay: bool,
}

pub fn draw(frame: &mut Frame, area: Rect, model: &Model, mode: FooterMode) {
    let t = &model.theme;
    let line = if let Some(p) = mode.prompt {
        let mut spans = vec![
            Span::styled(p.label(model.local_time), t.bold(t.warnings)),
            Span::raw(format!("{}▏ ", eventscope::printable(&p.input))),
        ];
        spans.extend(hints(model, Layer::Prompt));
        Line::from(spans)
    } else if let Some(filter) = mode.filter {
        let mut spans = vec![
            Span::styled("Filter: ", t.bold(t.warnings)),
            Span::raw(format!("{}▏ ", eventscope::printable(filter))),
        ];
        spans.extend(hints(model, Layer::Filter));
        Line::from(spans)
    } else if mode.overlay {
        Line::from(hints(model, Layer::Overlay))
    } else if model.status.is_none() && model.pending > 0 && !model.following {
        let r = model.keymap.keys_label(Command::Refresh);
        let f = model.keymap.keys_label(Command::ToggleFollow);
        Line::styled(
            format!("{} new events: {r} refreshes, {f} follows", model.pending),
            t.bold(t.focus),
        )
    } else if let Some(n) = model.follow_paused().filter(|_| model.status.is_none()) {
        let end = model.keymap.keys_label(Command::Last);
        Line::styled(
            format!(
                "following paused: {} ({end} to resume)",
                eventscope::count(n, "new event")
            ),
            t.bold(t.warnings),
        )
    } else if let Some(s) = &model.status {
        let color = if s.error { t.errors } else { t.warnings };
        let text = eventscope::printable(&s.text).into_owned();
        // A message longer than the line is cut with a pointer to the log, never silently.
        let more = format!(" more ({})", model.keymap.keys_label(Command::Messages));
        let width = area.width as usize;
        if eventscope::columns(&text) > width {
            let kept = eventscope::fit(&text, width.saturating_sub(eventscope::columns(&more)));
            Line::from(vec![
                Span::styled(kept, t.fg(color)),
                Span::styled(more, t.bold(t.keys)),
            ])
        } else {
            Line::styled(text, t.fg(color))
        }
    } else {
        Line::from(hints(model, Layer::Normal))
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// `key name` for each binding of the layer marked for the footer.
fn hints(model: &Model, layer: Layer) -> Vec<Span<'static>> {
    let t = &model.theme;
    let bindings = model.keymap.bindings(layer);
    let back = bindings
        .iter()
        .find(|b| b.command == Command::StepBack)
        .and_then(|b| b.keys.first());
    let mut spans = Vec::new();
    for b in bindings {
        let Some(short) = &b.footer else { continue };
        let mut keys = b.keys.first().map(|k| k.label()).unwrap_or_default();
        if b.command == Command::StepForward {
            // ← and → share one hint.
            if let Some(back) = back {
                keys = format!("{}{keys}", back.label());
            }
        }
        spans.push(Span::styled(keys, t.bold(t.keys)));
        spans.push(Span::styled(format!(" {short}  "), t.fg(t.muted)));
    }
    spans
}

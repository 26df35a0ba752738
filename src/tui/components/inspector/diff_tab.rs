//! The Diff tab: what changed between mark A and mark B (or the playhead for the unset
//! one); with no marks, what the event under the playhead changed, or with skips, what
//! the what-if changes there.

use eventscope::replay::{Change, Op};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;
use serde_json::Value;

use super::InspectorTab;
use crate::tui::action::Command;
use crate::tui::components::Outcome;
use crate::tui::model::Model;
use crate::tui::theme::Theme;

#[derive(Default)]
pub struct DiffTab {
    scroll: usize,
}

impl InspectorTab for DiffTab {
    fn title(&self) -> &'static str {
        "Diff"
    }

    fn shows_diff(&self) -> bool {
        true
    }

    fn on_command(&mut self, command: Command, _model: &mut Model) -> Outcome {
        super::scroll_by(command, &mut self.scroll)
    }

    fn on_open(&mut self) {
        self.scroll = 0;
    }

    fn content(&self, model: &Model) -> Option<(String, Value)> {
        let v = model.view.as_ref()?;
        let (a, b) = v.diff_pair()?;
        match &v.diff {
            Some((pair, Ok(changes))) if *pair == (a, b) => Some((
                format!("{}@v{a}-v{b}.diff", v.title()),
                serde_json::to_value(changes).ok()?,
            )),
            _ => None,
        }
    }

    fn heading(&self, model: &Model) -> Option<String> {
        let v = model.view.as_ref()?;
        let (a, b) = v.diff_pair()?;
        Some(match (a == b, v.skips.is_empty()) {
            (true, true) => format!("{} @ {a}: its change", v.title()),
            (true, false) => format!("{} @ {a}: real → what-if", v.title()),
            (false, _) => format!("{} {a} → {b}", v.title()),
        })
    }

    fn draw(&self, frame: &mut Frame, area: Rect, model: &Model, _focused: bool) {
        let t = &model.theme;
        let Some(view) = &model.view else { return };
        let Some((a, b)) = view.diff_pair() else {
            return;
        };
        let ka = model.keymap.keys_label(Command::MarkA);
        let kb = model.keymap.keys_label(Command::MarkB);
        let label = |mark: Option<i64>, name: &str, key: i64| match mark {
            Some(_) => format!("{name} {key}"),
            None => format!("playhead {key}"),
        };
        let mut out = match view.current_state() {
            Some(Ok(s)) => {
                let mut head = super::what_if_banner(model, s);
                head.extend(super::provenance(model, s));
                super::wrap_lines(head, area.width as usize)
            }
            _ => Vec::new(),
        };
        let what = match (a == b, view.skips.is_empty()) {
            (true, true) => format!(
                "what the event at {a} changed (the state before it → after it; {ka} and {kb} set marks to compare others)"
            ),
            (true, false) => format!(
                "at {a}: the real state → the what-if state without the skipped events"
            ),
            (false, _) => format!(
                "{} → {}",
                label(view.mark_a, "A", a),
                label(view.mark_b, "B", b)
            ),
        };
        out.push(Line::styled(what, t.bold(t.muted)));
        match &view.diff {
            Some((pair, Ok(changes))) if *pair == (a, b) => {
                if changes.is_empty() {
                    out.push(Line::from("no changes"));
                } else if a == b && !view.skips.is_empty() {
                    out.push(Line::from(eventscope::fields_differ(changes.len())));
                }
                out.extend(changes.iter().map(|c| change_line(t, c)));
            }
            Some((pair, Err(e))) if *pair == (a, b) => {
                out.push(Line::styled(
                    eventscope::printable(&e.to_string()).into_owned(),
                    t.fg(t.errors),
                ));
            }
            _ => out.push(Line::from("comparing…")),
        }
        let out: Vec<Line> = out.into_iter().skip(self.scroll).collect();
        frame.render_widget(Paragraph::new(out).wrap(Wrap { trim: false }), area);
    }
}

pub(super) fn change_line(t: &Theme, c: &Change) -> Line<'static> {
    let show = |v: &Option<Value>| v.as_ref().map(Value::to_string).unwrap_or_default();
    let (sign, color, text) = match c.op {
        Op::Added => ("+", t.added, show(&c.new)),
        Op::Removed => ("-", t.removed, show(&c.old)),
        Op::Changed => (
            "~",
            t.changed,
            format!("{} → {}", show(&c.old), show(&c.new)),
        ),
    };
    Line::from(vec![
        Span::styled(
            format!("{sign} {} ", eventscope::printable(&c.path)),
            t.bold(color),
        ),
        Span::styled(eventscope::printable(&text).into_owned(), t.fg(color)),
    ])
}

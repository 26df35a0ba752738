//! The Event tab: the event at the playhead, its envelope foldable with a cursor, and the
//! application's snapshot stored at that version, if any.

use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use ratatui::Frame;
use serde_json::{json, Value};

use super::state_tab::tree_command;
use super::InspectorTab;
use crate::tui::action::Command;
use crate::tui::components::json_tree::JsonTree;
use crate::tui::components::Outcome;
use crate::tui::model::Model;

#[derive(Default)]
pub struct EventTab {
    tree: JsonTree,
    /// Which state the tree shows (the view's `state_seq`).
    shown: Option<u64>,
    /// Why the snapshot at this version cannot be read.
    snapshot_error: Option<String>,
    has_event: bool,
    /// Where an upcaster made the event: by which, what it changed of the stored
    /// envelope, and the stored envelope's lines (shown beside the upcast one).
    upcast: Option<Upcast>,
}

struct Upcast {
    upcaster: String,
    changes: Vec<eventscope::replay::Change>,
    stored: Vec<String>,
}

/// An envelope as compared: without the marks of upcasting.
fn comparable(e: &eventscope::Event) -> Value {
    let mut v = serde_json::to_value(e).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.remove("upcast");
        m.remove("upcaster");
    }
    v
}

impl InspectorTab for EventTab {
    fn title(&self) -> &'static str {
        "Event"
    }

    fn on_command(&mut self, command: Command, _model: &mut Model) -> Outcome {
        tree_command(&mut self.tree, command)
    }

    fn on_view_changed(&mut self, model: &Model) {
        let Some(v) = &model.view else { return };
        let current = v.current_state().and_then(|s| s.as_ref().ok());
        let seq = current.map(|_| v.state_seq);
        if seq == self.shown {
            return;
        }
        self.shown = seq;
        self.snapshot_error = None;
        let Some(s) = current else {
            self.tree.set(None);
            self.has_event = false;
            return;
        };
        self.has_event = s.event.is_some();
        self.upcast = match (&s.event, &s.stored) {
            (Some(e), Some(stored)) => {
                let stored_value = comparable(stored);
                let text = serde_json::to_string_pretty(&stored_value).unwrap_or_default();
                Some(Upcast {
                    upcaster: e.upcaster.clone().unwrap_or_default(),
                    changes: eventscope::replay::diff(&stored_value, &comparable(e)),
                    stored: text
                        .lines()
                        .map(|l| eventscope::printable(l).into_owned())
                        .collect(),
                })
            }
            _ => None,
        };
        let mut value = match &s.event {
            Some(e) => serde_json::to_value(e).unwrap_or(Value::Null),
            None => json!({}),
        };
        match &s.snapshot {
            Some(Ok(snap)) => {
                if let Value::Object(m) = &mut value {
                    m.insert(
                        "stored snapshot (the application's, not the reducer's state)".into(),
                        snap.clone(),
                    );
                }
            }
            Some(Err(why)) => self.snapshot_error = Some(why.clone()),
            None => {}
        }
        self.tree.set(Some(value));
    }

    fn on_open(&mut self) {
        self.tree.reset();
        self.shown = None;
    }

    fn tree(&mut self) -> Option<&mut JsonTree> {
        Some(&mut self.tree)
    }

    fn content(&self, model: &Model) -> Option<(String, Value)> {
        let s = model.view.as_ref()?.current_state()?.as_ref().ok()?;
        let e = s.event.as_ref()?;
        Some((
            format!("{}@v{}.event", e.stream_id, e.version),
            serde_json::to_value(e).ok()?,
        ))
    }

    fn heading(&self, model: &Model) -> Option<String> {
        let v = model.view.as_ref()?;
        Some(format!("{} @ {}", v.title(), v.key_name(v.playhead)))
    }

    fn draw(&self, frame: &mut Frame, area: Rect, model: &Model, focused: bool) {
        let t = &model.theme;
        let Some(view) = &model.view else { return };
        let mut out = Vec::new();
        match view.current_state() {
            None => out.push(Line::from("…")),
            Some(Err(e)) => out.push(Line::styled(
                eventscope::printable(&e.to_string()).into_owned(),
                t.fg(t.errors),
            )),
            Some(Ok(_)) => {
                if !self.has_event {
                    out.push(Line::from("No event at this position."));
                }
                if let Some(why) = &self.snapshot_error {
                    out.push(Line::styled(
                        format!(
                            "⚠ the stored snapshot here is unreadable: {}",
                            eventscope::printable(why)
                        ),
                        t.fg(t.errors),
                    ));
                }
                if let Some(u) = &self.upcast {
                    return self.draw_upcast(frame, area, model, focused, out, u);
                }
                let room = (area.height as usize).saturating_sub(out.len()).max(1);
                out.extend(
                    self.tree
                        .render(t, room, focused, &|_| false, None, &|_| None),
                );
            }
        }
        frame.render_widget(Paragraph::new(out), area);
    }
}

impl EventTab {
    /// An upcast event: what the upcaster changed, then the stored envelope beside the
    /// upcast one (stacked where the pane is narrow).
    fn draw_upcast(
        &self,
        frame: &mut Frame,
        area: Rect,
        model: &Model,
        focused: bool,
        mut out: Vec<Line<'static>>,
        u: &Upcast,
    ) {
        use ratatui::layout::{Constraint, Layout};
        let t = &model.theme;
        out.push(Line::styled(
            format!(
                "upcast by {}: {} from the stored event",
                eventscope::printable(&u.upcaster),
                eventscope::fields_differ(u.changes.len())
            ),
            t.bold(t.changed),
        ));
        out.extend(u.changes.iter().map(|c| super::diff_tab::change_line(t, c)));
        let head = (out.len() as u16).min(area.height / 2);
        let [top, rest] =
            Layout::vertical([Constraint::Length(head), Constraint::Min(1)]).areas(area);
        frame.render_widget(Paragraph::new(out), top);
        let [stored, upcast] = if rest.width >= 70 {
            Layout::horizontal([Constraint::Percentage(50); 2]).areas(rest)
        } else {
            Layout::vertical([Constraint::Percentage(40), Constraint::Percentage(60)]).areas(rest)
        };
        let mut left = vec![Line::styled("stored", t.bold(t.muted))];
        left.extend(u.stored.iter().map(|l| Line::from(l.clone())));
        frame.render_widget(Paragraph::new(left), stored);
        let mut right = vec![Line::styled(
            "upcast (what the reducers see)",
            t.bold(t.muted),
        )];
        let room = (upcast.height as usize).saturating_sub(1).max(1);
        right.extend(
            self.tree
                .render(t, room, focused, &|_| false, None, &|_| None),
        );
        frame.render_widget(Paragraph::new(right), upcast);
    }
}

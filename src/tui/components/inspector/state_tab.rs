//! The State tab: the reducer's state at the playhead, changed fields marked, foldable.

use crate::tui::components::json_view::LineKind;

use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use super::InspectorTab;
use crate::tui::action::Command;
use crate::tui::components::json_tree::JsonTree;
use crate::tui::components::{Move, Outcome};
use crate::tui::model::{Model, PlotResult};
use crate::tui::worker::{Msg, Req};

#[derive(Default)]
pub struct StateTab {
    tree: JsonTree,
    /// Which state the tree shows (the view's `state_seq`).
    shown: Option<u64>,
    /// A numeric field plotted across the stream's versions (`p`), and its points once
    /// they have come.
    plot: Option<(String, Option<PlotResult>)>,
    blame: super::blame::Blame,
}

/// The moves every JSON tab shares.
pub fn tree_command(tree: &mut JsonTree, command: Command) -> Outcome {
    match Move::of(command, tree.page()) {
        Some(m) => tree.cursor = m.apply(tree.cursor, tree.line_count()),
        None if matches!(command, Command::Open | Command::Fold) => tree.toggle_fold(),
        None => return Outcome::Ignored,
    }
    Outcome::Done
}

impl StateTab {
    /// Plots the field at `path` across the stream's versions, or stops plotting it.
    fn toggle_plot(&mut self, path: String, model: &mut Model) {
        let Some(v) = &model.view else { return };
        if !v.is_stream() {
            return model.say("plots are of one stream's field");
        }
        if self.plot.as_ref().is_some_and(|(p, _)| *p == path) {
            self.plot = None;
            return;
        }
        self.plot = Some((path.clone(), None));
        let target = v.target.clone();
        model.outbox.push(Req::Plot { target, path });
    }

    fn jump_to_blame(&mut self, model: &mut Model) {
        if let Some(line) = self.tree.current() {
            self.blame.jump(line.path.clone(), model);
        }
    }
}

impl InspectorTab for StateTab {
    fn title(&self) -> &'static str {
        "State"
    }

    fn on_command(&mut self, command: Command, model: &mut Model) -> Outcome {
        if command == Command::ToggleBlame {
            self.blame.on = !self.blame.on;
            if self.blame.on {
                self.blame.sync(model);
                let key = model.keymap.keys_label(Command::BlameJump);
                model.say(format!(
                    "blame on: each field's version ({key} on a field goes there)"
                ));
            }
            return Outcome::Done;
        }
        if command == Command::Pin {
            match self.tree.current() {
                Some(line) if model.view.as_ref().is_some_and(|v| v.is_stream()) => {
                    let path = line.path.clone();
                    model.toggle_pin(path);
                }
                Some(_) => model.say("pins follow a field of one stream: open a stream"),
                None => model.say("move the cursor to a field to pin it"),
            }
            return Outcome::Done;
        }
        if command == Command::BlameJump {
            self.jump_to_blame(model);
            return Outcome::Done;
        }
        if command == Command::Plot {
            match self.tree.current() {
                Some(l) if l.kind == LineKind::Leaf && l.text.parse::<f64>().is_ok() => {
                    let path = l.path.clone();
                    self.toggle_plot(path, model)
                }
                _ => model.say("move the cursor to a number to plot it"),
            }
            return Outcome::Done;
        }
        tree_command(&mut self.tree, command)
    }

    fn on_view_changed(&mut self, model: &Model) {
        let current = model.view.as_ref().and_then(|v| v.state.as_ref());
        let seq = model
            .view
            .as_ref()
            .filter(|_| current.is_some())
            .map(|v| v.state_seq);
        if seq == self.shown {
            return;
        }
        self.shown = seq;
        match current {
            Some((_, Ok(s))) => self.tree.set(Some(s.state.clone())),
            _ => self.tree.set(None),
        }
    }

    fn on_open(&mut self) {
        self.tree.reset();
        self.shown = None;
        self.plot = None;
    }

    fn sync(&mut self, model: &mut Model) {
        self.blame.sync(model);
    }

    fn blame_on(&self) -> bool {
        self.blame.on
    }

    /// The plotted field's points, when they are for the open stream and field; the blame.
    fn on_answer(&mut self, msg: Msg, model: &mut Model) -> Option<Msg> {
        match self.blame.on_answer(msg, model)? {
            Msg::Plot {
                target,
                path,
                result,
            } => {
                let open = model.view.as_ref().is_some_and(|v| v.target == target);
                if let Some((p, slot)) = self.plot.as_mut().filter(|(p, _)| open && *p == path) {
                    let _ = p;
                    *slot = Some(result);
                }
                None
            }
            other => Some(other),
        }
    }

    fn tree(&mut self) -> Option<&mut JsonTree> {
        Some(&mut self.tree)
    }

    fn content(&self, model: &Model) -> Option<(String, serde_json::Value)> {
        match model.view.as_ref()?.current_state()? {
            Ok(s) => Some((
                format!("{}@v{}.state", s.stream_id, s.version),
                s.state.clone(),
            )),
            Err(_) => None,
        }
    }

    fn heading(&self, model: &Model) -> Option<String> {
        let v = model.view.as_ref()?;
        match v.state.as_ref() {
            Some((_, Ok(s))) => Some(format!("{} @ v{}", s.stream_id, s.version)),
            _ => Some(format!("{} @ {}", v.title(), v.key_name(v.playhead))),
        }
    }

    fn draw(&self, frame: &mut Frame, area: Rect, model: &Model, focused: bool) {
        let t = &model.theme;
        let Some(view) = &model.view else { return };
        let area = match &self.plot {
            Some((path, result)) if area.height >= 12 => {
                let [top, chart] = ratatui::layout::Layout::vertical([
                    ratatui::layout::Constraint::Min(4),
                    ratatui::layout::Constraint::Length(9),
                ])
                .areas(area);
                super::plot::draw(frame, chart, model, path, result.as_ref(), view.playhead);
                top
            }
            _ => area,
        };
        // Pinned fields' histories beside the state, where there is room.
        let area = match model.pins.paths.is_empty() || area.width < 60 {
            true => area,
            false => {
                use ratatui::layout::{Constraint, Layout};
                let side = (area.width / 2).min(48);
                let [state, list] =
                    Layout::horizontal([Constraint::Min(20), Constraint::Length(side)]).areas(area);
                super::pinned::draw(frame, list, model);
                state
            }
        };
        let Some((_, result)) = &view.state else {
            frame.render_widget(Paragraph::new("…"), area);
            return;
        };
        let s = match result {
            Ok(s) => s,
            Err(e) => {
                let text = eventscope::printable(&e.to_string()).into_owned();
                frame.render_widget(
                    Paragraph::new(Line::styled(text, t.fg(t.errors))).wrap(Wrap { trim: false }),
                    area,
                );
                return;
            }
        };
        let mut out = super::what_if_banner(model, s);
        out.extend(super::provenance(model, s));
        if let Some(e) = &s.error {
            out.push(Line::styled(
                format!("✗ {}", eventscope::printable(e)),
                t.bold(t.errors),
            ));
            out.push(Line::styled(
                "  the state below is the one before this event",
                t.fg(t.errors),
            ));
        }
        if let (n @ 1.., Some(first)) = s.failed_before {
            out.push(Line::styled(
                match n {
                    1 => format!("⚠ 1 earlier event failed and was skipped (first at {first})"),
                    _ => format!("⚠ {n} earlier events failed and were skipped (first at {first})"),
                },
                t.fg(t.warnings),
            ));
        }
        let mut out = super::wrap_lines(out, area.width as usize);
        let room = (area.height as usize).saturating_sub(out.len()).max(1);
        let blame = self.blame.on.then(|| self.blame.current(model)).map(|b| {
            move |l: &crate::tui::components::json_view::JsonLine| match b {
                None => "     … ".to_string(),
                Some(b) if l.kind == crate::tui::components::json_view::LineKind::Close => {
                    let _ = b;
                    "       ".to_string()
                }
                Some(b) => match super::blame::blamed_version(b, &l.path) {
                    Some(v) => format!("{:>6} ", format!("v{v}")),
                    None => "       ".to_string(),
                },
            }
        });
        let gutter = blame
            .as_ref()
            .map(|g| g as &dyn Fn(&crate::tui::components::json_view::JsonLine) -> String);
        // A scalar the event replaced shows what it was: `70 → 120`.
        let was = |l: &crate::tui::components::json_view::JsonLine| {
            if l.kind != crate::tui::components::json_view::LineKind::Leaf {
                return None;
            }
            let c = s.changed.iter().find(|c| c.path == l.path)?;
            match (&c.old, &c.new) {
                (Some(old), Some(_)) if !old.is_object() && !old.is_array() => {
                    Some(eventscope::fit(&old.to_string(), 40))
                }
                _ => None,
            }
        };
        out.extend(self.tree.render(
            t,
            room,
            focused,
            &|l| l.is_changed(&s.changed),
            gutter,
            &was,
        ));
        frame.render_widget(Paragraph::new(out), area);
    }
}

//! The Compare tab: the open stream through a second reducer (`compare with…`): where the
//! two first part, the changes from the first's state to the second's at the playhead, and
//! the second's state there.

use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;
use std::path::PathBuf;

use serde_json::Value;

use super::{Asked, InspectorTab};
use crate::tui::action::Command;
use crate::tui::components::Outcome;
use crate::tui::model::Model;
use crate::tui::worker::{CompareAnswer, Msg, Req, WorkerError};

#[derive(Default)]
pub struct CompareTab {
    scroll: usize,
    /// Where the last question was asked, and with which second reducer.
    asked: Option<(Asked, PathBuf)>,
    answer: Option<Result<Box<CompareAnswer>, WorkerError>>,
}

impl CompareTab {
    /// The answer for the playhead, once it has come.
    fn current(&self, model: &Model) -> Option<&Result<Box<CompareAnswer>, WorkerError>> {
        let (asked, path) = self.asked.as_ref()?;
        let current = asked.is_current(model) && model.compare_with.as_ref() == Some(path);
        self.answer.as_ref().filter(|_| current)
    }
}

impl InspectorTab for CompareTab {
    fn title(&self) -> &'static str {
        "Compare"
    }

    fn on_command(&mut self, command: Command, _model: &mut Model) -> Outcome {
        super::scroll_by(command, &mut self.scroll)
    }

    fn on_open(&mut self) {
        self.scroll = 0;
    }

    fn sync(&mut self, model: &mut Model) {
        let (Some(v), Some(path), Some(at)) = (&model.view, &model.compare_with, Asked::now(model))
        else {
            return;
        };
        if !v.is_stream() || self.asked.as_ref() == Some(&(at, path.clone())) {
            return;
        }
        self.asked = Some((at, path.clone()));
        self.answer = None;
        model.outbox.push(Req::Compare {
            target: v.target.clone(),
            key: v.playhead,
            against: path.clone(),
        });
    }

    fn on_answer(&mut self, msg: Msg, model: &mut Model) -> Option<Msg> {
        let Msg::Compare {
            target,
            key,
            result,
        } = msg
        else {
            return Some(msg);
        };
        // Taken either way: only the answer asked last is kept.
        let asked_last = self
            .asked
            .as_ref()
            .is_some_and(|(a, _)| a.key == key && a.epoch == model.view_epoch);
        if let Some(v) = model.view.as_mut().filter(|v| v.target == target) {
            if asked_last {
                if let Ok(answer) = &result {
                    v.divergence = answer.first.as_ref().map(|(k, _)| *k);
                }
                self.answer = Some(result);
            }
        }
        None
    }

    fn heading(&self, model: &Model) -> Option<String> {
        let v = model.view.as_ref()?;
        Some(format!("{} @ v{} by B", v.title(), v.playhead))
    }

    fn content(&self, model: &Model) -> Option<(String, Value)> {
        let v = model.view.as_ref()?;
        match self.current(model) {
            Some(Ok(answer)) => Some((
                format!("{}@v{}.compare", v.title(), v.playhead),
                serde_json::to_value(answer).ok()?,
            )),
            _ => None,
        }
    }

    fn draw(&self, frame: &mut Frame, area: Rect, model: &Model, _focused: bool) {
        let t = &model.theme;
        let key = model.keymap.keys_label(Command::CompareWith);
        let Some(path) = &model.compare_with else {
            let lines = vec![
                Line::from("No second reducer."),
                Line::from(format!(
                    "Press {key} and give a .jq file or a folder: this tab shows the open stream through it (B) beside the reducer the UI was opened with (A)."
                )),
            ];
            frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
            return;
        };
        let Some(view) = &model.view else { return };
        let mut out = vec![Line::styled(
            format!("B: {}", eventscope::printable(&path.display().to_string())),
            t.bold(t.muted),
        )];
        if !view.is_stream() {
            out.push(Line::from("open a stream: a comparison is of one stream"));
        }
        let k = view.playhead;
        match self.current(model) {
            Some(Ok(answer)) => {
                out.push(match &answer.first {
                    Some((v, what)) => Line::styled(
                        format!("first part at v{v}: {}", eventscope::printable(what)),
                        t.bold(t.changed),
                    ),
                    None => Line::styled("A and B agree at every version", t.fg(t.added)),
                });
                match &answer.state {
                    Err(e) => out.push(Line::styled(
                        format!("B at v{k}: {}", eventscope::printable(e)),
                        t.fg(t.errors),
                    )),
                    Ok(state) => {
                        out.push(Line::styled(format!("at v{k}, A → B:"), t.bold(t.muted)));
                        if answer.changes.is_empty() {
                            out.push(Line::from("  the same"));
                        }
                        for c in &answer.changes {
                            out.push(super::diff_tab::change_line(t, c));
                        }
                        out.push(Line::styled(format!("B's state at v{k}:"), t.bold(t.muted)));
                        let text = serde_json::to_string_pretty(state).unwrap_or_default();
                        out.extend(
                            text.lines()
                                .map(|l| Line::from(eventscope::printable(l).into_owned())),
                        );
                    }
                }
            }
            Some(Err(e)) => out.push(Line::styled(
                eventscope::printable(&e.to_string()).into_owned(),
                t.fg(t.errors),
            )),
            _ => out.push(Line::from("comparing…")),
        }
        let out: Vec<Line> = out.into_iter().skip(self.scroll).collect();
        frame.render_widget(Paragraph::new(out).wrap(Wrap { trim: false }), area);
    }
}

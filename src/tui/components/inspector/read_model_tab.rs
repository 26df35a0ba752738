//! The Read-model tab: the application's row for the open stream (`--read-model`) beside
//! the replay, the differing fields first, each with the event that last changed it.

use eventscope::replay::read_model::Finding;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;
use serde_json::Value;

use super::InspectorTab;
use crate::tui::action::Command;
use crate::tui::components::Outcome;
use crate::tui::model::Model;
use crate::tui::worker::{Msg, Req, Target, WorkerError};

/// The read model's row of a stream, or none standing for it, or why it could not be read.
type RowResult = Result<Option<Box<eventscope::replay::read_model::StreamReadModel>>, WorkerError>;

#[derive(Default)]
pub struct ReadModelTab {
    scroll: usize,
    /// The view epoch and stream the row was asked for: once per stream opened, and again
    /// on a refresh.
    asked: Option<(u64, String)>,
    answer: Option<RowResult>,
}

impl ReadModelTab {
    fn current(&self, model: &Model) -> Option<&RowResult> {
        let (epoch, stream) = self.asked.as_ref()?;
        let current = *epoch == model.view_epoch
            && model.view.as_ref().map(|v| &v.target) == Some(&Target::Stream(stream.clone()));
        self.answer.as_ref().filter(|_| current)
    }
}

impl InspectorTab for ReadModelTab {
    fn title(&self) -> &'static str {
        "Read model"
    }

    fn on_command(&mut self, command: Command, _model: &mut Model) -> Outcome {
        super::scroll_by(command, &mut self.scroll)
    }

    fn on_open(&mut self) {
        self.scroll = 0;
    }

    fn sync(&mut self, model: &mut Model) {
        let Some(Target::Stream(stream)) = model.view.as_ref().map(|v| &v.target) else {
            return;
        };
        let at = (model.view_epoch, stream.clone());
        if !model.read_model || self.asked.as_ref() == Some(&at) {
            return;
        }
        self.asked = Some(at);
        self.answer = None;
        model.outbox.push(Req::ReadModel {
            stream: stream.clone(),
        });
    }

    fn on_answer(&mut self, msg: Msg, _model: &mut Model) -> Option<Msg> {
        let Msg::ReadModel { stream, result } = msg else {
            return Some(msg);
        };
        if self.asked.as_ref().is_some_and(|(_, s)| *s == stream) {
            self.answer = Some(result);
        }
        None
    }

    fn content(&self, model: &Model) -> Option<(String, Value)> {
        let v = model.view.as_ref()?;
        match self.current(model) {
            Some(Ok(Some(r))) => Some((
                format!("{}.read-model", v.title()),
                serde_json::to_value(r).ok()?,
            )),
            _ => None,
        }
    }

    fn draw(&self, frame: &mut Frame, area: Rect, model: &Model, _focused: bool) {
        let t = &model.theme;
        if !model.read_model {
            let lines = vec![
                Line::from("No read model to check."),
                Line::from("Open the TUI with --read-model 'table=T,id=C,doc=C[,version=C][,stream=JQ]' (as check --read-model takes it), and --project / --ignore as there: this tab shows the open stream's row beside its replay."),
            ];
            frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
            return;
        }
        let Some(view) = &model.view else { return };
        let mut out = Vec::new();
        match self.current(model) {
            None if !view.is_stream() => {
                out.push(Line::from("open a stream: its row is checked"));
            }
            None => out.push(Line::from("checking…")),
            Some(Err(e)) => out.push(Line::styled(
                eventscope::printable(&e.to_string()).into_owned(),
                t.fg(t.errors),
            )),
            Some(Ok(None)) => out.push(Line::styled(
                format!("no row of the read model stands for {}", view.title()),
                t.fg(t.changed),
            )),
            Some(Ok(Some(r))) => {
                let id = match &r.id {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                out.push(Line::styled(
                    format!(
                        "{} row {} against the replay at v{}",
                        eventscope::printable(&r.table),
                        eventscope::printable(&id),
                        r.version
                    ),
                    t.bold(t.muted),
                ));
                if r.findings.is_empty() {
                    out.push(Line::styled("the row matches the replay", t.fg(t.added)));
                }
                for f in &r.findings {
                    out.push(finding_line(model, f));
                }
                let json = |label: &str, v: Option<&Value>, out: &mut Vec<Line>| {
                    out.push(Line::styled(label.to_string(), t.bold(t.muted)));
                    let text = v.map_or("(not replayed)".into(), |v| {
                        serde_json::to_string_pretty(v).unwrap_or_default()
                    });
                    out.extend(
                        text.lines()
                            .map(|l| Line::from(eventscope::printable(l).into_owned())),
                    );
                };
                json("stored:", Some(&r.stored), &mut out);
                json("replayed:", r.replayed.as_ref(), &mut out);
            }
        }
        let out: Vec<Line> = out.into_iter().skip(self.scroll).collect();
        frame.render_widget(Paragraph::new(out).wrap(Wrap { trim: false }), area);
    }
}

fn finding_line(model: &Model, f: &Finding) -> Line<'static> {
    let t = &model.theme;
    let show = |v: &Option<Value>| v.as_ref().map_or("(absent)".into(), Value::to_string);
    match f {
        Finding::Differs {
            path,
            stored,
            replayed,
            blamed,
            ..
        } => {
            let by = blamed.as_ref().map_or(String::new(), |b| {
                format!(
                    "  ← v{} {}",
                    b.version,
                    eventscope::printable(&b.event_type)
                )
            });
            Line::from(vec![
                Span::styled(
                    format!("≠ {} ", eventscope::printable(path)),
                    t.bold(t.changed),
                ),
                Span::styled(
                    format!(
                        "stored {}, replayed {}",
                        eventscope::printable(&show(stored)),
                        eventscope::printable(&show(replayed))
                    ),
                    t.fg(t.changed),
                ),
                Span::styled(by, t.fg(t.muted)),
            ])
        }
        Finding::Failed { message, .. } => {
            Line::styled(eventscope::printable(message).into_owned(), t.fg(t.errors))
        }
        Finding::Orphan { why, .. } => Line::from(format!("orphan: {why}")),
        Finding::Missing { stream } => Line::from(format!("missing: {stream}")),
    }
}

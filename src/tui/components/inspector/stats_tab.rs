//! The Stats tab: events over time as bars (one per bucket, the size chosen from the span)
//! and a histogram of event types, for the store, a stream or a category. Enter on a bar
//! finds that bucket's events in the Events pane.

use std::cell::Cell;

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::InspectorTab;
use crate::tui::action::Command;
use crate::tui::components::{Move, Outcome, Pane};
use crate::tui::model::Model;
use crate::tui::worker::{FindSpec, Msg, Req, Target, WorkerError};

/// The counts of a view, or why not.
type Counted = Result<Box<eventscope::store::Stats>, WorkerError>;

#[derive(Default)]
pub struct StatsTab {
    cursor: usize,
    page: Cell<usize>,
    /// The counts and the view they are of; asked for when the tab shows a view.
    stats: Option<(Target, Counted)>,
}

impl StatsTab {
    /// The counts of the open view, once they have come.
    fn current(&self, model: &Model) -> Option<&Counted> {
        let view = model.view.as_ref()?;
        self.stats
            .as_ref()
            .filter(|(t, _)| *t == view.target)
            .map(|(_, s)| s)
    }
}

fn bar(n: u64, most: u64, width: usize) -> String {
    let cells = (n as usize * width).div_ceil(most.max(1) as usize);
    "█".repeat(cells.min(width))
}

impl InspectorTab for StatsTab {
    fn title(&self) -> &'static str {
        "Stats"
    }

    /// Asks for the open view's counts until they have come.
    fn on_show(&mut self, model: &mut Model) {
        if self.current(model).is_some() {
            return;
        }
        if let Some(view) = &model.view {
            model.outbox.push(Req::Stats {
                target: view.target.clone(),
            });
        }
    }

    fn on_open(&mut self) {
        self.cursor = 0;
        self.stats = None;
    }

    /// Takes the counts of the open view; those of a view left are dropped.
    fn on_answer(&mut self, msg: Msg, model: &mut Model) -> Option<Msg> {
        match msg {
            Msg::Stats { target, result } => {
                if model.view.as_ref().is_some_and(|v| v.target == target) {
                    self.stats = Some((target, result));
                }
                None
            }
            other => Some(other),
        }
    }

    fn on_command(&mut self, command: Command, model: &mut Model) -> Outcome {
        let Some(Ok(st)) = self.current(model) else {
            return Outcome::Ignored;
        };
        let buckets = st.buckets.clone();
        if let Some(m) = Move::of(command, self.page.get()) {
            self.cursor = m.apply(self.cursor, buckets.len());
            return Outcome::Done;
        }
        match (command, buckets.get(self.cursor)) {
            (Command::Open, Some(b)) => {
                let start = b.start.clone();
                let end = buckets
                    .get(self.cursor + 1)
                    .and_then(|n| eventscope::time::parse_stored(&n.start))
                    .map(|t| t - chrono::Duration::nanoseconds(1))
                    .or_else(|| {
                        st.last_time
                            .as_deref()
                            .and_then(eventscope::time::parse_stored)
                    })
                    .map(eventscope::time::format_stored)
                    .unwrap_or_else(|| start.clone());
                model.ask_find(FindSpec::Between(start, end));
                Outcome::Focus(Pane::Events)
            }
            _ => Outcome::Ignored,
        }
    }

    fn draw(&self, frame: &mut Frame, area: Rect, model: &Model, focused: bool) {
        let t = &model.theme;
        let st = match self.current(model) {
            None => return frame.render_widget(Paragraph::new("counting…"), area),
            Some(Err(e)) => {
                let text = eventscope::printable(&e.to_string()).into_owned();
                return frame
                    .render_widget(Paragraph::new(Line::styled(text, t.fg(t.errors))), area);
            }
            Some(Ok(st)) => st,
        };
        let [left, right] = if area.width >= 90 {
            Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(area)
        } else {
            Layout::vertical([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(area)
        };
        let size = st.bucket.clone().unwrap_or_else(|| "-".into());
        let mut lines = vec![Line::styled(
            format!(
                "{} · per {size} (Enter finds a bucket's events)",
                eventscope::count(st.events, "event")
            ),
            t.bold(t.muted),
        )];
        let rows = (left.height as usize).saturating_sub(1).max(1);
        self.page.set(rows);
        let most = st.buckets.iter().map(|b| b.events).max().unwrap_or(1);
        let cursor = self.cursor.min(st.buckets.len().saturating_sub(1));
        let offset = (cursor + 1).saturating_sub(rows);
        let label_width = 16;
        let room = (left.width as usize).saturating_sub(label_width + 10);
        for (i, b) in st.buckets.iter().enumerate().skip(offset).take(rows) {
            let when: String = eventscope::time::display(&b.start, model.local_time)
                .chars()
                .take(label_width)
                .collect();
            let mut line = Line::from(vec![
                Span::raw(format!("{when:<label_width$} ")),
                Span::styled(bar(b.events, most, room), t.fg(t.chart)),
                Span::raw(format!(" {}", b.events)),
            ]);
            if focused && i == cursor {
                line = line.style(Style::new().add_modifier(Modifier::REVERSED));
            }
            lines.push(line);
        }
        if st.buckets.is_empty() {
            lines.push(Line::from("no event times to chart"));
        }
        frame.render_widget(Paragraph::new(lines), left);
        let mut types: Vec<(&String, &u64)> = st.types.iter().collect();
        types.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let most = types.first().map_or(1, |(_, n)| **n);
        let name_width = types
            .iter()
            .map(|(k, _)| k.chars().count())
            .max()
            .unwrap_or(4)
            .min(24);
        let room = (right.width as usize).saturating_sub(name_width + 10);
        let mut lines = vec![Line::styled(" TYPES", t.bold(t.muted))];
        for (k, n) in types
            .into_iter()
            .take(right.height.saturating_sub(1) as usize)
        {
            lines.push(Line::from(vec![
                Span::raw(format!(
                    " {:<name_width$} ",
                    eventscope::fit(&eventscope::printable(k), name_width)
                )),
                Span::styled(bar(*n, most, room), t.fg(t.category)),
                Span::raw(format!(" {n}")),
            ]));
        }
        frame.render_widget(Paragraph::new(lines), right);
    }
}

//! The timeline: a slider with the playhead and marks, `N/M` and the playhead's time, and a
//! sparkline of event density over time.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Sparkline};
use ratatui::Frame;

use super::{Component, Outcome};
use crate::tui::action::Command;
use crate::tui::model::Model;

#[derive(Default)]
pub struct Timeline;

/// The slider's cells inside the timeline area: the first inner row, left of the label.
fn slider_area(area: Rect, last_key: i64) -> Rect {
    let inner = Block::bordered().inner(area);
    // "N/M" and a time with nanoseconds, whatever the number of digits.
    let digits = last_key.to_string().len() as u16;
    let label = (2 * digits + 33).min(inner.width / 2);
    Rect {
        x: inner.x,
        y: inner.y,
        width: inner.width.saturating_sub(label + 1),
        height: 1,
    }
}

/// Where a click at (x, y) falls on the slider, as a fraction of the timeline.
fn slider_fraction(timeline: Rect, last_key: i64, x: u16, y: u16) -> Option<f64> {
    let s = slider_area(timeline, last_key);
    if s.width < 2 || y != s.y || x < s.x || x >= s.x + s.width {
        return None;
    }
    Some((x - s.x) as f64 / (s.width - 1) as f64)
}

impl Component for Timeline {
    fn on_command(&mut self, _command: Command, _model: &mut Model) -> Outcome {
        Outcome::Ignored
    }

    /// A click or drag on the slider moves the playhead there.
    fn on_click(&mut self, x: u16, y: u16, area: Rect, model: &mut Model) -> Outcome {
        let Some(v) = &model.view else {
            return Outcome::Ignored;
        };
        let Some(f) = slider_fraction(area, v.len, x, y) else {
            return Outcome::Ignored;
        };
        {
            let key = v.first + ((v.len - v.first) as f64 * f.clamp(0.0, 1.0)).round() as i64;
            model.seek(key);
        }
        Outcome::Done
    }

    fn draw(&self, frame: &mut Frame, area: Rect, model: &Model, _focused: bool) {
        draw(model, frame, area)
    }
}

fn draw(app: &Model, frame: &mut Frame, area: Rect) {
    let t = &app.theme;
    let mut title = vec![Span::raw(" Timeline ")];
    if app.following {
        title.push(Span::styled("● LIVE ", t.bold(t.live)));
    }
    let block = Block::bordered()
        .border_style(t.fg(t.border))
        .title(Line::from(title))
        .title_style(t.bold(t.title));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(view) = &app.view else {
        frame.render_widget(Paragraph::new("no stream open"), inner);
        return;
    };
    let slider = slider_area(area, view.len);
    let width = slider.width as usize;
    let cell = |key: i64| -> usize {
        if view.len <= view.first || width < 2 {
            0
        } else {
            (((key - view.first) as f64 / (view.len - view.first) as f64) * (width - 1) as f64)
                .round() as usize
        }
    };
    let mut cells: Vec<Span> = (0..width)
        .map(|_| Span::styled("─", t.fg(t.muted)))
        .collect();
    if width > 0 {
        for &k in &view.snapshots {
            if (view.first..=view.len).contains(&k) {
                cells[cell(k).min(width - 1)] = Span::styled("S", t.fg(t.snapshot));
            }
        }
        for &k in view.when_hits() {
            if (view.first..=view.len).contains(&k) {
                cells[cell(k).min(width - 1)] = Span::styled("◆", t.bold(t.changed));
            }
        }
        for &k in &view.skips {
            if (view.first..=view.len).contains(&k) {
                cells[cell(k).min(width - 1)] = Span::styled("✗", t.bold(t.removed));
            }
        }
        // Where each consumer stands, on the log.
        if view.target == crate::tui::worker::Target::All {
            for c in &app.catalog.consumers {
                if let Some(k) = c.position.filter(|k| (view.first..=view.len).contains(k)) {
                    let style = if c.is_behind() {
                        t.bold(t.warnings)
                    } else {
                        t.fg(t.muted)
                    };
                    cells[cell(k).min(width - 1)] = Span::styled("▲", style);
                }
            }
        }
        // Where a second reducer first parts from the first (`compare with…`).
        if let Some(k) = view
            .divergence
            .filter(|k| (view.first..=view.len).contains(k))
        {
            cells[cell(k).min(width - 1)] = Span::styled("≠", t.bold(t.changed));
        }
        for (mark, key) in [("A", view.mark_a), ("B", view.mark_b)] {
            if let Some(k) = key {
                cells[cell(k).min(width - 1)] = Span::styled(mark, t.bold(t.marks));
            }
        }
        if !view.is_empty() {
            cells[cell(view.playhead).min(width - 1)] = Span::styled("●", t.bold(t.playhead));
        }
    }
    let time = view
        .rows
        .get(&view.playhead)
        .and_then(|rows| rows.first())
        .map(|r| super::show_time(r.timestamp.as_deref(), app.local_time))
        .unwrap_or_default();
    let mut first = cells;
    first.push(Span::raw(" "));
    first.push(Span::styled(
        format!("{}/{}", view.playhead, view.len),
        t.bold(t.title),
    ));
    first.push(Span::raw(format!(" {time}")));
    frame.render_widget(
        Paragraph::new(Line::from(first)),
        Rect { height: 1, ..inner },
    );
    if inner.height < 2 {
        return;
    }
    let spark_area = Rect {
        y: inner.y + 1,
        height: 1,
        width: slider.width,
        ..inner
    };
    let data = resample(&view.density, spark_area.width as usize);
    frame.render_widget(
        Sparkline::default().data(&data).style(t.fg(t.chart)),
        spark_area,
    );
    let marks = format!(
        " A {}  B {}",
        view.mark_a.map_or("-".into(), |a| a.to_string()),
        view.mark_b.map_or("-".into(), |b| b.to_string())
    );
    let label_area = Rect {
        x: spark_area.x + spark_area.width,
        y: spark_area.y,
        width: inner.width.saturating_sub(spark_area.width),
        height: 1,
    };
    frame.render_widget(Paragraph::new(marks).style(t.fg(t.marks)), label_area);
}

/// Sums `counts` into `width` columns.
fn resample(counts: &[u64], width: usize) -> Vec<u64> {
    if counts.is_empty() || width == 0 {
        return vec![0; width];
    }
    let mut out = vec![0; width];
    for (i, c) in counts.iter().enumerate() {
        out[i * width / counts.len()] += c;
    }
    out
}

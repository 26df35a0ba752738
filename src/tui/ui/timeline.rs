//! The timeline: a slider with the playhead and marks, `N/M` and the playhead's time, and a
//! sparkline of event density over time.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Sparkline};
use ratatui::Frame;

use crate::tui::app::App;

/// The slider's cells inside the timeline area: the first inner row, left of the label.
fn slider_area(area: Rect) -> Rect {
    let inner = Block::bordered().inner(area);
    let label = 34.min(inner.width / 2);
    Rect {
        x: inner.x,
        y: inner.y,
        width: inner.width.saturating_sub(label + 1),
        height: 1,
    }
}

/// Where a click at (x, y) falls on the slider, as a fraction of the timeline.
pub fn slider_fraction(timeline: Rect, x: u16, y: u16) -> Option<f64> {
    let s = slider_area(timeline);
    if s.width < 2 || y != s.y || x < s.x || x >= s.x + s.width {
        return None;
    }
    Some((x - s.x) as f64 / (s.width - 1) as f64)
}

pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let mut title = vec![Span::raw(" Timeline ")];
    if app.following {
        title.push(Span::styled(
            "● LIVE ",
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        ));
    }
    let block = Block::bordered()
        .border_style(Style::new().fg(Color::DarkGray))
        .title(Line::from(title))
        .title_style(Style::new().fg(Color::Reset).add_modifier(Modifier::BOLD));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(view) = &app.view else {
        frame.render_widget(Paragraph::new("no stream open"), inner);
        return;
    };
    let slider = slider_area(area);
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
        .map(|_| Span::styled("─", Style::new().fg(Color::DarkGray)))
        .collect();
    if width > 0 {
        for &k in &view.snapshots {
            if (view.first..=view.len).contains(&k) {
                cells[cell(k).min(width - 1)] = Span::styled("S", Style::new().fg(Color::Magenta));
            }
        }
        for (mark, key) in [("A", view.mark_a), ("B", view.mark_b)] {
            if let Some(k) = key {
                cells[cell(k).min(width - 1)] = Span::styled(
                    mark,
                    Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
                );
            }
        }
        if !view.is_empty() {
            cells[cell(view.playhead).min(width - 1)] = Span::styled(
                "●",
                Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            );
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
        Style::new().add_modifier(Modifier::BOLD),
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
        Sparkline::default()
            .data(&data)
            .style(Style::new().fg(Color::Blue)),
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
    frame.render_widget(
        Paragraph::new(marks).style(Style::new().fg(Color::Yellow)),
        label_area,
    );
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

//! A numeric field across a stream's versions, drawn under the State tab, with the
//! playhead marked.

use ratatui::layout::Rect;
use ratatui::symbols::Marker;
use ratatui::text::Line;
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, Paragraph};
use ratatui::Frame;

use crate::tui::model::{Model, PlotResult};

pub fn draw(
    frame: &mut Frame,
    area: Rect,
    model: &Model,
    path: &str,
    result: Option<&PlotResult>,
    playhead: i64,
) {
    let t = &model.theme;
    let title = format!(
        " {} across versions (p on it again closes) ",
        eventscope::printable(path)
    );
    let block = Block::bordered()
        .border_style(t.fg(t.border))
        .title(Line::styled(title, t.bold(t.title)));
    let points = match result {
        None => {
            let inner = block.inner(area);
            frame.render_widget(block, area);
            return frame.render_widget(Paragraph::new("replaying…"), inner);
        }
        Some(Err(e)) => {
            let inner = block.inner(area);
            frame.render_widget(block, area);
            let text = eventscope::printable(&e.to_string()).into_owned();
            return frame.render_widget(Paragraph::new(Line::styled(text, t.fg(t.errors))), inner);
        }
        Some(Ok(p)) if p.is_empty() => {
            let inner = block.inner(area);
            frame.render_widget(block, area);
            return frame.render_widget(Paragraph::new("no version has a number there"), inner);
        }
        Some(Ok(p)) => p,
    };
    // Values are placed as fractions of their range, computed on halves so that a range
    // from -1e308 to 1e308 does not overflow; the axis shows the values themselves.
    let finite: Vec<(f64, f64)> = points
        .iter()
        .filter(|(_, y)| y.is_finite())
        .map(|(v, y)| (*v as f64, *y))
        .collect();
    if finite.is_empty() {
        let inner = block.inner(area);
        frame.render_widget(block, area);
        return frame.render_widget(
            Paragraph::new("no version has a finite number there"),
            inner,
        );
    }
    let (lo, hi) = finite
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), (_, y)| {
            (lo.min(*y), hi.max(*y))
        });
    let span = hi / 2.0 - lo / 2.0;
    let place = |y: f64| {
        if span > 0.0 {
            (y / 2.0 - lo / 2.0) / span
        } else {
            0.5
        }
    };
    let data: Vec<(f64, f64)> = finite.iter().map(|(v, y)| (*v, place(*y))).collect();
    let (x0, x1) = (data[0].0, data[data.len() - 1].0.max(data[0].0 + 1.0));
    let (y0, y1) = (0.0, 1.0);
    let cursor = [(playhead as f64, y0), (playhead as f64, y1)];
    let chart = Chart::new(vec![
        Dataset::default()
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(t.fg(t.chart))
            .data(&data),
        Dataset::default()
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(t.fg(t.playhead))
            .data(&cursor),
    ])
    .block(block)
    .x_axis(
        Axis::default()
            .bounds([x0, x1])
            .labels([format!("v{x0}"), format!("v{x1}")])
            .style(t.fg(t.muted)),
    )
    .y_axis(
        Axis::default()
            .bounds([y0, y1])
            .labels([axis_label(lo), axis_label(hi)])
            .style(t.fg(t.muted)),
    );
    frame.render_widget(chart, area);
}

/// A value on the axis in at most a dozen columns: scientific where plain would be long.
fn axis_label(y: f64) -> String {
    let plain = format!("{y}");
    if plain.len() <= 12 {
        plain
    } else {
        format!("{y:.3e}")
    }
}

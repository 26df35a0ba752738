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
    let data: Vec<(f64, f64)> = points.iter().map(|(v, x)| (*v as f64, *x)).collect();
    let (x0, x1) = (data[0].0, data[data.len() - 1].0.max(data[0].0 + 1.0));
    let (mut y0, mut y1) = data.iter().fold((f64::MAX, f64::MIN), |(lo, hi), (_, y)| {
        (lo.min(*y), hi.max(*y))
    });
    if y0 == y1 {
        y0 -= 1.0;
        y1 += 1.0;
    }
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
            .labels([format!("{y0}"), format!("{y1}")])
            .style(t.fg(t.muted)),
    );
    frame.render_widget(chart, area);
}

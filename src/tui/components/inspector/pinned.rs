//! The State tab's side list of pinned fields: each field's changes in the open stream,
//! the one at or before the playhead marked, so what the field was and when it became so
//! reads at a glance.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

use crate::tui::model::Model;

/// A value as the list shows it: JSON cut to `width`, `—` where absent.
fn cell(v: Option<&serde_json::Value>, width: usize) -> String {
    v.map_or("—".into(), |v| {
        eventscope::printable(&eventscope::preview(v, width)).into_owned()
    })
}

pub fn draw(frame: &mut Frame, area: Rect, model: &Model) {
    let t = &model.theme;
    let Some(view) = &model.view else { return };
    let width = area.width.saturating_sub(2) as usize;
    let mut out: Vec<Line> = Vec::new();
    match &model.pins.history {
        None => out.push(Line::from("replaying the pinned fields…")),
        Some(Err(e)) => out.push(Line::styled(
            eventscope::printable(&e.to_string()).into_owned(),
            t.fg(t.errors),
        )),
        Some(Ok(all)) => {
            for (path, rows) in model.pins.paths.iter().zip(all) {
                let shown = if path.is_empty() { "/" } else { path };
                out.push(Line::styled(
                    format!(
                        "{} · {}",
                        eventscope::printable(shown),
                        eventscope::count(rows.len() as i64, "change")
                    ),
                    t.bold(t.title),
                ));
                let current = rows.iter().rposition(|r| r.version <= view.playhead);
                for (i, r) in rows.iter().enumerate() {
                    let style = if Some(i) == current {
                        t.bold(t.focus)
                    } else {
                        t.fg(t.muted)
                    };
                    let value = match r.change {
                        eventscope::replay::history::FieldChange::Removed => "removed".into(),
                        _ => cell(r.new.as_ref(), width.saturating_sub(8) / 2),
                    };
                    let was = match r.old.as_ref() {
                        Some(old) => format!("  (was {})", cell(Some(old), width / 4)),
                        None => String::new(),
                    };
                    out.push(Line::from(vec![
                        Span::styled(format!("{:>5} ", format!("v{}", r.version)), style),
                        Span::styled(value, style),
                        Span::styled(was, t.fg(t.muted)),
                    ]));
                }
            }
        }
    }
    let block = Block::default()
        .borders(Borders::LEFT)
        .border_style(t.fg(t.border))
        .title(Span::styled(" pinned ", t.bold(t.title)));
    frame.render_widget(Paragraph::new(out).block(block), area);
}

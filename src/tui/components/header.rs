//! The header line (k9s): the store, how it is read (layout, reducer, snapshots), whether
//! the UI follows it, and the time zone of every time shown. A reducer path too long for
//! the line is cut in the middle, so its file name stays; on a narrow screen the parts
//! least needed go first.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::tui::model::Model;

/// One part of the header: its text and how it is shown.
struct Part {
    text: String,
    style: ratatui::style::Style,
    /// Dropped first when the line is short: the store is in the Streams pane's title.
    keep: u8,
}

/// Whether events are upcast, and by what; nothing where there are no upcasters.
fn upcasting(model: &Model) -> Part {
    let t = &model.theme;
    let (text, style) = match (&model.upcasters_name, model.upcasters_off) {
        (None, _) => (String::new(), t.fg(t.muted)),
        (Some(_), true) => ("upcasting stopped".into(), t.bold(t.warnings)),
        (Some(name), false) => (
            format!("upcast by {}", eventscope::printable(name)),
            t.bold(t.changed),
        ),
    };
    Part {
        text,
        style,
        keep: 4,
    }
}

fn parts(model: &Model) -> Vec<Part> {
    let t = &model.theme;
    let p = |text: String, style, keep| Part { text, style, keep };
    let follow = match (model.following, model.follow_paused()) {
        (false, _) => p("not following".into(), t.fg(t.muted), 3),
        (true, None) => p("following".into(), t.bold(t.live), 5),
        (true, Some(n)) => p(
            format!("following paused: {}", eventscope::count(n, "new event")),
            t.bold(t.warnings),
            5,
        ),
    };
    let snapshots = match model.from_snapshots {
        true => p("from snapshots".into(), t.bold(t.snapshot), 4),
        false => p("no snapshots".into(), t.fg(t.muted), 2),
    };
    let zone = if model.local_time {
        "local time"
    } else {
        "UTC"
    };
    let mut parts = vec![
        p(
            eventscope::printable(&model.store_name).into_owned(),
            t.bold(t.title),
            1,
        ),
        p(model.layout_name.clone(), t.fg(t.title), 0),
        p(
            format!("reducer {}", eventscope::printable(&model.reducer_name)),
            t.fg(t.title),
            6,
        ),
        snapshots,
        upcasting(model),
        follow,
        p(zone.into(), t.fg(t.title), 4),
    ];
    parts.retain(|p| !p.text.is_empty());
    parts
}

const SEP: &str = " · ";

pub fn draw(frame: &mut Frame, area: Rect, model: &Model) {
    use unicode_width::UnicodeWidthStr;
    let t = &model.theme;
    let mut parts = parts(model);
    let width = |parts: &[Part]| -> usize {
        parts
            .iter()
            .map(|p| p.text.width() + SEP.width())
            .sum::<usize>()
            + 1
    };
    let room = area.width as usize;
    // A long reducer path is cut in the middle first (its file name stays), down to a
    // readable length; then the least needed parts go.
    let over = width(&parts).saturating_sub(room);
    if let Some(r) = parts.iter_mut().find(|p| p.keep == 6).filter(|_| over > 0) {
        let now = r.text.width();
        r.text = eventscope::fit_middle(&r.text, now.saturating_sub(over).max(24.min(now)));
    }
    while width(&parts) > room && parts.len() > 1 {
        let Some(least) = (0..parts.len()).min_by_key(|&i| parts[i].keep) else {
            break;
        };
        parts.remove(least);
    }
    let mut spans = vec![Span::raw(" ")];
    for (i, part) in parts.into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(SEP, t.fg(t.muted)));
        }
        spans.push(Span::styled(part.text, part.style));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

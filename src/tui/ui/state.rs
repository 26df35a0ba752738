//! The state pane and its tabs: the state at the playhead (changed fields marked), the
//! event itself, and the diff between marks.

use eventscope::replay::{Change, Op};
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;
use serde_json::Value;

use crate::tui::action::Command;
use crate::tui::app::{App, Pane, Tab, View};
use crate::tui::json_view::{JsonLine, LineKind};
use crate::tui::worker::StateAt;

pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let tab = |name: &str, key: char, t: Tab| {
        let style = if app.tab == t {
            Style::new()
                .fg(Color::Black)
                .bg(Color::Cyan)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().fg(Color::Gray)
        };
        Span::styled(format!(" {key} {name} "), style)
    };
    let mut title = vec![
        Span::raw(" "),
        tab("State", '1', Tab::State),
        Span::raw(" "),
        tab("Event", '2', Tab::Event),
        Span::raw(" "),
        tab("Diff", '3', Tab::Diff),
        Span::raw(" "),
    ];
    if let Some(v) = &app.view {
        if let Some(note) = state_note(v) {
            title.push(Span::styled(
                format!("{note} "),
                Style::new().fg(Color::Yellow),
            ));
        }
    }
    let block = super::pane_block(app, Pane::State, Line::from(title));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(view) = &app.view else {
        let hint = format!("Reducer: {}", app.reducer_name);
        frame.render_widget(Paragraph::new(hint), inner);
        return;
    };
    let lines = match app.tab {
        Tab::State => state_lines(app, view, inner.height as usize),
        Tab::Event => scrolled(event_lines(view), app.event_scroll),
        Tab::Diff => scrolled(diff_lines(app, view), app.diff_scroll),
    };
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

/// "replaying 43%" or "loading v7" while the playhead's state is on its way.
fn state_note(v: &View) -> Option<String> {
    if let Some((reached, total)) = v.progress {
        let pct = if total > 0 { reached * 100 / total } else { 0 };
        return Some(format!("replaying {pct}% ({reached}/{total})"));
    }
    if v.current_state().is_none() && !v.is_empty() {
        return Some(format!("loading {}…", v.playhead));
    }
    None
}

fn scrolled(lines: Vec<Line<'static>>, scroll: usize) -> Vec<Line<'static>> {
    lines.into_iter().skip(scroll).collect()
}

fn state_lines(app: &App, view: &View, height: usize) -> Vec<Line<'static>> {
    let Some((_, result)) = &view.state else {
        return vec![Line::from("…")];
    };
    let s = match result {
        Ok(s) => s,
        Err(e) => {
            return vec![Line::styled(
                eventscope::printable(e).into_owned(),
                Style::new().fg(Color::Red),
            )]
        }
    };
    let mut out = provenance(s);
    if let Some(e) = &s.error {
        out.push(Line::styled(
            format!("✗ {}", eventscope::printable(e)),
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        ));
        out.push(Line::styled(
            "  the state below is the one before this event",
            Style::new().fg(Color::Red),
        ));
    }
    if let (n @ 1.., Some(first)) = s.failed_before {
        out.push(Line::styled(
            match n {
                1 => format!("⚠ 1 earlier event failed and was skipped (first at {first})"),
                _ => format!("⚠ {n} earlier events failed and were skipped (first at {first})"),
            },
            Style::new().fg(Color::Yellow),
        ));
    }
    let lines = app.state_lines();
    let room = height.saturating_sub(out.len()).max(1);
    let focused = app.focus == Pane::State;
    let offset = (app.state_cursor + 1).saturating_sub(room);
    for (i, l) in lines.iter().enumerate().skip(offset).take(room) {
        let mut line = json_line(l, l.is_changed(&s.changed));
        if focused && i == app.state_cursor {
            line = line.style(Style::new().add_modifier(Modifier::REVERSED));
        }
        out.push(line);
    }
    out
}

/// What the state was computed with, where that is not plain: the built-in merge (a guess
/// for stores whose events carry changes) or a stored snapshot.
fn provenance(s: &StateAt) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    if s.merge {
        out.push(Line::styled(
            "⚠ built-in merge: each event's data deep-merged, a guess; pass --reducer for your fold",
            Style::new().fg(Color::Yellow),
        ));
    }
    if let Some(v) = s.from_snapshot {
        out.push(Line::styled(
            format!(
                "started from the stored snapshot at version {v} (s: replay from the first event)"
            ),
            Style::new().fg(Color::Magenta),
        ));
    }
    out
}

fn json_line(l: &JsonLine, changed: bool) -> Line<'static> {
    let gutter = if changed {
        Span::styled(
            "● ",
            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        )
    } else {
        Span::raw("  ")
    };
    let mut spans = vec![gutter, Span::raw("  ".repeat(l.depth))];
    if l.key.is_some() || l.kind == LineKind::Folded || l.kind == LineKind::Open {
        let fold = match l.kind {
            LineKind::Folded => "▸ ",
            LineKind::Open => "▾ ",
            _ => "",
        };
        spans.push(Span::styled(fold, Style::new().fg(Color::DarkGray)));
    }
    if let Some(k) = &l.key {
        spans.push(Span::styled(
            eventscope::printable(&format!("{k:?}")).into_owned(),
            Style::new().fg(Color::Cyan),
        ));
        spans.push(Span::raw(": "));
    }
    let value_style = match l.kind {
        LineKind::Leaf => leaf_style(&l.text),
        LineKind::Folded => Style::new().fg(Color::DarkGray),
        _ => Style::new(),
    };
    let value_style = if changed {
        value_style.add_modifier(Modifier::BOLD)
    } else {
        value_style
    };
    spans.push(Span::styled(
        eventscope::printable(&l.text).into_owned(),
        value_style,
    ));
    if l.comma {
        spans.push(Span::raw(","));
    }
    Line::from(spans)
}

fn leaf_style(text: &str) -> Style {
    match text.chars().next() {
        Some('"') => Style::new().fg(Color::Green),
        Some('t' | 'f' | 'n') => Style::new().fg(Color::Magenta),
        _ => Style::new().fg(Color::Yellow),
    }
}

fn event_lines(view: &View) -> Vec<Line<'static>> {
    let Some(Ok(s)) = view.current_state() else {
        return vec![Line::from("…")];
    };
    let mut out: Vec<Line<'static>> = if s.event.is_none() {
        vec![Line::from("No event at this position.")]
    } else {
        s.event_lines.iter().map(|l| json_line(l, false)).collect()
    };
    if let Some(snapshot) = &s.snapshot {
        out.push(Line::from(""));
        out.push(Line::styled(
            format!(
                "S stored snapshot at version {} (the application's aggregate, not the reducer's state):",
                s.version
            ),
            Style::new().fg(Color::Magenta).add_modifier(Modifier::BOLD),
        ));
        match snapshot {
            Ok(lines) => out.extend(lines.iter().map(|l| json_line(l, false))),
            Err(why) => out.push(Line::styled(
                format!("⚠ unreadable: {why}"),
                Style::new().fg(Color::Red),
            )),
        }
    }
    out
}

fn diff_lines(app: &App, view: &View) -> Vec<Line<'static>> {
    let Some((a, b)) = view.diff_pair() else {
        let a = app.keymap.keys_label(Command::MarkA);
        let b = app.keymap.keys_label(Command::MarkB);
        return vec![
            Line::from("No marks set."),
            Line::from(format!(
                "Press {a} to set mark A at the playhead, move, and {b} to set mark B."
            )),
            Line::from("While B is unset the diff is A → playhead."),
        ];
    };
    let b_label = if view.mark_b.is_some() {
        format!("B {b}")
    } else {
        format!("playhead {b}")
    };
    let mut out = match view.current_state() {
        Some(Ok(s)) => provenance(s),
        _ => Vec::new(),
    };
    out.push(Line::styled(
        format!("A {a} → {b_label}"),
        Style::new()
            .fg(Color::DarkGray)
            .add_modifier(Modifier::BOLD),
    ));
    match &view.diff {
        Some((pair, Ok(changes))) if *pair == (a, b) => {
            if changes.is_empty() {
                out.push(Line::from("no changes"));
            }
            out.extend(changes.iter().map(change_line));
        }
        Some((pair, Err(e))) if *pair == (a, b) => {
            out.push(Line::styled(e.clone(), Style::new().fg(Color::Red)));
        }
        _ => out.push(Line::from("comparing…")),
    }
    out
}

fn change_line(c: &Change) -> Line<'static> {
    let show = |v: &Option<Value>| v.as_ref().map(Value::to_string).unwrap_or_default();
    let (sign, color, text) = match c.op {
        Op::Added => ("+", Color::Green, show(&c.new)),
        Op::Removed => ("-", Color::Red, show(&c.old)),
        Op::Changed => (
            "~",
            Color::Yellow,
            format!("{} → {}", show(&c.old), show(&c.new)),
        ),
    };
    Line::from(vec![
        Span::styled(
            format!("{sign} {} ", eventscope::printable(&c.path)),
            Style::new().fg(color).add_modifier(Modifier::BOLD),
        ),
        Span::styled(
            eventscope::printable(&text).into_owned(),
            Style::new().fg(color),
        ),
    ])
}

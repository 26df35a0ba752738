//! The events table: the opened stream's events around the playhead, the playhead's row
//! highlighted, marks and snapshots in the gutter, a search's text marked in the rows.
//! Moving in it moves the playhead; with only matches shown (`&`), from match to match.

use std::cell::{Cell, RefCell};

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{Component, Move, Outcome};
use crate::tui::action::Command;
use crate::tui::model::Model;
use crate::tui::worker::Target;
use eventscope::fit;

pub struct EventsTable {
    page: Cell<usize>,
    /// The key each drawn line shows, by line, for clicks.
    drawn: RefCell<Vec<i64>>,
}

impl Default for EventsTable {
    fn default() -> Self {
        EventsTable {
            page: Cell::new(10),
            drawn: RefCell::new(Vec::new()),
        }
    }
}

/// Column widths for a table `width` wide.
struct Columns {
    key: usize,
    stream: usize,
    kind: usize,
}

/// Widths from the terminal's width and the longest type (and stream) shown: the payload
/// preview takes what is left, but never less than a third of the room.
fn columns(
    width: usize,
    key_digits: usize,
    all: bool,
    time: usize,
    longest: (usize, usize, usize),
) -> Columns {
    let key = key_digits.max(3);
    let rest = width.saturating_sub(2 + key + 1 + time + 1);
    let (longest_stream, longest_kind, longest_data) = longest;
    let stream_need = if all { longest_stream.max(6) + 1 } else { 0 };
    if stream_need + longest_kind.max(4) + 1 + longest_data <= rest {
        // Everything fits whole.
        return Columns {
            key,
            stream: stream_need.saturating_sub(1),
            kind: longest_kind.max(4),
        };
    }
    let budget = rest * 2 / 3;
    let stream = if all {
        longest_stream.max(6).min(budget / 2).max(6)
    } else {
        0
    };
    let kind = longest_kind
        .max(4)
        .min(budget.saturating_sub(stream + 1))
        .max(4);
    Columns { key, stream, kind }
}

impl EventsTable {
    pub fn page(&self) -> usize {
        self.page.get().max(1)
    }
}

impl Component for EventsTable {
    fn on_command(&mut self, command: Command, model: &mut Model) -> Outcome {
        if model.view.is_none() {
            return Outcome::Ignored;
        }
        let only_found = model
            .view
            .as_ref()
            .is_some_and(|v| v.only_found && v.found.is_some());
        match (Move::of(command, self.page()), command) {
            (Some(m), _) if only_found => model.step_matches(match m {
                Move::By(d) => d,
                Move::Top => i64::MIN,
                Move::Bottom => i64::MAX,
            }),
            (Some(Move::By(d)), _) => model.step(d),
            (Some(Move::Top), _) => model.seek(i64::MIN),
            (Some(Move::Bottom), _) => model.seek(i64::MAX),
            // The event opens in the inspector; marks and the playhead stay.
            (None, Command::Open) => return Outcome::ShowTab("Event"),
            _ => return Outcome::Ignored,
        }
        Outcome::Done
    }

    fn on_click(&mut self, _x: u16, y: u16, area: Rect, model: &mut Model) -> Outcome {
        let first_row = area.y + 2; // border, then the header
        if y < first_row {
            return Outcome::Ignored;
        }
        let key = self.drawn.borrow().get((y - first_row) as usize).copied();
        match key {
            Some(k) => {
                model.seek(k);
                Outcome::Focus(super::Pane::Events)
            }
            None => Outcome::Ignored,
        }
    }

    fn draw(&self, frame: &mut Frame, area: Rect, model: &Model, focused: bool) {
        let t = &model.theme;
        let Some(view) = &model.view else {
            let block = super::pane_block(model, focused, Line::from(" Events "));
            let inner = block.inner(area);
            frame.render_widget(block, area);
            frame.render_widget(Paragraph::new("Select a stream and press Enter."), inner);
            return;
        };
        let local = model.local_time;
        let mut title = vec![Span::raw(format!(" Events · {} ", view.title()))];
        if let Some(f) = &view.found {
            let what = match &f.find {
                crate::tui::worker::FindSpec::Text(s) => format!("/{s}"),
                crate::tui::worker::FindSpec::Jq(s) => format!("/?{s}"),
                crate::tui::worker::FindSpec::Between(a, b) => format!(
                    "{} → {}",
                    super::show_time(Some(a), local),
                    super::show_time(Some(b), local)
                ),
                crate::tui::worker::FindSpec::Shape(ty, fields) => format!(
                    "{} of shape {}",
                    eventscope::printable(ty),
                    eventscope::fit(
                        &eventscope::printable(
                            &fields.keys().cloned().collect::<Vec<_>>().join(",")
                        ),
                        30
                    )
                ),
            };
            let only = if view.only_found { "only " } else { "" };
            let state = match (&f.error, f.done, model.match_position()) {
                (Some(e), _, _) => format!("{what}: {e} "),
                (None, true, Some(at)) => format!("{what}: {only}{at} "),
                (None, true, None) => format!(
                    "{what}: {only}{} ",
                    eventscope::count(f.keys.len() as u64, "match")
                ),
                (None, false, _) => {
                    format!(
                        "{what}: {}, {} scanned… ",
                        eventscope::count(f.keys.len() as u64, "match"),
                        f.scanned
                    )
                }
            };
            let style = if f.error.is_some() {
                t.fg(t.errors)
            } else {
                t.fg(t.warnings)
            };
            title.push(Span::styled(
                eventscope::printable(&state).into_owned(),
                style,
            ));
        }
        let title = Line::from(title);
        let block = super::pane_block(model, focused, title);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        self.drawn.borrow_mut().clear();
        if inner.height < 2 {
            return;
        }
        // The log and a category list events of many streams: they get a STREAM column.
        let all = !view.is_stream();
        let time_width = if model.catalog.has_times {
            view.rows
                .values()
                .flatten()
                .map(|r| {
                    super::show_time(r.timestamp.as_deref(), local)
                        .chars()
                        .count()
                })
                .max()
                .unwrap_or(19)
                .max(19)
        } else {
            0
        };
        let width = inner.width as usize;
        let digits = view.len.max(view.first.abs()).to_string().len() + usize::from(view.first < 0);
        let longest = view
            .rows
            .values()
            .flatten()
            .fold((0, 0, 0), |(s, k, d), r| {
                (
                    s.max(eventscope::columns(&eventscope::printable(&r.stream_id))),
                    k.max(eventscope::columns(&eventscope::printable(&r.event_type))),
                    d.max(eventscope::columns(&eventscope::printable(&r.preview))),
                )
            });
        let c = columns(width, digits, all, time_width, longest);
        let time_head = if time_width == 0 {
            String::new()
        } else {
            format!("TIME {}", super::zone_label(local))
        };
        let mut head = format!(
            "  {:>kw$} ",
            match view.target {
                Target::Stream(_) => "VER",
                Target::All => "POS",
                // A category's events by rank in its global order.
                Target::Category(_) => "#",
            },
            kw = c.key
        );
        if all {
            head.push_str(&format!("{:<sw$} ", "STREAM", sw = c.stream));
        }
        head.push_str(&format!("{:<tw$} ", "TYPE", tw = c.kind));
        if time_width > 0 {
            head.push_str(&format!("{time_head:<time_width$} "));
        }
        head.push_str("DATA");
        let mut lines = vec![Line::styled(head, t.bold(t.muted))];
        let rows = inner.height as i64 - 1;
        self.page.set(rows as usize);
        let needle = match view.found.as_ref().map(|f| &f.find) {
            Some(crate::tui::worker::FindSpec::Text(s)) => super::highlight::Needle::new(s),
            _ => None,
        };
        let hit = t.bold(t.warnings).add_modifier(Modifier::UNDERLINED);
        let keys = shown_keys(view, rows);
        // Events that changed a pinned field (the State tab's `P`).
        let pinned = model.pins.changed_at();
        let mut drawn = Vec::new();
        for key in keys {
            let mark = match (view.mark_a == Some(key), view.mark_b == Some(key)) {
                (true, true) => "AB",
                (true, false) => "A ",
                (false, true) => " B",
                _ => "  ",
            };
            let found = view
                .rows
                .get(&key)
                .or_else(|| view.found.as_ref().and_then(|f| f.rows.get(&key)))
                .filter(|rows| !rows.is_empty());
            let key_lines: Vec<Line> = match found {
                // Events sharing a version are all listed, each on its own line.
                Some(found) => found
                    .iter()
                    .map(|r| {
                        let p = eventscope::printable;
                        // Cells a search may mark (names, the payload) apart from those
                        // it never looks in (the key, the time).
                        let mut cells = vec![(format!("{key:>kw$} ", kw = c.key), false)];
                        if all {
                            let id = eventscope::pad(&p(&r.stream_id), c.stream);
                            cells.push((format!("{id} "), true));
                        }
                        let kind = eventscope::pad(&p(&r.event_type), c.kind);
                        cells.push((format!("{kind} "), true));
                        if time_width > 0 {
                            let time = super::show_time(r.timestamp.as_deref(), local);
                            cells.push((format!("{time:<time_width$} "), false));
                        }
                        let skipped = view.skips.contains(&key);
                        let matched = view.found.as_ref().is_some_and(|f| f.keys.contains(&key));
                        let mark = if skipped && mark == "  " {
                            " ✗"
                        } else if matched && mark == "  " {
                            " »"
                        } else if pinned.contains(&key) && mark == "  " {
                            " ◆"
                        } else if r.snapshot && mark == "  " {
                            " S"
                        } else {
                            mark
                        };
                        let used: usize = cells.iter().map(|(c, _)| eventscope::columns(c)).sum();
                        let room = width.saturating_sub(used + 2);
                        let preview = fit(&p(&r.preview), room);
                        let mut spans = vec![Span::styled(mark, t.bold(t.marks))];
                        cells.push((preview, true));
                        let last = cells.len() - 1;
                        for (i, (text, searched)) in cells.into_iter().enumerate() {
                            let base = if i == last {
                                t.fg(t.muted)
                            } else {
                                Style::new()
                            };
                            match needle.as_ref().filter(|_| searched) {
                                Some(n) => spans.extend(n.spans(text, base, hit)),
                                None => spans.push(Span::styled(text, base)),
                            }
                        }
                        let line = Line::from(spans);
                        if skipped {
                            line.style(Style::new().add_modifier(Modifier::CROSSED_OUT))
                        } else {
                            line
                        }
                    })
                    .collect(),
                None if (view.rows_known.0..=view.rows_known.1).contains(&key) => {
                    vec![Line::styled(
                        format!(
                            "{mark}{key:>kw$} (no event at this {})",
                            if all { "position" } else { "version" },
                            kw = c.key
                        ),
                        t.fg(t.errors),
                    )]
                }
                None => vec![Line::from(format!("{mark}{key:>kw$} …", kw = c.key))],
            };
            for line in key_lines {
                let line = if key == view.playhead {
                    line.style(Style::new().add_modifier(Modifier::REVERSED))
                } else {
                    line
                };
                lines.push(line);
                drawn.push(key);
            }
        }
        lines.truncate(rows as usize + 1);
        drawn.truncate(rows as usize);
        *self.drawn.borrow_mut() = drawn;
        if view.is_empty() {
            lines.push(Line::from("This stream has no events."));
        }
        frame.render_widget(Paragraph::new(lines), inner);
    }
}

/// The keys the table shows, `rows` of them: those around the playhead, or with only
/// matches shown, the matches around it.
fn shown_keys(view: &crate::tui::model::View, rows: i64) -> Vec<i64> {
    match view.found.as_ref().filter(|_| view.only_found) {
        Some(f) => {
            let half = (rows / 2).max(0) as usize;
            let mut keys: Vec<i64> = f
                .keys
                .range(..=view.playhead)
                .rev()
                .take(half + 1)
                .copied()
                .collect();
            keys.reverse();
            let room = (rows as usize).saturating_sub(keys.len());
            keys.extend(f.keys.range(view.playhead + 1..).take(room));
            keys
        }
        None => {
            let start =
                (view.playhead - rows / 2).clamp(view.first, (view.len - rows + 1).max(view.first));
            (start..(start + rows).min(view.len + 1)).collect()
        }
    }
}

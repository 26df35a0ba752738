//! The footer: a prompt or the filter while one is open, else a status message, new events
//! waiting, or the keys of the focused pane and tab first, then those that work anywhere.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::prompt::Prompt;
use super::Pane;
use crate::tui::action::Command;
use crate::tui::keymap::Layer;
use crate::tui::model::Model;

/// What the footer shows besides the model: the mode on top, and where the focus is.
pub struct FooterMode<'a> {
    pub prompt: Option<&'a Prompt>,
    pub filter: Option<&'a str>,
    pub overlay: bool,
    pub focus: Pane,
    /// The inspector's tab in front, by title.
    pub tab: &'a str,
}

/// The commands worth a hint where the focus is, most useful first; those of every pane
/// follow.
pub fn context_commands(focus: Pane, tab: &str) -> Vec<Command> {
    use Command as C;
    let mut commands = match (focus, tab) {
        (Pane::Streams, _) => vec![C::Open, C::Search, C::SortStreams, C::Fold, C::Consumers],
        (Pane::Events, _) => vec![
            C::StepForward,
            C::GoToVersion,
            C::GoToTime,
            C::Search,
            C::SearchNext,
            C::OnlyMatches,
            C::MarkA,
            C::ToggleSkip,
            C::Related,
        ],
        (Pane::Inspector, "State") => vec![
            C::ToggleBlame,
            C::BlameJump,
            C::Plot,
            C::Pin,
            C::When,
            C::Search,
            C::Copy,
        ],
        (Pane::Inspector, "Event") => vec![C::Search, C::Copy, C::Related],
        (Pane::Inspector, "Diff") => vec![C::MarkA, C::MarkB, C::ClearMarks, C::Search],
        (Pane::Inspector, "Table") => vec![C::Open, C::PickColumns],
        (Pane::Inspector, "Stats") => vec![C::Open],
        (Pane::Inspector, "Compare") => vec![C::CompareWith, C::Search],
        (Pane::Inspector, _) => vec![C::Search, C::Copy],
    };
    commands.extend([C::FocusNext, C::ToggleFollow, C::Messages, C::Help, C::Quit]);
    commands
}

/// The footer's word for a command.
fn short(command: Command) -> &'static str {
    use Command as C;
    match command {
        C::Open => "open",
        C::Search => "find",
        C::SortStreams => "sort",
        C::Fold => "fold",
        C::Consumers => "consumers",
        C::StepForward => "step",
        C::GoToVersion => "version",
        C::GoToTime => "time",
        C::SearchNext => "next",
        C::OnlyMatches => "only matches",
        C::MarkA => "mark",
        C::MarkB => "mark B",
        C::ClearMarks => "clear marks",
        C::ToggleSkip => "what-if",
        C::Related => "related",
        C::ToggleBlame => "blame",
        C::BlameJump => "to its change",
        C::Plot => "plot",
        C::Pin => "pin",
        C::When => "when",
        C::Copy => "copy",
        C::PickColumns => "columns",
        C::CompareWith => "reducer",
        C::FocusNext => "pane",
        C::ToggleFollow => "follow",
        C::Messages => "messages",
        C::Help => "help",
        C::Quit => "quit",
        _ => "",
    }
}

pub fn draw(frame: &mut Frame, area: Rect, model: &Model, mode: FooterMode) {
    let t = &model.theme;
    let line = if let Some(p) = mode.prompt {
        let mut spans = vec![
            Span::styled(p.label(model.local_time), t.bold(t.warnings)),
            Span::raw(format!("{}▏ ", eventscope::printable(&p.input))),
        ];
        spans.extend(hints(model, Layer::Prompt));
        Line::from(spans)
    } else if let Some(filter) = mode.filter {
        let mut spans = vec![
            Span::styled("Filter: ", t.bold(t.warnings)),
            Span::raw(format!("{}▏ ", eventscope::printable(filter))),
        ];
        spans.extend(hints(model, Layer::Filter));
        Line::from(spans)
    } else if mode.overlay {
        Line::from(hints(model, Layer::Overlay))
    } else if model.status.is_none() && model.pending > 0 && !model.following {
        let r = model.keymap.keys_label(Command::Refresh);
        let f = model.keymap.keys_label(Command::ToggleFollow);
        Line::styled(
            format!("{} new events: {r} refreshes, {f} follows", model.pending),
            t.bold(t.focus),
        )
    } else if let Some(n) = model.follow_paused().filter(|_| model.status.is_none()) {
        let end = model.keymap.keys_label(Command::Last);
        Line::styled(
            format!(
                "following paused: {} ({end} to resume)",
                eventscope::count(n, "new event")
            ),
            t.bold(t.warnings),
        )
    } else if let Some(s) = &model.status {
        let color = if s.error { t.errors } else { t.warnings };
        let text = eventscope::printable(&s.text).into_owned();
        // A message longer than the line is cut with a pointer to the log, never silently.
        let more = format!(" more ({})", model.keymap.keys_label(Command::Messages));
        let width = area.width as usize;
        if eventscope::columns(&text) > width {
            let kept = eventscope::fit(&text, width.saturating_sub(eventscope::columns(&more)));
            Line::from(vec![
                Span::styled(kept, t.fg(color)),
                Span::styled(more, t.bold(t.keys)),
            ])
        } else {
            Line::styled(text, t.fg(color))
        }
    } else {
        Line::from(pane_hints(model, mode.focus, mode.tab))
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// `key word` for the commands of the focused pane and tab, then those of every pane.
fn pane_hints(model: &Model, focus: Pane, tab: &str) -> Vec<Span<'static>> {
    let t = &model.theme;
    let first_key = |c: Command| {
        model
            .keymap
            .bindings(Layer::Normal)
            .iter()
            .find(|b| b.command == c)
            .and_then(|b| b.keys.first())
            .map(|k| k.label())
    };
    let mut spans = Vec::new();
    if !model.pins.paths.is_empty() {
        let names: Vec<String> = model
            .pins
            .paths
            .iter()
            .map(|p| eventscope::printable(if p.is_empty() { "/" } else { p }).into_owned())
            .collect();
        spans.push(Span::styled(
            format!("◆ {}  ", names.join(" ")),
            t.bold(t.marks),
        ));
    }
    for c in context_commands(focus, tab) {
        let Some(mut keys) = first_key(c) else {
            continue;
        };
        if c == Command::StepForward {
            // ← and → share one hint.
            keys = format!("{}{keys}", first_key(Command::StepBack).unwrap_or_default());
        }
        spans.push(Span::styled(keys, t.bold(t.keys)));
        spans.push(Span::styled(format!(" {}  ", short(c)), t.fg(t.muted)));
        if c == Command::FocusNext && focus == Pane::Inspector {
            if let (Some(a), Some(b)) = (first_key(Command::Tab(1)), first_key(Command::Tab(7))) {
                spans.push(Span::styled(format!("{a}-{b}"), t.bold(t.keys)));
                spans.push(Span::styled(" tabs  ", t.fg(t.muted)));
            }
        }
    }
    spans
}

/// `key name` for each binding of a mode's layer (filter, prompt, overlay) marked for the
/// footer; the main screen's footer is `pane_hints`.
fn hints(model: &Model, layer: Layer) -> Vec<Span<'static>> {
    let t = &model.theme;
    let mut spans = Vec::new();
    for b in model.keymap.bindings(layer) {
        let Some(short) = &b.footer else { continue };
        let keys = b.keys.first().map(|k| k.label()).unwrap_or_default();
        spans.push(Span::styled(keys, t.bold(t.keys)));
        spans.push(Span::styled(format!(" {short}  "), t.fg(t.muted)));
    }
    spans
}

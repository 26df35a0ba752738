//! Key handling as pure transitions: keys and answers → App, and what the app asks of the
//! worker.

use crate::tui::components::stream_list::ListRow;
use crate::tui::test_support::{info, state_at};
use eventscope::replay::{Change, Op};
use ratatui::crossterm::event::{KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use serde_json::json;

use super::*;
use crate::tui::worker::{Appended, EventRow, FindSpec, Msg, RelatedLine, Req, Target, TimeStep};
use eventscope::store::StreamInfo;

fn streams_msg(streams: Vec<StreamInfo>, last_position: i64) -> Msg {
    Msg::Streams {
        streams,
        last_position,
        has_times: true,
    }
}

fn loaded() -> App {
    let mut app = App::new(
        Keymap::default(),
        Theme::default(),
        "demo.db".into(),
        "built-in merge".into(),
    );
    assert!(matches!(app.model.outbox.as_slice(), [Req::Streams]));
    app.model.outbox.clear();
    app.update(Action::Worker(streams_msg(
        vec![
            info("Account-acc-1", 4),
            info("Account-acc-2", 3),
            info("Order-123", 8),
            info("User-user-1", 2),
        ],
        17,
    )));
    app
}

fn cmd(app: &mut App, c: Command) {
    app.on_command(c);
}

/// Presses keys as a keymap file names them: `press(app, "g")`, `press(app, "ctrl-d")`.
fn press(app: &mut App, spec: &str) {
    app.update(Action::Key(Key::parse(spec).unwrap()));
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, &c.to_string());
    }
}

fn state_requests(app: &App) -> Vec<i64> {
    app.model
        .outbox
        .iter()
        .filter_map(|r| match r {
            Req::State { key, .. } => Some(*key),
            _ => None,
        })
        .collect()
}

fn playhead(app: &App) -> i64 {
    app.model.view.as_ref().unwrap().playhead
}

fn status(app: &App) -> String {
    app.model
        .status
        .as_ref()
        .map(|s| s.text.clone())
        .unwrap_or_default()
}

/// The app with Account-acc-1 opened through the filter, as a user would.
fn opened() -> App {
    let mut app = loaded();
    press(&mut app, "/");
    typed(&mut app, "acc-1");
    press(&mut app, "enter");
    app
}

fn state_msg(app: &mut App, key: i64, balance: i64) {
    let target = app.model.view.as_ref().unwrap().target.clone();
    app.update(Action::Worker(Msg::State {
        target,
        key,
        result: Ok(Box::new(state_at(key, json!({"balance": balance})))),
    }));
}

fn selected_id(app: &App) -> Option<String> {
    match app.streams.rows.get(app.streams.selected) {
        Some(ListRow::Stream(i)) => Some(app.model.catalog.streams[*i].stream_id.clone()),
        _ => None,
    }
}

fn category(name: &str, streams: usize) -> ListRow {
    ListRow::Category {
        name: name.into(),
        streams,
        folded: false,
    }
}

#[test]
fn stream_list_is_grouped_by_category_after_all() {
    let app = loaded();
    assert_eq!(
        app.streams.rows,
        vec![
            ListRow::All,
            category("Account", 2),
            ListRow::Stream(0),
            ListRow::Stream(1),
            category("Order", 1),
            ListRow::Stream(2),
            category("User", 1),
            ListRow::Stream(3),
            ListRow::Types,
        ]
    );
    assert_eq!(app.streams.selected, 0, "$all first");
}

#[test]
fn categories_fold_and_unfold() {
    let mut app = loaded();
    press(&mut app, "down");
    assert_eq!(
        app.streams.rows[app.streams.selected],
        category("Account", 2)
    );
    press(&mut app, "space");
    assert!(app.model.view.is_none(), "space folds, it does not open");
    assert_eq!(app.streams.rows.len(), 7);
    assert!(matches!(
        app.streams.rows[1],
        ListRow::Category { folded: true, .. }
    ));
    press(&mut app, "space");
    assert_eq!(app.streams.rows.len(), 9);
    // On a stream row, space folds the stream's category and selects it.
    press(&mut app, "down");
    press(&mut app, "space");
    assert_eq!(app.streams.rows.len(), 7);
    assert_eq!(
        app.streams.rows[app.streams.selected],
        ListRow::Category {
            name: "Account".into(),
            streams: 2,
            folded: true
        }
    );
}

#[test]
fn top_bottom_pages_and_half_pages_move_in_the_focused_list() {
    let mut app = loaded();
    press(&mut app, "G");
    assert_eq!(app.streams.rows[app.streams.selected], ListRow::Types);
    press(&mut app, "k");
    assert_eq!(selected_id(&app).as_deref(), Some("User-user-1"));
    press(&mut app, "g");
    assert_eq!(app.streams.selected, 0);
    press(&mut app, "end");
    assert_eq!(app.streams.selected, 8);
    press(&mut app, "home");
    // The page is what the pane showed when drawn (10 before any draw).
    press(&mut app, "pagedown");
    assert_eq!(app.streams.selected, 8);
    press(&mut app, "ctrl-u");
    assert_eq!(app.streams.selected, 3);
    // In the events table they move the playhead.
    let mut app = opened();
    press(&mut app, "g");
    assert_eq!(playhead(&app), 1);
    press(&mut app, "G");
    assert_eq!(playhead(&app), 4);
    press(&mut app, "ctrl-u");
    assert_eq!(playhead(&app), 1);
}

#[test]
fn sorting_by_size_and_activity() {
    let mut app = loaded();
    press(&mut app, "o");
    let order = |app: &App| -> Vec<String> {
        app.streams
            .rows
            .iter()
            .filter_map(|r| match r {
                ListRow::Stream(i) => Some(app.model.catalog.streams[*i].stream_id.clone()),
                _ => None,
            })
            .collect()
    };
    assert_eq!(
        order(&app),
        vec!["Order-123", "Account-acc-1", "Account-acc-2", "User-user-1"]
    );
    let activity = [
        ("User-user-1", 17),
        ("Account-acc-2", 16),
        ("Order-123", 3),
        ("Account-acc-1", 2),
    ]
    .into_iter()
    .map(|(s, p)| {
        (
            s.to_string(),
            eventscope::store::Activity {
                last_position: p,
                last_time: None,
            },
        )
    })
    .collect();
    app.update(Action::Worker(Msg::Activity(activity)));
    press(&mut app, "o");
    assert!(status(&app).contains("last activity"));
    assert_eq!(
        order(&app),
        vec!["User-user-1", "Account-acc-2", "Account-acc-1", "Order-123"]
    );
}

#[test]
fn the_filter_is_fuzzy_and_enter_opens_at_the_last_event() {
    let mut app = loaded();
    press(&mut app, "/");
    assert_eq!(app.layer(), Layer::Filter);
    typed(&mut app, "ac2");
    assert_eq!(app.streams.rows, vec![ListRow::Stream(1)]);
    // A key bound to a command in the main screen is text while the filter takes it.
    typed(&mut app, "q");
    assert!(!app.model.quit);
    assert!(app.streams.rows.is_empty());
    press(&mut app, "backspace");
    press(&mut app, "enter");
    assert!(!app.streams.filtering);
    let v = app.model.view.as_ref().unwrap();
    assert_eq!(v.target, Target::Stream("Account-acc-2".into()));
    assert_eq!((v.playhead, v.len), (3, 3));
    assert_eq!(app.focus, Pane::Events);
    assert_eq!(state_requests(&app), vec![3]);
    let o = &app.model.outbox;
    assert!(o
        .iter()
        .any(|r| matches!(r, Req::Rows { from: 1, to: 3, .. })));
    assert!(o.iter().any(|r| matches!(r, Req::Density { .. })));
}

#[test]
fn escape_clears_the_filter_while_typing_and_after() {
    let mut app = loaded();
    press(&mut app, "/");
    typed(&mut app, "zzz");
    assert!(app.streams.rows.is_empty());
    press(&mut app, "esc");
    assert!(!app.streams.filtering && app.streams.filter.is_empty());
    assert_eq!(app.streams.rows.len(), 9);
    // A filter kept after Enter is cleared by Esc on the main screen.
    let mut app = opened();
    assert_eq!(app.streams.filter, "acc-1");
    press(&mut app, "esc");
    assert!(app.streams.filter.is_empty());
    assert_eq!(app.streams.rows.len(), 9);
    assert_eq!(selected_id(&app).as_deref(), Some("Account-acc-1"));
}

#[test]
fn playhead_keys_step_jump_and_clamp() {
    let mut app = opened();
    app.model.outbox.clear();
    press(&mut app, "^");
    press(&mut app, "right");
    press(&mut app, "l");
    assert_eq!(playhead(&app), 3);
    press(&mut app, "L");
    assert_eq!(playhead(&app), 4);
    press(&mut app, "H");
    assert_eq!(playhead(&app), 1);
    press(&mut app, "left");
    assert_eq!(playhead(&app), 1);
    assert_eq!(state_requests(&app), vec![1, 2, 3, 4, 1, 1]);
    // Playhead keys work from any pane.
    app.focus = Pane::Streams;
    press(&mut app, "$");
    assert_eq!(playhead(&app), 4);
}

#[test]
fn tenths_of_the_stream() {
    let mut app = loaded();
    app.update(Action::Worker(streams_msg(vec![info("Big-1", 1000)], 1000)));
    typed(&mut app, "jj");
    press(&mut app, "enter");
    assert_eq!(playhead(&app), 1000);
    press(&mut app, "[");
    assert_eq!(playhead(&app), 900);
    press(&mut app, "[");
    press(&mut app, "]");
    assert_eq!(playhead(&app), 900);
}

#[test]
fn hour_and_day_steps_go_by_event_time() {
    let mut app = opened();
    let target = app.model.view.as_ref().unwrap().target.clone();
    press(&mut app, "{");
    assert!(status(&app).contains("not arrived"), "{}", status(&app));
    app.update(Action::Worker(Msg::Rows {
        target: target.clone(),
        from: 1,
        to: 4,
        rows: (1..=4).map(|k| row("Account-acc-1", k)).collect(),
    }));
    app.model.outbox.clear();
    press(&mut app, "{");
    let asked = app.model.outbox.iter().find_map(|r| match r {
        Req::ResolveTime { at, step, .. } => {
            Some((eventscope::time::format_stored(*at), step.clone()))
        }
        _ => None,
    });
    let (at, step) = asked.expect("a time step asks the worker");
    assert_eq!(at, "2024-03-01T08:04:00Z");
    assert_eq!(step.as_ref().map(|s| s.seconds), Some(-3600));
    app.update(Action::Worker(Msg::TimeResolved {
        target: target.clone(),
        key: None,
        step: step.clone(),
    }));
    assert_eq!(playhead(&app), 1);
    assert!(status(&app).contains("went to the first event"));
    // Forward with nothing new within a day: on to the next event, said so.
    let forward = Some(TimeStep {
        from: "2024-03-01T09:01:00Z".into(),
        seconds: 86_400,
    });
    app.update(Action::Worker(Msg::TimeResolved {
        target,
        key: Some(1),
        step: forward,
    }));
    assert_eq!(playhead(&app), 2);
    assert!(status(&app).contains("within a day"));
}

#[test]
fn no_times_is_said_before_any_prompt() {
    let mut app = opened();
    app.update(Action::Worker(Msg::Streams {
        streams: vec![info("Account-acc-1", 4)],
        last_position: 4,
        has_times: false,
    }));
    press(&mut app, "t");
    assert!(app.prompt.is_none());
    assert!(status(&app).contains("has no event times"));
    press(&mut app, "}");
    assert!(status(&app).contains("has no event times"));
}

#[test]
fn a_state_that_arrived_is_not_asked_for_again() {
    let mut app = opened();
    state_msg(&mut app, 4, 120);
    app.model.outbox.clear();
    cmd(&mut app, Command::Last);
    assert!(state_requests(&app).is_empty());
    assert!(app.model.view.as_ref().unwrap().current_state().is_some());
}

#[test]
fn stale_states_are_ignored() {
    let mut app = opened();
    cmd(&mut app, Command::First);
    state_msg(&mut app, 4, 120);
    assert!(app.model.view.as_ref().unwrap().current_state().is_none());
    state_msg(&mut app, 1, 0);
    let v = app.model.view.as_ref().unwrap();
    let s = v.current_state().unwrap().as_ref().unwrap();
    assert_eq!(s.state["balance"], 0);
}

#[test]
fn progress_shows_only_for_the_playhead() {
    let mut app = opened();
    let target = Target::Stream("Account-acc-1".into());
    let progress = |key| Msg::Progress {
        target: target.clone(),
        key,
        done: 10,
        total: 20,
    };
    app.update(Action::Worker(progress(3)));
    assert_eq!(app.model.view.as_ref().unwrap().progress, None);
    app.update(Action::Worker(progress(4)));
    assert_eq!(app.model.view.as_ref().unwrap().progress, Some((10, 20)));
    state_msg(&mut app, 4, 1);
    assert_eq!(app.model.view.as_ref().unwrap().progress, None);
}

fn diffs_asked(app: &App) -> Vec<(i64, i64)> {
    app.model
        .outbox
        .iter()
        .filter_map(|r| match r {
            Req::Diff { a, b, .. } => Some((*a, *b)),
            _ => None,
        })
        .collect()
}

/// The times the app asked the worker to resolve (as stored), with each step's seconds.
fn times_asked(app: &App) -> Vec<(String, Option<i64>)> {
    app.model
        .outbox
        .iter()
        .filter_map(|r| match r {
            Req::ResolveTime { at, step, .. } => Some((
                eventscope::time::format_stored(*at),
                step.as_ref().map(|s| s.seconds),
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn marks_and_the_diff_tab() {
    let mut app = opened();
    press(&mut app, "^");
    press(&mut app, "a");
    press(&mut app, "$");
    app.model.outbox.clear();
    press(&mut app, "3");
    assert_eq!(app.inspector.active_title(), "Diff");
    assert_eq!(
        diffs_asked(&app),
        vec![(1, 4)],
        "A → playhead while B is unset"
    );
    press(&mut app, "left");
    press(&mut app, "b");
    assert!(diffs_asked(&app).contains(&(1, 3)));
    let target = app.model.view.as_ref().unwrap().target.clone();
    let change = Change {
        path: "/balance".into(),
        op: Op::Changed,
        old: Some(json!(0)),
        new: Some(json!(70)),
    };
    app.update(Action::Worker(Msg::Diff {
        target,
        a: 1,
        b: 3,
        result: Ok(vec![change]),
    }));
    let v = app.model.view.as_ref().unwrap();
    assert!(matches!(&v.diff, Some(((1, 3), Ok(c))) if c.len() == 1));
    press(&mut app, "x");
    // No marks: the event under the playhead against the state before it.
    let v = app.model.view.as_ref().unwrap();
    assert_eq!(v.diff_pair(), Some((v.playhead, v.playhead)));
}

#[test]
fn with_only_b_set_the_diff_compares_the_playhead_with_b() {
    let mut app = opened();
    press(&mut app, "b");
    press(&mut app, "^");
    app.model.outbox.clear();
    press(&mut app, "3");
    assert_eq!(diffs_asked(&app), vec![(1, 4)]);
}

#[test]
fn enter_in_the_events_pane_opens_the_event_and_keeps_the_view() {
    let mut app = opened();
    press(&mut app, "left");
    press(&mut app, "a");
    press(&mut app, "left");
    press(&mut app, "b");
    assert_eq!(app.focus, Pane::Events);
    app.model.outbox.clear();
    press(&mut app, "enter");
    let v = app.model.view.as_ref().unwrap();
    assert_eq!((v.playhead, v.mark_a, v.mark_b), (2, Some(3), Some(2)));
    assert_eq!(app.inspector.active_title(), "Event");
    assert!(
        !app.model
            .outbox
            .iter()
            .any(|r| matches!(r, Req::Density { .. })),
        "the stream is not opened again"
    );
}

#[test]
fn version_prompt_goes_there_or_says_why_not() {
    let mut app = opened();
    press(&mut app, ":");
    assert_eq!(app.layer(), Layer::Prompt);
    typed(&mut app, "2");
    press(&mut app, "enter");
    assert_eq!(playhead(&app), 2);
    assert!(app.prompt.is_none());
    press(&mut app, ":");
    typed(&mut app, "99");
    press(&mut app, "enter");
    assert_eq!(playhead(&app), 4);
    assert!(
        status(&app).contains("past the end: went to the last version, 4"),
        "{}",
        status(&app)
    );
    press(&mut app, ":");
    app.prompt.as_mut().unwrap().input = "two".into();
    press(&mut app, "enter");
    assert_eq!(status(&app), "not a version: \"two\"");
    assert!(app.model.status.as_ref().unwrap().error);
    // q and Esc close prompts.
    press(&mut app, ":");
    press(&mut app, "q");
    assert!(app.prompt.is_none() && !app.model.quit);
    press(&mut app, "t");
    press(&mut app, "esc");
    assert!(app.prompt.is_none());
}

#[test]
fn time_prompt_asks_the_worker_and_seeks_to_its_answer() {
    let mut app = opened();
    app.model.outbox.clear();
    press(&mut app, "t");
    typed(&mut app, "2024-03-01T09:05");
    press(&mut app, "enter");
    assert_eq!(
        times_asked(&app),
        vec![("2024-03-01T09:05:59.999999999Z".to_string(), None)]
    );
    let target = app.model.view.as_ref().unwrap().target.clone();
    app.update(Action::Worker(Msg::TimeResolved {
        target: target.clone(),
        key: Some(2),
        step: None,
    }));
    assert_eq!(playhead(&app), 2);
    app.update(Action::Worker(Msg::TimeResolved {
        target,
        key: None,
        step: None,
    }));
    assert!(app.model.status.as_ref().unwrap().error);
    press(&mut app, "t");
    typed(&mut app, "2024-13");
    press(&mut app, "enter");
    assert!(app.model.status.as_ref().unwrap().error, "{}", status(&app));
}

#[test]
fn prompts_need_an_open_stream() {
    let mut app = loaded();
    press(&mut app, ":");
    assert!(app.prompt.is_none());
    assert!(status(&app).contains("open a stream first"));
}

#[test]
fn help_overlay_swallows_other_commands_and_closes_with_q() {
    let mut app = opened();
    press(&mut app, "?");
    assert!(app.help.is_some());
    press(&mut app, "^");
    assert_eq!(playhead(&app), 4);
    press(&mut app, "esc");
    assert!(app.help.is_none());
    press(&mut app, "?");
    press(&mut app, "q");
    assert!(
        app.help.is_none() && !app.model.quit,
        "q closes the overlay"
    );
    press(&mut app, "q");
    assert!(app.model.quit, "q on the main screen quits");
}

#[test]
fn ctrl_c_quits_from_any_mode() {
    for setup in [":", "/", "?"] {
        let mut app = opened();
        press(&mut app, setup);
        press(&mut app, "ctrl-c");
        assert!(app.model.quit, "{setup}");
    }
}

#[test]
fn focus_cycles_both_ways() {
    let mut app = loaded();
    press(&mut app, "tab");
    assert_eq!(app.focus, Pane::Events);
    press(&mut app, "tab");
    assert_eq!(app.focus, Pane::Inspector);
    press(&mut app, "tab");
    assert_eq!(app.focus, Pane::Streams);
    press(&mut app, "backtab");
    assert_eq!(app.focus, Pane::Inspector);
}

#[test]
fn folding_and_searching_the_state() {
    let mut app = opened();
    let target = app.model.view.as_ref().unwrap().target.clone();
    app.update(Action::Worker(Msg::State {
        target,
        key: 4,
        result: Ok(Box::new(state_at(
            4,
            json!({"items": {"a": 1, "b": 2}, "n": 1}),
        ))),
    }));
    app.focus = Pane::Inspector;
    press(&mut app, "down");
    press(&mut app, "enter");
    press(&mut app, "/");
    assert_eq!(app.layer(), Layer::Prompt, "/ in the inspector searches");
    typed(&mut app, "b");
    press(&mut app, "enter");
    assert!(status(&app).contains("1 line matches"), "{}", status(&app));
    press(&mut app, "n");
    assert!(app.model.status.is_none() || !app.model.status.as_ref().unwrap().error);
}

#[test]
fn clicking_rows_tabs_and_the_timeline() {
    let mut app = loaded();
    let area = Rect::new(0, 0, 100, 30);
    let areas = crate::tui::screen::layout(area, None).unwrap();
    let click = |app: &mut App, x: u16, y: u16| {
        app.update(Action::Mouse(
            MouseEvent {
                kind: MouseEventKind::Down(MouseButton::Left),
                column: x,
                row: y,
                modifiers: KeyModifiers::NONE,
            },
            area,
        ))
    };
    // Draw once so the components know their rows.
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(100, 30)).unwrap();
    t.draw(|f| crate::tui::screen::draw(&app, f)).unwrap();
    // Row 6 of the list (inside the border): Order-123.
    click(&mut app, areas.streams.x + 3, areas.streams.y + 1 + 5);
    assert_eq!(selected_id(&app).as_deref(), Some("Order-123"));
    click(&mut app, areas.streams.x + 3, areas.streams.y + 1 + 5);
    assert_eq!(
        app.model.view.as_ref().unwrap().target,
        Target::Stream("Order-123".into())
    );
    let target = app.model.view.as_ref().unwrap().target.clone();
    app.update(Action::Worker(Msg::Rows {
        target,
        from: 1,
        to: 8,
        rows: (1..=8).map(|k| row("Order-123", k)).collect(),
    }));
    t.draw(|f| crate::tui::screen::draw(&app, f)).unwrap();
    // The events table: header on the first inner row, then versions 1..
    // The table shows versions 2..=8 around the playhead at 8.
    click(&mut app, areas.events.x + 5, areas.events.y + 2 + 1);
    assert_eq!(playhead(&app), 3);
    // The inspector's tab titles: " 1 State " starts two cells in.
    let tab3 = areas.inspector.x + 2 + 9 + 1 + 9 + 1 + 2;
    click(&mut app, tab3, areas.inspector.y);
    assert_eq!(app.inspector.active_title(), "Diff");
    // The timeline's slider.
    click(&mut app, areas.timeline.x + 1, areas.timeline.y + 1);
    assert_eq!(playhead(&app), 1);
    // With the mouse released, clicks are the terminal's.
    press(&mut app, "m");
    click(&mut app, tab3 - 10, areas.inspector.y);
    assert_eq!(app.inspector.active_title(), "Diff");
}

fn row(stream: &str, k: i64) -> EventRow {
    EventRow {
        key: k,
        stream_id: stream.into(),
        version: k,
        event_type: "T".into(),
        timestamp: Some(format!("2024-03-01T09:0{k}:00Z")),
        preview: "{}".into(),
        snapshot: false,
    }
}

#[test]
fn follow_moves_the_playhead_to_appended_events() {
    let mut app = opened();
    cmd(&mut app, Command::First);
    app.model.outbox.clear();
    press(&mut app, "f");
    assert!(app.model.following);
    assert!(
        matches!(app.model.outbox.first(), Some(Req::Follow(Some(17)))),
        "follow catches up from the last position the UI knew"
    );
    assert_eq!(playhead(&app), 4);
    app.update(Action::Worker(Msg::Appended {
        events: vec![
            appended("Account-acc-1", 5, 18),
            appended("Brand-new", 1, 19),
        ],
    }));
    let v = app.model.view.as_ref().unwrap();
    assert_eq!((v.len, v.playhead), (5, 5));
    let c = &app.model.catalog;
    assert_eq!(c.last_position, 19);
    assert_eq!(c.streams[0].events, 5);
    assert!(c.streams.iter().any(|s| s.stream_id == "Brand-new"));
    assert_eq!(c.activity["Brand-new"].last_position, 19);
    press(&mut app, "f");
    app.update(Action::Worker(Msg::Appended {
        events: vec![appended("Account-acc-1", 6, 20)],
    }));
    let v = app.model.view.as_ref().unwrap();
    assert_eq!(
        (v.len, v.playhead),
        (6, 5),
        "not following: the playhead stays"
    );
}

/// The screen as text, drawn at `w`×`h`.
fn drawn(app: &App, w: u16, h: u16) -> String {
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).unwrap();
    t.draw(|f| crate::tui::screen::draw(app, f)).unwrap();
    let buf = t.backend().buffer();
    buf.content
        .chunks(w as usize)
        .map(|row| row.iter().map(|c| c.symbol()).collect::<String>() + "\n")
        .collect()
}

#[test]
fn follow_pauses_while_looking_back_and_end_resumes_it() {
    let mut app = opened();
    press(&mut app, "f");
    assert_eq!(playhead(&app), 4);
    assert!(drawn(&app, 100, 30).contains(" · following · "));
    // Looking back: new events are counted, the playhead stays.
    press(&mut app, "h");
    for (v, p) in [(5, 18), (6, 19), (7, 20)] {
        app.update(Action::Worker(Msg::Appended {
            events: vec![appended("Account-acc-1", v, p)],
        }));
    }
    let v = app.model.view.as_ref().unwrap();
    assert_eq!((v.len, v.playhead), (7, 3), "paused: the playhead stays");
    assert_eq!(app.model.follow_paused(), Some(3));
    let screen = drawn(&app, 100, 30);
    assert!(
        screen.contains("following paused: 3 new events ($ to resume)"),
        "{screen}"
    );
    assert!(
        screen.contains("following paused: 3 new events · UTC"),
        "{screen}"
    );
    // End (here `$`) resumes: to the last event, and new ones are followed again.
    press(&mut app, "$");
    assert_eq!(playhead(&app), 7);
    assert_eq!(app.model.follow_paused(), None);
    app.update(Action::Worker(Msg::Appended {
        events: vec![appended("Account-acc-1", 8, 21)],
    }));
    assert_eq!(playhead(&app), 8);
    // Stepping to the last event by hand resumes too.
    press(&mut app, "h");
    app.update(Action::Worker(Msg::Appended {
        events: vec![appended("Account-acc-1", 9, 22)],
    }));
    assert_eq!((playhead(&app), app.model.follow_paused()), (7, Some(1)));
    press(&mut app, "G");
    assert_eq!((playhead(&app), app.model.follow_paused()), (9, None));
}

#[test]
fn rows_arrive_and_far_ones_are_dropped() {
    let mut app = loaded();
    app.update(Action::Worker(streams_msg(vec![info("Big-1", 5000)], 5000)));
    assert!(app.model.view.is_none());
    typed(&mut app, "jj");
    press(&mut app, "enter");
    let target = Target::Stream("Big-1".into());
    app.update(Action::Worker(Msg::Rows {
        target,
        from: 1,
        to: 5000,
        rows: (1..=5000).map(|k| row("Big-1", k)).collect(),
    }));
    let v = app.model.view.as_ref().unwrap();
    assert!(
        v.rows.len() <= 301,
        "only rows near the playhead: {}",
        v.rows.len()
    );
    assert!(v.rows.contains_key(&5000));
    app.model.outbox.clear();
    cmd(&mut app, Command::First);
    assert!(app.model.outbox.iter().any(|r| matches!(
        r,
        Req::Rows {
            from: 1,
            to: 101,
            ..
        }
    )));
}

fn appended(stream: &str, version: i64, position: i64) -> Appended {
    Appended {
        stream_id: stream.into(),
        category: eventscope::category_of(stream).into(),
        version,
        position,
        timestamp: None,
    }
}

#[test]
fn categories_group_once_whatever_order_streams_arrive_in() {
    let mut app = App::new(
        Keymap::default(),
        Theme::default(),
        "es.db".into(),
        "x".into(),
    );
    let stream = |id: &str, category: &str| StreamInfo {
        stream_id: id.into(),
        category: category.into(),
        events: 1,
        first_version: 1,
        last_version: 1,
        bad_versions: 0,
        events_estimated: false,
    };
    // Python eventsourcing: ids are UUIDs, categories come from topics.
    app.update(Action::Worker(streams_msg(
        vec![
            stream("1a", "Order"),
            stream("2b", "BankAccount"),
            stream("3c", "Order"),
        ],
        3,
    )));
    let headers = |app: &App| -> Vec<String> {
        app.streams
            .rows
            .iter()
            .filter_map(|r| match r {
                ListRow::Category { name, streams, .. } => Some(format!("{name}:{streams}")),
                _ => None,
            })
            .collect()
    };
    assert_eq!(headers(&app), vec!["BankAccount:1", "Order:2"]);
    // A followed stream gets the category the layout gave it, not its id's prefix.
    app.update(Action::Worker(Msg::Appended {
        events: vec![Appended {
            stream_id: "4d".into(),
            category: "Order".into(),
            version: 1,
            position: 4,
            timestamp: None,
        }],
    }));
    assert_eq!(headers(&app), vec!["BankAccount:1", "Order:3"]);
}

#[test]
fn streams_are_found_by_id_not_by_sort_order() {
    let mut app = App::new(
        Keymap::default(),
        Theme::default(),
        "m.db".into(),
        "x".into(),
    );
    // SQL orders an INTEGER column 9 before 10; a string sort would not.
    app.update(Action::Worker(streams_msg(
        vec![info("9", 3), info("10", 7)],
        10,
    )));
    assert_eq!(app.model.stream_len("10"), 7);
    assert_eq!(app.model.stream_len("9"), 3);
    app.update(Action::Worker(Msg::Appended {
        events: vec![appended("10", 8, 11)],
    }));
    assert_eq!(app.model.stream_len("10"), 8);
    let c = &app.model.catalog;
    assert_eq!(c.streams.iter().filter(|s| s.stream_id == "10").count(), 1);
}

#[test]
fn a_new_stream_leaves_the_selection_on_the_same_id() {
    let mut app = loaded();
    typed(&mut app, "jjj");
    assert_eq!(selected_id(&app).as_deref(), Some("Account-acc-2"));
    app.update(Action::Worker(Msg::Appended {
        events: vec![
            appended("Account-acc-0", 1, 18),
            appended("Aardvark-1", 1, 19),
        ],
    }));
    assert_eq!(selected_id(&app).as_deref(), Some("Account-acc-2"));
    let total = |app: &App| -> i64 { app.model.catalog.streams.iter().map(|s| s.events).sum() };
    let counted = total(&app);
    assert_eq!(counted, 4 + 3 + 8 + 2 + 2);
    // An event the list already counted is not counted twice.
    app.update(Action::Worker(Msg::Appended {
        events: vec![appended("Aardvark-1", 1, 19)],
    }));
    assert_eq!(total(&app), counted);
}

#[test]
fn refresh_reloads_and_keeps_the_playhead_and_marks() {
    let mut app = opened();
    press(&mut app, "left");
    press(&mut app, "a");
    app.update(Action::Worker(Msg::Pending {
        after: 17,
        count: 3,
    }));
    assert_eq!(app.model.pending, 3);
    app.model.outbox.clear();
    press(&mut app, "r");
    assert_eq!(app.model.pending, 0);
    let o = &app.model.outbox;
    assert!(o.iter().any(|r| matches!(r, Req::Streams)));
    assert!(o.iter().any(|r| matches!(r, Req::State { key: 3, .. })));
    app.update(Action::Worker(streams_msg(
        vec![info("Account-acc-1", 6), info("Order-123", 8)],
        20,
    )));
    let v = app.model.view.as_ref().unwrap();
    assert_eq!((v.len, v.playhead, v.mark_a), (6, 3, Some(3)));
    // A count for a position the UI has moved past is stale.
    app.update(Action::Worker(Msg::Pending {
        after: 17,
        count: 3,
    }));
    assert_eq!(app.model.pending, 0);
}

#[test]
fn a_refused_snapshot_toggle_is_turned_back() {
    let mut app = opened();
    press(&mut app, "s");
    assert!(app.model.from_snapshots && app.model.replace_worker);
    app.update(Action::Worker(Msg::SnapshotsRefused(
        "needs a mapping".into(),
    )));
    assert!(
        !app.model.from_snapshots,
        "the toggle shows what the worker does"
    );
    assert_eq!(status(&app), "needs a mapping");
}

#[test]
fn errors_are_typed_and_a_lock_is_retried_on_the_next_tick() {
    let mut app = opened();
    let req = Req::Rows {
        target: Target::Stream("Account-acc-1".into()),
        from: 1,
        to: 4,
    };
    app.update(Action::Worker(Msg::Failed {
        error: WorkerError::Locked,
        retry: Some(req.clone()),
    }));
    assert!(status(&app).contains("locked"));
    app.model.outbox.clear();
    app.update(Action::Tick);
    assert!(app.model.outbox.contains(&req));
    app.update(Action::Worker(Msg::Failed {
        error: WorkerError::Store("corrupt".into()),
        retry: None,
    }));
    app.model.outbox.clear();
    app.update(Action::Tick);
    assert!(
        !app.model.outbox.contains(&req),
        "other errors are not retried"
    );
}

#[test]
fn reloading_the_reducer_keeps_the_playhead() {
    let mut app = opened();
    press(&mut app, "left");
    app.model.outbox.clear();
    app.update(Action::Worker(Msg::ReducerReloaded(Ok(()))));
    assert_eq!(status(&app), "reducer reloaded");
    assert!(app
        .model
        .outbox
        .iter()
        .any(|r| matches!(r, Req::State { key: 3, .. })));
    app.update(Action::Worker(Msg::ReducerReloaded(Err(
        "syntax error at 1:3".into(),
    ))));
    assert!(status(&app).contains("old one is kept") && status(&app).contains("syntax error"));
    assert_eq!(playhead(&app), 3);
}

#[test]
fn blame_is_asked_as_the_playhead_moves_and_jumps_to_a_field() {
    let mut app = opened();
    state_msg(&mut app, 4, 120);
    app.model.outbox.clear();
    press(&mut app, "B");
    assert!(app
        .model
        .outbox
        .iter()
        .any(|r| matches!(r, Req::Blame { key: 4, .. })));
    let blame = [("/balance".to_string(), 2)].into_iter().collect();
    app.update(Action::Worker(Msg::Blame {
        target: Target::Stream("Account-acc-1".into()),
        key: 4,
        result: Ok(blame),
    }));
    app.focus = Pane::Inspector;
    press(&mut app, "down");
    app.model.outbox.clear();
    press(&mut app, "J");
    assert_eq!(playhead(&app), 2);
    assert!(
        status(&app).contains("/balance last changed at version 2"),
        "{}",
        status(&app)
    );
    assert!(app
        .model
        .outbox
        .iter()
        .any(|r| matches!(r, Req::Blame { key: 2, .. })));
}

/// A command that needs a state does it instead of refusing: `J` with blame off turns it
/// on and goes once the blame arrives; `p`/`J` in the Events pane bring the State tab's
/// fields; `/` on a tab with nothing to search says so without a prompt.
#[test]
fn commands_that_need_a_state_bring_it() {
    let mut app = opened();
    state_msg(&mut app, 4, 120);
    press(&mut app, "J"); // the Events pane has focus
    assert_eq!(app.focus, Pane::Inspector);
    assert_eq!(app.inspector.active_title(), "State");
    assert!(status(&app).contains("move to a field"), "{}", status(&app));
    press(&mut app, "down");
    app.model.outbox.clear();
    assert!(!app.inspector.blame_on());
    press(&mut app, "J");
    assert!(app.inspector.blame_on(), "J turned blame on");
    assert!(app
        .model
        .outbox
        .iter()
        .any(|r| matches!(r, Req::Blame { key: 4, .. })));
    assert_eq!(playhead(&app), 4, "waiting for the blame");
    // An older answer (for another key) leaves the jump waiting.
    app.update(Action::Worker(Msg::Blame {
        target: Target::Stream("Account-acc-1".into()),
        key: 3,
        result: Ok([("/balance".to_string(), 3)].into_iter().collect()),
    }));
    assert_eq!(playhead(&app), 4, "still waiting");
    let blame = [("/balance".to_string(), 2)].into_iter().collect();
    app.update(Action::Worker(Msg::Blame {
        target: Target::Stream("Account-acc-1".into()),
        key: 4,
        result: Ok(blame),
    }));
    assert_eq!(playhead(&app), 2, "gone once it came");
    assert!(status(&app).contains("/balance last changed at version 2"));
    press(&mut app, "5");
    assert_eq!(app.inspector.active_title(), "Stats");
    press(&mut app, "/");
    assert!(app.prompt.is_none());
    assert!(
        status(&app).contains("the Stats tab cannot be searched"),
        "{}",
        status(&app)
    );
}

/// A message longer than the footer is cut with a pointer to the log, never silently; `M`
/// opens the log, where it is whole (wrapped), and the log keeps the last 200.
#[test]
fn long_messages_can_be_read_in_the_log() {
    let mut app = opened();
    let long = format!("reducer failed: {} the end", "x".repeat(150));
    app.model.warn(long.clone());
    let screen = drawn(&app, 100, 30);
    let footer = screen.lines().last().unwrap();
    assert!(footer.ends_with("… more (M)"), "{footer}");
    assert!(!screen.contains("the end"));
    press(&mut app, "M");
    assert_eq!(app.layer(), Layer::Overlay);
    let screen = drawn(&app, 100, 30);
    let joined: String = screen
        .lines()
        .map(|l| l.trim_matches(|c: char| c == '│' || c == ' ').to_string())
        .collect();
    assert!(
        joined.contains(&"x".repeat(150)) && joined.contains("the end"),
        "{screen}"
    );
    press(&mut app, "esc");
    assert_eq!(app.layer(), Layer::Normal);
    for i in 0..250 {
        app.model.say(format!("message {i}"));
    }
    assert_eq!(app.model.messages.len(), 200);
    assert_eq!(app.model.messages.front().unwrap().text, "message 50");
}

/// The footer shows the keys of the focused pane and tab first.
#[test]
fn the_footer_shows_the_focused_panes_keys() {
    let mut app = opened();
    state_msg(&mut app, 4, 120);
    let footer = |app: &App| drawn(app, 220, 30).lines().last().unwrap().to_string();
    app.focus = Pane::Streams;
    assert!(
        footer(&app).starts_with("Enter open  / find  o sort"),
        "{}",
        footer(&app)
    );
    app.focus = Pane::Events;
    let f = footer(&app);
    for hint in [
        "←→ step",
        ": version",
        "& only matches",
        "a mark",
        "d what-if",
        "R related",
    ] {
        assert!(f.contains(hint), "{hint} in {f}");
    }
    app.focus = Pane::Inspector;
    let f = footer(&app);
    for hint in [
        "B blame",
        "J to its change",
        "p plot",
        "w when",
        "1-7 tabs",
        "? help",
    ] {
        assert!(f.contains(hint), "{hint} in {f}");
    }
    press(&mut app, "4");
    assert!(
        footer(&app).starts_with("Enter open  c columns"),
        "{}",
        footer(&app)
    );
}

/// Help starts with the focused pane's keys, filters as typed after `/` (words in any
/// order and case), runs the highlighted command on Enter, and opens on F1 too.
#[test]
fn help_is_contextual_filterable_and_runs_commands() {
    let mut app = opened();
    state_msg(&mut app, 4, 120);
    press(&mut app, "?");
    let screen = drawn(&app, 100, 40);
    assert!(screen.contains("Here: the Events pane"), "{screen}");
    press(&mut app, "/");
    typed(&mut app, "Gutter BLAME"); // no match: "gutter" is in no description
    assert!(drawn(&app, 100, 40).contains("no key matches"));
    for _ in 0.."Gutter BLAME".len() {
        press(&mut app, "backspace");
    }
    typed(&mut app, "blame version");
    let screen = drawn(&app, 100, 40);
    assert!(
        screen.contains("blame: the version that last changed each field"),
        "{screen}"
    );
    assert!(!screen.contains("go to version"), "filtered: {screen}");
    press(&mut app, "enter");
    assert!(app.help.is_none());
    assert!(app.inspector.blame_on(), "Enter ran toggle_blame");
    // F1, and Esc clears a filter before it closes.
    press(&mut app, "f1");
    assert!(app.help.is_some());
    press(&mut app, "/");
    typed(&mut app, "q");
    assert_eq!(
        app.help.as_ref().unwrap().filter,
        "q",
        "q is text while filtering"
    );
    press(&mut app, "esc");
    assert!(app.help.as_ref().is_some_and(|h| h.filter.is_empty()));
    press(&mut app, "G");
    press(&mut app, "esc");
    assert!(app.help.is_none());
    // From the Streams pane, its keys come first.
    app.focus = Pane::Streams;
    press(&mut app, "?");
    assert!(drawn(&app, 100, 40).contains("Here: the Streams pane"));
}

#[test]
fn when_asks_the_worker_and_steps_between_turns() {
    let mut app = opened();
    app.model.outbox.clear();
    press(&mut app, "w");
    typed(&mut app, ".balance < 100");
    press(&mut app, "enter");
    assert!(app
        .model
        .outbox
        .iter()
        .any(|r| matches!(r, Req::When { predicate, .. } if predicate == ".balance < 100")));
    app.update(Action::Worker(Msg::When {
        target: Target::Stream("Account-acc-1".into()),
        predicate: ".balance < 100".into(),
        result: Ok(vec![1, 3]),
    }));
    assert_eq!(playhead(&app), 1, "to the first version where it holds");
    press(&mut app, ")");
    assert_eq!(playhead(&app), 3);
    press(&mut app, ")");
    assert_eq!(playhead(&app), 3);
    assert!(status(&app).contains("no turn to true after"));
    press(&mut app, "(");
    assert_eq!(playhead(&app), 1);
    app.update(Action::Worker(Msg::When {
        target: Target::Stream("Account-acc-1".into()),
        predicate: ".balance < 0".into(),
        result: Ok(vec![]),
    }));
    assert!(status(&app).contains("never holds"));
}

#[test]
fn skipping_events_asks_again_without_them() {
    let mut app = opened();
    press(&mut app, "left");
    app.model.outbox.clear();
    press(&mut app, "d");
    assert!(app
        .model
        .outbox
        .iter()
        .any(|r| matches!(r, Req::State { key: 3, skips, .. } if skips == &vec![3])));
    assert!(status(&app).contains("WHAT-IF"));
    press(&mut app, "$");
    assert!(app
        .model
        .outbox
        .iter()
        .any(|r| matches!(r, Req::State { key: 4, skips, .. } if skips == &vec![3])));
    app.model.outbox.clear();
    press(&mut app, "D");
    assert!(app
        .model
        .outbox
        .iter()
        .any(|r| matches!(r, Req::State { key: 4, skips, .. } if skips.is_empty())));
    // Not on the global log.
    let mut app = loaded();
    press(&mut app, "enter");
    press(&mut app, "d");
    assert!(status(&app).contains("not $all"));
}

#[test]
fn a_category_opens_as_a_table_and_a_row_opens_its_stream_there() {
    let mut app = loaded();
    press(&mut app, "down");
    app.model.outbox.clear();
    press(&mut app, "enter");
    let v = app.model.view.as_ref().unwrap();
    assert_eq!(v.target, Target::Category("Account".into()));
    assert_eq!((v.first, v.len, v.playhead), (1, 7, 7), "4 + 3 events");
    assert_eq!(app.inspector.active_title(), "Table");
    assert!(app
        .model
        .outbox
        .iter()
        .any(|r| matches!(r, Req::State { key: 7, .. })));
    let states = vec![
        eventscope::replay::StreamState {
            stream_id: "Account-acc-1".into(),
            version: 4,
            state: json!({"balance": 120}),
            error: None,
        },
        eventscope::replay::StreamState {
            stream_id: "Account-acc-2".into(),
            version: 3,
            state: json!({"balance": 175}),
            error: None,
        },
    ];
    app.update(Action::Worker(Msg::CategoryState {
        target: Target::Category("Account".into()),
        key: 7,
        result: Ok(states),
    }));
    assert!(app
        .model
        .view
        .as_ref()
        .unwrap()
        .current_category()
        .is_some());
    // Columns are picked through a prompt.
    press(&mut app, "c");
    assert_eq!(app.layer(), Layer::Prompt);
    typed(&mut app, "balance");
    press(&mut app, "enter");
    assert_eq!(app.inspector.columns(), Some(vec!["balance".to_string()]));
    // Enter on the second row opens Account-acc-2 at version 3, in the State tab.
    app.focus = Pane::Inspector;
    press(&mut app, "down");
    press(&mut app, "enter");
    let v = app.model.view.as_ref().unwrap();
    assert_eq!(v.target, Target::Stream("Account-acc-2".into()));
    assert_eq!(v.playhead, 3);
    assert_eq!(app.inspector.active_title(), "State");
    // Blame, when and skips are for streams.
    let mut app = loaded();
    press(&mut app, "down");
    press(&mut app, "enter");
    press(&mut app, "d");
    assert!(
        status(&app).contains("not $all or a category"),
        "{}",
        status(&app)
    );
}

#[test]
fn finding_events_in_the_events_pane() {
    let mut app = opened();
    app.model.outbox.clear();
    press(&mut app, "/");
    assert_eq!(
        app.layer(),
        Layer::Prompt,
        "/ in the Events pane finds events"
    );
    typed(&mut app, "?.data.amount > 40");
    press(&mut app, "enter");
    let spec = FindSpec::Jq(".data.amount > 40".into());
    assert!(app
        .model
        .outbox
        .iter()
        .any(|r| matches!(r, Req::Find { find, from: i64::MIN, .. } if *find == spec)));
    let target = Target::Stream("Account-acc-1".into());
    app.update(Action::Worker(Msg::Found {
        target: target.clone(),
        find: spec.clone(),
        keys: vec![2],
        rows: vec![],
        scanned: 2,
        next: Some(3),
        result: Ok(()),
    }));
    app.update(Action::Worker(Msg::Found {
        target: target.clone(),
        find: spec.clone(),
        keys: vec![4],
        rows: vec![],
        scanned: 2,
        next: None,
        result: Ok(()),
    }));
    let f = app.model.view.as_ref().unwrap().found.clone().unwrap();
    assert_eq!(f.keys.iter().copied().collect::<Vec<_>>(), vec![2, 4]);
    assert!(f.done);
    press(&mut app, "^");
    press(&mut app, "n");
    assert_eq!(playhead(&app), 2);
    press(&mut app, "n");
    assert_eq!(playhead(&app), 4);
    press(&mut app, "N");
    assert_eq!(playhead(&app), 2);
    // A stale answer (another search) changes nothing; an error shows in place.
    app.update(Action::Worker(Msg::Found {
        target: target.clone(),
        find: FindSpec::Text("zzz".into()),
        keys: vec![3],
        rows: vec![],
        scanned: 1,
        next: None,
        result: Ok(()),
    }));
    assert!(!app
        .model
        .view
        .as_ref()
        .unwrap()
        .found
        .as_ref()
        .unwrap()
        .keys
        .contains(&3));
    press(&mut app, "/");
    typed(&mut app, "?.data.amount >");
    press(&mut app, "enter");
    app.update(Action::Worker(Msg::Found {
        target,
        find: FindSpec::Jq(".data.amount >".into()),
        keys: vec![],
        rows: vec![],
        scanned: 0,
        next: None,
        result: Err(WorkerError::Predicate("--where:1:15: expected term".into())),
    }));
    let f = app.model.view.as_ref().unwrap().found.clone().unwrap();
    assert_eq!(f.error.as_deref(), Some("--where:1:15: expected term"));
}

/// `/text` as vim searches: the first match at or after the playhead, around to the top
/// when there is none after it, `n`/`N` wrapping, `match n of N`, the text marked in the
/// row (smart-case), `&` listing only matches and `Esc` clearing the search.
#[test]
fn searching_the_events_pane_as_vim_does() {
    let mut app = opened();
    let target = Target::Stream("Account-acc-1".into());
    app.update(Action::Worker(Msg::Rows {
        target: target.clone(),
        from: 1,
        to: 4,
        rows: (1..=4)
            .map(|k| EventRow {
                event_type: if k % 2 == 1 { "MoneyDeposited" } else { "T" }.into(),
                ..row("Account-acc-1", k)
            })
            .collect(),
    }));
    press(&mut app, "^");
    press(&mut app, "right"); // the playhead at 2
    press(&mut app, "/");
    typed(&mut app, "deposit");
    press(&mut app, "enter");
    let spec = FindSpec::Text("deposit".into());
    let found = |keys: Vec<i64>, next| Msg::Found {
        target: target.clone(),
        find: spec.clone(),
        rows: keys
            .iter()
            .map(|&k| EventRow {
                event_type: "MoneyDeposited".into(),
                ..row("Account-acc-1", k)
            })
            .collect(),
        keys,
        scanned: 2,
        next,
        result: Ok(()),
    };
    // The first slice has a match before the playhead only: the search waits for more.
    app.update(Action::Worker(found(vec![1], Some(2))));
    assert_eq!(playhead(&app), 2);
    app.update(Action::Worker(found(vec![3], None)));
    assert_eq!(
        playhead(&app),
        3,
        "the first match at or after the playhead"
    );
    assert_eq!(status(&app), "match 2 of 2");
    press(&mut app, "n");
    assert_eq!(playhead(&app), 1);
    assert_eq!(status(&app), "search wrapped to the top: match 1 of 2");
    press(&mut app, "N");
    assert_eq!(playhead(&app), 3);
    assert_eq!(status(&app), "search wrapped to the bottom: match 2 of 2");
    // The text is marked inside its row, whatever its case (the type says "Deposited").
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(100, 30)).unwrap();
    t.draw(|f| crate::tui::screen::draw(&app, f)).unwrap();
    let marked: String = t
        .backend()
        .buffer()
        .content
        .iter()
        .filter(|c| c.modifier.contains(ratatui::style::Modifier::UNDERLINED))
        .map(|c| c.symbol())
        .collect();
    assert_eq!(marked, "DepositDeposit", "rows 1 and 3, in the type column");
    let screen = drawn(&app, 100, 30);
    assert!(screen.contains("/deposit: match 2 of 2"), "{screen}");
    // Only matches: the table lists 1 and 3, and moves go from one to the other.
    press(&mut app, "&");
    let screen = drawn(&app, 100, 30);
    let listed: Vec<&str> = screen
        .lines()
        .filter(|l| l.contains("MoneyDeposited") || l.contains(" T "))
        .collect();
    assert_eq!(listed.len(), 2, "{screen}");
    assert!(screen.contains("only match 2 of 2"), "{screen}");
    press(&mut app, "up");
    assert_eq!(playhead(&app), 1);
    press(&mut app, "G");
    assert_eq!(playhead(&app), 3);
    press(&mut app, "&");
    press(&mut app, "esc");
    assert!(app.model.view.as_ref().unwrap().found.is_none());
    assert_eq!(status(&app), "search cleared");
    // A search that finds nothing says so once it has read everything.
    press(&mut app, "/");
    typed(&mut app, "nowhere");
    press(&mut app, "enter");
    app.update(Action::Worker(Msg::Found {
        target: target.clone(),
        find: FindSpec::Text("nowhere".into()),
        keys: vec![],
        rows: vec![],
        scanned: 4,
        next: None,
        result: Ok(()),
    }));
    assert_eq!(status(&app), "nothing matches");
}

#[test]
fn the_related_overlay_opens_an_event_and_back_returns() {
    let mut app = opened();
    let mut s = state_at(4, json!({"balance": 120}));
    s.event = Some(eventscope::Event {
        global_position: 16,
        stream_id: "Account-acc-1".into(),
        version: 4,
        ..Default::default()
    });
    app.update(Action::Worker(Msg::State {
        target: Target::Stream("Account-acc-1".into()),
        key: 4,
        result: Ok(Box::new(s)),
    }));
    app.model.outbox.clear();
    press(&mut app, "R");
    assert!(app.model.outbox.contains(&Req::Related { position: 16 }));
    let line = |pos, stream: &str, v, rel: &str, depth| RelatedLine {
        depth,
        relation: rel.into(),
        position: pos,
        stream_id: stream.into(),
        version: v,
        event_type: "T".into(),
        timestamp: None,
    };
    app.update(Action::Worker(Msg::Related {
        position: 16,
        result: Ok((
            "correlationId c-1".into(),
            vec![
                line(1, "Order-123", 1, "cause", 0),
                line(16, "Account-acc-1", 4, "asked", 1),
                line(17, "Order-123", 2, "effect", 2),
            ],
        )),
    }));
    assert!(app.related.is_some());
    assert_eq!(app.layer(), Layer::Overlay);
    press(&mut app, "down");
    press(&mut app, "enter");
    assert!(app.related.is_none());
    let v = app.model.view.as_ref().unwrap();
    assert_eq!(
        (v.target.clone(), v.playhead),
        (Target::Stream("Order-123".into()), 2)
    );
    press(&mut app, "ctrl-o");
    let v = app.model.view.as_ref().unwrap();
    assert_eq!(
        (v.target.clone(), v.playhead),
        (Target::Stream("Account-acc-1".into()), 4)
    );
    press(&mut app, "ctrl-o");
    assert!(status(&app).contains("nothing to go back to"));
}

/// Every jump is on the jumplist: a version typed, a time, a `when` hit and `)`, a find's
/// `n`, `^`/`$`, another stream; Ctrl-o walks it back across streams and Ctrl-f forward,
/// and a new jump forgets the way forward, as vim's does. Steps are no jumps.
#[test]
fn the_jumplist_records_every_jump_and_walks_both_ways() {
    let mut app = opened();
    let at = |app: &App| {
        let v = app.model.view.as_ref().unwrap();
        match &v.target {
            Target::Stream(s) => format!("{s}@{}", v.playhead),
            other => format!("{other:?}@{}", v.playhead),
        }
    };
    press(&mut app, ":");
    typed(&mut app, "2");
    press(&mut app, "enter");
    press(&mut app, "right"); // a step: not remembered
    assert_eq!(at(&app), "Account-acc-1@3");
    app.update(Action::Worker(Msg::TimeResolved {
        target: Target::Stream("Account-acc-1".into()),
        key: Some(1),
        step: None,
    }));
    press(&mut app, "w");
    typed(&mut app, ".balance > 50");
    press(&mut app, "enter");
    app.update(Action::Worker(Msg::When {
        target: Target::Stream("Account-acc-1".into()),
        predicate: ".balance > 50".into(),
        result: Ok(vec![2, 4]),
    }));
    assert_eq!(at(&app), "Account-acc-1@2");
    press(&mut app, ")");
    assert_eq!(at(&app), "Account-acc-1@4");
    press(&mut app, "^");
    assert_eq!(at(&app), "Account-acc-1@1");
    // Another stream, from the Related overlay.
    app.apply(Outcome::OpenAt(Target::Stream("Order-123".into()), 5));
    assert_eq!(at(&app), "Order-123@5");
    let mut back = Vec::new();
    for _ in 0..7 {
        press(&mut app, "ctrl-o");
        back.push(at(&app));
    }
    assert_eq!(
        back,
        [
            "Account-acc-1@1",
            "Account-acc-1@4",
            "Account-acc-1@2",
            "Account-acc-1@1",
            "Account-acc-1@3",
            "Account-acc-1@4",
            "Account-acc-1@4",
        ],
        "back through every jump, to the start"
    );
    assert!(status(&app).contains("nothing to go back to"));
    let mut forward = Vec::new();
    for _ in 0..3 {
        press(&mut app, "ctrl-f");
        forward.push(at(&app));
    }
    assert_eq!(
        forward,
        ["Account-acc-1@3", "Account-acc-1@1", "Account-acc-1@2"]
    );
    // A new jump forgets the way forward.
    press(&mut app, "$");
    press(&mut app, "ctrl-f");
    assert!(status(&app).contains("nothing to go forward to"));
    press(&mut app, "ctrl-o");
    assert_eq!(at(&app), "Account-acc-1@2");
}

#[test]
fn copy_puts_the_state_on_the_clipboard() {
    let mut app = opened();
    state_msg(&mut app, 4, 120);
    press(&mut app, "y");
    let text = app.model.clipboard.clone().expect("copied");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&text).unwrap(),
        json!({"balance": 120})
    );
    assert!(status(&app).contains("Account-acc-1@v4.state sent to the terminal's clipboard"));
}

fn demo_stats() -> eventscope::store::Stats {
    crate::tui::test_support::account_stats(
        "5m",
        &[
            ("2024-03-01T09:00:00Z", 2),
            ("2024-03-01T09:05:00Z", 1),
            ("2024-03-01T09:10:00Z", 0),
            ("2024-03-01T09:15:00Z", 1),
        ],
    )
}

#[test]
fn the_stats_tab_counts_and_a_bucket_finds_its_events() {
    let mut app = opened();
    app.model.outbox.clear();
    press(&mut app, "5");
    assert_eq!(app.inspector.active_title(), "Stats");
    let target = Target::Stream("Account-acc-1".into());
    assert!(app.model.outbox.contains(&Req::Stats {
        target: target.clone()
    }));
    app.update(Action::Worker(Msg::Stats {
        target: target.clone(),
        result: Ok(Box::new(demo_stats())),
    }));
    app.focus = Pane::Inspector;
    press(&mut app, "down");
    app.model.outbox.clear();
    press(&mut app, "enter");
    assert_eq!(app.focus, Pane::Events);
    let spec = FindSpec::Between(
        "2024-03-01T09:05:00Z".into(),
        "2024-03-01T09:09:59.999999999Z".into(),
    );
    assert!(app
        .model
        .outbox
        .iter()
        .any(|r| matches!(r, Req::Find { find, .. } if *find == spec)));
    app.update(Action::Worker(Msg::Found {
        target,
        find: spec,
        keys: vec![2],
        rows: vec![],
        scanned: 4,
        next: None,
        result: Ok(()),
    }));
    assert_eq!(playhead(&app), 2, "the first event of the bucket");
}

#[test]
fn plotting_a_numeric_field() {
    let mut app = opened();
    state_msg(&mut app, 4, 120);
    app.focus = Pane::Inspector;
    press(&mut app, "p");
    assert!(status(&app).contains("move the cursor to a number"));
    press(&mut app, "down");
    app.model.outbox.clear();
    press(&mut app, "p");
    assert!(app.model.outbox.contains(&Req::Plot {
        target: Target::Stream("Account-acc-1".into()),
        path: "/balance".into()
    }));
    app.update(Action::Worker(Msg::Plot {
        target: Target::Stream("Account-acc-1".into()),
        path: "/balance".into(),
        result: Ok(vec![(1, 0.0), (2, 100.0), (3, 70.0), (4, 120.0)]),
    }));
    let screen = drawn(&app, 120, 40);
    assert!(screen.contains("/balance across versions"), "{screen}");
    assert!(
        screen.contains("v1") && screen.contains("v4"),
        "its x axis: {screen}"
    );
    press(&mut app, "p");
    let screen = drawn(&app, 120, 40);
    assert!(
        !screen.contains("/balance across versions"),
        "p again closes it: {screen}"
    );
    // Points for another field (a stale answer) are not taken.
    press(&mut app, "p");
    app.update(Action::Worker(Msg::Plot {
        target: Target::Stream("Account-acc-1".into()),
        path: "/other".into(),
        result: Ok(vec![(1, 5.0)]),
    }));
    assert!(drawn(&app, 120, 40).contains("/balance across versions"));
}

fn consumer(name: &str, position: i64, lag: i64) -> eventscope::store::consumers::Consumer {
    use eventscope::store::consumers::{Consumer, Follows};
    Consumer {
        consumer: name.into(),
        kind: "projection".into(),
        follows: Follows::All,
        position: Some(position),
        head: Some(position + lag),
        lag,
        lag_estimated: false,
        next_event: None,
        behind_for: None,
        last_update: None,
        status: if lag > 0 { "behind" } else { "caught_up" }.into(),
        status_stored: false,
        stuck: false,
        error: None,
        source: "checkpoints".into(),
        note: None,
        dead_letters: Vec::new(),
    }
}

#[test]
fn a_consumer_behind_that_does_not_move_while_watched_becomes_stuck() {
    use crate::tui::model::STUCK_AFTER;
    let mut app = loaded();
    let start = std::time::Instant::now();
    let c = &mut app.model.catalog;
    c.set_consumers(
        vec![consumer("slow", 10, 5), consumer("idle", 20, 0)],
        start,
    );
    assert!(c.consumers.iter().all(|k| !k.stuck));
    // A minute later: the slow one has not moved and is stuck; a caught-up one never is.
    let later = start + STUCK_AFTER;
    c.set_consumers(
        vec![consumer("slow", 10, 7), consumer("idle", 20, 0)],
        later,
    );
    assert_eq!(c.consumers[0].status, "stuck");
    assert!(c.consumers[0].stuck && !c.consumers[1].stuck);
    // It moves: behind again, timed from now.
    let moved = later + std::time::Duration::from_secs(1);
    c.set_consumers(
        vec![consumer("slow", 11, 6), consumer("idle", 20, 0)],
        moved,
    );
    assert_eq!(c.consumers[0].status, "behind");
    assert_eq!(
        c.unmoved_for("slow", moved),
        Some(std::time::Duration::ZERO)
    );
    // The list shows them under $all; opening that row shows the overlay and asks again.
    app.on_worker(Msg::Consumers(Ok(app.model.catalog.consumers.clone())));
    assert_eq!(app.streams.rows[1], ListRow::Consumers);
    app.streams.selected = 1;
    app.model.outbox.clear();
    app.on_command(Command::Open);
    assert!(app.consumers.is_some());
    assert!(matches!(app.model.outbox.as_slice(), [Req::Consumers]));
}

#[test]
fn time_steps_pressed_while_one_resolves_add_up() {
    let mut app = opened();
    let target = app.model.view.as_ref().unwrap().target.clone();
    app.update(Action::Worker(Msg::Rows {
        target: target.clone(),
        from: 1,
        to: 4,
        rows: (1..=4).map(|k| row("Account-acc-1", k)).collect(),
    }));
    app.model.outbox.clear();
    press(&mut app, "}");
    press(&mut app, "}");
    press(&mut app, "}");
    let all = times_asked(&app);
    assert_eq!(all.len(), 3);
    // Each from the playhead's time before the first step: one, two, three hours on.
    assert_eq!(all[2], ("2024-03-01T12:04:00Z".to_string(), Some(3 * 3600)));
    // The first answer arrives: the later steps still count from where they began.
    app.update(Action::Worker(Msg::TimeResolved {
        target: target.clone(),
        key: Some(2),
        step: Some(TimeStep {
            from: "2024-03-01T09:04:00Z".into(),
            seconds: 3600,
        }),
    }));
    app.model.outbox.clear();
    press(&mut app, "{");
    assert_eq!(times_asked(&app)[0].1, Some(2 * 3600), "three up, one down");
    let last = app.model.time_step.clone().unwrap().1;
    app.update(Action::Worker(Msg::TimeResolved {
        target,
        key: Some(3),
        step: Some(last),
    }));
    assert!(
        app.model.time_step.is_none(),
        "the last answer ends the step"
    );
}

#[test]
fn the_time_prompt_opens_with_the_playheads_time_and_takes_a_bare_time_on_its_day() {
    let mut app = opened();
    let target = app.model.view.as_ref().unwrap().target.clone();
    app.update(Action::Worker(Msg::Rows {
        target,
        from: 1,
        to: 4,
        rows: (1..=4).map(|k| row("Account-acc-1", k)).collect(),
    }));
    app.model.outbox.clear();
    press(&mut app, "t");
    let p = app.prompt.as_ref().unwrap();
    assert_eq!(
        p.input, "2024-03-01 09:04:00",
        "the playhead's time, to edit"
    );
    // Backspace edits it; a typed character replaces it.
    press(&mut app, "backspace");
    assert_eq!(app.prompt.as_ref().unwrap().input, "2024-03-01 09:04:0");
    press(&mut app, "esc");
    press(&mut app, "t");
    typed(&mut app, "9:05");
    press(&mut app, "enter");
    assert_eq!(
        times_asked(&app),
        vec![("2024-03-01T09:05:59.999999999Z".to_string(), None)]
    );
}

/// Views that keep their own answers ask again, unasked, whenever those go stale: the
/// blame when the skips change or on a refresh, the comparison on a refresh and when the
/// playhead moves; an answer for a spot left behind is not shown.
#[test]
fn views_keeping_their_answers_ask_again_when_they_go_stale() {
    let mut app = opened();
    state_msg(&mut app, 4, 120);
    press(&mut app, "B");
    app.model.compare_with = Some(std::path::PathBuf::from("other.jq"));
    app.update(Action::Tick);
    let asked = |app: &App| {
        let blame = app
            .model
            .outbox
            .iter()
            .filter(|r| matches!(r, Req::Blame { key: 4, .. }))
            .count();
        let compare = app
            .model
            .outbox
            .iter()
            .filter(|r| matches!(r, Req::Compare { key: 4, .. }))
            .count();
        (blame, compare)
    };
    assert_eq!(asked(&app), (1, 1), "{:?}", app.model.outbox);
    app.model.outbox.clear();
    press(&mut app, "down"); // nothing moved: the Events pane is at the last event
    press(&mut app, "r");
    assert_eq!(asked(&app), (1, 1), "a refresh asks both again");
    app.model.outbox.clear();
    press(&mut app, "d");
    let blame_with_skip = app
        .model
        .outbox
        .iter()
        .any(|r| matches!(r, Req::Blame { key: 4, skips, .. } if skips == &vec![4]));
    assert!(blame_with_skip, "{:?}", app.model.outbox);
    // The answer to the question asked before the skip is not the blame shown now.
    app.model.outbox.clear();
    press(&mut app, "k");
    assert!(app
        .model
        .outbox
        .iter()
        .any(|r| matches!(r, Req::Compare { key: 3, .. })));
    app.update(Action::Worker(Msg::Compare {
        target: Target::Stream("Account-acc-1".into()),
        key: 4,
        result: Err(WorkerError::Reducer("stale".into())),
    }));
    app.focus = Pane::Inspector;
    press(&mut app, "6");
    assert_eq!(app.inspector.active_title(), "Compare");
    let screen = drawn(&app, 100, 30);
    assert!(!screen.contains("stale"), "{screen}");
    assert!(screen.contains("comparing…"), "{screen}");
}

/// `P` on a field of the State tab pins it: its history is asked for the open stream, the
/// Events pane marks the events that changed it, `N`/`n` there step between them, the
/// State tab lists the changes and the footer names the pin; `P` again unpins.
#[test]
fn a_pinned_field_marks_its_changes_and_n_steps_between_them() {
    use eventscope::replay::history::{FieldChange, HistoryRow};
    let mut app = opened();
    state_msg(&mut app, 4, 120);
    app.focus = Pane::Inspector;
    press(&mut app, "down");
    app.model.outbox.clear();
    press(&mut app, "P");
    let asked =
        app.model.outbox.iter().any(
            |r| matches!(r, Req::History { paths, .. } if paths == &vec!["/balance".to_string()]),
        );
    assert!(asked, "{:?}", app.model.outbox);
    let change = |version: i64, old: Option<i64>, new: i64| HistoryRow {
        stream_id: "Account-acc-1".into(),
        version,
        event_type: "MoneyDeposited".into(),
        timestamp: None,
        global_position: version,
        change: if old.is_some() {
            FieldChange::Changed
        } else {
            FieldChange::Added
        },
        old: old.map(|o| json!(o)),
        new: Some(json!(new)),
    };
    app.update(Action::Worker(Msg::History {
        target: Target::Stream("Account-acc-1".into()),
        paths: vec!["/balance".into()],
        result: Ok(vec![vec![change(1, None, 0), change(3, Some(0), 70)]]),
    }));
    let screen = drawn(&app, 120, 40);
    assert!(screen.contains("/balance · 2 changes"), "{screen}");
    assert!(screen.contains("v3 70  (was 0)"), "{screen}");
    app.focus = Pane::Events;
    press(&mut app, "N");
    assert_eq!(playhead(&app), 3);
    assert!(
        status(&app).contains("v3 changed /balance"),
        "{}",
        status(&app)
    );
    press(&mut app, "N");
    assert_eq!(playhead(&app), 1);
    press(&mut app, "n");
    assert_eq!(playhead(&app), 3);
    app.update(Action::Worker(Msg::Rows {
        target: Target::Stream("Account-acc-1".into()),
        from: 1,
        to: 4,
        rows: (1..=4).map(|k| row("Account-acc-1", k)).collect(),
    }));
    app.model.status = None;
    let screen = drawn(&app, 120, 40);
    assert_eq!(
        screen.matches('◆').count(),
        3,
        "two marked rows and the footer: {screen}"
    );
    // A refresh asks again; P again unpins.
    app.model.outbox.clear();
    press(&mut app, "r");
    assert!(app
        .model
        .outbox
        .iter()
        .any(|r| matches!(r, Req::History { .. })));
    app.focus = Pane::Inspector;
    press(&mut app, "P");
    assert!(app.model.pins.paths.is_empty(), "{}", status(&app));
}

/// An event an upcaster made: the Event tab says by which and what it changed, with the
/// stored envelope beside the upcast one.
#[test]
fn the_event_tab_shows_an_upcast_event_beside_the_stored_one() {
    let mut app = opened();
    let stored = eventscope::Event {
        stream_id: "Account-acc-1".into(),
        version: 4,
        event_type: "MoneyDeposited".into(),
        data: json!({"amount": 50}),
        ..Default::default()
    };
    let upcast = eventscope::Event {
        data: json!({"amount_cents": "5000", "currency": "EUR"}),
        schema_version: Some("2".into()),
        upcast: true,
        upcaster: Some("MoneyDeposited.jq".into()),
        ..stored.clone()
    };
    let mut at = state_at(4, json!({"balance": 120}));
    at.event = Some(upcast);
    at.stored = Some(Box::new(stored));
    app.update(Action::Worker(Msg::State {
        target: Target::Stream("Account-acc-1".into()),
        key: 4,
        result: Ok(Box::new(at)),
    }));
    press(&mut app, "2");
    app.focus = Pane::Inspector;
    let screen = drawn(&app, 140, 44);
    assert!(
        screen.contains("upcast by MoneyDeposited.jq: 4 fields differ from the stored event"),
        "{screen}"
    );
    assert!(screen.contains("stored") && screen.contains("upcast (what the reducers see)"));
    assert!(screen.contains("\"amount\": 50") && screen.contains("\"amount_cents\": \"5000\""));
}

/// The Types overlay (`T`, or the list's last row): the catalog comes from the worker,
/// Enter on a shape opens `$all` and finds that shape's events.
#[test]
fn the_types_overlay_finds_a_shapes_events() {
    use eventscope::store::types::{Place, Shape, TypeEntry};
    let mut app = loaded();
    app.model.outbox.clear();
    press(&mut app, "T");
    assert!(app.types.is_some());
    assert!(app.model.outbox.iter().any(|r| matches!(r, Req::Types)));
    let place = |p: i64| Place {
        global_position: p,
        stream_id: "Account-acc-1".into(),
        version: p,
        timestamp: None,
    };
    let shape = |field: &str, first: i64| Shape {
        fields: [(field.to_string(), "number".to_string())].into(),
        count: 1,
        first: place(first),
        last: place(first),
    };
    let entry = TypeEntry {
        event_type: "MoneyDeposited".into(),
        count: 2,
        streams: 1,
        first: place(2),
        last: place(4),
        schema_versions: Default::default(),
        shapes: vec![shape("/amount", 2), shape("/cents", 4)],
        newest: 1,
        changes: vec![],
        other_shapes: 0,
    };
    app.update(Action::Worker(Msg::Types(Ok(vec![entry]))));
    let screen = drawn(&app, 120, 40);
    assert!(
        screen.contains("MoneyDeposited  2 events in 1 stream"),
        "{screen}"
    );
    assert!(
        screen.contains("2: 1 event · #4 … #4 ← newest · /cents number"),
        "{screen}"
    );
    app.model.outbox.clear();
    press(&mut app, "down");
    press(&mut app, "enter");
    assert!(app.types.is_none());
    assert_eq!(app.model.view.as_ref().unwrap().target, Target::All);
    let found = app.model.outbox.iter().any(|r| {
        matches!(r, Req::Find { find: FindSpec::Shape(t, f), .. }
            if t == "MoneyDeposited" && f.contains_key("/cents"))
    });
    assert!(found, "{:?}", app.model.outbox);
}

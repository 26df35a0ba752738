//! Key handling as pure transitions: Action → App, and what the app asks of the worker.

use crate::tui::test_support::info;
use eventscope::replay::{Change, Op};
use serde_json::json;

use super::*;
use crate::tui::worker::{Appended, EventRow, Msg, Req, StateAt, Target};
use eventscope::store::StreamInfo;

fn loaded() -> App {
    let mut app = App::new(Keymap::default(), "demo.db".into(), "built-in merge".into());
    assert!(matches!(app.outbox.as_slice(), [Req::Streams]));
    app.outbox.clear();
    app.update(Action::Worker(Msg::Streams {
        streams: vec![
            info("Account-acc-1", 4),
            info("Account-acc-2", 3),
            info("Order-123", 8),
            info("User-user-1", 2),
        ],
        last_position: 17,
    }));
    app
}

fn cmd(app: &mut App, c: Command) {
    app.update(Action::Command(c));
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        app.update(Action::Input(c));
    }
}

fn state_requests(app: &App) -> Vec<i64> {
    app.outbox
        .iter()
        .filter_map(|r| match r {
            Req::State { key, .. } => Some(*key),
            _ => None,
        })
        .collect()
}

/// The app with Account-acc-1 opened through the filter, as a user would.
fn opened() -> App {
    let mut app = loaded();
    cmd(&mut app, Command::Filter);
    typed(&mut app, "acc-1");
    app.update(Action::Submit);
    app
}

fn state_msg(app: &mut App, key: i64, balance: i64) {
    let target = app.view.as_ref().unwrap().target.clone();
    app.update(Action::Worker(Msg::State {
        target,
        key,
        result: Ok(Box::new(StateAt {
            stream_id: "Account-acc-1".into(),
            version: key,
            state: json!({"balance": balance}),
            changed: vec![],
            event: None,
            event_lines: vec![],
            error: None,
            failed_before: (0, None),
            reducer: "Account.jq".into(),
            merge: false,
            from_snapshot: None,
            warnings: vec![],
            snapshot: None,
        })),
    }));
}

#[test]
fn stream_list_is_grouped_by_category_after_all() {
    let app = loaded();
    assert_eq!(
        app.list,
        vec![
            ListRow::All,
            ListRow::Category {
                name: "Account".into(),
                streams: 2
            },
            ListRow::Stream(0),
            ListRow::Stream(1),
            ListRow::Category {
                name: "Order".into(),
                streams: 1
            },
            ListRow::Stream(2),
            ListRow::Category {
                name: "User".into(),
                streams: 1
            },
            ListRow::Stream(3),
        ]
    );
    assert_eq!(app.selected, 0);
}

#[test]
fn moving_skips_category_headers() {
    let mut app = loaded();
    cmd(&mut app, Command::Down);
    assert_eq!(app.list[app.selected], ListRow::Stream(0));
    cmd(&mut app, Command::Down);
    cmd(&mut app, Command::Down);
    assert_eq!(app.list[app.selected], ListRow::Stream(2));
    cmd(&mut app, Command::PageDown);
    assert_eq!(app.list[app.selected], ListRow::Stream(3));
    cmd(&mut app, Command::PageUp);
    assert_eq!(app.list[app.selected], ListRow::All);
}

#[test]
fn filter_narrows_live_and_enter_opens_at_the_last_event() {
    let mut app = loaded();
    cmd(&mut app, Command::Filter);
    assert!(app.taking_text());
    typed(&mut app, "ACC-1");
    assert_eq!(
        app.list,
        vec![
            ListRow::Category {
                name: "Account".into(),
                streams: 1
            },
            ListRow::Stream(0)
        ]
    );
    // A key bound to a command is text while the filter takes it.
    app.update(Action::Input('q'));
    assert!(!app.quit);
    assert!(app.list.is_empty());
    app.update(Action::Backspace);
    app.update(Action::Submit);
    assert!(!app.filtering);
    let v = app.view.as_ref().unwrap();
    assert_eq!(v.target, Target::Stream("Account-acc-1".into()));
    assert_eq!((v.playhead, v.len), (4, 4));
    assert_eq!(app.focus, Pane::Events);
    assert_eq!(state_requests(&app), vec![4]);
    assert!(app
        .outbox
        .iter()
        .any(|r| matches!(r, Req::Rows { from: 1, to: 4, .. })));
    assert!(app.outbox.iter().any(|r| matches!(r, Req::Density { .. })));
}

#[test]
fn escape_clears_the_filter() {
    let mut app = loaded();
    cmd(&mut app, Command::Filter);
    typed(&mut app, "zzz");
    assert!(app.list.is_empty());
    cmd(&mut app, Command::Cancel);
    assert!(!app.filtering && app.filter.is_empty());
    assert_eq!(app.list.len(), 8);
}

#[test]
fn playhead_keys_step_jump_and_clamp() {
    let mut app = opened();
    app.outbox.clear();
    cmd(&mut app, Command::First);
    cmd(&mut app, Command::StepForward);
    cmd(&mut app, Command::StepForward);
    assert_eq!(app.view.as_ref().unwrap().playhead, 3);
    cmd(&mut app, Command::JumpForward);
    assert_eq!(app.view.as_ref().unwrap().playhead, 4);
    cmd(&mut app, Command::JumpBack);
    assert_eq!(app.view.as_ref().unwrap().playhead, 1);
    cmd(&mut app, Command::StepBack);
    assert_eq!(app.view.as_ref().unwrap().playhead, 1);
    assert_eq!(state_requests(&app), vec![1, 2, 3, 4, 1, 1]);
    // Playhead keys work from any pane.
    app.focus = Pane::Streams;
    cmd(&mut app, Command::Last);
    assert_eq!(app.view.as_ref().unwrap().playhead, 4);
}

#[test]
fn a_state_that_arrived_is_not_asked_for_again() {
    let mut app = opened();
    state_msg(&mut app, 4, 120);
    app.outbox.clear();
    cmd(&mut app, Command::Last);
    assert!(state_requests(&app).is_empty());
    assert!(app.view.as_ref().unwrap().current_state().is_some());
}

#[test]
fn stale_states_are_ignored() {
    let mut app = opened();
    cmd(&mut app, Command::First);
    state_msg(&mut app, 4, 120);
    assert!(app.view.as_ref().unwrap().current_state().is_none());
    state_msg(&mut app, 1, 0);
    let s = app
        .view
        .as_ref()
        .unwrap()
        .current_state()
        .unwrap()
        .as_ref()
        .unwrap();
    assert_eq!(s.state["balance"], 0);
}

#[test]
fn progress_shows_only_for_the_playhead() {
    let mut app = opened();
    let target = Target::Stream("Account-acc-1".into());
    app.update(Action::Worker(Msg::Progress {
        target: target.clone(),
        key: 3,
        done: 10,
        total: 20,
    }));
    assert_eq!(app.view.as_ref().unwrap().progress, None);
    app.update(Action::Worker(Msg::Progress {
        target,
        key: 4,
        done: 10,
        total: 20,
    }));
    assert_eq!(app.view.as_ref().unwrap().progress, Some((10, 20)));
    state_msg(&mut app, 4, 1);
    assert_eq!(app.view.as_ref().unwrap().progress, None);
}

#[test]
fn marks_and_the_diff_tab() {
    let mut app = opened();
    cmd(&mut app, Command::First);
    cmd(&mut app, Command::MarkA);
    cmd(&mut app, Command::Last);
    app.outbox.clear();
    cmd(&mut app, Command::TabDiff);
    assert_eq!(app.tab, Tab::Diff);
    let diffs: Vec<(i64, i64)> = app
        .outbox
        .iter()
        .filter_map(|r| match r {
            Req::Diff { a, b, .. } => Some((*a, *b)),
            _ => None,
        })
        .collect();
    assert_eq!(diffs, vec![(1, 4)], "A → playhead while B is unset");
    cmd(&mut app, Command::StepBack);
    cmd(&mut app, Command::MarkB);
    assert!(app
        .outbox
        .iter()
        .any(|r| matches!(r, Req::Diff { a: 1, b: 3, .. })));
    let target = app.view.as_ref().unwrap().target.clone();
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
    assert!(matches!(&app.view.as_ref().unwrap().diff, Some(((1, 3), Ok(c))) if c.len() == 1));
    cmd(&mut app, Command::ClearMarks);
    assert_eq!(app.view.as_ref().unwrap().diff_pair(), None);
}

#[test]
fn version_prompt_goes_there_or_says_why_not() {
    let mut app = opened();
    cmd(&mut app, Command::GoToVersion);
    assert!(app.taking_text());
    typed(&mut app, "2");
    app.update(Action::Submit);
    assert_eq!(app.view.as_ref().unwrap().playhead, 2);
    assert!(app.prompt.is_none());
    cmd(&mut app, Command::GoToVersion);
    typed(&mut app, "two");
    app.update(Action::Submit);
    assert_eq!(app.status, Some(("not a version: \"two\"".into(), true)));
    cmd(&mut app, Command::GoToVersion);
    cmd(&mut app, Command::Cancel);
    assert!(app.prompt.is_none());
}

#[test]
fn time_prompt_asks_the_worker_and_seeks_to_its_answer() {
    let mut app = opened();
    app.outbox.clear();
    cmd(&mut app, Command::GoToTime);
    typed(&mut app, "2024-03-01T09:05");
    app.update(Action::Submit);
    let asked = app.outbox.iter().find_map(|r| match r {
        Req::ResolveTime { at, .. } => Some(eventscope::time::format_stored(*at)),
        _ => None,
    });
    assert_eq!(asked.as_deref(), Some("2024-03-01T09:05:59.999999999Z"));
    let target = app.view.as_ref().unwrap().target.clone();
    app.update(Action::Worker(Msg::TimeResolved {
        target: target.clone(),
        key: Some(2),
    }));
    assert_eq!(app.view.as_ref().unwrap().playhead, 2);
    app.update(Action::Worker(Msg::TimeResolved { target, key: None }));
    assert_eq!(app.status.as_ref().map(|s| s.1), Some(true));
    cmd(&mut app, Command::GoToTime);
    typed(&mut app, "whenever");
    app.update(Action::Submit);
    assert!(app.status.as_ref().unwrap().0.contains("cannot read time"));
}

#[test]
fn prompts_need_an_open_stream() {
    let mut app = loaded();
    cmd(&mut app, Command::GoToVersion);
    assert!(app.prompt.is_none());
    assert!(app
        .status
        .as_ref()
        .unwrap()
        .0
        .contains("open a stream first"));
}

#[test]
fn help_overlay_swallows_other_commands() {
    let mut app = opened();
    cmd(&mut app, Command::Help);
    assert!(app.help);
    cmd(&mut app, Command::First);
    assert_eq!(app.view.as_ref().unwrap().playhead, 4);
    cmd(&mut app, Command::Cancel);
    assert!(!app.help);
    cmd(&mut app, Command::Help);
    cmd(&mut app, Command::Quit);
    assert!(app.quit);
}

#[test]
fn focus_cycles_both_ways() {
    let mut app = loaded();
    cmd(&mut app, Command::FocusNext);
    assert_eq!(app.focus, Pane::Events);
    cmd(&mut app, Command::FocusNext);
    assert_eq!(app.focus, Pane::State);
    cmd(&mut app, Command::FocusNext);
    assert_eq!(app.focus, Pane::Streams);
    cmd(&mut app, Command::FocusPrev);
    assert_eq!(app.focus, Pane::State);
}

#[test]
fn folding_the_line_under_the_cursor() {
    let mut app = opened();
    let target = app.view.as_ref().unwrap().target.clone();
    app.update(Action::Worker(Msg::State {
        target,
        key: 4,
        result: Ok(Box::new(StateAt {
            stream_id: "Account-acc-1".into(),
            version: 4,
            state: json!({"items": {"a": 1, "b": 2}, "n": 1}),
            changed: vec![],
            event: None,
            event_lines: vec![],
            error: None,
            failed_before: (0, None),
            reducer: "Account.jq".into(),
            merge: false,
            from_snapshot: None,
            warnings: vec![],
            snapshot: None,
        })),
    }));
    app.focus = Pane::State;
    assert_eq!(app.state_lines().len(), 7);
    cmd(&mut app, Command::Down);
    cmd(&mut app, Command::Open);
    assert!(app.folded.contains("/items"));
    assert_eq!(app.state_lines().len(), 4);
    cmd(&mut app, Command::Open);
    assert_eq!(app.state_lines().len(), 7);
    for _ in 0..20 {
        cmd(&mut app, Command::Down);
    }
    assert_eq!(app.state_cursor, 6, "the cursor stops at the last line");
}

#[test]
fn clicking_the_timeline_seeks_by_fraction() {
    let mut app = opened();
    app.update(Action::SeekFraction(0.0));
    assert_eq!(app.view.as_ref().unwrap().playhead, 1);
    app.update(Action::SeekFraction(0.7));
    assert_eq!(app.view.as_ref().unwrap().playhead, 3);
    app.update(Action::SeekFraction(1.0));
    assert_eq!(app.view.as_ref().unwrap().playhead, 4);
}

#[test]
fn follow_moves_the_playhead_to_appended_events() {
    let mut app = opened();
    cmd(&mut app, Command::First);
    app.outbox.clear();
    cmd(&mut app, Command::ToggleFollow);
    assert!(app.following);
    assert!(
        matches!(app.outbox.first(), Some(Req::Follow(Some(17)))),
        "follow catches up from the last position the UI knew"
    );
    assert_eq!(app.view.as_ref().unwrap().playhead, 4);
    app.update(Action::Worker(Msg::Appended {
        events: vec![
            appended("Account-acc-1", 5, 18),
            appended("Brand-new", 1, 19),
        ],
    }));
    let v = app.view.as_ref().unwrap();
    assert_eq!((v.len, v.playhead), (5, 5));
    assert_eq!(app.last_position, 19);
    assert_eq!(app.streams[0].events, 5);
    assert!(app.streams.iter().any(|s| s.stream_id == "Brand-new"));
    cmd(&mut app, Command::ToggleFollow);
    app.update(Action::Worker(Msg::Appended {
        events: vec![appended("Account-acc-1", 6, 20)],
    }));
    let v = app.view.as_ref().unwrap();
    assert_eq!(
        (v.len, v.playhead),
        (6, 5),
        "not following: the playhead stays"
    );
}

#[test]
fn rows_arrive_and_far_ones_are_dropped() {
    let mut app = loaded();
    app.update(Action::Worker(Msg::Streams {
        streams: vec![info("Big-1", 5000)],
        last_position: 5000,
    }));
    app.update(Action::Submit); // not filtering: nothing happens
    assert!(app.view.is_none());
    cmd(&mut app, Command::Down);
    cmd(&mut app, Command::Open);
    let target = Target::Stream("Big-1".into());
    let row = |k: i64| EventRow {
        key: k,
        stream_id: "Big-1".into(),
        version: k,
        event_type: "T".into(),
        timestamp: Some("2024-01-01T00:00:00Z".into()),
        preview: "{}".into(),
        snapshot: false,
    };
    app.update(Action::Worker(Msg::Rows {
        target,
        from: 1,
        to: 5000,
        rows: (1..=5000).map(row).collect(),
    }));
    let v = app.view.as_ref().unwrap();
    assert!(
        v.rows.len() <= 301,
        "only rows near the playhead are kept: {}",
        v.rows.len()
    );
    assert!(v.rows.contains_key(&5000));
    app.outbox.clear();
    cmd(&mut app, Command::First);
    assert!(app.outbox.iter().any(|r| matches!(
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
    }
}

fn selected_id(app: &App) -> Option<String> {
    match app.list.get(app.selected) {
        Some(ListRow::Stream(i)) => Some(app.streams[*i].stream_id.clone()),
        _ => None,
    }
}

#[test]
fn categories_group_once_whatever_order_streams_arrive_in() {
    let mut app = App::new(Keymap::default(), "es.db".into(), "x".into());
    let stream = |id: &str, category: &str| StreamInfo {
        stream_id: id.into(),
        category: category.into(),
        events: 1,
        first_version: 1,
        last_version: 1,
        bad_versions: 0,
    };
    // Python eventsourcing: ids are UUIDs, categories come from topics.
    app.update(Action::Worker(Msg::Streams {
        streams: vec![
            stream("1a", "Order"),
            stream("2b", "BankAccount"),
            stream("3c", "Order"),
        ],
        last_position: 3,
    }));
    let headers: Vec<String> = app
        .list
        .iter()
        .filter_map(|r| match r {
            ListRow::Category { name, streams } => Some(format!("{name}:{streams}")),
            _ => None,
        })
        .collect();
    assert_eq!(headers, vec!["BankAccount:1", "Order:2"]);
    // A followed stream gets the category the layout gave it, not its id's prefix.
    app.update(Action::Worker(Msg::Appended {
        events: vec![Appended {
            stream_id: "4d".into(),
            category: "Order".into(),
            version: 1,
            position: 4,
        }],
    }));
    assert!(app.list.contains(&ListRow::Category {
        name: "Order".into(),
        streams: 3
    }));
}

#[test]
fn streams_are_found_by_id_not_by_sort_order() {
    let mut app = App::new(Keymap::default(), "m.db".into(), "x".into());
    // SQL orders an INTEGER column 9 before 10; a string sort would not.
    app.update(Action::Worker(Msg::Streams {
        streams: vec![info("9", 3), info("10", 7)],
        last_position: 10,
    }));
    assert_eq!(app.stream_len("10"), 7);
    assert_eq!(app.stream_len("9"), 3);
    app.update(Action::Worker(Msg::Appended {
        events: vec![appended("10", 8, 11)],
    }));
    assert_eq!(app.stream_len("10"), 8);
    assert_eq!(
        app.streams.iter().filter(|s| s.stream_id == "10").count(),
        1
    );
}

#[test]
fn a_new_stream_leaves_the_selection_on_the_same_id() {
    let mut app = loaded();
    cmd(&mut app, Command::Down);
    cmd(&mut app, Command::Down);
    assert_eq!(selected_id(&app).as_deref(), Some("Account-acc-2"));
    app.update(Action::Worker(Msg::Appended {
        events: vec![
            appended("Account-acc-0", 1, 18),
            appended("Aardvark-1", 1, 19),
        ],
    }));
    assert_eq!(selected_id(&app).as_deref(), Some("Account-acc-2"));
    let counted: i64 = app.streams.iter().map(|s| s.events).sum();
    assert_eq!(counted, 4 + 3 + 8 + 2 + 2);
    // An event the list already counted is not counted twice.
    app.update(Action::Worker(Msg::Appended {
        events: vec![appended("Aardvark-1", 1, 19)],
    }));
    assert_eq!(app.streams.iter().map(|s| s.events).sum::<i64>(), counted);
}

#[test]
fn refresh_reloads_and_keeps_the_playhead_and_marks() {
    let mut app = opened();
    cmd(&mut app, Command::StepBack);
    cmd(&mut app, Command::MarkA);
    app.update(Action::Worker(Msg::Pending {
        after: 17,
        count: 3,
    }));
    assert_eq!(app.pending, 3);
    app.outbox.clear();
    cmd(&mut app, Command::Refresh);
    assert_eq!(app.pending, 0);
    assert!(app.outbox.iter().any(|r| matches!(r, Req::Streams)));
    assert!(app
        .outbox
        .iter()
        .any(|r| matches!(r, Req::State { key: 3, .. })));
    app.update(Action::Worker(Msg::Streams {
        streams: vec![info("Account-acc-1", 6), info("Order-123", 8)],
        last_position: 20,
    }));
    let v = app.view.as_ref().unwrap();
    assert_eq!((v.len, v.playhead, v.mark_a), (6, 3, Some(3)));
    // A count for a position the UI has moved past is stale.
    app.update(Action::Worker(Msg::Pending {
        after: 17,
        count: 3,
    }));
    assert_eq!(app.pending, 0);
}

#[test]
fn a_refused_snapshot_toggle_is_turned_back() {
    let mut app = opened();
    cmd(&mut app, Command::ToggleSnapshots);
    assert!(app.from_snapshots && app.replace_worker);
    app.update(Action::Worker(Msg::SnapshotsRefused(
        "needs a mapping".into(),
    )));
    assert!(!app.from_snapshots, "the toggle shows what the worker does");
    assert_eq!(app.status, Some(("needs a mapping".into(), true)));
}

//! Every pane and overlay rendered through TestBackend at fixed sizes, from app states
//! built here.

use crate::tui::test_support::info;
use eventscope::replay::{Change, Op};
use eventscope::Event;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Modifier;
use ratatui::Terminal;
use serde_json::json;

use super::draw;
use crate::tui::action::{Action, Command};
use crate::tui::app::{App, Pane};
use crate::tui::keymap::Keymap;
use crate::tui::worker::{EventRow, Msg, StateAt, Target};

fn render(app: &App, w: u16, h: u16) -> Buffer {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| draw(app, f)).unwrap();
    t.backend().buffer().clone()
}

fn lines(buf: &Buffer) -> Vec<String> {
    let w = buf.area.width as usize;
    buf.content
        .chunks(w)
        .map(|row| row.iter().map(|c| c.symbol()).collect::<String>())
        .collect()
}

fn screen(app: &App) -> Vec<String> {
    lines(&render(app, 80, 24))
}

fn has(screen: &[String], text: &str) -> bool {
    screen.iter().any(|l| l.contains(text))
}

const TYPES: [&str; 4] = [
    "AccountOpened",
    "MoneyDeposited",
    "MoneyWithdrawn",
    "MoneyDeposited",
];
const BALANCES: [i64; 4] = [0, 100, 70, 120];

fn bank_app() -> App {
    let mut app = App::new(
        Keymap::default(),
        "/tmp/bank.db".into(),
        "Account.jq".into(),
    );
    app.update(Action::Worker(Msg::Streams {
        streams: vec![
            info("Account-acc-1", 4),
            info("Account-acc-2", 3),
            info("Order-123", 8),
        ],
        last_position: 15,
    }));
    app
}

fn event(v: i64) -> Event {
    Event {
        global_position: v * 3,
        stream_id: "Account-acc-1".into(),
        version: v,
        event_id: format!("id-{v}"),
        event_type: TYPES[v as usize - 1].into(),
        data: json!({"amount": 10 * v}),
        metadata: json!({"correlationId": "corr-1"}),
        timestamp: Some(format!("2024-03-01T09:0{v}:00.000Z")),
        ..Default::default()
    }
}

/// Account-acc-1 opened, with its rows and the state at `playhead` delivered.
fn opened_at(playhead: i64) -> App {
    let mut app = bank_app();
    app.update(Action::Command(Command::Down));
    app.update(Action::Command(Command::Open));
    let target = Target::Stream("Account-acc-1".into());
    let rows = (1..=4)
        .map(|v| EventRow {
            key: v,
            stream_id: "Account-acc-1".into(),
            version: v,
            event_type: TYPES[v as usize - 1].into(),
            timestamp: Some(format!("2024-03-01T09:0{v}:00.000Z")),
            preview: format!("{{\"amount\":{}}}", 10 * v),
            snapshot: false,
        })
        .collect();
    app.update(Action::Worker(Msg::Rows {
        target: target.clone(),
        from: 1,
        to: 4,
        rows,
    }));
    app.update(Action::Worker(Msg::Density {
        target: target.clone(),
        counts: vec![1, 0, 2, 1],
        snapshots: vec![],
    }));
    app.seek(playhead);
    let old = if playhead > 1 {
        BALANCES[playhead as usize - 2]
    } else {
        0
    };
    app.update(Action::Worker(Msg::State {
        target,
        key: playhead,
        result: Ok(Box::new(StateAt {
            stream_id: "Account-acc-1".into(),
            version: playhead,
            state: json!({"id": "acc-1", "owner": "Alice", "balance": BALANCES[playhead as usize - 1]}),
            changed: vec![Change {
                path: "/balance".into(),
                op: Op::Changed,
                old: Some(json!(old)),
                new: Some(json!(BALANCES[playhead as usize - 1])),
            }],
            event: Some(event(playhead)),
            event_lines: crate::tui::json_view::flatten(
                &serde_json::to_value(event(playhead)).unwrap(),
                &Default::default(),
            ),
            error: None,
            failed_before: (0, None),
            reducer: "Account.jq".into(),
            merge: false,
            from_snapshot: None,
            warnings: vec![],
            snapshot: None,
        })),
    }));
    app.outbox.clear();
    app
}

#[test]
fn first_screen_before_streams_arrive() {
    let app = App::new(Keymap::default(), "bank.db".into(), "built-in merge".into());
    let s = screen(&app);
    assert!(s[0].starts_with("┏ Streams bank.db "), "{}", s[0]);
    assert!(has(&s, "loading streams…"));
    assert!(has(&s, "Select a stream and press Enter."));
    assert!(has(&s, "no stream open"));
}

#[test]
fn streams_pane_groups_by_category() {
    let s = screen(&bank_app());
    assert!(s[1].starts_with("┃$all                15┃"), "{}", s[1]);
    assert!(s[2].starts_with("┃▾ Account            2┃"), "{}", s[2]);
    assert!(s[3].starts_with("┃  Account-acc-1      4┃"), "{}", s[3]);
    assert!(s[5].starts_with("┃▾ Order              1┃"), "{}", s[5]);
    let buf = render(&bank_app(), 80, 24);
    assert!(
        buf[(1, 1)].modifier.contains(Modifier::REVERSED),
        "the selection is highlighted"
    );
}

#[test]
fn filter_shows_in_the_title_and_footer() {
    let mut app = bank_app();
    app.update(Action::Command(Command::Filter));
    for c in "acc-2".chars() {
        app.update(Action::Input(c));
    }
    let s = screen(&app);
    assert!(s[0].contains("/acc-2▏"), "{}", s[0]);
    assert!(s[2].contains("Account-acc-2"), "{}", s[2]);
    assert!(!has(&s, "Account-acc-1"));
    assert!(s[23].starts_with("Filter: acc-2▏"), "{}", s[23]);
}

#[test]
fn events_pane_highlights_the_playhead_row_and_marks() {
    let mut app = opened_at(2);
    app.update(Action::Command(Command::MarkA));
    let buf = render(&app, 80, 24);
    let s = lines(&buf);
    assert!(s[0].contains("Events · Account-acc-1"), "{}", s[0]);
    assert!(s[1].contains("VER TYPE"), "{}", s[1]);
    let row = s
        .iter()
        .position(|l| l.contains("2 MoneyDeposited"))
        .unwrap();
    assert!(
        s[row].contains("A      2 MoneyDeposited       2024-03-01 09:02:00"),
        "{}",
        s[row]
    );
    let x = s[row].find("MoneyDeposited").unwrap();
    let x = s[row][..x].chars().count() as u16;
    assert!(buf[(x, row as u16)].modifier.contains(Modifier::REVERSED));
    let other = s
        .iter()
        .position(|l| l.contains("3 MoneyWithdrawn"))
        .unwrap();
    assert!(!buf[(x, other as u16)].modifier.contains(Modifier::REVERSED));
}

#[test]
fn versions_without_events_say_so() {
    let mut app = opened_at(4);
    let target = Target::Stream("Account-acc-1".into());
    let rows = app
        .view
        .as_ref()
        .unwrap()
        .rows
        .values()
        .flatten()
        .filter(|r| r.key != 2)
        .cloned()
        .collect();
    app.update(Action::Worker(Msg::Rows {
        target,
        from: 1,
        to: 4,
        rows,
    }));
    let s = screen(&app);
    assert!(has(&s, "     2 (no event at this version)"), "{s:#?}");
    assert!(has(&s, "3 MoneyWithdrawn"));
}

#[test]
fn local_time_toggle_changes_the_timestamps() {
    let mut app = opened_at(4);
    assert!(has(&screen(&app), "2024-03-01 09:04:00"));
    app.update(Action::Command(Command::ToggleTimeZone));
    let local = eventscope::time::parse_stored("2024-03-01T09:04:00.000Z")
        .unwrap()
        .with_timezone(&chrono::Local)
        .format("%Y-%m-%d %H:%M:%S%.3f")
        .to_string();
    let s = screen(&app);
    assert!(has(&s, &local), "{local}");
    let zone = format!("TIME {}", eventscope::time::local_zone_name());
    assert!(has(&s, &zone), "the header names the zone: {s:#?}");
    app.update(Action::Command(Command::GoToTime));
    let prompt = format!(
        "Go to time (RFC 3339 or a prefix, {}): ",
        eventscope::time::local_zone_name()
    );
    assert!(
        screen(&app)[23].starts_with(&prompt),
        "typed times are read in the shown zone"
    );
}

#[test]
fn state_tab_marks_changed_fields() {
    let s = screen(&opened_at(3));
    let balance = s.iter().find(|l| l.contains("\"balance\": 70")).unwrap();
    assert!(balance.contains("│●   \"balance\": 70"), "{balance}");
    let owner = s.iter().find(|l| l.contains("\"owner\"")).unwrap();
    assert!(owner.contains("│    \"owner\": \"Alice\","), "{owner}");
    assert!(has(&s, " 1 State "));
}

#[test]
fn state_tab_shows_a_reducer_error_and_browsing_goes_on() {
    let mut app = opened_at(3);
    let target = Target::Stream("Account-acc-1".into());
    app.update(Action::Worker(Msg::State {
        target,
        key: 3,
        result: Ok(Box::new(StateAt {
            stream_id: "Account-acc-1".into(),
            version: 3,
            state: json!({"balance": 100}),
            changed: vec![],
            event: None,
            event_lines: vec![],
            error: Some(
                "reducer x.jq failed at Account-acc-1 version 3 (MoneyWithdrawn): boom".into(),
            ),
            failed_before: (1, Some(2)),
            reducer: "x.jq".into(),
            merge: false,
            from_snapshot: None,
            warnings: vec![],
            snapshot: None,
        })),
    }));
    let s = screen(&app);
    assert!(
        has(&s, "✗ reducer x.jq failed at Account-acc-1 version 3"),
        "{s:#?}"
    );
    assert!(has(&s, "the state below is the one before this event"));
    assert!(
        has(&s, "⚠ 1 earlier event failed and was skipped (first at 2)"),
        "{s:#?}"
    );
    assert!(has(&s, "\"balance\": 100"));
}

#[test]
fn state_title_shows_replay_progress() {
    let mut app = opened_at(4);
    app.update(Action::Command(Command::StepBack));
    assert!(has(&screen(&app), "3 Diff  loading 3…"));
    let target = Target::Stream("Account-acc-1".into());
    app.update(Action::Worker(Msg::Progress {
        target,
        key: 3,
        done: 1,
        total: 4,
    }));
    let s = screen(&app);
    assert!(has(&s, "replaying 25% (1/4)"), "{s:#?}");
}

#[test]
fn event_tab_shows_payload_and_metadata() {
    let mut app = opened_at(2);
    app.update(Action::Command(Command::TabEvent));
    let s = screen(&app);
    assert!(has(&s, "\"type\": \"MoneyDeposited\","), "{s:#?}");
    assert!(has(&s, "\"amount\": 20"));
    assert!(!has(&s, "\"correlationId\""), "below the fold at 80×24");
    app.focus = Pane::State;
    for _ in 0..6 {
        app.update(Action::Command(Command::Down));
    }
    let s = screen(&app);
    assert!(has(&s, "\"correlationId\": \"corr-1\""), "{s:#?}");
    assert!(!has(&s, "\"type\": \"MoneyDeposited\","), "scrolled past");
}

#[test]
fn diff_tab_explains_marks_then_shows_changes() {
    let mut app = opened_at(4);
    app.update(Action::Command(Command::TabDiff));
    let s = screen(&app);
    assert!(has(&s, "Press a to set mark A at the playhead"), "{s:#?}");
    app.update(Action::Command(Command::First));
    app.update(Action::Command(Command::MarkA));
    app.update(Action::Command(Command::Last));
    assert!(has(&screen(&app), "comparing…"));
    let target = Target::Stream("Account-acc-1".into());
    let changes = vec![
        Change {
            path: "/balance".into(),
            op: Op::Changed,
            old: Some(json!(0)),
            new: Some(json!(120)),
        },
        Change {
            path: "/closed".into(),
            op: Op::Added,
            old: None,
            new: Some(json!(false)),
        },
    ];
    app.update(Action::Worker(Msg::Diff {
        target,
        a: 1,
        b: 4,
        result: Ok(changes),
    }));
    let s = screen(&app);
    assert!(has(&s, "A 1 → playhead 4"), "{s:#?}");
    assert!(has(&s, "~ /balance 0 → 120"));
    assert!(has(&s, "+ /closed false"));
}

#[test]
fn timeline_shows_playhead_marks_and_density() {
    let mut app = opened_at(4);
    app.update(Action::Command(Command::First));
    app.update(Action::Command(Command::MarkA));
    app.update(Action::Command(Command::Last));
    let s = screen(&app);
    assert!(s[19].starts_with("┌ Timeline"), "{}", s[19]);
    let slider = &s[20];
    assert!(slider.starts_with("│A──"), "{slider}");
    assert!(slider.contains("─● 4/4 2024-03-01 09:04:00"), "{slider}");
    assert!(s[21].contains("A 1  B -"), "{}", s[21]);
    assert!(
        s[21].starts_with("│▄") && s[21].contains('█'),
        "sparkline: {}",
        s[21]
    );
}

#[test]
fn footer_hints_come_from_the_keymap() {
    let s = screen(&bank_app());
    assert!(
        s[23].starts_with("Enter open  / filter  ←→ step  g go to  a mark  f follow  ? help"),
        "{}",
        s[23]
    );
    let mut km = Keymap::default();
    km.apply_overrides(r#"{"help": ["F1"], "quit": ["x"]}"#)
        .unwrap_or_else(|e| {
            // F1 is not a key name we read: the test wants the error to say so.
            assert!(e.contains("unknown key"));
        });
    km.apply_overrides(r#"{"help": ["h"], "quit": ["x"]}"#)
        .unwrap();
    let app = App::new(km, "b.db".into(), String::new());
    let s = screen(&app);
    assert!(s[23].contains("h help  x quit"), "{}", s[23]);
}

#[test]
fn prompts_and_status_take_the_footer() {
    let mut app = opened_at(4);
    app.update(Action::Command(Command::GoToVersion));
    app.update(Action::Input('7'));
    assert!(screen(&app)[23].starts_with("Go to version: 7▏"));
    app.update(Action::Submit);
    app.update(Action::Command(Command::GoToTime));
    assert!(screen(&app)[23].starts_with("Go to time (RFC 3339 or a prefix, UTC): ▏"));
    app.update(Action::Command(Command::Cancel));
    app.update(Action::Worker(Msg::Error("the store is locked".into())));
    assert!(screen(&app)[23].starts_with("the store is locked"));
}

#[test]
fn help_lists_every_binding_in_effect() {
    let mut app = opened_at(4);
    app.update(Action::Command(Command::Help));
    let s = screen(&app);
    assert!(has(&s, "Keys — Esc or ? closes"), "{s:#?}");
    for b in &app.keymap.bindings {
        assert!(has(&s, b.help), "help lacks {:?}: {s:#?}", b.help);
        let keys = b
            .keys
            .iter()
            .map(|k| k.label())
            .collect::<Vec<_>>()
            .join(" ");
        assert!(has(&s, &keys), "help lacks keys {keys:?}");
    }
}

#[test]
fn focus_is_visible() {
    let mut app = opened_at(4);
    app.focus = Pane::State;
    let s = screen(&app);
    let title = s.iter().find(|l| l.contains("1 State")).unwrap();
    assert!(title.starts_with("│                      │┏"), "{title}");
    let events = s.iter().find(|l| l.contains("Events ·")).unwrap();
    assert!(events.starts_with("┌ Streams"), "{events}");
}

#[test]
fn too_small_says_so_at_any_size() {
    let app = opened_at(4);
    let s = lines(&render(&app, 40, 10));
    assert!(s[0].starts_with("terminal too small: 40×10"), "{}", s[0]);
    for (w, h) in [(1, 1), (2, 5), (59, 30), (120, 15), (60, 16), (200, 60)] {
        render(&app, w, h);
    }
    let mut help = opened_at(4);
    help.update(Action::Command(Command::Help));
    for (w, h) in [(60, 16), (80, 24), (61, 17)] {
        render(&help, w, h);
    }
}

#[test]
fn mouse_positions_map_onto_the_slider() {
    let area = ratatui::layout::Rect::new(0, 0, 80, 24);
    let areas = super::layout(area).unwrap();
    let y = areas.timeline.y + 1;
    assert_eq!(super::slider_fraction(areas.timeline, 1, y), Some(0.0));
    assert_eq!(super::slider_fraction(areas.timeline, 43, y), Some(1.0));
    assert_eq!(
        super::slider_fraction(areas.timeline, 44, y),
        None,
        "the label is not slider"
    );
    assert_eq!(super::slider_fraction(areas.timeline, 1, y + 1), None);
    assert_eq!(super::slider_fraction(areas.timeline, 79, y), None);
}

#[test]
fn events_sharing_a_version_are_all_listed() {
    let mut app = opened_at(4);
    let target = Target::Stream("Account-acc-1".into());
    let row = |v: i64, ty: &str| EventRow {
        key: v,
        stream_id: "Account-acc-1".into(),
        version: v,
        event_type: ty.into(),
        timestamp: Some(format!("2024-03-01T09:0{v}:00.000Z")),
        preview: "{}".into(),
        snapshot: false,
    };
    app.update(Action::Worker(Msg::Rows {
        target,
        from: 1,
        to: 4,
        rows: vec![
            row(1, "AccountOpened"),
            row(2, "MoneyDeposited"),
            row(2, "DuplicateAtTwo"),
            row(3, "MoneyWithdrawn"),
            row(4, "MoneyDeposited"),
        ],
    }));
    let s = screen(&app);
    assert!(has(&s, "2 MoneyDeposited"), "{s:#?}");
    assert!(
        has(&s, "2 DuplicateAtTwo"),
        "both events at version 2: {s:#?}"
    );
}

#[test]
fn the_event_tab_shows_a_snapshot_stored_at_the_playhead() {
    let mut app = opened_at(2);
    if let Some((_, Ok(s))) = app.view.as_mut().and_then(|v| v.state.as_mut()) {
        s.snapshot = Some(Ok(crate::tui::json_view::flatten(
            &json!({"full_name": "Alice", "balance": 999}),
            &Default::default(),
        )));
        s.from_snapshot = Some(2);
    }
    app.update(Action::Command(Command::TabEvent));
    app.event_scroll = 13; // below the event's envelope
    let s = screen(&app);
    assert!(has(&s, "S stored snapshot at version 2"), "{s:#?}");
    assert!(has(&s, "\"balance\": 999"), "{s:#?}");
    app.update(Action::Command(Command::TabState));
    let s = screen(&app);
    assert!(
        has(&s, "started from the stored snapshot at version 2"),
        "{s:#?}"
    );
}

#[test]
fn store_bytes_are_escaped_on_screen() {
    let mut app = App::new(Keymap::default(), "x.db".into(), "x".into());
    let evil = "Evil-\u{1b}[2J\u{202e}x";
    app.update(Action::Worker(Msg::Streams {
        streams: vec![info(evil, 1)],
        last_position: 1,
    }));
    app.update(Action::Command(Command::Down));
    app.update(Action::Command(Command::Open));
    app.update(Action::Worker(Msg::Rows {
        target: Target::Stream(evil.into()),
        from: 1,
        to: 1,
        rows: vec![EventRow {
            key: 1,
            stream_id: evil.into(),
            version: 1,
            event_type: "T\u{7}\u{9b}".into(),
            timestamp: Some("2024-03-01T09:00:00Z".into()),
            preview: "{\"a\":\"\u{1b}]0;t\u{7}\"}".into(),
            snapshot: false,
        }],
    }));
    let s = screen(&app);
    assert!(has(&s, "Evil-\\x1b[2J\\u{202e}x"), "{s:#?}");
    assert!(has(&s, "T\\x07\\x9b"), "{s:#?}");
    for line in &s {
        assert!(
            !line.chars().any(|c| c.is_control() || c == '\u{202e}'),
            "{line:?}"
        );
    }
}

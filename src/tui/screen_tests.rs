//! Every screen and overlay, rendered through TestBackend at 80×24 and 120×36 and kept as
//! insta snapshots (`src/tui/snapshots/`), plus checks of what a snapshot of symbols
//! cannot show (highlights, escaping, wide terminals).

use eventscope::replay::{Change, Op};
use eventscope::Event;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Modifier;
use ratatui::Terminal;
use serde_json::json;

use super::action::Action;
use super::app::App;
use super::components::Pane;
use super::keymap::{Key, Keymap};
use super::screen::draw;
use super::test_support::{info, state_at};
use super::theme::Theme;
use super::worker::{EventRow, Msg, Target, WorkerError};

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 36)];

fn render(app: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| draw(app, f)).unwrap();
    t
}

fn lines(buf: &Buffer) -> Vec<String> {
    let w = buf.area.width as usize;
    buf.content
        .chunks(w)
        .map(|row| row.iter().map(|c| c.symbol()).collect::<String>())
        .collect()
}

/// Snapshots the app at both sizes, named `<name>@<w>x<h>`.
fn snap(name: &str, app: &App) {
    for (w, h) in SIZES {
        let t = render(app, w, h);
        insta::assert_snapshot!(format!("{name}@{w}x{h}"), t.backend());
    }
}

fn press(app: &mut App, spec: &str) {
    app.update(Action::Key(Key::parse(spec).unwrap()));
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, &c.to_string());
    }
}

const TYPES: [&str; 4] = [
    "AccountOpened",
    "MoneyDeposited",
    "MoneyWithdrawn",
    "MoneyDeposited",
];
const BALANCES: [i64; 4] = [0, 100, 70, 120];

fn new_app() -> App {
    let mut app = App::new(
        Keymap::default(),
        Theme::default(),
        "/tmp/bank.db".into(),
        "Account.jq".into(),
    );
    app.model.layout_name = "native".into();
    app
}

fn bank_app() -> App {
    let mut app = new_app();
    app.update(Action::Worker(Msg::Streams {
        streams: vec![
            info("Account-acc-1", 4),
            info("Account-acc-2", 3),
            info("Order-123", 8),
        ],
        last_position: 15,
        has_times: true,
    }));
    let activity = [
        ("Account-acc-1", 12, "09:04"),
        ("Account-acc-2", 14, "10:30"),
        ("Order-123", 15, "11:00"),
    ]
    .into_iter()
    .map(|(s, p, t)| {
        (
            s.to_string(),
            eventscope::store::Activity {
                last_position: p,
                last_time: Some(format!("2024-03-01T{t}:00Z")),
            },
        )
    })
    .collect();
    app.update(Action::Worker(Msg::Activity(activity)));
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

fn bank_row(v: i64) -> EventRow {
    EventRow {
        key: v,
        stream_id: "Account-acc-1".into(),
        version: v,
        event_type: TYPES[v as usize - 1].into(),
        timestamp: Some(format!("2024-03-01T09:0{v}:00.000Z")),
        preview: format!("{{\"amount\":{}}}", 10 * v),
        snapshot: false,
    }
}

/// Account-acc-1 opened, with its rows and the state at `playhead` delivered.
fn opened_at(playhead: i64) -> App {
    let mut app = bank_app();
    typed(&mut app, "jj");
    press(&mut app, "enter");
    let target = Target::Stream("Account-acc-1".into());
    app.update(Action::Worker(Msg::Rows {
        target: target.clone(),
        from: 1,
        to: 4,
        rows: (1..=4).map(bank_row).collect(),
    }));
    app.update(Action::Worker(Msg::Density {
        target: target.clone(),
        counts: vec![1, 0, 2, 1],
        snapshots: vec![],
    }));
    app.model.seek(playhead);
    deliver_state(&mut app, playhead);
    app.model.outbox.clear();
    app
}

fn deliver_state(app: &mut App, playhead: i64) {
    let old = if playhead > 1 {
        BALANCES[playhead as usize - 2]
    } else {
        0
    };
    let mut s = state_at(
        playhead,
        json!({"id": "acc-1", "owner": "Alice", "balance": BALANCES[playhead as usize - 1]}),
    );
    s.changed = vec![Change {
        path: "/balance".into(),
        op: Op::Changed,
        old: Some(json!(old)),
        new: Some(json!(BALANCES[playhead as usize - 1])),
    }];
    s.event = Some(event(playhead));
    app.update(Action::Worker(Msg::State {
        target: Target::Stream("Account-acc-1".into()),
        key: playhead,
        result: Ok(Box::new(s)),
    }));
}

#[test]
fn screen_before_streams_arrive() {
    snap("loading", &new_app());
}

#[test]
fn screen_stream_list() {
    snap("stream_list", &bank_app());
}

#[test]
fn screen_stream_list_sorted_and_folded() {
    let mut app = bank_app();
    press(&mut app, "o");
    press(&mut app, "o");
    press(&mut app, "j");
    press(&mut app, "enter");
    snap("stream_list_sorted_folded", &app);
}

#[test]
fn screen_filtering() {
    let mut app = bank_app();
    press(&mut app, "/");
    typed(&mut app, "ac2");
    snap("filtering", &app);
}

#[test]
fn screen_state_tab() {
    snap("state_tab", &opened_at(3));
}

#[test]
fn screen_state_tab_focused_with_fold_and_search() {
    let mut app = opened_at(3);
    press(&mut app, "tab");
    press(&mut app, "/");
    typed(&mut app, "owner");
    snap("search_prompt", &app);
    press(&mut app, "enter");
    snap("search_result", &app);
}

#[test]
fn screen_state_tab_with_reducer_error_and_merge() {
    let mut app = opened_at(3);
    let v = app.model.view.as_mut().unwrap();
    if let Some((_, Ok(s))) = v.state.as_mut() {
        s.error = Some("reducer strict.jq failed at Account-acc-1 version 3 (MoneyWithdrawn): no overdrafts here, the balance would go below zero".into());
        s.failed_before = (2, Some(1));
        s.merge = true;
    }
    app.inspector.on_view_changed(&app.model);
    snap("state_error", &app);
}

#[test]
fn screen_state_replaying() {
    let mut app = opened_at(4);
    press(&mut app, "^");
    app.update(Action::Worker(Msg::Progress {
        target: Target::Stream("Account-acc-1".into()),
        key: 1,
        done: 4096,
        total: 500_000,
    }));
    snap("replaying", &app);
}

#[test]
fn screen_event_tab_with_snapshot() {
    let mut app = opened_at(2);
    let v = app.model.view.as_mut().unwrap();
    if let Some((_, Ok(s))) = v.state.as_mut() {
        s.snapshot = Some(Ok(json!({"full_name": "Alice", "balance": 999})));
        s.from_snapshot = Some(2);
    }
    app.inspector.on_open();
    app.inspector.on_view_changed(&app.model);
    press(&mut app, "2");
    snap("event_tab", &app);
    press(&mut app, "tab");
    press(&mut app, "G");
    let t = render(&app, 120, 36);
    let s = lines(t.backend().buffer()).join("\n");
    assert!(s.contains("\"balance\": 999"), "{s}");
    press(&mut app, "1");
    let t = render(&app, 80, 24);
    let s = lines(t.backend().buffer()).join("\n");
    assert!(
        s.contains("started from the stored snapshot at version 2"),
        "{s}"
    );
}

#[test]
fn screen_diff_tab() {
    let mut app = opened_at(4);
    press(&mut app, "3");
    app.update(Action::Worker(Msg::Diff {
        target: Target::Stream("Account-acc-1".into()),
        a: 4,
        b: 4,
        result: Ok(vec![Change {
            path: "/balance".into(),
            op: Op::Changed,
            old: Some(json!(70)),
            new: Some(json!(120)),
        }]),
    }));
    snap("diff_no_marks", &app);
    press(&mut app, "^");
    press(&mut app, "a");
    press(&mut app, "$");
    deliver_state(&mut app, 4);
    app.update(Action::Worker(Msg::Diff {
        target: Target::Stream("Account-acc-1".into()),
        a: 1,
        b: 4,
        result: Ok(vec![
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
        ]),
    }));
    snap("diff_changes", &app);
    app.update(Action::Worker(Msg::Diff {
        target: Target::Stream("Account-acc-1".into()),
        a: 1,
        b: 4,
        result: Err(WorkerError::MarksInTwoStreams {
            a: "Account-acc-1".into(),
            b: "Order-123".into(),
        }),
    }));
    snap("diff_error", &app);
}

#[test]
fn screen_help_overlay() {
    let mut app = opened_at(4);
    press(&mut app, "?");
    snap("help", &app);
    for (w, h) in [(160, 40)] {
        let t = render(&app, w, h);
        insta::assert_snapshot!(format!("help@{w}x{h}"), t.backend());
    }
}

#[test]
fn screen_prompts_and_status() {
    let mut app = opened_at(4);
    press(&mut app, ":");
    typed(&mut app, "12");
    snap("prompt_version", &app);
    press(&mut app, "esc");
    press(&mut app, "t");
    typed(&mut app, "2024-03-01T09:0");
    snap("prompt_time", &app);
    press(&mut app, "esc");
    press(&mut app, ":");
    typed(&mut app, "99");
    press(&mut app, "enter");
    snap("status_past_the_end", &app);
    app.model.status = None;
    app.update(Action::Worker(Msg::Pending {
        after: 15,
        count: 3,
    }));
    snap("pending", &app);
}

#[test]
fn screen_following_all_with_long_positions() {
    let mut app = bank_app();
    app.update(Action::Worker(Msg::Streams {
        streams: vec![info("Account-acc-1", 4), info("Order-123", 8)],
        last_position: 12_345_678,
        has_times: true,
    }));
    app.streams.selected = 0;
    press(&mut app, "enter");
    let rows = (12_345_670..=12_345_678)
        .map(|k| EventRow {
            key: k,
            stream_id: if k % 2 == 0 {
                "Order-123"
            } else {
                "Account-acc-1"
            }
            .into(),
            version: k % 7 + 1,
            event_type: "SomethingHappened".into(),
            timestamp: Some("2024-03-01T09:00:00.123456789Z".into()),
            preview: "{\"n\":1}".into(),
            snapshot: false,
        })
        .collect();
    app.update(Action::Worker(Msg::Rows {
        target: Target::All,
        from: 12_345_578,
        to: 12_345_678,
        rows,
    }));
    press(&mut app, "f");
    snap("all_following", &app);
}

#[test]
fn screen_too_small() {
    let app = bank_app();
    for (w, h) in [(59, 24), (80, 15), (20, 5)] {
        let t = render(&app, w, h);
        insta::assert_snapshot!(format!("too_small@{w}x{h}"), t.backend());
    }
}

#[test]
fn the_playhead_row_and_focus_are_highlighted() {
    let app = opened_at(3);
    let t = render(&app, 80, 24);
    let buf = t.backend().buffer();
    let screen = lines(buf);
    let y = screen
        .iter()
        .position(|l| l.contains("    3 MoneyWithdrawn"))
        .unwrap();
    let at = screen[y].find("    3 MoneyWithdrawn").unwrap();
    let x = (screen[y][..at].chars().count() + 4) as u16;
    assert!(buf[(x, y as u16)].modifier.contains(Modifier::REVERSED));
    let other = screen
        .iter()
        .position(|l| l.contains("    2 MoneyDeposited"))
        .unwrap();
    assert!(!buf[(x, other as u16)].modifier.contains(Modifier::REVERSED));
    // The focused pane (Events, after opening) has the thick border.
    assert!(screen
        .iter()
        .any(|l| l.contains("┏ Events · Account-acc-1")));
}

#[test]
fn nothing_that_fits_is_cut_at_200_columns() {
    let mut app = opened_at(2);
    let long_type = "AccountOwnershipTransferredToAnotherCustomer";
    app.update(Action::Worker(Msg::Rows {
        target: Target::Stream("Account-acc-1".into()),
        from: 1,
        to: 4,
        rows: (1..=4)
            .map(|v| EventRow {
                event_type: long_type.into(),
                ..bank_row(v)
            })
            .collect(),
    }));
    let t = render(&app, 200, 40);
    let s = lines(t.backend().buffer()).join("\n");
    assert!(s.contains(long_type), "{s}");
    assert!(s.contains("{\"amount\":20}"), "{s}");
}

#[test]
fn store_bytes_are_escaped_on_screen() {
    let mut app = new_app();
    let evil = "Evil-\u{1b}[2J\u{202e}x";
    app.update(Action::Worker(Msg::Streams {
        streams: vec![info(evil, 1)],
        last_position: 1,
        has_times: true,
    }));
    typed(&mut app, "jj");
    press(&mut app, "enter");
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
    let t = render(&app, 80, 24);
    let s = lines(t.backend().buffer());
    let all = s.join("\n");
    assert!(all.contains("Evil-\\x1b[2J\\u{202e}x"), "{all}");
    assert!(all.contains("T\\x07\\x9b"), "{all}");
    for line in &s {
        assert!(
            !line.chars().any(|c| c.is_control() || c == '\u{202e}'),
            "{line:?}"
        );
    }
}

#[test]
fn the_light_theme_and_no_color_change_colours_not_layout() {
    let mut dark = opened_at(3);
    let mut light = opened_at(3);
    light.model.theme = Theme::named("light").unwrap();
    let mut plain = opened_at(3);
    plain.model.theme = Theme::plain();
    dark.dirty = false;
    light.dirty = false;
    plain.dirty = false;
    let (d, l, p) = (
        render(&dark, 80, 24),
        render(&light, 80, 24),
        render(&plain, 80, 24),
    );
    let (d, l, p) = (
        d.backend().buffer(),
        l.backend().buffer(),
        p.backend().buffer(),
    );
    assert_eq!(lines(d), lines(l));
    assert_eq!(lines(d), lines(p));
    assert_ne!(d, l, "the light theme has its own colours");
    assert!(
        p.content
            .iter()
            .all(|c| c.fg == ratatui::style::Color::Reset && c.bg == ratatui::style::Color::Reset),
        "NO_COLOR leaves every cell in the terminal's colours"
    );
}

#[test]
fn screen_blame_gutter() {
    let mut app = opened_at(4);
    press(&mut app, "B");
    let blame: std::collections::HashMap<String, i64> =
        [("/id", 1), ("/owner", 1), ("/balance", 4)]
            .into_iter()
            .map(|(p, v)| (p.to_string(), v))
            .collect();
    app.update(Action::Worker(Msg::Blame {
        target: Target::Stream("Account-acc-1".into()),
        key: 4,
        result: Ok(blame),
    }));
    snap("blame_gutter", &app);
    let t = render(&app, 80, 24);
    let s = lines(t.backend().buffer()).join("\n");
    assert!(s.contains("v4 ●   \"balance\": 120  (was 70)"), "{s}");
    assert!(s.contains("v1     \"owner\": \"Alice\""), "{s}");
}

#[test]
fn screen_when_prompt_and_marks() {
    let mut app = opened_at(4);
    press(&mut app, "w");
    typed(&mut app, ".balance < 100");
    snap("when_prompt", &app);
    press(&mut app, "enter");
    app.update(Action::Worker(Msg::When {
        target: Target::Stream("Account-acc-1".into()),
        predicate: ".balance < 100".into(),
        result: Ok(vec![1, 3]),
    }));
    deliver_state(&mut app, 1);
    snap("when_marks", &app);
    let t = render(&app, 80, 24);
    let s = lines(t.backend().buffer()).join("\n");
    assert!(
        s.contains('◆'),
        "the timeline marks where it turns true: {s}"
    );
}

#[test]
fn screen_what_if_banner_and_struck_rows() {
    let mut app = opened_at(4);
    press(&mut app, "left");
    press(&mut app, "d");
    press(&mut app, "$");
    let mut s = state_at(4, json!({"id": "acc-1", "owner": "Alice", "balance": 150}));
    s.what_if = vec![3];
    app.update(Action::Worker(Msg::State {
        target: Target::Stream("Account-acc-1".into()),
        key: 4,
        result: Ok(Box::new(s)),
    }));
    snap("what_if", &app);
    let t = render(&app, 80, 24);
    let buf = t.backend().buffer();
    let screen = lines(buf);
    assert!(screen
        .iter()
        .any(|l| l.contains("WHAT-IF without version(s) 3")));
    let y = screen
        .iter()
        .position(|l| l.contains("✗  3 MoneyWithdrawn"))
        .expect("the skipped row is marked");
    let at = screen[y].find("✗  3").unwrap();
    let x = (screen[y][..at].chars().count() + 4) as u16;
    assert!(buf[(x, y as u16)].modifier.contains(Modifier::CROSSED_OUT));
}

#[test]
fn screen_category_table() {
    let mut app = bank_app();
    press(&mut app, "j");
    press(&mut app, "enter");
    let target = Target::Category("Account".into());
    app.update(Action::Worker(Msg::Rows {
        target: target.clone(),
        from: 1,
        to: 7,
        rows: (1..=7)
            .map(|k| EventRow {
                key: k,
                stream_id: if k % 2 == 0 {
                    "Account-acc-2"
                } else {
                    "Account-acc-1"
                }
                .into(),
                version: (k + 1) / 2,
                ..bank_row(1)
            })
            .collect(),
    }));
    app.update(Action::Worker(Msg::CategoryState {
        target,
        key: 7,
        result: Ok(vec![
            eventscope::replay::StreamState {
                stream_id: "Account-acc-1".into(),
                version: 4,
                state: json!({"id": "acc-1", "owner": "Alice", "balance": 120, "tags": ["vip"]}),
                error: None,
            },
            eventscope::replay::StreamState {
                stream_id: "Account-acc-2".into(),
                version: 3,
                state: json!({"id": "acc-2", "owner": "Bob", "balance": 175}),
                error: None,
            },
        ]),
    }));
    snap("category_table", &app);
    let t = render(&app, 120, 36);
    let s = lines(t.backend().buffer()).join("\n");
    assert!(s.contains("Account-acc-2       3 acc-2 Bob   175"), "{s}");
    assert!(!s.contains("loading"), "{s}");
}

#[test]
fn screen_find_and_related() {
    let mut app = opened_at(4);
    press(&mut app, "/");
    typed(&mut app, "?.data.amount > 15");
    snap("find_prompt", &app);
    press(&mut app, "enter");
    app.update(Action::Worker(Msg::Found {
        target: Target::Stream("Account-acc-1".into()),
        find: crate::tui::worker::FindSpec::Jq(".data.amount > 15".into()),
        keys: vec![2, 3],
        rows: vec![],
        scanned: 3,
        next: Some(4),
        result: Ok(()),
    }));
    snap("find_marks", &app);
    let line = |pos, stream: &str, v, rel: &str, depth| crate::tui::worker::RelatedLine {
        depth,
        relation: rel.into(),
        position: pos,
        stream_id: stream.into(),
        version: v,
        event_type: "T".into(),
        timestamp: Some("2024-03-01T09:00:00Z".into()),
    };
    app.update(Action::Worker(Msg::Related {
        position: 12,
        result: Ok((
            "correlationId corr-1".into(),
            vec![
                line(3, "Account-acc-1", 1, "cause", 0),
                line(6, "Account-acc-1", 2, "cause", 1),
                line(12, "Account-acc-1", 4, "asked", 2),
                line(13, "Order-123", 1, "effect", 3),
            ],
        )),
    }));
    snap("related", &app);
}

#[test]
fn screen_stats_tab() {
    let mut app = opened_at(4);
    press(&mut app, "5");
    let st = crate::tui::test_support::account_stats(
        "1m",
        &[
            ("2024-03-01T09:01:00Z", 1),
            ("2024-03-01T09:02:00Z", 1),
            ("2024-03-01T09:03:00Z", 1),
            ("2024-03-01T09:04:00Z", 1),
        ],
    );
    app.update(Action::Worker(Msg::Stats {
        target: Target::Stream("Account-acc-1".into()),
        result: Ok(Box::new(st)),
    }));
    snap("stats_tab", &app);
}

/// The balance plotted from the State tab with these points, at 120×36.
fn plotted(points: Vec<(i64, f64)>) -> Terminal<TestBackend> {
    let mut app = opened_at(3);
    press(&mut app, "tab");
    press(&mut app, "down");
    press(&mut app, "down");
    press(&mut app, "down");
    press(&mut app, "p");
    app.update(Action::Worker(Msg::Plot {
        target: Target::Stream("Account-acc-1".into()),
        path: "/balance".into(),
        result: Ok(points),
    }));
    render(&app, 120, 36)
}

#[test]
fn screen_plot_of_a_field() {
    let t = plotted(vec![(1, 0.0), (2, 100.0), (3, 70.0), (4, 120.0)]);
    insta::assert_snapshot!("plot@120x36", t.backend());
    let s = lines(t.backend().buffer()).join("\n");
    assert!(s.contains("/balance across versions"), "{s}");
}

#[test]
fn a_plot_of_huge_values_places_them_and_labels_them_short() {
    let t = plotted(vec![(1, -1e308), (2, 1e308), (3, 0.0), (4, f64::MAX)]);
    let s = lines(t.backend().buffer()).join("\n");
    assert!(s.contains("-1.000e308") && s.contains("1.798e308"), "{s}");
    assert!(
        s.contains('⣀')
            || s.contains('⠉')
            || s.chars().any(|c| ('\u{2801}'..='\u{28ff}').contains(&c)),
        "points drawn: {s}"
    );
    assert!(
        !s.contains("10000000000000000000"),
        "no 309-digit label: {s}"
    );
}

/// `+` puts the focused pane on the whole screen and `_` brings the others back; each
/// pane zoomed draws, and the other two are gone.
#[test]
fn screen_zoomed_panes() {
    let mut app = opened_at(4);
    for (pane, present, gone) in [
        (Pane::Events, "MoneyDeposited", "Streams"),
        (Pane::Inspector, "\"balance\"", "MoneyDeposited"),
        (Pane::Streams, "Account", "MoneyDeposited"),
    ] {
        app.focus = pane;
        deliver_state(&mut app, 4);
        press(&mut app, "+");
        assert_eq!(app.zoomed, Some(pane));
        for (w, h) in SIZES {
            let screen = lines(render(&app, w, h).backend().buffer()).join("\n");
            assert!(screen.contains(present), "{pane:?} zoomed:\n{screen}");
            assert!(!screen.contains(gone), "{pane:?} zoomed:\n{screen}");
        }
        press(&mut app, "_");
        assert_eq!(app.zoomed, None);
    }
    app.focus = Pane::Events;
    press(&mut app, "+");
    snap("zoomed_events", &app);
}

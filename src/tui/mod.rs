//! The full-screen terminal UI. The UI thread reads keys and draws; a worker thread does
//! all store reads and replays (see `worker`).

mod action;
mod app;
pub mod guard;
mod json_view;
mod keymap;
mod ui;
mod worker;
pub mod worker_process;

#[cfg(test)]
mod test_support;

use std::io::{stdout, IsTerminal};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use ratatui::crossterm::event::{
    self, DisableMouseCapture, EnableMouseCapture, Event, KeyCode, KeyEventKind, MouseButton,
    MouseEventKind,
};
use ratatui::crossterm::execute;
use ratatui::layout::Rect;

use action::Action;
use app::App;
use keymap::{Key, Keymap};
use worker::WorkerConfig;

pub struct Options {
    pub store: PathBuf,
    pub open: eventscope::store::OpenOptions,
    pub reducer: Option<PathBuf>,
    pub from_snapshots: bool,
    pub snapshot_map: Option<PathBuf>,
    pub reducer_timeout: Duration,
    pub reducer_memory: u64,
}

/// How often the store is asked for events the UI has not loaded, while not following.
const PENDING_EVERY: Duration = Duration::from_secs(1);

/// How long the loop waits for input before looking at the worker's answers again.
const TICK: Duration = Duration::from_millis(20);

pub fn run(options: Options) -> Result<()> {
    // Everything that can fail with a clear message fails before the screen is taken.
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(anyhow!(
            "the terminal UI needs a terminal; without one, use a command such as `eventscope streams {}` (see --help)",
            options.store.display()
        ));
    }
    let keymap = Keymap::load().map_err(|e| anyhow!("keymap {e}"))?;
    eventscope::store::Store::open_with(&options.store, &options.open)
        .with_context(|| format!("opening {}", options.store.display()))?;
    let reducer_name = match &options.reducer {
        Some(p) => {
            eventscope::replay::Reducer::load(p)?;
            p.display().to_string()
        }
        None => "built-in merge".to_string(),
    };
    let store_name = options.store.display().to_string();

    let config = WorkerConfig {
        store: options.store,
        open: options.open,
        reducer: options.reducer,
        from_snapshots: options.from_snapshots,
        snapshot_map: options.snapshot_map,
        reducer_timeout: options.reducer_timeout,
        reducer_memory: options.reducer_memory,
        skips: Vec::new(),
    };
    let channels = start_worker(config.clone())?;

    let mut terminal = ratatui::try_init().context("setting up the terminal")?;
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = execute!(stdout(), DisableMouseCapture);
        ratatui::restore();
        hook(info);
    }));
    let _ = execute!(stdout(), EnableMouseCapture);

    let mut app = App::new(keymap, store_name, reducer_name);
    app.from_snapshots = config.from_snapshots;
    let result = event_loop(&mut terminal, &mut app, channels, config);

    let _ = execute!(stdout(), DisableMouseCapture);
    ratatui::restore();
    result
}

use worker_process::Channels;

fn start_worker(config: WorkerConfig) -> Result<Channels> {
    worker_process::spawn(&config)
}

/// Ends a worker child: closing its requests lets an idle one exit (closing the store); a
/// stuck one is killed. On quit this waits (briefly), so the store is closed on return.
fn end_worker(channels: Channels, wait: bool) {
    let (requests, answers, process) = channels;
    drop(requests);
    drop(answers);
    if wait {
        process.finish();
    } else {
        std::thread::spawn(move || process.finish());
    }
}

fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    app: &mut App,
    mut channels: Channels,
    mut config: WorkerConfig,
) -> Result<()> {
    let mut asked_pending = std::time::Instant::now();
    loop {
        // While not following, count what has arrived, for "N new events".
        if !app.following && app.streams_loaded && asked_pending.elapsed() >= PENDING_EVERY {
            app.outbox.push(worker::Req::Pending(app.last_position));
            asked_pending = std::time::Instant::now();
        }
        if std::mem::take(&mut app.replace_worker) {
            // The old worker is stuck inside the reducer and cannot be stopped; its
            // channels are dropped and a new one skips the events that hung it.
            config.skips = app.timed_out.clone();
            config.from_snapshots = app.from_snapshots;
            let old = std::mem::replace(&mut channels, start_worker(config.clone())?);
            end_worker(old, false);
        }
        for req in app.outbox.drain(..) {
            // A worker that died says so through its answers (Msg::WorkerDied).
            let _ = channels.0.send(req);
        }
        terminal.draw(|f| ui::draw(app, f))?;
        if app.quit {
            end_worker(channels, true);
            return Ok(());
        }
        if event::poll(TICK)? {
            let size = terminal.size()?;
            let area = Rect::new(0, 0, size.width, size.height);
            // Handle every input that is already waiting before drawing again.
            loop {
                if let Some(action) = to_action(app, event::read()?, area) {
                    app.update(action);
                }
                if app.quit || !event::poll(Duration::ZERO)? {
                    break;
                }
            }
        }
        while let Ok(msg) = channels.1.try_recv() {
            app.update(Action::Worker(msg));
            if app.replace_worker {
                break;
            }
        }
    }
}

fn to_action(app: &App, event: Event, area: Rect) -> Option<Action> {
    match event {
        Event::Key(k) if k.kind == KeyEventKind::Press => {
            let key = Key::from_event(&k);
            // Ctrl-C quits whatever the keymap or the mode says.
            if key.ctrl && k.code == KeyCode::Char('c') {
                return Some(Action::Command(action::Command::Quit));
            }
            if app.taking_text() {
                return match k.code {
                    KeyCode::Enter => Some(Action::Submit),
                    KeyCode::Backspace => Some(Action::Backspace),
                    KeyCode::Esc => Some(Action::Command(action::Command::Cancel)),
                    KeyCode::Char('c') if key.ctrl => Some(Action::Command(action::Command::Quit)),
                    KeyCode::Char(c) if !key.ctrl => Some(Action::Input(c)),
                    _ => None,
                };
            }
            app.keymap.command_for(key).map(Action::Command)
        }
        Event::Mouse(m)
            if matches!(
                m.kind,
                MouseEventKind::Down(MouseButton::Left) | MouseEventKind::Drag(MouseButton::Left)
            ) =>
        {
            let areas = ui::layout(area)?;
            ui::slider_fraction(areas.timeline, m.column, m.row).map(Action::SeekFraction)
        }
        _ => None,
    }
}

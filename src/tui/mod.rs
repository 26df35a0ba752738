//! The full-screen terminal UI. The UI thread waits on one channel that carries terminal
//! input, the worker's answers and nothing else, wakes once a second for housekeeping, and
//! draws only when something changed. A worker process does all store reads and replays.

mod action;
mod app;
mod clipboard;
mod components;
mod guard;
mod history;
mod keymap;
mod model;
mod reducer_watch;
mod screen;
#[cfg(test)]
mod screen_tests;
mod theme;
mod worker;

#[cfg(test)]
mod test_support;

use std::io::{stdout, IsTerminal};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use ratatui::crossterm::event::{
    self, DisableMouseCapture, EnableMouseCapture, Event, KeyEventKind,
};
use ratatui::crossterm::execute;
use ratatui::layout::Rect;

use action::Action;
use app::App;
use keymap::{Key, Keymap};
use theme::Theme;
use worker::process::Channels;
use worker::{Msg, WorkerConfig};

pub use keymap::key_table;
pub use worker::process::{is_worker, serve as serve_worker};

/// The store and replay settings the UI opens with, as the command line gave them; the
/// worker gets them too.
pub use crate::cli::UiRequest as Options;

/// How often the loop wakes with nothing to do: to count new events, look at the reducer
/// file and retry what met a lock.
const TICK: Duration = Duration::from_secs(1);

/// Everything the UI thread waits for, on one channel.
enum Input {
    Terminal(Event),
    /// An answer from the worker of this generation (older workers' answers are dropped).
    Worker(u64, Msg),
    /// SIGTERM, SIGHUP, SIGINT or SIGQUIT: quit as `q` does, then exit 128 + the signal.
    Signal(i32),
}

/// The signals that end the TUI cleanly (terminal restored, worker ended, sidecars gone).
pub const ENDING_SIGNALS: [i32; 4] = [
    signal_hook::consts::SIGTERM,
    signal_hook::consts::SIGHUP,
    signal_hook::consts::SIGINT,
    signal_hook::consts::SIGQUIT,
];

/// Opens the UI: in a guarded child process (so even an abort gives the terminal back)
/// when this process is the one the user started.
pub fn open(options: Options) -> Result<()> {
    if stdout().is_terminal() && guard::should_guard() {
        // The child may end without unwinding; what SQLite left beside the store is
        // cleared here then.
        let sidecars = std::fs::canonicalize(&options.store)
            .ok()
            .map(|real| eventscope::store::Sidecars::note(&real));
        let code = guard::run_guarded()?;
        if let Some(s) = sidecars {
            s.clean_up();
        }
        std::process::exit(code);
    }
    run(options)
}

fn run(options: Options) -> Result<()> {
    // Everything that can fail with a clear message fails before the screen is taken.
    if !stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(anyhow!(
            "the terminal UI needs a terminal; without one, use a command such as `eventscope streams {}` (see --help)",
            eventscope::store::display_name(&options.store)
        ));
    }
    let keymap = Keymap::load().map_err(|e| anyhow!("keymap {e}"))?;
    let theme = Theme::load().map_err(|e| anyhow!("theme {e}"))?;
    let store_name = eventscope::store::display_name(&options.store);
    let layout_name = eventscope::store::open_source(&options.store, &options.open)
        .with_context(|| format!("opening {store_name}"))?
        .format_name();
    let reducer_name = match &options.reducer {
        Some(p) => {
            eventscope::replay::Reducer::load(p)?;
            p.display().to_string()
        }
        None => "built-in merge".to_string(),
    };
    let reducer_name =
        eventscope::project::named_from(&reducer_name, options.reducer_origin.as_deref());
    let config = WorkerConfig {
        ui: options,
        skips: Vec::new(),
        careful: false,
    };
    let (tx, rx) = mpsc::channel::<Input>();
    let workers = Workers {
        tx: tx.clone(),
        generation: 0,
    };
    let mut workers = workers;
    let channels = workers.start(&config)?;

    let mut terminal = ratatui::try_init().context("setting up the terminal")?;
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = execute!(stdout(), DisableMouseCapture);
        ratatui::restore();
        hook(info);
    }));
    let _ = execute!(stdout(), EnableMouseCapture);
    std::thread::Builder::new()
        .name("terminal-input".into())
        .spawn(move || {
            while let Ok(e) = event::read() {
                if tx.send(Input::Terminal(e)).is_err() {
                    return;
                }
            }
        })
        .context("starting the input reader")?;

    let to_loop = workers.tx.clone();
    let mut signals =
        signal_hook::iterator::Signals::new(ENDING_SIGNALS).context("handling signals")?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                let _ = to_loop.send(Input::Signal(signal));
            }
        })
        .context("starting the signal handler")?;

    let mut app = App::new(keymap, theme, store_name, reducer_name);
    app.model.layout_name = layout_name.to_string();
    clipboard::probe();
    app.prompt_history = history::History::load();
    app.model.from_snapshots = config.ui.from_snapshots;
    app.model.read_model = config.ui.read_model.is_some();
    app.model.upcasters_name = config.ui.upcasters.as_ref().map(|dir| {
        eventscope::project::named_from(
            &dir.display().to_string(),
            config.ui.upcasters_origin.as_deref(),
        )
    });
    let result = event_loop(&mut terminal, &mut app, rx, channels, workers, config);

    let _ = execute!(stdout(), DisableMouseCapture);
    ratatui::restore();
    match result {
        // Ended by a signal, after the same cleanup as a quit: say so in the exit code.
        Ok(Some(signal)) => std::process::exit(128 + signal),
        Ok(None) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Starts worker processes whose answers come in on the UI's channel, tagged so that a
/// replaced worker's last words are dropped.
struct Workers {
    tx: mpsc::Sender<Input>,
    generation: u64,
}

impl Workers {
    fn start(&mut self, config: &WorkerConfig) -> Result<Channels> {
        self.generation += 1;
        let generation = self.generation;
        let tx = self.tx.clone();
        worker::process::spawn(config, move |msg| {
            tx.send(Input::Worker(generation, msg)).is_ok()
        })
    }
}

/// Ends a worker child: closing its requests lets an idle one exit (closing the store); a
/// stuck one is killed. On quit this waits (briefly), so the store is closed on return.
fn end_worker(channels: Channels, wait: bool) {
    let (requests, process) = channels;
    drop(requests);
    if wait {
        process.finish();
    } else {
        std::thread::spawn(move || process.finish());
    }
}

fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    app: &mut App,
    rx: mpsc::Receiver<Input>,
    mut channels: Channels,
    mut workers: Workers,
    mut config: WorkerConfig,
) -> Result<Option<i32>> {
    let mut next_tick = Instant::now() + TICK;
    let mut ended_by = None;
    let mut reducer = config
        .ui
        .reducer
        .as_deref()
        .map(reducer_watch::ReducerWatch::new);
    let mut mouse = true;
    loop {
        if std::mem::take(&mut app.model.replace_worker) {
            // The old worker is stuck inside the reducer and cannot be stopped; its
            // channels are dropped and a new one skips the events that hung it.
            config.skips = app.model.timed_out.clone();
            config.careful = app.model.worker_deaths > 0;
            config.ui.from_snapshots = app.model.from_snapshots;
            if app.model.upcasters_off {
                config.ui.upcasters = None;
            }
            let old = std::mem::replace(&mut channels, workers.start(&config)?);
            end_worker(old, false);
        }
        for req in app.model.outbox.drain(..) {
            // A worker that died says so through its answers (Msg::WorkerDied).
            let _ = channels.0.send(req);
        }
        if app.model.mouse != mouse {
            mouse = app.model.mouse;
            let _ = if mouse {
                execute!(stdout(), EnableMouseCapture)
            } else {
                execute!(stdout(), DisableMouseCapture)
            };
        }
        if std::mem::take(&mut app.dirty) {
            terminal.draw(|f| screen::draw(app, f))?;
        }
        if let Some(text) = app.model.clipboard.take() {
            // OSC 52: the terminal (or tmux, or the SSH client's terminal) sets its
            // clipboard; no display server needed.
            use base64::Engine;
            use std::io::Write;
            let encoded = base64::engine::general_purpose::STANDARD.encode(text);
            let mut out = stdout();
            let _ = write!(out, "\x1b]52;c;{encoded}\x07");
            let _ = out.flush();
        }
        if app.model.quit {
            end_worker(channels, true);
            return Ok(ended_by);
        }
        let wait = next_tick.saturating_duration_since(Instant::now());
        let first = match rx.recv_timeout(wait) {
            Ok(input) => Some(input),
            Err(mpsc::RecvTimeoutError::Timeout) => None,
            Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(ended_by),
        };
        if Instant::now() >= next_tick {
            next_tick = Instant::now() + TICK;
            app.update(Action::Tick);
            if reducer.as_mut().is_some_and(|w| w.changed()) {
                app.model.outbox.push(worker::Req::ReloadReducer);
            }
        }
        // Everything already waiting is handled before drawing again.
        let size = terminal.size()?;
        let area = Rect::new(0, 0, size.width, size.height);
        for input in first
            .into_iter()
            .chain(std::iter::from_fn(|| rx.try_recv().ok()))
        {
            match input {
                Input::Terminal(e) => {
                    for action in to_actions(e, area) {
                        app.update(action);
                    }
                }
                Input::Worker(g, msg) if g == workers.generation => {
                    app.update(Action::Worker(msg));
                }
                Input::Worker(..) => {}
                Input::Signal(signal) => {
                    ended_by = Some(signal);
                    app.model.quit = true;
                }
            }
            if app.model.quit || app.model.replace_worker {
                break;
            }
        }
    }
}

fn to_actions(event: Event, area: Rect) -> Vec<Action> {
    match event {
        Event::Key(k) if k.kind == KeyEventKind::Press => key_actions(&k),
        Event::Mouse(m) => vec![Action::Mouse(m, area)],
        // Drawn again at the new size.
        Event::Resize(..) => vec![Action::Redraw],
        _ => Vec::new(),
    }
}

/// A key as actions. No Alt binding exists, so Alt-<key> is what a terminal makes of `Esc`
/// then the key typed within its escape timeout (tmux's `escape-time`): both keys, in
/// order, so `Esc` `q` still closes what is open and then quits.
fn key_actions(k: &ratatui::crossterm::event::KeyEvent) -> Vec<Action> {
    use ratatui::crossterm::event::{KeyCode, KeyModifiers};
    if !k.modifiers.contains(KeyModifiers::ALT) {
        return vec![Action::Key(Key::from_event(k))];
    }
    let mut plain = *k;
    plain.modifiers.remove(KeyModifiers::ALT);
    let esc = ratatui::crossterm::event::KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE);
    vec![
        Action::Key(Key::from_event(&esc)),
        Action::Key(Key::from_event(&plain)),
    ]
}

#[cfg(test)]
mod key_tests {
    use super::*;
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    #[test]
    fn alt_of_a_key_is_read_as_escape_then_the_key() {
        let keys = |e: KeyEvent| -> Vec<Key> {
            key_actions(&e)
                .into_iter()
                .map(|a| match a {
                    Action::Key(k) => k,
                    _ => panic!("a key"),
                })
                .collect()
        };
        let q = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
        let alt_q = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::ALT);
        let esc = KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE);
        assert_eq!(keys(q), vec![Key::from_event(&q)]);
        assert_eq!(
            keys(alt_q),
            vec![Key::from_event(&esc), Key::from_event(&q)]
        );
    }
}

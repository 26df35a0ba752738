//! The real binary in a pseudo-terminal of the test's own (portable-pty), its output read
//! into a terminal screen (vt100) as a user's terminal would draw it. Keys are named as
//! tmux names them (`Enter`, `C-o`, `F1`); any other text is typed as it is.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

use portable_pty::{native_pty_system, Child, CommandBuilder, MasterPty, PtySize};

/// How long to wait for a screen; `EVENTSCOPE_TEST_PATIENCE` multiplies it on slow
/// machines.
pub fn patience() -> Duration {
    let scale: u64 = std::env::var("EVENTSCOPE_TEST_PATIENCE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    Duration::from_secs(60 * scale)
}

/// Tests that measure the machine take it alone: the others hold this for reading.
pub static EXCLUSIVE: RwLock<()> = RwLock::new(());

pub struct Term {
    /// The user's config and data directories (XDG), this test's own.
    pub config: tempfile::TempDir,
    size: (u16, u16),
    screen: Arc<Mutex<vt100::Parser>>,
    writer: Mutex<Box<dyn Write + Send>>,
    child: Box<dyn Child + Send + Sync>,
    _master: Box<dyn MasterPty + Send>,
    _shared: Option<RwLockReadGuard<'static, ()>>,
}

/// The bytes a terminal sends for a key tmux would name so, or the text itself.
fn key_bytes(key: &str) -> Vec<u8> {
    let named: Option<&[u8]> = match key {
        "Enter" => Some(b"\r"),
        "Escape" => Some(b"\x1b"),
        "Tab" => Some(b"\t"),
        "BTab" => Some(b"\x1b[Z"),
        "Up" => Some(b"\x1b[A"),
        "Down" => Some(b"\x1b[B"),
        "Right" => Some(b"\x1b[C"),
        "Left" => Some(b"\x1b[D"),
        "Home" => Some(b"\x1b[H"),
        "End" => Some(b"\x1b[F"),
        "PageUp" | "PPage" => Some(b"\x1b[5~"),
        "PageDown" | "NPage" => Some(b"\x1b[6~"),
        "F1" => Some(b"\x1bOP"),
        "BSpace" => Some(b"\x7f"),
        "Space" => Some(b" "),
        _ => None,
    };
    if let Some(bytes) = named {
        return bytes.to_vec();
    }
    match key.strip_prefix("C-").map(str::as_bytes) {
        Some([c]) if c.is_ascii_alphabetic() => vec![c.to_ascii_lowercase() & 0x1f],
        _ => key.as_bytes().to_vec(),
    }
}

impl Term {
    /// `command` through `sh`, in a terminal `width`×`height`, beside the other tests.
    pub fn start(command: &str, width: u16, height: u16) -> Term {
        let shared = EXCLUSIVE.read().unwrap_or_else(|e| e.into_inner());
        let mut t = Term::start_alone(command, width, height);
        t._shared = Some(shared);
        t
    }

    /// For a test that already holds `EXCLUSIVE` for writing.
    pub fn start_alone(command: &str, width: u16, height: u16) -> Term {
        let config = tempfile::tempdir().unwrap();
        let (screen, writer, child, master) = spawn(config.path(), command, (width, height));
        Term {
            config,
            size: (width, height),
            screen,
            writer: Mutex::new(writer),
            child,
            _master: master,
            _shared: None,
        }
    }

    /// Runs `command` anew in a fresh terminal of the same size (a second session of the
    /// same user: the same config and data directories).
    pub fn respawn(&mut self, command: &str) {
        let _ = self.child.kill();
        let (screen, writer, child, master) = spawn(self.config.path(), command, self.size);
        self.screen = screen;
        self.writer = Mutex::new(writer);
        self.child = child;
        self._master = master;
    }

    /// Presses each key (tmux's names) or types each text, one write each.
    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.send(&key_bytes(k));
        }
    }

    /// Types `text` as it is, whatever it looks like.
    pub fn type_text(&self, text: &str) {
        self.send(text.as_bytes());
    }

    pub fn send(&self, bytes: &[u8]) {
        let mut w = self.writer.lock().unwrap();
        w.write_all(bytes).unwrap();
        w.flush().unwrap();
    }

    /// The screen's text, a line per row, trailing blanks left out.
    pub fn screen(&self) -> String {
        let parser = self.screen.lock().unwrap();
        parser
            .screen()
            .rows(0, self.size.0)
            .map(|row| row.trim_end().to_string())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Whether the alternate screen is on and the cursor hidden (a full-screen UI).
    pub fn full_screen_ui(&self) -> (bool, bool) {
        let parser = self.screen.lock().unwrap();
        let s = parser.screen();
        (s.alternate_screen(), s.hide_cursor())
    }

    /// Waits until every text is on the screen at once, and returns that screen.
    pub fn wait_for(&self, texts: &[&str]) -> String {
        self.wait_until_said(&format!("{texts:?}"), |screen| {
            texts.iter().all(|t| screen.contains(t))
        })
    }

    /// Waits until `ready` holds of the screen, and returns that screen.
    pub fn wait_until(&self, ready: impl Fn(&str) -> bool) -> String {
        self.wait_until_said("a screen the test describes", ready)
    }

    pub fn wait_until_said(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        wait_on(what, || self.screen(), ready)
    }
}

/// Reads `screen` until `ready` holds of it (and returns it), or fails saying `what` was
/// waited for, with the screen, once the patience runs out.
pub fn wait_on(what: &str, screen: impl Fn() -> String, ready: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + patience();
    loop {
        let now = screen();
        if ready(&now) {
            return now;
        }
        if Instant::now() > deadline {
            panic!("waited for {what}; the screen is:\n{now}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

type Spawned = (
    Arc<Mutex<vt100::Parser>>,
    Box<dyn Write + Send>,
    Box<dyn Child + Send + Sync>,
    Box<dyn MasterPty + Send>,
);

/// The shell line in a new terminal (its modes as a login terminal's: `stty sane`): the
/// command with the test's own XDG directories, then its exit status on screen; a thread
/// draws what it writes.
fn spawn(config: &Path, command: &str, (width, height): (u16, u16)) -> Spawned {
    let pair = native_pty_system()
        .openpty(PtySize {
            rows: height,
            cols: width,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let shell = format!(
        "stty sane; cd {dir} && XDG_CONFIG_HOME={cfg} XDG_DATA_HOME={cfg}/data {command}; echo EXITED $?; sleep 30",
        dir = env!("CARGO_MANIFEST_DIR"),
        cfg = config.display()
    );
    let mut cmd = CommandBuilder::new("sh");
    cmd.args(["-c", &shell]);
    cmd.env("TERM", "xterm-256color");
    cmd.env_remove("TMUX");
    cmd.env_remove("EVENTSCOPE_REDUCER");
    let child = pair.slave.spawn_command(cmd).unwrap();
    drop(pair.slave);
    let size = |n: u16| std::num::NonZeroU16::new(n.max(1)).unwrap();
    let screen = Arc::new(Mutex::new(vt100::Parser::new(size(height), size(width), 0)));
    let mut reader = pair.master.try_clone_reader().unwrap();
    let drawn = screen.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            drawn.lock().unwrap().process(&buf[..n]);
        }
    });
    let writer = pair.master.take_writer().unwrap();
    (screen, writer, child, pair.master)
}

impl Drop for Term {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

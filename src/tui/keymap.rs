//! The keymap as data: every binding with its help text, from which the help overlay and the
//! footer are drawn. A user file (`keymap.json` in the config directory) can rebind any
//! command: `{"quit": ["q", "ctrl-c"], "step_forward": ["right", "n"]}`.

use std::path::PathBuf;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Command;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
    pub shift: bool,
}

impl Key {
    /// The key as the keymap sees it: the case of a letter already says Shift.
    pub fn from_event(e: &KeyEvent) -> Key {
        let shift = e.modifiers.contains(KeyModifiers::SHIFT)
            && !matches!(e.code, KeyCode::Char(_) | KeyCode::BackTab);
        Key {
            code: e.code,
            ctrl: e.modifiers.contains(KeyModifiers::CONTROL),
            shift,
        }
    }

    /// Reads `q`, `ctrl-c`, `shift-left`, `pagedown`, `space`, `?` and the like.
    pub fn parse(spec: &str) -> Result<Key, String> {
        let mut ctrl = false;
        let mut shift = false;
        let mut rest = spec;
        loop {
            let lower = rest.to_ascii_lowercase();
            if lower.starts_with("ctrl-") && rest.len() > 5 {
                ctrl = true;
                rest = &rest[5..];
            } else if lower.starts_with("shift-") && rest.len() > 6 {
                shift = true;
                rest = &rest[6..];
            } else {
                break;
            }
        }
        let code = match rest.to_ascii_lowercase().as_str() {
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "pageup" => KeyCode::PageUp,
            "pagedown" => KeyCode::PageDown,
            "enter" => KeyCode::Enter,
            "esc" => KeyCode::Esc,
            "tab" if shift => {
                shift = false;
                KeyCode::BackTab
            }
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "space" => KeyCode::Char(' '),
            "backspace" => KeyCode::Backspace,
            _ => {
                let mut chars = rest.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => KeyCode::Char(c),
                    _ => return Err(format!("unknown key {spec:?}")),
                }
            }
        };
        if let KeyCode::Char(c) = code {
            if shift && c.is_ascii_alphabetic() {
                return Ok(Key {
                    code: KeyCode::Char(c.to_ascii_uppercase()),
                    ctrl,
                    shift: false,
                });
            }
        }
        Ok(Key { code, ctrl, shift })
    }

    /// How help and the footer show the key.
    pub fn label(&self) -> String {
        let base = match self.code {
            KeyCode::Left => "←".to_string(),
            KeyCode::Right => "→".to_string(),
            KeyCode::Up => "↑".to_string(),
            KeyCode::Down => "↓".to_string(),
            KeyCode::Home => "Home".to_string(),
            KeyCode::End => "End".to_string(),
            KeyCode::PageUp => "PgUp".to_string(),
            KeyCode::PageDown => "PgDn".to_string(),
            KeyCode::Enter => "Enter".to_string(),
            KeyCode::Esc => "Esc".to_string(),
            KeyCode::Tab => "Tab".to_string(),
            KeyCode::BackTab => "Shift-Tab".to_string(),
            KeyCode::Backspace => "Backspace".to_string(),
            KeyCode::Char(' ') => "Space".to_string(),
            KeyCode::Char(c) => c.to_string(),
            other => format!("{other:?}"),
        };
        let mut s = String::new();
        if self.ctrl {
            s.push_str("Ctrl-");
        }
        if self.shift {
            s.push_str("Shift-");
        }
        s + &base
    }
}

/// One command with the keys that run it.
#[derive(Debug, Clone)]
pub struct Binding {
    pub command: Command,
    /// The name a keymap file uses.
    pub name: &'static str,
    pub keys: Vec<Key>,
    pub help: &'static str,
    pub section: &'static str,
    /// The footer's short name for it, when the footer shows it.
    pub footer: Option<&'static str>,
}

#[derive(Debug, Clone)]
pub struct Keymap {
    pub bindings: Vec<Binding>,
}

/// Command, name in keymap files, keys, help, help section, footer label.
type DefaultBinding = (
    Command,
    &'static str,
    &'static [&'static str],
    &'static str,
    &'static str,
    Option<&'static str>,
);

const DEFAULTS: &[DefaultBinding] = &[
    (
        Command::FocusNext,
        "focus_next",
        &["tab"],
        "next pane",
        "Panes",
        None,
    ),
    (
        Command::FocusPrev,
        "focus_prev",
        &["backtab"],
        "previous pane",
        "Panes",
        None,
    ),
    (Command::Up, "up", &["up", "k"], "move up", "Panes", None),
    (
        Command::Down,
        "down",
        &["down", "j"],
        "move down",
        "Panes",
        None,
    ),
    (
        Command::PageUp,
        "page_up",
        &["pageup"],
        "page up",
        "Panes",
        None,
    ),
    (
        Command::PageDown,
        "page_down",
        &["pagedown"],
        "page down",
        "Panes",
        None,
    ),
    (
        Command::Open,
        "open",
        &["enter", "space"],
        "open stream / fold JSON",
        "Panes",
        Some("open"),
    ),
    (
        Command::Filter,
        "filter",
        &["/"],
        "filter streams",
        "Panes",
        Some("filter"),
    ),
    (
        Command::StepBack,
        "step_back",
        &["left", "h"],
        "previous event",
        "Playhead",
        None,
    ),
    (
        Command::StepForward,
        "step_forward",
        &["right", "l"],
        "next event",
        "Playhead",
        Some("step"),
    ),
    (
        Command::JumpBack,
        "jump_back",
        &["shift-left", "H"],
        "back 10 events",
        "Playhead",
        None,
    ),
    (
        Command::JumpForward,
        "jump_forward",
        &["shift-right", "L"],
        "forward 10 events",
        "Playhead",
        None,
    ),
    (
        Command::First,
        "first",
        &["home"],
        "first event",
        "Playhead",
        None,
    ),
    (
        Command::Last,
        "last",
        &["end"],
        "last event",
        "Playhead",
        None,
    ),
    (
        Command::GoToVersion,
        "go_to_version",
        &["g"],
        "go to version",
        "Playhead",
        Some("go to"),
    ),
    (
        Command::GoToTime,
        "go_to_time",
        &["t"],
        "go to time",
        "Playhead",
        None,
    ),
    (
        Command::MarkA,
        "mark_a",
        &["a"],
        "set mark A",
        "Compare",
        Some("mark"),
    ),
    (
        Command::MarkB,
        "mark_b",
        &["b"],
        "set mark B",
        "Compare",
        None,
    ),
    (
        Command::ClearMarks,
        "clear_marks",
        &["x"],
        "clear marks",
        "Compare",
        None,
    ),
    (
        Command::TabState,
        "tab_state",
        &["1"],
        "State tab",
        "View",
        None,
    ),
    (
        Command::TabEvent,
        "tab_event",
        &["2"],
        "Event tab",
        "View",
        None,
    ),
    (
        Command::TabDiff,
        "tab_diff",
        &["3"],
        "Diff tab",
        "View",
        None,
    ),
    (
        Command::ToggleFollow,
        "follow",
        &["f"],
        "follow new events",
        "View",
        Some("follow"),
    ),
    (
        Command::ToggleTimeZone,
        "time_zone",
        &["z"],
        "UTC / local time",
        "View",
        None,
    ),
    (
        Command::Refresh,
        "refresh",
        &["r"],
        "reload list and stream",
        "View",
        None,
    ),
    (
        Command::ToggleSnapshots,
        "from_snapshots",
        &["s"],
        "replay from snapshots",
        "View",
        None,
    ),
    (Command::Help, "help", &["?"], "help", "Other", Some("help")),
    (
        Command::Cancel,
        "cancel",
        &["esc"],
        "close overlay / prompt",
        "Other",
        None,
    ),
    (
        Command::Quit,
        "quit",
        &["q", "ctrl-c"],
        "quit",
        "Other",
        Some("quit"),
    ),
];

impl Default for Keymap {
    fn default() -> Self {
        let bindings = DEFAULTS
            .iter()
            .map(|(command, name, keys, help, section, footer)| Binding {
                command: *command,
                name,
                keys: keys.iter().filter_map(|k| Key::parse(k).ok()).collect(),
                help,
                section,
                footer: *footer,
            })
            .collect();
        Keymap { bindings }
    }
}

impl Keymap {
    pub fn command_for(&self, key: Key) -> Option<Command> {
        self.bindings
            .iter()
            .find(|b| b.keys.contains(&key))
            .map(|b| b.command)
    }

    pub fn keys_label(&self, command: Command) -> String {
        self.bindings
            .iter()
            .find(|b| b.command == command)
            .map(|b| b.keys.iter().map(Key::label).collect::<Vec<_>>().join("/"))
            .unwrap_or_default()
    }

    /// Applies a user keymap in JSON: command name → list of keys. Named commands get
    /// exactly the keys given, which other commands give up; the rest keep their defaults.
    pub fn apply_overrides(&mut self, json: &str) -> Result<(), String> {
        let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(json)
            .map_err(|e| format!("not a JSON object of key lists: {e}"))?;
        let mut claimed: Vec<(Key, String)> = Vec::new();
        for (name, keys) in map {
            let Some(binding) = self.bindings.iter_mut().find(|b| b.name == name) else {
                let known: Vec<&str> = DEFAULTS.iter().map(|d| d.1).collect();
                return Err(format!(
                    "unknown command {name:?} (known: {})",
                    known.join(", ")
                ));
            };
            let list = keys
                .as_array()
                .ok_or_else(|| format!("{name}: expected a list of keys"))?;
            let mut parsed = Vec::new();
            for k in list {
                let spec = k
                    .as_str()
                    .ok_or_else(|| format!("{name}: keys are strings"))?;
                let key = Key::parse(spec).map_err(|e| format!("{name}: {e}"))?;
                if key == Key::parse("ctrl-c")? && name != "quit" {
                    return Err(format!("{name}: ctrl-c always quits; choose another key"));
                }
                if let Some((_, other)) = claimed.iter().find(|(k, _)| *k == key) {
                    return Err(format!(
                        "{spec:?} is bound to both {other} and {name}; give each key one command"
                    ));
                }
                claimed.push((key, name.clone()));
                parsed.push(key);
            }
            if parsed.is_empty() {
                return Err(format!(
                    "{name}: an empty list would leave the command without a key"
                ));
            }
            binding.keys = parsed.clone();
            // A key the user binds on purpose leaves whatever command had it by default.
            for other in self.bindings.iter_mut().filter(|b| b.name != name) {
                other.keys.retain(|k| !parsed.contains(k));
            }
        }
        Ok(())
    }

    /// The default keymap with the user's file applied, when there is one.
    pub fn load() -> Result<Keymap, String> {
        let mut keymap = Keymap::default();
        if let Some(path) = user_keymap_path().filter(|p| p.exists()) {
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            keymap
                .apply_overrides(&text)
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Ok(keymap)
    }
}

/// `$XDG_CONFIG_HOME/eventscope/keymap.json`, else `~/.config/eventscope/keymap.json`.
pub fn user_keymap_path() -> Option<PathBuf> {
    Some(crate::dirs::user_dir("XDG_CONFIG_HOME", ".config")?.join("keymap.json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, mods: KeyModifiers) -> Key {
        Key::from_event(&KeyEvent::new(code, mods))
    }

    #[test]
    fn defaults_cover_arrows_and_vim_keys() {
        let km = Keymap::default();
        let none = KeyModifiers::NONE;
        assert_eq!(
            km.command_for(key(KeyCode::Right, none)),
            Some(Command::StepForward)
        );
        assert_eq!(
            km.command_for(key(KeyCode::Char('l'), none)),
            Some(Command::StepForward)
        );
        assert_eq!(
            km.command_for(key(KeyCode::Right, KeyModifiers::SHIFT)),
            Some(Command::JumpForward)
        );
        assert_eq!(
            km.command_for(key(KeyCode::Char('L'), KeyModifiers::SHIFT)),
            Some(Command::JumpForward)
        );
        assert_eq!(
            km.command_for(key(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Command::Quit)
        );
        assert_eq!(
            km.command_for(key(KeyCode::BackTab, KeyModifiers::SHIFT)),
            Some(Command::FocusPrev)
        );
        assert_eq!(km.command_for(key(KeyCode::Char('c'), none)), None);
    }

    #[test]
    fn every_command_has_a_key_and_unique_name() {
        let km = Keymap::default();
        let mut names: Vec<&str> = km.bindings.iter().map(|b| b.name).collect();
        assert!(km.bindings.iter().all(|b| !b.keys.is_empty()));
        names.sort();
        names.dedup();
        assert_eq!(names.len(), km.bindings.len());
    }

    #[test]
    fn user_file_rebinds_commands() {
        let mut km = Keymap::default();
        km.apply_overrides(r#"{"quit": ["x", "ctrl-q"], "step_forward": ["shift-n"]}"#)
            .unwrap();
        let none = KeyModifiers::NONE;
        assert_eq!(km.command_for(key(KeyCode::Char('q'), none)), None);
        assert_eq!(
            km.command_for(key(KeyCode::Char('q'), KeyModifiers::CONTROL)),
            Some(Command::Quit)
        );
        assert_eq!(
            km.command_for(key(KeyCode::Char('N'), KeyModifiers::SHIFT)),
            Some(Command::StepForward)
        );
        assert_eq!(km.keys_label(Command::Quit), "x/Ctrl-q");
        // x now quits, and clearing marks gives it up.
        assert_eq!(
            km.command_for(key(KeyCode::Char('x'), none)),
            Some(Command::Quit)
        );
        assert_eq!(km.keys_label(Command::ClearMarks), "");
    }

    #[test]
    fn bad_user_files_say_what_is_wrong() {
        let mut km = Keymap::default();
        let e = km.apply_overrides(r#"{"fly": ["x"]}"#).unwrap_err();
        assert!(
            e.contains("unknown command \"fly\"") && e.contains("quit"),
            "{e}"
        );
        let e = km
            .apply_overrides(r#"{"quit": ["meta-banana"]}"#)
            .unwrap_err();
        assert!(e.contains("unknown key"), "{e}");
        assert!(km.apply_overrides("[1]").is_err());
    }

    #[test]
    fn empty_lists_conflicts_and_ctrl_c_are_refused() {
        let mut km = Keymap::default();
        let e = km.apply_overrides(r#"{"quit": []}"#).unwrap_err();
        assert!(e.contains("quit") && e.contains("without a key"), "{e}");
        let e = km
            .apply_overrides(r#"{"help": ["x"], "refresh": ["x"]}"#)
            .unwrap_err();
        assert!(e.contains("\"x\" is bound to both help and refresh"), "{e}");
        let e = km.apply_overrides(r#"{"help": ["ctrl-c"]}"#).unwrap_err();
        assert!(e.contains("ctrl-c always quits"), "{e}");
    }
}

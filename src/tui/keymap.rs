//! The keymap as data: layers of bindings (normal, filter, prompt, overlay) read from
//! `assets/keymap.toml`, from which help and the footer are drawn. A user file
//! (`keymap.toml` in the config directory) with the same layers rebinds commands per layer.

use std::path::PathBuf;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;

use super::action::Command;

/// The shipped keymap.
pub const DEFAULT_KEYMAP: &str = include_str!("../../assets/keymap.toml");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
            f if f.len() > 1
                && f.starts_with('f')
                && f[1..].parse::<u8>().is_ok_and(|n| (1..=12).contains(&n)) =>
            {
                KeyCode::F(f[1..].parse().unwrap_or(1))
            }
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
            KeyCode::F(n) => format!("F{n}"),
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

/// Which keys are in force: the main screen's, or those of a mode on top of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layer {
    Normal,
    Filter,
    Prompt,
    Overlay,
}

impl Layer {
    pub const ALL: [Layer; 4] = [Layer::Normal, Layer::Filter, Layer::Prompt, Layer::Overlay];

    pub fn name(self) -> &'static str {
        match self {
            Layer::Normal => "normal",
            Layer::Filter => "filter",
            Layer::Prompt => "prompt",
            Layer::Overlay => "overlay",
        }
    }
}

/// One command with the keys that run it.
#[derive(Debug, Clone)]
pub struct Binding {
    pub command: Command,
    pub keys: Vec<Key>,
    pub desc: String,
    pub group: String,
    /// The footer's short name for it, when the footer shows it.
    pub footer: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Keymap {
    layers: [Vec<Binding>; 4],
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileBinding {
    on: Vec<String>,
    run: Command,
    #[serde(default)]
    desc: Option<String>,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    footer: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLayer {
    keymap: Vec<FileBinding>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct KeymapFile {
    normal: Option<FileLayer>,
    filter: Option<FileLayer>,
    prompt: Option<FileLayer>,
    overlay: Option<FileLayer>,
}

impl KeymapFile {
    fn parse(text: &str) -> Result<KeymapFile, String> {
        toml::from_str(text).map_err(|e| e.to_string().trim_end().to_string())
    }

    fn layer(&self, layer: Layer) -> Option<&FileLayer> {
        match layer {
            Layer::Normal => self.normal.as_ref(),
            Layer::Filter => self.filter.as_ref(),
            Layer::Prompt => self.prompt.as_ref(),
            Layer::Overlay => self.overlay.as_ref(),
        }
    }
}

fn parse_keys(command: Command, specs: &[String]) -> Result<Vec<Key>, String> {
    let name = command.name();
    if specs.is_empty() {
        return Err(format!(
            "{name}: an empty list would leave the command without a key"
        ));
    }
    specs
        .iter()
        .map(|spec| {
            let key = Key::parse(spec).map_err(|e| format!("{name}: {e}"))?;
            if key == CTRL_C && command != Command::Quit {
                return Err(format!("{name}: ctrl-c always quits; choose another key"));
            }
            Ok(key)
        })
        .collect()
}

const CTRL_C: Key = Key {
    code: KeyCode::Char('c'),
    ctrl: true,
    shift: false,
};

impl Default for Keymap {
    fn default() -> Self {
        Keymap::from_toml(DEFAULT_KEYMAP).expect("the shipped keymap is valid")
    }
}

impl Keymap {
    /// A whole keymap from a file with every layer.
    pub fn from_toml(text: &str) -> Result<Keymap, String> {
        let file = KeymapFile::parse(text)?;
        let mut layers: [Vec<Binding>; 4] = Default::default();
        for layer in Layer::ALL {
            for b in file.layer(layer).map_or(&[][..], |l| &l.keymap) {
                layers[layer as usize].push(Binding {
                    command: b.run,
                    keys: parse_keys(b.run, &b.on)?,
                    desc: b.desc.clone().unwrap_or_else(|| b.run.name()),
                    group: b.group.clone().unwrap_or_default(),
                    footer: b.footer.clone(),
                });
            }
        }
        Ok(Keymap { layers })
    }

    pub fn bindings(&self, layer: Layer) -> &[Binding] {
        &self.layers[layer as usize]
    }

    pub fn command_for(&self, layer: Layer, key: Key) -> Option<Command> {
        self.bindings(layer)
            .iter()
            .find(|b| b.keys.contains(&key))
            .map(|b| b.command)
    }

    /// The keys of a command in the normal layer, as help shows them.
    pub fn keys_label(&self, command: Command) -> String {
        self.bindings(Layer::Normal)
            .iter()
            .find(|b| b.command == command)
            .map(|b| b.keys.iter().map(Key::label).collect::<Vec<_>>().join("/"))
            .unwrap_or_default()
    }

    /// Applies a user keymap: per layer, each command named gets exactly the keys given,
    /// which other commands of that layer give up; the rest keep their defaults. A
    /// command the layer did not have is added.
    pub fn apply_overrides(&mut self, text: &str) -> Result<(), String> {
        let file = KeymapFile::parse(text)?;
        for layer in Layer::ALL {
            let Some(user) = file.layer(layer) else {
                continue;
            };
            let mut claimed: Vec<(Key, Command)> = Vec::new();
            for b in &user.keymap {
                let keys = parse_keys(b.run, &b.on)?;
                for (key, spec) in keys.iter().zip(&b.on) {
                    if let Some((_, other)) = claimed.iter().find(|(k, c)| k == key && *c != b.run)
                    {
                        return Err(format!(
                            "[{}] {spec:?} is bound to both {} and {}; give each key one command",
                            layer.name(),
                            other.name(),
                            b.run.name()
                        ));
                    }
                    claimed.push((*key, b.run));
                }
                let bindings = &mut self.layers[layer as usize];
                for other in bindings.iter_mut().filter(|o| o.command != b.run) {
                    other.keys.retain(|k| !keys.contains(k));
                }
                match bindings.iter_mut().find(|o| o.command == b.run) {
                    Some(existing) => {
                        existing.keys = keys;
                        if let Some(d) = &b.desc {
                            existing.desc = d.clone();
                        }
                    }
                    None => bindings.push(Binding {
                        command: b.run,
                        keys,
                        desc: b.desc.clone().unwrap_or_else(|| b.run.name()),
                        group: b.group.clone().unwrap_or_else(|| "User".into()),
                        footer: b.footer.clone(),
                    }),
                }
            }
        }
        Ok(())
    }

    /// The default keymap with the user's file applied, when there is one.
    pub fn load() -> Result<Keymap, String> {
        let mut keymap = Keymap::default();
        let old = crate::dirs::config_dir().map(|d| d.join("keymap.json"));
        if let Some(old) = old.filter(|p| p.exists()) {
            if !user_keymap_path().is_some_and(|p| p.exists()) {
                return Err(format!(
                    "{}: keymap.json is no longer read; write its bindings as keymap.toml beside it, one layer per mode (see the README)",
                    old.display()
                ));
            }
        }
        if let Some(path) = user_keymap_path().filter(|p| p.exists()) {
            let text = eventscope::files::read_bounded(
                &path,
                eventscope::files::SETTINGS_LIMIT,
                "keymap",
            )?;
            keymap
                .apply_overrides(&text)
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Ok(keymap)
    }
}

/// `keymap.toml` in the user's config directory (`~/.config/eventscope` on Linux).
pub fn user_keymap_path() -> Option<PathBuf> {
    Some(crate::dirs::config_dir()?.join("keymap.toml"))
}

/// The main screen's keys as (group, keys, what they do), for the manual page.
pub fn key_table() -> Vec<(String, String, String)> {
    Keymap::default()
        .bindings(Layer::Normal)
        .iter()
        .map(|b| {
            let keys: Vec<String> = b.keys.iter().map(Key::label).collect();
            (b.group.clone(), keys.join(" "), b.desc.clone())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README's key table, as the shipped keymap gives it.
    fn markdown_table(km: &Keymap) -> String {
        let mut out = String::from("| keys | command | what it does |\n| --- | --- | --- |\n");
        let mut group = String::new();
        for b in km.bindings(Layer::Normal) {
            if b.group != group {
                group = b.group.clone();
                out.push_str(&format!("| **{group}** | | |\n"));
            }
            let keys: Vec<String> = b
                .keys
                .iter()
                .map(|k| format!("`{}`", k.label().replace('|', "\\|")))
                .collect();
            out.push_str(&format!(
                "| {} | `{}` | {} |\n",
                keys.join(" "),
                b.command.name(),
                b.desc
            ));
        }
        out
    }

    #[test]
    fn the_readme_key_table_is_the_shipped_keymap() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
        let readme = std::fs::read_to_string(path).unwrap();
        let (start, end) = ("<!-- keys:start -->\n", "<!-- keys:end -->");
        let from = readme.find(start).expect("README marks its key table") + start.len();
        let to = readme.find(end).expect("README marks its key table's end");
        let want = markdown_table(&Keymap::default());
        if std::env::var_os("EVENTSCOPE_BLESS").is_some() {
            let updated = format!("{}{want}{}", &readme[..from], &readme[to..]);
            std::fs::write(path, updated).unwrap();
            return;
        }
        // The README's example of a user file is one.
        let example = readme
            .split("```toml\n")
            .nth(1)
            .and_then(|rest| rest.split("```").next())
            .expect("README shows a keymap.toml");
        let mut km = Keymap::default();
        km.apply_overrides(example).unwrap();
        assert_eq!(
            km.command_for(Layer::Normal, Key::parse("F5").unwrap()),
            Some(Command::Tab(3))
        );
        assert_eq!(
            &readme[from..to],
            want,
            "README's key table differs from assets/keymap.toml; EVENTSCOPE_BLESS=1 cargo test rewrites it"
        );
    }

    fn key(code: KeyCode, mods: KeyModifiers) -> Key {
        Key::from_event(&KeyEvent::new(code, mods))
    }

    fn normal(km: &Keymap, code: KeyCode, mods: KeyModifiers) -> Option<Command> {
        km.command_for(Layer::Normal, key(code, mods))
    }

    #[test]
    fn defaults_cover_arrows_and_vim_keys() {
        let km = Keymap::default();
        let none = KeyModifiers::NONE;
        assert_eq!(
            normal(&km, KeyCode::Right, none),
            Some(Command::StepForward)
        );
        assert_eq!(
            normal(&km, KeyCode::Char('l'), none),
            Some(Command::StepForward)
        );
        assert_eq!(
            normal(&km, KeyCode::Right, KeyModifiers::SHIFT),
            Some(Command::JumpForward)
        );
        assert_eq!(
            normal(&km, KeyCode::Char('L'), KeyModifiers::SHIFT),
            Some(Command::JumpForward)
        );
        assert_eq!(
            normal(&km, KeyCode::Char('c'), KeyModifiers::CONTROL),
            Some(Command::Quit)
        );
        assert_eq!(
            normal(&km, KeyCode::BackTab, KeyModifiers::SHIFT),
            Some(Command::FocusPrev)
        );
        assert_eq!(normal(&km, KeyCode::Char('g'), none), Some(Command::Top));
        assert_eq!(normal(&km, KeyCode::Home, none), Some(Command::Top));
        assert_eq!(
            normal(&km, KeyCode::Char('G'), KeyModifiers::SHIFT),
            Some(Command::Bottom)
        );
        assert_eq!(normal(&km, KeyCode::Char('3'), none), Some(Command::Tab(3)));
        assert_eq!(normal(&km, KeyCode::Char('e'), none), None);
        let prompt = |c| km.command_for(Layer::Prompt, key(c, none));
        assert_eq!(prompt(KeyCode::Char('q')), Some(Command::Cancel));
        assert_eq!(prompt(KeyCode::Esc), Some(Command::Cancel));
        let overlay = |c| km.command_for(Layer::Overlay, key(c, none));
        assert_eq!(overlay(KeyCode::Char('q')), Some(Command::Cancel));
        // In the filter, q is a letter to type.
        assert_eq!(
            km.command_for(Layer::Filter, key(KeyCode::Char('q'), none)),
            None
        );
    }

    #[test]
    fn every_command_in_a_layer_has_a_key_and_no_key_two_commands() {
        let km = Keymap::default();
        for layer in Layer::ALL {
            let mut seen: Vec<Key> = Vec::new();
            for b in km.bindings(layer) {
                assert!(!b.keys.is_empty(), "{:?}", b.command);
                for k in &b.keys {
                    assert!(!seen.contains(k), "{} twice in {}", k.label(), layer.name());
                    seen.push(*k);
                }
            }
            assert!(!km.bindings(layer).is_empty());
        }
    }

    #[test]
    fn user_file_rebinds_commands_per_layer() {
        let mut km = Keymap::default();
        km.apply_overrides(
            r#"
[normal]
keymap = [
  { on = ["x", "ctrl-q"], run = "quit" },
  { on = ["shift-n"], run = "step_forward" },
]
[prompt]
keymap = [ { on = ["esc"], run = "cancel" } ]
"#,
        )
        .unwrap();
        let none = KeyModifiers::NONE;
        assert_eq!(normal(&km, KeyCode::Char('q'), none), None);
        assert_eq!(
            normal(&km, KeyCode::Char('q'), KeyModifiers::CONTROL),
            Some(Command::Quit)
        );
        assert_eq!(
            normal(&km, KeyCode::Char('N'), KeyModifiers::SHIFT),
            Some(Command::StepForward)
        );
        assert_eq!(km.keys_label(Command::Quit), "x/Ctrl-q");
        // x now quits, and clearing marks gives it up.
        assert_eq!(normal(&km, KeyCode::Char('x'), none), Some(Command::Quit));
        assert_eq!(km.keys_label(Command::ClearMarks), "");
        // The prompt's q no longer cancels; the overlay's still does.
        assert_eq!(
            km.command_for(Layer::Prompt, key(KeyCode::Char('q'), none)),
            None
        );
        assert_eq!(
            km.command_for(Layer::Overlay, key(KeyCode::Char('q'), none)),
            Some(Command::Cancel)
        );
    }

    #[test]
    fn bad_user_files_say_what_is_wrong() {
        let mut km = Keymap::default();
        let e = km
            .apply_overrides("[normal]\nkeymap = [{ on = [\"x\"], run = \"fly\" }]")
            .unwrap_err();
        assert!(e.contains("fly") && e.contains("quit"), "{e}");
        let e = km
            .apply_overrides("[normal]\nkeymap = [{ on = [\"meta-banana\"], run = \"quit\" }]")
            .unwrap_err();
        assert!(e.contains("unknown key"), "{e}");
        let e = km.apply_overrides("[nromal]\nkeymap = []").unwrap_err();
        assert!(e.contains("nromal"), "{e}");
    }

    #[test]
    fn empty_lists_conflicts_and_ctrl_c_are_refused() {
        let mut km = Keymap::default();
        let e = km
            .apply_overrides("[normal]\nkeymap = [{ on = [], run = \"quit\" }]")
            .unwrap_err();
        assert!(e.contains("quit") && e.contains("without a key"), "{e}");
        let e = km
            .apply_overrides(
                "[normal]\nkeymap = [{ on = [\"x\"], run = \"help\" }, { on = [\"x\"], run = \"refresh\" }]",
            )
            .unwrap_err();
        assert!(e.contains("\"x\" is bound to both help and refresh"), "{e}");
        let e = km
            .apply_overrides("[normal]\nkeymap = [{ on = [\"ctrl-c\"], run = \"help\" }]")
            .unwrap_err();
        assert!(e.contains("ctrl-c always quits"), "{e}");
    }
}

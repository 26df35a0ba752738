//! Colours by role, from a theme file: `dark` (the default) and `light` ship in
//! `assets/themes`; `theme.toml` in the config directory, or `EVENTSCOPE_THEME` (a name or
//! a path), picks another. A user file may give only some roles and `base = "light"`.
//! With `NO_COLOR` set, every colour is the terminal's own and only bold/reverse remain.

use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

const DARK: &str = include_str!("../../assets/themes/dark.toml");
const LIGHT: &str = include_str!("../../assets/themes/light.toml");

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Theme {
    pub focus: Color,
    pub border: Color,
    pub selection: Color,
    pub title: Color,
    pub muted: Color,
    pub category: Color,
    pub changed: Color,
    pub added: Color,
    pub removed: Color,
    pub marks: Color,
    pub playhead: Color,
    pub snapshot: Color,
    pub errors: Color,
    pub warnings: Color,
    pub live: Color,
    pub chart: Color,
    pub keys: Color,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    base: Option<String>,
    focus: Option<String>,
    border: Option<String>,
    selection: Option<String>,
    title: Option<String>,
    muted: Option<String>,
    category: Option<String>,
    changed: Option<String>,
    added: Option<String>,
    removed: Option<String>,
    marks: Option<String>,
    playhead: Option<String>,
    snapshot: Option<String>,
    errors: Option<String>,
    warnings: Option<String>,
    live: Option<String>,
    chart: Option<String>,
    keys: Option<String>,
}

fn colour(role: &str, spec: &str) -> Result<Color, String> {
    Color::from_str(spec).map_err(|_| format!("{role}: {spec:?} is not a colour"))
}

impl Default for Theme {
    fn default() -> Self {
        Theme::parse(DARK).expect("the shipped dark theme is valid")
    }
}

impl Theme {
    /// A theme file; roles it leaves out come from its `base` (dark unless named).
    pub fn parse(text: &str) -> Result<Theme, String> {
        let file: ThemeFile = toml::from_str(text).map_err(|e| e.to_string().trim().to_string())?;
        let mut t = match file.base.as_deref() {
            None | Some("dark") if std::ptr::eq(text, DARK) => Theme::plain(),
            None | Some("dark") => Theme::parse(DARK)?,
            Some("light") if std::ptr::eq(text, LIGHT) => Theme::plain(),
            Some("light") => Theme::parse(LIGHT)?,
            Some(other) => return Err(format!("base: no theme {other:?} (dark, light)")),
        };
        macro_rules! roles {
            ($($r:ident),*) => {$(
                if let Some(spec) = &file.$r {
                    t.$r = colour(stringify!($r), spec)?;
                }
            )*};
        }
        roles!(
            focus, border, selection, title, muted, category, changed, added, removed, marks,
            playhead, snapshot, errors, warnings, live, chart, keys
        );
        Ok(t)
    }

    /// The terminal's own colours for every role (`NO_COLOR`).
    pub fn plain() -> Theme {
        let c = Color::Reset;
        Theme {
            focus: c,
            border: c,
            selection: c,
            title: c,
            muted: c,
            category: c,
            changed: c,
            added: c,
            removed: c,
            marks: c,
            playhead: c,
            snapshot: c,
            errors: c,
            warnings: c,
            live: c,
            chart: c,
            keys: c,
        }
    }

    pub fn named(name: &str) -> Option<Theme> {
        match name {
            "dark" => Some(Theme::default()),
            "light" => Theme::parse(LIGHT).ok(),
            _ => None,
        }
    }

    /// The theme in force: `NO_COLOR`, else `EVENTSCOPE_THEME`, else the user's file,
    /// else dark.
    pub fn load() -> Result<Theme, String> {
        if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
            return Ok(Theme::plain());
        }
        if let Some(choice) = std::env::var_os("EVENTSCOPE_THEME") {
            let choice = choice.to_string_lossy();
            if let Some(t) = Theme::named(&choice) {
                return Ok(t);
            }
            let text = eventscope::files::read_bounded(
                std::path::Path::new(&*choice),
                eventscope::files::SETTINGS_LIMIT,
                "theme",
            )
            .map_err(|e| {
                format!("EVENTSCOPE_THEME={choice}: not dark, light or a theme file ({e})")
            })?;
            return Theme::parse(&text).map_err(|e| format!("{choice}: {e}"));
        }
        match crate::dirs::config_dir().map(|d| d.join("theme.toml")) {
            Some(path) if path.exists() => {
                let text = eventscope::files::read_bounded(
                    &path,
                    eventscope::files::SETTINGS_LIMIT,
                    "theme",
                )?;
                Theme::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
            }
            _ => Ok(Theme::default()),
        }
    }

    pub fn fg(&self, c: Color) -> Style {
        Style::new().fg(c)
    }

    pub fn bold(&self, c: Color) -> Style {
        Style::new().fg(c).add_modifier(Modifier::BOLD)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_themes_give_every_role() {
        let dark = Theme::parse(DARK).unwrap();
        let light = Theme::parse(LIGHT).unwrap();
        assert_ne!(dark, light);
        assert_eq!(dark.focus, Color::Cyan);
        assert_eq!(light.removed, Color::Rgb(0xb0, 0x00, 0x20));
    }

    /// WCAG's contrast ratio of an sRGB colour against white.
    fn contrast_on_white(c: Color) -> f64 {
        let Color::Rgb(r, g, b) = c else {
            panic!("{c:?}: give the light theme's text colours as #rrggbb, to be checked")
        };
        let lin = |v: u8| {
            let v = f64::from(v) / 255.0;
            if v <= 0.03928 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        let l = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
        1.05 / (l + 0.05)
    }

    /// Text on a light background reads (WCAG AA, 4.5:1), the muted colour included.
    #[test]
    fn the_light_themes_text_colours_contrast_with_white() {
        let light = Theme::parse(LIGHT).unwrap();
        for (role, c) in [
            ("muted", light.muted),
            ("changed", light.changed),
            ("added", light.added),
            ("removed", light.removed),
            ("warnings", light.warnings),
        ] {
            let ratio = contrast_on_white(c);
            assert!(ratio >= 4.5, "{role}: {ratio:.2}:1");
        }
    }

    #[test]
    fn a_user_file_overrides_some_roles_of_a_base() {
        let t = Theme::parse("base = \"light\"\nfocus = \"208\"").unwrap();
        assert_eq!(t.focus, Color::Indexed(208));
        assert_eq!(t.added, Theme::parse(LIGHT).unwrap().added);
        let e = Theme::parse("focus = \"plaid\"").unwrap_err();
        assert!(e.contains("focus") && e.contains("plaid"), "{e}");
        assert!(Theme::parse("fokus = \"red\"").is_err());
    }
}

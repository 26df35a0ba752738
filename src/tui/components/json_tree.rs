//! JSON shown as foldable lines with a cursor and a search over keys and values (`/`,
//! then `n`/`N`). The State and Event tabs each hold one.

use std::cell::Cell;
use std::collections::HashSet;

use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use serde_json::Value;

use super::json_view::{self, JsonLine, LineKind};
use crate::tui::theme::Theme;

#[derive(Default)]
pub struct JsonTree {
    value: Option<Value>,
    folded: HashSet<String>,
    lines: Vec<JsonLine>,
    pub cursor: usize,
    query: String,
    page: Cell<usize>,
}

impl JsonTree {
    /// Shows `value`; folds stay where the same paths exist.
    pub fn set(&mut self, value: Option<Value>) {
        self.value = value;
        self.reflatten();
    }

    /// Forgets folds and the cursor: another stream was opened.
    pub fn reset(&mut self) {
        self.folded.clear();
        self.cursor = 0;
        self.set(None);
    }

    fn reflatten(&mut self) {
        self.lines = match &self.value {
            Some(v) => json_view::flatten(v, &self.folded),
            None => Vec::new(),
        };
        self.cursor = self.cursor.min(self.lines.len().saturating_sub(1));
    }

    #[cfg(test)]
    pub fn lines(&self) -> &[JsonLine] {
        &self.lines
    }

    pub fn toggle_fold(&mut self) {
        let Some(line) = self.lines.get(self.cursor) else {
            return;
        };
        if !line.foldable() {
            return;
        }
        let path = line.path.clone();
        if !self.folded.remove(&path) {
            self.folded.insert(path);
        }
        self.reflatten();
    }

    pub fn line_count(&self) -> usize {
        self.lines.len()
    }

    pub fn page(&self) -> usize {
        self.page.get().max(1)
    }

    /// Searches keys and values for `query` (case-insensitive), unfolding what hides a
    /// match, and moves to the first match from the cursor. Returns how many lines match.
    pub fn search(&mut self, query: &str) -> usize {
        self.query = query.to_lowercase();
        if self.query.is_empty() {
            return 0;
        }
        // Unfold everything so matches inside folded parts show.
        if !self.folded.is_empty() {
            self.folded.clear();
            self.reflatten();
        }
        let count = self.matching().count();
        if count > 0 && !self.is_match(self.cursor) {
            self.next_match(true);
        }
        count
    }

    fn is_match(&self, i: usize) -> bool {
        let Some(l) = self.lines.get(i) else {
            return false;
        };
        !self.query.is_empty()
            && (l
                .key
                .as_deref()
                .is_some_and(|k| k.to_lowercase().contains(&self.query))
                || (l.kind == LineKind::Leaf && l.text.to_lowercase().contains(&self.query)))
    }

    fn matching(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.lines.len()).filter(|&i| self.is_match(i))
    }

    /// Moves to the next (or previous) match, wrapping; false when nothing matches.
    pub fn next_match(&mut self, forward: bool) -> bool {
        let n = self.lines.len();
        if n == 0 || self.query.is_empty() {
            return false;
        }
        for step in 1..=n {
            let i = if forward {
                (self.cursor + step) % n
            } else {
                (self.cursor + n - step % n) % n
            };
            if self.is_match(i) {
                self.cursor = i;
                return true;
            }
        }
        false
    }

    /// The lines to draw in `height` rows, the cursor's highlighted when `focused`, changed
    /// paths marked.
    /// The line under the cursor.
    pub fn current(&self) -> Option<&JsonLine> {
        self.lines.get(self.cursor)
    }

    pub fn render(
        &self,
        theme: &Theme,
        height: usize,
        focused: bool,
        changed: &dyn Fn(&JsonLine) -> bool,
        gutter: Option<&dyn Fn(&JsonLine) -> String>,
        was: &dyn Fn(&JsonLine) -> Option<String>,
    ) -> Vec<Line<'static>> {
        self.page.set(height);
        let offset = (self.cursor + 1).saturating_sub(height.max(1));
        self.lines
            .iter()
            .enumerate()
            .skip(offset)
            .take(height)
            .map(|(i, l)| {
                let mut line = json_line(theme, l, changed(l), self.is_match(i));
                if let Some(old) = was(l) {
                    // The value as it was before it, after the value (so the line
                    // still reads as JSON from the left).
                    let old = format!("  (was {})", eventscope::printable(&old));
                    line.spans.push(Span::styled(old, theme.fg(theme.muted)));
                }
                if let Some(g) = gutter {
                    line.spans
                        .insert(0, Span::styled(g(l), theme.fg(theme.muted)));
                }
                if focused && i == self.cursor {
                    line = line.style(Style::new().add_modifier(Modifier::REVERSED));
                }
                line
            })
            .collect()
    }
}

pub fn json_line(t: &Theme, l: &JsonLine, changed: bool, matched: bool) -> Line<'static> {
    let gutter = if changed {
        Span::styled("● ", t.bold(t.changed))
    } else if matched {
        Span::styled("» ", t.bold(t.focus))
    } else {
        Span::raw("  ")
    };
    let mut spans = vec![gutter, Span::raw("  ".repeat(l.depth))];
    if l.key.is_some() || l.kind == LineKind::Folded || l.kind == LineKind::Open {
        let fold = match l.kind {
            LineKind::Folded => "▸ ",
            LineKind::Open => "▾ ",
            _ => "",
        };
        spans.push(Span::styled(fold, t.fg(t.muted)));
    }
    if let Some(k) = &l.key {
        spans.push(Span::styled(
            eventscope::printable(&format!("{k:?}")).into_owned(),
            t.fg(t.keys),
        ));
        spans.push(Span::raw(": "));
    }
    let value_style = match l.kind {
        LineKind::Leaf => match l.text.chars().next() {
            Some('"') => t.fg(t.added),
            Some('t' | 'f' | 'n') => t.fg(t.category),
            _ => t.fg(t.changed),
        },
        LineKind::Folded => t.fg(t.muted),
        _ => Style::new(),
    };
    let value_style = if changed {
        value_style.add_modifier(Modifier::BOLD)
    } else {
        value_style
    };
    spans.push(Span::styled(
        eventscope::printable(&l.text).into_owned(),
        value_style,
    ));
    if l.comma {
        spans.push(Span::raw(","));
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn search_finds_keys_and_values_and_wraps() {
        let mut t = JsonTree::default();
        t.set(Some(
            json!({"owner": "Ann", "balance": 10, "tags": {"vip": "owner-ish"}}),
        ));
        assert_eq!(t.search("OWNER"), 2);
        let first = t.cursor;
        assert_eq!(t.lines()[first].key.as_deref(), Some("owner"));
        assert!(t.next_match(true));
        assert_eq!(t.lines()[t.cursor].text, "\"owner-ish\"");
        assert!(t.next_match(true));
        assert_eq!(t.cursor, first);
        assert!(t.next_match(false));
        assert_eq!(t.lines()[t.cursor].text, "\"owner-ish\"");
        assert_eq!(t.search("nothing-like-it"), 0);
        assert!(!t.next_match(true));
    }

    #[test]
    fn search_unfolds_what_hides_a_match() {
        let mut t = JsonTree::default();
        t.set(Some(json!({"a": {"deep": {"needle": 1}}})));
        t.cursor = 1;
        t.toggle_fold();
        assert!(!t.lines().iter().any(|l| l.key.as_deref() == Some("needle")));
        assert_eq!(t.search("needle"), 1);
        assert_eq!(t.lines()[t.cursor].key.as_deref(), Some("needle"));
    }
}

//! The one-line prompts: go to version, go to time, search the inspector.

use super::zone_label;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    Version,
    Time,
    Search,
    /// A jq predicate on the state.
    When,
    /// The category table's columns, comma-separated.
    Columns,
    /// Events to find: text, or `?` and a jq predicate over the envelope.
    Find,
    /// A second reducer (a .jq file or a folder) to compare the open stream with.
    CompareWith,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Prompt {
    pub kind: PromptKind,
    pub input: String,
    /// The input was put there to edit: the first character typed replaces it (as a
    /// selected text would be), Backspace edits it.
    pub prefilled: bool,
    /// Where ↑/↓ are in the history.
    pub recall: crate::tui::history::Recall,
}

impl Prompt {
    pub fn new(kind: PromptKind) -> Prompt {
        Prompt {
            kind,
            input: String::new(),
            prefilled: false,
            recall: Default::default(),
        }
    }

    /// The name its history is kept under.
    pub fn history_name(&self) -> &'static str {
        match self.kind {
            PromptKind::Version => "version",
            PromptKind::Time => "time",
            PromptKind::Search => "search",
            PromptKind::When => "when",
            PromptKind::Columns => "columns",
            PromptKind::Find => "find",
            PromptKind::CompareWith => "compare_with",
        }
    }

    /// Shows the history entry `steps` older (newer, when negative); `false` when there is
    /// none that way.
    pub fn recall(&mut self, entries: &[String], steps: isize) -> bool {
        let typed = if self.prefilled && self.recall.back == 0 {
            ""
        } else {
            &self.input
        };
        let typed = typed.to_string();
        match self.recall.step(entries, &typed, steps) {
            Some(entry) => {
                self.input = entry;
                self.prefilled = false;
                true
            }
            None => false,
        }
    }

    /// Types `c`: into the input, or in place of a prefilled one.
    pub fn type_char(&mut self, c: char) {
        self.recall = Default::default();
        if std::mem::take(&mut self.prefilled) {
            self.input.clear();
        }
        self.input.push(c);
    }

    /// Whether `c` is text here rather than a key of the prompt layer (`q` closes the
    /// version and time prompts, but is a letter in a search).
    pub fn takes(&self, c: char) -> bool {
        match self.kind {
            PromptKind::Search
            | PromptKind::When
            | PromptKind::Columns
            | PromptKind::Find
            | PromptKind::CompareWith => true,
            PromptKind::Version => c.is_ascii_digit() || c == '-' || c == '+',
            PromptKind::Time => c.is_ascii_digit() || " -:+.TZtz".contains(c),
        }
    }

    pub fn label(&self, local_time: bool) -> String {
        match self.kind {
            PromptKind::Version => "Go to version: ".into(),
            PromptKind::Time => format!(
                "Go to time (RFC 3339 or a prefix, {}): ",
                zone_label(local_time)
            ),
            PromptKind::Search => "Search keys and values: ".into(),
            PromptKind::Find => "Find events (text, or ?jq such as ?.data.amount > 100): ".into(),
            PromptKind::Columns => {
                "Columns (top-level fields, comma-separated; empty: automatic): ".into()
            }
            PromptKind::When => {
                "When (jq on the state, $event the event; e.g. .balance < 0): ".into()
            }
            PromptKind::CompareWith => {
                "Compare with reducer (a .jq file or a folder; empty: stop comparing): ".into()
            }
        }
    }
}

//! The fast paths, each of which changes speed and never an answer, and each of which can
//! be turned off to compare: `EVENTSCOPE_NO_FAST_PATHS=1` (or `all`) turns them all off,
//! a comma list (`dispatch,targeted`) those named. Any other value turns them all off:
//! the plain path is always the safe one.

use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FastPath {
    /// One program per branch of a top-level type chain (`replay/dispatch.rs`).
    Dispatch,
    /// `.a OP= $event.x` without the interpreter (`replay/native.rs`).
    Native,
    /// Only the payload paths a reducer names are built (`replay/targeted_read.rs`).
    Targeted,
    /// A long stream is read by a second thread while the fold runs (`store/read_ahead.rs`).
    ReadAhead,
    /// Comparisons of a path with a literal judged without the interpreter
    /// (`replay/native_predicate.rs`).
    Predicate,
}

impl FastPath {
    pub const ALL: [FastPath; 5] = [
        FastPath::Dispatch,
        FastPath::Native,
        FastPath::Targeted,
        FastPath::ReadAhead,
        FastPath::Predicate,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FastPath::Dispatch => "dispatch",
            FastPath::Native => "native",
            FastPath::Targeted => "targeted",
            FastPath::ReadAhead => "read-ahead",
            FastPath::Predicate => "predicate",
        }
    }

    /// Whether this fast path is on for this process.
    pub fn on(self) -> bool {
        static OFF: OnceLock<Vec<FastPath>> = OnceLock::new();
        let off = OFF
            .get_or_init(|| off_by(&std::env::var("EVENTSCOPE_NO_FAST_PATHS").unwrap_or_default()));
        !off.contains(&self)
    }
}

/// The fast paths a value of `EVENTSCOPE_NO_FAST_PATHS` turns off.
fn off_by(value: &str) -> Vec<FastPath> {
    let value = value.trim();
    if value.is_empty() || value == "0" {
        return Vec::new();
    }
    let named: Option<Vec<FastPath>> = value
        .split(',')
        .map(|n| FastPath::ALL.into_iter().find(|p| p.name() == n.trim()))
        .collect();
    named.unwrap_or_else(|| FastPath::ALL.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_switch_names_fast_paths_or_turns_off_all() {
        assert_eq!(off_by(""), vec![]);
        assert_eq!(off_by("0"), vec![]);
        assert_eq!(off_by("1"), FastPath::ALL.to_vec());
        assert_eq!(off_by("all"), FastPath::ALL.to_vec());
        assert_eq!(
            off_by("native, targeted"),
            vec![FastPath::Native, FastPath::Targeted]
        );
        assert_eq!(
            off_by("native,typo"),
            FastPath::ALL.to_vec(),
            "unknown: all off"
        );
    }
}

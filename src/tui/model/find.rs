//! The Events pane's search (`/`, a Stats bucket's events): what is asked, what the scan
//! has found so far, and the moves between matches (vim's `/`, `n`, `N`, less's `&`).

use std::collections::{BTreeMap, BTreeSet};

use super::{Model, Target};
use crate::tui::worker::{EventRow, FindSpec, Req, WorkerError, FOUND_ROWS_KEPT};

/// Events matching the Events pane's search, by key, as the scan goes.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// Move the playhead to the first match at or after this key when it is found,
    /// wrapping to the first match (vim's `/`); `i64::MIN` for a Stats bucket's first.
    pub go_from: Option<i64>,
    pub find: FindSpec,
    pub keys: BTreeSet<i64>,
    /// The first matches' rows, for the only-matching view.
    pub rows: BTreeMap<i64, Vec<EventRow>>,
    pub scanned: i64,
    pub done: bool,
    pub error: Option<String>,
}

impl Model {
    /// Looks for events matching `find` over the whole view, in the background.
    pub fn ask_find(&mut self, find: FindSpec) {
        let Some(v) = &mut self.view else {
            return self.hint_open_first();
        };
        if matches!(v.target, Target::Category(_)) {
            return self.say("find works on a stream or $all");
        }
        let go_from = match find {
            FindSpec::Between(..) | FindSpec::Shape(..) => i64::MIN,
            _ => v.playhead,
        };
        v.found = Some(Found {
            go_from: Some(go_from),
            find: find.clone(),
            keys: BTreeSet::new(),
            rows: BTreeMap::new(),
            scanned: 0,
            done: false,
            error: None,
        });
        self.outbox.push(Req::Find {
            target: v.target.clone(),
            find,
            // Streams may start at version 0, imports at position 0 or below.
            from: i64::MIN,
        });
    }

    /// Moves the playhead to the next (or previous) match of the Events pane's search,
    /// wrapping around at the ends once the whole view is searched, as vim does.
    pub fn find_step(&mut self, forward: bool) {
        let Some(v) = &self.view else { return };
        let Some(f) = &v.found else {
            return self.say("nothing to find yet (/ in the Events pane)");
        };
        let next = if forward {
            f.keys.range(v.playhead + 1..).next()
        } else {
            f.keys.range(..v.playhead).next_back()
        };
        let wrapped = match (next, f.done) {
            (Some(&k), _) => Some((k, None)),
            (None, false) => return self.say("no further match yet; still searching"),
            (None, true) if forward => f.keys.first().map(|&k| (k, Some("top"))),
            (None, true) => f.keys.last().map(|&k| (k, Some("bottom"))),
        };
        match wrapped {
            Some((k, wrap)) => {
                self.jump(k);
                self.say_match(wrap);
            }
            None => self.warn("nothing matches"),
        }
    }

    /// `match 3 of 17` (or `of 17+` while the search goes on), and whether it wrapped.
    pub fn say_match(&mut self, wrapped: Option<&str>) {
        let Some(text) = self.match_position() else {
            return;
        };
        self.say(match wrapped {
            Some(end) => format!("search wrapped to the {end}: {text}"),
            None => text,
        });
    }

    /// Which match the playhead is on, as `match 3 of 17`.
    pub fn match_position(&self) -> Option<String> {
        let v = self.view.as_ref()?;
        let f = v.found.as_ref()?;
        if !f.keys.contains(&v.playhead) {
            return None;
        }
        let n = f.keys.range(..=v.playhead).count();
        let more = if f.done { "" } else { "+" };
        Some(format!("match {n} of {}{more}", f.keys.len()))
    }

    /// The only-matching view's move: to the match `by` matches away (clamped), or the
    /// first or last.
    pub fn step_matches(&mut self, by: i64) {
        let Some(v) = &self.view else { return };
        let Some(f) = &v.found else { return };
        let target = if by == i64::MIN {
            f.keys.first().copied()
        } else if by == i64::MAX {
            f.keys.last().copied()
        } else if by > 0 {
            f.keys
                .range(v.playhead + 1..)
                .take(by as usize)
                .last()
                .copied()
        } else {
            let back = by.unsigned_abs() as usize;
            f.keys.range(..v.playhead).rev().take(back).last().copied()
        };
        if let Some(k) = target {
            self.seek(k);
        }
    }

    /// A slice of a search's answer, if it is for the search in the view; false when not.
    pub fn on_found(
        &mut self,
        find: FindSpec,
        keys: Vec<i64>,
        rows: Vec<EventRow>,
        scanned: i64,
        done: bool,
        result: Result<(), WorkerError>,
    ) -> bool {
        let Some(f) = self.view.as_mut().and_then(|v| v.found.as_mut()) else {
            return false;
        };
        if f.find != find {
            return false;
        }
        f.keys.extend(keys);
        for r in rows {
            if f.rows.len() >= FOUND_ROWS_KEPT {
                break;
            }
            f.rows.entry(r.key).or_default().push(r);
        }
        f.scanned += scanned;
        f.done = done || result.is_err();
        if let Err(e) = result {
            f.error = Some(e.to_string());
        }
        self.go_to_found();
        true
    }

    /// A search's first move: to the first match at or after where it was asked, else,
    /// once the whole view is searched, around to the first (vim's `/`).
    fn go_to_found(&mut self) {
        let m = self;
        let Some(f) = m.view.as_mut().and_then(|v| v.found.as_mut()) else {
            return;
        };
        let Some(from) = f.go_from else { return };
        let (key, wrapped) = match (f.keys.range(from..).next(), f.done) {
            (Some(&k), _) => (k, None),
            (None, false) => return,
            (None, true) => {
                f.go_from = None;
                match f.keys.first() {
                    Some(&k) => (k, Some("top")),
                    None if f.error.is_none() => return m.warn("nothing matches"),
                    None => return,
                }
            }
        };
        f.go_from = None;
        m.jump(key);
        m.say_match(wrapped);
    }
}

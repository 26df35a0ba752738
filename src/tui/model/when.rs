//! `when`: the versions where a jq predicate on the state turns true (`w`), its marks on
//! the timeline and the steps between them.

use super::Model;
use crate::tui::worker::{Req, WorkerError};

impl super::View {
    /// The versions where the `when` predicate turns true.
    pub fn when_hits(&self) -> &[i64] {
        match &self.when {
            Some((_, Ok(hits))) => hits,
            _ => &[],
        }
    }
}

impl Model {
    /// Finds where a jq predicate on the state turns true; the playhead goes to the first.
    pub fn ask_when(&mut self, predicate: String) {
        let Some(v) = &mut self.view else {
            return self.hint_open_first();
        };
        if !v.is_stream() {
            return self.say("open a stream (not $all or a category) to search its states");
        }
        v.when = None;
        self.outbox.push(Req::When {
            target: v.target.clone(),
            predicate,
            skips: v.skips.iter().copied().collect(),
        });
        self.say("searching…");
    }

    /// Moves to the next (or previous) version where the `when` predicate turns true.
    pub fn when_step(&mut self, forward: bool) {
        let Some(v) = &self.view else {
            return self.hint_open_first();
        };
        let hits = v.when_hits();
        let next = if forward {
            hits.iter().find(|&&h| h > v.playhead)
        } else {
            hits.iter().rev().find(|&&h| h < v.playhead)
        };
        match (next, &v.when) {
            (Some(&h), Some((p, _))) => {
                let p = p.clone();
                self.jump(h);
                self.say(format!("{p} turns true at version {h}"));
            }
            (None, Some((p, _))) => {
                let p = p.clone();
                self.say(format!(
                    "{p}: no turn to true {} this version",
                    if forward { "after" } else { "before" }
                ));
            }
            (_, None) => self.say("no predicate yet (w asks for one)"),
        }
    }

    /// The predicate's answer: a fresh question moves the playhead to the first turn.
    pub fn on_when(&mut self, predicate: String, result: Result<Vec<i64>, WorkerError>) {
        // A fresh question moves the playhead; an answer asked again because the
        // skips changed only updates the marks.
        let fresh = self.view.as_ref().is_some_and(|v| v.when.is_none());
        let first = match &result {
            Ok(hits) if hits.is_empty() => {
                self.warn(format!("never holds: {predicate}"));
                None
            }
            Ok(hits) if fresh => {
                self.say(format!(
                    "{predicate} turns true at {}: {} next, {} previous",
                    eventscope::count(hits.len() as i64, "version"),
                    self.keymap
                        .keys_label(crate::tui::action::Command::WhenNext),
                    self.keymap
                        .keys_label(crate::tui::action::Command::WhenPrev)
                ));
                hits.first().copied()
            }
            Ok(_) => None,
            Err(e) => {
                self.warn(format!("when {predicate}: {e}"));
                None
            }
        };
        if let Some(v) = &mut self.view {
            v.when = Some((predicate, result));
        }
        if let Some(h) = first {
            self.jump(h);
        }
    }
}

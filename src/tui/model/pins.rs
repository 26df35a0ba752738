//! Pinned fields: the State tab pins a field (`P`); its history (every event that changed
//! it) is asked for the open stream, the Events pane marks those events and `n`/`N` step
//! between them, the State tab lists the history beside the state, the footer names the
//! pins. Shared by those three, so kept here; the paths outlive the stream, the history
//! is asked again for each stream, refresh and what-if.

use std::collections::BTreeSet;

use eventscope::replay::history::HistoryRow;

use super::{Model, Target};
use crate::tui::worker::{Req, WorkerError};

/// Fields pinned at most: each is followed through every replay of the stream.
pub const MOST_PINS: usize = 8;

#[derive(Debug, Default)]
pub struct Pins {
    /// JSON Pointers, in the order pinned.
    pub paths: Vec<String>,
    /// The view epoch and paths the history was asked for.
    asked: Option<(u64, Vec<String>)>,
    /// Each path's changes (in `paths`' order), once they have come.
    pub history: Option<Result<Vec<Vec<HistoryRow>>, WorkerError>>,
}

impl Pins {
    /// The versions where a pinned field changed.
    pub fn changed_at(&self) -> BTreeSet<i64> {
        match &self.history {
            Some(Ok(h)) => h.iter().flatten().map(|r| r.version).collect(),
            _ => BTreeSet::new(),
        }
    }

    /// Which pinned paths changed at `version`.
    pub fn changed_paths(&self, version: i64) -> Vec<&str> {
        match &self.history {
            Some(Ok(h)) => self
                .paths
                .iter()
                .zip(h)
                .filter(|(_, rows)| rows.iter().any(|r| r.version == version))
                .map(|(p, _)| p.as_str())
                .collect(),
            _ => Vec::new(),
        }
    }
}

impl Model {
    /// Pins the field at `path`, or unpins it.
    pub fn toggle_pin(&mut self, path: String) {
        let shown = match path.as_str() {
            "" => "/".to_string(),
            p => eventscope::printable(p).into_owned(),
        };
        if let Some(i) = self.pins.paths.iter().position(|p| *p == path) {
            self.pins.paths.remove(i);
            return self.say(format!("{shown} unpinned"));
        }
        if self.pins.paths.len() >= MOST_PINS {
            return self.warn(format!(
                "at most {MOST_PINS} pinned fields: unpin one first"
            ));
        }
        self.pins.paths.push(path);
        let n = self
            .keymap
            .keys_label(crate::tui::action::Command::SearchNext);
        self.say(format!(
            "{shown} pinned: the Events pane marks every event that changed it ({n} in the Events pane goes to the next)"
        ));
    }

    /// Asks for the pinned fields' history of the open stream, when not asked yet.
    pub fn sync_pins(&mut self) {
        let Some(v) = &self.view else { return };
        if self.pins.paths.is_empty() || !v.is_stream() {
            self.pins.history = None;
            self.pins.asked = None;
            return;
        }
        let at = (self.view_epoch, self.pins.paths.clone());
        if self.pins.asked.as_ref() == Some(&at) {
            return;
        }
        self.pins.asked = Some(at);
        self.pins.history = None;
        self.outbox.push(Req::History {
            target: v.target.clone(),
            paths: self.pins.paths.clone(),
            skips: v.skips.iter().copied().collect(),
        });
    }

    /// The history asked last, when it comes.
    pub fn on_history(
        &mut self,
        target: Target,
        paths: Vec<String>,
        result: Result<Vec<Vec<HistoryRow>>, WorkerError>,
    ) {
        let open = self.view.as_ref().is_some_and(|v| v.target == target);
        let asked = self.pins.asked.as_ref().is_some_and(|(_, p)| *p == paths);
        if open && asked {
            if let Err(e) = &result {
                self.warn(format!("pinned fields: {e}"));
            }
            self.pins.history = Some(result);
        }
    }

    /// To the next (or previous) event that changed a pinned field.
    pub fn pin_step(&mut self, forward: bool) {
        let Some(v) = &self.view else { return };
        let at = self.pins.changed_at();
        let next = match forward {
            true => at.range(v.playhead + 1..).next(),
            false => at.range(..v.playhead).next_back(),
        };
        match next.copied() {
            Some(k) => {
                self.jump(k);
                let paths = self.pins.changed_paths(k).join(", ");
                self.say(format!("v{k} changed {}", eventscope::printable(&paths)));
            }
            None if self.pins.history.is_none() => {
                self.say("the pinned fields' history is on its way…")
            }
            None => self.say(format!(
                "no change of a pinned field {} this version",
                if forward { "after" } else { "before" }
            )),
        }
    }
}

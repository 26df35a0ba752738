//! The State tab's blame gutter: the version that last changed each field, asked for as
//! the playhead moves while it is on, and `J`'s jump to a field's version.

use std::collections::HashMap;

use super::Asked;
use crate::tui::model::Model;
use crate::tui::worker::{Msg, Req, Target, WorkerError};

/// Path → the version that last changed it, or why it could not be found.
type BlameResult = Result<HashMap<String, i64>, WorkerError>;

#[derive(Default)]
pub struct Blame {
    /// The gutter is on: blames are asked for as the playhead moves.
    pub on: bool,
    /// A field whose version `J` goes to once the blame for the playhead arrives.
    pending: Option<String>,
    asked: Option<Asked>,
    answer: Option<BlameResult>,
}

/// "v12" for a leaf; for a container, the newest version among its leaves.
pub fn blamed_version(blame: &HashMap<String, i64>, path: &str) -> Option<i64> {
    blame.get(path).copied().or_else(|| {
        let prefix = format!("{path}/");
        blame
            .iter()
            .filter(|(p, _)| p.starts_with(&prefix))
            .map(|(_, v)| *v)
            .max()
    })
}

impl Blame {
    /// The blame for the playhead, if it has arrived.
    pub fn current(&self, model: &Model) -> Option<&HashMap<String, i64>> {
        match (&self.asked, &self.answer) {
            (Some(a), Some(Ok(b))) if a.is_current(model) => Some(b),
            _ => None,
        }
    }

    /// Asks for the blame at the playhead while the gutter is on (a category has none).
    pub fn sync(&mut self, model: &mut Model) {
        let (Some(v), Some(at)) = (&model.view, Asked::now(model)) else {
            return;
        };
        if !self.on || matches!(v.target, Target::Category(_)) || self.asked == Some(at) {
            return;
        }
        self.asked = Some(at);
        self.answer = None;
        model.outbox.push(Req::Blame {
            target: v.target.clone(),
            key: v.playhead,
            skips: v.skips.iter().copied().collect(),
        });
    }

    /// Takes the blame asked last; a `J` waiting for it goes then. An older answer (another
    /// key's) leaves it waiting.
    pub fn on_answer(&mut self, msg: Msg, model: &mut Model) -> Option<Msg> {
        let Msg::Blame {
            target,
            key,
            result,
        } = msg
        else {
            return Some(msg);
        };
        let open = model.view.as_ref().is_some_and(|v| v.target == target);
        if !self
            .asked
            .is_some_and(|a| open && a.key == key && a.is_current(model))
        {
            return None;
        }
        let failed = result.as_ref().err().map(|e| format!("no blame here: {e}"));
        self.answer = Some(result);
        match (self.pending.take(), failed) {
            (Some(_), Some(why)) => model.warn(why),
            (Some(path), None) => self.jump(path, model),
            (None, _) => {}
        }
        None
    }

    /// Moves the playhead to the version that last changed the field at `path`, turning
    /// blame on and waiting for it first where need be.
    pub fn jump(&mut self, path: String, model: &mut Model) {
        self.on = true;
        let found = self.current(model).map(|b| blamed_version(b, &path));
        let shown = if path.is_empty() { "/" } else { &path };
        let shown = eventscope::printable(shown).into_owned();
        match found {
            None => {
                self.pending = Some(path);
                self.sync(model);
                model.say(format!(
                    "blame on: going to the version that last changed {shown}…"
                ));
            }
            Some(None) => model.say(format!("nothing set {shown}")),
            Some(Some(v)) => {
                model.jump(v);
                model.say(format!("{shown} last changed at version {v}"));
            }
        }
    }
}

//! Finding events: a jq predicate over the envelope (`--where`), a plain substring of the
//! stored payload and metadata (`--text`), and time bounds, tested on each row before it is
//! decoded.

use chrono::{DateTime, Utc};
use jaq_json::Val;

use super::event_fields::{fields_used, DataPaths, Fields};
use super::jq::{self, EnvelopeKeys, JqProgram};
use super::native_predicate::{recognise, NativePredicate};
use super::{Program, Watch};
use crate::fast_paths::FastPath;
use crate::store::StreamRow;

/// What an event must satisfy to be kept.
#[derive(Default)]
pub struct EventTest {
    predicate: Option<(JqProgram, Box<EnvelopeKeys>)>,
    /// The predicate judged without the interpreter, and the parts of the envelope it
    /// reads (see `native_predicate.rs`).
    native: Option<(NativePredicate, Fields, Option<Box<DataPaths>>)>,
    /// The predicate's text, as a report names it.
    code: String,
    watch: Option<std::sync::Arc<Watch>>,
    text: Option<String>,
    /// The TUI's search: the text is also looked for in the stream id and the type, and
    /// without regard to ASCII case when it has no capital (vim's smart-case).
    text_as_shown: bool,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

impl EventTest {
    /// `where_` is jq over the envelope, as reducers see `$event` (`.data.amount > 1000`).
    /// Fails with the compiler's message (`--where:1:15: expected term`).
    pub fn new(where_: Option<&str>, text: Option<&str>) -> Result<EventTest, String> {
        let predicate = match where_ {
            Some(code) => Some((JqProgram::compile("--where", code)?, Box::default())),
            None => None,
        };
        let native = where_.and_then(recognise).map(|n| {
            let reads = n.input_paths_as_event();
            (n, fields_used(&reads), DataPaths::of(&reads).map(Box::new))
        });
        Ok(EventTest {
            predicate,
            native,
            code: where_.map(|c| crate::event::fit(c, 80)).unwrap_or_default(),
            watch: None,
            text: text.map(str::to_string),
            text_as_shown: false,
            since: None,
            until: None,
        })
    }

    /// Looks for the text as a reader of the Events pane does: in the stream id and the
    /// type too, and smart-case (a text with no capital letter matches any case).
    pub fn text_as_shown(mut self) -> Self {
        self.text_as_shown = true;
        self
    }

    /// Whether the text is in a row's payload or metadata (and, as shown, its names).
    fn text_found(&self, row: &StreamRow, needle: &str) -> bool {
        let any_case = self.text_as_shown && !needle.chars().any(char::is_uppercase);
        let has = |hay: &[u8]| match any_case {
            true => contains_any_case(hay, needle.as_bytes()),
            false => contains(hay, needle.as_bytes()),
        };
        if self.text_as_shown
            && (has(row.stream_id().as_bytes()) || has(row.event_type().as_bytes()))
        {
            return true;
        }
        match row {
            StreamRow::Raw(r) => has(r.data) || r.metadata.is_some_and(has),
            StreamRow::Event(e) => {
                has(e.data.to_string().as_bytes()) || has(e.metadata.to_string().as_bytes())
            }
        }
    }

    /// Marks every predicate call on `watch`, whose monitor stops one that runs past its
    /// limits (the place reported is the row's global position).
    pub fn with_watch(mut self, watch: std::sync::Arc<Watch>) -> Self {
        watch.name(Program::Where, &format!("`{}`", self.code));
        self.watch = Some(watch);
        self
    }

    pub fn is_empty(&self) -> bool {
        self.predicate.is_none()
            && self.text.is_none()
            && self.since.is_none()
            && self.until.is_none()
    }

    /// The costlier columns the tests read: a reader may leave the others out.
    pub fn columns(&self) -> crate::store::Columns {
        let mut c = match (&self.predicate, &self.native) {
            (None, _) => crate::store::Columns::NONE,
            (Some(_), Some((_, fields, _))) if FastPath::Predicate.on() => fields.columns(),
            (Some(_), _) => crate::store::Columns::ALL,
        };
        c.metadata |= self.text.is_some();
        c.timestamp |= self.needs_times();
        c
    }

    pub fn needs_times(&self) -> bool {
        self.since.is_some() || self.until.is_some()
    }

    /// Whether the row passes every test. The predicate's errors (a missing field) count
    /// as false, as `when` counts them.
    pub fn keeps(&self, row: &StreamRow) -> bool {
        if let Some(needle) = &self.text {
            if !self.text_found(row, needle) {
                return false;
            }
        }
        if self.needs_times() {
            let stamp = match row {
                StreamRow::Raw(r) => r.timestamp,
                StreamRow::Event(e) => e.timestamp.as_deref(),
            };
            let Some(t) = stamp.and_then(crate::time::parse_stored) else {
                return false;
            };
            if self.since.is_some_and(|s| t < s) || self.until.is_some_and(|u| t > u) {
                return false;
            }
        }
        if let Some((program, keys)) = &self.predicate {
            if let Some(kept) = self.judged_natively(row, keys) {
                return kept;
            }
            let envelope = match row {
                StreamRow::Raw(raw) => jq::raw_event_val(raw, keys, &jq::EventShape::ALL),
                StreamRow::Event(e) => jq::event_val(e, jq::EventShape::ALL.fields),
            };
            if let Some(w) = &self.watch {
                w.begin_as(Program::Where, row.global_position(), row.event_type());
            }
            let kept = matches!(
                program.run(envelope.clone(), envelope),
                Ok(v) if !matches!(v, Val::Null | Val::Bool(false))
            );
            if let Some(w) = &self.watch {
                w.end();
            }
            return kept;
        }
        true
    }
}

impl EventTest {
    /// The predicate's answer from the parts of the envelope it reads, without the
    /// interpreter; `None` where jaq must judge.
    fn judged_natively(&self, row: &StreamRow, keys: &EnvelopeKeys) -> Option<bool> {
        let (native, fields, paths) = self.native.as_ref().filter(|_| FastPath::Predicate.on())?;
        let envelope = match row {
            StreamRow::Raw(raw) => {
                let shape = jq::EventShape {
                    fields: *fields,
                    data_paths: paths.as_deref().filter(|_| FastPath::Targeted.on()),
                };
                jq::raw_event_val(raw, keys, &shape)
            }
            StreamRow::Event(e) => jq::event_val(e, *fields),
        };
        native.judge(&envelope, Some(&envelope))
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// [`contains`] with ASCII letters of either case alike.
pub fn contains_any_case(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty()
        || haystack
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

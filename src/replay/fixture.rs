//! History turned into tests: a fixture holds events (given) and the state a reducer made
//! of them (then). It is NDJSON: a header line (`{"eventscope_fixture": 1, …}`, which
//! `import` passes over) and then one envelope per line in the `events --json` shape, so
//! `import` reads the events back into a store.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::diff::{diff, Change};
use super::jq::{self, JqProgram};
use super::reducer::Reducer;
use super::{Program, Watch};
use crate::store::StreamRow;
use crate::Event;

/// The header's key, and the version of the format.
pub const FIXTURE_KEY: &str = "eventscope_fixture";
const FORMAT: u32 = 1;

/// What a fixture expects: a stream's state after its event at `version`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Expected {
    pub stream: String,
    pub version: i64,
    pub state: Value,
}

/// A fixture's first line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub eventscope_fixture: u32,
    /// The reducer that made the expected states, as it was named.
    pub reducer: String,
    /// The jq program each envelope went through before anything was computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redact: Option<String>,
    pub expect: Vec<Expected>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Fixture {
    pub header: Header,
    /// In the order they are folded: stream by stream as given, each in version order.
    pub events: Vec<Event>,
}

impl Fixture {
    /// Makes a fixture of `events` (redacted first by `redact`, under `watch`): the state
    /// of each stream after its last given event, as `reducer` folds them from nothing.
    pub fn make(
        reducer: &Reducer,
        reducer_name: &str,
        mut events: Vec<Event>,
        redact: Option<&Redaction>,
        watch: Option<&Watch>,
    ) -> Result<Fixture, String> {
        if let Some(r) = redact {
            events = events
                .into_iter()
                .map(|e| r.apply(e, watch))
                .collect::<Result<_, _>>()?;
        }
        let mut streams: Vec<(String, i64)> = Vec::new();
        for e in &events {
            match streams.iter_mut().find(|(s, _)| *s == e.stream_id) {
                Some((_, v)) => *v = (*v).max(e.version),
                None => streams.push((e.stream_id.clone(), e.version)),
            }
        }
        let mut expect = Vec::new();
        for (stream, version) in streams {
            let state = fold(reducer, &events, &stream, version, watch)?;
            expect.push(Expected {
                stream,
                version,
                state,
            });
        }
        Ok(Fixture {
            header: Header {
                eventscope_fixture: FORMAT,
                reducer: reducer_name.to_string(),
                redact: redact.map(|r| r.code.clone()),
                expect,
            },
            events,
        })
    }

    /// The fixture as NDJSON: the header, then the envelopes.
    pub fn to_ndjson(&self) -> String {
        let mut out = serde_json::to_string(&self.header).unwrap_or_default();
        out.push('\n');
        for e in &self.events {
            out.push_str(&serde_json::to_string(e).unwrap_or_default());
            out.push('\n');
        }
        out
    }

    /// Reads a fixture; `name` is how errors name it.
    pub fn parse(text: &str, name: &str) -> Result<Fixture, String> {
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let Some((_, first)) = lines.next() else {
            return Err(format!("{name}: empty, not a fixture"));
        };
        let header: Header = serde_json::from_str(first.trim_start_matches('\u{feff}'))
            .map_err(|e| format!("{name}: line 1 is not a fixture's header ({e})"))?;
        if header.eventscope_fixture != FORMAT {
            return Err(format!(
                "{name}: fixture format {} (this eventscope reads format {FORMAT})",
                header.eventscope_fixture
            ));
        }
        let events = lines
            .map(|(i, l)| {
                serde_json::from_str::<Event>(l)
                    .map_err(|e| format!("{name}: line {} is not an envelope ({e})", i + 1))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Fixture { header, events })
    }

    /// Folds the given events with `reducer` and compares each expected state.
    pub fn run(&self, reducer: &Reducer, watch: Option<&Watch>) -> Vec<Outcome> {
        self.header
            .expect
            .iter()
            .map(|x| {
                let got = fold(reducer, &self.events, &x.stream, x.version, watch);
                Outcome {
                    stream: x.stream.clone(),
                    version: x.version,
                    result: got.map(|state| diff(&x.state, &state)),
                }
            })
            .collect()
    }
}

/// One expectation checked: the changes from the expected state to the one folded (none
/// when it passes), or the reducer's error.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    pub stream: String,
    pub version: i64,
    pub result: Result<Vec<Change>, String>,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        matches!(&self.result, Ok(changes) if changes.is_empty())
    }
}

/// `stream`'s state after its event at `version`, folded from nothing over `events`.
fn fold(
    reducer: &Reducer,
    events: &[Event],
    stream: &str,
    version: i64,
    watch: Option<&Watch>,
) -> Result<Value, String> {
    let mine: Vec<&Event> = events
        .iter()
        .filter(|e| e.stream_id == stream && e.version <= version)
        .collect();
    let category = mine
        .first()
        .and_then(|e| e.category.clone())
        .unwrap_or_else(|| crate::event::category_of(stream).to_string());
    let mut fold = reducer.start(&category, Value::Null);
    let mut named = String::new();
    for e in mine {
        let row = StreamRow::Event(Box::new(e.clone()));
        super::walk::apply_marked(&mut fold, &row, watch, &mut named).map_err(|e| e.to_string())?;
    }
    Ok(fold.into_state())
}

/// `--redact`: a jq program each envelope goes through (`.data.email = "x"`), whose output
/// must be an envelope again.
pub struct Redaction {
    program: JqProgram,
    code: String,
}

impl Redaction {
    pub fn new(code: &str) -> Result<Redaction, String> {
        Ok(Redaction {
            program: JqProgram::compile("--redact", code)?,
            code: code.to_string(),
        })
    }

    /// Names the program on `watch`, whose monitor stops a call that runs past its limits.
    pub fn watch_on(&self, watch: &Watch) {
        watch.name(
            Program::Redact,
            &format!("`{}`", crate::event::fit(&self.code, 80)),
        );
    }

    fn apply(&self, event: Event, watch: Option<&Watch>) -> Result<Event, String> {
        let json = serde_json::to_value(&event).map_err(|e| e.to_string())?;
        let val = jq::to_val(&json);
        if let Some(w) = watch {
            w.stream(&event.stream_id);
            w.begin_as(Program::Redact, event.version, &event.event_type);
        }
        let out = self.program.first_output(val.clone(), val);
        if let Some(w) = watch {
            w.end();
        }
        let place = format!("{} version {}", event.stream_id, event.version);
        let out = out
            .map_err(|e| format!("--redact failed at {place}: {e}"))?
            .ok_or_else(|| format!("--redact gave nothing at {place}"))?;
        serde_json::from_value(jq::from_val(&out)).map_err(|e| {
            format!("--redact must give an envelope back (as events --json prints them); at {place} it gave one that is not ({e})")
        })
    }
}

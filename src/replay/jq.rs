//! jq reducers, run by jaq: compiled once, then applied to one event at a time with the
//! envelope bound to `$event`.

use jaq_core::data::JustLut;
use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Compiler, Ctx, Vars};
use jaq_json::Val;
use serde_json::{Map, Number, Value};

use super::event_fields::{fields_used, DataPaths, Fields, FIELD_NAMES};
use crate::event::Event;
use crate::fast_paths::FastPath;
use crate::store::RawEvent;

type Data = JustLut<Val>;

/// A compiled jq reducer.
pub struct JqProgram {
    filter: jaq_core::Filter<Data>,
    /// Where it came from, for messages.
    pub name: String,
    /// The `$event` fields it reads; only these are built for each event.
    pub fields: Fields,
    /// The payload paths it reads, where it reads the payload only by name.
    data_paths: Option<Box<DataPaths>>,
    /// One program per branch of a top-level type chain (see `dispatch.rs`).
    chain: Option<Box<Dispatch>>,
    /// The program is exactly `.a OP= $event.b` (see `native.rs`).
    native: Option<Box<super::native::NativeUpdate>>,
    /// `$ENV`: empty, made once.
    env: Val,
}

/// The branches of a type chain, compiled.
struct Dispatch {
    by_type: std::collections::HashMap<String, usize>,
    branches: Vec<JqProgram>,
    otherwise: Option<JqProgram>,
}

impl JqProgram {
    /// Compiles `code`; the error points at the line and column of the mistake. A
    /// top-level type chain also gets one program per branch, used by `apply_event`.
    pub fn compile(name: &str, code: &str) -> Result<JqProgram, String> {
        let mut program = JqProgram::compile_whole(name, code)?;
        program.chain = super::dispatch::recognise(code).and_then(|c| {
            let compile = |src: &String| JqProgram::compile_whole(name, src).ok();
            Some(Box::new(Dispatch {
                by_type: c.by_type,
                branches: c.branches.iter().map(compile).collect::<Option<Vec<_>>>()?,
                otherwise: match &c.otherwise {
                    Some(src) => Some(compile(src)?),
                    None => None,
                },
            }))
        });
        Ok(program)
    }

    /// Whether the program runs branch by branch on the event type.
    pub fn dispatches(&self) -> bool {
        self.chain.is_some() && FastPath::Dispatch.on()
    }

    /// Applies the program to `state` for an event of `event_type`: through the branch
    /// for that type where the program is a type chain, natively where the branch is a
    /// plain update, else in jaq. It gives what the whole program gives; on an error the
    /// state is left as it was. `event` builds `$event` with what the program that runs
    /// reads (a branch reads less than the whole chain); `check` vets a new state from jaq
    /// before it is kept.
    pub fn apply_event(
        &self,
        state: &mut Val,
        event: impl FnOnce(&EventShape) -> Val,
        event_type: &str,
        check: impl Fn(Val) -> Result<Val, String>,
        keep_on_error: bool,
    ) -> Result<(), String> {
        let program = match &self.chain {
            Some(d) if FastPath::Dispatch.on() => {
                let branch = match d.by_type.get(event_type) {
                    Some(&i) => d.branches.get(i),
                    None => d.otherwise.as_ref(),
                };
                match branch {
                    Some(p) => p,
                    // `if … end` without `else` leaves its input as it is.
                    None => return Ok(()),
                }
            }
            _ => self,
        };
        let event = event(&EventShape {
            fields: program.fields,
            data_paths: program.targeted_paths(),
        });
        if let Some(n) = program.native.as_ref().filter(|_| FastPath::Native.on()) {
            if n.apply(state, &event) {
                return Ok(());
            }
        }
        if keep_on_error {
            let next = check(program.run(state.clone(), event)?)?;
            *state = next;
        } else {
            // Moved, so jaq updates it in place instead of copying it first.
            *state = check(program.run(std::mem::take(state), event)?)?;
        }
        Ok(())
    }

    /// What `$event` must hold for the whole program.
    pub fn shape(&self) -> EventShape<'_> {
        EventShape {
            fields: self.fields,
            data_paths: self.targeted_paths(),
        }
    }

    fn targeted_paths(&self) -> Option<&DataPaths> {
        self.data_paths
            .as_deref()
            .filter(|_| FastPath::Targeted.on())
    }

    fn compile_whole(name: &str, code: &str) -> Result<JqProgram, String> {
        let user_code = code;
        let full = format!("{PRELUDE}{code}");
        let code = full.as_str();
        let defs = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs());
        // Nothing of the process's environment reaches a program (a shared reducer must
        // not copy PGPASSWORD into its output): `env` and `$ENV` are empty objects.
        let funs = jaq_core::funs()
            .chain(jaq_std::funs().filter(|(name, ..)| *name != "env"))
            .chain(jaq_json::funs());
        let arena = Arena::default();
        let loader = Loader::new(defs);
        let modules = loader
            .load(&arena, File { code, path: () })
            .map_err(|errs| {
                let first = errs.into_iter().next();
                first.map_or_else(
                    || format!("{name}: cannot be loaded"),
                    |(_, err)| load_error(name, code, err),
                )
            })?;
        let filter = Compiler::default()
            .with_funs(funs)
            .with_global_vars(["$event", "$ENV"])
            .compile(modules)
            .map_err(|errs| {
                let mut parts = Vec::new();
                for (_, undefined) in errs {
                    for (sym, what) in undefined {
                        parts.push(format!(
                            "{}: undefined {} `{sym}`",
                            locate(name, code, sym),
                            what.as_str()
                        ));
                    }
                }
                parts.join("; ")
            })?;
        Ok(JqProgram {
            filter,
            name: name.to_string(),
            fields: fields_used(user_code),
            data_paths: DataPaths::of(user_code).map(Box::new),
            chain: None,
            native: super::native::recognise(user_code).map(Box::new),
            env: Val::obj(Default::default()),
        })
    }

    /// Runs the program on `state` with `$event` bound; its first output is the new state.
    /// A panic inside jaq (a builtin's bug on an input no one tried) is an error of this
    /// call, not the end of the process.
    pub fn run(&self, state: Val, event: Val) -> Result<Val, String> {
        self.first_output(state, event)?
            .ok_or_else(|| "the reducer produced no state (end with `.` to keep it)".into())
    }

    /// The program's first output, `None` where it gives none (`empty`).
    pub fn first_output(&self, state: Val, event: Val) -> Result<Option<Val>, String> {
        quiet_panics();
        IN_JQ.with(|f| f.set(true));
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.run_unguarded(state, event)
        }));
        IN_JQ.with(|f| f.set(false));
        run.unwrap_or_else(|panic| {
            let why = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(format!("jaq failed inside the program ({why})"))
        })
    }

    fn run_unguarded(&self, state: Val, event: Val) -> Result<Option<Val>, String> {
        let ctx = Ctx::<Data>::new(&self.filter.lut, Vars::new([event, self.env.clone()]));
        // jaq's own unwrapping ends the process on `halt`: a reducer's halt is an error.
        let mut out = self.filter.id.run((ctx, state)).map(|r| {
            r.map_err(|exn| match exn.get_err() {
                Ok(e) => e.to_string(),
                Err(exn) => match exn.get_halt() {
                    Ok(code) => {
                        format!("the reducer called halt({code}); a reducer must output a state")
                    }
                    Err(_) => "the reducer stopped with an unexpected exception".into(),
                },
            })
        });
        match out.next() {
            Some(Ok(v)) => Ok(Some(v)),
            // jq's messages quote the values involved, which may be whole payloads.
            Some(Err(e)) => Err(crate::event::fit(&e, 401)),
            None => Ok(None),
        }
    }
}

thread_local! {
    /// Set while this thread runs a jq program: a panic there is reported as its error.
    static IN_JQ: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Keeps the panic hook from printing for panics inside jq programs (they become errors);
/// every other panic is shown as before.
fn quiet_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !IN_JQ.with(|f| f.get()) {
                previous(info);
            }
        }));
    });
}

fn load_error(name: &str, code: &str, err: jaq_core::load::Error<&str>) -> String {
    use jaq_core::load::Error;
    match err {
        Error::Io(errs) => errs
            .into_iter()
            .map(|(path, e)| format!("{name}: cannot read {path}: {e}"))
            .next()
            .unwrap_or_else(|| format!("{name}: cannot be loaded")),
        Error::Lex(errs) => errs
            .into_iter()
            .map(|(expect, at)| format!("{}: expected {}", locate(name, code, at), expect.as_str()))
            .collect::<Vec<_>>()
            .join("; "),
        Error::Parse(errs) => errs
            .into_iter()
            .map(|(expect, at)| format!("{}: expected {}", locate(name, code, at), expect.as_str()))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// Definitions put before every reducer, on its first line so that line numbers stay the
/// user's. Nothing a reducer does may write to the terminal (the TUI owns it) or end the
/// process: `halt_error` is an error that quotes its input, and `stderr` passes its input
/// on without printing (`debug` prints nothing without a logger).
const PRELUDE: &str = "def env: {}; def stderr: .; def halt_error($code): error(\"halt_error(\\($code)): \\(tojson)\"); def halt_error: halt_error(5); ";

/// `name:line:column` of `at`, a slice of `code` (the prelude and the user's program) that
/// jaq points at.
fn locate(name: &str, code: &str, at: &str) -> String {
    let offset = (at.as_ptr() as usize).wrapping_sub(code.as_ptr() as usize);
    if offset > code.len() || offset < PRELUDE.len() {
        return name.to_string();
    }
    let code = &code[PRELUDE.len()..];
    let offset = offset - PRELUDE.len();
    let before = &code[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    format!("{name}:{line}:{column}")
}

/// The envelope's keys, made once per fold: cloning one costs a small box, not a string.
pub struct EnvelopeKeys([Val; 12]);

impl Default for EnvelopeKeys {
    fn default() -> Self {
        EnvelopeKeys(FIELD_NAMES.map(|s| Val::utf8_str(s.as_bytes())))
    }
}

/// What of `$event` a program reads: the envelope's fields, and where it reads the
/// payload only by name, the paths it reads (see `targeted_read.rs`).
#[derive(Debug, Clone, Copy)]
pub struct EventShape<'p> {
    pub fields: Fields,
    pub data_paths: Option<&'p DataPaths>,
}

impl EventShape<'_> {
    /// Every field, the payload whole.
    pub const ALL: EventShape<'static> = EventShape {
        fields: Fields::ALL,
        data_paths: None,
    };
}

/// Builds `$event` straight from a raw row, with only what the program reads: payloads
/// parse into jaq values with no intermediate `serde_json::Value`.
pub fn raw_event_val(r: &RawEvent, keys: &EnvelopeKeys, shape: &EventShape) -> Val {
    let fields = shape.fields;
    let mut m = jaq_json::Map::with_capacity_and_hasher(8, Default::default());
    let text = |s: &str| Val::utf8_str(s.as_bytes().to_vec());
    let mut put = |i: usize, v: Val| {
        m.insert(keys.0[i].clone(), v);
    };
    let want = |i: usize| fields.has_index(i);
    if want(0) {
        put(0, Val::from(r.global_position as isize));
    }
    if want(1) {
        put(1, text(r.stream_id));
    }
    if want(2) {
        put(2, Val::from(r.version as isize));
    }
    if want(3) {
        let id = match r.event_id {
            Some(id) => text(id),
            None => text(&format!("{}@{}", r.stream_id, r.version)),
        };
        put(3, id);
    }
    if want(4) {
        put(4, text(r.event_type));
    }
    if want(5) || want(11) {
        // Text that is not UTF-8 or not JSON is marked exactly as the envelope marks it
        // (`events --json`, the merge): jaq's reader alone would take invalid UTF-8.
        let parsed = std::str::from_utf8(r.data).ok().map(|_| {
            let targeted = shape
                .data_paths
                .and_then(|p| super::targeted_read::read(r.data, p));
            targeted.map_or_else(|| parse_bounded(r.data), Ok)
        });
        match parsed {
            Some(Ok(v)) => put(5, v),
            _ => {
                let (reason, shown) =
                    crate::store::decode_payload(r.data, crate::store::Decoder::Json)
                        .err()
                        .unwrap_or_else(|| ("not JSON".into(), Value::Null));
                put(5, to_val(&shown));
                put(11, text(&reason));
            }
        }
    }
    if want(6) {
        // As the envelope reads it: JSON, else the text itself.
        let meta = match r.metadata {
            None => Val::obj(Default::default()),
            Some(b) => {
                let t = String::from_utf8_lossy(b);
                match serde_json::from_str::<Value>(&t) {
                    Ok(v) => to_val(&v),
                    Err(_) => Val::utf8_str(t.into_owned()),
                }
            }
        };
        put(6, meta);
    }
    if want(7) {
        let ts = r.timestamp.map(crate::time::normalise);
        put(7, ts.map_or(Val::Null, |t| Val::utf8_str(t.into_bytes())));
    }
    Val::obj(m)
}

/// How deep a reducer's state may nest. Converting, comparing, printing and dropping a
/// value recurse once per level; past this a reducer like `{prev: .}` would overflow the
/// stack after some thousands of events, so the state is refused instead.
pub const MAX_STATE_DEPTH: usize = 512;

/// Whether `v` nests at most `max` levels, found without recursion. A state whose
/// containers hold only scalars (most aggregates) is checked without allocating.
pub fn depth_within(v: &Val, max: usize) -> bool {
    let mut stack: Vec<(&Val, usize)> = Vec::new();
    let mut next = Some((v, 0usize));
    while let Some((v, depth)) = next.take().or_else(|| stack.pop()) {
        let is_container = |c: &&Val| matches!(c, Val::Arr(_) | Val::Obj(_));
        match v {
            Val::Arr(_) | Val::Obj(_) if depth >= max => return false,
            Val::Arr(a) => stack.extend(a.iter().filter(is_container).map(|c| (c, depth + 1))),
            Val::Obj(o) => stack.extend(o.values().filter(is_container).map(|c| (c, depth + 1))),
            _ => {}
        }
    }
    true
}

/// The error for a state past [`MAX_STATE_DEPTH`].
pub fn too_deep() -> String {
    format!(
        "the state nests deeper than {MAX_STATE_DEPTH} levels, which eventscope refuses (a reducer like {{prev: .}} nests the whole history)"
    )
}

/// How deep JSON may nest, as `serde_json` allows: jaq's reader recurses without a limit,
/// and a hostile payload of `[[[[…` would overflow the stack.
pub(super) const MAX_DEPTH: usize = 128;

/// Parses a payload into a jaq value, refusing nesting deeper than serde_json allows.
pub fn parse_bounded(b: &[u8]) -> Result<Val, String> {
    if !nesting_within(b, MAX_DEPTH) {
        return Err(format!(
            "recursion limit exceeded (deeper than {MAX_DEPTH} levels)"
        ));
    }
    jaq_json::read::parse_single(b).map_err(|e| e.to_string())
}

/// Whether brackets outside strings nest at most `max` deep.
fn nesting_within(b: &[u8], max: usize) -> bool {
    let (mut depth, mut in_str, mut escaped) = (0usize, false, false);
    for &c in b {
        if in_str {
            match c {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            b'"' => in_str = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return false;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    true
}

/// Builds `$event` from a decoded envelope, with the fields the program reads.
pub fn event_val(event: &Event, fields: Fields) -> Val {
    let Ok(Value::Object(envelope)) = serde_json::to_value(event) else {
        return Val::Null;
    };
    Val::obj(
        envelope
            .iter()
            .filter(|(k, _)| fields.has(k))
            .map(|(k, v)| (Val::from(k.clone()), to_val(v)))
            .collect(),
    )
}

pub fn to_val(v: &Value) -> Val {
    match v {
        Value::Null => Val::Null,
        Value::Bool(b) => Val::Bool(*b),
        Value::Number(n) => match n.as_i64().and_then(|i| isize::try_from(i).ok()) {
            Some(i) => Val::from(i),
            // Integers beyond 64 bits stay exact, as jaq reads them from a payload; so a
            // state is the same whether it came from a checkpoint or a fresh replay.
            // A fraction stays a decimal (its text), so money adds exactly (vendor/jaq-json),
            // as jaq itself reads it from a payload.
            None => {
                let text = n.to_string();
                let integral = !text.contains(['.', 'e', 'E']);
                match integral
                    .then(|| jaq_json::Num::from_str_radix(&text, 10))
                    .flatten()
                {
                    Some(big) => Val::Num(big),
                    None if !integral => Val::Num(jaq_json::Num::Dec(text.into())),
                    None => Val::from(n.as_f64().unwrap_or(f64::NAN)),
                }
            }
        },
        Value::String(s) => Val::from(s.clone()),
        Value::Array(a) => a.iter().map(to_val).collect(),
        Value::Object(o) => Val::obj(
            o.iter()
                .map(|(k, v)| (Val::from(k.clone()), to_val(v)))
                .collect(),
        ),
    }
}

pub fn from_val(v: &Val) -> Value {
    use jaq_json::Num;
    match v {
        Val::Null => Value::Null,
        Val::Bool(b) => Value::Bool(*b),
        Val::Num(Num::Int(i)) => Value::from(*i as i64),
        // jq prints whole floats without a fraction; so do we (150 * 80 / 100 is `120`).
        Val::Num(Num::Float(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => Value::from(*f as i64),
        Val::Num(Num::Float(f)) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
        Val::Num(n) => serde_json::from_str(&n.to_string()).unwrap_or(Value::Null),
        Val::TStr(b) | Val::BStr(b) => Value::String(String::from_utf8_lossy(b).into_owned()),
        Val::Arr(a) => Value::Array(a.iter().map(from_val).collect()),
        Val::Obj(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (key_string(k), from_val(v)))
                .collect::<Map<_, _>>(),
        ),
    }
}

pub(super) fn key_string(k: &Val) -> String {
    match k {
        Val::TStr(b) | Val::BStr(b) => String::from_utf8_lossy(b).into_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_is_measured_outside_strings() {
        assert!(nesting_within(br#"{"a": [1, {"b": "[[[[["}]}"#, 3));
        assert!(!nesting_within(br#"[[[[1]]]]"#, 3));
        assert!(nesting_within(br#""\"[[[[""#, 1));
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse_bounded(deep.as_bytes())
            .unwrap_err()
            .contains("recursion limit"));
        assert!(parse_bounded(br#"{"ok": [1]}"#).is_ok());
    }
}

//! jq reducers, run by jaq: compiled once, then applied to one event at a time with the
//! envelope bound to `$event`.

use jaq_core::data::JustLut;
use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Compiler, Ctx, Vars};
use jaq_json::Val;
use serde_json::{Map, Number, Value};

use crate::event::Event;
use crate::store::{normalise_time, RawEvent};

type Data = JustLut<Val>;

/// A compiled jq reducer.
pub struct JqProgram {
    filter: jaq_core::Filter<Data>,
    /// Where it came from, for messages.
    pub name: String,
}

impl JqProgram {
    /// Compiles `code`; the error points at the line and column of the mistake.
    pub fn compile(name: &str, code: &str) -> Result<JqProgram, String> {
        let defs = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs());
        let funs = jaq_core::funs()
            .chain(jaq_std::funs())
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
            .with_global_vars(["$event"])
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
        })
    }

    /// Runs the program on `state` with `$event` bound; its first output is the new state.
    pub fn run(&self, state: Val, event: Val) -> Result<Val, String> {
        let ctx = Ctx::<Data>::new(&self.filter.lut, Vars::new([event]));
        let mut out = self.filter.id.run((ctx, state)).map(jaq_core::unwrap_valr);
        match out.next() {
            Some(Ok(v)) => Ok(v),
            Some(Err(e)) => Err(e.to_string()),
            None => Err("the reducer produced no state (end with `.` to keep it)".into()),
        }
    }
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

/// `name:line:column` of `at`, a slice of `code` that jaq points at.
fn locate(name: &str, code: &str, at: &str) -> String {
    let offset = (at.as_ptr() as usize).wrapping_sub(code.as_ptr() as usize);
    if offset > code.len() {
        return name.to_string();
    }
    let before = &code[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    format!("{name}:{line}:{column}")
}

/// The envelope's keys, made once per fold: cloning one costs a small box, not a string.
pub struct EnvelopeKeys([Val; 9]);

impl Default for EnvelopeKeys {
    fn default() -> Self {
        let k = |s: &'static str| Val::utf8_str(s.as_bytes());
        EnvelopeKeys([
            k("global_position"),
            k("stream_id"),
            k("version"),
            k("event_id"),
            k("type"),
            k("data"),
            k("metadata"),
            k("timestamp"),
            k("undecodable"),
        ])
    }
}

/// Builds `$event` straight from a raw row: payloads parse into jaq values with no
/// intermediate `serde_json::Value`.
pub fn raw_event_val(r: &RawEvent, keys: &EnvelopeKeys) -> Val {
    let mut m = jaq_json::Map::with_capacity_and_hasher(9, Default::default());
    let [k_pos, k_stream, k_version, k_id, k_type, k_data, k_meta, k_ts, k_bad] = &keys.0;
    let text = |s: &str| Val::utf8_str(s.as_bytes().to_vec());
    m.insert(k_pos.clone(), Val::from(r.global_position as isize));
    m.insert(k_stream.clone(), text(r.stream_id));
    m.insert(k_version.clone(), Val::from(r.version as isize));
    let id = match r.event_id {
        Some(id) => text(id),
        None => text(&format!("{}@{}", r.stream_id, r.version)),
    };
    m.insert(k_id.clone(), id);
    m.insert(k_type.clone(), text(r.event_type));
    match jaq_json::read::parse_single(r.data) {
        Ok(v) => {
            m.insert(k_data.clone(), v);
        }
        Err(e) => {
            m.insert(
                k_data.clone(),
                Val::utf8_str(String::from_utf8_lossy(r.data).into_owned()),
            );
            m.insert(k_bad.clone(), text(&format!("not JSON: {e}")));
        }
    }
    let meta = r
        .metadata
        .and_then(|b| jaq_json::read::parse_single(b).ok())
        .unwrap_or_else(|| Val::obj(Default::default()));
    m.insert(k_meta.clone(), meta);
    let ts = r.timestamp.map(normalise_time).unwrap_or_default();
    m.insert(k_ts.clone(), Val::utf8_str(ts.into_bytes()));
    Val::obj(m)
}

/// Builds the `$event` value from the envelope.
pub fn event_val(event: &Event) -> Val {
    let mut m = jaq_json::Map::default();
    let mut put = |k: &str, v: Val| {
        m.insert(Val::from(k.to_string()), v);
    };
    put("global_position", Val::from(event.global_position as isize));
    put("stream_id", Val::from(event.stream_id.clone()));
    put("version", Val::from(event.version as isize));
    put("event_id", Val::from(event.event_id.clone()));
    put("type", Val::from(event.event_type.clone()));
    put("data", to_val(&event.data));
    put("metadata", to_val(&event.metadata));
    put("timestamp", Val::from(event.timestamp.clone()));
    Val::obj(m)
}

pub fn to_val(v: &Value) -> Val {
    match v {
        Value::Null => Val::Null,
        Value::Bool(b) => Val::Bool(*b),
        Value::Number(n) => match n.as_i64().and_then(|i| isize::try_from(i).ok()) {
            Some(i) => Val::from(i),
            None => Val::from(n.as_f64().unwrap_or(f64::NAN)),
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

fn key_string(k: &Val) -> String {
    match k {
        Val::TStr(b) | Val::BStr(b) => String::from_utf8_lossy(b).into_owned(),
        other => other.to_string(),
    }
}

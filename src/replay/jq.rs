//! jq reducers, run by jaq: compiled once, then applied to one event at a time with the
//! envelope bound to `$event`.

use jaq_core::data::JustLut;
use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Compiler, Ctx, Vars};
use jaq_json::Val;
use serde_json::{Map, Number, Value};

use crate::event::Event;

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

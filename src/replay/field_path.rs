//! A field of the state, named as people name it: a JSON Pointer (`/items/0/qty`) or a jq
//! path (`.items[0].qty`, `.["a b"]`, `."a b"`). Looked up in a jaq value without
//! converting the state.

use jaq_json::Val;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
    /// A pointer's token of digits: an index in an array, a key in an object.
    Either(String, usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    segments: Vec<Segment>,
}

impl FieldPath {
    /// Reads a JSON Pointer (starting with `/`, or empty for the whole state) or a jq
    /// path (starting with `.`); anything else is an error saying what is taken.
    pub fn parse(text: &str) -> Result<FieldPath, String> {
        let text = text.trim();
        let segments = if text.is_empty() || text.starts_with('/') {
            pointer(text)
        } else if text.starts_with('.') {
            jq_path(text)?
        } else {
            return Err(format!(
                "{text:?} is no path: give a JSON Pointer (/items/0/qty) or a jq path (.items[0].qty)"
            ));
        };
        Ok(FieldPath { segments })
    }

    /// The path as a JSON Pointer, as every answer names it.
    pub fn pointer(&self) -> String {
        self.segments
            .iter()
            .map(|s| {
                let token = match s {
                    Segment::Key(k) | Segment::Either(k, _) => {
                        k.replace('~', "~0").replace('/', "~1")
                    }
                    Segment::Index(i) => i.to_string(),
                };
                format!("/{token}")
            })
            .collect()
    }

    /// The path as answers name it: its pointer, `.` for the whole state.
    pub fn shown(&self) -> String {
        match self.segments.is_empty() {
            true => ".".into(),
            false => self.pointer(),
        }
    }

    /// The value at the path in a jaq value, `None` where the path leads nowhere.
    pub fn get_val(&self, root: &Val) -> Option<Val> {
        let mut at = root;
        for s in &self.segments {
            at = match (at, s) {
                (Val::Obj(m), Segment::Key(k) | Segment::Either(k, _)) => {
                    m.get(&Val::utf8_str(k.as_bytes().to_vec()))?
                }
                (Val::Arr(a), Segment::Index(i) | Segment::Either(_, i)) => a.get(*i)?,
                _ => return None,
            };
        }
        Some(at.clone())
    }

    /// The value at the path in a JSON value.
    pub fn get_json<'v>(&self, root: &'v Value) -> Option<&'v Value> {
        let mut at = root;
        for s in &self.segments {
            at = match (at, s) {
                (Value::Object(m), Segment::Key(k) | Segment::Either(k, _)) => m.get(k)?,
                (Value::Array(a), Segment::Index(i) | Segment::Either(_, i)) => a.get(*i)?,
                _ => return None,
            };
        }
        Some(at)
    }
}

fn pointer(text: &str) -> Vec<Segment> {
    if text.is_empty() {
        return Vec::new();
    }
    text[1..]
        .split('/')
        .map(|t| {
            let t = t.replace("~1", "/").replace("~0", "~");
            let index = (!t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
                .then(|| t.parse::<usize>().ok())
                .flatten();
            match index {
                Some(i) => Segment::Either(t, i),
                None => Segment::Key(t),
            }
        })
        .collect()
}

fn jq_path(text: &str) -> Result<Vec<Segment>, String> {
    let bad = |why: &str| format!("jq path {text:?}: {why}");
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    let quoted = |i: &mut usize| -> Result<String, String> {
        // A JSON string from chars[*i] (a `"`), read by serde so escapes are JSON's.
        let rest: String = chars[*i..].iter().collect();
        let mut de = serde_json::Deserializer::from_str(&rest).into_iter::<String>();
        let s = de
            .next()
            .and_then(Result::ok)
            .ok_or_else(|| bad("an unterminated or malformed string"))?;
        *i += rest[..de.byte_offset()].chars().count();
        Ok(s)
    };
    while i < chars.len() {
        match chars[i] {
            '.' => {
                i += 1;
                match chars.get(i) {
                    None if out.is_empty() && i == 1 => break,
                    None => return Err(bad("ends with a dot")),
                    Some('"') => out.push(Segment::Key(quoted(&mut i)?)),
                    Some('[') => {}
                    Some(c) if c.is_alphabetic() || *c == '_' => {
                        let start = i;
                        while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                            i += 1;
                        }
                        out.push(Segment::Key(chars[start..i].iter().collect()));
                    }
                    Some(c) => return Err(bad(&format!("unexpected {c:?} after a dot"))),
                }
            }
            '[' => {
                i += 1;
                if chars.get(i) == Some(&'"') {
                    out.push(Segment::Key(quoted(&mut i)?));
                } else {
                    let start = i;
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        i += 1;
                    }
                    let digits: String = chars[start..i].iter().collect();
                    let index = digits
                        .parse::<usize>()
                        .map_err(|_| bad("[…] takes an index of 0 or more, or a \"key\""))?;
                    out.push(Segment::Index(index));
                }
                if chars.get(i) != Some(&']') {
                    return Err(bad("a [ without its ]"));
                }
                i += 1;
            }
            c => return Err(bad(&format!("unexpected {c:?}"))),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pointers_and_jq_paths_name_the_same_fields() {
        let state = json!({"items": [{"qty": 2}], "a b": {"0": true}, "x/y": 1});
        for (path, want) in [
            ("/items/0/qty", json!(2)),
            (".items[0].qty", json!(2)),
            (".[\"a b\"][\"0\"]", json!(true)),
            (".\"a b\".\"0\"", json!(true)),
            ("/a b/0", json!(true)),
            ("/x~1y", json!(1)),
            (".", state.clone()),
            ("", state.clone()),
        ] {
            let p = FieldPath::parse(path).unwrap();
            assert_eq!(p.get_json(&state), Some(&want), "{path}");
            let val = crate::replay::jq::to_val(&state);
            let got = p.get_val(&val).map(|v| crate::replay::jq::from_val(&v));
            assert_eq!(got, Some(want), "{path} through jaq");
        }
        assert_eq!(
            FieldPath::parse(".items[0].qty").unwrap().pointer(),
            "/items/0/qty"
        );
        assert_eq!(FieldPath::parse("/x~1y").unwrap().pointer(), "/x~1y");
        assert!(FieldPath::parse("/items/1/qty")
            .unwrap()
            .get_json(&state)
            .is_none());
        for bad in ["items", ".a[", ".a[-1]", ".a..b", ".a[\"x]"] {
            assert!(FieldPath::parse(bad).is_err(), "{bad}");
        }
    }
}

//! Ruby's YAML as Rails Event Store's default serializer writes payloads (Psych's
//! `YAML.dump` of a hash): read as data, never evaluated. Symbols (`:amount`) become
//! strings, `BigDecimal` an exact decimal, `ActiveSupport::HashWithIndifferentAccess` a
//! map, `ActiveSupport::TimeWithZone` its UTC time; untagged scalars resolve as Psych
//! resolves them (YAML 1.1: `true`/`yes`, numbers, `~`). Any other Ruby object is
//! refused, named, so the event is marked undecodable rather than guessed at.

use serde_json::{Map, Number, Value};
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Nodes a payload may build, aliases counted each time: a bound on alias bombs.
const MOST_NODES: usize = 1_000_000;

/// The payload as JSON, or why it cannot be read.
pub fn decode(text: &str) -> Result<Value, String> {
    let mut b = Builder::default();
    Parser::new_from_str(text)
        .load(&mut b, false)
        .map_err(|e| format!("YAML: {e}"))?;
    if let Some(e) = b.error {
        return Err(e);
    }
    b.done.ok_or_else(|| "YAML: no document".into())
}

enum Open {
    Seq(Vec<Value>, usize),
    /// Entries, a key waiting for its value, the anchor, and a TimeWithZone's shape.
    Map(Map<String, Value>, Option<String>, usize, MapKind),
}

#[derive(Clone, Copy, PartialEq)]
enum MapKind {
    Hash,
    TimeWithZone,
    TimeZone,
}

#[derive(Default)]
struct Builder {
    stack: Vec<Open>,
    /// Anchored values and how many values each holds.
    anchors: std::collections::HashMap<usize, (Value, usize)>,
    done: Option<Value>,
    error: Option<String>,
    nodes: usize,
}

/// How many values `v` holds, itself included.
fn size_of(v: &Value) -> usize {
    1 + match v {
        Value::Array(a) => a.iter().map(size_of).sum(),
        Value::Object(m) => m.values().map(size_of).sum(),
        _ => 0,
    }
}

fn tag_name(tag: &Option<Tag>) -> Option<String> {
    tag.as_ref().map(|t| format!("{}{}", t.handle, t.suffix))
}

/// A mapping's tag: a hash it is, or the Ruby class it is not read as.
fn map_kind(tag: &Option<Tag>) -> Result<MapKind, String> {
    match tag_name(tag).as_deref() {
        None | Some("!!map") | Some("tag:yaml.org,2002:map") => Ok(MapKind::Hash),
        Some(t) if t.starts_with("!ruby/hash:") || t == "!ruby/hash" => Ok(MapKind::Hash),
        Some("!ruby/object:ActiveSupport::TimeWithZone") => Ok(MapKind::TimeWithZone),
        Some("!ruby/object:ActiveSupport::TimeZone") => Ok(MapKind::TimeZone),
        Some(t) => Err(format!("a Ruby object ({t}), not read")),
    }
}

/// `18:0.5e1` (BigDecimal's dump) as the exact decimal `5`.
fn big_decimal(dump: &str) -> Result<Value, String> {
    let text = dump.split_once(':').map_or(dump, |(_, v)| v).trim();
    let bad = || format!("BigDecimal {dump:?}, not a finite number");
    let (sign, rest) = match text.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", text.strip_prefix('+').unwrap_or(text)),
    };
    let (mantissa, exp) = rest.split_once(['e', 'E']).unwrap_or((rest, "0"));
    let digits = mantissa.strip_prefix("0.").ok_or_else(bad)?;
    let exp: i64 = exp.parse().map_err(|_| bad())?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) || exp.abs() > 400 {
        return Err(bad());
    }
    // 0.d1d2… × 10^exp: the point moves exp places right.
    let digits = if digits.is_empty() { "0" } else { digits };
    let point = exp;
    let text = if point <= 0 {
        format!("0.{}{digits}", "0".repeat((-point) as usize))
    } else if point as usize >= digits.len() {
        format!("{digits}{}", "0".repeat(point as usize - digits.len()))
    } else {
        format!(
            "{}.{}",
            &digits[..point as usize],
            &digits[point as usize..]
        )
    };
    let text = match text.contains('.') {
        true => text.trim_end_matches('0').trim_end_matches('.').to_string(),
        false => text,
    };
    let text = text.trim_start_matches('0');
    let text = if text.is_empty() || text.starts_with('.') {
        format!("0{text}")
    } else {
        text.to_string()
    };
    let n: Number = format!("{sign}{text}").parse().map_err(|_| bad())?;
    Ok(Value::Number(n))
}

/// An untagged plain scalar as Psych reads it.
fn plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => {
            return Value::Bool(true)
        }
        "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => {
            return Value::Bool(false)
        }
        _ => {}
    }
    if let Some(symbol) = text.strip_prefix(':').filter(|s| !s.is_empty()) {
        return Value::String(symbol.trim_matches('"').to_string());
    }
    let numeric = text.replace('_', "");
    let looks_numeric = numeric
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
        && numeric.bytes().any(|b| b.is_ascii_digit());
    if looks_numeric {
        if let Ok(n) = numeric.parse::<Number>() {
            return Value::Number(n);
        }
    }
    Value::String(text.to_string())
}

impl Builder {
    fn scalar(
        &self,
        text: String,
        style: TScalarStyle,
        tag: &Option<Tag>,
    ) -> Result<Value, String> {
        let quoted = style != TScalarStyle::Plain;
        match tag_name(tag).as_deref() {
            None if quoted => Ok(Value::String(text)),
            None => Ok(plain(&text)),
            Some("!ruby/object:BigDecimal") => big_decimal(&text),
            Some("!ruby/symbol" | "!ruby/sym") => Ok(Value::String(text)),
            Some("!!str" | "tag:yaml.org,2002:str") => Ok(Value::String(text)),
            Some("!!int" | "!!float" | "tag:yaml.org,2002:int" | "tag:yaml.org,2002:float") => {
                Ok(plain(&text))
            }
            Some("!!null" | "tag:yaml.org,2002:null") => Ok(Value::Null),
            Some("!!bool" | "tag:yaml.org,2002:bool") => Ok(plain(&text)),
            Some(t) => Err(format!("a Ruby value ({t}), not read")),
        }
    }

    fn push_value(&mut self, v: Value, anchor: usize) {
        self.nodes += 1;
        if self.nodes > MOST_NODES {
            self.error = Some(format!("YAML: more than {MOST_NODES} values (aliases?)"));
            return;
        }
        if anchor > 0 {
            let size = size_of(&v);
            self.anchors.insert(anchor, (v.clone(), size));
        }
        match self.stack.last_mut() {
            None => self.done = Some(v),
            Some(Open::Seq(items, _)) => items.push(v),
            Some(Open::Map(entries, key, _, _)) => match key.take() {
                None => {
                    let k = match v {
                        Value::String(s) => s.strip_prefix(':').map_or(s.clone(), str::to_string),
                        Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    *key = Some(k);
                }
                Some(k) => {
                    entries.insert(k, v);
                }
            },
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, _mark: Marker) {
        if self.error.is_some() {
            return;
        }
        let result: Result<(), String> = match ev {
            Event::Scalar(text, style, anchor, tag) => self
                .scalar(text, style, &tag)
                .map(|v| self.push_value(v, anchor)),
            Event::SequenceStart(anchor, _) => {
                self.stack.push(Open::Seq(Vec::new(), anchor));
                Ok(())
            }
            Event::SequenceEnd => {
                if let Some(Open::Seq(items, anchor)) = self.stack.pop() {
                    self.push_value(Value::Array(items), anchor);
                }
                Ok(())
            }
            Event::MappingStart(anchor, tag) => map_kind(&tag).map(|kind| {
                self.stack.push(Open::Map(Map::new(), None, anchor, kind));
            }),
            Event::MappingEnd => {
                if let Some(Open::Map(entries, _, anchor, kind)) = self.stack.pop() {
                    let v = match kind {
                        MapKind::Hash => Value::Object(entries),
                        // Its UTC time, as Rails dumps it beside the zone.
                        MapKind::TimeWithZone => entries.get("utc").cloned().unwrap_or(Value::Null),
                        MapKind::TimeZone => entries.get("name").cloned().unwrap_or(Value::Null),
                    };
                    self.push_value(v, anchor);
                }
                Ok(())
            }
            Event::Alias(id) => match self.anchors.get(&id) {
                // Counted whole before it is copied, so a bomb of aliases stops early.
                Some((_, size)) if self.nodes + size > MOST_NODES => {
                    Err(format!("YAML: more than {MOST_NODES} values (aliases?)"))
                }
                Some((v, size)) => {
                    let (v, size) = (v.clone(), *size);
                    self.nodes += size.saturating_sub(1);
                    self.push_value(v, 0);
                    Ok(())
                }
                None => Err("YAML: an alias to nothing".into()),
            },
            _ => Ok(()),
        };
        if let Err(e) = result {
            self.error = Some(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn psych_dumps_read_as_data() {
        let text = "---\n:amount: !ruby/object:BigDecimal 18:0.1234e2\n:currency: :EUR\n:count: 3\n:ok: true\n:note: 'yes'\n:tags:\n- :a\n- b\n:nested: !ruby/hash:ActiveSupport::HashWithIndifferentAccess\n  x: 1.5\n  y: ~\n";
        let v = decode(text).unwrap();
        assert_eq!(
            v,
            json!({"amount": 12.34, "currency": "EUR", "count": 3, "ok": true, "note": "yes",
                   "tags": ["a", "b"], "nested": {"x": 1.5, "y": null}})
        );
        assert_eq!(v["amount"].to_string(), "12.34", "exact, as stored");
        assert_eq!(big_decimal("18:0.5e1").unwrap().to_string(), "5");
        assert_eq!(big_decimal("27:-0.1e-2").unwrap().to_string(), "-0.001");
        assert_eq!(big_decimal("9:0.0").unwrap().to_string(), "0");
        assert!(big_decimal("9:Infinity").is_err());
    }

    #[test]
    fn ruby_objects_and_alias_bombs_are_refused() {
        let e = decode("--- !ruby/object:Account\nid: 1\n").unwrap_err();
        assert!(e.contains("!ruby/object:Account"), "{e}");
        let mut bomb = String::from("---\na: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..8 {
            let prev = if i == 0 {
                "a".to_string()
            } else {
                format!("b{}", i - 1)
            };
            bomb.push_str(&format!(
                "b{i}: &b{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
        }
        assert!(decode(&bomb).unwrap_err().contains("more than"));
        let t = "---\n:at: !ruby/object:ActiveSupport::TimeWithZone\n  utc: 2024-03-01 09:00:00.000000000 Z\n  zone: !ruby/object:ActiveSupport::TimeZone\n    name: Etc/UTC\n  time: 2024-03-01 09:00:00.000000000 Z\n";
        assert_eq!(
            decode(t).unwrap(),
            json!({"at": "2024-03-01 09:00:00.000000000 Z"})
        );
    }
}

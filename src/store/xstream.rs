//! XStream's XML (Axon Framework's default serializer) as JSON: the root element is the
//! class, its children the fields; an element with children is an object (a name
//! repeated becomes an array), one with text is a string (XStream keeps no JSON types),
//! an empty one `""`. A map's `<entry>` of two values (Axon's `MetaData`) is a key and
//! its value. Attributes (`class`, `reference`) are left out. Read as data, bounded.

use quick_xml::events::Event;
use quick_xml::Reader;
use serde_json::{Map, Value};

/// How deep elements may nest.
const MOST_DEPTH: usize = 128;

struct Element {
    name: String,
    children: Vec<(String, Value)>,
    text: String,
}

fn entity(name: &str) -> Option<String> {
    let c = match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        _ => {
            let code = match name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => name.strip_prefix('#')?.parse().ok()?,
            };
            char::from_u32(code)?
        }
    };
    Some(c.to_string())
}

/// An element's value once closed.
fn value_of(e: Element) -> Value {
    if e.children.is_empty() {
        return Value::String(e.text.trim().to_string());
    }
    // A map entry: <entry><string>key</string><string>value</string></entry>.
    if e.name == "entry" && e.children.len() == 2 {
        if let (_, Value::String(k)) = &e.children[0] {
            let mut m = Map::new();
            m.insert(k.clone(), e.children[1].1.clone());
            return Value::Object(m);
        }
    }
    let mut m = Map::new();
    let entries = e.children.iter().all(|(n, _)| n == "entry");
    for (name, v) in e.children {
        match (entries, v) {
            // A map's entries merge into one object.
            (true, Value::Object(kv)) => m.extend(kv),
            (_, v) => match m.get_mut(&name) {
                Some(Value::Array(items)) => items.push(v),
                Some(first) => {
                    let first = first.take();
                    m.insert(name, Value::Array(vec![first, v]));
                }
                None => {
                    m.insert(name, v);
                }
            },
        }
    }
    Value::Object(m)
}

/// The document as JSON: the root's value (its class name is the event's type).
pub fn decode(text: &str) -> Result<Value, String> {
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Element> = Vec::new();
    loop {
        let ev = reader.read_event().map_err(|e| format!("XML: {e}"))?;
        match ev {
            Event::Start(s) => {
                if stack.len() >= MOST_DEPTH {
                    return Err(format!("XML nested deeper than {MOST_DEPTH}"));
                }
                stack.push(Element {
                    name: s.name().as_ref().to_string(),
                    children: Vec::new(),
                    text: String::new(),
                });
            }
            Event::Empty(s) => {
                let name = s.name().as_ref().to_string();
                match stack.last_mut() {
                    Some(parent) => parent.children.push((name, Value::String(String::new()))),
                    None => return Ok(Value::Object(Map::new())),
                }
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t);
                }
            }
            Event::GeneralRef(r) => {
                let name = r.to_string();
                let text = entity(&name).ok_or_else(|| format!("XML: unknown entity &{name};"))?;
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&text);
                }
            }
            Event::End(_) => {
                let Some(done) = stack.pop() else {
                    return Err("XML: an end without a start".into());
                };
                let name = done.name.clone();
                let v = value_of(done);
                match stack.last_mut() {
                    Some(parent) => parent.children.push((name, v)),
                    None => return Ok(v),
                }
            }
            Event::Eof => return Err("XML: the document ends inside an element".into()),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn xstream_documents_read_as_json() {
        let x = "<com.example.MoneyDeposited><accountId>acc-1</accountId><amount>100</amount><tags><string>a</string><string>b &amp; c</string></tags><note/></com.example.MoneyDeposited>";
        assert_eq!(
            decode(x).unwrap(),
            json!({"accountId": "acc-1", "amount": "100", "tags": {"string": ["a", "b & c"]}, "note": ""})
        );
        let meta = "<meta-data><entry><string>traceId</string><string>t-1</string></entry><entry><string>correlationId</string><string>c-1</string></entry></meta-data>";
        assert_eq!(
            decode(meta).unwrap(),
            json!({"traceId": "t-1", "correlationId": "c-1"})
        );
        assert!(decode("<a><b>").is_err());
        let deep = "<a>".repeat(200) + &"</a>".repeat(200);
        assert!(decode(&deep).unwrap_err().contains("deeper"));
        assert!(decode("<a>&bogus;</a>").is_err());
    }
}

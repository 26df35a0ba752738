//! Turning a row of any layout into the envelope: payload decoding (zlib, tagged values,
//! tagged enums), type names from topics, and timestamps normalised to RFC 3339.

use std::io::Read;

use rusqlite::types::ValueRef;
use rusqlite::Row;
use serde_json::Value;

use super::layout::{event_of_topic, Decoder, Mapping};
use super::Result;
use crate::event::Event;

/// A column as text, whatever SQLite type it was stored with.
pub fn text(row: &Row, idx: usize) -> Result<Option<String>> {
    Ok(match row.get_ref(idx)? {
        ValueRef::Null => None,
        ValueRef::Integer(i) => Some(i.to_string()),
        ValueRef::Real(f) => Some(f.to_string()),
        ValueRef::Text(b) | ValueRef::Blob(b) => Some(String::from_utf8_lossy(b).into_owned()),
    })
}

fn bytes(row: &Row, idx: usize) -> Result<Vec<u8>> {
    Ok(match row.get_ref(idx)? {
        ValueRef::Null => Vec::new(),
        ValueRef::Integer(i) => i.to_string().into_bytes(),
        ValueRef::Real(f) => f.to_string().into_bytes(),
        ValueRef::Text(b) | ValueRef::Blob(b) => b.to_vec(),
    })
}

/// Reads a row selected with [`Mapping::select_list`].
pub fn event_from_row(row: &Row, m: &Mapping) -> Result<Event> {
    let stream_id = text(row, 1)?.unwrap_or_default();
    let version = match row.get_ref(2)? {
        ValueRef::Integer(v) => Ok(v),
        _ => Err(text(row, 2)?.unwrap_or_else(|| "NULL".into())),
    };
    Ok(event_from_parts(
        RowParts {
            global_position: row.get(0)?,
            stream_id,
            version,
            event_id: text(row, 3)?,
            event_type: text(row, 4)?.unwrap_or_default(),
            payload: bytes(row, 5)?,
            metadata: text(row, 6)?,
            timestamp: time_of(row, 7, m)?,
            schema_version: text(row, 8)?,
            original_position: row.get(9)?,
            topic: text(row, 10)?,
            undecodable: text(row, 11)?,
            category: text(row, 12)?,
            // Queries built from the mapping's select list end with it; others stop before.
            link_of: match row.as_ref().column_count() > 13 {
                true => text(row, 13)?,
                false => None,
            },
        },
        m.decoder,
    ))
}

/// A row's columns as read, before the payload is decoded: what every backend hands to
/// [`event_from_parts`].
pub struct RowParts {
    pub global_position: i64,
    pub stream_id: String,
    /// The version, or the stored value where it is not an integer.
    pub version: std::result::Result<i64, String>,
    pub event_id: Option<String>,
    pub event_type: String,
    pub payload: Vec<u8>,
    pub metadata: Option<String>,
    /// Already in the envelope's form.
    pub timestamp: Option<String>,
    pub schema_version: Option<String>,
    pub original_position: Option<i64>,
    pub topic: Option<String>,
    /// Why the payload could not be read, where an import kept that.
    pub undecodable: Option<String>,
    pub category: Option<String>,
    pub link_of: Option<String>,
}

/// The envelope of a row: the payload decoded, type names taken from topics.
pub fn event_from_parts(p: RowParts, decoder: Decoder) -> Event {
    let (version, bad_version) = match p.version {
        Ok(v) => (v, None),
        Err(shown) => (0, Some(shown)),
    };
    let stream_id = p.stream_id;
    let event_id = p
        .event_id
        .unwrap_or_else(|| format!("{stream_id}@{version}"));
    let metadata = match p.metadata {
        None => Value::Object(Default::default()),
        Some(t) if decoder == Decoder::XmlOrJson && t.trim_start().starts_with('<') => {
            super::xstream::decode(&t).unwrap_or(Value::String(t))
        }
        Some(t) => serde_json::from_str(&t).unwrap_or(Value::String(t)),
    };
    let mut e = Event {
        global_position: p.global_position,
        stream_id,
        version,
        event_id,
        event_type: p.event_type,
        data: Value::Null,
        metadata,
        timestamp: p.timestamp,
        schema_version: p.schema_version,
        original_position: p.original_position,
        topic: p.topic,
        category: p.category.filter(|c| !c.is_empty()),
        link_of: p.link_of,
        undecodable: None,
        bad_version,
        ..Default::default()
    };
    // An imported event that was undecodable where it came from keeps its mark and text.
    if let Some(reason) = p.undecodable {
        e.undecodable = Some(reason);
        e.data = match String::from_utf8(p.payload) {
            Ok(t) if !t.is_empty() => Value::String(t),
            _ => Value::Null,
        };
        return e;
    }
    match decode_payload(&p.payload, decoder) {
        Ok(data) => e.data = data,
        Err((reason, raw)) => {
            e.undecodable = Some(reason);
            e.data = raw;
        }
    }
    match decoder {
        Decoder::Eventsourcing => {
            let topic = std::mem::take(&mut e.event_type);
            e.event_type = event_of_topic(&topic).to_string();
            e.category = Some(super::layout::class_of_topic(&topic).to_string());
            e.topic = Some(topic);
            if let Some(Value::String(t)) =
                e.data.as_object_mut().and_then(|o| o.remove("timestamp"))
            {
                e.timestamp = Some(crate::time::normalise(&t));
            }
            // The library's own schema version: an event class's `class_version` past 1
            // is stored in its state (and read back through its `upcast_vN_vN+1`).
            if let Some(v) = e.data.get("class_version").and_then(Value::as_i64) {
                e.schema_version = Some(v.to_string());
            }
        }
        Decoder::Json
        | Decoder::TaggedEnum
        | Decoder::JsonOrRubyYaml
        | Decoder::XmlOrJson
        | Decoder::JsonOrCbor => {}
    }
    e
}

/// The time column in the envelope's form: text normalised, epoch numbers converted.
pub(super) fn time_of(row: &Row, idx: usize, m: &Mapping) -> Result<Option<String>> {
    Ok(match row.get_ref(idx)? {
        ValueRef::Null => None,
        ValueRef::Integer(i) => Some(
            crate::time::normalise_epoch(i as f64, m.time_unit).unwrap_or_else(|| i.to_string()),
        ),
        ValueRef::Real(f) => {
            Some(crate::time::normalise_epoch(f, m.time_unit).unwrap_or_else(|| f.to_string()))
        }
        ValueRef::Text(b) | ValueRef::Blob(b) => {
            Some(stored_time_text(&String::from_utf8_lossy(b), m.time_unit))
        }
    })
}

/// A time stored as text (or a number shown as text): an epoch number in `unit`, or text
/// normalised.
pub(crate) fn stored_time_text(t: &str, unit: crate::time::EpochUnit) -> String {
    t.trim()
        .parse::<f64>()
        .ok()
        .and_then(|n| crate::time::normalise_epoch(n, unit))
        .unwrap_or_else(|| crate::time::normalise(t))
}

/// Decodes a payload; on failure, why, and what to show instead (the text, if it is text).
pub fn decode_payload(payload: &[u8], decoder: Decoder) -> Result<Value, (String, Value)> {
    match decoder {
        Decoder::Json if looks_like_zlib(payload) => match inflate(payload) {
            Ok(inflated) => parse_json(&inflated)
                .map_err(|(why, shown)| (format!("zlib-compressed, then {why}"), shown)),
            Err(_) => parse_json(payload),
        },
        Decoder::Json => parse_json(payload),
        Decoder::TaggedEnum => parse_json(payload).map(untag_enum),
        Decoder::XmlOrJson => parse_json(payload).or_else(|(why, raw)| {
            let text = std::str::from_utf8(payload).ok();
            match text.filter(|t| t.trim_start().starts_with('<')) {
                Some(xml) => super::xstream::decode(xml).map_err(|e| (e, raw)),
                None => Err((why, raw)),
            }
        }),
        Decoder::JsonOrCbor => parse_json(payload).or_else(|(why, raw)| {
            // Jackson CBOR writes an object as a map (major type 5) or an array (4).
            match payload.first() {
                Some(0x80..=0xbf) => ciborium::from_reader::<Value, _>(payload)
                    .map_err(|e| (format!("neither JSON nor CBOR ({e})"), raw)),
                _ => Err((why, raw)),
            }
        }),
        Decoder::JsonOrRubyYaml => parse_json(payload).or_else(|(why, raw)| {
            match std::str::from_utf8(payload)
                .ok()
                .filter(|t| t.starts_with("---"))
            {
                Some(text) => super::ruby_yaml::decode(text).map_err(|e| (e, raw)),
                None => Err((why, raw)),
            }
        }),
        Decoder::Eventsourcing => {
            let inflated;
            let json = if looks_like_zlib(payload) {
                inflated = inflate(payload).map_err(|e| (format!("zlib: {e}"), Value::Null))?;
                &inflated[..]
            } else {
                payload
            };
            match serde_json::from_slice::<Value>(json) {
                Ok(v) => Ok(untag_values(v)),
                Err(_) if std::str::from_utf8(json).is_err() => Err((
                    format!("encrypted or binary payload ({} bytes)", payload.len()),
                    Value::Null,
                )),
                Err(e) => Err((
                    format!("not JSON: {e}"),
                    Value::String(String::from_utf8_lossy(json).into_owned()),
                )),
            }
        }
    }
}

fn parse_json(payload: &[u8]) -> Result<Value, (String, Value)> {
    serde_json::from_slice(payload).map_err(|e| match std::str::from_utf8(payload) {
        Ok(s) => (format!("not JSON: {e}"), Value::String(s.to_string())),
        Err(_) => (
            format!("binary payload ({} bytes), not UTF-8 JSON", payload.len()),
            Value::String(String::from_utf8_lossy(payload).into_owned()),
        ),
    })
}

/// A zlib stream starts with a CMF byte for deflate (low nibble 8) and a header checksum.
pub fn looks_like_zlib(b: &[u8]) -> bool {
    b.len() >= 2 && b[0] & 0x0f == 8 && (u16::from(b[0]) << 8 | u16::from(b[1])) % 31 == 0
}

/// Inflates at most 256 MiB, so a hostile payload cannot eat the machine.
pub fn inflate(b: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(b)
        .take(256 << 20)
        .read_to_end(&mut out)?;
    Ok(out)
}

/// Python `eventsourcing`'s transcoder wraps special values as
/// `{"_type_": "datetime_iso"|"decimal_str"|"uuid_hex", "_data_": ...}`: show them as plain
/// values. Decimals become JSON numbers with their exact digits, so reducers can add them.
pub fn untag_values(v: Value) -> Value {
    match v {
        Value::Object(mut o) => {
            let tagged = o.len() == 2 && o.contains_key("_type_") && o.contains_key("_data_");
            if tagged {
                let kind = o
                    .get("_type_")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let data = untag_values(o.remove("_data_").unwrap_or(Value::Null));
                return match (kind.as_str(), &data) {
                    // The decimal's own text, kept exact (serde_json's arbitrary precision),
                    // so a reducer adds it as the application's Decimal does.
                    ("decimal_str", Value::String(s)) => s
                        .parse::<serde_json::Number>()
                        .map_or(data.clone(), Value::Number),
                    _ => data,
                };
            }
            Value::Object(o.into_iter().map(|(k, v)| (k, untag_values(v))).collect())
        }
        Value::Array(a) => Value::Array(a.into_iter().map(untag_values).collect()),
        other => other,
    }
}

/// cqrs-es stores an event enum externally tagged, `{"Deposited": {"amount": 5}}`: the data
/// is the inner value.
pub fn untag_enum(v: Value) -> Value {
    match v {
        Value::Object(o) if o.len() == 1 => {
            o.into_iter().next().map_or(Value::Null, |(_, inner)| inner)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::io::Write;

    fn zlib(b: &[u8]) -> Vec<u8> {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(b).unwrap();
        z.finish().unwrap()
    }

    #[test]
    fn tagged_values_become_plain() {
        let v = json!({
            "amount": {"_type_": "decimal_str", "_data_": "100.50"},
            "id": {"_type_": "uuid_hex", "_data_": "0f1e2d3c4b5a69788796a5b4c3d2e1f0"},
            "when": {"_type_": "datetime_iso", "_data_": "2024-03-01T09:00:00+00:00"},
            "list": [{"_type_": "decimal_str", "_data_": "1"}],
            "odd": {"_type_": "decimal_str", "_data_": "lots"},
            "plain": {"_type_": "x", "_data_": 1, "extra": 2}
        });
        assert_eq!(
            untag_values(v),
            // The decimal's digits as the application wrote them, not a float's.
            serde_json::from_str::<Value>(
                r#"{
                "amount": 100.50,
                "id": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
                "when": "2024-03-01T09:00:00+00:00",
                "list": [1],
                "odd": "lots",
                "plain": {"_type_": "x", "_data_": 1, "extra": 2}
            }"#
            )
            .unwrap()
        );
    }

    #[test]
    fn zlib_payloads_are_inflated() {
        let json = br#"{"a": {"_type_": "decimal_str", "_data_": "2"}}"#;
        let packed = zlib(json);
        assert!(looks_like_zlib(&packed));
        assert!(!looks_like_zlib(json));
        assert_eq!(
            decode_payload(&packed, Decoder::Eventsourcing).unwrap(),
            json!({"a": 2})
        );
        assert_eq!(
            decode_payload(json, Decoder::Eventsourcing).unwrap(),
            json!({"a": 2})
        );
    }

    #[test]
    fn encrypted_and_broken_payloads_are_reported_not_fatal() {
        let noise: Vec<u8> = (0..64u32).map(|i| (i * 97 + 13) as u8 | 0x80).collect();
        let (why, shown) = decode_payload(&noise, Decoder::Eventsourcing).unwrap_err();
        assert!(
            why.contains("encrypted or binary payload (64 bytes)"),
            "{why}"
        );
        assert_eq!(shown, Value::Null);
        let (why, shown) = decode_payload(b"{not json", Decoder::Json).unwrap_err();
        assert!(why.starts_with("not JSON"), "{why}");
        assert_eq!(shown, json!("{not json"));
        let bad_zlib = [0x78, 0x9c, 1, 2, 3];
        let (why, _) = decode_payload(&bad_zlib, Decoder::Eventsourcing).unwrap_err();
        assert!(why.starts_with("zlib"), "{why}");
    }

    #[test]
    fn tagged_enums_unwrap_to_their_data() {
        let p = br#"{"CustomerDepositedMoney": {"amount": 200.0, "balance": 200.0}}"#;
        assert_eq!(
            decode_payload(p, Decoder::TaggedEnum).unwrap(),
            json!({"amount": 200.0, "balance": 200.0})
        );
        assert_eq!(
            decode_payload(br#""UnitVariant""#, Decoder::TaggedEnum).unwrap(),
            json!("UnitVariant")
        );
    }
}

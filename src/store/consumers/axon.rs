//! Axon Framework's `token_entry`: each tracking event processor's claim on a segment, its
//! tracking token serialized as XStream XML or Jackson JSON. The token's global index is
//! the last `global_index` the segment processed: a `GlobalSequenceTrackingToken`'s
//! `globalIndex`, a `GapAwareTrackingToken`'s `index`, a `ReplayToken`'s `currentToken`
//! (replaying: noted), a `MergedTrackingToken`'s lower half. Read by both server backends.

use serde_json::Value;

use super::{ConsumerRecord, Follows};
use crate::store::decode::decode_payload;
use crate::store::layout::Decoder;

/// The columns a backend reads, as text, in this order.
pub const COLUMNS: [&str; 6] = [
    "processor_name",
    "segment",
    "token",
    "token_type",
    "timestamp",
    "owner",
];

/// One record per row of `token_entry` (`rows` as [`COLUMNS`]); a processor with several
/// segments is a consumer per segment.
pub fn records(rows: &[Vec<Option<String>>], source: &str) -> Vec<ConsumerRecord> {
    let segments = |name: &str| {
        rows.iter()
            .filter(|r| r[0].as_deref() == Some(name))
            .count()
    };
    rows.iter()
        .map(|r| {
            let processor = r[0].clone().unwrap_or_default();
            let name = match segments(&processor) {
                1 => processor.clone(),
                _ => format!("{processor} (segment {})", r[1].as_deref().unwrap_or("?")),
            };
            let mut c = ConsumerRecord::new(name, "tracking processor", Follows::All, source);
            c.last_update = r[4].as_deref().map(crate::time::normalise);
            match r[2].as_deref().map(|t| position(t.as_bytes())) {
                None => c.note = Some("no token yet: it has processed nothing".into()),
                Some(Ok((index, replaying))) => {
                    c.position = index;
                    if replaying {
                        c.status = Some("replaying".into());
                    }
                }
                Some(Err(why)) => {
                    c.error = Some(format!(
                        "its token ({}) cannot be read: {why}",
                        r[3].as_deref().unwrap_or("no type")
                    ))
                }
            }
            if let Some(owner) = r[5].as_deref() {
                let note = format!("claimed by {owner}");
                c.note = Some(match c.note.take() {
                    Some(n) => format!("{n}; {note}"),
                    None => note,
                });
            }
            c
        })
        .collect()
}

/// The token's last processed global index (`None`: an empty token), and whether it is
/// a replay.
fn position(token: &[u8]) -> Result<(Option<i64>, bool), String> {
    let value = decode_payload(token, Decoder::XmlOrJson).map_err(|(why, _)| why)?;
    // XStream names the root by its class; Jackson writes the fields at the top.
    let value = match &value {
        Value::Object(o) if o.len() == 1 && !is_token_field(o.keys().next()) => {
            o.values().next().cloned().unwrap_or(Value::Null)
        }
        _ => value,
    };
    Ok(index_of(&value))
}

fn is_token_field(key: Option<&String>) -> bool {
    matches!(
        key.map(String::as_str),
        Some("globalIndex" | "index" | "currentToken" | "tokenAtReset" | "lowerSegmentToken")
    )
}

fn number(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn index_of(token: &Value) -> (Option<i64>, bool) {
    let Value::Object(o) = token else {
        return (None, false);
    };
    if let Some(n) = o
        .get("globalIndex")
        .or_else(|| o.get("index"))
        .and_then(number)
    {
        return (Some(n), false);
    }
    if let Some(current) = o.get("currentToken") {
        return (index_of(unwrap_class(current)).0, true);
    }
    // A merged token has processed what both halves have: the lower one.
    let halves: Vec<Option<i64>> = ["lowerSegmentToken", "upperSegmentToken"]
        .iter()
        .filter_map(|k| o.get(*k))
        .map(|t| index_of(unwrap_class(t)).0)
        .collect();
    (halves.into_iter().flatten().min(), false)
}

/// XStream writes a nested token with its class as an attribute or wrapper element.
fn unwrap_class(v: &Value) -> &Value {
    match v {
        Value::Object(o) if o.len() == 1 && !is_token_field(o.keys().next()) => {
            o.values().next().unwrap_or(v)
        }
        _ => v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_as_axon_serializes_them() {
        let xml = "<org.axonframework.eventhandling.GlobalSequenceTrackingToken><globalIndex>41</globalIndex></org.axonframework.eventhandling.GlobalSequenceTrackingToken>";
        assert_eq!(position(xml.as_bytes()), Ok((Some(41), false)));
        let gap = r#"{"index":7,"gaps":[3,5]}"#;
        assert_eq!(position(gap.as_bytes()), Ok((Some(7), false)));
        let replay = "<org.axonframework.eventhandling.ReplayToken><tokenAtReset class=\"org.axonframework.eventhandling.GlobalSequenceTrackingToken\"><globalIndex>99</globalIndex></tokenAtReset><currentToken class=\"org.axonframework.eventhandling.GlobalSequenceTrackingToken\"><globalIndex>12</globalIndex></currentToken></org.axonframework.eventhandling.ReplayToken>";
        assert_eq!(position(replay.as_bytes()), Ok((Some(12), true)));
        assert!(position(b"\xac\xed\x00\x05").is_err(), "Java serialization");
    }
}

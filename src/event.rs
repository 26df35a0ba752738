//! The one event envelope shared by every layout, the reducers, the CLI and the TUI.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// An event as eventscope shows it, whatever layout it was read from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Position in the store's global order (1-based in the native layout).
    pub global_position: i64,
    pub stream_id: String,
    /// 1-based position within its stream.
    pub version: i64,
    pub event_id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub data: Value,
    #[serde(default = "empty_object")]
    pub metadata: Value,
    /// RFC 3339, as stored.
    pub timestamp: String,
}

fn empty_object() -> Value {
    Value::Object(Default::default())
}

impl Event {
    pub fn category(&self) -> &str {
        category_of(&self.stream_id)
    }
}

/// The category of a stream: the text before the first `-` (`Account-acc-1` → `Account`),
/// or the whole id when it has no `-`.
pub fn category_of(stream_id: &str) -> &str {
    stream_id.split_once('-').map_or(stream_id, |(c, _)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_is_text_before_first_dash() {
        assert_eq!(category_of("Account-acc-1"), "Account");
        assert_eq!(category_of("Order-123"), "Order");
        assert_eq!(category_of("standalone"), "standalone");
        assert_eq!(category_of("-x"), "");
    }

    #[test]
    fn envelope_serializes_type_field() {
        let e = Event {
            global_position: 7,
            stream_id: "Order-1".into(),
            version: 2,
            event_id: "e".into(),
            event_type: "ItemAdded".into(),
            data: serde_json::json!({"a": 1}),
            metadata: serde_json::json!({}),
            timestamp: "2024-01-01T00:00:00Z".into(),
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["type"], "ItemAdded");
        assert!(v.get("event_type").is_none());
        let back: Event = serde_json::from_value(v).unwrap();
        assert_eq!(back, e);
    }
}

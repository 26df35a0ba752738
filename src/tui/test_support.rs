//! What the TUI's unit and screen tests build their app states from.

use eventscope::store::StreamInfo;
use serde_json::Value;

use crate::tui::worker::StateAt;

/// A stream list entry whose versions run 1..=`n`.
pub fn info(id: &str, n: i64) -> StreamInfo {
    StreamInfo {
        stream_id: id.into(),
        category: eventscope::category_of(id).into(),
        events: n,
        first_version: 1,
        last_version: n,
        bad_versions: 0,
    }
}

/// Account-acc-1's state at `version`.
pub fn state_at(version: i64, state: Value) -> StateAt {
    StateAt {
        stream_id: "Account-acc-1".into(),
        version,
        state,
        changed: vec![],
        event: None,
        error: None,
        failed_before: (0, None),
        reducer: "Account.jq".into(),
        merge: false,
        from_snapshot: None,
        warnings: vec![],
        snapshot: None,
        what_if: vec![],
    }
}

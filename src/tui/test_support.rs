//! What the TUI's unit and buffer tests build their app states from.

use eventscope::store::StreamInfo;

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

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
        events_estimated: false,
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
        stored: None,
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

/// Account-acc-1's counts (its four events by type) with `buckets` of size `bucket`.
pub fn account_stats(bucket: &str, buckets: &[(&str, u64)]) -> eventscope::store::Stats {
    use eventscope::store::{Bucket, Lengths};
    let counts = |pairs: &[(&str, u64)]| pairs.iter().map(|(k, n)| (k.to_string(), *n)).collect();
    eventscope::store::Stats {
        events: 4,
        streams: 1,
        types: counts(&[
            ("AccountOpened", 1),
            ("MoneyDeposited", 2),
            ("MoneyWithdrawn", 1),
        ]),
        categories: counts(&[("Account", 4)]),
        stream_length: Lengths {
            p50: 4,
            p90: 4,
            p99: 4,
            max: 4,
        },
        first_time: Some("2024-03-01T09:01:00Z".into()),
        last_time: Some("2024-03-01T09:16:00Z".into()),
        untimed: 0,
        bucket: Some(bucket.into()),
        buckets: buckets
            .iter()
            .map(|(start, events)| Bucket {
                start: start.to_string(),
                events: *events,
            })
            .collect(),
    }
}

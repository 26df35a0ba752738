//! The structural diff on two arbitrary JSON documents (split at the first NUL byte):
//! never a panic, nothing between a value and itself, and a change for every difference.
#![no_main]

use eventscope::replay::diff;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let (a, b) = match data.iter().position(|&c| c == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b"null"[..]),
    };
    let (Ok(a), Ok(b)) = (
        serde_json::from_slice::<Value>(a),
        serde_json::from_slice::<Value>(b),
    ) else {
        return;
    };
    assert!(diff(&a, &a).is_empty());
    let changes = diff(&a, &b);
    assert_eq!(
        changes.is_empty(),
        a == b
            || (a.is_null() && b == serde_json::json!({}))
            || (b.is_null() && a == serde_json::json!({}))
    );
    for c in &changes {
        assert!(c.path.is_empty() || c.path.starts_with('/'), "{}", c.path);
    }
});

//! Time input as typed at `--at-time` or the TUI's `t` prompt: an error or an instant.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(t) = eventscope::time::parse_time_bound(s) {
            let _ = eventscope::time::format_stored(t);
        }
    }
});

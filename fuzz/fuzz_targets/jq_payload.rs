//! Payloads as jq reducers read them (jaq's own JSON reader, behind a depth limit):
//! arbitrary bytes give a value or an error, never a stack overflow.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = eventscope::replay::parse_payload_for_jq(data);
});

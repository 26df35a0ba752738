//! The targeted payload read (only the paths a reducer names are built) against jaq's
//! whole parse: it accepts only what the whole parse accepts, and every path gives the
//! same value or the same error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = eventscope::replay::check_targeted_read(data) {
        panic!("{e}");
    }
});

//! Every payload decoder on arbitrary bytes: JSON, zlib + tagged values (Python
//! `eventsourcing`), tagged enums (cqrs-es). None may panic, and what decodes must
//! serialise again.
#![no_main]

use eventscope::store::{decode_payload, Decoder};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for decoder in [Decoder::Json, Decoder::Eventsourcing, Decoder::TaggedEnum] {
        if let Ok(v) = decode_payload(data, decoder) {
            serde_json::to_string(&v).expect("a decoded payload serialises");
        }
    }
});

//! Inputs the fuzz targets (fuzz/) found or were seeded with, replayed on every
//! `cargo test` with the same checks the targets make. A new crash from `fuzz/run.sh` goes
//! into tests/fuzz_regressions/<target>/.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use eventscope::store::{decode_payload, Decoder};

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz_regressions")
        .join(target);
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no inputs in {}", dir.display());
    out
}

#[test]
fn payload_decoders() {
    for (path, data) in inputs("payload") {
        for decoder in [Decoder::Json, Decoder::Eventsourcing, Decoder::TaggedEnum] {
            if let Ok(v) = decode_payload(&data, decoder) {
                serde_json::to_string(&v).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            }
        }
    }
}

#[test]
fn jq_payload_reader() {
    for (path, data) in inputs("jq_payload") {
        // Runs on the test thread's small stack: an unbounded reader would overflow it.
        let result = eventscope::replay::parse_payload_for_jq(&data);
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("deep-array") {
            assert!(result.unwrap_err().contains("recursion limit"), "{name}");
        }
    }
}

#[test]
fn targeted_payload_read() {
    for (path, data) in inputs("targeted_read") {
        if let Err(e) = eventscope::replay::check_targeted_read(&data) {
            panic!("{}: {e}", path.display());
        }
    }
}

#[test]
fn store_files() {
    let dir = tempfile::tempdir().unwrap();
    for (path, data) in inputs("store_file") {
        // A copy: reading must never change the file, and SQLite may make sidecars.
        let copy = dir.path().join(path.file_name().unwrap());
        std::fs::write(&copy, &data).unwrap();
        eventscope::store::read_everything(&copy);
        assert_eq!(std::fs::read(&copy).unwrap(), data, "{}", path.display());
    }
}

#[test]
fn terminal_sanitiser() {
    for (_, data) in inputs("printable") {
        let text = String::from_utf8_lossy(&data);
        let shown = eventscope::printable(&text);
        assert!(!shown
            .chars()
            .any(|c| c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c)));
        assert_eq!(eventscope::printable(&shown), shown);
    }
}

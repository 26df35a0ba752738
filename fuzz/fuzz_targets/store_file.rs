//! The whole read path on a mutated store file: opened, listed, read and replayed the ways
//! the commands do. Errors are expected; a panic, abort or hang is a find. Seed the corpus
//! with real stores (`eventscope demo --out fuzz/corpus/store_file/demo.db`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("eventscope-fuzz-{}.db", std::process::id()));
    if std::fs::write(&path, data).is_ok() {
        eventscope::store::read_everything(&path);
    }
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
});

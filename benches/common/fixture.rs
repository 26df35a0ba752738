//! The benches' shared store: the demo at 1,000,000 events, 500,000 of them in one account
//! stream (`Account-hot`) interleaved with about 10,000 streams of 50. Written once to the
//! target directory; writing it is never timed.

use std::path::{Path, PathBuf};

pub const EVENTS: usize = 1_000_000;
pub const HOT: usize = 500_000;

pub fn million_events() -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-1m-v1.sqlite");
    if !path.exists() {
        let tmp = path.with_extension("tmp");
        let _ = std::fs::remove_file(&tmp);
        eprintln!("writing the bench fixture (once): {}", path.display());
        eventscope::demo::write_demo(&tmp, EVENTS, HOT).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
    }
    path
}

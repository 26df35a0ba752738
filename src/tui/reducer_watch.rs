//! Notices edits to the reducer file or folder, so the TUI can reload it. Polled once a
//! second from the UI's tick: a fingerprint of sizes and modification times, no
//! file-system notification thread.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

pub struct ReducerWatch {
    path: PathBuf,
    last: Vec<(PathBuf, u64, Option<SystemTime>)>,
}

fn fingerprint(path: &Path) -> Vec<(PathBuf, u64, Option<SystemTime>)> {
    let entry = |p: PathBuf| {
        let meta = std::fs::metadata(&p).ok();
        let len = meta.as_ref().map_or(0, |m| m.len());
        let modified = meta.and_then(|m| m.modified().ok());
        (p, len, modified)
    };
    if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .map(|d| {
                d.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "jq"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files.into_iter().map(entry).collect()
    } else {
        vec![entry(path.to_path_buf())]
    }
}

impl ReducerWatch {
    pub fn new(path: &Path) -> ReducerWatch {
        ReducerWatch {
            path: path.to_path_buf(),
            last: fingerprint(path),
        }
    }

    /// Whether the reducer changed since the last call.
    pub fn changed(&mut self) -> bool {
        let now = fingerprint(&self.path);
        if now == self.last {
            return false;
        }
        self.last = now;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_to_a_file_or_a_folder_are_noticed_once() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("Account.jq");
        std::fs::write(&file, ".").unwrap();
        let mut on_file = ReducerWatch::new(&file);
        let mut on_dir = ReducerWatch::new(dir.path());
        assert!(!on_file.changed() && !on_dir.changed());
        std::fs::write(&file, ". + {a: 1}").unwrap();
        assert!(on_file.changed() && on_dir.changed());
        assert!(!on_file.changed() && !on_dir.changed());
        std::fs::write(dir.path().join("Order.jq"), ".").unwrap();
        assert!(on_dir.changed());
        assert!(!on_file.changed());
    }
}

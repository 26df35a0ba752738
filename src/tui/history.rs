//! What was typed at each prompt, newest last, kept across sessions in the user's data
//! directory (`~/.local/share/eventscope/history.json` on Linux), as a shell keeps its own.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// Entries kept per prompt; older ones are forgotten.
pub const KEPT: usize = 100;
/// A longer file is not read (it was not written by us).
const MOST_BYTES: u64 = 1 << 20;

#[derive(Debug, Default)]
pub struct History {
    /// Where it is saved; `None` keeps it in memory only (tests, no data directory).
    path: Option<PathBuf>,
    lists: BTreeMap<String, Vec<String>>,
}

impl History {
    /// The saved history, or an empty one when there is none or it cannot be read (it is
    /// written anew on the next entry).
    pub fn load() -> History {
        let Some(path) = crate::dirs::data_dir().map(|d| d.join("history.json")) else {
            return History::default();
        };
        let lists = eventscope::files::read_bounded(&path, MOST_BYTES, "history")
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default();
        History {
            path: Some(path),
            lists,
        }
    }

    pub fn entries(&self, prompt: &str) -> &[String] {
        self.lists.get(prompt).map_or(&[], Vec::as_slice)
    }

    /// Adds an entry as the newest (moving it there if it was already kept) and saves.
    pub fn add(&mut self, prompt: &str, entry: &str) -> Result<(), String> {
        if entry.trim().is_empty() {
            return Ok(());
        }
        let list = self.lists.entry(prompt.to_string()).or_default();
        list.retain(|e| e != entry);
        list.push(entry.to_string());
        if list.len() > KEPT {
            list.drain(..list.len() - KEPT);
        }
        self.save()
    }

    /// Written whole to a private file beside it, then moved over it, so that a crash or
    /// a second UI never leaves half a file.
    fn save(&self) -> Result<(), String> {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        let Some(path) = &self.path else {
            return Ok(());
        };
        let fail = |e: std::io::Error| format!("cannot save the prompt history: {e}");
        let dir = path.parent().ok_or("the history has no folder")?;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(fail)?;
        let text = serde_json::to_string(&self.lists).map_err(|e| e.to_string())?;
        let temp = dir.join(format!(".history.{}.json", std::process::id()));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temp)
            .map_err(fail)?;
        std::io::Write::write_all(&mut file, text.as_bytes()).map_err(fail)?;
        std::fs::rename(&temp, path).map_err(fail)
    }
}

/// Walking a prompt's history with ↑/↓: entries that start with what was typed before the
/// first ↑, newest first, and back down to that draft.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Recall {
    /// How many matching entries back from the newest; 0 is the draft.
    pub back: usize,
    pub draft: String,
}

impl Recall {
    /// The entry `steps` older (or newer, negative) than the one shown, if there is one.
    pub fn step(&mut self, entries: &[String], input: &str, steps: isize) -> Option<String> {
        if self.back == 0 {
            self.draft = input.to_string();
        }
        let matching: Vec<&String> = entries
            .iter()
            .rev()
            .filter(|e| e.starts_with(&self.draft) && **e != self.draft)
            .collect();
        let back = self.back as isize + steps;
        if back < 0 || back as usize > matching.len() {
            return None;
        }
        self.back = back as usize;
        Some(match self.back {
            0 => self.draft.clone(),
            n => matching[n - 1].clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_kept_newest_last_once_and_saved() {
        let dir = tempfile::tempdir().unwrap();
        let mut h = History {
            path: Some(dir.path().join("sub/history.json")),
            lists: BTreeMap::new(),
        };
        for e in ["a", "b", "a", " ", "c"] {
            h.add("find", e).unwrap();
        }
        assert_eq!(h.entries("find"), ["b", "a", "c"]);
        for i in 0..KEPT + 5 {
            h.add("when", &i.to_string()).unwrap();
        }
        assert_eq!(h.entries("when").len(), KEPT);
        assert_eq!(h.entries("when")[0], "5");
        let text = std::fs::read_to_string(dir.path().join("sub/history.json")).unwrap();
        let saved: BTreeMap<String, Vec<String>> = serde_json::from_str(&text).unwrap();
        assert_eq!(saved, h.lists);
    }

    #[test]
    fn recall_walks_the_entries_that_start_with_the_draft() {
        let entries: Vec<String> = [".a > 1", "acc", ".b", ".a < 0"].map(String::from).to_vec();
        let mut r = Recall::default();
        assert_eq!(r.step(&entries, ".a", 1).as_deref(), Some(".a < 0"));
        assert_eq!(r.step(&entries, ".a < 0", 1).as_deref(), Some(".a > 1"));
        assert_eq!(r.step(&entries, ".a > 1", 1), None, "no older match");
        assert_eq!(r.step(&entries, ".a > 1", -1).as_deref(), Some(".a < 0"));
        assert_eq!(r.step(&entries, ".a < 0", -1).as_deref(), Some(".a"));
        assert_eq!(
            r.step(&entries, ".a", -1),
            None,
            "nothing newer than the draft"
        );
        let mut r = Recall::default();
        assert_eq!(r.step(&entries, "", 1).as_deref(), Some(".a < 0"));
        assert_eq!(r.step(&entries, "", 1).as_deref(), Some(".b"));
    }
}

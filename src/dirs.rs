//! The user's directories, from the `directories` crate: XDG on Linux (`$XDG_CACHE_HOME`
//! else `~/.cache`, and so on), the platform's own places elsewhere.

use std::path::PathBuf;

fn project() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "eventscope")
}

/// Where the demo store is kept.
pub fn cache_dir() -> Option<PathBuf> {
    Some(project()?.cache_dir().to_path_buf())
}

/// Where the user's keymap and theme live.
pub fn config_dir() -> Option<PathBuf> {
    Some(project()?.config_dir().to_path_buf())
}

/// Where what the user typed is kept (the prompts' history).
pub fn data_dir() -> Option<PathBuf> {
    Some(project()?.data_dir().to_path_buf())
}

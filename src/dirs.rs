//! The user's directories, XDG style: `$XDG_CACHE_HOME` else `~/.cache`, and so on.

use std::path::PathBuf;

/// `$<var>/eventscope`, else `~/<home_dir>/eventscope`; `None` without either.
pub fn user_dir(var: &str, home_dir: &str) -> Option<PathBuf> {
    let base = std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(home_dir)))?;
    Some(base.join("eventscope"))
}

//! Whether a copy (OSC 52) can reach the clipboard: inside tmux it does only with
//! `set-clipboard on`; `external` (tmux's default) and `off` drop what applications send.
//! Asked of tmux once, off the UI thread, at start.

use std::sync::OnceLock;

static TMUX_SETTING: OnceLock<Option<String>> = OnceLock::new();

/// Starts asking tmux for its `set-clipboard`, when inside tmux.
pub fn probe() {
    if std::env::var_os("TMUX").is_none() {
        let _ = TMUX_SETTING.set(None);
        return;
    }
    let _ = std::thread::Builder::new()
        .name("clipboard-probe".into())
        .spawn(|| {
            let out = std::process::Command::new("tmux")
                .args(["show-options", "-gv", "set-clipboard"])
                .stdin(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .output();
            let setting = out
                .ok()
                .filter(|o| o.status.success())
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
            let _ = TMUX_SETTING.set(setting);
        });
}

/// Why a copy will not reach the clipboard, when tmux says it will not.
pub fn refused() -> Option<String> {
    let setting = TMUX_SETTING.get()?.as_deref()?;
    (setting != "on").then(|| {
        format!("tmux's set-clipboard is {setting} (`set -g set-clipboard on` lets copies through)")
    })
}

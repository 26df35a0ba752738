//! The man page and shell completion, through the real binary and a real bash.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;

use common::bin::demo;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_eventscope")
}

#[test]
fn the_man_page_documents_every_command() {
    let out = Command::new(bin()).arg("man").output().unwrap();
    assert!(out.status.success());
    let man = String::from_utf8(out.stdout).unwrap();
    assert!(
        man.starts_with(".ie") || man.contains(".TH eventscope 1"),
        "{man}"
    );
    for command in [
        "streams",
        "events",
        "state",
        "diff",
        "check",
        "import",
        "snapshots",
    ] {
        assert!(man.contains(command), "{command} missing");
    }
    assert!(
        !man.contains("__streams"),
        "the completion helper stays hidden"
    );
}

/// What bash offers for `words`, the last being the word being completed.
fn bash_complete(words: &[&str]) -> Vec<String> {
    let script = Command::new(bin())
        .args(["completions", "bash"])
        .output()
        .unwrap();
    assert!(script.status.success());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("eventscope.bash");
    std::fs::write(&file, &script.stdout).unwrap();
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        "source {}; COMP_WORDS=({}); COMP_CWORD={}; COMP_LINE=\"${{COMP_WORDS[*]}}\"; COMP_POINT=${{#COMP_LINE}}; _eventscope eventscope \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        file.display(),
        quoted.join(" "),
        words.len() - 1
    );
    let bin_dir = std::path::Path::new(bin()).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .args(["--norc", "-c", &program])
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completes_stream_ids_from_the_store_given() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let db = db.to_str().unwrap();
    let offered = bash_complete(&["eventscope", "state", db, "Account-"]);
    assert_eq!(offered, vec!["Account-acc-1", "Account-acc-2"]);
    let offered = bash_complete(&["eventscope", "events", db, "--stream", "Ord"]);
    assert_eq!(offered, vec!["Order-123"]);
    // Subcommands still come from clap's part of the script.
    let offered = bash_complete(&["eventscope", "sta"]);
    assert!(offered.contains(&"state".to_string()), "{offered:?}");
    // A store that cannot be read offers nothing, and says nothing.
    let offered = bash_complete(&["eventscope", "state", "/nonexistent.db", "A"]);
    assert!(offered.is_empty(), "{offered:?}");
}

#[test]
fn the_stream_id_helper_prints_ids_escaped_and_nothing_on_errors() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let out = Command::new(bin())
        .arg("__streams")
        .arg(&db)
        .output()
        .unwrap();
    assert!(out.status.success());
    let ids = String::from_utf8(out.stdout).unwrap();
    assert!(ids.lines().any(|l| l == "Order-123"), "{ids}");
    let out = Command::new(bin())
        .args(["__streams", "/nonexistent.db"])
        .output()
        .unwrap();
    assert!(out.status.success() && out.stdout.is_empty() && out.stderr.is_empty());
}

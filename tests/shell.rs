//! The man page and shell completion, through the real binary and a real bash.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;

use common::bin::{demo, ok};

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
    for section in [
        ".SH EXAMPLES",
        ".SH ENVIRONMENT",
        ".SH FILES",
        ".SH TERMINAL UI KEYS",
    ] {
        assert!(man.contains(section), "{section} missing");
    }
    assert!(man.contains("EVENTSCOPE_REDUCER"), "{man}");
    assert!(
        man.contains("blame: the version that last changed each field"),
        "{man}"
    );
    // Alone, it names no page that is not there: subcommands by their command line.
    assert!(!man.contains("eventscope\\-state(1)"), "{man}");
    assert!(man.contains("eventscope state"), "{man}");
}

/// `man --all DIR` writes the main page and one per subcommand, and every page the main
/// page names is one of them; `man` renders each (where man-db is installed).
#[test]
fn man_all_writes_every_page_it_names() {
    let dir = tempfile::tempdir().unwrap();
    let written: Vec<String> = ok(&["man", "--all", dir.path().to_str().unwrap()])
        .lines()
        .map(String::from)
        .collect();
    assert!(written.len() > 15, "{written:?}");
    let main = std::fs::read_to_string(dir.path().join("eventscope.1")).unwrap();
    let named: Vec<&str> = main
        .split("eventscope\\-")
        .skip(1)
        .filter_map(|rest| rest.split_once("(1)").map(|(name, _)| name))
        .filter(|name| {
            name.chars()
                .all(|c| c.is_ascii_lowercase() || c == '\\' || c == '-')
        })
        .collect();
    assert!(named.contains(&"state"), "{main}");
    for name in named {
        let page = dir
            .path()
            .join(format!("eventscope-{}.1", name.replace("\\-", "-")));
        assert!(page.exists(), "{} is named but not written", page.display());
    }
}

/// Each subcommand's help lists its own options first; the store's and PostgreSQL's come
/// under their own headings, and not at all where no store is read.
#[test]
fn subcommand_help_puts_its_own_options_first() {
    let help = ok;
    let state = help(&["state", "--help"]);
    let own = state.find("--at-time").unwrap();
    let store = state.find("Reading the store:").unwrap();
    let pg = state.find("PostgreSQL connection:").unwrap();
    assert!(own < store && store < pg, "{state}");
    assert!(state[pg..].contains("--statement-timeout"), "{state}");
    for storeless in ["demo", "man", "completions", "import", "formats"] {
        let text = help(&[storeless, "--help"]);
        assert!(
            !text.contains("PostgreSQL") && !text.contains("--busy-timeout"),
            "{storeless}: {text}"
        );
    }
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

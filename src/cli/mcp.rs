//! `mcp STORE`: the server takes this command's options and hands them to every call.

use std::path::Path;

use anyhow::{bail, Result};

use super::args::{OpenArgs, ReplayArgs};

pub fn run(store: &Path, open: &OpenArgs, replay: &ReplayArgs, call_timeout: u64) -> Result<()> {
    let Some(store) = store.to_str() else {
        bail!("the store's path is not UTF-8");
    };
    let server = crate::mcp::Server {
        store: store.to_string(),
        open: open_argv(open),
        replay: replay_argv(replay),
        jq: vec![
            format!("--jq-timeout={}", replay.limits.reducer_timeout),
            format!("--jq-memory={}", replay.limits.reducer_memory),
        ],
        call_timeout: std::time::Duration::from_secs(call_timeout),
    };
    crate::mcp::serve(&server)
}

fn open_argv(o: &OpenArgs) -> Vec<String> {
    let mut out = vec![
        format!("--busy-timeout={}", o.busy_timeout),
        format!("--statement-timeout={}", o.statement_timeout),
        format!("--lock-timeout={}", o.lock_timeout),
        format!("--idle-timeout={}", o.idle_timeout),
    ];
    let mut add = |flag: &str, v: &Option<String>| {
        if let Some(v) = v {
            out.push(format!("--{flag}={v}"));
        }
    };
    add("format", &o.format);
    add("map", &o.map);
    add("schema", &o.schema);
    add("table", &o.table);
    add("replica", &o.replica);
    if o.archived {
        out.push("--archived".into());
    }
    out
}

fn replay_argv(r: &ReplayArgs) -> Vec<String> {
    let mut out = Vec::new();
    let path = |flag: &str, p: &Option<std::path::PathBuf>| {
        p.as_ref().map(|p| format!("--{flag}={}", p.display()))
    };
    out.extend(path("reducer", &r.reducer));
    out.extend(path("snapshot-map", &r.snapshot_map));
    out.extend(path("upcasters", &r.upcast.upcasters));
    if r.from_snapshots {
        out.push("--from-snapshots".into());
    }
    if r.upcast.no_upcasters {
        out.push("--no-upcasters".into());
    }
    out
}

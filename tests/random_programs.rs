//! Random small jq programs, from a grammar of builtins that includes the ones whose
//! output size follows a number, run as reducers and `--where` predicates over random
//! events through the binary: every run ends with exit 0 or a one-line error (exit 1),
//! never a signal or a panic, and the process stays bounded in memory.
#![allow(clippy::unwrap_used)]

mod common;

use proptest::prelude::*;

use common::bin::{bin, s};

/// A number a program may meet: small, huge, negative, fractional, from the payload.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("3".to_string()),
        Just("0".to_string()),
        Just("-1".to_string()),
        Just("1.5".to_string()),
        Just("1e18".to_string()),
        Just("4611686018427387904".to_string()),
        Just("100000000000".to_string()),
        Just("$event.data.n".to_string()),
        Just("(.n // 2)".to_string()),
    ]
}

fn term() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        number(),
        Just("\"ab\"".to_string()),
        Just(".".to_string()),
        Just("$event.data".to_string()),
        Just("[1, 2, 3]".to_string()),
        Just("{}".to_string()),
    ];
    leaf.prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} * {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} + {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} - {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} / {b})")),
            number().prop_map(|n| format!("([range({n})] | length)")),
            number().prop_map(|n| format!("([limit({n}; repeat(1))] | length)")),
            number().prop_map(|n| format!("(\"ab\" * {n})")),
            inner.clone().prop_map(|a| format!("({a} | tostring)")),
            inner
                .clone()
                .prop_map(|a| format!("({a} | tojson | fromjson)")),
            inner.clone().prop_map(|a| format!("([{a}] | implode?)")),
            inner
                .clone()
                .prop_map(|a| format!("({a} | tostring | [splits(\"a\")] | length)")),
            inner
                .clone()
                .prop_map(|a| format!("({a} | tostring | indices(\"b\"))")),
            inner
                .clone()
                .prop_map(|a| format!("({a} | tostring | ltrimstr(\"a\"))")),
            inner
                .clone()
                .prop_map(|a| format!("(reduce range(3) as $i ({a}; [.]))")),
            inner.clone().prop_map(|a| format!("({a} | env)")),
            inner.prop_map(|a| format!("(try ({a}) catch \"caught\")")),
        ]
    })
}

/// Peak resident memory of the largest child this test process has waited for, in MiB.
fn children_peak_mib() -> i64 {
    use nix::sys::resource::{getrusage, UsageWho};
    getrusage(UsageWho::RUSAGE_CHILDREN).map_or(0, |u| u.max_rss() / 1024)
}

fn store(dir: &std::path::Path, amounts: &[i64]) -> std::path::PathBuf {
    let file = dir.join("in.ndjson");
    let lines: Vec<String> = amounts
        .iter()
        .enumerate()
        .map(|(i, n)| {
            serde_json::json!({"stream_id": "R-1", "version": i + 1, "type": "T", "data": {"n": n}})
                .to_string()
        })
        .collect();
    std::fs::write(&file, lines.join("\n")).unwrap();
    let db = dir.join("r.db");
    let _ = std::fs::remove_file(&db);
    let out = bin()
        .args(["import", s(&file), "--out", s(&db)])
        .output()
        .unwrap();
    assert!(out.status.success());
    db
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn a_random_program_ends_in_a_line_never_a_signal(
        program in term(),
        amounts in proptest::collection::vec(prop_oneof![Just(1i64), Just(-5), Just(1 << 40), Just(4611686018427387904)], 1..4),
        as_where in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let db = store(dir.path(), &amounts);
        let jq = dir.path().join("p.jq");
        let reducer = format!("(. // {{}}) | .r = {program}");
        std::fs::write(&jq, &reducer).unwrap();
        let limits = ["--jq-timeout", "1", "--jq-memory", "256"];
        let out = if as_where {
            bin().args(["events", s(&db), "--where", &program]).args(limits).output().unwrap()
        } else {
            bin().args(["state", s(&db), "R-1", "--reducer", s(&jq)]).args(limits).output().unwrap()
        };
        let err = String::from_utf8_lossy(&out.stderr);
        prop_assert!(matches!(out.status.code(), Some(0 | 1)), "{program}: {:?} {err}", out.status);
        prop_assert!(err.lines().count() <= 1, "{program}: {err}");
        prop_assert!(!err.contains("panicked"), "{program}: {err}");
        prop_assert!(children_peak_mib() < 1024, "{program}: a child grew to {} MiB", children_peak_mib());
    }
}

//! JSON as foldable lines, for the State and Event tabs.

use std::collections::HashSet;

use eventscope::replay::Change;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum LineKind {
    /// `{` or `[` of an unfolded container.
    Open,
    /// `}` or `]`.
    Close,
    /// A folded container: `{…}`.
    Folded,
    Leaf,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct JsonLine {
    pub depth: usize,
    pub key: Option<String>,
    pub kind: LineKind,
    /// The bracket, `{…} 3 keys`, or the value as JSON.
    pub text: String,
    /// JSON Pointer of the value this line shows.
    pub path: String,
    pub comma: bool,
}

impl JsonLine {
    pub fn foldable(&self) -> bool {
        matches!(self.kind, LineKind::Open | LineKind::Folded)
    }

    /// Whether `changes` touch this line's value: the value itself, something inside it,
    /// or (for a container line) something within the container.
    pub fn is_changed(&self, changes: &[Change]) -> bool {
        if self.kind == LineKind::Close {
            return false;
        }
        changes.iter().any(|c| {
            self.path == c.path
                || self.path.starts_with(&format!("{}/", c.path))
                || (self.kind != LineKind::Leaf
                    && !self.path.is_empty()
                    && c.path.starts_with(&format!("{}/", self.path)))
        })
    }
}

/// Longest value text on one line; longer strings are cut.
const MAX_LEAF: usize = 400;
/// Most lines a value is shown in: past it, a last line says the rest is cut. Bounding
/// the walk keeps a 10 MB payload from costing the UI thread more than a small one.
pub const MAX_LINES: usize = 5000;
/// The path of that last line.
pub const CUT_PATH: &str = "#cut";

pub fn flatten(value: &Value, folded: &HashSet<String>) -> Vec<JsonLine> {
    let mut out = Vec::new();
    walk(value, None, String::new(), 0, false, folded, &mut out);
    if out.len() > MAX_LINES {
        out.truncate(MAX_LINES);
        out.push(JsonLine {
            depth: 0,
            key: None,
            kind: LineKind::Leaf,
            text: format!(
                "… cut at {MAX_LINES} lines: fold a part, or print it all with the CLI (--json)"
            ),
            path: CUT_PATH.into(),
            comma: false,
        });
    }
    out
}

fn walk(
    value: &Value,
    key: Option<String>,
    path: String,
    depth: usize,
    comma: bool,
    folded: &HashSet<String>,
    out: &mut Vec<JsonLine>,
) {
    if out.len() > MAX_LINES {
        return;
    }
    let (open, close, len) = match value {
        Value::Object(m) if !m.is_empty() => ("{", "}", m.len()),
        Value::Array(a) if !a.is_empty() => ("[", "]", a.len()),
        _ => {
            let mut text = value.to_string();
            if text.chars().count() > MAX_LEAF {
                text = text.chars().take(MAX_LEAF).collect::<String>() + "…";
            }
            out.push(JsonLine {
                depth,
                key,
                kind: LineKind::Leaf,
                text,
                path,
                comma,
            });
            return;
        }
    };
    if folded.contains(&path) {
        let what = if open == "{" { "keys" } else { "items" };
        let text = format!("{open}…{close} {len} {what}");
        out.push(JsonLine {
            depth,
            key,
            kind: LineKind::Folded,
            text,
            path,
            comma,
        });
        return;
    }
    out.push(JsonLine {
        depth,
        key,
        kind: LineKind::Open,
        text: open.to_string(),
        path: path.clone(),
        comma: false,
    });
    let segment = |k: &str| format!("{path}/{}", k.replace('~', "~0").replace('/', "~1"));
    match value {
        Value::Object(m) => {
            for (i, (k, v)) in m.iter().enumerate() {
                walk(
                    v,
                    Some(k.clone()),
                    segment(k),
                    depth + 1,
                    i + 1 < len,
                    folded,
                    out,
                );
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                walk(
                    v,
                    None,
                    segment(&i.to_string()),
                    depth + 1,
                    i + 1 < len,
                    folded,
                    out,
                );
            }
        }
        _ => {}
    }
    out.push(JsonLine {
        depth,
        key: None,
        kind: LineKind::Close,
        text: close.to_string(),
        path,
        comma,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use eventscope::replay::Op;
    use serde_json::json;

    fn texts(lines: &[JsonLine]) -> Vec<String> {
        lines
            .iter()
            .map(|l| {
                let key = l
                    .key
                    .as_ref()
                    .map(|k| format!("{k:?}: "))
                    .unwrap_or_default();
                format!(
                    "{}{key}{}{}",
                    "  ".repeat(l.depth),
                    l.text,
                    if l.comma { "," } else { "" }
                )
            })
            .collect()
    }

    #[test]
    fn pretty_lines_like_jq() {
        let v = json!({"id": "a", "items": [1, {"x": null}], "empty": {}});
        assert_eq!(
            texts(&flatten(&v, &HashSet::new())),
            vec![
                "{",
                "  \"id\": \"a\",",
                "  \"items\": [",
                "    1,",
                "    {",
                "      \"x\": null",
                "    }",
                "  ],",
                "  \"empty\": {}",
                "}",
            ]
        );
    }

    #[test]
    fn folded_containers_are_one_line() {
        let v = json!({"items": [1, 2, 3], "n": 1});
        let folded: HashSet<String> = ["/items".to_string()].into();
        assert_eq!(
            texts(&flatten(&v, &folded)),
            vec!["{", "  \"items\": […] 3 items,", "  \"n\": 1", "}"]
        );
        let root: HashSet<String> = ["".to_string()].into();
        assert_eq!(texts(&flatten(&v, &root)), vec!["{…} 2 keys"]);
    }

    #[test]
    fn huge_values_are_cut_with_a_note() {
        let big = Value::Array((0..200_000).map(Value::from).collect());
        let lines = flatten(&big, &HashSet::new());
        assert_eq!(lines.len(), MAX_LINES + 1);
        assert!(lines[MAX_LINES].text.starts_with("… cut at 5000 lines"));
        let long = json!({"s": "x".repeat(10_000)});
        let lines = flatten(&long, &HashSet::new());
        assert!(lines[1].text.chars().count() <= MAX_LEAF + 1);
    }

    #[test]
    fn changed_lines_follow_the_changes() {
        let v = json!({"balance": 120, "owner": "A", "items": {"a": 1}});
        let change = |path: &str| Change {
            path: path.into(),
            op: Op::Changed,
            old: None,
            new: None,
        };
        let lines = flatten(&v, &HashSet::new());
        let marked = |changes: &[Change]| -> Vec<String> {
            lines
                .iter()
                .filter(|l| l.is_changed(changes))
                .map(|l| l.path.clone())
                .collect()
        };
        assert_eq!(marked(&[change("/balance")]), vec!["/balance"]);
        assert_eq!(marked(&[change("/items/a")]), vec!["/items", "/items/a"]);
        assert_eq!(marked(&[change("/items")]), vec!["/items", "/items/a"]);
        assert_eq!(marked(&[]), Vec::<String>::new());
    }
}

//! Structural comparison of two JSON states, as a list of changes at JSON Pointer paths.

use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    Added,
    Removed,
    Changed,
}

/// One difference. `old` is absent for additions, `new` for removals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// RFC 6901 JSON Pointer; `""` is the whole state.
    pub path: String,
    pub op: Op,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
}

/// The changes that turn `old` into `new`: objects are compared key by key, arrays index by
/// index, anything else as a whole. `null` against an object (a stream before its first
/// event) compares as an empty object, so every field shows as added.
pub fn diff(old: &Value, new: &Value) -> Vec<Change> {
    let mut out = Vec::new();
    walk(&mut String::new(), old, new, &mut out);
    out
}

fn walk(path: &mut String, old: &Value, new: &Value, out: &mut Vec<Change>) {
    let empty = Value::Object(Default::default());
    match (old, new) {
        (Value::Null, Value::Object(_)) => walk(path, &empty, new, out),
        (Value::Object(_), Value::Null) => walk(path, old, &empty, out),
        (Value::Object(a), Value::Object(b)) => {
            for (k, av) in a {
                let len = push(path, k);
                match b.get(k) {
                    Some(bv) => walk(path, av, bv, out),
                    None => out.push(removed(path, av)),
                }
                path.truncate(len);
            }
            for (k, bv) in b {
                if !a.contains_key(k) {
                    let len = push(path, k);
                    out.push(added(path, bv));
                    path.truncate(len);
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for i in 0..a.len().max(b.len()) {
                let len = push(path, &i.to_string());
                match (a.get(i), b.get(i)) {
                    (Some(av), Some(bv)) => walk(path, av, bv, out),
                    (Some(av), None) => out.push(removed(path, av)),
                    (None, Some(bv)) => out.push(added(path, bv)),
                    (None, None) => {}
                }
                path.truncate(len);
            }
        }
        _ if old == new => {}
        _ => out.push(Change {
            path: path.clone(),
            op: Op::Changed,
            old: Some(old.clone()),
            new: Some(new.clone()),
        }),
    }
}

/// Appends an escaped pointer segment and returns the length to truncate back to.
fn push(path: &mut String, key: &str) -> usize {
    let len = path.len();
    path.push('/');
    path.push_str(&key.replace('~', "~0").replace('/', "~1"));
    len
}

fn added(path: &str, v: &Value) -> Change {
    Change {
        path: path.to_string(),
        op: Op::Added,
        old: None,
        new: Some(v.clone()),
    }
}

fn removed(path: &str, v: &Value) -> Change {
    Change {
        path: path.to_string(),
        op: Op::Removed,
        old: Some(v.clone()),
        new: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ops(changes: &[Change]) -> Vec<(String, Op)> {
        changes.iter().map(|c| (c.path.clone(), c.op)).collect()
    }

    #[test]
    fn equal_states_have_no_changes() {
        let s = json!({"a": [1, {"b": null}], "c": "x"});
        assert!(diff(&s, &s).is_empty());
    }

    #[test]
    fn changed_scalar_reports_old_and_new() {
        let d = diff(&json!({"balance": 100}), &json!({"balance": 120}));
        assert_eq!(
            d,
            vec![Change {
                path: "/balance".into(),
                op: Op::Changed,
                old: Some(json!(100)),
                new: Some(json!(120)),
            }]
        );
    }

    #[test]
    fn nested_added_removed_and_arrays() {
        let old = json!({"a": {"x": 1, "y": 2}, "items": [1, 2, 3]});
        let new = json!({"a": {"x": 1, "z": 3}, "items": [1, 5]});
        assert_eq!(
            ops(&diff(&old, &new)),
            vec![
                ("/a/y".into(), Op::Removed),
                ("/a/z".into(), Op::Added),
                ("/items/1".into(), Op::Changed),
                ("/items/2".into(), Op::Removed),
            ]
        );
    }

    #[test]
    fn pointer_segments_are_escaped() {
        let d = diff(&json!({}), &json!({"a/b": 1, "c~d": 2}));
        assert_eq!(d[0].path, "/a~1b");
        assert_eq!(d[1].path, "/c~0d");
    }

    #[test]
    fn null_against_object_lists_fields() {
        let d = diff(&Value::Null, &json!({"id": "acc-1", "balance": 0}));
        assert_eq!(
            ops(&d),
            vec![("/id".into(), Op::Added), ("/balance".into(), Op::Added)]
        );
        let whole = diff(&json!(1), &json!("one"));
        assert_eq!(ops(&whole), vec![("".into(), Op::Changed)]);
    }

    #[test]
    fn type_change_is_a_change_not_a_walk() {
        let d = diff(&json!({"a": [1]}), &json!({"a": {"0": 1}}));
        assert_eq!(ops(&d), vec![("/a".into(), Op::Changed)]);
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(json[0]["op"], "changed");
        assert_eq!(json[0]["old"], json!([1]));
    }
}

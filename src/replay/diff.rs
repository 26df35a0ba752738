//! Structural comparison of two JSON states, as a list of changes at JSON Pointer paths.

use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    Added,
    Removed,
    Changed,
}

/// One difference. `old` is absent for additions, `new` for removals.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Change {
    /// RFC 6901 JSON Pointer; `""` is the whole state.
    pub path: String,
    pub op: Op,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
}

/// The changes that turn `old` into `new`: objects are compared key by key, anything else
/// as a whole, and arrays as lists that gained, lost or changed items (see [`walk_arrays`]).
/// A whole state of `null` against an object (a stream before its first event) compares as
/// an empty object, so every field shows as added.
pub fn diff(old: &Value, new: &Value) -> Vec<Change> {
    let mut out = Vec::new();
    walk(&mut String::new(), old, new, &mut out);
    out
}

fn walk(path: &mut String, old: &Value, new: &Value, out: &mut Vec<Change>) {
    let empty = Value::Object(Default::default());
    match (old, new) {
        // Only the whole state: before a stream's first event it is null.
        (Value::Null, Value::Object(_)) if path.is_empty() => walk(path, &empty, new, out),
        (Value::Object(_), Value::Null) if path.is_empty() => walk(path, old, &empty, out),
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
        (Value::Array(a), Value::Array(b)) => walk_arrays(path, a, b, out),
        _ if old == new => {}
        // As jq compares them: a DECIMAL's 120.00 is the reducer's 120.
        (Value::Number(a), Value::Number(b)) if exact_number(a) == exact_number(b) => {}
        _ => out.push(Change {
            path: path.clone(),
            op: Op::Changed,
            old: Some(old.clone()),
            new: Some(new.clone()),
        }),
    }
}

/// A JSON number as (negative, significant digits, exponent), trailing zeros moved into
/// the exponent: equal exactly when the numbers are, whatever digits wrote them.
fn exact_number(n: &serde_json::Number) -> (bool, String, i64) {
    let text = n.to_string();
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.as_str()),
    };
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i64>().unwrap_or(0)),
        None => (unsigned, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = format!("{int}{frac}");
    let digits = digits.trim_start_matches('0');
    let trimmed = digits.trim_end_matches('0');
    if trimmed.is_empty() {
        return (false, String::new(), 0);
    }
    let exponent = exponent - frac.len() as i64 + (digits.len() - trimmed.len()) as i64;
    (negative, trimmed.to_string(), exponent)
}

/// Arrays of objects that all carry one key field (`id`, a field ending in `Id` or `_id`, or
/// `sku`, unique on each side) are matched by that key; other arrays by their longest common
/// subsequence. So removing item 0 is one removal, not every item shifted. A removal's path
/// is its index in the old array; an addition's or a change's, its index in the new one.
fn walk_arrays(path: &mut String, a: &[Value], b: &[Value], out: &mut Vec<Change>) {
    let pairs = key_field(a, b)
        .and_then(|key| match_by_key(a, b, &key))
        .unwrap_or_else(|| match_by_lcs(a, b));
    for (i, j) in pairs {
        match (i, j) {
            (Some(i), Some(j)) => {
                let len = push(path, &j.to_string());
                walk(path, &a[i], &b[j], out);
                path.truncate(len);
            }
            (Some(i), None) => {
                let len = push(path, &i.to_string());
                out.push(removed(path, &a[i]));
                path.truncate(len);
            }
            (None, Some(j)) => {
                let len = push(path, &j.to_string());
                out.push(added(path, &b[j]));
                path.truncate(len);
            }
            (None, None) => {}
        }
    }
}

type Pairs = Vec<(Option<usize>, Option<usize>)>;

/// The key field every item on both sides carries, with values unique on each side.
fn key_field(a: &[Value], b: &[Value]) -> Option<String> {
    let first = a.first().or(b.first())?.as_object()?;
    let mut candidates: Vec<&String> = first
        .keys()
        .filter(|k| *k == "id" || k.ends_with("Id") || k.ends_with("_id") || *k == "sku")
        .collect();
    candidates.sort_by_key(|k| (*k != "id", k.len()));
    candidates
        .into_iter()
        .find(|k| {
            [a, b].iter().all(|side| {
                let mut seen = std::collections::HashSet::new();
                side.iter().all(|item| {
                    item.get(k.as_str())
                        .filter(|v| v.is_string() || v.is_number())
                        .is_some_and(|v| seen.insert(v.to_string()))
                })
            })
        })
        .cloned()
}

/// Items matched by their key, or `None` when the kept items changed their order (a
/// reorder is no add, remove or change, so the subsequence match describes it instead).
fn match_by_key(a: &[Value], b: &[Value], key: &str) -> Option<Pairs> {
    let id = |v: &Value| v.get(key).map(Value::to_string).unwrap_or_default();
    let in_b: std::collections::HashMap<String, usize> =
        b.iter().enumerate().map(|(j, v)| (id(v), j)).collect();
    let in_a: std::collections::HashSet<String> = a.iter().map(id).collect();
    let mut pairs: Pairs = Vec::new();
    for (i, v) in a.iter().enumerate() {
        pairs.push((Some(i), in_b.get(&id(v)).copied()));
    }
    let kept: Vec<usize> = pairs.iter().filter_map(|(_, j)| *j).collect();
    if kept.windows(2).any(|w| w[0] > w[1]) {
        return None;
    }
    for (j, v) in b.iter().enumerate() {
        if !in_a.contains(&id(v)) {
            pairs.push((None, Some(j)));
        }
    }
    Some(pairs)
}

/// Beyond this many cells the subsequence table is not built: items are then compared
/// index by index between the common head and tail.
const LCS_CELLS: usize = 4_000_000;

fn match_by_lcs(a: &[Value], b: &[Value]) -> Pairs {
    let head = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let tail = a[head..]
        .iter()
        .rev()
        .zip(b[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ma, mb) = (&a[head..a.len() - tail], &b[head..b.len() - tail]);
    let mut pairs: Pairs = (0..head).map(|i| (Some(i), Some(i))).collect();
    let middle: Pairs = if ma.len().saturating_mul(mb.len()) > LCS_CELLS {
        (0..ma.len().max(mb.len()))
            .map(|k| ((k < ma.len()).then_some(k), (k < mb.len()).then_some(k)))
            .collect()
    } else {
        lcs_pairs(ma, mb)
    };
    pairs.extend(
        middle
            .into_iter()
            .map(|(i, j)| (i.map(|i| i + head), j.map(|j| j + head))),
    );
    pairs.extend((0..tail).map(|k| (Some(a.len() - tail + k), Some(b.len() - tail + k))));
    pairs
}

/// Equal items matched by longest common subsequence; between two matches, what was
/// removed and what was added are paired up as changes, one for one.
fn lcs_pairs(a: &[Value], b: &[Value]) -> Pairs {
    let (n, m) = (a.len(), b.len());
    let mut len = vec![0u32; (n + 1) * (m + 1)];
    let at = |i: usize, j: usize| i * (m + 1) + j;
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            len[at(i, j)] = if a[i] == b[j] {
                len[at(i + 1, j + 1)] + 1
            } else {
                len[at(i + 1, j)].max(len[at(i, j + 1)])
            };
        }
    }
    let mut pairs = Vec::new();
    let (mut gone, mut new): (Vec<usize>, Vec<usize>) = (Vec::new(), Vec::new());
    let flush = |pairs: &mut Pairs, gone: &mut Vec<usize>, new: &mut Vec<usize>| {
        for k in 0..gone.len().max(new.len()) {
            pairs.push((gone.get(k).copied(), new.get(k).copied()));
        }
        gone.clear();
        new.clear();
    };
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            flush(&mut pairs, &mut gone, &mut new);
            pairs.push((Some(i), Some(j)));
            i += 1;
            j += 1;
        } else if j >= m || (i < n && len[at(i + 1, j)] >= len[at(i, j + 1)]) {
            gone.push(i);
            i += 1;
        } else {
            new.push(j);
            j += 1;
        }
    }
    flush(&mut pairs, &mut gone, &mut new);
    pairs
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
mod number_tests {
    use super::*;

    #[test]
    fn numbers_are_compared_by_value() {
        let n = |s: &str| serde_json::from_str::<Value>(s).unwrap();
        for (a, b) in [
            ("120.00", "120"),
            ("1.5e2", "150"),
            ("-0", "0"),
            ("0.10", "1e-1"),
        ] {
            assert!(diff(&n(a), &n(b)).is_empty(), "{a} {b}");
        }
        for (a, b) in [("120.01", "120"), ("-1", "1"), ("1e3", "100")] {
            assert_eq!(diff(&n(a), &n(b)).len(), 1, "{a} {b}");
        }
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
    fn removing_the_first_item_is_one_removal() {
        let d = diff(
            &json!({"tags": ["a", "b", "c"]}),
            &json!({"tags": ["b", "c"]}),
        );
        assert_eq!(ops(&d), vec![("/tags/0".into(), Op::Removed)]);
        assert_eq!(d[0].old, Some(json!("a")));
        let d = diff(&json!([1, 2, 3, 4]), &json!([1, 3, 4, 5]));
        assert_eq!(
            ops(&d),
            vec![("/1".into(), Op::Removed), ("/3".into(), Op::Added)]
        );
        let d = diff(&json!([1, 2, 3]), &json!([1, 9, 3]));
        assert_eq!(
            ops(&d),
            vec![("/1".into(), Op::Changed)],
            "a replaced item is a change"
        );
    }

    #[test]
    fn objects_with_a_key_are_matched_by_it() {
        let old = json!({"lines": [
            {"sku": "A", "qty": 1}, {"sku": "B", "qty": 2}, {"sku": "C", "qty": 3}
        ]});
        let new = json!({"lines": [
            {"sku": "B", "qty": 5}, {"sku": "C", "qty": 3}, {"sku": "D", "qty": 1}
        ]});
        let d = diff(&old, &new);
        assert_eq!(
            ops(&d),
            vec![
                ("/lines/0".into(), Op::Removed),
                ("/lines/0/qty".into(), Op::Changed),
                ("/lines/2".into(), Op::Added),
            ]
        );
        assert_eq!(d[0].old, Some(json!({"sku": "A", "qty": 1})));
        assert_eq!(
            (d[1].old.clone(), d[1].new.clone()),
            (Some(json!(2)), Some(json!(5)))
        );
        let by_id = diff(
            &json!([{"orderId": 1, "s": "new"}, {"orderId": 2, "s": "new"}]),
            &json!([{"orderId": 2, "s": "paid"}]),
        );
        assert_eq!(
            ops(&by_id),
            vec![("/0".into(), Op::Removed), ("/0/s".into(), Op::Changed)]
        );
    }

    /// Applies changes as their paths are written: at an array, removals by old index
    /// (last first), then additions and changes by new index, then what lies deeper.
    fn apply(mut v: Value, changes: &[Change]) -> Value {
        if changes.is_empty() {
            return v;
        }
        let mut direct: Vec<&Change> = Vec::new();
        let mut deeper: std::collections::BTreeMap<String, Vec<Change>> = Default::default();
        for c in changes {
            if c.path.is_empty() {
                return c.new.clone().unwrap_or(Value::Null);
            }
            let rest = &c.path[1..];
            match rest.split_once('/') {
                None => direct.push(c),
                Some((head, tail)) => deeper.entry(head.to_string()).or_default().push(Change {
                    path: format!("/{tail}"),
                    ..c.clone()
                }),
            }
        }
        let seg = |c: &Change| c.path[1..].replace("~1", "/").replace("~0", "~");
        if v.is_null() && (!direct.is_empty() || !deeper.is_empty()) {
            v = Value::Object(Default::default());
        }
        match &mut v {
            Value::Array(items) => {
                let idx = |c: &Change| seg(c).parse::<usize>().unwrap();
                let mut removed: Vec<usize> = direct
                    .iter()
                    .filter(|c| c.op == Op::Removed)
                    .map(|c| idx(c))
                    .collect();
                removed.sort_unstable();
                for i in removed.into_iter().rev() {
                    items.remove(i);
                }
                let mut added: Vec<&&Change> =
                    direct.iter().filter(|c| c.op == Op::Added).collect();
                added.sort_by_key(|c| idx(c));
                for c in added {
                    items.insert(idx(c), c.new.clone().unwrap());
                }
                for c in direct.iter().filter(|c| c.op == Op::Changed) {
                    items[idx(c)] = c.new.clone().unwrap();
                }
                for (head, inner) in deeper {
                    let i: usize = head.parse().unwrap();
                    items[i] = apply(std::mem::take(&mut items[i]), &inner);
                }
            }
            Value::Object(map) => {
                for c in direct {
                    match c.op {
                        Op::Removed => {
                            map.shift_remove(&seg(c));
                        }
                        _ => {
                            map.insert(seg(c), c.new.clone().unwrap());
                        }
                    }
                }
                for (head, inner) in deeper {
                    let k = head.replace("~1", "/").replace("~0", "~");
                    let old = map.get(&k).cloned().unwrap_or(Value::Null);
                    map.insert(k, apply(old, &inner));
                }
            }
            _ => panic!("changes below a scalar"),
        }
        v
    }

    fn leaf() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        prop_oneof![
            Just(Value::Null),
            (0..4i64).prop_map(Value::from),
            prop::sample::select(vec!["x", "y"]).prop_map(Value::from),
        ]
    }

    fn json() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        leaf().prop_recursive(3, 24, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::btree_map(
                    prop::sample::select(vec!["a", "b/c", "id", "n~"]),
                    inner,
                    0..4
                )
                .prop_map(|m| Value::Object(
                    m.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
                )),
                prop::collection::vec((0..4i64, 0..3i64), 0..5).prop_map(|rows| {
                    let mut seen = std::collections::HashSet::new();
                    Value::Array(
                        rows.into_iter()
                            .filter(|(id, _)| seen.insert(*id))
                            .map(|(id, q)| json!({"sku": id, "qty": q}))
                            .collect(),
                    )
                }),
            ]
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(400))]
        #[test]
        fn applying_the_changes_to_a_gives_b(a in json(), b in json()) {
            let changes = diff(&a, &b);
            // A whole state of null against an object counts as an empty object (see `diff`).
            let root = |v: Value, other: &Value| {
                if v.is_null() && other.is_object() { Value::Object(Default::default()) } else { v }
            };
            let got = root(apply(a.clone(), &changes), &b);
            let want = root(b.clone(), &a);
            proptest::prop_assert_eq!(got, want, "changes: {:?}", changes);
        }
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

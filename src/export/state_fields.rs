//! Which of the states' top-level scalar fields become typed columns, and as what: chosen
//! from the row group's own states, so that every value of a typed column is exact.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::columns::{Cell, Kind, DECIMAL_DIGITS};
use super::decimal::Decimal;

/// The most typed columns a file gets; further fields are only in the `state` JSON.
pub const MAX_FIELDS: usize = 256;

/// What a field's values were in a row group, widened value by value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    /// Only nulls so far.
    Nothing,
    Bool,
    Int,
    /// Decimals: the most fraction digits and the most whole digits seen.
    Decimal {
        scale: u8,
        whole: u32,
    },
    Text,
    /// Objects or arrays only: no typed column.
    Nested,
    /// Values of different kinds: a JSON column.
    Mixed,
}

fn seen_of(v: &Value) -> Seen {
    match v {
        Value::Null => Seen::Nothing,
        Value::Bool(_) => Seen::Bool,
        Value::Number(n) if n.as_i64().is_some() => Seen::Int,
        Value::Number(n) => match Decimal::parse(&n.to_string()) {
            Some(d) => Seen::Decimal {
                scale: d.scale(),
                whole: d.whole_digits(),
            },
            None => Seen::Mixed,
        },
        Value::String(_) => Seen::Text,
        Value::Array(_) | Value::Object(_) => Seen::Nested,
    }
}

fn widen(a: Seen, b: Seen) -> Seen {
    use Seen::*;
    let int_as_decimal = |scale, whole: u32| Decimal {
        scale,
        whole: whole.max(19),
    };
    let fits = |s: Seen| match s {
        Decimal { scale, whole } if u32::from(scale) + whole > DECIMAL_DIGITS => Mixed,
        s => s,
    };
    match (a, b) {
        (Nothing, x) | (x, Nothing) => x,
        (x, y) if x == y => x,
        (Int, Decimal { scale, whole }) | (Decimal { scale, whole }, Int) => {
            fits(int_as_decimal(scale, whole))
        }
        (
            Decimal {
                scale: s1,
                whole: w1,
            },
            Decimal {
                scale: s2,
                whole: w2,
            },
        ) => fits(Decimal {
            scale: s1.max(s2),
            whole: w1.max(w2),
        }),
        _ => Mixed,
    }
}

fn kind_of(s: Seen) -> Option<Kind> {
    match s {
        Seen::Nothing | Seen::Nested => None,
        Seen::Bool => Some(Kind::Bool),
        Seen::Int => Some(Kind::Int),
        Seen::Decimal { scale, .. } => Some(Kind::Decimal(scale)),
        Seen::Text => Some(Kind::Text),
        Seen::Mixed => Some(Kind::Json),
    }
}

/// Whether a column of kind `open` holds every value `s` stands for.
fn holds(open: Kind, s: Seen) -> bool {
    match (open, s) {
        (_, Seen::Nothing) | (Kind::Json, _) => true,
        (Kind::Bool, Seen::Bool) | (Kind::Int, Seen::Int) | (Kind::Text, Seen::Text) => true,
        (Kind::Decimal(scale), Seen::Int) => u32::from(scale) + 19 <= DECIMAL_DIGITS,
        (Kind::Decimal(scale), Seen::Decimal { scale: s, whole }) => {
            s <= scale && u32::from(scale) + whole <= DECIMAL_DIGITS
        }
        _ => false,
    }
}

/// The typed columns for a row group: (state field, column name, kind), in the order the
/// fields first appear. `open` are the open file's (field, kind): where they hold every
/// value of this group they are kept, so that files split only where the shape changes.
pub fn choose(
    states: &[Option<&Value>],
    open: &[(String, Kind)],
    taken: &HashSet<String>,
) -> Vec<(String, String, Kind)> {
    let mut order: Vec<String> = Vec::new();
    let mut seen: HashMap<&str, Seen> = HashMap::new();
    for state in states.iter().flatten() {
        let Some(fields) = state.as_object() else {
            continue;
        };
        for (k, v) in fields {
            let s = seen_of(v);
            let room = seen.len() < MAX_FIELDS * 4;
            match seen.get_mut(k.as_str()) {
                Some(was) => *was = widen(*was, s),
                None if room => {
                    order.push(k.clone());
                    seen.insert(k, s);
                }
                None => {}
            }
        }
    }
    let mut names: HashSet<String> = taken.iter().map(|n| n.to_lowercase()).collect();
    let mut out = Vec::new();
    for field in order {
        let s = seen[field.as_str()];
        let kind = match open.iter().find(|(f, _)| *f == field) {
            Some((_, k)) if holds(*k, s) => Some(*k),
            _ => kind_of(s),
        };
        let Some(kind) = kind else { continue };
        // SQL engines compare column names without case: one name each.
        let mut name = field.clone();
        if name.is_empty() || names.contains(&name.to_lowercase()) {
            name = format!("state.{field}");
        }
        if out.len() == MAX_FIELDS || !names.insert(name.to_lowercase()) {
            continue;
        }
        out.push((field, name, kind));
    }
    out
}

/// A field's value as a cell of a column of `kind` (which `choose` made to hold it).
pub fn cell(v: Option<&Value>, kind: Kind) -> Cell {
    match (v, kind) {
        (None | Some(Value::Null), _) => Cell::Null,
        (Some(v), Kind::Json) => Cell::Text(v.to_string()),
        (Some(Value::Bool(b)), Kind::Bool) => Cell::Bool(*b),
        (Some(Value::Number(n)), Kind::Int) => n.as_i64().map_or(Cell::Null, Cell::Int),
        (Some(Value::Number(n)), Kind::Decimal(_)) => {
            Decimal::parse(&n.to_string()).map_or(Cell::Null, Cell::Decimal)
        }
        (Some(Value::String(s)), Kind::Text) => Cell::Text(s.clone()),
        _ => Cell::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chosen(states: &[Value], open: &[(String, Kind)]) -> Vec<(String, String, Kind)> {
        let refs: Vec<Option<&Value>> = states.iter().map(Some).collect();
        let taken = ["stream", "version", "state"].map(String::from).into();
        choose(&refs, open, &taken)
    }

    #[test]
    fn each_field_gets_the_narrowest_exact_kind() {
        let states = [
            json!({"balance": 100, "owner": "ann", "open": true, "tags": [1], "version": 3}),
            json!({"balance": 12.50, "owner": null, "open": false, "odd": 1}),
            json!({"balance": -0.125, "odd": "x", "Owner": "twice"}),
        ];
        let got = chosen(&states, &[]);
        let names: Vec<(&str, &str, Kind)> = got
            .iter()
            .map(|(f, n, k)| (f.as_str(), n.as_str(), *k))
            .collect();
        assert_eq!(
            names,
            [
                ("balance", "balance", Kind::Decimal(3)),
                ("owner", "owner", Kind::Text),
                ("open", "open", Kind::Bool),
                ("version", "state.version", Kind::Int),
                ("odd", "odd", Kind::Json),
                ("Owner", "state.Owner", Kind::Text),
            ]
        );
        assert_eq!(
            cell(states[1].get("balance"), Kind::Decimal(3)),
            Cell::Decimal(Decimal::parse("12.5").unwrap())
        );
    }

    #[test]
    fn an_open_files_kind_is_kept_where_it_holds_the_values() {
        let open = [("balance".to_string(), Kind::Decimal(2))];
        let got = chosen(&[json!({"balance": 5})], &open);
        assert_eq!(got[0].2, Kind::Decimal(2));
        let got = chosen(&[json!({"balance": 0.001})], &open);
        assert_eq!(got[0].2, Kind::Decimal(3));
        let got = chosen(&[json!({"balance": 1e300})], &open);
        assert_eq!(got[0].2, Kind::Json);
    }
}

//! Native predicates: a `when` predicate that is comparisons of a path with a literal
//! (`.balance < 0`, `$event.type == "Closed" and .open`, joined by `and`/`or` without
//! parentheses) is judged without the interpreter. The path is walked and compared with
//! jaq's own values and ordering; wherever the walk is not the plain case (indexing a
//! number, say, which is an error in jq) the predicate runs in jaq, so every answer and
//! error stays jaq's.

use jaq_core::load::lex::{Tok, Token};
use jaq_core::ops::Cmp;
use jaq_json::Val;

use super::event_fields::field;
use super::jq::JqProgram;

/// Where a path starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Root {
    State,
    Event,
}

/// `PATH OP LITERAL`, or `PATH` alone (its truth).
#[derive(Debug, Clone)]
struct Leaf {
    root: Root,
    path: Vec<Val>,
    test: Option<(Cmp, Val)>,
}

/// A recognised predicate: any group holds where all its leaves hold (`and` binds tighter
/// than `or`, as in jq).
#[derive(Debug, Clone)]
pub struct NativePredicate {
    groups: Vec<Vec<Leaf>>,
}

/// Recognises `code` as comparisons of paths with literals joined by `and`/`or`.
pub fn recognise(code: &str) -> Option<NativePredicate> {
    let tokens = jaq_core::load::Lexer::new(code).lex().ok()?;
    let mut groups = Vec::new();
    for group in tokens.split(|t| matches!(t, Token("or", Tok::Word))) {
        let leaves = group
            .split(|t| matches!(t, Token("and", Tok::Word)))
            .map(leaf)
            .collect::<Option<Vec<_>>>()?;
        groups.push(leaves);
    }
    // A bare path gives its value, not a boolean: jaq tells what it is.
    let bare = matches!(&groups[..], [g] if matches!(&g[..], [l] if l.test.is_none()));
    (!bare).then_some(NativePredicate { groups })
}

fn leaf(tokens: &[Token<&str>]) -> Option<Leaf> {
    let op_at = tokens
        .iter()
        .position(|t| matches!(t, Token("==" | "!=" | "<" | "<=" | ">" | ">=", Tok::Sym)));
    let (lhs, rest) = match op_at {
        Some(i) => tokens.split_at(i),
        None => (tokens, &[][..]),
    };
    let (root, names) = match lhs {
        [Token("$event", Tok::Var), names @ ..] if !names.is_empty() => (Root::Event, names),
        [Token(".", Tok::Sym)] => (Root::State, &[][..]),
        names if !names.is_empty() => (Root::State, names),
        _ => return None,
    };
    let path = names
        .iter()
        .map(|t| match t {
            Token(s, Tok::Sym) => field(s).map(|f| Val::from(f.to_string())),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    let test = match rest {
        [] => None,
        [Token(op, Tok::Sym), literal @ ..] => {
            let cmp = match *op {
                "==" => Cmp::Eq,
                "!=" => Cmp::Ne,
                "<" => Cmp::Lt,
                "<=" => Cmp::Le,
                ">" => Cmp::Gt,
                _ => Cmp::Ge,
            };
            Some((cmp, literal_val(literal)?))
        }
        _ => return None,
    };
    Some(Leaf { root, path, test })
}

/// A number (signed), a plain string, `true`, `false` or `null`, valued by jaq itself so
/// that it is the very value the interpreter would compare with.
fn literal_val(tokens: &[Token<&str>]) -> Option<Val> {
    let text = match tokens {
        [Token(n, Tok::Num)] => n.to_string(),
        [Token("-", Tok::Sym), Token(n, Tok::Num)] => format!("-{n}"),
        [Token(w @ ("true" | "false" | "null"), Tok::Word)] => w.to_string(),
        [Token(s, Tok::Str(parts))]
            if parts
                .iter()
                .all(|p| matches!(p, jaq_core::load::lex::StrPart::Str(_))) =>
        {
            s.to_string()
        }
        _ => return None,
    };
    let program = JqProgram::compile("literal", &text).ok()?;
    program.first_output(Val::Null, Val::Null).ok().flatten()
}

/// Index `v` by `key` where jq gives a value without an error: objects and null.
fn get(v: &Val, key: &Val) -> Option<Val> {
    match v {
        Val::Obj(m) => Some(m.get(key).cloned().unwrap_or(Val::Null)),
        Val::Null => Some(Val::Null),
        _ => None,
    }
}

impl NativePredicate {
    /// The paths read from the input, written as `$event` paths (`$event.data.amount`):
    /// for a predicate over the envelope (`--where`), what `fields_used` and
    /// `DataPaths::of` need to build only those parts of it.
    pub fn input_paths_as_event(&self) -> String {
        let mut out = String::new();
        for leaf in self.groups.iter().flatten() {
            let names = leaf.path.iter().map(super::jq::key_string);
            match leaf.root {
                // The whole input: every field.
                Root::State if leaf.path.is_empty() => out.push_str(" $event "),
                Root::State | Root::Event => {
                    out.push_str(" $event");
                    for n in names {
                        out.push('.');
                        out.push_str(&n);
                    }
                }
            }
        }
        out
    }

    /// Whether any path is on `$event`, so the caller builds it.
    pub fn reads_event(&self) -> bool {
        self.groups.iter().flatten().any(|l| l.root == Root::Event)
    }

    /// jq's truth of the predicate for `state` and `event`; `None` where a walk is not
    /// the plain case, for jaq to judge.
    pub fn judge(&self, state: &Val, event: Option<&Val>) -> Option<bool> {
        // A leaf's value before short-circuiting matters not: jq's `and`/`or` stop at the
        // first decisive operand, and an undecided leaf makes the whole undecided.
        for group in &self.groups {
            let mut all = true;
            for leaf in group {
                let start = match leaf.root {
                    Root::State => state,
                    Root::Event => event?,
                };
                let mut at = start.clone();
                for key in &leaf.path {
                    at = get(&at, key)?;
                }
                let holds = match &leaf.test {
                    Some((cmp, literal)) => cmp.run(&at, literal),
                    None => !matches!(at, Val::Null | Val::Bool(false)),
                };
                if !holds {
                    all = false;
                    break;
                }
            }
            if all {
                return Some(true);
            }
        }
        Some(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::jq::to_val;
    use serde_json::json;

    #[test]
    fn recognises_comparisons_and_their_joins_only() {
        for code in [
            ".balance < 0",
            ".balance < -1e300",
            ".a.b == \"x\" and .c",
            "$event.type == \"Closed\" or .open != true",
            ". == null",
        ] {
            assert!(recognise(code).is_some(), "{code}");
        }
        for code in [
            ".balance < 0 | not",
            "(.balance < 0)",
            ".a[0] == 1",
            ".balance < .limit",
            ".a == \"\\(.b)\"",
            ".a == [1]",
            "length > 2",
            ".closed",
            "$event == 1",
            "",
        ] {
            assert!(recognise(code).is_none(), "{code}");
        }
    }

    /// Every answer agrees with jaq's, on states where the walk is plain and where it
    /// is not (those are left to jaq).
    #[test]
    fn agrees_with_jaq_where_it_answers() {
        let codes = [
            ".balance < 0",
            ".balance >= 100",
            ".owner == \"Alice\"",
            ".a.b != null",
            ".closed and .balance > 0",
            ".balance < 0 or .closed and .owner == \"Bob\"",
            "$event.type == \"MoneyWithdrawn\" and .balance < 50",
            ".balance == 1.0",
            ".balance > -1e300",
        ];
        let states = [
            json!(null),
            json!({"balance": -5, "owner": "Alice"}),
            json!({"balance": 1, "closed": true, "owner": "Bob"}),
            json!({"balance": "10"}),
            json!({"a": {"b": 1}}),
            json!({"a": 3}),
            json!({"balance": 1.5e300}),
            json!([1, 2]),
            json!(7),
        ];
        let event = to_val(&json!({"type": "MoneyWithdrawn"}));
        for code in codes {
            let native = recognise(code).unwrap();
            let program = JqProgram::compile("p", code).unwrap();
            for s in &states {
                let state = to_val(s);
                let jaq = program.first_output(state.clone(), event.clone());
                match native.judge(&state, Some(&event)) {
                    Some(holds) => {
                        let truth = match jaq {
                            Ok(Some(v)) => !matches!(v, Val::Null | Val::Bool(false)),
                            other => panic!("{code} on {s}: jaq gave {other:?}, native {holds}"),
                        };
                        assert_eq!(holds, truth, "{code} on {s}");
                    }
                    None => assert!(jaq.is_err(), "{code} left {s} to jaq: {jaq:?}"),
                }
            }
        }
    }
}

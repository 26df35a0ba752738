//! Native updates: a branch that is exactly `.a.b OP= $event.x.y` (OP one of `+ - * /`,
//! names only) is applied with jaq's own arithmetic on the state in place, without the
//! interpreter, when the state has objects down to a number at that path and the operand
//! is a number. Anything else (a missing field, another type, an arithmetic error) runs
//! the branch in jaq, so the answer and every error stay jaq's.

use std::rc::Rc;

use jaq_core::load::lex::{Tok, Token};
use jaq_json::Val;

use super::event_fields::field;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
}

/// A recognised update, with its keys as jaq values (built once).
#[derive(Debug, Clone)]
pub struct NativeUpdate {
    path: Vec<Val>,
    op: Op,
    operand: Vec<Val>,
}

/// Recognises `code` as exactly `.a.b OP= $event.x.y`.
pub fn recognise(code: &str) -> Option<NativeUpdate> {
    let tokens = jaq_core::load::Lexer::new(code).lex().ok()?;
    let op_at = tokens
        .iter()
        .position(|t| matches!(t, Token("+=" | "-=" | "*=" | "/=", Tok::Sym)))?;
    let (lhs, rest) = tokens.split_at(op_at);
    let op = match rest[0].0 {
        "+=" => Op::Add,
        "-=" => Op::Sub,
        "*=" => Op::Mul,
        _ => Op::Div,
    };
    let path: Vec<Val> = lhs
        .iter()
        .map(|t| match t {
            Token(s, Tok::Sym) => field(s).map(|f| Val::from(f.to_string())),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let [Token("$event", Tok::Var), fields @ ..] = &rest[1..] else {
        return None;
    };
    let operand: Vec<Val> = fields
        .iter()
        .map(|t| match t {
            Token(s, Tok::Sym) => field(s).map(|f| Val::from(f.to_string())),
            _ => None,
        })
        .collect::<Option<_>>()?;
    (!path.is_empty() && !operand.is_empty()).then_some(NativeUpdate { path, op, operand })
}

fn get<'v>(v: &'v Val, key: &Val) -> Option<&'v Val> {
    match v {
        Val::Obj(m) => m.get(key),
        _ => None,
    }
}

impl NativeUpdate {
    /// Applies the update in place; `false` (the state untouched) when this case is not
    /// the plain one, for jaq to run instead.
    pub fn apply(&self, state: &mut Val, event: &Val) -> bool {
        let operand = self.operand.iter().try_fold(event, |v, k| get(v, k));
        let Some(operand @ Val::Num(_)) = operand else {
            return false;
        };
        let Some(current @ Val::Num(_)) = self.path.iter().try_fold(&*state, |v, k| get(v, k))
        else {
            return false;
        };
        let (a, b) = (current.clone(), operand.clone());
        let next = match self.op {
            Op::Add => a + b,
            Op::Sub => a - b,
            Op::Mul => a * b,
            Op::Div => a / b,
        };
        let Ok(next @ Val::Num(_)) = next else {
            return false;
        };
        // Every step down is an object holding the key (checked above).
        let mut at = state;
        for key in &self.path {
            let Val::Obj(map) = at else { return false };
            let Some(slot) = Rc::make_mut(map).get_mut(key) else {
                return false;
            };
            at = slot;
        }
        *at = next;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn val(v: serde_json::Value) -> Val {
        crate::replay::jq::to_val(&v)
    }

    #[test]
    fn recognises_exactly_the_update_shape() {
        assert!(recognise(".balance += $event.data.amount").is_some());
        assert!(recognise(" .a.b -= $event.data.x ").is_some());
        for code in [
            ".balance += $event.data.amount | .n = 1",
            ".balance += ($event.data.amount)",
            ".[\"b\"] += $event.data.amount",
            ".balance += $e.data.amount",
            ".balance += $event",
            ".balance = $event.data.amount",
            ".balance += $event.data[0]",
        ] {
            assert!(recognise(code).is_none(), "{code}");
        }
    }

    #[test]
    fn applies_only_the_plain_case() {
        let u = recognise(".balance += $event.data.amount").unwrap();
        let event = val(serde_json::json!({"data": {"amount": 5}}));
        let mut state = val(serde_json::json!({"id": "a", "balance": 10}));
        assert!(u.apply(&mut state, &event));
        assert_eq!(
            crate::replay::jq::from_val(&state),
            serde_json::json!({"id": "a", "balance": 15})
        );
        // null state, missing field, string amount: jaq decides.
        for (s, e) in [
            (
                serde_json::json!(null),
                serde_json::json!({"data": {"amount": 5}}),
            ),
            (
                serde_json::json!({"id": "a"}),
                serde_json::json!({"data": {"amount": 5}}),
            ),
            (
                serde_json::json!({"balance": 1}),
                serde_json::json!({"data": {"amount": "5"}}),
            ),
        ] {
            let mut state = val(s.clone());
            assert!(!u.apply(&mut state, &val(e)));
            assert_eq!(crate::replay::jq::from_val(&state), s, "untouched");
        }
    }
}

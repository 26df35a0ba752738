//! Dispatch on the event type: a reducer that is exactly a top-level
//! `if $event.type == "A" then … elif $event.type == "B" then … else … end` (either side of
//! `==`) is split into one program per branch, picked by the type's text through a hash
//! map, instead of jaq evaluating the comparisons at every event. Anything not recognised
//! exactly keeps the whole program (`EVENTSCOPE_NO_FAST_PATHS=dispatch` turns this off).

use std::collections::HashMap;

use jaq_core::load::lex::{StrPart, Tok, Token};

/// The branches of a recognised type chain, as source text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    /// Each literal type with the index of its branch (the first branch naming it wins,
    /// as jq's `elif` order does).
    pub by_type: HashMap<String, usize>,
    pub branches: Vec<String>,
    /// The `else` branch; `None` is jq's `if … end` without `else`: the state unchanged.
    pub otherwise: Option<String>,
}

/// The literal of a plain string token (no interpolation; escapes decoded as jq does).
fn literal(tok: &Tok<&str>) -> Option<String> {
    let Tok::Str(parts) = tok else { return None };
    let mut out = String::new();
    for p in parts {
        match p {
            StrPart::Str(s) => out.push_str(s),
            StrPart::Char(c) => out.push(*c),
            StrPart::Term(_) => return None,
        }
    }
    Some(out)
}

/// `$event.type == "lit"` or `"lit" == $event.type`, exactly.
fn condition(tokens: &[Token<&str>]) -> Option<String> {
    let is_type = |a: &Token<&str>, b: &Token<&str>| {
        matches!(a, Token("$event", Tok::Var)) && matches!(b, Token(".type", Tok::Sym))
    };
    match tokens {
        [a, b, Token("==", Tok::Sym), Token(_, lit)] if is_type(a, b) => literal(lit),
        [Token(_, lit), Token("==", Tok::Sym), a, b] if is_type(a, b) => literal(lit),
        _ => None,
    }
}

/// Any token, at any depth, that stops the split: `$__loc__` (its answer depends on where
/// the code is) and anything that reads the program's own position.
fn forbidden(tokens: &[Token<&str>]) -> bool {
    tokens.iter().any(|Token(text, tok)| match tok {
        Tok::Var => *text == "$__loc__",
        Tok::Block(inner) => forbidden(inner),
        Tok::Str(parts) => parts.iter().any(|p| match p {
            StrPart::Term(t) => forbidden(std::slice::from_ref(t)),
            _ => false,
        }),
        _ => false,
    })
}

/// The source between two tokens of `code`: from the start of `first` to the start of
/// `stop`.
fn span(code: &str, first: &str, stop: &str) -> Option<String> {
    let base = code.as_ptr() as usize;
    let from = (first.as_ptr() as usize).checked_sub(base)?;
    let to = (stop.as_ptr() as usize).checked_sub(base)?;
    code.get(from..to).map(str::to_string)
}

/// Recognises the chain in `code`, or `None` for any other shape.
pub fn recognise(code: &str) -> Option<Chain> {
    let tokens = jaq_core::load::Lexer::new(code).lex().ok()?;
    if forbidden(&tokens) {
        return None;
    }
    let [Token("if", Tok::Word), rest @ ..] = tokens.as_slice() else {
        return None;
    };
    let mut chain = Chain {
        by_type: HashMap::new(),
        branches: Vec::new(),
        otherwise: None,
    };
    let mut i = 0;
    loop {
        // The condition runs up to `then`.
        let then = rest[i..]
            .iter()
            .position(|t| matches!(t, Token("then", Tok::Word)))?
            + i;
        let lit = condition(&rest[i..then])?;
        // The branch runs up to the `elif`, `else` or `end` of this `if`.
        let (end, keyword) = branch_end(rest, then + 1)?;
        let first = rest.get(then + 1)?;
        let body = span(code, first.0, rest[end].0)?;
        let index = chain.branches.len();
        chain.by_type.entry(lit).or_insert(index);
        chain.branches.push(body);
        match keyword {
            "elif" => i = end + 1,
            "else" => {
                let (stop, k) = branch_end(rest, end + 1)?;
                if k != "end" || stop + 1 != rest.len() {
                    return None;
                }
                chain.otherwise = Some(span(code, rest.get(end + 1)?.0, rest[stop].0)?);
                return Some(chain);
            }
            _ => {
                // `end`: nothing may follow the chain.
                return (end + 1 == rest.len()).then_some(chain);
            }
        }
    }
}

/// The index of the `elif`/`else`/`end` that closes a branch starting at `from`, skipping
/// nested `if … end`.
fn branch_end<'a>(tokens: &[Token<&'a str>], from: usize) -> Option<(usize, &'a str)> {
    let mut depth = 0;
    for (i, Token(text, tok)) in tokens.iter().enumerate().skip(from) {
        if !matches!(tok, Tok::Word) {
            continue;
        }
        match *text {
            "if" => depth += 1,
            "end" if depth > 0 => depth -= 1,
            "elif" | "else" | "end" if depth == 0 => return (i > from).then_some((i, *text)),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_reducer_is_a_chain() {
        let code = include_str!("../../assets/reducers/Account.jq");
        let c = recognise(code).expect("Account.jq dispatches");
        assert_eq!(c.branches.len(), 3);
        assert_eq!(c.by_type["MoneyDeposited"], 1);
        assert!(c.branches[1].contains(".balance += $event.data.amount"));
        assert_eq!(c.otherwise.as_deref().map(str::trim), Some("."));
    }

    use crate::fast_paths::FastPath;

    #[test]
    fn compiled_reducers_dispatch_when_their_branches_compile() {
        let code = include_str!("../../assets/reducers/Account.jq");
        let p = crate::replay::JqProgram::compile("Account.jq", code).unwrap();
        assert!(p.dispatches() || !FastPath::Dispatch.on());
        let p = crate::replay::JqProgram::compile("x", ". + {}").unwrap();
        assert!(!p.dispatches());
    }

    #[test]
    fn mirrored_missing_else_nested_ifs_and_repeats() {
        let c = recognise(
            r#"if "A" == $event.type then (if .x then 1 else 2 end) elif $event.type == "A" then 3 elif $event.type == "B\u0043" then 4 end"#,
        )
        .unwrap();
        assert_eq!(c.by_type["A"], 0, "the first branch naming a type wins");
        assert_eq!(c.by_type["BC"], 2, "escapes are decoded");
        assert_eq!(c.branches[0].trim(), "(if .x then 1 else 2 end)");
        assert_eq!(c.otherwise, None);
    }

    #[test]
    fn other_shapes_keep_the_whole_program() {
        for code in [
            ". + {n: 1}",
            r#"if $event.type == "A" then 1 else 2 end | . + 1"#,
            r#"def f: .; if $event.type == "A" then f else . end"#,
            r#"if $event.type != "A" then 1 else 2 end"#,
            r#"if $event.type == "A\(1)" then 1 else 2 end"#,
            r#"if $event.data.type == "A" then 1 else 2 end"#,
            r#"if $event.type == "A" and .x then 1 else 2 end"#,
            r#"if $event.type == "A" then $__loc__ else 2 end"#,
            r#"if $event.type == "A" then 1 else 2 end end"#,
            "if $event.type == \"A\" then",
        ] {
            assert_eq!(recognise(code), None, "{code}");
        }
    }
}

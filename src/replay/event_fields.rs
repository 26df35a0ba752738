//! What a reducer reads of `$event`, found with jaq's own lexer (so comments and strings
//! are what jq says they are): which envelope fields, and for the payload, which named
//! paths (`$event.data.amount`). Only those are built for each event.

use jaq_core::load::lex::{StrPart, Tok, Token};
use jaq_json::Val;

/// The envelope's field names, in the order `$event` holds them.
pub const FIELD_NAMES: [&str; 12] = [
    "global_position",
    "stream_id",
    "version",
    "event_id",
    "type",
    "data",
    "metadata",
    "timestamp",
    "topic",
    "schema_version",
    "original_position",
    "undecodable",
];

/// Which `$event` fields a program reads: a bit per name in [`FIELD_NAMES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fields(u16);

impl Fields {
    pub const ALL: Fields = Fields(u16::MAX);

    /// The store columns behind these fields.
    pub fn columns(self) -> crate::store::Columns {
        crate::store::Columns {
            event_id: self.has("event_id"),
            metadata: self.has("metadata"),
            timestamp: self.has("timestamp"),
        }
    }

    pub fn has(self, name: &str) -> bool {
        FIELD_NAMES
            .iter()
            .position(|n| *n == name)
            .is_some_and(|i| self.has_index(i))
    }

    /// Whether the field at `i` in [`FIELD_NAMES`] is read.
    pub fn has_index(self, i: usize) -> bool {
        self.0 & (1 << i) != 0
    }
}

/// `.name` as a field name: an identifier, as jaq's lexer makes one token of it.
pub fn field(sym: &str) -> Option<&str> {
    let name = sym.strip_prefix('.')?;
    let mut chars = name.chars();
    let first = chars.next()?;
    ((first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_'))
    .then_some(name)
}

/// For each `$event` in `code`, the names that follow it: `$event.data.amount` gives
/// `["data", "amount"]`. `None` when the code does not lex, or when some `$event` is used
/// otherwise (`$event | keys`, `$event as $e`, `$event["x"]`, `def f($event): …`).
fn event_chains(code: &str) -> Option<Vec<Vec<&str>>> {
    fn walk<'a>(tokens: &[Token<&'a str>], chains: &mut Vec<Vec<&'a str>>) -> Option<()> {
        for (i, Token(text, tok)) in tokens.iter().enumerate() {
            match tok {
                Tok::Var if *text == "$event" => {
                    let chain: Vec<&str> = tokens[i + 1..]
                        .iter()
                        .map_while(|t| match t {
                            Token(s, Tok::Sym) => field(s),
                            _ => None,
                        })
                        .collect();
                    if chain.is_empty() {
                        return None;
                    }
                    chains.push(chain);
                }
                Tok::Block(inner) => walk(inner, chains)?,
                Tok::Str(parts) => {
                    for part in parts {
                        if let StrPart::Term(t) = part {
                            walk(std::slice::from_ref(t), chains)?;
                        }
                    }
                }
                _ => {}
            }
        }
        Some(())
    }
    let tokens = jaq_core::load::Lexer::new(code).lex().ok()?;
    let mut chains = Vec::new();
    walk(&tokens, &mut chains)?;
    Some(chains)
}

/// The `$event` fields `code` reads: when every `$event` is followed by `.name`, only
/// those names; any other use needs all.
pub fn fields_used(code: &str) -> Fields {
    let Some(chains) = event_chains(code) else {
        return Fields::ALL;
    };
    let mut used = 0;
    for chain in chains {
        if let Some(bit) = FIELD_NAMES.iter().position(|n| *n == chain[0]) {
            used |= 1 << bit;
        }
    }
    Fields(used)
}

/// The payload paths a program reads, as a tree: each `$event.data.a.b` adds a path, and
/// the value where a path ends is needed whole.
#[derive(Debug, Default, PartialEq)]
pub struct DataPaths(pub(super) PathNode);

#[derive(Debug, Default, PartialEq)]
pub(super) struct PathNode {
    /// A path ends here: the value is built whole, whatever else is below.
    pub whole: bool,
    /// The names read below this one, each with its key as a jaq value (built once).
    pub children: Vec<(Box<[u8]>, Val, PathNode)>,
}

impl PathNode {
    pub fn child(&self, name: &[u8]) -> Option<(&Val, &PathNode)> {
        self.children
            .iter()
            .find(|(n, ..)| **n == *name)
            .map(|(_, key, node)| (key, node))
    }
}

impl DataPaths {
    /// The paths `code` reads below `$event.data`; `None` when it reads the payload
    /// whole (`$event.data` with no name after it), when it reads `$event` any other way,
    /// or when it does not read the payload at all.
    pub fn of(code: &str) -> Option<DataPaths> {
        let chains = event_chains(code)?;
        let mut root = PathNode::default();
        let mut any = false;
        for chain in chains.iter().filter(|c| c[0] == "data") {
            if chain.len() == 1 {
                return None;
            }
            any = true;
            let mut node = &mut root;
            for name in &chain[1..] {
                let at = match node
                    .children
                    .iter()
                    .position(|(n, ..)| **n == *name.as_bytes())
                {
                    Some(at) => at,
                    None => {
                        let key = Val::utf8_str(name.as_bytes().to_vec());
                        node.children
                            .push((name.as_bytes().into(), key, PathNode::default()));
                        node.children.len() - 1
                    }
                };
                node = &mut node.children[at].2;
            }
            node.whole = true;
        }
        any.then_some(DataPaths(root))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(f: Fields) -> Vec<&'static str> {
        FIELD_NAMES.iter().copied().filter(|n| f.has(n)).collect()
    }

    #[test]
    fn fields_read_by_name_are_found() {
        let code = include_str!("../../assets/reducers/Account.jq");
        assert_eq!(names(fields_used(code)), vec!["type", "data"]);
        let interp = r#""at \($event.timestamp)" | .x = $event.version # $event | keys"#;
        assert_eq!(names(fields_used(interp)), vec!["version", "timestamp"]);
    }

    #[test]
    fn any_other_use_needs_every_field() {
        for code in [
            "$event | keys",
            "$event as $e | $e.data",
            "$event[\"data\"]",
            ".a = $event",
            "$event.data as $d | $event",
            "def f($event): $event.data.a; f({})",
        ] {
            assert_eq!(fields_used(code), Fields::ALL, "{code}");
            assert_eq!(DataPaths::of(code), None, "{code}");
        }
        assert_eq!(
            fields_used("\"open"),
            Fields::ALL,
            "unlexable code is not guessed at"
        );
        assert_eq!(names(fields_used(". + 1")), Vec::<&str>::new());
    }

    /// The paths as `a.b` strings, a `*` after those needed whole.
    fn paths(code: &str) -> Option<Vec<String>> {
        fn walk(node: &PathNode, prefix: &str, out: &mut Vec<String>) {
            if node.whole {
                out.push(format!("{prefix}*"));
            }
            for (name, _, child) in &node.children {
                let name = String::from_utf8_lossy(name);
                let p = if prefix.is_empty() {
                    name.into_owned()
                } else {
                    format!("{prefix}.{name}")
                };
                walk(child, &p, out);
            }
        }
        let d = DataPaths::of(code)?;
        let mut out = Vec::new();
        walk(&d.0, "", &mut out);
        Some(out)
    }

    #[test]
    fn payload_paths_are_found_and_merged() {
        let code = include_str!("../../assets/reducers/Account.jq");
        assert_eq!(
            paths(code).unwrap(),
            vec!["accountId*", "ownerName*", "amount*"]
        );
        assert_eq!(
            paths(r#".x = $event.data.a.b | .y = $event.data.a | .z = "\($event.data.c.d[0])""#)
                .unwrap(),
            vec!["a*", "a.b*", "c.d*"],
            "a path's end is whole even where another goes deeper"
        );
        assert_eq!(paths("$event.data | .a"), None, "the payload read whole");
        assert_eq!(paths(r#"$event.data."a b""#), None, "a quoted name");
        assert_eq!(paths(".n += 1 | $event.type"), None, "no payload read");
    }
}

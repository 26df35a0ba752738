//! The targeted payload read: for a reducer that reads the payload only through named
//! paths, `$event.data` holds just the values on those paths. Every byte of the payload is
//! still checked, by a reader that accepts strict JSON only; whatever it does not accept
//! (escaped keys, surrogate escapes, jaq's extensions such as comments or `NaN`, nesting
//! past the limit) gives `None`, and the caller parses the payload whole with jaq, which
//! then decides. A value where a path ends, and any value on a path that is not an object,
//! is parsed by jaq's own reader, so that every value a reducer can see is jaq's.
//!
//! Why this is exact: a path of names applied to the partial object gives what it gives on
//! the whole one (a missing key is null either way; a value that is not an object is
//! whole, so indexing it fails with the same message), and jaq never shows an intermediate
//! object of `$event.data.a.b`: a variable in a path expression is an error about the
//! input, not the variable. Duplicate keys: the last one wins, as in jaq's reader.

use jaq_json::Val;

use super::event_fields::{DataPaths, PathNode};
use super::jq::MAX_DEPTH;

/// `$event.data` for `payload` with only `paths` built; `None` to parse it whole instead.
pub fn read(payload: &[u8], paths: &DataPaths) -> Option<Val> {
    let mut r = Reader { b: payload, i: 0 };
    let v = r.build(&paths.0, 0)?;
    r.ws();
    (r.i == payload.len()).then_some(v)
}

/// The reducers a fuzz input picks from by its first byte: each reads the payload by name.
const FUZZ_READERS: [&str; 4] = [
    "$event.data.amount",
    "$event.data.a.b",
    "[$event.data.a, $event.data.a.b.c, $event.data.x]",
    "[$event.data.a.b.c.d, $event.data.b]",
];

/// For the fuzz target and its regressions: the first byte of `input` picks a reducer's
/// paths, the rest is a payload; every path must give, on the targeted read, what it gives
/// on jaq's whole parse (the same value, or an error about the same value), and the
/// targeted read may only accept what the whole parse accepts.
pub fn check_against_whole(input: &[u8]) -> Result<(), String> {
    let Some((&pick, payload)) = input.split_first() else {
        return Ok(());
    };
    let code = FUZZ_READERS[pick as usize % FUZZ_READERS.len()];
    let Some(paths) = DataPaths::of(code) else {
        return Err(format!("{code} reads no paths"));
    };
    let Some(targeted) = std::str::from_utf8(payload)
        .ok()
        .and_then(|_| read(payload, &paths))
    else {
        return Ok(());
    };
    let whole = super::jq::parse_bounded(payload)
        .map_err(|e| format!("the targeted read took what jaq refuses ({e})"))?;
    let mut ends = Vec::new();
    walk_ends(&paths.0, &mut Vec::new(), &mut ends);
    for path in ends {
        let (a, b) = (index(&targeted, &path), index(&whole, &path));
        if a != b {
            return Err(format!("{path:?}: targeted {a:?}, whole {b:?}"));
        }
    }
    Ok(())
}

fn walk_ends(node: &PathNode, at: &mut Vec<Val>, out: &mut Vec<Vec<Val>>) {
    if node.whole {
        out.push(at.clone());
    }
    for (_, key, child) in &node.children {
        at.push(key.clone());
        walk_ends(child, at, out);
        at.pop();
    }
}

/// `.a.b…` as jq applies it: null through null and missing keys, an error on anything
/// else that is not an object.
fn index(v: &Val, path: &[Val]) -> Result<Val, String> {
    path.iter().try_fold(v.clone(), |v, k| match v {
        Val::Obj(m) => Ok(m.get(k).cloned().unwrap_or(Val::Null)),
        Val::Null => Ok(Val::Null),
        other => Err(format!("cannot index {other}")),
    })
}

struct Reader<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Reader<'a> {
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    /// The value at `node`, which is `depth` containers deep.
    fn build(&mut self, node: &PathNode, depth: usize) -> Option<Val> {
        self.ws();
        if node.whole || self.peek()? != b'{' {
            let start = self.i;
            self.value(depth)?;
            return jaq_json::read::parse_single(&self.b[start..self.i]).ok();
        }
        let mut map = jaq_json::Map::default();
        self.members(depth, |r, key, escaped| {
            if escaped {
                // It might spell a wanted name.
                return None;
            }
            match node.child(key) {
                Some((key, child)) => {
                    let v = r.build(child, depth + 1)?;
                    map.insert(key.clone(), v);
                    Some(())
                }
                None => r.value(depth + 1),
            }
        })?;
        Some(Val::obj(map))
    }

    /// Checks one value, `depth` containers deep, and steps over it.
    fn value(&mut self, depth: usize) -> Option<()> {
        self.ws();
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' => self.members(depth, |r, _, _| r.value(depth + 1)),
            b'[' => self.elements(depth),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        self.b[self.i..]
            .starts_with(word)
            .then(|| self.i += word.len())
    }

    /// An object's members, each value handed to `member` with its key's raw bytes and
    /// whether the key has escapes; the reader stands on the value (past any whitespace).
    fn members(
        &mut self,
        depth: usize,
        mut member: impl FnMut(&mut Self, &'a [u8], bool) -> Option<()>,
    ) -> Option<()> {
        let b = self.b;
        self.sequence(depth, b'{', b'}', |r| {
            let (start, end, escaped) = r.string()?;
            r.ws();
            r.eat(b':')?;
            r.ws();
            member(r, &b[start..end], escaped)
        })
    }

    fn elements(&mut self, depth: usize) -> Option<()> {
        self.sequence(depth, b'[', b']', |r| r.value(depth + 1))
    }

    /// A container from `open` to `close`, `depth` containers deep, its items separated by
    /// commas; `item` reads one, from past any whitespace before it.
    fn sequence(
        &mut self,
        depth: usize,
        open: u8,
        close: u8,
        mut item: impl FnMut(&mut Self) -> Option<()>,
    ) -> Option<()> {
        if depth >= MAX_DEPTH {
            return None;
        }
        self.eat(open)?;
        self.ws();
        if self.eat(close).is_some() {
            return Some(());
        }
        loop {
            self.ws();
            item(self)?;
            self.ws();
            match self.peek()? {
                b',' => self.i += 1,
                c if c == close => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// A string: the range between its quotes, and whether it has escapes.
    fn string(&mut self) -> Option<(usize, usize, bool)> {
        self.eat(b'"')?;
        let start = self.i;
        let mut escaped = false;
        loop {
            let c = *self.b.get(self.i)?;
            self.i += 1;
            match c {
                b'"' => return Some((start, self.i - 1, escaped)),
                b'\\' => {
                    escaped = true;
                    self.escape()?;
                }
                0..=0x1f => return None,
                _ => {}
            }
        }
    }

    fn escape(&mut self) -> Option<()> {
        let c = *self.b.get(self.i)?;
        self.i += 1;
        match c {
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Some(()),
            b'u' => {
                let hex = self.b.get(self.i..self.i + 4)?;
                if !hex.iter().all(u8::is_ascii_hexdigit) {
                    return None;
                }
                let code = hex
                    .iter()
                    .fold(0u32, |n, d| n * 16 + (*d as char).to_digit(16).unwrap_or(0));
                self.i += 4;
                // Surrogates (paired or not) are left to jaq.
                (!(0xD800..=0xDFFF).contains(&code)).then_some(())
            }
            _ => None,
        }
    }

    fn digits(&mut self) -> Option<()> {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        (self.i > start).then_some(())
    }

    fn number(&mut self) -> Option<()> {
        let _ = self.eat(b'-');
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => self.digits()?,
            _ => return None,
        }
        if self.eat(b'.').is_some() {
            self.digits()?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            self.digits()?;
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::jq::parse_bounded;

    /// What a reducer reading `code` sees of `payload`, read whole and read targeted.
    fn both(code: &str, payload: &str) -> (Val, Option<Val>) {
        let paths = DataPaths::of(code).unwrap();
        let whole = parse_bounded(payload.as_bytes()).unwrap();
        (whole, read(payload.as_bytes(), &paths))
    }

    fn at(v: &Val, path: &[&str]) -> Val {
        path.iter().fold(v.clone(), |v, k| match v {
            Val::Obj(m) => m
                .get(&Val::utf8_str(k.as_bytes().to_vec()))
                .cloned()
                .unwrap_or(Val::Null),
            _ => Val::Null,
        })
    }

    #[test]
    fn only_the_paths_are_built_and_they_agree() {
        let code = ".a = $event.data.amount | .b = $event.data.owner.id";
        let payload = r#" {"note": "x\n\"y", "amount": 12.50e1, "list": [1, {"a": null}, true],
            "owner": {"id": "o-1", "name": "N"}, "big": 123456789012345678901234567890} "#;
        let (whole, targeted) = both(code, payload);
        let targeted = targeted.expect("strict JSON is read");
        for path in [
            &["amount"][..],
            &["owner", "id"],
            &["owner", "nope"],
            &["nope"],
        ] {
            assert_eq!(at(&targeted, path), at(&whole, path), "{path:?}");
        }
        assert_eq!(at(&targeted, &["note"]), Val::Null, "not built");
        assert_eq!(at(&targeted, &["owner", "name"]), Val::Null, "not built");
    }

    #[test]
    fn the_last_of_duplicate_keys_wins_as_in_jaq() {
        let code = ".a = $event.data.x.y";
        let payload = r#"{"x": {"y": 1}, "x": {"z": 2}, "x": {"y": 3, "y": 4}}"#;
        let (whole, targeted) = both(code, payload);
        assert_eq!(at(&targeted.unwrap(), &["x", "y"]), at(&whole, &["x", "y"]));
    }

    #[test]
    fn a_value_on_a_path_that_is_not_an_object_is_whole() {
        let code = ".a = $event.data.x.y";
        for payload in [r#"{"x": [1, 2]}"#, r#"[1]"#, r#"{"x": "s"}"#, "5"] {
            let (whole, targeted) = both(code, payload);
            let targeted = targeted.unwrap();
            assert_eq!(at(&targeted, &["x"]), at(&whole, &["x"]), "{payload}");
            if !matches!(whole, Val::Obj(_)) {
                assert_eq!(targeted, whole, "{payload}");
            }
        }
    }

    #[test]
    fn the_fuzz_check_finds_a_disagreement_and_passes_agreement() {
        assert_eq!(check_against_whole(b"\x00{\"amount\": [1]}"), Ok(()));
        assert_eq!(
            index(&Val::from(1isize), &[Val::Null]),
            Err("cannot index 1".into())
        );
        let paths = DataPaths::of("$event.data.a.b").unwrap();
        let mut ends = Vec::new();
        walk_ends(&paths.0, &mut Vec::new(), &mut ends);
        assert_eq!(ends.len(), 1);
        let partial = read(br#"{"a": {"b": 1, "c": 2}}"#, &paths).unwrap();
        assert_ne!(
            index(
                &partial,
                &[Val::from("a".to_string()), Val::from("c".to_string())]
            ),
            Ok(Val::from(2isize))
        );
    }

    #[test]
    fn anything_unusual_is_left_to_the_whole_parse() {
        let paths = DataPaths::of(".a = $event.data.x").unwrap();
        let deep = format!("{{\"x\": {}1{}}}", "[".repeat(128), "]".repeat(128));
        for payload in [
            r#"{"\u0078": 1}"#,
            r#"{"x": "\ud83d\ude00"}"#,
            r#"{"x": NaN}"#,
            "{\"x\": 1} # note",
            r#"{"x": 01}"#,
            r#"{"x": 1,}"#,
            r#"{"x": +1}"#,
            "{\"x\": \"tab\there\"}",
            r#"{"x": 1} {"x": 2}"#,
            r#"{"x": 1"#,
            r#"{"x": "\q"}"#,
            r#"{x: 1}"#,
            "",
            deep.as_str(),
        ] {
            assert_eq!(read(payload.as_bytes(), &paths), None, "{payload:?}");
        }
        let limit = format!("{{\"x\": {}1{}}}", "[".repeat(127), "]".repeat(127));
        assert!(
            read(limit.as_bytes(), &paths).is_some(),
            "128 levels are fine"
        );
        assert!(parse_bounded(limit.as_bytes()).is_ok());
        assert!(parse_bounded(deep.as_bytes()).is_err());
    }
}

//! The one event envelope shared by every layout, the reducers, the CLI and the TUI.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// An event as eventscope shows it, whatever layout it was read from.
///
/// The last four fields appear only where a layout has them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Position in the store's global order (1-based in the native layout).
    pub global_position: i64,
    pub stream_id: String,
    /// 1-based position within its stream.
    pub version: i64,
    pub event_id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub data: Value,
    #[serde(default = "empty_object")]
    pub metadata: Value,
    /// RFC 3339 in UTC with the stored precision; `null` where the layout records no time.
    /// Text that is no time is kept as stored (and `check` reports it).
    #[serde(default)]
    pub timestamp: Option<String>,
    /// The full type name where the layout stores one (Python `eventsourcing`'s topic).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// The stream's category where the layout names it (an aggregate class or type);
    /// absent where it is the stream id before its first `-`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// The payload's schema version (cqrs-es `event_version`, Emmett's schema version).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<String>,
    /// The stream position as stored, where it is not `version` (Message DB counts from 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_position: Option<i64>,
    /// The stored version where it is not an integer (text, a real, NULL); `version` is
    /// then 0 and the event takes no part in replays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bad_version: Option<String>,
    /// Why the payload could not be read (encrypted, not JSON, ...); `data` is then `null`
    /// or the raw text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undecodable: Option<String>,
    /// Where this row is a link (Rails Event Store): the stream the event was first
    /// appended to; the event is that stream's, shown here too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_of: Option<String>,
    /// Set where an upcaster made this envelope from the stored one.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub upcast: bool,
    /// The upcaster's file (`Deposited.v1.jq`), where one was applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upcaster: Option<String>,
}

fn empty_object() -> Value {
    Value::Object(Default::default())
}

impl Event {
    pub fn category(&self) -> &str {
        self.category
            .as_deref()
            .unwrap_or_else(|| category_of(&self.stream_id))
    }
}

/// `text` with every character that a terminal would act on escaped: C0 controls (tab and
/// newline included, so columns and lines stay whole), DEL, C1 controls and the bidi
/// controls that reorder what is shown. A store's bytes go through this before they reach
/// a terminal. Escapes read as `\x1b` or `\u{202e}`.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !needs_escape(c) {
            out.push(c);
        } else if (c as u32) < 0x100 {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Controls, and Unicode's invisible format characters (zero-width space and joiners,
/// bidi controls, the byte order mark, tags): escaped so that `Account-acc-1` and
/// `Account\u{200b}-acc-1` never look the same.
fn needs_escape(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{ad}'
        | '\u{600}'..='\u{605}' | '\u{61c}' | '\u{6dd}' | '\u{70f}' | '\u{8e2}' | '\u{180e}'
        | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{206f}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}'
        | '\u{110bd}' | '\u{110cd}' | '\u{1bca0}'..='\u{1bca3}' | '\u{1d173}'..='\u{1d17a}'
        | '\u{e0001}' | '\u{e0020}'..='\u{e007f}')
}

/// `word` with its indefinite article: "an eventsourcing", "a native".
pub fn with_article(word: &str) -> String {
    let vowel = word
        .chars()
        .next()
        .is_some_and(|c| "aeiouAEIOU".contains(c));
    format!("{} {word}", if vowel { "an" } else { "a" })
}

/// `1 field differs`, `3 fields differ`.
pub fn fields_differ(n: usize) -> String {
    match n {
        1 => "1 field differs".to_string(),
        n => format!("{n} fields differ"),
    }
}

/// `5301` as `5,301`.
pub fn thousands(n: impl Into<i128>) -> String {
    let n = n.into();
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        out.insert(0, '-');
    }
    out
}

/// `n` and the noun, singular for one: "1 event", "2 events", "1 match", "3 matches".
pub fn count(n: impl Into<i128>, singular: &str) -> String {
    let n = n.into();
    if n == 1 {
        return format!("1 {singular}");
    }
    let plural = if singular.ends_with("ch") || singular.ends_with('s') {
        format!("{singular}es")
    } else {
        format!("{singular}s")
    };
    format!("{n} {plural}")
}

/// `text` cut to at most `width` terminal columns (wide characters count two), the cut
/// marked with `…`.
pub fn fit(text: &str, width: usize) -> String {
    use unicode_width::UnicodeWidthStr;
    if text.width() <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out = take_columns(text.chars(), width - 1);
    out.push('…');
    out
}

/// The leading characters of `chars` that fit in `width` columns.
fn take_columns(chars: impl Iterator<Item = char>, width: usize) -> String {
    use unicode_width::UnicodeWidthChar;
    let mut used = 0;
    chars
        .take_while(|c| {
            used += c.width().unwrap_or(0);
            used <= width
        })
        .collect()
}

/// `text` cut in the middle to at most `width` columns (`2e0f4b…02c9d1`): ids differ at
/// either end, so both ends stay.
pub fn fit_middle(text: &str, width: usize) -> String {
    use unicode_width::UnicodeWidthStr;
    if text.width() <= width {
        return text.to_string();
    }
    if width < 3 {
        return fit(text, width);
    }
    let keep = width - 1;
    let head = take_columns(text.chars(), keep.div_ceil(2));
    let tail: String = take_columns(text.chars().rev(), keep / 2)
        .chars()
        .rev()
        .collect();
    format!("{head}…{tail}")
}

/// `text` fitted to `width` columns and padded with spaces to exactly that many, so
/// later columns stay in line whatever characters come before them.
pub fn pad(text: &str, width: usize) -> String {
    use unicode_width::UnicodeWidthStr;
    let mut out = fit(text, width);
    let w = out.width();
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(w)));
    out
}

/// How many terminal columns `text` takes.
pub fn columns(text: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(text)
}

/// The first `max` characters of `value` as compact JSON, with `…` when cut. Stops
/// serialising at the cut, so a 10 MB payload costs no more than a small one.
pub fn preview(value: &Value, max: usize) -> String {
    struct Capped {
        buf: Vec<u8>,
        limit: usize,
    }
    impl std::io::Write for Capped {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            let room = self.limit.saturating_sub(self.buf.len());
            self.buf.extend_from_slice(&b[..b.len().min(room)]);
            if b.len() > room {
                return Err(std::io::Error::other("preview is full"));
            }
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    // Characters are at most 4 bytes: this many bytes hold `max` characters.
    let mut w = Capped {
        buf: Vec::new(),
        limit: max * 4 + 4,
    };
    let complete = serde_json::to_writer(&mut w, value).is_ok();
    let text = String::from_utf8_lossy(&w.buf);
    let mut out: String = text.chars().take(max).collect();
    if !complete || text.chars().count() > max {
        out.pop();
        out.push('…');
    }
    out
}

/// The category of a stream: the text before the first `-` (`Account-acc-1` → `Account`),
/// or the whole id when it has no `-`.
pub fn category_of(stream_id: &str) -> &str {
    stream_id.split_once('-').map_or(stream_id, |(c, _)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_is_text_before_first_dash() {
        assert_eq!(category_of("Account-acc-1"), "Account");
        assert_eq!(category_of("Order-123"), "Order");
        assert_eq!(category_of("standalone"), "standalone");
        assert_eq!(category_of("-x"), "");
    }

    #[test]
    fn printable_escapes_what_a_terminal_would_act_on() {
        assert_eq!(printable("Account-1"), "Account-1");
        assert_eq!(
            printable("a\u{1b}]0;owned\u{7}b\u{1b}[2J\n\t"),
            "a\\x1b]0;owned\\x07b\\x1b[2J\\x0a\\x09"
        );
        assert_eq!(printable("x\u{9b}y\u{7f}"), "x\\x9by\\x7f");
        assert_eq!(
            printable("abc\u{202e}fed\u{2066}"),
            "abc\\u{202e}fed\\u{2066}"
        );
        assert_eq!(printable("héllo ✓"), "héllo ✓");
    }

    #[test]
    fn fit_marks_the_cut() {
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("abcd", 4), "abcd");
        assert_eq!(fit("héllo", 3), "hé…");
        assert_eq!(fit("", 0), "");
    }

    #[test]
    fn previews_are_cut_without_serialising_everything() {
        let v = serde_json::json!({"a": "x".repeat(10_000_000)});
        let p = preview(&v, 12);
        assert_eq!(p, "{\"a\":\"xxxxx…");
        assert_eq!(p.chars().count(), 12);
        assert_eq!(preview(&serde_json::json!({"a": 1}), 12), "{\"a\":1}");
        assert_eq!(preview(&serde_json::json!("héllo wörld"), 5), "\"hél…");
    }

    #[test]
    fn envelope_serializes_type_field() {
        let e = Event {
            global_position: 7,
            stream_id: "Order-1".into(),
            version: 2,
            event_id: "e".into(),
            event_type: "ItemAdded".into(),
            data: serde_json::json!({"a": 1}),
            metadata: serde_json::json!({}),
            timestamp: Some("2024-01-01T00:00:00Z".into()),
            ..Default::default()
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["type"], "ItemAdded");
        assert!(v.get("event_type").is_none());
        let back: Event = serde_json::from_value(v).unwrap();
        assert_eq!(back, e);
    }
}

#[cfg(test)]
mod count_tests {
    #[test]
    fn one_is_singular() {
        assert_eq!(super::count(1u8, "event"), "1 event");
        assert_eq!(super::count(0u8, "event"), "0 events");
        assert_eq!(super::count(3usize as u64, "match"), "3 matches");
        assert_eq!(super::count(1i64, "line"), "1 line");
    }

    #[test]
    fn ids_are_cut_in_the_middle() {
        use unicode_width::UnicodeWidthStr;
        let id = "Order-2e0f4b7c-91aa-4c1e-8d3f-5b6a7c02c9d1";
        let cut = super::fit_middle(id, 15);
        assert_eq!(cut, "Order-2…c02c9d1");
        assert_eq!(cut.width(), 15);
        assert_eq!(super::fit_middle("short", 15), "short");
        assert_eq!(super::fit_middle("日本語の長いストリーム", 9).width(), 9);
    }
}

//! A search's text marked inside a shown line, as vim's `hlsearch` marks it: smart-case
//! (a text with no capital matches any case of ASCII letters), on characters as shown.

use ratatui::style::Style;
use ratatui::text::Span;

/// What to mark: the text, and whether case counts.
#[derive(Debug, Clone)]
pub struct Needle {
    text: String,
    any_case: bool,
}

impl Needle {
    /// `None` for an empty text.
    pub fn new(text: &str) -> Option<Needle> {
        (!text.is_empty()).then(|| Needle {
            text: text.to_string(),
            any_case: !text.chars().any(char::is_uppercase),
        })
    }

    /// Byte ranges of the text's places in `hay`, not overlapping.
    fn places(&self, hay: &str) -> Vec<(usize, usize)> {
        let (hay, needle) = match self.any_case {
            true => (hay.to_ascii_lowercase(), self.text.to_ascii_lowercase()),
            false => (hay.to_string(), self.text.clone()),
        };
        hay.match_indices(&needle)
            .map(|(at, m)| (at, at + m.len()))
            .collect()
    }

    /// `text` as spans in `base`, its matches in `hit`.
    pub fn spans(&self, text: String, base: Style, hit: Style) -> Vec<Span<'static>> {
        let places = self.places(&text);
        if places.is_empty() {
            return vec![Span::styled(text, base)];
        }
        let mut spans = Vec::new();
        let mut at = 0;
        for (start, end) in places {
            if start > at {
                spans.push(Span::styled(text[at..start].to_string(), base));
            }
            spans.push(Span::styled(text[start..end].to_string(), hit));
            at = end;
        }
        if at < text.len() {
            spans.push(Span::styled(text[at..].to_string(), base));
        }
        spans
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(needle: &str, hay: &str) -> Vec<String> {
        let hit = Style::new().bold();
        Needle::new(needle)
            .unwrap()
            .spans(hay.to_string(), Style::new(), hit)
            .into_iter()
            .filter(|s| s.style == hit)
            .map(|s| s.content.into_owned())
            .collect()
    }

    #[test]
    fn smart_case_marks_every_place() {
        assert_eq!(marked("money", "MoneyDeposited money"), ["Money", "money"]);
        assert_eq!(marked("Money", "MoneyDeposited money"), ["Money"]);
        assert_eq!(marked("é", "café Café"), ["é", "é"]);
        assert!(marked("x", "abc").is_empty());
    }
}

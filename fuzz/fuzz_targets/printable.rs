//! The terminal sanitiser on arbitrary text: what it returns holds nothing a terminal acts
//! on, and escaping it again changes nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let shown = eventscope::printable(text);
    assert!(!shown.chars().any(|c| c.is_control()
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{61c}')));
    assert_eq!(eventscope::printable(&shown), shown);
});

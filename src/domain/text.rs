//! What text the service accepts. Every text input (body fields and keys, query values,
//! path segments, spreadsheet cells) is refused when it holds a control character: Unicode
//! category Cc, U+0000–U+001F and U+007F–U+009F. No field of the API is multi-line (names,
//! descriptions, references, reasons, notes, usernames, labels are all single-line), so
//! `\n` and `\t` are refused too. PostgreSQL cannot store U+0000 at all; refusing the whole
//! category keeps both backends answering alike.

/// Whether `text` holds a control character (category Cc).
pub fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_exactly_category_cc() {
        for c in ['\u{0}', '\t', '\n', '\r', '\u{1f}', '\u{7f}', '\u{80}', '\u{9f}'] {
            assert!(has_control(&format!("a{c}b")), "{:?}", c);
        }
        for t in ["白菜", "a b", "\u{a0}", "\u{200b}", "\u{2028}", "x\u{feff}"] {
            assert!(!has_control(t), "{t:?}");
        }
    }
}

//! What text the service accepts. Every text input (body fields and keys, query values,
//! path segments, spreadsheet cells) is refused when it holds a control character: Unicode
//! category Cc, U+0000–U+001F and U+007F–U+009F. No field of the API is multi-line (names,
//! descriptions, references, reasons, notes, usernames, labels are all single-line), so
//! `\n` and `\t` are refused too — except in the multi-line fields
//! ([`MULTI_LINE_FIELDS`]: the four narrative sections of a half-monthly submission, which
//! are paragraphs of Chinese text), where `\n` and `\r` are allowed. PostgreSQL cannot store U+0000 at all; refusing the whole
//! category keeps both backends answering alike.

/// Whether `text` holds a control character (category Cc).
pub fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

/// Top-level body fields that may span lines: a submission's narrative sections.
pub const MULTI_LINE_FIELDS: [&str; 4] = ["progress", "experience", "difficulties", "measures"];

/// Whether the body field at `path` (as serde names it) may span lines.
pub fn is_multi_line_field(path: &str) -> bool {
    MULTI_LINE_FIELDS.contains(&path)
}

/// Whether `text` holds a control character other than `\n` and `\r`.
pub fn has_control_but_line_breaks(text: &str) -> bool {
    text.chars().any(|c| c.is_control() && c != '\n' && c != '\r')
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

    #[test]
    fn only_the_narrative_sections_may_span_lines() {
        assert!(is_multi_line_field("progress") && is_multi_line_field("measures"));
        assert!(!is_multi_line_field("reason") && !is_multi_line_field("lines[0].progress"));
        assert!(!has_control_but_line_breaks("一\r\n二\n"));
        assert!(has_control_but_line_breaks("a\tb") && has_control_but_line_breaks("a\u{0}b"));
    }
}

//! Wire conventions shared by the request DTOs: the free-text checks every request
//! shares, their schema patterns, and the division-code filter. Money and quantities on the
//! wire (yuan out, the strict decimal reader in) are `service::views::decimal`'s.

use serde::Deserializer;
use serde::de;

use crate::domain::DomainError;
use crate::domain::text::has_control;
use crate::error::ApiError;
use crate::error::Code;

/// A required free-text field: not blank, no control character, at most `max` characters.
pub fn check_text(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    if value.trim().is_empty() {
        return Err(ApiError::field(field, Code::Blank, "must not be blank"));
    }
    check_optional_text(field, Some(value), max)
}

/// An optional free-text field, when present: no control character, at most `max`
/// characters (blank is allowed).
pub fn check_optional_text(field: &str, value: Option<&str>, max: usize) -> Result<(), ApiError> {
    let Some(value) = value else { return Ok(()) };
    if has_control(value) {
        return Err(ApiError::domain(field, &DomainError::ControlCharacter));
    }
    if value.chars().count() > max {
        return Err(ApiError::field(field, Code::TooLong, format!("at most {max} characters")));
    }
    Ok(())
}

/// Schema pattern of a required single-line text field (as [`check_text`]): no control
/// character and at least one character that is not white space (Rust's `char::is_whitespace`).
/// Repeated as a literal in each `#[schema(pattern = ..)]` (utoipa takes literals only).
pub const TEXT_PATTERN: &str =
    r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F-\x9F]*$";

/// Schema pattern of an optional text field (as [`check_optional_text`]): no control character.
pub const OPTIONAL_TEXT_PATTERN: &str = r"^[^\x00-\x1F\x7F-\x9F]*$";

/// The rule of a multi-line text (a submission's narrative sections): any text without a
/// control character but line breaks (`\n`, `\r`).
pub const MULTI_LINE_TEXT_PATTERN: &str = r"^[^\x00-\x09\x0B\x0C\x0E-\x1F\x7F-\x9F]*$";

/// `#[serde(default, deserialize_with)]` for an optional division-code filter: six digits
/// (`^[0-9]{6}$`, as the schema says), else an `invalid value` naming the parameter.
pub fn optional_division_code<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let code: Option<String> = serde::Deserialize::deserialize(d)?;
    match code {
        Some(c) if c.len() != 6 || !c.bytes().all(|b| b.is_ascii_digit()) => {
            Err(de::Error::invalid_value(de::Unexpected::Str(&c), &"a six-digit GB/T 2260 division code"))
        }
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_division_code_filter_is_six_digits() {
        #[derive(Debug, serde::Deserialize)]
        struct Q {
            #[serde(default, deserialize_with = "optional_division_code")]
            county: Option<String>,
        }
        let read = |q: &str| crate::http::parse_query::<Q>(q).map(|q| q.county).map_err(|e| e.problem().errors[0].field.clone());
        assert_eq!(read("county=520102"), Ok(Some("520102".into())));
        assert_eq!(read(""), Ok(None));
        for bad in [
            "county=null",
            "county=52010",
            "county=5201020",
            "county=52010x",
            "county=%EF%BC%95%EF%BC%92%EF%BC%90%EF%BC%91%EF%BC%90%EF%BC%92",
        ] {
            assert_eq!(read(bad), Err("county".to_owned()), "{bad}");
        }
    }

    /// Every string a request body carries states its rule in the schema (a pattern, an
    /// enum or a format), so that schema-valid text is never a control-character 422; and
    /// the literals repeated in the attributes are these constants.
    #[test]
    fn every_request_string_field_documents_its_rule() {
        let doc = serde_json::to_value(crate::app::document()).unwrap();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let mut bare = Vec::new();
        let mut patterns = std::collections::HashSet::new();
        for (name, schema) in schemas {
            if !(name.ends_with("Request") || name == "Designation" || name == "BatchItem") {
                continue;
            }
            for (field, prop) in schema["properties"].as_object().into_iter().flatten() {
                let string = prop["type"] == "string" || prop["type"].as_array().is_some_and(|t| t.iter().any(|t| t == "string"));
                if let Some(p) = prop["pattern"].as_str() {
                    patterns.insert(p.to_owned());
                }
                if string && ["pattern", "enum", "format"].iter().all(|k| prop.get(k).is_none()) {
                    bare.push(format!("{name}.{field}"));
                }
            }
        }
        assert!(bare.is_empty(), "string fields without a documented rule: {bare:?}");
        assert!(
            patterns.contains(TEXT_PATTERN) && patterns.contains(OPTIONAL_TEXT_PATTERN) && patterns.contains(MULTI_LINE_TEXT_PATTERN),
            "{patterns:?}"
        );
    }

    #[test]
    fn text_checks_refuse_control_characters() {
        assert!(check_text("name", "白菜", 10).is_ok());
        assert!(check_text("name", "a\u{0}b", 10).is_err());
        assert!(check_optional_text("code", Some("a\tb"), 10).is_err());
        assert!(check_optional_text("code", Some(""), 10).is_ok());
        assert!(check_optional_text("code", Some(&"x".repeat(11)), 10).is_err());
    }
}

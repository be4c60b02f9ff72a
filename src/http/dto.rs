//! Wire conventions shared by the DTOs: money as decimal strings in yuan, conversions
//! from stored integers, the strict decimal reader every money and quantity field uses,
//! and the free-text checks every request shares.

use rust_decimal::Decimal;
use serde::Deserializer;
use serde::de::{self, Visitor};

use crate::domain::DomainError;
use crate::domain::money::{self, AMOUNT_DIGITS, QUANTITY_DIGITS, UNIT_PRICE_DIGITS};
use crate::domain::text::has_control;
use crate::error::ApiError;
use crate::error::Code;

/// Integer fen as a yuan decimal with two places.
pub fn yuan(fen: i64) -> Decimal {
    Decimal::new(fen, 2)
}

/// Milligrams as kilograms, rounded half away from zero to the gram.
pub fn kg(mg: i64) -> Decimal {
    crate::domain::money::round_half_away(Decimal::new(mg, 6), 3)
}

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

/// Reads a decimal string strictly (see [`money::parse_decimal_text`]); a JSON number is an
/// `invalid type`, any other form an `invalid value` naming the field.
struct StrictDecimal(usize);

impl Visitor<'_> for StrictDecimal {
    type Value = Decimal;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a decimal string of digits with an optional `.` and decimals, at most {} digits before the point", self.0)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
        money::parse_decimal_text(v, self.0).ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
    }
}

struct OptionalStrict(usize);

impl<'de> Visitor<'de> for OptionalStrict {
    type Value = Option<Decimal>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        StrictDecimal(self.0).expecting(f)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(StrictDecimal(self.0)).map(Some)
    }
}

/// `#[serde(deserialize_with)]` for a quantity (`^[0-9]{1,9}(\.[0-9]+)?$` before its rules).
pub fn quantity<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    d.deserialize_str(StrictDecimal(QUANTITY_DIGITS))
}

/// `#[serde(deserialize_with)]` for a unit price (`^[0-9]{1,11}(\.[0-9]+)?$` before its rules).
pub fn unit_price<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    d.deserialize_str(StrictDecimal(UNIT_PRICE_DIGITS))
}

/// `#[serde(deserialize_with)]` for an amount (`^[0-9]{1,15}(\.[0-9]+)?$` before its rules).
pub fn amount<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    d.deserialize_str(StrictDecimal(AMOUNT_DIGITS))
}

/// As [`amount`], for an optional field (`null` or absent is `None`; pair with `default`).
pub fn optional_amount<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    d.deserialize_option(OptionalStrict(AMOUNT_DIGITS))
}

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

    #[derive(Debug, serde::Deserialize)]
    struct Line {
        #[serde(deserialize_with = "unit_price")]
        price: Decimal,
        #[serde(default, deserialize_with = "optional_amount")]
        amount: Option<Decimal>,
    }

    fn read(json: &str) -> Result<Line, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn decimals_are_read_in_the_documented_form_only() {
        let ok = read(r#"{"price": "1.5", "amount": "15.00"}"#).unwrap();
        assert_eq!((ok.price.to_string().as_str(), ok.amount.map(|a| a.to_string())), ("1.5", Some("15.00".to_owned())));
        assert_eq!(read(r#"{"price": "1"}"#).unwrap().amount, None);
        assert_eq!(read(r#"{"price": "1", "amount": null}"#).unwrap().amount, None);
        for loose in ["1_0", "1e3", "1E-2", "+2", ".5", "2."] {
            let e = read(&format!(r#"{{"price": "{loose}"}}"#)).unwrap_err();
            assert!(e.starts_with("invalid value"), "{loose}: {e}");
            let e = read(&format!(r#"{{"price": "1", "amount": "{loose}"}}"#)).unwrap_err();
            assert!(e.starts_with("invalid value"), "{loose}: {e}");
        }
        assert!(read(r#"{"price": 1.5}"#).unwrap_err().starts_with("invalid type"));
        assert!(read(r#"{"price": "1", "amount": 2}"#).unwrap_err().starts_with("invalid type"));
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
        assert!(patterns.contains(TEXT_PATTERN) && patterns.contains(OPTIONAL_TEXT_PATTERN), "{patterns:?}");
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

//! Money and quantities on the wire: stored integers (fen, milligrams) as yuan and kg
//! decimals going out, and the strict decimal-string reader every money and quantity field
//! of a request goes through.

use rust_decimal::Decimal;
use serde::Deserializer;
use serde::de::{self, Visitor};

use crate::domain::money::{self, AMOUNT_DIGITS, QUANTITY_DIGITS, UNIT_PRICE_DIGITS};

/// Integer fen as a yuan decimal with two places.
pub fn yuan(fen: i64) -> Decimal {
    money::fen_to_decimal(fen)
}

/// Milligrams as kilograms, rounded half away from zero to the gram.
pub fn kg(mg: i64) -> Decimal {
    money::round_half_away(Decimal::new(mg, 6), 3)
}

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

#[cfg(test)]
mod tests {
    use super::*;

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
}

//! Wire conventions shared by the DTOs: money as decimal strings in yuan, conversions
//! from stored integers, and the free-text check every request shares.

use rust_decimal::Decimal;

use crate::error::ApiError;

/// Integer fen as a yuan decimal with two places.
pub fn yuan(fen: i64) -> Decimal {
    Decimal::new(fen, 2)
}

/// Milligrams as kilograms, rounded half away from zero to the gram.
pub fn kg(mg: i64) -> Decimal {
    crate::domain::money::round_half_away(Decimal::new(mg, 6), 3)
}

/// A required free-text field: not blank, at most `max` characters.
pub fn check_text(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    if value.trim().is_empty() {
        return Err(ApiError::field(field, "blank", "must not be blank"));
    }
    if value.chars().count() > max {
        return Err(ApiError::field(field, "too_long", format!("at most {max} characters")));
    }
    Ok(())
}

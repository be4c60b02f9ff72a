//! Wire conventions shared by the DTOs: money as decimal strings in yuan, request
//! patterns that the OpenAPI schema states, and conversions from stored integers.

use rust_decimal::Decimal;

/// Pattern of a yuan amount in requests: up to 2 decimal places.
pub const AMOUNT_PATTERN: &str = r"^[0-9]{1,15}(\.[0-9]{1,2})?$";
/// Pattern of a unit price in requests: up to 4 decimal places.
pub const PRICE_PATTERN: &str = r"^[0-9]{1,11}(\.[0-9]{1,4})?$";
/// Pattern of a quantity in requests: positive, up to 3 decimal places.
pub const QUANTITY_PATTERN: &str = r"^(?!0*(\.0*)?$)[0-9]{1,9}(\.[0-9]{1,3})?$";
/// A 6-digit GB/T 2260 division code.
pub const DIVISION_CODE_PATTERN: &str = r"^[0-9]{6}$";

/// Integer fen as a yuan decimal with two places.
pub fn yuan(fen: i64) -> Decimal {
    Decimal::new(fen, 2)
}

/// Milligrams as kilograms, rounded half away from zero to the gram.
pub fn kg(mg: i64) -> Decimal {
    crate::domain::money::round_half_away(Decimal::new(mg, 6), 3)
}

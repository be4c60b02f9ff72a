//! Exact money and quantities: yuan amounts with at most 2 places (stored as integer fen),
//! unit prices with at most 4 places, quantities with at most 3 places (stored as thousandths).
//! Pure: no I/O. All arithmetic is checked; nothing here ever touches a float.

use rust_decimal::{Decimal, RoundingStrategy};

use super::DomainError;

/// A non-negative amount in yuan with at most two decimal places.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Money(i64);

impl Money {
    pub const ZERO: Self = Self(0);

    /// Parses a yuan amount: non-negative, at most 2 decimal places ("12.500" is fine).
    pub fn parse(value: Decimal) -> Result<Self, DomainError> {
        if value.is_sign_negative() && !value.is_zero() {
            return Err(DomainError::NegativeAmount);
        }
        if value.normalize().scale() > 2 {
            return Err(DomainError::TooPrecise { max_places: 2 });
        }
        let fen = value.checked_mul(Decimal::ONE_HUNDRED).and_then(|f| i64::try_from(f.trunc()).ok()).ok_or(DomainError::Overflow)?;
        Ok(Self(fen))
    }

    /// Wraps an integer number of fen read back from the database.
    pub const fn from_fen(fen: i64) -> Self {
        Self(fen)
    }

    pub const fn fen(self) -> i64 {
        self.0
    }

    /// The amount as a decimal in yuan, always with two places ("12.50").
    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.0, 2)
    }
}

/// Converts signed fen to a yuan decimal with two places (used for report figures).
pub fn fen_to_decimal(fen: i64) -> Decimal {
    Decimal::new(fen, 2)
}

/// A strictly positive unit price in yuan with at most four decimal places, kept as
/// ten-thousandths of a yuan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct UnitPrice(i64);

impl UnitPrice {
    pub fn parse(value: Decimal) -> Result<Self, DomainError> {
        if value.is_sign_negative() && !value.is_zero() {
            return Err(DomainError::NegativeAmount);
        }
        if value.normalize().scale() > 4 {
            return Err(DomainError::TooPrecise { max_places: 4 });
        }
        let units = scaled(value, 4).ok_or(DomainError::Overflow)?;
        Ok(Self(units))
    }

    pub const fn from_ten_thousandths(v: i64) -> Self {
        Self(v)
    }

    pub const fn ten_thousandths(self) -> i64 {
        self.0
    }

    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.0, 4)
    }
}

/// A strictly positive quantity with at most three decimal places, kept as thousandths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quantity(i64);

/// Largest quantity accepted (one billion units): keeps every product within i64/i128.
const MAX_QUANTITY_MILLI: i64 = 1_000_000_000_000;

impl Quantity {
    pub fn parse(value: Decimal) -> Result<Self, DomainError> {
        if value <= Decimal::ZERO {
            return Err(DomainError::NonPositiveQuantity);
        }
        if value.normalize().scale() > 3 {
            return Err(DomainError::TooPrecise { max_places: 3 });
        }
        let milli = scaled(value, 3).ok_or(DomainError::Overflow)?;
        if milli > MAX_QUANTITY_MILLI {
            return Err(DomainError::Overflow);
        }
        Ok(Self(milli))
    }

    pub const fn from_milli(v: i64) -> Self {
        Self(v)
    }

    pub const fn milli(self) -> i64 {
        self.0
    }

    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.0, 3)
    }
}

/// Most digits before the decimal point of a quantity, a unit price and an amount (the
/// documented patterns: `[0-9]{1,9}`, `[0-9]{1,11}`, `[0-9]{1,15}`).
pub const QUANTITY_DIGITS: usize = 9;
pub const UNIT_PRICE_DIGITS: usize = 11;
pub const AMOUNT_DIGITS: usize = 15;

/// Reads decimal text in the one form the API documents: digits, optionally `.` and more
/// digits (`12`, `0.5`, `1234.50`), at most `max_int_digits` before the point and 28 after.
/// A leading `-` is read too, so that the sign is refused by the value's own rule
/// (`negative_amount`, `non_positive_quantity`) and too many places by `too_precise`.
/// Anything else is `None`: exponents (`1e3`), `+2`, `.5`, `2.`, separators (`1_0`,
/// `1,000`), spaces, and other digits than ASCII.
pub fn parse_decimal_text(text: &str, max_int_digits: usize) -> Option<Decimal> {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (int, frac) = match unsigned.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (unsigned, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || int.len() > max_int_digits || frac.is_some_and(|f| !digits(f) || f.len() > 28) {
        return None;
    }
    text.parse::<Decimal>().ok()
}

fn scaled(value: Decimal, places: u32) -> Option<i64> {
    value.checked_mul(Decimal::from(10_i64.pow(places))).and_then(|v| i64::try_from(v.trunc()).ok())
}

/// quantity × unit price, rounded half away from zero (四舍五入) to the fen.
///
/// Exact in integers: quantity is in 1/1000, price in 1/10000, so the product is in
/// 1/10_000_000 yuan = 1/100_000 fen.
pub fn line_amount(quantity: Quantity, price: UnitPrice) -> Result<Money, DomainError> {
    let product = i128::from(quantity.0) * i128::from(price.0); // 1e-7 yuan
    let fen = div_round_half_away(product, 100_000);
    i64::try_from(fen).map(Money).map_err(|_| DomainError::Overflow)
}

/// Checks a client-sent line amount against the rule; returns the rule's amount.
/// Amounts that differ from the computed one by more than 0.01 are refused.
pub fn check_line_amount(quantity: Quantity, price: UnitPrice, sent: Option<Money>) -> Result<Money, DomainError> {
    let computed = line_amount(quantity, price)?;
    match sent {
        Some(sent) if (sent.0 - computed.0).abs() > 1 => Err(DomainError::AmountMismatch { expected: computed.to_decimal() }),
        _ => Ok(computed),
    }
}

/// Integer division rounding half away from zero. `d` must be positive.
pub fn div_round_half_away(n: i128, d: i128) -> i128 {
    let q = n / d;
    let r = n % d;
    if 2 * r.abs() >= d { q + n.signum() } else { q }
}

/// Integer division rounding up (towards +∞). `d` must be positive.
pub fn div_ceil(n: i128, d: i128) -> i128 {
    let q = n / d;
    if n % d > 0 { q + 1 } else { q }
}

/// Rounds a decimal half away from zero to `places` (used for presentation only).
pub fn round_half_away(value: Decimal, places: u32) -> Decimal {
    value.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn decimal_text_is_digits_with_an_optional_fraction() {
        assert_eq!(parse_decimal_text("12", 15), Some(d("12")));
        assert_eq!(parse_decimal_text("0.5", 15), Some(d("0.5")));
        assert_eq!(parse_decimal_text("1234.50", 15), Some(d("1234.50")));
        assert_eq!(parse_decimal_text("007", 15), Some(d("7")));
        assert_eq!(parse_decimal_text("-1.5", 15), Some(d("-1.5")));
        assert_eq!(parse_decimal_text("1.50001", 15), Some(d("1.50001")));
        assert_eq!(parse_decimal_text("99999999999", 11), Some(d("99999999999")));
        for loose in ["1_0", "1e3", "1E-2", "+2", ".5", "2.", "", "-", ".", "1.2.3", " 1", "1 ", "1,000", "--1", "0x10", "١", "NaN"] {
            assert_eq!(parse_decimal_text(loose, 15), None, "{loose:?}");
        }
        assert_eq!(parse_decimal_text("100000000000", 11), None);
        assert_eq!(parse_decimal_text("000000000001", 11), None);
    }

    #[test]
    fn money_accepts_two_places_and_trailing_zeros() {
        assert_eq!(Money::parse(d("1234.50")).unwrap().fen(), 123_450);
        assert_eq!(Money::parse(d("12.500")).unwrap().fen(), 1_250);
        assert_eq!(Money::parse(d("0")).unwrap().fen(), 0);
    }

    #[test]
    fn money_refuses_three_places_and_negatives() {
        assert_eq!(Money::parse(d("1.001")), Err(DomainError::TooPrecise { max_places: 2 }));
        assert_eq!(Money::parse(d("-0.01")), Err(DomainError::NegativeAmount));
    }

    #[test]
    fn money_refuses_amounts_beyond_i64_fen() {
        assert_eq!(Money::parse(d("999999999999999999999")), Err(DomainError::Overflow));
    }

    #[test]
    fn money_round_trips_through_fen() {
        let m = Money::parse(d("0.07")).unwrap();
        assert_eq!(Money::from_fen(m.fen()).to_decimal().to_string(), "0.07");
    }

    #[test]
    fn unit_price_accepts_four_places_only() {
        assert_eq!(UnitPrice::parse(d("3.1415")).unwrap().ten_thousandths(), 31_415);
        assert_eq!(UnitPrice::parse(d("3.14159")), Err(DomainError::TooPrecise { max_places: 4 }));
    }

    #[test]
    fn quantity_must_be_positive_with_three_places() {
        assert_eq!(Quantity::parse(d("0")), Err(DomainError::NonPositiveQuantity));
        assert_eq!(Quantity::parse(d("-1")), Err(DomainError::NonPositiveQuantity));
        assert_eq!(Quantity::parse(d("1.0001")), Err(DomainError::TooPrecise { max_places: 3 }));
        assert_eq!(Quantity::parse(d("2.5")).unwrap().milli(), 2_500);
        assert_eq!(Quantity::parse(d("1000000001")), Err(DomainError::Overflow));
    }

    #[test]
    fn line_amount_rounds_half_away_from_zero() {
        // 1.005 yuan exactly → 1.01 (half away), not 1.00 (banker's)
        let q = Quantity::parse(d("1")).unwrap();
        let p = UnitPrice::parse(d("1.005")).unwrap();
        assert_eq!(line_amount(q, p).unwrap().to_decimal(), d("1.01"));
        // 0.125 → 0.13
        let q = Quantity::parse(d("0.5")).unwrap();
        let p = UnitPrice::parse(d("0.25")).unwrap();
        assert_eq!(line_amount(q, p).unwrap().to_decimal(), d("0.13"));
        // 2.5 kg × 3.3333 = 8.33325 → 8.33
        let q = Quantity::parse(d("2.5")).unwrap();
        let p = UnitPrice::parse(d("3.3333")).unwrap();
        assert_eq!(line_amount(q, p).unwrap().to_decimal(), d("8.33"));
        // 0.004999 rounds down
        let q = Quantity::parse(d("0.001")).unwrap();
        let p = UnitPrice::parse(d("4.9999")).unwrap();
        assert_eq!(line_amount(q, p).unwrap().fen(), 0);
    }

    #[test]
    fn line_amount_is_exact_for_large_values() {
        let q = Quantity::parse(d("1000000")).unwrap();
        let p = UnitPrice::parse(d("99999.9999")).unwrap();
        assert_eq!(line_amount(q, p).unwrap().to_decimal(), d("99999999900.00"));
    }

    #[test]
    fn sent_amount_within_one_fen_is_accepted_and_replaced_by_the_rule() {
        let q = Quantity::parse(d("3")).unwrap();
        let p = UnitPrice::parse(d("3.335")).unwrap(); // 10.005 → 10.01
        let ok = check_line_amount(q, p, Some(Money::parse(d("10.00")).unwrap())).unwrap();
        assert_eq!(ok.to_decimal(), d("10.01"));
        assert!(check_line_amount(q, p, Some(Money::parse(d("10.02")).unwrap())).is_ok());
        assert_eq!(check_line_amount(q, p, None).unwrap().to_decimal(), d("10.01"));
    }

    #[test]
    fn sent_amount_more_than_one_fen_off_is_refused() {
        let q = Quantity::parse(d("3")).unwrap();
        let p = UnitPrice::parse(d("3.335")).unwrap();
        assert_eq!(
            check_line_amount(q, p, Some(Money::parse(d("10.03")).unwrap())),
            Err(DomainError::AmountMismatch { expected: d("10.01") })
        );
        assert!(check_line_amount(q, p, Some(Money::parse(d("9.99")).unwrap())).is_err());
    }

    #[test]
    fn integer_rounding_helpers_handle_signs() {
        assert_eq!(div_round_half_away(5, 10), 1);
        assert_eq!(div_round_half_away(-5, 10), -1);
        assert_eq!(div_round_half_away(4, 10), 0);
        assert_eq!(div_round_half_away(-4, 10), 0);
        assert_eq!(div_ceil(1, 2), 1);
        assert_eq!(div_ceil(2, 2), 1);
        assert_eq!(div_ceil(0, 2), 0);
    }
}

//! Turning what a client sent into a valid purchase draft ("parse, don't validate").
//! Every broken rule is reported with its field path, all at once. Pure: `today` is a
//! parameter, not the clock.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::DomainError;
use super::catalog::{Category, Unit};
use super::money::{Money, Quantity, UnitPrice, check_line_amount};

/// Lines a single purchase may carry.
pub const MAX_LINES: usize = 200;

/// The first business date the ledger accepts.
pub fn earliest_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2014, 1, 1).unwrap_or(NaiveDate::MIN)
}

/// A line as received (already typed by the JSON layer, not yet checked).
#[derive(Debug, Clone)]
pub struct RawLine {
    pub category: Category,
    pub description: String,
    pub quantity: Decimal,
    pub unit: Unit,
    pub unit_price: Decimal,
    pub amount: Option<Decimal>,
}

/// A checked line: exact quantity, price and amount, and its mass for mass units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineDraft {
    pub category: Category,
    pub description: String,
    pub quantity: Quantity,
    pub unit: Unit,
    pub unit_price: UnitPrice,
    pub amount: Money,
    pub mass_mg: Option<i64>,
}

/// A checked purchase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurchaseDraft {
    pub purchase_date: NaiveDate,
    pub lines: Vec<LineDraft>,
    pub total: Money,
}

/// Field path and the rule it broke.
pub type FieldProblems = Vec<(String, DomainError)>;

/// Checks the purchase date (2014-01-01 ..= today) and every line.
pub fn draft(purchase_date: NaiveDate, today: NaiveDate, lines: &[RawLine]) -> Result<PurchaseDraft, FieldProblems> {
    let mut problems = FieldProblems::new();
    if purchase_date > today {
        problems.push(("purchase_date".into(), DomainError::DateInFuture));
    }
    if purchase_date < earliest_date() {
        problems.push(("purchase_date".into(), DomainError::DateTooEarly));
    }
    if lines.is_empty() {
        problems.push(("lines".into(), DomainError::NoLines));
    }
    if lines.len() > MAX_LINES {
        problems.push(("lines".into(), DomainError::TooManyLines { max: MAX_LINES }));
    }
    let mut drafted = Vec::with_capacity(lines.len());
    for (i, raw) in lines.iter().enumerate() {
        match draft_line(raw) {
            Ok(line) => drafted.push(line),
            Err(errs) => problems.extend(errs.into_iter().map(|(f, e)| (format!("lines[{i}].{f}"), e))),
        }
    }
    let total = drafted.iter().try_fold(0_i64, |acc, l| acc.checked_add(l.amount.fen())).map(Money::from_fen);
    match total {
        Some(total) if problems.is_empty() => Ok(PurchaseDraft { purchase_date, lines: drafted, total }),
        Some(_) => Err(problems),
        None => {
            problems.push(("lines".into(), DomainError::Overflow));
            Err(problems)
        }
    }
}

fn draft_line(raw: &RawLine) -> Result<LineDraft, FieldProblems> {
    let mut problems = FieldProblems::new();
    let mut note = |field: &str, e: DomainError| problems.push((field.to_owned(), e));
    if raw.description.trim().is_empty() {
        note("description", DomainError::Blank);
    } else if super::text::has_control(&raw.description) {
        note("description", DomainError::ControlCharacter);
    }
    let quantity = Quantity::parse(raw.quantity).map_err(|e| note("quantity", e)).ok();
    let unit_price = UnitPrice::parse(raw.unit_price).map_err(|e| note("unit_price", e)).ok();
    let sent = match raw.amount.map(Money::parse) {
        Some(Ok(m)) => Some(m),
        Some(Err(e)) => {
            note("amount", e);
            None
        }
        None => None,
    };
    let (Some(quantity), Some(unit_price)) = (quantity, unit_price) else {
        return Err(problems);
    };
    let amount = match check_line_amount(quantity, unit_price, sent) {
        Ok(a) if a == Money::ZERO => {
            // Nothing was bought for money: it would count as a reporting unit with no total.
            note("amount", DomainError::ZeroAmount);
            return Err(problems);
        }
        Ok(a) => a,
        Err(e) => {
            note("amount", e);
            return Err(problems);
        }
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(LineDraft {
        category: raw.category,
        description: raw.description.trim().to_owned(),
        quantity,
        unit: raw.unit,
        unit_price,
        amount,
        mass_mg: raw.unit.milligrams(quantity),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }
    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }
    fn line(qty: &str, unit: Unit, price: &str, amount: Option<&str>) -> RawLine {
        RawLine {
            category: Category::Vegetables,
            description: "白菜".into(),
            quantity: d(qty),
            unit,
            unit_price: d(price),
            amount: amount.map(d),
        }
    }
    const TODAY: &str = "2019-06-30";

    #[test]
    fn a_valid_purchase_sums_its_rounded_lines() {
        let p =
            draft(date("2019-03-05"), date(TODAY), &[line("10", Unit::Jin, "1.255", None), line("2", Unit::Piece, "3.5", Some("7.00"))])
                .unwrap();
        assert_eq!(p.lines[0].amount.to_decimal(), d("12.55"));
        assert_eq!(p.lines[0].mass_mg, Some(5_000_000));
        assert_eq!(p.lines[1].mass_mg, None);
        assert_eq!(p.total.to_decimal(), d("19.55"));
    }

    #[test]
    fn future_and_pre_programme_dates_are_refused() {
        let lines = [line("1", Unit::Kg, "1", None)];
        let err = draft(date("2019-07-01"), date(TODAY), &lines).unwrap_err();
        assert_eq!(err, vec![("purchase_date".to_owned(), DomainError::DateInFuture)]);
        let err = draft(date("2013-12-31"), date(TODAY), &lines).unwrap_err();
        assert_eq!(err, vec![("purchase_date".to_owned(), DomainError::DateTooEarly)]);
        assert!(draft(date(TODAY), date(TODAY), &lines).is_ok());
        assert!(draft(date("2014-01-01"), date(TODAY), &lines).is_ok());
    }

    #[test]
    fn every_bad_field_is_reported_with_its_path() {
        let lines =
            [line("0", Unit::Kg, "1", None), line("1", Unit::Kg, "1.00001", Some("1.001")), line("3", Unit::Kg, "3.335", Some("10.05"))];
        let err = draft(date("2019-03-05"), date(TODAY), &lines).unwrap_err();
        let fields: Vec<_> = err.iter().map(|(f, e)| (f.as_str(), e.code().as_str())).collect();
        assert_eq!(
            fields,
            [
                ("lines[0].quantity", "non_positive_quantity"),
                ("lines[1].unit_price", "too_precise"),
                ("lines[1].amount", "too_precise"),
                ("lines[2].amount", "amount_mismatch"),
            ]
        );
    }

    #[test]
    fn empty_and_oversized_purchases_are_refused() {
        let err = draft(date("2019-03-05"), date(TODAY), &[]).unwrap_err();
        assert_eq!(err[0].1, DomainError::NoLines);
        let many = vec![line("1", Unit::Kg, "1", None); MAX_LINES + 1];
        let err = draft(date("2019-03-05"), date(TODAY), &many).unwrap_err();
        assert_eq!(err[0].1, DomainError::TooManyLines { max: MAX_LINES });
    }

    #[test]
    fn a_line_whose_amount_rounds_to_zero_is_refused() {
        for (qty, price) in [("10", "0"), ("0.001", "4.9999"), ("0.001", "0.0001")] {
            let err = draft(date("2019-03-05"), date(TODAY), &[line(qty, Unit::Kg, price, None)]).unwrap_err();
            assert_eq!(err, vec![("lines[0].amount".to_owned(), DomainError::ZeroAmount)], "{qty} × {price}");
        }
        // 0.005 rounds half away from zero to 0.01: a real, if small, line.
        assert_eq!(draft(date("2019-03-05"), date(TODAY), &[line("0.001", Unit::Kg, "5", None)]).unwrap().total.fen(), 1);
    }

    #[test]
    fn blank_descriptions_are_refused_and_others_trimmed() {
        let mut l = line("1", Unit::Kg, "1", None);
        l.description = "   ".into();
        let err = draft(date("2019-03-05"), date(TODAY), &[l]).unwrap_err();
        assert_eq!(err[0], ("lines[0].description".to_owned(), DomainError::Blank));
        let mut l = line("1", Unit::Kg, "1", None);
        l.description = " 土豆 ".into();
        assert_eq!(draft(date("2019-03-05"), date(TODAY), &[l]).unwrap().lines[0].description, "土豆");
    }
}

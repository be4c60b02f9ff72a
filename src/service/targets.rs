//! Per-year targets, set by the province: the current value per year, the history of
//! every value a year has had, and the audited change of a target. May import `domain`,
//! `db`, `auth` and `error`; never `http`.

use serde_json::json;

use crate::db::repo::targets::{self as repo, TargetHistoryRow, TargetRow};
use crate::db::{DbConn, write_tx};
use crate::domain::access::Caller;
use crate::domain::shares::Target;
use crate::error::Code;
use crate::error::{ApiError, FieldError};

/// Years a target may be set for: the programme's data start in 2014.
pub const YEARS: std::ops::RangeInclusive<i32> = 2014..=2100;

/// One value of a year's target (the current one, or one from its history).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetEntry {
    pub year: i32,
    pub numerator: i64,
    pub denominator: i64,
    pub set_by: String,
    pub set_at: chrono::NaiveDateTime,
}

impl From<TargetRow> for TargetEntry {
    fn from(r: TargetRow) -> Self {
        Self { year: r.year, numerator: r.numerator, denominator: r.denominator, set_by: r.set_by, set_at: r.set_at }
    }
}

impl From<TargetHistoryRow> for TargetEntry {
    fn from(r: TargetHistoryRow) -> Self {
        Self { year: r.year, numerator: r.numerator, denominator: r.denominator, set_by: r.set_by, set_at: r.set_at }
    }
}

/// Checks the year is one a target may be set for (422 on `year` otherwise).
pub fn check_year(year: i32) -> Result<(), ApiError> {
    if YEARS.contains(&year) {
        Ok(())
    } else {
        Err(ApiError::field("year", Code::OutOfRange, format!("year must be between {} and {}", YEARS.start(), YEARS.end())))
    }
}

/// Checks a proposed target: a proper fraction `0 ≤ numerator ≤ denominator`, `denominator > 0`.
/// Pure; names the offending part (`denominator` first, as it decides the others).
pub fn check_fraction(numerator: i64, denominator: i64) -> Result<Target, ApiError> {
    Target::new(numerator, denominator).map_err(|e| {
        let field = if denominator <= 0 { "denominator" } else { "numerator" };
        ApiError::Validation(vec![FieldError::domain(field, &e)])
    })
}

/// Every year with a target set, in year order (years not listed use 50%).
pub fn list(conn: &mut DbConn) -> Result<Vec<TargetEntry>, ApiError> {
    Ok(repo::list(conn)?.into_iter().map(TargetEntry::from).collect())
}

/// Every value `year`'s target has had, oldest first. A target seeded at start-up and
/// never changed has no history row yet; it is then its own one-entry history (the
/// first change records it in the history before the new value, see [`set`]).
pub fn history(conn: &mut DbConn, year: i32) -> Result<Vec<TargetEntry>, ApiError> {
    check_year(year)?;
    let rows = repo::history(conn, year)?;
    if rows.is_empty() {
        return Ok(repo::find(conn, year)?.into_iter().map(TargetEntry::from).collect());
    }
    Ok(rows.into_iter().map(TargetEntry::from).collect())
}

/// Sets `year`'s target (province or administrator only): writes the current value,
/// appends it to the history and writes an audit row, in one transaction.
pub fn set(conn: &mut DbConn, user: &Caller, year: i32, numerator: i64, denominator: i64) -> Result<TargetEntry, ApiError> {
    if !user.scope().is_provincial() {
        return Err(ApiError::Forbidden("only the province may set targets".into()));
    }
    check_year(year)?;
    check_fraction(numerator, denominator)?;
    let actor = user.actor();
    write_tx(conn, |conn| {
        let before = repo::find(conn, year)?;
        // A value set before history was kept (the start-up seed) goes into the history
        // first, so the history is the complete trail of values.
        if let Some(b) = &before
            && repo::history(conn, year)?.is_empty()
        {
            repo::insert_history(conn, &history_row(b))?;
        }
        let row = TargetRow { year, numerator, denominator, set_by: actor.clone(), set_at: super::now() };
        repo::upsert(conn, &row)?;
        repo::insert_history(conn, &history_row(&row))?;
        let view = |r: &TargetRow| json!({"numerator": r.numerator, "denominator": r.denominator, "set_by": r.set_by, "set_at": r.set_at});
        super::audit(conn, &actor, "target.set", ("target", &year.to_string()), before.as_ref().map(view), Some(view(&row)))?;
        Ok(TargetEntry::from(row))
    })
}

fn history_row(r: &TargetRow) -> TargetHistoryRow {
    TargetHistoryRow {
        id: super::new_id(),
        year: r.year,
        numerator: r.numerator,
        denominator: r.denominator,
        set_by: r.set_by.clone(),
        set_at: r.set_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::DomainError;

    #[test]
    fn a_proper_fraction_is_a_target() {
        assert_eq!(check_fraction(2, 3).ok(), Target::new(2, 3).ok());
        assert!(check_fraction(0, 1).is_ok());
        assert!(check_fraction(1, 1).is_ok());
    }

    #[test]
    fn an_improper_fraction_names_the_offending_part() {
        let field = |n, d| match check_fraction(n, d) {
            Err(ApiError::Validation(f)) => (f[0].field.clone(), f[0].code),
            other => panic!("{other:?}"),
        };
        assert_eq!(field(3, 2), ("numerator".into(), DomainError::BadTarget.code()));
        assert_eq!(field(-1, 2).0, "numerator");
        assert_eq!(field(1, 0).0, "denominator");
        assert_eq!(field(0, -2).0, "denominator");
    }

    #[test]
    fn years_outside_2014_to_2100_are_refused() {
        assert!(check_year(2014).is_ok());
        assert!(check_year(2100).is_ok());
        assert!(check_year(2013).is_err());
        assert!(check_year(2101).is_err());
    }
}

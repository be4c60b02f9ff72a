//! Overdue amounts of a share report, exact as of any day.
//!
//! A purchase is overdue on `as_of` when its payment fell due before that day (purchase
//! date + the supplier's payment terms) and is not fully paid. Every purchase dated
//! before `as_of − the longest terms of any supplier` is past due whatever its supplier,
//! so for that part of the report's range the overdue amount is simply its unpaid amount,
//! which the aggregates hold (`total − paid`; a void cancels its entry on the same day).
//! Only the purchases of the last "longest terms" days before `as_of` are read from the
//! ledger, and only those not fully paid. A report of a closed period reads nothing more.

use std::collections::HashMap;

use chrono::{Days, NaiveDate};

use super::{Grouping, Report, ReportRequest, Row, UnitLevel};
use crate::db::DbConn;
use crate::db::repo::{reference, reports as repo, suppliers};
use crate::domain::access::Caller;
use crate::domain::period::DateRange;
use crate::domain::settlement::due_date;
use crate::error::ApiError;

/// A unit row's identity within a report: unit code and period label.
type RowKey = (Option<String>, Option<String>);

fn key(row: &Row) -> RowKey {
    (row.unit.as_ref().map(|u| u.code.clone()), row.period.as_ref().map(|(label, _)| label.clone()))
}

fn unpaid(row: &Row) -> i64 {
    row.figures.total_fen - row.figures.paid_fen
}

/// Fills `overdue_fen` on the summary and every unit row (not breakdown rows) of
/// `report`, built for `req`, as of `as_of`.
pub fn add(conn: &mut DbConn, user: &Caller, req: &ReportRequest, report: &mut Report, as_of: NaiveDate) -> Result<(), ApiError> {
    let range = req.range;
    let longest = u64::try_from(suppliers::max_terms_days(conn)?).unwrap_or(0);
    // Purchases dated before `sure` are past due whatever their supplier's terms.
    let sure = as_of.checked_sub_days(Days::new(longest)).unwrap_or(NaiveDate::MIN);
    let mut rows: HashMap<RowKey, i64> = HashMap::new();
    let mut summary = 0;
    if range.to < sure {
        // The whole range is past due: overdue is what is unpaid.
        summary = unpaid(&report.summary);
        rows = report.rows.iter().filter(|r| r.breakdown.is_none()).map(|r| (key(r), unpaid(r))).collect();
    } else {
        if range.from < sure {
            let before = sure.pred_opt().unwrap_or(sure);
            let part = ReportRequest {
                scope: req.scope.clone(),
                range: DateRange { from: range.from, to: before },
                grouping: Grouping { breakdown: None, ..req.grouping },
            };
            let part = super::shares(conn, user, &part)?;
            summary += unpaid(&part.summary);
            for r in &part.rows {
                *rows.entry(key(r)).or_default() += unpaid(r);
            }
        }
        let window = DateRange { from: range.from.max(sure), to: range.to.min(as_of.pred_opt().unwrap_or(as_of)) };
        if window.from <= window.to {
            let prefecture_of: HashMap<String, String> =
                reference::list_counties(conn, None)?.into_iter().map(|c| (c.code, c.prefecture_code)).collect();
            for b in repo::open_balances(conn, &req.scope, window.from, window.to)? {
                if due_date(b.purchase_date, b.terms_days) >= as_of {
                    continue;
                }
                summary += b.unpaid_fen;
                let unit = req.grouping.unit.map(|level| match level {
                    UnitLevel::School => b.school_id.clone(),
                    UnitLevel::County => b.county_code.clone(),
                    UnitLevel::Prefecture => prefecture_of.get(&b.county_code).cloned().unwrap_or_default(),
                });
                let period = req.grouping.period.map(|kind| kind.label(b.purchase_date));
                *rows.entry((unit, period)).or_default() += b.unpaid_fen;
            }
        }
    }
    report.summary.overdue_fen = Some(summary);
    for r in report.rows.iter_mut().filter(|r| r.breakdown.is_none()) {
        r.overdue_fen = Some(rows.get(&key(r)).copied().unwrap_or(0));
    }
    report.as_of = Some(as_of);
    Ok(())
}

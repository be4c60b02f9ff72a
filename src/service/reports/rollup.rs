//! The fast path of the share report, for rows about prefectures, counties or the
//! whole scope without a breakdown (the province report a bureau opens most): it reads
//! one stored bucket row per school and period, and the number of schools per county,
//! never the school roster, and `domain::report::RollUp` rolls them up. It gives the
//! same report as the general path; the tests compare both with reports computed from
//! the ledger.

use super::{Named, Report, ReportRequest, figures_of, unit_names};
use crate::db::DbConn;
use crate::db::repo::reports::ScopeFilter;
use crate::db::repo::{aggregates, schools};
use crate::domain::period::DateRange;
use crate::domain::report::{Bucket, BucketPlan, Groups, RollUp, SchoolTotal};
use crate::domain::shares::Target;
use crate::error::ApiError;
use crate::service::qualify::POLICY;

/// The stored school buckets of `scope` over `periods`, rolled up into groups per unit
/// (when `by_unit`) and period.
fn groups(
    conn: &mut DbConn,
    engine: &RollUp<'_>,
    scope: &ScopeFilter,
    periods: &[(String, DateRange)],
    by_unit: bool,
) -> Result<Groups, ApiError> {
    let plan = BucketPlan::of(periods);
    let rows = aggregates::school_buckets(conn, scope, &plan.buckets())?;
    let buckets = rows.into_iter().filter_map(|r| {
        let period = plan.period(r.kind, r.bucket_start)?;
        let total = SchoolTotal { figures: figures_of(&r), purchases: r.figures.purchases };
        Some(Bucket { school: r.school_id, county: r.county_code, period, total })
    });
    Ok(engine.groups(&plan, buckets, by_unit))
}

/// The share report of `req` (which `domain::report::rolls_up`) from the aggregates.
pub(super) fn report(
    conn: &mut DbConn,
    req: &ReportRequest,
    periods: &[(String, DateRange)],
    target: Target,
    scope: Named,
) -> Result<Report, ApiError> {
    let names = unit_names(conn)?;
    let schools_by_county = schools::count_by_county(conn, &req.scope)?;
    let engine = RollUp {
        policy: POLICY,
        target,
        scope,
        range: req.range,
        grouping: req.grouping,
        periods,
        names: &names,
        schools_by_county: &schools_by_county,
    };
    let by_period = groups(conn, &engine, &req.scope, periods, true)?;
    // The summary judges each school over the whole range: with one period the groups
    // already do; otherwise the whole range is rolled up once more.
    let whole = match req.grouping.period {
        None => None,
        Some(_) => {
            Some(groups(conn, &engine, &req.scope, &[(String::new(), req.range)], false)?.remove(&(String::new(), 0)).unwrap_or_default())
        }
    };
    Ok(engine.report(by_period, whole))
}

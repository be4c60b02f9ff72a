//! Share reports for a scope and a period: this module loads (scope resolution, the
//! roster, per-school measures from the maintained aggregates or from the ledger, unit
//! names, the target) and the one report engine, `domain::report`, builds every report
//! kind from what it loaded. Every figure is an exact integer sum.

use chrono::{Datelike, NaiveDate};

use crate::db::DbConn;
use crate::db::repo::reports::{self as repo, ScopeFilter};
use crate::db::repo::{aggregates, bulk, reference, schools};
use crate::domain::access::Caller;
use crate::domain::period::DateRange;
use crate::domain::report::{Assemble, BucketPlan, School, SchoolMeasures, UnitNames, periods_of, slot};
pub use crate::domain::report::{
    Breakdown, Grouping, Named, OrderBy, Ranking, Report, Row, SemiMonthly, SilentList, SilentSchool, SortOrder, UnitLevel, rank,
};
use crate::domain::shares::{Figures, Target};
use crate::error::ApiError;
use crate::error::Code;
use crate::service::aggregates::stored_qualification;
use crate::service::qualify::POLICY;

pub mod overdue;
mod rollup;

/// A report request, already parsed.
#[derive(Debug, Clone)]
pub struct ReportRequest {
    pub scope: ScopeFilter,
    pub range: DateRange,
    pub grouping: Grouping,
}

/// Checks the caller may read `scope`, and names it. Prefectures and counties are public
/// reference data, so a scope outside the caller's is a 403; a school outside it is a 404.
pub fn resolve_scope(conn: &mut DbConn, user: &Caller, scope: &ScopeFilter) -> Result<Named, ApiError> {
    let outside = || ApiError::Forbidden("the report scope is outside your scope".into());
    match scope {
        ScopeFilter::Province => {
            if !user.scope().is_provincial() {
                return Err(outside());
            }
            Ok(Named { kind: "province", code: "520000".into(), name: "贵州省".into() })
        }
        ScopeFilter::Prefecture(code) => {
            let p = reference::find_prefecture(conn, code)?.ok_or(ApiError::NotFound("prefecture"))?;
            if !user.scope().may_read_prefecture(code) {
                return Err(outside());
            }
            Ok(Named { kind: "prefecture", code: p.code, name: p.name_zh })
        }
        ScopeFilter::County(code) => {
            let c = reference::find_county(conn, code)?.ok_or(ApiError::NotFound("county"))?;
            if !user.scope().may_read_county(&c.code, &c.prefecture_code) {
                return Err(outside());
            }
            Ok(Named { kind: "county", code: c.code, name: c.name_zh })
        }
        ScopeFilter::School(id) => {
            if user.scope().schools().is_none() {
                return Err(outside());
            }
            let s = super::schools::get(conn, user, id)?;
            Ok(Named { kind: "school", code: s.school.id, name: s.school.name })
        }
    }
}

/// The target for a range: one target must apply to every year it touches.
pub fn target_for_range(conn: &mut DbConn, range: DateRange) -> Result<Target, ApiError> {
    let first = super::reference::target_for_year(conn, range.from.year())?;
    for year in range.from.year() + 1..=range.to.year() {
        if super::reference::target_for_year(conn, year)? != first {
            return Err(ApiError::field(
                "to",
                Code::MixedTargets,
                "the period spans years with different targets; report each year separately",
            ));
        }
    }
    Ok(first)
}

fn roster(conn: &mut DbConn, scope: &ScopeFilter) -> Result<Vec<School>, ApiError> {
    let (county, prefecture, school) = match scope {
        ScopeFilter::Province => (None, None, None),
        ScopeFilter::Prefecture(p) => (None, Some(p.as_str()), None),
        ScopeFilter::County(c) => (Some(c.as_str()), None, None),
        ScopeFilter::School(s) => (None, None, Some(s.as_str())),
    };
    Ok(schools::roster(conn, county, prefecture, school)?
        .into_iter()
        .map(|(id, name, county, prefecture)| School { id, name, county, prefecture })
        .collect())
}

/// Names of prefectures and counties.
pub(crate) fn unit_names(conn: &mut DbConn) -> Result<UnitNames, ApiError> {
    let counties = reference::list_counties(conn, None)?.into_iter().map(|c| (c.code, c.name_zh, c.prefecture_code));
    let prefectures = reference::list_prefectures(conn)?.into_iter().map(|p| (p.code, p.name_zh));
    Ok(UnitNames::new(counties, prefectures))
}

/// Reads facts from the ledger (plain SQL aggregation) into per-school measures, keyed
/// by period index (0 when the report is not grouped by period).
fn ledger_measures(
    conn: &mut DbConn,
    scope: &ScopeFilter,
    range: DateRange,
    periods: &[(String, DateRange)],
    by_day: bool,
) -> Result<SchoolMeasures, ApiError> {
    let period_of = |day: Option<NaiveDate>| -> usize {
        match day {
            Some(d) if by_day => periods.iter().position(|(_, r)| r.contains(d)).unwrap_or(0),
            _ => 0,
        }
    };
    let mut out = SchoolMeasures::new();
    for f in repo::facts(conn, scope, range.from, range.to, by_day)? {
        let q = stored_qualification(f.class, f.tag)?;
        slot(&mut out, f.school_id, period_of(f.day), periods.len()).add_fact(f.category, q, f.amount_fen, f.mass_mg);
    }
    for c in repo::counts(conn, scope, range.from, range.to, by_day)? {
        slot(&mut out, c.school_id, period_of(c.day), periods.len()).purchases += c.purchases;
    }
    for c in repo::settlement(conn, scope, range.from, range.to, by_day)? {
        let all = &mut slot(&mut out, c.school_id, period_of(c.day), periods.len()).all;
        all.confirmed_fen += c.confirmed_fen;
        all.confirmed_qualifying_fen += c.confirmed_qualifying_fen;
        all.paid_fen += c.paid_fen;
    }
    for m in out.values_mut().flatten() {
        m.all = m.all.counted(POLICY.require_confirmation);
    }
    Ok(out)
}

/// Where per-school measures are read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The maintained aggregates: O(schools × buckets), the normal path.
    Aggregates,
    /// Plain `GROUP BY` over the ledger: the reference the aggregates must agree with.
    Ledger,
}

/// Reads per-school measures from the aggregates: each period is covered by whole
/// buckets, so any range is exact.
fn aggregate_measures(
    conn: &mut DbConn,
    scope: &ScopeFilter,
    periods: &[(String, DateRange)],
    breakdown: bool,
) -> Result<SchoolMeasures, ApiError> {
    let plan = BucketPlan::of(periods);
    let buckets = plan.buckets();
    let mut out = SchoolMeasures::new();
    for r in aggregates::school_buckets(conn, scope, &buckets)? {
        let Some(pi) = plan.period(r.kind, r.bucket_start) else { continue };
        let figures = figures_of(&r);
        let m = slot(&mut out, r.school_id, pi, periods.len());
        m.purchases += r.figures.purchases;
        if breakdown {
            // Money and mass come from the fact buckets below; confirmation and payment
            // are kept per school only.
            m.all.add(&Figures {
                confirmed_fen: figures.confirmed_fen,
                confirmed_qualifying_fen: figures.confirmed_qualifying_fen,
                paid_fen: figures.paid_fen,
                ..Figures::default()
            });
        } else {
            m.all.add(&figures);
        }
    }
    if breakdown {
        for f in aggregates::fact_buckets(conn, scope, &buckets)? {
            let Some(pi) = plan.period(f.kind, f.bucket_start) else { continue };
            let q = stored_qualification(f.class, f.tag.0)?;
            slot(&mut out, f.school_id, pi, periods.len()).add_fact(f.category, q, f.amount_fen, f.mass_mg);
        }
    }
    Ok(out)
}

/// The money and mass figures of a stored school bucket.
pub(super) fn figures_of(r: &bulk::SchoolBucket) -> Figures {
    r.figures.figures().counted(POLICY.require_confirmation)
}

/// Builds the share report from the maintained aggregates.
pub fn shares(conn: &mut DbConn, user: &Caller, req: &ReportRequest) -> Result<Report, ApiError> {
    shares_from(conn, user, req, Source::Aggregates)
}

/// Builds the share report from the chosen source (both must give identical reports).
pub fn shares_from(conn: &mut DbConn, user: &Caller, req: &ReportRequest, source: Source) -> Result<Report, ApiError> {
    let scope = resolve_scope(conn, user, &req.scope)?;
    let target = target_for_range(conn, req.range)?;
    let periods = periods_of(req.range, req.grouping);
    if source == Source::Aggregates && crate::domain::report::rolls_up(req.grouping, matches!(req.scope, ScopeFilter::School(_))) {
        return rollup::report(conn, req, &periods, target, scope);
    }
    let roster = roster(conn, &req.scope)?;
    let measures = match source {
        Source::Aggregates => aggregate_measures(conn, &req.scope, &periods, req.grouping.breakdown.is_some())?,
        Source::Ledger => ledger_measures(conn, &req.scope, req.range, &periods, req.grouping.period.is_some())?,
    };
    let names = unit_names(conn)?;
    Ok(Assemble {
        policy: POLICY,
        target,
        scope,
        range: req.range,
        grouping: req.grouping,
        periods: &periods,
        roster: &roster,
        measures: &measures,
        names: &names,
    }
    .report())
}

/// The silent schools of a scope over a range (same scope rules as the share report).
pub fn silent_schools(conn: &mut DbConn, user: &Caller, scope: &ScopeFilter, range: DateRange) -> Result<SilentList, ApiError> {
    let named = resolve_scope(conn, user, scope)?;
    let target = match target_for_range(conn, range) {
        Ok(t) => Some(t),
        Err(ApiError::Validation(_)) => None,
        Err(e) => return Err(e),
    };
    let roster = roster(conn, scope)?;
    let measures = aggregate_measures(conn, scope, &[(String::new(), range)], false)?;
    let names = unit_names(conn)?;
    Ok(SilentList {
        policy: POLICY,
        target,
        scope: named,
        range,
        schools: i64::try_from(roster.len()).unwrap_or(i64::MAX),
        silent: crate::domain::report::silent_schools(&roster, &measures, &names),
    })
}

/// Builds the semi-monthly report of `county` over the half-month `range` (the caller
/// checks it is one); read access as for a county-scope share report.
pub fn semi_monthly(conn: &mut DbConn, user: &Caller, county: &str, range: DateRange) -> Result<SemiMonthly, ApiError> {
    let [by_school, by_tag, by_category] =
        SemiMonthly::GROUPINGS.map(|grouping| ReportRequest { scope: ScopeFilter::County(county.to_owned()), range, grouping });
    let mut report = |req: ReportRequest| shares(conn, user, &req);
    Ok(SemiMonthly::new(range.from, [report(by_school)?, report(by_tag)?, report(by_category)?]))
}

//! The fast path of the share report, for rows about prefectures, counties or the
//! whole scope without a breakdown (the province report a bureau opens most): it reads
//! one stored bucket row per school and period, and the number of schools per county,
//! never the school roster. Per-school sums are kept only for a period that is covered
//! by several buckets (a custom range); a named period is one bucket, so its rows roll
//! straight into their unit. It gives the same report as the general path; the tests
//! compare both with reports computed from the ledger.

use std::collections::{BTreeMap, HashMap};

use super::{Group, Named, Report, ReportRequest, UnitLevel, UnitNames, figures_of, unit_row};
use crate::db::DbConn;
use crate::db::repo::reports::ScopeFilter;
use crate::db::repo::{aggregates, schools};
use crate::domain::period::DateRange;
use crate::domain::shares::{Figures, Target, is_silent};
use crate::error::ApiError;

/// Whether the fast path can answer `req`.
pub(super) fn applies(req: &ReportRequest) -> bool {
    req.grouping.breakdown.is_none() && req.grouping.unit != Some(UnitLevel::School) && !matches!(req.scope, ScopeFilter::School(_))
}

/// Groups keyed by (unit code, period index); the code is empty without a unit level.
type Groups = BTreeMap<(String, usize), Group>;

/// One school's figures over one period.
#[derive(Default)]
struct SchoolTotal {
    figures: Figures,
    purchases: i64,
}

/// Adds one school's period figures to its group (the schools, and so the silent
/// ones, are counted from the roster counts afterwards).
fn add_school(group: &mut Group, t: &SchoolTotal, target: Target) {
    group.measures.all.add(&t.figures);
    group.measures.purchases += t.purchases;
    if !is_silent(&t.figures, t.purchases) {
        group.counts.add_reporting(&t.figures, target);
    }
}

/// Rolls the stored school buckets of `scope` up into groups per unit and period.
fn roll_up(
    conn: &mut DbConn,
    scope: &ScopeFilter,
    periods: &[(String, DateRange)],
    unit_of: &dyn Fn(&str) -> String,
    target: Target,
) -> Result<Groups, ApiError> {
    let mut bucket_period = HashMap::new();
    let mut several = Vec::with_capacity(periods.len());
    for (i, (_, range)) in periods.iter().enumerate() {
        let cover = range.cover();
        several.push(cover.len() > 1);
        for (kind, start) in cover {
            bucket_period.insert((kind.code(), start), i);
        }
    }
    let buckets: Vec<_> = bucket_period.keys().copied().collect();
    let mut groups = Groups::new();
    // (school, period) → (county, sum) for periods covered by several buckets.
    let mut partial: HashMap<(String, usize), (String, SchoolTotal)> = HashMap::new();
    for r in aggregates::school_buckets(conn, scope, &buckets)? {
        let Some(&pi) = bucket_period.get(&(r.kind, r.bucket_start)) else { continue };
        let t = SchoolTotal { figures: figures_of(&r), purchases: r.purchases };
        if several[pi] {
            let (_, sum) = partial.entry((r.school_id, pi)).or_insert_with(|| (r.county_code, SchoolTotal::default()));
            sum.figures.add(&t.figures);
            sum.purchases += t.purchases;
        } else {
            add_school(groups.entry((unit_of(&r.county_code), pi)).or_default(), &t, target);
        }
    }
    for ((_, pi), (county, t)) in partial {
        add_school(groups.entry((unit_of(&county), pi)).or_default(), &t, target);
    }
    Ok(groups)
}

/// Sets a group's school counts from the number of schools its unit has.
fn with_schools(mut g: Group, schools: i64) -> Group {
    g.counts.schools = schools;
    g.counts.silent = schools - g.counts.reporting;
    g
}

/// The share report of `req` (which [`applies`]) from the aggregates.
pub(super) fn report(
    conn: &mut DbConn,
    req: &ReportRequest,
    periods: &[(String, DateRange)],
    target: Target,
    scope: Named,
    names: &UnitNames,
) -> Result<Report, ApiError> {
    let level = req.grouping.unit;
    let unit_of = |county: &str| -> String {
        match level {
            Some(UnitLevel::County) => county.to_owned(),
            Some(UnitLevel::Prefecture) => names.prefecture_of.get(county).cloned().unwrap_or_default(),
            Some(UnitLevel::School) | None => String::new(),
        }
    };
    let mut schools_in: BTreeMap<String, i64> = BTreeMap::new();
    for (county, n) in schools::count_by_county(conn, &req.scope)? {
        *schools_in.entry(unit_of(&county)).or_default() += n;
    }
    let all_schools: i64 = schools_in.values().sum();
    let mut groups = roll_up(conn, &req.scope, periods, &unit_of, target)?;

    // The summary judges each school over the whole range: the groups already do when
    // there is one period; otherwise roll the whole range up once more.
    let mut whole = if req.grouping.period.is_none() {
        groups.values().fold(Group::default(), |mut acc, g| {
            acc.measures.merge(&g.measures);
            acc.counts.reporting += g.counts.reporting;
            acc.counts.meeting_target += g.counts.meeting_target;
            acc
        })
    } else {
        roll_up(conn, &req.scope, &[(String::new(), req.range)], &|_| String::new(), target)?
            .remove(&(String::new(), 0))
            .unwrap_or_default()
    };
    whole = with_schools(whole, all_schools);

    let mut rows = Vec::new();
    if level.is_some() || req.grouping.period.is_some() {
        for (code, &n) in &schools_in {
            let unit = level.map(|l| unit_named(l, code, names));
            for (pi, period) in periods.iter().enumerate() {
                let g = with_schools(groups.remove(&(code.clone(), pi)).unwrap_or_default(), n);
                rows.push(unit_row(unit.clone(), req.grouping.period.map(|_| period.clone()), &g, target, false));
            }
        }
    }
    let summary = unit_row(None, None, &whole, target, false);
    Ok(Report { policy: crate::service::qualify::POLICY, target, scope, range: req.range, summary, rows, as_of: None })
}

fn unit_named(level: UnitLevel, code: &str, names: &UnitNames) -> Named {
    let (kind, table) = match level {
        UnitLevel::Prefecture => ("prefecture", &names.prefectures),
        UnitLevel::County | UnitLevel::School => ("county", &names.counties),
    };
    Named { kind, code: code.to_owned(), name: table.get(code).cloned().unwrap_or_default() }
}

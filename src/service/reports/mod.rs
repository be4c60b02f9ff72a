//! Share reports for a scope and a period, grouped by unit (prefecture, county, school),
//! by period, and broken down by tag or category. Per-school measures are read from the
//! ledger (`db::repo::reports`) and rolled up here with the pure rules of
//! `domain::shares`, so every figure is an exact integer sum.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};

use crate::db::DbConn;
use crate::db::repo::reports::{self as repo, ScopeFilter};
use crate::db::repo::{aggregates, reference, schools};
use crate::domain::access::Caller;
use crate::domain::catalog::{Category, Tag};
use crate::domain::period::{DateRange, PeriodKind};
use crate::domain::qualification::{Policy, Qualification};
use crate::domain::shares::{Figures, Measures, SchoolCounts, Target, category_index, evaluate, ratio_4dp, tag_index};
use crate::error::ApiError;
use crate::error::Code;

pub mod overdue;
mod rollup;

/// The unit dimension of a report row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitLevel {
    Prefecture,
    County,
    School,
}

/// The breakdown dimension of a report row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breakdown {
    Tag,
    Category,
}

/// How rows are formed: any combination of one unit level, one period kind and one
/// breakdown; all `None` gives just the summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Grouping {
    pub unit: Option<UnitLevel>,
    pub period: Option<PeriodKind>,
    pub breakdown: Option<Breakdown>,
}

/// A report request, already parsed.
#[derive(Debug, Clone)]
pub struct ReportRequest {
    pub scope: ScopeFilter,
    pub range: DateRange,
    pub grouping: Grouping,
}

/// A named thing a row is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub kind: &'static str,
    pub code: String,
    pub name: String,
}

/// One report row: figures and the verdict against the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub unit: Option<Named>,
    pub period: Option<(String, DateRange)>,
    pub breakdown: Option<Named>,
    pub figures: Figures,
    pub purchases: i64,
    pub share: Option<rust_decimal::Decimal>,
    /// `None` for breakdown rows (the target applies to units) and silent units.
    pub meets_target: Option<bool>,
    pub shortfall_fen: Option<i64>,
    /// For rows about more than one school.
    pub schools: Option<SchoolCounts>,
    /// For school rows: no purchase in the period.
    pub silent: Option<bool>,
    /// Unit rows, once [`overdue::add`] ran: the unpaid balance of the row's purchases
    /// whose payment was due before the report's `as_of`.
    pub overdue_fen: Option<i64>,
}

/// A whole report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub policy: Policy,
    pub target: Target,
    pub scope: Named,
    pub range: DateRange,
    pub summary: Row,
    pub rows: Vec<Row>,
    /// The day overdue amounts are as of, once [`overdue::add`] ran.
    pub as_of: Option<NaiveDate>,
}

/// A school as a report sees it.
#[derive(Debug, Clone)]
struct RosterSchool {
    id: String,
    name: String,
    county: String,
    prefecture: String,
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

fn roster(conn: &mut DbConn, scope: &ScopeFilter) -> Result<Vec<RosterSchool>, ApiError> {
    let (county, prefecture, school) = match scope {
        ScopeFilter::Province => (None, None, None),
        ScopeFilter::Prefecture(p) => (None, Some(p.as_str()), None),
        ScopeFilter::County(c) => (Some(c.as_str()), None, None),
        ScopeFilter::School(s) => (None, None, Some(s.as_str())),
    };
    Ok(schools::roster(conn, county, prefecture, school)?
        .into_iter()
        .map(|(id, name, county, prefecture)| RosterSchool { id, name, county, prefecture })
        .collect())
}

/// Per-school, per-period measures read from the ledger.
type SchoolMeasures = HashMap<String, Vec<Measures>>;

/// The measures of `school` in period `pi`, creating the school's per-period slots.
fn slot(out: &mut SchoolMeasures, school: String, pi: usize, periods: usize) -> &mut Measures {
    let v = out.entry(school).or_insert_with(|| vec![Measures::default(); periods]);
    &mut v[pi]
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
        let category = Category::parse(&f.category).unwrap_or(Category::Other);
        let q = Qualification::from_parts(&f.class, f.tag.as_deref());
        slot(&mut out, f.school_id, period_of(f.day), periods.len()).add_fact(category, q, f.amount_fen, f.mass_mg);
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
        m.all = m.all.counted(crate::service::qualify::POLICY.require_confirmation);
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
    let mut bucket_period: HashMap<(i32, NaiveDate), usize> = HashMap::new();
    for (i, (_, range)) in periods.iter().enumerate() {
        for (kind, start) in range.cover() {
            bucket_period.insert((kind.code(), start), i);
        }
    }
    let buckets: Vec<(i32, NaiveDate)> = bucket_period.keys().copied().collect();
    let mut out = SchoolMeasures::new();
    for r in aggregates::school_buckets(conn, scope, &buckets)? {
        let Some(&pi) = bucket_period.get(&(r.kind, r.bucket_start)) else { continue };
        let figures = figures_of(&r);
        let m = slot(&mut out, r.school_id, pi, periods.len());
        m.purchases += r.purchases;
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
            let Some(&pi) = bucket_period.get(&(f.kind, f.bucket_start)) else { continue };
            let category = Category::parse(&f.category).unwrap_or(Category::Other);
            let q = Qualification::from_parts(&f.class, Some(f.tag.as_str()).filter(|t| !t.is_empty()));
            slot(&mut out, f.school_id, pi, periods.len()).add_fact(category, q, f.amount_fen, f.mass_mg);
        }
    }
    Ok(out)
}

/// The money and mass figures of a stored school bucket.
fn figures_of(r: &aggregates::SchoolBucketRow) -> Figures {
    Figures {
        total_fen: r.total_fen,
        qualifying_fen: r.qualifying_fen,
        pending_fen: r.pending_fen,
        total_mg: r.total_mg,
        qualifying_mg: r.qualifying_mg,
        confirmed_fen: r.confirmed_fen,
        confirmed_qualifying_fen: r.confirmed_qualifying_fen,
        paid_fen: r.paid_fen,
    }
    .counted(crate::service::qualify::POLICY.require_confirmation)
}

/// Builds the share report from the maintained aggregates.
pub fn shares(conn: &mut DbConn, user: &Caller, req: &ReportRequest) -> Result<Report, ApiError> {
    shares_from(conn, user, req, Source::Aggregates)
}

/// Builds the share report from the chosen source (both must give identical reports).
pub fn shares_from(conn: &mut DbConn, user: &Caller, req: &ReportRequest, source: Source) -> Result<Report, ApiError> {
    let scope = resolve_scope(conn, user, &req.scope)?;
    let target = target_for_range(conn, req.range)?;
    let periods: Vec<(String, DateRange)> = match req.grouping.period {
        Some(kind) => req.range.split(kind),
        None => vec![(String::new(), req.range)],
    };
    if source == Source::Aggregates && rollup::applies(req) {
        let names = UnitNames::load(conn)?;
        return rollup::report(conn, req, &periods, target, scope, &names);
    }
    let roster = roster(conn, &req.scope)?;
    let measures = match source {
        Source::Aggregates => aggregate_measures(conn, &req.scope, &periods, req.grouping.breakdown.is_some())?,
        Source::Ledger => ledger_measures(conn, &req.scope, req.range, &periods, req.grouping.period.is_some())?,
    };
    let names = UnitNames::load(conn)?;
    Ok(assemble(
        &AssembleInput { roster: &roster, measures: &measures, periods: &periods, grouping: req.grouping, target, names: &names },
        scope,
        req.range,
    ))
}

/// Names of prefectures and counties.
pub struct UnitNames {
    counties: HashMap<String, String>,
    prefectures: HashMap<String, String>,
    /// County code → prefecture code.
    prefecture_of: HashMap<String, String>,
}

impl UnitNames {
    pub fn load(conn: &mut DbConn) -> Result<Self, ApiError> {
        let counties = reference::list_counties(conn, None)?;
        Ok(Self {
            prefecture_of: counties.iter().map(|c| (c.code.clone(), c.prefecture_code.clone())).collect(),
            counties: counties.into_iter().map(|c| (c.code, c.name_zh)).collect(),
            prefectures: reference::list_prefectures(conn)?.into_iter().map(|p| (p.code, p.name_zh)).collect(),
        })
    }
}

struct AssembleInput<'a> {
    roster: &'a [RosterSchool],
    measures: &'a SchoolMeasures,
    periods: &'a [(String, DateRange)],
    grouping: Grouping,
    target: Target,
    names: &'a UnitNames,
}

fn unit_of(level: UnitLevel, s: &RosterSchool, names: &UnitNames) -> Named {
    match level {
        UnitLevel::Prefecture => Named {
            kind: "prefecture",
            code: s.prefecture.clone(),
            name: names.prefectures.get(&s.prefecture).cloned().unwrap_or_default(),
        },
        UnitLevel::County => {
            Named { kind: "county", code: s.county.clone(), name: names.counties.get(&s.county).cloned().unwrap_or_default() }
        }
        UnitLevel::School => Named { kind: "school", code: s.id.clone(), name: s.name.clone() },
    }
}

/// Measures and school counts of one group of schools over one period.
#[derive(Default)]
struct Group {
    measures: Measures,
    counts: SchoolCounts,
}

fn assemble(input: &AssembleInput<'_>, scope: Named, range: DateRange) -> Report {
    let empty = Measures::default();
    let mut summary = Group::default();
    // (unit code, period index) → group, in first-seen order for stable output.
    let mut groups: Vec<((Option<Named>, usize), Group)> = Vec::new();
    let mut index: HashMap<(&str, usize), usize> = HashMap::new();
    // Whole-range measures per school for the summary's school counts.
    for s in input.roster {
        let mut whole = Measures::default();
        let mine = input.measures.get(s.id.as_str());
        for pi in 0..input.periods.len() {
            let m = mine.and_then(|v| v.get(pi)).unwrap_or(&empty);
            whole.merge(m);
            if input.grouping.unit.is_some() || input.grouping.period.is_some() {
                let code: &str = match input.grouping.unit {
                    Some(UnitLevel::Prefecture) => &s.prefecture,
                    Some(UnitLevel::County) => &s.county,
                    Some(UnitLevel::School) => &s.id,
                    None => "",
                };
                let slot = *index.entry((code, pi)).or_insert_with(|| {
                    groups.push(((input.grouping.unit.map(|l| unit_of(l, s, input.names)), pi), Group::default()));
                    groups.len() - 1
                });
                let g = &mut groups[slot].1;
                g.measures.merge(m);
                g.counts.add_school(m, input.target);
            }
        }
        summary.measures.merge(&whole);
        summary.counts.add_school(&whole, input.target);
    }
    groups.sort_by(|a, b| {
        let ka = (a.0.0.as_ref().map(|u| u.code.as_str()), a.0.1);
        let kb = (b.0.0.as_ref().map(|u| u.code.as_str()), b.0.1);
        ka.cmp(&kb)
    });
    let is_school_level = input.grouping.unit == Some(UnitLevel::School);
    let mut rows = Vec::new();
    type Source<'g> = (Option<Named>, Option<(String, DateRange)>, &'g Group);
    let source: Vec<Source<'_>> = if input.grouping.unit.is_none() && input.grouping.period.is_none() {
        vec![(None, None, &summary)]
    } else {
        groups.iter().map(|((u, pi), g)| (u.clone(), input.grouping.period.map(|_| input.periods[*pi].clone()), g)).collect()
    };
    for (unit, period, g) in source {
        match input.grouping.breakdown {
            None => rows.push(unit_row(unit, period, g, input.target, is_school_level)),
            Some(b) => rows.extend(breakdown_rows(unit, period, &g.measures, b)),
        }
    }
    if input.grouping == Grouping::default() {
        rows.clear();
    }
    let summary_row = unit_row(None, None, &summary, input.target, matches!(scope.kind, "school"));
    Report { policy: crate::service::qualify::POLICY, target: input.target, scope, range, summary: summary_row, rows, as_of: None }
}

fn unit_row(unit: Option<Named>, period: Option<(String, DateRange)>, g: &Group, target: Target, single_school: bool) -> Row {
    let o = evaluate(&g.measures.all, target);
    Row {
        unit,
        period,
        breakdown: None,
        figures: g.measures.all,
        purchases: g.measures.purchases,
        share: o.share,
        meets_target: o.meets_target,
        shortfall_fen: Some(o.shortfall_fen),
        schools: (!single_school).then_some(g.counts),
        silent: single_school.then(|| g.measures.is_silent()),
        overdue_fen: None,
    }
}

fn breakdown_rows(unit: Option<Named>, period: Option<(String, DateRange)>, m: &Measures, b: Breakdown) -> Vec<Row> {
    let row = |named: Named, figures: Figures, share_of: i64| Row {
        unit: unit.clone(),
        period: period.clone(),
        breakdown: Some(named),
        figures,
        purchases: 0,
        share: ratio_4dp(figures.qualifying_fen, share_of),
        meets_target: None,
        shortfall_fen: None,
        schools: None,
        silent: None,
        overdue_fen: None,
    };
    match b {
        Breakdown::Category => Category::ALL
            .iter()
            .map(|c| {
                let f = m.by_category[category_index(*c)];
                row(Named { kind: "category", code: c.as_str().into(), name: c.as_str().into() }, f, f.total_fen)
            })
            .collect(),
        // A tag row's share is its attributed qualifying amount over the unit's total.
        Breakdown::Tag => Tag::ALL
            .iter()
            .map(|t| {
                let f = Figures { total_fen: m.all.total_fen, total_mg: m.all.total_mg, ..m.by_tag[tag_index(*t)] };
                row(Named { kind: "tag", code: t.as_str().into(), name: t.as_str().into() }, f, m.all.total_fen)
            })
            .collect(),
    }
}

/// What a ranking orders rows by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderBy {
    Share,
    Shortfall,
    Total,
}

impl OrderBy {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "share" => Some(Self::Share),
            "shortfall" => Some(Self::Shortfall),
            "total" => Some(Self::Total),
            _ => None,
        }
    }

    /// Worst first by default: the lowest share, the largest shortfall, the largest total.
    pub const fn default_order(self) -> SortOrder {
        match self {
            Self::Share => SortOrder::Asc,
            Self::Shortfall | Self::Total => SortOrder::Desc,
        }
    }
}

/// Direction of a ranking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    Asc,
    Desc,
}

impl SortOrder {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "asc" => Some(Self::Asc),
            "desc" => Some(Self::Desc),
            _ => None,
        }
    }
}

/// How report rows are ordered and filtered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ranking {
    pub order_by: Option<(OrderBy, SortOrder)>,
    /// Keep only unit rows that miss the target (silent units and breakdown rows go).
    pub below_target: bool,
}

/// The figure a row is ranked by; `None` (ranked last whatever the direction) for rows
/// with no share — silent units are listed as silent, never ranked among reporters —
/// and for breakdown rows ordered by shortfall (which they do not have).
fn rank_key(row: &Row, by: OrderBy) -> Option<rust_decimal::Decimal> {
    let share = row.share?;
    // `Decimal`'s ordering is exact (no floating point), whatever the scales.
    match by {
        OrderBy::Share => Some(share),
        OrderBy::Shortfall => row.shortfall_fen.map(rust_decimal::Decimal::from),
        OrderBy::Total => Some(rust_decimal::Decimal::from(row.figures.total_fen)),
    }
}

/// Orders and filters report rows. Pure. The sort is stable, so rows that tie keep the
/// report's order (by unit code, then period).
pub fn rank(rows: Vec<Row>, ranking: Ranking) -> Vec<Row> {
    let mut rows: Vec<Row> = if ranking.below_target { rows.into_iter().filter(|r| r.meets_target == Some(false)).collect() } else { rows };
    if let Some((by, order)) = ranking.order_by {
        rows.sort_by(|a, b| match (rank_key(a, by), rank_key(b, by)) {
            (Some(x), Some(y)) => match order {
                SortOrder::Asc => x.cmp(&y),
                SortOrder::Desc => y.cmp(&x),
            },
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        });
    }
    rows
}

/// A school with no purchase in a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SilentSchool {
    pub prefecture: Named,
    pub county: Named,
    pub school: Named,
}

/// The schools of a scope with no purchase in a period: the list a county chases
/// before the 15th and the month end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SilentList {
    pub policy: Policy,
    /// The target of the period, for the record; `None` when the period spans years
    /// with different targets (silence depends on no target, so that is no error here).
    pub target: Option<Target>,
    pub scope: Named,
    pub range: DateRange,
    /// Schools registered in the scope.
    pub schools: i64,
    /// Ordered by county code, then school name and id.
    pub silent: Vec<SilentSchool>,
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
    let periods = vec![(String::new(), range)];
    let measures = aggregate_measures(conn, scope, &periods, false)?;
    let names = UnitNames::load(conn)?;
    let empty = Measures::default();
    let mut silent: Vec<SilentSchool> = roster
        .iter()
        .filter(|s| measures.get(s.id.as_str()).and_then(|v| v.first()).unwrap_or(&empty).is_silent())
        .map(|s| SilentSchool {
            prefecture: unit_of(UnitLevel::Prefecture, s, &names),
            county: unit_of(UnitLevel::County, s, &names),
            school: unit_of(UnitLevel::School, s, &names),
        })
        .collect();
    silent.sort_by(|a, b| (&a.county.code, &a.school.name, &a.school.code).cmp(&(&b.county.code, &b.school.name, &b.school.code)));
    Ok(SilentList {
        policy: crate::service::qualify::POLICY,
        target,
        scope: named,
        range,
        schools: i64::try_from(roster.len()).unwrap_or(i64::MAX),
        silent,
    })
}

/// The semi-monthly county report: the county by school, by tag and by category over
/// one half-month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SemiMonthly {
    /// E.g. `2019-03-H1`.
    pub label: String,
    pub by_school: Report,
    pub by_tag: Report,
    pub by_category: Report,
}

/// Builds the semi-monthly report of `county` over the half-month `range` (the caller
/// checks it is one); read access as for a county-scope share report.
pub fn semi_monthly(conn: &mut DbConn, user: &Caller, county: &str, range: DateRange) -> Result<SemiMonthly, ApiError> {
    let report = |conn: &mut DbConn, grouping: Grouping| {
        shares(conn, user, &ReportRequest { scope: ScopeFilter::County(county.to_owned()), range, grouping })
    };
    let by_school = report(conn, Grouping { unit: Some(UnitLevel::School), ..Grouping::default() })?;
    let by_tag = report(conn, Grouping { breakdown: Some(Breakdown::Tag), ..Grouping::default() })?;
    let by_category = report(conn, Grouping { breakdown: Some(Breakdown::Category), ..Grouping::default() })?;
    Ok(SemiMonthly { label: PeriodKind::HalfMonth.label(range.from), by_school, by_tag, by_category })
}

#[cfg(test)]
mod ranking_tests {
    use rust_decimal::Decimal;

    use super::*;

    /// A school row with `total`/`qualifying` fen judged against 50%.
    fn row(code: &str, total: i64, qualifying: i64) -> Row {
        let figures = Figures { total_fen: total, qualifying_fen: qualifying, ..Figures::default() };
        let o = evaluate(&figures, Target::HALF);
        Row {
            unit: Some(Named { kind: "school", code: code.into(), name: code.into() }),
            period: None,
            breakdown: None,
            figures,
            purchases: i64::from(total > 0),
            share: o.share,
            meets_target: o.meets_target,
            shortfall_fen: Some(o.shortfall_fen),
            schools: None,
            silent: Some(total == 0),
            overdue_fen: None,
        }
    }

    fn codes(rows: &[Row]) -> Vec<&str> {
        rows.iter().map(|r| r.unit.as_ref().map_or("", |u| u.code.as_str())).collect()
    }

    /// a 40% of 100, b 75% of 400, c silent, d 10% of 1000, e 40% of 50.
    fn rows() -> Vec<Row> {
        vec![row("a", 100, 40), row("b", 400, 300), row("c", 0, 0), row("d", 1000, 100), row("e", 50, 20)]
    }

    fn ranked(by: OrderBy, order: SortOrder) -> Vec<String> {
        codes(&rank(rows(), Ranking { order_by: Some((by, order)), below_target: false })).into_iter().map(str::to_owned).collect()
    }

    #[test]
    fn share_ascending_puts_the_worst_first_and_silent_last() {
        assert_eq!(ranked(OrderBy::Share, SortOrder::Asc), ["d", "a", "e", "b", "c"], "ties keep the report's order");
    }

    #[test]
    fn share_descending_still_puts_silent_last() {
        assert_eq!(ranked(OrderBy::Share, SortOrder::Desc), ["b", "a", "e", "d", "c"]);
    }

    #[test]
    fn shortfall_and_total_rank_by_exact_amounts() {
        // Shortfalls: a 10, b 0, d 400, e 5.
        assert_eq!(ranked(OrderBy::Shortfall, SortOrder::Desc), ["d", "a", "e", "b", "c"]);
        assert_eq!(ranked(OrderBy::Shortfall, SortOrder::Asc), ["b", "e", "a", "d", "c"]);
        assert_eq!(ranked(OrderBy::Total, SortOrder::Desc), ["d", "b", "a", "e", "c"]);
        assert_eq!(ranked(OrderBy::Total, SortOrder::Asc), ["e", "a", "b", "d", "c"]);
    }

    #[test]
    fn below_target_keeps_only_reporting_units_that_miss_it() {
        let kept = rank(rows(), Ranking { order_by: None, below_target: true });
        assert_eq!(codes(&kept), ["a", "d", "e"]);
        let kept = rank(rows(), Ranking { order_by: Some((OrderBy::Shortfall, SortOrder::Desc)), below_target: true });
        assert_eq!(codes(&kept), ["d", "a", "e"]);
    }

    #[test]
    fn exactly_on_target_is_not_below_it() {
        assert!(rank(vec![row("x", 100, 50)], Ranking { order_by: None, below_target: true }).is_empty());
    }

    #[test]
    fn shares_compare_exactly_whatever_their_scale() {
        let mut a = row("a", 3, 1);
        a.share = Some(Decimal::new(3333, 4));
        let mut b = row("b", 3, 1);
        b.share = Some(Decimal::new(3, 1));
        let out = rank(vec![a, b], Ranking { order_by: Some((OrderBy::Share, SortOrder::Asc)), below_target: false });
        assert_eq!(codes(&out), ["b", "a"]);
    }

    #[test]
    fn defaults_rank_the_worst_first() {
        assert_eq!(OrderBy::Share.default_order(), SortOrder::Asc);
        assert_eq!(OrderBy::Shortfall.default_order(), SortOrder::Desc);
        assert_eq!(OrderBy::Total.default_order(), SortOrder::Desc);
    }
}

//! Share reports for a scope and a period, grouped by unit (prefecture, county, school),
//! by period, and broken down by tag or category. Per-school measures are read from the
//! ledger (`db::repo::reports`) and rolled up here with the pure rules of
//! `domain::shares`, so every figure is an exact integer sum.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};

use crate::auth::{AuthUser, Role};
use crate::db::DbConn;
use crate::db::repo::reports::{self as repo, ScopeFilter};
use crate::db::repo::{aggregates, reference, schools};
use crate::domain::catalog::{Category, Tag};
use crate::domain::period::{DateRange, PeriodKind};
use crate::domain::qualification::{Policy, Qualification};
use crate::domain::shares::{Figures, Measures, SchoolCounts, Target, category_index, evaluate, ratio_4dp, tag_index};
use crate::error::ApiError;

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
pub fn resolve_scope(conn: &mut DbConn, user: &AuthUser, scope: &ScopeFilter) -> Result<Named, ApiError> {
    let outside = || ApiError::Forbidden("the report scope is outside your scope".into());
    match scope {
        ScopeFilter::Province => {
            if !user.role.is_provincial() {
                return Err(outside());
            }
            Ok(Named { kind: "province", code: "520000".into(), name: "贵州省".into() })
        }
        ScopeFilter::Prefecture(code) => {
            let p = reference::find_prefecture(conn, code)?.ok_or(ApiError::NotFound("prefecture"))?;
            if !user.role.can_read_prefecture(code) {
                return Err(outside());
            }
            Ok(Named { kind: "prefecture", code: p.code, name: p.name_zh })
        }
        ScopeFilter::County(code) => {
            let c = reference::find_county(conn, code)?.ok_or(ApiError::NotFound("county"))?;
            if !user.role.can_read_county(&c.code, &c.prefecture_code) {
                return Err(outside());
            }
            Ok(Named { kind: "county", code: c.code, name: c.name_zh })
        }
        ScopeFilter::School(id) => {
            if let Role::Supplier(_) = user.role {
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
                "mixed_targets",
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
type SchoolMeasures = HashMap<(String, usize), Measures>;

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
        out.entry((f.school_id, period_of(f.day))).or_default().add_fact(category, q, f.amount_fen, f.mass_mg);
    }
    for c in repo::counts(conn, scope, range.from, range.to, by_day)? {
        out.entry((c.school_id, period_of(c.day))).or_default().purchases += c.purchases;
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
        let m = out.entry((r.school_id, pi)).or_default();
        m.purchases += r.purchases;
        if !breakdown {
            m.all.add(&Figures {
                total_fen: r.total_fen,
                qualifying_fen: r.qualifying_fen,
                pending_fen: r.pending_fen,
                total_mg: r.total_mg,
                qualifying_mg: r.qualifying_mg,
            });
        }
    }
    if breakdown {
        for f in aggregates::fact_buckets(conn, scope, &buckets)? {
            let Some(&pi) = bucket_period.get(&(f.kind, f.bucket_start)) else { continue };
            let category = Category::parse(&f.category).unwrap_or(Category::Other);
            let q = Qualification::from_parts(&f.class, Some(f.tag.as_str()).filter(|t| !t.is_empty()));
            out.entry((f.school_id, pi)).or_default().add_fact(category, q, f.amount_fen, f.mass_mg);
        }
    }
    Ok(out)
}

/// Builds the share report from the maintained aggregates.
pub fn shares(conn: &mut DbConn, user: &AuthUser, req: &ReportRequest) -> Result<Report, ApiError> {
    shares_from(conn, user, req, Source::Aggregates)
}

/// Builds the share report from the chosen source (both must give identical reports).
pub fn shares_from(conn: &mut DbConn, user: &AuthUser, req: &ReportRequest, source: Source) -> Result<Report, ApiError> {
    let scope = resolve_scope(conn, user, &req.scope)?;
    let target = target_for_range(conn, req.range)?;
    let roster = roster(conn, &req.scope)?;
    let periods: Vec<(String, DateRange)> = match req.grouping.period {
        Some(kind) => req.range.split(kind),
        None => vec![(String::new(), req.range)],
    };
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
}

impl UnitNames {
    pub fn load(conn: &mut DbConn) -> Result<Self, ApiError> {
        Ok(Self {
            counties: reference::list_counties(conn, None)?.into_iter().map(|c| (c.code, c.name_zh)).collect(),
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
    let mut index: HashMap<(String, usize), usize> = HashMap::new();
    // Whole-range measures per school for the summary's school counts.
    for s in input.roster {
        let mut whole = Measures::default();
        for (pi, _) in input.periods.iter().enumerate() {
            let m = input.measures.get(&(s.id.clone(), pi)).unwrap_or(&empty);
            whole.merge(m);
            if input.grouping.unit.is_some() || input.grouping.period.is_some() {
                let unit = input.grouping.unit.map(|l| unit_of(l, s, input.names));
                let code = unit.as_ref().map(|u| u.code.clone()).unwrap_or_default();
                let slot = *index.entry((code, pi)).or_insert_with(|| {
                    groups.push(((unit, pi), Group::default()));
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
    let source: Vec<Source<'_>> = if groups.is_empty() {
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
    Report { policy: crate::service::qualify::POLICY, target: input.target, scope, range, summary: summary_row, rows }
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

//! The one report engine: pure, given what the service loaded (the roster, per-school
//! measures or stored bucket totals, unit names, the target), it builds every report
//! kind — rows grouped by unit, period and breakdown; the roll-up of stored buckets into
//! prefectures, counties and the province; the ranking and the below-target filter; the
//! summary's school counts; the silent-school list. Every figure is an exact integer sum.
//! No I/O.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::catalog::{Category, Tag};
use super::period::{DateRange, PeriodKind};
use super::qualification::Policy;
use super::shares::{Figures, Measures, SchoolCounts, Target, category_index, evaluate, is_silent, ratio_4dp, tag_index};

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

impl Grouping {
    /// Whether rows are formed per unit or per period (else only the summary, or the
    /// summary's breakdown).
    const fn splits(self) -> bool {
        self.unit.is_some() || self.period.is_some()
    }
}

/// A named thing a row is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub kind: &'static str,
    pub code: String,
    pub name: String,
}

/// The Chinese label of what a row is about (a [`Named`]'s kind, a scope's kind) or of a
/// `group_by` dimension, as the Chinese exports print it; `None` for an unknown kind.
pub fn kind_zh(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "province" => "全省",
        "prefecture" => "市州",
        "county" => "县区",
        "school" => "学校",
        "tag" => "标签",
        "category" => "品类",
        "period" => "期间",
        _ => return None,
    })
}

/// One report row: figures and the verdict against the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub unit: Option<Named>,
    pub period: Option<(String, DateRange)>,
    pub breakdown: Option<Named>,
    pub figures: Figures,
    pub purchases: i64,
    pub share: Option<Decimal>,
    /// `None` for breakdown rows (the target applies to units) and silent units.
    pub meets_target: Option<bool>,
    pub shortfall_fen: Option<i64>,
    /// For rows about more than one school.
    pub schools: Option<SchoolCounts>,
    /// For school rows: no purchase in the period.
    pub silent: Option<bool>,
    /// Unit rows, once the overdue amounts were added: the unpaid balance of the row's
    /// purchases whose payment was due before the report's `as_of`.
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
    /// The day overdue amounts are as of, once they were added.
    pub as_of: Option<NaiveDate>,
}

/// A school as a report sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct School {
    pub id: String,
    pub name: String,
    pub county: String,
    pub prefecture: String,
}

/// Names of prefectures and counties, and the prefecture of each county.
#[derive(Debug, Clone, Default)]
pub struct UnitNames {
    counties: HashMap<String, String>,
    prefectures: HashMap<String, String>,
    /// County code → prefecture code.
    prefecture_of: HashMap<String, String>,
}

impl UnitNames {
    /// From (code, name, prefecture code) per county and (code, name) per prefecture.
    pub fn new(
        counties: impl IntoIterator<Item = (String, String, String)>,
        prefectures: impl IntoIterator<Item = (String, String)>,
    ) -> Self {
        let mut names = Self { prefectures: prefectures.into_iter().collect(), ..Self::default() };
        for (code, name, prefecture) in counties {
            names.prefecture_of.insert(code.clone(), prefecture);
            names.counties.insert(code, name);
        }
        names
    }

    /// The prefecture code of `county` (empty when unknown).
    pub fn prefecture_of(&self, county: &str) -> String {
        self.prefecture_of.get(county).cloned().unwrap_or_default()
    }

    /// The code of the unit at `level` a school of `county` rolls up into; empty without
    /// a level (school codes are not known from a county).
    fn unit_code(&self, level: Option<UnitLevel>, county: &str) -> String {
        match level {
            Some(UnitLevel::County) => county.to_owned(),
            Some(UnitLevel::Prefecture) => self.prefecture_of(county),
            Some(UnitLevel::School) | None => String::new(),
        }
    }

    /// A prefecture or county by code (a school level names the county).
    fn unit(&self, level: UnitLevel, code: &str) -> Named {
        let (kind, table) = match level {
            UnitLevel::Prefecture => ("prefecture", &self.prefectures),
            UnitLevel::County | UnitLevel::School => ("county", &self.counties),
        };
        Named { kind, code: code.to_owned(), name: table.get(code).cloned().unwrap_or_default() }
    }

    /// The unit at `level` that `school` belongs to.
    fn unit_of(&self, level: UnitLevel, school: &School) -> Named {
        match level {
            UnitLevel::Prefecture => self.unit(level, &school.prefecture),
            UnitLevel::County => self.unit(level, &school.county),
            UnitLevel::School => Named { kind: "school", code: school.id.clone(), name: school.name.clone() },
        }
    }
}

/// Per-school, per-period measures, keyed by school id then period index (0 when the
/// report is not grouped by period).
pub type SchoolMeasures = HashMap<String, Vec<Measures>>;

/// The measures of `school` in period `pi` of `periods`, creating the school's slots.
pub fn slot(out: &mut SchoolMeasures, school: String, pi: usize, periods: usize) -> &mut Measures {
    let v = out.entry(school).or_insert_with(|| vec![Measures::default(); periods]);
    &mut v[pi]
}

/// The periods a report's rows are split into: the range split by the grouping's
/// period kind, or the whole range as one unlabelled period.
pub fn periods_of(range: DateRange, grouping: Grouping) -> Vec<(String, DateRange)> {
    match grouping.period {
        Some(kind) => range.split(kind),
        None => vec![(String::new(), range)],
    }
}

/// Which stored buckets cover a report's periods: every period is covered by whole
/// buckets, so any range is exact.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BucketPlan {
    /// (bucket kind code, bucket start) → period index.
    period_of: HashMap<(i32, NaiveDate), usize>,
    /// Per period: whether it takes more than one bucket (a custom range).
    several: Vec<bool>,
}

impl BucketPlan {
    pub fn of(periods: &[(String, DateRange)]) -> Self {
        let mut plan = Self::default();
        for (i, (_, range)) in periods.iter().enumerate() {
            let cover = range.cover();
            plan.several.push(cover.len() > 1);
            for (kind, start) in cover {
                plan.period_of.insert((kind.code(), start), i);
            }
        }
        plan
    }

    /// The buckets to read, as (kind code, start).
    pub fn buckets(&self) -> Vec<(i32, NaiveDate)> {
        self.period_of.keys().copied().collect()
    }

    /// The period a stored bucket belongs to, if any.
    pub fn period(&self, kind: i32, start: NaiveDate) -> Option<usize> {
        self.period_of.get(&(kind, start)).copied()
    }
}

/// Measures and school counts of one group of schools over one period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Group {
    pub measures: Measures,
    pub counts: SchoolCounts,
}

impl Group {
    /// Sets the school counts from the number of schools the group's unit has (the
    /// reporting ones were counted as their figures came in).
    fn with_schools(mut self, schools: i64) -> Self {
        self.counts.schools = schools;
        self.counts.silent = schools - self.counts.reporting;
        self
    }
}

/// What the general path builds a report from: the roster of the scope and its
/// per-school measures.
pub struct Assemble<'a> {
    pub policy: Policy,
    pub target: Target,
    pub scope: Named,
    pub range: DateRange,
    pub grouping: Grouping,
    pub periods: &'a [(String, DateRange)],
    pub roster: &'a [School],
    pub measures: &'a SchoolMeasures,
    pub names: &'a UnitNames,
}

/// A group of schools keyed by its unit (if the grouping has a unit level) and period.
type Keyed = ((Option<Named>, usize), Group);

impl Assemble<'_> {
    /// The report of every grouping (the general path).
    pub fn report(self) -> Report {
        let (summary, groups) = self.groups();
        let mut rows = Vec::new();
        if self.grouping.splits() {
            for ((unit, pi), g) in groups {
                let period = self.grouping.period.map(|_| self.periods[pi].clone());
                self.push_rows(&mut rows, unit, period, &g);
            }
        } else if self.grouping.breakdown.is_some() {
            self.push_rows(&mut rows, None, None, &summary);
        }
        let summary = unit_row(None, None, &summary, self.target, self.scope.kind == "school");
        Report { policy: self.policy, target: self.target, scope: self.scope, range: self.range, summary, rows, as_of: None }
    }

    fn push_rows(&self, rows: &mut Vec<Row>, unit: Option<Named>, period: Option<(String, DateRange)>, g: &Group) {
        match self.grouping.breakdown {
            None => rows.push(unit_row(unit, period, g, self.target, self.grouping.unit == Some(UnitLevel::School))),
            Some(b) => rows.extend(breakdown_rows(unit, period, &g.measures, b)),
        }
    }

    /// The summary (each school judged over the whole range) and the groups by unit
    /// code and period index, sorted so.
    fn groups(&self) -> (Group, Vec<Keyed>) {
        let empty = Measures::default();
        let mut summary = Group::default();
        let mut groups: Vec<Keyed> = Vec::new();
        let mut index: HashMap<(&str, usize), usize> = HashMap::new();
        for s in self.roster {
            let mut whole = Measures::default();
            let mine = self.measures.get(s.id.as_str());
            for pi in 0..self.periods.len() {
                let m = mine.and_then(|v| v.get(pi)).unwrap_or(&empty);
                whole.merge(m);
                if self.grouping.splits() {
                    let code: &str = match self.grouping.unit {
                        Some(UnitLevel::Prefecture) => &s.prefecture,
                        Some(UnitLevel::County) => &s.county,
                        Some(UnitLevel::School) => &s.id,
                        None => "",
                    };
                    let slot = *index.entry((code, pi)).or_insert_with(|| {
                        groups.push(((self.grouping.unit.map(|l| self.names.unit_of(l, s)), pi), Group::default()));
                        groups.len() - 1
                    });
                    let g = &mut groups[slot].1;
                    g.measures.merge(m);
                    g.counts.add_school(m, self.target);
                }
            }
            summary.measures.merge(&whole);
            summary.counts.add_school(&whole, self.target);
        }
        groups.sort_by(|a, b| {
            let ka = (a.0.0.as_ref().map(|u| u.code.as_str()), a.0.1);
            let kb = (b.0.0.as_ref().map(|u| u.code.as_str()), b.0.1);
            ka.cmp(&kb)
        });
        (summary, groups)
    }
}

/// A unit row (or the summary): the figures of a group judged against the target.
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

/// The rows of one unit and period broken down by every tag or every category.
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
                row(Named { kind: "category", code: c.as_str().into(), name: c.zh().into() }, f, f.total_fen)
            })
            .collect(),
        // A tag row's share is its attributed qualifying amount over the unit's total.
        Breakdown::Tag => Tag::ALL
            .iter()
            .map(|t| {
                let f = Figures { total_fen: m.all.total_fen, total_mg: m.all.total_mg, ..m.by_tag[tag_index(*t)] };
                row(Named { kind: "tag", code: t.as_str().into(), name: t.zh().into() }, f, m.all.total_fen)
            })
            .collect(),
    }
}

/// Whether the roll-up (the fast path) can answer a report: rows about prefectures,
/// counties or the whole scope without a breakdown, for a scope wider than a school.
pub fn rolls_up(grouping: Grouping, school_scope: bool) -> bool {
    grouping.breakdown.is_none() && grouping.unit != Some(UnitLevel::School) && !school_scope
}

/// One school's figures over one period, from one stored bucket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SchoolTotal {
    pub figures: Figures,
    pub purchases: i64,
}

impl SchoolTotal {
    fn add(&mut self, other: &Self) {
        self.figures.add(&other.figures);
        self.purchases += other.purchases;
    }
}

/// One stored school bucket, placed in its period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    pub school: String,
    pub county: String,
    pub period: usize,
    pub total: SchoolTotal,
}

/// Groups keyed by (unit code, period index); the code is empty without a unit level.
pub type Groups = BTreeMap<(String, usize), Group>;

/// Adds one school's period figures to its group (the schools, and so the silent
/// ones, are counted from the roster counts afterwards).
fn add_school(group: &mut Group, t: &SchoolTotal, target: Target) {
    group.measures.all.add(&t.figures);
    group.measures.purchases += t.purchases;
    if !is_silent(&t.figures, t.purchases) {
        group.counts.add_reporting(&t.figures, target);
    }
}

/// What the roll-up builds a report from: the number of schools per county and the
/// stored school buckets, never the school roster.
pub struct RollUp<'a> {
    pub policy: Policy,
    pub target: Target,
    pub scope: Named,
    pub range: DateRange,
    pub grouping: Grouping,
    pub periods: &'a [(String, DateRange)],
    pub names: &'a UnitNames,
    /// (county code, number of schools) over the scope.
    pub schools_by_county: &'a [(String, i64)],
}

impl RollUp<'_> {
    /// Rolls the buckets of `plan`'s periods up into groups per unit and period.
    /// Per-school sums are kept only for a period covered by several buckets (a custom
    /// range): a named period is one bucket, so its rows roll straight into their unit.
    pub fn groups(&self, plan: &BucketPlan, buckets: impl IntoIterator<Item = Bucket>, by_unit: bool) -> Groups {
        let unit = |county: &str| if by_unit { self.names.unit_code(self.grouping.unit, county) } else { String::new() };
        let mut groups = Groups::new();
        // (school, period) → (county, sum) for periods covered by several buckets.
        let mut partial: HashMap<(String, usize), (String, SchoolTotal)> = HashMap::new();
        for b in buckets {
            if plan.several.get(b.period).copied().unwrap_or(false) {
                partial.entry((b.school, b.period)).or_insert_with(|| (b.county, SchoolTotal::default())).1.add(&b.total);
            } else {
                add_school(groups.entry((unit(&b.county), b.period)).or_default(), &b.total, self.target);
            }
        }
        for ((_, pi), (county, t)) in partial {
            add_school(groups.entry((unit(&county), pi)).or_default(), &t, self.target);
        }
        groups
    }

    /// The report from the period groups and, when the report is grouped by period, the
    /// whole range rolled up once more (the summary judges each school over the whole
    /// range; with one period the groups already do).
    pub fn report(self, mut groups: Groups, whole: Option<Group>) -> Report {
        let level = self.grouping.unit;
        let mut schools_in: BTreeMap<String, i64> = BTreeMap::new();
        for (county, n) in self.schools_by_county {
            *schools_in.entry(self.names.unit_code(level, county)).or_default() += n;
        }
        let all_schools: i64 = schools_in.values().sum();
        let whole = whole.unwrap_or_else(|| {
            groups.values().fold(Group::default(), |mut acc, g| {
                acc.measures.merge(&g.measures);
                acc.counts.reporting += g.counts.reporting;
                acc.counts.meeting_target += g.counts.meeting_target;
                acc
            })
        });
        let mut rows = Vec::new();
        if self.grouping.splits() {
            for (code, &n) in &schools_in {
                let unit = level.map(|l| self.names.unit(l, code));
                for (pi, period) in self.periods.iter().enumerate() {
                    let g = groups.remove(&(code.clone(), pi)).unwrap_or_default().with_schools(n);
                    rows.push(unit_row(unit.clone(), self.grouping.period.map(|_| period.clone()), &g, self.target, false));
                }
            }
        }
        let summary = unit_row(None, None, &whole.with_schools(all_schools), self.target, false);
        Report { policy: self.policy, target: self.target, scope: self.scope, range: self.range, summary, rows, as_of: None }
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
fn rank_key(row: &Row, by: OrderBy) -> Option<Decimal> {
    let share = row.share?;
    // `Decimal`'s ordering is exact (no floating point), whatever the scales.
    match by {
        OrderBy::Share => Some(share),
        OrderBy::Shortfall => row.shortfall_fen.map(Decimal::from),
        OrderBy::Total => Some(Decimal::from(row.figures.total_fen)),
    }
}

/// Orders and filters report rows. The sort is stable, so rows that tie keep the
/// report's order (by unit code, then period).
pub fn rank(rows: Vec<Row>, ranking: Ranking) -> Vec<Row> {
    let mut rows: Vec<Row> = if ranking.below_target { rows.into_iter().filter(|r| r.meets_target == Some(false)).collect() } else { rows };
    if let Some((by, order)) = ranking.order_by {
        rows.sort_by(|a, b| match (rank_key(a, by), rank_key(b, by)) {
            (Some(x), Some(y)) => match order {
                SortOrder::Asc => x.cmp(&y),
                SortOrder::Desc => y.cmp(&x),
            },
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
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

/// The silent schools of `roster` given its whole-range measures (period index 0).
pub fn silent_schools(roster: &[School], measures: &SchoolMeasures, names: &UnitNames) -> Vec<SilentSchool> {
    let empty = Measures::default();
    let mut silent: Vec<SilentSchool> = roster
        .iter()
        .filter(|s| measures.get(s.id.as_str()).and_then(|v| v.first()).unwrap_or(&empty).is_silent())
        .map(|s| SilentSchool {
            prefecture: names.unit_of(UnitLevel::Prefecture, s),
            county: names.unit_of(UnitLevel::County, s),
            school: names.unit_of(UnitLevel::School, s),
        })
        .collect();
    silent.sort_by(|a, b| (&a.county.code, &a.school.name, &a.school.code).cmp(&(&b.county.code, &b.school.name, &b.school.code)));
    silent
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

impl SemiMonthly {
    /// The groupings of its three reports: by school, by tag, by category.
    pub const GROUPINGS: [Grouping; 3] = [
        Grouping { unit: Some(UnitLevel::School), period: None, breakdown: None },
        Grouping { unit: None, period: None, breakdown: Some(Breakdown::Tag) },
        Grouping { unit: None, period: None, breakdown: Some(Breakdown::Category) },
    ];

    /// The report of the half-month starting `from`, from the reports of [`Self::GROUPINGS`].
    pub fn new(from: NaiveDate, [by_school, by_tag, by_category]: [Report; 3]) -> Self {
        Self { label: PeriodKind::HalfMonth.label(from), by_school, by_tag, by_category }
    }
}

#[cfg(test)]
mod tests {
    use super::super::qualification::Qualification;
    use super::*;

    #[test]
    fn every_kind_a_report_names_has_a_chinese_label() {
        for kind in ["province", "prefecture", "county", "school", "tag", "category", "period"] {
            assert!(kind_zh(kind).is_some_and(|l| !l.is_ascii()), "{kind}");
        }
        assert_eq!(kind_zh("supplier"), None);
    }

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2019, m, d).unwrap()
    }

    /// March 2019.
    fn march() -> DateRange {
        DateRange { from: day(3, 1), to: day(3, 31) }
    }

    fn named(kind: &'static str, code: &str) -> Named {
        Named { kind, code: code.into(), name: code.into() }
    }

    fn school(id: &str, county: &str, prefecture: &str) -> School {
        School { id: id.into(), name: format!("name {id}"), county: county.into(), prefecture: prefecture.into() }
    }

    fn names() -> UnitNames {
        UnitNames::new(
            [("520102", "南明区", "520100"), ("520103", "云岩区", "520100"), ("520201", "钟山区", "520200")]
                .map(|(c, n, p)| (c.to_owned(), n.to_owned(), p.to_owned())),
            [("520100", "贵阳市"), ("520200", "六盘水市")].map(|(c, n)| (c.to_owned(), n.to_owned())),
        )
    }

    /// Schools a, b in county 520102, c in 520103, d in 520201 (another prefecture).
    fn roster() -> Vec<School> {
        vec![
            school("a", "520102", "520100"),
            school("b", "520102", "520100"),
            school("c", "520103", "520100"),
            school("d", "520201", "520200"),
        ]
    }

    /// One purchase of `total` fen of which `qualifying` qualifies and `pending` is pending.
    fn bought(total: i64, qualifying: i64, pending: i64) -> Measures {
        let mut m = Measures::default();
        m.add_fact(Category::Vegetables, Qualification::Qualifying(Tag::Cooperative), qualifying, 0);
        m.add_fact(Category::Eggs, Qualification::Pending(Tag::PoorHousehold), pending, 0);
        m.add_fact(Category::Grain, Qualification::NotQualifying, total - qualifying - pending, 0);
        m.purchases = 1;
        m
    }

    /// a: 60% of 1000; b: 40% of 301; c: silent; d: pending only (500).
    fn measures() -> SchoolMeasures {
        [("a", bought(1_000, 600, 0)), ("b", bought(301, 120, 0)), ("d", bought(500, 0, 500))]
            .into_iter()
            .map(|(id, m)| (id.to_owned(), vec![m]))
            .collect()
    }

    fn whole() -> Vec<(String, DateRange)> {
        vec![(String::new(), march())]
    }

    fn assemble(roster: &[School], measures: &SchoolMeasures, grouping: Grouping, scope: Named) -> Report {
        let periods = periods_of(march(), grouping);
        let names = names();
        Assemble {
            policy: Policy::GZ_2019,
            target: Target::HALF,
            scope,
            range: march(),
            grouping,
            periods: &periods,
            roster,
            measures,
            names: &names,
        }
        .report()
    }

    fn by(unit: Option<UnitLevel>) -> Grouping {
        Grouping { unit, ..Grouping::default() }
    }

    fn codes(rows: &[Row]) -> Vec<&str> {
        rows.iter().map(|r| r.unit.as_ref().map_or("", |u| u.code.as_str())).collect()
    }

    #[test]
    fn an_empty_roster_gives_an_empty_silent_summary_and_no_rows() {
        for grouping in [Grouping::default(), by(Some(UnitLevel::County)), by(Some(UnitLevel::School))] {
            let r = assemble(&[], &SchoolMeasures::new(), grouping, named("province", "520000"));
            assert!(r.rows.is_empty());
            assert_eq!(r.summary.figures, Figures::default());
            assert_eq!((r.summary.share, r.summary.meets_target, r.summary.shortfall_fen), (None, None, Some(0)));
            assert_eq!(r.summary.schools, Some(SchoolCounts::default()));
        }
    }

    #[test]
    fn the_summary_counts_reporting_meeting_and_silent_schools() {
        let r = assemble(&roster(), &measures(), Grouping::default(), named("province", "520000"));
        assert!(r.rows.is_empty(), "no grouping: the summary only");
        assert_eq!(r.summary.schools, Some(SchoolCounts { schools: 4, reporting: 3, meeting_target: 1, silent: 1 }));
        assert_eq!(r.summary.figures.total_fen, 1_801);
        assert_eq!(r.summary.figures.qualifying_fen, 720);
        assert_eq!(r.summary.figures.pending_fen, 500);
        assert_eq!(r.summary.purchases, 3);
        // ⌈1801 / 2⌉ − 720 = 901 − 720.
        assert_eq!(r.summary.shortfall_fen, Some(181));
        assert_eq!(r.summary.meets_target, Some(false));
        assert_eq!(r.summary.silent, None);
        assert_eq!((r.policy, r.target, r.range, r.as_of), (Policy::GZ_2019, Target::HALF, march(), None));
    }

    #[test]
    fn school_rows_mark_silent_schools_and_are_ordered_by_id() {
        let r = assemble(&roster(), &measures(), by(Some(UnitLevel::School)), named("province", "520000"));
        assert_eq!(codes(&r.rows), ["a", "b", "c", "d"]);
        let c = &r.rows[2];
        assert_eq!((c.silent, c.share, c.meets_target, c.schools), (Some(true), None, None, None));
        assert_eq!(c.unit, Some(Named { kind: "school", code: "c".into(), name: "name c".into() }));
        assert_eq!(r.rows[0].silent, Some(false));
        assert_eq!(r.rows[0].meets_target, Some(true));
    }

    #[test]
    fn a_school_with_pending_only_reports_zero_percent_not_silence() {
        let r = assemble(&roster(), &measures(), by(Some(UnitLevel::School)), named("province", "520000"));
        let d = &r.rows[3];
        assert_eq!(d.silent, Some(false));
        assert_eq!(d.share, Some(Decimal::new(0, 4)));
        assert_eq!(d.meets_target, Some(false));
        assert_eq!(d.shortfall_fen, Some(250));
        assert_eq!((d.figures.pending_fen, d.figures.qualifying_fen), (500, 0));
    }

    #[test]
    fn a_school_scope_summary_is_a_school_row() {
        let r = assemble(&roster()[..1], &measures(), Grouping::default(), named("school", "a"));
        assert_eq!((r.summary.silent, r.summary.schools), (Some(false), None));
    }

    #[test]
    fn county_and_prefecture_rows_sum_their_schools_exactly() {
        let r = assemble(&roster(), &measures(), by(Some(UnitLevel::County)), named("province", "520000"));
        assert_eq!(codes(&r.rows), ["520102", "520103", "520201"]);
        assert_eq!(r.rows[0].unit, Some(Named { kind: "county", code: "520102".into(), name: "南明区".into() }));
        assert_eq!(r.rows[0].figures.total_fen, 1_301);
        assert_eq!(r.rows[0].figures.qualifying_fen, 720);
        assert_eq!(r.rows[0].schools, Some(SchoolCounts { schools: 2, reporting: 2, meeting_target: 1, silent: 0 }));
        assert_eq!(r.rows[1].schools, Some(SchoolCounts { schools: 1, reporting: 0, meeting_target: 0, silent: 1 }));
        assert_eq!(r.rows[1].share, None);
        let p = assemble(&roster(), &measures(), by(Some(UnitLevel::Prefecture)), named("province", "520000"));
        assert_eq!(codes(&p.rows), ["520100", "520200"]);
        assert_eq!(p.rows[0].unit.as_ref().map(|u| u.name.as_str()), Some("贵阳市"));
        assert_eq!(p.rows[0].figures.total_fen + p.rows[1].figures.total_fen, p.summary.figures.total_fen);
        assert_eq!(p.rows[0].schools.map(|c| c.schools), Some(3));
    }

    #[test]
    fn period_rows_judge_each_period_and_the_summary_the_whole_range() {
        // a misses in H1 (0 of 100) and meets in H2 (300 of 300): 75% over the month.
        let mut h1 = Measures::default();
        h1.add_fact(Category::Grain, Qualification::NotQualifying, 100, 0);
        h1.purchases = 1;
        let h2 = bought(300, 300, 0);
        let measures: SchoolMeasures = [("a".to_owned(), vec![h1, h2])].into();
        let grouping = Grouping { period: Some(PeriodKind::HalfMonth), ..Grouping::default() };
        let r = assemble(&roster()[..1], &measures, grouping, named("county", "520102"));
        assert_eq!(r.rows.len(), 2);
        assert_eq!(r.rows[0].period.as_ref().map(|p| p.0.as_str()), Some("2019-03-H1"));
        assert_eq!(r.rows[0].meets_target, Some(false));
        assert_eq!(r.rows[1].meets_target, Some(true));
        assert_eq!(r.summary.schools, Some(SchoolCounts { schools: 1, reporting: 1, meeting_target: 1, silent: 0 }));
    }

    #[test]
    fn breakdown_rows_cover_every_tag_and_category_with_no_verdict() {
        let tags = assemble(
            &roster(),
            &measures(),
            Grouping { breakdown: Some(Breakdown::Tag), ..Grouping::default() },
            named("province", "520000"),
        );
        assert_eq!(tags.rows.len(), Tag::ALL.len());
        let coop = tags.rows.iter().find(|r| r.breakdown.as_ref().is_some_and(|b| b.code == Tag::Cooperative.as_str())).unwrap();
        // A tag's share is over the unit's whole total: 720 / 1801.
        assert_eq!((coop.figures.qualifying_fen, coop.figures.total_fen), (720, 1_801));
        assert_eq!(coop.share, ratio_4dp(720, 1_801));
        assert!(tags.rows.iter().all(|r| r.meets_target.is_none() && r.shortfall_fen.is_none() && r.purchases == 0));
        let cats = assemble(
            &roster(),
            &measures(),
            Grouping { breakdown: Some(Breakdown::Category), ..Grouping::default() },
            named("province", "520000"),
        );
        assert_eq!(cats.rows.len(), Category::ALL.len());
        assert_eq!(cats.rows.iter().map(|r| r.figures.total_fen).sum::<i64>(), 1_801);
        let eggs = cats.rows.iter().find(|r| r.breakdown.as_ref().is_some_and(|b| b.code == Category::Eggs.as_str())).unwrap();
        // A category's share is over its own total: pending is not qualifying.
        assert_eq!((eggs.figures.total_fen, eggs.share), (500, Some(Decimal::new(0, 4))));
        let by_county = assemble(
            &roster(),
            &measures(),
            Grouping { unit: Some(UnitLevel::County), breakdown: Some(Breakdown::Category), ..Grouping::default() },
            named("province", "520000"),
        );
        assert_eq!(by_county.rows.len(), 3 * Category::ALL.len());
    }

    /// The buckets of `measures()` as stored; with `split`, b's figures come in two
    /// buckets (1 fen, then the rest), as a custom range covered by several buckets has.
    fn buckets(split: bool) -> Vec<Bucket> {
        let m = measures();
        let total = |id: &str| SchoolTotal { figures: m[id][0].all, purchases: m[id][0].purchases };
        let bucket = |school: &str, county: &str, total| Bucket { school: school.into(), county: county.into(), period: 0, total };
        let mut out = vec![bucket("a", "520102", total("a")), bucket("d", "520201", total("d"))];
        if split {
            let first = SchoolTotal { figures: Figures { total_fen: 1, ..Figures::default() }, purchases: 0 };
            let mut rest = total("b");
            rest.figures.total_fen -= 1;
            out.extend([bucket("b", "520102", first), bucket("b", "520102", rest)]);
        } else {
            out.push(bucket("b", "520102", total("b")));
        }
        out
    }

    fn schools_by_county() -> Vec<(String, i64)> {
        vec![("520102".into(), 2), ("520103".into(), 1), ("520201".into(), 1)]
    }

    fn roll_up(unit: Option<UnitLevel>, range: DateRange) -> Report {
        let names = names();
        let periods = vec![(String::new(), range)];
        let counts = schools_by_county();
        let engine = RollUp {
            policy: Policy::GZ_2019,
            target: Target::HALF,
            scope: named("province", "520000"),
            range,
            grouping: by(unit),
            periods: &periods,
            names: &names,
            schools_by_county: &counts,
        };
        let plan = BucketPlan::of(&periods);
        let groups = engine.groups(&plan, buckets(plan.several[0]), true);
        engine.report(groups, None)
    }

    #[test]
    fn the_roll_up_gives_the_general_report() {
        for unit in [None, Some(UnitLevel::County), Some(UnitLevel::Prefecture)] {
            let general = assemble(&roster(), &measures(), by(unit), named("province", "520000"));
            assert_eq!(roll_up(unit, march()), general, "{unit:?}");
        }
    }

    #[test]
    fn the_roll_up_judges_a_school_over_the_sum_of_its_buckets() {
        // 2019-03-01..2019-03-20 is covered by a half month and five days: several buckets.
        let range = DateRange { from: day(3, 1), to: day(3, 20) };
        assert!(BucketPlan::of(&[(String::new(), range)]).several[0]);
        assert!(!BucketPlan::of(&whole()).several[0]);
        let r = roll_up(Some(UnitLevel::County), range);
        // b: 1 fen then 300 fen (120 qualifying) is one school missing the target, not two.
        assert_eq!(r.rows[0].schools, Some(SchoolCounts { schools: 2, reporting: 2, meeting_target: 1, silent: 0 }));
        assert_eq!(r.rows[0].figures.total_fen, 1_301);
    }

    #[test]
    fn roll_up_sums_are_exact_to_the_fen() {
        let r = roll_up(Some(UnitLevel::Prefecture), march());
        assert_eq!(r.rows.iter().map(|r| r.figures.total_fen).sum::<i64>(), 1_801);
        assert_eq!(r.summary.figures.total_fen, 1_801);
        assert_eq!(r.summary.figures.qualifying_fen, 720);
        assert_eq!(r.rows[0].figures.total_fen, 1_301);
        assert_eq!(r.rows[1].figures.pending_fen, 500);
        assert_eq!(r.summary.schools, Some(SchoolCounts { schools: 4, reporting: 3, meeting_target: 1, silent: 1 }));
    }

    #[test]
    fn a_unit_without_buckets_is_a_silent_row_of_its_schools() {
        let r = roll_up(Some(UnitLevel::County), march());
        assert_eq!(codes(&r.rows), ["520102", "520103", "520201"]);
        assert_eq!(r.rows[1].schools, Some(SchoolCounts { schools: 1, reporting: 0, meeting_target: 0, silent: 1 }));
        assert_eq!((r.rows[1].share, r.rows[1].figures), (None, Figures::default()));
    }

    #[test]
    fn the_roll_up_of_nothing_is_an_empty_summary() {
        let names = names();
        let periods = whole();
        let engine = RollUp {
            policy: Policy::GZ_2019,
            target: Target::HALF,
            scope: named("province", "520000"),
            range: march(),
            grouping: by(Some(UnitLevel::County)),
            periods: &periods,
            names: &names,
            schools_by_county: &[],
        };
        let groups = engine.groups(&BucketPlan::of(&periods), Vec::new(), true);
        let r = engine.report(groups, Some(Group::default()));
        assert!(r.rows.is_empty());
        assert_eq!(r.summary.schools, Some(SchoolCounts::default()));
        assert_eq!(r.summary.share, None);
    }

    #[test]
    fn only_unit_reports_wider_than_a_school_roll_up() {
        assert!(rolls_up(Grouping::default(), false));
        assert!(rolls_up(by(Some(UnitLevel::County)), false));
        assert!(rolls_up(Grouping { period: Some(PeriodKind::Day), ..by(Some(UnitLevel::Prefecture)) }, false));
        assert!(!rolls_up(by(Some(UnitLevel::School)), false));
        assert!(!rolls_up(Grouping { breakdown: Some(Breakdown::Tag), ..Grouping::default() }, false));
        assert!(!rolls_up(Grouping::default(), true));
    }

    #[test]
    fn silent_schools_are_listed_by_county_then_name() {
        let mut roster = roster();
        roster.push(school("e", "520102", "520100"));
        roster[4].name = "a first".into();
        let list = silent_schools(&roster, &measures(), &names());
        let ids: Vec<&str> = list.iter().map(|s| s.school.code.as_str()).collect();
        assert_eq!(ids, ["e", "c"], "a pending-only school is not silent");
        assert_eq!(list[1].county, Named { kind: "county", code: "520103".into(), name: "云岩区".into() });
        assert_eq!(list[1].prefecture, Named { kind: "prefecture", code: "520100".into(), name: "贵阳市".into() });
        assert!(silent_schools(&[], &measures(), &names()).is_empty());
    }

    #[test]
    fn unknown_units_have_empty_names() {
        let r =
            assemble(&[school("x", "999999", "999900")], &SchoolMeasures::new(), by(Some(UnitLevel::County)), named("province", "520000"));
        assert_eq!(r.rows[0].unit, Some(Named { kind: "county", code: "999999".into(), name: String::new() }));
        assert_eq!(names().prefecture_of("999999"), "");
    }

    #[test]
    fn the_semi_monthly_report_is_labelled_by_its_half_month() {
        let r = assemble(&[], &SchoolMeasures::new(), Grouping::default(), named("county", "520102"));
        let s = SemiMonthly::new(day(3, 16), [r.clone(), r.clone(), r]);
        assert_eq!(s.label, "2019-03-H2");
        assert_eq!(SemiMonthly::GROUPINGS[0].unit, Some(UnitLevel::School));
        assert_eq!(SemiMonthly::GROUPINGS.map(|g| g.breakdown), [None, Some(Breakdown::Tag), Some(Breakdown::Category)]);
    }

    #[test]
    fn slots_are_made_per_period() {
        let mut out = SchoolMeasures::new();
        slot(&mut out, "a".into(), 2, 3).purchases += 1;
        assert_eq!(out["a"].iter().map(|m| m.purchases).collect::<Vec<_>>(), [0, 0, 1]);
        assert_eq!(periods_of(march(), Grouping::default()), whole());
        assert_eq!(periods_of(march(), Grouping { period: Some(PeriodKind::HalfMonth), ..Grouping::default() }).len(), 2);
    }

    /// A school row with `total`/`qualifying` fen judged against 50%.
    fn row(code: &str, total: i64, qualifying: i64) -> Row {
        let figures = Figures { total_fen: total, qualifying_fen: qualifying, ..Figures::default() };
        let o = evaluate(&figures, Target::HALF);
        Row {
            unit: Some(named("school", code)),
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
    fn ties_keep_the_report_order_in_either_direction() {
        let tied = vec![row("x", 100, 40), row("y", 100, 40), row("z", 100, 40)];
        for order in [SortOrder::Asc, SortOrder::Desc] {
            let out = rank(tied.clone(), Ranking { order_by: Some((OrderBy::Share, order)), below_target: false });
            assert_eq!(codes(&out), ["x", "y", "z"]);
        }
        assert_eq!(codes(&rank(tied, Ranking::default())), ["x", "y", "z"], "no ranking keeps the order");
    }

    #[test]
    fn breakdown_rows_rank_by_share_and_last_by_shortfall() {
        let mut a = row("a", 100, 10);
        a.shortfall_fen = None;
        let b = row("b", 100, 90);
        let out = rank(vec![a.clone(), b.clone()], Ranking { order_by: Some((OrderBy::Shortfall, SortOrder::Asc)), below_target: false });
        assert_eq!(codes(&out), ["b", "a"]);
        let out = rank(vec![b, a], Ranking { order_by: Some((OrderBy::Share, SortOrder::Asc)), below_target: false });
        assert_eq!(codes(&out), ["a", "b"]);
    }

    #[test]
    fn below_target_keeps_only_reporting_units_that_miss_it() {
        let kept = rank(rows(), Ranking { order_by: None, below_target: true });
        assert_eq!(codes(&kept), ["a", "d", "e"]);
        let kept = rank(rows(), Ranking { order_by: Some((OrderBy::Shortfall, SortOrder::Desc)), below_target: true });
        assert_eq!(codes(&kept), ["d", "a", "e"]);
        assert!(rank(Vec::new(), Ranking { order_by: None, below_target: true }).is_empty());
    }

    #[test]
    fn exactly_on_target_is_not_below_it_and_one_fen_short_is() {
        assert!(rank(vec![row("x", 100, 50)], Ranking { order_by: None, below_target: true }).is_empty());
        assert_eq!(rank(vec![row("x", 100, 49)], Ranking { order_by: None, below_target: true }).len(), 1);
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
    fn orders_parse_and_default_to_the_worst_first() {
        assert_eq!(OrderBy::Share.default_order(), SortOrder::Asc);
        assert_eq!(OrderBy::Shortfall.default_order(), SortOrder::Desc);
        assert_eq!(OrderBy::Total.default_order(), SortOrder::Desc);
        assert_eq!(OrderBy::parse("shortfall"), Some(OrderBy::Shortfall));
        assert_eq!(OrderBy::parse("Share"), None);
        assert_eq!(SortOrder::parse("desc"), Some(SortOrder::Desc));
        assert_eq!(SortOrder::parse(""), None);
    }
}

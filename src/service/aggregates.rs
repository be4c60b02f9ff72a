//! Keeping the aggregates in step with the ledger (same transaction as every write and
//! every reclassification), and the consistency check that recomputes them from the
//! ledger and must agree to the fen.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde::Serialize;

use crate::db::DbConn;
use crate::db::enums::TagKey;
use crate::db::repo::aggregates::{self as repo, Delta, FactDelta};
use crate::db::repo::bulk::{FactBucket, SchoolBucket};
use crate::db::repo::figures::SchoolFigures;
use crate::db::repo::purchases::{self as purchase_repo, LineRow, PurchaseRow};
use crate::db::repo::reference;
use crate::db::repo::reports::{self, ScopeFilter};
use crate::domain::catalog::{Category, EntryKind, QualificationClass, Tag};
use crate::domain::period::PeriodKind;
use crate::domain::qualification::Qualification;
use crate::error::ApiError;

/// The contribution of one ledger entry with qualification `q`, multiplied by `sign`
/// (+1 to add, −1 to remove); `purchases` is the change in the net purchase count;
/// `confirmed` when both parties have confirmed the purchase (a void: its original).
pub fn delta(p: &PurchaseRow, lines: &[LineRow], q: Qualification, sign: i64, purchases: i64, confirmed: bool) -> Delta {
    let mut by_category: BTreeMap<Category, (i64, i64)> = BTreeMap::new();
    for l in lines {
        let e = by_category.entry(l.category).or_default();
        e.0 += l.amount_fen;
        e.1 += l.mass_mg.unwrap_or(0);
    }
    Delta {
        school_id: p.school_id.clone(),
        county_code: p.county_code.clone(),
        day: p.purchase_date,
        purchases,
        confirmed,
        facts: by_category
            .into_iter()
            .map(|(category, (amount, mass))| FactDelta { category, qualification: q, amount_fen: sign * amount, mass_mg: sign * mass })
            .collect(),
    }
}

/// The qualification of a stored class and tag; a contradictory pair (a qualifying class
/// without a tag, a tag on `none`) can only be corruption, so it is an internal error.
pub fn stored_qualification(class: QualificationClass, tag: Option<Tag>) -> Result<Qualification, ApiError> {
    Qualification::stored(class, tag)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("stored qualification {class} / {tag:?} contradicts itself")))
}

/// Net purchase-count change of recording this entry: +1 for a purchase, −1 for a void.
pub fn count_of(p: &PurchaseRow) -> i64 {
    if p.kind == EntryKind::Void { -1 } else { 1 }
}

fn buckets_of(day: NaiveDate) -> Vec<(i32, NaiveDate)> {
    PeriodKind::ALL.iter().map(|k| (k.code(), k.containing(day).from)).collect()
}

/// Applies a delta to every bucket kind.
pub fn apply(conn: &mut DbConn, d: &Delta) -> Result<(), ApiError> {
    apply_all(conn, std::slice::from_ref(d))
}

/// Applies many deltas, merged per bucket first: one row per touched bucket, written
/// with multi-row upserts in key order.
pub fn apply_all(conn: &mut DbConn, deltas: &[Delta]) -> Result<(), ApiError> {
    let mut schools: BTreeMap<(&str, i32, NaiveDate), (&str, SchoolFigures)> = BTreeMap::new();
    // (school, kind, start, category, qualification) → (county, fen, mg)
    type FactSlot<'a> = (&'a str, i32, NaiveDate, Category, Qualification);
    let mut facts: BTreeMap<FactSlot<'_>, (&str, i64, i64)> = BTreeMap::new();
    for d in deltas {
        let figures = d.school_figures();
        for (kind, start) in buckets_of(d.day) {
            schools.entry((&d.school_id, kind, start)).or_insert((&d.county_code, SchoolFigures::default())).1.add(&figures);
            for f in &d.facts {
                let e = facts.entry((&d.school_id, kind, start, f.category, f.qualification)).or_insert((&d.county_code, 0, 0));
                e.1 += f.amount_fen;
                e.2 += f.mass_mg;
            }
        }
    }
    let schools: Vec<SchoolBucket> =
        schools.into_iter().map(|((school, kind, start), (county, f))| SchoolBucket::of(school, county, kind, start, &f)).collect();
    let facts: Vec<FactBucket> =
        facts.into_iter().map(|(key, (county, amount_fen, mass_mg))| FactBucket::of(key, county, (amount_fen, mass_mg))).collect();
    repo::add_school_buckets(conn, &schools)?;
    repo::add_fact_buckets(conn, &facts)?;
    Ok(())
}

/// Adds school-level figures only (confirmation, payment) to the buckets of `p`'s date.
fn apply_school(conn: &mut DbConn, p: &PurchaseRow, f: &SchoolFigures) -> Result<(), ApiError> {
    let rows: Vec<SchoolBucket> = buckets_of(p.purchase_date)
        .into_iter()
        .map(|(kind, start)| SchoolBucket::of(&p.school_id, &p.county_code, kind, start, f))
        .collect();
    Ok(repo::add_school_buckets(conn, &rows)?)
}

/// Moves an entry's contribution from one qualification to another.
pub fn reclassify(conn: &mut DbConn, p: &PurchaseRow, lines: &[LineRow], from: Qualification, to: Qualification) -> Result<(), ApiError> {
    let confirmed = purchase_repo::is_confirmed(conn, p.voids_id.as_deref().unwrap_or(&p.id))?;
    apply(conn, &delta(p, lines, from, -1, 0, confirmed))?;
    apply(conn, &delta(p, lines, to, 1, 0, confirmed))
}

/// Counts a recorded entry as confirmed by both parties from now on.
pub fn confirm(conn: &mut DbConn, p: &PurchaseRow, lines: &[LineRow], q: Qualification) -> Result<(), ApiError> {
    let f = delta(p, lines, q, 1, 0, true).school_figures();
    let only =
        SchoolFigures { confirmed_fen: f.confirmed_fen, confirmed_qualifying_fen: f.confirmed_qualifying_fen, ..SchoolFigures::default() };
    apply_school(conn, p, &only)
}

/// Adds a payment of `amount_fen` against purchase `p`.
pub fn pay(conn: &mut DbConn, p: &PurchaseRow, amount_fen: i64) -> Result<(), ApiError> {
    apply_school(conn, p, &SchoolFigures { paid_fen: amount_fen, ..SchoolFigures::default() })
}

type SchoolKey = (String, i32, NaiveDate);
type FactKey = (String, i32, NaiveDate, Category, Qualification);

/// Aggregates of one county recomputed from the ledger.
#[derive(Debug, Default)]
struct Expected {
    schools: HashMap<SchoolKey, SchoolFigures>,
    facts: HashMap<FactKey, (i64, i64)>,
}

fn expected_for_county(conn: &mut DbConn, county: &str) -> Result<Expected, ApiError> {
    let scope = ScopeFilter::County(county.to_owned());
    // Bounds both backends store as ordinary dates.
    let from = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or_default();
    let to = NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or_default();
    let mut e = Expected::default();
    for f in reports::facts(conn, &scope, from, to, true)? {
        let Some(day) = f.day else { continue };
        let fact = FactDelta {
            category: f.category,
            qualification: stored_qualification(f.class, f.tag)?,
            amount_fen: f.amount_fen,
            mass_mg: f.mass_mg,
        };
        let figures = SchoolFigures::of(std::slice::from_ref(&fact), 0);
        for kind in PeriodKind::ALL {
            let start = kind.containing(day).from;
            e.schools.entry((f.school_id.clone(), kind.code(), start)).or_default().add(&figures);
            let v = e.facts.entry((f.school_id.clone(), kind.code(), start, fact.category, fact.qualification)).or_default();
            v.0 += fact.amount_fen;
            v.1 += fact.mass_mg;
        }
    }
    for c in reports::counts(conn, &scope, from, to, true)? {
        let Some(day) = c.day else { continue };
        for kind in PeriodKind::ALL {
            let start = kind.containing(day).from;
            e.schools.entry((c.school_id.clone(), kind.code(), start)).or_default().purchases += c.purchases;
        }
    }
    for c in reports::settlement(conn, &scope, from, to, true)? {
        let Some(day) = c.day else { continue };
        let figures = SchoolFigures {
            confirmed_fen: c.confirmed_fen,
            confirmed_qualifying_fen: c.confirmed_qualifying_fen,
            paid_fen: c.paid_fen,
            ..SchoolFigures::default()
        };
        for kind in PeriodKind::ALL {
            let start = kind.containing(day).from;
            e.schools.entry((c.school_id.clone(), kind.code(), start)).or_default().add(&figures);
        }
    }
    Ok(e)
}

/// One disagreement between stored and recomputed aggregates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Difference {
    /// `agg_school` or `agg_facts`.
    pub table: String,
    pub school_id: String,
    /// `day`, `half_month`, `month`, `quarter` or `year`.
    pub kind: String,
    pub bucket_start: NaiveDate,
    /// What differs, e.g. `total_fen stored 100 expected 120`.
    pub detail: String,
}

/// Result of a consistency check.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct CheckReport {
    pub counties: usize,
    pub school_buckets: usize,
    pub fact_buckets: usize,
    pub differences: Vec<Difference>,
}

impl Difference {
    /// A difference in `table` for the bucket (school, kind code, start).
    fn of(table: &str, (school_id, kind, bucket_start): (&str, i32, NaiveDate), detail: String) -> Self {
        let kind = PeriodKind::from_code(kind).map_or_else(|| kind.to_string(), |k| k.as_str().to_owned());
        Self { table: table.to_owned(), school_id: school_id.to_owned(), kind, bucket_start, detail }
    }
}

/// The buckets whose expected and stored values differ, in key order, as (key, expected,
/// stored); a bucket missing on one side counts as zero there.
fn differing<'a, K: Ord + std::hash::Hash, V: Default + PartialEq + Clone>(
    expected: &'a HashMap<K, V>,
    stored: &'a HashMap<K, V>,
) -> Vec<(&'a K, V, V)> {
    let zero = V::default();
    let keys: std::collections::BTreeSet<&K> = expected.keys().chain(stored.keys()).collect();
    keys.into_iter()
        .filter_map(|k| {
            let (e, s) = (expected.get(k).unwrap_or(&zero), stored.get(k).unwrap_or(&zero));
            (e != s).then(|| (k, e.clone(), s.clone()))
        })
        .collect()
}

/// Recomputes every aggregate from the ledger and lists every difference (there must be
/// none). Zero-valued stored buckets (left by voids) count as absent.
pub fn check(conn: &mut DbConn) -> Result<CheckReport, ApiError> {
    let mut report = CheckReport::default();
    for county in reference::list_counties(conn, None)? {
        report.counties += 1;
        let expected = expected_for_county(conn, &county.code)?;
        let mut stored_schools: HashMap<SchoolKey, SchoolFigures> = HashMap::new();
        for r in repo::all_school_buckets_of_county(conn, &county.code)? {
            stored_schools.insert((r.school_id, r.kind, r.bucket_start), r.figures);
        }
        let mut stored_facts: HashMap<FactKey, (i64, i64)> = HashMap::new();
        for r in repo::all_fact_buckets_of_county(conn, &county.code)? {
            let q = stored_qualification(r.class, r.tag.0)?;
            stored_facts.insert((r.school_id, r.kind, r.bucket_start, r.category, q), (r.amount_fen, r.mass_mg));
        }
        report.school_buckets += stored_schools.len();
        report.fact_buckets += stored_facts.len();
        for (k, e, s) in differing(&expected.schools, &stored_schools) {
            report.differences.push(Difference::of("agg_school", (&k.0, k.1, k.2), format!("stored {s:?} expected {e:?}")));
        }
        for (k, e, s) in differing(&expected.facts, &stored_facts) {
            let detail = format!("{}/{}/{}: stored (fen, mg) {s:?} expected {e:?}", k.3, k.4.class(), TagKey(k.4.tag()).as_str());
            report.differences.push(Difference::of("agg_facts", (&k.0, k.1, k.2), detail));
        }
    }
    Ok(report)
}

/// Rebuilds every aggregate from the ledger, county by county (used after bulk loads).
pub fn rebuild(conn: &mut DbConn) -> Result<usize, ApiError> {
    use crate::db::repo::bulk;
    let mut rows = 0;
    for county in reference::list_counties(conn, None)? {
        let expected = expected_for_county(conn, &county.code)?;
        let schools: Vec<SchoolBucket> = expected
            .schools
            .iter()
            .map(|((school_id, kind, start), f)| SchoolBucket::of(school_id, &county.code, *kind, *start, f))
            .collect();
        let facts: Vec<FactBucket> = expected
            .facts
            .iter()
            .map(|((school, kind, start, category, q), money)| FactBucket::of((school, *kind, *start, *category, *q), &county.code, *money))
            .collect();
        crate::db::write_tx(conn, |conn| -> Result<(), ApiError> {
            repo::clear_county(conn, &county.code)?;
            bulk::insert_buckets(conn, &schools, &facts)?;
            Ok(())
        })?;
        rows += schools.len() + facts.len();
    }
    Ok(rows)
}

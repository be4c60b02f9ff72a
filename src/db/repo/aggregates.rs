//! Maintained aggregates: per school and calendar bucket (day, half-month, month,
//! quarter, year). Deltas are applied with portable `INSERT … ON CONFLICT DO UPDATE`
//! (SQLite ≥ 3.24 and PostgreSQL), in the caller's transaction.

use std::sync::LazyLock;

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Integer, Text};

use super::bulk::{FactBucket, SchoolBucket};
use super::figures::SchoolFigures;
use super::reports::ScopeFilter;
use crate::db::DbConn;
use crate::db::enums::TagKey;
use crate::domain::catalog::{Category, QualificationClass};
use crate::domain::figures::Figures;
use crate::domain::qualification::Qualification;

/// Money and mass of one (category, qualification class, tag) slice of a delta.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactDelta {
    pub category: Category,
    pub qualification: Qualification,
    pub amount_fen: i64,
    pub mass_mg: i64,
}

/// A change to one school's aggregates on one business day.
#[derive(Debug, Clone)]
pub struct Delta {
    pub school_id: String,
    pub county_code: String,
    pub day: NaiveDate,
    pub purchases: i64,
    pub facts: Vec<FactDelta>,
    /// The facts also count as confirmed by both parties.
    pub confirmed: bool,
}

impl Delta {
    /// The school-level figures of this delta.
    pub fn school_figures(&self) -> SchoolFigures {
        let mut f = SchoolFigures::of(&self.facts, self.purchases);
        if self.confirmed {
            f.confirmed_fen = f.total_fen;
            f.confirmed_qualifying_fen = f.qualifying_fen;
        }
        f
    }
}

impl SchoolFigures {
    /// Figures of a set of facts plus a purchase count: how a fact counts is the
    /// domain's rule ([`Figures::of`]), applied to its stored class and tag.
    pub fn of(facts: &[FactDelta], purchases: i64) -> Self {
        let mut all = Figures::default();
        for x in facts {
            all.add(&Figures::of(x.qualification, x.amount_fen, x.mass_mg));
        }
        Self::new(&all, purchases)
    }
}

/// A multi-row statement that adds to buckets: `INSERT INTO table (keys…, added…) VALUES …
/// ON CONFLICT (conflict) DO UPDATE SET c = table.c + excluded.c` for every added column.
struct AddUpsert {
    /// `INSERT INTO table (columns)`.
    head: String,
    /// `ON CONFLICT … DO UPDATE SET …`.
    tail: String,
    /// Parameters per row.
    columns: usize,
}

impl AddUpsert {
    fn new(table: &str, keys: &[&str], conflict: &str, added: &[&str]) -> Self {
        let columns: Vec<&str> = keys.iter().chain(added).copied().collect();
        let set: Vec<String> = added.iter().map(|c| format!("{c} = {table}.{c} + excluded.{c}")).collect();
        Self {
            head: format!("INSERT INTO {table} ({})", columns.join(", ")),
            tail: format!("ON CONFLICT ({conflict}) DO UPDATE SET {}", set.join(", ")),
            columns: columns.len(),
        }
    }

    /// The statement for `rows` rows.
    fn sql(&self, rows: usize) -> String {
        format!("{} {} {}", self.head, values_clause(rows, self.columns), self.tail)
    }
}

/// Key columns of a school bucket, bound before its figures.
const SCHOOL_KEYS: [&str; 4] = ["school_id", "county_code", "kind", "bucket_start"];

static UPSERT_SCHOOL: LazyLock<AddUpsert> =
    LazyLock::new(|| AddUpsert::new("agg_school", &SCHOOL_KEYS, "kind, bucket_start, school_id", &SchoolFigures::COLUMNS));

static UPSERT_FACT: LazyLock<AddUpsert> = LazyLock::new(|| {
    AddUpsert::new(
        "agg_facts",
        &["school_id", "county_code", "kind", "bucket_start", "category", "class", "tag"],
        "kind, bucket_start, school_id, category, class, tag",
        &["amount_fen", "mass_mg"],
    )
});

impl SchoolBucket {
    /// The bucket row of `school_id` holding figures `f`.
    pub fn of(school_id: &str, county_code: &str, kind: i32, bucket_start: NaiveDate, f: &SchoolFigures) -> Self {
        Self { school_id: school_id.to_owned(), county_code: county_code.to_owned(), kind, bucket_start, figures: *f }
    }
}

/// `VALUES` with `rows` tuples of `columns` numbered parameters.
fn values_clause(rows: usize, columns: usize) -> String {
    let tuples: Vec<String> = (0..rows)
        .map(|i| {
            let params: Vec<String> = (1..=columns).map(|c| format!("${}", i * columns + c)).collect();
            format!("({})", params.join(", "))
        })
        .collect();
    format!("VALUES {}", tuples.join(", "))
}

type Upsert = diesel::query_builder::BoxedSqlQuery<'static, crate::db::MultiBackend, diesel::query_builder::SqlQuery>;

/// Runs `upsert` for every row, in multi-row statements of up to `bulk::CHUNK` rows
/// (13 columns × 2,000 stay under PostgreSQL's 65,535 binds); `bind` binds one row's
/// values in column order.
fn upsert_many<T>(conn: &mut DbConn, upsert: &AddUpsert, rows: &[T], bind: impl Fn(Upsert, &T) -> Upsert) -> QueryResult<()> {
    for chunk in rows.chunks(super::bulk::CHUNK) {
        let q = diesel::sql_query(upsert.sql(chunk.len())).into_boxed();
        chunk.iter().fold(q, &bind).execute(conn)?;
    }
    Ok(())
}

/// Adds each row's figures to its school bucket (creating it), with multi-row
/// statements. A key may appear only once in `rows` (PostgreSQL refuses to update one
/// row twice in a statement): merge first.
pub fn add_school_buckets(conn: &mut DbConn, rows: &[SchoolBucket]) -> QueryResult<()> {
    upsert_many(conn, &UPSERT_SCHOOL, rows, |q, r| {
        let keys = q
            .bind::<Text, _>(r.school_id.clone())
            .bind::<Text, _>(r.county_code.clone())
            .bind::<Integer, _>(r.kind)
            .bind::<Date, _>(r.bucket_start);
        r.figures.column_values().into_iter().fold(keys, |q, v| q.bind::<BigInt, _>(v))
    })
}

/// Adds each row's money and mass to its fact bucket (creating it), as
/// [`add_school_buckets`] does.
pub fn add_fact_buckets(conn: &mut DbConn, rows: &[FactBucket]) -> QueryResult<()> {
    upsert_many(conn, &UPSERT_FACT, rows, |q, r| {
        q.bind::<Text, _>(r.school_id.clone())
            .bind::<Text, _>(r.county_code.clone())
            .bind::<Integer, _>(r.kind)
            .bind::<Date, _>(r.bucket_start)
            .bind::<Text, _>(r.category)
            .bind::<Text, _>(r.class)
            .bind::<Text, _>(r.tag)
            .bind::<BigInt, _>(r.amount_fen)
            .bind::<BigInt, _>(r.mass_mg)
    })
}

/// One stored fact bucket.
#[derive(Debug, Clone, QueryableByName)]
pub struct FactBucketRow {
    #[diesel(sql_type = Text)]
    pub school_id: String,
    #[diesel(sql_type = Integer)]
    pub kind: i32,
    #[diesel(sql_type = Date)]
    pub bucket_start: NaiveDate,
    #[diesel(sql_type = Text)]
    pub category: Category,
    #[diesel(sql_type = Text)]
    pub class: QualificationClass,
    #[diesel(sql_type = Text)]
    pub tag: TagKey,
    #[diesel(sql_type = BigInt)]
    pub amount_fen: i64,
    #[diesel(sql_type = BigInt)]
    pub mass_mg: i64,
}

/// Bucket predicate grouped by kind: `(kind = 4 AND bucket_start IN ('2019-01-01')) OR …`,
/// a form both planners answer from the `(kind, bucket_start, …)` index (SQLite does not
/// use an index for a row-value `IN`). The values are integers and dates we formatted
/// ourselves, never client text, so they are inlined.
fn bucket_predicate(buckets: &[(i32, NaiveDate)]) -> String {
    if buckets.is_empty() {
        return "1 = 0".into();
    }
    let mut by_kind: std::collections::BTreeMap<i32, Vec<String>> = std::collections::BTreeMap::new();
    for (k, d) in buckets {
        by_kind.entry(*k).or_default().push(format!("'{}'", d.format("%Y-%m-%d")));
    }
    let parts: Vec<String> = by_kind.iter().map(|(k, ds)| format!("(kind = {k} AND bucket_start IN ({}))", ds.join(", "))).collect();
    format!("({})", parts.join(" OR "))
}

/// Scope predicate on an aggregate table and its bind value.
fn scope_predicate(scope: &ScopeFilter) -> (&'static str, Option<&str>) {
    match scope {
        ScopeFilter::Province => ("", None),
        ScopeFilter::Prefecture(p) => (" AND county_code IN (SELECT code FROM counties WHERE prefecture_code = $1)", Some(p)),
        ScopeFilter::County(c) => (" AND county_code = $1", Some(c)),
        ScopeFilter::School(s) => (" AND school_id = $1", Some(s)),
    }
}

/// Stored school buckets of `scope` among `buckets`: one typed query per bucket kind
/// (each answered from the bucket-first primary key).
pub fn school_buckets(conn: &mut DbConn, scope: &ScopeFilter, buckets: &[(i32, NaiveDate)]) -> QueryResult<Vec<SchoolBucket>> {
    use crate::db::schema::{agg_school as a, counties};
    let mut by_kind: std::collections::BTreeMap<i32, Vec<NaiveDate>> = std::collections::BTreeMap::new();
    for (k, d) in buckets {
        by_kind.entry(*k).or_default().push(*d);
    }
    let mut out = Vec::new();
    for (kind, dates) in by_kind {
        let mut q = a::table.filter(a::kind.eq(kind)).filter(a::bucket_start.eq_any(dates)).select(SchoolBucket::as_select()).into_boxed();
        q = match scope {
            ScopeFilter::Province => q,
            ScopeFilter::Prefecture(p) => {
                q.filter(a::county_code.eq_any(counties::table.filter(counties::prefecture_code.eq(p.clone())).select(counties::code)))
            }
            ScopeFilter::County(c) => q.filter(a::county_code.eq(c.clone())),
            ScopeFilter::School(s) => q.filter(a::school_id.eq(s.clone())),
        };
        out.extend(q.load(conn)?);
    }
    Ok(out)
}

/// Stored fact buckets of `scope` among `buckets`.
pub fn fact_buckets(conn: &mut DbConn, scope: &ScopeFilter, buckets: &[(i32, NaiveDate)]) -> QueryResult<Vec<FactBucketRow>> {
    let (pred, bind) = scope_predicate(scope);
    let sql = format!(
        "SELECT school_id, kind, bucket_start, category, class, tag, amount_fen, mass_mg FROM agg_facts WHERE {}{pred}",
        bucket_predicate(buckets)
    );
    match bind {
        Some(b) => diesel::sql_query(sql).bind::<Text, _>(b).load(conn),
        None => diesel::sql_query(sql).load(conn),
    }
}

/// Every stored school bucket of one county (for the consistency check).
pub fn all_school_buckets_of_county(conn: &mut DbConn, county: &str) -> QueryResult<Vec<SchoolBucket>> {
    use crate::db::schema::agg_school as a;
    a::table.filter(a::county_code.eq(county)).select(SchoolBucket::as_select()).load(conn)
}

/// Every stored fact bucket of one county (for the consistency check).
pub fn all_fact_buckets_of_county(conn: &mut DbConn, county: &str) -> QueryResult<Vec<FactBucketRow>> {
    diesel::sql_query(
        "SELECT school_id, kind, bucket_start, category, class, tag, amount_fen, mass_mg FROM agg_facts WHERE county_code = $1",
    )
    .bind::<Text, _>(county)
    .load(conn)
}

/// Removes every aggregate of one county (before a rebuild).
pub fn clear_county(conn: &mut DbConn, county: &str) -> QueryResult<()> {
    diesel::sql_query("DELETE FROM agg_facts WHERE county_code = $1").bind::<Text, _>(county).execute(conn)?;
    diesel::sql_query("DELETE FROM agg_school WHERE county_code = $1").bind::<Text, _>(county).execute(conn).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::catalog::Tag;

    fn fact(qualification: Qualification, amount_fen: i64, mass_mg: i64) -> FactDelta {
        FactDelta { category: Category::Eggs, qualification, amount_fen, mass_mg }
    }

    #[test]
    fn stored_classes_count_as_the_domain_says() {
        let f = SchoolFigures::of(
            &[
                fact(Qualification::Qualifying(Tag::Cooperative), 500, 7),
                fact(Qualification::Pending(Tag::PoorHousehold), 300, 11),
                fact(Qualification::NotQualifying, 200, 13),
            ],
            2,
        );
        let want = SchoolFigures {
            total_fen: 1_000,
            qualifying_fen: 500,
            pending_fen: 300,
            total_mg: 31,
            qualifying_mg: 7,
            purchases: 2,
            ..SchoolFigures::default()
        };
        assert_eq!(f, want);
        assert_eq!(SchoolFigures::of(&[], 0), SchoolFigures::default());
    }
}

//! Maintained aggregates: per school and calendar bucket (day, half-month, month,
//! quarter, year). Deltas are applied with portable `INSERT … ON CONFLICT DO UPDATE`
//! (SQLite ≥ 3.24 and PostgreSQL), in the caller's transaction.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Integer, Text};

use super::bulk::{FactBucket, SchoolBucket};
use super::reports::ScopeFilter;
use crate::db::DbConn;
use crate::domain::qualification::Qualification;
use crate::domain::shares::Figures;

/// Money and mass of one (category, qualification class, tag) slice of a delta.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactDelta {
    pub category: String,
    pub class: String,
    /// Empty when the class has no tag.
    pub tag: String,
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

/// The school-level figures of one bucket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SchoolFigures {
    pub total_fen: i64,
    pub qualifying_fen: i64,
    pub pending_fen: i64,
    pub total_mg: i64,
    pub qualifying_mg: i64,
    pub purchases: i64,
    pub confirmed_fen: i64,
    pub confirmed_qualifying_fen: i64,
    pub paid_fen: i64,
}

impl SchoolFigures {
    /// Figures of a set of facts plus a purchase count: how a fact counts is the
    /// domain's rule ([`Figures::of`]), applied to its stored class and tag.
    pub fn of(facts: &[FactDelta], purchases: i64) -> Self {
        let mut all = Figures::default();
        for x in facts {
            all.add(&Figures::of(Qualification::from_parts(&x.class, Some(&x.tag)), x.amount_fen, x.mass_mg));
        }
        Self {
            total_fen: all.total_fen,
            qualifying_fen: all.qualifying_fen,
            pending_fen: all.pending_fen,
            total_mg: all.total_mg,
            qualifying_mg: all.qualifying_mg,
            purchases,
            confirmed_fen: all.confirmed_fen,
            confirmed_qualifying_fen: all.confirmed_qualifying_fen,
            paid_fen: all.paid_fen,
        }
    }

    pub fn add(&mut self, o: &Self) {
        self.total_fen += o.total_fen;
        self.qualifying_fen += o.qualifying_fen;
        self.pending_fen += o.pending_fen;
        self.total_mg += o.total_mg;
        self.qualifying_mg += o.qualifying_mg;
        self.purchases += o.purchases;
        self.confirmed_fen += o.confirmed_fen;
        self.confirmed_qualifying_fen += o.confirmed_qualifying_fen;
        self.paid_fen += o.paid_fen;
    }
}

const UPSERT_SCHOOL: &str = "INSERT INTO agg_school (school_id, county_code, kind, bucket_start, total_fen, qualifying_fen, pending_fen, total_mg, qualifying_mg, purchases, confirmed_fen, confirmed_qualifying_fen, paid_fen) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
     ON CONFLICT (kind, bucket_start, school_id) DO UPDATE SET \
     total_fen = agg_school.total_fen + excluded.total_fen, qualifying_fen = agg_school.qualifying_fen + excluded.qualifying_fen, \
     pending_fen = agg_school.pending_fen + excluded.pending_fen, total_mg = agg_school.total_mg + excluded.total_mg, \
     qualifying_mg = agg_school.qualifying_mg + excluded.qualifying_mg, purchases = agg_school.purchases + excluded.purchases, \
     confirmed_fen = agg_school.confirmed_fen + excluded.confirmed_fen, \
     confirmed_qualifying_fen = agg_school.confirmed_qualifying_fen + excluded.confirmed_qualifying_fen, \
     paid_fen = agg_school.paid_fen + excluded.paid_fen";

const UPSERT_FACT: &str = "INSERT INTO agg_facts (school_id, county_code, kind, bucket_start, category, class, tag, amount_fen, mass_mg) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
     ON CONFLICT (kind, bucket_start, school_id, category, class, tag) DO UPDATE SET \
     amount_fen = agg_facts.amount_fen + excluded.amount_fen, mass_mg = agg_facts.mass_mg + excluded.mass_mg";

impl SchoolBucket {
    /// The bucket row of `school_id` holding figures `f`.
    pub fn of(school_id: &str, county_code: &str, kind: i32, bucket_start: NaiveDate, f: &SchoolFigures) -> Self {
        Self {
            school_id: school_id.to_owned(),
            county_code: county_code.to_owned(),
            kind,
            bucket_start,
            total_fen: f.total_fen,
            qualifying_fen: f.qualifying_fen,
            pending_fen: f.pending_fen,
            total_mg: f.total_mg,
            qualifying_mg: f.qualifying_mg,
            purchases: f.purchases,
            confirmed_fen: f.confirmed_fen,
            confirmed_qualifying_fen: f.confirmed_qualifying_fen,
            paid_fen: f.paid_fen,
        }
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

/// Runs the one-row upsert `sql` (of `columns` parameters) for every row, in multi-row
/// statements of up to `bulk::CHUNK` rows (13 columns × 2,000 stay under PostgreSQL's
/// 65,535 binds); `bind` binds one row's values in order.
fn upsert_many<T>(conn: &mut DbConn, sql: &str, columns: usize, rows: &[T], bind: impl Fn(Upsert, &T) -> Upsert) -> QueryResult<()> {
    let one_row = values_clause(1, columns);
    for chunk in rows.chunks(super::bulk::CHUNK) {
        let q = diesel::sql_query(sql.replace(&one_row, &values_clause(chunk.len(), columns))).into_boxed();
        chunk.iter().fold(q, &bind).execute(conn)?;
    }
    Ok(())
}

/// Adds each row's figures to its school bucket (creating it), with multi-row
/// statements. A key may appear only once in `rows` (PostgreSQL refuses to update one
/// row twice in a statement): merge first.
pub fn add_school_buckets(conn: &mut DbConn, rows: &[SchoolBucket]) -> QueryResult<()> {
    upsert_many(conn, UPSERT_SCHOOL, 13, rows, |q, r| {
        q.bind::<Text, _>(r.school_id.clone())
            .bind::<Text, _>(r.county_code.clone())
            .bind::<Integer, _>(r.kind)
            .bind::<Date, _>(r.bucket_start)
            .bind::<BigInt, _>(r.total_fen)
            .bind::<BigInt, _>(r.qualifying_fen)
            .bind::<BigInt, _>(r.pending_fen)
            .bind::<BigInt, _>(r.total_mg)
            .bind::<BigInt, _>(r.qualifying_mg)
            .bind::<BigInt, _>(r.purchases)
            .bind::<BigInt, _>(r.confirmed_fen)
            .bind::<BigInt, _>(r.confirmed_qualifying_fen)
            .bind::<BigInt, _>(r.paid_fen)
    })
}

/// Adds each row's money and mass to its fact bucket (creating it), as
/// [`add_school_buckets`] does.
pub fn add_fact_buckets(conn: &mut DbConn, rows: &[FactBucket]) -> QueryResult<()> {
    upsert_many(conn, UPSERT_FACT, 9, rows, |q, r| {
        q.bind::<Text, _>(r.school_id.clone())
            .bind::<Text, _>(r.county_code.clone())
            .bind::<Integer, _>(r.kind)
            .bind::<Date, _>(r.bucket_start)
            .bind::<Text, _>(r.category.clone())
            .bind::<Text, _>(r.class.clone())
            .bind::<Text, _>(r.tag.clone())
            .bind::<BigInt, _>(r.amount_fen)
            .bind::<BigInt, _>(r.mass_mg)
    })
}

/// One stored school bucket.
#[derive(Debug, Clone, QueryableByName, Queryable)]
pub struct SchoolBucketRow {
    #[diesel(sql_type = Text)]
    pub school_id: String,
    #[diesel(sql_type = Text)]
    pub county_code: String,
    #[diesel(sql_type = Integer)]
    pub kind: i32,
    #[diesel(sql_type = Date)]
    pub bucket_start: NaiveDate,
    #[diesel(sql_type = BigInt)]
    pub total_fen: i64,
    #[diesel(sql_type = BigInt)]
    pub qualifying_fen: i64,
    #[diesel(sql_type = BigInt)]
    pub pending_fen: i64,
    #[diesel(sql_type = BigInt)]
    pub total_mg: i64,
    #[diesel(sql_type = BigInt)]
    pub qualifying_mg: i64,
    #[diesel(sql_type = BigInt)]
    pub purchases: i64,
    #[diesel(sql_type = BigInt)]
    pub confirmed_fen: i64,
    #[diesel(sql_type = BigInt)]
    pub confirmed_qualifying_fen: i64,
    #[diesel(sql_type = BigInt)]
    pub paid_fen: i64,
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
    pub category: String,
    #[diesel(sql_type = Text)]
    pub class: String,
    #[diesel(sql_type = Text)]
    pub tag: String,
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
/// (positional decoding; each answered from the bucket-first primary key).
pub fn school_buckets(conn: &mut DbConn, scope: &ScopeFilter, buckets: &[(i32, NaiveDate)]) -> QueryResult<Vec<SchoolBucketRow>> {
    use crate::db::schema::{agg_school as a, counties};
    let mut by_kind: std::collections::BTreeMap<i32, Vec<NaiveDate>> = std::collections::BTreeMap::new();
    for (k, d) in buckets {
        by_kind.entry(*k).or_default().push(*d);
    }
    let mut out = Vec::new();
    for (kind, dates) in by_kind {
        let mut q = a::table
            .filter(a::kind.eq(kind))
            .filter(a::bucket_start.eq_any(dates))
            .select((
                a::school_id,
                a::county_code,
                a::kind,
                a::bucket_start,
                a::total_fen,
                a::qualifying_fen,
                a::pending_fen,
                a::total_mg,
                a::qualifying_mg,
                a::purchases,
                a::confirmed_fen,
                a::confirmed_qualifying_fen,
                a::paid_fen,
            ))
            .into_boxed();
        q = match scope {
            ScopeFilter::Province => q,
            ScopeFilter::Prefecture(p) => {
                q.filter(a::county_code.eq_any(counties::table.filter(counties::prefecture_code.eq(p.clone())).select(counties::code)))
            }
            ScopeFilter::County(c) => q.filter(a::county_code.eq(c.clone())),
            ScopeFilter::School(s) => q.filter(a::school_id.eq(s.clone())),
        };
        out.extend(q.load::<SchoolBucketRow>(conn)?);
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
pub fn all_school_buckets_of_county(conn: &mut DbConn, county: &str) -> QueryResult<Vec<SchoolBucketRow>> {
    diesel::sql_query(
        "SELECT school_id, county_code, kind, bucket_start, total_fen, qualifying_fen, pending_fen, total_mg, qualifying_mg, \
         purchases, confirmed_fen, confirmed_qualifying_fen, paid_fen FROM agg_school WHERE county_code = $1",
    )
    .bind::<Text, _>(county)
    .load(conn)
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

    fn fact(class: &str, tag: &str, amount_fen: i64, mass_mg: i64) -> FactDelta {
        FactDelta { category: "eggs".into(), class: class.into(), tag: tag.into(), amount_fen, mass_mg }
    }

    #[test]
    fn stored_classes_count_as_the_domain_says() {
        let f = SchoolFigures::of(
            &[fact("qualifying", "cooperative", 500, 7), fact("pending", "poor_household", 300, 11), fact("none", "", 200, 13)],
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

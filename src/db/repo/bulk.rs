//! Multi-row `INSERT`s in chunks that stay under PostgreSQL's bind-parameter limit: the
//! [`insert_many!`] statement and [`CHUNK`] size that the production write paths use
//! (ledger entries in `purchases`, stored answers, audit rows, webhook events), and the
//! bulk loads built on them: schools with their chain heads (the benchmark's generated
//! data) and aggregate buckets (rebuilds). Depends on no other repository's rows but
//! schools'; the ledger's own insert lives with its rows in `purchases`.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::figures::SchoolFigures;
use super::schools::SchoolRow;
use crate::db::DbConn;
use crate::db::enums::TagKey;
use crate::db::schema::{agg_facts, agg_school, ledger_heads, schools};
use crate::domain::catalog::{Category, QualificationClass};
use crate::domain::qualification::Qualification;

/// Rows per statement: 16 columns × 2,000 < 65,535 binds.
pub(crate) const CHUNK: usize = 2_000;

/// Multi-row inserts are backend-specific in diesel (the DEFAULT keyword differs), so
/// the statement is built inside each arm.
macro_rules! insert_many {
    ($conn:expr, $table:expr, $rows:expr) => {
        match $conn {
            DbConn::Pg(c) => diesel::insert_into($table).values($rows).execute(c),
            DbConn::Sqlite(c) => diesel::insert_into($table).values($rows).execute(c),
        }
    };
}
pub(crate) use insert_many;

pub fn insert_schools(conn: &mut DbConn, rows: &[SchoolRow]) -> QueryResult<()> {
    for chunk in rows.chunks(CHUNK) {
        insert_many!(conn, schools::table, chunk)?;
        let heads: Vec<_> = chunk
            .iter()
            .map(|s| {
                (ledger_heads::school_id.eq(&s.id), ledger_heads::seq.eq(0_i64), ledger_heads::hash.eq(crate::domain::ledger::GENESIS))
            })
            .collect();
        insert_many!(conn, ledger_heads::table, heads)?;
    }
    Ok(())
}

/// One school bucket: inserted by rebuilds, added to by the upsert, read by reports and
/// the consistency check.
#[derive(Debug, Clone, Insertable, Queryable, Selectable)]
#[diesel(table_name = agg_school)]
pub struct SchoolBucket {
    pub school_id: String,
    pub county_code: String,
    pub kind: i32,
    pub bucket_start: NaiveDate,
    #[diesel(embed)]
    pub figures: SchoolFigures,
}

/// A fact bucket to insert.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = agg_facts)]
pub struct FactBucket {
    pub school_id: String,
    pub county_code: String,
    pub kind: i32,
    pub bucket_start: NaiveDate,
    pub category: Category,
    pub class: QualificationClass,
    pub tag: TagKey,
    pub amount_fen: i64,
    pub mass_mg: i64,
}

impl FactBucket {
    /// The bucket of `(school, kind, start, category, qualification)` in `county` holding
    /// `(amount_fen, mass_mg)`.
    pub fn of(key: (&str, i32, NaiveDate, Category, Qualification), county: &str, (amount_fen, mass_mg): (i64, i64)) -> Self {
        let (school, kind, bucket_start, category, q) = key;
        Self {
            school_id: school.to_owned(),
            county_code: county.to_owned(),
            kind,
            bucket_start,
            category,
            class: q.class(),
            tag: TagKey(q.tag()),
            amount_fen,
            mass_mg,
        }
    }
}

pub fn insert_buckets(conn: &mut DbConn, schools: &[SchoolBucket], facts: &[FactBucket]) -> QueryResult<()> {
    // 13 columns: 2,000 rows stay under the 65,535 bind parameters (6,000 did not).
    for chunk in schools.chunks(CHUNK) {
        insert_many!(conn, agg_school::table, chunk)?;
    }
    for chunk in facts.chunks(CHUNK * 3) {
        insert_many!(conn, agg_facts::table, chunk)?;
    }
    Ok(())
}

/// Sets every school's chain head.
pub fn set_heads(conn: &mut DbConn, heads: &[(String, i64, String)]) -> QueryResult<()> {
    for (school, seq, hash) in heads {
        diesel::update(ledger_heads::table.find(school)).set((ledger_heads::seq.eq(seq), ledger_heads::hash.eq(hash))).execute(conn)?;
    }
    Ok(())
}

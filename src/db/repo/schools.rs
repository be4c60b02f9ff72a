//! Schools and the head of each school's hash chain.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::repo::reports::ScopeFilter;
use crate::db::schema::{counties, ledger_heads, schools};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = schools)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct SchoolRow {
    pub id: String,
    pub county_code: String,
    pub name: String,
    pub code: Option<String>,
    pub students: Option<i32>,
    pub address: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Editable fields; `None` leaves a field alone, `Some(None)` clears it.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = schools)]
pub struct SchoolChangeset {
    pub name: Option<String>,
    pub code: Option<Option<String>>,
    pub students: Option<Option<i32>>,
    pub address: Option<Option<String>>,
    pub updated_at: Option<NaiveDateTime>,
}

/// A school with the prefecture of its county (for scope checks).
#[derive(Debug, Clone)]
pub struct PlacedSchool {
    pub school: SchoolRow,
    pub prefecture_code: String,
}

/// Filters for listing schools.
#[derive(Debug, Clone, Default)]
pub struct SchoolFilter {
    pub county_code: Option<String>,
    pub prefecture_code: Option<String>,
    pub ids: Option<Vec<String>>,
    pub after_id: Option<String>,
    pub limit: i64,
}

pub fn insert(conn: &mut DbConn, row: &SchoolRow) -> QueryResult<()> {
    diesel::insert_into(schools::table).values(row).execute(conn)?;
    diesel::insert_into(ledger_heads::table)
        .values((ledger_heads::school_id.eq(&row.id), ledger_heads::seq.eq(0_i64), ledger_heads::hash.eq(crate::domain::ledger::GENESIS)))
        .execute(conn)
        .map(drop)
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<PlacedSchool>> {
    schools::table
        .inner_join(counties::table)
        .filter(schools::id.eq(id))
        .select((SchoolRow::as_select(), counties::prefecture_code))
        .first::<(SchoolRow, String)>(conn)
        .optional()
        .map(|o| o.map(|(school, prefecture_code)| PlacedSchool { school, prefecture_code }))
}

pub fn update(conn: &mut DbConn, id: &str, changes: &SchoolChangeset) -> QueryResult<()> {
    diesel::update(schools::table.find(id)).set(changes).execute(conn).map(drop)
}

pub fn list(conn: &mut DbConn, f: &SchoolFilter) -> QueryResult<Vec<PlacedSchool>> {
    let mut q = schools::table
        .inner_join(counties::table)
        .select((SchoolRow::as_select(), counties::prefecture_code))
        .order(schools::id)
        .into_boxed();
    if let Some(c) = &f.county_code {
        q = q.filter(schools::county_code.eq(c.clone()));
    }
    if let Some(p) = &f.prefecture_code {
        q = q.filter(counties::prefecture_code.eq(p.clone()));
    }
    if let Some(ids) = &f.ids {
        q = q.filter(schools::id.eq_any(ids.clone()));
    }
    if let Some(after) = &f.after_id {
        q = q.filter(schools::id.gt(after.clone()));
    }
    q.limit(f.limit)
        .load::<(SchoolRow, String)>(conn)
        .map(|v| v.into_iter().map(|(school, prefecture_code)| PlacedSchool { school, prefecture_code }).collect())
}

/// Every school of a scope, with county and prefecture, for reports: `(id, name, county, prefecture)`.
pub fn roster(
    conn: &mut DbConn,
    county_code: Option<&str>,
    prefecture_code: Option<&str>,
    school_id: Option<&str>,
) -> QueryResult<Vec<(String, String, String, String)>> {
    let mut q = schools::table
        .inner_join(counties::table)
        .select((schools::id, schools::name, schools::county_code, counties::prefecture_code))
        .order(schools::id)
        .into_boxed();
    if let Some(c) = county_code {
        q = q.filter(schools::county_code.eq(c.to_owned()));
    }
    if let Some(p) = prefecture_code {
        q = q.filter(counties::prefecture_code.eq(p.to_owned()));
    }
    if let Some(s) = school_id {
        q = q.filter(schools::id.eq(s.to_owned()));
    }
    q.load(conn)
}

/// Registered schools per county within `scope`, in county-code order.
pub fn count_by_county(conn: &mut DbConn, scope: &ScopeFilter) -> QueryResult<Vec<(String, i64)>> {
    let mut q = schools::table
        .group_by(schools::county_code)
        .select((schools::county_code, diesel::dsl::count_star()))
        .order(schools::county_code)
        .into_boxed();
    q = match scope {
        ScopeFilter::Province => q,
        ScopeFilter::Prefecture(p) => {
            q.filter(schools::county_code.eq_any(counties::table.filter(counties::prefecture_code.eq(p.clone())).select(counties::code)))
        }
        ScopeFilter::County(c) => q.filter(schools::county_code.eq(c.clone())),
        ScopeFilter::School(s) => q.filter(schools::id.eq(s.clone())),
    };
    q.load(conn)
}

/// Advances the school's chain head by one. The UPDATE takes the row lock first, so
/// concurrent writers for one school are serialized; returns the locked `(seq, hash)`
/// that the new entry follows.
pub fn lock_head(conn: &mut DbConn, school_id: &str) -> QueryResult<Option<(i64, String)>> {
    let n = diesel::update(ledger_heads::table.find(school_id)).set(ledger_heads::seq.eq(ledger_heads::seq + 0_i64)).execute(conn)?;
    if n == 0 {
        return Ok(None);
    }
    ledger_heads::table.find(school_id).select((ledger_heads::seq, ledger_heads::hash)).first(conn).optional()
}

/// Takes a writer's locks in the one order every writer uses: the suppliers whose
/// purchases it qualifies (shared, see [`super::suppliers::lock_shared`]), then the
/// school's chain head. `None` when the school does not exist.
pub fn lock_for_write(conn: &mut DbConn, school_id: &str, supplier_ids: &[&str]) -> QueryResult<Option<(i64, String)>> {
    super::suppliers::lock_shared(conn, supplier_ids)?;
    lock_head(conn, school_id)
}

pub fn set_head(conn: &mut DbConn, school_id: &str, seq: i64, hash: &str) -> QueryResult<()> {
    diesel::update(ledger_heads::table.find(school_id))
        .set((ledger_heads::seq.eq(seq), ledger_heads::hash.eq(hash)))
        .execute(conn)
        .map(drop)
}

pub fn head(conn: &mut DbConn, school_id: &str) -> QueryResult<Option<(i64, String)>> {
    ledger_heads::table.find(school_id).select((ledger_heads::seq, ledger_heads::hash)).first(conn).optional()
}

/// Every school's id, in id order.
pub fn all_ids(conn: &mut DbConn) -> QueryResult<Vec<String>> {
    schools::table.order(schools::id).select(schools::id).load(conn)
}

pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
    schools::table.count().get_result(conn)
}

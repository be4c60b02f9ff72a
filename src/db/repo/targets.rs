//! Per-year targets (a rational number), set by the province.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{target_history, targets};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = targets)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct TargetRow {
    pub year: i32,
    pub numerator: i64,
    pub denominator: i64,
    pub set_by: String,
    pub set_at: NaiveDateTime,
}

pub fn find(conn: &mut DbConn, year: i32) -> QueryResult<Option<TargetRow>> {
    targets::table.find(year).select(TargetRow::as_select()).first(conn).optional()
}

pub fn list(conn: &mut DbConn) -> QueryResult<Vec<TargetRow>> {
    targets::table.order(targets::year).select(TargetRow::as_select()).load(conn)
}

pub fn upsert(conn: &mut DbConn, row: &TargetRow) -> QueryResult<()> {
    if find(conn, row.year)?.is_some() {
        diesel::update(targets::table.find(row.year)).set(row).execute(conn).map(drop)
    } else {
        diesel::insert_into(targets::table).values(row).execute(conn).map(drop)
    }
}

/// One value a year's target has had, with who set it and when.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = target_history)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct TargetHistoryRow {
    pub id: String,
    pub year: i32,
    pub numerator: i64,
    pub denominator: i64,
    pub set_by: String,
    pub set_at: NaiveDateTime,
}

pub fn insert_history(conn: &mut DbConn, row: &TargetHistoryRow) -> QueryResult<()> {
    diesel::insert_into(target_history::table).values(row).execute(conn).map(drop)
}

/// The values `year`'s target has had, oldest first (ids are time-ordered UUIDv7s).
pub fn history(conn: &mut DbConn, year: i32) -> QueryResult<Vec<TargetHistoryRow>> {
    target_history::table
        .filter(target_history::year.eq(year))
        .order((target_history::set_at.asc(), target_history::id.asc()))
        .select(TargetHistoryRow::as_select())
        .load(conn)
}

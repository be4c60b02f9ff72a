//! Per-year targets (a rational number), set by the province.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::targets;

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

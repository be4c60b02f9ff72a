//! Reporting lines: the counties whose bureau does not report to its prefecture.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::reporting_lines;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = reporting_lines)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct ReportingLineRow {
    pub county_code: String,
    /// `prefecture` or `province`.
    pub reports_to: String,
    pub source: String,
    pub updated_by: String,
    pub updated_at: NaiveDateTime,
}

pub fn list(conn: &mut DbConn) -> QueryResult<Vec<ReportingLineRow>> {
    reporting_lines::table.order(reporting_lines::county_code).select(ReportingLineRow::as_select()).load(conn)
}

pub fn find(conn: &mut DbConn, county_code: &str) -> QueryResult<Option<ReportingLineRow>> {
    reporting_lines::table.find(county_code).select(ReportingLineRow::as_select()).first(conn).optional()
}

/// Inserts the row unless the county already has one (shipped data never overrides an
/// administrator's decision). Returns whether it was inserted.
pub fn insert_if_absent(conn: &mut DbConn, row: &ReportingLineRow) -> QueryResult<bool> {
    if find(conn, &row.county_code)?.is_some() {
        return Ok(false);
    }
    diesel::insert_into(reporting_lines::table).values(row).execute(conn).map(|n| n > 0)
}

pub fn upsert(conn: &mut DbConn, row: &ReportingLineRow) -> QueryResult<()> {
    if find(conn, &row.county_code)?.is_some() {
        diesel::update(reporting_lines::table.find(&row.county_code)).set(row).execute(conn).map(drop)
    } else {
        diesel::insert_into(reporting_lines::table).values(row).execute(conn).map(drop)
    }
}

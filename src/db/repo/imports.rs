//! Accepted spreadsheet imports, keyed by (school, SHA-256 of the file's bytes).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::imports;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = imports)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct ImportRow {
    pub id: String,
    pub school_id: String,
    pub file_sha256: String,
    pub file_name: String,
    pub format: String,
    pub row_count: i32,
    pub purchase_count: i32,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub response_body: String,
}

pub fn find_by_sha(conn: &mut DbConn, school_id: &str, file_sha256: &str) -> QueryResult<Option<ImportRow>> {
    imports::table
        .filter(imports::school_id.eq(school_id))
        .filter(imports::file_sha256.eq(file_sha256))
        .select(ImportRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert(conn: &mut DbConn, row: &ImportRow) -> QueryResult<()> {
    diesel::insert_into(imports::table).values(row).execute(conn).map(drop)
}

//! The audit trail: one row per mutation (actor, time, action, subject, before/after).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::audit_log;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_log)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct AuditRow {
    pub id: String,
    pub at: NaiveDateTime,
    pub actor: String,
    pub action: String,
    pub subject_type: String,
    pub subject_id: String,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
}

pub fn insert(conn: &mut DbConn, row: &AuditRow) -> QueryResult<()> {
    insert_many(conn, std::slice::from_ref(row))
}

/// Inserts rows with multi-row statements of up to 2,000 rows.
pub fn insert_many(conn: &mut DbConn, rows: &[AuditRow]) -> QueryResult<()> {
    for chunk in rows.chunks(super::bulk::CHUNK) {
        super::bulk::insert_many!(conn, audit_log::table, chunk)?;
    }
    Ok(())
}

pub fn list_for_subject(conn: &mut DbConn, subject_type: &str, subject_id: &str) -> QueryResult<Vec<AuditRow>> {
    audit_log::table
        .filter(audit_log::subject_type.eq(subject_type))
        .filter(audit_log::subject_id.eq(subject_id))
        .order((audit_log::at.asc(), audit_log::id.asc()))
        .select(AuditRow::as_select())
        .load(conn)
}

//! Stored responses of creates, keyed by (school, Idempotency-Key); keys never expire.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::idempotency_keys;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = idempotency_keys)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct IdempotencyRow {
    pub school_id: String,
    pub idem_key: String,
    pub request_hash: String,
    pub request_body: String,
    pub response_status: i32,
    pub response_body: String,
    pub created_at: NaiveDateTime,
}

pub fn find(conn: &mut DbConn, school_id: &str, key: &str) -> QueryResult<Option<IdempotencyRow>> {
    idempotency_keys::table.find((school_id, key)).select(IdempotencyRow::as_select()).first(conn).optional()
}

/// The stored rows of these keys of a school (those that exist).
pub fn find_many(conn: &mut DbConn, school_id: &str, keys: &[String]) -> QueryResult<Vec<IdempotencyRow>> {
    idempotency_keys::table
        .filter(idempotency_keys::school_id.eq(school_id))
        .filter(idempotency_keys::idem_key.eq_any(keys))
        .select(IdempotencyRow::as_select())
        .load(conn)
}

pub fn insert(conn: &mut DbConn, row: &IdempotencyRow) -> QueryResult<()> {
    insert_many(conn, std::slice::from_ref(row))
}

/// Inserts rows with multi-row statements (7 columns: 2,000 rows stay far under either
/// backend's bind-parameter limit).
pub fn insert_many(conn: &mut DbConn, rows: &[IdempotencyRow]) -> QueryResult<()> {
    for chunk in rows.chunks(super::bulk::CHUNK) {
        super::bulk::insert_many!(conn, idempotency_keys::table, chunk)?;
    }
    Ok(())
}

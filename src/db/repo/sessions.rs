//! Revoked password-login sessions (a logout, or every session of a user).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::session_revocations as sr;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sr)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct RevocationRow {
    pub id: String,
    /// One session; `None`: every session of `user_id` issued up to `revoked_at`.
    pub jti: Option<String>,
    pub user_id: String,
    pub revoked_by: String,
    pub revoked_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, row: &RevocationRow) -> QueryResult<()> {
    diesel::insert_into(sr::table).values(row).execute(conn).map(drop)
}

/// Whether the session `jti` of `user_id`, issued at `issued_at`, has been revoked.
pub fn is_revoked(conn: &mut DbConn, jti: &str, user_id: &str, issued_at: NaiveDateTime) -> QueryResult<bool> {
    sr::table
        .filter(sr::jti.eq(jti).or(sr::jti.is_null().and(sr::user_id.eq(user_id)).and(sr::revoked_at.ge(issued_at))))
        .count()
        .get_result::<i64>(conn)
        .map(|n| n > 0)
}

/// Drops the rows that can no longer revoke a valid token.
pub fn purge_expired(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(sr::table.filter(sr::expires_at.lt(now))).execute(conn)
}

//! Long-lived integration tokens, revocable by `jti`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::api_tokens;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_tokens)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct TokenRow {
    pub jti: String,
    pub subject: String,
    pub role: String,
    pub scope: Option<String>,
    pub label: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConn, row: &TokenRow) -> QueryResult<()> {
    diesel::insert_into(api_tokens::table).values(row).execute(conn).map(drop)
}

/// Known and not revoked (expiry is checked by the JWT itself).
pub fn is_active(conn: &mut DbConn, jti: &str) -> QueryResult<bool> {
    api_tokens::table
        .filter(api_tokens::jti.eq(jti))
        .filter(api_tokens::revoked_at.is_null())
        .count()
        .get_result::<i64>(conn)
        .map(|n| n > 0)
}

/// Marks a token revoked; returns whether an active token was found.
pub fn revoke(conn: &mut DbConn, jti: &str, at: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(api_tokens::table.filter(api_tokens::jti.eq(jti)).filter(api_tokens::revoked_at.is_null()))
        .set(api_tokens::revoked_at.eq(Some(at)))
        .execute(conn)
        .map(|n| n > 0)
}

pub fn list(conn: &mut DbConn) -> QueryResult<Vec<TokenRow>> {
    api_tokens::table.order(api_tokens::created_at).select(TokenRow::as_select()).load(conn)
}

//! Accounts, password login, the bootstrap administrator and integration tokens.

use chrono::{Duration, NaiveDateTime};

use crate::auth::{JwtKeys, Role, TokenKind, password};
use crate::db::repo::tokens::{self, TokenRow};
use crate::db::repo::users::{self, UserRow};
use crate::db::{DbConn, write_tx};
use crate::error::ApiError;

/// Lifetime of a password-login token.
pub const SESSION_TTL_SECS: i64 = 8 * 3600;

/// Creates the `admin` account with a random password if there is no account at all;
/// returns the password, to be printed once.
pub fn bootstrap_admin(conn: &mut DbConn) -> anyhow::Result<Option<String>> {
    if users::count(conn)? > 0 {
        return Ok(None);
    }
    let pw = password::generate(20);
    add_user(conn, "system", "admin", &pw, &Role::Admin).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Some(pw))
}

/// Checks that a role's scope names something that exists.
pub fn check_scope(conn: &mut DbConn, role: &Role) -> Result<(), ApiError> {
    use crate::db::repo::{reference, schools, suppliers};
    let exists = match role {
        Role::Admin | Role::Province => true,
        Role::Prefecture(c) => reference::find_prefecture(conn, c)?.is_some(),
        Role::County(c) => reference::find_county(conn, c)?.is_some(),
        Role::Canteen(s) => schools::find(conn, s)?.is_some(),
        Role::Supplier(s) => suppliers::find(conn, s)?.is_some(),
    };
    if exists { Ok(()) } else { Err(ApiError::field("role", "unknown_scope", format!("{role}: the scope does not exist"))) }
}

/// Creates an account; the username must be new. Audited.
pub fn add_user(conn: &mut DbConn, actor: &str, username: &str, pw: &str, role: &Role) -> Result<UserRow, ApiError> {
    let hash = password::hash(pw)?;
    write_tx(conn, |conn| {
        check_scope(conn, role)?;
        if users::find_by_username(conn, username)?.is_some() {
            return Err(ApiError::Conflict {
                slug: "username-taken",
                detail: format!("username {username:?} is taken"),
                errors: vec![crate::error::FieldError::new("username", "taken", "username is taken")],
            });
        }
        let row = UserRow {
            id: super::new_id(),
            username: username.to_owned(),
            password_hash: hash,
            role: role.name().to_owned(),
            scope: role.scope().map(str::to_owned),
            created_at: super::now(),
        };
        users::insert(conn, &row)?;
        super::audit(
            conn,
            actor,
            "user.create",
            ("user", &row.id),
            None,
            Some(serde_json::json!({"username": username, "role": role.to_string()})),
        )?;
        Ok(row)
    })
}

/// The role of a stored account.
pub fn role_of(row: &UserRow) -> Option<Role> {
    match &row.scope {
        Some(s) => Role::parse(&format!("{}:{s}", row.role)),
        None => Role::parse(&row.role),
    }
}

/// A PHC hash of a random password, verified against when the username is unknown so
/// that timing does not reveal which usernames exist.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$1kTm5bxcKeqbXtFkGXZ5Z0Xd4bXl1kD0N0QJ6fJ0mJQ";

/// Verifies a password and issues a session token: `(token, expires_in_secs, user)`.
pub fn login(conn: &mut DbConn, keys: &JwtKeys, username: &str, pw: &str, now: i64) -> Result<(String, i64, UserRow), ApiError> {
    let user = users::find_by_username(conn, username)?;
    let hash = user.as_ref().map_or(DUMMY_HASH, |u| u.password_hash.as_str());
    let ok = password::verify(pw, hash);
    let (Some(user), true) = (user, ok) else {
        return Err(ApiError::Unauthorized);
    };
    let role = role_of(&user).ok_or(ApiError::Unauthorized)?;
    let token = keys.issue(&user.id, &role, TokenKind::Session, &super::new_id(), now, SESSION_TTL_SECS)?;
    Ok((token, SESSION_TTL_SECS, user))
}

/// Mints a long-lived integration token for a canteen app or a supplier system (or any
/// role), recorded so it can be revoked by `jti`. Audited.
pub fn mint_token(
    conn: &mut DbConn,
    keys: &JwtKeys,
    actor: &str,
    role: &Role,
    label: &str,
    days: i64,
    now: NaiveDateTime,
) -> Result<(String, TokenRow), ApiError> {
    write_tx(conn, |conn| {
        check_scope(conn, role)?;
        let jti = super::new_id();
        let row = TokenRow {
            jti: jti.clone(),
            subject: format!("token:{jti}"),
            role: role.name().to_owned(),
            scope: role.scope().map(str::to_owned),
            label: label.to_owned(),
            created_at: now,
            expires_at: now + Duration::days(days),
            revoked_at: None,
        };
        tokens::insert(conn, &row)?;
        let token = keys.issue(&row.subject, role, TokenKind::Integration, &jti, now.and_utc().timestamp(), days * 86_400)?;
        super::audit(
            conn,
            actor,
            "token.mint",
            ("token", &jti),
            None,
            Some(serde_json::json!({"role": role.to_string(), "label": label, "expires_at": row.expires_at})),
        )?;
        Ok((token, row))
    })
}

/// Revokes an integration token. Audited.
pub fn revoke_token(conn: &mut DbConn, actor: &str, jti: &str) -> Result<(), ApiError> {
    write_tx(conn, |conn| {
        if !tokens::revoke(conn, jti, super::now())? {
            return Err(ApiError::NotFound("active token"));
        }
        super::audit(conn, actor, "token.revoke", ("token", jti), None, None)
    })
}

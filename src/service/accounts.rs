//! Accounts, password login, the bootstrap administrator and integration tokens.

use std::net::IpAddr;

use chrono::{Duration, NaiveDateTime};

use crate::auth::password::{self, HashPool};
use crate::auth::throttle::LoginThrottle;
use crate::auth::{JwtKeys, TokenKind};
use crate::db::repo::sessions::{self, RevocationRow};
use crate::db::repo::tokens::{self, TokenRow};
use crate::db::repo::users::{self, UserRow};
use crate::db::{Db, DbConn, write_tx};
use crate::domain::access::Scope;
use crate::domain::role::Role;
use crate::error::ApiError;
use crate::error::Code;
use crate::error::ProblemType;

/// Lifetime of a password-login token.
pub const SESSION_TTL_SECS: i64 = 8 * 3600;

/// Creates the `admin` account with a random password if there is no account at all;
/// returns the password, to be printed once.
pub fn bootstrap_admin(conn: &mut DbConn) -> anyhow::Result<Option<String>> {
    if users::count(conn)? > 0 {
        return Ok(None);
    }
    let pw = password::generate(20);
    add_user(conn, "system", "admin", &password::hash(&pw)?, &Role::Admin).map_err(ApiError::into_cli)?;
    Ok(Some(pw))
}

/// Checks that a role's scope names something that exists.
pub fn check_scope(conn: &mut DbConn, role: &Role) -> Result<(), ApiError> {
    use crate::db::repo::{reference, schools, suppliers};
    let exists = match Scope::of(role) {
        Scope::Province => true,
        Scope::Prefecture(c) => reference::find_prefecture(conn, c)?.is_some(),
        Scope::County(c) => reference::find_county(conn, c)?.is_some(),
        Scope::School(s) => schools::find(conn, s)?.is_some(),
        Scope::Supplier(s) => suppliers::find(conn, s)?.is_some(),
    };
    if exists { Ok(()) } else { Err(ApiError::field("role", Code::UnknownScope, format!("{role}: the scope does not exist"))) }
}

/// Creates an account with an already hashed password (hash it before taking a
/// connection: [`HashPool::hash`]); the username must be new. Audited.
pub fn add_user(conn: &mut DbConn, actor: &str, username: &str, password_hash: &str, role: &Role) -> Result<UserRow, ApiError> {
    write_tx(conn, |conn| {
        check_scope(conn, role)?;
        if users::find_by_username(conn, username)?.is_some() {
            return Err(ApiError::Conflict {
                slug: ProblemType::UsernameTaken,
                detail: format!("username {username:?} is taken"),
                errors: vec![crate::error::FieldError::new("username", Code::Taken, "username is taken")],
            });
        }
        let row = UserRow {
            id: super::new_id(),
            username: username.to_owned(),
            password_hash: password_hash.to_owned(),
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

/// The services a password login uses.
pub struct LoginContext<'a> {
    pub db: &'a Db,
    pub keys: &'a JwtKeys,
    pub hashes: &'a HashPool,
    pub throttle: &'a LoginThrottle,
}

/// Verifies a password and issues a session token: `(token, expires_in_secs, user)`.
///
/// A username or client address that failed too often is refused (429) before anything
/// is read or hashed. An unknown username costs one hash against [`password::DUMMY_HASH`] and
/// answers exactly as a wrong password does, and counts as a failure of that name. The
/// hash runs on the bounded [`HashPool`], with no database connection held. A failure
/// counts from when the hash is done (a lock is never spent waiting for the hash).
pub async fn login(ctx: &LoginContext<'_>, username: &str, pw: &str, address: Option<IpAddr>) -> Result<(String, i64, UserRow), ApiError> {
    let clock = || chrono::Utc::now().timestamp_millis();
    if let Some(secs) = ctx.throttle.retry_after(username, address, clock()) {
        crate::telemetry::count(crate::telemetry::LOGIN_FAILURES, &[("reason", "throttled".to_owned())]);
        return Err(ApiError::TooManyRequests(secs));
    }
    let name = username.to_owned();
    let user = ctx.db.run(move |conn| Ok(users::find_by_username(conn, &name)?)).await?;
    let hash = user.as_ref().map_or(password::DUMMY_HASH, |u| u.password_hash.as_str()).to_owned();
    let ok = ctx.hashes.verify(pw.to_owned(), hash).await?;
    let (Some(user), true) = (user, ok) else {
        ctx.throttle.failed(username, address, clock());
        crate::telemetry::count(crate::telemetry::LOGIN_FAILURES, &[("reason", "credentials".to_owned())]);
        return Err(ApiError::Unauthorized);
    };
    ctx.throttle.succeeded(username);
    let role = role_of(&user).ok_or(ApiError::Unauthorized)?;
    let token = ctx.keys.issue(&user.id, &role, TokenKind::Session, &super::new_id(), clock() / 1000, SESSION_TTL_SECS)?;
    Ok((token, SESSION_TTL_SECS, user))
}

/// Ends the caller's session: its token is refused from now on.
pub fn logout(conn: &mut DbConn, user_id: &str, jti: &str, now: NaiveDateTime) -> Result<(), ApiError> {
    write_tx(conn, |conn| {
        let row = RevocationRow {
            id: super::new_id(),
            jti: Some(jti.to_owned()),
            user_id: user_id.to_owned(),
            revoked_by: user_id.to_owned(),
            revoked_at: now,
            expires_at: now + Duration::seconds(SESSION_TTL_SECS),
        };
        sessions::insert(conn, &row)?;
        sessions::purge_expired(conn, now)?;
        Ok(())
    })
}

/// Revokes every session of an account issued up to now (it must log in again).
/// Integration tokens are revoked one by one. Audited.
pub fn revoke_sessions(conn: &mut DbConn, actor: &str, user_id: &str, now: NaiveDateTime) -> Result<(), ApiError> {
    write_tx(conn, |conn| {
        if users::find(conn, user_id)?.is_none() {
            return Err(ApiError::NotFound("user"));
        }
        let row = RevocationRow {
            id: super::new_id(),
            jti: None,
            user_id: user_id.to_owned(),
            revoked_by: actor.to_owned(),
            revoked_at: now,
            expires_at: now + Duration::seconds(SESSION_TTL_SECS),
        };
        sessions::insert(conn, &row)?;
        super::audit(conn, actor, "user.sessions.revoke", ("user", user_id), None, None)
    })
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

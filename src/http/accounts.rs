//! Login, the caller's identity, and account/token administration.

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::body::JsonBody;
use crate::domain::account;
use crate::domain::role::Role;
use crate::error::Code;
use crate::error::{ApiError, Problem};
use crate::http::AppState;
use crate::http::AuthUser;
use crate::service::accounts;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_token)
        .service(logout)
        .service(get_me)
        .service(create_user)
        .service(revoke_user_sessions)
        .service(mint_integration_token)
        .service(revoke_integration_token);
}

/// Username and password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// A control character is a 422 (no account has one).
    #[schema(min_length = 1, max_length = 100, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$", example = "admin")]
    pub username: String,
    #[schema(min_length = 1, max_length = 200, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$")]
    pub password: String,
}

/// A bearer token.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the token expires.
    pub expires_in: i64,
}

/// Exchange a username and password for a bearer token (JWT, HS256).
///
/// Failed logins back off: after 5 failures in a row for one username, or 20 from one
/// client address, each further failure locks it for twice as long as the last (1 s,
/// 2 s, 4 s … at most 15 minutes), answered 429 with `Retry-After` without checking
/// the password; an hour without failures forgets them. An unknown username answers
/// and costs exactly as a wrong password does.
#[utoipa::path(
    tag = "auth",
    request_body = TokenRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong username or password", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing or unknown fields", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed logins for this username or address: retry after `Retry-After` seconds",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u32, description = "Seconds to wait"))),
        (status = 503, description = "Too many logins at once, or the database is busy: retry after `Retry-After` seconds",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
)]
#[post("/auth/token")]
pub async fn create_token(
    state: web::Data<AppState>,
    http: actix_web::HttpRequest,
    body: JsonBody<TokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let req = body.value;
    let address = http.peer_addr().map(|a| a.ip());
    let (token, expires_in, _) = accounts::login(&state.login_context(), &req.username, &req.password, address).await?;
    Ok(HttpResponse::Ok().json(TokenResponse { access_token: token, token_type: "Bearer".into(), expires_in }))
}

/// End the caller's session: its token is refused from now on (password-login sessions
/// only; integration tokens are revoked by an administrator).
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 204, description = "Logged out"),
        (status = 403, description = "An integration token: revoke it with POST /tokens/{jti}/revoke", body = Problem,
            content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/auth/logout")]
pub async fn logout(state: web::Data<AppState>, user: AuthUser) -> Result<HttpResponse, ApiError> {
    if user.kind != crate::auth::TokenKind::Session {
        return Err(ApiError::Forbidden("an integration token is revoked by an administrator (POST /tokens/{jti}/revoke)".into()));
    }
    state.db.run(move |conn| accounts::logout(conn, user.subject(), &user.jti, crate::service::now())).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Revoke every password-login session of an account (admin only): its tokens issued
/// until now are refused, and it must log in again.
#[utoipa::path(
    tag = "auth",
    params(("id" = String, Path, description = "The account's id")),
    responses(
        (status = 204, description = "Every session of the account revoked"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/users/{id}/sessions/revoke")]
pub async fn revoke_user_sessions(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    require_admin(&user)?;
    let id = id.into_inner();
    state.db.run(move |conn| accounts::revoke_sessions(conn, &user.actor(), &id, crate::service::now())).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Who the caller is.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    /// Token subject: a user id, or `token:JTI` for integration tokens.
    pub subject: String,
    /// `admin`, `province`, `prefecture`, `county`, `canteen` or `supplier`.
    pub role: String,
    /// Division code, school id or supplier id the role is scoped to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// `session` (password login) or `integration` (minted, revocable).
    pub token_kind: String,
}

/// The caller's identity, role and scope.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "The caller", body = MeResponse),
    ),
    security(("bearer" = [])),
)]
#[get("/me")]
pub async fn get_me(user: AuthUser) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(MeResponse {
        subject: user.subject().to_owned(),
        role: user.role().name().into(),
        scope: user.role().scope().map(str::to_owned),
        token_kind: match user.kind {
            crate::auth::TokenKind::Session => "session".into(),
            crate::auth::TokenKind::Integration => "integration".into(),
        },
    }))
}

/// A new account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    #[schema(pattern = r"^[A-Za-z0-9_.@-]{3,64}$", example = "nanming-bureau")]
    pub username: String,
    #[schema(pattern = r"^[^\x00-\x1F\x7F-\x9F]*$", min_length = 12, max_length = 200)]
    pub password: String,
    /// `admin`, `province`, `prefecture:CODE`, `county:CODE`, `canteen:SCHOOL_ID` or `supplier:SUPPLIER_ID`.
    #[schema(
        pattern = r"^(admin|province|(prefecture|county):[0-9]{6}|(canteen|supplier):[0-9a-fA-F-]{1,64})$",
        example = "county:520102"
    )]
    pub role: String,
}

/// An account.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserResponse {
    pub id: String,
    pub username: String,
    pub role: String,
}

fn parse_role(text: &str) -> Result<Role, ApiError> {
    Role::parse(text).ok_or_else(|| {
        ApiError::field(
            "role",
            Code::BadRole,
            "use admin, province, prefecture:CODE, county:CODE, canteen:SCHOOL_ID or supplier:SUPPLIER_ID",
        )
    })
}

/// A username as documented: 3–64 characters of `A–Z a–z 0–9 _ . @ -`.
fn check_username(name: &str) -> Result<(), ApiError> {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'@' | b'-');
    if !(3..=64).contains(&name.len()) || !name.bytes().all(allowed) {
        return Err(ApiError::field("username", Code::BadUsername, "3–64 characters of A–Z, a–z, 0–9, _, ., @ and -"));
    }
    Ok(())
}

fn require_admin(user: &AuthUser) -> Result<(), ApiError> {
    if user.administers() { Ok(()) } else { Err(ApiError::Forbidden("only an administrator may do this".into())) }
}

/// Create an account (admin only).
#[utoipa::path(
    tag = "auth",
    request_body = CreateUserRequest,
    responses(
        (status = 201, description = "Account created", body = UserResponse),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Username taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields or unknown scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/users")]
pub async fn create_user(state: web::Data<AppState>, user: AuthUser, body: JsonBody<CreateUserRequest>) -> Result<HttpResponse, ApiError> {
    require_admin(&user)?;
    let req = body.value;
    check_username(&req.username)?;
    let role = parse_role(&req.role)?;
    if !account::password_long_enough(&req.password) {
        return Err(ApiError::field("password", Code::TooShort, account::PASSWORD_TOO_SHORT));
    }
    let hash = state.hashes.hash(req.password).await?;
    let row = state.db.run(move |conn| accounts::add_user(conn, &user.actor(), &req.username, &hash, &role)).await?;
    let role = accounts::role_of(&row).map(|r| r.to_string()).unwrap_or_default();
    Ok(HttpResponse::Created().json(UserResponse { id: row.id, username: row.username, role }))
}

/// An integration token to mint.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MintTokenRequest {
    /// The role the token carries, e.g. `canteen:SCHOOL_ID` or `supplier:SUPPLIER_ID`.
    #[schema(pattern = r"^(admin|province|(prefecture|county):[0-9]{6}|(canteen|supplier):[0-9a-fA-F-]{1,64})$")]
    pub role: String,
    /// What the token is for (shown in listings and audit): not blank, one line.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F-\x9F]*$",
        example = "canteen app, kitchen tablet"
    )]
    pub label: String,
    /// Lifetime in days (1–1825, default 365).
    #[schema(minimum = 1, maximum = 1825)]
    pub days: Option<i64>,
}

/// A minted integration token: shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct MintedTokenResponse {
    pub jti: String,
    pub access_token: String,
    pub role: String,
    pub label: String,
    #[serde(with = "crate::service::views::timestamp::utc")]
    pub expires_at: chrono::NaiveDateTime,
}

/// Mint a long-lived, revocable integration token (admin only).
#[utoipa::path(
    tag = "auth",
    request_body = MintTokenRequest,
    responses(
        (status = 201, description = "Token minted", body = MintedTokenResponse),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields or unknown scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/tokens")]
pub async fn mint_integration_token(
    state: web::Data<AppState>,
    user: AuthUser,
    body: JsonBody<MintTokenRequest>,
) -> Result<HttpResponse, ApiError> {
    require_admin(&user)?;
    let req = body.value;
    let role = parse_role(&req.role)?;
    super::dto::check_text("label", &req.label, 200)?;
    let days = req.days.unwrap_or(account::DEFAULT_TOKEN_DAYS);
    if !account::token_days_allowed(days) {
        return Err(ApiError::field("days", Code::OutOfRange, account::TOKEN_DAYS_OUT_OF_RANGE));
    }
    let st = state.clone();
    let (token, row) = state
        .db
        .run(move |conn| accounts::mint_token(conn, &st.keys, &user.actor(), &role, &req.label, days, crate::service::now()))
        .await?;
    let role = match &row.scope {
        Some(s) => format!("{}:{s}", row.role),
        None => row.role.clone(),
    };
    Ok(HttpResponse::Created().json(MintedTokenResponse {
        jti: row.jti,
        access_token: token,
        role,
        label: row.label,
        expires_at: row.expires_at,
    }))
}

/// Revoke an integration token by its `jti` (admin only).
#[utoipa::path(
    tag = "auth",
    params(("jti" = String, Path, description = "The token's id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such active token", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/tokens/{jti}/revoke")]
pub async fn revoke_integration_token(
    state: web::Data<AppState>,
    user: AuthUser,
    jti: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    require_admin(&user)?;
    let jti = jti.into_inner();
    state.db.run(move |conn| accounts::revoke_token(conn, &user.actor(), &jti)).await?;
    Ok(HttpResponse::NoContent().finish())
}

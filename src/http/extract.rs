//! The signed-in caller as an extractor: a handler is protected by taking `AuthUser`.
//! Every token is also checked against the database: an integration token must be
//! known and not revoked; a session must not have been logged out or revoked with all
//! of its user's sessions. Services take the plain [`Caller`] it carries (an `&AuthUser`
//! is one, by `Deref`).

use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage as _, HttpRequest, web};

use super::AppState;
use crate::auth::TokenKind;
use crate::db::repo::{sessions, tokens};
use crate::domain::access::Caller;
use crate::domain::role::Role;
use crate::error::ApiError;

/// An authenticated caller, with the token it came with.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub caller: Caller,
    pub kind: TokenKind,
    pub jti: String,
}

impl Deref for AuthUser {
    type Target = Caller;

    fn deref(&self) -> &Caller {
        &self.caller
    }
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_owned);
        let req = req.clone();
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::Internal(anyhow::anyhow!("AppState not registered")))?;
            let claims = token.and_then(|t| state.keys.verify(&t)).ok_or(ApiError::Unauthorized)?;
            let role = Role::parse(&claims.role).ok_or(ApiError::Unauthorized)?;
            req.extensions_mut().insert(super::observe::CallerRole(role.name()));
            let (kind, jti, sub, iat) = (claims.kind, claims.jti.clone(), claims.sub.clone(), claims.iat);
            let active = state
                .db
                .run(move |conn| {
                    Ok(match kind {
                        TokenKind::Integration => tokens::is_active(conn, &jti)?,
                        TokenKind::Session => {
                            let issued_at = chrono::DateTime::from_timestamp(iat, 0).unwrap_or_default().naive_utc();
                            !sessions::is_revoked(conn, &jti, &sub, issued_at)?
                        }
                    })
                })
                .await?;
            if !active {
                return Err(ApiError::Unauthorized);
            }
            Ok(AuthUser { caller: Caller::new(claims.sub, role), kind: claims.kind, jti: claims.jti })
        })
    }
}

//! JWT issue and verification: HS256 pinned, `iss`/`aud`/`sub`/`exp`/`jti` required,
//! `nbf` checked when present (every token issued here carries it), policy built once.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

use crate::domain::role::Role;

/// Issuer written into and required from every token.
pub const ISSUER: &str = "canteen-ledger";
/// Audience written into and required from every token.
pub const AUDIENCE: &str = "canteen-ledger-api";

/// Shortest secret accepted: 32 bytes, the HS256 output size.
pub const MIN_SECRET_LEN: usize = 32;

/// Whether a token came from a password login or was minted for an integration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    Session,
    /// Long-lived, revocable by `jti` (checked against the database on every request).
    Integration,
}

/// The claims of every token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// User id for sessions; the token's own subject label for integrations.
    pub sub: String,
    pub exp: i64,
    /// Not valid before (Unix seconds). Tokens minted before it was written lack it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    pub iat: i64,
    pub jti: String,
    /// `role` or `role:scope`.
    pub role: String,
    pub kind: TokenKind,
}

/// Signing and verification keys with the validation policy.
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl JwtKeys {
    pub fn hs256(secret: &[u8]) -> anyhow::Result<Self> {
        if secret.len() < MIN_SECRET_LEN {
            anyhow::bail!("JWT secret must be at least {MIN_SECRET_LEN} bytes");
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 30;
        Ok(Self { encoding: EncodingKey::from_secret(secret)?, decoding: DecodingKey::from_secret(secret)?, validation })
    }

    /// Signs a token for `sub` with `role`, valid from `now` for `ttl_secs`.
    pub fn issue(&self, sub: &str, role: &Role, kind: TokenKind, jti: &str, now: i64, ttl_secs: i64) -> anyhow::Result<String> {
        let claims = Claims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: sub.into(),
            exp: now + ttl_secs,
            nbf: Some(now),
            iat: now,
            jti: jti.into(),
            role: role.to_string(),
            kind,
        };
        Ok(encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?)
    }

    /// Verifies signature, algorithm, issuer, audience, expiry and not-before.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let claims = decode::<Claims>(token, &self.decoding, &self.validation).ok()?.claims;
        (!claims.jti.is_empty()).then_some(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    #[test]
    fn an_issued_token_verifies_with_its_claims() {
        let keys = JwtKeys::hs256(SECRET).unwrap();
        let t = keys.issue("u1", &Role::County("520102".into()), TokenKind::Session, "j1", now(), 60).unwrap();
        let c = keys.verify(&t).unwrap();
        assert_eq!((c.sub.as_str(), c.role.as_str(), c.jti.as_str()), ("u1", "county:520102", "j1"));
    }

    #[test]
    fn expired_foreign_and_tampered_tokens_are_refused() {
        let keys = JwtKeys::hs256(SECRET).unwrap();
        let expired = keys.issue("u1", &Role::Admin, TokenKind::Session, "j", now() - 3600, 60).unwrap();
        assert!(keys.verify(&expired).is_none());
        let other = JwtKeys::hs256(b"another-secret-another-secret-123").unwrap();
        let foreign = other.issue("u1", &Role::Admin, TokenKind::Session, "j", now(), 60).unwrap();
        assert!(keys.verify(&foreign).is_none());
        let good = keys.issue("u1", &Role::Admin, TokenKind::Session, "j", now(), 60).unwrap();
        assert!(keys.verify(&format!("{good}x")).is_none());
    }

    #[test]
    fn the_none_algorithm_is_refused() {
        let keys = JwtKeys::hs256(SECRET).unwrap();
        // header {"alg":"none","typ":"JWT"}
        let payload = format!(
            r#"{{"iss":"{ISSUER}","aud":"{AUDIENCE}","sub":"u","exp":{},"iat":0,"jti":"j","role":"admin","kind":"session"}}"#,
            now() + 60
        );
        use base64::Engine as _;
        let body = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(payload);
        let token = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{body}.");
        assert!(keys.verify(&token).is_none());
    }

    #[test]
    fn a_token_not_valid_yet_is_refused_and_one_without_nbf_is_read() {
        let keys = JwtKeys::hs256(SECRET).unwrap();
        let sign = |nbf: Option<i64>| {
            let claims = Claims {
                iss: ISSUER.into(),
                aud: AUDIENCE.into(),
                sub: "u".into(),
                exp: now() + 3600,
                nbf,
                iat: now(),
                jti: "j".into(),
                role: "admin".into(),
                kind: TokenKind::Session,
            };
            encode(&Header::new(Algorithm::HS256), &claims, &keys.encoding).unwrap()
        };
        assert!(keys.verify(&sign(Some(now() + 600))).is_none(), "nbf ten minutes ahead");
        assert!(keys.verify(&sign(Some(now() + 10))).is_some(), "within the leeway");
        assert!(keys.verify(&sign(None)).is_some(), "integration tokens minted before nbf was written");
        let issued = keys.issue("u", &Role::Admin, TokenKind::Session, "j", now(), 60).unwrap();
        let c = keys.verify(&issued).unwrap();
        assert_eq!(c.nbf, Some(c.iat), "every issued token carries nbf");
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(JwtKeys::hs256(b"short").is_err());
    }
}

//! Authentication: JWT issue/verify, password hashing and the login throttle. Who may
//! see and do what is `domain::access`; the extractor that turns a bearer token into a
//! caller is `http::extract`.

pub mod jwt;
pub mod password;
pub mod throttle;

pub use jwt::{Claims, JwtKeys, TokenKind};

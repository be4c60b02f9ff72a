//! Authentication and authorization: roles with their scope, JWT issue/verify, password
//! hashing, and the `AuthUser` extractor. Scope checks live on `Role` so every handler
//! asks the same questions.

pub mod extract;
pub mod jwt;
pub mod password;
pub mod role;
pub mod throttle;

pub use extract::AuthUser;
pub use jwt::{Claims, JwtKeys, TokenKind};
pub use role::Role;

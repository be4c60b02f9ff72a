//! HTTP-level integration tests: the real app on a throw-away database, every database
//! test on both SQLite and PostgreSQL. One test binary.

mod helpers;

mod auth;
mod openapi;
mod purchases;
mod reports;

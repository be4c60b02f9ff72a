//! Persistence only: each function takes `&mut DbConn`, returns `QueryResult`, and never
//! touches the pool, the clock or HTTP types. Imports only `db`.

pub mod aggregates;
pub mod audit;
pub mod bulk;
pub mod deliveries;
pub mod figures;
pub mod idempotency;
pub mod imports;
pub mod purchases;
pub mod reference;
pub mod reporting;
pub mod reports;
pub mod schools;
pub mod sessions;
pub mod settlement;
pub mod submissions;
pub mod suppliers;
pub mod targets;
pub mod tokens;
pub mod users;
pub mod webhooks;

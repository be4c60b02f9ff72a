//! Use cases: each public function is one unit of work (one transaction where it
//! writes), combining `domain` rules with `db::repo` persistence. May import `domain`,
//! `db`, `auth` and `error`; never `http`.

pub mod accounts;
pub mod aggregates;
pub mod batch;
pub mod deliveries;
pub mod imports;
pub mod purchases;
pub mod qualify;
pub mod record;
pub mod reference;
pub mod reporting;
pub mod reports;
pub mod schools;
pub mod settlement;
pub mod submissions;
pub mod suppliers;
pub mod targets;
pub mod views;
pub mod webhooks;

use chrono::{NaiveDateTime, Timelike, Utc};
use serde::Serialize;

use crate::db::DbConn;
use crate::db::repo::audit::{self, AuditRow};
use crate::error::ApiError;

/// The current time, truncated to microseconds so it survives both backends unchanged
/// (it is hashed into the ledger chain).
pub fn now() -> NaiveDateTime {
    let t = Utc::now().naive_utc();
    t.with_nanosecond(t.nanosecond() / 1_000 * 1_000).unwrap_or(t)
}

/// A new time-ordered identifier (UUIDv7).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Writes one audit row with the subject's state before and after the change.
pub fn audit(
    conn: &mut DbConn,
    actor: &str,
    action: &str,
    subject: (&str, &str),
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> Result<(), ApiError> {
    audit::insert(conn, &audit_row(actor, action, subject, before, after))?;
    Ok(())
}

/// The audit row [`audit`] writes, for writing many at once.
pub fn audit_row(
    actor: &str,
    action: &str,
    subject: (&str, &str),
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> AuditRow {
    AuditRow {
        id: new_id(),
        at: now(),
        actor: actor.to_owned(),
        action: action.to_owned(),
        subject_type: subject.0.to_owned(),
        subject_id: subject.1.to_owned(),
        before_json: before.map(|v| v.to_string()),
        after_json: after.map(|v| v.to_string()),
    }
}

/// Any serializable value as JSON for an audit row.
pub fn json<T: Serialize>(value: &T) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(value).map_err(|e| ApiError::Internal(e.into()))
}

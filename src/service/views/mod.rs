//! The answers a use case stores with what it writes, to replay them on a retry with the
//! same key: the views of a ledger entry, a correction, a delivery and an import, and the
//! wire conventions they share (money in yuan, mass in kg, timestamps in UTC). They are
//! here, below `http/`, because the answer is stored inside the use case's transaction, so
//! the use case renders it itself; `http/` answers with the same types, whose OpenAPI
//! schemas these are.

pub mod decimal;
pub mod delivery;
pub mod import;
pub mod purchase;
pub mod timestamp;

use serde::Serialize;

use crate::error::ApiError;

/// A view as the JSON text that is stored and answered.
pub fn body<T: Serialize>(view: &T) -> Result<String, ApiError> {
    serde_json::to_string(view).map_err(|e| ApiError::Internal(e.into()))
}

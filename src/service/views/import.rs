//! The view of an import, as `POST /imports` answers it and stores it for the upload of
//! the same file again.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::service::imports::ImportSummary;

/// The result of an import.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ImportResponse {
    pub import_id: String,
    /// The caller's school, which every purchase was recorded for.
    pub school_id: String,
    pub file_name: String,
    /// `csv` or `xlsx`.
    #[schema(pattern = "^(csv|xlsx)$")]
    pub format: String,
    /// SHA-256 of the file's bytes (hex): the same file is imported only once per school.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub file_sha256: String,
    /// Data rows read (purchase lines; blank rows are skipped).
    pub rows: usize,
    /// Purchases recorded (rows grouped by supplier, date and invoice number).
    pub purchases: usize,
    /// The recorded purchases, in the order of their first row.
    pub purchase_ids: Vec<String>,
    /// `true` when this is the stored result of an earlier upload of the same file, and
    /// nothing was written now.
    pub replayed: bool,
}

impl From<&ImportSummary> for ImportResponse {
    fn from(s: &ImportSummary) -> Self {
        Self {
            import_id: s.import_id.clone(),
            school_id: s.school_id.clone(),
            file_name: s.file_name.clone(),
            format: s.format.to_owned(),
            file_sha256: s.file_sha256.clone(),
            rows: s.rows,
            purchases: s.purchase_ids.len(),
            purchase_ids: s.purchase_ids.clone(),
            replayed: false,
        }
    }
}

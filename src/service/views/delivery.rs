//! The view of a pushed delivery, as the delivery routes answer and as a push stores it
//! under its idempotency key.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::decimal::yuan;
use super::purchase::LineRequest;
use crate::db::repo::deliveries::DeliveryRow;
use crate::domain::catalog::DeliveryStatus as Stored;

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Awaiting the canteen.
    Pending,
    /// The canteen confirmed it; `purchase_id` is the purchase.
    Confirmed,
    /// The canteen disputed it; nothing was recorded.
    Disputed,
}

/// A pushed delivery.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeliveryResponse {
    pub id: String,
    pub supplier_id: String,
    pub school_id: String,
    pub delivery_date: NaiveDate,
    pub reference: String,
    pub invoice_no: Option<String>,
    #[schema(value_type = String, example = "45.90")]
    pub total: Decimal,
    /// The lines as pushed (the form `POST /purchases` takes).
    #[schema(value_type = Vec<LineRequest>)]
    pub lines: serde_json::Value,
    pub status: DeliveryStatus,
    pub purchase_id: Option<String>,
    pub dispute_reason: Option<String>,
    #[serde(with = "super::timestamp::utc")]
    pub pushed_at: chrono::NaiveDateTime,
    #[serde(default, with = "super::timestamp::utc_opt")]
    pub resolved_at: Option<chrono::NaiveDateTime>,
}

impl From<DeliveryRow> for DeliveryResponse {
    fn from(d: DeliveryRow) -> Self {
        let body: serde_json::Value = serde_json::from_str(&d.purchase_body).unwrap_or_default();
        let status = match d.status {
            Stored::Pending => DeliveryStatus::Pending,
            Stored::Confirmed => DeliveryStatus::Confirmed,
            Stored::Disputed => DeliveryStatus::Disputed,
        };
        Self {
            invoice_no: body.get("invoice_no").and_then(|v| v.as_str()).map(str::to_owned),
            lines: body.get("lines").cloned().unwrap_or_default(),
            total: yuan(d.total_fen),
            id: d.id,
            supplier_id: d.supplier_id,
            school_id: d.school_id,
            delivery_date: d.delivery_date,
            reference: d.reference,
            status,
            purchase_id: d.purchase_id,
            dispute_reason: d.dispute_reason,
            pushed_at: d.pushed_at,
            resolved_at: d.resolved_at,
        }
    }
}

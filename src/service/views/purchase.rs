//! The view of a ledger entry (`PurchaseResponse`, and a correction's pair of them), as
//! every purchase route answers and as a create, a void or a correction stores it under
//! its idempotency key; and the line of a purchase as sent (`LineRequest`), which a
//! delivery's view shows.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::decimal::{kg, yuan};
use crate::db::repo::purchases::{FullPurchase, LineRow};
use crate::domain::catalog::{Category, ConfirmationState as Stored, EntryKind, QualificationClass, Tag, Unit};
use crate::domain::settlement::{self, PaymentState};
use crate::error::ApiError;

/// One line of a purchase as sent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineRequest {
    pub category: Category,
    #[schema(
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F-\x9F]*$",
        min_length = 1,
        max_length = 200,
        example = "大白菜"
    )]
    pub description: String,
    /// Positive, at most 3 decimal places, as a string.
    #[schema(value_type = String, pattern = r"^(?!0*(\.0*)?$)[0-9]{1,9}(\.[0-9]{1,3})?$", example = "25.5")]
    #[serde(deserialize_with = "super::decimal::quantity")]
    pub quantity: Decimal,
    pub unit: Unit,
    /// Yuan per unit, more than 0, at most 4 decimal places, as a string. The line's
    /// amount (quantity × unit price, rounded to the fen) must be at least 0.01
    /// (`zero_amount` otherwise).
    #[schema(value_type = String, pattern = r"^(?!0*(\.0*)?$)[0-9]{1,11}(\.[0-9]{1,4})?$", example = "1.80")]
    #[serde(deserialize_with = "super::decimal::unit_price")]
    pub unit_price: Decimal,
    /// Yuan, at most 2 places. Optional: the ledger stores quantity × unit price rounded
    /// half away from zero to the fen; a sent amount more than 0.01 off is a 422.
    #[schema(value_type = Option<String>, pattern = r"^(?!0*(\.0*)?$)[0-9]{1,15}(\.[0-9]{1,2})?$", example = "45.90")]
    #[serde(default, deserialize_with = "super::decimal::optional_amount")]
    pub amount: Option<Decimal>,
}

/// A stored line.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LineResponse {
    pub line_no: i32,
    pub category: Category,
    pub description: String,
    /// Negative on a void entry.
    #[schema(value_type = String, example = "25.500")]
    pub quantity: Decimal,
    pub unit: Unit,
    #[schema(value_type = String, example = "1.8000")]
    pub unit_price: Decimal,
    #[schema(value_type = String, example = "45.90")]
    pub amount: Decimal,
    /// Mass in kg for mass units (斤 = 0.5 kg, 两 = 50 g), absent otherwise.
    #[schema(value_type = Option<String>, example = "12.750")]
    pub weight_kg: Option<Decimal>,
}

/// How a purchase counts toward the target.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct QualificationResponse {
    /// `qualifying` (counts), `pending` (a declared tag awaits verification) or `none`.
    #[schema(pattern = "^(qualifying|pending|none)$")]
    pub class: String,
    /// The tag it is attributed to, if any.
    pub tag: Option<Tag>,
    /// Policy version applied, e.g. `gz-2019`.
    pub policy: String,
}

/// A ledger entry.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PurchaseResponse {
    pub id: String,
    /// `entry` (a purchase) or `void` (a reversal of one).
    #[schema(pattern = "^(entry|void)$")]
    pub kind: String,
    /// For entries: `active`, or `voided` once reversed.
    #[schema(pattern = "^(active|voided|reversal)$")]
    pub status: String,
    pub school_id: String,
    /// The school's name, next to its id.
    pub school_name: String,
    pub county_code: String,
    pub supplier_id: String,
    /// The supplier's name, next to its id.
    pub supplier_name: String,
    pub purchase_date: NaiveDate,
    pub invoice_no: Option<String>,
    /// Yuan; negative on a void entry.
    #[schema(value_type = String, example = "45.90")]
    pub total: Decimal,
    pub lines: Vec<LineResponse>,
    pub qualification: QualificationResponse,
    /// For a void entry: the purchase it reverses.
    pub voids_id: Option<String>,
    pub void_reason: Option<String>,
    /// For a voided entry: the void entry.
    pub voided_by: Option<String>,
    /// For an entry recorded by `POST /purchases/{id}/correct`: the entry it corrects
    /// (voided in the same transaction).
    pub corrects_id: Option<String>,
    /// Position in the school's hash chain.
    pub seq: i64,
    pub prev_hash: String,
    pub hash: String,
    pub recorded_by: String,
    #[serde(with = "super::timestamp::utc")]
    pub recorded_at: chrono::NaiveDateTime,
    /// The second party's word on an entry (`null` on a void entry). A replayed create
    /// returns the state at the time of the first request; read the purchase for the current one.
    pub confirmation: Option<ConfirmationResponse>,
    /// Payment of an entry (`null` on a void entry), as of the response.
    pub payment: Option<PaymentStatus>,
    /// Recorded after its county submitted the half-month of its date (补录): never
    /// refused, shown in that submission's drift and in the county's next submission under
    /// `adjustments`.
    pub late_entry: bool,
}

/// Two-party confirmation state of a purchase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConfirmationState {
    /// Recorded by the canteen; the supplier has not acknowledged it yet.
    Unconfirmed,
    /// Both parties agree: the canteen confirmed the supplier's delivery, or the supplier
    /// acknowledged the canteen's entry.
    Confirmed,
    /// The supplier disputes the canteen's entry.
    Disputed,
}

/// The second party's word on a purchase.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConfirmationResponse {
    pub state: ConfirmationState,
    /// `delivery` (the canteen confirmed the supplier's delivery) or `supplier` (the
    /// supplier acknowledged or disputed the canteen's entry); absent while unconfirmed.
    #[schema(pattern = "^(delivery|supplier)$")]
    pub via: Option<String>,
    pub delivery_id: Option<String>,
    /// The supplier's reason for a dispute.
    pub reason: Option<String>,
    #[serde(default, with = "super::timestamp::utc_opt")]
    pub decided_at: Option<chrono::NaiveDateTime>,
}

/// How much of a purchase has been paid, and when the rest is due.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PaymentStatus {
    #[schema(value_type = String, example = "20.00")]
    pub paid: Decimal,
    #[schema(value_type = String, example = "25.90")]
    pub unpaid: Decimal,
    /// Purchase date plus the supplier's payment terms (30 days unless registered otherwise).
    pub due_date: NaiveDate,
    pub state: PaymentState,
    /// Unpaid after the due date (China Standard Time).
    pub overdue: bool,
}

fn confirmation(f: &FullPurchase) -> Option<ConfirmationResponse> {
    if f.purchase.kind != EntryKind::Entry {
        return None;
    }
    Some(match &f.confirmation {
        None => {
            ConfirmationResponse { state: ConfirmationState::Unconfirmed, via: None, delivery_id: None, reason: None, decided_at: None }
        }
        Some(c) => ConfirmationResponse {
            state: match c.state {
                Stored::Confirmed => ConfirmationState::Confirmed,
                Stored::Disputed => ConfirmationState::Disputed,
            },
            via: Some(c.via.as_str().to_owned()),
            delivery_id: c.delivery_id.clone(),
            reason: c.reason.clone(),
            decided_at: Some(c.decided_at),
        },
    })
}

/// The payment state of an entry as of `today`.
pub fn payment_status(f: &FullPurchase, today: NaiveDate) -> Option<PaymentStatus> {
    if f.purchase.kind != EntryKind::Entry {
        return None;
    }
    let entry = settlement::Entry {
        purchase_date: f.purchase.purchase_date,
        terms_days: f.terms_days,
        total_fen: f.purchase.total_fen,
        paid_fen: f.paid_fen,
        voided: f.voided_by.is_some(),
    };
    let p = entry.payment(today);
    Some(PaymentStatus { paid: yuan(p.paid_fen), unpaid: yuan(p.unpaid_fen), due_date: p.due_date, state: p.state, overdue: p.overdue })
}

fn line(l: LineRow) -> LineResponse {
    LineResponse {
        line_no: l.line_no,
        category: l.category,
        description: l.description,
        quantity: Decimal::new(l.quantity_milli, 3),
        unit: l.unit,
        unit_price: Decimal::new(l.unit_price_e4, 4),
        amount: yuan(l.amount_fen),
        weight_kg: l.mass_mg.map(kg),
    }
}

impl PurchaseResponse {
    /// The view of a stored entry, its payment as of `today` (the business date).
    pub fn at(f: FullPurchase, today: NaiveDate) -> Self {
        let confirmation = confirmation(&f);
        let payment = payment_status(&f, today);
        let late_entry = crate::domain::submission::is_late_entry(f.purchase.seq, f.frozen_head);
        let p = f.purchase;
        let q = f.qualification;
        let status = match (p.kind, &f.voided_by) {
            (EntryKind::Void, _) => "reversal",
            (_, Some(_)) => "voided",
            _ => "active",
        };
        Self {
            status: status.into(),
            qualification: QualificationResponse {
                class: q.as_ref().map_or(QualificationClass::None, |q| q.class).as_str().to_owned(),
                tag: q.as_ref().and_then(|q| q.tag),
                policy: q.map(|q| q.policy_version).unwrap_or_default(),
            },
            voided_by: f.voided_by.map(|v| v.id),
            lines: f.lines.into_iter().map(line).collect(),
            total: yuan(p.total_fen),
            id: p.id,
            kind: p.kind.as_str().to_owned(),
            school_id: p.school_id,
            school_name: f.school_name,
            county_code: p.county_code,
            supplier_id: p.supplier_id,
            supplier_name: f.supplier_name,
            purchase_date: p.purchase_date,
            invoice_no: p.invoice_no,
            voids_id: p.voids_id,
            void_reason: p.void_reason,
            corrects_id: p.corrects_id,
            seq: p.seq,
            prev_hash: p.prev_hash,
            hash: p.hash,
            recorded_by: p.recorded_by,
            recorded_at: p.recorded_at,
            confirmation,
            payment,
            late_entry,
        }
    }
}

/// What a correction recorded: the reversal of the corrected entry and the new entry.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CorrectionResponse {
    /// The reversal of the corrected entry (`voids_id` names it).
    pub void: PurchaseResponse,
    /// The new entry (`corrects_id` names the corrected entry), chained right after the reversal.
    pub purchase: PurchaseResponse,
}

/// The body stored under a recorded entry's key (and replayed on retries): what the
/// request that recorded it answers.
#[derive(Debug, Clone, Copy)]
pub enum Answer<'a> {
    /// `POST /purchases`, a batch item, an import row: the entry, its payment as of `today`.
    Entry { today: NaiveDate },
    /// `POST /purchases/{id}/correct`: the reversal `void` and the new entry.
    Correction { void: &'a FullPurchase, today: NaiveDate },
    /// Nothing is stored: the items carry no key (a delivery confirmation).
    Unkeyed,
}

impl Answer<'_> {
    /// The answer for `entry` as it is about to be stored.
    pub fn render(self, entry: &FullPurchase) -> Result<String, ApiError> {
        match self {
            Self::Entry { today } => super::body(&PurchaseResponse::at(entry.clone(), today)),
            Self::Correction { void, today } => super::body(&CorrectionResponse {
                void: PurchaseResponse::at(void.clone(), today),
                purchase: PurchaseResponse::at(entry.clone(), today),
            }),
            Self::Unkeyed => Err(ApiError::Internal(anyhow::anyhow!("an item with a key was recorded without an answer to store"))),
        }
    }
}

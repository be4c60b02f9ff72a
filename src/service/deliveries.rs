//! Deliveries pushed by a supplier's own system, and the canteen's confirmation of them:
//! confirming creates the purchase (confirmed by both parties) or links one the canteen
//! already recorded, with the amounts compared; disputing records the reason.

use super::purchases::{IdempotentRequest, NewPurchase, Recorded, diff_fields};
use super::record::{self, Done, Item};
use crate::db::repo::deliveries::{self, DeliveryFilter, DeliveryRow};
use crate::db::repo::purchases::{self, ConfirmationRow, FullPurchase};
use crate::db::repo::schools;
use crate::db::{DbConn, write_tx};
use crate::domain::access::{Caller, SchoolSet, TradeSet};
use crate::domain::catalog::{ConfirmationState, ConfirmationVia, DeliveryStatus, EntryKind};
use crate::domain::webhook;
use crate::error::ApiError;
use crate::error::Code;
use crate::error::ProblemType;
use crate::service::views::{self, delivery::DeliveryResponse, purchase::Answer};
use crate::service::{aggregates, webhooks};

/// A validated delivery: the purchase it becomes once confirmed, and the supplier's reference.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub reference: String,
    pub purchase: NewPurchase,
    /// The purchase body (`POST /purchases` form) the confirmation will record.
    pub purchase_body: serde_json::Value,
}

fn supplier_of(user: &Caller) -> Result<&str, ApiError> {
    user.supplier().ok_or_else(|| ApiError::Forbidden("only a supplier integration pushes deliveries".into()))
}

/// The stored answer to an earlier push with this key, or a 409 if the body differs.
fn replay(conn: &mut DbConn, supplier_id: &str, req: &IdempotentRequest) -> Result<Option<Recorded>, ApiError> {
    let Some(d) = deliveries::find_by_key(conn, supplier_id, &req.key)? else { return Ok(None) };
    if d.request_hash != req.hash() {
        let before: serde_json::Value = serde_json::from_str(&d.request_body).unwrap_or_default();
        let fields = diff_fields(&before, &req.body());
        return Err(ApiError::Conflict {
            slug: ProblemType::IdempotencyKeyReused,
            detail: format!("Idempotency-Key {:?} was already used with a different delivery", req.key),
            errors: fields,
        });
    }
    Ok(Some(Recorded::Replayed { status: 201, body: d.response_body }))
}

/// Pushes a delivery to a school (the caller is the supplier), idempotently. The answer
/// (the delivery's view) is stored under the key.
pub fn push(conn: &mut DbConn, user: &Caller, new: NewDelivery, req: &IdempotentRequest) -> Result<Recorded, ApiError> {
    let supplier_id = supplier_of(user)?.to_owned();
    if let Some(done) = replay(conn, &supplier_id, req)? {
        return Ok(done);
    }
    let outcome = write_tx(conn, |conn| {
        if let Some(done) = replay(conn, &supplier_id, req)? {
            return Ok(done);
        }
        if schools::find(conn, &new.purchase.school_id)?.is_none() {
            return Err(ApiError::field("school_id", Code::UnknownSchool, "no such school"));
        }
        let mut row = DeliveryRow {
            id: super::new_id(),
            supplier_id: supplier_id.clone(),
            school_id: new.purchase.school_id.clone(),
            delivery_date: new.purchase.draft.purchase_date,
            reference: new.reference.clone(),
            total_fen: new.purchase.draft.total.fen(),
            status: DeliveryStatus::Pending,
            purchase_id: None,
            dispute_reason: None,
            idem_key: req.key.clone(),
            request_hash: req.hash(),
            request_body: req.canonical().to_owned(),
            response_body: String::new(),
            purchase_body: new.purchase_body.to_string(),
            pushed_by: user.actor(),
            pushed_at: super::now(),
            resolved_by: None,
            resolved_at: None,
        };
        row.response_body = views::body(&DeliveryResponse::from(row.clone()))?;
        deliveries::insert(conn, &row)?;
        super::audit(
            conn,
            &user.actor(),
            "delivery.push",
            ("delivery", &row.id),
            None,
            Some(serde_json::json!({"school_id": row.school_id, "reference": row.reference, "total_fen": row.total_fen})),
        )?;
        Ok(Recorded::Created(row.response_body))
    });
    match outcome {
        // A concurrent push with the same key won the unique constraint: answer as it did.
        Err(ApiError::Conflict { slug: ProblemType::Conflict, .. }) => replay(conn, &supplier_id, req)?
            .ok_or_else(|| ApiError::conflict(ProblemType::Conflict, "a concurrent push with this key failed")),
        other => other,
    }
}

/// Whether the caller may read the delivery: its supplier, the school's canteen, and
/// bureaus whose scope holds the school.
fn may_read(conn: &mut DbConn, user: &Caller, d: &DeliveryRow) -> Result<bool, ApiError> {
    user.scope().may_read_trade(&d.supplier_id, || Ok(schools::find(conn, &d.school_id)?.as_ref().map(super::schools::place)))
}

/// A delivery the caller may read; anything else is "not found".
pub fn get(conn: &mut DbConn, user: &Caller, id: &str) -> Result<DeliveryRow, ApiError> {
    let d = deliveries::find(conn, id)?.ok_or(ApiError::NotFound("delivery"))?;
    if may_read(conn, user, &d)? { Ok(d) } else { Err(ApiError::NotFound("delivery")) }
}

/// What a caller asked to list.
#[derive(Debug, Clone, Default)]
pub struct ListRequest {
    pub status: Option<DeliveryStatus>,
    pub school_id: Option<String>,
    pub after_id: Option<String>,
    pub limit: i64,
}

/// Deliveries in the caller's scope: a supplier's own, a canteen's school's, a bureau's
/// schools'. A `school_id` filter outside the scope is a 403.
pub fn list(conn: &mut DbConn, user: &Caller, req: ListRequest) -> Result<Vec<DeliveryRow>, ApiError> {
    let mut f = DeliveryFilter { status: req.status, after_id: req.after_id, limit: req.limit, ..DeliveryFilter::default() };
    if let Some(sid) = &req.school_id {
        let visible = user
            .scope()
            .may_narrow_trades_to_school(|| Ok::<_, ApiError>(schools::find(conn, sid)?.as_ref().map(super::schools::place)))?;
        if !visible {
            return Err(ApiError::Forbidden("the filter is outside your scope".into()));
        }
        f.school_id = Some(sid.clone());
    }
    narrow(&mut f, user.scope().trades());
    Ok(deliveries::list(conn, &f)?)
}

/// Narrows a delivery filter to the trades a caller's lists hold.
fn narrow(f: &mut DeliveryFilter, set: TradeSet<'_>) {
    match set {
        TradeSet::Schools(SchoolSet::All) => {}
        TradeSet::Schools(SchoolSet::Prefecture(p)) => f.prefecture_code = Some(p.to_owned()),
        TradeSet::Schools(SchoolSet::County(c)) => f.county_code = Some(c.to_owned()),
        TradeSet::Schools(SchoolSet::School(s)) => f.school_id = Some(s.to_owned()),
        TradeSet::Supplier(s) => f.supplier_id = Some(s.to_owned()),
    }
}

/// Loads a pending delivery for the canteen of its school, with the school's chain head
/// locked (so a confirmation, a void and a payment of one school never interleave).
fn pending_for_canteen(conn: &mut DbConn, user: &Caller, id: &str) -> Result<(DeliveryRow, (i64, String)), ApiError> {
    let d = get(conn, user, id)?;
    if !user.may_write_ledger_of(&d.school_id) {
        return Err(ApiError::Forbidden("only the receiving school's canteen confirms or disputes a delivery".into()));
    }
    let head = schools::lock_for_write(conn, &d.school_id, &[d.supplier_id.as_str()])?.ok_or(ApiError::NotFound("school"))?;
    let d = deliveries::find(conn, id)?.ok_or(ApiError::NotFound("delivery"))?;
    if d.status != DeliveryStatus::Pending {
        return Err(ApiError::conflict(ProblemType::AlreadyResolved, format!("this delivery is already {}", d.status)));
    }
    Ok((d, head))
}

/// How the canteen confirms a delivery.
#[derive(Debug)]
pub enum Confirmation {
    /// Record the delivery as a purchase: what its stored purchase body (`DeliveryRow::purchase_body`)
    /// parses to. A body that no longer parses fails the confirmation only once the caller and
    /// the delivery's state have been checked, as any other failure to record.
    Record(Result<NewPurchase, ApiError>),
    /// Confirm this purchase, which the canteen already recorded.
    Link(String),
}

/// The canteen confirms a delivery: records it as a purchase confirmed by both parties,
/// or (with [`Confirmation::Link`]) confirms a purchase it already recorded for the same
/// supplier, whose total must equal the delivery's.
pub fn confirm(conn: &mut DbConn, user: &Caller, id: &str, how: Confirmation) -> Result<(DeliveryRow, FullPurchase), ApiError> {
    write_tx(conn, |conn| {
        let (d, head) = pending_for_canteen(conn, user, id)?;
        let linked = matches!(how, Confirmation::Link(_));
        let purchase = match how {
            Confirmation::Record(new) => {
                let item = Item { new: new?, req: None, delivery: Some(d.id.clone()), corrects: None };
                match record::record_one(conn, user, head, item, Answer::Unkeyed)? {
                    Done::Created { entry, .. } => *entry,
                    // An item without a key has nothing to replay.
                    Done::Replayed { .. } => return Err(ApiError::Internal(anyhow::anyhow!("a confirmation was replayed"))),
                }
            }
            Confirmation::Link(pid) => link_purchase(conn, user, &d, &pid)?,
        };
        let now = super::now();
        deliveries::resolve(conn, &d.id, DeliveryStatus::Confirmed, Some(&purchase.purchase.id), None, &user.actor(), now)?;
        super::audit(
            conn,
            &user.actor(),
            "delivery.confirm",
            ("delivery", &d.id),
            Some(serde_json::json!({"status": DeliveryStatus::Pending})),
            Some(serde_json::json!({"status": DeliveryStatus::Confirmed, "purchase_id": purchase.purchase.id, "linked": linked})),
        )?;
        let mut payload = webhooks::purchase_payload(&purchase.purchase);
        payload["via"] = ConfirmationVia::Delivery.as_str().into();
        payload["delivery_id"] = d.id.clone().into();
        webhooks::emit(conn, &d.supplier_id, webhook::PURCHASE_CONFIRMED, payload)?;
        let d = deliveries::find(conn, &d.id)?.ok_or(ApiError::NotFound("delivery"))?;
        Ok((d, purchase))
    })
}

/// Confirms an existing purchase through delivery `d` (same school and supplier, an
/// active entry not yet confirmed or disputed, the same total).
fn link_purchase(conn: &mut DbConn, user: &Caller, d: &DeliveryRow, purchase_id: &str) -> Result<FullPurchase, ApiError> {
    let not_linkable = |why: &str| ApiError::field("purchase_id", Code::NotLinkable, why.to_owned());
    let mut p = purchases::find(conn, purchase_id)?.ok_or_else(|| not_linkable("no such purchase"))?;
    let row = &p.purchase;
    if row.school_id != d.school_id || row.supplier_id != d.supplier_id {
        return Err(not_linkable("the purchase must be from the delivery's supplier to the delivery's school"));
    }
    if row.kind != EntryKind::Entry || p.voided_by.is_some() {
        return Err(not_linkable("only an active purchase (not a void, not voided) can be confirmed"));
    }
    if p.confirmation.is_some() || deliveries::of_purchase(conn, &row.id)?.is_some() {
        return Err(ApiError::conflict(ProblemType::AlreadyDecided, "this purchase is already confirmed or disputed"));
    }
    if row.total_fen != d.total_fen {
        return Err(ApiError::conflict(
            ProblemType::AmountsDiffer,
            format!(
                "the delivery totals {} yuan but the purchase totals {} yuan; void and re-record the purchase, or dispute the delivery",
                crate::domain::money::fen_to_decimal(d.total_fen),
                crate::domain::money::fen_to_decimal(row.total_fen)
            ),
        ));
    }
    let c = ConfirmationRow {
        purchase_id: row.id.clone(),
        state: ConfirmationState::Confirmed,
        via: ConfirmationVia::Delivery,
        delivery_id: Some(d.id.clone()),
        reason: None,
        decided_by: user.actor(),
        decided_at: super::now(),
    };
    purchases::insert_confirmation(conn, &c)?;
    aggregates::confirm(conn, &p.purchase, &p.lines, super::settlement::qualification_of(&p)?)?;
    p.confirmation = Some(c);
    Ok(p)
}

/// The canteen disputes a delivery (nothing is recorded in the ledger).
pub fn dispute(conn: &mut DbConn, user: &Caller, id: &str, reason: &str) -> Result<DeliveryRow, ApiError> {
    write_tx(conn, |conn| {
        let (d, _head) = pending_for_canteen(conn, user, id)?;
        deliveries::resolve(conn, &d.id, DeliveryStatus::Disputed, None, Some(reason), &user.actor(), super::now())?;
        super::audit(
            conn,
            &user.actor(),
            "delivery.dispute",
            ("delivery", &d.id),
            Some(serde_json::json!({"status": DeliveryStatus::Pending})),
            Some(serde_json::json!({"status": DeliveryStatus::Disputed, "reason": reason})),
        )?;
        let payload = serde_json::json!({
            "id": d.id, "school_id": d.school_id, "supplier_id": d.supplier_id, "delivery_date": d.delivery_date,
            "reference": d.reference, "total": crate::domain::money::fen_to_decimal(d.total_fen).to_string(), "reason": reason,
        });
        webhooks::emit(conn, &d.supplier_id, webhook::DELIVERY_DISPUTED, payload)?;
        deliveries::find(conn, &d.id)?.ok_or(ApiError::NotFound("delivery"))
    })
}

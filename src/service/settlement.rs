//! After a purchase is recorded: the supplier's acknowledgement (or dispute) of a
//! canteen's entry, payments against it, and the list of what is overdue.

use chrono::NaiveDate;

use super::purchases::visible;
use crate::db::repo::purchases::{self, ConfirmationRow, FullPurchase, PaymentRow};
use crate::db::repo::{reference, schools, settlement};
use crate::db::{DbConn, write_tx};
use crate::domain::access::Caller;
use crate::domain::catalog::{ConfirmationState, ConfirmationVia, EntryKind};
use crate::domain::money::fen_to_decimal;
use crate::domain::qualification::Qualification;
use crate::domain::settlement::due_date;
use crate::domain::webhook;
use crate::error::ApiError;
use crate::error::Code;
use crate::error::ProblemType;
use crate::service::{aggregates, webhooks};

/// The party to a purchase that acts on it after it is recorded.
#[derive(Debug, Clone, Copy)]
enum Party {
    /// Its supplier, who acknowledges or disputes it.
    Supplier,
    /// Its school's canteen, which pays it.
    Canteen,
}

impl Party {
    /// Whether `user` is this party to `p` (`domain::access` decides).
    fn is(self, user: &Caller, p: &FullPurchase) -> bool {
        match self {
            Self::Supplier => user.may_acknowledge_purchases_of(&p.purchase.supplier_id),
            Self::Canteen => user.may_write_ledger_of(&p.purchase.school_id),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Supplier => "the purchase's supplier",
            Self::Canteen => "the school's canteen",
        }
    }
}

/// An active entry (not a void, not voided) of `user`'s scope that `user` is the `party`
/// to, re-read under the school's chain-head lock so a void, a confirmation and a payment
/// of one school never interleave.
fn active_locked(conn: &mut DbConn, user: &Caller, id: &str, party: Party) -> Result<FullPurchase, ApiError> {
    let seen = visible(conn, user, id)?;
    if !party.is(user, &seen) {
        return Err(ApiError::Forbidden(format!("only {} may do this", party.name())));
    }
    schools::lock_head(conn, &seen.purchase.school_id)?.ok_or(ApiError::NotFound("school"))?;
    let p = purchases::find(conn, id)?.ok_or(ApiError::NotFound("purchase"))?;
    if p.purchase.kind != EntryKind::Entry {
        return Err(ApiError::conflict(ProblemType::NotAnEntry, "a void entry cannot be confirmed or paid"));
    }
    if p.voided_by.is_some() {
        return Err(ApiError::conflict(ProblemType::Voided, "this purchase has been voided"));
    }
    Ok(p)
}

/// How a stored purchase counts (`NotQualifying` if it has no qualification row).
/// A stored class contradicting its tag is corruption: an internal error.
pub(crate) fn qualification_of(p: &FullPurchase) -> Result<Qualification, ApiError> {
    match &p.qualification {
        None => Ok(Qualification::NotQualifying),
        Some(q) => Qualification::stored(q.class, q.tag).ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("purchase {} has a contradictory qualification {} / {:?}", p.purchase.id, q.class, q.tag))
        }),
    }
}

/// The supplier of a purchase the canteen recorded acknowledges it (`agree`) or disputes
/// it with a reason. Either is final; a purchase confirmed from a delivery is already
/// confirmed.
pub fn decide(conn: &mut DbConn, user: &Caller, id: &str, agree: bool, reason: Option<&str>) -> Result<FullPurchase, ApiError> {
    write_tx(conn, |conn| {
        let mut p = active_locked(conn, user, id, Party::Supplier)?;
        if let Some(c) = &p.confirmation {
            return Err(ApiError::conflict(ProblemType::AlreadyDecided, format!("this purchase is already {}", c.state)));
        }
        let c = ConfirmationRow {
            purchase_id: p.purchase.id.clone(),
            state: if agree { ConfirmationState::Confirmed } else { ConfirmationState::Disputed },
            via: ConfirmationVia::Supplier,
            delivery_id: None,
            reason: reason.map(str::to_owned),
            decided_by: user.actor(),
            decided_at: super::now(),
        };
        purchases::insert_confirmation(conn, &c)?;
        if agree {
            aggregates::confirm(conn, &p.purchase, &p.lines, qualification_of(&p)?)?;
        }
        super::audit(
            conn,
            &user.actor(),
            if agree { "purchase.acknowledge" } else { "purchase.dispute" },
            ("purchase", &p.purchase.id),
            None,
            Some(serde_json::json!({"state": c.state, "reason": c.reason})),
        )?;
        let mut payload = webhooks::purchase_payload(&p.purchase);
        payload["via"] = ConfirmationVia::Supplier.as_str().into();
        payload["reason"] = c.reason.clone().into();
        let event = if agree { webhook::PURCHASE_CONFIRMED } else { webhook::PURCHASE_DISPUTED };
        webhooks::emit(conn, &p.purchase.supplier_id, event, payload)?;
        p.confirmation = Some(c);
        Ok(p)
    })
}

/// A payment to record.
#[derive(Debug, Clone)]
pub struct NewPayment {
    pub paid_on: NaiveDate,
    pub amount_fen: i64,
    pub reference: String,
}

/// The school's canteen records a payment against one of its purchases: partial payments
/// add up, and never to more than the purchase's total.
pub fn pay(conn: &mut DbConn, user: &Caller, id: &str, new: NewPayment) -> Result<(FullPurchase, PaymentRow), ApiError> {
    write_tx(conn, |conn| {
        let mut p = active_locked(conn, user, id, Party::Canteen)?;
        let unpaid = p.purchase.total_fen - p.paid_fen;
        if new.amount_fen > unpaid {
            return Err(ApiError::field(
                "amount",
                Code::ExceedsUnpaid,
                format!("at most the unpaid {} yuan of this purchase", fen_to_decimal(unpaid)),
            ));
        }
        let row = PaymentRow {
            id: super::new_id(),
            purchase_id: p.purchase.id.clone(),
            paid_on: new.paid_on,
            amount_fen: new.amount_fen,
            reference: new.reference,
            recorded_by: user.actor(),
            recorded_at: super::now(),
        };
        purchases::insert_payment(conn, &row)?;
        aggregates::pay(conn, &p.purchase, row.amount_fen)?;
        super::audit(
            conn,
            &user.actor(),
            "purchase.pay",
            ("purchase", &p.purchase.id),
            Some(serde_json::json!({"paid_fen": p.paid_fen})),
            Some(
                serde_json::json!({"paid_fen": p.paid_fen + row.amount_fen, "payment_id": row.id, "amount_fen": row.amount_fen, "paid_on": row.paid_on}),
            ),
        )?;
        p.paid_fen += row.amount_fen;
        let mut payload = webhooks::purchase_payload(&p.purchase);
        payload["payment"] = serde_json::json!({
            "id": row.id, "paid_on": row.paid_on, "amount": fen_to_decimal(row.amount_fen).to_string(), "reference": row.reference,
        });
        payload["paid"] = fen_to_decimal(p.paid_fen).to_string().into();
        payload["unpaid"] = fen_to_decimal(p.purchase.total_fen - p.paid_fen).to_string().into();
        webhooks::emit(conn, &p.purchase.supplier_id, webhook::PURCHASE_PAID, payload)?;
        Ok((p, row))
    })
}

/// The payments of a purchase the caller may read.
pub fn payments(conn: &mut DbConn, user: &Caller, id: &str) -> Result<Vec<PaymentRow>, ApiError> {
    visible(conn, user, id)?;
    Ok(purchases::payments_of(conn, id)?)
}

/// Whose overdue purchases to list.
#[derive(Debug, Clone)]
pub enum OverdueScope {
    County(String),
    Supplier(String),
}

/// Overdue purchases as of a day, oldest due first, with the totals of all of them.
#[derive(Debug, Clone)]
pub struct Overdue {
    pub as_of: NaiveDate,
    pub count: usize,
    pub unpaid_fen: i64,
    pub items: Vec<settlement::OpenItem>,
}

/// Active purchases with an unpaid balance whose due date is before `as_of`. A county's
/// list is for its bureau, the prefecture and the province; a supplier's for itself and
/// the province. At most `limit` items are listed; the totals cover every one.
pub fn overdue(conn: &mut DbConn, user: &Caller, scope: &OverdueScope, as_of: NaiveDate, limit: usize) -> Result<Overdue, ApiError> {
    let allowed = match scope {
        // An unknown county is a 422 for every caller (it is outside the documented enum).
        OverdueScope::County(c) => {
            let county =
                reference::find_county(conn, c)?.ok_or_else(|| ApiError::field("county", Code::UnknownCounty, "no such county"))?;
            user.scope().may_read_county(&county.code, &county.prefecture_code)
        }
        OverdueScope::Supplier(s) => user.scope().may_read_supplier_accounts(s),
    };
    if !allowed {
        return Err(ApiError::Forbidden("this list is outside your scope".into()));
    }
    let (county, supplier) = match scope {
        OverdueScope::County(c) => (Some(c.as_str()), None),
        OverdueScope::Supplier(s) => (None, Some(s.as_str())),
    };
    let mut items: Vec<settlement::OpenItem> = settlement::open_items(conn, county, supplier, as_of)?
        .into_iter()
        .filter(|i| due_date(i.purchase_date, i.terms_days) < as_of)
        .collect();
    items.sort_by(|a, b| (due_date(a.purchase_date, a.terms_days), &a.id).cmp(&(due_date(b.purchase_date, b.terms_days), &b.id)));
    let unpaid_fen = items.iter().map(|i| i.total_fen - i.paid_fen).sum();
    let count = items.len();
    items.truncate(limit);
    Ok(Overdue { as_of, count, unpaid_fen, items })
}

//! Webhooks for supplier integrations: subscriptions (a supplier manages its own, the
//! administrator may read them), `emit` (the transactional outbox: one delivery row per
//! matching subscription, written in the caller's transaction), and the dispatcher's two
//! database steps (claim due deliveries, record an attempt). Sending is not done here:
//! see `crate::dispatch`.

use chrono::{NaiveDateTime, TimeDelta};
use rust_decimal::Decimal;

use crate::db::repo::purchases::PurchaseRow;
use crate::db::repo::suppliers;
use crate::db::repo::webhooks::{self as repo, AttemptChangeset, DeliveryRow, EventRow, SubscriptionRow};
use crate::db::{DbConn, write_tx};
use crate::domain::access::{Caller, SupplierSet};
use crate::domain::catalog::WebhookDeliveryStatus;
use crate::domain::webhook;
use crate::error::ApiError;

/// Random bytes in a subscription secret (shown as lowercase hex).
const SECRET_BYTES: usize = 32;
/// Longest error text kept in the delivery log.
const MAX_ERROR_LEN: usize = 500;

/// The supplier a caller manages subscriptions for.
fn managing_supplier(user: &Caller) -> Result<&str, ApiError> {
    user.supplier().ok_or_else(|| ApiError::Forbidden("only a supplier integration manages its webhook subscriptions".into()))
}

/// Whose subscriptions the caller may read.
fn webhook_readers(user: &Caller) -> Result<SupplierSet<'_>, ApiError> {
    user.webhooks().ok_or_else(|| ApiError::Forbidden("webhook subscriptions are read by their supplier and the administrator".into()))
}

/// A subscription the caller may read: its own (supplier) or any (administrator).
fn readable(conn: &mut DbConn, user: &Caller, id: &str) -> Result<SubscriptionRow, ApiError> {
    let owners = webhook_readers(user)?;
    match repo::find_subscription(conn, id)? {
        Some(s) if owners.holds(&s.supplier_id) => Ok(s),
        _ => Err(ApiError::NotFound("webhook subscription")),
    }
}

/// The stored form of an event selection: comma-separated, `None` for every type.
pub fn selection(row: &SubscriptionRow) -> Option<Vec<String>> {
    row.events.as_ref().map(|e| e.split(',').map(str::to_owned).collect())
}

/// Registers a callback for the caller's own supplier; the answer carries the secret,
/// which is never shown again.
pub fn subscribe(
    conn: &mut DbConn,
    user: &Caller,
    url: &str,
    events: Option<Vec<String>>,
    allow_private: bool,
) -> Result<SubscriptionRow, ApiError> {
    let supplier_id = managing_supplier(user)?.to_owned();
    webhook::check_url(url, allow_private).map_err(|e| ApiError::domain("url", &e))?;
    if let Some(e) = &events {
        webhook::check_events(e).map_err(|e| ApiError::domain("events", &e))?;
    }
    write_tx(conn, |conn| {
        suppliers::find(conn, &supplier_id)?.ok_or(ApiError::NotFound("supplier"))?;
        let row = SubscriptionRow {
            id: super::new_id(),
            supplier_id,
            url: url.to_owned(),
            events: events.map(|e| e.join(",")),
            secret: hex::encode(rand::random::<[u8; SECRET_BYTES]>()),
            created_by: user.actor(),
            created_at: super::now(),
        };
        repo::insert_subscription(conn, &row)?;
        super::audit(conn, &user.actor(), "webhook.subscribe", ("webhook_subscription", &row.id), None, Some(audit_view(&row)))?;
        Ok(row)
    })
}

/// What the audit trail keeps of a subscription (never the secret).
fn audit_view(row: &SubscriptionRow) -> serde_json::Value {
    serde_json::json!({"supplier_id": row.supplier_id, "url": row.url, "events": selection(row)})
}

/// The caller's subscriptions (the administrator: everyone's), by id after `after_id`.
pub fn list(conn: &mut DbConn, user: &Caller, after_id: Option<&str>, limit: i64) -> Result<Vec<SubscriptionRow>, ApiError> {
    Ok(repo::list_subscriptions(conn, webhook_readers(user)?.only(), after_id, limit)?)
}

/// Deletes one of the caller's subscriptions with its delivery log (pending deliveries
/// are dropped).
pub fn unsubscribe(conn: &mut DbConn, user: &Caller, id: &str) -> Result<(), ApiError> {
    let supplier_id = managing_supplier(user)?;
    write_tx(conn, |conn| {
        let row = match repo::find_subscription(conn, id)? {
            Some(s) if s.supplier_id == supplier_id => s,
            _ => return Err(ApiError::NotFound("webhook subscription")),
        };
        repo::delete_subscription(conn, id)?;
        super::audit(conn, &user.actor(), "webhook.unsubscribe", ("webhook_subscription", id), Some(audit_view(&row)), None)
    })
}

/// A subscription's delivery log with each delivery's event type, oldest first.
pub fn deliveries(
    conn: &mut DbConn,
    user: &Caller,
    id: &str,
    after_id: Option<&str>,
    limit: i64,
) -> Result<Vec<(DeliveryRow, String)>, ApiError> {
    readable(conn, user, id)?;
    Ok(repo::list_deliveries(conn, id, after_id, limit)?)
}

/// An event to emit: about which supplier, its type, and its `data`.
#[derive(Debug, Clone)]
pub struct Emit {
    pub supplier_id: String,
    pub event_type: &'static str,
    pub payload: serde_json::Value,
}

/// Emits an event about `supplier_id` to its subscriptions that select `event_type`:
/// one event row (its id is the `Webhook-Id` receivers de-duplicate on) and one pending
/// delivery per subscription. Call it inside the transaction of the change the event
/// reports (transactional outbox): the event exists if and only if the change commits,
/// and nothing here waits for a receiver. Does nothing when no subscription matches.
pub fn emit(conn: &mut DbConn, supplier_id: &str, event_type: &'static str, payload: serde_json::Value) -> Result<(), ApiError> {
    emit_many(conn, vec![Emit { supplier_id: supplier_id.to_owned(), event_type, payload }])
}

/// Emits several events as [`emit`] does, in order, reading the subscriptions once and
/// writing with multi-row statements.
pub fn emit_many(conn: &mut DbConn, events: Vec<Emit>) -> Result<(), ApiError> {
    let mut suppliers: Vec<&str> = events.iter().map(|e| e.supplier_id.as_str()).collect();
    suppliers.sort_unstable();
    suppliers.dedup();
    if suppliers.is_empty() {
        return Ok(());
    }
    let subscriptions: Vec<SubscriptionRow> = repo::list_for_suppliers(conn, &suppliers)?;
    if subscriptions.is_empty() {
        return Ok(());
    }
    let now = super::now();
    let (mut event_rows, mut delivery_rows) = (Vec::new(), Vec::new());
    for e in events {
        let mut targets = subscriptions
            .iter()
            .filter(|s| s.supplier_id == e.supplier_id && webhook::selects(selection(s).as_deref(), e.event_type))
            .peekable();
        if targets.peek().is_none() {
            continue;
        }
        let id = super::new_id();
        for s in targets {
            delivery_rows.push(DeliveryRow {
                id: super::new_id(),
                event_id: id.clone(),
                subscription_id: s.id.clone(),
                status: WebhookDeliveryStatus::Pending,
                attempts: 0,
                next_attempt_at: Some(now),
                last_attempt_at: None,
                last_status_code: None,
                last_error: None,
                delivered_at: None,
                created_at: now,
            });
        }
        event_rows.push(EventRow {
            supplier_id: e.supplier_id,
            event_type: e.event_type.to_owned(),
            body: serde_json::json!({
                "id": id,
                "type": e.event_type,
                "created_at": now.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                "data": e.payload,
            })
            .to_string(),
            id,
            created_at: now,
        });
    }
    Ok(repo::insert_events(conn, &event_rows, &delivery_rows)?)
}

/// The `data` of a purchase event: the entry (or, for `purchase.voided`, the reversal
/// entry, whose `voids_id` names the voided purchase). `total` is a decimal string in
/// yuan, negative on a reversal.
pub fn purchase_payload(p: &PurchaseRow) -> serde_json::Value {
    serde_json::json!({
        "id": p.id,
        "school_id": p.school_id,
        "supplier_id": p.supplier_id,
        "purchase_date": p.purchase_date,
        "total": Decimal::new(p.total_fen, 2).to_string(),
        "kind": p.kind,
        "voids_id": p.voids_id,
    })
}

/// A delivery claimed for one attempt.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub delivery_id: String,
    pub event_id: String,
    pub url: String,
    pub secret: String,
    pub body: String,
    /// Attempts made before this one.
    pub attempts: i32,
}

/// Claims up to `limit` deliveries due at `now`: each one's next attempt moves to
/// `now + lease`, so a dispatcher that dies mid-send leaves it to be retried then, and a
/// concurrent dispatcher skips it.
pub fn claim_due(conn: &mut DbConn, now: NaiveDateTime, lease: TimeDelta, limit: i64) -> Result<Vec<Claimed>, ApiError> {
    write_tx(conn, |conn| {
        let mut claimed = Vec::new();
        for (id, seen) in repo::due(conn, now, limit)? {
            let Some(seen) = seen else { continue };
            if !repo::claim(conn, &id, seen, now + lease)? {
                continue;
            }
            if let Some((d, s, e)) = repo::find_for_send(conn, &id)? {
                claimed.push(Claimed {
                    delivery_id: d.id,
                    event_id: e.id,
                    url: s.url,
                    secret: s.secret,
                    body: e.body,
                    attempts: d.attempts,
                });
            }
        }
        Ok(claimed)
    })
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// The receiver answered with this status (2xx: delivered).
    Answered(u16),
    /// No answer: connection refused, timeout, TLS or URL error.
    Failed(String),
}

/// Records an attempt made at `now`: delivered on a 2xx; otherwise retried after the
/// backoff (`domain::webhook::retry_delay`), or marked failed after the last attempt.
pub fn record_attempt(conn: &mut DbConn, claimed: &Claimed, attempt: &Attempt, now: NaiveDateTime) -> Result<(), ApiError> {
    let attempts = claimed.attempts.saturating_add(1);
    let (code, error) = match attempt {
        Attempt::Answered(code) => (Some(i32::from(*code)), None),
        Attempt::Failed(e) => (None, Some(e.chars().take(MAX_ERROR_LEN).collect::<String>())),
    };
    let delivered = code.is_some_and(|c| (200..300).contains(&c));
    let retry_at = if delivered { None } else { webhook::retry_delay(attempts).map(|d| now + d) };
    let change = AttemptChangeset {
        status: match (delivered, retry_at) {
            (true, _) => WebhookDeliveryStatus::Delivered,
            (false, Some(_)) => WebhookDeliveryStatus::Pending,
            (false, None) => WebhookDeliveryStatus::Failed,
        },
        attempts,
        next_attempt_at: retry_at,
        last_attempt_at: Some(now),
        last_status_code: code,
        last_error: match (&error, code) {
            (Some(e), _) => Some(e.clone()),
            (None, Some(c)) if !delivered => Some(format!("the receiver answered {c}")),
            _ => None,
        },
        delivered_at: delivered.then_some(now),
    };
    let given_up = change.status == WebhookDeliveryStatus::Failed;
    write_tx(conn, |conn| {
        if !repo::record_attempt(conn, &claimed.delivery_id, &change)? {
            log::info!("webhook delivery {} was removed while being sent", claimed.delivery_id);
        }
        Ok::<_, ApiError>(())
    })?;
    if !delivered {
        crate::telemetry::count(crate::telemetry::WEBHOOK_FAILURES, &[]);
    }
    if given_up {
        crate::telemetry::count(crate::telemetry::WEBHOOK_ABANDONED, &[]);
    }
    Ok(())
}

/// Deliveries waiting to be sent.
pub fn pending(conn: &mut DbConn) -> Result<i64, ApiError> {
    Ok(repo::pending_count(conn)?)
}

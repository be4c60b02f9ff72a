//! Webhook subscriptions, emitted events (the transactional outbox) and their deliveries.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{webhook_deliveries, webhook_events, webhook_subscriptions};
use crate::domain::catalog::WebhookDeliveryStatus;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_subscriptions)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct SubscriptionRow {
    pub id: String,
    pub supplier_id: String,
    pub url: String,
    /// Comma-separated event types; `None`: every type.
    pub events: Option<String>,
    pub secret: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_events)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct EventRow {
    pub id: String,
    pub supplier_id: String,
    pub event_type: String,
    pub body: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_deliveries)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct DeliveryRow {
    pub id: String,
    pub event_id: String,
    pub subscription_id: String,
    pub status: WebhookDeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: Option<NaiveDateTime>,
    pub last_attempt_at: Option<NaiveDateTime>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub delivered_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

/// What one attempt changed on a delivery.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = webhook_deliveries, treat_none_as_null = true)]
pub struct AttemptChangeset {
    pub status: WebhookDeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: Option<NaiveDateTime>,
    pub last_attempt_at: Option<NaiveDateTime>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub delivered_at: Option<NaiveDateTime>,
}

pub fn insert_subscription(conn: &mut DbConn, row: &SubscriptionRow) -> QueryResult<()> {
    diesel::insert_into(webhook_subscriptions::table).values(row).execute(conn).map(drop)
}

pub fn find_subscription(conn: &mut DbConn, id: &str) -> QueryResult<Option<SubscriptionRow>> {
    webhook_subscriptions::table.find(id).select(SubscriptionRow::as_select()).first(conn).optional()
}

/// Subscriptions by id, after `after_id`; of one supplier, or all (`None`).
pub fn list_subscriptions(
    conn: &mut DbConn,
    supplier_id: Option<&str>,
    after_id: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<SubscriptionRow>> {
    let mut q =
        webhook_subscriptions::table.select(SubscriptionRow::as_select()).order(webhook_subscriptions::id).limit(limit).into_boxed();
    if let Some(s) = supplier_id {
        q = q.filter(webhook_subscriptions::supplier_id.eq(s.to_owned()));
    }
    if let Some(a) = after_id {
        q = q.filter(webhook_subscriptions::id.gt(a.to_owned()));
    }
    q.load(conn)
}

/// Every subscription of these suppliers (for emitting).
pub fn list_for_suppliers(conn: &mut DbConn, supplier_ids: &[&str]) -> QueryResult<Vec<SubscriptionRow>> {
    webhook_subscriptions::table
        .filter(webhook_subscriptions::supplier_id.eq_any(supplier_ids))
        .order(webhook_subscriptions::id)
        .select(SubscriptionRow::as_select())
        .load(conn)
}

/// Deletes a subscription and its delivery log.
pub fn delete_subscription(conn: &mut DbConn, id: &str) -> QueryResult<()> {
    diesel::delete(webhook_deliveries::table.filter(webhook_deliveries::subscription_id.eq(id))).execute(conn)?;
    diesel::delete(webhook_subscriptions::table.find(id)).execute(conn).map(drop)
}

/// Inserts events and their deliveries with multi-row statements of up to 2,000 rows.
pub fn insert_events(conn: &mut DbConn, events: &[EventRow], deliveries: &[DeliveryRow]) -> QueryResult<()> {
    for chunk in events.chunks(super::bulk::CHUNK) {
        super::bulk::insert_many!(conn, webhook_events::table, chunk)?;
    }
    for chunk in deliveries.chunks(super::bulk::CHUNK) {
        super::bulk::insert_many!(conn, webhook_deliveries::table, chunk)?;
    }
    Ok(())
}

/// A subscription's deliveries by id (creation order), with their event type.
pub fn list_deliveries(
    conn: &mut DbConn,
    subscription_id: &str,
    after_id: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<(DeliveryRow, String)>> {
    let mut q = webhook_deliveries::table
        .inner_join(webhook_events::table)
        .filter(webhook_deliveries::subscription_id.eq(subscription_id.to_owned()))
        .select((DeliveryRow::as_select(), webhook_events::event_type))
        .order(webhook_deliveries::id)
        .limit(limit)
        .into_boxed();
    if let Some(a) = after_id {
        q = q.filter(webhook_deliveries::id.gt(a.to_owned()));
    }
    q.load(conn)
}

/// Pending deliveries due at `now`, most overdue first: `(id, next_attempt_at)`.
pub fn due(conn: &mut DbConn, now: NaiveDateTime, limit: i64) -> QueryResult<Vec<(String, Option<NaiveDateTime>)>> {
    webhook_deliveries::table
        .filter(webhook_deliveries::status.eq(WebhookDeliveryStatus::Pending))
        .filter(webhook_deliveries::next_attempt_at.le(now))
        .order((webhook_deliveries::next_attempt_at, webhook_deliveries::id))
        .select((webhook_deliveries::id, webhook_deliveries::next_attempt_at))
        .limit(limit)
        .load(conn)
}

/// Deliveries waiting to be sent (due or backing off).
pub fn pending_count(conn: &mut DbConn) -> QueryResult<i64> {
    webhook_deliveries::table.filter(webhook_deliveries::status.eq(WebhookDeliveryStatus::Pending)).count().get_result(conn)
}

/// Moves a due delivery's next attempt to `until` if it is still as `seen`: whoever
/// changes it first owns the attempt (another dispatcher sees 0 rows and skips it).
pub fn claim(conn: &mut DbConn, id: &str, seen: NaiveDateTime, until: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(
        webhook_deliveries::table
            .find(id)
            .filter(webhook_deliveries::status.eq(WebhookDeliveryStatus::Pending))
            .filter(webhook_deliveries::next_attempt_at.eq(seen)),
    )
    .set(webhook_deliveries::next_attempt_at.eq(Some(until)))
    .execute(conn)
    .map(|n| n == 1)
}

/// A delivery with what sending it needs: the subscription and the event.
pub fn find_for_send(conn: &mut DbConn, id: &str) -> QueryResult<Option<(DeliveryRow, SubscriptionRow, EventRow)>> {
    webhook_deliveries::table
        .inner_join(webhook_subscriptions::table)
        .inner_join(webhook_events::table)
        .filter(webhook_deliveries::id.eq(id))
        .select((DeliveryRow::as_select(), SubscriptionRow::as_select(), EventRow::as_select()))
        .first(conn)
        .optional()
}

/// Records an attempt on a still-pending delivery; false if it is gone or settled.
pub fn record_attempt(conn: &mut DbConn, id: &str, change: &AttemptChangeset) -> QueryResult<bool> {
    diesel::update(webhook_deliveries::table.find(id).filter(webhook_deliveries::status.eq(WebhookDeliveryStatus::Pending)))
        .set(change)
        .execute(conn)
        .map(|n| n == 1)
}

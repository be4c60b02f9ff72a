//! Deliveries pushed by suppliers, awaiting the canteen's confirmation.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{counties, deliveries, schools};
use crate::domain::catalog::DeliveryStatus;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = deliveries)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct DeliveryRow {
    pub id: String,
    pub supplier_id: String,
    pub school_id: String,
    pub delivery_date: NaiveDate,
    pub reference: String,
    pub total_fen: i64,
    pub status: DeliveryStatus,
    pub purchase_id: Option<String>,
    pub dispute_reason: Option<String>,
    pub idem_key: String,
    pub request_hash: String,
    pub request_body: String,
    pub response_body: String,
    pub purchase_body: String,
    pub pushed_by: String,
    pub pushed_at: NaiveDateTime,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<NaiveDateTime>,
}

/// Which deliveries to list (all filters combine).
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    pub supplier_id: Option<String>,
    pub school_id: Option<String>,
    pub county_code: Option<String>,
    pub prefecture_code: Option<String>,
    pub status: Option<DeliveryStatus>,
    pub after_id: Option<String>,
    pub limit: i64,
}

pub fn insert(conn: &mut DbConn, row: &DeliveryRow) -> QueryResult<()> {
    diesel::insert_into(deliveries::table).values(row).execute(conn).map(drop)
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<DeliveryRow>> {
    deliveries::table.find(id).select(DeliveryRow::as_select()).first(conn).optional()
}

pub fn find_by_key(conn: &mut DbConn, supplier_id: &str, key: &str) -> QueryResult<Option<DeliveryRow>> {
    deliveries::table
        .filter(deliveries::supplier_id.eq(supplier_id))
        .filter(deliveries::idem_key.eq(key))
        .select(DeliveryRow::as_select())
        .first(conn)
        .optional()
}

/// The delivery a purchase was confirmed from, if any.
pub fn of_purchase(conn: &mut DbConn, purchase_id: &str) -> QueryResult<Option<DeliveryRow>> {
    deliveries::table.filter(deliveries::purchase_id.eq(purchase_id)).select(DeliveryRow::as_select()).first(conn).optional()
}

/// Records the canteen's decision on a pending delivery.
pub fn resolve(
    conn: &mut DbConn,
    id: &str,
    status: DeliveryStatus,
    purchase_id: Option<&str>,
    reason: Option<&str>,
    by: &str,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(deliveries::table.find(id))
        .set((
            deliveries::status.eq(status),
            deliveries::purchase_id.eq(purchase_id),
            deliveries::dispute_reason.eq(reason),
            deliveries::resolved_by.eq(Some(by)),
            deliveries::resolved_at.eq(Some(at)),
        ))
        .execute(conn)
        .map(drop)
}

pub fn list(conn: &mut DbConn, f: &DeliveryFilter) -> QueryResult<Vec<DeliveryRow>> {
    let mut q = deliveries::table.select(DeliveryRow::as_select()).order(deliveries::id).into_boxed();
    if let Some(s) = &f.supplier_id {
        q = q.filter(deliveries::supplier_id.eq(s.clone()));
    }
    if let Some(s) = &f.school_id {
        q = q.filter(deliveries::school_id.eq(s.clone()));
    }
    if let Some(c) = &f.county_code {
        q = q.filter(deliveries::school_id.eq_any(schools::table.filter(schools::county_code.eq(c.clone())).select(schools::id)));
    }
    if let Some(p) = &f.prefecture_code {
        let counties_of = counties::table.filter(counties::prefecture_code.eq(p.clone())).select(counties::code);
        q = q.filter(deliveries::school_id.eq_any(schools::table.filter(schools::county_code.eq_any(counties_of)).select(schools::id)));
    }
    if let Some(s) = &f.status {
        q = q.filter(deliveries::status.eq(*s));
    }
    if let Some(after) = &f.after_id {
        q = q.filter(deliveries::id.gt(after.clone()));
    }
    q.limit(f.limit).load(conn)
}

//! Suppliers and their tags.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{supplier_tags, suppliers};
use crate::domain::catalog::{SupplierKind, Tag, TagStatus};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = suppliers)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct SupplierRow {
    pub id: String,
    pub name: String,
    pub kind: SupplierKind,
    pub origin_county_code: String,
    pub registration_ref: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    /// Days after the purchase date a payment is due.
    pub payment_terms_days: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = supplier_tags)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct TagRow {
    pub id: String,
    pub supplier_id: String,
    pub tag: Tag,
    pub status: TagStatus,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    pub evidence: String,
    pub declared_by: String,
    pub declared_at: NaiveDateTime,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<NaiveDateTime>,
    pub review_note: Option<String>,
}

/// Filters for listing suppliers.
#[derive(Debug, Clone, Default)]
pub struct SupplierFilter {
    pub origin_county_code: Option<String>,
    pub kind: Option<SupplierKind>,
    pub after_id: Option<String>,
    pub limit: i64,
}

pub fn insert(conn: &mut DbConn, row: &SupplierRow) -> QueryResult<()> {
    diesel::insert_into(suppliers::table).values(row).execute(conn).map(drop)
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<SupplierRow>> {
    suppliers::table.find(id).select(SupplierRow::as_select()).first(conn).optional()
}

/// The suppliers with these ids (those that exist).
pub fn find_many(conn: &mut DbConn, ids: &[&str]) -> QueryResult<Vec<SupplierRow>> {
    suppliers::table.filter(suppliers::id.eq_any(ids)).select(SupplierRow::as_select()).load(conn)
}

pub fn list(conn: &mut DbConn, f: &SupplierFilter) -> QueryResult<Vec<SupplierRow>> {
    let mut q = suppliers::table.select(SupplierRow::as_select()).order(suppliers::id).into_boxed();
    if let Some(c) = &f.origin_county_code {
        q = q.filter(suppliers::origin_county_code.eq(c.clone()));
    }
    if let Some(k) = &f.kind {
        q = q.filter(suppliers::kind.eq(*k));
    }
    if let Some(after) = &f.after_id {
        q = q.filter(suppliers::id.gt(after.clone()));
    }
    q.limit(f.limit).load(conn)
}

pub fn tags_of(conn: &mut DbConn, supplier_id: &str) -> QueryResult<Vec<TagRow>> {
    supplier_tags::table
        .filter(supplier_tags::supplier_id.eq(supplier_id))
        .order((supplier_tags::declared_at, supplier_tags::id))
        .select(TagRow::as_select())
        .load(conn)
}

pub fn tags_of_many(conn: &mut DbConn, supplier_ids: &[String]) -> QueryResult<Vec<TagRow>> {
    supplier_tags::table
        .filter(supplier_tags::supplier_id.eq_any(supplier_ids))
        .order((supplier_tags::declared_at, supplier_tags::id))
        .select(TagRow::as_select())
        .load(conn)
}

pub fn find_tag(conn: &mut DbConn, supplier_id: &str, tag_id: &str) -> QueryResult<Option<TagRow>> {
    supplier_tags::table
        .filter(supplier_tags::supplier_id.eq(supplier_id))
        .filter(supplier_tags::id.eq(tag_id))
        .select(TagRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert_tag(conn: &mut DbConn, row: &TagRow) -> QueryResult<()> {
    diesel::insert_into(supplier_tags::table).values(row).execute(conn).map(drop)
}

/// Records a review (verify or revoke) of a tag.
pub fn review_tag(conn: &mut DbConn, tag_id: &str, status: &str, by: &str, at: NaiveDateTime, note: Option<&str>) -> QueryResult<()> {
    diesel::update(supplier_tags::table.find(tag_id))
        .set((
            supplier_tags::status.eq(status),
            supplier_tags::reviewed_by.eq(Some(by)),
            supplier_tags::reviewed_at.eq(Some(at)),
            supplier_tags::review_note.eq(note),
        ))
        .execute(conn)
        .map(drop)
}

/// Suppliers whose origin is `county_code` (for re-evaluation after a designation edit).
pub fn ids_from_county(conn: &mut DbConn, county_code: &str) -> QueryResult<Vec<String>> {
    suppliers::table.filter(suppliers::origin_county_code.eq(county_code)).select(suppliers::id).load(conn)
}

/// Which of these ids name a registered supplier.
pub fn existing_ids(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<String>> {
    suppliers::table.filter(suppliers::id.eq_any(ids)).select(suppliers::id).load(conn)
}

/// The longest payment terms of any supplier, in days (0 without suppliers).
pub fn max_terms_days(conn: &mut DbConn) -> QueryResult<i32> {
    Ok(suppliers::table.select(diesel::dsl::max(suppliers::payment_terms_days)).first::<Option<i32>>(conn)?.unwrap_or(0))
}

/// Locks these suppliers' rows until the end of the transaction, in id order, so that
/// re-evaluations of one supplier's purchases run one after the other, each reading what
/// the previous one committed. PostgreSQL `FOR NO KEY UPDATE`: inserting a tag row (which
/// takes a key-share lock on its supplier) does not conflict with it. SQLite has one
/// writer at a time already.
pub fn lock(conn: &mut DbConn, ids: &[String]) -> QueryResult<()> {
    if let DbConn::Pg(c) = conn {
        suppliers::table
            .filter(suppliers::id.eq_any(ids))
            .order(suppliers::id)
            .select(suppliers::id)
            .for_no_key_update()
            .load::<String>(c)?;
    }
    Ok(())
}

/// Share-locks these suppliers' rows until the end of the transaction (PostgreSQL
/// `FOR SHARE`, in id order): a writer that qualifies purchases with their tags takes it
/// before its school's chain head, so it either sees a concurrent tag review committed or
/// commits before the review reads its purchases. Writers do not block each other.
pub fn lock_shared(conn: &mut DbConn, ids: &[&str]) -> QueryResult<()> {
    if let DbConn::Pg(c) = conn {
        suppliers::table.filter(suppliers::id.eq_any(ids)).order(suppliers::id).select(suppliers::id).for_share().load::<String>(c)?;
    }
    Ok(())
}

//! The ledger: purchases (entries and voids), their lines, and their derived
//! qualification. Rows here are only ever inserted, except qualifications (updated by
//! re-evaluation only); the databases refuse UPDATE and DELETE on the others
//! (migration `2026-12-01-000007_append_only`).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::bulk::{CHUNK, insert_many};
use crate::db::DbConn;
use crate::db::schema::{payments, purchase_confirmations, purchase_lines, purchase_qualifications, purchases, schools, suppliers};
use crate::domain::catalog::{Category, ConfirmationState, ConfirmationVia, EntryKind, QualificationClass, Tag, Unit};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = purchases)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct PurchaseRow {
    pub id: String,
    pub school_id: String,
    pub county_code: String,
    pub supplier_id: String,
    pub purchase_date: NaiveDate,
    pub invoice_no: Option<String>,
    pub kind: EntryKind,
    pub voids_id: Option<String>,
    pub void_reason: Option<String>,
    pub total_fen: i64,
    pub seq: i64,
    pub prev_hash: String,
    pub hash: String,
    pub recorded_by: String,
    pub recorded_at: NaiveDateTime,
    pub idempotency_key: Option<String>,
    /// Canonical form the entry is hashed in (see `domain::ledger`).
    pub chain_version: i32,
    /// For an entry recorded by a correction: the entry it corrects (voided in the same
    /// transaction).
    pub corrects_id: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = purchase_lines)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct LineRow {
    pub purchase_id: String,
    pub line_no: i32,
    pub category: Category,
    pub description: String,
    pub quantity_milli: i64,
    pub unit: Unit,
    pub unit_price_e4: i64,
    pub amount_fen: i64,
    pub mass_mg: Option<i64>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = purchase_qualifications)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct QualificationRow {
    pub purchase_id: String,
    pub class: QualificationClass,
    pub tag: Option<Tag>,
    pub policy_version: String,
    pub evaluated_at: NaiveDateTime,
}

/// A purchase with its lines, qualification and (for entries) the void that reversed it.
#[derive(Debug, Clone)]
pub struct FullPurchase {
    pub purchase: PurchaseRow,
    pub lines: Vec<LineRow>,
    pub qualification: Option<QualificationRow>,
    pub voided_by: Option<PurchaseRow>,
    /// The second party's word; `None` while unconfirmed.
    pub confirmation: Option<ConfirmationRow>,
    /// Paid to date.
    pub paid_fen: i64,
    /// The supplier's payment terms, in days after the purchase date.
    pub terms_days: i32,
    /// The head its school's chain had when the county first submitted the half-month of
    /// the purchase date (`None`: not submitted): an entry above it is a late entry.
    pub frozen_head: Option<i64>,
    /// The school's and the supplier's names, shown next to their ids.
    pub school_name: String,
    pub supplier_name: String,
}

/// Filters for listing purchases; `None` means "any".
#[derive(Debug, Clone, Default)]
pub struct PurchaseFilter {
    pub school_ids: Option<Vec<String>>,
    pub county_code: Option<String>,
    pub prefecture_counties: Option<Vec<String>>,
    pub supplier_id: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub after_id: Option<String>,
    pub limit: i64,
}

pub fn insert(conn: &mut DbConn, row: &PurchaseRow, lines: &[LineRow], q: &QualificationRow) -> QueryResult<()> {
    insert_many(conn, std::slice::from_ref(row), lines, std::slice::from_ref(q))
}

/// Inserts entries with their lines and qualifications: three multi-row statements per
/// chunk, whatever the number of lines. Every recording path writes the ledger through
/// this (and the benchmark loads its generated ledger with it).
pub fn insert_many(conn: &mut DbConn, rows: &[PurchaseRow], lines: &[LineRow], quals: &[QualificationRow]) -> QueryResult<()> {
    for chunk in rows.chunks(CHUNK) {
        insert_many!(conn, purchases::table, chunk)?;
    }
    for chunk in lines.chunks(CHUNK * 3) {
        insert_many!(conn, purchase_lines::table, chunk)?;
    }
    for chunk in quals.chunks(CHUNK * 3) {
        insert_many!(conn, purchase_qualifications::table, chunk)?;
    }
    Ok(())
}

pub fn find_row(conn: &mut DbConn, id: &str) -> QueryResult<Option<PurchaseRow>> {
    purchases::table.find(id).select(PurchaseRow::as_select()).first(conn).optional()
}

pub fn lines_of(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<LineRow>> {
    purchase_lines::table
        .filter(purchase_lines::purchase_id.eq_any(ids))
        .order((purchase_lines::purchase_id, purchase_lines::line_no))
        .select(LineRow::as_select())
        .load(conn)
}

/// The void entry that reverses `id`, if any.
pub fn void_of(conn: &mut DbConn, id: &str) -> QueryResult<Option<PurchaseRow>> {
    purchases::table.filter(purchases::voids_id.eq(id)).select(PurchaseRow::as_select()).first(conn).optional()
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<FullPurchase>> {
    let Some(purchase) = find_row(conn, id)? else { return Ok(None) };
    let mut full = hydrate(conn, vec![purchase])?;
    Ok(full.pop())
}

/// Loads lines, qualifications and voids for a page of purchases (three queries).
/// The half-month (`YYYY-MM-H1|H2`) a date falls in, as submissions name it.
pub fn half_month_of(date: chrono::NaiveDate) -> String {
    crate::domain::reporting::HalfMonth::containing(date).map(|h| h.to_string()).unwrap_or_default()
}

pub fn hydrate(conn: &mut DbConn, rows: Vec<PurchaseRow>) -> QueryResult<Vec<FullPurchase>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut lines = lines_of(conn, &ids)?;
    let quals: Vec<QualificationRow> = purchase_qualifications::table
        .filter(purchase_qualifications::purchase_id.eq_any(&ids))
        .select(QualificationRow::as_select())
        .load(conn)?;
    let voids: Vec<PurchaseRow> = purchases::table.filter(purchases::voids_id.eq_any(&ids)).select(PurchaseRow::as_select()).load(conn)?;
    let confirmations: Vec<ConfirmationRow> = purchase_confirmations::table
        .filter(purchase_confirmations::purchase_id.eq_any(&ids))
        .select(ConfirmationRow::as_select())
        .load(conn)?;
    let paid: std::collections::HashMap<String, i64> = paid_of(conn, &ids)?.into_iter().collect();
    let frozen = super::submissions::frozen_heads(
        conn,
        &rows.iter().map(|r| (r.county_code.clone(), half_month_of(r.purchase_date), r.school_id.clone())).collect::<Vec<_>>(),
    )?;
    let supplier_ids: Vec<&String> = rows.iter().map(|r| &r.supplier_id).collect();
    let suppliers: std::collections::HashMap<String, (i32, String)> = suppliers::table
        .filter(suppliers::id.eq_any(supplier_ids))
        .select((suppliers::id, suppliers::payment_terms_days, suppliers::name))
        .load::<(String, i32, String)>(conn)?
        .into_iter()
        .map(|(id, terms, name)| (id, (terms, name)))
        .collect();
    let school_ids: Vec<&String> = rows.iter().map(|r| &r.school_id).collect();
    let school_names: std::collections::HashMap<String, String> =
        schools::table.filter(schools::id.eq_any(school_ids)).select((schools::id, schools::name)).load(conn)?.into_iter().collect();
    Ok(rows
        .into_iter()
        .map(|purchase| {
            let (mine, rest): (Vec<_>, Vec<_>) = lines.drain(..).partition(|l| l.purchase_id == purchase.id);
            lines = rest;
            FullPurchase {
                qualification: quals.iter().find(|q| q.purchase_id == purchase.id).cloned(),
                voided_by: voids.iter().find(|v| v.voids_id.as_deref() == Some(purchase.id.as_str())).cloned(),
                confirmation: confirmations.iter().find(|c| c.purchase_id == purchase.id).cloned(),
                paid_fen: paid.get(&purchase.id).copied().unwrap_or(0),
                terms_days: suppliers.get(&purchase.supplier_id).map_or(30, |s| s.0),
                supplier_name: suppliers.get(&purchase.supplier_id).map(|s| s.1.clone()).unwrap_or_default(),
                school_name: school_names.get(&purchase.school_id).cloned().unwrap_or_default(),
                frozen_head: frozen
                    .get(&(purchase.county_code.clone(), half_month_of(purchase.purchase_date), purchase.school_id.clone()))
                    .copied(),
                lines: mine,
                purchase,
            }
        })
        .collect())
}

pub fn list(conn: &mut DbConn, f: &PurchaseFilter) -> QueryResult<Vec<PurchaseRow>> {
    let mut q = purchases::table.select(PurchaseRow::as_select()).order(purchases::id).into_boxed();
    if let Some(ids) = &f.school_ids {
        q = q.filter(purchases::school_id.eq_any(ids.clone()));
    }
    if let Some(c) = &f.county_code {
        q = q.filter(purchases::county_code.eq(c.clone()));
    }
    if let Some(cs) = &f.prefecture_counties {
        q = q.filter(purchases::county_code.eq_any(cs.clone()));
    }
    if let Some(s) = &f.supplier_id {
        q = q.filter(purchases::supplier_id.eq(s.clone()));
    }
    if let Some(from) = f.from {
        q = q.filter(purchases::purchase_date.ge(from));
    }
    if let Some(to) = f.to {
        q = q.filter(purchases::purchase_date.le(to));
    }
    if let Some(after) = &f.after_id {
        q = q.filter(purchases::id.gt(after.clone()));
    }
    q.limit(f.limit).load(conn)
}

/// A school's whole chain in `seq` order, with lines.
pub fn chain_of(conn: &mut DbConn, school_id: &str) -> QueryResult<Vec<(PurchaseRow, Vec<LineRow>)>> {
    let rows: Vec<PurchaseRow> =
        purchases::table.filter(purchases::school_id.eq(school_id)).order(purchases::seq).select(PurchaseRow::as_select()).load(conn)?;
    let lines: Vec<LineRow> = purchase_lines::table
        .inner_join(purchases::table)
        .filter(purchases::school_id.eq(school_id))
        .order((purchases::seq, purchase_lines::line_no))
        .select(LineRow::as_select())
        .load(conn)?;
    let mut it = lines.into_iter().peekable();
    Ok(rows
        .into_iter()
        .map(|p| {
            let mut mine = Vec::new();
            while let Some(l) = it.next_if(|l| l.purchase_id == p.id) {
                mine.push(l);
            }
            (p, mine)
        })
        .collect())
}

/// The stored qualifications of a school's ledger entries.
pub fn qualifications_of_school(conn: &mut DbConn, school_id: &str) -> QueryResult<Vec<QualificationRow>> {
    purchase_qualifications::table
        .inner_join(purchases::table)
        .filter(purchases::school_id.eq(school_id))
        .select(QualificationRow::as_select())
        .load(conn)
}

/// `(purchase id, supplier id, purchase date, class, tag)`.
pub type QualificationFact = (String, String, NaiveDate, QualificationClass, Option<Tag>);

/// `(purchase id, supplier id, purchase date, current class, current tag)` of every ledger entry
/// (entries and voids) from these suppliers, for re-evaluation.
pub fn qualifications_of_suppliers(conn: &mut DbConn, supplier_ids: &[String]) -> QueryResult<Vec<QualificationFact>> {
    purchases::table
        .inner_join(purchase_qualifications::table)
        .filter(purchases::supplier_id.eq_any(supplier_ids))
        .select((
            purchases::id,
            purchases::supplier_id,
            purchases::purchase_date,
            purchase_qualifications::class,
            purchase_qualifications::tag,
        ))
        .load(conn)
}

pub fn set_qualification(conn: &mut DbConn, q: &QualificationRow) -> QueryResult<()> {
    diesel::update(purchase_qualifications::table.find(&q.purchase_id))
        .set((
            purchase_qualifications::class.eq(&q.class),
            purchase_qualifications::tag.eq(&q.tag),
            purchase_qualifications::policy_version.eq(&q.policy_version),
            purchase_qualifications::evaluated_at.eq(q.evaluated_at),
        ))
        .execute(conn)
        .map(drop)
}

/// The second party's word on a purchase.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = purchase_confirmations)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct ConfirmationRow {
    pub purchase_id: String,
    pub state: ConfirmationState,
    /// `delivery` (the canteen confirmed the supplier's delivery) or `supplier`.
    pub via: ConfirmationVia,
    pub delivery_id: Option<String>,
    pub reason: Option<String>,
    pub decided_by: String,
    pub decided_at: NaiveDateTime,
}

pub fn confirmation_of(conn: &mut DbConn, purchase_id: &str) -> QueryResult<Option<ConfirmationRow>> {
    purchase_confirmations::table.find(purchase_id).select(ConfirmationRow::as_select()).first(conn).optional()
}

/// Whether both parties confirmed the purchase `purchase_id`.
pub fn is_confirmed(conn: &mut DbConn, purchase_id: &str) -> QueryResult<bool> {
    Ok(confirmation_of(conn, purchase_id)?.is_some_and(|c| c.state == ConfirmationState::Confirmed))
}

pub fn insert_confirmation(conn: &mut DbConn, row: &ConfirmationRow) -> QueryResult<()> {
    diesel::insert_into(purchase_confirmations::table).values(row).execute(conn).map(drop)
}

/// A payment against a purchase.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = payments)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct PaymentRow {
    pub id: String,
    pub purchase_id: String,
    pub paid_on: NaiveDate,
    pub amount_fen: i64,
    pub reference: String,
    pub recorded_by: String,
    pub recorded_at: NaiveDateTime,
}

pub fn insert_payment(conn: &mut DbConn, row: &PaymentRow) -> QueryResult<()> {
    diesel::insert_into(payments::table).values(row).execute(conn).map(drop)
}

pub fn payments_of(conn: &mut DbConn, purchase_id: &str) -> QueryResult<Vec<PaymentRow>> {
    payments::table
        .filter(payments::purchase_id.eq(purchase_id))
        .order((payments::paid_on, payments::recorded_at, payments::id))
        .select(PaymentRow::as_select())
        .load(conn)
}

/// Amount paid per purchase, for `ids`.
pub fn paid_of(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<(String, i64)>> {
    let rows: Vec<(String, i64)> =
        payments::table.filter(payments::purchase_id.eq_any(ids)).select((payments::purchase_id, payments::amount_fen)).load(conn)?;
    let mut sums: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
    for (id, amount) in rows {
        *sums.entry(id).or_default() += amount;
    }
    Ok(sums.into_iter().collect())
}
/// `(id, supplier id, purchase date, invoice number, total in fen)` of a ledger entry.
pub type EntryIdentity = (String, String, NaiveDate, Option<String>, i64);

/// The identities of a school's active entries (not voids, and not voided) from these
/// suppliers dated within `from..=to`: what an import checks its purchases against.
pub fn active_entries(
    conn: &mut DbConn,
    school_id: &str,
    supplier_ids: &[String],
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<EntryIdentity>> {
    let voids = diesel::alias!(purchases as voids);
    purchases::table
        .filter(purchases::school_id.eq(school_id))
        .filter(purchases::kind.eq(EntryKind::Entry))
        .filter(purchases::supplier_id.eq_any(supplier_ids))
        .filter(purchases::purchase_date.between(from, to))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            voids.filter(voids.field(purchases::voids_id).eq(purchases::id.nullable())).select(voids.field(purchases::id)),
        )))
        .select((purchases::id, purchases::supplier_id, purchases::purchase_date, purchases::invoice_no, purchases::total_fen))
        .load(conn)
}

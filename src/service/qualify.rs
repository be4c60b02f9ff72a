//! Loading what qualification needs from the database, evaluating purchases, and
//! re-evaluating every affected purchase when a tag or a designation changes.

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::db::DbConn;
use crate::db::repo::purchases::{self as purchase_repo, QualificationRow};
use crate::db::repo::reference;
use crate::db::repo::suppliers::{self, TagRow};

use crate::domain::qualification::{Designation, HeldTag, OriginCounty, Policy, Qualification, qualify};
use crate::error::ApiError;

/// The policy in force. Policies are data with a version; `gz-2019` is the default.
pub const POLICY: Policy = Policy::GZ_2019;

/// What qualification needs about one supplier.
#[derive(Debug, Clone)]
pub struct SupplierContext {
    pub tags: Vec<HeldTag>,
    pub origin: OriginCounty,
}

impl SupplierContext {
    pub fn qualify(&self, date: NaiveDate) -> Qualification {
        qualify(&POLICY, date, &self.tags, &self.origin)
    }
}

pub fn held_tags(rows: &[TagRow]) -> Vec<HeldTag> {
    rows.iter().map(|r| HeldTag { tag: r.tag, status: r.status, valid_from: r.valid_from, valid_to: r.valid_to }).collect()
}

/// Loads the tags and origin county of a supplier.
pub fn supplier_context(conn: &mut DbConn, supplier_id: &str, origin_county_code: &str) -> Result<SupplierContext, ApiError> {
    let mut contexts = supplier_contexts(conn, &[(supplier_id, origin_county_code)])?;
    contexts.remove(supplier_id).ok_or_else(|| ApiError::Internal(anyhow::anyhow!("no context loaded for supplier {supplier_id}")))
}

/// Loads the contexts of many suppliers, given as `(id, origin county code)`, with three
/// queries whatever their number.
pub fn supplier_contexts(conn: &mut DbConn, suppliers: &[(&str, &str)]) -> Result<HashMap<String, SupplierContext>, ApiError> {
    let ids: Vec<String> = suppliers.iter().map(|(id, _)| (*id).to_owned()).collect();
    let mut origins: Vec<&str> = suppliers.iter().map(|(_, origin)| *origin).collect();
    origins.sort_unstable();
    origins.dedup();
    let mut tags: HashMap<String, Vec<TagRow>> = HashMap::new();
    for t in suppliers::tags_of_many(conn, &ids)? {
        tags.entry(t.supplier_id.clone()).or_default().push(t);
    }
    let in_province: std::collections::HashSet<String> = reference::existing_county_codes(conn, &origins)?.into_iter().collect();
    let mut designations: HashMap<String, Vec<Designation>> = HashMap::new();
    for d in reference::designations_of_many(conn, &origins)? {
        designations.entry(d.county_code).or_default().push(Designation { valid_from: d.valid_from, valid_to: d.valid_to });
    }
    Ok(suppliers
        .iter()
        .map(|(id, origin)| {
            let ctx = SupplierContext {
                tags: held_tags(tags.get(*id).map_or(&[][..], Vec::as_slice)),
                origin: OriginCounty {
                    in_province: in_province.contains(*origin),
                    designations: designations.get(*origin).cloned().unwrap_or_default(),
                },
            };
            ((*id).to_owned(), ctx)
        })
        .collect())
}

/// The qualification row for a purchase.
pub fn row_for(purchase_id: &str, q: Qualification) -> QualificationRow {
    QualificationRow {
        purchase_id: purchase_id.to_owned(),
        class: q.class(),
        tag: q.tag(),
        policy_version: POLICY.version.to_owned(),
        evaluated_at: super::now(),
    }
}

/// One purchase whose qualification changed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Reclassified {
    pub purchase_id: String,
    pub from: String,
    pub to: String,
}

/// Re-evaluates every ledger entry from these suppliers and stores what changed.
/// Runs inside the caller's transaction; returns the changes (for the audit row).
pub fn reevaluate_suppliers(conn: &mut DbConn, supplier_ids: &[String]) -> Result<Vec<Reclassified>, ApiError> {
    // First, so that a concurrent re-evaluation of these suppliers (another tag review)
    // has committed before this one reads tags and current qualifications.
    suppliers::lock(conn, supplier_ids)?;
    let found = suppliers::find_many(conn, &supplier_ids.iter().map(String::as_str).collect::<Vec<_>>())?;
    let contexts = supplier_contexts(conn, &found.iter().map(|s| (s.id.as_str(), s.origin_county_code.as_str())).collect::<Vec<_>>())?;
    let mut moves = Vec::new();
    for (purchase_id, supplier_id, date, class, tag) in purchase_repo::qualifications_of_suppliers(conn, supplier_ids)? {
        let Some(ctx) = contexts.get(&supplier_id) else { continue };
        let before = Qualification::stored(class, tag).ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("purchase {purchase_id} has a contradictory qualification {class} / {tag:?}"))
        })?;
        let after = ctx.qualify(date);
        if before != after {
            let row = purchase_repo::find_row(conn, &purchase_id)?.ok_or(ApiError::NotFound("purchase"))?;
            moves.push((row, before, after));
        }
    }
    // Writers lock a school's chain head before its aggregate rows. Lock the heads of the
    // schools whose entries move first, in id order, so that a reclassification and a
    // concurrent write never wait for each other's rows in opposite orders.
    let mut schools_touched: Vec<&str> = moves.iter().map(|(row, ..)| row.school_id.as_str()).collect();
    schools_touched.sort_unstable();
    schools_touched.dedup();
    for school in schools_touched {
        crate::db::repo::schools::lock_head(conn, school)?;
    }
    let mut changed = Vec::with_capacity(moves.len());
    for (row, before, after) in moves {
        purchase_repo::set_qualification(conn, &row_for(&row.id, after))?;
        let lines = purchase_repo::lines_of(conn, std::slice::from_ref(&row.id))?;
        super::aggregates::reclassify(conn, &row, &lines, before, after)?;
        changed.push(Reclassified { purchase_id: row.id, from: describe(before), to: describe(after) });
    }
    Ok(changed)
}

fn describe(q: Qualification) -> String {
    match q.tag() {
        Some(t) => format!("{}:{t}", q.class()),
        None => q.class().as_str().to_owned(),
    }
}

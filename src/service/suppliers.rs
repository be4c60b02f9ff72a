//! Suppliers and their tags. Tags are declared (by the supplier itself, the bureau of its
//! origin county, the province or an admin), then verified or revoked by the bureau of the supplier's origin county or the
//! province; every review re-evaluates the supplier's purchases in the same transaction.

use chrono::NaiveDate;

use super::qualify::reevaluate_suppliers;
use crate::db::repo::reference;
use crate::db::repo::suppliers::{self, SupplierFilter, SupplierRow, TagRow};
use crate::db::{DbConn, write_tx};
use crate::domain::access::Caller;
use crate::domain::catalog::{SupplierKind, Tag, TagStatus};
use crate::domain::{DomainError, division};
use crate::error::ApiError;
use crate::error::Code;
use crate::error::ProblemType;

/// GB/T 2260 province prefix of Guizhou: origin codes under it must be known counties.
pub const PROVINCE_PREFIX: &str = "52";

#[derive(Debug, Clone)]
pub struct NewSupplier {
    pub name: String,
    pub kind: SupplierKind,
    pub origin_county_code: String,
    pub registration_ref: String,
    pub payment_terms_days: i32,
}

/// Payment terms when a supplier's registration does not state them.
pub const DEFAULT_PAYMENT_TERMS_DAYS: i32 = 30;

#[derive(Debug, Clone)]
pub struct NewTag {
    pub tag: Tag,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    pub evidence: String,
}

/// A supplier with its tags.
#[derive(Debug, Clone)]
pub struct SupplierWithTags {
    pub supplier: SupplierRow,
    pub tags: Vec<TagRow>,
    pub in_province: bool,
}

pub fn create(conn: &mut DbConn, user: &Caller, new: NewSupplier) -> Result<SupplierWithTags, ApiError> {
    if !user.may_register_suppliers() {
        return Err(ApiError::Forbidden("your role may not register suppliers".into()));
    }
    write_tx(conn, |conn| {
        let in_province = reference::find_county(conn, &new.origin_county_code)?.is_some();
        if !in_province && new.origin_county_code.starts_with(PROVINCE_PREFIX) {
            return Err(ApiError::field("origin_county_code", Code::UnknownCounty, "no such county in the province"));
        }
        if !in_province && !division::is_county_level_code(&new.origin_county_code) {
            return Err(ApiError::field(
                "origin_county_code",
                Code::UnknownCounty,
                "not a county-level GB/T 2260 code: the first two digits must be a province's (11–65, 71, 81, 82)",
            ));
        }
        let row = SupplierRow {
            id: super::new_id(),
            name: new.name,
            kind: new.kind,
            origin_county_code: new.origin_county_code,
            registration_ref: new.registration_ref,
            created_by: user.actor(),
            created_at: super::now(),
            payment_terms_days: new.payment_terms_days,
        };
        suppliers::insert(conn, &row)?;
        super::audit(
            conn,
            &user.actor(),
            "supplier.create",
            ("supplier", &row.id),
            None,
            Some(super::json(&serde_json::json!({
                "name": row.name, "kind": row.kind, "origin_county_code": row.origin_county_code, "registration_ref": row.registration_ref,
                "payment_terms_days": row.payment_terms_days
            }))?),
        )?;
        Ok(SupplierWithTags { supplier: row, tags: Vec::new(), in_province })
    })
}

/// Every signed-in caller may read suppliers (they are not confidential).
pub fn get(conn: &mut DbConn, id: &str) -> Result<SupplierWithTags, ApiError> {
    let supplier = suppliers::find(conn, id)?.ok_or(ApiError::NotFound("supplier"))?;
    let tags = suppliers::tags_of(conn, id)?;
    let in_province = reference::find_county(conn, &supplier.origin_county_code)?.is_some();
    Ok(SupplierWithTags { supplier, tags, in_province })
}

pub fn list(conn: &mut DbConn, filter: &SupplierFilter) -> Result<Vec<SupplierWithTags>, ApiError> {
    let rows = suppliers::list(conn, filter)?;
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let tags = suppliers::tags_of_many(conn, &ids)?;
    let counties: std::collections::HashSet<String> = reference::list_counties(conn, None)?.into_iter().map(|c| c.code).collect();
    Ok(rows
        .into_iter()
        .map(|supplier| SupplierWithTags {
            tags: tags.iter().filter(|t| t.supplier_id == supplier.id).cloned().collect(),
            in_province: counties.contains(&supplier.origin_county_code),
            supplier,
        })
        .collect())
}

pub fn declare_tag(conn: &mut DbConn, user: &Caller, supplier_id: &str, new: NewTag) -> Result<TagRow, ApiError> {
    if new.valid_to.is_some_and(|to| to < new.valid_from) {
        return Err(ApiError::domain("valid_to", &DomainError::InvertedValidity));
    }
    if new.evidence.trim().is_empty() {
        return Err(ApiError::domain("evidence", &DomainError::Blank));
    }
    write_tx(conn, |conn| {
        let supplier = suppliers::find(conn, supplier_id)?.ok_or(ApiError::NotFound("supplier"))?;
        if !user.may_declare_tag(supplier_id, &supplier.origin_county_code) {
            return Err(ApiError::Forbidden(
                "tags are declared by the supplier itself, the bureau of its origin county or the province".into(),
            ));
        }
        let row = TagRow {
            id: super::new_id(),
            supplier_id: supplier_id.to_owned(),
            tag: new.tag,
            status: TagStatus::Declared,
            valid_from: new.valid_from,
            valid_to: new.valid_to,
            evidence: new.evidence.trim().to_owned(),
            declared_by: user.actor(),
            declared_at: super::now(),
            reviewed_by: None,
            reviewed_at: None,
            review_note: None,
        };
        suppliers::insert_tag(conn, &row)?;
        let changed = reevaluate_suppliers(conn, &[supplier_id.to_owned()])?;
        super::audit(
            conn,
            &user.actor(),
            "supplier.tag.declare",
            ("supplier_tag", &row.id),
            None,
            Some(serde_json::json!({"tag": super::json(&row)?, "reclassified": changed})),
        )?;
        Ok(row)
    })
}

/// Verifies (`to = Verified`) or revokes (`to = Revoked`) a tag, and re-evaluates.
pub fn review_tag(
    conn: &mut DbConn,
    user: &Caller,
    supplier_id: &str,
    tag_id: &str,
    to: TagStatus,
    note: Option<String>,
) -> Result<(TagRow, usize), ApiError> {
    write_tx(conn, |conn| {
        let supplier = suppliers::find(conn, supplier_id)?.ok_or(ApiError::NotFound("supplier"))?;
        let before = suppliers::find_tag(conn, supplier_id, tag_id)?.ok_or(ApiError::NotFound("tag"))?;
        if !user.may_review_tags_from(&supplier.origin_county_code) {
            return Err(ApiError::Forbidden("tags are reviewed by the bureau of the supplier's origin county or the province".into()));
        }
        let allowed = match to {
            TagStatus::Verified => before.status == TagStatus::Declared,
            TagStatus::Revoked => before.status != TagStatus::Revoked,
            TagStatus::Declared => false,
        };
        if !allowed {
            return Err(ApiError::conflict(ProblemType::TagState, format!("a {} tag cannot become {}", before.status, to.as_str())));
        }
        suppliers::review_tag(conn, tag_id, to.as_str(), &user.actor(), super::now(), note.as_deref())?;
        let after = suppliers::find_tag(conn, supplier_id, tag_id)?.ok_or(ApiError::NotFound("tag"))?;
        let changed = reevaluate_suppliers(conn, &[supplier_id.to_owned()])?;
        let action = if to == TagStatus::Verified { "supplier.tag.verify" } else { "supplier.tag.revoke" };
        super::audit(
            conn,
            &user.actor(),
            action,
            ("supplier_tag", tag_id),
            Some(super::json(&before)?),
            Some(serde_json::json!({"tag": super::json(&after)?, "reclassified": changed})),
        )?;
        Ok((after, changed.len()))
    })
}

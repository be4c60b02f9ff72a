//! Importing a spreadsheet of purchases: all or nothing, in one transaction.
//!
//! The file has already been read and every row checked against the rules of
//! `POST /purchases` (`http::imports`). Here, under the school's chain-head lock: a file
//! imported before (same school, same SHA-256) is answered with the stored result; then
//! the checks that need the database (unknown suppliers, duplicates of active ledger
//! entries) are added to the file's own errors; if there is any error nothing is written;
//! otherwise the purchases are recorded through `record::record_many` (the pipeline of
//! every create, with keys derived from the file's hash), the import is stored with
//! its response, and audited. Any failure rolls the whole import back.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;

use super::purchases::{IdempotentRequest, NewPurchase};
use super::record::{self, Done, Item};
use super::views::import::ImportResponse;
use super::views::purchase::Answer;
use crate::db::repo::imports::{self, ImportRow};
use crate::db::repo::purchases;
use crate::db::repo::suppliers;
use crate::db::{DbConn, write_tx};
use crate::domain::access::Caller;
use crate::domain::import::{CellError, Column, MAX_ERRORS};
use crate::error::Code;
use crate::error::{ApiError, FieldError, ProblemType};

/// One purchase of the file, checked, with the rows it came from.
#[derive(Debug, Clone)]
pub struct PlannedPurchase {
    /// Spreadsheet rows of its lines, in order.
    pub rows: Vec<u32>,
    pub new: NewPurchase,
    /// The equivalent `POST /purchases` body, stored with its idempotency key.
    pub body: serde_json::Value,
}

/// A read and checked file, ready to be imported.
#[derive(Debug, Clone)]
pub struct ImportPlan {
    pub school_id: String,
    pub file_sha256: String,
    pub file_name: String,
    /// `csv` or `xlsx`.
    pub format: &'static str,
    /// Data rows read (blank rows not counted).
    pub rows: usize,
    /// The purchases whose rows are all valid.
    pub purchases: Vec<PlannedPurchase>,
    /// Every row naming each supplier id, to report unknown suppliers on each.
    pub supplier_rows: BTreeMap<String, Vec<u32>>,
    /// What is wrong with the file's cells and rows.
    pub errors: Vec<CellError>,
}

/// What a successful import created.
#[derive(Debug, Clone)]
pub struct ImportSummary {
    pub import_id: String,
    pub school_id: String,
    pub file_sha256: String,
    pub file_name: String,
    pub format: &'static str,
    pub rows: usize,
    pub purchase_ids: Vec<String>,
}

/// The answer: a new import, or the stored answer to the first upload of the same file.
#[derive(Debug, Clone)]
pub enum Imported {
    Created(String),
    Replayed(String),
}

/// The school a caller may import for: a canteen's own, nobody else's.
pub fn importing_school(user: &Caller) -> Result<String, ApiError> {
    user.ledger_school()
        .map(str::to_owned)
        .ok_or_else(|| ApiError::Forbidden("only a school's canteen imports purchases, into its own school".into()))
}

/// The stored response of an earlier import of the same file by the same school.
pub fn replayed(conn: &mut DbConn, school_id: &str, file_sha256: &str) -> Result<Option<String>, ApiError> {
    Ok(imports::find_by_sha(conn, school_id, file_sha256)?.map(|row| row.response_body))
}

/// Imports the plan, all or nothing. Each purchase's idempotency key stores what
/// `POST /purchases` would (its payment as of `today`); the import's own answer
/// ([`ImportResponse`]) is stored for replays.
pub fn import(conn: &mut DbConn, user: &Caller, plan: ImportPlan, today: NaiveDate) -> Result<Imported, ApiError> {
    if importing_school(user)? != plan.school_id {
        return Err(ApiError::Forbidden("you may import only into your own school".into()));
    }
    write_tx(conn, |conn| {
        let items: Vec<Item> = plan
            .purchases
            .iter()
            .enumerate()
            .map(|(n, p)| Item::keyed(p.new.clone(), IdempotentRequest::new(key(&plan, n), &p.body)))
            .collect();
        // Serializes imports (and records) of the school: a concurrent upload of the same
        // file waits here and then finds the first one's result.
        let head = record::lock(conn, &plan.school_id, &items)?.ok_or(ApiError::NotFound("school"))?;
        if let Some(body) = replayed(conn, &plan.school_id, &plan.file_sha256)? {
            return Ok(Imported::Replayed(body));
        }
        let mut errors = plan.errors.clone();
        errors.extend(unknown_suppliers(conn, &plan.supplier_rows)?);
        errors.extend(ledger_duplicates(conn, &plan.school_id, &plan.purchases)?);
        if !errors.is_empty() {
            return Err(ApiError::Validation(field_errors(errors)));
        }
        let outcomes = record::record_many(conn, user, &plan.school_id, head, items, Answer::Entry { today })?;
        let purchase_ids = created_ids(&plan, outcomes)?;
        let summary = ImportSummary {
            import_id: super::new_id(),
            school_id: plan.school_id.clone(),
            file_sha256: plan.file_sha256.clone(),
            file_name: plan.file_name.clone(),
            format: plan.format,
            rows: plan.rows,
            purchase_ids,
        };
        let body = super::views::body(&ImportResponse::from(&summary))?;
        store(conn, user, &summary, &body)?;
        Ok(Imported::Created(body))
    })
}

/// The idempotency key of the file's purchase `n`, derived from the file's hash.
fn key(plan: &ImportPlan, n: usize) -> String {
    let prefix = plan.file_sha256.get(..16).unwrap_or(&plan.file_sha256);
    format!("import-{prefix}-{}", n + 1)
}

/// The new entries' ids, in order, if every purchase of the file was recorded: any that
/// failed, or whose derived key was taken, fails the import.
fn created_ids(plan: &ImportPlan, outcomes: Vec<record::Outcome>) -> Result<Vec<String>, ApiError> {
    outcomes
        .into_iter()
        .enumerate()
        .map(|(n, outcome)| match outcome? {
            Done::Created { entry, .. } => Ok(entry.purchase.id),
            Done::Replayed { .. } => Err(ApiError::conflict(
                ProblemType::IdempotencyKeyReused,
                format!("the idempotency key {:?} derived for this file's purchase {} is already taken", key(plan, n), n + 1),
            )),
        })
        .collect()
}

/// Stores the import with its response (for replays) and audits it.
fn store(conn: &mut DbConn, user: &Caller, summary: &ImportSummary, body: &str) -> Result<(), ApiError> {
    let count = |n: usize| i32::try_from(n).map_err(|e| ApiError::Internal(e.into()));
    imports::insert(
        conn,
        &ImportRow {
            id: summary.import_id.clone(),
            school_id: summary.school_id.clone(),
            file_sha256: summary.file_sha256.clone(),
            file_name: summary.file_name.clone(),
            format: summary.format.to_owned(),
            row_count: count(summary.rows)?,
            purchase_count: count(summary.purchase_ids.len())?,
            created_by: user.actor(),
            created_at: super::now(),
            response_body: body.to_owned(),
        },
    )?;
    super::audit(
        conn,
        &user.actor(),
        "import.create",
        ("import", &summary.import_id),
        None,
        Some(serde_json::json!({
            "school_id": summary.school_id,
            "file_sha256": summary.file_sha256,
            "file_name": summary.file_name,
            "format": summary.format,
            "rows": summary.rows,
            "purchases": summary.purchase_ids.len(),
        })),
    )
}

/// A cell error on every row naming a supplier id that is not registered.
fn unknown_suppliers(conn: &mut DbConn, supplier_rows: &BTreeMap<String, Vec<u32>>) -> Result<Vec<CellError>, ApiError> {
    let ids: Vec<String> = supplier_rows.keys().cloned().collect();
    let known: HashSet<String> = suppliers::existing_ids(conn, &ids)?.into_iter().collect();
    Ok(supplier_rows
        .iter()
        .filter(|(id, _)| !known.contains(*id))
        .flat_map(|(_, rows)| {
            rows.iter().map(|r| CellError::new(*r, Some(Column::SupplierId), Code::UnknownSupplier, Column::SupplierId.rule()))
        })
        .collect())
}

/// A purchase's identity for duplicate detection; a blank invoice number is no number.
type Identity = (String, NaiveDate, Option<String>, i64);

fn invoice_key(invoice: Option<&str>) -> Option<String> {
    invoice.map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// A row error for every purchase that repeats an active entry of the school's ledger
/// (same supplier, purchase date, invoice number and total).
fn ledger_duplicates(conn: &mut DbConn, school_id: &str, planned: &[PlannedPurchase]) -> Result<Vec<CellError>, ApiError> {
    let (Some(from), Some(to)) =
        (planned.iter().map(|p| p.new.draft.purchase_date).min(), planned.iter().map(|p| p.new.draft.purchase_date).max())
    else {
        return Ok(Vec::new());
    };
    let supplier_ids: Vec<String> = planned.iter().map(|p| p.new.supplier_id.clone()).collect::<HashSet<_>>().into_iter().collect();
    let existing: HashMap<Identity, String> = purchases::active_entries(conn, school_id, &supplier_ids, from, to)?
        .into_iter()
        .map(|(id, supplier, date, invoice, total)| ((supplier, date, invoice_key(invoice.as_deref()), total), id))
        .collect();
    Ok(planned
        .iter()
        .filter_map(|p| {
            let identity =
                (p.new.supplier_id.clone(), p.new.draft.purchase_date, invoice_key(p.new.invoice_no.as_deref()), p.new.draft.total.fen());
            let id = existing.get(&identity)?;
            let first = p.rows.first().copied().unwrap_or(0);
            Some(CellError::new(
                first,
                None,
                Code::Duplicate,
                format!(
                    "与账本中已有的采购 {id} 重复（供应商、日期、发票号和总金额都相同） / duplicates purchase {id} already in the ledger (same supplier, date, invoice number and total)"
                ),
            ))
        })
        .collect())
}

/// Cell errors as problem fields, in sheet order, at most `MAX_ERRORS` of them.
pub fn field_errors(mut errors: Vec<CellError>) -> Vec<FieldError> {
    errors.sort_by_key(CellError::sort_key);
    let total = errors.len();
    let mut out: Vec<FieldError> = errors.into_iter().take(MAX_ERRORS).map(|e| FieldError::new(e.field(), e.code, e.message)).collect();
    if total > MAX_ERRORS {
        let more = total - MAX_ERRORS;
        out.push(FieldError::new("file", Code::TooManyErrors, format!("另有 {more} 个错误未列出 / {more} more errors are not listed")));
    }
    out
}

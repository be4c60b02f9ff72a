//! Recording, voiding, reading and verifying the ledger.
//!
//! A record is one transaction: lock the school's chain head, re-check the idempotency
//! key, check the supplier, qualify, insert entry + lines + qualification, advance the
//! head, store the response under the key, audit. Concurrent retries with one key are
//! serialized by the head lock and find the stored response.

use chrono::NaiveDate;
use sha2::{Digest, Sha256};

use super::aggregates;
use super::record::{self, Done, Item};
use super::views::purchase::Answer;
use super::webhooks;
use crate::db::repo::idempotency;
use crate::db::repo::purchases::{self, FullPurchase, LineRow, PurchaseFilter, PurchaseRow};
use crate::db::repo::{reference, schools, suppliers};
use crate::db::{DbConn, write_tx};
use crate::domain::access::{Caller, Place, SchoolSet, TradeSet};
use crate::domain::catalog::{EntryKind, Tag};
use crate::domain::ledger::{self, BrokenLink, ChainEntry, ChainLine};
use crate::domain::purchase::PurchaseDraft;
use crate::domain::qualification::Qualification;
use crate::domain::webhook;
use crate::error::Code;
use crate::error::{ApiError, FieldError, ProblemType};

/// A validated purchase to record.
#[derive(Debug, Clone)]
pub struct NewPurchase {
    pub school_id: String,
    pub supplier_id: String,
    pub invoice_no: Option<String>,
    pub draft: PurchaseDraft,
}

/// The request as it arrived, for idempotency: its key and the canonical JSON of its
/// body (kept as text: a parsed document costs several times its size in memory, and a
/// batch holds a thousand of them).
#[derive(Debug, Clone)]
pub struct IdempotentRequest {
    pub key: String,
    canonical: String,
}

impl IdempotentRequest {
    pub fn new(key: String, body: &serde_json::Value) -> Self {
        Self { key, canonical: body.to_string() }
    }

    pub fn hash(&self) -> String {
        hex::encode(Sha256::digest(self.canonical.as_bytes()))
    }

    /// The body as stored under the key.
    pub fn canonical(&self) -> &str {
        &self.canonical
    }

    /// The body parsed again, to name what differs from a stored request.
    pub fn body(&self) -> serde_json::Value {
        serde_json::from_str(&self.canonical).unwrap_or_default()
    }
}

/// What a create answered: a new entry, or the stored answer to an earlier identical request.
#[derive(Debug, Clone)]
pub enum Recorded {
    Created(String),
    Replayed { status: u16, body: String },
}

/// Looks up a key without locking: the fast path for retries.
fn replay(conn: &mut DbConn, school_id: &str, req: &IdempotentRequest) -> Result<Option<Recorded>, ApiError> {
    let Some(stored) = idempotency::find(conn, school_id, &req.key)? else { return Ok(None) };
    record::answer_stored(&stored, req).map(|done| Some(done.into_recorded()))
}

/// Paths of the leaves where two JSON documents differ.
pub fn diff_fields(a: &serde_json::Value, b: &serde_json::Value) -> Vec<FieldError> {
    fn walk(path: &str, a: Option<&serde_json::Value>, b: Option<&serde_json::Value>, out: &mut Vec<String>) {
        use serde_json::Value::{Array, Object};
        match (a, b) {
            (Some(Object(x)), Some(Object(y))) => {
                let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
                for k in keys {
                    let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                    walk(&p, x.get(k), y.get(k), out);
                }
            }
            (Some(Array(x)), Some(Array(y))) => {
                for i in 0..x.len().max(y.len()) {
                    walk(&format!("{path}[{i}]"), x.get(i), y.get(i), out);
                }
            }
            (x, y) if x != y => out.push(path.to_owned()),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk("", Some(a), Some(b), &mut out);
    out.into_iter().map(|f| FieldError::new(f, Code::Differs, "differs from the request first sent with this Idempotency-Key")).collect()
}

/// The chain view of a stored entry: every stored field but the hashes.
pub fn chain_entry(p: &PurchaseRow, lines: &[LineRow]) -> ChainEntry {
    ChainEntry {
        version: p.chain_version,
        id: p.id.clone(),
        school_id: p.school_id.clone(),
        county_code: p.county_code.clone(),
        seq: p.seq,
        kind: p.kind.as_str().to_owned(),
        supplier_id: p.supplier_id.clone(),
        purchase_date: p.purchase_date.format("%Y-%m-%d").to_string(),
        invoice_no: p.invoice_no.clone(),
        voids_id: p.voids_id.clone(),
        void_reason: p.void_reason.clone(),
        total_fen: p.total_fen,
        recorded_by: p.recorded_by.clone(),
        recorded_at: p.recorded_at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string(),
        idempotency_key: p.idempotency_key.clone(),
        corrects_id: p.corrects_id.clone(),
        lines: lines
            .iter()
            .map(|l| ChainLine {
                purchase_id: l.purchase_id.clone(),
                line_no: l.line_no,
                category: l.category.as_str().to_owned(),
                description: l.description.clone(),
                quantity_milli: l.quantity_milli,
                unit: l.unit.as_str().to_owned(),
                unit_price_e4: l.unit_price_e4,
                amount_fen: l.amount_fen,
                mass_mg: l.mass_mg,
            })
            .collect(),
    }
}

/// Appends an entry to the school's chain (head already locked): fills seq and hashes.
fn append(
    conn: &mut DbConn,
    mut row: PurchaseRow,
    lines: &[LineRow],
    head: (i64, String),
    q: purchases::QualificationRow,
) -> Result<PurchaseRow, ApiError> {
    record::seal(&mut row, lines, &head);
    purchases::insert(conn, &row, lines, &q)?;
    schools::set_head(conn, &row.school_id, row.seq, &row.hash)?;
    Ok(row)
}

/// Records a purchase for the caller's own school, idempotently. The answer (the entry,
/// its payment as of `today`) is stored under the key and replayed on retries.
pub fn record(conn: &mut DbConn, user: &Caller, new: NewPurchase, req: &IdempotentRequest, today: NaiveDate) -> Result<Recorded, ApiError> {
    check_writer(user, &new.school_id)?;
    if let Some(done) = replay(conn, &new.school_id, req)? {
        return Ok(done);
    }
    write_tx(conn, |conn| {
        let item = Item::keyed(new, req.clone());
        let head = record::lock(conn, &item.new.school_id, std::slice::from_ref(&item))?.ok_or(ApiError::NotFound("school"))?;
        Ok(record::record_one(conn, user, head, item, Answer::Entry { today })?.into_recorded())
    })
}

pub(crate) fn check_writer(user: &Caller, school_id: &str) -> Result<(), ApiError> {
    if user.may_write_ledger_of(school_id) {
        Ok(())
    } else {
        Err(ApiError::Forbidden("you may record purchases only for your own school".into()))
    }
}

/// A purchase the caller may void or correct: 404 outside its scope, 403 when it may read
/// but not write it.
fn writable(conn: &mut DbConn, user: &Caller, purchase_id: &str, what: &str) -> Result<FullPurchase, ApiError> {
    let seen = visible(conn, user, purchase_id)?;
    if !user.may_write_ledger_of(&seen.purchase.school_id) {
        return Err(ApiError::Forbidden(format!("only the school's canteen may {what} its purchases")));
    }
    Ok(seen)
}

/// Voids an entry with a reversal entry dated the same business date. With `req`, the void
/// is idempotent like a create: the same key and request get the stored answer, another
/// request with the key is a 409 naming what differs, and concurrent retries void once
/// (keys are the school's, shared with creates). Voiding twice is a 409 `already-voided`
/// (also enforced by a unique constraint on `voids_id`). The answer is the reversal, its
/// payment as of `today`.
pub fn void(
    conn: &mut DbConn,
    user: &Caller,
    purchase_id: &str,
    reason: &str,
    req: Option<&IdempotentRequest>,
    today: NaiveDate,
) -> Result<Recorded, ApiError> {
    let seen = writable(conn, user, purchase_id, "void")?;
    let school_id = seen.purchase.school_id.as_str();
    if let Some(req) = req
        && let Some(done) = replay(conn, school_id, req)?
    {
        return Ok(done);
    }
    write_tx(conn, |conn| {
        // The reversal copies the qualification: read it again once a tag review of the
        // supplier can no longer be changing it.
        let head = schools::lock_for_write(conn, school_id, &[seen.purchase.supplier_id.as_str()])?.ok_or(ApiError::NotFound("school"))?;
        if let Some(req) = req
            && let Some(done) = replay(conn, school_id, req)?
        {
            return Ok(done);
        }
        let reversal = void_in_tx(conn, user, purchase_id, reason, head, req.map(|r| r.key.clone()))?;
        let body = Answer::Entry { today }.render(&reversal)?;
        if let Some(req) = req {
            idempotency::insert(conn, &record::stored_answer(&reversal.purchase, req, &body))?;
        }
        Ok(Recorded::Created(body))
    })
}

/// Appends the reversal of `purchase_id` inside the caller's write transaction, its
/// school's head (and the purchase's supplier) locked by the caller: checks it may be
/// voided (not a void, not voided, no payments), chains the reversal, updates the
/// aggregates, audits and emits `purchase.voided`. Returns the reversal as stored.
pub(crate) fn void_in_tx(
    conn: &mut DbConn,
    user: &Caller,
    purchase_id: &str,
    reason: &str,
    head: (i64, String),
    idempotency_key: Option<String>,
) -> Result<FullPurchase, ApiError> {
    let original = purchases::find(conn, purchase_id)?.ok_or(ApiError::NotFound("purchase"))?;
    if original.purchase.kind == EntryKind::Void {
        return Err(ApiError::conflict(ProblemType::NotVoidable, "a void entry cannot itself be voided"));
    }
    if purchases::void_of(conn, purchase_id)?.is_some() {
        return Err(ApiError::conflict(ProblemType::AlreadyVoided, "this purchase has already been voided"));
    }
    // Read again under the head lock: a payment may have been recorded meanwhile.
    if !purchases::paid_of(conn, std::slice::from_ref(&original.purchase.id))?.is_empty() {
        return Err(ApiError::conflict(ProblemType::HasPayments, "a purchase with payments recorded against it cannot be voided"));
    }
    let (row, lines, q) = reversal_of(&original, user, reason, idempotency_key)?;
    let p = &original.purchase;
    let qualification = Qualification::stored(q.class, q.tag)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("purchase {} has a contradictory qualification", p.id)))?;
    let row = append(conn, row, &lines, head, q)?;
    let confirmed = purchases::is_confirmed(conn, &p.id)?;
    aggregates::apply(conn, &aggregates::delta(&row, &lines, qualification, 1, -1, confirmed))?;
    super::audit(
        conn,
        &user.actor(),
        "purchase.void",
        ("purchase", &p.id),
        None,
        Some(serde_json::json!({"void_id": row.id, "reason": reason, "seq": row.seq, "hash": row.hash})),
    )?;
    webhooks::emit(conn, &row.supplier_id, webhook::PURCHASE_VOIDED, webhooks::purchase_payload(&row))?;
    purchases::find(conn, &row.id)?.ok_or(ApiError::NotFound("purchase"))
}

/// The reversal entry of `original` (not yet on the chain): its lines negated, and the
/// original's qualification, so that it cancels the original exactly.
fn reversal_of(
    original: &FullPurchase,
    user: &Caller,
    reason: &str,
    idempotency_key: Option<String>,
) -> Result<(PurchaseRow, Vec<LineRow>, purchases::QualificationRow), ApiError> {
    let id = super::new_id();
    let p = &original.purchase;
    let lines: Vec<LineRow> = original
        .lines
        .iter()
        .map(|l| LineRow {
            purchase_id: id.clone(),
            quantity_milli: -l.quantity_milli,
            amount_fen: -l.amount_fen,
            mass_mg: l.mass_mg.map(|m| -m),
            ..l.clone()
        })
        .collect();
    let row = PurchaseRow {
        id: id.clone(),
        kind: EntryKind::Void,
        voids_id: Some(p.id.clone()),
        void_reason: Some(reason.to_owned()),
        total_fen: -p.total_fen,
        seq: 0,
        prev_hash: String::new(),
        hash: String::new(),
        recorded_by: user.actor(),
        recorded_at: super::now(),
        idempotency_key,
        corrects_id: None,
        ..p.clone()
    };
    let q = match &original.qualification {
        Some(q) => purchases::QualificationRow { purchase_id: id.clone(), evaluated_at: super::now(), ..q.clone() },
        None => return Err(ApiError::Internal(anyhow::anyhow!("purchase {} has no qualification", p.id))),
    };
    Ok((row, lines, q))
}

/// Corrects an entry in one transaction: voids it (as [`void`] does) and records `new` (as
/// [`record`] does) on top of the reversal, the new entry naming the one it corrects.
/// Idempotent under `req` like a create. `new` must be for the entry's school (a 422 on
/// `purchase.school_id` otherwise); any error of either half writes nothing, and field
/// errors of the new entry are named under `purchase.`. The answer stored under the key is
/// the reversal and the new entry, their payments as of `today`.
pub fn correct(
    conn: &mut DbConn,
    user: &Caller,
    purchase_id: &str,
    reason: &str,
    new: &NewPurchase,
    req: &IdempotentRequest,
    today: NaiveDate,
) -> Result<Recorded, ApiError> {
    let seen = writable(conn, user, purchase_id, "correct")?;
    let school_id = seen.purchase.school_id.as_str();
    if new.school_id != school_id {
        return Err(ApiError::field(
            "purchase.school_id",
            Code::OtherSchool,
            "a correction is recorded in the school of the entry it corrects",
        ));
    }
    if let Some(done) = replay(conn, school_id, req)? {
        return Ok(done);
    }
    write_tx(conn, |conn| {
        // Both halves' suppliers, then the head: the one lock order of every writer.
        let mut supplier_ids = vec![seen.purchase.supplier_id.as_str(), new.supplier_id.as_str()];
        supplier_ids.sort_unstable();
        supplier_ids.dedup();
        let head = schools::lock_for_write(conn, school_id, &supplier_ids)?.ok_or(ApiError::NotFound("school"))?;
        if let Some(done) = replay(conn, school_id, req)? {
            return Ok(done);
        }
        let reversal = void_in_tx(conn, user, purchase_id, reason, head, None)?;
        let item = Item { new: new.clone(), req: Some(req.clone()), delivery: None, corrects: Some(purchase_id.to_owned()) };
        let head = (reversal.purchase.seq, reversal.purchase.hash.clone());
        let answer = Answer::Correction { void: &reversal, today };
        let done = record::record_one(conn, user, head, item, answer).map_err(|e| within("purchase", e))?;
        let new_id = match &done {
            Done::Created { entry, .. } => Some(entry.purchase.id.clone()),
            Done::Replayed { .. } => None,
        };
        let recorded = done.into_recorded();
        super::audit(
            conn,
            &user.actor(),
            "purchase.correct",
            ("purchase", purchase_id),
            None,
            Some(serde_json::json!({"void_id": reversal.purchase.id, "corrected_by": new_id, "reason": reason})),
        )?;
        Ok(recorded)
    })
}

/// Field errors of a part of a request named under its key (`supplier_id` →
/// `purchase.supplier_id`).
pub fn within(prefix: &str, e: ApiError) -> ApiError {
    match e {
        ApiError::Validation(fields) => {
            ApiError::Validation(fields.into_iter().map(|f| FieldError { field: format!("{prefix}.{}", f.field), ..f }).collect())
        }
        other => other,
    }
}

/// A purchase the caller may see; anything else is "not found".
pub fn visible(conn: &mut DbConn, user: &Caller, id: &str) -> Result<FullPurchase, ApiError> {
    let full = purchases::find(conn, id)?.ok_or(ApiError::NotFound("purchase"))?;
    let p = &full.purchase;
    let ok = user.scope().may_read_trade(&p.supplier_id, || {
        let prefecture = reference::find_county(conn, &p.county_code)?.map(|c| c.prefecture_code).unwrap_or_default();
        Ok::<_, ApiError>(Some(Place::new(&p.school_id, &p.county_code, &prefecture)))
    })?;
    if ok { Ok(full) } else { Err(ApiError::NotFound("purchase")) }
}

/// What a caller asked to list.
#[derive(Debug, Clone, Default)]
pub struct ListRequest {
    pub school_id: Option<String>,
    pub supplier_id: Option<String>,
    pub from: Option<chrono::NaiveDate>,
    pub to: Option<chrono::NaiveDate>,
    pub after_id: Option<String>,
    pub limit: i64,
}

/// Lists purchases within the caller's scope; a filter outside it is a 403.
pub fn list(conn: &mut DbConn, user: &Caller, req: ListRequest) -> Result<Vec<FullPurchase>, ApiError> {
    let outside = || ApiError::Forbidden("the filter is outside your scope".into());
    let mut f = PurchaseFilter {
        supplier_id: req.supplier_id.clone(),
        from: req.from,
        to: req.to,
        after_id: req.after_id,
        limit: req.limit,
        ..PurchaseFilter::default()
    };
    let scope = user.scope();
    if let Some(sid) = &req.school_id {
        // A supplier may narrow its own purchases to one school it sold to.
        if !scope.may_narrow_trades_to_school(|| Ok::<_, ApiError>(schools::find(conn, sid)?.as_ref().map(super::schools::place)))? {
            return Err(outside());
        }
        f.school_ids = Some(vec![sid.clone()]);
    }
    if !scope.may_narrow_trades_to_supplier(req.supplier_id.as_deref()) {
        return Err(outside());
    }
    narrow(conn, &mut f, scope.trades())?;
    let rows = purchases::list(conn, &f)?;
    Ok(purchases::hydrate(conn, rows)?)
}

/// Narrows a purchase filter to the trades a caller's lists hold.
fn narrow(conn: &mut DbConn, f: &mut PurchaseFilter, set: TradeSet<'_>) -> Result<(), ApiError> {
    match set {
        TradeSet::Schools(SchoolSet::All) => {}
        TradeSet::Schools(SchoolSet::Prefecture(p)) => {
            let counties = reference::list_counties(conn, Some(p))?.into_iter().map(|c| c.code).collect();
            f.prefecture_counties = Some(counties);
        }
        TradeSet::Schools(SchoolSet::County(c)) => f.county_code = Some(c.to_owned()),
        TradeSet::Schools(SchoolSet::School(s)) => f.school_ids = Some(vec![s.to_owned()]),
        TradeSet::Supplier(s) => f.supplier_id = Some(s.to_owned()),
    }
    Ok(())
}

/// Result of walking a school's chain.
#[derive(Debug, Clone)]
pub struct ChainReport {
    pub entries: i64,
    pub head_seq: i64,
    pub head_hash: String,
    pub broken: Option<BrokenLink>,
}

/// Recomputes a school's hash chain from the stored entries, and each entry's derived
/// fields and qualification, in one snapshot.
pub fn verify_chain(conn: &mut DbConn, user: &Caller, school_id: &str) -> Result<ChainReport, ApiError> {
    crate::db::read_tx(conn, |conn| {
        super::schools::get(conn, user, school_id)?;
        walk_chain(conn, school_id)
    })
}

/// Every school whose chain does not verify, with its first broken link (`ledger verify`;
/// `ledger rebuild` refuses to run while there is one).
pub fn verify_all_chains(conn: &mut DbConn) -> Result<Vec<(String, BrokenLink)>, ApiError> {
    let mut broken = Vec::new();
    for school_id in schools::all_ids(conn)? {
        if let Some(b) = crate::db::read_tx(conn, |conn| walk_chain(conn, &school_id))?.broken {
            broken.push((school_id, b));
        }
    }
    Ok(broken)
}

/// Walks one school's chain (inside the caller's snapshot).
fn walk_chain(conn: &mut DbConn, school_id: &str) -> Result<ChainReport, ApiError> {
    let school = schools::find(conn, school_id)?.ok_or(ApiError::NotFound("school"))?;
    let chain = purchases::chain_of(conn, school_id)?;
    let (head_seq, head_hash) = schools::head(conn, school_id)?.ok_or(ApiError::NotFound("school"))?;
    // The qualification each entry should have today, by the rule the writers use.
    let mut supplier_ids: Vec<&str> = chain.iter().map(|(p, _)| p.supplier_id.as_str()).collect();
    supplier_ids.sort_unstable();
    supplier_ids.dedup();
    let found = suppliers::find_many(conn, &supplier_ids)?;
    let contexts =
        super::qualify::supplier_contexts(conn, &found.iter().map(|s| (s.id.as_str(), s.origin_county_code.as_str())).collect::<Vec<_>>())?;
    let stored: std::collections::HashMap<String, purchases::QualificationRow> =
        purchases::qualifications_of_school(conn, school_id)?.into_iter().map(|q| (q.purchase_id.clone(), q)).collect();
    let entries: Vec<ChainEntry> = chain.iter().map(|(p, l)| chain_entry(p, l)).collect();
    let expected: Vec<Qualification> = chain
        .iter()
        .map(|(p, _)| contexts.get(&p.supplier_id).map_or(Qualification::NotQualifying, |c| c.qualify(p.purchase_date)))
        .collect();
    let links = chain.iter().zip(&entries).zip(&expected).map(|(((p, _), entry), &q)| ledger::Link {
        entry,
        prev_hash: &p.prev_hash,
        hash: &p.hash,
        school_county: &school.school.county_code,
        qualification: stored.get(&p.id).map(|s| ledger::StoredQualification {
            class: s.class.as_str(),
            tag: s.tag.map(Tag::as_str),
            policy_version: &s.policy_version,
        }),
        expected: (q, super::qualify::POLICY.version),
    });
    let broken = match ledger::verify(links) {
        Err(b) => Some(b),
        Ok((seq, _)) if seq < head_seq => Some(BrokenLink { seq: seq + 1, reason: "entry missing" }),
        Ok((seq, _)) if seq > head_seq => Some(BrokenLink { seq: head_seq + 1, reason: "entry beyond the recorded head" }),
        Ok((seq, hash)) if hash != head_hash => Some(BrokenLink { seq, reason: "the recorded head does not match the last entry" }),
        Ok(_) => None,
    };
    Ok(ChainReport { entries: i64::try_from(chain.len()).unwrap_or(i64::MAX), head_seq, head_hash, broken })
}

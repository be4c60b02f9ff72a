//! The one recording pipeline. A single create, a batch, a spreadsheet import, a
//! correction's new entry and a delivery confirmation all record through
//! [`record_many`], inside the caller's write transaction and under the school's chain
//! head, which the caller has locked — with [`lock`], or (a correction, a delivery
//! confirmation) together with the suppliers of the rest of its use case — in the one lock
//! order of every writer: suppliers shared, then the head.
//!
//! For every item, in order: its key is looked up among the stored answers and the
//! earlier items (a replay, or a 409 naming what differs), its supplier must exist, the
//! entry is built, qualified and sealed onto the chain in memory. Then each table gets
//! multi-row statements — entries, lines, qualifications, the head, confirmations,
//! stored answers, audit rows, one merged upsert per touched aggregate bucket, webhook
//! events — whatever the number of items. An item that fails writes nothing of its own
//! and does not stop the others; the caller decides whether a failed item fails the
//! whole use case (it does for everything but a batch).

use std::collections::HashMap;

use super::aggregates;
use super::purchases::{IdempotentRequest, NewPurchase, Recorded, chain_entry, diff_fields};
use super::qualify::{self, row_for};
use super::views::purchase::Answer;
use super::webhooks::{self, Emit};
use crate::db::DbConn;
use crate::db::repo::aggregates::Delta;
use crate::db::repo::audit::{self, AuditRow};
use crate::db::repo::idempotency::{self, IdempotencyRow};
use crate::db::repo::purchases::{self, ConfirmationRow, FullPurchase, LineRow, PurchaseRow};
use crate::db::repo::{schools, suppliers};
use crate::domain::access::Caller;
use crate::domain::catalog::{ConfirmationState, ConfirmationVia, EntryKind};
use crate::domain::ledger;
use crate::domain::webhook;
use crate::error::ApiError;
use crate::error::Code;
use crate::error::ProblemType;

/// One purchase to record.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub new: NewPurchase,
    /// The request it came in, whose key makes it idempotent; `None` for a delivery
    /// confirmation (the delivery, not a key, makes that one happen once).
    pub req: Option<IdempotentRequest>,
    /// The supplier delivery this entry confirms: it is confirmed by both parties from
    /// the start, and the confirmation (not the recording) is audited and announced.
    pub delivery: Option<String>,
    /// The entry it corrects (voided in the same transaction).
    pub corrects: Option<String>,
}

impl Item {
    /// An item sent with a key (a create, a batch item, an import row).
    pub fn keyed(new: NewPurchase, req: IdempotentRequest) -> Self {
        Self { new, req: Some(req), delivery: None, corrects: None }
    }
}

/// What recording one item did.
#[derive(Debug, Clone)]
pub(crate) enum Done {
    /// A new entry, as stored; `answer` is the body stored under its key (none without).
    Created { entry: Box<FullPurchase>, answer: Option<String> },
    /// The item's key was already answered (by an earlier request or item): that answer.
    Replayed { status: u16, body: String },
}

impl Done {
    /// The answer a create gives for the item.
    pub fn into_recorded(self) -> Recorded {
        match self {
            Self::Created { answer, .. } => Recorded::Created(answer.unwrap_or_default()),
            Self::Replayed { status, body } => Recorded::Replayed { status, body },
        }
    }
}

/// The outcome of one item.
pub(crate) type Outcome = Result<Done, ApiError>;

/// Records one item (see [`record_many`]); its failure is the use case's.
pub(crate) fn record_one(conn: &mut DbConn, user: &Caller, head: (i64, String), item: Item, answer: Answer<'_>) -> Result<Done, ApiError> {
    let school_id = item.new.school_id.clone();
    let mut outcomes = record_many(conn, user, &school_id, head, vec![item], answer)?;
    outcomes.pop().ok_or_else(|| ApiError::Internal(anyhow::anyhow!("an item got no outcome")))?
}

/// The answer to a request whose key is already stored: the stored answer if the
/// request is the same, a 409 naming what differs if not.
pub(crate) fn answer_stored(stored: &IdempotencyRow, req: &IdempotentRequest) -> Result<Done, ApiError> {
    if stored.request_hash != req.hash() {
        let before: serde_json::Value = serde_json::from_str(&stored.request_body).unwrap_or_default();
        let fields = diff_fields(&before, &req.body());
        return Err(ApiError::Conflict {
            slug: ProblemType::IdempotencyKeyReused,
            detail: format!(
                "Idempotency-Key {:?} was already used with a different request (differs in: {})",
                req.key,
                fields.iter().map(|f| f.field.as_str()).collect::<Vec<_>>().join(", ")
            ),
            errors: fields,
        });
    }
    Ok(Done::Replayed { status: u16::try_from(stored.response_status).unwrap_or(201), body: stored.response_body.clone() })
}

/// Locks what recording `items` for `school_id` needs (their suppliers shared, then the
/// school's head) and returns the head; `None` if there is no such school.
pub(crate) fn lock(conn: &mut DbConn, school_id: &str, items: &[Item]) -> Result<Option<(i64, String)>, ApiError> {
    let mut supplier_ids: Vec<&str> = items.iter().map(|i| i.new.supplier_id.as_str()).collect();
    supplier_ids.sort_unstable();
    supplier_ids.dedup();
    Ok(schools::lock_for_write(conn, school_id, &supplier_ids)?)
}

/// Records `items` for `school_id` (their writer already checked, every item for that
/// school, its head `head` locked by the caller with [`lock`]) and returns one outcome
/// per item, in order. `answer` is the body stored under an item's key and replayed on
/// retries, rendered from the entry as it is about to be stored (a correction's answer
/// holds both of its halves); only items with a key have one.
pub(crate) fn record_many(
    conn: &mut DbConn,
    user: &Caller,
    school_id: &str,
    head: (i64, String),
    items: Vec<Item>,
    answer: Answer<'_>,
) -> Result<Vec<Outcome>, ApiError> {
    let mut run = Run::load(conn, school_id, &items, head)?;
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        out.push(run.add(user, item, answer)?);
    }
    run.write(conn, school_id)?;
    Ok(out)
}

/// A recording in progress: what was read once for all items, and what they write.
struct Run {
    county_code: String,
    head: (i64, String),
    now: chrono::NaiveDateTime,
    /// Stored answers of earlier requests with the items' keys.
    stored: HashMap<String, IdempotencyRow>,
    /// Keys answered by this run's items, by position in `answers`.
    answered_here: HashMap<String, usize>,
    suppliers: HashMap<String, suppliers::SupplierRow>,
    contexts: HashMap<String, qualify::SupplierContext>,
    entries: Vec<FullPurchase>,
    answers: Vec<IdempotencyRow>,
    deltas: Vec<Delta>,
    audit: Vec<AuditRow>,
    events: Vec<Emit>,
    /// Heads of this school frozen by its county's submissions, by half-month.
    frozen: HashMap<String, i64>,
    school_name: String,
}

impl Run {
    fn load(conn: &mut DbConn, school_id: &str, items: &[Item], head: (i64, String)) -> Result<Self, ApiError> {
        let school = schools::find(conn, school_id)?.ok_or(ApiError::NotFound("school"))?;
        let keys: Vec<String> = items.iter().filter_map(|i| i.req.as_ref().map(|r| r.key.clone())).collect();
        let stored = if keys.is_empty() { Vec::new() } else { idempotency::find_many(conn, school_id, &keys)? }
            .into_iter()
            .map(|r| (r.idem_key.clone(), r))
            .collect();
        let mut supplier_ids: Vec<&str> = items.iter().map(|i| i.new.supplier_id.as_str()).collect();
        supplier_ids.sort_unstable();
        supplier_ids.dedup();
        let suppliers: HashMap<String, suppliers::SupplierRow> =
            suppliers::find_many(conn, &supplier_ids)?.into_iter().map(|s| (s.id.clone(), s)).collect();
        let origins: Vec<(&str, &str)> = suppliers.values().map(|s| (s.id.as_str(), s.origin_county_code.as_str())).collect();
        let contexts = qualify::supplier_contexts(conn, &origins)?;
        let frozen = crate::db::repo::submissions::frozen_heads_of_school(conn, &school.school.county_code, school_id)?;
        Ok(Self {
            frozen,
            county_code: school.school.county_code,
            school_name: school.school.name,
            head,
            now: super::now(),
            stored,
            answered_here: HashMap::new(),
            suppliers,
            contexts,
            entries: Vec::new(),
            answers: Vec::new(),
            deltas: Vec::new(),
            audit: Vec::new(),
            events: Vec::new(),
        })
    }

    /// Adds one item: its replay, its failure, or its new entry sealed onto the chain.
    fn add(&mut self, user: &Caller, item: Item, answer: Answer<'_>) -> Result<Outcome, ApiError> {
        if let Some(req) = &item.req
            && let Some(earlier) = self.stored.get(&req.key).or_else(|| self.answered_here.get(&req.key).map(|&i| &self.answers[i]))
        {
            return Ok(answer_stored(earlier, req));
        }
        let (Some(supplier), Some(ctx)) = (self.suppliers.get(&item.new.supplier_id), self.contexts.get(&item.new.supplier_id)) else {
            return Ok(Err(ApiError::field("supplier_id", Code::UnknownSupplier, "no such supplier")));
        };
        let (mut row, lines) = build_entry(user, &item.new, &self.county_code, self.now, item.req.as_ref().map(|r| r.key.clone()));
        row.corrects_id = item.corrects;
        seal(&mut row, &lines, &self.head);
        self.head = (row.seq, row.hash.clone());
        let qualification = ctx.qualify(item.new.draft.purchase_date);
        let confirmation = item.delivery.map(|delivery_id| ConfirmationRow {
            purchase_id: row.id.clone(),
            state: ConfirmationState::Confirmed,
            via: ConfirmationVia::Delivery,
            delivery_id: Some(delivery_id),
            reason: None,
            decided_by: user.actor(),
            decided_at: self.now,
        });
        self.deltas.push(aggregates::delta(&row, &lines, qualification, 1, 1, confirmation.is_some()));
        // Everything the answer shows is what is about to be written: no need to read it back.
        let entry = FullPurchase {
            qualification: Some(row_for(&row.id, qualification)),
            purchase: row,
            lines,
            voided_by: None,
            confirmation,
            paid_fen: 0,
            terms_days: supplier.payment_terms_days,
            school_name: self.school_name.clone(),
            supplier_name: supplier.name.clone(),
            frozen_head: self.frozen.get(&crate::db::repo::purchases::half_month_of(item.new.draft.purchase_date)).copied(),
        };
        let body = match &item.req {
            Some(req) => {
                let body = answer.render(&entry)?;
                self.answered_here.insert(req.key.clone(), self.answers.len());
                self.answers.push(stored_answer(&entry.purchase, req, &body));
                Some(body)
            }
            None => None,
        };
        if entry.confirmation.is_none() {
            let (audit, event) = announce(user, &entry.purchase);
            self.audit.push(audit);
            self.events.push(event);
        }
        self.entries.push(entry.clone());
        Ok(Ok(Done::Created { entry: Box::new(entry), answer: body }))
    }

    /// Writes everything the run's items recorded, with one statement per table.
    fn write(self, conn: &mut DbConn, school_id: &str) -> Result<(), ApiError> {
        if self.entries.is_empty() {
            return Ok(());
        }
        let rows: Vec<PurchaseRow> = self.entries.iter().map(|e| e.purchase.clone()).collect();
        let lines: Vec<LineRow> = self.entries.iter().flat_map(|e| e.lines.iter().cloned()).collect();
        let quals: Vec<purchases::QualificationRow> = self.entries.iter().filter_map(|e| e.qualification.clone()).collect();
        purchases::insert_many(conn, &rows, &lines, &quals)?;
        schools::set_head(conn, school_id, self.head.0, &self.head.1)?;
        for c in self.entries.iter().filter_map(|e| e.confirmation.as_ref()) {
            purchases::insert_confirmation(conn, c)?;
        }
        idempotency::insert_many(conn, &self.answers)?;
        audit::insert_many(conn, &self.audit)?;
        aggregates::apply_all(conn, &self.deltas)?;
        webhooks::emit_many(conn, self.events)?;
        Ok(())
    }
}

/// Puts an entry on a chain whose head is `head`: fills seq and hashes, in the current
/// canonical form (which covers every stored field).
pub fn seal(row: &mut PurchaseRow, lines: &[LineRow], head: &(i64, String)) {
    row.seq = head.0 + 1;
    row.prev_hash.clone_from(&head.1);
    row.chain_version = ledger::CURRENT_VERSION;
    // The current version is always known (a unit test holds it to that).
    row.hash = ledger::entry_hash(&row.prev_hash, &chain_entry(row, lines)).unwrap_or_default();
}

/// The audit row and the `purchase.recorded` event of a newly recorded entry.
fn announce(user: &Caller, row: &PurchaseRow) -> (AuditRow, Emit) {
    let audit = super::audit_row(
        &user.actor(),
        "purchase.record",
        ("purchase", &row.id),
        None,
        Some(
            serde_json::json!({"school_id": row.school_id, "supplier_id": row.supplier_id, "purchase_date": row.purchase_date, "total_fen": row.total_fen, "seq": row.seq, "hash": row.hash}),
        ),
    );
    let event =
        Emit { supplier_id: row.supplier_id.clone(), event_type: webhook::PURCHASE_RECORDED, payload: webhooks::purchase_payload(row) };
    (audit, event)
}

/// The answer to store under a request's key, for the entry `row` it created (or, for a
/// void, the reversal).
pub(crate) fn stored_answer(row: &PurchaseRow, req: &IdempotentRequest, body: &str) -> IdempotencyRow {
    IdempotencyRow {
        school_id: row.school_id.clone(),
        idem_key: req.key.clone(),
        request_hash: req.hash(),
        request_body: req.canonical().to_owned(),
        response_status: 201,
        response_body: body.to_owned(),
        created_at: row.recorded_at,
    }
}

/// A new entry for `new` of a school in `county_code`, with its lines; not yet on the
/// chain (see [`seal`]).
fn build_entry(
    user: &Caller,
    new: &NewPurchase,
    county_code: &str,
    now: chrono::NaiveDateTime,
    idempotency_key: Option<String>,
) -> (PurchaseRow, Vec<LineRow>) {
    let id = super::new_id();
    let lines: Vec<LineRow> = new
        .draft
        .lines
        .iter()
        .zip(1..)
        .map(|(l, line_no)| LineRow {
            purchase_id: id.clone(),
            line_no,
            category: l.category,
            description: l.description.clone(),
            quantity_milli: l.quantity.milli(),
            unit: l.unit,
            unit_price_e4: l.unit_price.ten_thousandths(),
            amount_fen: l.amount.fen(),
            mass_mg: l.mass_mg,
        })
        .collect();
    let row = PurchaseRow {
        id,
        school_id: new.school_id.clone(),
        county_code: county_code.to_owned(),
        supplier_id: new.supplier_id.clone(),
        purchase_date: new.draft.purchase_date,
        invoice_no: new.invoice_no.clone(),
        kind: EntryKind::Entry,
        voids_id: None,
        void_reason: None,
        total_fen: new.draft.total.fen(),
        seq: 0,
        prev_hash: String::new(),
        hash: String::new(),
        recorded_by: user.actor(),
        recorded_at: now,
        idempotency_key,
        chain_version: ledger::CURRENT_VERSION,
        corrects_id: None,
    };
    (row, lines)
}

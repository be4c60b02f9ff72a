//! Recording a batch of purchases set-wise, in one transaction: every item is checked in
//! memory first (its key against the stored keys and the earlier items, its supplier),
//! then the school's chain head is locked once, the chain and the qualifications are
//! computed in memory, and each table gets multi-row statements — entries, lines,
//! qualifications, stored answers, audit rows, webhook events, and one merged upsert per
//! touched aggregate bucket. Each item still answers exactly what `POST /purchases`
//! would have answered for it, in order.

use std::collections::HashMap;

use super::purchases::{IdempotentRequest, NewPurchase, Recorded, answer_stored, bookkeeping, build_entry, check_writer, seal};
use super::qualify::{self, row_for};
use super::{aggregates, webhooks};
use crate::auth::AuthUser;
use crate::db::repo::purchases::{FullPurchase, LineRow, PurchaseRow, QualificationRow};
use crate::db::repo::{audit, bulk, idempotency, schools, suppliers};
use crate::db::{DbConn, write_tx};
use crate::error::ApiError;

/// The outcome of one item of a batch: what a single create would have answered.
pub type ItemOutcome = Result<Recorded, ApiError>;

/// Records many purchases for the caller's school, in order, all in one transaction.
/// An item that fails (bad body, another school, unknown supplier, a key reused with a
/// different body) writes nothing and does not stop the others. A key repeated within
/// the batch replays (or conflicts with) the earlier item, as separate requests would. A
/// database failure writes nothing at all (a retry with the same keys is then safe).
pub fn record_batch(
    conn: &mut DbConn,
    user: &AuthUser,
    items: Vec<(Result<NewPurchase, ApiError>, IdempotentRequest)>,
    render: impl Fn(&FullPurchase) -> Result<String, ApiError>,
) -> Result<Vec<ItemOutcome>, ApiError> {
    let mut outcomes: Vec<Option<ItemOutcome>> = Vec::with_capacity(items.len());
    let mut todo: Vec<(usize, NewPurchase, IdempotentRequest)> = Vec::new();
    for (index, (new, req)) in items.into_iter().enumerate() {
        match new.and_then(|new| check_writer(user, &new.school_id).map(|()| new)) {
            Ok(new) => {
                outcomes.push(None);
                todo.push((index, new, req));
            }
            Err(e) => outcomes.push(Some(Err(e))),
        }
    }
    // A writer writes the ledger of one school only, so every remaining item is for it.
    if let Some(school_id) = todo.first().map(|(_, new, _)| new.school_id.clone()) {
        for (index, outcome) in write_tx(conn, |conn| apply(conn, user, &school_id, todo, &render))?.outcomes {
            outcomes[index] = Some(outcome);
        }
    }
    outcomes.into_iter().map(|o| o.ok_or_else(|| ApiError::Internal(anyhow::anyhow!("a batch item got no outcome")))).collect()
}

/// Everything a batch writes, gathered before writing.
#[derive(Default)]
struct Writes {
    entries: Vec<PurchaseRow>,
    lines: Vec<LineRow>,
    qualifications: Vec<QualificationRow>,
    deltas: Vec<crate::db::repo::aggregates::Delta>,
    audit: Vec<crate::db::repo::audit::AuditRow>,
    events: Vec<webhooks::Emit>,
}

/// What [`apply`] did: each item's outcome with its position, and the ids of the entries
/// it created, in order.
pub(crate) struct Applied {
    pub outcomes: Vec<(usize, ItemOutcome)>,
    pub created: Vec<String>,
}

/// Records the positioned items for `school_id` (their writer already checked) inside the
/// caller's write transaction; imports record a file's purchases with it too.
pub(crate) fn apply(
    conn: &mut DbConn,
    user: &AuthUser,
    school_id: &str,
    todo: Vec<(usize, NewPurchase, IdempotentRequest)>,
    render: &impl Fn(&FullPurchase) -> Result<String, ApiError>,
) -> Result<Applied, ApiError> {
    let mut supplier_ids: Vec<&str> = todo.iter().map(|(_, new, _)| new.supplier_id.as_str()).collect();
    supplier_ids.sort_unstable();
    supplier_ids.dedup();
    let Some(mut head) = schools::lock_for_write(conn, school_id, &supplier_ids)? else {
        let outcomes = todo.into_iter().map(|(index, ..)| (index, Err(ApiError::NotFound("school")))).collect();
        return Ok(Applied { outcomes, created: Vec::new() });
    };
    let school = schools::find(conn, school_id)?.ok_or(ApiError::NotFound("school"))?;
    let keys: Vec<String> = todo.iter().map(|(_, _, req)| req.key.clone()).collect();
    // Stored answers of earlier requests, and (by position in `new_answers`) of this
    // batch's items.
    let stored: HashMap<String, idempotency::IdempotencyRow> =
        idempotency::find_many(conn, school_id, &keys)?.into_iter().map(|r| (r.idem_key.clone(), r)).collect();
    let mut answered_here: HashMap<String, usize> = HashMap::new();
    let found: HashMap<String, suppliers::SupplierRow> =
        suppliers::find_many(conn, &supplier_ids)?.into_iter().map(|s| (s.id.clone(), s)).collect();
    let origins: Vec<(&str, &str)> = found.values().map(|s| (s.id.as_str(), s.origin_county_code.as_str())).collect();
    let contexts = qualify::supplier_contexts(conn, &origins)?;

    let now = super::now();
    let mut writes = Writes::default();
    let mut new_answers = Vec::new();
    let mut out = Vec::with_capacity(todo.len());
    for (index, new, req) in todo {
        if let Some(earlier) = stored.get(&req.key).or_else(|| answered_here.get(&req.key).map(|&i| &new_answers[i])) {
            out.push((index, answer_stored(earlier, &req)));
            continue;
        }
        let (Some(supplier), Some(ctx)) = (found.get(&new.supplier_id), contexts.get(&new.supplier_id)) else {
            out.push((index, Err(ApiError::field("supplier_id", "unknown_supplier", "no such supplier"))));
            continue;
        };
        let (mut row, lines) = build_entry(user, &new, &school.school.county_code, now, Some(req.key.clone()));
        seal(&mut row, &lines, &head);
        head = (row.seq, row.hash.clone());
        let qualification = ctx.qualify(new.draft.purchase_date);
        let full = FullPurchase {
            qualification: Some(row_for(&row.id, qualification)),
            purchase: row,
            lines,
            voided_by: None,
            confirmation: None,
            paid_fen: 0,
            terms_days: supplier.payment_terms_days,
        };
        let body = render(&full)?;
        let (answer, audit_row, event) = bookkeeping(user, &full.purchase, &req, &body);
        writes.deltas.push(aggregates::delta(&full.purchase, &full.lines, qualification, 1, 1, false));
        writes.audit.push(audit_row);
        writes.events.push(event);
        writes.qualifications.extend(full.qualification);
        writes.lines.extend(full.lines);
        writes.entries.push(full.purchase);
        answered_here.insert(req.key, new_answers.len());
        new_answers.push(answer);
        out.push((index, Ok(Recorded::Created(body))));
    }
    if !writes.entries.is_empty() {
        bulk::insert_purchases(conn, &writes.entries, &writes.lines, &writes.qualifications)?;
        schools::set_head(conn, school_id, head.0, &head.1)?;
        idempotency::insert_many(conn, &new_answers)?;
        audit::insert_many(conn, &writes.audit)?;
        aggregates::apply_all(conn, &writes.deltas)?;
        webhooks::emit_many(conn, writes.events)?;
    }
    Ok(Applied { outcomes: out, created: writes.entries.into_iter().map(|e| e.id).collect() })
}

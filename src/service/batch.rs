//! Recording a batch of purchases in one transaction, through the one recording pipeline
//! ([`super::record::record_many`]): every item is checked in memory, the school's chain
//! head is locked once, and each table gets multi-row statements. Each item still answers
//! exactly what `POST /purchases` would have answered for it, in order.

use chrono::NaiveDate;

use super::purchases::{IdempotentRequest, NewPurchase, Recorded, check_writer};
use super::record::{self, Done, Item};
use super::views::purchase::Answer;
use crate::db::{DbConn, write_tx};
use crate::domain::access::Caller;
use crate::error::ApiError;

/// The outcome of one item of a batch: what a single create would have answered.
pub type ItemOutcome = Result<Recorded, ApiError>;

/// One item of a batch: the purchase it is (or why it is none), and its keyed request.
pub type ItemRequest = (Result<NewPurchase, ApiError>, IdempotentRequest);

/// Records many purchases for the caller's school, in order, all in one transaction.
/// An item that fails (bad body, another school, unknown supplier, a key reused with a
/// different body) writes nothing and does not stop the others. A key repeated within
/// the batch replays (or conflicts with) the earlier item, as separate requests would. A
/// database failure writes nothing at all (a retry with the same keys is then safe). Each
/// item's answer is its entry, its payment as of `today`.
pub fn record_batch(conn: &mut DbConn, user: &Caller, items: Vec<ItemRequest>, today: NaiveDate) -> Result<Vec<ItemOutcome>, ApiError> {
    let mut outcomes: Vec<Option<ItemOutcome>> = Vec::with_capacity(items.len());
    let (mut positions, mut todo) = (Vec::new(), Vec::new());
    for (index, (new, req)) in items.into_iter().enumerate() {
        match new.and_then(|new| check_writer(user, &new.school_id).map(|()| new)) {
            Ok(new) => {
                outcomes.push(None);
                positions.push(index);
                todo.push(Item::keyed(new, req));
            }
            Err(e) => outcomes.push(Some(Err(e))),
        }
    }
    // A writer writes the ledger of one school only, so every remaining item is for it.
    if let Some(school_id) = todo.first().map(|item| item.new.school_id.clone()) {
        let done = write_tx(conn, |conn| match record::lock(conn, &school_id, &todo)? {
            Some(head) => record::record_many(conn, user, &school_id, head, todo, Answer::Entry { today }),
            None => Ok(todo.iter().map(|_| Err(ApiError::NotFound("school"))).collect()),
        })?;
        for (index, outcome) in positions.into_iter().zip(done) {
            outcomes[index] = Some(outcome.map(Done::into_recorded));
        }
    }
    outcomes.into_iter().map(|o| o.ok_or_else(|| ApiError::Internal(anyhow::anyhow!("a batch item got no outcome")))).collect()
}

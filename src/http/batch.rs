//! `POST /purchases/batch`: up to 1,000 purchases in one round trip, each with its own
//! idempotency key and its own result, as if each had been sent to `POST /purchases`.

use actix_web::{HttpResponse, post, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::body::{JsonBytes, MAX_BATCH_BODY, from_value, parse_slice};
use super::clock::today_cst;
use super::purchases::{CreatePurchaseRequest, check_idempotency_key, parse_purchase};
use crate::error::Code;
use crate::error::{ApiError, Problem};
use crate::http::AppState;
use crate::http::AuthUser;
use crate::service::batch::{self as service, ItemOutcome, ItemRequest};
use crate::service::purchases::{IdempotentRequest, Recorded};
use crate::service::views::purchase::PurchaseResponse;

/// Most purchases in one batch.
pub const MAX_BATCH_ITEMS: usize = 1000;

/// `err`'s fields named under `prefix` (`lines[0].unit` → `items[3].purchase.lines[0].unit`).
fn within(err: ApiError, prefix: &str) -> ApiError {
    let mut errors = err.problem().errors;
    for e in &mut errors {
        e.field = if e.field == "body" || e.field.is_empty() { prefix.to_owned() } else { format!("{prefix}.{}", e.field) };
    }
    ApiError::Validation(errors)
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_batch);
}

/// One purchase of a batch.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchItem {
    /// As the `Idempotency-Key` header of `POST /purchases` (keys are shared with it).
    #[schema(pattern = "^[A-Za-z0-9_-]{8,128}$")]
    pub idempotency_key: String,
    /// Exactly the body `POST /purchases` takes.
    #[schema(value_type = CreatePurchaseRequest)]
    pub purchase: Box<RawValue>,
}

/// Purchases to record, in order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    #[schema(min_items = 1, max_items = 1000)]
    pub items: Vec<BatchItem>,
}

/// What happened to one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BatchOutcome {
    Created,
    Replayed,
    Failed,
}

/// The result of one item: what `POST /purchases` would have answered.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BatchItemResult {
    /// Position of the item in the request.
    pub index: usize,
    pub idempotency_key: String,
    pub outcome: BatchOutcome,
    /// The HTTP status a single request would have had (201, or the problem's).
    pub status: u16,
    /// The recorded (or replayed) purchase.
    #[schema(value_type = Option<PurchaseResponse>)]
    pub purchase: Option<Box<RawValue>>,
    /// Why the item was not recorded; nothing of it was written.
    pub problem: Option<Problem>,
}

/// The results, one per item in request order.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BatchResponse {
    pub created: usize,
    pub replayed: usize,
    pub failed: usize,
    pub results: Vec<BatchItemResult>,
}

/// Record up to 1,000 purchases for the caller's own school (canteen) in one round trip.
///
/// Each item carries its own idempotency key (shared with `POST /purchases`) and gets its
/// own result: `created`, `replayed` (the stored answer to an earlier identical request),
/// or `failed` with the problem a single request would have had — a failed item writes
/// nothing and does not stop the others. Items are applied in order, all in one
/// transaction: if the server fails, nothing of the batch is written. The body may be up
/// to 8 MiB.
#[utoipa::path(
    tag = "purchases",
    request_body = BatchRequest,
    responses(
        (status = 200, description = "One result per item", body = BatchResponse),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a canteen", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 8 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No items, more than 1,000, or an item that POST /purchases would refuse on its own (a malformed key, a wrong type, an unknown or missing field, a value outside its pattern or rules): every such field is named (`items[i].purchase.lines[0].unit_price`) and nothing is written", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/purchases/batch")]
pub async fn create_batch(state: web::Data<AppState>, user: AuthUser, body: JsonBytes<MAX_BATCH_BODY>) -> Result<HttpResponse, ApiError> {
    if user.ledger_school().is_none() {
        return Err(ApiError::Forbidden("only a school's canteen records purchases".into()));
    }
    // Each purchase stays raw text until its turn.
    let BatchRequest { items } = parse_slice(&body.0)?;
    drop(body);
    let keys: Vec<String> = items.iter().map(|i| i.idempotency_key.clone()).collect();
    let today = today_cst();
    let parsed = parse_items(items, today)?;
    let outcomes = state.db.run(move |conn| service::record_batch(conn, &user, parsed, today)).await?;
    Ok(HttpResponse::Ok().json(batch_response(outcomes, keys)?))
}

/// The batch's items as purchases to record, each with its keyed request. A batch is
/// checked as a whole before anything is recorded, as any body is: no items or too many,
/// or an item that POST /purchases would refuse on its own (a malformed key, a wrong type,
/// an unknown or missing field, a value outside its pattern or its rules), makes the batch
/// a 422 naming `items[i].…`, and nothing is written. What depends on the ledger (another
/// school, an unknown supplier, a key already used for another body) fails its item alone.
fn parse_items(items: Vec<BatchItem>, today: NaiveDate) -> Result<Vec<ItemRequest>, ApiError> {
    if items.is_empty() || items.len() > MAX_BATCH_ITEMS {
        return Err(ApiError::field("items", Code::BadCount, format!("send 1 to {MAX_BATCH_ITEMS} items")));
    }
    let mut shape_errors = Vec::new();
    let mut parsed = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let body: serde_json::Value = serde_json::from_str(item.purchase.get()).map_err(|e| ApiError::Internal(e.into()))?;
        let new = check_idempotency_key(&item.idempotency_key)
            .map_err(|e| within(e, &format!("items[{i}]")))
            .and_then(|()| from_value::<CreatePurchaseRequest>(&body).map_err(|e| within(e, &format!("items[{i}].purchase"))))
            .and_then(|r| parse_purchase(r, today).map_err(|e| within(e, &format!("items[{i}].purchase"))));
        match new {
            Ok(new) => parsed.push((Ok(new), IdempotentRequest::new(item.idempotency_key, &body))),
            Err(e) => shape_errors.extend(e.problem().errors),
        }
    }
    if shape_errors.is_empty() { Ok(parsed) } else { Err(ApiError::Validation(shape_errors)) }
}

/// The answer: one result per item, in request order (`keys` are the items' keys), and
/// the counts of each outcome.
fn batch_response(outcomes: Vec<ItemOutcome>, keys: Vec<String>) -> Result<BatchResponse, ApiError> {
    let mut response = BatchResponse { created: 0, replayed: 0, failed: 0, results: Vec::with_capacity(outcomes.len()) };
    for (index, (outcome, idempotency_key)) in outcomes.into_iter().zip(keys).enumerate() {
        let result = item_result(index, idempotency_key, outcome)?;
        match result.outcome {
            BatchOutcome::Created => response.created += 1,
            BatchOutcome::Replayed => response.replayed += 1,
            BatchOutcome::Failed => response.failed += 1,
        }
        response.results.push(result);
    }
    Ok(response)
}

/// The result of item `index`: its recorded or replayed purchase, or its problem.
fn item_result(index: usize, idempotency_key: String, outcome: ItemOutcome) -> Result<BatchItemResult, ApiError> {
    // The stored answer is JSON already: passed through, not parsed and re-encoded.
    let stored = |body: String| RawValue::from_string(body).map_err(|e| ApiError::Internal(e.into()));
    let recorded = |outcome: BatchOutcome, status: u16, body: String| -> Result<BatchItemResult, ApiError> {
        Ok(BatchItemResult {
            index,
            idempotency_key: idempotency_key.clone(),
            outcome,
            status,
            purchase: Some(stored(body)?),
            problem: None,
        })
    };
    match outcome {
        Ok(Recorded::Created(body)) => recorded(BatchOutcome::Created, 201, body),
        Ok(Recorded::Replayed { status, body }) => recorded(BatchOutcome::Replayed, status, body),
        Err(e) => {
            let problem = e.problem();
            Ok(BatchItemResult {
                index,
                idempotency_key,
                outcome: BatchOutcome::Failed,
                status: problem.status,
                purchase: None,
                problem: Some(problem),
            })
        }
    }
}

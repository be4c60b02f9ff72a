//! The purchase ledger: record (idempotent), list, read, void. The ledger is append-only:
//! PUT, PATCH and DELETE answer 405.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::body::JsonBody;
use super::clock::today_cst;
use super::{PageQuery, paginate};
use crate::domain::period::DateRange;
use crate::domain::purchase::{self, RawLine};
use crate::error::Code;
use crate::error::{ApiError, FieldError, Problem};
use crate::http::AppState;
use crate::http::AuthUser;
use crate::service::purchases::{self as service, IdempotentRequest, NewPurchase, Recorded};
use crate::service::views::purchase::{CorrectionResponse, LineRequest, PurchaseResponse};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_purchases).service(create_purchase).service(get_purchase).service(void_purchase).service(correct_purchase);
}

/// Header carrying the client's idempotency key.
pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";
/// Header set on a replayed response.
pub const IDEMPOTENT_REPLAYED: &str = "Idempotent-Replayed";

/// A purchase to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePurchaseRequest {
    /// The caller's own school.
    #[schema(pattern = r"^[^\x00-\x1F\x7F-\x9F]*$", min_length = 1, max_length = 64)]
    pub school_id: String,
    #[schema(pattern = r"^[^\x00-\x1F\x7F-\x9F]*$", min_length = 1, max_length = 64)]
    pub supplier_id: String,
    /// Business date: not in the future (China Standard Time), not before 2014-01-01.
    #[schema(example = "2019-03-05")]
    pub purchase_date: NaiveDate,
    #[schema(pattern = r"^[^\x00-\x1F\x7F-\x9F]*$", max_length = 64)]
    pub invoice_no: Option<String>,
    #[schema(min_items = 1, max_items = 200)]
    pub lines: Vec<LineRequest>,
}

/// Reads and checks the `Idempotency-Key` header.
pub fn idempotency_key(req: &HttpRequest) -> Result<String, ApiError> {
    let missing = || ApiError::field(IDEMPOTENCY_KEY, Code::Required, "send a client-generated UUID or ULID in the Idempotency-Key header");
    let key = req.headers().get(IDEMPOTENCY_KEY).ok_or_else(missing)?.to_str().map_err(|_| missing())?.trim();
    check_key(IDEMPOTENCY_KEY, key)?;
    Ok(key.to_owned())
}

/// Reads and checks the `Idempotency-Key` header where it may be left out.
pub fn optional_idempotency_key(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    if req.headers().contains_key(IDEMPOTENCY_KEY) { idempotency_key(req).map(Some) } else { Ok(None) }
}

/// Checks an idempotency key sent in a batch item.
pub fn check_idempotency_key(key: &str) -> Result<(), ApiError> {
    check_key("idempotency_key", key)
}

fn check_key(field: &str, key: &str) -> Result<(), ApiError> {
    if !(8..=128).contains(&key.len()) || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(ApiError::field(field, Code::BadKey, "8–128 characters of A–Z, a–z, 0–9, - and _"));
    }
    Ok(())
}

fn check_text(field: &str, value: &str, max: usize) -> Option<FieldError> {
    (value.chars().count() > max).then(|| FieldError::new(field, Code::TooLong, format!("at most {max} characters")))
}

/// Parses a request into a validated purchase, reporting every bad field at once.
pub fn parse_purchase(r: CreatePurchaseRequest, today: NaiveDate) -> Result<NewPurchase, ApiError> {
    let raw: Vec<RawLine> = r
        .lines
        .into_iter()
        .map(|l| RawLine {
            category: l.category,
            description: l.description,
            quantity: l.quantity,
            unit: l.unit,
            unit_price: l.unit_price,
            amount: l.amount,
        })
        .collect();
    let mut errors: Vec<FieldError> =
        raw.iter().enumerate().filter_map(|(i, l)| check_text(&format!("lines[{i}].description"), &l.description, 200)).collect();
    errors.extend(r.invoice_no.as_deref().and_then(|n| check_text("invoice_no", n, 64)));
    for (field, id) in [("school_id", &r.school_id), ("supplier_id", &r.supplier_id)] {
        if id.is_empty() || id.chars().count() > 64 {
            errors.push(FieldError::new(field, Code::BadId, "an id of 1 to 64 characters"));
        }
    }
    let draft = purchase::draft(r.purchase_date, today, &raw);
    match draft {
        Ok(draft) if errors.is_empty() => {
            Ok(NewPurchase { school_id: r.school_id, supplier_id: r.supplier_id, invoice_no: r.invoice_no, draft })
        }
        Ok(_) => Err(ApiError::Validation(errors)),
        Err(problems) => {
            errors.extend(problems.iter().map(|(f, e)| FieldError::domain(f.clone(), e)));
            Err(ApiError::Validation(errors))
        }
    }
}

/// Record a purchase for the caller's own school (canteen).
///
/// Requires `Idempotency-Key`. A retry with the same key and body returns the original
/// status and body with `Idempotent-Replayed: true`; the same key with another body is a
/// 409 naming the differing fields. Concurrent retries create exactly one entry.
#[utoipa::path(
    tag = "purchases",
    params(("Idempotency-Key" = String, Header, description = "Client-generated UUID or ULID, unique per school", pattern = "^[A-Za-z0-9_-]{8,128}$")),
    request_body = CreatePurchaseRequest,
    responses(
        (status = 201, description = "Recorded (or replayed, with `Idempotent-Replayed: true`)", body = PurchaseResponse,
            headers(("Idempotent-Replayed" = String, description = "`true` when this is a stored response"))),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not this school's canteen", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Idempotency-Key reused with a different body", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 256 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, unknown supplier, or missing Idempotency-Key", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/purchases")]
pub async fn create_purchase(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: AuthUser,
    body: JsonBody<CreatePurchaseRequest>,
) -> Result<HttpResponse, ApiError> {
    let key = idempotency_key(&req)?;
    let idem = IdempotentRequest::new(key, &body.raw);
    let today = today_cst();
    let new = parse_purchase(body.value, today)?;
    let recorded = state.db.run(move |conn| service::record(conn, &user, new, &idem, today)).await?;
    Ok(respond(recorded, |_| None))
}

/// The answer to a create, void or correction: 201 with the new body, or the stored status
/// and body marked `Idempotent-Replayed: true`; `location` names the entry a body is about.
fn respond(recorded: Recorded, location: impl Fn(&serde_json::Value) -> Option<&str>) -> HttpResponse {
    let (mut answer, body) = match recorded {
        Recorded::Created(body) => (HttpResponse::Created(), body),
        Recorded::Replayed { status, body } => {
            let status = actix_web::http::StatusCode::from_u16(status).unwrap_or(actix_web::http::StatusCode::CREATED);
            let mut answer = HttpResponse::build(status);
            answer.insert_header((IDEMPOTENT_REPLAYED, "true"));
            (answer, body)
        }
    };
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    if let Some(id) = location(&doc) {
        answer.insert_header((header::LOCATION, format!("/api/v1/purchases/{id}")));
    }
    answer.content_type("application/json").body(body)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PurchaseQuery {
    /// Only this school (must be within the caller's scope).
    #[param(min_length = 1, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$")]
    pub school_id: Option<String>,
    /// Only this supplier (a supplier may ask only for itself).
    #[param(min_length = 1, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$")]
    pub supplier_id: Option<String>,
    /// First purchase date, inclusive.
    pub from: Option<NaiveDate>,
    /// Last purchase date, inclusive.
    pub to: Option<NaiveDate>,
    #[param(pattern = "^(3[0-9]|6[1-6]|2d){1,100}$")]
    pub cursor: Option<String>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// List ledger entries in the caller's scope (a supplier sees only purchases from itself),
/// oldest recorded first.
#[utoipa::path(
    tag = "purchases",
    params(PurchaseQuery),
    responses(
        (status = 200, description = "A page of ledger entries", body = super::PagePurchaseResponse),
        (status = 403, description = "Filter outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad query", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/purchases")]
pub async fn list_purchases(
    state: web::Data<AppState>,
    user: AuthUser,
    q: super::Query<PurchaseQuery>,
) -> Result<super::Page<PurchaseResponse>, ApiError> {
    let q = q.into_inner();
    let (after_id, fetch) = PageQuery { cursor: q.cursor, limit: q.limit }.decode()?;
    if let (Some(f), Some(t)) = (q.from, q.to) {
        DateRange::new(f, t).map_err(|e| ApiError::domain("from", &e))?;
    }
    let req = service::ListRequest { school_id: q.school_id, supplier_id: q.supplier_id, from: q.from, to: q.to, after_id, limit: fetch };
    let rows = state.db.run(move |conn| service::list(conn, &user, req)).await?;
    let today = today_cst();
    Ok(paginate(rows, fetch, |p| p.purchase.id.clone(), |p| PurchaseResponse::at(p, today)))
}

/// One ledger entry (404 when outside the caller's scope).
#[utoipa::path(
    tag = "purchases",
    params(("id" = String, Path, description = "Purchase id")),
    responses(
        (status = 200, description = "The entry", body = PurchaseResponse),
        (status = 404, description = "No such purchase in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/purchases/{id}")]
pub async fn get_purchase(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let p = state.db.run(move |conn| service::visible(conn, &user, &id)).await?;
    Ok(HttpResponse::Ok().json(PurchaseResponse::at(p, today_cst())))
}

/// Why a purchase is voided.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoidRequest {
    #[schema(
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F-\x9F]*$",
        min_length = 1,
        max_length = 500,
        example = "entered twice"
    )]
    pub reason: String,
}

/// Checks a void's reason: not blank, at most 500 characters.
fn void_reason(reason: &str) -> Result<String, ApiError> {
    super::dto::check_text("reason", reason, 500)?;
    Ok(reason.trim().to_owned())
}

/// The request a key is stored with: the body, plus the operation and the purchase from
/// the path (so a key names one request, whatever route it was sent to).
fn keyed_request(key: String, operation: &str, purchase_id: &str, raw: &serde_json::Value) -> IdempotentRequest {
    let mut doc = raw.clone();
    if let serde_json::Value::Object(m) = &mut doc {
        m.insert("operation".into(), operation.into());
        m.insert("purchase_id".into(), purchase_id.into());
    }
    IdempotentRequest::new(key, &doc)
}

/// Void a purchase (the school's canteen): appends a reversal entry dated the same
/// business date. Voiding twice is a 409.
///
/// `Idempotency-Key` is optional (voids sent without one keep working): with a key, a
/// retry with the same key and body returns the original status and body with
/// `Idempotent-Replayed: true` (so a client that lost the answer can tell its own void
/// from someone else's, which is a 409 `already-voided`), the same key with another
/// reason or purchase is a 409 naming the differing fields, and concurrent retries void
/// once. Keys are the school's, shared with creates.
#[utoipa::path(
    tag = "purchases",
    params(
        ("id" = String, Path, description = "Purchase id"),
        ("Idempotency-Key" = Option<String>, Header, nullable = false, description = "Client-generated UUID or ULID, unique per school; makes the void safe to retry", pattern = "^[A-Za-z0-9_-]{8,128}$"),
    ),
    request_body = VoidRequest,
    responses(
        (status = 201, description = "The reversal entry (or, with `Idempotent-Replayed: true`, the stored answer to the first request with this key)", body = PurchaseResponse,
            headers(
                ("Idempotent-Replayed" = String, description = "`true` when this is a stored response"),
                ("Location" = String, description = "The reversal entry"),
            )),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "May read but not void this purchase", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such purchase in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already voided (`already-voided`), a void entry (`not-voidable`), payments recorded (`has-payments`), or Idempotency-Key reused with another request (`idempotency-key-reused`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing reason, or a malformed Idempotency-Key", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/purchases/{id}/void")]
pub async fn void_purchase(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: AuthUser,
    id: web::Path<String>,
    body: JsonBody<VoidRequest>,
) -> Result<HttpResponse, ApiError> {
    let key = optional_idempotency_key(&req)?;
    let reason = void_reason(&body.value.reason)?;
    let id = id.into_inner();
    let idem = key.map(|k| keyed_request(k, "void", &id, &body.raw));
    let today = today_cst();
    let recorded = state.db.run(move |conn| service::void(conn, &user, &id, &reason, idem.as_ref(), today)).await?;
    Ok(respond(recorded, |doc| doc["id"].as_str()))
}

/// A correction: why the entry is voided, and the purchase that replaces it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectPurchaseRequest {
    /// Why the entry is voided.
    #[schema(
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F-\x9F]*$",
        min_length = 1,
        max_length = 500,
        example = "wrong quantity"
    )]
    pub reason: String,
    /// The replacement, as `POST /purchases` takes it; same school as the corrected entry.
    pub purchase: CreatePurchaseRequest,
}

/// Correct a purchase (the school's canteen): void it and record its replacement, atomically.
///
/// One transaction voids the entry (as `POST /purchases/{id}/void`) and records the new
/// purchase (as `POST /purchases`), both chained in order, the new entry naming the one it
/// corrects (`corrects_id`). Either half failing writes nothing, with the answer the void
/// or the create would have given (fields of the new entry named under `purchase.`); the
/// new purchase must be for the same school.
///
/// Requires `Idempotency-Key`, with the semantics of `POST /purchases`: a retry with the
/// same key and body returns the original status and body with `Idempotent-Replayed: true`;
/// the same key with another body is a 409 naming the differing fields; concurrent retries
/// correct once.
#[utoipa::path(
    tag = "purchases",
    params(
        ("id" = String, Path, description = "Id of the entry to correct"),
        ("Idempotency-Key" = String, Header, description = "Client-generated UUID or ULID, unique per school", pattern = "^[A-Za-z0-9_-]{8,128}$"),
    ),
    request_body = CorrectPurchaseRequest,
    responses(
        (status = 201, description = "Corrected (or replayed, with `Idempotent-Replayed: true`)", body = CorrectionResponse,
            headers(
                ("Idempotent-Replayed" = String, description = "`true` when this is a stored response"),
                ("Location" = String, description = "The new entry"),
            )),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "May read but not correct this purchase", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such purchase in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already voided (`already-voided`), a void entry (`not-voidable`), payments recorded (`has-payments`), or Idempotency-Key reused with another request (`idempotency-key-reused`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 256 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing reason, invalid fields of the new purchase (another school, unknown supplier…), or a missing Idempotency-Key", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/purchases/{id}/correct")]
pub async fn correct_purchase(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: AuthUser,
    id: web::Path<String>,
    body: JsonBody<CorrectPurchaseRequest>,
) -> Result<HttpResponse, ApiError> {
    let key = idempotency_key(&req)?;
    let id = id.into_inner();
    let idem = keyed_request(key, "correct", &id, &body.raw);
    let reason = void_reason(&body.value.reason)?;
    let today = today_cst();
    let new = parse_purchase(body.value.purchase, today).map_err(|e| service::within("purchase", e))?;
    let recorded = state.db.run(move |conn| service::correct(conn, &user, &id, &reason, &new, &idem, today)).await?;
    Ok(respond(recorded, |doc| doc["purchase"]["id"].as_str()))
}

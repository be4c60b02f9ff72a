//! The purchase ledger: record (idempotent), list, read, void. The ledger is append-only:
//! PUT, PATCH and DELETE answer 405.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::body::JsonBody;
use super::clock::today_cst;
use super::dto::{kg, yuan};
use super::{Page, PageQuery, paginate};
use crate::db::repo::purchases::{FullPurchase, LineRow};
use crate::domain::catalog::{Category, ConfirmationState as Stored, EntryKind, QualificationClass, Tag, Unit};
use crate::domain::period::DateRange;
use crate::domain::purchase::{self, RawLine};
use crate::domain::settlement;
pub use crate::domain::settlement::PaymentState;
use crate::error::Code;
use crate::error::{ApiError, FieldError, Problem};
use crate::http::AppState;
use crate::http::AuthUser;
use crate::service::purchases::{self as service, IdempotentRequest, NewPurchase, Recorded};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_purchases).service(create_purchase).service(get_purchase).service(void_purchase).service(correct_purchase);
}

/// Header carrying the client's idempotency key.
pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";
/// Header set on a replayed response.
pub const IDEMPOTENT_REPLAYED: &str = "Idempotent-Replayed";

/// One line of a purchase as sent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineRequest {
    pub category: Category,
    #[schema(
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F-\x9F]*$",
        min_length = 1,
        max_length = 200,
        example = "大白菜"
    )]
    pub description: String,
    /// Positive, at most 3 decimal places, as a string.
    #[schema(value_type = String, pattern = r"^(?!0*(\.0*)?$)[0-9]{1,9}(\.[0-9]{1,3})?$", example = "25.5")]
    #[serde(deserialize_with = "super::dto::quantity")]
    pub quantity: Decimal,
    pub unit: Unit,
    /// Yuan per unit, more than 0, at most 4 decimal places, as a string. The line's
    /// amount (quantity × unit price, rounded to the fen) must be at least 0.01
    /// (`zero_amount` otherwise).
    #[schema(value_type = String, pattern = r"^(?!0*(\.0*)?$)[0-9]{1,11}(\.[0-9]{1,4})?$", example = "1.80")]
    #[serde(deserialize_with = "super::dto::unit_price")]
    pub unit_price: Decimal,
    /// Yuan, at most 2 places. Optional: the ledger stores quantity × unit price rounded
    /// half away from zero to the fen; a sent amount more than 0.01 off is a 422.
    #[schema(value_type = Option<String>, pattern = r"^(?!0*(\.0*)?$)[0-9]{1,15}(\.[0-9]{1,2})?$", example = "45.90")]
    #[serde(default, deserialize_with = "super::dto::optional_amount")]
    pub amount: Option<Decimal>,
}

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

/// A stored line.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LineResponse {
    pub line_no: i32,
    pub category: Category,
    pub description: String,
    /// Negative on a void entry.
    #[schema(value_type = String, example = "25.500")]
    pub quantity: Decimal,
    pub unit: Unit,
    #[schema(value_type = String, example = "1.8000")]
    pub unit_price: Decimal,
    #[schema(value_type = String, example = "45.90")]
    pub amount: Decimal,
    /// Mass in kg for mass units (斤 = 0.5 kg, 两 = 50 g), absent otherwise.
    #[schema(value_type = Option<String>, example = "12.750")]
    pub weight_kg: Option<Decimal>,
}

/// How a purchase counts toward the target.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct QualificationResponse {
    /// `qualifying` (counts), `pending` (a declared tag awaits verification) or `none`.
    #[schema(pattern = "^(qualifying|pending|none)$")]
    pub class: String,
    /// The tag it is attributed to, if any.
    pub tag: Option<Tag>,
    /// Policy version applied, e.g. `gz-2019`.
    pub policy: String,
}

/// A ledger entry.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PurchaseResponse {
    pub id: String,
    /// `entry` (a purchase) or `void` (a reversal of one).
    #[schema(pattern = "^(entry|void)$")]
    pub kind: String,
    /// For entries: `active`, or `voided` once reversed.
    #[schema(pattern = "^(active|voided|reversal)$")]
    pub status: String,
    pub school_id: String,
    pub county_code: String,
    pub supplier_id: String,
    pub purchase_date: NaiveDate,
    pub invoice_no: Option<String>,
    /// Yuan; negative on a void entry.
    #[schema(value_type = String, example = "45.90")]
    pub total: Decimal,
    pub lines: Vec<LineResponse>,
    pub qualification: QualificationResponse,
    /// For a void entry: the purchase it reverses.
    pub voids_id: Option<String>,
    pub void_reason: Option<String>,
    /// For a voided entry: the void entry.
    pub voided_by: Option<String>,
    /// For an entry recorded by `POST /purchases/{id}/correct`: the entry it corrects
    /// (voided in the same transaction).
    pub corrects_id: Option<String>,
    /// Position in the school's hash chain.
    pub seq: i64,
    pub prev_hash: String,
    pub hash: String,
    pub recorded_by: String,
    #[serde(with = "crate::http::timestamp::utc")]
    pub recorded_at: chrono::NaiveDateTime,
    /// The second party's word on an entry (`null` on a void entry). A replayed create
    /// returns the state at the time of the first request; read the purchase for the current one.
    pub confirmation: Option<ConfirmationResponse>,
    /// Payment of an entry (`null` on a void entry), as of the response.
    pub payment: Option<PaymentStatus>,
}

/// Two-party confirmation state of a purchase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConfirmationState {
    /// Recorded by the canteen; the supplier has not acknowledged it yet.
    Unconfirmed,
    /// Both parties agree: the canteen confirmed the supplier's delivery, or the supplier
    /// acknowledged the canteen's entry.
    Confirmed,
    /// The supplier disputes the canteen's entry.
    Disputed,
}

/// The second party's word on a purchase.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConfirmationResponse {
    pub state: ConfirmationState,
    /// `delivery` (the canteen confirmed the supplier's delivery) or `supplier` (the
    /// supplier acknowledged or disputed the canteen's entry); absent while unconfirmed.
    #[schema(pattern = "^(delivery|supplier)$")]
    pub via: Option<String>,
    pub delivery_id: Option<String>,
    /// The supplier's reason for a dispute.
    pub reason: Option<String>,
    #[serde(default, with = "crate::http::timestamp::utc_opt")]
    pub decided_at: Option<chrono::NaiveDateTime>,
}

/// How much of a purchase has been paid, and when the rest is due.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PaymentStatus {
    #[schema(value_type = String, example = "20.00")]
    pub paid: Decimal,
    #[schema(value_type = String, example = "25.90")]
    pub unpaid: Decimal,
    /// Purchase date plus the supplier's payment terms (30 days unless registered otherwise).
    pub due_date: NaiveDate,
    pub state: PaymentState,
    /// Unpaid after the due date (China Standard Time).
    pub overdue: bool,
}

fn confirmation(f: &FullPurchase) -> Option<ConfirmationResponse> {
    if f.purchase.kind != EntryKind::Entry {
        return None;
    }
    Some(match &f.confirmation {
        None => {
            ConfirmationResponse { state: ConfirmationState::Unconfirmed, via: None, delivery_id: None, reason: None, decided_at: None }
        }
        Some(c) => ConfirmationResponse {
            state: match c.state {
                Stored::Confirmed => ConfirmationState::Confirmed,
                Stored::Disputed => ConfirmationState::Disputed,
            },
            via: Some(c.via.as_str().to_owned()),
            delivery_id: c.delivery_id.clone(),
            reason: c.reason.clone(),
            decided_at: Some(c.decided_at),
        },
    })
}

/// The payment state of an entry as of `today`.
pub fn payment_status(f: &FullPurchase, today: NaiveDate) -> Option<PaymentStatus> {
    if f.purchase.kind != EntryKind::Entry {
        return None;
    }
    let entry = settlement::Entry {
        purchase_date: f.purchase.purchase_date,
        terms_days: f.terms_days,
        total_fen: f.purchase.total_fen,
        paid_fen: f.paid_fen,
        voided: f.voided_by.is_some(),
    };
    let p = entry.payment(today);
    Some(PaymentStatus { paid: yuan(p.paid_fen), unpaid: yuan(p.unpaid_fen), due_date: p.due_date, state: p.state, overdue: p.overdue })
}

fn line(l: LineRow) -> LineResponse {
    LineResponse {
        line_no: l.line_no,
        category: l.category,
        description: l.description,
        quantity: Decimal::new(l.quantity_milli, 3),
        unit: l.unit,
        unit_price: Decimal::new(l.unit_price_e4, 4),
        amount: yuan(l.amount_fen),
        weight_kg: l.mass_mg.map(kg),
    }
}

impl From<FullPurchase> for PurchaseResponse {
    fn from(f: FullPurchase) -> Self {
        let confirmation = confirmation(&f);
        let payment = payment_status(&f, today_cst());
        let p = f.purchase;
        let q = f.qualification;
        let status = match (p.kind, &f.voided_by) {
            (EntryKind::Void, _) => "reversal",
            (_, Some(_)) => "voided",
            _ => "active",
        };
        Self {
            status: status.into(),
            qualification: QualificationResponse {
                class: q.as_ref().map_or(QualificationClass::None, |q| q.class).as_str().to_owned(),
                tag: q.as_ref().and_then(|q| q.tag),
                policy: q.map(|q| q.policy_version).unwrap_or_default(),
            },
            voided_by: f.voided_by.map(|v| v.id),
            lines: f.lines.into_iter().map(line).collect(),
            total: yuan(p.total_fen),
            id: p.id,
            kind: p.kind.as_str().to_owned(),
            school_id: p.school_id,
            county_code: p.county_code,
            supplier_id: p.supplier_id,
            purchase_date: p.purchase_date,
            invoice_no: p.invoice_no,
            voids_id: p.voids_id,
            void_reason: p.void_reason,
            corrects_id: p.corrects_id,
            seq: p.seq,
            prev_hash: p.prev_hash,
            hash: p.hash,
            recorded_by: p.recorded_by,
            recorded_at: p.recorded_at,
            confirmation,
            payment,
        }
    }
}

/// A recorded purchase as `POST /purchases` answers it (and as its idempotency key stores it).
pub fn render_purchase(f: &FullPurchase) -> Result<String, ApiError> {
    serde_json::to_string(&PurchaseResponse::from(f.clone())).map_err(|e| ApiError::Internal(e.into()))
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
    let new = parse_purchase(body.value, today_cst())?;
    let recorded = state.db.run(move |conn| service::record(conn, &user, new, &idem, render_purchase)).await?;
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
        (status = 200, description = "A page of ledger entries", body = Page<PurchaseResponse>),
        (status = 403, description = "Filter outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad query", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/purchases")]
pub async fn list_purchases(state: web::Data<AppState>, user: AuthUser, q: super::Query<PurchaseQuery>) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let (after_id, fetch) = PageQuery { cursor: q.cursor, limit: q.limit }.decode()?;
    if let (Some(f), Some(t)) = (q.from, q.to) {
        DateRange::new(f, t).map_err(|e| ApiError::domain("from", &e))?;
    }
    let req = service::ListRequest { school_id: q.school_id, supplier_id: q.supplier_id, from: q.from, to: q.to, after_id, limit: fetch };
    let rows = state.db.run(move |conn| service::list(conn, &user, req)).await?;
    Ok(HttpResponse::Ok().json(paginate(rows, fetch, |p| p.purchase.id.clone(), PurchaseResponse::from)))
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
    Ok(HttpResponse::Ok().json(PurchaseResponse::from(p)))
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
    let recorded = state.db.run(move |conn| service::void(conn, &user, &id, &reason, idem.as_ref(), render_purchase)).await?;
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

/// What a correction recorded: the reversal of the corrected entry and the new entry.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CorrectionResponse {
    /// The reversal of the corrected entry (`voids_id` names it).
    pub void: PurchaseResponse,
    /// The new entry (`corrects_id` names the corrected entry), chained right after the reversal.
    pub purchase: PurchaseResponse,
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
    let new = parse_purchase(body.value.purchase, today_cst()).map_err(|e| service::within("purchase", e))?;
    let recorded = state
        .db
        .run(move |conn| {
            service::correct(conn, &user, &id, &reason, &new, &idem, |void, entry| {
                let answer =
                    CorrectionResponse { void: PurchaseResponse::from(void.clone()), purchase: PurchaseResponse::from(entry.clone()) };
                serde_json::to_string(&answer).map_err(|e| ApiError::Internal(e.into()))
            })
        })
        .await?;
    Ok(respond(recorded, |doc| doc["purchase"]["id"].as_str()))
}

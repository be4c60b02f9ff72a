//! Deliveries pushed by supplier integrations, and the canteen's confirmation or dispute.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::body::{JsonBody, OptionalJsonBody, from_value};
use super::clock::today_cst;
use super::dto::check_text;
use super::purchases::{CreatePurchaseRequest, IDEMPOTENT_REPLAYED, idempotency_key, parse_purchase};
use super::{PageQuery, paginate};
use crate::domain::catalog::DeliveryStatus as Stored;
use crate::error::{ApiError, Problem};
use crate::http::AppState;
use crate::http::AuthUser;
use crate::service::deliveries::{self as service, Confirmation, NewDelivery};
use crate::service::purchases::{IdempotentRequest, NewPurchase, Recorded};
use crate::service::views::delivery::{DeliveryResponse, DeliveryStatus};
use crate::service::views::purchase::{LineRequest, PurchaseResponse};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(push_delivery).service(list_deliveries).service(get_delivery).service(confirm_delivery).service(dispute_delivery);
}

/// A delivery a supplier pushes to a school.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDeliveryRequest {
    #[schema(pattern = r"^[^\x00-\x1F\x7F-\x9F]*$", min_length = 1, max_length = 64)]
    pub school_id: String,
    /// Business date of the delivery: not in the future (China Standard Time).
    #[schema(example = "2019-03-05")]
    pub delivery_date: NaiveDate,
    /// The supplier's own reference (delivery note number).
    #[schema(
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F-\x9F]*$",
        min_length = 1,
        max_length = 64,
        example = "DN-2019-0305-17"
    )]
    pub reference: String,
    #[schema(pattern = r"^[^\x00-\x1F\x7F-\x9F]*$", max_length = 64)]
    pub invoice_no: Option<String>,
    #[schema(min_items = 1, max_items = 200)]
    pub lines: Vec<LineRequest>,
}

/// The purchase body a delivery becomes: its fields under `POST /purchases` names.
fn purchase_body(raw: &serde_json::Value, supplier_id: &str) -> serde_json::Value {
    let mut body = raw.clone();
    if let Some(o) = body.as_object_mut() {
        o.remove("reference");
        if let Some(d) = o.remove("delivery_date") {
            o.insert("purchase_date".into(), d);
        }
        o.insert("supplier_id".into(), supplier_id.into());
    }
    body
}

/// Validation problems name the delivery's fields, not the purchase's.
fn as_delivery_fields(e: ApiError) -> ApiError {
    match e {
        ApiError::Validation(mut fields) => {
            for f in &mut fields {
                if f.field == "purchase_date" {
                    "delivery_date".clone_into(&mut f.field);
                }
            }
            ApiError::Validation(fields)
        }
        other => other,
    }
}

/// Push a delivery to a school (supplier integrations).
///
/// Requires `Idempotency-Key` (unique per supplier), with the semantics of `POST
/// /purchases`: a retry with the same body replays the original answer with
/// `Idempotent-Replayed: true`; another body is a 409 naming the differing fields. The
/// delivery waits for the school's canteen to confirm it (which records the purchase,
/// confirmed by both parties) or to dispute it.
#[utoipa::path(
    tag = "deliveries",
    params(("Idempotency-Key" = String, Header, description = "Client-generated UUID or ULID, unique per supplier", pattern = "^[A-Za-z0-9_-]{8,128}$")),
    request_body = CreateDeliveryRequest,
    responses(
        (status = 201, description = "Pushed (or replayed, with `Idempotent-Replayed: true`)", body = DeliveryResponse,
            headers(("Idempotent-Replayed" = String, description = "`true` when this is a stored response"))),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a supplier integration", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Idempotency-Key reused with a different body", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 256 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, unknown school, or missing Idempotency-Key", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/deliveries")]
pub async fn push_delivery(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: AuthUser,
    body: JsonBody<CreateDeliveryRequest>,
) -> Result<HttpResponse, ApiError> {
    let Some(supplier_id) = user.supplier() else {
        return Err(ApiError::Forbidden("only a supplier integration pushes deliveries".into()));
    };
    let key = idempotency_key(&req)?;
    check_text("reference", &body.value.reference, 64)?;
    let purchase_body = purchase_body(&body.raw, supplier_id);
    let purchase =
        from_value::<CreatePurchaseRequest>(&purchase_body).and_then(|r| parse_purchase(r, today_cst())).map_err(as_delivery_fields)?;
    let new = NewDelivery { reference: body.value.reference.trim().to_owned(), purchase, purchase_body };
    let idem = IdempotentRequest::new(key, &body.raw);
    let recorded = state.db.run(move |conn| service::push(conn, &user, new, &idem)).await?;
    Ok(match recorded {
        Recorded::Created(body) => HttpResponse::Created().content_type("application/json").body(body),
        Recorded::Replayed { body, .. } => {
            HttpResponse::Created().content_type("application/json").insert_header((IDEMPOTENT_REPLAYED, "true")).body(body)
        }
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveryQuery {
    /// Only deliveries in this state.
    pub status: Option<DeliveryStatus>,
    /// Only deliveries to this school (within the caller's scope).
    #[param(min_length = 1, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$")]
    pub school_id: Option<String>,
    #[param(pattern = "^(3[0-9]|6[1-6]|2d){1,100}$")]
    pub cursor: Option<String>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// List deliveries in the caller's scope: a supplier's own, a canteen's incoming (filter
/// `status=pending` for the ones to confirm), a bureau's schools'.
#[utoipa::path(
    tag = "deliveries",
    params(DeliveryQuery),
    responses(
        (status = 200, description = "A page of deliveries, oldest pushed first", body = super::PageDeliveryResponse),
        (status = 403, description = "Filter outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad query", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/deliveries")]
pub async fn list_deliveries(
    state: web::Data<AppState>,
    user: AuthUser,
    q: super::Query<DeliveryQuery>,
) -> Result<super::Page<DeliveryResponse>, ApiError> {
    let q = q.into_inner();
    let (after_id, fetch) = PageQuery { cursor: q.cursor, limit: q.limit }.decode()?;
    let status = q.status.map(|s| match s {
        DeliveryStatus::Pending => Stored::Pending,
        DeliveryStatus::Confirmed => Stored::Confirmed,
        DeliveryStatus::Disputed => Stored::Disputed,
    });
    let req = service::ListRequest { status, school_id: q.school_id, after_id, limit: fetch };
    let rows = state.db.run(move |conn| service::list(conn, &user, req)).await?;
    Ok(paginate(rows, fetch, |d| d.id.clone(), DeliveryResponse::from))
}

/// One delivery (404 outside the caller's scope).
#[utoipa::path(
    tag = "deliveries",
    params(("id" = String, Path, description = "Delivery id")),
    responses(
        (status = 200, description = "The delivery", body = DeliveryResponse),
        (status = 404, description = "No such delivery in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/deliveries/{id}")]
pub async fn get_delivery(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let d = state.db.run(move |conn| service::get(conn, &user, &id)).await?;
    Ok(HttpResponse::Ok().json(DeliveryResponse::from(d)))
}

/// How the canteen confirms a delivery.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmDeliveryRequest {
    /// A purchase the canteen already recorded for this delivery (same supplier, same
    /// total) to confirm instead of recording a new one.
    #[schema(pattern = r"^[^\x00-\x1F\x7F-\x9F]*$", min_length = 1, max_length = 64)]
    pub purchase_id: Option<String>,
}

/// A confirmed delivery and its purchase.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConfirmedDelivery {
    pub delivery: DeliveryResponse,
    pub purchase: PurchaseResponse,
}

/// Confirm a delivery (the receiving school's canteen).
///
/// Without a body, records the delivery as a purchase confirmed by both parties. With
/// `purchase_id`, confirms that purchase instead: it must be an active entry from the
/// same supplier to the same school, not yet confirmed or disputed, with the same total —
/// different totals are a 409 and nothing is written.
#[utoipa::path(
    tag = "deliveries",
    params(("id" = String, Path, description = "Delivery id")),
    request_body(content = ConfirmDeliveryRequest, description = "`{}` to record the delivery as a purchase, or the purchase to link (an empty body is taken as `{}`)"),
    responses(
        (status = 200, description = "Confirmed", body = ConfirmedDelivery),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the receiving school's canteen", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such delivery in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already confirmed or disputed, or the linked purchase's total differs", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The purchase cannot be linked, or the delivery no longer validates", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/deliveries/{id}/confirm")]
pub async fn confirm_delivery(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: OptionalJsonBody<ConfirmDeliveryRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let link = body.0.and_then(|b| b.value.purchase_id);
    let today = today_cst();
    let (d, p) = state
        .db
        .run(move |conn| {
            let how = match link {
                Some(purchase_id) => Confirmation::Link(purchase_id),
                None => Confirmation::Record(stored_purchase(&service::get(conn, &user, &id)?.purchase_body, today)),
            };
            service::confirm(conn, &user, &id, how)
        })
        .await?;
    Ok(HttpResponse::Ok().json(ConfirmedDelivery { delivery: d.into(), purchase: PurchaseResponse::at(p, today) }))
}

/// The purchase a delivery's stored purchase body (the `POST /purchases` form) is, checked
/// as of `today`.
fn stored_purchase(stored: &str, today: NaiveDate) -> Result<NewPurchase, ApiError> {
    let raw: serde_json::Value = serde_json::from_str(stored).map_err(|e| ApiError::Internal(e.into()))?;
    parse_purchase(from_value::<CreatePurchaseRequest>(&raw)?, today)
}

/// Why a delivery or a purchase is disputed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisputeRequest {
    #[schema(
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F-\x9F]*$",
        min_length = 1,
        max_length = 500,
        example = "only 40 kg of the 50 kg arrived"
    )]
    pub reason: String,
}

/// Checks a dispute's reason.
pub fn reason(r: &DisputeRequest) -> Result<String, ApiError> {
    check_text("reason", &r.reason, 500)?;
    Ok(r.reason.trim().to_owned())
}

/// Dispute a delivery (the receiving school's canteen): nothing is recorded.
#[utoipa::path(
    tag = "deliveries",
    params(("id" = String, Path, description = "Delivery id")),
    request_body = DisputeRequest,
    responses(
        (status = 200, description = "Disputed", body = DeliveryResponse),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the receiving school's canteen", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such delivery in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already confirmed or disputed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing reason", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/deliveries/{id}/dispute")]
pub async fn dispute_delivery(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: JsonBody<DisputeRequest>,
) -> Result<HttpResponse, ApiError> {
    let reason = reason(&body.value)?;
    let id = id.into_inner();
    let d = state.db.run(move |conn| service::dispute(conn, &user, &id, &reason)).await?;
    Ok(HttpResponse::Ok().json(DeliveryResponse::from(d)))
}

//! Webhook subscriptions of supplier integrations and their delivery log. Deliveries
//! themselves are made by `crate::dispatch`, never in a request.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, post, web};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::body::JsonBody;
use super::{PageQuery, paginate};
use crate::db::repo::webhooks::{DeliveryRow, SubscriptionRow};
use crate::error::{ApiError, Problem};
use crate::http::AppState;
use crate::http::AuthUser;
use crate::service::webhooks as service;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_webhook).service(list_webhooks).service(delete_webhook).service(list_webhook_deliveries);
}

/// A callback to register for the caller's own supplier.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookRequest {
    /// `http://` or `https://` URL, at most 2,000 characters, printable ASCII: an optional
    /// `userinfo@`, a host name (RFC 3986 reg-name characters) or an IPv6 literal in `[…]`,
    /// an optional port (0–65535, no leading zero), then an optional path, query or fragment.
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r#"^[hH][tT][tT][pP][sS]?://([!"$-.0->@-~]*@)?([A-Za-z0-9._~%!$&'()*+,;=-]+|\[[0-9A-Fa-f:.]+\])(:(0|[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])?)?([/?#][!-~]*)?$"#,
        example = "https://erp.example.cn/hooks/canteen"
    )]
    pub url: String,
    /// Event types to receive (`purchase.recorded`, `purchase.voided`); omit for all,
    /// including types added later.
    #[schema(min_items = 1, value_type = Option<std::collections::BTreeSet<WebhookEventType>>, example = json!(["purchase.recorded"]))]
    pub events: Option<Vec<String>>,
}

/// An event type a subscription may select (`domain::webhook::EVENT_TYPES`; a test keeps
/// the two lists equal).
#[derive(Debug, Serialize, ToSchema)]
pub enum WebhookEventType {
    #[serde(rename = "purchase.recorded")]
    PurchaseRecorded,
    #[serde(rename = "purchase.voided")]
    PurchaseVoided,
    #[serde(rename = "purchase.confirmed")]
    PurchaseConfirmed,
    #[serde(rename = "purchase.disputed")]
    PurchaseDisputed,
    #[serde(rename = "purchase.paid")]
    PurchasePaid,
    #[serde(rename = "delivery.disputed")]
    DeliveryDisputed,
}

/// A webhook subscription.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WebhookResponse {
    pub id: String,
    pub supplier_id: String,
    pub url: String,
    /// Selected event types; `null`: every type.
    pub events: Option<Vec<String>>,
    /// The HMAC key for `Webhook-Signature` (64 hex characters; the key is these
    /// characters' bytes). Only in the answer to the create: it is never shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    #[serde(with = "crate::service::views::timestamp::utc")]
    pub created_at: NaiveDateTime,
}

impl WebhookResponse {
    fn from_row(row: SubscriptionRow, show_secret: bool) -> Self {
        Self {
            events: service::selection(&row),
            secret: show_secret.then_some(row.secret),
            id: row.id,
            supplier_id: row.supplier_id,
            url: row.url,
            created_at: row.created_at,
        }
    }
}

/// One event's delivery to one subscription.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WebhookDeliveryResponse {
    pub id: String,
    /// The event id (the `Webhook-Id` header): the same on every attempt.
    pub event_id: String,
    #[schema(example = "purchase.recorded")]
    pub event_type: String,
    /// `pending` (waiting for its next attempt), `delivered` (a 2xx) or `failed` (gave up).
    #[schema(pattern = "^(pending|delivered|failed)$")]
    pub status: String,
    /// Attempts made so far.
    pub attempts: i32,
    /// The receiver's status on the last attempt, if it answered.
    pub last_status_code: Option<i32>,
    /// Why the last attempt failed, if it did.
    pub last_error: Option<String>,
    #[serde(default, with = "crate::service::views::timestamp::utc_opt")]
    pub last_attempt_at: Option<NaiveDateTime>,
    /// When it is attempted next (UTC); `null` once delivered or failed.
    #[serde(default, with = "crate::service::views::timestamp::utc_opt")]
    pub next_attempt_at: Option<NaiveDateTime>,
    #[serde(default, with = "crate::service::views::timestamp::utc_opt")]
    pub delivered_at: Option<NaiveDateTime>,
    #[serde(with = "crate::service::views::timestamp::utc")]
    pub created_at: NaiveDateTime,
}

impl From<(DeliveryRow, String)> for WebhookDeliveryResponse {
    fn from((d, event_type): (DeliveryRow, String)) -> Self {
        Self {
            id: d.id,
            event_id: d.event_id,
            event_type,
            status: d.status.as_str().to_owned(),
            attempts: d.attempts,
            last_status_code: d.last_status_code,
            last_error: d.last_error,
            last_attempt_at: d.last_attempt_at,
            next_attempt_at: d.next_attempt_at,
            delivered_at: d.delivered_at,
            created_at: d.created_at,
        }
    }
}

/// Register a callback URL for the caller's supplier (supplier integrations only). The
/// answer carries the signing `secret`, shown this once. See the API description for the
/// delivery format, headers and signature. The URL must reach a public address
/// (`non_public_address` otherwise) unless the server allows private callbacks.
#[utoipa::path(
    tag = "webhooks",
    request_body = CreateWebhookRequest,
    responses(
        (status = 201, description = "Subscribed; the only answer that shows the secret", body = WebhookResponse),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a supplier", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The token's supplier does not exist", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 256 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad URL (`bad_url`), a URL to this machine or a private network (`non_public_address`), or an unknown event type", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/webhooks")]
pub async fn create_webhook(
    state: web::Data<AppState>,
    user: AuthUser,
    body: JsonBody<CreateWebhookRequest>,
) -> Result<HttpResponse, ApiError> {
    let req = body.value;
    let allow_private = state.allow_private_callbacks;
    let row = state.db.run(move |conn| service::subscribe(conn, &user, &req.url, req.events, allow_private)).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/webhooks/{}", row.id)))
        .json(WebhookResponse::from_row(row, true)))
}

/// The caller's webhook subscriptions, without secrets (the administrator sees all).
#[utoipa::path(
    tag = "webhooks",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of subscriptions", body = super::PageWebhookResponse),
        (status = 403, description = "Neither a supplier nor the administrator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad query", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/webhooks")]
pub async fn list_webhooks(
    state: web::Data<AppState>,
    user: AuthUser,
    q: super::Query<PageQuery>,
) -> Result<super::Page<WebhookResponse>, ApiError> {
    let (after_id, fetch) = q.into_inner().decode()?;
    let rows = state.db.run(move |conn| service::list(conn, &user, after_id.as_deref(), fetch)).await?;
    Ok(paginate(rows, fetch, |s| s.id.clone(), |s| WebhookResponse::from_row(s, false)))
}

/// Delete one of the caller's subscriptions, with its delivery log (supplier only).
#[utoipa::path(
    tag = "webhooks",
    params(("id" = String, Path, description = "Subscription id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not a supplier", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such subscription of the caller's", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[delete("/webhooks/{id}")]
pub async fn delete_webhook(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    state.db.run(move |conn| service::unsubscribe(conn, &user, &id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A subscription's delivery log, oldest first: per event, the attempts made, the last
/// status or error, and the next attempt.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = String, Path, description = "Subscription id"), PageQuery),
    responses(
        (status = 200, description = "A page of deliveries", body = super::PageWebhookDeliveryResponse),
        (status = 403, description = "Neither a supplier nor the administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such subscription of the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad query", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn list_webhook_deliveries(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    q: super::Query<PageQuery>,
) -> Result<super::Page<WebhookDeliveryResponse>, ApiError> {
    let (after_id, fetch) = q.into_inner().decode()?;
    let id = id.into_inner();
    let rows = state.db.run(move |conn| service::deliveries(conn, &user, &id, after_id.as_deref(), fetch)).await?;
    Ok(paginate(rows, fetch, |(d, _)| d.id.clone(), WebhookDeliveryResponse::from))
}

//! The supplier's acknowledgement or dispute of a purchase, payments, and overdue lists.

use actix_web::{HttpResponse, get, post, web};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::body::JsonBody;
use super::clock::today_cst;
use super::deliveries::{DisputeRequest, reason};
use super::dto::check_text;
use crate::db::repo::purchases::PaymentRow;
use crate::domain::money::Money;
use crate::domain::settlement::{days_overdue, due_date};
use crate::error::Code;
use crate::error::{ApiError, Problem};
use crate::http::AppState;
use crate::http::AuthUser;
use crate::service::settlement::{self as service, NewPayment, OverdueScope};
use crate::service::views::decimal::yuan;
use crate::service::views::purchase::{PaymentStatus, PurchaseResponse, payment_status};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(acknowledge_purchase).service(dispute_purchase).service(record_payment).service(list_payments).service(overdue_payments);
}

/// Acknowledge a purchase recorded against the caller (the purchase's supplier): it
/// then counts as confirmed by both parties. Final: a second decision is a 409.
#[utoipa::path(
    tag = "settlement",
    params(("id" = String, Path, description = "Purchase id")),
    responses(
        (status = 200, description = "Acknowledged", body = PurchaseResponse),
        (status = 403, description = "Not the purchase's supplier", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such purchase in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already confirmed or disputed, voided, or a void entry", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/purchases/{id}/acknowledge")]
pub async fn acknowledge_purchase(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let p = state.db.run(move |conn| service::decide(conn, &user, &id, true, None)).await?;
    Ok(HttpResponse::Ok().json(PurchaseResponse::at(p, today_cst())))
}

/// Dispute a purchase recorded against the caller (the purchase's supplier), with a
/// reason. It stays in the ledger (only the canteen voids) but never counts as confirmed.
#[utoipa::path(
    tag = "settlement",
    params(("id" = String, Path, description = "Purchase id")),
    request_body = DisputeRequest,
    responses(
        (status = 200, description = "Disputed", body = PurchaseResponse),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the purchase's supplier", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such purchase in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already confirmed or disputed, voided, or a void entry", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing reason", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/purchases/{id}/dispute")]
pub async fn dispute_purchase(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: JsonBody<DisputeRequest>,
) -> Result<HttpResponse, ApiError> {
    let reason = reason(&body.value)?;
    let id = id.into_inner();
    let p = state.db.run(move |conn| service::decide(conn, &user, &id, false, Some(&reason))).await?;
    Ok(HttpResponse::Ok().json(PurchaseResponse::at(p, today_cst())))
}

/// A payment to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePaymentRequest {
    /// Not in the future (China Standard Time).
    #[schema(example = "2019-04-05")]
    pub paid_on: NaiveDate,
    /// Yuan, more than 0, at most 2 places, at most the unpaid balance.
    #[schema(value_type = String, pattern = r"^(?!0*(\.0*)?$)[0-9]{1,15}(\.[0-9]{1,2})?$", example = "20.00")]
    #[serde(deserialize_with = "crate::service::views::decimal::amount")]
    pub amount: Decimal,
    /// Bank transfer or receipt reference.
    #[schema(
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F-\x9F]*$",
        min_length = 1,
        max_length = 100,
        example = "BANK-20190320-0042"
    )]
    pub reference: String,
}

/// A recorded payment.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PaymentResponse {
    pub id: String,
    pub purchase_id: String,
    pub paid_on: NaiveDate,
    #[schema(value_type = String, example = "20.00")]
    pub amount: Decimal,
    pub reference: String,
    pub recorded_by: String,
    #[serde(with = "crate::service::views::timestamp::utc")]
    pub recorded_at: chrono::NaiveDateTime,
}

impl From<PaymentRow> for PaymentResponse {
    fn from(p: PaymentRow) -> Self {
        Self {
            amount: yuan(p.amount_fen),
            id: p.id,
            purchase_id: p.purchase_id,
            paid_on: p.paid_on,
            reference: p.reference,
            recorded_by: p.recorded_by,
            recorded_at: p.recorded_at,
        }
    }
}

/// A payment and the purchase's payment state after it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RecordedPayment {
    pub payment: PaymentResponse,
    pub purchase_payment: PaymentStatus,
}

/// Record a payment against a purchase (the school's canteen). Partial payments add up;
/// together they never exceed the purchase's total. A purchase with payments cannot be voided.
#[utoipa::path(
    tag = "settlement",
    params(("id" = String, Path, description = "Purchase id")),
    request_body = CreatePaymentRequest,
    responses(
        (status = 201, description = "Recorded", body = RecordedPayment),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the school's canteen", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such purchase in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Voided, or a void entry", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad amount or date, or more than the unpaid balance", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/purchases/{id}/payments")]
pub async fn record_payment(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: JsonBody<CreatePaymentRequest>,
) -> Result<HttpResponse, ApiError> {
    let r = body.value;
    let amount = Money::parse(r.amount).map_err(|e| ApiError::domain("amount", &e))?;
    if amount.fen() <= 0 {
        return Err(ApiError::field("amount", Code::NotPositive, "a payment is more than 0"));
    }
    let today = today_cst();
    if r.paid_on > today {
        return Err(ApiError::field("paid_on", Code::DateInFuture, "a payment date is not in the future"));
    }
    check_text("reference", &r.reference, 100)?;
    let new = NewPayment { paid_on: r.paid_on, amount_fen: amount.fen(), reference: r.reference.trim().to_owned() };
    let id = id.into_inner();
    let (p, row) = state.db.run(move |conn| service::pay(conn, &user, &id, new)).await?;
    let status = payment_status(&p, today).ok_or_else(|| ApiError::Internal(anyhow::anyhow!("paid a void entry")))?;
    Ok(HttpResponse::Created().json(RecordedPayment { payment: row.into(), purchase_payment: status }))
}

/// The payments of a purchase in the caller's scope, oldest first.
#[utoipa::path(
    tag = "settlement",
    params(("id" = String, Path, description = "Purchase id")),
    responses(
        (status = 200, description = "The payments", body = Vec<PaymentResponse>),
        (status = 404, description = "No such purchase in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/purchases/{id}/payments")]
pub async fn list_payments(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let rows = state.db.run(move |conn| service::payments(conn, &user, &id)).await?;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(PaymentResponse::from).collect::<Vec<_>>()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OverdueQuery {
    /// The county whose schools' overdue purchases to list (its bureau, prefecture, province).
    #[param(value_type = Option<super::reference::GuizhouCountyCode>, inline)]
    pub county: Option<String>,
    /// The supplier whose unpaid overdue purchases to list (the supplier itself, province).
    #[param(min_length = 1, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$")]
    pub supplier: Option<String>,
    /// Overdue as of this day (default: today, China Standard Time).
    pub as_of: Option<NaiveDate>,
    /// Most items listed, 1–500 (default 100); the totals cover all.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<usize>,
}

/// One overdue purchase.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OverdueItem {
    pub purchase_id: String,
    pub school_id: String,
    pub school_name: String,
    pub county_code: String,
    pub supplier_id: String,
    pub supplier_name: String,
    pub purchase_date: NaiveDate,
    pub invoice_no: Option<String>,
    pub due_date: NaiveDate,
    pub days_overdue: i64,
    #[schema(value_type = String, example = "45.90")]
    pub total: Decimal,
    #[schema(value_type = String, example = "20.00")]
    pub paid: Decimal,
    #[schema(value_type = String, example = "25.90")]
    pub unpaid: Decimal,
}

/// Overdue purchases, oldest due first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OverdueList {
    pub as_of: NaiveDate,
    /// Overdue purchases in all (the list may be shorter, see `limit`).
    pub count: usize,
    /// Unpaid yuan of all of them.
    #[schema(value_type = String, example = "1234.50")]
    pub unpaid: Decimal,
    pub items: Vec<OverdueItem>,
}

/// Purchases unpaid after their due date (purchase date + the supplier's payment terms),
/// for one county (`county=`) or one supplier (`supplier=`); exactly one is required.
#[utoipa::path(
    tag = "settlement",
    params(OverdueQuery),
    responses(
        (status = 200, description = "The overdue purchases", body = OverdueList),
        (status = 403, description = "Outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad query: neither or both of county and supplier, unknown county, bad limit", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/payments/overdue")]
pub async fn overdue_payments(state: web::Data<AppState>, user: AuthUser, q: super::Query<OverdueQuery>) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let scope = match (q.county, q.supplier) {
        (Some(c), None) => OverdueScope::County(c),
        (None, Some(s)) => OverdueScope::Supplier(s),
        _ => return Err(ApiError::field("county", Code::OneOf, "give exactly one of county and supplier")),
    };
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::field("limit", Code::OutOfRange, "1 to 500"));
    }
    let as_of = q.as_of.unwrap_or_else(today_cst);
    let o = state.db.run(move |conn| service::overdue(conn, &user, &scope, as_of, limit)).await?;
    let items = o
        .items
        .into_iter()
        .map(|i| {
            let due = due_date(i.purchase_date, i.terms_days);
            OverdueItem {
                days_overdue: days_overdue(due, o.as_of),
                due_date: due,
                total: yuan(i.total_fen),
                paid: yuan(i.paid_fen),
                unpaid: yuan(i.total_fen - i.paid_fen),
                purchase_id: i.id,
                school_id: i.school_id,
                school_name: i.school_name,
                county_code: i.county_code,
                supplier_id: i.supplier_id,
                supplier_name: i.supplier_name,
                purchase_date: i.purchase_date,
                invoice_no: i.invoice_no,
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(OverdueList { as_of: o.as_of, count: o.count, unpaid: yuan(o.unpaid_fen), items }))
}

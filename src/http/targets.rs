//! Per-year targets: read by everyone signed in, set by the province (audited, with
//! history).

use actix_web::{HttpResponse, get, put, web};
use chrono::NaiveDateTime;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::body::JsonBody;
use crate::domain::shares::ratio_4dp;
use crate::error::{ApiError, Problem};
use crate::http::AppState;
use crate::http::AuthUser;
use crate::service::targets::{self, TargetEntry};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_targets).service(put_target).service(get_target_history);
}

/// A year's target (current, or a past value in its history).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TargetYearResponse {
    #[schema(example = 2019)]
    pub year: i32,
    #[schema(example = 1)]
    pub numerator: i64,
    #[schema(example = 2)]
    pub denominator: i64,
    /// numerator / denominator with 4 places, rounded half away from zero.
    #[schema(value_type = String, example = "0.5000")]
    pub share: Decimal,
    /// Who set it: `system` for the shipped default, else `role/subject`.
    #[schema(example = "province/u-123")]
    pub set_by: String,
    /// When it was set (UTC).
    #[serde(with = "crate::service::views::timestamp::utc")]
    pub set_at: NaiveDateTime,
}

impl From<TargetEntry> for TargetYearResponse {
    fn from(t: TargetEntry) -> Self {
        Self {
            share: ratio_4dp(t.numerator, t.denominator).unwrap_or_default(),
            year: t.year,
            numerator: t.numerator,
            denominator: t.denominator,
            set_by: t.set_by,
            set_at: t.set_at,
        }
    }
}

/// A new target for a year, as an exact fraction (2/3, not 0.6667).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetTargetRequest {
    /// 0 ≤ numerator ≤ denominator.
    #[schema(minimum = 0, example = 2)]
    pub numerator: i64,
    /// Positive.
    #[schema(minimum = 1, example = 3)]
    pub denominator: i64,
}

/// The targets set per year (a year not listed uses 50%).
#[utoipa::path(
    tag = "reports",
    responses(
        (status = 200, description = "Targets, by year", body = Vec<TargetYearResponse>),
    ),
    security(("bearer" = [])),
)]
#[get("/targets")]
pub async fn list_targets(state: web::Data<AppState>, _user: AuthUser) -> Result<HttpResponse, ApiError> {
    let rows = state.db.run(targets::list).await?;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(TargetYearResponse::from).collect::<Vec<_>>()))
}

/// Set a year's target (province or administrator).
///
/// Writes the target, appends it to the year's history and records an audit row, in one
/// transaction. Reports over that year apply it from then on, and state it.
#[utoipa::path(
    tag = "reports",
    params(("year" = i32, Path, description = "Calendar year, 2014–2100", minimum = 2014, maximum = 2100)),
    request_body = SetTargetRequest,
    responses(
        (status = 200, description = "The target now in force", body = TargetYearResponse),
        (status = 400, description = "Malformed JSON or year", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Neither the province nor an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A concurrent change of the same year; retry", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a proper fraction, or a year outside 2014–2100", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[put("/targets/{year}")]
pub async fn put_target(
    state: web::Data<AppState>,
    user: AuthUser,
    year: web::Path<i32>,
    body: JsonBody<SetTargetRequest>,
) -> Result<HttpResponse, ApiError> {
    let year = year.into_inner();
    let SetTargetRequest { numerator, denominator } = body.value;
    let row = state.db.run(move |conn| targets::set(conn, &user, year, numerator, denominator)).await?;
    Ok(HttpResponse::Ok().json(TargetYearResponse::from(row)))
}

/// Every value a year's target has had, oldest first (the last is the one in force).
#[utoipa::path(
    tag = "reports",
    params(("year" = i32, Path, description = "Calendar year, 2014–2100", minimum = 2014, maximum = 2100)),
    responses(
        (status = 200, description = "The history (empty when the year was never set: it uses 50%)", body = Vec<TargetYearResponse>),
        (status = 400, description = "Malformed year", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A year outside 2014–2100", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/targets/{year}/history")]
pub async fn get_target_history(state: web::Data<AppState>, _user: AuthUser, year: web::Path<i32>) -> Result<HttpResponse, ApiError> {
    let year = year.into_inner();
    let rows = state.db.run(move |conn| targets::history(conn, year)).await?;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(TargetYearResponse::from).collect::<Vec<_>>()))
}

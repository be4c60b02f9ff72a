//! Administrative checks.

use actix_web::{HttpResponse, get, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{ApiError, Problem};
use crate::http::AppState;
use crate::http::AuthUser;
use crate::service::aggregates::{self, CheckReport};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(check_ledger);
}

/// Recompute every aggregate from the ledger and list any difference (admin only).
/// There must be none; the same check runs from the CLI as `canteen-ledger ledger check`.
#[utoipa::path(
    tag = "admin",
    responses(
        (status = 200, description = "The check result; `differences` is empty when consistent", body = CheckReport),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/admin/ledger/check")]
pub async fn check_ledger(state: web::Data<AppState>, user: AuthUser) -> Result<HttpResponse, ApiError> {
    if !user.administers() {
        return Err(ApiError::Forbidden("only an administrator may run the ledger check".into()));
    }
    let report = state.db.run(aggregates::check).await?;
    Ok(HttpResponse::Ok().json(report))
}

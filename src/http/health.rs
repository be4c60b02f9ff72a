//! Liveness, readiness and metrics (public).

use actix_web::{HttpResponse, get, web};
use diesel::connection::SimpleConnection;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{ApiError, Problem};
use crate::http::AppState;
use crate::telemetry;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(healthz).service(readyz).service(metrics);
}

/// Health state.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
}

/// The process is up.
#[utoipa::path(tag = "health", responses((status = 200, description = "Alive", body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok".into(), database: None })
}

/// The database answers.
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "Database unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.db.run(|conn| conn.batch_execute("SELECT 1").map_err(|_| ApiError::Unavailable)).await?;
    Ok(HttpResponse::Ok().json(Health { status: "ok".into(), database: Some(state.db.backend().name().into()) }))
}

/// Prometheus text metrics: requests by route template and status with their latency,
/// database pool and write transactions, webhook queue and failures, login failures.
#[utoipa::path(tag = "health", responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain")))]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let (connections, idle) = state.db.pool_state();
    ::metrics::gauge!(telemetry::DB_CONNECTIONS).set(f64::from(connections));
    ::metrics::gauge!(telemetry::DB_IDLE).set(f64::from(idle));
    let body = telemetry::recorder().map_or_else(|| "# no metrics recorder in this process\n".to_owned(), |h| h.render());
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(body)
}

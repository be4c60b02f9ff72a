//! Answers for requests no handler took: 405 with `Allow` when the path exists under
//! other methods (known from the OpenAPI document), otherwise 404; both problem+json.
//!
//! A path is matched as OpenAPI matches it: a literal segment wins over a template
//! parameter, so `/purchases/batch` is the `POST /purchases/batch` operation alone, never
//! also `GET /purchases/{id}`. [`reject_unlisted_methods`] answers 405 before routing for
//! a method that operation does not have (actix would otherwise hand `GET
//! /purchases/batch` to `GET /purchases/{id}`, a 404), so `Allow` and the answers agree.

use std::sync::{Arc, OnceLock};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse};

use crate::error::ProblemType;
use crate::error::problem_response;

/// Path templates and their methods, filled once the app (and its document) is built.
pub type RouteTable = Arc<OnceLock<Vec<(Vec<String>, Vec<String>)>>>;

/// Builds the table from the OpenAPI document.
pub fn table_from(doc: &utoipa::openapi::OpenApi) -> Vec<(Vec<String>, Vec<String>)> {
    let mut out = Vec::new();
    if let Ok(serde_json::Value::Object(paths)) = serde_json::to_value(doc).map(|v| v["paths"].clone()) {
        for (path, item) in paths {
            let methods = item
                .as_object()
                .map(|o| {
                    o.keys()
                        .filter(|k| matches!(k.as_str(), "get" | "post" | "put" | "patch" | "delete"))
                        .map(|k| k.to_ascii_uppercase())
                        .collect()
                })
                .unwrap_or_default();
            out.push((path.trim_matches('/').split('/').map(str::to_owned).collect(), methods));
        }
    }
    out
}

fn matches(template: &[String], path: &[&str]) -> bool {
    template.len() == path.len() && template.iter().zip(path).all(|(t, p)| (t.starts_with('{') && !p.is_empty()) || t == p)
}

/// The methods of the operation at `path`: of the most specific matching template (at the
/// first segment where two matching templates differ, the literal one wins), or `None`
/// when no template matches. A trailing slash is a different path (actix routes it so).
pub fn allowed_methods<'t>(table: &'t [(Vec<String>, Vec<String>)], path: &str) -> Option<&'t [String]> {
    let path: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
    table
        .iter()
        .filter(|(tpl, _)| matches(tpl, &path))
        .max_by_key(|(tpl, _)| tpl.iter().map(|t| !t.starts_with('{')).collect::<Vec<bool>>())
        .map(|(_, methods)| methods.as_slice())
}

fn method_not_allowed(method: &Method, allowed: &[String]) -> HttpResponse {
    let mut res = problem_response(
        StatusCode::METHOD_NOT_ALLOWED,
        ProblemType::MethodNotAllowed,
        Some(format!("{method} is not allowed here; allowed: {}", allowed.join(", "))),
        vec![],
    );
    if let Ok(v) = header::HeaderValue::from_str(&allowed.join(", ")) {
        res.headers_mut().insert(header::ALLOW, v);
    }
    res
}

/// Middleware: a method the path's operation does not list is a 405 with `Allow`, before
/// routing and authentication.
pub async fn reject_unlisted_methods(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let table = req.app_data::<actix_web::web::Data<RouteTable>>().cloned();
    if let Some(allowed) = table.as_ref().and_then(|t| t.get()).and_then(|t| allowed_methods(t, req.path()))
        && !allowed.iter().any(|m| m == req.method().as_str())
    {
        let res = method_not_allowed(req.method(), allowed);
        return Ok(req.into_response(res).map_into_right_body());
    }
    next.call(req).await.map(ServiceResponse::map_into_left_body)
}

/// The default service.
pub async fn not_routed(req: HttpRequest, table: actix_web::web::Data<RouteTable>) -> HttpResponse {
    match table.get().and_then(|t| allowed_methods(t, req.path())) {
        Some(allowed) if !allowed.iter().any(|m| m == req.method().as_str()) => method_not_allowed(req.method(), allowed),
        _ => problem_response(StatusCode::NOT_FOUND, ProblemType::NotFound, Some(format!("no route for {}", req.path())), vec![]),
    }
}

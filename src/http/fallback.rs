//! Answers for requests no handler took: 405 with `Allow` when the path exists under
//! other methods (known from the OpenAPI document), otherwise 404; both problem+json.

use std::sync::{Arc, OnceLock};

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse};

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

/// The default service.
pub async fn not_routed(req: HttpRequest, table: actix_web::web::Data<RouteTable>) -> HttpResponse {
    let path: Vec<&str> = req.path().trim_matches('/').split('/').collect();
    let allowed: Vec<String> =
        table.get().map(|t| t.iter().filter(|(tpl, _)| matches(tpl, &path)).flat_map(|(_, m)| m.clone()).collect()).unwrap_or_default();
    if allowed.is_empty() {
        return problem_response(StatusCode::NOT_FOUND, "not-found", Some(format!("no route for {}", req.path())), vec![]);
    }
    let mut res = problem_response(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        Some(format!("{} is not allowed here; allowed: {}", req.method(), allowed.join(", "))),
        vec![],
    );
    if let Ok(v) = header::HeaderValue::from_str(&allowed.join(", ")) {
        res.headers_mut().insert(header::ALLOW, v);
    }
    res
}

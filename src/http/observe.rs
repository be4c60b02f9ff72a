//! What every answer carries beside its body: a request id (`X-Request-Id`, the caller's
//! if it sent a usable one), an access-log line and the request metrics; and for the API,
//! `Cache-Control` (answers stay out of shared caches; tokens are never stored) and, on a
//! `GET` answered 200, a weak `ETag` over the body, with `304 Not Modified` when the
//! caller's `If-None-Match` already holds it.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpMessage as _, HttpResponse};
use sha2::{Digest as _, Sha256};

use crate::telemetry;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the request being answered (in the request's extensions).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The role of the authenticated caller, for the access log (set by the extractor).
#[derive(Debug, Clone)]
pub struct CallerRole(pub &'static str);

/// A request id the caller sent is kept when it is 1–128 characters of letters, digits and
/// `-_.:`; anything else is replaced by a new one (it goes into logs and headers verbatim).
fn usable_id(v: &HeaderValue) -> Option<String> {
    let s = v.to_str().ok()?;
    (!s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))).then(|| s.to_owned())
}

/// Request id, access log and request metrics.
pub async fn observe(req: ServiceRequest, next: Next<impl MessageBody + 'static>) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    let id = req.headers().get(&REQUEST_ID).and_then(usable_id).unwrap_or_else(|| uuid::Uuid::now_v7().simple().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().to_string();
    let path = req.path().to_owned();
    let mut res = next.call(req).await?.map_into_boxed_body();
    let took = started.elapsed();
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, v);
    }
    let route = res.request().match_pattern().unwrap_or_else(|| "unmatched".to_owned());
    let status = res.status().as_u16();
    let role = res.request().extensions().get::<CallerRole>().map_or("anonymous", |r| r.0);
    telemetry::count(telemetry::HTTP_REQUESTS, &[("method", method.clone()), ("route", route.clone()), ("status", status.to_string())]);
    telemetry::observe(telemetry::HTTP_DURATION, &[("method", method.clone()), ("route", route.clone())], took);
    let latency_ms = u64::try_from(took.as_millis()).unwrap_or(u64::MAX);
    log::info!(
        target: "access",
        request_id = id.as_str(), method = method.as_str(), route = route.as_str(), path = path.as_str(),
        status = status, latency_ms = latency_ms, role = role;
        "{method} {path} {status} {latency_ms}ms {role} {id}"
    );
    Ok(res)
}

/// `Cache-Control`, `ETag` and `304` for the API (see the module).
pub async fn caching(req: ServiceRequest, next: Next<impl MessageBody + 'static>) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let api = req.path().starts_with("/api/v1/");
    let tokens = req.path().starts_with("/api/v1/auth/");
    let conditional = req.method() == Method::GET;
    let if_none_match = req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let res = next.call(req).await?.map_into_boxed_body();
    if !api {
        return Ok(res);
    }
    let (req, mut response) = res.into_parts();
    let cacheable = conditional && !tokens && response.status() == StatusCode::OK;
    let policy = if cacheable { "private, no-cache" } else { "no-store" };
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    if !cacheable {
        return Ok(ServiceResponse::new(req, response));
    }
    let (head, body) = response.into_parts();
    let bytes = actix_web::body::to_bytes(body).await.map_err(|_| actix_web::error::ErrorInternalServerError("unreadable body"))?;
    let tag = format!("W/\"{}\"", &hex::encode(Sha256::digest(&bytes))[..32]);
    let unchanged = if_none_match.is_some_and(|v| v.split(',').map(str::trim).any(|t| t == "*" || t == tag || weak(t) == weak(&tag)));
    let mut out = if unchanged {
        let mut not_modified = HttpResponse::NotModified().finish();
        for (name, value) in head.headers() {
            if name != header::CONTENT_LENGTH && name != header::CONTENT_TYPE {
                not_modified.headers_mut().append(name.clone(), value.clone());
            }
        }
        not_modified
    } else {
        head.set_body(BoxBody::new(bytes))
    };
    if let Ok(v) = HeaderValue::from_str(&tag) {
        out.headers_mut().insert(header::ETAG, v);
    }
    Ok(ServiceResponse::new(req, out))
}

/// The CORS policy for the configured origins: the API's methods, the headers its clients
/// send, and the headers a browser script may read. Origins not listed get no CORS headers
/// (the browser then keeps the answer from the script); the request itself is served.
pub fn cors(origins: &[String]) -> actix_cors::Cors {
    let mut cors = actix_cors::Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT, header::IF_NONE_MATCH, REQUEST_ID])
        .allowed_header(HeaderName::from_static("idempotency-key"))
        .expose_headers([header::ETAG, header::LINK, header::LOCATION, header::RETRY_AFTER, REQUEST_ID])
        .block_on_origin_mismatch(false)
        .max_age(3600);
    for o in origins {
        cors = cors.allowed_origin(o);
    }
    cors
}

/// An entity tag without its weak marker (`If-None-Match` compares weakly).
fn weak(tag: &str) -> &str {
    tag.strip_prefix("W/").unwrap_or(tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_request_ids_are_kept() {
        assert_eq!(usable_id(&HeaderValue::from_static("abc-123_x.y:z")).as_deref(), Some("abc-123_x.y:z"));
        for bad in ["", "a b", "a\"b", "ключ"] {
            let v = HeaderValue::from_bytes(bad.as_bytes()).unwrap();
            assert_eq!(usable_id(&v), None, "{bad:?}");
        }
        assert_eq!(usable_id(&HeaderValue::from_str(&"x".repeat(129)).unwrap()), None);
    }

    #[test]
    fn weak_comparison_ignores_the_marker() {
        assert_eq!(weak("W/\"ab\""), weak("\"ab\""));
    }
}

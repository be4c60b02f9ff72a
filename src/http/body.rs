//! The JSON body extractor: enforces the size limit, reports malformed JSON as a 400 and
//! every type or field error as a 422 naming the field path (`lines[0].unit`), and keeps
//! the parsed document for idempotency comparisons.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt as _;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, FieldError};

/// Largest request body accepted, in bytes (256 KiB).
pub const MAX_BODY: usize = 256 * 1024;

/// A typed JSON body plus the document it was read from.
#[derive(Debug)]
pub struct JsonBody<T> {
    pub value: T,
    pub raw: serde_json::Value,
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let declared_len = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
        let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let mut payload = payload.take();
        Box::pin(async move {
            if let Some(ct) = content_type {
                let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
                if essence != "application/json" && !essence.ends_with("+json") {
                    return Err(ApiError::field("Content-Type", "unsupported_media_type", "send application/json"));
                }
            }
            if declared_len.is_some_and(|n| n > MAX_BODY) {
                return Err(ApiError::PayloadTooLarge(MAX_BODY));
            }
            let mut buf = Vec::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("could not read the body: {e}")))?;
                if buf.len() + chunk.len() > MAX_BODY {
                    return Err(ApiError::PayloadTooLarge(MAX_BODY));
                }
                buf.extend_from_slice(&chunk);
            }
            let raw: serde_json::Value =
                serde_json::from_slice(&buf).map_err(|e| ApiError::BadRequest(format!("the body is not valid JSON: {e}")))?;
            let value = serde_path_to_error::deserialize(&raw).map_err(|e| ApiError::Validation(vec![field_error(&e)]))?;
            Ok(Self { value, raw })
        })
    }
}

/// Names the offending field and classifies serde's message into a stable code.
fn field_error(e: &serde_path_to_error::Error<serde_json::Error>) -> FieldError {
    let msg = e.inner().to_string();
    let path = e.path().to_string();
    let join = |name: &str| if path == "." || path.is_empty() { name.to_owned() } else { format!("{path}.{name}") };
    let quoted = |prefix: &str| msg.strip_prefix(prefix).and_then(|r| r.split('`').next()).map(str::to_owned);
    if let Some(name) = quoted("missing field `") {
        return FieldError::new(join(&name), "required", format!("{name} is required"));
    }
    if let Some(name) = quoted("unknown field `") {
        return FieldError::new(join(&name), "unknown_field", msg);
    }
    let code = if msg.starts_with("invalid type") {
        "invalid_type"
    } else if msg.starts_with("unknown variant") {
        "unknown_value"
    } else {
        "invalid_value"
    };
    let field = if path == "." { String::from("body") } else { path };
    FieldError::new(field, code, msg)
}

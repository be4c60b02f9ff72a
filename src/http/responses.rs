//! Statuses that any operation of a kind can answer, documented in one place rather than
//! repeated (and forgotten) per handler: every operation that requires a bearer token can
//! answer 401 (no valid token), every operation that uses the database can answer 503 with
//! `Retry-After` (pool exhausted, database busy), and every operation that reads a body can
//! answer 400 (unreadable or malformed) and 413 (too large). Each is an RFC 9457 problem. A
//! status a handler documents itself keeps its own description.

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::{ContentBuilder, ObjectBuilder, OpenApi, Ref, RefOr, ResponseBuilder, Type};

/// Paths that never touch the database.
const WITHOUT_DATABASE: &[&str] = &["/healthz", "/metrics"];

fn problem(description: &str) -> utoipa::openapi::ResponseBuilder {
    ResponseBuilder::new()
        .description(description)
        .content("application/problem+json", ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build())
}

fn retry_after() -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(Some(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(0)).build()))
        .description(Some("Seconds to wait before retrying"))
        .build()
}

/// The 503 of an exhausted pool or a busy database.
fn unavailable() -> utoipa::openapi::Response {
    problem("The database is busy or every connection is in use; retry after `Retry-After` seconds")
        .header("Retry-After", retry_after())
        .build()
}

fn add(op: &mut Operation, status: &str, response: impl FnOnce() -> utoipa::openapi::Response) {
    op.responses.responses.entry(status.to_owned()).or_insert_with(|| RefOr::T(response()));
}

/// Whether the operation requires the bearer token (its `security` names the scheme).
fn requires_bearer(op: &Operation) -> bool {
    op.security.as_ref().is_some_and(|reqs| reqs.iter().any(|r| serde_json::to_value(r).is_ok_and(|v| v.get("bearer").is_some())))
}

/// Adds the common statuses to every operation of `doc`.
pub fn document_common_statuses(doc: &mut OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        let uses_database = !WITHOUT_DATABASE.contains(&path.as_str());
        let ops = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        for op in ops.into_iter().flatten() {
            if requires_bearer(op) {
                add(op, "401", || problem("No valid bearer token").build());
            }
            if op.request_body.is_some() {
                add(op, "400", || problem("The body could not be read or is not valid JSON").build());
                add(op, "413", || problem("The body is larger than this operation accepts").build());
            }
            if uses_database {
                add(op, "503", unavailable);
                // A handler's own 503 (readyz) is the same answer: it carries the header too.
                if let Some(RefOr::T(own)) = op.responses.responses.get_mut("503") {
                    own.headers.entry("Retry-After".to_owned()).or_insert_with(|| RefOr::T(retry_after()));
                }
            }
        }
    }
}

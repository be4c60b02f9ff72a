//! Statuses that any operation of a kind can answer, documented in one place rather than
//! repeated (and forgotten) per handler: every operation that requires a bearer token can
//! answer 401 (no valid token), every operation that uses the database can answer 503 with
//! `Retry-After` (pool exhausted, database busy), and every operation that reads a body can
//! answer 400 (unreadable or malformed) and 413 (too large). Each is an RFC 9457 problem. A
//! status a handler documents itself keeps its own description. Every `GET` of the API
//! (but `/api/v1/auth/`) takes `If-None-Match` and can answer 304; its 200 carries `ETag`
//! and `Cache-Control`, and a page of a list `Link: rel="next"` (see `http::observe`).

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
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

fn text_header(description: &str) -> utoipa::openapi::header::Header {
    HeaderBuilder::new().schema(Some(ObjectBuilder::new().schema_type(Type::String).build())).description(Some(description)).build()
}

/// `If-None-Match`, the 304 and the 200's `ETag`, `Cache-Control` (and `Link` on a page).
fn document_revalidation(op: &mut Operation) {
    let param = ParameterBuilder::new()
        .name("If-None-Match")
        .parameter_in(ParameterIn::Header)
        .description(Some(
            "The `ETag` of an earlier answer (or `*`): 304 with no body while the answer is unchanged. \
             A value that matches no current tag, malformed or not, is ignored (RFC 9110): the answer is the 200.",
        ))
        .schema(Some(ObjectBuilder::new().schema_type(Type::String).build()))
        .build();
    op.parameters.get_or_insert_with(Vec::new).push(RefOr::T(param));
    add(op, "304", || {
        ResponseBuilder::new()
            .description("Not modified: `If-None-Match` holds the answer's current `ETag`")
            .header("ETag", text_header("The answer's entity tag (weak)"))
            .build()
    });
    let Some(RefOr::T(ok)) = op.responses.responses.get_mut("200") else { return };
    let page = ok
        .content
        .values()
        .any(|c| serde_json::to_value(c).is_ok_and(|v| v["schema"]["$ref"].as_str().is_some_and(|r| r.contains("/Page_"))));
    ok.headers.entry("ETag".to_owned()).or_insert_with(|| RefOr::T(text_header("Weak entity tag over the body, for If-None-Match")));
    ok.headers
        .entry("Cache-Control".to_owned())
        .or_insert_with(|| RefOr::T(text_header("`private, no-cache`: revalidate; no shared cache")));
    if page {
        ok.headers.entry("Link".to_owned()).or_insert_with(|| {
            RefOr::T(text_header("`<…?…&cursor=NEXT>; rel=\"next\"` when there is a next page (the same query, cursor set)"))
        });
    }
}

/// Adds the common statuses to every operation of `doc`.
pub fn document_common_statuses(doc: &mut OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        if path.starts_with("/api/v1/")
            && !path.starts_with("/api/v1/auth/")
            && let Some(get) = item.get.as_mut()
        {
            document_revalidation(get);
        }
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

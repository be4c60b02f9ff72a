//! HTTP layer: handlers and their request/response DTOs (with OpenAPI schemas), the JSON
//! body extractor, pagination, and problem+json for everything actix would otherwise
//! answer in plain text. No SQL and no business rules here.

pub mod accounts;
pub mod body;
pub mod dto;
pub mod fallback;
pub mod health;
pub mod purchases;
pub mod reference;
pub mod reports;
pub mod schools;
pub mod suppliers;

use actix_web::{HttpRequest, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;

/// Largest page a list returns.
pub const MAX_LIMIT: i64 = 500;
/// Page size when `limit` is not given.
pub const DEFAULT_LIMIT: i64 = 100;

/// A page of results with the cursor of the next page.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub items: Vec<T>,
    /// Opaque cursor for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Cursor pagination parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Opaque cursor from a previous page's `next_cursor`.
    #[param(pattern = "^[0-9a-f]{1,200}$")]
    pub cursor: Option<String>,
    /// Page size, 1–500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

impl PageQuery {
    /// `(after_id, limit + 1)`: one extra row tells whether there is a next page.
    pub fn decode(&self) -> Result<(Option<String>, i64), ApiError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::field("limit", "out_of_range", format!("limit must be between 1 and {MAX_LIMIT}")));
        }
        let after = match &self.cursor {
            None => None,
            Some(c) => Some(
                hex::decode(c)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or_else(|| ApiError::field("cursor", "bad_cursor", "cursor is not one this API issued"))?,
            ),
        };
        Ok((after, limit + 1))
    }
}

/// Cuts a `limit + 1` result to a page and derives the next cursor from the last id.
pub fn paginate<R, T: ToSchema>(mut rows: Vec<R>, fetched: i64, id: impl Fn(&R) -> String, to_dto: impl Fn(R) -> T) -> Page<T> {
    let limit = usize::try_from(fetched - 1).unwrap_or(0);
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next_cursor = if more { rows.last().map(|r| hex::encode(id(r))) } else { None };
    Page { items: rows.into_iter().map(to_dto).collect(), next_cursor }
}

/// Query-string errors as problem+json (actix's default is text/plain).
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req: &HttpRequest| {
        ApiError::Validation(vec![crate::error::FieldError::new("query", "invalid_query", err.to_string())]).into()
    })
}

/// Path-parameter errors as problem+json.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, _req: &HttpRequest| ApiError::BadRequest(format!("invalid path: {err}")).into())
}

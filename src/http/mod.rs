//! HTTP layer: handlers and their request/response DTOs (with OpenAPI schemas), the JSON
//! body extractor, pagination, and problem+json for everything actix would otherwise
//! answer in plain text. No SQL and no business rules here.

pub mod accounts;
pub mod admin;
pub mod batch;
pub mod body;
pub mod deliveries;
pub mod dto;
pub mod export;
pub mod fallback;
pub mod health;
pub mod imports;
pub mod purchases;
pub mod reference;
pub mod reports;
pub mod responses;
pub mod schools;
pub mod settlement;
pub mod suppliers;
pub mod targets;
pub mod webhooks;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use serde::Deserialize;
use serde::de::value::MapDeserializer;
use serde::de::{self, DeserializeOwned, Deserializer, IntoDeserializer, Visitor};
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

/// A query-string extractor that names the offending parameter (`limit`, `from`) in its
/// 422, which `web::Query` cannot: serde_urlencoded's errors carry no field path.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T> Query<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(Query))
    }
}

/// Decodes the pairs, then deserializes them with path tracking.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(query)
        .map_err(|e| ApiError::field("query", "invalid_query", e.to_string()))?
        .into_inner();
    let map = MapDeserializer::<_, de::value::Error>::new(pairs.into_iter().map(|(k, v)| (k, QueryValue(v))));
    serde_path_to_error::deserialize(map).map_err(|e| ApiError::Validation(vec![body::field_error(&e, "query")]))
}

/// One decoded query value: numbers and booleans are parsed from the text.
struct QueryValue(String);

impl<'de> IntoDeserializer<'de, de::value::Error> for QueryValue {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

macro_rules! parse_value {
    ($($method:ident => $visit:ident),+ $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            match self.0.parse() {
                Ok(v) => visitor.$visit(v),
                Err(_) => Err(de::Error::invalid_value(de::Unexpected::Str(&self.0), &visitor)),
            }
        }
    )+};
}

impl<'de> Deserializer<'de> for QueryValue {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_string(self.0)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _: &'static str, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(self, _: &'static str, _: &'static [&'static str], visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_enum(self.0.into_deserializer())
    }

    parse_value!(
        deserialize_bool => visit_bool,
        deserialize_i8 => visit_i8,
        deserialize_i16 => visit_i16,
        deserialize_i32 => visit_i32,
        deserialize_i64 => visit_i64,
        deserialize_u8 => visit_u8,
        deserialize_u16 => visit_u16,
        deserialize_u32 => visit_u32,
        deserialize_u64 => visit_u64,
        deserialize_f32 => visit_f32,
        deserialize_f64 => visit_f64,
    );

    serde::forward_to_deserialize_any! {
        char str string bytes byte_buf unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
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

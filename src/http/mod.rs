//! HTTP layer: handlers and their request/response DTOs (with OpenAPI schemas), the JSON
//! body extractor, pagination, and problem+json for everything actix would otherwise
//! answer in plain text. No SQL and no business rules here.

pub mod accounts;
pub mod admin;
pub mod batch;
pub mod body;
pub mod clock;
pub mod deliveries;
pub mod dto;
pub mod export;
pub mod extract;
pub mod fallback;
pub mod health;
pub mod imports;
pub mod observe;
pub mod purchases;
pub mod reference;
pub mod reporting;
pub mod reports;
pub mod responses;
pub mod schools;
pub mod settlement;
pub mod state;
pub mod submissions;
pub mod suppliers;
pub mod targets;
pub mod webhooks;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use serde::Deserialize;
use serde::de::value::MapDeserializer;
use serde::de::{self, DeserializeOwned, Deserializer, IntoDeserializer, Visitor};
use utoipa::{IntoParams, ToSchema};

pub use extract::AuthUser;
pub use state::AppState;

use crate::domain::DomainError;
use crate::domain::text::has_control;
use crate::error::Code;
use crate::error::{ApiError, FieldError};

/// Largest page a list returns.
pub const MAX_LIMIT: i64 = 500;
/// Page size when `limit` is not given.
pub const DEFAULT_LIMIT: i64 = 100;

/// A page of results with the cursor of the next page. Its OpenAPI schema is one
/// concrete `Page_<Item>` per listed item type (see [`page_schemas!`]).
#[derive(Debug, serde::Serialize)]
pub struct Page<T: ToSchema> {
    pub items: Vec<T>,
    /// Opaque cursor for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A page answers as JSON with, when there is a next page, a `Link: <…>; rel="next"`
/// header: the request's own path and query with `cursor` set to `next_cursor` (RFC 8288).
impl<T: ToSchema + serde::Serialize> actix_web::Responder for Page<T> {
    type Body = actix_web::body::BoxBody;

    fn respond_to(self, req: &actix_web::HttpRequest) -> actix_web::HttpResponse {
        let mut res = actix_web::HttpResponse::Ok();
        if let Some(next) = &self.next_cursor {
            let mut query: Vec<&str> =
                req.query_string().split('&').filter(|p| !p.is_empty() && p.split('=').next() != Some("cursor")).collect();
            let cursor = format!("cursor={next}");
            query.push(&cursor);
            res.insert_header((actix_web::http::header::LINK, format!("<{}?{}>; rel=\"next\"", req.path(), query.join("&"))));
        }
        res.json(self)
    }
}

/// The documented shape of a [`Page`] of each listed item type, declared one concrete
/// schema per item so that `items` is `{type: array, items: {$ref: Item}}`: utoipa inlines
/// a generic argument, and client generators then make a duplicate `…ItemsInner` model per
/// page. Only the OpenAPI document uses these; handlers answer a [`Page`] of the item,
/// which serializes to exactly this shape.
macro_rules! page_schemas {
    ($($page:ident as $name:ident => $item:ty),* $(,)?) => {$(
        /// A page of results with the cursor of the next page.
        #[derive(Debug, serde::Serialize, ToSchema)]
        #[schema(as = $name)]
        pub struct $page {
            pub items: Vec<$item>,
            /// Opaque cursor for the next page; absent on the last page.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub next_cursor: Option<String>,
        }
    )*};
}

page_schemas! {
    PageDeliveryResponse as Page_DeliveryResponse => crate::service::views::delivery::DeliveryResponse,
    PagePurchaseResponse as Page_PurchaseResponse => crate::service::views::purchase::PurchaseResponse,
    PageSchoolResponse as Page_SchoolResponse => schools::SchoolResponse,
    PageSupplierResponse as Page_SupplierResponse => suppliers::SupplierResponse,
    PageWebhookDeliveryResponse as Page_WebhookDeliveryResponse => webhooks::WebhookDeliveryResponse,
    PageWebhookResponse as Page_WebhookResponse => webhooks::WebhookResponse,
}

/// Schema pattern of a cursor: the lowercase hex of an id this API issues (ids are
/// UUIDs, so the hex of `0-9`, `a-f` and `-`), at most 100 characters of id.
pub const CURSOR_PATTERN: &str = "^(3[0-9]|6[1-6]|2d){1,100}$";

/// Cursor pagination parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Opaque cursor from a previous page's `next_cursor`.
    #[param(pattern = "^(3[0-9]|6[1-6]|2d){1,100}$")]
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
            return Err(ApiError::field("limit", Code::OutOfRange, format!("limit must be between 1 and {MAX_LIMIT}")));
        }
        let after = match &self.cursor {
            None => None,
            Some(c) => {
                Some(decode_cursor(c).ok_or_else(|| ApiError::field("cursor", Code::BadCursor, "cursor is not one this API issued"))?)
            }
        };
        Ok((after, limit + 1))
    }
}

/// The id a cursor stands for: lowercase hex of 1–100 characters of `0-9`, `a-f`, `-`
/// (what ids are made of, see [`CURSOR_PATTERN`]); anything else, `00` (a NUL) included, is
/// not a cursor this API issued.
fn decode_cursor(cursor: &str) -> Option<String> {
    if cursor.len() > 200 || cursor.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let id = String::from_utf8(hex::decode(cursor).ok()?).ok()?;
    (!id.is_empty() && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b) || b == b'-')).then_some(id)
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

/// Decodes the pairs, refuses empty values and control characters (naming the
/// parameter), then deserializes them with path tracking. An empty value (`?prefecture=`)
/// is never read as "no filter".
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    deserialize_pairs(checked_pairs(query)?)
}

/// The query of an `…/export` operation: `format` (`csv` or `xlsx`, required) beside the
/// parameters of the report it exports, which are parsed as that report's own query.
pub struct Export<T> {
    pub query: T,
    pub format: export::ExportFormat,
}

impl<T: DeserializeOwned> FromRequest for Export<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_export(req.query_string()))
    }
}

fn parse_export<T: DeserializeOwned>(query: &str) -> Result<Export<T>, ApiError> {
    let (format, rest): (Vec<_>, Vec<_>) = checked_pairs(query)?.into_iter().partition(|(k, _)| k == "format");
    let format = match format.iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>().as_slice() {
        ["csv"] => export::ExportFormat::Csv,
        ["xlsx"] => export::ExportFormat::Xlsx,
        [] => return Err(ApiError::field("format", Code::Required, "format is required: csv or xlsx")),
        _ => return Err(ApiError::field("format", Code::BadFormat, "use format=csv or format=xlsx, once")),
    };
    Ok(Export { query: deserialize_pairs(rest)?, format })
}

/// The decoded pairs of a query, refused (naming the parameter) where a key or value holds
/// a control character or a value is empty.
fn checked_pairs(query: &str) -> Result<Vec<(String, String)>, ApiError> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(query)
        .map_err(|e| ApiError::field("query", Code::InvalidQuery, e.to_string()))?
        .into_inner();
    let mut errors = Vec::new();
    for (key, value) in &pairs {
        if has_control(key) {
            errors.push(FieldError::domain("query", &DomainError::ControlCharacter));
        } else if has_control(value) {
            errors.push(FieldError::domain(key.clone(), &DomainError::ControlCharacter));
        } else if value.is_empty() {
            errors.push(FieldError::new(key.clone(), Code::Empty, format!("{key} must not be empty: leave the parameter out instead")));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    Ok(pairs)
}

fn deserialize_pairs<T: DeserializeOwned>(pairs: Vec<(String, String)>) -> Result<T, ApiError> {
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
        ApiError::Validation(vec![crate::error::FieldError::new("query", Code::InvalidQuery, err.to_string())]).into()
    })
}

/// A request whose path holds a control character (`/purchases/%00`) names no resource
/// that can exist (ids, codes and jtis never hold one): a 404 before any handler, the same
/// on both backends. Query strings are checked by [`parse_query`], bodies by `body`.
pub async fn refuse_control_paths(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    if path_has_control(req.path()) {
        let res = actix_web::ResponseError::error_response(&ApiError::NotFound("resource"));
        return Ok(req.into_response(res));
    }
    next.call(req).await.map(actix_web::dev::ServiceResponse::map_into_boxed_body)
}

/// Whether the percent-decoded path holds a control character (or bytes that are not UTF-8,
/// which no id is either).
fn path_has_control(path: &str) -> bool {
    let bytes = path.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = (b == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(v) => {
                decoded.push(v);
                i += 3;
            }
            None => {
                decoded.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(decoded).map_or(true, |p| has_control(&p))
}

/// Path-parameter errors as problem+json.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, _req: &HttpRequest| ApiError::BadRequest(format!("invalid path: {err}")).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_export_takes_its_format_apart_from_the_report_query() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Q {
            scope: String,
        }
        let e = parse_export::<Q>("scope=province&format=xlsx").unwrap();
        assert_eq!((e.query.scope.as_str(), e.format), ("province", export::ExportFormat::Xlsx));
        assert_eq!(parse_export::<Q>("format=csv&scope=province").unwrap().format, export::ExportFormat::Csv);
        for (query, code) in [
            ("scope=province", "required"),
            ("scope=province&format=json", "bad_format"),
            ("scope=province&format=csv&format=xlsx", "bad_format"),
        ] {
            let Err(ApiError::Validation(errors)) = parse_export::<Q>(query) else { panic!("{query}: accepted") };
            assert_eq!((errors[0].field.as_str(), errors[0].code.as_str()), ("format", code), "{query}");
        }
        assert!(parse_export::<Q>("scope=province&format=csv&other=1").is_err(), "the report's own query stays strict");
    }

    #[test]
    fn cursors_are_the_hex_of_ids_only() {
        let id = "0193a7c2-5f1e-7c3a-9b2d-1e2f3a4b5c6d";
        assert_eq!(decode_cursor(&hex::encode(id)).as_deref(), Some(id));
        for bad in ["", "00", "0", "zz", "2D", "41", "e4b8ad", "3", &"30".repeat(101)] {
            assert_eq!(decode_cursor(bad), None, "{bad}");
        }
    }

    #[test]
    fn paths_with_control_characters_are_spotted_encoded_or_not() {
        for bad in ["/api/v1/purchases/%00", "/api/v1/schools/a%0Ab", "/api/v1/x/%7f", "/api/v1/x/%C2%85", "/api/v1/x/%FF"] {
            assert!(path_has_control(bad), "{bad}");
        }
        for ok in ["/api/v1/purchases/0193a7c2-5f1e", "/api/v1/x/%E4%B8%AD", "/api/v1/x/100%", "/api/v1/x/%zz"] {
            assert!(!path_has_control(ok), "{ok}");
        }
    }
}

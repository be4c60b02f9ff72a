//! Suppliers and their tags.

use actix_web::{HttpResponse, get, post, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::body::{JsonBody, OptionalJsonBody};
use super::dto::check_text;
use super::{PageQuery, paginate};
use crate::db::repo::suppliers::{SupplierFilter, TagRow};
use crate::domain::catalog::{SupplierKind, Tag, TagStatus};
use crate::error::Code;
use crate::error::{ApiError, Problem};
use crate::http::AppState;
use crate::http::AuthUser;
use crate::service::suppliers::{self, NewSupplier, NewTag, SupplierWithTags};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_suppliers).service(create_supplier).service(get_supplier).service(declare_tag).service(verify_tag).service(revoke_tag);
}

/// A supplier tag and its review state.
#[derive(Debug, Serialize, ToSchema)]
pub struct TagResponse {
    pub id: String,
    pub tag: Tag,
    pub status: TagStatus,
    pub valid_from: NaiveDate,
    /// Inclusive; absent means open-ended.
    pub valid_to: Option<NaiveDate>,
    /// E.g. the 建档立卡 registration number of a poor household.
    pub evidence: String,
    pub declared_by: String,
    #[serde(with = "crate::service::views::timestamp::utc")]
    pub declared_at: chrono::NaiveDateTime,
    pub reviewed_by: Option<String>,
    #[serde(default, with = "crate::service::views::timestamp::utc_opt")]
    pub reviewed_at: Option<chrono::NaiveDateTime>,
    pub review_note: Option<String>,
}

impl From<TagRow> for TagResponse {
    fn from(t: TagRow) -> Self {
        Self {
            tag: t.tag,
            status: t.status,
            id: t.id,
            valid_from: t.valid_from,
            valid_to: t.valid_to,
            evidence: t.evidence,
            declared_by: t.declared_by,
            declared_at: t.declared_at,
            reviewed_by: t.reviewed_by,
            reviewed_at: t.reviewed_at,
            review_note: t.review_note,
        }
    }
}

/// A supplier with its tags.
#[derive(Debug, Serialize, ToSchema)]
pub struct SupplierResponse {
    pub id: String,
    pub name: String,
    pub kind: SupplierKind,
    pub origin_county_code: String,
    /// Whether the origin county is one of the province's counties.
    pub in_province: bool,
    pub registration_ref: String,
    #[serde(with = "crate::service::views::timestamp::utc")]
    pub created_at: chrono::NaiveDateTime,
    /// Days after the purchase date a payment is due.
    pub payment_terms_days: i32,
    pub tags: Vec<TagResponse>,
}

impl From<SupplierWithTags> for SupplierResponse {
    fn from(s: SupplierWithTags) -> Self {
        let r = s.supplier;
        Self {
            kind: r.kind,
            id: r.id,
            name: r.name,
            origin_county_code: r.origin_county_code,
            in_province: s.in_province,
            registration_ref: r.registration_ref,
            created_at: r.created_at,
            payment_terms_days: r.payment_terms_days,
            tags: s.tags.into_iter().map(TagResponse::from).collect(),
        }
    }
}

/// A supplier to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSupplierRequest {
    #[schema(
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F-\x9F]*$",
        min_length = 1,
        max_length = 200,
        example = "惠水县好花红蔬菜专业合作社"
    )]
    pub name: String,
    pub kind: SupplierKind,
    /// GB/T 2260 code of the origin county: a county-level code (not ending in `00`) under a
    /// province prefix (11–65, 71, 81, 82); codes under 52 must be Guizhou counties.
    #[schema(pattern = r"^(1[1-5]|2[1-3]|3[1-7]|4[1-6]|5[0-4]|6[1-5]|71|81|82)[0-9]{2}(0[1-9]|[1-9][0-9])$", example = "522731")]
    pub origin_county_code: String,
    /// Business licence, cooperative registration or household registration reference.
    #[schema(
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F-\x9F]*$",
        min_length = 1,
        max_length = 100
    )]
    pub registration_ref: String,
    /// Days after the purchase date a payment is due (default 30).
    #[schema(minimum = 0, maximum = 365, example = 30)]
    pub payment_terms_days: Option<i32>,
}

/// Register a supplier (bureaus, admin and canteens).
#[utoipa::path(
    tag = "suppliers",
    request_body = CreateSupplierRequest,
    responses(
        (status = 201, description = "Supplier registered", body = SupplierResponse),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role may not register suppliers", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields or unknown county", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/suppliers")]
pub async fn create_supplier(
    state: web::Data<AppState>,
    user: AuthUser,
    body: JsonBody<CreateSupplierRequest>,
) -> Result<HttpResponse, ApiError> {
    let r = body.value;
    check_text("name", &r.name, 200)?;
    check_text("registration_ref", &r.registration_ref, 100)?;
    if !crate::domain::role::is_division_code(&r.origin_county_code) {
        return Err(ApiError::field("origin_county_code", Code::BadCode, "a 6-digit GB/T 2260 code"));
    }
    if r.payment_terms_days.is_some_and(|d| !(0..=365).contains(&d)) {
        return Err(ApiError::field("payment_terms_days", Code::OutOfRange, "0 to 365 days"));
    }
    let new = NewSupplier {
        name: r.name.trim().into(),
        kind: r.kind,
        origin_county_code: r.origin_county_code,
        registration_ref: r.registration_ref.trim().into(),
        payment_terms_days: r.payment_terms_days.unwrap_or(suppliers::DEFAULT_PAYMENT_TERMS_DAYS),
    };
    let s = state.db.run(move |conn| suppliers::create(conn, &user, new)).await?;
    Ok(HttpResponse::Created().json(SupplierResponse::from(s)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SupplierQuery {
    /// Only suppliers from this origin county.
    #[param(pattern = r"^[0-9]{6}$")]
    #[serde(default, deserialize_with = "super::dto::optional_division_code")]
    pub origin_county: Option<String>,
    pub kind: Option<SupplierKind>,
    #[param(pattern = "^(3[0-9]|6[1-6]|2d){1,100}$")]
    pub cursor: Option<String>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// List suppliers (every signed-in caller).
#[utoipa::path(
    tag = "suppliers",
    params(SupplierQuery),
    responses(
        (status = 200, description = "A page of suppliers", body = super::PageSupplierResponse),
        (status = 422, description = "Bad query", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/suppliers")]
pub async fn list_suppliers(
    state: web::Data<AppState>,
    _user: AuthUser,
    q: super::Query<SupplierQuery>,
) -> Result<super::Page<SupplierResponse>, ApiError> {
    let q = q.into_inner();
    let (after_id, fetch) = PageQuery { cursor: q.cursor, limit: q.limit }.decode()?;
    let filter = SupplierFilter { origin_county_code: q.origin_county, kind: q.kind, after_id, limit: fetch };
    let rows = state.db.run(move |conn| suppliers::list(conn, &filter)).await?;
    Ok(paginate(rows, fetch, |s| s.supplier.id.clone(), SupplierResponse::from))
}

/// One supplier with its tags.
#[utoipa::path(
    tag = "suppliers",
    params(("id" = String, Path, description = "Supplier id")),
    responses(
        (status = 200, description = "The supplier", body = SupplierResponse),
        (status = 404, description = "No such supplier", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/suppliers/{id}")]
pub async fn get_supplier(state: web::Data<AppState>, _user: AuthUser, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let s = state.db.run(move |conn| suppliers::get(conn, &id)).await?;
    Ok(HttpResponse::Ok().json(SupplierResponse::from(s)))
}

/// A tag to declare.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclareTagRequest {
    pub tag: Tag,
    #[schema(example = "2018-01-01")]
    pub valid_from: NaiveDate,
    /// Inclusive; omit for open-ended.
    #[schema(example = "2020-12-31")]
    pub valid_to: Option<NaiveDate>,
    /// Evidence: for `poor_household`, the 建档立卡 registration number.
    #[schema(
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F-\x9F]*$",
        min_length = 1,
        max_length = 500
    )]
    pub evidence: String,
}

/// Declare a tag (admin, province, county bureaus, or the supplier itself). It counts
/// only once verified; until then its purchases are reported as pending.
#[utoipa::path(
    tag = "suppliers",
    params(("id" = String, Path, description = "Supplier id")),
    request_body = DeclareTagRequest,
    responses(
        (status = 201, description = "Tag declared", body = TagResponse),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role may not declare tags for this supplier", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such supplier", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/suppliers/{id}/tags")]
pub async fn declare_tag(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: JsonBody<DeclareTagRequest>,
) -> Result<HttpResponse, ApiError> {
    let r = body.value;
    if r.evidence.chars().count() > 500 {
        return Err(ApiError::field("evidence", Code::TooLong, "at most 500 characters"));
    }
    let new = NewTag { tag: r.tag, valid_from: r.valid_from, valid_to: r.valid_to, evidence: r.evidence };
    let id = id.into_inner();
    let t = state.db.run(move |conn| suppliers::declare_tag(conn, &user, &id, new)).await?;
    Ok(HttpResponse::Created().json(TagResponse::from(t)))
}

/// An optional note on a review (required reason for a revocation).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    #[schema(pattern = r"^[^\x00-\x1F\x7F-\x9F]*$", max_length = 500)]
    pub note: Option<String>,
}

/// A reviewed tag and how many purchases changed qualification.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewResponse {
    pub tag: TagResponse,
    /// Purchases whose qualification changed with this review.
    pub reclassified_purchases: usize,
}

async fn review(
    state: web::Data<AppState>,
    user: AuthUser,
    path: (String, String),
    note: Option<String>,
    to: TagStatus,
) -> Result<HttpResponse, ApiError> {
    if note.as_ref().is_some_and(|n| n.chars().count() > 500) {
        return Err(ApiError::field("note", Code::TooLong, "at most 500 characters"));
    }
    let (sid, tid) = path;
    let (t, n) = state.db.run(move |conn| suppliers::review_tag(conn, &user, &sid, &tid, to, note)).await?;
    Ok(HttpResponse::Ok().json(ReviewResponse { tag: TagResponse::from(t), reclassified_purchases: n }))
}

/// Verify a declared tag (bureau of the supplier's origin county, or the province).
/// Re-evaluates the supplier's purchases in the same transaction.
#[utoipa::path(
    tag = "suppliers",
    params(("id" = String, Path, description = "Supplier id"), ("tag" = String, Path, description = "Tag id")),
    request_body(content = Option<ReviewRequest>, description = "Optional note"),
    responses(
        (status = 200, description = "Tag verified", body = ReviewResponse),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the origin county's bureau or the province", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such supplier or tag", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The tag is not declared (already verified or revoked)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/suppliers/{id}/tags/{tag}/verify")]
pub async fn verify_tag(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(String, String)>,
    body: OptionalJsonBody<ReviewRequest>,
) -> Result<HttpResponse, ApiError> {
    review(state, user, path.into_inner(), body.0.and_then(|b| b.value.note), TagStatus::Verified).await
}

/// A revocation with its reason.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    #[schema(
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F-\x9F]*$",
        min_length = 1,
        max_length = 500,
        example = "household exited poverty registration"
    )]
    pub reason: String,
}

/// Revoke a tag (bureau of the supplier's origin county, or the province). Re-evaluates
/// the supplier's purchases in the same transaction.
#[utoipa::path(
    tag = "suppliers",
    params(("id" = String, Path, description = "Supplier id"), ("tag" = String, Path, description = "Tag id")),
    request_body = RevokeRequest,
    responses(
        (status = 200, description = "Tag revoked", body = ReviewResponse),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the origin county's bureau or the province", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such supplier or tag", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already revoked", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/suppliers/{id}/tags/{tag}/revoke")]
pub async fn revoke_tag(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(String, String)>,
    body: JsonBody<RevokeRequest>,
) -> Result<HttpResponse, ApiError> {
    let reason = body.value.reason;
    if reason.trim().is_empty() {
        return Err(ApiError::field("reason", Code::Blank, "a revocation needs a reason"));
    }
    review(state, user, path.into_inner(), Some(reason), TagStatus::Revoked).await
}

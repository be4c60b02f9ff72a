//! Schools and the verification of their ledger hash chain.

use actix_web::{HttpResponse, get, patch, post, web};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::body::JsonBody;
use super::dto::{check_optional_text, check_text};
use super::{PageQuery, paginate};
use crate::db::repo::schools::{PlacedSchool, SchoolChangeset};
use crate::error::Code;
use crate::error::{ApiError, Problem};
use crate::http::AppState;
use crate::http::AuthUser;
use crate::service::{purchases, schools};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_schools).service(create_school).service(get_school).service(update_school).service(verify_ledger);
}

/// A school canteen.
#[derive(Debug, Serialize, ToSchema)]
pub struct SchoolResponse {
    pub id: String,
    pub county_code: String,
    pub prefecture_code: String,
    pub name: String,
    /// The school's own identifier (e.g. 学校标识码), if recorded.
    pub code: Option<String>,
    pub students: Option<i32>,
    pub address: Option<String>,
    #[serde(with = "crate::service::views::timestamp::utc")]
    pub created_at: chrono::NaiveDateTime,
    #[serde(with = "crate::service::views::timestamp::utc")]
    pub updated_at: chrono::NaiveDateTime,
}

impl From<PlacedSchool> for SchoolResponse {
    fn from(p: PlacedSchool) -> Self {
        let s = p.school;
        Self {
            id: s.id,
            county_code: s.county_code,
            prefecture_code: p.prefecture_code,
            name: s.name,
            code: s.code,
            students: s.students,
            address: s.address,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// A school to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSchoolRequest {
    #[schema(value_type = super::reference::GuizhouCountyCode)]
    pub county_code: String,
    #[schema(
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F-\x9F]*$",
        min_length = 1,
        max_length = 200,
        example = "南明区第一小学"
    )]
    pub name: String,
    #[schema(pattern = r"^[^\x00-\x1F\x7F-\x9F]*$", max_length = 64)]
    pub code: Option<String>,
    #[schema(minimum = 0, maximum = 100000)]
    pub students: Option<i32>,
    #[schema(pattern = r"^[^\x00-\x1F\x7F-\x9F]*$", max_length = 500)]
    pub address: Option<String>,
}

fn check_students(students: Option<i32>) -> Result<(), ApiError> {
    match students {
        Some(n) if !(0..=100_000).contains(&n) => Err(ApiError::field("students", Code::OutOfRange, "between 0 and 100000")),
        _ => Ok(()),
    }
}

/// Register a school (admin, or the bureau of its county).
#[utoipa::path(
    tag = "schools",
    request_body = CreateSchoolRequest,
    responses(
        (status = 201, description = "School registered", body = SchoolResponse),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the bureau of this county", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields or unknown county", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/schools")]
pub async fn create_school(
    state: web::Data<AppState>,
    user: AuthUser,
    body: JsonBody<CreateSchoolRequest>,
) -> Result<HttpResponse, ApiError> {
    let r = body.value;
    check_text("name", &r.name, 200)?;
    check_optional_text("code", r.code.as_deref(), 64)?;
    check_optional_text("address", r.address.as_deref(), 500)?;
    check_students(r.students)?;
    let new = schools::NewSchool {
        county_code: r.county_code,
        name: r.name.trim().to_owned(),
        code: r.code,
        students: r.students,
        address: r.address,
    };
    let s = state.db.run(move |conn| schools::create(conn, &user, new)).await?;
    Ok(HttpResponse::Created().json(SchoolResponse::from(s)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SchoolQuery {
    /// Only schools of this county (must be within the caller's scope).
    #[param(pattern = r"^[0-9]{6}$")]
    #[serde(default, deserialize_with = "super::dto::optional_division_code")]
    pub county: Option<String>,
    /// Only schools of this prefecture (must be within the caller's scope).
    #[param(pattern = r"^[0-9]{6}$")]
    #[serde(default, deserialize_with = "super::dto::optional_division_code")]
    pub prefecture: Option<String>,
    #[param(pattern = "^(3[0-9]|6[1-6]|2d){1,100}$")]
    pub cursor: Option<String>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// List the schools in the caller's scope.
#[utoipa::path(
    tag = "schools",
    params(SchoolQuery),
    responses(
        (status = 200, description = "A page of schools", body = super::PageSchoolResponse),
        (status = 403, description = "Filter outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad query", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/schools")]
pub async fn list_schools(
    state: web::Data<AppState>,
    user: AuthUser,
    q: super::Query<SchoolQuery>,
) -> Result<super::Page<SchoolResponse>, ApiError> {
    let q = q.into_inner();
    let (after_id, fetch) = PageQuery { cursor: q.cursor, limit: q.limit }.decode()?;
    let req = schools::ListRequest { county_code: q.county, prefecture_code: q.prefecture, after_id, limit: fetch };
    let rows = state.db.run(move |conn| schools::list(conn, &user, req)).await?;
    Ok(paginate(rows, fetch, |s| s.school.id.clone(), SchoolResponse::from))
}

/// One school (404 when outside the caller's scope).
#[utoipa::path(
    tag = "schools",
    params(("id" = String, Path, description = "School id")),
    responses(
        (status = 200, description = "The school", body = SchoolResponse),
        (status = 404, description = "No such school in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/schools/{id}")]
pub async fn get_school(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let s = state.db.run(move |conn| schools::get(conn, &user, &id)).await?;
    Ok(HttpResponse::Ok().json(SchoolResponse::from(s)))
}

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Fields to change; absent fields stay, `null` clears an optional field.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSchoolRequest {
    #[schema(
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F-\x9F]*$",
        min_length = 1,
        max_length = 200
    )]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(pattern = r"^[^\x00-\x1F\x7F-\x9F]*$", value_type = Option<String>, max_length = 64)]
    pub code: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i32>, minimum = 0, maximum = 100000)]
    pub students: Option<Option<i32>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(pattern = r"^[^\x00-\x1F\x7F-\x9F]*$", value_type = Option<String>, max_length = 500)]
    pub address: Option<Option<String>>,
}

/// Edit a school (admin, or the bureau of its county). The county cannot change.
#[utoipa::path(
    tag = "schools",
    params(("id" = String, Path, description = "School id")),
    request_body = UpdateSchoolRequest,
    responses(
        (status = 200, description = "The updated school", body = SchoolResponse),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "May read but not edit this school", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such school in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[patch("/schools/{id}")]
pub async fn update_school(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: JsonBody<UpdateSchoolRequest>,
) -> Result<HttpResponse, ApiError> {
    let r = body.value;
    if let Some(name) = &r.name {
        check_text("name", name, 200)?;
    }
    check_optional_text("code", r.code.as_ref().and_then(Option::as_deref), 64)?;
    check_optional_text("address", r.address.as_ref().and_then(Option::as_deref), 500)?;
    check_students(r.students.flatten())?;
    let changes = SchoolChangeset {
        name: r.name.map(|n| n.trim().to_owned()),
        code: r.code,
        students: r.students,
        address: r.address,
        updated_at: None,
    };
    let id = id.into_inner();
    let s = state.db.run(move |conn| schools::update(conn, &user, &id, changes)).await?;
    Ok(HttpResponse::Ok().json(SchoolResponse::from(s)))
}

/// The result of re-walking a school's hash chain.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerVerification {
    /// True when every link verifies and the head matches.
    pub valid: bool,
    /// Entries in the chain (purchases and voids).
    pub entries: i64,
    pub head_seq: i64,
    /// SHA-256 (hex) of the newest entry.
    pub head_hash: String,
    /// The first broken link, if any.
    pub first_broken_seq: Option<i64>,
    pub reason: Option<String>,
}

/// Recompute a school's ledger hash chain and report its head and the first broken link.
#[utoipa::path(
    tag = "schools",
    params(("id" = String, Path, description = "School id")),
    responses(
        (status = 200, description = "Verification result", body = LedgerVerification),
        (status = 404, description = "No such school in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/schools/{id}/ledger/verify")]
pub async fn verify_ledger(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let r = state.db.run(move |conn| purchases::verify_chain(conn, &user, &id)).await?;
    Ok(HttpResponse::Ok().json(LedgerVerification {
        valid: r.broken.is_none(),
        entries: r.entries,
        head_seq: r.head_seq,
        head_hash: r.head_hash,
        first_broken_seq: r.broken.as_ref().map(|b| b.seq),
        reason: r.broken.map(|b| b.reason.to_owned()),
    }))
}

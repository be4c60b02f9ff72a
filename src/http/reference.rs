//! Prefectures, counties and county poverty designations.

use actix_web::{HttpResponse, get, put, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::body::JsonBody;
use crate::db::repo::reference::{self as repo, CountyRow, DesignationRow};
use crate::error::{ApiError, Problem};
use crate::http::AppState;
use crate::http::AuthUser;
use crate::service::reference::{self, DesignationInput};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_prefectures).service(list_counties).service(get_county).service(put_designations);
}

/// A prefecture-level division.
#[derive(Debug, Serialize, ToSchema)]
pub struct PrefectureResponse {
    #[schema(example = "520100")]
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub kind: String,
}

/// A poverty-county designation interval (inclusive).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Designation {
    #[schema(example = "2014-01-01")]
    pub valid_from: NaiveDate,
    #[schema(example = "2020-12-31")]
    pub valid_to: NaiveDate,
    #[serde(default)]
    #[schema(pattern = r"^[^\x00-\x1F\x7F-\x9F]*$", max_length = 500)]
    pub note: String,
}

/// A county-level division with its designations.
#[derive(Debug, Serialize, ToSchema)]
pub struct CountyResponse {
    #[schema(example = "520102")]
    pub code: String,
    pub prefecture_code: String,
    pub name_zh: String,
    pub name_en: String,
    pub kind: String,
    /// On the national list of 832 poverty counties (stays true after exit).
    pub poverty_county_2019: bool,
    /// `yes`, `no` or `unverified`, as the source data says.
    pub deep_poverty: String,
    /// Exit batch year (脱贫年度), if a poverty county.
    pub exit_year: Option<i32>,
    pub source_note: String,
    pub designations: Vec<Designation>,
}

fn county(c: CountyRow, designations: &[DesignationRow]) -> CountyResponse {
    CountyResponse {
        designations: designations
            .iter()
            .filter(|d| d.county_code == c.code)
            .map(|d| Designation { valid_from: d.valid_from, valid_to: d.valid_to, note: d.note.clone() })
            .collect(),
        code: c.code,
        prefecture_code: c.prefecture_code,
        name_zh: c.name_zh,
        name_en: c.name_en,
        kind: c.kind,
        poverty_county_2019: c.poverty_county_2019,
        deep_poverty: c.deep_poverty,
        exit_year: c.exit_year,
        source_note: c.source_note,
    }
}

/// The 9 prefectures of Guizhou (GB/T 2260, 2019).
#[utoipa::path(
    tag = "reference",
    responses(
        (status = 200, description = "Prefectures", body = Vec<PrefectureResponse>),
    ),
    security(("bearer" = [])),
)]
#[get("/prefectures")]
pub async fn list_prefectures(state: web::Data<AppState>, _user: AuthUser) -> Result<HttpResponse, ApiError> {
    let rows = state.db.run(|conn| Ok(repo::list_prefectures(conn)?)).await?;
    let out: Vec<_> =
        rows.into_iter().map(|p| PrefectureResponse { code: p.code, name_zh: p.name_zh, name_en: p.name_en, kind: p.kind }).collect();
    Ok(HttpResponse::Ok().json(out))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CountyQuery {
    /// Only counties of this prefecture.
    #[param(pattern = r"^[0-9]{6}$")]
    #[serde(default, deserialize_with = "super::dto::optional_division_code")]
    pub prefecture: Option<String>,
}

/// The 88 county-level divisions, with poverty designations.
#[utoipa::path(
    tag = "reference",
    params(CountyQuery),
    responses(
        (status = 200, description = "Counties", body = Vec<CountyResponse>),
        (status = 422, description = "Bad query", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/counties")]
pub async fn list_counties(state: web::Data<AppState>, _user: AuthUser, q: super::Query<CountyQuery>) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let (rows, ds) =
        state.db.run(move |conn| Ok((repo::list_counties(conn, q.prefecture.as_deref())?, repo::all_designations(conn)?))).await?;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(|c| county(c, &ds)).collect::<Vec<_>>()))
}

/// One county with its designations.
#[utoipa::path(
    tag = "reference",
    params(("code" = String, Path, description = "GB/T 2260 county code", pattern = r"^[0-9]{6}$")),
    responses(
        (status = 200, description = "The county", body = CountyResponse),
        (status = 404, description = "No such county", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/counties/{code}")]
pub async fn get_county(state: web::Data<AppState>, _user: AuthUser, code: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let code = code.into_inner();
    let (row, ds) = state
        .db
        .run(move |conn| {
            let row = repo::find_county(conn, &code)?.ok_or(ApiError::NotFound("county"))?;
            Ok((row, repo::designations_of(conn, &code)?))
        })
        .await?;
    Ok(HttpResponse::Ok().json(county(row, &ds)))
}

/// The full new list of a county's designations.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DesignationsRequest {
    #[schema(max_items = 100)]
    pub designations: Vec<Designation>,
}

/// Replace a county's poverty designations (admin only). Audited; every purchase from
/// suppliers of the county is re-evaluated in the same transaction.
#[utoipa::path(
    tag = "reference",
    params(("code" = String, Path, description = "GB/T 2260 county code", pattern = r"^[0-9]{6}$")),
    request_body = DesignationsRequest,
    responses(
        (status = 200, description = "The county with its new designations", body = CountyResponse),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such county", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid intervals", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[put("/counties/{code}/designations")]
pub async fn put_designations(
    state: web::Data<AppState>,
    user: AuthUser,
    code: web::Path<String>,
    body: JsonBody<DesignationsRequest>,
) -> Result<HttpResponse, ApiError> {
    if !user.administers() {
        return Err(ApiError::Forbidden("only an administrator may edit designations".into()));
    }
    for (i, d) in body.value.designations.iter().enumerate() {
        super::dto::check_optional_text(&format!("designations[{i}].note"), Some(&d.note), 500)?;
    }
    let code = code.into_inner();
    let input: Vec<DesignationInput> = body
        .value
        .designations
        .into_iter()
        .map(|d| DesignationInput { valid_from: d.valid_from, valid_to: d.valid_to, note: d.note })
        .collect();
    let (row, ds) = state
        .db
        .run(move |conn| {
            let (ds, _) = reference::set_designations(conn, &user.actor(), &code, &input)?;
            let row = repo::find_county(conn, &code)?.ok_or(ApiError::NotFound("county"))?;
            Ok((row, ds))
        })
        .await?;
    Ok(HttpResponse::Ok().json(county(row, &ds)))
}

/// A Guizhou county-level division code (GB/T 2260, 2019): one of the reference data's
/// codes, listed as an enum so a client (and a fuzzer) knows which codes exist. Used where
/// an unknown county is refused; documented only, the wire type stays a string.
pub struct GuizhouCountyCode;

impl utoipa::PartialSchema for GuizhouCountyCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .description(Some("GB/T 2260 code of a Guizhou county-level division (the reference data's codes)"))
            .enum_values(Some(crate::service::reference::county_codes()))
            .examples(["520102"])
            .into()
    }
}

impl ToSchema for GuizhouCountyCode {}

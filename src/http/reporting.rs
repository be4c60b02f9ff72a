//! The reporting cycle: the calendar of half-monthly deadlines of the policy in force, and
//! who reports to whom.

use actix_web::{HttpResponse, get, put, web};
use chrono::{Datelike, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::body::JsonBody;
use crate::domain::reporting::{Calendar, Deadline, Line, ReportsTo};
use crate::error::Code;
use crate::error::{ApiError, Problem};
use crate::http::AppState;
use crate::http::AuthUser;
use crate::service::qualify::POLICY;
use crate::service::reporting::{self, CountyLine};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(reporting_calendar).service(list_reporting_lines).service(put_reporting_line);
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CalendarQuery {
    /// Calendar year whose deadlines to list, 2000–2100 (default: this year, China Standard Time).
    #[param(minimum = 2000, maximum = 2100, example = 2019)]
    pub year: Option<i32>,
}

/// The deadlines falling in one year.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CalendarResponse {
    /// The qualification policy whose calendar this is.
    #[schema(example = "gz-2019")]
    pub policy: String,
    #[schema(example = 2019)]
    pub year: i32,
    /// In date order; empty for a year before the campaign.
    pub deadlines: Vec<DeadlineResponse>,
}

/// One deadline and the half-month a report made by it covers.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeadlineResponse {
    /// The half-month reported: `YYYY-MM-H1` (1st–15th) or `YYYY-MM-H2` (16th–end).
    #[schema(example = "2019-03-H1")]
    pub period: String,
    /// The half-month as reports print it.
    #[schema(example = "2019年3月上半月")]
    pub label: String,
    /// First day of the half-month, and the first day a report for it may be made.
    #[schema(example = "2019-03-01")]
    pub from: NaiveDate,
    /// Last day of the half-month.
    #[schema(example = "2019-03-15")]
    pub to: NaiveDate,
    /// The deadline's day (China Standard Time): a report is on time when made before
    /// this day ends.
    #[schema(example = "2019-03-30")]
    pub due_on: NaiveDate,
    /// The instant the deadline ends (midnight after `due_on`, China Standard Time), in UTC.
    #[serde(with = "crate::service::views::timestamp::utc")]
    #[schema(example = "2019-03-30T16:00:00.000000Z")]
    pub ends_at: NaiveDateTime,
}

impl From<Deadline> for DeadlineResponse {
    fn from(d: Deadline) -> Self {
        Self {
            period: d.covers.to_string(),
            label: d.covers.label_zh(),
            from: d.covers.first_day(),
            to: d.covers.last_day(),
            due_on: d.date,
            ends_at: d.ends_at().naive_utc(),
        }
    }
}

/// The half-monthly reporting deadlines of a year: the 30th (or the month's last day) for
/// the first half of each month, the 15th of the next month for the second half, at the end
/// of the day in China Standard Time; the campaign's first deadline is 2019-03-30.
#[utoipa::path(
    tag = "reporting",
    params(CalendarQuery),
    responses(
        (status = 200, description = "The year's deadlines", body = CalendarResponse),
        (status = 422, description = "A year outside 2000–2100, or a bad query", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/reporting/calendar")]
pub async fn reporting_calendar(_user: AuthUser, q: super::Query<CalendarQuery>) -> Result<HttpResponse, ApiError> {
    let year = q.0.year.unwrap_or_else(|| super::clock::today_cst().year());
    if !(2000..=2100).contains(&year) {
        return Err(ApiError::field("year", Code::OutOfRange, "year must be between 2000 and 2100"));
    }
    let calendar = Calendar::by_policy(POLICY.version)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("policy {} has no reporting calendar", POLICY.version)))?;
    Ok(HttpResponse::Ok().json(CalendarResponse {
        policy: calendar.policy.to_owned(),
        year,
        deadlines: calendar.year(year).into_iter().map(DeadlineResponse::from).collect(),
    }))
}

/// A county and the bureau its half-monthly reports go to.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReportingLineResponse {
    #[schema(example = "520382")]
    pub county_code: String,
    #[schema(example = "仁怀市")]
    pub county_name: String,
    #[schema(example = "520300")]
    pub prefecture_code: String,
    /// `prefecture` (the rule) or `province` (a county named as reporting directly).
    pub reports_to: Line,
    /// The bureau reported to: the prefecture's code, or `null` for the province.
    #[schema(example = json!(null))]
    pub reports_to_code: Option<String>,
    /// Why, when a recorded line decides it: the shipped source or an administrator's note.
    pub source: Option<String>,
}

impl From<CountyLine> for ReportingLineResponse {
    fn from(l: CountyLine) -> Self {
        let (reports_to, reports_to_code) = match l.reports_to {
            ReportsTo::Province => (Line::Province, None),
            ReportsTo::Prefecture(code) => (Line::Prefecture, Some(code)),
        };
        Self {
            county_code: l.county.code,
            county_name: l.county.name_zh,
            prefecture_code: l.county.prefecture_code,
            reports_to,
            reports_to_code,
            source: l.source,
        }
    }
}

/// Every county-level division with the bureau it reports to: its prefecture, or the
/// province for the counties named as reporting directly (the 2019 notice names 仁怀市
/// 520382 and 威宁县 520526). Prefectures report to the province.
#[utoipa::path(
    tag = "reporting",
    responses((status = 200, description = "The 88 counties, by code", body = Vec<ReportingLineResponse>)),
    security(("bearer" = [])),
)]
#[get("/reporting/lines")]
pub async fn list_reporting_lines(state: web::Data<AppState>, _user: AuthUser) -> Result<HttpResponse, ApiError> {
    let lines = state.db.run(reporting::lines).await?;
    Ok(HttpResponse::Ok().json(lines.into_iter().map(ReportingLineResponse::from).collect::<Vec<_>>()))
}

/// A county's reporting line, as the administrator records it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportingLineRequest {
    pub reports_to: Line,
    /// Why (the notice or decision that says so), 1–500 characters.
    #[schema(
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F-\x9F]*$",
        max_length = 500
    )]
    pub source: String,
}

/// Record to whom a county's bureau reports (administrator; audited). A recorded line wins
/// over the shipped data, which never overwrites it.
#[utoipa::path(
    tag = "reporting",
    params(("code" = String, Path, description = "GB/T 2260 county code", pattern = r"^[0-9]{6}$")),
    request_body = ReportingLineRequest,
    responses(
        (status = 200, description = "The county's line", body = ReportingLineResponse),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such county", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[put("/reporting/lines/{code}")]
pub async fn put_reporting_line(
    state: web::Data<AppState>,
    user: AuthUser,
    code: web::Path<String>,
    body: JsonBody<ReportingLineRequest>,
) -> Result<HttpResponse, ApiError> {
    if !user.administers() {
        return Err(ApiError::Forbidden("only an administrator may edit reporting lines".into()));
    }
    let req = body.value;
    super::dto::check_text("source", &req.source, 500)?;
    let code = code.into_inner();
    let line = state.db.run(move |conn| reporting::set_line(conn, &user.actor(), &code, req.reports_to, &req.source)).await?;
    Ok(HttpResponse::Ok().json(ReportingLineResponse::from(line)))
}

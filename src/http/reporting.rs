//! The reporting cycle: the calendar of half-monthly deadlines of the policy in force.

use actix_web::{HttpResponse, get};
use chrono::{Datelike, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::AuthUser;
use crate::domain::reporting::{CHINA_TIME, Calendar, Deadline};
use crate::error::{ApiError, Problem};
use crate::service::qualify::POLICY;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(reporting_calendar);
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
    #[serde(with = "crate::http::timestamp::utc")]
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
    let year = q.0.year.unwrap_or_else(|| Utc::now().with_timezone(&CHINA_TIME).year());
    if !(2000..=2100).contains(&year) {
        return Err(ApiError::field("year", "out_of_range", "year must be between 2000 and 2100"));
    }
    let calendar = Calendar::by_policy(POLICY.version)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("policy {} has no reporting calendar", POLICY.version)))?;
    Ok(HttpResponse::Ok().json(CalendarResponse {
        policy: calendar.policy.to_owned(),
        year,
        deadlines: calendar.year(year).into_iter().map(DeadlineResponse::from).collect(),
    }))
}

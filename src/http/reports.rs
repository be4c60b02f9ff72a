//! Share reports.

use actix_web::{HttpResponse, get, web};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::dto::{kg, yuan};
use crate::app::AppState;
use crate::auth::AuthUser;
use crate::db::repo::reports::ScopeFilter;
use crate::domain::period::{DateRange, PeriodKind, parse_period};
use crate::error::{ApiError, Problem};
use crate::service::reports::{self, Breakdown, Grouping, Named, Report, ReportRequest, Row, UnitLevel};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_shares);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SharesQuery {
    /// `province`, `prefecture:CODE`, `county:CODE` or `school:ID`.
    #[param(pattern = r"^(province|(prefecture|county):[0-9]{6}|school:[0-9A-Za-z-]{1,64})$", example = "county:520102")]
    pub scope: String,
    /// First business date, inclusive (with `to`; or use `period`).
    pub from: Option<NaiveDate>,
    /// Last business date, inclusive.
    pub to: Option<NaiveDate>,
    /// A named period: `2019`, `2019-Q1`, `2019-03`, `2019-03-H1`, `2019-03-H2`, `2019-spring`.
    #[param(pattern = r"^[0-9]{4}(-Q[1-4]|-(0[1-9]|1[0-2])(-H[12])?|-spring)?$", example = "2019-03-H1")]
    pub period: Option<String>,
    /// Comma-separated dimensions: at most one of `prefecture`, `county`, `school`; at most
    /// one of `tag`, `category`; and `period` (with `period_kind`).
    #[param(
        pattern = r"^(prefecture|county|school|tag|category|period)(,(prefecture|county|school|tag|category|period)){0,2}$",
        example = "county"
    )]
    pub group_by: Option<String>,
    /// Bucket size for `group_by=period`: `day`, `half_month` (default), `month`, `quarter`, `year`.
    #[param(pattern = r"^(day|half_month|month|quarter|year)$")]
    pub period_kind: Option<String>,
}

/// What a row is about.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NamedRef {
    /// `province`, `prefecture`, `county`, `school`, `tag` or `category`.
    pub kind: String,
    /// Division code, school id, tag or category.
    pub code: String,
    pub name: String,
}

impl From<Named> for NamedRef {
    fn from(n: Named) -> Self {
        Self { kind: n.kind.into(), code: n.code, name: n.name }
    }
}

/// A period a row covers (clipped to the report's range).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PeriodRef {
    /// E.g. `2019-03-H1`, `2019-03`, `2019-Q1`, `2019`.
    pub label: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// School counts of an aggregate row.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SchoolCountsResponse {
    /// Schools registered in the unit.
    pub schools: i64,
    /// Schools with at least one purchase in the period.
    pub reporting: i64,
    /// Reporting schools meeting the target.
    pub meeting_target: i64,
    /// Schools with no purchase in the period.
    pub silent: i64,
}

/// One row of a share report. Amounts are yuan strings; weights are kg strings.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ShareRow {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<NamedRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<PeriodRef>,
    /// For `group_by=tag|category` rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breakdown: Option<NamedRef>,
    #[schema(value_type = String, example = "1234.50")]
    pub total: Decimal,
    #[schema(value_type = String, example = "700.00")]
    pub qualifying: Decimal,
    /// Amount from suppliers whose qualifying tags are declared but not yet verified.
    #[schema(value_type = String, example = "0.00")]
    pub pending: Decimal,
    /// qualifying / total with 4 places; `null` when nothing was bought (silent, not 0%).
    #[schema(value_type = Option<String>, example = "0.5670")]
    pub share: Option<Decimal>,
    /// `qualifying × denominator ≥ total × numerator`; `null` for silent units and breakdown rows.
    pub meets_target: Option<bool>,
    /// Yuan that would have had to qualify to meet the target, rounded up to the fen;
    /// `null` for breakdown rows.
    #[schema(value_type = Option<String>, example = "0.00")]
    pub shortfall: Option<Decimal>,
    /// Mass bought in mass units (kg, g, t, 斤, 两), in kg.
    #[schema(value_type = String, example = "512.500")]
    pub total_weight_kg: Decimal,
    #[schema(value_type = String, example = "300.000")]
    pub qualifying_weight_kg: Decimal,
    /// Purchases recorded minus purchases voided (0 on breakdown rows).
    pub purchases: i64,
    /// For rows covering several schools.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schools: Option<SchoolCountsResponse>,
    /// For school rows: no purchase in the period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub silent: Option<bool>,
}

impl From<Row> for ShareRow {
    fn from(r: Row) -> Self {
        Self {
            unit: r.unit.map(NamedRef::from),
            period: r.period.map(|(label, range)| PeriodRef { label, from: range.from, to: range.to }),
            breakdown: r.breakdown.map(NamedRef::from),
            total: yuan(r.figures.total_fen),
            qualifying: yuan(r.figures.qualifying_fen),
            pending: yuan(r.figures.pending_fen),
            share: r.share,
            meets_target: r.meets_target,
            shortfall: r.shortfall_fen.map(yuan),
            total_weight_kg: kg(r.figures.total_mg),
            qualifying_weight_kg: kg(r.figures.qualifying_mg),
            purchases: r.purchases,
            schools: r.schools.map(|c| SchoolCountsResponse {
                schools: c.schools,
                reporting: c.reporting,
                meeting_target: c.meeting_target,
                silent: c.silent,
            }),
            silent: r.silent,
        }
    }
}

/// The target used, as an exact fraction and as a 4-place decimal.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TargetResponse {
    pub numerator: i64,
    pub denominator: i64,
    #[schema(value_type = String, example = "0.5000")]
    pub share: Decimal,
}

/// A share report.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ShareReport {
    /// Qualification policy version applied, e.g. `gz-2019`.
    pub policy: String,
    pub target: TargetResponse,
    pub scope: NamedRef,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub group_by: Vec<String>,
    /// The whole scope over the whole period.
    pub summary: ShareRow,
    pub rows: Vec<ShareRow>,
}

impl From<(Report, Vec<String>)> for ShareReport {
    fn from((r, group_by): (Report, Vec<String>)) -> Self {
        Self {
            policy: r.policy.version.into(),
            target: TargetResponse { numerator: r.target.numerator(), denominator: r.target.denominator(), share: r.target.to_decimal() },
            scope: r.scope.into(),
            from: r.range.from,
            to: r.range.to,
            group_by,
            summary: r.summary.into(),
            rows: r.rows.into_iter().map(ShareRow::from).collect(),
        }
    }
}

/// Parses `scope`.
pub fn parse_scope(text: &str) -> Result<ScopeFilter, ApiError> {
    let bad = || ApiError::field("scope", "bad_scope", "use province, prefecture:CODE, county:CODE or school:ID");
    match text.split_once(':') {
        None if text == "province" => Ok(ScopeFilter::Province),
        Some(("prefecture", c)) if crate::auth::role::is_division_code(c) => Ok(ScopeFilter::Prefecture(c.into())),
        Some(("county", c)) if crate::auth::role::is_division_code(c) => Ok(ScopeFilter::County(c.into())),
        Some(("school", s)) if !s.is_empty() => Ok(ScopeFilter::School(s.into())),
        _ => Err(bad()),
    }
}

/// Parses `from`/`to` or `period` into a range.
pub fn parse_range(from: Option<NaiveDate>, to: Option<NaiveDate>, period: Option<&str>) -> Result<DateRange, ApiError> {
    match (from, to, period) {
        (None, None, Some(p)) => parse_period(p).map_err(|e| ApiError::domain("period", &e)),
        (Some(f), Some(t), None) => DateRange::new(f, t).map_err(|e| ApiError::domain("from", &e)),
        (_, _, Some(_)) => Err(ApiError::field("period", "conflicting_period", "give either `period` or `from` and `to`, not both")),
        _ => Err(ApiError::field("from", "required", "give `from` and `to`, or `period`")),
    }
}

/// Parses `group_by` (+ `period_kind`).
pub fn parse_grouping(group_by: Option<&str>, period_kind: Option<&str>) -> Result<(Grouping, Vec<String>), ApiError> {
    let mut g = Grouping::default();
    let mut names = Vec::new();
    let clash = |what: &str| ApiError::field("group_by", "conflicting_group_by", format!("at most one {what} dimension"));
    for part in group_by.unwrap_or("").split(',').filter(|p| !p.is_empty()) {
        let slot_unit = |g: &mut Grouping, l| if g.unit.replace(l).is_some() { Err(clash("unit")) } else { Ok(()) };
        let slot_break = |g: &mut Grouping, b| if g.breakdown.replace(b).is_some() { Err(clash("breakdown")) } else { Ok(()) };
        match part {
            "prefecture" => slot_unit(&mut g, UnitLevel::Prefecture)?,
            "county" => slot_unit(&mut g, UnitLevel::County)?,
            "school" => slot_unit(&mut g, UnitLevel::School)?,
            "tag" => slot_break(&mut g, Breakdown::Tag)?,
            "category" => slot_break(&mut g, Breakdown::Category)?,
            "period" => {
                if g.period.is_some() {
                    return Err(clash("period"));
                }
                g.period = Some(PeriodKind::HalfMonth);
            }
            other => return Err(ApiError::field("group_by", "bad_group_by", format!("unknown dimension {other:?}"))),
        }
        names.push(part.to_owned());
    }
    if let Some(k) = period_kind {
        let kind = PeriodKind::parse(k)
            .ok_or_else(|| ApiError::field("period_kind", "bad_period_kind", "day, half_month, month, quarter or year"))?;
        if g.period.is_none() {
            return Err(ApiError::field("period_kind", "needs_period_grouping", "period_kind applies with group_by=period"));
        }
        g.period = Some(kind);
    }
    Ok((g, names))
}

/// Largest number of period buckets a report may have (e.g. ~10 years of half-months).
pub const MAX_PERIODS: usize = 240;

/// Shares of poverty-area procurement for a scope and period.
///
/// Value-weighted (sums, never averages of percentages); the target test is exact in
/// integers; a unit with no purchases is *silent* (`share: null`), never 0%. The response
/// names the policy and target it applied.
#[utoipa::path(
    tag = "reports",
    params(SharesQuery),
    responses(
        (status = 200, description = "The report", body = ShareReport),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Scope outside the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such prefecture, county or school (in the caller's scope)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad scope, period or grouping", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/reports/shares")]
pub async fn get_shares(state: web::Data<AppState>, user: AuthUser, q: web::Query<SharesQuery>) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let scope = parse_scope(&q.scope)?;
    let range = parse_range(q.from, q.to, q.period.as_deref())?;
    let (grouping, names) = parse_grouping(q.group_by.as_deref(), q.period_kind.as_deref())?;
    if let Some(kind) = grouping.period
        && range.split(kind).len() > MAX_PERIODS
    {
        return Err(ApiError::field("period_kind", "too_many_periods", format!("at most {MAX_PERIODS} periods; use a larger period_kind")));
    }
    let req = ReportRequest { scope, range, grouping };
    let report = state.db.run(move |conn| reports::shares(conn, &user, &req)).await?;
    Ok(HttpResponse::Ok().json(ShareReport::from((report, names))))
}

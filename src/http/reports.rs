//! Share reports.

use actix_web::{HttpResponse, get, web};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::export::{self, CsvFile, ExportFormat, ExportQuery, XlsxFile};
use crate::db::repo::reports::ScopeFilter;
use crate::domain::period::{DateRange, PeriodKind, parse_period};
use crate::domain::reporting::HalfMonth;
use crate::domain::shares::{Target, ratio_4dp};
use crate::error::Code;
use crate::error::{ApiError, Problem};
use crate::http::AppState;
use crate::http::AuthUser;
use crate::service::reports::{
    self, Breakdown, Grouping, Named, OrderBy, Ranking, Report, ReportRequest, Row, SilentList, SortOrder, UnitLevel,
};
use crate::service::views::decimal::{kg, yuan};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_shares).service(export_shares).service(get_silent_schools).service(export_silent_schools).service(get_semi_monthly);
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
    /// A named period: `2019`, `2019-Q1`, `2019-03`, `2019-03-H1`, `2019-03-H2`, `2019-spring` (February–June), `2019-autumn` (September–January).
    #[param(pattern = r"^(20[0-9]{2}|2100)(-Q[1-4]|-(0[1-9]|1[0-2])(-H[12])?|-(spring|autumn))?$", example = "2019-03-H1")]
    pub period: Option<String>,
    /// Comma-separated dimensions: at most one of `prefecture`, `county`, `school`; at most
    /// one of `tag`, `category`; and `period` (with `period_kind`).
    #[param(
        pattern = r"^(prefecture|county|school|tag|category|period)(,(prefecture|county|school|tag|category|period)){0,2}$",
        example = "county"
    )]
    pub group_by: Option<String>,
    /// Bucket size for `group_by=period`: `day`, `half_month` (default), `month`, `quarter`, `year`.
    #[param(value_type = Option<PeriodKindParam>)]
    pub period_kind: Option<String>,
    /// Rank the rows by `share`, `shortfall` or `total`. Rows without a share (silent
    /// units, empty breakdowns) always come last.
    #[param(value_type = Option<OrderByParam>)]
    pub order_by: Option<String>,
    /// `asc` or `desc` (with `order_by`); default: worst first — `asc` for `share`,
    /// `desc` for `shortfall` and `total`.
    #[param(value_type = Option<SortOrderParam>)]
    pub order: Option<String>,
    /// Keep only unit rows that miss the target (silent units are not below it: they are
    /// listed by `/reports/silent-schools`). Not with a tag or category breakdown.
    pub below_target: Option<bool>,
    /// The day overdue amounts are as of (default: today, China time).
    pub as_of: Option<NaiveDate>,
}

// The closed sets of the report queries, for the OpenAPI document: a generated client
// offers their values and refuses others (`order_by=sahre`). The handlers still read the
// text and answer their own 422 problem for a value outside the set.

/// Bucket size of `group_by=period` (`period_kind`).
#[derive(Debug, ToSchema)]
#[schema(as = PeriodKind, rename_all = "snake_case")]
pub enum PeriodKindParam {
    Day,
    HalfMonth,
    Month,
    Quarter,
    Year,
}

/// What the rows of a share report are ranked by (`order_by`).
#[derive(Debug, ToSchema)]
#[schema(as = OrderBy, rename_all = "snake_case")]
pub enum OrderByParam {
    Share,
    Shortfall,
    Total,
}

/// Direction of a ranking (`order`).
#[derive(Debug, ToSchema)]
#[schema(as = SortOrder, rename_all = "snake_case")]
pub enum SortOrderParam {
    Asc,
    Desc,
}

/// What a row is about.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NamedRef {
    /// `province`, `prefecture`, `county`, `school`, `tag` or `category`.
    pub kind: String,
    /// Division code, school id, tag or category.
    pub code: String,
    /// The division's or school's name, or the Chinese label of the tag or category
    /// (`建档立卡贫困户`, `蔬菜`).
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
    /// Two-party confirmation and payment of the purchases counted (not on breakdown rows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settlement: Option<SettlementFigures>,
}

/// Confirmation and payment figures of a unit row. Amounts are yuan strings.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SettlementFigures {
    /// Of `total`, purchases both the canteen and the supplier confirmed.
    #[schema(value_type = String, example = "1000.00")]
    pub confirmed_total: Decimal,
    /// Of `qualifying`, purchases both parties confirmed.
    #[schema(value_type = String, example = "600.00")]
    pub confirmed_qualifying: Decimal,
    /// The share over confirmed purchases only (4 places); `null` when none is confirmed.
    #[schema(value_type = Option<String>, example = "0.6000")]
    pub confirmed_share: Option<Decimal>,
    /// Paid to date against the purchases of the period.
    #[schema(value_type = String, example = "800.00")]
    pub paid: Decimal,
    /// `total − paid`.
    #[schema(value_type = String, example = "434.50")]
    pub unpaid: Decimal,
    /// Of `unpaid`, what was due before the report's `as_of` (purchase date + the
    /// supplier's payment terms). `null` where not computed (the semi-monthly workbook).
    #[schema(value_type = Option<String>, example = "120.00")]
    pub overdue: Option<Decimal>,
}

impl From<Row> for ShareRow {
    fn from(r: Row) -> Self {
        let unit_row = r.breakdown.is_none();
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
            settlement: unit_row.then(|| SettlementFigures {
                confirmed_total: yuan(r.figures.confirmed_fen),
                confirmed_qualifying: yuan(r.figures.confirmed_qualifying_fen),
                confirmed_share: ratio_4dp(r.figures.confirmed_qualifying_fen, r.figures.confirmed_fen),
                paid: yuan(r.figures.paid_fen),
                unpaid: yuan(r.figures.total_fen - r.figures.paid_fen),
                overdue: r.overdue_fen.map(yuan),
            }),
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
    /// Whether the policy counts only purchases both parties confirmed toward the target
    /// (`false` for `gz-2019`: every recorded purchase counts; `settlement.confirmed_share`
    /// shows the share over confirmed purchases alongside).
    pub require_confirmation: bool,
    pub target: TargetResponse,
    pub scope: NamedRef,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The day `settlement.overdue` is as of (`null` where overdue is not computed).
    pub as_of: Option<NaiveDate>,
    pub group_by: Vec<String>,
    /// The whole scope over the whole period.
    pub summary: ShareRow,
    pub rows: Vec<ShareRow>,
}

impl From<Target> for TargetResponse {
    fn from(t: Target) -> Self {
        Self { numerator: t.numerator(), denominator: t.denominator(), share: t.to_decimal() }
    }
}

impl From<(Report, Vec<String>)> for ShareReport {
    fn from((r, group_by): (Report, Vec<String>)) -> Self {
        Self {
            policy: r.policy.version.into(),
            require_confirmation: r.policy.require_confirmation,
            target: r.target.into(),
            scope: r.scope.into(),
            from: r.range.from,
            to: r.range.to,
            as_of: r.as_of,
            group_by,
            summary: r.summary.into(),
            rows: r.rows.into_iter().map(ShareRow::from).collect(),
        }
    }
}

/// Parses `scope`.
pub fn parse_scope(text: &str) -> Result<ScopeFilter, ApiError> {
    let bad = || ApiError::field("scope", Code::BadScope, "use province, prefecture:CODE, county:CODE or school:ID");
    match text.split_once(':') {
        None if text == "province" => Ok(ScopeFilter::Province),
        Some(("prefecture", c)) if crate::domain::role::is_division_code(c) => Ok(ScopeFilter::Prefecture(c.into())),
        Some(("county", c)) if crate::domain::role::is_division_code(c) => Ok(ScopeFilter::County(c.into())),
        Some(("school", s)) if !s.is_empty() => Ok(ScopeFilter::School(s.into())),
        _ => Err(bad()),
    }
}

/// Parses `from`/`to` or `period` into a range.
pub fn parse_range(from: Option<NaiveDate>, to: Option<NaiveDate>, period: Option<&str>) -> Result<DateRange, ApiError> {
    match (from, to, period) {
        (None, None, Some(p)) => parse_period(p).map_err(|e| ApiError::domain("period", &e)),
        (Some(f), Some(t), None) => DateRange::new(f, t).map_err(|e| ApiError::domain("from", &e)),
        (_, _, Some(_)) => Err(ApiError::field("period", Code::ConflictingPeriod, "give either `period` or `from` and `to`, not both")),
        _ => Err(ApiError::field("from", Code::Required, "give `from` and `to`, or `period`")),
    }
}

/// Parses `group_by` (+ `period_kind`).
pub fn parse_grouping(group_by: Option<&str>, period_kind: Option<&str>) -> Result<(Grouping, Vec<String>), ApiError> {
    let mut g = Grouping::default();
    let mut names = Vec::new();
    let clash = |what: &str| ApiError::field("group_by", Code::ConflictingGroupBy, format!("at most one {what} dimension"));
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
            other => return Err(ApiError::field("group_by", Code::BadGroupBy, format!("unknown dimension {other:?}"))),
        }
        names.push(part.to_owned());
    }
    if let Some(k) = period_kind {
        let kind = PeriodKind::parse(k)
            .ok_or_else(|| ApiError::field("period_kind", Code::BadPeriodKind, "day, half_month, month, quarter or year"))?;
        if g.period.is_none() {
            return Err(ApiError::field("period_kind", Code::NeedsPeriodGrouping, "period_kind applies with group_by=period"));
        }
        g.period = Some(kind);
    }
    Ok((g, names))
}

/// Parses `order_by`, `order` and `below_target`.
pub fn parse_ranking(
    order_by: Option<&str>,
    order: Option<&str>,
    below_target: Option<bool>,
    grouping: Grouping,
) -> Result<Ranking, ApiError> {
    let by = order_by
        .map(|o| OrderBy::parse(o).ok_or_else(|| ApiError::field("order_by", Code::BadOrderBy, "share, shortfall or total")))
        .transpose()?;
    let direction =
        order.map(|o| SortOrder::parse(o).ok_or_else(|| ApiError::field("order", Code::BadOrder, "asc or desc"))).transpose()?;
    let order_by = match (by, direction) {
        (Some(by), d) => Some((by, d.unwrap_or(by.default_order()))),
        (None, Some(_)) => return Err(ApiError::field("order", Code::NeedsOrderBy, "order applies with order_by")),
        (None, None) => None,
    };
    let below_target = below_target.unwrap_or(false);
    if below_target && grouping.breakdown.is_some() {
        return Err(ApiError::field("below_target", Code::NeedsUnitRows, "below_target applies to unit rows, not to tag or category rows"));
    }
    Ok(Ranking { order_by, below_target })
}

fn range_stem(from: NaiveDate, to: NaiveDate) -> String {
    format!("{from}_{to}")
}

/// Shares of poverty-area procurement for a scope and period, optionally ranked.
///
/// Value-weighted (sums, never averages of percentages); the target test is exact in
/// integers; a unit with no purchases is *silent* (`share: null`), never 0%. The response
/// names the policy and target it applied. The same report as a file:
/// `GET /reports/shares/export`.
#[utoipa::path(
    tag = "reports",
    params(SharesQuery),
    responses(
        (status = 200, description = "The report", body = ShareReport),
        (status = 403, description = "Scope outside the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such prefecture, county or school (in the caller's scope)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad scope, period, grouping or ranking", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/reports/shares")]
pub async fn get_shares(state: web::Data<AppState>, user: AuthUser, q: super::Query<SharesQuery>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(share_report(&state, user, q.into_inner()).await?))
}

/// The share report as a file (`format=csv|xlsx`, with the parameters of
/// `GET /reports/shares`): the heading lines, the summary row, then every row; CSV with
/// exact decimal text and codes, XLSX with number, percentage and date cells and Chinese
/// labels.
#[utoipa::path(
    tag = "reports",
    params(SharesQuery, ExportQuery),
    responses(
        (status = 200, description = "The report as a CSV or XLSX file",
            content((CsvFile = "text/csv"), (XlsxFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")),
            headers(("Content-Disposition" = String, description = "`attachment; filename=\"shares_….csv\"`"))),
        (status = 403, description = "Scope outside the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such prefecture, county or school (in the caller's scope)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad scope, period, grouping, ranking or format", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/reports/shares/export")]
pub async fn export_shares(state: web::Data<AppState>, user: AuthUser, q: super::Export<SharesQuery>) -> Result<HttpResponse, ApiError> {
    let body = share_report(&state, user, q.query).await?;
    let stem = format!("shares_{}-{}_{}", body.scope.kind, body.scope.code, range_stem(body.from, body.to));
    export::sheet_file(q.format, &stem, export::share_sheet(&body), super::clock::now())
}

/// The share report of a query, ranked, with its overdue amounts (one read snapshot).
async fn share_report(state: &AppState, user: AuthUser, q: SharesQuery) -> Result<ShareReport, ApiError> {
    let scope = parse_scope(&q.scope)?;
    let range = parse_range(q.from, q.to, q.period.as_deref())?;
    let (grouping, names) = parse_grouping(q.group_by.as_deref(), q.period_kind.as_deref())?;
    if let Some(kind) = grouping.period {
        range.check_period_count(kind).map_err(|e| ApiError::domain("period_kind", &e))?;
    }
    let ranking = parse_ranking(q.order_by.as_deref(), q.order.as_deref(), q.below_target, grouping)?;
    let as_of = q.as_of.unwrap_or_else(super::clock::today_cst);
    let request = ReportRequest { scope, range, grouping };
    let mut report = state
        .db
        .run(move |conn| {
            // One snapshot: overdue must agree with the figures it is part of.
            crate::db::read_tx(conn, |conn| {
                let mut report = reports::shares(conn, &user, &request)?;
                reports::overdue::add(conn, &user, &request, &mut report, as_of)?;
                Ok(report)
            })
        })
        .await?;
    report.rows = reports::rank(std::mem::take(&mut report.rows), ranking);
    Ok(ShareReport::from((report, names)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SilentSchoolsQuery {
    /// `province`, `prefecture:CODE`, `county:CODE` (or `school:ID`).
    #[param(pattern = r"^(province|(prefecture|county):[0-9]{6}|school:[0-9A-Za-z-]{1,64})$", example = "county:520102")]
    pub scope: String,
    /// First business date, inclusive (with `to`; or use `period`).
    pub from: Option<NaiveDate>,
    /// Last business date, inclusive.
    pub to: Option<NaiveDate>,
    /// A named period: `2019`, `2019-Q1`, `2019-03`, `2019-03-H1`, `2019-03-H2`, `2019-spring` (February–June), `2019-autumn` (September–January).
    #[param(pattern = r"^(20[0-9]{2}|2100)(-Q[1-4]|-(0[1-9]|1[0-2])(-H[12])?|-(spring|autumn))?$", example = "2019-03-H1")]
    pub period: Option<String>,
}

/// A school with no purchase in the period.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SilentSchoolResponse {
    #[schema(example = "520100")]
    pub prefecture_code: String,
    #[schema(example = "贵阳市")]
    pub prefecture_name: String,
    #[schema(example = "520102")]
    pub county_code: String,
    #[schema(example = "南明区")]
    pub county_name: String,
    pub school_id: String,
    pub school_name: String,
}

/// The schools of a scope that recorded no purchase in a period.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SilentSchoolsReport {
    /// Qualification policy version in force, e.g. `gz-2019` (silence depends on it not).
    pub policy: String,
    /// The period's target, for the record; `null` when the period spans years with
    /// different targets.
    pub target: Option<TargetResponse>,
    pub scope: NamedRef,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Schools registered in the scope.
    pub schools: i64,
    /// Silent schools: by county code, then school name.
    pub silent: Vec<SilentSchoolResponse>,
}

impl From<SilentList> for SilentSchoolsReport {
    fn from(l: SilentList) -> Self {
        Self {
            policy: l.policy.version.into(),
            target: l.target.map(TargetResponse::from),
            scope: l.scope.into(),
            from: l.range.from,
            to: l.range.to,
            schools: l.schools,
            silent: l
                .silent
                .into_iter()
                .map(|s| SilentSchoolResponse {
                    prefecture_code: s.prefecture.code,
                    prefecture_name: s.prefecture.name,
                    county_code: s.county.code,
                    county_name: s.county.name,
                    school_id: s.school.code,
                    school_name: s.school.name,
                })
                .collect(),
        }
    }
}

/// The schools with no purchase in a period: the list a county chases before the 15th
/// and the month end.
///
/// Same scopes and access as the share report. A silent school is one that recorded
/// nothing (or voided everything) in the period; it is never reported as 0%.
/// The same list as a file: `GET /reports/silent-schools/export`.
#[utoipa::path(
    tag = "reports",
    params(SilentSchoolsQuery),
    responses(
        (status = 200, description = "The silent schools", body = SilentSchoolsReport),
        (status = 403, description = "Scope outside the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such prefecture, county or school (in the caller's scope)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad scope or period", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/reports/silent-schools")]
pub async fn get_silent_schools(
    state: web::Data<AppState>,
    user: AuthUser,
    q: super::Query<SilentSchoolsQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(silent_list(&state, user, q.into_inner()).await?))
}

/// The silent schools as a file (`format=csv|xlsx`, with the parameters of
/// `GET /reports/silent-schools`), in Chinese, ready to circulate.
#[utoipa::path(
    tag = "reports",
    params(SilentSchoolsQuery, ExportQuery),
    responses(
        (status = 200, description = "The list as a CSV or XLSX file",
            content((CsvFile = "text/csv"), (XlsxFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")),
            headers(("Content-Disposition" = String, description = "`attachment; filename=\"silent-schools_….csv\"`"))),
        (status = 403, description = "Scope outside the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such prefecture, county or school (in the caller's scope)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad scope, period or format", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/reports/silent-schools/export")]
pub async fn export_silent_schools(
    state: web::Data<AppState>,
    user: AuthUser,
    q: super::Export<SilentSchoolsQuery>,
) -> Result<HttpResponse, ApiError> {
    let body = silent_list(&state, user, q.query).await?;
    let stem = format!("silent-schools_{}-{}_{}", body.scope.kind, body.scope.code, range_stem(body.from, body.to));
    export::sheet_file(q.format, &stem, export::silent_sheet(&body), super::clock::now())
}

async fn silent_list(state: &AppState, user: AuthUser, q: SilentSchoolsQuery) -> Result<SilentSchoolsReport, ApiError> {
    let scope = parse_scope(&q.scope)?;
    let range = parse_range(q.from, q.to, q.period.as_deref())?;
    let list = state.db.run(move |conn| reports::silent_schools(conn, &user, &scope, range)).await?;
    Ok(SilentSchoolsReport::from(list))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SemiMonthlyQuery {
    /// GB/T 2260 code of the county.
    #[param(value_type = super::reference::GuizhouCountyCode, inline)]
    pub county: String,
    /// The half-month: `YYYY-MM-H1` (1st–15th) or `YYYY-MM-H2` (16th–end).
    #[param(pattern = r"^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])-H[12]$", example = "2019-03-H1")]
    pub period: String,
}

/// Parses a half-month label (`2019-03-H1`, `2019-03-H2`); any other period is a 422.
pub fn parse_half_month(text: &str) -> Result<DateRange, ApiError> {
    let not_half = || ApiError::field("period", Code::NotHalfMonth, "give a half-month: YYYY-MM-H1 or YYYY-MM-H2");
    if !(text.ends_with("-H1") || text.ends_with("-H2")) {
        return Err(not_half());
    }
    let range = parse_period(text).map_err(|e| ApiError::domain("period", &e))?;
    if PeriodKind::HalfMonth.containing(range.from) != range {
        return Err(not_half());
    }
    Ok(range)
}

/// The semi-monthly county report, as one XLSX workbook.
///
/// Sheets: `汇总 Summary` (the county's figures, the policy, the target and the period),
/// `学校 Schools` (every school: share, shortfall, silent flag), `标签 Tags` and
/// `品类 Categories`. Amounts are exact decimal strings. Readable by the county's bureau,
/// its prefecture, the province and administrators.
#[utoipa::path(
    tag = "reports",
    params(SemiMonthlyQuery),
    responses(
        (status = 200, description = "The workbook", body = XlsxFile,
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers(("Content-Disposition" = String, description = "`attachment; filename=\"semi-monthly_520102_2019-03-H1.xlsx\"`"))),
        (status = 403, description = "The county is outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such county", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad county code, or the period is not a half-month", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/reports/semi-monthly")]
pub async fn get_semi_monthly(
    state: web::Data<AppState>,
    user: AuthUser,
    q: super::Query<SemiMonthlyQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    if !crate::domain::role::is_division_code(&q.county) {
        return Err(ApiError::field("county", Code::BadCounty, "a 6-digit county code"));
    }
    let range = parse_half_month(&q.period)?;
    let county = q.county.clone();
    let report = state.db.run(move |conn| reports::semi_monthly(conn, &user, &county, range)).await?;
    let dto = |r: Report, group_by: &str| ShareReport::from((r, vec![group_by.to_owned()]));
    let name = HalfMonth::parse(&report.label).map_or_else(|_| report.label.clone(), HalfMonth::label_zh);
    let bytes = export::semi_monthly_xlsx(
        (&report.label, &name),
        &dto(report.by_school, "school"),
        &dto(report.by_tag, "tag"),
        &dto(report.by_category, "category"),
        super::clock::now(),
    )?;
    Ok(export::attachment(ExportFormat::Xlsx, &format!("semi-monthly_{}_{}", q.county, report.label), bytes))
}

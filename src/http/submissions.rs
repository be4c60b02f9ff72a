//! Half-monthly submissions (submit, revise, read, workbook, drift) and the status lists.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::body::JsonBody;
use super::export::{self, Cell, CsvFile, ExportFormat, ExportQuery, Heading, Sheet, Table, XlsxFile};
use super::purchases::idempotency_key;
use crate::service::submissions::document::{Figs, FrozenRow};
use rust_decimal::Decimal;

/// `Idempotent-Replayed`, as header maps spell it.
const REPLAYED_HEADER: &str = "idempotent-replayed";
use crate::domain::reporting::HalfMonth;
use crate::domain::submission::{Narrative, Unit};
use crate::error::{ApiError, Code, Problem};
use crate::http::{AppState, AuthUser};
use crate::service::purchases::IdempotentRequest;
use crate::service::submissions::document::{ChangeDoc, DriftReport, StatusList, SubmissionDocument, SubmissionSummary};
use crate::service::submissions::status::StatusScope;
use crate::service::submissions::{self as service, SubmitRequest, drift, status};

/// The header that states a submission's digest on every answer about it.
pub const SUBMISSION_DIGEST: &str = "Submission-Digest";

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_submission)
        .service(list_submissions)
        .service(get_submission)
        .service(get_submission_workbook)
        .service(get_submission_drift)
        .service(reporting_status)
        .service(export_reporting_status);
}

/// A half-monthly report: the unit, the half-month, the notice's four sections (each may
/// be empty, at most 5,000 characters, and may span lines), and — for a revision — why.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "unit": "county:520102", "period": "2019-03-H1",
    "progress": "全区42所学校食堂本半月采购贫困地区农产品……", "experience": "", "difficulties": "", "measures": ""
}))]
pub struct SubmissionRequest {
    /// The reporting unit: `county:CODE` or `prefecture:CODE` (the caller's own bureau).
    #[schema(pattern = r"^(county|prefecture):[0-9]{6}$", example = "county:520102")]
    pub unit: String,
    /// The half-month reported: `YYYY-MM-H1` (1st–15th) or `YYYY-MM-H2` (16th–end), from
    /// 2019-03-H1 (when the gz-2019 campaign starts) to 2100.
    #[schema(pattern = r"^(2019-(0[3-9]|1[0-2])|20[2-9][0-9]-(0[1-9]|1[0-2])|2100-(0[1-9]|1[0-2]))-H[12]$", example = "2019-03-H1")]
    pub period: String,
    /// 工作进展 (progress).
    #[schema(max_length = 5000, pattern = r"^[^\x00-\x09\x0B\x0C\x0E-\x1F\x7F-\x9F]*$")]
    pub progress: String,
    /// 典型经验 (typical experience).
    #[schema(max_length = 5000, pattern = r"^[^\x00-\x09\x0B\x0C\x0E-\x1F\x7F-\x9F]*$")]
    pub experience: String,
    /// 存在困难 (difficulties).
    #[schema(max_length = 5000, pattern = r"^[^\x00-\x09\x0B\x0C\x0E-\x1F\x7F-\x9F]*$")]
    pub difficulties: String,
    /// 下一步措施 (proposed measures).
    #[schema(max_length = 5000, pattern = r"^[^\x00-\x09\x0B\x0C\x0E-\x1F\x7F-\x9F]*$")]
    pub measures: String,
    /// Required on a revision (what it corrects, single-line, at most 500 characters);
    /// absent on the half-month's first submission.
    #[schema(
        max_length = 500,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub reason: Option<String>,
}

fn parse_unit(text: &str, field: &str) -> Result<Unit, ApiError> {
    Unit::parse(text).ok_or_else(|| ApiError::field(field, Code::BadUnit, "use county:CODE or prefecture:CODE"))
}

fn parse_half_month(text: &str, field: &str) -> Result<HalfMonth, ApiError> {
    HalfMonth::parse(text).map_err(|e| ApiError::field(field, e.code(), e.to_string()))
}

fn document_response(status: actix_web::http::StatusCode, digest: &str, body: String) -> HttpResponse {
    HttpResponse::build(status).content_type("application/json").insert_header((SUBMISSION_DIGEST, digest.to_owned())).body(body)
}

fn digest_of(document: &str) -> String {
    serde_json::from_str::<serde_json::Value>(document)
        .ok()
        .and_then(|v| v.get("digest").and_then(|d| d.as_str()).map(str::to_owned))
        .unwrap_or_default()
}

/// Submit (or revise) a unit's half-monthly report.
///
/// The caller is the unit's own bureau (`county:CODE` or `prefecture:CODE`). Freezes the
/// unit's figures for the half-month and the year to date (per school for a county; per
/// county for a prefecture, from each county's latest submission or, where it has none,
/// the ledger), the policy and target, and the chain head of every school covered, with
/// one digest over them. May be made from the half-month's first day; on time when made
/// before its deadline ends (China Standard Time). A later submission for the same
/// half-month is a new revision and needs a `reason`. Requires `Idempotency-Key` (unique
/// per unit): a retry with the same key and body answers the stored document with
/// `Idempotent-Replayed: true`.
#[utoipa::path(
    tag = "reporting",
    params(("Idempotency-Key" = String, Header, description = "Client-generated UUID or ULID, unique per unit", pattern = "^[A-Za-z0-9_-]{8,128}$")),
    request_body = SubmissionRequest,
    responses(
        (status = 201, description = "Submitted (or replayed, with `Idempotent-Replayed: true`): the frozen document", body = SubmissionDocument,
            headers(
                ("Idempotent-Replayed" = String, description = "`true` when this is the stored answer"),
                ("Submission-Digest" = String, description = "The digest over the frozen chain heads"),
                ("Location" = String, description = "`/api/v1/submissions/{id}`"),
            )),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not this unit's bureau", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such county or prefecture", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "What is stored refuses it: the half-month was already submitted and this revision has no reason, it is a first submission carrying a reason, the half-month has not begun yet, the Idempotency-Key was used with a different body, or another revision was made at the same moment", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 256 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields: unit, half-month (unknown or before the campaign), sections too long or holding control characters, a blank reason, or a missing Idempotency-Key", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/submissions")]
pub async fn create_submission(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: AuthUser,
    body: JsonBody<SubmissionRequest>,
) -> Result<HttpResponse, ApiError> {
    let key = idempotency_key(&req)?;
    let idem = IdempotentRequest::new(key, &body.raw);
    let b = body.value;
    let submit = SubmitRequest {
        unit: parse_unit(&b.unit, "unit")?,
        period: parse_half_month(&b.period, "period")?,
        narrative: Narrative { progress: b.progress, experience: b.experience, difficulties: b.difficulties, measures: b.measures },
        reason: b.reason,
    };
    let now = state.clock.now();
    let done = state.db.run(move |conn| service::submit(conn, &user, submit, &idem, now)).await?;
    let mut answer = document_response(actix_web::http::StatusCode::CREATED, &digest_of(&done.document), done.document);
    if !done.created {
        answer.headers_mut().insert(header::HeaderName::from_static(REPLAYED_HEADER), header::HeaderValue::from_static("true"));
    }
    if let Ok(v) = header::HeaderValue::from_str(&format!("/api/v1/submissions/{}", done.id)) {
        answer.headers_mut().insert(header::LOCATION, v);
    }
    Ok(answer)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SubmissionListQuery {
    /// Only this unit: `county:CODE` or `prefecture:CODE` (in the caller's scope).
    #[param(pattern = r"^(county|prefecture):[0-9]{6}$", example = "county:520102")]
    pub unit: Option<String>,
    /// Only this half-month.
    #[param(pattern = r"^(2019-(0[3-9]|1[0-2])|20[2-9][0-9]-(0[1-9]|1[0-2])|2100-(0[1-9]|1[0-2]))-H[12]$", example = "2019-03-H1")]
    pub period: Option<String>,
}

/// Submissions and their revisions the caller may read, newest first (at most 1,000): a
/// county its own, a prefecture its own and its counties', the province all.
#[utoipa::path(
    tag = "reporting",
    params(SubmissionListQuery),
    responses(
        (status = 200, description = "Every revision, newest first; `latest` marks the one that stands", body = Vec<SubmissionSummary>),
        (status = 403, description = "A unit outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such county or prefecture", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad unit or half-month", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/submissions")]
pub async fn list_submissions(
    state: web::Data<AppState>,
    user: AuthUser,
    q: super::Query<SubmissionListQuery>,
) -> Result<HttpResponse, ApiError> {
    let unit = q.0.unit.as_deref().map(|u| parse_unit(u, "unit")).transpose()?;
    let period = q.0.period.as_deref().map(|p| parse_half_month(p, "period")).transpose()?;
    let list = state.db.run(move |conn| service::list(conn, &user, unit.as_ref(), period)).await?;
    Ok(HttpResponse::Ok().json(list))
}

/// A submission's frozen document, byte for byte as submitted.
#[utoipa::path(
    tag = "reporting",
    params(("id" = String, Path, description = "Submission id")),
    responses(
        (status = 200, description = "The frozen figures and narrative", body = SubmissionDocument,
            headers(("Submission-Digest" = String, description = "The digest over the frozen chain heads"))),
        (status = 404, description = "No such submission in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/submissions/{id}")]
pub async fn get_submission(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let row = state.db.run(move |conn| service::get(conn, &user, &id)).await?;
    Ok(document_response(actix_web::http::StatusCode::OK, &row.digest, row.frozen_json))
}

/// A submission as a workbook (XLSX, in Chinese): the narrative, the unit's figures, and
/// the adjustments, with the digest on the sheet. The same bytes every time.
#[utoipa::path(
    tag = "reporting",
    params(("id" = String, Path, description = "Submission id")),
    responses(
        (status = 200, description = "The workbook", body = XlsxFile, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers(
                ("Content-Disposition" = String, description = "`attachment; filename=\"submission_….xlsx\"`"),
                ("Submission-Digest" = String, description = "The digest over the frozen chain heads"),
            )),
        (status = 404, description = "No such submission in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/submissions/{id}/workbook")]
pub async fn get_submission_workbook(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let row = state.db.run(move |conn| service::get(conn, &user, &id)).await?;
    let doc: SubmissionDocument = serde_json::from_str(&row.frozen_json).map_err(|e| ApiError::Internal(e.into()))?;
    let bytes = submission_xlsx(&doc)?;
    let stem = format!("submission_{}-{}_{}_r{}", doc.unit.kind, doc.unit.code, doc.period, doc.revision);
    let mut answer = export::attachment(ExportFormat::Xlsx, &stem, bytes);
    if let Ok(v) = header::HeaderValue::from_str(&row.digest) {
        answer.headers_mut().insert(header::HeaderName::from_static("submission-digest"), v);
    }
    Ok(answer)
}

/// How the ledger moved since a submission, explained to the fen: entries recorded after
/// it (late entries, voids, corrections) and reclassifications (tag or designation
/// reviews, with who and when). For every row, frozen + changes = now.
#[utoipa::path(
    tag = "reporting",
    params(("id" = String, Path, description = "Submission id")),
    responses(
        (status = 200, description = "The drift", body = DriftReport),
        (status = 404, description = "No such submission in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/submissions/{id}/drift")]
pub async fn get_submission_drift(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let now = state.clock.now();
    let report = state.db.run(move |conn| drift::drift(conn, &user, &id, now)).await?;
    Ok(HttpResponse::Ok().json(report))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StatusQuery {
    /// The half-month.
    #[param(pattern = r"^(2019-(0[3-9]|1[0-2])|20[2-9][0-9]-(0[1-9]|1[0-2])|2100-(0[1-9]|1[0-2]))-H[12]$", example = "2019-03-H1")]
    pub period: String,
    /// `province` (every prefecture and county) or `prefecture:CODE` (the prefecture and
    /// the counties that report to it).
    #[param(pattern = r"^(province|prefecture:[0-9]{6})$", example = "province")]
    pub scope: String,
}

fn parse_status_scope(text: &str) -> Result<StatusScope, ApiError> {
    match text.split_once(':') {
        None if text == "province" => Ok(StatusScope::Province),
        Some(("prefecture", c)) if crate::domain::role::is_division_code(c) => Ok(StatusScope::Prefecture(c.to_owned())),
        _ => Err(ApiError::field("scope", Code::BadScope, "use province or prefecture:CODE")),
    }
}

/// Who was expected to report for a half-month and where each stands: `not_due`,
/// `on_time`, `late` (with days), `missing` (deadline passed, nothing submitted), with each
/// unit's live counts of silent schools and schools below target. The list the province
/// names late units from; as CSV or XLSX, in Chinese, ready to circulate.
/// The same list as a file: `GET /reporting/status/export`.
#[utoipa::path(
    tag = "reporting",
    params(StatusQuery),
    responses(
        (status = 200, description = "The status list", body = StatusList),
        (status = 403, description = "Scope outside the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such prefecture", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad scope or half-month (or one outside the campaign)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/reporting/status")]
pub async fn reporting_status(state: web::Data<AppState>, user: AuthUser, q: super::Query<StatusQuery>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(status_list(&state, user, q.0).await?))
}

/// The status list as a file (`format=csv|xlsx`, with the parameters of
/// `GET /reporting/status`): Chinese headings and labels, ready to circulate.
#[utoipa::path(
    tag = "reporting",
    params(StatusQuery, ExportQuery),
    responses(
        (status = 200, description = "The status list as a CSV or XLSX file",
            content((CsvFile = "text/csv"), (XlsxFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")),
            headers(("Content-Disposition" = String, description = "`attachment; filename=\"reporting-status_….csv\"`"))),
        (status = 403, description = "Scope outside the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such prefecture", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad scope, half-month (or one outside the campaign) or format", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/reporting/status/export")]
pub async fn export_reporting_status(
    state: web::Data<AppState>,
    user: AuthUser,
    q: super::Export<StatusQuery>,
) -> Result<HttpResponse, ApiError> {
    let list = status_list(&state, user, q.query).await?;
    let stem = format!("reporting-status_{}-{}_{}", list.scope.kind, list.scope.code, list.period);
    export::sheet_file(q.format, &stem, status_sheet(&list), super::clock::now())
}

async fn status_list(state: &AppState, user: AuthUser, q: StatusQuery) -> Result<StatusList, ApiError> {
    let period = parse_half_month(&q.period, "period")?;
    let scope = parse_status_scope(&q.scope)?;
    let now = state.clock.now();
    state.db.run(move |conn| status::status(conn, &user, &scope, period, now)).await
}

/// The status list as a table: Chinese headers, one row per unit.
pub fn status_table(list: &StatusList) -> Table {
    let headers = [
        "单位类型",
        "单位代码",
        "单位名称",
        "报送对象",
        "报送状态",
        "迟报天数",
        "首次报送时间",
        "修订次数",
        "学校数",
        "无采购学校数",
        "未达标学校数",
    ];
    let rows = list
        .rows
        .iter()
        .map(|r| {
            vec![
                Cell::Text(if r.unit.kind == "county" { "县（市、区）".into() } else { "市（州）".into() }),
                Cell::Text(r.unit.code.clone()),
                Cell::Text(r.unit.name.clone()),
                Cell::Text(if r.reports_to == "province" {
                    "省".into()
                } else {
                    r.reports_to.trim_start_matches("prefecture:").to_owned()
                }),
                Cell::Text(r.status_label.clone()),
                r.late_days.map_or(Cell::Empty, Cell::Count),
                r.first_submitted_at.as_deref().and_then(cst_text).map_or(Cell::Empty, Cell::Text),
                Cell::Count(r.revisions),
                Cell::Count(r.schools.schools),
                Cell::Count(r.schools.silent),
                Cell::Count(r.schools.below_target),
            ]
        })
        .collect();
    Table { headers: headers.to_vec(), rows }
}

/// An RFC 3339 UTC instant as a Chinese sheet prints it: China Standard Time, to the minute.
fn cst_text(utc: &str) -> Option<String> {
    let t = chrono::DateTime::parse_from_rfc3339(utc).ok()?;
    Some((t.naive_utc() + chrono::Duration::hours(8)).format("%Y-%m-%d %H:%M").to_string())
}

/// The status list as one sheet, with its heading.
pub fn status_sheet(list: &StatusList) -> Sheet {
    let heading = Heading {
        title: format!("{} {} 校农结合工作进展报送情况", list.scope.name, list.period_label),
        facts: vec![
            ("报送期 period", format!("{}（{}）", list.period_label, list.period)),
            ("截止 due", format!("{} 24:00（北京时间）", list.due_on)),
            ("统计时间 as of", cst_text(&list.as_of).unwrap_or_default()),
            ("情况 summary", format!("按时 {}，迟报 {}，未报 {}，未到期 {}", list.on_time, list.late, list.missing, list.not_due)),
        ],
    };
    Sheet { name: "报送情况 Status", heading, table: status_table(list) }
}

fn percent(share: Decimal) -> String {
    format!("{}%", (share * Decimal::ONE_HUNDRED).round_dp(2))
}

const FIG_HEADERS: [&str; 7] = ["采购总额（元）", "达标采购额（元）", "待核实采购额（元）", "占比", "是否达标", "差额（元）", "采购笔数"];
const YTD_HEADERS: [&str; 7] =
    ["本年采购总额（元）", "本年达标采购额（元）", "本年待核实采购额（元）", "本年占比", "本年是否达标", "本年差额（元）", "本年采购笔数"];

fn fig_cells(f: &Figs) -> [Cell; 7] {
    [
        Cell::Amount(f.total),
        Cell::Amount(f.qualifying),
        Cell::Amount(f.pending),
        f.share.map_or(Cell::Empty, Cell::Share),
        f.meets_target.map_or(Cell::Empty, Cell::Flag),
        Cell::Amount(f.shortfall),
        Cell::Count(f.purchases),
    ]
}

fn frozen_cells(row: &FrozenRow) -> Vec<Cell> {
    let mut cells = vec![Cell::Text(row.unit.name.clone()), Cell::Text(row.unit.code.clone())];
    cells.extend(fig_cells(&row.half_month));
    cells.extend(fig_cells(&row.year_to_date));
    cells.push(match &row.source {
        Some(src) if src.kind == "submission" => Cell::Text(format!("县级报送（第{}版）", src.revision.unwrap_or(1))),
        Some(_) => Cell::Text("账本实时数据".into()),
        None => Cell::Empty,
    });
    cells
}

/// The adjustments to earlier half-months, one row per change.
fn adjustment_table(adjustments: &[ChangeDoc]) -> Table {
    Table {
        headers: vec![
            "类型",
            "学校",
            "采购日期",
            "所属半月",
            "记录时间",
            "记录人",
            "采购总额变动（元）",
            "达标采购额变动（元）",
            "待核实采购额变动（元）",
            "笔数变动",
            "采购编号",
        ],
        rows: adjustments
            .iter()
            .map(|c| {
                vec![
                    Cell::Text(c.label.clone()),
                    Cell::Text(c.school_name.clone()),
                    Cell::Date(c.purchase_date),
                    Cell::Text(c.period.clone()),
                    Cell::Text(cst_text(&c.at).unwrap_or_default()),
                    Cell::Text(c.by.clone()),
                    Cell::Amount(c.delta.total),
                    Cell::Amount(c.delta.qualifying),
                    Cell::Amount(c.delta.pending),
                    Cell::Count(c.delta.purchases),
                    Cell::Text(c.purchase_id.clone()),
                ]
            })
            .collect(),
    }
}

/// The submission as sheets: the cover (facts and the four sections), the figures (one
/// row per school or county, then the unit), and the adjustments to earlier half-months.
pub fn submission_sheets(doc: &SubmissionDocument) -> Vec<Sheet> {
    let on_time = if doc.on_time { "按时".to_owned() } else { format!("迟报{}天", doc.late_days.unwrap_or(0)) };
    let facts = vec![
        ("报送单位 unit", format!("{}（{}）", doc.unit.name, doc.unit.code)),
        ("报送期 period", format!("{}（{} 至 {}）", doc.period_label, doc.from, doc.to)),
        ("版本 revision", format!("第{}版{}", doc.revision, doc.reason.as_deref().map(|r| format!("：{r}")).unwrap_or_default())),
        (
            "报送 submitted",
            format!("{} {}（截止 {}，{on_time}）", doc.submitted_by, cst_text(&doc.submitted_at).unwrap_or_default(), doc.due_on),
        ),
        ("口径 policy", format!("{}，目标 {}", doc.policy, percent(doc.target.share))),
        ("摘要 digest", format!("SHA-256 {}（{} 所学校的账本链头）", doc.digest, doc.schools_covered)),
    ];
    let title = format!("{}{}校农结合工作进展报送", doc.unit.name, doc.period_label);
    let sections = crate::domain::submission::Narrative::HEADINGS_ZH
        .iter()
        .zip([&doc.narrative.progress, &doc.narrative.experience, &doc.narrative.difficulties, &doc.narrative.measures])
        .map(|(h, text)| vec![Cell::Text((*h).to_owned()), Cell::Text(text.clone())])
        .collect();
    let cover = Sheet {
        name: "报送 Submission",
        heading: Heading { title: title.clone(), facts: facts.clone() },
        table: Table { headers: vec!["栏目", "内容"], rows: sections },
    };
    let unit_word = if doc.unit.kind == "county" { "学校名称" } else { "县（市、区）名称" };
    let mut headers = vec![unit_word, "代码"];
    headers.extend(FIG_HEADERS);
    headers.extend(YTD_HEADERS);
    headers.push("数据来源");
    let figures = Sheet {
        name: "数据 Figures",
        heading: Heading { title: format!("{title}：采购数据"), facts: facts.clone() },
        table: Table { headers, rows: doc.rows.iter().chain(std::iter::once(&doc.summary)).map(frozen_cells).collect() },
    };
    let adjustments = Sheet {
        name: "调整 Adjustments",
        heading: Heading { title: format!("{title}：对以前报送期的调整"), facts },
        table: adjustment_table(&doc.adjustments),
    };
    vec![cover, figures, adjustments]
}

/// The submission workbook, stamped with the submission's time: the same bytes every time.
pub fn submission_xlsx(doc: &SubmissionDocument) -> Result<Vec<u8>, ApiError> {
    let at = chrono::DateTime::parse_from_rfc3339(&doc.submitted_at)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("submission {}: submitted_at: {e}", doc.id)))?;
    export::xlsx_bytes(&submission_sheets(doc), at)
}

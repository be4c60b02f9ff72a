//! Half-monthly submissions (submit, revise, read, workbook, drift) and the status lists.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::body::JsonBody;
use super::export::{self, Cell, CsvFile, ExportFormat, Table, XlsxFile};
use super::purchases::idempotency_key;
use crate::service::submissions::document::{ChangeDoc, Figs, FrozenRow};
use rust_decimal::Decimal;
use rust_xlsxwriter::{DocProperties, Format, FormatAlign, Workbook, Worksheet, XlsxError};

/// `Idempotent-Replayed`, as header maps spell it.
const REPLAYED_HEADER: &str = "idempotent-replayed";
use crate::domain::reporting::HalfMonth;
use crate::domain::submission::{Narrative, Unit};
use crate::error::{ApiError, Code, Problem};
use crate::http::{AppState, AuthUser};
use crate::service::purchases::IdempotentRequest;
use crate::service::submissions::document::{DriftReport, StatusList, SubmissionDocument, SubmissionSummary};
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
        .service(reporting_status);
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
    /// The half-month reported: `YYYY-MM-H1` (1st–15th) or `YYYY-MM-H2` (16th–end).
    #[schema(pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])-H[12]$", example = "2019-03-H1")]
    pub period: String,
    /// 工作进展 (progress).
    #[schema(max_length = 5000)]
    pub progress: String,
    /// 典型经验 (typical experience).
    #[schema(max_length = 5000)]
    pub experience: String,
    /// 存在困难 (difficulties).
    #[schema(max_length = 5000)]
    pub difficulties: String,
    /// 下一步措施 (proposed measures).
    #[schema(max_length = 5000)]
    pub measures: String,
    /// Required on a revision (what it corrects, single-line, at most 500 characters);
    /// absent on the half-month's first submission.
    #[schema(max_length = 500)]
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
        (status = 409, description = "Idempotency-Key reused with a different body, or a concurrent revision", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 256 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields: unit, half-month (unknown, before the campaign or not yet open), sections too long, a reason missing on a revision or sent on a first submission, or a missing Idempotency-Key", body = Problem, content_type = "application/problem+json"),
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
    #[param(pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])-H[12]$", example = "2019-03-H1")]
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
    #[param(pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])-H[12]$", example = "2019-03-H1")]
    pub period: String,
    /// `province` (every prefecture and county) or `prefecture:CODE` (the prefecture and
    /// the counties that report to it).
    #[param(pattern = r"^(province|prefecture:[0-9]{6})$", example = "province")]
    pub scope: String,
    /// `json`, `csv` (UTF-8 with BOM) or `xlsx`; default from `Accept`, else JSON.
    #[param(pattern = r"^(json|csv|xlsx)$")]
    pub format: Option<String>,
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
#[utoipa::path(
    tag = "reporting",
    params(StatusQuery),
    responses(
        (status = 200, description = "The status list (JSON), or the list as a CSV or XLSX file",
            content(
                (StatusList = "application/json"),
                (CsvFile = "text/csv"),
                (XlsxFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            ),
            headers(("Content-Disposition" = String, description = "For files: `attachment; filename=\"reporting-status_….csv\"`"))),
        (status = 403, description = "Scope outside the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such prefecture", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad scope, half-month (or one outside the campaign) or format", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/reporting/status")]
pub async fn reporting_status(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: AuthUser,
    q: super::Query<StatusQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.0;
    let period = parse_half_month(&q.period, "period")?;
    let scope = parse_status_scope(&q.scope)?;
    let accept = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let format = ExportFormat::negotiate(q.format.as_deref(), accept.as_deref())?;
    let now = state.clock.now();
    let list = state.db.run(move |conn| status::status(conn, &user, &scope, period, now)).await?;
    match format {
        ExportFormat::Json => Ok(HttpResponse::Ok().json(list)),
        file => {
            let stem = format!("reporting-status_{}-{}_{}", list.scope.kind, list.scope.code, list.period);
            export::table_file(file, "报送情况 Status", &stem, &status_table(&list))
        }
    }
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
                r.first_submitted_at.clone().map_or(Cell::Empty, Cell::Text),
                Cell::Count(r.revisions),
                Cell::Count(r.schools.schools),
                Cell::Count(r.schools.silent),
                Cell::Count(r.schools.below_target),
            ]
        })
        .collect();
    Table { headers: headers.to_vec(), rows }
}

/// An amount as a spreadsheet number: exact, since the decimal text of fen has at most 15
/// significant digits (a double holds them).
fn number(d: Decimal) -> f64 {
    use rust_decimal::prelude::ToPrimitive;
    d.to_f64().unwrap_or_default()
}

fn yes_no(b: Option<bool>) -> &'static str {
    match b {
        Some(true) => "是",
        Some(false) => "否",
        None => "",
    }
}

struct Formats {
    bold: Format,
    title: Format,
    money: Format,
    share: Format,
    wrap: Format,
}

impl Formats {
    fn new() -> Self {
        Self {
            bold: Format::new().set_bold(),
            title: Format::new().set_bold().set_font_size(14),
            money: Format::new().set_num_format("#,##0.00").set_align(FormatAlign::Right),
            share: Format::new().set_num_format("0.00%").set_align(FormatAlign::Right),
            wrap: Format::new().set_text_wrap().set_align(FormatAlign::Top),
        }
    }
}

fn write_figs(sheet: &mut Worksheet, f: &Formats, row: u32, col: u16, figs: &Figs) -> Result<(), XlsxError> {
    sheet.write_number_with_format(row, col, number(figs.total), &f.money)?;
    sheet.write_number_with_format(row, col + 1, number(figs.qualifying), &f.money)?;
    sheet.write_number_with_format(row, col + 2, number(figs.pending), &f.money)?;
    if let Some(share) = figs.share {
        sheet.write_number_with_format(row, col + 3, number(share), &f.share)?;
    }
    sheet.write_string(row, col + 4, yes_no(figs.meets_target))?;
    sheet.write_number_with_format(row, col + 5, number(figs.shortfall), &f.money)?;
    #[expect(clippy::cast_precision_loss, reason = "counts are far below 2^53")]
    sheet.write_number(row, col + 6, figs.purchases as f64)?;
    Ok(())
}

const FIG_HEADERS: [&str; 7] = ["采购总额（元）", "达标采购额（元）", "待核实采购额（元）", "占比", "是否达标", "差额（元）", "采购笔数"];

fn write_rows(sheet: &mut Worksheet, f: &Formats, doc: &SubmissionDocument) -> Result<(), XlsxError> {
    let unit_word = if doc.unit.kind == "county" { "学校" } else { "县（市、区）" };
    sheet.write_string_with_format(0, 0, format!("{}{}校农结合采购情况（{}）", doc.unit.name, doc.period_label, unit_word), &f.title)?;
    sheet.write_string(
        1,
        0,
        format!(
            "政策 {} · 目标 {}% · 截至 {} · 摘要 {}",
            doc.policy,
            doc.target.share * Decimal::ONE_HUNDRED,
            doc.submitted_at,
            doc.digest
        ),
    )?;
    sheet.write_string_with_format(2, 2, "本半月", &f.bold)?;
    sheet.write_string_with_format(2, 9, "本年累计", &f.bold)?;
    let mut headers = vec![format!("{unit_word}名称"), "代码".to_owned()];
    headers.extend(FIG_HEADERS.iter().map(|h| (*h).to_owned()));
    headers.extend(FIG_HEADERS.iter().map(|h| (*h).to_owned()));
    headers.push("数据来源".into());
    for (c, h) in (0_u16..).zip(&headers) {
        sheet.write_string_with_format(3, c, h, &f.bold)?;
    }
    let all: Vec<&FrozenRow> = doc.rows.iter().chain(std::iter::once(&doc.summary)).collect();
    for (r, row) in (4_u32..).zip(&all) {
        sheet.write_string(r, 0, &row.unit.name)?;
        sheet.write_string(r, 1, &row.unit.code)?;
        write_figs(sheet, f, r, 2, &row.half_month)?;
        write_figs(sheet, f, r, 9, &row.year_to_date)?;
        if let Some(src) = &row.source {
            sheet.write_string(
                r,
                16,
                if src.kind == "submission" {
                    format!("县级报送（第{}版）", src.revision.unwrap_or(1))
                } else {
                    "账本实时数据".into()
                },
            )?;
        }
    }
    let last = 3 + u32::try_from(all.len()).unwrap_or(0);
    sheet.set_freeze_panes(4, 2)?;
    sheet.autofilter(3, 0, last.saturating_sub(1).max(3), 16)?;
    sheet.set_column_width(0, 28)?;
    sheet.set_column_width(1, 12)?;
    for c in 2..=16_u16 {
        sheet.set_column_width(c, 14)?;
    }
    sheet.set_landscape().set_paper_size(9).set_print_fit_to_pages(1, 0);
    Ok(())
}

fn write_cover(sheet: &mut Worksheet, f: &Formats, doc: &SubmissionDocument) -> Result<(), XlsxError> {
    sheet.write_string_with_format(0, 0, format!("{}{}校农结合工作进展报送", doc.unit.name, doc.period_label), &f.title)?;
    let on_time = if doc.on_time { "按时".to_owned() } else { format!("迟报{}天", doc.late_days.unwrap_or(0)) };
    let facts: Vec<(&str, String)> = vec![
        ("报送单位", format!("{}（{}）", doc.unit.name, doc.unit.code)),
        ("报送期", format!("{}（{} 至 {}）", doc.period_label, doc.from, doc.to)),
        ("版本", format!("第{}版", doc.revision)),
        ("修订原因", doc.reason.clone().unwrap_or_default()),
        ("报送人", doc.submitted_by.clone()),
        ("报送时间（UTC）", doc.submitted_at.clone()),
        ("截止日期", doc.due_on.to_string()),
        ("是否按时", on_time),
        ("资格政策", doc.policy.clone()),
        ("目标占比", format!("{}%", (doc.target.share * Decimal::ONE_HUNDRED).round_dp(2))),
        ("覆盖学校数", doc.schools_covered.to_string()),
        ("数据摘要（SHA-256）", doc.digest.clone()),
    ];
    for (r, (k, v)) in (2_u32..).zip(&facts) {
        sheet.write_string_with_format(r, 0, *k, &f.bold)?;
        sheet.write_string(r, 1, v)?;
    }
    let first = 3 + u32::try_from(facts.len()).unwrap_or(0);
    for (r, (heading, (_, text))) in (first..).zip(crate::domain::submission::Narrative::HEADINGS_ZH.iter().zip(narrative_sections(doc))) {
        sheet.write_string_with_format(r, 0, *heading, &f.bold)?;
        sheet.write_string_with_format(r, 1, text, &f.wrap)?;
    }
    sheet.set_column_width(0, 20)?;
    sheet.set_column_width(1, 90)?;
    sheet.set_paper_size(9).set_print_fit_to_pages(1, 0);
    Ok(())
}

fn narrative_sections(doc: &SubmissionDocument) -> [(&'static str, &str); 4] {
    let n = &doc.narrative;
    [("progress", &n.progress), ("experience", &n.experience), ("difficulties", &n.difficulties), ("measures", &n.measures)]
}

fn write_adjustments(sheet: &mut Worksheet, f: &Formats, changes: &[ChangeDoc]) -> Result<(), XlsxError> {
    let headers = [
        "类型",
        "学校",
        "采购日期",
        "所属半月",
        "记录时间（UTC）",
        "记录人",
        "采购总额变动（元）",
        "达标采购额变动（元）",
        "待核实采购额变动（元）",
        "笔数变动",
        "采购编号",
    ];
    sheet.write_string_with_format(0, 0, "对以前报送期的调整", &f.title)?;
    for (c, h) in (0_u16..).zip(headers) {
        sheet.write_string_with_format(1, c, h, &f.bold)?;
    }
    for (r, ch) in (2_u32..).zip(changes) {
        sheet.write_string(r, 0, &ch.label)?;
        sheet.write_string(r, 1, &ch.school_name)?;
        sheet.write_string(r, 2, ch.purchase_date.to_string())?;
        sheet.write_string(r, 3, &ch.period)?;
        sheet.write_string(r, 4, &ch.at)?;
        sheet.write_string(r, 5, &ch.by)?;
        sheet.write_number_with_format(r, 6, number(ch.delta.total), &f.money)?;
        sheet.write_number_with_format(r, 7, number(ch.delta.qualifying), &f.money)?;
        sheet.write_number_with_format(r, 8, number(ch.delta.pending), &f.money)?;
        #[expect(clippy::cast_precision_loss, reason = "counts are far below 2^53")]
        sheet.write_number(r, 9, ch.delta.purchases as f64)?;
        sheet.write_string(r, 10, &ch.purchase_id)?;
    }
    sheet.set_freeze_panes(2, 0)?;
    sheet.set_column_width(1, 28)?;
    for c in 2..=10_u16 {
        sheet.set_column_width(c, 16)?;
    }
    sheet.set_landscape().set_paper_size(9).set_print_fit_to_pages(1, 0);
    Ok(())
}

/// The submission workbook: cover with the narrative, the figures, the adjustments. The
/// document's creation time is the submission's, so the bytes are the same every time.
pub fn submission_xlsx(doc: &SubmissionDocument) -> Result<Vec<u8>, ApiError> {
    let internal = |e: XlsxError| ApiError::Internal(e.into());
    let f = Formats::new();
    let mut wb = Workbook::new();
    let created = crate::service::submissions::document::parse_timestamp(&doc.submitted_at).unwrap_or_default();
    wb.set_properties(&DocProperties::new().set_creation_datetime(&created).set_title(format!("{} {}", doc.unit.name, doc.period_label)));
    write_cover(wb.add_worksheet().set_name("报送 Submission").map_err(internal)?, &f, doc).map_err(internal)?;
    write_rows(wb.add_worksheet().set_name("数据 Figures").map_err(internal)?, &f, doc).map_err(internal)?;
    write_adjustments(wb.add_worksheet().set_name("调整 Adjustments").map_err(internal)?, &f, &doc.adjustments).map_err(internal)?;
    wb.save_to_buffer().map_err(internal)
}

//! `POST /imports` (a canteen uploads a CSV or XLSX of purchase lines) and
//! `GET /imports/template`. The file is the raw request body, its type the Content-Type;
//! reading it is `csv_file`/`xlsx_file`, checking its rows `plan`, writing it
//! `service::imports`.

mod csv_file;
mod plan;
pub mod template;
mod xlsx_file;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::NaiveDate;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::body::read_limited;
use super::clock::today_cst;
use super::export::{self, CsvFile, ExportFormat, XLSX_TYPE, XlsxFile};
use crate::domain::language;
use crate::error::Code;
use crate::error::{ApiError, FieldError, Problem};
use crate::http::AppState;
use crate::http::AuthUser;
use crate::service::imports::{self as service, ImportPlan, Imported};
use crate::service::views::import::ImportResponse;

pub use xlsx_file::{MAX_RATIO, MAX_UNCOMPRESSED};

/// Largest file accepted, in bytes (5 MiB).
pub const MAX_FILE: usize = 5 * 1024 * 1024;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_import).service(get_template);
}

/// The two file types an import takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileFormat {
    Csv,
    Xlsx,
}

impl FileFormat {
    fn from_request(req: &HttpRequest) -> Result<Self, ApiError> {
        match super::body::media_type(req).as_deref() {
            Some("text/csv") => Ok(Self::Csv),
            Some(XLSX_TYPE) => Ok(Self::Xlsx),
            _ => Err(ApiError::field("Content-Type", Code::UnsupportedMediaType, format!("send text/csv or {XLSX_TYPE}"))),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
        }
    }
}

/// Reads and checks the whole file (CPU work: run it off the async workers).
fn read_file(
    format: FileFormat,
    bytes: &[u8],
    school_id: String,
    today: NaiveDate,
    sha: String,
    file_name: String,
) -> Result<ImportPlan, ApiError> {
    let mut rows = plan::Collector::new(school_id, today);
    match format {
        FileFormat::Csv => csv_file::read(bytes, &mut rows)?,
        FileFormat::Xlsx => xlsx_file::read(bytes, &mut rows)?,
    }
    rows.finish(sha, file_name, format.name())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// The uploaded file's name, kept with the import (default `upload.csv`/`upload.xlsx`).
    #[param(pattern = r"^[^\x00-\x1F\x7F-\x9F]*$", min_length = 1, max_length = 255)]
    pub file_name: Option<String>,
}

/// The stored response of the first upload, flagged as a replay.
fn replay(stored: &str) -> Result<HttpResponse, ApiError> {
    let mut body: ImportResponse = serde_json::from_str(stored).map_err(|e| ApiError::Internal(e.into()))?;
    body.replayed = true;
    Ok(HttpResponse::Ok().json(body))
}

/// Import a spreadsheet of purchases into the caller's own school (canteen).
///
/// **The file is the raw request body** (no multipart): `Content-Type: text/csv` for CSV
/// (UTF-8 with or without BOM, or GB18030; comma-separated) or
/// `application/vnd.openxmlformats-officedocument.spreadsheetml.sheet` for XLSX (the
/// first worksheet is read). Get the template from `GET /imports/template`.
///
/// **Template.** The first non-blank row is the header; each column is recognized by its
/// Chinese, English or combined name (`单价`, `unit_price`, `单价 / unit_price`). Required:
/// 采购日期 / purchase_date, 供应商编号 / supplier_id, 品类 / category, 品名 / description,
/// 数量 / quantity, 单位 / unit, 单价 / unit_price; optional: 发票号 / invoice_no,
/// 金额 / amount. Other columns are ignored. One row per purchase LINE; **rows with the
/// same (supplier_id, purchase_date, invoice_no) form one purchase**. Each purchase is
/// checked and recorded exactly as `POST /purchases` would (same rules, same ledger
/// entry, same aggregates), with an idempotency key derived from the file's SHA-256.
///
/// **All or nothing.** If any cell is bad, nothing is written and the 422 lists every
/// bad cell (up to 1,000), each as `field: "row 5, column 单价 / unit_price"`, a stable
/// `code` and a Chinese / English `message`. Unknown suppliers, formulas
/// (`formula_not_allowed`), two identical rows in one purchase and purchases that repeat
/// an active (not voided) entry of the school — same supplier, date, invoice number and
/// total — (`duplicate`) are cell or row errors too.
///
/// **Language.** Every error's message is `中文 / English`; `Accept-Language` narrows it to
/// the half the caller prefers.
///
/// **Re-upload.** The same bytes uploaded again by the same school are recognized: the
/// answer is the first upload's result with status 200 and `replayed: true`, and nothing
/// is written.
///
/// **Limits.** At most 5 MiB of body (413 above); at most 20,000 data rows (422
/// `too_many_rows`); an XLSX must inflate to at most 50 MiB in all, with no entry over
/// 1 MiB compressed more than 200:1 (422 `zip_bomb`); a body that is not a zip workbook
/// is a 422 `bad_file`; a CSV that is neither UTF-8 nor GB18030 a 422 `bad_encoding`;
/// a header without a required column a 422 `missing_column` per column.
#[utoipa::path(
    tag = "imports",
    params(
        ImportQuery,
        ("Accept-Language" = Option<String>, Header,
            description = "`zh-CN` (or any `zh`): the errors' messages in Chinese only; `en`: in English only; otherwise both, `中文 / English`. Codes, fields and `detail` never change"),
    ),
    request_body(
        description = "The file itself: CSV (UTF-8, UTF-8 with BOM, or GB18030) or XLSX, at most 5 MiB",
        content((CsvFile = "text/csv"), (XlsxFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")),
    ),
    responses(
        (status = 200, description = "This file was imported before by this school: its first result, `replayed: true`; nothing written", body = ImportResponse),
        (status = 201, description = "Imported: every purchase recorded", body = ImportResponse),
        (status = 403, description = "Not a canteen", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A purchase's derived idempotency key is already taken", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 5 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong Content-Type, unreadable file (bad_encoding, bad_file, zip_bomb), missing columns, too many rows, or bad cells (every one listed); nothing written", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/imports")]
pub async fn create_import(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: AuthUser,
    q: super::Query<ImportQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let lang = req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).and_then(language::preferred);
    import_file(state, req, user, q, payload).await.map_err(|e| in_language(e, lang))
}

/// The messages of a refused import in the caller's language (see `domain::language`);
/// codes, fields and `detail` stay as they are.
fn in_language(e: ApiError, lang: Option<language::Lang>) -> ApiError {
    let Some(lang) = lang else { return e };
    let narrowed = |errors: Vec<FieldError>| -> Vec<FieldError> {
        errors.into_iter().map(|f| FieldError { message: language::narrow(&f.message, lang).to_owned(), ..f }).collect()
    };
    match e {
        ApiError::Validation(errors) => ApiError::Validation(narrowed(errors)),
        ApiError::Conflict { slug, detail, errors } => ApiError::Conflict { slug, detail, errors: narrowed(errors) },
        other => other,
    }
}

async fn import_file(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: AuthUser,
    q: super::Query<ImportQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let school_id = service::importing_school(&user)?;
    let format = FileFormat::from_request(&req)?;
    let file_name = match q.into_inner().file_name {
        Some(n) if n.is_empty() || n.chars().count() > 255 => {
            return Err(ApiError::field("file_name", Code::BadLength, "1–255 characters"));
        }
        Some(n) => n,
        None => format!("upload.{}", format.name()),
    };
    let bytes = read_limited(&req, &mut payload.into_inner(), MAX_FILE).await?;
    let sha = hex::encode(Sha256::digest(&bytes));
    let (school, hash) = (school_id.clone(), sha.clone());
    if let Some(stored) = state.db.run(move |conn| service::replayed(conn, &school, &hash)).await? {
        return replay(&stored);
    }
    let today = today_cst();
    let plan = web::block(move || read_file(format, &bytes, school_id, today, sha, file_name))
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("blocking task failed: {e}")))??;
    match state.db.run(move |conn| service::import(conn, &user, plan, today)).await? {
        Imported::Created(body) => Ok(HttpResponse::Created().content_type("application/json").body(body)),
        Imported::Replayed(stored) => replay(&stored),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TemplateQuery {
    /// `csv` (default; UTF-8 with BOM) or `xlsx`.
    #[param(value_type = Option<TemplateFormat>)]
    pub format: Option<String>,
}

/// The file type of the import template (`format`), for the OpenAPI document; the handler
/// reads the text and answers its own 422 for another value.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum TemplateFormat {
    Csv,
    Xlsx,
}

/// The import template: the header row and one example row, as CSV (UTF-8 with BOM) or
/// XLSX (a second sheet states the rules). Readable by any signed-in caller.
#[utoipa::path(
    tag = "imports",
    params(TemplateQuery),
    responses(
        (status = 200, description = "The template file",
            content((CsvFile = "text/csv"), (XlsxFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")),
            headers(("Content-Disposition" = String, description = "`attachment; filename=\"purchases-template.csv\"`"))),
        (status = 422, description = "Unknown format", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/imports/template")]
pub async fn get_template(_user: AuthUser, q: super::Query<TemplateQuery>) -> Result<HttpResponse, ApiError> {
    let (format, bytes) = match q.into_inner().format.as_deref() {
        None | Some("csv") => (ExportFormat::Csv, template::csv()?),
        Some("xlsx") => (ExportFormat::Xlsx, template::xlsx()?),
        Some(_) => return Err(ApiError::field("format", Code::BadFormat, "use csv or xlsx")),
    };
    Ok(export::attachment(format, "purchases-template", bytes))
}

//! Exports of reports as CSV and XLSX files, built from the same response DTOs the JSON
//! answers carry, so a file holds exactly the JSON's figures.
//!
//! - CSV is UTF-8 with a byte-order mark (Excel then opens Chinese names correctly), one
//!   header row naming each column in Chinese and English (`单位代码 unit_code`).
//! - XLSX (rust_xlsxwriter) writes amounts, weights and shares as **text** cells holding
//!   the exact decimal strings (`"1234.50"`, `"0.5000"`), right-aligned: a number cell is
//!   an IEEE double, and exactness is the point of the ledger. Counts are number cells
//!   (integers far below 2^53 are exact), flags are boolean cells.
//! - Every file states the policy and the target it used, on every row, so a row copied
//!   elsewhere still carries them.
//!
//! May import anything (it is part of `http`); no SQL and no rules.

use actix_web::HttpResponse;
use actix_web::http::header;
use rust_decimal::Decimal;
use rust_xlsxwriter::{Format, FormatAlign, Workbook, Worksheet, XlsxError};
use utoipa::ToSchema;

use super::reports::{NamedRef, ShareReport, ShareRow, SilentSchoolsReport, TargetResponse};
use crate::error::ApiError;
use crate::error::Code;

/// Content type of CSV exports.
pub const CSV_TYPE: &str = "text/csv; charset=utf-8";
/// Content type of XLSX exports.
pub const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
/// The UTF-8 byte-order mark that starts every CSV export.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A CSV export (UTF-8 with BOM), for the OpenAPI document.
#[derive(Debug, ToSchema)]
pub struct CsvFile(pub String);

/// An XLSX workbook, for the OpenAPI document.
#[derive(Debug, ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct XlsxFile(pub Vec<u8>);

/// The representation a report is answered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Json,
    Csv,
    Xlsx,
}

impl ExportFormat {
    /// `format=` wins; otherwise the first acceptable type of `Accept` (by q-value) that
    /// names CSV or XLSX; otherwise JSON.
    pub fn negotiate(format: Option<&str>, accept: Option<&str>) -> Result<Self, ApiError> {
        match format {
            Some("json") => return Ok(Self::Json),
            Some("csv") => return Ok(Self::Csv),
            Some("xlsx") => return Ok(Self::Xlsx),
            Some(_) => return Err(ApiError::field("format", Code::BadFormat, "use json, csv or xlsx")),
            None => {}
        }
        let mut ranges: Vec<(&str, f32)> = accept
            .unwrap_or("")
            .split(',')
            .filter_map(|item| {
                let mut parts = item.split(';').map(str::trim);
                let essence = parts.next().filter(|e| !e.is_empty())?;
                let q = parts.find_map(|p| p.strip_prefix("q=")).and_then(|q| q.parse::<f32>().ok()).unwrap_or(1.0);
                (q > 0.0).then_some((essence, q))
            })
            .collect();
        // Stable: among equal q-values the client's order stands.
        ranges.sort_by(|a, b| b.1.total_cmp(&a.1));
        Ok(ranges
            .iter()
            .find_map(|(essence, _)| match essence.to_ascii_lowercase().as_str() {
                "text/csv" => Some(Self::Csv),
                XLSX_TYPE => Some(Self::Xlsx),
                "application/json" | "application/*" | "*/*" => Some(Self::Json),
                _ => None,
            })
            .unwrap_or(Self::Json))
    }
}

/// One cell of an exported table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Text(String),
    /// An exact decimal (amount, weight, share), kept as its string.
    Decimal(String),
    Count(i64),
    Flag(bool),
    Empty,
}

impl Cell {
    fn text(s: impl Into<String>) -> Self {
        Self::Text(s.into())
    }

    fn dec(d: Decimal) -> Self {
        Self::Decimal(d.to_string())
    }

    fn opt_dec(d: Option<Decimal>) -> Self {
        d.map_or(Self::Empty, Self::dec)
    }

    fn opt_flag(b: Option<bool>) -> Self {
        b.map_or(Self::Empty, Self::Flag)
    }

    fn opt_count(n: Option<i64>) -> Self {
        n.map_or(Self::Empty, Self::Count)
    }

    fn as_csv(&self) -> String {
        match self {
            Self::Text(s) | Self::Decimal(s) => s.clone(),
            Self::Count(n) => n.to_string(),
            Self::Flag(b) => b.to_string(),
            Self::Empty => String::new(),
        }
    }
}

/// A header row and data rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
}

/// The table as CSV bytes: BOM, header row, rows.
pub fn csv_bytes(table: &Table) -> Result<Vec<u8>, ApiError> {
    let internal = |e: csv::Error| ApiError::Internal(e.into());
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(BOM.to_vec());
    w.write_record(&table.headers).map_err(internal)?;
    for row in &table.rows {
        w.write_record(row.iter().map(Cell::as_csv)).map_err(internal)?;
    }
    w.into_inner().map_err(|e| ApiError::Internal(anyhow::anyhow!("csv: {e}")))
}

fn write_sheet(sheet: &mut Worksheet, table: &Table) -> Result<(), XlsxError> {
    let bold = Format::new().set_bold();
    let decimal = Format::new().set_align(FormatAlign::Right);
    for (c, h) in (0_u16..).zip(&table.headers) {
        sheet.write_string_with_format(0, c, *h, &bold)?;
    }
    for (r, row) in (1_u32..).zip(&table.rows) {
        for (c, cell) in (0_u16..).zip(row) {
            match cell {
                Cell::Text(s) => sheet.write_string(r, c, s)?,
                Cell::Decimal(s) => sheet.write_string_with_format(r, c, s, &decimal)?,
                // Counts (schools, purchases) are integers far below 2^53: exact as doubles.
                Cell::Count(n) => sheet.write_number(r, c, *n as f64)?,
                Cell::Flag(b) => sheet.write_boolean(r, c, *b)?,
                Cell::Empty => sheet,
            };
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofit();
    Ok(())
}

/// A workbook with one sheet per `(name, table)`, as bytes.
pub fn xlsx_bytes(sheets: &[(&str, &Table)]) -> Result<Vec<u8>, ApiError> {
    let internal = |e: XlsxError| ApiError::Internal(e.into());
    let mut wb = Workbook::new();
    for (name, table) in sheets {
        let sheet = wb.add_worksheet();
        sheet.set_name(*name).map_err(internal)?;
        write_sheet(sheet, table).map_err(internal)?;
    }
    wb.save_to_buffer().map_err(internal)
}

/// A file download: the content type of `format` and `attachment; filename="STEM.EXT"`
/// (the stem reduced to `[A-Za-z0-9._-]`).
pub fn attachment(format: ExportFormat, stem: &str, bytes: Vec<u8>) -> HttpResponse {
    let (content_type, ext) = match format {
        ExportFormat::Csv => (CSV_TYPE, "csv"),
        ExportFormat::Xlsx | ExportFormat::Json => (XLSX_TYPE, "xlsx"),
    };
    let stem: String = stem.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' }).collect();
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{stem}.{ext}\"")))
        .body(bytes)
}

/// A table as the export `format` asks (CSV or a one-sheet workbook).
pub fn table_file(format: ExportFormat, sheet: &str, stem: &str, table: &Table) -> Result<HttpResponse, ApiError> {
    let bytes = match format {
        ExportFormat::Csv => csv_bytes(table)?,
        ExportFormat::Xlsx | ExportFormat::Json => xlsx_bytes(&[(sheet, table)])?,
    };
    Ok(attachment(format, stem, bytes))
}

fn fraction(t: &TargetResponse) -> String {
    format!("{}/{}", t.numerator, t.denominator)
}

/// Columns of a share report export.
const SHARE_HEADERS: [&str; 38] = [
    "行 row",
    "单位类型 unit_kind",
    "单位代码 unit_code",
    "单位名称 unit_name",
    "期间 period",
    "期间起 period_from",
    "期间止 period_to",
    "分类类型 breakdown_kind",
    "分类代码 breakdown_code",
    "分类名称 breakdown_name",
    "采购总额 total",
    "贫困地区采购额 qualifying",
    "待认定额 pending",
    "占比 share",
    "是否达标 meets_target",
    "差额 shortfall",
    "采购重量千克 total_weight_kg",
    "贫困地区采购重量千克 qualifying_weight_kg",
    "采购笔数 purchases",
    "学校数 schools",
    "有采购学校数 reporting",
    "达标学校数 meeting_target",
    "无采购学校数 silent_schools",
    "无采购 silent",
    "双方确认金额 confirmed_total",
    "双方确认达标金额 confirmed_qualifying",
    "确认占比 confirmed_share",
    "已付 paid",
    "未付 unpaid",
    "逾期 overdue",
    "口径 policy",
    "目标 target",
    "目标分数 target_fraction",
    "范围 scope",
    "范围代码 scope_code",
    "起 from",
    "止 to",
    "逾期截至 as_of",
];

fn named_cells(n: Option<&NamedRef>) -> [Cell; 3] {
    match n {
        Some(n) => [Cell::text(&n.kind), Cell::text(&n.code), Cell::text(&n.name)],
        None => [Cell::Empty, Cell::Empty, Cell::Empty],
    }
}

fn share_row(report: &ShareReport, kind: &str, unit: Option<&NamedRef>, row: &ShareRow) -> Vec<Cell> {
    let mut cells = vec![Cell::text(kind)];
    cells.extend(named_cells(unit));
    match &row.period {
        Some(p) => cells.extend([Cell::text(&p.label), Cell::text(p.from.to_string()), Cell::text(p.to.to_string())]),
        None => cells.extend([Cell::Empty, Cell::Empty, Cell::Empty]),
    }
    cells.extend(named_cells(row.breakdown.as_ref()));
    let counts = row.schools.as_ref();
    cells.extend([
        Cell::dec(row.total),
        Cell::dec(row.qualifying),
        Cell::dec(row.pending),
        Cell::opt_dec(row.share),
        Cell::opt_flag(row.meets_target),
        Cell::opt_dec(row.shortfall),
        Cell::dec(row.total_weight_kg),
        Cell::dec(row.qualifying_weight_kg),
        Cell::Count(row.purchases),
        Cell::opt_count(counts.map(|c| c.schools)),
        Cell::opt_count(counts.map(|c| c.reporting)),
        Cell::opt_count(counts.map(|c| c.meeting_target)),
        Cell::opt_count(counts.map(|c| c.silent)),
        Cell::opt_flag(row.silent),
    ]);
    let settled = row.settlement.as_ref();
    cells.extend([
        settled.map_or(Cell::Empty, |s| Cell::dec(s.confirmed_total)),
        settled.map_or(Cell::Empty, |s| Cell::dec(s.confirmed_qualifying)),
        Cell::opt_dec(settled.and_then(|s| s.confirmed_share)),
        settled.map_or(Cell::Empty, |s| Cell::dec(s.paid)),
        settled.map_or(Cell::Empty, |s| Cell::dec(s.unpaid)),
        Cell::opt_dec(settled.and_then(|s| s.overdue)),
        Cell::text(&report.policy),
        Cell::dec(report.target.share),
        Cell::text(fraction(&report.target)),
        Cell::text(&report.scope.kind),
        Cell::text(&report.scope.code),
        Cell::text(report.from.to_string()),
        Cell::text(report.to.to_string()),
        report.as_of.map_or(Cell::Empty, |d| Cell::text(d.to_string())),
    ]);
    cells
}

/// A share report as a table: the summary first (`row` = `summary`, about the scope),
/// then every row (`row` = `row`) in the report's order.
pub fn share_table(report: &ShareReport) -> Table {
    let mut rows = vec![share_row(report, "summary", Some(&report.scope), &report.summary)];
    rows.extend(report.rows.iter().map(|r| share_row(report, "row", r.unit.as_ref(), r)));
    Table { headers: SHARE_HEADERS.to_vec(), rows }
}

/// Columns of a silent-school list export.
const SILENT_HEADERS: [&str; 13] = [
    "市州代码 prefecture_code",
    "市州名称 prefecture_name",
    "县代码 county_code",
    "县名称 county_name",
    "学校编号 school_id",
    "学校名称 school_name",
    "口径 policy",
    "目标 target",
    "目标分数 target_fraction",
    "范围 scope",
    "范围代码 scope_code",
    "起 from",
    "止 to",
];

/// A silent-school list as a table, one row per silent school.
pub fn silent_table(list: &SilentSchoolsReport) -> Table {
    let rows = list
        .silent
        .iter()
        .map(|s| {
            vec![
                Cell::text(&s.prefecture_code),
                Cell::text(&s.prefecture_name),
                Cell::text(&s.county_code),
                Cell::text(&s.county_name),
                Cell::text(&s.school_id),
                Cell::text(&s.school_name),
                Cell::text(&list.policy),
                list.target.as_ref().map_or(Cell::Empty, |t| Cell::dec(t.share)),
                list.target.as_ref().map_or(Cell::Empty, |t| Cell::text(fraction(t))),
                Cell::text(&list.scope.kind),
                Cell::text(&list.scope.code),
                Cell::text(list.from.to_string()),
                Cell::text(list.to.to_string()),
            ]
        })
        .collect();
    Table { headers: SILENT_HEADERS.to_vec(), rows }
}

/// The semi-monthly county workbook's sheets, in order.
pub const SEMI_MONTHLY_SHEETS: [&str; 4] = ["汇总 Summary", "学校 Schools", "标签 Tags", "品类 Categories"];

/// The semi-monthly county workbook: the county summary (with policy, target and
/// period), every school, and the breakdowns by tag and by category.
pub fn semi_monthly_xlsx(
    label: &str,
    by_school: &ShareReport,
    by_tag: &ShareReport,
    by_category: &ShareReport,
) -> Result<Vec<u8>, ApiError> {
    // A tag row's share is its qualifying amount over the county's total; a category
    // row's is over the category's own total (as in the JSON report).
    let tags = breakdown_table(by_tag, "标签 tag", "占全县采购比例 share");
    let categories = breakdown_table(by_category, "品类 category", "占比 share");
    xlsx_bytes(&[
        (SEMI_MONTHLY_SHEETS[0], &county_summary_table(label, by_school)),
        (SEMI_MONTHLY_SHEETS[1], &school_rows_table(by_school)),
        (SEMI_MONTHLY_SHEETS[2], &tags),
        (SEMI_MONTHLY_SHEETS[3], &categories),
    ])
}

/// Amount headers every sheet of the workbook shares, before the share column.
const AMOUNT_HEADERS: [&str; 3] = ["采购总额 total", "贫困地区采购额 qualifying", "待认定额 pending"];
/// Weight headers every sheet of the workbook shares.
const WEIGHT_HEADERS: [&str; 2] = ["采购重量千克 total_weight_kg", "贫困地区采购重量千克 qualifying_weight_kg"];
/// Target columns after the share, on the summary and school sheets.
const TARGET_HEADERS: [&str; 3] = ["占比 share", "是否达标 meets_target", "差额 shortfall"];

fn headers(parts: &[&[&'static str]]) -> Vec<&'static str> {
    parts.concat()
}

/// The summary sheet: one row for the county.
fn county_summary_table(label: &str, r: &ShareReport) -> Table {
    let s = &r.summary;
    let counts = s.schools.as_ref();
    let head = [
        "县代码 county_code",
        "县名称 county_name",
        "期间 period",
        "起 from",
        "止 to",
        "口径 policy",
        "目标 target",
        "目标分数 target_fraction",
    ];
    let tail =
        ["采购笔数 purchases", "学校数 schools", "有采购学校数 reporting", "达标学校数 meeting_target", "无采购学校数 silent_schools"];
    let row = vec![
        Cell::text(&r.scope.code),
        Cell::text(&r.scope.name),
        Cell::text(label),
        Cell::text(r.from.to_string()),
        Cell::text(r.to.to_string()),
        Cell::text(&r.policy),
        Cell::dec(r.target.share),
        Cell::text(fraction(&r.target)),
        Cell::dec(s.total),
        Cell::dec(s.qualifying),
        Cell::dec(s.pending),
        Cell::opt_dec(s.share),
        Cell::opt_flag(s.meets_target),
        Cell::opt_dec(s.shortfall),
        Cell::dec(s.total_weight_kg),
        Cell::dec(s.qualifying_weight_kg),
        Cell::Count(s.purchases),
        Cell::opt_count(counts.map(|c| c.schools)),
        Cell::opt_count(counts.map(|c| c.reporting)),
        Cell::opt_count(counts.map(|c| c.meeting_target)),
        Cell::opt_count(counts.map(|c| c.silent)),
    ];
    Table { headers: headers(&[&head, &AMOUNT_HEADERS, &TARGET_HEADERS, &WEIGHT_HEADERS, &tail]), rows: vec![row] }
}

/// A row's amounts, under [`AMOUNT_HEADERS`].
fn amount_cells(row: &ShareRow) -> [Cell; 3] {
    [Cell::dec(row.total), Cell::dec(row.qualifying), Cell::dec(row.pending)]
}

/// A row's weights, under [`WEIGHT_HEADERS`].
fn weight_cells(row: &ShareRow) -> [Cell; 2] {
    [Cell::dec(row.total_weight_kg), Cell::dec(row.qualifying_weight_kg)]
}

/// The schools sheet: one row per school of the county.
fn school_rows_table(r: &ShareReport) -> Table {
    let rows = r
        .rows
        .iter()
        .map(|row| {
            let [_, id, name] = named_cells(row.unit.as_ref());
            let target = [Cell::opt_dec(row.share), Cell::opt_flag(row.meets_target), Cell::opt_dec(row.shortfall)];
            let tail = [Cell::Count(row.purchases), Cell::opt_flag(row.silent)];
            [vec![id, name], amount_cells(row).into(), target.into(), weight_cells(row).into(), tail.into()].concat()
        })
        .collect();
    let head = ["学校编号 school_id", "学校名称 school_name"];
    let tail = ["采购笔数 purchases", "无采购 silent"];
    Table { headers: headers(&[&head, &AMOUNT_HEADERS, &TARGET_HEADERS, &WEIGHT_HEADERS, &tail]), rows }
}

/// A breakdown sheet (by tag or by category): its key, the amounts, its share, the weights.
fn breakdown_table(report: &ShareReport, first: &'static str, share_header: &'static str) -> Table {
    let rows = report
        .rows
        .iter()
        .map(|row| {
            let [_, code, _] = named_cells(row.breakdown.as_ref());
            [vec![code], amount_cells(row).into(), vec![Cell::opt_dec(row.share)], weight_cells(row).into()].concat()
        })
        .collect();
    Table { headers: headers(&[&[first], &AMOUNT_HEADERS, &[share_header], &WEIGHT_HEADERS]), rows }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_parameter_wins_over_accept() {
        assert_eq!(ExportFormat::negotiate(Some("json"), Some("text/csv")).ok(), Some(ExportFormat::Json));
        assert_eq!(ExportFormat::negotiate(Some("xlsx"), None).ok(), Some(ExportFormat::Xlsx));
        assert!(ExportFormat::negotiate(Some("pdf"), None).is_err());
    }

    #[test]
    fn accept_chooses_csv_or_xlsx_and_defaults_to_json() {
        let n = |a: &str| ExportFormat::negotiate(None, Some(a)).ok();
        assert_eq!(n("text/csv"), Some(ExportFormat::Csv));
        assert_eq!(n("text/csv; charset=utf-8"), Some(ExportFormat::Csv));
        assert_eq!(n(XLSX_TYPE), Some(ExportFormat::Xlsx));
        assert_eq!(n("application/json, text/csv"), Some(ExportFormat::Json));
        assert_eq!(n("application/json;q=0.5, text/csv"), Some(ExportFormat::Csv));
        assert_eq!(n("text/csv;q=0, application/xml"), Some(ExportFormat::Json));
        assert_eq!(n("*/*"), Some(ExportFormat::Json));
        assert_eq!(ExportFormat::negotiate(None, None).ok(), Some(ExportFormat::Json));
    }

    #[test]
    fn csv_starts_with_a_bom_and_keeps_decimals_and_chinese_exact() {
        let t = Table {
            headers: vec!["单位名称 unit_name", "采购总额 total", "学校数 schools", "无采购 silent", "占比 share"],
            rows: vec![vec![
                Cell::text("南明区, 贵阳"),
                Cell::dec(Decimal::new(123_450, 2)),
                Cell::Count(3),
                Cell::Flag(false),
                Cell::Empty,
            ]],
        };
        let bytes = csv_bytes(&t).unwrap_or_default();
        assert!(bytes.starts_with(BOM));
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap_or_default();
        assert_eq!(
            text,
            "单位名称 unit_name,采购总额 total,学校数 schools,无采购 silent,占比 share\r\n\"南明区, 贵阳\",1234.50,3,false,\r\n"
        );
    }

    #[test]
    fn a_workbook_is_a_zip_file() {
        let t = Table { headers: vec!["a"], rows: vec![vec![Cell::Decimal("0.10".into())]] };
        let bytes = xlsx_bytes(&[("报表 Report", &t)]).unwrap_or_default();
        assert!(bytes.starts_with(b"PK"));
    }
}

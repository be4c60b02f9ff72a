//! Exports of reports as CSV and XLSX files, built from the same response DTOs the JSON
//! answers carry, so a file holds exactly the JSON's figures.
//!
//! A [`Table`] holds typed [`Cell`]s and each format writes a cell its own way:
//!
//! - **CSV is for programs**: UTF-8 with a byte-order mark (Excel then opens Chinese names
//!   correctly), one header row naming each column in Chinese and English
//!   (`单位代码 unit_code`), then the rows: codes (`poor_household`, `true`) and the exact
//!   decimal text of every figure (`1234.50`, `0.5670`). Identical input, identical bytes.
//! - **XLSX is for people**: each sheet states its report above the table (title, scope,
//!   period, policy, target, the day overdue is as of, the export time), so a printed page
//!   stands alone; the table's header row is frozen and filtered, columns are sized for
//!   Chinese text, pages print on A4 landscape one page wide with the header repeated.
//!   Amounts are number cells (`#,##0.00`), weights numbers (`#,##0.000`), shares numbers
//!   (`0.00%`), dates date cells (`yyyy-mm-dd`), counts integers; vocabularies, kinds and
//!   yes/no are Chinese labels (建档立卡贫困户, 蔬菜, 是/否). Numbers are the double nearest
//!   the exact decimal ([`exact_number`]), which for the at most 15 significant digits of a
//!   ledger figure reads back, sums and shows as that decimal.
//! - Every visible sheet has a **hidden twin**, `<name> 精确值`, holding exactly the CSV's
//!   table as text cells (codes, exact decimals), for programs that read the workbook.
//! - Every row states the policy and the target it used, so a row copied elsewhere still
//!   carries them.
//!
//! May import anything (it is part of `http`); no SQL and no rules.

use actix_web::HttpResponse;
use actix_web::http::header;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use rust_xlsxwriter::{DocProperties, Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError};
use utoipa::ToSchema;

use super::reports::{NamedRef, ShareReport, ShareRow, SilentSchoolsReport, TargetResponse};
use crate::domain::catalog::yes_no;
use crate::domain::report::kind_zh;
use crate::error::ApiError;

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

/// The file an `…/export` operation answers (`format`): `csv` (UTF-8 with BOM, exact
/// decimal text and codes, for programs) or `xlsx` (typed cells and Chinese labels, for
/// people).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum ExportFormat {
    Csv,
    Xlsx,
}

/// The `format` parameter of an `…/export` operation (documentation; [`super::Export`] reads it).
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `csv` or `xlsx`.
    #[param(value_type = ExportFormat)]
    pub format: String,
}

/// One cell of an exported table, typed so that each format writes it its own way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Text(String),
    /// A code of a closed vocabulary (a tag, a category, a kind): the CSV writes the code,
    /// the workbook its Chinese label.
    Label {
        code: String,
        zh: String,
    },
    /// Yuan, exact.
    Amount(Decimal),
    /// Kilograms, exact.
    Weight(Decimal),
    /// A ratio (`0.5670`), shown as a percentage in the workbook.
    Share(Decimal),
    Date(NaiveDate),
    Count(i64),
    /// `true`/`false` in the CSV, 是/否 in the workbook.
    Flag(bool),
    Empty,
}

impl Cell {
    fn text(s: impl Into<String>) -> Self {
        Self::Text(s.into())
    }

    fn label(code: &str, zh: &str) -> Self {
        Self::Label { code: code.to_owned(), zh: zh.to_owned() }
    }

    /// What a row is about (`county`, `school`, `tag`…), labelled in Chinese.
    fn kind(kind: &str) -> Self {
        Self::label(kind, kind_zh(kind).unwrap_or(kind))
    }

    fn opt<T>(value: Option<T>, cell: impl FnOnce(T) -> Self) -> Self {
        value.map_or(Self::Empty, cell)
    }

    /// The text the CSV (and the workbook's hidden twin) holds.
    pub fn as_csv(&self) -> String {
        match self {
            Self::Text(s) | Self::Label { code: s, .. } => s.clone(),
            Self::Amount(d) | Self::Weight(d) | Self::Share(d) => d.to_string(),
            Self::Date(d) => d.to_string(),
            Self::Count(n) => n.to_string(),
            Self::Flag(b) => b.to_string(),
            Self::Empty => String::new(),
        }
    }

    /// Roughly how many columns of width the workbook shows the cell in.
    fn shown_width(&self) -> usize {
        match self {
            Self::Text(s) | Self::Label { zh: s, .. } => display_width(s),
            // Thousands separators.
            Self::Amount(d) | Self::Weight(d) => {
                let digits = d.to_string().len();
                digits + digits / 3
            }
            Self::Share(_) => 8,
            Self::Date(_) => 10,
            Self::Count(n) => n.to_string().len(),
            Self::Flag(_) => 2,
            Self::Empty => 0,
        }
    }
}

/// Columns of display width a text takes: CJK and full-width characters count two.
pub fn display_width(text: &str) -> usize {
    text.chars().map(|c| if c >= '\u{2E80}' { 2 } else { 1 }).sum()
}

/// The double nearest an exact decimal, when the decimal has at most 15 significant
/// digits — then the double reads back (shortest form), and Excel shows it, as exactly
/// that decimal; `None` beyond (the caller writes the decimal as text instead).
///
/// Exact by construction: the mantissa (below 10^15 < 2^53) and the power of ten (at
/// most 10^22) are both exact doubles, and IEEE division rounds the true quotient once.
pub fn exact_number(d: Decimal) -> Option<f64> {
    const POW10: [f64; 23] =
        [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];
    let mantissa = i64::try_from(d.mantissa()).ok().filter(|m| m.unsigned_abs() < 1_000_000_000_000_000)?;
    let scale = POW10.get(usize::try_from(d.scale()).ok()?)?;
    // |mantissa| < 10^15 < 2^53: exact.
    Some(mantissa as f64 / scale)
}

/// A header row and data rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
}

/// What a sheet states above its table, so that a printed page stands alone: a title and
/// `label：value` lines (the export time is added to every sheet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heading {
    pub title: String,
    pub facts: Vec<(&'static str, String)>,
}

/// One visible sheet of a workbook: its name, its heading and its table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sheet {
    pub name: &'static str,
    pub heading: Heading,
    pub table: Table,
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

/// The cell formats of a workbook.
struct Formats {
    title: Format,
    fact: Format,
    header: Format,
    amount: Format,
    weight: Format,
    share: Format,
    date: Format,
    count: Format,
    /// A figure too long for a double, kept as text.
    exact_text: Format,
}

impl Formats {
    fn new() -> Self {
        Self {
            title: Format::new().set_bold().set_font_size(14),
            fact: Format::new(),
            header: Format::new().set_bold().set_text_wrap().set_align(FormatAlign::Center).set_border_bottom(FormatBorder::Thin),
            amount: Format::new().set_num_format("#,##0.00"),
            weight: Format::new().set_num_format("#,##0.000"),
            share: Format::new().set_num_format("0.00%"),
            date: Format::new().set_num_format("yyyy-mm-dd"),
            count: Format::new().set_num_format("0"),
            exact_text: Format::new().set_align(FormatAlign::Right),
        }
    }

    fn write(&self, sheet: &mut Worksheet, row: u32, col: u16, cell: &Cell) -> Result<(), XlsxError> {
        let number = |sheet: &mut Worksheet, d: &Decimal, format: &Format| match exact_number(*d) {
            Some(x) => sheet.write_number_with_format(row, col, x, format).map(|_| ()),
            None => sheet.write_string_with_format(row, col, d.to_string(), &self.exact_text).map(|_| ()),
        };
        match cell {
            Cell::Text(s) | Cell::Label { zh: s, .. } => sheet.write_string(row, col, s).map(|_| ()),
            Cell::Amount(d) => number(sheet, d, &self.amount),
            Cell::Weight(d) => number(sheet, d, &self.weight),
            Cell::Share(d) => number(sheet, d, &self.share),
            Cell::Date(d) => sheet.write_date_with_format(row, col, d, &self.date).map(|_| ()),
            // Counts (schools, purchases) are integers far below 2^53: exact as doubles.
            Cell::Count(n) => number(sheet, &Decimal::from(*n), &self.count),
            Cell::Flag(b) => sheet.write_string(row, col, yes_no(*b)).map(|_| ()),
            Cell::Empty => Ok(()),
        }
    }
}

/// Facts per line of a heading: few lines, so that the rows frozen above the table leave
/// the screen to the table.
const FACTS_PER_LINE: usize = 3;

/// What separates two facts on a line (two ideographic spaces).
pub const FACT_SEPARATOR: &str = "\u{3000}\u{3000}";

/// The heading's lines under the title: `label：value` facts (the export time last), a few
/// to a line.
fn fact_lines(heading: &Heading, exported_at: &str) -> Vec<String> {
    let facts: Vec<String> = heading
        .facts
        .iter()
        .map(|(label, value)| format!("{label}：{value}"))
        .chain([format!("导出时间 exported at：{exported_at}")])
        .collect();
    facts.chunks(FACTS_PER_LINE).map(|line| line.join(FACT_SEPARATOR)).collect()
}

/// A visible sheet: the heading, then the table under a frozen, filtered header row,
/// columns sized for their text, printed A4 landscape one page wide.
fn write_sheet(sheet: &mut Worksheet, s: &Sheet, exported_at: &str, f: &Formats) -> Result<(), XlsxError> {
    sheet.set_name(s.name)?;
    sheet.write_string_with_format(0, 0, &s.heading.title, &f.title)?;
    let lines = fact_lines(&s.heading, exported_at);
    for (r, line) in (1_u32..).zip(&lines) {
        sheet.write_string_with_format(r, 0, line, &f.fact)?;
    }
    // The title, the fact lines, a blank row, then the header row.
    let top = u32::try_from(lines.len()).unwrap_or(u32::MAX).saturating_add(2);
    let mut widths: Vec<usize> = s.table.headers.iter().map(|h| h.split(' ').map(display_width).max().unwrap_or(0)).collect();
    for (c, h) in (0_u16..).zip(&s.table.headers) {
        sheet.write_string_with_format(top, c, *h, &f.header)?;
    }
    sheet.set_row_height(top, 32)?;
    let mut last = top;
    for (r, row) in (top + 1..).zip(&s.table.rows) {
        for ((c, cell), width) in (0_u16..).zip(row).zip(widths.iter_mut()) {
            f.write(sheet, r, c, cell)?;
            *width = (*width).max(cell.shown_width());
        }
        last = r;
    }
    for (c, width) in (0_u16..).zip(&widths) {
        sheet.set_column_width(c, f64::from(u16::try_from((*width).clamp(6, 48) + 2).unwrap_or(50)))?;
    }
    let last_col = u16::try_from(s.table.headers.len().saturating_sub(1)).unwrap_or(u16::MAX);
    sheet.set_freeze_panes(top + 1, 0)?;
    sheet.autofilter(top, 0, last, last_col)?;
    sheet.set_repeat_rows(top, top)?;
    sheet.set_paper_size(9).set_landscape().set_print_fit_to_pages(1, 0).set_footer("&C第 &P 页，共 &N 页");
    Ok(())
}

/// The hidden twin of a visible sheet: the CSV's table, every cell as its exact text.
fn write_exact(sheet: &mut Worksheet, name: &str, table: &Table) -> Result<(), XlsxError> {
    sheet.set_name(format!("{name} {EXACT_SUFFIX}"))?;
    sheet.set_hidden(true);
    for (c, h) in (0_u16..).zip(&table.headers) {
        sheet.write_string(0, c, *h)?;
    }
    for (r, row) in (1_u32..).zip(&table.rows) {
        for (c, cell) in (0_u16..).zip(row) {
            let text = cell.as_csv();
            if !text.is_empty() {
                sheet.write_string(r, c, text)?;
            }
        }
    }
    Ok(())
}

/// What ends the name of a visible sheet's hidden twin (`报表 Report 精确值`).
pub const EXACT_SUFFIX: &str = "精确值";

/// The export time as a Chinese reader reads it, in China Standard Time.
fn exported_at_text(at: DateTime<Utc>) -> String {
    (at + chrono::Duration::hours(8)).format("%Y年%-m月%-d日 %H:%M:%S（北京时间 UTC+8）").to_string()
}

/// A workbook of the visible `sheets`, in order, then their hidden twins, as bytes; made
/// `exported_at` (stamped on every sheet and as the workbook's creation time, so the same
/// report at the same instant gives the same bytes).
pub fn xlsx_bytes(sheets: &[Sheet], exported_at: DateTime<Utc>) -> Result<Vec<u8>, ApiError> {
    let build = || -> Result<Vec<u8>, XlsxError> {
        let mut wb = Workbook::new();
        wb.set_properties(&DocProperties::new().set_creation_datetime(&exported_at));
        let (formats, shown) = (Formats::new(), exported_at_text(exported_at));
        for s in sheets {
            write_sheet(wb.add_worksheet(), s, &shown, &formats)?;
        }
        for s in sheets {
            write_exact(wb.add_worksheet(), s.name, &s.table)?;
        }
        wb.save_to_buffer()
    };
    build().map_err(|e| ApiError::Internal(e.into()))
}

/// A file download: the content type of `format` and `attachment; filename="STEM.EXT"`
/// (the stem reduced to `[A-Za-z0-9._-]`).
pub fn attachment(format: ExportFormat, stem: &str, bytes: Vec<u8>) -> HttpResponse {
    let (content_type, ext) = match format {
        ExportFormat::Csv => (CSV_TYPE, "csv"),
        ExportFormat::Xlsx => (XLSX_TYPE, "xlsx"),
    };
    let stem: String = stem.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' }).collect();
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{stem}.{ext}\"")))
        .body(bytes)
}

/// A sheet as the export `format` asks: its table as CSV, or a one-sheet workbook.
pub fn sheet_file(format: ExportFormat, stem: &str, sheet: Sheet, exported_at: DateTime<Utc>) -> Result<HttpResponse, ApiError> {
    let bytes = match format {
        ExportFormat::Csv => csv_bytes(&sheet.table)?,
        ExportFormat::Xlsx => xlsx_bytes(&[sheet], exported_at)?,
    };
    Ok(attachment(format, stem, bytes))
}

// ---- The heading lines ----

/// `南明区（县区 520102）`.
fn scope_text(scope: &NamedRef) -> String {
    format!("{}（{} {}）", scope.name, kind_zh(&scope.kind).unwrap_or(&scope.kind), scope.code)
}

/// `2019-03-01 至 2019-03-15`, with the period's name when it has one.
fn period_text(from: NaiveDate, to: NaiveDate, name: Option<&str>) -> String {
    match name {
        Some(name) => format!("{name}（{from} 至 {to}）"),
        None => format!("{from} 至 {to}"),
    }
}

fn policy_text(policy: &str, require_confirmation: bool) -> String {
    if require_confirmation {
        format!("{policy}（只计双方确认的采购 / only purchases both parties confirmed count）")
    } else {
        format!("{policy}（计入全部登记的采购 / every recorded purchase counts）")
    }
}

/// `50.00%（1/2）`.
fn target_text(target: Option<&TargetResponse>) -> String {
    match target {
        Some(t) => format!("{:.2}%（{}）", t.share * Decimal::ONE_HUNDRED, fraction(t)),
        None => "期间跨年，各年目标不同 / the period spans years with different targets".into(),
    }
}

fn fraction(t: &TargetResponse) -> String {
    format!("{}/{}", t.numerator, t.denominator)
}

/// The heading of a share report (or of one sheet of the semi-monthly workbook).
fn share_heading(title: String, r: &ShareReport, period_name: Option<&str>) -> Heading {
    let mut facts = vec![("范围 scope", scope_text(&r.scope)), ("期间 period", period_text(r.from, r.to, period_name))];
    if !r.group_by.is_empty() {
        let dims: Vec<&str> = r.group_by.iter().map(|g| kind_zh(g).unwrap_or(g)).collect();
        facts.push(("分组 group by", dims.join("、")));
    }
    facts.push(("口径 policy", policy_text(&r.policy, r.require_confirmation)));
    facts.push(("目标 target", target_text(Some(&r.target))));
    if let Some(as_of) = r.as_of {
        facts.push(("逾期截至 overdue as of", as_of.to_string()));
    }
    Heading { title, facts }
}

// ---- The columns of a share row ----

/// A figure column of a share row: its header and its cell, declared together so that
/// every sheet built from share rows has one way to write each figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fig {
    Total,
    Qualifying,
    Pending,
    Share,
    /// A tag row's share, which is over the county's total (as in the JSON report).
    ShareOfCounty,
    MeetsTarget,
    Shortfall,
    TotalWeight,
    QualifyingWeight,
    Purchases,
    Schools,
    Reporting,
    MeetingTarget,
    SilentSchools,
    Silent,
    ConfirmedTotal,
    ConfirmedQualifying,
    ConfirmedShare,
    Paid,
    Unpaid,
    Overdue,
}

impl Fig {
    const fn header(self) -> &'static str {
        match self {
            Self::Total => "采购总额 total",
            Self::Qualifying => "贫困地区采购额 qualifying",
            Self::Pending => "待认定额 pending",
            Self::Share => "占比 share",
            Self::ShareOfCounty => "占全县采购比例 share",
            Self::MeetsTarget => "是否达标 meets_target",
            Self::Shortfall => "差额 shortfall",
            Self::TotalWeight => "采购重量千克 total_weight_kg",
            Self::QualifyingWeight => "贫困地区采购重量千克 qualifying_weight_kg",
            Self::Purchases => "采购笔数 purchases",
            Self::Schools => "学校数 schools",
            Self::Reporting => "有采购学校数 reporting",
            Self::MeetingTarget => "达标学校数 meeting_target",
            Self::SilentSchools => "无采购学校数 silent_schools",
            Self::Silent => "无采购 silent",
            Self::ConfirmedTotal => "双方确认金额 confirmed_total",
            Self::ConfirmedQualifying => "双方确认达标金额 confirmed_qualifying",
            Self::ConfirmedShare => "确认占比 confirmed_share",
            Self::Paid => "已付 paid",
            Self::Unpaid => "未付 unpaid",
            Self::Overdue => "逾期 overdue",
        }
    }

    fn cell(self, row: &ShareRow) -> Cell {
        let counts = row.schools.as_ref();
        let settled = row.settlement.as_ref();
        match self {
            Self::Total => Cell::Amount(row.total),
            Self::Qualifying => Cell::Amount(row.qualifying),
            Self::Pending => Cell::Amount(row.pending),
            Self::Share | Self::ShareOfCounty => Cell::opt(row.share, Cell::Share),
            Self::MeetsTarget => Cell::opt(row.meets_target, Cell::Flag),
            Self::Shortfall => Cell::opt(row.shortfall, Cell::Amount),
            Self::TotalWeight => Cell::Weight(row.total_weight_kg),
            Self::QualifyingWeight => Cell::Weight(row.qualifying_weight_kg),
            Self::Purchases => Cell::Count(row.purchases),
            Self::Schools => Cell::opt(counts.map(|c| c.schools), Cell::Count),
            Self::Reporting => Cell::opt(counts.map(|c| c.reporting), Cell::Count),
            Self::MeetingTarget => Cell::opt(counts.map(|c| c.meeting_target), Cell::Count),
            Self::SilentSchools => Cell::opt(counts.map(|c| c.silent), Cell::Count),
            Self::Silent => Cell::opt(row.silent, Cell::Flag),
            Self::ConfirmedTotal => Cell::opt(settled.map(|s| s.confirmed_total), Cell::Amount),
            Self::ConfirmedQualifying => Cell::opt(settled.map(|s| s.confirmed_qualifying), Cell::Amount),
            Self::ConfirmedShare => Cell::opt(settled.and_then(|s| s.confirmed_share), Cell::Share),
            Self::Paid => Cell::opt(settled.map(|s| s.paid), Cell::Amount),
            Self::Unpaid => Cell::opt(settled.map(|s| s.unpaid), Cell::Amount),
            Self::Overdue => Cell::opt(settled.and_then(|s| s.overdue), Cell::Amount),
        }
    }
}

/// The figures of a row of the share report, the county summary and the school sheet, in
/// this order (the summary and the school sheet take a part of it).
const FIGURES: [Fig; 20] = [
    Fig::Total,
    Fig::Qualifying,
    Fig::Pending,
    Fig::Share,
    Fig::MeetsTarget,
    Fig::Shortfall,
    Fig::TotalWeight,
    Fig::QualifyingWeight,
    Fig::Purchases,
    Fig::Schools,
    Fig::Reporting,
    Fig::MeetingTarget,
    Fig::SilentSchools,
    Fig::Silent,
    Fig::ConfirmedTotal,
    Fig::ConfirmedQualifying,
    Fig::ConfirmedShare,
    Fig::Paid,
    Fig::Unpaid,
    Fig::Overdue,
];

/// The county summary's figures: the amounts, the target test, the weights, the counts.
const SUMMARY_FIGURES: &[Fig] = FIGURES.split_at(13).0;
/// A school's figures on the semi-monthly school sheet.
const SCHOOL_FIGURES: [Fig; 10] = [
    Fig::Total,
    Fig::Qualifying,
    Fig::Pending,
    Fig::Share,
    Fig::MeetsTarget,
    Fig::Shortfall,
    Fig::TotalWeight,
    Fig::QualifyingWeight,
    Fig::Purchases,
    Fig::Silent,
];

/// The leading columns of a table and then the figures `figs`: headers and rows built
/// from the same list, so they cannot drift apart.
fn figure_table<'a, T: 'a>(
    lead: &[&'static str],
    figs: &[Fig],
    tail: &[&'static str],
    items: impl IntoIterator<Item = (&'a ShareRow, T)>,
    cells: impl Fn(&'a ShareRow, T) -> (Vec<Cell>, Vec<Cell>),
) -> Table {
    let headers = lead.iter().copied().chain(figs.iter().map(|f| f.header())).chain(tail.iter().copied()).collect();
    let rows = items
        .into_iter()
        .map(|(row, extra)| {
            let (head, end) = cells(row, extra);
            head.into_iter().chain(figs.iter().map(|f| f.cell(row))).chain(end).collect()
        })
        .collect();
    Table { headers, rows }
}

/// The columns every share-report row carries about the report itself.
const REPORT_HEADERS: [&str; 8] = [
    "口径 policy",
    "目标 target",
    "目标分数 target_fraction",
    "范围 scope",
    "范围名称 scope_name",
    "范围代码 scope_code",
    "起 from",
    "止 to",
];

/// The report's policy, target, scope and range, under [`REPORT_HEADERS`].
fn report_cells(policy: &str, target: Option<&TargetResponse>, scope: &NamedRef, from: NaiveDate, to: NaiveDate) -> Vec<Cell> {
    vec![
        Cell::text(policy),
        Cell::opt(target, |t| Cell::Share(t.share)),
        Cell::opt(target, |t| Cell::text(fraction(t))),
        Cell::kind(&scope.kind),
        Cell::text(&scope.name),
        Cell::text(&scope.code),
        Cell::Date(from),
        Cell::Date(to),
    ]
}

/// Kind, name and code of what a row is about (name before code: people look for the name).
fn named_cells(n: Option<&NamedRef>) -> [Cell; 3] {
    match n {
        Some(n) => [Cell::kind(&n.kind), Cell::text(&n.name), Cell::text(&n.code)],
        None => [Cell::Empty, Cell::Empty, Cell::Empty],
    }
}

/// A share report's table: the summary first (`row` = `summary`, about the scope), then
/// every row (`row` = `row`) in the report's order.
pub fn share_table(report: &ShareReport) -> Table {
    let lead = [
        "行 row",
        "单位类型 unit_kind",
        "单位名称 unit_name",
        "单位代码 unit_code",
        "期间 period",
        "期间起 period_from",
        "期间止 period_to",
        "分类类型 breakdown_kind",
        "分类名称 breakdown_name",
        "分类代码 breakdown_code",
    ];
    let tail: Vec<&str> = REPORT_HEADERS.into_iter().chain(["逾期截至 as_of"]).collect();
    let summary = (&report.summary, (Cell::label("summary", "合计"), Some(&report.scope)));
    let rows = report.rows.iter().map(|r| (r, (Cell::label("row", "明细"), r.unit.as_ref())));
    figure_table(&lead, &FIGURES, &tail, std::iter::once(summary).chain(rows), |row, (kind, unit)| {
        let mut head = vec![kind];
        head.extend(named_cells(unit));
        match &row.period {
            Some(p) => head.extend([Cell::text(&p.label), Cell::Date(p.from), Cell::Date(p.to)]),
            None => head.extend([Cell::Empty, Cell::Empty, Cell::Empty]),
        }
        head.extend(named_cells(row.breakdown.as_ref()));
        let mut end = report_cells(&report.policy, Some(&report.target), &report.scope, report.from, report.to);
        end.push(Cell::opt(report.as_of, Cell::Date));
        (head, end)
    })
}

/// A share report as one sheet.
pub fn share_sheet(report: &ShareReport) -> Sheet {
    let title = format!("{} 贫困地区农产品采购占比报表 / Poverty-area procurement share report", report.scope.name);
    Sheet { name: "报表 Report", heading: share_heading(title, report, None), table: share_table(report) }
}

/// Columns of a silent-school list export: the school first, by name.
const SILENT_HEADERS: [&str; 6] = [
    "学校名称 school_name",
    "学校编号 school_id",
    "县名称 county_name",
    "县代码 county_code",
    "市州名称 prefecture_name",
    "市州代码 prefecture_code",
];

/// A silent-school list as a table, one row per silent school.
pub fn silent_table(list: &SilentSchoolsReport) -> Table {
    let headers = SILENT_HEADERS.into_iter().chain(REPORT_HEADERS).collect();
    let rows = list
        .silent
        .iter()
        .map(|s| {
            let school = [&s.school_name, &s.school_id, &s.county_name, &s.county_code, &s.prefecture_name, &s.prefecture_code];
            let report = report_cells(&list.policy, list.target.as_ref(), &list.scope, list.from, list.to);
            school.into_iter().map(Cell::text).chain(report).collect()
        })
        .collect();
    Table { headers, rows }
}

/// A silent-school list as one sheet.
pub fn silent_sheet(list: &SilentSchoolsReport) -> Sheet {
    let heading = Heading {
        title: format!("{} 无采购学校名单 / Schools with no purchase", list.scope.name),
        facts: vec![
            ("范围 scope", scope_text(&list.scope)),
            ("期间 period", period_text(list.from, list.to, None)),
            ("口径 policy", list.policy.clone()),
            ("目标 target", target_text(list.target.as_ref())),
            (
                "学校 schools",
                format!(
                    "登记 {} 所，无采购 {} 所 / {} registered, {} silent",
                    list.schools,
                    list.silent.len(),
                    list.schools,
                    list.silent.len()
                ),
            ),
        ],
    };
    Sheet { name: "无采购学校 Silent", heading, table: silent_table(list) }
}

/// The semi-monthly county workbook's visible sheets, in order (each has its hidden twin
/// after them).
pub const SEMI_MONTHLY_SHEETS: [&str; 4] = ["汇总 Summary", "学校 Schools", "标签 Tags", "品类 Categories"];

/// The semi-monthly county workbook: the county summary (with policy, target and
/// period), every school, and the breakdowns by tag and by category. `label` is the
/// half-month (`2019-03-H1`), `name` its Chinese name (`2019年3月上半月`).
pub fn semi_monthly_xlsx(
    (label, name): (&str, &str),
    by_school: &ShareReport,
    by_tag: &ShareReport,
    by_category: &ShareReport,
    exported_at: DateTime<Utc>,
) -> Result<Vec<u8>, ApiError> {
    let sheet = |i: usize, what: &str, report: &ShareReport, table: Table| Sheet {
        name: SEMI_MONTHLY_SHEETS[i],
        heading: share_heading(format!("{} {name} 贫困地区农产品采购半月报：{what}", report.scope.name), report, Some(name)),
        table,
    };
    let summary = figure_table(
        &[
            "县名称 county_name",
            "县代码 county_code",
            "期间 period",
            "起 from",
            "止 to",
            "口径 policy",
            "目标 target",
            "目标分数 target_fraction",
        ],
        SUMMARY_FIGURES,
        &[],
        [(&by_school.summary, ())],
        |_, ()| {
            let r = by_school;
            let head = vec![
                Cell::text(&r.scope.name),
                Cell::text(&r.scope.code),
                Cell::text(label),
                Cell::Date(r.from),
                Cell::Date(r.to),
                Cell::text(&r.policy),
                Cell::Share(r.target.share),
                Cell::text(fraction(&r.target)),
            ];
            (head, Vec::new())
        },
    );
    let schools = figure_table(
        &["学校名称 school_name", "学校编号 school_id"],
        &SCHOOL_FIGURES,
        &[],
        by_school.rows.iter().map(|r| (r, ())),
        |row, ()| {
            let [_, name, id] = named_cells(row.unit.as_ref());
            (vec![name, id], Vec::new())
        },
    );
    xlsx_bytes(
        &[
            sheet(0, "汇总", by_school, summary),
            sheet(1, "学校", by_school, schools),
            sheet(2, "标签", by_tag, breakdown_table(by_tag, "标签 tag", Fig::ShareOfCounty)),
            sheet(3, "品类", by_category, breakdown_table(by_category, "品类 category", Fig::Share)),
        ],
        exported_at,
    )
}

/// A breakdown sheet (by tag or by category): its key (labelled in Chinese), the amounts,
/// its share, the weights.
fn breakdown_table(report: &ShareReport, key: &'static str, share: Fig) -> Table {
    let figs = [Fig::Total, Fig::Qualifying, Fig::Pending, share, Fig::TotalWeight, Fig::QualifyingWeight];
    figure_table(&[key], &figs, &[], report.rows.iter().map(|r| (r, ())), |row, ()| {
        let key = row.breakdown.as_ref().map_or(Cell::Empty, |b| Cell::label(&b.code, &b.name));
        (vec![key], Vec::new())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_starts_with_a_bom_and_keeps_decimals_codes_and_chinese_exact() {
        let t = Table {
            headers: vec!["单位名称 unit_name", "采购总额 total", "学校数 schools", "无采购 silent", "占比 share", "标签 tag", "起 from"],
            rows: vec![vec![
                Cell::text("南明区, 贵阳"),
                Cell::Amount(Decimal::new(123_450, 2)),
                Cell::Count(3),
                Cell::Flag(false),
                Cell::Empty,
                Cell::label("poor_household", "建档立卡贫困户"),
                Cell::Date(NaiveDate::from_ymd_opt(2019, 3, 1).unwrap()),
            ]],
        };
        let bytes = csv_bytes(&t).unwrap_or_default();
        assert!(bytes.starts_with(BOM));
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap_or_default();
        assert_eq!(
            text,
            "单位名称 unit_name,采购总额 total,学校数 schools,无采购 silent,占比 share,标签 tag,起 from\r\n\"南明区, 贵阳\",1234.50,3,false,,poor_household,2019-03-01\r\n"
        );
        assert_eq!(csv_bytes(&t).unwrap_or_default(), bytes, "identical input, identical bytes");
    }

    /// `fen` as the exact decimal of yuan, and the double written for it.
    fn yuan_and_number(fen: i64) -> (Decimal, Option<f64>) {
        let d = Decimal::new(fen, 2);
        (d, exact_number(d))
    }

    #[test]
    fn an_amount_becomes_the_double_that_reads_back_as_exactly_its_decimal() {
        let mut fens = vec![0, 1, -1, 5, 10, 99, 100, 101, 12_345, 4_590, 10_000_000_000, 999_999_999_999_999, -999_999_999_999_999];
        // 0.1 + 0.2 style values, and every power of two near the 15-digit edge.
        fens.extend([10, 20, 30, 70, 110, 330]);
        fens.extend((40..50).map(|p| (1_i64 << p) + 1));
        // A deterministic spread of every magnitude (a linear congruential sequence).
        let mut x: u64 = 20_190_301;
        for _ in 0..20_000 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let digits = 1 + (x >> 60) as u32 % 15;
            fens.push(i64::try_from((x >> 3) % 10_u64.pow(digits)).unwrap());
        }
        for fen in fens {
            let (d, number) = yuan_and_number(fen);
            let n = number.unwrap_or_else(|| panic!("{d} fits a double"));
            // Shortest form (what Excel and openpyxl read back) is the decimal itself…
            assert_eq!(n.to_string().parse::<Decimal>().unwrap(), d, "{fen}");
            // …and two places print it exactly, as `#,##0.00` shows it.
            assert_eq!(format!("{n:.2}"), d.to_string(), "{fen}");
        }
        // Shares (4 places) and weights (3 places) alike.
        for (m, scale) in [(5670, 4), (10_000, 4), (1, 4), (512_500, 3), (1, 3), (999_999_999_999_999, 3)] {
            let d = Decimal::new(m, scale);
            assert_eq!(exact_number(d).map(|n| n.to_string().parse::<Decimal>().unwrap()), Some(d));
        }
        assert_eq!(exact_number(Decimal::new(5670, 4)), Some(0.567));
    }

    #[test]
    fn a_figure_beyond_15_digits_is_not_made_a_double() {
        assert_eq!(yuan_and_number(1_000_000_000_000_000).1, None, "16 digits: kept as text");
        assert_eq!(yuan_and_number(i64::MAX).1, None);
        assert_eq!(exact_number(Decimal::MAX), None);
        // 15 significant digits at the smallest scale Decimal has is still exact.
        assert!(exact_number(Decimal::new(123_456_789_012_345, 28)).is_none(), "10^28 is not an exact double");
        assert_eq!(exact_number(Decimal::new(123_456_789_012_345, 22)), Some(123_456_789_012_345.0 / 1e22));
    }

    fn sheet() -> Sheet {
        Sheet {
            name: "报表 Report",
            heading: Heading { title: "标题".into(), facts: vec![("范围 scope", "南明区（县区 520102）".into())] },
            table: Table { headers: vec!["采购总额 total"], rows: vec![vec![Cell::Amount(Decimal::new(10, 2))]] },
        }
    }

    #[test]
    fn the_same_workbook_at_the_same_instant_has_the_same_bytes() {
        let at = DateTime::from_timestamp(1_552_000_000, 0).unwrap();
        let bytes = xlsx_bytes(&[sheet()], at).unwrap_or_default();
        assert!(bytes.starts_with(b"PK"));
        assert_eq!(xlsx_bytes(&[sheet()], at).unwrap_or_default(), bytes);
        assert_ne!(xlsx_bytes(&[sheet()], at + chrono::Duration::seconds(1)).unwrap_or_default(), bytes);
    }

    #[test]
    fn widths_count_chinese_characters_twice() {
        assert_eq!(display_width("total"), 5);
        assert_eq!(display_width("采购总额"), 8);
        assert_eq!(display_width("A小学（县区 520102）"), 1 + 4 + 2 + 4 + 1 + 6 + 2);
        assert_eq!(exported_at_text(DateTime::from_timestamp(1_552_000_000, 0).unwrap()), "2019年3月8日 07:06:40（北京时间 UTC+8）");
    }
}

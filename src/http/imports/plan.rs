//! From the rows of an uploaded file (CSV or XLSX alike) to an import plan.
//!
//! The first non-blank row is the header; every later non-blank row is one purchase line.
//! Each cell is read into the type `POST /purchases` takes, rows with the same (supplier,
//! date, invoice number) are grouped into a `CreatePurchaseRequest`, and that request is
//! checked by `http::purchases::parse_purchase` — the very rules of `POST /purchases`.
//! Every bad cell is collected (nothing stops at the first); only a file that cannot be
//! read as a table at all (no header, missing columns, too many rows) stops early.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::domain::catalog::{Category, Unit};
use crate::domain::import::{CellError, Column, MAX_ROWS, category_from_text, unit_from_text};
use crate::domain::money::{AMOUNT_DIGITS, Money, QUANTITY_DIGITS, Quantity, UNIT_PRICE_DIGITS, UnitPrice, parse_decimal_text};
use crate::domain::text::has_control;
use crate::error::Code;
use crate::error::{ApiError, FieldError};
use crate::http::purchases::{CreatePurchaseRequest, parse_purchase};
use crate::service::imports::{ImportPlan, PlannedPurchase};
use crate::service::views::purchase::LineRequest;

/// One cell as a reader found it.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Cell {
    #[default]
    Empty,
    Text(String),
    /// A number cell, as the shortest decimal text that reads back to the stored value
    /// (never used for arithmetic).
    Number(String),
    /// A date cell.
    Date(NaiveDate),
    /// A cell holding a formula (refused: its value is whatever the spreadsheet last
    /// computed, and may be a float artefact).
    Formula,
    /// A cell holding an error value such as `#DIV/0!`.
    Error(String),
}

impl Cell {
    fn is_blank(&self) -> bool {
        match self {
            Self::Empty => true,
            Self::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }
}

/// A line of a purchase, typed, with its identity for spotting repeated rows.
struct Line {
    row: u32,
    request: LineRequest,
    json: Value,
    signature: String,
}

/// The rows sharing one (supplier, date, invoice number).
struct Group {
    supplier_id: String,
    purchase_date: NaiveDate,
    invoice_no: Option<String>,
    lines: Vec<Line>,
    /// All rows of the group, including those whose line is invalid.
    rows: Vec<u32>,
    /// Some row of the group has a bad cell: the group is checked, never planned.
    broken: bool,
}

/// Collects rows as a reader streams them.
pub struct Collector {
    school_id: String,
    today: NaiveDate,
    /// The column each sheet column holds, once the header is read.
    header: Option<Vec<Option<Column>>>,
    data_rows: usize,
    groups: Vec<Group>,
    group_of: HashMap<(String, NaiveDate, Option<String>), usize>,
    /// Lines of rows whose supplier or date is unusable: checked on their own.
    loose: Vec<Line>,
    supplier_rows: BTreeMap<String, Vec<u32>>,
    errors: Vec<CellError>,
}

impl Collector {
    pub fn new(school_id: String, today: NaiveDate) -> Self {
        Self {
            school_id,
            today,
            header: None,
            data_rows: 0,
            groups: Vec::new(),
            group_of: HashMap::new(),
            loose: Vec::new(),
            supplier_rows: BTreeMap::new(),
            errors: Vec::new(),
        }
    }

    /// Takes the next row (`number` as the spreadsheet numbers it, from 1). Fails fast
    /// on a header without the required columns and on the row after the last allowed.
    pub fn push(&mut self, number: u32, cells: Vec<Cell>) -> Result<(), ApiError> {
        let Some(header) = &self.header else {
            if !cells.iter().all(Cell::is_blank) {
                self.header = Some(read_header(&cells)?);
            }
            return Ok(());
        };
        let mut row: [Cell; 9] = Default::default();
        for (cell, column) in cells.into_iter().zip(header.iter()) {
            if let Some(c) = column {
                row[c.index()] = cell;
            }
        }
        if row.iter().all(Cell::is_blank) {
            return Ok(());
        }
        self.data_rows += 1;
        if self.data_rows > MAX_ROWS {
            return Err(ApiError::field(
                "body",
                Code::TooManyRows,
                format!("文件最多{MAX_ROWS}行数据，请拆分后分别导入 / a file may hold at most {MAX_ROWS} data rows: split it"),
            ));
        }
        self.take_row(number, row);
        Ok(())
    }

    fn take_row(&mut self, number: u32, row: [Cell; 9]) {
        let mut errors = Vec::new();
        let mut cell = |c: Column| {
            let value = &row[c.index()];
            match unusable(number, c, value) {
                Some(e) => {
                    errors.push(e);
                    None
                }
                None => Some(value),
            }
        };
        let date = cell(Column::PurchaseDate).map(read_date);
        let supplier = cell(Column::SupplierId).map(|v| required_text(v, Column::SupplierId));
        let invoice = cell(Column::InvoiceNo).map(text);
        let category = cell(Column::Category).map(|v| read_word(v, Column::Category, category_from_text));
        let description = cell(Column::Description).map(|v| required_text(v, Column::Description));
        let quantity = cell(Column::Quantity).map(|v| read_decimal(v, Column::Quantity, true));
        let unit = cell(Column::Unit).map(|v| read_word(v, Column::Unit, unit_from_text));
        let unit_price = cell(Column::UnitPrice).map(|v| read_decimal(v, Column::UnitPrice, true));
        let amount = cell(Column::Amount).map(|v| read_decimal(v, Column::Amount, false));
        let mut ok = errors.is_empty();
        let date = take(date, number, &mut errors, &mut ok);
        let supplier = take(supplier, number, &mut errors, &mut ok);
        let invoice = invoice.flatten();
        let category = take(category, number, &mut errors, &mut ok);
        let description = take(description, number, &mut errors, &mut ok);
        let quantity = take(quantity, number, &mut errors, &mut ok).flatten();
        let unit = take(unit, number, &mut errors, &mut ok);
        let unit_price = take(unit_price, number, &mut errors, &mut ok).flatten();
        let amount = take(amount, number, &mut errors, &mut ok).flatten();
        let line = match (category, description, quantity, unit, unit_price) {
            (Some(category), Some(description), Some(quantity), Some(unit), Some(unit_price)) => {
                Some(line(number, category, description, quantity, unit, unit_price, amount))
            }
            _ => {
                // The line is incomplete, so `parse_purchase` will not see it: hold its
                // numbers to the same domain rules one by one.
                let checks = [
                    (Column::Quantity, quantity.map(|q| Quantity::parse(q).err())),
                    (Column::UnitPrice, unit_price.map(|p| UnitPrice::parse(p).err())),
                    (Column::Amount, amount.map(|a| Money::parse(a).err())),
                ];
                for (column, broken) in checks {
                    if let Some(Some(e)) = broken {
                        errors.push(CellError::new(number, Some(column), e.code(), column.rule()));
                    }
                }
                None
            }
        };
        self.errors.extend(errors);
        self.place(number, supplier, date, invoice, line, ok);
    }

    /// Puts a read row's line into its purchase (grouped by supplier, date and invoice),
    /// or aside when its supplier or date is unusable; a repeated line is an error.
    fn place(
        &mut self,
        number: u32,
        supplier: Option<String>,
        date: Option<NaiveDate>,
        invoice: Option<String>,
        line: Option<Line>,
        ok: bool,
    ) {
        if let Some(s) = &supplier {
            self.supplier_rows.entry(s.clone()).or_default().push(number);
        }
        let (Some(supplier_id), Some(purchase_date)) = (supplier, date) else {
            self.loose.extend(line);
            return;
        };
        let key = (supplier_id, purchase_date, invoice);
        let index = *self.group_of.entry(key.clone()).or_insert_with(|| {
            self.groups.push(Group {
                supplier_id: key.0.clone(),
                purchase_date: key.1,
                invoice_no: key.2.clone(),
                lines: Vec::new(),
                rows: Vec::new(),
                broken: false,
            });
            self.groups.len() - 1
        });
        let Some(group) = self.groups.get_mut(index) else { return };
        group.rows.push(number);
        match line {
            Some(line) if ok => {
                if let Some(first) = group.lines.iter().find(|l| l.signature == line.signature) {
                    let first = first.row;
                    self.errors.push(CellError::new(
                        number,
                        None,
                        Code::Duplicate,
                        format!("第{number}行与第{first}行完全相同，视为重复录入 / row {number} repeats row {first} of the same purchase"),
                    ));
                    group.broken = true;
                } else {
                    group.lines.push(line);
                }
            }
            Some(line) => {
                group.lines.push(line);
                group.broken = true;
            }
            None => group.broken = true,
        }
    }

    /// Checks every group with the rules of `POST /purchases` and returns the plan (with
    /// the file's errors; the database checks are the service's).
    pub fn finish(mut self, file_sha256: String, file_name: String, format: &'static str) -> Result<ImportPlan, ApiError> {
        if self.header.is_none() {
            return Err(missing_columns(&Column::ALL.into_iter().filter(|c| c.required()).collect::<Vec<_>>()));
        }
        if self.data_rows == 0 {
            return Err(ApiError::field("body", Code::NoRows, "文件在表头之后没有数据行 / the file has no data rows after the header"));
        }
        let mut purchases = Vec::new();
        for line in std::mem::take(&mut self.loose) {
            // Its supplier or date is unusable, but its own cells are still checked.
            let row = line.row;
            let request = self.request(String::new(), self.today, None, vec![line.request]);
            if let Err(e) = parse_purchase(request, self.today) {
                self.errors.extend(cell_errors(e, &[row]).into_iter().filter(|e| e.column.is_some_and(|c| c.index() >= 3)));
            }
        }
        for group in std::mem::take(&mut self.groups) {
            if let Some(planned) = self.plan_group(group) {
                purchases.push(planned);
            }
        }
        Ok(ImportPlan {
            school_id: self.school_id,
            file_sha256,
            file_name,
            format,
            rows: self.data_rows,
            purchases,
            supplier_rows: self.supplier_rows,
            errors: self.errors,
        })
    }

    /// One purchase of the file, checked with the rules of `POST /purchases`: planned if
    /// it and all its rows are sound, else its errors are the file's.
    fn plan_group(&mut self, group: Group) -> Option<PlannedPurchase> {
        if group.lines.is_empty() {
            return None;
        }
        let line_rows: Vec<u32> = group.lines.iter().map(|l| l.row).collect();
        let lines_json: Vec<Value> = group.lines.iter().map(|l| l.json.clone()).collect();
        let mut body = json!({
            "school_id": self.school_id,
            "supplier_id": group.supplier_id,
            "purchase_date": group.purchase_date.to_string(),
            "lines": lines_json,
        });
        if let Some(n) = &group.invoice_no {
            body["invoice_no"] = json!(n);
        }
        let request = self.request(
            group.supplier_id.clone(),
            group.purchase_date,
            group.invoice_no.clone(),
            group.lines.into_iter().map(|l| l.request).collect(),
        );
        match parse_purchase(request, self.today) {
            Ok(new) if !group.broken => return Some(PlannedPurchase { rows: group.rows, new, body }),
            Ok(_) => {}
            Err(e) => {
                let mut errs = cell_errors(e, &line_rows);
                // A purchase-wide problem (its date) is a bad cell on every row.
                for e in errs.iter_mut().filter(|e| e.column == Some(Column::PurchaseDate) || e.column == Some(Column::InvoiceNo)) {
                    e.row = 0;
                }
                for e in errs {
                    if e.row == 0 {
                        self.errors.extend(group.rows.iter().map(|r| CellError { row: *r, ..e.clone() }));
                    } else {
                        self.errors.push(e);
                    }
                }
            }
        }
        None
    }

    fn request(
        &self,
        supplier_id: String,
        purchase_date: NaiveDate,
        invoice_no: Option<String>,
        lines: Vec<LineRequest>,
    ) -> CreatePurchaseRequest {
        CreatePurchaseRequest { school_id: self.school_id.clone(), supplier_id, purchase_date, invoice_no, lines }
    }
}

/// A read cell's value, or `None` with its error noted (on row `number`).
/// The error of a cell that cannot be read at all (a formula, an error value, a control
/// character), if it is one.
fn unusable(number: u32, c: Column, value: &Cell) -> Option<CellError> {
    match value {
        Cell::Formula => Some(CellError::new(
            number,
            Some(c),
            Code::FormulaNotAllowed,
            "单元格不能包含公式，请粘贴为数值 / the cell holds a formula: paste its value instead",
        )),
        Cell::Error(e) => {
            Some(CellError::new(number, Some(c), Code::CellError, format!("单元格是错误值 {e} / the cell holds the error value {e}")))
        }
        Cell::Text(t) if has_control(t.trim()) => Some(CellError::new(
            number,
            Some(c),
            Code::ControlCharacter,
            "单元格不能包含控制字符（如换行、制表符） / the cell holds a control character (e.g. a line break or tab)",
        )),
        _ => None,
    }
}

fn take<T>(read: Option<Result<T, CellError>>, number: u32, errors: &mut Vec<CellError>, ok: &mut bool) -> Option<T> {
    match read {
        Some(Ok(v)) => Some(v),
        Some(Err(e)) => {
            errors.push(CellError { row: number, ..e });
            *ok = false;
            None
        }
        None => None,
    }
}

fn line(
    row: u32,
    category: Category,
    description: String,
    quantity: Decimal,
    unit: Unit,
    unit_price: Decimal,
    amount: Option<Decimal>,
) -> Line {
    let mut json = json!({
        "category": category.as_str(),
        "description": description,
        "quantity": quantity.to_string(),
        "unit": unit.as_str(),
        "unit_price": unit_price.to_string(),
    });
    if let Some(a) = amount {
        json["amount"] = json!(a.to_string());
    }
    // The amount is left out: it follows from quantity and price (or is refused).
    let signature = format!("{category}|{}|{}|{unit}|{}", description.trim(), quantity.normalize(), unit_price.normalize());
    Line { row, request: LineRequest { category, description, quantity, unit, unit_price, amount }, json, signature }
}

/// Maps the field paths of `parse_purchase`'s problem (`lines[2].unit_price`,
/// `purchase_date`) to the cells they came from; purchase-wide fields get row 0, for the
/// caller to spread over the purchase's rows.
fn cell_errors(err: ApiError, line_rows: &[u32]) -> Vec<CellError> {
    let fields = match err {
        ApiError::Validation(fields) => fields,
        other => vec![FieldError::new("lines", Code::Invalid, other.to_string())],
    };
    let first = line_rows.first().copied().unwrap_or(0);
    fields
        .into_iter()
        .map(|f| {
            let (row, column) = match f.field.strip_prefix("lines[").and_then(|r| r.split_once("].")) {
                Some((i, name)) => {
                    (i.parse::<usize>().ok().and_then(|i| line_rows.get(i)).copied().unwrap_or(first), Column::from_header(name))
                }
                None => (0, Column::from_header(&f.field)),
            };
            let message = match column {
                Some(c) if f.code == Code::AmountMismatch => format!("{} ({})", c.rule(), f.message),
                Some(c) => c.rule().to_owned(),
                None if f.code == Code::TooManyLines => format!(
                    "一笔采购最多200行明细（第{first}行起） / a purchase has at most 200 lines (the one starting at row {first} has more)"
                ),
                None => f.message,
            };
            let row = if column.is_none() { first } else { row };
            CellError::new(row, column, f.code, message)
        })
        .collect()
}

fn missing_columns(missing: &[Column]) -> ApiError {
    ApiError::Validation(
        missing
            .iter()
            .map(|c| {
                FieldError::new(
                    format!("column {}", c.label()),
                    Code::MissingColumn,
                    format!(
                        "缺少必填列“{}”（第一行非空行应为表头） / the required column {} is missing (the first non-blank row must be the header)",
                        c.label(),
                        c.label()
                    ),
                )
            })
            .collect(),
    )
}

/// The column of each header cell; a missing required column or a column named twice is
/// a 422 naming the columns.
fn read_header(cells: &[Cell]) -> Result<Vec<Option<Column>>, ApiError> {
    let columns: Vec<Option<Column>> = cells
        .iter()
        .map(|c| match c {
            Cell::Text(t) | Cell::Number(t) => Column::from_header(t),
            _ => None,
        })
        .collect();
    let missing: Vec<Column> = Column::ALL.into_iter().filter(|c| c.required() && !columns.contains(&Some(*c))).collect();
    if !missing.is_empty() {
        return Err(missing_columns(&missing));
    }
    let twice: Vec<FieldError> = Column::ALL
        .into_iter()
        .filter(|c| columns.iter().filter(|x| **x == Some(*c)).count() > 1)
        .map(|c| {
            FieldError::new(
                format!("column {}", c.label()),
                Code::DuplicateColumn,
                format!("“{}”列出现了不止一次 / the column {} appears more than once", c.label(), c.label()),
            )
        })
        .collect();
    if !twice.is_empty() {
        return Err(ApiError::Validation(twice));
    }
    Ok(columns)
}

/// The cell's text, trimmed; `None` when blank.
fn text(cell: &Cell) -> Option<String> {
    match cell {
        Cell::Text(s) | Cell::Number(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Cell::Date(d) => Some(d.to_string()),
        Cell::Empty | Cell::Formula | Cell::Error(_) => None,
    }
}

fn bad(column: Column, code: Code) -> CellError {
    CellError::new(0, Some(column), code, column.rule())
}

fn required_text(cell: &Cell, column: Column) -> Result<String, CellError> {
    text(cell).ok_or_else(|| bad(column, Code::Required))
}

fn read_date(cell: &Cell) -> Result<NaiveDate, CellError> {
    let column = Column::PurchaseDate;
    match cell {
        Cell::Date(d) => Ok(*d),
        Cell::Text(s) => {
            let s = s.trim();
            if s.is_empty() {
                return Err(bad(column, Code::Required));
            }
            ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日"]
                .iter()
                .find_map(|f| NaiveDate::parse_from_str(s, f).ok())
                .ok_or_else(|| bad(column, Code::InvalidDate))
        }
        Cell::Empty => Err(bad(column, Code::Required)),
        _ => Err(bad(column, Code::InvalidDate)),
    }
}

fn read_word<T>(cell: &Cell, column: Column, parse: fn(&str) -> Option<T>) -> Result<T, CellError> {
    let t = text(cell).ok_or_else(|| bad(column, Code::Required))?;
    parse(&t).ok_or_else(|| bad(column, if column == Column::Unit { Code::UnknownUnit } else { Code::UnknownCategory }))
}

/// A plain decimal (`12`, `-3.5`, `0.125`) in the form `POST /purchases` takes
/// (`money::parse_decimal_text`): no exponent, sign `+`, bare `.`, separators or
/// currency. `Ok(None)` for a blank optional cell.
fn read_decimal(cell: &Cell, column: Column, required: bool) -> Result<Option<Decimal>, CellError> {
    let Some(t) = text(cell) else {
        return if required { Err(bad(column, Code::Required)) } else { Ok(None) };
    };
    let digits = match column {
        Column::Quantity => QUANTITY_DIGITS,
        Column::UnitPrice => UNIT_PRICE_DIGITS,
        _ => AMOUNT_DIGITS,
    };
    parse_decimal_text(&t, digits).map(Some).ok_or_else(|| bad(column, Code::InvalidNumber))
}

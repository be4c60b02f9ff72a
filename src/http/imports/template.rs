//! The import template: the header row (`中文 / English` per column) and one example row,
//! as CSV (UTF-8 with BOM) or as an XLSX workbook whose first sheet is the one imported and
//! whose second sheet states the rules. In the workbook the date column holds date cells,
//! quantity, unit price and amount number cells (`0.00##`, `#,##0.00`; the import reads a
//! number cell as the shortest decimal that is its double, so a typed price stays exact),
//! and every other column is formatted as text (an invoice number keeps its leading zeros).

use chrono::NaiveDate;
use rust_decimal::Decimal;
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use crate::domain::catalog::{Category, Unit};
use crate::domain::import::{Column, TEMPLATE_RULES};
use crate::error::ApiError;
use crate::http::export::{BOM, display_width, exact_number};

/// Name of the sheet that is imported.
pub const SHEET: &str = "采购明细 purchases";

/// The example row, in template column order (the amount is 25.5 × 1.80).
pub const EXAMPLE: [&str; 9] =
    ["2019-03-05", "S-0001", "FP-0001", Category::Vegetables.zh(), "大白菜", "25.5", Unit::Jin.zh(), "1.80", "45.90"];

/// The template as CSV bytes.
pub fn csv() -> Result<Vec<u8>, ApiError> {
    let internal = |e: csv::Error| ApiError::Internal(e.into());
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(BOM.to_vec());
    w.write_record(Column::ALL.map(Column::label)).map_err(internal)?;
    w.write_record(EXAMPLE).map_err(internal)?;
    w.into_inner().map_err(|e| ApiError::Internal(anyhow::anyhow!("csv: {e}")))
}

/// The template as an XLSX workbook.
pub fn xlsx() -> Result<Vec<u8>, ApiError> {
    build_xlsx().map_err(|e| ApiError::Internal(e.into()))
}

/// The formats of the imported sheet's columns.
struct Formats {
    text: Format,
    date: Format,
    quantity: Format,
    price: Format,
    amount: Format,
}

impl Formats {
    fn of(&self, column: Column) -> &Format {
        match column {
            Column::PurchaseDate => &self.date,
            Column::Quantity => &self.quantity,
            Column::UnitPrice => &self.price,
            Column::Amount => &self.amount,
            Column::SupplierId | Column::InvoiceNo | Column::Category | Column::Description | Column::Unit => &self.text,
        }
    }
}

/// An example cell: a date cell, a number cell, or text (as the column is formatted).
fn write_example(sheet: &mut Worksheet, c: u16, column: Column, value: &str, format: &Format) -> Result<(), XlsxError> {
    let number = value.parse::<Decimal>().ok().and_then(exact_number);
    match column {
        Column::PurchaseDate => match NaiveDate::parse_from_str(value, "%Y-%m-%d") {
            Ok(date) => sheet.write_date_with_format(1, c, date, format)?,
            Err(_) => sheet.write_string_with_format(1, c, value, format)?,
        },
        Column::Quantity | Column::UnitPrice | Column::Amount => match number {
            Some(x) => sheet.write_number_with_format(1, c, x, format)?,
            None => sheet.write_string_with_format(1, c, value, format)?,
        },
        _ => sheet.write_string_with_format(1, c, value, format)?,
    };
    Ok(())
}

fn build_xlsx() -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let formats = Formats {
        text: Format::new().set_num_format("@"),
        date: Format::new().set_num_format("yyyy-mm-dd"),
        quantity: Format::new(),
        price: Format::new().set_num_format("0.00##"),
        amount: Format::new().set_num_format("#,##0.00"),
    };
    let header = Format::new().set_bold().set_num_format("@");
    let sheet = wb.add_worksheet();
    sheet.set_name(SHEET)?;
    for ((c, column), value) in (0_u16..).zip(Column::ALL).zip(EXAMPLE) {
        let format = formats.of(column);
        sheet.set_column_format(c, format)?;
        sheet.set_column_width(c, f64::from(u16::try_from(display_width(&column.label()) + 2).unwrap_or(30)))?;
        sheet.write_string_with_format(0, c, column.label(), &header)?;
        write_example(sheet, c, column, value, format)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    let rules = wb.add_worksheet();
    rules.set_name("说明 instructions")?;
    rules.set_column_width(0, 120)?;
    rules.write_string_with_format(0, 0, "导入规则 / Import rules", &Format::new().set_bold())?;
    for (r, rule) in (1_u32..).zip(TEMPLATE_RULES) {
        rules.write_string(r, 0, *rule)?;
    }
    let columns_at = u32::try_from(TEMPLATE_RULES.len()).unwrap_or(0) + 2;
    rules.write_string_with_format(columns_at, 0, "各列要求 / Columns", &Format::new().set_bold())?;
    for (r, column) in (columns_at + 1..).zip(Column::ALL) {
        let required = if column.required() { "必填 / required" } else { "可不填 / optional" };
        rules.write_string(r, 0, format!("{}（{required}）：{}", column.label(), column.rule()))?;
    }
    wb.save_to_buffer()
}

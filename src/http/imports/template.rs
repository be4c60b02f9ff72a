//! The import template: the header row (`中文 / English` per column) and one example row,
//! as CSV (UTF-8 with BOM) or as an XLSX workbook whose first sheet is the one imported
//! (every column formatted as text, so typed prices stay exact) and whose second sheet
//! states the rules.

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use crate::domain::import::{Column, TEMPLATE_RULES};
use crate::error::ApiError;
use crate::http::export::BOM;

/// Name of the sheet that is imported.
pub const SHEET: &str = "采购明细 purchases";

/// The example row, in template column order (the amount is 25.5 × 1.80).
pub const EXAMPLE: [&str; 9] = ["2019-03-05", "S-0001", "FP-0001", "蔬菜", "大白菜", "25.5", "斤", "1.80", "45.90"];

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

fn build_xlsx() -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let text = Format::new().set_num_format("@");
    let header = Format::new().set_bold().set_num_format("@");
    let sheet = wb.add_worksheet();
    sheet.set_name(SHEET)?;
    for (c, column) in (0_u16..).zip(Column::ALL) {
        sheet.set_column_format(c, &text)?;
        sheet.set_column_width(c, 18)?;
        sheet.write_string_with_format(0, c, column.label(), &header)?;
    }
    for (c, value) in (0_u16..).zip(EXAMPLE) {
        sheet.write_string_with_format(1, c, value, &text)?;
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

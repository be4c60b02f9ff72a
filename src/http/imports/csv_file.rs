//! Reading an uploaded CSV: the encoding is detected (valid UTF-8, with or without a
//! byte-order mark, is UTF-8; anything else must be valid GB18030, which Excel on a
//! Chinese Windows writes), then the records are streamed to the collector, which stops
//! at the first row over the limit.

use super::plan::{Cell, Collector};
use crate::error::ApiError;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The file's text.
pub fn decode(bytes: &[u8]) -> Result<std::borrow::Cow<'_, str>, ApiError> {
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(text.into());
    }
    encoding_rs::GB18030.decode_without_bom_handling_and_without_replacement(bytes).ok_or_else(|| {
        ApiError::field(
            "body",
            "bad_encoding",
            "文件既不是 UTF-8 也不是 GB18030 编码 / the file is neither valid UTF-8 nor valid GB18030 text",
        )
    })
}

/// Streams the records into `collector`, each numbered by the line it starts on.
pub fn read(bytes: &[u8], collector: &mut Collector) -> Result<(), ApiError> {
    let text = decode(bytes)?;
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut record = csv::StringRecord::new();
    loop {
        let more = reader
            .read_record(&mut record)
            .map_err(|e| ApiError::field("body", "bad_file", format!("CSV 文件格式有误 / the CSV file cannot be read: {e}")))?;
        if !more {
            return Ok(());
        }
        // The line the record starts on (blank lines are skipped, yet still counted).
        let number = record.position().map_or(u32::MAX, |p| u32::try_from(p.line()).unwrap_or(u32::MAX));
        let cells = record.iter().map(|f| if f.is_empty() { Cell::Empty } else { Cell::Text(f.to_owned()) }).collect();
        collector.push(number, cells)?;
    }
}

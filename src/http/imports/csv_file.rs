//! Reading an uploaded CSV: the encoding is detected (valid UTF-8, with or without a
//! byte-order mark, is UTF-8; anything else must be valid GB18030, which Excel on a
//! Chinese Windows writes), then the records are streamed to the collector, which stops
//! at the first row over the limit.

use super::plan::{Cell, Collector};
use crate::error::ApiError;
use crate::error::Code;

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
            Code::BadEncoding,
            "文件既不是 UTF-8 也不是 GB18030 编码 / the file is neither valid UTF-8 nor valid GB18030 text",
        )
    })
}

/// Streams the records into `collector`, each numbered by the line it starts on.
pub fn read(bytes: &[u8], collector: &mut Collector) -> Result<(), ApiError> {
    let text = decode(bytes)?;
    each_record(&text, |number, cells| collector.push(number, cells))
}

/// Line breaks in `bytes`: LF, CRLF and a lone CR (old Mac "CSV") each count one.
fn line_breaks(bytes: &[u8]) -> usize {
    bytes.iter().enumerate().filter(|&(i, &b)| b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n'))).count()
}

/// Calls `f` with each record and the (1-based) line its first cell is on, counting every
/// line break of the text, blank lines included, whether lines end in LF, CRLF or CR.
fn each_record(text: &str, mut f: impl FnMut(u32, Vec<Cell>) -> Result<(), ApiError>) -> Result<(), ApiError> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut record = csv::StringRecord::new();
    // Lines counted up to `counted` bytes (records come in order: count each byte once).
    let (mut counted, mut line) = (0usize, 1u32);
    loop {
        let more = reader
            .read_record(&mut record)
            .map_err(|e| ApiError::field("body", Code::BadFile, format!("CSV 文件格式有误 / the CSV file cannot be read: {e}")))?;
        if !more {
            return Ok(());
        }
        // csv's own line count lags one behind after a CRLF (it sees the LF as the start
        // of the next record): find the record's first byte past any line break instead.
        let byte = record.position().map_or(text.len(), |p| usize::try_from(p.byte()).unwrap_or(usize::MAX)).min(text.len());
        let start = text.as_bytes()[byte..].iter().position(|b| !matches!(b, b'\r' | b'\n')).map_or(text.len(), |i| byte + i);
        line = line.saturating_add(u32::try_from(line_breaks(&text.as_bytes()[counted..start])).unwrap_or(u32::MAX));
        counted = start;
        let cells = record.iter().map(|c| if c.is_empty() { Cell::Empty } else { Cell::Text(c.to_owned()) }).collect();
        f(line, cells)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(text: &str) -> Vec<(u32, String)> {
        let mut out = Vec::new();
        each_record(text, |n, cells| {
            out.push((n, cells.iter().map(|c| if let Cell::Text(t) = c { t.as_str() } else { "" }).collect::<Vec<_>>().join("|")));
            Ok(())
        })
        .unwrap();
        out
    }

    #[test]
    fn records_are_numbered_by_their_line_with_lf_and_crlf_alike() {
        let expected = vec![(1, "h1|h2".to_owned()), (2, "a|b".to_owned()), (4, "c|d".to_owned()), (5, "e|\"x\ny\"".replace('"', ""))];
        let lf = "h1,h2\na,b\n\nc,d\ne,\"x\ny\"\n";
        assert_eq!(numbers(lf), expected);
        assert_eq!(numbers(&lf.replace('\n', "\r\n")).into_iter().map(|(n, t)| (n, t.replace('\r', ""))).collect::<Vec<_>>(), expected);
        assert_eq!(numbers("h1,h2\r\na,b"), vec![(1, "h1|h2".to_owned()), (2, "a|b".to_owned())], "no final line break");
        let cr = numbers("h1,h2\ra,b\r\rc,d\r");
        assert_eq!(cr, vec![(1, "h1|h2".to_owned()), (2, "a|b".to_owned()), (4, "c|d".to_owned())], "CR line endings");
        assert_eq!(line_breaks(b"a\r\nb\nc\rd\r\r\n"), 5);
    }
}

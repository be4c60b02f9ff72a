//! Reading an uploaded XLSX workbook, defensively.
//!
//! An XLSX is a zip archive; before calamine sees it, the archive is checked: at most
//! `MAX_ENTRIES` entries, at most `MAX_UNCOMPRESSED` bytes in all, both as declared and
//! as actually inflated (a declared size can lie), and no large entry compressed more
//! than `MAX_RATIO` times (a zip bomb). Then the first worksheet is streamed cell by cell
//! (`worksheet_cells_reader`): `worksheet_range`/`worksheet_formula` would allocate the
//! whole rectangle up to the farthest cell, which one cell at `XFD1048576` makes huge.
//! Formulas are found with our own streaming scan of the sheet's XML, not calamine's
//! `next_formula`, whose shared-formula table grows to whatever index the file names.
//! calamine indexes some tables without bounds checks, so a malformed workbook may panic:
//! that is caught and answered as a bad file.

use std::collections::HashSet;
use std::io::{BufReader, Cursor, Read};
use std::panic::{AssertUnwindSafe, catch_unwind};

use calamine::{DataRef, Reader, Xlsx};
use chrono::NaiveDate;
use quick_xml::events::{BytesStart, Event};
use zip::ZipArchive;

use super::plan::{Cell, Collector};
use crate::error::ApiError;
use crate::error::Code;

/// Most bytes all entries of the archive may inflate to (50 MiB).
pub const MAX_UNCOMPRESSED: u64 = 50 * 1024 * 1024;
/// Most entries in the archive.
pub const MAX_ENTRIES: usize = 10_000;
/// Highest compression ratio of an entry over `RATIO_FLOOR` bytes.
pub const MAX_RATIO: u64 = 200;
/// Entries smaller than this are not held to `MAX_RATIO` (1 MiB).
const RATIO_FLOOR: u64 = 1024 * 1024;
/// Columns beyond this are ignored (the template has 9).
const MAX_COLUMNS: u32 = 256;

fn bad_file(detail: impl std::fmt::Display) -> ApiError {
    ApiError::field("body", Code::BadFile, format!("不是有效的 XLSX 工作簿 / not a valid XLSX workbook: {detail}"))
}

fn zip_bomb(detail: impl std::fmt::Display) -> ApiError {
    ApiError::field(
        "body",
        Code::ZipBomb,
        format!("压缩包解压后过大或压缩比异常，拒绝处理 / the archive inflates too much or is compressed suspiciously well: {detail}"),
    )
}

type Archive<'a> = ZipArchive<Cursor<&'a [u8]>>;

/// Reads the first worksheet into `collector`.
pub fn read(bytes: &[u8], collector: &mut Collector) -> Result<(), ApiError> {
    let mut archive = check_archive(bytes)?;
    let sheet = first_sheet_path(&mut archive)?;
    let formulas = formula_cells(&mut archive, &sheet)?;
    match catch_unwind(AssertUnwindSafe(|| stream_cells(bytes, &formulas, collector))) {
        Ok(result) => result,
        Err(_) => Err(bad_file("the workbook is malformed")),
    }
}

/// Opens the archive and checks its entries, declared and inflated.
fn check_archive(bytes: &[u8]) -> Result<Archive<'_>, ApiError> {
    let mut archive = ZipArchive::new(Cursor::new(bytes)).map_err(|e| bad_file(format!("not a zip archive ({e})")))?;
    if archive.len() > MAX_ENTRIES {
        return Err(zip_bomb(format!("{} entries (at most {MAX_ENTRIES})", archive.len())));
    }
    let mut declared: u64 = 0;
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).map_err(bad_file)?;
        let (size, packed) = (entry.size(), entry.compressed_size());
        declared = declared.saturating_add(size);
        if declared > MAX_UNCOMPRESSED {
            return Err(zip_bomb(format!("more than {MAX_UNCOMPRESSED} bytes uncompressed")));
        }
        if size > RATIO_FLOOR && size / packed.max(1) > MAX_RATIO {
            return Err(zip_bomb(format!("entry {:?} is compressed {}:1 (at most {MAX_RATIO}:1)", entry.name(), size / packed.max(1))));
        }
    }
    // The sizes above are the archive's word for it; inflate everything once to check.
    let mut inflated: u64 = 0;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(bad_file)?;
        let declared = entry.size();
        let budget = (MAX_UNCOMPRESSED - inflated).min(declared) + 1;
        let n = std::io::copy(&mut (&mut entry).take(budget), &mut std::io::sink()).map_err(bad_file)?;
        if n > declared {
            return Err(zip_bomb(format!("entry {:?} inflates beyond its declared size", entry.name())));
        }
        inflated += n;
    }
    Ok(archive)
}

/// An entry's bytes (already checked to be small).
fn entry_bytes(archive: &mut Archive<'_>, name: &str) -> Result<Vec<u8>, ApiError> {
    let mut entry = archive.by_name(name).map_err(|_| bad_file(format!("{name} is missing")))?;
    let mut out = Vec::new();
    entry.read_to_end(&mut out).map_err(bad_file)?;
    Ok(out)
}

fn attribute(e: &BytesStart<'_>, local: &[u8]) -> Option<String> {
    e.attributes().flatten().find(|a| a.key.local_name().as_ref() == local).map(|a| String::from_utf8_lossy(&a.value).into_owned())
}

/// The zip path of the workbook's first sheet (the one imported), as calamine finds it:
/// `xl/workbook.xml` names its relationship, `xl/_rels/workbook.xml.rels` its target.
fn first_sheet_path(archive: &mut Archive<'_>) -> Result<String, ApiError> {
    let find = |xml: &[u8], element: &[u8], pick: &dyn Fn(&BytesStart<'_>) -> Option<String>| -> Result<Option<String>, ApiError> {
        let mut reader = quick_xml::Reader::from_reader(xml);
        let mut buf = Vec::new();
        loop {
            match reader.read_event_into(&mut buf).map_err(bad_file)? {
                Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == element => {
                    if let Some(v) = pick(&e) {
                        return Ok(Some(v));
                    }
                }
                Event::Eof => return Ok(None),
                _ => {}
            }
            buf.clear();
        }
    };
    let workbook = entry_bytes(archive, "xl/workbook.xml")?;
    let rel = find(&workbook, b"sheet", &|e| attribute(e, b"id"))?.ok_or_else(|| bad_file("the workbook has no worksheet"))?;
    let rels = entry_bytes(archive, "xl/_rels/workbook.xml.rels")?;
    let target = find(&rels, b"Relationship", &|e| {
        if attribute(e, b"Id").as_deref() == Some(rel.as_str()) { attribute(e, b"Target") } else { None }
    })?
    .ok_or_else(|| bad_file("the first sheet has no target"))?;
    Ok(match target.strip_prefix('/') {
        Some(absolute) => absolute.to_owned(),
        None => format!("xl/{target}"),
    })
}

/// `B5` → (4, 1), zero-based (row, column).
fn cell_ref(r: &str) -> Option<(u32, u32)> {
    let split = r.find(|c: char| c.is_ascii_digit())?;
    let (letters, digits) = r.split_at(split);
    let col = letters
        .bytes()
        .try_fold(0_u32, |acc, b| b.is_ascii_uppercase().then(|| acc.checked_mul(26)?.checked_add(u32::from(b - b'A') + 1)).flatten())?;
    let row: u32 = digits.parse().ok()?;
    Some((row.checked_sub(1)?, col.checked_sub(1)?))
}

/// Positions of the cells of the sheet that hold a formula.
fn formula_cells(archive: &mut Archive<'_>, path: &str) -> Result<HashSet<(u32, u32)>, ApiError> {
    let entry = archive.by_name(path).map_err(|_| bad_file(format!("{path} is missing")))?;
    let mut reader = quick_xml::Reader::from_reader(BufReader::new(entry));
    let mut buf = Vec::new();
    let (mut row, mut col) = (0_u32, 0_u32);
    let mut cell: Option<(u32, u32)> = None;
    let mut found = HashSet::new();
    loop {
        match reader.read_event_into(&mut buf).map_err(bad_file)? {
            Event::Start(e) if e.local_name().as_ref() == b"row" => {
                if let Some(r) = attribute(&e, b"r").and_then(|r| r.parse::<u32>().ok()) {
                    row = r.saturating_sub(1);
                }
                col = 0;
            }
            Event::End(e) if e.local_name().as_ref() == b"row" => {
                row = row.saturating_add(1);
                col = 0;
            }
            Event::Start(e) if e.local_name().as_ref() == b"c" => {
                let pos = attribute(&e, b"r").and_then(|r| cell_ref(&r)).unwrap_or((row, col));
                cell = Some(pos);
                col = pos.1;
            }
            Event::Empty(e) if e.local_name().as_ref() == b"c" => {
                col = attribute(&e, b"r").and_then(|r| cell_ref(&r)).map_or(col, |p| p.1).saturating_add(1);
            }
            Event::End(e) if e.local_name().as_ref() == b"c" => {
                cell = None;
                col = col.saturating_add(1);
            }
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == b"f" => {
                if let Some(pos) = cell {
                    found.insert(pos);
                }
            }
            Event::Eof => return Ok(found),
            _ => {}
        }
        buf.clear();
    }
}

/// Streams the first sheet's cells row by row into `collector`.
fn stream_cells(bytes: &[u8], formulas: &HashSet<(u32, u32)>, collector: &mut Collector) -> Result<(), ApiError> {
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(bad_file)?;
    let name = workbook.sheet_names().first().cloned().ok_or_else(|| bad_file("the workbook has no worksheet"))?;
    let mut cells = workbook.worksheet_cells_reader(&name).map_err(bad_file)?;
    let mut current: Option<(u32, Vec<Cell>)> = None;
    while let Some(c) = cells.next_cell().map_err(bad_file)? {
        let (row, col) = c.get_position();
        if current.as_ref().is_some_and(|(r, _)| *r != row)
            && let Some((r, values)) = current.take()
        {
            collector.push(r.saturating_add(1), values)?;
        }
        let (_, values) = current.get_or_insert_with(|| (row, Vec::new()));
        if col >= MAX_COLUMNS {
            continue;
        }
        let at = usize::try_from(col).unwrap_or(usize::MAX);
        if values.len() <= at {
            values.resize(at + 1, Cell::Empty);
        }
        values[at] = if formulas.contains(&(row, col)) { Cell::Formula } else { cell(c.get_value()) };
    }
    if let Some((r, values)) = current {
        collector.push(r.saturating_add(1), values)?;
    }
    Ok(())
}

/// A calamine value as the collector sees it.
fn cell(value: &DataRef<'_>) -> Cell {
    match value {
        DataRef::Empty => Cell::Empty,
        DataRef::String(s) => Cell::Text(s.clone()),
        DataRef::SharedString(s) => Cell::Text((*s).to_owned()),
        DataRef::Int(i) => Cell::Number(i.to_string()),
        // Display gives the shortest text that reads back to the same double: what the
        // file says, not arithmetic on it.
        DataRef::Float(f) if f.is_finite() => Cell::Number(f.to_string()),
        DataRef::Float(_) => Cell::Error("NaN".into()),
        DataRef::Bool(b) => Cell::Text(if *b { "TRUE" } else { "FALSE" }.into()),
        DataRef::DateTime(d) if d.is_datetime() && (1.0..2_958_466.0).contains(&d.as_f64()) => {
            let (y, m, day, ..) = d.to_ymd_hms_milli();
            NaiveDate::from_ymd_opt(i32::from(y), u32::from(m), u32::from(day)).map_or_else(|| Cell::Error("date".into()), Cell::Date)
        }
        DataRef::DateTime(d) => Cell::Number(d.as_f64().to_string()),
        DataRef::DateTimeIso(s) => {
            s.get(..10).and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()).map_or_else(|| Cell::Text(s.clone()), Cell::Date)
        }
        DataRef::DurationIso(s) => Cell::Text(s.clone()),
        DataRef::Error(e) => Cell::Error(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn code(e: ApiError) -> String {
        match e {
            ApiError::Validation(f) => f[0].code.as_str().to_owned(),
            other => panic!("{other:?}"),
        }
    }

    fn zip_of(name: &str, content: &[u8]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        w.start_file(name, options).unwrap();
        w.write_all(content).unwrap();
        w.finish().unwrap().into_inner()
    }

    /// Overwrites the uncompressed size in every local and central header.
    fn lie_about_size(bytes: &mut [u8], size: u32) {
        for i in 0..bytes.len().saturating_sub(30) {
            let at = match &bytes[i..i + 4] {
                [0x50, 0x4b, 0x03, 0x04] => i + 22,
                [0x50, 0x4b, 0x01, 0x02] => i + 24,
                _ => continue,
            };
            bytes[at..at + 4].copy_from_slice(&size.to_le_bytes());
        }
    }

    #[test]
    fn an_entry_inflating_beyond_its_declared_size_is_a_zip_bomb() {
        let honest = zip_of("xl/worksheets/sheet1.xml", &vec![b'a'; 4 << 20]);
        assert_eq!(code(check_archive(&honest).err().unwrap()), "zip_bomb", "4 MiB of one byte is compressed over 200:1");
        let small = zip_of("xl/worksheets/sheet1.xml", &vec![b'a'; 512 << 10]);
        assert!(check_archive(&small).is_ok(), "entries under 1 MiB are not held to the ratio");
        let mut liar = small;
        lie_about_size(&mut liar, 1000);
        assert_eq!(code(check_archive(&liar).err().unwrap()), "zip_bomb");
    }

    #[test]
    fn too_much_in_all_is_a_zip_bomb_and_garbage_a_bad_file() {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        for i in 0..60 {
            w.start_file(format!("part{i}.bin"), stored).unwrap();
            w.write_all(&vec![7_u8; 1 << 20]).unwrap();
        }
        let big = w.finish().unwrap().into_inner();
        assert_eq!(code(check_archive(&big).err().unwrap()), "zip_bomb");
        assert_eq!(code(check_archive(b"not a zip").err().unwrap()), "bad_file");
    }

    #[test]
    fn cell_references_are_zero_based_row_and_column() {
        assert_eq!(cell_ref("A1"), Some((0, 0)));
        assert_eq!(cell_ref("B5"), Some((4, 1)));
        assert_eq!(cell_ref("AA10"), Some((9, 26)));
        assert_eq!(cell_ref("XFD1048576"), Some((1_048_575, 16_383)));
        assert_eq!(cell_ref("5"), None);
        assert_eq!(cell_ref("a1"), None);
    }
}

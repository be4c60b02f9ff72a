//! Reference data: the shipped Guizhou prefectures and counties (loaded idempotently at
//! start-up), poverty designations and their audited edits, and yearly targets.

use chrono::NaiveDate;
use serde::Deserialize;

use crate::db::repo::reference::{self, CountyRow, DesignationRow, PrefectureRow};
use crate::db::repo::reporting::{self, ReportingLineRow};
use crate::db::repo::suppliers;
use crate::db::repo::targets::{self, TargetRow};
use crate::db::{DbConn, write_tx};
use crate::domain::DomainError;
use crate::domain::shares::Target;
use crate::error::ApiError;

const PREFECTURES_CSV: &str = include_str!("../../data/guizhou/guizhou_prefectures.csv");
const COUNTIES_CSV: &str = include_str!("../../data/guizhou/guizhou_counties.csv");
const REPORTING_LINES_CSV: &str = include_str!("../../data/guizhou/guizhou_reporting_lines.csv");

/// Default designation of a county on the national list: poverty county from 2014-01-01
/// to 2020-12-31 (policy support continued after exit, 摘帽不摘政策).
pub const DEFAULT_DESIGNATION: (&str, &str) = ("2014-01-01", "2020-12-31");

#[derive(Debug, Deserialize)]
struct PrefectureCsv {
    code: String,
    name_zh: String,
    name_en: String,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Debug, Deserialize)]
struct CountyCsv {
    code: String,
    name_zh: String,
    name_en: String,
    #[serde(rename = "type")]
    kind: String,
    prefecture_code: String,
    poverty_county_2019: String,
    deep_poverty: String,
    exit_year: Option<i32>,
    source_note: String,
}

#[derive(Debug, Deserialize)]
struct ReportingLineCsv {
    county_code: String,
    reports_to: String,
    source: String,
}

/// What a reference load did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadReport {
    pub prefectures: usize,
    pub counties: usize,
    pub new_counties: usize,
    pub designations_added: usize,
    /// Shipped reporting lines recorded now (a county that already has one keeps it).
    pub reporting_lines_added: usize,
}

fn date(s: &str) -> anyhow::Result<NaiveDate> {
    Ok(NaiveDate::parse_from_str(s, "%Y-%m-%d")?)
}

/// The codes of Guizhou's county-level divisions in the reference data (GB/T 2260, 2019), in
/// file order: the values a county code may take (documented as an enum).
pub fn county_codes() -> Vec<String> {
    csv::Reader::from_reader(COUNTIES_CSV.as_bytes()).deserialize::<CountyCsv>().filter_map(Result::ok).map(|c| c.code).collect()
}

/// Loads the shipped Guizhou reference data. Idempotent: names and notes are refreshed;
/// default designations are added only for counties seen for the first time, so an
/// administrator's edits are never overwritten. Also seeds the 50% target for 2019 and 2020.
pub fn load_guizhou(conn: &mut DbConn) -> anyhow::Result<LoadReport> {
    let prefectures: Vec<PrefectureCsv> = csv::Reader::from_reader(PREFECTURES_CSV.as_bytes()).deserialize().collect::<Result<_, _>>()?;
    let counties: Vec<CountyCsv> = csv::Reader::from_reader(COUNTIES_CSV.as_bytes()).deserialize().collect::<Result<_, _>>()?;
    let lines: Vec<ReportingLineCsv> = csv::Reader::from_reader(REPORTING_LINES_CSV.as_bytes()).deserialize().collect::<Result<_, _>>()?;
    let (from, to) = (date(DEFAULT_DESIGNATION.0)?, date(DEFAULT_DESIGNATION.1)?);
    write_tx(conn, |conn| -> anyhow::Result<LoadReport> {
        let mut report = LoadReport::default();
        // Gui'an New Area has no code: it is not an administrative division.
        for p in prefectures.iter().filter(|p| !p.code.is_empty()) {
            reference::upsert_prefecture(
                conn,
                &PrefectureRow { code: p.code.clone(), name_zh: p.name_zh.clone(), name_en: p.name_en.clone(), kind: p.kind.clone() },
            )?;
            report.prefectures += 1;
        }
        for c in &counties {
            let is_new = reference::find_county(conn, &c.code)?.is_none();
            let poverty = c.poverty_county_2019 == "yes";
            reference::upsert_county(
                conn,
                &CountyRow {
                    code: c.code.clone(),
                    prefecture_code: c.prefecture_code.clone(),
                    name_zh: c.name_zh.clone(),
                    name_en: c.name_en.clone(),
                    kind: c.kind.clone(),
                    poverty_county_2019: poverty,
                    deep_poverty: c.deep_poverty.clone(),
                    exit_year: c.exit_year,
                    source_note: c.source_note.clone(),
                },
            )?;
            report.counties += 1;
            if is_new {
                report.new_counties += 1;
                if poverty {
                    let note = match c.exit_year {
                        Some(y) => format!("national poverty-county list; exit batch {y}; support continued after exit"),
                        None => "national poverty-county list".to_owned(),
                    };
                    let row = DesignationRow { id: super::new_id(), county_code: c.code.clone(), valid_from: from, valid_to: to, note };
                    reference::replace_designations(conn, &c.code, &[row])?;
                    report.designations_added += 1;
                }
            }
        }
        report.reporting_lines_added = load_reporting_lines(conn, &lines)?;
        for year in [2019, 2020] {
            if targets::find(conn, year)?.is_none() {
                targets::upsert(conn, &TargetRow { year, numerator: 1, denominator: 2, set_by: "system".into(), set_at: super::now() })?;
            }
        }
        Ok(report)
    })
}

/// Records the shipped reporting lines of counties that have none yet (an administrator's
/// line is never overwritten); returns how many were recorded.
fn load_reporting_lines(conn: &mut DbConn, lines: &[ReportingLineCsv]) -> anyhow::Result<usize> {
    let mut added = 0;
    for l in lines {
        let row = ReportingLineRow {
            county_code: l.county_code.clone(),
            reports_to: l.reports_to.clone(),
            source: l.source.clone(),
            updated_by: "system".into(),
            updated_at: super::now(),
        };
        added += usize::from(reporting::insert_if_absent(conn, &row)?);
    }
    Ok(added)
}

/// A designation interval as requested.
#[derive(Debug, Clone)]
pub struct DesignationInput {
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    pub note: String,
}

/// Replaces a county's designations; audited; re-evaluates every purchase from
/// suppliers of that county in the same transaction. Returns the new designations and
/// the number of purchases whose qualification changed.
pub fn set_designations(
    conn: &mut DbConn,
    actor: &str,
    county_code: &str,
    input: &[DesignationInput],
) -> Result<(Vec<DesignationRow>, usize), ApiError> {
    let problems: Vec<_> = input
        .iter()
        .enumerate()
        .filter(|(_, d)| d.valid_from > d.valid_to)
        .map(|(i, _)| crate::error::FieldError::domain(format!("designations[{i}].valid_to"), &DomainError::InvertedValidity))
        .collect();
    if !problems.is_empty() {
        return Err(ApiError::Validation(problems));
    }
    write_tx(conn, |conn| {
        reference::find_county(conn, county_code)?.ok_or(ApiError::NotFound("county"))?;
        let before = reference::designations_of(conn, county_code)?;
        let rows: Vec<DesignationRow> = input
            .iter()
            .map(|d| DesignationRow {
                id: super::new_id(),
                county_code: county_code.to_owned(),
                valid_from: d.valid_from,
                valid_to: d.valid_to,
                note: d.note.clone(),
            })
            .collect();
        reference::replace_designations(conn, county_code, &rows)?;
        let supplier_ids = suppliers::ids_from_county(conn, county_code)?;
        let changed = super::qualify::reevaluate_suppliers(conn, &supplier_ids)?;
        let view = |rows: &[DesignationRow]| {
            rows.iter().map(|d| serde_json::json!({"valid_from": d.valid_from, "valid_to": d.valid_to, "note": d.note})).collect::<Vec<_>>()
        };
        super::audit(
            conn,
            actor,
            "county.designations.set",
            ("county", county_code),
            Some(serde_json::json!(view(&before))),
            Some(serde_json::json!({"designations": view(&rows), "reclassified": changed})),
        )?;
        Ok((rows, changed.len()))
    })
}

/// The target for `year`: the province's setting, or 50% when none is recorded.
pub fn target_for_year(conn: &mut DbConn, year: i32) -> Result<Target, ApiError> {
    match targets::find(conn, year)? {
        Some(t) => Target::new(t.numerator, t.denominator).map_err(|e| ApiError::Internal(anyhow::anyhow!("{e}"))),
        None => Ok(Target::HALF),
    }
}

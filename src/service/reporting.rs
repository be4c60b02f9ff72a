//! The reporting cycle: who reports to whom. Every county's bureau reports to its
//! prefecture unless a reporting line names the province (shipped: the counties the 2019
//! notice names; editable by the administrator, audited).

use serde_json::json;

use crate::db::repo::reference::{self as reference_repo, CountyRow};
use crate::db::repo::reporting::{self, ReportingLineRow};
use crate::db::{DbConn, write_tx};
use crate::domain::reporting::{Line, ReportsTo, county_reports_to};
use crate::error::ApiError;

/// A county and the bureau it reports to.
#[derive(Debug, Clone)]
pub struct CountyLine {
    pub county: CountyRow,
    pub reports_to: ReportsTo,
    /// Why, when a recorded line decides it (shipped data or an administrator's edit).
    pub source: Option<String>,
}

fn stored_line(row: &ReportingLineRow) -> Result<Line, ApiError> {
    Line::parse(&row.reports_to)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("county {}: unknown reporting line {:?}", row.county_code, row.reports_to)))
}

/// Every county with its reporting line, by code.
pub fn lines(conn: &mut DbConn) -> Result<Vec<CountyLine>, ApiError> {
    let recorded = reporting::list(conn)?;
    let mut direct = Vec::new();
    for row in &recorded {
        if stored_line(row)? == Line::Province {
            direct.push(row.county_code.as_str());
        }
    }
    let counties = reference_repo::list_counties(conn, None)?;
    Ok(counties
        .into_iter()
        .map(|county| {
            let reports_to = county_reports_to(&county.code, &county.prefecture_code, &direct);
            let source = recorded.iter().find(|r| r.county_code == county.code).map(|r| r.source.clone());
            CountyLine { county, reports_to, source }
        })
        .collect())
}

/// Records a county's reporting line (administrator; audited). Returns the county's line.
pub fn set_line(conn: &mut DbConn, actor: &str, county_code: &str, line: Line, source: &str) -> Result<CountyLine, ApiError> {
    write_tx(conn, |conn| {
        let county = reference_repo::find_county(conn, county_code)?.ok_or(ApiError::NotFound("county"))?;
        let before = reporting::find(conn, county_code)?;
        let row = ReportingLineRow {
            county_code: county_code.to_owned(),
            reports_to: line.as_str().to_owned(),
            source: source.to_owned(),
            updated_by: actor.to_owned(),
            updated_at: super::now(),
        };
        reporting::upsert(conn, &row)?;
        super::audit(
            conn,
            actor,
            "county.reporting_line.set",
            ("county", county_code),
            before.map(|b| json!({"reports_to": b.reports_to, "source": b.source})),
            Some(json!({"reports_to": row.reports_to, "source": row.source})),
        )?;
        let reports_to = match line {
            Line::Province => ReportsTo::Province,
            Line::Prefecture => ReportsTo::Prefecture(county.prefecture_code.clone()),
        };
        Ok(CountyLine { county, reports_to, source: Some(row.source) })
    })
}

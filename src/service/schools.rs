//! Schools: registered and edited by the bureau of their county (or an admin), read by
//! anyone whose scope covers them. Out of scope → 404; a list filter out of scope → 403.

use serde::Serialize;

use crate::db::repo::reference;
use crate::db::repo::schools::{self, PlacedSchool, SchoolChangeset, SchoolFilter, SchoolRow};
use crate::db::{DbConn, write_tx};
use crate::domain::access::{Caller, Narrowing, Place, SchoolSet};
use crate::error::ApiError;
use crate::error::Code;

/// What a caller asked to list.
#[derive(Debug, Clone, Default)]
pub struct ListRequest {
    pub county_code: Option<String>,
    pub prefecture_code: Option<String>,
    pub after_id: Option<String>,
    pub limit: i64,
}

/// New school fields.
#[derive(Debug, Clone)]
pub struct NewSchool {
    pub county_code: String,
    pub name: String,
    pub code: Option<String>,
    pub students: Option<i32>,
    pub address: Option<String>,
}

pub fn place(s: &PlacedSchool) -> Place {
    Place::new(&s.school.id, &s.school.county_code, &s.prefecture_code)
}

#[derive(Serialize)]
struct Audited<'a> {
    county_code: &'a str,
    name: &'a str,
    code: &'a Option<String>,
    students: Option<i32>,
    address: &'a Option<String>,
}

fn audited(s: &SchoolRow) -> serde_json::Value {
    serde_json::to_value(Audited { county_code: &s.county_code, name: &s.name, code: &s.code, students: s.students, address: &s.address })
        .unwrap_or_default()
}

pub fn create(conn: &mut DbConn, user: &Caller, new: NewSchool) -> Result<PlacedSchool, ApiError> {
    write_tx(conn, |conn| {
        let county = reference::find_county(conn, &new.county_code)?
            .ok_or_else(|| ApiError::field("county_code", Code::UnknownCounty, "no such county"))?;
        if !user.may_manage_schools_in(&county.code, &county.prefecture_code) {
            return Err(ApiError::Forbidden("you may register schools only in your own county".into()));
        }
        let now = super::now();
        let row = SchoolRow {
            id: super::new_id(),
            county_code: county.code.clone(),
            name: new.name,
            code: new.code,
            students: new.students,
            address: new.address,
            created_at: now,
            updated_at: now,
        };
        schools::insert(conn, &row)?;
        super::audit(conn, &user.actor(), "school.create", ("school", &row.id), None, Some(audited(&row)))?;
        Ok(PlacedSchool { school: row, prefecture_code: county.prefecture_code })
    })
}

/// A school the caller may read; anything else is "not found".
pub fn get(conn: &mut DbConn, user: &Caller, id: &str) -> Result<PlacedSchool, ApiError> {
    match schools::find(conn, id)? {
        Some(s) if user.scope().may_read_school(&place(&s)) => Ok(s),
        _ => Err(ApiError::NotFound("school")),
    }
}

pub fn update(conn: &mut DbConn, user: &Caller, id: &str, mut changes: SchoolChangeset) -> Result<PlacedSchool, ApiError> {
    write_tx(conn, |conn| {
        let before = get(conn, user, id)?;
        if !user.may_manage_schools_in(&before.school.county_code, &before.prefecture_code) {
            return Err(ApiError::Forbidden("only the school's county bureau may edit it".into()));
        }
        changes.updated_at = Some(super::now());
        schools::update(conn, id, &changes)?;
        let after = schools::find(conn, id)?.ok_or(ApiError::NotFound("school"))?;
        super::audit(conn, &user.actor(), "school.update", ("school", id), Some(audited(&before.school)), Some(audited(&after.school)))?;
        Ok(after)
    })
}

/// Narrows a list request to the caller's scope; a filter outside it is a 403.
pub fn list(conn: &mut DbConn, user: &Caller, req: ListRequest) -> Result<Vec<PlacedSchool>, ApiError> {
    let outside = || ApiError::Forbidden("the filter is outside your scope".into());
    let mut filter = SchoolFilter {
        county_code: req.county_code.clone(),
        prefecture_code: req.prefecture_code.clone(),
        after_id: req.after_id,
        limit: req.limit,
        ids: None,
    };
    let county_prefecture = match &req.county_code {
        Some(c) => Some(reference::find_county(conn, c)?.map(|c| c.prefecture_code)),
        None => None,
    };
    let set = user.scope().schools().ok_or_else(|| ApiError::Forbidden("suppliers cannot list schools".into()))?;
    let asked = Narrowing {
        county: req.county_code.as_deref().map(|c| (c, county_prefecture.as_ref().and_then(|p| p.as_deref()))),
        prefecture: req.prefecture_code.as_deref(),
    };
    let admitted = set.admits(
        asked,
        conn,
        |conn, county| Ok::<_, ApiError>(reference::find_county(conn, county)?.map(|c| c.prefecture_code)),
        |conn, school| Ok(place(&schools::find(conn, school)?.ok_or(ApiError::Unauthorized)?)),
    )?;
    if !admitted {
        return Err(outside());
    }
    narrow(&mut filter, set);
    Ok(schools::list(conn, &filter)?)
}

/// Narrows a school filter to the schools a caller's lists hold.
fn narrow(f: &mut SchoolFilter, set: SchoolSet<'_>) {
    match set {
        SchoolSet::All => {}
        SchoolSet::Prefecture(p) => f.prefecture_code = Some(p.to_owned()),
        SchoolSet::County(c) => f.county_code = Some(c.to_owned()),
        SchoolSet::School(s) => f.ids = Some(vec![s.to_owned()]),
    }
}

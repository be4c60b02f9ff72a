//! Schools: registered and edited by the bureau of their county (or an admin), read by
//! anyone whose scope covers them. Out of scope → 404; a list filter out of scope → 403.

use serde::Serialize;

use crate::auth::role::SchoolPlace;
use crate::auth::{AuthUser, Role};
use crate::db::repo::reference;
use crate::db::repo::schools::{self, PlacedSchool, SchoolChangeset, SchoolFilter, SchoolRow};
use crate::db::{DbConn, write_tx};
use crate::error::ApiError;

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

pub fn place(s: &PlacedSchool) -> SchoolPlace<'_> {
    SchoolPlace { school_id: &s.school.id, county_code: &s.school.county_code, prefecture_code: &s.prefecture_code }
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

pub fn create(conn: &mut DbConn, user: &AuthUser, new: NewSchool) -> Result<PlacedSchool, ApiError> {
    write_tx(conn, |conn| {
        let county = reference::find_county(conn, &new.county_code)?
            .ok_or_else(|| ApiError::field("county_code", "unknown_county", "no such county"))?;
        if !user.role.can_manage_schools_in(&county.code) {
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
pub fn get(conn: &mut DbConn, user: &AuthUser, id: &str) -> Result<PlacedSchool, ApiError> {
    match schools::find(conn, id)? {
        Some(s) if user.role.can_read_school(place(&s)) => Ok(s),
        _ => Err(ApiError::NotFound("school")),
    }
}

pub fn update(conn: &mut DbConn, user: &AuthUser, id: &str, mut changes: SchoolChangeset) -> Result<PlacedSchool, ApiError> {
    write_tx(conn, |conn| {
        let before = get(conn, user, id)?;
        if !user.role.can_manage_schools_in(&before.school.county_code) {
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
pub fn list(conn: &mut DbConn, user: &AuthUser, req: ListRequest) -> Result<Vec<PlacedSchool>, ApiError> {
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
    match &user.role {
        Role::Admin | Role::Province => {}
        Role::Prefecture(p) => {
            if req.prefecture_code.as_ref().is_some_and(|x| x != p)
                || county_prefecture.as_ref().is_some_and(|cp| cp.as_deref() != Some(p.as_str()))
            {
                return Err(outside());
            }
            filter.prefecture_code = Some(p.clone());
        }
        Role::County(c) => {
            if req.county_code.as_ref().is_some_and(|x| x != c) {
                return Err(outside());
            }
            if let Some(p) = &req.prefecture_code {
                let mine = reference::find_county(conn, c)?.map(|c| c.prefecture_code);
                if mine.as_deref() != Some(p.as_str()) {
                    return Err(outside());
                }
            }
            filter.county_code = Some(c.clone());
        }
        Role::Canteen(s) => {
            if req.county_code.is_some() || req.prefecture_code.is_some() {
                let own = schools::find(conn, s)?.ok_or(ApiError::Unauthorized)?;
                let county_ok = req.county_code.as_ref().is_none_or(|c| *c == own.school.county_code);
                let pref_ok = req.prefecture_code.as_ref().is_none_or(|p| *p == own.prefecture_code);
                if !(county_ok && pref_ok) {
                    return Err(outside());
                }
            }
            filter.ids = Some(vec![s.clone()]);
        }
        Role::Supplier(_) => return Err(ApiError::Forbidden("suppliers cannot list schools".into())),
    }
    Ok(schools::list(conn, &filter)?)
}

//! Prefectures, counties and county poverty designations.

use chrono::NaiveDate;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{counties, county_designations, prefectures};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = prefectures)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct PrefectureRow {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub kind: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = counties)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct CountyRow {
    pub code: String,
    pub prefecture_code: String,
    pub name_zh: String,
    pub name_en: String,
    pub kind: String,
    pub poverty_county_2019: bool,
    pub deep_poverty: String,
    pub exit_year: Option<i32>,
    pub source_note: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = county_designations)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct DesignationRow {
    pub id: String,
    pub county_code: String,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    pub note: String,
}

pub fn list_prefectures(conn: &mut DbConn) -> QueryResult<Vec<PrefectureRow>> {
    prefectures::table.order(prefectures::code).select(PrefectureRow::as_select()).load(conn)
}

pub fn find_prefecture(conn: &mut DbConn, code: &str) -> QueryResult<Option<PrefectureRow>> {
    prefectures::table.find(code).select(PrefectureRow::as_select()).first(conn).optional()
}

pub fn list_counties(conn: &mut DbConn, prefecture: Option<&str>) -> QueryResult<Vec<CountyRow>> {
    let mut q = counties::table.order(counties::code).select(CountyRow::as_select()).into_boxed();
    if let Some(p) = prefecture {
        q = q.filter(counties::prefecture_code.eq(p.to_owned()));
    }
    q.load(conn)
}

pub fn find_county(conn: &mut DbConn, code: &str) -> QueryResult<Option<CountyRow>> {
    counties::table.find(code).select(CountyRow::as_select()).first(conn).optional()
}

pub fn upsert_prefecture(conn: &mut DbConn, row: &PrefectureRow) -> QueryResult<()> {
    if find_prefecture(conn, &row.code)?.is_some() {
        diesel::update(prefectures::table.find(&row.code)).set(row).execute(conn).map(drop)
    } else {
        diesel::insert_into(prefectures::table).values(row).execute(conn).map(drop)
    }
}

pub fn upsert_county(conn: &mut DbConn, row: &CountyRow) -> QueryResult<()> {
    if find_county(conn, &row.code)?.is_some() {
        diesel::update(counties::table.find(&row.code)).set(row).execute(conn).map(drop)
    } else {
        diesel::insert_into(counties::table).values(row).execute(conn).map(drop)
    }
}

pub fn designations_of(conn: &mut DbConn, county_code: &str) -> QueryResult<Vec<DesignationRow>> {
    designations_of_many(conn, &[county_code])
}

/// The designations of these counties, by county and start.
pub fn designations_of_many(conn: &mut DbConn, county_codes: &[&str]) -> QueryResult<Vec<DesignationRow>> {
    county_designations::table
        .filter(county_designations::county_code.eq_any(county_codes))
        .order((county_designations::county_code, county_designations::valid_from))
        .select(DesignationRow::as_select())
        .load(conn)
}

/// Which of these codes name a county of the province.
pub fn existing_county_codes(conn: &mut DbConn, codes: &[&str]) -> QueryResult<Vec<String>> {
    counties::table.filter(counties::code.eq_any(codes)).select(counties::code).load(conn)
}

pub fn all_designations(conn: &mut DbConn) -> QueryResult<Vec<DesignationRow>> {
    county_designations::table
        .order((county_designations::county_code, county_designations::valid_from))
        .select(DesignationRow::as_select())
        .load(conn)
}

pub fn replace_designations(conn: &mut DbConn, county_code: &str, rows: &[DesignationRow]) -> QueryResult<()> {
    diesel::delete(county_designations::table.filter(county_designations::county_code.eq(county_code))).execute(conn)?;
    for row in rows {
        diesel::insert_into(county_designations::table).values(row).execute(conn)?;
    }
    Ok(())
}

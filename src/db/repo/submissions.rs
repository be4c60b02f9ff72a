//! Half-monthly submissions and the chain heads each one froze; append-only (triggers on
//! both backends refuse UPDATE and DELETE).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{audit_log, counties, ledger_heads, purchase_qualifications, purchases, schools, submission_heads, submissions};
use crate::domain::catalog::{EntryKind, QualificationClass, Tag};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = submissions)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct SubmissionRow {
    pub id: String,
    /// `county` or `prefecture`.
    pub unit_kind: String,
    pub unit_code: String,
    /// `YYYY-MM-H1` / `YYYY-MM-H2`.
    pub period: String,
    pub revision: i32,
    pub reason: Option<String>,
    pub idem_key: String,
    /// The canonical request body, to tell a replay from a reuse of the key.
    pub request_json: String,
    pub submitted_by: String,
    pub submitted_at: NaiveDateTime,
    pub due_on: NaiveDate,
    pub on_time: bool,
    pub policy_version: String,
    pub digest: String,
    /// The answer of `GET /submissions/{id}`, byte for byte.
    pub frozen_json: String,
}

/// A submission without its frozen document (lists, status).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = submissions)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct SubmissionMeta {
    pub id: String,
    pub unit_kind: String,
    pub unit_code: String,
    pub period: String,
    pub revision: i32,
    pub reason: Option<String>,
    pub submitted_by: String,
    pub submitted_at: NaiveDateTime,
    pub due_on: NaiveDate,
    pub on_time: bool,
    pub digest: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = submission_heads)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct HeadRow {
    pub submission_id: String,
    pub school_id: String,
    pub seq: i64,
    pub hash: String,
}

pub fn insert(conn: &mut DbConn, row: &SubmissionRow, heads: &[HeadRow]) -> QueryResult<()> {
    diesel::insert_into(submissions::table).values(row).execute(conn)?;
    for chunk in heads.chunks(super::bulk::CHUNK) {
        super::bulk::insert_many!(conn, submission_heads::table, chunk)?;
    }
    Ok(())
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<SubmissionRow>> {
    submissions::table.find(id).select(SubmissionRow::as_select()).first(conn).optional()
}

/// The submission a unit made with this Idempotency-Key.
pub fn by_key(conn: &mut DbConn, kind: &str, code: &str, key: &str) -> QueryResult<Option<SubmissionRow>> {
    submissions::table
        .filter(submissions::unit_kind.eq(kind))
        .filter(submissions::unit_code.eq(code))
        .filter(submissions::idem_key.eq(key))
        .select(SubmissionRow::as_select())
        .first(conn)
        .optional()
}

/// Every revision of a unit's submission for a half-month, first first.
pub fn revisions(conn: &mut DbConn, kind: &str, code: &str, period: &str) -> QueryResult<Vec<SubmissionMeta>> {
    submissions::table
        .filter(submissions::unit_kind.eq(kind))
        .filter(submissions::unit_code.eq(code))
        .filter(submissions::period.eq(period))
        .order(submissions::revision.asc())
        .select(SubmissionMeta::as_select())
        .load(conn)
}

/// The latest revision of a unit's submission for a half-month, with its document.
pub fn latest(conn: &mut DbConn, kind: &str, code: &str, period: &str) -> QueryResult<Option<SubmissionRow>> {
    submissions::table
        .filter(submissions::unit_kind.eq(kind))
        .filter(submissions::unit_code.eq(code))
        .filter(submissions::period.eq(period))
        .order(submissions::revision.desc())
        .select(SubmissionRow::as_select())
        .first(conn)
        .optional()
}

/// Every submission (all revisions) for a half-month, by unit and revision.
pub fn of_period(conn: &mut DbConn, period: &str) -> QueryResult<Vec<SubmissionMeta>> {
    submissions::table
        .filter(submissions::period.eq(period))
        .order((submissions::unit_kind, submissions::unit_code, submissions::revision))
        .select(SubmissionMeta::as_select())
        .load(conn)
}

/// Submissions matching the filters, newest first, at most `limit`.
pub fn list(
    conn: &mut DbConn,
    kinds_codes: Option<&[(String, String)]>,
    period: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<SubmissionMeta>> {
    let mut q = submissions::table.select(SubmissionMeta::as_select()).into_boxed();
    if let Some(p) = period {
        q = q.filter(submissions::period.eq(p.to_owned()));
    }
    let rows: Vec<SubmissionMeta> = q.order((submissions::submitted_at.desc(), submissions::id.desc())).load(conn)?;
    Ok(rows
        .into_iter()
        .filter(|r| kinds_codes.is_none_or(|set| set.iter().any(|(k, c)| *k == r.unit_kind && *c == r.unit_code)))
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .collect())
}

/// Every submission's id and digest, in id order (for `ledger verify`).
pub fn all_digests(conn: &mut DbConn) -> QueryResult<Vec<(String, String)>> {
    submissions::table.order(submissions::id).select((submissions::id, submissions::digest)).load(conn)
}

pub fn heads_of(conn: &mut DbConn, submission_id: &str) -> QueryResult<Vec<HeadRow>> {
    submission_heads::table
        .filter(submission_heads::submission_id.eq(submission_id))
        .order(submission_heads::school_id)
        .select(HeadRow::as_select())
        .load(conn)
}

/// Whether the chain of `school_id` holds an entry at `seq` with `hash`.
pub fn entry_exists(conn: &mut DbConn, school_id: &str, seq: i64, hash: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        purchases::table.filter(purchases::school_id.eq(school_id)).filter(purchases::seq.eq(seq)).filter(purchases::hash.eq(hash)),
    ))
    .get_result(conn)
}

/// The schools whose heads a freeze locks: one county's, or every county's of a prefecture.
#[derive(Debug, Clone, Copy)]
pub enum HeadScope<'a> {
    County(&'a str),
    Prefecture(&'a str),
}

/// The chain heads of the schools of `scope`, locked until the end of the transaction so
/// that no entry is appended and no entry is reclassified while a submission freezes them:
/// every writer and every reclassification locks a head before it changes anything of its
/// school. One statement, locked in school-id order (the order every other multi-school
/// lock uses: PostgreSQL locks the rows above the sort) and on `ledger_heads` rows only
/// (the schools are chosen by a subquery); `FOR SHARE`, so freezes of overlapping units do
/// not wait for each other. SQLite has one writer at a time already.
pub fn lock_heads(conn: &mut DbConn, scope: HeadScope<'_>) -> QueryResult<Vec<(String, i64, String)>> {
    macro_rules! locked {
        ($schools:expr) => {{
            let q = ledger_heads::table.filter(ledger_heads::school_id.eq_any($schools)).order(ledger_heads::school_id).select((
                ledger_heads::school_id,
                ledger_heads::seq,
                ledger_heads::hash,
            ));
            match conn {
                DbConn::Pg(c) => q.for_share().load(c),
                DbConn::Sqlite(c) => q.load(c),
            }
        }};
    }
    match scope {
        HeadScope::County(county) => locked!(schools::table.filter(schools::county_code.eq(county)).select(schools::id)),
        HeadScope::Prefecture(p) => locked!(
            schools::table
                .filter(schools::county_code.eq_any(counties::table.filter(counties::prefecture_code.eq(p)).select(counties::code)))
                .select(schools::id)
        ),
    }
}

/// One ledger entry appended after a submission froze its school's head.
#[derive(Debug, Clone, Queryable)]
pub struct LaterEntry {
    pub id: String,
    pub school_id: String,
    pub school_name: String,
    pub purchase_date: NaiveDate,
    pub kind: EntryKind,
    pub corrects_id: Option<String>,
    pub voids_id: Option<String>,
    pub total_fen: i64,
    pub recorded_by: String,
    pub recorded_at: NaiveDateTime,
    pub class: QualificationClass,
    pub tag: Option<Tag>,
}

/// The entries appended after the heads of `submission_id`, dated `from`–`to`: one index
/// range per school (`UNIQUE (school_id, seq)`), so the cost follows the changes, not the
/// ledger.
pub fn entries_after(conn: &mut DbConn, submission_id: &str, from: NaiveDate, to: NaiveDate) -> QueryResult<Vec<LaterEntry>> {
    purchases::table
        .inner_join(
            submission_heads::table.on(submission_heads::school_id
                .eq(purchases::school_id)
                .and(submission_heads::submission_id.eq(submission_id.to_owned()))
                .and(purchases::seq.gt(submission_heads::seq))),
        )
        .inner_join(purchase_qualifications::table)
        .inner_join(schools::table.on(schools::id.eq(purchases::school_id)))
        .filter(purchases::purchase_date.between(from, to))
        .order((purchases::school_id, purchases::seq))
        .select((
            purchases::id,
            purchases::school_id,
            schools::name,
            purchases::purchase_date,
            purchases::kind,
            purchases::corrects_id,
            purchases::voids_id,
            purchases::total_fen,
            purchases::recorded_by,
            purchases::recorded_at,
            purchase_qualifications::class,
            purchase_qualifications::tag,
        ))
        .load(conn)
}

/// An entry as drift needs it to price a reclassification.
#[derive(Debug, Clone, Queryable)]
pub struct EntryFacts {
    pub id: String,
    pub school_id: String,
    pub school_name: String,
    pub purchase_date: NaiveDate,
    pub seq: i64,
    pub total_fen: i64,
    pub kind: EntryKind,
}

pub fn entry_facts(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<EntryFacts>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(super::bulk::CHUNK) {
        out.extend(
            purchases::table
                .inner_join(schools::table.on(schools::id.eq(purchases::school_id)))
                .filter(purchases::id.eq_any(chunk))
                .select((
                    purchases::id,
                    purchases::school_id,
                    schools::name,
                    purchases::purchase_date,
                    purchases::seq,
                    purchases::total_fen,
                    purchases::kind,
                ))
                .load::<EntryFacts>(conn)?,
        );
    }
    Ok(out)
}

/// An audit row as drift reads it: `(id, at, actor, action, after_json)`.
pub type AuditFact = (String, NaiveDateTime, String, String, Option<String>);

/// Audit rows of reclassifying actions (tag and designation reviews) at or after `since`,
/// in time order: `(id, at, actor, action, after_json)`.
pub fn reclassifications_since(conn: &mut DbConn, since: NaiveDateTime, actions: &[&str]) -> QueryResult<Vec<AuditFact>> {
    audit_log::table
        .filter(audit_log::at.ge(since))
        .filter(audit_log::action.eq_any(actions))
        .order((audit_log::at, audit_log::id))
        .select((audit_log::id, audit_log::at, audit_log::actor, audit_log::action, audit_log::after_json))
        .load(conn)
}

/// The first submission time of each unit for a half-month: `(kind, code, submitted_at)`.
pub fn first_times(conn: &mut DbConn, period: &str) -> QueryResult<Vec<(String, String, NaiveDateTime)>> {
    submissions::table
        .filter(submissions::period.eq(period))
        .filter(submissions::revision.eq(1))
        .select((submissions::unit_kind, submissions::unit_code, submissions::submitted_at))
        .load(conn)
}

/// First county submission times for any of these half-months: `(county, period, at)`.
pub fn county_first_times(conn: &mut DbConn, counties: &[String], periods: &[String]) -> QueryResult<Vec<(String, String, NaiveDateTime)>> {
    submissions::table
        .filter(submissions::unit_kind.eq("county"))
        .filter(submissions::unit_code.eq_any(counties))
        .filter(submissions::period.eq_any(periods))
        .filter(submissions::revision.eq(1))
        .select((submissions::unit_code, submissions::period, submissions::submitted_at))
        .load(conn)
}

/// The time of the latest audit row.
pub fn last_audit_at(conn: &mut DbConn) -> QueryResult<Option<NaiveDateTime>> {
    audit_log::table.select(diesel::dsl::max(audit_log::at)).first(conn)
}

/// The heads frozen by the first county submission of each `(county, half-month)` for each
/// school, for these `(county, half-month, school)` triples.
pub fn frozen_heads(
    conn: &mut DbConn,
    triples: &[(String, String, String)],
) -> QueryResult<std::collections::HashMap<(String, String, String), i64>> {
    let mut out = std::collections::HashMap::new();
    if triples.is_empty() {
        return Ok(out);
    }
    let mut counties: Vec<&String> = triples.iter().map(|t| &t.0).collect();
    counties.sort_unstable();
    counties.dedup();
    let mut periods: Vec<&String> = triples.iter().map(|t| &t.1).collect();
    periods.sort_unstable();
    periods.dedup();
    let mut schools: Vec<&String> = triples.iter().map(|t| &t.2).collect();
    schools.sort_unstable();
    schools.dedup();
    let rows: Vec<(String, String, String, i64)> = submissions::table
        .inner_join(submission_heads::table)
        .filter(submissions::unit_kind.eq("county"))
        .filter(submissions::revision.eq(1))
        .filter(submissions::unit_code.eq_any(counties))
        .filter(submissions::period.eq_any(periods))
        .filter(submission_heads::school_id.eq_any(schools))
        .select((submissions::unit_code, submissions::period, submission_heads::school_id, submission_heads::seq))
        .load(conn)?;
    for (county, period, school, seq) in rows {
        out.insert((county, period, school), seq);
    }
    Ok(out)
}

/// The heads of `school` frozen by its county's first submission of each half-month, by
/// half-month.
pub fn frozen_heads_of_school(conn: &mut DbConn, county: &str, school: &str) -> QueryResult<std::collections::HashMap<String, i64>> {
    Ok(submissions::table
        .inner_join(submission_heads::table)
        .filter(submissions::unit_kind.eq("county"))
        .filter(submissions::revision.eq(1))
        .filter(submissions::unit_code.eq(county))
        .filter(submission_heads::school_id.eq(school))
        .select((submissions::period, submission_heads::seq))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect())
}

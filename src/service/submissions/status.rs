//! The status lists: every unit expected to report for a half-month in a scope, and where
//! each stands (`not_due`, `on_time`, `late` by N days, `missing`), with the live counts of
//! its silent schools and schools below target: the list the province names late units
//! from (通报).

use std::collections::BTreeMap;

use chrono::NaiveDateTime;

use super::document::{SchoolTally, StatusList, StatusRow, UnitRef, timestamp};
use super::{calendar, reports_to_text, tally};
use crate::db::DbConn;
use crate::db::repo::reports::ScopeFilter;
use crate::db::repo::submissions::SubmissionMeta;
use crate::db::repo::{reference, submissions as repo};
use crate::domain::access::Caller;
use crate::domain::report::{Grouping, UnitLevel};
use crate::domain::reporting::{HalfMonth, ReportsTo, Status};
use crate::error::ApiError;
use crate::service::reports::{self, ReportRequest};

/// Whose status is listed: the whole province (every prefecture and county), or one
/// prefecture (itself and the counties that report to it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusScope {
    Province,
    Prefecture(String),
}

struct Standing {
    first: NaiveDateTime,
    latest_id: String,
    latest_revision: i32,
    revisions: i64,
}

/// Live half-month tallies of the scope's schools, per unit code at `level`.
fn tallies(
    conn: &mut DbConn,
    user: &Caller,
    scope: ScopeFilter,
    period: HalfMonth,
    level: UnitLevel,
) -> Result<BTreeMap<String, SchoolTally>, ApiError> {
    let grouping = Grouping { unit: Some(level), ..Grouping::default() };
    let report = reports::shares(conn, user, &ReportRequest { scope, range: period.range(), grouping })?;
    Ok(report.rows.iter().filter_map(|r| Some((r.unit.as_ref()?.code.clone(), tally(r)?))).collect())
}

/// The unit a status list is of, once the caller may read it.
fn named_scope(conn: &mut DbConn, user: &Caller, scope: &StatusScope) -> Result<UnitRef, ApiError> {
    match scope {
        StatusScope::Province => {
            if !user.scope().is_provincial() {
                return Err(ApiError::Forbidden("the province's status list is the province's".into()));
            }
            Ok(UnitRef { kind: "province".into(), code: "520000".into(), name: "贵州省".into() })
        }
        StatusScope::Prefecture(code) => {
            let p = reference::find_prefecture(conn, code)?.ok_or(ApiError::NotFound("prefecture"))?;
            if !user.scope().may_read_prefecture(code) {
                return Err(ApiError::Forbidden("the status list is outside your scope".into()));
            }
            Ok(UnitRef { kind: "prefecture".into(), code: p.code, name: p.name_zh })
        }
    }
}

/// Where each unit stands with its submissions of a half-month, by (kind, code): the
/// first revision's time (which decides timeliness), the latest revision, their number.
fn standings(submissions: Vec<SubmissionMeta>) -> BTreeMap<(String, String), Standing> {
    let mut standing: BTreeMap<(String, String), Standing> = BTreeMap::new();
    for s in submissions {
        let e = standing.entry((s.unit_kind.clone(), s.unit_code.clone())).or_insert(Standing {
            first: s.submitted_at,
            latest_id: s.id.clone(),
            latest_revision: s.revision,
            revisions: 0,
        });
        e.revisions += 1;
        if s.revision == 1 {
            e.first = s.submitted_at;
        }
        if s.revision >= e.latest_revision {
            e.latest_revision = s.revision;
            e.latest_id = s.id;
        }
    }
    standing
}

/// Live tallies per county and per prefecture of the scope (a prefecture's: the sum of
/// its counties').
fn scope_tallies(conn: &mut DbConn, user: &Caller, scope: &StatusScope, period: HalfMonth) -> Result<(Tallies, Tallies), ApiError> {
    Ok(match scope {
        StatusScope::Province => (
            tallies(conn, user, ScopeFilter::Province, period, UnitLevel::County)?,
            tallies(conn, user, ScopeFilter::Province, period, UnitLevel::Prefecture)?,
        ),
        StatusScope::Prefecture(p) => {
            let counties = tallies(conn, user, ScopeFilter::Prefecture(p.clone()), period, UnitLevel::County)?;
            let own = counties.values().fold(SchoolTally::default(), |sum, t| sum + *t);
            (counties, BTreeMap::from([(p.clone(), own)]))
        }
    })
}

type Tallies = BTreeMap<String, SchoolTally>;

/// The status list of `scope` for `period` (the province: province scope; a prefecture:
/// its own).
pub fn status(
    conn: &mut DbConn,
    user: &Caller,
    scope: &StatusScope,
    period: HalfMonth,
    now: NaiveDateTime,
) -> Result<StatusList, ApiError> {
    let deadline = calendar()?.deadline(period).map_err(|e| ApiError::field("period", e.code(), e.to_string()))?;
    let named = named_scope(conn, user, scope)?;
    let standing = standings(repo::of_period(conn, &period.to_string())?);
    let lines = crate::service::reporting::lines(conn)?;
    let (county_tallies, prefecture_tallies) = scope_tallies(conn, user, scope, period)?;
    let mut rows = Vec::new();
    let mut push = |kind: &str, code: &str, name: &str, reports_to: String, tally: SchoolTally| {
        let st = standing.get(&(kind.to_owned(), code.to_owned()));
        let status = Status::of(deadline, st.map(|s| s.first.and_utc()), now.and_utc());
        rows.push(StatusRow {
            unit: UnitRef { kind: kind.into(), code: code.into(), name: name.into() },
            reports_to,
            status: status.as_str().into(),
            status_label: status.label_zh(),
            late_days: match status {
                Status::Late { days } => Some(days),
                _ => None,
            },
            first_submitted_at: st.map(|s| timestamp(&s.first)),
            latest_submission_id: st.map(|s| s.latest_id.clone()),
            revisions: st.map_or(0, |s| s.revisions),
            schools: tally,
        });
    };
    for p in reference::list_prefectures(conn)? {
        if prefecture_tallies.contains_key(&p.code) || matches!(scope, StatusScope::Province) {
            push("prefecture", &p.code, &p.name_zh, "province".into(), prefecture_tallies.get(&p.code).copied().unwrap_or_default());
        }
    }
    for l in &lines {
        let listed = match scope {
            StatusScope::Province => true,
            StatusScope::Prefecture(p) => l.reports_to == ReportsTo::Prefecture(p.clone()),
        };
        if listed {
            let tally = county_tallies.get(&l.county.code).copied().unwrap_or_default();
            push("county", &l.county.code, &l.county.name_zh, reports_to_text(&l.reports_to), tally);
        }
    }
    let count = |s: &str| i64::try_from(rows.iter().filter(|r| r.status == s).count()).unwrap_or(i64::MAX);
    Ok(StatusList {
        scope: named,
        period: period.to_string(),
        period_label: period.label_zh(),
        due_on: deadline.date,
        deadline_ends_at: timestamp(&deadline.ends_at().naive_utc()),
        as_of: timestamp(&now),
        on_time: count("on_time"),
        late: count("late"),
        missing: count("missing"),
        not_due: count("not_due"),
        rows,
    })
}

//! Half-monthly submissions: a county or prefecture bureau freezes what it reports for a
//! half-month (figures for the half-month and the year to date, the policy and target, the
//! chain head of every school covered with one digest over them, and the notice's four
//! narrative sections). A submission is never changed; a correction is a new revision
//! with a reason. Also: the revisions of a unit, the drift since a submission
//! ([`drift`]), the status lists ([`status`]) and the digest check of `ledger verify`.

pub mod document;
pub mod drift;
pub mod status;

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::json;

use self::document::{
    ChangeDoc, Figs, FrozenRow, NarrativeDoc, RowSource, SchoolTally, SubmissionDocument, SubmissionSummary, UnitRef, timestamp,
};
use super::purchases::{IdempotentRequest, diff_fields};
use super::reports::{self, ReportRequest};
use crate::db::repo::reference;
use crate::db::repo::reports::ScopeFilter;
use crate::db::repo::submissions::{self as repo, HeadRow, SubmissionMeta, SubmissionRow};
use crate::db::{DbConn, write_tx};
use crate::domain::access::Caller;
use crate::domain::period::DateRange;
use crate::domain::report::{Grouping, Report, Row, UnitLevel};
use crate::domain::reporting::{Calendar, HalfMonth, ReportsTo, Status, Timeliness};
use crate::domain::shares::Target;
use crate::domain::submission::{self as rules, Fig, Head, Narrative, Unit};
use crate::error::{ApiError, Code, FieldError, ProblemType};
use crate::service::qualify::POLICY;

/// A submission as asked for, already parsed.
#[derive(Debug, Clone)]
pub struct SubmitRequest {
    pub unit: Unit,
    pub period: HalfMonth,
    pub narrative: Narrative,
    pub reason: Option<String>,
}

/// What a submission answered: the stored document, and whether it was made now.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub id: String,
    /// The document, byte for byte as stored.
    pub document: String,
    pub created: bool,
}

/// The policy's reporting calendar.
pub fn calendar() -> Result<Calendar, ApiError> {
    Calendar::by_policy(POLICY.version)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("policy {} has no reporting calendar", POLICY.version)))
}

/// A unit with its name and the bureau it reports to; 404-free: an unknown unit is a 422
/// on `field`.
struct Placed {
    unit: Unit,
    name: String,
    /// The prefecture a county lies in (a prefecture's own code).
    prefecture: String,
    reports_to: ReportsTo,
}

fn place(conn: &mut DbConn, unit: &Unit, _field: &str) -> Result<Placed, ApiError> {
    match unit {
        Unit::County(code) => {
            let c = reference::find_county(conn, code)?.ok_or(ApiError::NotFound("county"))?;
            let line = super::reporting::lines(conn)?.into_iter().find(|l| l.county.code == *code);
            let reports_to = line.map_or_else(|| ReportsTo::Prefecture(c.prefecture_code.clone()), |l| l.reports_to);
            Ok(Placed { unit: unit.clone(), name: c.name_zh, prefecture: c.prefecture_code, reports_to })
        }
        Unit::Prefecture(code) => {
            let p = reference::find_prefecture(conn, code)?.ok_or(ApiError::NotFound("prefecture"))?;
            Ok(Placed { unit: unit.clone(), name: p.name_zh, prefecture: p.code, reports_to: ReportsTo::Province })
        }
    }
}

pub(crate) fn reports_to_text(r: &ReportsTo) -> String {
    match r {
        ReportsTo::Province => "province".into(),
        ReportsTo::Prefecture(p) => format!("prefecture:{p}"),
    }
}

/// May read submissions of this unit: a county its own, a prefecture its own and its
/// counties', the province (and administrator) all.
fn may_read(user: &Caller, placed: &Placed) -> bool {
    match &placed.unit {
        Unit::County(c) => user.scope().may_read_county(c, &placed.prefecture),
        Unit::Prefecture(p) => user.scope().may_read_prefecture(p),
    }
}

pub(crate) fn scope_of(unit: &Unit) -> ScopeFilter {
    match unit {
        Unit::County(c) => ScopeFilter::County(c.clone()),
        Unit::Prefecture(p) => ScopeFilter::Prefecture(p.clone()),
    }
}

/// The year-to-date range of a half-month: 1 January to its last day.
pub fn year_range(period: HalfMonth) -> DateRange {
    let from = NaiveDate::from_ymd_opt(period.year(), 1, 1).unwrap_or(period.first_day());
    DateRange { from, to: period.last_day() }
}

fn unit_ref(kind: &str, code: &str, name: &str) -> UnitRef {
    UnitRef { kind: kind.to_owned(), code: code.to_owned(), name: name.to_owned() }
}

fn row_fig(r: &Row) -> Fig {
    Fig::of(&r.figures, r.purchases)
}

pub(crate) fn tally(r: &Row) -> Option<SchoolTally> {
    r.schools.map(|c| SchoolTally { schools: c.schools, silent: c.silent, below_target: c.reporting - c.meeting_target })
}

/// The share report of `scope` over `range`, one row per `level`.
fn report(conn: &mut DbConn, user: &Caller, scope: ScopeFilter, range: DateRange, level: UnitLevel) -> Result<Report, ApiError> {
    reports::shares(conn, user, &ReportRequest { scope, range, grouping: Grouping { unit: Some(level), ..Grouping::default() } })
}

/// Live per-unit figures (half-month and year to date) of a scope, by unit code.
pub(crate) struct Live {
    pub target: Target,
    pub summary: (Fig, Fig, Option<SchoolTally>),
    pub rows: BTreeMap<String, (UnitRef, Fig, Fig, Option<SchoolTally>)>,
}

pub(crate) fn live(conn: &mut DbConn, user: &Caller, scope: &ScopeFilter, period: HalfMonth, level: UnitLevel) -> Result<Live, ApiError> {
    let half = report(conn, user, scope.clone(), period.range(), level)?;
    let year = report(conn, user, scope.clone(), year_range(period), level)?;
    let mut rows = BTreeMap::new();
    for r in &half.rows {
        if let Some(u) = &r.unit {
            rows.insert(u.code.clone(), (unit_ref(u.kind, &u.code, &u.name), row_fig(r), Fig::default(), tally(r)));
        }
    }
    for r in &year.rows {
        if let Some(u) = &r.unit {
            rows.entry(u.code.clone()).or_insert_with(|| (unit_ref(u.kind, &u.code, &u.name), Fig::default(), Fig::default(), None)).2 =
                row_fig(r);
        }
    }
    Ok(Live { target: half.target, summary: (row_fig(&half.summary), row_fig(&year.summary), tally(&half.summary)), rows })
}

/// The moment a freeze is of: its instant, and the last audit row its figures include.
#[derive(Debug, Clone)]
struct Moment {
    as_of: String,
    audit_mark: Option<String>,
}

fn frozen_row(
    unit: UnitRef,
    half: Fig,
    year: Fig,
    schools: Option<SchoolTally>,
    source: Option<RowSource>,
    at: &Moment,
    target: Target,
) -> FrozenRow {
    FrozenRow {
        unit,
        half_month: Figs::of(half, target),
        year_to_date: Figs::of(year, target),
        schools,
        source,
        as_of: at.as_of.clone(),
        audit_mark: at.audit_mark.clone(),
    }
}

/// Submits (or revises) a unit's report for a half-month, in one write transaction.
/// `now` is the instant of the submission (the application's clock).
/// (67 lines: 40 of them are the frozen document's one struct literal.)
pub fn submit(
    conn: &mut DbConn,
    user: &Caller,
    req: SubmitRequest,
    idem: &IdempotentRequest,
    now: NaiveDateTime,
) -> Result<Submitted, ApiError> {
    req.narrative.check().map_err(|e| ApiError::field(e.field(), e.code(), e.to_string()))?;
    let calendar = calendar()?;
    write_tx(conn, |conn| {
        let placed = place(conn, &req.unit, "unit")?;
        if !user.may_report_for(&req.unit) {
            return Err(ApiError::Forbidden(format!("only the bureau of {} submits its reports", req.unit)));
        }
        if let Some(stored) = repo::by_key(conn, req.unit.kind(), req.unit.code(), &idem.key)? {
            return replay(&stored, idem);
        }
        let deadline = calendar
            .check_submission(req.period, now.and_utc())
            .map_err(|e| refusal("period", e.code(), e.to_string(), e.is_conflict()))?;
        let period = req.period.to_string();
        let earlier = repo::revisions(conn, req.unit.kind(), req.unit.code(), &period)?;
        let revision = rules::next_revision(earlier.last().map(|r| r.revision), req.reason.as_deref())
            .map_err(|e| refusal(e.field(), e.code(), e.to_string(), e.is_conflict()))?;
        let id = super::new_id();
        let (doc, heads) = freeze(conn, user, &placed, req.period, &id, now)?;
        let timeliness = Timeliness::of(deadline, now.and_utc());
        let digest = rules::digest(&heads);
        let document = SubmissionDocument {
            id: id.clone(),
            unit: unit_ref(req.unit.kind(), req.unit.code(), &placed.name),
            reports_to: reports_to_text(&placed.reports_to),
            period: period.clone(),
            period_label: req.period.label_zh(),
            from: req.period.first_day(),
            to: req.period.last_day(),
            year_from: year_range(req.period).from,
            revision,
            reason: req.reason.clone(),
            revises: earlier.last().map(|r| r.id.clone()),
            submitted_by: user.actor(),
            submitted_at: timestamp(&now),
            due_on: deadline.date,
            on_time: timeliness == Timeliness::OnTime,
            late_days: match timeliness {
                Timeliness::Late { days } => Some(days),
                Timeliness::OnTime => None,
            },
            policy: POLICY.version.to_owned(),
            target: doc.target.into(),
            digest: digest.clone(),
            schools_covered: i64::try_from(heads.len()).unwrap_or(i64::MAX),
            narrative: NarrativeDoc {
                progress: req.narrative.progress.clone(),
                experience: req.narrative.experience.clone(),
                difficulties: req.narrative.difficulties.clone(),
                measures: req.narrative.measures.clone(),
            },
            summary: doc.summary,
            rows: doc.rows,
            adjustments: doc.adjustments,
        };
        let frozen_json = serde_json::to_string(&document).map_err(|e| ApiError::Internal(e.into()))?;
        record(conn, &document, &frozen_json, &req.unit, idem, &heads, now)?;
        Ok(Submitted { id, document: frozen_json, created: true })
    })
}

/// Stores a submission (its row and its heads, refused by the database if another revision
/// took its number at the same moment) and its audit row.
fn record(
    conn: &mut DbConn,
    document: &SubmissionDocument,
    frozen_json: &str,
    unit: &Unit,
    idem: &IdempotentRequest,
    heads: &[Head],
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let d = document;
    let row = SubmissionRow {
        id: d.id.clone(),
        unit_kind: unit.kind().to_owned(),
        unit_code: unit.code().to_owned(),
        period: d.period.clone(),
        revision: d.revision,
        reason: d.reason.clone(),
        idem_key: idem.key.clone(),
        request_json: idem.canonical().to_owned(),
        submitted_by: d.submitted_by.clone(),
        submitted_at: now,
        due_on: d.due_on,
        on_time: d.on_time,
        policy_version: d.policy.clone(),
        digest: d.digest.clone(),
        frozen_json: frozen_json.to_owned(),
    };
    let head_rows: Vec<HeadRow> = heads
        .iter()
        .map(|h| HeadRow { submission_id: d.id.clone(), school_id: h.school_id.clone(), seq: h.seq, hash: h.hash.clone() })
        .collect();
    repo::insert(conn, &row, &head_rows).map_err(|e| match ApiError::from(e) {
        ApiError::Conflict { .. } => ApiError::conflict(
            ProblemType::Conflict,
            format!("another submission of {unit} for {} was made at the same moment; read its revisions and retry", d.period),
        ),
        other => other,
    })?;
    super::audit(
        conn,
        &d.submitted_by,
        if d.revision == 1 { "submission.submit" } else { "submission.revise" },
        ("submission", &d.id),
        None,
        Some(json!({
            "unit": unit.to_string(), "period": d.period, "revision": d.revision, "reason": d.reason,
            "digest": d.digest, "on_time": d.on_time, "schools_covered": heads.len(),
        })),
    )
}

/// A refused submission: a 409 naming the field where the refusal comes from the stored
/// state or the clock (the same request may be right at another time), else a 422.
fn refusal(field: &str, code: Code, message: String, conflict: bool) -> ApiError {
    if !conflict {
        return ApiError::field(field, code, message);
    }
    ApiError::Conflict { slug: ProblemType::Conflict, detail: message.clone(), errors: vec![FieldError::new(field, code, message)] }
}

fn replay(stored: &SubmissionRow, idem: &IdempotentRequest) -> Result<Submitted, ApiError> {
    if stored.request_json == idem.canonical() {
        return Ok(Submitted { id: stored.id.clone(), document: stored.frozen_json.clone(), created: false });
    }
    let before: serde_json::Value = serde_json::from_str(&stored.request_json).unwrap_or_default();
    let fields = diff_fields(&before, &idem.body());
    Err(ApiError::Conflict {
        slug: ProblemType::IdempotencyKeyReused,
        detail: format!(
            "Idempotency-Key {:?} was already used with a different submission (differs in: {})",
            idem.key,
            fields.iter().map(|f| f.field.as_str()).collect::<Vec<_>>().join(", ")
        ),
        errors: fields,
    })
}

/// What a freeze produced, before the document is dressed.
struct Frozen {
    target: Target,
    summary: FrozenRow,
    rows: Vec<FrozenRow>,
    adjustments: Vec<ChangeDoc>,
}

/// Locks the heads of every school the unit covers, then reads its figures: nothing can
/// be appended or reclassified in these schools until the transaction ends, so the heads
/// and the figures are of one moment.
fn freeze(
    conn: &mut DbConn,
    user: &Caller,
    placed: &Placed,
    period: HalfMonth,
    id: &str,
    now: NaiveDateTime,
) -> Result<(Frozen, Vec<Head>), ApiError> {
    match &placed.unit {
        Unit::County(code) => {
            let heads = lock_heads(conn, repo::HeadScope::County(code))?;
            let as_of = Moment { as_of: timestamp(&now), audit_mark: repo::last_audit_at(conn)?.as_ref().map(timestamp) };
            let live = live(conn, user, &ScopeFilter::County(code.clone()), period, UnitLevel::School)?;
            let target = live.target;
            let rows =
                live.rows.into_values().map(|(unit, half, year, _)| frozen_row(unit, half, year, None, None, &as_of, target)).collect();
            let (half, year, counts) = live.summary;
            let summary = frozen_row(unit_ref("county", code, &placed.name), half, year, counts, None, &as_of, target);
            let adjustments = adjustments(conn, &placed.unit, period, id)?;
            Ok((Frozen { target, summary, rows, adjustments }, heads))
        }
        Unit::Prefecture(code) => freeze_prefecture(conn, user, placed, code, period, now),
    }
}

fn lock_heads(conn: &mut DbConn, scope: repo::HeadScope<'_>) -> Result<Vec<Head>, ApiError> {
    Ok(repo::lock_heads(conn, scope)?.into_iter().map(|(school_id, seq, hash)| Head { school_id, seq, hash }).collect())
}

/// A prefecture freezes, per county: the county's latest submission for the half-month
/// (its figures and its heads), or — where the county has not submitted — the live
/// figures and heads of its schools.
fn freeze_prefecture(
    conn: &mut DbConn,
    user: &Caller,
    placed: &Placed,
    code: &str,
    period: HalfMonth,
    now: NaiveDateTime,
) -> Result<(Frozen, Vec<Head>), ApiError> {
    let calendar = calendar()?;
    let deadline = calendar.deadline(period).map_err(|e| ApiError::field("period", e.code(), e.to_string()))?;
    let heads_now = lock_heads(conn, repo::HeadScope::Prefecture(code))?;
    let as_of = &Moment { as_of: timestamp(&now), audit_mark: repo::last_audit_at(conn)?.as_ref().map(timestamp) };
    let live = live(conn, user, &ScopeFilter::Prefecture(code.to_owned()), period, UnitLevel::County)?;
    let target = live.target;
    let counties = reference::list_counties(conn, Some(code))?;
    let mut heads: Vec<Head> = Vec::new();
    let mut rows = Vec::new();
    let (mut half_sum, mut year_sum, mut tally_sum) = (Fig::default(), Fig::default(), SchoolTally::default());
    let first_times: BTreeMap<String, NaiveDateTime> =
        repo::first_times(conn, &period.to_string())?.into_iter().filter(|(k, ..)| k == "county").map(|(_, c, at)| (c, at)).collect();
    let county_of: HashMap<String, String> =
        crate::db::repo::schools::roster(conn, None, Some(code), None)?.into_iter().map(|(id, _, county, _)| (id, county)).collect();
    let mut live_heads: HashMap<&str, Vec<Head>> = HashMap::new();
    for h in heads_now {
        if let Some(county) = county_of.get(&h.school_id) {
            live_heads.entry(county.as_str()).or_default().push(h);
        }
    }
    for county in counties {
        let status = Status::of(deadline, first_times.get(&county.code).map(NaiveDateTime::and_utc), now.and_utc());
        let live_row = live.rows.get(&county.code);
        let tally = live_row.and_then(|r| r.3).unwrap_or_default();
        let row = match repo::latest(conn, "county", &county.code, &period.to_string())? {
            Some(sub) => {
                let doc: SubmissionDocument = serde_json::from_str(&sub.frozen_json).map_err(|e| ApiError::Internal(e.into()))?;
                heads.extend(repo::heads_of(conn, &sub.id)?.into_iter().map(|h| Head { school_id: h.school_id, seq: h.seq, hash: h.hash }));
                let source = RowSource {
                    kind: "submission".into(),
                    submission_id: Some(sub.id),
                    revision: Some(sub.revision),
                    status: status.as_str().into(),
                };
                FrozenRow { source: Some(source), ..doc.summary }
            }
            None => {
                heads.extend(live_heads.remove(county.code.as_str()).unwrap_or_default());
                let (half, year) = live_row.map(|r| (r.1, r.2)).unwrap_or_default();
                let source = RowSource { kind: "live".into(), submission_id: None, revision: None, status: status.as_str().into() };
                frozen_row(unit_ref("county", &county.code, &county.name_zh), half, year, Some(tally), Some(source), as_of, target)
            }
        };
        half_sum.add(&row.half_month.fig());
        year_sum.add(&row.year_to_date.fig());
        tally_sum = tally_sum + row.schools.unwrap_or_default();
        rows.push(row);
    }
    let summary = frozen_row(unit_ref("prefecture", code, &placed.name), half_sum, year_sum, Some(tally_sum), None, as_of, target);
    Ok((Frozen { target, summary, rows, adjustments: Vec::new() }, heads))
}

/// Changes to earlier half-months since the county's previous submission: entries
/// appended after that submission's heads and dated in what it covered.
fn adjustments(conn: &mut DbConn, unit: &Unit, period: HalfMonth, _id: &str) -> Result<Vec<ChangeDoc>, ApiError> {
    let Some(previous) = previous_submission(conn, unit, period)? else { return Ok(Vec::new()) };
    let Ok(prev_period) = HalfMonth::parse(&previous.period) else { return Ok(Vec::new()) };
    let covered = year_range(prev_period);
    drift::entry_changes(conn, &previous.id, covered, prev_period.range())
}

/// The standing revision of the unit's latest submission for a half-month before `period`.
fn previous_submission(conn: &mut DbConn, unit: &Unit, period: HalfMonth) -> Result<Option<SubmissionMeta>, ApiError> {
    let before = repo::list(conn, Some(&[(unit.kind().to_owned(), unit.code().to_owned())]), None, i64::MAX)?;
    let wanted = period.to_string();
    Ok(before.into_iter().filter(|s| s.period < wanted).max_by(|a, b| (&a.period, a.revision).cmp(&(&b.period, b.revision))))
}

/// A stored submission, if the caller may read it (else 404, as for anything out of scope).
pub(crate) fn readable(conn: &mut DbConn, user: &Caller, id: &str) -> Result<SubmissionRow, ApiError> {
    let row = repo::find(conn, id)?.ok_or(ApiError::NotFound("submission"))?;
    let unit = Unit::from_parts(&row.unit_kind, &row.unit_code)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("submission {id}: unknown unit kind {:?}", row.unit_kind)))?;
    let placed = place(conn, &unit, "unit")?;
    if !may_read(user, &placed) {
        return Err(ApiError::NotFound("submission"));
    }
    Ok(row)
}

/// The frozen document of a submission, exactly as stored.
pub fn get(conn: &mut DbConn, user: &Caller, id: &str) -> Result<SubmissionRow, ApiError> {
    readable(conn, user, id)
}

/// The revisions a caller may read, newest first: of one unit (and half-month), or every
/// unit in the caller's scope.
pub fn list(conn: &mut DbConn, user: &Caller, unit: Option<&Unit>, period: Option<HalfMonth>) -> Result<Vec<SubmissionSummary>, ApiError> {
    let period = period.map(|p| p.to_string());
    let allowed: Option<Vec<(String, String)>> = match unit {
        Some(u) => {
            let placed = place(conn, u, "unit")?;
            if !may_read(user, &placed) {
                return Err(ApiError::Forbidden(format!("the submissions of {u} are outside your scope")));
            }
            Some(vec![(u.kind().to_owned(), u.code().to_owned())])
        }
        None => readable_units(conn, user)?,
    };
    let rows = repo::list(conn, allowed.as_deref(), period.as_deref(), 1_000)?;
    let mut latest: BTreeMap<(String, String, String), i32> = BTreeMap::new();
    for r in &rows {
        let e = latest.entry((r.unit_kind.clone(), r.unit_code.clone(), r.period.clone())).or_default();
        *e = (*e).max(r.revision);
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let is_latest = latest.get(&(r.unit_kind.clone(), r.unit_code.clone(), r.period.clone())) == Some(&r.revision);
            summary_of(r, is_latest)
        })
        .collect())
}

fn summary_of(r: SubmissionMeta, latest: bool) -> SubmissionSummary {
    SubmissionSummary {
        unit: format!("{}:{}", r.unit_kind, r.unit_code),
        id: r.id,
        period: r.period,
        revision: r.revision,
        reason: r.reason,
        submitted_by: r.submitted_by,
        submitted_at: timestamp(&r.submitted_at),
        due_on: r.due_on,
        on_time: r.on_time,
        digest: r.digest,
        latest,
    }
}

/// The units whose submissions the caller may read (`None`: all of them).
fn readable_units(conn: &mut DbConn, user: &Caller) -> Result<Option<Vec<(String, String)>>, ApiError> {
    let scope = user.scope();
    if scope.is_provincial() {
        return Ok(None);
    }
    let mut out = Vec::new();
    for p in reference::list_prefectures(conn)? {
        if scope.may_read_prefecture(&p.code) {
            out.push(("prefecture".to_owned(), p.code));
        }
    }
    for c in reference::list_counties(conn, None)? {
        if scope.may_read_county(&c.code, &c.prefecture_code) {
            out.push(("county".to_owned(), c.code));
        }
    }
    Ok(Some(out))
}

/// One submission whose digest or heads do not match the chains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenSubmission {
    pub id: String,
    pub problem: String,
}

/// Recomputes every submission's digest from its stored heads and checks each head is
/// still an entry of its school's chain (seq 0 is the genesis head).
pub fn verify_all(conn: &mut DbConn) -> Result<(usize, Vec<BrokenSubmission>), ApiError> {
    let all = repo::all_digests(conn)?;
    let mut broken = Vec::new();
    for (id, digest) in &all {
        let heads: Vec<Head> =
            repo::heads_of(conn, id)?.into_iter().map(|h| Head { school_id: h.school_id, seq: h.seq, hash: h.hash }).collect();
        if rules::digest(&heads) != *digest {
            broken.push(BrokenSubmission { id: id.clone(), problem: "the digest does not match the stored heads".into() });
            continue;
        }
        for h in &heads {
            let present =
                if h.seq == 0 { h.hash == crate::domain::ledger::GENESIS } else { repo::entry_exists(conn, &h.school_id, h.seq, &h.hash)? };
            if !present {
                broken.push(BrokenSubmission {
                    id: id.clone(),
                    problem: format!("school {}: head seq {} ({}) is not in the chain", h.school_id, h.seq, h.hash),
                });
                break;
            }
        }
    }
    Ok((all.len(), broken))
}

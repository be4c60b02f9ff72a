//! Drift: how the ledger moved since a submission froze it, explained to the fen. Every
//! change is either an entry appended after the frozen chain head of its school (a late
//! entry, a void, a correction; priced at its qualification now) or a reclassification of
//! an entry the freeze already counted (priced from → to, from the audit row of the tag or
//! designation review that moved it). Frozen + changes = now, per row and in total: the
//! `unexplained` figures are zero unless the ledger was changed outside the service.
//!
//! The cost follows the changes: entries after the heads are one index range per school,
//! reclassifications are the audit rows since the submission.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDateTime;

use super::document::{ChangeDoc, DeltaPair, DriftReport, DriftRow, SubmissionDocument, UnitRef, parse_timestamp, timestamp};
use super::{live, readable, scope_of, year_range};
use crate::db::repo::submissions as repo;
use crate::db::{DbConn, read_tx};
use crate::domain::access::Caller;
use crate::domain::catalog::EntryKind;
use crate::domain::period::DateRange;
use crate::domain::qualification::Qualification;
use crate::domain::report::UnitLevel;
use crate::domain::reporting::HalfMonth;
use crate::domain::submission::{self as rules, ChangeKind, Fig, Unit};
use crate::error::ApiError;

/// The audit actions that reclassify entries (their `after_json` lists `reclassified`).
pub const RECLASSIFYING_ACTIONS: [&str; 4] =
    ["supplier.tag.declare", "supplier.tag.verify", "supplier.tag.revoke", "county.designations.set"];

fn internal(what: String) -> ApiError {
    ApiError::Internal(anyhow::anyhow!(what))
}

fn period_of(date: chrono::NaiveDate) -> String {
    HalfMonth::containing(date).map(|h| h.to_string()).unwrap_or_default()
}

/// The entries appended after the heads of `submission_id`, dated in `year`, as changes.
pub(super) fn entry_changes(conn: &mut DbConn, submission_id: &str, year: DateRange, half: DateRange) -> Result<Vec<ChangeDoc>, ApiError> {
    let mut out = Vec::new();
    for e in repo::entries_after(conn, submission_id, year.from, year.to)? {
        let q = Qualification::stored(e.class, e.tag)
            .ok_or_else(|| internal(format!("purchase {} has a contradictory qualification", e.id)))?;
        let is_void = e.kind == EntryKind::Void;
        let kind = ChangeKind::of_entry(is_void, e.corrects_id.is_some());
        out.push(ChangeDoc {
            kind: kind.as_str().into(),
            label: kind.label_zh().into(),
            purchase_id: e.id,
            school_id: e.school_id,
            school_name: e.school_name,
            purchase_date: e.purchase_date,
            period: period_of(e.purchase_date),
            in_half_month: half.contains(e.purchase_date),
            at: timestamp(&e.recorded_at),
            by: e.recorded_by,
            from: None,
            to: None,
            audit_id: None,
            delta: rules::entry_delta(q, e.total_fen, is_void).into(),
        });
    }
    Ok(out)
}

#[derive(serde::Deserialize)]
struct Moved {
    purchase_id: String,
    from: String,
    to: String,
}

#[derive(serde::Deserialize)]
struct Reviewed {
    #[serde(default)]
    reclassified: Vec<Moved>,
}

/// Reclassifications, after the moment each school's figures were frozen, of entries the
/// freeze counted (at or below the frozen head).
fn reclassifications(
    conn: &mut DbConn,
    heads: &HashMap<String, i64>,
    frozen_at: &HashMap<String, NaiveDateTime>,
    year: DateRange,
    half: DateRange,
) -> Result<Vec<ChangeDoc>, ApiError> {
    let Some(since) = frozen_at.values().min().copied() else { return Ok(Vec::new()) };
    let rows = repo::reclassifications_since(conn, since, &RECLASSIFYING_ACTIONS)?;
    let mut moves = Vec::new();
    for (audit_id, at, actor, _action, after) in rows {
        let Some(after) = after else { continue };
        let reviewed: Reviewed = serde_json::from_str(&after).map_err(|e| internal(format!("audit row {audit_id}: {e}")))?;
        for m in reviewed.reclassified {
            moves.push((audit_id.clone(), at, actor.clone(), m));
        }
    }
    let ids: Vec<String> = moves.iter().map(|(.., m)| m.purchase_id.clone()).collect();
    let facts: HashMap<String, repo::EntryFacts> = repo::entry_facts(conn, &ids)?.into_iter().map(|f| (f.id.clone(), f)).collect();
    let mut out = Vec::new();
    for (audit_id, at, actor, m) in moves {
        let Some(f) = facts.get(&m.purchase_id) else { continue };
        let (Some(head), Some(frozen)) = (heads.get(&f.school_id), frozen_at.get(&f.school_id)) else { continue };
        if f.seq > *head || at <= *frozen || !year.contains(f.purchase_date) {
            continue;
        }
        let parse = |t: &str| rules::parse_described(t).ok_or_else(|| internal(format!("audit row {audit_id}: qualification {t:?}")));
        let delta = rules::reclassification_delta(parse(&m.from)?, parse(&m.to)?, f.total_fen);
        out.push(ChangeDoc {
            kind: ChangeKind::Reclassification.as_str().into(),
            label: ChangeKind::Reclassification.label_zh().into(),
            purchase_id: f.id.clone(),
            school_id: f.school_id.clone(),
            school_name: f.school_name.clone(),
            purchase_date: f.purchase_date,
            period: period_of(f.purchase_date),
            in_half_month: half.contains(f.purchase_date),
            at: timestamp(&at),
            by: actor,
            from: Some(m.from),
            to: Some(m.to),
            audit_id: Some(audit_id),
            delta: delta.into(),
        });
    }
    Ok(out)
}

fn pair(half: Fig, year: Fig) -> DeltaPair {
    DeltaPair { half_month: half.into(), year_to_date: year.into() }
}

fn figs(p: &DeltaPair) -> (Fig, Fig) {
    (p.half_month.fig(), p.year_to_date.fig())
}

/// Frozen, changes and now of one unit, with what is left unexplained.
fn drift_row(unit: UnitRef, frozen: (Fig, Fig), changes: (Fig, Fig), now: (Fig, Fig)) -> DriftRow {
    let unexplained = (now.0.minus(&frozen.0.plus(&changes.0)), now.1.minus(&frozen.1.plus(&changes.1)));
    DriftRow {
        unit,
        frozen: pair(frozen.0, frozen.1),
        changes: pair(changes.0, changes.1),
        now: pair(now.0, now.1),
        unexplained: pair(unexplained.0, unexplained.1),
    }
}

fn is_balanced(r: &DriftRow) -> bool {
    let (half, year) = figs(&r.unexplained);
    half.is_zero() && year.is_zero()
}

/// The drift of one submission (read access as for the submission).
pub fn drift(conn: &mut DbConn, user: &Caller, id: &str, now: NaiveDateTime) -> Result<DriftReport, ApiError> {
    read_tx(conn, |conn| {
        let row = readable(conn, user, id)?;
        let doc: SubmissionDocument = serde_json::from_str(&row.frozen_json).map_err(|e| ApiError::Internal(e.into()))?;
        let period = HalfMonth::parse(&doc.period).map_err(|e| internal(format!("submission {id}: {e}")))?;
        let unit = Unit::from_parts(&row.unit_kind, &row.unit_code).ok_or_else(|| internal(format!("submission {id}: unit")))?;
        let (year, half) = (year_range(period), period.range());
        let heads: HashMap<String, i64> = repo::heads_of(conn, id)?.into_iter().map(|h| (h.school_id, h.seq)).collect();
        // Which row each school's changes belong to, and when its figures were frozen.
        let roster = crate::db::repo::schools::roster(conn, unit_county(&unit), unit_prefecture(&unit), None)?;
        let row_of: HashMap<String, String> = roster
            .iter()
            .map(|(school, _, county, _)| (school.clone(), if matches!(unit, Unit::County(_)) { school.clone() } else { county.clone() }))
            .collect();
        // A row's figures include every review up to its audit mark.
        let as_of: HashMap<&str, NaiveDateTime> = doc
            .rows
            .iter()
            .map(|r| (r.unit.code.as_str(), r.audit_mark.as_deref().and_then(parse_timestamp).unwrap_or(NaiveDateTime::MIN)))
            .collect();
        let frozen_at: HashMap<String, NaiveDateTime> =
            heads.keys().filter_map(|s| row_of.get(s).and_then(|r| as_of.get(r.as_str())).map(|t| (s.clone(), *t))).collect();
        let mut changes = entry_changes(conn, id, year, half)?;
        changes.extend(reclassifications(conn, &heads, &frozen_at, year, half)?);
        changes.sort_by(|a, b| (&a.at, &a.purchase_id).cmp(&(&b.at, &b.purchase_id)));
        let level = if matches!(unit, Unit::County(_)) { UnitLevel::School } else { UnitLevel::County };
        let now_figs = live(conn, user, &scope_of(&unit), period, level)?;
        let (changed, (all_half, all_year)) = sum_changes(&changes, &row_of);
        let mut rows = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for r in &doc.rows {
            seen.insert(r.unit.code.clone());
            let now = now_figs.rows.get(&r.unit.code).map(|n| (n.1, n.2)).unwrap_or_default();
            let ch = changed.get(&r.unit.code).copied().unwrap_or_default();
            rows.push(drift_row(r.unit.clone(), (r.half_month.fig(), r.year_to_date.fig()), ch, now));
        }
        for (code, n) in &now_figs.rows {
            if !seen.contains(code) {
                let ch = changed.get(code).copied().unwrap_or_default();
                rows.push(drift_row(n.0.clone(), (Fig::default(), Fig::default()), ch, (n.1, n.2)));
            }
        }
        let summary = drift_row(
            doc.unit.clone(),
            (doc.summary.half_month.fig(), doc.summary.year_to_date.fig()),
            (all_half, all_year),
            (now_figs.summary.0, now_figs.summary.1),
        );
        let balanced = is_balanced(&summary) && rows.iter().all(is_balanced);
        Ok(DriftReport {
            submission_id: row.id,
            digest: row.digest,
            unit: doc.unit,
            period: doc.period,
            submitted_at: doc.submitted_at,
            as_of: timestamp(&now),
            balanced,
            summary,
            rows,
            changes,
        })
    })
}

/// The changes summed per row (`row_of` maps a school to its row's code) and over all,
/// each as (half-month, year to date).
fn sum_changes(changes: &[ChangeDoc], row_of: &HashMap<String, String>) -> (BTreeMap<String, (Fig, Fig)>, (Fig, Fig)) {
    let mut changed: BTreeMap<String, (Fig, Fig)> = BTreeMap::new();
    let (mut all_half, mut all_year) = (Fig::default(), Fig::default());
    for c in changes {
        let d = c.delta.fig();
        let key = row_of.get(&c.school_id).cloned().unwrap_or_else(|| c.school_id.clone());
        let e = changed.entry(key).or_default();
        if c.in_half_month {
            e.0.add(&d);
            all_half.add(&d);
        }
        e.1.add(&d);
        all_year.add(&d);
    }
    (changed, (all_half, all_year))
}

fn unit_county(u: &Unit) -> Option<&str> {
    match u {
        Unit::County(c) => Some(c),
        Unit::Prefecture(_) => None,
    }
}

fn unit_prefecture(u: &Unit) -> Option<&str> {
    match u {
        Unit::Prefecture(p) => Some(p),
        Unit::County(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::document::Delta;
    use super::*;

    #[test]
    fn a_row_balances_when_frozen_plus_changes_is_now() {
        let f = |t, q, n| Fig { total_fen: t, qualifying_fen: q, pending_fen: 0, purchases: n };
        let unit = UnitRef { kind: "school".into(), code: "s".into(), name: "一中".into() };
        let ok = drift_row(unit.clone(), (f(100, 50, 2), f(300, 150, 5)), (f(20, 20, 1), f(20, 20, 1)), (f(120, 70, 3), f(320, 170, 6)));
        assert!(is_balanced(&ok));
        let off = drift_row(unit, (f(100, 50, 2), f(300, 150, 5)), (f(20, 20, 1), f(20, 20, 1)), (f(121, 70, 3), f(320, 170, 6)));
        assert!(!is_balanced(&off));
        assert_eq!(off.unexplained.half_month, Delta { total: "0.01".parse().unwrap_or_default(), ..Delta::default() });
    }
}

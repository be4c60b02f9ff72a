//! What a submission freezes, as stored and answered: the document `GET /submissions/{id}`
//! returns byte for byte, and the drift and status views built beside it. Money is decimal
//! yuan text (exact, two places); every figure is derived from integer fen.

use chrono::{NaiveDate, NaiveDateTime, SecondsFormat};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::money::fen_to_decimal;
use crate::domain::shares::{Target, evaluate, ratio_4dp};
use crate::domain::submission::Fig;

/// The wire form of a stored (naive UTC) timestamp: RFC 3339, UTC, microseconds.
pub fn timestamp(t: &NaiveDateTime) -> String {
    t.and_utc().to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Reads [`timestamp`]'s form back.
pub fn parse_timestamp(text: &str) -> Option<NaiveDateTime> {
    chrono::DateTime::parse_from_rfc3339(text).ok().map(|t| t.naive_utc())
}

/// Exact fen of a two-place yuan amount written by [`money`].
pub fn fen_of(yuan: Decimal) -> i64 {
    use rust_decimal::prelude::ToPrimitive;
    (yuan * Decimal::ONE_HUNDRED).round().to_i64().unwrap_or(i64::MAX)
}

fn money(fen: i64) -> Decimal {
    fen_to_decimal(fen)
}

/// A unit a row or document is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UnitRef {
    /// `school`, `county` or `prefecture`.
    #[schema(example = "county")]
    pub kind: String,
    /// The school's id, or the division's GB/T 2260 code.
    #[schema(example = "520102")]
    pub code: String,
    #[schema(example = "南明区")]
    pub name: String,
}

/// The share figures of one unit over one range, judged against the target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Figs {
    /// Everything bought, yuan.
    #[schema(value_type = String, example = "12345.60")]
    pub total: Decimal,
    /// Bought from qualifying suppliers (verified tags), yuan.
    #[schema(value_type = String, example = "6500.00")]
    pub qualifying: Decimal,
    /// Bought from suppliers whose tags are declared but not yet verified, yuan.
    #[schema(value_type = String, example = "0.00")]
    pub pending: Decimal,
    /// qualifying / total to 4 places; `null` when nothing was bought.
    #[schema(value_type = Option<String>, example = "0.5265")]
    pub share: Option<Decimal>,
    /// `null` when nothing was bought.
    pub meets_target: Option<bool>,
    /// What would have had to qualify to meet the target, yuan (0 when met).
    #[schema(value_type = String, example = "0.00")]
    pub shortfall: Decimal,
    /// Purchases recorded minus purchases voided.
    pub purchases: i64,
}

impl Figs {
    pub fn of(f: Fig, target: Target) -> Self {
        let figures = crate::domain::figures::Figures {
            total_fen: f.total_fen,
            qualifying_fen: f.qualifying_fen,
            pending_fen: f.pending_fen,
            ..Default::default()
        };
        let outcome = evaluate(&figures, target);
        Self {
            total: money(f.total_fen),
            qualifying: money(f.qualifying_fen),
            pending: money(f.pending_fen),
            share: ratio_4dp(f.qualifying_fen, f.total_fen),
            meets_target: outcome.meets_target,
            shortfall: money(outcome.shortfall_fen),
            purchases: f.purchases,
        }
    }

    /// The exact figures back (the amounts were written from fen).
    pub fn fig(&self) -> Fig {
        Fig {
            total_fen: fen_of(self.total),
            qualifying_fen: fen_of(self.qualifying),
            pending_fen: fen_of(self.pending),
            purchases: self.purchases,
        }
    }
}

/// Counts over the schools a row covers (county and prefecture rows).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SchoolTally {
    pub schools: i64,
    /// Schools with no purchase in the half-month.
    pub silent: i64,
    /// Schools that bought something in the half-month and are below the target.
    pub below_target: i64,
}

impl std::ops::Add for SchoolTally {
    type Output = Self;

    /// The tally of two disjoint sets of schools.
    fn add(self, o: Self) -> Self {
        Self { schools: self.schools + o.schools, silent: self.silent + o.silent, below_target: self.below_target + o.below_target }
    }
}

/// Where a prefecture document's county row comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RowSource {
    /// `submission` (the county's latest revision at the time) or `live` (the county had not
    /// submitted: the ledger's figures at the time).
    #[schema(example = "submission")]
    pub kind: String,
    pub submission_id: Option<String>,
    pub revision: Option<i32>,
    /// The county's status for the half-month at the time: `not_due`, `on_time`, `late`,
    /// `missing`.
    #[schema(example = "on_time")]
    pub status: String,
}

/// One unit's frozen figures: the half-month and the year to date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FrozenRow {
    pub unit: UnitRef,
    pub half_month: Figs,
    pub year_to_date: Figs,
    /// Half-month counts over the schools (not on school rows).
    pub schools: Option<SchoolTally>,
    /// Prefecture documents: where the county's figures come from.
    pub source: Option<RowSource>,
    /// The instant the figures are as of (RFC 3339, UTC).
    #[schema(example = "2019-03-28T02:00:00.000000Z")]
    pub as_of: String,
    /// The time of the last audit row the figures include (`null`: none yet): a tag or
    /// designation review recorded after it is drift.
    pub audit_mark: Option<String>,
}

/// The target applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TargetDoc {
    pub numerator: i64,
    pub denominator: i64,
    #[schema(value_type = String, example = "0.5000")]
    pub share: Decimal,
}

impl From<Target> for TargetDoc {
    fn from(t: Target) -> Self {
        Self { numerator: t.numerator(), denominator: t.denominator(), share: t.to_decimal() }
    }
}

impl TargetDoc {
    pub fn target(&self) -> Target {
        Target::new(self.numerator, self.denominator).unwrap_or(Target::HALF)
    }
}

/// The notice's four sections, as submitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NarrativeDoc {
    /// 工作进展
    pub progress: String,
    /// 典型经验
    pub experience: String,
    /// 存在困难
    pub difficulties: String,
    /// 下一步措施
    pub measures: String,
}

/// What one change adds to the figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Delta {
    #[schema(value_type = String, example = "120.00")]
    pub total: Decimal,
    #[schema(value_type = String, example = "120.00")]
    pub qualifying: Decimal,
    #[schema(value_type = String, example = "0.00")]
    pub pending: Decimal,
    pub purchases: i64,
}

impl From<Fig> for Delta {
    fn from(f: Fig) -> Self {
        Self { total: money(f.total_fen), qualifying: money(f.qualifying_fen), pending: money(f.pending_fen), purchases: f.purchases }
    }
}

impl Delta {
    pub fn fig(&self) -> Fig {
        Fig {
            total_fen: fen_of(self.total),
            qualifying_fen: fen_of(self.qualifying),
            pending_fen: fen_of(self.pending),
            purchases: self.purchases,
        }
    }
}

/// One change to the ledger after a freeze: an entry appended later, or a reclassification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChangeDoc {
    /// `late_entry`, `void`, `correction` or `reclassification`.
    #[schema(example = "late_entry")]
    pub kind: String,
    /// 补录, 作废, 更正, 资格变更.
    #[schema(example = "补录")]
    pub label: String,
    pub purchase_id: String,
    pub school_id: String,
    pub school_name: String,
    pub purchase_date: NaiveDate,
    /// The half-month the purchase date falls in.
    #[schema(example = "2019-03-H1")]
    pub period: String,
    /// Whether it changes the half-month's figures (else only the year to date).
    pub in_half_month: bool,
    /// When it happened (recorded, or reviewed), RFC 3339 UTC.
    pub at: String,
    /// Who did it (audit actor).
    pub by: String,
    /// Reclassifications: the qualification before and after (`none`, `qualifying:TAG`,
    /// `pending:TAG`); the audit row that records it.
    pub from: Option<String>,
    pub to: Option<String>,
    pub audit_id: Option<String>,
    pub delta: Delta,
}

/// A frozen submission, exactly as submitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SubmissionDocument {
    pub id: String,
    /// The reporting unit (a county or prefecture bureau).
    pub unit: UnitRef,
    /// To whom it reports: `prefecture:CODE` or `province`.
    #[schema(example = "prefecture:520100")]
    pub reports_to: String,
    #[schema(example = "2019-03-H1")]
    pub period: String,
    #[schema(example = "2019年3月上半月")]
    pub period_label: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// First day of the year-to-date figures (1 January of the half-month's year).
    pub year_from: NaiveDate,
    /// 1 for the first submission, then one more per revision.
    pub revision: i32,
    /// Why this revision was made (`null` on the first).
    pub reason: Option<String>,
    /// The submission this one revises (`null` on the first).
    pub revises: Option<String>,
    pub submitted_by: String,
    #[schema(example = "2019-03-28T02:00:00.000000Z")]
    pub submitted_at: String,
    /// The deadline's day (China Standard Time).
    pub due_on: NaiveDate,
    /// Whether this revision was made before its deadline ended.
    pub on_time: bool,
    /// Days after the deadline's day, when late.
    pub late_days: Option<i64>,
    pub policy: String,
    pub target: TargetDoc,
    /// SHA-256 over the chain heads of every school covered (see README, "Submissions").
    #[schema(example = "9f2c…")]
    pub digest: String,
    /// The number of schools whose chain heads the digest covers.
    pub schools_covered: i64,
    pub narrative: NarrativeDoc,
    /// The unit as a whole.
    pub summary: FrozenRow,
    /// Per school (a county's submission) or per county (a prefecture's).
    pub rows: Vec<FrozenRow>,
    /// Changes to earlier half-months since the unit's previous submission (late entries,
    /// voids, corrections dated in what that submission covered).
    pub adjustments: Vec<ChangeDoc>,
}

/// One unit's figures in a drift view: frozen, changed, now, and anything unexplained
/// (always zero: frozen + changes = now).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DriftRow {
    pub unit: UnitRef,
    pub frozen: DeltaPair,
    pub changes: DeltaPair,
    pub now: DeltaPair,
    pub unexplained: DeltaPair,
}

/// Half-month and year-to-date amounts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeltaPair {
    pub half_month: Delta,
    pub year_to_date: Delta,
}

/// How the ledger moved since a submission, explained to the fen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DriftReport {
    pub submission_id: String,
    pub digest: String,
    pub unit: UnitRef,
    pub period: String,
    pub submitted_at: String,
    /// When the comparison was made.
    pub as_of: String,
    /// Whether frozen + changes = now for every row and the whole (`true` unless the ledger
    /// was changed outside the service).
    pub balanced: bool,
    pub summary: DriftRow,
    pub rows: Vec<DriftRow>,
    /// Every change, in the order it happened.
    pub changes: Vec<ChangeDoc>,
}

/// One revision in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SubmissionSummary {
    pub id: String,
    #[schema(example = "county:520102")]
    pub unit: String,
    #[schema(example = "2019-03-H1")]
    pub period: String,
    pub revision: i32,
    pub reason: Option<String>,
    pub submitted_by: String,
    pub submitted_at: String,
    pub due_on: NaiveDate,
    pub on_time: bool,
    pub digest: String,
    /// Whether this is the revision that stands (the latest).
    pub latest: bool,
}

/// A unit's standing for a half-month in a status list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StatusRow {
    pub unit: UnitRef,
    /// `prefecture:CODE` or `province`.
    pub reports_to: String,
    /// `not_due`, `on_time`, `late` or `missing`.
    #[schema(example = "late")]
    pub status: String,
    /// 未到期, 按时, 迟报N天, 未报.
    #[schema(example = "迟报2天")]
    pub status_label: String,
    /// Days late (for `late`).
    pub late_days: Option<i64>,
    /// The first revision's time, when submitted.
    pub first_submitted_at: Option<String>,
    /// The standing (latest) revision.
    pub latest_submission_id: Option<String>,
    pub revisions: i64,
    /// Live half-month counts over the unit's schools.
    pub schools: SchoolTally,
}

/// Who was expected to report for a half-month in a scope, and where each stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StatusList {
    pub scope: UnitRef,
    pub period: String,
    pub period_label: String,
    pub due_on: NaiveDate,
    pub deadline_ends_at: String,
    pub as_of: String,
    /// Counts by status over `rows`.
    pub on_time: i64,
    pub late: i64,
    pub missing: i64,
    pub not_due: i64,
    pub rows: Vec<StatusRow>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fen_survive_the_decimal_text() {
        for fen in [0_i64, 1, -1, 99, 100, 123_456_789, -987_654_321, 99_999_999_999_999] {
            assert_eq!(fen_of(money(fen)), fen, "{fen}");
        }
        assert_eq!(fen_of("12.30".parse().unwrap_or_default()), 1230);
        assert_eq!(fen_of("12.3".parse().unwrap_or_default()), 1230);
    }
}

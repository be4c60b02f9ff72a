//! Half-monthly submissions: who reports (a county or a prefecture bureau), what a
//! submission must say (the notice's four narrative sections), the digest over the chain
//! heads it froze, the revision rule, and the drift arithmetic that explains, to the fen,
//! how the frozen figures became today's. Pure: no I/O, no clock.

use std::fmt;

use sha2::{Digest, Sha256};

use super::code::Code;
use super::figures::Figures;
use super::qualification::Qualification;

/// The unit a submission is for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Unit {
    /// A county bureau, by GB/T 2260 code.
    County(String),
    /// A prefecture bureau, by GB/T 2260 code.
    Prefecture(String),
}

impl Unit {
    /// Parses `county:CODE` or `prefecture:CODE`.
    pub fn parse(text: &str) -> Option<Self> {
        match text.split_once(':') {
            Some(("county", c)) if super::role::is_division_code(c) => Some(Self::County(c.to_owned())),
            Some(("prefecture", c)) if super::role::is_division_code(c) => Some(Self::Prefecture(c.to_owned())),
            _ => None,
        }
    }

    /// `county` or `prefecture`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::County(_) => "county",
            Self::Prefecture(_) => "prefecture",
        }
    }

    pub fn code(&self) -> &str {
        match self {
            Self::County(c) | Self::Prefecture(c) => c,
        }
    }

    /// Rebuilds from the stored kind and code.
    pub fn from_parts(kind: &str, code: &str) -> Option<Self> {
        match kind {
            "county" => Some(Self::County(code.to_owned())),
            "prefecture" => Some(Self::Prefecture(code.to_owned())),
            _ => None,
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind(), self.code())
    }
}

/// The longest narrative section, in characters (about three printed pages of Chinese).
pub const SECTION_MAX_CHARS: usize = 5_000;
/// The longest revision reason, in characters.
pub const REASON_MAX_CHARS: usize = 500;

/// The four sections of the notice: progress, typical experience, difficulties, measures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Narrative {
    pub progress: String,
    pub experience: String,
    pub difficulties: String,
    pub measures: String,
}

/// Why a submission was refused before anything was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmissionError {
    #[error("{field} is longer than {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("{field} holds a control character other than a line break")]
    ControlCharacter { field: &'static str },
    #[error("a revision needs a reason: say what it corrects")]
    ReasonRequired,
    #[error("the first submission of a half-month has no reason: a reason belongs to a revision")]
    ReasonOnFirst,
    #[error("the reason must not be blank")]
    BlankReason,
}

impl SubmissionError {
    /// The field the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            Self::TooLong { field, .. } | Self::ControlCharacter { field } => field,
            Self::ReasonRequired | Self::ReasonOnFirst | Self::BlankReason => "reason",
        }
    }

    /// Whether the refusal comes from what is already stored (the half-month's earlier
    /// revisions) rather than from the request alone: the same request may be right at
    /// another time, so it is a conflict, not an invalid request.
    pub fn is_conflict(&self) -> bool {
        matches!(self, Self::ReasonRequired | Self::ReasonOnFirst)
    }

    /// The stable field code clients switch on.
    pub fn code(&self) -> Code {
        match self {
            Self::TooLong { .. } => Code::TooLong,
            Self::ControlCharacter { .. } => Code::ControlCharacter,
            Self::ReasonRequired => Code::Required,
            Self::ReasonOnFirst => Code::NotARevision,
            Self::BlankReason => Code::Blank,
        }
    }
}

/// Narrative text may span lines (`\n`, `\r\n`); any other control character is refused.
fn check_section(field: &'static str, text: &str, max: usize) -> Result<(), SubmissionError> {
    if super::text::has_control_but_line_breaks(text) {
        return Err(SubmissionError::ControlCharacter { field });
    }
    if text.chars().count() > max {
        return Err(SubmissionError::TooLong { field, max });
    }
    Ok(())
}

impl Narrative {
    /// Every section may be empty, at most [`SECTION_MAX_CHARS`] characters.
    pub fn check(&self) -> Result<(), SubmissionError> {
        for (field, text) in self.sections() {
            check_section(field, text, SECTION_MAX_CHARS)?;
        }
        Ok(())
    }

    /// The sections with their field names, in the notice's order.
    pub fn sections(&self) -> [(&'static str, &str); 4] {
        [
            ("progress", self.progress.as_str()),
            ("experience", self.experience.as_str()),
            ("difficulties", self.difficulties.as_str()),
            ("measures", self.measures.as_str()),
        ]
    }

    /// The Chinese headings of the sections, in the same order.
    pub const HEADINGS_ZH: [&'static str; 4] = ["工作进展", "典型经验", "存在困难", "下一步措施"];
}

/// The revision a new submission becomes, given the latest one stored for its unit and
/// half-month: the first needs no reason (and may not carry one), every later one must
/// say what it corrects (single-line, at most [`REASON_MAX_CHARS`]).
pub fn next_revision(latest: Option<i32>, reason: Option<&str>) -> Result<i32, SubmissionError> {
    match (latest, reason) {
        (None, None) => Ok(1),
        (None, Some(_)) => Err(SubmissionError::ReasonOnFirst),
        (Some(_), None) => Err(SubmissionError::ReasonRequired),
        (Some(n), Some(r)) => {
            if r.trim().is_empty() {
                return Err(SubmissionError::BlankReason);
            }
            if super::text::has_control(r) {
                return Err(SubmissionError::ControlCharacter { field: "reason" });
            }
            if r.chars().count() > REASON_MAX_CHARS {
                return Err(SubmissionError::TooLong { field: "reason", max: REASON_MAX_CHARS });
            }
            Ok(n + 1)
        }
    }
}

/// A school's chain head at the moment of a submission: the last entry's `seq` and
/// `hash` (`0` and the empty string for a school with no entry yet).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Head {
    pub school_id: String,
    pub seq: i64,
    pub hash: String,
}

/// The digest over the heads a submission froze: SHA-256 (hex) of
/// `canteen-ledger/submission-heads/v1\n` followed by one `school_id seq hash\n` line per
/// school, in school-id order. Anyone holding the heads can recompute it.
pub fn digest(heads: &[Head]) -> String {
    let mut sorted: Vec<&Head> = heads.iter().collect();
    sorted.sort();
    let mut h = Sha256::new();
    h.update(b"canteen-ledger/submission-heads/v1\n");
    for head in sorted {
        h.update(format!("{} {} {}\n", head.school_id, head.seq, head.hash).as_bytes());
    }
    hex::encode(h.finalize())
}

/// Whether an entry at `seq` is a late entry: its county had submitted the half-month of
/// its date when it was recorded, i.e. it lies above the head that submission froze.
pub fn is_late_entry(seq: i64, frozen_head: Option<i64>) -> bool {
    frozen_head.is_some_and(|head| seq > head)
}

/// The share-relevant figures a submission freezes for a unit, and what a change adds to
/// them: money in fen (total, qualifying, pending) and the net number of purchases.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fig {
    pub total_fen: i64,
    pub qualifying_fen: i64,
    pub pending_fen: i64,
    pub purchases: i64,
}

impl Fig {
    pub fn of(figures: &Figures, purchases: i64) -> Self {
        Self { total_fen: figures.total_fen, qualifying_fen: figures.qualifying_fen, pending_fen: figures.pending_fen, purchases }
    }

    pub fn add(&mut self, other: &Self) {
        self.total_fen += other.total_fen;
        self.qualifying_fen += other.qualifying_fen;
        self.pending_fen += other.pending_fen;
        self.purchases += other.purchases;
    }

    pub fn plus(mut self, other: &Self) -> Self {
        self.add(other);
        self
    }

    /// `self − other`.
    pub fn minus(self, other: &Self) -> Self {
        Self {
            total_fen: self.total_fen - other.total_fen,
            qualifying_fen: self.qualifying_fen - other.qualifying_fen,
            pending_fen: self.pending_fen - other.pending_fen,
            purchases: self.purchases - other.purchases,
        }
    }

    pub fn is_zero(&self) -> bool {
        *self == Self::default()
    }
}

/// What happened to the ledger after a submission froze it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// A purchase recorded after the submission, dated in what it covers.
    LateEntry,
    /// The reversal of an entry, recorded after the submission.
    Void,
    /// A correction's new entry (its old one is voided in the same step).
    Correction,
    /// An earlier entry's qualification changed (a tag or designation review).
    Reclassification,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LateEntry => "late_entry",
            Self::Void => "void",
            Self::Correction => "correction",
            Self::Reclassification => "reclassification",
        }
    }

    /// As a Chinese sheet prints it.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::LateEntry => "补录",
            Self::Void => "作废",
            Self::Correction => "更正",
            Self::Reclassification => "资格变更",
        }
    }

    /// An entry recorded after the freeze: a void reversal, a correction's new entry, or
    /// a late entry.
    pub fn of_entry(is_void: bool, corrects: bool) -> Self {
        match (is_void, corrects) {
            (true, _) => Self::Void,
            (false, true) => Self::Correction,
            (false, false) => Self::LateEntry,
        }
    }
}

/// What a whole entry of `total_fen` (negative for a void reversal) under `q` adds.
pub fn entry_delta(q: Qualification, total_fen: i64, is_void: bool) -> Fig {
    let f = Figures::of(q, total_fen, 0);
    Fig::of(&f, if is_void { -1 } else { 1 })
}

/// What moving an entry of `total_fen` from `from` to `to` adds (the count is unchanged).
pub fn reclassification_delta(from: Qualification, to: Qualification, total_fen: i64) -> Fig {
    entry_delta(to, total_fen, false).minus(&entry_delta(from, total_fen, false))
}

/// Parses a qualification as audit rows describe it: `none`, or `class:tag`.
pub fn parse_described(text: &str) -> Option<Qualification> {
    let (class, tag) = match text.split_once(':') {
        Some((c, t)) => (c, Some(t)),
        None => (text, None),
    };
    let class = super::catalog::QualificationClass::parse(class)?;
    let tag = match tag {
        Some(t) => Some(super::catalog::Tag::parse(t)?),
        None => None,
    };
    Qualification::stored(class, tag)
}

#[cfg(test)]
mod tests {
    use super::super::catalog::Tag;
    use super::*;

    fn narrative(text: &str) -> Narrative {
        Narrative { progress: text.into(), experience: String::new(), difficulties: String::new(), measures: String::new() }
    }

    #[test]
    fn units_round_trip_their_text() {
        for text in ["county:520102", "prefecture:520100"] {
            assert_eq!(Unit::parse(text).unwrap().to_string(), text);
        }
        for bad in ["", "county", "county:5201", "province", "school:abc", "prefecture:52010x", "County:520102"] {
            assert_eq!(Unit::parse(bad), None, "{bad}");
        }
        assert_eq!(Unit::from_parts("county", "520102"), Some(Unit::County("520102".into())));
        assert_eq!(Unit::from_parts("school", "x"), None);
    }

    #[test]
    fn sections_may_be_empty_or_span_lines_but_are_bounded() {
        assert_eq!(narrative("").check(), Ok(()));
        assert_eq!(narrative("一、进展\r\n二、经验\n").check(), Ok(()));
        assert_eq!(narrative(&"字".repeat(SECTION_MAX_CHARS)).check(), Ok(()));
        assert_eq!(
            narrative(&"字".repeat(SECTION_MAX_CHARS + 1)).check(),
            Err(SubmissionError::TooLong { field: "progress", max: SECTION_MAX_CHARS })
        );
        assert_eq!(narrative("a\tb").check(), Err(SubmissionError::ControlCharacter { field: "progress" }));
        assert_eq!(narrative("a\u{0}b").check().unwrap_err().code(), Code::ControlCharacter);
        let mut n = narrative("");
        n.measures = "x\u{7f}".into();
        assert_eq!(n.check().unwrap_err().field(), "measures");
    }

    #[test]
    fn the_first_submission_has_no_reason_and_every_revision_needs_one() {
        assert_eq!(next_revision(None, None), Ok(1));
        assert_eq!(next_revision(None, Some("x")), Err(SubmissionError::ReasonOnFirst));
        assert_eq!(next_revision(Some(1), None), Err(SubmissionError::ReasonRequired));
        assert_eq!(next_revision(Some(1), Some("  ")), Err(SubmissionError::BlankReason));
        assert_eq!(next_revision(Some(1), Some("a\nb")), Err(SubmissionError::ControlCharacter { field: "reason" }));
        assert_eq!(next_revision(Some(1), Some(&"字".repeat(501))).unwrap_err().code(), Code::TooLong);
        assert_eq!(next_revision(Some(1), Some("补报南明区第一中学的漏报采购")), Ok(2));
        assert_eq!(next_revision(Some(4), Some("更正")), Ok(5));
        assert_eq!(SubmissionError::ReasonRequired.code(), Code::Required);
    }

    #[test]
    fn the_digest_is_over_sorted_heads_and_changes_with_any_of_them() {
        let a = Head { school_id: "a".into(), seq: 3, hash: "h3".into() };
        let b = Head { school_id: "b".into(), seq: 0, hash: String::new() };
        let d = digest(&[a.clone(), b.clone()]);
        assert_eq!(d, digest(&[b.clone(), a.clone()]));
        assert_eq!(d.len(), 64);
        let expected = {
            let mut h = Sha256::new();
            h.update(b"canteen-ledger/submission-heads/v1\na 3 h3\nb 0 \n");
            hex::encode(h.finalize())
        };
        assert_eq!(d, expected);
        assert_ne!(d, digest(&[Head { seq: 4, ..a.clone() }, b.clone()]));
        assert_ne!(d, digest(&[Head { hash: "hX".into(), ..a.clone() }, b.clone()]));
        assert_ne!(d, digest(std::slice::from_ref(&a)));
    }

    #[test]
    fn deltas_of_entries_and_reclassifications_are_exact() {
        let q = Qualification::Qualifying(Tag::Cooperative);
        let p = Qualification::Pending(Tag::PoorHousehold);
        let n = Qualification::NotQualifying;
        assert_eq!(entry_delta(q, 12_345, false), Fig { total_fen: 12_345, qualifying_fen: 12_345, pending_fen: 0, purchases: 1 });
        assert_eq!(entry_delta(n, -500, true), Fig { total_fen: -500, qualifying_fen: 0, pending_fen: 0, purchases: -1 });
        assert_eq!(reclassification_delta(p, q, 700), Fig { total_fen: 0, qualifying_fen: 700, pending_fen: -700, purchases: 0 });
        assert_eq!(reclassification_delta(q, n, 700), Fig { total_fen: 0, qualifying_fen: -700, pending_fen: 0, purchases: 0 });
        // A move and its reverse cancel; two moves telescope.
        assert!(reclassification_delta(p, q, 9).plus(&reclassification_delta(q, p, 9)).is_zero());
        assert_eq!(reclassification_delta(p, q, 9).plus(&reclassification_delta(q, n, 9)), reclassification_delta(p, n, 9));
    }

    #[test]
    fn described_qualifications_parse_back() {
        assert_eq!(parse_described("none"), Some(Qualification::NotQualifying));
        assert_eq!(parse_described("qualifying:cooperative"), Some(Qualification::Qualifying(Tag::Cooperative)));
        assert_eq!(parse_described("pending:poor_household"), Some(Qualification::Pending(Tag::PoorHousehold)));
        for bad in ["", "qualifying", "none:cooperative", "qualifying:nope", "x:cooperative"] {
            assert_eq!(parse_described(bad), None, "{bad}");
        }
    }

    #[test]
    fn an_entry_above_the_frozen_head_is_late() {
        assert!(!is_late_entry(5, None));
        assert!(!is_late_entry(5, Some(5)));
        assert!(!is_late_entry(4, Some(5)));
        assert!(is_late_entry(6, Some(5)));
    }

    #[test]
    fn change_kinds_name_themselves() {
        assert_eq!(ChangeKind::of_entry(true, false), ChangeKind::Void);
        assert_eq!(ChangeKind::of_entry(false, true), ChangeKind::Correction);
        assert_eq!(ChangeKind::of_entry(false, false), ChangeKind::LateEntry);
        assert_eq!(ChangeKind::LateEntry.as_str(), "late_entry");
        assert_eq!(ChangeKind::Reclassification.label_zh(), "资格变更");
    }
}

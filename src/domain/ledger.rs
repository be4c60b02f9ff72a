//! The per-school hash chain: `hash = SHA-256(prev_hash ‖ "\n" ‖ canonical JSON of the
//! entry)`, hex-encoded. The canonical encoding is a fixed-order struct of integers and
//! strings, so the same entry always hashes the same on every backend. Pure.
//!
//! Each entry records the version of the canonical form it was hashed in, and is checked
//! in its own version:
//! - **1** (entries written before format 2 existed): id, school, seq, kind, supplier,
//!   date, invoice, void link and reason, total, recorder, time, and per line its number,
//!   category, description, quantity, unit, unit price and amount.
//! - **2** (every entry written now): every stored field of the entry and of its lines —
//!   version 1 plus the entry's `county_code`, `idempotency_key` and `corrects_id`,
//!   each line's `purchase_id` and `mass_mg`, and the version itself.
//!
//! Besides the hash, [`verify`] recomputes what is derived (whatever the version, so the
//! fields version 1 does not hash are still checked): the entry's county is its school's,
//! each line's amount is quantity × unit price rounded half away from zero and its mass
//! is quantity × the unit's grams, the total is the sum of the lines, and the stored
//! qualification is what the policy gives from the supplier's current tags and
//! designations.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::catalog::Unit;
use super::money::div_round_half_away;
use super::qualification::Qualification;

/// `prev_hash` of a school's first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The canonical form new entries are hashed in.
pub const CURRENT_VERSION: i32 = 2;

/// A stored ledger entry as the chain sees it: every stored field but the hashes.
#[derive(Debug, Clone, Serialize)]
pub struct ChainEntry {
    /// Version of the canonical form (1 or 2).
    #[serde(rename = "v")]
    pub version: i32,
    pub id: String,
    pub school_id: String,
    pub county_code: String,
    pub seq: i64,
    pub kind: String,
    pub supplier_id: String,
    /// `YYYY-MM-DD`.
    pub purchase_date: String,
    pub invoice_no: Option<String>,
    pub voids_id: Option<String>,
    pub void_reason: Option<String>,
    pub total_fen: i64,
    pub recorded_by: String,
    /// `YYYY-MM-DDTHH:MM:SS.ffffff` (microseconds, UTC).
    pub recorded_at: String,
    pub idempotency_key: Option<String>,
    /// For an entry recorded by a correction: the entry it corrects.
    pub corrects_id: Option<String>,
    pub lines: Vec<ChainLine>,
}

/// A line as the chain sees it.
#[derive(Debug, Clone, Serialize)]
pub struct ChainLine {
    pub purchase_id: String,
    pub line_no: i32,
    pub category: String,
    pub description: String,
    pub quantity_milli: i64,
    pub unit: String,
    pub unit_price_e4: i64,
    pub amount_fen: i64,
    pub mass_mg: Option<i64>,
}

/// Canonical form 1, field for field as it was first written (do not change).
#[derive(Serialize)]
struct V1<'a> {
    id: &'a str,
    school_id: &'a str,
    seq: i64,
    kind: &'a str,
    supplier_id: &'a str,
    purchase_date: &'a str,
    invoice_no: Option<&'a str>,
    voids_id: Option<&'a str>,
    void_reason: Option<&'a str>,
    total_fen: i64,
    recorded_by: &'a str,
    recorded_at: &'a str,
    lines: Vec<V1Line<'a>>,
}

#[derive(Serialize)]
struct V1Line<'a> {
    line_no: i32,
    category: &'a str,
    description: &'a str,
    quantity_milli: i64,
    unit: &'a str,
    unit_price_e4: i64,
    amount_fen: i64,
}

impl<'a> V1<'a> {
    fn of(e: &'a ChainEntry) -> Self {
        Self {
            id: &e.id,
            school_id: &e.school_id,
            seq: e.seq,
            kind: &e.kind,
            supplier_id: &e.supplier_id,
            purchase_date: &e.purchase_date,
            invoice_no: e.invoice_no.as_deref(),
            voids_id: e.voids_id.as_deref(),
            void_reason: e.void_reason.as_deref(),
            total_fen: e.total_fen,
            recorded_by: &e.recorded_by,
            recorded_at: &e.recorded_at,
            lines: e
                .lines
                .iter()
                .map(|l| V1Line {
                    line_no: l.line_no,
                    category: &l.category,
                    description: &l.description,
                    quantity_milli: l.quantity_milli,
                    unit: &l.unit,
                    unit_price_e4: l.unit_price_e4,
                    amount_fen: l.amount_fen,
                })
                .collect(),
        }
    }
}

/// The hash of `entry` chained after `prev_hash`, in the entry's own canonical form;
/// `None` for a version this code does not know.
pub fn entry_hash(prev_hash: &str, entry: &ChainEntry) -> Option<String> {
    // Serializing a struct of strings and integers cannot fail.
    let canonical = match entry.version {
        1 => serde_json::to_vec(&V1::of(entry)).unwrap_or_default(),
        2 => serde_json::to_vec(entry).unwrap_or_default(),
        _ => return None,
    };
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(canonical);
    Some(hex::encode(hasher.finalize()))
}

/// The first link that does not verify, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    pub seq: i64,
    pub reason: &'static str,
}

/// A stored qualification row, as text (compared verbatim: an unknown spelling is a
/// difference, never silently "not qualifying").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredQualification<'a> {
    pub class: &'a str,
    pub tag: Option<&'a str>,
    pub policy_version: &'a str,
}

/// One stored entry to check, with what it is checked against.
#[derive(Debug, Clone, Copy)]
pub struct Link<'a> {
    pub entry: &'a ChainEntry,
    pub prev_hash: &'a str,
    pub hash: &'a str,
    /// The county of the entry's school (an entry's `county_code` is copied from it).
    pub school_county: &'a str,
    /// The stored qualification; `None` when the row is missing.
    pub qualification: Option<StoredQualification<'a>>,
    /// The qualification the policy gives today from the supplier's tags and its origin
    /// county's designations, and the policy's version.
    pub expected: (Qualification, &'a str),
}

/// Why a stored derived field differs from its recomputation, if it does.
pub fn derived_mismatch(entry: &ChainEntry, school_county: &str) -> Option<&'static str> {
    if entry.county_code != school_county {
        return Some("county_code differs from the school's county");
    }
    let mut total: i128 = 0;
    for l in &entry.lines {
        let amount = div_round_half_away(i128::from(l.quantity_milli) * i128::from(l.unit_price_e4), 100_000);
        if i128::from(l.amount_fen) != amount {
            return Some("a line's amount differs from quantity × unit price");
        }
        let mass = Unit::parse(&l.unit).and_then(Unit::grams).and_then(|g| l.quantity_milli.checked_mul(g));
        if l.mass_mg != mass {
            return Some("a line's mass_mg differs from quantity × the unit's mass");
        }
        total += i128::from(l.amount_fen);
    }
    if i128::from(entry.total_fen) != total {
        return Some("total_fen differs from the sum of the line amounts");
    }
    None
}

fn qualification_mismatch(stored: Option<StoredQualification<'_>>, (expected, policy): (Qualification, &str)) -> Option<&'static str> {
    let Some(q) = stored else { return Some("qualification missing") };
    if q.policy_version != policy {
        return Some("qualification policy_version differs from the policy in force");
    }
    if q.class != expected.class().as_str() || q.tag != expected.tag().map(|t| t.as_str()) {
        return Some("qualification differs from its recomputation from tags and designations");
    }
    None
}

/// Walks a chain in `seq` order: each entry must follow its predecessor, hash to its
/// stored value in its own canonical form (never an older form than the entry before
/// it), and agree with the recomputation of its derived fields and its qualification.
/// Returns the head `(seq, hash)`, or the first broken link: a deleted entry is missing
/// at its own seq.
pub fn verify<'a>(links: impl IntoIterator<Item = Link<'a>>) -> Result<(i64, String), BrokenLink> {
    let mut expected_prev = GENESIS.to_owned();
    let mut expected_seq = 1;
    let mut version = 1;
    for link in links {
        let e = link.entry;
        let broken = |reason| Err(BrokenLink { seq: e.seq, reason });
        if e.seq > expected_seq {
            return Err(BrokenLink { seq: expected_seq, reason: "entry missing" });
        }
        if e.seq != expected_seq {
            return broken("sequence out of order");
        }
        if link.prev_hash != expected_prev {
            return broken("prev_hash does not match the previous entry");
        }
        if e.version < version {
            return broken("chain format version older than the previous entry's");
        }
        match entry_hash(link.prev_hash, e) {
            None => return broken("unknown chain format version"),
            Some(h) if h != link.hash => return broken("hash does not match the entry's content"),
            Some(_) => {}
        }
        if let Some(reason) = derived_mismatch(e, link.school_county) {
            return broken(reason);
        }
        if let Some(reason) = qualification_mismatch(link.qualification, link.expected) {
            return broken(reason);
        }
        link.hash.clone_into(&mut expected_prev);
        expected_seq += 1;
        version = e.version;
    }
    Ok((expected_seq - 1, expected_prev))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::catalog::Tag;

    const POLICY: &str = "gz-2019";
    const QUALIFYING: Qualification = Qualification::Qualifying(Tag::PoorHousehold);

    fn entry(version: i32, seq: i64, total: i64) -> ChainEntry {
        ChainEntry {
            version,
            id: format!("p{seq}"),
            school_id: "s".into(),
            county_code: "520102".into(),
            seq,
            kind: "entry".into(),
            supplier_id: "sup".into(),
            purchase_date: "2019-03-01".into(),
            invoice_no: None,
            voids_id: None,
            void_reason: None,
            total_fen: total,
            recorded_by: "u".into(),
            recorded_at: "2019-03-01T08:00:00.000000".into(),
            idempotency_key: Some(format!("k{seq}")),
            corrects_id: None,
            lines: vec![ChainLine {
                purchase_id: format!("p{seq}"),
                line_no: 1,
                category: "grain".into(),
                description: "大米".into(),
                // 1 kg at 5.0000 a kg: 500 fen.
                quantity_milli: 1000 * total / 500,
                unit: "kg".into(),
                unit_price_e4: 50_000,
                amount_fen: total,
                mass_mg: Some(1_000_000 * total / 500),
            }],
        }
    }

    fn hash(prev: &str, e: &ChainEntry) -> String {
        entry_hash(prev, e).unwrap()
    }

    /// `(entry, prev_hash, hash, stored qualification class, tag)`.
    type Stored = (ChainEntry, String, String, String, Option<String>);

    fn chain(versions: &[i32]) -> Vec<Stored> {
        let mut prev = GENESIS.to_owned();
        versions
            .iter()
            .zip(1..)
            .map(|(&v, seq)| {
                let e = entry(v, seq, 500);
                let h = hash(&prev, &e);
                let link = (e, prev.clone(), h.clone(), "qualifying".to_owned(), Some("poor_household".to_owned()));
                prev = h;
                link
            })
            .collect()
    }

    fn check(links: &[Stored]) -> Result<(i64, String), BrokenLink> {
        verify(links.iter().map(|(e, p, h, class, tag)| Link {
            entry: e,
            prev_hash: p,
            hash: h,
            school_county: "520102",
            qualification: Some(StoredQualification { class, tag: tag.as_deref(), policy_version: POLICY }),
            expected: (QUALIFYING, POLICY),
        }))
    }

    /// Rehashes the chain from `from` (0-based) on, as someone rewriting it would.
    fn rehash(links: &mut [Stored], from: usize) {
        let mut prev = if from == 0 { GENESIS.to_owned() } else { links[from - 1].2.clone() };
        for l in &mut links[from..] {
            l.1.clone_from(&prev);
            l.2 = hash(&prev, &l.0);
            prev.clone_from(&l.2);
        }
    }

    #[test]
    fn version_1_hashes_exactly_as_entries_were_first_written() {
        // Computed independently (Python: sha256(GENESIS + "\n" + json.dumps(..., separators=(",", ":"),
        // ensure_ascii=False))) over the version-1 fields of `entry(1, 1, 500)`.
        assert_eq!(hash(GENESIS, &entry(1, 1, 500)), "b1ff56f3acaff7511aacfbdb06f830b3bee0e3981a724ca129c8cf5e0e88430c");
    }

    #[test]
    fn hashes_are_deterministic_and_content_sensitive() {
        for v in [1, 2] {
            assert_eq!(hash(GENESIS, &entry(v, 1, 500)), hash(GENESIS, &entry(v, 1, 500)));
            assert_ne!(hash(GENESIS, &entry(v, 1, 500)), hash(GENESIS, &entry(v, 1, 501)));
            assert_eq!(hash(GENESIS, &entry(v, 1, 500)).len(), 64);
        }
        assert_ne!(hash(GENESIS, &entry(1, 1, 500)), hash(GENESIS, &entry(2, 1, 500)));
        assert_eq!(entry_hash(GENESIS, &entry(3, 1, 500)), None);
        assert!(entry_hash(GENESIS, &entry(CURRENT_VERSION, 1, 500)).is_some());
    }

    #[test]
    fn version_2_covers_every_stored_field() {
        let base = entry(2, 1, 500);
        type Edit = Box<dyn Fn(&mut ChainEntry)>;
        let edits: Vec<(&str, Edit)> = vec![
            ("county_code", Box::new(|e| e.county_code = "520103".into())),
            ("idempotency_key", Box::new(|e| e.idempotency_key = None)),
            ("corrects_id", Box::new(|e| e.corrects_id = Some("other".into()))),
            ("supplier_id", Box::new(|e| e.supplier_id = "other".into())),
            ("purchase_date", Box::new(|e| e.purchase_date = "2019-03-02".into())),
            ("invoice_no", Box::new(|e| e.invoice_no = Some("x".into()))),
            ("recorded_by", Box::new(|e| e.recorded_by = "v".into())),
            ("recorded_at", Box::new(|e| e.recorded_at = "2019-03-01T08:00:00.000001".into())),
            ("line purchase_id", Box::new(|e| e.lines[0].purchase_id = "p9".into())),
            ("mass_mg", Box::new(|e| e.lines[0].mass_mg = Some(1))),
            ("category", Box::new(|e| e.lines[0].category = "meat".into())),
            ("description", Box::new(|e| e.lines[0].description = "小米".into())),
            ("unit", Box::new(|e| e.lines[0].unit = "jin".into())),
        ];
        for (field, edit) in edits {
            let mut e = base.clone();
            edit(&mut e);
            assert_ne!(hash(GENESIS, &e), hash(GENESIS, &base), "{field}");
        }
    }

    #[test]
    fn an_intact_chain_verifies_to_its_head() {
        let links = chain(&[1, 1, 2, 2]);
        assert_eq!(check(&links), Ok((4, links[3].2.clone())));
        assert_eq!(check(&[]), Ok((0, GENESIS.to_owned())));
    }

    #[test]
    fn a_tampered_amount_breaks_its_own_link() {
        for v in [1, 2] {
            let mut links = chain(&[v, v, v]);
            links[1].0.lines[0].amount_fen = 1;
            assert_eq!(check(&links).unwrap_err().seq, 2);
        }
    }

    #[test]
    fn a_deleted_entry_is_missing_at_its_own_seq() {
        let mut links = chain(&[2, 2, 2]);
        links.remove(1);
        assert_eq!(check(&links).unwrap_err(), BrokenLink { seq: 2, reason: "entry missing" });
        let mut links = chain(&[2, 2, 2]);
        links.remove(0);
        assert_eq!(check(&links).unwrap_err(), BrokenLink { seq: 1, reason: "entry missing" });
    }

    #[test]
    fn fields_version_1_does_not_hash_are_recomputed() {
        let mut links = chain(&[1, 1]);
        links[1].0.county_code = "520103".into();
        assert_eq!(check(&links).unwrap_err(), BrokenLink { seq: 2, reason: "county_code differs from the school's county" });
        let mut links = chain(&[1, 1]);
        links[0].0.lines[0].mass_mg = Some(1);
        assert_eq!(check(&links).unwrap_err().seq, 1);
        // Even with the chain rehashed after the edit (format 2 would hash these fields).
        let mut links = chain(&[1, 1]);
        links[1].0.lines[0].amount_fen = 1;
        links[1].0.total_fen = 1;
        rehash(&mut links, 1);
        assert_eq!(check(&links).unwrap_err(), BrokenLink { seq: 2, reason: "a line's amount differs from quantity × unit price" });
        let mut links = chain(&[1, 1]);
        links[1].0.total_fen = 499;
        rehash(&mut links, 1);
        assert_eq!(check(&links).unwrap_err(), BrokenLink { seq: 2, reason: "total_fen differs from the sum of the line amounts" });
    }

    #[test]
    fn a_void_recomputes_like_its_negated_original() {
        let mut links = chain(&[2, 2]);
        let v = &mut links[1].0;
        v.kind = "void".into();
        v.total_fen = -500;
        v.lines[0].quantity_milli = -1000;
        v.lines[0].amount_fen = -500;
        v.lines[0].mass_mg = Some(-1_000_000);
        rehash(&mut links, 1);
        assert!(check(&links).is_ok());
    }

    #[test]
    fn an_entry_cannot_fall_back_to_an_older_or_unknown_format() {
        // Rewritten as version 1 (and the rest of the chain rehashed): still refused.
        let mut links = chain(&[1, 2, 2]);
        links[2].0.version = 1;
        rehash(&mut links, 2);
        assert_eq!(check(&links).unwrap_err(), BrokenLink { seq: 3, reason: "chain format version older than the previous entry's" });
        let mut links = chain(&[2, 2]);
        links[0].0.version = 1;
        assert_eq!(check(&links).unwrap_err(), BrokenLink { seq: 1, reason: "hash does not match the entry's content" });
        let mut links = chain(&[2, 2]);
        links[1].0.version = 7;
        assert_eq!(check(&links).unwrap_err(), BrokenLink { seq: 2, reason: "unknown chain format version" });
    }

    #[test]
    fn a_stored_qualification_must_match_its_recomputation() {
        let mut links = chain(&[2, 2, 2]);
        links[1].3 = "none".into();
        links[1].4 = None;
        assert_eq!(
            check(&links).unwrap_err(),
            BrokenLink { seq: 2, reason: "qualification differs from its recomputation from tags and designations" }
        );
        let mut links = chain(&[2, 2, 2]);
        links[2].4 = Some("cooperative".into());
        assert_eq!(check(&links).unwrap_err().seq, 3);
        let links = chain(&[2]);
        let missing = verify(links.iter().map(|(e, p, h, ..)| Link {
            entry: e,
            prev_hash: p,
            hash: h,
            school_county: "520102",
            qualification: None,
            expected: (QUALIFYING, POLICY),
        }));
        assert_eq!(missing.unwrap_err(), BrokenLink { seq: 1, reason: "qualification missing" });
    }
}

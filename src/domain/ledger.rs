//! The per-school hash chain: `hash = SHA-256(prev_hash ‖ "\n" ‖ canonical JSON of the
//! entry)`, hex-encoded. The canonical encoding is a fixed-order struct of integers and
//! strings, so the same entry always hashes the same on every backend. Pure.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// `prev_hash` of a school's first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The fields of a ledger entry that the chain protects, in canonical order.
#[derive(Debug, Clone, Serialize)]
pub struct ChainEntry {
    pub id: String,
    pub school_id: String,
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
    pub lines: Vec<ChainLine>,
}

/// A line as the chain sees it.
#[derive(Debug, Clone, Serialize)]
pub struct ChainLine {
    pub line_no: i32,
    pub category: String,
    pub description: String,
    pub quantity_milli: i64,
    pub unit: String,
    pub unit_price_e4: i64,
    pub amount_fen: i64,
}

/// The hash of `entry` chained after `prev_hash`.
pub fn entry_hash(prev_hash: &str, entry: &ChainEntry) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(b"\n");
    // Serializing a struct of strings and integers cannot fail.
    hasher.update(serde_json::to_vec(entry).unwrap_or_default());
    hex::encode(hasher.finalize())
}

/// The first link that does not verify, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    pub seq: i64,
    pub reason: &'static str,
}

/// Walks a chain in `seq` order: each `(entry, prev_hash, hash)` must follow its
/// predecessor and hash to its stored value.
pub fn verify<'a>(links: impl IntoIterator<Item = (&'a ChainEntry, &'a str, &'a str)>) -> Result<(i64, String), BrokenLink> {
    let mut expected_prev = GENESIS.to_owned();
    let mut expected_seq = 1;
    for (entry, prev_hash, hash) in links {
        if entry.seq != expected_seq {
            return Err(BrokenLink { seq: entry.seq, reason: "sequence gap" });
        }
        if prev_hash != expected_prev {
            return Err(BrokenLink { seq: entry.seq, reason: "prev_hash does not match the previous entry" });
        }
        if entry_hash(prev_hash, entry) != hash {
            return Err(BrokenLink { seq: entry.seq, reason: "hash does not match the entry's content" });
        }
        expected_prev = hash.to_owned();
        expected_seq += 1;
    }
    Ok((expected_seq - 1, expected_prev))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: i64, total: i64) -> ChainEntry {
        ChainEntry {
            id: format!("p{seq}"),
            school_id: "s".into(),
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
            lines: vec![ChainLine {
                line_no: 1,
                category: "grain".into(),
                description: "大米".into(),
                quantity_milli: 1000,
                unit: "kg".into(),
                unit_price_e4: 50_000,
                amount_fen: total,
            }],
        }
    }

    fn chain(n: i64) -> Vec<(ChainEntry, String, String)> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let e = entry(seq, 500);
                let h = entry_hash(&prev, &e);
                let link = (e, prev.clone(), h.clone());
                prev = h;
                link
            })
            .collect()
    }

    fn check(links: &[(ChainEntry, String, String)]) -> Result<(i64, String), BrokenLink> {
        verify(links.iter().map(|(e, p, h)| (e, p.as_str(), h.as_str())))
    }

    #[test]
    fn hashes_are_deterministic_and_content_sensitive() {
        assert_eq!(entry_hash(GENESIS, &entry(1, 500)), entry_hash(GENESIS, &entry(1, 500)));
        assert_ne!(entry_hash(GENESIS, &entry(1, 500)), entry_hash(GENESIS, &entry(1, 501)));
        assert_eq!(entry_hash(GENESIS, &entry(1, 500)).len(), 64);
    }

    #[test]
    fn an_intact_chain_verifies_to_its_head() {
        let links = chain(3);
        assert_eq!(check(&links), Ok((3, links[2].2.clone())));
        assert_eq!(check(&[]), Ok((0, GENESIS.to_owned())));
    }

    #[test]
    fn a_tampered_amount_breaks_its_own_link() {
        let mut links = chain(3);
        links[1].0.lines[0].amount_fen = 1;
        assert_eq!(check(&links).unwrap_err().seq, 2);
    }

    #[test]
    fn a_deleted_entry_is_a_sequence_gap() {
        let mut links = chain(3);
        links.remove(1);
        assert_eq!(check(&links).unwrap_err(), BrokenLink { seq: 3, reason: "sequence gap" });
    }
}

//! The figures of one unit (school, county, …) over one period — money and mass, with
//! their qualifying, pending, confirmed and paid parts — and how one ledger fact adds
//! to them. Pure: no I/O.

use super::qualification::Qualification;

/// Money and mass figures of one unit (school, county, …) over one period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figures {
    pub total_fen: i64,
    pub qualifying_fen: i64,
    pub pending_fen: i64,
    /// Mass of mass-unit lines, in milligrams.
    pub total_mg: i64,
    pub qualifying_mg: i64,
    /// Of the total, purchases both parties confirmed, and the qualifying part of those.
    pub confirmed_fen: i64,
    pub confirmed_qualifying_fen: i64,
    /// Paid to date against the purchases counted in `total_fen`.
    pub paid_fen: i64,
}

impl Figures {
    pub fn add(&mut self, other: &Self) {
        self.total_fen += other.total_fen;
        self.qualifying_fen += other.qualifying_fen;
        self.pending_fen += other.pending_fen;
        self.total_mg += other.total_mg;
        self.qualifying_mg += other.qualifying_mg;
        self.confirmed_fen += other.confirmed_fen;
        self.confirmed_qualifying_fen += other.confirmed_qualifying_fen;
        self.paid_fen += other.paid_fen;
    }

    /// The figures the target is judged on: with `require_confirmation`, only purchases
    /// both parties confirmed count as qualifying (the total stays every purchase
    /// recorded, so unconfirmed purchases count against the share). Linear, so it may be
    /// applied to buckets before they are summed. The weight figures are unchanged.
    pub fn counted(self, require_confirmation: bool) -> Self {
        if require_confirmation { Self { qualifying_fen: self.confirmed_qualifying_fen, ..self } } else { self }
    }

    /// Figures of one ledger fact: an amount (and mass) with its qualification.
    pub fn of(q: Qualification, amount_fen: i64, mass_mg: i64) -> Self {
        let (qualifying_fen, qualifying_mg, pending_fen) = match q {
            Qualification::Qualifying(_) => (amount_fen, mass_mg, 0),
            Qualification::Pending(_) => (0, 0, amount_fen),
            Qualification::NotQualifying => (0, 0, 0),
        };
        Self { total_fen: amount_fen, qualifying_fen, pending_fen, total_mg: mass_mg, qualifying_mg, ..Self::default() }
    }
}

#[cfg(test)]
mod tests {
    use super::super::catalog::Tag;
    use super::super::shares::{Target, evaluate};
    use super::*;

    #[test]
    fn a_qualifying_fact_counts_money_and_mass() {
        let f = Figures::of(Qualification::Qualifying(Tag::Cooperative), 500, 7);
        assert_eq!(f, Figures { total_fen: 500, qualifying_fen: 500, total_mg: 7, qualifying_mg: 7, ..Figures::default() });
    }

    #[test]
    fn a_pending_fact_counts_money_as_pending_and_mass_only_in_the_total() {
        let f = Figures::of(Qualification::Pending(Tag::PoorHousehold), 300, 11);
        assert_eq!(f, Figures { total_fen: 300, pending_fen: 300, total_mg: 11, ..Figures::default() });
    }

    #[test]
    fn a_non_qualifying_fact_counts_only_in_the_totals() {
        let f = Figures::of(Qualification::NotQualifying, 200, 13);
        assert_eq!(f, Figures { total_fen: 200, total_mg: 13, ..Figures::default() });
        assert_eq!(Figures::of(Qualification::NotQualifying, 0, 0), Figures::default());
    }

    #[test]
    fn a_negative_fact_removes_what_its_positive_added() {
        let q = Qualification::Qualifying(Tag::Cooperative);
        let mut f = Figures::of(q, 500, 7);
        f.add(&Figures::of(q, -500, -7));
        assert_eq!(f, Figures::default());
    }

    #[test]
    fn add_sums_every_field() {
        let one = Figures {
            total_fen: 1,
            qualifying_fen: 2,
            pending_fen: 3,
            total_mg: 4,
            qualifying_mg: 5,
            confirmed_fen: 6,
            confirmed_qualifying_fen: 7,
            paid_fen: 8,
        };
        let mut sum = one;
        sum.add(&one);
        let twice = Figures {
            total_fen: 2,
            qualifying_fen: 4,
            pending_fen: 6,
            total_mg: 8,
            qualifying_mg: 10,
            confirmed_fen: 12,
            confirmed_qualifying_fen: 14,
            paid_fen: 16,
        };
        assert_eq!(sum, twice);
        let mut zero = Figures::default();
        zero.add(&Figures::default());
        assert_eq!(zero, Figures::default());
    }

    #[test]
    fn requiring_confirmation_counts_only_confirmed_qualifying_purchases() {
        let f = Figures {
            total_fen: 10_000,
            qualifying_fen: 8_000,
            confirmed_fen: 6_000,
            confirmed_qualifying_fen: 4_000,
            ..Figures::default()
        };
        assert_eq!(f.counted(false), f);
        let strict = f.counted(true);
        assert_eq!((strict.total_fen, strict.qualifying_fen), (10_000, 4_000));
        assert_eq!(evaluate(&f.counted(false), Target::HALF).meets_target, Some(true));
        assert_eq!(evaluate(&strict, Target::HALF).meets_target, Some(false));
        assert_eq!(evaluate(&strict, Target::HALF).shortfall_fen, 1_000);
        // Linear: counting buckets then summing equals summing then counting.
        let mut sum = f.counted(true);
        sum.add(&f.counted(true));
        let mut raw = f;
        raw.add(&f);
        assert_eq!(sum, raw.counted(true));
    }
}

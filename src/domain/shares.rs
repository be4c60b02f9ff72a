//! Shares against the target: value-weighted sums (never averages of percentages),
//! the exact integer target test, shortfall rounded up to the fen, and silent units.
//! Pure: no I/O.

use rust_decimal::Decimal;

use super::DomainError;
use super::catalog::{Category, Tag};
pub use super::figures::Figures;
use super::money::{div_ceil, div_round_half_away};
use super::qualification::Qualification;

/// A target share as an exact fraction, e.g. 1/2 for 50%.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    numerator: i64,
    denominator: i64,
}

impl Target {
    /// 0 ≤ numerator ≤ denominator, denominator > 0.
    pub fn new(numerator: i64, denominator: i64) -> Result<Self, DomainError> {
        if denominator <= 0 || numerator < 0 || numerator > denominator {
            return Err(DomainError::BadTarget);
        }
        Ok(Self { numerator, denominator })
    }

    /// The programme's 50%.
    pub const HALF: Self = Self { numerator: 1, denominator: 2 };

    pub const fn numerator(self) -> i64 {
        self.numerator
    }
    pub const fn denominator(self) -> i64 {
        self.denominator
    }

    /// The target as a decimal with 4 places ("0.5000").
    pub fn to_decimal(self) -> Decimal {
        ratio_4dp(self.numerator, self.denominator).unwrap_or_default()
    }
}

/// value / total rounded half away from zero to 4 places; `None` when total is 0.
pub fn ratio_4dp(value: i64, total: i64) -> Option<Decimal> {
    if total == 0 {
        return None;
    }
    let scaled = div_round_half_away(i128::from(value) * 10_000, i128::from(total));
    i64::try_from(scaled).ok().map(|s| Decimal::new(s, 4))
}

/// Everything a report needs about one unit over one period: overall figures, the
/// split by category and by attributed tag, and the net number of purchases.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Measures {
    pub all: Figures,
    pub by_category: [Figures; Category::ALL.len()],
    /// For each tag: the qualifying and pending amounts attributed to it
    /// (its `total_*` fields carry the same attributed amounts).
    pub by_tag: [Figures; Tag::ALL.len()],
    /// Purchases recorded minus purchases voided.
    pub purchases: i64,
}

impl Measures {
    /// Adds one aggregated ledger fact.
    pub fn add_fact(&mut self, category: Category, q: Qualification, amount_fen: i64, mass_mg: i64) {
        let f = Figures::of(q, amount_fen, mass_mg);
        self.all.add(&f);
        self.by_category[category_index(category)].add(&f);
        if let Some(tag) = q.tag() {
            self.by_tag[tag_index(tag)].add(&f);
        }
    }

    pub fn merge(&mut self, other: &Self) {
        self.all.add(&other.all);
        for (a, b) in self.by_category.iter_mut().zip(other.by_category.iter()) {
            a.add(b);
        }
        for (a, b) in self.by_tag.iter_mut().zip(other.by_tag.iter()) {
            a.add(b);
        }
        self.purchases += other.purchases;
    }

    /// A unit is silent when it has no (unvoided) purchase in the period.
    pub fn is_silent(&self) -> bool {
        is_silent(&self.all, self.purchases)
    }
}

/// Silent: no (unvoided) purchase and nothing bought in the period.
pub fn is_silent(figures: &Figures, purchases: i64) -> bool {
    purchases <= 0 && figures.total_fen == 0
}

pub fn category_index(c: Category) -> usize {
    Category::ALL.iter().position(|x| *x == c).unwrap_or(0)
}

pub fn tag_index(t: Tag) -> usize {
    Tag::ALL.iter().position(|x| *x == t).unwrap_or(0)
}

/// The verdict on one unit: share, whether it meets the target, and the shortfall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// qualifying / total with 4 places; `None` when nothing was bought.
    pub share: Option<Decimal>,
    /// `None` when nothing was bought (a silent unit is neither meeting nor missing).
    pub meets_target: Option<bool>,
    /// Fen that would have had to qualify to meet the target (0 when met).
    pub shortfall_fen: i64,
}

/// Applies the target: met iff `qualifying × denominator ≥ total × numerator` (exact);
/// shortfall = max(0, ⌈total × numerator / denominator⌉ − qualifying), in fen.
pub fn evaluate(figures: &Figures, target: Target) -> Outcome {
    let total = i128::from(figures.total_fen);
    let qualifying = i128::from(figures.qualifying_fen);
    if figures.total_fen == 0 {
        return Outcome { share: None, meets_target: None, shortfall_fen: 0 };
    }
    let meets = qualifying * i128::from(target.denominator) >= total * i128::from(target.numerator);
    let needed = div_ceil(total * i128::from(target.numerator), i128::from(target.denominator));
    let shortfall = (needed - qualifying).max(0);
    Outcome {
        share: ratio_4dp(figures.qualifying_fen, figures.total_fen),
        meets_target: Some(meets),
        shortfall_fen: i64::try_from(shortfall).unwrap_or(i64::MAX),
    }
}

/// Counts over the schools of an aggregate unit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SchoolCounts {
    pub schools: i64,
    pub reporting: i64,
    pub meeting_target: i64,
    pub silent: i64,
}

impl SchoolCounts {
    /// Adds one school's measures, judged against `target`.
    pub fn add_school(&mut self, m: &Measures, target: Target) {
        self.schools += 1;
        if m.is_silent() {
            self.silent += 1;
        } else {
            self.add_reporting(&m.all, target);
        }
    }

    /// Adds one school known to have reported with `figures` (the caller counts the
    /// schools and the silent ones).
    pub fn add_reporting(&mut self, figures: &Figures, target: Target) {
        self.reporting += 1;
        if evaluate(figures, target).meets_target == Some(true) {
            self.meeting_target += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fig(total: i64, qualifying: i64) -> Figures {
        Figures { total_fen: total, qualifying_fen: qualifying, ..Figures::default() }
    }

    #[test]
    fn exactly_fifty_percent_meets_the_target() {
        let o = evaluate(&fig(10_000, 5_000), Target::HALF);
        assert_eq!(o.meets_target, Some(true));
        assert_eq!(o.share, Some(Decimal::new(5_000, 4)));
        assert_eq!(o.shortfall_fen, 0);
    }

    #[test]
    fn one_fen_short_of_half_misses_by_one_fen() {
        let o = evaluate(&fig(10_000, 4_999), Target::HALF);
        assert_eq!(o.meets_target, Some(false));
        assert_eq!(o.shortfall_fen, 1);
        // share rounds to 0.4999
        assert_eq!(o.share.unwrap().to_string(), "0.4999");
    }

    #[test]
    fn shortfall_rounds_up_to_the_fen() {
        // total 0.03 yuan → half is 1.5 fen → 2 fen needed
        let o = evaluate(&fig(3, 1), Target::HALF);
        assert_eq!(o.meets_target, Some(false));
        assert_eq!(o.shortfall_fen, 1);
        let o = evaluate(&fig(3, 0), Target::HALF);
        assert_eq!(o.shortfall_fen, 2);
        // 2/3 of 1.00 yuan → 66.67 fen → 67
        let o = evaluate(&fig(100, 0), Target::new(2, 3).unwrap());
        assert_eq!(o.shortfall_fen, 67);
        // but meeting is exact: 66 fen of 99 is exactly 2/3
        assert_eq!(evaluate(&fig(99, 66), Target::new(2, 3).unwrap()).meets_target, Some(true));
    }

    #[test]
    fn share_rounds_half_away_from_zero_to_four_places() {
        // 1/8 = 0.125 exactly → 0.1250; 1/3 → 0.3333; 2/3 → 0.6667; 0.00005 → 0.0001
        assert_eq!(ratio_4dp(1, 8).unwrap().to_string(), "0.1250");
        assert_eq!(ratio_4dp(1, 3).unwrap().to_string(), "0.3333");
        assert_eq!(ratio_4dp(2, 3).unwrap().to_string(), "0.6667");
        assert_eq!(ratio_4dp(1, 20_000).unwrap().to_string(), "0.0001");
        assert_eq!(ratio_4dp(1, 20_001).unwrap().to_string(), "0.0000");
        assert_eq!(ratio_4dp(7, 7).unwrap().to_string(), "1.0000");
    }

    #[test]
    fn a_unit_with_no_purchases_is_silent_not_zero_percent() {
        let m = Measures::default();
        assert!(m.is_silent());
        let o = evaluate(&m.all, Target::HALF);
        assert_eq!(o.share, None);
        assert_eq!(o.meets_target, None);
        assert_eq!(o.shortfall_fen, 0);
    }

    #[test]
    fn a_unit_that_bought_only_non_qualifying_food_is_zero_percent() {
        let mut m = Measures::default();
        m.add_fact(Category::Grain, Qualification::NotQualifying, 1_000, 0);
        m.purchases = 1;
        assert!(!m.is_silent());
        let o = evaluate(&m.all, Target::HALF);
        assert_eq!(o.share.unwrap().to_string(), "0.0000");
        assert_eq!(o.meets_target, Some(false));
        assert_eq!(o.shortfall_fen, 500);
    }

    #[test]
    fn a_unit_whose_only_purchase_was_voided_is_silent() {
        let mut m = Measures::default();
        m.add_fact(Category::Fruit, Qualification::NotQualifying, 1_000, 0);
        m.add_fact(Category::Fruit, Qualification::NotQualifying, -1_000, 0);
        m.purchases = 0;
        assert!(m.is_silent());
    }

    #[test]
    fn aggregates_weight_by_value_not_by_averaging_percentages() {
        // school A: 100% of 1 yuan; school B: 0% of 99 yuan → 1%, not 50%
        let mut a = Measures::default();
        a.add_fact(Category::Vegetables, Qualification::Qualifying(Tag::Cooperative), 100, 0);
        let mut b = Measures::default();
        b.add_fact(Category::Vegetables, Qualification::NotQualifying, 9_900, 0);
        a.merge(&b);
        assert_eq!(evaluate(&a.all, Target::HALF).share.unwrap().to_string(), "0.0100");
    }

    #[test]
    fn pending_amounts_are_reported_but_do_not_count() {
        let mut m = Measures::default();
        m.add_fact(Category::Eggs, Qualification::Pending(Tag::PoorHousehold), 800, 1_000_000);
        m.add_fact(Category::Eggs, Qualification::Qualifying(Tag::PoorHousehold), 200, 500_000);
        assert_eq!(m.all.pending_fen, 800);
        assert_eq!(m.all.qualifying_fen, 200);
        assert_eq!(m.all.total_mg, 1_500_000);
        assert_eq!(m.all.qualifying_mg, 500_000);
        assert_eq!(m.by_tag[tag_index(Tag::PoorHousehold)].pending_fen, 800);
        assert_eq!(m.by_category[category_index(Category::Eggs)].total_fen, 1_000);
        assert_eq!(evaluate(&m.all, Target::HALF).meets_target, Some(false));
    }

    #[test]
    fn school_counts_separate_silent_reporting_and_meeting() {
        let mut counts = SchoolCounts::default();
        let mut meets = Measures::default();
        meets.add_fact(Category::Grain, Qualification::Qualifying(Tag::Cooperative), 500, 0);
        meets.add_fact(Category::Grain, Qualification::NotQualifying, 500, 0);
        meets.purchases = 2;
        let mut misses = Measures::default();
        misses.add_fact(Category::Grain, Qualification::NotQualifying, 500, 0);
        misses.purchases = 1;
        counts.add_school(&meets, Target::HALF);
        counts.add_school(&misses, Target::HALF);
        counts.add_school(&Measures::default(), Target::HALF);
        assert_eq!(counts, SchoolCounts { schools: 3, reporting: 2, meeting_target: 1, silent: 1 });
    }

    #[test]
    fn targets_must_be_proper_fractions() {
        assert!(Target::new(1, 0).is_err());
        assert!(Target::new(-1, 2).is_err());
        assert!(Target::new(3, 2).is_err());
        assert_eq!(Target::new(1, 2).unwrap().to_decimal().to_string(), "0.5000");
    }
}

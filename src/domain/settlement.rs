//! Settlement rules: when a purchase's payment falls due, how much of it is paid, and
//! whether it is overdue. Pure: "today" is always a parameter.

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Payment state of a purchase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentState {
    Unpaid,
    Partial,
    Paid,
}

impl PaymentState {
    /// Paid when nothing is left to pay; unpaid when nothing was paid; partial otherwise.
    pub const fn of(paid_fen: i64, unpaid_fen: i64) -> Self {
        if unpaid_fen <= 0 {
            Self::Paid
        } else if paid_fen == 0 {
            Self::Unpaid
        } else {
            Self::Partial
        }
    }

    /// The Chinese label the exports print: 未付, 部分已付, 已付.
    pub const fn zh(self) -> &'static str {
        match self {
            Self::Unpaid => "未付",
            Self::Partial => "部分已付",
            Self::Paid => "已付",
        }
    }
}

/// The day a purchase's payment falls due: the purchase date plus the supplier's
/// payment terms (negative terms count as none; a date past the calendar's end stays
/// the purchase date).
pub fn due_date(purchase_date: NaiveDate, terms_days: i32) -> NaiveDate {
    purchase_date.checked_add_days(Days::new(u64::try_from(terms_days).unwrap_or(0))).unwrap_or(purchase_date)
}

/// Overdue as of `today`: something is still unpaid and the due date has passed.
pub fn is_overdue(unpaid_fen: i64, due: NaiveDate, today: NaiveDate) -> bool {
    unpaid_fen > 0 && due < today
}

/// Whole days from the due date to `as_of` (negative before it is due).
pub fn days_overdue(due: NaiveDate, as_of: NaiveDate) -> i64 {
    (as_of - due).num_days()
}

/// What settlement needs to know of one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub purchase_date: NaiveDate,
    pub terms_days: i32,
    pub total_fen: i64,
    pub paid_fen: i64,
    /// A voided entry is never overdue.
    pub voided: bool,
}

/// How much of an entry is paid, when the rest is due, and whether it is overdue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Payment {
    pub paid_fen: i64,
    pub unpaid_fen: i64,
    pub due_date: NaiveDate,
    pub state: PaymentState,
    pub overdue: bool,
}

impl Entry {
    /// The day this entry's payment falls due.
    pub fn due_date(&self) -> NaiveDate {
        due_date(self.purchase_date, self.terms_days)
    }

    /// The payment state of this entry as of `today`.
    pub fn payment(&self, today: NaiveDate) -> Payment {
        let unpaid_fen = self.total_fen - self.paid_fen;
        let due = self.due_date();
        Payment {
            paid_fen: self.paid_fen,
            unpaid_fen,
            due_date: due,
            state: PaymentState::of(self.paid_fen, unpaid_fen),
            overdue: !self.voided && is_overdue(unpaid_fen, due, today),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2019, m, d).unwrap_or_default()
    }

    fn entry(total: i64, paid: i64) -> Entry {
        Entry { purchase_date: day(3, 5), terms_days: 30, total_fen: total, paid_fen: paid, voided: false }
    }

    #[test]
    fn payment_falls_due_terms_days_after_the_purchase() {
        assert_eq!(due_date(day(3, 5), 30), day(4, 4));
        assert_eq!(due_date(day(1, 31), 30), day(3, 2));
        assert_eq!(due_date(day(3, 5), 0), day(3, 5));
        assert_eq!(due_date(day(3, 5), 1), day(3, 6));
    }

    #[test]
    fn negative_terms_count_as_none() {
        assert_eq!(due_date(day(3, 5), -1), day(3, 5));
        assert_eq!(due_date(day(3, 5), i32::MIN), day(3, 5));
    }

    #[test]
    fn a_due_date_past_the_calendar_stays_the_purchase_date() {
        assert_eq!(due_date(NaiveDate::MAX, 1), NaiveDate::MAX);
        assert_eq!(due_date(NaiveDate::MAX, 0), NaiveDate::MAX);
    }

    #[test]
    fn state_is_paid_unpaid_or_partial() {
        assert_eq!(PaymentState::of(0, 100), PaymentState::Unpaid);
        assert_eq!(PaymentState::of(1, 99), PaymentState::Partial);
        assert_eq!(PaymentState::of(99, 1), PaymentState::Partial);
        assert_eq!(PaymentState::of(100, 0), PaymentState::Paid);
        // Overpaid is paid; a zero-total entry is paid with nothing paid.
        assert_eq!(PaymentState::of(150, -50), PaymentState::Paid);
        assert_eq!(PaymentState::of(0, 0), PaymentState::Paid);
        let labels = [PaymentState::Unpaid, PaymentState::Partial, PaymentState::Paid].map(PaymentState::zh);
        assert_eq!(labels, ["未付", "部分已付", "已付"]);
    }

    #[test]
    fn overdue_only_after_the_due_day_and_only_while_unpaid() {
        let due = day(4, 4);
        assert!(!is_overdue(1, due, day(4, 3)));
        assert!(!is_overdue(1, due, due), "due today is not yet overdue");
        assert!(is_overdue(1, due, day(4, 5)));
        assert!(!is_overdue(0, due, day(4, 5)));
        assert!(!is_overdue(-1, due, day(4, 5)));
    }

    #[test]
    fn days_overdue_counts_whole_days_from_the_due_date() {
        assert_eq!(days_overdue(day(4, 4), day(4, 4)), 0);
        assert_eq!(days_overdue(day(4, 4), day(4, 5)), 1);
        assert_eq!(days_overdue(day(4, 4), day(5, 4)), 30);
        assert_eq!(days_overdue(day(4, 4), day(4, 3)), -1);
    }

    #[test]
    fn payment_of_an_entry_as_of_a_day() {
        let p = entry(4_590, 2_000).payment(day(4, 5));
        assert_eq!(p, Payment { paid_fen: 2_000, unpaid_fen: 2_590, due_date: day(4, 4), state: PaymentState::Partial, overdue: true });
        let p = entry(4_590, 2_000).payment(day(4, 4));
        assert!(!p.overdue);
        let p = entry(4_590, 4_590).payment(day(12, 31));
        assert_eq!((p.unpaid_fen, p.state, p.overdue), (0, PaymentState::Paid, false));
        let p = entry(4_590, 0).payment(day(3, 5));
        assert_eq!((p.state, p.overdue), (PaymentState::Unpaid, false));
    }

    #[test]
    fn a_voided_entry_is_never_overdue() {
        let p = Entry { voided: true, ..entry(4_590, 0) }.payment(day(12, 31));
        assert_eq!((p.state, p.overdue), (PaymentState::Unpaid, false));
    }

    #[test]
    fn the_entry_due_date_uses_its_terms() {
        assert_eq!(Entry { terms_days: 0, ..entry(1, 0) }.due_date(), day(3, 5));
        assert_eq!(entry(1, 0).due_date(), day(4, 4));
    }
}

//! Reporting periods: inclusive date ranges, the programme's named periods (half-month,
//! month, quarter, year, spring campaign) and the split of a range into named buckets.
//! Pure: no I/O, no clock.

use chrono::{Datelike, Months, NaiveDate};

use super::DomainError;

/// An inclusive range of business dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// Granularity of a named period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PeriodKind {
    Day,
    HalfMonth,
    Month,
    Quarter,
    Year,
}

impl PeriodKind {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "day" => Some(Self::Day),
            "half_month" => Some(Self::HalfMonth),
            "month" => Some(Self::Month),
            "quarter" => Some(Self::Quarter),
            "year" => Some(Self::Year),
            _ => None,
        }
    }

    /// All kinds, finest first; `code()` is the index.
    pub const ALL: [Self; 5] = [Self::Day, Self::HalfMonth, Self::Month, Self::Quarter, Self::Year];

    /// Stable integer stored with aggregate buckets.
    pub const fn code(self) -> i32 {
        match self {
            Self::Day => 0,
            Self::HalfMonth => 1,
            Self::Month => 2,
            Self::Quarter => 3,
            Self::Year => 4,
        }
    }

    pub fn from_code(code: i32) -> Option<Self> {
        usize::try_from(code).ok().and_then(|i| Self::ALL.get(i).copied())
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::HalfMonth => "half_month",
            Self::Month => "month",
            Self::Quarter => "quarter",
            Self::Year => "year",
        }
    }

    /// The period of this kind that contains `date`.
    pub fn containing(self, date: NaiveDate) -> DateRange {
        let (y, m, d) = (date.year(), date.month(), date.day());
        let month_start = first_of(y, m);
        match self {
            Self::Day => DateRange { from: date, to: date },
            Self::HalfMonth if d <= 15 => DateRange { from: month_start, to: day(y, m, 15) },
            Self::HalfMonth => DateRange { from: day(y, m, 16), to: last_of_month(month_start) },
            Self::Month => DateRange { from: month_start, to: last_of_month(month_start) },
            Self::Quarter => {
                let qm = (m - 1) / 3 * 3 + 1;
                let start = first_of(y, qm);
                DateRange { from: start, to: last_of_month(first_of(y, qm + 2)) }
            }
            Self::Year => DateRange { from: first_of(y, 1), to: day(y, 12, 31) },
        }
    }

    /// The label of the period of this kind containing `date`, in the same syntax that
    /// [`parse_period`] accepts ("2019-03-H1", "2019-03", "2019-Q1", "2019", "2019-03-05").
    pub fn label(self, date: NaiveDate) -> String {
        let (y, m) = (date.year(), date.month());
        match self {
            Self::Day => date.format("%Y-%m-%d").to_string(),
            Self::HalfMonth => format!("{y:04}-{m:02}-H{}", if date.day() <= 15 { 1 } else { 2 }),
            Self::Month => format!("{y:04}-{m:02}"),
            Self::Quarter => format!("{y:04}-Q{}", (m - 1) / 3 + 1),
            Self::Year => format!("{y:04}"),
        }
    }
}

fn first_of(y: i32, m: u32) -> NaiveDate {
    day(y, m, 1)
}

/// Builds a date that is valid by construction (callers pass checked components).
fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

fn last_of_month(start: NaiveDate) -> NaiveDate {
    start.checked_add_months(Months::new(1)).and_then(|n| n.pred_opt()).unwrap_or(NaiveDate::MAX)
}

/// Earliest year a period may name (the programme's data start in 2014).
const MIN_YEAR: i32 = 2000;
const MAX_YEAR: i32 = 2100;

/// Parses a named period: `2019-03-H1` / `2019-03-H2` (half-months: 1st–15th, 16th–end),
/// `2019-03` (month), `2019-Q1` (quarter), `2019` (year), `2019-spring` (the spring semester,
/// February–June), `2019-autumn` (the autumn semester, September–January of the next year).
pub fn parse_period(text: &str) -> Result<DateRange, DomainError> {
    let bad = || DomainError::BadPeriod(text.to_owned());
    let parts: Vec<&str> = text.split('-').collect();
    let year = |s: &str| -> Result<i32, DomainError> {
        let y: i32 = s.parse().map_err(|_| bad())?;
        if s.len() == 4 && (MIN_YEAR..=MAX_YEAR).contains(&y) { Ok(y) } else { Err(bad()) }
    };
    let month = |s: &str| -> Result<u32, DomainError> {
        let m: u32 = s.parse().map_err(|_| bad())?;
        if s.len() == 2 && (1..=12).contains(&m) { Ok(m) } else { Err(bad()) }
    };
    match parts.as_slice() {
        [y] => Ok(PeriodKind::Year.containing(first_of(year(y)?, 1))),
        [y, "spring"] => {
            let y = year(y)?;
            Ok(DateRange { from: first_of(y, 2), to: day(y, 6, 30) })
        }
        [y, "autumn"] => {
            let y = year(y)?;
            if y >= MAX_YEAR {
                return Err(bad());
            }
            Ok(DateRange { from: first_of(y, 9), to: day(y + 1, 1, 31) })
        }
        [y, q] if q.len() == 2 && q.starts_with('Q') => {
            let n: u32 = q[1..].parse().map_err(|_| bad())?;
            if !(1..=4).contains(&n) {
                return Err(bad());
            }
            Ok(PeriodKind::Quarter.containing(first_of(year(y)?, n * 3 - 2)))
        }
        [y, m] => Ok(PeriodKind::Month.containing(first_of(year(y)?, month(m)?))),
        [y, m, "H1"] => Ok(PeriodKind::HalfMonth.containing(first_of(year(y)?, month(m)?))),
        [y, m, "H2"] => Ok(PeriodKind::HalfMonth.containing(day(year(y)?, month(m)?, 16))),
        _ => Err(bad()),
    }
}

/// Largest number of period buckets a report may have (e.g. ~10 years of half-months).
pub const MAX_PERIODS: usize = 240;

impl DateRange {
    /// A range from explicit bounds; `from` must not be after `to`.
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Self, DomainError> {
        if from > to {
            return Err(DomainError::InvertedRange);
        }
        Ok(Self { from, to })
    }

    pub fn contains(&self, date: NaiveDate) -> bool {
        self.from <= date && date <= self.to
    }

    /// Number of days in the range.
    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }

    /// Splits the range into consecutive periods of `kind`, each clipped to the range,
    /// labelled as [`PeriodKind::label`] does.
    pub fn split(&self, kind: PeriodKind) -> Vec<(String, DateRange)> {
        let mut out = Vec::new();
        let mut cursor = self.from;
        while cursor <= self.to {
            let p = kind.containing(cursor);
            let clipped = DateRange { from: cursor, to: p.to.min(self.to) };
            out.push((kind.label(cursor), clipped));
            match p.to.succ_opt() {
                Some(next) => cursor = next,
                None => break,
            }
        }
        out
    }

    /// Refuses a split into more than [`MAX_PERIODS`] periods of `kind` (a report's
    /// period columns).
    pub fn check_period_count(&self, kind: PeriodKind) -> Result<(), DomainError> {
        if self.split(kind).len() > MAX_PERIODS {
            return Err(DomainError::TooManyPeriods { max: MAX_PERIODS });
        }
        Ok(())
    }

    /// Covers the range with the fewest whole calendar buckets (years, quarters, months,
    /// half-months, days), so that a sum over stored buckets is exact for any range.
    pub fn cover(&self) -> Vec<(PeriodKind, NaiveDate)> {
        const KINDS: [PeriodKind; 5] = [PeriodKind::Year, PeriodKind::Quarter, PeriodKind::Month, PeriodKind::HalfMonth, PeriodKind::Day];
        let mut out = Vec::new();
        let mut cursor = self.from;
        while cursor <= self.to {
            let (kind, bucket) = KINDS
                .iter()
                .map(|k| (*k, k.containing(cursor)))
                .find(|(_, b)| b.from == cursor && b.to <= self.to)
                .unwrap_or((PeriodKind::Day, DateRange { from: cursor, to: cursor }));
            out.push((kind, bucket.from));
            match bucket.to.succ_opt() {
                Some(next) => cursor = next,
                None => break,
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }
    fn range(a: &str, b: &str) -> DateRange {
        DateRange { from: date(a), to: date(b) }
    }

    #[test]
    fn half_months_split_on_the_fifteenth() {
        assert_eq!(parse_period("2019-03-H1").unwrap(), range("2019-03-01", "2019-03-15"));
        assert_eq!(parse_period("2019-03-H2").unwrap(), range("2019-03-16", "2019-03-31"));
        assert_eq!(parse_period("2019-02-H2").unwrap(), range("2019-02-16", "2019-02-28"));
        assert_eq!(parse_period("2020-02-H2").unwrap(), range("2020-02-16", "2020-02-29"));
    }

    #[test]
    fn months_quarters_years_and_the_spring_campaign() {
        assert_eq!(parse_period("2019-04").unwrap(), range("2019-04-01", "2019-04-30"));
        assert_eq!(parse_period("2019-Q1").unwrap(), range("2019-01-01", "2019-03-31"));
        assert_eq!(parse_period("2019-Q4").unwrap(), range("2019-10-01", "2019-12-31"));
        assert_eq!(parse_period("2019").unwrap(), range("2019-01-01", "2019-12-31"));
        assert_eq!(parse_period("2019-spring").unwrap(), range("2019-02-01", "2019-06-30"));
        assert_eq!(parse_period("2019-autumn").unwrap(), range("2019-09-01", "2020-01-31"));
        assert!(parse_period("2100-autumn").is_err(), "it would end in 2101");
    }

    #[test]
    fn malformed_periods_are_refused() {
        for bad in ["", "19", "2019-13", "2019-3", "2019-Q5", "2019-Q0", "2019-03-H3", "abcd", "2019-03-01-H1", "1999"] {
            assert!(parse_period(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn labels_round_trip_through_parse() {
        let d = date("2019-11-20");
        for kind in [PeriodKind::HalfMonth, PeriodKind::Month, PeriodKind::Quarter, PeriodKind::Year] {
            assert_eq!(parse_period(&kind.label(d)).unwrap(), kind.containing(d), "{kind:?}");
        }
    }

    #[test]
    fn split_clips_the_first_and_last_periods() {
        let parts = range("2019-03-10", "2019-04-20").split(PeriodKind::HalfMonth);
        let labels: Vec<_> = parts.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(labels, ["2019-03-H1", "2019-03-H2", "2019-04-H1", "2019-04-H2"]);
        assert_eq!(parts[0].1, range("2019-03-10", "2019-03-15"));
        assert_eq!(parts[3].1, range("2019-04-16", "2019-04-20"));
    }

    #[test]
    fn cover_uses_whole_buckets_and_tiles_the_range_exactly() {
        let r = range("2019-01-01", "2019-12-31");
        assert_eq!(r.cover(), vec![(PeriodKind::Year, date("2019-01-01"))]);
        let r = range("2019-02-14", "2019-07-16");
        let cover = r.cover();
        // days 14,15; H2 Feb; Mar; Q2; July H1; day 16
        assert_eq!(
            cover,
            vec![
                (PeriodKind::Day, date("2019-02-14")),
                (PeriodKind::Day, date("2019-02-15")),
                (PeriodKind::HalfMonth, date("2019-02-16")),
                (PeriodKind::Month, date("2019-03-01")),
                (PeriodKind::Quarter, date("2019-04-01")),
                (PeriodKind::HalfMonth, date("2019-07-01")),
                (PeriodKind::Day, date("2019-07-16")),
            ]
        );
    }

    #[test]
    fn cover_tiles_every_range_without_gaps_or_overlaps() {
        let start = date("2019-12-20");
        for len in 0..420 {
            let to = start + chrono::Days::new(len);
            let r = DateRange { from: start, to };
            let mut next = r.from;
            for (kind, from) in r.cover() {
                assert_eq!(from, next);
                let b = kind.containing(from);
                assert_eq!(b.from, from);
                next = b.to.succ_opt().unwrap();
            }
            assert_eq!(next, to.succ_opt().unwrap());
        }
    }

    #[test]
    fn a_report_has_at_most_240_periods() {
        // 240 months (2000-01 … 2019-12) fit; one month more does not.
        let twenty_years = DateRange::new(date("2000-01-01"), date("2019-12-31")).unwrap();
        assert_eq!(twenty_years.check_period_count(PeriodKind::Month), Ok(()));
        let one_more = DateRange::new(date("2000-01-01"), date("2020-01-01")).unwrap();
        assert_eq!(one_more.check_period_count(PeriodKind::Month), Err(DomainError::TooManyPeriods { max: 240 }));
        assert_eq!(one_more.check_period_count(PeriodKind::Year), Ok(()));
        // A clipped partial period counts as one.
        let partial = DateRange::new(date("2000-01-15"), date("2019-12-31")).unwrap();
        assert_eq!(partial.check_period_count(PeriodKind::Month), Ok(()));
        let day = DateRange::new(date("2019-01-01"), date("2019-01-01")).unwrap();
        assert_eq!(day.check_period_count(PeriodKind::Day), Ok(()));
        let e = DomainError::TooManyPeriods { max: MAX_PERIODS };
        assert_eq!((e.code().as_str(), e.to_string().as_str()), ("too_many_periods", "at most 240 periods; use a larger period_kind"));
    }

    #[test]
    fn inverted_ranges_are_refused() {
        assert_eq!(DateRange::new(date("2019-02-02"), date("2019-02-01")), Err(DomainError::InvertedRange));
        assert_eq!(range("2019-02-01", "2019-02-28").days(), 28);
    }
}

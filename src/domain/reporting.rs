//! The programme's reporting cycle (校农结合 half-monthly progress reports): which
//! half-month a report covers, when it is due, whether it came on time, and who reports to
//! whom. Pure: "now" is always a parameter.
//!
//! The province's 2019 notice has bureaus report "by the 15th and by the 30th of every
//! month", the first time by 30 March 2019. A report made by the 30th covers the first half
//! of that month (1st–15th); a report made by the 15th covers the second half of the month
//! before (16th–end): each half-month is reported after it ends, within about a fortnight,
//! and the campaign's first period, 2019-03-H1, is due on its first deadline. When a month
//! has fewer than 30 days, its "30th" is its last day. A deadline ends at the end of its day
//! in China Standard Time (UTC+8).

use std::fmt;

use chrono::{DateTime, Datelike, Days, FixedOffset, Months, NaiveDate, TimeZone, Utc};

use super::code::Code;
use super::period::DateRange;

/// China Standard Time (UTC+8), the programme's clock for deadlines and "today".
pub const CHINA_TIME: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+8 is a valid offset"),
};

/// One half-month: the 1st–15th (`H1`) or the 16th–end (`H2`) of a month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HalfMonth {
    year: i32,
    month: u32,
    second: bool,
}

/// Why a half-month's name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportingError {
    #[error("unknown half-month {0:?}: use YYYY-MM-H1 (1st–15th) or YYYY-MM-H2 (16th–end)")]
    BadHalfMonth(String),
    #[error("{period} is outside the {policy} reporting campaign, which starts with {first}")]
    OutsideCampaign { period: HalfMonth, policy: &'static str, first: HalfMonth },
    #[error("{period} cannot be reported before it starts on {opens}")]
    NotOpen { period: HalfMonth, opens: NaiveDate },
}

impl ReportingError {
    /// Whether the refusal depends on when it is asked (a half-month not yet begun)
    /// rather than on the half-month alone: a conflict with the present, not an invalid
    /// request.
    pub fn is_conflict(&self) -> bool {
        matches!(self, Self::NotOpen { .. })
    }

    /// The stable field code clients switch on.
    pub fn code(&self) -> Code {
        match self {
            Self::BadHalfMonth(_) => Code::InvalidValue,
            Self::OutsideCampaign { .. } => Code::OutsideCampaign,
            Self::NotOpen { .. } => Code::NotOpen,
        }
    }
}

/// Years a half-month may name (as periods do).
const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

impl HalfMonth {
    /// The half-month of `year`-`month`, `second` for the 16th–end. `None` outside
    /// 2000–2100 or for a month that is not 1–12.
    pub fn new(year: i32, month: u32, second: bool) -> Option<Self> {
        (YEARS.contains(&year) && (1..=12).contains(&month)).then_some(Self { year, month, second })
    }

    /// The half-month that holds `date` (`None` outside 2000–2100).
    pub fn containing(date: NaiveDate) -> Option<Self> {
        Self::new(date.year(), date.month(), date.day() > 15)
    }

    /// Parses `YYYY-MM-H1` / `YYYY-MM-H2`, exactly (two-digit month, upper-case H).
    pub fn parse(text: &str) -> Result<Self, ReportingError> {
        let bad = || ReportingError::BadHalfMonth(text.to_owned());
        let b = text.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' || b[8] != b'H' {
            return Err(bad());
        }
        let digits = |s: &str| s.bytes().all(|c| c.is_ascii_digit()).then(|| s.parse::<u32>().ok()).flatten();
        let (year, month) = (digits(&text[..4]).ok_or_else(bad)?, digits(&text[5..7]).ok_or_else(bad)?);
        let second = match b[9] {
            b'1' => false,
            b'2' => true,
            _ => return Err(bad()),
        };
        Self::new(i32::try_from(year).map_err(|_| bad())?, month, second).ok_or_else(bad)
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn month(self) -> u32 {
        self.month
    }

    /// Whether this is the 16th–end half.
    pub fn is_second(self) -> bool {
        self.second
    }

    fn month_start(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or(NaiveDate::MIN)
    }

    fn month_end(self) -> NaiveDate {
        self.month_start().checked_add_months(Months::new(1)).and_then(|d| d.pred_opt()).unwrap_or(NaiveDate::MAX)
    }

    /// Its first day (the 1st or the 16th).
    pub fn first_day(self) -> NaiveDate {
        if self.second { self.month_start() + Days::new(15) } else { self.month_start() }
    }

    /// Its last day (the 15th, or the month's last day).
    pub fn last_day(self) -> NaiveDate {
        if self.second { self.month_end() } else { self.month_start() + Days::new(14) }
    }

    /// The dates it covers.
    pub fn range(self) -> DateRange {
        DateRange { from: self.first_day(), to: self.last_day() }
    }

    /// The half-month after this one.
    pub fn next(self) -> Self {
        match (self.second, self.month) {
            (false, _) => Self { second: true, ..self },
            (true, 12) => Self { year: self.year + 1, month: 1, second: false },
            (true, m) => Self { month: m + 1, second: false, ..self },
        }
    }

    /// The half-month before this one.
    pub fn prev(self) -> Self {
        match (self.second, self.month) {
            (true, _) => Self { second: false, ..self },
            (false, 1) => Self { year: self.year - 1, month: 12, second: true },
            (false, m) => Self { month: m - 1, second: true, ..self },
        }
    }

    /// Its name in Chinese, as reports print it: `2019年3月上半月`.
    pub fn label_zh(self) -> String {
        format!("{}年{}月{}半月", self.year, self.month, if self.second { "下" } else { "上" })
    }
}

impl fmt::Display for HalfMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-H{}", self.year, self.month, if self.second { 2 } else { 1 })
    }
}

/// The reporting calendar of a qualification policy: data of the policy, not code paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Calendar {
    /// The policy version the calendar belongs to.
    pub policy: &'static str,
    /// The campaign's first reported half-month.
    pub first: HalfMonth,
    /// The day of the month of the first-half deadline (capped at the month's last day).
    pub first_half_due: u32,
    /// The day of the following month of the second-half deadline.
    pub second_half_due: u32,
}

/// One deadline and the half-month it is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    pub covers: HalfMonth,
    /// The day by which the report is due (inclusive, China Standard Time).
    pub date: NaiveDate,
}

impl Deadline {
    /// The instant the deadline ends: the end of its day in China Standard Time.
    pub fn ends_at(self) -> DateTime<Utc> {
        let next = self.date.succ_opt().unwrap_or(self.date);
        CHINA_TIME
            .from_local_datetime(&next.and_hms_opt(0, 0, 0).unwrap_or_default())
            .single()
            .map_or(DateTime::<Utc>::MIN_UTC, |t| t.with_timezone(&Utc))
    }
}

impl Calendar {
    /// The 2019 notice: by the 30th for the first half of the month, by the 15th of the next
    /// month for the second half; the first report by 30 March 2019 (for 2019-03-H1).
    pub const GZ_2019: Calendar =
        Calendar { policy: "gz-2019", first: HalfMonth { year: 2019, month: 3, second: false }, first_half_due: 30, second_half_due: 15 };

    /// The calendar of a policy version, if it has one.
    pub fn by_policy(version: &str) -> Option<Calendar> {
        (version == Self::GZ_2019.policy).then_some(Self::GZ_2019)
    }

    /// Whether `period` is one the campaign asks for.
    pub fn expects(&self, period: HalfMonth) -> bool {
        period >= self.first
    }

    /// The deadline for `period`, or why it has none.
    pub fn deadline(&self, period: HalfMonth) -> Result<Deadline, ReportingError> {
        if !self.expects(period) {
            return Err(ReportingError::OutsideCampaign { period, policy: self.policy, first: self.first });
        }
        let date = if period.second {
            let next_month = period.next();
            next_month.month_start() + Days::new(u64::from(self.second_half_due.saturating_sub(1)))
        } else {
            let wanted = period.month_start() + Days::new(u64::from(self.first_half_due.saturating_sub(1)));
            wanted.min(period.month_end())
        };
        Ok(Deadline { covers: period, date })
    }

    /// Every deadline falling in `year`, in date order (none before the campaign starts).
    pub fn year(&self, year: i32) -> Vec<Deadline> {
        let Some(start) = HalfMonth::new(year, 1, false).map(HalfMonth::prev) else { return Vec::new() };
        let mut out = Vec::new();
        let mut p = start;
        for _ in 0..24 {
            if let Ok(d) = self.deadline(p)
                && d.date.year() == year
            {
                out.push(d);
            }
            p = p.next();
        }
        out
    }

    /// Refuses a submission for `period` made at `at`: outside the campaign, or before the
    /// half-month's first day (China Standard Time).
    pub fn check_submission(&self, period: HalfMonth, at: DateTime<Utc>) -> Result<Deadline, ReportingError> {
        let deadline = self.deadline(period)?;
        let opens = period.first_day();
        if at.with_timezone(&CHINA_TIME).date_naive() < opens {
            return Err(ReportingError::NotOpen { period, opens });
        }
        Ok(deadline)
    }
}

/// Whether a report came in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timeliness {
    OnTime,
    /// Made `days` calendar days (China Standard Time) after the deadline's day.
    Late {
        days: i64,
    },
}

impl Timeliness {
    /// Of a report first made at `at` against `deadline`. A revision does not change it:
    /// pass the first revision's time.
    pub fn of(deadline: Deadline, at: DateTime<Utc>) -> Self {
        if at < deadline.ends_at() {
            Self::OnTime
        } else {
            let day = at.with_timezone(&CHINA_TIME).date_naive();
            Self::Late { days: (day - deadline.date).num_days().max(1) }
        }
    }
}

/// Where a unit stands for one half-month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Not submitted, and the deadline has not ended.
    NotDue,
    OnTime,
    Late {
        days: i64,
    },
    /// The deadline has ended and nothing was submitted.
    Missing,
}

impl Status {
    /// The status at `now` of a unit whose first submission for the deadline's period was
    /// made at `first_submitted` (if any).
    pub fn of(deadline: Deadline, first_submitted: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Self {
        match first_submitted.map(|at| Timeliness::of(deadline, at)) {
            Some(Timeliness::OnTime) => Self::OnTime,
            Some(Timeliness::Late { days }) => Self::Late { days },
            None if now >= deadline.ends_at() => Self::Missing,
            None => Self::NotDue,
        }
    }

    /// The wire name: `not_due`, `on_time`, `late`, `missing`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotDue => "not_due",
            Self::OnTime => "on_time",
            Self::Late { .. } => "late",
            Self::Missing => "missing",
        }
    }

    /// As the circulated list prints it: 未到期, 按时, 迟报N天, 未报.
    pub fn label_zh(self) -> String {
        match self {
            Self::NotDue => "未到期".into(),
            Self::OnTime => "按时".into(),
            Self::Late { days } => format!("迟报{days}天"),
            Self::Missing => "未报".into(),
        }
    }
}

/// A county's reporting line as recorded: to its prefecture (the rule) or directly to the
/// province (named exceptions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Line {
    Prefecture,
    Province,
}

impl Line {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Prefecture => "prefecture",
            Self::Province => "province",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "prefecture" => Some(Self::Prefecture),
            "province" => Some(Self::Province),
            _ => None,
        }
    }
}

/// To whom a bureau reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportsTo {
    /// The county's prefecture bureau (by GB/T 2260 code).
    Prefecture(String),
    /// The provincial department.
    Province,
}

/// To whom the bureau of a county in `prefecture_code` reports: its prefecture, unless the
/// county is one of those the province names as reporting to it directly.
pub fn county_reports_to(county_code: &str, prefecture_code: &str, direct_to_province: &[&str]) -> ReportsTo {
    if direct_to_province.contains(&county_code) { ReportsTo::Province } else { ReportsTo::Prefecture(prefecture_code.to_owned()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hm(text: &str) -> HalfMonth {
        HalfMonth::parse(text).unwrap()
    }

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    /// An instant given in China Standard Time.
    fn cst(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&format!("{text}+08:00")).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn half_months_parse_exactly_and_print_back() {
        for text in ["2019-03-H1", "2019-03-H2", "2000-01-H1", "2100-12-H2"] {
            assert_eq!(hm(text).to_string(), text);
        }
        for bad in [
            "",
            "2019-3-H1",
            "2019-03-h1",
            "2019-03-H3",
            "2019-13-H1",
            "2019-00-H1",
            "1999-12-H2",
            "2101-01-H1",
            "2019-03",
            "2019-03-H1 ",
            "+019-03-H1",
            "2019-03-H0",
        ] {
            assert_eq!(HalfMonth::parse(bad), Err(ReportingError::BadHalfMonth(bad.into())), "{bad}");
        }
    }

    #[test]
    fn half_months_cover_the_1st_to_15th_and_the_16th_to_the_end() {
        assert_eq!(hm("2019-03-H1").range(), DateRange { from: date("2019-03-01"), to: date("2019-03-15") });
        assert_eq!(hm("2019-03-H2").range(), DateRange { from: date("2019-03-16"), to: date("2019-03-31") });
        assert_eq!(hm("2019-02-H2").last_day(), date("2019-02-28"));
        assert_eq!(hm("2020-02-H2").last_day(), date("2020-02-29"));
        assert_eq!(hm("2019-04-H2").last_day(), date("2019-04-30"));
        assert_eq!(HalfMonth::containing(date("2019-03-15")), Some(hm("2019-03-H1")));
        assert_eq!(HalfMonth::containing(date("2019-03-16")), Some(hm("2019-03-H2")));
        assert_eq!(HalfMonth::containing(date("1999-12-31")), None);
    }

    #[test]
    fn next_and_prev_walk_across_months_and_years() {
        assert_eq!(hm("2019-03-H1").next(), hm("2019-03-H2"));
        assert_eq!(hm("2019-03-H2").next(), hm("2019-04-H1"));
        assert_eq!(hm("2019-12-H2").next(), hm("2020-01-H1"));
        assert_eq!(hm("2020-01-H1").prev(), hm("2019-12-H2"));
        assert_eq!(hm("2019-04-H1").prev(), hm("2019-03-H2"));
        assert_eq!(hm("2019-04-H2").prev(), hm("2019-04-H1"));
        assert!(hm("2019-03-H2") < hm("2019-04-H1"));
    }

    #[test]
    fn chinese_labels_name_the_upper_and_lower_half() {
        assert_eq!(hm("2019-03-H1").label_zh(), "2019年3月上半月");
        assert_eq!(hm("2019-12-H2").label_zh(), "2019年12月下半月");
    }

    #[test]
    fn the_first_half_is_due_on_the_30th_or_the_months_last_day() {
        let c = Calendar::GZ_2019;
        assert_eq!(c.deadline(hm("2019-03-H1")).unwrap().date, date("2019-03-30"));
        assert_eq!(c.deadline(hm("2019-04-H1")).unwrap().date, date("2019-04-30"));
        assert_eq!(c.deadline(hm("2020-02-H1")).unwrap().date, date("2020-02-29"));
        assert_eq!(c.deadline(hm("2021-02-H1")).unwrap().date, date("2021-02-28"));
    }

    #[test]
    fn the_second_half_is_due_on_the_15th_of_the_next_month() {
        let c = Calendar::GZ_2019;
        assert_eq!(c.deadline(hm("2019-03-H2")).unwrap().date, date("2019-04-15"));
        assert_eq!(c.deadline(hm("2019-12-H2")).unwrap().date, date("2020-01-15"));
        assert_eq!(c.deadline(hm("2020-01-H2")).unwrap().date, date("2020-02-15"));
    }

    #[test]
    fn nothing_before_the_campaign_is_expected() {
        let c = Calendar::GZ_2019;
        assert!(!c.expects(hm("2019-02-H2")));
        assert!(c.expects(hm("2019-03-H1")));
        assert_eq!(
            c.deadline(hm("2019-02-H2")),
            Err(ReportingError::OutsideCampaign { period: hm("2019-02-H2"), policy: "gz-2019", first: hm("2019-03-H1") })
        );
        assert_eq!(Calendar::by_policy("gz-2019"), Some(Calendar::GZ_2019));
        assert_eq!(Calendar::by_policy("gz-2030"), None);
    }

    #[test]
    fn a_years_calendar_lists_its_deadlines_in_date_order() {
        let c = Calendar::GZ_2019;
        let y2019 = c.year(2019);
        let first = y2019.first().unwrap();
        assert_eq!((first.date, first.covers), (date("2019-03-30"), hm("2019-03-H1")));
        // March 30, then the 15th and the 30th of April to December.
        assert_eq!(y2019.len(), 1 + 9 * 2);
        let y2020 = c.year(2020);
        assert_eq!(y2020.len(), 24);
        assert_eq!((y2020[0].date, y2020[0].covers), (date("2020-01-15"), hm("2019-12-H2")));
        assert_eq!((y2020[3].date, y2020[3].covers), (date("2020-02-29"), hm("2020-02-H1")));
        assert!(y2020.windows(2).all(|w| w[0].date < w[1].date));
        assert!(c.year(2018).is_empty());
        assert!(c.year(1999).is_empty());
    }

    #[test]
    fn a_deadline_ends_at_midnight_china_time() {
        let d = Calendar::GZ_2019.deadline(hm("2019-03-H1")).unwrap();
        assert_eq!(d.ends_at(), cst("2019-03-31T00:00:00"));
        assert_eq!(d.ends_at().to_rfc3339(), "2019-03-30T16:00:00+00:00");
    }

    #[test]
    fn on_time_is_before_the_deadline_ends_and_late_counts_china_days() {
        let d = Calendar::GZ_2019.deadline(hm("2019-03-H1")).unwrap();
        assert_eq!(Timeliness::of(d, cst("2019-03-30T23:59:59")), Timeliness::OnTime);
        assert_eq!(Timeliness::of(d, cst("2019-03-10T09:00:00")), Timeliness::OnTime);
        assert_eq!(Timeliness::of(d, cst("2019-03-31T00:00:00")), Timeliness::Late { days: 1 });
        assert_eq!(Timeliness::of(d, cst("2019-03-31T23:59:59")), Timeliness::Late { days: 1 });
        assert_eq!(Timeliness::of(d, cst("2019-04-02T08:00:00")), Timeliness::Late { days: 3 });
    }

    #[test]
    fn a_submission_opens_on_the_half_months_first_day() {
        let c = Calendar::GZ_2019;
        let p = hm("2019-03-H2");
        assert_eq!(
            c.check_submission(p, cst("2019-03-15T23:59:59")),
            Err(ReportingError::NotOpen { period: p, opens: date("2019-03-16") })
        );
        assert_eq!(c.check_submission(p, cst("2019-03-16T00:00:00")).unwrap().date, date("2019-04-15"));
        assert!(matches!(c.check_submission(hm("2019-01-H1"), cst("2019-05-01T00:00:00")), Err(ReportingError::OutsideCampaign { .. })));
    }

    #[test]
    fn status_follows_the_first_submission_and_the_clock() {
        let d = Calendar::GZ_2019.deadline(hm("2019-03-H1")).unwrap();
        let before = cst("2019-03-20T10:00:00");
        let after = cst("2019-04-03T10:00:00");
        assert_eq!(Status::of(d, None, before), Status::NotDue);
        assert_eq!(Status::of(d, None, after), Status::Missing);
        assert_eq!(Status::of(d, None, d.ends_at()), Status::Missing);
        assert_eq!(Status::of(d, Some(before), after), Status::OnTime);
        assert_eq!(Status::of(d, Some(cst("2019-04-01T09:00:00")), after), Status::Late { days: 2 });
        let names: Vec<_> = [Status::NotDue, Status::OnTime, Status::Late { days: 2 }, Status::Missing].map(Status::as_str).into();
        assert_eq!(names, ["not_due", "on_time", "late", "missing"]);
        assert_eq!(Status::Late { days: 2 }.label_zh(), "迟报2天");
        assert_eq!(Status::Missing.label_zh(), "未报");
    }

    #[test]
    fn counties_report_to_their_prefecture_unless_named_direct() {
        let direct = ["520382", "520526"];
        assert_eq!(county_reports_to("520102", "520100", &direct), ReportsTo::Prefecture("520100".into()));
        assert_eq!(county_reports_to("520382", "520300", &direct), ReportsTo::Province);
        assert_eq!(county_reports_to("520526", "520500", &direct), ReportsTo::Province);
        assert_eq!(county_reports_to("520382", "520300", &[]), ReportsTo::Prefecture("520300".into()));
    }

    #[test]
    fn lines_round_trip_their_text_and_refuse_others() {
        for line in [Line::Prefecture, Line::Province] {
            assert_eq!(Line::parse(line.as_str()), Some(line));
        }
        for bad in ["", "Province", "county", "prefecture "] {
            assert_eq!(Line::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn errors_carry_stable_codes() {
        assert_eq!(ReportingError::BadHalfMonth("x".into()).code(), Code::InvalidValue);
        let p = hm("2019-01-H1");
        assert_eq!(ReportingError::OutsideCampaign { period: p, policy: "gz-2019", first: hm("2019-03-H1") }.code(), Code::OutsideCampaign);
        assert_eq!(ReportingError::NotOpen { period: p, opens: date("2019-01-01") }.code(), Code::NotOpen);
    }
}

//! The one clock of the business calendar. Handlers read "today" here and pass it on;
//! `domain` and `service` take it as a parameter.

use chrono::NaiveDate;

/// Today in China Standard Time (UTC+8): the programme's business calendar.
pub fn today_cst() -> NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive()
}

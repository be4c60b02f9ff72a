//! The one clock of the business calendar. Handlers read "today" here and pass it on;
//! `domain` and `service` take it as a parameter.

use chrono::NaiveDate;

/// Today in China Standard Time (UTC+8): the programme's business calendar.
pub fn today_cst() -> NaiveDate {
    (now() + chrono::Duration::hours(8)).date_naive()
}

/// The current instant, as exports stamp the moment they were made (UTC; shown in China
/// Standard Time).
pub fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

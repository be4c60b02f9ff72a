//! The one clock of the business calendar. Handlers read "today" and "now" here and pass
//! them on; `domain` and `service` take them as parameters.
//!
//! [`Clock`] is the application's clock for the reporting cycle (when a half-monthly
//! submission was made, where a unit stands against its deadline): the system clock, which
//! a test or the demo may pin to an instant of the campaign (`Clock::set`) to submit "on
//! 28 March 2019". Nothing in production sets it.

use std::sync::{Arc, Mutex};

use chrono::{NaiveDate, NaiveDateTime};

/// Today in China Standard Time (UTC+8): the programme's business calendar.
pub fn today_cst() -> NaiveDate {
    (now() + chrono::Duration::hours(8)).date_naive()
}

/// The current instant, as exports stamp the moment they were made (UTC; shown in China
/// Standard Time).
pub fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

/// The reporting cycle's clock: the system's, unless pinned.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    pinned: Arc<Mutex<Option<NaiveDateTime>>>,
}

impl Clock {
    /// Now in UTC (naive), to the microsecond (as stored on both backends).
    pub fn now(&self) -> NaiveDateTime {
        let pinned = self.pinned.lock().map(|p| *p).unwrap_or(None);
        pinned.unwrap_or_else(crate::service::now)
    }

    /// Pins the clock to `at` (UTC), or back to the system clock with `None`.
    pub fn set(&self, at: Option<NaiveDateTime>) {
        if let Ok(mut p) = self.pinned.lock() {
            *p = at;
        }
    }
}

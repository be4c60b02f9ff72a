//! Login back-off: after a number of free failures, each further failure of the same
//! key (a username, a client address) locks it for twice as long as the one before, up
//! to a ceiling; a quiet hour forgets the key. Pure: the caller passes the time (Unix
//! milliseconds, so a 1 s lock lasts a whole second) and keeps the records.

/// How a kind of key backs off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Failures in a row allowed before the first lock.
    pub free_failures: u32,
    /// Length of the first lock, in seconds; each further failure doubles it.
    pub first_lock_secs: i64,
    /// The longest lock, in seconds.
    pub max_lock_secs: i64,
    /// Seconds without a failure after which a key's failures are forgotten.
    pub forget_after_secs: i64,
}

/// Per username: 5 free failures, then 1 s, 2 s, 4 s … up to 15 minutes.
pub const PER_USERNAME: Policy = Policy { free_failures: 5, first_lock_secs: 1, max_lock_secs: 900, forget_after_secs: 3600 };

/// Per client address: 20 free failures (a school's shared NAT), then the same doubling.
pub const PER_ADDRESS: Policy = Policy { free_failures: 20, first_lock_secs: 1, max_lock_secs: 900, forget_after_secs: 3600 };

/// The failures of one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Record {
    pub failures: u32,
    /// Unix milliseconds.
    pub last_failure: i64,
    /// Unix millisecond until which attempts are refused (exclusive).
    pub locked_until: i64,
}

impl Policy {
    /// Whole seconds (rounded up) the caller must wait before the next attempt (`None`:
    /// it may try now).
    pub fn retry_after(&self, record: &Record, now: i64) -> Option<i64> {
        (!self.forgotten(record, now) && record.locked_until > now).then(|| (record.locked_until - now + 999) / 1000)
    }

    /// The record after one more failure at `now`.
    pub fn fail(&self, record: &Record, now: i64) -> Record {
        let failures = if self.forgotten(record, now) { 1 } else { record.failures.saturating_add(1) };
        let locked_until = match failures.checked_sub(self.free_failures + 1) {
            None => 0,
            Some(extra) => now + self.lock_secs(extra) * 1000,
        };
        Record { failures, last_failure: now, locked_until }
    }

    /// Whether a record no longer counts (and may be dropped).
    pub fn forgotten(&self, record: &Record, now: i64) -> bool {
        now - record.last_failure >= self.forget_after_secs * 1000 && record.locked_until <= now
    }

    /// The lock after `extra` failures beyond the free ones (0: the first lock).
    fn lock_secs(&self, extra: u32) -> i64 {
        let doubled = 1_i64.checked_shl(extra.min(62)).unwrap_or(i64::MAX);
        self.first_lock_secs.saturating_mul(doubled).min(self.max_lock_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Policy = Policy { free_failures: 3, first_lock_secs: 2, max_lock_secs: 60, forget_after_secs: 600 };
    const S: i64 = 1000;

    fn fail_n(n: u32, now: i64) -> Record {
        (0..n).fold(Record::default(), |r, _| P.fail(&r, now))
    }

    #[test]
    fn free_failures_do_not_lock() {
        let r = fail_n(3, 1000 * S);
        assert_eq!(r.failures, 3);
        assert_eq!(P.retry_after(&r, 1000 * S), None);
    }

    #[test]
    fn each_failure_past_the_free_ones_doubles_the_lock_up_to_the_ceiling() {
        let locks: Vec<i64> = (4..=10).map(|n| P.retry_after(&fail_n(n, 1000 * S), 1000 * S).unwrap()).collect();
        assert_eq!(locks, vec![2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(P.lock_secs(u32::MAX), 60, "no overflow");
    }

    #[test]
    fn a_lock_lasts_its_whole_length_and_the_wait_is_rounded_up() {
        let r = fail_n(4, 1000 * S);
        assert_eq!(P.retry_after(&r, 1000 * S + 1), Some(2));
        assert_eq!(P.retry_after(&r, 1001 * S), Some(1));
        assert_eq!(P.retry_after(&r, 1002 * S - 1), Some(1));
        assert_eq!(P.retry_after(&r, 1002 * S), None);
        let r = P.fail(&r, 1002 * S);
        assert_eq!(P.retry_after(&r, 1002 * S), Some(4));
    }

    #[test]
    fn a_quiet_period_forgets_the_failures() {
        let r = fail_n(4, 1000 * S);
        assert!(!P.forgotten(&r, 1600 * S - 1));
        assert!(P.forgotten(&r, 1600 * S));
        let again = P.fail(&r, 1600 * S);
        assert_eq!((again.failures, P.retry_after(&again, 1600 * S)), (1, None));
    }

    #[test]
    fn a_lock_longer_than_the_quiet_period_is_not_forgotten_early() {
        let p = Policy { forget_after_secs: 10, ..P };
        let r = (0..10).fold(Record::default(), |r, _| p.fail(&r, 0));
        assert_eq!(p.retry_after(&r, 30 * S), Some(30));
        assert!(!p.forgotten(&r, 30 * S));
    }

    #[test]
    fn the_shipped_policies_lock_after_their_free_failures() {
        for p in [PER_USERNAME, PER_ADDRESS] {
            let r = (0..p.free_failures).fold(Record::default(), |r, _| p.fail(&r, 0));
            assert_eq!(p.retry_after(&r, 0), None);
            assert_eq!(p.retry_after(&p.fail(&r, 0), 0), Some(1));
        }
    }
}

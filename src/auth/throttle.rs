//! Failed-login records per username and per client address, in memory, applying the
//! back-off of [`crate::domain::throttle`]. Bounded: at most [`MAX_KEYS`] keys of each
//! kind; when full, forgotten keys are dropped first, then the quietest.
//!
//! In memory on purpose: a lock must cost nothing to check, and a restart forgetting
//! the failures only gives an attacker what waiting would. Several server processes
//! behind one address each keep their own records (the limit multiplies by their number).

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;

use crate::domain::throttle::{PER_ADDRESS, PER_USERNAME, Policy, Record};

/// Keys kept per kind: about 4 MB of memory at most.
pub const MAX_KEYS: usize = 50_000;

struct Table<K> {
    policy: Policy,
    records: Mutex<HashMap<K, Record>>,
}

impl<K: Eq + Hash + Clone> Table<K> {
    fn new(policy: Policy) -> Self {
        Self { policy, records: Mutex::new(HashMap::new()) }
    }

    fn retry_after(&self, key: &K, now: i64) -> Option<i64> {
        let records = self.records.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        records.get(key).and_then(|r| self.policy.retry_after(r, now))
    }

    fn fail(&self, key: &K, now: i64) {
        let mut records = self.records.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if records.len() >= MAX_KEYS && !records.contains_key(key) {
            records.retain(|_, r| !self.policy.forgotten(r, now));
            if records.len() >= MAX_KEYS
                && let Some(quietest) = records.iter().min_by_key(|(_, r)| r.last_failure).map(|(k, _)| k.clone())
            {
                records.remove(&quietest);
            }
        }
        let next = self.policy.fail(records.get(key).unwrap_or(&Record::default()), now);
        records.insert(key.clone(), next);
    }

    fn clear(&self, key: &K) {
        self.records.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(key);
    }
}

/// The login throttle of one server process.
pub struct LoginThrottle {
    usernames: Table<String>,
    addresses: Table<IpAddr>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self { usernames: Table::new(PER_USERNAME), addresses: Table::new(PER_ADDRESS) }
    }
}

/// Usernames are compared as typed, but `Admin` and `admin` share one record.
fn username_key(username: &str) -> String {
    username.to_lowercase()
}

impl LoginThrottle {
    /// Seconds to wait before `username` may try again from `address` (`None`: now);
    /// `now` in Unix milliseconds, as everywhere here.
    pub fn retry_after(&self, username: &str, address: Option<IpAddr>, now: i64) -> Option<i64> {
        let by_name = self.usernames.retry_after(&username_key(username), now);
        let by_address = address.and_then(|a| self.addresses.retry_after(&a, now));
        by_name.max(by_address)
    }

    /// Records a failed login (a wrong password, or an unknown username: the same).
    pub fn failed(&self, username: &str, address: Option<IpAddr>, now: i64) {
        self.usernames.fail(&username_key(username), now);
        if let Some(a) = address {
            self.addresses.fail(&a, now);
        }
    }

    /// A successful login clears the username's failures (not the address's: one good
    /// account must not reset the count of an address guessing others).
    pub fn succeeded(&self, username: &str) {
        self.usernames.clear(&username_key(username));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADDR: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));

    #[test]
    fn a_username_locks_after_its_free_failures_whatever_the_address() {
        let t = LoginThrottle::default();
        for _ in 0..PER_USERNAME.free_failures {
            assert_eq!(t.retry_after("Admin", None, 0), None);
            t.failed("Admin", None, 0);
        }
        assert_eq!(t.retry_after("admin", None, 0), None, "still free: the lock starts with the next failure");
        t.failed("admin", None, 0);
        assert_eq!(t.retry_after("ADMIN", ADDR, 0), Some(1));
        assert_eq!(t.retry_after("other", ADDR, 0), None);
    }

    #[test]
    fn an_address_locks_after_its_free_failures_over_many_usernames() {
        let t = LoginThrottle::default();
        for i in 0..=PER_ADDRESS.free_failures {
            t.failed(&format!("user{i}"), ADDR, 0);
        }
        assert_eq!(t.retry_after("fresh-user", ADDR, 0), Some(1));
        assert_eq!(t.retry_after("fresh-user", None, 0), None);
    }

    #[test]
    fn success_clears_the_username_but_not_the_address() {
        let t = LoginThrottle::default();
        for i in 0..=PER_ADDRESS.free_failures {
            t.failed(if i % 2 == 0 { "a" } else { "b" }, ADDR, 0);
        }
        t.succeeded("a");
        assert_eq!(t.usernames.retry_after(&"a".into(), 0), None);
        assert!(t.usernames.retry_after(&"b".into(), 0).is_some());
        assert!(t.retry_after("a", ADDR, 0).is_some(), "the address stays locked");
    }

    #[test]
    fn the_table_stays_bounded_dropping_the_quietest_key() {
        let t = Table::<u32>::new(PER_USERNAME);
        let n = u32::try_from(MAX_KEYS).unwrap();
        for k in 0..n + 10 {
            t.fail(&k, i64::from(k)); // none is forgotten: at most 50 s apart
        }
        let records = t.records.lock().unwrap();
        assert_eq!(records.len(), MAX_KEYS);
        assert!(records.contains_key(&(n + 9)), "the newest key is kept");
        assert_eq!((0..1000).filter(|k| !records.contains_key(k)).count(), 10, "ten of the quietest keys were dropped");
    }

    #[test]
    fn a_full_table_drops_forgotten_keys_first() {
        let t = Table::<u32>::new(PER_USERNAME);
        for k in 0..u32::try_from(MAX_KEYS).unwrap() {
            t.fail(&k, 0);
        }
        t.fail(&u32::MAX, PER_USERNAME.forget_after_secs * 1000);
        assert_eq!(t.records.lock().unwrap().len(), 1);
    }
}

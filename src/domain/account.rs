//! Account rules: how long a password must be and how long a minted integration token
//! may live. Written once here for the HTTP API and the command line.

use std::ops::RangeInclusive;

/// Fewest characters (Unicode scalar values) of a password.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The password rule as clients and operators are told it.
pub const PASSWORD_TOO_SHORT: &str = "passwords have at least 12 characters";

/// Whether `password` is long enough (characters, not bytes).
pub fn password_long_enough(password: &str) -> bool {
    password.chars().count() >= MIN_PASSWORD_CHARS
}

/// Lifetime of a minted integration token when none is given, in days.
pub const DEFAULT_TOKEN_DAYS: i64 = 365;
/// Allowed lifetimes of a minted integration token, in days (five years at most).
pub const TOKEN_DAYS: RangeInclusive<i64> = 1..=1825;
/// The lifetime rule as clients are told it (the CLI prefixes the flag's dashes).
pub const TOKEN_DAYS_OUT_OF_RANGE: &str = "days must be between 1 and 1825";

/// Whether `days` is an allowed token lifetime.
pub fn token_days_allowed(days: i64) -> bool {
    TOKEN_DAYS.contains(&days)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_has_at_least_twelve_characters() {
        assert!(!password_long_enough(""));
        assert!(!password_long_enough("elevenchars"));
        assert!(password_long_enough("twelve chars"));
        assert!(password_long_enough("a much longer passphrase"));
    }

    #[test]
    fn password_length_counts_characters_not_bytes() {
        // 11 CJK characters are 33 bytes but still too short; 12 are enough.
        assert!(!password_long_enough("黔南州都匀市学校食堂账"));
        assert!(password_long_enough("黔南州都匀市学校食堂账本"));
    }

    #[test]
    fn the_messages_state_the_limits() {
        assert!(PASSWORD_TOO_SHORT.contains(&MIN_PASSWORD_CHARS.to_string()));
        let (lo, hi) = (TOKEN_DAYS.start(), TOKEN_DAYS.end());
        assert_eq!(TOKEN_DAYS_OUT_OF_RANGE, format!("days must be between {lo} and {hi}"));
    }

    #[test]
    fn token_lifetimes_are_one_day_to_five_years() {
        assert!(!token_days_allowed(i64::MIN));
        assert!(!token_days_allowed(-1));
        assert!(!token_days_allowed(0));
        assert!(token_days_allowed(1));
        assert!(token_days_allowed(DEFAULT_TOKEN_DAYS));
        assert!(token_days_allowed(1825));
        assert!(!token_days_allowed(1826));
        assert!(!token_days_allowed(i64::MAX));
    }
}

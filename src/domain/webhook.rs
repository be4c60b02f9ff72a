//! Webhook rules: the event types, what a callback URL may be, the signature scheme and
//! the retry schedule. Pure: times are parameters, no I/O.

use chrono::TimeDelta;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::DomainError;

/// A purchase was recorded against the supplier.
pub const PURCHASE_RECORDED: &str = "purchase.recorded";
/// A purchase recorded against the supplier was voided (payload: the reversal entry).
pub const PURCHASE_VOIDED: &str = "purchase.voided";

/// A purchase against the supplier is confirmed by both parties (the canteen confirmed
/// the supplier's delivery, or the supplier acknowledged the canteen's entry).
pub const PURCHASE_CONFIRMED: &str = "purchase.confirmed";
/// The supplier disputed a purchase the canteen recorded against it.
pub const PURCHASE_DISPUTED: &str = "purchase.disputed";
/// A payment was recorded against a purchase from the supplier.
pub const PURCHASE_PAID: &str = "purchase.paid";
/// The canteen disputed a delivery the supplier pushed.
pub const DELIVERY_DISPUTED: &str = "delivery.disputed";

/// Event types a subscription may select. A new event type is emitted with one call to
/// `service::webhooks::emit`; list it here too so subscriptions can select it by name
/// (subscriptions without a selection receive every type anyway).
pub const EVENT_TYPES: &[&str] =
    &[PURCHASE_RECORDED, PURCHASE_VOIDED, PURCHASE_CONFIRMED, PURCHASE_DISPUTED, PURCHASE_PAID, DELIVERY_DISPUTED];

/// Longest callback URL accepted.
pub const MAX_URL_LEN: usize = 2_000;

/// Checks a callback URL: `http://` or `https://`, a host, at most 2,000 characters,
/// printable ASCII without spaces (a receiver's URL is percent-encoded already).
pub fn check_url(url: &str) -> Result<(), DomainError> {
    if url.len() > MAX_URL_LEN {
        return Err(DomainError::BadUrl(format!("at most {MAX_URL_LEN} characters")));
    }
    if !url.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(DomainError::BadUrl("only printable ASCII without spaces (percent-encode the rest)".into()));
    }
    let lower = url.to_ascii_lowercase();
    let Some(rest) = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://")) else {
        return Err(DomainError::BadUrl("must start with http:// or https://".into()));
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    let host = match host.strip_prefix('[') {
        // An IPv6 literal: `[::1]:8080`.
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.split(':').next().unwrap_or_default(),
    };
    if host.is_empty() {
        return Err(DomainError::BadUrl("needs a host".into()));
    }
    Ok(())
}

/// Checks an event selection: known types, no repeats, not empty (omit it for all).
pub fn check_events(events: &[String]) -> Result<(), DomainError> {
    if events.is_empty() {
        return Err(DomainError::BadEvents("select at least one event type, or omit `events` for all".into()));
    }
    for (i, e) in events.iter().enumerate() {
        if !EVENT_TYPES.contains(&e.as_str()) {
            return Err(DomainError::BadEvents(format!("unknown event type {e:?}; known: {}", EVENT_TYPES.join(", "))));
        }
        if events[..i].contains(e) {
            return Err(DomainError::BadEvents(format!("{e:?} is listed twice")));
        }
    }
    Ok(())
}

/// Whether a subscription's selection (`None`: every type) takes this event type.
pub fn selects(selection: Option<&[String]>, event_type: &str) -> bool {
    selection.is_none_or(|s| s.iter().any(|e| e == event_type))
}

/// The `Webhook-Signature` header value: `sha256=` and the lowercase hex HMAC-SHA256,
/// keyed with the subscription secret (its UTF-8 bytes, exactly as shown at creation),
/// over `"<timestamp>.<body>"`, where timestamp is the `Webhook-Timestamp` header (Unix
/// seconds) and body the exact bytes sent.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        // HMAC accepts keys of any length: this branch cannot be taken.
        return String::new();
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Attempts after which a delivery is given up (marked `failed`).
pub const MAX_ATTEMPTS: i32 = 15;
/// Delay after the first failed attempt; it doubles after each further one …
pub const BASE_DELAY_SECS: i64 = 10;
/// … up to this.
pub const MAX_DELAY_SECS: i64 = 3_600;

/// When to retry after the `attempts`-th failed attempt (1-based): 10 s × 2^(attempts−1),
/// at most an hour; `None` once `MAX_ATTEMPTS` attempts have failed.
pub fn retry_delay(attempts: i32) -> Option<TimeDelta> {
    if attempts >= MAX_ATTEMPTS {
        return None;
    }
    let doublings = u32::try_from(attempts.saturating_sub(1)).unwrap_or(0).min(30);
    Some(TimeDelta::seconds(BASE_DELAY_SECS.saturating_mul(1 << doublings).min(MAX_DELAY_SECS)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_and_https_urls_with_a_host_are_callbacks() {
        for ok in ["http://127.0.0.1:8080/hook", "https://erp.example.cn/webhooks?x=1", "HTTPS://a.b", "http://[::1]:9/x"] {
            assert_eq!(check_url(ok), Ok(()), "{ok}");
        }
        let long = format!("https://a.example/{}", "x".repeat(MAX_URL_LEN));
        for bad in ["ftp://a.b/", "a.b/hook", "http://", "https:///path", "http://:80/", "http://a b/", "javascript:alert(1)", &long] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn event_selections_name_known_types_once() {
        assert!(check_events(&["purchase.recorded".into()]).is_ok());
        assert!(check_events(&[]).is_err());
        assert!(check_events(&["purchase.nope".into()]).is_err());
        assert!(check_events(&["purchase.voided".into(), "purchase.voided".into()]).is_err());
        assert!(selects(None, "anything.new"));
        assert!(!selects(Some(&["purchase.voided".into()]), "purchase.recorded"));
    }

    #[test]
    fn the_signature_is_hmac_sha256_over_timestamp_dot_body() {
        // RFC 4231 test case 2 (key "Jefe") over the message "what do ya want for nothing?".
        let sig = signature("Jefe", 0, b"what do ya want for nothing?");
        let mut mac = Hmac::<Sha256>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"0.what do ya want for nothing?");
        assert_eq!(sig, format!("sha256={}", hex::encode(mac.finalize().into_bytes())));
        assert_eq!(signature("Jefe", 1_700_000_000, b"{}"), signature("Jefe", 1_700_000_000, b"{}"), "deterministic for the same inputs");
        assert_ne!(signature("Jefe", 1, b"{}"), signature("Jefe", 2, b"{}"));
    }

    #[test]
    fn retries_back_off_exponentially_up_to_an_hour_then_give_up() {
        let secs = |n| retry_delay(n).map(|d| d.num_seconds());
        assert_eq!((secs(1), secs(2), secs(3), secs(9)), (Some(10), Some(20), Some(40), Some(2_560)));
        assert_eq!(secs(10), Some(3_600));
        assert_eq!(secs(MAX_ATTEMPTS - 1), Some(3_600));
        assert_eq!(secs(MAX_ATTEMPTS), None);
    }
}

//! Webhook rules: the event types, what a callback URL may be, the signature scheme and
//! the retry schedule. Pure: times are parameters, no I/O.

use std::net::IpAddr;

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

/// Where a callback URL points: its host (an IPv6 literal without brackets) and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
}

/// Checks a callback URL: `http://` or `https://`, a host, at most 2,000 characters,
/// printable ASCII without spaces (a receiver's URL is percent-encoded already). Unless
/// `allow_private`, the host must not be `localhost` or a non-public IP literal (the
/// dispatcher checks again what a host name resolves to, before every attempt).
pub fn check_url(url: &str, allow_private: bool) -> Result<Target, DomainError> {
    if url.len() > MAX_URL_LEN {
        return Err(DomainError::BadUrl(format!("at most {MAX_URL_LEN} characters")));
    }
    if !url.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(DomainError::BadUrl("only printable ASCII without spaces (percent-encode the rest)".into()));
    }
    let lower = url.to_ascii_lowercase();
    let (rest, default_port) = match lower.strip_prefix("https://") {
        Some(rest) => (rest, 443),
        None => (lower.strip_prefix("http://").ok_or_else(|| DomainError::BadUrl("must start with http:// or https://".into()))?, 80),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let (host, port) = match host_port.strip_prefix('[') {
        // An IPv6 literal: `[::1]:8080`.
        Some(v6) => {
            let (host, after) = v6.split_once(']').unwrap_or((v6, ""));
            (host, after.strip_prefix(':'))
        }
        None => match host_port.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        },
    };
    if host.is_empty() {
        return Err(DomainError::BadUrl("needs a host".into()));
    }
    // The grammar the OpenAPI pattern states: a host of RFC 3986 reg-name characters, or
    // an IPv6 literal of hex digits, `:` and `.` closed by `]` with only a port after it.
    let bracketed = host_port.starts_with('[');
    let host_ok = if bracketed {
        host.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
            && host_port.split_once(']').is_some_and(|(_, after)| after.is_empty() || after.starts_with(':'))
    } else {
        host.bytes().all(|b| b.is_ascii_alphanumeric() || b"._~%!$&'()*+,;=-".contains(&b))
    };
    if !host_ok {
        return Err(DomainError::BadUrl(format!("bad host {host:?}")));
    }
    let port = match port {
        None | Some("") => default_port,
        // Digits without a leading zero (but `0`), at most 65535.
        Some(p) if p.bytes().all(|b| b.is_ascii_digit()) && (p == "0" || !p.starts_with('0')) => {
            p.parse().map_err(|_| DomainError::BadUrl(format!("bad port {p:?}")))?
        }
        Some(p) => return Err(DomainError::BadUrl(format!("bad port {p:?}"))),
    };
    if !allow_private {
        if host == "localhost" || host.ends_with(".localhost") {
            return Err(DomainError::NonPublicAddress(format!("{host} is this machine")));
        }
        if let Ok(ip) = host.parse::<IpAddr>() {
            check_public(ip)?;
        }
    }
    Ok(Target { host: host.to_owned(), port })
}

/// Refuses an address a callback must not reach: loopback, private, link-local (cloud
/// metadata services), shared (carrier NAT), multicast, broadcast, unspecified,
/// documentation and reserved ranges, and IPv6 forms of them.
pub fn check_public(ip: IpAddr) -> Result<(), DomainError> {
    if is_public(ip) { Ok(()) } else { Err(DomainError::NonPublicAddress(format!("{ip} is not a public address"))) }
}

fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_unspecified()
                || v4.is_multicast()
                || a == 0
                || a >= 240
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                || (a == 198 && (b == 18 || b == 19)))
        }
        IpAddr::V6(v6) => {
            // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) addresses.
            if let Some(v4) = v6.to_ipv4() {
                return is_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            let embedded = |hi: u16, lo: u16| std::net::Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
            // NAT64 (64:ff9b::/96) and SIIT (::ffff:0:a.b.c.d) reach the IPv4 address in
            // their last 32 bits; 6to4 (2002::/16) in the 32 bits after the prefix.
            if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] || s[..6] == [0, 0, 0, 0, 0xffff, 0] {
                return is_public(IpAddr::V4(embedded(s[6], s[7])));
            }
            if s[0] == 0x2002 {
                return is_public(IpAddr::V4(embedded(s[1], s[2])));
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || v6.is_unique_local()
                || v6.is_unicast_link_local()
                || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
                || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1) // local-use NAT64
                || (s[0] == 0x2001 && s[1] == 0) // Teredo
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || s[..4] == [0x100, 0, 0, 0]) // discard
        }
    }
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
        let target = |host: &str, port| Ok(Target { host: host.into(), port });
        assert_eq!(check_url("http://127.0.0.1:8080/hook", true), target("127.0.0.1", 8080));
        assert_eq!(check_url("https://erp.example.cn/webhooks?x=1", false), target("erp.example.cn", 443));
        assert_eq!(check_url("HTTPS://a.b", false), target("a.b", 443));
        assert_eq!(check_url("http://u:p@a.b/x", false), target("a.b", 80));
        assert_eq!(check_url("http://[::1]:9/x", true), target("::1", 9));
        assert_eq!(check_url("http://[2400:3200::1]/x", false), target("2400:3200::1", 80));
        let long = format!("https://a.example/{}", "x".repeat(MAX_URL_LEN));
        for bad in [
            "ftp://a.b/",
            "a.b/hook",
            "http://",
            "https:///path",
            "http://:80/",
            "http://a b/",
            "javascript:alert(1)",
            "http://a.b:x/",
            &long,
        ] {
            assert!(matches!(check_url(bad, true), Err(DomainError::BadUrl(_))), "{bad}");
        }
    }

    #[test]
    fn callbacks_to_this_machine_or_private_networks_are_refused_unless_allowed() {
        for bad in [
            "http://127.0.0.1:8080/hook",
            "http://localhost/x",
            "http://api.localhost/x",
            "http://10.1.2.3/",
            "http://172.16.0.1/",
            "http://192.168.1.1/",
            "http://169.254.169.254/latest/meta-data/",
            "http://100.64.0.1/",
            "http://0.0.0.0/",
            "http://255.255.255.255/",
            "http://224.0.0.1/",
            "http://[::1]/",
            "http://[::]/",
            "http://[fc00::1]/",
            "http://[fe80::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[64:ff9b::a9fe:a9fe]/",
            "http://[::127.0.0.1]/",
            "http://[::ffff:0:127.0.0.1]/",
            "http://[64:ff9b:1::1]/",
            "http://[2002:7f00:1::]/",
            "http://[fec0::1]/",
            "http://[2001::1]/",
            "http://[100::1]/",
        ] {
            assert!(matches!(check_url(bad, false), Err(DomainError::NonPublicAddress(_))), "{bad}");
            assert!(check_url(bad, true).is_ok(), "{bad} when allowed");
        }
        for ok in [
            "http://8.8.8.8/",
            "https://[2400:3200::1]/",
            "http://[::ffff:8.8.8.8]/",
            "http://[2002:808:808::]/",
            "https://erp.example.cn/",
        ] {
            assert!(check_url(ok, false).is_ok(), "{ok}");
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

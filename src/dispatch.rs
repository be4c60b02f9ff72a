//! The webhook dispatcher: delivers the outbox (`service::webhooks`) outside requests, on
//! its own thread and pooled connections, so a receiver that is slow or down never
//! blocks a ledger write. At-least-once: a delivery is settled only by a 2xx; anything
//! else is retried with exponential backoff. May depend on `db`, `service` and `domain`.
//!
//! `dispatch_due` is one tick with the clock passed in, so tests drive it directly.

use std::net::ToSocketAddrs as _;
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta};

use crate::db::Db;
use crate::domain::webhook;
use crate::service::webhooks::{self, Attempt, Claimed};

/// Longest wait for a receiver (connect, send, response head).
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// Deliveries claimed per tick.
const BATCH: i64 = 50;
/// A claimed delivery is retried after this if its attempt is never recorded (the
/// dispatcher died mid-send); well above `TIMEOUT` × `BATCH`.
const LEASE: TimeDelta = TimeDelta::minutes(10);
/// Pause between ticks that found nothing to do.
const IDLE: Duration = Duration::from_secs(1);

/// The HTTP client: short timeout, receiver statuses returned (not errors), no redirects
/// followed (a 3xx is a failed attempt, and a redirect cannot aim the signed request
/// elsewhere).
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(TIMEOUT))
        .max_redirects(0)
        .user_agent("canteen-ledger-webhooks/1")
        .build()
        .new_agent()
}

/// One tick: claims the deliveries due at `now`, POSTs each, records each outcome
/// (backoff computed from `now`). Returns how many deliveries were attempted.
pub fn dispatch_due(db: &Db, now: NaiveDateTime, allow_private: bool) -> anyhow::Result<usize> {
    let claimed = webhooks::claim_due(&mut *db.get()?, now, LEASE, BATCH)?;
    if claimed.is_empty() {
        return Ok(0);
    }
    let agent = agent();
    for c in &claimed {
        // No connection is held while waiting for the receiver.
        let attempt = match reachable(&c.url, allow_private) {
            Ok(()) => send(&agent, c, now),
            Err(refused) => Attempt::Failed(refused),
        };
        if let Attempt::Failed(e) = &attempt {
            log::info!("webhook {} to {}: {e}", c.event_id, c.url);
        }
        webhooks::record_attempt(&mut *db.get()?, c, &attempt, now)?;
    }
    Ok(claimed.len())
}

/// Whether a callback may be attempted: unless `allow_private`, every address its host
/// resolves to now must be public (a name registered while it pointed elsewhere is
/// checked again before every attempt). The HTTP client resolves the name once more
/// when it connects, so a DNS server answering differently within that moment is not
/// covered.
fn reachable(url: &str, allow_private: bool) -> Result<(), String> {
    let target = webhook::check_url(url, allow_private).map_err(|e| format!("refused: {e}"))?;
    if allow_private {
        return Ok(());
    }
    let addrs = (target.host.as_str(), target.port).to_socket_addrs().map_err(|e| format!("cannot resolve {}: {e}", target.host))?;
    for addr in addrs {
        webhook::check_public(addr.ip()).map_err(|e| format!("refused: {} resolves to a non-public address ({e})", target.host))?;
    }
    Ok(())
}

/// POSTs one event with its id, timestamp and signature headers.
fn send(agent: &ureq::Agent, c: &Claimed, now: NaiveDateTime) -> Attempt {
    let timestamp = now.and_utc().timestamp();
    let result = agent
        .post(&c.url)
        .header("Content-Type", "application/json")
        .header("Webhook-Id", &c.event_id)
        .header("Webhook-Timestamp", timestamp.to_string())
        .header("Webhook-Signature", webhook::signature(&c.secret, timestamp, c.body.as_bytes()))
        .send(c.body.as_bytes());
    match result {
        Ok(res) => Attempt::Answered(res.status().as_u16()),
        Err(e) => Attempt::Failed(e.to_string()),
    }
}

/// Starts the dispatcher thread: ticks with the wall clock, pausing when idle or after
/// an error (logged). Runs for the life of the process.
pub fn spawn(db: Db, allow_private: bool) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new().name("webhooks".into()).spawn(move || {
        loop {
            match dispatch_due(&db, crate::service::now(), allow_private) {
                Ok(n) if n > 0 => {}
                Ok(_) => std::thread::sleep(IDLE),
                Err(e) => {
                    log::warn!("webhook dispatch failed: {e:#}");
                    std::thread::sleep(IDLE);
                }
            }
        }
    })
}

//! The webhook dispatcher: delivers the outbox (`service::webhooks`) outside requests, on
//! its own thread and pooled connections, so a receiver that is slow or down never
//! blocks a ledger write. At-least-once: a delivery is settled only by a 2xx; anything
//! else is retried with exponential backoff. May depend on `db`, `service` and `domain`.
//!
//! `dispatch_due` is one tick with the clock passed in, so tests drive it directly.

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
pub fn dispatch_due(db: &Db, now: NaiveDateTime) -> anyhow::Result<usize> {
    let claimed = webhooks::claim_due(&mut *db.get()?, now, LEASE, BATCH)?;
    if claimed.is_empty() {
        return Ok(0);
    }
    let agent = agent();
    for c in &claimed {
        // No connection is held while waiting for the receiver.
        let attempt = send(&agent, c, now);
        if let Attempt::Failed(e) = &attempt {
            log::info!("webhook {} to {}: {e}", c.event_id, c.url);
        }
        webhooks::record_attempt(&mut *db.get()?, c, &attempt, now)?;
    }
    Ok(claimed.len())
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
pub fn spawn(db: Db) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new().name("webhooks".into()).spawn(move || {
        loop {
            match dispatch_due(&db, crate::service::now()) {
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

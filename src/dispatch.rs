//! The webhook dispatcher: delivers the outbox (`service::webhooks`) outside requests, on
//! its own thread and pooled connections, so a receiver that is slow or down never
//! blocks a ledger write. At-least-once: a delivery is settled only by a 2xx; anything
//! else is retried with exponential backoff. May depend on `db`, `service` and `domain`.
//!
//! `dispatch_due` is one tick with the clock passed in, so tests drive it directly.

use std::thread::JoinHandle;
use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta};
use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

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
/// elsewhere), no proxy from the environment (a proxy would resolve the name itself).
/// Unless `allow_private`, the resolver refuses a host with any non-public address: the
/// addresses checked are the ones connected to, so a DNS answer that changes between a
/// check and the connection cannot slip through.
fn agent(allow_private: bool) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(TIMEOUT))
        .max_redirects(0)
        .proxy(None)
        .user_agent("canteen-ledger-webhooks/1")
        .build();
    if allow_private { config.new_agent() } else { ureq::Agent::with_parts(config, DefaultConnector::new(), PublicOnly::default()) }
}

/// A resolver that answers only with public addresses (see [`webhook::check_public`]).
#[derive(Debug, Default)]
struct PublicOnly(DefaultResolver);

impl Resolver for PublicOnly {
    fn resolve(&self, uri: &Uri, config: &Config, timeout: NextTimeout) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let addrs = self.0.resolve(uri, config, timeout)?;
        if let Some(bad) = addrs.iter().find(|a| webhook::check_public(a.ip()).is_err()) {
            let host = uri.host().unwrap_or_default();
            return Err(ureq::Error::Io(std::io::Error::other(format!("refused: {host} resolves to a non-public address ({})", bad.ip()))));
        }
        Ok(addrs)
    }
}

/// One tick: claims the deliveries due at `now`, POSTs each, records each outcome
/// (backoff computed from `now`). Returns how many deliveries were attempted.
pub fn dispatch_due(db: &Db, now: NaiveDateTime, allow_private: bool) -> anyhow::Result<usize> {
    let claimed = webhooks::claim_due(&mut *db.get()?, now, LEASE, BATCH)?;
    #[expect(clippy::cast_precision_loss, reason = "a gauge of a queue length far below 2^52")]
    metrics::gauge!(crate::telemetry::WEBHOOK_PENDING).set(webhooks::pending(&mut *db.get()?)? as f64);
    if claimed.is_empty() {
        return Ok(0);
    }
    let agent = agent(allow_private);
    for c in &claimed {
        // No connection is held while waiting for the receiver.
        // A URL stored before the rules changed is checked again (literal addresses).
        let attempt = match webhook::check_url(&c.url, allow_private) {
            Ok(_) => send(&agent, c, now),
            Err(e) => Attempt::Failed(format!("refused: {e}")),
        };
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

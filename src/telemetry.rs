//! What the process tells its operators: Prometheus metrics (one recorder for the process,
//! rendered by `GET /metrics`) and log lines, as text or as JSON objects. The names of the
//! metrics live here, so every place that counts something uses the same one.

use std::io::Write as _;
use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::config::LogFormat;

/// Requests answered, by method, route template and status.
pub const HTTP_REQUESTS: &str = "canteen_ledger_http_requests_total";
/// Time to answer a request, by method and route template.
pub const HTTP_DURATION: &str = "canteen_ledger_http_request_duration_seconds";
/// Time a request waited for a database connection.
pub const POOL_WAIT: &str = "canteen_ledger_db_pool_wait_seconds";
/// Requests that waited longer than the pool timeout (answered 503).
pub const POOL_TIMEOUTS: &str = "canteen_ledger_db_pool_timeouts_total";
/// Write transactions, by outcome (`commit`, `rollback`).
pub const WRITE_TX: &str = "canteen_ledger_db_write_transactions_total";
/// Time a write transaction held the database, by outcome.
pub const WRITE_TX_DURATION: &str = "canteen_ledger_db_write_transaction_duration_seconds";
/// Webhook deliveries waiting to be sent (as of the dispatcher's last poll).
pub const WEBHOOK_PENDING: &str = "canteen_ledger_webhook_deliveries_pending";
/// Webhook delivery attempts that failed (to be retried or given up).
pub const WEBHOOK_FAILURES: &str = "canteen_ledger_webhook_delivery_failures_total";
/// Webhook deliveries given up after their last attempt.
pub const WEBHOOK_ABANDONED: &str = "canteen_ledger_webhook_deliveries_failed_total";
/// Logins refused (wrong password, unknown user, throttled).
pub const LOGIN_FAILURES: &str = "canteen_ledger_login_failures_total";
/// Database connections open, and idle.
pub const DB_CONNECTIONS: &str = "canteen_ledger_db_connections";
pub const DB_IDLE: &str = "canteen_ledger_db_idle_connections";

/// Histogram buckets for durations, in seconds (1 ms to 10 s).
const SECONDS: [f64; 14] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 7.5, 10.0];

/// The process's recorder, installed on first use (`None` if another recorder was
/// installed first: then nothing is recorded and `/metrics` says so).
pub fn recorder() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new().set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &SECONDS).ok()?;
            let handle = builder.install_recorder().ok()?;
            describe();
            Some(handle)
        })
        .as_ref()
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(HTTP_REQUESTS, "Requests answered, by method, route template and status");
    describe_histogram!(HTTP_DURATION, Unit::Seconds, "Time to answer a request, by method and route template");
    describe_histogram!(POOL_WAIT, Unit::Seconds, "Time spent waiting for a database connection");
    describe_counter!(POOL_TIMEOUTS, "Waits for a database connection that timed out");
    describe_counter!(WRITE_TX, "Write transactions, by outcome");
    describe_histogram!(WRITE_TX_DURATION, Unit::Seconds, "Duration of write transactions, by outcome");
    describe_gauge!(WEBHOOK_PENDING, "Webhook deliveries waiting to be sent");
    describe_counter!(WEBHOOK_FAILURES, "Webhook delivery attempts that failed");
    describe_counter!(WEBHOOK_ABANDONED, "Webhook deliveries given up after their last attempt");
    describe_counter!(LOGIN_FAILURES, "Logins refused");
    describe_gauge!(DB_CONNECTIONS, "Database connections open");
    describe_gauge!(DB_IDLE, "Database connections idle");
}

/// Records one duration in a histogram with labels.
pub fn observe(name: &'static str, labels: &[(&'static str, String)], took: Duration) {
    let labels: Vec<metrics::Label> = labels.iter().map(|(k, v)| metrics::Label::new(*k, v.clone())).collect();
    metrics::histogram!(name, labels).record(took.as_secs_f64());
}

/// Counts one event with labels.
pub fn count(name: &'static str, labels: &[(&'static str, String)]) {
    let labels: Vec<metrics::Label> = labels.iter().map(|(k, v)| metrics::Label::new(*k, v.clone())).collect();
    metrics::counter!(name, labels).increment(1);
}

/// Starts the process's logger: env_logger's filter (`RUST_LOG`, default `info`), and
/// lines as text or as one JSON object each (`ts`, `level`, `target`, `msg`, then the
/// record's key-values: an access line's `request_id`, `method`, `route`, …).
pub fn init_logging(format: LogFormat) {
    let mut builder = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"));
    if format == LogFormat::Json {
        builder.format(|buf, record| writeln!(buf, "{}", json_line(record)));
    }
    builder.init();
}

/// One log record as a JSON object.
pub fn json_line(record: &log::Record<'_>) -> serde_json::Value {
    struct Fields<'a>(&'a mut serde_json::Map<String, serde_json::Value>);
    impl<'kvs> log::kv::VisitSource<'kvs> for Fields<'_> {
        fn visit_pair(&mut self, key: log::kv::Key<'kvs>, value: log::kv::Value<'kvs>) -> Result<(), log::kv::Error> {
            let v = value.to_u64().map(serde_json::Value::from).unwrap_or_else(|| value.to_string().into());
            self.0.insert(key.as_str().to_owned(), v);
            Ok(())
        }
    }
    let mut map = serde_json::Map::new();
    map.insert("ts".into(), chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true).into());
    map.insert("level".into(), record.level().as_str().into());
    map.insert("target".into(), record.target().into());
    map.insert("msg".into(), record.args().to_string().into());
    let _ = record.key_values().visit(&mut Fields(&mut map));
    serde_json::Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_line_carries_the_message_and_the_fields() {
        let kvs: [(&str, log::kv::Value<'_>); 3] =
            [("request_id", "r-1".into()), ("status", 201u64.into()), ("route", "/api/v1/purchases".into())];
        let line = json_line(
            &log::Record::builder()
                .args(format_args!("POST /api/v1/purchases 201"))
                .level(log::Level::Info)
                .target("access")
                .key_values(&kvs)
                .build(),
        );
        assert_eq!(line["msg"], "POST /api/v1/purchases 201");
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["request_id"], "r-1");
        assert_eq!(line["status"], 201);
        assert_eq!(line["route"], "/api/v1/purchases");
        assert!(line["ts"].as_str().is_some_and(|t| t.ends_with('Z')));
    }
}

//! The real binary as a separate process on a loopback port, on both backends: what only
//! a whole server shows — its memory under a login flood, and what survives `kill -9`.
//!
//! `LOGIN_FLOOD_BIN=path` runs the flood against another build (to measure a baseline);
//! the figures are printed (`cargo test --test api server -- --nocapture`).

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{TestDb, line};

both_backends!(a_login_flood_keeps_memory_bounded_and_is_throttled, every_acknowledged_purchase_survives_kill_9);

const JWT_SECRET: &str = "server-test-secret-server-test-secret";

/// A running server process.
struct Server {
    child: Child,
    base: String,
    /// What the process printed on stdout so far.
    stdout: Arc<Mutex<Vec<String>>>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Server {
    fn start(bin: &str, database_url: &str) -> Self {
        let port = free_port();
        let mut child = Command::new(bin)
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("BIND", format!("127.0.0.1:{port}"))
            .env("JWT_SECRET", JWT_SECRET)
            .env("RUST_LOG", "warn")
            .env_remove("MALLOC_ARENA_MAX") // as a user starts it: serve sets its own
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("server starts");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let out = child.stdout.take().unwrap();
        let lines = stdout.clone();
        std::thread::spawn(move || BufReader::new(out).lines().map_while(Result::ok).for_each(|l| lines.lock().unwrap().push(l)));
        let server = Self { child, base: format!("http://127.0.0.1:{port}"), stdout };
        let deadline = Instant::now() + Duration::from_secs(60);
        while get(&agent(), &format!("{}/healthz", server.base), None).0 != 200 {
            assert!(Instant::now() < deadline, "the server did not answer /healthz");
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    /// The administrator password printed on first start.
    fn admin_password(&self) -> String {
        let lines = self.stdout.lock().unwrap();
        let line = lines.iter().find_map(|l| l.trim().strip_prefix("password: ")).expect("first start prints the admin password");
        line.trim().to_owned()
    }

    /// `(VmRSS, VmHWM)` in MiB.
    fn memory_mib(&self) -> (f64, f64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let field = |name: &str| -> f64 {
            let kib: f64 = status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .expect("status field");
            kib / 1024.0
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    fn kill9(&mut self) {
        self.child.kill().unwrap(); // SIGKILL
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(60))).build().new_agent()
}

/// `(status, body)`; status 0 when the request did not get an answer.
fn answer(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> (u16, Value) {
    match r {
        Ok(mut res) => {
            let status = res.status().as_u16();
            let text = res.body_mut().read_to_string().unwrap_or_default();
            (status, serde_json::from_str(&text).unwrap_or(Value::Null))
        }
        Err(_) => (0, Value::Null),
    }
}

fn get(agent: &ureq::Agent, url: &str, token: Option<&str>) -> (u16, Value) {
    let mut req = agent.get(url);
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    answer(req.call())
}

fn post(agent: &ureq::Agent, url: &str, token: Option<&str>, key: Option<&str>, body: &Value) -> (u16, Value) {
    let mut req = agent.post(url).header("Content-Type", "application/json");
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    answer(req.send(body.to_string()))
}

fn login(agent: &ureq::Agent, base: &str, username: &str, password: &str) -> (u16, Value) {
    post(agent, &format!("{base}/api/v1/auth/token"), None, None, &json!({"username": username, "password": password}))
}

fn server_bin() -> String {
    std::env::var("LOGIN_FLOOD_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_canteen-ledger").to_owned())
}

/// 64 concurrent wrong-password logins, three rounds (unknown usernames and the admin's),
/// while an authenticated request is timed: the server's peak RSS stays under 100 MiB,
/// it returns to its level before the flood, the flood is answered 401 and then 429,
/// and the other request is not starved of database connections.
async fn a_login_flood_keeps_memory_bounded_and_is_throttled(db: TestDb) {
    let server = Server::start(&server_bin(), db.url());
    let agent = agent();
    let password = server.admin_password();
    // Warm: two logins at once take both hashing slots' memory, kept from then on.
    let warm: Vec<_> = (0..2)
        .map(|_| {
            std::thread::spawn({
                let (agent, base, password) = (agent.clone(), server.base.clone(), password.clone());
                move || login(&agent, &base, "admin", &password)
            })
        })
        .collect();
    let token = warm
        .into_iter()
        .map(|h| h.join().unwrap())
        .map(|(s, b)| {
            assert_eq!(s, 200, "{b}");
            b["access_token"].as_str().unwrap().to_owned()
        })
        .next_back()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let (idle, _) = server.memory_mib();

    let statuses = Arc::new(Mutex::new(Vec::new()));
    let flood: Vec<_> = (0..64)
        .map(|i| {
            let (agent, base, statuses) = (agent.clone(), server.base.clone(), statuses.clone());
            std::thread::spawn(move || {
                for round in 0..3 {
                    let name = if i % 2 == 0 { "admin".to_owned() } else { format!("nobody-{i}-{round}") };
                    let (s, _) = login(&agent, &base, &name, "wrong password");
                    statuses.lock().unwrap().push(s);
                }
            })
        })
        .collect();
    // Meanwhile, a signed-in request that needs the database answers promptly.
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    let (me, _) = get(&agent, &format!("{}/api/v1/me", server.base), Some(&token));
    let me_latency = started.elapsed();
    let (_, during_peak) = server.memory_mib();
    for h in flood {
        h.join().unwrap();
    }
    let (_, peak) = server.memory_mib();
    std::thread::sleep(Duration::from_secs(2));
    let (after, _) = server.memory_mib();
    let statuses = statuses.lock().unwrap();
    let count = |code: u16| statuses.iter().filter(|&&s| s == code).count();
    println!(
        "login flood ({}): idle {idle:.1} MiB, peak {peak:.1} MiB (at the probe {during_peak:.1}), after {after:.1} MiB; \
         {} × 401, {} × 429, {} other; GET /me during the flood: {me} in {me_latency:?}",
        db.url().split(':').next().unwrap_or(""),
        count(401),
        count(429),
        statuses.len() - count(401) - count(429),
    );

    assert_eq!(me, 200, "a signed-in request during the flood");
    assert!(me_latency < Duration::from_secs(5), "GET /me waited {me_latency:?} behind the flood");
    assert_eq!(count(401) + count(429), statuses.len(), "only 401 and 429: {statuses:?}");
    assert!(count(429) > 0, "the flood is throttled");
    assert!(peak < 100.0, "peak RSS {peak:.1} MiB under a login flood");
    assert!(after <= idle + 10.0, "RSS {after:.1} MiB after the flood, {idle:.1} MiB before");
}

/// A purchase sent: its key, the number its body was made from, and its id once acknowledged.
type Sent = (String, usize, Option<String>);

/// Eight writers record purchases as fast as they can; the server is killed with
/// SIGKILL mid-load and restarted on the same database. Every purchase that was
/// acknowledged (201) is there exactly once; retrying every key that was sent, with the
/// same body, creates each missing one once and replays the rest; the aggregates agree
/// with the ledger and the school's chain verifies.
async fn every_acknowledged_purchase_survives_kill_9(db: TestDb) {
    let bin = env!("CARGO_BIN_EXE_canteen-ledger");
    let mut server = Server::start(bin, db.url());
    let agent = agent();
    let (s, b) = login(&agent, &server.base, "admin", &server.admin_password());
    assert_eq!(s, 200, "{b}");
    let admin = b["access_token"].as_str().unwrap().to_owned();
    let api = |path: &str| format!("{}/api/v1{path}", server.base);
    let (s, school) = post(&agent, &api("/schools"), Some(&admin), None, &json!({"county_code": "520102", "name": "一中"}));
    assert_eq!(s, 201, "{school}");
    let school = school["id"].as_str().unwrap().to_owned();
    let supplier_body = json!({"name": "合作社", "kind": "cooperative", "origin_county_code": "520102", "registration_ref": "R-1"});
    let (s, supplier) = post(&agent, &api("/suppliers"), Some(&admin), None, &supplier_body);
    assert_eq!(s, 201, "{supplier}");
    let supplier = supplier["id"].as_str().unwrap().to_owned();
    let (s, minted) =
        post(&agent, &api("/tokens"), Some(&admin), None, &json!({"role": format!("canteen:{school}"), "label": "crash test"}));
    assert_eq!(s, 201, "{minted}");
    let canteen = minted["access_token"].as_str().unwrap().to_owned();
    let body = |n: usize| {
        json!({"school_id": school, "supplier_id": supplier, "purchase_date": "2019-03-05",
               "lines": [line("vegetables", &format!("{}", n % 7 + 1), "kg", "2.50")]})
    };

    let sent: Arc<Mutex<Vec<Sent>>> = Arc::new(Mutex::new(Vec::new()));
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let (agent, url, canteen, sent) = (agent.clone(), api("/purchases"), canteen.clone(), sent.clone());
            let bodies: Vec<Value> = (0..200).map(|i| body(w * 1000 + i)).collect();
            std::thread::spawn(move || {
                for (i, b) in bodies.iter().enumerate() {
                    let key = format!("crash-{w}-{i}");
                    sent.lock().unwrap().push((key.clone(), w * 1000 + i, None));
                    let (status, answer) = post(&agent, &url, Some(&canteen), Some(&key), b);
                    match status {
                        201 => {
                            let id = answer["id"].as_str().unwrap().to_owned();
                            sent.lock().unwrap().iter_mut().rev().find(|(k, ..)| *k == key).unwrap().2 = Some(id);
                        }
                        0 => return, // the server is gone
                        other => panic!("writer {w}: {other} {answer}"),
                    }
                }
            })
        })
        .collect();
    // Kill once some purchases are in, while the writers are still going.
    let deadline = Instant::now() + Duration::from_secs(60);
    while sent.lock().unwrap().iter().filter(|s| s.2.is_some()).count() < 40 {
        assert!(Instant::now() < deadline, "no purchases acknowledged");
        std::thread::sleep(Duration::from_millis(20));
    }
    server.kill9();
    for w in writers {
        w.join().unwrap();
    }
    let sent = sent.lock().unwrap().clone();
    let acked: Vec<&String> = sent.iter().filter_map(|s| s.2.as_ref()).collect();
    assert!(acked.len() < sent.len() || sent.len() == 1600, "the kill came mid-load");

    let server = Server::start(bin, db.url());
    let api = |path: &str| format!("{}/api/v1{path}", server.base);
    assert!(server.stdout.lock().unwrap().iter().all(|l| !l.contains("password:")), "no second admin on restart");
    let listed = |token: &str| {
        let mut ids = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = match &cursor {
                Some(c) => format!("/purchases?school_id={school}&limit=500&cursor={c}"),
                None => format!("/purchases?school_id={school}&limit=500"),
            };
            let (s, b) = get(&agent, &api(&page), Some(token));
            assert_eq!(s, 200, "{b}");
            ids.extend(b["items"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap().to_owned()));
            match b["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => return ids,
            }
        }
    };
    let before_retry = listed(&canteen);
    for id in &acked {
        assert_eq!(before_retry.iter().filter(|i| i == id).count(), 1, "acknowledged purchase {id} once after the crash");
    }
    // Retry every key that was sent: each is created now or replayed, never twice.
    for (key, n, id) in &sent {
        let (status, answer) = post(&agent, &api("/purchases"), Some(&canteen), Some(key), &body(*n));
        assert!(status == 201 || status == 200, "retry of {key}: {status} {answer}");
        if let Some(id) = id {
            assert_eq!(answer["id"].as_str(), Some(id.as_str()), "a replay answers the acknowledged purchase");
        }
    }
    let after_retry = listed(&canteen);
    let distinct: std::collections::HashSet<&String> = after_retry.iter().collect();
    assert_eq!(after_retry.len(), sent.len(), "one purchase per key sent");
    assert_eq!(distinct.len(), sent.len());

    // Tokens issued before the crash still work: same secret, and sessions are not lost.
    let (s, check) = get(&agent, &api("/admin/ledger/check"), Some(&admin));
    assert_eq!(s, 200, "{check}");
    assert_eq!(check["differences"], json!([]), "aggregates agree with the ledger");
    let (s, verify) = get(&agent, &api(&format!("/schools/{school}/ledger/verify")), Some(&canteen));
    assert_eq!(s, 200, "{verify}");
    assert_eq!(verify["valid"], true, "{verify}");
    assert_eq!(verify["entries"].as_i64(), i64::try_from(sent.len()).ok(), "{verify}");
}

/// A command-line error names the offending field and its code, and prints no
/// backtrace even with `RUST_BACKTRACE=1`.
#[test]
fn a_cli_error_names_the_field_and_prints_no_backtrace() {
    let db = TestDb::sqlite();
    let out = Command::new(env!("CARGO_BIN_EXE_canteen-ledger"))
        .args(["user", "add", "--username", "someone", "--role", "canteen:nope"])
        .env("DATABASE_URL", db.url())
        .env("RUST_BACKTRACE", "1")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("role: canteen:nope: the scope does not exist (unknown_scope)"), "{stderr}");
    assert!(!stderr.contains("backtrace"), "{stderr}");
}

/// A PostgreSQL start without `JWT_SECRET` is refused before anything is written: no
/// migration has run on the database.
#[test]
fn a_postgres_start_without_a_secret_is_refused_before_migrating() {
    let Some(db) = TestDb::empty_postgres() else { return crate::helpers::skip_postgres() };
    let out = Command::new(env!("CARGO_BIN_EXE_canteen-ledger"))
        .arg("serve")
        .env("DATABASE_URL", db.url())
        .env("BIND", format!("127.0.0.1:{}", free_port()))
        .env_remove("JWT_SECRET")
        .env("MALLOC_ARENA_MAX", "2")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("JWT_SECRET must be set"), "{stderr}");
    assert!(!db.has_table("__diesel_schema_migrations"), "nothing was migrated");
}

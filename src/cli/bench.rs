//! The benchmark (`canteen-ledger bench`): builds a province-sized ledger, then measures
//! side by side, in one run, on each backend:
//! 1. the province report grouped by county for the year from the aggregates (p50/p99);
//! 2. the same report from a plain `GROUP BY` over the ledger, and that both are identical;
//! 3. HTTP recording throughput (single-purchase POSTs, concurrent clients) against the
//!    running server versus raw single-row transactional inserts into the same database;
//! 4. the server's peak RSS, the database size and the generation time.
//!
//! The phase functions (`run_one`, `generate_ledger`, `generate_suppliers`,
//! `reporting_cycle`) are longer than the house's 60 lines on purpose: each is one
//! measurement script read top to bottom (set up, warm up, time, record), and splitting
//! it would scatter what is timed from what is not.
//!
//! Generation writes the ledger in bulk (hash chain, qualification and all), then
//! rebuilds the aggregates from it; it bypasses the audit trail and idempotency keys,
//! which only API writes carry.

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::{Days, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use canteen_ledger::auth::{JwtKeys, TokenKind};
use canteen_ledger::db::repo::purchases::{LineRow, PurchaseRow};
use canteen_ledger::db::repo::reference::CountyRow;
use canteen_ledger::db::repo::reports::ScopeFilter;
use canteen_ledger::db::repo::schools::SchoolRow;
use canteen_ledger::db::repo::suppliers::{SupplierRow, TagRow};
use canteen_ledger::db::repo::{bulk, reference, suppliers};
use canteen_ledger::db::{Db, DbConn, write_tx};
use canteen_ledger::domain::access::Caller;
use canteen_ledger::domain::catalog::{Category, EntryKind, SupplierKind, Tag, TagStatus, Unit};
use canteen_ledger::domain::ledger::GENESIS;
use canteen_ledger::domain::money::{Quantity, UnitPrice, line_amount};
use canteen_ledger::domain::period::parse_period;
use canteen_ledger::domain::qualification::{Designation, HeldTag, OriginCounty, Qualification, qualify};
use canteen_ledger::domain::role::Role;
use canteen_ledger::service::qualify::{POLICY, row_for};
use canteen_ledger::service::reports::{self, Grouping, ReportRequest, Source, UnitLevel};
use canteen_ledger::service::{aggregates, record};

/// What to build and measure.
#[derive(Debug, Clone)]
pub struct Options {
    /// Purchase lines to generate over the year.
    pub lines: u64,
    pub schools: usize,
    pub suppliers: usize,
    /// Runs of the aggregate report.
    pub runs: usize,
    /// Runs of the naive report (it is slow at scale).
    pub naive_runs: usize,
    /// Single-purchase POSTs for the throughput test (and as many raw inserts).
    pub posts: usize,
    pub clients: usize,
    /// Lines sent through `POST /purchases/batch` (and bulk-inserted raw) for the ingest ratio.
    pub batch_lines: u64,
    /// `sqlite`, `postgres` or both.
    pub backends: Vec<String>,
    /// PostgreSQL server URL without database, e.g. `postgres://root@127.0.0.1:5432`.
    pub pg_server: String,
    /// The `canteen-ledger` binary to start as the server.
    pub server_bin: PathBuf,
    /// Where SQLite files go.
    pub work_dir: PathBuf,
}

/// What one backend measured.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub backend: String,
    pub lines: u64,
    pub purchases: u64,
    pub schools: usize,
    pub generate_secs: f64,
    pub aggregate_p50_ms: f64,
    pub aggregate_p99_ms: f64,
    pub http_report_p50_ms: f64,
    pub http_report_p99_ms: f64,
    pub naive_p50_ms: f64,
    pub identical: bool,
    pub http_rate: f64,
    pub raw_rate: f64,
    /// Lines per second through `POST /purchases/batch`, and raw multi-row inserts.
    pub batch_rate: f64,
    pub raw_bulk_rate: f64,
    pub server_peak_rss_kb: u64,
    pub db_bytes: u64,
    pub consistency_differences: usize,
    /// The reporting cycle: the county with the most schools, and the prefecture with the
    /// most counties, frozen (`POST /submissions`' use case, in-process).
    pub freeze_county_schools: usize,
    pub freeze_county_p50_ms: f64,
    pub freeze_county_p99_ms: f64,
    pub freeze_prefecture_counties: usize,
    pub freeze_prefecture_p50_ms: f64,
    pub freeze_prefecture_p99_ms: f64,
    /// Drift of the county after `drift_changes` late entries.
    pub drift_changes: usize,
    pub drift_p50_ms: f64,
    pub drift_balanced: bool,
}

impl Outcome {
    pub fn speedup(&self) -> f64 {
        self.naive_p50_ms / self.aggregate_p50_ms.max(1e-9)
    }
    pub fn rate_ratio(&self) -> f64 {
        self.http_rate / self.raw_rate.max(1e-9)
    }
}

const SECRET: &str = "benchmark-secret-benchmark-secret-0123";
const YEAR: i32 = 2019;

fn percentile(sorted_ms: &[f64], p: f64) -> f64 {
    if sorted_ms.is_empty() {
        return 0.0;
    }
    let idx = ((sorted_ms.len() as f64 - 1.0) * p).round() as usize;
    sorted_ms[idx.min(sorted_ms.len() - 1)]
}

fn time_ms<T>(f: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<(f64, T)> {
    let t = Instant::now();
    let v = f()?;
    Ok((t.elapsed().as_secs_f64() * 1000.0, v))
}

fn err(e: canteen_ledger::error::ApiError) -> anyhow::Error {
    anyhow::anyhow!("{e:?}")
}

/// Runs the benchmark on every requested backend.
pub fn run(opts: &Options) -> anyhow::Result<Vec<Outcome>> {
    let mut out = Vec::new();
    for backend in &opts.backends {
        let (url, cleanup) = fresh_database(opts, backend)?;
        let result = run_one(opts, backend, &url);
        cleanup();
        out.push(result?);
    }
    Ok(out)
}

type Cleanup = Box<dyn FnOnce()>;

fn fresh_database(opts: &Options, backend: &str) -> anyhow::Result<(String, Cleanup)> {
    match backend {
        "sqlite" => {
            std::fs::create_dir_all(&opts.work_dir)?;
            let path = opts.work_dir.join(format!("bench-{}.db", std::process::id()));
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
            let p = path.clone();
            let cleanup: Cleanup = Box::new(move || {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
                }
            });
            Ok((format!("sqlite://{}", path.display()), cleanup))
        }
        "postgres" => {
            let name = format!("bench_{}", std::process::id());
            let mut admin = PgConnection::establish(&format!("{}/postgres", opts.pg_server)).context("PostgreSQL unreachable")?;
            diesel::sql_query(format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#)).execute(&mut admin)?;
            diesel::sql_query(format!(r#"CREATE DATABASE "{name}""#)).execute(&mut admin)?;
            let server = opts.pg_server.clone();
            let n = name.clone();
            let cleanup: Cleanup = Box::new(move || {
                if let Ok(mut admin) = PgConnection::establish(&format!("{server}/postgres")) {
                    let _ = diesel::sql_query(format!(r#"DROP DATABASE IF EXISTS "{n}" WITH (FORCE)"#)).execute(&mut admin);
                }
            });
            Ok((format!("{}/{name}", opts.pg_server), cleanup))
        }
        other => anyhow::bail!("unknown backend {other:?}: use sqlite or postgres"),
    }
}

/// One backend's run, phase by phase. Long by design (a stated exception to the ~60-line
/// rule): it reads as the benchmark's script, each phase timing one thing in order.
fn run_one(opts: &Options, backend: &str, url: &str) -> anyhow::Result<Outcome> {
    let mut o = Outcome { backend: backend.into(), schools: opts.schools, ..Outcome::default() };
    let db = canteen_ledger::startup::open(url, (opts.clients as u32 + 2).max(4), Duration::from_secs(30))?;
    eprintln!("[{backend}] generating {} lines for {} schools and {} suppliers…", opts.lines, opts.schools, opts.suppliers);
    let t = Instant::now();
    let mut gen_conn = db.get()?;
    let world = generate(&mut gen_conn, opts, &mut o)?;
    drop(gen_conn);
    o.generate_secs = t.elapsed().as_secs_f64();
    eprintln!("[{backend}] generated in {:.1}s ({} purchases)", o.generate_secs, o.purchases);

    // 1 + 2: the report from aggregates and from the ledger, in-process on one connection.
    let user = Caller::new("bench", Role::Province);
    let range = parse_period(&YEAR.to_string()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let req =
        ReportRequest { scope: ScopeFilter::Province, range, grouping: Grouping { unit: Some(UnitLevel::County), ..Grouping::default() } };
    let mut conn = db.get()?;
    // One untimed run of each first, so neither is timed with a cold cache.
    reports::shares_from(&mut conn, &user, &req, Source::Aggregates).map_err(err)?;
    reports::shares_from(&mut conn, &user, &req, Source::Ledger).map_err(err)?;
    let mut agg_ms = Vec::new();
    let mut fast = None;
    for _ in 0..opts.runs {
        let (ms, r) = time_ms(|| reports::shares_from(&mut conn, &user, &req, Source::Aggregates).map_err(err))?;
        agg_ms.push(ms);
        fast = Some(r);
    }
    let mut naive_ms = Vec::new();
    let mut slow = None;
    for _ in 0..opts.naive_runs.max(1) {
        let (ms, r) = time_ms(|| reports::shares_from(&mut conn, &user, &req, Source::Ledger).map_err(err))?;
        naive_ms.push(ms);
        slow = Some(r);
    }
    o.identical = fast.is_some() && fast == slow;
    agg_ms.sort_by(f64::total_cmp);
    naive_ms.sort_by(f64::total_cmp);
    o.aggregate_p50_ms = percentile(&agg_ms, 0.5);
    o.aggregate_p99_ms = percentile(&agg_ms, 0.99);
    o.naive_p50_ms = percentile(&naive_ms, 0.5);
    eprintln!(
        "[{backend}] report: aggregates p50 {:.2} ms, naive p50 {:.1} ms, identical {}",
        o.aggregate_p50_ms, o.naive_p50_ms, o.identical
    );
    drop(conn);

    // 3 + 4: the real server as a child process.
    let server = Server::start(&opts.server_bin, url)?;
    let keys = JwtKeys::hs256(SECRET.as_bytes())?;
    let now = chrono::Utc::now().timestamp();
    let province = keys.issue("bench", &Role::Province, TokenKind::Session, "bench-p", now, 3600)?;
    let agent = http_agent();
    let report_url = format!("{}/api/v1/reports/shares?scope=province&period={YEAR}&group_by=county", server.base);
    let mut http_ms = Vec::new();
    for run in 0..=opts.runs {
        let t = Instant::now();
        let mut res = agent.get(&report_url).header("Authorization", &format!("Bearer {province}")).call()?;
        // Read the whole body: the time includes it, and the connection goes back to the pool.
        let body = res.body_mut().read_to_string()?;
        anyhow::ensure!(res.status() == 200 && !body.is_empty(), "report answered {}", res.status());
        if run > 0 {
            // Run 0 warms the server up, untimed.
            http_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    http_ms.sort_by(f64::total_cmp);
    o.http_report_p50_ms = percentile(&http_ms, 0.5);
    o.http_report_p99_ms = percentile(&http_ms, 0.99);
    let peak = |server: &Server| server.peak_rss_kb() as f64 / 1024.0;
    eprintln!("[{backend}] server peak RSS after the HTTP reports: {:.1} MiB", peak(&server));

    o.http_rate = http_throughput(&server.base, &keys, &world, opts)?;
    o.raw_rate = raw_throughput(&db, &world, opts)?;
    eprintln!("[{backend}] recording: HTTP {:.0}/s, raw {:.0}/s; server peak RSS {:.1} MiB", o.http_rate, o.raw_rate, peak(&server));
    o.batch_rate = batch_throughput(&server.base, &keys, &world, opts)?;
    o.raw_bulk_rate = raw_bulk_throughput(&db, opts)?;
    eprintln!(
        "[{backend}] batch ingest: HTTP {:.0} lines/s, raw bulk {:.0} lines/s; server peak RSS {:.1} MiB",
        o.batch_rate,
        o.raw_bulk_rate,
        peak(&server)
    );
    reporting_cycle(&db, &server.base, &keys, &world, opts, &mut o)?;
    o.server_peak_rss_kb = server.peak_rss_kb();
    server.stop();

    let mut conn = db.get()?;
    o.consistency_differences = aggregates::check(&mut conn).map_err(err)?.differences.len();
    o.db_bytes = database_size(&mut conn, url)?;
    Ok(o)
}

/// What the throughput phase needs from the generated world.
struct World {
    schools: Vec<String>,
    suppliers: Vec<String>,
}

fn http_agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(60))).build().new_agent()
}

/// Generates the province: schools across the 88 counties, suppliers with tags, and
/// `lines` purchase lines over the year with a valid hash chain per school.
fn generate(conn: &mut DbConn, opts: &Options, o: &mut Outcome) -> anyhow::Result<World> {
    let mut rng = StdRng::seed_from_u64(17_900);
    let counties = reference::list_counties(conn, None)?;
    let now = canteen_ledger::service::now();
    let schools = generate_schools(conn, opts, &counties, now, &mut rng)?;
    let contexts = generate_suppliers(conn, opts, &counties, now, &mut rng)?;
    generate_ledger(conn, opts, o, &schools, &contexts, now, &mut rng)?;
    Ok(World { schools: schools.into_iter().map(|s| s.id).collect(), suppliers: contexts.into_iter().map(|c| c.0).collect() })
}

/// What qualifying a generated supplier's purchases needs: its id, tags and origin.
type SupplierContext = (String, Vec<HeldTag>, OriginCounty);

/// `opts.schools` schools spread over the counties.
fn generate_schools(
    conn: &mut DbConn,
    opts: &Options,
    counties: &[CountyRow],
    now: NaiveDateTime,
    rng: &mut StdRng,
) -> anyhow::Result<Vec<SchoolRow>> {
    let schools: Vec<SchoolRow> = (0..opts.schools)
        .map(|i| {
            let county = &counties[i % counties.len()];
            SchoolRow {
                id: canteen_ledger::service::new_id(),
                county_code: county.code.clone(),
                name: format!("{}第{}学校", county.name_zh, i / counties.len() + 1),
                code: None,
                students: Some(rng.random_range(100..3000)),
                address: None,
                created_at: now,
                updated_at: now,
            }
        })
        .collect();
    write_tx(conn, |conn| bulk::insert_schools(conn, &schools))?;
    Ok(schools)
}

/// `opts.suppliers` suppliers (households, cooperatives, processors, others) with their
/// tags, most verified. (Its length is the two rows it writes, field by field.)
fn generate_suppliers(
    conn: &mut DbConn,
    opts: &Options,
    counties: &[CountyRow],
    now: NaiveDateTime,
    rng: &mut StdRng,
) -> anyhow::Result<Vec<SupplierContext>> {
    let designations: HashMap<String, Vec<Designation>> =
        reference::all_designations(conn)?.into_iter().fold(HashMap::new(), |mut m, d| {
            m.entry(d.county_code).or_default().push(Designation { valid_from: d.valid_from, valid_to: d.valid_to });
            m
        });
    // Suppliers: households (poor_household), cooperatives, processors, others.
    let mut contexts: Vec<SupplierContext> = Vec::new();
    write_tx(conn, |conn| -> anyhow::Result<()> {
        for i in 0..opts.suppliers {
            let kind = [SupplierKind::Household, SupplierKind::Cooperative, SupplierKind::Enterprise, SupplierKind::Other][i % 4];
            let out_of_province = rng.random_bool(0.1);
            let origin = if out_of_province { "430102".to_owned() } else { counties[rng.random_range(0..counties.len())].code.clone() };
            let row = SupplierRow {
                id: canteen_ledger::service::new_id(),
                name: format!("supplier {i}"),
                kind,
                origin_county_code: origin.clone(),
                registration_ref: format!("REG-{i:06}"),
                created_by: "bench".into(),
                created_at: now,
                payment_terms_days: canteen_ledger::service::suppliers::DEFAULT_PAYMENT_TERMS_DAYS,
            };
            suppliers::insert(conn, &row)?;
            let tag = match kind {
                SupplierKind::Household => Some(Tag::PoorHousehold),
                SupplierKind::Cooperative => Some(Tag::Cooperative),
                SupplierKind::Enterprise if i % 8 == 2 => Some(Tag::InProvinceProcessor),
                _ => None,
            };
            let mut held = Vec::new();
            if let Some(tag) = tag {
                let status = if rng.random_bool(0.8) { TagStatus::Verified } else { TagStatus::Declared };
                let valid_from = NaiveDate::from_ymd_opt(2018, 1, 1).unwrap_or_default();
                suppliers::insert_tag(
                    conn,
                    &TagRow {
                        id: canteen_ledger::service::new_id(),
                        supplier_id: row.id.clone(),
                        tag,
                        status,
                        valid_from,
                        valid_to: None,
                        evidence: format!("EV-{i:06}"),
                        declared_by: "bench".into(),
                        declared_at: now,
                        reviewed_by: None,
                        reviewed_at: None,
                        review_note: None,
                    },
                )?;
                held.push(HeldTag { tag, status, valid_from, valid_to: None });
            }
            let in_province = !out_of_province;
            let origin_county = OriginCounty { in_province, designations: designations.get(&origin).cloned().unwrap_or_default() };
            contexts.push((row.id, held, origin_county));
        }
        Ok(())
    })?;

    Ok(contexts)
}

/// What the generated lines buy: category, unit and unit price (in 1/10,000 yuan).
const GOODS: [(Category, Unit, i64); 8] = [
    (Category::Vegetables, Unit::Jin, 12_000),
    (Category::Vegetables, Unit::Kg, 26_000),
    (Category::Fruit, Unit::Kg, 98_000),
    (Category::Grain, Unit::Kg, 54_000),
    (Category::MeatPoultry, Unit::Kg, 360_000),
    (Category::Eggs, Unit::Jin, 55_000),
    (Category::EdibleOil, Unit::L, 145_000),
    (Category::SoyProducts, Unit::Liang, 3_000),
];

/// `n` random lines of purchase `id`.
fn random_lines(id: &str, n: u64, rng: &mut StdRng) -> Vec<LineRow> {
    (1..=n as i32)
        .map(|line_no| {
            let (category, unit, price) = GOODS[rng.random_range(0..GOODS.len())];
            let q = Quantity::from_milli(rng.random_range(500..200_000));
            let p = UnitPrice::from_ten_thousandths(price);
            LineRow {
                purchase_id: id.to_owned(),
                line_no,
                category,
                description: "bench".into(),
                quantity_milli: q.milli(),
                unit,
                unit_price_e4: p.ten_thousandths(),
                amount_fen: line_amount(q, p).map(|m| m.fen()).unwrap_or(0),
                mass_mg: unit.milligrams(q),
            }
        })
        .collect()
}

/// `opts.lines` purchase lines over the year, each school's entries on a valid hash chain,
/// bulk-inserted, then the aggregates rebuilt. Long by design (a stated exception to the
/// ~60-line rule): one loop that builds a school's chain entry by entry, as the service
/// would, with the batching of the bulk insert around it.
fn generate_ledger(
    conn: &mut DbConn,
    opts: &Options,
    o: &mut Outcome,
    schools: &[SchoolRow],
    contexts: &[SupplierContext],
    now: NaiveDateTime,
    rng: &mut StdRng,
) -> anyhow::Result<()> {
    let start = NaiveDate::from_ymd_opt(YEAR, 1, 1).unwrap_or_default();
    let lines_per_school = opts.lines / opts.schools.max(1) as u64;
    let mut extra = opts.lines % opts.schools.max(1) as u64;
    let mut heads = Vec::with_capacity(schools.len());
    let (mut p_rows, mut l_rows, mut q_rows) = (Vec::new(), Vec::new(), Vec::new());
    for school in schools {
        let mut remaining = lines_per_school + u64::from(extra > 0);
        extra = extra.saturating_sub(1);
        let mut days: Vec<u64> = Vec::new();
        let mut sizes = Vec::new();
        while remaining > 0 {
            let n = rng.random_range(1..=5).min(remaining);
            sizes.push(n);
            days.push(rng.random_range(0..365));
            remaining -= n;
        }
        days.sort_unstable();
        let (mut seq, mut prev) = (0_i64, GENESIS.to_owned());
        for (day, n) in days.into_iter().zip(sizes) {
            let date = start.checked_add_days(Days::new(day)).unwrap_or(start);
            let (supplier_id, held, origin) = &contexts[rng.random_range(0..contexts.len())];
            let id = canteen_ledger::service::new_id();
            let lines = random_lines(&id, n, rng);
            seq += 1;
            let mut row = PurchaseRow {
                id: id.clone(),
                school_id: school.id.clone(),
                county_code: school.county_code.clone(),
                supplier_id: supplier_id.clone(),
                purchase_date: date,
                invoice_no: None,
                kind: EntryKind::Entry,
                voids_id: None,
                void_reason: None,
                total_fen: lines.iter().map(|l| l.amount_fen).sum(),
                seq,
                prev_hash: prev.clone(),
                hash: String::new(),
                recorded_by: "bench".into(),
                recorded_at: now,
                idempotency_key: None,
                chain_version: 0,
                corrects_id: None,
            };
            record::seal(&mut row, &lines, &(seq - 1, prev.clone()));
            prev = row.hash.clone();
            let q: Qualification = qualify(&POLICY, date, held, origin);
            q_rows.push(row_for(&id, q));
            p_rows.push(row);
            l_rows.extend(lines);
            o.purchases += 1;
            o.lines += n;
        }
        heads.push((school.id.clone(), seq, prev));
        if l_rows.len() >= 60_000 {
            write_tx(conn, |conn| canteen_ledger::db::repo::purchases::insert_many(conn, &p_rows, &l_rows, &q_rows))?;
            p_rows.clear();
            l_rows.clear();
            q_rows.clear();
        }
    }
    write_tx(conn, |conn| -> QueryResult<()> {
        canteen_ledger::db::repo::purchases::insert_many(conn, &p_rows, &l_rows, &q_rows)?;
        bulk::set_heads(conn, &heads)
    })?;
    if let DbConn::Pg(c) = conn {
        diesel::sql_query("ANALYZE").execute(c)?;
    }
    aggregates::rebuild(conn).map_err(err)?;
    if let DbConn::Pg(c) = conn {
        diesel::sql_query("ANALYZE").execute(c)?;
    }
    Ok(())
}

/// The server under test, as a child process.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(bin: &Path, url: &str) -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut child = Command::new(bin)
            .arg("serve")
            .env("DATABASE_URL", url)
            .env("BIND", format!("127.0.0.1:{port}"))
            .env("JWT_SECRET", SECRET)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        // Drain stdout (the bootstrap password line) so the child never blocks on it.
        if let Some(out) = child.stdout.take() {
            std::thread::spawn(move || for _ in BufReader::new(out).lines() {});
        }
        let base = format!("http://127.0.0.1:{port}");
        let agent = http_agent();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if agent.get(&format!("{base}/readyz")).call().is_ok_and(|r| r.status() == 200) {
                return Ok(Self { child, base });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        anyhow::bail!("server did not become ready")
    }

    /// Peak resident set size (VmHWM) of the server process, in KiB.
    fn peak_rss_kb(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
            .unwrap_or(0)
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Single-purchase POSTs from `clients` threads, each a canteen of its own school.
fn http_throughput(base: &str, keys: &JwtKeys, world: &World, opts: &Options) -> anyhow::Result<f64> {
    let done = Arc::new(AtomicU64::new(0));
    let per_client = opts.posts / opts.clients.max(1);
    let now = chrono::Utc::now().timestamp();
    let t = Instant::now();
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let mut handles = Vec::new();
        for c in 0..opts.clients {
            let school = world.schools[c % world.schools.len()].clone();
            let supplier = world.suppliers[c % world.suppliers.len()].clone();
            let token = keys.issue("bench", &Role::Canteen(school.clone()), TokenKind::Session, &format!("bench-{c}"), now, 3600)?;
            let url = format!("{base}/api/v1/purchases");
            let done = done.clone();
            handles.push(scope.spawn(move || -> anyhow::Result<()> {
                let agent = http_agent();
                for i in 0..per_client {
                    let body = format!(
                        r#"{{"school_id":"{school}","supplier_id":"{supplier}","purchase_date":"2019-06-{:02}","lines":[{{"category":"vegetables","description":"白菜","quantity":"12.5","unit":"jin","unit_price":"1.20"}},{{"category":"grain","description":"大米","quantity":"20","unit":"kg","unit_price":"5.40"}}]}}"#,
                        1 + i % 28
                    );
                    let res = agent
                        .post(&url)
                        .header("Authorization", &format!("Bearer {token}"))
                        .header("Content-Type", "application/json")
                        .header("Idempotency-Key", &format!("bench-{c}-{i}-{}", uuid::Uuid::new_v4().simple()))
                        .send(body.as_str())?;
                    let mut res = res;
                    let text = res.body_mut().read_to_string()?;
                    anyhow::ensure!(res.status() == 201, "POST answered {}: {text}", res.status());
                    done.fetch_add(1, Ordering::Relaxed);
                }
                Ok(())
            }));
        }
        for h in handles {
            h.join().map_err(|_| anyhow::anyhow!("client thread panicked"))??;
        }
        Ok(())
    })?;
    Ok(done.load(Ordering::Relaxed) as f64 / t.elapsed().as_secs_f64())
}

/// Purchases per batch request and lines per purchase in the ingest measurement.
/// Freezes the busiest county and prefecture (`opts.runs` revisions each), then records
/// 1,000 late entries in one of the county's schools (one `POST /purchases/batch`) and
/// times the drift of the county's latest submission.
fn reporting_cycle(db: &Db, base: &str, keys: &JwtKeys, world: &World, opts: &Options, o: &mut Outcome) -> anyhow::Result<()> {
    use canteen_ledger::domain::reporting::HalfMonth;
    use canteen_ledger::domain::submission::{Narrative, Unit as ReportingUnit};
    use canteen_ledger::service::purchases::IdempotentRequest;
    use canteen_ledger::service::submissions::{self, SubmitRequest};
    let mut conn = db.get()?;
    let period = HalfMonth::parse("2019-07-H1").map_err(|e| anyhow::anyhow!("{e}"))?;
    let at = NaiveDate::from_ymd_opt(YEAR, 7, 20).and_then(|d| d.and_hms_opt(2, 0, 0)).unwrap_or_default();
    let roster = canteen_ledger::db::repo::schools::roster(&mut conn, None, None, None)?;
    let mut per_county: HashMap<String, usize> = HashMap::new();
    for (_, _, county, _) in &roster {
        *per_county.entry(county.clone()).or_default() += 1;
    }
    let (county, schools) =
        per_county.iter().max_by_key(|(c, n)| (**n, std::cmp::Reverse((*c).clone()))).map(|(c, n)| (c.clone(), *n)).unwrap_or_default();
    let counties = reference::list_counties(&mut conn, None)?;
    let mut per_prefecture: HashMap<String, usize> = HashMap::new();
    for c in &counties {
        *per_prefecture.entry(c.prefecture_code.clone()).or_default() += 1;
    }
    let (prefecture, n_counties) =
        per_prefecture.iter().max_by_key(|(p, n)| (**n, std::cmp::Reverse((*p).clone()))).map(|(p, n)| (p.clone(), *n)).unwrap_or_default();
    let narrative =
        || Narrative { progress: "基准测试".into(), experience: String::new(), difficulties: String::new(), measures: String::new() };
    let freeze = |unit: ReportingUnit, role: Role, conn: &mut DbConn| -> anyhow::Result<(Vec<f64>, String)> {
        let caller = Caller::new("bench", role);
        let mut times = Vec::new();
        let mut last = String::new();
        for run in 0..opts.runs.max(1) {
            let reason = (run > 0).then(|| format!("bench run {run}"));
            let req = SubmitRequest { unit: unit.clone(), period, narrative: narrative(), reason: reason.clone() };
            let idem = IdempotentRequest::new(format!("bench-{unit}-{run}"), &serde_json::json!({"run": run, "unit": unit.to_string()}));
            let (ms, done) = time_ms(|| submissions::submit(conn, &caller, req, &idem, at).map_err(err))?;
            times.push(ms);
            last = done.id;
        }
        times.sort_by(f64::total_cmp);
        Ok((times, last))
    };
    let (county_ms, county_submission) = freeze(ReportingUnit::County(county.clone()), Role::County(county.clone()), &mut conn)?;
    let (pref_ms, _) = freeze(ReportingUnit::Prefecture(prefecture.clone()), Role::Prefecture(prefecture.clone()), &mut conn)?;
    o.freeze_county_schools = schools;
    o.freeze_county_p50_ms = percentile(&county_ms, 0.5);
    o.freeze_county_p99_ms = percentile(&county_ms, 0.99);
    o.freeze_prefecture_counties = n_counties;
    o.freeze_prefecture_p50_ms = percentile(&pref_ms, 0.5);
    o.freeze_prefecture_p99_ms = percentile(&pref_ms, 0.99);
    eprintln!(
        "[{}] freeze: county {county} ({schools} schools) p50 {:.1} ms p99 {:.1} ms; prefecture {prefecture} ({n_counties} counties) p50 {:.1} ms p99 {:.1} ms",
        o.backend, o.freeze_county_p50_ms, o.freeze_county_p99_ms, o.freeze_prefecture_p50_ms, o.freeze_prefecture_p99_ms
    );
    // 1,000 late entries in one school of the county, dated in the frozen half-month.
    let school = roster.iter().find(|(_, _, c, _)| *c == county).map(|(id, ..)| id.clone()).unwrap_or_default();
    let supplier = &world.suppliers[0];
    let token =
        keys.issue("bench", &Role::Canteen(school.clone()), TokenKind::Session, "bench-late", chrono::Utc::now().timestamp(), 3600)?;
    let items: Vec<String> = (0..BATCH)
        .map(|i| {
            format!(
                r#"{{"idempotency_key":"late-{i}-{}","purchase":{{"school_id":"{school}","supplier_id":"{supplier}","purchase_date":"2019-07-{:02}","lines":[{{"category":"vegetables","description":"白菜","quantity":"12.5","unit":"jin","unit_price":"1.20"}}]}}}}"#,
                uuid::Uuid::new_v4().simple(),
                1 + i % 15
            )
        })
        .collect();
    let mut res = http_agent()
        .post(&format!("{base}/api/v1/purchases/batch"))
        .header("Authorization", &format!("Bearer {token}"))
        .header("Content-Type", "application/json")
        .send(format!(r#"{{"items":[{}]}}"#, items.join(",")).as_str())?;
    let text = res.body_mut().with_config().limit(64 << 20).read_to_string()?;
    anyhow::ensure!(res.status() == 200, "late batch answered {}: {}", res.status(), &text[..text.len().min(300)]);
    let caller = Caller::new("bench", Role::County(county.clone()));
    submissions::drift::drift(&mut conn, &caller, &county_submission, at).map_err(err)?;
    let mut drift_ms = Vec::new();
    let mut last = None;
    for _ in 0..opts.runs.max(1) {
        let (ms, d) = time_ms(|| submissions::drift::drift(&mut conn, &caller, &county_submission, at).map_err(err))?;
        drift_ms.push(ms);
        last = Some(d);
    }
    drift_ms.sort_by(f64::total_cmp);
    o.drift_p50_ms = percentile(&drift_ms, 0.5);
    o.drift_changes = last.as_ref().map_or(0, |d| d.changes.len());
    o.drift_balanced = last.as_ref().is_some_and(|d| d.balanced);
    eprintln!("[{}] drift: {} changes, p50 {:.1} ms, balanced {}", o.backend, o.drift_changes, o.drift_p50_ms, o.drift_balanced);
    Ok(())
}

const BATCH: usize = 1000;
const LINES_PER_PURCHASE: usize = 3;

/// `POST /purchases/batch` requests of 1,000 purchases of 3 lines each (each request a
/// canteen of another school), from one client; lines recorded per second.
fn batch_throughput(base: &str, keys: &JwtKeys, world: &World, opts: &Options) -> anyhow::Result<f64> {
    let purchases = usize::try_from(opts.batch_lines).unwrap_or(usize::MAX) / LINES_PER_PURCHASE;
    let now = chrono::Utc::now().timestamp();
    let agent = http_agent();
    let url = format!("{base}/api/v1/purchases/batch");
    let (t, mut lines) = (Instant::now(), 0_usize);
    for (b, start) in (0..purchases).step_by(BATCH).enumerate() {
        let n = (purchases - start).min(BATCH);
        let school = &world.schools[b % world.schools.len()];
        let supplier = &world.suppliers[b % world.suppliers.len()];
        let token = keys.issue("bench", &Role::Canteen(school.clone()), TokenKind::Session, &format!("bench-batch-{b}"), now, 3600)?;
        let items: Vec<String> = (0..n)
            .map(|i| {
                format!(
                    r#"{{"idempotency_key":"batch-{b}-{i}-{}","purchase":{{"school_id":"{school}","supplier_id":"{supplier}","purchase_date":"2019-07-{:02}","invoice_no":"INV-{b}-{i}","lines":[{{"category":"vegetables","description":"白菜","quantity":"12.5","unit":"jin","unit_price":"1.20"}},{{"category":"grain","description":"大米","quantity":"20","unit":"kg","unit_price":"5.40"}},{{"category":"eggs","description":"鸡蛋","quantity":"6","unit":"kg","unit_price":"11.00"}}]}}}}"#,
                    uuid::Uuid::new_v4().simple(),
                    1 + i % 28
                )
            })
            .collect();
        let body = format!(r#"{{"items":[{}]}}"#, items.join(","));
        let mut res = agent
            .post(&url)
            .header("Authorization", &format!("Bearer {token}"))
            .header("Content-Type", "application/json")
            .send(body.as_str())?;
        let text = res.body_mut().with_config().limit(64 << 20).read_to_string()?;
        anyhow::ensure!(res.status() == 200, "batch answered {}: {}", res.status(), &text[..text.len().min(500)]);
        let answer: serde_json::Value = serde_json::from_str(&text)?;
        anyhow::ensure!(answer["created"] == n && answer["failed"] == 0, "batch items failed: {}", &text[..text.len().min(500)]);
        lines += n * LINES_PER_PURCHASE;
    }
    Ok(lines as f64 / t.elapsed().as_secs_f64())
}

/// The same number of lines bulk-inserted raw: per 1,000 purchases, one transaction of
/// multi-row INSERTs of purchase headers and lines into tables of the same database.
fn raw_bulk_throughput(db: &Db, opts: &Options) -> anyhow::Result<f64> {
    let mut conn = db.get()?;
    diesel::sql_query("CREATE TABLE IF NOT EXISTS bench_raw_purchases (id TEXT PRIMARY KEY, school_id TEXT NOT NULL, purchase_date DATE NOT NULL, total_fen BIGINT NOT NULL)")
        .execute(&mut *conn)?;
    diesel::sql_query("CREATE TABLE IF NOT EXISTS bench_raw_lines (purchase_id TEXT NOT NULL, line_no INTEGER NOT NULL, category TEXT NOT NULL, description TEXT NOT NULL, quantity_milli BIGINT NOT NULL, unit TEXT NOT NULL, unit_price_e4 BIGINT NOT NULL, amount_fen BIGINT NOT NULL, mass_mg BIGINT, PRIMARY KEY (purchase_id, line_no))")
        .execute(&mut *conn)?;
    let purchases = usize::try_from(opts.batch_lines).unwrap_or(usize::MAX) / LINES_PER_PURCHASE;
    let (t, mut lines) = (Instant::now(), 0_usize);
    for start in (0..purchases).step_by(BATCH) {
        let n = (purchases - start).min(BATCH);
        let ids: Vec<String> = (0..n).map(|_| uuid::Uuid::now_v7().to_string()).collect();
        write_tx(&mut conn, |conn| -> QueryResult<()> {
            for chunk in ids.chunks(250) {
                let heads: Vec<String> = chunk.iter().map(|id| format!("('{id}', 'bench-school', '2019-07-01', 12500)")).collect();
                diesel::sql_query(format!("INSERT INTO bench_raw_purchases VALUES {}", heads.join(", "))).execute(conn)?;
                let rows: Vec<String> = chunk
                    .iter()
                    .flat_map(|id| {
                        (1..=LINES_PER_PURCHASE)
                            .map(move |no| format!("('{id}', {no}, 'grain', '大米', 20000, 'kg', 54000, 10800, 20000000)"))
                    })
                    .collect();
                diesel::sql_query(format!("INSERT INTO bench_raw_lines VALUES {}", rows.join(", "))).execute(conn)?;
            }
            Ok(())
        })?;
        lines += n * LINES_PER_PURCHASE;
    }
    Ok(lines as f64 / t.elapsed().as_secs_f64())
}

/// Raw single-row transactional inserts into the same database, with the same pool
/// settings (SQLite: WAL, synchronous=FULL), from the same number of threads.
fn raw_throughput(db: &Db, world: &World, opts: &Options) -> anyhow::Result<f64> {
    {
        let mut conn = db.get()?;
        diesel::sql_query("CREATE TABLE IF NOT EXISTS bench_raw (id TEXT PRIMARY KEY, school_id TEXT NOT NULL, purchase_date DATE NOT NULL, total_fen BIGINT NOT NULL)")
            .execute(&mut *conn)?;
    }
    let per_client = opts.posts / opts.clients.max(1);
    let done = AtomicU64::new(0);
    let t = Instant::now();
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let mut handles = Vec::new();
        for c in 0..opts.clients {
            let school = world.schools[c % world.schools.len()].clone();
            let done = &done;
            handles.push(scope.spawn(move || -> anyhow::Result<()> {
                let mut conn = db.get()?;
                let date = NaiveDate::from_ymd_opt(YEAR, 6, 1).unwrap_or_default();
                for _ in 0..per_client {
                    write_tx(&mut conn, |conn| {
                        diesel::sql_query("INSERT INTO bench_raw (id, school_id, purchase_date, total_fen) VALUES ($1, $2, $3, $4)")
                            .bind::<diesel::sql_types::Text, _>(uuid::Uuid::now_v7().to_string())
                            .bind::<diesel::sql_types::Text, _>(&school)
                            .bind::<diesel::sql_types::Date, _>(date)
                            .bind::<diesel::sql_types::BigInt, _>(12_300_i64)
                            .execute(conn)
                    })?;
                    done.fetch_add(1, Ordering::Relaxed);
                }
                Ok(())
            }));
        }
        for h in handles {
            h.join().map_err(|_| anyhow::anyhow!("raw thread panicked"))??;
        }
        Ok(())
    })?;
    Ok(done.load(Ordering::Relaxed) as f64 / t.elapsed().as_secs_f64())
}

fn database_size(conn: &mut DbConn, url: &str) -> anyhow::Result<u64> {
    #[derive(QueryableByName)]
    struct Size {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        bytes: i64,
    }
    match conn {
        DbConn::Pg(c) => {
            let s: Size = diesel::sql_query("SELECT pg_database_size(current_database()) AS bytes").get_result(c)?;
            Ok(u64::try_from(s.bytes).unwrap_or(0))
        }
        DbConn::Sqlite(_) => {
            let path = url.trim_start_matches("sqlite://");
            Ok(["", "-wal"].iter().filter_map(|s| std::fs::metadata(format!("{path}{s}")).ok()).map(|m| m.len()).sum())
        }
    }
}

/// The results as a Markdown table.
pub fn markdown(results: &[Outcome]) -> String {
    let mut s = String::from(
        "| backend | lines | purchases | schools | generate s | report p50 ms (aggregates) | report p99 ms | HTTP report p50 / p99 ms | naive GROUP BY p50 ms | speed-up | identical | HTTP POST/s | raw insert/s | ratio | batch lines/s | raw bulk lines/s | batch ratio | server peak RSS MiB | DB size MiB | check differences | freeze county (schools) p50 / p99 ms | freeze prefecture (counties) p50 / p99 ms | drift (changes) p50 ms | drift balanced |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for o in results {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {:.1} | {:.2} | {:.2} | {:.2} / {:.2} | {:.1} | {:.0}× | {} | {:.0} | {:.0} | {:.2} | {:.0} | {:.0} | {:.3} | {:.1} | {:.1} | {} | ({}) {:.1} / {:.1} | ({}) {:.1} / {:.1} | ({}) {:.1} | {} |\n",
            o.backend,
            o.lines,
            o.purchases,
            o.schools,
            o.generate_secs,
            o.aggregate_p50_ms,
            o.aggregate_p99_ms,
            o.http_report_p50_ms,
            o.http_report_p99_ms,
            o.naive_p50_ms,
            o.speedup(),
            o.identical,
            o.http_rate,
            o.raw_rate,
            o.rate_ratio(),
            o.batch_rate,
            o.raw_bulk_rate,
            o.batch_rate / o.raw_bulk_rate.max(f64::MIN_POSITIVE),
            o.server_peak_rss_kb as f64 / 1024.0,
            o.db_bytes as f64 / 1_048_576.0,
            o.consistency_differences,
            o.freeze_county_schools,
            o.freeze_county_p50_ms,
            o.freeze_county_p99_ms,
            o.freeze_prefecture_counties,
            o.freeze_prefecture_p50_ms,
            o.freeze_prefecture_p99_ms,
            o.drift_changes,
            o.drift_p50_ms,
            o.drift_balanced
        ));
    }
    s
}

//! Test harness: one throw-away database per test (SQLite file or a PostgreSQL database
//! cloned from a migrated template), the real `app::build` driven in-process, tokens, and
//! fixtures that go through the HTTP API.

use std::sync::OnceLock;

use actix_http::Request;
use actix_service::ServiceExt as _;
use actix_web::body::BoxBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::{Method, StatusCode};
use actix_web::{test as atest, web};
use canteen_ledger::app;
use canteen_ledger::auth::{JwtKeys, TokenKind};
use canteen_ledger::db;
use canteen_ledger::domain::role::Role;
use canteen_ledger::http::state::AppState;
use canteen_ledger::startup;
use diesel::prelude::*;
use serde_json::{Value, json};

pub const SECRET: &[u8] = b"test-secret-test-secret-test-secret!";
const DEFAULT_PG: &str = "postgres://root@127.0.0.1:5432";

/// A database that exists for one test only.
pub enum TestDb {
    Sqlite { url: String, _dir: tempfile::TempDir },
    Postgres { url: String, name: String, server: String },
}

fn pg_server() -> String {
    std::env::var("TEST_PG_SERVER").unwrap_or_else(|_| DEFAULT_PG.to_owned())
}

/// Creates (once per process) a template database with migrations and reference data.
fn pg_template(server: &str) -> Option<String> {
    static TEMPLATE: OnceLock<Option<String>> = OnceLock::new();
    TEMPLATE
        .get_or_init(|| {
            let mut admin = PgConnection::establish(&format!("{server}/postgres")).ok()?;
            sweep_leftovers(&mut admin);
            let name = format!("ctpl_{}", std::process::id());
            diesel::sql_query(format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#)).execute(&mut admin).ok()?;
            diesel::sql_query(format!(r#"CREATE DATABASE "{name}""#)).execute(&mut admin).ok()?;
            {
                startup::open(&format!("{server}/{name}"), 2, std::time::Duration::from_secs(10)).ok()?;
            }
            Some(name)
        })
        .clone()
}

/// Drops databases left by earlier test processes that are no longer running.
fn sweep_leftovers(admin: &mut PgConnection) {
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        datname: String,
    }
    let names: Vec<Name> = diesel::sql_query("SELECT datname FROM pg_database WHERE datname LIKE 'ctest_%' OR datname LIKE 'ctpl_%'")
        .load(admin)
        .unwrap_or_default();
    for n in names {
        let pid = n.datname.split('_').nth(1).and_then(|p| p.parse::<u32>().ok());
        let alive = pid.is_some_and(|p| std::path::Path::new(&format!("/proc/{p}")).exists());
        if !alive {
            let _ = diesel::sql_query(format!(r#"DROP DATABASE IF EXISTS "{}" WITH (FORCE)"#, n.datname)).execute(admin);
        }
    }
}

impl TestDb {
    /// A fresh file per test: `:memory:` would give every pooled connection its own DB.
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        Self::Sqlite { url, _dir: dir }
    }

    /// A database cloned from the migrated template; `None` if PostgreSQL is unreachable.
    pub fn postgres() -> Option<Self> {
        let server = pg_server();
        let template = pg_template(&server)?;
        let name = format!("ctest_{}_{}", std::process::id(), uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::establish(&format!("{server}/postgres")).ok()?;
        let mut last = None;
        for _ in 0..20 {
            match diesel::sql_query(format!(r#"CREATE DATABASE "{name}" TEMPLATE "{template}""#)).execute(&mut admin) {
                Ok(_) => return Some(Self::Postgres { url: format!("{server}/{name}"), name, server }),
                Err(e) => {
                    last = Some(e);
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
            }
        }
        panic!("cannot create test database: {last:?}");
    }

    /// An empty PostgreSQL database (nothing migrated); `None` if PostgreSQL is unreachable.
    pub fn empty_postgres() -> Option<Self> {
        let server = pg_server();
        let mut admin = PgConnection::establish(&format!("{server}/postgres")).ok()?;
        let name = format!("ctest_{}_{}", std::process::id(), uuid::Uuid::new_v4().simple());
        diesel::sql_query(format!(r#"CREATE DATABASE "{name}""#)).execute(&mut admin).expect("create database");
        Some(Self::Postgres { url: format!("{server}/{name}"), name, server })
    }

    /// Whether the (PostgreSQL) database has a table of this name.
    pub fn has_table(&self, table: &str) -> bool {
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = PgConnection::establish(self.url()).expect("connect");
        let found: N = diesel::sql_query("SELECT count(*) AS n FROM information_schema.tables WHERE table_name = $1")
            .bind::<diesel::sql_types::Text, _>(table)
            .get_result(&mut conn)
            .expect("query");
        found.n > 0
    }

    pub fn url(&self) -> &str {
        match self {
            Self::Sqlite { url, .. } | Self::Postgres { url, .. } => url,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Self::Postgres { name, server, .. } = self
            && let Ok(mut admin) = PgConnection::establish(&format!("{server}/postgres"))
        {
            let _ = diesel::sql_query(format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#)).execute(&mut admin);
        }
    }
}

/// Called when PostgreSQL is unreachable: a skip locally, a failure in CI.
pub fn skip_postgres() {
    if std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false") {
        panic!("CI is set but PostgreSQL is unreachable at {} (set TEST_PG_SERVER)", pg_server());
    }
    eprintln!("skipping PostgreSQL variant: server unreachable at {}", pg_server());
}

/// Generates a `sqlite` and a `postgres` test from one async fn taking a `TestDb`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[actix_web::test]
            async fn sqlite() {
                super::$name($crate::helpers::TestDb::sqlite()).await;
            }
            #[actix_web::test]
            async fn postgres() {
                match $crate::helpers::TestDb::postgres() {
                    Some(db) => super::$name(db).await,
                    None => $crate::helpers::skip_postgres(),
                }
            }
        }
    )+};
}

type Svc = actix_service::boxed::BoxService<Request, ServiceResponse<BoxBody>, actix_web::Error>;

/// A response, read whole.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: actix_web::http::header::HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status, printing the body on mismatch.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        self
    }

    /// Asserts an RFC 9457 problem with this status; returns the problem.
    #[track_caller]
    pub fn problem(&self, status: u16) -> &Value {
        self.expect(status);
        assert_eq!(self.header("content-type"), Some("application/problem+json"), "{}", self.text);
        assert!(self.json["type"].as_str().is_some_and(|t| t.starts_with("urn:canteen-ledger:problem:")), "{}", self.text);
        assert_eq!(self.json["status"], status);
        &self.json
    }

    /// The `field` of the first error of a problem.
    pub fn first_field(&self) -> &str {
        self.json["errors"][0]["field"].as_str().unwrap_or("")
    }

    pub fn first_code(&self) -> &str {
        self.json["errors"][0]["code"].as_str().unwrap_or("")
    }
}

/// The `…/export` URL of a report URL, as a file of `format` (`csv` or `xlsx`).
pub fn export(url: &str, format: &str) -> String {
    match url.split_once('?') {
        Some((path, query)) => format!("{path}/export?{query}&format={format}"),
        None => format!("{url}/export?format={format}"),
    }
}

/// The real application on a fresh database, driven in-process.
pub struct TestApp {
    svc: Svc,
    pub state: web::Data<AppState>,
    /// Held only to be dropped last, after the pool that points at it.
    _db: TestDb,
}

impl TestApp {
    /// The app as tests use it: webhook callbacks may go to loopback receivers.
    pub async fn new(db: TestDb) -> Self {
        Self::with_callbacks(db, true).await
    }

    /// The app with `allow_private_callbacks` as given (production's default is `false`).
    pub async fn with_callbacks(db: TestDb, allow_private_callbacks: bool) -> Self {
        Self::configured(db, allow_private_callbacks, Vec::new()).await
    }

    /// The app with browsers allowed to call it from `origins` (CORS).
    pub async fn with_cors(db: TestDb, origins: &[&str]) -> Self {
        Self::configured(db, true, origins.iter().map(|o| (*o).to_owned()).collect()).await
    }

    async fn configured(db: TestDb, allow_private_callbacks: bool, cors: Vec<String>) -> Self {
        let pool = startup::open(db.url(), 4, std::time::Duration::from_secs(10)).expect("a prepared database");
        let state = web::Data::new(AppState::new(pool, JwtKeys::hs256(SECRET).expect("keys"), allow_private_callbacks).with_cors(cors));
        let svc = atest::init_service(app::build(state.clone()).0).await;
        let svc: Svc = actix_service::boxed::service(svc.map(|r: ServiceResponse<_>| r.map_into_boxed_body()));
        Self { svc, state, _db: db }
    }

    /// A session token for `role`, signed with the app's keys.
    pub fn token(&self, role: &Role) -> String {
        let now = chrono::Utc::now().timestamp();
        self.state
            .keys
            .issue(&format!("test-{role}"), role, TokenKind::Session, &uuid::Uuid::new_v4().to_string(), now, 3600)
            .expect("token")
    }

    pub fn admin(&self) -> String {
        self.token(&Role::Admin)
    }

    /// Sends a request; `body` as JSON when given.
    pub async fn send(&self, method: Method, path: &str, token: Option<&str>, body: Option<&Value>, headers: &[(&str, &str)]) -> Resp {
        let mut req = atest::TestRequest::default().method(method).uri(path);
        if let Some(t) = token {
            req = req.insert_header(("Authorization", format!("Bearer {t}")));
        }
        for (k, v) in headers {
            req = req.insert_header((*k, *v));
        }
        if let Some(b) = body {
            req = req.set_json(b);
        }
        self.call(req.to_request()).await
    }

    /// Sends `body` as raw bytes with this Content-Type (file uploads).
    pub async fn send_bytes(&self, method: Method, path: &str, token: Option<&str>, content_type: &str, body: Vec<u8>) -> Resp {
        let mut req = atest::TestRequest::default().method(method).uri(path).insert_header(("Content-Type", content_type));
        if let Some(t) = token {
            req = req.insert_header(("Authorization", format!("Bearer {t}")));
        }
        self.call(req.set_payload(body).to_request()).await
    }

    /// Sends a request and returns the body's bytes (for binary files).
    pub async fn call_bytes(&self, req: Request) -> Vec<u8> {
        let res = self.svc.call(req).await.expect("service call");
        assert_eq!(res.status(), StatusCode::OK);
        actix_web::body::to_bytes(res.into_body()).await.expect("body").to_vec()
    }

    /// Sends a request and returns its headers and body bytes as sent (not decoded).
    pub async fn call_raw(&self, req: Request) -> (actix_web::http::header::HeaderMap, Vec<u8>) {
        let res = self.svc.call(req).await.expect("service call");
        let headers = res.headers().clone();
        (headers, actix_web::body::to_bytes(res.into_body()).await.expect("body").to_vec())
    }

    pub async fn call(&self, req: Request) -> Resp {
        let res = self.svc.call(req).await.expect("service call");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = actix_web::body::to_bytes(res.into_body()).await.unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp { status, headers, text, json }
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.send(Method::GET, path, Some(token), None, &[]).await
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Resp {
        self.send(Method::POST, path, Some(token), Some(body), &[]).await
    }

    /// Runs `sql` behind the API's back with the append-only triggers out of the way, as
    /// someone who can defeat the database would: on PostgreSQL with `SET LOCAL
    /// session_replication_role = replica` (no trigger fires, foreign keys included) in one
    /// transaction; on SQLite by dropping every trigger, running `sql` and recreating them
    /// in one transaction.
    pub fn tamper(&self, sql: &str) {
        use diesel::connection::SimpleConnection as _;
        #[derive(QueryableByName)]
        struct Ddl {
            #[diesel(sql_type = diesel::sql_types::Text)]
            name: String,
            #[diesel(sql_type = diesel::sql_types::Text)]
            sql: String,
        }
        let mut conn = self.state.db.get().expect("connection");
        match &mut *conn {
            db::DbConn::Pg(c) => c.batch_execute(&format!("BEGIN; SET LOCAL session_replication_role = replica; {sql}; COMMIT;")),
            db::DbConn::Sqlite(c) => {
                let triggers: Vec<Ddl> =
                    diesel::sql_query("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").load(c).expect("triggers");
                let drop: String = triggers.iter().map(|t| format!("DROP TRIGGER \"{}\";", t.name)).collect();
                let create: String = triggers.iter().map(|t| format!("{};", t.sql)).collect();
                c.batch_execute(&format!("BEGIN IMMEDIATE; {drop} {sql}; {create} COMMIT;"))
            }
        }
        .unwrap_or_else(|e| panic!("tampering with {sql:?}: {e}"));
    }

    /// Runs `sql` as the application could, returning the database's error.
    pub fn try_sql(&self, sql: &str) -> Result<usize, diesel::result::Error> {
        let mut conn = self.state.db.get().expect("connection");
        diesel::sql_query(sql).execute(&mut *conn)
    }

    // ---- fixtures, through the API ----

    /// Registers a school in `county` (as admin); returns its id.
    pub async fn school(&self, county: &str, name: &str) -> String {
        let r = self.post("/api/v1/schools", &self.admin(), &json!({"county_code": county, "name": name})).await;
        r.expect(201);
        r.json["id"].as_str().expect("id").to_owned()
    }

    /// Registers a supplier (as admin); returns its id.
    pub async fn supplier(&self, county: &str, kind: &str) -> String {
        let body =
            json!({"name": format!("{kind} from {county}"), "kind": kind, "origin_county_code": county, "registration_ref": "REG-1"});
        let r = self.post("/api/v1/suppliers", &self.admin(), &body).await;
        r.expect(201);
        r.json["id"].as_str().expect("id").to_owned()
    }

    /// Declares a tag (as admin) and, if `verify`, verifies it; returns the tag id.
    pub async fn tag(&self, supplier: &str, tag: &str, from: &str, to: Option<&str>, verify: bool) -> String {
        let body = json!({"tag": tag, "valid_from": from, "valid_to": to, "evidence": "EV-1"});
        let r = self.post(&format!("/api/v1/suppliers/{supplier}/tags"), &self.admin(), &body).await;
        r.expect(201);
        let id = r.json["id"].as_str().expect("id").to_owned();
        if verify {
            self.post(&format!("/api/v1/suppliers/{supplier}/tags/{id}/verify"), &self.admin(), &json!({})).await.expect(200);
        }
        id
    }

    /// Records a purchase as the school's canteen with a fresh key; returns the response.
    pub async fn purchase(&self, school: &str, supplier: &str, date: &str, lines: Value) -> Resp {
        let key = uuid::Uuid::new_v4().to_string();
        self.purchase_with_key(school, supplier, date, lines, &key).await
    }

    pub async fn purchase_with_key(&self, school: &str, supplier: &str, date: &str, lines: Value, key: &str) -> Resp {
        let body = json!({"school_id": school, "supplier_id": supplier, "purchase_date": date, "lines": lines});
        let tok = self.token(&Role::Canteen(school.to_owned()));
        self.send(Method::POST, "/api/v1/purchases", Some(&tok), Some(&body), &[("Idempotency-Key", key)]).await
    }
}

/// One line: `(category, qty, unit, price)`.
pub fn line(category: &str, qty: &str, unit: &str, price: &str) -> Value {
    json!({"category": category, "description": "item", "quantity": qty, "unit": unit, "unit_price": price})
}

/// The world of the ledger's own tests: one school and one supplier that trade with it.
pub struct Trade {
    pub app: TestApp,
    /// A school of the county.
    pub school: String,
    /// A cooperative of the county, tagged `cooperative` (verified) from 2019-01-01.
    pub supplier: String,
    /// The school's canteen.
    pub canteen: String,
    /// The supplier's own integration.
    pub vendor: String,
}

impl Trade {
    /// The app on `db` with that school (`一小`) and supplier in `county`, and their tokens.
    pub async fn new(db: TestDb, county: &str) -> Self {
        let app = TestApp::new(db).await;
        let school = app.school(county, "一小").await;
        let supplier = app.supplier(county, "cooperative").await;
        app.tag(&supplier, "cooperative", "2019-01-01", None, true).await;
        let canteen = app.token(&Role::Canteen(school.clone()));
        let vendor = app.token(&Role::Supplier(supplier.clone()));
        Self { app, school, supplier, canteen, vendor }
    }
}

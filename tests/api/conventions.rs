//! The conventions of a production web service (issue 12): request ids, `Cache-Control`,
//! `ETag`/`304`, `Link: rel="next"`, compression, CORS (off unless configured) and the
//! Prometheus metrics of requests and logins.

use std::io::Read as _;

use actix_web::http::Method;
use canteen_ledger::domain::role::Role;
use serde_json::json;

use crate::both_backends;
use crate::helpers::{TestApp, TestDb, Trade, export, line};

both_backends!(
    every_answer_carries_a_request_id,
    reports_revalidate_with_etags_and_stay_out_of_shared_caches,
    pages_link_to_the_next_page,
    large_answers_are_compressed_when_asked,
    cors_answers_only_the_configured_origins,
    metrics_count_requests_by_route_and_failed_logins,
);

const COUNTY: &str = "520102";

async fn every_answer_carries_a_request_id(db: TestDb) {
    let app = TestApp::new(db).await;
    let admin = app.admin();
    let kept = app.send(Method::GET, "/api/v1/schools", Some(&admin), None, &[("X-Request-Id", "console-42.a:b_c")]).await;
    assert_eq!(kept.header("x-request-id"), Some("console-42.a:b_c"));
    let made = app.get("/api/v1/schools", &admin).await;
    let id = made.header("x-request-id").unwrap_or_default().to_owned();
    assert!(id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()), "{id:?}");
    assert_ne!(app.get("/api/v1/schools", &admin).await.header("x-request-id"), Some(id.as_str()), "a new id per request");
    // An unusable id (spaces: it would reach logs verbatim) is replaced; errors carry one too.
    let replaced = app.send(Method::GET, "/api/v1/nowhere", Some(&admin), None, &[("X-Request-Id", "a b")]).await;
    replaced.problem(404);
    assert!(replaced.header("x-request-id").is_some_and(|v| v != "a b" && v.len() == 32));
}

async fn reports_revalidate_with_etags_and_stay_out_of_shared_caches(db: TestDb) {
    let t = Trade::new(db, COUNTY).await;
    t.app.purchase(&t.school, &t.supplier, "2019-03-04", json!([line("vegetables", "10", "jin", "2.00")])).await.expect(201);
    let county = t.app.token(&Role::County(COUNTY.into()));
    let url = format!("/api/v1/reports/shares?scope=county:{COUNTY}&period=2019-03-H1&group_by=school");
    let first = t.app.get(&url, &county).await;
    first.expect(200);
    assert_eq!(first.header("cache-control"), Some("private, no-cache"));
    let tag = first.header("etag").unwrap_or_default().to_owned();
    assert!(tag.starts_with("W/\"") && tag.len() == 36, "{tag:?}");
    assert_eq!(t.app.get(&url, &county).await.header("etag"), Some(tag.as_str()), "the same report, the same tag");

    let again = t.app.send(Method::GET, &url, Some(&county), None, &[("If-None-Match", &tag)]).await;
    assert_eq!(again.status, 304);
    assert!(again.text.is_empty());
    assert_eq!(again.header("etag"), Some(tag.as_str()));
    assert_eq!(again.header("cache-control"), Some("private, no-cache"));
    let other = t.app.send(Method::GET, &url, Some(&county), None, &[("If-None-Match", "W/\"something-else\"")]).await;
    other.expect(200);

    // A new purchase changes the report: the old tag no longer matches.
    t.app.purchase(&t.school, &t.supplier, "2019-03-05", json!([line("meat_poultry", "2", "kg", "30.00")])).await.expect(201);
    let changed = t.app.send(Method::GET, &url, Some(&county), None, &[("If-None-Match", &tag)]).await;
    changed.expect(200);
    assert_ne!(changed.header("etag"), Some(tag.as_str()));

    // Exports revalidate the same way.
    let csv = export(&url, "csv");
    let tag = t.app.get(&csv, &county).await.header("etag").unwrap_or_default().to_owned();
    assert_eq!(t.app.send(Method::GET, &csv, Some(&county), None, &[("If-None-Match", &tag)]).await.status, 304);

    // Writes, refusals and anything with a token are never stored by any cache.
    let login = t.app.send(Method::POST, "/api/v1/auth/token", None, Some(&json!({"username": "x", "password": "y"})), &[]).await;
    assert_eq!(login.header("cache-control"), Some("no-store"));
    assert_eq!(t.app.get("/api/v1/auth/me", &county).await.header("cache-control"), Some("no-store"));
    let created = t.app.purchase(&t.school, &t.supplier, "2019-03-06", json!([line("meat_poultry", "1", "kg", "30.00")])).await;
    assert_eq!(created.header("cache-control"), Some("no-store"));
    assert!(created.header("etag").is_none());
    assert_eq!(t.app.get("/api/v1/schools/not-a-school", &county).await.header("cache-control"), Some("no-store"));
}

async fn pages_link_to_the_next_page(db: TestDb) {
    let app = TestApp::new(db).await;
    for name in ["一小", "二小", "三小"] {
        app.school(COUNTY, name).await;
    }
    let admin = app.admin();
    let first = app.get(&format!("/api/v1/schools?county={COUNTY}&limit=2"), &admin).await;
    first.expect(200);
    let cursor = first.json["next_cursor"].as_str().unwrap_or_default().to_owned();
    let link = first.header("link").unwrap_or_default().to_owned();
    assert_eq!(link, format!("</api/v1/schools?county={COUNTY}&limit=2&cursor={cursor}>; rel=\"next\""));
    // Following the link (with its cursor replaced, not repeated) gives the last page, which links nowhere.
    let next = link.trim_start_matches('<').split('>').next().unwrap_or_default().to_owned();
    let second = app.get(&next, &admin).await;
    second.expect(200);
    assert_eq!(second.json["items"].as_array().map(Vec::len), Some(1));
    assert!(second.header("link").is_none());
    assert!(second.json.get("next_cursor").is_none());
}

async fn large_answers_are_compressed_when_asked(db: TestDb) {
    let app = TestApp::new(db).await;
    let plain = app.send(Method::GET, "/api-docs/openapi.json", None, None, &[]).await;
    plain.expect(200);
    for (encoding, header) in [("gzip", "gzip"), ("br", "br")] {
        let req = actix_web::test::TestRequest::get().uri("/api-docs/openapi.json").insert_header(("Accept-Encoding", encoding));
        let res = app.call_raw(req.to_request()).await;
        assert_eq!(res.0.get("content-encoding").and_then(|v| v.to_str().ok()), Some(header));
        assert!(res.1.len() * 3 < plain.text.len(), "{encoding}: {} of {} bytes", res.1.len(), plain.text.len());
        let text = match encoding {
            "gzip" => {
                let mut s = String::new();
                flate2::read::GzDecoder::new(&res.1[..]).read_to_string(&mut s).unwrap();
                s
            }
            _ => {
                let mut s = String::new();
                brotli::Decompressor::new(&res.1[..], 4096).read_to_string(&mut s).unwrap();
                s
            }
        };
        assert_eq!(text, plain.text, "{encoding} decodes to the same document");
    }
}

async fn cors_answers_only_the_configured_origins(db: TestDb) {
    let console = "https://console.example.org";
    let app = TestApp::with_cors(db, &[console]).await;
    let preflight = |origin: &'static str| {
        actix_web::test::TestRequest::default()
            .method(Method::OPTIONS)
            .uri("/api/v1/purchases")
            .insert_header(("Origin", origin))
            .insert_header(("Access-Control-Request-Method", "POST"))
            .insert_header(("Access-Control-Request-Headers", "authorization, content-type, idempotency-key"))
            .to_request()
    };
    let ok = app.call(preflight(console)).await;
    assert!(ok.status.is_success(), "{} {}", ok.status, ok.text);
    assert_eq!(ok.header("access-control-allow-origin"), Some(console));
    let allowed = ok.header("access-control-allow-headers").unwrap_or_default().to_ascii_lowercase();
    assert!(allowed.contains("idempotency-key") && allowed.contains("authorization"), "{allowed}");
    let admin = app.admin();
    let read = app.send(Method::GET, "/api/v1/schools", Some(&admin), None, &[("Origin", console)]).await;
    assert_eq!(read.header("access-control-allow-origin"), Some(console));
    assert!(read.header("access-control-expose-headers").unwrap_or_default().to_ascii_lowercase().contains("etag"));
    // Another origin gets no grant (the browser keeps the answer from its script).
    let stranger = app.send(Method::GET, "/api/v1/schools", Some(&admin), None, &[("Origin", "https://evil.example")]).await;
    stranger.expect(200);
    assert!(stranger.header("access-control-allow-origin").is_none());
}

async fn metrics_count_requests_by_route_and_failed_logins(db: TestDb) {
    let app = TestApp::new(db).await;
    let admin = app.admin();
    app.get("/api/v1/schools?limit=1", &admin).await.expect(200);
    app.get("/api/v1/schools/0190aaaa-0000-7000-8000-00000000beef", &admin).await.problem(404);
    app.send(Method::POST, "/api/v1/auth/token", None, Some(&json!({"username": "nobody", "password": "wrong password"})), &[])
        .await
        .problem(401);
    let m = app.send(Method::GET, "/metrics", None, None, &[]).await;
    m.expect(200);
    let has = |needle: &str| m.text.lines().any(|l| l.starts_with(needle));
    // (Counters are of the process: other tests add to them, so each is checked as present.)
    assert!(has("canteen_ledger_http_requests_total{method=\"GET\",route=\"/api/v1/schools\",status=\"200\"}"), "{}", m.text);
    assert!(has("canteen_ledger_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/schools\",le=\"0.001\"}"));
    assert!(has("canteen_ledger_login_failures_total{reason=\"credentials\"}"));
    assert!(has("canteen_ledger_db_write_transactions_total{outcome=\"commit\"}"));
    assert!(has("canteen_ledger_db_pool_wait_seconds_bucket"));
    assert!(has("canteen_ledger_db_connections "));
    assert!(has("canteen_ledger_http_requests_total{method=\"GET\",route=\"/api/v1/schools/{id}\",status=\"404\"}"), "{}", m.text);
    assert!(!m.text.contains("beef"), "routes are templates, not paths with ids");
}

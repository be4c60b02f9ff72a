//! What the schemathesis run (`.ci/fuzz.sh`) found, pinned as tests: the OpenAPI document
//! and the server agree on methods (`Allow`), statuses and the values a schema admits.

use actix_web::http::Method;
use actix_web::{test as atest, web};
use canteen_ledger::app;
use canteen_ledger::auth::{JwtKeys, TokenKind};
use canteen_ledger::db::{self, Db};
use canteen_ledger::domain::role::Role;
use canteen_ledger::http::state::AppState;
use canteen_ledger::service::reference;
use serde_json::json;

use crate::both_backends;
use crate::helpers::{SECRET, TestApp, TestDb};

both_backends!(
    allow_lists_exactly_the_documented_methods_of_each_path,
    a_literal_path_is_not_also_a_template_parameter,
    an_exhausted_pool_is_a_documented_503_with_retry_after,
    integral_numbers_are_integers_and_null_is_no_optional_body,
    documented_county_codes_and_period_years_are_the_ones_the_server_takes,
);

/// The document's paths with a concrete value for each template parameter, and their methods.
fn documented_paths() -> Vec<(String, Vec<String>)> {
    let doc = serde_json::to_value(app::document()).unwrap();
    doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(path, item)| {
            let concrete = path.split('/').map(|s| if s.starts_with('{') { "x1" } else { s }).collect::<Vec<_>>().join("/");
            let methods = item.as_object().unwrap().keys().map(|m| m.to_uppercase()).collect();
            (concrete, methods)
        })
        .collect()
}

async fn allowed_methods_of_each_path(db: TestDb) {
    let app = TestApp::new(db).await;
    let admin = app.admin();
    for (path, documented) in documented_paths() {
        let r = app.send(Method::OPTIONS, &path, Some(&admin), None, &[]).await;
        r.problem(405);
        let mut allow: Vec<String> = r.header("allow").unwrap_or("").split(',').map(|m| m.trim().to_owned()).collect();
        allow.sort();
        let mut documented = documented.clone();
        documented.sort();
        assert_eq!(allow, documented, "OPTIONS {path}: Allow {:?}", r.header("allow"));
    }
}

async fn allow_lists_exactly_the_documented_methods_of_each_path(db: TestDb) {
    allowed_methods_of_each_path(db).await;
}

/// `/purchases/batch` is only `POST`: a `GET` there is a 405 like any other method, not
/// `GET /purchases/{id}` with the id `batch`.
async fn a_literal_path_is_not_also_a_template_parameter(db: TestDb) {
    let app = TestApp::new(db).await;
    let admin = app.admin();
    for method in [Method::GET, Method::PUT, Method::PATCH, Method::DELETE, Method::OPTIONS, Method::HEAD] {
        let r = app.send(method.clone(), "/api/v1/purchases/batch", Some(&admin), None, &[]).await;
        r.expect(405);
        assert_eq!(r.header("allow"), Some("POST"), "{method} /api/v1/purchases/batch");
        if method != Method::HEAD {
            r.problem(405);
        }
    }
    // Without a token too: the method is wrong whoever asks.
    let r = app.send(Method::GET, "/api/v1/purchases/batch", None, None, &[]).await;
    r.problem(405);
    // The template still answers its own method.
    app.get("/api/v1/purchases/no-such-purchase", &admin).await.problem(404);
    app.send(Method::PUT, "/api/v1/purchases/no-such-purchase", Some(&admin), None, &[]).await.problem(405);
}

/// Every connection of the pool is taken: the answer is the 503 problem with `Retry-After`
/// that the document lists for every operation that uses the database.
async fn an_exhausted_pool_is_a_documented_503_with_retry_after(db: TestDb) {
    let pool = Db::connect(db.url(), 2, std::time::Duration::from_millis(200)).unwrap();
    {
        let mut conn = pool.get().unwrap();
        db::migrate(&mut conn).unwrap();
        reference::load_guizhou(&mut conn).unwrap();
    }
    let keys = JwtKeys::hs256(SECRET).unwrap();
    let token = keys.issue("test-admin", &Role::Admin, TokenKind::Session, "jti-pool", chrono::Utc::now().timestamp(), 600).unwrap();
    let state = web::Data::new(AppState::new(pool.clone(), keys, false));
    let svc = atest::init_service(app::build(state).0).await;
    let held = (pool.get().unwrap(), pool.get().unwrap());
    let req = atest::TestRequest::get().uri("/api/v1/schools").insert_header(("Authorization", format!("Bearer {token}"))).to_request();
    let res = atest::call_service(&svc, req).await;
    assert_eq!(res.status().as_u16(), 503);
    let header = |name: &str| res.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    assert_eq!(header("content-type").as_deref(), Some("application/problem+json"));
    assert!(header("retry-after").is_some_and(|v| v.parse::<u32>().is_ok()), "Retry-After: {:?}", header("retry-after"));
    drop(held);

    let doc = serde_json::to_value(app::document()).unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = &op["responses"];
            if !["/healthz", "/metrics"].contains(&path.as_str()) {
                let unavailable = &responses["503"];
                assert!(unavailable["content"]["application/problem+json"].is_object(), "{method} {path}: no 503 problem");
                assert!(unavailable["headers"]["Retry-After"].is_object(), "{method} {path}: 503 without Retry-After");
            }
            if op.get("requestBody").is_some() {
                for status in ["400", "413", "422"] {
                    assert!(responses[status]["content"]["application/problem+json"].is_object(), "{method} {path}: no {status} problem");
                }
            }
            for (status, response) in responses.as_object().unwrap() {
                if status.as_str() >= "400" {
                    let types: Vec<&String> = response["content"].as_object().map(|c| c.keys().collect()).unwrap_or_default();
                    assert_eq!(types, ["application/problem+json"], "{method} {path} {status}");
                }
            }
        }
    }
}

/// The event types a webhook subscription may select are an enum in the document, the
/// server's own list (schemathesis sent `[""]`, valid by a schema of plain strings).
#[test]
fn webhook_event_types_are_a_documented_enum() {
    let doc = serde_json::to_value(app::document()).unwrap();
    let events = &doc["components"]["schemas"]["CreateWebhookRequest"]["properties"]["events"];
    assert_eq!(events["uniqueItems"], true, "{events}");
    let item = events["items"]["$ref"].as_str().unwrap_or_default().rsplit('/').next().unwrap_or_default().to_owned();
    let listed: Vec<&str> = doc["components"]["schemas"][&item]["enum"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(listed, canteen_ledger::domain::webhook::EVENT_TYPES);
}

/// `type: integer` admits `45.0` (JSON Schema counts numbers, not spellings), and an
/// optional body documented as `T` or `null` admits `null`: schemathesis sent both.
async fn integral_numbers_are_integers_and_null_is_no_optional_body(db: TestDb) {
    let app = TestApp::new(db).await;
    let admin = app.admin();
    let body = json!({"name": "合作社", "kind": "cooperative", "origin_county_code": "522731", "registration_ref": "REG-F", "payment_terms_days": 45.0});
    let r = app.post("/api/v1/suppliers", &admin, &body).await;
    r.expect(201);
    assert_eq!(r.json["payment_terms_days"], 45, "{}", r.text);
    let supplier = r.json["id"].as_str().unwrap().to_owned();
    let province = app.token(&Role::Province);
    let r = app.send(Method::PUT, "/api/v1/targets/2021", Some(&province), Some(&json!({"numerator": 3.0, "denominator": 5.0})), &[]).await;
    r.expect(200);
    assert_eq!((r.json["numerator"].as_i64(), r.json["denominator"].as_i64()), (Some(3), Some(5)), "{}", r.text);
    // A fraction is still refused where an integer is expected.
    let r = app.send(Method::PUT, "/api/v1/targets/2021", Some(&province), Some(&json!({"numerator": 1.5, "denominator": 5})), &[]).await;
    assert_eq!(r.problem(422)["errors"][0]["field"], "numerator", "{}", r.text);

    let tag = app
        .post(
            &format!("/api/v1/suppliers/{supplier}/tags"),
            &admin,
            &json!({"tag": "cooperative", "valid_from": "2019-01-01", "evidence": "EV"}),
        )
        .await;
    tag.expect(201);
    let path = format!("/api/v1/suppliers/{supplier}/tags/{}/verify", tag.json["id"].as_str().unwrap());
    let req = atest::TestRequest::post()
        .uri(&path)
        .insert_header(("Authorization", format!("Bearer {admin}")))
        .insert_header(("Content-Type", "application/json"))
        .set_payload("null")
        .to_request();
    let r = app.call(req).await;
    r.expect(200);
    assert_eq!(r.json["tag"]["status"], "verified", "{}", r.text);
}

/// County codes are an enum of the reference counties wherever an unknown county is refused,
/// and a period's year is 2000–2100 as the server parses it (schemathesis sent `000000`
/// and `0000-01-H1`, valid by `^[0-9]{6}$` and `^[0-9]{4}…`).
async fn documented_county_codes_and_period_years_are_the_ones_the_server_takes(db: TestDb) {
    let app = TestApp::new(db).await;
    let admin = app.admin();
    let doc = serde_json::to_value(app::document()).unwrap();
    let r = app.get("/api/v1/counties", &admin).await;
    r.expect(200);
    let list = if r.json.is_array() { &r.json } else { &r.json["items"] };
    let mut served: Vec<String> = list.as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap().to_owned()).collect();
    served.sort();
    let strings = |v: &serde_json::Value| -> Vec<String> {
        let mut out: Vec<String> = v.as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
        out.sort();
        out
    };
    assert_eq!(served.len(), 88);
    assert_eq!(strings(&doc["components"]["schemas"]["GuizhouCountyCode"]["enum"]), served);
    assert_eq!(
        doc["components"]["schemas"]["CreateSchoolRequest"]["properties"]["county_code"]["$ref"],
        "#/components/schemas/GuizhouCountyCode"
    );
    for path in ["/api/v1/payments/overdue", "/api/v1/reports/semi-monthly"] {
        let params = doc["paths"][path]["get"]["parameters"].as_array().unwrap();
        let county = params.iter().find(|p| p["name"] == "county").unwrap();
        assert_eq!(strings(&county["schema"]["enum"]), served, "{path}");
    }
    // The server refuses a code outside the enum in each of those places.
    let r = app.post("/api/v1/schools", &admin, &json!({"county_code": "000000", "name": "x"})).await;
    assert_eq!(r.problem(422)["errors"][0]["field"], "county_code");
    let r = app.get("/api/v1/payments/overdue?county=000000", &admin).await;
    assert!(r.status.is_client_error(), "{}", r.text);
    let r = app.get("/api/v1/reports/semi-monthly?county=000000&period=2019-03-H1", &admin).await;
    assert!(r.status.is_client_error(), "{}", r.text);

    let shares = doc["paths"]["/api/v1/reports/shares"]["get"]["parameters"].as_array().unwrap();
    let period = shares.iter().find(|p| p["name"] == "period").unwrap();
    assert!(period["schema"]["pattern"].as_str().unwrap().starts_with("^(20[0-9]{2}|2100)"), "{period}");
    for (p, ok) in [("2000", true), ("2100-12-H2", true), ("1999", false), ("2101", false), ("0000-01-H1", false)] {
        let r = app.get(&format!("/api/v1/reports/shares?scope=province&period={p}"), &admin).await;
        assert_eq!(r.status.is_success(), ok, "period {p}: {}", r.text);
    }
}

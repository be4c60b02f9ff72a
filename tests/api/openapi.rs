//! The committed OpenAPI document is the generated one, and every route is in it.

use canteen_ledger::app;

#[test]
fn the_committed_openapi_document_is_up_to_date() {
    let generated = app::openapi_json(&app::document()).unwrap();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    if std::env::var("UPDATE_OPENAPI").is_ok() {
        std::fs::write(path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json is stale: run `UPDATE_OPENAPI=1 cargo test --test api openapi` (or `cargo run -- openapi > openapi/openapi.json`) and commit it"
    );
}

#[test]
fn every_route_is_documented_with_its_methods() {
    let doc = serde_json::to_value(app::document()).unwrap();
    let mut routes: Vec<String> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| item.as_object().unwrap().keys().map(move |m| format!("{} {path}", m.to_uppercase())))
        .collect();
    routes.sort();
    let expected = [
        "DELETE /api/v1/webhooks/{id}",
        "GET /api/v1/admin/ledger/check",
        "GET /api/v1/counties",
        "GET /api/v1/counties/{code}",
        "GET /api/v1/deliveries",
        "GET /api/v1/deliveries/{id}",
        "GET /api/v1/imports/template",
        "GET /api/v1/me",
        "GET /api/v1/payments/overdue",
        "GET /api/v1/prefectures",
        "GET /api/v1/purchases",
        "GET /api/v1/purchases/{id}",
        "GET /api/v1/purchases/{id}/payments",
        "GET /api/v1/reporting/calendar",
        "GET /api/v1/reporting/lines",
        "GET /api/v1/reporting/status",
        "GET /api/v1/reports/semi-monthly",
        "GET /api/v1/reports/shares",
        "GET /api/v1/reports/silent-schools",
        "GET /api/v1/schools",
        "GET /api/v1/schools/{id}",
        "GET /api/v1/schools/{id}/ledger/verify",
        "GET /api/v1/submissions",
        "GET /api/v1/submissions/{id}",
        "GET /api/v1/submissions/{id}/drift",
        "GET /api/v1/submissions/{id}/workbook",
        "GET /api/v1/suppliers",
        "GET /api/v1/suppliers/{id}",
        "GET /api/v1/targets",
        "GET /api/v1/targets/{year}/history",
        "GET /api/v1/webhooks",
        "GET /api/v1/webhooks/{id}/deliveries",
        "GET /healthz",
        "GET /metrics",
        "GET /readyz",
        "PATCH /api/v1/schools/{id}",
        "POST /api/v1/auth/logout",
        "POST /api/v1/auth/token",
        "POST /api/v1/deliveries",
        "POST /api/v1/deliveries/{id}/confirm",
        "POST /api/v1/deliveries/{id}/dispute",
        "POST /api/v1/imports",
        "POST /api/v1/purchases",
        "POST /api/v1/purchases/batch",
        "POST /api/v1/purchases/{id}/acknowledge",
        "POST /api/v1/purchases/{id}/correct",
        "POST /api/v1/purchases/{id}/dispute",
        "POST /api/v1/purchases/{id}/payments",
        "POST /api/v1/purchases/{id}/void",
        "POST /api/v1/schools",
        "POST /api/v1/submissions",
        "POST /api/v1/suppliers",
        "POST /api/v1/suppliers/{id}/tags",
        "POST /api/v1/suppliers/{id}/tags/{tag}/revoke",
        "POST /api/v1/suppliers/{id}/tags/{tag}/verify",
        "POST /api/v1/tokens",
        "POST /api/v1/tokens/{jti}/revoke",
        "POST /api/v1/users",
        "POST /api/v1/users/{id}/sessions/revoke",
        "POST /api/v1/webhooks",
        "PUT /api/v1/counties/{code}/designations",
        "PUT /api/v1/reporting/lines/{code}",
        "PUT /api/v1/targets/{year}",
    ];
    assert_eq!(routes, expected);
}

#[test]
fn every_protected_operation_declares_bearer_security_and_a_401() {
    let doc = serde_json::to_value(app::document()).unwrap();
    let public = ["/api/v1/auth/token", "/healthz", "/readyz", "/metrics"];
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if public.contains(&path.as_str()) {
                continue;
            }
            assert!(op["security"].as_array().is_some_and(|s| !s.is_empty()), "{method} {path} lacks security");
            assert!(op["responses"]["401"].is_object(), "{method} {path} lacks a 401 response");
        }
    }
}

#[test]
fn documented_enums_are_the_wire_spellings() {
    use canteen_ledger::domain::catalog::{Category, SupplierKind, Tag, TagStatus, Unit};
    let doc = serde_json::to_value(app::document()).unwrap();
    let listed = |name: &str| -> Vec<String> {
        doc["components"]["schemas"][name]["enum"]
            .as_array()
            .unwrap_or(&Vec::new())
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    let spelled = |all: Vec<&str>| all.into_iter().map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(listed("Category"), spelled(Category::ALL.iter().map(|c| c.as_str()).collect()));
    assert_eq!(listed("Unit"), spelled(Unit::ALL.iter().map(|c| c.as_str()).collect()));
    assert_eq!(listed("SupplierKind"), spelled(SupplierKind::ALL.iter().map(|c| c.as_str()).collect()));
    assert_eq!(listed("Tag"), spelled(Tag::ALL.iter().map(|c| c.as_str()).collect()));
    assert_eq!(listed("TagStatus"), spelled(TagStatus::ALL.iter().map(|c| c.as_str()).collect()));
}

/// What client generators require of the document's head: an SPDX license identifier
/// (openapi-generator refuses the document without one) and a relative server.
#[test]
fn the_document_names_its_license_by_spdx_id_and_a_relative_server() {
    let doc = serde_json::to_value(app::document()).unwrap();
    assert_eq!(doc["info"]["license"]["identifier"], "MIT");
    assert_eq!(doc["servers"][0]["url"], "/");
}

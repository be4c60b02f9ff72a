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
        "GET /api/v1/reporting/status/export",
        "GET /api/v1/reports/semi-monthly",
        "GET /api/v1/reports/shares",
        "GET /api/v1/reports/shares/export",
        "GET /api/v1/reports/silent-schools",
        "GET /api/v1/reports/silent-schools/export",
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

/// Every tag an operation uses is declared with a description, and operation ids are
/// unique snake_case names (what generators turn into `list_schools`, `get_shares`).
#[test]
fn operations_have_described_tags_and_readable_unique_ids() {
    let doc = serde_json::to_value(app::document()).unwrap();
    let described: std::collections::HashSet<&str> = doc["tags"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["description"].as_str().is_some_and(|d| !d.is_empty()))
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    let mut ids = std::collections::HashSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for tag in op["tags"].as_array().unwrap() {
                assert!(described.contains(tag.as_str().unwrap()), "{method} {path}: tag {tag} is not described");
            }
            let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(
                id.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') && !id.starts_with('_'),
                "{method} {path}: operationId {id:?} is not snake_case"
            );
            assert!(ids.insert(id.to_owned()), "operationId {id:?} is used twice");
        }
    }
}

/// A page's `items` refer to the item's schema: inlined, generators make one duplicate
/// `Page…ItemsInner` model per page (`list_schools` returned `PageSchoolResponseItemsInner`).
#[test]
fn pages_refer_to_their_item_schemas() {
    let doc = serde_json::to_value(app::document()).unwrap();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let pages: Vec<_> = schemas.iter().filter(|(name, _)| name.starts_with("Page_")).collect();
    assert_eq!(pages.len(), 6, "the six listed item types: {:?}", pages.iter().map(|p| p.0).collect::<Vec<_>>());
    for (name, schema) in pages {
        let item = name.strip_prefix("Page_").unwrap();
        assert_eq!(schema["properties"]["items"]["type"], "array", "{name}");
        assert_eq!(schema["properties"]["items"]["items"], serde_json::json!({"$ref": format!("#/components/schemas/{item}")}), "{name}");
        assert!(schemas.contains_key(item), "{name} refers to a missing {item}");
    }
}

/// Closed sets of query values are enums, so a generated client refuses `order_by=sahre`.
#[test]
fn closed_query_values_are_enums() {
    let doc = serde_json::to_value(app::document()).unwrap();
    let param_enum = |path: &str, name: &str| -> Vec<String> {
        let params = doc["paths"][path]["get"]["parameters"].as_array().unwrap();
        let p = params.iter().find(|p| p["name"] == name).unwrap_or_else(|| panic!("{path} has no {name}"));
        let reference = p["schema"]["$ref"].as_str().unwrap_or_else(|| panic!("{path} {name} is not a $ref: {}", p["schema"]));
        let schema = &doc["components"]["schemas"][reference.rsplit('/').next().unwrap()];
        schema["enum"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect()
    };
    let set = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert_eq!(param_enum("/api/v1/reports/shares", "order_by"), set(&["share", "shortfall", "total"]));
    assert_eq!(param_enum("/api/v1/reports/shares", "order"), set(&["asc", "desc"]));
    assert_eq!(param_enum("/api/v1/reports/shares", "period_kind"), set(&["day", "half_month", "month", "quarter", "year"]));
    for path in ["/api/v1/reports/shares/export", "/api/v1/reports/silent-schools/export", "/api/v1/reporting/status/export"] {
        assert_eq!(param_enum(path, "format"), set(&["csv", "xlsx"]), "{path}");
    }
    assert_eq!(param_enum("/api/v1/imports/template", "format"), set(&["csv", "xlsx"]));
}

/// Every `$ref` of the document names a schema it declares (a parameter's enum included).
#[test]
fn no_reference_dangles() {
    let text = serde_json::to_string(&app::document()).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let dangling: Vec<&str> = text
        .split("\"#/components/schemas/")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|name| !schemas.contains_key(*name))
        .collect();
    assert!(dangling.is_empty(), "references to undeclared schemas: {dangling:?}");
}

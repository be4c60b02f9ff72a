//! What the schemathesis run (`.ci/fuzz.sh`) found, pinned as tests: the OpenAPI document
//! and the server agree on methods (`Allow`), statuses and the values a schema admits.

use actix_web::http::Method;
use canteen_ledger::app;

use crate::both_backends;
use crate::helpers::{TestApp, TestDb};

both_backends!(allow_lists_exactly_the_documented_methods_of_each_path, a_literal_path_is_not_also_a_template_parameter,);

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

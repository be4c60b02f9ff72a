//! Login, tokens, the bootstrap administrator and integration-token revocation.

use actix_web::http::Method;
use canteen_ledger::auth::{Role, TokenKind};
use canteen_ledger::service::{accounts, now};
use serde_json::json;

use crate::both_backends;
use crate::helpers::{TestApp, TestDb};

both_backends!(
    the_bootstrap_admin_logs_in_with_the_printed_password,
    a_wrong_password_or_unknown_user_is_a_401_problem,
    missing_expired_and_foreign_tokens_are_401_problems,
    an_admin_creates_scoped_accounts_and_duplicates_are_409,
    a_revoked_integration_token_stops_working,
);

async fn the_bootstrap_admin_logs_in_with_the_printed_password(db: TestDb) {
    let app = TestApp::new(db).await;
    let pw = accounts::bootstrap_admin(&mut app.state.db.get().unwrap()).unwrap().expect("first start creates admin");
    assert!(accounts::bootstrap_admin(&mut app.state.db.get().unwrap()).unwrap().is_none(), "only once");

    let r = app.send(Method::POST, "/api/v1/auth/token", None, Some(&json!({"username": "admin", "password": pw})), &[]).await;

    r.expect(200);
    assert_eq!(r.json["token_type"], "Bearer");
    let me = app.get("/api/v1/me", r.json["access_token"].as_str().unwrap()).await;
    me.expect(200);
    assert_eq!(me.json["role"], "admin");
    assert_eq!(me.json["token_kind"], "session");
}

async fn a_wrong_password_or_unknown_user_is_a_401_problem(db: TestDb) {
    let app = TestApp::new(db).await;
    accounts::bootstrap_admin(&mut app.state.db.get().unwrap()).unwrap();
    for body in [json!({"username": "admin", "password": "wrong"}), json!({"username": "nobody", "password": "x"})] {
        let r = app.send(Method::POST, "/api/v1/auth/token", None, Some(&body), &[]).await;
        r.problem(401);
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    }
    let r = app.send(Method::POST, "/api/v1/auth/token", None, Some(&json!({"username": "admin"})), &[]).await;
    assert_eq!(r.problem(422)["errors"][0]["field"], "password");
}

async fn missing_expired_and_foreign_tokens_are_401_problems(db: TestDb) {
    let app = TestApp::new(db).await;
    app.send(Method::GET, "/api/v1/me", None, None, &[]).await.problem(401);
    let expired = app.state.keys.issue("u", &Role::Admin, TokenKind::Session, "j", chrono::Utc::now().timestamp() - 7200, 60).unwrap();
    app.get("/api/v1/me", &expired).await.problem(401);
    let foreign = canteen_ledger::auth::JwtKeys::hs256(b"some-other-secret-some-other-secret").unwrap();
    let t = foreign.issue("u", &Role::Admin, TokenKind::Session, "j", chrono::Utc::now().timestamp(), 60).unwrap();
    app.get("/api/v1/me", &t).await.problem(401);
    app.get("/api/v1/me", "not-a-jwt").await.problem(401);
}

async fn an_admin_creates_scoped_accounts_and_duplicates_are_409(db: TestDb) {
    let app = TestApp::new(db).await;
    let admin = app.admin();
    let body = json!({"username": "nanming", "password": "a-long-password-1", "role": "county:520102"});

    app.post("/api/v1/users", &admin, &body).await.expect(201);
    let dup = app.post("/api/v1/users", &admin, &body).await;
    let r = app
        .send(Method::POST, "/api/v1/auth/token", None, Some(&json!({"username": "nanming", "password": "a-long-password-1"})), &[])
        .await;

    assert_eq!(dup.problem(409)["errors"][0]["field"], "username");
    let me = app.get("/api/v1/me", r.json["access_token"].as_str().unwrap()).await;
    assert_eq!((me.json["role"].as_str(), me.json["scope"].as_str()), (Some("county"), Some("520102")));
    let unknown = json!({"username": "ghost", "password": "a-long-password-1", "role": "canteen:no-such-school"});
    assert_eq!(app.post("/api/v1/users", &admin, &unknown).await.problem(422)["errors"][0]["code"], "unknown_scope");
    app.post("/api/v1/users", &app.token(&Role::Province), &body).await.problem(403);
}

async fn a_revoked_integration_token_stops_working(db: TestDb) {
    let app = TestApp::new(db).await;
    let school = app.school("520102", "一小").await;
    let (token, row) = {
        let mut conn = app.state.db.get().unwrap();
        accounts::mint_token(&mut conn, &app.state.keys, "test", &Role::Canteen(school.clone()), "kitchen tablet", 365, now()).unwrap()
    };
    let me = app.get("/api/v1/me", &token).await;
    me.expect(200);
    assert_eq!(me.json["token_kind"], "integration");

    app.post(&format!("/api/v1/tokens/{}/revoke", row.jti), &app.admin(), &json!({})).await.expect(204);

    app.get("/api/v1/me", &token).await.problem(401);
    app.post(&format!("/api/v1/tokens/{}/revoke", row.jti), &app.admin(), &json!({})).await.problem(404);
}

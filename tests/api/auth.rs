//! Login, tokens, the bootstrap administrator and integration-token revocation.

use actix_web::http::Method;
use canteen_ledger::auth::TokenKind;
use canteen_ledger::domain::role::Role;
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
    failed_logins_back_off_per_username_with_429_and_retry_after,
    failed_logins_back_off_per_client_address,
    logout_ends_one_session_and_an_admin_can_end_them_all,
    a_token_not_valid_yet_is_refused,
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

const LOGIN: &str = "/api/v1/auth/token";

/// A login from `address` (the peer address the throttle keys on).
async fn login_from(app: &TestApp, username: &str, password: &str, address: &str) -> crate::helpers::Resp {
    let req = actix_web::test::TestRequest::post()
        .uri(LOGIN)
        .peer_addr(address.parse().unwrap())
        .set_json(json!({"username": username, "password": password}))
        .to_request();
    app.call(req).await
}

async fn failed_logins_back_off_per_username_with_429_and_retry_after(db: TestDb) {
    let app = TestApp::new(db).await;
    let pw = accounts::bootstrap_admin(&mut app.state.db.get().unwrap()).unwrap().unwrap();
    // Five free failures and the sixth that sets the first lock: all plain 401s, for a
    // known and an unknown username alike (the answer tells nothing about existence).
    // Then the name is locked, from any address, even with the right password, whatever
    // the case of the name: a 429 problem with Retry-After, and nothing is checked.
    for (name, right) in [("admin", pw.as_str()), ("nobody-here", "x")] {
        for i in 0..6 {
            let r = login_from(&app, name, "wrong password", &format!("10.0.0.{i}:1000")).await;
            r.problem(401);
            assert_eq!(r.json["type"], "urn:canteen-ledger:problem:unauthorized", "{name} try {i}");
        }
        for variant in [name.to_owned(), name.to_uppercase()] {
            let r = login_from(&app, &variant, right, "10.9.9.9:1000").await;
            assert_eq!(r.problem(429)["type"], "urn:canteen-ledger:problem:too-many-requests");
            assert_eq!(r.header("retry-after"), Some("1"));
        }
    }
    // Another username is not affected.
    login_from(&app, "someone-else", "x", "10.9.9.9:1000").await.problem(401);
    // Once the lock has passed, the right password works and clears the failures.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    login_from(&app, "admin", &pw, "10.9.9.9:1000").await.expect(200);
    for _ in 0..5 {
        login_from(&app, "admin", "wrong password", "10.9.9.8:1000").await.problem(401);
    }
}

async fn failed_logins_back_off_per_client_address(db: TestDb) {
    let app = TestApp::new(db).await;
    let pw = accounts::bootstrap_admin(&mut app.state.db.get().unwrap()).unwrap().unwrap();
    // 21 failures from one address, each under another name (no name reaches its limit).
    for i in 0..21 {
        login_from(&app, &format!("guess-{i}"), "x", "192.0.2.7:4000").await.problem(401);
    }
    let r = login_from(&app, "admin", &pw, "192.0.2.7:5000").await;
    r.problem(429);
    assert!(r.header("retry-after").is_some());
    // The same account from another address is fine.
    login_from(&app, "admin", &pw, "192.0.2.8:4000").await.expect(200);
}

async fn logout_ends_one_session_and_an_admin_can_end_them_all(db: TestDb) {
    let app = TestApp::new(db).await;
    let body = json!({"username": "officer", "password": "a-long-password-1", "role": "county:520102"});
    let created = app.post("/api/v1/users", &app.admin(), &body).await;
    created.expect(201);
    let user_id = created.json["id"].as_str().unwrap().to_owned();
    let login = || async {
        let r = login_from(&app, "officer", "a-long-password-1", "10.1.1.1:1").await;
        r.expect(200);
        r.json["access_token"].as_str().unwrap().to_owned()
    };
    let (phone, desk) = (login().await, login().await);

    app.post("/api/v1/auth/logout", &phone, &json!({})).await.expect(204);

    app.get("/api/v1/me", &phone).await.problem(401);
    app.post("/api/v1/auth/logout", &phone, &json!({})).await.problem(401);
    app.get("/api/v1/me", &desk).await.expect(200);

    // An administrator ends every session of the account (audited); it logs in again.
    let third = login().await;
    app.post(&format!("/api/v1/users/{user_id}/sessions/revoke"), &app.admin(), &json!({})).await.expect(204);
    app.get("/api/v1/me", &desk).await.problem(401);
    app.get("/api/v1/me", &third).await.problem(401);
    app.post("/api/v1/users/no-such-user/sessions/revoke", &app.admin(), &json!({})).await.problem(404);
    std::thread::sleep(std::time::Duration::from_millis(1100)); // a token of the same second counts as revoked
    let fresh = login().await;
    app.get("/api/v1/me", &fresh).await.expect(200);

    // An integration token is not a session: it is revoked by an administrator.
    let school = app.school("520102", "一小").await;
    let (token, _) = {
        let mut conn = app.state.db.get().unwrap();
        accounts::mint_token(&mut conn, &app.state.keys, "test", &Role::Canteen(school), "tablet", 30, now()).unwrap()
    };
    app.post("/api/v1/auth/logout", &token, &json!({})).await.problem(403);
    app.get("/api/v1/me", &token).await.expect(200);
}

async fn a_token_not_valid_yet_is_refused(db: TestDb) {
    let app = TestApp::new(db).await;
    let later = chrono::Utc::now().timestamp() + 600;
    let t = app.state.keys.issue("u", &Role::Admin, TokenKind::Session, "j-later", later, 3600).unwrap();
    app.get("/api/v1/me", &t).await.problem(401);
}

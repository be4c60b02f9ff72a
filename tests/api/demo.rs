//! The demo fills an empty database with a consistent ledger, and refuses a used one; every
//! login it prints works and every example it prints answers 200 for the login it names.

use canteen_ledger::service::aggregates;

use crate::demo_tool as demo;

use crate::both_backends;
use serde_json::json;

use crate::helpers::{TestApp, TestDb};

both_backends!(the_demo_fills_an_empty_database_consistently_and_only_once);

async fn the_demo_fills_an_empty_database_consistently_and_only_once(db: TestDb) {
    let app = TestApp::new(db).await;
    let mut conn = app.state.db.get().unwrap();

    let loaded = demo::fill(&mut conn).unwrap();
    let again = demo::fill(&mut conn);

    let summary = loaded.summary();
    assert!(summary.contains("13 schools"), "{summary}");
    assert!(again.is_err());
    assert!(aggregates::check(&mut conn).unwrap().differences.is_empty());
    drop(conn);
    let r = app.get("/api/v1/reports/shares?scope=province&period=2019-spring&group_by=county", &app.admin()).await;
    r.expect(200);
    assert_eq!(r.json["summary"]["schools"]["schools"], 13);
    assert_eq!(r.json["summary"]["schools"]["silent"], 1);
    // Some purchases are confirmed and paid, the rest overdue; an autumn semester too.
    let settlement = &r.json["summary"]["settlement"];
    assert!(settlement["confirmed_total"] != "0.00" && settlement["paid"] != "0.00" && settlement["unpaid"] != "0.00", "{settlement}");
    let autumn = app.get("/api/v1/reports/shares?scope=province&period=2019-autumn", &app.admin()).await;
    autumn.expect(200);
    assert_ne!(autumn.json["summary"]["total"], "0.00");
    // The reporting cycle it filled: on time, late, missing, amended.
    let status = app.get("/api/v1/reporting/status?period=2019-03-H1&scope=province", &app.admin()).await;
    status.expect(200);
    let of = |code: &str| status.json["rows"].as_array().unwrap().iter().find(|r| r["unit"]["code"] == code).unwrap()["status"].clone();
    assert_eq!(
        (of("520102"), of("522731"), of("520221"), of("522631")),
        (json!("on_time"), json!("late"), json!("missing"), json!("on_time"))
    );

    // Every printed login works, and every printed example answers 200 for its login.
    assert!(loaded.logins.iter().any(|l| l.role == canteen_ledger::domain::role::Role::Admin), "the demo prints an administrator");
    let mut tokens = std::collections::HashMap::new();
    for l in &loaded.logins {
        let r = app.post("/api/v1/auth/token", "", &json!({"username": l.username, "password": l.password})).await;
        r.expect(200);
        assert!(loaded.summary().contains(&l.password), "{} is printed", l.username);
        tokens.insert(l.username.clone(), r.json["access_token"].as_str().unwrap().to_owned());
    }
    for (user, path) in &loaded.examples {
        let r = app.get(path, &tokens[user]).await;
        assert_eq!(r.status.as_u16(), 200, "{user} GET {path}: {}", r.text);
        assert!(loaded.summary().contains(path.as_str()), "{path} is printed");
    }
}

//! The demo fills an empty database with a consistent ledger, and refuses a used one.

use canteen_ledger::service::aggregates;

use crate::demo_tool as demo;

use crate::both_backends;
use crate::helpers::{TestApp, TestDb};

both_backends!(the_demo_fills_an_empty_database_consistently_and_only_once);

async fn the_demo_fills_an_empty_database_consistently_and_only_once(db: TestDb) {
    let app = TestApp::new(db).await;
    let mut conn = app.state.db.get().unwrap();

    let summary = demo::fill(&mut conn).unwrap();
    let again = demo::fill(&mut conn);

    assert!(summary.contains("13 schools"), "{summary}");
    assert!(again.is_err());
    assert!(aggregates::check(&mut conn).unwrap().differences.is_empty());
    drop(conn);
    let r = app.get("/api/v1/reports/shares?scope=province&period=2019-spring&group_by=county", &app.admin()).await;
    r.expect(200);
    assert_eq!(r.json["summary"]["schools"]["schools"], 13);
    assert_eq!(r.json["summary"]["schools"]["silent"], 1);
}

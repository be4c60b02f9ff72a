//! The reporting cycle over HTTP: the calendar of half-monthly deadlines.

use serde_json::Value;

use crate::both_backends;
use crate::helpers::{TestApp, TestDb};

both_backends!(the_calendar_lists_each_deadline_with_the_half_month_it_covers, the_calendar_refuses_years_it_cannot_name);

async fn the_calendar_lists_each_deadline_with_the_half_month_it_covers(db: TestDb) {
    let app = TestApp::new(db).await;
    let token = app.admin();

    let r = app.get("/api/v1/reporting/calendar?year=2019", &token).await;

    r.expect(200);
    assert_eq!(r.json["policy"], "gz-2019");
    assert_eq!(r.json["year"], 2019);
    let deadlines = r.json["deadlines"].as_array().unwrap();
    assert_eq!(deadlines.len(), 19, "30 March, then the 15th and the 30th of April to December");
    let first = &deadlines[0];
    assert_eq!(first["period"], "2019-03-H1");
    assert_eq!(first["label"], "2019年3月上半月");
    assert_eq!((first["from"].as_str(), first["to"].as_str()), (Some("2019-03-01"), Some("2019-03-15")));
    assert_eq!(first["due_on"], "2019-03-30");
    assert_eq!(first["ends_at"], "2019-03-30T16:00:00.000000Z");
    assert_eq!((deadlines[1]["period"].as_str(), deadlines[1]["due_on"].as_str()), (Some("2019-03-H2"), Some("2019-04-15")));

    let leap = app.get("/api/v1/reporting/calendar?year=2020", &token).await;
    leap.expect(200);
    let feb: Vec<&Value> = leap.json["deadlines"].as_array().unwrap().iter().filter(|d| d["period"] == "2020-02-H1").collect();
    assert_eq!(feb[0]["due_on"], "2020-02-29", "February's '30th' is its last day");

    let before = app.get("/api/v1/reporting/calendar?year=2018", &token).await;
    before.expect(200);
    assert_eq!(before.json["deadlines"].as_array().map(Vec::len), Some(0));
}

async fn the_calendar_refuses_years_it_cannot_name(db: TestDb) {
    let app = TestApp::new(db).await;
    let token = app.admin();
    for query in ["year=1999", "year=2101", "year=abc", "year="] {
        let r = app.get(&format!("/api/v1/reporting/calendar?{query}"), &token).await;
        r.problem(422);
        assert_eq!(r.first_field(), "year", "{query}");
    }
}

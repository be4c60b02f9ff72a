//! The reporting cycle over HTTP: the calendar of half-monthly deadlines, and who reports
//! to whom.

use actix_web::http::Method;
use canteen_ledger::domain::role::Role;
use canteen_ledger::startup;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{TestApp, TestDb};

both_backends!(
    the_calendar_lists_each_deadline_with_the_half_month_it_covers,
    the_calendar_refuses_years_it_cannot_name,
    counties_report_to_their_prefecture_but_the_named_two_to_the_province,
    an_administrators_reporting_line_is_audited_and_survives_a_reload,
    a_bad_reporting_line_is_refused_and_writes_nothing
);

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

fn line_of<'a>(lines: &'a Value, county: &str) -> &'a Value {
    lines.as_array().unwrap().iter().find(|l| l["county_code"] == county).unwrap()
}

async fn counties_report_to_their_prefecture_but_the_named_two_to_the_province(db: TestDb) {
    let app = TestApp::new(db).await;

    let r = app.get("/api/v1/reporting/lines", &app.token(&Role::County("520102".into()))).await;

    r.expect(200);
    assert_eq!(r.json.as_array().map(Vec::len), Some(88));
    let nanming = line_of(&r.json, "520102");
    assert_eq!((nanming["reports_to"].as_str(), nanming["reports_to_code"].as_str()), (Some("prefecture"), Some("520100")));
    assert_eq!(nanming["source"], Value::Null);
    for (code, name) in [("520382", "仁怀市"), ("520526", "威宁彝族回族苗族自治县")] {
        let l = line_of(&r.json, code);
        assert_eq!((l["county_name"].as_str(), l["reports_to"].as_str()), (Some(name), Some("province")), "{code}");
        assert_eq!(l["reports_to_code"], Value::Null);
        assert!(l["source"].as_str().unwrap().contains("2019-03-22"), "{l}");
    }
    let direct = r.json.as_array().unwrap().iter().filter(|l| l["reports_to"] == "province").count();
    assert_eq!(direct, 2);
}

async fn an_administrators_reporting_line_is_audited_and_survives_a_reload(db: TestDb) {
    let app = TestApp::new(db).await;
    let admin = app.admin();

    let r = app
        .send(
            Method::PUT,
            "/api/v1/reporting/lines/520382",
            Some(&admin),
            Some(&json!({"reports_to": "prefecture", "source": "省厅2020年调整"})),
            &[],
        )
        .await;
    r.expect(200);
    assert_eq!((r.json["reports_to"].as_str(), r.json["reports_to_code"].as_str()), (Some("prefecture"), Some("520300")));
    let r = app
        .send(Method::PUT, "/api/v1/reporting/lines/520102", Some(&admin), Some(&json!({"reports_to": "province", "source": "test"})), &[])
        .await;
    r.expect(200);

    // Loading the shipped data again (every start does) keeps the administrator's lines.
    let mut conn = app.state.db.get().unwrap();
    let again = startup::prepare(&mut conn).unwrap();
    assert_eq!(again.reference.reporting_lines_added, 0);
    let audit = canteen_ledger::db::repo::audit::list_for_subject(&mut conn, "county", "520382").unwrap();
    drop(conn);
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].action, "county.reporting_line.set");
    let before: Value = serde_json::from_str(audit[0].before_json.as_deref().unwrap()).unwrap();
    assert_eq!(before["reports_to"], "province");
    let lines = app.get("/api/v1/reporting/lines", &admin).await;
    assert_eq!(line_of(&lines.json, "520382")["reports_to"], "prefecture");
    assert_eq!(line_of(&lines.json, "520382")["source"], "省厅2020年调整");
    assert_eq!(line_of(&lines.json, "520102")["reports_to"], "province");
}

async fn a_bad_reporting_line_is_refused_and_writes_nothing(db: TestDb) {
    let app = TestApp::new(db).await;
    let admin = app.admin();
    let put = |code: &'static str, body: Value| {
        let app = &app;
        let admin = admin.clone();
        async move { app.send(Method::PUT, &format!("/api/v1/reporting/lines/{code}"), Some(&admin), Some(&body), &[]).await }
    };

    for (body, field, code) in [
        (json!({"reports_to": "county", "source": "x"}), "reports_to", "unknown_value"),
        (json!({"reports_to": "province", "source": "  "}), "source", "blank"),
        (json!({"reports_to": "province", "source": "a\u{0}b"}), "source", "control_character"),
        (json!({"reports_to": "province", "source": "x".repeat(501)}), "source", "too_long"),
        (json!({"reports_to": "province"}), "source", "required"),
    ] {
        let r = put("520102", body.clone()).await;
        r.problem(422);
        assert_eq!((r.first_field(), r.first_code()), (field, code), "{body}");
    }
    put("999999", json!({"reports_to": "province", "source": "x"})).await.problem(404);
    let r = app
        .send(
            Method::PUT,
            "/api/v1/reporting/lines/520102",
            Some(&app.token(&Role::Province)),
            Some(&json!({"reports_to": "province", "source": "x"})),
            &[],
        )
        .await;
    r.problem(403);

    let lines = app.get("/api/v1/reporting/lines", &admin).await;
    assert_eq!(line_of(&lines.json, "520102")["reports_to"], "prefecture");
}

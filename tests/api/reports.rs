//! Share reports: exact figures, silent vs 0%, exactly 50%, pending, re-evaluation on tag
//! and designation changes, scopes.

use canteen_ledger::domain::role::Role;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{TestApp, TestDb, line};

both_backends!(
    county_report_by_school_is_exact_and_separates_silent_from_zero,
    province_report_by_county_sums_values_not_percentages,
    breakdowns_by_tag_and_category_add_up,
    voids_revocations_and_designation_edits_change_the_numbers,
    report_scopes_are_enforced,
    periods_and_groupings_are_validated,
);

struct World {
    app: TestApp,
    a: String,
    b: String,
    c: String,
    d: String,
    coop_poor_county: String,
    enterprise: String,
    coop_tag: String,
    a_enterprise_purchase: String,
}

/// 南明区 520102 (not a poverty county): schools A, B, C (C silent);
/// 惠水县 522731 (poverty county): school D.
async fn world(db: TestDb) -> World {
    let app = TestApp::new(db).await;
    let a = app.school("520102", "A小学").await;
    let b = app.school("520102", "B小学").await;
    let c = app.school("520102", "C小学").await;
    let d = app.school("522731", "D小学").await;
    let coop_poor_county = app.supplier("522731", "cooperative").await;
    let coop_tag = app.tag(&coop_poor_county, "cooperative", "2019-01-01", None, true).await;
    let coop_rich_county = app.supplier("520102", "cooperative").await;
    app.tag(&coop_rich_county, "cooperative", "2019-01-01", None, true).await;
    let household = app.supplier("522631", "household").await;
    app.tag(&household, "poor_household", "2019-01-01", None, false).await;
    let enterprise = app.supplier("520102", "enterprise").await;

    app.purchase(&a, &coop_poor_county, "2019-03-05", json!([line("vegetables", "10", "jin", "2")])).await.expect(201);
    let ae = app.purchase(&a, &enterprise, "2019-03-05", json!([line("grain", "4", "kg", "5")])).await;
    app.purchase(&a, &enterprise, "2019-03-20", json!([line("grain", "1", "kg", "1")])).await.expect(201);
    app.purchase(&b, &coop_rich_county, "2019-03-10", json!([line("meat_poultry", "1", "kg", "30")])).await.expect(201);
    app.purchase(&b, &household, "2019-03-10", json!([line("eggs", "2", "jin", "5")])).await.expect(201);
    app.purchase(&d, &coop_poor_county, "2019-03-15", json!([line("fruit", "500", "g", "0.02")])).await.expect(201);
    World { a_enterprise_purchase: ae.json["id"].as_str().unwrap().to_owned(), app, a, b, c, d, coop_poor_county, enterprise, coop_tag }
}

fn row<'a>(report: &'a Value, code: &str) -> &'a Value {
    report["rows"].as_array().unwrap().iter().find(|r| r["unit"]["code"] == code || r["breakdown"]["code"] == code).unwrap_or(&Value::Null)
}

async fn county_report_by_school_is_exact_and_separates_silent_from_zero(db: TestDb) {
    let w = world(db).await;
    let tok = w.app.token(&Role::County("520102".into()));

    let r = w.app.get("/api/v1/reports/shares?scope=county:520102&period=2019-03-H1&group_by=school", &tok).await;

    r.expect(200);
    assert_eq!(r.json["policy"], "gz-2019");
    assert_eq!(r.json["target"]["share"], "0.5000");
    assert_eq!((r.json["from"].as_str(), r.json["to"].as_str()), (Some("2019-03-01"), Some("2019-03-15")));
    let a = row(&r.json, &w.a);
    assert_eq!(a["total"], "40.00");
    assert_eq!(a["qualifying"], "20.00");
    assert_eq!(a["share"], "0.5000");
    assert_eq!(a["meets_target"], true, "exactly 50% meets the target");
    assert_eq!(a["shortfall"], "0.00");
    assert_eq!(a["total_weight_kg"], "9.000");
    assert_eq!(a["qualifying_weight_kg"], "5.000");
    assert_eq!(a["silent"], false);
    let b = row(&r.json, &w.b);
    assert_eq!(b["share"], "0.0000");
    assert_eq!(b["pending"], "10.00");
    assert_eq!(b["meets_target"], false);
    assert_eq!(b["shortfall"], "20.00");
    let c = row(&r.json, &w.c);
    assert_eq!(c["share"], Value::Null, "a silent school is not 0%");
    assert_eq!(c["silent"], true);
    assert_eq!(c["meets_target"], Value::Null);
    let s = &r.json["summary"];
    assert_eq!((s["total"].as_str(), s["qualifying"].as_str(), s["share"].as_str()), (Some("80.00"), Some("20.00"), Some("0.2500")));
    assert_eq!(s["shortfall"], "20.00");
    assert_eq!(s["schools"], json!({"schools": 3, "reporting": 2, "meeting_target": 1, "silent": 1}));
    assert_eq!(s["purchases"], 4);
}

async fn province_report_by_county_sums_values_not_percentages(db: TestDb) {
    let w = world(db).await;
    let r = w
        .app
        .get("/api/v1/reports/shares?scope=province&from=2019-03-01&to=2019-03-15&group_by=county", &w.app.token(&Role::Province))
        .await;

    r.expect(200);
    assert_eq!(row(&r.json, "520102")["share"], "0.2500");
    assert_eq!(row(&r.json, "520102")["unit"]["name"], "南明区");
    assert_eq!(row(&r.json, "522731")["share"], "1.0000");
    // 30.00 of 90.00 overall, not the mean of 25% and 100%.
    assert_eq!(r.json["summary"]["qualifying"], "30.00");
    assert_eq!(r.json["summary"]["share"], "0.3333");
    assert_eq!(r.json["summary"]["schools"]["schools"], 4);
    let by_pref =
        w.app.get("/api/v1/reports/shares?scope=province&period=2019-03&group_by=prefecture", &w.app.token(&Role::Province)).await;
    assert_eq!(row(&by_pref.json, "520100")["total"], "81.00");
    assert_eq!(row(&by_pref.json, "522700")["total"], "10.00");
}

async fn breakdowns_by_tag_and_category_add_up(db: TestDb) {
    let w = world(db).await;
    let tok = w.app.token(&Role::County("520102".into()));
    let tags = w.app.get("/api/v1/reports/shares?scope=county:520102&period=2019-03-H1&group_by=tag", &tok).await;
    assert_eq!(row(&tags.json, "cooperative")["qualifying"], "20.00");
    assert_eq!(row(&tags.json, "cooperative")["share"], "0.2500");
    assert_eq!(row(&tags.json, "poor_household")["pending"], "10.00");
    assert_eq!(row(&tags.json, "poor_household")["qualifying"], "0.00");
    let cats = w.app.get("/api/v1/reports/shares?scope=county:520102&period=2019-03-H1&group_by=category", &tok).await;
    assert_eq!(row(&cats.json, "vegetables")["share"], "1.0000");
    assert_eq!(row(&cats.json, "grain")["total"], "20.00");
    assert_eq!(row(&cats.json, "fruit")["share"], Value::Null);
    let sum: i64 =
        cats.json["rows"].as_array().unwrap().iter().map(|r| r["total"].as_str().unwrap().replace('.', "").parse::<i64>().unwrap()).sum();
    assert_eq!(sum, 8000);
    let by_period = w.app.get("/api/v1/reports/shares?scope=county:520102&period=2019-03&group_by=period", &tok).await;
    let periods: Vec<(&str, &str)> = by_period.json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["period"]["label"].as_str().unwrap(), r["total"].as_str().unwrap()))
        .collect();
    assert_eq!(periods, [("2019-03-H1", "80.00"), ("2019-03-H2", "1.00")]);
}

async fn voids_revocations_and_designation_edits_change_the_numbers(db: TestDb) {
    let w = world(db).await;
    let app = &w.app;
    let tok = app.token(&Role::Province);
    let url = "/api/v1/reports/shares?scope=province&period=2019-03-H1&group_by=school";

    app.post(
        &format!("/api/v1/purchases/{}/void", w.a_enterprise_purchase),
        &app.token(&Role::Canteen(w.a.clone())),
        &json!({"reason": "wrong"}),
    )
    .await
    .expect(201);
    let r = app.get(url, &tok).await;
    assert_eq!(row(&r.json, &w.a)["total"], "20.00");
    assert_eq!(row(&r.json, &w.a)["share"], "1.0000");
    assert_eq!(row(&r.json, &w.a)["purchases"], 1);

    // The bureau of 惠水县 revokes the cooperative tag: A's and D's purchases stop counting.
    let huishui = app.token(&Role::County("522731".into()));
    let rev = app
        .post(&format!("/api/v1/suppliers/{}/tags/{}/revoke", w.coop_poor_county, w.coop_tag), &huishui, &json!({"reason": "dissolved"}))
        .await;
    rev.expect(200);
    assert_eq!(rev.json["reclassified_purchases"], 2);
    let r = app.get(url, &tok).await;
    assert_eq!(row(&r.json, &w.a)["qualifying"], "0.00");
    assert_eq!(row(&r.json, &w.d)["qualifying"], "0.00");

    // A new verified tag, then the county loses its designation from 2019-03-11 on.
    app.tag(&w.coop_poor_county, "cooperative", "2019-01-01", None, true).await;
    let edit = json!({"designations": [{"valid_from": "2014-01-01", "valid_to": "2019-03-10", "note": "test"}]});
    app.send(actix_web::http::Method::PUT, "/api/v1/counties/522731/designations", Some(&app.admin()), Some(&edit), &[]).await.expect(200);
    let r = app.get(url, &tok).await;
    assert_eq!(row(&r.json, &w.a)["qualifying"], "20.00", "03-05 is inside the designation");
    assert_eq!(row(&r.json, &w.d)["qualifying"], "0.00", "03-15 is after it");
    let _ = &w.enterprise;
}

async fn report_scopes_are_enforced(db: TestDb) {
    let w = world(db).await;
    let app = &w.app;
    let other_county = app.token(&Role::County("522731".into()));
    app.get("/api/v1/reports/shares?scope=county:520102&period=2019", &other_county).await.problem(403);
    app.get("/api/v1/reports/shares?scope=province&period=2019", &other_county).await.problem(403);
    app.get("/api/v1/reports/shares?scope=prefecture:520100&period=2019", &app.token(&Role::Prefecture("522700".into())))
        .await
        .problem(403);
    app.get("/api/v1/reports/shares?scope=prefecture:520100&period=2019", &app.token(&Role::Prefecture("520100".into()))).await.expect(200);
    app.get(&format!("/api/v1/reports/shares?scope=school:{}&period=2019", w.a), &app.token(&Role::Canteen(w.a.clone()))).await.expect(200);
    app.get(&format!("/api/v1/reports/shares?scope=school:{}&period=2019", w.b), &app.token(&Role::Canteen(w.a.clone())))
        .await
        .problem(404);
    app.get("/api/v1/reports/shares?scope=county:520102&period=2019", &app.token(&Role::Supplier(w.enterprise.clone()))).await.problem(403);
    app.get("/api/v1/reports/shares?scope=county:999999&period=2019", &app.admin()).await.problem(404);
    let _ = (&w.c, &w.d);
}

async fn periods_and_groupings_are_validated(db: TestDb) {
    let app = TestApp::new(db).await;
    let admin = app.admin();
    for (query, field) in [
        ("scope=province&period=2019-13", "period"),
        ("scope=province", "from"),
        ("scope=province&from=2019-03-02&to=2019-03-01", "from"),
        ("scope=province&period=2019&from=2019-01-01&to=2019-01-02", "period"),
        ("scope=planet&period=2019", "scope"),
        ("scope=province&period=2019&group_by=county,school", "group_by"),
        ("scope=province&period=2019&group_by=weather", "group_by"),
        ("scope=province&period=2019&period_kind=month", "period_kind"),
    ] {
        let r = app.get(&format!("/api/v1/reports/shares?{query}"), &admin).await;
        r.problem(422);
        assert_eq!(r.first_field(), field, "{query}");
    }
}

//! Report features: rankings and `below_target`, silent-school lists, per-year targets
//! (audited, with history) and the reports that apply them, CSV and XLSX exports that
//! hold exactly the JSON's figures, and the semi-monthly county workbook.

use std::collections::HashMap;
use std::io::Cursor;

use actix_web::test as atest;
use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use canteen_ledger::app;
use canteen_ledger::db::repo::audit;
use canteen_ledger::domain::role::Role;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{TestApp, TestDb, line};

both_backends!(
    rankings_order_by_share_shortfall_and_total_with_silent_rows_last,
    below_target_keeps_only_reporting_units_that_miss_the_target,
    ranking_parameters_are_validated,
    silent_schools_are_listed_per_county_for_the_period,
    the_province_sets_a_target_that_reports_then_apply,
    only_the_province_or_an_administrator_sets_targets,
    improper_targets_and_years_out_of_range_are_422,
    target_history_keeps_every_value_in_order,
    csv_export_has_a_bom_and_the_json_figures_exactly,
    xlsx_export_has_the_json_figures_exactly,
    silent_schools_export_as_csv_and_xlsx,
    semi_monthly_workbook_has_four_sheets_and_every_school,
    semi_monthly_report_needs_a_half_month_and_county_access,
);

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const H1: &str = "/api/v1/reports/shares?scope=county:520102&period=2019-03-H1&group_by=school";

struct World {
    app: TestApp,
    a: String,
    b: String,
    c: String,
    e: String,
    f: String,
}

/// 南明区 520102 (not a poverty county), first half of March 2019:
/// A 20.00 of 40.00 qualifying (50%), B 0.00 of 45.00 (10.00 pending), C silent (buys on
/// the 20th), E 10.00 of 30.00. 惠水县 522731 (poverty county): D 10.00 of 10.00, F silent.
async fn world(db: TestDb) -> World {
    let app = TestApp::new(db).await;
    let a = app.school("520102", "A小学").await;
    let b = app.school("520102", "B小学").await;
    let c = app.school("520102", "C小学").await;
    let d = app.school("522731", "D小学").await;
    let e = app.school("520102", "E中学").await;
    let f = app.school("522731", "F小学").await;
    let coop_poor_county = app.supplier("522731", "cooperative").await;
    app.tag(&coop_poor_county, "cooperative", "2019-01-01", None, true).await;
    let coop_rich_county = app.supplier("520102", "cooperative").await;
    app.tag(&coop_rich_county, "cooperative", "2019-01-01", None, true).await;
    let household = app.supplier("522631", "household").await;
    app.tag(&household, "poor_household", "2019-01-01", None, false).await;
    let enterprise = app.supplier("520102", "enterprise").await;

    for (school, supplier, date, l) in [
        (&a, &coop_poor_county, "2019-03-05", line("vegetables", "10", "jin", "2")),
        (&a, &enterprise, "2019-03-05", line("grain", "4", "kg", "5")),
        (&b, &coop_rich_county, "2019-03-10", line("meat_poultry", "1", "kg", "35")),
        (&b, &household, "2019-03-10", line("eggs", "2", "jin", "5")),
        (&e, &coop_poor_county, "2019-03-11", line("fruit", "5", "kg", "2")),
        (&e, &enterprise, "2019-03-11", line("grain", "4", "kg", "5")),
        (&d, &coop_poor_county, "2019-03-15", line("fruit", "500", "g", "0.02")),
        (&c, &enterprise, "2019-03-20", line("grain", "1", "kg", "1")),
    ] {
        app.purchase(school, supplier, date, json!([l])).await.expect(201);
    }
    World { app, a, b, c, e, f }
}

fn county_token() -> Role {
    Role::County("520102".into())
}

/// The school ids of a report's rows, in order.
fn unit_codes(report: &Value) -> Vec<String> {
    report["rows"].as_array().unwrap().iter().map(|r| r["unit"]["code"].as_str().unwrap().to_owned()).collect()
}

fn row<'a>(report: &'a Value, code: &str) -> &'a Value {
    report["rows"].as_array().unwrap().iter().find(|r| r["unit"]["code"] == code).unwrap_or(&Value::Null)
}

/// Status, headers and raw body bytes (the helpers' `Resp` holds text only).
async fn fetch(app: &TestApp, path: &str, token: &str, accept: Option<&str>) -> (u16, HashMap<String, String>, Vec<u8>) {
    let svc = atest::init_service(app::build(app.state.clone()).0).await;
    let mut req = atest::TestRequest::get().uri(path).insert_header(("Authorization", format!("Bearer {token}")));
    if let Some(a) = accept {
        req = req.insert_header(("Accept", a));
    }
    let res = atest::call_service(&svc, req.to_request()).await;
    let status = res.status().as_u16();
    let headers =
        res.headers().iter().map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned())).collect::<HashMap<_, _>>();
    let body = atest::read_body(res).await.to_vec();
    (status, headers, body)
}

/// A CSV export as a header row and records (after checking and dropping the BOM).
fn parse_csv(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "CSV starts with a UTF-8 BOM");
    let mut r = csv::Reader::from_reader(&bytes[3..]);
    let headers = r.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = r.records().map(|rec| rec.unwrap().iter().map(str::to_owned).collect()).collect();
    (headers, rows)
}

/// A cell as the text the CSV would hold; counts must be integral numbers.
fn cell_text(d: &Data) -> String {
    match d {
        Data::String(s) => s.clone(),
        Data::Float(f) => {
            assert_eq!(f.fract(), 0.0, "counts are whole numbers");
            format!("{}", *f as i64)
        }
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::Empty => String::new(),
        other => panic!("unexpected cell {other:?}"),
    }
}

/// Every sheet of a workbook: name → (header, rows as CSV-like text), in sheet order.
fn parse_xlsx(bytes: &[u8]) -> Vec<(String, Vec<String>, Vec<Vec<String>>)> {
    let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    let names = wb.sheet_names();
    names
        .into_iter()
        .map(|name| {
            let range = wb.worksheet_range(&name).unwrap();
            let mut rows = range.rows().map(|r| r.iter().map(cell_text).collect::<Vec<_>>());
            let header = rows.next().unwrap_or_default();
            (name, header, rows.collect())
        })
        .collect()
}

/// The raw XLSX cells of one sheet (to check cell types).
fn xlsx_cells(bytes: &[u8], sheet: &str) -> Vec<Vec<Data>> {
    let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    wb.worksheet_range(sheet).unwrap().rows().map(<[Data]>::to_vec).collect()
}

/// A JSON value as export text: strings as is, `null` as empty.
fn json_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Checks every exported share row against the JSON report, column by column.
fn assert_share_table_matches(report: &Value, headers: &[String], rows: &[Vec<String>]) {
    let col = |name: &str| headers.iter().position(|h| h.ends_with(&format!(" {name}"))).unwrap_or_else(|| panic!("column {name}"));
    assert_eq!(rows.len(), 1 + report["rows"].as_array().unwrap().len(), "the summary row and every row");
    let json_rows = std::iter::once(&report["summary"]).chain(report["rows"].as_array().unwrap());
    for (i, (exported, j)) in rows.iter().zip(json_rows).enumerate() {
        let get = |name: &str| exported[col(name)].as_str();
        assert_eq!(get("row"), if i == 0 { "summary" } else { "row" });
        let unit = if i == 0 { &report["scope"] } else { &j["unit"] };
        assert_eq!(get("unit_code"), json_text(&unit["code"]));
        assert_eq!(get("unit_name"), json_text(&unit["name"]));
        for field in ["total", "qualifying", "pending", "share", "meets_target", "shortfall", "total_weight_kg", "qualifying_weight_kg"] {
            assert_eq!(get(field), json_text(&j[field]), "row {i} {field}");
        }
        assert_eq!(get("purchases"), j["purchases"].to_string());
        assert_eq!(get("silent"), json_text(&j["silent"]));
        for field in ["confirmed_total", "confirmed_qualifying", "confirmed_share", "paid", "unpaid"] {
            assert_eq!(get(field), json_text(&j["settlement"][field]), "row {i} {field}");
        }
        for field in ["schools", "reporting", "meeting_target"] {
            assert_eq!(get(field), json_text(&j["schools"][field]), "row {i} {field}");
        }
        assert_eq!(get("silent_schools"), json_text(&j["schools"]["silent"]));
        assert_eq!(get("policy"), report["policy"].as_str().unwrap());
        assert_eq!(get("target"), report["target"]["share"].as_str().unwrap());
        assert_eq!(get("target_fraction"), format!("{}/{}", report["target"]["numerator"], report["target"]["denominator"]));
        assert_eq!(get("from"), report["from"].as_str().unwrap());
        assert_eq!(get("to"), report["to"].as_str().unwrap());
    }
}

async fn rankings_order_by_share_shortfall_and_total_with_silent_rows_last(db: TestDb) {
    let w = world(db).await;
    let tok = w.app.token(&county_token());
    let order = |q: &'static str| {
        let app = &w.app;
        let tok = tok.clone();
        async move {
            let r = app.get(&format!("{H1}&{q}"), &tok).await;
            r.expect(200);
            unit_codes(&r.json)
        }
    };
    let (a, b, c, e) = (w.a.as_str(), w.b.as_str(), w.c.as_str(), w.e.as_str());

    assert_eq!(order("order_by=share").await, [b, e, a, c], "lowest share first by default; silent last");
    assert_eq!(order("order_by=share&order=desc").await, [a, e, b, c], "silent last either way");
    assert_eq!(order("order_by=shortfall").await, [b, e, a, c], "largest shortfall first by default");
    assert_eq!(order("order_by=shortfall&order=asc").await, [a, e, b, c]);
    assert_eq!(order("order_by=total").await, [b, a, e, c], "largest total first by default");
    assert_eq!(order("order_by=total&order=asc").await, [e, a, b, c]);

    let r = w.app.get(&format!("{H1}&order_by=shortfall"), &tok).await;
    let shortfalls: Vec<&str> = r.json["rows"].as_array().unwrap().iter().map(|r| r["shortfall"].as_str().unwrap()).collect();
    assert_eq!(shortfalls, ["22.50", "5.00", "0.00", "0.00"]);
    assert_eq!(r.json["summary"]["total"], "115.00", "ranking leaves the summary alone");

    let counties =
        w.app.get("/api/v1/reports/shares?scope=province&period=2019-03-H1&group_by=county&order_by=share", &w.app.admin()).await;
    assert_eq!(unit_codes(&counties.json), ["520102", "522731"], "26.09% before 100%");
}

async fn below_target_keeps_only_reporting_units_that_miss_the_target(db: TestDb) {
    let w = world(db).await;
    let tok = w.app.token(&county_token());

    let r = w.app.get(&format!("{H1}&below_target=true&order_by=shortfall"), &tok).await;

    r.expect(200);
    assert_eq!(unit_codes(&r.json), [w.b.as_str(), w.e.as_str()], "A meets exactly 50%; silent C is not below target");
    assert!(r.json["rows"].as_array().unwrap().iter().all(|r| r["meets_target"] == false));
    let all = w.app.get(&format!("{H1}&below_target=false"), &tok).await;
    assert_eq!(all.json["rows"].as_array().unwrap().len(), 4);
    let by_county =
        w.app.get("/api/v1/reports/shares?scope=province&period=2019-03-H1&group_by=county&below_target=true", &w.app.admin()).await;
    assert_eq!(unit_codes(&by_county.json), ["520102"]);
}

async fn ranking_parameters_are_validated(db: TestDb) {
    let app = TestApp::new(db).await;
    let admin = app.admin();
    for (query, field) in [
        ("order_by=weather", "order_by"),
        ("order_by=share&order=sideways", "order"),
        ("order=asc", "order"),
        ("below_target=maybe", "below_target"),
        ("format=pdf", "format"),
    ] {
        let r = app.get(&format!("/api/v1/reports/shares?scope=province&period=2019&group_by=county&{query}"), &admin).await;
        r.problem(422);
        assert_eq!(r.first_field(), field, "{query}");
    }
    let r = app.get("/api/v1/reports/shares?scope=province&period=2019&group_by=tag&below_target=true", &admin).await;
    r.problem(422);
    assert_eq!(r.first_field(), "below_target");
}

async fn silent_schools_are_listed_per_county_for_the_period(db: TestDb) {
    let w = world(db).await;
    let app = &w.app;

    let r = app.get("/api/v1/reports/silent-schools?scope=province&period=2019-03-H1", &app.token(&Role::Province)).await;

    r.expect(200);
    assert_eq!(r.json["policy"], "gz-2019");
    assert_eq!(r.json["target"]["share"], "0.5000");
    assert_eq!(r.json["scope"]["kind"], "province");
    assert_eq!((r.json["from"].as_str(), r.json["to"].as_str()), (Some("2019-03-01"), Some("2019-03-15")));
    assert_eq!(r.json["schools"], 6);
    assert_eq!(
        r.json["silent"],
        json!([
            {"prefecture_code": "520100", "prefecture_name": "贵阳市", "county_code": "520102", "county_name": "南明区",
             "school_id": w.c, "school_name": "C小学"},
            {"prefecture_code": "522700", "prefecture_name": "黔南布依族苗族自治州", "county_code": "522731", "county_name": "惠水县",
             "school_id": w.f, "school_name": "F小学"},
        ])
    );
    let month = app.get("/api/v1/reports/silent-schools?scope=county:520102&period=2019-03", &app.token(&county_token())).await;
    month.expect(200);
    assert_eq!(month.json["silent"], json!([]), "C bought on the 20th");
    let range = app.get("/api/v1/reports/silent-schools?scope=county:522731&from=2019-03-01&to=2019-03-31", &app.admin()).await;
    let ids: Vec<&str> = range.json["silent"].as_array().unwrap().iter().map(|s| s["school_id"].as_str().unwrap()).collect();
    assert_eq!(ids, [w.f.as_str()]);
    app.get("/api/v1/reports/silent-schools?scope=county:522731&period=2019-03", &app.token(&county_token())).await.problem(403);
    app.get("/api/v1/reports/silent-schools?scope=province&period=2019-03", &app.token(&county_token())).await.problem(403);
    app.get("/api/v1/reports/silent-schools?scope=county:999999&period=2019-03", &app.admin()).await.problem(404);
    let bad = app.get("/api/v1/reports/silent-schools?scope=province", &app.admin()).await;
    bad.problem(422);
    assert_eq!(bad.first_field(), "from");
}

async fn the_province_sets_a_target_that_reports_then_apply(db: TestDb) {
    let w = world(db).await;
    let app = &w.app;
    let province = app.token(&Role::Province);

    let put = app
        .send(actix_web::http::Method::PUT, "/api/v1/targets/2019", Some(&province), Some(&json!({"numerator": 2, "denominator": 3})), &[])
        .await;

    put.expect(200);
    assert_eq!(
        (put.json["year"].as_i64(), put.json["numerator"].as_i64(), put.json["denominator"].as_i64()),
        (Some(2019), Some(2), Some(3))
    );
    assert_eq!(put.json["share"], "0.6667");
    assert!(put.json["set_by"].as_str().unwrap().starts_with("province"), "{}", put.json);
    let r = app.get(H1, &app.token(&county_token())).await;
    assert_eq!(r.json["target"], json!({"numerator": 2, "denominator": 3, "share": "0.6667"}));
    let a = row(&r.json, &w.a);
    assert_eq!(a["meets_target"], false, "50% no longer meets 2/3");
    assert_eq!(a["shortfall"], "6.67", "⌈40.00 × 2/3⌉ − 20.00, rounded up to the fen");
    assert_eq!(row(&r.json, &w.b)["shortfall"], "30.00");
    assert_eq!(row(&r.json, &w.e)["shortfall"], "10.00");
    assert_eq!(r.json["summary"]["shortfall"], "46.67");
    assert_eq!(r.json["summary"]["schools"]["meeting_target"], 0);
    let list = app.get("/api/v1/targets", &app.token(&Role::Canteen(w.a.clone()))).await;
    list.expect(200);
    let years: Vec<(i64, &str)> =
        list.json.as_array().unwrap().iter().map(|t| (t["year"].as_i64().unwrap(), t["share"].as_str().unwrap())).collect();
    assert_eq!(years, [(2019, "0.6667"), (2020, "0.5000")]);
    let mut conn = app.state.db.get().unwrap();
    let trail = audit::list_for_subject(&mut conn, "target", "2019").unwrap();
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0].action, "target.set");
    assert!(trail[0].before_json.as_deref().unwrap().contains("\"numerator\":1"));
    assert!(trail[0].after_json.as_deref().unwrap().contains("\"denominator\":3"));
    // A range over years with different targets must be reported per year.
    let mixed = app.get("/api/v1/reports/shares?scope=county:520102&from=2019-12-16&to=2020-01-15", &app.admin()).await;
    mixed.problem(422);
    assert_eq!(mixed.first_code(), "mixed_targets");
}

async fn only_the_province_or_an_administrator_sets_targets(db: TestDb) {
    let w = world(db).await;
    let app = &w.app;
    let body = json!({"numerator": 2, "denominator": 3});
    let put = |role: Role| {
        let tok = app.token(&role);
        let body = body.clone();
        async move { app.send(actix_web::http::Method::PUT, "/api/v1/targets/2019", Some(&tok), Some(&body), &[]).await }
    };

    put(county_token()).await.problem(403);
    put(Role::Prefecture("520100".into())).await.problem(403);
    put(Role::Canteen(w.a.clone())).await.problem(403);
    put(Role::Admin).await.expect(200);
    put(Role::Province).await.expect(200);
    app.send(actix_web::http::Method::PUT, "/api/v1/targets/2019", None, Some(&body), &[]).await.problem(401);
    let r = app.get(H1, &app.admin()).await;
    assert_eq!(r.json["target"]["share"], "0.6667");
}

async fn improper_targets_and_years_out_of_range_are_422(db: TestDb) {
    let app = TestApp::new(db).await;
    let tok = app.token(&Role::Province);
    for (year, body, field) in [
        (2019, json!({"numerator": 3, "denominator": 2}), "numerator"),
        (2019, json!({"numerator": -1, "denominator": 2}), "numerator"),
        (2019, json!({"numerator": 1, "denominator": 0}), "denominator"),
        (2013, json!({"numerator": 1, "denominator": 2}), "year"),
        (2101, json!({"numerator": 1, "denominator": 2}), "year"),
        (2019, json!({"numerator": 1}), "denominator"),
        (2019, json!({"numerator": "1", "denominator": 2}), "numerator"),
        (2019, json!({"numerator": 1, "denominator": 2, "share": "0.5"}), "share"),
    ] {
        let r = app.send(actix_web::http::Method::PUT, &format!("/api/v1/targets/{year}"), Some(&tok), Some(&body), &[]).await;
        r.problem(422);
        assert_eq!(r.first_field(), field, "{year} {body}");
    }
    let list = app.get("/api/v1/targets", &tok).await;
    assert_eq!(list.json.as_array().unwrap().len(), 2, "nothing was written");
    app.get("/api/v1/targets/1999/history", &tok).await.problem(422);
}

async fn target_history_keeps_every_value_in_order(db: TestDb) {
    let app = TestApp::new(db).await;
    let tok = app.token(&Role::Province);
    let put = |year: i32, n: i64, d: i64| {
        let tok = tok.clone();
        let app = &app;
        async move {
            app.send(
                actix_web::http::Method::PUT,
                &format!("/api/v1/targets/{year}"),
                Some(&tok),
                Some(&json!({"numerator": n, "denominator": d})),
                &[],
            )
            .await
            .expect(200);
        }
    };
    let fractions = |h: &Value| -> Vec<(i64, i64)> {
        h.as_array().unwrap().iter().map(|t| (t["numerator"].as_i64().unwrap(), t["denominator"].as_i64().unwrap())).collect()
    };
    let reader = app.token(&Role::Supplier("s1".into()));
    assert_eq!(app.get("/api/v1/targets/2021/history", &reader).await.json, json!([]), "never set: 50% applies");

    put(2021, 1, 2).await;
    put(2021, 3, 5).await;

    let h = app.get("/api/v1/targets/2021/history", &reader).await;
    h.expect(200);
    assert_eq!(fractions(&h.json), [(1, 2), (3, 5)]);
    assert_eq!(h.json[1]["share"], "0.6000");
    let seeded = app.get("/api/v1/targets/2019/history", &reader).await;
    assert_eq!(fractions(&seeded.json), [(1, 2)]);
    assert_eq!(seeded.json[0]["set_by"], "system");
    put(2019, 2, 3).await;
    let h = app.get("/api/v1/targets/2019/history", &reader).await;
    assert_eq!(fractions(&h.json), [(1, 2), (2, 3)], "the seeded value stays first in the trail");
    assert_eq!(h.json[0]["set_by"], "system");
}

async fn csv_export_has_a_bom_and_the_json_figures_exactly(db: TestDb) {
    let w = world(db).await;
    let tok = w.app.token(&county_token());
    let json = w.app.get(&format!("{H1}&order_by=share"), &tok).await;

    let (status, headers, bytes) = fetch(&w.app, &format!("{H1}&order_by=share&format=csv"), &tok, None).await;

    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    assert!(headers["content-disposition"].starts_with("attachment; filename=\"shares_county-520102_2019-03-01_2019-03-15"));
    assert!(headers["content-disposition"].ends_with(".csv\""));
    let (header, rows) = parse_csv(&bytes);
    assert_eq!(header[2], "单位代码 unit_code");
    assert_share_table_matches(&json.json, &header, &rows);
    assert!(rows.iter().any(|r| r.contains(&"B小学".to_owned())), "Chinese names survive");
    assert!(rows.iter().any(|r| r.contains(&"22.50".to_owned())), "amounts keep their two places");
    // The same file by content negotiation.
    let (status, headers, again) = fetch(&w.app, &format!("{H1}&order_by=share"), &tok, Some("text/csv")).await;
    assert_eq!((status, headers["content-type"].as_str()), (200, "text/csv; charset=utf-8"));
    assert_eq!(again, bytes);
    let (_, headers, _) = fetch(&w.app, H1, &tok, Some("application/json")).await;
    assert_eq!(headers["content-type"], "application/json");
}

async fn xlsx_export_has_the_json_figures_exactly(db: TestDb) {
    let w = world(db).await;
    let tok = w.app.token(&Role::Province);
    for query in [H1.to_owned(), "/api/v1/reports/shares?scope=province&period=2019-03&group_by=county,period".to_owned()] {
        let json = w.app.get(&query, &tok).await;
        json.expect(200);

        let (status, headers, bytes) = fetch(&w.app, &query, &tok, Some(XLSX)).await;

        assert_eq!(status, 200);
        assert_eq!(headers["content-type"], XLSX);
        assert!(headers["content-disposition"].ends_with(".xlsx\""));
        let sheets = parse_xlsx(&bytes);
        assert_eq!(sheets.len(), 1);
        let (_, header, rows) = &sheets[0];
        assert_share_table_matches(&json.json, header, rows);
        let (_, _, csv_bytes) = fetch(&w.app, &format!("{query}&format=csv"), &tok, None).await;
        assert_eq!(parse_csv(&csv_bytes), (header.clone(), rows.clone()), "CSV and XLSX hold the same table");
    }
    // Amounts are exact text cells; counts are numbers; flags are booleans.
    let (_, _, bytes) = fetch(&w.app, &format!("{H1}&format=xlsx"), &tok, None).await;
    let cells = xlsx_cells(&bytes, "报表 Report");
    let col = |name: &str| cells[0].iter().position(|h| matches!(h, Data::String(s) if s.ends_with(&format!(" {name}")))).unwrap();
    assert_eq!(cells[0][col("total")], Data::String("采购总额 total".into()));
    assert_eq!(cells[1][col("total")], Data::String("115.00".into()));
    assert_eq!(cells[1][col("purchases")], Data::Float(6.0));
    assert_eq!(cells[1][col("meets_target")], Data::Bool(false));
    assert!(cells.iter().skip(2).any(|r| r[col("share")] == Data::Empty && r[col("silent")] == Data::Bool(true)), "silent: no share");
}

async fn silent_schools_export_as_csv_and_xlsx(db: TestDb) {
    let w = world(db).await;
    let tok = w.app.token(&Role::Province);
    let url = "/api/v1/reports/silent-schools?scope=province&period=2019-03-H1";

    let (status, headers, bytes) = fetch(&w.app, &format!("{url}&format=csv"), &tok, None).await;

    assert_eq!(status, 200);
    assert!(headers["content-disposition"].starts_with("attachment; filename=\"silent-schools_province"));
    let (header, rows) = parse_csv(&bytes);
    assert_eq!(
        &header[..6],
        [
            "市州代码 prefecture_code",
            "市州名称 prefecture_name",
            "县代码 county_code",
            "县名称 county_name",
            "学校编号 school_id",
            "学校名称 school_name"
        ]
    );
    let schools: Vec<(&str, &str, &str, &str)> =
        rows.iter().map(|r| (r[2].as_str(), r[3].as_str(), r[4].as_str(), r[5].as_str())).collect();
    assert_eq!(schools, [("520102", "南明区", w.c.as_str(), "C小学"), ("522731", "惠水县", w.f.as_str(), "F小学")]);
    let (_, headers, xlsx) = fetch(&w.app, url, &tok, Some(XLSX)).await;
    assert_eq!(headers["content-type"], XLSX);
    let sheets = parse_xlsx(&xlsx);
    assert_eq!((sheets[0].1.clone(), sheets[0].2.clone()), (header, rows));
}

async fn semi_monthly_workbook_has_four_sheets_and_every_school(db: TestDb) {
    let w = world(db).await;
    let tok = w.app.token(&county_token());
    let json = w.app.get(H1, &tok).await;

    let (status, headers, bytes) = fetch(&w.app, "/api/v1/reports/semi-monthly?county=520102&period=2019-03-H1", &tok, None).await;

    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], XLSX);
    assert_eq!(headers["content-disposition"], "attachment; filename=\"semi-monthly_520102_2019-03-H1.xlsx\"");
    let sheets = parse_xlsx(&bytes);
    let names: Vec<&str> = sheets.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(names, ["汇总 Summary", "学校 Schools", "标签 Tags", "品类 Categories"]);
    let table = |i: usize| {
        let (_, header, rows) = &sheets[i];
        rows.iter()
            .map(|r| header.iter().map(|h| h.rsplit(' ').next().unwrap().to_owned()).zip(r.iter().cloned()).collect())
            .collect::<Vec<HashMap<String, String>>>()
    };
    let summary = table(0);
    assert_eq!(summary.len(), 1);
    let s = &summary[0];
    for (k, v) in [
        ("county_code", "520102"),
        ("county_name", "南明区"),
        ("period", "2019-03-H1"),
        ("from", "2019-03-01"),
        ("to", "2019-03-15"),
        ("policy", "gz-2019"),
        ("target", "0.5000"),
        ("target_fraction", "1/2"),
    ] {
        assert_eq!(s[k], v, "{k}");
    }
    for k in ["total", "qualifying", "pending", "share", "meets_target", "shortfall", "purchases"] {
        assert_eq!(s[k], json_text(&json.json["summary"][k]), "{k}");
    }
    assert_eq!((s["schools"].as_str(), s["silent_schools"].as_str()), ("4", "1"));
    let schools = table(1);
    assert_eq!(schools.len(), 4, "every school of the county");
    for jrow in json.json["rows"].as_array().unwrap() {
        let id = jrow["unit"]["code"].as_str().unwrap();
        let x = schools.iter().find(|r| r["school_id"] == id).unwrap_or_else(|| panic!("school {id}"));
        assert_eq!(x["school_name"], jrow["unit"]["name"].as_str().unwrap());
        for k in ["total", "qualifying", "pending", "share", "meets_target", "shortfall", "silent", "purchases"] {
            assert_eq!(x[k], json_text(&jrow[k]), "{id} {k}");
        }
    }
    assert_eq!(schools.iter().find(|r| r["school_id"] == w.c).unwrap()["silent"], "true");
    let tags = table(2);
    let tag_json = w.app.get("/api/v1/reports/shares?scope=county:520102&period=2019-03-H1&group_by=tag", &tok).await;
    assert_eq!(tags.len(), tag_json.json["rows"].as_array().unwrap().len());
    let coop = tags.iter().find(|r| r["tag"] == "cooperative").unwrap();
    assert_eq!((coop["qualifying"].as_str(), coop["share"].as_str()), ("30.00", "0.2609"));
    assert_eq!(tags.iter().find(|r| r["tag"] == "poor_household").unwrap()["pending"], "10.00");
    let categories = table(3);
    assert_eq!(categories.len(), 11);
    let grain = categories.iter().find(|r| r["category"] == "grain").unwrap();
    assert_eq!((grain["total"].as_str(), grain["qualifying"].as_str(), grain["share"].as_str()), ("40.00", "0.00", "0.0000"));
    assert_eq!(categories.iter().find(|r| r["category"] == "dairy").unwrap()["share"], "");
}

async fn semi_monthly_report_needs_a_half_month_and_county_access(db: TestDb) {
    let w = world(db).await;
    let app = &w.app;
    let url = |period: &str| format!("/api/v1/reports/semi-monthly?county=520102&period={period}");
    for period in ["2019-03", "2019", "2019-Q1", "2019-03-H3", "2019-13-H1"] {
        let r = app.get(&url(period), &app.admin()).await;
        r.problem(422);
        assert_eq!(r.first_field(), "period", "{period}");
    }
    let r = app.get("/api/v1/reports/semi-monthly?county=52&period=2019-03-H1", &app.admin()).await;
    r.problem(422);
    assert_eq!(r.first_field(), "county");
    app.get(&url("2019-03-H2"), &app.token(&Role::County("522731".into()))).await.problem(403);
    app.get(&url("2019-03-H2"), &app.token(&Role::Prefecture("522700".into()))).await.problem(403);
    app.get(&url("2019-03-H2"), &app.token(&Role::Canteen(w.a.clone()))).await.problem(403);
    app.get("/api/v1/reports/semi-monthly?county=999999&period=2019-03-H1", &app.admin()).await.problem(404);
    for role in [Role::Prefecture("520100".into()), Role::Province, Role::Admin, county_token()] {
        let r = app.get(&url("2019-03-H2"), &app.token(&role)).await;
        r.expect(200);
        assert_eq!(r.header("content-type"), Some(XLSX), "{role}");
    }
}

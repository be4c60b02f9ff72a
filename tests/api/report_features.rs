//! Report features: rankings and `below_target`, silent-school lists, per-year targets
//! (audited, with history) and the reports that apply them, CSV and XLSX exports that
//! hold exactly the JSON's figures, and the semi-monthly county workbook.

use std::collections::HashMap;
use std::io::Cursor;

use actix_web::test as atest;
use calamine::{Data, Reader, SheetVisible, Xlsx, open_workbook_from_rs};
use canteen_ledger::app;
use canteen_ledger::db::repo::audit;
use canteen_ledger::domain::role::Role;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{TestApp, TestDb, export, line};

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

/// A cell of a hidden twin: every one is the text the CSV holds.
fn cell_text(d: &Data) -> String {
    match d {
        Data::String(s) => s.clone(),
        Data::Empty => String::new(),
        other => panic!("the exact twin holds text only, not {other:?}"),
    }
}

/// The hidden twins of a workbook's visible sheets (`<name> 精确值`, hidden): visible
/// name → (header, rows as the CSV's text), in sheet order.
fn exact_sheets(bytes: &[u8]) -> Vec<(String, Vec<String>, Vec<Vec<String>>)> {
    let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    let meta = wb.sheets_metadata().to_vec();
    let visible: Vec<&str> = meta.iter().filter(|m| m.visible == SheetVisible::Visible).map(|m| m.name.as_str()).collect();
    let hidden: Vec<&str> = meta.iter().filter(|m| m.visible == SheetVisible::Hidden).map(|m| m.name.as_str()).collect();
    assert_eq!(hidden, visible.iter().map(|v| format!("{v} 精确值")).collect::<Vec<_>>(), "one hidden twin per sheet, after them");
    visible
        .iter()
        .zip(&hidden)
        .map(|(name, twin)| {
            let range = wb.worksheet_range(twin).unwrap();
            let mut rows = range.rows().map(|r| r.iter().map(cell_text).collect::<Vec<_>>());
            let header = rows.next().unwrap_or_default();
            ((*name).to_owned(), header, rows.collect())
        })
        .collect()
}

/// A visible sheet: the heading lines above the table, the header row, the typed rows.
struct Visible {
    heading: Vec<String>,
    header: Vec<String>,
    rows: Vec<Vec<Data>>,
}

impl Visible {
    fn read(bytes: &[u8], sheet: &str) -> Self {
        let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
        let range = wb.worksheet_range(sheet).unwrap();
        assert_eq!(range.start(), Some((0, 0)));
        let rows: Vec<Vec<Data>> = range.rows().map(<[Data]>::to_vec).collect();
        // The heading, a blank row, the header row, the table.
        let blank = rows.iter().position(|r| r.iter().all(|c| *c == Data::Empty)).expect("a blank row under the heading");
        let heading = rows[..blank].iter().map(|r| r[0].to_string()).collect();
        let header = rows[blank + 1].iter().map(ToString::to_string).filter(|h| !h.is_empty()).collect();
        Self { heading, header, rows: rows[blank + 2..].to_vec() }
    }

    fn col(&self, name: &str) -> usize {
        self.header.iter().position(|h| h.ends_with(&format!(" {name}"))).unwrap_or_else(|| panic!("column {name}"))
    }

    fn cell(&self, row: usize, name: &str) -> &Data {
        &self.rows[row][self.col(name)]
    }

    /// The heading's fact `label` (`口径 policy`): what follows its `：` (facts on a line are
    /// apart by two ideographic spaces).
    fn fact(&self, label: &str) -> &str {
        let fact = self.heading[1..].iter().flat_map(|l| l.split("\u{3000}\u{3000}")).find(|f| f.starts_with(label));
        fact.unwrap_or_else(|| panic!("{label} in {:?}", self.heading)).split_once('：').unwrap().1
    }
}

/// A JSON decimal string as the number an XLSX cell must hold: the double nearest it.
fn number(v: &Value) -> Data {
    match v {
        Value::Null => Data::Empty,
        v => Data::Float(v.as_str().unwrap().parse::<f64>().unwrap()),
    }
}

/// A JSON `YYYY-MM-DD` as the Excel serial day of a date cell.
fn serial_day(v: &Value) -> f64 {
    let date = chrono::NaiveDate::parse_from_str(v.as_str().unwrap(), "%Y-%m-%d").unwrap();
    let epoch = chrono::NaiveDate::from_ymd_opt(1899, 12, 30).unwrap();
    (date - epoch).num_days() as f64
}

fn assert_date_cell(cell: &Data, json: &Value) {
    match cell {
        Data::DateTime(d) => assert_eq!((d.is_datetime(), d.as_f64()), (true, serial_day(json)), "{json}"),
        other => panic!("{json}: a date cell, not {other:?}"),
    }
}

/// A JSON flag as the workbook writes it.
fn yes_no(v: &Value) -> Data {
    match v.as_bool() {
        Some(true) => Data::String("是".into()),
        Some(false) => Data::String("否".into()),
        None => Data::Empty,
    }
}

/// The XML parts of a workbook: part name → text.
fn xml_parts(bytes: &[u8]) -> HashMap<String, String> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes.to_vec())).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut part = zip.by_index(i).unwrap();
            let mut xml = String::new();
            std::io::Read::read_to_string(&mut part, &mut xml).unwrap();
            (part.name().to_owned(), xml)
        })
        .collect()
}

/// The sheet XML of the `n`th sheet (1-based): frozen header, filter and page setup.
fn assert_printable(parts: &HashMap<String, String>, n: usize, header_row: usize, landscape: bool) {
    let xml = &parts[&format!("xl/worksheets/sheet{n}.xml")];
    let frozen = format!("<pane ySplit=\"{header_row}\" topLeftCell=\"A{}\" activePane=\"bottomLeft\" state=\"frozen\"/>", header_row + 1);
    assert!(xml.contains(&frozen), "sheet {n}: the header row is frozen: {xml}");
    assert!(xml.contains(&format!("<autoFilter ref=\"A{header_row}:")), "sheet {n}: an autofilter from the header row");
    assert!(xml.contains("paperSize=\"9\""), "sheet {n}: A4");
    assert_eq!(xml.contains("orientation=\"landscape\""), landscape, "sheet {n}: landscape");
    assert!(xml.contains("<pageSetUpPr fitToPage=\"1\"/>") && xml.contains("fitToHeight=\"0\""), "sheet {n}: one page wide");
    assert!(xml.contains("<cols>"), "sheet {n}: column widths");
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

    let (status, headers, bytes) = fetch(&w.app, &export(&format!("{H1}&order_by=share"), "csv"), &tok, None).await;

    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    assert!(headers["content-disposition"].starts_with("attachment; filename=\"shares_county-520102_2019-03-01_2019-03-15"));
    assert!(headers["content-disposition"].ends_with(".csv\""));
    let (header, rows) = parse_csv(&bytes);
    assert_eq!((header[2].as_str(), header[3].as_str()), ("单位名称 unit_name", "单位代码 unit_code"), "the name leads");
    assert_share_table_matches(&json.json, &header, &rows);
    assert!(rows.iter().any(|r| r.contains(&"B小学".to_owned())), "Chinese names survive");
    assert!(rows.iter().any(|r| r.contains(&"22.50".to_owned())), "amounts keep their two places");
    // Codes for programs: kinds and flags as the API spells them.
    assert_eq!((rows[0][0].as_str(), rows[0][1].as_str(), rows[1][1].as_str()), ("summary", "county", "school"));
    assert!(
        rows.iter().all(|r| ["true", "false", ""].contains(&r[header.iter().position(|h| h.ends_with(" meets_target")).unwrap()].as_str()))
    );
    // The report operation answers JSON whatever `Accept` says: files are its `/export`.
    let (status, headers, _) = fetch(&w.app, H1, &tok, Some("text/csv")).await;
    assert_eq!((status, headers["content-type"].as_str()), (200, "application/json"));
    let (_, _, again) = fetch(&w.app, &export(&format!("{H1}&order_by=share"), "csv"), &tok, None).await;
    assert_eq!(again, bytes, "the same file every time");
}

async fn xlsx_export_has_the_json_figures_exactly(db: TestDb) {
    let w = world(db).await;
    let tok = w.app.token(&Role::Province);
    for query in [H1.to_owned(), "/api/v1/reports/shares?scope=province&period=2019-03&group_by=county,period".to_owned()] {
        let json = w.app.get(&query, &tok).await;
        json.expect(200);

        let (status, headers, bytes) = fetch(&w.app, &export(&query, "xlsx"), &tok, None).await;

        assert_eq!(status, 200);
        assert_eq!(headers["content-type"], XLSX);
        assert!(headers["content-disposition"].ends_with(".xlsx\""));
        // The hidden twin holds the CSV's table exactly.
        let sheets = exact_sheets(&bytes);
        assert_eq!(sheets.len(), 1);
        let (name, header, rows) = &sheets[0];
        assert_eq!(name, "报表 Report");
        assert_share_table_matches(&json.json, header, rows);
        let (_, _, csv_bytes) = fetch(&w.app, &export(&query, "csv"), &tok, None).await;
        assert_eq!(parse_csv(&csv_bytes), (header.clone(), rows.clone()), "CSV and the exact twin hold the same table");
        // The visible sheet: the same columns, figures as numbers equal to the JSON's.
        let v = Visible::read(&bytes, "报表 Report");
        assert_eq!(&v.header, header);
        assert_visible_share_rows(&json.json, &v);
    }
    let (_, _, bytes) = fetch(&w.app, &export(H1, "xlsx"), &tok, None).await;
    let v = Visible::read(&bytes, "报表 Report");
    assert_eq!(v.heading[0], "南明区 贫困地区农产品采购占比报表 / Poverty-area procurement share report");
    assert_eq!(v.fact("范围 scope"), "南明区（县区 520102）");
    assert_eq!(v.fact("期间 period"), "2019-03-01 至 2019-03-15");
    assert_eq!(v.fact("分组 group by"), "学校");
    assert!(v.fact("口径 policy").starts_with("gz-2019（"));
    assert_eq!(v.fact("目标 target"), "50.00%（1/2）");
    assert!(chrono::NaiveDate::parse_from_str(v.fact("逾期截至 overdue as of"), "%Y-%m-%d").is_ok());
    assert!(v.fact("导出时间 exported at").ends_with("（北京时间 UTC+8）"));
    assert_eq!(v.cell(0, "total"), &Data::Float(115.0));
    assert_eq!(v.cell(0, "purchases"), &Data::Float(6.0));
    assert_eq!(v.cell(0, "meets_target"), &Data::String("否".into()));
    assert_eq!((v.cell(0, "row"), v.cell(0, "unit_kind")), (&Data::String("合计".into()), &Data::String("县区".into())));
    assert!(v.rows.iter().skip(1).all(|r| r[v.col("unit_kind")] == Data::String("学校".into())));
    let silent = v.rows.iter().skip(1).find(|r| r[v.col("silent")] == Data::String("是".into())).expect("a silent school");
    assert_eq!(silent[v.col("share")], Data::Empty, "silent: no share, not 0%");
    // Frozen header (under the title, three lines of facts and a blank row), filter, A4 landscape.
    let parts = xml_parts(&bytes);
    assert_printable(&parts, 1, 6, true);
    assert!(parts["xl/workbook.xml"].contains("state=\"hidden\""), "the twin is hidden");
    assert!(parts["xl/styles.xml"].contains("formatCode=\"#,##0.00\"") && parts["xl/styles.xml"].contains("formatCode=\"0.00%\""));
}

/// Every row of a visible share sheet against the JSON report: amounts, weights and shares
/// are numbers equal to the JSON's decimals, dates are date cells, flags 是/否.
fn assert_visible_share_rows(report: &Value, v: &Visible) {
    let json_rows: Vec<&Value> = std::iter::once(&report["summary"]).chain(report["rows"].as_array().unwrap()).collect();
    assert_eq!(v.rows.len(), json_rows.len());
    for (i, j) in json_rows.iter().enumerate() {
        for field in ["total", "qualifying", "pending", "share", "shortfall", "total_weight_kg", "qualifying_weight_kg"] {
            assert_eq!(v.cell(i, field), &number(&j[field]), "row {i} {field}");
        }
        for field in ["confirmed_total", "confirmed_qualifying", "confirmed_share", "paid", "unpaid", "overdue"] {
            assert_eq!(v.cell(i, field), &number(&j["settlement"][field]), "row {i} {field}");
        }
        assert_eq!(v.cell(i, "purchases"), &Data::Float(j["purchases"].as_f64().unwrap()));
        assert_eq!(v.cell(i, "meets_target"), &yes_no(&j["meets_target"]));
        assert_eq!(v.cell(i, "target"), &number(&report["target"]["share"]));
        assert_date_cell(v.cell(i, "from"), &report["from"]);
        assert_date_cell(v.cell(i, "to"), &report["to"]);
        if let Some(p) = j.get("period") {
            assert_date_cell(v.cell(i, "period_from"), &p["from"]);
        }
    }
}

async fn silent_schools_export_as_csv_and_xlsx(db: TestDb) {
    let w = world(db).await;
    let tok = w.app.token(&Role::Province);
    let url = "/api/v1/reports/silent-schools?scope=province&period=2019-03-H1";

    let (status, headers, bytes) = fetch(&w.app, &export(url, "csv"), &tok, None).await;

    assert_eq!(status, 200);
    assert!(headers["content-disposition"].starts_with("attachment; filename=\"silent-schools_province"));
    let (header, rows) = parse_csv(&bytes);
    assert_eq!(
        &header[..6],
        [
            "学校名称 school_name",
            "学校编号 school_id",
            "县名称 county_name",
            "县代码 county_code",
            "市州名称 prefecture_name",
            "市州代码 prefecture_code",
        ]
    );
    let schools: Vec<(&str, &str, &str, &str)> =
        rows.iter().map(|r| (r[0].as_str(), r[1].as_str(), r[2].as_str(), r[3].as_str())).collect();
    assert_eq!(schools, [("C小学", w.c.as_str(), "南明区", "520102"), ("F小学", w.f.as_str(), "惠水县", "522731")]);
    let (_, headers, xlsx) = fetch(&w.app, &export(url, "xlsx"), &tok, None).await;
    assert_eq!(headers["content-type"], XLSX);
    let sheets = exact_sheets(&xlsx);
    assert_eq!((sheets[0].1.clone(), sheets[0].2.clone()), (header, rows));
    let v = Visible::read(&xlsx, "无采购学校 Silent");
    assert_eq!(v.cell(0, "school_name"), &Data::String("C小学".into()));
    assert_eq!(v.cell(0, "target"), &Data::Float(0.5));
    assert_date_cell(v.cell(1, "from"), &json!("2019-03-01"));
    assert_eq!(v.fact("学校 schools"), "登记 6 所，无采购 2 所 / 6 registered, 2 silent");
    assert_eq!(v.fact("目标 target"), "50.00%（1/2）");
    assert_printable(&xml_parts(&xlsx), 1, 5, true);
}

async fn semi_monthly_workbook_has_four_sheets_and_every_school(db: TestDb) {
    let w = world(db).await;
    let tok = w.app.token(&county_token());
    let json = w.app.get(H1, &tok).await;

    let (status, headers, bytes) = fetch(&w.app, "/api/v1/reports/semi-monthly?county=520102&period=2019-03-H1", &tok, None).await;

    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], XLSX);
    assert_eq!(headers["content-disposition"], "attachment; filename=\"semi-monthly_520102_2019-03-H1.xlsx\"");
    let sheets = exact_sheets(&bytes);
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

    // The visible sheets, for people: numbers, dates, Chinese labels, names first.
    let summary = Visible::read(&bytes, "汇总 Summary");
    assert!(summary.heading[0].starts_with("南明区 2019年3月上半月"), "{:?}", summary.heading);
    assert_eq!(summary.fact("期间 period"), "2019年3月上半月（2019-03-01 至 2019-03-15）");
    assert_eq!(summary.header[0], "县名称 county_name");
    for k in ["total", "qualifying", "pending", "share", "shortfall", "total_weight_kg"] {
        assert_eq!(summary.cell(0, k), &number(&json.json["summary"][k]), "{k}");
    }
    assert_eq!(summary.cell(0, "meets_target"), &yes_no(&json.json["summary"]["meets_target"]));
    assert_eq!(summary.cell(0, "schools"), &Data::Float(4.0));
    assert_date_cell(summary.cell(0, "from"), &json!("2019-03-01"));
    let school_sheet = Visible::read(&bytes, "学校 Schools");
    assert_eq!(&school_sheet.header[..2], ["学校名称 school_name", "学校编号 school_id"], "the school's name leads");
    let c = school_sheet.rows.iter().find(|r| r[1] == Data::String(w.c.clone())).unwrap();
    assert_eq!((&c[0], &c[school_sheet.col("silent")]), (&Data::String("C小学".into()), &Data::String("是".into())));
    let tag_sheet = Visible::read(&bytes, "标签 Tags");
    let labels: Vec<String> = tag_sheet.rows.iter().map(|r| r[0].to_string()).collect();
    assert_eq!(labels, ["建档立卡贫困户", "农民专业合作社", "省内农副产品加工企业"]);
    let coop = &tag_sheet.rows[1];
    assert_eq!((&coop[tag_sheet.col("qualifying")], &coop[tag_sheet.col("share")]), (&Data::Float(30.0), &Data::Float(0.2609)));
    let category_sheet = Visible::read(&bytes, "品类 Categories");
    assert!(category_sheet.rows.iter().any(|r| r[0] == Data::String("粮食".into())));
    assert!(category_sheet.rows.iter().all(|r| matches!(&r[0], Data::String(s) if !s.is_ascii())), "labels are Chinese");
    let parts = xml_parts(&bytes);
    for n in 1..=4 {
        assert_printable(&parts, n, 5, true);
    }
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

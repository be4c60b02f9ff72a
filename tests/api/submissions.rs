//! Half-monthly submissions over HTTP: freezing, revisions, the workbook, drift explained to
//! the fen, the status lists, scopes, and the digest check of `ledger verify`.

use actix_web::http::Method;
use canteen_ledger::domain::role::Role;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Resp, TestApp, TestDb, export, line};

both_backends!(
    a_county_submission_freezes_its_figures_heads_and_narrative,
    a_retry_replays_and_a_reused_key_is_refused,
    a_revision_needs_a_reason_and_the_latest_stands,
    bad_submissions_are_refused_and_write_nothing,
    drift_explains_every_difference_to_the_fen,
    late_entries_are_adjustments_in_the_next_submission,
    a_prefecture_freezes_each_countys_latest_submission_or_the_live_figures,
    the_status_list_names_who_is_on_time_late_and_missing,
    submissions_are_read_within_scope_only,
    ledger_verify_checks_every_submission_against_the_chains
);

const COUNTY: &str = "520102";

/// Pins the reporting clock to an instant given in China Standard Time.
fn at(app: &TestApp, cst: &str) {
    let t = chrono::DateTime::parse_from_rfc3339(&format!("{cst}+08:00")).unwrap().naive_utc();
    app.state.clock.set(Some(t));
}

struct World {
    app: TestApp,
    a: String,
    b: String,
    c: String,
    coop: String,
    coop_tag: String,
    household: String,
    household_tag: String,
    enterprise: String,
    a_enterprise: String,
}

/// Three schools of 南明区 (520102) in 2019-03-H1: A buys 20.00 from a verified
/// cooperative of a poverty county and 20.00 from an enterprise; B 30.00 from a verified
/// cooperative of 南明区 (not a poverty county: not qualifying) and 10.00 from a poor
/// household whose tag is only declared (pending); C nothing. Total 80.00, qualifying
/// 20.00, pending 10.00.
async fn world(db: TestDb) -> World {
    let app = TestApp::new(db).await;
    let a = app.school(COUNTY, "南明区第一小学").await;
    let b = app.school(COUNTY, "南明区第二小学").await;
    let c = app.school(COUNTY, "南明区第三小学").await;
    let coop = app.supplier("522731", "cooperative").await;
    let coop_tag = app.tag(&coop, "cooperative", "2019-01-01", None, true).await;
    let rich = app.supplier(COUNTY, "cooperative").await;
    app.tag(&rich, "cooperative", "2019-01-01", None, true).await;
    let household = app.supplier("522631", "household").await;
    let household_tag = app.tag(&household, "poor_household", "2019-01-01", None, false).await;
    let enterprise = app.supplier(COUNTY, "enterprise").await;
    app.purchase(&a, &coop, "2019-03-05", json!([line("vegetables", "10", "jin", "2")])).await.expect(201);
    let ae = app.purchase(&a, &enterprise, "2019-03-05", json!([line("grain", "4", "kg", "5")])).await;
    ae.expect(201);
    app.purchase(&b, &rich, "2019-03-10", json!([line("meat_poultry", "1", "kg", "30")])).await.expect(201);
    app.purchase(&b, &household, "2019-03-10", json!([line("eggs", "2", "jin", "5")])).await.expect(201);
    let a_enterprise = ae.json["id"].as_str().unwrap().to_owned();
    World { app, a, b, c, coop, coop_tag, household, household_tag, enterprise, a_enterprise }
}

fn county_token(app: &TestApp, code: &str) -> String {
    app.token(&Role::County(code.into()))
}

fn body(unit: &str, period: &str) -> Value {
    json!({
        "unit": unit, "period": period,
        "progress": "一、本半月全区学校食堂采购贫困地区农产品情况。\n二、各校进展。",
        "experience": "", "difficulties": "部分学校离线补录。", "measures": "督促未采购学校。"
    })
}

async fn submit_with(app: &TestApp, token: &str, body: &Value, key: &str) -> Resp {
    app.send(Method::POST, "/api/v1/submissions", Some(token), Some(body), &[("Idempotency-Key", key)]).await
}

async fn submit(app: &TestApp, token: &str, body: &Value) -> Resp {
    submit_with(app, token, body, &uuid::Uuid::new_v4().to_string()).await
}

fn row<'a>(doc: &'a Value, code: &str) -> &'a Value {
    doc["rows"].as_array().unwrap().iter().find(|r| r["unit"]["code"] == code).unwrap_or(&Value::Null)
}

/// Exact fen of a decimal yuan string.
fn fen(v: &Value) -> i64 {
    let d: rust_decimal::Decimal = v.as_str().unwrap_or_else(|| panic!("not an amount: {v}")).parse().unwrap();
    i64::try_from((d * rust_decimal::Decimal::ONE_HUNDRED).mantissa()).unwrap()
        / 10_i64.pow((d * rust_decimal::Decimal::ONE_HUNDRED).scale())
}

async fn a_county_submission_freezes_its_figures_heads_and_narrative(db: TestDb) {
    let w = world(db).await;
    let tok = county_token(&w.app, COUNTY);
    at(&w.app, "2019-03-28T10:00:00");

    let r = submit(&w.app, &tok, &body(&format!("county:{COUNTY}"), "2019-03-H1")).await;

    r.expect(201);
    let doc = &r.json;
    let id = doc["id"].as_str().unwrap();
    assert_eq!(r.header("location"), Some(format!("/api/v1/submissions/{id}").as_str()));
    assert_eq!(r.header("submission-digest"), doc["digest"].as_str());
    assert_eq!(doc["digest"].as_str().map(str::len), Some(64));
    assert_eq!(doc["unit"], json!({"kind": "county", "code": COUNTY, "name": "南明区"}));
    assert_eq!(doc["reports_to"], "prefecture:520100");
    assert_eq!((doc["period"].as_str(), doc["period_label"].as_str()), (Some("2019-03-H1"), Some("2019年3月上半月")));
    assert_eq!((doc["revision"].as_i64(), doc["reason"].clone()), (Some(1), Value::Null));
    assert_eq!((doc["due_on"].as_str(), doc["on_time"].as_bool(), doc["late_days"].clone()), (Some("2019-03-30"), Some(true), Value::Null));
    assert_eq!(doc["submitted_at"], "2019-03-28T02:00:00.000000Z");
    assert_eq!(doc["policy"], "gz-2019");
    assert_eq!(doc["target"]["share"], "0.5000");
    assert_eq!(doc["schools_covered"], 3);
    assert_eq!(doc["narrative"]["progress"], "一、本半月全区学校食堂采购贫困地区农产品情况。\n二、各校进展。");
    let s = &doc["summary"]["half_month"];
    assert_eq!((s["total"].as_str(), s["qualifying"].as_str(), s["pending"].as_str()), (Some("80.00"), Some("20.00"), Some("10.00")));
    assert_eq!((s["share"].as_str(), s["meets_target"].as_bool(), s["purchases"].as_i64()), (Some("0.2500"), Some(false), Some(4)));
    assert_eq!(s["shortfall"], "20.00");
    assert_eq!(doc["summary"]["schools"], json!({"schools": 3, "silent": 1, "below_target": 1}));
    assert_eq!(doc["summary"]["year_to_date"]["total"], "80.00");
    let a = row(doc, &w.a);
    assert_eq!((a["half_month"]["total"].as_str(), a["half_month"]["share"].as_str()), (Some("40.00"), Some("0.5000")));
    let c = row(doc, &w.c);
    assert_eq!((c["half_month"]["purchases"].as_i64(), c["half_month"]["share"].clone()), (Some(0), Value::Null));

    // The same document, byte for byte, every time.
    let got = w.app.get(&format!("/api/v1/submissions/{id}"), &tok).await;
    got.expect(200);
    assert_eq!(got.text, r.text);
    assert_eq!(got.header("submission-digest"), doc["digest"].as_str());
    // Later purchases do not change what was submitted.
    w.app.purchase(&w.c, &w.enterprise, "2019-03-02", json!([line("grain", "1", "kg", "3")])).await.expect(201);
    assert_eq!(w.app.get(&format!("/api/v1/submissions/{id}"), &tok).await.text, r.text);

    // The workbook: the same bytes every time, with numbers that compute.
    let wb1 = w.app.get(&format!("/api/v1/submissions/{id}/workbook"), &tok).await;
    wb1.expect(200);
    let wb2 = w.app.get(&format!("/api/v1/submissions/{id}/workbook"), &tok).await;
    assert_eq!(wb1.text, wb2.text);
    assert_eq!(wb1.header("content-type"), Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"));
    assert_eq!(wb1.header("submission-digest"), doc["digest"].as_str());
    let bytes = w
        .app
        .call_bytes(
            actix_web::test::TestRequest::get()
                .uri(&format!("/api/v1/submissions/{id}/workbook"))
                .insert_header(("Authorization", format!("Bearer {tok}")))
                .to_request(),
        )
        .await;
    use calamine::{Data, Reader};
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let figures = book.worksheet_range("数据 Figures").unwrap();
    let total_row = figures.rows().find(|r| r.first() == Some(&Data::String("南明区".into()))).expect("the county's row");
    assert_eq!(total_row[2], Data::Float(80.0), "the half-month total is a number");
    assert_eq!(total_row[5], Data::Float(0.25), "the share is a number");
    let cover = book.worksheet_range("报送 Submission").unwrap();
    let digest = doc["digest"].as_str().unwrap();
    assert!(cover.rows().flatten().any(|c| matches!(c, Data::String(t) if t.contains(digest))), "the digest is on the sheet");
    assert!(cover.rows().any(|r| r.first() == Some(&Data::String("工作进展".into()))), "the narrative is on the cover");

    // Audited.
    let n: i64 = count(&w.app, &format!("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'submission.submit' AND subject_id = '{id}'"));
    assert_eq!(n, 1);
}

fn count(app: &TestApp, sql: &str) -> i64 {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = app.state.db.get().unwrap();
    diesel::sql_query(sql).load::<N>(&mut *conn).unwrap()[0].n
}

async fn a_retry_replays_and_a_reused_key_is_refused(db: TestDb) {
    let w = world(db).await;
    let tok = county_token(&w.app, COUNTY);
    at(&w.app, "2019-03-28T10:00:00");
    let b = body(&format!("county:{COUNTY}"), "2019-03-H1");

    let first = submit_with(&w.app, &tok, &b, "key-00000001").await;
    first.expect(201);
    let again = submit_with(&w.app, &tok, &b, "key-00000001").await;

    again.expect(201);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.text, first.text);
    let mut other = b.clone();
    other["measures"] = json!("另一份");
    let reused = submit_with(&w.app, &tok, &other, "key-00000001").await;
    reused.problem(409);
    assert_eq!(reused.json["type"], "urn:canteen-ledger:problem:idempotency-key-reused");
    assert_eq!(reused.first_field(), "measures");
    let missing = w.app.send(Method::POST, "/api/v1/submissions", Some(&tok), Some(&b), &[]).await;
    missing.problem(422);
    assert_eq!(count(&w.app, "SELECT COUNT(*) AS n FROM submissions"), 1);
}

async fn a_revision_needs_a_reason_and_the_latest_stands(db: TestDb) {
    let w = world(db).await;
    let tok = county_token(&w.app, COUNTY);
    let unit = format!("county:{COUNTY}");
    at(&w.app, "2019-03-28T10:00:00");
    let first = submit(&w.app, &tok, &body(&unit, "2019-03-H1")).await;
    first.expect(201);

    at(&w.app, "2019-04-02T09:00:00");
    // Refused for what is stored, not for the request alone: a conflict, not invalid.
    let no_reason = submit(&w.app, &tok, &body(&unit, "2019-03-H1")).await;
    no_reason.problem(409);
    assert_eq!((no_reason.first_field(), no_reason.first_code()), ("reason", "required"));
    assert_eq!(no_reason.json["type"], "urn:canteen-ledger:problem:conflict");
    let mut revised = body(&unit, "2019-03-H1");
    revised["reason"] = json!("补报第三小学离线采购");
    let second = submit(&w.app, &tok, &revised).await;

    second.expect(201);
    assert_eq!(second.json["revision"], 2);
    assert_eq!(second.json["revises"], first.json["id"]);
    assert_eq!(second.json["reason"], "补报第三小学离线采购");
    assert_eq!((second.json["on_time"].as_bool(), second.json["late_days"].as_i64()), (Some(false), Some(3)));
    let list = w.app.get(&format!("/api/v1/submissions?unit={unit}&period=2019-03-H1"), &tok).await;
    list.expect(200);
    let items = list.json.as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!((items[0]["revision"].as_i64(), items[0]["latest"].as_bool()), (Some(2), Some(true)));
    assert_eq!((items[1]["revision"].as_i64(), items[1]["latest"].as_bool()), (Some(1), Some(false)));
    // The first revision decides timeliness: the county stays on time.
    let pref = w.app.token(&Role::Prefecture("520100".into()));
    let status = w.app.get("/api/v1/reporting/status?period=2019-03-H1&scope=prefecture:520100", &pref).await;
    status.expect(200);
    let mine = status.json["rows"].as_array().unwrap().iter().find(|r| r["unit"]["code"] == COUNTY).unwrap().clone();
    assert_eq!((mine["status"].as_str(), mine["revisions"].as_i64()), (Some("on_time"), Some(2)));
    assert_eq!(mine["latest_submission_id"], second.json["id"]);
    // A reason on a half-month's first submission is refused.
    let mut early = body(&unit, "2019-03-H2");
    early["reason"] = json!("x");
    let r = submit(&w.app, &tok, &early).await;
    r.problem(409);
    assert_eq!((r.first_field(), r.first_code()), ("reason", "not_a_revision"));
    // Nothing refused was written: still two revisions of 2019-03-H1 and nothing else.
    let all = w.app.get(&format!("/api/v1/submissions?unit={unit}"), &tok).await;
    all.expect(200);
    assert_eq!(all.json.as_array().unwrap().len(), 2, "{}", all.text);
}

async fn bad_submissions_are_refused_and_write_nothing(db: TestDb) {
    let w = world(db).await;
    let tok = county_token(&w.app, COUNTY);
    let unit = format!("county:{COUNTY}");
    at(&w.app, "2019-03-10T12:00:00");
    // A half-month not yet begun is a conflict with the clock (409); the rest are invalid
    // whenever they are asked (422).
    let not_open = submit(&w.app, &tok, &body(&unit, "2019-03-H2")).await;
    not_open.problem(409);
    assert_eq!((not_open.first_field(), not_open.first_code()), ("period", "not_open"));
    let cases: Vec<(Value, &str, &str)> = vec![
        (body(&unit, "2019-02-H2"), "period", "outside_campaign"),
        (body(&unit, "2019-3-H1"), "period", "invalid_value"),
        (body("county:52010", "2019-03-H1"), "unit", "bad_unit"),
        (body("school:abc", "2019-03-H1"), "unit", "bad_unit"),
        (
            json!({"unit": unit, "period": "2019-03-H1", "progress": "字".repeat(5001), "experience": "", "difficulties": "", "measures": ""}),
            "progress",
            "too_long",
        ),
        (
            json!({"unit": unit, "period": "2019-03-H1", "progress": "a\tb", "experience": "", "difficulties": "", "measures": ""}),
            "progress",
            "control_character",
        ),
        (json!({"unit": unit, "period": "2019-03-H1", "progress": "", "experience": "", "difficulties": ""}), "measures", "required"),
    ];
    for (b, field, code) in cases {
        let r = submit(&w.app, &tok, &b).await;
        r.problem(422);
        assert_eq!((r.first_field(), r.first_code()), (field, code), "{b}");
    }
    submit(&w.app, &tok, &body("county:999999", "2019-03-H1")).await.problem(404);
    // Only the unit's own bureau submits.
    for role in [Role::County("520103".into()), Role::Prefecture("520100".into()), Role::Province, Role::Admin, Role::Canteen(w.a.clone())]
    {
        let r = submit(&w.app, &w.app.token(&role), &body(&unit, "2019-03-H1")).await;
        r.problem(403);
    }
    assert_eq!(count(&w.app, "SELECT COUNT(*) AS n FROM submissions"), 0);
    assert_eq!(count(&w.app, "SELECT COUNT(*) AS n FROM submission_heads"), 0);
    assert_eq!(count(&w.app, "SELECT COUNT(*) AS n FROM audit_log WHERE action LIKE 'submission.%'"), 0);
}

/// Sums the listed changes of a drift, in fen: (half-month, year to date) for each of
/// total, qualifying and pending.
fn change_sums(drift: &Value, school: Option<&str>) -> [i64; 6] {
    let mut out = [0; 6];
    for c in drift["changes"].as_array().unwrap() {
        if school.is_some_and(|s| c["school_id"] != s) {
            continue;
        }
        let d = &c["delta"];
        let v = [fen(&d["total"]), fen(&d["qualifying"]), fen(&d["pending"])];
        for i in 0..3 {
            out[3 + i] += v[i];
            if c["in_half_month"] == true {
                out[i] += v[i];
            }
        }
    }
    out
}

fn figs(doc_row: &Value) -> [i64; 6] {
    let (h, y) = (&doc_row["half_month"], &doc_row["year_to_date"]);
    [fen(&h["total"]), fen(&h["qualifying"]), fen(&h["pending"]), fen(&y["total"]), fen(&y["qualifying"]), fen(&y["pending"])]
}

/// The live figures of a school (or the county) from the share reports, in fen.
async fn live(app: &TestApp, token: &str, code: Option<&str>) -> [i64; 6] {
    let mut out = [0; 6];
    for (i, period) in ["2019-03-H1", "from=2019-01-01&to=2019-03-15"].iter().enumerate() {
        let q = if period.starts_with("from") { (*period).to_owned() } else { format!("period={period}") };
        let r = app.get(&format!("/api/v1/reports/shares?scope=county:{COUNTY}&{q}&group_by=school"), token).await;
        r.expect(200);
        let row = match code {
            Some(c) => r.json["rows"].as_array().unwrap().iter().find(|x| x["unit"]["code"] == c).unwrap().clone(),
            None => r.json["summary"].clone(),
        };
        out[i * 3] = fen(&row["total"]);
        out[i * 3 + 1] = fen(&row["qualifying"]);
        out[i * 3 + 2] = fen(&row["pending"]);
    }
    out
}

fn plus(a: [i64; 6], b: [i64; 6]) -> [i64; 6] {
    std::array::from_fn(|i| a[i] + b[i])
}

async fn drift_explains_every_difference_to_the_fen(db: TestDb) {
    let w = world(db).await;
    let tok = county_token(&w.app, COUNTY);
    at(&w.app, "2019-03-28T10:00:00");
    let sub = submit(&w.app, &tok, &body(&format!("county:{COUNTY}"), "2019-03-H1")).await;
    sub.expect(201);
    let id = sub.json["id"].as_str().unwrap().to_owned();
    let quiet = w.app.get(&format!("/api/v1/submissions/{id}/drift"), &tok).await;
    quiet.expect(200);
    assert_eq!((quiet.json["balanced"].as_bool(), quiet.json["changes"].as_array().map(Vec::len)), (Some(true), Some(0)));

    // After the submission: late entries (one in the half-month, one earlier in the year,
    // one after it), a void, a correction, and two reviews that move earlier entries.
    let late = w.app.purchase(&w.a, &w.coop, "2019-03-06", json!([line("fruit", "3", "kg", "4.11")])).await;
    late.expect(201);
    w.app.purchase(&w.c, &w.enterprise, "2019-03-01", json!([line("grain", "7", "jin", "1.3")])).await.expect(201);
    w.app.purchase(&w.b, &w.enterprise, "2019-02-10", json!([line("edible_oil", "1", "kg", "17.5")])).await.expect(201);
    w.app.purchase(&w.b, &w.enterprise, "2019-03-20", json!([line("edible_oil", "1", "kg", "99")])).await.expect(201);
    let canteen_a = w.app.token(&Role::Canteen(w.a.clone()));
    let void = w
        .app
        .send(
            Method::POST,
            &format!("/api/v1/purchases/{}/void", w.a_enterprise),
            Some(&canteen_a),
            Some(&json!({"reason": "重复录入"})),
            &[("Idempotency-Key", "void-0000001")],
        )
        .await;
    void.expect(201);
    let admin = w.app.admin();
    w.app.post(&format!("/api/v1/suppliers/{}/tags/{}/verify", w.household, w.household_tag), &admin, &json!({})).await.expect(200);
    w.app
        .post(&format!("/api/v1/suppliers/{}/tags/{}/revoke", w.coop, w.coop_tag), &admin, &json!({"reason": "复核不符"}))
        .await
        .expect(200);

    let drift = w.app.get(&format!("/api/v1/submissions/{id}/drift"), &tok).await;

    drift.expect(200);
    let d = &drift.json;
    assert_eq!(d["balanced"], true, "{}", drift.text);
    assert_eq!(d["digest"], sub.json["digest"]);
    let kinds: Vec<&str> = d["changes"].as_array().unwrap().iter().map(|c| c["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "late_entry").count(), 3, "{kinds:?}: the entry dated after the half-month is not in it");
    assert_eq!(kinds.iter().filter(|k| **k == "void").count(), 1);
    // B's household purchase (pending → qualifying) and A's first cooperative purchase
    // (qualifying → none); the late cooperative entry is priced at its class now, not listed twice.
    assert_eq!(kinds.iter().filter(|k| **k == "reclassification").count(), 2, "{kinds:?}");
    let moved = d["changes"].as_array().unwrap().iter().find(|c| c["kind"] == "reclassification" && c["school_id"] == w.b).unwrap();
    assert_eq!((moved["from"].as_str(), moved["to"].as_str()), (Some("pending:poor_household"), Some("qualifying:poor_household")));
    assert_eq!(moved["by"], "admin/test-admin");
    assert_eq!(moved["delta"], json!({"total": "0.00", "qualifying": "10.00", "pending": "-10.00", "purchases": 0}));

    // The invariant, against the share reports independently: frozen + changes = now, for
    // every school and the county, half-month and year to date, to the fen.
    for school in [&w.a, &w.b, &w.c] {
        let frozen = figs(row(&sub.json, school));
        let now = live(&w.app, &tok, Some(school)).await;
        assert_eq!(plus(frozen, change_sums(d, Some(school))), now, "school {school}");
        let r = row(d, school);
        assert_eq!(r["unexplained"]["half_month"]["total"], "0.00");
    }
    let frozen = figs(&sub.json["summary"]);
    let now = live(&w.app, &tok, None).await;
    assert_eq!(plus(frozen, change_sums(d, None)), now);
    // And the figures themselves: 80.00 + 12.33 + 9.10 − 20.00 in the half-month.
    assert_eq!(now[0], 8_000 + 1_233 + 910 - 2_000);
    assert_eq!(now[3], now[0] + 1_750, "the February entry is in the year to date only");
    assert_eq!(fen(&d["summary"]["now"]["half_month"]["total"]), now[0]);
    assert_eq!(fen(&d["summary"]["changes"]["year_to_date"]["qualifying"]), now[4] - frozen[4]);
}

async fn late_entries_are_adjustments_in_the_next_submission(db: TestDb) {
    let w = world(db).await;
    let tok = county_token(&w.app, COUNTY);
    let unit = format!("county:{COUNTY}");
    at(&w.app, "2019-03-28T10:00:00");
    submit(&w.app, &tok, &body(&unit, "2019-03-H1")).await.expect(201);
    let late = w.app.purchase(&w.c, &w.coop, "2019-03-14", json!([line("vegetables", "5", "jin", "1.5")])).await;
    late.expect(201);
    assert_eq!(late.json["late_entry"], true, "recorded after the county submitted its half-month");
    let h2 = w.app.purchase(&w.c, &w.coop, "2019-03-18", json!([line("vegetables", "1", "jin", "1")])).await;
    h2.expect(201);
    assert_eq!(h2.json["late_entry"], false, "the second half is not submitted yet");
    let listed = w.app.get(&format!("/api/v1/purchases?school_id={}", w.c), &tok).await;
    listed.expect(200);
    let item = listed.json["items"].as_array().unwrap().iter().find(|p| p["id"] == late.json["id"]).unwrap().clone();
    assert_eq!(item["late_entry"], true);
    let before = w.app.get(&format!("/api/v1/purchases/{}", w.a_enterprise), &tok).await;
    assert_eq!(before.json["late_entry"], false, "recorded before the submission");

    at(&w.app, "2019-04-12T10:00:00");
    let next = submit(&w.app, &tok, &body(&unit, "2019-03-H2")).await;

    next.expect(201);
    let adj = next.json["adjustments"].as_array().unwrap();
    assert_eq!(adj.len(), 1, "{}", next.text);
    assert_eq!((adj[0]["kind"].as_str(), adj[0]["label"].as_str()), (Some("late_entry"), Some("补录")));
    assert_eq!((adj[0]["purchase_id"].clone(), adj[0]["period"].as_str()), (late.json["id"].clone(), Some("2019-03-H1")));
    assert_eq!(adj[0]["delta"]["total"], "7.50");
    // The H2 figures are the H2 purchases; the year to date holds both halves.
    assert_eq!(next.json["summary"]["half_month"]["total"], "1.00");
    assert_eq!(next.json["summary"]["year_to_date"]["total"], "88.50");
}

async fn a_prefecture_freezes_each_countys_latest_submission_or_the_live_figures(db: TestDb) {
    let w = world(db).await;
    let other = w.app.school("520103", "云岩区第一中学").await;
    w.app.purchase(&other, &w.coop, "2019-03-03", json!([line("vegetables", "100", "jin", "1")])).await.expect(201);
    let tok = county_token(&w.app, COUNTY);
    let unit = format!("county:{COUNTY}");
    at(&w.app, "2019-03-28T10:00:00");
    submit(&w.app, &tok, &body(&unit, "2019-03-H1")).await.expect(201);
    // A late entry, then a revision that includes it.
    w.app.purchase(&w.c, &w.enterprise, "2019-03-02", json!([line("grain", "1", "kg", "3")])).await.expect(201);
    let mut revised = body(&unit, "2019-03-H1");
    revised["reason"] = json!("补录");
    let rev = submit(&w.app, &tok, &revised).await;
    rev.expect(201);
    // After the county's revision and before the prefecture's submission: not in the
    // county's figures, so not in the prefecture's.
    w.app.purchase(&w.c, &w.enterprise, "2019-03-04", json!([line("grain", "1", "kg", "2")])).await.expect(201);

    let pref = w.app.token(&Role::Prefecture("520100".into()));
    at(&w.app, "2019-03-29T10:00:00");
    let r = submit(&w.app, &pref, &body("prefecture:520100", "2019-03-H1")).await;

    r.expect(201);
    let doc = &r.json;
    assert_eq!(doc["reports_to"], "province");
    let mine = row(doc, COUNTY);
    assert_eq!(mine["source"]["kind"], "submission");
    assert_eq!(mine["source"]["revision"], 2);
    assert_eq!(mine["source"]["submission_id"], rev.json["id"]);
    assert_eq!(mine["half_month"]["total"], "83.00");
    let live_row = row(doc, "520103");
    assert_eq!((live_row["source"]["kind"].as_str(), live_row["source"]["status"].as_str()), (Some("live"), Some("not_due")));
    assert_eq!(live_row["half_month"]["total"], "100.00");
    assert_eq!(doc["summary"]["half_month"]["total"], "183.00");
    // Heads: the county's schools at its revision, and the other counties' at the freeze.
    let covered =
        count(&w.app, "SELECT COUNT(*) AS n FROM schools s JOIN counties c ON c.code = s.county_code WHERE c.prefecture_code = '520100'");
    assert_eq!(doc["schools_covered"].as_i64(), Some(covered));

    let drift = w.app.get(&format!("/api/v1/submissions/{}/drift", doc["id"].as_str().unwrap()), &pref).await;
    drift.expect(200);
    assert_eq!(drift.json["balanced"], true, "{}", drift.text);
    assert_eq!(drift.json["changes"].as_array().map(Vec::len), Some(1), "the purchase after the county's revision");
    assert_eq!(row(&drift.json, COUNTY)["changes"]["half_month"]["total"], "2.00");
}

async fn the_status_list_names_who_is_on_time_late_and_missing(db: TestDb) {
    let w = world(db).await;
    at(&w.app, "2019-03-28T10:00:00");
    submit(&w.app, &county_token(&w.app, COUNTY), &body(&format!("county:{COUNTY}"), "2019-03-H1")).await.expect(201);
    at(&w.app, "2019-04-02T10:00:00");
    submit(&w.app, &county_token(&w.app, "520103"), &body("county:520103", "2019-03-H1")).await.expect(201);
    at(&w.app, "2019-04-05T10:00:00");
    let pref = w.app.token(&Role::Prefecture("520100".into()));

    let r = w.app.get("/api/v1/reporting/status?period=2019-03-H1&scope=prefecture:520100", &pref).await;

    r.expect(200);
    let rows = r.json["rows"].as_array().unwrap();
    let of = |code: &str| rows.iter().find(|x| x["unit"]["code"] == code).unwrap().clone();
    assert_eq!(of("520100")["unit"]["kind"], "prefecture");
    assert_eq!(of("520100")["status"], "missing");
    let on_time = of(COUNTY);
    assert_eq!((on_time["status"].as_str(), on_time["status_label"].as_str()), (Some("on_time"), Some("按时")));
    assert_eq!(on_time["schools"], json!({"schools": 3, "silent": 1, "below_target": 1}));
    let late = of("520103");
    assert_eq!(
        (late["status"].as_str(), late["late_days"].as_i64(), late["status_label"].as_str()),
        (Some("late"), Some(3), Some("迟报3天"))
    );
    let missing = of("520111");
    assert_eq!((missing["status"].as_str(), missing["status_label"].as_str()), (Some("missing"), Some("未报")));
    assert_eq!(r.json["due_on"], "2019-03-30");
    let counties_of_520100 = count(&w.app, "SELECT COUNT(*) AS n FROM counties WHERE prefecture_code = '520100'");
    assert_eq!(rows.len() as i64, 1 + counties_of_520100);
    assert_eq!(
        r.json["on_time"].as_i64().unwrap() + r.json["late"].as_i64().unwrap() + r.json["missing"].as_i64().unwrap(),
        rows.len() as i64
    );

    // The province sees every unit, with the two counties that report to it directly.
    let prov = w.app.get("/api/v1/reporting/status?period=2019-03-H1&scope=province", &w.app.token(&Role::Province)).await;
    prov.expect(200);
    let prows = prov.json["rows"].as_array().unwrap();
    assert_eq!(prows.iter().filter(|x| x["unit"]["kind"] == "prefecture").count(), 9);
    assert_eq!(prows.iter().filter(|x| x["unit"]["kind"] == "county").count(), 88);
    let renhuai = prows.iter().find(|x| x["unit"]["code"] == "520382").unwrap();
    assert_eq!(renhuai["reports_to"], "province");
    // A half-month not yet due.
    let ahead = w.app.get("/api/v1/reporting/status?period=2019-03-H2&scope=prefecture:520100", &pref).await;
    ahead.expect(200);
    assert!(ahead.json["rows"].as_array().unwrap().iter().all(|x| x["status"] == "not_due"));

    // As files, in Chinese.
    let csv = w.app.get(&export("/api/v1/reporting/status?period=2019-03-H1&scope=prefecture:520100", "csv"), &pref).await;
    csv.expect(200);
    assert!(csv.text.contains("报送状态") && csv.text.contains("迟报3天") && csv.text.contains("未报"), "{}", csv.text);
    let xlsx = w.app.get(&export("/api/v1/reporting/status?period=2019-03-H1&scope=province", "xlsx"), &w.app.token(&Role::Province)).await;
    xlsx.expect(200);
    assert!(xlsx.header("content-disposition").is_some_and(|d| d.contains("reporting-status_province-520000_2019-03-H1.xlsx")));

    // Scopes.
    w.app.get("/api/v1/reporting/status?period=2019-03-H1&scope=province", &pref).await.problem(403);
    w.app.get("/api/v1/reporting/status?period=2019-03-H1&scope=prefecture:520200", &pref).await.problem(403);
    w.app.get("/api/v1/reporting/status?period=2019-03-H1&scope=prefecture:520100", &county_token(&w.app, COUNTY)).await.problem(403);
    let bad = w.app.get("/api/v1/reporting/status?period=2019-01-H1&scope=province", &w.app.token(&Role::Province)).await;
    bad.problem(422);
    assert_eq!((bad.first_field(), bad.first_code()), ("period", "outside_campaign"));
}

async fn submissions_are_read_within_scope_only(db: TestDb) {
    let w = world(db).await;
    at(&w.app, "2019-03-28T10:00:00");
    let sub = submit(&w.app, &county_token(&w.app, COUNTY), &body(&format!("county:{COUNTY}"), "2019-03-H1")).await;
    sub.expect(201);
    let id = sub.json["id"].as_str().unwrap();
    for role in [Role::County(COUNTY.into()), Role::Prefecture("520100".into()), Role::Province, Role::Admin] {
        let t = w.app.token(&role);
        for path in
            [format!("/api/v1/submissions/{id}"), format!("/api/v1/submissions/{id}/workbook"), format!("/api/v1/submissions/{id}/drift")]
        {
            w.app.get(&path, &t).await.expect(200);
        }
        let list = w.app.get("/api/v1/submissions", &t).await;
        list.expect(200);
        assert_eq!(list.json.as_array().map(Vec::len), Some(1), "{role}");
    }
    for role in
        [Role::County("520103".into()), Role::Prefecture("520200".into()), Role::Canteen(w.a.clone()), Role::Supplier(w.coop.clone())]
    {
        let t = w.app.token(&role);
        for path in
            [format!("/api/v1/submissions/{id}"), format!("/api/v1/submissions/{id}/workbook"), format!("/api/v1/submissions/{id}/drift")]
        {
            w.app.get(&path, &t).await.problem(404);
        }
        let list = w.app.get("/api/v1/submissions", &t).await;
        list.expect(200);
        assert_eq!(list.json.as_array().map(Vec::len), Some(0), "{role}");
    }
    w.app.get(&format!("/api/v1/submissions?unit=county:{COUNTY}"), &county_token(&w.app, "520103")).await.problem(403);
    w.app.get("/api/v1/submissions/nope", &w.app.admin()).await.problem(404);
}

async fn ledger_verify_checks_every_submission_against_the_chains(db: TestDb) {
    let w = world(db).await;
    at(&w.app, "2019-03-28T10:00:00");
    let sub = submit(&w.app, &county_token(&w.app, COUNTY), &body(&format!("county:{COUNTY}"), "2019-03-H1")).await;
    sub.expect(201);
    let id = sub.json["id"].as_str().unwrap().to_owned();
    let verify = |app: &TestApp| {
        let mut conn = app.state.db.get().unwrap();
        canteen_ledger::service::submissions::verify_all(&mut conn).unwrap()
    };
    assert_eq!(verify(&w.app), (1, vec![]));
    // The submission heads are append-only: the application cannot edit them.
    assert!(w.app.try_sql(&format!("UPDATE submission_heads SET seq = seq + 1 WHERE submission_id = '{id}'")).is_err());
    // Someone who defeats the database: an edited head breaks the digest…
    w.app.tamper(&format!("UPDATE submission_heads SET hash = 'f00d' WHERE submission_id = '{id}' AND school_id = '{}'", w.a));
    let (_, broken) = verify(&w.app);
    assert_eq!(broken.len(), 1);
    assert_eq!(broken[0].id, id);
    assert!(broken[0].problem.contains("digest"), "{}", broken[0].problem);
    // …and with the digest recomputed to match, the head is not in the chain.
    let heads = {
        let mut conn = w.app.state.db.get().unwrap();
        canteen_ledger::db::repo::submissions::heads_of(&mut conn, &id).unwrap()
    };
    let heads: Vec<_> =
        heads.into_iter().map(|h| canteen_ledger::domain::submission::Head { school_id: h.school_id, seq: h.seq, hash: h.hash }).collect();
    let digest = canteen_ledger::domain::submission::digest(&heads);
    w.app.tamper(&format!("UPDATE submissions SET digest = '{digest}' WHERE id = '{id}'"));
    let (_, broken) = verify(&w.app);
    assert_eq!(broken.len(), 1);
    assert!(
        broken[0].problem.contains(&format!("school {}", w.a)) && broken[0].problem.contains("not in the chain"),
        "{}",
        broken[0].problem
    );
}

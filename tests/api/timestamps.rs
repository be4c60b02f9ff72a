//! Every timestamp a client reads is RFC 3339 in UTC with a `Z` (issue 9, item 5): in
//! every JSON answer of a scenario that touches every resource with a `*_at` field, in
//! replayed (stored) answers, in webhook event bodies, and in CSV and XLSX exports.

use std::collections::BTreeSet;
use std::io::Read as _;

use actix_web::http::Method;
use canteen_ledger::domain::role::Role;
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Resp, TestApp, TestDb, export, line};

both_backends!(every_timestamp_in_json_answers_is_rfc3339_utc, exports_and_webhook_bodies_carry_no_timestamp_without_offset);

const COUNTY: &str = "522731";

/// Every `*_at` key with a string value in `v`, as `(path, value)`.
fn timestamps(path: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = format!("{path}.{k}");
                if k.ends_with("_at")
                    && let Some(s) = x.as_str()
                {
                    out.push((p.clone(), s.to_owned()));
                }
                timestamps(&p, x, out);
            }
        }
        Value::Array(a) => a.iter().enumerate().for_each(|(i, x)| timestamps(&format!("{path}[{i}]"), x, out)),
        _ => {}
    }
}

/// Date-times in `text` (`YYYY-MM-DDTHH:MM…`) that are not followed, after their seconds
/// and fraction, by `Z`: timestamps without an offset, wherever they appear.
fn naive_timestamps(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| r.clone().all(|i| b.get(i).is_some_and(u8::is_ascii_digit));
    let mut found = Vec::new();
    for i in 0..b.len() {
        let looks = digits(i..i + 4)
            && b.get(i + 4) == Some(&b'-')
            && digits(i + 5..i + 7)
            && b.get(i + 7) == Some(&b'-')
            && digits(i + 8..i + 10)
            && matches!(b.get(i + 10), Some(b'T' | b' '))
            && digits(i + 11..i + 13)
            && b.get(i + 13) == Some(&b':')
            && digits(i + 14..i + 16);
        if !looks {
            continue;
        }
        let mut j = i + 16;
        while b.get(j).is_some_and(|c| c.is_ascii_digit() || *c == b':' || *c == b'.') {
            j += 1;
        }
        if b.get(j) != Some(&b'Z') {
            found.push(String::from_utf8_lossy(&b[i..j.min(b.len())]).into_owned());
        }
    }
    found
}

/// Asserts every `*_at` of every answer is RFC 3339 with `Z`; returns the key names seen.
fn check(answers: &[(String, &Resp)]) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut bad = Vec::new();
    for (what, r) in answers {
        assert!(r.status.is_success(), "{what}: {} {}", r.status, r.text);
        let mut found = Vec::new();
        timestamps("", &r.json, &mut found);
        for (path, s) in found {
            seen.insert(path.rsplit('.').next().unwrap_or_default().to_owned());
            if !(s.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(&s).is_ok()) {
                bad.push(format!("{what}: {path} = {s:?}"));
            }
        }
        bad.extend(naive_timestamps(&r.text).into_iter().map(|t| format!("{what}: timestamp without offset {t:?}")));
    }
    assert!(bad.is_empty(), "timestamps without a Z offset:\n{}", bad.join("\n"));
    seen
}

async fn every_timestamp_in_json_answers_is_rfc3339_utc(db: TestDb) {
    let app = TestApp::new(db).await;
    let admin = app.admin();
    let mut answers: Vec<(String, Resp)> = Vec::new();

    let r = app.post("/api/v1/schools", &admin, &json!({"county_code": COUNTY, "name": "一小"})).await;
    let school = r.json["id"].as_str().unwrap().to_owned();
    answers.push(("POST /schools".into(), r));
    let r = app.send(Method::PATCH, &format!("/api/v1/schools/{school}"), Some(&admin), Some(&json!({"students": 300})), &[]).await;
    answers.push(("PATCH /schools/{id}".into(), r));
    answers.push(("GET /schools/{id}".into(), app.get(&format!("/api/v1/schools/{school}"), &admin).await));
    let supplier = app.supplier(COUNTY, "cooperative").await;
    let r = app
        .post(
            &format!("/api/v1/suppliers/{supplier}/tags"),
            &admin,
            &json!({"tag": "cooperative", "valid_from": "2019-01-01", "evidence": "EV-1"}),
        )
        .await;
    let tag = r.json["id"].as_str().unwrap().to_owned();
    answers.push(("POST /suppliers/{id}/tags".into(), r));
    answers.push(("verify tag".into(), app.post(&format!("/api/v1/suppliers/{supplier}/tags/{tag}/verify"), &admin, &json!({})).await));
    answers.push(("GET /suppliers/{id}".into(), app.get(&format!("/api/v1/suppliers/{supplier}"), &admin).await));
    answers.push(("GET /suppliers".into(), app.get("/api/v1/suppliers", &admin).await));

    let vendor = app.token(&Role::Supplier(supplier.clone()));
    let canteen = app.token(&Role::Canteen(school.clone()));
    let r = app.post("/api/v1/webhooks", &vendor, &json!({"url": "https://erp.example.cn/hooks"})).await;
    let hook = r.json["id"].as_str().unwrap().to_owned();
    answers.push(("POST /webhooks".into(), r));

    let lines = json!([line("vegetables", "10", "jin", "1.5")]);
    let first = app.purchase_with_key(&school, &supplier, "2019-03-05", lines.clone(), "stamp-key-0001").await;
    let p1 = first.json["id"].as_str().unwrap().to_owned();
    answers.push(("POST /purchases".into(), first));
    let replay = app.purchase_with_key(&school, &supplier, "2019-03-05", lines.clone(), "stamp-key-0001").await;
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    answers.push(("POST /purchases (replayed)".into(), replay));
    let p2 = app.purchase(&school, &supplier, "2019-03-06", lines.clone()).await.json["id"].as_str().unwrap().to_owned();
    answers.push(("acknowledge".into(), app.post(&format!("/api/v1/purchases/{p1}/acknowledge"), &vendor, &json!({})).await));
    let body = json!({"paid_on": "2019-03-10", "amount": "5.00", "reference": "BANK-1"});
    answers.push(("POST /purchases/{id}/payments".into(), app.post(&format!("/api/v1/purchases/{p1}/payments"), &canteen, &body).await));
    answers.push(("GET /purchases/{id}/payments".into(), app.get(&format!("/api/v1/purchases/{p1}/payments"), &canteen).await));
    answers.push(("void".into(), app.post(&format!("/api/v1/purchases/{p2}/void"), &canteen, &json!({"reason": "entered twice"})).await));
    answers.push(("GET /purchases/{id}".into(), app.get(&format!("/api/v1/purchases/{p1}"), &canteen).await));
    answers.push(("GET /purchases".into(), app.get("/api/v1/purchases", &canteen).await));
    let batch = json!({"items": [{"idempotency_key": "stamp-batch-0001", "purchase":
        {"school_id": school, "supplier_id": supplier, "purchase_date": "2019-03-07", "lines": lines}}]});
    answers.push(("POST /purchases/batch".into(), app.post("/api/v1/purchases/batch", &canteen, &batch).await));
    answers.push(("overdue".into(), app.get(&format!("/api/v1/payments/overdue?county={COUNTY}&as_of=2019-12-31"), &admin).await));

    let delivery =
        json!({"school_id": school, "delivery_date": "2019-03-08", "reference": "DN-1", "lines": [line("grain", "2", "kg", "3")]});
    let r = app.send(Method::POST, "/api/v1/deliveries", Some(&vendor), Some(&delivery), &[("Idempotency-Key", "stamp-delivery-1")]).await;
    let d = r.json["id"].as_str().unwrap().to_owned();
    answers.push(("POST /deliveries".into(), r));
    answers.push(("confirm delivery".into(), app.post(&format!("/api/v1/deliveries/{d}/confirm"), &canteen, &json!({})).await));
    answers.push(("GET /deliveries/{id}".into(), app.get(&format!("/api/v1/deliveries/{d}"), &canteen).await));
    answers.push(("GET /deliveries".into(), app.get("/api/v1/deliveries", &canteen).await));

    let file = format!(
        "purchase_date,supplier_id,invoice_no,category,description,quantity,unit,unit_price\n2019-03-09,{supplier},INV-9,vegetables,白菜,10,kg,2.5\n"
    );
    let r = app.send_bytes(Method::POST, "/api/v1/imports", Some(&canteen), "text/csv", file.into_bytes()).await;
    answers.push(("POST /imports".into(), r));

    answers.push(("GET /webhooks".into(), app.get("/api/v1/webhooks", &vendor).await));
    answers.push(("GET /webhooks/{id}/deliveries".into(), app.get(&format!("/api/v1/webhooks/{hook}/deliveries"), &vendor).await));
    answers.push(("POST /tokens".into(), app.post("/api/v1/tokens", &admin, &json!({"role": "province", "label": "tablet"})).await));
    let province = app.token(&Role::Province);
    let put = app.send(Method::PUT, "/api/v1/targets/2019", Some(&province), Some(&json!({"numerator": 3, "denominator": 5})), &[]).await;
    answers.push(("PUT /targets/{year}".into(), put));
    answers.push(("GET /targets".into(), app.get("/api/v1/targets", &admin).await));
    answers.push(("GET /targets/{year}/history".into(), app.get("/api/v1/targets/2019/history", &admin).await));

    let seen = check(&answers.iter().map(|(w, r)| (w.clone(), r)).collect::<Vec<_>>());
    // The scenario reaches every timestamp the API has, so the check above cannot pass by
    // finding none.
    let expected = [
        "created_at",
        "declared_at",
        "decided_at",
        "expires_at",
        "next_attempt_at",
        "pushed_at",
        "recorded_at",
        "resolved_at",
        "reviewed_at",
        "set_at",
        "updated_at",
    ];
    let missing: Vec<&str> = expected.into_iter().filter(|k| !seen.contains(*k)).collect();
    assert!(missing.is_empty(), "the scenario never saw {missing:?} (seen: {seen:?})");
}

async fn exports_and_webhook_bodies_carry_no_timestamp_without_offset(db: TestDb) {
    let app = TestApp::new(db).await;
    let school = app.school(COUNTY, "一小").await;
    let _silent = app.school(COUNTY, "二小").await;
    let supplier = app.supplier(COUNTY, "cooperative").await;
    app.tag(&supplier, "cooperative", "2019-01-01", None, true).await;
    let vendor = app.token(&Role::Supplier(supplier.clone()));
    app.post("/api/v1/webhooks", &vendor, &json!({"url": "https://erp.example.cn/hooks"})).await.expect(201);
    let p = app.purchase(&school, &supplier, "2019-03-05", json!([line("vegetables", "10", "jin", "1.5")])).await;
    let id = p.json["id"].as_str().unwrap();
    let canteen = app.token(&Role::Canteen(school.clone()));
    app.post(&format!("/api/v1/purchases/{id}/void"), &canteen, &json!({"reason": "entered twice"})).await.expect(201);
    app.purchase(&school, &supplier, "2019-03-06", json!([line("grain", "1", "kg", "3")])).await.expect(201);

    // Webhook event bodies, as they will be POSTed.
    let bodies: Vec<String> = {
        use canteen_ledger::db::schema::webhook_events;
        let mut conn = app.state.db.get().unwrap();
        webhook_events::table.select(webhook_events::body).load(&mut conn).unwrap()
    };
    assert_eq!(bodies.len(), 3);
    for b in &bodies {
        let v: Value = serde_json::from_str(b).unwrap();
        let at = v["created_at"].as_str().unwrap();
        assert!(at.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(at).is_ok(), "{b}");
        assert!(naive_timestamps(b).is_empty(), "{b}");
    }

    // CSV and XLSX exports: every text they carry, including the workbook's metadata.
    let admin = app.admin();
    let mut texts = Vec::new();
    for path in [
        export(&format!("/api/v1/reports/shares?scope=county:{COUNTY}&period=2019-03&group_by=school"), "csv"),
        export(&format!("/api/v1/reports/silent-schools?scope=county:{COUNTY}&period=2019-03"), "csv"),
    ] {
        let r = app.get(&path, &admin).await;
        r.expect(200);
        texts.push((path, r.text));
    }
    for path in [
        export(&format!("/api/v1/reports/shares?scope=county:{COUNTY}&period=2019-03&group_by=school"), "xlsx"),
        export(&format!("/api/v1/reports/silent-schools?scope=county:{COUNTY}&period=2019-03"), "xlsx"),
        format!("/api/v1/reports/semi-monthly?county={COUNTY}&period=2019-03-H1"),
    ] {
        let req = actix_web::test::TestRequest::get().uri(&path).insert_header(("Authorization", format!("Bearer {admin}"))).to_request();
        let bytes = app.call_bytes(req).await;
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        for i in 0..zip.len() {
            let mut part = zip.by_index(i).unwrap();
            let name = part.name().to_owned();
            let mut xml = String::new();
            part.read_to_string(&mut xml).unwrap();
            texts.push((format!("{path} {name}"), xml));
        }
    }
    let bad: Vec<String> =
        texts.iter().flat_map(|(what, text)| naive_timestamps(text).into_iter().map(move |t| format!("{what}: {t}"))).collect();
    assert!(bad.is_empty(), "exports with timestamps without offset:\n{}", bad.join("\n"));
    assert!(texts.iter().any(|(_, t)| t.contains("一小")), "the exports hold the school");
}

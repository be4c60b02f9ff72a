//! Bad input at the HTTP boundary: every malformed or invalid request answers a 4xx
//! `application/problem+json` with a stable `type` URI and the offending field in
//! `errors[].field`, and writes nothing (lists unchanged, the ledger chain head unmoved).

use actix_web::http::Method;
use actix_web::test as atest;
use canteen_ledger::db::DbConn;
use canteen_ledger::domain::role::Role;
use canteen_ledger::http::clock::today_cst;
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Resp, TestApp, TestDb};

both_backends!(
    bad_purchases_are_rejected_and_write_nothing,
    bad_schools_are_rejected_and_write_nothing,
    bad_suppliers_are_rejected_and_write_nothing,
    bad_tag_declarations_are_rejected_and_write_nothing,
    bad_list_queries_are_rejected_with_the_parameter_named,
    unknown_routes_and_methods_are_problems,
    bad_deliveries_and_payments_are_rejected_and_write_nothing,
    control_characters_in_any_body_field_are_refused_and_write_nothing,
    control_characters_and_empty_values_in_queries_and_paths_are_refused,
    malformed_cursors_are_refused_on_every_paginated_list,
    loose_decimal_forms_are_refused_in_json_csv_and_xlsx,
    usernames_labels_school_codes_and_origin_codes_are_held_to_the_spec,
    a_line_whose_amount_rounds_to_zero_is_refused_everywhere,
    only_the_supplier_its_origin_county_and_the_province_declare_tags,
);

/// A request body as sent on the wire.
enum Body {
    /// Serialized JSON with `Content-Type: application/json`.
    Json(Value),
    /// Raw bytes with the given Content-Type (none when `None`).
    Raw(Vec<u8>, Option<&'static str>),
}

/// The `Idempotency-Key` header of a purchase case.
enum Key {
    /// A fresh UUID per case.
    Fresh,
    Missing,
    Exactly(&'static str),
}

/// One table row: what is sent and what must come back.
struct Case {
    what: &'static str,
    body: Body,
    key: Key,
    status: u16,
    /// Suffix of the problem `type` URI.
    kind: &'static str,
    /// `(field, code)` that must be among `errors`; `None` for problems about no field (404, 405).
    error: Option<(&'static str, &'static str)>,
}

fn case(what: &'static str, body: Body, status: u16, kind: &'static str, field: &'static str, code: &'static str) -> Case {
    Case { what, body, key: Key::Fresh, status, kind, error: Some((field, code)) }
}

/// A 422 validation problem naming `field` with `code`.
fn invalid(what: &'static str, body: Value, field: &'static str, code: &'static str) -> Case {
    case(what, Body::Json(body), 422, "validation", field, code)
}

/// `base` with `edit` applied.
fn with(base: &Value, edit: impl FnOnce(&mut Value)) -> Value {
    let mut v = base.clone();
    edit(&mut v);
    v
}

/// Removes `key` from the object at `v`.
fn drop_key(v: &mut Value, key: &str) {
    v.as_object_mut().expect("object").remove(key);
}

async fn send(app: &TestApp, method: Method, path: &str, token: &str, body: &Body, headers: &[(&str, String)]) -> Resp {
    let mut req = atest::TestRequest::default().method(method).uri(path).insert_header(("Authorization", format!("Bearer {token}")));
    for (k, v) in headers {
        req = req.insert_header((*k, v.as_str()));
    }
    req = match body {
        Body::Json(v) => req.set_json(v),
        Body::Raw(bytes, ct) => {
            if let Some(ct) = ct {
                req = req.insert_header(("Content-Type", *ct));
            }
            req.set_payload(bytes.clone())
        }
    };
    app.call(req.to_request()).await
}

/// What is wrong with `r` as the answer to `c`: the problem shape, the `type`, the
/// expected field error, and a field on every error. Empty when it is right.
fn check(r: &Resp, c: &Case) -> Vec<String> {
    let mut wrong = Vec::new();
    let mut expect = |ok: bool, what: String| {
        if !ok {
            wrong.push(format!("{}: {what}; got {} {}", c.what, r.status.as_u16(), r.text));
        }
    };
    expect(r.status.as_u16() == c.status, format!("status should be {}", c.status));
    expect(r.status.is_client_error(), "status should be 4xx".into());
    expect(r.header("content-type") == Some("application/problem+json"), format!("content-type is {:?}", r.header("content-type")));
    expect(r.json["type"] == format!("urn:canteen-ledger:problem:{}", c.kind), format!("type should end in {}", c.kind));
    expect(r.json["status"] == c.status, "problem status should match".into());
    expect(r.json["title"].as_str().is_some_and(|t| !t.is_empty()), "problem should have a title".into());
    let errors = r.json["errors"].as_array().cloned().unwrap_or_default();
    let named = |e: &Value, k: &str| e[k].as_str().is_some_and(|f| !f.is_empty());
    expect(
        errors.iter().all(|e| named(e, "field") && named(e, "code") && named(e, "message")),
        "every error needs field, code, message".into(),
    );
    if let Some((field, code)) = c.error {
        expect(
            errors.iter().any(|e| e["field"] == field && e["code"] == code),
            format!("errors[] should hold {{field: {field}, code: {code}}}"),
        );
    }
    wrong
}

/// Fails with every collected complaint.
#[track_caller]
fn assert_none(wrong: &[String]) {
    assert!(wrong.is_empty(), "{} bad answer(s):\n{}", wrong.len(), wrong.join("\n"));
}

/// Ids of a list response, asserting it answered 200.
async fn ids(app: &TestApp, path: &str, token: &str) -> Vec<String> {
    let r = app.get(path, token).await;
    r.expect(200);
    r.json["items"].as_array().expect("items").iter().map(|i| i["id"].as_str().expect("id").to_owned()).collect()
}

async fn head_seq(app: &TestApp, school: &str) -> i64 {
    let r = app.get(&format!("/api/v1/schools/{school}/ledger/verify"), &app.admin()).await;
    r.expect(200);
    assert_eq!(r.json["valid"], true, "{}", r.text);
    r.json["head_seq"].as_i64().expect("head_seq")
}

async fn bad_purchases_are_rejected_and_write_nothing(db: TestDb) {
    let app = TestApp::new(db).await;
    let school = app.school("520102", "一小").await;
    let supplier = app.supplier("522731", "cooperative").await;
    let canteen = app.token(&Role::Canteen(school.clone()));
    let good = json!({
        "school_id": school,
        "supplier_id": supplier,
        "purchase_date": "2019-03-05",
        "invoice_no": "INV-1",
        "lines": [{"category": "vegetables", "description": "白菜", "quantity": "10", "unit": "kg", "unit_price": "1.5", "amount": "15.00"}],
    });
    // One good entry first, so "unchanged" is checked against a non-empty ledger.
    send(&app, Method::POST, "/api/v1/purchases", &canteen, &Body::Json(good.clone()), &[("Idempotency-Key", "good-key-0001".into())])
        .await
        .expect(201);
    let before = ids(&app, "/api/v1/purchases", &canteen).await;
    assert_eq!(head_seq(&app, &school).await, 1);

    let line = |edit: fn(&mut Value)| with(&good, |b| edit(&mut b["lines"][0]));
    let future = (today_cst() + chrono::Duration::days(2)).to_string();
    let big_description = "菜".repeat(90_000); // 270,000 bytes of UTF-8
    let many_lines: Vec<Value> = (0..201).map(|_| good["lines"][0].clone()).collect();

    let cases = vec![
        // The body as a whole.
        case(
            "malformed JSON",
            Body::Raw(br#"{"school_id": "#.to_vec(), Some("application/json")),
            400,
            "bad-request",
            "body",
            "malformed_json",
        ),
        case(
            "trailing garbage after JSON",
            Body::Raw(b"{} x".to_vec(), Some("application/json")),
            400,
            "bad-request",
            "body",
            "malformed_json",
        ),
        case("empty body", Body::Raw(Vec::new(), Some("application/json")), 400, "bad-request", "body", "malformed_json"),
        invalid("a JSON array instead of an object", json!([good.clone()]), "body", "invalid_type"),
        invalid(
            "the purchase as a positional array",
            json!([school, supplier, "2019-03-05", null, good["lines"].clone()]),
            "body",
            "invalid_type",
        ),
        invalid("JSON null", Value::Null, "body", "invalid_type"),
        invalid("a JSON string", json!("purchase"), "body", "invalid_type"),
        case(
            "non-JSON Content-Type",
            Body::Raw(serde_json::to_vec(&good).expect("json"), Some("text/plain")),
            422,
            "validation",
            "Content-Type",
            "unsupported_media_type",
        ),
        case(
            "form Content-Type",
            Body::Raw(b"school_id=x".to_vec(), Some("application/x-www-form-urlencoded")),
            422,
            "validation",
            "Content-Type",
            "unsupported_media_type",
        ),
        case(
            "body over 256 KiB",
            Body::Json(with(&good, |b| b["lines"][0]["description"] = json!(big_description))),
            413,
            "payload-too-large",
            "body",
            "too_large",
        ),
        // Shape: unknown, missing and mistyped fields.
        invalid("unknown top-level field", with(&good, |b| b["colour"] = json!("red")), "colour", "unknown_field"),
        invalid("unknown line field", line(|l| l["discount"] = json!("1.00")), "lines[0].discount", "unknown_field"),
        invalid("missing school_id", with(&good, |b| drop_key(b, "school_id")), "school_id", "required"),
        invalid("missing lines", with(&good, |b| drop_key(b, "lines")), "lines", "required"),
        invalid("missing lines[0].unit_price", line(|l| drop_key(l, "unit_price")), "lines[0].unit_price", "required"),
        invalid("missing lines[0].unit", line(|l| drop_key(l, "unit")), "lines[0].unit", "required"),
        invalid("school_id as a number", with(&good, |b| b["school_id"] = json!(12)), "school_id", "invalid_type"),
        invalid("lines as a string", with(&good, |b| b["lines"] = json!("cabbage")), "lines", "invalid_type"),
        invalid("a line as a number", with(&good, |b| b["lines"] = json!([1])), "lines[0]", "invalid_type"),
        invalid("quantity as a boolean", line(|l| l["quantity"] = json!(true)), "lines[0].quantity", "invalid_type"),
        invalid("unit_price as a JSON number", line(|l| l["unit_price"] = json!(1.5)), "lines[0].unit_price", "invalid_type"),
        invalid("integer unit_price as a JSON number", line(|l| l["unit_price"] = json!(2)), "lines[0].unit_price", "invalid_type"),
        invalid("amount as a JSON number", line(|l| l["amount"] = json!(15.0)), "lines[0].amount", "invalid_type"),
        invalid("quantity as a JSON number", line(|l| l["quantity"] = json!(10)), "lines[0].quantity", "invalid_type"),
        invalid("unit_price not a number", line(|l| l["unit_price"] = json!("1,5")), "lines[0].unit_price", "invalid_value"),
        invalid("purchase_date not a date", with(&good, |b| b["purchase_date"] = json!("2019-02-30")), "purchase_date", "invalid_value"),
        invalid("purchase_date as a number", with(&good, |b| b["purchase_date"] = json!(20190305)), "purchase_date", "invalid_type"),
        // Money and quantities.
        invalid("amount with 3 decimal places", line(|l| l["amount"] = json!("15.001")), "lines[0].amount", "too_precise"),
        invalid("unit_price with 5 decimal places", line(|l| l["unit_price"] = json!("1.50001")), "lines[0].unit_price", "too_precise"),
        invalid("quantity with 4 decimal places", line(|l| l["quantity"] = json!("10.0001")), "lines[0].quantity", "too_precise"),
        invalid("zero quantity", line(|l| l["quantity"] = json!("0")), "lines[0].quantity", "non_positive_quantity"),
        invalid("negative quantity", line(|l| l["quantity"] = json!("-2")), "lines[0].quantity", "non_positive_quantity"),
        invalid("negative unit_price", line(|l| l["unit_price"] = json!("-1.5")), "lines[0].unit_price", "negative_amount"),
        invalid("negative amount", line(|l| l["amount"] = json!("-15.00")), "lines[0].amount", "negative_amount"),
        invalid("amount off by 0.02", line(|l| l["amount"] = json!("15.02")), "lines[0].amount", "amount_mismatch"),
        invalid(
            "amount overflowing the ledger",
            line(|l| {
                l["quantity"] = json!("999999999");
                l["unit_price"] = json!("99999999999.9999");
                drop_key(l, "amount");
            }),
            "lines[0].amount",
            "too_large",
        ),
        // Vocabularies.
        invalid("unknown unit", line(|l| l["unit"] = json!("bushel")), "lines[0].unit", "unknown_value"),
        invalid("unit in the wrong case", line(|l| l["unit"] = json!("KG")), "lines[0].unit", "unknown_value"),
        invalid("unknown category", line(|l| l["category"] = json!("sweets")), "lines[0].category", "unknown_value"),
        invalid("blank description", line(|l| l["description"] = json!("  ")), "lines[0].description", "blank"),
        // Dates and lines.
        invalid("purchase date in the future", with(&good, |b| b["purchase_date"] = json!(future)), "purchase_date", "date_in_future"),
        invalid("purchase date before 2014", with(&good, |b| b["purchase_date"] = json!("2013-12-31")), "purchase_date", "date_too_early"),
        invalid("empty lines", with(&good, |b| b["lines"] = json!([])), "lines", "no_lines"),
        invalid("more than 200 lines", with(&good, |b| b["lines"] = json!(many_lines)), "lines", "too_many_lines"),
        // References.
        invalid("unknown supplier", with(&good, |b| b["supplier_id"] = json!("no-such-supplier")), "supplier_id", "unknown_supplier"),
        // The Idempotency-Key header.
        Case { key: Key::Missing, ..invalid("missing Idempotency-Key", good.clone(), "Idempotency-Key", "required") },
        Case { key: Key::Exactly("short"), ..invalid("too short Idempotency-Key", good.clone(), "Idempotency-Key", "bad_key") },
        Case {
            key: Key::Exactly("has spaces in it"),
            ..invalid("Idempotency-Key with spaces", good.clone(), "Idempotency-Key", "bad_key")
        },
        Case {
            key: Key::Exactly("key/with/slashes"),
            ..invalid("Idempotency-Key with slashes", good.clone(), "Idempotency-Key", "bad_key")
        },
    ];

    let mut wrong = Vec::new();
    for c in &cases {
        let headers: Vec<(&str, String)> = match c.key {
            Key::Fresh => vec![("Idempotency-Key", uuid::Uuid::new_v4().to_string())],
            Key::Missing => vec![],
            Key::Exactly(k) => vec![("Idempotency-Key", k.to_owned())],
        };
        let r = send(&app, Method::POST, "/api/v1/purchases", &canteen, &c.body, &headers).await;
        wrong.extend(check(&r, c));
        if ids(&app, "/api/v1/purchases", &canteen).await != before || head_seq(&app, &school).await != 1 {
            panic!("{}: a purchase was written (answer {} {}); earlier complaints: {wrong:#?}", c.what, r.status, r.text);
        }
    }
    assert_none(&wrong);

    // A bad request does not burn its idempotency key: the same key then records normally.
    let key = "reused-after-bad-0001";
    let bad = with(&good, |b| b["lines"][0]["unit"] = json!("bushel"));
    send(&app, Method::POST, "/api/v1/purchases", &canteen, &Body::Json(bad), &[("Idempotency-Key", key.into())]).await.problem(422);
    send(&app, Method::POST, "/api/v1/purchases", &canteen, &Body::Json(good.clone()), &[("Idempotency-Key", key.into())])
        .await
        .expect(201);
    assert_eq!(head_seq(&app, &school).await, 2);
}

async fn bad_schools_are_rejected_and_write_nothing(db: TestDb) {
    let app = TestApp::new(db).await;
    let admin = app.admin();
    app.school("520102", "一小").await;
    let before = ids(&app, "/api/v1/schools", &admin).await;
    let good = json!({"county_code": "520102", "name": "二小", "code": "S-2", "students": 300, "address": "贵阳"});

    let cases = vec![
        case("malformed JSON", Body::Raw(br#"{"name": "#.to_vec(), Some("application/json")), 400, "bad-request", "body", "malformed_json"),
        invalid("unknown county (Beijing)", with(&good, |b| b["county_code"] = json!("110101")), "county_code", "unknown_county"),
        invalid("unknown county in Guizhou", with(&good, |b| b["county_code"] = json!("529999")), "county_code", "unknown_county"),
        invalid("a prefecture, not a county", with(&good, |b| b["county_code"] = json!("520100")), "county_code", "unknown_county"),
        invalid("county_code not a code", with(&good, |b| b["county_code"] = json!("abc")), "county_code", "unknown_county"),
        invalid("county_code as a number", with(&good, |b| b["county_code"] = json!(520102)), "county_code", "invalid_type"),
        invalid("blank name", with(&good, |b| b["name"] = json!("   ")), "name", "blank"),
        invalid("empty name", with(&good, |b| b["name"] = json!("")), "name", "blank"),
        invalid("name too long", with(&good, |b| b["name"] = json!("校".repeat(201))), "name", "too_long"),
        invalid("missing name", with(&good, |b| drop_key(b, "name")), "name", "required"),
        invalid("negative students", with(&good, |b| b["students"] = json!(-1)), "students", "out_of_range"),
        invalid("students as a string", with(&good, |b| b["students"] = json!("300")), "students", "invalid_type"),
        invalid("unknown field", with(&good, |b| b["principal"] = json!("王")), "principal", "unknown_field"),
    ];
    let mut wrong = Vec::new();
    for c in &cases {
        let r = send(&app, Method::POST, "/api/v1/schools", &admin, &c.body, &[]).await;
        wrong.extend(check(&r, c));
        assert_eq!(ids(&app, "/api/v1/schools", &admin).await, before, "{}: a school was written; earlier complaints: {wrong:#?}", c.what);
    }
    assert_none(&wrong);
}

async fn bad_suppliers_are_rejected_and_write_nothing(db: TestDb) {
    let app = TestApp::new(db).await;
    let admin = app.admin();
    app.supplier("522731", "cooperative").await;
    let before = ids(&app, "/api/v1/suppliers", &admin).await;
    let good = json!({"name": "好花红合作社", "kind": "cooperative", "origin_county_code": "522731", "registration_ref": "REG-2"});

    let cases = vec![
        case("malformed JSON", Body::Raw(b"{'name': 1}".to_vec(), Some("application/json")), 400, "bad-request", "body", "malformed_json"),
        invalid("origin code of 5 digits", with(&good, |b| b["origin_county_code"] = json!("52273")), "origin_county_code", "bad_code"),
        invalid("origin code with letters", with(&good, |b| b["origin_county_code"] = json!("52273x")), "origin_county_code", "bad_code"),
        invalid("origin code of 7 digits", with(&good, |b| b["origin_county_code"] = json!("5227310")), "origin_county_code", "bad_code"),
        invalid("origin code empty", with(&good, |b| b["origin_county_code"] = json!("")), "origin_county_code", "bad_code"),
        invalid(
            "unknown 52xxxx county",
            with(&good, |b| b["origin_county_code"] = json!("529999")),
            "origin_county_code",
            "unknown_county",
        ),
        invalid(
            "a Guizhou prefecture code",
            with(&good, |b| b["origin_county_code"] = json!("522700")),
            "origin_county_code",
            "unknown_county",
        ),
        invalid("origin code as a number", with(&good, |b| b["origin_county_code"] = json!(522731)), "origin_county_code", "invalid_type"),
        invalid("unknown kind", with(&good, |b| b["kind"] = json!("farmer")), "kind", "unknown_value"),
        invalid("blank name", with(&good, |b| b["name"] = json!(" ")), "name", "blank"),
        invalid("blank registration_ref", with(&good, |b| b["registration_ref"] = json!("")), "registration_ref", "blank"),
        invalid("missing registration_ref", with(&good, |b| drop_key(b, "registration_ref")), "registration_ref", "required"),
        invalid("unknown field", with(&good, |b| b["tags"] = json!([])), "tags", "unknown_field"),
    ];
    let mut wrong = Vec::new();
    for c in &cases {
        let r = send(&app, Method::POST, "/api/v1/suppliers", &admin, &c.body, &[]).await;
        wrong.extend(check(&r, c));
        assert_eq!(
            ids(&app, "/api/v1/suppliers", &admin).await,
            before,
            "{}: a supplier was written; earlier complaints: {wrong:#?}",
            c.what
        );
    }
    assert_none(&wrong);
}

async fn bad_tag_declarations_are_rejected_and_write_nothing(db: TestDb) {
    let app = TestApp::new(db).await;
    let admin = app.admin();
    let supplier = app.supplier("522731", "cooperative").await;
    let path = format!("/api/v1/suppliers/{supplier}/tags");
    let good = json!({"tag": "cooperative", "valid_from": "2019-01-01", "valid_to": "2019-12-31", "evidence": "93522731MA6"});

    let cases = vec![
        case(
            "malformed JSON",
            Body::Raw(b"{\"tag\": cooperative}".to_vec(), Some("application/json")),
            400,
            "bad-request",
            "body",
            "malformed_json",
        ),
        invalid("valid_to before valid_from", with(&good, |b| b["valid_to"] = json!("2018-12-31")), "valid_to", "inverted_validity"),
        invalid("blank evidence", with(&good, |b| b["evidence"] = json!("  ")), "evidence", "blank"),
        invalid("empty evidence", with(&good, |b| b["evidence"] = json!("")), "evidence", "blank"),
        invalid("evidence too long", with(&good, |b| b["evidence"] = json!("x".repeat(501))), "evidence", "too_long"),
        invalid("missing evidence", with(&good, |b| drop_key(b, "evidence")), "evidence", "required"),
        invalid("unknown tag", with(&good, |b| b["tag"] = json!("organic")), "tag", "unknown_value"),
        invalid("valid_from not a date", with(&good, |b| b["valid_from"] = json!("2019-13-01")), "valid_from", "invalid_value"),
        invalid("missing valid_from", with(&good, |b| drop_key(b, "valid_from")), "valid_from", "required"),
        invalid("status may not be sent", with(&good, |b| b["status"] = json!("verified")), "status", "unknown_field"),
    ];
    let mut wrong = Vec::new();
    for c in &cases {
        let r = send(&app, Method::POST, &path, &admin, &c.body, &[]).await;
        wrong.extend(check(&r, c));
        let s = app.get(&format!("/api/v1/suppliers/{supplier}"), &admin).await;
        s.expect(200);
        assert_eq!(s.json["tags"], json!([]), "{}: a tag was written; earlier complaints: {wrong:#?}", c.what);
    }
    assert_none(&wrong);

    // Reviews of a declared tag: verify takes an optional body, revoke a required reason.
    let tag = app.tag(&supplier, "cooperative", "2019-01-01", None, false).await;
    let verify = format!("/api/v1/suppliers/{supplier}/tags/{tag}/verify");
    let revoke = format!("/api/v1/suppliers/{supplier}/tags/{tag}/revoke");
    let reviews = vec![
        (
            &verify,
            case(
                "verify: malformed JSON",
                Body::Raw(b"{note}".to_vec(), Some("application/json")),
                400,
                "bad-request",
                "body",
                "malformed_json",
            ),
        ),
        (&verify, invalid("verify: note as a number", json!({"note": 5}), "note", "invalid_type")),
        (&verify, invalid("verify: unknown field", json!({"status": "verified"}), "status", "unknown_field")),
        (&verify, invalid("verify: note too long", json!({"note": "x".repeat(501)}), "note", "too_long")),
        (
            &verify,
            case(
                "verify: text/plain note",
                Body::Raw(b"ok".to_vec(), Some("text/plain")),
                422,
                "validation",
                "Content-Type",
                "unsupported_media_type",
            ),
        ),
        (&revoke, invalid("revoke: blank reason", json!({"reason": " "}), "reason", "blank")),
        (&revoke, invalid("revoke: missing reason", json!({}), "reason", "required")),
        (
            &revoke,
            case("revoke: empty body", Body::Raw(Vec::new(), Some("application/json")), 400, "bad-request", "body", "malformed_json"),
        ),
    ];
    let mut wrong = Vec::new();
    for (path, c) in &reviews {
        let r = send(&app, Method::POST, path, &admin, &c.body, &[]).await;
        wrong.extend(check(&r, c));
        let s = app.get(&format!("/api/v1/suppliers/{supplier}"), &admin).await;
        assert_eq!(s.json["tags"][0]["status"], "declared", "{}: the tag was reviewed; earlier complaints: {wrong:#?}", c.what);
    }
    assert_none(&wrong);
    // Verify's body is optional: no body at all still verifies.
    send(&app, Method::POST, &verify, &admin, &Body::Raw(Vec::new(), None), &[]).await.expect(200);
}

async fn bad_list_queries_are_rejected_with_the_parameter_named(db: TestDb) {
    let app = TestApp::new(db).await;
    let admin = app.admin();
    let cases: Vec<(&str, &str, &str)> = vec![
        ("/api/v1/purchases?limit=0", "limit", "out_of_range"),
        ("/api/v1/purchases?limit=-1", "limit", "out_of_range"),
        ("/api/v1/purchases?limit=501", "limit", "out_of_range"),
        ("/api/v1/purchases?limit=abc", "limit", "invalid_value"),
        ("/api/v1/purchases?limit=1.5", "limit", "invalid_value"),
        ("/api/v1/purchases?limit=99999999999999999999", "limit", "invalid_value"),
        ("/api/v1/purchases?cursor=zz", "cursor", "bad_cursor"),
        ("/api/v1/purchases?from=2019-02-30", "from", "invalid_value"),
        ("/api/v1/purchases?from=2019-03-02&to=2019-03-01", "from", "inverted_range"),
        ("/api/v1/purchases?colour=red", "colour", "unknown_field"),
        ("/api/v1/schools?limit=0", "limit", "out_of_range"),
        ("/api/v1/schools?limit=abc", "limit", "invalid_value"),
        ("/api/v1/suppliers?limit=abc", "limit", "invalid_value"),
        ("/api/v1/suppliers?kind=farmer", "kind", "unknown_value"),
        ("/api/v1/suppliers?limit=5&limit=6", "query", "invalid_value"),
        ("/api/v1/counties?prefecture=520100&x=1", "x", "unknown_field"),
        // Division-code filters are six digits, as the schema says (not "no match").
        ("/api/v1/counties?prefecture=null", "prefecture", "invalid_value"),
        ("/api/v1/schools?county=52010", "county", "invalid_value"),
        ("/api/v1/schools?prefecture=5201000", "prefecture", "invalid_value"),
        ("/api/v1/suppliers?origin_county=abcdef", "origin_county", "invalid_value"),
        ("/api/v1/reports/shares?from=2019-01-01&to=2019-01-31", "scope", "required"),
        ("/api/v1/reports/shares?scope=province&from=2019-1-1x&to=2019-01-31", "from", "invalid_value"),
    ];
    let mut wrong = Vec::new();
    for (path, field, code) in cases {
        let r = app.get(path, &admin).await;
        let c = Case {
            what: path,
            body: Body::Json(Value::Null),
            key: Key::Missing,
            status: 422,
            kind: "validation",
            error: Some((field, code)),
        };
        wrong.extend(check(&r, &c));
    }
    assert_none(&wrong);
}

async fn unknown_routes_and_methods_are_problems(db: TestDb) {
    let app = TestApp::new(db).await;
    let admin = app.admin();
    let none = Body::Raw(Vec::new(), None);
    let mut wrong = Vec::new();
    let problem = |what, status, kind| Case { what, body: Body::Raw(Vec::new(), None), key: Key::Missing, status, kind, error: None };

    for (method, path) in
        [(Method::GET, "/api/v1/no-such-route"), (Method::POST, "/api/v1/purchases/x/y/z"), (Method::GET, "/api/v2/purchases")]
    {
        let r = send(&app, method, path, &admin, &none, &[]).await;
        wrong.extend(check(&r, &problem(path, 404, "not-found")));
    }
    for (method, path, allow) in [
        (Method::PUT, "/api/v1/purchases/some-id", "GET"),
        (Method::DELETE, "/api/v1/purchases", "GET, POST"),
        (Method::PATCH, "/api/v1/purchases", "GET, POST"),
        (Method::DELETE, "/api/v1/schools/some-id", "GET, PATCH"),
        (Method::GET, "/api/v1/purchases/some-id/void", "POST"),
    ] {
        let r = send(&app, method.clone(), path, &admin, &none, &[]).await;
        wrong.extend(check(&r, &problem(path, 405, "method-not-allowed")));
        if r.header("allow") != Some(allow) {
            wrong.push(format!("{method} {path}: Allow should be {allow:?}, got {:?}", r.header("allow")));
        }
    }
    assert_none(&wrong);
}

async fn bad_deliveries_and_payments_are_rejected_and_write_nothing(db: TestDb) {
    let app = TestApp::new(db).await;
    let school = app.school("522731", "一小").await;
    let supplier = app.supplier("522731", "cooperative").await;
    let vendor = app.token(&Role::Supplier(supplier.clone()));
    let canteen = app.token(&Role::Canteen(school.clone()));
    let line = json!({"category": "grain", "description": "大米", "quantity": "2", "unit": "kg", "unit_price": "3"});
    let good = json!({"school_id": school, "delivery_date": "2019-03-05", "reference": "DN-1", "lines": [line]});
    let tomorrow = (today_cst() + chrono::Days::new(1)).to_string();

    let deliveries = vec![
        case("malformed JSON", Body::Raw(b"{'school_id'".to_vec(), Some("application/json")), 400, "bad-request", "body", "malformed_json"),
        invalid("unknown school", with(&good, |b| b["school_id"] = json!("nope")), "school_id", "unknown_school"),
        invalid("future delivery date", with(&good, |b| b["delivery_date"] = json!(tomorrow)), "delivery_date", "date_in_future"),
        invalid("blank reference", with(&good, |b| b["reference"] = json!(" ")), "reference", "blank"),
        invalid("missing reference", with(&good, |b| drop_key(b, "reference")), "reference", "required"),
        invalid("no lines", with(&good, |b| b["lines"] = json!([])), "lines", "no_lines"),
        invalid("bad unit price", with(&good, |b| b["lines"][0]["unit_price"] = json!("-1")), "lines[0].unit_price", "negative_amount"),
        invalid("a supplier_id of its own", with(&good, |b| b["supplier_id"] = json!(supplier)), "supplier_id", "unknown_field"),
        Case { key: Key::Missing, ..invalid("missing Idempotency-Key", good.clone(), "Idempotency-Key", "required") },
    ];
    let mut wrong = Vec::new();
    for c in &deliveries {
        let key = match c.key {
            Key::Fresh => vec![("Idempotency-Key", uuid::Uuid::new_v4().to_string())],
            Key::Missing => vec![],
            Key::Exactly(k) => vec![("Idempotency-Key", k.to_owned())],
        };
        let r = send(&app, Method::POST, "/api/v1/deliveries", &vendor, &c.body, &key).await;
        wrong.extend(check(&r, c));
        assert!(ids(&app, "/api/v1/deliveries", &vendor).await.is_empty(), "{}: a delivery was written", c.what);
    }

    let p = app
        .purchase(
            &school,
            &supplier,
            "2019-03-05",
            json!([{"category": "grain", "description": "米", "quantity": "2", "unit": "kg", "unit_price": "3"}]),
        )
        .await;
    let pid = p.json["id"].as_str().unwrap().to_owned();
    let pay = json!({"paid_on": "2019-03-20", "amount": "1.00", "reference": "BANK-1"});
    let payments = vec![
        invalid("zero amount", with(&pay, |b| b["amount"] = json!("0")), "amount", "not_positive"),
        invalid("three decimals", with(&pay, |b| b["amount"] = json!("0.001")), "amount", "too_precise"),
        invalid("amount as a number", with(&pay, |b| b["amount"] = json!(1)), "amount", "invalid_type"),
        invalid("more than the total", with(&pay, |b| b["amount"] = json!("6.01")), "amount", "exceeds_unpaid"),
        invalid("future payment date", with(&pay, |b| b["paid_on"] = json!(tomorrow)), "paid_on", "date_in_future"),
        invalid("blank reference", with(&pay, |b| b["reference"] = json!("")), "reference", "blank"),
        invalid("unknown field", with(&pay, |b| b["method"] = json!("cash")), "method", "unknown_field"),
    ];
    for c in &payments {
        let r = send(&app, Method::POST, &format!("/api/v1/purchases/{pid}/payments"), &canteen, &c.body, &[]).await;
        wrong.extend(check(&r, c));
        let listed = app.get(&format!("/api/v1/purchases/{pid}/payments"), &canteen).await;
        assert_eq!(listed.json, json!([]), "{}: a payment was written", c.what);
    }
    assert_none(&wrong);
}

/// Tables a request could write to; their row counts must not move on a refused request.
const TABLES: [&str; 19] = [
    "users",
    "api_tokens",
    "schools",
    "suppliers",
    "supplier_tags",
    "purchases",
    "purchase_lines",
    "idempotency_keys",
    "audit_log",
    "imports",
    "deliveries",
    "purchase_confirmations",
    "payments",
    "webhook_subscriptions",
    "webhook_events",
    "county_designations",
    "targets",
    "target_history",
    "ledger_heads",
];

/// Row counts of every table in [`TABLES`].
fn rows(app: &TestApp) -> Vec<(&'static str, i64)> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = app.state.db.get().expect("connection");
    TABLES
        .iter()
        .map(|t| {
            let q = diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {t}"));
            let n = match &mut *conn {
                DbConn::Pg(c) => q.get_result::<Count>(c),
                DbConn::Sqlite(c) => q.get_result::<Count>(c),
            };
            (*t, n.expect("count").n)
        })
        .collect()
}

/// A fresh key for every request (harmless where none is read).
fn fresh_key() -> Vec<(&'static str, String)> {
    vec![("Idempotency-Key", uuid::Uuid::new_v4().to_string())]
}

/// A 422 naming `field` with `code`, for a request that is not a body case.
fn named(what: String, field: String, code: &'static str) -> (String, String, &'static str) {
    (what, field, code)
}

/// Checks an answer against a 4xx problem with `status`, `kind` and, when given,
/// `(field, code)` among its errors.
fn check_problem(r: &Resp, what: &str, status: u16, kind: &str, error: Option<(&str, &str)>) -> Vec<String> {
    let c = Case {
        what: "",
        body: Body::Json(Value::Null),
        key: Key::Missing,
        status,
        kind: if kind == "validation" {
            "validation"
        } else if kind == "not-found" {
            "not-found"
        } else {
            "bad-request"
        },
        error: None,
    };
    let mut wrong: Vec<String> = check(r, &c).into_iter().map(|w| format!("{what}{w}")).collect();
    if let Some((field, code)) = error {
        let errors = r.json["errors"].as_array().cloned().unwrap_or_default();
        if !errors.iter().any(|e| e["field"] == field && e["code"] == code) {
            wrong.push(format!("{what}: errors[] should hold {{field: {field:?}, code: {code}}}; got {} {}", r.status.as_u16(), r.text));
        }
    }
    wrong
}

/// The world most of the tables below write into: a school of 惠水县 with a purchase, a
/// delivery and a declared tag on its supplier, and a supplier's webhook.
struct World {
    app: TestApp,
    school: String,
    supplier: String,
    canteen: String,
    vendor: String,
    purchase: String,
    delivery: String,
    tag: String,
    webhook: String,
}

async fn world(db: TestDb) -> World {
    let app = TestApp::new(db).await;
    let school = app.school("522731", "一小").await;
    let supplier = app.supplier("522731", "cooperative").await;
    let canteen = app.token(&Role::Canteen(school.clone()));
    let vendor = app.token(&Role::Supplier(supplier.clone()));
    let p = app.purchase(&school, &supplier, "2019-03-05", json!([crate::helpers::line("grain", "2", "kg", "3")])).await;
    p.expect(201);
    let purchase = p.json["id"].as_str().expect("id").to_owned();
    let body = json!({"school_id": school, "delivery_date": "2019-03-05", "reference": "DN-1",
        "lines": [crate::helpers::line("grain", "2", "kg", "3")]});
    let d = send(&app, Method::POST, "/api/v1/deliveries", &vendor, &Body::Json(body), &fresh_key()).await;
    d.expect(201);
    let delivery = d.json["id"].as_str().expect("id").to_owned();
    let tag = app.tag(&supplier, "cooperative", "2019-01-01", None, false).await;
    let w = send(&app, Method::POST, "/api/v1/webhooks", &vendor, &Body::Json(json!({"url": "https://example.com/hook"})), &[]).await;
    w.expect(201);
    let webhook = w.json["id"].as_str().expect("id").to_owned();
    World { app, school, supplier, canteen, vendor, purchase, delivery, tag, webhook }
}

async fn control_characters_in_any_body_field_are_refused_and_write_nothing(db: TestDb) {
    let w = world(db).await;
    let app = &w.app;
    let admin = app.admin();
    let county = app.token(&Role::County("522731".into()));
    let line = crate::helpers::line("grain", "2", "kg", "3");
    let purchase =
        json!({"school_id": w.school, "supplier_id": w.supplier, "purchase_date": "2019-03-06", "invoice_no": "INV-9", "lines": [line]});
    let delivery = json!({"school_id": w.school, "delivery_date": "2019-03-06", "reference": "DN-9", "invoice_no": "I-9", "lines": [line]});
    let supplier = json!({"name": "合作社", "kind": "cooperative", "origin_county_code": "522731", "registration_ref": "REG-9"});
    let school = json!({"county_code": "522731", "name": "二小", "code": "S-2", "address": "惠水"});
    let tag = json!({"tag": "poor_household", "valid_from": "2019-01-01", "evidence": "EV-9"});
    let user = json!({"username": "new-user", "password": "a-long-password-1", "role": "province"});
    let token = json!({"role": "province", "label": "tablet"});
    let designations = json!({"designations": [{"valid_from": "2014-01-01", "valid_to": "2020-12-31", "note": "list"}]});
    let item = |p: Value| json!({"items": [{"idempotency_key": uuid::Uuid::new_v4().to_string(), "purchase": p}]});
    let p = &w.purchase;
    let d = &w.delivery;
    let sup = &w.supplier;
    let t = &w.tag;
    let post = Method::POST;
    let nul = "\u{0}";

    // (what, method, path, token, body, field): the field's value gets a NUL.
    let set = |base: &Value, pointer: &str| {
        let mut v = base.clone();
        let slot = v.pointer_mut(pointer).expect("pointer");
        *slot = json!(format!("{}{nul}", slot.as_str().unwrap_or("x")));
        v
    };
    let cases: Vec<(&str, Method, String, &str, Value, &str)> = vec![
        (
            "login username",
            post.clone(),
            "/api/v1/auth/token".into(),
            "",
            json!({"username": "ad\u{0}min", "password": "whatever-password"}),
            "username",
        ),
        (
            "login password",
            post.clone(),
            "/api/v1/auth/token".into(),
            "",
            json!({"username": "admin", "password": "pass\u{0}word"}),
            "password",
        ),
        (
            "purchase description",
            post.clone(),
            "/api/v1/purchases".into(),
            &w.canteen,
            set(&purchase, "/lines/0/description"),
            "lines[0].description",
        ),
        ("purchase invoice_no", post.clone(), "/api/v1/purchases".into(), &w.canteen, set(&purchase, "/invoice_no"), "invoice_no"),
        ("purchase supplier_id", post.clone(), "/api/v1/purchases".into(), &w.canteen, set(&purchase, "/supplier_id"), "supplier_id"),
        ("purchase school_id", post.clone(), "/api/v1/purchases".into(), &w.canteen, set(&purchase, "/school_id"), "school_id"),
        ("purchase unit", post.clone(), "/api/v1/purchases".into(), &w.canteen, set(&purchase, "/lines/0/unit"), "lines[0].unit"),
        (
            "purchase unit_price",
            post.clone(),
            "/api/v1/purchases".into(),
            &w.canteen,
            set(&purchase, "/lines/0/unit_price"),
            "lines[0].unit_price",
        ),
        (
            "batch item description",
            post.clone(),
            "/api/v1/purchases/batch".into(),
            &w.canteen,
            item(set(&purchase, "/lines/0/description")),
            "items[0].purchase.lines[0].description",
        ),
        ("void reason", post.clone(), format!("/api/v1/purchases/{p}/void"), &w.canteen, json!({"reason": "twice\u{0}"}), "reason"),
        (
            "payment reference",
            post.clone(),
            format!("/api/v1/purchases/{p}/payments"),
            &w.canteen,
            json!({"paid_on": "2019-03-20", "amount": "1.00", "reference": "BANK\u{0}"}),
            "reference",
        ),
        (
            "purchase dispute reason",
            post.clone(),
            format!("/api/v1/purchases/{p}/dispute"),
            &w.vendor,
            json!({"reason": "short\u{0}"}),
            "reason",
        ),
        ("delivery reference", post.clone(), "/api/v1/deliveries".into(), &w.vendor, set(&delivery, "/reference"), "reference"),
        ("delivery invoice_no", post.clone(), "/api/v1/deliveries".into(), &w.vendor, set(&delivery, "/invoice_no"), "invoice_no"),
        (
            "delivery description",
            post.clone(),
            "/api/v1/deliveries".into(),
            &w.vendor,
            set(&delivery, "/lines/0/description"),
            "lines[0].description",
        ),
        (
            "delivery dispute reason",
            post.clone(),
            format!("/api/v1/deliveries/{d}/dispute"),
            &w.canteen,
            json!({"reason": "short\u{0}"}),
            "reason",
        ),
        (
            "delivery confirm purchase_id",
            post.clone(),
            format!("/api/v1/deliveries/{d}/confirm"),
            &w.canteen,
            json!({"purchase_id": format!("{p}{nul}")}),
            "purchase_id",
        ),
        ("supplier name", post.clone(), "/api/v1/suppliers".into(), &admin, set(&supplier, "/name"), "name"),
        (
            "supplier registration_ref",
            post.clone(),
            "/api/v1/suppliers".into(),
            &admin,
            set(&supplier, "/registration_ref"),
            "registration_ref",
        ),
        (
            "supplier origin code",
            post.clone(),
            "/api/v1/suppliers".into(),
            &admin,
            set(&supplier, "/origin_county_code"),
            "origin_county_code",
        ),
        (
            "supplier name with U+0001",
            post.clone(),
            "/api/v1/suppliers".into(),
            &admin,
            with(&supplier, |b| b["name"] = json!("a\u{1}b")),
            "name",
        ),
        (
            "supplier name with a tab",
            post.clone(),
            "/api/v1/suppliers".into(),
            &admin,
            with(&supplier, |b| b["name"] = json!("a\tb")),
            "name",
        ),
        (
            "supplier name with a newline",
            post.clone(),
            "/api/v1/suppliers".into(),
            &admin,
            with(&supplier, |b| b["name"] = json!("a\nb")),
            "name",
        ),
        (
            "supplier name with DEL",
            post.clone(),
            "/api/v1/suppliers".into(),
            &admin,
            with(&supplier, |b| b["name"] = json!("a\u{7f}b")),
            "name",
        ),
        (
            "supplier name with U+0085",
            post.clone(),
            "/api/v1/suppliers".into(),
            &admin,
            with(&supplier, |b| b["name"] = json!("a\u{85}b")),
            "name",
        ),
        (
            "supplier name with U+009F",
            post.clone(),
            "/api/v1/suppliers".into(),
            &admin,
            with(&supplier, |b| b["name"] = json!("a\u{9f}b")),
            "name",
        ),
        ("a key with a NUL", post.clone(), "/api/v1/suppliers".into(), &admin, with(&supplier, |b| b["x\u{0}"] = json!("y")), "x\\u{0}"),
        ("school name", post.clone(), "/api/v1/schools".into(), &admin, set(&school, "/name"), "name"),
        ("school code", post.clone(), "/api/v1/schools".into(), &admin, set(&school, "/code"), "code"),
        ("school address", post.clone(), "/api/v1/schools".into(), &admin, set(&school, "/address"), "address"),
        ("school county_code", post.clone(), "/api/v1/schools".into(), &admin, set(&school, "/county_code"), "county_code"),
        ("school edit: name", Method::PATCH, format!("/api/v1/schools/{}", w.school), &admin, json!({"name": "新\u{0}"}), "name"),
        ("school edit: code", Method::PATCH, format!("/api/v1/schools/{}", w.school), &admin, json!({"code": "S\u{0}"}), "code"),
        ("tag evidence", post.clone(), format!("/api/v1/suppliers/{sup}/tags"), &county, set(&tag, "/evidence"), "evidence"),
        ("tag verify note", post.clone(), format!("/api/v1/suppliers/{sup}/tags/{t}/verify"), &county, json!({"note": "ok\u{0}"}), "note"),
        (
            "tag revoke reason",
            post.clone(),
            format!("/api/v1/suppliers/{sup}/tags/{t}/revoke"),
            &county,
            json!({"reason": "left\u{0}"}),
            "reason",
        ),
        (
            "designation note",
            Method::PUT,
            "/api/v1/counties/522731/designations".into(),
            &admin,
            set(&designations, "/designations/0/note"),
            "designations[0].note",
        ),
        ("new username", post.clone(), "/api/v1/users".into(), &admin, set(&user, "/username"), "username"),
        ("new password", post.clone(), "/api/v1/users".into(), &admin, set(&user, "/password"), "password"),
        ("token label", post.clone(), "/api/v1/tokens".into(), &admin, set(&token, "/label"), "label"),
        ("token role", post.clone(), "/api/v1/tokens".into(), &admin, set(&token, "/role"), "role"),
        ("webhook url", post.clone(), "/api/v1/webhooks".into(), &w.vendor, json!({"url": "https://example.com/\u{0}"}), "url"),
        (
            "webhook event",
            post.clone(),
            "/api/v1/webhooks".into(),
            &w.vendor,
            json!({"url": "https://example.com/h", "events": ["purchase.recorded\u{0}"]}),
            "events[0]",
        ),
    ];
    let before = rows(app);
    let mut wrong = Vec::new();
    for (what, method, path, token, body, field) in &cases {
        let r = if token.is_empty() {
            app.send(method.clone(), path, None, Some(body), &[]).await
        } else {
            send(app, method.clone(), path, token, &Body::Json(body.clone()), &fresh_key()).await
        };
        wrong.extend(check_problem(&r, what, 422, "validation", Some((field, "control_character"))));
        assert_eq!(rows(app), before, "{what}: something was written (answer {} {}); earlier complaints: {wrong:#?}", r.status, r.text);
    }
    // The same escapes inside a batch sent as raw bytes (the batch is read without a document first).
    let raw = format!(
        r#"{{"items": [{{"idempotency_key": "{}", "purchase": {{"school_id": "{}", "supplier_id": "{}", "purchase_date": "2019-03-06", "lines": [{{"category": "grain", "description": "米\u0000", "quantity": "2", "unit": "kg", "unit_price": "3"}}]}}}}]}}"#,
        uuid::Uuid::new_v4(),
        w.school,
        w.supplier
    );
    let r =
        send(app, post.clone(), "/api/v1/purchases/batch", &w.canteen, &Body::Raw(raw.into_bytes(), Some("application/json")), &[]).await;
    wrong.extend(check_problem(&r, "raw batch", 422, "validation", Some(("items[0].purchase.lines[0].description", "control_character"))));
    assert_eq!(rows(app), before, "raw batch: something was written");
    assert_none(&wrong);
}

async fn control_characters_and_empty_values_in_queries_and_paths_are_refused(db: TestDb) {
    let w = world(db).await;
    let app = &w.app;
    let admin = app.admin();
    let s = &w.supplier;
    let mut queries: Vec<(String, String, &str)> = Vec::new();
    // Every list filter with a NUL, and with an empty value.
    for (path, param, good) in [
        ("/api/v1/purchases", "school_id", w.school.as_str()),
        ("/api/v1/purchases", "supplier_id", s.as_str()),
        ("/api/v1/purchases", "from", "2019-01-01"),
        ("/api/v1/purchases", "limit", "10"),
        ("/api/v1/schools", "county", "522731"),
        ("/api/v1/schools", "prefecture", "522700"),
        ("/api/v1/suppliers", "origin_county", "522731"),
        ("/api/v1/suppliers", "kind", "cooperative"),
        ("/api/v1/counties", "prefecture", "522700"),
        ("/api/v1/deliveries", "school_id", w.school.as_str()),
        ("/api/v1/deliveries", "status", "pending"),
        ("/api/v1/payments/overdue", "county", "522731"),
        ("/api/v1/payments/overdue", "supplier", s.as_str()),
        ("/api/v1/reports/shares?period=2019", "scope", "province"),
        ("/api/v1/reports/shares?scope=province", "period", "2019"),
        ("/api/v1/reports/shares?scope=province&period=2019", "group_by", "county"),
        ("/api/v1/reports/silent-schools?period=2019", "scope", "province"),
        ("/api/v1/reports/semi-monthly?period=2019-03-H1", "county", "522731"),
        ("/api/v1/reports/semi-monthly?county=522731", "period", "2019-03-H1"),
        ("/api/v1/imports/template", "format", "csv"),
    ] {
        let join = if path.contains('?') { '&' } else { '?' };
        queries.push(named(format!("{path}{join}{param}={good}%00"), param.into(), "control_character"));
        queries.push(named(format!("{path}{join}{param}=%00{good}"), param.into(), "control_character"));
        queries.push(named(format!("{path}{join}{param}={good}%7F"), param.into(), "control_character"));
        queries.push(named(format!("{path}{join}{param}=%C2%85{good}"), param.into(), "control_character"));
        queries.push(named(format!("{path}{join}{param}="), param.into(), "empty"));
    }
    queries.push(named("/api/v1/purchases?cursor=".into(), "cursor".into(), "empty"));
    queries.push(named("/api/v1/purchases?li%00mit=5".into(), "query".into(), "control_character"));
    let mut wrong = Vec::new();
    for (path, field, code) in &queries {
        let r = app.get(path, &admin).await;
        wrong.extend(check_problem(&r, path, 422, "validation", Some((field, code))));
    }
    let before = rows(app);
    // An import's file name (the body is a fine CSV).
    let csv = format!("purchase_date,supplier_id,category,description,quantity,unit,unit_price\n2019-03-07,{s},grain,米,2,kg,3\n");
    for (query, code) in [("file_name=a%00.csv", "control_character"), ("file_name=", "empty")] {
        let r =
            app.send_bytes(Method::POST, &format!("/api/v1/imports?{query}"), Some(&w.canteen), "text/csv", csv.clone().into_bytes()).await;
        wrong.extend(check_problem(&r, query, 422, "validation", Some(("file_name", code))));
    }
    // Path ids, codes, tags and jtis holding a control character name nothing that exists.
    let p = &w.purchase;
    let paths: Vec<(Method, String, &str)> = vec![
        (Method::GET, "/api/v1/purchases/%00".into(), admin.as_str()),
        (Method::GET, format!("/api/v1/purchases/{p}%00"), admin.as_str()),
        (Method::GET, "/api/v1/purchases/a%0Ab".into(), admin.as_str()),
        (Method::POST, "/api/v1/purchases/%00/void".into(), w.canteen.as_str()),
        (Method::POST, "/api/v1/purchases/%00/payments".into(), w.canteen.as_str()),
        (Method::GET, "/api/v1/purchases/%00/payments".into(), admin.as_str()),
        (Method::POST, "/api/v1/purchases/%00/acknowledge".into(), w.vendor.as_str()),
        (Method::POST, "/api/v1/purchases/%00/dispute".into(), w.vendor.as_str()),
        (Method::GET, "/api/v1/schools/%00".into(), admin.as_str()),
        (Method::PATCH, "/api/v1/schools/%00".into(), admin.as_str()),
        (Method::GET, "/api/v1/schools/%00/ledger/verify".into(), admin.as_str()),
        (Method::GET, "/api/v1/suppliers/%00".into(), admin.as_str()),
        (Method::POST, "/api/v1/suppliers/%00/tags".into(), admin.as_str()),
        (Method::POST, format!("/api/v1/suppliers/{s}/tags/%00/verify"), admin.as_str()),
        (Method::POST, format!("/api/v1/suppliers/{s}/tags/%7F/revoke"), admin.as_str()),
        (Method::GET, "/api/v1/counties/52273%00".into(), admin.as_str()),
        (Method::PUT, "/api/v1/counties/%00/designations".into(), admin.as_str()),
        (Method::GET, "/api/v1/deliveries/%00".into(), admin.as_str()),
        (Method::POST, "/api/v1/deliveries/%00/confirm".into(), w.canteen.as_str()),
        (Method::POST, "/api/v1/deliveries/%00/dispute".into(), w.canteen.as_str()),
        (Method::DELETE, "/api/v1/webhooks/%00".into(), w.vendor.as_str()),
        (Method::GET, "/api/v1/webhooks/%00/deliveries".into(), w.vendor.as_str()),
        (Method::POST, "/api/v1/tokens/%00/revoke".into(), admin.as_str()),
        (Method::GET, "/api/v1/targets/%00/history".into(), admin.as_str()),
    ];
    let body = json!({"reason": "r", "paid_on": "2019-03-20", "amount": "1.00", "reference": "B"});
    for (method, path, token) in &paths {
        let r = send(app, method.clone(), path, token, &Body::Json(body.clone()), &fresh_key()).await;
        wrong.extend(check_problem(&r, &format!("{method} {path}"), 404, "not-found", None));
    }
    assert_eq!(rows(app), before, "a refused request wrote something");
    let _ = &w.webhook;
    assert_none(&wrong);
}

async fn malformed_cursors_are_refused_on_every_paginated_list(db: TestDb) {
    let w = world(db).await;
    let app = &w.app;
    let admin = app.admin();
    let lists = [
        ("/api/v1/purchases", admin.clone()),
        ("/api/v1/schools", admin.clone()),
        ("/api/v1/suppliers", admin.clone()),
        ("/api/v1/deliveries", admin.clone()),
        ("/api/v1/webhooks", admin.clone()),
        (&*format!("/api/v1/webhooks/{}/deliveries", w.webhook), w.vendor.clone()),
    ];
    let id_hex = hex::encode("0193a7c2-5f1e-7c3a-9b2d-1e2f3a4b5c6d");
    let mut wrong = Vec::new();
    for (path, token) in &lists {
        // A cursor the API could have issued pages on (200) ...
        let r = app.get(&format!("{path}?cursor={id_hex}"), token).await;
        if r.status.as_u16() != 200 {
            wrong.push(format!("{path}?cursor=<hex of an id>: should be 200, got {} {}", r.status, r.text));
        }
        // ... any other is a 422 naming it, never a 500.
        for cursor in ["00", "0000", "7f", "c285", "0a", "zz", "0", "2D", "4142", "e4b8ad", "%00", &"30".repeat(101)] {
            let r = app.get(&format!("{path}?cursor={cursor}"), token).await;
            wrong.extend(
                check_problem(&r, &format!("{path}?cursor={cursor}"), 422, "validation", Some(("cursor", "bad_cursor")))
                    .into_iter()
                    .filter(|_| cursor != "%00"),
            );
            if cursor == "%00" {
                wrong.extend(check_problem(&r, &format!("{path}?cursor=%00"), 422, "validation", Some(("cursor", "control_character"))));
            }
        }
    }
    assert_none(&wrong);
}

/// The forms `rust_decimal` reads but the documented patterns do not allow.
const LOOSE: [&str; 6] = ["1_0", "1e3", "1E-2", "+2", ".5", "2."];

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

async fn loose_decimal_forms_are_refused_in_json_csv_and_xlsx(db: TestDb) {
    let w = world(db).await;
    let app = &w.app;
    let good = json!({"school_id": w.school, "supplier_id": w.supplier, "purchase_date": "2019-03-06",
        "lines": [{"category": "grain", "description": "米", "quantity": "10", "unit": "kg", "unit_price": "1.5", "amount": "15.00"}]});
    let before = rows(app);
    let mut wrong = Vec::new();
    for loose in LOOSE {
        for field in ["quantity", "unit_price", "amount"] {
            let body = with(&good, |b| b["lines"][0][field] = json!(loose));
            let r = send(app, Method::POST, "/api/v1/purchases", &w.canteen, &Body::Json(body.clone()), &fresh_key()).await;
            let name = format!("lines[0].{field}");
            wrong.extend(check_problem(&r, &format!("purchase {field} {loose:?}"), 422, "validation", Some((&name, "invalid_value"))));
            // The batch and a delivery read the same lines.
            let batch = json!({"items": [{"idempotency_key": uuid::Uuid::new_v4().to_string(), "purchase": body}]});
            let r = send(app, Method::POST, "/api/v1/purchases/batch", &w.canteen, &Body::Json(batch), &[]).await;
            // An item invalid on its own makes the whole batch a 422 naming it.
            let in_batch = format!("items[0].purchase.{name}");
            if r.status.as_u16() != 422 || !r.json["errors"].as_array().is_some_and(|e| e.iter().any(|e| e["field"] == in_batch.as_str())) {
                wrong.push(format!("batch {field} {loose:?}: should be a 422 naming {in_batch}; got {}", r.text));
            }
            let delivery =
                json!({"school_id": w.school, "delivery_date": "2019-03-06", "reference": "DN-L", "lines": [body["lines"][0].clone()]});
            let r = send(app, Method::POST, "/api/v1/deliveries", &w.vendor, &Body::Json(delivery), &fresh_key()).await;
            wrong.extend(check_problem(&r, &format!("delivery {field} {loose:?}"), 422, "validation", Some((&name, "invalid_value"))));
        }
        let pay = json!({"paid_on": "2019-03-20", "amount": loose, "reference": "BANK-1"});
        let r = send(app, Method::POST, &format!("/api/v1/purchases/{}/payments", w.purchase), &w.canteen, &Body::Json(pay), &[]).await;
        wrong.extend(check_problem(&r, &format!("payment amount {loose:?}"), 422, "validation", Some(("amount", "invalid_value"))));
    }
    // More digits before the point than each pattern allows.
    for (field, value) in [("quantity", "1000000000"), ("unit_price", "000000000001"), ("amount", "0000000000000015")] {
        let body = with(&good, |b| b["lines"][0][field] = json!(value));
        let r = send(app, Method::POST, "/api/v1/purchases", &w.canteen, &Body::Json(body), &fresh_key()).await;
        let name = format!("lines[0].{field}");
        wrong.extend(check_problem(&r, &format!("purchase {field} {value:?}"), 422, "validation", Some((&name, "invalid_value"))));
    }

    // CSV cells and XLSX text cells share the reader.
    let header = "purchase_date,supplier_id,category,description,quantity,unit,unit_price,amount";
    for loose in LOOSE {
        for (column, label) in [(4, "数量 / quantity"), (6, "单价 / unit_price"), (7, "金额 / amount")] {
            let mut cells = vec![
                "2019-03-06".to_owned(),
                w.supplier.clone(),
                "grain".into(),
                "米".into(),
                "10".into(),
                "kg".into(),
                "1.5".into(),
                "15.00".into(),
            ];
            cells[column] = loose.to_owned();
            let csv = format!("{header}\n{}\n", cells.join(","));
            let r = app.send_bytes(Method::POST, "/api/v1/imports", Some(&w.canteen), "text/csv", csv.into_bytes()).await;
            let field = format!("row 2, column {label}");
            wrong.extend(check_problem(&r, &format!("CSV {label} {loose:?}"), 422, "validation", Some((&field, "invalid_number"))));

            let mut wb = rust_xlsxwriter::Workbook::new();
            let sheet = wb.add_worksheet();
            for (c, h) in (0_u16..).zip(header.split(',')) {
                sheet.write_string(0, c, h).expect("header");
            }
            for (c, v) in (0_u16..).zip(&cells) {
                sheet.write_string(1, c, v).expect("cell");
            }
            let r = app.send_bytes(Method::POST, "/api/v1/imports", Some(&w.canteen), XLSX, wb.save_to_buffer().expect("xlsx")).await;
            wrong.extend(check_problem(&r, &format!("XLSX {label} {loose:?}"), 422, "validation", Some((&field, "invalid_number"))));
        }
    }
    // A control character in a text cell, CSV (quoted) and XLSX alike.
    let csv = format!("{header}\n2019-03-06,{},grain,\"米\u{0}\",10,kg,1.5,\n", w.supplier);
    let r = app.send_bytes(Method::POST, "/api/v1/imports", Some(&w.canteen), "text/csv", csv.into_bytes()).await;
    wrong.extend(check_problem(
        &r,
        "CSV description with a NUL",
        422,
        "validation",
        Some(("row 2, column 品名 / description", "control_character")),
    ));
    let csv = format!("{header}\n2019-03-06,{}\u{1},grain,米,10,kg,1.5,\n", w.supplier);
    let r = app.send_bytes(Method::POST, "/api/v1/imports", Some(&w.canteen), "text/csv", csv.into_bytes()).await;
    wrong.extend(check_problem(
        &r,
        "CSV supplier with U+0001",
        422,
        "validation",
        Some(("row 2, column 供应商编号 / supplier_id", "control_character")),
    ));
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheet = wb.add_worksheet();
    for (c, h) in (0_u16..).zip(header.split(',')) {
        sheet.write_string(0, c, h).expect("header");
    }
    for (c, v) in (0_u16..).zip(["2019-03-06", &w.supplier, "grain", "米\n饭", "10", "kg", "1.5", ""]) {
        sheet.write_string(1, c, v).expect("cell");
    }
    let r = app.send_bytes(Method::POST, "/api/v1/imports", Some(&w.canteen), XLSX, wb.save_to_buffer().expect("xlsx")).await;
    wrong.extend(check_problem(
        &r,
        "XLSX description with a newline",
        422,
        "validation",
        Some(("row 2, column 品名 / description", "control_character")),
    ));
    assert_eq!(rows(app), before, "a refused request wrote something");
    assert_none(&wrong);
    // The documented form still records, everywhere.
    send(app, Method::POST, "/api/v1/purchases", &w.canteen, &Body::Json(good), &fresh_key()).await.expect(201);
    let csv = format!("{header}\n2019-03-07,{},grain,米,10.5,kg,0.5,5.25\n", w.supplier);
    app.send_bytes(Method::POST, "/api/v1/imports", Some(&w.canteen), "text/csv", csv.into_bytes()).await.expect(201);
}

async fn usernames_labels_school_codes_and_origin_codes_are_held_to_the_spec(db: TestDb) {
    let w = world(db).await;
    let app = &w.app;
    let admin = app.admin();
    let user = |name: &str| json!({"username": name, "password": "a-long-password-1", "role": "province"});
    let token = |label: &str| json!({"role": "province", "label": label});
    let supplier =
        |code: &str| json!({"name": "外省合作社", "kind": "cooperative", "origin_county_code": code, "registration_ref": "REG-9"});
    let long_code = "S".repeat(300);
    let school = json!({"county_code": "522731", "name": "三小", "code": long_code});
    let patch = format!("/api/v1/schools/{}", w.school);
    let mut cases: Vec<(&str, Method, String, Value, &str, &str)> = vec![
        ("empty username", Method::POST, "/api/v1/users".into(), user(""), "username", "bad_username"),
        ("blank username", Method::POST, "/api/v1/users".into(), user(" "), "username", "bad_username"),
        ("username with markup", Method::POST, "/api/v1/users".into(), user("a/b<script>"), "username", "bad_username"),
        ("two-character username", Method::POST, "/api/v1/users".into(), user("ab"), "username", "bad_username"),
        ("65-character username", Method::POST, "/api/v1/users".into(), user(&"a".repeat(65)), "username", "bad_username"),
        ("username with a space", Method::POST, "/api/v1/users".into(), user("nan ming"), "username", "bad_username"),
        ("non-ASCII username", Method::POST, "/api/v1/users".into(), user("南明区"), "username", "bad_username"),
        ("empty label", Method::POST, "/api/v1/tokens".into(), token(""), "label", "blank"),
        ("blank label", Method::POST, "/api/v1/tokens".into(), token("   "), "label", "blank"),
        ("201-character label", Method::POST, "/api/v1/tokens".into(), token(&"x".repeat(201)), "label", "too_long"),
        ("school code of 300 characters", Method::POST, "/api/v1/schools".into(), school.clone(), "code", "too_long"),
        (
            "school address of 501 characters",
            Method::POST,
            "/api/v1/schools".into(),
            with(&school, |b| {
                b["code"] = json!("S-3");
                b["address"] = json!("址".repeat(501));
            }),
            "address",
            "too_long",
        ),
        ("edit: school code of 65 characters", Method::PATCH, patch.clone(), json!({"code": "S".repeat(65)}), "code", "too_long"),
        (
            "edit: school address of 501 characters",
            Method::PATCH,
            patch.clone(),
            json!({"address": "址".repeat(501)}),
            "address",
            "too_long",
        ),
        (
            "designation note of 501 characters",
            Method::PUT,
            "/api/v1/counties/522731/designations".into(),
            json!({"designations": [{"valid_from": "2014-01-01", "valid_to": "2020-12-31", "note": "注".repeat(501)}]}),
            "designations[0].note",
            "too_long",
        ),
    ];
    for code in ["000000", "999999", "100101", "160101", "200101", "700101", "830101", "910101", "430000", "430100", "110100"] {
        cases.push((
            "origin code outside GB/T 2260 counties",
            Method::POST,
            "/api/v1/suppliers".into(),
            supplier(code),
            "origin_county_code",
            "unknown_county",
        ));
    }
    let before = rows(app);
    let school_before = app.get(&patch, &admin).await.json;
    let mut wrong = Vec::new();
    for (what, method, path, body, field, code) in &cases {
        let r = send(app, method.clone(), path, &admin, &Body::Json(body.clone()), &[]).await;
        wrong.extend(check_problem(&r, &format!("{what} ({})", body), 422, "validation", Some((field, code))));
        assert_eq!(rows(app), before, "{what}: something was written");
    }
    assert_eq!(app.get(&patch, &admin).await.json, school_before, "a refused edit changed the school");
    assert_none(&wrong);
    // What the spec allows is accepted.
    for name in ["abc", "nanming-bureau", "a.b_c@d-e", &"a".repeat(64)] {
        send(app, Method::POST, "/api/v1/users", &admin, &Body::Json(user(name)), &[]).await.expect(201);
    }
    send(app, Method::POST, "/api/v1/tokens", &admin, &Body::Json(token("kitchen tablet")), &[]).await.expect(201);
    for code in ["110101", "430102", "650102", "710101", "810001", "820001", "522731"] {
        let r = send(app, Method::POST, "/api/v1/suppliers", &admin, &Body::Json(supplier(code)), &[]).await;
        r.expect(201);
        assert_eq!(r.json["in_province"], code.starts_with("52"), "{code}");
    }
    let ok = with(&school, |b| b["code"] = json!("S".repeat(64)));
    send(app, Method::POST, "/api/v1/schools", &admin, &Body::Json(ok), &[]).await.expect(201);
}

async fn a_line_whose_amount_rounds_to_zero_is_refused_everywhere(db: TestDb) {
    let w = world(db).await;
    let app = &w.app;
    let zero_lines = [("10", "0"), ("10", "0.0000"), ("0.001", "1"), ("0.001", "4.9999")];
    let before = rows(app);
    let mut wrong = Vec::new();
    for (qty, price) in zero_lines {
        let line = json!({"category": "grain", "description": "米", "quantity": qty, "unit": "kg", "unit_price": price});
        let body = json!({"school_id": w.school, "supplier_id": w.supplier, "purchase_date": "2019-03-06", "lines": [line]});
        let r = send(app, Method::POST, "/api/v1/purchases", &w.canteen, &Body::Json(body.clone()), &fresh_key()).await;
        wrong.extend(check_problem(&r, &format!("purchase {qty} × {price}"), 422, "validation", Some(("lines[0].amount", "zero_amount"))));
        let with_amount = with(&body, |b| b["lines"][0]["amount"] = json!("0.00"));
        let r = send(app, Method::POST, "/api/v1/purchases", &w.canteen, &Body::Json(with_amount), &fresh_key()).await;
        wrong.extend(check_problem(
            &r,
            &format!("purchase {qty} × {price} = 0.00"),
            422,
            "validation",
            Some(("lines[0].amount", "zero_amount")),
        ));
        let batch = json!({"items": [{"idempotency_key": uuid::Uuid::new_v4().to_string(), "purchase": body}]});
        let r = send(app, Method::POST, "/api/v1/purchases/batch", &w.canteen, &Body::Json(batch), &[]).await;
        if r.status.as_u16() != 422
            || r.json["errors"][0]["code"] != "zero_amount"
            || r.json["errors"][0]["field"] != "items[0].purchase.lines[0].amount"
        {
            wrong.push(format!("batch {qty} × {price}: should be a 422 with zero_amount; got {}", r.text));
        }
        let delivery = json!({"school_id": w.school, "delivery_date": "2019-03-06", "reference": "DN-Z", "lines": [line]});
        let r = send(app, Method::POST, "/api/v1/deliveries", &w.vendor, &Body::Json(delivery), &fresh_key()).await;
        wrong.extend(check_problem(&r, &format!("delivery {qty} × {price}"), 422, "validation", Some(("lines[0].amount", "zero_amount"))));
        let csv = format!(
            "purchase_date,supplier_id,category,description,quantity,unit,unit_price\n2019-03-06,{},grain,米,{qty},kg,{price}\n",
            w.supplier
        );
        let r = app.send_bytes(Method::POST, "/api/v1/imports", Some(&w.canteen), "text/csv", csv.into_bytes()).await;
        wrong.extend(check_problem(
            &r,
            &format!("import {qty} × {price}"),
            422,
            "validation",
            Some(("row 2, column 金额 / amount", "zero_amount")),
        ));
    }
    assert_eq!(rows(app), before, "a refused request wrote something");
    assert_none(&wrong);
    // 0.001 kg × 5.00 = 0.005, rounded half away from zero: 0.01, recorded.
    let line = json!({"category": "grain", "description": "米", "quantity": "0.001", "unit": "kg", "unit_price": "5"});
    let body = json!({"school_id": w.school, "supplier_id": w.supplier, "purchase_date": "2019-03-06", "lines": [line]});
    let r = send(app, Method::POST, "/api/v1/purchases", &w.canteen, &Body::Json(body), &fresh_key()).await;
    r.expect(201);
    assert_eq!(r.json["total"], "0.01");
}

async fn only_the_supplier_its_origin_county_and_the_province_declare_tags(db: TestDb) {
    // A supplier of 惠水县 (522731) selling to a school of 南明区 (520102).
    let app = TestApp::new(db).await;
    let school = app.school("520102", "一小").await;
    let supplier = app.supplier("522731", "cooperative").await;
    let p = app.purchase(&school, &supplier, "2019-03-05", json!([crate::helpers::line("grain", "2", "kg", "3")])).await;
    p.expect(201);
    assert_eq!(p.json["qualification"]["class"], "none", "{}", p.text);
    let path = format!("/api/v1/suppliers/{supplier}/tags");
    let tag = json!({"tag": "cooperative", "valid_from": "2019-01-01", "evidence": "93522731MA6"});
    // The bureau of the buying school's county is not the supplier's: refused, nothing written.
    let before = rows(&app);
    let foreign = app.token(&Role::County("520102".into()));
    let r = app.post(&path, &foreign, &tag).await;
    r.problem(403);
    assert_eq!(rows(&app), before, "a refused declaration wrote something");
    let s = app.get(&format!("/api/v1/suppliers/{supplier}"), &app.admin()).await;
    assert_eq!(s.json["tags"], json!([]));
    let listed = app.get(&format!("/api/v1/purchases?school_id={school}"), &app.admin()).await;
    assert_eq!(listed.json["items"][0]["qualification"]["class"], "none", "{}", listed.text);
    // The supplier itself, its origin county's bureau and the province may.
    for role in [Role::Supplier(supplier.clone()), Role::County("522731".into()), Role::Province] {
        let r = app.post(&path, &app.token(&role), &tag).await;
        assert_eq!(r.status.as_u16(), 201, "{role}: {}", r.text);
    }
}

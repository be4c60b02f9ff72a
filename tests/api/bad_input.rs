//! Bad input at the HTTP boundary: every malformed or invalid request answers a 4xx
//! `application/problem+json` with a stable `type` URI and the offending field in
//! `errors[].field`, and writes nothing (lists unchanged, the ledger chain head unmoved).

use actix_web::http::Method;
use actix_web::test as atest;
use canteen_ledger::auth::Role;
use canteen_ledger::http::purchases::today_cst;
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

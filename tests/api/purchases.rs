//! Recording, idempotency, voids, the append-only rule and the hash chain.

use actix_web::http::Method;
use canteen_ledger::domain::role::Role;
use serde_json::json;

use crate::both_backends;
use crate::helpers::{TestApp, TestDb, line};

both_backends!(
    purchases_name_their_school_and_supplier,
    a_canteen_records_a_purchase_with_exact_amounts,
    a_replay_returns_the_original_response_marked_replayed,
    the_same_key_with_another_body_is_a_409_naming_the_fields,
    concurrent_retries_create_exactly_one_entry,
    a_void_appends_a_reversal_and_voiding_twice_is_a_409,
    put_patch_and_delete_on_purchases_are_405_with_allow,
    the_hash_chain_verifies_and_detects_tampering,
    a_supplier_sees_only_its_own_purchases,
    lists_are_paginated_with_an_opaque_cursor,
);

async fn a_canteen_records_a_purchase_with_exact_amounts(db: TestDb) {
    let app = TestApp::new(db).await;
    let school = app.school("520102", "一小").await;
    let supplier = app.supplier("522731", "cooperative").await;
    app.tag(&supplier, "cooperative", "2019-01-01", None, true).await;

    let r = app
        .purchase(&school, &supplier, "2019-03-05", json!([line("vegetables", "10", "jin", "1.255"), line("grain", "3", "kg", "3.335")]))
        .await;

    r.expect(201);
    assert_eq!(r.json["total"], "22.56"); // 12.55 + 10.01 (10.005 rounds half away from zero)
    assert_eq!(r.json["lines"][0]["amount"], "12.55");
    assert_eq!(r.json["lines"][0]["weight_kg"], "5.000");
    assert_eq!(r.json["lines"][1]["amount"], "10.01");
    assert_eq!(r.json["qualification"]["class"], "qualifying");
    assert_eq!(r.json["qualification"]["tag"], "cooperative");
    assert_eq!(r.json["qualification"]["policy"], "gz-2019");
    assert_eq!(r.json["seq"], 1);
    assert_eq!(r.json["status"], "active");
    let id = r.json["id"].as_str().unwrap();
    let got = app.get(&format!("/api/v1/purchases/{id}"), &app.token(&Role::County("520102".into()))).await;
    got.expect(200);
    assert_eq!(got.json["total"], "22.56");
}

async fn a_replay_returns_the_original_response_marked_replayed(db: TestDb) {
    let app = TestApp::new(db).await;
    let school = app.school("520102", "一小").await;
    let supplier = app.supplier("520102", "enterprise").await;
    let lines = json!([line("fruit", "2", "kg", "4.5")]);

    let first = app.purchase_with_key(&school, &supplier, "2019-03-05", lines.clone(), "key-0001-aaaa").await;
    let again = app.purchase_with_key(&school, &supplier, "2019-03-05", lines, "key-0001-aaaa").await;

    first.expect(201);
    again.expect(201);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(first.header("idempotent-replayed"), None);
    assert_eq!(first.json, again.json);
    let list = app.get("/api/v1/purchases", &app.token(&Role::Canteen(school))).await;
    assert_eq!(list.json["items"].as_array().unwrap().len(), 1);
}

async fn the_same_key_with_another_body_is_a_409_naming_the_fields(db: TestDb) {
    let app = TestApp::new(db).await;
    let school = app.school("520102", "一小").await;
    let supplier = app.supplier("520102", "enterprise").await;
    app.purchase_with_key(&school, &supplier, "2019-03-05", json!([line("fruit", "2", "kg", "4.5")]), "key-0002-bbbb").await.expect(201);

    let r = app.purchase_with_key(&school, &supplier, "2019-03-06", json!([line("fruit", "3", "kg", "4.5")]), "key-0002-bbbb").await;

    let p = r.problem(409);
    assert_eq!(p["type"], "urn:canteen-ledger:problem:idempotency-key-reused");
    let fields: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["lines[0].quantity", "purchase_date"]);
}

async fn concurrent_retries_create_exactly_one_entry(db: TestDb) {
    let app = TestApp::new(db).await;
    let school = app.school("520102", "一小").await;
    let supplier = app.supplier("520102", "enterprise").await;
    let lines = json!([line("eggs", "1", "jin", "5.5")]);

    let attempts = (0..8).map(|_| app.purchase_with_key(&school, &supplier, "2019-03-05", lines.clone(), "key-0003-cccc"));
    let results = futures_util::future::join_all(attempts).await;

    let ids: std::collections::BTreeSet<String> = results
        .iter()
        .map(|r| {
            r.expect(201);
            r.json["id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(results.iter().filter(|r| r.header("idempotent-replayed").is_none()).count(), 1);
    let list = app.get("/api/v1/purchases", &app.token(&Role::Canteen(school))).await;
    assert_eq!(list.json["items"].as_array().unwrap().len(), 1);
}

async fn a_void_appends_a_reversal_and_voiding_twice_is_a_409(db: TestDb) {
    let app = TestApp::new(db).await;
    let school = app.school("520102", "一小").await;
    let supplier = app.supplier("520102", "enterprise").await;
    let p = app.purchase(&school, &supplier, "2019-03-05", json!([line("grain", "10", "kg", "5")])).await;
    let id = p.json["id"].as_str().unwrap();
    let canteen = app.token(&Role::Canteen(school.clone()));

    let v = app.post(&format!("/api/v1/purchases/{id}/void"), &canteen, &json!({"reason": "entered twice"})).await;
    let again = app.post(&format!("/api/v1/purchases/{id}/void"), &canteen, &json!({"reason": "again"})).await;

    v.expect(201);
    assert_eq!(v.json["kind"], "void");
    assert_eq!(v.json["voids_id"], id);
    assert_eq!(v.json["total"], "-50.00");
    assert_eq!(v.json["purchase_date"], "2019-03-05");
    assert_eq!(v.json["seq"], 2);
    assert_eq!(again.problem(409)["type"], "urn:canteen-ledger:problem:already-voided");
    let original = app.get(&format!("/api/v1/purchases/{id}"), &canteen).await;
    assert_eq!(original.json["status"], "voided");
    assert_eq!(original.json["voided_by"], v.json["id"]);
    let other = app.token(&Role::Canteen(app.school("520102", "二小").await));
    app.post(&format!("/api/v1/purchases/{id}/void"), &other, &json!({"reason": "x"})).await.problem(404);
    app.post(&format!("/api/v1/purchases/{id}/void"), &app.token(&Role::County("520102".into())), &json!({"reason": "x"}))
        .await
        .problem(403);
}

async fn put_patch_and_delete_on_purchases_are_405_with_allow(db: TestDb) {
    let app = TestApp::new(db).await;
    let admin = app.admin();
    for method in [Method::PUT, Method::PATCH, Method::DELETE] {
        let r = app.send(method.clone(), "/api/v1/purchases/some-id", Some(&admin), Some(&json!({})), &[]).await;
        r.problem(405);
        assert_eq!(r.header("allow"), Some("GET"), "{method}");
        let r = app.send(method.clone(), "/api/v1/purchases", Some(&admin), Some(&json!({})), &[]).await;
        r.problem(405);
        assert_eq!(r.header("allow"), Some("GET, POST"), "{method}");
    }
    app.get("/api/v1/no-such-route", &admin).await.problem(404);
}

async fn the_hash_chain_verifies_and_detects_tampering(db: TestDb) {
    let app = TestApp::new(db).await;
    let school = app.school("520102", "一小").await;
    let supplier = app.supplier("520102", "enterprise").await;
    let mut hashes = Vec::new();
    for day in ["2019-03-01", "2019-03-02", "2019-03-03"] {
        let r = app.purchase(&school, &supplier, day, json!([line("grain", "1", "kg", "5")])).await;
        hashes.push(r.json["hash"].as_str().unwrap().to_owned());
        assert_eq!(r.json["prev_hash"].as_str().unwrap().len(), 64);
    }
    let county = app.token(&Role::County("520102".into()));
    let ok = app.get(&format!("/api/v1/schools/{school}/ledger/verify"), &county).await;
    ok.expect(200);
    assert_eq!(ok.json["valid"], true);
    assert_eq!(ok.json["head_seq"], 3);
    assert_eq!(ok.json["head_hash"], hashes[2].as_str());

    // Tamper with the second entry's amount behind the API's back (and the database's).
    app.tamper(&format!(
        "UPDATE purchase_lines SET amount_fen = 1 WHERE purchase_id = (SELECT id FROM purchases WHERE school_id = '{school}' AND seq = 2)"
    ));
    let bad = app.get(&format!("/api/v1/schools/{school}/ledger/verify"), &county).await;
    assert_eq!(bad.json["valid"], false);
    assert_eq!(bad.json["first_broken_seq"], 2);
}

async fn a_supplier_sees_only_its_own_purchases(db: TestDb) {
    let app = TestApp::new(db).await;
    let school = app.school("520102", "一小").await;
    let mine = app.supplier("520102", "enterprise").await;
    let other = app.supplier("520102", "household").await;
    let p1 = app.purchase(&school, &mine, "2019-03-05", json!([line("grain", "1", "kg", "5")])).await;
    let p2 = app.purchase(&school, &other, "2019-03-05", json!([line("grain", "1", "kg", "5")])).await;
    let tok = app.token(&Role::Supplier(mine.clone()));

    let list = app.get("/api/v1/purchases", &tok).await;

    let items = list.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], p1.json["id"]);
    app.get(&format!("/api/v1/purchases/{}", p2.json["id"].as_str().unwrap()), &tok).await.problem(404);
    app.get(&format!("/api/v1/purchases?supplier_id={other}"), &tok).await.problem(403);
}

async fn lists_are_paginated_with_an_opaque_cursor(db: TestDb) {
    let app = TestApp::new(db).await;
    let school = app.school("520102", "一小").await;
    let supplier = app.supplier("520102", "enterprise").await;
    for _ in 0..5 {
        app.purchase(&school, &supplier, "2019-03-05", json!([line("grain", "1", "kg", "5")])).await.expect(201);
    }
    let tok = app.token(&Role::Canteen(school));
    let mut seen = Vec::new();
    let mut url = "/api/v1/purchases?limit=2".to_owned();
    loop {
        let page = app.get(&url, &tok).await;
        page.expect(200);
        seen.extend(page.json["items"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap().to_owned()));
        match page.json["next_cursor"].as_str() {
            Some(c) => url = format!("/api/v1/purchases?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5);
    let mut dedup = seen.clone();
    dedup.dedup();
    assert_eq!(dedup, seen);
    app.get("/api/v1/purchases?limit=501", &tok).await.problem(422);
    app.get("/api/v1/purchases?cursor=zz", &tok).await.problem(422);
}

/// A purchase shows the school's and the supplier's names next to their ids: when recorded,
/// read, listed and batched.
async fn purchases_name_their_school_and_supplier(db: TestDb) {
    let t = crate::helpers::Trade::new(db, "520102").await;
    let named = |v: &serde_json::Value| {
        assert_eq!((v["school_id"].as_str(), v["school_name"].as_str()), (Some(t.school.as_str()), Some("一小")), "{v}");
        assert_eq!((v["supplier_id"].as_str(), v["supplier_name"].as_str()), (Some(t.supplier.as_str()), Some("cooperative from 520102")));
    };
    let made = t.app.purchase(&t.school, &t.supplier, "2019-03-04", json!([line("vegetables", "10", "jin", "2.00")])).await;
    made.expect(201);
    named(&made.json);
    let id = made.json["id"].as_str().unwrap_or_default().to_owned();
    named(&t.app.get(&format!("/api/v1/purchases/{id}"), &t.canteen).await.json);
    let county = t.app.token(&Role::County("520102".into()));
    let list = t.app.get(&format!("/api/v1/purchases?school_id={}", t.school), &county).await;
    list.expect(200);
    named(&list.json["items"][0]);
}

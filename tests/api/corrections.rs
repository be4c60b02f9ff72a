//! What a retrying client relies on (issue 9, item 8): a void takes an `Idempotency-Key`
//! with the replay semantics of a create, and `POST /purchases/{id}/correct` voids an
//! entry and records its replacement in one transaction, idempotently.

use actix_web::http::Method;
use canteen_ledger::domain::role::Role;
use canteen_ledger::service::aggregates;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Resp, TestDb, Trade, line};

both_backends!(
    a_void_with_a_key_replays_its_answer_and_a_void_by_someone_else_is_a_409,
    a_void_key_reused_with_another_request_is_a_409_naming_the_fields,
    concurrent_void_retries_void_once,
    a_correction_voids_and_records_in_one_chained_step,
    a_correction_replays_and_conflicts_like_a_create,
    concurrent_correction_retries_correct_once,
    a_correction_that_fails_anywhere_writes_nothing,
);

const COUNTY: &str = "522731";

/// The shared world, with the requests of this file.
struct World(Trade);

impl std::ops::Deref for World {
    type Target = Trade;

    fn deref(&self) -> &Trade {
        &self.0
    }
}

async fn world(db: TestDb) -> World {
    World(Trade::new(db, COUNTY).await)
}

impl World {
    async fn purchase(&self, date: &str, qty: &str) -> String {
        let r = self.app.purchase(&self.school, &self.supplier, date, json!([line("grain", qty, "kg", "5")])).await;
        r.expect(201);
        r.json["id"].as_str().unwrap().to_owned()
    }

    async fn void(&self, id: &str, reason: &str, key: Option<&str>) -> Resp {
        let headers: Vec<(&str, &str)> = key.iter().map(|k| ("Idempotency-Key", *k)).collect();
        self.app
            .send(Method::POST, &format!("/api/v1/purchases/{id}/void"), Some(&self.canteen), Some(&json!({"reason": reason})), &headers)
            .await
    }

    fn new_body(&self, date: &str, qty: &str) -> Value {
        json!({"school_id": self.school, "supplier_id": self.supplier, "purchase_date": date, "lines": [line("grain", qty, "kg", "5")]})
    }

    async fn correct(&self, id: &str, body: &Value, key: Option<&str>) -> Resp {
        let headers: Vec<(&str, &str)> = key.iter().map(|k| ("Idempotency-Key", *k)).collect();
        self.app.send(Method::POST, &format!("/api/v1/purchases/{id}/correct"), Some(&self.canteen), Some(body), &headers).await
    }

    /// Every entry of the school, oldest first.
    async fn entries(&self) -> Vec<Value> {
        let r = self.app.get("/api/v1/purchases?limit=500", &self.canteen).await;
        r.expect(200);
        r.json["items"].as_array().unwrap().clone()
    }

    async fn verify(&self) -> Value {
        let r = self.app.get(&format!("/api/v1/schools/{}/ledger/verify", self.school), &self.canteen).await;
        r.expect(200);
        r.json.clone()
    }

    /// The school's March total from the report (the aggregates), checked against the ledger.
    async fn march_total(&self) -> Value {
        let mut conn = self.app.state.db.get().unwrap();
        let check = aggregates::check(&mut conn).unwrap();
        assert!(check.differences.is_empty(), "{:?}", check.differences);
        drop(conn);
        let r = self.app.get(&format!("/api/v1/reports/shares?scope=school:{}&period=2019-03", self.school), &self.canteen).await;
        r.expect(200);
        r.json["summary"]["total"].clone()
    }

    /// How many rows the audit log and the webhook outbox hold.
    fn audit_and_events(&self) -> (i64, i64) {
        use canteen_ledger::db::schema::{audit_log, webhook_events};
        use diesel::prelude::*;
        let mut conn = self.app.state.db.get().unwrap();
        let audit: i64 = audit_log::table.count().get_result(&mut conn).unwrap();
        let events: i64 = webhook_events::table.count().get_result(&mut conn).unwrap();
        (audit, events)
    }
}

async fn a_void_with_a_key_replays_its_answer_and_a_void_by_someone_else_is_a_409(db: TestDb) {
    let w = world(db).await;
    let id = w.purchase("2019-03-05", "10").await;

    let first = w.void(&id, "entered twice", Some("void-key-0001")).await;
    let again = w.void(&id, "entered twice", Some("void-key-0001")).await;
    let someone_else = w.void(&id, "entered twice", Some("void-key-0002")).await;
    let no_key = w.void(&id, "entered twice", None).await;

    first.expect(201);
    assert_eq!(first.json["kind"], "void");
    assert_eq!(first.json["voids_id"], id.as_str());
    assert_eq!(first.header("idempotent-replayed"), None);
    again.expect(201);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.json, first.json);
    assert_eq!(again.header("location"), first.header("location"));
    assert!(first.header("location").is_some_and(|l| l.ends_with(first.json["id"].as_str().unwrap())));
    assert_eq!(someone_else.problem(409)["type"], "urn:canteen-ledger:problem:already-voided");
    assert_eq!(no_key.problem(409)["type"], "urn:canteen-ledger:problem:already-voided");
    assert_eq!(w.entries().await.len(), 2);
    // A malformed key is refused like a create's.
    let other = w.purchase("2019-03-06", "1").await;
    let r = w.void(&other, "x", Some("short")).await;
    r.problem(422);
    assert_eq!(r.first_field(), "Idempotency-Key");
    assert_eq!(w.entries().await.len(), 3);
}

async fn a_void_key_reused_with_another_request_is_a_409_naming_the_fields(db: TestDb) {
    let w = world(db).await;
    let a = w.purchase("2019-03-05", "10").await;
    let b = w.purchase("2019-03-06", "10").await;
    w.void(&a, "entered twice", Some("void-key-0003")).await.expect(201);

    let other_reason = w.void(&a, "wrong supplier", Some("void-key-0003")).await;
    let other_purchase = w.void(&b, "entered twice", Some("void-key-0003")).await;

    let p = other_reason.problem(409);
    assert_eq!(p["type"], "urn:canteen-ledger:problem:idempotency-key-reused");
    let fields: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["reason"]);
    let p = other_purchase.problem(409);
    assert_eq!(p["type"], "urn:canteen-ledger:problem:idempotency-key-reused");
    let fields: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["purchase_id"]);
    // Keys are the school's: a create's key is not a void's, nor the other way round.
    let created =
        w.app.purchase_with_key(&w.school, &w.supplier, "2019-03-07", json!([line("grain", "1", "kg", "5")]), "shared-key-0001").await;
    created.expect(201);
    w.void(&b, "entered twice", Some("shared-key-0001")).await.problem(409);
    let reused =
        w.app.purchase_with_key(&w.school, &w.supplier, "2019-03-07", json!([line("grain", "1", "kg", "5")]), "void-key-0003").await;
    assert_eq!(reused.problem(409)["type"], "urn:canteen-ledger:problem:idempotency-key-reused");
    let b_now = w.app.get(&format!("/api/v1/purchases/{b}"), &w.canteen).await;
    assert_eq!(b_now.json["status"], "active");
    assert_eq!(w.entries().await.len(), 4);
}

async fn concurrent_void_retries_void_once(db: TestDb) {
    let w = world(db).await;
    let id = w.purchase("2019-03-05", "10").await;

    let results = futures_util::future::join_all((0..8).map(|_| w.void(&id, "entered twice", Some("void-key-0004")))).await;

    let ids: std::collections::BTreeSet<String> = results
        .iter()
        .map(|r| {
            r.expect(201);
            r.json["id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(results.iter().filter(|r| r.header("idempotent-replayed").is_none()).count(), 1);
    assert_eq!(w.entries().await.len(), 2);
    assert_eq!(w.march_total().await, "0.00");
}

async fn a_correction_voids_and_records_in_one_chained_step(db: TestDb) {
    let w = world(db).await;
    w.app.post("/api/v1/webhooks", &w.vendor, &json!({"url": "https://erp.example.cn/hooks"})).await.expect(201);
    let id = w.purchase("2019-03-05", "10").await;
    assert_eq!(w.march_total().await, "50.00");
    let (audit_before, events_before) = w.audit_and_events();

    let body = json!({"reason": "wrong quantity", "purchase": w.new_body("2019-03-05", "12")});
    let r = w.correct(&id, &body, Some("correct-key-0001")).await;

    r.expect(201);
    let (void, new) = (&r.json["void"], &r.json["purchase"]);
    assert_eq!(void["kind"], "void");
    assert_eq!(void["voids_id"], id.as_str());
    assert_eq!(void["void_reason"], "wrong quantity");
    assert_eq!(void["total"], "-50.00");
    assert_eq!(new["kind"], "entry");
    assert_eq!(new["status"], "active");
    assert_eq!(new["corrects_id"], id.as_str());
    assert_eq!(new["total"], "60.00");
    assert_eq!(new["qualification"]["class"], "qualifying");
    assert!(void["corrects_id"].is_null());
    // Chained in order: the void, then the new entry on top of it.
    assert_eq!((void["seq"].as_i64(), new["seq"].as_i64()), (Some(2), Some(3)));
    assert_eq!(new["prev_hash"], void["hash"]);
    assert!(r.header("location").is_some_and(|l| l.ends_with(new["id"].as_str().unwrap())));
    let original = w.app.get(&format!("/api/v1/purchases/{id}"), &w.canteen).await;
    assert_eq!(original.json["status"], "voided");
    assert_eq!(original.json["voided_by"], void["id"]);
    assert!(original.json["corrects_id"].is_null());
    let stored = w.app.get(&format!("/api/v1/purchases/{}", new["id"].as_str().unwrap()), &w.canteen).await;
    assert_eq!(stored.json["corrects_id"], id.as_str());
    let v = w.verify().await;
    assert_eq!(v["valid"], true);
    assert_eq!(v["head_seq"], 3);
    assert_eq!(v["head_hash"], new["hash"]);
    // Aggregates as a void plus a record: only the new entry counts.
    assert_eq!(w.march_total().await, "60.00");
    // Audit rows for the void, the record and the correction; the events a void and a record emit.
    let (audit_after, events_after) = w.audit_and_events();
    assert_eq!(audit_after - audit_before, 3);
    assert_eq!(events_after - events_before, 2);
    // A corrected entry is voided, so it cannot be corrected or voided again.
    let twice = w.correct(&id, &body, Some("correct-key-0002")).await;
    assert_eq!(twice.problem(409)["type"], "urn:canteen-ledger:problem:already-voided");
    assert_eq!(w.void(&id, "again", None).await.problem(409)["type"], "urn:canteen-ledger:problem:already-voided");
    // The new entry can itself be corrected, naming the entry it corrects.
    let body = json!({"reason": "wrong date", "purchase": w.new_body("2019-03-06", "12")});
    let r2 = w.correct(new["id"].as_str().unwrap(), &body, Some("correct-key-0003")).await;
    r2.expect(201);
    assert_eq!(r2.json["purchase"]["corrects_id"], new["id"]);
    assert_eq!(r2.json["purchase"]["seq"], 5);
    assert_eq!(w.verify().await["valid"], true);
    assert_eq!(w.march_total().await, "60.00");
}

async fn a_correction_replays_and_conflicts_like_a_create(db: TestDb) {
    let w = world(db).await;
    let id = w.purchase("2019-03-05", "10").await;
    let body = json!({"reason": "wrong quantity", "purchase": w.new_body("2019-03-05", "12")});

    let first = w.correct(&id, &body, Some("correct-key-0004")).await;
    let again = w.correct(&id, &body, Some("correct-key-0004")).await;
    let changed =
        w.correct(&id, &json!({"reason": "wrong quantity", "purchase": w.new_body("2019-03-05", "13")}), Some("correct-key-0004")).await;
    let missing = w.correct(&id, &body, None).await;

    first.expect(201);
    assert_eq!(first.header("idempotent-replayed"), None);
    again.expect(201);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.json, first.json);
    assert_eq!(again.header("location"), first.header("location"));
    let p = changed.problem(409);
    assert_eq!(p["type"], "urn:canteen-ledger:problem:idempotency-key-reused");
    let fields: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["purchase.lines[0].quantity"]);
    missing.problem(422);
    assert_eq!(missing.first_field(), "Idempotency-Key");
    assert_eq!(w.entries().await.len(), 3);
    // The key belongs to the correction: a void or a create with it is a 409.
    w.void(&id, "wrong quantity", Some("correct-key-0004")).await.problem(409);
    w.app
        .purchase_with_key(&w.school, &w.supplier, "2019-03-05", json!([line("grain", "12", "kg", "5")]), "correct-key-0004")
        .await
        .problem(409);
    assert_eq!(w.entries().await.len(), 3);
}

async fn concurrent_correction_retries_correct_once(db: TestDb) {
    let w = world(db).await;
    let id = w.purchase("2019-03-05", "10").await;
    let body = json!({"reason": "wrong quantity", "purchase": w.new_body("2019-03-05", "12")});

    let results = futures_util::future::join_all((0..8).map(|_| w.correct(&id, &body, Some("correct-key-0005")))).await;

    let ids: std::collections::BTreeSet<String> = results
        .iter()
        .map(|r| {
            r.expect(201);
            r.json["purchase"]["id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(results.iter().filter(|r| r.header("idempotent-replayed").is_none()).count(), 1);
    assert_eq!(w.entries().await.len(), 3);
    assert_eq!(w.verify().await["valid"], true);
    assert_eq!(w.march_total().await, "60.00");
}

async fn a_correction_that_fails_anywhere_writes_nothing(db: TestDb) {
    let w = world(db).await;
    let id = w.purchase("2019-03-05", "10").await;
    let other_school = w.app.school(COUNTY, "二小").await;
    let paid = w.purchase("2019-03-06", "1").await;
    let payment = json!({"paid_on": "2019-03-07", "amount": "1.00", "reference": "BANK-1"});
    w.app.post(&format!("/api/v1/purchases/{paid}/payments"), &w.canteen, &payment).await.expect(201);
    let voided = w.purchase("2019-03-07", "1").await;
    let reversal = w.void(&voided, "entered twice", None).await.json["id"].as_str().unwrap().to_owned();
    let before = (w.entries().await, w.verify().await, w.march_total().await, w.audit_and_events());
    let body_of = |purchase: Value| json!({"reason": "wrong quantity", "purchase": purchase});

    let mut unknown_supplier = w.new_body("2019-03-05", "12");
    unknown_supplier["supplier_id"] = json!("no-such-supplier");
    let mut elsewhere = w.new_body("2019-03-05", "12");
    elsewhere["school_id"] = json!(other_school);
    let mut bad_line = w.new_body("2019-03-05", "12");
    bad_line["lines"][0]["unit"] = json!("furlong");
    let cases: Vec<(&str, String, Value, u16, &str)> = vec![
        ("unknown supplier", id.clone(), body_of(unknown_supplier), 422, "purchase.supplier_id"),
        ("another school", id.clone(), body_of(elsewhere), 422, "purchase.school_id"),
        ("a bad line", id.clone(), body_of(bad_line), 422, "purchase.lines[0].unit"),
        ("a future date", id.clone(), body_of(w.new_body("2999-01-01", "12")), 422, "purchase.purchase_date"),
        ("a blank reason", id.clone(), json!({"reason": " ", "purchase": w.new_body("2019-03-05", "12")}), 422, "reason"),
        ("no purchase", id.clone(), json!({"reason": "x"}), 422, "purchase"),
        ("has payments", paid.clone(), body_of(w.new_body("2019-03-06", "2")), 409, "has-payments"),
        ("already voided", voided.clone(), body_of(w.new_body("2019-03-07", "2")), 409, "already-voided"),
        ("a void entry", reversal.clone(), body_of(w.new_body("2019-03-07", "2")), 409, "not-voidable"),
        ("no such purchase", "no-such-purchase".into(), body_of(w.new_body("2019-03-07", "2")), 404, "not-found"),
    ];
    for (n, (what, target, body, status, expected)) in cases.into_iter().enumerate() {
        let r = w.correct(&target, &body, Some(&format!("failing-key-{n:04}"))).await;
        let p = r.problem(status);
        if status == 422 {
            let fields: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
            assert!(fields.contains(&expected), "{what}: {fields:?}");
        } else {
            assert_eq!(p["type"], format!("urn:canteen-ledger:problem:{expected}"), "{what}");
        }
        // Nothing of it was written, and its key is free for a good request.
        let after = (w.entries().await, w.verify().await, w.march_total().await, w.audit_and_events());
        assert_eq!(after, before, "{what} wrote something");
    }
    // Another school's canteen cannot see the purchase; a county may see it but not correct it.
    let good = body_of(w.new_body("2019-03-05", "12"));
    let stranger = w.app.token(&Role::Canteen(other_school.clone()));
    let r = w
        .app
        .send(
            Method::POST,
            &format!("/api/v1/purchases/{id}/correct"),
            Some(&stranger),
            Some(&good),
            &[("Idempotency-Key", "failing-key-1000")],
        )
        .await;
    r.problem(404);
    let county = w.app.token(&Role::County(COUNTY.into()));
    let r = w
        .app
        .send(
            Method::POST,
            &format!("/api/v1/purchases/{id}/correct"),
            Some(&county),
            Some(&good),
            &[("Idempotency-Key", "failing-key-1001")],
        )
        .await;
    r.problem(403);
    assert_eq!((w.entries().await, w.verify().await), (before.0.clone(), before.1.clone()));
    // The key of a failed correction is not used up.
    w.correct(&id, &good, Some("failing-key-0000")).await.expect(201);
}

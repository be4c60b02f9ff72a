//! `POST /purchases/batch`: per-item results, idempotency shared with single creates,
//! failed items write nothing, and the aggregates stay consistent.

use canteen_ledger::domain::role::Role;
use canteen_ledger::service::aggregates;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{TestApp, TestDb, line};

both_backends!(
    a_batch_records_good_items_and_reports_bad_ones_without_writing_them,
    a_resent_batch_replays_and_keys_are_shared_with_single_creates,
    batch_callers_sizes_and_items_are_checked,
    a_large_batch_keeps_order_and_idempotency,
    a_batch_audits_and_emits_events_for_created_items_only,
);

fn item(key: &str, school: &str, supplier: &str, date: &str, lines: Value) -> Value {
    json!({"idempotency_key": key, "purchase": {"school_id": school, "supplier_id": supplier, "purchase_date": date, "lines": lines}})
}

async fn count(app: &TestApp, school: &str) -> usize {
    let r = app.get(&format!("/api/v1/purchases?school_id={school}&limit=500"), &app.admin()).await;
    r.expect(200);
    r.json["items"].as_array().unwrap().len()
}

async fn a_batch_records_good_items_and_reports_bad_ones_without_writing_them(db: TestDb) {
    let app = TestApp::new(db).await;
    let school = app.school("522731", "一小").await;
    let other = app.school("522731", "二小").await;
    let supplier = app.supplier("522731", "cooperative").await;
    app.tag(&supplier, "cooperative", "2019-01-01", None, true).await;
    let canteen = app.token(&Role::Canteen(school.clone()));
    let body = json!({"items": [
        item("batch-key-0001", &school, &supplier, "2019-03-05", json!([line("vegetables", "10", "jin", "1.255")])),
        item("batch-key-0002", &school, "no-such-supplier-2", "2019-03-06", json!([line("grain", "3", "kg", "1")])),
        item("batch-key-0003", &other, &supplier, "2019-03-06", json!([line("grain", "3", "kg", "1")])),
        item("batch-key-0004", &school, "no-such-supplier", "2019-03-06", json!([line("grain", "3", "kg", "1")])),
        item("batch-key-0005", &other, &supplier, "2019-03-06", json!([line("grain", "3", "kg", "1")])),
        item("batch-key-0006", &school, &supplier, "2019-03-07", json!([line("fruit", "2", "kg", "4.5")])),
    ]});

    let r = app.post("/api/v1/purchases/batch", &canteen, &body).await;

    r.expect(200);
    assert_eq!((r.json["created"].as_u64(), r.json["replayed"].as_u64(), r.json["failed"].as_u64()), (Some(2), Some(0), Some(4)));
    let results = r.json["results"].as_array().unwrap();
    let outcome = |i: usize| (results[i]["outcome"].as_str().unwrap(), results[i]["status"].as_u64().unwrap());
    assert_eq!(outcome(0), ("created", 201));
    assert_eq!(results[0]["purchase"]["total"], "12.55");
    assert_eq!(results[0]["purchase"]["qualification"]["class"], "qualifying");
    assert_eq!(outcome(1), ("failed", 422));
    assert_eq!(results[1]["problem"]["errors"][0]["field"], "supplier_id");
    assert_eq!(outcome(2), ("failed", 403));
    assert_eq!(outcome(3), ("failed", 422));
    assert_eq!(results[3]["problem"]["errors"][0]["code"], "unknown_supplier");
    assert_eq!(outcome(4), ("failed", 403));
    assert_eq!(outcome(5), ("created", 201));
    assert_eq!(results[5]["index"], 5);
    assert_eq!(results[5]["idempotency_key"], "batch-key-0006");
    assert_eq!(results[5]["purchase"]["seq"], 2);
    // Only the two good items are in the ledger, and the aggregates agree with it.
    assert_eq!(count(&app, &school).await, 2);
    assert_eq!(count(&app, &other).await, 0);
    // An item that POST /purchases would refuse on its own makes the batch a 422 naming
    // every such field, and nothing of it is written.
    let invalid = json!({"items": [
        item("batch-key-0011", &school, &supplier, "2019-03-08", json!([line("fruit", "2", "kg", "4.5")])),
        item("batch-key-0012", &school, &supplier, "2019-03-06", json!([line("grain", "3", "kg", "-1")])),
        {"idempotency_key": "batch-key-0013", "purchase": {"school_id": school, "lines": "nope"}},
    ]});
    let r = app.post("/api/v1/purchases/batch", &canteen, &invalid).await;
    let fields: Vec<&str> = r.problem(422)["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert!(fields.contains(&"items[1].purchase.lines[0].unit_price"), "{fields:?}");
    assert!(fields.contains(&"items[2].purchase.lines"), "{fields:?}");
    assert_eq!(count(&app, &school).await, 2);
    let mut conn = app.state.db.get().unwrap();
    assert!(aggregates::check(&mut conn).unwrap().differences.is_empty());
    drop(conn);
    let chain = app.get(&format!("/api/v1/schools/{school}/ledger/verify"), &app.admin()).await;
    chain.expect(200);
    assert_eq!(chain.json["entries"], 2);
    assert_eq!(chain.json["valid"], true);
}

async fn a_resent_batch_replays_and_keys_are_shared_with_single_creates(db: TestDb) {
    let app = TestApp::new(db).await;
    let school = app.school("520102", "一小").await;
    let supplier = app.supplier("520102", "enterprise").await;
    let canteen = app.token(&Role::Canteen(school.clone()));
    let lines = json!([line("fruit", "2", "kg", "4.5")]);
    let single = app.purchase_with_key(&school, &supplier, "2019-03-05", lines.clone(), "shared-key-01").await;
    single.expect(201);
    let body = json!({"items": [
        item("shared-key-01", &school, &supplier, "2019-03-05", lines.clone()),
        item("shared-key-02", &school, &supplier, "2019-03-06", lines.clone()),
        // The same key twice in one batch: the second is a replay of the first …
        item("shared-key-02", &school, &supplier, "2019-03-06", lines.clone()),
        // … and with another body, a conflict.
        item("shared-key-02", &school, &supplier, "2019-03-09", lines.clone()),
    ]});

    let first = app.post("/api/v1/purchases/batch", &canteen, &body).await;
    let again = app.post("/api/v1/purchases/batch", &canteen, &body).await;

    first.expect(200);
    let outcomes = |r: &Value| -> Vec<(String, u64)> {
        r["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| (x["outcome"].as_str().unwrap().to_owned(), x["status"].as_u64().unwrap()))
            .collect()
    };
    let o = |s: &str, n: u64| (s.to_owned(), n);
    assert_eq!(outcomes(&first.json), vec![o("replayed", 201), o("created", 201), o("replayed", 201), o("failed", 409)]);
    assert_eq!(first.json["results"][0]["purchase"]["id"], single.json["id"]);
    assert_eq!(first.json["results"][2]["purchase"]["id"], first.json["results"][1]["purchase"]["id"]);
    assert_eq!(first.json["results"][3]["problem"]["errors"][0]["field"], "purchase_date");
    again.expect(200);
    assert_eq!(outcomes(&again.json), vec![o("replayed", 201), o("replayed", 201), o("replayed", 201), o("failed", 409)]);
    assert_eq!(again.json["results"][1]["purchase"], first.json["results"][1]["purchase"]);
    assert_eq!(count(&app, &school).await, 2);
    // A single create with a key first used in a batch replays the batch's answer.
    let replay = app.purchase_with_key(&school, &supplier, "2019-03-06", lines, "shared-key-02").await;
    replay.expect(201);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.json["id"], first.json["results"][1]["purchase"]["id"]);
}

async fn batch_callers_sizes_and_items_are_checked(db: TestDb) {
    let app = TestApp::new(db).await;
    let school = app.school("520102", "一小").await;
    let supplier = app.supplier("520102", "enterprise").await;
    let canteen = app.token(&Role::Canteen(school.clone()));
    let one = item("size-key-0001", &school, &supplier, "2019-03-05", json!([line("fruit", "2", "kg", "4.5")]));

    for role in [Role::Admin, Role::County("520102".into()), Role::Supplier(supplier.clone())] {
        app.post("/api/v1/purchases/batch", &app.token(&role), &json!({"items": [one.clone()]})).await.problem(403);
    }
    let r = app.post("/api/v1/purchases/batch", &canteen, &json!({"items": []})).await;
    assert_eq!(r.problem(422)["errors"][0]["field"], "items");
    let too_many: Vec<Value> = (0..1001)
        .map(|i| item(&format!("size-key-{i:05}"), &school, &supplier, "2019-03-05", json!([line("fruit", "1", "kg", "1")])))
        .collect();
    let r = app.post("/api/v1/purchases/batch", &canteen, &json!({"items": too_many})).await;
    assert_eq!(r.problem(422)["errors"][0]["code"], "bad_count");
    let r = app.post("/api/v1/purchases/batch", &canteen, &json!({"items": [{"purchase": {}}]})).await;
    assert_eq!(r.problem(422)["errors"][0]["field"], "items[0].idempotency_key");
    let r = app
        .post("/api/v1/purchases/batch", &canteen, &json!({"items": [item("short", &school, &supplier, "2019-03-05", json!([]))]}))
        .await;
    assert_eq!(r.problem(422)["errors"][0]["field"], "items[0].idempotency_key");
    assert_eq!(r.json["errors"][0]["code"], "bad_key");
    let huge = json!({"items": [item("size-key-huge", &school, &supplier, "2019-03-05", json!([{"description": "x".repeat(9 << 20)}]))]});
    app.post("/api/v1/purchases/batch", &canteen, &huge).await.problem(413);
    // Not JSON (even deep inside an item) is a 400; JSON that is not the object asked for, a 422.
    let raw = |body: String| {
        app.send_bytes(actix_web::http::Method::POST, "/api/v1/purchases/batch", Some(&canteen), "application/json", body.into_bytes())
    };
    let whole = json!({"items": [one.clone()]}).to_string();
    for broken in [whole[..whole.len() - 1].to_owned(), whole.replace("\"lines\":[", "\"lines\":[,"), "nope".to_owned()] {
        assert_eq!(raw(broken.clone()).await.problem(400)["errors"][0]["code"], "malformed_json", "{broken}");
    }
    assert_eq!(raw(format!("[{whole}]")).await.problem(422)["errors"][0]["code"], "invalid_type");
    let r = raw(json!({"items": [one.clone()], "extra": 1}).to_string()).await;
    assert_eq!(r.problem(422)["errors"][0]["code"], "unknown_field");
    let r = raw(json!({"items": [{"idempotency_key": "size-key-0009", "purchase": [1, 2]}]}).to_string()).await;
    assert_eq!(r.problem(422)["errors"][0]["code"], "invalid_type");
    assert_eq!(r.json["errors"][0]["field"], "items[0].purchase");
    assert_eq!(count(&app, &school).await, 0);
}

async fn a_large_batch_keeps_order_and_idempotency(db: TestDb) {
    let app = TestApp::new(db).await;
    let school = app.school("520102", "一小").await;
    let supplier = app.supplier("520102", "enterprise").await;
    let canteen = app.token(&Role::Canteen(school.clone()));
    // Item 60 is bad; item 120 repeats item 10's key and body.
    let items: Vec<Value> = (0..130)
        .map(|i| {
            let key = if i == 120 { "big-key-0010".to_owned() } else { format!("big-key-{i:04}") };
            let n = if i == 120 { 10 } else { i };
            let price = format!("{}.00", 1 + n % 7);
            let supplier = if i == 60 { "no-such-supplier" } else { supplier.as_str() };
            item(&key, &school, supplier, "2019-03-05", json!([line("fruit", "1", "kg", &price)]))
        })
        .collect();

    let r = app.post("/api/v1/purchases/batch", &canteen, &json!({"items": items})).await;

    r.expect(200);
    assert_eq!((r.json["created"].as_u64(), r.json["replayed"].as_u64(), r.json["failed"].as_u64()), (Some(128), Some(1), Some(1)));
    let results = r.json["results"].as_array().unwrap();
    assert_eq!(results[60]["outcome"], "failed");
    assert_eq!(results[120]["outcome"], "replayed");
    assert_eq!(results[120]["purchase"]["id"], results[10]["purchase"]["id"]);
    // The chain follows the item order across the transactions.
    let seqs: Vec<i64> = results.iter().filter(|x| x["outcome"] == "created").map(|x| x["purchase"]["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=128).collect::<Vec<_>>());
    assert_eq!(count(&app, &school).await, 128);
    let mut conn = app.state.db.get().unwrap();
    assert!(aggregates::check(&mut conn).unwrap().differences.is_empty());
}

async fn a_batch_audits_and_emits_events_for_created_items_only(db: TestDb) {
    let app = TestApp::new(db).await;
    let school = app.school("520102", "一小").await;
    let watched = app.supplier("520102", "cooperative").await;
    let quiet = app.supplier("520102", "enterprise").await;
    let watched_token = app.token(&Role::Supplier(watched.clone()));
    let sub = app.post("/api/v1/webhooks", &watched_token, &json!({"url": "http://127.0.0.1:9/hook"})).await;
    sub.expect(201);
    let sub_id = sub.json["id"].as_str().unwrap().to_owned();
    let canteen = app.token(&Role::Canteen(school.clone()));
    let first = app.purchase(&school, &watched, "2019-03-04", json!([line("fruit", "1", "kg", "3")])).await;
    first.expect(201);
    let body = json!({"items": [
        item("events-key-0001", &school, &watched, "2019-03-05", json!([line("fruit", "2", "kg", "3")])),
        item("events-key-0002", &school, &quiet, "2019-03-05", json!([line("grain", "2", "kg", "3")])),
        item("events-key-0001", &school, &watched, "2019-03-05", json!([line("fruit", "2", "kg", "3")])),
        item("events-key-0003", &school, "no-such-supplier", "2019-03-05", json!([line("fruit", "2", "kg", "3")])),
        item("events-key-0004", &school, &watched, "2019-04-20", json!([line("eggs", "1", "kg", "9"), line("fruit", "1", "kg", "1")])),
    ]});

    let r = app.post("/api/v1/purchases/batch", &canteen, &body).await;

    r.expect(200);
    let results = r.json["results"].as_array().unwrap();
    let outcome = |i: usize| results[i]["outcome"].as_str().unwrap().to_owned();
    assert_eq!((0..5).map(outcome).collect::<Vec<_>>(), ["created", "created", "replayed", "failed", "created"]);
    // One event per purchase created against the watched supplier (the single create's, then the batch's two).
    let deliveries = app.get(&format!("/api/v1/webhooks/{sub_id}/deliveries"), &watched_token).await;
    deliveries.expect(200);
    let events: Vec<&str> = deliveries.json["items"].as_array().unwrap().iter().map(|d| d["event_type"].as_str().unwrap()).collect();
    assert_eq!(events, ["purchase.recorded"; 3]);
    // Each created purchase has its audit row with its place in the chain.
    let mut conn = app.state.db.get().unwrap();
    for i in [0, 1, 4] {
        let id = results[i]["purchase"]["id"].as_str().unwrap();
        let audit = canteen_ledger::db::repo::audit::list_for_subject(&mut conn, "purchase", id).unwrap();
        assert_eq!(audit.len(), 1, "item {i}");
        assert_eq!(audit[0].action, "purchase.record");
        let after: Value = serde_json::from_str(audit[0].after_json.as_deref().unwrap()).unwrap();
        assert_eq!(after["seq"], results[i]["purchase"]["seq"]);
    }
    assert_eq!([0, 1, 4].map(|i| results[i]["purchase"]["seq"].as_i64().unwrap()), [2, 3, 4]);
    // Two days, two half-months, two months, one quarter and one year touched: still exact.
    assert!(aggregates::check(&mut conn).unwrap().differences.is_empty());
    drop(conn);
    let chain = app.get(&format!("/api/v1/schools/{school}/ledger/verify"), &app.admin()).await;
    chain.expect(200);
    assert_eq!(chain.json["valid"], true);
    assert_eq!(chain.json["entries"], 4);
}

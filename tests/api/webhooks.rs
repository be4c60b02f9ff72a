//! Webhooks: subscriptions are a supplier's own, events are written with the purchase and
//! delivered by the dispatcher (driven here tick by tick with an injected clock) to a
//! real receiver on loopback, signed, at least once, with backoff; a receiver that is
//! down never affects recording.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use canteen_ledger::db::repo::audit;
use canteen_ledger::dispatch::dispatch_due;
use canteen_ledger::domain::role::Role;
use canteen_ledger::domain::webhook::MAX_ATTEMPTS;
use canteen_ledger::service;
use chrono::{NaiveDateTime, TimeDelta};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::both_backends;
use crate::helpers::{TestApp, TestDb, line};

both_backends!(
    a_recorded_purchase_is_delivered_once_signed_with_its_event_id,
    a_failed_delivery_is_retried_after_the_backoff_with_the_same_event_id,
    a_receiver_that_is_down_never_affects_recording_and_the_log_shows_why,
    suppliers_see_only_their_own_subscriptions_deliveries_and_events,
    bad_urls_event_types_and_callers_are_refused,
    confirmations_disputes_and_payments_are_events_too,
    callbacks_to_private_addresses_are_refused_by_default,
);

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    headers: Vec<(String, String)>,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map_or("", |(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// A real HTTP receiver on 127.0.0.1: answers the scripted statuses in order (then 200)
/// and records every request.
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    fn start<const N: usize>(script: [u16; N]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hooks/canteen", listener.local_addr().unwrap());
        let got = Arc::new(Mutex::new(Vec::new()));
        let (log, mut script) = (got.clone(), script.into_iter());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut headers = Vec::new();
                let mut request_line = String::new();
                reader.read_line(&mut request_line).unwrap();
                loop {
                    let mut l = String::new();
                    reader.read_line(&mut l).unwrap();
                    let l = l.trim_end();
                    if l.is_empty() {
                        break;
                    }
                    let (k, v) = l.split_once(':').unwrap();
                    headers.push((k.trim().to_owned(), v.trim().to_owned()));
                }
                let len = headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("content-length")).map_or(0, |(_, v)| v.parse().unwrap());
                let mut body = vec![0; len];
                reader.read_exact(&mut body).unwrap();
                assert!(request_line.starts_with("POST /hooks/canteen "), "{request_line}");
                log.lock().unwrap().push(Received { headers, body: String::from_utf8(body).unwrap() });
                let status = script.next().unwrap_or(200);
                let _ = write!(stream, "HTTP/1.1 {status} Scripted\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
            }
        });
        Self { url, got }
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

/// A URL nothing listens on.
fn closed_port_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}/hooks/canteen", listener.local_addr().unwrap())
}

fn hmac_hex(secret: &str, message: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(message.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// A timestamp as the API writes it (RFC 3339, UTC, `Z`).
fn time(v: &Value) -> NaiveDateTime {
    let s = v.as_str().unwrap();
    assert!(s.ends_with('Z'), "{s}");
    s.parse::<chrono::DateTime<chrono::Utc>>().unwrap().naive_utc()
}

/// A supplier (with its token) and a school that buys from it.
struct World {
    school: String,
    supplier: String,
    supplier_token: String,
}

async fn world(app: &TestApp) -> World {
    let school = app.school("520102", "一小").await;
    let supplier = app.supplier("520102", "cooperative").await;
    let supplier_token = app.token(&Role::Supplier(supplier.clone()));
    World { school, supplier, supplier_token }
}

async fn subscribe(app: &TestApp, token: &str, body: Value) -> Value {
    let r = app.post("/api/v1/webhooks", token, &body).await;
    r.expect(201);
    r.json.clone()
}

async fn record(app: &TestApp, w: &World) -> Value {
    let r = app.purchase(&w.school, &w.supplier, "2019-03-05", json!([line("vegetables", "10", "kg", "2.5")])).await;
    r.expect(201);
    r.json.clone()
}

async fn log(app: &TestApp, token: &str, subscription: &str) -> Vec<Value> {
    let r = app.get(&format!("/api/v1/webhooks/{subscription}/deliveries"), token).await;
    r.expect(200);
    r.json["items"].as_array().unwrap().clone()
}

/// One dispatcher tick at `now`.
fn tick(app: &TestApp, now: NaiveDateTime) -> usize {
    dispatch_due(&app.state.db, now, app.state.allow_private_callbacks).unwrap()
}

async fn a_recorded_purchase_is_delivered_once_signed_with_its_event_id(db: TestDb) {
    let app = TestApp::new(db).await;
    let w = world(&app).await;
    let receiver = Receiver::start([]);
    let sub = subscribe(&app, &w.supplier_token, json!({"url": receiver.url})).await;
    let secret = sub["secret"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 64, "32 random bytes in hex");
    assert!(secret.bytes().all(|b| b.is_ascii_hexdigit()));
    let p = record(&app, &w).await;

    let now = service::now();
    assert_eq!(tick(&app, now), 1);
    assert_eq!(tick(&app, now + TimeDelta::hours(2)), 0, "a delivered event is not sent again");

    let got = receiver.received();
    assert_eq!(got.len(), 1);
    let req = &got[0];
    let event = req.json();
    assert_eq!(req.header("content-type"), "application/json");
    assert_eq!(req.header("webhook-id"), event["id"].as_str().unwrap());
    assert_eq!(req.header("webhook-timestamp"), now.and_utc().timestamp().to_string());
    let expected = format!("sha256={}", hmac_hex(&secret, &format!("{}.{}", req.header("webhook-timestamp"), req.body)));
    assert_eq!(req.header("webhook-signature"), expected);
    assert_ne!(req.header("webhook-signature"), format!("sha256={}", hmac_hex("another-secret", &req.body)));
    assert_eq!(event["type"], "purchase.recorded");
    assert!(event["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        event["data"],
        json!({"id": p["id"], "school_id": w.school, "supplier_id": w.supplier, "purchase_date": "2019-03-05",
               "total": "25.00", "kind": "entry", "voids_id": null})
    );
    let entries = log(&app, &w.supplier_token, sub["id"].as_str().unwrap()).await;
    assert_eq!(entries.len(), 1);
    let d = &entries[0];
    assert_eq!((d["event_id"].as_str(), d["event_type"].as_str()), (event["id"].as_str(), Some("purchase.recorded")));
    assert_eq!((d["status"].as_str(), d["attempts"].as_i64(), d["last_status_code"].as_i64()), (Some("delivered"), Some(1), Some(200)));
    assert_eq!(time(&d["delivered_at"]), now);
    assert!(d["next_attempt_at"].is_null() && d["last_error"].is_null());

    // A void is an event too: the reversal entry, naming the voided purchase.
    let canteen = app.token(&Role::Canteen(w.school.clone()));
    let v = app.post(&format!("/api/v1/purchases/{}/void", p["id"].as_str().unwrap()), &canteen, &json!({"reason": "entered twice"})).await;
    v.expect(201);
    assert_eq!(tick(&app, service::now()), 1);
    let voided = receiver.received()[1].json();
    assert_eq!(voided["type"], "purchase.voided");
    assert_ne!(voided["id"], event["id"]);
    assert_eq!((&voided["data"]["id"], &voided["data"]["voids_id"]), (&v.json["id"], &p["id"]));
    assert_eq!((voided["data"]["total"].as_str(), voided["data"]["kind"].as_str()), (Some("-25.00"), Some("void")));
}

async fn a_failed_delivery_is_retried_after_the_backoff_with_the_same_event_id(db: TestDb) {
    let app = TestApp::new(db).await;
    let w = world(&app).await;
    let receiver = Receiver::start([500, 200]);
    let sub = subscribe(&app, &w.supplier_token, json!({"url": receiver.url, "events": ["purchase.recorded"]})).await;
    let id = sub["id"].as_str().unwrap();
    record(&app, &w).await;
    let t0 = service::now();

    assert_eq!(tick(&app, t0), 1);
    let first = log(&app, &w.supplier_token, id).await;
    assert_eq!((first[0]["status"].as_str(), first[0]["attempts"].as_i64()), (Some("pending"), Some(1)));
    assert_eq!(first[0]["last_status_code"], 500);
    assert!(first[0]["last_error"].as_str().unwrap().contains("500"));
    assert_eq!(time(&first[0]["next_attempt_at"]), t0 + TimeDelta::seconds(10), "first retry after 10 s");
    assert_eq!(tick(&app, t0 + TimeDelta::seconds(9)), 0, "not retried before the backoff");
    assert_eq!(tick(&app, t0 + TimeDelta::seconds(10)), 1);

    let got = receiver.received();
    assert_eq!(got.len(), 2, "at least once: sent again after the 500");
    assert_eq!(got[0].header("webhook-id"), got[1].header("webhook-id"));
    assert_eq!(got[0].body, got[1].body, "the same event, byte for byte");
    assert_eq!(got[1].header("webhook-timestamp"), (t0 + TimeDelta::seconds(10)).and_utc().timestamp().to_string());
    let entries = log(&app, &w.supplier_token, id).await;
    assert_eq!(entries.len(), 1);
    let d = &entries[0];
    assert_eq!((d["status"].as_str(), d["attempts"].as_i64(), d["last_status_code"].as_i64()), (Some("delivered"), Some(2), Some(200)));
    assert_eq!(time(&d["delivered_at"]), t0 + TimeDelta::seconds(10));
    assert!(d["next_attempt_at"].is_null());
}

async fn a_receiver_that_is_down_never_affects_recording_and_the_log_shows_why(db: TestDb) {
    let app = TestApp::new(db).await;
    let w = world(&app).await;
    let sub = subscribe(&app, &w.supplier_token, json!({"url": closed_port_url()})).await;
    let id = sub["id"].as_str().unwrap();

    record(&app, &w).await;
    let mut now = service::now();
    assert_eq!(tick(&app, now), 1);

    let d = log(&app, &w.supplier_token, id).await[0].clone();
    assert_eq!((d["status"].as_str(), d["attempts"].as_i64()), (Some("pending"), Some(1)));
    assert!(d["last_status_code"].is_null());
    assert!(!d["last_error"].as_str().unwrap().is_empty());
    assert_eq!(time(&d["next_attempt_at"]), now + TimeDelta::seconds(10));
    // Recording goes on while the receiver is down.
    record(&app, &w).await;
    // Each retry waits twice as long, at most an hour; the last attempt gives up.
    let mut waits = Vec::new();
    for _ in 1..MAX_ATTEMPTS {
        let d = log(&app, &w.supplier_token, id).await[0].clone();
        let next = time(&d["next_attempt_at"]);
        waits.push((next - now).num_seconds());
        now = next;
        assert!(tick(&app, now) >= 1);
    }
    assert_eq!(&waits[..4], &[10, 20, 40, 80]);
    assert_eq!(waits.last(), Some(&3_600));
    let entries = log(&app, &w.supplier_token, id).await;
    assert_eq!(entries.len(), 2);
    assert_eq!((entries[0]["status"].as_str(), entries[0]["attempts"].as_i64()), (Some("failed"), Some(i64::from(MAX_ATTEMPTS))));
    assert!(entries[0]["next_attempt_at"].is_null());
    assert_eq!(entries[1]["status"], "pending");
}

async fn suppliers_see_only_their_own_subscriptions_deliveries_and_events(db: TestDb) {
    let app = TestApp::new(db).await;
    let a = world(&app).await;
    let b_supplier = app.supplier("522731", "enterprise").await;
    let b_token = app.token(&Role::Supplier(b_supplier.clone()));
    let (ra, rb, ra_voids) = (Receiver::start([]), Receiver::start([]), Receiver::start([]));
    let sub_a = subscribe(&app, &a.supplier_token, json!({"url": ra.url})).await;
    let sub_a_voids = subscribe(&app, &a.supplier_token, json!({"url": ra_voids.url, "events": ["purchase.voided"]})).await;
    let sub_b = subscribe(&app, &b_token, json!({"url": rb.url})).await;
    let (id_a, id_b) = (sub_a["id"].as_str().unwrap(), sub_b["id"].as_str().unwrap());

    record(&app, &a).await;
    assert_eq!(tick(&app, service::now()), 1, "one matching subscription: A's, for all events");
    assert_eq!((ra.received().len(), rb.received().len(), ra_voids.received().len()), (1, 0, 0));

    let ids = |r: &crate::helpers::Resp| -> Vec<String> {
        r.json["items"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_owned()).collect()
    };
    let list_a = app.get("/api/v1/webhooks", &a.supplier_token).await;
    list_a.expect(200);
    let mut expected = vec![id_a.to_owned(), sub_a_voids["id"].as_str().unwrap().to_owned()];
    expected.sort();
    assert_eq!(ids(&list_a), expected);
    assert_eq!(list_a.json["items"][0]["supplier_id"], a.supplier.as_str());
    let list_b = app.get("/api/v1/webhooks", &b_token).await;
    assert_eq!(ids(&list_b), vec![id_b.to_owned()]);
    let all = app.get("/api/v1/webhooks", &app.admin()).await;
    assert_eq!(ids(&all).len(), 3, "the administrator reads every subscription");
    for r in [&list_a, &list_b, &all] {
        assert!(!r.text.contains("secret"), "secrets are shown only when created: {}", r.text);
        assert!(!r.text.contains(sub_a["secret"].as_str().unwrap()));
    }
    // Another supplier's subscription does not exist for B.
    app.get(&format!("/api/v1/webhooks/{id_a}/deliveries"), &b_token).await.problem(404);
    app.send(actix_web::http::Method::DELETE, &format!("/api/v1/webhooks/{id_a}"), Some(&b_token), None, &[]).await.problem(404);
    assert!(log(&app, &b_token, id_b).await.is_empty());
    assert_eq!(log(&app, &app.admin(), id_a).await.len(), 1);
    let canteen = app.token(&Role::Canteen(a.school.clone()));
    app.get("/api/v1/webhooks", &canteen).await.problem(403);
    app.get(&format!("/api/v1/webhooks/{id_a}/deliveries"), &canteen).await.problem(403);

    // Deleting stops deliveries and is audited (without the secret).
    let del = app.send(actix_web::http::Method::DELETE, &format!("/api/v1/webhooks/{id_a}"), Some(&a.supplier_token), None, &[]).await;
    del.expect(204);
    app.get(&format!("/api/v1/webhooks/{id_a}/deliveries"), &a.supplier_token).await.problem(404);
    record(&app, &a).await;
    assert_eq!(tick(&app, service::now()), 0);
    assert_eq!(ra.received().len(), 1);
    let mut conn = app.state.db.get().unwrap();
    let trail = audit::list_for_subject(&mut conn, "webhook_subscription", id_a).unwrap();
    let actions: Vec<&str> = trail.iter().map(|t| t.action.as_str()).collect();
    assert_eq!(actions, ["webhook.subscribe", "webhook.unsubscribe"]);
    assert!(trail.iter().all(|t| !format!("{t:?}").contains(sub_a["secret"].as_str().unwrap())));
}

async fn bad_urls_event_types_and_callers_are_refused(db: TestDb) {
    let app = TestApp::new(db).await;
    let w = world(&app).await;
    let long = format!("https://erp.example.cn/{}", "x".repeat(2_000));
    for url in [
        "ftp://erp.example.cn/hook",
        "erp.example.cn/hook",
        "http://",
        "https:///hook",
        "http://exa mple.cn/",
        "javascript:alert(1)",
        &long,
    ] {
        let r = app.post("/api/v1/webhooks", &w.supplier_token, &json!({"url": url})).await;
        assert_eq!((r.problem(422)["errors"][0]["field"].as_str(), r.first_code()), (Some("url"), "bad_url"), "{url}");
    }
    for events in [json!([]), json!(["purchase.nope"]), json!(["purchase.voided", "purchase.voided"])] {
        let r = app.post("/api/v1/webhooks", &w.supplier_token, &json!({"url": "https://erp.example.cn/h", "events": events})).await;
        assert_eq!((r.problem(422)["errors"][0]["field"].as_str(), r.first_code()), (Some("events"), "bad_events"), "{events}");
    }
    app.post("/api/v1/webhooks", &w.supplier_token, &json!({"events": ["purchase.recorded"]})).await.problem(422);
    for role in [Role::Admin, Role::Province, Role::County("520102".into()), Role::Canteen(w.school.clone())] {
        app.post("/api/v1/webhooks", &app.token(&role), &json!({"url": "https://erp.example.cn/h"})).await.problem(403);
    }
    let r = app.get("/api/v1/webhooks", &w.supplier_token).await;
    r.expect(200);
    assert_eq!(r.json["items"], json!([]), "nothing refused was stored");
}

async fn confirmations_disputes_and_payments_are_events_too(db: TestDb) {
    let app = TestApp::new(db).await;
    let w = world(&app).await;
    let receiver = Receiver::start([]);
    subscribe(&app, &w.supplier_token, json!({"url": receiver.url})).await;
    let canteen = app.token(&Role::Canteen(w.school.clone()));
    let a = record(&app, &w).await["id"].as_str().unwrap().to_owned();
    let b = record(&app, &w).await["id"].as_str().unwrap().to_owned();
    app.post(&format!("/api/v1/purchases/{a}/acknowledge"), &w.supplier_token, &json!({})).await.expect(200);
    app.post(&format!("/api/v1/purchases/{b}/dispute"), &w.supplier_token, &json!({"reason": "not ours"})).await.expect(200);
    let pay = json!({"paid_on": "2019-03-20", "amount": "10.00", "reference": "BANK-9"});
    app.post(&format!("/api/v1/purchases/{a}/payments"), &canteen, &pay).await.expect(201);
    let body = json!({"school_id": w.school, "delivery_date": "2019-03-06", "reference": "DN-9", "lines": [line("grain", "2", "kg", "3")]});
    let push = |key: &'static str| {
        let (app, body, token) = (&app, body.clone(), w.supplier_token.clone());
        async move {
            let r =
                app.send(actix_web::http::Method::POST, "/api/v1/deliveries", Some(&token), Some(&body), &[("Idempotency-Key", key)]).await;
            r.expect(201);
            r.json["id"].as_str().unwrap().to_owned()
        }
    };
    let (d1, d2) = (push("hook-delivery-1").await, push("hook-delivery-2").await);
    let confirmed = app.post(&format!("/api/v1/deliveries/{d1}/confirm"), &canteen, &json!({})).await;
    confirmed.expect(200);
    app.post(&format!("/api/v1/deliveries/{d2}/dispute"), &canteen, &json!({"reason": "wrong goods"})).await.expect(200);

    assert_eq!(tick(&app, service::now()), 7);

    let events: Vec<Value> = receiver.received().iter().map(Received::json).collect();
    let of = |t: &str| events.iter().filter(|e| e["type"] == t).cloned().collect::<Vec<_>>();
    assert_eq!(of("purchase.recorded").len(), 2);
    let confirmed_events = of("purchase.confirmed");
    assert_eq!(confirmed_events.len(), 2);
    assert_eq!(
        (confirmed_events[0]["data"]["id"].as_str(), confirmed_events[0]["data"]["via"].as_str()),
        (Some(a.as_str()), Some("supplier"))
    );
    assert_eq!(confirmed_events[1]["data"]["id"], confirmed.json["purchase"]["id"]);
    assert_eq!(
        (confirmed_events[1]["data"]["via"].as_str(), confirmed_events[1]["data"]["delivery_id"].as_str()),
        (Some("delivery"), Some(d1.as_str()))
    );
    let disputed = of("purchase.disputed");
    assert_eq!((disputed[0]["data"]["id"].as_str(), disputed[0]["data"]["reason"].as_str()), (Some(b.as_str()), Some("not ours")));
    let paid = of("purchase.paid");
    assert_eq!((paid[0]["data"]["payment"]["amount"].as_str(), paid[0]["data"]["unpaid"].as_str()), (Some("10.00"), Some("15.00")));
    let delivery = of("delivery.disputed");
    assert_eq!((delivery[0]["data"]["id"].as_str(), delivery[0]["data"]["reason"].as_str()), (Some(d2.as_str()), Some("wrong goods")));
}

async fn callbacks_to_private_addresses_are_refused_by_default(db: TestDb) {
    let app = TestApp::with_callbacks(db, false).await;
    let w = world(&app).await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://10.0.0.7/",
    ] {
        let r = app.post("/api/v1/webhooks", &w.supplier_token, &json!({"url": url})).await;
        let p = r.problem(422);
        assert_eq!((p["errors"][0]["field"].as_str(), p["errors"][0]["code"].as_str()), (Some("url"), Some("non_public_address")), "{url}");
    }
    // A name that only resolves to loopback gets past registration (2130706433 is
    // 127.0.0.1 written as one number) but the dispatcher resolves it before every
    // attempt and refuses: the receiver listening there hears nothing.
    let receiver = Receiver::start([200]);
    let port = receiver.url.rsplit(':').next().unwrap().split('/').next().unwrap().to_owned();
    let sub = subscribe(&app, &w.supplier_token, json!({"url": format!("http://2130706433:{port}/hook")})).await;
    record(&app, &w).await;
    assert_eq!(tick(&app, service::now()), 1);

    let d = log(&app, &w.supplier_token, sub["id"].as_str().unwrap()).await[0].clone();
    assert_eq!((d["status"].as_str(), d["attempts"].as_i64()), (Some("pending"), Some(1)));
    assert!(d["last_error"].as_str().unwrap().contains("non-public"), "{d}");
    assert!(receiver.received().is_empty());
}

/// The callback URL's schema pattern and the server's check agree: what a generated
/// client may send is accepted, and what the server refuses is outside the pattern.
#[test]
fn the_url_pattern_and_the_server_check_agree() {
    let doc = serde_json::to_value(canteen_ledger::app::document()).unwrap();
    let pattern = doc["components"]["schemas"]["CreateWebhookRequest"]["properties"]["url"]["pattern"].as_str().unwrap().to_owned();
    let re = regex::Regex::new(&pattern).unwrap();
    let urls = [
        "https://erp.example.cn/hooks",
        "HTTP://erp.example.cn:8080/a?b=c#d",
        "http://user:pw@erp.example.cn/x",
        "http://[2001:db8::1]:443/",
        "http://[2001:db8::1]/",
        "http://a:/",
        "http://a:0",
        "http://a:65535",
        "http://a:65536",
        "http://a:080",
        "http://a:bad/x@c",
        "Https://XZ1:[FEM}3Xl::l9&|",
        "http://[]/",
        "http://[zz]/",
        "http://[::1]x/",
        "http://a]b/",
        "http:///path",
        "ftp://a/",
        "http://a b/",
        "http://é/",
        "http://a/é",
        "http://2130706433:8080/",
    ];
    for url in urls {
        let server = canteen_ledger::domain::webhook::check_url(url, true).is_ok();
        assert_eq!(re.is_match(url), server, "{url}: pattern {} but the server {}", re.is_match(url), server);
    }
}

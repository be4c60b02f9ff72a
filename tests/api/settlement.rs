//! Deliveries pushed by suppliers, two-party confirmation, payments and overdue lists,
//! and their figures in the reports (from the aggregates, equal to the ledger's).

use actix_web::http::Method;
use canteen_ledger::db::repo::reports::ScopeFilter;
use canteen_ledger::domain::access::Caller;
use canteen_ledger::domain::period::DateRange;
use canteen_ledger::domain::role::Role;
use canteen_ledger::service::aggregates;
use canteen_ledger::service::reports::{self, Grouping, ReportRequest, Source, UnitLevel};
use chrono::NaiveDate;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Resp, TestApp, TestDb, Trade, export, line};

both_backends!(
    a_pushed_delivery_becomes_a_confirmed_purchase_when_the_canteen_confirms_it,
    a_delivery_links_to_a_recorded_purchase_only_with_the_same_total,
    suppliers_acknowledge_or_dispute_what_canteens_recorded,
    payments_add_up_to_the_total_and_unpaid_purchases_fall_overdue,
    confirmed_and_paid_figures_stay_consistent_through_voids_and_reclassification,
    share_reports_show_what_is_overdue_as_of_any_day,
);

const COUNTY: &str = "522731";

type World = Trade;

async fn world(db: TestDb) -> World {
    Trade::new(db, COUNTY).await
}

async fn push(w: &World, key: &str, date: &str, lines: Value) -> Resp {
    let body = json!({"school_id": w.school, "delivery_date": date, "reference": "DN-17", "lines": lines});
    w.app.send(Method::POST, "/api/v1/deliveries", Some(&w.vendor), Some(&body), &[("Idempotency-Key", key)]).await
}

fn fen(v: &Value) -> i64 {
    let s = v.as_str().unwrap();
    let (y, f) = s.split_once('.').unwrap();
    y.parse::<i64>().unwrap() * 100 + f.parse::<i64>().unwrap()
}

/// The county report's summary from the aggregates, checked equal to the ledger's, and
/// the consistency check clean.
async fn settlement_of(app: &TestApp, from: &str, to: &str) -> Value {
    let mut conn = app.state.db.get().unwrap();
    assert!(aggregates::check(&mut conn).unwrap().differences.is_empty());
    let user = Caller::new("t", Role::Province);
    let range = DateRange { from: from.parse().unwrap(), to: to.parse().unwrap() };
    for grouping in [Grouping::default(), Grouping { unit: Some(UnitLevel::School), ..Grouping::default() }] {
        let req = ReportRequest { scope: ScopeFilter::County(COUNTY.into()), range, grouping };
        let fast = reports::shares_from(&mut conn, &user, &req, Source::Aggregates).unwrap();
        let slow = reports::shares_from(&mut conn, &user, &req, Source::Ledger).unwrap();
        assert_eq!(fast, slow);
    }
    drop(conn);
    let r = app.get(&format!("/api/v1/reports/shares?scope=county:{COUNTY}&from={from}&to={to}"), &app.admin()).await;
    r.expect(200);
    r.json["summary"]["settlement"].clone()
}

async fn a_pushed_delivery_becomes_a_confirmed_purchase_when_the_canteen_confirms_it(db: TestDb) {
    let w = world(db).await;
    let lines = json!([line("vegetables", "10", "jin", "1.255")]);
    let first = push(&w, "delivery-key-01", "2019-03-05", lines.clone()).await;
    let again = push(&w, "delivery-key-01", "2019-03-05", lines.clone()).await;
    let changed = push(&w, "delivery-key-01", "2019-03-06", lines.clone()).await;

    first.expect(201);
    assert_eq!(first.json["status"], "pending");
    assert_eq!(first.json["total"], "12.55");
    assert_eq!(first.json["supplier_id"], w.supplier.as_str());
    again.expect(201);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.json["id"], first.json["id"]);
    assert_eq!(changed.problem(409)["errors"][0]["field"], "delivery_date");
    let id = first.json["id"].as_str().unwrap().to_owned();
    // Pending for the canteen; nothing in the ledger yet.
    let pending = w.app.get("/api/v1/deliveries?status=pending", &w.canteen).await;
    pending.expect(200);
    assert_eq!(pending.json["items"].as_array().unwrap().len(), 1);
    assert_eq!(settlement_of(&w.app, "2019-03-01", "2019-03-31").await["confirmed_total"], "0.00");
    // Only the receiving canteen confirms.
    let other_school = w.app.school(COUNTY, "二小").await;
    let other = w.app.token(&Role::Canteen(other_school));
    w.app.post(&format!("/api/v1/deliveries/{id}/confirm"), &other, &json!({})).await.problem(404);
    w.app.post(&format!("/api/v1/deliveries/{id}/confirm"), &w.vendor, &json!({})).await.problem(403);

    let confirmed = w.app.send(Method::POST, &format!("/api/v1/deliveries/{id}/confirm"), Some(&w.canteen), None, &[]).await;

    confirmed.expect(200);
    assert_eq!(confirmed.json["delivery"]["status"], "confirmed");
    let purchase = &confirmed.json["purchase"];
    assert_eq!(confirmed.json["delivery"]["purchase_id"], purchase["id"]);
    assert_eq!(purchase["total"], "12.55");
    assert_eq!(purchase["purchase_date"], "2019-03-05");
    assert_eq!(purchase["supplier_id"], w.supplier.as_str());
    assert_eq!(purchase["confirmation"]["state"], "confirmed");
    assert_eq!(purchase["confirmation"]["via"], "delivery");
    assert_eq!(purchase["confirmation"]["delivery_id"], id.as_str());
    assert_eq!(purchase["qualification"]["class"], "qualifying");
    w.app.post(&format!("/api/v1/deliveries/{id}/confirm"), &w.canteen, &json!({})).await.problem(409);
    w.app.post(&format!("/api/v1/deliveries/{id}/dispute"), &w.canteen, &json!({"reason": "late"})).await.problem(409);
    let s = settlement_of(&w.app, "2019-03-01", "2019-03-31").await;
    assert_eq!((s["confirmed_total"].as_str(), s["confirmed_qualifying"].as_str()), (Some("12.55"), Some("12.55")));
    assert_eq!(s["confirmed_share"], "1.0000");
    // The supplier sees the purchase recorded against it, confirmed.
    let mine = w.app.get("/api/v1/purchases", &w.vendor).await;
    assert_eq!(mine.json["items"][0]["confirmation"]["state"], "confirmed");
    // A disputed delivery records nothing.
    let d2 = push(&w, "delivery-key-02", "2019-03-07", lines).await;
    let id2 = d2.json["id"].as_str().unwrap();
    let disputed = w.app.post(&format!("/api/v1/deliveries/{id2}/dispute"), &w.canteen, &json!({"reason": "only half arrived"})).await;
    disputed.expect(200);
    assert_eq!(disputed.json["status"], "disputed");
    assert_eq!(disputed.json["dispute_reason"], "only half arrived");
    w.app.post(&format!("/api/v1/deliveries/{id2}/confirm"), &w.canteen, &json!({})).await.problem(409);
    assert_eq!(w.app.get("/api/v1/purchases", &w.canteen).await.json["items"].as_array().unwrap().len(), 1);
}

async fn a_delivery_links_to_a_recorded_purchase_only_with_the_same_total(db: TestDb) {
    let w = world(db).await;
    let recorded = w.app.purchase(&w.school, &w.supplier, "2019-03-05", json!([line("grain", "3", "kg", "4.00")])).await;
    recorded.expect(201);
    assert_eq!(recorded.json["confirmation"]["state"], "unconfirmed");
    let pid = recorded.json["id"].as_str().unwrap().to_owned();
    let wrong = push(&w, "delivery-key-11", "2019-03-05", json!([line("grain", "3", "kg", "4.10")])).await;
    let right = push(&w, "delivery-key-12", "2019-03-05", json!([line("grain", "4", "kg", "3.00")])).await;
    let (wrong, right) = (wrong.json["id"].as_str().unwrap().to_owned(), right.json["id"].as_str().unwrap().to_owned());

    let differs = w.app.post(&format!("/api/v1/deliveries/{wrong}/confirm"), &w.canteen, &json!({"purchase_id": pid})).await;
    let unknown = w.app.post(&format!("/api/v1/deliveries/{right}/confirm"), &w.canteen, &json!({"purchase_id": "nope"})).await;
    let linked = w.app.post(&format!("/api/v1/deliveries/{right}/confirm"), &w.canteen, &json!({"purchase_id": pid})).await;

    let p = differs.problem(409);
    assert!(p["type"].as_str().unwrap().ends_with("amounts-differ"), "{p}");
    assert!(p["detail"].as_str().unwrap().contains("12.30"), "{p}");
    assert_eq!(w.app.get(&format!("/api/v1/deliveries/{wrong}"), &w.canteen).await.json["status"], "pending");
    assert_eq!(unknown.problem(422)["errors"][0]["code"], "not_linkable");
    linked.expect(200);
    assert_eq!(linked.json["purchase"]["id"], pid.as_str());
    assert_eq!(linked.json["purchase"]["confirmation"]["state"], "confirmed");
    assert_eq!(w.app.get("/api/v1/purchases", &w.canteen).await.json["items"].as_array().unwrap().len(), 1);
    assert_eq!(settlement_of(&w.app, "2019-03-01", "2019-03-31").await["confirmed_total"], "12.00");
    // The purchase is taken: another delivery cannot link it, and its supplier has nothing left to acknowledge.
    w.app.post(&format!("/api/v1/deliveries/{wrong}/confirm"), &w.canteen, &json!({"purchase_id": pid})).await.problem(409);
    w.app.post(&format!("/api/v1/purchases/{pid}/acknowledge"), &w.vendor, &json!({})).await.problem(409);
}

async fn suppliers_acknowledge_or_dispute_what_canteens_recorded(db: TestDb) {
    let w = world(db).await;
    let a = w.app.purchase(&w.school, &w.supplier, "2019-03-05", json!([line("fruit", "2", "kg", "5")])).await.json["id"].clone();
    let b = w.app.purchase(&w.school, &w.supplier, "2019-03-06", json!([line("fruit", "3", "kg", "5")])).await.json["id"].clone();
    let (a, b) = (a.as_str().unwrap(), b.as_str().unwrap());
    let stranger = w.app.token(&Role::Supplier(w.app.supplier(COUNTY, "enterprise").await));

    w.app.post(&format!("/api/v1/purchases/{a}/acknowledge"), &stranger, &json!({})).await.problem(404);
    w.app.post(&format!("/api/v1/purchases/{a}/acknowledge"), &w.canteen, &json!({})).await.problem(403);
    w.app.post(&format!("/api/v1/purchases/{b}/dispute"), &w.vendor, &json!({"reason": " "})).await.problem(422);
    let ack = w.app.post(&format!("/api/v1/purchases/{a}/acknowledge"), &w.vendor, &json!({})).await;
    let dispute = w.app.post(&format!("/api/v1/purchases/{b}/dispute"), &w.vendor, &json!({"reason": "we never delivered this"})).await;

    ack.expect(200);
    assert_eq!(ack.json["confirmation"]["state"], "confirmed");
    assert_eq!(ack.json["confirmation"]["via"], "supplier");
    dispute.expect(200);
    assert_eq!(dispute.json["confirmation"]["state"], "disputed");
    assert_eq!(dispute.json["confirmation"]["reason"], "we never delivered this");
    w.app.post(&format!("/api/v1/purchases/{a}/dispute"), &w.vendor, &json!({"reason": "changed my mind"})).await.problem(409);
    w.app.post(&format!("/api/v1/purchases/{b}/acknowledge"), &w.vendor, &json!({})).await.problem(409);
    let got = w.app.get(&format!("/api/v1/purchases/{b}"), &w.app.token(&Role::County(COUNTY.into()))).await;
    assert_eq!(got.json["confirmation"]["state"], "disputed");
    // Both count in the total; only the acknowledged one is confirmed.
    let s = settlement_of(&w.app, "2019-03-01", "2019-03-31").await;
    assert_eq!(s["confirmed_total"], "10.00");
    assert_eq!(s["confirmed_share"], "1.0000");
}

async fn payments_add_up_to_the_total_and_unpaid_purchases_fall_overdue(db: TestDb) {
    let w = world(db).await;
    let p = w.app.purchase(&w.school, &w.supplier, "2019-03-05", json!([line("fruit", "10.2", "kg", "4.5")])).await; // 45.90
    let q = w.app.purchase(&w.school, &w.supplier, "2019-03-20", json!([line("fruit", "2", "kg", "5")])).await; // 10.00
    let (pid, qid) = (p.json["id"].as_str().unwrap().to_owned(), q.json["id"].as_str().unwrap().to_owned());
    assert_eq!(p.json["payment"]["state"], "unpaid");
    assert_eq!(p.json["payment"]["due_date"], "2019-04-04");
    let pay = |amount: &str| json!({"paid_on": "2019-03-25", "amount": amount, "reference": "BANK-1"});

    w.app.post(&format!("/api/v1/purchases/{pid}/payments"), &w.vendor, &pay("1")).await.problem(403);
    assert_eq!(
        w.app.post(&format!("/api/v1/purchases/{pid}/payments"), &w.canteen, &pay("0")).await.problem(422)["errors"][0]["field"],
        "amount"
    );
    assert_eq!(
        w.app.post(&format!("/api/v1/purchases/{pid}/payments"), &w.canteen, &pay("1.001")).await.problem(422)["errors"][0]["field"],
        "amount"
    );
    let first = w.app.post(&format!("/api/v1/purchases/{pid}/payments"), &w.canteen, &pay("20")).await;
    let too_much = w.app.post(&format!("/api/v1/purchases/{pid}/payments"), &w.canteen, &pay("25.91")).await;

    first.expect(201);
    assert_eq!(first.json["purchase_payment"]["state"], "partial");
    assert_eq!(first.json["purchase_payment"]["unpaid"], "25.90");
    assert_eq!(too_much.problem(422)["errors"][0]["code"], "exceeds_unpaid");
    // Overdue as of 2019-04-10: the first purchase (due 04-04) has 25.90 unpaid; the second is not due yet.
    let county = w.app.token(&Role::County(COUNTY.into()));
    let overdue = w.app.get(&format!("/api/v1/payments/overdue?county={COUNTY}&as_of=2019-04-10"), &county).await;
    overdue.expect(200);
    assert_eq!(overdue.json["count"], 1);
    assert_eq!(overdue.json["unpaid"], "25.90");
    assert_eq!(overdue.json["items"][0]["purchase_id"], pid.as_str());
    assert_eq!(overdue.json["items"][0]["days_overdue"], 6);
    let later = w.app.get(&format!("/api/v1/payments/overdue?supplier={}&as_of=2019-05-01", w.supplier), &w.vendor).await;
    assert_eq!((later.json["count"].as_u64(), later.json["unpaid"].as_str()), (Some(2), Some("35.90")));
    w.app.get(&format!("/api/v1/payments/overdue?supplier={}", w.supplier), &w.canteen).await.problem(403);
    w.app.get("/api/v1/payments/overdue?county=520102", &county).await.problem(403);
    w.app.get("/api/v1/payments/overdue", &county).await.problem(422);
    // Paying the rest settles it; a paid purchase cannot be voided.
    let rest = w.app.post(&format!("/api/v1/purchases/{pid}/payments"), &w.canteen, &pay("25.90")).await;
    assert_eq!(rest.json["purchase_payment"]["state"], "paid");
    let listed = w.app.get(&format!("/api/v1/purchases/{pid}/payments"), &w.vendor).await;
    assert_eq!(listed.json.as_array().unwrap().iter().map(|x| fen(&x["amount"])).sum::<i64>(), 4590);
    let void = w.app.post(&format!("/api/v1/purchases/{pid}/void"), &w.canteen, &json!({"reason": "entered twice"})).await;
    assert!(void.problem(409)["type"].as_str().unwrap().ends_with("has-payments"));
    let s = settlement_of(&w.app, "2019-03-01", "2019-03-31").await;
    assert_eq!((s["paid"].as_str(), s["unpaid"].as_str()), (Some("45.90"), Some("10.00")));
    let after = w.app.get(&format!("/api/v1/payments/overdue?county={COUNTY}&as_of=2019-05-01"), &county).await;
    assert_eq!(after.json["items"][0]["purchase_id"], qid.as_str());
    assert_eq!(after.json["count"], 1);
    // Voided purchases are never overdue, and a voided purchase takes no payment.
    w.app.post(&format!("/api/v1/purchases/{qid}/void"), &w.canteen, &json!({"reason": "entered twice"})).await.expect(201);
    w.app.post(&format!("/api/v1/purchases/{qid}/payments"), &w.canteen, &pay("1")).await.problem(409);
    let none = w.app.get(&format!("/api/v1/payments/overdue?county={COUNTY}&as_of=2019-05-01"), &county).await;
    assert_eq!(none.json["count"], 0);
    assert_eq!(settlement_of(&w.app, "2019-03-01", "2019-03-31").await["unpaid"], "0.00");
}

async fn confirmed_and_paid_figures_stay_consistent_through_voids_and_reclassification(db: TestDb) {
    let w = world(db).await;
    // A supplier whose tag is declared, not verified: its purchases are pending.
    let later = w.app.supplier(COUNTY, "cooperative").await;
    let tag = w.app.tag(&later, "cooperative", "2019-01-01", None, false).await;
    let later_token = w.app.token(&Role::Supplier(later.clone()));
    let a = w.app.purchase(&w.school, &later, "2019-03-05", json!([line("grain", "10", "kg", "3")])).await.json["id"].clone();
    let b = w.app.purchase(&w.school, &w.supplier, "2019-03-06", json!([line("grain", "5", "kg", "2")])).await.json["id"].clone();
    let (a, b) = (a.as_str().unwrap(), b.as_str().unwrap());
    w.app.post(&format!("/api/v1/purchases/{a}/acknowledge"), &later_token, &json!({})).await.expect(200);
    w.app.post(&format!("/api/v1/purchases/{b}/acknowledge"), &w.vendor, &json!({})).await.expect(200);
    let s = settlement_of(&w.app, "2019-03-01", "2019-03-31").await;
    assert_eq!((s["confirmed_total"].as_str(), s["confirmed_qualifying"].as_str()), (Some("40.00"), Some("10.00")));

    // Verifying the tag reclassifies the confirmed purchase: its confirmed amount now qualifies.
    w.app.post(&format!("/api/v1/suppliers/{later}/tags/{tag}/verify"), &w.app.admin(), &json!({})).await.expect(200);
    let s = settlement_of(&w.app, "2019-03-01", "2019-03-31").await;
    assert_eq!((s["confirmed_total"].as_str(), s["confirmed_qualifying"].as_str()), (Some("40.00"), Some("40.00")));

    // Voiding a confirmed purchase takes its confirmed amount out too.
    w.app.post(&format!("/api/v1/purchases/{b}/void"), &w.canteen, &json!({"reason": "wrong supplier"})).await.expect(201);
    let s = settlement_of(&w.app, "2019-03-01", "2019-03-31").await;
    assert_eq!((s["confirmed_total"].as_str(), s["confirmed_share"].as_str()), (Some("30.00"), Some("1.0000")));
    let day = NaiveDate::from_ymd_opt(2019, 3, 6).unwrap();
    assert_eq!(settlement_of(&w.app, &day.to_string(), &day.to_string()).await["confirmed_total"], "0.00");
}

async fn share_reports_show_what_is_overdue_as_of_any_day(db: TestDb) {
    let w = world(db).await;
    let other = w.app.school(COUNTY, "二小").await;
    let slow = w.app.post(
        "/api/v1/suppliers",
        &w.app.admin(),
        &json!({"name": "slow payer terms", "kind": "enterprise", "origin_county_code": COUNTY, "registration_ref": "REG-2", "payment_terms_days": 60}),
    ).await;
    slow.expect(201);
    let slow = slow.json["id"].as_str().unwrap().to_owned();
    let id = |r: &Resp| r.json["id"].as_str().unwrap().to_owned();
    // School one: 25.90 on 03-05 (due 04-04, 10.00 paid) and 10.00 on 03-20 on 60-day terms (due 05-19).
    let a1 = w.app.purchase(&w.school, &w.supplier, "2019-03-05", json!([line("fruit", "5.18", "kg", "5")])).await;
    w.app.purchase(&w.school, &slow, "2019-03-20", json!([line("grain", "2", "kg", "5")])).await.expect(201);
    let pay = json!({"paid_on": "2019-03-25", "amount": "10", "reference": "BANK-1"});
    w.app.post(&format!("/api/v1/purchases/{}/payments", id(&a1)), &w.canteen, &pay).await.expect(201);
    // School two: 7.00 on 04-02 (due 05-02), and 5.00 on 03-10 voided.
    let other_canteen = w.app.token(&Role::Canteen(other.clone()));
    let line7 =
        json!({"supplier_id": w.supplier, "school_id": other, "purchase_date": "2019-04-02", "lines": [line("fruit", "1", "kg", "7")]});
    w.app
        .send(Method::POST, "/api/v1/purchases", Some(&other_canteen), Some(&line7), &[("Idempotency-Key", "overdue-key-0001")])
        .await
        .expect(201);
    let line5 =
        json!({"supplier_id": w.supplier, "school_id": other, "purchase_date": "2019-03-10", "lines": [line("fruit", "1", "kg", "5")]});
    let b5 =
        w.app.send(Method::POST, "/api/v1/purchases", Some(&other_canteen), Some(&line5), &[("Idempotency-Key", "overdue-key-0002")]).await;
    w.app.post(&format!("/api/v1/purchases/{}/void", id(&b5)), &other_canteen, &json!({"reason": "twice"})).await.expect(201);

    let county = w.app.token(&Role::County(COUNTY.into()));
    let report = |group_by: &'static str, as_of: &'static str| {
        let (app, county) = (&w.app, county.clone());
        async move {
            let kind = if group_by == "period" { "&period_kind=month" } else { "" };
            let r = app
                .get(
                    &format!(
                        "/api/v1/reports/shares?scope=county:{COUNTY}&from=2019-03-01&to=2019-04-30&group_by={group_by}{kind}&as_of={as_of}"
                    ),
                    &county,
                )
                .await;
            r.expect(200);
            assert_eq!(r.json["as_of"], as_of);
            r.json.clone()
        }
    };
    let overdue_of = |r: &Value| -> Vec<(String, String)> {
        r["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                (
                    x["unit"]["name"].as_str().or(x["period"]["label"].as_str()).unwrap().to_owned(),
                    x["settlement"]["overdue"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let pairs = |v: &[(&str, &str)]| v.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect::<Vec<_>>();
    // Each as_of exercises another path: a window read from the ledger only (04-10, 05-10),
    // aggregates before the longest terms plus the ledger after (06-01), aggregates only (09-01).
    for (as_of, one, two) in
        [("2019-04-10", "15.90", "0.00"), ("2019-05-10", "15.90", "7.00"), ("2019-06-01", "25.90", "7.00"), ("2019-09-01", "25.90", "7.00")]
    {
        let r = report("school", as_of).await;
        assert_eq!(overdue_of(&r), pairs(&[("一小", one), ("二小", two)]), "as of {as_of}");
        // The summary agrees with the overdue list for the county on that day.
        let list = w.app.get(&format!("/api/v1/payments/overdue?county={COUNTY}&as_of={as_of}"), &county).await;
        assert_eq!(r["summary"]["settlement"]["overdue"], list.json["unpaid"], "as of {as_of}");
    }
    for (as_of, march, april) in [("2019-05-10", "15.90", "7.00"), ("2019-06-01", "25.90", "7.00"), ("2019-04-10", "15.90", "0.00")] {
        let r = report("period", as_of).await;
        assert_eq!(overdue_of(&r), pairs(&[("2019-03", march), ("2019-04", april)]), "as of {as_of}");
    }
    // Exports carry the column.
    let csv = w
        .app
        .get(
            &export(&format!("/api/v1/reports/shares?scope=county:{COUNTY}&from=2019-03-01&to=2019-04-30&as_of=2019-05-10"), "csv"),
            &county,
        )
        .await;
    csv.expect(200);
    assert!(csv.text.contains("逾期 overdue"), "{}", csv.text);
    assert!(csv.text.contains("22.90"));
    assert!(csv.text.contains("逾期截至 as_of") && csv.text.contains("2019-05-10"), "{}", csv.text);
}

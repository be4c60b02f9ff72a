//! The maintained aggregates agree to the fen with the ledger: after randomized
//! workloads (voids, 斤/两/g units, tags verified and revoked mid-period, designation
//! edits, half-month boundaries) and after concurrent writers, on both databases.

use std::collections::HashMap;

use actix_web::http::Method;
use canteen_ledger::db::repo::reports::ScopeFilter;
use canteen_ledger::domain::access::Caller;
use canteen_ledger::domain::period::{DateRange, PeriodKind};
use canteen_ledger::domain::role::Role;
use canteen_ledger::service::aggregates;
use canteen_ledger::service::reports::{self, Breakdown, Grouping, ReportRequest, Source, UnitLevel};
use chrono::NaiveDate;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{TestApp, TestDb};

both_backends!(
    randomized_ledgers_agree_with_their_aggregates_to_the_fen,
    concurrent_writers_keep_aggregates_consistent,
    a_rebuild_writes_more_buckets_than_one_statement_can_bind,
    batches_and_tag_reviews_at_the_same_time_stay_consistent,
);

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn admin() -> Caller {
    Caller::new("test", Role::Admin)
}

/// Sums a yuan string into fen.
fn fen(v: &Value) -> i64 {
    let s = v.as_str().unwrap();
    let neg = s.starts_with('-');
    let digits: i64 = s.trim_start_matches('-').replace('.', "").parse().unwrap();
    if neg { -digits } else { digits }
}

async fn randomized_ledgers_agree_with_their_aggregates_to_the_fen(db: TestDb) {
    let app = TestApp::new(db).await;
    let mut rng = StdRng::seed_from_u64(20190315);
    let counties = ["520102", "522731", "520221"];
    let mut schools = Vec::new();
    for (i, c) in counties.iter().enumerate() {
        for j in 0..2 {
            schools.push(app.school(c, &format!("S{i}{j}")).await);
        }
    }
    let mut suppliers = Vec::new();
    let mut tags = Vec::new();
    for (county, kind, tag, verify) in [
        ("522731", "cooperative", Some("cooperative"), true),
        ("520221", "cooperative", Some("cooperative"), false),
        ("520102", "cooperative", Some("cooperative"), true),
        ("522631", "household", Some("poor_household"), true),
        ("520102", "enterprise", Some("in_province_processor"), false),
        ("430102", "enterprise", None, false),
    ] {
        let s = app.supplier(county, kind).await;
        if let Some(t) = tag {
            tags.push((s.clone(), app.tag(&s, t, "2019-02-10", Some("2019-05-20"), verify).await, county));
        }
        suppliers.push(s);
    }
    let units = [("jin", "2.35"), ("liang", "0.9"), ("g", "0.0125"), ("kg", "7.3333"), ("piece", "1.5"), ("t", "3100")];
    let categories = ["vegetables", "fruit", "grain", "meat_poultry", "eggs", "other"];
    let mut recorded: Vec<(String, String)> = Vec::new();
    let start = date("2019-02-01");
    for step in 0..90 {
        let school = &schools[rng.random_range(0..schools.len())];
        let supplier = &suppliers[rng.random_range(0..suppliers.len())];
        let day = start + chrono::Days::new(rng.random_range(0..120));
        let lines: Vec<Value> = (0..rng.random_range(1..4))
            .map(|_| {
                let (unit, price) = units[rng.random_range(0..units.len())];
                // Grams at 0.0125 yuan need at least 0.4 g for a line of 0.01 (a 0.00 line is refused).
                let whole = if unit == "g" { 1 } else { 0 };
                let qty = if unit == "t" { format!("0.{:03}", rng.random_range(1..50)) } else { format!("{}.{}", rng.random_range(whole..40), rng.random_range(1..999)) };
                json!({"category": categories[rng.random_range(0..categories.len())], "description": "x", "quantity": qty, "unit": unit, "unit_price": price})
            })
            .collect();
        let r = app.purchase(school, supplier, &day.to_string(), Value::Array(lines)).await;
        r.expect(201);
        recorded.push((r.json["id"].as_str().unwrap().to_owned(), school.clone()));
        // Now and then: a payment, a supplier's acknowledgement, a void, a tag review, a designation edit.
        match step % 15 {
            2 | 11 => {
                let (id, school) = &recorded[rng.random_range(0..recorded.len())];
                let body = json!({"paid_on": day.to_string(), "amount": format!("0.{:02}", rng.random_range(1..100)), "reference": "R"});
                let res = app.post(&format!("/api/v1/purchases/{id}/payments"), &app.token(&Role::Canteen(school.clone())), &body).await;
                assert!(matches!(res.status.as_u16(), 201 | 409 | 422), "{}", res.text);
            }
            7 => {
                let res = app
                    .post(
                        &format!("/api/v1/purchases/{}/acknowledge", r.json["id"].as_str().unwrap()),
                        &app.token(&Role::Supplier(supplier.clone())),
                        &json!({}),
                    )
                    .await;
                res.expect(200);
            }
            5 => {
                let (id, school) = &recorded[rng.random_range(0..recorded.len())];
                let res = app
                    .post(&format!("/api/v1/purchases/{id}/void"), &app.token(&Role::Canteen(school.clone())), &json!({"reason": "random"}))
                    .await;
                assert!(matches!(res.status.as_u16(), 201 | 409), "{}", res.text);
            }
            9 => {
                let (s, t, _) = &tags[rng.random_range(0..tags.len())];
                let verb = if rng.random_bool(0.5) { "verify" } else { "revoke" };
                let res = app
                    .post(&format!("/api/v1/suppliers/{s}/tags/{t}/{verb}"), &app.admin(), &json!({"reason": "random", "note": null}))
                    .await;
                assert!(matches!(res.status.as_u16(), 200 | 409 | 422), "{}", res.text);
            }
            14 => {
                let c = ["522731", "520221"][rng.random_range(0..2)];
                let end = start + chrono::Days::new(rng.random_range(10..110));
                let body = json!({"designations": [{"valid_from": "2014-01-01", "valid_to": end.to_string(), "note": "random"}]});
                app.send(Method::PUT, &format!("/api/v1/counties/{c}/designations"), Some(&app.admin()), Some(&body), &[])
                    .await
                    .expect(200);
            }
            _ => {}
        }
    }

    // 1. The consistency check finds nothing.
    let mut conn = app.state.db.get().unwrap();
    let check = aggregates::check(&mut conn).unwrap();
    assert!(check.differences.is_empty(), "{:#?}", &check.differences[..check.differences.len().min(5)]);
    assert!(check.school_buckets > 0);

    // 2. Reports from aggregates equal reports from the ledger, for many ranges and groupings.
    let user = admin();
    let groupings = [
        Grouping::default(),
        Grouping { unit: Some(UnitLevel::County), ..Grouping::default() },
        Grouping { unit: Some(UnitLevel::School), period: Some(PeriodKind::HalfMonth), ..Grouping::default() },
        Grouping { unit: Some(UnitLevel::Prefecture), breakdown: Some(Breakdown::Tag), ..Grouping::default() },
        Grouping { period: Some(PeriodKind::Month), breakdown: Some(Breakdown::Category), ..Grouping::default() },
        // Rows about units without a breakdown take the roll-up path.
        Grouping { unit: Some(UnitLevel::Prefecture), ..Grouping::default() },
        Grouping { unit: Some(UnitLevel::Prefecture), period: Some(PeriodKind::Month), ..Grouping::default() },
        Grouping { unit: Some(UnitLevel::County), period: Some(PeriodKind::HalfMonth), ..Grouping::default() },
        Grouping { period: Some(PeriodKind::Quarter), ..Grouping::default() },
    ];
    let day = |m: u32, d: u32| NaiveDate::from_ymd_opt(2019, m, d).unwrap();
    // Named periods (one bucket each) and random ranges (several buckets).
    let mut ranges = vec![(day(3, 1), day(3, 31)), (day(4, 1), day(4, 15)), (day(1, 1), day(12, 31)), (day(1, 1), day(3, 31))];
    for _ in 0..12 {
        let a = start + chrono::Days::new(rng.random_range(0..100));
        ranges.push((a, a + chrono::Days::new(rng.random_range(0..60))));
    }
    for (a, b) in ranges {
        let scope = [ScopeFilter::Province, ScopeFilter::County("522731".into()), ScopeFilter::Prefecture("520100".into())]
            [rng.random_range(0..3)]
        .clone();
        for g in groupings {
            let req = ReportRequest { scope: scope.clone(), range: DateRange { from: a, to: b }, grouping: g };
            let fast = reports::shares_from(&mut conn, &user, &req, Source::Aggregates).unwrap();
            let slow = reports::shares_from(&mut conn, &user, &req, Source::Ledger).unwrap();
            assert_eq!(fast, slow, "{a}..{b} {g:?}");
        }
    }
    drop(conn);

    // 3. An independent recomputation from the purchases themselves, per school.
    let mut expected: HashMap<String, (i64, i64)> = HashMap::new();
    let mut url = "/api/v1/purchases?limit=500&from=2019-03-01&to=2019-04-30".to_owned();
    loop {
        let page = app.get(&url, &app.admin()).await;
        for p in page.json["items"].as_array().unwrap() {
            let e = expected.entry(p["school_id"].as_str().unwrap().to_owned()).or_default();
            let lines_sum: i64 = p["lines"].as_array().unwrap().iter().map(|l| fen(&l["amount"])).sum();
            assert_eq!(lines_sum, fen(&p["total"]));
            e.0 += fen(&p["total"]);
            if p["qualification"]["class"] == "qualifying" {
                e.1 += fen(&p["total"]);
            }
        }
        match page.json["next_cursor"].as_str() {
            Some(c) => url = format!("/api/v1/purchases?limit=500&from=2019-03-01&to=2019-04-30&cursor={c}"),
            None => break,
        }
    }
    let report = app.get("/api/v1/reports/shares?scope=province&from=2019-03-01&to=2019-04-30&group_by=school", &app.admin()).await;
    for row in report.json["rows"].as_array().unwrap() {
        let (total, qualifying) = expected.get(row["unit"]["code"].as_str().unwrap()).copied().unwrap_or_default();
        assert_eq!(fen(&row["total"]), total, "{row}");
        assert_eq!(fen(&row["qualifying"]), qualifying, "{row}");
    }
}

async fn concurrent_writers_keep_aggregates_consistent(db: TestDb) {
    let app = TestApp::new(db).await;
    let a = app.school("520102", "A").await;
    let b = app.school("520102", "B").await;
    let supplier = app.supplier("522731", "cooperative").await;
    app.tag(&supplier, "cooperative", "2019-01-01", None, true).await;
    let line = json!([{"category": "vegetables", "description": "x", "quantity": "3", "unit": "jin", "unit_price": "1.1"}]);

    let writes = (0..24).map(|i| {
        let school = if i % 2 == 0 { &a } else { &b };
        app.purchase(school, &supplier, "2019-03-15", line.clone())
    });
    let results = futures_util::future::join_all(writes).await;

    assert!(results.iter().all(|r| r.status.as_u16() == 201), "{:?}", results.iter().map(|r| &r.text).collect::<Vec<_>>());
    let check = aggregates::check(&mut app.state.db.get().unwrap()).unwrap();
    assert!(check.differences.is_empty(), "{:?}", check.differences);
    let r = app.get("/api/v1/reports/shares?scope=county:520102&period=2019-03-H1", &app.admin()).await;
    assert_eq!(r.json["summary"]["total"], "79.20");
    assert_eq!(r.json["summary"]["purchases"], 24);
    for s in [&a, &b] {
        let v = app.get(&format!("/api/v1/schools/{s}/ledger/verify"), &app.admin()).await;
        assert_eq!(v.json["valid"], true);
        assert_eq!(v.json["head_seq"], 12);
    }
}

/// A county's rebuild can hold more school buckets than one statement's 65,535 bind
/// parameters allow (found by the 10M-line benchmark on PostgreSQL): they are written in chunks.
async fn a_rebuild_writes_more_buckets_than_one_statement_can_bind(db: TestDb) {
    use canteen_ledger::db::repo::bulk::{self, SchoolBucket};
    use canteen_ledger::db::repo::figures::SchoolFigures;
    let app = TestApp::new(db).await;
    let school = app.school("522731", "一小").await;
    let start = date("2000-01-01");
    let buckets: Vec<SchoolBucket> = (0..7_000_u64)
        .map(|d| SchoolBucket {
            school_id: school.clone(),
            county_code: "522731".into(),
            kind: PeriodKind::Day.code(),
            bucket_start: start + chrono::Days::new(d),
            figures: SchoolFigures {
                total_fen: 100,
                qualifying_fen: 50,
                pending_fen: 0,
                total_mg: 0,
                qualifying_mg: 0,
                purchases: 1,
                confirmed_fen: 0,
                confirmed_qualifying_fen: 0,
                paid_fen: 0,
            },
        })
        .collect();
    let mut conn = app.state.db.get().unwrap();
    bulk::insert_buckets(&mut conn, &buckets, &[]).unwrap();
    let stored = canteen_ledger::db::repo::aggregates::all_school_buckets_of_county(&mut conn, "522731").unwrap();
    assert_eq!(stored.len(), 7_000);
    assert_eq!(stored.iter().map(|b| b.figures.total_fen).sum::<i64>(), 700_000);
}

async fn batches_and_tag_reviews_at_the_same_time_stay_consistent(db: TestDb) {
    let app = TestApp::new(db).await;
    let schools = [app.school("520102", "A").await, app.school("520102", "B").await];
    let supplier = app.supplier("522731", "cooperative").await;
    let tags: Vec<String> =
        futures_util::future::join_all((0..4).map(|_| app.tag(&supplier, "cooperative", "2019-01-01", None, false))).await;
    let line = json!([{"category": "vegetables", "description": "x", "quantity": "3", "unit": "jin", "unit_price": "1.1"}]);
    let app = &app;
    let batch = |b: usize| {
        let school = schools[b % 2].clone();
        let items: Vec<Value> = (0..40)
            .map(|i| {
                let day = format!("2019-03-{:02}", 1 + (i + b) % 28);
                json!({"idempotency_key": format!("race-key-{b:02}-{i:03}"), "purchase": {"school_id": school, "supplier_id": supplier, "purchase_date": day, "lines": line}})
            })
            .collect();
        let token = app.token(&Role::Canteen(school));
        async move { app.post("/api/v1/purchases/batch", &token, &json!({"items": items})).await }
    };
    // Verifying a tag re-evaluates every purchase from the supplier while batches for both schools go in.
    let reviews = tags.iter().map(|t| {
        let (path, admin) = (format!("/api/v1/suppliers/{supplier}/tags/{t}/verify"), app.admin());
        async move { app.post(&path, &admin, &json!({"note": null})).await }
    });
    let (batches, reviews) =
        futures_util::future::join(futures_util::future::join_all((0..6).map(batch)), futures_util::future::join_all(reviews)).await;

    for r in &batches {
        r.expect(200);
        assert_eq!(r.json["created"], 40, "{}", r.text);
    }
    for r in &reviews {
        r.expect(200);
    }
    let mut conn = app.state.db.get().unwrap();
    let check = aggregates::check(&mut conn).unwrap();
    assert!(check.differences.is_empty(), "{:?}", check.differences);
    drop(conn);
    // Every purchase ends up qualifying: the verified tag covers all of them.
    let r = app.get("/api/v1/reports/shares?scope=county:520102&period=2019-03", &app.admin()).await;
    assert_eq!((r.json["summary"]["purchases"].as_i64(), r.json["summary"]["share"].as_str()), (Some(240), Some("1.0000")));
}

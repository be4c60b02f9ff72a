//! Tampering behind the application's back: every field that decides a figure is covered
//! by the chain (or recomputed by verify), a deleted entry is missing at its own seq, and
//! the databases themselves refuse UPDATE and DELETE on the append-only tables.

use canteen_ledger::db::repo::purchases as purchase_repo;
use canteen_ledger::domain::ledger::{self, GENESIS};
use canteen_ledger::domain::role::Role;
use canteen_ledger::service::purchases as purchase_service;
use serde_json::json;

use crate::both_backends;
use crate::helpers::{TestApp, TestDb, line};

both_backends!(
    editing_any_covered_field_by_sql_breaks_verify_at_that_seq,
    a_deleted_entry_is_reported_missing_at_its_own_seq,
    entries_hashed_in_the_first_format_still_verify_and_their_unhashed_fields_are_recomputed,
    the_databases_refuse_update_and_delete_on_append_only_tables,
    an_unknown_stored_tag_or_status_is_an_internal_error_not_a_default,
);

/// A school with `n` purchases (seq 1..=n, dated 2019-03-01 + seq days, 2 kg of rice at
/// 5.00 and one piece) from a supplier holding a verified poor-household tag, so every
/// entry qualifies. Returns `(app, school, supplier, another supplier, the tag)`.
async fn ledger_of(db: TestDb, n: i64) -> (TestApp, String, String, String, String) {
    let app = TestApp::new(db).await;
    let school = app.school("520102", "一小").await;
    let supplier = app.supplier("520102", "household").await;
    let other = app.supplier("520102", "enterprise").await;
    let tag = app.tag(&supplier, "poor_household", "2019-01-01", None, true).await;
    let start = chrono::NaiveDate::from_ymd_opt(2019, 3, 1).unwrap();
    for seq in 1..=n {
        let day = start + chrono::Days::new(u64::try_from(seq).unwrap());
        let lines = json!([line("grain", "2", "kg", "5"), line("vegetables", "1", "piece", "3")]);
        let r = app.purchase(&school, &supplier, &day.to_string(), lines).await;
        r.expect(201);
        assert_eq!(r.json["seq"], seq);
        assert_eq!(r.json["qualification"]["class"], "qualifying", "{}", r.text);
    }
    (app, school, supplier, other, tag)
}

async fn verify(app: &TestApp, school: &str) -> serde_json::Value {
    let county = app.token(&Role::County("520102".into()));
    let r = app.get(&format!("/api/v1/schools/{school}/ledger/verify"), &county).await;
    r.expect(200);
    r.json
}

/// `(id of the entry at seq)` as a SQL subquery.
fn at(school: &str, seq: i64) -> String {
    format!("(SELECT id FROM purchases WHERE school_id = '{school}' AND seq = {seq})")
}

async fn editing_any_covered_field_by_sql_breaks_verify_at_that_seq(db: TestDb) {
    let (app, school, _, other, _) = ledger_of(db, 19).await;
    let ok = verify(&app, &school).await;
    assert_eq!((ok["valid"].clone(), ok["head_seq"].clone()), (json!(true), json!(19)), "{ok}");

    // Highest seq first: after each edit, verify must name exactly the entry just edited
    // (the lowest broken one), and say which check found it.
    let hash = "hash does not match the entry's content";
    let requalified = "qualification differs from its recomputation from tags and designations";
    let line1 = |school: &str, seq: i64| format!("purchase_id = {} AND line_no = 1", at(school, seq));
    let cases: Vec<(i64, &str, String, &str)> = vec![
        (
            19,
            "chain_version",
            format!("UPDATE purchases SET chain_version = 1 WHERE id = {}", at(&school, 19)),
            "chain format version older than the previous entry's",
        ),
        (
            18,
            "qualification tag",
            format!("UPDATE purchase_qualifications SET tag = 'cooperative' WHERE purchase_id = {}", at(&school, 18)),
            requalified,
        ),
        (17, "line unit", format!("UPDATE purchase_lines SET unit = 'jin' WHERE {}", line1(&school, 17)), hash),
        (16, "invoice_no", format!("UPDATE purchases SET invoice_no = 'FORGED' WHERE id = {}", at(&school, 16)), hash),
        (15, "line description", format!("UPDATE purchase_lines SET description = 'forged' WHERE {}", line1(&school, 15)), hash),
        (14, "idempotency_key", format!("UPDATE purchases SET idempotency_key = 'forged' WHERE id = {}", at(&school, 14)), hash),
        (13, "county_code", format!("UPDATE purchases SET county_code = '520103' WHERE id = {}", at(&school, 13)), hash),
        (12, "supplier_id", format!("UPDATE purchases SET supplier_id = '{other}' WHERE id = {}", at(&school, 12)), hash),
        (11, "purchase_date", format!("UPDATE purchases SET purchase_date = '2019-04-30' WHERE id = {}", at(&school, 11)), hash),
        (10, "total_fen", format!("UPDATE purchases SET total_fen = total_fen + 1 WHERE id = {}", at(&school, 10)), hash),
        (9, "recorded_at", format!("UPDATE purchases SET recorded_at = '2019-03-01 00:00:00' WHERE id = {}", at(&school, 9)), hash),
        (8, "line quantity", format!("UPDATE purchase_lines SET quantity_milli = quantity_milli + 1 WHERE {}", line1(&school, 8)), hash),
        (7, "line unit price", format!("UPDATE purchase_lines SET unit_price_e4 = unit_price_e4 + 1 WHERE {}", line1(&school, 7)), hash),
        (6, "line amount", format!("UPDATE purchase_lines SET amount_fen = amount_fen + 1 WHERE {}", line1(&school, 6)), hash),
        (5, "line mass_mg", format!("UPDATE purchase_lines SET mass_mg = mass_mg + 1 WHERE {}", line1(&school, 5)), hash),
        (4, "line category", format!("UPDATE purchase_lines SET category = 'meat_poultry' WHERE {}", line1(&school, 4)), hash),
        (
            3,
            "qualification class",
            format!("UPDATE purchase_qualifications SET class = 'none', tag = NULL WHERE purchase_id = {}", at(&school, 3)),
            requalified,
        ),
        (
            2,
            "qualification removed",
            format!("DELETE FROM purchase_qualifications WHERE purchase_id = {}", at(&school, 2)),
            "qualification missing",
        ),
    ];
    for (seq, field, sql, reason) in cases {
        app.tamper(&sql);
        let bad = verify(&app, &school).await;
        assert_eq!(bad["valid"], false, "{field}: {bad}");
        assert_eq!(bad["first_broken_seq"], seq, "{field}: {bad}");
        assert_eq!(bad["reason"], reason, "{field}: {bad}");
    }

    // The CLI's walk over every school (what `ledger verify` prints and `ledger rebuild`
    // refuses on) names the same link.
    let mut conn = app.state.db.get().unwrap();
    let broken = purchase_service::verify_all_chains(&mut conn).unwrap();
    assert_eq!(broken.len(), 1);
    assert_eq!((broken[0].0.as_str(), broken[0].1.seq), (school.as_str(), 2));
}

async fn a_deleted_entry_is_reported_missing_at_its_own_seq(db: TestDb) {
    let (app, school, ..) = ledger_of(db, 7).await;
    // The last entry first: the head still names it.
    for (seq, valid_entries) in [(7, 6), (6, 5)] {
        let id = at(&school, seq);
        app.tamper(&format!(
            "DELETE FROM purchase_qualifications WHERE purchase_id = {id}; DELETE FROM purchase_lines WHERE purchase_id = {id}; \
             DELETE FROM purchases WHERE id = {id}"
        ));
        let bad = verify(&app, &school).await;
        assert_eq!(bad["valid"], false, "{bad}");
        assert_eq!(bad["entries"], valid_entries, "{bad}");
        assert_eq!(bad["first_broken_seq"], seq, "{bad}");
        assert_eq!(bad["reason"], "entry missing", "{bad}");
    }
}

async fn entries_hashed_in_the_first_format_still_verify_and_their_unhashed_fields_are_recomputed(db: TestDb) {
    let (app, school, supplier, ..) = ledger_of(db, 3).await;
    // Rewrite the chain as a database from before format 2 holds it: version 1 hashes.
    let chain = {
        let mut conn = app.state.db.get().unwrap();
        purchase_repo::chain_of(&mut conn, &school).unwrap()
    };
    let mut prev = GENESIS.to_owned();
    let mut sql = String::new();
    for (p, lines) in &chain {
        let mut entry = purchase_service::chain_entry(p, lines);
        entry.version = 1;
        let hash = ledger::entry_hash(&prev, &entry).unwrap();
        sql += &format!("UPDATE purchases SET chain_version = 1, prev_hash = '{prev}', hash = '{hash}' WHERE id = '{}';", p.id);
        prev = hash;
    }
    sql += &format!("UPDATE ledger_heads SET hash = '{prev}' WHERE school_id = '{school}'");
    app.tamper(&sql);
    let ok = verify(&app, &school).await;
    assert_eq!(ok["valid"], true, "{ok}");
    assert_eq!(ok["head_hash"], prev.as_str());

    // New entries chain on in format 2.
    let r = app.purchase(&school, &supplier, "2019-03-20", json!([line("grain", "1", "kg", "5")])).await;
    r.expect(201);
    assert_eq!(r.json["prev_hash"], prev.as_str());
    let ok = verify(&app, &school).await;
    assert_eq!((ok["valid"].clone(), ok["head_seq"].clone()), (json!(true), json!(4)), "{ok}");

    // Format 1 does not hash county_code or mass_mg; verify recomputes them.
    app.tamper(&format!("UPDATE purchases SET county_code = '520103' WHERE id = {}", at(&school, 3)));
    let bad = verify(&app, &school).await;
    assert_eq!((bad["first_broken_seq"].clone(), bad["reason"].clone()), (json!(3), json!("county_code differs from the school's county")));
    app.tamper(&format!("UPDATE purchase_lines SET mass_mg = 1 WHERE line_no = 1 AND purchase_id = {}", at(&school, 2)));
    let bad = verify(&app, &school).await;
    assert_eq!(
        (bad["first_broken_seq"].clone(), bad["reason"].clone()),
        (json!(2), json!("a line's mass_mg differs from quantity × the unit's mass"))
    );
}

async fn the_databases_refuse_update_and_delete_on_append_only_tables(db: TestDb) {
    let (app, school, supplier, _, tag_id) = ledger_of(db, 2).await;
    let canteen = app.token(&Role::Canteen(school.clone()));
    let vendor = app.token(&Role::Supplier(supplier.clone()));
    let pid = |seq: i64| at(&school, seq);
    app.post(&format!("/api/v1/purchases/{}/acknowledge", purchase_id(&app, &school, 1)), &vendor, &json!({})).await.expect(200);
    let pay = json!({"paid_on": "2019-03-25", "amount": "1.00", "reference": "BANK-1"});
    app.post(&format!("/api/v1/purchases/{}/payments", purchase_id(&app, &school, 1)), &canteen, &pay).await.expect(201);

    let refused = [
        format!("UPDATE purchases SET invoice_no = 'x' WHERE id = {}", pid(1)),
        "UPDATE purchases SET county_code = '520103'".to_owned(),
        format!("DELETE FROM purchases WHERE id = {}", pid(2)),
        format!("UPDATE purchase_lines SET amount_fen = 1 WHERE purchase_id = {}", pid(1)),
        format!("DELETE FROM purchase_lines WHERE purchase_id = {}", pid(2)),
        "UPDATE payments SET amount_fen = 1".to_owned(),
        "DELETE FROM payments".to_owned(),
        "UPDATE purchase_confirmations SET state = 'disputed'".to_owned(),
        "DELETE FROM purchase_confirmations".to_owned(),
        "UPDATE audit_log SET actor = 'nobody'".to_owned(),
        "DELETE FROM audit_log".to_owned(),
        "DELETE FROM purchase_qualifications".to_owned(),
        format!("UPDATE purchase_qualifications SET purchase_id = {} WHERE purchase_id = {}", pid(2), pid(1)),
    ];
    for sql in &refused {
        let err = app.try_sql(sql).expect_err(sql).to_string();
        assert!(err.contains("refused"), "{sql}: {err}");
    }
    if matches!(app.state.db.backend(), canteen_ledger::db::Backend::Postgres(_)) {
        for table in ["purchases", "purchase_lines", "payments", "purchase_confirmations", "audit_log", "purchase_qualifications"] {
            let err = app.try_sql(&format!("TRUNCATE {table} CASCADE")).expect_err(table).to_string();
            assert!(err.contains("refused"), "{table}: {err}");
        }
    }
    // Nothing changed, and the one mutable ledger table still changes through its path:
    // revoking the tag reclassifies both entries, and the chain still verifies.
    let ok = verify(&app, &school).await;
    assert_eq!(ok["valid"], true, "{ok}");
    let revoked =
        app.post(&format!("/api/v1/suppliers/{supplier}/tags/{tag_id}/revoke"), &app.admin(), &json!({"reason": "expired"})).await;
    assert_eq!(revoked.expect(200).json["reclassified_purchases"], 2, "{}", revoked.text);
    let r = app.get(&format!("/api/v1/purchases/{}", purchase_id(&app, &school, 1)), &canteen).await;
    assert_eq!(r.json["qualification"]["class"], "none", "{}", r.text);
    let ok = verify(&app, &school).await;
    assert_eq!(ok["valid"], true, "{ok}");
}

/// The id of a school's entry at `seq`.
fn purchase_id(app: &TestApp, school: &str, seq: i64) -> String {
    let mut conn = app.state.db.get().unwrap();
    let chain = purchase_repo::chain_of(&mut conn, school).unwrap();
    chain.into_iter().find(|(p, _)| p.seq == seq).unwrap().0.id
}

/// A stored vocabulary value the server does not know is corruption: reading it answers
/// a 500 (cause logged), never a plausible default (it used to read as a declared
/// poor-household tag).
async fn an_unknown_stored_tag_or_status_is_an_internal_error_not_a_default(db: TestDb) {
    let app = TestApp::new(db).await;
    let supplier = app.supplier("520102", "household").await;
    let tag = app.tag(&supplier, "poor_household", "2019-01-01", None, false).await;
    let path = format!("/api/v1/suppliers/{supplier}");
    app.get(&path, &app.admin()).await.expect(200);
    for (column, value) in [("status", "archived"), ("tag", "poor-household")] {
        app.tamper(&format!("UPDATE supplier_tags SET {column} = '{value}' WHERE id = '{tag}'"));
        let r = app.get(&path, &app.admin()).await;
        assert_eq!(r.problem(500)["type"], "urn:canteen-ledger:problem:internal", "{column}: {}", r.text);
        assert!(!r.text.contains(value), "{column}: {}", r.text);
        let restore = if column == "status" { "declared" } else { "poor_household" };
        app.tamper(&format!("UPDATE supplier_tags SET {column} = '{restore}' WHERE id = '{tag}'"));
        app.get(&path, &app.admin()).await.expect(200);
    }
}

//! A realistic demo data set for a new user: schools in several counties, suppliers of
//! every kind with verified and declared tags, and a spring semester of purchases, so
//! reports are meaningful at once. Deterministic (seeded), written through the same
//! services as the API.

use chrono::{Days, NaiveDate};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;

use canteen_ledger::db::DbConn;
use canteen_ledger::db::repo::{purchases as purchase_repo, schools as school_repo};
use canteen_ledger::domain::access::Caller;
use canteen_ledger::domain::catalog::{Category, SupplierKind, Tag, TagStatus, Unit};
use canteen_ledger::domain::purchase::{RawLine, draft};
use canteen_ledger::domain::role::Role;
use canteen_ledger::error::{ApiError, ProblemType};
use canteen_ledger::service::purchases::{IdempotentRequest, NewPurchase};
use canteen_ledger::service::{accounts, schools as school_service, suppliers as supplier_service};

/// Counties used by the demo: (code, name, its schools' names).
const COUNTIES: &[(&str, &str, &[&str])] = &[
    ("520102", "南明区", &["南明区第一中学", "南明区油榨街小学", "南明区后巢乡中心小学"]),
    ("522731", "惠水县", &["惠水县第一中学", "惠水县民族中学", "惠水县好花红镇中心小学", "惠水县断杉镇中心小学"]),
    ("520221", "水城县", &["水城县第二中学", "水城县米箩镇中心小学", "水城县勺米镇中心小学"]),
    ("522631", "黎平县", &["黎平县第一中学", "黎平县德凤镇中心小学", "黎平县肇兴镇中心小学"]),
];

fn actor(role: Role) -> Caller {
    Caller::new("demo", role)
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

/// The demo's business date: the last day of the 2019 autumn semester it fills.
fn last_day() -> NaiveDate {
    date(2020, 1, 31)
}

/// A login the demo made (its password is shown once).
#[derive(Debug, Clone)]
pub struct Login {
    pub username: String,
    pub password: String,
    pub role: Role,
}

/// What the demo loaded, and how to look at it: every login, and requests that work for
/// the login they name.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub schools: usize,
    pub suppliers: usize,
    pub purchases: usize,
    pub late_entries: usize,
    pub logins: Vec<Login>,
    /// `(username, path)`: a GET that answers 200 for that login.
    pub examples: Vec<(String, String)>,
}

impl Loaded {
    /// What `canteen-ledger demo` prints.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "Demo loaded: {} schools in {} counties, {} suppliers, {} purchases (2019 spring and autumn semesters; some confirmed and paid, the rest overdue), one void.\n\
             Reporting cycle, 2019-03-H1: 南明区 on time, 惠水县 late, 水城县 missing, 黎平县 amended ({} late entries in 南明区).\n\
             Logins (POST /api/v1/auth/token with username and password; passwords are shown only now):\n",
            self.schools,
            COUNTIES.len(),
            self.suppliers,
            self.purchases,
            self.late_entries
        );
        for l in &self.logins {
            s.push_str(&format!("  {:<16} {}   ({})\n", l.username, l.password, l.role));
        }
        s.push_str("Then try, with the token of the login named:\n");
        for (user, path) in &self.examples {
            s.push_str(&format!("  {user:<16} GET {path}\n"));
        }
        s
    }
}

/// Fills an empty ledger; refuses a database that already has schools.
pub fn fill(conn: &mut DbConn) -> Result<Loaded, ApiError> {
    if school_repo::count(conn)? > 0 {
        return Err(ApiError::conflict(ProblemType::NotEmpty, "the database already has schools; the demo fills only an empty one"));
    }
    let mut rng = StdRng::seed_from_u64(2019);
    let admin = actor(Role::Admin);
    let school_ids = add_schools(conn, &admin, &mut rng)?;
    let supplier_ids = add_suppliers(conn, &admin)?;
    let mut recorded = add_purchases(conn, &mut rng, &school_ids, &supplier_ids, (date(2019, 3, 1), date(2019, 6, 30)))?;
    recorded += add_purchases(conn, &mut rng, &school_ids, &supplier_ids, (date(2019, 9, 1), date(2020, 1, 15)))?;
    void_one(conn)?;
    settle(conn, &mut rng)?;
    let late_entries = add_campaign(conn, &school_ids, &supplier_ids)?;
    let logins = add_accounts(conn, &school_ids[0], &supplier_ids[0])?;
    let name = |role: &str| logins.iter().find(|l| l.role.name() == role).map(|l| l.username.clone()).unwrap_or_default();
    let examples = vec![
        (name("province"), "/api/v1/reports/shares?scope=province&period=2019-spring&group_by=county".to_owned()),
        (name("province"), "/api/v1/reporting/status?period=2019-03-H1&scope=province".to_owned()),
        (name("prefecture"), "/api/v1/reporting/status?period=2019-03-H1&scope=prefecture:520100".to_owned()),
        (name("county"), "/api/v1/reports/shares?scope=county:520102&period=2019-autumn&group_by=school".to_owned()),
        (name("county"), "/api/v1/reports/silent-schools?scope=county:520102&period=2019-03-H1".to_owned()),
        (name("county"), "/api/v1/submissions?unit=county:520102".to_owned()),
        (name("canteen"), format!("/api/v1/purchases?school_id={}", school_ids[0])),
        (name("supplier"), "/api/v1/deliveries".to_owned()),
        (name("admin"), "/api/v1/admin/ledger/check".to_owned()),
    ];
    Ok(Loaded { schools: school_ids.len(), suppliers: supplier_ids.len(), purchases: recorded, late_entries, logins, examples })
}

/// The demo's schools, registered by the administrator; their ids.
fn add_schools(conn: &mut DbConn, admin: &Caller, rng: &mut StdRng) -> Result<Vec<String>, ApiError> {
    let mut school_ids = Vec::new();
    for (county, _, names) in COUNTIES {
        for (i, name) in (1..).zip(names.iter()) {
            let s = school_service::create(
                conn,
                admin,
                school_service::NewSchool {
                    county_code: (*county).into(),
                    name: (*name).to_owned(),
                    code: Some(format!("{county}{i:04}")),
                    students: Some(rng.random_range(300..2500)),
                    address: None,
                },
            )?;
            school_ids.push(s.school.id);
        }
    }
    Ok(school_ids)
}

/// The demo's suppliers with their tags (verified or only declared); their ids.
fn add_suppliers(conn: &mut DbConn, admin: &Caller) -> Result<Vec<String>, ApiError> {
    // Suppliers: (name, kind, origin county, tag and its status)
    type Spec<'a> = (&'a str, SupplierKind, &'a str, Option<(Tag, TagStatus)>);
    let specs: &[Spec<'_>] = &[
        ("惠水县好花红蔬菜专业合作社", SupplierKind::Cooperative, "522731", Some((Tag::Cooperative, TagStatus::Verified))),
        ("水城县猕猴桃种植专业合作社", SupplierKind::Cooperative, "520221", Some((Tag::Cooperative, TagStatus::Verified))),
        ("贫困户 王某某", SupplierKind::Household, "522631", Some((Tag::PoorHousehold, TagStatus::Verified))),
        ("贫困户 杨某某", SupplierKind::Household, "522731", Some((Tag::PoorHousehold, TagStatus::Declared))),
        ("贵州山地农产品加工有限公司", SupplierKind::Enterprise, "520102", Some((Tag::InProvinceProcessor, TagStatus::Verified))),
        ("南明区综合农贸批发公司", SupplierKind::Enterprise, "520102", None),
        ("省外粮油贸易公司", SupplierKind::Enterprise, "430102", None),
        ("黔东南土鸡养殖专业合作社", SupplierKind::Cooperative, "522631", Some((Tag::Cooperative, TagStatus::Declared))),
    ];
    let mut supplier_ids = Vec::new();
    for (i, (name, kind, county, tag)) in specs.iter().enumerate() {
        let s = supplier_service::create(
            conn,
            admin,
            supplier_service::NewSupplier {
                name: (*name).into(),
                kind: *kind,
                origin_county_code: (*county).into(),
                registration_ref: format!("DEMO-{i:03}"),
                payment_terms_days: supplier_service::DEFAULT_PAYMENT_TERMS_DAYS,
            },
        )?;
        if let Some((tag, status)) = tag {
            let t = supplier_service::declare_tag(
                conn,
                admin,
                &s.supplier.id,
                supplier_service::NewTag {
                    tag: *tag,
                    valid_from: date(2018, 1, 1),
                    valid_to: None,
                    evidence: format!("DEMO-EVIDENCE-{i:03}"),
                },
            )?;
            if *status == TagStatus::Verified {
                supplier_service::review_tag(conn, admin, &s.supplier.id, &t.id, TagStatus::Verified, Some("demo".into()))?;
            }
        }
        supplier_ids.push(s.supplier.id);
    }
    Ok(supplier_ids)
}

/// A semester of purchases (`start`–`end`): every school but the last (which stays silent)
/// buys on about half of the days; returns how many were recorded.
fn add_purchases(
    conn: &mut DbConn,
    rng: &mut StdRng,
    school_ids: &[String],
    supplier_ids: &[String],
    (start, end): (NaiveDate, NaiveDate),
) -> Result<usize, ApiError> {
    let goods: &[(Category, &str, Unit, &str)] = &[
        (Category::Vegetables, "大白菜", Unit::Jin, "1.20"),
        (Category::Vegetables, "土豆", Unit::Kg, "2.60"),
        (Category::Fruit, "猕猴桃", Unit::Kg, "9.80"),
        (Category::Grain, "大米", Unit::Kg, "5.40"),
        (Category::MeatPoultry, "土鸡", Unit::Kg, "36.00"),
        (Category::Eggs, "鸡蛋", Unit::Jin, "5.50"),
        (Category::EdibleOil, "菜籽油", Unit::L, "14.50"),
        (Category::SoyProducts, "豆腐", Unit::Jin, "3.00"),
    ];
    let mut recorded = 0;
    let first_key = purchase_repo::list(conn, &purchase_repo::PurchaseFilter { limit: 1_000_000, ..Default::default() })?.len();
    for school in school_ids {
        // One school in the demo stays silent, so the report shows what silence looks like.
        if school == school_ids.last().unwrap_or(school) {
            continue;
        }
        let canteen = actor(Role::Canteen(school.clone()));
        let mut day = start;
        while day <= end {
            if rng.random_bool(0.5) {
                let supplier = &supplier_ids[rng.random_range(0..supplier_ids.len())];
                let lines: Vec<RawLine> = (0..rng.random_range(1..4))
                    .map(|_| {
                        let (category, description, unit, price) = goods[rng.random_range(0..goods.len())];
                        RawLine {
                            category,
                            description: description.into(),
                            quantity: Decimal::new(rng.random_range(50..4000), 1),
                            unit,
                            unit_price: price.parse().unwrap_or(Decimal::ONE),
                            amount: None,
                        }
                    })
                    .collect();
                let d = draft(day, end, &lines).map_err(|e| ApiError::Internal(anyhow::anyhow!("demo draft: {e:?}")))?;
                let new = NewPurchase {
                    school_id: school.clone(),
                    supplier_id: supplier.clone(),
                    invoice_no: Some(format!("FP{:06}", first_key + recorded)),
                    draft: d,
                };
                let n = first_key + recorded;
                let req = IdempotentRequest::new(format!("demo-{n:08}"), &serde_json::json!({"demo": n}));
                canteen_ledger::service::purchases::record(conn, &canteen, new, &req, end)?;
                recorded += 1;
            }
            day = day.checked_add_days(Days::new(1)).unwrap_or(end.succ_opt().unwrap_or(end));
        }
    }
    Ok(recorded)
}

/// Voids one purchase, so the demo shows a reversal.
fn void_one(conn: &mut DbConn) -> Result<(), ApiError> {
    if let Some(first) = purchase_repo::list(conn, &purchase_repo::PurchaseFilter { limit: 1, ..Default::default() })?.first() {
        canteen_ledger::service::purchases::void(
            conn,
            &actor(Role::Canteen(first.school_id.clone())),
            &first.id,
            "demo: entered twice",
            None,
            last_day(),
        )?;
    }
    Ok(())
}

/// One login per role with a random password, printed once: a demo database must not
/// carry known credentials.
fn add_accounts(conn: &mut DbConn, school: &str, supplier: &str) -> Result<Vec<Login>, ApiError> {
    let roles = [
        ("demo-admin", Role::Admin),
        ("demo-province", Role::Province),
        ("demo-prefecture", Role::Prefecture("520100".into())),
        ("demo-county", Role::County("520102".into())),
        ("demo-canteen", Role::Canteen(school.to_owned())),
        ("demo-supplier", Role::Supplier(supplier.to_owned())),
    ];
    let mut out = Vec::new();
    for (username, role) in roles {
        let password = canteen_ledger::auth::password::generate(16);
        accounts::add_user(conn, "demo", username, &canteen_ledger::auth::password::hash(&password)?, &role)?;
        out.push(Login { username: username.to_owned(), password, role });
    }
    Ok(out)
}

/// Suppliers acknowledge about two thirds of the entries, and canteens pay about half of
/// them in full within their terms: the rest stays unpaid, and is overdue today.
fn settle(conn: &mut DbConn, rng: &mut StdRng) -> Result<(), ApiError> {
    use canteen_ledger::service::settlement::{self, NewPayment};
    let entries = purchase_repo::list(conn, &purchase_repo::PurchaseFilter { limit: 1_000_000, ..Default::default() })?;
    let voided: std::collections::HashSet<String> = entries.iter().filter_map(|p| p.voids_id.clone()).collect();
    for p in entries.into_iter().filter(|p| p.kind == canteen_ledger::domain::catalog::EntryKind::Entry && !voided.contains(&p.id)) {
        if rng.random_bool(0.66) {
            settlement::decide(conn, &actor(Role::Supplier(p.supplier_id.clone())), &p.id, true, None)?;
        }
        if rng.random_bool(0.5) {
            let paid_on = p.purchase_date.checked_add_days(Days::new(rng.random_range(3..25))).unwrap_or(p.purchase_date);
            let payment = NewPayment { paid_on, amount_fen: p.total_fen, reference: format!("ZF-{}", &p.id[..8]) };
            settlement::pay(conn, &actor(Role::Canteen(p.school_id.clone())), &p.id, payment)?;
        }
    }
    Ok(())
}

/// An instant of the campaign, given in China Standard Time.
fn cst(y: i32, m: u32, d: u32, h: u32) -> chrono::NaiveDateTime {
    date(y, m, d).and_hms_opt(h, 0, 0).unwrap_or_default() - chrono::Duration::hours(8)
}

/// The reporting cycle of 2019-03-H1 (due 2019-03-30): 南明区 submits on time, 惠水县
/// three days late, 水城县 not at all, 黎平县 on time and then amends with a reason; two
/// purchases of 南明区 dated in the half-month are recorded after its submission (late
/// entries), and its 2019-03-H2 submission shows them as adjustments; 贵阳市 submits
/// for its counties. Returns the number of late entries.
fn add_campaign(conn: &mut DbConn, school_ids: &[String], supplier_ids: &[String]) -> Result<usize, ApiError> {
    use canteen_ledger::domain::reporting::HalfMonth;
    use canteen_ledger::domain::submission::{Narrative, Unit as ReportingUnit};
    use canteen_ledger::service::submissions::{self, SubmitRequest};
    let h1 = HalfMonth::parse("2019-03-H1").map_err(|e| ApiError::Internal(anyhow::anyhow!("{e}")))?;
    let h2 = h1.next();
    let narrative = |county: &str| Narrative {
        progress: format!("{county}各学校食堂本半月按计划开展校农结合采购，优先采购贫困户和合作社农产品。"),
        experience: "以县为单位统一组织合作社与学校对接，按周订单配送。".into(),
        difficulties: "部分偏远学校网络不稳定，采购记录存在补录。".into(),
        measures: "督促未采购学校尽快对接，按时报送。".into(),
    };
    let submit = |conn: &mut DbConn, unit: ReportingUnit, period: HalfMonth, at: chrono::NaiveDateTime, reason: Option<&str>| {
        let role = match &unit {
            ReportingUnit::County(c) => Role::County(c.clone()),
            ReportingUnit::Prefecture(p) => Role::Prefecture(p.clone()),
        };
        let name = unit.to_string();
        let req = SubmitRequest { unit: unit.clone(), period, narrative: narrative(&name), reason: reason.map(str::to_owned) };
        let idem = IdempotentRequest::new(format!("demo-{unit}-{period}-{}", reason.is_some()), &serde_json::json!({"demo": name}));
        submissions::submit(conn, &actor(role), req, &idem, at).map(drop)
    };
    let county = |c: &str| ReportingUnit::County(c.into());
    submit(conn, county("520102"), h1, cst(2019, 3, 28, 10), None)?;
    submit(conn, county("522631"), h1, cst(2019, 3, 29, 16), None)?;
    submit(conn, county("522731"), h1, cst(2019, 4, 2, 9), None)?;
    submit(conn, county("522631"), h1, cst(2019, 4, 3, 11), Some("补报两所学校漏报的采购记录"))?;
    // Two late entries in 南明区's first school (recorded now, dated in the half-month).
    let school = &school_ids[0];
    let canteen = actor(Role::Canteen(school.clone()));
    let mut late = 0;
    for (i, day) in [10_u32, 12].into_iter().enumerate() {
        let lines = [RawLine {
            category: Category::Vegetables,
            description: "补录：大白菜".into(),
            quantity: Decimal::new(250, 1),
            unit: Unit::Jin,
            unit_price: Decimal::new(120, 2),
            amount: None,
        }];
        let d =
            draft(date(2019, 3, day), date(2019, 6, 30), &lines).map_err(|e| ApiError::Internal(anyhow::anyhow!("demo draft: {e:?}")))?;
        let new = NewPurchase {
            school_id: school.clone(),
            supplier_id: supplier_ids[0].clone(),
            invoice_no: Some(format!("BL{i:04}")),
            draft: d,
        };
        let req = IdempotentRequest::new(format!("demo-late-{i}"), &serde_json::json!({"late": i}));
        canteen_ledger::service::purchases::record(conn, &canteen, new, &req, date(2019, 6, 30))?;
        late += 1;
    }
    submit(conn, ReportingUnit::Prefecture("520100".into()), h1, cst(2019, 4, 10, 15), None)?;
    submit(conn, county("520102"), h2, cst(2019, 4, 12, 10), None)?;
    Ok(late)
}

//! Report facts computed straight from the ledger with plain SQL aggregation: per school
//! (and optionally per day), category and qualification, the summed amount and mass,
//! and the net number of purchases. Voids carry negated lines, so plain sums are net.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Nullable, Text};

use crate::db::DbConn;
use crate::domain::catalog::{Category, QualificationClass, Tag};

/// Which schools a report covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeFilter {
    Province,
    Prefecture(String),
    County(String),
    School(String),
}

impl ScopeFilter {
    /// SQL predicate on `p` (purchases) and its single bind value.
    fn predicate(&self) -> (&'static str, Option<&str>) {
        match self {
            Self::Province => ("", None),
            Self::Prefecture(c) => (" AND p.county_code IN (SELECT code FROM counties WHERE prefecture_code = $3)", Some(c)),
            Self::County(c) => (" AND p.county_code = $3", Some(c)),
            Self::School(s) => (" AND p.school_id = $3", Some(s)),
        }
    }
}

/// Summed amount and mass for one school × (day) × category × qualification.
#[derive(Debug, Clone, QueryableByName)]
pub struct FactRow {
    #[diesel(sql_type = Text)]
    pub school_id: String,
    #[diesel(sql_type = Nullable<Date>)]
    pub day: Option<NaiveDate>,
    #[diesel(sql_type = Text)]
    pub category: Category,
    #[diesel(sql_type = Text)]
    pub class: QualificationClass,
    #[diesel(sql_type = Nullable<Text>)]
    pub tag: Option<Tag>,
    #[diesel(sql_type = BigInt)]
    pub amount_fen: i64,
    #[diesel(sql_type = BigInt)]
    pub mass_mg: i64,
}

/// Net purchases (entries minus voids) for one school × (day).
#[derive(Debug, Clone, QueryableByName)]
pub struct CountRow {
    #[diesel(sql_type = Text)]
    pub school_id: String,
    #[diesel(sql_type = Nullable<Date>)]
    pub day: Option<NaiveDate>,
    #[diesel(sql_type = BigInt)]
    pub purchases: i64,
}

/// Ledger facts for `scope` between `from` and `to` inclusive; grouped by day too when
/// `by_day`.
pub fn facts(conn: &mut DbConn, scope: &ScopeFilter, from: NaiveDate, to: NaiveDate, by_day: bool) -> QueryResult<Vec<FactRow>> {
    let (pred, bind) = scope.predicate();
    let (day_sel, day_group) = if by_day { ("p.purchase_date", ", p.purchase_date") } else { ("NULL", "") };
    let sql = format!(
        "SELECT p.school_id AS school_id, {day_sel} AS day, l.category AS category, q.class AS class, q.tag AS tag, \
         CAST(SUM(l.amount_fen) AS BIGINT) AS amount_fen, CAST(COALESCE(SUM(l.mass_mg), 0) AS BIGINT) AS mass_mg \
         FROM purchase_lines l JOIN purchases p ON p.id = l.purchase_id \
         JOIN purchase_qualifications q ON q.purchase_id = p.id \
         WHERE p.purchase_date >= $1 AND p.purchase_date <= $2{pred} \
         GROUP BY p.school_id{day_group}, l.category, q.class, q.tag"
    );
    let q = diesel::sql_query(sql).bind::<Date, _>(from).bind::<Date, _>(to);
    match bind {
        Some(b) => q.bind::<Text, _>(b).load(conn),
        None => q.load(conn),
    }
}

/// Net purchase counts for `scope` between `from` and `to`.
pub fn counts(conn: &mut DbConn, scope: &ScopeFilter, from: NaiveDate, to: NaiveDate, by_day: bool) -> QueryResult<Vec<CountRow>> {
    let (pred, bind) = scope.predicate();
    let (day_sel, day_group) = if by_day { ("p.purchase_date", ", p.purchase_date") } else { ("NULL", "") };
    let sql = format!(
        "SELECT p.school_id AS school_id, {day_sel} AS day, \
         CAST(SUM(CASE WHEN p.kind = 'void' THEN -1 ELSE 1 END) AS BIGINT) AS purchases \
         FROM purchases p WHERE p.purchase_date >= $1 AND p.purchase_date <= $2{pred} \
         GROUP BY p.school_id{day_group}"
    );
    let q = diesel::sql_query(sql).bind::<Date, _>(from).bind::<Date, _>(to);
    match bind {
        Some(b) => q.bind::<Text, _>(b).load(conn),
        None => q.load(conn),
    }
}

/// Confirmed amounts (of purchases both parties confirmed; a void follows its original)
/// and amounts paid, for one school × (day).
#[derive(Debug, Clone, QueryableByName)]
pub struct SettlementRow {
    #[diesel(sql_type = Text)]
    pub school_id: String,
    #[diesel(sql_type = Nullable<Date>)]
    pub day: Option<NaiveDate>,
    #[diesel(sql_type = BigInt)]
    pub confirmed_fen: i64,
    #[diesel(sql_type = BigInt)]
    pub confirmed_qualifying_fen: i64,
    #[diesel(sql_type = BigInt)]
    pub paid_fen: i64,
}

/// Confirmed and paid amounts for `scope` between `from` and `to`, by purchase date.
pub fn settlement(conn: &mut DbConn, scope: &ScopeFilter, from: NaiveDate, to: NaiveDate, by_day: bool) -> QueryResult<Vec<SettlementRow>> {
    let (pred, bind) = scope.predicate();
    let (day_sel, day_out, day_group) = if by_day { ("p.purchase_date", "day", ", day") } else { ("NULL", "NULL", "") };
    let sql = format!(
        "SELECT school_id, {day_out} AS day, CAST(SUM(confirmed_fen) AS BIGINT) AS confirmed_fen, \
         CAST(SUM(confirmed_qualifying_fen) AS BIGINT) AS confirmed_qualifying_fen, CAST(SUM(paid_fen) AS BIGINT) AS paid_fen FROM ( \
         SELECT p.school_id AS school_id, {day_sel} AS day, p.total_fen AS confirmed_fen, \
         CASE WHEN q.class = 'qualifying' THEN p.total_fen ELSE 0 END AS confirmed_qualifying_fen, 0 AS paid_fen \
         FROM purchases p JOIN purchase_confirmations c ON c.purchase_id = COALESCE(p.voids_id, p.id) \
         JOIN purchase_qualifications q ON q.purchase_id = p.id \
         WHERE c.state = 'confirmed' AND p.purchase_date >= $1 AND p.purchase_date <= $2{pred} \
         UNION ALL \
         SELECT p.school_id, {day_sel}, 0, 0, y.amount_fen FROM payments y JOIN purchases p ON p.id = y.purchase_id \
         WHERE p.purchase_date >= $1 AND p.purchase_date <= $2{pred}) s \
         GROUP BY school_id{day_group}"
    );
    let q = diesel::sql_query(sql).bind::<Date, _>(from).bind::<Date, _>(to);
    match bind {
        Some(b) => q.bind::<Text, _>(b).load(conn),
        None => q.load(conn),
    }
}

/// The unpaid balance of one active entry.
#[derive(Debug, Clone, QueryableByName)]
pub struct OpenBalance {
    #[diesel(sql_type = Text)]
    pub school_id: String,
    #[diesel(sql_type = Text)]
    pub county_code: String,
    #[diesel(sql_type = Date)]
    pub purchase_date: NaiveDate,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pub terms_days: i32,
    #[diesel(sql_type = BigInt)]
    pub unpaid_fen: i64,
}

/// Active entries (not voids, not voided) of the scope dated within `from..=to` whose
/// payments do not cover their total, with their supplier's payment terms.
pub fn open_balances(conn: &mut DbConn, scope: &ScopeFilter, from: NaiveDate, to: NaiveDate) -> QueryResult<Vec<OpenBalance>> {
    let (pred, bind) = scope.predicate();
    let sql = format!(
        "SELECT * FROM (SELECT p.school_id AS school_id, p.county_code AS county_code, p.purchase_date AS purchase_date, \
         sp.payment_terms_days AS terms_days, \
         p.total_fen - CAST(COALESCE((SELECT SUM(y.amount_fen) FROM payments y WHERE y.purchase_id = p.id), 0) AS BIGINT) AS unpaid_fen \
         FROM purchases p JOIN suppliers sp ON sp.id = p.supplier_id \
         WHERE p.kind = 'entry' AND NOT EXISTS (SELECT 1 FROM purchases v WHERE v.voids_id = p.id) \
         AND p.purchase_date >= $1 AND p.purchase_date <= $2{pred}) o WHERE o.unpaid_fen > 0"
    );
    let q = diesel::sql_query(sql).bind::<Date, _>(from).bind::<Date, _>(to);
    match bind {
        Some(b) => q.bind::<Text, _>(b).load(conn),
        None => q.load(conn),
    }
}

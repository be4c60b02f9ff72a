//! Open (not fully paid) purchases, for the overdue lists.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Integer, Nullable, Text};

use crate::db::DbConn;

/// An active entry with an unpaid balance.
#[derive(Debug, Clone, QueryableByName)]
pub struct OpenItem {
    #[diesel(sql_type = Text)]
    pub id: String,
    #[diesel(sql_type = Text)]
    pub school_id: String,
    #[diesel(sql_type = Text)]
    pub school_name: String,
    #[diesel(sql_type = Text)]
    pub county_code: String,
    #[diesel(sql_type = Text)]
    pub supplier_id: String,
    #[diesel(sql_type = Text)]
    pub supplier_name: String,
    #[diesel(sql_type = Date)]
    pub purchase_date: NaiveDate,
    #[diesel(sql_type = Nullable<Text>)]
    pub invoice_no: Option<String>,
    #[diesel(sql_type = BigInt)]
    pub total_fen: i64,
    #[diesel(sql_type = BigInt)]
    pub paid_fen: i64,
    #[diesel(sql_type = Integer)]
    pub terms_days: i32,
}

/// Active entries (not voids, not voided) dated before `before`, of one county's schools
/// or from one supplier, whose payments do not cover their total.
pub fn open_items(conn: &mut DbConn, county: Option<&str>, supplier: Option<&str>, before: NaiveDate) -> QueryResult<Vec<OpenItem>> {
    let (filter, value) = match (county, supplier) {
        (Some(c), _) => ("p.county_code = $2", c),
        (None, Some(s)) => ("p.supplier_id = $2", s),
        (None, None) => ("$2 = $2", ""),
    };
    let sql = format!(
        "SELECT * FROM (SELECT p.id AS id, p.school_id AS school_id, s.name AS school_name, p.county_code AS county_code, \
         p.supplier_id AS supplier_id, sp.name AS supplier_name, p.purchase_date AS purchase_date, p.invoice_no AS invoice_no, \
         p.total_fen AS total_fen, sp.payment_terms_days AS terms_days, \
         CAST(COALESCE((SELECT SUM(y.amount_fen) FROM payments y WHERE y.purchase_id = p.id), 0) AS BIGINT) AS paid_fen \
         FROM purchases p JOIN schools s ON s.id = p.school_id JOIN suppliers sp ON sp.id = p.supplier_id \
         WHERE p.kind = 'entry' AND NOT EXISTS (SELECT 1 FROM purchases v WHERE v.voids_id = p.id) \
         AND p.purchase_date < $1 AND {filter}) o WHERE o.total_fen > o.paid_fen"
    );
    diesel::sql_query(sql).bind::<Date, _>(before).bind::<Text, _>(value).load(conn)
}

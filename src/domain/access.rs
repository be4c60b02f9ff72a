//! Who may see and do what: the caller model every service asks. Pure: no database, no
//! actix; where a check needs a fact from the database (a school's county, a county's
//! prefecture), the service passes a closure that looks it up, and it is asked only when
//! the answer depends on it.
//!
//! **Adding a role** is one arm of [`Grants::of`] (plus the role's text in
//! [`super::role`]): the arm says where the role sees ([`Scope`]) and what it may do
//! beyond reading. Every visibility check and every list filter is derived from those
//! two, so no service or handler matches on roles.

use super::role::Role;
use super::submission::Unit;

/// A signed-in caller, as services need it: who it is (for audit rows) and its role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token subject: a user id, or an integration token's subject.
    subject: String,
    role: Role,
}

/// Where a caller sees: the part of the province (or the one supplier) whose records it
/// may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    /// The whole province.
    Province,
    /// One prefecture, by code.
    Prefecture(&'a str),
    /// One county, by code.
    County(&'a str),
    /// One school, by id.
    School(&'a str),
    /// One supplier's own business, by id.
    Supplier(&'a str),
}

/// What a role is, in access terms: its scope, and what it may do beyond reading there.
/// Each flag is narrowed by the scope (a flag never reaches outside it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grants<'a> {
    scope: Scope<'a>,
    /// Accounts, tokens, sessions, designations, the ledger check, every webhook
    /// subscription.
    administers: bool,
    /// Registers and edits schools within the scope.
    manages_schools: bool,
    /// Registers suppliers.
    registers_suppliers: bool,
    /// Verifies and revokes (and declares) tags of suppliers from within the scope.
    reviews_tags: bool,
    /// Records, voids, corrects and pays the purchases of its school, imports and
    /// confirms deliveries (a school scope only).
    keeps_ledger: bool,
    /// Submits the half-monthly reports of the bureau its scope is (a county or a
    /// prefecture scope only).
    reports: bool,
}

impl<'a> Grants<'a> {
    /// The one table of roles.
    pub fn of(role: &'a Role) -> Self {
        let (scope, administers, manages_schools, registers_suppliers, reviews_tags, keeps_ledger, reports) = match role {
            Role::Admin => (Scope::Province, true, true, true, true, false, false),
            Role::Province => (Scope::Province, false, false, true, true, false, false),
            Role::Prefecture(p) => (Scope::Prefecture(p), false, false, false, false, false, true),
            Role::County(c) => (Scope::County(c), false, true, true, true, false, true),
            Role::Canteen(s) => (Scope::School(s), false, false, true, false, true, false),
            Role::Supplier(s) => (Scope::Supplier(s), false, false, false, false, false, false),
        };
        Self { scope, administers, manages_schools, registers_suppliers, reviews_tags, keeps_ledger, reports }
    }
}

/// Where a school sits, as far as scope checks need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub school_id: String,
    pub county_code: String,
    pub prefecture_code: String,
}

impl Place {
    pub fn new(school_id: &str, county_code: &str, prefecture_code: &str) -> Self {
        Self { school_id: school_id.into(), county_code: county_code.into(), prefecture_code: prefecture_code.into() }
    }
}

/// The schools a list holds, as a repository filter is built from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchoolSet<'a> {
    All,
    Prefecture(&'a str),
    County(&'a str),
    School(&'a str),
}

/// The trades (purchases and deliveries: records between a school and a supplier) a list
/// holds: those of a set of schools, or a supplier's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TradeSet<'a> {
    Schools(SchoolSet<'a>),
    Supplier(&'a str),
}

/// The suppliers whose records (webhook subscriptions) a list holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SupplierSet<'a> {
    All,
    Supplier(&'a str),
}

impl SupplierSet<'_> {
    /// The one supplier the set is narrowed to (`None`: every supplier).
    pub fn only(&self) -> Option<&str> {
        match self {
            Self::All => None,
            Self::Supplier(s) => Some(s),
        }
    }

    pub fn holds(&self, supplier_id: &str) -> bool {
        self.only().is_none_or(|s| s == supplier_id)
    }
}

/// How a school list was narrowed by place, as asked: a county (with the county's
/// prefecture, `None` if there is no such county) and/or a prefecture.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Narrowing<'a> {
    pub county: Option<(&'a str, Option<&'a str>)>,
    pub prefecture: Option<&'a str>,
}

impl Caller {
    pub fn new(subject: impl Into<String>, role: Role) -> Self {
        Self { subject: subject.into(), role }
    }

    pub fn subject(&self) -> &str {
        &self.subject
    }

    pub fn role(&self) -> &Role {
        &self.role
    }

    /// How this caller is named in audit rows: `role:scope/subject`.
    pub fn actor(&self) -> String {
        format!("{}/{}", self.role, self.subject)
    }

    fn grants(&self) -> Grants<'_> {
        Grants::of(&self.role)
    }

    /// Where the caller sees.
    pub fn scope(&self) -> Scope<'_> {
        self.grants().scope
    }

    /// The administrator: accounts, tokens, designations, the ledger check.
    pub fn administers(&self) -> bool {
        self.grants().administers
    }

    /// May register or edit schools in this county (of this prefecture).
    pub fn may_manage_schools_in(&self, county_code: &str, prefecture_code: &str) -> bool {
        let g = self.grants();
        g.manages_schools && g.scope.may_read_county(county_code, prefecture_code)
    }

    /// May register suppliers: bureaus and canteens (who meet new suppliers first).
    pub fn may_register_suppliers(&self) -> bool {
        self.grants().registers_suppliers
    }

    /// May verify or revoke tags of a supplier from this origin county.
    pub fn may_review_tags_from(&self, origin_county_code: &str) -> bool {
        let g = self.grants();
        g.reviews_tags && g.scope.holds_county(origin_county_code)
    }

    /// May declare a tag on this supplier: its reviewers, and the supplier itself.
    pub fn may_declare_tag(&self, supplier_id: &str, origin_county_code: &str) -> bool {
        self.may_review_tags_from(origin_county_code) || self.supplier() == Some(supplier_id)
    }

    /// The school whose ledger the caller keeps (records, voids, pays, imports into).
    pub fn ledger_school(&self) -> Option<&str> {
        match self.grants() {
            Grants { keeps_ledger: true, scope: Scope::School(s), .. } => Some(s),
            _ => None,
        }
    }

    /// May record, void or pay purchases of this school.
    pub fn may_write_ledger_of(&self, school_id: &str) -> bool {
        self.ledger_school() == Some(school_id)
    }

    /// May submit (and revise) the half-monthly report of `unit`: the unit's own bureau,
    /// and no one else (not the bureau above it, not the administrator).
    pub fn may_report_for(&self, unit: &Unit) -> bool {
        let g = self.grants();
        g.reports
            && match (g.scope, unit) {
                (Scope::County(mine), Unit::County(c)) => mine == c,
                (Scope::Prefecture(mine), Unit::Prefecture(p)) => mine == p,
                _ => false,
            }
    }

    /// The supplier the caller speaks for (pushes deliveries, acknowledges purchases,
    /// manages webhook subscriptions).
    pub fn supplier(&self) -> Option<&str> {
        match self.scope() {
            Scope::Supplier(s) => Some(s),
            _ => None,
        }
    }

    /// May acknowledge or dispute the purchases a canteen recorded from this supplier: the
    /// supplier itself.
    pub fn may_acknowledge_purchases_of(&self, supplier_id: &str) -> bool {
        self.supplier() == Some(supplier_id)
    }

    /// The webhook subscriptions the caller may read (`None`: none at all): its own as a
    /// supplier, everyone's as the administrator.
    pub fn webhooks(&self) -> Option<SupplierSet<'_>> {
        let g = self.grants();
        match g.scope {
            _ if g.administers => Some(SupplierSet::All),
            Scope::Supplier(s) => Some(SupplierSet::Supplier(s)),
            _ => None,
        }
    }
}

impl<'a> Scope<'a> {
    pub fn of(role: &'a Role) -> Self {
        Grants::of(role).scope
    }

    /// The whole province (share reports over it, setting targets).
    pub fn is_provincial(&self) -> bool {
        *self == Self::Province
    }

    /// May read this school, its ledger and reports.
    pub fn may_read_school(&self, s: &Place) -> bool {
        match self.schools() {
            Some(set) => set.holds(s),
            None => false,
        }
    }

    /// May read a county's reports and lists.
    pub fn may_read_county(&self, county_code: &str, prefecture_code: &str) -> bool {
        match self {
            Self::Province => true,
            Self::Prefecture(p) => *p == prefecture_code,
            Self::County(c) => *c == county_code,
            Self::School(_) | Self::Supplier(_) => false,
        }
    }

    /// May read a prefecture's reports.
    pub fn may_read_prefecture(&self, prefecture_code: &str) -> bool {
        match self {
            Self::Province => true,
            Self::Prefecture(p) => *p == prefecture_code,
            Self::County(_) | Self::School(_) | Self::Supplier(_) => false,
        }
    }

    /// A county-level reach without the county's prefecture: the province and the county
    /// itself. (No prefecture-scoped caller reviews tags; one that did would need the
    /// origin county's prefecture here.)
    fn holds_county(&self, county_code: &str) -> bool {
        match self {
            Self::Province => true,
            Self::County(c) => *c == county_code,
            Self::Prefecture(_) | Self::School(_) | Self::Supplier(_) => false,
        }
    }

    /// May read a supplier's own accounts (its overdue list): the supplier and the
    /// province.
    pub fn may_read_supplier_accounts(&self, supplier_id: &str) -> bool {
        match self {
            Self::Province => true,
            Self::Supplier(s) => *s == supplier_id,
            Self::Prefecture(_) | Self::County(_) | Self::School(_) => false,
        }
    }

    /// The schools the caller's school lists and school reports hold; `None` for a
    /// supplier, who reads no school.
    pub fn schools(&self) -> Option<SchoolSet<'a>> {
        match self.trades() {
            TradeSet::Schools(set) => Some(set),
            TradeSet::Supplier(_) => None,
        }
    }

    /// The trades (purchases, deliveries) the caller's lists hold.
    pub fn trades(&self) -> TradeSet<'a> {
        match *self {
            Self::Province => TradeSet::Schools(SchoolSet::All),
            Self::Prefecture(p) => TradeSet::Schools(SchoolSet::Prefecture(p)),
            Self::County(c) => TradeSet::Schools(SchoolSet::County(c)),
            Self::School(s) => TradeSet::Schools(SchoolSet::School(s)),
            Self::Supplier(s) => TradeSet::Supplier(s),
        }
    }

    /// May read one trade: a supplier its own; anyone else by where its school is.
    /// `school` looks the school's place up (`None`: no such school); it is asked only
    /// for a caller that reads by school.
    pub fn may_read_trade<E>(&self, supplier_id: &str, school: impl FnOnce() -> Result<Option<Place>, E>) -> Result<bool, E> {
        match self.trades() {
            TradeSet::Supplier(s) => Ok(s == supplier_id),
            TradeSet::Schools(set) => Ok(school()?.is_some_and(|p| set.holds(&p))),
        }
    }

    /// May narrow a trade list to one school: a supplier to any school it sold to,
    /// anyone else to a school it may read. `school` as for [`Self::may_read_trade`].
    pub fn may_narrow_trades_to_school<E>(&self, school: impl FnOnce() -> Result<Option<Place>, E>) -> Result<bool, E> {
        match self.trades() {
            TradeSet::Supplier(_) => Ok(true),
            TradeSet::Schools(set) => Ok(school()?.is_some_and(|p| set.holds(&p))),
        }
    }

    /// May narrow a trade list to one supplier (`None`: not narrowed): a supplier only to
    /// itself.
    pub fn may_narrow_trades_to_supplier(&self, supplier_id: Option<&str>) -> bool {
        match self.trades() {
            TradeSet::Supplier(s) => supplier_id.is_none_or(|x| x == s),
            TradeSet::Schools(_) => true,
        }
    }
}

impl SchoolSet<'_> {
    /// Whether the set holds the school.
    pub fn holds(&self, s: &Place) -> bool {
        match self {
            Self::All => true,
            Self::Prefecture(p) => *p == s.prefecture_code,
            Self::County(c) => *c == s.county_code,
            Self::School(id) => *id == s.school_id,
        }
    }

    /// Whether a school list narrowed as `n` meets the set (else the filter is outside the
    /// caller's scope). Where the set itself sits is looked up only when the answer
    /// depends on it: `county_prefecture` (the prefecture of a county, `None` if there is
    /// no such county) for a county set narrowed by prefecture, `school_place` (the
    /// caller's own school) for a school set narrowed at all; both are given `lookup`
    /// (the connection).
    pub fn admits<C, E>(
        &self,
        n: Narrowing<'_>,
        lookup: &mut C,
        county_prefecture: impl FnOnce(&mut C, &str) -> Result<Option<String>, E>,
        school_place: impl FnOnce(&mut C, &str) -> Result<Place, E>,
    ) -> Result<bool, E> {
        Ok(match *self {
            Self::All => true,
            Self::Prefecture(p) => n.prefecture.is_none_or(|x| x == p) && n.county.is_none_or(|(_, cp)| cp == Some(p)),
            Self::County(c) => {
                if n.county.is_some_and(|(x, _)| x != c) {
                    return Ok(false);
                }
                match n.prefecture {
                    Some(p) => county_prefecture(lookup, c)?.as_deref() == Some(p),
                    None => true,
                }
            }
            Self::School(s) => {
                if n.county.is_none() && n.prefecture.is_none() {
                    return Ok(true);
                }
                let own = school_place(lookup, s)?;
                n.county.is_none_or(|(c, _)| c == own.county_code) && n.prefecture.is_none_or(|p| p == own.prefecture_code)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    /// One caller of every role, in this order: admin, province, prefecture 520100,
    /// county 520102 (in 520100), canteen of school s1 (in 520102), supplier x1.
    fn callers() -> [Caller; 6] {
        [
            Role::Admin,
            Role::Province,
            Role::Prefecture("520100".into()),
            Role::County("520102".into()),
            Role::Canteen("s1".into()),
            Role::Supplier("x1".into()),
        ]
        .map(|r| Caller::new("u1", r))
    }

    /// Asserts `$e` (of the caller `$c`) for each caller of [`callers`] is the matching
    /// item of `$expected`.
    macro_rules! each {
        ($expected:expr, |$c:ident| $e:expr $(,)?) => {{
            let callers = callers();
            for ($c, want) in callers.iter().zip($expected) {
                assert_eq!($e, want, "{}", $c.role());
            }
        }};
        ($expected:expr, $f:path) => {
            each!($expected, |c| $f(c))
        };
    }

    /// s1: the canteen's school, in county 520102 of prefecture 520100.
    fn s1() -> Place {
        Place::new("s1", "520102", "520100")
    }
    /// s2: another county of the same prefecture.
    fn s2() -> Place {
        Place::new("s2", "520103", "520100")
    }
    /// s3: another prefecture.
    fn s3() -> Place {
        Place::new("s3", "522731", "522700")
    }

    const T: bool = true;
    const F: bool = false;

    #[test]
    fn every_role_has_its_scope() {
        each!(
            [
                Scope::Province,
                Scope::Province,
                Scope::Prefecture("520100"),
                Scope::County("520102"),
                Scope::School("s1"),
                Scope::Supplier("x1")
            ],
            |c| c.scope(),
        );
        each!([T; 6], |c| Scope::of(c.role()) == c.scope());
    }

    #[test]
    fn the_actor_names_role_scope_and_subject() {
        each!(["admin/u1", "province/u1", "prefecture:520100/u1", "county:520102/u1", "canteen:s1/u1", "supplier:x1/u1"], |c| c.actor());
        each!(["u1"; 6], |c| c.subject());
    }

    #[test]
    fn only_the_administrator_administers() {
        each!([T, F, F, F, F, F], Caller::administers);
    }

    #[test]
    fn schools_are_managed_by_the_administrator_and_their_county() {
        each!([T, F, F, T, F, F], |c| c.may_manage_schools_in("520102", "520100"));
        each!([T, F, F, F, F, F], |c| c.may_manage_schools_in("520103", "520100"));
        each!([T, F, F, F, F, F], |c| c.may_manage_schools_in("522731", "522700"));
    }

    #[test]
    fn suppliers_are_registered_by_bureaus_and_canteens_but_not_prefectures_or_suppliers() {
        each!([T, T, F, T, T, F], Caller::may_register_suppliers);
    }

    #[test]
    fn tags_are_reviewed_by_the_origin_county_or_the_province() {
        each!([T, T, F, T, F, F], |c| c.may_review_tags_from("520102"));
        each!([T, T, F, F, F, F], |c| c.may_review_tags_from("520103"));
    }

    #[test]
    fn tags_are_declared_by_their_reviewers_and_the_supplier_itself() {
        each!([T, T, F, T, F, T], |c| c.may_declare_tag("x1", "520102"));
        each!([T, T, F, F, F, T], |c| c.may_declare_tag("x1", "520103"));
        each!([T, T, F, T, F, F], |c| c.may_declare_tag("x2", "520102"));
        each!([T, T, F, F, F, F], |c| c.may_declare_tag("x2", "520103"));
    }

    #[test]
    fn only_the_school_canteen_keeps_its_ledger() {
        each!([None, None, None, None, Some("s1"), None], |c| c.ledger_school());
        each!([F, F, F, F, T, F], |c| c.may_write_ledger_of("s1"));
        each!([F; 6], |c| c.may_write_ledger_of("s2"));
    }

    #[test]
    fn a_bureau_alone_reports_for_itself() {
        each!([F, F, F, T, F, F], |c| c.may_report_for(&Unit::County("520102".into())));
        each!([F; 6], |c| c.may_report_for(&Unit::County("520103".into())));
        each!([F, F, T, F, F, F], |c| c.may_report_for(&Unit::Prefecture("520100".into())));
        each!([F; 6], |c| c.may_report_for(&Unit::Prefecture("522700".into())));
    }

    #[test]
    fn only_a_supplier_speaks_for_a_supplier() {
        each!([None, None, None, None, None, Some("x1")], |c| c.supplier());
        each!([F, F, F, F, F, T], |c| c.may_acknowledge_purchases_of("x1"));
        each!([F; 6], |c| c.may_acknowledge_purchases_of("x2"));
    }

    #[test]
    fn webhooks_are_read_by_their_supplier_and_the_administrator() {
        each!([Some(SupplierSet::All), None, None, None, None, Some(SupplierSet::Supplier("x1"))], |c| c.webhooks());
        assert!(SupplierSet::All.holds("x2"));
        assert_eq!(SupplierSet::All.only(), None);
        assert!(SupplierSet::Supplier("x1").holds("x1"));
        assert!(!SupplierSet::Supplier("x1").holds("x2"));
        assert_eq!(SupplierSet::Supplier("x1").only(), Some("x1"));
    }

    #[test]
    fn the_province_is_read_by_the_administrator_and_the_province() {
        each!([T, T, F, F, F, F], |c| c.scope().is_provincial());
    }

    #[test]
    fn school_visibility_follows_the_hierarchy() {
        each!([T, T, T, T, T, F], |c| c.scope().may_read_school(&s1()));
        each!([T, T, T, F, F, F], |c| c.scope().may_read_school(&s2()));
        each!([T, T, F, F, F, F], |c| c.scope().may_read_school(&s3()));
    }

    #[test]
    fn counties_and_prefectures_are_read_from_above() {
        each!([T, T, T, T, F, F], |c| c.scope().may_read_county("520102", "520100"));
        each!([T, T, T, F, F, F], |c| c.scope().may_read_county("520103", "520100"));
        each!([T, T, F, F, F, F], |c| c.scope().may_read_county("522731", "522700"));
        each!([T, T, T, F, F, F], |c| c.scope().may_read_prefecture("520100"));
        each!([T, T, F, F, F, F], |c| c.scope().may_read_prefecture("522700"));
    }

    #[test]
    fn a_supplier_s_accounts_are_read_by_itself_and_the_province() {
        each!([T, T, F, F, F, T], |c| c.scope().may_read_supplier_accounts("x1"));
        each!([T, T, F, F, F, F], |c| c.scope().may_read_supplier_accounts("x2"));
    }

    #[test]
    fn lists_hold_the_scope_s_schools_or_the_supplier_s_own_trades() {
        let sets = [
            Some(SchoolSet::All),
            Some(SchoolSet::All),
            Some(SchoolSet::Prefecture("520100")),
            Some(SchoolSet::County("520102")),
            Some(SchoolSet::School("s1")),
            None,
        ];
        each!(sets, |c| c.scope().schools());
        each!(sets.map(|s| s.map_or(TradeSet::Supplier("x1"), TradeSet::Schools)), |c| c.scope().trades());
        for (set, holds) in [
            (SchoolSet::All, [T, T, T]),
            (SchoolSet::Prefecture("520100"), [T, T, F]),
            (SchoolSet::County("520102"), [T, F, F]),
            (SchoolSet::School("s1"), [T, F, F]),
        ] {
            assert_eq!([s1(), s2(), s3()].map(|p| set.holds(&p)), holds, "{set:?}");
        }
    }

    /// `may_read_trade` of each caller, with the number of school look-ups it made.
    fn trade(supplier_id: &str, school: Option<Place>) -> [(bool, u32); 6] {
        callers().map(|c| {
            let asked = Cell::new(0);
            let ok = c
                .scope()
                .may_read_trade::<()>(supplier_id, || {
                    asked.set(asked.get() + 1);
                    Ok(school.clone())
                })
                .unwrap();
            (ok, asked.get())
        })
    }

    #[test]
    fn a_trade_is_read_by_its_supplier_and_whoever_reads_its_school() {
        let by_school = |ok: [bool; 5], supplier: bool| [(ok[0], 1), (ok[1], 1), (ok[2], 1), (ok[3], 1), (ok[4], 1), (supplier, 0)];
        assert_eq!(trade("x1", Some(s1())), by_school([T, T, T, T, T], T));
        assert_eq!(trade("x2", Some(s1())), by_school([T, T, T, T, T], F));
        assert_eq!(trade("x1", Some(s2())), by_school([T, T, T, F, F], T));
        assert_eq!(trade("x1", Some(s3())), by_school([T, T, F, F, F], T));
        assert_eq!(trade("x1", None), by_school([F, F, F, F, F], T));
        let failed = Caller::new("u1", Role::Province).scope().may_read_trade("x1", || Err("down"));
        assert_eq!(failed, Err("down"));
    }

    #[test]
    fn trade_lists_narrow_to_a_readable_school_or_a_supplier_s_own() {
        let narrow = |school: Option<Place>| callers().map(|c| c.scope().may_narrow_trades_to_school::<()>(|| Ok(school.clone())).unwrap());
        assert_eq!(narrow(Some(s1())), [T, T, T, T, T, T]);
        assert_eq!(narrow(Some(s2())), [T, T, T, F, F, T]);
        assert_eq!(narrow(Some(s3())), [T, T, F, F, F, T]);
        assert_eq!(narrow(None), [F, F, F, F, F, T]);
        each!([T; 6], |c| c.scope().may_narrow_trades_to_supplier(None));
        each!([T; 6], |c| c.scope().may_narrow_trades_to_supplier(Some("x1")));
        each!([T, T, T, T, T, F], |c| c.scope().may_narrow_trades_to_supplier(Some("x2")));
    }

    /// `admits` of the school set of each caller but the supplier, with the look-ups made.
    fn admits(n: Narrowing<'_>) -> Vec<(bool, Vec<String>)> {
        callers()
            .iter()
            .filter_map(|c| c.scope().schools())
            .map(|set| {
                let mut asked = Vec::new();
                let ok = set
                    .admits::<_, ()>(
                        n,
                        &mut asked,
                        |asked, county| {
                            asked.push(format!("county {county}"));
                            Ok(match county {
                                "520102" | "520103" => Some("520100".into()),
                                "522731" => Some("522700".into()),
                                _ => None,
                            })
                        },
                        |asked, school| {
                            asked.push(format!("school {school}"));
                            Ok(s1())
                        },
                    )
                    .unwrap();
                (ok, asked)
            })
            .collect()
    }

    fn county<'a>(code: &'a str, prefecture: Option<&'a str>) -> Narrowing<'a> {
        Narrowing { county: Some((code, prefecture)), prefecture: None }
    }

    fn prefecture(code: &str) -> Narrowing<'_> {
        Narrowing { county: None, prefecture: Some(code) }
    }

    /// Results of [`admits`] for admin, province, prefecture, county and canteen; `c` and
    /// `s` mark the county's and the school's look-up.
    fn expect(ok: [bool; 5], county_lookup: bool, school_lookup: bool) -> Vec<(bool, Vec<String>)> {
        let c = if county_lookup { vec!["county 520102".to_owned()] } else { vec![] };
        let s = if school_lookup { vec!["school s1".to_owned()] } else { vec![] };
        vec![(ok[0], vec![]), (ok[1], vec![]), (ok[2], vec![]), (ok[3], c), (ok[4], s)]
    }

    #[test]
    fn a_school_list_narrowed_by_place_must_meet_the_scope() {
        assert_eq!(admits(Narrowing::default()), expect([T, T, T, T, T], F, F));
        assert_eq!(admits(county("520102", Some("520100"))), expect([T, T, T, T, T], F, T));
        assert_eq!(admits(county("520103", Some("520100"))), expect([T, T, T, F, F], F, T));
        assert_eq!(admits(county("522731", Some("522700"))), expect([T, T, F, F, F], F, T));
        assert_eq!(admits(county("999999", None)), expect([T, T, F, F, F], F, T));
        assert_eq!(admits(prefecture("520100")), expect([T, T, T, T, T], T, T));
        assert_eq!(admits(prefecture("522700")), expect([T, T, F, F, F], T, T));
        let both = Narrowing { county: Some(("520102", Some("520100"))), prefecture: Some("522700") };
        assert_eq!(admits(both), expect([T, T, F, F, F], T, T));
    }

    #[test]
    fn a_school_list_fails_with_the_look_up() {
        let own = SchoolSet::School("s1").admits(prefecture("520100"), &mut (), |_, _| Ok(None), |_, _| Err("unknown caller"));
        assert_eq!(own, Err("unknown caller"));
        let county = SchoolSet::County("520102").admits::<_, ()>(prefecture("520100"), &mut (), |_, _| Ok(None), |_, _| Ok(s1()));
        assert_eq!(county, Ok(false), "a county that does not exist meets no prefecture");
    }
}

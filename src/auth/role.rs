//! Roles and their scope, as carried in tokens: `admin`, `province`, `prefecture:CODE`,
//! `county:CODE`, `canteen:SCHOOL_ID`, `supplier:SUPPLIER_ID`.

use std::fmt;

/// Who a caller is, and what part of the province it may see.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Role {
    Admin,
    Province,
    Prefecture(String),
    County(String),
    Canteen(String),
    Supplier(String),
}

/// Where a school sits, as far as scope checks need it.
#[derive(Debug, Clone, Copy)]
pub struct SchoolPlace<'a> {
    pub school_id: &'a str,
    pub county_code: &'a str,
    pub prefecture_code: &'a str,
}

impl Role {
    /// Parses `role` or `role:scope`.
    pub fn parse(text: &str) -> Option<Self> {
        let (name, scope) = match text.split_once(':') {
            Some((n, s)) if !s.is_empty() => (n, Some(s.to_owned())),
            Some(_) => return None,
            None => (text, None),
        };
        match (name, scope) {
            ("admin", None) => Some(Self::Admin),
            ("province", None) => Some(Self::Province),
            ("prefecture", Some(s)) if is_division_code(&s) => Some(Self::Prefecture(s)),
            ("county", Some(s)) if is_division_code(&s) => Some(Self::County(s)),
            ("canteen", Some(s)) => Some(Self::Canteen(s)),
            ("supplier", Some(s)) => Some(Self::Supplier(s)),
            _ => None,
        }
    }

    /// Role name without scope.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Province => "province",
            Self::Prefecture(_) => "prefecture",
            Self::County(_) => "county",
            Self::Canteen(_) => "canteen",
            Self::Supplier(_) => "supplier",
        }
    }

    /// The scope part, if any.
    pub fn scope(&self) -> Option<&str> {
        match self {
            Self::Admin | Self::Province => None,
            Self::Prefecture(s) | Self::County(s) | Self::Canteen(s) | Self::Supplier(s) => Some(s),
        }
    }

    /// Province-wide readers: admin and province.
    pub fn is_provincial(&self) -> bool {
        matches!(self, Self::Admin | Self::Province)
    }

    /// May read this school and its ledger and reports.
    pub fn can_read_school(&self, s: SchoolPlace<'_>) -> bool {
        match self {
            Self::Admin | Self::Province => true,
            Self::Prefecture(p) => p == s.prefecture_code,
            Self::County(c) => c == s.county_code,
            Self::Canteen(id) => id == s.school_id,
            Self::Supplier(_) => false,
        }
    }

    /// May register or edit schools in this county.
    pub fn can_manage_schools_in(&self, county_code: &str) -> bool {
        match self {
            Self::Admin => true,
            Self::County(c) => c == county_code,
            _ => false,
        }
    }

    /// May record or void purchases for this school.
    pub fn can_write_ledger_of(&self, school_id: &str) -> bool {
        matches!(self, Self::Canteen(id) if id == school_id)
    }

    /// May read reports over a county (by code) / prefecture / the province.
    pub fn can_read_county(&self, county_code: &str, prefecture_code: &str) -> bool {
        match self {
            Self::Admin | Self::Province => true,
            Self::Prefecture(p) => p == prefecture_code,
            Self::County(c) => c == county_code,
            _ => false,
        }
    }

    pub fn can_read_prefecture(&self, prefecture_code: &str) -> bool {
        match self {
            Self::Admin | Self::Province => true,
            Self::Prefecture(p) => p == prefecture_code,
            _ => false,
        }
    }

    /// May register suppliers: bureaus and canteens (who meet new suppliers first).
    pub fn can_register_suppliers(&self) -> bool {
        !matches!(self, Self::Supplier(_) | Self::Prefecture(_))
    }

    /// May declare a tag on this supplier.
    pub fn can_declare_tag(&self, supplier_id: &str, origin_county_code: &str) -> bool {
        match self {
            Self::Admin | Self::Province => true,
            Self::County(c) => c == origin_county_code,
            Self::Supplier(id) => id == supplier_id,
            _ => false,
        }
    }

    /// May verify or revoke tags of a supplier from this origin county.
    pub fn can_review_tags_from(&self, origin_county_code: &str) -> bool {
        match self {
            Self::Admin | Self::Province => true,
            Self::County(c) => c == origin_county_code,
            _ => false,
        }
    }
}

/// Six ASCII digits (GB/T 2260).
pub fn is_division_code(s: &str) -> bool {
    s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit())
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.scope() {
            Some(s) => write!(f, "{}:{s}", self.name()),
            None => f.write_str(self.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_their_text() {
        for text in ["admin", "province", "prefecture:520100", "county:520102", "canteen:abc", "supplier:xyz"] {
            assert_eq!(Role::parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn malformed_roles_are_refused() {
        for text in ["", "root", "admin:1", "county", "county:", "county:52010", "prefecture:abcdef", "canteen"] {
            assert_eq!(Role::parse(text), None, "{text}");
        }
    }

    #[test]
    fn school_visibility_follows_the_hierarchy() {
        let s = SchoolPlace { school_id: "s1", county_code: "520102", prefecture_code: "520100" };
        assert!(Role::Province.can_read_school(s));
        assert!(Role::Prefecture("520100".into()).can_read_school(s));
        assert!(!Role::Prefecture("520200".into()).can_read_school(s));
        assert!(Role::County("520102".into()).can_read_school(s));
        assert!(!Role::County("520103".into()).can_read_school(s));
        assert!(Role::Canteen("s1".into()).can_read_school(s));
        assert!(!Role::Canteen("s2".into()).can_read_school(s));
        assert!(!Role::Supplier("x".into()).can_read_school(s));
    }

    #[test]
    fn only_the_school_canteen_writes_its_ledger() {
        assert!(Role::Canteen("s1".into()).can_write_ledger_of("s1"));
        assert!(!Role::Canteen("s2".into()).can_write_ledger_of("s1"));
        assert!(!Role::Admin.can_write_ledger_of("s1"));
        assert!(!Role::County("520102".into()).can_write_ledger_of("s1"));
    }

    #[test]
    fn tags_are_declared_by_the_supplier_its_origin_county_or_the_province() {
        assert!(Role::Supplier("s1".into()).can_declare_tag("s1", "520102"));
        assert!(!Role::Supplier("s2".into()).can_declare_tag("s1", "520102"));
        assert!(Role::County("520102".into()).can_declare_tag("s1", "520102"));
        assert!(!Role::County("522731".into()).can_declare_tag("s1", "520102"));
        assert!(Role::Province.can_declare_tag("s1", "520102"));
        assert!(Role::Admin.can_declare_tag("s1", "520102"));
        assert!(!Role::Prefecture("520100".into()).can_declare_tag("s1", "520102"));
        assert!(!Role::Canteen("school".into()).can_declare_tag("s1", "520102"));
    }

    #[test]
    fn tags_are_reviewed_by_the_origin_county_or_the_province() {
        assert!(Role::County("520102".into()).can_review_tags_from("520102"));
        assert!(!Role::County("520103".into()).can_review_tags_from("520102"));
        assert!(Role::Province.can_review_tags_from("520102"));
        assert!(!Role::Prefecture("520100".into()).can_review_tags_from("520102"));
        assert!(!Role::Supplier("x".into()).can_review_tags_from("520102"));
    }
}

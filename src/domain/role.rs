//! Roles and their scope, as carried in tokens: `admin`, `province`, `prefecture:CODE`,
//! `county:CODE`, `canteen:SCHOOL_ID`, `supplier:SUPPLIER_ID`. What a role may see and do
//! is decided in one place, [`super::access`].

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
    fn a_role_is_its_name_and_its_scope() {
        let roles = [
            (Role::Admin, "admin", None),
            (Role::Province, "province", None),
            (Role::Prefecture("520100".into()), "prefecture", Some("520100")),
            (Role::County("520102".into()), "county", Some("520102")),
            (Role::Canteen("s1".into()), "canteen", Some("s1")),
            (Role::Supplier("x1".into()), "supplier", Some("x1")),
        ];
        for (role, name, scope) in roles {
            assert_eq!((role.name(), role.scope()), (name, scope));
        }
    }

    #[test]
    fn division_codes_are_six_ascii_digits() {
        assert!(is_division_code("520102"));
        for s in ["", "52010", "5201020", "52010a", "５２０１０２"] {
            assert!(!is_division_code(s), "{s}");
        }
    }
}

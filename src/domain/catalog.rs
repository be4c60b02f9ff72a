//! Closed vocabularies of the ledger: product categories, units (with mass conversion),
//! supplier kinds and supplier tags. Pure: no I/O.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::money::Quantity;

macro_rules! vocabulary {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:tt),+ $(,)? }) => {
        // `tt`, not `literal`: a `literal` fragment reaches derives wrapped in an invisible
        // group, and utoipa then ignores the `rename` (the OpenAPI enum would show the
        // Rust variant names instead of the wire spelling).
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
        pub enum $name { $(#[serde(rename = $text)] $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The stable wire and database spelling.
            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            /// Parses the wire/database spelling.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some(Self::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

vocabulary!(
    /// Product category of a purchase line.
    Category {
        Vegetables = "vegetables",
        Fruit = "fruit",
        Grain = "grain",
        MeatPoultry = "meat_poultry",
        Eggs = "eggs",
        Aquatic = "aquatic",
        Dairy = "dairy",
        EdibleOil = "edible_oil",
        SoyProducts = "soy_products",
        Condiments = "condiments",
        Other = "other",
    }
);

vocabulary!(
    /// Unit of a purchase line quantity. Mass units (`kg`, `g`, `t`, `jin` 斤 = 0.5 kg,
    /// `liang` 两 = 50 g) feed the share by weight.
    Unit {
        Kg = "kg",
        G = "g",
        T = "t",
        Jin = "jin",
        Liang = "liang",
        L = "L",
        Ml = "ml",
        Piece = "piece",
    }
);

vocabulary!(
    /// What kind of business a supplier is.
    SupplierKind {
        Household = "household",
        Cooperative = "cooperative",
        Enterprise = "enterprise",
        Other = "other",
    }
);

vocabulary!(
    /// A supplier tag that can make its purchases count toward the target.
    Tag {
        PoorHousehold = "poor_household",
        Cooperative = "cooperative",
        InProvinceProcessor = "in_province_processor",
    }
);

vocabulary!(
    /// Review status of a supplier tag.
    TagStatus {
        Declared = "declared",
        Verified = "verified",
        Revoked = "revoked",
    }
);

vocabulary!(
    /// What a ledger row is: an entry (a purchase) or the void that reverses one.
    EntryKind {
        Entry = "entry",
        Void = "void",
    }
);

vocabulary!(
    /// Stored qualification class of a ledger row (see `qualification::Qualification`).
    QualificationClass {
        Qualifying = "qualifying",
        Pending = "pending",
        None = "none",
    }
);

vocabulary!(
    /// The second party's word on a purchase, once given.
    ConfirmationState {
        Confirmed = "confirmed",
        Disputed = "disputed",
    }
);

vocabulary!(
    /// How a confirmation was given: the canteen confirmed the supplier's delivery, or the
    /// supplier acknowledged the canteen's entry.
    ConfirmationVia {
        Delivery = "delivery",
        Supplier = "supplier",
    }
);

vocabulary!(
    /// Where a supplier's delivery stands.
    DeliveryStatus {
        Pending = "pending",
        Confirmed = "confirmed",
        Disputed = "disputed",
    }
);

vocabulary!(
    /// Where one webhook delivery attempt series stands.
    WebhookDeliveryStatus {
        Pending = "pending",
        Delivered = "delivered",
        Failed = "failed",
    }
);

impl Unit {
    /// Grams per unit for mass units; `None` for volume and count units.
    pub const fn grams(self) -> Option<i64> {
        match self {
            Self::Kg => Some(1_000),
            Self::G => Some(1),
            Self::T => Some(1_000_000),
            Self::Jin => Some(500),
            Self::Liang => Some(50),
            Self::L | Self::Ml | Self::Piece => None,
        }
    }

    /// Mass of `quantity` of this unit in milligrams (exact: quantity is in thousandths),
    /// or `None` for non-mass units.
    pub fn milligrams(self, quantity: Quantity) -> Option<i64> {
        self.grams().and_then(|g| quantity.milli().checked_mul(g))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;
    use std::str::FromStr;

    fn qty(s: &str) -> Quantity {
        Quantity::parse(Decimal::from_str(s).unwrap()).unwrap()
    }

    #[test]
    fn jin_is_half_a_kilogram() {
        assert_eq!(Unit::Jin.milligrams(qty("2")), Unit::Kg.milligrams(qty("1")));
        assert_eq!(Unit::Jin.milligrams(qty("1")), Some(500_000));
    }

    #[test]
    fn liang_is_fifty_grams() {
        assert_eq!(Unit::Liang.milligrams(qty("1")), Some(50_000));
        assert_eq!(Unit::Liang.milligrams(qty("10")), Unit::Jin.milligrams(qty("1")));
    }

    #[test]
    fn grams_kilograms_and_tonnes_convert_exactly() {
        assert_eq!(Unit::G.milligrams(qty("0.001")), Some(1));
        assert_eq!(Unit::G.milligrams(qty("1500")), Unit::Kg.milligrams(qty("1.5")));
        assert_eq!(Unit::T.milligrams(qty("0.001")), Unit::Kg.milligrams(qty("1")));
        assert_eq!(Unit::T.milligrams(qty("1000000")), Some(1_000_000_000_000_000));
    }

    #[test]
    fn volume_and_pieces_have_no_mass() {
        for unit in [Unit::L, Unit::Ml, Unit::Piece] {
            assert_eq!(unit.milligrams(qty("3")), None, "{unit}");
        }
    }

    #[test]
    fn vocabularies_round_trip_their_spelling() {
        for c in Category::ALL {
            assert_eq!(Category::parse(c.as_str()), Some(*c));
        }
        for u in Unit::ALL {
            assert_eq!(Unit::parse(u.as_str()), Some(*u));
        }
        for t in Tag::ALL {
            assert_eq!(Tag::parse(t.as_str()), Some(*t));
        }
        fn round_trip<T: Copy + PartialEq + std::fmt::Debug>(all: &[T], text: fn(T) -> &'static str, parse: fn(&str) -> Option<T>) {
            for v in all {
                assert_eq!(parse(text(*v)), Some(*v), "{v:?}");
            }
            assert_eq!(parse("unknown"), None);
            assert_eq!(parse(""), None);
        }
        round_trip(SupplierKind::ALL, SupplierKind::as_str, SupplierKind::parse);
        round_trip(TagStatus::ALL, TagStatus::as_str, TagStatus::parse);
        round_trip(EntryKind::ALL, EntryKind::as_str, EntryKind::parse);
        round_trip(QualificationClass::ALL, QualificationClass::as_str, QualificationClass::parse);
        round_trip(ConfirmationState::ALL, ConfirmationState::as_str, ConfirmationState::parse);
        round_trip(ConfirmationVia::ALL, ConfirmationVia::as_str, ConfirmationVia::parse);
        round_trip(DeliveryStatus::ALL, DeliveryStatus::as_str, DeliveryStatus::parse);
        round_trip(WebhookDeliveryStatus::ALL, WebhookDeliveryStatus::as_str, WebhookDeliveryStatus::parse);
        assert_eq!(Category::ALL.len(), 11);
        assert_eq!(Unit::parse("KG"), None);
    }
}

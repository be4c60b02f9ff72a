//! Closed vocabularies of the ledger: product categories, units (with mass conversion),
//! supplier kinds and supplier tags, each value with its stable code and its Chinese label
//! (the one home of the labels the Chinese exports and the import template print). Pure: no I/O.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::money::Quantity;

macro_rules! vocabulary {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:tt / $zh:tt),+ $(,)? }) => {
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

            /// The Chinese label people read (spreadsheets, the template); programs use
            /// [`Self::as_str`].
            pub const fn zh(self) -> &'static str {
                match self { $(Self::$variant => $zh),+ }
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
        Vegetables = "vegetables" / "蔬菜",
        Fruit = "fruit" / "水果",
        Grain = "grain" / "粮食",
        MeatPoultry = "meat_poultry" / "肉禽",
        Eggs = "eggs" / "蛋类",
        Aquatic = "aquatic" / "水产",
        Dairy = "dairy" / "奶类",
        EdibleOil = "edible_oil" / "食用油",
        SoyProducts = "soy_products" / "豆制品",
        Condiments = "condiments" / "调味品",
        Other = "other" / "其他",
    }
);

vocabulary!(
    /// Unit of a purchase line quantity. Mass units (`kg`, `g`, `t`, `jin` 斤 = 0.5 kg,
    /// `liang` 两 = 50 g) feed the share by weight.
    Unit {
        Kg = "kg" / "千克",
        G = "g" / "克",
        T = "t" / "吨",
        Jin = "jin" / "斤",
        Liang = "liang" / "两",
        L = "L" / "升",
        Ml = "ml" / "毫升",
        Piece = "piece" / "个",
    }
);

vocabulary!(
    /// What kind of business a supplier is.
    SupplierKind {
        Household = "household" / "农户",
        Cooperative = "cooperative" / "合作社",
        Enterprise = "enterprise" / "企业",
        Other = "other" / "其他",
    }
);

vocabulary!(
    /// A supplier tag that can make its purchases count toward the target.
    Tag {
        PoorHousehold = "poor_household" / "建档立卡贫困户",
        Cooperative = "cooperative" / "农民专业合作社",
        InProvinceProcessor = "in_province_processor" / "省内农副产品加工企业",
    }
);

vocabulary!(
    /// Review status of a supplier tag.
    TagStatus {
        Declared = "declared" / "已申报",
        Verified = "verified" / "已核实",
        Revoked = "revoked" / "已撤销",
    }
);

vocabulary!(
    /// What a ledger row is: an entry (a purchase) or the void that reverses one.
    EntryKind {
        Entry = "entry" / "采购",
        Void = "void" / "作废",
    }
);

vocabulary!(
    /// Stored qualification class of a ledger row (see `qualification::Qualification`).
    QualificationClass {
        Qualifying = "qualifying" / "计入",
        Pending = "pending" / "待认定",
        None = "none" / "不计入",
    }
);

vocabulary!(
    /// The second party's word on a purchase, once given.
    ConfirmationState {
        Confirmed = "confirmed" / "已确认",
        Disputed = "disputed" / "有异议",
    }
);

vocabulary!(
    /// How a confirmation was given: the canteen confirmed the supplier's delivery, or the
    /// supplier acknowledged the canteen's entry.
    ConfirmationVia {
        Delivery = "delivery" / "送货确认",
        Supplier = "supplier" / "供应商确认",
    }
);

vocabulary!(
    /// Where a supplier's delivery stands.
    DeliveryStatus {
        Pending = "pending" / "待确认",
        Confirmed = "confirmed" / "已确认",
        Disputed = "disputed" / "有异议",
    }
);

vocabulary!(
    /// Where one webhook delivery attempt series stands.
    WebhookDeliveryStatus {
        Pending = "pending" / "待发送",
        Delivered = "delivered" / "已送达",
        Failed = "failed" / "失败",
    }
);

/// A yes/no answer as the Chinese exports print it: 是 or 否 (programs read `true`/`false`).
pub const fn yes_no(answer: bool) -> &'static str {
    if answer { "是" } else { "否" }
}

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

    #[test]
    fn every_value_has_its_own_chinese_label() {
        fn distinct<T: Copy + std::fmt::Debug>(all: &[T], zh: fn(T) -> &'static str) {
            let labels: std::collections::BTreeSet<&str> = all.iter().map(|v| zh(*v)).collect();
            assert_eq!(labels.len(), all.len(), "{all:?}");
            assert!(labels.iter().all(|l| !l.is_empty() && !l.is_ascii()), "{labels:?}");
        }
        distinct(Category::ALL, Category::zh);
        distinct(Unit::ALL, Unit::zh);
        distinct(SupplierKind::ALL, SupplierKind::zh);
        distinct(Tag::ALL, Tag::zh);
        distinct(TagStatus::ALL, TagStatus::zh);
        distinct(EntryKind::ALL, EntryKind::zh);
        distinct(QualificationClass::ALL, QualificationClass::zh);
        distinct(ConfirmationState::ALL, ConfirmationState::zh);
        distinct(ConfirmationVia::ALL, ConfirmationVia::zh);
        distinct(DeliveryStatus::ALL, DeliveryStatus::zh);
        distinct(WebhookDeliveryStatus::ALL, WebhookDeliveryStatus::zh);
        assert_eq!((Category::Vegetables.zh(), Tag::PoorHousehold.zh()), ("蔬菜", "建档立卡贫困户"));
        assert_eq!((yes_no(true), yes_no(false)), ("是", "否"));
    }
}

//! The closed vocabularies of `domain::catalog` as diesel column types: each is stored as
//! TEXT in its `as_str()` spelling (byte for byte what was stored before the columns were
//! typed, so the hash chain and existing rows are unchanged), on both backends.
//!
//! Reading a spelling the enum does not know is a deserialization error, never a default:
//! only the server writes these columns, so an unknown value is corruption and answers a
//! 500 with the cause logged (see `ApiError::Internal`).

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Text;
use diesel::sqlite::Sqlite;

use crate::db::MultiBackend;
use crate::domain::catalog::{
    Category, ConfirmationState, ConfirmationVia, DeliveryStatus, EntryKind, QualificationClass, SupplierKind, Tag, TagStatus, Unit,
    WebhookDeliveryStatus,
};

/// Decodes a stored spelling, refusing one the vocabulary does not know.
fn decode<T>(text: &str, parse: fn(&str) -> Option<T>, name: &str) -> deserialize::Result<T> {
    parse(text).ok_or_else(|| format!("unknown {name} {text:?} stored in the database").into())
}

macro_rules! text_columns {
    ($($ty:ident),+ $(,)?) => {$(
        const _: () = {
            /// Generates `AsExpression<Text>` and `Queryable` for the domain type without
            /// putting diesel into `domain/` (diesel's own `foreign_derive`).
            #[derive(diesel::AsExpression, diesel::FromSqlRow)]
            #[diesel(foreign_derive, sql_type = Text)]
            #[expect(dead_code, reason = "only the derives are used")]
            struct Proxy($ty);

            impl FromSql<Text, Pg> for $ty {
                fn from_sql(bytes: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                    let text = <String as FromSql<Text, Pg>>::from_sql(bytes)?;
                    decode(&text, $ty::parse, stringify!($ty))
                }
            }

            impl FromSql<Text, Sqlite> for $ty {
                fn from_sql(bytes: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                    let text = <String as FromSql<Text, Sqlite>>::from_sql(bytes)?;
                    decode(&text, $ty::parse, stringify!($ty))
                }
            }

            impl FromSql<Text, MultiBackend> for $ty {
                fn from_sql(bytes: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                    bytes.from_sql::<Self, Text>()
                }
            }

            impl ToSql<Text, Pg> for $ty {
                fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                    <str as ToSql<Text, Pg>>::to_sql(self.as_str(), out)
                }
            }

            impl ToSql<Text, Sqlite> for $ty {
                fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                    out.set_value(self.as_str());
                    Ok(IsNull::No)
                }
            }

            impl ToSql<Text, MultiBackend> for $ty {
                fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
                    out.set_value((Text, self));
                    Ok(IsNull::No)
                }
            }
        };
    )+};
}

/// The `tag` key column of `agg_facts`: a tag, or `''` where the class has none (the
/// column is part of the table's primary key, so it cannot be NULL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TagKey(pub Option<Tag>);

impl TagKey {
    /// Parses the stored spelling: `''` or a tag's.
    pub fn parse(text: &str) -> Option<Self> {
        if text.is_empty() { Some(Self(None)) } else { Tag::parse(text).map(|t| Self(Some(t))) }
    }

    /// The stored spelling.
    pub const fn as_str(self) -> &'static str {
        match self.0 {
            Some(t) => t.as_str(),
            None => "",
        }
    }
}

text_columns!(
    TagKey,
    Category,
    Unit,
    SupplierKind,
    Tag,
    TagStatus,
    EntryKind,
    QualificationClass,
    ConfirmationState,
    ConfirmationVia,
    DeliveryStatus,
    WebhookDeliveryStatus,
);

//! The figure columns of `agg_school`, written once: the domain's [`Figures`] (money and
//! mass) plus the purchase count. [`SchoolFigures`] is embedded in the bucket row
//! (`#[diesel(embed)]`), and the aggregate upsert's column list, `SET` clause and binds
//! are generated from [`SchoolFigures::COLUMNS`] and [`SchoolFigures::column_values`]: a new
//! figure is one name in the list below (and a migration).

use diesel::prelude::*;

use crate::db::schema::agg_school;
use crate::domain::figures::Figures;

/// Declares [`SchoolFigures`] from the one list of its columns: every field of the
/// domain's [`Figures`] (the conversions name each, so a field added there and not here
/// does not compile), then the purchase count.
macro_rules! school_figures {
    (figures: $($f:ident),+; count: $count:ident) => {
        /// The school-level figures of one bucket (or of a change to it), as stored.
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Insertable, Queryable, Selectable)]
        #[diesel(table_name = agg_school)]
        pub struct SchoolFigures {
            $(pub $f: i64,)+
            pub $count: i64,
        }

        impl SchoolFigures {
            /// The column names, in the order of [`Self::column_values`].
            pub const COLUMNS: [&'static str; COLUMN_COUNT] = [$(stringify!($f),)+ stringify!($count)];

            /// The stored form of `figures` with `purchases` purchases.
            pub fn new(figures: &Figures, $count: i64) -> Self {
                Self { $($f: figures.$f,)+ $count }
            }

            /// The domain's figures (everything but the purchase count).
            pub fn figures(&self) -> Figures {
                Figures { $($f: self.$f,)+ }
            }

            /// Every column's value, in the order of [`Self::COLUMNS`].
            pub fn column_values(&self) -> [i64; COLUMN_COUNT] {
                [$(self.$f,)+ self.$count]
            }

            /// The figures of `values`, in the order of [`Self::COLUMNS`].
            #[cfg(test)]
            fn from_column_values(values: [i64; COLUMN_COUNT]) -> Self {
                let [$($f,)+ $count] = values;
                Self { $($f,)+ $count }
            }

            pub fn add(&mut self, o: &Self) {
                $(self.$f += o.$f;)+
                self.$count += o.$count;
            }
        }

        const COLUMN_COUNT: usize = [$(stringify!($f),)+ stringify!($count)].len();
    };
}

school_figures!(
    figures: total_fen, qualifying_fen, pending_fen, total_mg, qualifying_mg, confirmed_fen, confirmed_qualifying_fen, paid_fen;
    count: purchases
);

#[cfg(test)]
mod tests {
    use super::*;

    /// Every column a different value: 1, 2, … in column order.
    fn distinct() -> SchoolFigures {
        SchoolFigures::from_column_values(std::array::from_fn(|i| i64::try_from(i).unwrap_or_default() + 1))
    }

    #[test]
    fn the_conversions_to_and_from_the_domain_are_lossless() {
        let s = distinct();
        assert_eq!(SchoolFigures::new(&s.figures(), s.purchases), s);
        assert_eq!((s.figures().total_fen, s.figures().paid_fen, s.purchases), (1, 8, 9));
        assert_eq!(SchoolFigures::new(&Figures::default(), 0), SchoolFigures::default());
    }

    #[test]
    fn every_column_is_named_once_with_its_value() {
        let named: Vec<(&str, i64)> = SchoolFigures::COLUMNS.into_iter().zip(distinct().column_values()).collect();
        assert_eq!(
            named,
            [
                ("total_fen", 1),
                ("qualifying_fen", 2),
                ("pending_fen", 3),
                ("total_mg", 4),
                ("qualifying_mg", 5),
                ("confirmed_fen", 6),
                ("confirmed_qualifying_fen", 7),
                ("paid_fen", 8),
                ("purchases", 9),
            ]
        );
    }

    #[test]
    fn add_sums_every_column() {
        let mut s = distinct();
        s.add(&distinct());
        assert_eq!(s.column_values(), [2, 4, 6, 8, 10, 12, 14, 16, 18]);
    }
}

//! Pure business rules: money, units, periods, qualification, shares, the purchase draft,
//! the ledger hash chain, roles and access (who may see and do what). No diesel, no
//! actix, no clock, no I/O; imports nothing from the rest of the crate (a test,
//! `tests/architecture.rs`, holds it to that). (Vocabularies derive serde/utoipa so the wire format and
//! the OpenAPI enums come from this single definition.)

pub mod access;
pub mod account;
pub mod catalog;
pub mod code;
pub mod division;
pub mod figures;
pub mod import;
pub mod language;
pub mod ledger;
pub mod money;
pub mod period;
pub mod purchase;
pub mod qualification;
pub mod report;
pub mod reporting;
pub mod role;
pub mod settlement;
pub mod shares;
pub mod submission;
pub mod text;
pub mod throttle;
pub mod webhook;

use rust_decimal::Decimal;

use code::Code;

/// A broken domain rule. `code()` is the stable `FieldError.code` clients switch on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("amount must not be negative")]
    NegativeAmount,
    #[error("at most {max_places} decimal places are allowed")]
    TooPrecise { max_places: u32 },
    #[error("value is too large")]
    Overflow,
    #[error("quantity must be greater than zero")]
    NonPositiveQuantity,
    #[error("amount disagrees with quantity × unit price by more than 0.01 (expected {expected})")]
    AmountMismatch { expected: Decimal },
    #[error("unknown period {0:?}: use YYYY, YYYY-Qn, YYYY-MM, YYYY-MM-H1, YYYY-MM-H2 or YYYY-spring")]
    BadPeriod(String),
    #[error("`from` must not be after `to`")]
    InvertedRange,
    #[error("at most {max} periods; use a larger period_kind")]
    TooManyPeriods { max: usize },
    #[error("target must be a fraction between 0 and 1 with a positive denominator")]
    BadTarget,
    #[error("purchase date is in the future")]
    DateInFuture,
    #[error("purchase date is before 2014-01-01, when the programme's records start")]
    DateTooEarly,
    #[error("a purchase needs at least one line")]
    NoLines,
    #[error("a purchase has at most {max} lines")]
    TooManyLines { max: usize },
    #[error("must not be blank")]
    Blank,
    #[error("validity must not end before it starts")]
    InvertedValidity,
    #[error("not a usable callback URL: {0}")]
    BadUrl(String),
    #[error("callbacks go to public addresses only: {0}")]
    NonPublicAddress(String),
    #[error("{0}")]
    BadEvents(String),
    #[error("the line amount rounds to 0.00: a line must cost at least 0.01")]
    ZeroAmount,
    #[error("must not contain control characters (U+0000–U+001F, U+007F–U+009F)")]
    ControlCharacter,
}

impl DomainError {
    pub fn code(&self) -> Code {
        match self {
            Self::NegativeAmount => Code::NegativeAmount,
            Self::TooPrecise { .. } => Code::TooPrecise,
            Self::Overflow => Code::TooLarge,
            Self::NonPositiveQuantity => Code::NonPositiveQuantity,
            Self::AmountMismatch { .. } => Code::AmountMismatch,
            Self::BadPeriod(_) => Code::BadPeriod,
            Self::InvertedRange => Code::InvertedRange,
            Self::TooManyPeriods { .. } => Code::TooManyPeriods,
            Self::BadTarget => Code::BadTarget,
            Self::DateInFuture => Code::DateInFuture,
            Self::DateTooEarly => Code::DateTooEarly,
            Self::NoLines => Code::NoLines,
            Self::TooManyLines { .. } => Code::TooManyLines,
            Self::Blank => Code::Blank,
            Self::InvertedValidity => Code::InvertedValidity,
            Self::BadUrl(_) => Code::BadUrl,
            Self::NonPublicAddress(_) => Code::NonPublicAddress,
            Self::BadEvents(_) => Code::BadEvents,
            Self::ZeroAmount => Code::ZeroAmount,
            Self::ControlCharacter => Code::ControlCharacter,
        }
    }
}

//! The closed catalogue of error codes clients can switch on: every `FieldError.code`
//! ([`Code`]) and every problem `type` slug ([`ProblemType`]). A new code is one new
//! variant here (and its row in the README's catalogue, which a test keeps in step). Pure.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

macro_rules! catalogue {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:tt : $meaning:literal),+ $(,)? }) => {
        // `tt` for the spelling, as in `catalog::vocabulary!`: utoipa must see the rename.
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
        pub enum $name { $(#[serde(rename = $text)] $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The stable wire spelling.
            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            /// What the code means, as the README's catalogue states it.
            pub const fn meaning(self) -> &'static str {
                match self { $(Self::$variant => $meaning),+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

catalogue!(
    /// Stable snake_case code of one offending field.
    Code {
        AmountMismatch = "amount_mismatch": "a line's amount disagrees with quantity × unit price by more than 0.01",
        BadCode = "bad_code": "not a 6-digit GB/T 2260 code",
        BadCount = "bad_count": "a batch holds 1 to the maximum number of items",
        BadCounty = "bad_county": "not a 6-digit county code",
        BadCursor = "bad_cursor": "a cursor this API did not issue",
        BadEncoding = "bad_encoding": "a CSV file neither UTF-8 nor GB18030",
        BadEvents = "bad_events": "unknown or repeated webhook event types",
        BadFile = "bad_file": "a file that cannot be read as the format it claims",
        BadFormat = "bad_format": "an unknown `format`",
        BadGroupBy = "bad_group_by": "an unknown report dimension",
        BadId = "bad_id": "an id outside 1 to 64 characters",
        BadKey = "bad_key": "an Idempotency-Key outside 8–128 characters of A–Z, a–z, 0–9, - and _",
        BadLength = "bad_length": "a text outside its allowed length",
        BadOrder = "bad_order": "an `order` other than asc or desc",
        BadOrderBy = "bad_order_by": "an unknown `order_by`",
        BadPeriod = "bad_period": "a period not in one of the period grammars",
        BadPeriodKind = "bad_period_kind": "an unknown `period_kind`",
        BadRole = "bad_role": "a role not in the role grammar",
        BadScope = "bad_scope": "a report scope not in the scope grammar",
        BadTarget = "bad_target": "a target that is not a fraction between 0 and 1",
        BadUnit = "bad_unit": "a reporting unit other than county:CODE or prefecture:CODE",
        BadUrl = "bad_url": "not a usable callback URL",
        BadUsername = "bad_username": "a username outside 3–64 characters of the allowed set",
        Blank = "blank": "a text that is empty or only white space",
        CellError = "cell_error": "an imported cell holding a spreadsheet error value",
        ConflictingGroupBy = "conflicting_group_by": "two dimensions of the same kind in `group_by`",
        ConflictingPeriod = "conflicting_period": "both `period` and `from`/`to`",
        ControlCharacter = "control_character": "a text holding a control character",
        DateInFuture = "date_in_future": "a date after today (China Standard Time)",
        DateTooEarly = "date_too_early": "a purchase date before 2014-01-01",
        Differs = "differs": "a field that differs from the request first sent with this Idempotency-Key",
        Duplicate = "duplicate": "an imported purchase already in the ledger",
        DuplicateColumn = "duplicate_column": "an import header naming a column twice",
        Empty = "empty": "a query parameter given but empty",
        ExceedsUnpaid = "exceeds_unpaid": "a payment larger than what is unpaid",
        FormulaNotAllowed = "formula_not_allowed": "an imported cell holding a formula",
        Invalid = "invalid": "an imported purchase that is invalid as a whole",
        InvalidDate = "invalid_date": "an imported cell that is not a date",
        InvalidNumber = "invalid_number": "an imported cell that is not a number",
        InvalidQuery = "invalid_query": "a query string that cannot be read",
        InvalidType = "invalid_type": "a JSON value of the wrong type",
        InvalidValue = "invalid_value": "a JSON value of the right type but not allowed",
        InvertedRange = "inverted_range": "`from` after `to`",
        InvertedValidity = "inverted_validity": "a validity that ends before it starts",
        MalformedJson = "malformed_json": "a body that is not valid JSON",
        MissingColumn = "missing_column": "an import header without a required column",
        MixedTargets = "mixed_targets": "a batch or import for more than one school",
        NeedsOrderBy = "needs_order_by": "`order` without `order_by`",
        NeedsPeriodGrouping = "needs_period_grouping": "`period_kind` without `group_by=period`",
        NeedsUnitRows = "needs_unit_rows": "`below_target` on tag or category rows",
        NegativeAmount = "negative_amount": "an amount below zero",
        NoLines = "no_lines": "a purchase without lines",
        NoRows = "no_rows": "an imported file without data rows",
        NonPositiveQuantity = "non_positive_quantity": "a quantity of zero or less",
        NonPublicAddress = "non_public_address": "a callback URL that resolves to a non-public address",
        NotHalfMonth = "not_half_month": "a period that is not a half-month",
        NotLinkable = "not_linkable": "a purchase that cannot be linked to the delivery",
        NotARevision = "not_a_revision": "a reason sent with a half-month's first submission",
        NotOpen = "not_open": "a half-month reported before its first day",
        NotPositive = "not_positive": "an amount that must be more than zero",
        OneOf = "one_of": "not exactly one of two alternatives given",
        OtherSchool = "other_school": "a purchase for another school than the path's",
        OutOfRange = "out_of_range": "a number outside its allowed range",
        OutsideCampaign = "outside_campaign": "a half-month before the reporting campaign's first",
        Required = "required": "a required field or header missing",
        Taken = "taken": "a username already in use",
        TooLarge = "too_large": "a value or body larger than allowed",
        TooLong = "too_long": "a text longer than allowed",
        TooManyErrors = "too_many_errors": "more errors than are listed",
        TooManyLines = "too_many_lines": "a purchase with more lines than allowed",
        TooManyPeriods = "too_many_periods": "a report over more periods than allowed",
        TooManyRows = "too_many_rows": "an imported file with more rows than allowed",
        TooPrecise = "too_precise": "more decimal places than allowed",
        TooShort = "too_short": "a password shorter than allowed",
        UnknownCategory = "unknown_category": "an imported category not in the vocabulary",
        UnknownCounty = "unknown_county": "no such county",
        UnknownField = "unknown_field": "a JSON field the operation does not take",
        UnknownSchool = "unknown_school": "no such school",
        UnknownScope = "unknown_scope": "a role's scope that does not exist",
        UnknownSupplier = "unknown_supplier": "no such supplier",
        UnknownUnit = "unknown_unit": "an imported unit not in the vocabulary",
        UnknownValue = "unknown_value": "a value not in the field's enumeration",
        Unreadable = "unreadable": "a body that could not be read",
        UnsupportedMediaType = "unsupported_media_type": "a Content-Type the operation does not take",
        ZeroAmount = "zero_amount": "a line amount that rounds to 0.00",
        ZipBomb = "zip_bomb": "an XLSX archive that inflates beyond the limits",
    }
);

catalogue!(
    /// Stable kebab-case slug of a problem `type` (`urn:canteen-ledger:problem:<slug>`).
    ProblemType {
        AlreadyDecided = "already-decided": "the purchase is already confirmed or disputed",
        AlreadyResolved = "already-resolved": "the delivery is already confirmed or disputed",
        AlreadyVoided = "already-voided": "the purchase has already been voided",
        AmountsDiffer = "amounts-differ": "the delivery's and the linked purchase's totals differ",
        BadRequest = "bad-request": "the request could not be read",
        Conflict = "conflict": "a resource with the same identity already exists",
        Forbidden = "forbidden": "the caller may not do this",
        HasPayments = "has-payments": "a purchase with payments cannot be voided",
        IdempotencyKeyReused = "idempotency-key-reused": "the Idempotency-Key was used with a different request",
        Internal = "internal": "the server failed (the cause is logged, not sent)",
        MethodNotAllowed = "method-not-allowed": "the path does not take this method",
        NotAnEntry = "not-an-entry": "a void entry cannot be confirmed or paid",
        NotEmpty = "not-empty": "the resource still has dependants",
        NotFound = "not-found": "no such resource in the caller's scope",
        NotVoidable = "not-voidable": "a void entry cannot itself be voided",
        PayloadTooLarge = "payload-too-large": "the body is larger than allowed",
        TagState = "tag-state": "the tag cannot move to that status from its current one",
        TooManyRequests = "too-many-requests": "too many failed logins; retry later",
        Unauthorized = "unauthorized": "missing or invalid credentials",
        Unavailable = "unavailable": "the database is busy; retry shortly",
        UsernameTaken = "username-taken": "the username is already in use",
        Validation = "validation": "one or more fields are invalid (see `errors`)",
        Voided = "voided": "the purchase has been voided",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_are_unique_and_in_their_case() {
        let mut codes: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
        assert!(codes.iter().all(|c| c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_')), "{codes:?}");
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), Code::ALL.len());
        let mut slugs: Vec<&str> = ProblemType::ALL.iter().map(|c| c.as_str()).collect();
        assert!(slugs.iter().all(|c| c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '-')), "{slugs:?}");
        slugs.sort_unstable();
        slugs.dedup();
        assert_eq!(slugs.len(), ProblemType::ALL.len());
    }

    #[test]
    fn the_wire_spelling_is_the_serde_spelling() {
        for c in Code::ALL {
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
            assert!(!c.meaning().is_empty());
        }
        for p in ProblemType::ALL {
            assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
        }
    }
}

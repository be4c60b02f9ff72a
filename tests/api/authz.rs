//! The authorization matrix: every documented route (health endpoints aside) × every kind
//! of caller, with the exact status of each cell (DESIGN §4, `auth::role`).
//!
//! The world: school OWN in 南明区 520102 (prefecture 贵阳 520100), school OTHER in 惠水县
//! 522731 (prefecture 黔南 522700); supplier OWN from 520102 and supplier OTHER from 522731;
//! purchases OWN school ← OWN supplier, OTHER school ← OTHER supplier and OWN school ←
//! OTHER supplier (so a supplier and a school do not coincide); a declared (unverified) tag
//! on supplier OWN. Columns are relative to it: `pref:OWN` is prefecture 520100,
//! `cnty:FOR` is county 522731, `cant:OWN` is the canteen of school OWN, `supp:OTH` is
//! supplier OTHER, `forged` is an admin token signed with another key.
//!
//! Rules: no or bad token → 401; a resource outside the caller's scope → 404; a list
//! filter or report scope outside it → 403; may read but not write → 403. A cell whose
//! success would change state gets its own fresh fixture (school, tag, purchase, token),
//! so no cell depends on another.

use std::collections::{BTreeSet, HashSet};

use actix_web::http::Method;
use canteen_ledger::app;
use canteen_ledger::auth::{JwtKeys, TokenKind};
use canteen_ledger::domain::role::Role;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{TestApp, TestDb, line};

both_backends!(every_route_answers_every_caller_with_the_intended_status, lists_show_each_caller_exactly_its_scope);

/// 南明区, in prefecture 贵阳市.
const OWN_COUNTY: &str = "520102";
const OWN_PREFECTURE: &str = "520100";
/// 惠水县, in prefecture 黔南州.
const OTHER_COUNTY: &str = "522731";
const OTHER_PREFECTURE: &str = "522700";
const DATE: &str = "2019-03-05";
const PASSWORD: &str = "a-long-password-1";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Anonymous,
    Forged,
    Admin,
    Province,
    PrefectureOwn,
    PrefectureForeign,
    CountyOwn,
    CountyForeign,
    CanteenOwn,
    CanteenOther,
    SupplierOwn,
    SupplierOther,
}

/// The columns of the matrix, in order.
const WHO: [Who; 12] = [
    Who::Anonymous,
    Who::Forged,
    Who::Admin,
    Who::Province,
    Who::PrefectureOwn,
    Who::PrefectureForeign,
    Who::CountyOwn,
    Who::CountyForeign,
    Who::CanteenOwn,
    Who::CanteenOther,
    Who::SupplierOwn,
    Who::SupplierOther,
];
const COLUMNS: [&str; 12] =
    ["none", "forged", "admin", "prov", "pref:OWN", "pref:FOR", "cnty:OWN", "cnty:FOR", "cant:OWN", "cant:OTH", "supp:OWN", "supp:OTH"];

/// One row of the matrix: a route, with the concrete request its cells send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Route {
    Login,
    Me,
    Prefectures,
    Counties,
    County,
    PutDesignations,
    ListSchools,
    ListSchoolsOfCounty,
    ListSchoolsOfPrefecture,
    CreateSchool,
    GetSchool,
    PatchSchool,
    VerifyLedger,
    ListSuppliers,
    GetSupplier,
    CreateSupplier,
    DeclareTag,
    VerifyTag,
    RevokeTag,
    VerifyOtherSuppliersTagViaOwnPath,
    CreatePurchase,
    BatchPurchases,
    PushDelivery,
    ListDeliveries,
    GetDelivery,
    ConfirmDelivery,
    DisputeDelivery,
    AcknowledgePurchase,
    DisputePurchase,
    RecordPayment,
    ListPayments,
    OverdueOfCounty,
    OverdueOfSupplier,
    ListPurchases,
    ListPurchasesOfSchool,
    ListPurchasesOfSupplier,
    GetPurchase,
    GetPurchaseFromOtherSupplier,
    VoidPurchase,
    CorrectPurchase,
    Import,
    ImportTemplate,
    ReportProvince,
    ReportPrefecture,
    ReportCounty,
    ExportReportCounty,
    ReportSchool,
    SilentSchools,
    ExportSilentSchools,
    SemiMonthly,
    ReportingCalendar,
    ReportingLines,
    PutReportingLine,
    SubmitCounty,
    SubmitPrefecture,
    ListSubmissions,
    GetSubmission,
    SubmissionWorkbook,
    SubmissionDrift,
    StatusProvince,
    StatusPrefecture,
    ExportStatusPrefecture,
    ListTargets,
    TargetHistory,
    PutTarget,
    LedgerCheck,
    CreateUser,
    RevokeSessions,
    Logout,
    MintToken,
    RevokeToken,
    CreateWebhook,
    ListWebhooks,
    DeleteWebhook,
    WebhookDeliveries,
}

impl Route {
    /// `METHOD /path` as the OpenAPI document names it.
    fn template(self) -> &'static str {
        match self {
            Self::Login => "POST /api/v1/auth/token",
            Self::Me => "GET /api/v1/me",
            Self::Prefectures => "GET /api/v1/prefectures",
            Self::Counties => "GET /api/v1/counties",
            Self::County => "GET /api/v1/counties/{code}",
            Self::PutDesignations => "PUT /api/v1/counties/{code}/designations",
            Self::ListSchools | Self::ListSchoolsOfCounty | Self::ListSchoolsOfPrefecture => "GET /api/v1/schools",
            Self::CreateSchool => "POST /api/v1/schools",
            Self::GetSchool => "GET /api/v1/schools/{id}",
            Self::PatchSchool => "PATCH /api/v1/schools/{id}",
            Self::VerifyLedger => "GET /api/v1/schools/{id}/ledger/verify",
            Self::ListSuppliers => "GET /api/v1/suppliers",
            Self::GetSupplier => "GET /api/v1/suppliers/{id}",
            Self::CreateSupplier => "POST /api/v1/suppliers",
            Self::DeclareTag => "POST /api/v1/suppliers/{id}/tags",
            Self::VerifyTag | Self::VerifyOtherSuppliersTagViaOwnPath => "POST /api/v1/suppliers/{id}/tags/{tag}/verify",
            Self::RevokeTag => "POST /api/v1/suppliers/{id}/tags/{tag}/revoke",
            Self::CreatePurchase => "POST /api/v1/purchases",
            Self::BatchPurchases => "POST /api/v1/purchases/batch",
            Self::PushDelivery => "POST /api/v1/deliveries",
            Self::ListDeliveries => "GET /api/v1/deliveries",
            Self::GetDelivery => "GET /api/v1/deliveries/{id}",
            Self::ConfirmDelivery => "POST /api/v1/deliveries/{id}/confirm",
            Self::DisputeDelivery => "POST /api/v1/deliveries/{id}/dispute",
            Self::AcknowledgePurchase => "POST /api/v1/purchases/{id}/acknowledge",
            Self::DisputePurchase => "POST /api/v1/purchases/{id}/dispute",
            Self::RecordPayment => "POST /api/v1/purchases/{id}/payments",
            Self::ListPayments => "GET /api/v1/purchases/{id}/payments",
            Self::OverdueOfCounty => "GET /api/v1/payments/overdue",
            Self::OverdueOfSupplier => "GET /api/v1/payments/overdue",
            Self::ListPurchases | Self::ListPurchasesOfSchool | Self::ListPurchasesOfSupplier => "GET /api/v1/purchases",
            Self::GetPurchase | Self::GetPurchaseFromOtherSupplier => "GET /api/v1/purchases/{id}",
            Self::VoidPurchase => "POST /api/v1/purchases/{id}/void",
            Self::CorrectPurchase => "POST /api/v1/purchases/{id}/correct",
            Self::Import => "POST /api/v1/imports",
            Self::ImportTemplate => "GET /api/v1/imports/template",
            Self::ReportProvince | Self::ReportPrefecture | Self::ReportCounty | Self::ReportSchool => "GET /api/v1/reports/shares",
            Self::SilentSchools => "GET /api/v1/reports/silent-schools",
            Self::ExportReportCounty => "GET /api/v1/reports/shares/export",
            Self::ExportSilentSchools => "GET /api/v1/reports/silent-schools/export",
            Self::ExportStatusPrefecture => "GET /api/v1/reporting/status/export",
            Self::SemiMonthly => "GET /api/v1/reports/semi-monthly",
            Self::ReportingCalendar => "GET /api/v1/reporting/calendar",
            Self::ReportingLines => "GET /api/v1/reporting/lines",
            Self::PutReportingLine => "PUT /api/v1/reporting/lines/{code}",
            Self::SubmitCounty | Self::SubmitPrefecture => "POST /api/v1/submissions",
            Self::ListSubmissions => "GET /api/v1/submissions",
            Self::GetSubmission => "GET /api/v1/submissions/{id}",
            Self::SubmissionWorkbook => "GET /api/v1/submissions/{id}/workbook",
            Self::SubmissionDrift => "GET /api/v1/submissions/{id}/drift",
            Self::StatusProvince | Self::StatusPrefecture => "GET /api/v1/reporting/status",
            Self::ListTargets => "GET /api/v1/targets",
            Self::TargetHistory => "GET /api/v1/targets/{year}/history",
            Self::PutTarget => "PUT /api/v1/targets/{year}",
            Self::LedgerCheck => "GET /api/v1/admin/ledger/check",
            Self::CreateUser => "POST /api/v1/users",
            Self::RevokeSessions => "POST /api/v1/users/{id}/sessions/revoke",
            Self::Logout => "POST /api/v1/auth/logout",
            Self::MintToken => "POST /api/v1/tokens",
            Self::RevokeToken => "POST /api/v1/tokens/{jti}/revoke",
            Self::CreateWebhook => "POST /api/v1/webhooks",
            Self::ListWebhooks => "GET /api/v1/webhooks",
            Self::DeleteWebhook => "DELETE /api/v1/webhooks/{id}",
            Self::WebhookDeliveries => "GET /api/v1/webhooks/{id}/deliveries",
        }
    }

    /// What the row's cells ask, in the table's own words.
    fn label(self) -> &'static str {
        match self {
            Self::Login => "POST /auth/token (valid login)",
            Self::Me => "GET /me",
            Self::Prefectures => "GET /prefectures",
            Self::Counties => "GET /counties",
            Self::County => "GET /counties/520102",
            Self::PutDesignations => "PUT /counties/520102/designations",
            Self::ListSchools => "GET /schools",
            Self::ListSchoolsOfCounty => "GET /schools?county=520102",
            Self::ListSchoolsOfPrefecture => "GET /schools?prefecture=520100",
            Self::CreateSchool => "POST /schools (county 520102)",
            Self::GetSchool => "GET /schools/OWN",
            Self::PatchSchool => "PATCH /schools/OWN (fresh)",
            Self::VerifyLedger => "GET /schools/OWN/ledger/verify",
            Self::ListSuppliers => "GET /suppliers",
            Self::GetSupplier => "GET /suppliers/OWN",
            Self::CreateSupplier => "POST /suppliers",
            Self::DeclareTag => "POST /suppliers/OWN/tags",
            Self::VerifyTag => "POST /suppliers/OWN/tags/T/verify (fresh)",
            Self::RevokeTag => "POST /suppliers/OWN/tags/T/revoke (fresh)",
            Self::VerifyOtherSuppliersTagViaOwnPath => "POST /suppliers/OWN/tags/T_of_OTHER/verify",
            Self::CreatePurchase => "POST /purchases (school OWN)",
            Self::BatchPurchases => "POST /purchases/batch (school OWN; another canteen's item fails with 403)",
            Self::PushDelivery => "POST /deliveries (supp OWN → school OWN; any supplier may deliver)",
            Self::ListDeliveries => "GET /deliveries",
            Self::GetDelivery => "GET /deliveries/D (OWN→OWN)",
            Self::ConfirmDelivery => "POST /deliveries/D/confirm (fresh)",
            Self::DisputeDelivery => "POST /deliveries/D/dispute (fresh)",
            Self::AcknowledgePurchase => "POST /purchases/P/acknowledge (fresh OWN←OWN)",
            Self::DisputePurchase => "POST /purchases/P/dispute (fresh OWN←OWN)",
            Self::RecordPayment => "POST /purchases/P/payments (fresh OWN←OWN)",
            Self::ListPayments => "GET /purchases/P/payments (OWN←OWN)",
            Self::OverdueOfCounty => "GET /payments/overdue?county=OWN",
            Self::OverdueOfSupplier => "GET /payments/overdue?supplier=OWN",
            Self::ListPurchases => "GET /purchases",
            Self::ListPurchasesOfSchool => "GET /purchases?school_id=OWN",
            Self::ListPurchasesOfSupplier => "GET /purchases?supplier_id=OWN",
            Self::GetPurchase => "GET /purchases/P (OWN←OWN)",
            Self::GetPurchaseFromOtherSupplier => "GET /purchases/P (OWN←OTHER)",
            Self::VoidPurchase => "POST /purchases/P/void (fresh)",
            Self::CorrectPurchase => "POST /purchases/P/correct (fresh)",
            Self::Import => "POST /imports (fresh CSV; into the caller's own school)",
            Self::ImportTemplate => "GET /imports/template",
            Self::ReportProvince => "GET /reports/shares?scope=province",
            Self::ReportPrefecture => "GET /reports/shares?scope=prefecture:520100",
            Self::ReportCounty => "GET /reports/shares?scope=county:520102",
            Self::ReportSchool => "GET /reports/shares?scope=school:OWN",
            Self::SilentSchools => "GET /reports/silent-schools?scope=county:520102",
            Self::ExportReportCounty => "GET /reports/shares/export?scope=county:520102&format=xlsx",
            Self::ExportSilentSchools => "GET /reports/silent-schools/export?scope=county:520102&format=csv",
            Self::ExportStatusPrefecture => "GET /reporting/status/export?scope=prefecture:OWN&format=xlsx",
            Self::SemiMonthly => "GET /reports/semi-monthly?county=520102",
            Self::ReportingCalendar => "GET /reporting/calendar?year=2019",
            Self::ReportingLines => "GET /reporting/lines",
            Self::PutReportingLine => "PUT /reporting/lines/520102",
            Self::SubmitCounty => "POST /submissions (county OWN, 2019-04-H1)",
            Self::SubmitPrefecture => "POST /submissions (prefecture OWN, 2019-03-H1)",
            Self::ListSubmissions => "GET /submissions",
            Self::GetSubmission => "GET /submissions/S (county OWN's)",
            Self::SubmissionWorkbook => "GET /submissions/S/workbook",
            Self::SubmissionDrift => "GET /submissions/S/drift",
            Self::StatusProvince => "GET /reporting/status?scope=province",
            Self::StatusPrefecture => "GET /reporting/status?scope=prefecture:OWN",
            Self::ListTargets => "GET /targets",
            Self::TargetHistory => "GET /targets/2019/history",
            Self::PutTarget => "PUT /targets/2019",
            Self::LedgerCheck => "GET /admin/ledger/check",
            Self::CreateUser => "POST /users",
            Self::RevokeSessions => "POST /users/U/sessions/revoke",
            Self::Logout => "POST /auth/logout (the caller's own session)",
            Self::MintToken => "POST /tokens",
            Self::RevokeToken => "POST /tokens/J/revoke (fresh)",
            Self::CreateWebhook => "POST /webhooks",
            Self::ListWebhooks => "GET /webhooks",
            Self::DeleteWebhook => "DELETE /webhooks/W (fresh, of supplier OWN)",
            Self::WebhookDeliveries => "GET /webhooks/W/deliveries (of supplier OWN)",
        }
    }
}

use Route::*;

/// The intended status of every cell.
#[rustfmt::skip]
const EXPECTED: &[(Route, [u16; 12])] = &[
    //                                        none forged admin prov pref  pref  cnty  cnty  cant  cant  supp  supp
    //                                                                OWN   FOR   OWN   FOR   OWN   OTH   OWN   OTH
    (Login,                                  [200,  200,  200,  200, 200,  200,  200,  200,  200,  200,  200,  200]),
    (Me,                                     [401,  401,  200,  200, 200,  200,  200,  200,  200,  200,  200,  200]),
    // Reference data: read by everyone signed in, written by the administrator.
    (Prefectures,                            [401,  401,  200,  200, 200,  200,  200,  200,  200,  200,  200,  200]),
    (Counties,                               [401,  401,  200,  200, 200,  200,  200,  200,  200,  200,  200,  200]),
    (County,                                 [401,  401,  200,  200, 200,  200,  200,  200,  200,  200,  200,  200]),
    (PutDesignations,                        [401,  401,  200,  403, 403,  403,  403,  403,  403,  403,  403,  403]),
    // Schools: read in scope (suppliers have none), written by admin and the school's county.
    (ListSchools,                            [401,  401,  200,  200, 200,  200,  200,  200,  200,  200,  403,  403]),
    (ListSchoolsOfCounty,                    [401,  401,  200,  200, 200,  403,  200,  403,  200,  403,  403,  403]),
    (ListSchoolsOfPrefecture,                [401,  401,  200,  200, 200,  403,  200,  403,  200,  403,  403,  403]),
    (CreateSchool,                           [401,  401,  201,  403, 403,  403,  201,  403,  403,  403,  403,  403]),
    (GetSchool,                              [401,  401,  200,  200, 200,  404,  200,  404,  200,  404,  404,  404]),
    (PatchSchool,                            [401,  401,  200,  403, 403,  404,  200,  404,  403,  404,  404,  404]),
    (VerifyLedger,                           [401,  401,  200,  200, 200,  404,  200,  404,  200,  404,  404,  404]),
    // Suppliers: read by everyone signed in; registered by bureaus below the prefecture and
    // canteens; tags declared by admin, province, the bureau of the origin county and the
    // supplier itself; verified or revoked by admin, province and that bureau only.
    (ListSuppliers,                          [401,  401,  200,  200, 200,  200,  200,  200,  200,  200,  200,  200]),
    (GetSupplier,                            [401,  401,  200,  200, 200,  200,  200,  200,  200,  200,  200,  200]),
    (CreateSupplier,                         [401,  401,  201,  201, 403,  403,  201,  201,  201,  201,  403,  403]),
    (DeclareTag,                             [401,  401,  201,  201, 403,  403,  201,  403,  403,  403,  201,  403]),
    (VerifyTag,                              [401,  401,  200,  200, 403,  403,  200,  403,  403,  403,  403,  403]),
    (RevokeTag,                              [401,  401,  200,  200, 403,  403,  200,  403,  403,  403,  403,  403]),
    (VerifyOtherSuppliersTagViaOwnPath,      [401,  401,  404,  404, 404,  404,  404,  404,  404,  404,  404,  404]),
    // The ledger: written by the school's canteen only; read in scope, a supplier reads
    // what was bought from it.
    (CreatePurchase,                         [401,  401,  403,  403, 403,  403,  403,  403,  201,  403,  403,  403]),
    (BatchPurchases,                         [401,  401,  403,  403, 403,  403,  403,  403,  200,  200,  403,  403]),
    // Deliveries, confirmation and payments: the supplier pushes and acknowledges, the canteen confirms and pays.
    (PushDelivery,                            [401,  401,  403,  403, 403,  403,  403,  403,  403,  403,  201,  201]),
    (ListDeliveries,                          [401,  401,  200,  200, 200,  200,  200,  200,  200,  200,  200,  200]),
    (GetDelivery,                             [401,  401,  200,  200, 200,  404,  200,  404,  200,  404,  200,  404]),
    (ConfirmDelivery,                         [401,  401,  403,  403, 403,  404,  403,  404,  200,  404,  403,  404]),
    (DisputeDelivery,                         [401,  401,  403,  403, 403,  404,  403,  404,  200,  404,  403,  404]),
    (AcknowledgePurchase,                     [401,  401,  403,  403, 403,  404,  403,  404,  403,  404,  200,  404]),
    (DisputePurchase,                         [401,  401,  403,  403, 403,  404,  403,  404,  403,  404,  200,  404]),
    (RecordPayment,                           [401,  401,  403,  403, 403,  404,  403,  404,  201,  404,  403,  404]),
    (ListPayments,                            [401,  401,  200,  200, 200,  404,  200,  404,  200,  404,  200,  404]),
    (OverdueOfCounty,                         [401,  401,  200,  200, 200,  403,  200,  403,  403,  403,  403,  403]),
    (OverdueOfSupplier,                       [401,  401,  200,  200, 403,  403,  403,  403,  403,  403,  200,  403]),
    (ListPurchases,                          [401,  401,  200,  200, 200,  200,  200,  200,  200,  200,  200,  200]),
    (ListPurchasesOfSchool,                  [401,  401,  200,  200, 200,  403,  200,  403,  200,  403,  200,  200]),
    (ListPurchasesOfSupplier,                [401,  401,  200,  200, 200,  200,  200,  200,  200,  200,  200,  403]),
    (GetPurchase,                            [401,  401,  200,  200, 200,  404,  200,  404,  200,  404,  200,  404]),
    (GetPurchaseFromOtherSupplier,           [401,  401,  200,  200, 200,  404,  200,  404,  200,  404,  404,  200]),
    (VoidPurchase,                           [401,  401,  403,  403, 403,  404,  403,  404,  201,  404,  403,  404]),
    (CorrectPurchase,                        [401,  401,  403,  403, 403,  404,  403,  404,  201,  404,  403,  404]),
    // Imports: a canteen imports into its own school (taken from its token); the template
    // is for everyone signed in.
    (Import,                                 [401,  401,  403,  403, 403,  403,  403,  403,  201,  201,  403,  403]),
    (ImportTemplate,                         [401,  401,  200,  200, 200,  200,  200,  200,  200,  200,  200,  200]),
    // Reports: a scope outside the caller's is a 403, except a school scope, which is a
    // resource and answers 404 to everyone but suppliers (who have no school scope at all).
    (ReportProvince,                         [401,  401,  200,  200, 403,  403,  403,  403,  403,  403,  403,  403]),
    (ReportPrefecture,                       [401,  401,  200,  200, 200,  403,  403,  403,  403,  403,  403,  403]),
    (ReportCounty,                           [401,  401,  200,  200, 200,  403,  200,  403,  403,  403,  403,  403]),
    (ReportSchool,                           [401,  401,  200,  200, 200,  404,  200,  404,  200,  404,  403,  403]),
    (SilentSchools,                          [401,  401,  200,  200, 200,  403,  200,  403,  403,  403,  403,  403]),
    // Files of the same reports: the same scopes.
    (ExportReportCounty,                     [401,  401,  200,  200, 200,  403,  200,  403,  403,  403,  403,  403]),
    (ExportSilentSchools,                    [401,  401,  200,  200, 200,  403,  200,  403,  403,  403,  403,  403]),
    (SemiMonthly,                            [401,  401,  200,  200, 200,  403,  200,  403,  403,  403,  403,  403]),
    // Targets: read by everyone signed in, set by the province (and the administrator).
    // The reporting calendar: the same for everyone signed in.
    (ReportingCalendar,                      [401,  401,  200,  200, 200,  200,  200,  200,  200,  200,  200,  200]),
    // Reporting lines: read by everyone signed in, recorded by the administrator.
    (ReportingLines,                         [401,  401,  200,  200, 200,  200,  200,  200,  200,  200,  200,  200]),
    (PutReportingLine,                       [401,  401,  200,  403, 403,  403,  403,  403,  403,  403,  403,  403]),
    // Submissions: made by the unit's own bureau only; read by the unit, its prefecture and
    // the province (a submission outside the scope is a 404; lists show what is in scope).
    (SubmitCounty,                           [401,  401,  403,  403, 403,  403,  201,  403,  403,  403,  403,  403]),
    (SubmitPrefecture,                       [401,  401,  403,  403, 201,  403,  403,  403,  403,  403,  403,  403]),
    (ListSubmissions,                        [401,  401,  200,  200, 200,  200,  200,  200,  200,  200,  200,  200]),
    (GetSubmission,                          [401,  401,  200,  200, 200,  404,  200,  404,  404,  404,  404,  404]),
    (SubmissionWorkbook,                     [401,  401,  200,  200, 200,  404,  200,  404,  404,  404,  404,  404]),
    (SubmissionDrift,                        [401,  401,  200,  200, 200,  404,  200,  404,  404,  404,  404,  404]),
    // Status lists: the province's for the province, a prefecture's for it and the province.
    (StatusProvince,                         [401,  401,  200,  200, 403,  403,  403,  403,  403,  403,  403,  403]),
    (StatusPrefecture,                       [401,  401,  200,  200, 200,  403,  403,  403,  403,  403,  403,  403]),
    (ExportStatusPrefecture,                 [401,  401,  200,  200, 200,  403,  403,  403,  403,  403,  403,  403]),
    (ListTargets,                            [401,  401,  200,  200, 200,  200,  200,  200,  200,  200,  200,  200]),
    (TargetHistory,                          [401,  401,  200,  200, 200,  200,  200,  200,  200,  200,  200,  200]),
    (PutTarget,                              [401,  401,  200,  200, 403,  403,  403,  403,  403,  403,  403,  403]),
    (LedgerCheck,                            [401,  401,  200,  403, 403,  403,  403,  403,  403,  403,  403,  403]),
    // Accounts and integration tokens: the administrator only.
    (CreateUser,                             [401,  401,  201,  403, 403,  403,  403,  403,  403,  403,  403,  403]),
    (RevokeSessions,                         [401,  401,  204,  403, 403,  403,  403,  403,  403,  403,  403,  403]),
    // Every signed-in caller may end its own session (the matrix's tokens are sessions).
    (Logout,                                 [401,  401,  204,  204, 204,  204,  204,  204,  204,  204,  204,  204]),
    (MintToken,                              [401,  401,  201,  403, 403,  403,  403,  403,  403,  403,  403,  403]),
    (RevokeToken,                            [401,  401,  204,  403, 403,  403,  403,  403,  403,  403,  403,  403]),
    // Webhooks: a supplier manages its own subscriptions (another's is not found); the
    // administrator may read them all.
    (CreateWebhook,                          [401,  401,  403,  403, 403,  403,  403,  403,  403,  403,  201,  201]),
    (ListWebhooks,                           [401,  401,  200,  403, 403,  403,  403,  403,  403,  403,  200,  200]),
    (DeleteWebhook,                          [401,  401,  403,  403, 403,  403,  403,  403,  403,  403,  204,  404]),
    (WebhookDeliveries,                      [401,  401,  200,  403, 403,  403,  403,  403,  403,  403,  200,  404]),
];

/// The fixed part of the world.
struct World {
    /// County OWN's submission for 2019-03-H1.
    submission: String,
    own_school: String,
    other_school: String,
    own_supplier: String,
    other_supplier: String,
    /// OWN school ← OWN supplier.
    p_own: String,
    /// OTHER school ← OTHER supplier.
    p_other: String,
    /// OWN school ← OTHER supplier.
    p_cross: String,
    /// A pending delivery OWN supplier → OWN school.
    d_own: String,
    /// A login whose password is known (for the public login row).
    login: Value,
    /// The id of the account `login` signs in to.
    login_user: String,
    /// County OWN's current designations, written back unchanged by the PUT row.
    designations: Value,
    /// A webhook subscription of supplier OWN.
    webhook: String,
}

fn lines() -> Value {
    json!([line("vegetables", "10", "kg", "2.5")])
}

async fn purchase(app: &TestApp, school: &str, supplier: &str) -> String {
    let r = app.purchase(school, supplier, DATE, lines()).await;
    r.expect(201);
    r.json["id"].as_str().expect("purchase id").to_owned()
}

/// A fresh pending delivery from supplier OWN to school OWN.
async fn delivery(app: &TestApp, w: &World) -> String {
    delivery_between(app, &w.own_supplier, &w.own_school).await
}

async fn delivery_between(app: &TestApp, supplier: &str, school: &str) -> String {
    let body = json!({"school_id": school, "delivery_date": DATE, "reference": "DN-1", "lines": lines()});
    let token = app.token(&Role::Supplier(supplier.to_owned()));
    let key = uuid::Uuid::new_v4().to_string();
    let r = app.send(Method::POST, "/api/v1/deliveries", Some(&token), Some(&body), &[("Idempotency-Key", &key)]).await;
    r.expect(201);
    r.json["id"].as_str().expect("delivery id").to_owned()
}

fn submission_body(unit: &str, period: &str) -> Value {
    json!({"unit": unit, "period": period, "progress": "进展", "experience": "", "difficulties": "", "measures": ""})
}

/// County OWN's submission for 2019-03-H1.
async fn submission(app: &TestApp) -> String {
    let token = app.token(&Role::County(OWN_COUNTY.into()));
    let key = uuid::Uuid::new_v4().to_string();
    let body = submission_body(&format!("county:{OWN_COUNTY}"), "2019-03-H1");
    let r = app.send(Method::POST, "/api/v1/submissions", Some(&token), Some(&body), &[("Idempotency-Key", &key)]).await;
    r.expect(201);
    r.json["id"].as_str().expect("submission id").to_owned()
}

/// Subscribes a webhook for `supplier` (never delivered here); returns its id.
async fn subscribe(app: &TestApp, supplier: &str) -> String {
    let r =
        app.post("/api/v1/webhooks", &app.token(&Role::Supplier(supplier.into())), &json!({"url": "https://erp.example.cn/hooks"})).await;
    r.expect(201);
    r.json["id"].as_str().expect("webhook id").to_owned()
}

impl World {
    async fn build(app: &TestApp) -> Self {
        let own_school = app.school(OWN_COUNTY, "OWN 小学").await;
        let other_school = app.school(OTHER_COUNTY, "OTHER 小学").await;
        let own_supplier = app.supplier(OWN_COUNTY, "cooperative").await;
        let other_supplier = app.supplier(OTHER_COUNTY, "cooperative").await;
        app.tag(&own_supplier, "poor_household", "2019-01-01", None, false).await;
        let p_own = purchase(app, &own_school, &own_supplier).await;
        let p_other = purchase(app, &other_school, &other_supplier).await;
        let p_cross = purchase(app, &own_school, &other_supplier).await;
        let login = json!({"username": "authz-login", "password": PASSWORD});
        let user =
            app.post("/api/v1/users", &app.admin(), &json!({"username": "authz-login", "password": PASSWORD, "role": "province"})).await;
        user.expect(201);
        let login_user = user.json["id"].as_str().expect("user id").to_owned();
        let county = app.get(&format!("/api/v1/counties/{OWN_COUNTY}"), &app.admin()).await;
        county.expect(200);
        let designations = county.json["designations"].clone();
        let webhook = subscribe(app, &own_supplier).await;
        let submission = submission(app).await;
        let mut world = Self {
            submission,
            own_school,
            other_school,
            own_supplier,
            other_supplier,
            p_own,
            p_other,
            p_cross,
            d_own: String::new(),
            login,
            login_user,
            designations,
            webhook,
        };
        world.d_own = delivery(app, &world).await;
        world
    }

    /// The token of a column; `own_school` is the school `cant:OWN` is the canteen of.
    fn token(&self, app: &TestApp, who: Who, own_school: &str) -> Option<String> {
        let role = match who {
            Who::Anonymous => return None,
            Who::Forged => {
                let keys = JwtKeys::hs256(b"not-the-server-secret-not-the-server-secret").expect("keys");
                let now = chrono::Utc::now().timestamp();
                return Some(keys.issue("forger", &Role::Admin, TokenKind::Session, "forged", now, 3600).expect("token"));
            }
            Who::Admin => Role::Admin,
            Who::Province => Role::Province,
            Who::PrefectureOwn => Role::Prefecture(OWN_PREFECTURE.into()),
            Who::PrefectureForeign => Role::Prefecture(OTHER_PREFECTURE.into()),
            Who::CountyOwn => Role::County(OWN_COUNTY.into()),
            Who::CountyForeign => Role::County(OTHER_COUNTY.into()),
            Who::CanteenOwn => Role::Canteen(own_school.into()),
            Who::CanteenOther => Role::Canteen(self.other_school.clone()),
            Who::SupplierOwn => Role::Supplier(self.own_supplier.clone()),
            Who::SupplierOther => Role::Supplier(self.other_supplier.clone()),
        };
        Some(app.token(&role))
    }
}

/// The request one cell sends.
struct Req {
    method: Method,
    path: String,
    body: Option<Value>,
    idempotency_key: Option<String>,
    /// A fresh school standing in for OWN (and whose canteen `cant:OWN` is).
    own_school: Option<String>,
    /// A raw body and its Content-Type, instead of JSON (file uploads).
    raw: Option<(&'static str, Vec<u8>)>,
}

fn get(path: String) -> Req {
    Req { method: Method::GET, path, body: None, idempotency_key: None, own_school: None, raw: None }
}

fn post(path: String, body: Value) -> Req {
    Req { method: Method::POST, path, body: Some(body), idempotency_key: None, own_school: None, raw: None }
}

fn report(scope: &str) -> Req {
    get(format!("/api/v1/reports/shares?scope={scope}&period=2019-03"))
}

/// Builds the request of one cell, with a fresh fixture where a success changes state.
async fn prepare(app: &TestApp, w: &World, route: Route) -> Req {
    let fresh_tag = |supplier: String| async move { app.tag(&supplier, "poor_household", "2019-01-01", None, false).await };
    match route {
        Login => post("/api/v1/auth/token".into(), w.login.clone()),
        Me => get("/api/v1/me".into()),
        Prefectures => get("/api/v1/prefectures".into()),
        Counties => get("/api/v1/counties".into()),
        County => get(format!("/api/v1/counties/{OWN_COUNTY}")),
        PutDesignations => Req {
            method: Method::PUT,
            ..post(format!("/api/v1/counties/{OWN_COUNTY}/designations"), json!({"designations": w.designations}))
        },
        ListSchools => get("/api/v1/schools".into()),
        ListSchoolsOfCounty => get(format!("/api/v1/schools?county={OWN_COUNTY}")),
        ListSchoolsOfPrefecture => get(format!("/api/v1/schools?prefecture={OWN_PREFECTURE}")),
        CreateSchool => post("/api/v1/schools".into(), json!({"county_code": OWN_COUNTY, "name": "新学校"})),
        GetSchool => get(format!("/api/v1/schools/{}", w.own_school)),
        PatchSchool => {
            let school = app.school(OWN_COUNTY, "to be edited").await;
            Req {
                method: Method::PATCH,
                own_school: Some(school.clone()),
                ..post(format!("/api/v1/schools/{school}"), json!({"students": 321}))
            }
        }
        VerifyLedger => get(format!("/api/v1/schools/{}/ledger/verify", w.own_school)),
        ListSuppliers => get("/api/v1/suppliers".into()),
        GetSupplier => get(format!("/api/v1/suppliers/{}", w.own_supplier)),
        CreateSupplier => post(
            "/api/v1/suppliers".into(),
            json!({"name": "新合作社", "kind": "cooperative", "origin_county_code": OWN_COUNTY, "registration_ref": "REG-2"}),
        ),
        DeclareTag => post(
            format!("/api/v1/suppliers/{}/tags", w.own_supplier),
            json!({"tag": "cooperative", "valid_from": "2019-01-01", "evidence": "EV-2"}),
        ),
        VerifyTag => {
            let tag = fresh_tag(w.own_supplier.clone()).await;
            post(format!("/api/v1/suppliers/{}/tags/{tag}/verify", w.own_supplier), json!({}))
        }
        RevokeTag => {
            let tag = fresh_tag(w.own_supplier.clone()).await;
            post(format!("/api/v1/suppliers/{}/tags/{tag}/revoke", w.own_supplier), json!({"reason": "household left the register"}))
        }
        VerifyOtherSuppliersTagViaOwnPath => {
            let tag = fresh_tag(w.other_supplier.clone()).await;
            post(format!("/api/v1/suppliers/{}/tags/{tag}/verify", w.own_supplier), json!({}))
        }
        CreatePurchase => Req {
            idempotency_key: Some(uuid::Uuid::new_v4().to_string()),
            ..post(
                "/api/v1/purchases".into(),
                json!({"school_id": w.own_school, "supplier_id": w.own_supplier, "purchase_date": DATE, "lines": lines()}),
            )
        },
        BatchPurchases => post(
            "/api/v1/purchases/batch".into(),
            json!({"items": [{"idempotency_key": uuid::Uuid::new_v4().to_string(), "purchase":
                {"school_id": w.own_school, "supplier_id": w.own_supplier, "purchase_date": DATE, "lines": lines()}}]}),
        ),
        PushDelivery => Req {
            idempotency_key: Some(uuid::Uuid::new_v4().to_string()),
            ..post(
                "/api/v1/deliveries".into(),
                json!({"school_id": w.own_school, "delivery_date": DATE, "reference": "DN-1", "lines": lines()}),
            )
        },
        ListDeliveries => get("/api/v1/deliveries".into()),
        GetDelivery => get(format!("/api/v1/deliveries/{}", w.d_own)),
        ConfirmDelivery => post(format!("/api/v1/deliveries/{}/confirm", delivery(app, w).await), json!({})),
        DisputeDelivery => post(format!("/api/v1/deliveries/{}/dispute", delivery(app, w).await), json!({"reason": "short"})),
        AcknowledgePurchase => {
            post(format!("/api/v1/purchases/{}/acknowledge", purchase(app, &w.own_school, &w.own_supplier).await), json!({}))
        }
        DisputePurchase => post(
            format!("/api/v1/purchases/{}/dispute", purchase(app, &w.own_school, &w.own_supplier).await),
            json!({"reason": "never delivered"}),
        ),
        RecordPayment => post(
            format!("/api/v1/purchases/{}/payments", purchase(app, &w.own_school, &w.own_supplier).await),
            json!({"paid_on": DATE, "amount": "1.00", "reference": "BANK-1"}),
        ),
        ListPayments => get(format!("/api/v1/purchases/{}/payments", w.p_own)),
        OverdueOfCounty => get(format!("/api/v1/payments/overdue?county={OWN_COUNTY}")),
        OverdueOfSupplier => get(format!("/api/v1/payments/overdue?supplier={}", w.own_supplier)),
        Import => {
            // A fresh invoice number per cell: the same bytes twice would be a replay.
            let file = format!(
                "purchase_date,supplier_id,invoice_no,category,description,quantity,unit,unit_price\n{DATE},{},{},vegetables,白菜,10,kg,2.5\n",
                w.own_supplier,
                uuid::Uuid::new_v4().simple()
            );
            Req { method: Method::POST, raw: Some(("text/csv", file.into_bytes())), ..get("/api/v1/imports".into()) }
        }
        ImportTemplate => get("/api/v1/imports/template".into()),
        ListPurchases => get("/api/v1/purchases".into()),
        ListPurchasesOfSchool => get(format!("/api/v1/purchases?school_id={}", w.own_school)),
        ListPurchasesOfSupplier => get(format!("/api/v1/purchases?supplier_id={}", w.own_supplier)),
        GetPurchase => get(format!("/api/v1/purchases/{}", w.p_own)),
        GetPurchaseFromOtherSupplier => get(format!("/api/v1/purchases/{}", w.p_cross)),
        VoidPurchase => {
            let p = purchase(app, &w.own_school, &w.own_supplier).await;
            post(format!("/api/v1/purchases/{p}/void"), json!({"reason": "entered twice"}))
        }
        CorrectPurchase => {
            let p = purchase(app, &w.own_school, &w.own_supplier).await;
            Req {
                idempotency_key: Some(uuid::Uuid::new_v4().to_string()),
                ..post(
                    format!("/api/v1/purchases/{p}/correct"),
                    json!({"reason": "wrong quantity", "purchase":
                        {"school_id": w.own_school, "supplier_id": w.own_supplier, "purchase_date": DATE, "lines": lines()}}),
                )
            }
        }
        ReportProvince => report("province"),
        ReportPrefecture => report(&format!("prefecture:{OWN_PREFECTURE}")),
        ReportCounty => report(&format!("county:{OWN_COUNTY}")),
        ReportSchool => report(&format!("school:{}", w.own_school)),
        SilentSchools => get(format!("/api/v1/reports/silent-schools?scope=county:{OWN_COUNTY}&period=2019-03")),
        ExportReportCounty => get(format!("/api/v1/reports/shares/export?scope=county:{OWN_COUNTY}&period=2019-03&format=xlsx")),
        ExportSilentSchools => get(format!("/api/v1/reports/silent-schools/export?scope=county:{OWN_COUNTY}&period=2019-03&format=csv")),
        SemiMonthly => get(format!("/api/v1/reports/semi-monthly?county={OWN_COUNTY}&period=2019-03-H1")),
        ReportingCalendar => get("/api/v1/reporting/calendar?year=2019".into()),
        ReportingLines => get("/api/v1/reporting/lines".into()),
        PutReportingLine => Req {
            method: Method::PUT,
            ..post(format!("/api/v1/reporting/lines/{OWN_COUNTY}"), json!({"reports_to": "prefecture", "source": "authz matrix"}))
        },
        SubmitCounty => Req {
            idempotency_key: Some(uuid::Uuid::new_v4().to_string()),
            ..post("/api/v1/submissions".into(), submission_body(&format!("county:{OWN_COUNTY}"), "2019-04-H1"))
        },
        SubmitPrefecture => Req {
            idempotency_key: Some(uuid::Uuid::new_v4().to_string()),
            ..post("/api/v1/submissions".into(), submission_body(&format!("prefecture:{OWN_PREFECTURE}"), "2019-03-H1"))
        },
        ListSubmissions => get("/api/v1/submissions".into()),
        GetSubmission => get(format!("/api/v1/submissions/{}", w.submission)),
        SubmissionWorkbook => get(format!("/api/v1/submissions/{}/workbook", w.submission)),
        SubmissionDrift => get(format!("/api/v1/submissions/{}/drift", w.submission)),
        StatusProvince => get("/api/v1/reporting/status?period=2019-03-H1&scope=province".into()),
        StatusPrefecture => get(format!("/api/v1/reporting/status?period=2019-03-H1&scope=prefecture:{OWN_PREFECTURE}")),
        ExportStatusPrefecture => {
            get(format!("/api/v1/reporting/status/export?period=2019-03-H1&scope=prefecture:{OWN_PREFECTURE}&format=xlsx"))
        }
        ListTargets => get("/api/v1/targets".into()),
        TargetHistory => get("/api/v1/targets/2019/history".into()),
        PutTarget => Req { method: Method::PUT, ..post("/api/v1/targets/2019".into(), json!({"numerator": 1, "denominator": 2})) },
        LedgerCheck => get("/api/v1/admin/ledger/check".into()),
        CreateUser => post(
            "/api/v1/users".into(),
            json!({"username": format!("u-{}", uuid::Uuid::new_v4().simple()), "password": PASSWORD, "role": format!("county:{OWN_COUNTY}")}),
        ),
        RevokeSessions => post(format!("/api/v1/users/{}/sessions/revoke", w.login_user), json!({})),
        Logout => post("/api/v1/auth/logout".into(), json!({})),
        MintToken => {
            post("/api/v1/tokens".into(), json!({"role": format!("canteen:{}", w.own_school), "label": "kitchen tablet", "days": 30}))
        }
        RevokeToken => {
            let r = app.post("/api/v1/tokens", &app.admin(), &json!({"role": "province", "label": "to revoke"})).await;
            r.expect(201);
            post(format!("/api/v1/tokens/{}/revoke", r.json["jti"].as_str().expect("jti")), json!({}))
        }
        CreateWebhook => post("/api/v1/webhooks".into(), json!({"url": "https://erp.example.cn/hooks", "events": ["purchase.recorded"]})),
        ListWebhooks => get("/api/v1/webhooks".into()),
        DeleteWebhook => {
            let id = subscribe(app, &w.own_supplier).await;
            Req { method: Method::DELETE, ..get(format!("/api/v1/webhooks/{id}")) }
        }
        WebhookDeliveries => get(format!("/api/v1/webhooks/{}/deliveries", w.webhook)),
    }
}

fn render(rows: &[(Route, [u16; 12])]) -> String {
    let width = rows.iter().map(|(r, _)| r.label().chars().count()).max().unwrap_or(0);
    let mut out = format!("{:width$} ", "");
    for c in COLUMNS {
        out += &format!(" {c:>8}");
    }
    out.push('\n');
    for (route, statuses) in rows {
        out += &format!("{:width$} ", route.label());
        for s in statuses {
            out += &format!(" {s:>8}");
        }
        out.push('\n');
    }
    out
}

async fn every_route_answers_every_caller_with_the_intended_status(db: TestDb) {
    // Every documented operation (health endpoints aside) has at least one row.
    let doc = serde_json::to_value(app::document()).expect("document");
    let documented: BTreeSet<String> = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .filter(|(path, _)| !["/healthz", "/readyz", "/metrics"].contains(&path.as_str()))
        .flat_map(|(path, item)| item.as_object().expect("path item").keys().map(move |m| format!("{} {path}", m.to_uppercase())))
        .collect();
    let covered: BTreeSet<String> = EXPECTED.iter().map(|(r, _)| r.template().to_owned()).collect();
    assert_eq!(covered, documented, "the matrix must have a row for every documented route, and only those");
    let routes: HashSet<Route> = EXPECTED.iter().map(|(r, _)| *r).collect();
    assert_eq!(routes.len(), EXPECTED.len(), "each row once");

    let app = TestApp::new(db).await;
    let w = World::build(&app).await;
    let mut actual = Vec::new();
    let mut failures = Vec::new();
    for (route, expected) in EXPECTED {
        let mut row = [0_u16; 12];
        for (i, who) in WHO.iter().enumerate() {
            let req = prepare(&app, &w, *route).await;
            let token = w.token(&app, *who, req.own_school.as_deref().unwrap_or(&w.own_school));
            let headers: Vec<(&str, &str)> = req.idempotency_key.iter().map(|k| ("Idempotency-Key", k.as_str())).collect();
            let r = match &req.raw {
                Some((content_type, bytes)) => {
                    app.send_bytes(req.method.clone(), &req.path, token.as_deref(), content_type, bytes.clone()).await
                }
                None => app.send(req.method.clone(), &req.path, token.as_deref(), req.body.as_ref(), &headers).await,
            };
            let status = r.status.as_u16();
            row[i] = status;
            let cell = format!("{} {} as {}", req.method, req.path, COLUMNS[i]);
            if status != expected[i] {
                failures.push(format!("{cell}: expected {}, got {status}: {}", expected[i], r.text));
            } else if status >= 400 && r.header("content-type") != Some("application/problem+json") {
                failures.push(format!("{cell}: {status} is not problem+json: {:?} {}", r.header("content-type"), r.text));
            } else if status == 401 && r.header("www-authenticate") != Some("Bearer") {
                failures.push(format!("{cell}: 401 without WWW-Authenticate: Bearer"));
            }
        }
        actual.push((*route, row));
    }
    assert!(
        failures.is_empty(),
        "{} cell(s) of the authorization matrix differ:\n{}\n\nactual matrix:\n{}",
        failures.len(),
        failures.join("\n"),
        render(&actual)
    );
}

/// Which of the world's entries each signed-in column sees in the lists (`Y`/`-`).
#[rustfmt::skip]
const VISIBLE: &[(&str, [char; 10])] = &[
    //                                        admin prov pref  pref  cnty  cnty  cant  cant  supp  supp
    //                                                   OWN   FOR   OWN   FOR   OWN   OTH   OWN   OTH
    ("purchase OWN school ← OWN supplier",     ['Y', 'Y', 'Y', '-', 'Y', '-', 'Y', '-', 'Y', '-']),
    ("purchase OTHER school ← OTHER supplier", ['Y', 'Y', '-', 'Y', '-', 'Y', '-', 'Y', '-', 'Y']),
    ("purchase OWN school ← OTHER supplier",   ['Y', 'Y', 'Y', '-', 'Y', '-', 'Y', '-', '-', 'Y']),
    ("school OWN",                             ['Y', 'Y', 'Y', '-', 'Y', '-', 'Y', '-', '-', '-']),
    ("school OTHER",                           ['Y', 'Y', '-', 'Y', '-', 'Y', '-', 'Y', '-', '-']),
    ("delivery OWN supplier → OWN school",     ['Y', 'Y', 'Y', '-', 'Y', '-', 'Y', '-', 'Y', '-']),
    ("delivery OTHER supplier → OTHER school", ['Y', 'Y', '-', 'Y', '-', 'Y', '-', 'Y', '-', 'Y']),
];

async fn ids(app: &TestApp, path: &str, token: &str) -> HashSet<String> {
    let r = app.get(path, token).await;
    if r.status.as_u16() == 403 {
        return HashSet::new();
    }
    r.expect(200);
    assert!(r.json.get("next_cursor").is_none(), "one page holds the whole world");
    r.json["items"].as_array().expect("items").iter().map(|i| i["id"].as_str().expect("id").to_owned()).collect()
}

async fn lists_show_each_caller_exactly_its_scope(db: TestDb) {
    let app = TestApp::new(db).await;
    let w = World::build(&app).await;
    let d_other = delivery_between(&app, &w.other_supplier, &w.other_school).await;
    let entries = [&w.p_own, &w.p_other, &w.p_cross, &w.own_school, &w.other_school, &w.d_own, &d_other];
    let mut failures = Vec::new();
    for (i, who) in WHO[2..].iter().enumerate() {
        let token = w.token(&app, *who, &w.own_school).expect("signed in");
        let mut seen = ids(&app, "/api/v1/purchases?limit=500", &token).await;
        seen.extend(ids(&app, "/api/v1/schools?limit=500", &token).await);
        seen.extend(ids(&app, "/api/v1/deliveries?limit=500", &token).await);
        for ((label, expected), id) in VISIBLE.iter().zip(entries) {
            let got = if seen.contains(id.as_str()) { 'Y' } else { '-' };
            if got != expected[i] {
                failures.push(format!("{label} as {}: expected {}, got {got}", COLUMNS[i + 2], expected[i]));
            }
        }
    }
    assert!(failures.is_empty(), "lists leak or hide entries:\n{}", failures.join("\n"));
}

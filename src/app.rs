//! Builds the actix `App` (used by `main` and by the tests) and the OpenAPI document. The
//! state it serves, [`AppState`], is the HTTP layer's (`http::state`).

use std::sync::{Arc, OnceLock};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{App, web};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::http::state::AppState;
use crate::http::{self, fallback};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::builder().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "canteen-ledger",
        description = "Procurement ledger of school canteens in Guizhou's school–farm linkage programme (校农结合), \
                       and the share of canteen food bought from poverty-area suppliers against the 50% target.\n\n\
                       Money is exact: amounts are decimal strings in yuan (2 places; unit prices 4). \
                       Errors are RFC 9457 `application/problem+json` with a stable `type` URI.\n\n\
                       **Webhooks.** A supplier integration registers a callback (`POST /api/v1/webhooks`) and \
                       receives `purchase.recorded` and `purchase.voided` events about purchases recorded against \
                       it. Each event is POSTed as JSON `{id, type, created_at, data}` with the headers \
                       `Webhook-Id` (the event id: the same on every retry, de-duplicate on it), \
                       `Webhook-Timestamp` (Unix seconds) and `Webhook-Signature: sha256=<hex>`, where `<hex>` is \
                       the lowercase hex HMAC-SHA256, keyed with the subscription's `secret` (its UTF-8 bytes, as \
                       shown once at creation), of `<Webhook-Timestamp>.<raw request body>`. Delivery is \
                       at-least-once: any answer but a 2xx, a connection error or a 5 s timeout is retried after \
                       10 s × 2^(attempt−1), at most 1 h apart; after 15 attempts the delivery is marked `failed`. \
                       The delivery log is `GET /api/v1/webhooks/{id}/deliveries`.",
        license(name = "MIT", identifier = "MIT")
    ),
    servers((url = "/", description = "The server this document is served by")),
    modifiers(&BearerAuth),
    // Closed sets of query values, referred to by the parameters that take them.
    components(schemas(
        http::reports::PeriodKindParam,
        http::reports::OrderByParam,
        http::reports::SortOrderParam,
        http::export::ExportFormat,
        http::imports::TemplateFormat
    )),
    tags(
        (name = "auth", description = "Login, identity, accounts and integration tokens"),
        (name = "reference", description = "Prefectures, counties and poverty designations"),
        (name = "schools", description = "School canteens and their ledger chains"),
        (name = "suppliers", description = "Suppliers and their tags"),
        (name = "purchases", description = "The append-only purchase ledger"),
        (name = "deliveries", description = "Deliveries pushed by suppliers, confirmed or disputed by canteens"),
        (name = "settlement", description = "Supplier acknowledgement of purchases, payments and overdue lists"),
        (name = "imports", description = "Spreadsheet (CSV/XLSX) import of purchases, all or nothing"),
        (name = "reports", description = "Shares against the target"),
        (name = "reporting", description = "The half-monthly reporting cycle: deadlines, reporting lines, submissions, drift and the status lists"),
        (name = "webhooks", description = "Callbacks to supplier integrations about purchases recorded against them"),
        (name = "admin", description = "Consistency checks"),
        (name = "health", description = "Liveness, readiness, metrics"),
    )
)]
pub struct ApiDoc;

/// The application and its OpenAPI document.
pub fn build(
    state: web::Data<AppState>,
) -> (
    App<
        impl ServiceFactory<ServiceRequest, Config = (), Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error, InitError = ()>,
    >,
    utoipa::openapi::OpenApi,
) {
    let routes: fallback::RouteTable = Arc::new(OnceLock::new());
    let state_origins = state.cors_origins.clone();
    let app = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .app_data(state)
        .app_data(http::query_config())
        .app_data(http::path_config())
        .app_data(web::Data::new(routes.clone()));
    let (app, mut doc) = mount(app).split_for_parts();
    http::responses::document_common_statuses(&mut doc);
    let _ = routes.set(fallback::table_from(&doc));
    let _ = crate::telemetry::recorder();
    let cors = http::observe::cors(&state_origins);
    let app = app
        .wrap(actix_web::middleware::from_fn(http::refuse_control_paths))
        .wrap(actix_web::middleware::from_fn(fallback::reject_unlisted_methods))
        .wrap(actix_web::middleware::from_fn(http::observe::caching))
        .wrap(actix_web::middleware::Condition::new(!state_origins.is_empty(), cors))
        .wrap(actix_web::middleware::Compress::default())
        .wrap(actix_web::middleware::from_fn(http::observe::observe))
        .service(SwaggerUi::new("/docs/{_:.*}").url("/api-docs/openapi.json", doc.clone()))
        .default_service(web::to(fallback::not_routed));
    (app, doc)
}

/// Every `/api/v1` route. Registered with `.service(..)` only, so each appears in the
/// OpenAPI document.
fn mount<T>(app: utoipa_actix_web::UtoipaApp<T>) -> utoipa_actix_web::UtoipaApp<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    app.service(
        utoipa_actix_web::scope("/api/v1")
            .configure(http::accounts::configure)
            .configure(http::admin::configure)
            .configure(http::reference::configure)
            .configure(http::schools::configure)
            .configure(http::suppliers::configure)
            .configure(http::batch::configure)
            .configure(http::deliveries::configure)
            .configure(http::settlement::configure)
            .configure(http::purchases::configure)
            .configure(http::imports::configure)
            .configure(http::reports::configure)
            .configure(http::reporting::configure)
            .configure(http::submissions::configure)
            .configure(http::targets::configure)
            .configure(http::webhooks::configure),
    )
    .configure(http::health::configure)
}

/// The OpenAPI document alone (no state, no database): for `canteen-ledger openapi`.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = mount(App::new().into_utoipa_app().openapi(ApiDoc::openapi())).split_for_parts().1;
    http::responses::document_common_statuses(&mut doc);
    doc
}

/// The OpenAPI document as pretty JSON (what `openapi/openapi.json` holds).
pub fn openapi_json(doc: &utoipa::openapi::OpenApi) -> anyhow::Result<String> {
    Ok(format!("{}\n", doc.to_pretty_json()?))
}

//! Admin REST under `/api/admin` (admin session or an admin's API key), one module per
//! resource: [`users`] (list, create, credit/debit with a reason, role), [`catalog`] (services
//! and categories), [`offers`] (a service's fallback providers), [`orders`] (search, resolve `needs_review`, refund, cancel, set partial),
//! [`providers`] (list, add, edit, test, balance, sync now, enable) and [`audit`] (the log). Each handler
//! extracts, calls one `smmd_app` use case (which writes the audit line in the transaction of
//! its change) and renders the result. Scheduler routes are in `http::jobs`, payment decisions
//! in `http::payments`.

pub mod audit;
pub mod catalog;
pub mod customers;
pub mod margin;
pub mod offers;
pub mod orders;
pub mod providers;
pub mod stuck;
pub mod users;

use axum::routing::{get, patch, post};
use axum::Router;
use utoipa::OpenApi;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/admin/users",
            get(users::list_users).post(users::create_user),
        )
        .route("/api/admin/users/search", get(customers::search_users))
        .route("/api/admin/users/{id}", get(customers::customer))
        .route("/api/admin/users/{id}/notes", post(customers::add_note))
        .route(
            "/api/admin/users/{id}/sessions/end",
            post(customers::end_sessions),
        )
        .route(
            "/api/admin/users/{id}/rates",
            axum::routing::put(customers::set_rate),
        )
        .route("/api/admin/users/{id}/balance", post(users::adjust_balance))
        .route("/api/admin/users/{id}/role", post(users::set_role))
        .route("/api/admin/services", get(catalog::list_services))
        .route("/api/admin/services/{id}", patch(catalog::edit_service))
        .route("/api/admin/categories", get(catalog::list_categories))
        .route("/api/admin/categories/{id}", patch(catalog::edit_category))
        .route(
            "/api/admin/services/{id}/margin",
            axum::routing::put(margin::set_service_margin),
        )
        .route(
            "/api/admin/categories/{id}/margin",
            axum::routing::put(margin::set_category_margin),
        )
        .route("/api/admin/held", get(margin::held))
        .route("/api/admin/services/{id}/held", post(margin::decide))
        .route(
            "/api/admin/services/{id}/stuck",
            axum::routing::put(stuck::set_service_stuck),
        )
        .route(
            "/api/admin/categories/{id}/stuck",
            axum::routing::put(stuck::set_category_stuck),
        )
        .route("/api/admin/stuck", get(stuck::queue))
        .route(
            "/api/admin/services/{id}/offers",
            get(offers::list_offers).post(offers::add_offer),
        )
        .route(
            "/api/admin/services/{id}/offers/{index}",
            axum::routing::delete(offers::remove_offer),
        )
        .route("/api/admin/orders", get(orders::list_orders))
        .route(
            "/api/admin/orders/{id}/resolve",
            post(orders::resolve_order),
        )
        .route("/api/admin/orders/{id}/refund", post(orders::refund_order))
        .route("/api/admin/orders/{id}/cancel", post(orders::cancel_order))
        .route("/api/admin/orders/{id}/partial", post(orders::set_partial))
        .route(
            "/api/admin/providers",
            get(providers::list_providers).post(providers::add_provider),
        )
        .route("/api/admin/providers/{id}", patch(providers::edit_provider))
        .route(
            "/api/admin/providers/{id}/test",
            post(providers::test_provider),
        )
        .route(
            "/api/admin/providers/{id}/balance",
            post(providers::check_balance),
        )
        .route(
            "/api/admin/providers/{id}/sync",
            post(providers::sync_provider),
        )
        .route(
            "/api/admin/providers/{id}/enable",
            post(providers::enable_provider),
        )
        .route("/api/admin/audit", get(audit::audit_log))
}

/// The admin part of the OpenAPI document (jobs are in `http::jobs`).
#[derive(OpenApi)]
#[openapi(
    paths(
        users::list_users,
        users::create_user,
        users::adjust_balance,
        users::set_role,
        catalog::list_services,
        catalog::edit_service,
        catalog::list_categories,
        catalog::edit_category,
        margin::set_service_margin,
        margin::set_category_margin,
        margin::held,
        margin::decide,
        stuck::set_service_stuck,
        stuck::set_category_stuck,
        stuck::queue,
        offers::list_offers,
        offers::add_offer,
        offers::remove_offer,
        orders::list_orders,
        orders::resolve_order,
        orders::refund_order,
        orders::cancel_order,
        orders::set_partial,
        providers::list_providers,
        providers::add_provider,
        providers::edit_provider,
        providers::test_provider,
        providers::check_balance,
        providers::sync_provider,
        providers::enable_provider,
        crate::http::push::set_secret,
        crate::http::push::generate_secret,
        audit::audit_log
    ),
    components(schemas(
        users::UserPage,
        users::CreateUser,
        users::CreatedUser,
        users::Adjust,
        users::LedgerEntryDto,
        users::RoleBody,
        catalog::AdminServiceDto,
        catalog::AdminServiceList,
        catalog::ServicePatch,
        catalog::CategoryPatch,
        margin::ServiceMargin,
        margin::CategoryMargin,
        margin::HeldServiceDto,
        margin::HeldList,
        margin::HeldDecision,
        margin::HeldOutcome,
        stuck::StuckRuleBody,
        stuck::StuckStepDto,
        stuck::StuckOrderDto,
        stuck::ProviderStuckDto,
        stuck::StuckList,
        offers::OfferDto,
        offers::OfferList,
        offers::NewOffer,
        orders::AdminOrderDto,
        orders::AdminOrderPage,
        orders::Resolve,
        orders::Reason,
        orders::Partial,
        orders::AdminCancelDto,
        providers::ProviderDto,
        providers::AddProviderBody,
        crate::http::push::PushSecretBody,
        crate::http::push::PushEndpoint,
        providers::EditProviderBody,
        providers::ProviderSaved,
        providers::ProviderList,
        providers::ProviderCheck,
        providers::SyncReport,
        providers::EnableBody,
        audit::AuditDto,
        audit::AuditPage
    ))
)]
pub struct AdminDoc;

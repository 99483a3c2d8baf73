//! Server-rendered pages for customers: sign-up and log-in, new order, orders (live statuses),
//! one order with its timeline, refills, billing (rentals), the affiliate program, notifications, settings. Every page shell opens the
//! live-update socket (`app.js`, `/ws`) and marks what it updates with `data-*` attributes.
//! HTML is built with `maud` (escaped by construction); CSS and JS are embedded in the binary
//! and served from `/assets`, so the Content-Security-Policy allows only same-origin sources.
//! Every form carries the session's CSRF token, checked before anything is written. Every
//! page speaks the visitor's or the account's language ([`i18n`]: English, Spanish, Russian,
//! Arabic right to left) and shows amounts also in a customer's display currency ([`approx`]).

use std::collections::HashMap;

use axum::extract::{FromRequest, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{html, Markup, DOCTYPE};
use smmd_domain::order::OrderStatus;
use smmd_domain::service::{OrderInput, ServiceType};
use smmd_domain::OrderId;
use smmd_protocol::Params;
use smmd_store::{FeedCursor, Order, PlaceOrderError, RefillRequestError, Service, User};

mod account;
mod admin;
mod affiliate;
mod billing;
mod csv_export;
mod funds;
mod home;
pub(crate) mod hosting;
pub(crate) mod i18n;
mod orders;
mod panels;
mod security;
mod session;
mod storefront;
mod tickets;
mod transactions;

use crate::auth::open_session;
use crate::auth::{self, session_cookie};
use crate::state::AppState;
use i18n::{t, ta};

const CSS: &str = include_str!("../../assets/app.css");
const JS: &str = include_str!("../../assets/app.js");
pub(crate) const CSP: &str =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(affiliate::home))
        .route("/services", get(storefront::services_page))
        .route("/updates", get(storefront::updates_page))
        .route("/pages/{slug}", get(storefront::written_page))
        .route("/brand/logo", get(storefront::logo))
        .route("/assets/brand.css", get(storefront::brand_css))
        .route("/panels", get(panels::panels_page))
        .route("/panels/rent", post(panels::rent))
        .route("/affiliate", get(affiliate::affiliate_page))
        .route("/affiliate/method", post(affiliate::submit_method))
        .route("/affiliate/transfer", post(affiliate::transfer))
        .route("/lang/{code}", get(i18n::choose))
        .route("/login", get(session::login_page).post(session::login))
        .route("/logout", post(session::logout))
        .route(
            "/login/code",
            get(security::code_page).post(security::submit_code),
        )
        .route("/forgot", get(security::forgot_page).post(security::forgot))
        .route("/reset", get(security::reset_page).post(security::reset))
        .route("/confirm", get(security::confirm_page))
        .route("/confirm/resend", post(security::resend_confirmation))
        .route("/settings/security", get(security::security_page))
        .route("/settings/security/enable", post(security::enable))
        .route("/settings/security/disable", post(security::disable))
        .route("/settings/security/codes", post(security::renew_codes))
        .route("/settings/security/policy", post(security::save_policy))
        .route("/signup", get(account::signup_page).post(account::signup))
        .route(
            "/settings",
            get(account::settings_page).post(account::save_settings),
        )
        .route("/settings/password", post(account::change_password))
        .route("/settings/language", post(account::save_language))
        .route("/settings/currency", post(account::save_display_currency))
        .route("/settings/webhook-secret", post(account::rotate_secret))
        .route("/notifications", get(account::notifications_page))
        .route("/notifications/read", post(account::mark_read))
        .route("/orders", get(orders::orders_page).post(orders::place))
        .route("/orders/new", get(orders::new_order_page))
        .route("/orders/mass", get(home::mass_page).post(home::place_mass))
        .route("/dashboard", get(home::dashboard))
        .route("/api", get(home::api_page).post(home::new_api_key))
        .route("/orders/{reference}", get(orders::order_page))
        .route("/orders/{reference}/cancel", post(orders::cancel))
        .route("/orders/{reference}/refill", post(orders::refill))
        .route("/orders/{reference}/rate", post(orders::rate))
        .route("/refills", get(orders::refills_page))
        .route("/transactions", get(transactions::transactions_page))
        .route("/transactions.csv", get(transactions::transactions_csv))
        .route("/funds", get(funds::funds_page).post(funds::request_funds))
        .route(
            "/tickets",
            get(tickets::tickets_page).post(tickets::open_ticket),
        )
        .route("/tickets/{id}", get(tickets::ticket_page))
        .route("/tickets/{id}/messages", post(tickets::reply))
        .route("/tickets/{id}/close", post(tickets::close))
        .route("/funds/test", post(funds::test_top_up))
        .route("/billing", get(billing::billing_page))
        .route("/billing/rent", post(billing::rent))
        .route("/billing/{id}/cancel", post(billing::cancel))
        .route("/billing/statements/{id}", get(billing::statement_page))
        .merge(admin::router())
        .fallback(session::fallback)
        .layer(axum::middleware::from_fn(i18n::scope))
        .merge(assets())
}

/// The pages' own stylesheets and scripts, embedded in the binary: (path, content type, text).
const ASSETS: [(&str, &str, &str); 4] = [
    ("/assets/app.css", "text/css; charset=utf-8", CSS),
    ("/assets/app.js", "text/javascript; charset=utf-8", JS),
    (
        "/assets/docs.css",
        "text/css; charset=utf-8",
        include_str!("../../assets/docs.css"),
    ),
    (
        "/assets/docs.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/docs.js"),
    ),
];

fn assets() -> Router<AppState> {
    ASSETS
        .iter()
        .fold(Router::new(), |r, &(path, content_type, text)| {
            r.route(
                path,
                get(move || async move { ([(header::CONTENT_TYPE, content_type)], text) }),
            )
        })
}

/// A signed-in customer of the pages (session cookie only); others are sent to `/login`.
pub struct PageUser {
    pub user: User,
    pub csrf: String,
    /// Unread notifications (the badge in the menu).
    pub unread: i64,
    /// The live feed position this page reflects, read before the page reads anything else
    /// (`<body data-feed>`, sent back as `/ws?after=`); `None` before the feed has started.
    pub feed: Option<FeedCursor>,
    /// The panel's brand (name, logo) for the page's bar.
    pub brand: std::sync::Arc<smmd_app::storefront::Brand>,
    /// The session's token hash and when it last passed a second factor (the step-up).
    pub session: (String, Option<i64>),
    /// The display currencies' rates ([`approx`]).
    pub fx: std::sync::Arc<smmd_app::currencies::Converter>,
}

impl PageUser {
    /// The step-up of a money or security form ([`smmd_app::security::step_up`]): the
    /// session's recent code, or the form's `code` field.
    pub async fn step_up(
        &self,
        st: &AppState,
        code: Option<&str>,
    ) -> Result<(), smmd_app::UseCaseError> {
        smmd_app::security::step_up(
            st.app(),
            &self.user,
            Some(smmd_app::security::SessionFactor {
                token_hash: &self.session.0,
                factor_at: self.session.1,
            }),
            code,
        )
        .await
    }

    /// Whether a money or security form must ask for a code (two-factor on, no code in the
    /// session's step-up window, `security.step_up_seconds`).
    pub fn needs_code(&self, st: &AppState) -> bool {
        self.user.two_factor
            && !self
                .session
                .1
                .is_some_and(|at| smmd_app::security::in_window(st.app(), at))
    }
}

impl PageUser {
    /// The signed-in user of this request, `None` without a live session; a session still
    /// waiting for its two-factor code is sent back to the code form (`Err`, a redirect).
    async fn lookup(parts: &Parts, st: &AppState) -> Result<Option<PageUser>, Response> {
        let feed = st.live.position();
        let Some(token) = session_cookie(&parts.headers) else {
            return Ok(None);
        };
        let hash = auth::token_hash(&token);
        match st.store.session(&hash, st.clock.now_ms()).await {
            // A session still waiting for its code is no log-in yet (below).
            Ok(Some(s)) if !s.pending_factor => {
                if let Some(l) = s.user.language.as_deref().and_then(i18n::Lang::parse) {
                    i18n::set(l);
                }
                let unread = st.store.unread_notifications(s.user.id).await.unwrap_or(0);
                Ok(Some(PageUser {
                    user: s.user,
                    csrf: s.csrf,
                    unread,
                    feed,
                    brand: st.brand().await,
                    session: (hash, s.factor_at),
                    fx: st.converter().await,
                }))
            }
            // The password was right but the code is still to come: back to the code form.
            Ok(Some(_)) => Err(Redirect::to("/login/code").into_response()),
            Ok(None) => Ok(None),
            Err(e) => Err(page_error(e)),
        }
    }
}

impl FromRequestParts<AppState> for PageUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        PageUser::lookup(parts, st)
            .await?
            .ok_or_else(|| session::to_login(parts))
    }
}

/// The HTTP status of a refusal's code on a page (400 for a code without one).
pub(super) fn refusal_status(code: crate::error::ErrorCode) -> StatusCode {
    StatusCode::from_u16(code.status()).unwrap_or(StatusCode::BAD_REQUEST)
}

/// A refusal as a page says it: the use case's own words on an English page; in another
/// language the catalogue's `error-<code>` line (the English words where it has none).
pub(super) fn say(code: crate::error::ErrorCode, message: &str) -> String {
    if i18n::lang() == i18n::Lang::En {
        return message.to_string();
    }
    let key = format!("error-{}", code.as_str());
    if i18n::Lang::has(&key) {
        t(&key)
    } else {
        message.to_string()
    }
}

/// What a form says when the log-in limits ([`crate::auth::LoginLimiter`]) are used up.
pub(super) fn too_many(secs: u64) -> String {
    ta("too-many-attempts", &[("secs", (secs as i64).into())])
}

pub(super) fn page_error(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "page failed");
    html_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        bare(&t("error-title"), html! { p { (t("error-try-again")) } }),
    )
}

/// A page handler's failure, so handlers can use `?` on any use case or store error: an
/// `internal` one gives the "Something went wrong" page (its cause logged once), a missing
/// resource the not-found page, any other refusal a page with its message and status. A refusal
/// a handler shows on its own form (a flash message) is handled before `?`.
pub struct PageError(Response);

impl<E: crate::error::Coded> From<E> for PageError {
    fn from(e: E) -> Self {
        use crate::error::ErrorCode;
        PageError(match e.code() {
            ErrorCode::Internal => page_error(e),
            ErrorCode::NotFound => html_response(
                StatusCode::NOT_FOUND,
                bare(&t("not-found-title"), html! { p { (t("not-found-text")) } }),
            ),
            code => html_response(
                refusal_status(code),
                bare(
                    &t("refused-title"),
                    html! { p { (say(code, &e.to_string())) } },
                ),
            ),
        })
    }
}

impl From<crate::error::AppError> for PageError {
    fn from(e: crate::error::AppError) -> Self {
        PageError(match e.code {
            crate::error::ErrorCode::Internal => page_error(e.message),
            _ => e.into_response(),
        })
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        self.0
    }
}

/// What page handlers return.
pub type PageResult = Result<Response, PageError>;

pub(crate) fn html_response(status: StatusCode, body: Markup) -> Response {
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    resp
}

/// The document's start: `<html>` in the page's language and direction (its end tag is
/// optional), the head's metadata, the stylesheets and `app.js`'s strings.
pub(super) fn head(title: &str) -> Markup {
    let lang = i18n::lang();
    html! {
        (DOCTYPE)
        html lang=(lang.code()) dir=(lang.dir());
        meta charset="utf-8";
        meta name="i18n" content=(i18n::script_strings());
        meta name="viewport" content="width=device-width, initial-scale=1";
        title { (title) " · smmd" }
        link rel="stylesheet" href="/assets/app.css";
        link rel="stylesheet" href="/assets/brand.css";
    }
}

/// A page of its own card (log-in, errors), with the language links under it.
pub(crate) fn bare(title: &str, content: Markup) -> Markup {
    html! { (head(title)) body { main { div.card.login { h1 { (title) } (content) } (i18n::picker()) } } }
}

/// A status as the pages show it in the page's language (`status-in_progress`, "In
/// progress"), a status the catalogue does not name as its words (`in_progress` → `In
/// progress`); `app.js` says the same.
pub(super) fn status_label(wire: &str) -> String {
    let key = format!("status-{wire}");
    if i18n::Lang::has(&key) {
        return t(&key);
    }
    let text = wire.replace('_', " ");
    let mut chars = text.chars();
    chars
        .next()
        .map(|f| f.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A status badge that live updates restyle (`data-field="status"`).
pub(super) fn status_badge(wire: &str) -> Markup {
    html! { span class=(format!("status s-{wire}")) data-field="status" { (status_label(wire)) } }
}

/// The customer menu: (key, path, label's message key); `layout`'s `active` names the key.
const CUSTOMER_NAV: [(&str, &str, &str); 14] = [
    ("dashboard", "/dashboard", "nav-dashboard"),
    ("new", "/orders/new", "nav-new-order"),
    ("orders", "/orders", "nav-orders"),
    ("services", "/services", "nav-services"),
    ("funds", "/funds", "nav-funds"),
    ("transactions", "/transactions", "nav-transactions"),
    ("notifications", "/notifications", "nav-notifications"),
    ("support", "/tickets", "nav-support"),
    ("refills", "/refills", "nav-refills"),
    ("billing", "/billing", "nav-billing"),
    ("panels", "/panels", "nav-panels"),
    ("affiliate", "/affiliate", "nav-affiliate"),
    ("api", "/api", "nav-api"),
    ("settings", "/settings", "nav-settings"),
];

/// Menu entries shown in the bar; the rest fold under "More" on wide screens (all of them
/// scroll in one row on a phone).
const NAV_PRIMARY: usize = 7;

/// The page shell: menu (the admin menu when `active` starts with `admin`), balance, log-out,
/// the live-update script and the CSRF token for `app.js`'s API forms (`meta[name=csrf-token]`).
pub(super) fn layout(
    st: &AppState,
    u: &PageUser,
    title: &str,
    active: &str,
    content: Markup,
) -> Markup {
    let is_admin = u.user.role == smmd_store::Role::Admin;
    let admin_section = active.starts_with("admin");
    let nav: &[(&str, &str, &str)] = if admin_section {
        &admin::NAV
    } else {
        &CUSTOMER_NAV
    };
    html! {
        (head(title))
        meta name="csrf-token" content=(u.csrf);
        body data-live="1" data-feed=[u.feed.map(|c| c.to_string())] data-tz=(st.config.panel.timezone) class=[admin_section.then_some("admin")] {
            header.top { div.bar {
                a.brand href=(if is_admin { "/admin" } else { "/dashboard" }) { (storefront::mark(&u.brand)) }
                nav {
                    @for (i, &(key, href, label)) in nav.iter().enumerate() {
                        // One class attribute (a second would be ignored): an active page under
                        // "More" stays folded there on wide screens, where "More" lights up.
                        a.active[active == key].extra[i >= NAV_PRIMARY] href=(href) {
                            (t(label))
                            @if key == "notifications" {
                                " " span.count data-unread hidden[u.unread == 0] { (u.unread) }
                            }
                        }
                    }
                    @if nav.len() > NAV_PRIMARY {
                        details.more {
                            summary class=[nav[NAV_PRIMARY..].iter().any(|(k, _, _)| *k == active).then_some("active")] { (t("nav-more")) }
                            div.menu { @for &(key, href, label) in &nav[NAV_PRIMARY..] {
                                a href=(href) class=[(active == key).then_some("active")] { (t(label)) }
                            } }
                        }
                    }
                    @if is_admin {
                        @if admin_section { a.switch href="/dashboard" { (t("nav-customer-view")) } }
                        @else { a.switch href="/admin" { (t("nav-admin")) } }
                    }
                }
                @if !admin_section {
                    span.balance title=(t("balance")) {
                        span data-balance { (u.user.balance) } " " (st.config.panel.currency)
                        (approx_balance(u))
                    }
                }
                form.logout method="post" action="/logout" {
                    input type="hidden" name="csrf_token" value=(u.csrf);
                    button.link type="submit" { (t("log-out")) }
                }
            } }
            main {
                @if is_admin {
                    @if let Some(h) = st.hosting.as_ref().filter(|h| h.suspended()) {
                        div.flash.err role="alert" {
                            (t("hosting-suspended-banner")) " "
                            a href=(h.renew_url) { (t("hosting-renew")) }
                        }
                    }
                }
                (content)
            }
            div #toasts aria-live="polite" {}
            script src="/assets/app.js" {}
        }
    }
}

/// What a panel amount is in the customer's display currency, beside it: ` ≈ 9.24 EUR`
/// (rounded, never what is charged); nothing without a display currency or its rate.
pub(super) fn approx(u: &PageUser, amount: smmd_domain::Money) -> Markup {
    match u.fx.approx(amount, u.user.display_currency.as_deref()) {
        Some(text) => html! { " " span.approx title=(t("approx-title")) { (text) } },
        None => html! {},
    }
}

/// [`approx`] of the balance, which follows live balance updates (`app.js` converts with
/// the same integer rule from the rates it carries).
pub(super) fn approx_balance(u: &PageUser) -> Markup {
    let code = u.user.display_currency.as_deref();
    let shown = u.fx.approx(u.user.balance, code);
    match (shown, code.and_then(|c| u.fx.pair(c)), code) {
        (Some(text), Some((from, to)), Some(code)) => html! {
            " " span.approx data-balance-approx data-fx-from=(from) data-fx-to=(to) data-fx-code=(code)
                title=(t("approx-title")) { (text) }
        },
        _ => html! {},
    }
}

/// The two-factor code a money or security form asks for ([`PageUser::needs_code`]); nothing
/// when the session's step-up window is open or the account has no two-factor. `api`: the
/// form is sent by `app.js` as JSON, which puts the code in the `X-2FA-Code` header.
pub(super) fn code_field(st: &AppState, u: &PageUser, api: bool) -> Markup {
    if !u.needs_code(st) {
        return html! {};
    }
    html! {
        input.narrow.code type="text" name="code" autocomplete="one-time-code"
            required[!api] inputmode="numeric" maxlength="20" placeholder=(t("code-placeholder")) aria-label=(t("code-label"))
            data-header=[api.then_some("x-2fa-code")];
    }
}

pub(super) fn flash(q: &HashMap<String, String>) -> Markup {
    html! {
        @if let Some(m) = q.get("ok") { div.flash.ok { (m) } }
        @if let Some(m) = q.get("err") { div.flash.err { (m) } }
    }
}

pub(super) fn to(path: &str, kind: &str, message: &str) -> Response {
    let q = serde_urlencoded::to_string([(kind, message)]).unwrap_or_default();
    Redirect::to(&format!("{path}?{q}")).into_response()
}

/// A signed-in customer's submitted form (`application/x-www-form-urlencoded`) whose
/// `csrf_token` field matched the session's; anything else is refused before the handler runs
/// (403 "Form expired", or the log-in redirect), so no page action writes without it.
pub struct PageForm(pub PageUser, pub HashMap<String, String>);

impl FromRequest<AppState> for PageForm {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, st: &AppState) -> Result<Self, Response> {
        let (parts, body) = req.into_parts();
        let u = PageUser::lookup(&parts, st).await?;
        let path = parts.uri.path().to_string();
        let req = axum::extract::Request::from_parts(parts, body);
        let Form(f) = Form::<HashMap<String, String>>::from_request(req, st)
            .await
            .map_err(IntoResponse::into_response)?;
        let Some(u) = u else {
            return Err(session::form_without_session(&path, &f));
        };
        if !csrf_ok(&u, &f) {
            return Err(csrf_refused());
        }
        Ok(PageForm(u, f))
    }
}

fn csrf_ok(u: &PageUser, form: &HashMap<String, String>) -> bool {
    form.get("csrf_token").is_some_and(|t| *t == u.csrf)
}

pub(super) fn csrf_refused() -> Response {
    html_response(
        StatusCode::FORBIDDEN,
        bare(
            &t("form-expired-title"),
            html! { p { (t("form-expired-text")) } },
        ),
    )
}

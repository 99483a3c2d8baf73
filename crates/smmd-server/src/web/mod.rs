//! Server-rendered pages for customers: log-in, new order, orders with cancel and refill.
//! HTML is built with `maud` (escaped by construction); CSS and JS are embedded in the binary
//! and served from `/assets`, so the Content-Security-Policy allows only same-origin sources.
//! Every form carries the session's CSRF token, checked before anything is written.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{html, Markup, DOCTYPE};
use smmd_domain::order::OrderStatus;
use smmd_domain::refill::{check_refill, RefillFacts};
use smmd_domain::service::{OrderInput, ServiceType};
use smmd_domain::OrderId;
use smmd_protocol::Params;
use smmd_store::{Order, PlaceOrderError, RefillRequestError, Service, User};

use crate::auth::{self, session_cookie};
use crate::http::api::open_session;
use crate::panel;
use crate::state::AppState;

const CSS: &str = include_str!("../../assets/app.css");
const JS: &str = include_str!("../../assets/app.js");
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/orders", get(orders_page).post(place))
        .route("/orders/new", get(new_order_page))
        .route("/orders/{id}/cancel", post(cancel))
        .route("/orders/{id}/refill", post(refill))
        .route(
            "/assets/app.css",
            get(|| async { ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS) }),
        )
        .route(
            "/assets/app.js",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
                    JS,
                )
            }),
        )
}

/// A signed-in customer of the pages (session cookie only); others are sent to `/login`.
pub struct PageUser {
    pub user: User,
    pub csrf: String,
}

impl FromRequestParts<AppState> for PageUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let to_login = || Redirect::to("/login").into_response();
        let token = session_cookie(&parts.headers).ok_or_else(to_login)?;
        match st
            .store
            .session(&auth::token_hash(&token), st.clock.now_ms())
            .await
        {
            Ok(Some((user, csrf))) => Ok(PageUser { user, csrf }),
            Ok(None) => Err(to_login()),
            Err(e) => Err(page_error(e)),
        }
    }
}

fn page_error(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "page failed");
    html_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        bare(
            "Something went wrong",
            html! { p { "Please try again in a moment." } },
        ),
    )
}

fn html_response(status: StatusCode, body: Markup) -> Response {
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

fn head(title: &str) -> Markup {
    html! {
        (DOCTYPE)
        meta charset="utf-8";
        meta name="viewport" content="width=device-width, initial-scale=1";
        title { (title) " · smmd" }
        link rel="stylesheet" href="/assets/app.css";
    }
}

fn bare(title: &str, content: Markup) -> Markup {
    html! { (head(title)) body { main { div.card.login { h1 { (title) } (content) } } } }
}

fn layout(st: &AppState, u: &PageUser, title: &str, active: &str, content: Markup) -> Markup {
    html! {
        (head(title))
        body {
            header.top { div.bar {
                a.brand href="/" { (st.config.panel.name) }
                nav {
                    a href="/orders/new" class=[(active == "new").then_some("active")] { "New order" }
                    a href="/orders" class=[(active == "orders").then_some("active")] { "Orders" }
                }
                span.balance title="Balance" { (u.user.balance) " " (st.config.panel.currency) }
                form method="post" action="/logout" {
                    input type="hidden" name="csrf_token" value=(u.csrf);
                    button.link type="submit" { "Log out" }
                }
            } }
            main { (content) }
            script src="/assets/app.js" {}
        }
    }
}

fn flash(q: &HashMap<String, String>) -> Markup {
    html! {
        @if let Some(m) = q.get("ok") { div.flash.ok { (m) } }
        @if let Some(m) = q.get("err") { div.flash.err { (m) } }
    }
}

fn to(path: &str, kind: &str, message: &str) -> Response {
    let q = serde_urlencoded::to_string([(kind, message)]).unwrap_or_default();
    Redirect::to(&format!("{path}?{q}")).into_response()
}

fn csrf_ok(u: &PageUser, form: &HashMap<String, String>) -> bool {
    form.get("csrf_token").is_some_and(|t| *t == u.csrf)
}

fn csrf_refused() -> Response {
    html_response(
        StatusCode::FORBIDDEN,
        bare(
            "Form expired",
            html! { p { "Reload the page and try again." } },
        ),
    )
}

async fn home(u: Result<PageUser, Response>) -> Redirect {
    Redirect::to(if u.is_ok() { "/orders/new" } else { "/login" })
}

fn login_form(error: Option<&str>, email: &str) -> Markup {
    bare(
        "Log in",
        html! {
            @if let Some(e) = error { div.flash.err { (e) } }
            form method="post" action="/login" {
                label for="email" { "E-mail" }
                input #email type="email" name="email" value=(email) required autocomplete="username";
                label for="password" { "Password" }
                input #password type="password" name="password" required autocomplete="current-password";
                p { button type="submit" { "Log in" } }
            }
        },
    )
}

async fn login_page() -> Response {
    html_response(StatusCode::OK, login_form(None, ""))
}

async fn login(State(st): State<AppState>, Form(f): Form<HashMap<String, String>>) -> Response {
    let email = f.get("email").map(String::as_str).unwrap_or("");
    let password = f.get("password").map(String::as_str).unwrap_or("");
    let user = match auth::check_login(&st, email, password).await {
        Ok(u) => u,
        Err(auth::LoginError::Wrong) => {
            return html_response(
                StatusCode::UNAUTHORIZED,
                login_form(Some("Wrong e-mail or password"), email),
            )
        }
        Err(auth::LoginError::TooMany(secs)) => {
            let msg = format!("Too many attempts for this address. Try again in {secs} s.");
            return html_response(StatusCode::TOO_MANY_REQUESTS, login_form(Some(&msg), email));
        }
        Err(auth::LoginError::Store(e)) => return page_error(e),
    };
    match open_session(&st, &user).await {
        Ok((cookie, _)) => {
            let mut resp = Redirect::to("/orders/new").into_response();
            resp.headers_mut().insert(header::SET_COOKIE, cookie);
            resp
        }
        Err(e) => page_error(e.message),
    }
}

async fn logout(
    State(st): State<AppState>,
    u: PageUser,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if !csrf_ok(&u, &f) {
        return csrf_refused();
    }
    if let Some(token) = session_cookie(&headers) {
        if let Err(e) = st.store.delete_session(&auth::token_hash(&token)).await {
            return page_error(e);
        }
    }
    let mut resp = Redirect::to("/login").into_response();
    let clear =
        HeaderValue::from_static("smmd_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    resp.headers_mut().insert(header::SET_COOKIE, clear);
    resp
}

fn field(
    name: &str,
    label: &str,
    hint: &str,
    values: &HashMap<String, String>,
    kind: &str,
) -> Markup {
    let value = values.get(name).map(String::as_str).unwrap_or("");
    html! {
        label for=(name) { (label) " " span.hint { (hint) } }
        @if kind == "textarea" {
            textarea id=(name) name=(name) { (value) }
        } @else {
            input id=(name) name=(name) type=(kind) value=(value);
        }
    }
}

/// The type-specific fields of the order form for `s`.
fn order_fields(s: &Service, v: &HashMap<String, String>) -> Markup {
    use ServiceType as T;
    let t = s.service_type;
    html! {
        @if t != T::Subscriptions { (field("link", "Link", "the post, profile or page to promote", v, "url")) }
        @if t.takes_quantity() { (field("quantity", "Quantity", &format!("{} – {}", s.min, s.max), v, "number")) }
        @if matches!(t, T::CustomComments | T::CustomCommentsPackage | T::CommentReplies) {
            (field("comments", "Comments", "one per line", v, "textarea"))
        }
        @if matches!(t, T::Mentions | T::MentionsWithHashtags | T::MentionsCustomList) {
            (field("usernames", "Usernames", "one per line", v, "textarea"))
        }
        @if t == T::MentionsWithHashtags { (field("hashtags", "Hashtags", "one per line", v, "textarea")) }
        @if t == T::MentionsHashtag { (field("hashtag", "Hashtag", "to take usernames from", v, "text")) }
        @if matches!(t, T::MentionsUserFollowers | T::CommentLikes | T::CommentReplies | T::Subscriptions) {
            (field("username", "Username", "", v, "text"))
        }
        @if t == T::MentionsMediaLikers { (field("media", "Media URL", "to take likers from", v, "url")) }
        @if t == T::Poll { (field("answer_number", "Answer number", "which answer to vote for", v, "number")) }
        @if t == T::InvitesFromGroups { (field("groups", "Groups", "one per line", v, "textarea")) }
        @if t == T::Subscriptions {
            div.row {
                div { (field("min", "Min per post", &format!("at least {}", s.min), v, "number")) }
                div { (field("max", "Max per post", &format!("at most {}", s.max), v, "number")) }
            }
            div.row {
                div { (field("posts", "New posts", "empty = unlimited", v, "number")) }
                div { (field("delay", "Delay (minutes)", "0, 5, 10, 15, 30, 60 …", v, "number")) }
            }
            (field("expiry", "Expiry", "d/m/Y, optional", v, "text"))
        }
        @if s.dripfeed && t.supports_drip_feed() {
            div.row {
                div { (field("runs", "Drip-feed runs", "optional", v, "number")) }
                div { (field("interval", "Interval (minutes)", "between runs", v, "number")) }
            }
        }
    }
}

async fn new_order_page(
    State(st): State<AppState>,
    u: PageUser,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    render_new_order(&st, &u, &q, None).await
}

async fn render_new_order(
    st: &AppState,
    u: &PageUser,
    values: &HashMap<String, String>,
    error: Option<&str>,
) -> Response {
    let services = match st.store.list_services(true).await {
        Ok(s) => s,
        Err(e) => return page_error(e),
    };
    let chosen_id = values.get("service").and_then(|s| s.parse::<i64>().ok());
    let chosen = chosen_id
        .and_then(|id| services.iter().find(|s| s.id.0 == id))
        .or(services.first());
    let cur = &st.config.panel.currency;
    let content = html! {
        (flash(values))
        @if let Some(e) = error { div.flash.err { (e) } }
        div.card {
            h1 { "New order" }
            form method="get" action="/orders/new" {
                label for="service-pick" { "Service" }
                select #service-pick name="service" {
                    @for (category, group) in by_category(&services) {
                        optgroup label=(category) {
                            @for s in group {
                                option value=(s.id.0) selected[chosen.is_some_and(|c| c.id == s.id)] {
                                    (s.name) " — " (s.rate) " " (cur) " per " @if s.service_type.is_package() { "package" } @else { "1000" }
                                }
                            }
                        }
                    }
                }
                p { button.secondary type="submit" { "Choose" } }
            }
            @if let Some(s) = chosen {
                div.service-info {
                    div { b { "Price" } (s.rate) " " (cur) @if s.service_type.is_package() { " / package" } @else { " / 1000" } }
                    div { b { "Min – max" } (s.min) " – " (s.max) }
                    div { b { "Refill" } @if s.refill { (s.guarantee_days) " days" } @else { "No" } }
                    div { b { "Type" } (s.service_type) }
                }
                @if !s.description.is_empty() { p.muted { (s.description) } }
                form #order-form method="post" action="/orders" data-rate-micros=(s.rate.micros()) data-package=(if s.service_type.is_package() { "1" } else { "0" }) {
                    input type="hidden" name="csrf_token" value=(u.csrf);
                    input type="hidden" name="service" value=(s.id.0);
                    (order_fields(s, values))
                    div.total { "Total: " span #order-total { "—" } " " (cur) }
                    p.muted { "Your balance: " (u.user.balance) " " (cur) }
                    button type="submit" { "Place order" }
                }
            } @else {
                p.muted { "No services are available yet." }
            }
        }
    };
    html_response(
        if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        layout(st, u, "New order", "new", content),
    )
}

/// Services grouped by category, in catalog order (the store lists them category by category).
fn by_category(services: &[Service]) -> Vec<(&str, Vec<&Service>)> {
    let mut groups: Vec<(&str, Vec<&Service>)> = Vec::new();
    for s in services {
        match groups.last_mut() {
            Some((c, list)) if *c == s.category => list.push(s),
            _ => groups.push((s.category.as_str(), vec![s])),
        }
    }
    groups
}

/// The order fields of a submitted form, read with the same rules as API v2 parameters.
fn input_from(f: &HashMap<String, String>) -> OrderInput {
    Params::merge([f.iter().map(|(k, v)| (k.clone(), v.clone())).collect()]).order_input()
}

async fn place(
    State(st): State<AppState>,
    u: PageUser,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if !csrf_ok(&u, &f) {
        return csrf_refused();
    }
    let service = f
        .get("service")
        .and_then(|s| s.parse::<i64>().ok())
        .unwrap_or(0);
    match panel::place_order(
        st.store.as_ref(),
        st.clock.as_ref(),
        u.user.id,
        service,
        &input_from(&f),
        None,
    )
    .await
    {
        Ok(o) => to(
            "/orders",
            "ok",
            &format!(
                "Order #{} placed: {} {} charged.",
                o.id, o.charge, st.config.panel.currency
            ),
        ),
        Err(PlaceOrderError::Rejected(e)) => {
            render_new_order(&st, &u, &f, Some(&e.to_string())).await
        }
        Err(PlaceOrderError::Store(e)) => page_error(e),
    }
}

fn can_refill(o: &Order, now: i64) -> bool {
    check_refill(&RefillFacts {
        service_refill: o.refill,
        status: o.status,
        completed_at_ms: o.completed_at,
        guarantee_days: o.guarantee_days,
        has_active_refill: false,
        now_ms: now,
    })
    .is_ok()
}

fn can_cancel(o: &Order) -> bool {
    matches!(o.status, OrderStatus::Queued | OrderStatus::NeedsReview)
        || (o.cancel
            && !o.cancel_requested
            && matches!(o.status, OrderStatus::Processing | OrderStatus::InProgress))
}

async fn orders_page(
    State(st): State<AppState>,
    u: PageUser,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let before = q
        .get("before")
        .and_then(|b| b.parse::<i64>().ok())
        .map(OrderId);
    let orders = match st.store.list_orders(u.user.id, before, 50).await {
        Ok(o) => o,
        Err(e) => return page_error(e),
    };
    let now = st.clock.now_ms();
    let cur = &st.config.panel.currency;
    let content = html! {
        (flash(&q))
        div.card {
            h1 { "Orders" }
            @if orders.is_empty() {
                p.muted { "No orders yet. " a href="/orders/new" { "Place your first order" } "." }
            } @else {
                table {
                    thead { tr { th { "ID" } th { "Link" } th { "Quantity" } th { "Charge" } th { "Start" } th { "Remains" } th { "Status" } th {} } }
                    tbody {
                        @for o in &orders {
                            tr {
                                td data-label="ID" { "#" (o.id) }
                                td.link data-label="Link" title=[o.link.as_deref()] { (o.link.as_deref().unwrap_or("—")) }
                                td data-label="Quantity" { (o.total_quantity) }
                                td data-label="Charge" {
                                    (o.charge) " " (cur)
                                    @if o.refunded.is_positive() { br; span.hint { "refunded " (o.refunded) } }
                                }
                                td data-label="Start" { (o.start_count.map_or("—".to_string(), |s| s.to_string())) }
                                td data-label="Remains" { (o.remains.map_or("—".to_string(), |r| r.to_string())) }
                                td data-label="Status" {
                                    span class=(format!("badge {}", o.status.wire())) { (o.status.wire()) }
                                    @if o.cancel_requested { br; span.hint { "cancel requested" } }
                                }
                                td.actions {
                                    @if can_cancel(o) {
                                        form method="post" action=(format!("/orders/{}/cancel", o.id)) {
                                            input type="hidden" name="csrf_token" value=(u.csrf);
                                            button.small.secondary type="submit" { "Cancel" }
                                        }
                                    }
                                    @if can_refill(o, now) {
                                        form method="post" action=(format!("/orders/{}/refill", o.id)) {
                                            input type="hidden" name="csrf_token" value=(u.csrf);
                                            button.small type="submit" { "Refill" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                @if orders.len() == 50 { @if let Some(last) = orders.last() { p { a href=(format!("/orders?before={}", last.id)) { "Older orders →" } } } }
            }
        }
    };
    html_response(StatusCode::OK, layout(&st, &u, "Orders", "orders", content))
}

async fn cancel(
    State(st): State<AppState>,
    u: PageUser,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if !csrf_ok(&u, &f) {
        return csrf_refused();
    }
    match st
        .store
        .cancel_orders(u.user.id, &[OrderId(id)], st.clock.now_ms())
        .await
    {
        Ok(r) => match r.into_iter().next().map(|(_, r)| r) {
            Some(Ok(smmd_store::CancelOutcome::Canceled { refunded })) => to(
                "/orders",
                "ok",
                &format!(
                    "Order #{id} canceled; {refunded} {} refunded.",
                    st.config.panel.currency
                ),
            ),
            Some(Ok(smmd_store::CancelOutcome::Requested)) => to(
                "/orders",
                "ok",
                &format!("Cancel of order #{id} requested."),
            ),
            Some(Err(e)) => to("/orders", "err", &e.to_string()),
            None => to("/orders", "err", "Incorrect order ID"),
        },
        Err(e) => page_error(e),
    }
}

async fn refill(
    State(st): State<AppState>,
    u: PageUser,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if !csrf_ok(&u, &f) {
        return csrf_refused();
    }
    match st
        .store
        .request_refill(u.user.id, OrderId(id), st.clock.now_ms())
        .await
    {
        Ok(r) => to(
            "/orders",
            "ok",
            &format!("Refill #{} requested for order #{id}.", r.id),
        ),
        Err(RefillRequestError::Store(e)) => page_error(e),
        Err(e) => to("/orders", "err", &e.to_string()),
    }
}

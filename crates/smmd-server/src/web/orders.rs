//! The customer's order pages: new order (category, service, the type's fields, live total),
//! the orders list with status filters, search and live statuses, one order with its timeline,
//! and the cancel and refill actions, each shown only when the order is eligible.

use smmd_app::{orders, UseCaseError};

use super::*;

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

/// A whole-number input with its bounds (the server checks the same ones).
fn count_field(
    name: &str,
    label: &str,
    hint: &str,
    values: &HashMap<String, String>,
    (min, max): (i64, i64),
) -> Markup {
    let value = values.get(name).map(String::as_str).unwrap_or("");
    html! {
        label for=(name) { (label) " " span.hint { (hint) } }
        input id=(name) name=(name) type="number" inputmode="numeric" min=(min) max=(max) step="1" value=(value);
    }
}

/// The type-specific fields of the order form for `s`.
fn order_fields(s: &Service, v: &HashMap<String, String>) -> Markup {
    use ServiceType as T;
    let kind = s.service_type;
    html! {
        @if kind != T::Subscriptions { (field("link", &t("link"), &t("hint-link"), v, "url")) }
        @if kind.takes_quantity() { (count_field("quantity", &t("quantity"), &format!("{} – {}", s.min, s.max), v, (s.min, s.max))) }
        @if matches!(kind, T::CustomComments | T::CustomCommentsPackage | T::CommentReplies) {
            (field("comments", &t("comments"), &t("one-per-line"), v, "textarea"))
        }
        @if matches!(kind, T::Mentions | T::MentionsWithHashtags | T::MentionsCustomList) {
            (field("usernames", &t("usernames"), &t("one-per-line"), v, "textarea"))
        }
        @if kind == T::MentionsWithHashtags { (field("hashtags", &t("hashtags"), &t("one-per-line"), v, "textarea")) }
        @if kind == T::MentionsHashtag { (field("hashtag", &t("hashtag"), &t("hint-hashtag"), v, "text")) }
        @if matches!(kind, T::MentionsUserFollowers | T::CommentLikes | T::CommentReplies | T::Subscriptions) {
            (field("username", &t("username"), "", v, "text"))
        }
        @if kind == T::MentionsMediaLikers { (field("media", &t("media-url"), &t("hint-media"), v, "url")) }
        @if kind == T::Poll { (field("answer_number", &t("answer-number"), &t("hint-answer"), v, "number")) }
        @if kind == T::InvitesFromGroups { (field("groups", &t("groups"), &t("one-per-line"), v, "textarea")) }
        @if kind == T::Subscriptions {
            div.row {
                div { (field("min", &t("min-per-post"), &ta("at-least", &[("n", s.min.into())]), v, "number")) }
                div { (field("max", &t("max-per-post"), &ta("at-most", &[("n", s.max.into())]), v, "number")) }
            }
            div.row {
                div { (field("posts", &t("new-posts"), &t("hint-posts"), v, "number")) }
                div { (field("delay", &t("delay-minutes"), "0, 5, 10, 15, 30, 60 …", v, "number")) }
            }
            (field("expiry", &t("expiry"), &t("hint-expiry"), v, "text"))
        }
        @if s.dripfeed && kind.supports_drip_feed() {
            div.row {
                div { (count_field("runs", &t("drip-feed-runs"), &t("optional"), v, (1, smmd_domain::service::MAX_RUNS))) }
                div { (field("interval", &t("interval-minutes"), &t("hint-interval"), v, "number")) }
            }
        }
    }
}

pub(super) async fn new_order_page(
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
    // The catalog cache (the same one API v2 `services` reads), at the user's prices (a
    // reseller tier's discount): the rates shown and the live total's.
    let services = match st.enabled_services().await {
        Ok(s) => s,
        Err(e) => return page_error(e),
    };
    let book = match smmd_app::pricing::price_book(st.app(), u.user.id).await {
        Ok(b) => b,
        Err(e) => return page_error(e),
    };
    let services: std::sync::Arc<Vec<smmd_store::Service>> = match book.is_list() {
        true => services,
        false => std::sync::Arc::new(
            services
                .iter()
                .map(|s| smmd_app::pricing::priced(&book, s))
                .collect(),
        ),
    };
    let chosen_id = values.get("service").and_then(|s| s.parse::<i64>().ok());
    let get = |k: &str| values.get(k).map(|v| v.trim()).unwrap_or("");
    let (needle, platform, kind) = (get("q").to_lowercase(), get("platform"), get("type"));
    let picked = chosen_id.and_then(|id| services.iter().find(|s| s.id.0 == id));
    // Category → service: without a search or filter the list is one category (the chosen
    // service's, else the first), so a catalog of thousands is not one huge select. `*` = all.
    let mut category = get("category");
    if category.is_empty() && needle.is_empty() && platform.is_empty() && kind.is_empty() {
        category = picked
            .or(services.first())
            .map_or("", |s| s.category.as_str());
    }
    let shown: Vec<&Service> = services
        .iter()
        .filter(|s| {
            let (p, k) = platform_and_kind(&s.category);
            (needle.is_empty()
                || s.name.to_lowercase().contains(&needle)
                || s.category.to_lowercase().contains(&needle)
                || s.id.0.to_string() == needle)
                && (platform.is_empty() || p == platform)
                && (kind.is_empty() || k == kind)
                && (category.is_empty() || category == "*" || s.category == category)
        })
        .collect();
    let chosen = picked
        .filter(|p| shown.iter().any(|s| s.id == p.id))
        .or(shown.first().copied());
    let mut categories: Vec<&str> = Vec::new();
    for s in services.iter() {
        if !categories.contains(&s.category.as_str()) {
            categories.push(&s.category);
        }
    }
    let mut platforms: Vec<&str> = services
        .iter()
        .map(|s| platform_and_kind(&s.category).0)
        .collect();
    platforms.sort_unstable();
    platforms.dedup();
    let mut kinds: Vec<&str> = services
        .iter()
        .map(|s| platform_and_kind(&s.category).1)
        .filter(|k| !k.is_empty())
        .collect();
    kinds.sort_unstable();
    kinds.dedup();
    let avg = match chosen {
        Some(s) => st
            .store
            .completion_samples(s.id, 10)
            .await
            .ok()
            .and_then(|samples| smmd_store::avg_ms_per_1000(&samples)),
        None => None,
    };
    // Its ratings and orders count, from the public catalogue (cached briefly).
    let public = match chosen {
        Some(s) => st
            .public_catalog()
            .await
            .ok()
            .and_then(|c| c.iter().find(|p| p.service.id == s.id).cloned()),
        None => None,
    };
    let cur = &st.config.panel.currency;
    let content = html! {
        (flash(values))
        @if let Some(e) = error { div.flash.err { (e) } }
        div.card {
            div.card-head {
                h1 { (t("nav-new-order")) }
                a href="/orders/mass" { (t("mass-order-arrow")) }
            }
            form method="get" action="/orders/new" {
                div.filters-row {
                    input #service-search type="search" name="q" value=(get("q")) placeholder=(t("search-services-short")) aria-label=(t("search-services-short"));
                    select #service-platform name="platform" aria-label=(t("platform")) {
                        option value="" { (t("all-platforms")) }
                        @for p in &platforms { option value=(p) selected[*p == platform] { (p) } }
                    }
                    select #service-type name="type" aria-label=(t("type")) {
                        option value="" { (t("all-types")) }
                        @for k in &kinds { option value=(k) selected[*k == kind] { (k) } }
                    }
                }
                label for="service-category" { (t("category")) }
                select #service-category name="category" {
                    option value="*" selected[category == "*"] { (t("all-categories")) }
                    @for c in &categories { option value=(c) selected[*c == category] { (c) } }
                }
                label for="service-pick" { (t("service")) }
                select #service-pick name="service" {
                    @for (group_name, group) in by_category(shown.iter().copied()) {
                        optgroup label=(group_name) {
                            @for s in group {
                                @let (p, k) = platform_and_kind(&s.category);
                                option value=(s.id.0) data-platform=(p) data-type=(k) selected[chosen.is_some_and(|c| c.id == s.id)] {
                                    (s.id.0) " · " (s.name) " — " (s.rate) " " (cur) " / " @if s.service_type.is_package() { (t("package")) } @else { "1000" }
                                }
                            }
                        }
                    }
                }
                @if shown.is_empty() { p.muted { (t("no-service-filters")) } }
                p { button.secondary type="submit" { (t("choose")) } }
            }
            @if let Some(s) = chosen {
                div.service-info {
                    div { b { (t("price")) } (s.rate) " " (cur) " / " @if s.service_type.is_package() { (t("package")) } @else { "1000" } (approx(u, s.rate)) }
                    div { b { (t("min-max")) } (s.min) " – " (s.max) }
                    div { b { (t("refill")) } @if s.refill { (ta("days-guarantee", &[("n", s.guarantee_days.into())])) } @else { (t("no-refill")) } }
                    div title=(t("average-from-last-10")) {
                        b { (t("average-time")) }
                        @match avg { Some(ms) => { (ta("per-1000", &[("duration", duration(ms).into())])) }, None => span.muted { (t("not-enough-data")) } }
                    }
                }
                @if let Some(p) = &public { p.hint #service-figures { (super::storefront::figures(p)) } }
                @if !s.description.is_empty() { p.muted { (s.description) } }
                form #order-form method="post" action="/orders" data-rate-micros=(s.rate.micros()) data-package=(if s.service_type.is_package() { "1" } else { "0" }) data-balance-micros=(u.user.balance.micros()) data-min=(s.min) data-max=(s.max) data-max-runs=(smmd_domain::service::MAX_RUNS) {
                    input type="hidden" name="csrf_token" value=(u.csrf);
                    input type="hidden" name="service" value=(s.id.0);
                    (order_fields(s, values))
                    div.total { (t("total")) " " span #order-total { "—" } " " (cur) }
                    p.note #order-invalid hidden {}
                    p.muted { (t("your-balance")) " " span data-balance { (u.user.balance) } " " (cur) (approx_balance(u)) }
                    p.note #order-short hidden { (t("balance-too-low")) " " a href="/funds" { (t("nav-funds")) } }
                    button type="submit" { (t("place-order")) }
                }
            } @else {
                p.muted { (t("no-services-yet")) }
            }
        }
    };
    html_response(
        if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        layout(st, u, &t("nav-new-order"), "new", content),
    )
}

/// A category name's platform and kind: `Instagram Followers` → (`Instagram`, `Followers`); a
/// one-word category is its own platform with no kind.
pub(super) fn platform_and_kind(category: &str) -> (&str, &str) {
    let c = category.trim();
    match c.split_once(char::is_whitespace) {
        Some((p, k)) => (p, k.trim()),
        None => (c, ""),
    }
}

/// Milliseconds as a short duration: `45 s`, `12 min`, `3 h 20 min`, `2 d 4 h`.
pub(super) fn duration(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    let unit = |key: &str, n: i64| ta(key, &[("n", n.into())]);
    match s {
        0..60 => unit("dur-s", s),
        60..3600 => unit("dur-min", s / 60),
        3600..86_400 if s % 3600 / 60 == 0 => unit("dur-h", s / 3600),
        3600..86_400 => format!(
            "{} {}",
            unit("dur-h", s / 3600),
            unit("dur-min", s % 3600 / 60)
        ),
        _ if s % 86_400 / 3600 == 0 => unit("dur-d", s / 86_400),
        _ => format!(
            "{} {}",
            unit("dur-d", s / 86_400),
            unit("dur-h", s % 86_400 / 3600)
        ),
    }
}

/// Services grouped by category, in catalog order (the store lists them category by category).
fn by_category<'a>(
    services: impl IntoIterator<Item = &'a Service>,
) -> Vec<(&'a str, Vec<&'a Service>)> {
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

pub(super) async fn place(State(st): State<AppState>, PageForm(u, f): PageForm) -> PageResult {
    let service = f
        .get("service")
        .and_then(|s| s.parse::<i64>().ok())
        .unwrap_or(0);
    match orders::place_order(
        st.app(),
        u.user.id,
        service,
        &input_from(&f),
        Default::default(),
    )
    .await
    {
        Ok(o) => Ok(to(
            &format!("/orders/{}", o.reference),
            "ok",
            &ta(
                "order-placed-charged",
                &[
                    ("amount", o.charge.to_string().into()),
                    ("currency", st.config.panel.currency.as_str().into()),
                ],
            ),
        )),
        Err(PlaceOrderError::Rejected(e)) => Ok(render_new_order(
            &st,
            &u,
            &f,
            Some(&say(crate::error::Coded::code(&e), &e.to_string())),
        )
        .await),
        Err(PlaceOrderError::Store(e)) => Err(e.into()),
    }
}

/// Epoch ms as `2026-01-31 14:05` in the panel's time zone (UTC if the zone is unknown).
/// `n` filled stars out of five ("★★★★☆").
pub(super) fn stars(n: i64) -> String {
    let n = n.clamp(0, 5) as usize;
    format!("{}{}", "★".repeat(n), "☆".repeat(5 - n))
}

/// How the pages name an order: its numeric id (the one API v2 returns) as the link, with the
/// public reference and the time under it.
pub(super) fn order_handle(st: &AppState, o: &Order) -> Markup {
    html! {
        a href=(format!("/orders/{}", o.reference)) { b { "#" (o.id.0) } }
        br; span.hint { (o.reference) " · " (when(st, o.created_at)) }
    }
}

pub(super) fn when(st: &AppState, ms: i64) -> String {
    let tz: chrono_tz::Tz = st.config.panel.timezone.parse().unwrap_or(chrono_tz::UTC);
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// The status filters: (value, label's message key).
pub(super) const STATUS_FILTERS: [(&str, &str); 7] = [
    ("", "filter-all"),
    ("active", "status-active"),
    ("completed", "status-completed"),
    ("partial", "status-partial"),
    ("canceled", "status-canceled"),
    ("in_progress", "status-in_progress"),
    ("queued", "status-queued"),
];

/// `/orders`: the caller's orders, newest first, 50 a page, filtered by status and link search.
pub(super) async fn orders_page(
    State(st): State<AppState>,
    u: PageUser,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let status_filter = q.get("status").map(String::as_str).unwrap_or("");
    let search = q
        .get("q")
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let mut query = smmd_store::OrderQuery::of_user(u.user.id, 50);
    query.before = q
        .get("before")
        .and_then(|b| b.parse::<i64>().ok())
        .map(OrderId);
    query.status = OrderStatus::parse(status_filter);
    query.active = status_filter == "active";
    // An order id ("123", "#123") or a reference finds that order; other text searches links.
    let by_id = search
        .as_deref()
        .map(|s| s.trim_start_matches('#'))
        .filter(|s| !s.is_empty() && s.len() <= 18 && s.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|s| s.parse::<i64>().ok());
    // A reference is tried first: one of 12 or more digits can read as an id too.
    let by_reference = search
        .as_deref()
        .filter(|s| smmd_domain::reference::is_reference(s));
    let referenced = match by_reference {
        Some(r) => match st.store.order_by_reference(&r.to_ascii_lowercase()).await {
            Ok(o) => o.filter(|o| o.user_id == u.user.id),
            Err(e) => return page_error(e),
        },
        None => None,
    };
    let found = if let Some(o) = referenced {
        Ok(vec![o])
    } else if let Some(id) = by_id {
        st.store.orders_of_user(u.user.id, &[OrderId(id)]).await
    } else if by_reference.is_some() {
        Ok(Vec::new())
    } else {
        query.link = search.clone();
        st.store.search_orders(&query).await
    };
    let orders = match found {
        Ok(o) => o,
        Err(e) => return page_error(e),
    };
    let cur = &st.config.panel.currency;
    let services = st.enabled_services().await.ok();
    let service_name = |id: smmd_domain::ServiceId| {
        services
            .as_ref()
            .and_then(|list| list.iter().find(|s| s.id == id).map(|s| s.name.clone()))
            .unwrap_or_else(|| ta("service-n", &[("n", id.0.into())]))
    };
    let page_link = |before: Option<i64>| {
        let mut params = vec![];
        if !status_filter.is_empty() {
            params.push(("status", status_filter.to_string()));
        }
        if let Some(s) = &search {
            params.push(("q", s.clone()));
        }
        if let Some(b) = before {
            params.push(("before", b.to_string()));
        }
        format!(
            "/orders?{}",
            serde_urlencoded::to_string(params).unwrap_or_default()
        )
    };
    let content = html! {
        (flash(&q))
        div.card {
            div.card-head {
                h1 { (t("nav-orders")) }
                a.button href="/orders/new" { (t("nav-new-order")) }
            }
            nav.filters {
                @for (value, label) in STATUS_FILTERS {
                    a class=[(value == status_filter).then_some("active")]
                        href=(format!("/orders?{}", serde_urlencoded::to_string([("status", value)]).unwrap_or_default())) { (t(label)) }
                }
            }
            form.search method="get" action="/orders" {
                @if !status_filter.is_empty() { input type="hidden" name="status" value=(status_filter); }
                input type="search" name="q" placeholder=(t("search-orders-placeholder")) aria-label=(t("search-orders")) value=[search.as_deref()];
                button.secondary type="submit" { (t("search")) }
            }
            @if orders.is_empty() {
                p.empty { (t("no-orders-here")) " " a href="/orders/new" { (t("place-an-order")) } }
            } @else {
                table.orders {
                    thead { tr { th { (t("order")) } th { (t("service")) } th { (t("link")) } th { (t("quantity")) } th { (t("charge")) } th { (t("start")) } th { (t("remains")) } th { (t("status")) } } }
                    tbody {
                        @for o in &orders {
                            tr data-order=(o.reference) data-status=(o.status.as_str()) {
                                td data-label=(t("order")) { (order_handle(&st, o)) }
                                td data-label=(t("service")) { (service_name(o.service_id)) }
                                td.link data-label=(t("link")) title=[o.link.as_deref()] { (o.link.as_deref().unwrap_or("—")) }
                                td data-label=(t("quantity")) { (o.total_quantity) }
                                td data-label=(t("charge")) {
                                    (o.charge) " " (cur)
                                    @if o.refunded.is_positive() { br; span.hint { "refunded " (o.refunded) } }
                                }
                                td data-label=(t("start")) { (o.start_count.map_or("—".to_string(), |s| s.to_string())) }
                                td data-label=(t("remains")) data-field="remains" { (o.remains.map_or("—".to_string(), |r| r.to_string())) }
                                td data-label=(t("status")) {
                                    (status_badge(o.status.as_str()))
                                    @if o.cancel_requested { br; span.hint { (t("cancel-requested-lower")) } }
                                }
                            }
                        }
                    }
                }
                @if orders.len() == 50 {
                    @if let Some(last) = orders.last() {
                        p { a href=(page_link(Some(last.id.0))) { (t("older-orders")) } }
                    }
                }
            }
        }
    };
    html_response(
        StatusCode::OK,
        layout(&st, &u, &t("nav-orders"), "orders", content),
    )
}

/// The caller's order by reference; another user's (or an unknown) reference is not found.
async fn own_order(st: &AppState, u: &PageUser, reference: &str) -> Result<Order, Response> {
    match st.store.order_by_reference(reference).await {
        Ok(Some(o)) if o.user_id == u.user.id => Ok(o),
        Ok(_) => Err(not_found(st, u)),
        Err(e) => Err(page_error(e)),
    }
}

fn not_found(st: &AppState, u: &PageUser) -> Response {
    html_response(
        StatusCode::NOT_FOUND,
        layout(
            st,
            u,
            &t("not-found-title"),
            "",
            html! { div.card { h1 { (t("order-not-found")) } p { (t("no-such-order")) " " a href="/orders" { (t("your-orders")) } } } },
        ),
    )
}

fn event_text(e: &smmd_store::OrderLogEntry) -> String {
    use smmd_domain::order::EventKind;
    match e.kind {
        EventKind::Placed => t("event-placed"),
        EventKind::CancelRequested => t("event-cancel-requested"),
        EventKind::Refill => ta(
            "event-refill",
            &[("status", status_label(&e.status).to_lowercase().into())],
        ),
        EventKind::Status => status_label(&e.status),
        EventKind::Stuck => t(&format!("event-stuck-{}", e.status)),
    }
}

/// `/orders/{reference}`: one order with its timeline and refills; cancel and refill buttons
/// only when the order is eligible now.
pub(super) async fn order_page(
    State(st): State<AppState>,
    u: PageUser,
    Path(reference): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let o = match own_order(&st, &u, &reference).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let refill_query = smmd_store::RefillQuery {
        user: Some(u.user.id),
        order: Some(o.id),
        before: None,
        limit: 50,
    };
    let rating_query = smmd_store::RatingQuery {
        order: Some(o.id),
        limit: 1,
        ..Default::default()
    };
    let (log, refills, service, rating) = match tokio::try_join!(
        st.store.order_log(o.id),
        st.store.search_refills(&refill_query),
        st.store.service(o.service_id),
        st.store.ratings(&rating_query),
    ) {
        Ok(x) => x,
        Err(e) => return page_error(e),
    };
    let now = st.clock.now_ms();
    let active_refill = refills.iter().any(|r| {
        matches!(
            r.status,
            smmd_domain::refill::RefillStatus::Pending
                | smmd_domain::refill::RefillStatus::InProgress
        )
    });
    let cur = &st.config.panel.currency;
    let content = html! {
        (flash(&q))
        div.card data-order=(o.reference) data-status=(o.status.as_str()) {
            div.card-head {
                h1 { (ta("order-n", &[("n", o.id.0.into())])) " " span.hint.reference { (o.reference) } }
                (status_badge(o.status.as_str()))
            }
            dl.facts {
                div { dt { (t("service")) } dd { (service.as_ref().map_or("—", |s| s.name.as_str())) } }
                div { dt { (t("link")) } dd.link { (o.link.as_deref().unwrap_or("—")) } }
                div { dt { (t("quantity")) } dd { (o.total_quantity) @if let Some(r) = o.runs { " (" (ta("n-runs", &[("n", r.into())])) ")" } } }
                div { dt { (t("charge")) } dd { (o.charge) " " (cur) (approx(&u, o.charge)) } }
                div { dt { (t("refunded")) } dd { span data-field="refunded" { (o.refunded) } " " (cur) } }
                div { dt { (t("start-count")) } dd data-field="start_count" { (o.start_count.map_or("—".to_string(), |s| s.to_string())) } }
                div { dt { (t("remains")) } dd data-field="remains" { (o.remains.map_or("—".to_string(), |r| r.to_string())) } }
                div { dt { (t("refill")) } dd data-field="refill" {
                    @if o.refill && o.guarantee_days > 0 { (ta("days-guarantee", &[("n", o.guarantee_days.into())])) } @else { (t("no-refill")) }
                } }
                div { dt { (t("placed")) } dd { (when(&st, o.created_at)) } }
            }
            @if let Some(note) = &o.note { p.note { (note) } }
            // Live updates hide the cancel button when the order ends, and show the refill
            // button when it completes (if its service refills): no reload needed.
            div.actions {
                @if orders::can_cancel(&o) {
                    form method="post" action=(format!("/orders/{}/cancel", o.reference)) data-hide-on="completed partial canceled" {
                        input type="hidden" name="csrf_token" value=(u.csrf);
                        button.secondary #cancel type="submit" { (t("cancel-order")) }
                    }
                }
                @if orders::can_refill(&o, active_refill, now) {
                    form method="post" action=(format!("/orders/{}/refill", o.reference)) {
                        input type="hidden" name="csrf_token" value=(u.csrf);
                        button #refill type="submit" { (t("request-refill")) }
                    }
                } @else if o.refill && o.guarantee_days > 0 && !o.status.is_terminal() {
                    form method="post" action=(format!("/orders/{}/refill", o.reference)) hidden data-show-on="completed partial" {
                        input type="hidden" name="csrf_token" value=(u.csrf);
                        button #refill type="submit" { (t("request-refill")) }
                    }
                }
            }
        }
        @if smmd_domain::rating::can_rate(o.status) {
            div.card #rating {
                h2 { (t("rate-service")) }
                @if let Some(r) = rating.first() {
                    p { (t("you-rated")) " " b.stars { (stars(r.stars)) } " " (r.stars) "/5"
                        @match r.status {
                            smmd_domain::rating::RatingStatus::Pending => { span.hint { " · " (t("comment-waits")) } },
                            smmd_domain::rating::RatingStatus::Rejected => { span.hint { " · " (t("not-published")) } },
                            smmd_domain::rating::RatingStatus::Approved => {},
                        }
                    }
                    @if !r.comment.is_empty() { p.hint { (r.comment) } }
                } @else {
                    form.rate method="post" action=(format!("/orders/{}/rate", o.reference)) {
                        input type="hidden" name="csrf_token" value=(u.csrf);
                        div.row {
                            div {
                                label for="stars" { (t("stars")) }
                                select #stars name="stars" required {
                                    @for n in (1..=5).rev() { option value=(n) selected[n == 5] { (stars(n)) " " (n) } }
                                }
                            }
                            div {
                                label for="comment" { (t("comment")) " " span.hint { (t("optional-shown-approved")) } }
                                input #comment type="text" name="comment" maxlength="500";
                            }
                        }
                        p { button #rate type="submit" { (t("send-rating")) } }
                    }
                }
            }
        }
        div.card {
            h2 { (t("timeline")) }
            ol.timeline data-timeline=(o.reference) data-currency=(cur) {
                @for e in &log {
                    li data-seq=(e.id) {
                        span.when { (when(&st, e.created_at)) }
                        span.what { (event_text(e)) }
                        @if let Some(a) = e.amount { span.amount { (a) " " (cur) } }
                        @if !e.detail.is_empty() { span.detail { (e.detail) } }
                    }
                }
            }
        }
        @if !refills.is_empty() {
            div.card {
                h2 { (t("nav-refills")) }
                table {
                    thead { tr { th { (t("refill")) } th { (t("requested")) } th { (t("status")) } } }
                    tbody { @for r in &refills {
                        tr { td { "#" (r.id.0) } td { (when(&st, r.created_at)) } td { (status_badge(r.status.as_str())) } }
                    } }
                }
            }
        }
    };
    html_response(
        StatusCode::OK,
        layout(
            &st,
            &u,
            &ta(
                "order-ref-title",
                &[("reference", o.reference.as_str().into())],
            ),
            "orders",
            content,
        ),
    )
}

pub(super) async fn cancel(
    State(st): State<AppState>,
    Path(reference): Path<String>,
    PageForm(u, _): PageForm,
) -> PageResult {
    let o = match own_order(&st, &u, &reference).await {
        Ok(o) => o,
        Err(r) => return Ok(r),
    };
    let back = format!("/orders/{reference}");
    match orders::cancel_order(st.app(), u.user.id, o.id).await {
        Ok(smmd_store::CancelOutcome::Canceled { refunded }) => Ok(to(
            &back,
            "ok",
            &ta(
                "order-canceled-refunded",
                &[
                    ("amount", refunded.to_string().into()),
                    ("currency", st.config.panel.currency.as_str().into()),
                ],
            ),
        )),
        Ok(smmd_store::CancelOutcome::Requested) => {
            Ok(to(&back, "ok", &t("cancel-requested-provider")))
        }
        Err(UseCaseError::Refused(r)) => Ok(to(&back, "err", &say(r.code, &r.message))),
        Err(e) => Err(e.into()),
    }
}

/// The rating form: 1–5 stars and an optional comment, once per delivered order.
pub(super) async fn rate(
    State(st): State<AppState>,
    Path(reference): Path<String>,
    PageForm(u, f): PageForm,
) -> PageResult {
    let o = match own_order(&st, &u, &reference).await {
        Ok(o) => o,
        Err(r) => return Ok(r),
    };
    let back = format!("/orders/{reference}");
    let stars: i64 = f
        .get("stars")
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0);
    let comment = f.get("comment").map(String::as_str).unwrap_or("");
    match smmd_app::storefront::rate_order(st.app(), u.user.id, o.id, stars, comment).await {
        Ok(r) => {
            st.public_catalog.invalidate();
            let said = if r.status == smmd_domain::rating::RatingStatus::Pending {
                t("rating-thanks-pending")
            } else {
                t("rating-thanks")
            };
            Ok(to(&back, "ok", &said))
        }
        Err(UseCaseError::Refused(r)) => Ok(to(&back, "err", &say(r.code, &r.message))),
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn refill(
    State(st): State<AppState>,
    Path(reference): Path<String>,
    PageForm(u, _): PageForm,
) -> PageResult {
    let o = match own_order(&st, &u, &reference).await {
        Ok(o) => o,
        Err(r) => return Ok(r),
    };
    let back = format!("/orders/{reference}");
    match orders::request_refill(st.app(), u.user.id, o.id).await {
        Ok(r) => Ok(to(
            &back,
            "ok",
            &ta("refill-requested", &[("n", r.id.0.into())]),
        )),
        Err(RefillRequestError::Store(e)) => Err(e.into()),
        Err(e) => Ok(to(
            &back,
            "err",
            &say(crate::error::Coded::code(&e), &e.to_string()),
        )),
    }
}

/// `/refills`: the caller's refill requests, newest first.
pub(super) async fn refills_page(
    State(st): State<AppState>,
    u: PageUser,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let refills = match st
        .store
        .search_refills(&smmd_store::RefillQuery {
            user: Some(u.user.id),
            order: None,
            before: q
                .get("before")
                .and_then(|b| b.parse().ok())
                .map(smmd_domain::RefillId),
            limit: 50,
        })
        .await
    {
        Ok(r) => r,
        Err(e) => return page_error(e),
    };
    let ids: Vec<OrderId> = refills.iter().map(|r| r.order_id).collect();
    let orders = match st.store.orders_of_user(u.user.id, &ids).await {
        Ok(o) => o,
        Err(e) => return page_error(e),
    };
    let reference = |id: OrderId| {
        orders
            .iter()
            .find(|o| o.id == id)
            .map(|o| o.reference.clone())
            .unwrap_or_default()
    };
    let content = html! {
        div.card {
            h1 { (t("nav-refills")) }
            @if refills.is_empty() {
                p.empty { (t("no-refills-yet")) }
            } @else {
                table {
                    thead { tr { th { (t("refill")) } th { (t("order")) } th { (t("requested")) } th { (t("status")) } } }
                    tbody { @for r in &refills {
                        tr data-order=(reference(r.order_id)) {
                            td data-label=(t("refill")) { "#" (r.id.0) }
                            td data-label=(t("order")) { a href=(format!("/orders/{}", reference(r.order_id))) { (reference(r.order_id)) } }
                            td data-label=(t("requested")) { (when(&st, r.created_at)) }
                            td data-label=(t("status")) { (status_badge(r.status.as_str())) }
                        }
                    } }
                }
            }
        }
    };
    html_response(
        StatusCode::OK,
        layout(&st, &u, &t("nav-refills"), "refills", content),
    )
}

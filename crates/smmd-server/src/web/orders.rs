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
    let t = s.service_type;
    html! {
        @if t != T::Subscriptions { (field("link", "Link", "the post, profile or page to promote", v, "url")) }
        @if t.takes_quantity() { (count_field("quantity", "Quantity", &format!("{} – {}", s.min, s.max), v, (s.min, s.max))) }
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
                div { (count_field("runs", "Drip-feed runs", "optional", v, (1, smmd_domain::service::MAX_RUNS))) }
                div { (field("interval", "Interval (minutes)", "between runs", v, "number")) }
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
                h1 { "New order" }
                a href="/orders/mass" { "Mass order →" }
            }
            form method="get" action="/orders/new" {
                div.filters-row {
                    input #service-search type="search" name="q" value=(get("q")) placeholder="Search services" aria-label="Search services";
                    select #service-platform name="platform" aria-label="Platform" {
                        option value="" { "All platforms" }
                        @for p in &platforms { option value=(p) selected[*p == platform] { (p) } }
                    }
                    select #service-type name="type" aria-label="Type" {
                        option value="" { "All types" }
                        @for k in &kinds { option value=(k) selected[*k == kind] { (k) } }
                    }
                }
                label for="service-category" { "Category" }
                select #service-category name="category" {
                    option value="*" selected[category == "*"] { "All categories" }
                    @for c in &categories { option value=(c) selected[*c == category] { (c) } }
                }
                label for="service-pick" { "Service" }
                select #service-pick name="service" {
                    @for (group_name, group) in by_category(shown.iter().copied()) {
                        optgroup label=(group_name) {
                            @for s in group {
                                @let (p, k) = platform_and_kind(&s.category);
                                option value=(s.id.0) data-platform=(p) data-type=(k) selected[chosen.is_some_and(|c| c.id == s.id)] {
                                    (s.id.0) " · " (s.name) " — " (s.rate) " " (cur) " per " @if s.service_type.is_package() { "package" } @else { "1000" }
                                }
                            }
                        }
                    }
                }
                @if shown.is_empty() { p.muted { "No service matches these filters." } }
                p { button.secondary type="submit" { "Choose" } }
            }
            @if let Some(s) = chosen {
                div.service-info {
                    div { b { "Price" } (s.rate) " " (cur) @if s.service_type.is_package() { " / package" } @else { " / 1000" } }
                    div { b { "Min – max" } (s.min) " – " (s.max) }
                    div { b { "Refill" } @if s.refill { (s.guarantee_days) " days guarantee" } @else { "No refill" } }
                    div title="From the last 10 completed orders of this service" {
                        b { "Average time" }
                        @match avg { Some(ms) => { (duration(ms)) " per 1000" }, None => span.muted { "not enough data" } }
                    }
                }
                @if let Some(p) = &public { p.hint #service-figures { (super::storefront::figures(p)) } }
                @if !s.description.is_empty() { p.muted { (s.description) } }
                form #order-form method="post" action="/orders" data-rate-micros=(s.rate.micros()) data-package=(if s.service_type.is_package() { "1" } else { "0" }) data-balance-micros=(u.user.balance.micros()) data-min=(s.min) data-max=(s.max) data-max-runs=(smmd_domain::service::MAX_RUNS) {
                    input type="hidden" name="csrf_token" value=(u.csrf);
                    input type="hidden" name="service" value=(s.id.0);
                    (order_fields(s, values))
                    div.total { "Total: " span #order-total { "—" } " " (cur) }
                    p.note #order-invalid hidden {}
                    p.muted { "Your balance: " span data-balance { (u.user.balance) } " " (cur) }
                    p.note #order-short hidden { "Your balance is too low for this order. " a href="/funds" { "Add funds" } }
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
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        3600..86_400 if s % 3600 / 60 == 0 => format!("{} h", s / 3600),
        3600..86_400 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        _ if s % 86_400 / 3600 == 0 => format!("{} d", s / 86_400),
        _ => format!("{} d {} h", s / 86_400, s % 86_400 / 3600),
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
    match orders::place_order(st.app(), u.user.id, service, &input_from(&f), None).await {
        Ok(o) => Ok(to(
            &format!("/orders/{}", o.reference),
            "ok",
            &format!(
                "Order placed: {} {} charged.",
                o.charge, st.config.panel.currency
            ),
        )),
        Err(PlaceOrderError::Rejected(e)) => {
            Ok(render_new_order(&st, &u, &f, Some(&e.to_string())).await)
        }
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

const STATUS_FILTERS: [(&str, &str); 7] = [
    ("", "All"),
    ("active", "Active"),
    ("completed", "Completed"),
    ("partial", "Partial"),
    ("canceled", "Canceled"),
    ("in_progress", "In progress"),
    ("queued", "Queued"),
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
    let by_reference = search
        .as_deref()
        .filter(|s| s.len() == 12 && s.bytes().all(|b| b.is_ascii_hexdigit()));
    let found = if let Some(id) = by_id {
        st.store.orders_of_user(u.user.id, &[OrderId(id)]).await
    } else if let Some(r) = by_reference {
        match st.store.order_by_reference(&r.to_ascii_lowercase()).await {
            Ok(o) => Ok(o.filter(|o| o.user_id == u.user.id).into_iter().collect()),
            Err(e) => Err(e),
        }
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
            .unwrap_or_else(|| format!("Service {}", id.0))
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
                h1 { "Orders" }
                a.button href="/orders/new" { "New order" }
            }
            nav.filters {
                @for (value, label) in STATUS_FILTERS {
                    a class=[(value == status_filter).then_some("active")]
                        href=(format!("/orders?{}", serde_urlencoded::to_string([("status", value)]).unwrap_or_default())) { (label) }
                }
            }
            form.search method="get" action="/orders" {
                @if !status_filter.is_empty() { input type="hidden" name="status" value=(status_filter); }
                input type="search" name="q" placeholder="Order id, reference or link" aria-label="Search orders" value=[search.as_deref()];
                button.secondary type="submit" { "Search" }
            }
            @if orders.is_empty() {
                p.empty { "No orders here yet. " a href="/orders/new" { "Place an order" } "." }
            } @else {
                table.orders {
                    thead { tr { th { "Order" } th { "Service" } th { "Link" } th { "Quantity" } th { "Charge" } th { "Start" } th { "Remains" } th { "Status" } } }
                    tbody {
                        @for o in &orders {
                            tr data-order=(o.reference) data-status=(o.status.as_str()) {
                                td data-label="Order" { (order_handle(&st, o)) }
                                td data-label="Service" { (service_name(o.service_id)) }
                                td.link data-label="Link" title=[o.link.as_deref()] { (o.link.as_deref().unwrap_or("—")) }
                                td data-label="Quantity" { (o.total_quantity) }
                                td data-label="Charge" {
                                    (o.charge) " " (cur)
                                    @if o.refunded.is_positive() { br; span.hint { "refunded " (o.refunded) } }
                                }
                                td data-label="Start" { (o.start_count.map_or("—".to_string(), |s| s.to_string())) }
                                td data-label="Remains" data-field="remains" { (o.remains.map_or("—".to_string(), |r| r.to_string())) }
                                td data-label="Status" {
                                    (status_badge(o.status.as_str()))
                                    @if o.cancel_requested { br; span.hint { "cancel requested" } }
                                }
                            }
                        }
                    }
                }
                @if orders.len() == 50 {
                    @if let Some(last) = orders.last() {
                        p { a href=(page_link(Some(last.id.0))) { "Older orders →" } }
                    }
                }
            }
        }
    };
    html_response(StatusCode::OK, layout(&st, &u, "Orders", "orders", content))
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
            "Not found",
            "",
            html! { div.card { h1 { "Order not found" } p { "There is no such order in your account. " a href="/orders" { "Your orders" } } } },
        ),
    )
}

fn event_text(e: &smmd_store::OrderLogEntry) -> String {
    use smmd_domain::order::EventKind;
    match e.kind {
        EventKind::Placed => "Order placed".to_string(),
        EventKind::CancelRequested => "Cancel requested".to_string(),
        EventKind::Refill => format!("Refill {}", status_label(&e.status).to_lowercase()),
        EventKind::Status => status_label(&e.status),
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
                h1 { "Order #" (o.id.0) " " span.hint.reference { (o.reference) } }
                (status_badge(o.status.as_str()))
            }
            dl.facts {
                div { dt { "Service" } dd { (service.as_ref().map_or("—", |s| s.name.as_str())) } }
                div { dt { "Link" } dd.link { (o.link.as_deref().unwrap_or("—")) } }
                div { dt { "Quantity" } dd { (o.total_quantity) @if let Some(r) = o.runs { " (" (r) " runs)" } } }
                div { dt { "Charge" } dd { (o.charge) " " (cur) } }
                div { dt { "Refunded" } dd { span data-field="refunded" { (o.refunded) } " " (cur) } }
                div { dt { "Start count" } dd data-field="start_count" { (o.start_count.map_or("—".to_string(), |s| s.to_string())) } }
                div { dt { "Remains" } dd data-field="remains" { (o.remains.map_or("—".to_string(), |r| r.to_string())) } }
                div { dt { "Refill" } dd data-field="refill" {
                    @if o.refill && o.guarantee_days > 0 { (o.guarantee_days) "-day guarantee" } @else { "No refill" }
                } }
                div { dt { "Placed" } dd { (when(&st, o.created_at)) } }
            }
            @if let Some(note) = &o.note { p.note { (note) } }
            // Live updates hide the cancel button when the order ends, and show the refill
            // button when it completes (if its service refills): no reload needed.
            div.actions {
                @if orders::can_cancel(&o) {
                    form method="post" action=(format!("/orders/{}/cancel", o.reference)) data-hide-on="completed partial canceled" {
                        input type="hidden" name="csrf_token" value=(u.csrf);
                        button.secondary #cancel type="submit" { "Cancel order" }
                    }
                }
                @if orders::can_refill(&o, active_refill, now) {
                    form method="post" action=(format!("/orders/{}/refill", o.reference)) {
                        input type="hidden" name="csrf_token" value=(u.csrf);
                        button #refill type="submit" { "Request refill" }
                    }
                } @else if o.refill && o.guarantee_days > 0 && !o.status.is_terminal() {
                    form method="post" action=(format!("/orders/{}/refill", o.reference)) hidden data-show-on="completed partial" {
                        input type="hidden" name="csrf_token" value=(u.csrf);
                        button #refill type="submit" { "Request refill" }
                    }
                }
            }
        }
        @if smmd_domain::rating::can_rate(o.status) {
            div.card #rating {
                h2 { "Rate this service" }
                @if let Some(r) = rating.first() {
                    p { "You rated it " b.stars { (stars(r.stars)) } " " (r.stars) "/5"
                        @match r.status {
                            smmd_domain::rating::RatingStatus::Pending => { span.hint { " · your comment waits for approval" } },
                            smmd_domain::rating::RatingStatus::Rejected => { span.hint { " · not published" } },
                            smmd_domain::rating::RatingStatus::Approved => {},
                        }
                    }
                    @if !r.comment.is_empty() { p.hint { (r.comment) } }
                } @else {
                    form.rate method="post" action=(format!("/orders/{}/rate", o.reference)) {
                        input type="hidden" name="csrf_token" value=(u.csrf);
                        div.row {
                            div {
                                label for="stars" { "Stars" }
                                select #stars name="stars" required {
                                    @for n in (1..=5).rev() { option value=(n) selected[n == 5] { (stars(n)) " " (n) } }
                                }
                            }
                            div {
                                label for="comment" { "Comment " span.hint { "optional, shown once approved" } }
                                input #comment type="text" name="comment" maxlength="500";
                            }
                        }
                        p { button #rate type="submit" { "Send rating" } }
                    }
                }
            }
        }
        div.card {
            h2 { "Timeline" }
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
                h2 { "Refills" }
                table {
                    thead { tr { th { "Refill" } th { "Requested" } th { "Status" } } }
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
            &format!("Order {}", o.reference),
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
            &format!(
                "Order canceled; {refunded} {} refunded.",
                st.config.panel.currency
            ),
        )),
        Ok(smmd_store::CancelOutcome::Requested) => {
            Ok(to(&back, "ok", "Cancel requested from the provider."))
        }
        Err(UseCaseError::Refused(r)) => Ok(to(&back, "err", &r.message)),
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
                "Thank you! Your rating counts once your comment is approved."
            } else {
                "Thank you for rating."
            };
            Ok(to(&back, "ok", said))
        }
        Err(UseCaseError::Refused(r)) => Ok(to(&back, "err", &r.message)),
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
        Ok(r) => Ok(to(&back, "ok", &format!("Refill #{} requested.", r.id.0))),
        Err(RefillRequestError::Store(e)) => Err(e.into()),
        Err(e) => Ok(to(&back, "err", &e.to_string())),
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
            h1 { "Refills" }
            @if refills.is_empty() {
                p.empty { "No refills yet. Completed orders with a guarantee show a Request refill button." }
            } @else {
                table {
                    thead { tr { th { "Refill" } th { "Order" } th { "Requested" } th { "Status" } } }
                    tbody { @for r in &refills {
                        tr data-order=(reference(r.order_id)) {
                            td data-label="Refill" { "#" (r.id.0) }
                            td data-label="Order" { a href=(format!("/orders/{}", reference(r.order_id))) { (reference(r.order_id)) } }
                            td data-label="Requested" { (when(&st, r.created_at)) }
                            td data-label="Status" { (status_badge(r.status.as_str())) }
                        }
                    } }
                }
            }
        }
    };
    html_response(
        StatusCode::OK,
        layout(&st, &u, "Refills", "refills", content),
    )
}

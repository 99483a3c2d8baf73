//! The customer's dashboard (balance, active orders, recent orders with live statuses, latest
//! notifications), mass order (`service | link | quantity` per line, a result per line) and the
//! API page (the reseller API v2 documented with examples; a new key shown once).

use smmd_app::orders;

use super::orders::when;
use super::*;

/// Orders the dashboard reads to count the active ones.
const RECENT: i64 = 100;

/// `/dashboard`.
pub(super) async fn dashboard(
    State(st): State<AppState>,
    u: PageUser,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let loaded = async {
        let orders = st
            .store
            .search_orders(&smmd_store::OrderQuery::of_user(u.user.id, RECENT))
            .await?;
        let notes = st.store.notifications_of_user(u.user.id, None, 5).await?;
        let active = st.store.active_orders(u.user.id).await?;
        Ok::<_, smmd_store::StoreError>((orders, notes, active))
    }
    .await;
    let (orders, notes, active) = match loaded {
        Ok(x) => x,
        Err(e) => return page_error(e),
    };
    let cur = &st.config.panel.currency;
    let content = html! {
        (flash(&q))
        div.card {
            div.card-head { h1 { (t("welcome-back")) } span.hint { (u.user.email) } }
            div.stats {
                div.stat { span.label { (t("balance")) } span.value { span data-balance { (u.user.balance) } " " (cur) } (approx_balance(&u)) }
                div.stat { span.label { (t("active-orders")) } span.value data-active-count { (active) } }
                div.stat { span.label { (t("unread-notifications")) } span.value data-unread-count { (u.unread) } }
                div.stat { span.label { (t("nav-orders")) } span.value { @if orders.len() as i64 == RECENT { (RECENT) "+" } @else { (orders.len()) } } }
            }
            div.quick {
                a.button href="/orders/new" { (t("nav-new-order")) }
                a.button.secondary href="/orders/mass" { (t("mass-order")) }
                a.button.secondary href="/funds" { (t("nav-funds")) }
                a.button.secondary href="/api" { (t("nav-api")) }
            }
        }
        div.card {
            div.card-head { h2 { (t("recent-orders")) } a href="/orders" { (t("all-orders")) } }
            @if orders.is_empty() {
                p.empty { (t("no-orders-yet")) " " a href="/orders/new" { (t("place-first-order")) } }
            } @else {
                table.orders {
                    thead { tr { th { (t("order")) } th { (t("link")) } th { (t("quantity")) } th { (t("charge")) } th { (t("remains")) } th { (t("status")) } } }
                    tbody { @for o in orders.iter().take(8) {
                        tr data-order=(o.reference) data-status=(o.status.as_str()) {
                            td data-label=(t("order")) { (super::orders::order_handle(&st, o)) }
                            td.link data-label=(t("link")) title=[o.link.as_deref()] { (o.link.as_deref().unwrap_or("—")) }
                            td data-label=(t("quantity")) { (o.total_quantity) }
                            td data-label=(t("charge")) { (o.charge) " " (cur) }
                            td data-label=(t("remains")) data-field="remains" { (o.remains.map_or("—".to_string(), |r| r.to_string())) }
                            td data-label=(t("status")) { (status_badge(o.status.as_str())) }
                        }
                    } }
                }
            }
        }
        div.card {
            div.card-head { h2 { (t("nav-notifications")) } a href="/notifications" { (t("all-arrow")) } }
            @if notes.is_empty() { p.muted { (t("notifications-empty")) } }
            @else {
                ul.plain { @for n in &notes {
                    li { b { (n.title) } " " span.hint { (when(&st, n.created_at)) } br; span { (n.body) } }
                } }
            }
        }
    };
    html_response(
        StatusCode::OK,
        layout(&st, &u, &t("nav-dashboard"), "dashboard", content),
    )
}

/// `/orders/mass`: the form.
pub(super) async fn mass_page(State(st): State<AppState>, u: PageUser) -> Response {
    html_response(
        StatusCode::OK,
        mass_form(&st, &u, "", &auth::random_hex(12), None, None),
    )
}

fn mass_form(
    st: &AppState,
    u: &PageUser,
    text: &str,
    batch: &str,
    error: Option<&str>,
    results: Option<Markup>,
) -> Markup {
    let content = html! {
        @if let Some(e) = error { div.flash.err { (e) } }
        @if let Some(r) = results { (r) }
        div.card {
            div.card-head { h1 { (t("mass-order")) } a href="/orders/new" { (t("back-new-order")) } }
            p.muted { (t("mass-one-per-line")) " " code { (t("mass-line-format")) } ". "
                (ta("mass-rules", &[("max", (orders::MASS_ORDER_MAX_LINES as i64).into())])) " "
                a href="/orders/new" { (t("mass-ids-where")) } }
            form method="post" action="/orders/mass" {
                input type="hidden" name="csrf_token" value=(u.csrf);
                input type="hidden" name="batch" value=(batch);
                label for="orders" { (t("nav-orders")) }
                textarea #orders name="orders" rows="10" placeholder="1 | https://instagram.com/p/abc | 1000\n2 | https://instagram.com/p/def | 500" { (text) }
                p.muted { (t("your-balance")) " " span data-balance { (u.user.balance) } " " (st.config.panel.currency) }
                button type="submit" { (t("place-orders")) }
            }
        }
    };
    layout(st, u, &t("mass-order"), "new", content)
}

/// Places each line of a mass order (`smmd_app::orders::place_mass_order`, the rules of a single order). Each
/// line's request key is `mass:<batch>:<line>`, `batch` being a random token of the form: a
/// form sent twice (a double click, a reload) places nothing twice and shows the first orders.
pub(super) async fn place_mass(State(st): State<AppState>, PageForm(u, f): PageForm) -> PageResult {
    let text = f.get("orders").map(String::as_str).unwrap_or("");
    let batch = f
        .get("batch")
        .filter(|b| (8..=64).contains(&b.len()) && b.chars().all(|c| c.is_ascii_alphanumeric()))
        .cloned()
        .unwrap_or_else(|| auth::random_hex(12));
    let rows = match orders::place_mass_order(st.app(), u.user.id, text, &batch).await? {
        Ok(rows) => rows,
        Err(e) => {
            return Ok(html_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                mass_form(&st, &u, text, &batch, Some(e), None),
            ))
        }
    };
    let cur = &st.config.panel.currency;
    let placed = rows.iter().filter(|r| r.is_ok()).count();
    let results = html! {
        div.card #mass-results {
            h2 { (ta("mass-placed", &[("placed", (placed as i64).into()), ("total", (rows.len() as i64).into())])) }
            ol.results {
                @for r in &rows {
                    @match r {
                        Ok((n, o)) => li data-line=(n) {
                            (ta("mass-line", &[("n", (*n as i64).into())])) " " a href=(format!("/orders/{}", o.reference)) { (ta("order-ref", &[("reference", o.reference.as_str().into())])) }
                            " — " (ta("amount-charged", &[("amount", o.charge.to_string().into()), ("currency", cur.as_str().into())]))
                        },
                        Err((n, why)) => li.bad data-line=(n) { (ta("mass-line", &[("n", (*n as i64).into())])) " " (why) },
                    }
                }
            }
        }
    };
    // Reload the balance: the orders were just charged.
    let u = match st.store.user(u.user.id).await? {
        Some(user) => PageUser { user, ..u },
        None => u,
    };
    let failed_text: String = rows
        .iter()
        .filter_map(|r| r.as_ref().err())
        .filter_map(|(n, _)| text.lines().nth(n - 1))
        .map(|l| format!("{}\n", l.trim()))
        .collect();
    Ok(html_response(
        StatusCode::OK,
        mass_form(
            &st,
            &u,
            &failed_text,
            &auth::random_hex(12),
            None,
            Some(results),
        ),
    ))
}

/// `/api`: the reseller API v2 with examples; the key itself is stored hashed, so the page can
/// only offer a new one.
pub(super) async fn api_page(
    State(st): State<AppState>,
    headers: HeaderMap,
    u: PageUser,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let limit = st
        .api_limits
        .limit_of(st.app(), u.user.id)
        .await
        .unwrap_or(0);
    html_response(StatusCode::OK, api_doc(&st, &headers, &u, None, limit, &q))
}

/// Makes a new API key (the old one stops working at once) and shows it on this response only.
pub(super) async fn new_api_key(
    State(st): State<AppState>,
    headers: HeaderMap,
    PageForm(u, f): PageForm,
) -> Response {
    if let Err(e) = u.step_up(&st, f.get("code").map(String::as_str)).await {
        return match e {
            smmd_app::UseCaseError::Refused(r) => {
                super::to("/api", "err", &say(r.code, &r.message))
            }
            e => page_error(e),
        };
    }
    match smmd_app::accounts::rotate_api_key(st.app(), u.user.id).await {
        Ok(key) => {
            st.api_keys.invalidate_user(u.user.id);
            let limit = st
                .api_limits
                .limit_of(st.app(), u.user.id)
                .await
                .unwrap_or(0);
            let doc = api_doc(&st, &headers, &u, Some(&key), limit, &HashMap::new());
            let mut resp = html_response(StatusCode::OK, doc);
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
        Err(e) => page_error(e),
    }
}

/// One action of the API documentation: what it does, its parameters, a request and a reply.
pub(super) struct Doc {
    action: &'static str,
    /// The catalogue key of what it does.
    pub(super) what: &'static str,
    params: &'static str,
    reply: &'static str,
}

pub(super) const DOCS: [Doc; 7] = [
    Doc {
        action: "services",
        what: "api-doc-services",
        params: "",
        reply: r#"[{"service":1,"name":"Instagram Followers","type":"Default","category":"Instagram Followers","rate":"0.90","min":"50","max":"10000","refill":true,"cancel":true,"dripfeed":true}]"#,
    },
    Doc {
        action: "add",
        what: "api-doc-add",
        params: "&service=1&link=https://instagram.com/p/abc&quantity=1000",
        reply: r#"{"order":23501}"#,
    },
    Doc {
        action: "status",
        what: "api-doc-status",
        params: "&order=23501",
        reply: r#"{"charge":"0.90","start_count":"3572","status":"Partial","remains":"157","currency":"USD"}"#,
    },
    Doc {
        action: "refill",
        what: "api-doc-refill",
        params: "&order=23501",
        reply: r#"{"refill":"1"}"#,
    },
    Doc {
        action: "refill_status",
        what: "api-doc-refill-status",
        params: "&refill=1",
        reply: r#"{"status":"Completed"}"#,
    },
    Doc {
        action: "cancel",
        what: "api-doc-cancel",
        params: "&orders=23501,23502",
        reply: r#"[{"order":23501,"cancel":1},{"order":23502,"cancel":{"error":"Incorrect order ID"}}]"#,
    },
    Doc {
        action: "balance",
        what: "api-doc-balance",
        params: "",
        reply: r#"{"balance":"100.84","currency":"USD"}"#,
    },
];

/// The reseller API's page; `limit` is the user's requests a minute (0: no limit).
fn api_doc(
    st: &AppState,
    headers: &HeaderMap,
    u: &PageUser,
    new_key: Option<&str>,
    limit: u32,
    q: &HashMap<String, String>,
) -> Markup {
    let url = format!("{}/api/v2", st.config.url_for(headers));
    let content = html! {
        (super::flash(q))
        div.card {
            div.card-head { h1 { (t("nav-api")) } span.hint { (t("api-subtitle")) } }
            div.service-info {
                div { b { "URL" } code { (url) } }
                div { b { (t("api-method")) } (t("api-method-value")) }
                div { b { (t("api-format")) } (t("api-format-value")) }
                div { b { (t("api-key-label")) } (ta("api-key-field", &[("field", "key".into())])) }
                div #api-limit {
                    b { (t("api-limit-label")) }
                    @if limit == 0 { (t("api-no-limit")) } @else { (ta("api-limit", &[("n", i64::from(limit).into())])) }
                }
            }
            h2 { (t("api-your-key")) }
            @if let Some(key) = new_key {
                div.flash.ok { (t("api-new-key")) }
                div.key { input #api-key type="text" readonly value=(key) aria-label=(t("api-key")); }
            } @else {
                p.muted { (t("api-key-hashed")) }
            }
            form method="post" action="/api" {
                input type="hidden" name="csrf_token" value=(u.csrf);
                (super::code_field(st, u, false))
                p { button #new-api-key .secondary[new_key.is_some()] type="submit" { (t("api-generate")) } }
            }
        }
        div.card {
            h2 { (t("api-actions")) }
            p.muted { (t("api-every-request")) " " code { "key" } ", " code { "action" } ". " (t("api-errors-come-back")) " " code { "{\"error\":\"…\"}" } " (HTTP 200)." }
            @if limit > 0 {
                p.muted { (t("api-burst")) " " code { "Retry-After" } ", " code { "X-RateLimit-Limit" } ", " code { "X-RateLimit-Remaining" } ". " (t("api-reseller-plan")) }
            }
            @for d in &DOCS {
                h3 #(format!("action-{}", d.action)) { code { "action=" (d.action) } }
                p { (t(d.what)) }
                pre { "curl -X POST " (url) " \\\n  -d 'key=YOUR_KEY&action=" (d.action) (d.params) "'" }
                pre.reply { (d.reply) }
            }
        }
    };
    layout(st, u, &t("nav-api"), "api", content)
}

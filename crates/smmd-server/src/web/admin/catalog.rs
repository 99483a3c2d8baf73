//! Admin pages of the catalog: services (filters; edit name, rate, min/max, markup, enabled,
//! auto-refill — each edit becomes an override service sync keeps), categories (markup), and
//! providers (add, edit with their limits, balance, test, enable, and an import that shows what
//! a sync would change before it changes anything).

use smmd_domain::ProviderId;
use smmd_store::{Service, ServiceSyncOp};

use super::*;

/// Rows the services page shows at once; filters narrow a larger catalog.
const SERVICE_ROWS: usize = 200;

/// `/admin/services?q=&provider=&enabled=`: services by category, with an edit form each
/// (`PATCH /api/admin/services/{id}`), and the categories with their markup
/// (`PATCH /api/admin/categories/{id}`).
pub(super) async fn services_page(
    State(st): State<AppState>,
    AdminPage(u): AdminPage,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let loaded = async {
        Ok::<_, smmd_store::StoreError>((
            st.store.list_services(false).await?,
            st.store.list_categories().await?,
            st.store.providers().await?,
        ))
    }
    .await;
    let (services, categories, providers) = match loaded {
        Ok(x) => x,
        Err(e) => return page_error(e),
    };
    let needle = q
        .get("q")
        .map(|s| s.trim().to_lowercase())
        .unwrap_or_default();
    let provider = q.get("provider").and_then(|p| p.parse::<i64>().ok());
    let enabled = match q.get("enabled").map(String::as_str) {
        Some("yes") => Some(true),
        Some("no") => Some(false),
        _ => None,
    };
    let matching: Vec<&Service> = services
        .iter()
        .filter(|s| {
            needle.is_empty()
                || s.name.to_lowercase().contains(&needle)
                || s.category.to_lowercase().contains(&needle)
        })
        .filter(|s| provider.is_none_or(|p| s.provider_id.map(|x| x.0) == Some(p)))
        .filter(|s| enabled.is_none_or(|e| s.enabled == e))
        .collect();
    let cur = &st.config.panel.currency;
    let default_markup = st.config.fulfil.default_markup_bp;
    // The markup that prices a service, and where it comes from (the sync's order: the
    // service's own, its category's, the panel default).
    let markup_of = |svc: &smmd_store::Service| match svc.markup_bp {
        Some(bp) => (bp, "own"),
        None => categories
            .iter()
            .find(|c| c.name == svc.category)
            .and_then(|c| c.markup_bp)
            .map_or((default_markup, "default"), |bp| (bp, "category")),
    };
    let chosen = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
    let content = html! {
        div.card {
            div.card-head { h1 { "Services" } span.hint { (matching.len()) " of " (services.len()) } }
            form.search.wide method="get" action="/admin/services" {
                input type="search" name="q" placeholder="Name or category" value=(chosen("q"));
                select name="provider" aria-label="Provider" {
                    option value="" { "Any provider" }
                    @for p in &providers { option value=(p.id.0) selected[provider == Some(p.id.0)] { (p.name) } }
                }
                select name="enabled" aria-label="Enabled" {
                    option value="" { "Enabled and disabled" }
                    option value="yes" selected[enabled == Some(true)] { "Enabled" }
                    option value="no" selected[enabled == Some(false)] { "Disabled" }
                }
                button.secondary type="submit" { "Filter" }
            }
            table.admin {
                thead { tr { th { "Service" } th { "Rate / 1000" } th { "Provider rate" } th { "Min – max" } th { "Markup" } th { "State" } th { "Edit" } } }
                tbody { @for s in matching.iter().take(SERVICE_ROWS) {
                    tr #(format!("s-{}", s.id.0)) {
                        td data-label="Service" { b { (s.name) } br; span.hint { "#" (s.id.0) " · " (s.category) " · " (s.service_type) } }
                        td data-label="Rate / 1000" { (s.rate) " " (cur) }
                        td data-label="Provider rate" {
                            @match (s.provider_rate, &s.provider_currency) {
                                (Some(r), Some(c)) => { (r) " " (c) br; span.hint { (provider_label(&providers, s.provider_id)) " #" (s.provider_service_id.as_deref().unwrap_or("?")) } }
                                _ => span.muted { "own service" },
                            }
                        }
                        td data-label="Min – max" { (s.min) " – " (s.max) }
                        td data-label="Markup" {
                            @let (bp, from) = markup_of(s);
                            (percent(bp)) br; span.hint { (from) }
                            @if s.overrides.iter().any(|o| o == "rate") { br; span.hint { "rate set by hand" } }
                        }
                        td data-label="State" {
                            @if s.enabled { span.status.s-completed { "Enabled" } } @else { span.status.s-canceled { "Disabled" } }
                            @if s.auto_refill { br; span.hint { "auto-refill" } }
                            @if !s.overrides.is_empty() { br; span.hint title="Fields service sync leaves alone" { "overrides: " (s.overrides.join(", ")) } }
                        }
                        td data-label="Edit" {
                            details {
                                summary { "Edit" }
                                (api_form("PATCH", &format!("/api/admin/services/{}", s.id.0), "Service saved", html! {
                                    label { "Name" input type="text" name="name" value=(s.name) maxlength="200" required; }
                                    label { "Rate per 1000 (" (cur) ")" input type="text" inputmode="decimal" name="rate" value=(s.rate.to_string()) required; }
                                    div.row {
                                        label { "Min" input type="number" name="min" data-type="int" value=(s.min) min="0" required; }
                                        label { "Max" input type="number" name="max" data-type="int" value=(s.max) min="1" required; }
                                    }
                                    label { "Markup % (empty = category's)" input type="text" inputmode="decimal" name="markup_bp" data-type="percent" value=[s.markup_bp.map(percent_value)]; }
                                    @if s.markup_bp.is_some() { label.check { input type="checkbox" name="clear_markup"; " Use the category's markup" } }
                                    label.check { input type="checkbox" name="enabled" checked[s.enabled]; " Enabled" }
                                    label.check { input type="checkbox" name="auto_refill" checked[s.auto_refill]; " Refill drops automatically" }
                                    label { "Refill guarantee (days)" input type="number" min="0" max="365" name="guarantee_days" data-type="int" value=(s.guarantee_days); }
                                    label { "Description " span.hint { "shown on the services page and the order form" }
                                        textarea name="description" rows="3" maxlength="5000" data-keep-empty="1" { (s.description) } }
                                    button.small type="submit" { "Save" }
                                }))
                            }
                        }
                    }
                } }
            }
            @if matching.len() > SERVICE_ROWS { p.muted { "Showing the first " (SERVICE_ROWS) "; narrow the filters to see the rest." } }
        }
        div.card {
            div.card-head { h2 { "Categories" } span.hint { "Default markup " (percent(default_markup)) } }
            table.admin {
                thead { tr { th { "Category" } th { "Services" } th { "Markup" } } }
                tbody { @for c in &categories {
                    tr {
                        td data-label="Category" { (c.name) }
                        td data-label="Services" { (c.services) }
                        td data-label="Markup" {
                            (api_form("PATCH", &format!("/api/admin/categories/{}", c.id.0), "Category markup saved", html! {
                                input.narrow type="text" inputmode="decimal" name="markup_bp" data-type="percent" data-null-if-empty="1"
                                    value=[c.markup_bp.map(percent_value)] placeholder="default" aria-label="Markup %";
                                " % "
                                button.small.secondary type="submit" { "Save" }
                            }))
                        }
                    }
                } }
            }
        }
    };
    html_response(
        StatusCode::OK,
        layout(&st, &u, "Services", "admin-services", content),
    )
}

fn provider_label(providers: &[smmd_store::Provider], id: Option<ProviderId>) -> String {
    id.and_then(|id| providers.iter().find(|p| p.id == id))
        .map_or_else(|| "provider".to_string(), |p| p.name.clone())
}

/// Bytes as an owner reads them (`1 GiB`, `1 MiB`, `512 KiB`, `1536 B`).
fn bytes(n: i64) -> String {
    match n {
        n if n >= 1 << 30 && n % (1 << 30) == 0 => format!("{} GiB", n >> 30),
        n if n >= 1 << 20 && n % (1 << 20) == 0 => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 && n % (1 << 10) == 0 => format!("{} KiB", n >> 10),
        n => format!("{n} B"),
    }
}

/// The fields of the add form (`p` = `None`: defaults, key required) and of a provider's edit
/// form (its values; an empty key keeps the current one). One set of fields for both, read by
/// `POST /api/admin/providers` and `PATCH /api/admin/providers/{id}`.
fn provider_fields(p: Option<&smmd_store::Provider>) -> Markup {
    let limits = p.map(|p| p.limits).unwrap_or_default();
    let [answer, services, jump] = smmd_app::providers::LIMIT_RANGES;
    html! {
        label { "Name" input type="text" name="name" value=[p.map(|p| &p.name)] maxlength="100" required; }
        label { "API v2 URL" input type="url" name="url" value=[p.map(|p| &p.url)] placeholder="https://provider.example/api/v2" required; }
        @match p {
            None => label { "API key" input type="password" name="key" autocomplete="off" required; },
            Some(_) => label { "API key (empty keeps the current one)" input type="password" name="key" autocomplete="new-password" placeholder="unchanged"; },
        }
        div.row {
            label { "Currency" input type="text" name="currency" value=(p.map_or("USD", |p| &p.currency)) maxlength="3" required; }
            label { "Exchange rate" input type="text" inputmode="decimal" name="exchange_rate" value=(p.map_or("1".to_string(), |p| Money::from_micros(p.exchange_rate).to_string())) required; }
        }
        label { "Alert when the balance is below (provider currency; empty = never)"
            input type="text" inputmode="decimal" name="alert_below" data-keep-empty="1" value=[p.and_then(|p| p.balance_alert_below).map(|m| m.to_string())]; }
        div.row {
            label { "Timeout, ms" input type="number" name="timeout_ms" data-type="int" min="100" max="600000" value=(p.map_or(30_000, |p| p.timeout_ms)) required; }
            label { "Calls at once" input type="number" name="max_concurrency" data-type="int" min="1" max="256" value=(p.map_or(8, |p| p.max_concurrency)) required; }
            label { "Requests/s (0 = no limit)" input type="number" name="rate_per_sec" data-type="int" min="0" max="100000" value=(p.and_then(|p| p.rate_per_sec).unwrap_or(0)); }
        }
        details.limits {
            summary { "Limits: answers up to " (bytes(limits.answer_max_bytes)) ", services up to " (bytes(limits.services_max_bytes)) ", provider price changes beyond x" (percent_value(limits.price_jump_pct)) " held" }
            label { "Largest answer, bytes (" (bytes(answer.1)) " to " (bytes(answer.2)) ")"
                input type="number" name="answer_max_bytes" data-type="int" min=(answer.1) max=(answer.2) value=(limits.answer_max_bytes) required; }
            label { "Largest services list, bytes (" (bytes(services.1)) " to " (bytes(services.2)) ")"
                input type="number" name="services_max_bytes" data-type="int" min=(services.1) max=(services.2) value=(limits.services_max_bytes) required; }
            label { "Hold a provider price change beyond, % (200 = twice or half; " (jump.1) " to " (jump.2) ")"
                input type="number" name="price_jump_pct" data-type="int" min=(jump.1) max=(jump.2) value=(limits.price_jump_pct) required; }
        }
        label.check { input type="checkbox" name="check_key" checked; " Test the key with the provider first" }
    }
}

/// `/admin/providers`: each provider's balance (last read), threshold, limits and state, with
/// edit, test, check-balance, enable/disable and import actions, and a form to add one.
pub(super) async fn providers_page(
    State(st): State<AppState>,
    AdminPage(u): AdminPage,
) -> Response {
    let providers = match st.store.providers().await {
        Ok(p) => p,
        Err(e) => return page_error(e),
    };
    let services = match st.store.list_services(false).await {
        Ok(s) => s,
        Err(e) => return page_error(e),
    };
    let content = html! {
        div.card {
            div.card-head { h1 { "Providers" } }
            @if st.fulfil.is_none() { div.flash.err { "Set security.secret_key in the configuration to call providers." } }
            @if providers.is_empty() { p.empty { "No providers yet: add one below (or with " code { "smmd provider add" } ")." } }
            details.add-provider open[providers.is_empty()] {
                summary.button.small { "Add a provider" }
                (api_form("POST", "/api/admin/providers", "Provider added", html! {
                    (provider_fields(None))
                    (super::super::code_field(&st, &u, true))
                    button type="submit" { "Add provider" }
                }))
            }
            table.admin {
                thead { tr { th { "Provider" } th { "Balance" } th { "Services" } th { "State" } th { "Actions" } } }
                tbody { @for p in &providers {
                    tr #(format!("p-{}", p.id.0)) {
                        td data-label="Provider" { div {
                            b { (p.name) } br; span.hint { (p.url) }
                            br; span.hint { "answers ≤ " (bytes(p.limits.answer_max_bytes)) ", services ≤ " (bytes(p.limits.services_max_bytes)) ", holds price changes beyond x" (percent_value(p.limits.price_jump_pct)) }
                        } }
                        td data-label="Balance" { div {
                            @match p.balance {
                                Some(b) => {
                                    (b) " " (p.currency)
                                    @if p.balance_alert_below.is_some_and(|low| b < low) { " " span.status.s-needs_review { "low" } }
                                    br; span.hint { "checked " (p.balance_checked_at.map(|t| when(&st, t)).unwrap_or_default()) }
                                }
                                None => span.muted { "not checked yet" },
                            }
                            @if let Some(low) = p.balance_alert_below { br; span.hint { "alert below " (low) } }
                        } }
                        td data-label="Services" { (services.iter().filter(|s| s.provider_id == Some(p.id)).count()) }
                        td data-label="State" {
                            @if p.enabled { span.status.s-completed { "Enabled" } } @else { span.status.s-canceled { "Disabled" } }
                        }
                        td.actions data-label="Actions" {
                            details.edit {
                                summary { "Edit" }
                                (api_form("PATCH", &format!("/api/admin/providers/{}", p.id.0), "Provider saved", html! {
                                    (provider_fields(Some(p)))
                                    (super::super::code_field(&st, &u, true))
                                    button.small type="submit" { "Save" }
                                }))
                            }
                            a.button.small href=(format!("/admin/providers/{}/import", p.id.0)) { "Import services…" }
                            (api_form("POST", &format!("/api/admin/providers/{}/balance", p.id.0), "Balance checked", html! {
                                button.small.secondary type="submit" { "Check balance" }
                            }))
                            (api_form("POST", &format!("/api/admin/providers/{}/test", p.id.0), "The provider answered", html! {
                                button.small.secondary type="submit" { "Test" }
                            }))
                            (api_form("POST", &format!("/api/admin/providers/{}/enable", p.id.0), if p.enabled { "Provider disabled" } else { "Provider enabled" }, html! {
                                input type="hidden" name="enabled" data-type="bool" value=(if p.enabled { "false" } else { "true" });
                                button.small.secondary type="submit" { @if p.enabled { "Disable" } @else { "Enable" } }
                            }))
                        }
                    }
                } }
            }
        }
    };
    html_response(
        StatusCode::OK,
        layout(&st, &u, "Providers", "admin-providers", content),
    )
}

/// `/admin/providers/{id}/import`: reads the provider's catalog now and shows what
/// `services.sync` would do — new services with their selling rate, changed fields old → new,
/// services to disable — writing nothing; "Apply" runs the sync (`POST
/// /api/admin/providers/{id}/sync`).
pub(super) async fn import_preview(
    State(st): State<AppState>,
    AdminPage(u): AdminPage,
    Path(id): Path<String>,
) -> Response {
    let not_found = || {
        html_response(
            StatusCode::NOT_FOUND,
            layout(
                &st,
                &u,
                "Not found",
                "admin-providers",
                html! { div.card { h1 { "No such provider" } } },
            ),
        )
    };
    let Ok(id) = id.parse::<i64>() else {
        return not_found();
    };
    let p = match st.store.provider(ProviderId(id)).await {
        Ok(Some(p)) => p,
        Ok(None) => return not_found(),
        Err(e) => return page_error(e),
    };
    let cur = &st.config.panel.currency;
    let planned = match &st.fulfil {
        Some(f) => smmd_fulfil::catalog::plan(f, &p, false)
            .await
            .map_err(|e| e.to_string()),
        None => Err("Set security.secret_key in the configuration to call providers.".into()),
    };
    let services = match st.store.list_services(false).await {
        Ok(s) => s,
        Err(e) => return page_error(e),
    };
    let name_of = |sid: smmd_domain::ServiceId| {
        services
            .iter()
            .find(|s| s.id == sid)
            .map_or_else(|| format!("#{}", sid.0), |s| s.name.clone())
    };
    let content = html! {
        div.card {
            div.card-head { h1 { "Import from " (p.name) } a href="/admin/providers" { "← Providers" } }
            @match &planned {
                Err(e) => div.flash.err { "The provider's catalog could not be read: " (e) },
                Ok(smmd_fulfil::catalog::Plan { ops, report, held }) => {
                    @let creates: Vec<_> = ops.iter().filter_map(|o| match o { ServiceSyncOp::Create(d) => Some(d), _ => None }).collect();
                    @let updates: Vec<_> = ops.iter().filter_map(|o| match o { ServiceSyncOp::Update { id, changes, .. } => Some((id, changes)), _ => None }).collect();
                    @let disables: Vec<_> = ops.iter().filter_map(|o| match o { ServiceSyncOp::Disable { id } => Some(id), _ => None }).collect();
                    div.stats {
                        div.stat { span.label { "New" } span.value { (creates.len()) } }
                        div.stat { span.label { "Changed" } span.value { (updates.len()) } }
                        div.stat { span.label { "To disable" } span.value { (disables.len()) } }
                        div.stat { span.label { "Unchanged" } span.value { (report.get("unchanged").copied().unwrap_or(0)) } }
                    }
                    @if let Some(n) = report.get("skipped").filter(|n| **n > 0) { p.muted { (n) " entries were skipped (unknown type or unreadable)." } }
                    @if ops.is_empty() && held.is_empty() { p { "Everything is up to date." } }
                    @else if !ops.is_empty() {
                        (api_form("POST", &format!("/api/admin/providers/{}/sync", p.id.0), "Import applied", html! {
                            button #apply-import type="submit" { "Apply these changes" }
                        }))
                    }
                    @if !held.is_empty() {
                        h2 { "Price changes held for approval" }
                        p.muted {
                            "These provider rates moved by more than ×" (p.limits.price_jump_pct / 100) "." (format!("{:02}", p.limits.price_jump_pct % 100))
                            " since the last sync (a currency setting changed upstream?). Their services keep their current rates until you apply them."
                        }
                        table.admin #held-price-jumps {
                            thead { tr { th { "Service" } th { "Provider rate now" } th { "Provider rate answered" } } }
                            tbody { @for j in held {
                                tr {
                                    td data-label="Service" { (j.name) }
                                    td data-label="Provider rate now" { (j.old_cost) " " (p.currency) }
                                    td data-label="Provider rate answered" { b { (j.new_cost) " " (p.currency) } }
                                }
                            } }
                        }
                        (api_form("POST", &format!("/api/admin/providers/{}/sync?approve_price_jumps=true", p.id.0), "Import applied with the held price changes", html! {
                            button #apply-price-jumps.danger type="submit" { "Apply everything, held price changes included" }
                        }))
                    }
                    @if !creates.is_empty() {
                        h2 { "New services" }
                        table.admin {
                            thead { tr { th { "Upstream id" } th { "Category" } th { "Name" } th { "Provider rate" } th { "Our rate" } th { "Min – max" } } }
                            tbody { @for d in &creates {
                                tr {
                                    td data-label="Upstream id" { (d.provider_service_id.as_deref().unwrap_or("")) }
                                    td data-label="Category" { (d.category) }
                                    td data-label="Name" { (d.name) }
                                    td data-label="Provider rate" { (d.provider_rate.map(|r| r.to_string()).unwrap_or_default()) " " (p.currency) }
                                    td data-label="Our rate" { b { (d.rate) " " (cur) } }
                                    td data-label="Min – max" { (d.min) " – " (d.max) }
                                }
                            } }
                        }
                    }
                    @if !updates.is_empty() {
                        h2 { "Changes" }
                        table.admin {
                            thead { tr { th { "Service" } th { "Field" } th { "Now" } th { "After" } } }
                            tbody { @for (sid, changes) in &updates { @for c in changes.iter() {
                                tr {
                                    td data-label="Service" { (name_of(**sid)) }
                                    td data-label="Field" { (c.field) }
                                    td data-label="Now" { (c.old.as_deref().unwrap_or("—")) }
                                    td data-label="After" { b { (c.new.as_deref().unwrap_or("—")) } }
                                }
                            } } }
                        }
                    }
                    @if !disables.is_empty() {
                        h2 { "Gone upstream: will be disabled" }
                        ul.plain { @for sid in &disables { li { (name_of(**sid)) } } }
                    }
                }
            }
        }
    };
    html_response(
        StatusCode::OK,
        layout(&st, &u, "Import services", "admin-providers", content),
    )
}

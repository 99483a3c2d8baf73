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
    let ids: Vec<smmd_domain::ServiceId> = services.iter().map(|s| s.id).collect();
    let guard = async {
        Ok::<_, smmd_store::StoreError>((
            st.store.margin_terms(&ids).await?,
            st.store.held_services().await?,
            st.store.stuck_rules(&ids).await?,
            st.store.fallback_offers().await?,
        ))
    }
    .await;
    let (terms, held, stuck_rules, fallbacks) = match guard {
        Ok(x) => x,
        Err(e) => return page_error(e),
    };
    let default_margin = st.config.fulfil.default_min_margin_bp;
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
        @if !held.is_empty() { (held_card(&st, cur, &held)) }
        div.card {
            div.card-head { h1 { (t("nav-services")) } span.hint { (matching.len()) " " (t("adm-of")) " " (services.len()) } }
            form.search.wide method="get" action="/admin/services" {
                input type="search" name="q" placeholder=(t("adm-name-or-category")) value=(chosen("q"));
                select name="provider" aria-label=(t("adm-provider")) {
                    option value="" { (t("adm-any-provider")) }
                    @for p in &providers { option value=(p.id.0) selected[provider == Some(p.id.0)] { (p.name) } }
                }
                select name="enabled" aria-label=(t("adm-enabled")) {
                    option value="" { (t("adm-enabled-and-disabled")) }
                    option value="yes" selected[enabled == Some(true)] { (t("adm-enabled")) }
                    option value="no" selected[enabled == Some(false)] { (t("adm-disabled")) }
                }
                button.secondary type="submit" { (t("filter")) }
            }
            table.admin {
                thead { tr { th { (t("service")) } th { (t("adm-rate-1000")) } th { (t("adm-provider-rate")) } th { (t("min-max")) } th { (t("adm-markup")) } th { (t("state")) } th { (t("adm-edit")) } } }
                tbody { @for s in matching.iter().take(SERVICE_ROWS) {
                    tr #(format!("s-{}", s.id.0)) {
                        td data-label=(t("service")) { b { (s.name) } br; span.hint { "#" (s.id.0) " · " (s.category) " · " (s.service_type) } }
                        td data-label=(t("adm-rate-1000")) { (s.rate) " " (cur) }
                        td data-label=(t("adm-provider-rate")) {
                            @match (s.provider_rate, &s.provider_currency) {
                                (Some(r), Some(c)) => { (r) " " (c) br; span.hint { (provider_label(&providers, s.provider_id)) " #" (s.provider_service_id.as_deref().unwrap_or("?")) } }
                                _ => span.muted { (t("adm-own-service")) },
                            }
                        }
                        td data-label=(t("min-max")) { (s.min) " – " (s.max) }
                        td data-label=(t("adm-markup")) {
                            @let (bp, from) = markup_of(s);
                            (percent(bp)) br; span.hint { (from) }
                            @if s.overrides.iter().any(|o| o == "rate") { br; span.hint { (t("adm-rate-set-by-hand")) } }
                            @if let Some(g) = terms.get(&s.id) {
                                br; span.hint.margin {
                                    (t("adm-min-margin")) " "
                                    (percent(smmd_domain::margin::effective_margin(g.min_margin_bp, g.category_margin_bp, default_margin)))
                                    " · " (breach_label(g.action))
                                }
                            }
                        }
                        td data-label=(t("state")) {
                            @if s.enabled { span.status.s-completed { (t("adm-enabled")) } } @else { span.status.s-canceled { (t("adm-disabled")) } }
                            @if s.auto_refill { br; span.hint { "auto-refill" } }
                            @if !s.overrides.is_empty() { br; span.hint title=(t("adm-fields-service-sync-leaves-alone")) { (t("adm-overrides")) ": " (s.overrides.join(", ")) } }
                        }
                        td data-label=(t("adm-edit")) {
                            details {
                                summary { (t("adm-edit")) }
                                (api_form("PATCH", &format!("/api/admin/services/{}", s.id.0), &t("adm-service-saved"), html! {
                                    label { (t("adm-name")) input type="text" name="name" value=(s.name) maxlength="200" required; }
                                    label { (t("adm-rate-per-1000")) (cur) ")" input type="text" inputmode="decimal" name="rate" value=(s.rate.to_string()) required; }
                                    div.row {
                                        label { (t("adm-min")) input type="number" name="min" data-type="int" value=(s.min) min="0" required; }
                                        label { (t("adm-max")) input type="number" name="max" data-type="int" value=(s.max) min="1" required; }
                                    }
                                    label { (t("adm-markup-empty-category-s")) input type="text" inputmode="decimal" name="markup_bp" data-type="percent" value=[s.markup_bp.map(percent_value)]; }
                                    @if s.markup_bp.is_some() { label.check { input type="checkbox" name="clear_markup"; " " (t("adm-use-the-category-s-markup")) } }
                                    label.check { input type="checkbox" name="enabled" checked[s.enabled]; " " (t("adm-enabled")) }
                                    label.check { input type="checkbox" name="auto_refill" checked[s.auto_refill]; " " (t("adm-refill-drops-automatically")) }
                                    label { (t("adm-refill-guarantee-days")) input type="number" min="0" max="365" name="guarantee_days" data-type="int" value=(s.guarantee_days); }
                                    label { (t("description")) " " span.hint { (t("adm-shown-on-the-services-page")) }
                                        textarea name="description" rows="3" maxlength="5000" data-keep-empty="1" { (s.description) } }
                                    button.small type="submit" { (t("save")) }
                                }))
                                @if let Some(g) = terms.get(&s.id) { (margin_form(s.id, g)) }
                                @if let Some(r) = stuck_rules.get(&s.id) { (stuck_form(&st, s.id, r)) }
                                (offers_form(s, fallbacks.get(&s.id).map_or(&[][..], Vec::as_slice), &providers))
                            }
                        }
                    }
                } }
            }
            @if matching.len() > SERVICE_ROWS { p.muted { (t("adm-showing-the-first")) " " (SERVICE_ROWS) (t("adm-narrow-the-filters-to-see")) } }
        }
        div.card {
            div.card-head { h2 { (t("adm-categories")) } span.hint { (t("adm-default-markup")) " " (percent(default_markup)) } }
            table.admin {
                thead { tr { th { (t("category")) } th { (t("nav-services")) } th { (t("adm-markup")) } th { (t("adm-min-margin")) } } }
                tbody { @for c in &categories {
                    tr {
                        td data-label=(t("category")) { (c.name) }
                        td data-label=(t("nav-services")) { (c.services) }
                        td data-label=(t("adm-markup")) {
                            (api_form("PATCH", &format!("/api/admin/categories/{}", c.id.0), &t("adm-category-markup-saved"), html! {
                                input.narrow type="text" inputmode="decimal" name="markup_bp" data-type="percent" data-null-if-empty="1"
                                    value=[c.markup_bp.map(percent_value)] placeholder="default" aria-label=(t("adm-markup-2"));
                                " % "
                                button.small.secondary type="submit" { (t("save")) }
                            }))
                        }
                        td data-label=(t("adm-min-margin")) {
                            (api_form("PUT", &format!("/api/admin/categories/{}/margin", c.id.0), &t("adm-margin-saved"), html! {
                                input.narrow type="text" inputmode="decimal" name="min_margin_bp" data-type="percent" data-null-if-empty="1"
                                    value=[c.min_margin_bp.map(percent_value)] placeholder=(percent_value(default_margin)) aria-label=(t("adm-min-margin"));
                                " % "
                                button.small.secondary type="submit" { (t("save")) }
                            }))
                        }
                    }
                } }
            }
        }
    };
    html_response(
        StatusCode::OK,
        layout(&st, &u, &t("nav-services"), "admin-services", content),
    )
}

/// What a service does when its live cost passes its price minus the minimum margin.
fn breach_label(a: smmd_domain::margin::MarginAction) -> String {
    match a {
        smmd_domain::margin::MarginAction::Hold => t("adm-breach-hold"),
        smmd_domain::margin::MarginAction::Reprice => t("adm-breach-reprice"),
    }
}

/// The margin guard's form of one service (`PUT /api/admin/services/{id}/margin`).
fn margin_form(id: smmd_domain::ServiceId, g: &smmd_store::MarginTerms) -> Markup {
    use smmd_domain::margin::MarginAction;
    html! {
        (api_form("PUT", &format!("/api/admin/services/{}/margin", id.0), &t("adm-margin-saved"), html! {
            label { (t("adm-min-margin-empty")) input type="text" inputmode="decimal" name="min_margin_bp" data-type="percent" data-null-if-empty="1" value=[g.min_margin_bp.map(percent_value)]; }
            label { (t("adm-on-breach"))
                select name="action" {
                    @for a in [MarginAction::Hold, MarginAction::Reprice] {
                        option value=(a.as_str()) selected[g.action == a] { (breach_label(a)) }
                    }
                }
            }
            button.small.secondary type="submit" { (t("adm-save-margin")) }
        }))
    }
}

/// A service's offers (offer failover): its own provider, each fallback with a remove button
/// (`DELETE /api/admin/services/{id}/offers/{index}`), and a form to add one
/// (`POST /api/admin/services/{id}/offers`).
fn offers_form(
    s: &Service,
    fallbacks: &[smmd_store::Offer],
    providers: &[smmd_store::Provider],
) -> Markup {
    let own = usize::from(s.provider_id.is_some() && s.provider_service_id.is_some());
    html! {
        div.offers #(format!("offers-{}", s.id.0)) {
            b { (t("adm-offers")) }
            span.hint { " " (t("adm-offers-hint")) }
            ol start="0" {
                @if own == 1 {
                    li data-offer="0" { (provider_label(providers, s.provider_id)) " #" (s.provider_service_id.as_deref().unwrap_or("?")) " " span.hint { (t("adm-offer-own")) } }
                }
                @for (i, o) in fallbacks.iter().enumerate() {
                    li data-offer=(i + own) {
                        (provider_label(providers, Some(o.provider_id))) " #" (o.provider_service_id) " "
                        (api_form("DELETE", &format!("/api/admin/services/{}/offers/{}", s.id.0, i + own), &t("adm-offer-removed"), html! {
                            button.small.secondary type="submit" { (t("adm-offer-remove")) }
                        }))
                    }
                }
            }
            (api_form("POST", &format!("/api/admin/services/{}/offers", s.id.0), &t("adm-offer-added"), html! {
                div.row {
                    label { (t("adm-provider"))
                        select name="provider_id" data-type="int" {
                            @for p in providers { option value=(p.id.0) { (p.name) } }
                        }
                    }
                    label { (t("adm-offer-service-id")) input type="text" name="provider_service_id" required maxlength="100"; }
                }
                button.small.secondary type="submit" { (t("adm-offer-add")) }
            }))
        }
    }
}

/// The stuck-order ladder's form of one service (`PUT /api/admin/services/{id}/stuck`): its own
/// "stuck after" and floor, empty = the category's (else the panel's), shown as placeholders.
fn stuck_form(
    st: &AppState,
    id: smmd_domain::ServiceId,
    (own, category): &(
        smmd_domain::stuck::StuckOverride,
        smmd_domain::stuck::StuckOverride,
    ),
) -> Markup {
    let f = &st.config.fulfil;
    let inherited_pct = category.after_pct.unwrap_or(f.stuck_after_pct);
    let inherited_floor = category
        .floor_minutes
        .unwrap_or(f.stuck_after_hours.saturating_mul(60));
    html! {
        div.stuck-rule #(format!("stuck-{}", id.0)) {
        (api_form("PUT", &format!("/api/admin/services/{}/stuck", id.0), &t("adm-stuck-saved"), html! {
            label { (t("adm-stuck-after")) input type="number" min="100" max="10000" name="after_pct" data-type="int" data-null-if-empty="1" value=[own.after_pct] placeholder=(inherited_pct); }
            label { (t("adm-stuck-floor")) input type="number" min="1" max="129600" name="floor_minutes" data-type="int" data-null-if-empty="1" value=[own.floor_minutes] placeholder=(inherited_floor); }
            button.small.secondary type="submit" { (t("adm-save-stuck")) }
        }))
        }
    }
}

/// Orders the margin guard holds, per service, with the owner's two decisions.
fn held_card(st: &AppState, cur: &str, held: &[smmd_store::HeldService]) -> Markup {
    html! {
        div.card #held {
            div.card-head { h2 { (t("adm-held-below-cost")) } span.hint { (held.iter().map(|h| h.orders).sum::<i64>()) } }
            p.hint { (t("adm-held-hint")) }
            table.admin {
                thead { tr { th { (t("service")) } th { (t("adm-held-orders")) } th { (t("adm-held-charged")) } th { (t("adm-oldest")) } th { (t("adm-decision")) } } }
                tbody { @for h in held {
                    tr {
                        td data-label=(t("service")) { b { (h.name) } br; span.hint { "#" (h.service_id.0) " · " (h.rate) " " (cur) " / 1000" } }
                        td data-label=(t("adm-held-orders")) { (h.orders) }
                        td data-label=(t("adm-held-charged")) { (h.charged) " " (cur) }
                        td data-label=(t("adm-oldest")) { (super::super::orders::when(st, h.oldest_at)) }
                        td data-label=(t("adm-decision")) {
                            (api_form("POST", &format!("/api/admin/services/{}/held", h.service_id.0), &t("adm-held-decided"), html! {
                                (reason_field(&t("adm-reason")))
                                div.actions {
                                    button.small.secondary type="submit" name="decision" value="release" { (t("adm-release")) }
                                    button.small type="submit" name="decision" value="refund" { (t("adm-refund-all")) }
                                }
                            }))
                        }
                    }
                } }
            }
        }
    }
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
        label { (t("adm-name")) input type="text" name="name" value=[p.map(|p| &p.name)] maxlength="100" required; }
        label { (t("adm-api-v2-url")) input type="url" name="url" value=[p.map(|p| &p.url)] placeholder="https://provider.example/api/v2" required; }
        @match p {
            None => label { (t("api-key")) input type="password" name="key" autocomplete="off" required; },
            Some(_) => label { (t("adm-api-key-empty-keeps-the")) input type="password" name="key" autocomplete="new-password" placeholder="unchanged"; },
        }
        div.row {
            label { (t("adm-currency")) input type="text" name="currency" value=(p.map_or("USD", |p| &p.currency)) maxlength="3" required; }
            label { (t("adm-exchange-rate")) input type="text" inputmode="decimal" name="exchange_rate" value=(p.map_or("1".to_string(), |p| Money::from_micros(p.exchange_rate).to_string())) required; }
        }
        label { (t("adm-alert-when-the-balance-is"))
            input type="text" inputmode="decimal" name="alert_below" data-keep-empty="1" value=[p.and_then(|p| p.balance_alert_below).map(|m| m.to_string())]; }
        div.row {
            label { (t("adm-timeout-ms")) input type="number" name="timeout_ms" data-type="int" min="100" max="600000" value=(p.map_or(30_000, |p| p.timeout_ms)) required; }
            label { (t("adm-calls-at-once")) input type="number" name="max_concurrency" data-type="int" min="1" max="256" value=(p.map_or(8, |p| p.max_concurrency)) required; }
            label { (t("adm-requests-s-0-no-limit")) input type="number" name="rate_per_sec" data-type="int" min="0" max="100000" value=(p.and_then(|p| p.rate_per_sec).unwrap_or(0)); }
        }
        details.limits {
            summary { (t("adm-limits-answers-up-to")) " " (bytes(limits.answer_max_bytes)) (t("adm-services-up-to")) " " (bytes(limits.services_max_bytes)) (t("adm-provider-price-changes-beyond-x")) (percent_value(limits.price_jump_pct)) " " (t("adm-held")) }
            label { (t("adm-largest-answer-bytes")) (bytes(answer.1)) " " (t("adm-to")) " " (bytes(answer.2)) ")"
                input type="number" name="answer_max_bytes" data-type="int" min=(answer.1) max=(answer.2) value=(limits.answer_max_bytes) required; }
            label { (t("adm-largest-services-list-bytes")) (bytes(services.1)) " " (t("adm-to")) " " (bytes(services.2)) ")"
                input type="number" name="services_max_bytes" data-type="int" min=(services.1) max=(services.2) value=(limits.services_max_bytes) required; }
            label { (t("adm-hold-a-provider-price-change")) " " (jump.1) " " (t("adm-to")) " " (jump.2) ")"
                input type="number" name="price_jump_pct" data-type="int" min=(jump.1) max=(jump.2) value=(limits.price_jump_pct) required; }
        }
        label.check { input type="checkbox" name="check_key" checked; " " (t("adm-test-the-key-with-the")) }
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
    let health =
        match smmd_app::providers::health(st.app(), st.fulfil.as_ref().map(|f| &f.clients)).await {
            Ok(h) => h,
            Err(e) => return page_error(e),
        };
    let content = html! {
        div.card {
            div.card-head { h1 { (t("nav-providers")) } }
            @if st.fulfil.is_none() { div.flash.err { (t("adm-set-security-secret-key-in")) } }
            @if providers.is_empty() { p.empty { (t("adm-no-providers-yet-add-one")) " " code { (t("adm-smmd-provider-add")) } ")." } }
            details.add-provider open[providers.is_empty()] {
                summary.button.small { (t("adm-add-a-provider")) }
                (api_form("POST", "/api/admin/providers", &t("adm-provider-added"), html! {
                    (provider_fields(None))
                    (super::super::code_field(&st, &u, true))
                    button type="submit" { (t("adm-add-provider")) }
                }))
            }
            table.admin {
                thead { tr { th { (t("adm-provider")) } th { (t("balance")) } th { (t("adm-health")) } th { (t("nav-services")) } th { (t("state")) } th { (t("api-actions")) } } }
                tbody { @for p in &providers {
                    tr #(format!("p-{}", p.id.0)) {
                        td data-label=(t("adm-provider")) { div {
                            b { (p.name) } br; span.hint { (p.url) }
                            br; span.hint { (t("adm-answers")) " " (bytes(p.limits.answer_max_bytes)) (t("adm-services")) " " (bytes(p.limits.services_max_bytes)) (t("adm-holds-price-changes-beyond-x")) (percent_value(p.limits.price_jump_pct)) }
                        } }
                        td data-label=(t("balance")) { div {
                            @match p.balance {
                                Some(b) => {
                                    (b) " " (p.currency)
                                    @if p.balance_alert_below.is_some_and(|low| b < low) { " " span.status.s-needs_review { (t("adm-low")) } }
                                    br; span.hint { (t("adm-checked")) " " (p.balance_checked_at.map(|t| when(&st, t)).unwrap_or_default()) }
                                }
                                None => span.muted { (t("adm-not-checked-yet")) },
                            }
                            @if let Some(low) = p.balance_alert_below { br; span.hint { (t("adm-alert-below")) " " (low) } }
                        } }
                        td.health data-label=(t("adm-health")) {
                            @if let Some(h) = health.iter().find(|h| h.provider_id == p.id) { (health_cell(h)) }
                        }
                        td data-label=(t("nav-services")) { (services.iter().filter(|s| s.provider_id == Some(p.id)).count()) }
                        td data-label=(t("state")) {
                            @if p.enabled { span.status.s-completed { (t("adm-enabled")) } } @else { span.status.s-canceled { (t("adm-disabled")) } }
                        }
                        td.actions data-label=(t("api-actions")) {
                            details.edit {
                                summary { (t("adm-edit")) }
                                (api_form("PATCH", &format!("/api/admin/providers/{}", p.id.0), &t("adm-provider-saved"), html! {
                                    (provider_fields(Some(p)))
                                    (super::super::code_field(&st, &u, true))
                                    button.small type="submit" { (t("save")) }
                                }))
                                (push_form(&st, p))
                            }
                            a.button.small href=(format!("/admin/providers/{}/import", p.id.0)) { (t("adm-import-services")) }
                            (api_form("POST", &format!("/api/admin/providers/{}/balance", p.id.0), &t("adm-balance-checked"), html! {
                                button.small.secondary type="submit" { (t("adm-check-balance")) }
                            }))
                            (api_form("POST", &format!("/api/admin/providers/{}/test", p.id.0), &t("adm-the-provider-answered"), html! {
                                button.small.secondary type="submit" { (t("adm-test")) }
                            }))
                            (api_form("POST", &format!("/api/admin/providers/{}/enable", p.id.0), &if p.enabled { t("adm-provider-disabled") } else { t("adm-provider-enabled") }, html! {
                                input type="hidden" name="enabled" data-type="bool" value=(if p.enabled { "false" } else { "true" });
                                button.small.secondary type="submit" { @if p.enabled { (t("adm-disable")) } @else { (t("adm-enable")) } }
                            }))
                        }
                    }
                } }
            }
        }
    };
    html_response(
        StatusCode::OK,
        layout(&st, &u, &t("nav-providers"), "admin-providers", content),
    )
}

/// A share in per mille as a percentage with one decimal ("12.5 %").
fn permille_text(v: i64) -> String {
    format!("{}.{} %", v / 10, v % 10)
}

/// A provider's status pushes (`smmd_app::push`): on or off, the address to give the
/// provider, and the secret it signs with (`PUT /api/admin/providers/{id}/push-secret`).
fn push_form(st: &AppState, p: &smmd_store::Provider) -> Markup {
    let on = !p.push_secret_enc.is_empty();
    let url = format!(
        "{}/hooks/providers/{}",
        st.config.base_url().unwrap_or_default(),
        p.id.0
    );
    let path = format!("/api/admin/providers/{}/push-secret", p.id.0);
    html! {
        div.push #(format!("push-{}", p.id.0)) {
            b { (t("adm-push")) } " "
            @if on { span.status.s-completed data-field="push" { (t("adm-push-on")) } } @else { span.status.s-pending data-field="push" { (t("adm-push-off")) } }
            @if let Some(at) = p.push_at { " " span.hint { (t("adm-push-last")) " " (when(st, at)) } }
            p.hint { (t("adm-push-hint")) }
            p.hint { (t("adm-push-url")) " " code { (url) } }
            (api_form("PUT", &path, &t("adm-push-saved"), html! {
                label { (t("adm-push-secret")) input type="password" name="secret" minlength="16" maxlength="256" required autocomplete="off"; }
                button.small.secondary type="submit" { (t("adm-push-save")) }
            }))
            @if on {
                (api_form("PUT", &path, &t("adm-push-turned-off"), html! {
                    input type="hidden" name="secret" value="" data-null-if-empty="1";
                    button.small.secondary type="submit" { (t("adm-push-turn-off")) }
                }))
            }
        }
    }
}

/// One provider's health on the Providers page: the last 15 minutes' calls (this process) and
/// the last 24 hours' orders (`smmd_app::providers::health`).
fn health_cell(h: &smmd_app::providers::ProviderHealth) -> Markup {
    html! {
        div {
            @if h.circuit_open { span.status.s-canceled { (t("adm-circuit-open")) } br; }
            @match smmd_domain::failover::Reason::parse(h.route_state) {
                Some(r) => { span.status.s-partial data-field="route-state" data-state=(h.route_state) { (t("adm-failing-over")) ": " (t(crate::web::admin::orders::route_reason_key(r))) } br; }
                None if h.route_state == "degraded" => { span.status.s-pending data-field="route-state" data-state="degraded" { (t("adm-degraded")) } br; }
                None => {}
            }
            @match &h.calls {
                Some(c) if c.calls > 0 => {
                    span data-field="calls" { (ta("adm-health-calls", &[("n", (c.calls as i64).into())])) }
                    @if let Some(e) = h.error_permille { " · " span data-field="errors" { (ta("adm-health-errors", &[("share", permille_text(e).into())])) } }
                    @if let (Some(p50), Some(p90)) = (c.p50_ms, c.p90_ms) {
                        br; span.hint data-field="latency" { "p50 " (p50) " ms · p90 " (p90) " ms" }
                    }
                }
                _ => { span.muted { (t("adm-health-no-calls")) } }
            }
            br;
            span.hint data-field="orders" {
                (ta("adm-health-orders", &[("n", h.orders.into())]))
                @if let Some(v) = h.cancel_permille { " · " (ta("adm-health-canceled", &[("share", permille_text(v).into())])) }
                @if let Some(v) = h.stuck_permille { " · " (ta("adm-health-stuck", &[("share", permille_text(v).into())])) }
                @if h.taken_over > 0 { " · " span data-field="taken-over" { (ta("adm-health-taken-over", &[("n", h.taken_over.into())])) } }
            }
            @if let Some(r) = h.runway_hours {
                br; span.hint data-field="runway" { (ta("adm-health-runway", &[("hours", r.into())])) }
            }
        }
    }
}

/// `/admin/providers/{id}/import`: reads the provider's catalog now and shows what
/// `services.sync` would do — new services with their selling rate, changed fields old → new,
/// services to disable — writing nothing; (t("adm-apply")) runs the sync (`POST
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
                &t("not-found-title"),
                "admin-providers",
                html! { div.card { h1 { (t("adm-no-such-provider")) } } },
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
        None => Err(t("adm-set-security-secret-key-in")),
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
            div.card-head { h1 { (t("adm-import-from")) " " (p.name) } a href="/admin/providers" { (t("adm-providers")) } }
            @match &planned {
                Err(e) => div.flash.err { (t("adm-the-provider-s-catalog-could")) " " (e) },
                Ok(smmd_fulfil::catalog::Plan { ops, report, held, .. }) => {
                    @let creates: Vec<_> = ops.iter().filter_map(|o| match o { ServiceSyncOp::Create(d) => Some(d), _ => None }).collect();
                    @let updates: Vec<_> = ops.iter().filter_map(|o| match o { ServiceSyncOp::Update { id, changes, .. } => Some((id, changes)), _ => None }).collect();
                    @let disables: Vec<_> = ops.iter().filter_map(|o| match o { ServiceSyncOp::Disable { id } => Some(id), _ => None }).collect();
                    div.stats {
                        div.stat { span.label { (t("adm-new")) } span.value { (creates.len()) } }
                        div.stat { span.label { (t("adm-changed")) } span.value { (updates.len()) } }
                        div.stat { span.label { (t("adm-to-disable")) } span.value { (disables.len()) } }
                        div.stat { span.label { (t("adm-unchanged")) } span.value { (report.get("unchanged").copied().unwrap_or(0)) } }
                    }
                    @if let Some(n) = report.get("skipped").filter(|n| **n > 0) { p.muted { (n) " " (t("adm-entries-were-skipped-unknown-type")) } }
                    @if ops.is_empty() && held.is_empty() { p { (t("adm-everything-is-up-to-date")) } }
                    @else if !ops.is_empty() {
                        (api_form("POST", &format!("/api/admin/providers/{}/sync", p.id.0), &t("adm-import-applied"), html! {
                            button #apply-import type="submit" { (t("adm-apply-these-changes")) }
                        }))
                    }
                    @if !held.is_empty() {
                        h2 { (t("alert-price_jump_held")) }
                        p.muted {
                            (t("adm-these-provider-rates-moved-by")) (p.limits.price_jump_pct / 100) "." (format!("{:02}", p.limits.price_jump_pct % 100))
                            " " (t("adm-since-the-last-sync-a"))
                        }
                        table.admin #held-price-jumps {
                            thead { tr { th { (t("service")) } th { (t("adm-provider-rate-now")) } th { (t("adm-provider-rate-answered")) } } }
                            tbody { @for j in held {
                                tr {
                                    td data-label=(t("service")) { (j.name) }
                                    td data-label=(t("adm-provider-rate-now")) { (j.old_cost) " " (p.currency) }
                                    td data-label=(t("adm-provider-rate-answered")) { b { (j.new_cost) " " (p.currency) } }
                                }
                            } }
                        }
                        (api_form("POST", &format!("/api/admin/providers/{}/sync?approve_price_jumps=true", p.id.0), &t("adm-import-applied-with-the-held"), html! {
                            button #apply-price-jumps.danger type="submit" { (t("adm-apply-everything-held-price-changes")) }
                        }))
                    }
                    @if !creates.is_empty() {
                        h2 { (t("adm-new-services")) }
                        table.admin {
                            thead { tr { th { (t("adm-upstream-id")) } th { (t("category")) } th { (t("adm-name")) } th { (t("adm-provider-rate")) } th { (t("adm-our-rate")) } th { (t("min-max")) } } }
                            tbody { @for d in &creates {
                                tr {
                                    td data-label=(t("adm-upstream-id")) { (d.provider_service_id.as_deref().unwrap_or("")) }
                                    td data-label=(t("category")) { (d.category) }
                                    td data-label=(t("adm-name")) { (d.name) }
                                    td data-label=(t("adm-provider-rate")) { (d.provider_rate.map(|r| r.to_string()).unwrap_or_default()) " " (p.currency) }
                                    td data-label=(t("adm-our-rate")) { b { (d.rate) " " (cur) } }
                                    td data-label=(t("min-max")) { (d.min) " – " (d.max) }
                                }
                            } }
                        }
                    }
                    @if !updates.is_empty() {
                        h2 { (t("adm-changes")) }
                        table.admin {
                            thead { tr { th { (t("service")) } th { (t("adm-field")) } th { (t("adm-now")) } th { (t("adm-after")) } } }
                            tbody { @for (sid, changes) in &updates { @for c in changes.iter() {
                                tr {
                                    td data-label=(t("service")) { (name_of(**sid)) }
                                    td data-label=(t("adm-field")) { (c.field) }
                                    td data-label=(t("adm-now")) { (c.old.as_deref().unwrap_or("—")) }
                                    td data-label=(t("adm-after")) { b { (c.new.as_deref().unwrap_or("—")) } }
                                }
                            } } }
                        }
                    }
                    @if !disables.is_empty() {
                        h2 { (t("adm-gone-upstream-will-be-disabled")) }
                        ul.plain { @for sid in &disables { li { (name_of(**sid)) } } }
                    }
                }
            }
        }
    };
    html_response(
        StatusCode::OK,
        layout(
            &st,
            &u,
            &t("adm-import-services-2"),
            "admin-providers",
            content,
        ),
    )
}

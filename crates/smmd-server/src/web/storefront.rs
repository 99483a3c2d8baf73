//! The public storefront (issue 18): the home page visitors land on (`/`: the brand, what the
//! panel sells, sign-up and log-in), the services page (`/services`: every enabled service by
//! category with search and platform/type filters, price per 1000, min–max, refill guarantee,
//! average time per 1000 and description; a signed-in customer sees their own prices), the
//! pages an admin writes (`/pages/{terms,faq,contact}`, Markdown without raw HTML), the logo
//! (`/brand/logo`) and the brand's colours (`/assets/brand.css`, so no inline style is needed
//! under the CSP), and the "Updates" feed (`/updates`: the newest price and availability
//! changes). The same catalogue is JSON at `GET /api/public/services`.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use smmd_app::storefront::{Brand, PublicService};
use smmd_domain::service::PLATFORMS;

use super::orders::duration;
use super::{html_response, layout, t, ta, PageResult, PageUser};
use crate::state::AppState;

/// The brand's colours as CSS custom properties (the stylesheet reads `--brand`); empty when
/// the admin set none. Checked `#rrggbb` values only, so nothing else reaches the CSS.
pub(super) async fn brand_css(State(st): State<AppState>) -> Response {
    let brand = st.brand().await;
    let css = match &brand.color {
        Some(c) => format!(
            ":root {{ --brand: {c}; --brand-dark: {}; --brand-soft: {c}1a; }}\n",
            smmd_domain::storefront::darker(c)
        ),
        None => String::new(),
    };
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        css,
    )
        .into_response()
}

/// The logo's bytes with the type its bytes tell; 404 without one.
pub(super) async fn logo(State(st): State<AppState>) -> Response {
    let brand = st.brand().await;
    match &brand.logo {
        Some(l) => (
            [
                (header::CONTENT_TYPE, l.content_type),
                (header::CACHE_CONTROL, "public, max-age=300"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            l.bytes.clone(),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The brand mark: the logo when set, else the name's first letter on the brand colour.
pub(super) fn mark(brand: &Brand) -> Markup {
    html! {
        @if let Some(l) = &brand.logo {
            img.logo src=(format!("/brand/logo?v={}", l.version)) alt="" width="28" height="28";
        }
        (brand.name)
    }
}

/// The shell of public pages: the brand, the public menu (or the way back in for a signed-in
/// visitor), the page and a footer with the written pages.
fn public_page(
    brand: &Brand,
    pages: &[(String, String)],
    signed_in: bool,
    title: &str,
    content: Markup,
) -> Markup {
    let lang = super::i18n::lang();
    html! {
        (DOCTYPE)
        html lang=(lang.code()) dir=(lang.dir()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (brand.name) }
                link rel="stylesheet" href="/assets/app.css";
                link rel="stylesheet" href="/assets/brand.css";
            }
            body.public {
                header.top { div.bar {
                    a.brand href="/" { (mark(brand)) }
                    nav {
                        a href="/services" { (t("nav-services")) }
                        @if pages.iter().any(|(slug, _)| slug == "faq") { a href="/pages/faq" { (t("faq")) } }
                        a href="/api/docs" { (t("nav-api")) }
                    }
                    @if signed_in {
                        a.button.small href="/dashboard" { (t("nav-dashboard")) }
                    } @else {
                        a.signin href="/login" { (t("log-in")) }
                        a.button.small href="/signup" { (t("sign-up")) }
                    }
                } }
                main { (content) }
                footer.site { div {
                    span { "© " (brand.name) }
                    @for (slug, title) in pages { a href=(format!("/pages/{slug}")) { (title) } }
                    a href="/services" { (t("nav-services")) }
                    a href="/updates" { (t("nav-updates")) }
                    (super::i18n::picker())
                } }
            }
        }
    }
}

/// The written pages' (slug, title), for menus and footers.
async fn page_links(st: &AppState) -> Vec<(String, String)> {
    smmd_app::storefront::pages(st.app())
        .await
        .map(|ps| ps.into_iter().map(|p| (p.slug, p.title)).collect())
        .unwrap_or_default()
}

/// `/` for a visitor: the brand, what is sold (platforms with their service counts and the
/// cheapest price per 1000), how it works, and the ways in.
pub(super) async fn home(st: &AppState) -> PageResult {
    let brand = st.brand().await;
    let catalog = st.public_catalog().await?;
    let pages = page_links(st).await;
    let cur = &st.config.panel.currency;
    // Platforms in PLATFORMS order: (platform, services, cheapest rate).
    let mut platforms: Vec<(&str, usize, smmd_domain::Money)> = Vec::new();
    for p in PLATFORMS {
        let of: Vec<&PublicService> = catalog
            .iter()
            .filter(|s| s.service.rules().platform == p)
            .collect();
        if let Some(min) = of.iter().map(|s| s.service.rate).min() {
            platforms.push((p, of.len(), min));
        }
    }
    let orders: i64 = catalog.iter().map(|s| s.orders).sum();
    let content = html! {
        section.hero {
            h1 { (brand.name) }
            p.tagline { @if brand.tagline.is_empty() { (t("home-tagline")) } @else { (brand.tagline) } }
            div.quick {
                a.button href="/signup" { (t("create-account")) }
                a.button.secondary href="/services" { (t("see-services")) }
            }
            p.hint {
                (ta("home-services-count", &[("n", (catalog.len() as i64).into())]))
                @if orders > 0 { " · " (ta("home-orders-delivered", &[("n", compact(orders).into())])) }
                " · " (t("home-api-for-resellers"))
            }
        }
        section.card {
            h2 { (t("what-we-sell")) }
            @if platforms.is_empty() { p.muted { (t("catalogue-empty")) } }
            div.platforms {
                @for (p, n, min) in &platforms {
                    a.platform href=(format!("/services?platform={p}")) {
                        b { (platform_label(p)) }
                        span.hint { (ta("home-platform-figures", &[("n", (*n as i64).into()), ("min", min.to_string().into()), ("currency", cur.as_str().into())])) }
                    }
                }
            }
        }
        section.card.steps {
            h2 { (t("how-it-works")) }
            ol {
                li { b { (t("how-funds")) } " " (t("how-funds-text")) }
                li { b { (t("how-order")) } " " (t("how-order-text")) }
                li { b { (t("how-follow")) } " " (t("how-follow-text")) }
            }
        }
    };
    Ok(html_response(
        StatusCode::OK,
        public_page(&brand, &pages, false, &brand.name, content),
    ))
}

/// "1234" → "1.2k", "1500000" → "1.5M" (tenths rounded down, ".0" left out).
pub(super) fn compact(n: i64) -> String {
    let tenths = |unit: i64, suffix: &str| {
        let t = n / (unit / 10);
        match t % 10 {
            0 => format!("{}{suffix}", t / 10),
            d => format!("{}.{d}{suffix}", t / 10),
        }
    };
    match n {
        ..1_000 => n.to_string(),
        1_000..1_000_000 => tenths(1_000, "k"),
        _ => tenths(1_000_000, "M"),
    }
}

pub(super) fn platform_label(p: &str) -> String {
    match p {
        "tiktok" => "TikTok".into(),
        "youtube" => "YouTube".into(),
        "linkedin" => "LinkedIn".into(),
        "soundcloud" => "SoundCloud".into(),
        p => {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect())
                .unwrap_or_default()
        }
    }
}

/// `/services`: the public services page. Filters (`q`, `platform`, `type`) are query
/// parameters, so it works without JavaScript and a filtered view can be linked.
pub(super) async fn services_page(
    State(st): State<AppState>,
    u: Result<PageUser, Response>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let u = u.ok();
    // The cached list-price catalogue; a customer's prices by the one pricing function.
    let catalog = st.public_catalog().await?;
    let catalog = match &u {
        Some(u) => std::sync::Arc::new(
            smmd_app::storefront::priced_for(st.app(), u.user.id, &catalog).await?,
        ),
        None => catalog,
    };
    let needle = q
        .get("q")
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty());
    let platform = q
        .get("platform")
        .filter(|p| PLATFORMS.contains(&p.as_str()));
    let kind = q.get("type").filter(|t| !t.is_empty());
    let shown: Vec<&PublicService> = catalog
        .iter()
        .filter(|s| platform.is_none_or(|p| s.service.rules().platform == p))
        .filter(|s| kind.is_none_or(|k| s.service.service_type.as_str() == k))
        .filter(|s| {
            needle.as_deref().is_none_or(|n| {
                s.service.name.to_lowercase().contains(n)
                    || s.service.category.to_lowercase().contains(n)
                    || s.service.id.0.to_string() == n
            })
        })
        .collect();
    let mut types: Vec<&str> = catalog
        .iter()
        .map(|s| s.service.service_type.as_str())
        .collect();
    types.sort_unstable();
    types.dedup();
    let present: Vec<&str> = PLATFORMS
        .iter()
        .copied()
        .filter(|p| catalog.iter().any(|s| s.service.rules().platform == *p))
        .collect();
    let mut groups: Vec<(&str, Vec<&PublicService>)> = Vec::new();
    for s in shown {
        match groups.last_mut() {
            Some((c, list)) if *c == s.service.category => list.push(s),
            _ => groups.push((s.service.category.as_str(), vec![s])),
        }
    }
    let cur = &st.config.panel.currency;
    let signed_in = u.is_some();
    let content = html! {
        div.card {
            div.card-head {
                h1 { (t("nav-services")) }
                span.hint { @if signed_in { (t("your-prices")) } @else { (ta("prices-per-1000-in", &[("currency", cur.as_str().into())])) } " · " a href="/api/public/services" { "JSON" } " · " a href="/updates" { (t("nav-updates")) } }
            }
            form.search.wide.filters-row method="get" action="/services" {
                input #services-q type="search" name="q" value=[q.get("q")] placeholder=(t("search-services")) aria-label=(t("search"));
                select name="platform" aria-label=(t("platform")) {
                    option value="" { (t("all-platforms")) }
                    @for p in &present { option value=(p) selected[platform.is_some_and(|x| x == p)] { (platform_label(p)) } }
                }
                select name="type" aria-label=(t("type")) {
                    option value="" { (t("all-types")) }
                    @for ty in &types { option value=(ty) selected[kind.is_some_and(|k| k == ty)] { (ty) } }
                }
                button.secondary type="submit" { (t("filter")) }
            }
            @if groups.is_empty() { p.empty { (t("no-service-matches")) " " a href="/services" { (t("show-all")) } } }
        }
        @for (category, list) in &groups {
            section.card.category {
                h2 { (category) }
                table.services {
                    thead { tr { th { (t("id")) } th { (t("service")) } th { (t("rate-per-1000")) } th { (t("min-max")) } th { (t("refill")) } th { (t("average-time")) } th {} } }
                    tbody { @for s in list { (service_row(s, cur, u.as_ref())) } }
                }
            }
        }
    };
    let page = match &u {
        Some(u) => layout(&st, u, &t("nav-services"), "services", content),
        None => {
            let brand = st.brand().await;
            let pages = page_links(&st).await;
            public_page(&brand, &pages, false, &t("nav-services"), content)
        }
    };
    Ok(html_response(StatusCode::OK, page))
}

fn service_row(p: &PublicService, cur: &str, u: Option<&PageUser>) -> Markup {
    let s = &p.service;
    html! {
        tr #(format!("s-{}", s.id.0)) {
            td data-label=(t("id")) { (s.id.0) }
            td data-label=(t("service")) {
                b { (s.name) }
                (figures(p))
                @if !s.description.trim().is_empty() {
                    details.description { summary { (t("description")) } p { (s.description) } }
                }
            }
            td data-label=(t("rate-per-1000")) { b { (s.rate) } " " (cur) @if let Some(u) = u { (super::approx(u, s.rate)) } }
            td data-label=(t("min-max")) { (s.min) " – " (s.max) }
            td data-label=(t("refill")) {
                @if s.refill && s.guarantee_days > 0 { (ta("n-days", &[("n", s.guarantee_days.into())])) } @else { span.muted { (t("no-refill")) } }
            }
            td data-label=(t("average-time")) {
                @match p.avg_ms_per_1000 { Some(ms) => { (duration(ms)) } , None => span.muted { "—" } }
            }
            td.order { a.button.small href=(format!("/orders/new?service={}", s.id.0)) { (t("order")) } }
        }
    }
}

/// "4.8/5 · 12 ratings · 1.2k orders", as the market's service cards say it (what exists).
pub(super) fn figures(p: &PublicService) -> Markup {
    let mut parts = Vec::new();
    if let Some((avg, n)) = &p.rating {
        parts.push(format!(
            "★ {avg}/5 · {}",
            ta("n-ratings", &[("n", (*n).into())])
        ));
    }
    if p.orders > 0 {
        parts.push(ta("n-orders", &[("n", compact(p.orders).into())]));
    }
    html! { @if !parts.is_empty() { br; span.hint.figures { (parts.join(" · ")) } } }
}

/// Changes the "Updates" page lists.
const UPDATES: i64 = 100;

/// `/updates`: the newest price and availability changes of the catalogue (issue 20), for
/// visitors and customers alike.
pub(super) async fn updates_page(
    State(st): State<AppState>,
    u: Result<PageUser, Response>,
) -> PageResult {
    let updates = smmd_app::catalog::updates(st.app(), UPDATES).await?;
    let cur = &st.config.panel.currency;
    let content = html! {
        div.card #updates {
            div.card-head { h1 { (t("upd-title")) } span.hint { (t("upd-newest")) " " (UPDATES) } }
            p.hint { (t("upd-hint")) }
            @if updates.is_empty() {
                p.muted { (t("upd-none")) }
            } @else {
                table.updates {
                    thead { tr { th { (t("when")) } th { (t("service")) } th { (t("upd-change")) } } }
                    tbody { @for c in &updates {
                        tr {
                            td data-label=(t("when")) { (super::orders::when(&st, c.at)) }
                            td data-label=(t("service")) { b { (c.name) } br; span.hint { "#" (c.service_id.0) " · " (c.category) } }
                            td data-label=(t("upd-change")) { (update_text(c, cur)) }
                        }
                    } }
                }
            }
        }
    };
    let out = match u {
        Ok(u) => layout(&st, &u, &t("upd-title"), "updates", content),
        Err(_) => {
            let brand = st.brand().await;
            let pages = page_links(&st).await;
            public_page(&brand, &pages, false, &t("upd-title"), content)
        }
    };
    Ok(html_response(StatusCode::OK, out))
}

/// One change as customers read it: a price moving up or down, a service available again or
/// no longer available.
fn update_text(c: &smmd_store::CatalogUpdate, cur: &str) -> Markup {
    let old = c.old.as_deref().unwrap_or("");
    let new = c.new.as_deref().unwrap_or("");
    match c.field.as_str() {
        "rate" => {
            let up = smmd_domain::Money::parse(new).ok() > smmd_domain::Money::parse(old).ok();
            html! {
                span class=(if up { "change bad" } else { "change good" }) {
                    (if up { t("upd-price-up") } else { t("upd-price-down") })
                }
                ": " (old) " → " b { (new) } " " (cur) " / 1000"
            }
        }
        _ if new == "true" => html! { span.change.good { (t("upd-available")) } },
        _ => html! { span.change.bad { (t("upd-unavailable")) } },
    }
}

/// `/pages/{slug}`: a page the admin wrote; 404 for others.
pub(super) async fn written_page(
    State(st): State<AppState>,
    Path(slug): Path<String>,
    u: Result<PageUser, Response>,
) -> PageResult {
    let page = smmd_app::storefront::page(st.app(), &slug).await?;
    let content = html! {
        article.card.prose {
            h1 { (page.title) }
            (markdown(&page.body))
        }
    };
    let out = match u {
        Ok(u) => layout(&st, &u, &page.title, "", content),
        Err(_) => {
            let brand = st.brand().await;
            let pages = page_links(&st).await;
            public_page(&brand, &pages, false, &page.title, content)
        }
    };
    Ok(html_response(StatusCode::OK, out))
}

/// Markdown as HTML, safe to show: raw HTML is shown as text, and links go only to http(s),
/// mailto and this panel's paths.
pub(super) fn markdown(text: &str) -> Markup {
    use pulldown_cmark::{CowStr, Event, Options, Parser, Tag};
    let safe = |url: CowStr<'_>| -> CowStr<'static> {
        let u = url.trim().to_ascii_lowercase();
        let ok = u.starts_with("https://")
            || u.starts_with("http://")
            || u.starts_with("mailto:")
            || (u.starts_with('/') && !u.starts_with("//"))
            || u.starts_with('#');
        if ok {
            CowStr::from(url.into_string())
        } else {
            CowStr::from("#")
        }
    };
    let events =
        Parser::new_ext(text, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH).map(|e| {
            match e {
                Event::Html(h) | Event::InlineHtml(h) => Event::Text(h),
                Event::Start(Tag::Link {
                    link_type,
                    dest_url,
                    title,
                    id,
                }) => Event::Start(Tag::Link {
                    link_type,
                    dest_url: safe(dest_url),
                    title,
                    id,
                }),
                Event::Start(Tag::Image {
                    link_type,
                    dest_url,
                    title,
                    id,
                }) => Event::Start(Tag::Image {
                    link_type,
                    dest_url: safe(dest_url),
                    title,
                    id,
                }),
                e => e,
            }
        });
    let mut out = String::new();
    pulldown_cmark::html::push_html(&mut out, events);
    PreEscaped(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_never_passes_html_or_script_links() {
        let html = markdown(
            "# Terms\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1)) [y](https://ok.example) \
             [z](/services) ![i](data:image/svg+xml,evil) <b onclick=x>b</b>",
        )
        .into_string();
        assert!(html.contains("<h1>Terms</h1>"), "{html}");
        assert!(
            !html.contains("<script") && html.contains("&lt;script&gt;"),
            "{html}"
        );
        assert!(
            !html.contains("javascript:") && !html.contains("data:image"),
            "{html}"
        );
        assert!(
            html.contains("href=\"https://ok.example\"") && html.contains("href=\"/services\"")
        );
        assert!(!html.contains("<b onclick"), "{html}");
    }

    #[test]
    fn counts_read_as_the_market_writes_them() {
        assert_eq!(compact(999), "999");
        assert_eq!(compact(1_000), "1k");
        assert_eq!(compact(1_234), "1.2k");
        assert_eq!(compact(1_500_000), "1.5M");
    }
}

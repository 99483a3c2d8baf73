//! `/admin/site`: the storefront as the admin sets it — ratings waiting for approval (bulk
//! approve or reject), the brand (name, tagline, colour, logo) with a preview link, and the
//! written pages (terms, FAQ, contact) in Markdown. Actions are
//! `data-api` forms on `/api/admin/site/*`.

use smmd_domain::storefront::PAGES;

use super::*;

pub(super) async fn site_page(State(st): State<AppState>, AdminPage(u): AdminPage) -> PageResult {
    let brand = smmd_app::storefront::brand(st.app(), &st.config.panel.name).await?;
    let pages = smmd_app::storefront::pages(st.app()).await?;
    let pending = st
        .store
        .ratings(&smmd_store::RatingQuery {
            status: Some(smmd_domain::rating::RatingStatus::Pending),
            limit: 100,
            ..Default::default()
        })
        .await?;
    let services = st.store.list_services(false).await?;
    let service_name = |id: smmd_domain::ServiceId| {
        services.iter().find(|s| s.id == id).map_or_else(
            || ta("service-n", &[("n", id.0.into())]),
            |s| s.name.clone(),
        )
    };
    let content = html! {
        div.card #brand {
            div.card-head { h1 { (t("nav-storefront")) } span { a.button.secondary.small href="/admin/currencies" { (t("adm-display-currencies")) } " " a.button.secondary.small href="/" target="_blank" { (t("adm-open-the-home-page")) } } }
            p.hint { (t("adm-what-visitors-see-on-the")) }
            (api_form("PATCH", "/api/admin/site/brand", &t("adm-brand-saved"), html! {
                label for="brand-name" { (t("adm-name")) }
                input #brand-name type="text" name="name" value=(brand.name) maxlength="60" required;
                label for="brand-tagline" { (t("adm-tagline")) " " span.hint { (t("adm-one-line-under-the-name")) } }
                input #brand-tagline type="text" name="tagline" value=(brand.tagline) maxlength="160" data-keep-empty="1";
                label for="brand-color" { (t("adm-colour")) " " span.hint { (t("adm-buttons-and-links-empty-for")) } }
                input #brand-color type="text" name="color" value=[brand.color.as_deref()] placeholder="#4f46e5" data-keep-empty="1";
                label for="brand-logo-file" { (t("adm-logo")) " " span.hint { (t("adm-png-jpeg-or-webp-at")) } }
                @if let Some(l) = &brand.logo { img.logo-preview src=(format!("/brand/logo?v={}", l.version)) alt=(t("adm-current-logo")); }
                input #brand-logo-file type="file" accept="image/png,image/jpeg,image/webp" data-into="brand-logo";
                input #brand-logo type="hidden" name="logo";
                p { button #save-brand type="submit" { (t("adm-save-the-brand")) } }
            }))
            @if brand.logo.is_some() {
                (api_form("PATCH", "/api/admin/site/brand", &t("adm-logo-removed"), html! {
                    input type="hidden" name="logo" value="" data-keep-empty="1";
                    button.secondary.small type="submit" { (t("adm-remove-the-logo")) }
                }))
            }
        }
        div.card #ratings {
            div.card-head { h2 { (t("adm-ratings-waiting-for-approval")) } span.hint { (pending.len()) " " (t("adm-waiting")) } }
            @if pending.is_empty() {
                p.muted { (t("adm-nothing-to-review-ratings-without")) }
            } @else {
                (api_form("POST", "/api/admin/ratings/decide", &t("adm-ratings-decided"), html! {
                    table.admin {
                        thead { tr { th {} th { (t("ledger-charge")) } th { (t("service")) } th { (t("stars")) } th { (t("comment")) } } }
                        tbody { @for r in &pending {
                            tr #(format!("r-{}", r.order_id.0)) {
                                td { input type="checkbox" name="orders" value=(r.order_id.0) data-type="ids" checked aria-label=(t("adm-select")); }
                                td data-label=(t("ledger-charge")) { "#" (r.order_id.0) br; span.hint { (t("adm-user-2")) (r.user_id.0) } }
                                td data-label=(t("service")) { (service_name(r.service_id)) }
                                td data-label=(t("stars")) { span.stars { (super::super::orders::stars(r.stars)) } }
                                td data-label=(t("comment")) { (r.comment) }
                            }
                        } }
                    }
                    p.actions {
                        button #approve-ratings type="submit" name="decision" value="approve" { (t("adm-approve-selected")) }
                        button.secondary #reject-ratings type="submit" name="decision" value="reject" { (t("adm-reject-selected")) }
                    }
                }))
            }
        }
        @for (slug, default_title) in PAGES {
            @let page = pages.iter().find(|p| p.slug == slug);
            div.card #(format!("page-{slug}")) {
                div.card-head {
                    h2 { (page.map_or(default_title, |p| p.title.as_str())) }
                    @if page.is_some() { a href=(format!("/pages/{slug}")) target="_blank" { (t("view")) } }
                    @else { span.hint { (t("adm-not-published")) } }
                }
                (api_form("PUT", &format!("/api/admin/site/pages/{slug}"), &t("adm-page-saved"), html! {
                    label for=(format!("{slug}-title")) { (t("adm-title")) }
                    input #(format!("{slug}-title")) type="text" name="title" value=(page.map_or(default_title, |p| p.title.as_str())) maxlength="80" required;
                    label for=(format!("{slug}-body")) { (t("adm-text")) " " span.hint { (t("adm-markdown-headings-bold-lists-links")) } }
                    textarea #(format!("{slug}-body")) name="body" rows="8" data-keep-empty="1" { (page.map_or("", |p| p.body.as_str())) }
                    p { button type="submit" { (t("save")) } }
                }))
            }
        }
    };
    Ok(html_response(
        StatusCode::OK,
        layout(&st, &u, &t("nav-storefront"), "admin-site", content),
    ))
}

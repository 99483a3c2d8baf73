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
        services
            .iter()
            .find(|s| s.id == id)
            .map_or_else(|| format!("Service {}", id.0), |s| s.name.clone())
    };
    let content = html! {
        div.card #brand {
            div.card-head { h1 { "Storefront" } span { a.button.secondary.small href="/admin/currencies" { "Display currencies" } " " a.button.secondary.small href="/" target="_blank" { "Open the home page" } } }
            p.hint { "What visitors see on the home page, the services page and every page's bar." }
            (api_form("PATCH", "/api/admin/site/brand", "Brand saved", html! {
                label for="brand-name" { "Name" }
                input #brand-name type="text" name="name" value=(brand.name) maxlength="60" required;
                label for="brand-tagline" { "Tagline " span.hint { "one line under the name on the home page" } }
                input #brand-tagline type="text" name="tagline" value=(brand.tagline) maxlength="160" data-keep-empty="1";
                label for="brand-color" { "Colour " span.hint { "buttons and links; empty for the built-in indigo" } }
                input #brand-color type="text" name="color" value=[brand.color.as_deref()] placeholder="#4f46e5" data-keep-empty="1";
                label for="brand-logo-file" { "Logo " span.hint { "PNG, JPEG or WebP, at most 128 KiB" } }
                @if let Some(l) = &brand.logo { img.logo-preview src=(format!("/brand/logo?v={}", l.version)) alt="Current logo"; }
                input #brand-logo-file type="file" accept="image/png,image/jpeg,image/webp" data-into="brand-logo";
                input #brand-logo type="hidden" name="logo";
                p { button #save-brand type="submit" { "Save the brand" } }
            }))
            @if brand.logo.is_some() {
                (api_form("PATCH", "/api/admin/site/brand", "Logo removed", html! {
                    input type="hidden" name="logo" value="" data-keep-empty="1";
                    button.secondary.small type="submit" { "Remove the logo" }
                }))
            }
        }
        div.card #ratings {
            div.card-head { h2 { "Ratings waiting for approval" } span.hint { (pending.len()) " waiting" } }
            @if pending.is_empty() {
                p.muted { "Nothing to review: ratings without a comment count at once; those with one wait here." }
            } @else {
                (api_form("POST", "/api/admin/ratings/decide", "Ratings decided", html! {
                    table.admin {
                        thead { tr { th {} th { "Order" } th { "Service" } th { "Stars" } th { "Comment" } } }
                        tbody { @for r in &pending {
                            tr #(format!("r-{}", r.order_id.0)) {
                                td { input type="checkbox" name="orders" value=(r.order_id.0) data-type="ids" checked aria-label="Select"; }
                                td data-label="Order" { "#" (r.order_id.0) br; span.hint { "user #" (r.user_id.0) } }
                                td data-label="Service" { (service_name(r.service_id)) }
                                td data-label="Stars" { span.stars { (super::super::orders::stars(r.stars)) } }
                                td data-label="Comment" { (r.comment) }
                            }
                        } }
                    }
                    p.actions {
                        button #approve-ratings type="submit" name="decision" value="approve" { "Approve selected" }
                        button.secondary #reject-ratings type="submit" name="decision" value="reject" { "Reject selected" }
                    }
                }))
            }
        }
        @for (slug, default_title) in PAGES {
            @let page = pages.iter().find(|p| p.slug == slug);
            div.card #(format!("page-{slug}")) {
                div.card-head {
                    h2 { (page.map_or(default_title, |p| p.title.as_str())) }
                    @if page.is_some() { a href=(format!("/pages/{slug}")) target="_blank" { "View" } }
                    @else { span.hint { "Not published" } }
                }
                (api_form("PUT", &format!("/api/admin/site/pages/{slug}"), "Page saved", html! {
                    label for=(format!("{slug}-title")) { "Title" }
                    input #(format!("{slug}-title")) type="text" name="title" value=(page.map_or(default_title, |p| p.title.as_str())) maxlength="80" required;
                    label for=(format!("{slug}-body")) { "Text " span.hint { "Markdown: # headings, **bold**, lists, [links](https://…); empty unpublishes" } }
                    textarea #(format!("{slug}-body")) name="body" rows="8" data-keep-empty="1" { (page.map_or("", |p| p.body.as_str())) }
                    p { button type="submit" { "Save" } }
                }))
            }
        }
    };
    Ok(html_response(
        StatusCode::OK,
        layout(&st, &u, "Storefront", "admin-site", content),
    ))
}

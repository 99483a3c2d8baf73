//! The storefront (issue 18): the brand an admin sets (name, tagline, colour, logo), the pages
//! an admin writes (terms, FAQ, contact), and the public catalogue: every enabled service at
//! the viewer's price (the list price for visitors, [`crate::pricing`] for a signed-in user)
//! with its orders count and average time per 1000 (the last 10 Completed orders, as on the
//! order form). Rules: `smmd_domain::storefront`. Errors: `invalid_storefront` (nothing
//! written), `not_found` for a page that does not exist.

use base64::Engine;
use smmd_domain::storefront::{self as rules, StorefrontError};
use smmd_domain::UserId;
use smmd_store::{avg_ms_per_1000, Service, ServiceFigures, SitePage};

use crate::error::{ErrorCode, UseCaseError};
use crate::{Actor, App};

const NAME: &str = "brand.name";
const TAGLINE: &str = "brand.tagline";
const COLOR: &str = "brand.color";
const LOGO: &str = "brand.logo";

/// Completed orders averaged for a service's time per 1000 (as on the order form).
pub const TIME_SAMPLES: i64 = 10;

/// The panel's brand as pages show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Brand {
    /// The admin's name, else the configured `[panel] name`.
    pub name: String,
    /// One line under the name on the home page; empty for none.
    pub tagline: String,
    /// `#rrggbb`; `None` for the built-in colours.
    pub color: Option<String>,
    pub logo: Option<Logo>,
}

/// The logo image, checked by its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Logo {
    /// `image/png`, `image/jpeg` or `image/webp`.
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
    /// Changes with the image (a hash prefix): its URL carries it, so browsers may keep it.
    pub version: String,
}

/// What an admin changes; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct BrandPatch {
    pub name: Option<String>,
    /// Empty removes the tagline.
    pub tagline: Option<String>,
    /// `Some(None)` returns to the built-in colours.
    pub color: Option<Option<String>>,
    /// A `data:image/…;base64,…` URL; `Some(None)` removes the logo.
    pub logo: Option<Option<String>>,
}

fn refused(e: StorefrontError) -> UseCaseError {
    UseCaseError::refused(ErrorCode::InvalidStorefront, e.to_string())
}

fn decode_logo(stored: &str) -> Option<Logo> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(stored)
        .ok()?;
    let content_type = rules::check_logo(&bytes).ok()?;
    let digest = <sha2::Sha256 as sha2::Digest>::digest(&bytes);
    Some(Logo {
        content_type,
        version: hex::encode(&digest[..6]),
        bytes,
    })
}

/// The brand: stored values over `default_name` (the configured panel name).
pub async fn brand(app: App<'_>, default_name: &str) -> Result<Brand, UseCaseError> {
    let values = app.store.site_settings().await?;
    let get = |k: &str| values.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    Ok(Brand {
        name: get(NAME).unwrap_or(default_name).to_string(),
        tagline: get(TAGLINE).unwrap_or_default().to_string(),
        color: get(COLOR).map(str::to_string),
        logo: get(LOGO).and_then(decode_logo),
    })
}

/// The logo a `data:` URL carries: `data:image/png;base64,…` (the bytes decide the type).
fn logo_from_data_url(url: &str) -> Result<String, StorefrontError> {
    let (head, data) = url.split_once(',').ok_or(StorefrontError::Logo)?;
    if !head.starts_with("data:") || !head.ends_with(";base64") {
        return Err(StorefrontError::Logo);
    }
    if data.len() > rules::LOGO_MAX_BYTES * 4 / 3 + 4 {
        return Err(StorefrontError::Logo);
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|_| StorefrontError::Logo)?;
    rules::check_logo(&bytes)?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// Changes the brand (each value checked first; nothing written on a refusal), audited as
/// `site.brand` with the names of the fields changed. Returns the brand now.
pub async fn set_brand(
    app: App<'_>,
    actor: &Actor,
    default_name: &str,
    p: BrandPatch,
) -> Result<Brand, UseCaseError> {
    let mut values: Vec<(String, Option<String>)> = Vec::new();
    if let Some(n) = &p.name {
        values.push((NAME.into(), Some(rules::check_name(n).map_err(refused)?)));
    }
    if let Some(t) = &p.tagline {
        let t = rules::check_tagline(t).map_err(refused)?;
        values.push((TAGLINE.into(), (!t.is_empty()).then_some(t)));
    }
    if let Some(c) = &p.color {
        let c = c
            .as_deref()
            .map(rules::check_color)
            .transpose()
            .map_err(refused)?;
        values.push((COLOR.into(), c));
    }
    if let Some(l) = &p.logo {
        let l = l
            .as_deref()
            .map(logo_from_data_url)
            .transpose()
            .map_err(refused)?;
        values.push((LOGO.into(), l));
    }
    if values.is_empty() {
        return brand(app, default_name).await;
    }
    let detail = values
        .iter()
        .map(|(k, v)| {
            let field = k.trim_start_matches("brand.");
            match v {
                None => format!("{field} removed"),
                Some(_) if k == LOGO => "logo set".to_string(),
                Some(v) => format!("{field}: {v}"),
            }
        })
        .collect::<Vec<_>>()
        .join("; ");
    let now = app.now();
    let audit = actor.audit("site.brand", "site:brand".into(), detail, now);
    app.store
        .set_site_settings(&values, now, Some(audit))
        .await?;
    brand(app, default_name).await
}

/// Every written page, by slug.
pub async fn pages(app: App<'_>) -> Result<Vec<SitePage>, UseCaseError> {
    Ok(app.store.site_pages().await?)
}

/// One page; `not_found` for a slug that is not a page or has no text yet.
pub async fn page(app: App<'_>, slug: &str) -> Result<SitePage, UseCaseError> {
    let slug = rules::check_page(slug).map_err(|_| smmd_store::StoreError::NotFound)?;
    pages(app)
        .await?
        .into_iter()
        .find(|p| p.slug == slug)
        .ok_or(UseCaseError::Store(smmd_store::StoreError::NotFound))
}

/// Writes a page (empty text removes it), audited as `site.page`.
pub async fn save_page(
    app: App<'_>,
    actor: &Actor,
    slug: &str,
    title: &str,
    body: &str,
) -> Result<(), UseCaseError> {
    let slug = rules::check_page(slug).map_err(refused)?;
    let (title, body) = rules::check_page_text(title, body).map_err(refused)?;
    let now = app.now();
    let detail = if body.is_empty() {
        format!("{slug} removed")
    } else {
        format!("{slug}: {title} ({} bytes)", body.len())
    };
    let audit = actor.audit("site.page", format!("page:{slug}"), detail, now);
    let page = SitePage {
        slug: slug.to_string(),
        title,
        body,
        updated_at: now,
    };
    Ok(app.store.save_site_page(&page, Some(audit)).await?)
}

/// One service of the public catalogue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicService {
    /// At list price, or a customer's ([`priced_for`]).
    pub service: Service,
    /// Orders ever placed for it.
    pub orders: i64,
    /// Average time to deliver 1000 units over its last [`TIME_SAMPLES`] Completed orders,
    /// milliseconds; `None` before its first.
    pub avg_ms_per_1000: Option<i64>,
    /// Its approved ratings: the average to one decimal ("4.8") and how many; `None` before
    /// the first.
    pub rating: Option<(String, i64)>,
}

/// Every enabled service, by category then id, at list price, with its figures (what
/// visitors see; interfaces cache it briefly and reprice it per customer with
/// [`priced_for`]).
pub async fn public_catalog(app: App<'_>) -> Result<Vec<PublicService>, UseCaseError> {
    let services = app.store.list_services(true).await?;
    let figures = app.store.catalog_figures(TIME_SAMPLES).await?;
    let ratings: std::collections::HashMap<_, _> = app
        .store
        .rating_figures()
        .await?
        .into_iter()
        .map(|r| (r.service_id, r))
        .collect();
    let by_id: std::collections::HashMap<_, &ServiceFigures> =
        figures.iter().map(|f| (f.service_id, f)).collect();
    let mut list: Vec<PublicService> = services
        .iter()
        .map(|s| {
            let f = by_id.get(&s.id).copied();
            PublicService {
                service: s.clone(),
                orders: f.map_or(0, |f| f.orders),
                avg_ms_per_1000: f.and_then(|f| avg_ms_per_1000(&f.samples)),
                rating: ratings.get(&s.id).and_then(|r| {
                    smmd_domain::rating::average(r.stars, r.count).map(|a| (a, r.count))
                }),
            }
        })
        .collect();
    list.sort_by(|a, b| {
        (a.service.category.as_str(), a.service.id.0)
            .cmp(&(b.service.category.as_str(), b.service.id.0))
    });
    Ok(list)
}

/// `catalog` at `user`'s prices, by the one pricing function ([`crate::pricing`]).
pub async fn priced_for(
    app: App<'_>,
    user: UserId,
    catalog: &[PublicService],
) -> Result<Vec<PublicService>, UseCaseError> {
    let book = crate::pricing::price_book(app, user).await?;
    Ok(catalog
        .iter()
        .map(|p| PublicService {
            service: crate::pricing::priced(&book, &p.service),
            ..p.clone()
        })
        .collect())
}

/// The customer rates their order `order` (1–5 stars, optional comment): stars alone count at
/// once, a comment waits for an admin. Errors: `not_found` (not theirs), `invalid_rating`
/// (stars, comment, or not delivered), `already_rated`.
pub async fn rate_order(
    app: App<'_>,
    user: UserId,
    order: smmd_domain::OrderId,
    stars: i64,
    comment: &str,
) -> Result<smmd_store::ServiceRating, UseCaseError> {
    use smmd_domain::rating::{check_rating, RatingError};
    let rating_refused = |e: RatingError| {
        let code = match e {
            RatingError::AlreadyRated => ErrorCode::AlreadyRated,
            _ => ErrorCode::InvalidRating,
        };
        UseCaseError::refused(code, e.to_string())
    };
    let (stars, comment, status) = check_rating(stars, comment).map_err(rating_refused)?;
    app.store
        .rate_order(user, order, stars, &comment, status, app.now())
        .await?
        .map_err(rating_refused)
}

/// Approves or rejects pending ratings (others are left as they are), audited as
/// `rating.approve` / `rating.reject` with the orders; returns how many moved.
pub async fn moderate_ratings(
    app: App<'_>,
    actor: &Actor,
    orders: &[smmd_domain::OrderId],
    approve: bool,
) -> Result<u64, UseCaseError> {
    use smmd_domain::rating::RatingStatus;
    if orders.is_empty() || orders.len() > 500 {
        return Err(UseCaseError::refused(
            ErrorCode::InvalidRating,
            "Choose 1 to 500 ratings",
        ));
    }
    let (status, action) = if approve {
        (RatingStatus::Approved, "rating.approve")
    } else {
        (RatingStatus::Rejected, "rating.reject")
    };
    let list = orders
        .iter()
        .map(|o| o.0.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let now = app.now();
    let audit = actor.audit(action, "ratings".into(), format!("orders {list}"), now);
    let admin = actor.id.unwrap_or(UserId(0));
    Ok(app
        .store
        .moderate_ratings(orders, status, admin, now, Some(audit))
        .await?)
}

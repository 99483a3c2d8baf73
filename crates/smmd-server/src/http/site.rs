//! REST for the storefront (issue 18): the public catalogue as JSON for integrators
//! (`GET /api/public/services`, no authentication, list prices), and the admin's brand and
//! pages (`/api/admin/site`). Use cases: `smmd_app::storefront`.

use axum::extract::State;
use axum::routing::{get, patch, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use smmd_app::storefront::{self, Brand, BrandPatch, PublicService};
use utoipa::{OpenApi, ToSchema};

use super::{ApiPath, JsonBody};
use crate::auth::AdminUser;
use crate::error::AppError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/public/services", get(public_services))
        .route("/api/admin/site", get(site))
        .route("/api/admin/site/brand", patch(edit_brand))
        .route("/api/admin/site/pages/{slug}", put(save_page))
        .route("/api/smm/orders/{reference}/rating", post(rate_order))
        .route("/api/admin/ratings", get(list_ratings))
        .route("/api/admin/ratings/decide", post(decide_ratings))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        public_services,
        site,
        edit_brand,
        save_page,
        rate_order,
        list_ratings,
        decide_ratings
    ),
    components(schemas(
        PublicServiceDto,
        PublicServiceList,
        SiteDto,
        BrandDto,
        PageDto,
        BrandEdit,
        PageEdit,
        RatingDto,
        RatingList,
        NewRating,
        RatingDecision,
        Decided
    ))
)]
pub struct SiteDoc;

/// One service of the public catalogue, at list price: the service as `/api/smm/services`
/// describes it, with the storefront's figures.
#[derive(Serialize, ToSchema)]
pub struct PublicServiceDto {
    #[serde(flatten)]
    service: super::smm::ServiceDto,
    /// Orders ever placed for it.
    orders: i64,
    /// Average seconds to deliver 1000 units over its last 10 Completed orders; null before
    /// its first.
    avg_seconds_per_1000: Option<i64>,
    /// Average of its approved ratings, one decimal ("4.8"); null before the first.
    rating: Option<String>,
    /// How many approved ratings.
    ratings: i64,
}

#[derive(Serialize, ToSchema)]
pub struct PublicServiceList {
    items: Vec<PublicServiceDto>,
}

fn public_dto(p: &PublicService, currency: &str) -> PublicServiceDto {
    PublicServiceDto {
        service: super::smm::service_dto(&p.service, currency),
        orders: p.orders,
        avg_seconds_per_1000: p.avg_ms_per_1000.map(|ms| ms / 1000),
        rating: p.rating.as_ref().map(|(a, _)| a.clone()),
        ratings: p.rating.as_ref().map_or(0, |(_, n)| *n),
    }
}

/// Every enabled service by category, at list price, with its figures (the storefront's
/// services page as JSON). No authentication.
#[utoipa::path(get, path = "/api/public/services", tag = "storefront", security(),
    responses((status = 200, body = PublicServiceList)))]
pub async fn public_services(
    State(st): State<AppState>,
) -> Result<Json<PublicServiceList>, AppError> {
    let catalog = st.public_catalog().await?;
    let cur = &st.config.panel.currency;
    Ok(Json(PublicServiceList {
        items: catalog.iter().map(|p| public_dto(p, cur)).collect(),
    }))
}

/// The brand as set.
#[derive(Serialize, ToSchema)]
pub struct BrandDto {
    name: String,
    tagline: String,
    /// `#rrggbb`; null for the built-in colours.
    color: Option<String>,
    /// Where the logo is served; null without one.
    logo_url: Option<String>,
}

fn brand_dto(b: &Brand) -> BrandDto {
    BrandDto {
        name: b.name.clone(),
        tagline: b.tagline.clone(),
        color: b.color.clone(),
        logo_url: b
            .logo
            .as_ref()
            .map(|l| format!("/brand/logo?v={}", l.version)),
    }
}

/// A written page.
#[derive(Serialize, ToSchema)]
pub struct PageDto {
    /// `terms`, `faq` or `contact`.
    slug: String,
    title: String,
    /// Markdown (raw HTML is shown as text).
    body: String,
    updated_at: i64,
}

#[derive(Serialize, ToSchema)]
pub struct SiteDto {
    brand: BrandDto,
    pages: Vec<PageDto>,
}

async fn site_dto(st: &AppState) -> Result<SiteDto, AppError> {
    let brand = storefront::brand(st.app(), &st.config.panel.name).await?;
    let pages = storefront::pages(st.app()).await?;
    Ok(SiteDto {
        brand: brand_dto(&brand),
        pages: pages
            .into_iter()
            .map(|p| PageDto {
                slug: p.slug,
                title: p.title,
                body: p.body,
                updated_at: p.updated_at,
            })
            .collect(),
    })
}

/// The storefront's brand and written pages.
#[utoipa::path(get, path = "/api/admin/site", tag = "admin",
    responses((status = 200, body = SiteDto)))]
pub async fn site(
    State(st): State<AppState>,
    _admin: AdminUser,
) -> Result<Json<SiteDto>, AppError> {
    Ok(Json(site_dto(&st).await?))
}

/// Brand fields to change; absent ones stay.
#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
pub struct BrandEdit {
    /// 1 to 60 characters.
    name: Option<String>,
    /// At most 160 characters on one line; "" removes it.
    tagline: Option<String>,
    /// `#rrggbb` or `#rgb`; "" returns to the built-in colours.
    color: Option<String>,
    /// A `data:image/png|jpeg|webp;base64,…` URL of at most 128 KiB; "" removes the logo.
    logo: Option<String>,
}

fn clearable(v: Option<String>) -> Option<Option<String>> {
    v.map(|s| (!s.trim().is_empty()).then_some(s))
}

/// Changes the brand (audited `site.brand`); answers the storefront as it is now.
#[utoipa::path(patch, path = "/api/admin/site/brand", tag = "admin", request_body = BrandEdit,
    responses((status = 200, body = SiteDto)))]
pub async fn edit_brand(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    JsonBody(b): JsonBody<BrandEdit>,
) -> Result<Json<SiteDto>, AppError> {
    let patch = BrandPatch {
        name: b.name,
        tagline: b.tagline,
        color: clearable(b.color),
        logo: clearable(b.logo),
    };
    storefront::set_brand(
        st.app(),
        &AppState::actor(&admin),
        &st.config.panel.name,
        patch,
    )
    .await?;
    st.brand.invalidate();
    Ok(Json(site_dto(&st).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PageEdit {
    /// 1 to 80 characters.
    title: String,
    /// Markdown, at most 50,000 bytes; "" removes the page.
    body: String,
}

/// Writes the page `slug` (`terms`, `faq`, `contact`; audited `site.page`).
#[utoipa::path(put, path = "/api/admin/site/pages/{slug}", tag = "admin",
    params(("slug" = String, Path, description = "terms, faq or contact")), request_body = PageEdit,
    responses((status = 200, body = SiteDto)))]
pub async fn save_page(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(slug): ApiPath<String>,
    JsonBody(p): JsonBody<PageEdit>,
) -> Result<Json<SiteDto>, AppError> {
    storefront::save_page(st.app(), &AppState::actor(&admin), &slug, &p.title, &p.body).await?;
    Ok(Json(site_dto(&st).await?))
}

/// A customer's rating of a service for one order.
#[derive(Serialize, ToSchema)]
pub struct RatingDto {
    /// The order (API v2 id).
    order: i64,
    service: i64,
    user: i64,
    /// 1 to 5.
    stars: i64,
    comment: String,
    /// `approved` (shown and counted), `pending` (a comment an admin has not looked at) or
    /// `rejected`.
    status: &'static str,
    created_at: i64,
}

fn rating_dto(r: &smmd_store::ServiceRating) -> RatingDto {
    RatingDto {
        order: r.order_id.0,
        service: r.service_id.0,
        user: r.user_id.0,
        stars: r.stars,
        comment: r.comment.clone(),
        status: r.status.as_str(),
        created_at: r.created_at,
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRating {
    #[schema(minimum = 1, maximum = 5)]
    stars: i64,
    /// At most 500 characters; a comment is shown once an admin approves it.
    #[serde(default)]
    comment: String,
}

/// Rates the service of one of the caller's delivered orders (Completed or Partial), once.
#[utoipa::path(post, path = "/api/smm/orders/{reference}/rating", tag = "orders",
    params(("reference" = String, Path, description = "The order's reference")), request_body = NewRating,
    responses((status = 201, body = RatingDto)))]
pub async fn rate_order(
    State(st): State<AppState>,
    auth: crate::auth::AuthUser,
    ApiPath(reference): ApiPath<String>,
    JsonBody(r): JsonBody<NewRating>,
) -> Result<(axum::http::StatusCode, Json<RatingDto>), AppError> {
    let o = super::smm::own_order(&st, auth.user.id, &reference).await?;
    let rated = storefront::rate_order(st.app(), auth.user.id, o.id, r.stars, &r.comment).await?;
    st.public_catalog.invalidate();
    Ok((axum::http::StatusCode::CREATED, Json(rating_dto(&rated))))
}

#[derive(Serialize, ToSchema)]
pub struct RatingList {
    items: Vec<RatingDto>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RatingFilters {
    /// `pending`, `approved` or `rejected`; all when absent.
    status: Option<String>,
    /// Only orders with a smaller id (paging).
    before: Option<i64>,
}

/// Ratings, newest order first (100 a page): the moderation queue with `status=pending`.
#[utoipa::path(get, path = "/api/admin/ratings", tag = "admin", params(RatingFilters),
    responses((status = 200, body = RatingList)))]
pub async fn list_ratings(
    State(st): State<AppState>,
    _admin: AdminUser,
    super::ApiQuery(f): super::ApiQuery<RatingFilters>,
) -> Result<Json<RatingList>, AppError> {
    let status = match f.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(smmd_domain::rating::RatingStatus::parse(s).ok_or_else(|| {
            AppError::new(
                crate::error::ErrorCode::InvalidQuery,
                "status is pending, approved or rejected",
            )
        })?),
    };
    let items = st
        .store
        .ratings(&smmd_store::RatingQuery {
            status,
            before: f.before.map(smmd_domain::OrderId),
            limit: 100,
            ..Default::default()
        })
        .await?;
    Ok(Json(RatingList {
        items: items.iter().map(rating_dto).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingDecision {
    /// The rated orders (1 to 500).
    orders: Vec<i64>,
    /// `approve` or `reject`.
    decision: String,
}

#[derive(Serialize, ToSchema)]
pub struct Decided {
    /// Ratings that were pending and moved.
    moved: u64,
}

/// Approves or rejects pending ratings (audited); decided ones are left as they are.
#[utoipa::path(post, path = "/api/admin/ratings/decide", tag = "admin", request_body = RatingDecision,
    responses((status = 200, body = Decided)))]
pub async fn decide_ratings(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    JsonBody(d): JsonBody<RatingDecision>,
) -> Result<Json<Decided>, AppError> {
    let approve = match d.decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => {
            return Err(AppError::new(
                crate::error::ErrorCode::InvalidRating,
                "decision is approve or reject",
            ))
        }
    };
    let orders: Vec<smmd_domain::OrderId> =
        d.orders.into_iter().map(smmd_domain::OrderId).collect();
    let moved =
        storefront::moderate_ratings(st.app(), &AppState::actor(&admin), &orders, approve).await?;
    st.public_catalog.invalidate();
    Ok(Json(Decided { moved }))
}

//! The storefront's content (issue 18): the brand an admin sets, as named values (`brand.name`,
//! `brand.tagline`, `brand.color`, `brand.logo`: what each holds is checked by the use case,
//! `smmd_app::storefront`), and the pages an admin writes (terms, FAQ, contact), plus the
//! public catalogue's figures per service (orders placed, recent delivery times).

use async_trait::async_trait;
use serde::Serialize;
use smmd_domain::ServiceId;

use crate::{CompletionSample, NewAudit, StoreResult};

/// An admin-written page of the storefront.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SitePage {
    /// `terms`, `faq` or `contact` (the use case checks).
    pub slug: String,
    pub title: String,
    /// Markdown; rendered without raw HTML.
    pub body: String,
    /// Epoch ms.
    pub updated_at: i64,
}

/// What the public services page says about one service beyond its terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceFigures {
    pub service_id: ServiceId,
    /// Orders ever placed for it (live and archived).
    pub orders: i64,
    /// Its latest Completed live orders (at most the number asked for), latest first: the
    /// average time per 1000 ([`crate::avg_ms_per_1000`]), as on the order form.
    pub samples: Vec<CompletionSample>,
}

#[async_trait]
pub trait SiteStore: Send + Sync {
    /// Every stored storefront value, by name.
    async fn site_settings(&self) -> StoreResult<Vec<(String, String)>>;

    /// Sets (`Some`) or removes (`None`, back to the default) each named value, with the admin's
    /// audit line, in one transaction.
    async fn set_site_settings(
        &self,
        values: &[(String, Option<String>)],
        now: i64,
        audit: Option<NewAudit>,
    ) -> StoreResult<()>;

    /// Every page, by slug.
    async fn site_pages(&self) -> StoreResult<Vec<SitePage>>;

    /// Creates or replaces the page `page.slug` (its `updated_at` is the time written), or
    /// removes it when `page.body` is empty; with the admin's audit line.
    async fn save_site_page(&self, page: &SitePage, audit: Option<NewAudit>) -> StoreResult<()>;

    /// Figures of every service with at least one order: how many orders, and its latest
    /// `samples` Completed orders' delivery times.
    async fn catalog_figures(&self, samples: i64) -> StoreResult<Vec<ServiceFigures>>;
}

/// A customer's rating of a service for one of their orders.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ServiceRating {
    pub order_id: smmd_domain::OrderId,
    pub service_id: ServiceId,
    pub user_id: smmd_domain::UserId,
    /// 1 to 5.
    pub stars: i64,
    /// Empty for none.
    pub comment: String,
    #[serde(serialize_with = "rating_status")]
    pub status: smmd_domain::rating::RatingStatus,
    /// Epoch ms.
    pub created_at: i64,
    pub moderated_at: Option<i64>,
}

fn rating_status<S: serde::Serializer>(
    s: &smmd_domain::rating::RatingStatus,
    ser: S,
) -> Result<S::Ok, S::Error> {
    ser.serialize_str(s.as_str())
}

/// Which ratings to list, newest order first.
#[derive(Clone, Debug, Default)]
pub struct RatingQuery {
    pub status: Option<smmd_domain::rating::RatingStatus>,
    pub service: Option<ServiceId>,
    pub order: Option<smmd_domain::OrderId>,
    /// Only orders with a smaller id (paging).
    pub before: Option<smmd_domain::OrderId>,
    pub limit: i64,
}

/// Approved ratings of one service: how many and their total stars.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RatingFigures {
    pub service_id: ServiceId,
    pub count: i64,
    pub stars: i64,
}

/// Ratings of services by customers (issue 18; rules in `smmd_domain::rating`).
#[async_trait]
pub trait RatingStore: Send + Sync {
    /// Records `user`'s rating of their order `order` (checked by the caller:
    /// `smmd_domain::rating::check_rating`) in `status`. `Ok(Err(NotDelivered))` unless the
    /// order (live or archived) ended Completed or Partial, `Ok(Err(AlreadyRated))` for a second
    /// rating of it; `NotFound` for an order that is not the user's.
    async fn rate_order(
        &self,
        user: smmd_domain::UserId,
        order: smmd_domain::OrderId,
        stars: i64,
        comment: &str,
        status: smmd_domain::rating::RatingStatus,
        now: i64,
    ) -> StoreResult<Result<ServiceRating, smmd_domain::rating::RatingError>>;

    /// Moves the pending ratings of `orders` to `status` (approved or rejected), noting the
    /// admin, with the audit line; others are left as they are. Returns how many moved.
    async fn moderate_ratings(
        &self,
        orders: &[smmd_domain::OrderId],
        status: smmd_domain::rating::RatingStatus,
        admin: smmd_domain::UserId,
        now: i64,
        audit: Option<NewAudit>,
    ) -> StoreResult<u64>;

    async fn ratings(&self, query: &RatingQuery) -> StoreResult<Vec<ServiceRating>>;

    /// Every service's approved ratings.
    async fn rating_figures(&self) -> StoreResult<Vec<RatingFigures>>;
}

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

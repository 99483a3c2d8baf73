//! Shared application state handed to every handler: the store, the clock, the config and the
//! hot-path caches.

use std::sync::Arc;

use smmd_domain::Clock;
use smmd_store::Store;

use crate::cache::{ApiKeyCache, CatalogCache, ServicesCache};
use crate::config::Config;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<Config>,
    pub api_keys: Arc<ApiKeyCache>,
    pub services: Arc<ServicesCache>,
    pub catalog: Arc<CatalogCache>,
    /// Log-in attempts per e-mail address.
    pub logins: Arc<crate::auth::LoginLimiter>,
    /// `/api/v2` requests per key and minute.
    pub api_limits: Arc<crate::ratelimit::ApiRateLimits>,
    /// Provider clients for the admin provider routes; `None` without `security.secret_key`.
    pub fulfil: Option<smmd_fulfil::Fulfil>,
    /// This instance's WebSocket clients; [`crate::live::run_feed`] publishes to them.
    pub live: Arc<crate::live::Hub>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, config: Config) -> AppState {
        let api_limits = Arc::new(crate::ratelimit::ApiRateLimits::new(
            config.server.api_rate_per_minute,
            clock.clone(),
        ));
        AppState {
            store,
            clock,
            api_limits,
            config: Arc::new(config),
            api_keys: Arc::default(),
            services: Arc::default(),
            catalog: Arc::default(),
            logins: Arc::default(),
            fulfil: None,
            live: Arc::default(),
        }
    }

    /// The use cases ([`smmd_app`]) over this panel's store and clock.
    pub fn app(&self) -> smmd_app::App<'_> {
        smmd_app::App::new(self.store.as_ref(), self.clock.as_ref())
            .with_limits(self.config.panel.limits())
            .with_default_markup(self.config.fulfil.default_markup_bp)
    }

    /// The admin actor of a use case: the signed-in admin.
    pub fn actor(admin: &smmd_store::User) -> smmd_app::Actor {
        smmd_app::Actor::admin(admin)
    }

    /// Drops the cached catalog lists after an admin change.
    pub fn catalog_changed(&self) {
        self.services.invalidate();
        self.catalog.invalidate();
    }

    /// The enabled services, from [`CatalogCache`] while fresh (rebuilt once when stale).
    pub async fn enabled_services(&self) -> smmd_store::StoreResult<Arc<Vec<smmd_store::Service>>> {
        self.catalog
            .get_or_build(self.clock.now_ms(), async {
                Ok(Arc::new(self.store.list_services(true).await?))
            })
            .await
    }
}

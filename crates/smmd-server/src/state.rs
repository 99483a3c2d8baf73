//! Shared application state handed to every handler: the store, the clock, the config and the
//! hot-path caches.

use std::sync::Arc;

use smmd_domain::Clock;
use smmd_store::Store;

use crate::cache::{ApiKeyCache, CatalogCache, ServicesCache};
use crate::config::Config;
use crate::error::{AppError, ErrorCode};

/// A panel's state, shared by every request: one reference count to move per request (a
/// profile of `status` found ~8 % of the server's time cloning and dropping the ~20 shared
/// handles one by one). Reads go through to [`AppShared`]; a change (only while building a
/// panel) copies it first when it is already shared, so a state is a value as before.
#[derive(Clone)]
pub struct AppState(Arc<AppShared>);

impl std::ops::Deref for AppState {
    type Target = AppShared;
    fn deref(&self) -> &AppShared {
        &self.0
    }
}

impl std::ops::DerefMut for AppState {
    fn deref_mut(&mut self) -> &mut AppShared {
        Arc::make_mut(&mut self.0)
    }
}

/// What [`AppState`] holds.
#[derive(Clone)]
pub struct AppShared {
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
    /// The storefront's brand ([`AppState::brand`]).
    pub brand: Arc<crate::cache::TtlSlot<Arc<smmd_app::storefront::Brand>>>,
    /// The panel's configured address ([`Config::base_url`]), for links in account e-mails.
    pub base_url: Option<Arc<str>>,
    /// The owner's account-security policy ([`AppState::policy`]).
    pub policy: Arc<crate::cache::TtlSlot<smmd_app::security::Policy>>,
    /// The public catalogue at list prices ([`AppState::public_catalog`]).
    pub public_catalog: Arc<crate::cache::TtlSlot<Arc<Vec<smmd_app::storefront::PublicService>>>>,
    /// The display currencies' rates ([`AppState::converter`]).
    pub converter: Arc<crate::cache::TtlSlot<Arc<smmd_app::currencies::Converter>>>,
    /// Wakes this instance's registry of child panels ([`crate::panels::registry`]) after a
    /// rental or an admin action changed one.
    pub registry_wake: Arc<tokio::sync::Notify>,
    /// This panel's engine's wake-ups (`scheduler.run_on_demand`): the engine built for this
    /// state uses this handle.
    pub jobs_wake: smmd_jobs::Wake,
    /// Set on a hosted child panel: what its admin pages say about its rental.
    pub hosting: Option<Arc<Hosting>>,
}

/// A hosted child's standing, kept current by the registry ([`crate::panels::registry`]).
#[derive(Debug)]
pub struct Hosting {
    suspended: std::sync::atomic::AtomicBool,
    /// Where the renter renews the rental: the root panel's billing page.
    pub renew_url: String,
}

impl Hosting {
    pub fn new(renew_url: String) -> Hosting {
        Hosting {
            suspended: Default::default(),
            renew_url,
        }
    }

    /// Suspended: customers see the notice, the admin pages the renewal link.
    pub fn suspended(&self) -> bool {
        self.suspended.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn set_suspended(&self, on: bool) {
        self.suspended
            .store(on, std::sync::atomic::Ordering::Relaxed);
    }
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, config: Config) -> AppState {
        let api_limits = Arc::new(crate::ratelimit::ApiRateLimits::new(
            config.server.api_rate_per_minute,
            clock.clone(),
        ));
        AppState(Arc::new(AppShared {
            store,
            clock,
            api_limits,
            base_url: config.base_url().map(Arc::from),
            config: Arc::new(config),
            api_keys: Arc::default(),
            services: Arc::default(),
            catalog: Arc::default(),
            logins: Arc::default(),
            fulfil: None,
            live: Arc::default(),
            brand: Arc::default(),
            policy: Arc::default(),
            public_catalog: Arc::default(),
            converter: Arc::default(),
            registry_wake: Arc::default(),
            jobs_wake: smmd_jobs::Wake::new(),
            hosting: None,
        }))
    }

    /// The use cases ([`smmd_app`]) over this panel's store and clock.
    pub fn app(&self) -> smmd_app::App<'_> {
        smmd_app::App::new(self.store.as_ref(), self.clock.as_ref())
            .with_limits(self.config.panel.limits())
            .with_default_markup(self.config.fulfil.default_markup_bp)
            .with_step_up_window(self.config.security.step_up_seconds * 1000)
            .with_wake(
                self.config
                    .scheduler
                    .run_on_demand
                    .then_some(&self.jobs_wake),
            )
    }

    /// The root's terms for renting a child panel: its currency and its own hostnames (and
    /// `localhost`), which no child may take.
    pub fn rent_terms(&self) -> (String, Vec<String>) {
        let mut reserved = self.config.panels.root_hostnames();
        reserved.push("localhost".into());
        (self.config.panel.currency.clone(), reserved)
    }

    /// The admin actor of a use case: the signed-in admin.
    pub fn actor(admin: &smmd_store::User) -> smmd_app::Actor {
        smmd_app::Actor::admin(admin)
    }

    /// Drops the cached catalog lists after an admin change.
    pub fn catalog_changed(&self) {
        self.services.invalidate();
        self.catalog.invalidate();
        self.public_catalog.invalidate();
    }

    /// The brand pages show, cached for [`crate::cache::SERVICES_TTL_MS`] (this instance drops
    /// it at once when an admin changes it); the configured panel name alone if the store
    /// cannot be read.
    pub async fn brand(&self) -> Arc<smmd_app::storefront::Brand> {
        let built = self
            .brand
            .get_or_build(self.clock.now_ms(), async {
                smmd_app::storefront::brand(self.app(), &self.config.panel.name)
                    .await
                    .map(Arc::new)
            })
            .await;
        built.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "brand not read");
            Arc::new(smmd_app::storefront::Brand {
                name: self.config.panel.name.clone(),
                tagline: String::new(),
                color: None,
                logo: None,
            })
        })
    }

    /// The display currencies' converter for the panel currency, cached like the brand (this
    /// instance drops it at once when an admin pins a rate); none (no conversion) if the
    /// store cannot be read.
    pub async fn converter(&self) -> Arc<smmd_app::currencies::Converter> {
        let panel = &self.config.panel.currency;
        self.converter
            .get_or_build(self.clock.now_ms(), async {
                smmd_app::currencies::converter(self.app(), panel)
                    .await
                    .map(Arc::new)
            })
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "exchange rates not read");
                Arc::new(smmd_app::currencies::Converter::new(panel, &[]))
            })
    }

    /// The owner's security policy, cached like the brand (dropped at once on this instance
    /// when an admin changes it); both rules off if the store cannot be read.
    pub async fn policy(&self) -> smmd_app::security::Policy {
        self.policy
            .get_or_build(self.clock.now_ms(), smmd_app::security::policy(self.app()))
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "security policy not read");
                smmd_app::security::Policy::default()
            })
    }

    /// What account e-mails need (the panel's name and its configured address: never the
    /// request's `Host`, which a reset request could forge); `None` without SMTP or an address.
    pub fn mailer(&self) -> Option<smmd_app::security::Mailer<'_>> {
        let n = &self.config.notifications;
        if n.smtp_url.trim().is_empty() {
            return None;
        }
        Some(smmd_app::security::Mailer {
            panel: &self.config.panel.name,
            base_url: self.base_url.as_deref().filter(|u| !u.is_empty())?,
            lang: crate::web::i18n::lang(),
        })
    }

    /// The panel secret (`security.secret_key`) that seals provider keys and alert-channel
    /// secrets. Errors: `alert_channel_failed` when it is not configured.
    pub fn secret_key(&self) -> Result<[u8; 32], AppError> {
        self.fulfil
            .as_ref()
            .map(|f| *f.clients.secret())
            .ok_or_else(|| {
                AppError::new(
                    ErrorCode::AlertChannelFailed,
                    "The panel secret (security.secret_key) is not configured",
                )
            })
    }

    /// A notifier for sending now (the alert channels' test button), with the panel secret that
    /// opens their secrets. Errors: as [`AppState::secret_key`].
    pub fn notifier(&self) -> Result<smmd_notify::Notifier, AppError> {
        let secret = self.secret_key()?;
        let notifier = smmd_notify::Notifier::new(
            self.store.clone(),
            self.clock.clone(),
            self.config.notify_settings(),
        )
        .map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))?;
        Ok(notifier.with_secret(secret))
    }

    /// The public catalogue at list prices (visitors, the public JSON), cached like the
    /// services list.
    pub async fn public_catalog(
        &self,
    ) -> Result<Arc<Vec<smmd_app::storefront::PublicService>>, smmd_app::UseCaseError> {
        self.public_catalog
            .get_or_build(self.clock.now_ms(), async {
                smmd_app::storefront::public_catalog(self.app())
                    .await
                    .map(Arc::new)
            })
            .await
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

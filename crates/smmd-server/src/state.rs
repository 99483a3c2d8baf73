//! Shared application state handed to every handler: the store, the clock, the config and the
//! hot-path caches.

use std::sync::Arc;

use smmd_domain::Clock;
use smmd_store::Store;

use crate::cache::{ApiKeyCache, ServicesCache};
use crate::config::Config;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<Config>,
    pub api_keys: Arc<ApiKeyCache>,
    pub services: Arc<ServicesCache>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, config: Config) -> AppState {
        AppState {
            store,
            clock,
            config: Arc::new(config),
            api_keys: Arc::default(),
            services: Arc::default(),
        }
    }
}

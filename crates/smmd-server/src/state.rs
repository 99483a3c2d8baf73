//! Shared application state handed to every handler: the store, the clock and the config.

use std::sync::Arc;

use smmd_domain::Clock;
use smmd_store::Store;

use crate::config::Config;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<Config>,
}

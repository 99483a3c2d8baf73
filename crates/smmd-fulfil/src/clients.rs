//! One [`ProviderClient`] per provider, built from its stored row (the sealed key opened with the
//! panel secret) and kept while the row's connection settings stay the same, so limits and the
//! circuit breaker persist across job runs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use smmd_domain::ProviderId;
use smmd_provider::{ProviderClient, ProviderConfig, ProviderError};
use smmd_store::Provider;

use crate::keys;

/// The URL a hosted child panel's provider is stored with: the root panel of the same
/// deployment (`docs/child-panels.md`). It names no host; each instance's clients reach it on
/// that instance's own loopback address ([`Clients::with_parent`]), so the child works
/// whichever instance serves it and wherever it restarts.
pub const PARENT_URL: &str = "http://parent.smmd.internal/api/v2";

/// The client cache. Cheap to clone.
#[derive(Clone)]
pub struct Clients {
    secret: Arc<[u8; 32]>,
    breaker: (u32, Duration),
    cache: Arc<Mutex<HashMap<ProviderId, (String, ProviderClient)>>>,
    /// Where [`PARENT_URL`] leads on this instance.
    parent: Option<Arc<str>>,
}

impl Clients {
    /// Clients opening keys sealed with `secret` (see [`keys::seal`]).
    /// The circuit breaker opens after 5 consecutive failures for 30 s.
    pub fn new(secret: [u8; 32]) -> Clients {
        Clients {
            secret: Arc::new(secret),
            breaker: (5, Duration::from_secs(30)),
            cache: Arc::default(),
            parent: None,
        }
    }

    /// Clients of a hosted child panel: a provider stored with [`PARENT_URL`] is called at
    /// `url` (the root's `/api/v2` on this instance's loopback address).
    pub fn with_parent(mut self, url: &str) -> Clients {
        self.parent = Some(Arc::from(url));
        self
    }

    /// The address a provider stored with `url` is called at.
    pub fn resolve<'a>(&'a self, url: &'a str) -> &'a str {
        match &self.parent {
            Some(parent) if url == PARENT_URL => parent,
            _ => url,
        }
    }

    /// Sets the circuit breaker: `threshold` consecutive failures open it for `cooldown`.
    pub fn with_breaker(mut self, threshold: u32, cooldown: Duration) -> Clients {
        self.breaker = (threshold, cooldown);
        self
    }

    /// The panel secret these clients open keys with.
    pub fn secret(&self) -> &[u8; 32] {
        &self.secret
    }

    /// Seals a provider API key for storage.
    pub fn seal_key(&self, key: &str) -> String {
        keys::seal(&self.secret, key)
    }

    /// Opens a sealed provider key (to test it again after the URL changes). Errors: it was
    /// not sealed with this panel's secret.
    pub fn open_key(&self, sealed: &str) -> Result<String, keys::KeyError> {
        keys::open(&self.secret, sealed)
    }

    /// The client of `p`. Errors: the key does not open, or the URL is invalid (`Config`).
    pub fn get(&self, p: &Provider) -> Result<ProviderClient, ProviderError> {
        let url = self.resolve(&p.url);
        let fingerprint = format!(
            "{}|{}|{}|{}|{:?}|{:?}",
            url, p.api_key_enc, p.timeout_ms, p.max_concurrency, p.rate_per_sec, p.limits
        );
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((f, c)) = cache.get(&p.id) {
            if *f == fingerprint {
                return Ok(c.clone());
            }
        }
        let key = keys::open(&self.secret, &p.api_key_enc)
            .map_err(|e| ProviderError::Config(e.to_string()))?;
        let mut cfg = ProviderConfig::new(url.to_string(), key);
        cfg.timeout = Duration::from_millis(p.timeout_ms.clamp(100, 600_000) as u64);
        cfg.max_concurrency = p.max_concurrency.clamp(1, 256) as usize;
        cfg.rate_per_sec = p.rate_per_sec.and_then(|r| u32::try_from(r).ok());
        (cfg.breaker_threshold, cfg.breaker_cooldown) = self.breaker;
        cfg.answer_max_bytes = p.limits.answer_max_bytes.clamp(1 << 10, 1 << 30) as usize;
        cfg.services_max_bytes = p.limits.services_max_bytes.clamp(1 << 10, 1 << 30) as usize;
        if url != p.url {
            // A child's parent on loopback: reconnecting costs little, an idle socket pair
            // per child adds up over hundreds of them.
            cfg.idle_keepalive = Duration::from_secs(2);
        }
        let client = ProviderClient::new(cfg)?;
        cache.insert(p.id, (fingerprint, client.clone()));
        Ok(client)
    }
}

//! `[panels]`: hosted child panels (`docs/child-panels.md`) — the hostnames of the root panel
//! itself, how often every instance reads the registry, and how long an idle child keeps its
//! database connections. Validated with the rest in [`super::Config::validate`].

use serde::{Deserialize, Serialize};

/// Hosting child panels in this deployment.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct PanelsConfig {
    /// The root panel's own hostnames (`panel.example.com`). A request for another name that
    /// is no child's gets a plain 404. Empty: the root answers every name that is no child's
    /// (one panel, as before children). Requests by IP address or `localhost` always reach
    /// the root (the children's provider calls and health checks use them).
    pub hostnames: Vec<String>,
    /// How often each instance reads the registry (ms): new, suspended, resumed and ended
    /// children take effect within this on every instance (at once on the one that changed).
    pub refresh_ms: u64,
    /// A child's pooled database connections idle this long are closed (seconds), so an idle
    /// child holds no connection and no open file.
    pub idle_seconds: u64,
    /// PostgreSQL: the connections every child's schema shares (one pool for all children,
    /// each connection pointed at a child's schema as it is taken), beside the root's pool.
    /// SQLite children each have their own file and pool.
    pub pool_size: u32,
    /// Children provisioned at the same time on one instance (creating and migrating storage
    /// is the costly step; hundreds rented at once wait their turn).
    pub provision_parallel: usize,
    /// A crash drill, never for production: after this provisioning step's work (`storage`,
    /// `admin`, `api_key`, `provider`, `catalog`, `start`) the provisioner stops for ten
    /// minutes before recording the step done, so a `kill -9` can land there and the next
    /// start shows that the step runs again without doubling anything. Empty: off.
    pub drill_pause_after: String,
}

impl Default for PanelsConfig {
    fn default() -> Self {
        PanelsConfig {
            hostnames: Vec::new(),
            refresh_ms: 2_000,
            idle_seconds: 30,
            pool_size: 8,
            provision_parallel: 4,
            drill_pause_after: String::new(),
        }
    }
}

impl PanelsConfig {
    /// Checks the values; the message names the setting.
    pub fn validate(&self) -> anyhow::Result<()> {
        for h in &self.hostnames {
            smmd_domain::panel::Hostname::parse(h)
                .map_err(|e| anyhow::anyhow!("panels.hostnames: {h}: {e}"))?;
        }
        anyhow::ensure!(
            (100..=600_000).contains(&self.refresh_ms),
            "panels.refresh_ms must be 100 to 600000"
        );
        anyhow::ensure!(
            (1..=86_400).contains(&self.idle_seconds),
            "panels.idle_seconds must be 1 to 86400"
        );
        anyhow::ensure!(
            (1..=1_000).contains(&self.pool_size),
            "panels.pool_size must be 1 to 1000"
        );
        anyhow::ensure!(
            (1..=64).contains(&self.provision_parallel),
            "panels.provision_parallel must be 1 to 64"
        );
        anyhow::ensure!(
            self.drill_pause_after.is_empty()
                || smmd_domain::panel::ProvisionStep::parse(&self.drill_pause_after).is_some(),
            "panels.drill_pause_after must name a provisioning step (storage, admin, api_key, provider, catalog, start) or be empty"
        );
        Ok(())
    }

    /// The root's hostnames, normalised.
    pub fn root_hostnames(&self) -> Vec<String> {
        self.hostnames
            .iter()
            .filter_map(|h| smmd_domain::panel::Hostname::parse(h).ok())
            .map(|h| h.as_str().to_string())
            .collect()
    }
}

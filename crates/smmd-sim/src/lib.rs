//! `smmd-sim`: a provider panel simulator that speaks SMM API v2 (spec `docs/smm-api-v2.md`).
//!
//! It is a product feature — the sandbox a panel owner tries smmd against before spending money —
//! and the upstream of `smmd demo`, of the tests and of the benchmarks. It owns:
//! - [`config`]: the catalog, delivery behaviour per service and the fault shares;
//! - [`sim`]: the provider's books and how every order and refill looks at a simulated instant;
//! - [`server`]: the HTTP face with latency, faults and dialect quirks, and `/_sim/*` counters.
//!
//! Use it in-process with [`spawn`], or standalone: `smmd-sim --listen 127.0.0.1:PORT [--config FILE]`.

pub mod config;
pub mod server;
pub mod sim;

use std::net::SocketAddr;
use std::sync::Arc;

pub use config::{Faults, ServiceSpec, SimConfig};
pub use sim::{Sim, Stats, NO_FUNDS_MARK, STUCK_MARK};
use smmd_domain::Clock;

/// A running simulator.
pub struct SimHandle {
    /// The API URL (`http://127.0.0.1:PORT/api/v2`).
    pub url: String,
    pub addr: SocketAddr,
    pub sim: Arc<Sim>,
    task: tokio::task::JoinHandle<()>,
}

impl SimHandle {
    /// Stops serving.
    pub fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts a simulator on `listen` (port 0 picks a free port) in the current runtime.
/// Errors: an invalid configuration, or the address cannot be bound.
pub async fn spawn(
    config: SimConfig,
    clock: Arc<dyn Clock>,
    listen: &str,
) -> anyhow::Result<SimHandle> {
    let sim = Arc::new(Sim::new(config, clock)?);
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let app = server::router(sim.clone());
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "simulator stopped");
        }
    });
    Ok(SimHandle {
        url: format!("http://{addr}/api/v2"),
        addr,
        sim,
        task,
    })
}

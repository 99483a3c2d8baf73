//! Building and running the server: open the store, bind the listener (port 0 allowed, so tests
//! get a free port without sleeps), serve until a shutdown signal.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use smmd_domain::Clock;
use smmd_store::Store;
use smmd_store_sql::{ConnectOptions, SqlStore};
use tokio::net::TcpListener;

use crate::config::Config;
use crate::http;
use crate::state::AppState;

/// Opens (and migrates) the configured database.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<SqlStore>> {
    let store = SqlStore::connect(
        &config.database_url(),
        ConnectOptions {
            max_connections: config.database.max_connections,
            migrate: true,
        },
    )
    .await?;
    Ok(Arc::new(store))
}

/// A bound, not yet running server.
pub struct App {
    listener: TcpListener,
    router: axum::Router,
    addr: SocketAddr,
    pub state: AppState,
}

impl App {
    /// Binds `config.server.listen` and prepares the routes.
    pub async fn build(
        config: Config,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<App> {
        let listener = TcpListener::bind(&config.server.listen)
            .await
            .with_context(|| format!("binding {}", config.server.listen))?;
        let addr = listener.local_addr().context("reading the bound address")?;
        let state = AppState::new(store, clock, config);
        let router = http::router(state.clone());
        Ok(App {
            listener,
            router,
            addr,
            state,
        })
    }

    /// The bound address (the real port when `:0` was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
            .context("serving HTTP")
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutdown signal received");
}

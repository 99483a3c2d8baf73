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

/// Runs the HTTP server and the scheduler together until Ctrl-C or SIGTERM. The default
/// schedules are created first (in the panel's zone); after the signal no new run starts and
/// the run in flight finishes (scheduler F9).
pub async fn run_with_scheduler(app: App) -> anyhow::Result<()> {
    let (store, clock) = (app.state.store.clone(), app.state.clock.clone());
    let zone = app.state.config.panel.timezone.clone();
    smmd_jobs::control::ensure_defaults(
        store.as_ref(),
        smmd_jobs::control::DEFAULT_JOBS,
        &zone,
        clock.now_ms(),
    )
    .await
    .context("creating the default schedules")?;
    let mut engine = smmd_jobs::Engine::new(
        store.clone(),
        clock.clone(),
        smmd_jobs::EngineConfig::default(),
    );
    smmd_jobs::jobs::register_all(&mut engine, store, clock);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let until_stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let scheduler = tokio::spawn(engine.run_until(until_stopped(stopped.clone())));
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    });
    let served = app.run_until(until_stopped(stopped)).await;
    let _ = scheduler.await;
    served
}

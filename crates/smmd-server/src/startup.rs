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
use crate::state::AppState;

/// Opens (and migrates) the configured database.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<SqlStore>> {
    let store = SqlStore::connect(
        &config.database_url(),
        ConnectOptions {
            max_connections: config.database.max_connections,
            migrate: true,
            ..ConnectOptions::default()
        },
    )
    .await?;
    Ok(Arc::new(store))
}

/// The file of a SQLite database URL (`sqlite://path/smmd.db?mode=rwc` → `path/smmd.db`);
/// `None` for other backends and in-memory databases.
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    (!path.is_empty() && path != ":memory:").then(|| std::path::PathBuf::from(path))
}

/// Opens the configured database for a command that works on an existing panel (every command
/// but `migrate`, `serve` and `demo`): a SQLite file that does not exist is an error naming it,
/// never a new empty panel. Says on stderr which database it uses.
pub async fn open_existing_store(config: &Config) -> anyhow::Result<Arc<SqlStore>> {
    let url = config.database_url();
    if let Some(file) = sqlite_file(&url) {
        anyhow::ensure!(
            file.exists(),
            "no database at {}: run `smmd migrate` (or `smmd serve`) first, or pass the panel's --config",
            file.display()
        );
    }
    eprintln!("using database {}", smmd_store_sql::redact(&url));
    open_store(config).await
}

/// A bound, not yet running server: the root panel and the children of the registry
/// ([`crate::panels`]).
pub struct App {
    listener: TcpListener,
    addr: SocketAddr,
    /// The root panel's state.
    pub state: AppState,
    /// Every panel this server answers for, routed by `Host`.
    pub deployment: Arc<crate::panels::Deployment>,
}

impl App {
    /// Binds `config.server.listen` and prepares the routes.
    pub async fn build(
        config: Config,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<App> {
        crate::serve::raise_fd_limit();
        let listener = TcpListener::bind(&config.server.listen)
            .await
            .with_context(|| format!("binding {}", config.server.listen))?;
        let addr = listener.local_addr().context("reading the bound address")?;
        if config.metrics.enabled {
            // Before anything records: counters of the first runs must not be lost.
            crate::metrics::handle();
        }
        let mut state = AppState::new(store.clone(), clock.clone(), config);
        // Without a secret key the provider admin routes answer 503; everything else works.
        state.fulfil = fulfil(&state.config, store, clock).ok();
        let deployment = Arc::new(crate::panels::Deployment::new(crate::panels::Panel::new(
            state.clone(),
            None,
        )?));
        deployment.set_bound(addr);
        deployment.follow_renters();
        Ok(App {
            listener,
            addr,
            state,
            deployment,
        })
    }

    /// The bound address (the real port when `:0` was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests. The root's live
    /// feed ([`crate::live::run_feed`]) and the registry of children
    /// ([`crate::panels::registry::run`]) run alongside.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let d = self.deployment.clone();
        d.root.start(false);
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let registry = tokio::spawn(crate::panels::registry::run(d.clone(), async move {
            let mut stopped = stopped;
            let _ = stopped.wait_for(|s| *s).await;
        }));
        let limits = self
            .state
            .config
            .server
            .conn_limits(self.state.config.scheduler.shutdown_grace_ms);
        let shutdown = async move {
            shutdown.await;
            let _ = stop.send(true);
        };
        let served = crate::serve::serve(self.listener, d.router(), limits, shutdown)
            .await
            .context("serving HTTP");
        d.root.stop();
        let _ = registry.await;
        served
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

/// The engine settings of `config.scheduler`, on the database clock (F14).
pub fn engine_config(config: &Config) -> smmd_jobs::EngineConfig {
    let s = &config.scheduler;
    let instance = if s.instance.is_empty() {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "smmd".to_string());
        format!("{host}-{}", std::process::id())
    } else {
        s.instance.clone()
    };
    smmd_jobs::EngineConfig {
        instance,
        lease_ms: s.lease_ms,
        poll: std::time::Duration::from_millis(s.poll_ms),
        max_concurrent_runs: s.max_concurrent_runs,
        time_source: smmd_jobs::TimeSource::Database,
        shutdown_grace: std::time::Duration::from_millis(s.shutdown_grace_ms),
        ..smmd_jobs::EngineConfig::default()
    }
}

/// The fulfilment context (provider clients keyed by the panel secret, `[fulfil]` settings).
/// Errors: `security.secret_key` is unset or invalid (call `Config::ensure_secret_key` first).
pub fn fulfil(
    config: &Config,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<smmd_fulfil::Fulfil> {
    let hex = config
        .security
        .secret_key
        .as_deref()
        .context("security.secret_key is not set")?;
    let secret = smmd_fulfil::keys::secret_from_hex(hex)?;
    Ok(smmd_fulfil::Fulfil {
        store,
        clock,
        clients: smmd_fulfil::Clients::new(secret),
        settings: config.fulfil.settings(),
        lanes: Default::default(),
    })
}

/// An engine with every job of this build registered, per `config.scheduler`.
/// Errors: as [`fulfil`].
pub fn build_engine(
    config: &Config,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<smmd_jobs::Engine> {
    let fulfil = fulfil(config, store.clone(), clock.clone())?;
    engine_with(
        config,
        store,
        clock,
        fulfil,
        smmd_jobs::TimeSource::Database,
        false,
        smmd_jobs::Wake::new(),
    )
}

/// An engine whose fulfilment jobs use `fulfil`: `serve` passes the HTTP state's own, so the
/// admin provider routes and the jobs share each provider's limits and circuit breaker. `time`:
/// the database clock when serving, the injected one where tests tick it. `lean_passes`: a
/// hosted child's engine ([`smmd_jobs::EngineConfig::lean_passes`]). `wake`: the handle the
/// panel's use cases wake the engine with (`scheduler.run_on_demand`).
pub(crate) fn engine_with(
    config: &Config,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    fulfil: smmd_fulfil::Fulfil,
    time: smmd_jobs::TimeSource,
    lean_passes: bool,
    wake: smmd_jobs::Wake,
) -> anyhow::Result<smmd_jobs::Engine> {
    let mut engine = smmd_jobs::Engine::new(
        store.clone(),
        clock.clone(),
        smmd_jobs::EngineConfig {
            time_source: time,
            lean_passes,
            ..engine_config(config)
        },
    );
    engine.use_wake(wake);
    let notify = smmd_notify::Notifier::new(store.clone(), clock.clone(), config.notify_settings())
        .context("setting up notifications")?
        .with_secret(*fulfil.clients.secret());
    smmd_jobs::jobs::register_all(
        &mut engine,
        smmd_jobs::jobs::JobDeps {
            store,
            clock,
            canary_work: std::time::Duration::from_millis(config.scheduler.canary_work_ms),
            fulfil: Some(fulfil),
            maintenance: smmd_jobs::jobs::Maintenance {
                notification_retention_ms: config.notifications.retention_days * 86_400_000,
                ..config.maintenance.settings()
            },
            notify: Some(notify),
            rates: config.currencies.settings(),
            run_on_demand: config.scheduler.run_on_demand,
        },
    );
    Ok(engine)
}

/// Runs the HTTP server and the scheduler together until Ctrl-C or SIGTERM. The default
/// schedules are created first (in the panel's zone). After the signal the listener stops
/// accepting, no new run starts, and runs in flight finish or are handed back after
/// `scheduler.shutdown_grace_ms` (scheduler F9).
pub async fn run_with_scheduler(app: App) -> anyhow::Result<()> {
    let (store, clock) = (app.state.store.clone(), app.state.clock.clone());
    let config = app.state.config.clone();
    smmd_jobs::control::ensure_defaults(
        store.as_ref(),
        smmd_jobs::control::DEFAULT_JOBS,
        &config.panel.timezone,
        store
            .db_now_ms()
            .await
            .context("reading the database clock")?,
    )
    .await
    .context("creating the default schedules")?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let until_stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    if config.scheduler.enabled {
        app.deployment.run_engines();
    }
    let scheduler = if config.scheduler.enabled {
        let engine = match app.state.fulfil.clone() {
            Some(f) => engine_with(
                &config,
                store,
                clock,
                f,
                smmd_jobs::TimeSource::Database,
                false,
                app.state.jobs_wake.clone(),
            )?,
            None => build_engine(&config, store, clock)?,
        };
        tracing::info!(instance = engine.instance(), "scheduler started");
        Some(tokio::spawn(
            engine.run_until(until_stopped(stopped.clone())),
        ))
    } else {
        None
    };
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    });
    let served = app.run_until(until_stopped(stopped)).await;
    if let Some(scheduler) = scheduler {
        let _ = scheduler.await;
    }
    served
}

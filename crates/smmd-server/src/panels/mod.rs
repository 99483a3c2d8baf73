//! Hosted child panels in one deployment (`docs/child-panels.md`). A [`Panel`] is the unit
//! `smmd serve` runs — config, store, caches, live hub, routes and scheduler engine; the
//! deployment's own panel is the root (id 0) and each child is one more, built by the same code
//! over its own storage. The [`Deployment`] routes every request by its `Host` before any
//! handler runs: each hostname reaches exactly one panel's state, a name no panel has gets a
//! plain 404, never another panel's content. [`registry`] keeps the set of children in step
//! with the registry in the root's store on every instance and provisions new ones.

pub mod registry;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use axum::extract::{Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use smmd_domain::panel::{Hostname, PanelState};
use smmd_store::Store;
use tower::ServiceExt as _;

use crate::state::AppState;
use crate::web::hosting::{notice, Notice};

/// One panel being served: its state (store, config, caches, live hub), its routes and its
/// engine; `stop` ends its live feed and engine.
pub struct Panel {
    /// 0 for the root, else the registry id.
    pub id: i64,
    pub state: AppState,
    router: Router,
    /// The scheduler engine over this panel's store (`None` without a secret key).
    pub engine: Option<smmd_jobs::Engine>,
    stop: tokio::sync::watch::Sender<bool>,
}

impl Panel {
    /// The panel of `state`: its routes and, with `engine` (its time source), its engine with
    /// every job of this build (the root's engine is `run_with_scheduler`'s own).
    pub fn new(state: AppState, engine: Option<smmd_jobs::TimeSource>) -> anyhow::Result<Panel> {
        let router = crate::router(state.clone());
        let engine = match (state.fulfil.clone(), engine) {
            (Some(f), Some(time)) => Some(crate::startup::engine_with(
                &state.config,
                state.store.clone(),
                state.clock.clone(),
                f,
                time,
                true,
                state.jobs_wake.clone(),
            )?),
            _ => None,
        };
        Ok(Panel {
            id: 0,
            state,
            router,
            engine,
            stop: tokio::sync::watch::channel(false).0,
        })
    }

    /// Starts the live feed and, with `engine`, the scheduler; both end at [`Panel::stop`].
    pub fn start(&self, engine: bool) {
        let stopped = self.stop.subscribe();
        let until = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        // A child's feed is woken by its own commits on this instance and, on PostgreSQL, by
        // every instance's (NOTIFY); its poll is only the safety net, every
        // CHILD_FEED_POLL_MS (the root's every second).
        let poll = match self.id {
            0 => std::time::Duration::from_secs(1),
            _ => std::time::Duration::from_millis(registry::CHILD_FEED_POLL_MS),
        };
        let feed = crate::live::run_feed(self.state.store.clone(), self.state.live.clone(), poll);
        let rx = stopped.clone();
        tokio::spawn(async move {
            tokio::select! { () = feed => {}, () = until(rx) => {} }
        });
        if let (true, Some(e)) = (engine, self.engine.clone()) {
            tokio::spawn(e.run_until(until(stopped)));
        }
    }

    /// Stops the feed and the engine (runs in flight finish within the shutdown grace).
    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }

    /// Answers one request with this panel's routes.
    pub async fn call(&self, req: Request) -> Response {
        match self.router.clone().oneshot(req).await {
            Ok(r) => r,
            Err(never) => match never {},
        }
    }
}

/// Where a child's hostname leads now.
#[derive(Clone)]
struct ChildRoute {
    id: i64,
    state: PanelState,
    name: String,
}

/// Every panel this instance serves, and the hostname table.
pub struct Deployment {
    pub root: Arc<Panel>,
    children: RwLock<HashMap<i64, Arc<Panel>>>,
    hosts: RwLock<HashMap<String, ChildRoute>>,
    /// The root's configured hostnames; empty: the root answers every name no child has.
    root_hosts: Vec<String>,
    /// Opened child stores (provisioning opens them; serving reuses them).
    stores: tokio::sync::Mutex<HashMap<i64, Arc<dyn Store>>>,
    /// Children this instance is provisioning now (waiting for a slot, or at work).
    provisioning: Mutex<std::collections::HashSet<i64>>,
    /// At most `panels.provision_parallel` of them at work at once.
    provision_slots: Arc<tokio::sync::Semaphore>,
    /// PostgreSQL: the pool every child's schema shares (made with the first child opened).
    shared_pool: std::sync::OnceLock<smmd_store_sql::SharedPool>,
    /// The root's `/api/v2` on loopback, once the listener is bound.
    root_api_url: RwLock<String>,
    /// Children's engines run (`serve`); off, tests tick them ([`Deployment::child`]).
    run_engines: AtomicBool,
    /// Wakes the registry loop (a rental or an admin action on this instance; the root
    /// state's [`AppState::registry_wake`]).
    wake: Arc<tokio::sync::Notify>,
    /// The instance name in provisioning leases.
    instance: String,
    /// The children that serve, by their renter's root account (rebuilt with the hostnames):
    /// whose engines the root's feed wakes when that account's orders move
    /// ([`Deployment::follow_renters`]).
    renters: RwLock<HashMap<smmd_domain::UserId, Vec<i64>>>,
}

/// Paths a suspended child still serves: its admin's log-in and pages, assets, languages.
const SUSPENDED_OPEN: [&str; 9] = [
    "/admin",
    "/login",
    "/logout",
    "/assets/",
    "/api/auth/",
    "/api/admin/",
    "/lang/",
    "/healthz",
    "/2fa",
];

/// Paths a terminated child still serves until its data is removed: its admin's log-in and
/// the archive.
const TERMINATED_OPEN: [&str; 6] = [
    "/login",
    "/logout",
    "/assets/",
    "/api/auth/",
    "/admin/archive",
    "/2fa",
];

impl Deployment {
    /// A deployment serving `root`; children come from the registry ([`registry::run`]).
    pub fn new(root: Panel) -> Deployment {
        let root_hosts = root.state.config.panels.root_hostnames();
        let instance = crate::startup::engine_config(&root.state.config).instance;
        let wake = root.state.registry_wake.clone();
        let parallel = root.state.config.panels.provision_parallel.max(1);
        Deployment {
            root: Arc::new(root),
            children: RwLock::default(),
            hosts: RwLock::default(),
            root_hosts,
            stores: tokio::sync::Mutex::default(),
            provisioning: Mutex::default(),
            provision_slots: Arc::new(tokio::sync::Semaphore::new(parallel)),
            shared_pool: std::sync::OnceLock::new(),
            root_api_url: RwLock::default(),
            run_engines: AtomicBool::new(false),
            wake,
            instance,
            renters: RwLock::default(),
        }
    }

    /// Lets the children follow their renters' orders at the root: when the root's live feed
    /// publishes a status event of an order of a renter's account (the root's sync, an admin,
    /// a failed `add`), that renter's children run `orders.sync_status` now; a `refill` event
    /// runs `refills.sync_status`. A child therefore polls the root only at its sweep
    /// ([`smmd_jobs::jobs::ON_DEMAND_SWEEP`]) and still shows an outcome as soon as the root
    /// has it. On PostgreSQL every instance's feed sees every commit, and a wake is a tick
    /// claimed once across instances, so two instances waking the same child run it once.
    pub fn follow_renters(self: &Arc<Self>) {
        let d = Arc::downgrade(self);
        self.root
            .state
            .live
            .observe(Arc::new(move |item: &smmd_store::FeedItem| {
                let job = match &item.message {
                    smmd_store::FeedMessage::Order { event, .. } => match event.as_str() {
                        "status" => smmd_jobs::jobs::SYNC_STATUS,
                        "refill" => smmd_jobs::jobs::REFILLS_SYNC,
                        _ => return,
                    },
                    _ => return,
                };
                let (Some(d), Some(user)) = (d.upgrade(), item.user_id) else {
                    return;
                };
                d.wake_children_of(user, job);
            }));
    }

    /// Wakes schedule `job` in every child of renter `user` this instance serves.
    fn wake_children_of(&self, user: smmd_domain::UserId, job: &str) {
        let ids = match self
            .renters
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&user)
        {
            Some(ids) => ids.clone(),
            None => return,
        };
        for id in ids {
            if let Some(child) = self.child(id) {
                child.state.jobs_wake.wake(job);
            }
        }
    }

    /// Sets the root's loopback address once bound (`0.0.0.0` is reached as `127.0.0.1`).
    pub fn set_bound(&self, addr: std::net::SocketAddr) {
        let ip = match addr.ip() {
            std::net::IpAddr::V4(v4) if v4.is_unspecified() => {
                std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)
            }
            std::net::IpAddr::V6(v6) if v6.is_unspecified() => {
                std::net::IpAddr::V6(std::net::Ipv6Addr::LOCALHOST)
            }
            ip => ip,
        };
        let url = format!(
            "http://{}/api/v2",
            std::net::SocketAddr::new(ip, addr.port())
        );
        *self.root_api_url.write().unwrap_or_else(|e| e.into_inner()) = url;
    }

    /// Children started from now on run their engines (`run_with_scheduler` calls this before
    /// the registry starts any).
    pub fn run_engines(&self) {
        self.run_engines.store(true, Ordering::Relaxed);
    }

    /// The served child panel `id`, if this instance serves it now.
    pub fn child(&self, id: i64) -> Option<Arc<Panel>> {
        self.children
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .cloned()
    }

    /// Wakes the registry loop now (after a rental or an admin action on this instance).
    pub fn poke(&self) {
        self.wake.notify_one();
    }

    /// The routes of the whole deployment: `/_tls/allowed` on any host, then the panel the
    /// `Host` names.
    pub fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .route("/_tls/allowed", get(tls_allowed))
            .fallback(dispatch)
            .with_state(self.clone())
    }

    fn route(&self, host: Option<&str>) -> Route {
        let Some(name) = host else {
            return if self.root_hosts.is_empty() {
                Route::Root
            } else {
                Route::Unknown
            };
        };
        if let Some(child) = self
            .hosts
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
        {
            return Route::Child(child.clone());
        }
        let loopback = name == "localhost"
            || name
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok();
        if loopback || self.root_hosts.is_empty() || self.root_hosts.iter().any(|h| h == name) {
            Route::Root
        } else {
            Route::Unknown
        }
    }
}

enum Route {
    Root,
    Child(ChildRoute),
    Unknown,
}

/// The name a request is for: its `Host` header, lower case without the port.
fn host_of(req: &Request) -> Option<String> {
    req.headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| req.uri().host())
        .and_then(Hostname::of_host_header)
}

async fn dispatch(State(d): State<Arc<Deployment>>, req: Request) -> Response {
    let host = host_of(&req);
    let path = req.uri().path().to_string();
    match d.route(host.as_deref()) {
        Route::Root => d.root.call(req).await,
        Route::Unknown => notice(Notice::Unknown, "", &path, req.headers()),
        Route::Child(c) => {
            let kind = match c.state {
                PanelState::Active => None,
                PanelState::Suspended { .. } => {
                    (!SUSPENDED_OPEN.iter().any(|p| path.starts_with(p)))
                        .then_some(Notice::Unavailable)
                }
                PanelState::Provisioning { .. } => Some(Notice::Setup),
                PanelState::Terminated { .. } => {
                    (!TERMINATED_OPEN.iter().any(|p| path.starts_with(p))).then_some(Notice::Ended)
                }
                PanelState::Removed => Some(Notice::Closed),
            };
            if let Some(kind) = kind {
                return notice(kind, &c.name, &path, req.headers());
            }
            match d.child(c.id) {
                Some(panel) => panel.call(req).await,
                // Listed but not opened yet on this instance (its storage is being opened).
                None => notice(Notice::Unavailable, &c.name, &path, req.headers()),
            }
        }
    }
}

#[derive(serde::Deserialize)]
struct TlsQuery {
    domain: Option<String>,
}

/// `GET /_tls/allowed?domain=…`, the on-demand-TLS proxy's question: 200 for a hostname of
/// a panel this deployment serves (the root's configured names, and children being set up,
/// active or suspended), 404 for anything else.
async fn tls_allowed(State(d): State<Arc<Deployment>>, Query(q): Query<TlsQuery>) -> Response {
    let name = q
        .domain
        .as_deref()
        .and_then(|n| Hostname::parse(n).ok())
        .map(|h| h.as_str().to_string());
    let allowed = name.is_some_and(|n| {
        d.root_hosts.contains(&n)
            || d.hosts
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .get(&n)
                .is_some_and(|c| {
                    matches!(
                        c.state,
                        PanelState::Active
                            | PanelState::Suspended { .. }
                            | PanelState::Provisioning { .. }
                    )
                })
    });
    if allowed {
        (StatusCode::OK, "allowed").into_response()
    } else {
        (StatusCode::NOT_FOUND, "not a panel of this deployment").into_response()
    }
}

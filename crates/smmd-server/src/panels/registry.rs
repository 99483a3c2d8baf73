//! Keeping an instance's children in step with the registry (the `panels` table in the root's
//! store): every `panels.refresh_ms`, and at once when poked, it reads the registry, opens and
//! starts the children that serve (active or suspended), stops those that ended, rebuilds
//! the hostname table, and provisions the children still being set up (one instance at a time
//! per child, under the registry's lease). It is also the [`PanelHost`] the provisioning use
//! case runs on: a child's storage, config and secrets are derived here from the root's.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use smmd_app::panels::PanelHost;
use smmd_domain::panel::PanelState;
use smmd_fulfil::{Clients, Fulfil};
use smmd_store::{PanelRecord, Store};
use smmd_store_sql::{ConnectOptions, SqlStore};

use super::{ChildRoute, Deployment, Panel};
use crate::config::{Config, PanelsConfig};
use crate::state::AppState;

/// Runs until `stop` completes: a pass now, then one every `panels.refresh_ms` or when poked.
pub async fn run(d: Arc<Deployment>, stop: impl std::future::Future<Output = ()>) {
    tokio::pin!(stop);
    let every = Duration::from_millis(d.root.state.config.panels.refresh_ms);
    loop {
        if let Err(e) = refresh(&d).await {
            tracing::warn!(error = %e, "reading the panel registry failed");
        }
        tokio::select! {
            () = &mut stop => break,
            () = tokio::time::sleep(every) => {}
            () = d.wake.notified() => {}
        }
    }
    let children: Vec<Arc<Panel>> = d
        .children
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .drain()
        .map(|(_, p)| p)
        .collect();
    for c in children {
        c.stop();
    }
}

/// One pass over the registry.
pub async fn refresh(d: &Arc<Deployment>) -> anyhow::Result<()> {
    let panels = d.root.state.store.panels().await?;
    let mut hosts = std::collections::HashMap::new();
    let mut renters: std::collections::HashMap<_, Vec<i64>> = std::collections::HashMap::new();
    for p in &panels {
        let mut state = p.state();
        match state {
            PanelState::Provisioning { .. } => spawn_provisioning(d, p.id),
            PanelState::Active | PanelState::Suspended { .. } => {
                if d.child(p.id).is_some_and(|c| c.engine.is_none()) {
                    stop_child(d, p.id).await;
                }
                if d.child(p.id).is_none() {
                    if let Err(e) = start_child(d, p, true).await {
                        tracing::warn!(panel = p.id, error = %e, "child panel not started");
                    }
                }
                if let Some(h) = d.child(p.id).and_then(|c| c.state.hosting.clone()) {
                    h.set_suspended(matches!(state, PanelState::Suspended { .. }));
                }
            }
            PanelState::Terminated { remove_at } if d.root.state.clock.now_ms() >= remove_at => {
                match remove_child(d, p).await {
                    Ok(true) => state = PanelState::Removed,
                    Ok(false) => {}
                    Err(e) => {
                        tracing::warn!(panel = p.id, error = %e, "child panel not removed yet")
                    }
                }
            }
            PanelState::Terminated { .. } => {
                // No engine any more; only its admin's log-in and archive are served.
                if d.child(p.id).is_some_and(|c| c.engine.is_some()) {
                    stop_child(d, p.id).await;
                }
                if d.child(p.id).is_none() {
                    if let Err(e) = start_child(d, p, false).await {
                        tracing::warn!(panel = p.id, error = %e, "ended child panel not opened");
                    }
                }
            }
            PanelState::Removed => stop_child(d, p.id).await,
        }
        if state == PanelState::Removed {
            continue;
        }
        if matches!(state, PanelState::Active | PanelState::Suspended { .. }) {
            renters.entry(p.owner_id).or_default().push(p.id);
        }
        for h in &p.hostnames {
            hosts.insert(
                h.clone(),
                ChildRoute {
                    id: p.id,
                    state,
                    name: p.name.clone(),
                },
            );
        }
    }
    *d.hosts.write().unwrap_or_else(|e| e.into_inner()) = hosts;
    *d.renters.write().unwrap_or_else(|e| e.into_inner()) = renters;
    Ok(())
}

/// Provisions child `id` in the background unless this instance already is.
fn spawn_provisioning(d: &Arc<Deployment>, id: i64) {
    {
        let mut running = d.provisioning.lock().unwrap_or_else(|e| e.into_inner());
        if !running.insert(id) {
            return;
        }
    }
    let d = d.clone();
    tokio::spawn(async move {
        let slot = d.provision_slots.clone().acquire_owned().await;
        let holder = d.instance.clone();
        let done = smmd_app::panels::provision(d.root.state.app(), d.as_ref(), id, &holder).await;
        drop(slot);
        d.provisioning
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
        match done {
            Ok(p) if p.state() == PanelState::Active => {
                tracing::info!(panel = id, "child panel provisioned");
                d.poke();
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(panel = id, error = %e, "provisioning failed"),
        }
    });
}

/// Stops child `id` if this instance serves it, and closes its storage.
async fn stop_child(d: &Deployment, id: i64) {
    let gone = d
        .children
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&id);
    if let Some(panel) = gone {
        panel.stop();
        tracing::info!(panel = id, "child panel stopped");
    }
    d.stores.lock().await.remove(&id);
}

/// Removes a terminated child past its retention, once across instances (under the
/// provisioning lease): stops it, deletes its storage (its SQLite folder, or its PostgreSQL
/// schema), marks it removed and frees its hostnames. False: another instance is on it.
async fn remove_child(d: &Arc<Deployment>, p: &PanelRecord) -> anyhow::Result<bool> {
    stop_child(d, p.id).await;
    let store = &d.root.state.store;
    let now = d.root.state.clock.now_ms();
    if !store
        .claim_panel(p.id, &d.instance, now, smmd_app::panels::PROVISION_LEASE_MS)
        .await?
    {
        return Ok(false);
    }
    let root_url = d.root.state.config.database_url();
    let (url, schema) = storage_location(&root_url, &p.storage)?;
    match schema {
        Some(schema) => smmd_store_sql::drop_schema(&url, &schema).await?,
        None => {
            let file = crate::startup::sqlite_file(&url).context("a child's SQLite file")?;
            if let Some(dir) = file.parent().filter(|d| d.ends_with(p.id.to_string())) {
                match std::fs::remove_dir_all(dir) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e).with_context(|| format!("removing {}", dir.display())),
                }
            }
        }
    }
    store.remove_panel(p.id, now, None).await?;
    store.release_panel(p.id, &d.instance).await?;
    tracing::info!(
        panel = p.id,
        "terminated child panel removed after its retention"
    );
    Ok(true)
}

/// Opens child `p`'s storage, builds its panel and starts it (its engine too, with `engine`).
async fn start_child(d: &Arc<Deployment>, p: &PanelRecord, engine: bool) -> anyhow::Result<()> {
    let store = open_storage(d, p).await?;
    let config = child_config(&d.root.state.config, p)?;
    let mut state = AppState::new(store.clone(), d.root.state.clock.clone(), config);
    state.hosting = Some(Arc::new(crate::state::Hosting::new(renew_url(
        &d.root.state.config,
    ))));
    let mut fulfil = crate::startup::fulfil(&state.config, store, state.clock.clone())?;
    fulfil.clients = fulfil.clients.with_parent(&root_url(d));
    state.fulfil = Some(fulfil);
    // Serving (`run_with_scheduler`), engines of PostgreSQL children run on the database
    // clock, shared by every instance; a SQLite child has one instance, whose clock is its
    // database's (a query less per pass). Tests tick them on the injected clock.
    let running = d.run_engines.load(Ordering::Relaxed);
    let time = match running && p.storage.starts_with("schema:") {
        true => smmd_jobs::TimeSource::Database,
        false => smmd_jobs::TimeSource::Injected,
    };
    let mut panel = Panel::new(state, engine.then_some(time))?;
    panel.id = p.id;
    panel.start(running && engine);
    d.children
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .insert(p.id, Arc::new(panel));
    tracing::info!(panel = p.id, hosts = ?p.hostnames, "child panel serving");
    Ok(())
}

/// The root's billing page, where a renter renews: on the root's public address, else its
/// first hostname, else a path (the child's admin then knows where to look).
fn renew_url(root: &Config) -> String {
    match root.public_url() {
        Some(u) => format!("{}/billing", u.trim_end_matches('/')),
        None => match root.panels.root_hostnames().first() {
            Some(h) => format!("https://{h}/billing"),
            None => root
                .base_url()
                .map(|u| format!("{u}/billing"))
                .unwrap_or_else(|| "/billing".into()),
        },
    }
}

fn root_url(d: &Deployment) -> String {
    d.root_api_url
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
}

/// The database URL and schema of a child's `storage` (`sqlite:panels/7/smmd.db`, relative to
/// the root's SQLite file's folder; `schema:panel_7` in the root's PostgreSQL database).
pub fn storage_location(root_url: &str, storage: &str) -> anyhow::Result<(String, Option<String>)> {
    if let Some(rel) = storage.strip_prefix("sqlite:") {
        anyhow::ensure!(
            !rel.contains("..") && !rel.starts_with('/'),
            "a child's SQLite path stays under the data directory: {rel}"
        );
        let root = crate::startup::sqlite_file(root_url)
            .context("a SQLite child needs the root on a SQLite file")?;
        let dir = root
            .parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default();
        return Ok((format!("sqlite://{}", dir.join(rel).display()), None));
    }
    if let Some(schema) = storage.strip_prefix("schema:") {
        return Ok((root_url.to_string(), Some(schema.to_string())));
    }
    anyhow::bail!("unknown child storage `{storage}`")
}

/// Opens (creating and migrating) child `p`'s store, or the one already open.
async fn open_storage(d: &Deployment, p: &PanelRecord) -> anyhow::Result<Arc<dyn Store>> {
    let mut stores = d.stores.lock().await;
    if let Some(s) = stores.get(&p.id) {
        return Ok(s.clone());
    }
    let config = &d.root.state.config;
    let (url, schema) = storage_location(&config.database_url(), &p.storage)?;
    let idle = Duration::from_secs(config.panels.idle_seconds);
    let shared = match &schema {
        Some(_) => Some(match d.shared_pool.get() {
            Some(pool) => pool.clone(),
            None => {
                let pool =
                    smmd_store_sql::SharedPool::connect(&url, config.panels.pool_size, idle)?;
                d.shared_pool.get_or_init(|| pool).clone()
            }
        }),
        None => None,
    };
    let store = SqlStore::connect(
        &url,
        ConnectOptions {
            max_connections: Some(2),
            migrate: true,
            schema,
            idle_timeout: Some(idle),
            single: shared.is_none(),
            shared,
        },
    )
    .await
    .with_context(|| format!("opening the storage of child panel {}", p.id))?;
    let store: Arc<dyn Store> = Arc::new(store);
    stores.insert(p.id, store.clone());
    Ok(store)
}

/// A child's secret key (hex): derived from the root's and the child's id, so every instance
/// derives the same one and nothing more is stored.
fn child_secret(root_secret_hex: &str, id: i64) -> String {
    smmd_app::secrets::token_hash(&format!("smmd child panel {id}:{root_secret_hex}"))
}

/// The longest a child's engine sleeps between looks at its schedules (ms). It wakes at each
/// due tick anyway, and at once on this instance when an order is placed (run on demand),
/// "run now" is clicked or a schedule is edited or paused ([`smmd_jobs::Wake`]); the poll only
/// bounds how late it sees an edit made on another instance (PostgreSQL), and how often a
/// lean engine re-measures the database clock. Every look is four statements, and hundreds of
/// children looking every few seconds were most of their idle cost on PostgreSQL.
pub const CHILD_POLL_MS: u64 = 60_000;

/// How often a child's live feed looks for rows without being woken (ms). Every commit on this
/// instance wakes it, and on PostgreSQL so does every other instance's (`NOTIFY`); the poll
/// only covers a lost signal. Each look reads four tables, so hundreds of children polling
/// every few seconds cost the root.
pub const CHILD_FEED_POLL_MS: u64 = 30_000;

/// A child's configuration: the root's, with the child's brand, currency, markup, storage,
/// secret and address; children host no children.
pub fn child_config(root: &Config, p: &PanelRecord) -> anyhow::Result<Config> {
    let mut c = root.clone();
    let secret = root
        .security
        .secret_key
        .as_deref()
        .context("child panels need the root's security.secret_key")?;
    c.panel.name = p.name.clone();
    c.panel.currency = p.currency.clone();
    c.fulfil.default_markup_bp = p.markup_bp;
    let (url, _) = storage_location(&root.database_url(), &p.storage)?;
    c.database.url = Some(url);
    c.security.secret_key = Some(child_secret(secret, p.id));
    c.panels = PanelsConfig::default();
    // An idle child's engine looks at its schedules every CHILD_POLL_MS at most (it wakes at
    // each due tick anyway): hundreds of children polling every second cost the root.
    c.scheduler.poll_ms = root.scheduler.poll_ms.max(CHILD_POLL_MS);
    // Orders are dispatched the moment they are placed, and notices sent when a run changed
    // orders; those two schedules are minute sweeps in a child (see provisioning's Start).
    c.scheduler.run_on_demand = true;
    // The child's address: its first hostname, on the root's scheme (and port, when the root
    // has no public address and is reached on its listening port).
    if let Some(host) = p.hostnames.first() {
        c.server.public_url = match root.public_url() {
            Some(u) if u.starts_with("https://") => format!("https://{host}"),
            Some(_) => format!("http://{host}"),
            None => {
                let port = root
                    .server
                    .listen
                    .parse::<std::net::SocketAddr>()
                    .ok()
                    .map(|a| a.port())
                    .filter(|p| *p != 0 && *p != 80);
                match port {
                    Some(port) => format!("http://{host}:{port}"),
                    None => format!("http://{host}"),
                }
            }
        };
    }
    Ok(c)
}

#[async_trait::async_trait]
impl PanelHost for Deployment {
    async fn storage(&self, panel: &PanelRecord) -> anyhow::Result<Arc<dyn Store>> {
        open_storage(self, panel).await
    }

    fn child_fulfil(&self, panel: &PanelRecord, store: Arc<dyn Store>) -> anyhow::Result<Fulfil> {
        let config = child_config(&self.root.state.config, panel)?;
        let mut fulfil = crate::startup::fulfil(&config, store, self.root.state.clock.clone())?;
        fulfil.clients = fulfil.clients.with_parent(&root_url(self));
        Ok(fulfil)
    }

    fn root_api_url(&self) -> String {
        root_url(self)
    }

    fn root_clients(&self) -> Option<&Clients> {
        self.root.state.fulfil.as_ref().map(|f| &f.clients)
    }

    fn root_currency(&self) -> &str {
        &self.root.state.config.panel.currency
    }

    fn timezone(&self) -> &str {
        &self.root.state.config.panel.timezone
    }

    async fn after_step(&self, panel: i64, step: smmd_domain::panel::ProvisionStep) {
        if self.root.state.config.panels.drill_pause_after == step.as_str() {
            tracing::warn!(
                panel,
                step = step.as_str(),
                "provisioning drill: step done, pausing before recording it"
            );
            tokio::time::sleep(Duration::from_secs(600)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn child_storage_stays_under_the_roots_folder_or_schema() {
        let (url, schema) =
            storage_location("sqlite://data/smmd.db?mode=rwc", "sqlite:panels/7/smmd.db")
                .expect("sqlite");
        assert_eq!(
            (url.as_str(), schema),
            ("sqlite://data/panels/7/smmd.db", None)
        );
        let (url, schema) =
            storage_location("postgres://h/test", "schema:panel_7").expect("schema");
        assert_eq!(
            (url.as_str(), schema.as_deref()),
            ("postgres://h/test", Some("panel_7"))
        );
        assert!(storage_location("sqlite://data/smmd.db", "sqlite:../x.db").is_err());
        assert!(storage_location("postgres://h/test", "sqlite:panels/1/smmd.db").is_err());
        assert!(storage_location("sqlite://d/smmd.db", "ftp:x").is_err());
        assert_ne!(child_secret("00", 1), child_secret("00", 2));
        assert_ne!(child_secret("00", 1), child_secret("01", 1));
        assert_eq!(child_secret("00", 1).len(), 64);
    }
}

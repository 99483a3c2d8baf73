//! Hosted child panels (`docs/child-panels.md`): a root user renting one, the root admin's
//! actions on it (through its rental: suspend, resume, terminate), and provisioning it step by
//! step ([`provision`]). These use cases run on the **root** panel's [`App`]; what only the
//! hosting process can do (open a child's storage, know the root's own address and secret) is
//! behind [`PanelHost`], implemented by the server. Inside a child nothing differs from a
//! standalone panel: its admin, provider and catalogue are made with the ordinary use cases.

use std::sync::Arc;

use smmd_domain::panel::{Hostname, PanelPhase, ProvisionStep, MAX_HOSTNAMES};
use smmd_domain::{Money, UserId};
use smmd_fulfil::{Clients, Fulfil};
use smmd_store::{
    NewPanel, NewUser, PanelRecord, RentPanelError, RentalAction, Role, Store, StoreError,
};

use crate::audit::Actor;
use crate::error::{ErrorCode, UseCaseError};
use crate::{accounts, providers, secrets, App};

/// The name of a child's one provider, the parent panel.
pub const PARENT_PROVIDER: &str = "Parent panel";
/// How long one instance may hold a panel's provisioning before another takes over (ms).
pub const PROVISION_LEASE_MS: i64 = 120_000;
/// Most characters in a child panel's brand name.
pub const MAX_NAME_CHARS: usize = 80;

/// What a renter gives for a child panel.
#[derive(Clone, Debug, Default)]
pub struct RentInput {
    /// A plan whose entitlement is `child_panel`.
    pub plan_id: i64,
    /// Hostnames separated by commas, spaces or new lines (1 to [`MAX_HOSTNAMES`]); the first
    /// is the panel's main address.
    pub hostnames: String,
    /// Brand name, 1 to [`MAX_NAME_CHARS`] characters.
    pub name: String,
    /// The child's money currency (ISO 4217); empty: the root's. Another currency needs an
    /// exchange rate on the root (the display currencies' ECB feed or a pinned rate).
    pub currency: String,
    /// The child admin's e-mail and password (8 to 1024 characters).
    pub admin_email: String,
    pub admin_password: String,
    /// The renter's default markup on the parent's prices, basis points (0 to 100 000);
    /// `None`: +50 %.
    pub markup_bp: Option<i64>,
}

fn invalid(message: impl Into<String>) -> UseCaseError {
    UseCaseError::refused(ErrorCode::InvalidPanel, message)
}

/// What the host of the panels does for provisioning: storage, addresses and secrets.
#[async_trait::async_trait]
pub trait PanelHost: Send + Sync {
    /// Creates the panel's storage when missing, migrates it and opens it (the host keeps it
    /// open for serving). Idempotent.
    async fn storage(&self, panel: &PanelRecord) -> anyhow::Result<Arc<dyn Store>>;
    /// The child's fulfilment context over `store`: its own secret and the renter's markup.
    fn child_fulfil(&self, panel: &PanelRecord, store: Arc<dyn Store>) -> anyhow::Result<Fulfil>;
    /// The root's `/api/v2` as this instance reaches it (its loopback address); a child's
    /// provider is stored as [`smmd_fulfil::clients::PARENT_URL`] and resolved to this.
    fn root_api_url(&self) -> String;
    /// The root's provider clients (their secret seals the dedicated key); `None` without
    /// the root's secret key.
    fn root_clients(&self) -> Option<&Clients>;
    /// The root's currency (the child's provider's currency).
    fn root_currency(&self) -> &str;
    /// The time zone of the child's default schedules.
    fn timezone(&self) -> &str;
    /// Called after `step`'s work, before it is recorded done. A host may stop here for a
    /// crash drill (`[panels] drill_pause_after`); normally it returns at once.
    async fn after_step(&self, _panel: i64, _step: ProvisionStep) {}
}

/// The root's terms for a new child: its currency, and the hostnames the root itself answers
/// on (no child may take them).
#[derive(Clone, Debug)]
pub struct RentTerms<'a> {
    pub root_currency: &'a str,
    pub reserved: &'a [String],
}

/// Parses the hostnames a renter typed: normalised, no repeats, 1 to [`MAX_HOSTNAMES`], none
/// of `reserved`. Errors: `invalid_panel` naming the first bad one.
pub fn parse_hostnames(text: &str, reserved: &[String]) -> Result<Vec<String>, UseCaseError> {
    let mut out: Vec<String> = Vec::new();
    for part in text
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|p| !p.is_empty())
    {
        let name = Hostname::parse(part).map_err(|e| invalid(format!("{part}: {e}")))?;
        let name = name.as_str().to_string();
        if reserved.contains(&name) {
            return Err(UseCaseError::refused(
                ErrorCode::HostnameTaken,
                format!("The hostname {name} is already taken"),
            ));
        }
        if !out.contains(&name) {
            out.push(name);
        }
    }
    if out.is_empty() || out.len() > MAX_HOSTNAMES {
        return Err(invalid(format!(
            "A child panel has 1 to {MAX_HOSTNAMES} hostnames"
        )));
    }
    Ok(out)
}

/// The exchange rate of a child in `child` currency buying from a root in `root` currency:
/// child units per one root unit, a decimal with 6 places, from the root's display-currency
/// rates; `"1"` for the same currency. `None` when the root has no rate for one of them.
pub async fn exchange_rate(
    app: App<'_>,
    root: &str,
    child: &str,
) -> Result<Option<String>, UseCaseError> {
    if root == child {
        return Ok(Some("1".into()));
    }
    let converter = crate::currencies::converter(app, root).await?;
    Ok(converter
        .convert(Money::from_micros(1_000_000), child)
        .filter(|m| m.is_positive())
        .map(|m| m.to_string()))
}

/// Rents a child panel for `user`: validates the input, hashes the admin password, then rents
/// the plan and registers the panel in one transaction (provisioning starts at its first
/// step; [`provision`] carries it on).
///
/// Errors: `invalid_panel` (hostnames, name, currency without a rate, e-mail, password,
/// markup), `hostname_taken`, the rental's (`billing_disabled`, `not_found`,
/// `plan_inactive`, `insufficient_funds`, …); nothing written.
pub async fn rent(
    app: App<'_>,
    terms: RentTerms<'_>,
    user: UserId,
    input: &RentInput,
) -> Result<PanelRecord, UseCaseError> {
    let hostnames = parse_hostnames(&input.hostnames, terms.reserved)?;
    let name = input.name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(invalid(format!(
            "The brand name is 1 to {MAX_NAME_CHARS} characters"
        )));
    }
    let root_currency = terms.root_currency;
    let currency = match input.currency.trim() {
        "" => root_currency.to_string(),
        c => c.to_ascii_uppercase(),
    };
    if !smmd_domain::fx::valid_code(&currency) {
        return Err(invalid("The currency is a three-letter ISO code (USD)"));
    }
    if exchange_rate(app, root_currency, &currency)
        .await?
        .is_none()
    {
        return Err(invalid(format!(
            "There is no exchange rate between {root_currency} and {currency} yet"
        )));
    }
    let email = input.admin_email.trim().to_ascii_lowercase();
    if !accounts::valid_email(&email) {
        return Err(invalid("The admin e-mail address is not valid"));
    }
    accounts::check_password_strength(&input.admin_password)?;
    let markup_bp = input.markup_bp.unwrap_or(5_000);
    smmd_domain::catalog::check_markup(Some(markup_bp))
        .map_err(|_| invalid("The markup is 0 to 100000 basis points"))?;
    let hash = secrets::hash_password(&input.admin_password)?;
    let new = NewPanel {
        owner: user,
        plan_id: input.plan_id,
        hostnames,
        name: name.to_string(),
        currency,
        markup_bp,
        admin_email: email,
        admin_password_hash: hash,
    };
    app.store
        .rent_panel(&new, app.now())
        .await
        .map_err(|e| match e {
            RentPanelError::HostnameTaken(h) => UseCaseError::refused(
                ErrorCode::HostnameTaken,
                format!("The hostname {h} is already taken"),
            ),
            RentPanelError::NotChildPanelPlan => invalid("This plan is not a child panel plan"),
            RentPanelError::Billing(e) => e.into(),
        })
}

/// What the root admin does to a child panel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PanelAction {
    /// Customers see "temporarily unavailable"; the root refuses the child's orders.
    Suspend,
    /// Lifts an admin suspension.
    Resume,
    /// Ends it: the child stops serving; its data is kept `retain_days`.
    Terminate,
}

/// The root admin's action on child panel `id`, through its rental (audited as the rental's
/// `rental.suspend` / `rental.unsuspend` / `rental.terminate`).
///
/// Errors: `not_found`, `reason_required`, `invalid_rental_action`.
pub async fn admin_action(
    app: App<'_>,
    actor: &Actor,
    id: i64,
    action: PanelAction,
    reason: &str,
) -> Result<PanelRecord, UseCaseError> {
    let panel = app.store.panel(id).await?.ok_or(StoreError::NotFound)?;
    let action = match action {
        PanelAction::Suspend => RentalAction::Suspend,
        PanelAction::Resume => RentalAction::Unsuspend,
        PanelAction::Terminate => RentalAction::Terminate,
    };
    crate::billing::admin_action(app, actor, panel.rental_id, action, reason).await?;
    Ok(app.store.panel(id).await?.ok_or(StoreError::NotFound)?)
}

/// Runs the remaining provisioning steps of panel `id` under this instance's lease
/// (`holder`), recording each step's progress, and returns the panel as it ends: ready, or
/// still provisioning with `error` set when a step failed (the next call resumes at that
/// step). Another instance holding the lease: returns the panel untouched.
///
/// Errors: the registry's store errors only; a step's failure is recorded, not returned.
pub async fn provision(
    app: App<'_>,
    host: &dyn PanelHost,
    id: i64,
    holder: &str,
) -> Result<PanelRecord, UseCaseError> {
    if !app
        .store
        .claim_panel(id, holder, app.now(), PROVISION_LEASE_MS)
        .await?
    {
        return Ok(app.store.panel(id).await?.ok_or(StoreError::NotFound)?);
    }
    let result = provision_held(app, host, id).await;
    app.store.release_panel(id, holder).await?;
    result
}

async fn provision_held(
    app: App<'_>,
    host: &dyn PanelHost,
    id: i64,
) -> Result<PanelRecord, UseCaseError> {
    loop {
        let panel = app.store.panel(id).await?.ok_or(StoreError::NotFound)?;
        if panel.phase != PanelPhase::Provisioning || panel.rental_state.is_final() {
            return Ok(panel);
        }
        let step = panel.step;
        match run_step(app, host, &panel, step).await {
            Ok(()) => {
                host.after_step(id, step).await;
                app.store
                    .advance_panel(id, step, step.next(), app.now())
                    .await?;
                tracing::info!(panel = id, step = step.as_str(), "provisioning step done");
            }
            Err(e) => {
                let message = format!("{}: {e}", step.as_str());
                tracing::warn!(panel = id, error = %message, "provisioning step failed");
                app.store
                    .set_panel_error(id, Some(&message), app.now())
                    .await?;
                return Ok(app.store.panel(id).await?.ok_or(StoreError::NotFound)?);
            }
        }
    }
}

fn root_clients(host: &dyn PanelHost) -> anyhow::Result<&Clients> {
    host.root_clients()
        .ok_or_else(|| anyhow::anyhow!("the root panel has no secret key (security.secret_key)"))
}

/// One step; each finds what an interrupted run of it already made.
async fn run_step(
    app: App<'_>,
    host: &dyn PanelHost,
    panel: &PanelRecord,
    step: ProvisionStep,
) -> anyhow::Result<()> {
    let now = app.now();
    match step {
        ProvisionStep::Storage => {
            host.storage(panel).await?;
        }
        ProvisionStep::Admin => {
            let store = host.storage(panel).await?;
            if store.user_credentials(&panel.admin_email).await?.is_none() {
                let created = store
                    .create_user(NewUser {
                        email: panel.admin_email.clone(),
                        password_hash: panel.admin_password_hash.clone(),
                        role: Role::Admin,
                        api_key_hash: Some(secrets::token_hash(&secrets::new_api_key())),
                        now,
                        audit: None,
                        referral: None,
                    })
                    .await;
                match created {
                    Ok(_) | Err(StoreError::Conflict("users.email")) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        ProvisionStep::ApiKey => {
            if panel.api_key_hash.is_none() {
                let key = secrets::new_api_key();
                let sealed = root_clients(host)?.seal_key(&key);
                app.store
                    .set_panel_key(panel.id, &secrets::token_hash(&key), &sealed, now)
                    .await?;
            }
        }
        ProvisionStep::Provider => {
            let store = host.storage(panel).await?;
            let url = smmd_fulfil::clients::PARENT_URL;
            if store.providers().await?.iter().any(|p| p.url == url) {
                return Ok(());
            }
            let sealed = panel
                .api_key_enc
                .as_deref()
                .ok_or_else(|| anyhow::anyhow!("the dedicated key is missing"))?;
            let key = root_clients(host)?.open_key(sealed)?;
            let rate = exchange_rate(app, host.root_currency(), &panel.currency)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "no exchange rate between {} and {}",
                        host.root_currency(),
                        panel.currency
                    )
                })?;
            // The key works at the root before it is stored (as an admin's check would do).
            let mut check = smmd_provider::ProviderConfig::new(host.root_api_url(), key.clone());
            check.timeout = std::time::Duration::from_secs(30);
            smmd_provider::ProviderClient::new(check)?
                .balance()
                .await
                .map_err(|e| anyhow::anyhow!("the root refused the dedicated key: {e}"))?;
            let fulfil = host.child_fulfil(panel, store.clone())?;
            let child = App::new(store.as_ref(), app.clock);
            providers::add_provider(
                child,
                &fulfil.clients,
                None,
                providers::ProviderInput {
                    name: PARENT_PROVIDER.into(),
                    url: url.to_string(),
                    key,
                    currency: host.root_currency().to_string(),
                    exchange_rate: rate,
                    alert_below: None,
                    timeout_ms: 30_000,
                    max_concurrency: 8,
                    rate_per_sec: None,
                    limits: Default::default(),
                    check_key: false,
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        ProvisionStep::Catalog => {
            let store = host.storage(panel).await?;
            let url = smmd_fulfil::clients::PARENT_URL;
            let provider = store
                .providers()
                .await?
                .into_iter()
                .find(|p| p.url == url)
                .ok_or_else(|| anyhow::anyhow!("the parent provider is missing"))?;
            let fulfil = host.child_fulfil(panel, store)?;
            smmd_fulfil::catalog::sync_provider(&fulfil, &provider, true)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        ProvisionStep::Start => {
            let store = host.storage(panel).await?;
            smmd_jobs::control::ensure_defaults(
                store.as_ref(),
                smmd_jobs::control::DEFAULT_JOBS,
                host.timezone(),
                now,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            // A child runs its jobs at the pace the root runs them (an owner who syncs every
            // 10 s expects the children to as well), except the ones it runs on demand
            // (dispatch when an order is placed, notices when orders changed), whose schedules
            // are minute sweeps; its fixed intervals take a phase of its own, so hundreds of
            // children do not all wake on the same second.
            let child = store.schedules().await?;
            for root in app.store.schedules().await? {
                let pace = match smmd_jobs::jobs::ON_DEMAND.contains(&root.name.as_str()) {
                    true => smmd_jobs::jobs::ON_DEMAND_SWEEP,
                    false => root.expr.as_str(),
                };
                let expr = smmd_jobs::calendar::with_phase(pace, panel.id);
                let differs = child
                    .iter()
                    .any(|c| c.name == root.name && (c.expr != expr || c.zone != root.zone));
                if differs {
                    smmd_jobs::control::edit(
                        store.as_ref(),
                        &root.name,
                        smmd_jobs::control::JobEdit {
                            expr: Some(expr),
                            zone: Some(root.zone.clone()),
                            ..Default::default()
                        },
                        "provisioning",
                        now,
                    )
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                }
            }
        }
    }
    Ok(())
}

/// Most rows of each kind one archive holds.
pub const ARCHIVE_MAX_ROWS: usize = 100_000;

/// Everything a child panel's admin takes away when it ends (`GET /admin/archive` on the
/// child): the accounts (no password hashes or keys), every order and every ledger row, at
/// most [`ARCHIVE_MAX_ROWS`] of each, newest first. Runs on the child's own [`App`].
#[derive(Debug, serde::Serialize)]
pub struct Archive {
    /// When it was made (epoch ms).
    pub made_at: i64,
    pub users: Vec<smmd_store::User>,
    pub orders: Vec<smmd_store::Order>,
    pub ledger: Vec<smmd_store::LedgerEntry>,
    pub services: Vec<smmd_store::Service>,
}

/// Reads the [`Archive`] of the panel `app` runs on. Errors: the store's.
pub async fn archive(app: App<'_>) -> Result<Archive, UseCaseError> {
    const BATCH: i64 = 1_000;
    let mut users = Vec::new();
    loop {
        let page = app
            .store
            .list_users(users.last().map(|u: &smmd_store::User| u.id), BATCH)
            .await?;
        let done = page.len() < BATCH as usize;
        users.extend(page);
        if done || users.len() >= ARCHIVE_MAX_ROWS {
            break;
        }
    }
    let mut orders: Vec<smmd_store::Order> = Vec::new();
    loop {
        let page = app
            .store
            .search_orders(&smmd_store::OrderQuery {
                before: orders.last().map(|o| o.id),
                limit: BATCH,
                ..Default::default()
            })
            .await?;
        let done = page.len() < BATCH as usize;
        orders.extend(page);
        if done || orders.len() >= ARCHIVE_MAX_ROWS {
            break;
        }
    }
    let mut ledger: Vec<smmd_store::LedgerEntry> = Vec::new();
    for u in &users {
        let mut before = None;
        loop {
            let page = app.store.ledger(u.id, before, BATCH).await?;
            let done = page.len() < BATCH as usize;
            before = page.last().map(|e| e.id);
            ledger.extend(page);
            if done || ledger.len() >= ARCHIVE_MAX_ROWS {
                break;
            }
        }
    }
    let services = app.store.list_services(false).await?;
    Ok(Archive {
        made_at: app.now(),
        users,
        orders,
        ledger,
        services,
    })
}

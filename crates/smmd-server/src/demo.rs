//! `smmd demo`: a panel someone can try at once. An in-process `smmd-sim` runs accelerated as
//! the upstream provider ([`sandbox`]); its catalog is imported by the real `services.sync`, so
//! the orders a person or a reseller places are dispatched, delivered and synced by the real jobs
//! to Completed, Partial or Canceled within about a minute. Seeding is idempotent: on every start
//! the two accounts get their known passwords back and fresh API keys (keys are stored hashed, so
//! new ones are the only way to print them), the sandbox provider is pointed at the new
//! simulator, and the top-up is added only once.

use std::sync::Arc;

use serde::Serialize;
use smmd_app::{accounts, Actor, App, ErrorCode, UseCaseError};
use smmd_domain::Clock;
use smmd_fulfil::Fulfil;
use smmd_sim::{SimConfig, SimHandle};
use smmd_store::{Role, Store, User};

pub const ADMIN_EMAIL: &str = "admin@demo.smmd";
pub const ADMIN_PASSWORD: &str = "demo-admin-pass";
pub const USER_EMAIL: &str = "user@demo.smmd";
pub const USER_PASSWORD: &str = "demo-user-pass";
/// The demo user's starting balance, panel currency.
pub const USER_BALANCE: &str = "100.00";
/// The sandbox provider's name in the demo panel.
pub const SANDBOX: &str = "Sandbox (smmd-sim)";
/// How much faster than real time the demo's simulator delivers.
pub const SANDBOX_SPEEDUP: u32 = 30;

/// Starts the demo's simulator on a free loopback port: the default catalog, accelerated
/// [`SANDBOX_SPEEDUP`] times, seeded from the clock so each demo run differs a little.
pub async fn sandbox(clock: Arc<dyn Clock>, seed: Option<u64>) -> anyhow::Result<SimHandle> {
    let config = SimConfig {
        speedup: SANDBOX_SPEEDUP,
        seed: seed.unwrap_or(clock.now_ms() as u64),
        latency_min_ms: 20,
        latency_max_ms: 120,
        ..SimConfig::default()
    };
    smmd_sim::spawn(config, clock, "127.0.0.1:0").await
}

/// One seeded account's log-in.
#[derive(Clone, Debug, Serialize)]
pub struct Login {
    pub email: String,
    pub password: String,
    pub api_key: String,
}

/// What `demo-credentials.json` holds.
#[derive(Clone, Debug, Serialize)]
pub struct Credentials {
    pub url: String,
    pub admin: Login,
    pub user: Login,
    /// The demo user's referral link: visitors who sign up through it are theirs.
    pub referral_link: String,
    /// The demo user's child panel, on a second loopback hostname.
    pub child: ChildLogin,
}

/// The demo's child panel: where it answers and its admin's log-in.
#[derive(Clone, Debug, Serialize)]
pub struct ChildLogin {
    pub url: String,
    pub admin_email: String,
    pub admin_password: String,
}

/// The demo child panel's hostname: browsers send `*.localhost` to this machine.
pub const CHILD_HOST: &str = "child.localhost";
pub const CHILD_ADMIN_EMAIL: &str = "admin@child.localhost";
pub const CHILD_ADMIN_PASSWORD: &str = "demo-child-pass";

/// The actor of the demo's own changes in the audit log.
fn demo_actor() -> Actor {
    Actor {
        id: None,
        name: "demo".into(),
    }
}

async fn account(
    app: App<'_>,
    email: &str,
    password: &str,
    role: Role,
) -> anyhow::Result<(User, String)> {
    match accounts::register(app, email, password, role, None).await {
        Ok(created) => Ok(created),
        Err(UseCaseError::Refused(r)) if r.code == ErrorCode::EmailTaken => {
            let user = app
                .store
                .user_credentials(email)
                .await?
                .ok_or_else(|| anyhow::anyhow!("demo account vanished"))?
                .user;
            accounts::set_password(app, user.id, password, None).await?;
            accounts::set_role(app, &demo_actor(), user.id, role.as_str()).await?;
            let key = accounts::rotate_api_key(app, user.id).await?;
            Ok((user, key))
        }
        Err(e) => Err(anyhow::anyhow!("seeding {email}: {e}")),
    }
}

/// Seeds (or refreshes) the demo data and returns the log-ins: the accounts, the top-up, the
/// sandbox provider pointed at `sim`, and its catalog imported through `services.sync`.
pub async fn seed(
    f: &Fulfil,
    sim: &SimHandle,
    url: &str,
    currency: &str,
) -> anyhow::Result<Credentials> {
    let (store, clock) = (f.store.as_ref(), f.clock.as_ref());
    let app = App::new(store, clock);
    let (_, admin_key) = account(app, ADMIN_EMAIL, ADMIN_PASSWORD, Role::Admin).await?;
    let (user, user_key) = account(app, USER_EMAIL, USER_PASSWORD, Role::User).await?;
    smmd_app::wallet::demo_seed_balance(app, user.id, USER_BALANCE)
        .await
        .map_err(|e| anyhow::anyhow!("demo top-up: {e}"))?;
    let key = &sim.sim.config.api_key;
    let existing = store
        .providers()
        .await?
        .into_iter()
        .find(|p| p.name == SANDBOX);
    let provider = match existing {
        Some(p) => {
            store
                .set_provider_endpoint(p.id, &sim.url, &f.clients.seal_key(key), clock.now_ms())
                .await?;
            store
                .provider(p.id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("sandbox vanished"))?
        }
        None => {
            smmd_app::providers::add_provider(
                app,
                &f.clients,
                None,
                smmd_app::providers::ProviderInput {
                    name: SANDBOX.into(),
                    url: sim.url.clone(),
                    key: key.clone(),
                    currency: "USD".into(),
                    exchange_rate: "1".into(),
                    alert_below: Some("100".into()),
                    timeout_ms: 10_000,
                    max_concurrency: 8,
                    rate_per_sec: None,
                    check_key: true,
                    limits: Default::default(),
                },
            )
            .await?
            .0
        }
    };
    let report = smmd_fulfil::catalog::sync_provider(f, &provider, false).await?;
    tracing::info!(?report, "demo catalog imported from the sandbox");
    // The sandbox's followers drop a little after completion: refill them automatically.
    for svc in store.provider_services(provider.id).await? {
        if svc.refill && !svc.auto_refill {
            let edit = smmd_app::catalog::ServicePatch {
                auto_refill: Some(true),
                ..Default::default()
            };
            smmd_app::catalog::edit_service(app, &demo_actor(), svc.id, edit).await?;
        }
    }
    seed_billing(app).await?;
    seed_rates(app).await?;
    let code = seed_affiliate(app, user.id).await?;
    seed_child(app, user.id, currency).await?;
    let port = url::Url::parse(url).ok().and_then(|u| u.port());
    Ok(Credentials {
        child: ChildLogin {
            url: match port {
                Some(p) => format!("http://{CHILD_HOST}:{p}"),
                None => format!("http://{CHILD_HOST}"),
            },
            admin_email: CHILD_ADMIN_EMAIL.into(),
            admin_password: CHILD_ADMIN_PASSWORD.into(),
        },
        referral_link: format!("{url}/?ref={code}"),
        url: url.to_string(),
        admin: Login {
            email: ADMIN_EMAIL.into(),
            password: ADMIN_PASSWORD.into(),
            api_key: admin_key,
        },
        user: Login {
            email: USER_EMAIL.into(),
            password: USER_PASSWORD.into(),
            api_key: user_key,
        },
    })
}

/// The demo user's child panel on [`CHILD_HOST`] (once per database): rented under the
/// `child` plan; the registry provisions it once the server runs.
async fn seed_child(app: App<'_>, user: smmd_domain::UserId, currency: &str) -> anyhow::Result<()> {
    if !app.store.panels_of(user).await?.is_empty() {
        return Ok(());
    }
    let Some(plan) = app
        .store
        .plans(false)
        .await?
        .into_iter()
        .find(|p| p.entitlement == "child_panel")
    else {
        return Ok(());
    };
    let reserved = vec!["localhost".to_string()];
    smmd_app::panels::rent(
        app,
        smmd_app::panels::RentTerms {
            root_currency: currency,
            reserved: &reserved,
        },
        user,
        &smmd_app::panels::RentInput {
            plan_id: plan.id,
            hostnames: CHILD_HOST.into(),
            name: "Demo Child Shop".into(),
            admin_email: CHILD_ADMIN_EMAIL.into(),
            admin_password: CHILD_ADMIN_PASSWORD.into(),
            markup_bp: Some(5_000),
            ..Default::default()
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("demo child panel: {e}"))?;
    Ok(())
}

/// Display currencies: a day of the ECB's reference rates (the sample feed, through the job's
/// own rules) and RUB, which the ECB does not quote, pinned by hand (once per database).
async fn seed_rates(app: App<'_>) -> anyhow::Result<()> {
    let day = smmd_jobs::rates::parse_ecb(smmd_jobs::rates::SAMPLE_FEED)?;
    smmd_jobs::rates::apply(app.store, &day, 1_000, app.now()).await?;
    let rates = smmd_app::currencies::rates(app).await?;
    if !rates.iter().any(|r| r.currency == "RUB") {
        smmd_app::currencies::pin_rate(app, &demo_actor(), "RUB", "93.50").await?;
    }
    Ok(())
}

/// Hourly billing on, with two plans to rent (once per database): `starter` (7.30 a month,
/// 0.01 an hour) and `pro` (73.00 a month, 0.10 an hour, 1.00 setup fee, 10 % off services).
/// Hours are real UTC hours; the demo reconciles every minute ([`DEMO_PACE`]), so a rental's
/// next hour shows within a minute of the hour turning.
async fn seed_billing(app: App<'_>) -> anyhow::Result<()> {
    use smmd_app::billing::{self, PlanInput, SettingsInput};
    if !app.store.plans(true).await?.is_empty() {
        return Ok(());
    }
    let actor = demo_actor();
    let on = SettingsInput {
        enabled: Some(true),
        ..Default::default()
    };
    billing::update_settings(app, &actor, on)
        .await
        .map_err(|e| anyhow::anyhow!("demo billing: {e}"))?;
    for (code, name, price, fee, entitlement, settings) in [
        (
            "starter",
            "Starter reseller",
            "7.30",
            "0",
            "reseller_tier",
            r#"{"discount_bp": 300}"#,
        ),
        (
            "pro",
            "Pro reseller",
            "73",
            "1",
            "reseller_tier",
            r#"{"discount_bp": 1000, "api_rate_per_minute": 600}"#,
        ),
        (
            "child",
            "Child panel",
            "73",
            "0",
            "child_panel",
            r#"{"retain_days": 30}"#,
        ),
    ] {
        let description = match entitlement {
            "child_panel" => format!("{name}: your own panel on your domain, buying here"),
            _ => format!("{name}: a discount on every service while it is active"),
        };
        let input = PlanInput {
            code: code.into(),
            name: name.into(),
            description,
            price: price.into(),
            cap_mode: Some("h730".into()),
            setup_fee: Some(fee.into()),
            entitlement: entitlement.into(),
            settings: Some(settings.into()),
        };
        billing::create_plan(app, &actor, input)
            .await
            .map_err(|e| anyhow::anyhow!("demo plan {code}: {e}"))?;
    }
    Ok(())
}

/// The demo user as an affiliate (once per database): an approved PayPal method (approved
/// eight days ago, past the cool-down) and 120.00 of earlier commissions, so the admin's
/// "Run today's payout now" on `/admin/affiliates` pays them at once. The demo holds
/// commissions 0 days (a real panel holds 30) and releases them every few seconds, so a
/// referred customer's completed order joins the balance within a minute. Returns the code.
async fn seed_affiliate(app: App<'_>, user: smmd_domain::UserId) -> anyhow::Result<String> {
    let account = smmd_app::affiliates::account(app, user)
        .await
        .map_err(|e| anyhow::anyhow!("demo affiliate: {e}"))?;
    if !app.store.payout_methods_of(user).await?.is_empty() {
        return Ok(account.code);
    }
    let settings = smmd_domain::affiliate::Settings {
        hold_days: 0,
        ..app.store.affiliate_settings().await?
    };
    app.store
        .update_affiliate_settings(&settings, app.now(), None)
        .await?;
    let approved_at = app.now() - 8 * smmd_domain::clock::DAY_MS;
    let method = app
        .store
        .submit_payout_method(
            user,
            smmd_domain::affiliate::method::MethodKind::Paypal,
            "payouts@demo.smmd",
            approved_at,
        )
        .await
        .map_err(|e| anyhow::anyhow!("demo method: {e}"))?;
    app.store
        .decide_payout_method(method.id, true, "", approved_at, None)
        .await
        .map_err(|e| anyhow::anyhow!("demo method: {e}"))?;
    let earlier = smmd_domain::Money::parse("120").map_err(|e| anyhow::anyhow!("{e}"))?;
    app.store
        .adjust_affiliate_balance(
            user,
            earlier,
            "demo:earlier-commissions",
            "Demo: commissions earned before this demo",
            app.now(),
            None,
        )
        .await
        .map_err(|e| anyhow::anyhow!("demo balance: {e}"))?;
    Ok(account.code)
}

/// The demo's job pace: orders are sent, synced and notified every few seconds, so a person
/// clicking through sees an order move without waiting for production intervals (30 s sync).
pub const DEMO_PACE: &[(&str, &str)] = &[
    (smmd_jobs::jobs::DISPATCH, "@every 2s"),
    (smmd_jobs::jobs::SYNC_STATUS, "@every 3s"),
    (smmd_jobs::jobs::REFILLS_DISPATCH, "@every 5s"),
    (smmd_jobs::jobs::REFILLS_SYNC, "@every 5s"),
    (smmd_jobs::jobs::NOTIFICATIONS_DELIVER, "@every 3s"),
    (smmd_jobs::billing::BILLING_RENTALS, "@every 1m"),
    (smmd_jobs::affiliates::AFFILIATES_RELEASE, "@every 5s"),
];

/// Creates the default schedules and sets [`DEMO_PACE`] on them (audited as `demo`).
pub async fn quicken_jobs(store: &dyn Store, zone: &str) -> anyhow::Result<()> {
    let now = store.db_now_ms().await?;
    smmd_jobs::control::ensure_defaults(store, smmd_jobs::control::DEFAULT_JOBS, zone, now).await?;
    for (name, expr) in DEMO_PACE {
        smmd_jobs::control::edit(
            store,
            name,
            smmd_jobs::control::JobEdit {
                expr: Some((*expr).to_string()),
                ..Default::default()
            },
            "demo",
            now,
        )
        .await?;
    }
    Ok(())
}

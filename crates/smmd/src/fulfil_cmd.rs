//! `smmd provider …`, `smmd services sync` and `smmd orders …`: the operator's commands for
//! upstream providers, catalog import and orders waiting for review.

use clap::Subcommand;
use smmd_app::catalog::CategoryRef;
use smmd_app::providers::ProviderInput;
use smmd_app::review::{self, Resolution};
use smmd_app::{Actor, App, Coded, ErrorCode};
use smmd_domain::{Clock, OrderId, ProviderId};
use smmd_fulfil::Fulfil;
use smmd_store::Provider;

#[derive(Subcommand)]
pub enum ProviderCommand {
    /// Add an upstream provider panel (its API key is stored encrypted).
    Add {
        #[arg(long)]
        name: String,
        /// The exact API v2 URL, e.g. https://panel.example/api/v2
        #[arg(long)]
        url: String,
        /// The provider API key (also SMMD_PROVIDER_KEY, which keeps it out of shell history).
        #[arg(long, env = "SMMD_PROVIDER_KEY", hide_env_values = true)]
        key: String,
        /// The provider's account currency.
        #[arg(long, default_value = "USD")]
        currency: String,
        /// Panel currency per one provider currency unit.
        #[arg(long, default_value = "1")]
        exchange_rate: String,
        /// Alert when the provider balance falls below this (provider currency).
        #[arg(long)]
        alert_below: Option<String>,
        #[arg(long, default_value_t = 30_000)]
        timeout_ms: i64,
        #[arg(long, default_value_t = 8)]
        max_concurrency: i64,
        /// Requests per second the provider accepts (default: unlimited).
        #[arg(long)]
        rate_per_sec: Option<i64>,
        /// Add it without asking the provider for its balance with this key first.
        #[arg(long)]
        no_check: bool,
    },
    /// List providers with their last balance.
    List,
    /// Test the connection: ask the provider for its balance (nothing is recorded).
    Test { provider: String },
    /// Read and record every enabled provider's balance (the `providers.check_balances` job).
    Balance,
    /// Enable a provider.
    Enable { provider: String },
    /// Disable a provider: dispatch and sync skip it.
    Disable { provider: String },
}

#[derive(Subcommand)]
pub enum ServicesCommand {
    /// Import services and prices from providers (the `services.sync` job).
    Sync {
        /// One provider (id or name); default: every enabled provider.
        #[arg(long)]
        provider: Option<String>,
    },
    /// Add a fallback offer: when the service's provider refuses an order, the next offer is
    /// tried (in the order added).
    Offer {
        /// Our service id.
        service: i64,
        /// The fallback provider (id or name).
        #[arg(long)]
        provider: String,
        /// That provider's service id.
        #[arg(long)]
        provider_service: String,
    },
    /// List a service's offers: its own provider first, then the fallbacks.
    Offers { service: i64 },
    /// Set the markup of a category's services (basis points, 5000 = +50 %, or `default`);
    /// applied by the next services sync.
    Markup {
        #[arg(long)]
        category: String,
        #[arg(long)]
        bp: String,
    },
    /// Edit a service. Name, rate, min, max and enabled become overrides that services.sync
    /// never changes; every change is logged.
    Edit {
        id: i64,
        #[arg(long)]
        name: Option<String>,
        /// Selling rate per 1000, panel currency.
        #[arg(long)]
        rate: Option<String>,
        #[arg(long)]
        min: Option<i64>,
        #[arg(long)]
        max: Option<i64>,
        #[arg(long)]
        enabled: Option<bool>,
        /// Markup in basis points (5000 = +50 %); `default` for the category's or panel's.
        #[arg(long)]
        markup_bp: Option<String>,
        /// Request refills automatically when a drop is detected.
        #[arg(long)]
        auto_refill: Option<bool>,
        /// What customers read on the services page (at most 5000 characters).
        #[arg(long)]
        description: Option<String>,
        /// Refill guarantee in days, 0–365.
        #[arg(long)]
        guarantee_days: Option<i64>,
    },
}

#[derive(Subcommand)]
pub enum OrdersCommand {
    /// Orders waiting for an admin (`needs_review`), with why.
    Review,
    /// The provider has the order: attach its order id (status sync takes over).
    Attach {
        order: i64,
        #[arg(long)]
        provider_order: String,
        /// Why (1 to 500 characters), kept in the audit log.
        #[arg(long, default_value = DEFAULT_REASON)]
        reason: String,
    },
    /// The provider does not have the order: queue it for dispatch again.
    Resend {
        order: i64,
        /// Why (1 to 500 characters), kept in the audit log.
        #[arg(long, default_value = DEFAULT_REASON)]
        reason: String,
    },
    /// Cancel a needs-review order and refund its whole charge.
    Cancel {
        order: i64,
        /// Why (1 to 500 characters), kept in the audit log.
        #[arg(long, default_value = DEFAULT_REASON)]
        reason: String,
    },
}

/// The audit reason of a review resolved at the shell without `--reason`.
const DEFAULT_REASON: &str = "resolved from the command line";

/// The use cases over the fulfilment context's store, clock and default markup.
fn app(f: &Fulfil) -> App<'_> {
    App::new(f.store.as_ref(), f.clock.as_ref()).with_default_markup(f.settings.default_markup_bp)
}

async fn find(f: &Fulfil, which: &str) -> anyhow::Result<Provider> {
    let all = f.store.providers().await?;
    let by_id = which.parse::<i64>().ok();
    all.into_iter()
        .find(|p| Some(p.id.0) == by_id || p.name.eq_ignore_ascii_case(which.trim()))
        .ok_or_else(|| anyhow::anyhow!("no provider `{which}`"))
}

pub async fn provider(f: &Fulfil, cmd: ProviderCommand) -> anyhow::Result<()> {
    match cmd {
        ProviderCommand::Add {
            name,
            url,
            key,
            currency,
            exchange_rate,
            alert_below,
            timeout_ms,
            max_concurrency,
            rate_per_sec,
            no_check,
        } => {
            let (p, answered) = smmd_app::providers::add_provider(
                app(f),
                &f.clients,
                None,
                ProviderInput {
                    name,
                    url,
                    key,
                    currency,
                    exchange_rate,
                    alert_below,
                    timeout_ms,
                    max_concurrency,
                    rate_per_sec,
                    check_key: !no_check,
                    limits: Default::default(),
                },
            )
            .await?;
            println!("added provider #{} {} ({})", p.id, p.name, p.url);
            match answered {
                Some(balance) => println!("the provider accepted the key: balance {balance}"),
                None => println!("the key was not checked (--no-check)"),
            }
        }
        ProviderCommand::List => {
            for p in f.store.providers().await? {
                println!(
                    "{:>4}  {:<8}  {:<24}  balance {:>14} {}  {}",
                    p.id,
                    if p.enabled { "enabled" } else { "disabled" },
                    p.name,
                    p.balance.map_or_else(|| "-".into(), |b| b.to_string()),
                    p.currency,
                    p.url
                );
            }
        }
        ProviderCommand::Test { provider } => {
            let p = find(f, &provider).await?;
            let b = f.clients.get(&p)?.balance().await?;
            println!(
                "{}: connected, balance {} {}",
                p.name,
                b.amount,
                b.currency.unwrap_or(p.currency)
            );
        }
        ProviderCommand::Balance => {
            let r = smmd_fulfil::balances::run(f).await?;
            for p in f.store.providers().await?.into_iter().filter(|p| p.enabled) {
                println!(
                    "{:<24} {} {}",
                    p.name,
                    p.balance
                        .map_or_else(|| "unreadable".into(), |b| b.to_string()),
                    p.currency
                );
            }
            println!("{r:?}");
        }
        ProviderCommand::Enable { provider } => {
            let p = find(f, &provider).await?;
            smmd_app::providers::set_provider_enabled(app(f), &Actor::cli(), p.id, true).await?;
            println!("{} enabled", p.name);
        }
        ProviderCommand::Disable { provider } => {
            let p = find(f, &provider).await?;
            smmd_app::providers::set_provider_enabled(app(f), &Actor::cli(), p.id, false).await?;
            println!("{} disabled", p.name);
        }
    }
    Ok(())
}

/// A markup argument: basis points within 0..=100000, or `default`.
fn markup_arg(text: &str) -> anyhow::Result<Option<i64>> {
    if text.trim() == "default" {
        return Ok(None);
    }
    text.trim()
        .parse::<i64>()
        .ok()
        .filter(|b| (0..=100_000).contains(b))
        .map(Some)
        .ok_or_else(|| {
            anyhow::anyhow!("markup `{text}`: basis points 0..=100000 (5000 = +50 %) or `default`")
        })
}

pub async fn services(f: &Fulfil, cmd: ServicesCommand) -> anyhow::Result<()> {
    match cmd {
        ServicesCommand::Offer {
            service,
            provider,
            provider_service,
        } => {
            let p = find(f, &provider).await?;
            let id = smmd_domain::ServiceId(service);
            let index = smmd_app::offers::add(app(f), &Actor::cli(), id, p.id, &provider_service)
                .await
                .map_err(|e| anyhow::anyhow!("service #{service}: {e}"))?;
            println!(
                "service #{service}: offer {index} is {} service {}",
                p.name,
                provider_service.trim()
            );
        }
        ServicesCommand::Offers { service } => {
            let id = smmd_domain::ServiceId(service);
            for o in smmd_app::offers::list(app(f), id)
                .await
                .map_err(|e| anyhow::anyhow!("service #{service}: {e}"))?
            {
                println!(
                    "{}  {}  service {}",
                    o.index, o.provider_name, o.provider_service_id
                );
            }
        }
        ServicesCommand::Markup { category, bp } => {
            let markup = markup_arg(&bp)?;
            smmd_app::catalog::set_category_markup(
                app(f),
                &Actor::cli(),
                CategoryRef::Name(&category),
                markup,
            )
            .await
            .map_err(|e| match e.code() {
                ErrorCode::NotFound => anyhow::anyhow!("no category `{category}`"),
                _ => anyhow::anyhow!("{e}"),
            })?;
            println!(
                "{category}: markup {}; run `smmd services sync` to reprice",
                markup.map_or("default".to_string(), |b| format!("{b} bp"))
            );
        }
        ServicesCommand::Edit {
            id,
            name,
            rate,
            min,
            max,
            enabled,
            markup_bp,
            auto_refill,
            description,
            guarantee_days,
        } => {
            let markup_bp = markup_bp.as_deref().map(markup_arg).transpose()?;
            let edit = smmd_app::catalog::ServicePatch {
                name,
                rate,
                min,
                max,
                enabled,
                markup_bp,
                auto_refill,
                description,
                guarantee_days,
            };
            let s = smmd_app::catalog::edit_service(
                app(f),
                &Actor::cli(),
                smmd_domain::ServiceId(id),
                edit,
            )
            .await
            .map_err(|e| match e.code() {
                ErrorCode::NotFound => anyhow::anyhow!("no service {id}"),
                _ => anyhow::anyhow!("{e}"),
            })?;
            println!(
                "service #{} {}: {} per 1000, {}..{}, {}{}",
                s.id,
                s.name,
                s.rate,
                s.min,
                s.max,
                if s.enabled { "enabled" } else { "disabled" },
                if s.auto_refill { ", auto refill" } else { "" }
            );
        }
        ServicesCommand::Sync { provider } => {
            let only: Option<ProviderId> = match provider {
                Some(p) => Some(find(f, &p).await?.id),
                None => None,
            };
            let r = smmd_fulfil::catalog::run(f, only).await?;
            let n = |k: &str| r.get(k).copied().unwrap_or(0);
            println!(
                "created {}, updated {}, disabled {}, unchanged {}, skipped {}",
                n("created"),
                n("updated"),
                n("disabled"),
                n("unchanged"),
                n("skipped")
            );
            anyhow::ensure!(
                n("refused") == 0,
                "refused for {} provider(s): it would disable too many services at once (see alerts)",
                n("refused")
            );
            anyhow::ensure!(
                n("provider_errors") == 0,
                "{} provider(s) could not be read",
                n("provider_errors")
            );
        }
    }
    Ok(())
}

pub async fn orders(f: &Fulfil, clock: &dyn Clock, cmd: OrdersCommand) -> anyhow::Result<()> {
    let resolve = |id: i64, r: Resolution, reason: String| async move {
        let app = App::new(f.store.as_ref(), clock);
        let o = review::resolve_review(app, &Actor::cli(), OrderId(id), r, &reason).await?;
        println!(
            "order #{} is now {} (refunded {})",
            o.id, o.status, o.refunded
        );
        anyhow::Ok(())
    };
    match cmd {
        OrdersCommand::Review => {
            for o in f.store.orders_needing_review(1_000).await? {
                println!(
                    "#{:<8} user {:<6} service {:<5} {:>12}  {}  {}",
                    o.id,
                    o.user_id,
                    o.service_id,
                    o.charge,
                    o.link.unwrap_or_default(),
                    o.note.unwrap_or_default()
                );
            }
        }
        OrdersCommand::Attach {
            order,
            provider_order,
            reason,
        } => {
            let r = Resolution::Attach {
                provider_order_id: provider_order,
            };
            resolve(order, r, reason).await?
        }
        OrdersCommand::Resend { order, reason } => {
            resolve(order, Resolution::Resend, reason).await?
        }
        OrdersCommand::Cancel { order, reason } => {
            resolve(order, Resolution::CancelAndRefund, reason).await?
        }
    }
    Ok(())
}

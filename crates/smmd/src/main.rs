//! The `smmd` binary: a thin clap front over `smmd-server`.
//!
//! `serve` runs the panel; `demo` runs it on SQLite in a data folder with seeded accounts and
//! catalog and writes `demo-credentials.json`; `migrate` applies migrations; `default-config`
//! prints the commented example configuration; `user …` manages accounts from the shell;
//! `jobs …` the scheduler; `provider …`, `services sync` and `orders …` the upstream side;
//! `billing …` hourly billing.

mod affiliates_cmd;
mod billing_cmd;
mod fulfil_cmd;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use smmd_app::{accounts, wallet, Actor, App, Coded};
use smmd_domain::{Clock, SystemClock};
use smmd_jobs::control;
use smmd_server::config::DEFAULT_CONFIG_TOML;
use smmd_server::{demo, startup, telemetry, App as Server, Config};
use smmd_store::{Role, Store};

/// jemalloc as the process's allocator, for Rust and (its `malloc` symbols unprefixed) for
/// SQLite's C code too: `/api/v2` reads 9–13 % faster on SQLite and 16 % on PostgreSQL than with
/// glibc's allocator, and the memory of stopped child panels goes back to the system (README
/// "Stop 46").
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser)]
#[command(name = "smmd", version, about = "Self-hosted SMM reseller panel")]
struct Cli {
    /// TOML configuration file (also SMMD_CONFIG).
    #[arg(long, global = true, env = "SMMD_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the panel.
    Serve,
    /// Run a demo panel on SQLite with seeded accounts, balance and catalog.
    Demo {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Data folder (SQLite database, demo-credentials.json).
        #[arg(long, default_value = "smmd-demo")]
        data: PathBuf,
        /// Seed of the sandbox simulator (which orders end partial or canceled); default: the
        /// start time. Tests fix it to get the same outcomes every run.
        #[arg(long)]
        sim_seed: Option<u64>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Print a commented example configuration.
    DefaultConfig,
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Inspect and control the scheduled jobs.
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// Manage upstream providers.
    #[command(subcommand)]
    Provider(fulfil_cmd::ProviderCommand),
    /// Import services from providers.
    #[command(subcommand)]
    Services(fulfil_cmd::ServicesCommand),
    /// Resolve orders that need review.
    #[command(subcommand)]
    Orders(fulfil_cmd::OrdersCommand),
    /// Hourly billing: status, run, enable, pause, plans and rentals.
    #[command(subcommand)]
    Billing(billing_cmd::BillingCommand),
    /// The affiliate program: settings, payout runs, payouts and their decisions, methods.
    #[command(subcommand)]
    Affiliates(affiliates_cmd::AffiliatesCommand),
}

#[derive(Subcommand)]
enum JobsCommand {
    /// Every job with its expression, state, last run and next run.
    List,
    /// One job with its policies and the next 10 fire times.
    Show { name: String },
    /// A job's recent runs.
    History {
        name: String,
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
    /// Run a job now, in this process, and print the outcome.
    Run { name: String },
    /// Enable a job (missed ticks are not caught up).
    Enable { name: String },
    /// Disable a job.
    Disable { name: String },
    /// Change a job's calendar.
    Set {
        name: String,
        /// Cron with optional seconds field, or `@every 30s`.
        #[arg(long)]
        cron: String,
        /// IANA time zone (default: keep).
        #[arg(long)]
        tz: Option<String>,
    },
    /// Pause every job.
    Pause,
    /// Resume every job.
    Resume,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account and print its API key.
    Create {
        #[arg(long)]
        email: String,
        /// Password (also SMMD_PASSWORD); at least 8 characters. Without one a random password
        /// is made and printed once.
        #[arg(long, env = "SMMD_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        /// Make the account an admin.
        #[arg(long)]
        admin: bool,
    },
    /// Credit (positive) or debit (negative) a balance, with a reason.
    Credit {
        #[arg(long)]
        email: String,
        /// Decimal amount in the panel currency, e.g. 10.50 or -2.
        #[arg(long, allow_hyphen_values = true)]
        amount: String,
        #[arg(long)]
        reason: String,
        /// Idempotency key: the same key never applies twice.
        #[arg(long)]
        request_id: Option<String>,
    },
    /// List accounts.
    List,
    /// Replace an account's API key and print the new one.
    ApiKey {
        #[arg(long)]
        email: String,
    },
}

#[tokio::main]
async fn main() {
    telemetry::init();
    let cli = Cli::parse();
    let code = match run(cli).await {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e:#}");
            1
        }
    };
    // Exit without tearing the runtime down: sqlx 0.8 pools can spin a core forever in their
    // maintenance task at process exit (transact-rs/sqlx#3645); everything that matters (the
    // database writes, the HTTP server's graceful shutdown) has completed by now.
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    std::process::exit(code);
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    match cli.command {
        Command::DefaultConfig => {
            print!("{DEFAULT_CONFIG_TOML}");
            Ok(())
        }
        Command::Migrate => {
            let config = Config::load(cli.config.as_deref())?;
            startup::open_store(&config).await?;
            println!(
                "migrations applied to {}",
                smmd_store_sql::redact(&config.database_url())
            );
            Ok(())
        }
        Command::Serve => {
            let mut config = Config::load(cli.config.as_deref())?;
            config.ensure_secret_key()?;
            let store = startup::open_store(&config).await?;
            let app = Server::build(config, store, clock).await?;
            tracing::info!(addr = %app.addr(), "smmd listening");
            startup::run_with_scheduler(app).await
        }
        Command::Demo {
            listen,
            data,
            sim_seed,
        } => {
            let mut config = Config::load(cli.config.as_deref())?;
            config.data_dir = data.clone();
            config.database.url = Some(format!("sqlite://{}/smmd.db", data.display()));
            config.server.listen = listen;
            // A demo has no payment provider: its Add funds page offers instant test funds.
            config.payments.test_top_up = true;
            // No internet in a sandbox: the demo starts with a sample of the ECB's rates
            // (`demo::seed`) and pins the rest by hand.
            config.currencies.feed_url = String::new();
            config.ensure_secret_key()?;
            let sim = demo::sandbox(clock.clone(), sim_seed).await?;
            // Drops are read from the sandbox, so refills.auto works in the demo.
            config.fulfil.link_count_url =
                Some(format!("http://{}/_sim/link?link={{link}}", sim.addr));
            let store = startup::open_store(&config).await?;
            let fulfil = startup::fulfil(&config, store.clone(), clock.clone())?;
            let app = Server::build(config, store.clone(), clock.clone()).await?;
            let url = format!("http://{}", app.addr());
            let creds = demo::seed(&fulfil, &sim, &url, &app.state.config.panel.currency).await?;
            demo::quicken_jobs(store.as_ref(), &app.state.config.panel.timezone).await?;
            let path = data.join("demo-credentials.json");
            std::fs::write(&path, serde_json::to_string_pretty(&creds)?)
                .with_context(|| format!("writing {}", path.display()))?;
            println!("smmd demo is running at {url}");
            println!(
                "  admin: {} / {}  api key {}",
                creds.admin.email, creds.admin.password, creds.admin.api_key
            );
            println!(
                "  user:  {} / {}  api key {}",
                creds.user.email, creds.user.password, creds.user.api_key
            );
            println!(
                "  child panel: {} (admin {} / {}), rented by the user",
                creds.child.url, creds.child.admin_email, creds.child.admin_password
            );
            println!("  reseller API: POST {url}/api/v2 key=<api key>&action=services");
            println!(
                "  provider: the sandbox simulator at {} ({}x real time)",
                sim.url,
                demo::SANDBOX_SPEEDUP
            );
            println!("  credentials written to {}", path.display());
            startup::run_with_scheduler(app).await
        }
        Command::Provider(cmd) => {
            fulfil_cmd::provider(&open_fulfil(cli.config.as_deref(), clock).await?, cmd).await
        }
        Command::Services(cmd) => {
            fulfil_cmd::services(&open_fulfil(cli.config.as_deref(), clock).await?, cmd).await
        }
        Command::Orders(cmd) => {
            let f = open_fulfil(cli.config.as_deref(), clock.clone()).await?;
            fulfil_cmd::orders(&f, clock.as_ref(), cmd).await
        }
        Command::Billing(cmd) => {
            let config = Config::load(cli.config.as_deref())?;
            let store = startup::open_existing_store(&config).await?;
            let app = smmd_app::App::new(store.as_ref(), clock.as_ref())
                .with_limits(config.panel.limits());
            billing_cmd::run(app, cmd).await
        }
        Command::Affiliates(cmd) => {
            let config = Config::load(cli.config.as_deref())?;
            let store = startup::open_existing_store(&config).await?;
            let app = smmd_app::App::new(store.as_ref(), clock.as_ref())
                .with_limits(config.panel.limits());
            affiliates_cmd::run(app, cmd).await
        }
        Command::User(cmd) => {
            let config = Config::load(cli.config.as_deref())?;
            let store = startup::open_existing_store(&config).await?;
            user_command(store.as_ref(), clock.as_ref(), cmd).await
        }
        Command::Jobs(cmd) => {
            let mut config = Config::load(cli.config.as_deref())?;
            let store: Arc<dyn Store> = startup::open_existing_store(&config).await?;
            config.ensure_secret_key()?;
            // The scheduler judges time by the database clock (F14); so does its CLI.
            let now = store.db_now_ms().await?;
            control::ensure_defaults(
                store.as_ref(),
                control::DEFAULT_JOBS,
                &config.panel.timezone,
                now,
            )
            .await?;
            jobs_command(&config, store, clock, now, cmd).await
        }
    }
}

fn time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(
        || "-".into(),
        |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    )
}

async fn jobs_command(
    config: &Config,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    now: i64,
    cmd: JobsCommand,
) -> anyhow::Result<()> {
    const ACTOR: &str = "cli";
    match cmd {
        JobsCommand::List => {
            let jobs = control::list(store.as_ref(), now).await?;
            if jobs.first().is_some_and(|j| j.paused) {
                println!("(all jobs are paused)");
            }
            println!("NAME                     EXPRESSION         ZONE             ENABLED  NEXT RUN                 LAST RUN");
            for j in jobs {
                let s = &j.schedule;
                let next = j
                    .preview
                    .first()
                    .map_or_else(|| "-".to_string(), |t| time(*t));
                let last = j.last_run.as_ref().map_or_else(
                    || "never".to_string(),
                    |r| format!("{} ({})", r.state, time(r.scheduled_for)),
                );
                println!(
                    "{:<24} {:<18} {:<16} {:<8} {:<24} {}",
                    s.name,
                    s.expr,
                    s.zone,
                    if s.enabled { "yes" } else { "no" },
                    next,
                    last
                );
            }
        }
        JobsCommand::Show { name } => {
            let j = control::show(store.as_ref(), &name, now, 10).await?;
            let s = &j.schedule;
            println!(
                "{}\n  expression  {} ({})\n  enabled     {}{}",
                s.name,
                s.expr,
                s.zone,
                s.enabled,
                if j.paused { " (all paused)" } else { "" }
            );
            println!(
                "  misfire     {} (grace {} ms, catch-up {} ms)\n  overlap     {}",
                s.misfire, s.grace_ms, s.catch_up_ms, s.overlap
            );
            println!(
                "  attempts    {} (first retry after {} ms)\n  timeout     {} ms",
                s.max_attempts, s.retry_base_ms, s.timeout_ms
            );
            println!("  next runs:");
            for t in &j.preview {
                println!("    {}", time(*t));
            }
        }
        JobsCommand::History { name, limit } => {
            let j = control::show(store.as_ref(), &name, now, 0).await?;
            for r in store.schedule_runs(j.schedule.id, None, limit).await? {
                let took = match (r.started_at, r.finished_at) {
                    (Some(a), Some(b)) => format!("{} ms", b - a),
                    _ => "-".into(),
                };
                println!(
                    "#{:<6} {:<6} {:<24} {:<10} attempt {} {:>9}  {}",
                    r.id,
                    r.kind,
                    time(r.scheduled_for),
                    r.state,
                    r.attempt,
                    took,
                    r.error.or(r.reason).or(r.counters).unwrap_or_default()
                );
            }
        }
        JobsCommand::Run { name } => {
            let key = format!("cli:{}", smmd_server::auth::random_hex(8));
            let outcome = control::run_now(store.as_ref(), &name, &key, ACTOR, now).await?;
            let run_id = match outcome {
                smmd_store::TriggerOutcome::Queued { run_id } => run_id,
                other => anyhow::bail!("not started: {other:?} (overlap policy)"),
            };
            let mut config = config.clone();
            config.scheduler.instance = "cli".into();
            let engine = smmd_server::startup::build_engine(&config, store.clone(), clock.clone())?;
            let id = control::show(store.as_ref(), &name, now, 0)
                .await?
                .schedule
                .id;
            for _ in 0..600 {
                engine.tick().await?;
                let run = store
                    .schedule_runs(id, None, 50)
                    .await?
                    .into_iter()
                    .find(|r| r.id == run_id);
                match run {
                    Some(r) if !matches!(r.state.as_str(), "pending" | "running") => {
                        println!(
                            "{} run #{}: {} {}",
                            name,
                            r.id,
                            r.state,
                            r.error.or(r.counters).unwrap_or_default()
                        );
                        anyhow::ensure!(r.state == "succeeded", "the run did not succeed");
                        return Ok(());
                    }
                    _ => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
                }
            }
            anyhow::bail!("the run did not finish within a minute");
        }
        JobsCommand::Enable { name } => {
            control::edit(
                store.as_ref(),
                &name,
                control::JobEdit {
                    enabled: Some(true),
                    ..Default::default()
                },
                ACTOR,
                now,
            )
            .await?;
            println!("{name} enabled");
        }
        JobsCommand::Disable { name } => {
            control::edit(
                store.as_ref(),
                &name,
                control::JobEdit {
                    enabled: Some(false),
                    ..Default::default()
                },
                ACTOR,
                now,
            )
            .await?;
            println!("{name} disabled");
        }
        JobsCommand::Set { name, cron, tz } => {
            let s = control::edit(
                store.as_ref(),
                &name,
                control::JobEdit {
                    expr: Some(cron),
                    zone: tz,
                    ..Default::default()
                },
                ACTOR,
                now,
            )
            .await?;
            println!(
                "{} now `{}` ({}), next run {}",
                s.name,
                s.expr,
                s.zone,
                s.next_run_at.map_or_else(|| "-".to_string(), time)
            );
        }
        JobsCommand::Pause => {
            control::set_paused(store.as_ref(), true, ACTOR, now).await?;
            println!("all jobs paused");
        }
        JobsCommand::Resume => {
            control::set_paused(store.as_ref(), false, ACTOR, now).await?;
            println!("all jobs resumed");
        }
    }
    Ok(())
}

/// The store and provider clients of the configured panel (the secret key is created on first
/// use, like `serve` does).
async fn open_fulfil(
    config_path: Option<&std::path::Path>,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<smmd_fulfil::Fulfil> {
    let mut config = Config::load(config_path)?;
    let store: Arc<dyn Store> = startup::open_existing_store(&config).await?;
    config.ensure_secret_key()?;
    startup::fulfil(&config, store, clock)
}

async fn find_user(store: &dyn Store, email: &str) -> anyhow::Result<smmd_store::User> {
    Ok(store
        .user_credentials(email)
        .await?
        .with_context(|| format!("no account with e-mail {email}"))?
        .user)
}

async fn user_command(
    store: &dyn Store,
    clock: &dyn Clock,
    cmd: UserCommand,
) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Create {
            email,
            password,
            admin,
        } => {
            let role = if admin { Role::Admin } else { Role::User };
            let made = password.is_none();
            let password = password.unwrap_or_else(|| smmd_app::secrets::random_hex(12));
            let (user, key) =
                accounts::register(App::new(store, clock), &email, &password, role, None).await?;
            println!("created {} #{} ({})", user.email, user.id, role.as_str());
            if made {
                println!("password: {password}  (shown once; change it on the Settings page)");
            }
            println!("api key: {key}");
        }
        UserCommand::Credit {
            email,
            amount,
            reason,
            request_id,
        } => {
            let user = find_user(store, &email).await?;
            // CLI request ids are their own namespace of admin keys (`admin:cli:<id>`).
            let key = request_id.unwrap_or_else(|| smmd_app::secrets::random_hex(16));
            let entry = wallet::adjust_balance(
                App::new(store, clock),
                &Actor::cli(),
                user.id,
                &amount,
                &reason,
                Some(&format!("cli:{key}")),
            )
            .await
            .map_err(|e| match e.code() {
                smmd_app::ErrorCode::InvalidAmount => anyhow::anyhow!("amount `{amount}`: {e}"),
                _ => anyhow::anyhow!("{e}"),
            })?;
            println!(
                "{} {} → balance {}",
                user.email, entry.amount, entry.balance_after
            );
        }
        UserCommand::List => {
            let mut after = None;
            loop {
                let page = store.list_users(after, 500).await?;
                for u in &page {
                    println!(
                        "{:>6}  {:<5}  {:>16}  {}",
                        u.id,
                        u.role.as_str(),
                        u.balance,
                        u.email
                    );
                }
                match page.last() {
                    Some(last) if page.len() == 500 => after = Some(last.id),
                    _ => break,
                }
            }
        }
        UserCommand::ApiKey { email } => {
            let user = find_user(store, &email).await?;
            println!(
                "{}",
                accounts::rotate_api_key(App::new(store, clock), user.id).await?
            );
        }
    }
    Ok(())
}

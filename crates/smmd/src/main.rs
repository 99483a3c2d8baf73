//! The `smmd` binary: a thin clap front over `smmd-server`.
//!
//! `serve` runs the panel; `demo` runs it on SQLite in a data folder with seeded accounts and
//! catalog and writes `demo-credentials.json`; `migrate` applies migrations; `default-config`
//! prints the commented example configuration; `user …` manages accounts from the shell.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use smmd_domain::{Clock, Money, SystemClock};
use smmd_server::config::DEFAULT_CONFIG_TOML;
use smmd_server::{demo, panel, startup, telemetry, App, Config};
use smmd_store::{Role, Store};

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
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Print a commented example configuration.
    DefaultConfig,
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account and print its API key.
    Create {
        #[arg(long)]
        email: String,
        /// Password (also SMMD_PASSWORD); at least 8 characters.
        #[arg(long, env = "SMMD_PASSWORD", hide_env_values = true)]
        password: String,
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
async fn main() -> std::process::ExitCode {
    telemetry::init();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
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
            let app = App::build(config, store, clock).await?;
            tracing::info!(addr = %app.addr(), "smmd listening");
            app.run_until(startup::shutdown_signal()).await
        }
        Command::Demo { listen, data } => {
            let mut config = Config::load(cli.config.as_deref())?;
            config.data_dir = data.clone();
            config.database.url = Some(format!("sqlite://{}/smmd.db", data.display()));
            config.server.listen = listen;
            config.ensure_secret_key()?;
            let store = startup::open_store(&config).await?;
            let app = App::build(config, store.clone(), clock.clone()).await?;
            let url = format!("http://{}", app.addr());
            let creds = demo::seed(store.as_ref(), clock.as_ref(), &url).await?;
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
            println!("  reseller API: POST {url}/api/v2 key=<api key>&action=services");
            println!("  credentials written to {}", path.display());
            app.run_until(startup::shutdown_signal()).await
        }
        Command::User(cmd) => {
            let config = Config::load(cli.config.as_deref())?;
            let store = startup::open_store(&config).await?;
            user_command(store.as_ref(), clock.as_ref(), cmd).await
        }
    }
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
            let (user, key) = panel::register(store, clock, &email, &password, role).await?;
            println!("created {} #{} ({})", user.email, user.id, role.as_str());
            println!("api key: {key}");
        }
        UserCommand::Credit {
            email,
            amount,
            reason,
            request_id,
        } => {
            let user = find_user(store, &email).await?;
            let amount = Money::parse(&amount).with_context(|| format!("amount `{amount}`"))?;
            anyhow::ensure!(!reason.trim().is_empty(), "a reason is required");
            let key = request_id.unwrap_or_else(|| smmd_server::auth::random_hex(16));
            let entry = panel::adjust_balance(
                store,
                clock,
                None,
                user.id,
                amount,
                &reason,
                &format!("cli:{key}"),
            )
            .await?;
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
            println!("{}", panel::rotate_api_key(store, user.id).await?);
        }
    }
    Ok(())
}

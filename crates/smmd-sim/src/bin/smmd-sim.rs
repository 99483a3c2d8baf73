//! `smmd-sim --listen 127.0.0.1:PORT [--config FILE]`: a standalone simulated provider.

use std::sync::Arc;

use clap::Parser;
use smmd_domain::clock::SystemClock;
use smmd_sim::SimConfig;

/// A simulated SMM provider panel speaking API v2.
#[derive(Parser)]
#[command(name = "smmd-sim", version)]
struct Cli {
    /// Address to serve on (port 0 picks a free port; the URL is printed).
    #[arg(long, default_value = "127.0.0.1:9090")]
    listen: String,
    /// TOML configuration (catalog, delivery, faults); the built-in default when absent.
    #[arg(long)]
    config: Option<std::path::PathBuf>,
    /// Prints the effective configuration as TOML and exits.
    #[arg(long)]
    print_config: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let cli = Cli::parse();
    let config = match &cli.config {
        Some(path) => SimConfig::from_toml(&std::fs::read_to_string(path)?)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
        None => SimConfig::default(),
    };
    if cli.print_config {
        print!("{}", config.to_toml()?);
        return Ok(());
    }
    let key = config.api_key.clone();
    let handle = smmd_sim::spawn(config, Arc::new(SystemClock), &cli.listen).await?;
    println!("smmd-sim serving API v2 at {} (key: {key})", handle.url);
    tokio::signal::ctrl_c().await?;
    Ok(())
}
